"""Upsample2D: nearest-neighbour copies forward, block *sums* backward."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import npae
from npae.gradcheck import check_layer
from npae.layers import Upsample2D
from npae.testing import arrays, batch_sizes


@st.composite
def upsample_cases(draw):
    scale = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    shape = (draw(batch_sizes(3)), draw(st.integers(1, 3)), draw(st.integers(1, 4)),
             draw(st.integers(1, 4)))
    return Upsample2D(scale), draw(arrays(shape))


@given(upsample_cases())
def test_upsample_gradients(case):
    layer, x = case
    result = check_layer(layer, x)
    assert result.passed, f"{layer!r} on {x.shape}\n{result}"


@given(upsample_cases(), st.integers(0, 2**16))
def test_forward_copies_and_backward_sums_each_block(case, seed):
    layer, x = case
    sh, sw = layer.scale
    y = layer.forward(x)
    n, c, h, w = x.shape
    assert y.shape == layer.output_shape(x.shape) == (n, c, h * sh, w * sw)
    dy = np.random.default_rng(seed).standard_normal(y.shape)
    dx = layer.backward(dy)
    for r in range(h):
        for t in range(w):
            block = (slice(None), slice(None), slice(r * sh, (r + 1) * sh), slice(t * sw, (t + 1) * sw))
            assert np.all(y[block] == x[:, :, r:r + 1, t:t + 1])
            np.testing.assert_allclose(dx[:, :, r, t], dy[block].sum(axis=(2, 3)), rtol=1e-12)


class StridedSliceUpsample2D(Upsample2D):
    """The common bug: backward samples one copy per block instead of summing the block."""

    def backward(self, dy):
        self._saved(dy)
        return np.ascontiguousarray(dy[:, :, ::self.scale[0], ::self.scale[1]])


def test_the_checks_catch_a_strided_slice_backward(rng):
    x = rng.standard_normal((2, 3, 3, 4))
    assert check_layer(Upsample2D(2), x).passed
    assert not check_layer(StridedSliceUpsample2D(2), x).passed
    # and by hand: a constant dy gives s_h s_w per pixel, not 1
    layer = Upsample2D((2, 3))
    layer.forward(x)
    np.testing.assert_array_equal(layer.backward(np.ones((2, 3, 6, 12))), np.full(x.shape, 6.0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_and_output_is_contiguous(dtype, rng):
    layer = Upsample2D(2)
    y = layer.forward(rng.standard_normal((1, 2, 3, 3)).astype(dtype))
    assert y.dtype == layer.backward(np.ones_like(y)).dtype == dtype
    assert y.flags.c_contiguous


def test_bad_inputs_are_rejected():
    with pytest.raises(ValueError, match="scale must be an int >= 1"):
        Upsample2D(0)
    with pytest.raises(npae.ShapeError, match="4-D batch of images"):
        Upsample2D(2).forward(np.zeros((2, 3, 4)))
    layer = Upsample2D(2)
    layer.forward(np.zeros((1, 1, 2, 2)))
    with pytest.raises(npae.ShapeError, match=r"\(1, 1, 4, 4\)"):
        layer.backward(np.zeros((1, 1, 2, 2)))
