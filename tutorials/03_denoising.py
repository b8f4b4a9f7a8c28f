# %% [markdown]
# # 03 · Denoising autoencoders
#
# Vincent et al. (2008) corrupt the input and ask for the *clean* input back:
#
#     x̃ ~ q(x̃ | x),      x̂ = g(f(x̃)),      L = (1/N) Σ_n ℓ(x̂_n, x_n)      (against the clean x)
#
# Three corruptions q (Vincent et al. 2010, §4.2), each in `npae.corruption`:
#
#     masking noise     x̃ = x ⊙ (1 − m),  m marks exactly round(ν D) of each example's D values
#     Gaussian noise    x̃ = x + σ ε,       ε ~ N(0, I)
#     salt and pepper   round(ν D) values set to 0 or 1 by fair coin flips
#
# There is nothing new to differentiate: q does not depend on the weights, so the backward
# pass is the plain autoencoder's. What changes is what the network must learn — to fill
# in what the noise destroyed, from what it kept.

# %%
import os
import pathlib
import tempfile

import numpy as np

import npae
from npae.corruption import gaussian_noise, masking_noise, salt_and_pepper, sample_mask
from npae.gradcheck import check_model
from npae.plotting import plot_reconstructions

FAST = os.environ.get("NPAE_TUTORIAL_FAST") == "1"
OUT = pathlib.Path(os.environ.get("NPAE_TUTORIAL_OUT",
                                  pathlib.Path(tempfile.gettempdir()) / "npae-tutorials"))
OUT.mkdir(parents=True, exist_ok=True)

data = npae.datasets.load("digits")
x = data.x_test[:6]

# %% [markdown]
# ## The corruptions, checked
#
# Every random draw can be given explicitly (`mask=`, `noise=`, `salt=`); that is what makes
# a gradient check of a denoising model deterministic.

# %%
rng = np.random.default_rng(0)
nu, D = 0.25, x.shape[1]
mask = sample_mask(x.shape, nu, rng)
x_tilde = masking_noise(x, nu, mask=mask)
assert np.all(mask.sum(axis=1) == round(nu * D))           # exactly ν D per example
assert np.all(x_tilde[mask] == 0) and np.array_equal(x_tilde[~mask], x[~mask])
assert x_tilde.dtype == x.dtype                            # no silent upcast

noise = gaussian_noise(np.zeros((20_000, D)), sigma=0.3, rng=rng)   # x̃ − x = σ ε
print(f"Gaussian noise: mean {noise.mean():+.4f}, std {noise.std():.4f} (σ = 0.3)")
assert abs(noise.mean()) < 0.003 and abs(noise.std() - 0.3) < 0.003

pepper = salt_and_pepper(np.full((2000, D), 0.5), fraction=nu, rng=rng)
changed = pepper != 0.5
assert np.all(changed.sum(axis=1) == round(nu * D))
print(f"salt and pepper: {np.mean(pepper[changed] == 1):.3f} of the corrupted values are 1")

# %% [markdown]
# ## Gradients: the plain autoencoder's
#
# With the mask fixed, the loss is a deterministic function of the weights and
# `check_model` can compare the backward pass with central differences.

# %%
small = npae.DenoisingAutoencoder(layer_sizes=[D, 12], corruption="masking", corruption_level=nu,
                                  seed=0, dtype="float64", verbose=0)
x64 = x.astype(np.float64)
result = check_model(small, x64, mask=sample_mask(x64.shape, nu, rng))
print(result)
assert result.passed
# corruption happens only in training: transform() sees the clean input
assert np.array_equal(small.transform(x64), small.encoder_.forward(x64))

# %% [markdown]
# ## Train a denoising and a plain autoencoder with the same budget
#
# Then corrupt held-out digits with masks neither model saw and measure the squared
# error of each reconstruction against the clean digit.

# %%
epochs = 10 if FAST else 40
settings = dict(layer_sizes=[D, 32], epochs=epochs, batch_size=32, learning_rate=1e-2,
                seed=0, verbose=0)
denoising = npae.DenoisingAutoencoder(corruption="masking", corruption_level=nu, **settings)
plain = npae.Autoencoder(**settings)
denoising.fit(data.x_train)
plain.fit(data.x_train)

masked = masking_noise(data.x_test, nu, rng=np.random.default_rng(1))


def error_against_clean(model):
    return float(np.mean(np.sum((model.reconstruct(masked) - data.x_test) ** 2, axis=1)))


e_denoising, e_plain = error_against_clean(denoising), error_against_clean(plain)
print(f"squared error on {nu:.0%}-masked test digits: denoising {e_denoising:.3f}, "
      f"plain {e_plain:.3f}")
assert e_denoising < (0.95 if FAST else 0.8) * e_plain   # measured: 0.88 (fast)

# %%
fig = plot_reconstructions(data.x_test[:10], denoising.reconstruct(masked[:10]),
                           corrupted=masked[:10], image_shape=(8, 8),
                           path=OUT / "03_denoising.png")
fig
