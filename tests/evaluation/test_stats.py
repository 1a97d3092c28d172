"""The statistics module: scipy-based intervals and paired tests against plain reference implementations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import comb

from luxembedder.evaluation import stats as S


def reference_bootstrap_ci(v: np.ndarray, n: int, seed: int, alpha: float = 0.05) -> tuple[float, float]:
    """The project's earlier numpy bootstrap (the CIs stored in docs/results were made with it)."""
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, v.size, size=(n, v.size))].mean(axis=1)
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


@pytest.mark.parametrize("kind", ["binary", "halves", "continuous"])
def test_bootstrap_ci_reproduces_the_stored_intervals(kind: str) -> None:
    rng = np.random.default_rng(5)
    v = {"binary": (rng.random(204) < 0.6).astype(float), "halves": rng.integers(0, 3, 387) / 2,
         "continuous": rng.random(150)}[kind]
    got = S.bootstrap_ci(v, n=1000, seed=42)
    assert got == pytest.approx(reference_bootstrap_ci(v, 1000, 42), abs=1e-12)
    assert got[0] < v.mean() < got[1]
    assert S.bootstrap_ci(np.ones(10)) == (1.0, 1.0)
    assert all(np.isnan(S.bootstrap_ci([])))


def test_mcnemar_is_the_exact_binomial_on_discordant_pairs() -> None:
    a = np.array([1, 1, 0, 0, 1, 0, 1, 0, 0, 0], dtype=float)
    b = np.array([1, 0, 1, 1, 1, 1, 1, 1, 0, 1], dtype=float)  # 1 item only a, 5 items only b
    # two-sided exact: 2 * P(X <= 1), X ~ Bin(6, 1/2)
    expected = 2 * (comb(6, 0) + comb(6, 1)) / 2**6
    assert S.mcnemar_exact(a, b) == pytest.approx(expected)
    assert S.mcnemar_exact(a, a) == 1.0
    with pytest.raises(ValueError):
        S.mcnemar_exact([0.5], [1.0])


def test_sign_flip_is_exact_for_few_items_and_matches_a_reference() -> None:
    # 3 items all +1: of the 8 sign patterns 2 are as extreme -> p = 0.25 exactly
    assert S.sign_flip_test([0, 0, 0], [1, 1, 1], n=1000) == pytest.approx(0.25)
    rng = np.random.default_rng(0)
    a = rng.integers(0, 3, 300) / 2
    b = np.clip(a + rng.choice([0, 0, 0.5], 300), 0, 1)
    p = S.sign_flip_test(a, b, n=4000, seed=1)
    d = b - a
    signs = np.random.default_rng(9).choice([-1.0, 1.0], size=(20000, d.size))
    ref = ((np.abs((signs * d).mean(axis=1)) >= abs(d.mean()) - 1e-12).sum() + 1) / 20001
    assert p == pytest.approx(ref, abs=0.01)
    assert S.sign_flip_test(a, a) == 1.0


def test_paired_test_picks_the_test_by_item_type() -> None:
    rng = np.random.default_rng(0)
    a = (rng.random(300) < 0.5).astype(float)
    b = a.copy()
    b[:60] = 1.0
    res = S.paired_test(a, b, n=2000, seed=0)
    assert res.test == "exact McNemar" and res.p_value < 0.01 and res.low > 0
    assert res.diff == pytest.approx(b.mean() - a.mean())
    half = S.paired_test(a / 2, b / 2 + 0.25 * (b > a), n=500, seed=0)
    assert half.test == "sign-flip permutation" and half.p_value < 0.01
    with pytest.raises(ValueError):
        S.paired_test(a, b[:10])


def test_bootstrap_never_says_significant_where_the_exact_test_does_not() -> None:
    """The issue's case: a small advantage that a plain paired bootstrap p calls significant."""
    a = np.zeros(204)
    b = np.zeros(204)
    a[:3] = 1
    b[3:13] = 1  # 10 items only b, 3 only a
    res = S.paired_test(a, b, n=2000, seed=0)
    assert res.p_value == pytest.approx(S.mcnemar_exact(a, b)) and res.p_value > 0.05


def test_two_level_bootstrap_and_resampling_p() -> None:
    assert S.resampling_p(np.ones(99)) == pytest.approx(2 / 100)
    assert S.resampling_p(np.r_[np.ones(50), -np.ones(50)]) == 1.0
    rng = np.random.default_rng(1)
    big = rng.normal(0.3, 0.1, size=(3, 200))
    low, high, p = S.two_level_bootstrap(big, 1000, 0, 0.05)
    assert 0.25 < low < 0.3 < high < 0.35 and p == pytest.approx(2 / 1001)
