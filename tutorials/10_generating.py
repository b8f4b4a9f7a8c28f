# %% [markdown]
# # 10 · Generating: prior samples, the 2-D manifold, interpolation
#
# A trained VAE is a generative model. Its three classic pictures:
#
# **Prior samples.** Draw z ~ p(z) = N(0, I) and decode:  x̂ = E[x | z] = s(g(z)) for a Bernoulli
# decoder (the mean image; sampling the pixels too would only add salt-and-pepper noise).
#
# **The 2-D latent manifold** (Kingma & Welling 2014, Fig. 4). With two latent dimensions, decode
# a grid of codes placed at evenly spaced *quantiles* of the prior,
#
#     z = (Φ⁻¹(u), Φ⁻¹(v)),   u, v ∈ {0.05, …, 0.95}      (Φ: the standard normal CDF)
#
# so the grid is dense where the prior puts its mass.
#
# **Interpolation.** Walk in a straight line between the codes of two images,
# z_t = (1 − t) μ(x₁) + t μ(x₂), t ∈ [0, 1], and decode each point.
#
# Samples only look like data if the codes the decoder was trained on — the aggregate
# posterior q(z) = E_x[q(z | x)] — cover the prior; the KL term is what pulls them there.

# %%
import os
import pathlib
import tempfile
from statistics import NormalDist

import numpy as np

import npae
from npae.models.vae import VAE
from npae.plotting import (latent_grid, plot_images, plot_latent_manifold, plot_latent_scatter,
                           plot_prior_samples)

FAST = os.environ.get("NPAE_TUTORIAL_FAST") == "1"
OUT = pathlib.Path(os.environ.get("NPAE_TUTORIAL_OUT",
                                  pathlib.Path(tempfile.gettempdir()) / "npae-tutorials"))
OUT.mkdir(parents=True, exist_ok=True)

data = npae.datasets.load("digits")

# %% [markdown]
# ## A VAE with a two-dimensional code

# %%
epochs = 10 if FAST else 80
vae = VAE(layer_sizes=[64, 256, 2], epochs=epochs, batch_size=32, learning_rate=3e-3, seed=0,
          verbose=0)
vae.fit(data.x_train)
print(f"final epoch: reconstruction {vae.history_['reconstruction'][-1]:.2f}, "
      f"KL {vae.history_['kl'][-1]:.2f} nats")

# %% [markdown]
# ## Does the aggregate posterior cover the prior?
#
# If q(z) = E_x[N(μ(x), σ²(x))] matched N(0, I), its mean would be 0 and its variance per
# dimension E_x[μ²] + E_x[σ²] − (E_x[μ])² would be 1.

# %%
mu, log_var = vae.encode(data.x_train)
mean = mu.mean(axis=0)
variance = (mu ** 2).mean(axis=0) + np.exp(log_var).mean(axis=0) - mean ** 2
print("aggregate posterior: mean", np.round(mean, 3), " variance", np.round(variance, 3))
assert np.all(np.abs(mean) < 0.3) and np.all(np.abs(variance - 1) < 0.4)

# %% [markdown]
# ## Prior samples
#
# `vae.sample(n, rng)` draws z ~ N(0, I) and decodes it. On average the samples should look
# like the data — compare their mean image with the training set's — and they should vary as
# much as the reconstructions of real digits do (decoded means are smoother than the data,
# so that, not the data's own spread, is the yardstick).

# %%
samples = vae.sample(2000, rng=0)
assert samples.shape == (2000, 64) and samples.min() > 0 and samples.max() < 1
assert np.array_equal(vae.sample(5, rng=1), vae.sample(5, rng=1))          # reproducible
agreement = np.corrcoef(samples.mean(axis=0), data.x_train.mean(axis=0))[0, 1]
print(f"correlation of the mean sample with the mean digit: {agreement:.3f}")
assert agreement > (0.9 if FAST else 0.95)
spread = samples.std(axis=0).mean() / vae.reconstruct(data.x_train).std(axis=0).mean()
print(f"pixel spread of the samples / of the reconstructions: {spread:.2f}")
assert 0.75 < spread < 1.25
plot_prior_samples(vae.decode, 2, rng=0, n=64, image_shape=(8, 8), path=OUT / "10_prior_samples.png")

# %% [markdown]
# ## The manifold: a grid through Φ⁻¹
#
# `latent_grid` returns the codes; check that they sit at the intended quantiles.

# %%
z, values = latent_grid(n=15, n_latent=2)
cdf = np.array([NormalDist().cdf(v) for v in values])
assert np.allclose(cdf, np.linspace(0.05, 0.95, 15))
assert z.shape == (225, 2) and np.allclose(z[0], [values[0], values[-1]])   # top-left: (low, high)
fig = plot_latent_manifold(vae.decode, n_latent=2, n=15, image_shape=(8, 8),
                           path=OUT / "10_manifold.png")
plot_latent_scatter(mu, data.y_train, label_names=data.label_names, path=OUT / "10_codes.png")
fig

# %% [markdown]
# ## Interpolation between two digits
#
# The endpoints are the two images' reconstructions from their means, and the midpoint
# decodes the average code.

# %%
first, second = data.x_test[0], data.x_test[np.argmax(data.y_test != data.y_test[0])]
path = vae.interpolate(first, second, steps=9)
codes = vae.transform(np.stack([first, second]))
assert np.allclose(path[0], vae.decode(codes[:1])[0])
assert np.allclose(path[-1], vae.decode(codes[1:])[0])
assert np.allclose(path[4], vae.decode(codes.mean(axis=0, keepdims=True))[0], atol=1e-6)
fig = plot_images(np.concatenate([first[None], path, second[None]]), image_shape=(8, 8), n_cols=11,
                  title="x₁, then z_t from μ(x₁) to μ(x₂), then x₂", path=OUT / "10_interpolation.png")
fig
