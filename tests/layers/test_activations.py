import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import npae
from npae.gradcheck import check_layer
from npae.testing import arrays_for

ACTIVATIONS = {
    "Sigmoid": npae.Sigmoid, "Tanh": npae.Tanh, "ReLU": npae.ReLU,
    "LeakyReLU": lambda: npae.LeakyReLU(0.2), "Softplus": npae.Softplus, "Identity": npae.Identity,
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_gradients(name, backend):
    layer = ACTIVATIONS[name]()

    @given(arrays_for(layer, min_value=-6, max_value=6))
    def check(x):
        result = check_layer(layer, x)
        assert result.passed, str(result)

    check()


REFERENCE = {   # the textbook formulas, evaluated in float64 where they are safe
    "Sigmoid": lambda x: 1 / (1 + np.exp(-x)), "Tanh": np.tanh, "ReLU": lambda x: np.maximum(x, 0),
    # log1p: log(1 + e^x) without the cancellation that costs log(1 + tiny) its digits at x ≈ −8
    "LeakyReLU": lambda x: np.where(x > 0, x, 0.2 * x), "Softplus": lambda x: np.log1p(np.exp(x)),
    "Identity": lambda x: x,
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_values_match_textbook_formula_and_keep_dtype(name, dtype, backend, rng):
    x = rng.uniform(-8, 8, (3, 7)).astype(dtype)
    layer = ACTIVATIONS[name]()
    y = layer.forward(x)
    assert y.dtype == dtype and y.shape == x.shape
    # float64 agrees to a few ulp (measured worst 3.6e-16 relative); float32 to its rounding
    rtol, atol = (2e-6, 1e-7) if dtype == np.float32 else (1e-12, 1e-300)
    np.testing.assert_allclose(y, REFERENCE[name](x.astype(np.float64)), rtol=rtol, atol=atol)
    assert layer.backward(np.ones_like(y)).dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_and_softplus_are_stable_for_large_inputs(dtype, backend):
    x = np.array([[-1e4, -800.0, -50.0, 0.0, 50.0, 800.0, 1e4]], dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):   # underflow to 0 is fine
        s = npae.Sigmoid().forward(x)
        sp_layer = npae.Softplus()
        sp = sp_layer.forward(x)
        dsp = sp_layer.backward(np.ones_like(x))
    assert np.all(np.isfinite(s)) and s[0, 0] == 0 and s[0, -1] == 1 and s[0, 3] == 0.5
    assert np.all(np.isfinite(sp)) and sp[0, 0] == 0 and sp[0, -1] == dtype(1e4)
    np.testing.assert_allclose(dsp, s)


@given(st.floats(0.001, 0.99))
def test_leaky_relu_slope(alpha):
    layer = npae.LeakyReLU(alpha)
    x = np.array([[-2.0, 3.0]])
    np.testing.assert_allclose(layer.forward(x), [[-2 * alpha, 3.0]])
    np.testing.assert_allclose(layer.backward(np.ones((1, 2))), [[alpha, 1.0]])


def test_relu_backward_does_not_mask_dy_in_place(rng):
    layer = npae.ReLU()
    layer.forward(np.array([[-1.0, 2.0]]))
    dy = np.array([[5.0, 7.0]])
    dx = layer.backward(dy)
    np.testing.assert_array_equal(dy, [[5.0, 7.0]])
    np.testing.assert_array_equal(dx, [[0.0, 7.0]])


def test_activation_rejects_bad_input():
    with pytest.raises(ValueError, match="Sigmoid: input contains NaN"):
        npae.Sigmoid().forward(np.array([[np.inf]]))
    with pytest.raises(TypeError, match="Tanh: input must be float32 or float64"):
        npae.Tanh().forward(np.array([[1, 2]]))
    with pytest.raises(ValueError, match="alpha"):
        npae.LeakyReLU(-0.1)
