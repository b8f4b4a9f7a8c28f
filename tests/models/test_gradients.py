"""Full-model gradient checks: total loss (reconstruction + every penalty) w.r.t. every
Parameter, float64, central differences, rel. error <= 1e-7, on Hypothesis-drawn sizes.
Corruption masks/noise are drawn once and passed explicitly, so the loss is deterministic."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from npae.gradcheck import check_model
from npae.models import (Autoencoder, ContractiveAutoencoder, DenoisingAutoencoder,
                         KSparseAutoencoder, SparseAutoencoder)
from npae.testing import arrays

EXAMPLES = 50
SMOOTH = ["sigmoid", "tanh", "softplus", "identity"]
WORST = {}   # model -> worst relative error seen (printed with pytest -s)


def record(name, result):
    assert result.passed, f"{name}:\n{result}"
    WORST[name] = max(WORST.get(name, 0.0), result.worst)
    return result


def teardown_module():
    for name, worst in sorted(WORST.items()):
        print(f"worst gradient-check error  {name:<28} {worst:.2e}")


@st.composite
def data(draw, n_features):
    """x in [0.05, 1]: a tiny nonzero input makes every gradient through it tiny, and the
    relative error then measures finite-difference round-off, not the formula."""
    n = draw(st.integers(1, 4))
    return draw(arrays((n, n_features), min_value=0.0, max_value=1.0, kinks=(0.0,),
                       kink_margin=0.05))


sizes = st.lists(st.integers(1, 4), min_size=1, max_size=2)
common = dict(dtype="float64", verbose=0)


@settings(max_examples=EXAMPLES)
@given(st.integers(1, 5), sizes, st.sampled_from(SMOOTH), st.sampled_from(SMOOTH),
       st.booleans(), st.sampled_from(["bce", "mse"]), st.integers(0, 2**16), st.data())
def test_autoencoder(n_features, hidden, activation, code_activation, tied, loss, seed, draw):
    model = Autoencoder(reconstruction_loss=loss, layer_sizes=[n_features] + hidden,
                        activation=activation, code_activation=code_activation, tied=tied,
                        seed=seed, **common)
    name = "Autoencoder" + (" (tied)" if tied else "")
    record(name, check_model(model, draw.draw(data(n_features))))


@settings(max_examples=EXAMPLES)
@given(st.integers(1, 5), sizes, st.sampled_from(["masking", "gaussian", "salt_and_pepper"]),
       st.booleans(), st.integers(0, 2**16), st.data())
def test_denoising(n_features, hidden, corruption, tied, seed, draw):
    model = DenoisingAutoencoder(layer_sizes=[n_features] + hidden, corruption=corruption,
                                 tied=tied, seed=seed, activation="tanh",
                                 reconstruction_loss="mse" if corruption == "gaussian" else "bce",
                                 **common)
    x = draw.draw(data(n_features))
    rng = np.random.default_rng(seed)
    noise = {"masking": {"mask": rng.random(x.shape) < 0.3},
             "gaussian": {"noise": rng.standard_normal(x.shape)},
             "salt_and_pepper": {"mask": rng.random(x.shape) < 0.3,
                                 "salt": rng.random(x.shape) < 0.5}}[corruption]
    record("DenoisingAutoencoder", check_model(model, x, **noise))


@settings(max_examples=EXAMPLES)
@given(st.integers(1, 5), sizes, st.sampled_from(["kl", "l1"]), st.floats(0.02, 0.5),
       st.floats(0.1, 5.0), st.booleans(), st.integers(0, 2**16), st.data())
def test_sparse(n_features, hidden, sparsity, rho, weight, tied, seed, draw):
    # sigmoid/softplus codes stay > 0, away from the L1 kink at 0
    code = "sigmoid" if sparsity == "kl" else draw.draw(st.sampled_from(["sigmoid", "softplus"]))
    model = SparseAutoencoder(layer_sizes=[n_features] + hidden, sparsity=sparsity, rho=rho,
                              beta=weight, l1_weight=weight, code_activation=code,
                              activation="tanh", tied=tied, seed=seed, **common)
    record(f"SparseAutoencoder ({sparsity})", check_model(model, draw.draw(data(n_features))))


@settings(max_examples=EXAMPLES)
@given(st.integers(1, 5), st.integers(1, 4), st.floats(0.01, 5.0), st.booleans(),
       st.sampled_from(["bce", "mse"]), st.integers(0, 2**16), st.data())
def test_contractive(n_features, n_latent, weight, tied, loss, seed, draw):
    model = ContractiveAutoencoder(reconstruction_loss=loss, layer_sizes=[n_features, n_latent],
                                   contractive_weight=weight, tied=tied, seed=seed, **common)
    record("ContractiveAutoencoder" + (" (tied)" if tied else ""),
           check_model(model, draw.draw(data(n_features))))


@settings(max_examples=EXAMPLES)
@given(st.integers(1, 5), st.integers(1, 5), st.lists(st.integers(1, 4), max_size=1),
       st.integers(2, 6), st.booleans(), st.integers(0, 2**16))
def test_ksparse(n, n_features, hidden, n_latent, tied, seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, n_latent + 1))
    model = KSparseAutoencoder(layer_sizes=[n_features] + hidden + [n_latent], k=k, tied=tied,
                               activation="tanh", seed=seed, **common)
    x = rng.random((n, n_features))
    model.loss(x)
    # top-k is piecewise: keep every kept unit at least 2e-3 above every dropped one, far
    # beyond what the finite-difference steps (2e-4 on one weight) can move a code value
    assume(model.kink_distance() > 1e-3)
    assert np.all(model.support.sum(axis=1) == k)
    record("KSparseAutoencoder" + (" (tied)" if tied else ""), check_model(model, x))


def test_checker_catches_a_wrong_penalty_gradient(monkeypatch):
    """Teeth: a penalty gradient missing its 1/N factor must fail the model check."""
    model = SparseAutoencoder(layer_sizes=[4, 3], seed=0, **common)
    x = np.random.default_rng(0).random((5, 4))
    original = model._penalties_backward
    monkeypatch.setattr(model, "_penalties_backward",
                        lambda dz: dz + (original(dz) - dz) * len(dz))
    assert not check_model(model, x).passed


@pytest.mark.parametrize("tied", [False, True])
def test_tied_weight_gradient_sums_both_uses(tied):
    """With tied weights W appears once in named_parameters and its grad is the sum of the
    encoder's and decoder's contributions (checked numerically above); here: the count."""
    model = Autoencoder(layer_sizes=[5, 3], tied=tied, seed=0, **common)
    names = [name for name, _ in model.named_parameters()]
    assert names == (["encoder.0.W", "encoder.0.b", "decoder.0.b"] if tied else
                     ["encoder.0.W", "encoder.0.b", "decoder.0.W", "decoder.0.b"])
