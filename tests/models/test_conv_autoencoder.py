"""ConvAutoencoder: exact gradients, shapes, save/load, denoising, and conv beats dense on MNIST.

Training tests cap BLAS at one thread: on a shared 2-core machine, spinning BLAS threads
make run times erratic; the numbers computed are the same.
"""
import warnings
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import npae
import npae.io
from npae.gradcheck import check_model
from npae.layers import Conv2D, ConvTranspose2D
from npae.models import Autoencoder
from npae.models.conv import ConvAutoencoder, conv_encoder_decoder

MNIST = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mnist"


def tiny(**kwargs):
    """A float64 conv AE on 1×7×6 images (odd and even sides: both output_paddings)."""
    return ConvAutoencoder((1, 7, 6), channels=(2, 3), n_latent=3, dtype="float64", seed=0,
                           activation="tanh", verbose=0, **kwargs)


def test_gradients_of_the_whole_model(rng):
    x = rng.random((3, 1, 7, 6))
    result = check_model(tiny(), x)
    assert result.passed, str(result)
    assert len(result.errors) == 12                    # W and b of 3 + 3 weighted layers


def test_gradients_with_denoising_corruption(rng):
    x = rng.random((2, 1, 7, 6))
    mask = rng.random(x.shape) < 0.3
    model = tiny(corruption="masking", corruption_level=0.3)
    result = check_model(model, x, mask=mask)
    assert result.passed, str(result)
    # the mask is applied: masked and unmasked losses differ, a fixed mask repeats exactly
    assert model.loss(x, mask=mask) == model.loss(x, mask=mask) != model.loss(x, mask=~mask)


def test_the_default_net_for_28x28_images():
    model = ConvAutoencoder()
    shapes = [type(layer).__name__ for layer in model.encoder_.layers + model.decoder_.layers]
    assert shapes == ["Conv2D", "ReLU", "Conv2D", "ReLU", "Flatten", "Dense",
                      "Dense", "ReLU", "Reshape", "ConvTranspose2D", "ReLU", "ConvTranspose2D"]
    x = np.random.default_rng(0).random((2, 1, 28, 28)).astype(np.float32)
    z = model.transform(x)
    assert z.shape == (2, 32) and z.dtype == np.float32
    x_hat = model.reconstruct(x)
    assert x_hat.shape == x.shape and x_hat.dtype == np.float32
    assert 0 < x_hat.min() and x_hat.max() < 1                  # probabilities, not logits
    assert sum(p.size for p in model.parameters()) == 111_521


def test_odd_sizes_come_back_exactly():
    encoder, decoder = conv_encoder_decoder((2, 9, 5), channels=(4, 4, 4), n_latent=5, kernel_size=5)
    x = np.zeros((1, 2, 9, 5), np.float32)
    assert decoder.forward(encoder.forward(x)).shape == x.shape
    assert [layer.output_padding for layer in decoder.layers if isinstance(layer, ConvTranspose2D)] \
        == [(0, 1), (0, 0), (0, 0)]   # (size + 2p − k) mod 2 of 9 → 5 → 3 → 2 and 5 → 3 → 2 → 1
    assert all(layer.kernel_size == (5, 5) for layer in encoder.layers if isinstance(layer, Conv2D))


def test_bad_arguments_and_inputs_are_rejected():
    with pytest.raises(ValueError, match="input_shape must be"):
        ConvAutoencoder((28, 28))
    with pytest.raises(ValueError, match="corruption must be None or one of"):
        ConvAutoencoder(corruption="blur")
    with pytest.raises(ValueError, match="builds its own encoder"):
        ConvAutoencoder(encoder=npae.Identity(), decoder=npae.Identity())
    model = ConvAutoencoder((1, 8, 8), channels=(2,), n_latent=2)
    with pytest.raises(npae.ShapeError, match=r"examples of shape \(N, 1, 8, 8\), got \(3, 64\); load with flat=False"):
        model.transform(np.zeros((3, 64), np.float32))
    with pytest.raises(npae.DTypeError, match="X has dtype float64 but the layer's parameters are float32"):
        model.transform(np.zeros((3, 1, 8, 8)))


def test_save_and_load_give_the_same_codes(tmp_path, rng):
    model = ConvAutoencoder((1, 8, 8), channels=(3,), n_latent=4, corruption="gaussian",
                            corruption_level=0.1, seed=3, verbose=0)
    x = rng.random((5, 1, 8, 8)).astype(np.float32)
    model.fit(x, epochs=1, batch_size=5)
    loaded = npae.io.load(model.save(tmp_path / "conv.npz"))
    assert isinstance(loaded, ConvAutoencoder) and loaded.get_params() == model.get_params()
    assert loaded.get_params()["input_shape"] == (1, 8, 8)        # tuples come back as tuples
    np.testing.assert_array_equal(loaded.transform(x), model.transform(x))


def test_denoising_conv_autoencoder_learns_to_fill_in_masked_pixels():
    """On the 8x8 digits, with 25% of each test digit's pixels zeroed: after training with
    masking noise, the reconstructions are much closer to the clean digits than before,
    and closer at the masked pixels than those of the same net trained without noise."""
    from sklearn.datasets import load_digits
    x = (load_digits().data / 16).astype(np.float32).reshape(-1, 1, 8, 8)
    x_train, x_test = x[:1200], x[1200:1500]
    mask = np.random.default_rng(1).random(x_test.shape) < 0.25
    masked = np.where(mask, 0, x_test).astype(np.float32)
    errors = {}
    for corruption in ("masking", None):
        model = ConvAutoencoder((1, 8, 8), channels=(8, 16), n_latent=16, corruption=corruption,
                                corruption_level=0.25, seed=0, batch_size=32, learning_rate=3e-3,
                                verbose=0)
        before = float(np.mean((model.reconstruct(masked) - x_test) ** 2))
        with threadpool_limits(1, "blas"):
            model.fit(x_train, epochs=10)
        squared = (model.reconstruct(masked) - x_test) ** 2
        errors[corruption] = float(np.mean(squared[mask]))
        assert model.history_["loss"][-1] < 0.6 * model.history_["loss"][0]
        assert float(np.mean(squared)) < 0.35 * before, (corruption, before, np.mean(squared))
    # copying the zeros through would score mean(x²) at the masked pixels
    assert errors["masking"] < 0.5 * float(np.mean(x_test[mask] ** 2))
    assert errors["masking"] < 0.85 * errors[None], errors


def load_mnist():
    if not (MNIST / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"MNIST test images not found in {MNIST}")
    import npae.datasets
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", npae.datasets.PartialDatasetWarning)
        data = npae.datasets.load("mnist", path=MNIST, flat=False, download=False)
    return data.x_train[:2000], data.x_test[:1000]


@pytest.mark.slow
def test_conv_beats_a_dense_autoencoder_with_the_same_code_and_budget():
    """Same code size (32), about the same number of parameters (111,521 vs 111,928), same
    data, optimiser, batches and epochs: the conv AE reconstructs held-out digits better."""
    x_train, x_test = load_mnist()
    settings = dict(seed=0, batch_size=32, learning_rate=2e-3, verbose=0)
    conv = ConvAutoencoder(**settings)
    dense = Autoencoder(layer_sizes=[784, 68, 32], activation="relu", code_activation="identity",
                        **settings)
    n_conv, n_dense = (sum(p.size for p in m.parameters()) for m in (conv, dense))
    assert abs(n_conv - n_dense) < 0.01 * n_dense
    flat_train, flat_test = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)
    with threadpool_limits(1, "blas"):
        conv.fit(x_train, epochs=3)
        dense.fit(flat_train, epochs=3)
    conv_bce, dense_bce = -conv.score(x_test), -dense.score(flat_test)   # nats per image
    print(f"\ntest BCE per image after 3 epochs: conv {conv_bce:.1f}, dense {dense_bce:.1f}")
    assert conv_bce < 0.85 * dense_bce, (conv_bce, dense_bce)
    assert conv_bce < 115                                   # a mean-image model scores ~205


@pytest.mark.parametrize("make", [
    lambda: ConvAutoencoder((1, 8, 8), channels=(2,), n_latent=3, seed=0),
    lambda: npae.ConvVAE(input_shape=(1, 8, 8), channels=(2,), n_latent=3, seed=0)])
def test_flat_images_get_the_reshape_hint(make):
    model = make()
    flat = np.zeros((4, 64), np.float32)
    for call in (model.transform, model.reconstruct):
        with pytest.raises(npae.ShapeError, match=r"X must be examples of shape \(N, 1, 8, 8\), "
                                                   r"got \(4, 64\); load with flat=False or "
                                                   r"reshape with X.reshape\(-1, 1, 8, 8\)"):
            call(flat)
    with pytest.raises(npae.ShapeError, match=r"validation_data must .*\(N, 1, 8, 8\)"):
        model.fit(np.zeros((4, 1, 8, 8), np.float32), validation_data=flat, epochs=1, verbose=0)
