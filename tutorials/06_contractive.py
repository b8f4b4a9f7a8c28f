# %% [markdown]
# # 06 · Contractive autoencoders: penalizing ‖J‖²_F
#
# Rifai et al. (2011) ask the encoder to be *insensitive* to its input — except in the
# directions the reconstruction needs — by penalizing the squared Frobenius norm of its
# Jacobian:
#
#     L = R + λ (1/N) Σ_n ‖J_f(x_n)‖²_F,       J_f(x) = ∂h/∂x
#
# For one sigmoid layer h = s(x W + b) (W is D × H, npae's layout) the Jacobian is
# J_ji = ∂h_j/∂x_i = a_j W_ij with a = h ⊙ (1 − h), so the norm has a closed form:
#
#     ‖J_f(x)‖²_F = Σ_j a_j² Σ_i W_ij² = Σ_j a_j² w_j,        w_j = Σ_i W_ij²
#
# It depends on W twice — through h (hence a) and directly through w — so its gradient
# has two paths (P = (1/N) Σ_n Σ_j a_nj² w_j):
#
#     ∂P/∂h_nj = 2 a_nj (1 − 2 h_nj) w_j / N         (through a = h − h²; the encoder's
#                                                   backward carries it on to W and b)
#     ∂P/∂W_ij = 2 W_ij Σ_n a_nj² / N                (the direct path, through w_j)

# %%
import os
import pathlib
import tempfile

import numpy as np
from matplotlib.figure import Figure

import npae
from npae.gradcheck import check_function, check_model
from npae.regularizers import Contractive

FAST = os.environ.get("NPAE_TUTORIAL_FAST") == "1"
OUT = pathlib.Path(os.environ.get("NPAE_TUTORIAL_OUT",
                                  pathlib.Path(tempfile.gettempdir()) / "npae-tutorials"))
OUT.mkdir(parents=True, exist_ok=True)

data = npae.datasets.load("digits")
rng = np.random.default_rng(0)

# %% [markdown]
# ## The closed form is the Jacobian's norm
#
# Build the Jacobian of a sigmoid encoder column by column with central differences and
# compare its Frobenius norm with the closed form.

# %%
encoder = npae.Sequential(npae.Dense(64, 16, rng=0, dtype=np.float64), npae.Sigmoid())
x = data.x_test[:3].astype(np.float64)
step = 1e-5
jacobians = np.zeros((len(x), 16, 64))
for i in range(64):
    e = np.zeros(64)
    e[i] = step
    jacobians[:, :, i] = (encoder.forward(x + e) - encoder.forward(x - e)) / (2 * step)
numeric = np.linalg.norm(jacobians, axis=(1, 2))
closed_form = Contractive().jacobian_norm(encoder.forward(x), encoder[0].W.value)
print("‖J‖_F by finite differences:", np.round(numeric, 6))
print("‖J‖_F closed form:          ", np.round(closed_form, 6))
assert np.allclose(numeric, closed_form, rtol=1e-8)

# %% [markdown]
# ## Both gradient paths, checked
#
# First each partial on its own (h and W as independent inputs), then the total
# derivative through the whole model.

# %%
penalty = Contractive()
h = rng.uniform(0.05, 0.95, size=(5, 4))
W = rng.normal(size=(6, 4))


def partials(h, W):
    penalty.forward(h, W)
    return penalty.backward()          # (∂P/∂h, ∂P/∂W)


r_h = check_function(lambda h: penalty.forward(h, W), lambda h: partials(h, W)[0], h)
r_W = check_function(lambda W: penalty.forward(h, W), lambda W: partials(h, W)[1], W)
print(f"∂P/∂h rel. error {r_h.worst:.1e},  ∂P/∂W rel. error {r_W.worst:.1e}")
assert r_h.passed and r_W.passed

model = npae.ContractiveAutoencoder(layer_sizes=[64, 8], contractive_weight=0.5, seed=0,
                                    dtype="float64")
result = check_model(model, data.x_train[:4].astype(np.float64))
print(result)
assert result.passed

# %% [markdown]
# ## Train: the penalty flattens the encoder
#
# Same network and budget with and without the penalty; compare ‖J_f(x)‖_F on held-out
# digits.

# %%
epochs = 8 if FAST else 40
settings = dict(layer_sizes=[64, 16], epochs=epochs, batch_size=32, learning_rate=1e-2,
                seed=0, verbose=0)
contractive = npae.ContractiveAutoencoder(contractive_weight=0.5, **settings).fit(data.x_train)
plain = npae.Autoencoder(**settings).fit(data.x_train)
with_penalty = contractive.jacobian_norm(data.x_test)
without = Contractive().jacobian_norm(plain.transform(data.x_test), plain.encoder_[0].W.value)
print(f"mean ‖J‖_F on test digits: contractive {with_penalty.mean():.3f}, "
      f"plain {without.mean():.3f}")
print(f"test loss: contractive {-contractive.score(data.x_test):.2f}, "
      f"plain {-plain.score(data.x_test):.2f}")
assert with_penalty.mean() < 0.7 * without.mean()

# %%
fig = Figure(figsize=(5, 3.2), layout="constrained")
ax = fig.add_subplot()
bins = np.linspace(0, max(with_penalty.max(), without.max()), 40)
ax.hist(without, bins=bins, alpha=0.6, label="plain autoencoder")
ax.hist(with_penalty, bins=bins, alpha=0.6, label="contractive, λ = 0.5")
ax.set(xlabel="‖J_f(x)‖_F on a test digit", ylabel="digits")
ax.legend()
fig.savefig(OUT / "06_jacobian_norms.png")
fig
