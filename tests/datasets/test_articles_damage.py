"""Damaged input: every record is loaded or rejected, a damaged record never takes its neighbours with it.

A property test (hypothesis) writes valid article files in every format, damages random records in the
ways real files get damaged (a stray quote, an invalid UTF-8 byte, a non-object JSON element, a broken
JSON element, a missing comma, a wrong date, a BOM) and checks, in lenient mode, that every untouched
record loads unchanged and that ``rows_read == loaded + rejected``; in strict mode the first damage raises
:class:`DataError` naming the file and line.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from luxembedder.datasets.articles import load_articles
from luxembedder.errors import DataError
from luxembedder.utils.io import iter_records

COLS = ("id", "lang", "published", "title", "body")
WORDS = ["Moien", "Lëtzebuerg", "Regierung", "école", "Zeitung", "d'Land", "vun", "a", "Chamber", "2024"]

words = st.lists(st.sampled_from(WORDS), min_size=1, max_size=6).map(" ".join)
article = st.fixed_dictionaries({
    "lang": st.sampled_from(["lb", "en", "fr"]),
    "published": st.dates(min_value=__import__("datetime").date(2020, 1, 1),
                          max_value=__import__("datetime").date(2024, 12, 31)).map(str),
    "title": words,
    "body": st.lists(words, min_size=1, max_size=3).map(", ".join),
})

DAMAGE = {  # which damage each format can get (a field-level damage is possible everywhere)
    "jsonl": ["utf8", "quote", "non_object", "truncate", "bad_date", "missing_body"],
    "json": ["utf8", "non_object", "truncate", "missing_comma", "bad_date", "missing_body"],
    "csv": ["utf8", "quote", "drop_delimiter", "bad_date", "missing_body"],
    "tsv": ["utf8", "quote", "drop_delimiter", "bad_date", "missing_body"],
    "parquet": ["bad_date", "missing_body", "wrong_type"],
}


def _apply_field_damage(row: dict, kind: str) -> dict:
    row = dict(row)
    if kind == "bad_date":
        row["published"] = "12/06/2024"
    elif kind == "missing_body":
        row["body"] = ""
    elif kind == "wrong_type":
        row["body"] = None
        row["published"] = "yesterday"
    return row


def _csv_line(row: dict, delimiter: str) -> str:
    if delimiter == "\t":
        return "\t".join(str(row[c]) for c in COLS) + "\n"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([row[c] for c in COLS])
    return buf.getvalue()


def _record_bytes(fmt: str, row: dict) -> str:
    if fmt == "jsonl":
        return json.dumps(row, ensure_ascii=False) + "\n"
    if fmt == "json":
        return json.dumps(row, ensure_ascii=False)
    return _csv_line(row, "\t" if fmt == "tsv" else ",")


def _damage_text(fmt: str, row: dict, kind: str) -> bytes:
    """One record's bytes, damaged."""
    text = _record_bytes(fmt, row)
    if kind == "utf8":
        i = text.index(row["body"]) + 1
        return text[:i].encode() + b"\xeb" + text[i:].encode()
    if kind == "quote":  # an opening quote that is never closed, at the start of the title field
        i = text.index(row["title"])
        return (text[:i] + '"' + text[i:]).encode()
    if kind == "non_object":
        return ("42" if fmt == "json" else "[1, 2]\n").encode()
    if kind == "truncate":  # the record's text ends early
        cut = text.rstrip("\n")[: len(text) // 2]
        return (cut + ("\n" if fmt == "jsonl" else "")).encode()
    if kind == "drop_delimiter":
        sep = "\t" if fmt == "tsv" else ","
        i = text.index(sep + str(row["published"]))
        return (text[:i] + text[i + 1:]).encode()
    return _record_bytes(fmt, _apply_field_damage(row, kind)).encode()


def _write(path: Path, fmt: str, rows: list[dict], damage: dict[int, str], bom: bool) -> None:
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        out = [_apply_field_damage(r, damage[i]) if i in damage else r for i, r in enumerate(rows)]
        pq.write_table(pa.Table.from_pylist(out), path)
        return
    parts = [_damage_text(fmt, r, damage[i]) if i in damage else _record_bytes(fmt, r).encode()
             for i, r in enumerate(rows)]
    if fmt == "json":
        body = b""
        for i, part in enumerate(parts):
            body += part
            if i < len(parts) - 1:
                body += b" " if damage.get(i) == "missing_comma" else b",\n"
        data = b"[\n" + body + b"\n]\n"
    elif fmt in ("csv", "tsv"):
        data = _csv_line({c: c for c in COLS}, "\t" if fmt == "tsv" else ",").encode() + b"".join(parts)
    else:
        data = b"".join(parts)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)


@st.composite
def damaged_file(draw):
    fmt = draw(st.sampled_from(list(DAMAGE)))
    rows = draw(st.lists(article, min_size=2, max_size=9))
    rows = [{"id": f"a{i}", **r} for i, r in enumerate(rows)]
    rows = [{c: r[c] for c in COLS} for r in rows]
    picked = draw(st.sets(st.integers(0, len(rows) - 1), max_size=len(rows) // 2 + 1))
    damage = {i: draw(st.sampled_from(DAMAGE[fmt])) for i in sorted(picked)}
    bom = fmt != "parquet" and draw(st.booleans())
    return fmt, rows, damage, bom


@settings(max_examples=80, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=damaged_file())
def test_damage_stays_local_and_counts_balance(case, tmp_path_factory) -> None:
    fmt, rows, damage, bom = case
    path = tmp_path_factory.mktemp("dmg") / f"articles.{fmt}"
    _write(path, fmt, rows, damage, bom)

    res = load_articles([path], lenient=True)
    key = str(path)
    assert res.rows_read[key] == res.per_file[key] + len(res.rejected)  # by construction
    loaded = {a.id: a for a in res.articles}
    for i, r in enumerate(rows):
        # a "missing_comma" damages the gap after the record, not the record itself
        if i in damage and damage[i] != "missing_comma":
            continue
        a = loaded.get(r["id"])
        assert a is not None, f"untouched record {r['id']} lost: {res.rejected}"
        assert (a.lang, a.published.isoformat(), a.title, a.body) == (r["lang"], r["published"], r["title"],
                                                                       r["body"])
    # nothing vanishes: the untouched records are loaded and the damage is rejected (adjacent damaged
    # records can make one rejected region, their text kept in its ``raw``)
    untouched = sum(1 for i in range(len(rows)) if i not in damage or damage[i] == "missing_comma")
    assert res.per_file[key] + len(res.rejected) >= untouched
    damaged_ids = {rows[i]["id"] for i, kind in damage.items() if kind != "missing_comma"}
    if damaged_ids - set(loaded):  # a damaged record that did not load is in a rejection
        assert res.rejected
    for rej in res.rejected:
        assert rej["file"] == key and "reason" in rej

    # strict: loads everything or stops at the first damage, naming file and line
    try:
        strict = load_articles([path])
    except DataError as exc:
        assert exc.path == key and exc.line is not None and str(path) in str(exc)
        assert len(res.rejected) > 0
    else:
        assert not res.rejected and len(strict.articles) == len(res.articles)


def _articles_csv(*lines: str) -> str:
    return "id,lang,published,title,body\n" + "".join(line + "\n" for line in lines)


def test_unterminated_quote_does_not_swallow_the_rows_after_it(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_text(_articles_csv('1,lb,2024-01-01,"Titel,Text', "2,lb,2024-01-01,T,Zwee", "3,lb,2024-01-01,T,Dräi",
                               '4,lb,2024-01-01,"Véier, mat Komma",Text', "5,lb,2024-01-01,T,Fënnef",
                               "6,lb,2024-01-01,T,Sechs"), encoding="utf-8")
    res = load_articles([p], lenient=True)
    assert [a.id for a in res.articles] == ["2", "3", "4", "5", "6"]
    assert [r["line"] for r in res.rejected] == [2] and "quote" in res.rejected[0]["reason"]
    assert res.rows_read[str(p)] == 6
    with pytest.raises(DataError, match=r"a.csv, line 2: .*quote"):
        load_articles([p])


def test_quoted_multiline_field_is_still_one_record(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_text(_articles_csv('1,lb,2024-01-01,T,"Éischt Zeil\nzweet, Zeil"', "2,lb,2024-01-01,T,Zwee"),
                 encoding="utf-8")
    res = load_articles([p])
    assert [a.body for a in res.articles] == ["Éischt Zeil\nzweet, Zeil", "Zwee"]
    assert res.articles[1].source.endswith(":4")


def test_json_array_rejects_only_the_bad_elements(tmp_path: Path) -> None:
    good = {"lang": "lb", "published": "2024-01-01", "body": "Text"}
    p = tmp_path / "a.json"
    p.write_bytes(b"\xef\xbb\xbf[" + json.dumps({"id": "1", **good}).encode() + b",\n42,\n"
                  + json.dumps({"id": "3", **good}).encode().replace(b"Text", b"Te\xebxt") + b",\n"
                  + json.dumps({"id": "4", **good}).encode() + b"]")
    res = load_articles([p], lenient=True)
    assert [a.id for a in res.articles] == ["1", "4"]
    assert [(r["line"], r["reason"].split(" (")[0]) for r in res.rejected] == [
        (2, "element 2: expected a JSON object, found int"), (3, "element 3: not valid UTF-8")]
    assert res.rows_read[str(p)] == 4
    assert res.articles[1].source.endswith("a.json:4")
    with pytest.raises(DataError, match=r"a.json, line 2: element 2: expected a JSON object"):
        load_articles([p])


def test_truncated_json_array_keeps_the_complete_elements(tmp_path: Path) -> None:
    rows = [{"id": str(i), "lang": "lb", "published": "2024-01-01", "body": "Text"} for i in range(3)]
    text = json.dumps(rows, indent=1)
    p = tmp_path / "a.json"
    p.write_text(text[: len(text) - 20], encoding="utf-8")
    res = load_articles([p], lenient=True)
    assert [a.id for a in res.articles] == ["0", "1"] and res.rejected[0]["reason"].startswith(
        "malformed JSON in element 3")
    assert "file not read past this point" in res.rejected[0]["reason"]
    assert res.rejected[0]["line"] == text[: text.index('"2"')].count("\n")  # the line the element starts on


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "tsv", "txt"])
def test_bom_is_accepted_in_every_text_format(tmp_path: Path, fmt: str) -> None:
    row = {"id": "1", "lang": "lb", "published": "2024-01-01", "title": "T", "body": "Moien"}
    p = tmp_path / f"a.{fmt}"
    if fmt == "txt":
        p.write_bytes(b"\xef\xbb\xbfMoien\n")
        assert [r.row for r in iter_records(p)] == [{"text": "Moien"}]
        return
    _write(p, fmt, [row], {}, bom=True)
    res = load_articles([p])
    assert [a.id for a in res.articles] == ["1"] and not res.rejected


def test_invalid_utf8_line_in_tsv_and_txt_is_one_record(tmp_path: Path) -> None:
    p = tmp_path / "a.txt"
    p.write_bytes(b"eent\nz\xebwee\ndr\xc3\xa4i\n")
    recs = list(iter_records(p))
    assert [r.ok for r in recs] == [True, False, True] and recs[2].row == {"text": "dräi"}
    assert "0xeb" in recs[1].error
