import math
import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import npae
from npae import kernels
from npae.gradcheck import check_loss
from npae.testing import arrays, batch_sizes, feature_shapes


@st.composite
def batches(draw, low=-3.0, high=3.0, target_low=-3.0, target_high=3.0):
    shape = (draw(batch_sizes()),) + draw(feature_shapes(max_dims=2))
    pred = draw(arrays(shape, min_value=low, max_value=high))
    target = draw(arrays(shape, min_value=target_low, max_value=target_high))
    # pred == target everywhere makes the true gradient exactly 0: nothing to compare relatively
    assume(np.abs(pred - target).max() > 1e-3)
    return pred, target


def _check(loss, pred, target):
    result = check_loss(loss, pred, target)
    assert result.passed, str(result)


@given(batches())
def test_mse_gradient(case):
    _check(npae.MSE(), *case)


@given(batches(0.02, 0.98, 0.0, 1.0))
def test_bce_gradient(case):
    _check(npae.BCE(), *case)


@given(batches(-20.0, 20.0, 0.0, 1.0))
def test_bce_with_logits_gradient(case):
    _check(npae.BCEWithLogits(), *case)


@given(batches(), st.floats(0.1, 10.0))
def test_gaussian_nll_gradient_fixed_variance(case, variance):
    _check(npae.GaussianNLL(variance), *case)


@given(batches(), st.data())
def test_gaussian_nll_gradients_given_variance(case, data):
    pred, target = case
    var = data.draw(arrays(pred.shape[1:], min_value=0.2, max_value=5.0))   # per-feature, broadcast
    loss = npae.GaussianNLL()
    _check_variance = npae.gradcheck.numerical_gradient(lambda: loss.forward(pred, target, var), var)
    loss.forward(pred, target, var)
    assert npae.gradcheck.rel_error(loss.variance_grad, _check_variance) < 1e-7
    numeric = npae.gradcheck.numerical_gradient(lambda: loss.forward(pred, target, var), pred)
    loss.forward(pred, target, var)
    assert npae.gradcheck.rel_error(loss.backward(), numeric) < 1e-7


def test_values_follow_the_documented_reduction(rng):
    """Sum over features, mean over the batch — checked against the formulas."""
    p = rng.uniform(0.05, 0.95, (4, 6))
    t = rng.uniform(0, 1, (4, 6))
    z = rng.normal(0, 3, (4, 6))
    assert npae.MSE()(p, t) == pytest.approx(0.5 * np.sum((p - t) ** 2) / 4, rel=1e-12)
    bce = -np.sum(t * np.log(p) + (1 - t) * np.log(1 - p)) / 4
    assert npae.BCE()(p, t) == pytest.approx(bce, rel=1e-12)
    s = 1 / (1 + np.exp(-z))
    bce_z = -np.sum(t * np.log(s) + (1 - t) * np.log(1 - s)) / 4
    assert npae.BCEWithLogits()(z, t) == pytest.approx(bce_z, rel=1e-10)
    nll = np.sum(0.5 * (t - p) ** 2 / 2.0 + 0.5 * np.log(2 * np.pi * 2.0)) / 4
    assert npae.GaussianNLL(2.0)(p, t) == pytest.approx(nll, rel=1e-12)
    assert npae.GaussianNLL(1.0)(p, t) == pytest.approx(npae.MSE()(p, t) + 3 * math.log(2 * math.pi), rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradient_dtype_matches_prediction(dtype, backend, rng):
    p = rng.uniform(0.1, 0.9, (3, 5)).astype(dtype)
    for loss in (npae.MSE(), npae.BCE(), npae.BCEWithLogits(), npae.GaussianNLL(0.5)):
        value = loss(p, p[::-1].copy())
        assert np.isfinite(value)
        assert loss.backward().dtype == dtype and loss.backward().shape == p.shape


def test_bce_with_logits_is_stable_for_huge_logits(backend):
    z = np.array([[1e4, -1e4, 800.0, -800.0]])
    t = np.array([[1.0, 0.0, 0.0, 1.0]])
    loss = npae.BCEWithLogits()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = loss(z, t)
    assert value == pytest.approx(1600.0)
    np.testing.assert_allclose(loss.backward(), [[0.0, 0.0, 1.0, -1.0]])


def test_bce_clips_and_warns_outside_unit_interval():
    loss = npae.BCE()
    with pytest.warns(npae.DomainWarning, match="BCEWithLogits"):
        value = loss(np.array([[1.2, 0.0]]), np.array([[0.0, 1.0]]))
    assert np.isfinite(value) and np.all(np.isfinite(loss.backward()))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(loss(np.array([[0.0, 1.0]]), np.array([[1.0, 0.0]])))   # clipped, no NaN


@pytest.mark.parametrize("loss", [npae.BCE(), npae.BCEWithLogits()])
def test_targets_outside_domain_raise(loss):
    with pytest.raises(npae.DomainError, match=r"targets must lie in \[0, 1\]"):
        loss(np.array([[0.5]]), np.array([[1.5]]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [-1e-45, 1 + 1e-6, np.nan, np.inf])
def test_bce_with_logits_names_the_bad_target_it_finds_in_its_loop(dtype, bad, backend):
    """The domain and finiteness checks ride along in the fused loop; whatever it flags, the
    error names it: a denormal just below 0, a hair above 1, NaN, inf."""
    t = np.array([[0.5, 1.0, 0.0, bad]]).astype(dtype)
    if dtype == np.float32 and bad == -1e-45:
        assert t[0, 3] < 0                        # float32 still holds a denormal there
    error = npae.NonFiniteError if not np.isfinite(bad) else npae.DomainError
    message = "target contains NaN or inf" if not np.isfinite(bad) else r"targets must lie in \[0, 1\]"
    with pytest.raises(error, match=message):
        npae.BCEWithLogits()(np.zeros_like(t), t)
    with pytest.raises(npae.NonFiniteError, match="prediction contains NaN or inf"):
        npae.BCEWithLogits()(np.array([[0.0, 1.0, np.nan, 2.0]], dtype), np.clip(np.nan_to_num(t), 0, 1))


def test_bce_with_logits_float32_total_survives_logits_near_the_float32_limit(backend):
    """float32 block sums of 3e38 overflow; the loss then comes from the float64 path."""
    z = np.full((1, 600), 3e38, np.float32)
    z[0, ::2] *= -1                                # half cost 3e38 each (t = 0), half nothing
    loss = npae.BCEWithLogits()
    value = loss(z, np.zeros_like(z))
    assert value == pytest.approx(300 * 3e38, rel=1e-6)
    np.testing.assert_array_equal(loss.backward(), (z > 0).astype(np.float32))   # s(z) − t


def test_bad_loss_inputs():
    with pytest.raises(ValueError, match=r"same shape, got \(2, 3\) and \(2, 4\)"):
        npae.MSE()(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="target contains NaN"):
        npae.MSE()(np.zeros((1, 2)), np.array([[0.0, np.nan]]))
    with pytest.raises(TypeError, match="target has dtype float32"):
        npae.MSE()(np.zeros((1, 2)), np.zeros((1, 2), np.float32))
    with pytest.raises(RuntimeError, match="before forward"):
        npae.MSE().backward()
    with pytest.raises(ValueError, match="variance must be > 0"):
        npae.GaussianNLL(0.0)
    with pytest.raises(ValueError, match="variance must be > 0 everywhere"):
        npae.GaussianNLL()(np.zeros((1, 2)), np.zeros((1, 2)), np.array([1.0, 0.0]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_log1p_series_is_within_a_few_ulps(dtype, backend):
    """BCE with logits' fused loop computes log1p(e), e = exp(−|z|) in [0, 1], by a series (the
    NumPy twin calls log1p). Given e, with t = 0 and z < 0 the per-example loss is log1p(e)
    alone: it must match log1p in extended precision to 4 units in the last place, from
    e = 1 (the series' worst point) down to denormals."""
    e = np.concatenate([np.linspace(0, 1, 2001), np.geomspace(np.finfo(dtype).tiny, 1, 400),
                        [np.finfo(dtype).smallest_subnormal, 1 - np.finfo(dtype).epsneg]]).astype(dtype)
    z, t = np.full(1, -1, dtype), np.zeros(1, dtype)
    coefficients = kernels.losses.atanh_coefficients(dtype)
    got = np.array([kernels.losses.bce_with_logits_from_exp(z, t, e[i:i + 1], coefficients, dtype(1),
                                                             np.empty(1, dtype)) for i in range(e.size)])
    exact = np.log1p(e.astype(np.longdouble))
    ulps = np.abs(got - exact) / np.spacing(exact.astype(dtype))
    assert np.max(ulps) <= 4, (e[np.argmax(ulps)], np.max(ulps))
    assert got[0] == 0                       # e = 0 gives exactly 0


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 3e-7), (np.float64, 1e-15)])
def test_bce_with_logits_is_accurate_example_by_example(dtype, rtol, backend):
    """The Numba loop's log1p(e^-|z|) is a series (the NumPy twin calls log1p): each
    example's loss, ``softplus(z)`` with t = 0, must match a float64 reference to a few ulps,
    from z = 0 (e = 1, the series' worst point) to z = ±100 (below z = -87, float32's e^z is a
    denormal with fewer significant bits: there the bar is absolute, the smallest normal)."""
    z = np.concatenate([[0.0, -0.0, 1e-30, -1e-8], np.linspace(-100, 100, 4001)]).astype(dtype)
    loss = npae.BCEWithLogits()
    per_example = np.array([loss(v.reshape(1, 1), np.zeros((1, 1), dtype)) for v in z])
    z64 = z.astype(np.float64)
    exact = np.maximum(z64, 0) + np.log1p(np.exp(-np.abs(z64)))
    np.testing.assert_allclose(per_example, exact, rtol=rtol, atol=np.finfo(dtype).tiny)
