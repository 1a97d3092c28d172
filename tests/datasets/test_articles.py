"""Article loading: every format, every bad-input case, lenient quarantine, RTL column mapping."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from luxembedder.datasets.articles import (
    ArticleColumns,
    load_articles,
    write_articles,
    write_rejected,
)
from luxembedder.errors import DataError


@pytest.fixture
def good_rows(fixtures_dir: Path) -> list[dict]:
    lines = (fixtures_dir / "articles" / "good.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(x) for x in lines]


def _write(fmt: str, rows: list[dict], path: Path) -> Path:
    cols = ["id", "lang", "published", "title", "lead", "body", "url", "category"]
    if fmt == "json":
        path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    elif fmt == "csv":
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=cols)
            w.writeheader()
            for r in rows:
                w.writerow({c: r.get(c) or "" for c in cols})
    elif fmt == "tsv":
        lines = ["\t".join(cols)] + ["\t".join(str(r.get(c) or "").replace("\n", " ") for c in cols) for r in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    elif fmt == "parquet":
        pq.write_table(pa.Table.from_pylist([{c: r.get(c) for c in cols} for r in rows]), path)
    return path


def test_jsonl_loads_all_fields(fixtures_dir: Path) -> None:
    res = load_articles([fixtures_dir / "articles" / "good.jsonl"])
    assert len(res.articles) == 6 and not res.rejected
    a = res.articles[0]
    assert (a.id, a.lang, a.published) == ("lb-001", "lb", dt.date(2024, 6, 12))
    assert a.title.startswith("Chamber") and "\n" in a.body and a.category == "Politik"
    assert a.source.endswith("good.jsonl:1")
    en = res.articles[1]
    assert en.published == dt.date(2024, 6, 12)  # datetime with offset: the date part is kept
    fr = res.articles[2]
    assert fr.lead == "" and fr.url is None and fr.category is None
    assert res.by_lang().keys() == {"lb", "en", "fr"}
    assert res.per_file == {str(fixtures_dir / "articles" / "good.jsonl"): 6}


@pytest.mark.parametrize("fmt", ["json", "csv", "tsv", "parquet"])
def test_every_format_gives_the_same_articles(fmt: str, good_rows: list[dict], tmp_path: Path,
                                              fixtures_dir: Path) -> None:
    ref = load_articles([fixtures_dir / "articles" / "good.jsonl"]).articles
    got = load_articles([_write(fmt, good_rows, tmp_path / f"a.{fmt}")]).articles
    assert [a.id for a in got] == [a.id for a in ref]
    assert [a.published for a in got] == [a.published for a in ref]
    if fmt != "tsv":  # TSV cannot hold line breaks inside a field
        assert [a.body for a in got] == [a.body for a in ref]
    assert [a.url for a in got] == [a.url for a in ref]


def test_csv_multiline_field_and_rtl_columns(fixtures_dir: Path) -> None:
    path = fixtures_dir / "articles" / "rtl_export.csv"
    with pytest.raises(DataError) as err:
        load_articles([path])  # default column names: 'published' does not exist
    assert "line 2" in str(err.value) and "published" in str(err.value)
    res = load_articles([path], columns=ArticleColumns.rtl())
    assert [a.id for a in res.articles] == ["1001", "1002"]
    a = res.articles[0]
    assert a.title == "Staugefor op der A3" and a.published == dt.date(2024, 3, 2)
    assert a.body.count("\n") == 1 and "D'Police" in a.body
    assert res.articles[1].source.endswith("rtl_export.csv:4")  # line numbers count the multi-line field
    assert ArticleColumns.preset("rtl") == ArticleColumns.rtl()


def test_yaml_column_mapping(tmp_path: Path) -> None:
    cfg = tmp_path / "cols.yaml"
    cfg.write_text("published: date\nbody: content\n", encoding="utf-8")
    cols = ArticleColumns.from_yaml(cfg)
    p = tmp_path / "a.jsonl"
    p.write_text(json.dumps({"id": 1, "lang": "LB", "date": "2024-02-01", "content": "Text."}) + "\n")
    a = load_articles([p], columns=cols).articles[0]
    assert (a.id, a.lang, a.title) == ("1", "lb", "")


BAD_CASES = [  # (line, field, words in the message)
    (2, None, "malformed JSON"),
    (3, "published", "missing required field"),
    (4, "published", "unparsable date"),
    (5, "id", "duplicate id 'ok-1'"),
    (6, "body", "empty required field"),
    (7, None, "expected a JSON object"),
    (9, "lang", "unknown language code"),
]


def test_strict_stops_at_first_bad_row_with_file_line_field(fixtures_dir: Path) -> None:
    path = fixtures_dir / "articles" / "bad.jsonl"
    with pytest.raises(DataError) as err:
        load_articles([path])
    msg = str(err.value)
    assert str(path) in msg and "line 2" in msg and "malformed JSON" in msg
    assert err.value.line == 2


@pytest.mark.parametrize(("line", "field", "words"), BAD_CASES)
def test_each_bad_row_alone_is_reported(line: int, field: str | None, words: str, fixtures_dir: Path,
                                        tmp_path: Path) -> None:
    lines = (fixtures_dir / "articles" / "bad.jsonl").read_text(encoding="utf-8").splitlines()
    p = tmp_path / "one.jsonl"
    keep = [lines[0], lines[line - 1]] if line != 5 else [lines[0], lines[4]]
    p.write_text("\n".join(keep) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_articles([p])
    assert err.value.line == 2 and words in str(err.value) and str(p) in str(err.value)
    assert err.value.field == field
    if field:
        assert f"field '{field}'" in str(err.value)


def test_lenient_quarantines_and_accounts_for_every_row(fixtures_dir: Path, tmp_path: Path) -> None:
    path = fixtures_dir / "articles" / "bad.jsonl"
    res = load_articles([path], lenient=True)
    assert [a.id for a in res.articles] == ["ok-1", "ok-2"]
    got = [(r["line"], r["field"]) for r in res.rejected]
    assert got == [(line, field) for line, field, _ in BAD_CASES]
    for r, (_, _, words) in zip(res.rejected, BAD_CASES, strict=True):
        assert words in r["reason"] and r["file"] == str(path)
    n_rows = sum(1 for x in path.read_text(encoding="utf-8").splitlines() if x.strip())
    assert len(res.articles) + len(res.rejected) == n_rows == res.rows_read[str(path)]
    summary = res.summary()
    assert summary["loaded"] == 2 and summary["rejected"] == 7
    out = write_rejected(tmp_path / "rejected.jsonl", res.rejected)
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [r["line"] for r in rows] == [c[0] for c in BAD_CASES] and rows[1]["row"]["id"] == "no-date"


def test_invalid_utf8_line_does_not_abort_the_rest(fixtures_dir: Path) -> None:
    path = fixtures_dir / "articles" / "bad_utf8.jsonl"
    with pytest.raises(DataError) as err:
        load_articles([path])
    assert err.value.line == 1 and "UTF-8" in str(err.value)
    res = load_articles([path], lenient=True)
    assert [a.id for a in res.articles] == ["ok-3"]
    assert res.rejected[0]["line"] == 1 and "0xeb" in res.rejected[0]["reason"]


def test_invalid_utf8_in_csv_row(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_bytes(b"id,lang,published,title,body\n1,lb,2024-01-01,T,L\xebtzebuerg\n2,lb,2024-01-01,T,Gutt\n")
    res = load_articles([p], lenient=True)
    assert [a.id for a in res.articles] == ["2"] and res.rejected[0]["line"] == 2


def test_csv_wrong_column_count_is_a_row_error(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_text("id,lang,published,title,body\n1,lb,2024-01-01,T\n2,lb,2024-01-01,T,Gutt\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"line 2.*expected 5 columns"):
        load_articles([p])
    res = load_articles([p], lenient=True)
    assert [a.id for a in res.articles] == ["2"] and len(res.rejected) == 1


def test_broken_json_array_rejects_the_file(tmp_path: Path) -> None:
    p = tmp_path / "a.json"
    p.write_text('[{"id": 1, "lang": "lb"', encoding="utf-8")
    with pytest.raises(DataError, match="malformed JSON"):
        load_articles([p])
    res = load_articles([p], lenient=True)
    assert not res.articles and "file not read past this point" in res.rejected[0]["reason"]


def test_duplicate_ids_across_files_and_languages(tmp_path: Path) -> None:
    a = tmp_path / "a.jsonl"
    b = tmp_path / "b.jsonl"
    a.write_text(json.dumps({"id": "7", "lang": "lb", "published": "2024-01-01", "body": "x"}) + "\n")
    b.write_text(json.dumps({"id": "7", "lang": "en", "published": "2024-01-01", "body": "x"}) + "\n"
                 + json.dumps({"id": "7", "lang": "lb", "published": "2024-01-02", "body": "y"}) + "\n")
    with pytest.raises(DataError) as err:
        load_articles([a, b])
    assert str(b) in str(err.value) and err.value.line == 2 and str(a) + ":1" in str(err.value)


def test_default_lang_and_write_roundtrip(tmp_path: Path) -> None:
    p = tmp_path / "lb.jsonl"
    p.write_text(json.dumps({"id": "1", "published": "2024-01-01", "title": "T", "body": "B"}) + "\n")
    with pytest.raises(DataError, match="lang"):
        load_articles([p])
    res = load_articles([p], default_lang="ltz")
    assert res.articles[0].lang == "lb"
    out = write_articles(tmp_path / "out.jsonl", res.articles)
    again = load_articles([out]).articles[0]
    assert (again.id, again.lang, again.published, again.body) == ("1", "lb", dt.date(2024, 1, 1), "B")


def test_wrong_value_types_and_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    p.write_text(json.dumps({"id": "1", "lang": "lb", "published": "2024-01-01", "body": ["a", "b"]}) + "\n")
    with pytest.raises(DataError, match="field 'body': expected text"):
        load_articles([p])
    with pytest.raises(DataError, match="file not found"):
        load_articles([tmp_path / "nope.jsonl"])
    q = tmp_path / "a.xlsx"
    q.write_text("x")
    with pytest.raises(DataError, match="unsupported"):
        load_articles([q])
