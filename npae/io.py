"""Save and load models: one ``.npz`` file with the weights and a JSON config.

    model.save("ae.npz")          # or npae.io.save(model, "ae.npz")
    model = npae.load("ae.npz")   # transform() gives bit-identical codes

The file is a NumPy ``.npz`` (a zip of ``.npy`` arrays), read with ``allow_pickle=False``
so loading never runs code from the file:

    "__config__"      JSON text: {"format": "npae-model", "format_version": 1,
                      "class": "SparseAutoencoder", "params": {constructor arguments},
                      "npae_version": "0.1.0", "dtype": "float32",
                      "state": {"training_step": ..., "training_epoch": ...}}
    "param/<name>"    each Parameter's value, named as in ``model.named_parameters()``
    "__sha256__"      a digest of the config and every array: a file that still unzips
                      but was edited or damaged is rejected (integrity, not security).

A model class can be saved if it is registered (``@register_model``), its
``get_params()`` returns plain values (numbers, strings, lists, None) and
``cls(**params)`` rebuilds Parameters of the same names and shapes.
The file is written to a temporary file in the same folder and renamed over ``path``,
so a crash never leaves a half-written model behind.
"""
import hashlib
import json
import os
import tempfile
import zipfile
import zlib

import numpy as np

from .errors import ModelFileError

FORMAT, FORMAT_VERSION = "npae-model", 1
PARAM_PREFIX = "param/"

#: class name -> model class; filled by ``@register_model``.
REGISTRY = {}


def register_model(cls=None, *, name=None):
    """Class decorator: make a model class loadable by ``npae.load``.

        @register_model
        class MyAutoencoder(Autoencoder): ...

    ``name`` (default: the class name) is what the file stores.
    """
    def register(cls):
        key = name or cls.__name__
        known = REGISTRY.get(key)
        if known is not None and _qualified(known) != _qualified(cls):
            raise ValueError(f"register_model: {key!r} is already registered for "
                             f"{_qualified(known)}; pass name=... to register {_qualified(cls)}")
        REGISTRY[key] = cls
        return cls
    return register(cls) if cls is not None else register


def _qualified(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def registered_name(cls):
    for key, known in REGISTRY.items():
        if known is cls:
            return key
    raise TypeError(f"save: {cls.__name__} is not a registered model class, so npae.load could "
                    "not rebuild it; decorate the class with @npae.io.register_model")


def _plain(value, where):
    """Constructor argument -> JSON value (dtypes become their names, tuples become lists)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _plain(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return np.dtype(value).name
    if isinstance(value, np.random.Generator):
        return None   # only seeds training noise; the weights are stored anyway
    raise TypeError(f"save: constructor argument {where!r} is a {type(value).__name__}, which a "
                    "JSON config cannot hold. A model built from layer objects cannot be saved; "
                    "build it from plain arguments (e.g. layer_sizes=[...]) instead")


def _digest(config_text, arrays):
    h = hashlib.sha256(config_text.encode())
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def save(model, path):
    """Write ``model`` to ``path`` (one .npz file; the name is used as given)."""
    from . import __version__
    path = os.fspath(path)
    params = {name: _plain(value, name) for name, value in model.get_params(deep=False).items()}
    named = model.named_parameters()
    config = {"format": FORMAT, "format_version": FORMAT_VERSION,
              "class": registered_name(type(model)), "params": params,
              "npae_version": __version__, "dtype": np.dtype(named[0][1].dtype).name,
              "state": {"training_step": int(getattr(model, "training_step", 0)),
                        "training_epoch": int(getattr(model, "training_epoch", 0))}}
    config_text = json.dumps(config)
    arrays = {PARAM_PREFIX + name: p.value for name, p in named}
    arrays["__config__"] = np.array(config_text)
    arrays["__sha256__"] = np.array(_digest(config_text, _weights(arrays)))

    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".npae-save-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)   # atomic: readers see the old file or the new one
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return path


def _weights(arrays):
    return {k: v for k, v in arrays.items() if k.startswith(PARAM_PREFIX)}


def _read(path):
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ModelFileError(f"load: {path} holds a single array, not an npae model file")
        with data:
            return {name: data[name] for name in data.files}
    except (FileNotFoundError, ModelFileError):
        raise
    except (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError, KeyError) as error:
        raise ModelFileError(f"load: cannot read {path} as an npae model file (truncated, "
                             f"corrupted, or not a .npz?): {error}") from error


def _config(path, arrays):
    if "__config__" not in arrays or "__sha256__" not in arrays:
        raise ModelFileError(f"load: {path} has no npae config (arrays: {sorted(arrays)}); "
                             "was it written by model.save()?")
    config_text, digest = str(arrays["__config__"]), str(arrays["__sha256__"])
    if _digest(config_text, _weights(arrays)) != digest:
        raise ModelFileError(f"load: {path} does not match its checksum: its config or weights "
                             "were changed or damaged after saving")
    try:
        config = json.loads(config_text)
    except json.JSONDecodeError as error:
        raise ModelFileError(f"load: {path} has an unreadable config: {error}") from error
    missing = {"format", "format_version", "class", "params"} - set(config)
    if config.get("format") != FORMAT or missing:
        raise ModelFileError(f"load: {path} is not an npae model file "
                             f"(format {config.get('format')!r}, missing keys {sorted(missing)})")
    if config["format_version"] > FORMAT_VERSION:
        raise ModelFileError(f"load: {path} uses format version {config['format_version']}, "
                             f"this npae reads up to {FORMAT_VERSION}; upgrade npae")
    return config


def load(path):
    """Rebuild the model saved at ``path``: same class, arguments and weights."""
    from . import models  # noqa: F401  (registers the built-in model classes)
    path = os.fspath(path)
    arrays = _read(path)
    config = _config(path, arrays)
    name = config["class"]
    if name not in REGISTRY:
        raise ModelFileError(f"load: {path} holds a {name!r}, an unknown model class (known: "
                             f"{sorted(REGISTRY)}); import the module that registers it with "
                             "@register_model before loading")
    try:
        model = REGISTRY[name](**config["params"])
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"load: the saved arguments do not build a {name}: {error}") from error
    stored = {k[len(PARAM_PREFIX):]: v for k, v in _weights(arrays).items()}
    named = dict(model.named_parameters())
    if set(stored) != set(named):
        raise ModelFileError(f"load: {path} has weights {sorted(stored)}, but a {name} with these "
                             f"arguments has {sorted(named)}")
    for key, p in named.items():
        value = stored[key]
        if value.shape != p.shape or value.dtype != p.dtype:
            raise ModelFileError(f"load: weight {key!r} in {path} is {value.dtype}{value.shape}, "
                                 f"the model expects {p.dtype}{p.shape}")
        np.copyto(p.value, value)
    for counter, value in config.get("state", {}).items():
        setattr(model, counter, int(value))
    return model
