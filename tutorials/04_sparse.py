# %% [markdown]
# # 04 · Sparse autoencoders: KL(ρ ‖ ρ̂), L1, and what the units learned
#
# A code with as many units as pixels (or more) could just copy its input. A sparsity
# penalty keeps most units near zero for any one input (Ng, *Sparse autoencoder*, CS294A).
#
# **KL form.** With sigmoid codes h ∈ [0, 1], unit j's mean activation *over the batch* is
#
#     ρ̂_j = (1/N) Σ_n h_nj
#
# and the penalty is the KL divergence between Bernoulli(ρ) and Bernoulli(ρ̂_j):
#
#     KL(ρ ‖ ρ̂_j) = ρ log(ρ / ρ̂_j) + (1 − ρ) log((1 − ρ) / (1 − ρ̂_j)),    L = R + β Σ_j KL(ρ ‖ ρ̂_j)
#
# Its gradient reaches every example of the batch through ρ̂_j, equally:
#
#     ∂/∂h_nj Σ_j KL(ρ ‖ ρ̂_j) = (−ρ / ρ̂_j + (1 − ρ) / (1 − ρ̂_j)) · (1/N)
#
# **L1 form.**  P = (1/N) Σ_n Σ_j |h_nj|,   ∂P/∂h = sign(h) / N.
#
# Either gradient is added to the decoder's at the code, before the encoder's backward.

# %%
import os
import pathlib
import tempfile

import numpy as np

import npae
from npae.gradcheck import check_function, check_model
from npae.plotting import max_activating_inputs, plot_filters, plot_sparsity_kl
from npae.regularizers import L1Activity, SparsityKL

FAST = os.environ.get("NPAE_TUTORIAL_FAST") == "1"
OUT = pathlib.Path(os.environ.get("NPAE_TUTORIAL_OUT",
                                  pathlib.Path(tempfile.gettempdir()) / "npae-tutorials"))
OUT.mkdir(parents=True, exist_ok=True)

data = npae.datasets.load("digits")
rng = np.random.default_rng(0)

# %% [markdown]
# ## The penalty and its gradient, checked

# %%
rho = 0.05
penalty = SparsityKL(rho)
h = rng.uniform(0.02, 0.6, size=(6, 5))          # a batch of 6 codes with 5 units


def kl_gradient(h):
    penalty.forward(h)
    return penalty.backward()


result = check_function(penalty.forward, kl_gradient, h)
print(result)
assert result.passed
rho_hat = h.mean(axis=0)
expected = np.sum(rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat)))
assert np.isclose(penalty.forward(h), expected)

# %% [markdown]
# ρ̂ is a mean over the **batch**, not a per-example quantity: a batch whose units average
# exactly ρ costs nothing, however far single examples are from ρ. (Computing the KL per
# example instead is a classic bug; it lives in the bug zoo, `npae.exercises.bugs`.)

# %%
half_on = np.array([[2 * rho, 0.0], [0.0, 2 * rho]])   # each unit: on in one example of two
assert penalty.forward(half_on) == 0.0
assert np.all(penalty.backward() == 0.0)

l1 = L1Activity()
h_signed = rng.choice([-1, 1], size=(4, 3)) * rng.uniform(0.1, 1.0, size=(4, 3))   # away from 0
assert check_function(l1.forward, lambda h: (l1.forward(h), l1.backward())[1], h_signed).passed

# %%
plot_sparsity_kl([0.05, 0.2], path=OUT / "04_sparsity_kl.png")

# %% [markdown]
# ## The whole model's gradient
#
# `SparseAutoencoder` adds β ∂P/∂h at the code; `check_model` checks the total.

# %%
model = npae.SparseAutoencoder(layer_sizes=[64, 10], rho=rho, beta=3.0, seed=0, dtype="float64")
result = check_model(model, data.x_train[:5].astype(np.float64))
print(result)
assert result.passed

# %% [markdown]
# ## Train an overcomplete code: 64 units for 64 pixels
#
# With the penalty the mean activation goes to ρ; the same network without it does not.
# A little weight decay (the UFLDL exercise uses it too) zeroes the weights of pixels
# that are always 0, like the digits' border: they get no gradient from the data and
# would otherwise keep their random initial values in the pictures below.

# %%
epochs = 8 if FAST else 40
settings = dict(layer_sizes=[64, 64], epochs=epochs, batch_size=32, learning_rate=1e-2,
                seed=0, verbose=0)
sparse = npae.SparseAutoencoder(rho=rho, beta=5.0, **settings)
sparse.fit(data.x_train, optimizer=npae.Adam(sparse.parameters(), lr=1e-2, weight_decay=3e-3))
plain = npae.Autoencoder(**settings).fit(data.x_train)
mean_sparse = sparse.transform(data.x_test).mean()
mean_plain = plain.transform(data.x_test).mean()
print(f"mean hidden activation: sparse {mean_sparse:.3f} (ρ = {rho}), plain {mean_plain:.3f}")
assert abs(mean_sparse - rho) < (0.05 if FAST else 0.02) and mean_plain > 0.2

l1_model = npae.SparseAutoencoder(sparsity="l1", l1_weight=0.1, **settings).fit(data.x_train)
print(f"L1 form: mean hidden activation {l1_model.transform(data.x_test).mean():.3f}")
assert l1_model.transform(data.x_test).mean() < mean_plain

# %% [markdown]
# ## What did the units learn? The maximally activating input
#
# Unit i computes s(Σ_j W_ji x_j + b_i). Over inputs with ‖x‖ ≤ 1 the pre-activation is
# largest (Cauchy–Schwarz) at
#
#     x*_j = W_ji / sqrt(Σ_j W_ji²)
#
# — the unit's weight vector, normalized. Check it against a thousand random unit inputs,
# then tile x* as images: sparse units tend to pick out strokes and parts of digits.

# %%
W = sparse.encoder_[0].W.value                      # (64 pixels, 64 units)
x_star = max_activating_inputs(W)                   # (64 units, 64 pixels), unit norm
assert np.allclose(np.linalg.norm(x_star, axis=1), 1.0)
random_inputs = rng.normal(size=(1000, 64))
random_inputs /= np.linalg.norm(random_inputs, axis=1, keepdims=True)
best = np.einsum("ij,ji->i", x_star, W)             # each unit's pre-activation at its x*
assert np.all((random_inputs @ W).max(axis=0) <= best + 1e-6)

fig = plot_filters(W, image_shape=(8, 8), path=OUT / "04_filters.png")
fig
