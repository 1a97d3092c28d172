"""Sentence-pair candidates inside matched article pairs, their scores, and the accept decision.

Scores and decisions are separate (as in OpusFilter): :func:`score_candidates` gives every candidate its
cosine and its ratio margin (Artetxe & Schwenk 2019); a :class:`PairScorer` (``CosineScorer`` or
``MarginScorer``) only decides, from those stored scores, which candidates are accepted, so a threshold can
be changed without recomputing anything.

Margin: ``margin(x, y) = cos(x, y) / ((knn(x) + knn(y)) / 2)`` where ``knn(x)`` is the mean cosine of x's
k nearest neighbours in the pool of the other language. The pool is either every sentence of the
±N-day window in the other language (``window``, the meaningful pool for comparable news) or the
sentences of the article pair itself (``article``). Window pools are searched with FAISS (exact
``IndexFlatIP`` by default, ``IndexIVFFlat`` optionally).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from luxembedder.mining.matching import day_slices, greedy_one_to_one

logger = logging.getLogger(__name__)


@dataclass
class Candidates:
    """Scored sentence-pair candidates (indices into the source/target sentence arrays).

    ``pair`` is the index of the article pair the candidate comes from. Rows are ordered by article pair,
    then source sentence, then target sentence (the order of the authors' nested loops).
    """

    pair: np.ndarray
    src: np.ndarray
    tgt: np.ndarray
    cos: np.ndarray
    knn_src: np.ndarray
    knn_tgt: np.ndarray

    def __len__(self) -> int:
        return int(self.src.shape[0])

    @property
    def margin(self) -> np.ndarray:
        denom = (self.knn_src + self.knn_tgt) / 2.0
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(denom != 0, self.cos / denom, np.nan).astype(np.float32)

    def take(self, mask_or_idx: np.ndarray) -> Candidates:
        return Candidates(*(getattr(self, f)[mask_or_idx] for f in
                            ("pair", "src", "tgt", "cos", "knn_src", "knn_tgt")))

    @classmethod
    def empty(cls) -> Candidates:
        i = np.zeros(0, dtype=np.int64)
        f = np.zeros(0, dtype=np.float32)
        return cls(i, i.copy(), i.copy(), f, f.copy(), f.copy())


def _topk_mean(sims: np.ndarray, k: int, axis: int) -> np.ndarray:
    """Mean of the k largest values along an axis (k clipped to the axis length; -inf entries ignored)."""
    n = sims.shape[axis]
    if n == 0:
        return np.full(sims.shape[:axis] + sims.shape[axis + 1 :], np.nan, dtype=np.float32)
    kk = min(k, n)
    part = -np.partition(-sims, kk - 1, axis=axis)
    top = np.take(part, np.arange(kk), axis=axis)
    finite = np.isfinite(top)
    total = np.where(finite, top, 0.0).sum(axis=axis)
    cnt = finite.sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, total / np.maximum(cnt, 1), np.nan).astype(np.float32)


def candidate_pairs(
    src_emb: np.ndarray,
    src_offsets: np.ndarray,
    tgt_emb: np.ndarray,
    tgt_offsets: np.ndarray,
    pair_src_article: np.ndarray,
    pair_tgt_article: np.ndarray,
    floor: float | None = None,
    k: int = 4,
    batch_elements: int = 1 << 24,
    knn: bool = True,
) -> Candidates:
    """All sentence pairs of every article pair, scored by cosine, with in-article kNN means.

    Sentences of article ``a`` are rows ``offsets[a]:offsets[a+1]`` of the embedding matrix. Article pairs
    of similar sizes are batched into one padded ``(B, ms, d) @ (B, d, mt)`` product of at most
    ``batch_elements`` similarity (and gathered embedding) entries. ``knn_src``/``knn_tgt`` hold the in-article-pair kNN means (the
    ``article`` neighbour pool; NaN when ``knn=False``); ``floor`` keeps only candidates with cosine ≥ floor.
    """
    a_s = np.asarray(pair_src_article, dtype=np.int64)
    a_t = np.asarray(pair_tgt_article, dtype=np.int64)
    ns = (src_offsets[a_s + 1] - src_offsets[a_s]).astype(np.int64)
    nt = (tgt_offsets[a_t + 1] - tgt_offsets[a_t]).astype(np.int64)
    valid = np.flatnonzero((ns > 0) & (nt > 0))
    if len(valid) == 0:
        return Candidates.empty()
    order = valid[np.lexsort((nt[valid], ns[valid]))]
    dim = int(src_emb.shape[1])
    parts: list[tuple[np.ndarray, ...]] = []
    start = 0
    while start < len(order):
        # grow the batch while the padded similarity block stays under the budget (sizes are sorted by ns)
        ms = int(ns[order[start]])
        end = start + 1
        mt = int(nt[order[start]])
        while end < len(order):
            ms2 = max(ms, int(ns[order[end]]))
            mt2 = max(mt, int(nt[order[end]]))
            if (end - start + 1) * max(ms2 * mt2, (ms2 + mt2) * dim) > batch_elements:
                break
            ms, mt, end = ms2, mt2, end + 1
        idx = order[start:end]
        parts.append(_score_batch(src_emb, src_offsets, tgt_emb, tgt_offsets, idx, a_s, a_t, ns, nt, ms, mt,
                                  floor, k, knn))
        start = end
    pair, src, tgt, cos, ks, kt = (np.concatenate(x) for x in zip(*parts, strict=True))
    srt = np.lexsort((tgt, src, pair))
    return Candidates(pair[srt], src[srt], tgt[srt], cos[srt], ks[srt], kt[srt])


def _score_batch(src_emb, src_offsets, tgt_emb, tgt_offsets, idx, a_s, a_t, ns, nt, ms, mt, floor, k, knn):
    import torch

    i_ar = np.arange(ms)
    j_ar = np.arange(mt)
    s_rows = src_offsets[a_s[idx]][:, None] + i_ar[None, :]
    t_rows = tgt_offsets[a_t[idx]][:, None] + j_ar[None, :]
    s_valid = i_ar[None, :] < ns[idx][:, None]
    t_valid = j_ar[None, :] < nt[idx][:, None]
    S = torch.from_numpy(np.ascontiguousarray(src_emb[np.where(s_valid, s_rows, 0)], dtype=np.float32))
    T = torch.from_numpy(np.ascontiguousarray(tgt_emb[np.where(t_valid, t_rows, 0)], dtype=np.float32))
    sims_t = torch.bmm(S, T.transpose(1, 2))  # batched GEMM: one BLAS call per batch, not per article pair
    valid = s_valid[:, :, None] & t_valid[:, None, :]
    sims_t.masked_fill_(torch.from_numpy(~valid), float("-inf"))
    sims = sims_t.numpy()
    keep = valid if floor is None else valid & (sims >= floor)
    bb, ii, jj = np.nonzero(keep)
    if knn:
        row_knn = _topk_mean_t(sims_t, k, dim=2)[bb, ii]
        col_knn = _topk_mean_t(sims_t, k, dim=1)[bb, jj]
    else:
        row_knn = col_knn = np.full(len(bb), np.nan, dtype=np.float32)
    return (idx[bb], s_rows[bb, ii], t_rows[bb, jj], sims[bb, ii, jj], row_knn, col_knn)


def _topk_mean_t(sims, k: int, dim: int) -> np.ndarray:
    """Mean of the k largest finite values along ``dim`` of a torch tensor (padding is -inf)."""
    import torch

    kk = min(k, sims.shape[dim])
    top = torch.topk(sims, kk, dim=dim).values
    finite = torch.isfinite(top)
    total = torch.where(finite, top, torch.zeros((), dtype=top.dtype)).sum(dim=dim, dtype=torch.float64)
    cnt = finite.sum(dim=dim)
    out = (total / cnt.clamp(min=1)).to(torch.float32).numpy()
    out[cnt.numpy() == 0] = np.nan
    return out


def knn_mean_window(
    q_emb: np.ndarray,
    q_days: np.ndarray,
    pool_emb: np.ndarray,
    pool_days: np.ndarray,
    window_days: int,
    k: int = 4,
    index: Literal["flat", "ivf", "numpy"] = "flat",
    ivf_nlist: int = 1024,
    ivf_nprobe: int = 16,
    q_index: np.ndarray | None = None,
) -> np.ndarray:
    """Mean cosine of each query's k nearest pool vectors published within ±window days (NaN: empty pool).

    ``q_index`` selects the query rows of ``q_emb`` (gathered one day at a time, so a memory-mapped matrix
    is never copied whole); ``q_days`` is then per selected query. A day-sorted pool is used in place.

    ``flat`` uses FAISS ``IndexFlatIP`` (exact); ``ivf`` uses ``IndexIVFFlat`` when a window's pool has at
    least 39 × nlist vectors (FAISS's training minimum), exact search otherwise; ``numpy`` is the
    brute-force reference (matrix product + partition).
    """
    n = q_emb.shape[0] if q_index is None else len(q_index)
    out = np.full(n, np.nan, dtype=np.float32)
    if n == 0 or pool_emb.shape[0] == 0:
        return out
    pool_days = np.asarray(pool_days, dtype=np.int64)
    if np.all(pool_days[1:] >= pool_days[:-1]):
        p_order, p_sorted = np.arange(len(pool_days)), pool_emb
    else:
        p_order = np.argsort(pool_days, kind="stable")
        p_sorted = np.ascontiguousarray(pool_emb[p_order], dtype=np.float32)
    order, bounds, lo, hi = day_slices(q_days, pool_days[p_order], window_days)
    for i in range(len(lo)):
        if hi[i] <= lo[i]:
            continue
        rows = order[bounds[i] : bounds[i + 1]]
        q = np.ascontiguousarray(q_emb[rows if q_index is None else q_index[rows]], dtype=np.float32)
        pool = np.ascontiguousarray(p_sorted[lo[i] : hi[i]], dtype=np.float32)
        kk = min(k, pool.shape[0])
        if index == "numpy":
            sims = q @ pool.T
            top = -np.partition(-sims, kk - 1, axis=1)[:, :kk]
        else:
            top = _faiss_search(q, pool, kk, index, ivf_nlist, ivf_nprobe)
        out[rows] = top.mean(axis=1, dtype=np.float64).astype(np.float32)
    return out


def _faiss_search(q: np.ndarray, pool: np.ndarray, k: int, index: str, nlist: int, nprobe: int) -> np.ndarray:
    import faiss

    d = pool.shape[1]
    if index == "ivf" and pool.shape[0] >= 39 * nlist:
        quant = faiss.IndexFlatIP(d)
        idx = faiss.IndexIVFFlat(quant, d, nlist, faiss.METRIC_INNER_PRODUCT)
        idx.train(pool)
        idx.add(pool)
        idx.nprobe = nprobe
    else:
        idx = faiss.IndexFlatIP(d)
        idx.add(pool)
    dist, _ = idx.search(q, k)
    return dist


def window_knn_for_candidates(
    cands: Candidates,
    src_emb: np.ndarray,
    src_days: np.ndarray,
    tgt_emb: np.ndarray,
    tgt_days: np.ndarray,
    window_days: int,
    k: int = 4,
    index: Literal["flat", "ivf", "numpy"] = "flat",
    ivf_nlist: int = 1024,
    ivf_nprobe: int = 16,
) -> Candidates:
    """Replace the kNN means by the window pool's (only for the sentences that occur in a candidate).

    ``src_days``/``tgt_days`` are per sentence (the publication day of its article).
    """
    if len(cands) == 0:
        return cands
    us, inv_s = np.unique(cands.src, return_inverse=True)
    ut, inv_t = np.unique(cands.tgt, return_inverse=True)
    ks = knn_mean_window(src_emb, src_days[us], tgt_emb, tgt_days, window_days, k, index, ivf_nlist,
                         ivf_nprobe, q_index=us)
    kt = knn_mean_window(tgt_emb, tgt_days[ut], src_emb, src_days, window_days, k, index, ivf_nlist,
                         ivf_nprobe, q_index=ut)
    return Candidates(cands.pair, cands.src, cands.tgt, cands.cos, ks[inv_s], kt[inv_t])


# ------------------------------------------------------------------------------------------ decisions

def best_per_group(keys: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Mask of the best-scored row of each key (ties: the earliest row)."""
    n = len(score)
    mask = np.zeros(n, dtype=bool)
    if n == 0:
        return mask
    order = np.lexsort((np.arange(n), -np.nan_to_num(np.asarray(score, dtype=np.float64), nan=-np.inf)))
    _, first = np.unique(np.asarray(keys)[order], return_index=True)
    mask[order[first]] = True
    return mask


def retrieval_mask(
    src: np.ndarray, tgt: np.ndarray, score: np.ndarray, mode: Literal["forward", "backward", "max", "intersection"]
) -> np.ndarray:
    """LASER retrieval modes over candidates: forward (best target per source), backward (best source per
    target), intersection (both), max (union, then greedy one-to-one by score)."""
    fwd = best_per_group(src, score)
    bwd = best_per_group(tgt, score)
    if mode == "forward":
        return fwd
    if mode == "backward":
        return bwd
    if mode == "intersection":
        return fwd & bwd
    union = np.flatnonzero(fwd | bwd)
    keep = np.zeros(len(score), dtype=bool)
    s = np.nan_to_num(np.asarray(score, dtype=np.float64)[union], nan=-np.inf)
    keep[union[greedy_one_to_one(src[union], tgt[union], s)]] = True
    return keep


@dataclass
class Decision:
    """An accept mask and the reason recorded for each rejected row."""

    keep: np.ndarray
    reason: np.ndarray  # object array of strings, "" where kept


class PairScorer(Protocol):
    """Decides which scored candidates are accepted; never recomputes scores."""

    name: str

    def accept(self, cands: Candidates) -> Decision: ...


def _decision(keep: np.ndarray, fails: list[tuple[np.ndarray, str]]) -> Decision:
    reason = np.full(len(keep), "", dtype=object)
    for fail, text in reversed(fails):  # the first failing test names the reason
        reason[fail] = text
    reason[keep] = ""
    return Decision(keep, reason)


@dataclass
class CosineScorer:
    """Paper parity: every candidate with cosine ≥ threshold (paper: 0.70)."""

    threshold: float = 0.70
    name: str = "cosine"

    def accept(self, cands: Candidates) -> Decision:
        ok = cands.cos >= self.threshold
        return _decision(ok, [(~ok, f"cosine<{self.threshold:g}")])


@dataclass
class MarginScorer:
    """Ratio margin with a retrieval mode and a threshold (plus an optional cosine floor)."""

    threshold: float = 1.06
    mode: Literal["forward", "backward", "max", "intersection"] = "max"
    min_cosine: float = 0.0
    name: str = "margin"

    def accept(self, cands: Candidates) -> Decision:
        m = cands.margin
        retrieved = retrieval_mask(cands.src, cands.tgt, m, self.mode)
        above = np.nan_to_num(m, nan=-np.inf) >= self.threshold
        cos_ok = cands.cos >= self.min_cosine
        keep = retrieved & above & cos_ok
        return _decision(keep, [(~retrieved, f"not-{self.mode}-best"), (~above, f"margin<{self.threshold:g}"),
                                (~cos_ok, f"cosine<{self.min_cosine:g}")])


def make_scorer(cfg) -> PairScorer:  # cfg: ScoringConfig
    """The scorer named by a :class:`~luxembedder.mining.config.ScoringConfig`."""
    if cfg.method == "cosine":
        return CosineScorer(threshold=cfg.cosine_threshold)
    return MarginScorer(threshold=cfg.margin_threshold, mode=cfg.margin_mode, min_cosine=cfg.margin_min_cosine)
