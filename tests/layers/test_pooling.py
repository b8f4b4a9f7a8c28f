"""MaxPool2D and AvgPool2D: gradients over overlapping windows, the tie rule, errors."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import npae
from npae.gradcheck import check_layer
from npae.layers import AvgPool2D, MaxPool2D
from npae.testing import arrays, batch_sizes


@st.composite
def pool_geometries(draw):
    """Kernel, stride (often < kernel: overlapping windows) and an input shape that fits."""
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    shape = (draw(batch_sizes(3)), draw(st.integers(1, 3)),
             draw(st.integers(kh, 7)), draw(st.integers(kw, 7)))
    return (kh, kw), (sh, sw), shape


def distinct_values(shape, seed, spacing=0.01):
    """A scaled permutation of 0..size−1: no two values tie (max-pool is not differentiable
    at a tie) and every gap (0.01) is 50× the largest finite-difference offset (the
    fourth-order stencil moves one value by up to 2h = 2e-4 with gradcheck's step h = 1e-4),
    so no perturbation changes which value wins a window."""
    values = np.random.default_rng(seed).permutation(int(np.prod(shape))) - np.prod(shape) / 2
    return (values * spacing).reshape(shape)


@given(pool_geometries(), st.integers(0, 2**32 - 1))
def test_maxpool_gradients(geometry, seed):
    kernel, stride, shape = geometry
    layer = MaxPool2D(kernel, stride)
    result = check_layer(layer, distinct_values(shape, seed))
    assert result.passed, f"{layer!r} on {shape}\n{result}"
    assert layer.kink_distance() > 0.004 or kernel == (1, 1)   # half the 0.01 spacing


@given(pool_geometries().flatmap(lambda g: st.tuples(st.just(g), arrays(g[2]))))
def test_avgpool_gradients(case):
    (kernel, stride, _), x = case
    layer = AvgPool2D(kernel, stride)
    result = check_layer(layer, x)
    assert result.passed, f"{layer!r} on {x.shape}\n{result}"


def windows_by_definition(x, kernel, stride):
    (kh, kw), (sh, sw) = kernel, stride
    ho, wo = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
    return np.array([[[[x[n, c, i * sh:i * sh + kh, j * sw:j * sw + kw] for j in range(wo)]
                       for i in range(ho)] for c in range(x.shape[1])] for n in range(len(x))])


@given(pool_geometries(), st.integers(0, 2**32 - 1))
def test_pools_compute_max_and_mean_of_each_window(geometry, seed):
    kernel, stride, shape = geometry
    x = np.random.default_rng(seed).standard_normal(shape)
    windows = windows_by_definition(x, kernel, stride)
    np.testing.assert_array_equal(MaxPool2D(kernel, stride).forward(x), windows.max(axis=(-2, -1)))
    np.testing.assert_allclose(AvgPool2D(kernel, stride).forward(x), windows.mean(axis=(-2, -1)),
                               rtol=1e-12, atol=1e-15)


@pytest.mark.usefixtures("backend")
def test_max_ties_send_the_gradient_to_the_first_position_in_row_major_order():
    x = np.zeros((1, 1, 3, 4))
    x[0, 0, 1, 1:3] = 5.0                 # a tie in the middle row
    layer = MaxPool2D(2, stride=1)        # overlapping 2x2 windows, output 2x3
    layer.forward(x)
    dy = np.arange(1.0, 7.0).reshape(1, 1, 2, 3)
    expected = np.zeros((3, 4))
    # window (0,0) sees 5 at (1,1); (0,1) sees the tie (1,1)/(1,2) and takes (1,1);
    # (0,2) sees 5 at (1,2); the second row of windows repeats the first.
    expected[1, 1] = dy[0, 0, 0, 0] + dy[0, 0, 0, 1] + dy[0, 0, 1, 0] + dy[0, 0, 1, 1]
    expected[1, 2] = dy[0, 0, 0, 2] + dy[0, 0, 1, 2]
    np.testing.assert_array_equal(layer.backward(dy)[0, 0], expected)
    # all equal: every window's gradient goes to its top-left corner
    layer.forward(np.ones((1, 1, 3, 4)))
    expected = np.zeros((3, 4))
    expected[:2, :3] = dy[0, 0]
    np.testing.assert_array_equal(layer.backward(dy)[0, 0], expected)


class AssigningMaxPool2D(MaxPool2D):
    """A classic bug: dx[argmax] = dy assigns instead of adding, so when overlapping windows
    share a maximum only one of their gradients survives. Fine when stride == kernel."""

    def backward(self, dy):
        cache = self._saved(dy)
        dx = np.zeros(cache["x"].shape)
        planes = dx.reshape(dx.shape[0] * dx.shape[1], -1)
        rows = np.arange(len(planes))[:, None]
        planes[rows, cache["argmax"].reshape(len(planes), -1)] = dy.reshape(len(planes), -1)
        return dx


def test_the_gradient_check_catches_a_pool_that_only_works_without_overlap():
    x = distinct_values((2, 2, 6, 6), seed=1)
    assert check_layer(AssigningMaxPool2D(2), x).passed             # stride == kernel: no overlap
    assert not check_layer(AssigningMaxPool2D(3, stride=1), x).passed
    assert check_layer(MaxPool2D(3, stride=1), x).passed


def test_kink_distance_reports_ties_and_check_layer_warns():
    layer = MaxPool2D(2)
    assert layer.kink_distance() == float("inf")                   # no forward yet
    x = distinct_values((1, 1, 4, 4), seed=0)
    x[0, 0, 0, 1] = x[0, 0, 0, 0] = 1.0                             # a tie in window (0, 0)
    layer.forward(x)
    assert layer.kink_distance() == 0.0
    with pytest.warns(npae.KinkWarning):
        check_layer(layer, x)


@pytest.mark.parametrize("pool", [MaxPool2D, AvgPool2D])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(pool, dtype, rng):
    layer = pool(2, stride=1)
    y = layer.forward(rng.standard_normal((2, 3, 5, 4)).astype(dtype))
    assert y.shape == layer.output_shape((2, 3, 5, 4)) == (2, 3, 4, 3)
    assert y.dtype == layer.backward(np.ones_like(y)).dtype == dtype


@pytest.mark.parametrize("pool", [MaxPool2D, AvgPool2D])
def test_bad_inputs_are_rejected_with_the_numbers(pool):
    layer = pool((3, 2), stride=2)
    assert layer.stride == (2, 2) and pool(3).stride == (3, 3)
    with pytest.raises(npae.ShapeError, match=r"4-D batch of images .* got shape \(4, 9\)"):
        layer.forward(np.zeros((4, 9)))
    with pytest.raises(ValueError, match=r"output height = ⌊\(height \+ 2·padding − kernel\) / "
                                         r"stride⌋ \+ 1 = ⌊\(2 \+ 2·0 − 3\) / 2⌋ \+ 1 = 0"):
        layer.forward(np.zeros((1, 1, 2, 9)))
    with pytest.raises(ValueError, match="kernel_size must be an int >= 1"):
        pool(0)
    with pytest.raises(npae.NonFiniteError, match="NaN or inf"):
        layer.forward(np.full((1, 1, 4, 4), np.inf))
