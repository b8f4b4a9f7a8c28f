"""vecmath's float32 e^-|z|, log1p(e) and tanh, written out so that loops vectorize: accurate to a
few ulps over the whole range, the same in Python and compiled, and compiled into the kernels
without changing what the module holds (the twins and a debugger see plain Python)."""
import numpy as np
import pytest
from numba import njit

from npae import kernels
from npae.kernels import elementwise, losses, vecmath
from npae.kernels.backend import HELPER_FASTMATH, with_helpers_compiled
from npae.kernels.vecmath import ERROR_ULPS, exp_neg_abs_float32, log1p_float32, tanh_float32


def _exp_loop(z, out):
    for i in range(z.size):
        out[i] = exp_neg_abs_float32(z[i])


def _log1p_loop(e, out):
    for i in range(e.size):
        out[i] = log1p_float32(e[i])


def _tanh_loop(x, out):
    for i in range(x.size):
        out[i] = tanh_float32(x[i])


# compiled as the kernels that call the helpers are: the helpers take on the caller's flags
_jit = njit(error_model="numpy", fastmath=set(HELPER_FASTMATH))
EXP, LOG1P, TANH = (_jit(with_helpers_compiled(loop)) for loop in (_exp_loop, _log1p_loop, _tanh_loop))


def _float32s(low, high, step):
    """Every ``step``-th float32 from low to high (both >= 0), by their bit patterns."""
    bits = np.float32([low, high]).view(np.int32)
    return np.arange(bits[0], bits[1] + 1, step, dtype=np.int32).view(np.float32)


def _ulps(got, exact):
    """|got − exact| in units of float32's spacing at the exact value (float64), 2^(e − 23)
    for exact in [2^e, 2^(e+1)) (float32(exact) could round up to the next binade)."""
    exponent = np.floor(np.log2(np.maximum(np.abs(exact), 2.0 ** -126)))
    return np.abs(got.astype(np.float64) - exact) / np.ldexp(1.0, (exponent - 23).astype(int))


def test_exp_is_accurate_everywhere():
    z = _float32s(0, 87.33, 397)                     # 2.8 M of the 1.1 G floats in range
    z = np.concatenate([z, -z])                      # e^-|z|: the sign must not matter
    got = np.empty_like(z)
    EXP(z, got)
    assert got.dtype == np.float32
    assert _ulps(got, np.exp(-np.abs(z.astype(np.float64)))).max() <= ERROR_ULPS["exp"]


def test_exp_is_zero_past_the_underflow_and_one_at_zero():
    z = np.float32([87.34, -87.34, 100, 1e30, np.inf, -np.inf, 0.0, -0.0, 1e-30])
    got = np.empty_like(z)
    EXP(z, got)
    np.testing.assert_array_equal(got, np.float32([0, 0, 0, 0, 0, 0, 1, 1, 1]))
    # just inside the range: a normal float (no denormal anywhere)
    EXP(np.float32([87.33]), got[:1])
    assert got[0] >= np.finfo(np.float32).tiny


def test_log1p_is_accurate_on_the_unit_interval():
    """Every 131st float32 in (0, 1], and every one around the worst case (0.0311)."""
    e = np.concatenate([_float32s(np.finfo(np.float32).tiny, 1, 131), _float32s(0.03, 0.032, 1)])
    got = np.empty_like(e)
    LOG1P(e, got)
    assert _ulps(got, np.log1p(e.astype(np.float64))).max() <= ERROR_ULPS["log1p"]
    LOG1P(np.float32([0, 1]), got[:2])
    assert got[0] == 0 and abs(got[1] - np.float32(np.log(2))) <= np.spacing(np.float32(np.log(2)))


def test_tanh_is_accurate_everywhere_and_odd():
    """Every 97th float32 up to 9.1 (tanh is 1 in float32 beyond), and every one in
    [0.21, 0.24], where the worst cases are (2^n expm1(r) + 2^n − 1 cancels a little)."""
    x = np.concatenate([_float32s(0, 9.1, 97), _float32s(0.21, 0.24, 1)])
    got, mirrored = np.empty_like(x), np.empty_like(x)
    TANH(x, got)
    TANH(-x, mirrored)
    assert _ulps(got, np.tanh(x.astype(np.float64))).max() <= ERROR_ULPS["tanh"]
    np.testing.assert_array_equal(mirrored, -got)


def test_tanh_at_its_ends():
    """Exact at 0 (with its sign), x itself for tiny x (expm1, no cancellation), ±1 far out."""
    x = np.float32([0.0, -0.0, 1e-30, -1e-20, 3e-8, 20, -20, 1e30, np.inf, -np.inf])
    got = np.empty_like(x)
    TANH(x, got)
    np.testing.assert_array_equal(got, np.float32([0, 0, 1e-30, -1e-20, 3e-8, 1, -1, 1, 1, -1]))
    assert np.signbit(got[1]) and not np.signbit(got[0])


def test_no_step_makes_a_denormal():
    """Denormals make float32 arithmetic ~15x slower. The helpers in Python, on NumPy
    scalars, under np.errstate(under="raise"): any step whose result is a denormal raises,
    e.g. e^-|z| at |z| ≈ 45, squared, inside log1p (it did before the floors)."""
    z = np.concatenate([np.linspace(0, 100, 4001), np.linspace(86, 87.4, 1401), [1e-30, 1e30, np.inf]])
    with np.errstate(under="raise"):
        for v in z.astype(np.float32):
            for x in (v, -v):
                log1p_float32(exp_neg_abs_float32(x))
                tanh_float32(x)


def test_the_sigmoid_and_the_bce_loss_share_their_bits():
    """Both compile the same helpers with the same flags: the BCE gradient with t = 0 and
    scale 1 is s(z), bit for bit the sigmoid kernel's."""
    z = np.random.default_rng(1).uniform(-90, 90, 100_000).astype(np.float32)
    sigmoid, grad = np.empty_like(z), np.empty_like(z)
    kernels.REGISTRY["sigmoid_forward_float32"].compiled()(z, sigmoid)
    kernels.REGISTRY["bce_with_logits_float32"].compiled()(z, np.zeros_like(z), np.float32(1), grad)
    np.testing.assert_array_equal(sigmoid.view(np.int32), grad.view(np.int32))


def test_the_python_helpers_compute_what_the_compiled_ones_do():
    """The same formulas: the compiled ones fuse multiply-adds ("contract"), Python's round
    each step, so the last bits may differ (by up to 2 ulps here), never more."""
    rng = np.random.default_rng(0)
    z = np.concatenate([rng.uniform(-90, 90, 300), [0, 87.33, -87.33, 87.34]]).astype(np.float32)
    e = rng.uniform(0, 1, 300).astype(np.float32)
    compiled_exp, compiled_log1p = np.empty_like(z), np.empty_like(e)
    EXP(z, compiled_exp)
    LOG1P(e, compiled_log1p)
    python_exp = np.float32([exp_neg_abs_float32(v) for v in z])
    python_log1p = np.float32([log1p_float32(v) for v in e])
    assert _ulps(python_exp, compiled_exp).max() <= 2 and _ulps(python_log1p, compiled_log1p).max() <= 2
    compiled_tanh = np.empty_like(z)
    TANH(z, compiled_tanh)
    assert _ulps(np.float32([tanh_float32(v) for v in z]), compiled_tanh).max() <= 2


def test_compiling_a_kernel_leaves_its_module_plain_python():
    x = np.linspace(-5, 5, 40, dtype=np.float32)
    kernels.REGISTRY["sigmoid_forward_float32"].compiled()(x, np.empty_like(x))
    for module in (elementwise, losses):
        assert module.exp_neg_abs_float32 is vecmath.exp_neg_abs_float32
        assert module.exp_neg_abs_float32.npae_helper is True
    # a kernel calling no helper is compiled as it is
    relu = kernels.REGISTRY["leaky_relu_forward"]
    assert with_helpers_compiled(relu.loops) is relu.loops


#: the float32 activations' largest errors over every float32 in [-87.33, 87.33] (measured on
#: the machine of vecmath.ERROR_ULPS:
#: sigmoid 2.40 ulps at -4.157, softplus 3.67 at -2.021, tanh 2.57), as their docstrings say
KERNEL_ULPS = {"sigmoid_forward_float32": 2.5, "softplus_forward_float32": 3.7, "tanh_forward_float32": 2.6}


@pytest.mark.parametrize("name", sorted(KERNEL_ULPS))
def test_float32_activations_agree_with_float64_within_float32_rounding(name):
    """The float32 loops against the float64 computation: every 97th float32 in the range where
    the result is a normal float32 (past it, the loops give exactly 0 or 1, and softplus(x) = x),
    and every one around the sigmoid's and softplus's worst cases (-4.157, -2.021)."""
    x = np.concatenate([_float32s(0, 87.3, 97), _float32s(2.0, 2.03, 1), _float32s(4.15, 4.16, 1)])
    x = np.concatenate([x, -x])
    got, exact = np.empty_like(x), np.empty(x.shape)
    kernels.REGISTRY[name].compiled()(x, got)
    getattr(elementwise, name.split("_")[0])(x.astype(np.float64), exact)    # the float64 path
    assert _ulps(got, exact).max() <= KERNEL_ULPS[name]


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
