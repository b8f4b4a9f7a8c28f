"""The Autoencoder base: construction, eval-mode methods, dtypes, scikit-learn conventions."""
import numpy as np
import pytest

import npae
from npae.errors import DTypeError, ShapeError
from npae.layers import Dense, Sigmoid, TiedDense
from npae.losses import MSE, BCEWithLogits
from npae.models import (Autoencoder, ContractiveAutoencoder, DenoisingAutoencoder,
                         KSparseAutoencoder, SparseAutoencoder, dense_encoder_decoder)
from npae.sequential import Sequential
from npae.training import Callback

rng = np.random.default_rng(0)
X32 = rng.random((20, 8)).astype(np.float32)


def test_dense_constructor_builds_mirrored_networks():
    encoder, decoder = dense_encoder_decoder([8, 6, 3], "relu", "identity", rng=0)
    assert [type(l).__name__ for l in encoder] == ["Dense", "ReLU", "Dense"]
    assert [type(l).__name__ for l in decoder] == ["Dense", "ReLU", "Dense"]
    assert [l.W.shape for l in decoder if hasattr(l, "W")] == [(3, 6), (6, 8)]
    encoder, decoder = dense_encoder_decoder([8, 6, 3], tied=True, rng=0)
    assert decoder[0].W is encoder[2].W and decoder[2].W is encoder[0].W
    assert isinstance(decoder[0], TiedDense) and type(encoder[-1]) is Sigmoid
    with pytest.raises(ValueError, match="layer_sizes"):
        dense_encoder_decoder([8])
    with pytest.raises(ValueError, match="activation"):
        dense_encoder_decoder([8, 3], "swish")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_outputs_keep_the_model_dtype_and_shapes(dtype):
    model = Autoencoder(layer_sizes=[8, 5, 3], seed=0, dtype=dtype)
    x = X32.astype(dtype)
    z = model.transform(x)
    assert z.shape == (20, 3) and z.dtype == dtype
    r = model.reconstruct(x)
    assert r.shape == x.shape and r.dtype == dtype
    assert model.inverse_transform(z).dtype == dtype
    assert isinstance(model.loss(x), float) and isinstance(model.score(x), float)
    assert all(p.dtype == dtype for p in model.parameters())


def test_output_matches_the_loss():
    bce = Autoencoder(layer_sizes=[8, 3], seed=0)
    assert isinstance(bce.reconstruction_loss_, BCEWithLogits)
    r = bce.reconstruct(X32)
    assert r.min() >= 0 and r.max() <= 1   # sigmoid of the logits
    logits = bce.decoder_.forward(bce.transform(X32))
    np.testing.assert_allclose(r, 1 / (1 + np.exp(-logits)), rtol=1e-6)
    mse = Autoencoder(layer_sizes=[8, 3], reconstruction_loss="mse", seed=0)
    z = mse.transform(X32)
    np.testing.assert_array_equal(mse.inverse_transform(z), mse.decoder_.forward(z))
    assert mse.score(X32) == pytest.approx(-MSE().forward(mse.reconstruct(X32), X32))


def test_built_from_layers():
    dense = Dense(8, 4, rng=0)
    model = Autoencoder(Sequential(dense, Sigmoid()), Sequential(TiedDense(dense)), MSE())
    assert [n for n, _ in model.named_parameters()] == ["encoder.0.W", "encoder.0.b", "decoder.0.b"]
    assert model.dtype_ == np.float32 and model.transform(X32).shape == (20, 4)
    with pytest.raises(ValueError, match="both"):
        Autoencoder(Sequential(dense))
    with pytest.raises(ValueError, match="layer_sizes alone"):
        Autoencoder(Sequential(dense), Sequential(TiedDense(dense)), layer_sizes=[8, 4])
    with pytest.raises(TypeError, match="Layers"):
        Autoencoder("encoder", "decoder")
    with pytest.raises(DTypeError, match="float64"):
        Autoencoder(Sequential(dense), Sequential(TiedDense(dense)), dtype="float64")


def test_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="layer_sizes"):
        Autoencoder()
    with pytest.raises(ValueError, match="reconstruction_loss"):
        Autoencoder(layer_sizes=[8, 3], reconstruction_loss="huber")
    with pytest.raises(DTypeError, match="float32 or float64, got int32"):
        Autoencoder(layer_sizes=[8, 3], dtype="int32")
    model = Autoencoder(layer_sizes=[8, 3], seed=0)
    with pytest.raises(DTypeError, match="float32"):
        model.transform(X32.astype(np.float64))
    with pytest.raises(ShapeError, match=r"\(N, 8\)"):
        model.transform(np.ones((2, 7), np.float32))
    with pytest.raises(ShapeError, match="non-empty"):
        model.transform(np.ones(8, np.float32))
    with pytest.raises(TypeError, match="noise"):
        model.loss(X32, mask=np.zeros(X32.shape, bool))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):   # BCE targets outside its domain
        model.loss(X32 * 3)


def test_get_params_returns_exactly_the_constructor_arguments():
    sizes = [8, 4]
    model = SparseAutoencoder(layer_sizes=sizes, rho=0.1, seed=3)
    params = model.get_params()
    assert params["layer_sizes"] is sizes and params["rho"] == 0.1 and params["beta"] == 3.0
    assert set(params) == {"encoder", "decoder", "reconstruction_loss", "sparsity", "rho", "beta",
                           "l1_weight", "layer_sizes", "activation", "code_activation", "tied",
                           "epochs", "batch_size", "learning_rate", "seed", "dtype", "verbose"}
    assert KSparseAutoencoder(layer_sizes=[8, 4], k=2).get_params()["tied"] is True
    assert repr(model) == "SparseAutoencoder(rho=0.1, layer_sizes=[8, 4], seed=3)"


def test_set_params_rebuilds_only_when_the_network_changes():
    model = SparseAutoencoder(layer_sizes=[8, 4], seed=0)
    W = model.encoder_[0].W
    model.set_params(beta=1.0, learning_rate=0.1, epochs=3)
    assert model.encoder_[0].W is W and model.beta == 1.0
    model.set_params(layer_sizes=[8, 6])
    assert model.transform(X32).shape == (20, 6)
    with pytest.raises(ValueError, match="invalid parameter 'width'"):
        model.set_params(width=3)


@pytest.mark.parametrize("model", [
    Autoencoder(layer_sizes=[8, 3], tied=True, seed=0),
    DenoisingAutoencoder(layer_sizes=[8, 3], seed=1),
    KSparseAutoencoder(layer_sizes=[8, 5], k=2, seed=2),
    ContractiveAutoencoder(layer_sizes=[8, 3], seed=3),
], ids=lambda m: type(m).__name__)
def test_sklearn_clone(model):
    from sklearn.base import clone
    copy = clone(model)
    assert type(copy) is type(model) and copy.get_params() == model.get_params()
    np.testing.assert_array_equal(copy.transform(X32), model.transform(X32))   # same seed


def test_clone_keeps_ties_between_given_layers():
    from sklearn.base import clone
    dense = Dense(8, 4, rng=0)
    model = Autoencoder(Sequential(dense, Sigmoid()), Sequential(TiedDense(dense)))
    copy = clone(model)
    assert copy.decoder_[0].W is copy.encoder_[0].W and copy.encoder_[0].W is not dense.W


def test_pipeline_with_logistic_regression():
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    pipeline = Pipeline([("autoencoder", Autoencoder(layer_sizes=[64, 16], seed=0, epochs=15,
                                                     learning_rate=1e-2, verbose=0)),
                         ("classifier", LogisticRegression(max_iter=1000))])
    pipeline.fit(X[:1200], y[:1200])
    accuracy = pipeline.score(X[1200:], y[1200:])
    assert accuracy > 0.85, accuracy                  # chance is 0.1
    assert pipeline.named_steps["autoencoder"].history_ is not None
    assert pipeline.set_params(autoencoder__epochs=2).get_params()["autoencoder__epochs"] == 2


def test_fit_transform_and_score_improve_with_training():
    """score = −BCE, whose best possible value is −(the entropy of X), reached at x̂ = x;
    training must remove a good part of the loss above that floor (measured: 49% removed at
    seed 0, 46–58% over seeds 0–5; bar 30%)."""
    x = X32.astype(np.float64)
    floor = -np.sum(x * np.log(x) + (1 - x) * np.log(1 - x)) / len(x)
    model = Autoencoder(layer_sizes=[8, 3], seed=0, verbose=0, learning_rate=0.1)
    excess_before = -model.score(X32) - floor
    z = model.fit_transform(X32, epochs=20, batch_size=5)
    excess_after = -model.score(X32) - floor
    assert z.shape == (20, 3)
    assert 0 < excess_after < 0.7 * excess_before, (excess_before, excess_after)
    np.testing.assert_array_equal(z, model.transform(X32))


def test_example_shapes_come_from_the_first_layer_that_fixes_one():
    from npae.layers import Conv2D, Flatten, ReLU
    from npae.models.networks import example_shape_of
    dense = Dense(8, 4, rng=0)
    assert example_shape_of(Sequential(Sigmoid(), Sequential(ReLU(), dense))) == (8,)
    assert example_shape_of(Sequential(Sigmoid()), dense) == (8,)   # on into the next part
    assert example_shape_of(TiedDense(dense)) == (4,)
    assert example_shape_of(Sequential(Conv2D(1, 2, 3, input_shape=(1, 5, 5)))) == (1, 5, 5)
    assert example_shape_of(Sequential(Flatten(), dense)) is None    # (N, 2, 4) works too
    assert example_shape_of(Conv2D(1, 2, 3)) is None and example_shape_of(Sigmoid()) is None
    model = Autoencoder(Sequential(Flatten(), dense), Sequential(TiedDense(dense)), MSE())
    assert model.transform(np.ones((2, 2, 4), np.float32)).shape == (2, 4)
    with pytest.raises(ShapeError, match=r"Autoencoder: Z must be codes of shape \(N, 4\), "
                                         r"got \(2, 3\)"):
        model.inverse_transform(np.ones((2, 3), np.float32))


class CrashInEpoch(Callback):
    """A crash at the end of epoch ``epoch``, before that epoch's checkpoint is written."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, model, epoch, logs):
        if epoch == self.epoch:
            raise KeyboardInterrupt("power cut")
        return False


def test_fit_writes_checkpoints_and_resumes_from_them(tmp_path):
    """fit(checkpoint_every, checkpoint_path, resume) as in npae.training.fit: after a crash
    in epoch 3 the file holds epoch 2, and resuming ends exactly where an uninterrupted run
    ends (weights, Adam state, history)."""
    path = tmp_path / "run.npz"

    def make():
        return Autoencoder(layer_sizes=[8, 3], seed=0, verbose=0, batch_size=5)

    straight = make().fit(X32, epochs=4)
    crashed = make()
    with pytest.raises(KeyboardInterrupt):
        crashed.fit(X32, epochs=4, callbacks=[CrashInEpoch(3)], checkpoint_every=1,
                    checkpoint_path=path)
    assert npae.io.read(path)[0]["checkpoint"]["epochs_done"] == 2
    with pytest.raises(ValueError, match="resume=True"):          # never overwritten silently
        make().fit(X32, epochs=4, checkpoint_path=path)
    resumed = make().fit(X32, epochs=4, checkpoint_path=path, resume=True)
    assert resumed.history_.history == straight.history_.history
    assert resumed.training_step == straight.training_step == 16
    for (name, p), q in zip(resumed.named_parameters(), straight.parameters()):
        assert np.array_equal(p.value, q.value), name
    for a, b in zip(resumed.optimizer_.state_dict()["m"], straight.optimizer_.state_dict()["m"]):
        assert np.array_equal(a, b)


def test_only_the_models_own_first_layer_skips_the_input_gradient():
    """A model built from layer_sizes skips dL/dx of the data (one GEMM); layers the user
    passes in are left as they are."""
    import npae
    own = npae.Autoencoder(layer_sizes=[6, 3], seed=0)
    assert own.encoder_.layers[0].input_grad is False
    encoder = npae.Sequential(npae.Dense(6, 3, rng=0), npae.Sigmoid())
    decoder = npae.Sequential(npae.Dense(3, 6, rng=1))
    npae.Autoencoder(encoder, decoder, "mse")
    assert encoder.layers[0].input_grad is True


class _Overflow(npae.layers.Layer):
    """A student's last decoder layer with no finiteness check: y = x · 1e38 overflows."""

    def forward(self, x):
        self._save(x)
        return x * np.float32(1e38) * np.float32(1e38)

    def backward(self, dy):
        return dy


@pytest.mark.parametrize("loss, named", [(BCEWithLogits(), r"the decoder's output \(logits\)"),
                                         (MSE(), "the decoder's output")])
def test_nonfinite_decoder_outputs_are_named(loss, named, backend):
    """The sigmoid that maps the decoder's logits to probabilities checks them as it goes:
    inf or NaN logits raise instead of becoming 0, 1 or a tiny number; real-valued outputs
    (MSE) are checked too."""
    dense = Dense(8, 4, rng=0)
    model = Autoencoder(Sequential(dense, Sigmoid()), Sequential(TiedDense(dense), _Overflow()), loss)
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(
            npae.NonFiniteError, match=rf"Autoencoder: {named} contains NaN or inf"):
        model.reconstruct(X32)
