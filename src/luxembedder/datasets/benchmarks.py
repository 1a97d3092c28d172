"""Readers for the evaluation benchmarks in the data directory, with validation and provenance.

Every reader checks the file it reads (columns, line counts, empty texts) and raises
:class:`~luxembedder.errors.DataError` naming the file, line and field, or
:class:`~luxembedder.errors.MissingDataError` naming the task, the expected path and where the data comes
from. :func:`data_provenance` gives ``{path, sha256}`` records for result files and checks each file
against the sha256 pinned in the data directory's ``MANIFEST.tsv`` (when it lists the file).

Layout (see ``../shared/data/README.md``)::

    sib200/annotated/<lang>/{train,dev,test}.tsv      index_id, category, text
    flores200/devtest/<lang>.devtest                  1012 line-aligned sentences
    tatoeba_ltz/<pair>/tatoeba-test-<release>.<lang>  dated releases (line-aligned)
    tatoeba_ltz/from_Tatoeba-Challenge_repo/<pair>.test.txt   newest files: eng ltz en-text lb-text
    tatoeba_laser_v1/tatoeba.<xxx>-eng.{xxx,eng}     LASER/MTEB Tatoeba v1
    paralux_dev/paralux_dev.jsonl                     anchor, paraphrase, not_paraphrase, edit_type
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from luxembedder.errors import DataError, MissingDataError
from luxembedder.utils.io import iter_table, sha256_file

logger = logging.getLogger(__name__)

SOURCES = {
    "sib200": "SIB-200 (github dadelani/sib-200, CC BY-SA 4.0); see ../shared/data/sib200/SOURCES.md",
    "flores200": "FLORES-200 devtest (Meta/NLLB, CC BY-SA 4.0); see ../shared/data/flores200",
    "tatoeba_ltz": "Tatoeba Translation Challenge test sets (Helsinki-NLP/OPUS-MT-testsets and "
    "Helsinki-NLP/Tatoeba-Challenge); see ../shared/data/tatoeba_ltz/SOURCES.md",
    "tatoeba_v1": "LASER Tatoeba v1 (facebookresearch/LASER data/tatoeba/v1); see ../shared/data/tatoeba_laser_v1",
    "ntrex128": "NTREX-128 (github MicrosoftTranslator/NTREX, CC BY-SA 4.0); see ../shared/data/ntrex128",
    "paralux": "ParaLux triplets (official: Hugging Face fredxlpy/ParaLux; development reconstruction: "
    "../shared/data/paralux_dev/README.md)",
}

TATOEBA_LTZ_RELEASES = ("v2020-07-28", "v2021-03-30", "v2021-08-07")
"""Dated releases of the Tatoeba Challenge test sets staged in ``tatoeba_ltz/``."""

TATOEBA_LTZ_LATEST = "challenge"
"""Release name of the newest files (``from_Tatoeba-Challenge_repo/<pair>.test.txt``)."""


@dataclass(frozen=True)
class SibRow:
    """One SIB-200 row."""

    index_id: str
    category: str
    text: str


@dataclass(frozen=True)
class Triplet:
    """One ParaLux-style row: the anchor, its paraphrase and a minimal meaning-changing edit."""

    anchor: str
    paraphrase: str
    not_paraphrase: str
    edit_type: str | None = None


def require_file(path: str | Path, task: str, source_key: str | None = None) -> Path:
    """``path`` if it is a file, else :class:`MissingDataError` naming task, path and data source."""
    p = Path(path)
    if not p.is_file():
        if source_key is None:  # a file the user named in the task spec: the data directory is irrelevant
            raise MissingDataError(f"task '{task}': file not found: {p} (check the path given in the task)")
        where = SOURCES.get(source_key, "")
        raise MissingDataError(
            f"task '{task}': data file not found: {p}"
            + (f" (data source: {where})" if where else "")
            + ". Pass --data-dir or set $LUXEMBEDDER_DATA to the folder holding the shared data."
        )
    return p


def _read_lines(path: Path, task: str, source_key: str, expected: int | None = None) -> list[str]:
    """Lines of a plain text file (no trailing newline), every line non-empty, count optionally checked."""
    path = require_file(path, task, source_key)
    lines: list[str] = []
    for line_no, row in iter_table(path, fmt="txt"):
        text = row["text"]
        if not text.strip():
            raise DataError("empty line in a line-aligned file", path, line_no, "text")
        lines.append(text)
    if expected is not None and len(lines) != expected:
        raise DataError(f"expected {expected} lines, found {len(lines)}", path)
    return lines


def _check_aligned(a: Sequence[str], b: Sequence[str], pa: Path, pb: Path) -> None:
    if len(a) != len(b):
        raise DataError(f"not line-aligned with {pb}: {len(a)} lines vs {len(b)}", pa)


# ---------------------------------------------------------------- SIB-200


def sib200_path(data_dir: str | Path, lang: str, split: str) -> Path:
    return Path(data_dir) / "sib200" / "annotated" / lang / f"{split}.tsv"


def read_sib200(data_dir: str | Path, lang: str, split: str, task: str = "sib200") -> list[SibRow]:
    """SIB-200 rows of one language and split (``train``/``dev``/``test``)."""
    if split not in ("train", "dev", "test"):
        raise ValueError(f"SIB-200 split must be train, dev or test, not {split!r}")
    path = require_file(sib200_path(data_dir, lang, split), task, "sib200")
    rows: list[SibRow] = []
    for line_no, row in iter_table(path, fmt="tsv"):
        for field in ("index_id", "category", "text"):
            value = row.get(field)
            if value is None:
                raise DataError(f"missing column (found: {', '.join(row)})", path, line_no, field)
            if not str(value).strip():
                raise DataError("empty value", path, line_no, field)
        rows.append(SibRow(str(row["index_id"]), str(row["category"]), str(row["text"])))
    if not rows:
        raise DataError("no rows", path)
    return rows


# ---------------------------------------------------------------- FLORES-200


def flores_path(data_dir: str | Path, lang: str) -> Path:
    return Path(data_dir) / "flores200" / "devtest" / f"{lang}.devtest"


def read_flores(data_dir: str | Path, lang: str, task: str = "flores200") -> list[str]:
    """The 1012 FLORES-200 devtest sentences of ``lang`` (e.g. ``ltz_Latn``), line-aligned across languages."""
    return _read_lines(flores_path(data_dir, lang), task, "flores200", expected=1012)


# ---------------------------------------------------------------- Tatoeba with Luxembourgish


def _normalise_pair(pair: str) -> tuple[str, str]:
    """``'eng'``, ``'eng-ltz'`` or ``'ltz-eng'`` -> (other language, folder name as staged)."""
    parts = pair.split("-")
    other = [p for p in parts if p != "ltz"]
    if len(other) != 1 or len(parts) > 2:
        raise ValueError(f"Tatoeba pair must involve ltz and one other language, got {pair!r}")
    lang = other[0]
    folder = "-".join(sorted([lang, "ltz"]))
    return lang, folder


def tatoeba_ltz_paths(data_dir: str | Path, pair: str, release: str = TATOEBA_LTZ_LATEST) -> list[Path]:
    """Files of one Tatoeba ltz pair and release (one TSV for ``challenge``, else two line files)."""
    lang, folder = _normalise_pair(pair)
    root = Path(data_dir) / "tatoeba_ltz"
    if release == TATOEBA_LTZ_LATEST:
        return [root / "from_Tatoeba-Challenge_repo" / f"{folder}.test.txt"]
    if release not in TATOEBA_LTZ_RELEASES:
        raise ValueError(f"unknown Tatoeba release {release!r} (known: {TATOEBA_LTZ_LATEST}, "
                         f"{', '.join(TATOEBA_LTZ_RELEASES)})")
    return [root / folder / f"tatoeba-test-{release}.ltz", root / folder / f"tatoeba-test-{release}.{lang}"]


def read_tatoeba_ltz(
    data_dir: str | Path, pair: str, release: str = TATOEBA_LTZ_LATEST, task: str = "tatoeba-ltz"
) -> tuple[list[str], list[str]]:
    """``(ltz_texts, other_texts)``, row-aligned, for a pair such as ``eng-ltz`` and a release.

    ``release='challenge'`` reads the newest file (TSV ``src-lang tgt-lang src-text tgt-text``; exists for
    eng-ltz and fra-ltz); dated releases (``v2021-08-07``...) read the two line-aligned files. Sources with
    several translations appear on several rows: score by text equality.
    """
    lang, _ = _normalise_pair(pair)
    paths = tatoeba_ltz_paths(data_dir, pair, release)
    if release != TATOEBA_LTZ_LATEST:
        ltz = _read_lines(paths[0], task, "tatoeba_ltz")
        other = _read_lines(paths[1], task, "tatoeba_ltz")
        _check_aligned(ltz, other, paths[0], paths[1])
        return ltz, other
    path = require_file(paths[0], task, "tatoeba_ltz")
    ltz_out: list[str] = []
    other_out: list[str] = []
    for line_no, row in iter_table(path, fmt="txt"):
        fields = row["text"].split("\t")
        if len(fields) != 4:
            raise DataError(f"expected 4 tab-separated fields (lang1 lang2 text1 text2), found {len(fields)}",
                            path, line_no)
        l1, l2, t1, t2 = fields
        if {l1, l2} != {lang, "ltz"}:
            raise DataError(f"language codes {l1!r}, {l2!r} do not match the pair {pair!r}", path, line_no,
                            "lang1" if l1 not in (lang, "ltz") else "lang2")
        for name, text in (("text1", t1), ("text2", t2)):
            if not text.strip():
                raise DataError("empty text", path, line_no, name)
        if l1 == "ltz":
            ltz_out.append(t1)
            other_out.append(t2)
        else:
            ltz_out.append(t2)
            other_out.append(t1)
    if not ltz_out:
        raise DataError("no rows", path)
    return ltz_out, other_out


# ---------------------------------------------------------------- Tatoeba v1 (LASER)


def tatoeba_v1_paths(data_dir: str | Path, lang3: str) -> list[Path]:
    root = Path(data_dir) / "tatoeba_laser_v1"
    return [root / f"tatoeba.{lang3}-eng.{lang3}", root / f"tatoeba.{lang3}-eng.eng"]


def read_tatoeba_v1(data_dir: str | Path, lang3: str, task: str = "tatoeba-v1") -> tuple[list[str], list[str]]:
    """``(src_lines, eng_lines)`` of the LASER Tatoeba v1 set for ``lang3`` (e.g. ``gsw``), row-aligned."""
    src_path, eng_path = tatoeba_v1_paths(data_dir, lang3)
    src = _read_lines(src_path, task, "tatoeba_v1")
    eng = _read_lines(eng_path, task, "tatoeba_v1")
    _check_aligned(src, eng, src_path, eng_path)
    return src, eng


# ---------------------------------------------------------------- ParaLux triplets


def paralux_dev_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / "paralux_dev" / "paralux_dev.jsonl"


def _triplet_rows(path: Path, split: str | None) -> Iterable[tuple[int, dict[str, Any]]]:
    if path.is_dir():
        from datasets import DatasetDict, load_from_disk

        try:
            ds = load_from_disk(str(path))
        except (FileNotFoundError, ValueError) as exc:
            raise DataError(f"not a `datasets` directory saved with save_to_disk: {exc}", path) from None
        if isinstance(ds, DatasetDict):
            name = split or ("test" if "test" in ds else next(iter(ds)))
            if name not in ds:
                raise DataError(f"no split {name!r} (splits: {', '.join(ds)})", path)
            ds = ds[name]
        return enumerate(ds, start=1)
    return iter_table(path)


def read_triplets(path: str | Path, split: str | None = None, task: str = "paralux") -> list[Triplet]:
    """ParaLux-format rows (``anchor``, ``paraphrase``, ``not_paraphrase``, optional ``edit_type``).

    Reads JSON, JSONL, Parquet, CSV/TSV, or a ``datasets`` directory saved with ``save_to_disk`` (the
    ``split`` of a DatasetDict, default ``test`` or the first).
    """
    p = Path(path)
    if not p.exists():
        require_file(p, task, "paralux")
    out: list[Triplet] = []
    for line_no, row in _triplet_rows(p, split):
        values: dict[str, str] = {}
        for field in ("anchor", "paraphrase", "not_paraphrase"):
            if field not in row:
                raise DataError(f"missing field (found: {', '.join(map(str, row))})", p, line_no, field)
            value = row[field]
            if not isinstance(value, str) or not value.strip():
                raise DataError("expected a non-empty string", p, line_no, field)
            values[field] = value
        edit = row.get("edit_type")
        out.append(Triplet(values["anchor"], values["paraphrase"], values["not_paraphrase"],
                           None if edit in (None, "") else str(edit)))
    if not out:
        raise DataError("no rows", p)
    return out


# ---------------------------------------------------------------- user files


def read_bitext_file(path: str | Path, src_col: str, tgt_col: str, task: str = "bitext") -> tuple[list[str], list[str]]:
    """Two row-aligned text columns of a TSV/CSV/JSONL/JSON/Parquet file."""
    p = require_file(path, task)
    src: list[str] = []
    tgt: list[str] = []
    for line_no, row in iter_table(p):
        for col, acc in ((src_col, src), (tgt_col, tgt)):
            if col not in row:
                raise DataError(f"missing column (found: {', '.join(map(str, row))})", p, line_no, col)
            value = row[col]
            if value is None or not str(value).strip():
                raise DataError("empty text", p, line_no, col)
            acc.append(str(value))
    if not src:
        raise DataError("no rows", p)
    return src, tgt


def read_labelled_texts(path: str | Path, task: str = "classification",
                        label_col: str = "label", text_col: str = "text") -> tuple[list[str], list[str]]:
    """``(labels, texts)`` of a classification file with columns ``label`` and ``text``."""
    p = require_file(path, task)
    labels: list[str] = []
    texts: list[str] = []
    for line_no, row in iter_table(p):
        for col in (label_col, text_col):
            if col not in row:
                raise DataError(f"missing column (found: {', '.join(map(str, row))})", p, line_no, col)
            if row[col] is None or not str(row[col]).strip():
                raise DataError("empty value", p, line_no, col)
        labels.append(str(row[label_col]))
        texts.append(str(row[text_col]))
    if not texts:
        raise DataError("no rows", p)
    return labels, texts


# ---------------------------------------------------------------- provenance


@lru_cache(maxsize=8)
def _manifest(manifest_path: str, mtime: float) -> dict[str, str]:
    out: dict[str, str] = {}
    for line_no, row in iter_table(manifest_path, fmt="tsv"):
        if "staged_path" not in row or "sha256" not in row:
            raise DataError("MANIFEST.tsv needs columns staged_path and sha256", manifest_path, line_no)
        out[row["staged_path"]] = row["sha256"]
    return out


def pinned_sha256(data_dir: str | Path | None, path: str | Path) -> str | None:
    """The sha256 that ``<data_dir>/MANIFEST.tsv`` pins for ``path`` (None when not listed)."""
    if data_dir is None:
        return None
    root = Path(data_dir).resolve()
    manifest = root / "MANIFEST.tsv"
    if not manifest.is_file():
        return None
    try:
        rel = Path(path).resolve().relative_to(root)
    except ValueError:
        return None
    return _manifest(str(manifest), manifest.stat().st_mtime).get(rel.as_posix())


file_sha256 = sha256_file  # the earlier name (memoised in utils.io)


def data_provenance(paths: Iterable[str | Path], data_dir: str | Path | None = None,
                    strict: bool = True) -> list[dict[str, Any]]:
    """``[{path, sha256, pinned}]`` for each file (directories: every file inside, sorted).

    A file whose sha256 differs from the one pinned in ``MANIFEST.tsv`` raises :class:`DataError`
    (``strict``) or logs a warning and is recorded with ``pinned: false``.
    """
    records: list[dict[str, Any]] = []
    for path in paths:
        p = Path(path)
        files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
        for f in files:
            digest = file_sha256(f)
            expected = pinned_sha256(data_dir, f)
            rec: dict[str, Any] = {"path": str(f), "sha256": digest}
            if expected is not None:
                if expected != digest:
                    msg = (f"sha256 {digest[:12]}... differs from the pinned {expected[:12]}... in "
                           f"{Path(data_dir or '') / 'MANIFEST.tsv'}: the data changed, results are not "
                           "comparable")
                    if strict:
                        raise DataError(msg, f)
                    logger.warning("%s: %s", f, msg)
                rec["pinned"] = expected == digest
            records.append(rec)
    return records
