"""Metrics on models whose answers are known by construction."""
import numpy as np
import pytest

from npae import metrics
from npae.models.vae import VAE


def vae_with_a_dead_unit():
    """Latent 0 reads x; latent 1 is switched off: μ_1 = 0, log σ_1² = 0 for every x, i.e.
    q(z_1|x) = N(0, 1) = the prior (a collapsed unit: KL 0, no variance over x)."""
    vae = VAE(layer_sizes=[3, 2], seed=0, dtype=np.float64)
    vae.mu_head_.W.value[:, 1] = 0
    vae.mu_head_.b.value[1] = 0
    vae.log_var_head_.W.value[:, 1] = 0
    vae.log_var_head_.b.value[1] = 0
    return vae


def test_active_units_and_kl_per_dimension(rng):
    vae = vae_with_a_dead_unit()
    x = rng.uniform(0, 1, (500, 3))
    count, activity = metrics.active_units(vae, x)
    mu = vae.transform(x)
    assert count == 1 and activity.shape == (2,)
    assert activity[0] == pytest.approx(mu[:, 0].var()) and activity[0] > 0.01
    assert activity[1] == 0
    kl = metrics.kl_per_dimension(vae, x)
    assert kl[1] == 0 and kl[0] > 0
    # the threshold is the documented 0.01 on Var_x(μ_j): scaling μ_0 to a variance just
    # below/above it switches the unit off/on
    scale = np.sqrt(0.009 / activity[0])
    vae.mu_head_.W.value[:, 0] *= scale
    assert metrics.active_units(vae, x)[0] == 0
    vae.mu_head_.W.value[:, 0] *= np.sqrt(0.011 / 0.009)
    assert metrics.active_units(vae, x)[0] == 1


def test_bounds_average_the_model_and_batching_does_not_matter(rng):
    vae = VAE(layer_sizes=[5, 4, 2], seed=1, dtype=np.float64)
    x = rng.uniform(0, 1, (30, 5))
    whole = metrics.negative_elbo(vae, x, rng=3, batch_size=30)
    assert whole == pytest.approx(-vae.elbo(x, rng=3).mean(), rel=1e-12)
    assert metrics.iwae_nll(vae, x, k=5, rng=4, batch_size=30) == pytest.approx(
        -vae.log_likelihood(x, 5, rng=4).mean(), rel=1e-12)
    # one generator feeds the batches in order: the same draws, so the same answer
    assert metrics.negative_elbo(vae, x, rng=3, batch_size=7) == pytest.approx(whole, rel=1e-12)
    assert metrics.iwae_nll(vae, x, k=5, rng=4, batch_size=7) != metrics.iwae_nll(vae, x, k=5, rng=5)


def test_reconstruction_error_is_the_summed_squared_error(rng):
    vae = VAE(layer_sizes=[5, 2], seed=2, dtype=np.float64)
    x = rng.uniform(0, 1, (9, 5))
    expected = np.mean(np.sum((vae.reconstruct(x) - x) ** 2, axis=1))
    assert metrics.reconstruction_error(vae, x, batch_size=4) == pytest.approx(expected, rel=1e-12)


def test_linear_probe_sees_separable_classes_and_not_random_labels(rng):
    codes = rng.standard_normal((400, 2))
    labels = (codes[:, 0] + 0.5 * codes[:, 1] > 0).astype(int)
    assert metrics.linear_probe_accuracy(codes[:200], labels[:200], codes[200:], labels[200:]) > 0.97
    noise = rng.integers(0, 4, 400)
    assert metrics.linear_probe_accuracy(codes[:200], noise[:200], codes[200:], noise[200:]) < 0.4
