"""Linear centred kernel alignment (CKA; Kornblith et al., ICML 2019) between representations.

``X`` (n × d₁) and ``Y`` (n × d₂) hold representations of the *same* n items (rows), e.g. the embeddings of
n parallel sentences in two languages. With column-centred features,

    CKA(X, Y) = ‖YᵀX‖²_F / (‖XᵀX‖_F · ‖YᵀY‖_F),

which equals HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)) for the linear kernels K = XXᵀ, L = YYᵀ. The
feature-space form costs O(n·d²) and never builds an n × n matrix.

``debiased=True`` replaces the (biased) HSIC by the unbiased estimator of Song et al. (2012), as in
Kornblith et al.'s reference code. It is computed in feature space too: on centred features the unbiased
HSIC of linear kernels reduces to

    HSIC_u ∝ ‖YᵀX‖²_F − n/(n−2) · ⟨r_X, r_Y⟩ + ‖X‖²_F ‖Y‖²_F / ((n−1)(n−2)),

where r_X is the vector of squared row norms of X (the common factor 1/(n(n−3)) cancels in the ratio).
The debiased value can be slightly negative for unrelated representations and needs n ≥ 4.

Inputs are never modified: every function works on float64 copies (float64 accumulation throughout).
:func:`cka_gram` is the plain O(n²) Gram-matrix definition, kept as a reference for tests and small n.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np

logger = logging.getLogger(__name__)


def small_sample_warning(n: int, d: int, debiased: bool) -> str | None:
    """A warning when the biased estimator is used with fewer items than feature dimensions (n < d).

    With n < d the biased HSIC is dominated by its O(1/n) bias: unrelated random representations already
    score close to 1 and differences between languages shrink (Kornblith et al. 2019, Fig. C.1; Murphy et al.
    2024). The debiased estimator (unbiased HSIC, Song et al. 2012) removes that bias.
    """
    if debiased or n >= d:
        return None
    return (f"CKA on n = {n} items with d = {d} dimensions (n < d): the biased estimator is inflated towards 1 "
            "and compresses differences; use the debiased estimator (--debiased / debiased: true, unbiased "
            "HSIC of Song et al. 2012) or more items.")


def _as_features(x: np.ndarray, name: str) -> np.ndarray:
    """A float64 2-D copy of ``x`` (never a view that could alias the caller's array)."""
    arr = np.array(x, dtype=np.float64, copy=True)
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array (items × features), got shape {arr.shape}")
    if arr.shape[0] < 2:
        raise ValueError(f"{name}: CKA needs at least 2 items, got {arr.shape[0]}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name}: contains non-finite values")
    return arr


def centre(x: np.ndarray) -> np.ndarray:
    """Column-centred float64 copy of ``x`` (the input is left untouched)."""
    arr = np.asarray(x, dtype=np.float64)
    return arr - arr.mean(axis=0, keepdims=True)


def _debias(xty: np.ndarray | float, rx_ry: np.ndarray | float, sx_sy: np.ndarray | float, n: int):
    """Unbiased HSIC numerator (up to the factor 1/(n(n−3))) from feature-space quantities."""
    return xty - n / (n - 2.0) * rx_ry + sx_sy / ((n - 1.0) * (n - 2.0))


def _ratio(num, den):
    den = np.asarray(den, dtype=np.float64)
    out = np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den > 0)
    return out


def linear_cka(x: np.ndarray, y: np.ndarray, debiased: bool = False) -> float:
    """Linear CKA between two representations of the same items (rows), in feature space.

    Returns a value in [0, 1] (the debiased estimator may fall slightly below 0). A constant
    representation (zero variance) gives 0.
    """
    xa, ya = _as_features(x, "x"), _as_features(y, "y")
    if xa.shape[0] != ya.shape[0]:
        raise ValueError(f"x and y must describe the same items: {xa.shape[0]} vs {ya.shape[0]} rows")
    n = xa.shape[0]
    if debiased and n < 4:
        raise ValueError(f"the debiased CKA estimator needs at least 4 items, got {n}")
    xc, yc = centre(xa), centre(ya)
    xty = float(np.sum((yc.T @ xc) ** 2))
    xtx = float(np.sum((xc.T @ xc) ** 2))
    yty = float(np.sum((yc.T @ yc) ** 2))
    if debiased:
        rx, ry = np.einsum("ij,ij->i", xc, xc), np.einsum("ij,ij->i", yc, yc)
        sx, sy = float(rx.sum()), float(ry.sum())
        xty = _debias(xty, float(rx @ ry), sx * sy, n)
        xtx = _debias(xtx, float(rx @ rx), sx * sx, n)
        yty = _debias(yty, float(ry @ ry), sy * sy, n)
        den = np.sqrt(max(xtx, 0.0) * max(yty, 0.0))
    else:
        den = np.sqrt(xtx * yty)
    return float(xty / den) if den > 0 else 0.0


def cka_gram(x: np.ndarray, y: np.ndarray, debiased: bool = False) -> float:
    """Reference CKA from n × n linear Gram matrices (O(n²) memory; for tests and small n).

    Biased: HSIC = tr(K H L H) with the centring matrix H. Debiased: the unbiased HSIC estimator of
    Song et al. (2012) on Gram matrices with zeroed diagonals.
    """
    xa, ya = _as_features(x, "x"), _as_features(y, "y")
    if xa.shape[0] != ya.shape[0]:
        raise ValueError(f"x and y must describe the same items: {xa.shape[0]} vs {ya.shape[0]} rows")
    n = xa.shape[0]
    k, l_ = xa @ xa.T, ya @ ya.T

    def hsic(a: np.ndarray, b: np.ndarray) -> float:
        if not debiased:
            h = np.eye(n) - np.full((n, n), 1.0 / n)
            return float(np.trace(a @ h @ b @ h))
        a, b = a.copy(), b.copy()
        np.fill_diagonal(a, 0.0)
        np.fill_diagonal(b, 0.0)
        one = np.ones(n)
        return float(
            np.trace(a @ b)
            + (one @ a @ one) * (one @ b @ one) / ((n - 1) * (n - 2))
            - 2.0 / (n - 2) * (one @ a @ b @ one)
        ) / (n * (n - 3))

    if debiased and n < 4:
        raise ValueError(f"the debiased CKA estimator needs at least 4 items, got {n}")
    den = np.sqrt(max(hsic(k, k), 0.0) * max(hsic(l_, l_), 0.0))
    return float(hsic(k, l_) / den) if den > 0 else 0.0


def cka_matrix(
    embs: Mapping[str, np.ndarray],
    debiased: bool = False,
    order: Sequence[str] | None = None,
    max_block_bytes: int = 256 << 20,
) -> tuple[list[str], np.ndarray]:
    """CKA between every pair of representations of the same n items: ``(names, L × L matrix)``.

    All representations are centred once and concatenated column-wise into Z (n × Σd); the blocks
    Z_aᵀ Z_b are computed block-row by block-row (each block row at most ``max_block_bytes`` of float64)
    and reduced to squared Frobenius norms, so the cost is one O(n·(Σd)²) product and no n × n matrix.
    """
    names = list(order) if order is not None else list(embs)
    missing = [k for k in names if k not in embs]
    if missing:
        raise KeyError(f"no embeddings for: {', '.join(missing)}")
    if not names:
        return [], np.zeros((0, 0))
    arrays = [_as_features(embs[k], k) for k in names]
    n = arrays[0].shape[0]
    bad = [k for k, a in zip(names, arrays, strict=True) if a.shape[0] != n]
    if bad:
        raise ValueError(f"all representations must have the same number of rows ({n}); differs for: {bad}")
    if debiased and n < 4:
        raise ValueError(f"the debiased CKA estimator needs at least 4 items, got {n}")
    dims = np.array([a.shape[1] for a in arrays])
    z = np.concatenate([centre(a) for a in arrays], axis=1)  # n × D, a new array
    bounds = np.concatenate([[0], np.cumsum(dims)])
    total = int(bounds[-1])
    gram = np.zeros((len(names), len(names)))
    per_lang_bytes = dims.max() * total * 8
    step = max(1, int(max_block_bytes // max(per_lang_bytes, 1)))
    for start in range(0, len(names), step):
        stop = min(len(names), start + step)
        block = z[:, bounds[start]:bounds[stop]].T @ z  # (Σ_{a in block} d_a) × D
        # Squared entries summed over column segments, then over row segments.
        col_sums = np.add.reduceat(block**2, bounds[:-1], axis=1)  # rows × L
        gram[start:stop] = np.add.reduceat(col_sums, bounds[start:stop] - bounds[start], axis=0)
    if debiased:
        rows = np.add.reduceat(z * z, bounds[:-1], axis=1).T  # L × n squared row norms
        s = rows.sum(axis=1)
        gram = _debias(gram, rows @ rows.T, np.outer(s, s), n)
    diag = np.clip(np.diag(gram), 0.0, None)
    matrix = _ratio(gram, np.sqrt(np.outer(diag, diag)))
    return names, matrix
