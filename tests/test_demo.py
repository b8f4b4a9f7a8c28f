import numpy as np

from npae.demo import train_digits_autoencoder


def test_sigmoid_autoencoder_beats_half_the_mean_image_baseline():
    logs = []
    model, history, baseline = train_digits_autoencoder(epochs=5, log=logs.append)
    assert history[-1] < 0.5 * baseline, (history, baseline)
    assert history[-1] < history[0]
    assert model[0].W.dtype == np.float32
    assert len(logs) == 6 and "baseline" in logs[0]


def test_python_dash_m_npae_runs(capsys):
    from npae.__main__ import main
    assert main(["demo", "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert "epoch   1" in out and "baseline" in out
