"""Sentence-pair candidates inside matched article pairs, their scores, and the accept decision.

Scores and decisions are separate (as in OpusFilter): :func:`score_candidates` gives every candidate its
cosine and its ratio margin (Artetxe & Schwenk 2019); a :class:`PairScorer` (``CosineScorer`` or
``MarginScorer``) only decides, from those stored scores, which candidates are accepted, so a threshold can
be changed without recomputing anything.

Margin: ``margin(x, y) = cos(x, y) / ((knn(x) + knn(y)) / 2)`` where ``knn(x)`` is the mean cosine of x's
k nearest neighbours in the pool of the other language. The pool is either every sentence of the
±N-day window in the other language (``window``, the meaningful pool for comparable news) or the
sentences of the article pair itself (``article``). Window pools are searched exactly by blocked matrix
products per publication day, each (source day × target window) block serving both directions
(``matmul``, the default), or with FAISS (exact ``IndexFlatIP``, approximate ``IndexIVFFlat``).
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


def _threads(threads: int | None):
    """Context capping the BLAS/OpenMP pools and torch's intra-op threads (``None``: leave them as they are)."""
    import contextlib

    if threads is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    @contextlib.contextmanager
    def limited():
        import sys

        torch = sys.modules.get("torch")  # not imported here just for this (a Ray worker may never need it)
        before = torch.get_num_threads() if torch is not None else None
        if torch is not None:
            torch.set_num_threads(int(threads))
        try:
            with threadpool_limits(limits=int(threads)):
                yield
        finally:
            if torch is not None:
                torch.set_num_threads(before)

    return limited()


def _as_f32(x: np.ndarray) -> np.ndarray:
    """``x`` itself when already float32 (a memory-mapped matrix stays mapped), else a float32 copy."""
    return x if x.dtype == np.float32 else np.asarray(x, dtype=np.float32)


def candidate_pairs(
    src_emb: np.ndarray,
    src_offsets: np.ndarray,
    tgt_emb: np.ndarray,
    tgt_offsets: np.ndarray,
    pair_src_article: np.ndarray,
    pair_tgt_article: np.ndarray,
    floor: float | None = None,
    k: int = 4,
    batch_elements: int = 1 << 20,
    knn: bool = True,
    threads: int | None = None,
) -> Candidates:
    """All sentence pairs of every article pair, scored by cosine, with in-article kNN means.

    Sentences of article ``a`` are rows ``offsets[a]:offsets[a+1]`` of the embedding matrix (which may be
    memory-mapped: rows are read in place, never gathered). The similarity blocks of consecutive article
    pairs are written, row-major, into one flat float32 buffer of about ``batch_elements`` entries (one
    BLAS call per article pair, no padding), so the buffer is already in output order; thresholding,
    index arithmetic and the kNN means are vectorised over the buffer. Without a ``floor`` the outputs are
    preallocated and the buffer is the output's cosine column itself.

    ``knn_src``/``knn_tgt`` hold the in-article-pair kNN means (the ``article`` neighbour pool; NaN when
    ``knn=False``); ``floor`` keeps only candidates with cosine ≥ floor. Each product runs on one BLAS
    thread (threading such small products only adds synchronisation; under CPU contention it was ~100×
    slower); ``threads`` > 1 scores that many chunks at once in a thread pool instead.
    """
    a_s = np.asarray(pair_src_article, dtype=np.int64)
    a_t = np.asarray(pair_tgt_article, dtype=np.int64)
    src_offsets = np.asarray(src_offsets, dtype=np.int64)
    tgt_offsets = np.asarray(tgt_offsets, dtype=np.int64)
    ns = src_offsets[a_s + 1] - src_offsets[a_s]
    nt = tgt_offsets[a_t + 1] - tgt_offsets[a_t]
    sizes = ns * nt
    pos = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    total = int(pos[-1])
    if total == 0:
        return Candidates.empty()
    se, te = _as_f32(src_emb), _as_f32(tgt_emb)
    # chunks of consecutive article pairs holding about batch_elements similarities each
    starts = np.unique(np.searchsorted(pos[1:], np.arange(0, total, max(1, int(batch_elements))), side="right"))
    bounds = np.append(starts, len(a_s))
    out: Candidates | None = None
    if floor is None:  # every pair is a candidate: preallocate, write the similarities in place
        knn_s = np.full(total, np.nan, dtype=np.float32)
        knn_t = np.full(total, np.nan, dtype=np.float32) if knn else knn_s  # all-NaN columns share memory
        out = Candidates(np.repeat(np.arange(len(a_s), dtype=np.int64), sizes), np.empty(total, np.int64),
                         np.empty(total, np.int64), np.empty(total, np.float32), knn_s, knn_t)
    def chunk(c: int) -> Candidates | None:
        p0, p1 = int(bounds[c]), int(bounds[c + 1])
        lo, hi = int(pos[p0]), int(pos[p1])
        if hi == lo:
            return None
        buf = out.cos[lo:hi] if out is not None else np.empty(hi - lo, dtype=np.float32)
        _fill_sims(buf, se, src_offsets, te, tgt_offsets, a_s, a_t, pos, p0, p1)
        flat = np.arange(hi - lo, dtype=np.int64) if floor is None else np.flatnonzero(buf >= floor)
        pp = np.searchsorted(pos[p0 + 1 : p1 + 1], flat + lo, side="right") + p0
        r = flat + lo - pos[pp]
        i, j = r // nt[pp], r % nt[pp]
        src = src_offsets[a_s[pp]] + i
        tgt = tgt_offsets[a_t[pp]] + j
        if knn:
            row_knn, col_knn = _block_knn(buf, pos[p0:p1 + 1] - lo, ns[p0:p1], nt[p0:p1], k)
            rk = row_knn[i + (np.cumsum(ns[p0:p1]) - ns[p0:p1])[pp - p0]]
            ck = col_knn[j + (np.cumsum(nt[p0:p1]) - nt[p0:p1])[pp - p0]]
        if out is not None:
            out.src[lo:hi], out.tgt[lo:hi] = src, tgt
            if knn:
                out.knn_src[lo:hi], out.knn_tgt[lo:hi] = rk, ck
            return None
        nanf = np.full(len(flat), np.nan, dtype=np.float32)
        return Candidates(pp, src, tgt, buf[flat], rk if knn else nanf, ck if knn else nanf)

    n_chunks = len(bounds) - 1
    with _threads(1):  # one BLAS thread per product: threading tiny GEMMs only adds synchronisation
        if threads is not None and threads > 1 and n_chunks > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(int(threads)) as ex:  # chunks in parallel (BLAS releases the GIL)
                parts = [p for p in ex.map(chunk, range(n_chunks)) if p is not None]
        else:
            parts = [p for p in map(chunk, range(n_chunks)) if p is not None]
    if out is not None:
        return out
    if not parts:
        return Candidates.empty()
    return Candidates(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                        ("pair", "src", "tgt", "cos", "knn_src", "knn_tgt")))


def _fill_sims(buf, se, so, te, to, a_s, a_t, pos, p0, p1) -> None:
    """Row-major similarity block of each article pair p0..p1-1 into ``buf`` (one GEMM per pair, in place).

    A loop over blocks, not rows: each iteration is one BLAS call on views of the (mapped) embeddings. These
    bits are the reference (``tests/mining/test_similarity_bits.py``): OpenBLAS picks its kernel, and so the
    last bits of a cosine, by block shape, so cutting blocks out of larger products changes most cosines;
    stacking blocks of equal padded shape keeps the bits but must copy the rows first, which is slower on
    this memory-bound step (``docs/performance.md``, similarity step).
    """
    s0, s1 = so[a_s[p0:p1]].tolist(), so[a_s[p0:p1] + 1].tolist()
    t0, t1 = to[a_t[p0:p1]].tolist(), to[a_t[p0:p1] + 1].tolist()
    b = (pos[p0:p1 + 1] - pos[p0]).tolist()
    for q in range(p1 - p0):
        if b[q + 1] > b[q]:
            np.matmul(se[s0[q]:s1[q]], te[t0[q]:t1[q]].T, out=buf[b[q]:b[q + 1]].reshape(s1[q] - s0[q], -1))


def _block_knn(buf: np.ndarray, bpos: np.ndarray, ns: np.ndarray, nt: np.ndarray, k: int):
    """Top-k means of every row and every column of the row-major blocks stored flat in ``buf``.

    Returns ``(row_knn, col_knn)``, rows and columns numbered block after block (see :func:`_segment_knn`).
    """
    blk = np.repeat(np.arange(len(ns)), ns * nt)
    r = np.arange(len(buf), dtype=np.int64) - bpos[blk]
    i, j = r // nt[blk], r % nt[blk]
    row_base = np.cumsum(ns) - ns
    col_base = np.cumsum(nt) - nt
    rows = _segment_knn(buf, row_base[blk] + i, j, np.repeat(nt, ns), k)
    cols = _segment_knn(buf, col_base[blk] + j, i, np.repeat(ns, nt), k)
    return rows, cols


def _segment_knn(vals: np.ndarray, seg: np.ndarray, at: np.ndarray, seg_len: np.ndarray, k: int) -> np.ndarray:
    """Mean of the k largest values of each segment (value ``vals[e]`` sits at ``at[e]`` in segment
    ``seg[e]``). Segments are padded with -inf to the next power of two of their length and each width
    class goes through one ``topk`` call, so padding at most doubles the work whatever the length mix."""
    import torch

    out = np.full(len(seg_len), np.nan, dtype=np.float32)
    width = np.left_shift(1, np.ceil(np.log2(np.maximum(seg_len, 1))).astype(np.int64))
    cls_of_elem = width[seg]
    order = np.argsort(cls_of_elem, kind="stable")
    classes, starts = np.unique(cls_of_elem[order], return_index=True)
    ends = np.append(starts[1:], len(order))
    local = np.full(len(seg_len), -1, dtype=np.int64)
    for w, e0, e1 in zip(classes.tolist(), starts.tolist(), ends.tolist(), strict=True):
        segs = np.flatnonzero(width == w)
        local[segs] = np.arange(len(segs))
        el = order[e0:e1]
        pad = np.full((len(segs), w), -np.inf, dtype=np.float32)
        pad[local[seg[el]], at[el]] = vals[el]
        out[segs] = _topk_mean_t(torch.from_numpy(pad), k, dim=1)
    return out


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


def _day_layout(days: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """``(order, sorted_days)``; ``order`` is None when the rows are already in day order (used in place)."""
    days = np.asarray(days, dtype=np.int64)
    if np.all(days[1:] >= days[:-1]):
        return None, days
    order = np.argsort(days, kind="stable")
    return order, days[order]


def _day_rows(emb: np.ndarray, order: np.ndarray | None, lo: int, hi: int) -> np.ndarray:
    """Rows ``lo:hi`` in day order: a view of a day-sorted (possibly memory-mapped) matrix, else a gather."""
    return emb[lo:hi] if order is None else emb[order[lo:hi]]


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
    is never copied whole); ``q_days`` is then per selected query. A day-sorted pool is read in place, an
    unsorted one gathered one window at a time.

    ``flat`` uses FAISS ``IndexFlatIP`` (exact); ``ivf`` uses ``IndexIVFFlat`` when a window's pool has at
    least 39 × nlist vectors (FAISS's training minimum), exact search otherwise; ``numpy`` is the
    brute-force reference (matrix product + partition).
    """
    n = q_emb.shape[0] if q_index is None else len(q_index)
    out = np.full(n, np.nan, dtype=np.float32)
    if n == 0 or pool_emb.shape[0] == 0:
        return out
    p_order, p_sd = _day_layout(pool_days)
    order, bounds, lo, hi = day_slices(q_days, p_sd, window_days)
    for i in range(len(lo)):
        if hi[i] <= lo[i]:
            continue
        rows = order[bounds[i] : bounds[i + 1]]
        q = np.ascontiguousarray(q_emb[rows if q_index is None else q_index[rows]], dtype=np.float32)
        pool = np.ascontiguousarray(_day_rows(pool_emb, p_order, int(lo[i]), int(hi[i])), dtype=np.float32)
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


def window_knn_means(
    src_emb: np.ndarray,
    src_days: np.ndarray,
    tgt_emb: np.ndarray,
    tgt_days: np.ndarray,
    window_days: int,
    k: int = 4,
    need_src: np.ndarray | None = None,
    need_tgt: np.ndarray | None = None,
    block_elements: int = 1 << 23,
    threads: int | None = None,
    plan: Literal["shared", "separate"] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact window kNN means for both languages: ``(knn_src, knn_tgt)``, one value per sentence.

    ``knn_src[i]`` is the mean cosine of source sentence i's k nearest target sentences published within
    ±``window_days`` of it (and vice versa; NaN for an empty pool or a sentence not asked for). ``need_*``
    are boolean masks of the sentences whose value is wanted (default: all).

    Blocked matrix products plus ``topk``: when most sentences are wanted, each (source day × target
    window) similarity block is computed once and serves both directions (row top-k for the source
    sentences, column top-k merged into a running top-k per target sentence), half the work of two
    separate searches; otherwise each direction searches only its wanted sentences. Day-sorted (e.g.
    memory-mapped) matrices are read in place; blocks hold at most about ``block_elements`` similarities.
    ``plan`` forces one of the two (default: :func:`window_plan`'s choice); a date shard of a larger run
    passes the plan of the whole run so that every value is computed by the same products.
    """
    src_emb, tgt_emb = _as_f32(src_emb), _as_f32(tgt_emb)
    n_s, n_t = src_emb.shape[0], tgt_emb.shape[0]
    need_s = np.ones(n_s, dtype=bool) if need_src is None else np.asarray(need_src, dtype=bool)
    need_t = np.ones(n_t, dtype=bool) if need_tgt is None else np.asarray(need_tgt, dtype=bool)
    out_s = np.full(n_s, np.nan, dtype=np.float32)
    out_t = np.full(n_t, np.nan, dtype=np.float32)
    if n_s == 0 or n_t == 0 or not (need_s.any() or need_t.any()):
        return out_s, out_t
    s_order, s_sd = _day_layout(src_days)
    t_order, t_sd = _day_layout(tgt_days)
    ns_sorted = need_s if s_order is None else need_s[s_order]
    nt_sorted = need_t if t_order is None else need_t[t_order]
    plan = plan or window_plan(src_days, tgt_days, window_days, need_s, need_t)
    with _threads(threads):
        if plan == "shared":
            ks, kt = _window_topk(src_emb, s_order, s_sd, None, tgt_emb, t_order, t_sd, window_days, k,
                                  block_elements, both=True)
        else:
            ks, _ = _window_topk(src_emb, s_order, s_sd, ns_sorted, tgt_emb, t_order, t_sd, window_days, k,
                                 block_elements, both=False)
            kt, _ = _window_topk(tgt_emb, t_order, t_sd, nt_sorted, src_emb, s_order, s_sd, window_days, k,
                                 block_elements, both=False)
    if s_order is None:
        out_s[:] = ks
    else:
        out_s[s_order] = ks
    if t_order is None:
        out_t[:] = kt
    else:
        out_t[t_order] = kt
    out_s[~need_s] = np.nan
    out_t[~need_t] = np.nan
    return out_s, out_t


def window_plan(src_days: np.ndarray, tgt_days: np.ndarray, window_days: int, need_src: np.ndarray,
                need_tgt: np.ndarray) -> Literal["shared", "separate"]:
    """``shared`` (one product per source day serves both directions) when it computes no more
    similarities than two separate searches of only the wanted sentences, else ``separate``."""
    s_order, s_sd = _day_layout(src_days)
    t_order, t_sd = _day_layout(tgt_days)
    need_s = np.asarray(need_src, dtype=bool)
    need_t = np.asarray(need_tgt, dtype=bool)
    # work of each plan, in similarity entries: window sizes seen from every source / target sentence
    w_of_s = np.searchsorted(t_sd, s_sd + window_days, "right") - np.searchsorted(t_sd, s_sd - window_days, "left")
    w_of_t = np.searchsorted(s_sd, t_sd + window_days, "right") - np.searchsorted(s_sd, t_sd - window_days, "left")
    ns_sorted = need_s if s_order is None else need_s[s_order]
    nt_sorted = need_t if t_order is None else need_t[t_order]
    shared = int(w_of_s.sum())
    separate = int(w_of_s[ns_sorted].sum()) + int(w_of_t[nt_sorted].sum())
    return "shared" if shared <= separate else "separate"


def _window_topk(q_emb, q_order, q_sd, q_need, p_emb, p_order, p_sd, window, k, block_elements, both):
    """Row top-k means of day-ordered queries against their ±window pool slice (and, with ``both``, the
    pool rows' top-k means against the queries, accumulated block after block). Results in day order.

    The selection runs in FAISS's k-heaps (``HeapArray.addn``: a threshold test per value, far cheaper
    than a sort or ``topk`` on every block); a running heap per pool row merges the blocks. Memory beyond
    the rows read: one similarity block (at most about ``block_elements`` values), one gathered pool
    (an unsorted pool only) and a small transposed slice (:func:`_add_columns`) at a time."""
    n_q, n_p = len(q_sd), len(p_sd)
    row_knn = np.full(n_q, np.nan, dtype=np.float32)
    col = _KHeaps(n_p, k) if both else None
    days, starts = np.unique(q_sd, return_index=True)
    ends = np.append(starts[1:], n_q)
    lo = np.searchsorted(p_sd, days - window, "left")
    hi = np.searchsorted(p_sd, days + window, "right")
    for d in range(len(days)):
        p0, p1 = int(lo[d]), int(hi[d])
        if p1 <= p0:
            continue
        rows = np.arange(starts[d], ends[d]) if q_need is None else starts[d] + np.flatnonzero(
            q_need[starts[d]:ends[d]])
        if len(rows) == 0:
            continue
        pool = _day_rows(p_emb, p_order, p0, p1)
        step = max(1, block_elements // (p1 - p0))
        for r0 in range(0, len(rows), step):
            r = rows[r0:r0 + step]
            q = q_emb[r[0]:r[-1] + 1] if q_order is None and r[-1] - r[0] + 1 == len(r) else \
                q_emb[r if q_order is None else q_order[r]]
            sims = np.matmul(q, pool.T)  # (len(r), p1 - p0), C-contiguous float32
            heaps = _KHeaps(len(r), k)
            heaps.add(sims, 0)
            row_knn[r] = heaps.mean()
            if col is not None:
                _add_columns(col, sims, p0)
            del sims, q  # before the next block is allocated: one block alive at a time
        del pool  # likewise the next day's pool (a gathered copy when the pool is not day-sorted)
    return row_knn, (col.mean() if col is not None else None)


COLUMN_SLICE_ELEMENTS = 1 << 18
"""Similarities per transposed slice fed to the column heaps (1 MiB of float32)."""


def _add_columns(heaps: _KHeaps, sims: np.ndarray, first: int) -> None:
    """Offer column j of ``sims`` to heap ``first + j``.

    Through transposed slices of about :data:`COLUMN_SLICE_ELEMENTS` values: a transposed copy of the
    whole block would double the block's memory (the largest temporary of a scoring worker). Each heap
    is offered the same values in the same order as from one transposed block, so the means are the same
    bits."""
    n, m = sims.shape
    width = max(1, COLUMN_SLICE_ELEMENTS // max(n, 1))
    for c0 in range(0, m, width):
        heaps.add(np.ascontiguousarray(sims[:, c0:c0 + width].T), first + c0)


class _KHeaps:
    """``n`` min-heaps keeping the k largest values each (FAISS ``float_minheap_array_t``)."""

    def __init__(self, n: int, k: int) -> None:
        import faiss

        self._faiss = faiss
        self.val = np.empty((n, k), dtype=np.float32)
        self.ids = np.empty((n, k), dtype=np.int64)
        h = faiss.float_minheap_array_t()
        h.k, h.nh = k, n
        h.val, h.ids = faiss.swig_ptr(self.val), faiss.swig_ptr(self.ids)
        h.heapify()
        self._h = h

    def add(self, block: np.ndarray, first: int) -> None:
        """Offer row i of a C-contiguous float32 ``block`` to heap ``first + i``."""
        n, m = block.shape
        if n and m:
            self._h.addn(m, self._faiss.swig_ptr(block), 0, first, n)

    def mean(self) -> np.ndarray:
        """Mean of each heap's values (fewer than k when fewer were offered; NaN when none)."""
        filled = self.ids >= 0
        cnt = filled.sum(axis=1)
        total = np.where(filled, self.val, 0.0).sum(axis=1, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(cnt > 0, total / np.maximum(cnt, 1), np.nan).astype(np.float32)


def window_knn_for_candidates(
    cands: Candidates,
    src_emb: np.ndarray,
    src_days: np.ndarray,
    tgt_emb: np.ndarray,
    tgt_days: np.ndarray,
    window_days: int,
    k: int = 4,
    index: Literal["matmul", "flat", "ivf", "numpy"] = "matmul",
    ivf_nlist: int = 1024,
    ivf_nprobe: int = 16,
    threads: int | None = None,
) -> Candidates:
    """Replace the kNN means by the window pool's (computed only for sentences that occur in a candidate).

    ``src_days``/``tgt_days`` are per sentence (the publication day of its article). ``matmul`` (exact,
    blocked products shared by both directions: :func:`window_knn_means`) is the default; ``flat`` (FAISS
    ``IndexFlatIP``, exact), ``ivf`` (approximate) and ``numpy`` use :func:`knn_mean_window` per direction.
    """
    if len(cands) == 0:
        return cands
    need_s = np.zeros(src_emb.shape[0], dtype=bool)
    need_s[cands.src] = True
    need_t = np.zeros(tgt_emb.shape[0], dtype=bool)
    need_t[cands.tgt] = True
    if index == "matmul":
        ks, kt = window_knn_means(src_emb, src_days, tgt_emb, tgt_days, window_days, k, need_s, need_t,
                                  threads=threads)
    else:
        with _threads(threads):
            ks = np.full(len(need_s), np.nan, dtype=np.float32)
            us = np.flatnonzero(need_s)
            ks[us] = knn_mean_window(src_emb, np.asarray(src_days)[us], tgt_emb, tgt_days, window_days, k, index,
                                     ivf_nlist, ivf_nprobe, q_index=us)
            kt = np.full(len(need_t), np.nan, dtype=np.float32)
            ut = np.flatnonzero(need_t)
            kt[ut] = knn_mean_window(tgt_emb, np.asarray(tgt_days)[ut], src_emb, src_days, window_days, k, index,
                                     ivf_nlist, ivf_nprobe, q_index=ut)
    return Candidates(cands.pair, cands.src, cands.tgt, cands.cos, ks[cands.src], kt[cands.tgt])


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
