"""CKA with fewer items than dimensions: the biased estimator is inflated; the warning offers the debiased one."""

from __future__ import annotations

import numpy as np

from luxembedder.analysis.cka import linear_cka, small_sample_warning


def test_warning_only_for_the_biased_estimator_with_n_below_d() -> None:
    w = small_sample_warning(50, 384, debiased=False)
    assert w is not None and "n = 50" in w and "d = 384" in w and "--debiased" in w
    assert small_sample_warning(50, 384, debiased=True) is None
    assert small_sample_warning(1012, 384, debiased=False) is None


def test_the_premise_biased_cka_of_unrelated_data_is_high_when_n_below_d() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((40, 400)), rng.standard_normal((40, 400))  # independent representations
    assert linear_cka(x, y) > 0.8  # looks "aligned" although unrelated
    assert abs(linear_cka(x, y, debiased=True)) < 0.1
    xs, ys = rng.standard_normal((4000, 20)), rng.standard_normal((4000, 20))
    assert linear_cka(xs, ys) < 0.05  # with n >> d the bias vanishes
