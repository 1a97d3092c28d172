"""Linear CKA: invariances, agreement with the Gram-matrix definition, and inputs left untouched."""

from __future__ import annotations

import numpy as np
import pytest

from luxembedder.analysis.cka import cka_gram, cka_matrix, linear_cka


def _related(rng: np.random.Generator, n: int = 80, d: int = 12, noise: float = 1.0):
    x = rng.normal(size=(n, d))
    y = x @ rng.normal(size=(d, d + 3)) + noise * rng.normal(size=(n, d + 3))
    return x, y


def _gram_plain(x: np.ndarray, y: np.ndarray) -> float:
    """Textbook definition: centred Gram matrices, HSIC = <Kc, Lc>."""
    xc, yc = x - x.mean(0), y - y.mean(0)
    k, l_ = xc @ xc.T, yc @ yc.T
    return float((k * l_).sum() / np.sqrt((k * k).sum() * (l_ * l_).sum()))


@pytest.mark.parametrize("debiased", [False, True])
def test_self_similarity_is_one(debiased: bool) -> None:
    x = np.random.default_rng(0).normal(size=(50, 7))
    assert linear_cka(x, x, debiased=debiased) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("debiased", [False, True])
def test_invariant_to_isotropic_scaling_and_orthogonal_transforms(debiased: bool) -> None:
    rng = np.random.default_rng(1)
    x, y = _related(rng)
    base = linear_cka(x, y, debiased=debiased)
    q, _ = np.linalg.qr(rng.normal(size=(x.shape[1], x.shape[1])))
    assert linear_cka(3.7 * x, y, debiased=debiased) == pytest.approx(base, rel=1e-10)
    assert linear_cka(x @ q, 0.01 * y, debiased=debiased) == pytest.approx(base, rel=1e-10)
    # translation too (columns are centred)
    assert linear_cka(x + 5.0, y - 2.0, debiased=debiased) == pytest.approx(base, rel=1e-9)
    # but not invariant to a non-isotropic scaling
    s = np.diag(np.linspace(0.1, 10, x.shape[1]))
    assert abs(linear_cka(x @ s, y, debiased=debiased) - base) > 1e-3


def test_independent_features_near_zero_and_debiased_closer() -> None:
    rng = np.random.default_rng(2)
    n, d = 2000, 16
    x, y = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    biased, unbiased = linear_cka(x, y), linear_cka(x, y, debiased=True)
    assert biased < 0.03
    assert abs(unbiased) < 0.01
    assert abs(unbiased) < biased
    # with few items the biased estimate of unrelated features is far from zero
    xs, ys = rng.normal(size=(20, 16)), rng.normal(size=(20, 16))
    assert linear_cka(xs, ys) > 0.3
    assert abs(linear_cka(xs, ys, debiased=True)) < linear_cka(xs, ys)


@pytest.mark.parametrize("debiased", [False, True])
def test_feature_space_matches_gram_reference(debiased: bool) -> None:
    rng = np.random.default_rng(3)
    for n, dx, dy in [(10, 3, 20), (60, 8, 5), (40, 40, 2)]:
        x, y = rng.normal(size=(n, dx)), rng.normal(size=(n, dx)) @ rng.normal(size=(dx, dy))
        assert linear_cka(x, y, debiased=debiased) == pytest.approx(cka_gram(x, y, debiased=debiased), abs=1e-10)
        if not debiased:
            assert linear_cka(x, y) == pytest.approx(_gram_plain(x, y), abs=1e-10)


@pytest.mark.parametrize("debiased", [False, True])
def test_matrix_matches_pairwise_and_blocks(debiased: bool) -> None:
    rng = np.random.default_rng(4)
    base = rng.normal(size=(70, 6))
    embs = {f"l{i}": base @ rng.normal(size=(6, 5 + i)) + rng.normal(size=(70, 5 + i)) * i for i in range(5)}
    names, m = cka_matrix(embs, debiased=debiased)
    assert names == list(embs)
    ref = np.array([[linear_cka(embs[a], embs[b], debiased=debiased) for b in names] for a in names])
    np.testing.assert_allclose(m, ref, atol=1e-10)
    np.testing.assert_allclose(m, m.T, atol=1e-12)
    np.testing.assert_allclose(np.diag(m), 1.0, atol=1e-12)
    # tiny block budget: one language per block row, same result
    _, m_small = cka_matrix(embs, debiased=debiased, max_block_bytes=1)
    np.testing.assert_allclose(m_small, m, atol=1e-12)
    names_o, m_o = cka_matrix(embs, debiased=debiased, order=["l3", "l0"])
    assert names_o == ["l3", "l0"]
    assert m_o[0, 1] == pytest.approx(ref[3, 0], abs=1e-10)


def test_inputs_are_not_modified() -> None:
    rng = np.random.default_rng(5)
    x = (rng.normal(size=(30, 4)) + 3.0).astype(np.float32)
    y = rng.normal(size=(30, 6)) + 1.0
    x0, y0 = x.copy(), y.copy()
    for debiased in (False, True):
        linear_cka(x, y, debiased=debiased)
        cka_gram(x, y, debiased=debiased)
        cka_matrix({"x": x, "y": y}, debiased=debiased)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)
    assert x.dtype == np.float32


def test_float32_input_accumulates_in_float64() -> None:
    rng = np.random.default_rng(6)
    x = rng.normal(size=(500, 32)) + 100.0  # large offset: centring in float32 would lose digits
    y = x @ rng.normal(size=(32, 32))
    exact = linear_cka(x, y)
    assert linear_cka(x.astype(np.float32), y.astype(np.float32)) == pytest.approx(exact, abs=1e-5)


def test_bad_inputs_raise_clear_errors() -> None:
    with pytest.raises(ValueError, match="same items"):
        linear_cka(np.ones((5, 2)), np.ones((6, 2)))
    with pytest.raises(ValueError, match="2-D"):
        linear_cka(np.ones(5), np.ones((5, 2)))
    with pytest.raises(ValueError, match="at least 4"):
        linear_cka(np.eye(3), np.eye(3), debiased=True)
    with pytest.raises(ValueError, match="non-finite"):
        linear_cka(np.array([[np.nan, 1.0], [1.0, 2.0]]), np.ones((2, 2)))
    with pytest.raises(KeyError, match="zzz"):
        cka_matrix({"a": np.ones((4, 2))}, order=["a", "zzz"])
    # zero-variance representation: defined as 0, not NaN
    assert linear_cka(np.ones((5, 3)), np.random.default_rng(0).normal(size=(5, 3))) == 0.0
