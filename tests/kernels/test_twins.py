"""The Numba loops and their NumPy twins compute the same thing, on Hypothesis inputs."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from npae import kernels
from npae.testing import arrays

TOL = {np.float32: dict(rtol=1e-6, atol=1e-7), np.float64: dict(rtol=1e-12, atol=1e-14)}


def _vec(n, dtype, low=-8.0, high=8.0):
    return arrays((n,), dtype=dtype, min_value=low, max_value=high)


# Each case draws the arguments of one kernel; "out" arguments are positions that get written.
CASES = {
    "sigmoid_forward": (lambda n, d: st.tuples(_vec(n, d)), [1]),
    "sigmoid_backward": (lambda n, d: st.tuples(_vec(n, d, 0, 1), _vec(n, d)), [2]),
    "tanh_backward": (lambda n, d: st.tuples(_vec(n, d, -1, 1), _vec(n, d)), [2]),
    "leaky_relu_forward": (lambda n, d: st.tuples(_vec(n, d), st.floats(0, 0.5)), [2]),
    "leaky_relu_backward": (lambda n, d: st.tuples(_vec(n, d), _vec(n, d), st.floats(0, 0.5)), [3]),
    "softplus_forward": (lambda n, d: st.tuples(_vec(n, d, -30, 30)), [1]),
    "softplus_backward": (lambda n, d: st.tuples(_vec(n, d, -30, 30), _vec(n, d)), [2]),
    "mse": (lambda n, d: st.tuples(_vec(n, d), _vec(n, d), st.floats(0.01, 1)), [3]),
    "bce": (lambda n, d: st.tuples(_vec(n, d, 0, 1), _vec(n, d, 0, 1), st.just(d(1e-6)),
                                   st.just(d(1) - d(1e-6)), st.floats(0.01, 1)), [5]),
    "bce_with_logits_from_exp": (lambda n, d: _vec(n, d, -30, 30).flatmap(lambda z: st.tuples(
        st.just(z), _vec(n, d, 0, 1), st.just(np.exp(-np.abs(z))),
        st.just(kernels.losses.atanh_coefficients(d)), st.floats(0.01, 1))), [5]),
}
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
SPINE_MODULES = {"npae.kernels.elementwise", "npae.kernels.losses", "npae.kernels.optim"}


def test_every_spine_kernel_has_a_twin_case():
    spine = {name for name, k in kernels.REGISTRY.items() if k.loops.__module__ in SPINE_MODULES}
    assert spine == set(CASES) | set(STATEFUL)


def _run_both(kernel, args, written):
    numba_args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    numpy_args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    r1 = kernel.compiled()(*numba_args)
    r2 = kernel.twin(*numpy_args)
    return r1, r2, [numba_args[i] for i in written], [numpy_args[i] for i in written]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(CASES))
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
        if isinstance(r2, float):
            assert r1 == pytest.approx(r2, rel=TOL[dtype]["rtol"], abs=1e-10)

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


def test_backend_switch_and_environment(monkeypatch):
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-c", "import npae; print(npae.get_backend())"],
                         env={**__import__("os").environ, "NPAE_BACKEND": "numpy"},
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == "numpy"
    with pytest.raises(ValueError, match="backend must be one of"):
        kernels.set_backend("cuda")
