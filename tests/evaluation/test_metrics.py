"""Metrics against hand-computed answers and plain-loop reference implementations."""

from __future__ import annotations

import numpy as np
import pytest

from luxembedder.evaluation import metrics as M

E1, E2, E3 = np.eye(3, dtype=np.float32)


def test_retrieval_index_vs_text_equality_with_duplicate_gold() -> None:
    # rows: (eng "Are you coming?", ltz "Gees du mat?"), (same eng, ltz "Geet dir mat?"), (eng "Hi", ltz "Moien")
    eng = ["Are you coming?", "Are you coming?", "Hi"]
    ltz = ["Gees du mat?", "Geet dir mat?", "Moien"]
    eng_emb = np.stack([E1, E1, E2])
    ltz_emb = np.stack([E1 + 0.1 * E3, E1 + 0.2 * E3, E2])  # both ltz variants closest to E1, row 0 closer
    # by index: eng→ltz: rows 0,1 both retrieve ltz 0 -> [T, F, T]; ltz→eng: both retrieve eng 0 -> [T, F, T]
    by_index = M.retrieval_accuracy(eng_emb, ltz_emb)
    assert by_index == pytest.approx({"src2tgt": 2 / 3, "tgt2src": 2 / 3, "mean": 2 / 3})
    # by text: ltz→eng row 1 retrieves eng row 0 whose text equals its gold text -> [T, T, T];
    # eng→ltz row 1 retrieves "Gees du mat?" but its gold is "Geet dir mat?" -> [T, F, T]
    by_text = M.retrieval_accuracy(eng_emb, ltz_emb, eng, ltz)
    assert by_text == pytest.approx({"src2tgt": 2 / 3, "tgt2src": 1.0, "mean": 5 / 6})
    # lenient: any gold translation of the query text counts -> all right
    lenient = M.retrieval_accuracy(eng_emb, ltz_emb, eng, ltz, any_translation=True)
    assert lenient == pytest.approx({"src2tgt": 1.0, "tgt2src": 1.0, "mean": 1.0})


def _ref_retrieval(src, tgt, s_texts, t_texts):
    sims = [[float(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b)) for b in tgt] for a in src]
    fwd = [t_texts[int(np.argmax(row))] == t_texts[i] for i, row in enumerate(sims)]
    cols = list(zip(*sims, strict=True))
    bwd = [s_texts[int(np.argmax(col))] == s_texts[j] for j, col in enumerate(cols)]
    return np.array(fwd), np.array(bwd)


def test_retrieval_matches_loop_reference() -> None:
    rng = np.random.default_rng(0)
    src, tgt = rng.normal(size=(40, 8)), rng.normal(size=(40, 8))
    s_texts = [f"s{i % 30}" for i in range(40)]
    t_texts = [f"t{i % 25}" for i in range(40)]
    fwd, bwd = M.retrieval_correct(src, tgt, s_texts, t_texts)
    rf, rb = _ref_retrieval(src, tgt, s_texts, t_texts)
    np.testing.assert_array_equal(fwd, rf)
    np.testing.assert_array_equal(bwd, rb)


def test_margin_scores_match_loop_reference() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(12, 5)), rng.normal(size=(10, 5))
    k = 3
    xs = x / np.linalg.norm(x, axis=1, keepdims=True)
    ys = y / np.linalg.norm(y, axis=1, keepdims=True)
    got = M.margin_scores(x, y, k=k)
    for i in range(12):
        for j in range(10):
            fx = np.mean(sorted((xs[i] @ ys.T).tolist(), reverse=True)[:k])
            fy = np.mean(sorted((ys[j] @ xs.T).tolist(), reverse=True)[:k])
            assert got[i, j] == pytest.approx(float(xs[i] @ ys[j]) / ((fx + fy) / 2), rel=1e-5)


def test_margin_fixes_a_hub() -> None:
    # tgt row 2 is a hub, similar to every source: plain cosine maps it back to src 0, the margin to src 2
    src = np.eye(3)
    tgt = np.array([[0.8, 0.1, 0.0], [0.1, 0.8, 0.0], [0.6, 0.6, 0.5]])
    assert [x.tolist() for x in M.retrieval_correct(src, tgt)] == [[True] * 3, [True, True, False]]
    assert [x.tolist() for x in M.margin_retrieval_correct(src, tgt, k=2)] == [[True] * 3, [True] * 3]
    assert M.margin_retrieval_accuracy(src, tgt, k=2)["mean"] == 1.0


def test_mteb_f1_hand_computed() -> None:
    # queries 0 and 1 both retrieve row 0; query 2 retrieves row 2
    src = np.stack([E1, E1 + 0.01 * E2, E3])
    tgt = np.stack([E1, E2, E3])
    out = M.mteb_bitext_f1(src, tgt)
    # class 0: P=1/2 R=1 F1=2/3; class 1: P=0 R=0 F1=0; class 2: F1=1 -> weighted (support 1 each) = 5/9
    assert out["f1"] == pytest.approx(5 / 9)
    assert out["accuracy"] == pytest.approx(2 / 3)
    assert out["precision"] == pytest.approx(0.5)
    assert out["recall"] == pytest.approx(2 / 3)


def test_triplets_ties_are_wrong_and_groups() -> None:
    a = np.stack([E1, E1, E1, E2])
    p = np.stack([E1, E2, E1, E2])
    n = np.stack([E2, E1, E1, E1])  # row 2: tie (p == n) -> wrong
    assert M.triplet_correct(a, p, n).tolist() == [True, False, False, True]
    out = M.triplet_accuracy(a, p, n, groups=["neg", "neg", "num", None])
    assert out["accuracy"] == pytest.approx(0.5)
    assert out["per_group"] == {"neg": {"accuracy": 0.5, "n": 2}, "num": {"accuracy": 0.0, "n": 1},
                                "": {"accuracy": 1.0, "n": 1}}


def test_bad_shapes() -> None:
    with pytest.raises(ValueError):
        M.retrieval_accuracy(np.ones((3, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError):
        M.retrieval_accuracy(np.ones((2, 2)), np.ones((2, 2)), src_texts=["a", "b"])
