"""vecmath's float32 e^-|z|, log1p(e) and tanh, written out so that loops vectorize: accurate to a
few ulps over the whole range, the same in Python and compiled, and compiled into the kernels
without changing what the module holds (the twins and a debugger see plain Python)."""
import numpy as np
import pytest
from numba import njit

from npae import kernels
from npae.kernels import elementwise, losses, vecmath
from npae.kernels.backend import with_helpers_compiled


def _exp_loop(z, out):
    for i in range(z.size):
        out[i] = exp_neg_abs_float32(z[i])


def _log1p_loop(e, out):
    for i in range(e.size):
        out[i] = log1p_float32(e[i])


def _tanh_loop(x, out):
    for i in range(x.size):
        out[i] = tanh_float32(x[i])


exp_neg_abs_float32, log1p_float32 = vecmath.exp_neg_abs_float32, vecmath.log1p_float32
tanh_float32 = vecmath.tanh_float32
EXP = njit(error_model="numpy")(with_helpers_compiled(_exp_loop))
LOG1P = njit(error_model="numpy")(with_helpers_compiled(_log1p_loop))
TANH = njit(error_model="numpy")(with_helpers_compiled(_tanh_loop))


def _float32s(low, high, step):
    """Every ``step``-th float32 from low to high (both >= 0), by their bit patterns."""
    bits = np.float32([low, high]).view(np.int32)
    return np.arange(bits[0], bits[1] + 1, step, dtype=np.int32).view(np.float32)


def _ulps(got, exact):
    return np.abs(got - exact) / np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)


def test_exp_is_within_1_3_ulps_everywhere():
    z = _float32s(0, 87.33, 997)                     # 1.6 M of the 1.1 G floats in range
    z = np.concatenate([z, -z])                      # e^-|z|: the sign must not matter
    got = np.empty_like(z)
    EXP(z, got)
    assert got.dtype == np.float32
    assert _ulps(got, np.exp(-np.abs(z.astype(np.float64)))).max() <= 1.3


def test_exp_is_zero_past_the_underflow_and_one_at_zero():
    z = np.float32([87.34, -87.34, 100, 1e30, np.inf, -np.inf, 0.0, -0.0, 1e-30])
    got = np.empty_like(z)
    EXP(z, got)
    np.testing.assert_array_equal(got, np.float32([0, 0, 0, 0, 0, 0, 1, 1, 1]))
    # just inside the range: a normal float (no denormal anywhere)
    EXP(np.float32([87.33]), got[:1])
    assert got[0] >= np.finfo(np.float32).tiny


def test_log1p_is_within_3_ulps_on_the_unit_interval():
    e = _float32s(np.finfo(np.float32).tiny, 1, 331)
    got = np.empty_like(e)
    LOG1P(e, got)
    assert _ulps(got, np.log1p(e.astype(np.float64))).max() <= 3
    LOG1P(np.float32([0, 1]), got[:2])
    assert got[0] == 0 and abs(got[1] - np.float32(np.log(2))) <= np.spacing(np.float32(np.log(2)))


def test_tanh_is_within_2_6_ulps_everywhere_and_odd():
    x = _float32s(0, 9.1, 997)                       # past 9.1, tanh is 1 in float32
    got, mirrored = np.empty_like(x), np.empty_like(x)
    TANH(x, got)
    TANH(-x, mirrored)
    assert _ulps(got, np.tanh(x.astype(np.float64))).max() <= 2.6
    np.testing.assert_array_equal(mirrored, -got)


def test_tanh_at_its_ends():
    """Exact at 0 (with its sign), x itself for tiny x (expm1, no cancellation), ±1 far out."""
    x = np.float32([0.0, -0.0, 1e-30, -1e-20, 3e-8, 20, -20, 1e30, np.inf, -np.inf])
    got = np.empty_like(x)
    TANH(x, got)
    np.testing.assert_array_equal(got, np.float32([0, 0, 1e-30, -1e-20, 3e-8, 1, -1, 1, 1, -1]))
    assert np.signbit(got[1]) and not np.signbit(got[0])


def test_the_python_helpers_compute_what_the_compiled_ones_do():
    rng = np.random.default_rng(0)
    z = np.concatenate([rng.uniform(-90, 90, 300), [0, 87.33, -87.33, 87.34]]).astype(np.float32)
    e = rng.uniform(0, 1, 300).astype(np.float32)
    compiled_exp, compiled_log1p = np.empty_like(z), np.empty_like(e)
    EXP(z, compiled_exp)
    LOG1P(e, compiled_log1p)
    python_exp = np.float32([exp_neg_abs_float32(v) for v in z])
    python_log1p = np.float32([log1p_float32(v) for v in e])
    assert _ulps(python_exp, compiled_exp).max() <= 1 and _ulps(python_log1p, compiled_log1p).max() <= 1
    compiled_tanh = np.empty_like(z)
    TANH(z, compiled_tanh)
    assert _ulps(np.float32([tanh_float32(v) for v in z]), compiled_tanh).max() <= 1


def test_compiling_a_kernel_leaves_its_module_plain_python():
    x = np.linspace(-5, 5, 40, dtype=np.float32)
    kernels.REGISTRY["sigmoid_forward_float32"].compiled()(x, np.empty_like(x))
    for module in (elementwise, losses):
        assert module.exp_neg_abs_float32 is vecmath.exp_neg_abs_float32
        assert module.exp_neg_abs_float32.npae_helper is True
    # a kernel calling no helper is compiled as it is
    relu = kernels.REGISTRY["leaky_relu_forward"]
    assert with_helpers_compiled(relu.loops) is relu.loops


@pytest.mark.parametrize("name", ["sigmoid_forward_float32", "softplus_forward_float32", "tanh_forward_float32"])
def test_float32_activations_agree_with_float64_within_float32_rounding(name):
    """The float32 loops against the float64 kernel, over the range where the result is a
    normal float32 (past it, the loops give exactly 0 or 1, and softplus(x) = x)."""
    x = np.linspace(-87, 87, 100_003).astype(np.float32)
    got, exact = np.empty_like(x), np.empty(x.shape)
    kernels.REGISTRY[name].compiled()(x, got)
    kernels.REGISTRY[name.replace("_float32", "")].compiled()(x.astype(np.float64), exact)
    assert _ulps(got, exact).max() <= 4


@pytest.mark.parametrize("layer", ["Sigmoid", "Softplus"])
def test_float32_layers_give_no_denormals(layer, backend):
    """Far below 0 the float32 sigmoid and softplus are exactly 0, not a denormal (which would
    slow every float32 operation on it downstream); float64 keeps its tiny values."""
    import npae
    x = np.array([[-88.0, -100.0, -87.0]])
    y32 = getattr(npae, layer)().forward(x.astype(np.float32))
    np.testing.assert_array_equal(y32[0, :2], 0)
    assert y32[0, 2] >= np.finfo(np.float32).tiny
    y64 = getattr(npae, layer)().forward(x)
    assert (y64 > 0).all()
