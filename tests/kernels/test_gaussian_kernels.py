"""The VAE's fused latent kernels: Numba loops = NumPy twins = npae.gaussian's formulas."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from npae import gaussian as G
from npae import kernels
from npae.testing import arrays

#: relative to the size of the terms (exp's last ulp differs between libm and NumPy, and
#: terms may cancel: ½ σ Σ dz ε against w ½ (σ² − 1), μ against σ ε)
RTOL = {np.float32: 2e-6, np.float64: 1e-12}
LOW, HIGH = -3.0, 2.0


@st.composite
def latents(draw, dtype):
    """μ, s (some of it outside [LOW, HIGH]), ε (K, N, d), dz (K, N, d), the KL weight w."""
    k, n, d = draw(st.integers(1, 3)), draw(st.integers(1, 5)), draw(st.integers(1, 8))
    mu = draw(arrays((n, d), dtype=dtype, min_value=-4, max_value=4))
    s = draw(arrays((n, d), dtype=dtype, min_value=-5, max_value=4))
    eps = draw(arrays((k, n, d), dtype=dtype, min_value=-3, max_value=3))
    dz = draw(arrays((k, n, d), dtype=dtype, min_value=-2, max_value=2))
    return mu, s, eps, dz, dtype(draw(st.floats(0, 2)))


def assert_close(got, want, scale):
    assert got.dtype == want.dtype
    assert np.all(np.abs(got - want) <= RTOL[got.dtype.type] * (scale + 1e-3)), (got, want)


def sample(impl, mu, s, eps):
    log_var, sigma, z = np.zeros_like(mu), np.zeros_like(mu), np.zeros_like(eps)
    kl = impl(mu.ravel(), s.ravel(), eps.ravel(), mu.dtype.type(LOW), mu.dtype.type(HIGH),
              log_var.ravel(), sigma.ravel(), z.ravel())
    return kl, log_var, sigma, z


def backward(impl, dz, mu, s, sigma, eps, w):
    d_mu, d_log_var = np.zeros_like(mu), np.zeros_like(mu)
    impl(dz.ravel(), mu.ravel(), s.ravel(), sigma.ravel(), eps.ravel(), w,
         mu.dtype.type(LOW), mu.dtype.type(HIGH), d_mu.ravel(), d_log_var.ravel())
    return d_mu, d_log_var


def the_formulas(mu, s, eps, dz, w):
    """npae.gaussian, one function at a time, as the VAE computed it before the kernels."""
    log_var = G.clamp(s, LOW, HIGH)
    kl = float(np.sum(G.kl_standard_normal(mu, log_var), dtype=np.float64))
    z = G.reparameterize(mu, log_var, eps)
    d_mu, d_log_var = G.reparameterize_backward(dz, log_var, eps)
    kl_mu, kl_log_var = G.kl_standard_normal_grad(mu, log_var)
    d_log_var = G.clamp_backward(d_log_var + w * kl_log_var, s, LOW, HIGH)
    return kl, log_var, z, d_mu + w * kl_mu, d_log_var


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("impl", ["loops", "twin"])
def test_the_kernels_compute_the_gaussian_formulas(dtype, impl):
    pick = (lambda k: k.compiled()) if impl == "loops" else (lambda k: k.twin)
    sample_kernel = pick(kernels.REGISTRY["latent_sample"])
    backward_kernel = pick(kernels.REGISTRY["latent_backward"])

    @given(latents(dtype))
    def check(case):
        mu, s, eps, dz, w = case
        kl, log_var, z, d_mu, d_log_var = the_formulas(mu, s, eps, dz, w)
        got_kl, got_log_var, sigma, got_z = sample(sample_kernel, mu, s, eps)
        np.testing.assert_array_equal(got_log_var, log_var)           # a clamp is exact
        sd = np.exp(0.5 * log_var)
        assert_close(sigma, sd, sd)
        assert_close(got_z, z, np.abs(mu) + sd * np.abs(eps))
        # KL terms are >= 0 (no cancellation between them); each is good to ~eps·(μ² + σ² + 1 + |log σ²|)
        scale = float(np.sum(mu * mu + sd * sd + 1 + np.abs(log_var)))
        assert abs(got_kl - kl) <= RTOL[dtype] * scale
        got_d_mu, got_d_log_var = backward(backward_kernel, dz, mu, s, sigma, eps, w)
        assert_close(got_d_mu, d_mu, np.abs(dz).sum(axis=0) + np.abs(w * mu))
        assert_close(got_d_log_var, d_log_var,
                     0.5 * sd * np.abs(dz * eps).sum(axis=0) + w * 0.5 * (sd * sd + 1))
        outside = (s <= LOW) | (s >= HIGH)                             # the clamp is flat there
        assert np.all(got_d_log_var[outside] == 0)

    check()


def test_the_clamp_keeps_nan():
    """np.clip lets NaN through; the loop's clamp must too, or a NaN head output would be
    clamped to ``low`` and vanish (the decoder's input check then names it)."""
    for impl in (kernels.REGISTRY["latent_sample"].compiled(), kernels.REGISTRY["latent_sample"].twin):
        mu = np.zeros((1, 3), np.float32)
        s = np.array([[np.nan, -9, 9]], np.float32)
        kl, log_var, sigma, z = sample(impl, mu, s, np.ones((1, 1, 3), np.float32))
        assert np.isnan(log_var[0, 0]) and np.isnan(z[0, 0, 0]) and np.isnan(kl)
        np.testing.assert_array_equal(log_var[0, 1:], [LOW, HIGH])
