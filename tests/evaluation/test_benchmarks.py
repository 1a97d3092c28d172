"""Benchmark readers: validation errors name file, line and field; provenance checks the MANIFEST pins."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from luxembedder.datasets import benchmarks as B
from luxembedder.errors import DataError, MissingDataError


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_sib_reader_and_errors(eval_data_dir: Path, tmp_path: Path) -> None:
    rows = B.read_sib200(eval_data_dir, "ltz_Latn", "test")
    assert len(rows) == 6 and rows[0] == B.SibRow("1", "sports", "De Fussball Club huet gewonnen.")
    _write(B.sib200_path(tmp_path, "xxx_Latn", "test"), "index_id\tcategory\ttext\n1\tsports\tok\n2\t\tno label\n")
    with pytest.raises(DataError) as exc:
        B.read_sib200(tmp_path, "xxx_Latn", "test")
    assert (exc.value.line, exc.value.field) == (3, "category")
    _write(B.sib200_path(tmp_path, "yyy_Latn", "test"), "index_id\tcategory\ttext\n1\tsports\n")
    with pytest.raises(DataError, match="expected 3 columns") as exc:
        B.read_sib200(tmp_path, "yyy_Latn", "test")
    assert exc.value.line == 2
    with pytest.raises(MissingDataError, match=r"task 'demo'.*zzz_Latn/test\.tsv.*SIB-200"):
        B.read_sib200(tmp_path, "zzz_Latn", "test", task="demo")


def test_flores_needs_1012_lines(tmp_path: Path) -> None:
    _write(B.flores_path(tmp_path, "ltz_Latn"), "".join(f"Saz {i}.\n" for i in range(1012)))
    assert len(B.read_flores(tmp_path, "ltz_Latn")) == 1012
    _write(B.flores_path(tmp_path, "eng_Latn"), "one\ntwo\n")
    with pytest.raises(DataError, match="expected 1012 lines"):
        B.read_flores(tmp_path, "eng_Latn")
    lines = [f"Saz {i}." for i in range(1012)]
    lines[9] = "  "
    _write(B.flores_path(tmp_path, "fra_Latn"), "\n".join(lines) + "\n")
    with pytest.raises(DataError) as exc:
        B.read_flores(tmp_path, "fra_Latn")
    assert exc.value.line == 10


def test_tatoeba_readers(eval_data_dir: Path, tmp_path: Path) -> None:
    ltz, eng = B.read_tatoeba_ltz(eval_data_dir, "eng-ltz")
    assert ltz == ["Gees du mat?", "Geet dir mat?", "D Kaz schléift."] and eng[0] == eng[1]
    assert B.read_tatoeba_ltz(eval_data_dir, "ltz-eng") == (ltz, eng)
    root = tmp_path / "tatoeba_ltz"
    _write(root / "from_Tatoeba-Challenge_repo" / "eng-ltz.test.txt", "eng\tltz\tA\tB\neng\tdeu\tC\tD\n")
    with pytest.raises(DataError) as exc:
        B.read_tatoeba_ltz(tmp_path, "eng")
    assert exc.value.line == 2 and exc.value.field == "lang2"
    _write(root / "deu-ltz" / "tatoeba-test-v2021-08-07.ltz", "a\nb\n")
    _write(root / "deu-ltz" / "tatoeba-test-v2021-08-07.deu", "a\n")
    with pytest.raises(DataError, match="not line-aligned"):
        B.read_tatoeba_ltz(tmp_path, "deu", "v2021-08-07")
    with pytest.raises(ValueError, match="unknown Tatoeba release"):
        B.read_tatoeba_ltz(tmp_path, "deu", "v1999")
    _write(tmp_path / "tatoeba_laser_v1" / "tatoeba.gsw-eng.gsw", "Grüezi\n")
    _write(tmp_path / "tatoeba_laser_v1" / "tatoeba.gsw-eng.eng", "Hello\n")
    assert B.read_tatoeba_v1(tmp_path, "gsw") == (["Grüezi"], ["Hello"])
    with pytest.raises(MissingDataError, match=r"tatoeba\.fry-eng\.fry"):
        B.read_tatoeba_v1(tmp_path, "fry")


def test_triplets_from_datasets_dir(tmp_path: Path) -> None:
    from datasets import Dataset, DatasetDict

    rows = {"anchor": ["a"], "paraphrase": ["b"], "not_paraphrase": ["c"], "edit_type": ["number"]}
    DatasetDict({"test": Dataset.from_dict(rows)}).save_to_disk(str(tmp_path / "ds"))
    assert B.read_triplets(tmp_path / "ds") == [B.Triplet("a", "b", "c", "number")]
    with pytest.raises(DataError, match="no split 'dev'"):
        B.read_triplets(tmp_path / "ds", split="dev")
    with pytest.raises(MissingDataError, match="ParaLux"):
        B.read_triplets(tmp_path / "missing.jsonl")


def test_provenance_checks_manifest_pins(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    good = _write(tmp_path / "flores200" / "devtest" / "x.devtest", "hello\n")
    other = _write(tmp_path / "user.txt", "mine\n")
    import hashlib

    digest = hashlib.sha256(b"hello\n").hexdigest()
    _write(tmp_path / "MANIFEST.tsv", f"staged_path\tsha256\tbytes\nflores200/devtest/x.devtest\t{digest}\t6\n")
    recs = B.data_provenance([good, other], tmp_path)
    assert recs[0] == {"path": str(good), "sha256": digest, "pinned": True}
    assert "pinned" not in recs[1] and len(recs[1]["sha256"]) == 64
    good.write_text("changed\n", encoding="utf-8")
    with pytest.raises(DataError, match="differs from the pinned"):
        B.data_provenance([good], tmp_path)
    with caplog.at_level(logging.WARNING):
        assert B.data_provenance([good], tmp_path, strict=False)[0]["pinned"] is False
    assert "not comparable" in caplog.text
