"""The fit loop every npae model trains with: mini-batches, History, callbacks, early stopping.

The loop relies only on the model protocol (see ``npae.gradcheck.check_model``):

    model.loss(x, rng=rng) -> float    total training loss of a batch; sets ``model.components``
    model.backward()                   adds d(total)/d(param) into every Parameter's ``grad``
    model.parameters()                 the Parameters to update

and sets ``model.training_step`` (batches done so far) and ``model.training_epoch`` (epochs
done so far) before each batch, so schedules (k-sparse k, VAE KL warm-up) can read them.
Both counters carry on across calls: calling ``fit`` again continues training.

One step:  zero the gradients → loss → backward → check the gradients → optimizer step.
Nothing non-finite is ever applied: a NaN or inf loss (or a gradient holding one) stops
training with ``NonFiniteError`` naming the epoch, the batch, the training step and the loss
component (or Parameter) that blew up, and the model keeps the weights of the last step
whose loss was finite. ``checkpoint_every`` writes the whole run (weights, optimizer,
generator, history) every few epochs, so a crash loses at most that many (``npae.checkpoint``).
"""
import math
import sys

import numpy as np

from ._checks import check_finite, check_float_array
from .errors import DTypeError, NonFiniteError, ShapeError
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
    """Hooks into ``fit``. ``on_epoch_end`` returns True to stop training.

    Callbacks that need the whole run (``npae.checkpoint.Checkpoint``) also get ``bind(run)``
    once, after every ``on_train_begin``, and ``after_epoch(run)`` after every callback's
    ``on_epoch_end``. A callback with state worth resuming defines ``state_dict()`` /
    ``load_state_dict(state)`` (plain numbers and lists of arrays).
    """

    # Every hook is optional: the defaults below do nothing, so a callback defines only
    # the ones it needs.
    def on_train_begin(self, model, history):
        """Before the first epoch (``history`` is the run's History, still empty)."""

    def bind(self, run):
        """Once, after every callback's ``on_train_begin``: the whole ``Run``."""

    def on_epoch_end(self, model, epoch, logs):
        """After each epoch with its logged values; return True to stop training."""
        return False

    def after_epoch(self, run):
        """After every callback's ``on_epoch_end`` (checkpoints save here)."""

    def on_train_end(self, model, history):
        """After the last epoch, also when training stopped early."""


class Run:
    """One ``fit`` call as callbacks see it: ``model``, ``X``, ``validation_data``,
    ``optimizer``, ``rng`` (shuffling and noise), ``validation_seed``, ``history``,
    ``epochs``, ``batch_size``, ``shuffle``, ``callbacks``, ``epochs_done`` (within this
    call) and ``stopping`` (a callback asked to stop). A resuming callback may set
    ``epochs_done``, the history and the generator before the first epoch."""

    def __init__(self, **fields):
        self.epochs_done, self.stopping = 0, False
        self.__dict__.update(fields)


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

    def state_dict(self):
        """The progress so far (for checkpoints): best value and epoch, wait, best weights."""
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait,
                "stopped_epoch": self.stopped_epoch, "best_values": self.best_values}

    def load_state_dict(self, state):
        self.best, self.best_epoch = float(state["best"]), state["best_epoch"]
        self.wait = state["wait"]
        self.stopped_epoch = state["stopped_epoch"]
        values = state["best_values"]
        self.best_values = None if values is None else [np.array(v) for v in values]


def _unique(model):
    return [p for _, p in unique_parameters((None, p) for p in model.parameters())]


def _named(model, params):
    """A name for every Parameter (the model's own names where it has them)."""
    named = dict((id(p), n) for n, p in model.named_parameters()) \
        if hasattr(model, "named_parameters") else {}
    return [named.get(id(p), f"parameter {i} ({p.name})") for i, p in enumerate(params)]


def check_data(X, name="X", who="fit"):
    """X must be a finite float array (N, ...) with N >= 1."""
    check_float_array(X, who, name)
    if X.ndim < 2 or X.shape[0] == 0 or X.size == 0:
        raise ShapeError(f"{who}: {name} must be a non-empty batch of shape (N, n_features...), "
                         f"got shape {X.shape}")
    return check_finite(X, who, name)


def check_validation(X, validation_data):
    """validation_data must be like X: same per-example shape, same dtype."""
    validation_data = check_data(validation_data, "validation_data")
    if validation_data.shape[1:] != X.shape[1:]:
        raise ShapeError(f"fit: validation_data must hold examples shaped like X's, "
                         f"(N, {', '.join(map(str, X.shape[1:]))}); got {validation_data.shape}")
    if validation_data.dtype != X.dtype:
        raise DTypeError(f"fit: validation_data is {validation_data.dtype} but X is {X.dtype}; "
                         f"cast with .astype(np.{X.dtype.name}) (npae never converts silently)")
    return validation_data


def _positive_int(value, name):
    number = isinstance(value, (int, float, np.integer, np.floating))
    if isinstance(value, bool) or not (number and math.isfinite(value) and int(value) == value
                                       and value >= 1):
        raise ValueError(f"fit: epochs and batch_size must be positive integers; "
                         f"{name} is {value!r}")
    return int(value)


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


KEEPS = ("The model keeps the weights of the last step with a finite loss. Try a smaller "
         "learning rate, or check the data's scale.")


def _blowup_message(model, total, where):
    bad = [name for name, value in getattr(model, "components", {}).items()
           if not math.isfinite(value)]
    what = (f"loss component {', '.join(repr(b) for b in bad)}" if bad
            else "the total loss (every component was finite)")
    return f"training diverged at {where}: {what} became {total}. {KEEPS}"


def _check_gradients(params, names, model, total, where):
    """Raise NonFiniteError naming the first Parameter whose gradient holds NaN or inf."""
    for p, name in zip(params, names):
        if not np.isfinite(np.sum(p.grad)) and not np.all(np.isfinite(p.grad)):
            components = ", ".join(f"{k}={v:.6g}"
                                   for k, v in getattr(model, "components", {}).items())
            raise NonFiniteError(
                f"training diverged at {where}: the gradient of {name!r} holds NaN or inf "
                f"although the loss was finite ({total:.6g}; {components or 'no components'}); "
                f"the step was not applied. {KEEPS}")


def _progress_bar(total, verbose):
    """A tqdm bar over the epochs, only when verbose and stderr is a terminal."""
    if not verbose or not sys.stderr.isatty():
        return None
    from tqdm import tqdm
    return tqdm(total=total, unit="epoch", file=sys.stderr)


def fit(model, X, epochs=10, batch_size=64, validation_data=None, shuffle=True, seed=None,
        callbacks=None, optimizer=None, verbose=1, checkpoint_every=None, checkpoint_path=None,
        resume=False):
    """Train ``model`` on X (N, ...) with mini-batches; returns a ``History``.

    seed          an int, None or a numpy Generator: drives the shuffling and every random
                  draw the model makes (corruption masks, VAE eps). Same seed, same initial
                  weights and same backend give bit-identical weights after training.
    optimizer     an npae optimizer over the model's Parameters (default Adam, lr 1e-3).
    callbacks     ``Callback`` objects, e.g. ``EarlyStopping(patience=5)``.
    verbose       0: silent; 1: a tqdm bar when stderr is a terminal.
    checkpoint_every, checkpoint_path   write the run to ``checkpoint_path`` every
                  ``checkpoint_every`` epochs (default 1) and at the end; a crash loses at most
                  that many epochs (``npae.checkpoint.Checkpoint``, also usable as a callback).
    resume        continue the run saved at ``checkpoint_path`` (or start it, if there is no
                  file yet): same weights, optimizer state, generator and history, as if it
                  had never stopped. Without it an existing checkpoint is never overwritten.
    """
    X = check_data(X, "X")
    if validation_data is not None:
        validation_data = check_validation(X, validation_data)
    epochs, batch_size = _positive_int(epochs, "epochs"), _positive_int(batch_size, "batch_size")
    callbacks = list(callbacks or [])
    if checkpoint_every is not None or checkpoint_path is not None or resume:
        from .checkpoint import Checkpoint
        callbacks.append(Checkpoint(checkpoint_path, every=checkpoint_every, resume=resume))
    if optimizer is None:
        from .optim import Adam
        optimizer = Adam(model.parameters())
    rng = np.random.default_rng(seed)
    validation_seed = int(rng.integers(2**63))   # the same validation noise every epoch
    params = _unique(model)
    names = _named(model, params)
    run = Run(model=model, X=X, validation_data=validation_data, optimizer=optimizer, rng=rng,
              validation_seed=validation_seed, history=History(), epochs=epochs,
              batch_size=batch_size, shuffle=bool(shuffle), callbacks=callbacks)
    for callback in callbacks:
        callback.on_train_begin(model, run.history)
    for callback in callbacks:
        callback.bind(run)             # a resuming Checkpoint restores the run here
    rng, history = run.rng, run.history
    n_batches = math.ceil(len(X) / batch_size)
    step = getattr(model, "training_step", 0)
    first_epoch = getattr(model, "training_epoch", 0) - run.epochs_done
    last_finite, last_finite_step = snapshot(params), step   # last weights with a finite loss
    bar = _progress_bar(epochs, verbose)
    if bar is not None:
        bar.update(run.epochs_done)
    in_step = False                  # a failure inside a step rolls the weights back
    try:
        for epoch in range(run.epochs_done + 1, epochs + 1):
            if run.stopping:
                break
            order = rng.permutation(len(X)) if shuffle else None
            sums = {}
            for batch in range(n_batches):
                rows = slice(batch * batch_size, (batch + 1) * batch_size)
                xb = X[order[rows]] if shuffle else X[rows]
                model.training_step, model.training_epoch = step, first_epoch + epoch - 1
                where = _where(epoch, epochs, batch, n_batches, step)
                in_step = True
                optimizer.zero_grad()
                try:
                    total = model.loss(xb, rng=rng)
                except NonFiniteError as error:   # a layer met inf/NaN: the weights blew up
                    raise NonFiniteError(f"training diverged at {where}: the forward pass met "
                                         f"non-finite values ({error}). {KEEPS}") from error
                if not math.isfinite(total):
                    raise NonFiniteError(_blowup_message(model, total, where))
                for saved, p in zip(last_finite, params):
                    np.copyto(saved, p.value)
                last_finite_step = step
                model.backward()
                _check_gradients(params, names, model, total, where)
                optimizer.step()
                _accumulate(sums, total, model, len(xb))
                step += 1
                in_step = False
            logs = {name: value / len(X) for name, value in sums.items()}
            if validation_data is not None:
                logs.update(_validate(model, validation_data, batch_size, run, epoch))
            run.epochs_done = epoch
            history.append(epoch, logs)
            if bar is not None:
                bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items() if k.endswith("loss")})
                bar.update(1)
            stops = [callback.on_epoch_end(model, epoch, logs) for callback in callbacks]
            run.stopping = any(stops)
            model.training_step, model.training_epoch = step, first_epoch + epoch
            for callback in callbacks:
                callback.after_epoch(run)
    except NonFiniteError:
        if in_step:
            restore(params, last_finite)
            step = last_finite_step
        raise
    finally:
        model.training_step, model.training_epoch = step, first_epoch + run.epochs_done
        if bar is not None:
            bar.close()
    for callback in callbacks:
        callback.on_train_end(model, history)
    return history


def _validate(model, validation_data, batch_size, run, epoch):
    """val_ logs of one epoch; NonFiniteError if the validation loss is not finite."""
    where = f"epoch {epoch}/{run.epochs} (validation)"
    try:
        logs = evaluate(model, validation_data, batch_size,
                        np.random.default_rng(run.validation_seed))
    except NonFiniteError as error:
        raise NonFiniteError(f"validation diverged at {where}: the forward pass met non-finite "
                             f"values ({error}). The model keeps its weights.") from error
    bad = [name for name, value in logs.items() if not math.isfinite(value)]
    if bad:
        raise NonFiniteError(f"validation diverged at {where}: {', '.join(map(repr, bad))} "
                             f"became non-finite. The model keeps its weights.")
    return {f"val_{name}": value for name, value in logs.items()}


def _where(epoch, epochs, batch, n_batches, step):
    return f"epoch {epoch}/{epochs}, batch {batch + 1}/{n_batches} (training step {step})"
