"""The VAE's new math on its own: reparameterization, KL, log-densities, log-mean-exp, clamp."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import npae
from npae import gaussian as G
from npae.gradcheck import check_function
from npae.testing import arrays


@st.composite
def gaussian_params(draw, max_k=3):
    # values kept 0.05 from 0, where every gradient here vanishes and a relative error is
    # meaningless (an all-zero gradient compared with round-off)
    k, n, d = draw(st.integers(1, max_k)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    mu = draw(arrays((n, d), kinks=(0.0,), kink_margin=0.05))
    log_var = draw(arrays((n, d), min_value=-4, max_value=2, kinks=(0.0,), kink_margin=0.05))
    eps = draw(arrays((k, n, d), kinks=(0.0,), kink_margin=0.05))
    return mu, log_var, eps


@given(gaussian_params())
def test_reparameterize_gradients(case):
    mu, log_var, eps = case
    R = np.random.default_rng(0).standard_normal(eps.shape)       # f = Σ z ⊙ R, so dL/dz = R
    d_mu, d_log_var = G.reparameterize_backward(R, log_var, eps)
    r_mu = check_function(lambda m: np.sum(G.reparameterize(m, log_var, eps) * R), lambda m: d_mu, mu)
    r_lv = check_function(lambda s: np.sum(G.reparameterize(mu, s, eps) * R), lambda s: d_log_var, log_var)
    assert r_mu.passed and r_lv.passed, f"{r_mu}\n{r_lv}"


def test_reparameterize_derivatives_are_the_documented_ones():
    mu, log_var, eps = np.array([[0.3]]), np.array([[0.8]]), np.array([[[1.7]], [[-0.4]]])
    d_mu, d_log_var = G.reparameterize_backward(np.ones_like(eps), log_var, eps)
    sigma = np.exp(0.4)
    assert d_mu[0, 0] == 2.0                                            # Σ_k ∂z_k/∂μ = K
    assert d_log_var[0, 0] == pytest.approx(0.5 * sigma * (1.7 - 0.4))  # Σ_k ½ σ ε_k


@given(gaussian_params())
def test_kl_gradient(case):
    mu, log_var, _ = case
    grad_mu, grad_log_var = G.kl_standard_normal_grad(mu, log_var)
    r_mu = check_function(lambda m: G.kl_standard_normal(m, log_var).sum(), lambda m: grad_mu, mu)
    r_lv = check_function(lambda s: G.kl_standard_normal(mu, s).sum(), lambda s: grad_log_var, log_var)
    assert r_mu.passed and r_lv.passed, f"{r_mu}\n{r_lv}"


def test_kl_matches_a_monte_carlo_estimate_and_is_zero_at_the_prior(rng):
    mu, log_var = np.array([[0.5, -1.0]]), np.array([[0.3, -0.7]])
    z = G.reparameterize(mu, log_var, rng.standard_normal((200_000, 1, 2)))
    log_ratio = G.log_normal(z, mu, log_var) - G.log_standard_normal(z)     # (K, 1)
    standard_error = log_ratio.std() / np.sqrt(len(log_ratio))
    assert abs(log_ratio.mean() - G.kl_standard_normal(mu, log_var)[0]) < 4 * standard_error
    assert np.array_equal(G.kl_standard_normal(np.zeros((3, 2)), np.zeros((3, 2))), np.zeros(3))
    assert np.all(G.kl_per_dimension(mu, log_var) > 0)


def test_log_likelihoods_agree_with_the_losses(rng):
    logits = rng.standard_normal((3, 5, 4)) * 4
    x = rng.uniform(0, 1, (5, 4))
    per_example = G.bernoulli_log_likelihood(logits, x)
    assert per_example.shape == (3, 5)
    bce = npae.BCEWithLogits().forward(logits.reshape(15, 4), np.tile(x, (3, 1)))
    assert -per_example.mean() == pytest.approx(bce, rel=1e-12)
    log_var = rng.uniform(-2, 1, 4)
    gauss = G.gaussian_log_likelihood(logits, x, log_var)
    nll = npae.GaussianNLL().forward(logits.reshape(15, 4), np.tile(x, (3, 1)), variance=np.exp(log_var))
    assert -gauss.mean() == pytest.approx(nll, rel=1e-12)
    sigma = 0.3
    fixed = G.gaussian_log_likelihood(logits, x, 2 * np.log(sigma))
    assert -fixed.mean() == pytest.approx(npae.GaussianNLL(sigma ** 2).forward(
        logits.reshape(15, 4), np.tile(x, (3, 1))), rel=1e-12)


def test_log_densities_match_the_formula(rng):
    z, mu, log_var = rng.standard_normal((2, 3, 2)), rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    var = np.exp(log_var)
    expected = np.sum(-0.5 * np.log(2 * np.pi * var) - (z - mu) ** 2 / (2 * var), axis=-1)
    assert np.allclose(G.log_normal(z, mu, log_var), expected, rtol=1e-13)
    assert np.allclose(G.log_standard_normal(z), G.log_normal(z, 0.0, np.zeros(2)), rtol=1e-13)


def test_log_mean_exp_is_exact_and_does_not_overflow(rng):
    a = rng.standard_normal((6, 4))
    assert np.allclose(G.log_mean_exp(a), np.log(np.mean(np.exp(a), axis=0)), rtol=1e-13)
    assert G.log_mean_exp(np.array([[-1000.0], [-1000.0]]))[0] == pytest.approx(-1000.0)
    assert G.log_mean_exp(np.array([[800.0], [800.0 + np.log(3)]]))[0] == pytest.approx(800.0 + np.log(2))
    assert np.all(G.log_mean_exp(a) <= a.max(axis=0))                   # a mean is below the max


@given(arrays((4, 3), min_value=-9, max_value=9))
def test_clamp_gradient_inside_and_outside_the_range(x):
    low, high = -7.0, 7.0
    x = np.where(np.abs(np.abs(x) - 7.0) < 1e-2, x + 0.05, x)            # stay off the two kinks
    R = np.random.default_rng(1).standard_normal(x.shape)
    result = check_function(lambda v: np.sum(np.exp(G.clamp(v, low, high)) * R),
                            lambda v: G.clamp_backward(np.exp(G.clamp(v, low, high)) * R, v, low, high), x)
    assert result.passed, str(result)
    outside = (x < low) | (x > high)
    assert np.all(G.clamp_backward(R, x, low, high)[outside] == 0)


def test_reparameterize_rejects_bad_noise():
    mu = np.zeros((3, 2))
    with pytest.raises(npae.ShapeError, match=r"\(K, 3, 2\)"):
        G.reparameterize(mu, mu, np.zeros((3, 2)))
    with pytest.raises(npae.DTypeError, match="eps has dtype float32 .* float64"):
        G.reparameterize(mu, mu, np.zeros((1, 3, 2), np.float32))
    with pytest.raises(npae.NonFiniteError, match="eps contains NaN or inf"):
        G.reparameterize(mu, mu, np.full((1, 3, 2), np.nan))
