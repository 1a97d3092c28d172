"""Training pairs: load, validate, deduplicate, guard against leakage, and split off a seeded dev set.

Accepted sources (see :class:`~luxembedder.training.config.PairSource`):

- a pair file in the LuxAlign format: JSONL/JSON/Parquet/CSV/TSV rows with ``text_1`` (the Luxembourgish
  side for lb-xx pairs), ``text_2`` and optionally ``cos_sim`` (other columns such as ``margin`` or ids are
  kept out of training but do no harm);
- a mining run directory: every ``<run>/pairs/<pair>.(jsonl|parquet|...)`` file, named by its pair;
- a ``datasets`` directory written by ``Dataset.save_to_disk`` (a ``DatasetDict`` uses its ``train`` split).

Every problem is reported before training starts, naming the file, the line and the field.
"""

from __future__ import annotations

import logging
import math
import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from luxembedder.datasets.letz import LETZ_ATTRIBUTION, LETZ_LICENSE, read_letz
from luxembedder.datasets.pairs import PAIR_TEXT_COLUMNS
from luxembedder.datasets.parallel import ParallelRows, evaluation_texts, ntrex_parallel, sib200_parallel
from luxembedder.errors import ConfigError, DataError
from luxembedder.text.langcodes import known_languages
from luxembedder.text.normalize import match_key
from luxembedder.training.config import (
    LetzSource,
    NtrexSource,
    PairSource,
    Sib200Source,
    SourceOptions,
    check_pair_name,
)
from luxembedder.utils.io import TABLE_SUFFIXES, iter_table, sha256_dir, sha256_file, sha256_files

logger = logging.getLogger(__name__)

_PAIR_IN_NAME = re.compile(r"(?<![a-z])([a-z]{2,3})[-_]([a-z]{2,3})(?![a-z])")


@dataclass
class SourceRecord:
    """Provenance of one loaded file: what was read, what was kept, and why rows were dropped."""

    path: str
    pair: str
    sha256: str
    rows_read: int = 0
    rows_kept: int = 0
    dropped_low_score: int = 0
    dropped_duplicate: int = 0
    dropped_leakage: int = 0
    dropped_max_rows: int = 0
    source: str = "pairs"
    license: str | None = None
    attribution: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class PairSet:
    """The rows of one training set: parallel lists (``first`` is the Luxembourgish side), optional
    per-row hard ``negatives``, the files they came from, and how the set is trained (objective, weight).

    ``name`` keys the set in multi-dataset training (``lb-en`` for pair files, ``ntrex:lb-de``,
    ``sib200:lb-en``, ``letz:wot``...); ``pair`` is its language pair; ``kind`` the source type.
    """

    name: str
    first: list[str] = field(default_factory=list)
    second: list[str] = field(default_factory=list)
    sources: list[SourceRecord] = field(default_factory=list)
    pair: str | None = None
    kind: str = "pairs"
    objective: str = "contrastive"
    weight: float = 1.0
    negatives: list[str] | None = None

    def __len__(self) -> int:
        return len(self.first)

    @property
    def languages(self) -> tuple[str, str]:
        a, _, b = (self.pair or self.name).partition("-")
        return a, b

    def subset(self, idx: Iterable[int]) -> PairSet:
        idx = list(idx)
        neg = None if self.negatives is None else [self.negatives[i] for i in idx]
        return PairSet(self.name, [self.first[i] for i in idx], [self.second[i] for i in idx], self.sources,
                       self.pair, self.kind, self.objective, self.weight, neg)


def infer_pair(path: Path) -> str | None:
    """The language pair named in a file or folder name (``lb-en.jsonl`` → ``lb-en``), if any."""
    name = path.name.lower()
    for suffix in (*TABLE_SUFFIXES, ".arrow"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    matches = _PAIR_IN_NAME.findall(name)
    if not matches:
        return None
    a, b = matches[-1]
    return f"{a}-{b}" if a != b else None


def _is_datasets_dir(path: Path) -> bool:
    return any((path / f).is_file() for f in ("dataset_info.json", "state.json", "dataset_dict.json"))


def expand_sources(sources: list[PairSource]) -> list[tuple[Path, str, PairSource]]:
    """Resolve each source to concrete ``(path, pair, source)`` items (a mining run gives one per pair file)."""
    out: list[tuple[Path, str, PairSource]] = []
    if not sources:
        raise ConfigError("no pair sources given (pass --pairs PATH or set 'pairs' in the config)")
    for src in sources:
        path = Path(src.path).expanduser()
        if not path.exists():
            raise DataError("pair source not found", path)
        if path.is_dir() and not _is_datasets_dir(path):
            pairs_dir = path / "pairs" if (path / "pairs").is_dir() else path
            files = sorted(p for p in pairs_dir.iterdir()
                           if p.is_file() and p.suffix.lower() in TABLE_SUFFIXES and p.suffix != ".txt")
            files = [p for p in files if infer_pair(p)] if src.pair is None else files
            if not files:
                raise DataError("no pair files (<pair>.jsonl, e.g. lb-en.jsonl) in this directory or its "
                                "pairs/ folder", path)
            if src.pair is not None and len(files) > 1:
                raise DataError(f"'pair: {src.pair}' given for a directory with {len(files)} pair files; "
                                "list the files separately", path, field="pair")
            for f in files:
                pair = src.pair or infer_pair(f)
                out.append((f, check_pair_name(pair), src))  # type: ignore[arg-type]
            continue
        pair = src.pair or infer_pair(path)
        if pair is None:
            raise DataError("cannot infer the language pair from the file name (expected e.g. lb-en.jsonl); "
                            "set 'pair' for this source", path, field="pair")
        try:
            out.append((path, check_pair_name(pair), src))
        except ValueError as exc:
            raise DataError(str(exc), path, field="pair") from None
    return out


def _iter_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    if path.is_dir():
        from datasets import DatasetDict, load_from_disk

        ds = load_from_disk(str(path))
        if isinstance(ds, DatasetDict):
            if "train" not in ds:
                raise DataError(f"DatasetDict without a 'train' split (splits: {', '.join(ds)})", path)
            ds = ds["train"]
        yield from enumerate(ds, start=1)
    else:
        yield from iter_table(path)


def _text(row: dict[str, Any], col: str, path: Path, line: int) -> str:
    if col not in row:
        raise DataError(f"missing column (found: {', '.join(map(str, row)) or 'none'})", path, line, col)
    value = row[col]
    if value is None or not isinstance(value, str) or not value.strip():
        raise DataError("empty or non-text value", path, line, col)
    return value.strip()


def _score(row: dict[str, Any], col: str, path: Path, line: int) -> float:
    if col not in row:
        raise DataError(f"min_score is set but the score column is missing (found: {', '.join(map(str, row))})",
                        path, line, col)
    try:
        value = float(row[col])
    except (TypeError, ValueError):
        raise DataError(f"score is not a number: {row[col]!r}", path, line, col) from None
    if math.isnan(value):
        raise DataError("score is NaN", path, line, col)
    return value


def normalize_for_match(text: str) -> str:
    """Case- and whitespace-insensitive form used for deduplication and the leakage check."""
    return match_key(text)


def load_pair_sets(sources: list[PairSource]) -> dict[str, PairSet]:
    """Load and validate every source; merge by language pair; drop low-score and duplicate pairs.

    Raises :class:`DataError` (file, line, field) on a missing column, an empty text, a non-numeric score,
    or a source with no rows left after filtering.
    """
    sets: dict[str, PairSet] = {}
    seen: dict[str, set[tuple[str, str]]] = {}
    for path, pair, src in expand_sources(sources):
        record = SourceRecord(str(path), pair, sha256_dir(path) if path.is_dir() else sha256_file(path))
        name = pair if src.objective == "contrastive" else f"{pair}/{src.objective}"
        ps = sets.setdefault(name, PairSet(name, pair=pair, objective=src.objective, weight=src.weight))
        if ps.weight != src.weight:
            raise ConfigError(f"pair files of {name} have different weights ({ps.weight} and {src.weight}): "
                              "give files of one pair and objective one weight")
        keys = seen.setdefault(name, set())
        for line, row in _iter_rows(path):
            record.rows_read += 1
            a, b = (_text(row, col, path, line) for col in PAIR_TEXT_COLUMNS)
            if src.min_score is not None and _score(row, src.score_column, path, line) < src.min_score:
                record.dropped_low_score += 1
                continue
            key = (normalize_for_match(a), normalize_for_match(b))
            if key in keys:
                record.dropped_duplicate += 1
                continue
            keys.add(key)
            ps.first.append(a)
            ps.second.append(b)
            record.rows_kept += 1
        if record.rows_read == 0:
            raise DataError("no rows", path)
        if record.rows_kept == 0:
            raise DataError(f"no rows left after filtering ({record.dropped_low_score} below min_score "
                            f"{src.min_score}, {record.dropped_duplicate} duplicates)", path,
                            field=src.score_column if src.min_score is not None else None)
        logger.info("%s [%s]: %d rows, kept %d (%d below min_score, %d duplicates)", path, pair,
                    record.rows_read, record.rows_kept, record.dropped_low_score, record.dropped_duplicate)
        ps.sources.append(record)
    return sets


def _parallel_set(rows: ParallelRows, src: NtrexSource | Sib200Source, kind: str) -> PairSet:
    name = rows.name if src.objective == "contrastive" else f"{rows.name}/{src.objective}"
    ps = PairSet(name, pair=rows.pair, kind=kind, objective=src.objective, weight=src.weight)
    record = SourceRecord(", ".join(sorted({Path(f).name for f in rows.files})), rows.pair, sha256_files(rows.files),
                          rows_read=len(rows), source=kind, license="CC BY-SA 4.0")
    seen: set[tuple[str, str]] = set()
    for a, b in zip(rows.first, rows.second, strict=True):
        key = (normalize_for_match(a), normalize_for_match(b))
        if key in seen:
            record.dropped_duplicate += 1
            continue
        seen.add(key)
        ps.first.append(a.strip())
        ps.second.append(b.strip())
    record.rows_kept = len(ps)
    ps.sources.append(record)
    return ps


def _letz_sets(src: LetzSource, data_dir: Path) -> list[PairSet]:
    """One set per LETZ subset: (sentence, word) positives, with the sentence's class-0 word as negative."""
    out = []
    langs = set(src.languages)
    for subset in src.subsets:
        rows = read_letz(data_dir, subset, src.split)
        ps = PairSet(f"letz:{subset.lower()}", pair=f"lb-{'lb' if subset == 'SYN' else 'xx'}", kind="letz",
                     objective=src.objective, weight=src.weight, negatives=[] if src.negatives else None)
        record = SourceRecord(f"LETZ-{subset}/{rows.path.name}", f"lb-{subset.lower()}", sha256_file(rows.path),
                              rows_read=rows.read, source="letz", license=LETZ_LICENSE, attribution=LETZ_ATTRIBUTION)
        wrong: dict[tuple[str, str], str] = {}
        for r in rows.negatives:
            wrong.setdefault((normalize_for_match(r.text), r.lang), r.label)
        seen: set[tuple[str, str]] = set()
        for r in rows.positives:
            if subset == "WoT" and r.lang not in langs:
                continue
            key = (normalize_for_match(r.text), normalize_for_match(r.label))
            if key in seen:
                record.dropped_duplicate += 1
                continue
            neg = wrong.get((key[0], r.lang))
            if ps.negatives is not None and neg is None:
                continue  # no class-0 word for this sentence: a triplet set keeps only complete rows
            seen.add(key)
            ps.first.append(r.text)
            ps.second.append(r.label)
            if ps.negatives is not None:
                ps.negatives.append(neg)  # type: ignore[arg-type]
        record.rows_kept = len(ps)
        if not ps.first:
            raise DataError(f"no LETZ-{subset} rows left (languages {sorted(langs)})", rows.path, field="lang")
        ps.sources.append(record)
        logger.info("LETZ-%s %s: %d rows read, %d positive pairs kept%s", subset, src.split, rows.read, len(ps),
                    " (with class-0 negatives)" if ps.negatives is not None else "")
        out.append(ps)
    return out


def load_training_sets(sources: list[SourceOptions], data_dir: Path | None) -> dict[str, PairSet]:
    """Every configured source as named :class:`PairSet` objects (pair files merged by pair and objective)."""
    files = [s for s in sources if isinstance(s, PairSource)]
    sets = load_pair_sets(files) if files else {}
    for src in sources:
        if isinstance(src, PairSource):
            continue
        if data_dir is None or not Path(data_dir).is_dir():
            raise ConfigError(f"training source type '{getattr(src, 'type', '?')}' reads the data directory, "
                              "which is not set (--data-dir or $LUXEMBEDDER_DATA)")
        if isinstance(src, NtrexSource):
            new = [_parallel_set(r, src, "ntrex") for r in ntrex_parallel(data_dir, src.pairs, src.holdout_documents)]
        elif isinstance(src, Sib200Source):
            new = [_parallel_set(r, src, "sib200") for r in sib200_parallel(data_dir, src.pairs, src.splits)]
        elif isinstance(src, LetzSource):
            new = _letz_sets(src, Path(data_dir))
        else:  # pragma: no cover - the config's discriminated union rejects it first
            raise ConfigError(f"unknown training source {src!r}")
        for ps in new:
            if ps.name in sets:
                raise ConfigError(f"training set {ps.name} is configured twice")
            sets[ps.name] = ps
    if not sets:
        raise ConfigError("no pair sources given (pass --pairs PATH or set 'pairs' / 'sources' in the config)")
    return sets


def limit_rows(sets: dict[str, PairSet], limits: dict[str, int | None], seed: int) -> dict[str, int]:
    """Keep a seeded random subset of ``limits[name]`` rows of each set (in place); returns rows dropped."""
    dropped: dict[str, int] = {}
    for name, ps in sets.items():
        k = limits.get(name)
        if k is None or len(ps) <= k:
            continue
        order = list(range(len(ps)))
        random.Random(f"{seed}:{name}:max_rows").shuffle(order)
        kept = ps.subset(sorted(order[:k]))
        dropped[name] = len(ps) - k
        ps.first, ps.second, ps.negatives = kept.first, kept.second, kept.negatives
        if ps.sources:  # as for leakage drops, counted on the set's first file
            ps.sources[0].dropped_max_rows += dropped[name]
            ps.sources[0].rows_kept -= dropped[name]
    return dropped


def source_limits(sources: list[SourceOptions], sets: dict[str, PairSet]) -> dict[str, int | None]:
    """``max_rows`` of each set's source (a source's limit applies to each set it produced)."""
    limits: dict[str, int | None] = {}
    for src in sources:
        if src.max_rows is None:
            continue
        for name, ps in sets.items():
            if _belongs(ps, src):
                limits[name] = src.max_rows
    return limits


def _belongs(ps: PairSet, src: SourceOptions) -> bool:
    kind = getattr(src, "type", "pairs")
    if ps.kind != kind or ps.objective != src.objective:
        return False
    if isinstance(src, PairSource):
        return src.pair is None or ps.pair == src.pair
    if isinstance(src, NtrexSource | Sib200Source):
        return ps.pair in src.pairs
    if isinstance(src, LetzSource):
        return ps.name.split(":")[-1] in {s.lower() for s in src.subsets}
    return False


def evaluation_exclusions(data_dir: Path | None, sets: dict[str, PairSet]) -> tuple[set[str], dict[str, int]]:
    """Normalised texts of every evaluation set in the languages the training sets use, with set sizes."""
    if data_dir is None or not Path(data_dir).is_dir():
        return set(), {}
    langs = {"lb", "en", "fr", "de"}
    for ps in sets.values():
        langs.update(x for x in ps.languages if x and x not in ("xx",))
    texts = evaluation_texts(data_dir, sorted(x for x in langs if x in known_languages()))
    return {normalize_for_match(t) for v in texts.values() for t in v}, {k: len(v) for k, v in texts.items()}


def load_exclusion_texts(paths: Iterable[Path]) -> set[str]:
    """Normalised texts from leakage-exclusion files (ParaLux-format JSONL, or one text per line)."""
    texts: set[str] = set()
    for p in paths:
        p = Path(p)
        if p.suffix.lower() == ".txt":
            rows = ({"text": line} for line in p.read_text(encoding="utf-8").splitlines())
        else:
            rows = (row for _, row in iter_table(p))
        for row in rows:
            for col in ("text", "anchor", "paraphrase", "not_paraphrase", *PAIR_TEXT_COLUMNS):
                v = row.get(col)
                if isinstance(v, str) and v.strip():
                    texts.add(normalize_for_match(v))
    return texts


def default_exclusion_files(data_dir: Path | None) -> list[Path]:
    """ParaLux-dev and the ParaLux benchmark list in the data directory (those that exist)."""
    if data_dir is None:
        return []
    candidates = [data_dir / "paralux_dev" / "paralux_dev.jsonl", data_dir / "paralux_texts" / "benchmark_texts.txt"]
    return [p for p in candidates if p.is_file()]


def drop_leakage(sets: dict[str, PairSet], excluded: set[str]) -> dict[str, int]:
    """Remove pairs with a text in ``excluded`` (in place); returns the number dropped per pair set."""
    dropped: dict[str, int] = {}
    for name, ps in sets.items():
        neg = ps.negatives
        keep = [i for i in range(len(ps)) if normalize_for_match(ps.first[i]) not in excluded
                and normalize_for_match(ps.second[i]) not in excluded
                and (neg is None or normalize_for_match(neg[i]) not in excluded)]
        n = len(ps) - len(keep)
        dropped[name] = n
        if n:
            logger.warning("%s: dropped %d rows with a text of the leakage-exclusion list", name, n)
            kept = ps.subset(keep)
            ps.first, ps.second, ps.negatives = kept.first, kept.second, kept.negatives
            if ps.sources:  # counted on the set's first file, like max_rows drops
                ps.sources[0].dropped_leakage += n
                ps.sources[0].rows_kept -= n
        if len(ps) == 0:
            raise DataError(f"pair set {name}: no pairs left after removing evaluation (leakage) texts",
                            ps.sources[0].path if ps.sources else None)
    return dropped


def dev_count(n: int, fraction: float, size: int | None, maximum: int) -> int:
    """Held-out pairs for a set of ``n``: ``size`` if given, else ``fraction`` of n, capped; ≥ 1 train pair."""
    k = size if size is not None else round(n * fraction)
    return max(0, min(k, maximum, n - 2))


def split_dev(
    sets: dict[str, PairSet], fraction: float, size: int | None, maximum: int, seed: int
) -> tuple[dict[str, PairSet], dict[str, PairSet]]:
    """Seeded split of each pair set into (train, dev); the same seed and data give the same split."""
    train: dict[str, PairSet] = {}
    dev: dict[str, PairSet] = {}
    for name in sorted(sets):
        ps = sets[name]
        k = dev_count(len(ps), fraction, size, maximum)
        order = list(range(len(ps)))
        random.Random(f"{seed}:{name}").shuffle(order)
        dev_idx, train_idx = sorted(order[:k]), sorted(order[k:])
        train[name] = ps.subset(train_idx)
        if k:
            dev[name] = ps.subset(dev_idx)
    return train, dev
