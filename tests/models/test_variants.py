"""What each variant adds: corruption, sparsity penalties, top-k codes, the contractive term."""
import numpy as np
import pytest

from npae.layers import Dense, ReLU, Sigmoid
from npae.losses import BCEWithLogits
from npae.models import (Autoencoder, ContractiveAutoencoder, DenoisingAutoencoder,
                         KSparseAutoencoder, SparseAutoencoder)
from npae.regularizers import SparsityKL
from npae.sequential import Sequential

rng = np.random.default_rng(1)
X = rng.random((6, 10))
f64 = dict(dtype="float64", seed=0, verbose=0)


# --- denoising -----------------------------------------------------------------------------
def test_denoising_loss_compares_the_corrupted_input_s_reconstruction_with_the_clean_input():
    model = DenoisingAutoencoder(layer_sizes=[10, 4], **f64)
    mask = rng.random(X.shape) < 0.3
    expected = BCEWithLogits().forward(model.decoder_.forward(model.encoder_.forward(X * ~mask)), X)
    assert model.loss(X, mask=mask) == expected
    plain = Autoencoder(layer_sizes=[10, 4], **f64)
    assert plain.loss(X) != expected                   # the corruption did change something


def test_denoising_corrupts_only_in_training():
    model = DenoisingAutoencoder(layer_sizes=[10, 4], corruption="gaussian", corruption_level=0.5,
                                 **f64)
    np.testing.assert_array_equal(model.transform(X), model.encoder_.forward(X))
    assert model.score(X) == model.score(X)
    a = model.loss(X, rng=np.random.default_rng(5))
    b = model.loss(X, rng=np.random.default_rng(5))
    c = model.loss(X, rng=np.random.default_rng(6))
    assert a == b != c


def test_denoising_arguments():
    with pytest.raises(ValueError, match="corruption must be one of"):
        DenoisingAutoencoder(layer_sizes=[10, 4], corruption="blur")
    model = DenoisingAutoencoder(layer_sizes=[10, 4], **f64)
    with pytest.raises(TypeError, match="mask"):
        model.loss(X, noise=np.zeros(X.shape))
    model.set_params(corruption_level=1.0)            # read at use time: every value masked
    assert model.loss(X, rng=np.random.default_rng(0)) == pytest.approx(
        BCEWithLogits().forward(model.decoder_.forward(model.encoder_.forward(0 * X)), X))


# --- sparse ----------------------------------------------------------------------------------
def test_sparse_total_is_reconstruction_plus_beta_times_kl():
    model = SparseAutoencoder(layer_sizes=[10, 7], rho=0.1, beta=2.5, **f64)
    total = model.loss(X)
    assert model.components["sparsity"] == pytest.approx(SparsityKL(0.1).forward(model.last_code))
    parts = model.components
    assert total == pytest.approx(parts["reconstruction"] + 2.5 * parts["sparsity"])
    assert model.loss_weights == {"reconstruction": 1.0, "sparsity": 2.5}


def test_sparse_l1_form():
    model = SparseAutoencoder(layer_sizes=[10, 7], sparsity="l1", l1_weight=0.01,
                              activation="relu", **f64)
    total = model.loss(X)
    assert model.components["sparsity"] == pytest.approx(np.abs(model.last_code).sum() / len(X))
    parts = model.components
    assert total == pytest.approx(parts["reconstruction"] + 0.01 * parts["sparsity"])


def test_sparse_arguments():
    with pytest.raises(ValueError, match="code_activation='sigmoid'"):
        SparseAutoencoder(layer_sizes=[10, 4], activation="relu")
    with pytest.raises(ValueError, match="sparsity must be one of"):
        SparseAutoencoder(layer_sizes=[10, 4], sparsity="l0")


# --- k-sparse --------------------------------------------------------------------------------
@pytest.mark.parametrize("tied", [False, True])
def test_ksparse_code_and_gradient_only_through_the_k_selected(tied):
    model = KSparseAutoencoder(layer_sizes=[10, 8], k=2, alpha=1.6, tied=tied, **f64)
    model.zero_grad()
    model.loss(X)
    model.backward()
    assert np.all((model.last_code != 0).sum(axis=1) == 2)
    np.testing.assert_array_equal(model.last_code != 0, model.support)
    never = ~model.support.any(axis=0)                 # units no example selected
    assert never.any()
    assert np.all(model.encoder_[0].b.grad[never] == 0)
    assert np.all(model.encoder_[0].W.grad[:, never] == 0)
    assert np.all(model.encoder_[0].b.grad[~never] != 0)
    assert np.all((model.transform(X) != 0).sum(axis=1) == 3)   # round(1.6 · 2)


def test_ksparse_schedule_lowers_k():
    model = KSparseAutoencoder(layer_sizes=[10, 8], k=2, k_start=8, k_schedule_steps=6, **f64)
    ks = []
    for step in [0, 3, 6, 100]:
        model.training_step = step
        model.loss(X)
        ks.append(int(model.support.sum(axis=1)[0]))
    assert ks == [8, 5, 2, 2]
    model.training_step = 0
    model.fit(X, epochs=1, batch_size=2)                # 3 batches: the schedule advances
    assert model.training_step == 3 and model.current_k() == 5


def test_ksparse_ties_are_broken_deterministically():
    model = KSparseAutoencoder(layer_sizes=[3, 4], k=2, **f64)
    model.encoder_[0].W.value[:] = 1.0                  # four identical units
    model.loss(X[:, :3])
    assert model.support.tolist() == [[True, True, False, False]] * 6
    assert model.kink_distance() == 0


def test_ksparse_arguments():
    with pytest.raises(ValueError, match="alpha"):
        KSparseAutoencoder(layer_sizes=[10, 4], k=2, alpha=0.5)
    with pytest.raises(ValueError, match="k_start"):
        KSparseAutoencoder(layer_sizes=[10, 4], k=2, k_start=1, k_schedule_steps=3)
    with pytest.raises(ValueError, match=r"k must lie in \[1, 4\]"):
        KSparseAutoencoder(layer_sizes=[10, 4], k=5, **f64).loss(X)
    wide = KSparseAutoencoder(layer_sizes=[10, 4], k=3, alpha=2.0, **f64)
    assert np.all((wide.transform(X) != 0).sum(axis=1) == 4)   # α·k stops at the code width


# --- contractive -----------------------------------------------------------------------------
def test_contractive_needs_a_single_sigmoid_layer():
    for kwargs in [dict(layer_sizes=[10, 6, 3]), dict(layer_sizes=[10, 3], activation="relu")]:
        with pytest.raises(ValueError, match="one-layer sigmoid encoder"):
            ContractiveAutoencoder(**kwargs)
    with pytest.raises(ValueError, match="one-layer sigmoid encoder"):
        ContractiveAutoencoder(Sequential(Dense(10, 3), ReLU()), Sequential(Dense(3, 10)))
    ok = ContractiveAutoencoder(Sequential(Dense(10, 3), Sigmoid()), Sequential(Dense(3, 10)))
    assert ok.transform(X.astype(np.float32)).shape == (6, 3)


def test_contractive_jacobian_norm_is_the_finite_difference_jacobian():
    model = ContractiveAutoencoder(layer_sizes=[10, 4], **f64)
    norms = model.jacobian_norm(X)
    for n in range(len(X)):
        J = np.empty((4, 10))
        for i in range(10):
            e = np.zeros((1, 10))
            e[0, i] = 1e-6
            J[:, i] = (model.transform(X[n:n + 1] + e) - model.transform(X[n:n + 1] - e))[0] / 2e-6
        assert norms[n] == pytest.approx(np.linalg.norm(J), rel=1e-7)
    total = model.loss(X)
    assert model.components["contractive"] == pytest.approx(np.mean(norms ** 2))
    assert total == pytest.approx(model.components["reconstruction"] + 0.1 * np.mean(norms ** 2))


# --- every variant, float32 end to end (a layer rejects any upcast input or dy) ------------
@pytest.mark.parametrize("model", [
    DenoisingAutoencoder(layer_sizes=[10, 4], corruption="gaussian", seed=0, verbose=0),
    DenoisingAutoencoder(layer_sizes=[10, 4], corruption="salt_and_pepper", seed=0, verbose=0),
    SparseAutoencoder(layer_sizes=[10, 4], seed=0, verbose=0),
    SparseAutoencoder(layer_sizes=[10, 4], sparsity="l1", activation="relu", seed=0, verbose=0),
    KSparseAutoencoder(layer_sizes=[10, 6], k=2, k_start=5, k_schedule_steps=2, seed=0, verbose=0),
    ContractiveAutoencoder(layer_sizes=[10, 4], tied=True, seed=0, verbose=0),
], ids=lambda m: f"{type(m).__name__}")
def test_float32_training_stays_float32(model):
    x = X.astype(np.float32)
    history = model.fit(x, epochs=2, batch_size=3).history_
    assert all(np.isfinite(v).all() for v in history.history.values())
    assert model.last_code.dtype == np.float32
    assert model.transform(x).dtype == np.float32 and model.reconstruct(x).dtype == np.float32
    assert all(p.value.dtype == np.float32 for p in model.parameters())
