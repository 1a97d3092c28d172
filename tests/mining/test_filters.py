"""Pair filters against hand cases and the paper's rules."""

from __future__ import annotations

import numpy as np

from luxembedder.mining.filters import (
    LeakageIndex,
    apply_in_order,
    exact_duplicates,
    length_ratio,
    near_copy,
    one_to_one,
    paraphrase_candidates,
    paraphrase_steps,
)


def _paper_dedup(rows):
    """The paper's two-stage rule written out: best per text_1 (ties: first row), then best per text_2."""
    def best(idx, key):
        seen = {}
        for i in idx:
            k = rows[i][key]
            if k not in seen or rows[i][2] > rows[seen[k]][2]:
                seen[k] = i
        return sorted(seen.values())
    return [rows[i] for i in best(best(range(len(rows)), 0), 1)]


def test_one_to_one_hand_cases() -> None:
    # (text_1, text_2, score)
    rows = [("a", "x", 0.90), ("a", "y", 0.95), ("b", "y", 0.99), ("b", "z", 0.80), ("c", "z", 0.85),
            ("d", "x", 0.85), ("d", "w", 0.85), ("e", "v", 0.70), ("e", "v", 0.70)]
    res = one_to_one([r[0] for r in rows], [r[1] for r in rows], np.array([r[2] for r in rows]))
    got = [rows[i] for i in np.flatnonzero(res.keep)]
    # a keeps y (0.95) but y goes to b (0.99): a ends with nothing, as in the paper (no second chance);
    # d ties at 0.85: the earlier row (x) wins; the duplicate (e, v) keeps its first row
    assert got == [("b", "y", 0.99), ("c", "z", 0.85), ("d", "x", 0.85), ("e", "v", 0.70)]
    assert got == _paper_dedup(rows)
    assert res.dropped == 5


def test_one_to_one_random_vs_paper_rule() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        n = 60
        rows = [(f"s{rng.integers(15)}", f"t{rng.integers(15)}", float(rng.integers(10)) / 10) for _ in range(n)]
        res = one_to_one([r[0] for r in rows], [r[1] for r in rows], np.array([r[2] for r in rows]))
        assert [rows[i] for i in np.flatnonzero(res.keep)] == _paper_dedup(rows)


def test_length_ratio_and_overlap() -> None:
    t1 = ["abcdefghij", "abcdefghij", "", "Den Tram fiert haut.", "Den Tram fiert haut."]
    t2 = ["abcdefghijklmno", "abcdefghijklmn", "x", "The tram runs today.", "den tram fiert haut!"]
    assert length_ratio(t1, t2, 1.5).keep.tolist() == [False, True, False, True, True]
    ov = near_copy(t1, t2, 0.8)
    # last pair: 3 of 4 lower-cased words shared (0.75) -> kept; identical lower-cased word sets -> dropped
    assert ov.keep.tolist() == [True, True, True, True, True]
    assert near_copy(["Den Tram fiert haut ."], ["den tram fiert haut ."], 0.8).keep.tolist() == [False]


def test_exact_duplicates_and_leakage() -> None:
    res = exact_duplicates(["a", "a", "b"], ["x", "x", "x"], np.array([0.7, 0.9, 0.8]))
    assert res.keep.tolist() == [False, True, True]
    idx = LeakageIndex(["  D'Wieder  ass schéin. "], normalize=True)
    assert idx.filter(["d'wieder ass schéin", "Eppes anescht."], ["x", "y"]).keep.tolist() == [False, True]
    exact = LeakageIndex(["D'Wieder ass schéin."], normalize=False)
    assert exact.filter(["d'wieder ass schéin", "D'Wieder ass schéin."], ["x", "y"]).keep.tolist() == [True, False]


def test_apply_in_order_counts_and_reasons() -> None:
    t1 = np.array(["aaaa", "bbbb", "cccc", "dddddddddd"], dtype=object)
    t2 = np.array(["aaab", "xxxx", "yyyy", "z"], dtype=object)
    score = np.array([0.9, 0.8, 0.7, 0.6])
    keep, reason, counts = apply_in_order(4, [lambda a: length_ratio(t1[a], t2[a], 1.5),
                                              lambda a: one_to_one(t1[a], np.zeros(len(a)), score[a])])
    assert keep.tolist() == [True, False, False, False]
    assert reason.tolist() == ["", "one-to-one", "one-to-one", "length-ratio>=1.5"]
    assert [(c["in"], c["dropped"], c["out"]) for c in counts] == [(4, 1, 3), (3, 2, 1)]


def test_paraphrase_rules() -> None:
    emb = np.eye(4, dtype=np.float32)
    emb[1] = [0.9, np.sqrt(1 - 0.81), 0, 0]  # cos(0, 1) = 0.9
    emb[3] = [0, 0, 0.6, 0.8]                # cos(2, 3) = 0.6: too far
    i, j, cos = paraphrase_candidates(emb, np.array([0, 4]), 0.80, 0.95)
    assert (i.tolist(), j.tolist()) == ([0], [1]) and cos[0] == np.float32(emb[0] @ emb[1])
    a = "Den Tram fiert vun haut un all fënnef Minutten tëscht der Gare an dem Findel"
    b = "Ab dësem Dënschdeg kënnt d'Bunn ëmmer no kuerzer Zäit op all Statioun laanscht"
    c = "Den Tram fiert vun haut un all fënnef Minutten: tëscht der Gare an dem Findel"
    t1 = np.array([a, a, "kuerz"], dtype=object)
    t2 = np.array([b, c, b], dtype=object)
    keep, reason, _ = apply_in_order(3, paraphrase_steps(t1, t2, np.array([0.9, 0.9, 0.9])))
    assert keep.tolist() == [True, False, False]
    assert reason.tolist() == ["", "contains-colon", "length-ratio>=2"]
