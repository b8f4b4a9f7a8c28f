"""Fault injection: diverging runs, NaN gradients, failing and killed saves, damaged files,
files that try to run code. Each fault must end in a clear error and lose no trained work."""
import io
import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import npae
from npae import kernels
from npae.errors import ModelFileError, NonFiniteError
from npae.models import Autoencoder, DenoisingAutoencoder
from npae.models.vae import VAE
from npae.training import Callback, fit


def digits(n=100, start=0):
    from sklearn.datasets import load_digits
    return (load_digits().data[start:start + n] / 16).astype(np.float32)


class Recorder(Callback):
    """Wraps model.loss: remembers, per training step, the weights the loss saw and the loss."""

    def on_train_begin(self, model, history):
        self.steps, original = {}, type(model).loss

        def loss(x, rng=None, **noise):
            value = original(model, x, rng=rng, **noise)
            if x.shape[0] != 30:                     # not a validation batch
                self.steps[model.training_step] = ([p.value.copy() for p in model.parameters()],
                                                   value)
            return value
        model.loss = loss


def weights(model):
    return [p.value.copy() for p in model.parameters()]


# --- divergence -------------------------------------------------------------------------------
def test_a_huge_learning_rate_stops_at_the_step_that_diverged(backend):
    model = Autoencoder(layer_sizes=[64, 8], activation="identity", reconstruction_loss="mse",
                        seed=0, verbose=0)
    recorder = Recorder()
    with pytest.raises(NonFiniteError) as error:
        model.fit(digits() * 100, epochs=50, batch_size=20, callbacks=[recorder],
                  optimizer=npae.SGD(model.parameters(), lr=1.0))
    message = str(error.value)
    bad = max(recorder.steps) + 1                    # the step whose loss was not finite
    assert f"(training step {bad})" in message and "training diverged at epoch" in message
    assert "'reconstruction'" in message or "forward pass" in message
    assert "smaller learning rate" in message
    last_weights, last_loss = recorder.steps[bad - 1]
    assert np.isfinite(last_loss) and model.training_step == bad - 1
    assert all(np.array_equal(p, q) for p, q in zip(weights(model), last_weights))


def test_a_nan_kl_names_the_component(monkeypatch):
    model = VAE(layer_sizes=[64, 16, 4], seed=0, verbose=0)
    original = kernels.gaussian.latent_sample       # training's KL sum

    def kl(*args):
        value = original(*args)
        return value * np.nan if model.training_step == 7 else value
    monkeypatch.setattr(kernels.gaussian, "latent_sample", kl)
    with pytest.raises(NonFiniteError, match=r"epoch 2/3, batch 3/5 \(training step 7\): "
                                             r"loss component 'kl' became nan"):
        model.fit(digits(), epochs=3, batch_size=20)
    assert model.training_step == 6 and all(np.all(np.isfinite(w)) for w in weights(model))


def test_a_nan_gradient_is_never_applied_and_training_can_go_on(backend):
    model = DenoisingAutoencoder(layer_sizes=[64, 12], seed=0, verbose=0)
    backward = type(model).backward
    before = {}

    def poisoned_backward():
        backward(model)
        if model.training_step == 4:
            before["weights"] = weights(model)
            before["optimizer"] = {k: [a.copy() for a in v] if isinstance(v, list) else v
                                   for k, v in model.optimizer_.state_dict().items()}
            model.decoder_[0].b.grad[3] = np.inf
    model.backward = poisoned_backward
    model.fit(digits(), epochs=1, batch_size=50)      # makes optimizer_ (steps 0, 1)
    with pytest.raises(NonFiniteError, match=r"training step 4\): the gradient of "
                                             r"'decoder.0.b' holds NaN or inf"):
        model.fit(digits(), epochs=3, batch_size=50)
    assert all(np.array_equal(p, q) for p, q in zip(weights(model), before["weights"]))
    state = model.optimizer_.state_dict()
    assert state["t"] == before["optimizer"]["t"] == 4
    for name in ("m", "v"):
        assert all(np.array_equal(a, b) for a, b in zip(state[name], before["optimizer"][name]))
    del model.backward                                # the fault is gone: training goes on
    model.fit(digits(), epochs=2, batch_size=50)
    assert model.training_step == 8 and all(np.all(np.isfinite(w)) for w in weights(model))


def test_weights_that_overflow_the_forward_pass_are_rolled_back():
    model = Autoencoder(layer_sizes=[64, 8], seed=0, verbose=0)
    recorder = Recorder()

    class Explode(Callback):
        def on_epoch_end(self, model, epoch, logs):
            model.encoder_[0].W.value[:] = np.float32(3e38)   # x W overflows to inf
    with pytest.raises(NonFiniteError, match=r"epoch 2/3, batch 1/2 \(training step 2\): the "
                                             r"forward pass met non-finite values \(Dense: the output "
                                             r"overflowed"):
        model.fit(digits(), epochs=3, batch_size=50, callbacks=[recorder, Explode()])
    # back at the start of step 1, the last step whose loss was finite
    assert model.training_step == 1
    assert all(np.array_equal(p, q) for p, q in zip(weights(model), recorder.steps[1][0]))


def test_a_validation_blowup_keeps_the_trained_weights():
    model = Autoencoder(layer_sizes=[64, 8], seed=0, verbose=0)
    validation = digits(30, start=200)
    original = type(model).loss
    trained = {}

    def loss(x, rng=None, **noise):
        if x.shape[0] == 30:                          # a validation batch
            trained["weights"] = weights(model)
            return float("inf")
        return original(model, x, rng=rng, **noise)
    model.loss = loss
    with pytest.raises(NonFiniteError, match=r"validation diverged at epoch 1/2 \(validation\): "
                                             "'loss'"):
        model.fit(digits(), epochs=2, batch_size=50, validation_data=validation)
    assert all(np.array_equal(p, q) for p, q in zip(weights(model), trained["weights"]))
    assert model.training_step == 2                   # epoch 1's two steps stay applied


def test_mismatched_validation_data_is_refused_before_training():
    model = Autoencoder(layer_sizes=[64, 8], seed=0, verbose=0)
    with pytest.raises(npae.ShapeError, match=r"validation_data must hold examples shaped like "
                                              r"X's, \(N, 64\); got \(5, 63\)"):
        model.fit(digits(), validation_data=np.zeros((5, 63), np.float32))
    with pytest.raises(npae.DTypeError, match="validation_data is float64 but X is float32"):
        model.fit(digits(), validation_data=np.zeros((5, 64)))
    assert model.training_step == 0


# --- saving: failing and killed writers -------------------------------------------------------
def half_writer(fail):
    """A writer that writes the first half of the real file, then fails with ``fail``."""
    def write(file, arrays):
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        data = buffer.getvalue()
        file.write(data[:len(data) // 2])
        file.flush()
        raise fail
    return write


@pytest.mark.parametrize("fail", [OSError(28, "No space left on device"), KeyboardInterrupt(),
                                  MemoryError()], ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("existing", [True, False], ids=["overwrite", "new"])
def test_a_save_that_fails_midway_leaves_the_old_file(fail, existing, tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    old = Autoencoder(layer_sizes=[64, 8], seed=0, verbose=0)
    if existing:
        old.save(path)
    before = path.read_bytes() if existing else None
    new = Autoencoder(layer_sizes=[64, 8], seed=1, verbose=0)
    monkeypatch.setattr(npae.io, "_write_arrays", half_writer(fail))
    with pytest.raises(type(fail)):
        new.save(path)
    assert os.listdir(tmp_path) == (["model.npz"] if existing else [])
    if existing:
        assert path.read_bytes() == before
        np.testing.assert_array_equal(npae.load(path).transform(digits()), old.transform(digits()))


KILLED_SAVE = textwrap.dedent("""
    import io, sys, time
    import numpy as np
    import npae
    def stall(file, arrays):          # write half the file, then hang until killed
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        file.write(buffer.getvalue()[:len(buffer.getvalue()) // 2])
        file.flush()
        print("half written", flush=True)
        time.sleep(60)
    npae.io._write_arrays = stall
    npae.Autoencoder(layer_sizes=[64, 8], seed=1, verbose=0).save(sys.argv[1])
""")


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_a_save_killed_midway_leaves_the_old_file(tmp_path):
    path = tmp_path / "model.npz"
    old = Autoencoder(layer_sizes=[64, 8], seed=0, verbose=0)
    old.save(path)
    before = path.read_bytes()
    child = subprocess.Popen([sys.executable, "-c", KILLED_SAVE, str(path)],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "half written"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    assert path.read_bytes() == before                 # the target was never touched
    np.testing.assert_array_equal(npae.load(path).transform(digits()), old.transform(digits()))
    leftovers = [f for f in os.listdir(tmp_path) if f != "model.npz"]
    assert len(leftovers) == 1 and leftovers[0].endswith(".npae-tmp")   # the dead save's
    Autoencoder(layer_sizes=[64, 8], seed=2, verbose=0).save(path)     # the next save tidies up
    assert os.listdir(tmp_path) == ["model.npz"]


# --- damaged files ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    model = VAE(layer_sizes=[64, 16, 4], seed=0, verbose=0)
    model.fit(digits(), epochs=1, batch_size=50)       # an optimizer state is saved too
    path = tmp_path_factory.mktemp("saved") / "vae.npz"
    model.save(path)
    return npae.load(path), path.read_bytes()       # the reference: the file, read intact


def same_model(a, b):
    return (type(a) is type(b) and a.get_params() == b.get_params()
            and all(np.array_equal(p.value, q.value)
                    for p, q in zip(a.parameters(), b.parameters()))
            and a.optimizer_.state_dict()["t"] == b.optimizer_.state_dict()["t"])


def test_every_truncation_is_refused(saved_model, tmp_path):
    _, data = saved_model
    path = tmp_path / "cut.npz"
    cuts = sorted(set(np.linspace(0, len(data) - 1, 60).astype(int)))
    for cut in cuts:
        path.write_bytes(data[:cut])
        with pytest.raises(ModelFileError, match="truncated|no npae config|checksum"):
            npae.load(path)


def test_bit_flips_are_refused_or_harmless(saved_model, tmp_path):
    """A flipped bit either makes load refuse the file, or lands where it changes nothing
    (e.g. a zip timestamp): then the loaded model is exactly the saved one."""
    model, data = saved_model
    path = tmp_path / "flipped.npz"
    positions = np.random.default_rng(0).choice(len(data), 150, replace=False)
    refused = 0
    for position in positions:
        raw = bytearray(data)
        raw[position] ^= 1 << int(position % 8)
        path.write_bytes(bytes(raw))
        try:
            loaded = npae.load(path)
        except ModelFileError:
            refused += 1
            continue
        assert same_model(loaded, model), f"a flip at byte {position} changed the model"
    assert refused >= 120, refused                    # nearly every byte matters


def resign(data, tmp_path, edit):
    """Rewrite a saved file with ``edit(config)`` applied and a *valid* new checksum."""
    with np.load(io.BytesIO(data), allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    config = json.loads(str(arrays.pop("__config__")))
    edit(config)
    del arrays["__sha256__"]
    path = tmp_path / "edited.npz"
    npae.io.write(path, config, arrays)
    return path


@pytest.mark.parametrize("version", [2, 0, "1", None, 1.5])
def test_wrong_format_versions_are_refused(version, saved_model, tmp_path):
    path = resign(saved_model[1], tmp_path, lambda c: c.update(format_version=version))
    with pytest.raises(ModelFileError,
                       match=rf"format version {version!r}, this npae reads version 1"):
        npae.load(path)


def test_a_mangled_optimizer_entry_is_refused(saved_model, tmp_path):
    path = resign(saved_model[1], tmp_path, lambda c: c["optimizer"].update(parameters=None))
    with pytest.raises(ModelFileError, match="malformed config"):
        npae.load(path)
    path = resign(saved_model[1], tmp_path, lambda c: c["optimizer"].update({"class": "RMSprop"}))
    with pytest.raises(ModelFileError, match="unknown optimizer 'RMSprop'"):
        npae.load(path)


# --- no code from files -----------------------------------------------------------------------
class Payload:
    """Unpickling this creates a file: the proof that code from a file ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_loading_never_unpickles(saved_model, tmp_path):
    marker = str(tmp_path / "code-ran")
    payload = np.array([Payload(marker)], dtype=object)
    with np.load(io.BytesIO(saved_model[1]), allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    attempts = {
        "npz-param.npz": lambda f: np.savez(f, **{**arrays, "param/encoder.0.W": payload}),
        "npz-config.npz": lambda f: np.savez(f, **{**arrays, "__config__": payload}),
        "npy.npz": lambda f: np.save(f, payload, allow_pickle=True),
        "pickle.npz": lambda f: pickle.dump(Payload(marker), f),
    }
    for name, write in attempts.items():
        with open(tmp_path / name, "wb") as f:
            write(f)
        with pytest.raises(ModelFileError):
            npae.load(tmp_path / name)
        assert not os.path.exists(marker), name
