import numpy as np
import pytest

from npae.demo import load_digits_unit, train_digits_autoencoder


def test_sigmoid_autoencoder_beats_half_the_mean_image_baseline():
    # Baseline and final loss recomputed here from the formula ½ Σ_d (x̂ − x)², mean over N,
    # so a scale bug in the demo's own loss cannot cancel out of the comparison.
    x = load_digits_unit(np.float64)
    expected_baseline = 0.5 * np.sum((x - x.mean(axis=0)) ** 2) / len(x)
    logs = []
    model, history, baseline = train_digits_autoencoder(epochs=5, log=logs.append)
    assert baseline == pytest.approx(expected_baseline, rel=1e-5)
    reconstruction = model.forward(load_digits_unit(np.float32)).astype(np.float64)
    final_loss = 0.5 * np.sum((reconstruction - x) ** 2) / len(x)
    assert history[-1] == pytest.approx(final_loss, rel=1e-5)
    assert final_loss < 0.5 * expected_baseline, (history, expected_baseline)
    assert history[-1] < history[0]
    assert model[0].W.dtype == np.float32
    assert len(logs) == 6 and "baseline" in logs[0]


def test_python_dash_m_npae_runs(capsys):
    from npae.__main__ import main
    assert main(["demo", "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert "epoch   1" in out and "baseline" in out
