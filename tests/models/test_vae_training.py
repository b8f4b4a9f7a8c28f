"""A 2-D latent VAE trained on real images with npae's own fit loop.

Data: the MNIST test images in ../shared/data/mnist (averaged 2x2 down to 14x14 so the test
stays within seconds on a shared 2-core machine; train on the first 3,000, test on 1,000 of
the others), else scikit-learn's 8x8 digits. One model is trained once for the module.
"""
import gzip
from pathlib import Path

import numpy as np
import pytest

import npae.io
from npae import metrics
from npae.models.vae import VAE

pytestmark = pytest.mark.slow
MNIST = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mnist"


def read_idx(path):
    """The IDX format: zero bytes, a dtype code, the number of dimensions, big-endian sizes."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_images():
    images = MNIST / "t10k-images-idx3-ubyte.gz"
    if images.exists():
        x = read_idx(images).astype(np.float32) / 255
        x = x.reshape(-1, 14, 2, 14, 2).mean(axis=(2, 4)).reshape(len(x), -1)
        y = read_idx(MNIST / "t10k-labels-idx1-ubyte.gz")
        return "mnist-14x14", x[:3000], y[:3000], x[5000:6000], y[5000:6000], 5
    from sklearn.datasets import load_digits
    digits = load_digits()
    x, y = (digits.data / 16).astype(np.float32), digits.target
    return "digits", x[:1400], y[:1400], x[1400:], y[1400:], 25     # small images: more epochs


@pytest.fixture(scope="module")
def trained():
    name, x_train, y_train, x_test, y_test, epochs = load_images()
    vae = VAE(layer_sizes=[x_train.shape[1], 128, 2], seed=0, batch_size=32, learning_rate=2e-3,
              verbose=0)
    before = dict(neg_elbo=metrics.negative_elbo(vae, x_test, rng=0), samples=vae.sample(200, rng=0),
                  probe=metrics.linear_probe_accuracy(vae.transform(x_train), y_train,
                                                      vae.transform(x_test), y_test))
    vae.fit(x_train, epochs=epochs, validation_data=x_test)
    return dict(name=name, vae=vae, x_train=x_train, y_train=y_train, x_test=x_test,
                y_test=y_test, before=before)


def test_test_negative_elbo_falls_below_the_mean_image_baseline(trained):
    vae, x_train, x_test = trained["vae"], trained["x_train"], trained["x_test"]
    history = vae.history_
    assert {"loss", "reconstruction", "kl", "val_loss", "val_reconstruction", "val_kl"} <= set(history.keys())
    assert history["val_loss"][-1] < history["val_loss"][0] < trained["before"]["neg_elbo"]
    after = metrics.negative_elbo(vae, x_test, rng=0)
    # independent pixels with the training set's mean intensities: a model that ignores z
    p = np.clip(x_train.mean(axis=0), 1e-4, 1 - 1e-4)
    baseline = -np.mean(np.sum(x_test * np.log(p) + (1 - x_test) * np.log1p(-p), axis=1))
    print(f"\n{trained['name']}: test -ELBO {trained['before']['neg_elbo']:.1f} -> {after:.1f} nats "
          f"(mean-image baseline {baseline:.1f})")
    assert after < baseline - 1.0
    assert history["kl"][-1] > 1.0                      # the code is used: no posterior collapse


def test_samples_from_the_prior_look_like_the_data(trained):
    vae, x_train = trained["vae"], trained["x_train"]
    mean_image = x_train.mean(axis=0)

    def likeness(samples):
        return np.corrcoef(samples.mean(axis=0), mean_image)[0, 1]

    samples = vae.sample(200, rng=0)
    bright = np.mean(samples > 0.5)
    print(f"\nprior samples: {bright:.1%} pixels > 0.5 (data {np.mean(x_train > 0.5):.1%}); "
          f"correlation with the mean image {likeness(samples):.2f} "
          f"(untrained {likeness(trained['before']['samples']):.2f})")
    assert 0.02 < bright < 0.4                       # neither blank nor a grey fog
    assert likeness(samples) > 0.8 > likeness(trained["before"]["samples"]) + 0.3
    assert samples.std(axis=0).mean() > 0.02         # different z, different images


def test_the_2d_code_separates_the_classes(trained):
    vae = trained["vae"]
    accuracy = metrics.linear_probe_accuracy(vae.transform(trained["x_train"]), trained["y_train"],
                                             vae.transform(trained["x_test"]), trained["y_test"])
    print(f"\nlinear probe on the 2-D code: {accuracy:.3f} (untrained {trained['before']['probe']:.3f}, "
          "chance 0.1)")
    assert accuracy > trained["before"]["probe"] + 0.1 and accuracy > 0.4


def test_iwae_bound_on_the_trained_model(trained):
    """Means over test images: ELBO ≈ E[L_1] < E[L_10] < E[L_250]; each difference (paired, same
    images) must clear 4 standard errors. (Digits' posteriors fit so well that the gains are
    tiny: there each image is used 4 times, with independent draws, to shrink the error.)"""
    vae = trained["vae"]
    x = np.tile(trained["x_test"][:300], (1 if trained["name"].startswith("mnist") else 4, 1))
    elbo = vae.elbo(x, eps=np.random.default_rng(1).standard_normal((50, len(x), 2)).astype(np.float32))
    bounds = {k: vae.log_likelihood(x, k, rng=k) for k in (1, 10, 250)}

    def z_score(low, high):
        diff = (high - low).astype(np.float64)
        return diff.mean() / (diff.std(ddof=1) / np.sqrt(len(diff)))

    print(f"\n-log p(x) bounds (nats): ELBO {-elbo.mean():.2f}, k=1 {-bounds[1].mean():.2f}, "
          f"k=10 {-bounds[10].mean():.2f}, k=250 {-bounds[250].mean():.2f}")
    assert z_score(elbo, bounds[10]) > 4 and z_score(bounds[1], bounds[10]) > 4
    assert z_score(bounds[10], bounds[250]) > 4
    assert abs(z_score(elbo, bounds[1])) < 4                                  # E[L_1] = ELBO


def test_both_units_are_active(trained):
    count, activity = metrics.active_units(trained["vae"], trained["x_test"])
    kl = metrics.kl_per_dimension(trained["vae"], trained["x_test"])
    assert count == 2 and np.all(activity > 0.01) and np.all(kl > 0.1)


def test_save_and_load_give_the_same_model(trained, tmp_path):
    vae, x = trained["vae"], trained["x_test"][:50]
    loaded = npae.io.load(vae.save(tmp_path / "vae.npz"))
    assert type(loaded) is VAE and loaded.training_step == vae.training_step
    assert np.array_equal(loaded.transform(x), vae.transform(x))
    assert np.array_equal(loaded.sample(5, rng=3), vae.sample(5, rng=3))
    assert loaded.loss(x, rng=4) == vae.loss(x, rng=4)
