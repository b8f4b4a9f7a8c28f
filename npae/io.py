"""Save and load models: one ``.npz`` file with the weights, the optimizer and a JSON config.

    model.save("ae.npz")          # or npae.io.save(model, "ae.npz")
    model = npae.load("ae.npz")   # transform() gives bit-identical codes; fit() continues
                                  # exactly as the saved model would have

The file is a NumPy ``.npz`` (a zip of ``.npy`` arrays), read with ``allow_pickle=False``
so loading never runs code from the file:

    "__config__"      JSON text: {"format": "npae-model", "format_version": 1,
                      "class": "SparseAutoencoder", "params": {constructor arguments},
                      "npae_version": "0.1.0", "dtype": "float32",
                      "state": {"training_step": ..., "training_epoch": ...},
                      "rng": the model's random generator state (shuffling, noise),
                      "optimizer": {"class": "Adam", "parameters": [names], "scalars": {...}}}
    "param/<name>"    each Parameter's value, named as in ``model.named_parameters()``
    "optimizer/<buffer>/<name>"   the optimizer's state per Parameter (Adam's m and v, ...)
    "__sha256__"      a digest of the config and of every array: a file that still unzips
                      but was edited or damaged is rejected (integrity, not security).

Checkpoints (``npae.checkpoint``) are model files with a "checkpoint" config entry and
"checkpoint/..." arrays more; ``npae.load`` reads them as models.

A model class can be saved if it is registered (``@register_model``), its
``get_params()`` returns plain values (numbers, strings, lists, tuples, None, dtypes; each
comes back as itself) and ``cls(**params)`` rebuilds Parameters of the same names and shapes.
The file is written to a temporary file in the same folder, flushed to disk and renamed
over ``path``: a crash or a kill mid-save leaves the old file (or none), never half a file.
"""
import hashlib
import json
import os
import zipfile
import zlib

import numpy as np

from ._atomic import atomic_write
from .errors import ModelFileError

FORMAT, FORMAT_VERSION = "npae-model", 1
PARAM_PREFIX, OPTIMIZER_PREFIX = "param/", "optimizer/"
SPECIAL = ("__config__", "__sha256__")
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")

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
    """Constructor argument -> JSON value. Tuples and dtypes are tagged, so load gives back
    tuples and np.dtype objects (which compare equal to np.float32 and "float32")."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        items = [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
        return {"__tuple__": items} if isinstance(value, tuple) else items
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _plain(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return {"__dtype__": np.dtype(value).name}
    if isinstance(value, np.random.Generator):
        return None   # its state is saved under "rng"; the weights are stored anyway
    raise TypeError(f"save: constructor argument {where!r} is a {type(value).__name__}, which a "
                    "JSON config cannot hold. A model built from layer objects cannot be saved; "
                    "build it from plain arguments (e.g. layer_sizes=[...]) instead")


def _unplain(value):
    """The inverse of ``_plain`` for what it tags (dtypes, tuples)."""
    if isinstance(value, dict):
        if set(value) == {"__dtype__"}:
            return np.dtype(value["__dtype__"])
        if set(value) == {"__tuple__"}:
            return tuple(_unplain(v) for v in value["__tuple__"])
        return {k: _unplain(v) for k, v in value.items()}
    return [_unplain(v) for v in value] if isinstance(value, list) else value


# --- random generators: their state as JSON ---------------------------------------------------
def generator_state(rng):
    """A numpy Generator's bit-generator state as JSON-ready values (arrays become lists)."""
    def plain(v):
        if isinstance(v, np.ndarray):
            return {"__array__": v.tolist(), "dtype": v.dtype.name}
        return {k: plain(x) for k, x in v.items()} if isinstance(v, dict) else v
    return plain(rng.bit_generator.state)


def generator_from_state(state, rng=None):
    """Set ``rng`` (or a new Generator) to a ``generator_state``; returns the Generator."""
    def array(v):
        if isinstance(v, dict) and "__array__" in v:
            return np.array(v["__array__"], dtype=v["dtype"])
        return {k: array(x) for k, x in v.items()} if isinstance(v, dict) else v
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if name not in BIT_GENERATORS:
        raise ModelFileError(f"load: unknown random generator {name!r} (known: {BIT_GENERATORS})")
    if rng is None or type(rng.bit_generator).__name__ != name:
        rng = np.random.Generator(getattr(np.random, name)())
    try:
        rng.bit_generator.state = array(state)
    except (TypeError, ValueError, KeyError) as error:
        raise ModelFileError(f"load: the stored {name} generator state is invalid: "
                             f"{error}") from error
    return rng


# --- optimizers -----------------------------------------------------------------------------
def _optimizer_entries(optimizer, names_by_id, who="save"):
    """(config entry, arrays) for an optimizer over (some of) the model's Parameters."""
    if not hasattr(optimizer, "state_dict"):
        raise TypeError(f"{who}: the optimizer {type(optimizer).__name__} has no state_dict(); "
                        "pass optimizer=False to save the model without it")
    missing = [p.name for p in optimizer.params if id(p) not in names_by_id]
    if missing:
        raise ValueError(f"{who}: the optimizer updates Parameters that are not the model's "
                         f"({missing}); pass optimizer=False to save the model without it")
    names = [names_by_id[id(p)] for p in optimizer.params]
    state = optimizer.state_dict()
    arrays = {f"{OPTIMIZER_PREFIX}{buffer}/{name}": a
              for buffer in optimizer.buffer_names for name, a in zip(names, state[buffer])}
    scalars = {k: state[k] for k in optimizer.scalars}
    return {"class": type(optimizer).__name__, "parameters": names, "scalars": scalars}, arrays


def _optimizer_state(entry, arrays, path):
    """The ``state_dict`` stored in a file (buffers in the order of entry["parameters"])."""
    from .optim import OPTIMIZERS
    cls = OPTIMIZERS.get(entry.get("class"))
    if cls is None:
        raise ModelFileError(f"load: {path} holds an unknown optimizer {entry.get('class')!r}")
    state = dict(entry["scalars"])
    for buffer in cls.buffer_names:
        keys = [f"{OPTIMIZER_PREFIX}{buffer}/{name}" for name in entry["parameters"]]
        if any(k not in arrays for k in keys):
            raise ModelFileError(f"load: {path} lacks the optimizer's {buffer!r} arrays")
        state[buffer] = [arrays[k] for k in keys]
    return cls, state


def restore_optimizer(optimizer, config, arrays, names_by_id, path):
    """Copy the optimizer state stored in a file into ``optimizer`` (same class and
    Parameters)."""
    entry = config.get("optimizer")
    if entry is None:
        raise ModelFileError(f"load: {path} holds no optimizer state")
    cls, state = _optimizer_state(entry, arrays, path)
    names = [names_by_id.get(id(p)) for p in optimizer.params]
    if type(optimizer) is not cls or names != entry["parameters"]:
        raise ModelFileError(f"load: {path} holds a {cls.__name__} over {entry['parameters']}, "
                             f"not a {type(optimizer).__name__} over {names}")
    try:
        optimizer.load_state_dict(state)
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"load: the optimizer state in {path} does not fit: "
                             f"{error}") from error


# --- writing --------------------------------------------------------------------------------
def _digest(config_text, arrays):
    """sha256 over the config text and every array's name, dtype, shape and bytes."""
    h = hashlib.sha256(config_text.encode())
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _payload(arrays):
    """The arrays the digest covers: all but the config and the digest itself."""
    return {k: v for k, v in arrays.items() if k not in SPECIAL}


def _weights(arrays):
    return {k: v for k, v in arrays.items() if k.startswith(PARAM_PREFIX)}


def model_entries(model, optimizer=None):
    """(config, arrays) describing ``model`` (and ``optimizer``: None = the model's own
    ``optimizer_`` if it has one, False = none)."""
    from . import __version__
    params = {name: _plain(value, name) for name, value in model.get_params(deep=False).items()}
    named = model.named_parameters()
    config = {"format": FORMAT, "format_version": FORMAT_VERSION,
              "class": registered_name(type(model)), "params": params,
              "npae_version": __version__, "dtype": np.dtype(named[0][1].dtype).name,
              "state": {"training_step": int(getattr(model, "training_step", 0)),
                        "training_epoch": int(getattr(model, "training_epoch", 0))}}
    arrays = {PARAM_PREFIX + name: p.value for name, p in named}
    if isinstance(getattr(model, "rng_", None), np.random.Generator):
        config["rng"] = generator_state(model.rng_)
    if optimizer is None:
        optimizer = getattr(model, "optimizer_", None)
    if optimizer is not None and optimizer is not False:
        entry, state = _optimizer_entries(optimizer, {id(p): n for n, p in named})
        config["optimizer"] = entry
        arrays.update(state)
    return config, arrays


def save(model, path, *, optimizer=None):
    """Write ``model`` to ``path`` (one .npz file; the name is used as given).

    optimizer   None: the model's own ``optimizer_`` (kept by ``fit``) if it has one, so a
                loaded model trains on exactly as this one would; an optimizer to store
                instead; False: weights only.
    """
    config, arrays = model_entries(model, optimizer)
    return write(path, config, arrays)


def write(path, config, arrays):
    """Write a config and arrays as an npae file, atomically (temporary file + rename)."""
    config_text = json.dumps(config)
    arrays = dict(arrays)
    arrays["__config__"] = np.array(config_text)
    arrays["__sha256__"] = np.array(_digest(config_text, _payload(arrays)))
    return atomic_write(path, lambda file: _write_arrays(file, arrays))


def _write_arrays(file, arrays):
    """The one place bytes are written (tests replace it with a writer that fails midway)."""
    np.savez(file, **arrays)


# --- reading --------------------------------------------------------------------------------
def _read_arrays(path):
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ModelFileError(f"load: {path} holds a single array, not an npae model file")
        with data:
            return {name: data[name] for name in data.files}
    except (FileNotFoundError, ModelFileError):
        raise
    except (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError, KeyError,
            MemoryError) as error:
        raise ModelFileError(f"load: cannot read {path} as an npae model file (truncated, "
                             f"corrupted, or not a .npz?): {error}") from error


def read(path):
    """(config, arrays) of an npae file, after checking its checksum, format and version."""
    path = os.fspath(path)
    arrays = _read_arrays(path)
    if "__config__" not in arrays or "__sha256__" not in arrays:
        raise ModelFileError(f"load: {path} has no npae config (arrays: {sorted(arrays)}); "
                             "was it written by model.save()?")
    config_text, digest = str(arrays["__config__"]), str(arrays["__sha256__"])
    if _digest(config_text, _payload(arrays)) != digest:
        raise ModelFileError(f"load: {path} does not match its checksum: its config or arrays "
                             "were changed or damaged after saving")
    try:
        config = json.loads(config_text)
    except json.JSONDecodeError as error:
        raise ModelFileError(f"load: {path} has an unreadable config: {error}") from error
    missing = {"format", "format_version", "class", "params"} - set(config)
    if config.get("format") != FORMAT or missing:
        raise ModelFileError(f"load: {path} is not an npae model file "
                             f"(format {config.get('format')!r}, missing keys {sorted(missing)})")
    version = config["format_version"]
    if version != FORMAT_VERSION:
        advice = "upgrade npae" if isinstance(version, int) and version > FORMAT_VERSION else \
            "the file is damaged or was not written by npae"
        raise ModelFileError(f"load: {path} uses format version {version!r}, this npae reads "
                             f"version {FORMAT_VERSION}; {advice}")
    return config, arrays


def restore_weights(model, config, arrays, path):
    """Copy the stored weights, counters and generator state into ``model`` (whose
    Parameters must have the stored names, shapes and dtypes)."""
    name = config["class"]
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
    for key, p in named.items():
        np.copyto(p.value, stored[key])
    for counter, value in config.get("state", {}).items():
        setattr(model, counter, int(value))
    if "rng" in config:
        model.rng_ = generator_from_state(config["rng"], getattr(model, "rng_", None))


def load(path):
    """Rebuild the model saved at ``path``: same class, arguments, weights, counters, random
    generator and (if saved) optimizer, as ``model.optimizer_``."""
    from . import models  # noqa: F401  (registers the built-in model classes)
    path = os.fspath(path)
    config, arrays = read(path)
    name = config["class"]
    if name not in REGISTRY:
        raise ModelFileError(f"load: {path} holds a {name!r}, an unknown model class (known: "
                             f"{sorted(REGISTRY)}); import the module that registers it with "
                             "@register_model before loading")
    try:
        model = REGISTRY[name](**_unplain(config["params"]))
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"load: the saved arguments do not build a {name}: {error}") from error
    try:
        restore_weights(model, config, arrays, path)
        if "optimizer" in config:
            named = dict(model.named_parameters())
            cls, _ = _optimizer_state(config["optimizer"], arrays, path)
            missing = [n for n in config["optimizer"]["parameters"] if n not in named]
            if missing:
                raise ModelFileError(f"load: {path} has optimizer state for unknown "
                                     f"weights {missing}")
            optimizer = cls([named[n] for n in config["optimizer"]["parameters"]])
            restore_optimizer(optimizer, config, arrays, {id(p): n for n, p in named.items()}, path)
            model.optimizer_ = optimizer
    except (KeyError, TypeError, AttributeError) as error:   # a config npae never writes
        raise ModelFileError(f"load: {path} has a malformed config ({type(error).__name__}: "
                             f"{error})") from error
    return model
