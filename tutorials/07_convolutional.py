# %% [markdown]
# # 07 · Convolutional autoencoders
#
# Images have structure a dense layer ignores: nearby pixels go together, and a stroke is a
# stroke wherever it appears. A convolution shares one small kernel across all positions
# (cross-correlation, as in every deep-learning library; NCHW layout):
#
#     y[n, f, i, j] = b[f] + Σ_c Σ_p Σ_q W[f, c, p, q] · x[n, c, i·s + p − pad, j·s + q − pad]
#     H_out = ⌊(H + 2·pad − k) / s⌋ + 1
#
# **As one matrix product.** im2col copies every k×k patch into a column:
# cols is (C·k·k, N·H_out·W_out), and with W_mat = W reshaped to (F, C·k·k)
#
#     Y = W_mat cols + b,     ∂L/∂W_mat = ∂L/∂Y colsᵀ,     ∂L/∂x = col2im(W_matᵀ ∂L/∂Y)
#
# col2im scatters each column back to its patch and **sums where patches overlap** —
# every input pixel that fed several outputs collects the gradient of each.
#
# The decoder runs the other way with the transposed convolution, the adjoint of Conv2D:
# ⟨Conv(x), y⟩ = ⟨x, ConvT(y)⟩ for the same W. Pooling and upsampling follow the same rule:
# max-pool sends dy to each window's argmax (summed when overlapping windows share it);
# nearest upsampling copied each pixel into an s×s block, so its gradient is the block's sum.

# %%
import os
import pathlib
import tempfile

import numpy as np

import npae
from npae.gradcheck import check_layer
from npae.plotting import plot_conv_kernels, plot_reconstructions

FAST = os.environ.get("NPAE_TUTORIAL_FAST") == "1"
OUT = pathlib.Path(os.environ.get("NPAE_TUTORIAL_OUT",
                                  pathlib.Path(tempfile.gettempdir()) / "npae-tutorials"))
OUT.mkdir(parents=True, exist_ok=True)

data = npae.datasets.load("digits", flat=False)     # images (N, 1, 8, 8)
rng = np.random.default_rng(0)
print(data.x_train.shape)

# %% [markdown]
# ## The defining sum, as loops, against npae's im2col

# %%
def conv2d_by_definition(x, W, b, stride, padding):
    n, c, h, w = x.shape
    f, _, kh, kw = W.shape
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    h_out, w_out = (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    y = np.empty((n, f, h_out, w_out))
    for i in range(h_out):
        for j in range(w_out):
            patch = padded[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            y[:, :, i, j] = np.tensordot(patch, W, axes=([1, 2, 3], [1, 2, 3])) + b
    return y


conv = npae.Conv2D(2, 3, kernel_size=3, stride=2, padding=1, rng=0, dtype=np.float64)
conv.b.value[:] = rng.normal(size=3)
x = rng.normal(size=(2, 2, 7, 6))
y = conv.forward(x)
print("output shape", y.shape, "= (N, F, ⌊(7 + 2 − 3)/2⌋ + 1, ⌊(6 + 2 − 3)/2⌋ + 1)")
assert np.allclose(y, conv2d_by_definition(x, conv.W.value, conv.b.value, 2, 1))

# %% [markdown]
# ## Gradients, and the adjoint
#
# A 3×3 kernel with stride 1 overlaps its neighbours: a backward that overwrote instead of
# summing in col2im would fail here. (Writing Conv2D's backward yourself is exercise
# `conv_backward` in `npae.exercises`.)

# %%
for layer, x_in in ((npae.Conv2D(2, 3, 3, stride=1, padding=1, rng=1, dtype=np.float64),
                     rng.normal(size=(2, 2, 5, 5))),
                    (conv, x),
                    (npae.ConvTranspose2D(3, 2, 3, stride=2, padding=1, output_padding=1, rng=2,
                                          dtype=np.float64), rng.normal(size=(2, 3, 3, 3)))):
    result = check_layer(layer, x_in)
    print(f"{layer!r}: worst rel. error {result.worst:.1e}")
    assert result.passed, str(result)

# ⟨Conv(x), v⟩ = ⟨x, ConvT(v)⟩ with the same W and no bias
down = npae.Conv2D(2, 3, 3, stride=2, padding=1, bias=False, rng=3, dtype=np.float64)
up = npae.ConvTranspose2D(3, 2, 3, stride=2, padding=1, output_padding=1, bias=False,
                            dtype=np.float64)
up.W.value[...] = down.W.value                      # (F, C, k, k) read as (C_in, C_out, k, k)
x = rng.normal(size=(1, 2, 6, 6))
v = rng.normal(size=down.output_shape(x.shape))
assert np.isclose(np.sum(down.forward(x) * v), np.sum(x * up.forward(v)))

# %% [markdown]
# Max pooling with overlapping windows (stride 1 < kernel 2), on values without ties
# (the max has no derivative at a tie), and upsampling by 2:

# %%
distinct = (rng.permutation(2 * 2 * 5 * 5).reshape(2, 2, 5, 5) - 50) * 0.01
for layer, x_in in ((npae.MaxPool2D(2, stride=1), distinct),
                    (npae.AvgPool2D(3, stride=1), distinct),
                    (npae.Upsample2D(2), rng.normal(size=(2, 2, 3, 3)))):
    result = check_layer(layer, x_in)
    print(f"{layer!r}: worst rel. error {result.worst:.1e}")
    assert result.passed, str(result)

# %% [markdown]
# ## A convolutional autoencoder
#
#     1×8×8 → Conv(3×3, stride 2) → 8×4×4 → Conv(3×3, stride 2) → 16×2×2 → Dense → z (16)
#     z → Dense → 16×2×2 → ConvT(stride 2) → 8×4×4 → ConvT(stride 2) → 1×8×8 (logits)
#
# It is an `Autoencoder` whose encoder and decoder are built from conv layers; loss,
# backward and fit are the autoencoder's, unchanged.

# %%
epochs = 5 if FAST else 30
model = npae.ConvAutoencoder(input_shape=(1, 8, 8), channels=(8, 16), n_latent=16,
                             epochs=epochs, batch_size=32, learning_rate=3e-3, seed=0, verbose=0)
print(model.encoder_)
model.fit(data.x_train)

mean_image = np.clip(data.x_train.mean(axis=0), 1e-6, 1 - 1e-6)
baseline = npae.BCE()(np.ascontiguousarray(np.broadcast_to(mean_image, data.x_test.shape)),
                      data.x_test)
test_loss = -model.score(data.x_test)
print(f"test loss {test_loss:.2f} nats per image; mean-image baseline {baseline:.2f}")
assert test_loss < (0.85 if FAST else 0.7) * baseline

# %%
plot_conv_kernels(model.encoder_[0].W, path=OUT / "07_kernels.png")
fig = plot_reconstructions(data.x_test[:10], model.reconstruct(data.x_test[:10]),
                           path=OUT / "07_reconstructions.png")
fig
