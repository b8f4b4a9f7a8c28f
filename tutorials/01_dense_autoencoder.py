# %% [markdown]
# # 01 · A dense autoencoder, and its backward pass by hand
#
# An autoencoder learns a code z = f(x) from which a decoder g rebuilds its input:
#
#     x̂ = g(f(x)),        L = (1/N) Σ_n ℓ(x̂_n, x_n)                    (the AE objective)
#
# Here the encoder is one sigmoid layer, the decoder one linear layer, and ℓ the squared
# error with npae's ½ (npae reduces every loss the same way: **sum over the features,
# mean over the batch**):
#
#     a = x W₁ + b₁,   h = s(a) = 1 / (1 + e^−a),   x̂ = h W₂ + b₂,   ℓ = ½ ‖x̂ − x‖²
#
# We write the forward and the backward pass in plain NumPy, check the backward against
# central differences, and then meet the same network built from npae's layers.

# %%
import os
import pathlib
import tempfile

import numpy as np

import npae
from npae.gradcheck import check_layer, check_model, numerical_gradient, rel_error
from npae.plotting import plot_reconstructions, plot_training_curves

FAST = os.environ.get("NPAE_TUTORIAL_FAST") == "1"      # the test suite's quick setting
OUT = pathlib.Path(os.environ.get("NPAE_TUTORIAL_OUT",
                                  pathlib.Path(tempfile.gettempdir()) / "npae-tutorials"))
OUT.mkdir(parents=True, exist_ok=True)

data = npae.datasets.load("digits")          # 8×8 digits in [0, 1], flat: (N, 64)
print(data.x_train.shape, data.x_test.shape)

# %% [markdown]
# ## The forward pass
#
# Gradient checks run in float64: finite differences in float32 drown in round-off.

# %%
rng = np.random.default_rng(0)
x = data.x_train[:8].astype(np.float64)      # a batch of N = 8 images
D, H = 64, 16
params = {"W1": rng.normal(0, 0.3, (D, H)), "b1": rng.normal(0, 0.1, H),
          "W2": rng.normal(0, 0.3, (H, D)), "b2": rng.normal(0, 0.1, D)}


def forward(x, W1, b1, W2, b2):
    a = x @ W1 + b1
    h = 1 / (1 + np.exp(-a))
    x_hat = h @ W2 + b2
    loss = 0.5 * np.sum((x_hat - x) ** 2) / len(x)
    return loss, h, x_hat


loss, h, x_hat = forward(x, **params)
print(f"L = {loss:.4f}")

# %% [markdown]
# ## The backward pass, one line per equation
#
# The chain rule, from the loss back to the input (shapes in brackets):
#
#     δ      = ∂L/∂x̂ = (x̂ − x) / N                               (N, D)
#     ∂L/∂W₂ = hᵀ δ,        ∂L/∂b₂ = Σ_n δ_n,     ∂L/∂h = δ W₂ᵀ     (H, D), (D,), (N, H)
#     ∂L/∂a  = ∂L/∂h ⊙ h ⊙ (1 − h)                                  (s' = s (1 − s))
#     ∂L/∂W₁ = xᵀ ∂L/∂a,    ∂L/∂b₁ = Σ_n (∂L/∂a)_n                  (D, H), (H,)
#
# The 1/N sits in δ once, and every parameter gradient inherits it: forgetting it (or
# applying it twice) is the classic bug that a batch of size 1 cannot reveal.

# %%
def backward(x, h, x_hat, W1, b1, W2, b2):
    delta = (x_hat - x) / len(x)
    grads = {"W2": h.T @ delta, "b2": delta.sum(axis=0)}
    dh = delta @ W2.T
    da = dh * h * (1 - h)
    grads.update(W1=x.T @ da, b1=da.sum(axis=0))
    return grads


grads = backward(x, h, x_hat, **params)

# %% [markdown]
# ## Check it: central differences
#
# `numerical_gradient(f, a)` perturbs each entry of `a` by ±h (fourth-order stencil, h = 1e-4)
# and `rel_error` is ‖a − n‖ / max(‖a‖, ‖n‖). A correct gradient reaches 1e-9 … 1e-11;
# 1e-7 is npae's pass line.

# %%
for name, value in params.items():
    numeric = numerical_gradient(lambda: forward(x, **params)[0], value)
    error = rel_error(grads[name], numeric)
    print(f"{name:<3} {str(value.shape):<9} rel. error {error:.1e}")
    assert error < 1e-7, name

# %% [markdown]
# ## The same network from npae's layers
#
# Each npae layer keeps its forward and its backward side by side: `Dense.backward` is
# the three lines above (`W.grad += xᵀ dy`, written `W.add_matmul(x.T, dy)` so that BLAS
# puts the product straight into the gradient; `b.grad += Σ dy`; return `dy Wᵀ`),
# `Sigmoid.backward` is `dy ⊙ y (1 − y)`. Copy our weights in and the gradients agree.

# %%
encoder = npae.Sequential(npae.Dense(D, H, dtype=np.float64), npae.Sigmoid())
decoder = npae.Sequential(npae.Dense(H, D, dtype=np.float64))
for layer, (W, b) in ((encoder[0], ("W1", "b1")), (decoder[0], ("W2", "b2"))):
    layer.W.value[...], layer.b.value[...] = params[W], params[b]

mse = npae.MSE()
assert np.isclose(mse(decoder.forward(encoder.forward(x)), x), loss)
encoder.backward(decoder.backward(mse.backward()))
for name, p in (("W1", encoder[0].W), ("b1", encoder[0].b), ("W2", decoder[0].W), ("b2", decoder[0].b)):
    assert rel_error(p.grad, grads[name]) < 1e-12, name
print("npae's layers give the hand-derived gradients")

# %% [markdown]
# `check_layer` is the same check, packaged for any layer (also for the ones you write):
# it reduces the output with a fixed random array R (so dy = R), compares every gradient
# with central differences, and also checks the layer protocol — backward must not
# modify dy, must not change the weights, and must *add* into `.grad`.

# %%
for layer in (npae.Dense(5, 3, rng=0, dtype=np.float64), npae.Sigmoid()):
    result = check_layer(layer, rng.normal(size=(4, 5)))
    print(f"{layer!r}\n{result}")
    assert result.passed

# %% [markdown]
# ## Tied weights
#
# A tied decoder reuses the encoder's matrix transposed: x̂ = h W₁ᵀ + c. W₁ is then used
# twice, and its gradient is the **sum over both uses**:
#
#     ∂L/∂W₁ = xᵀ ∂L/∂a  (encoder)  +  δᵀ h  (decoder, the transpose of hᵀ δ)
#
# In npae the `TiedDense` decoder holds the encoder's very `Parameter` and adds its share
# into the same `.grad` (every backward uses `+=`), so the sum falls out by itself.
# `check_model` checks a whole model's gradients through the model protocol.

# %%
tied = npae.Autoencoder(layer_sizes=[D, H], activation="sigmoid", reconstruction_loss="mse",
                        tied=True, seed=0, dtype="float64")
print([name for name, _ in tied.named_parameters()])     # W listed once
result = check_model(tied, x)
print(result)
assert result.passed

# %% [markdown]
# ## Train it
#
# `Autoencoder(layer_sizes=[64, 32])` builds the same mirrored network; `fit` runs
# mini-batch Adam. A baseline to beat: predicting every image as the mean image.

# %%
epochs = 5 if FAST else 40
model = npae.Autoencoder(layer_sizes=[D, 32], activation="sigmoid", reconstruction_loss="mse",
                         epochs=epochs, batch_size=32, learning_rate=1e-2, seed=0, verbose=0)
model.fit(data.x_train, validation_data=data.x_test)

mean_image = np.broadcast_to(data.x_train.mean(axis=0), data.x_test.shape)
baseline = npae.MSE()(np.ascontiguousarray(mean_image), data.x_test)
test_loss = -model.score(data.x_test)
print(f"test loss {test_loss:.3f}   mean-image baseline {baseline:.3f}")
assert test_loss < 0.3 * baseline                       # measured: 0.22 (fast), lower in full

# %%
plot_training_curves(model.history_.history, path=OUT / "01_training_curves.png")
fig = plot_reconstructions(data.x_test[:10], model.reconstruct(data.x_test[:10]),
                           image_shape=(8, 8), path=OUT / "01_reconstructions.png")
fig
