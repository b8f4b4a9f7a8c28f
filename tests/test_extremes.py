"""Extreme inputs: |x| = 1e4 (and beyond), σ² near 0, saturated units, dead units.

Every case asserts finite values *and* finite gradients, and where the limit is known the
exact limit (a stable formula reaches it; an unstable one gives inf or NaN on the way).
Each runs in float32 and float64 and, where kernels are involved, on both backends.
"""
import warnings

import numpy as np
import pytest

import npae
from npae import gaussian as G
from npae.models import (Autoencoder, ContractiveAutoencoder, DenoisingAutoencoder,
                         KSparseAutoencoder, SparseAutoencoder)
from npae.models.conv import ConvAutoencoder
from npae.models.conv_vae import ConvVAE
from npae.models.vae import VAE
from npae.regularizers import Contractive, L1Activity, SparsityKL

DTYPES = [np.float32, np.float64]
BIG = [-1e4, -1e3, -100.0, -88.0, -20.0, 0.0, 20.0, 88.0, 100.0, 1e3, 1e4]


def finite(*arrays):
    return all(np.all(np.isfinite(np.asarray(a, dtype=np.float64))) for a in arrays)


def grads_finite(model):
    return all(np.all(np.isfinite(p.grad)) for p in model.parameters())


def max_of(dtype):
    return float(np.finfo(dtype).max) / 2


# --- activations ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_softplus_tanh_reach_their_limits(dtype, backend):
    x = np.array(BIG + [-max_of(dtype), max_of(dtype)], dtype)[None]
    for layer, low, high in [(npae.Sigmoid(), 0.0, 1.0), (npae.Tanh(), -1.0, 1.0)]:
        y = layer.forward(x)
        dx = layer.backward(np.ones_like(y))
        assert finite(y, dx) and y.dtype == dtype
        assert y[0, 0] == low and y[0, -1] == high and dx[0, 0] == 0 and dx[0, -1] == 0
    softplus = npae.Softplus()
    y = softplus.forward(x)
    dx = softplus.backward(np.ones_like(y))
    assert finite(y, dx)
    assert y[0, 0] == 0 and y[0, -1] == x[0, -1] and y[0, BIG.index(1e4)] == dtype(1e4)
    assert dx[0, 0] == 0 and dx[0, -1] == 1          # the derivative is the sigmoid


@pytest.mark.parametrize("dtype", DTYPES)
def test_relus_and_dense_on_huge_inputs(dtype, backend):
    x = np.array(BIG, dtype)[None]
    for layer in (npae.ReLU(), npae.LeakyReLU(0.1), npae.Identity()):
        y = layer.forward(x)
        assert finite(y, layer.backward(np.ones_like(y)))
    dense = npae.Dense(len(BIG), 3, rng=0, dtype=dtype)
    y = dense.forward(x)
    assert finite(y, dense.backward(np.ones_like(y)), dense.W.grad, dense.b.grad)


# --- losses --------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_with_logits_at_plus_minus_1e4(dtype, backend):
    z = np.array([[-1e4, 1e4, -1e4, 1e4, 1e4]], dtype)
    t = np.array([[0.0, 1.0, 1.0, 0.0, 0.5]], dtype)
    loss = npae.BCEWithLogits()
    value = loss.forward(z, t)
    # right answers cost 0, each wrong one |z| = 1e4, t = 1/2 costs max(z,0) − z/2 = 5e3
    assert value == pytest.approx(2e4 + 5e3, rel=1e-6)
    np.testing.assert_array_equal(loss.backward(), np.array([[0, 0, -1, 1, 0.5]], dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_on_probabilities_exactly_zero_and_one(dtype, backend):
    p = np.array([[0.0, 1.0, 0.0, 1.0]], dtype)
    t = np.array([[0.0, 1.0, 1.0, 0.0]], dtype)
    loss = npae.BCE()
    value = loss.forward(p, t)
    clip = 1e-7 if dtype == np.float32 else 1e-12
    # −2 log(clip), up to the rounding of 1 − clip (float32: 1 − 1e-7 is 1 − 1.19e-7)
    assert np.isfinite(value) and value == pytest.approx(-2 * np.log(clip), rel=1e-2)
    assert finite(loss.backward())


@pytest.mark.parametrize("dtype", DTYPES)
def test_mse_and_gaussian_nll_on_huge_errors_and_tiny_variances(dtype, backend):
    pred, target = np.full((2, 3), 1e4, dtype), np.full((2, 3), -1e4, dtype)
    mse = npae.MSE()
    assert mse.forward(pred, target) == pytest.approx(3 * 0.5 * 4e8, rel=1e-6)
    assert finite(mse.backward())
    nll = npae.GaussianNLL()
    for variance in (1e-6, 1e-3, 1e6):
        value = nll.forward(pred[:, :1] * 1e-2, target[:, :1] * 1e-2,
                            np.full((1,), variance, dtype))
        assert np.isfinite(value) and finite(nll.backward(), nll.variance_grad)


# --- the VAE's Gaussian pieces --------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_kl_and_reparameterization_for_sigma_squared_near_zero(dtype):
    mu = np.array([[1e4, -1e4, 0.0]], dtype)
    log_var = np.array([[-1e4, -50.0, -30.0]], dtype)     # σ² = 0 (underflow), 2e-22, 9e-14
    eps = np.ones((2, 1, 3), dtype)
    z = G.reparameterize(mu, log_var, eps)
    assert z[0, 0, 0] == mu[0, 0]                         # σ = 0 exactly: z = μ
    kl = G.kl_standard_normal(mu, log_var)
    assert finite(kl, *G.kl_standard_normal_grad(mu, log_var))
    assert kl[0] == pytest.approx(0.5 * (2e8 + 1e4 + 49 + 29) - 1.5, rel=1e-6)
    assert finite(*G.reparameterize_backward(np.ones_like(z), log_var, eps))


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_mean_exp_and_likelihoods_at_1e4(dtype):
    a = np.array([[1e4, -1e4], [1e4 - 1, -1e4], [-1e30, -1e30]], dtype)
    assert G.log_mean_exp(a)[0] == pytest.approx(1e4 + np.log((1 + np.exp(-1)) / 3), rel=1e-7)
    assert G.log_mean_exp(a)[1] == pytest.approx(-1e4 + np.log(2 / 3), rel=1e-7)
    logits = np.array([[[1e4, -1e4, 1e4]]], dtype)
    x = np.array([[1.0, 0.0, 0.0]], dtype)
    assert G.bernoulli_log_likelihood(logits, x)[0, 0] == pytest.approx(-1e4)
    assert finite(G.gaussian_log_likelihood(logits, x, -7.0))


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_mean_exp_of_zero_weights_is_minus_infinity(dtype):
    a = np.array([[-np.inf, -np.inf, 0.0], [-np.inf, np.log(3.0), np.inf]], dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                   # −∞ is the answer, not a warning
        result = G.log_mean_exp(a)
    assert result.dtype == dtype
    # all weights 0: −∞; one weight 3 of 2: log 1.5; an infinite weight: +∞
    np.testing.assert_array_equal(result[[0, 2]], [-np.inf, np.inf])
    assert result[1] == pytest.approx(np.log(1.5), rel=1e-6)


# --- regularizers ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_penalties_on_dead_saturated_and_huge_codes(dtype):
    for h in (np.zeros((4, 3), dtype), np.ones((4, 3), dtype)):     # ρ̂ = 0 and ρ̂ = 1
        kl = SparsityKL(0.05)
        assert np.isfinite(kl.forward(h)) and finite(kl.backward())
    big = np.full((2, 3), 1e4, dtype)
    l1 = L1Activity()
    assert l1.forward(big) == pytest.approx(3e4) and finite(l1.backward())
    contractive = Contractive()
    h = np.array([[0.0, 1.0, 0.5]], dtype)
    W = np.full((2, 3), 1e4, dtype)
    assert np.isfinite(contractive.forward(h, W))
    assert finite(*contractive.backward())


# --- models ----------------------------------------------------------------------------------
def loss_and_grads(model, x, **noise):
    model.zero_grad()
    value = model.loss(x, rng=0, **noise)
    model.backward()
    return value


@pytest.mark.parametrize("dtype", DTYPES)
def test_mse_autoencoders_on_inputs_of_1e4(dtype, backend):
    x = np.random.default_rng(0).uniform(-1e4, 1e4, (5, 6)).astype(dtype)
    for model in (Autoencoder(layer_sizes=[6, 4, 2], reconstruction_loss="mse", activation="relu",
                              seed=0, dtype=dtype),
                  KSparseAutoencoder(layer_sizes=[6, 4], k=2, reconstruction_loss="mse", seed=0,
                                     dtype=dtype),
                  VAE(layer_sizes=[6, 4, 2], reconstruction_loss="gaussian", seed=0, dtype=dtype)):
        value = loss_and_grads(model, x)
        assert np.isfinite(value) and grads_finite(model), type(model).__name__


@pytest.mark.parametrize("dtype", DTYPES)
def test_saturated_sigmoid_models_stay_finite(dtype, backend):
    """Weights × 1e4: every sigmoid unit is exactly 0 or 1 (ρ̂ hits the clip, J = 0)."""
    x = (np.random.default_rng(1).random((6, 5)) > 0.5).astype(dtype)
    for model in (Autoencoder(layer_sizes=[5, 3], seed=0, dtype=dtype),
                  SparseAutoencoder(layer_sizes=[5, 3], seed=0, dtype=dtype),
                  ContractiveAutoencoder(layer_sizes=[5, 3], seed=0, dtype=dtype)):
        for p in model.parameters():
            p.value *= dtype(1e4)
        value = loss_and_grads(model, x)
        assert np.isfinite(value) and grads_finite(model), type(model).__name__
        assert np.all(np.isfinite(model.reconstruct(x)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_vae_with_sigma_squared_near_zero_and_at_the_decoder_clamp(dtype):
    x = (np.random.default_rng(2).random((4, 6)) > 0.5).astype(dtype)
    vae = VAE(layer_sizes=[6, 5, 2], seed=0, dtype=dtype)
    for bias in (-1e4, -80.0, -30.0):                  # clamped to log σ² = -30: σ² = 9e-14
        vae.log_var_head_.b.value[:] = bias
        assert np.isfinite(loss_and_grads(vae, x)) and grads_finite(vae)
        assert np.all(np.isfinite(vae.log_likelihood(x, k=20, rng=0)))
    learned = VAE(layer_sizes=[6, 5, 2], reconstruction_loss="gaussian", learn_variance=True,
                  seed=0, dtype=dtype)
    learned.decoder_log_var_.value[:] = np.array([-1e4, -7.0, 0.0, 7.0, 1e4, 3.0], dtype)
    assert np.isfinite(loss_and_grads(learned, x)) and grads_finite(learned)
    g = learned.decoder_log_var_.grad
    assert g[0] == 0 and g[4] == 0                      # clamped entries: flat, gradient 0


@pytest.mark.parametrize("dtype", DTYPES)
def test_iwae_bound_with_sigma_exactly_zero(dtype):
    """No floor on log σ² (log_var_range from −∞): σ² = exp(−1e4) = 0 exactly, z = μ, and
    log q(z|x) = −½ Σ (log 2π + log σ² + ε²) is huge but finite (no (z − μ)² / 0)."""
    x = (np.random.default_rng(2).random((4, 6)) > 0.5).astype(dtype)
    vae = VAE(layer_sizes=[6, 5, 2], seed=0, dtype=dtype, log_var_range=(-np.inf, 30.0))
    vae.log_var_head_.b.value[:] = -1e4
    eps = np.random.default_rng(3).standard_normal((5, 4, 2)).astype(dtype)
    bound = vae.log_likelihood(x, eps=eps)
    assert np.all(np.isfinite(bound))
    mu, log_var = vae.encode(x)
    assert np.all(np.exp(log_var) == 0)                 # the case this is about
    z = np.broadcast_to(mu, eps.shape)
    logits = vae.decoder_.forward(z.reshape(-1, 2)).reshape(5, 4, 6)
    log_px = G.bernoulli_log_likelihood(logits, x)
    minus_log_q = 0.5 * np.sum(log_var, axis=-1) - G.log_standard_normal(eps)   # ½ Σ (... + ε²)
    log_w = log_px + G.log_standard_normal(z) + minus_log_q
    np.testing.assert_allclose(bound, G.log_mean_exp(log_w.astype(np.float64)),
                               rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_vae_log_variance_is_kept_in_range_for_inputs_of_1e4(dtype):
    """log σ² is clamped to log_var_range = (−30, 30): inputs of ±1e4 drive the head's output
    far past both ends, and the loss, z and every gradient stay finite."""
    vae = VAE(layer_sizes=[6, 5, 2], reconstruction_loss="gaussian", seed=0, dtype=dtype)
    x = np.array([[1e4] * 6, [-1e4] * 6, [1e4, -1e4] * 3], dtype)
    assert np.isfinite(loss_and_grads(vae, x)) and grads_finite(vae)
    out = vae.forward(x, rng=0)
    raw = vae._cache["raw_log_var"]
    assert raw.max() > 30 and raw.min() < -30            # both ends are reached ...
    assert out.log_var.max() == 30 and out.log_var.min() == -30     # ... and held there
    assert out.log_var.dtype == dtype and finite(out.z, out.output)


# --- optimizers -----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_optimizers_with_huge_and_tiny_gradients(dtype, backend):
    tiny = np.finfo(dtype).tiny
    for make in (lambda p: npae.Adam(p, lr=1e-3), lambda p: npae.SGD(p, lr=1e-3, momentum=0.9)):
        for g in (1e18, 1e-30, 1e-42 if dtype == np.float32 else 1e-300):
            p = npae.Parameter(np.ones(4, dtype))
            optimizer = make([p])
            for _ in range(20):
                p.grad[:] = dtype(g)
                optimizer.step()
            state = [p.value] + [a for name in optimizer.buffer_names
                                 for a in getattr(optimizer, name)]
            assert finite(*state)
            assert not any(np.any((a != 0) & (np.abs(a) < tiny)) for a in state), "denormals"


# --- the short version of benchmarks/long_run.py ---------------------------------------------
LONG_RUN_MODELS = {   # the built-in models, as the benchmark builds them (smaller code layers)
    "Autoencoder": lambda: Autoencoder(layer_sizes=[64, 32, 16]),
    "Denoising": lambda: DenoisingAutoencoder(layer_sizes=[64, 32, 16]),
    "Sparse": lambda: SparseAutoencoder(layer_sizes=[64, 32]),
    "KSparse": lambda: KSparseAutoencoder(layer_sizes=[64, 32], k=8),
    "Contractive": lambda: ContractiveAutoencoder(layer_sizes=[64, 32]),
    "Conv": lambda: ConvAutoencoder(input_shape=(1, 8, 8), channels=(8, 16), n_latent=16),
    "VAE": lambda: VAE(layer_sizes=[64, 32, 8]),
    "ConvVAE": lambda: ConvVAE(input_shape=(1, 8, 8), channels=(8, 16), n_latent=8),
}


@pytest.mark.parametrize("name", sorted(LONG_RUN_MODELS))
def test_a_float32_run_ends_finite_without_denormals(name):
    """8 epochs of float32 training (the benchmark runs 50 and times every step): the
    weights, Adam's m and v and the history stay finite, and hold no denormal numbers."""
    model = LONG_RUN_MODELS[name]().set_params(seed=0, verbose=0, dtype="float32")
    x = npae.datasets.load("digits", n_train=320).x_train
    if name.startswith("Conv"):
        x = x.reshape(-1, 1, 8, 8)
    model.fit(x, epochs=8, batch_size=32)
    tiny = np.finfo(np.float32).tiny
    state = model.optimizer_.state_dict()
    arrays = [p.value for p in model.parameters()] + state["m"] + state["v"]
    assert all(a.dtype == np.float32 for a in arrays) and finite(*arrays)
    assert sum(np.count_nonzero((a != 0) & (np.abs(a) < tiny)) for a in arrays) == 0
    losses = model.history_["loss"]
    assert finite(losses) and losses[-1] < losses[0]
