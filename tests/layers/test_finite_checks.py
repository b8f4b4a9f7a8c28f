"""Dense, TiedDense and the activations (ReLU, LeakyReLU, Sigmoid, Softplus, Tanh) check
finiteness inside a pass they make anyway (the bias add over x W + b, the activation over x).
These tests make sure no NaN or inf slips through that shortcut, wherever it sits and
whatever the input's layout or the layer's size, on both backends, and that the error still
names what is at fault."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import npae
from npae.errors import NonFiniteError

DTYPES = [np.float32, np.float64]
BAD = st.sampled_from([np.nan, np.inf, -np.inf])
KINDS = ["Dense", "Dense without bias", "TiedDense"]


def _layer(kind, d_in, d_out, dtype):
    if kind == "TiedDense":
        return npae.TiedDense(npae.Dense(d_out, d_in, rng=2, dtype=dtype))
    return npae.Dense(d_in, d_out, bias=kind == "Dense", rng=0, dtype=dtype)


def _laid_out(x, layout):
    """x (n, d) as a C-ordered, Fortran-ordered or strided array of the same values."""
    if layout == "F":
        return np.asfortranarray(x)
    if layout == "strided":
        wide = np.zeros((x.shape[0], 2 * x.shape[1]), x.dtype)
        wide[:, ::2] = x
        return wide[:, ::2]
    return x


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", KINDS)
def test_a_nonfinite_input_anywhere_is_named(kind, dtype, backend):

    @given(st.integers(1, 6), st.integers(1, 9), st.integers(1, 12), st.sampled_from(["C", "F", "strided"]),
           st.lists(st.tuples(st.integers(0, 10_000), BAD), min_size=1, max_size=3), st.booleans())
    def check(n, d_in, d_out, layout, specials, zero_weights):
        layer = _layer(kind, d_in, d_out, dtype)
        if zero_weights:      # ±inf · 0 is NaN: a zero W still shows the bad input
            layer.W.value[:] = 0
        x = np.random.default_rng(n).normal(size=(n, d_in)).astype(dtype)
        for i, v in specials:
            x.reshape(-1)[i % x.size] = v
        count = int((~np.isfinite(x)).sum())
        with np.errstate(invalid="ignore", over="ignore"), pytest.raises(
                NonFiniteError, match=rf"{layer.name}: input contains NaN or inf \({count} of {x.size}"):
            layer.forward(_laid_out(x, layout))

    check()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["W", "b"])
def test_nonfinite_parameters_are_named(name, dtype, backend):
    for kind in ("Dense", "TiedDense"):
        layer = _layer(kind, 5, 3, dtype)
        getattr(layer, name).value.reshape(-1)[1] = np.nan
        with np.errstate(invalid="ignore"), pytest.raises(
                NonFiniteError, match=rf"{layer.name}: {name} contains NaN or inf \(1 of"):
            layer.forward(np.ones((2, 5), dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", KINDS)
def test_an_overflowing_product_is_named(kind, dtype, backend):
    layer = _layer(kind, 4, 2, dtype)
    layer.W.value[:] = np.finfo(dtype).max / 2
    with np.errstate(over="ignore"), pytest.raises(
            NonFiniteError, match=rf"{layer.name}: the output overflowed \(inf, or NaN from inf − inf\)"):
        layer.forward(np.full((3, 4), 8, dtype))
    layer.W.value[:] = 1
    np.testing.assert_array_equal(layer.forward(np.full((3, 4), 8, dtype)), np.full((3, 2), 32, dtype))


ACTIVATIONS = {"ReLU": (npae.ReLU(), lambda x: np.maximum(x, 0)),
               "LeakyReLU": (npae.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
               "Sigmoid": (npae.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
               "Softplus": (npae.Softplus(), lambda x: np.log1p(np.exp(x))),
               "Tanh": (npae.Tanh(), np.tanh)}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_name_a_nonfinite_input_anywhere(name, dtype, backend):
    layer, reference = ACTIVATIONS[name]

    @given(st.integers(1, 70), st.integers(0, 10_000), BAD, st.sampled_from(["C", "F", "strided"]))
    def check(size, where, bad, layout):
        x = np.random.default_rng(size).normal(size=(size, 2)).astype(dtype)
        x.reshape(-1)[where % x.size] = bad
        with np.errstate(invalid="ignore"), pytest.raises(
                NonFiniteError, match=rf"{layer.name}: input contains NaN or inf \(1 of {x.size}"):
            layer.forward(_laid_out(x, layout))

    check()
    x = np.array([-2.0, 0.0, 3.0], dtype)                      # and finite inputs pass
    np.testing.assert_allclose(layer.forward(x), reference(x.astype(np.float64)), rtol=1e-6)
