"""The fit loop every npae model trains with: mini-batches, History, callbacks, early stopping.

The loop relies only on the model protocol (see ``npae.gradcheck.check_model``):

    model.loss(x, rng=rng) -> float    total training loss of a batch; sets ``model.components``
    model.backward()                   adds d(total)/d(param) into every Parameter's ``grad``
    model.parameters()                 the Parameters to update

and sets ``model.training_step`` (batches done so far) and ``model.training_epoch`` (epochs
done so far) before each batch, so schedules (k-sparse k, VAE KL warm-up) can read them.
Both counters carry on across calls: calling ``fit`` again continues training.

One step:  zero the gradients → loss → backward → optimizer step.
If a loss comes out NaN or inf, training stops with ``NonFiniteError`` naming the epoch, the
batch and the loss component that blew up, and the model keeps the weights of the last step
whose loss was finite.
"""
import math
import sys

import numpy as np

from ._checks import check_finite, check_float_array
from .errors import NonFiniteError, ShapeError
from .sequential import unique_parameters


class History:
    """Per-epoch means of the total loss and of every loss component.

    ``history["loss"]``, ``history["reconstruction"]``, ``history["sparsity"]`` ... hold one
    float per epoch (means over the examples); validation values carry a ``val_`` prefix.
    ``epoch`` lists the epoch numbers (1-based, counted within this ``fit`` call).
    """

    def __init__(self):
        self.epoch = []
        self.history = {}

    def append(self, epoch, logs):
        self.epoch.append(epoch)
        for name, value in logs.items():
            self.history.setdefault(name, []).append(float(value))

    def __getitem__(self, name):
        if name not in self.history:
            raise KeyError(f"History has no {name!r}; it recorded {sorted(self.history)}")
        return self.history[name]

    def __contains__(self, name):
        return name in self.history

    def keys(self):
        return self.history.keys()

    def __len__(self):
        return len(self.epoch)

    def __repr__(self):
        return f"History(epochs={len(self.epoch)}, keys={sorted(self.history)})"


class Callback:
    """Hooks into ``fit``. ``on_epoch_end`` returns True to stop training."""

    def on_train_begin(self, model, history):
        pass

    def on_epoch_end(self, model, epoch, logs):
        return False

    def on_train_end(self, model, history):
        pass


def snapshot(params):
    """Copies of the Parameters' values (to restore with ``restore``)."""
    return [p.value.copy() for p in params]


def restore(params, values):
    for p, value in zip(params, values):
        np.copyto(p.value, value)


class EarlyStopping(Callback):
    """Stop when ``monitor`` (default "val_loss") has not improved by more than ``min_delta``
    for ``patience`` epochs; with ``restore_best_weights`` the model ends at its best epoch."""

    def __init__(self, monitor="val_loss", patience=5, min_delta=0.0, restore_best_weights=True):
        if patience < 0 or min_delta < 0:
            raise ValueError(f"EarlyStopping: patience and min_delta must be >= 0, "
                             f"got {patience} and {min_delta}")
        self.monitor, self.patience, self.min_delta = monitor, int(patience), float(min_delta)
        self.restore_best_weights = restore_best_weights

    def on_train_begin(self, model, history):
        self.params = _unique(model)
        self.best, self.best_epoch, self.best_values = math.inf, None, None
        self.wait, self.stopped_epoch = 0, None

    def on_epoch_end(self, model, epoch, logs):
        if self.monitor not in logs:
            hint = " (pass validation_data to fit)" if self.monitor.startswith("val_") else ""
            raise ValueError(f"EarlyStopping: cannot monitor {self.monitor!r}{hint}; "
                             f"the logs hold {sorted(logs)}")
        value = logs[self.monitor]
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_values = snapshot(self.params)
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            return True
        return False

    def on_train_end(self, model, history):
        if self.restore_best_weights and self.best_values is not None:
            restore(self.params, self.best_values)


def _unique(model):
    return [p for _, p in unique_parameters((None, p) for p in model.parameters())]


def check_data(X, name="X", who="fit"):
    """X must be a finite float array (N, ...) with N >= 1."""
    check_float_array(X, who, name)
    if X.ndim < 2 or X.shape[0] == 0 or X.size == 0:
        raise ShapeError(f"{who}: {name} must be a non-empty batch of shape (N, n_features...), "
                         f"got shape {X.shape}")
    return check_finite(X, who, name)


def evaluate(model, X, batch_size, rng):
    """Mean total loss and components over X, in batches (training-mode ``model.loss``)."""
    sums = {}
    for start in range(0, len(X), batch_size):
        xb = X[start:start + batch_size]
        total = model.loss(xb, rng=rng)
        _accumulate(sums, total, model, len(xb))
    return {name: value / len(X) for name, value in sums.items()}


def _accumulate(sums, total, model, n):
    sums["loss"] = sums.get("loss", 0.0) + float(total) * n
    for name, value in getattr(model, "components", {}).items():
        sums[name] = sums.get(name, 0.0) + float(value) * n


def _blowup_message(model, total, where):
    bad = [name for name, value in getattr(model, "components", {}).items()
           if not math.isfinite(value)]
    what = (f"loss component {', '.join(repr(b) for b in bad)}" if bad
            else "the total loss (every component was finite)")
    return (f"training diverged at {where}: {what} became {total}. The model keeps the "
            "weights of the last step with a finite loss. Try a smaller learning rate, "
            "or check the data's scale.")


def _progress_bar(total, verbose):
    """A tqdm bar over the epochs, only when verbose and stderr is a terminal."""
    if not verbose or not sys.stderr.isatty():
        return None
    from tqdm import tqdm
    return tqdm(total=total, unit="epoch", file=sys.stderr)


def fit(model, X, epochs=10, batch_size=64, validation_data=None, shuffle=True, seed=None,
        callbacks=None, optimizer=None, verbose=1):
    """Train ``model`` on X (N, ...) with mini-batches; returns a ``History``.

    seed          an int, None or a numpy Generator: drives the shuffling and every random
                  draw the model makes (corruption masks, VAE eps). Same seed, same initial
                  weights and same backend give bit-identical weights after training.
    optimizer     an npae optimizer over the model's Parameters (default Adam, lr 1e-3).
    callbacks     ``Callback`` objects, e.g. ``EarlyStopping(patience=5)``.
    verbose       0: silent; 1: a tqdm bar when stderr is a terminal.
    """
    X = check_data(X, "X")
    if validation_data is not None:
        validation_data = check_data(validation_data, "validation_data")
    if int(epochs) != epochs or epochs < 1 or int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"fit: epochs and batch_size must be positive integers, "
                         f"got {epochs} and {batch_size}")
    epochs, batch_size = int(epochs), int(batch_size)
    if optimizer is None:
        from .optim import Adam
        optimizer = Adam(model.parameters())
    rng = np.random.default_rng(seed)
    validation_seed = int(rng.integers(2**63))   # the same validation noise every epoch
    params = _unique(model)
    callbacks = list(callbacks or [])
    history = History()
    n_batches = math.ceil(len(X) / batch_size)
    step = getattr(model, "training_step", 0)
    first_epoch = getattr(model, "training_epoch", 0)
    epochs_done = 0

    for callback in callbacks:
        callback.on_train_begin(model, history)
    last_finite = snapshot(params)   # weights of the last step whose loss was finite
    bar = _progress_bar(epochs, verbose)
    try:
        for epoch in range(1, epochs + 1):
            order = rng.permutation(len(X)) if shuffle else None
            sums = {}
            for batch in range(n_batches):
                rows = slice(batch * batch_size, (batch + 1) * batch_size)
                xb = X[order[rows]] if shuffle else X[rows]
                model.training_step, model.training_epoch = step, first_epoch + epoch - 1
                optimizer.zero_grad()
                try:
                    total = model.loss(xb, rng=rng)
                except NonFiniteError as error:   # a layer met inf/NaN: the weights blew up
                    raise NonFiniteError(
                        f"training diverged at {_where(epoch, epochs, batch, n_batches, step)}: "
                        f"the forward pass met non-finite values ({error}). The model keeps "
                        "the weights of the last step with a finite loss.") from error
                if not math.isfinite(total):
                    raise NonFiniteError(_blowup_message(
                        model, total, _where(epoch, epochs, batch, n_batches, step)))
                model.backward()
                for saved, p in zip(last_finite, params):
                    np.copyto(saved, p.value)
                optimizer.step()
                _accumulate(sums, total, model, len(xb))
                step += 1
            logs = {name: value / len(X) for name, value in sums.items()}
            if validation_data is not None:
                validation = evaluate(model, validation_data, batch_size,
                                      np.random.default_rng(validation_seed))
                logs.update({f"val_{name}": value for name, value in validation.items()})
            epochs_done = epoch
            history.append(epoch, logs)
            if bar is not None:
                bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items() if k.endswith("loss")})
                bar.update(1)
            stops = [callback.on_epoch_end(model, epoch, logs) for callback in callbacks]
            if any(stops):
                break
    except NonFiniteError:
        restore(params, last_finite)
        raise
    finally:
        model.training_step, model.training_epoch = step, first_epoch + epochs_done
        if bar is not None:
            bar.close()
    for callback in callbacks:
        callback.on_train_end(model, history)
    return history


def _where(epoch, epochs, batch, n_batches, step):
    return f"epoch {epoch}/{epochs}, batch {batch + 1}/{n_batches} (training step {step})"
