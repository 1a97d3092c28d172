"""Pair filters of the LuxAlign scripts (``LuxAlign/6-match_sents.py``), each returning a keep-mask and a reason.

Every filter takes parallel arrays (texts, scores, keys) and returns a :class:`FilterResult`, so the report
can count each filter's drops. Thresholds come from :class:`~luxembedder.mining.config.FilterConfig`.

Each result declares its **scope** (:data:`Scope`): ``candidate`` filters decide from the pair alone, so a
drop is final; ``across`` filters (de-duplication, one-to-one) depend on the other candidates and ``run``
filters (leakage) on run-level lists, so ``merge-runs`` re-applies them to the union of shard candidates.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from luxembedder.mining.scoring import best_per_group, candidate_pairs
from luxembedder.text.normalize import match_key
from luxembedder.utils.io import read_texts

logger = logging.getLogger(__name__)


Scope = Literal["candidate", "across", "run"]

DUPLICATE_PAIR, ONE_TO_ONE, LEAKAGE = "duplicate-pair", "one-to-one", "leakage"
RECHECKED_REASONS = frozenset({DUPLICATE_PAIR, ONE_TO_ONE, LEAKAGE})
"""Reasons of the ``across``/``run`` filters below: only for candidate tables written before ``drop_scope``."""


@dataclass
class FilterResult:
    """``keep[i]`` is False for a dropped row; ``reason`` names the filter and its threshold (one string, or
    one per row); ``scope`` says what the decision depends on (see the module docstring)."""

    name: str
    keep: np.ndarray
    reason: str | np.ndarray
    scope: Scope = "candidate"

    @property
    def dropped(self) -> int:
        return int((~self.keep).sum())


def _lengths(texts: Sequence[str]) -> np.ndarray:
    return np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))


def length_ratio(texts_1: Sequence[str], texts_2: Sequence[str], max_ratio: float = 1.5) -> FilterResult:
    """Keep pairs whose character-length ratio is < ``max_ratio`` both ways (paper: 1.5); empty texts fail."""
    l1 = _lengths(texts_1).astype(np.float64)
    l2 = _lengths(texts_2).astype(np.float64)
    nonempty = (l1 > 0) & (l2 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = nonempty & (l1 / l2 < max_ratio) & (l2 / l1 < max_ratio)
    return FilterResult("length_ratio", ok, f"length-ratio>={max_ratio:g}")


def _word_set(text: str, lower: bool = True) -> frozenset[str]:
    return frozenset((text.lower() if lower else text).split())


def word_overlap(texts_1: Sequence[str], texts_2: Sequence[str]) -> np.ndarray:
    """Lower-cased whitespace word-set overlap divided by the smaller set (0 when a side has no words)."""
    if len(texts_1) != len(texts_2):
        raise ValueError(f"word_overlap: {len(texts_1)} texts vs {len(texts_2)}")

    def overlap(a: str, b: str) -> float:
        w1, w2 = set(a.lower().split()), set(b.lower().split())
        return len(w1 & w2) / min(len(w1), len(w2)) if w1 and w2 else 0.0

    return np.fromiter(map(overlap, texts_1, texts_2), dtype=np.float64, count=len(texts_1))


def near_copy(texts_1: Sequence[str], texts_2: Sequence[str], threshold: float = 0.8) -> FilterResult:
    """Drop near copies: word-set overlap / smaller set ≥ ``threshold`` (paper: 0.8)."""
    return FilterResult("overlap", word_overlap(texts_1, texts_2) < threshold, f"word-overlap>={threshold:g}")


def one_to_one(keys_1: Sequence, keys_2: Sequence, score: np.ndarray) -> FilterResult:
    """The paper's greedy one-to-one: keep the best pair per ``keys_1`` (lb text), then, among those, the
    best pair per ``keys_2`` (other-language text). Ties go to the earlier row (pandas ``rank(method="first")``)."""
    score = np.asarray(score, dtype=np.float64)
    k1 = np.asarray(keys_1, dtype=object)
    k2 = np.asarray(keys_2, dtype=object)
    keep = best_per_group(k1, score)
    idx = np.flatnonzero(keep)
    second = best_per_group(k2[idx], score[idx])
    final = np.zeros(len(score), dtype=bool)
    final[idx[second]] = True
    return FilterResult("one_to_one", final, ONE_TO_ONE, scope="across")


def exact_duplicates(texts_1: Sequence[str], texts_2: Sequence[str], score: np.ndarray) -> FilterResult:
    """Drop repeated (text_1, text_2) pairs, keeping the best-scored (then earliest) occurrence."""
    keys = np.asarray([f"{a}\x00{b}" for a, b in zip(texts_1, texts_2, strict=True)], dtype=object)
    return FilterResult("exact_dedup", best_per_group(keys, score), DUPLICATE_PAIR, scope="across")


normalize_text = match_key  # the earlier name: the leakage comparison key (luxembedder.text.normalize)


class LeakageIndex:
    """Texts that must never appear in mined pairs (benchmark sentences, evaluation data)."""

    def __init__(self, texts: Iterable[str] = (), normalize: bool = True) -> None:
        self.normalize = normalize
        self.sources: list[dict[str, object]] = []
        self._set: set[str] = set()
        self.add(texts, source="<passed in>")

    def _key(self, text: str) -> str:
        return normalize_text(text) if self.normalize else text

    def add(self, texts: Iterable[str], source: str) -> None:
        before = len(self._set)
        n = 0
        for t in texts:
            if isinstance(t, str) and t.strip():
                self._set.add(self._key(t))
                n += 1
        if n:
            self.sources.append({"source": source, "texts": n, "new": len(self._set) - before})

    def add_file(self, path: str | Path, column: str = "text") -> None:
        """Add the texts of a file (one per line for ``.txt``; the ``column`` of any other table format)."""

        path = Path(path)
        if path.suffix.lower() == ".txt":
            texts = path.read_text(encoding="utf-8").splitlines()
        else:
            texts = read_texts(path, column=column, skip_empty=True)
        self.add(texts, source=str(path))

    def __len__(self) -> int:
        return len(self._set)

    def __contains__(self, text: str) -> bool:
        return self._key(text) in self._set

    def filter(self, texts_1: Sequence[str], texts_2: Sequence[str]) -> FilterResult:
        """Drop pairs whose either side is a listed text."""
        keep = np.fromiter(((a not in self) and (b not in self) for a, b in zip(texts_1, texts_2, strict=True)),
                           dtype=bool, count=len(texts_1))
        return FilterResult("leakage", keep, LEAKAGE, scope="run")


def paraphrase_candidates(
    emb: np.ndarray, offsets: np.ndarray, min_cos: float = 0.80, max_cos: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sentence pairs (i < j) inside one article with cosine in [min_cos, max_cos] (paper: [0.80, 0.95]).

    Returns ``(i, j, cos)`` as global sentence indices, ordered by article then (i, j).
    """

    arts = np.flatnonzero(np.diff(offsets) >= 2)
    c = candidate_pairs(emb, offsets, emb, offsets, arts, arts, floor=min_cos)
    keep = (c.src < c.tgt) & (c.cos <= max_cos)
    return c.src[keep], c.tgt[keep], c.cos[keep]


def shared_word_checks(
    texts_1: Sequence[str], texts_2: Sequence[str], max_shared: float = 0.5, min_unshared: int = 8
) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: shared-word fraction < ``max_shared`` on each side; > ``min_unshared`` unshared words on
    each side (case-sensitive whitespace word sets, as the paper's monolingual filter)."""
    shared_ok = np.zeros(len(texts_1), dtype=bool)
    unshared_ok = np.zeros(len(texts_1), dtype=bool)
    for i, (a, b) in enumerate(zip(texts_1, texts_2, strict=True)):
        w1, w2 = _word_set(a, lower=False), _word_set(b, lower=False)
        if not w1 or not w2:
            continue
        inter = len(w1 & w2)
        shared_ok[i] = inter / len(w1) < max_shared and inter / len(w2) < max_shared
        unshared_ok[i] = len(w1) - inter > min_unshared and len(w2) - inter > min_unshared
    return shared_ok, unshared_ok


def paraphrase_steps(
    texts_1: np.ndarray,
    texts_2: np.ndarray,
    cos: np.ndarray,
    length_ratio_max: float = 2.0,
    max_shared: float = 0.5,
    min_unshared: int = 8,
) -> list:
    """The paper's monolingual filters as :func:`apply_in_order` steps, in its order: length ratio < 2,
    no ":", one-to-one on texts, shared-word fraction < 0.5 each side, > 8 unshared words each side."""

    def colon(a: np.ndarray) -> FilterResult:
        ok = np.fromiter(((":" not in x) and (":" not in y) for x, y in zip(texts_1[a], texts_2[a], strict=True)),
                         dtype=bool, count=len(a))
        return FilterResult("colon", ok, "contains-colon")

    def shared(a: np.ndarray) -> FilterResult:
        return FilterResult("shared_words", shared_word_checks(texts_1[a], texts_2[a], max_shared, min_unshared)[0],
                            f"shared-words>={max_shared:g}")

    def unshared(a: np.ndarray) -> FilterResult:
        return FilterResult("unshared_words",
                            shared_word_checks(texts_1[a], texts_2[a], max_shared, min_unshared)[1],
                            f"unshared-words<={min_unshared}")

    return [
        lambda a: length_ratio(texts_1[a], texts_2[a], length_ratio_max),
        colon,
        lambda a: one_to_one(texts_1[a], texts_2[a], cos[a]),
        shared,
        unshared,
    ]


def apply_filters(n: int, steps: list) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, object]]]:
    """Run filters one after the other on the surviving rows.

    ``steps`` are callables ``f(alive_idx) -> FilterResult`` evaluated on the rows still alive (so that
    one-to-one and dedup see only survivors, as in the paper). Returns ``(keep, reason, scope, counts)``:
    per row the reason and scope of the filter that dropped it (``""`` for kept rows).
    """
    alive = np.arange(n)
    reason = np.full(n, "", dtype=object)
    scope = np.full(n, "", dtype=object)
    counts: list[dict[str, object]] = []
    for step in steps:
        if len(alive) == 0:
            break
        res = step(alive)
        dropped = alive[~res.keep]
        reason[dropped] = res.reason if isinstance(res.reason, str) else np.asarray(res.reason)[~res.keep]
        scope[dropped] = res.scope
        counts.append({"filter": res.name, "scope": res.scope, "in": len(alive), "dropped": len(dropped),
                       "out": int(len(alive) - len(dropped))})
        alive = alive[res.keep]
    keep = np.zeros(n, dtype=bool)
    keep[alive] = True
    return keep, reason, scope, counts


def apply_in_order(n: int, steps: list) -> tuple[np.ndarray, np.ndarray, list[dict[str, object]]]:
    """:func:`apply_filters` without the scopes: ``(keep, reason, counts)``."""
    keep, reason, _, counts = apply_filters(n, steps)
    return keep, reason, counts
