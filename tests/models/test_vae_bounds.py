"""The bounds against ground truth, on a linear-Gaussian VAE where everything has a closed form.

Model: p(z) = N(0, I), p(x|z) = N(z W + b, σ² I)  =>  p(x) = N(b, Wᵀ W + σ² I).
Encoder (no hidden layer): μ = x A + a, log σ_q² = x B + c.

    E_q ‖x − z W − b‖² = ‖x − μ W − b‖² + Σ_j σ_q,j² ‖W_j‖²        (W_j: row j of W)

so −ELBO = ½ D log(2πσ²) + E_q‖x − zW − b‖² / (2σ²) + KL(q ‖ p), exactly.
"""
import numpy as np
import pytest

from npae import gaussian as G
from npae.gradcheck import numerical_gradient
from npae.models.vae import VAE

D, D_LATENT, SIGMA = 3, 2, 0.7


def linear_vae(seed=0, n_samples=1):
    vae = VAE(layer_sizes=[D, D_LATENT], reconstruction_loss="gaussian", sigma=SIGMA, seed=seed,
              dtype=np.float64, n_samples=n_samples)
    jitter = np.random.default_rng(seed + 1)
    for p in vae.parameters():
        p.value += jitter.normal(0, 0.3, p.shape)
    return vae


def closed_form_negative_elbo(vae, x):
    """Mean over the batch of −ELBO, computed from the weights without sampling."""
    mu, log_var = vae.encode(x)
    W, b = vae.decoder_[0].W.value, vae.decoder_[0].b.value
    expected_sq = np.sum((x - mu @ W - b) ** 2, axis=1) + np.exp(log_var) @ np.sum(W * W, axis=1)
    reconstruction = 0.5 * D * np.log(2 * np.pi * SIGMA ** 2) + expected_sq / (2 * SIGMA ** 2)
    return float(np.mean(reconstruction + G.kl_standard_normal(mu, log_var)))


def exact_log_px(vae, x):
    W, b = vae.decoder_[0].W.value, vae.decoder_[0].b.value
    cov = W.T @ W + SIGMA ** 2 * np.eye(D)
    diff = x - b
    _, logdet = np.linalg.slogdet(cov)
    return -0.5 * (D * np.log(2 * np.pi) + logdet + np.sum(diff @ np.linalg.inv(cov) * diff, axis=1))


def test_reparameterization_gradient_is_unbiased():
    """Mean of single-ε gradients vs the finite-difference gradient of the closed-form −ELBO.

    G groups of K single-ε gradients: each backward with K samples returns the mean of its K
    single-ε gradients; the standard error of the overall mean is std(groups) / √G. Tolerance:
    every entry within 4 standard errors, and the estimate precise enough to see a 5% bias
    (4 standard errors below 5% of the gradient's norm) — so a wrong ∂z/∂log σ² (say σ ε
    instead of ½ σ ε) fails.
    """
    vae = linear_vae(seed=3, n_samples=100)
    x = np.random.default_rng(0).standard_normal((5, D))
    noise = np.random.default_rng(1)
    groups = []
    for _ in range(200):
        vae.zero_grad()
        vae.loss(x, eps=noise.standard_normal((100, 5, D_LATENT)))
        vae.backward()
        groups.append(np.concatenate([p.grad.ravel() for p in vae.parameters()]))
    groups = np.array(groups)
    estimate = groups.mean(axis=0)
    standard_error = groups.std(axis=0, ddof=1) / np.sqrt(len(groups))
    exact = np.concatenate([numerical_gradient(lambda: closed_form_negative_elbo(vae, x), p.value).ravel()
                            for p in vae.parameters()])
    z_scores = np.abs(estimate - exact) / standard_error
    print(f"\nreparameterization gradient, {len(exact)} entries: worst |mean − exact| = "
          f"{z_scores.max():.2f} standard errors; relative error of the mean "
          f"{np.linalg.norm(estimate - exact) / np.linalg.norm(exact):.1e} (4 SE: "
          f"{4 * np.linalg.norm(standard_error) / np.linalg.norm(exact):.1e} of the norm)")
    assert z_scores.max() < 4, f"worst |estimate − exact| = {z_scores.max():.2f} standard errors"
    assert 4 * np.linalg.norm(standard_error) < 0.05 * np.linalg.norm(exact)


def test_the_loss_is_the_closed_form_in_expectation():
    vae = linear_vae(seed=4, n_samples=20_000)
    x = np.random.default_rng(2).standard_normal((4, D))
    losses = [vae.loss(x, rng=seed) for seed in range(20)]
    standard_error = np.std(losses, ddof=1) / np.sqrt(len(losses))
    assert abs(np.mean(losses) - closed_form_negative_elbo(vae, x)) < 4 * standard_error
    # precise enough to see a 1% error in the part that sampling produces, Σ σ_q² ‖W_j‖² / 2σ²
    # (a wrong σ_q = exp(log σ²) instead of exp(½ log σ²) would be off by far more)
    mu, log_var = vae.encode(x)
    W = vae.decoder_[0].W.value
    sampled_part = np.mean(np.exp(log_var) @ np.sum(W * W, axis=1)) / (2 * SIGMA ** 2)
    assert 4 * standard_error < 0.01 * sampled_part


def exact_posterior_vae():
    """Decoder rows orthogonal (W Wᵀ diagonal) make the true posterior diagonal:
    Σ = diag(1 / (1 + ‖W_j‖² / σ²)), mean (x − b) Wᵀ Σ / σ². Set the encoder to it."""
    vae = linear_vae(seed=5)
    q, _ = np.linalg.qr(np.random.default_rng(6).standard_normal((D, D)))
    W = q[:D_LATENT] * np.array([[1.5], [0.6]])
    b = vae.decoder_[0].b.value
    vae.decoder_[0].W.value[:] = W
    variance = 1 / (1 + np.sum(W * W, axis=1) / SIGMA ** 2)
    vae.mu_head_.W.value[:] = W.T * variance / SIGMA ** 2
    vae.mu_head_.b.value[:] = -(b @ W.T) * variance / SIGMA ** 2
    vae.log_var_head_.W.value[:] = 0
    vae.log_var_head_.b.value[:] = np.log(variance)
    return vae


def test_exact_posterior_makes_every_bound_log_px():
    """With q(z|x) the true posterior, every importance weight equals p(x): the IWAE estimate
    is log p(x) exactly for every k and every ε, and the ELBO equals log p(x)."""
    vae = exact_posterior_vae()
    x = np.random.default_rng(7).standard_normal((6, D))
    truth = exact_log_px(vae, x)
    for k in (1, 7):
        assert np.allclose(vae.log_likelihood(x, k, rng=k), truth, rtol=0, atol=1e-10)
    assert closed_form_negative_elbo(vae, x) == pytest.approx(-truth.mean(), abs=1e-10)


def test_iwae_bound_lies_above_the_elbo_and_rises_with_k():
    """Ground truth on a mismatched encoder: ELBO = E[L_1] ≤ E[L_10] ≤ E[L_100] ≤ log p(x).
    Each comparison of means over 400 examples (paired, same examples) must clear 4 standard
    errors of the difference; the equality E[L_1] = ELBO must hold within 4."""
    vae = linear_vae(seed=8)
    x = np.random.default_rng(9).standard_normal((400, D)) * 1.5
    truth = exact_log_px(vae, x)
    elbo = -closed_form_negative_elbo(vae, x)
    bounds = {k: vae.log_likelihood(x, k, rng=10 + k) for k in (1, 10, 100)}

    def se(a):
        return np.std(a, ddof=1) / np.sqrt(len(a))

    assert abs(bounds[1].mean() - elbo) < 4 * se(bounds[1])
    assert np.mean(bounds[10] - bounds[1]) > 4 * se(bounds[10] - bounds[1])
    assert np.mean(bounds[100] - bounds[10]) > 4 * se(bounds[100] - bounds[10])
    assert np.mean(truth - bounds[100]) > -4 * se(truth - bounds[100])
    assert np.mean(truth - bounds[100]) < np.mean(truth - bounds[1]) / 3     # the gap closes


def test_log_likelihood_chunks_give_the_same_answer():
    vae = linear_vae(seed=11)
    x = np.random.default_rng(12).standard_normal((7, D))
    eps = np.random.default_rng(13).standard_normal((9, 7, D_LATENT))
    whole = vae.log_likelihood(x, eps=eps)
    assert np.allclose(vae.log_likelihood(x, eps=eps, max_rows=4), whole, rtol=1e-13)   # k > max_rows
    assert np.allclose(vae.log_likelihood(x, eps=eps, max_rows=20), whole, rtol=1e-13)  # 2 examples a chunk
    with pytest.raises(ValueError, match="k must be"):
        vae.log_likelihood(x, k=0)
