import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import npae
from npae.gradcheck import check_layer
from npae.testing import arrays, batch_sizes


@st.composite
def dense_and_input(draw, tied=False):
    d_in, d_out = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    layer = npae.Dense(d_in, d_out, bias=draw(st.booleans()), init=draw(st.sampled_from(["glorot", "he"])),
                       rng=draw(st.integers(0, 2**16)), dtype=np.float64)
    if tied:
        layer = npae.TiedDense(layer, bias=draw(st.booleans()))
        d_in = d_out
    x = draw(arrays((draw(batch_sizes()), d_in)))
    return layer, x


@given(dense_and_input())
def test_dense_gradients(case):
    layer, x = case
    result = check_layer(layer, x)
    assert result.passed, str(result)


@given(dense_and_input(tied=True))
def test_tied_dense_gradients(case):
    layer, x = case
    result = check_layer(layer, x)
    assert result.passed, str(result)


def test_tied_weight_gradient_is_the_sum_of_both_uses(rng):
    enc = npae.Dense(5, 3, dtype=np.float64, rng=0)
    dec = npae.TiedDense(enc)
    model = npae.Sequential(enc, npae.Sigmoid(), dec)
    assert model.parameters().count(enc.W) == 1          # listed once
    x = rng.standard_normal((4, 5))
    result = check_layer(model, x)
    assert result.passed, str(result)
    # the encoder's use alone gives a different gradient: both uses must be summed
    model.zero_grad()
    model.forward(x)
    model.backward(np.ones((4, 5)))
    total = enc.W.grad.copy()
    enc.W.zero_grad()
    dec.backward(np.ones((4, 5)))
    assert not np.allclose(enc.W.grad, total)


def test_initialisations_have_the_documented_spread():
    w = npae.Dense(400, 300, init="glorot", rng=0).W.value
    limit = np.sqrt(6 / 700)
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.95 * limit
    assert abs(w.std() - limit / np.sqrt(3)) < 0.02 * limit
    w = npae.Dense(400, 300, init="he", rng=0).W.value
    assert abs(w.std() - np.sqrt(2 / 400)) < 0.02 * np.sqrt(2 / 400)
    assert npae.Dense(3, 2).W.dtype == np.float32
    np.testing.assert_array_equal(npae.Dense(4, 3, rng=7).W.value, npae.Dense(4, 3, rng=7).W.value)
    with pytest.raises(ValueError, match="init"):
        npae.Dense(3, 2, init="uniform")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_end_to_end(dtype, rng):
    layer = npae.Dense(4, 3, dtype=dtype)
    y = layer.forward(rng.random((2, 4)).astype(dtype))
    dx = layer.backward(np.ones_like(y))
    assert y.dtype == dx.dtype == layer.W.grad.dtype == layer.b.grad.dtype == dtype


def test_bad_inputs_name_the_layer_and_the_shapes():
    layer = npae.Dense(4, 3)
    with pytest.raises(npae.ShapeError, match=r"Dense: expected input of shape \(N, 4\), got \(2, 5\)"):
        layer.forward(np.zeros((2, 5), np.float32))
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        layer.forward(np.zeros(4, np.float32))
    with pytest.raises(ValueError, match="float64 but the layer's parameters are float32"):
        layer.forward(np.zeros((2, 4)))
    with pytest.raises(TypeError, match="divide by 255"):
        layer.forward(np.zeros((2, 4), np.uint8))
    with pytest.raises(ValueError, match="NaN or inf"):
        layer.forward(np.array([[0, np.nan, 0, 0]], np.float32))
    with pytest.raises(ValueError, match="empty"):
        layer.forward(np.zeros((0, 4), np.float32))


def test_backward_protocol_errors():
    layer = npae.Dense(4, 3)
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.zeros((2, 3), np.float32))
    layer.forward(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        layer.backward(np.zeros((2, 4), np.float32))
    with pytest.raises(TypeError, match="needs the Dense layer whose W it shares, got Sigmoid"):
        npae.TiedDense(npae.Sigmoid())


def test_a_bias_of_the_wrong_size_is_refused_not_written_past_the_output():
    layer = npae.Dense(3, 2, rng=0)
    layer.b.value = np.zeros(5, np.float32)
    with pytest.raises(npae.ShapeError, match="bias of shape"):
        layer.forward(np.ones((4, 3), np.float32))
