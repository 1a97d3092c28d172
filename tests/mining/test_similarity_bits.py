"""``candidate_pairs``' similarities are, bit for bit, one matrix product per article pair.

Pairs files store the float32 cosine, so any faster formulation of the similarity step must reproduce these
bits: with OpenBLAS the bits of a product depend on its shape (a small-matrix kernel with two different
reduction trees below 1200 entries, the packed kernel above, gemv for 1-row articles), and cutting a pair's
block out of a larger product changes about three in four of them (``benchmarks/mining_speed.py``, ``bits``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from luxembedder.mining.scoring import candidate_pairs


def _reference(se, so, te, to, ps, pt, floor):
    """Plain loop: one ``np.matmul`` per article pair, rows in (pair, source, target) order."""
    pair, src, tgt, cos = [], [], [], []
    for p, (a, b) in enumerate(zip(ps.tolist(), pt.tolist(), strict=True)):
        sims = np.matmul(se[so[a]:so[a + 1]], te[to[b]:to[b + 1]].T)
        for i in range(sims.shape[0]):
            for j in range(sims.shape[1]):
                if floor is None or sims[i, j] >= floor:
                    pair.append(p)
                    src.append(so[a] + i)
                    tgt.append(to[b] + j)
                    cos.append(sims[i, j])
    return np.array(pair, dtype=np.int64), np.array(src, dtype=np.int64), np.array(tgt, dtype=np.int64), \
        np.array(cos, dtype=np.float32)


def _assert_same(c, ref) -> None:
    pair, src, tgt, cos = ref
    np.testing.assert_array_equal(c.pair, pair)
    np.testing.assert_array_equal(c.src, src)
    np.testing.assert_array_equal(c.tgt, tgt)
    assert c.cos.dtype == np.float32
    np.testing.assert_array_equal(c.cos.view(np.uint32), cos.view(np.uint32))  # identical bits


def _data(rng, n_src, n_tgt, dim, max_len):
    def side(n):
        lens = rng.integers(0, max_len + 1, n)
        lens[rng.random(n) < 0.15] = 1  # 1-row articles: numpy's gemv/dot special cases
        off = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
        emb = rng.standard_normal((int(off[-1]), dim)).astype(np.float32)
        return emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12), off
    (se, so), (te, to) = side(n_src), side(n_tgt)
    return se, so, te, to


@pytest.mark.parametrize("dim", [16, 40, 384])
def test_cosines_are_the_per_pair_products_bit_for_bit(dim: int) -> None:
    rng = np.random.default_rng(dim)
    se, so, te, to = _data(rng, 40, 35, dim, 45)  # up to 45×45 blocks: both sides of the 1200-entry limit
    ps, pt = rng.integers(0, 40, 120), rng.integers(0, 35, 120)
    for floor in (None, 0.0, 0.2):
        ref = _reference(se, so, te, to, ps, pt, floor)
        for knn in (False, True):
            for budget, threads in ((1 << 20, None), (97, None), (97, 2)):
                c = candidate_pairs(se, so, te, to, ps, pt, floor=floor, knn=knn, batch_elements=budget,
                                    threads=threads)
                _assert_same(c, ref)
    # one matrix on both sides (same article pairs: numpy computes A·Aᵀ with syrk)
    ps2 = rng.integers(0, 40, 60)
    _assert_same(candidate_pairs(se, so, se, so, ps2, ps2, knn=False), _reference(se, so, se, so, ps2, ps2, None))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(src_lens=st.lists(st.integers(0, 14), min_size=1, max_size=8),
       tgt_lens=st.lists(st.integers(0, 14), min_size=1, max_size=8),
       dim=st.sampled_from([3, 33]), floor=st.sampled_from([None, 0.0]), budget=st.sampled_from([1, 7, 1 << 20]),
       seed=st.integers(0, 2**16))
def test_property_random_article_sizes(src_lens, tgt_lens, dim, floor, budget, seed) -> None:
    rng = np.random.default_rng(seed)
    so = np.concatenate([[0], np.cumsum(src_lens)]).astype(np.int64)
    to = np.concatenate([[0], np.cumsum(tgt_lens)]).astype(np.int64)
    se = rng.standard_normal((int(so[-1]), dim)).astype(np.float32)
    te = rng.standard_normal((int(to[-1]), dim)).astype(np.float32)
    n_pairs = int(rng.integers(0, 12))
    ps = rng.integers(0, len(src_lens), n_pairs)
    pt = rng.integers(0, len(tgt_lens), n_pairs)
    c = candidate_pairs(se, so, te, to, ps, pt, floor=floor, knn=False, batch_elements=budget)
    ref = _reference(se, so, te, to, ps, pt, floor)
    _assert_same(c, ref)
    if floor is None:  # every sentence pair of every article pair, once
        sizes = np.diff(so)[ps] * np.diff(to)[pt]
        assert len(c) == int(sizes.sum())
        np.testing.assert_array_equal(np.bincount(c.pair, minlength=n_pairs), sizes)
