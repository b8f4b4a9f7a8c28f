"""`npae train / evaluate / sample` on the digits with one epoch: what they write and print."""
import json
import os
from pathlib import Path

import numpy as np
import pytest

import npae
from npae.__main__ import main
from npae.cli import build_parser, models as recipes

TINY = ["--epochs", "1", "--n-train", "200", "--n-test", "60", "-q"]
FIGURES = {   # model -> figures it must write (a run with figures for each kind of model)
    "denoising": {"training_curves", "reconstructions", "filters", "latent_scatter"},
    "conv": {"training_curves", "reconstructions", "conv_kernels", "latent_scatter"},
    "vae": {"training_curves", "reconstructions", "filters", "latent_scatter", "prior_samples",
            "latent_traversals", "latent_manifold"},
    "conv-vae": {"training_curves", "reconstructions", "conv_kernels", "latent_scatter",
                 "prior_samples", "latent_traversals"},
}
CLASSES = {"ae": "Autoencoder", "tied": "Autoencoder", "denoising": "DenoisingAutoencoder",
           "sparse": "SparseAutoencoder", "ksparse": "KSparseAutoencoder",
           "contractive": "ContractiveAutoencoder", "conv": "ConvAutoencoder", "vae": "VAE",
           "beta-vae": "VAE", "conv-vae": "ConvVAE"}
COMPONENTS = {"sparse": "sparsity", "contractive": "contractive", "vae": "kl",
              "beta-vae": "kl", "conv-vae": "kl"}


def train(out, *extra, capsys=None):
    assert main(["train", *extra, "--out", str(out), *TINY]) == 0
    return capsys.readouterr().out if capsys is not None else None


def read_png(path):
    import matplotlib.image
    assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
    return matplotlib.image.imread(path)


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "vae"
    assert main(["train", "vae", "--out", str(out), *TINY]) == 0
    return out


def test_the_models_are_the_issue_list():
    assert set(CLASSES) == set(recipes.MODELS)


@pytest.mark.parametrize("model", list(CLASSES))
def test_train_writes_the_model_metrics_and_figures(model, tmp_path, capsys):
    figures = FIGURES.get(model, set())
    out = tmp_path / model
    printed = train(out, model, *([] if figures else ["--no-figures"]), capsys=capsys)
    loaded = npae.load(out / "model.npz")
    assert type(loaded).__name__ == CLASSES[model]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model"] == model and metrics["options"]["epochs"] == 1
    assert metrics["command"].startswith(f"npae train {model} ") and str(out) in metrics["command"]
    assert metrics["dataset"] == {**metrics["dataset"], "name": "digits", "n_train": 200,
                                  "n_test": 60, "image_shape": [1, 8, 8]}
    history = metrics["history"]
    assert history["epoch"] == [1] and len(history["loss"]) == len(history["val_loss"]) == 1
    assert np.isfinite(metrics["test"]["test_loss"])
    if model in COMPONENTS:
        assert COMPONENTS[model] in history
    assert 0 <= metrics["test"]["probe_accuracy"] <= 1
    assert ("elbo" in metrics["test"]) == (model in ("vae", "beta-vae", "conv-vae"))
    written = {Path(p).stem for p in out.glob("*.png")}
    assert written == figures
    for name in figures:
        image = read_png(out / f"{name}.png")
        assert image.shape[0] > 100 and image[..., :3].std() > 0.05, name   # not blank
    # every path it printed exists, and it printed every file it wrote
    listed = {Path(line.strip()) for line in printed.splitlines()
              if line.startswith("  " + str(out))}
    assert listed == set(out.iterdir())


def test_denoising_reconstructions_show_three_rows(tmp_path):
    """corrupted / reconstructed / clean: taller than the two-row figure of a plain model."""
    train(tmp_path / "dae", "denoising")
    train(tmp_path / "ae", "ae", "--latent", "8")
    dae = read_png(tmp_path / "dae" / "reconstructions.png")
    ae = read_png(tmp_path / "ae" / "reconstructions.png")
    assert dae.shape[1] == ae.shape[1] and dae.shape[0] > 1.3 * ae.shape[0]
    # a new run in the same folder leaves no figure of the old one behind
    train(tmp_path / "dae", "tied", "--no-figures")
    assert not list((tmp_path / "dae").glob("*.png"))
    assert npae.load(tmp_path / "dae" / "model.npz").tied


def test_training_lowers_the_loss_and_options_reach_the_model(tmp_path):
    out = tmp_path / "sparse"
    assert main(["train", "sparse", "--rho", "0.1", "--beta", "0.5", "--latent", "12",
                 "--hidden", "24", "--lr", "0.01", "--epochs", "4", "--n-train", "300",
                 "--n-test", "60", "-q", "--no-figures", "--out", str(out)]) == 0
    model = npae.load(out / "model.npz")
    assert (model.rho, model.beta, model.learning_rate) == (0.1, 0.5, 0.01)
    assert model.layer_sizes == [64, 24, 12]
    loss = json.loads((out / "metrics.json").read_text())["history"]["loss"]
    assert len(loss) == 4 and loss[-1] < 0.8 * loss[0], loss


def test_no_options_means_a_small_vae_on_the_digits():
    args = build_parser().parse_args(["train"])
    options = recipes.resolve({k: v for k, v in vars(args).items() if k != "run"})
    assert (options["model"], options["dataset"], options["latent"]) == ("vae", "digits", 2)
    assert options["epochs"] == recipes.EPOCHS["digits"] and options["out"] is None
    from npae.cli.train import default_out
    assert default_out(options) == os.path.join("runs", "vae-digits")


def test_evaluate_reproduces_the_training_figures(vae_run, capsys):
    capsys.readouterr()
    assert main(["evaluate", str(vae_run), "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    stored = json.loads((vae_run / "metrics.json").read_text())["test"]
    assert results == pytest.approx(stored, rel=1e-12)
    # the importance-weighted bound (k = 100) lies above the ELBO
    assert results["elbo"] < results["log_likelihood"] < 0
    assert main(["evaluate", str(vae_run), "-k", "5"]) == 0
    table = capsys.readouterr().out
    for label in ("test loss", "ELBO", "log-likelihood (IWAE, k=5)", "linear-probe accuracy"):
        assert label in table


def test_sample_writes_a_grid_of_prior_samples(vae_run, tmp_path, capsys):
    path = tmp_path / "samples.png"
    assert main(["sample", str(vae_run), "-n", "16", "--cols", "4", "--out", str(path)]) == 0
    assert str(path) in capsys.readouterr().out
    grid = read_png(path)
    assert grid[..., :3].std() > 0.05
    assert main(["sample", str(vae_run), "-n", "4"]) == 0          # default: DIR/samples.png
    assert (vae_run / "samples.png").is_file()


def test_sample_needs_a_vae(tmp_path, capsys):
    train(tmp_path / "ae", "ae", "--no-figures")
    capsys.readouterr()
    assert main(["sample", str(tmp_path / "ae")]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("npae: error:") and "VAE" in error and "\n" not in error


MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


@pytest.mark.skipif(not (MNIST / "t10k-images-idx3-ubyte.gz").is_file(),
                    reason="no MNIST files in ../shared/data/mnist")
def test_mnist_from_a_data_dir(tmp_path, capsys):
    out = tmp_path / "mnist"
    assert main(["train", "conv", "--dataset", "mnist", "--data-dir", str(MNIST), "--n-train",
                 "64", "--n-test", "32", "--epochs", "1", "-q", "--no-figures",
                 "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["dataset"]["name"] == "mnist"
    assert metrics["dataset"]["image_shape"] == [1, 28, 28]
    assert metrics["options"]["data_dir"] == str(MNIST)
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert all(line.startswith("npae: warning:") for line in warnings)   # one line each
