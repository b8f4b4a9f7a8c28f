# %% [markdown]
# # 08 · The variational autoencoder
#
# A VAE (Kingma & Welling 2014) is a generative model p(z) p_θ(x | z) with a prior
# p(z) = N(0, I), fitted with an *encoder* q_φ(z | x) = N(μ(x), diag σ²(x)). For any q,
#
#     log p(x) = E_q[log p(x | z)] − KL(q(z | x) ‖ p(z))  +  KL(q(z | x) ‖ p(z | x))
#              = ELBO(x)                                  +  (≥ 0)
#
# so the **ELBO is a lower bound**, ELBO ≤ log p(x), tight when q is the true posterior.
# The **VAE loss** is −ELBO, averaged over the batch, in nats per example:
#
#     L = −E_q[log p(x | z)] + KL(N(μ, σ²) ‖ N(0, I))            (reconstruction + KL)
#
# Three pieces need new math, each derived and checked below: sampling z so that gradients
# flow (the reparameterization), the KL in closed form, and log p(x | z) as a loss.

# %%
import os
import pathlib
import tempfile

import numpy as np

import npae
from npae import gaussian as G
from npae import metrics
from npae.gradcheck import check_function, check_model
from npae.models.vae import VAE
from npae.plotting import plot_reconstructions, plot_training_curves

FAST = os.environ.get("NPAE_TUTORIAL_FAST") == "1"
OUT = pathlib.Path(os.environ.get("NPAE_TUTORIAL_OUT",
                                  pathlib.Path(tempfile.gettempdir()) / "npae-tutorials"))
OUT.mkdir(parents=True, exist_ok=True)

data = npae.datasets.load("digits")
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. The reparameterization, step by step
#
# 1. We need ∇_φ E_{q_φ(z|x)}[f(z)], but "draw z ~ q_φ" has no derivative in φ.
# 2. Draw the noise first, independent of φ: ε ~ N(0, I), and write the sample as a smooth
#    function of φ:   **z = μ + σ ⊙ ε**. Then E_q[f(z)] = E_ε[f(μ + σ ⊙ ε)] and the gradient
#    moves inside: ∇_φ E_ε[f(z)] = E_ε[∇_φ f(μ + σ ⊙ ε)] — one ε gives an unbiased estimate.
# 3. The encoder outputs log σ² (any real number), so σ = exp(½ log σ²) > 0 needs no constraint.
# 4. Differentiate, element-wise:  ∂z/∂μ = 1,   ∂z/∂log σ² = (∂σ/∂log σ²) ε = ½ σ ⊙ ε.
# 5. With K samples z_k = μ + σ ⊙ ε_k, μ and log σ² feed all of them, so
#
#        ∂L/∂μ = Σ_k ∂L/∂z_k,        ∂L/∂log σ² = Σ_k ∂L/∂z_k ⊙ ½ σ ⊙ ε_k
#
# The same ε must be used in the forward and the backward pass: the noise is an input.

# %%
mu, log_var = rng.normal(size=(3, 2)), rng.uniform(-2, 1, size=(3, 2))
eps = rng.standard_normal((4, 3, 2))                       # K = 4 samples per example
z = G.reparameterize(mu, log_var, eps)
dz = rng.standard_normal(z.shape)                          # some upstream gradient ∂L/∂z


def d_mu_by_hand(mu):
    return dz.sum(axis=0)


def d_log_var_by_hand(log_var):
    return (dz * eps).sum(axis=0) * 0.5 * np.exp(0.5 * log_var)


r_mu = check_function(lambda m: np.sum(G.reparameterize(m, log_var, eps) * dz), d_mu_by_hand, mu)
r_lv = check_function(lambda s: np.sum(G.reparameterize(mu, s, eps) * dz), d_log_var_by_hand, log_var)
print(f"∂L/∂μ rel. error {r_mu.worst:.1e},  ∂L/∂log σ² rel. error {r_lv.worst:.1e}")
assert r_mu.passed and r_lv.passed
assert all(np.allclose(a, b) for a, b in zip(G.reparameterize_backward(dz, log_var, eps),
                                             (d_mu_by_hand(mu), d_log_var_by_hand(log_var))))

# a gradient check cannot tell σ from σ² (forward and backward could both be wrong the same
# way); the samples' moments can: mean μ, variance σ²
samples = G.reparameterize(mu, log_var, rng.standard_normal((100_000, 3, 2)))
assert np.allclose(samples.mean(axis=0), mu, atol=0.02)
assert np.allclose(samples.var(axis=0), np.exp(log_var), rtol=0.02)

# %% [markdown]
# ## 2. The KL term in closed form
#
# For one dimension, with q = N(μ, σ²) and p = N(0, 1):
#
#     log q(z) − log p(z) = −½ log σ² − (z − μ)²/(2σ²) + z²/2
#     E_q[·]               = −½ log σ² − ½ + (σ² + μ²)/2
#
#     KL = −½ (1 + log σ² − μ² − σ²)   (summed over dimensions),   ∂KL/∂μ = μ,   ∂KL/∂log σ² = ½ (σ² − 1)
#
# Zero exactly at μ = 0, σ = 1; positive elsewhere.

# %%
kl = G.kl_standard_normal(mu, log_var)                                # (N,)
z_many = G.reparameterize(mu, log_var, rng.standard_normal((100_000, 3, 2)))
monte_carlo = np.mean(G.log_normal(z_many, mu, log_var) - G.log_standard_normal(z_many), axis=0)
print("closed form:", np.round(kl, 4), "  Monte Carlo:", np.round(monte_carlo, 4))
assert np.allclose(kl, monte_carlo, atol=0.02) and np.all(kl > 0)
assert np.all(G.kl_standard_normal(np.zeros((2, 3)), np.zeros((2, 3))) == 0)
grad_mu, grad_log_var = G.kl_standard_normal_grad(mu, log_var)
assert check_function(lambda m: G.kl_standard_normal(m, log_var).sum(), lambda m: grad_mu, mu).passed
assert check_function(lambda s: G.kl_standard_normal(mu, s).sum(), lambda s: grad_log_var, log_var).passed

# %% [markdown]
# ## 3. The reconstruction term is a familiar loss
#
# **Bernoulli decoder ↔ BCE.** The decoder outputs logits a, p(x | z) = Π_i s(a_i)^x_i (1 − s(a_i))^(1−x_i):
#
#     −log p(x | z) = Σ_i −[x_i log s(a_i) + (1 − x_i) log(1 − s(a_i))] = BCEWithLogits(a, x)
#
# **Gaussian decoder ↔ MSE.** p(x | z) = N(x; m, σ² I):
#
#     −log p(x | z) = ‖x − m‖² / (2σ²) + (D/2) log(2πσ²)  =  MSE(m, x) / σ² + constant
#
# (npae's MSE carries the ½, so with σ = 1 it *is* the Gaussian NLL up to (D/2) log 2π.)

# %%
x = data.x_test[:5].astype(np.float64)
logits = rng.normal(size=x.shape)
bernoulli = G.bernoulli_log_likelihood(logits[None], x)[0]           # (N,) per example
assert np.isclose(npae.BCEWithLogits()(logits, x), -bernoulli.mean())
sigma, D = 0.5, x.shape[1]
gaussian = G.gaussian_log_likelihood(logits[None], x, np.log(sigma ** 2))[0]
assert np.isclose(npae.MSE()(logits, x) / sigma ** 2 + 0.5 * D * np.log(2 * np.pi * sigma ** 2),
                  -gaussian.mean())
print("−log Bernoulli = BCE and −log Gaussian = MSE/σ² + const, per example averaged")

# %% [markdown]
# ## 4. The whole model's gradient, with ε fixed
#
# `VAE.loss(x, eps=...)` takes the noise explicitly; with it fixed the loss is a smooth,
# deterministic function of every weight, and `check_model(model, x, eps=...)` hands that
# same noise to every evaluation of the loss.

# %%
small = VAE(layer_sizes=[10, 6, 3], activation="tanh", n_samples=2, seed=0, dtype="float64")
x_small = rng.uniform(0.05, 1.0, size=(5, 10))                # any data in [0, 1] will do
result = check_model(small, x_small, eps=rng.standard_normal((2, 5, 3)))
print(result)
assert result.passed

# %% [markdown]
# ## 5. The K-sample estimate
#
# E_q[log p(x | z)] ≈ (1/K) Σ_k log p(x | z_k), z_k = μ + σ ⊙ ε_k: unbiased for any K, with a
# standard deviation that falls like 1/√K (`n_samples` = K in npae's VAE).

# %%
spread = {}
for k in (1, 4, 16):
    draws = [small.loss(x_small, eps=rng.standard_normal((k, 5, 3))) for _ in range(300)]
    spread[k] = np.std(draws)
print("std of the loss estimate:", {k: round(float(s), 4) for k, s in spread.items()})
assert 1.5 < spread[1] / spread[4] < 2.7 and 1.5 < spread[4] / spread[16] < 2.7

# %% [markdown]
# ## 6. ELBO ≤ log p(x), measured
#
# For a *linear-Gaussian* VAE, p(x | z) = N(z W + b, σ² I), the marginal is Gaussian too:
# p(x) = N(b, Wᵀ W + σ² I), so log p(x) is exact. The importance-weighted bound
# L_k = log (1/k) Σ_i p(x, z_i) / q(z_i | x) (Burda et al. 2016) starts at the ELBO (k = 1)
# and rises towards log p(x) as k grows. Training the encoder moves q(z | x) towards the true
# posterior and closes the gap log p(x) − ELBO = KL(q(z | x) ‖ p(z | x)).

# %%
linear = VAE(layer_sizes=[3, 2], reconstruction_loss="gaussian", sigma=0.7, seed=1, dtype="float64",
             epochs=15 if FAST else 60, batch_size=32, learning_rate=1e-2, verbose=0)
rng_linear = np.random.default_rng(1)
for p in linear.parameters():
    p.value += rng_linear.normal(0, 0.4, p.shape)
x_lin = rng_linear.standard_normal((200, 3)) @ np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 0.5], [0.0, 0.0, 0.3]])


def exact_log_px(vae, x):
    W, b = vae.decoder_[0].W.value, vae.decoder_[0].b.value
    cov = W.T @ W + 0.7 ** 2 * np.eye(3)
    diff = x - b
    return -0.5 * (3 * np.log(2 * np.pi) + np.linalg.slogdet(cov)[1]
                   + np.sum(diff @ np.linalg.inv(cov) * diff, axis=1))


gaps = []
for stage in ("random encoder", "after training"):
    exact = exact_log_px(linear, x_lin).mean()
    bounds = {k: linear.log_likelihood(x_lin, k=k, rng=k).mean() for k in (1, 10, 1000)}
    print(f"{stage:<15} log p(x) = {exact:8.4f}   " + "  ".join(f"L_{k} = {v:8.4f}" for k, v in bounds.items()))
    assert bounds[1] < exact and bounds[1000] <= exact + 0.01     # (L_1000 carries a little noise)
    gaps.append(exact - bounds[1])
    if stage == "random encoder":
        assert bounds[1] < bounds[10] < bounds[1000]
    linear.fit(x_lin)
assert gaps[1] < 0.5 * gaps[0]          # a better q(z | x): a tighter ELBO

# %% [markdown]
# ## 7. Train on the digits
#
# A baseline to beat: a decoder that ignores z and outputs the mean image (KL = 0).

# %%
epochs = 8 if FAST else 60
vae = VAE(layer_sizes=[64, 128, 8], epochs=epochs, batch_size=32, learning_rate=3e-3, seed=0,
          verbose=0)
vae.fit(data.x_train, validation_data=data.x_test)
mean_image = np.clip(data.x_train.mean(axis=0), 1e-6, 1 - 1e-6)
baseline = npae.BCE()(np.ascontiguousarray(np.broadcast_to(mean_image, data.x_test.shape)), data.x_test)
test_nelbo = metrics.negative_elbo(vae, data.x_test, rng=0)
print(f"test −ELBO {test_nelbo:.2f} nats (KL {vae.history_['val_kl'][-1]:.2f});  "
      f"mean-image baseline {baseline:.2f}")
assert test_nelbo < baseline - (1.0 if FAST else 2.0)

# %%
plot_training_curves({k: vae.history_[k] for k in ("reconstruction", "kl", "val_reconstruction", "val_kl")},
                     path=OUT / "08_training_curves.png")
fig = plot_reconstructions(data.x_test[:10], vae.reconstruct(data.x_test[:10]), image_shape=(8, 8),
                           path=OUT / "08_reconstructions.png")
fig
