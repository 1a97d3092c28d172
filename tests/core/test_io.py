import json

import pytest

from luxembedder.errors import DataError
from luxembedder.utils.io import atomic_directory, atomic_write_json, iter_table, read_texts, sha256_dir


def test_every_format_reads_rows_in_order(tmp_path):
    rows = [{"text": "Moien."}, {"text": "Hello."}, {"text": "Bonjour."}]
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "a.json").write_text(json.dumps(rows))
    (tmp_path / "a.csv").write_text("text\nMoien.\nHello.\nBonjour.\n")
    (tmp_path / "a.tsv").write_text("text\nMoien.\nHello.\nBonjour.\n")
    (tmp_path / "a.txt").write_text("Moien.\nHello.\nBonjour.\n")
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "a.parquet")
    for suffix in ("jsonl", "json", "csv", "tsv", "txt", "parquet"):
        assert read_texts(tmp_path / f"a.{suffix}") == ["Moien.", "Hello.", "Bonjour."], suffix


def test_malformed_jsonl_names_file_and_line(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"text": "ok"}\n{"text": "broken"\n')
    with pytest.raises(DataError) as exc:
        list(iter_table(p))
    assert exc.value.line == 2 and "bad.jsonl" in str(exc.value) and "line 2" in str(exc.value)


def test_invalid_utf8_is_reported_with_line(tmp_path):
    p = tmp_path / "latin1.txt"
    p.write_bytes("Moien\nLëtzebuerg\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"line 2.*UTF-8"):
        read_texts(p)


def test_empty_line_is_an_error_unless_skipped(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("eent\n\ndräi\n")
    with pytest.raises(DataError) as exc:
        read_texts(p)
    assert exc.value.line == 2 and exc.value.field == "text"
    assert read_texts(p, skip_empty=True) == ["eent", "dräi"]


def test_missing_column_names_field(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("sentence\nMoien\n")
    with pytest.raises(DataError, match="field 'text'"):
        read_texts(p)


def test_csv_column_count_mismatch(tmp_path):
    p = tmp_path / "t.tsv"
    p.write_text("a\tb\n1\t2\n3\n")
    with pytest.raises(DataError, match="line 3"):
        list(iter_table(p))


def test_atomic_directory_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out"
    with pytest.raises(RuntimeError), atomic_directory(target) as tmp:
        (tmp / "half.bin").write_bytes(b"x")
        raise RuntimeError("interrupted")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []
    with atomic_directory(target) as tmp:
        atomic_write_json(tmp / "done.json", {"ok": True})
    assert json.loads((target / "done.json").read_text()) == {"ok": True}


def test_csv_quoted_multiline_field_keeps_its_line_break(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text('id,text\n1,"Éischt Zeil\nzweet Zeil"\n2,eent\n', encoding="utf-8")
    rows = list(iter_table(p))
    assert rows[0][1]["text"] == "Éischt Zeil\nzweet Zeil"
    assert rows[1] == (4, {"id": "2", "text": "eent"})


def test_sha256_dir_follows_names_and_contents_not_location(tmp_path):
    a = tmp_path / "a"
    (a / "sub").mkdir(parents=True)
    (a / "x.txt").write_text("Moien")
    (a / "sub" / "y.txt").write_text("Äddi")
    digest = sha256_dir(a)
    b = tmp_path / "elsewhere" / "b"
    b.parent.mkdir()
    a.rename(b)
    assert sha256_dir(b) == digest  # a moved copy keeps its hash
    (b / "sub" / "y.txt").write_text("Äddi!")
    assert sha256_dir(b) != digest  # a changed content changes it
    (b / "sub" / "y.txt").write_text("Äddi")
    assert sha256_dir(b) == digest
    (b / "sub" / "y.txt").rename(b / "sub" / "z.txt")
    assert sha256_dir(b) != digest  # so does a renamed file
