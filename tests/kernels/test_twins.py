"""The Numba loops and their NumPy twins compute the same thing, on Hypothesis inputs."""
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from npae import kernels
from npae.kernels.backend import with_helpers_compiled
from npae.testing import arrays

TOL = {np.float32: dict(rtol=1e-6, atol=1e-7), np.float64: dict(rtol=1e-12, atol=1e-14)}


def _vec(n, dtype, low=-8.0, high=8.0):
    return arrays((n,), dtype=dtype, min_value=low, max_value=high)


# Each case draws the arguments of one kernel; "out" arguments are positions that get written.
CASES = {
    "sigmoid_forward": (lambda n, d: st.tuples(_vec(n, d)), [1]),
    # beyond ±87.33 the float32 loops' e^-|x| is 0 (NumPy's exp gives a denormal)
    "sigmoid_forward_float32": (lambda n, d: st.tuples(_vec(n, d, -100, 100)), [1]),
    "sigmoid_backward": (lambda n, d: st.tuples(_vec(n, d, 0, 1), _vec(n, d)), [2]),
    "tanh_backward": (lambda n, d: st.tuples(_vec(n, d, -1, 1), _vec(n, d)), [2]),
    "tanh_forward_float32": (lambda n, d: st.tuples(_vec(n, d, -100, 100)), [1]),
    "leaky_relu_forward": (lambda n, d: st.tuples(_vec(n, d), st.floats(0, 0.5)), [2]),
    "leaky_relu_backward": (lambda n, d: st.tuples(_vec(n, d), _vec(n, d), st.floats(0, 0.5)), [3]),
    "softplus_forward": (lambda n, d: st.tuples(_vec(n, d, -30, 30)), [1]),
    "softplus_backward": (lambda n, d: st.tuples(_vec(n, d, -30, 30), _vec(n, d)), [2]),
    "softplus_forward_float32": (lambda n, d: st.tuples(_vec(n, d, -100, 100)), [1]),
    "softplus_backward_float32": (lambda n, d: st.tuples(_vec(n, d, -100, 100), _vec(n, d)), [2]),
    "mse": (lambda n, d: st.tuples(_vec(n, d), _vec(n, d), st.floats(0.01, 1)), [3]),
    "bce": (lambda n, d: st.tuples(_vec(n, d, 0, 1), _vec(n, d, 0, 1), st.just(d(1e-6)),
                                   st.just(d(1) - d(1e-6)), st.floats(0.01, 1)), [5]),
    "bce_with_logits_from_exp": (lambda n, d: _vec(n, d, -30, 30).flatmap(lambda z: st.tuples(
        st.just(z), _vec(n, d, 0, 1), st.just(np.exp(-np.abs(z))),
        st.just(kernels.losses.atanh_coefficients(d)), st.floats(0.01, 1))), [5]),
    # targets in [0, 1]: outside it loss terms turn negative and cancel, and a float32 sum
    # is then only as close as float32's rounding of the terms (see the block test below)
    "bce_with_logits_float32": (lambda n, d: st.tuples(_vec(n, d, -100, 100), _vec(n, d, 0, 1),
                                                       st.floats(0.01, 1).map(d)), [3]),
}
FLOAT32_ONLY = {"bce_with_logits_float32", "sigmoid_forward_float32", "softplus_forward_float32",
                "softplus_backward_float32", "tanh_forward_float32"}


def _with_a_bad_value(v, data):
    """v, or v with one element set to NaN, inf or -inf (or the largest float: still finite)."""
    bad = data.draw(st.sampled_from([None, np.nan, np.inf, -np.inf, np.finfo(v.dtype).max]))
    if bad is not None:
        v = v.copy()
        v[data.draw(st.integers(0, len(v) - 1))] = bad
    return v


CASES["all_finite"] = (lambda n, d: st.tuples(_vec(n, d), st.data()).map(
    lambda a: (_with_a_bad_value(*a),)), [])
STATEFUL = {   # kernels that update their first arguments in place
    # Adam's state keeps m² <= v (when β1² <= β2); states far outside that make
    # float32 rounding, not the kernels, decide the result.
    "adam_update": lambda n, d: st.tuples(_vec(n, d), _vec(n, d), _vec(n, d, -1, 1), _vec(n, d, 0, 1),
                                          st.floats(1e-4, 0.1), st.floats(0.5, 0.95), st.floats(0.95, 0.9999),
                                          st.just(1e-8), st.floats(0, 0.1), st.floats(1, 30),
                                          st.just(float(np.finfo(d).tiny))).map(
        lambda a: a[:3] + ((a[2] * a[2] + a[3]).astype(d),)
        + tuple(d(s) for s in (a[4], a[5], a[6], 1 - a[5], 1 - a[6]) + a[7:])),
    "sgd_update": lambda n, d: st.tuples(_vec(n, d), _vec(n, d), _vec(n, d, -1, 1), st.floats(1e-4, 0.1),
                                         st.floats(0, 0.99), st.booleans(), st.floats(0, 0.1),
                                         st.just(float(np.finfo(d).tiny))).map(
        lambda a: a[:3] + (d(a[3]), d(a[4]), a[5], d(a[6]), d(a[7]))),
}
SPINE_MODULES = {"npae.kernels.checks", "npae.kernels.elementwise", "npae.kernels.gaussian",
                 "npae.kernels.losses", "npae.kernels.optim"}


OWN_TESTS = {"add_bias",     # on 2-D arrays, with a test of its own below
             "latent_sample", "latent_backward"}   # the VAE's: test_gaussian_kernels.py


def test_every_spine_kernel_has_a_twin_case():
    spine = {name for name, k in kernels.REGISTRY.items() if k.loops.__module__ in SPINE_MODULES}
    assert spine == set(CASES) | set(STATEFUL) | OWN_TESTS


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_add_bias_agrees(dtype):
    """y += b in place, and the returned flag says whether the new y is all finite: NaN and
    ±inf in y or b, and sums that overflow (|y|, |b| up to the dtype's max)."""
    kernel = kernels.REGISTRY["add_bias"]
    big = float(np.finfo(dtype).max)
    values = st.one_of(st.floats(-8, 8, width=np.finfo(dtype).bits),
                       st.sampled_from([np.nan, np.inf, -np.inf, big, -big]))

    @given(st.tuples(st.integers(1, 9), st.integers(1, 40)).flatmap(
        lambda nd: st.tuples(arrays(nd, dtype=dtype, min_value=-8, max_value=8),
                             arrays(nd[1:], dtype=dtype, min_value=-8, max_value=8),
                             st.lists(st.tuples(st.integers(0, nd[0] * nd[1] - 1), values), max_size=3),
                             st.lists(st.tuples(st.integers(0, nd[1] - 1), values), max_size=2))))
    def check(args):
        y, b, y_specials, b_specials = args
        for i, v in y_specials:
            y.reshape(-1)[i] = v
        for j, v in b_specials:
            b[j] = v
        with np.errstate(over="ignore", invalid="ignore"):
            expected = y + b
        finite = bool(np.isfinite(expected).all())
        got, twin = y.copy(), y.copy()
        assert kernel.compiled()(got, b) is finite
        assert kernel.twin(twin, b) is finite
        np.testing.assert_array_equal(got, expected)           # one addition each: exact
        np.testing.assert_array_equal(twin, expected)

    with np.errstate(over="ignore", invalid="ignore"):
        check()


#: forward kernels that check their input as they go: name -> arguments after x
FLAGGING_FORWARDS = {"leaky_relu_forward": lambda x: (x.dtype.type(0.1), np.empty_like(x)),
                     "sigmoid_forward": lambda x: (np.empty_like(x),),
                     "sigmoid_forward_float32": lambda x: (np.empty_like(x),),
                     "softplus_forward": lambda x: (np.empty_like(x),),
                     "softplus_forward_float32": lambda x: (np.empty_like(x),),
                     "tanh_forward_float32": lambda x: (np.empty_like(x),)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("name", sorted(FLAGGING_FORWARDS))
def test_forward_kernels_flag_a_nonfinite_input_anywhere(name, dtype, bad):
    if dtype == np.float64 and name in FLOAT32_ONLY:
        pytest.skip("a float32 loop")
    kernel = kernels.REGISTRY[name]
    x = np.random.default_rng(0).normal(size=70).astype(dtype)
    assert kernel.compiled()(x, *FLAGGING_FORWARDS[name](x)) is True
    for i in (0, 1, 31, 32, 69):                 # SIMD lanes, a vector's edge, the scalar tail
        x_bad = x.copy()
        x_bad[i] = bad
        for run in (kernel.compiled(), kernel.twin):
            assert run(x_bad, *FLAGGING_FORWARDS[name](x)) is False


def _run_both(kernel, args, written):
    numba_args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    numpy_args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    r1 = kernel.compiled()(*numba_args)
    r2 = kernel.twin(*numpy_args)
    return r1, r2, [numba_args[i] for i in written], [numpy_args[i] for i in written]


def _assert_same_returns(r1, r2, rtol):
    """What a kernel returns besides its out arrays: a sum, a (sum, sum) pair or a bool."""
    if isinstance(r2, (bool, np.bool_)):
        assert bool(r1) == bool(r2)
    elif isinstance(r2, tuple):
        for a, b in zip(r1, r2):
            assert a == pytest.approx(b, rel=rtol, abs=1e-10)
    elif isinstance(r2, float):
        assert r1 == pytest.approx(r2, rel=rtol, abs=1e-10)


@pytest.mark.parametrize("name, dtype", [(name, dtype) for name in sorted(CASES)
                                         for dtype in (np.float32, np.float64)
                                         if dtype == np.float32 or name not in FLOAT32_ONLY])
def test_pure_kernels_agree(name, dtype):
    make, written = CASES[name]
    kernel = kernels.REGISTRY[name]

    @given(st.integers(1, 40).flatmap(lambda n: make(n, dtype)))
    def check(args):
        n = len(args[0])
        full = list(args)
        for i in written:
            full.insert(i, np.zeros(n, dtype))
        r1, r2, outs1, outs2 = _run_both(kernel, full, written)
        for a, b in zip(outs1, outs2):
            assert a.dtype == b.dtype == dtype
            np.testing.assert_allclose(a, b, **TOL[dtype])
        _assert_same_returns(r1, r2, TOL[dtype]["rtol"])

    check()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(STATEFUL))
def test_optimizer_kernels_agree(name, dtype):
    kernel = kernels.REGISTRY[name]
    n_state = 4 if name == "adam_update" else 3

    @given(st.integers(1, 40).flatmap(lambda n: STATEFUL[name](n, dtype)))
    def check(args):
        _, _, outs1, outs2 = _run_both(kernel, list(args), [0] + list(range(2, n_state)))
        for a, b in zip(outs1, outs2):
            np.testing.assert_allclose(a, b, **TOL[dtype])

    check()


def test_float32_bce_loop_agrees_across_blocks():
    """The float32 BCE loop sums in blocks of 512: sizes that end mid-block, with logits past
    exp's underflow (|z| > 87.33, where e is 0) and targets outside [0, 1]."""
    rng = np.random.default_rng(3)
    kernel = kernels.REGISTRY["bce_with_logits_float32"]
    for n in (511, 512, 513, 1300):
        z = rng.uniform(-120, 120, n).astype(np.float32)
        t = rng.uniform(-0.2, 1.2, n).astype(np.float32)
        (total, outside), (total_twin, outside_twin), (g,), (g_twin,) = _run_both(
            kernel, [z, t, np.float32(1 / 3), np.zeros(n, np.float32)], [3])
        assert total == pytest.approx(total_twin, rel=1e-6)
        assert outside == pytest.approx(outside_twin, rel=1e-5) and outside > 0
        np.testing.assert_allclose(g, g_twin, rtol=1e-6, atol=1e-7)
        inside = np.clip(t, 0, 1)
        assert kernel.compiled()(z, inside, np.float32(1), np.zeros(n, np.float32))[1] == 0
    t = np.array([1.5, -0.25, 0.5, 0.0, 1.0], np.float32)      # strays 0.5 + 0.25, exactly
    assert kernel.compiled()(np.zeros(5, np.float32), t, np.float32(1), np.zeros(5, np.float32))[1] == 0.75


def _loss_sum(name, dtype):
    """(pred, target, grad) -> the loss sum, for the loss kernels that sum vectorized."""
    kernel = kernels.REGISTRY[name].compiled()
    one = dtype(1)
    if name == "bce_with_logits_from_exp":
        series = kernels.losses.atanh_coefficients(dtype)
        return lambda z, t, grad: kernel(z, t, np.exp(-np.abs(z)), series, one, grad)
    if name == "bce_with_logits_float32":
        return lambda z, t, grad: kernel(z, t, one, grad)[0]
    return lambda z, t, grad: kernel(z, t, one, grad)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["mse", "bce_with_logits_from_exp"])
def test_block_sums_agree_across_blocks(name, dtype):
    """mse and the BCE loop sum in blocks of 512: sizes that end mid-block, against the twins."""
    rng = np.random.default_rng(4)
    kernel = kernels.REGISTRY[name]
    for n in (511, 512, 513, 1300, 2085):
        z = rng.normal(0, 4, n).astype(dtype)
        t = rng.random(n).astype(dtype)
        grad = np.zeros(n, dtype)
        args = ([z, t, dtype(0.5), grad] if name == "mse" else
                [z, t, np.exp(-np.abs(z)), kernels.losses.atanh_coefficients(dtype), dtype(0.5), grad])
        total, total_twin, (g,), (g_twin,) = _run_both(kernel, args, [len(args) - 1])
        assert total == pytest.approx(total_twin, rel=TOL[dtype]["rtol"])
        np.testing.assert_allclose(g, g_twin, **TOL[dtype])


@pytest.mark.parametrize("name, dtype", [("bce_with_logits_float32", np.float32),
                                         ("bce_with_logits_from_exp", np.float32),
                                         ("bce_with_logits_from_exp", np.float64),
                                         ("mse", np.float32), ("mse", np.float64)])
def test_loss_sums_do_not_depend_on_where_the_arrays_lie(name, dtype):
    """LLVM vectorizes a loop that writes one array and reads others only after a run-time
    check that they do not overlap or lie close together; a sum inside such a loop changes its
    order (and last bits) with the arrays' addresses (it did here, for all three kernels, and
    a resumed run no longer repeated an uninterrupted one). The gradient written over the
    inputs themselves (each element is read before it is written) takes the scalar path for sure."""
    rng = np.random.default_rng(5)
    n = 2048
    z = rng.normal(0, 3, n).astype(dtype)
    t = rng.random(n).astype(dtype)
    loss_sum = _loss_sum(name, dtype)
    totals = set()
    for gap in (0, 1, 7, 16, 100):             # grad right behind the target, or a little apart
        buffer = np.empty(3 * n + gap, dtype)
        z_at, t_at, grad_at = buffer[:n], buffer[n:2 * n], buffer[2 * n + gap:]
        z_at[:], t_at[:] = z, t
        totals.add(loss_sum(z_at, t_at, grad_at))
    totals.add(loss_sum(z, t, np.empty(n, dtype)))
    z_copy, t_copy = z.copy(), t.copy()
    totals.add(loss_sum(z_copy, t, z_copy))          # grad over the predictions
    totals.add(loss_sum(z, t_copy, t_copy))          # grad over the targets
    assert len(totals) == 1


def _has_avx2():
    try:
        from llvmlite import binding
        return "+avx2" in binding.get_host_cpu_features().flatten()
    except Exception:  # noqa: BLE001 - no answer: treat as another machine
        return False


def _float32_calls():
    """name -> (float32 arguments, loops without a libm call: must vectorize 8-wide)."""
    v = np.random.default_rng(0).random(64, dtype=np.float32)
    f32 = np.float32
    return {
        "bce_with_logits_float32": ((v, v, f32(0.5), v.copy()), True),
        "leaky_relu_forward": ((v, f32(0.1), v.copy()), True),
        "leaky_relu_backward": ((v, v, f32(0.1), v.copy()), True),
        "add_bias": ((v.reshape(4, 16).copy(), v[:16]), True),
        "all_finite": ((v,), True),
        "sigmoid_backward": ((v, v, v.copy()), True),
        "tanh_backward": ((v, v, v.copy()), True),
        "adam_update": ((v.copy(), v, v.copy(), v.copy(),
                         *(f32(a) for a in (1e-3, 0.9, 0.999, 0.1, 1e-3, 1e-8, 0.0, 1.0, 1e-38))), True),
        "sgd_update": ((v.copy(), v, v.copy(), f32(0.1), f32(0.9), False, f32(0), f32(1e-38)), True),
        "latent_backward": ((v, v, v, v, v, f32(0.1), f32(-3), f32(3), v.copy(), v.copy()), True),
        "sigmoid_forward_float32": ((v, v.copy()), True),   # vecmath's exp, not libm's
        "softplus_forward_float32": ((v, v.copy()), True),
        "softplus_backward_float32": ((v, v, v.copy()), True),
        "tanh_forward_float32": ((v, v.copy()), True),
        "sigmoid_forward": ((v, v.copy()), False),          # libm's exp: scalar, but float32
        "latent_sample": ((v, v, v, f32(-3), f32(3), v.copy(), v.copy(), v.copy()), False),
        "softplus_forward": ((v, v.copy()), False),
        "softplus_backward": ((v, v, v.copy()), False),
        "bce": ((v, v, f32(1e-7), f32(1 - 1e-7), f32(0.5), v.copy()), False),
        "mse": ((v, v, f32(0.5), v.copy()), False),
    }


#: loss kernels whose sum runs in float64 on purpose (one widening per term or per block)
SUMS_IN_FLOAT64 = {"bce", "mse", "bce_with_logits_float32", "latent_sample"}


def _ir_of(name, args):
    from numba import njit
    kernel = kernels.REGISTRY[name]     # compiled as Kernel.compiled does, minus the disk cache
    loops = with_helpers_compiled(kernel.loops)
    fresh = njit(error_model="numpy", **kernel.jit_options)(loops)  # (cached code can't be inspected)
    fresh(*args)
    return fresh.inspect_llvm(fresh.signatures[0])


def test_float32_loops_compute_in_float32():
    """A Python float constant (1.0, 0.5) or a float64 scalar argument in a float32 loop makes
    the loop compute in float64 (a widening per element, half the SIMD width): the float32
    kernels must not widen anything, except the losses' float64 sums."""
    for name, (args, _) in _float32_calls().items():
        ir = _ir_of(name, args)
        if name in SUMS_IN_FLOAT64:      # (fast-math flags stand between the op and its type)
            assert not re.search(r"\bf(mul|div)( \w+)* double\b", ir), name
        else:
            assert "fpext float" not in ir and "double" not in ir.split("define")[1].split("}")[0], name


@pytest.mark.skipif(not _has_avx2(), reason="8-wide float vectors are AVX2's (NEON's are 4)")
def test_float32_loops_vectorize():
    """The float32 loops without a libm call compile to 8-wide float vectors, and none uses
    double-precision vectors (a float64 constant would halve the width: a silent 2x)."""
    for name, (args, vectorizes) in _float32_calls().items():
        ir = _ir_of(name, args)
        assert "x double>" not in ir or name == "mse", name
        if vectorizes:
            assert "<8 x float>" in ir, name


def test_backend_switch_and_environment(monkeypatch):
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-c", "import npae; print(npae.get_backend())"],
                         env={**__import__("os").environ, "NPAE_BACKEND": "numpy"},
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == "numpy"
    with pytest.raises(ValueError, match="backend must be one of"):
        kernels.set_backend("cuda")
