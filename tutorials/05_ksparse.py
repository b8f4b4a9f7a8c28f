# %% [markdown]
# # 05 · k-sparse autoencoders
#
# Makhzani & Frey (2014) make the code sparse by construction instead of by a penalty:
# keep the k largest units of a linear code and zero the rest.
#
#     z = x W + b                       (linear code)
#     Γ = supp_k(z)                      (the indices of the k largest entries, per example)
#     h = z ⊙ 1_Γ,     x̂ = h Wᵀ + b'    (tied decoder)
#
# Once Γ is chosen it is a fixed mask, so the backward pass is the mask again:
#
#     ∂L/∂z = ∂L/∂h ⊙ 1_Γ
#
# — only the k selected units, and their weights, learn from an example. At encode time
# the α·k largest are kept (α ≥ 1), and a schedule may start k high and lower it, which
# keeps units from dying early in training (paper, §3.3).

# %%
import os
import pathlib
import tempfile

import numpy as np
from matplotlib.figure import Figure

import npae
from npae.gradcheck import check_model
from npae.models.ksparse import topk_mask
from npae.plotting import plot_filters

FAST = os.environ.get("NPAE_TUTORIAL_FAST") == "1"
OUT = pathlib.Path(os.environ.get("NPAE_TUTORIAL_OUT",
                                  pathlib.Path(tempfile.gettempdir()) / "npae-tutorials"))
OUT.mkdir(parents=True, exist_ok=True)

data = npae.datasets.load("digits")
rng = np.random.default_rng(0)

# %% [markdown]
# ## supp_k, checked against a sort

# %%
z = rng.normal(size=(6, 10))
k = 3
mask = topk_mask(z, k)
assert np.all(mask.sum(axis=1) == k)
kth_largest = np.sort(z, axis=1)[:, -k]
assert np.array_equal(mask, z >= kth_largest[:, None])
print(np.where(mask, np.round(z, 2), 0))

# %% [markdown]
# ## Gradients through the mask
#
# Finite differences only make sense while a perturbation of size h cannot change the
# selection: `kink_distance()` reports half the smallest gap between a kept and a dropped
# unit, and `check_model` warns when it is below the step.

# %%
model = npae.KSparseAutoencoder(layer_sizes=[64, 12], k=4, seed=0, dtype="float64")
x = data.x_train[:5].astype(np.float64)
model.loss(x)
print(f"selection gap / 2: {model.kink_distance():.2e}")
result = check_model(model, x)
print(result)
assert result.passed

# one example: the units outside its support Γ get no gradient at all
model.zero_grad()
model.loss(x[:1])
model.backward()
unused = ~model.support[0]
assert np.all(model.encoder_[0].b.grad[unused] == 0)

# %% [markdown]
# ## Train with a k schedule, for several k
#
# k_start = 32 falls linearly to k over the first half of training. Fewer units per
# example means a coarser reconstruction.

# %%
epochs = 6 if FAST else 40
steps_per_epoch = int(np.ceil(len(data.x_train) / 32))
models, errors = {}, {}
for k in (2, 5, 10):
    models[k] = npae.KSparseAutoencoder(
        layer_sizes=[64, 48], k=k, alpha=1.0, k_start=32, k_schedule_steps=epochs * steps_per_epoch // 2,
        epochs=epochs, batch_size=32, learning_rate=3e-3, seed=0, verbose=0).fit(data.x_train)
    errors[k] = -models[k].score(data.x_test)
    codes = models[k].transform(data.x_test)
    assert np.all((codes != 0).sum(axis=1) == k)          # exactly k units per example
    print(f"k = {k:2d}: test loss {errors[k]:.2f}")
assert errors[2] > errors[5] > errors[10]

# %%
fig = Figure(figsize=(4, 3), layout="constrained")
ax = fig.add_subplot()
ax.plot(list(errors), list(errors.values()), marker="o")
ax.set(xlabel="k (units kept per example)", ylabel="test loss (BCE, nats per image)")
fig.savefig(OUT / "05_error_vs_k.png")
fig = plot_filters(models[5].encoder_[0].W.value, image_shape=(8, 8), path=OUT / "05_filters.png")
fig
