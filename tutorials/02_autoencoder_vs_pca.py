# %% [markdown]
# # 02 · A linear autoencoder learns the PCA subspace
#
# Take the AE objective of tutorial 01 with everything linear and the squared error:
#
#     x̂ = (x W_e + b_e) W_d + b_d,       L = (1/N) Σ_n ½ ‖x̂_n − x_n‖²,      code size k < D
#
# Baldi & Hornik (1989) showed that at every global minimum, x ↦ x̂ is the orthogonal
# projection onto the span of the top k principal directions of the (centred) data, and
# every other critical point is a saddle. So gradient descent on this autoencoder finds
# the PCA *subspace* — but not the principal directions themselves: any invertible k×k
# matrix A gives the same x̂ with W_e A and A⁻¹ W_d.
#
# To compare two k-dimensional subspaces we use their **principal angles**: with
# orthonormal bases Q_A, Q_B (D × k), cos θ_i = σ_i(Q_Aᵀ Q_B) (Björck & Golub 1973).
# All angles 0 means the subspaces coincide.

# %%
import os
import pathlib
import tempfile

import numpy as np
from matplotlib.figure import Figure

import npae
from npae.training import Callback

FAST = os.environ.get("NPAE_TUTORIAL_FAST") == "1"
OUT = pathlib.Path(os.environ.get("NPAE_TUTORIAL_OUT",
                                  pathlib.Path(tempfile.gettempdir()) / "npae-tutorials"))
OUT.mkdir(parents=True, exist_ok=True)

data = npae.datasets.load("digits", dtype=np.float64)
mean = data.x_train.mean(axis=0)
X, X_test = data.x_train - mean, data.x_test - mean     # centred, as PCA assumes
k = 5

# %% [markdown]
# ## PCA, by the singular value decomposition
#
# X = U S Vᵀ: the rows of Vᵀ are the principal directions, S²/N the variances along them.

# %%
_, singular_values, vt = np.linalg.svd(X, full_matrices=False)
P = vt[:k].T                                   # (D, k), orthonormal columns
variance = singular_values ** 2 / len(X)
print("variance along the first 8 directions:", np.round(variance[:8], 3))


def pca_loss(Z):
    return 0.5 * np.sum((Z - Z @ P @ P.T) ** 2) / len(Z)


def principal_angles(A, B):
    """Principal angles in degrees between the column spans of A and B (each D × k)."""
    qa, _ = np.linalg.qr(A)
    qb, _ = np.linalg.qr(B)
    cosines = np.linalg.svd(qa.T @ qb, compute_uv=False)
    return np.degrees(np.arccos(np.clip(cosines, -1.0, 1.0)))


# the check works: a subspace against itself, and against a rotated copy of its basis
assert np.allclose(principal_angles(P, P), 0, atol=1e-5)
mix = np.random.default_rng(0).normal(size=(k, k))
assert np.allclose(principal_angles(P, P @ mix), 0, atol=1e-5)
assert principal_angles(P, vt[k:2 * k].T).min() > 89.9      # orthogonal subspaces: 90°

# %% [markdown]
# ## Train a linear autoencoder
#
# `activation="identity"` makes both the encoder and the decoder affine. A callback
# records the principal angles between the decoder's row space and the PCA subspace
# after every epoch. (They level off near 1°, not at 0: mini-batch noise at a fixed learning
# rate keeps the subspace jittering around the optimum.)

# %%
class AnglesToPCA(Callback):
    def on_train_begin(self, model, history):
        self.angles = []

    def on_epoch_end(self, model, epoch, logs):
        self.angles.append(principal_angles(P, model.decoder_[0].W.value.T))
        return False


angles = AnglesToPCA()
epochs = 12 if FAST else 60
model = npae.Autoencoder(layer_sizes=[64, k], activation="identity", reconstruction_loss="mse",
                         epochs=epochs, batch_size=32, learning_rate=3e-3, seed=0,
                         dtype="float64", verbose=0)
model.fit(X, callbacks=[angles])

final = angles.angles[-1]
ae_loss, best = -model.score(X_test), pca_loss(X_test)
print("principal angles to the PCA subspace (degrees):", np.round(final, 2))
print(f"test loss: autoencoder {ae_loss:.4f}   PCA with {k} components {best:.4f}")
assert final.max() < (15 if FAST else 3)
assert ae_loss < best * (1.05 if FAST else 1.01)

# %% [markdown]
# ## The subspace, not the directions
#
# The decoder's rows are some basis of the subspace, not the principal directions:
# compare each row with its best-matching principal direction. PCA *inside* the learned
# subspace (an SVD of the reconstructions) recovers the directions, up to sign.

# %%
rows = model.decoder_[0].W.value / np.linalg.norm(model.decoder_[0].W.value, axis=1, keepdims=True)
print("|cos| of each decoder row with its closest principal direction:",
      np.round(np.abs(rows @ P).max(axis=1), 2))
_, _, vt_ae = np.linalg.svd(model.reconstruct(X) - model.reconstruct(X).mean(axis=0),
                            full_matrices=False)
recovered = np.abs(np.sum(vt_ae[:k] * P.T, axis=1))
print("|cos| between the recovered and the true principal directions:", np.round(recovered, 3))
assert recovered.min() > (0.5 if FAST else 0.9)

# %%
fig = Figure(figsize=(8, 5), layout="constrained")
axes = fig.subplot_mosaic([["angles", "angles"], ["pca", "ae"]], height_ratios=[2, 1])
axes["angles"].plot(np.arange(1, len(angles.angles) + 1), np.array(angles.angles))
axes["angles"].set(xlabel="epoch", ylabel="principal angle (degrees)", yscale="log",
                   title=f"the {k} principal angles between the decoder's subspace and PCA's")
for key, title, vectors in (("pca", "principal directions", P.T), ("ae", "decoder rows", rows)):
    tiles = np.concatenate([np.pad(v.reshape(8, 8) / np.abs(v).max(), ((0, 0), (0, 1)),
                                   constant_values=np.nan) for v in vectors], axis=1)
    axes[key].imshow(tiles, cmap="gray", vmin=-1, vmax=1)
    axes[key].set(title=title, xticks=[], yticks=[])
fig.savefig(OUT / "02_autoencoder_vs_pca.png")
fig
