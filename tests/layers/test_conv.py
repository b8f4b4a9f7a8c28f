"""Conv2D and ConvTranspose2D: gradients, the defining equations, the adjoint identity, errors."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import npae
from npae.gradcheck import check_layer
from npae.layers import Conv2D, ConvTranspose2D
from npae.testing import arrays, batch_sizes

MAX_SIDE, MAX_CHANNELS = 7, 3


@st.composite
def conv_cases(draw, bias=None):
    """A float64 Conv2D (non-square kernels, strides, paddings) and an input it fits."""
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, kh - 2 * ph), MAX_SIDE))
    w = draw(st.integers(max(1, kw - 2 * pw), MAX_SIDE))
    c_in, c_out = draw(st.integers(1, MAX_CHANNELS)), draw(st.integers(1, MAX_CHANNELS))
    layer = Conv2D(c_in, c_out, (kh, kw), stride=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
                   padding=(ph, pw), bias=draw(st.booleans()) if bias is None else bias,
                   init=draw(st.sampled_from(["glorot", "he"])), rng=draw(st.integers(0, 2**16)),
                   dtype=np.float64)
    x = draw(arrays((draw(batch_sizes(3)), c_in, h, w)))
    return layer, x


@st.composite
def conv_transpose_cases(draw):
    """A float64 ConvTranspose2D with output_padding < stride, and an input it maps to >= 1 pixel."""
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    oh, ow = draw(st.integers(0, sh - 1)), draw(st.integers(0, sw - 1))
    h, w = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    # the output (h − 1) s − 2 p + k + output_padding must keep at least one pixel
    ph = draw(st.integers(0, min(2, ((h - 1) * sh + kh + oh - 1) // 2)))
    pw = draw(st.integers(0, min(2, ((w - 1) * sw + kw + ow - 1) // 2)))
    c_in, c_out = draw(st.integers(1, MAX_CHANNELS)), draw(st.integers(1, MAX_CHANNELS))
    layer = ConvTranspose2D(c_in, c_out, (kh, kw), (sh, sw), (ph, pw), (oh, ow),
                            bias=draw(st.booleans()), rng=draw(st.integers(0, 2**16)),
                            dtype=np.float64)
    x = draw(arrays((draw(batch_sizes(3)), c_in, h, w)))
    return layer, x


# --- gradients ------------------------------------------------------------------------------

@given(conv_cases())
def test_conv2d_gradients(case):
    layer, x = case
    result = check_layer(layer, x)
    assert result.passed, f"{layer!r} on {x.shape}\n{result}"


@given(conv_transpose_cases())
def test_conv_transpose2d_gradients(case):
    layer, x = case
    result = check_layer(layer, x)
    assert result.passed, f"{layer!r} on {x.shape}\n{result}"


# --- the forward passes compute the defining equations ----------------------------------------

def conv2d_by_definition(x, W, b, stride, padding):
    """y[n, f, i, j] = b[f] + Σ_{c,p,q} W[f, c, p, q] x_pad[n, c, i s_h + p, j s_w + q], pixel by pixel."""
    (sh, sw), (ph, pw) = stride, padding
    kh, kw = W.shape[2:]
    x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    ho, wo = (x_pad.shape[2] - kh) // sh + 1, (x_pad.shape[3] - kw) // sw + 1
    y = np.zeros((len(x), len(W), ho, wo))
    for n in range(len(x)):
        for i in range(ho):
            for j in range(wo):
                window = x_pad[n, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
                y[n, :, i, j] = np.tensordot(W, window, axes=3) + b
    return y


def conv_transpose2d_by_definition(x, W, b, stride, padding, output_padding):
    """Every input pixel adds x[n, c, i, j] W[c] onto the output patch at (i s_h, j s_w), then
    the padding is cropped away."""
    (sh, sw), (ph, pw), (oh, ow) = stride, padding, output_padding
    n, c_in, h, w = x.shape
    kh, kw = W.shape[2:]
    y_pad = np.zeros((n, W.shape[1], (h - 1) * sh + kh + oh, (w - 1) * sw + kw + ow))
    for m in range(n):
        for c in range(c_in):
            for i in range(h):
                for j in range(w):
                    y_pad[m, :, i * sh:i * sh + kh, j * sw:j * sw + kw] += x[m, c, i, j] * W[c]
    y = y_pad[:, :, ph:y_pad.shape[2] - ph, pw:y_pad.shape[3] - pw]
    return y + b[:, None, None]


def _bias(layer):
    return layer.b.value if layer.b is not None else np.zeros(layer.out_channels)


@given(conv_cases())
def test_conv2d_forward_is_the_defining_sum(case):
    layer, x = case
    expected = conv2d_by_definition(x, layer.W.value, _bias(layer), layer.stride, layer.padding)
    y = layer.forward(x)
    assert y.shape == expected.shape == layer.output_shape(x.shape)
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


@given(conv_transpose_cases())
def test_conv_transpose2d_forward_is_the_defining_scatter(case):
    layer, x = case
    expected = conv_transpose2d_by_definition(x, layer.W.value, _bias(layer), layer.stride,
                                              layer.padding, layer.output_padding)
    y = layer.forward(x)
    assert y.shape == expected.shape == layer.output_shape(x.shape)
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


@given(conv_cases(bias=False), st.integers(0, 2**16))
def test_conv_transpose_is_the_adjoint_of_conv(case, seed):
    """<Conv(x), y> = <x, ConvT(y)> for a shared W (no bias), on drawn geometries; the
    output_padding is chosen so that ConvT maps back onto x's exact shape."""
    conv, x = case
    (kh, kw), (sh, sw), (ph, pw) = conv.kernel_size, conv.stride, conv.padding
    output_padding = ((x.shape[2] + 2 * ph - kh) % sh, (x.shape[3] + 2 * pw - kw) % sw)
    transpose = ConvTranspose2D(conv.out_channels, conv.in_channels, (kh, kw), (sh, sw), (ph, pw),
                                output_padding, bias=False, dtype=np.float64)
    transpose.W = conv.W                                        # the same Parameter
    conv_x = conv.forward(x)
    y = np.random.default_rng(seed).standard_normal(conv_x.shape)
    transpose_y = transpose.forward(y)
    assert transpose_y.shape == x.shape
    lhs, rhs = np.sum(conv_x * y), np.sum(x * transpose_y)
    assert abs(lhs - rhs) <= 1e-12 * max(1.0, np.abs(conv_x * y).sum())
    # "backward is the forward conv's forward": ConvT's dx for dy = x is Conv(x)
    np.testing.assert_allclose(transpose.backward(x), conv_x, rtol=1e-12, atol=1e-12)


def test_the_decoder_geometry_doubles_the_size():
    down = Conv2D(1, 16, 3, stride=2, padding=1)
    up = ConvTranspose2D(16, 1, 3, stride=2, padding=1, output_padding=1)
    assert down.output_shape((5, 1, 28, 28)) == (5, 16, 14, 14)
    assert up.output_shape((5, 16, 14, 14)) == (5, 1, 28, 28)


# --- dtypes and parameters ----------------------------------------------------------------

@pytest.mark.parametrize("layer_type", [Conv2D, ConvTranspose2D])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_end_to_end(layer_type, dtype, rng):
    layer = layer_type(2, 3, 3, stride=2, padding=1, dtype=dtype, rng=0)
    y = layer.forward(rng.standard_normal((2, 2, 5, 5)).astype(dtype))
    dx = layer.backward(np.ones_like(y))
    assert y.dtype == dx.dtype == layer.W.grad.dtype == layer.b.grad.dtype == dtype
    assert [name for name, _ in layer.named_parameters()] == ["W", "b"]
    with pytest.raises(npae.DTypeError, match="npae never upcasts"):
        layer.forward(np.zeros((1, 2, 5, 5), np.float64 if dtype == np.float32 else np.float32))


def test_float32_matches_float64(rng):
    x = rng.standard_normal((3, 2, 7, 6))
    single = Conv2D(2, 3, (3, 2), stride=(2, 1), padding=1, rng=5)
    double = Conv2D(2, 3, (3, 2), stride=(2, 1), padding=1, rng=5, dtype=np.float64)
    np.testing.assert_allclose(single.forward(x.astype(np.float32)), double.forward(x),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("layer_type", [Conv2D, ConvTranspose2D])
def test_bias_is_added_per_channel_and_its_gradient_sums_batch_and_pixels(layer_type, rng):
    # the bias paths use a (N, F, H·W) view and two matrix-vector products; check them
    # against the defining sums, with a dy that is not C-contiguous
    layer = layer_type(2, 3, 3, stride=2, padding=1, rng=1, dtype=np.float64)
    x = rng.standard_normal((4, 2, 5, 5))
    layer.b.value[:] = [1.0, -2.0, 0.5]
    y_with = layer.forward(x)
    b, layer.b = layer.b, None
    y_without = layer.forward(x)
    layer.b = b
    np.testing.assert_allclose(y_with - y_without, np.broadcast_to(b.value[:, None, None], y_with.shape),
                               rtol=0, atol=1e-12)
    layer.forward(x)
    dy = np.asfortranarray(rng.standard_normal(y_with.shape))
    layer.zero_grad()
    layer.backward(dy)
    np.testing.assert_allclose(layer.b.grad, [dy[:, f].sum() for f in range(3)], rtol=1e-12)


def test_initialisations_use_convolutional_fans():
    w = Conv2D(16, 32, 3, init="he", rng=0).W.value
    assert w.shape == (32, 16, 3, 3)
    assert abs(w.std() - np.sqrt(2 / (16 * 9))) < 0.03 * np.sqrt(2 / (16 * 9))
    limit = np.sqrt(6 / (16 * 9 + 32 * 9))
    w = Conv2D(16, 32, 3, init="glorot", rng=0).W.value
    assert limit * 0.95 < np.abs(w).max() <= limit
    assert ConvTranspose2D(32, 16, 3, stride=2).W.shape == (32, 16, 3, 3)
    np.testing.assert_array_equal(Conv2D(2, 3, 3, rng=7).W.value, Conv2D(2, 3, 3, rng=7).W.value)


# --- errors -------------------------------------------------------------------------------

@pytest.mark.parametrize("layer_type", [Conv2D, ConvTranspose2D])
def test_input_must_be_a_4d_batch_with_the_right_channels(layer_type):
    layer = layer_type(3, 2, 3)
    with pytest.raises(npae.ShapeError, match=r"4-D batch of images \(N, C, H, W\), got shape \(2, 5, 5\)"):
        layer.forward(np.zeros((2, 5, 5), np.float32))
    with pytest.raises(ValueError, match=r"expected 3 input channel\(s\), got 1"):
        layer.forward(np.zeros((2, 1, 5, 5), np.float32))
    with pytest.raises(npae.NonFiniteError, match="NaN or inf"):
        layer.forward(np.full((1, 3, 5, 5), np.nan, np.float32))
    with pytest.raises(TypeError, match="float32 or float64, got int64"):
        layer.forward(np.zeros((1, 3, 5, 5), np.int64))


def test_kernel_that_does_not_fit_states_the_output_size_formula():
    layer = Conv2D(1, 2, (2, 5), padding=(0, 1))
    with pytest.raises(npae.ShapeError) as info:
        layer.forward(np.zeros((1, 1, 4, 2), np.float32))
    message = str(info.value)
    assert "output width = ⌊(width + 2·padding − kernel) / stride⌋ + 1" in message
    assert "⌊(2 + 2·1 − 5) / 1⌋ + 1 = 0" in message and "(1, 1, 4, 2)" in message
    with pytest.raises(ValueError, match=r"⌊\(3 \+ 2·0 − 5\) / 2⌋ \+ 1 = 0"):
        Conv2D(1, 1, 5, stride=2).forward(np.zeros((1, 1, 3, 9), np.float32))
    with pytest.raises(ValueError, match=r"\(1 − 1\)·1 − 2·1 \+ 1 \+ 0 = -1"):
        ConvTranspose2D(1, 1, 1, padding=1).forward(np.zeros((1, 1, 1, 1), np.float32))


def test_bad_hyper_parameters_are_rejected():
    with pytest.raises(ValueError, match="kernel_size must be an int >= 1"):
        Conv2D(1, 1, 0)
    with pytest.raises(ValueError, match="stride must be an int >= 1"):
        Conv2D(1, 1, 3, stride=(1, 0))
    with pytest.raises(ValueError, match="padding must be an int >= 0"):
        Conv2D(1, 1, 3, padding=-1)
    with pytest.raises(ValueError, match="channel counts must be positive"):
        ConvTranspose2D(0, 1, 3)
    with pytest.raises(ValueError, match=r"output_padding \(2, 0\) must be smaller than the stride \(2, 2\)"):
        ConvTranspose2D(1, 1, 3, stride=2, output_padding=(2, 0))


def test_input_shape_is_checked_and_drawn_for():
    from npae.testing import arrays_for
    layer = Conv2D(2, 1, 3, dtype=np.float64, input_shape=(2, 5, 4))
    with pytest.raises(npae.ShapeError, match=r"\(N, \*\(2, 5, 4\)\), got \(1, 2, 5, 5\)"):
        layer.forward(np.zeros((1, 2, 5, 5)))

    @given(arrays_for(layer))
    def drawn_inputs_fit(x):
        assert x.shape[1:] == (2, 5, 4)
        layer.forward(x)
    drawn_inputs_fit()


def test_backward_checks_dy_and_order():
    layer = Conv2D(1, 2, 3)
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.zeros((1, 2, 3, 3), np.float32))
    layer.forward(np.zeros((1, 1, 5, 5), np.float32))
    with pytest.raises(npae.ShapeError, match=r"\(1, 2, 3, 3\)"):
        layer.backward(np.zeros((1, 2, 4, 4), np.float32))
