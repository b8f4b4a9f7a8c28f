import math
import sys

import numpy as np
import pytest

from npae.errors import DTypeError, NonFiniteError, ShapeError
from npae.models import Autoencoder, DenoisingAutoencoder, SparseAutoencoder
from npae.optim import SGD
from npae.parameter import Parameter
from npae.training import Callback, EarlyStopping, History, fit


class Mean:
    """The smallest model the trainer accepts: loss = ½ (w − mean(x))², plus a "penalty"
    component that turns NaN at step ``blow_up_at``. Records what the trainer showed it."""

    def __init__(self, blow_up_at=None):
        self.w = Parameter(np.zeros(1), "w")
        self.blow_up_at, self.seen = blow_up_at, []

    def loss(self, x, rng=None):
        self.seen.append({"step": self.training_step, "epoch": self.training_epoch,
                          "first": float(x[0, 0]), "w": self.w.value.copy()})
        self._diff = self.w.value - x.mean()
        reconstruction = 0.5 * float(self._diff @ self._diff)
        penalty = math.nan if self.training_step == self.blow_up_at else 0.0
        self.components = {"reconstruction": reconstruction, "penalty": penalty}
        return reconstruction + penalty

    def backward(self):
        self.w.grad += self._diff

    def parameters(self):
        return [self.w]


def digits(n=200, dtype=np.float32):
    from sklearn.datasets import load_digits
    return (load_digits().data[:n] / 16).astype(dtype)


X = np.arange(10, dtype=np.float64).reshape(10, 1)


def test_history_records_every_component_per_epoch():
    model = SparseAutoencoder(layer_sizes=[64, 16], seed=0, verbose=0, learning_rate=1e-2)
    history = model.fit(digits(), epochs=3, batch_size=50, validation_data=digits(60)).history_
    assert isinstance(history, History) and history.epoch == [1, 2, 3]
    assert set(history.keys()) == {"loss", "reconstruction", "sparsity",
                                   "val_loss", "val_reconstruction", "val_sparsity"}
    for name in history.keys():
        assert len(history[name]) == 3
    for loss, rec, sparsity in zip(history["loss"], history["reconstruction"], history["sparsity"]):
        assert loss == pytest.approx(rec + model.beta * sparsity, rel=1e-9)
    # training works: every epoch lowers the loss, by a third over 3 epochs (measured 0.667 of
    # epoch 1's at seed 0, 0.67-0.69 over seeds 0-3; bar 0.8), on held-out data too
    for name in ("loss", "val_loss"):
        assert all(b < a for a, b in zip(history[name], history[name][1:])), history[name]
    assert history["loss"][-1] < 0.8 * history["loss"][0], history["loss"]
    with pytest.raises(KeyError, match="recorded"):
        history["kl"]


def test_counters_batches_and_order():
    model = Mean()
    model.training_step = model.training_epoch = 0
    fit(model, X, epochs=2, batch_size=4, shuffle=False, optimizer=SGD(model.parameters()),
        verbose=0)
    assert [s["step"] for s in model.seen] == [0, 1, 2, 3, 4, 5]
    assert [s["epoch"] for s in model.seen] == [0, 0, 0, 1, 1, 1]
    assert [s["first"] for s in model.seen] == [0, 4, 8, 0, 4, 8]
    fit(model, X, epochs=1, batch_size=4, optimizer=SGD(model.parameters()), verbose=0)
    assert [s["step"] for s in model.seen[6:]] == [6, 7, 8]      # counters carry on
    assert [s["epoch"] for s in model.seen[6:]] == [2, 2, 2]
    assert (model.training_step, model.training_epoch) == (9, 3)


def test_shuffle_visits_every_example_once_per_epoch():
    model = Mean()
    fit(model, X, epochs=1, batch_size=3, seed=0, optimizer=SGD(model.parameters()), verbose=0)
    firsts = [s["first"] for s in model.seen]
    assert len(firsts) == 4 and firsts != [0, 3, 6, 9]
    seen = []
    model.loss = lambda x, rng=None: seen.extend(x[:, 0]) or Mean.loss(model, x, rng)
    fit(model, X, epochs=1, batch_size=3, seed=0, optimizer=SGD(model.parameters()), verbose=0)
    assert sorted(seen) == list(range(10)) and seen != list(range(10))


@pytest.mark.parametrize("cls", [Autoencoder, DenoisingAutoencoder])
def test_same_seed_same_backend_gives_bit_identical_weights(backend, cls):
    def train(seed):
        model = cls(layer_sizes=[64, 12], seed=0, verbose=0)
        model.fit(digits(), epochs=2, batch_size=32, seed=seed)
        return [p.value for p in model.parameters()]
    first, again, other = train(1), train(1), train(2)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


def test_a_nan_component_stops_training_and_names_it():
    model = Mean(blow_up_at=3)
    with pytest.raises(NonFiniteError) as error:
        fit(model, X, epochs=5, batch_size=4, shuffle=False,
            optimizer=SGD(model.parameters(), lr=0.1), verbose=0)
    message = str(error.value)
    assert "'penalty'" in message and "epoch 2/5" in message and "training step 3" in message
    assert "reconstruction" not in message
    # the weights at which the last finite loss (step 2) was computed
    np.testing.assert_array_equal(model.w.value, model.seen[2]["w"])
    assert not np.array_equal(model.w.value, model.seen[3]["w"])


def test_divergence_of_a_real_model_leaves_finite_weights():
    model = Autoencoder(layer_sizes=[64, 8], activation="identity", reconstruction_loss="mse",
                        seed=0, verbose=0)
    with pytest.raises(NonFiniteError, match=r"training diverged at epoch \d+/50"):
        model.fit(digits() * 100, epochs=50, batch_size=20,
                  optimizer=SGD(model.parameters(), lr=1.0))
    assert all(np.all(np.isfinite(p.value)) for p in model.parameters())
    assert np.isfinite(model.score(digits()))


def test_early_stopping_stops_and_restores_the_best_weights():
    model = Autoencoder(layer_sizes=[64, 8], seed=0, verbose=0)
    best = {}

    class Record(Callback):
        def on_epoch_end(self, model, epoch, logs):
            best.setdefault(epoch, [p.value.copy() for p in model.parameters()])

    stopper = EarlyStopping(patience=1, min_delta=1e9)   # nothing after epoch 1 counts as better
    history = model.fit(digits(), epochs=10, validation_data=digits(50),
                        callbacks=[Record(), stopper]).history_
    assert history.epoch == [1, 2] and stopper.stopped_epoch == 2 and stopper.best_epoch == 1
    assert all(np.array_equal(p.value, v) for p, v in zip(model.parameters(), best[1]))


def test_early_stopping_patience_logic():
    model = Mean()
    stopper = EarlyStopping(monitor="val_loss", patience=2)
    stopper.on_train_begin(model, History())
    decisions = [stopper.on_epoch_end(model, e, {"val_loss": v})
                 for e, v in enumerate([3.0, 2.0, 2.5, 1.0, 1.5, 1.2], start=1)]
    assert decisions == [False, False, False, False, False, True]
    assert stopper.best_epoch == 4
    with pytest.raises(ValueError, match="validation_data"):
        EarlyStopping().on_epoch_end(model, 1, {"loss": 1.0})


def test_a_callback_can_stop_training():
    class StopAtTwo(Callback):
        def on_epoch_end(self, model, epoch, logs):
            return epoch == 2
    model = Mean()
    history = fit(model, X, epochs=9, callbacks=[StopAtTwo()], optimizer=SGD(model.parameters()),
                  verbose=0)
    assert history.epoch == [1, 2]


def test_progress_bar_only_on_a_terminal(capsys, monkeypatch):
    model = Mean()
    fit(model, X, epochs=2, optimizer=SGD(model.parameters()), verbose=1)
    assert capsys.readouterr().err == ""                    # pytest's stderr is no terminal
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    fit(model, X, epochs=2, optimizer=SGD(model.parameters()), verbose=0)
    assert capsys.readouterr().err == ""                    # verbose=0: silent anyway
    fit(model, X, epochs=2, optimizer=SGD(model.parameters()), verbose=1)
    assert "2/2" in capsys.readouterr().err


def test_bad_data_and_settings():
    model = Autoencoder(layer_sizes=[4, 2], seed=0, verbose=0)
    with pytest.raises(DTypeError, match="integer"):
        model.fit(np.ones((5, 4), dtype=int))
    with pytest.raises(DTypeError, match="float32"):
        model.fit(np.ones((5, 4)))                          # float64 into a float32 model
    with pytest.raises(NonFiniteError, match="X"):
        model.fit(np.full((5, 4), np.nan, np.float32))
    with pytest.raises(ShapeError, match="non-empty"):
        model.fit(np.ones((0, 4), np.float32))
    with pytest.raises(NonFiniteError, match="validation_data"):
        model.fit(np.ones((5, 4), np.float32), validation_data=np.full((2, 4), np.inf, np.float32))
    with pytest.raises(ValueError, match="positive integers"):
        model.fit(np.ones((5, 4), np.float32), epochs=0)


def test_callbacks_see_the_run_in_order():
    events = []

    class Watch(Callback):
        def on_train_begin(self, model, history):
            events.append("begin")

        def bind(self, run):
            events.append(("bind", run.epochs, run.batch_size, run.epochs_done))

        def on_epoch_end(self, model, epoch, logs):
            events.append(("epoch", epoch))
            return epoch == 2

        def after_epoch(self, run):
            events.append(("after", run.epochs_done, run.stopping, len(run.history)))

        def on_train_end(self, model, history):
            events.append("end")

    model = Mean()
    fit(model, X, epochs=5, batch_size=4, callbacks=[Watch()], optimizer=SGD(model.parameters()),
        verbose=0)
    assert events == ["begin", ("bind", 5, 4, 0), ("epoch", 1), ("after", 1, False, 1),
                      ("epoch", 2), ("after", 2, True, 2), "end"]


def test_early_stopping_state_round_trip():
    model = Mean()
    stopper = EarlyStopping(monitor="loss", patience=3)
    stopper.on_train_begin(model, History())
    for epoch, value in enumerate([3.0, 2.0, 2.5], start=1):
        stopper.on_epoch_end(model, epoch, {"loss": value})
    copy = EarlyStopping(monitor="loss", patience=3)
    copy.on_train_begin(model, History())
    copy.load_state_dict(stopper.state_dict())
    fresh = EarlyStopping(monitor="loss", patience=3)
    fresh.on_train_begin(model, History())
    for stopper in (copy, fresh):
        stopper.on_epoch_end(model, 4, {"loss": 2.4})
    assert copy.on_epoch_end(model, 5, {"loss": 2.2}) is True and copy.best_epoch == 2
    assert fresh.on_epoch_end(model, 5, {"loss": 2.2}) is False   # it knew nothing of 1-3


@pytest.mark.parametrize("name, value", [("epochs", 0), ("epochs", "3"), ("epochs", 2.5),
                                         ("batch_size", True), ("batch_size", float("nan"))])
def test_epochs_and_batch_size_are_named_when_wrong(name, value):
    model = Mean()
    with pytest.raises(ValueError, match=rf"positive integers; {name} is {value!r}"):
        fit(model, X, optimizer=SGD(model.parameters()), verbose=0, **{name: value})
