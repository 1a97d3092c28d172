"""Article matching within a publication-date window (paper: ``LuxAlign/3-match_articles.py``).

For each source (lb) article the best target article by cosine among the targets published within
±``window_days``; kept when the cosine reaches the threshold; optionally only mutual-best matches and/or a
greedy one-to-one assignment. Vectorised per day bucket: targets are sorted by day once, the queries of
one day are scored against the contiguous slice of their window in a single matrix product.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

logger = logging.getLogger(__name__)


@dataclass
class ArticleMatches:
    """Matched article pairs (indices into the source/target article arrays) with their cosine."""

    src: np.ndarray
    tgt: np.ndarray
    cos: np.ndarray
    counts: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.src.shape[0])

    def above(self, threshold: float) -> ArticleMatches:
        keep = self.cos >= threshold
        return ArticleMatches(self.src[keep], self.tgt[keep], self.cos[keep], dict(self.counts))


def day_slices(query_days: np.ndarray, pool_days_sorted: np.ndarray, window: int) -> tuple[
    np.ndarray, np.ndarray, np.ndarray, np.ndarray
]:
    """Group queries by day and find each day's window in a day-sorted pool.

    Returns ``(query_order, bounds, lo, hi)``: queries of the i-th distinct day are
    ``query_order[bounds[i]:bounds[i+1]]`` and their pool slice is ``[lo[i], hi[i])``.
    """
    query_days = np.asarray(query_days, dtype=np.int64)
    order = np.argsort(query_days, kind="stable")
    sorted_days = query_days[order]
    uniq, starts = np.unique(sorted_days, return_index=True)
    bounds = np.append(starts, len(order)).astype(np.int64)
    lo = np.searchsorted(pool_days_sorted, uniq - window, side="left")
    hi = np.searchsorted(pool_days_sorted, uniq + window, side="right")
    return order, bounds, lo, hi


def best_in_window(
    q_emb: np.ndarray, q_days: np.ndarray, c_emb: np.ndarray, c_days: np.ndarray, window_days: int
) -> tuple[np.ndarray, np.ndarray]:
    """For each query row: the index of the best candidate published within ±window days and its cosine.

    Rows without any candidate get index -1 and cosine -inf. Embeddings must be L2-normalised.
    """
    n = q_emb.shape[0]
    best = np.full(n, -1, dtype=np.int64)
    best_cos = np.full(n, -np.inf, dtype=np.float32)
    if n == 0 or c_emb.shape[0] == 0:
        return best, best_cos
    c_days = np.asarray(c_days, dtype=np.int64)
    if np.all(c_days[1:] >= c_days[:-1]):  # already in day order: window slices are views, no copy
        c_order, c_sorted = np.arange(len(c_days)), c_emb
    else:
        c_order = np.argsort(c_days, kind="stable")
        c_sorted = np.ascontiguousarray(c_emb[c_order], dtype=np.float32)
    order, bounds, lo, hi = day_slices(q_days, c_days[c_order], window_days)
    for i in range(len(lo)):
        if hi[i] <= lo[i]:
            continue
        rows = order[bounds[i] : bounds[i + 1]]
        sims = np.asarray(q_emb[rows] @ c_sorted[lo[i] : hi[i]].T, dtype=np.float32)
        arg = np.argmax(sims, axis=1)
        best[rows] = c_order[lo[i] + arg]
        best_cos[rows] = sims[np.arange(len(rows)), arg]
    return best, best_cos


def greedy_one_to_one(src: np.ndarray, tgt: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Keep-mask of a greedy one-to-one assignment by decreasing score (ties: earlier row first).

    Equivalent to visiting pairs by decreasing score and keeping a pair when neither side is taken; computed
    in rounds of locally dominant pairs (best for both of its ends among the remaining pairs).
    """
    n = len(score)
    keep = np.zeros(n, dtype=bool)
    if n == 0:
        return keep
    # rank: 0 = best (highest score, then earliest row): strict total order makes "dominant" well defined
    order = np.lexsort((np.arange(n), -np.asarray(score, dtype=np.float64)))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    _, s_key = np.unique(src, return_inverse=True)
    _, t_key = np.unique(tgt, return_inverse=True)
    alive = np.ones(n, dtype=bool)
    big = np.iinfo(np.int64).max
    while alive.any():
        r = np.where(alive, rank, big)
        best_s = np.full(s_key.max() + 1, big, dtype=np.int64)
        np.minimum.at(best_s, s_key, r)
        best_t = np.full(t_key.max() + 1, big, dtype=np.int64)
        np.minimum.at(best_t, t_key, r)
        dom = alive & (best_s[s_key] == rank) & (best_t[t_key] == rank)
        keep |= dom
        used_s = np.zeros(best_s.shape[0], dtype=bool)
        used_s[s_key[dom]] = True
        used_t = np.zeros(best_t.shape[0], dtype=bool)
        used_t[t_key[dom]] = True
        alive &= ~(used_s[s_key] | used_t[t_key])
    return keep


def match_articles(
    src_emb: np.ndarray,
    src_days: np.ndarray,
    tgt_emb: np.ndarray,
    tgt_days: np.ndarray,
    window_days: int = 1,
    threshold: float = 0.50,
    mutual_best: bool = False,
    one_to_one: bool = False,
) -> ArticleMatches:
    """Best target per source article within ±``window_days``; see the module docstring.

    Days are integers (e.g. ``date.toordinal()``). ``counts`` records the articles at each step.
    """
    best, cos = best_in_window(src_emb, src_days, tgt_emb, tgt_days, window_days)
    has = best >= 0
    keep = has & (cos >= threshold)
    counts = {"source_articles": len(best), "with_candidates": int(has.sum()),
              "above_threshold": int(keep.sum())}
    src = np.flatnonzero(keep)
    tgt = best[keep]
    mcos = cos[keep]
    if mutual_best and len(src):
        back, _ = best_in_window(tgt_emb, tgt_days, src_emb, src_days, window_days)
        mutual = back[tgt] == src
        src, tgt, mcos = src[mutual], tgt[mutual], mcos[mutual]
        counts["mutual_best"] = len(src)
    if one_to_one and len(src):
        k = greedy_one_to_one(src, tgt, mcos)
        src, tgt, mcos = src[k], tgt[k], mcos[k]
        counts["one_to_one"] = len(src)
    counts["matches"] = len(src)
    logger.debug("article matching: %s", counts)
    return ArticleMatches(src.astype(np.int64), tgt.astype(np.int64), mcos.astype(np.float32), counts)
