"""Statistics for every score and comparison the toolkit reports, on :mod:`scipy.stats`.

One convention everywhere (:data:`P_VALUE_CONVENTION`, printed in every report):

- **Intervals**: 95% percentile bootstrap of the mean over items (:func:`bootstrap_ci`,
  ``scipy.stats.bootstrap``; the same numbers as the project's earlier numpy bootstrap with the same seed).
  A paired difference gets the percentile bootstrap of the mean per-item difference (:func:`paired_test`).
- **p-values**: two-sided paired tests of the same items. Items that are all 0/1 (correct / wrong) use the
  exact McNemar test (``scipy.stats.binomtest`` on the discordant pairs); other per-item scores the paired
  sign-flip permutation test (``scipy.stats.permutation_test``, exact when 2^n ≤ resamples). A Monte-Carlo
  p-value is ``(k + 1) / (B + 1)`` per side (``k`` resamples at least as extreme of ``B``), doubled for two
  sides and capped at 1 (Phipson & Smyth 2010); the bootstrap is never used for a p-value of paired items.
- **Seeds × items** (the controlled experiment): :func:`two_level_bootstrap` resamples seeds and items and
  gives its p-value by the same ``(k + 1) / (B + 1)`` rule (:func:`resampling_p`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

P_VALUE_CONVENTION = (
    "two-sided paired tests over the same items: exact McNemar (scipy.stats.binomtest) when every item is 0/1, "
    "otherwise the sign-flip permutation test (scipy.stats.permutation_test); a Monte-Carlo p is min(1, 2·(k+1)/(B+1)) "
    "with k of B resamples on the far side; intervals: 95% percentile bootstrap (scipy.stats.bootstrap)"
)
"""The one p-value convention of the toolkit, printed beside every p-value and significance mark."""

ArrayLike = Sequence[float] | np.ndarray


def _sps():
    """``scipy.stats``, imported on first use (about 1 s: kept out of CLI start-up)."""
    from scipy import stats

    return stats


def _vector(values: ArrayLike) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).ravel()


def _paired(a: ArrayLike, b: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    x, y = _vector(a), _vector(b)
    if x.shape != y.shape:
        raise ValueError(f"paired tests need per-item results of the same items: {x.shape} vs {y.shape}")
    return x, y


def bootstrap_ci(values: ArrayLike, n: int = 1000, seed: int = 0, alpha: float = 0.05) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of per-item scores (``1 - alpha`` coverage).

    ``scipy.stats.bootstrap`` with ``rng=default_rng(seed)``; a constant sample gives ``(v, v)``, an empty one NaNs.
    """
    v = _vector(values)
    if v.size == 0:
        return float("nan"), float("nan")
    if np.all(v == v[0]):
        return float(v[0]), float(v[0])
    res = _sps().bootstrap((v,), np.mean, n_resamples=n, confidence_level=1 - alpha, method="percentile",
                        rng=np.random.default_rng(seed), vectorized=True)
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def is_binary(values: np.ndarray) -> bool:
    return bool(np.isin(values, (0.0, 1.0)).all())


def mcnemar_exact(a: ArrayLike, b: ArrayLike) -> float:
    """Exact two-sided McNemar p-value for paired 0/1 items (binomial test on the discordant pairs)."""
    x, y = _paired(a, b)
    if not (is_binary(x) and is_binary(y)):
        raise ValueError("McNemar's test needs 0/1 items")
    only_b = int(((y == 1) & (x == 0)).sum())
    only_a = int(((x == 1) & (y == 0)).sum())
    if only_a + only_b == 0:
        return 1.0
    return float(_sps().binomtest(only_b, only_a + only_b, 0.5, alternative="two-sided").pvalue)


def sign_flip_test(a: ArrayLike, b: ArrayLike, n: int = 10000, seed: int = 0) -> float:
    """Two-sided paired sign-flip permutation p-value of mean(b - a) (``scipy.stats.permutation_test``)."""
    x, y = _paired(a, b)
    d = y - x
    if d.size == 0 or not np.any(d):
        return 1.0
    res = _sps().permutation_test((d,), lambda z, axis: np.mean(z, axis=axis), permutation_type="samples",
                               n_resamples=n, alternative="two-sided", vectorized=True,
                               rng=np.random.default_rng(seed))
    return float(min(1.0, res.pvalue))


@dataclass(frozen=True)
class PairedResult:
    """``mean(b) - mean(a)`` over the same items, its bootstrap interval, p-value and the test's name."""

    diff: float
    low: float
    high: float
    p_value: float
    test: str

    def as_dict(self) -> dict[str, float | str]:
        return asdict(self)


def paired_test(a: ArrayLike, b: ArrayLike, n: int = 2000, seed: int = 0, alpha: float = 0.05) -> PairedResult:
    """The toolkit's paired comparison (see :data:`P_VALUE_CONVENTION`)."""
    x, y = _paired(a, b)
    d = y - x
    low, high = bootstrap_ci(d, n=n, seed=seed, alpha=alpha)
    if is_binary(x) and is_binary(y):
        p, test = mcnemar_exact(x, y), "exact McNemar"
    else:
        p, test = sign_flip_test(x, y, n=n, seed=seed), "sign-flip permutation"
    return PairedResult(diff=float(d.mean()) if d.size else float("nan"), low=low, high=high, p_value=p, test=test)


def resampling_p(boot: np.ndarray) -> float:
    """Two-sided p of a resampled difference against 0: ``2·min(#≤0 + 1, #≥0 + 1) / (B + 1)``, capped at 1."""
    b = boot.size
    return min(1.0, 2.0 * min(float((boot <= 0).sum()) + 1, float((boot >= 0).sum()) + 1) / (b + 1))


def percentile_interval(boot: np.ndarray, alpha: float = 0.05) -> tuple[float, float]:
    low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def two_level_bootstrap(diff: np.ndarray, n_boot: int, seed: int, alpha: float = 0.05) -> tuple[float, float, float]:
    """Two-level bootstrap of the mean of ``diff`` (seeds × items): ``(low, high, p_value)``.

    Each resample draws seeds with replacement and items with replacement (one item draw shared by the drawn
    seeds, since every seed is evaluated on the same items); interval: percentile; p: :func:`resampling_p`.
    """
    s, n = diff.shape
    rng = np.random.default_rng(seed)
    seed_idx = rng.integers(0, s, size=(n_boot, s))
    item_idx = rng.integers(0, n, size=(n_boot, n))
    means = np.empty((n_boot, s))
    for start in range(0, n_boot, 256):  # chunks bound the (seeds × chunk × items) temporary
        means[start:start + 256] = diff[:, item_idx[start:start + 256]].mean(axis=2).T
    boot = np.take_along_axis(means, seed_idx, axis=1).mean(axis=1)
    return (*percentile_interval(boot, alpha), resampling_p(boot))
