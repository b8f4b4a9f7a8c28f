import json
import os
import zipfile

import numpy as np
import pytest

import npae
from npae.io import REGISTRY, ModelFileError, load, register_model, save
from npae.layers import Dense
from npae.models import (Autoencoder, ContractiveAutoencoder, DenoisingAutoencoder,
                         KSparseAutoencoder, SparseAutoencoder)
from npae.sequential import Sequential

X = np.random.default_rng(0).random((30, 12)).astype(np.float32)

MODELS = [
    Autoencoder(layer_sizes=[12, 8, 4], activation="relu", tied=True),
    Autoencoder(layer_sizes=(12, 5), reconstruction_loss="mse", dtype=np.float64),
    DenoisingAutoencoder(layer_sizes=[12, 6], corruption="salt_and_pepper", corruption_level=0.2),
    SparseAutoencoder(layer_sizes=[12, 16], rho=0.1, beta=2.0),
    KSparseAutoencoder(layer_sizes=[12, 10], k=3, alpha=2.0, k_start=8, k_schedule_steps=5),
    ContractiveAutoencoder(layer_sizes=[12, 6], contractive_weight=0.3),
]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
def test_roundtrip_reproduces_transform_bit_exactly(tmp_path, model):
    model.set_params(seed=1, verbose=0)
    x = X.astype(model.dtype_)
    model.fit(x, epochs=2, batch_size=10)          # weights no fresh model would have
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = npae.io.load(path)
    assert type(loaded) is type(model)
    assert loaded.training_step == model.training_step == 6
    # the same arguments, tuples included (the config tags them)
    assert loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.transform(x), model.transform(x))
    np.testing.assert_array_equal(loaded.reconstruct(x), model.reconstruct(x))
    assert loaded.transform(x).dtype == model.dtype_
    assert [n for n, _ in loaded.named_parameters()] == [n for n, _ in model.named_parameters()]
    assert os.listdir(tmp_path) == ["model.npz"]    # no temporary file left behind


def test_file_layout_and_config(tmp_path):
    model = SparseAutoencoder(layer_sizes=[12, 4], seed=0, dtype="float64")
    path = save(model, tmp_path / "m.npz")
    with np.load(path, allow_pickle=False) as data:
        config = json.loads(str(data["__config__"]))
        names = set(data.files)
    assert config["class"] == "SparseAutoencoder"
    assert config["npae_version"] == npae.__version__ and config["dtype"] == "float64"
    assert config["params"]["layer_sizes"] == [12, 4] and config["params"]["rho"] == 0.05
    assert names == {"__config__", "__sha256__", "param/encoder.0.W", "param/encoder.0.b",
                     "param/decoder.0.W", "param/decoder.0.b"}


def test_overwrite_is_atomic(tmp_path):
    path = tmp_path / "m.npz"
    good = Autoencoder(layer_sizes=[12, 4], seed=0)
    good.save(path)
    before = path.read_bytes()
    unsavable = Autoencoder(Sequential(Dense(12, 4)), Sequential(Dense(4, 12)))
    with pytest.raises(TypeError, match="'encoder' is a Sequential"):
        unsavable.save(path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["m.npz"]


def test_truncated_file(tmp_path):
    path = tmp_path / "m.npz"
    Autoencoder(layer_sizes=[12, 4], seed=0).save(path)
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 30, 10):
        path.write_bytes(data[:cut])
        with pytest.raises(ModelFileError, match="truncated"):
            load(path)


def rewrite(path, change):
    """Rebuild the .npz with ``change(arrays)`` applied (a tampered but valid zip)."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    change(arrays)
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def test_tampered_weights_or_config(tmp_path):
    path = tmp_path / "m.npz"
    Autoencoder(layer_sizes=[12, 4], seed=0).save(path)
    original = path.read_bytes()

    def bump(arrays):
        arrays["param/encoder.0.W"] = arrays["param/encoder.0.W"] + np.float32(1e-3)
    rewrite(path, bump)
    with pytest.raises(ModelFileError, match="checksum"):
        load(path)

    path.write_bytes(original)
    rewrite(path, lambda a: a.update(__config__=np.array(str(a["__config__"]).replace("12", "13"))))
    with pytest.raises(ModelFileError, match="checksum"):
        load(path)

    path.write_bytes(original)   # flip one byte inside a stored array: the zip's CRC catches it
    raw = bytearray(original)
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("param/encoder.0.W.npy")
    raw[info.header_offset + 30 + len(info.filename) + 200] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(ModelFileError, match="corrupted.*Bad CRC-32"):
        load(path)


def test_unknown_class_and_mismatched_weights(tmp_path):
    from npae.io import _digest, _weights
    path = tmp_path / "m.npz"
    Autoencoder(layer_sizes=[12, 4], seed=0).save(path)

    def resign(arrays, edit):
        config = json.loads(str(arrays["__config__"]))
        edit(config)
        text = json.dumps(config)
        arrays["__config__"] = np.array(text)
        arrays["__sha256__"] = np.array(_digest(text, _weights(arrays)))

    rewrite(path, lambda a: resign(a, lambda c: c.update({"class": "Nonexistent"})))
    with pytest.raises(ModelFileError, match="'Nonexistent', an unknown model class"):
        load(path)
    rewrite(path, lambda a: resign(a, lambda c: c.update({"class": "Autoencoder"})
                                   or c["params"].update(layer_sizes=[12, 5])))
    with pytest.raises(ModelFileError, match="encoder.0.W"):
        load(path)
    rewrite(path, lambda a: resign(a, lambda c: c["params"].update(bogus=1)))
    with pytest.raises(ModelFileError, match="do not build"):
        load(path)


def test_files_that_are_not_models(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros(3))
    with pytest.raises(ModelFileError, match="single array"):
        load(tmp_path / "a.npy")
    np.savez(tmp_path / "b.npz", x=np.zeros(3))
    with pytest.raises(ModelFileError, match="no npae config"):
        load(tmp_path / "b.npz")
    np.savez(tmp_path / "c.npz", __config__=np.array([{"class": "Autoencoder"}], dtype=object))
    with pytest.raises(ModelFileError, match="pickle"):           # never unpickled
        load(tmp_path / "c.npz")
    (tmp_path / "d.npz").write_text("hello")
    with pytest.raises(ModelFileError, match="cannot read .* as an npae model file"):
        load(tmp_path / "d.npz")
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        load(tmp_path / "missing.npz")


def test_register_model_lets_other_families_load(tmp_path):
    @register_model
    class WideAutoencoder(Autoencoder):     # fixes layer_sizes: lists its arguments itself
        def __init__(self, width=7, seed=None):
            self.width = width
            super().__init__(layer_sizes=[12, width], seed=seed)

    try:
        model = WideAutoencoder(width=5, seed=3)
        assert model.get_params() == {"width": 5, "seed": 3}
        model.save(tmp_path / "w.npz")
        loaded = load(tmp_path / "w.npz")
        assert type(loaded) is WideAutoencoder and loaded.width == 5
        np.testing.assert_array_equal(loaded.transform(X), model.transform(X))
        other = type("WideAutoencoder", (Autoencoder,), {})
        with pytest.raises(ValueError, match="already registered"):
            register_model(other)
        register_model(other, name="OtherWide")
        assert REGISTRY["OtherWide"] is other
    finally:
        REGISTRY.pop("WideAutoencoder", None)
        REGISTRY.pop("OtherWide", None)


def test_unregistered_subclass_cannot_be_saved(tmp_path):
    class Local(Autoencoder):
        pass
    with pytest.raises(TypeError, match="register_model"):
        Local(layer_sizes=[12, 3]).save(tmp_path / "l.npz")


def test_generator_state_round_trips_for_every_bit_generator():
    from npae.io import generator_from_state, generator_state
    for name in npae.io.BIT_GENERATORS:
        rng = np.random.Generator(getattr(np.random, name)(5))
        rng.random(3)
        state = json.loads(json.dumps(generator_state(rng)))     # through JSON, as in the file
        copy = generator_from_state(state)
        assert type(copy.bit_generator) is type(rng.bit_generator)
        np.testing.assert_array_equal(copy.random(4), rng.random(4))
    with pytest.raises(ModelFileError, match="unknown random generator 'Bogus'"):
        generator_from_state({"bit_generator": "Bogus"})


def test_the_checksum_covers_every_array(tmp_path):
    """An extra array slipped into a file, or the optimizer's state edited, is detected."""
    path = tmp_path / "m.npz"
    model = Autoencoder(layer_sizes=[12, 4], seed=0, verbose=0)
    model.fit(X, epochs=1, batch_size=10)
    model.save(path)
    original = path.read_bytes()
    rewrite(path, lambda a: a.update(extra=np.zeros(3)))
    with pytest.raises(ModelFileError, match="checksum"):
        load(path)
    path.write_bytes(original)
    rewrite(path, lambda a: a.update({"optimizer/m/encoder.0.W": a["optimizer/m/encoder.0.W"] * 2}))
    with pytest.raises(ModelFileError, match="checksum"):
        load(path)
