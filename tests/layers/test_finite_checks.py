"""Dense, TiedDense and (leaky) ReLU check finiteness inside a pass they make anyway (the bias
add over x W + b, the activation over x). These tests make sure no NaN or inf slips through
that shortcut, wherever it sits, and that the error still names what is at fault."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import npae
from npae.errors import NonFiniteError

DTYPES = [np.float32, np.float64]
BAD = st.sampled_from([np.nan, np.inf, -np.inf])


def _layers(dtype):
    dense = npae.Dense(5, 3, rng=0, dtype=dtype)
    return {"Dense": dense, "Dense without bias": npae.Dense(5, 3, bias=False, rng=1, dtype=dtype),
            "TiedDense": npae.TiedDense(npae.Dense(3, 5, rng=2, dtype=dtype))}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("which", ["Dense", "Dense without bias", "TiedDense"])
def test_a_nonfinite_input_anywhere_is_named(which, dtype):
    layer = _layers(dtype)[which]

    @given(st.integers(1, 6), st.lists(st.tuples(st.integers(0, 29), BAD), min_size=1, max_size=3),
           st.booleans())
    def check(n, specials, zero_weights):
        if zero_weights:      # ±inf · 0 is NaN: a zero W still shows the bad input
            layer.W.value[:] = 0
        x = np.random.default_rng(n).normal(size=(n, 5)).astype(dtype)
        for i, v in specials:
            x.reshape(-1)[i % x.size] = v
        count = int((~np.isfinite(x)).sum())
        with np.errstate(invalid="ignore", over="ignore"), pytest.raises(
                NonFiniteError, match=rf"{layer.name}: input contains NaN or inf \({count} of {x.size}"):
            layer.forward(x)

    check()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["W", "b"])
def test_nonfinite_parameters_are_named(name, dtype):
    for which in ("Dense", "TiedDense"):
        layer = _layers(dtype)[which]
        getattr(layer, name).value.reshape(-1)[1] = np.nan
        with np.errstate(invalid="ignore"), pytest.raises(
                NonFiniteError, match=rf"{layer.name}: {name} contains NaN or inf \(1 of"):
            layer.forward(np.ones((2, layer.W.shape[0] if which == "Dense" else layer.W.shape[1]), dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_an_overflowing_product_is_named(dtype):
    layer = npae.Dense(4, 2, rng=0, dtype=dtype)
    layer.W.value[:] = np.finfo(dtype).max / 2
    with np.errstate(over="ignore"), pytest.raises(NonFiniteError, match=r"Dense: the output x W \+ b overflowed"):
        layer.forward(np.full((3, 4), 8, dtype))
    layer.W.value[:] = 1
    layer.forward(np.full((3, 4), 8, dtype))        # nothing was cached or broken on the way


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layer", [npae.ReLU(), npae.LeakyReLU(0.2)], ids=["ReLU", "LeakyReLU"])
def test_relu_names_a_nonfinite_input_anywhere(layer, dtype):

    @given(st.integers(1, 70), st.integers(0, 10_000), BAD)
    def check(size, where, bad):
        x = np.random.default_rng(size).normal(size=size).astype(dtype)
        x[where % size] = bad
        with pytest.raises(NonFiniteError, match=rf"{layer.name}: input contains NaN or inf \(1 of {size}"):
            layer.forward(x)

    check()
    y = layer.forward(np.array([-2.0, 0.0, 3.0], dtype))      # and finite inputs pass
    np.testing.assert_array_equal(y, np.array([-2.0 * layer.alpha, 0.0, 3.0], dtype))
