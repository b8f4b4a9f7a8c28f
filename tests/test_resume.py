"""Resuming: a saved or checkpointed run continues exactly as if it had never stopped.

Bit-exact: the weights, the optimizer state (Adam's m, v, t; SGD's buffers), the counters,
the random generator and the history after resuming equal those of an uninterrupted run.
Also: same seed and backend give bit-identical training; numba and numpy agree to within
float32 rounding over a whole short run.
"""
import os

import numpy as np
import pytest

import npae
from npae.checkpoint import Checkpoint
from npae.errors import ModelFileError
from npae.models import (Autoencoder, ContractiveAutoencoder, DenoisingAutoencoder,
                         KSparseAutoencoder, SparseAutoencoder)
from npae.models.conv import ConvAutoencoder
from npae.models.conv_vae import ConvVAE
from npae.models.vae import VAE
from npae.training import Callback, EarlyStopping, fit


def digits(n=160, images=False, dtype=np.float32, start=0):
    from sklearn.datasets import load_digits
    x = (load_digits().data[start:start + n] / 16).astype(dtype)
    return x.reshape(-1, 1, 8, 8) if images else x


MODELS = {   # name -> (constructor, takes images)
    "Autoencoder": (lambda: Autoencoder(layer_sizes=[64, 16], activation="relu", tied=True), False),
    "Denoising": (lambda: DenoisingAutoencoder(layer_sizes=[64, 16], corruption="salt_and_pepper"),
                  False),
    "Sparse": (lambda: SparseAutoencoder(layer_sizes=[64, 16]), False),
    "KSparse": (lambda: KSparseAutoencoder(layer_sizes=[64, 16], k=4, k_start=12,
                                           k_schedule_steps=8), False),
    "Contractive": (lambda: ContractiveAutoencoder(layer_sizes=[64, 16]), False),
    "Conv": (lambda: ConvAutoencoder(input_shape=(1, 8, 8), channels=(4, 8), n_latent=8), True),
    "VAE": (lambda: VAE(layer_sizes=[64, 32, 4], warmup_steps=10), False),
    "VAE-gaussian": (lambda: VAE(layer_sizes=[64, 32, 4], reconstruction_loss="gaussian",
                                 learn_variance=True, n_samples=2), False),
    "ConvVAE": (lambda: ConvVAE(input_shape=(1, 8, 8), channels=(4,), n_latent=4), True),
}


def build(name, **settings):
    make, images = MODELS[name]
    model = make().set_params(seed=0, verbose=0, batch_size=32, **settings)
    return model, digits(images=images)


def state_of(model, optimizer=None):
    """Everything that decides how training goes on, as comparable arrays and numbers."""
    optimizer = optimizer or model.optimizer_
    state = {f"param/{n}": p.value for n, p in model.named_parameters()}
    for name, value in optimizer.state_dict().items():
        if isinstance(value, list):
            state.update({f"{name}/{i}": a for i, a in enumerate(value)})
        else:
            state[name] = value
    state["counters"] = (model.training_step, model.training_epoch)
    state["rng"] = str(model.rng_.bit_generator.state)
    return state


def assert_same_state(a, b):
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], np.ndarray):
            assert a[key].dtype == b[key].dtype and np.array_equal(a[key], b[key]), key
        else:
            assert a[key] == b[key], key


# --- model files: save, load, train on -----------------------------------------------------
@pytest.mark.parametrize("name", sorted(MODELS))
def test_save_load_then_train_on_is_bit_identical_to_not_stopping(name, tmp_path):
    straight, x = build(name)
    straight.fit(x, epochs=2)
    straight.fit(x, epochs=2)
    interrupted, _ = build(name)
    interrupted.fit(x, epochs=2)
    interrupted.save(tmp_path / "model.npz")
    resumed = npae.load(tmp_path / "model.npz")
    assert_same_state(state_of(resumed), state_of(interrupted))     # the round trip is exact
    resumed.fit(x, epochs=2)
    assert_same_state(state_of(resumed), state_of(straight))
    assert resumed.history_.history == straight.history_.history


@pytest.mark.parametrize("make", [lambda p: npae.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6,
                                                      weight_decay=0.01),
                                  lambda p: npae.SGD(p, lr=0.05, momentum=0.9, nesterov=True,
                                                     weight_decay=0.001)],
                         ids=["Adam", "SGD"])
def test_optimizer_state_round_trip(make, tmp_path, rng):
    """state_dict → load_state_dict (and through a file) continues the same trajectory."""
    def steps(optimizer, params, n, seed):
        g = np.random.default_rng(seed)
        for _ in range(n):
            for p in params:
                p.grad[:] = g.normal(size=p.shape).astype(p.dtype)
            optimizer.step()

    model = Autoencoder(layer_sizes=[6, 3], seed=0, dtype=np.float64)
    optimizer = make(model.parameters())
    steps(optimizer, model.parameters(), 3, 0)
    copy = Autoencoder(layer_sizes=[6, 3], seed=0, dtype=np.float64)
    for p, q in zip(copy.parameters(), model.parameters()):
        p.value[:] = q.value
    other = make(copy.parameters())
    other.load_state_dict(optimizer.state_dict())
    npae.io.save(model, tmp_path / "m.npz", optimizer=optimizer)
    loaded = npae.load(tmp_path / "m.npz")
    for o, m in ((other, copy), (loaded.optimizer_, loaded)):
        assert type(o) is type(optimizer)
        steps(o, m.parameters(), 4, 1)
    steps(optimizer, model.parameters(), 4, 1)
    for m in (copy, loaded):
        assert all(np.array_equal(p.value, q.value)
                   for p, q in zip(m.parameters(), model.parameters()))
    with pytest.raises(ValueError, match="entries"):
        other.load_state_dict({"lr": 0.1})
    state = optimizer.state_dict()
    name = optimizer.buffer_names[0]
    state[name] = [a[..., :1] for a in state[name]]
    with pytest.raises(ValueError, match=rf"{name}\[0\] must be float64"):
        other.load_state_dict(state)


def test_save_can_leave_the_optimizer_out(tmp_path):
    model, x = build("Autoencoder")
    model.fit(x, epochs=1)
    npae.io.save(model, tmp_path / "weights.npz", optimizer=False)
    loaded = npae.load(tmp_path / "weights.npz")
    assert loaded.optimizer_ is None
    np.testing.assert_array_equal(loaded.transform(x), model.transform(x))


# --- checkpoints: crash, resume ---------------------------------------------------------------
class CrashAt(Callback):
    """Simulates a crash: raises from inside model.loss at global training step ``step``."""

    def __init__(self, step):
        self.step = step

    def on_train_begin(self, model, history):
        original = type(model).loss

        def loss(x, rng=None, **noise):
            if model.training_step == self.step:
                raise KeyboardInterrupt("power cut")
            return original(model, x, rng=rng, **noise)
        model.loss = loss


@pytest.mark.parametrize("name", ["Denoising", "KSparse", "VAE"])
def test_checkpoint_resume_after_a_crash_mid_epoch_is_bit_identical(name, tmp_path):
    """5 batches per epoch, checkpoints every 2 epochs, a crash in epoch 4 (step 17):
    resuming redoes epochs 3 and 4 and ends exactly where an uninterrupted run ends."""
    path = tmp_path / "run.npz"
    validation = digits(40, start=400)

    def run(model, x, callbacks):
        return model.fit(x, epochs=6, validation_data=validation, callbacks=callbacks)

    straight, x = build(name)
    run(straight, x, [EarlyStopping(patience=100)])
    crashed, _ = build(name)
    with pytest.raises(KeyboardInterrupt):
        run(crashed, x, [EarlyStopping(patience=100), CrashAt(17), Checkpoint(path, every=2)])
    saved, _ = npae.io.read(path)
    assert saved["checkpoint"]["epochs_done"] == 2 and os.listdir(tmp_path) == ["run.npz"]
    resumed, _ = build(name)
    stopper = EarlyStopping(patience=100)
    run(resumed, x, [stopper, Checkpoint(path, every=2, resume=True)])
    assert_same_state(state_of(resumed), state_of(straight))
    assert resumed.history_.epoch == list(range(1, 7))
    assert resumed.history_.history == straight.history_.history
    assert stopper.best_epoch is not None and len(stopper.best_values) == len(resumed.parameters())


@pytest.mark.parametrize("crash_epoch", [1, 2, 3, 5])
def test_a_crash_loses_at_most_one_interval(crash_epoch, tmp_path):
    """The epochs the checkpoint file holds (read back from it) are at most one interval
    behind the epoch that crashed, and never include that unfinished epoch."""
    path, every, batches_per_epoch = tmp_path / "run.npz", 2, 5     # 160 digits / 32
    model, x = build("Autoencoder")
    with pytest.raises(KeyboardInterrupt):
        fit(model, x, epochs=8, batch_size=32, seed=0, verbose=0,
            optimizer=npae.Adam(model.parameters()),
            callbacks=[CrashAt(batches_per_epoch * (crash_epoch - 1) + 2)],
            checkpoint_every=every, checkpoint_path=path)
    if not path.exists():              # nothing saved yet: the crash must be in the first interval
        assert crash_epoch <= every
        return
    saved = npae.io.read(path)[0]["checkpoint"]
    loaded = npae.load(path)
    epochs_saved = loaded.training_epoch
    assert saved["epochs_done"] == epochs_saved == len(saved["history"]["epoch"])
    assert loaded.training_step == batches_per_epoch * epochs_saved
    assert 1 <= crash_epoch - epochs_saved <= every


def test_training_fit_checkpoint_options_resume_and_finish(tmp_path):
    path = tmp_path / "run.npz"
    x = digits()

    def train(model, **options):
        return fit(model, x, epochs=4, batch_size=32, seed=3, verbose=0,
                   optimizer=npae.SGD(model.parameters(), lr=0.1, momentum=0.9), **options)

    straight, _ = build("Sparse")
    history = train(straight)
    first, _ = build("Sparse")
    with pytest.raises(KeyboardInterrupt):
        train(first, callbacks=[CrashAt(12)], checkpoint_every=1, checkpoint_path=path)
    resumed, _ = build("Sparse")
    optimizer = npae.SGD(resumed.parameters(), lr=0.1, momentum=0.9)
    again = fit(resumed, x, epochs=4, batch_size=32, seed=3, verbose=0, optimizer=optimizer,
                checkpoint_every=1, checkpoint_path=path, resume=True)
    assert again.history == history.history
    assert all(np.array_equal(p.value, q.value)
               for p, q in zip(resumed.parameters(), straight.parameters()))
    # the finished run is in the file: resuming it trains nothing and returns its history
    done, _ = build("Sparse")
    before = [p.value.copy() for p in done.parameters()]
    last = fit(done, x, epochs=4, batch_size=32, seed=3, verbose=0, checkpoint_path=path,
               optimizer=npae.SGD(done.parameters(), lr=0.1, momentum=0.9), resume=True)
    assert last.history == history.history and done.training_step == straight.training_step
    assert not all(np.array_equal(a, p.value) for a, p in zip(before, done.parameters()))


def test_checkpoints_refuse_what_is_not_the_same_run(tmp_path):
    path = tmp_path / "run.npz"
    model, x = build("Autoencoder")
    model.fit(x, epochs=2, callbacks=[Checkpoint(path)])
    before = path.read_bytes()

    def resume(model, data=x, epochs=3, batch_size=32, **options):
        options.setdefault("path", path)
        model.fit(data, epochs=epochs, batch_size=batch_size, callbacks=[Checkpoint(**options)])

    with pytest.raises(ValueError, match="already holds a run; pass resume=True"):
        resume(build("Autoencoder")[0])
    with pytest.raises(ValueError, match="different X"):
        resume(build("Autoencoder")[0], x[:-1], resume=True)
    with pytest.raises(ValueError, match="batch_size=32.*batch_size=16"):
        resume(build("Autoencoder")[0], resume=True, batch_size=16)
    with pytest.raises(ValueError, match="holds a Autoencoder, the model is a SparseAutoencoder"):
        resume(build("Sparse")[0], resume=True)
    with pytest.raises(ValueError, match="2 epochs already, more than the 1"):
        resume(build("Autoencoder")[0], resume=True, epochs=1)
    with pytest.raises(ModelFileError, match="encoder.0.W"):
        resume(Autoencoder(layer_sizes=[64, 8], tied=True, activation="relu", seed=0, verbose=0),
               resume=True)
    assert path.read_bytes() == before                 # nothing was overwritten
    model.save(tmp_path / "plain.npz")
    with pytest.raises(ModelFileError, match="not a checkpoint"):
        resume(build("Autoencoder")[0], path=tmp_path / "plain.npz", resume=True)
    path.write_bytes(before[:len(before) // 3])        # a damaged checkpoint is refused
    with pytest.raises(ModelFileError, match="truncated"):
        resume(build("Autoencoder")[0], resume=True)


def test_checkpoint_settings_are_checked():
    for every in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="every"):
            Checkpoint("run.npz", every=every)
    with pytest.raises(ValueError, match="give a path"):
        fit(Autoencoder(layer_sizes=[4, 2], verbose=0), np.ones((3, 4), np.float32) / 2,
            checkpoint_every=2)


# --- reproducibility -------------------------------------------------------------------------
def train_weights(name, epochs=3, seed=7):
    model, x = build(name)
    model.fit(x, epochs=epochs, seed=seed)
    return [p.value.copy() for p in model.parameters()]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_same_seed_same_backend_is_bit_identical(name, backend):
    first, again, other = train_weights(name), train_weights(name), train_weights(name, seed=8)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


#: numba vs numpy after 3 epochs (15 Adam steps), float32: max |Δw| / max |w| over all
#: Parameters. The kernels round differently (fused loops vs NumPy temporaries); measured:
#: max |Δw| ≤ 6e-8, one float32 ulp of the largest weights, on every model.
BACKEND_TOLERANCE = 1e-6


@pytest.mark.parametrize("name", sorted(MODELS))
def test_numba_and_numpy_agree_over_a_short_run(name):
    previous = npae.get_backend()
    try:
        npae.set_backend("numba")
        compiled = train_weights(name)
        npae.set_backend("numpy")
        twins = train_weights(name)
    finally:
        npae.set_backend(previous)
    scale = max(float(np.max(np.abs(w))) for w in compiled)
    difference = max(float(np.max(np.abs(a - b))) for a, b in zip(compiled, twins))
    print(f"{name}: max |w_numba - w_numpy| = {difference:.3g} (max |w| = {scale:.3g})")
    assert difference / scale <= BACKEND_TOLERANCE
