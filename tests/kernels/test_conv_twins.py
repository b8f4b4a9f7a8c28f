"""The Numba loops and the NumPy twins of the convolution and pooling kernels agree.

Same draws for both, compared element by element: float32 within 1e-6 relative error, float64
within 1e-12, plus an absolute floor a few ulp of the O(1) inputs wide (a window mean can cancel
to near 0, where the twins' different summation orders leave ~1 ulp of the inputs; measured worst
absolute difference 1.2e-7 in float32, 4.4e-16 in float64). Pure copies (im2col, the max and its
position) must agree exactly.
"""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from npae.kernels import REGISTRY
from npae.kernels import conv as conv_kernels
from npae.kernels import pooling as pooling_kernels

TOLERANCE = {np.dtype(np.float32): dict(rtol=1e-6, atol=1e-6),     # inputs are standard normal
             np.dtype(np.float64): dict(rtol=1e-12, atol=1e-14)}
dtypes = st.sampled_from([np.dtype(np.float32), np.dtype(np.float64)])


def both(kernel, *args):
    """Run the compiled loops and the twin, each on fresh output arrays (pre-filled with
    garbage the kernel must overwrite). ``args``: inputs, then N_OUT[name] output arrays."""
    results = []
    for run in (kernel.compiled(), kernel.twin):
        outs = [np.full_like(a, 7) for a in args[-N_OUT[kernel.name]:]]   # garbage to overwrite
        run(*args[:-N_OUT[kernel.name]], *outs)
        results.append(outs)
    return results


N_OUT = {"im2col": 1, "col2im": 1, "maxpool_forward": 2, "maxpool_backward": 1,
         "avgpool_forward": 1, "avgpool_backward": 1}


@st.composite
def conv_geometries(draw):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 3)),
             draw(st.integers(max(1, kh - 2 * ph), 7)), draw(st.integers(max(1, kw - 2 * pw), 7)))
    return shape, (kh, kw, draw(st.integers(1, 3)), draw(st.integers(1, 3)), ph, pw)


@st.composite
def pool_geometries(draw):
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 3)),
             draw(st.integers(kh, 7)), draw(st.integers(kw, 7)))
    return shape, (kh, kw, draw(st.integers(1, 3)), draw(st.integers(1, 3)))


def grid(shape, kh, kw, sh, sw, ph=0, pw=0):
    return (conv_kernels.conv_output_size(shape[2], kh, sh, ph),
            conv_kernels.conv_output_size(shape[3], kw, sw, pw))


@given(conv_geometries(), dtypes, st.integers(0, 2**32 - 1))
def test_im2col_and_col2im_twins_agree(geometry, dtype, seed):
    shape, (kh, kw, sh, sw, ph, pw) = geometry
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    ho, wo = grid(shape, kh, kw, sh, sw, ph, pw)
    cols = np.empty((shape[1] * kh * kw, shape[0] * ho * wo), dtype)
    (numba_cols,), (numpy_cols,) = both(conv_kernels.im2col, x, kh, kw, sh, sw, ph, pw, cols)
    np.testing.assert_array_equal(numba_cols, numpy_cols)
    dcols = rng.standard_normal(cols.shape).astype(dtype)
    (numba_dx,), (numpy_dx,) = both(conv_kernels.col2im, dcols, kh, kw, sh, sw, ph, pw, x)
    assert numba_dx.dtype == numpy_dx.dtype == dtype
    np.testing.assert_allclose(numba_dx, numpy_dx, **TOLERANCE[dtype])


@given(pool_geometries(), dtypes, st.integers(0, 2**32 - 1), st.booleans())
def test_pooling_twins_agree(geometry, dtype, seed, with_ties):
    shape, (kh, kw, sh, sw) = geometry
    rng = np.random.default_rng(seed)
    # with_ties: few distinct values, so windows tie and the tie rule must match too
    x = (rng.integers(0, 3, shape) if with_ties else rng.standard_normal(shape)).astype(dtype)
    out = np.empty(shape[:2] + grid(shape, kh, kw, sh, sw), dtype)
    argmax = np.empty(out.shape, np.int64)
    (numba_y, numba_arg), (numpy_y, numpy_arg) = both(pooling_kernels.maxpool_forward,
                                                      x, kh, kw, sh, sw, out, argmax)
    np.testing.assert_array_equal(numba_y, numpy_y)
    np.testing.assert_array_equal(numba_arg, numpy_arg)
    dy = rng.standard_normal(out.shape).astype(dtype)
    (numba_dx,), (numpy_dx,) = both(pooling_kernels.maxpool_backward, dy, numba_arg, x)
    np.testing.assert_allclose(numba_dx, numpy_dx, **TOLERANCE[dtype])

    (numba_y,), (numpy_y,) = both(pooling_kernels.avgpool_forward, x, kh, kw, sh, sw, out)
    assert numba_y.dtype == numpy_y.dtype == dtype
    np.testing.assert_allclose(numba_y, numpy_y, **TOLERANCE[dtype])
    (numba_dx,), (numpy_dx,) = both(pooling_kernels.avgpool_backward, dy, kh, kw, sh, sw, x)
    np.testing.assert_allclose(numba_dx, numpy_dx, **TOLERANCE[dtype])


def test_every_convolution_and_pooling_kernel_is_compared_here():
    names = {name for name, kernel in REGISTRY.items()
             if kernel.loops.__module__ in (conv_kernels.__name__, pooling_kernels.__name__)}
    assert names == set(N_OUT)
