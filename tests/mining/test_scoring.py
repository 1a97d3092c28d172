"""Matching, candidate scoring, margin and retrieval modes against plain-loop references."""

from __future__ import annotations

import numpy as np
import pytest

from luxembedder.mining.matching import best_in_window, greedy_one_to_one, match_articles
from luxembedder.mining.scoring import (
    Candidates,
    CosineScorer,
    MarginScorer,
    candidate_pairs,
    knn_mean_window,
    retrieval_mask,
    window_knn_for_candidates,
)


def _unit(rng: np.random.Generator, n: int, d: int = 16) -> np.ndarray:
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _offsets(rng: np.random.Generator, n_articles: int, max_len: int = 6) -> np.ndarray:
    lens = rng.integers(0, max_len + 1, size=n_articles)
    return np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)


def test_best_in_window_matches_loop() -> None:
    rng = np.random.default_rng(0)
    q, c = _unit(rng, 50), _unit(rng, 70)
    qd, cd = rng.integers(0, 10, 50), rng.integers(0, 10, 70)
    best, cos = best_in_window(q, qd, c, cd, 1)
    for i in range(50):
        cand = [j for j in range(70) if abs(cd[j] - qd[i]) <= 1]
        if not cand:
            assert best[i] == -1
            continue
        sims = [float(q[i] @ c[j]) for j in cand]
        assert best[i] == cand[int(np.argmax(sims))]
        assert cos[i] == pytest.approx(max(sims), abs=1e-6)


def test_match_articles_threshold_mutual_one_to_one() -> None:
    # two lb articles both closest to en article 0 on the same day
    src = np.array([[1, 0, 0], [0.9, 0.436, 0]], dtype=np.float32)
    tgt = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float32)
    src /= np.linalg.norm(src, axis=1, keepdims=True)
    days_s, days_t = np.array([5, 5]), np.array([5, 6, 9])
    m = match_articles(src, days_s, tgt, days_t, 1, 0.5)
    assert m.src.tolist() == [0, 1] and m.tgt.tolist() == [0, 0]
    m = match_articles(src, days_s, tgt, days_t, 1, 0.5, mutual_best=True)
    assert m.src.tolist() == [0] and m.tgt.tolist() == [0]
    m = match_articles(src, days_s, tgt, days_t, 1, 0.5, one_to_one=True)
    assert m.src.tolist() == [0]
    m = match_articles(src, days_s, tgt, days_t, 0, 0.95)  # threshold drops the weaker match
    assert m.src.tolist() == [0] and m.counts["with_candidates"] == 2
    m = match_articles(src, np.array([0, 0]), tgt, days_t, 1, 0.0)  # no candidate within the window
    assert len(m) == 0 and m.counts["with_candidates"] == 0


def _greedy_loop(src, tgt, score):
    order = sorted(range(len(score)), key=lambda i: (-score[i], i))
    used_s, used_t, keep = set(), set(), set()
    for i in order:
        if src[i] in used_s or tgt[i] in used_t:
            continue
        keep.add(i)
        used_s.add(src[i])
        used_t.add(tgt[i])
    return keep


@pytest.mark.parametrize("seed", range(5))
def test_greedy_one_to_one_equals_sequential(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 200
    src, tgt = rng.integers(0, 30, n), rng.integers(0, 25, n)
    score = rng.integers(0, 40, n).astype(np.float64)  # many ties: earlier row wins
    keep = greedy_one_to_one(src, tgt, score)
    assert set(np.flatnonzero(keep).tolist()) == _greedy_loop(src.tolist(), tgt.tolist(), score.tolist())


def _candidates_loop(se, so, te, to, pa_s, pa_t, k):
    rows = []
    for p, (a, b) in enumerate(zip(pa_s, pa_t, strict=True)):
        S, T = se[so[a]:so[a + 1]], te[to[b]:to[b + 1]]
        if len(S) == 0 or len(T) == 0:
            continue
        sims = S.astype(np.float64) @ T.astype(np.float64).T
        for i in range(len(S)):
            for j in range(len(T)):
                kx = np.mean(sorted(sims[i], reverse=True)[:k])
                ky = np.mean(sorted(sims[:, j], reverse=True)[:k])
                rows.append((p, so[a] + i, to[b] + j, sims[i, j], kx, ky))
    return rows


def test_candidate_pairs_equal_loop_reference() -> None:
    rng = np.random.default_rng(1)
    so, to = _offsets(rng, 20), _offsets(rng, 25)
    se, te = _unit(rng, int(so[-1])), _unit(rng, int(to[-1]))
    pa_s, pa_t = rng.integers(0, 20, 30), rng.integers(0, 25, 30)
    ref = _candidates_loop(se, so, te, to, pa_s, pa_t, k=3)
    # a tiny batch budget forces many padded batches
    for budget in (1 << 20, 400):
        c = candidate_pairs(se, so, te, to, pa_s, pa_t, k=3, batch_elements=budget)
        got = list(zip(c.pair.tolist(), c.src.tolist(), c.tgt.tolist(), strict=True))
        assert got == [r[:3] for r in ref]
        np.testing.assert_allclose(c.cos, [r[3] for r in ref], atol=1e-6)
        np.testing.assert_allclose(c.knn_src, [r[4] for r in ref], atol=1e-6)
        np.testing.assert_allclose(c.knn_tgt, [r[5] for r in ref], atol=1e-6)
        denom = np.array([(r[4] + r[5]) / 2 for r in ref])
        margin_ref = np.array([r[3] for r in ref]) / denom
        ok = np.abs(denom) > 0.05  # random vectors give near-zero kNN means that amplify fp32 rounding
        np.testing.assert_allclose(c.margin[ok], margin_ref[ok], rtol=1e-5, atol=1e-6)
    floored = candidate_pairs(se, so, te, to, pa_s, pa_t, floor=0.3, k=3)
    assert len(floored) == sum(r[3] >= 0.3 for r in ref)
    # chunks scored by two threads: the same rows in the same order
    for fl in (None, 0.3):
        one = candidate_pairs(se, so, te, to, pa_s, pa_t, floor=fl, k=3, batch_elements=50)
        two = candidate_pairs(se, so, te, to, pa_s, pa_t, floor=fl, k=3, batch_elements=50, threads=2)
        for f in ("pair", "src", "tgt", "cos", "knn_src", "knn_tgt"):
            np.testing.assert_array_equal(getattr(one, f), getattr(two, f))


def test_window_knn_faiss_equals_numpy_and_loop() -> None:
    rng = np.random.default_rng(2)
    q, p = _unit(rng, 120, 32), _unit(rng, 300, 32)
    qd, pd_ = rng.integers(0, 20, 120), rng.integers(0, 20, 300)
    flat = knn_mean_window(q, qd, p, pd_, 1, k=4, index="flat")
    brute = knn_mean_window(q, qd, p, pd_, 1, k=4, index="numpy")
    np.testing.assert_allclose(flat, brute, atol=1e-6)
    for i in range(0, 120, 7):
        pool = [j for j in range(300) if abs(pd_[j] - qd[i]) <= 1]
        sims = sorted((float(q[i] @ p[j]) for j in pool), reverse=True)[:4]
        assert flat[i] == pytest.approx(np.mean(sims), abs=1e-6)
    ivf = knn_mean_window(q, qd, p, pd_, 1, k=4, index="ivf", ivf_nlist=2, ivf_nprobe=2)
    assert np.isfinite(ivf).all() and (ivf <= flat + 1e-6).all()  # approximate search never beats exact


def test_window_knn_for_candidates_margin_loop() -> None:
    rng = np.random.default_rng(3)
    so, to = _offsets(rng, 15), _offsets(rng, 15)
    se, te = _unit(rng, int(so[-1])), _unit(rng, int(to[-1]))
    sday = np.repeat(rng.integers(0, 6, 15), np.diff(so))
    tday = np.repeat(rng.integers(0, 6, 15), np.diff(to))
    c = candidate_pairs(se, so, te, to, np.arange(15), np.arange(15))
    w = window_knn_for_candidates(c, se, sday, te, tday, 1, k=4)
    for r in range(0, len(w), 5):
        x, y = w.src[r], w.tgt[r]
        kx = np.mean(sorted((float(se[x] @ te[j]) for j in range(len(te)) if abs(tday[j] - sday[x]) <= 1),
                            reverse=True)[:4])
        ky = np.mean(sorted((float(te[y] @ se[i]) for i in range(len(se)) if abs(sday[i] - tday[y]) <= 1),
                            reverse=True)[:4])
        assert w.margin[r] == pytest.approx(float(se[x] @ te[y]) / ((kx + ky) / 2), rel=1e-5)


def test_retrieval_modes_and_scorers() -> None:
    src = np.array([0, 0, 1, 1, 2])
    tgt = np.array([0, 1, 0, 1, 1])
    score = np.array([0.9, 0.5, 0.8, 0.7, 0.75])
    assert retrieval_mask(src, tgt, score, "forward").tolist() == [True, False, True, False, True]
    assert retrieval_mask(src, tgt, score, "backward").tolist() == [True, False, False, False, True]
    assert retrieval_mask(src, tgt, score, "intersection").tolist() == [True, False, False, False, True]
    # max: union {0, 2, 4} -> greedy: (0,0) 0.9, then (1,0) blocked, (2,1) 0.75
    assert retrieval_mask(src, tgt, score, "max").tolist() == [True, False, False, False, True]
    f = np.ones(5, dtype=np.float32)
    c = Candidates(np.zeros(5, dtype=np.int64), src, tgt, score.astype(np.float32), f, f)
    d = CosineScorer(0.75).accept(c)
    assert d.keep.tolist() == [True, False, True, False, True]
    assert d.reason[1] == "cosine<0.75" and d.reason[0] == ""
    d = MarginScorer(threshold=0.76, mode="forward").accept(c)
    assert d.keep.tolist() == [True, False, True, False, False]
    assert d.reason[1] == "not-forward-best" and d.reason[4] == "margin<0.76"


def test_mean_rows_equals_loop() -> None:
    from luxembedder.mining.pipeline import mean_rows

    rng = np.random.default_rng(4)
    off = _offsets(rng, 30)
    x = _unit(rng, int(off[-1]))
    got = mean_rows(x, off)
    for a in range(30):
        block = x[off[a]:off[a + 1]]
        if len(block) == 0:
            assert not got[a].any()
            continue
        ref = block.sum(0) / np.linalg.norm(block.sum(0))
        np.testing.assert_allclose(got[a], ref, atol=1e-6)


@pytest.mark.parametrize("sorted_days", [True, False])
def test_window_knn_means_both_plans_equal_reference(sorted_days: bool) -> None:
    from luxembedder.mining.scoring import window_knn_means

    rng = np.random.default_rng(5)
    a, b = _unit(rng, 150, 24), _unit(rng, 170, 24)
    ad, bd = rng.integers(0, 12, 150), rng.integers(0, 12, 170)
    ad[:3] = 40  # source sentences with an empty window pool -> NaN
    if sorted_days:
        oa, ob = np.argsort(ad, kind="stable"), np.argsort(bd, kind="stable")
        a, ad, b, bd = a[oa], ad[oa], b[ob], bd[ob]
    ref_a = knn_mean_window(a, ad, b, bd, 1, k=4, index="numpy")
    ref_b = knn_mean_window(b, bd, a, ad, 1, k=4, index="numpy")
    assert np.isnan(ref_a).sum() == 3
    # all wanted -> one shared block per day; a few wanted -> one search per direction; tiny blocks
    few_a, few_b = np.zeros(150, dtype=bool), np.zeros(170, dtype=bool)
    few_a[::17], few_b[::13] = True, True
    for need_a, need_b, block in ((None, None, 1 << 20), (None, None, 7), (few_a, few_b, 1 << 20),
                                  (few_a, few_b, 5)):
        ka, kb = window_knn_means(a, ad, b, bd, 1, k=4, need_src=need_a, need_tgt=need_b, block_elements=block,
                                  threads=1)
        ma = np.ones(150, dtype=bool) if need_a is None else need_a
        mb = np.ones(170, dtype=bool) if need_b is None else need_b
        np.testing.assert_allclose(ka[ma], ref_a[ma], atol=1e-6)
        np.testing.assert_allclose(kb[mb], ref_b[mb], atol=1e-6)
        assert np.isnan(ka[~ma]).all() and np.isnan(kb[~mb]).all()
    # pools smaller than k: the mean over what there is
    ka, kb = window_knn_means(a[:2], np.array([0, 0]), b[:3], np.array([0, 5, 5]), 0, k=4)
    np.testing.assert_allclose(ka, (a[:2] @ b[:1].T)[:, 0], atol=1e-6)
    np.testing.assert_allclose(kb, [float((a[:2] @ b[0]).mean()), np.nan, np.nan], atol=1e-6)


def test_window_knn_column_slices_change_no_bit(monkeypatch) -> None:
    """The column heaps fed through small transposed slices (memory) give the bits of one whole block."""
    import luxembedder.mining.scoring as scoring

    rng = np.random.default_rng(8)
    a, b = _unit(rng, 120, 16), _unit(rng, 140, 16)
    ad, bd = np.sort(rng.integers(0, 9, 120)), rng.integers(0, 9, 140)  # an unsorted pool: gathered
    got = {}
    for width in (1, 7, 1 << 30):
        monkeypatch.setattr(scoring, "COLUMN_SLICE_ELEMENTS", width)
        got[width] = scoring.window_knn_means(a, ad, b, bd, 1, k=4, plan="shared", threads=1)
    for width in (1, 7):
        np.testing.assert_array_equal(got[width][0], got[1 << 30][0])
        np.testing.assert_array_equal(got[width][1], got[1 << 30][1])
    assert np.isfinite(got[1][1]).all()


def test_window_knn_for_candidates_indexes_agree() -> None:
    rng = np.random.default_rng(6)
    so, to = _offsets(rng, 25), _offsets(rng, 25)
    se, te = _unit(rng, int(so[-1])), _unit(rng, int(to[-1]))
    sday = np.repeat(np.sort(rng.integers(0, 8, 25)), np.diff(so))
    tday = np.repeat(np.sort(rng.integers(0, 8, 25)), np.diff(to))
    c = candidate_pairs(se, so, te, to, np.arange(0, 25, 2), np.arange(0, 25, 2), knn=False)
    got = {ix: window_knn_for_candidates(c, se, sday, te, tday, 1, k=3, index=ix)
           for ix in ("matmul", "flat", "numpy")}
    for ix in ("flat", "numpy"):
        np.testing.assert_allclose(got["matmul"].knn_src, got[ix].knn_src, atol=1e-6)
        np.testing.assert_allclose(got["matmul"].knn_tgt, got[ix].knn_tgt, atol=1e-6)


def test_candidate_pairs_float64_input_and_large_pair() -> None:
    rng = np.random.default_rng(7)
    se, te = _unit(rng, 40).astype(np.float64), _unit(rng, 30).astype(np.float64)
    so, to = np.array([0, 3, 40]), np.array([0, 30])
    c = candidate_pairs(se, so, te, to, np.array([1, 0]), np.array([0, 0]), k=2, batch_elements=16)
    assert len(c) == 37 * 30 + 3 * 30 and c.pair[: 37 * 30].tolist() == [0] * (37 * 30)
    sims = se[3:40] @ te.T
    np.testing.assert_allclose(c.cos[: 37 * 30], sims.ravel(), atol=1e-6)
    sims2 = se[:3] @ te.T
    row_ref = np.concatenate([np.repeat(np.sort(s, axis=1)[:, -2:].mean(1), 30) for s in (sims, sims2)])
    col_ref = np.concatenate([np.tile(np.sort(s, axis=0)[-2:].mean(0), len(s)) for s in (sims, sims2)])
    np.testing.assert_allclose(c.knn_src, row_ref, atol=1e-6)  # rows of 30, columns of 37 and of 3
    np.testing.assert_allclose(c.knn_tgt, col_ref, atol=1e-6)
    assert c.cos.dtype == np.float32
