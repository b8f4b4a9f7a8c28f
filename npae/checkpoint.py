"""Checkpoints: a whole training run in one file, rewritten every few epochs.

    model.fit(X, epochs=50, callbacks=[Checkpoint("run.npz", every=5)])
    # ... the machine goes down during epoch 33 ...
    model = Autoencoder(...the same arguments...)
    model.fit(X, epochs=50, callbacks=[Checkpoint("run.npz", every=5, resume=True)])
    # continues after epoch 30: the final weights are bit-identical to an uninterrupted run

    npae.training.fit(model, X, epochs=50, checkpoint_every=5, checkpoint_path="run.npz")

A checkpoint is an npae model file (``npae.io``: weights, optimizer state, the model's
generator, checksummed, written atomically; ``npae.load`` reads it as the model) with one
more config entry, "checkpoint": the epochs done, the trainer's generator, the validation
seed, the history so far, the state of callbacks that have one (``EarlyStopping``) and a
fingerprint (shape, dtype, sha256) of the training and validation data. Resuming checks
that the model, optimizer, data and batch settings are the ones the run was started with,
and refuses (ValueError) anything else: the point is the *same* run, continued.
"""
import hashlib
import os

import numpy as np

from . import io
from .errors import ModelFileError
from .training import Callback

PREFIX = "checkpoint/"


def fingerprint(X):
    """{"shape", "dtype", "sha256"} of an array (None for None)."""
    if X is None:
        return None
    digest = hashlib.sha256(np.ascontiguousarray(X).view(np.uint8).reshape(-1)).hexdigest()
    return {"shape": list(X.shape), "dtype": X.dtype.name, "sha256": digest}


class Checkpoint(Callback):
    """Write the run to ``path`` every ``every`` epochs and when training ends or stops.

    resume   False: ``path`` must not exist yet (an existing run is never overwritten by a
             new one: delete it or choose another path). True: continue the run saved there,
             or start one if there is no file yet (rerun the same script after a crash).

    A run that diverges (NonFiniteError) keeps its last checkpoint; the model in memory holds
    the last finite weights.
    """

    def __init__(self, path, every=1, resume=False):
        if path is None:
            raise ValueError("Checkpoint: give a path (checkpoint_path=...) to write to")
        every = 1 if every is None else every
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ValueError(f"Checkpoint: every (checkpoint_every) must be a positive integer "
                             f"number of epochs, got {every!r}")
        self.path, self.every, self.resume = os.fspath(path), int(every), bool(resume)

    def bind(self, run):
        io.registered_name(type(run.model))          # TypeError now, not at the first write
        if not hasattr(run.optimizer, "state_dict"):
            raise TypeError(f"Checkpoint: the optimizer {type(run.optimizer).__name__} has no "
                            "state_dict(), so a resumed run could not continue it")
        self.data = {"X": fingerprint(run.X), "validation_data": fingerprint(run.validation_data)}
        if not os.path.exists(self.path):
            return
        if not self.resume:
            raise ValueError(f"Checkpoint: {self.path} already holds a run; pass resume=True to "
                             "continue it, or delete it (or choose another path) to start anew")
        self._restore(run)

    def after_epoch(self, run):
        if run.epochs_done % self.every == 0 or run.stopping or run.epochs_done == run.epochs:
            self.write(run)

    # --- writing ------------------------------------------------------------------------
    def write(self, run):
        config, arrays = io.model_entries(run.model, optimizer=run.optimizer)
        callbacks = []
        for i, callback in enumerate(_stateful(run.callbacks)):
            state = {key: _store(value, f"{PREFIX}callback/{i}/{key}", arrays)
                     for key, value in callback.state_dict().items()}
            callbacks.append({"class": type(callback).__name__, "state": state})
        config["checkpoint"] = {
            "epochs_done": run.epochs_done, "epochs": run.epochs, "stopped": run.stopping,
            "batch_size": run.batch_size, "shuffle": run.shuffle,
            "validation_seed": run.validation_seed, "rng": io.generator_state(run.rng),
            "history": {"epoch": run.history.epoch, "logs": run.history.history},
            "data": self.data, "callbacks": callbacks}
        io.write(self.path, config, arrays)

    # --- resuming -----------------------------------------------------------------------
    def _restore(self, run):
        config, arrays = io.read(self.path)
        saved = config.get("checkpoint")
        if saved is None:
            raise ModelFileError(f"Checkpoint: {self.path} is a model file, not a checkpoint "
                                 "(it holds no training progress)")
        self._check_same_run(run, config, saved)
        io.restore_weights(run.model, config, arrays, self.path)
        names = {id(p): n for n, p in run.model.named_parameters()}
        io.restore_optimizer(run.optimizer, config, arrays, names, self.path)
        run.rng = io.generator_from_state(saved["rng"], run.rng)
        run.validation_seed = int(saved["validation_seed"])
        run.history.epoch[:] = saved["history"]["epoch"]     # the same History object the
        run.history.history.clear()                           # callbacks were given
        run.history.history.update({k: list(v) for k, v in saved["history"]["logs"].items()})
        run.epochs_done, run.stopping = int(saved["epochs_done"]), bool(saved["stopped"])
        stored = [entry for entry in saved["callbacks"] if entry["state"] is not None]
        for callback, entry in zip(_stateful(run.callbacks), stored):
            callback.load_state_dict({key: _load(value, arrays, self.path)
                                      for key, value in entry["state"].items()})

    def _check_same_run(self, run, config, saved):
        who = f"Checkpoint: cannot resume {self.path}"
        model_class = io.registered_name(type(run.model))
        if config["class"] != model_class:
            raise ValueError(f"{who}: it holds a {config['class']}, the model is a {model_class}")
        for name in ("X", "validation_data"):
            if saved["data"][name] != self.data[name]:
                raise ValueError(f"{who}: it was trained on a different {name} "
                                 f"({_describe(saved['data'][name])}; now "
                                 f"{_describe(self.data[name])})")
        for name in ("batch_size", "shuffle"):
            if saved[name] != getattr(run, name):
                raise ValueError(f"{who}: it ran with {name}={saved[name]!r}, this fit has "
                                 f"{name}={getattr(run, name)!r}")
        if saved["epochs_done"] > run.epochs:
            raise ValueError(f"{who}: it has done {saved['epochs_done']} epochs already, more "
                             f"than the {run.epochs} asked for")
        stored = [c["class"] for c in saved["callbacks"] if c["state"] is not None]
        classes = [type(c).__name__ for c in _stateful(run.callbacks)]
        if stored != classes:
            raise ValueError(f"{who}: it ran with the callbacks {stored} (those with a state), "
                             f"this fit has {classes}")


def _stateful(callbacks):
    return [c for c in callbacks if hasattr(c, "state_dict")]


def _describe(data):
    if data is None:
        return "none"
    return f"{data['dtype']} {tuple(data['shape'])}, sha256 {data['sha256'][:12]}…"


def _store(value, key, arrays):
    """A callback state value as JSON; lists of arrays go into ``arrays``."""
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, np.ndarray) for v in value):
        for j, a in enumerate(value):
            arrays[f"{key}/{j}"] = a
        return {"__arrays__": key, "count": len(value)}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _load(value, arrays, path):
    if isinstance(value, dict) and "__arrays__" in value:
        keys = [f"{value['__arrays__']}/{j}" for j in range(value["count"])]
        if any(k not in arrays for k in keys):
            raise ModelFileError(f"Checkpoint: {path} lacks the arrays of {value['__arrays__']}")
        return [arrays[k] for k in keys]
    return value
