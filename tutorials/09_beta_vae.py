# %% [markdown]
# # 09 · β-VAE, KL warm-up, posterior collapse and capacity annealing
#
# **β-VAE** (Higgins et al. 2017) weighs the KL term:
#
#     L_β = R + β KL(q(z | x) ‖ p(z)),        R = −E_q[log p(x | z)]
#
# β > 1 pushes q(z | x) towards the prior, which favours codes whose dimensions follow
# independent factors of the data — and, pushed too far, switches dimensions off.
#
# **Posterior collapse.** A dimension j with q(z_j | x) = p(z_j) for every x carries no
# information about x: KL_j = 0, and its posterior mean does not move with x. Burda et al.
# (2016) count the *active units*, A_j = Var_x(E_q[z_j]) > 0.01.
#
# **KL warm-up** (Bowman et al. 2016; Sønderby et al. 2016): β_t = β · min(1, t / T) ramps
# from 0, so the decoder learns to use z before the KL term pulls q to the prior.
#
# **Capacity annealing** (Burgess et al. 2018): L = R + γ |KL − C_t|, C_t = C_max · min(1, t / T):
# the KL is held at a target capacity that grows during training.
#
# Everything here runs on `shapes`, dSprites-style images with known factors (shape, scale,
# rotation, x, y), rendered at 16×16.

# %%
import os
import pathlib
import tempfile

import numpy as np
from matplotlib.figure import Figure

import npae
from npae import metrics
from npae.gradcheck import check_model
from npae.models.vae import VAE
from npae.plotting import plot_latent_traversals

FAST = os.environ.get("NPAE_TUTORIAL_FAST") == "1"
OUT = pathlib.Path(os.environ.get("NPAE_TUTORIAL_OUT",
                                  pathlib.Path(tempfile.gettempdir()) / "npae-tutorials"))
OUT.mkdir(parents=True, exist_ok=True)

data = npae.datasets.load("shapes", n_train=1000 if FAST else 2500, n_test=500, resolution=16)
epochs = 6 if FAST else 20
settings = dict(layer_sizes=[256, 128, 8], batch_size=64, learning_rate=3e-3, epochs=epochs,
                seed=0, verbose=0)
steps_per_epoch = int(np.ceil(len(data.x_train) / 64))
print(data.x_train.shape, data.factor_names)

# %% [markdown]
# ## The schedules and the gradients of each objective
#
# Schedules read the trainer's batch counter `training_step` (or `training_epoch`). At a
# fixed step, β_t and C_t are constants, so each objective is an ordinary smooth function of
# the weights (|KL − C_t| away from its kink) and `check_model` applies, with ε fixed.

# %%
vae = VAE(layer_sizes=[5, 4, 2], beta=4.0, warmup_steps=100, capacity=None, seed=0, dtype="float64")
ramp = []
for step in (0, 25, 50, 100, 400):
    vae.training_step = step
    ramp.append(vae.beta_t)
print("β_t at steps 0, 25, 50, 100, 400:", ramp)
assert ramp == [0.0, 1.0, 2.0, 4.0, 4.0]


rng = np.random.default_rng(0)
x, eps = rng.uniform(0.05, 1, (4, 5)), rng.standard_normal((1, 4, 2))
vae.training_step = 30                                               # β_t = 1.2
capacity = VAE(layer_sizes=[5, 4, 2], capacity=0.1, capacity_steps=10, gamma=50.0, seed=0,
               dtype="float64")
capacity.training_step = 5                                           # C_t = 0.05 nats
for model in (vae, capacity):
    result = check_model(model, x, eps=eps)
    print(f"{'capacity' if model.capacity else 'β, warm-up':<12} worst rel. error {result.worst:.1e}")
    assert result.passed, str(result)

# %% [markdown]
# ## Posterior collapse as β grows
#
# Train the same network for several β and count the active units.

# %%
betas = (1.0, 16.0) if FAST else (1.0, 2.0, 4.0, 8.0, 16.0)
models, active, kl_per_dim = {}, {}, {}
for beta in betas:
    models[beta] = VAE(beta=beta, **settings).fit(data.x_train)
    active[beta] = metrics.active_units(models[beta], data.x_test)[0]
    kl_per_dim[beta] = metrics.kl_per_dimension(models[beta], data.x_test)
    print(f"β = {beta:4}: {active[beta]} active units of 8, KL per dimension "
          f"{np.round(kl_per_dim[beta], 2)}")
counts = [active[beta] for beta in betas]
assert all(a >= b for a, b in zip(counts, counts[1:]))       # never more units as β grows
assert active[16.0] < active[1.0]

# %%
fig = Figure(figsize=(9, 3.2), layout="constrained")
ax = fig.add_subplot(1, 2, 1)
ax.plot(betas, counts, marker="o")
ax.set(xscale="log", xlabel="β", ylabel="active units (of 8)", title="posterior collapse")
ax = fig.add_subplot(1, 2, 2)
for beta in betas:
    ax.plot(np.sort(kl_per_dim[beta])[::-1], marker=".", label=f"β = {beta:g}")
ax.set(xlabel="latent dimension (sorted)", ylabel="KL_j (nats)", title="KL per dimension")
ax.legend(fontsize="small")
fig.savefig(OUT / "09_posterior_collapse.png")

# %% [markdown]
# ## KL warm-up
#
# With `warmup_epochs=T` the KL weight is constant within an epoch, β_e = β · min(1, e / T), so
# every epoch's mean loss must be exactly R_e + β_e KL_e. Early on the code is nearly free,
# and the model puts information into z before the penalty arrives.

# %%
warm_epochs = epochs // 2
plain = VAE(beta=1.0, **settings).fit(data.x_train)
warm = VAE(beta=1.0, warmup_epochs=warm_epochs, **settings).fit(data.x_train)
h = warm.history_
for e in range(epochs):
    beta_e = min(1.0, e / warm_epochs)
    assert np.isclose(h["loss"][e], h["reconstruction"][e] + beta_e * h["kl"][e], rtol=1e-10)
print("first-epoch KL: with warm-up", round(h["kl"][0], 2), " without", round(plain.history_["kl"][0], 2))
assert h["kl"][0] > plain.history_["kl"][0]

# %% [markdown]
# ## Capacity annealing
#
# C_t rises from 0 to C_max over half of training; with a large γ the KL follows it.

# %%
c_max = 4.0 if FAST else 8.0
ramp_steps = epochs * steps_per_epoch // 2
annealed = VAE(capacity=c_max, capacity_steps=ramp_steps, gamma=100.0,
               **{**settings, "learning_rate": 1e-3}).fit(data.x_train)
kl = np.array(annealed.history_["kl"])
target = c_max * np.minimum(1.0, (np.arange(epochs) + 0.5) * steps_per_epoch / ramp_steps)
print("KL per epoch:", np.round(kl, 2))
print("C_t mid-epoch:", np.round(target, 2))
assert abs(kl[-1] - c_max) < (1.0 if FAST else 0.5)
assert np.max(np.abs(kl[1:] - target[1:])) < (1.5 if FAST else 1.0)

# %%
fig = Figure(figsize=(9, 3.2), layout="constrained")
ax = fig.add_subplot(1, 2, 1)
ax.plot(plain.history_["kl"], label="β = 1")
ax.plot(h["kl"], label=f"β = 1, warm-up over {warm_epochs} epochs")
ax.set(xlabel="epoch", ylabel="KL (nats)", title="KL warm-up")
ax.legend(fontsize="small")
ax = fig.add_subplot(1, 2, 2)
ax.plot(kl, label="KL")
ax.plot(target, linestyle="--", label="C_t")
ax.set(xlabel="epoch", ylabel="nats", title=f"capacity annealing, γ = 100")
ax.legend(fontsize="small")
fig.savefig(OUT / "09_warmup_and_capacity.png")

beta_model = models[4.0] if 4.0 in models else models[1.0]
fig = plot_latent_traversals(beta_model.decode, beta_model.transform(data.x_test[:1])[0],
                             image_shape=(16, 16), path=OUT / "09_traversals.png")
fig
