"""Offline Luxembourgish parallel data for training, and the evaluation texts it must never contain.

Two line-aligned, human-translated sources in the data directory:

- **NTREX-128** (news, 1997 lines in lb, en, fr, de, nl, 123 documents). :func:`ntrex_parallel` gives lb-xx
  pairs; the last ``holdout_documents`` documents (corpus order) are held out for development, which is also
  what ``collection.max_documents: 123 - K`` keeps out of the mined NTREX benchmark.
- **SIB-200** train/dev splits (FLORES-200 dev/devtest sentences, the same ``index_id`` in every language).
  :func:`sib200_parallel` pairs ``ltz_Latn`` rows with the same rows in other languages.

:func:`evaluation_texts` lists every text of the evaluation sets (FLORES-200 devtest, SIB-200 test, Tatoeba,
ParaLux, ParaLux-dev) so that training can drop any pair that contains one: SIB-200 train rows taken from
FLORES devtest (``index_id`` ≥ 997) are dropped that way.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from luxembedder.datasets import benchmarks as B
from luxembedder.datasets.ntrex import read_ntrex
from luxembedder.errors import ConfigError, DataError
from luxembedder.text.langcodes import to_flores, to_iso639_3

logger = logging.getLogger(__name__)


@dataclass
class ParallelRows:
    """Row-aligned texts of one language pair (``first`` is the Luxembourgish side) and their files."""

    name: str
    pair: str
    first: list[str] = field(default_factory=list)
    second: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.first)


def _split_pair(pair: str) -> tuple[str, str]:
    a, _, b = pair.partition("-")
    if a != "lb" or not b:
        raise ConfigError(f"built-in parallel sources pair Luxembourgish with another language: 'lb-xx', not {pair!r}")
    return a, b


def ntrex_holdout_lines(doc_ids: Sequence[str], holdout_documents: int) -> set[int]:
    """Line indices of the last ``holdout_documents`` documents (in corpus order)."""
    order = list(dict.fromkeys(doc_ids))
    if holdout_documents >= len(order):
        raise ConfigError(f"holdout_documents={holdout_documents} leaves no NTREX document for training "
                          f"({len(order)} documents)")
    held = set(order[len(order) - holdout_documents:]) if holdout_documents else set()
    return {i for i, d in enumerate(doc_ids) if d in held}


def ntrex_parallel(data_dir: str | Path, pairs: Iterable[str], holdout_documents: int = 0,
                   heldout: bool = False) -> list[ParallelRows]:
    """NTREX-128 lb-xx pairs; the training part, or with ``heldout=True`` only the held-out documents."""
    pairs = list(pairs)
    langs = ["lb", *(_split_pair(p)[1] for p in pairs)]
    corpus = read_ntrex(Path(data_dir), langs=list(dict.fromkeys(langs)))
    held = ntrex_holdout_lines(corpus.doc_ids, holdout_documents)
    keep = [i for i in range(len(corpus.doc_ids)) if (i in held) == heldout]
    out = []
    for pair in pairs:
        other = _split_pair(pair)[1]
        out.append(ParallelRows(
            f"ntrex:{pair}", pair, [corpus.sentences["lb"][i] for i in keep],
            [corpus.sentences[other][i] for i in keep], [corpus.files["lb"], corpus.files[other],
                                                         corpus.files["doc_ids"]]))
    return out


def sib200_parallel(data_dir: str | Path, pairs: Iterable[str], splits: Iterable[str] = ("train",)) -> list[ParallelRows]:
    """SIB-200 ``ltz_Latn`` rows paired by ``index_id`` with the same rows in other languages."""
    out = []
    for pair in pairs:
        other = to_flores(_split_pair(pair)[1])
        rows = ParallelRows(f"sib200:{pair}", pair)
        for split in splits:
            lb = B.read_sib200(data_dir, "ltz_Latn", split, task="sib200 training source")
            xx = {r.index_id: r.text for r in B.read_sib200(data_dir, other, split, task="sib200 training source")}
            lb_path, xx_path = B.sib200_path(data_dir, "ltz_Latn", split), B.sib200_path(data_dir, other, split)
            missing = [r.index_id for r in lb if r.index_id not in xx]
            if missing:
                raise DataError(f"{len(missing)} ltz_Latn rows have no {other} row with the same index_id "
                                f"(first: {missing[0]})", xx_path, field="index_id")
            rows.first += [r.text for r in lb]
            rows.second += [xx[r.index_id] for r in lb]
            rows.files += [lb_path, xx_path]
        out.append(rows)
    return out


def evaluation_texts(data_dir: str | Path, languages: Iterable[str] = ("lb", "en", "fr", "de", "nl", "pt")
                     ) -> dict[str, list[str]]:
    """Every text of the evaluation sets in ``languages``, by set name (never train on any of them).

    FLORES-200 devtest and SIB-200 test in each language; Tatoeba with Luxembourgish (every release and
    file); LASER Tatoeba v1 xxx-eng for the other languages (both sides); ParaLux and ParaLux-dev. Files
    that are not in the data directory are skipped with a debug message.
    """
    d = Path(data_dir)
    out: dict[str, list[str]] = {}
    langs = list(dict.fromkeys(languages))
    for lang in langs:
        fl = to_flores(lang)
        if B.flores_path(d, fl).is_file():
            out[f"flores200:{fl}"] = B.read_flores(d, fl)
        if B.sib200_path(d, fl, "test").is_file():
            out[f"sib200-test:{fl}"] = [r.text for r in B.read_sib200(d, fl, "test")]
        iso3 = to_iso639_3(lang)
        src, eng = B.tatoeba_v1_paths(d, iso3)
        if iso3 != "eng" and src.is_file() and eng.is_file():
            a, b = B.read_tatoeba_v1(d, iso3)
            out[f"tatoeba-v1:{iso3}-eng"] = a + b
    root = d / "tatoeba_ltz"
    if root.is_dir():
        texts: list[str] = []
        for f in sorted(root.rglob("*")):
            if not f.is_file() or f.suffix in (".md", ".labels"):
                continue
            for line in f.read_text(encoding="utf-8").splitlines():
                texts += line.split("\t")[2:] if f.name.endswith(".test.txt") else [line]
        out["tatoeba-ltz"] = [t for t in texts if t.strip()]
    paralux = d / "paralux_texts" / "benchmark_texts.txt"
    if paralux.is_file():
        out["paralux"] = [t for t in paralux.read_text(encoding="utf-8").splitlines() if t.strip()]
    dev = B.paralux_dev_path(d)
    if dev.is_file():
        out["paralux-dev"] = [t for r in B.read_triplets(dev) for t in (r.anchor, r.paraphrase, r.not_paraphrase)]
    logger.debug("evaluation texts: %s", {k: len(v) for k, v in out.items()})
    return out

