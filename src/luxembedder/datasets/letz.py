"""LETZ: Luxembourgish dictionary sentences paired with a word (Philippy, Haddadan, Bissyandé 2024).

Two subsets, built from the Luxembourg Online Dictionary's example sentences (``../shared/data/letz``,
CC BY 4.0; see its ``SOURCES.md``):

- ``SYN``: ``{"text": lb sentence, "label": a Luxembourgish synonym of one of its nouns, "class": 1}`` or an
  unrelated Luxembourgish word with ``class`` 0;
- ``WoT``: the same with ``label`` the translation of one of its words into ``lang`` (en, fr, de or pt).

Every row is validated (file, line and field named on error) and counted: :class:`LetzRows` keeps the rows of
each class and the number read, so ``read == positives + negatives`` always holds.

>>> import json, tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp()) / "LETZ-WoT"; d.mkdir()
>>> rows = [{"text": "Hien huet e Liichttuerm gesinn.", "label": "lighthouse", "class": 1, "lang": "en"},
...         {"text": "Hien huet e Liichttuerm gesinn.", "label": "cheese", "class": 0, "lang": "en"}]
>>> _ = (d / "train.jsonl").write_text("\\n".join(json.dumps(r) for r in rows))
>>> letz = read_letz(d.parent, "WoT", "train")
>>> (letz.read, len(letz.positives), len(letz.negatives), letz.positives[0].label)
(2, 1, 1, 'lighthouse')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from luxembedder.errors import DataError, MissingDataError
from luxembedder.utils.io import iter_table

LetzSubset = Literal["SYN", "WoT"]
LETZ_LICENSE = "CC BY 4.0"
LETZ_ATTRIBUTION = (
    "LETZ (Philippy, Haddadan, Bissyandé 2024, \"Forget NLI, Use a Dictionary: Zero-Shot Topic Classification "
    "for Low-Resource Languages with Application to Luxembourgish\"; github fredxlpy/LETZ), built from the "
    "example sentences of the Luxembourg Online Dictionary (lod.lu, CC0); CC BY 4.0"
)


@dataclass(frozen=True)
class LetzRow:
    """One LETZ row: a Luxembourgish sentence, a word, its language (``lb`` for SYN) and its class."""

    text: str
    label: str
    lang: str
    positive: bool
    line: int


@dataclass
class LetzRows:
    """The rows of one LETZ file, split by class, with the file they came from."""

    path: Path
    read: int = 0
    positives: list[LetzRow] = field(default_factory=list)
    negatives: list[LetzRow] = field(default_factory=list)


def letz_path(data_dir: str | Path, subset: LetzSubset, split: str) -> Path:
    """``<data_dir>/letz/LETZ-<subset>/<split>.jsonl`` (``data_dir`` may also be the ``letz`` folder)."""
    data_dir = Path(data_dir)
    root = data_dir if (data_dir / f"LETZ-{subset}").is_dir() else data_dir / "letz"
    return root / f"LETZ-{subset}" / f"{split}.jsonl"


def read_letz(data_dir: str | Path, subset: LetzSubset, split: str = "train") -> LetzRows:
    """Read and validate one LETZ file (``text``, ``label``, ``class`` 0/1, ``lang`` for WoT)."""
    if subset not in ("SYN", "WoT"):
        raise ValueError(f"LETZ subset must be SYN or WoT, not {subset!r}")
    if split not in ("train", "val", "test"):
        raise ValueError(f"LETZ split must be train, val or test, not {split!r}")
    path = letz_path(data_dir, subset, split)
    if not path.is_file():
        raise MissingDataError(f"LETZ file not found: {path} (expected the LETZ data under <data dir>/letz, see "
                               "../shared/data/README.md)")
    out = LetzRows(path)
    for line, row in iter_table(path, fmt="jsonl"):
        out.read += 1
        values = {}
        for col in ("text", "label"):
            v = row.get(col)
            if not isinstance(v, str) or not v.strip():
                raise DataError("missing, empty or non-text value", path, line, col)
            values[col] = v.strip()
        cls = row.get("class")
        if cls not in (0, 1) or isinstance(cls, bool):
            raise DataError(f"class must be 0 or 1, not {cls!r}", path, line, "class")
        lang = row.get("lang") if subset == "WoT" else "lb"
        if subset == "WoT" and (not isinstance(lang, str) or not lang.strip()):
            raise DataError("missing language of the word", path, line, "lang")
        item = LetzRow(values["text"], values["label"], str(lang).strip(), cls == 1, line)
        (out.positives if item.positive else out.negatives).append(item)
    if out.read == 0:
        raise DataError("no rows", path)
    return out
