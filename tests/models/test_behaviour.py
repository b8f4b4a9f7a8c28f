"""Behaviour on real data (scikit-learn's 8x8 digits, scaled to [0, 1]): each variant does
what it is for. Models are trained once per module (about a second each); every test
prints its figure (see them with pytest -s)."""
import numpy as np
import pytest

from npae.corruption import masking_noise
from npae.models import (Autoencoder, ContractiveAutoencoder, DenoisingAutoencoder,
                         KSparseAutoencoder, SparseAutoencoder)
from npae.regularizers import Contractive

pytestmark = pytest.mark.slow
N_LATENT = 16
TRAINING = dict(seed=0, verbose=0, epochs=30, batch_size=32, learning_rate=1e-2)


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits
    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(X))
    X, y = (X[order] / 16).astype(np.float32), y[order]
    return X[:1200], y[:1200], X[1200:], y[1200:]


@pytest.fixture(scope="module")
def models(digits):
    X_train = digits[0]
    sizes = [64, N_LATENT]
    built = {
        "Autoencoder": Autoencoder(layer_sizes=sizes, **TRAINING),
        "DenoisingAutoencoder": DenoisingAutoencoder(layer_sizes=sizes, corruption="masking",
                                                     corruption_level=0.3, **TRAINING),
        "SparseAutoencoder": SparseAutoencoder(layer_sizes=sizes, rho=0.05, beta=3.0, **TRAINING),
        "KSparseAutoencoder": KSparseAutoencoder(layer_sizes=sizes, k=4, alpha=2.0, **TRAINING),
        "ContractiveAutoencoder": ContractiveAutoencoder(layer_sizes=sizes, contractive_weight=0.5,
                                                         **TRAINING),
    }
    return {name: model.fit(X_train) for name, model in built.items()}


def test_sparse_kl_mean_activation_is_near_rho(digits):
    X_train, _, X_test, _ = digits
    rho = 0.05
    # an overcomplete code (64 units for 64 pixels), as in the UFLDL exercise
    sparse = SparseAutoencoder(layer_sizes=[64, 64], rho=rho, beta=3.0, **TRAINING).fit(X_train)
    plain = Autoencoder(layer_sizes=[64, 64], **TRAINING).fit(X_train)
    mean, plain_mean = sparse.transform(X_test).mean(), plain.transform(X_test).mean()
    print(f"\nsparse AE: mean hidden activation {mean:.3f} for rho = {rho} "
          f"(same AE without the penalty: {plain_mean:.3f})")
    assert abs(mean - rho) < 0.02
    assert abs(plain_mean - rho) > 0.1          # the penalty, not the data, made it sparse


def test_ksparse_keeps_k_in_training_and_alpha_k_at_encode_time(models, digits):
    model, X_test = models["KSparseAutoencoder"], digits[2]
    model.loss(X_test)
    training = (model.last_code != 0).sum(axis=1)
    encoded = (model.transform(X_test) != 0).sum(axis=1)
    print(f"\nk-sparse AE: non-zeros per code {np.unique(training)} in training (k = 4), "
          f"{np.unique(encoded)} at encode time (alpha k = 8)")
    assert np.all(training == 4) and np.all(encoded == 8)
    dead = (model.transform(X_test) == 0).all(axis=0).sum()
    assert dead < N_LATENT // 2                  # the units share the work


def test_contractive_penalty_lowers_the_jacobian_norm(models, digits):
    X_test = digits[2]
    contractive, plain = models["ContractiveAutoencoder"], models["Autoencoder"]
    with_penalty = contractive.jacobian_norm(X_test).mean()
    without = Contractive().jacobian_norm(plain.transform(X_test), plain.encoder_[0].W.value).mean()
    print(f"\ncontractive AE: mean ||J||_F on held-out digits {with_penalty:.3f}, "
          f"same AE without the penalty {without:.3f}")
    assert with_penalty < 0.7 * without


def test_denoising_reconstructs_masked_digits_better(models, digits):
    X_test = digits[2]
    masked = masking_noise(X_test, 0.3, rng=np.random.default_rng(1))

    def error(model):   # squared error against the clean image, per image
        return float(np.mean(np.sum((model.reconstruct(masked) - X_test) ** 2, axis=1)))
    denoising, plain = error(models["DenoisingAutoencoder"]), error(models["Autoencoder"])
    print(f"\ndenoising AE: squared error on 30%-masked digits {denoising:.3f}, "
          f"plain AE {plain:.3f}")
    assert denoising < 0.9 * plain


def probe(digits, transform):
    """Held-out accuracy of logistic regression on transform(X) (standardized)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    X_train, y_train, X_test, y_test = digits
    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    return classifier.fit(transform(X_train), y_train).score(transform(X_test), y_test)


@pytest.fixture(scope="module")
def random_projection_accuracy(digits):
    """The best of 3 Gaussian random projections to N_LATENT dimensions."""
    projections = [np.random.default_rng(seed).standard_normal((64, N_LATENT)).astype(np.float32)
                   for seed in range(3)]
    return max(probe(digits, lambda X, R=R: X @ R) for R in projections)


@pytest.mark.parametrize("name", ["Autoencoder", "DenoisingAutoencoder", "SparseAutoencoder",
                                  "KSparseAutoencoder", "ContractiveAutoencoder"])
def test_linear_probe_beats_a_random_projection(models, digits, random_projection_accuracy, name):
    codes = probe(digits, models[name].transform)
    random = random_projection_accuracy
    print(f"\nlinear probe, {name}: accuracy {codes:.3f} on its {N_LATENT}-d codes, "
          f"{random:.3f} on the best of 3 random {N_LATENT}-d projections")
    assert codes > random
