"""Figures: what lands on the canvas is the data, arranged as documented; PNGs are not blank."""
import math

import numpy as np
import pytest

from npae.errors import NonFiniteError, ShapeError
from npae.parameter import Parameter
from npae.plotting import (inverse_normal_cdf, latent_grid, max_activating_inputs, pca_2d,
                           plot_conv_kernels, plot_filters, plot_images, plot_latent_manifold,
                           plot_latent_scatter, plot_latent_traversals, plot_prior_samples,
                           plot_reconstructions, plot_sparsity_kl, plot_training_curves,
                           sparsity_kl, tile_images)
from npae.plotting._base import as_images


def canvas(fig, axes_index=0):
    return np.asarray(fig.axes[axes_index].images[0].get_array())


def saved_png(fig_maker, tmp_path, name="figure.png"):
    """Make a figure with path=..., read the PNG back; return (fig, RGB pixels)."""
    from matplotlib.image import imread
    path = tmp_path / name
    fig = fig_maker(path)
    return fig, imread(path)[..., :3]


class RecordingDecoder:
    """decode(z) that remembers its inputs and draws z[0] as the brightness of an image."""

    def __init__(self, side=6):
        self.calls, self.side = [], side

    def __call__(self, z):
        self.calls.append(z.copy())
        brightness = (np.tanh(z[:, :1]) + 1) / 2
        return np.repeat(brightness, self.side * self.side, axis=1)


# --- tiling and image shapes -------------------------------------------------------------
def test_tile_images_places_images_row_by_row_with_padding():
    images = np.arange(5 * 2 * 3, dtype=float).reshape(5, 2, 3)
    tiled = tile_images(images, n_cols=2, pad=1, pad_value=-1)
    assert tiled.shape == (3 * 3 - 1, 2 * 4 - 1)
    np.testing.assert_array_equal(tiled[0:2, 4:7], images[1])
    np.testing.assert_array_equal(tiled[6:8, 0:3], images[4])
    assert np.all(tiled[2] == -1) and np.all(tiled[6:8, 4:7] == -1)  # gap and empty cell


@pytest.mark.parametrize("x, image_shape, expected", [
    (np.zeros((4, 12)), (3, 4), (4, 3, 4)),
    (np.zeros((4, 12)), (1, 3, 4), (4, 3, 4)),
    (np.zeros((4, 16)), None, (4, 4, 4)),
    (np.zeros((4, 3, 4)), None, (4, 3, 4)),
    (np.zeros((4, 1, 3, 4)), None, (4, 3, 4)),
    (np.zeros((4, 3, 5, 6)), None, (4, 5, 6, 3)),
])
def test_image_layouts_are_understood(x, image_shape, expected):
    assert as_images(x, image_shape).shape == expected


@pytest.mark.parametrize("x, image_shape, error, message", [
    (np.zeros((4, 12)), (3, 3), ShapeError, "12 features but image_shape"),
    (np.zeros((4, 12)), None, ShapeError, "cannot guess the image shape of 12"),
    (np.zeros((4, 2, 3, 3)), None, ShapeError, "2 channels"),
    (np.full((2, 4), np.nan), None, NonFiniteError, "NaN"),
    (np.zeros((0, 4)), None, ShapeError, "non-empty"),
])
def test_bad_images_raise_clear_errors(x, image_shape, error, message):
    with pytest.raises(error, match=message):
        plot_images(x, image_shape)


# --- image figures -----------------------------------------------------------------------
def test_plot_images_shows_the_images_and_saves_a_nonblank_png(tmp_path):
    images = np.random.default_rng(0).uniform(size=(7, 25)).astype(np.float32)
    fig, pixels = saved_png(lambda p: plot_images(images, n_cols=4, path=p), tmp_path)
    np.testing.assert_allclose(canvas(fig), tile_images(images.reshape(7, 5, 5), 4), rtol=1e-6)
    assert pixels.ndim == 3 and pixels.std() > 0.1


def test_reconstructions_put_originals_above_reconstructions():
    x = np.random.default_rng(1).uniform(size=(12, 16))
    fig = plot_reconstructions(x, 1 - x, n=5)
    assert [ax.get_ylabel() for ax in fig.axes] == ["original", "reconstruction"]
    np.testing.assert_allclose(canvas(fig, 0), tile_images(x[:5].reshape(5, 4, 4), 5))
    np.testing.assert_allclose(canvas(fig, 1), tile_images(1 - x[:5].reshape(5, 4, 4), 5))


def test_denoising_reconstructions_show_corrupted_reconstructed_clean(tmp_path):
    x = np.random.default_rng(2).uniform(size=(4, 1, 4, 4))
    corrupted = np.where(x > 0.5, 0.0, x)
    fig, pixels = saved_png(lambda p: plot_reconstructions(x, x * 0.9, corrupted=corrupted,
                                                           path=p), tmp_path)
    assert [ax.get_ylabel() for ax in fig.axes] == ["corrupted", "reconstruction", "clean"]
    np.testing.assert_allclose(canvas(fig, 0), tile_images(corrupted[:, 0], 4))
    np.testing.assert_allclose(canvas(fig, 2), tile_images(x[:, 0], 4))
    assert pixels.std() > 0.1


def test_reconstructions_of_different_shapes_are_rejected():
    with pytest.raises(ValueError, match="equal shapes"):
        plot_reconstructions(np.zeros((4, 16)), np.zeros((3, 16)))


def test_prior_samples_decode_standard_normal_codes_reproducibly():
    decode = RecordingDecoder()
    plot_prior_samples(decode, n_latent=3, rng=7, n=500, n_cols=25)
    plot_prior_samples(decode, n_latent=3, rng=7, n=500, n_cols=25)
    z = decode.calls[0]
    assert z.shape == (500, 3) and z.dtype == np.float32
    np.testing.assert_array_equal(decode.calls[0], decode.calls[1])
    assert abs(z.mean()) < 0.1 and abs(z.std() - 1) < 0.1  # 0.1 is > 5 standard errors


# --- the latent manifold -----------------------------------------------------------------
def test_inverse_normal_cdf_inverts_the_normal_cdf():
    p = np.array([[0.001, 0.05, 0.5], [0.8, 0.975, 0.999]])
    z = inverse_normal_cdf(p)
    assert z.shape == p.shape
    phi = np.vectorize(lambda v: 0.5 * (1 + math.erf(v / math.sqrt(2))))
    np.testing.assert_allclose(phi(z), p, rtol=1e-12)
    assert z[1, 1] == pytest.approx(1.959963984540054, abs=1e-12)  # the textbook 97.5% point
    with pytest.raises(ValueError, match=r"strictly inside \(0, 1\)"):
        inverse_normal_cdf([0.0, 0.5])


def test_latent_grid_is_gaussian_quantiles_with_up_positive():
    z, values = latent_grid(n=5, n_latent=4, dims=(1, 3), quantiles=(0.1, 0.9))
    np.testing.assert_allclose(values, inverse_normal_cdf(np.linspace(0.1, 0.9, 5)))
    np.testing.assert_allclose(values, -values[::-1], atol=1e-12)  # symmetric about 0
    grid = z.reshape(5, 5, 4)
    np.testing.assert_allclose(grid[2, :, 1], values, rtol=1e-6)     # left to right
    np.testing.assert_allclose(grid[:, 2, 3], values[::-1], rtol=1e-6)  # top row is largest
    assert np.all(grid[:, :, [0, 2]] == 0)
    with pytest.raises(ValueError, match="two different indices"):
        latent_grid(n=3, n_latent=2, dims=(0, 0))


def test_latent_manifold_decodes_the_grid_once_and_tiles_it(tmp_path):
    decode = RecordingDecoder(side=6)
    fig, pixels = saved_png(lambda p: plot_latent_manifold(decode, n_latent=2, n=7, path=p),
                            tmp_path)
    assert len(decode.calls) == 1
    np.testing.assert_array_equal(decode.calls[0], latent_grid(7)[0])
    image = canvas(fig)
    assert image.shape == (42, 42)  # tiles without gaps
    # brightness follows z[0]: increasing left to right, constant down a column
    assert np.all(np.diff(image[0, ::6]) > 0) and np.all(image[:, 0] == image[0, 0])
    assert fig.axes[0].get_xlabel() == "z[0]" and pixels.std() > 0.1


def test_traversals_vary_one_dimension_per_row():
    decode = RecordingDecoder(side=4)
    z = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    values = np.linspace(-2, 2, 5)
    fig = plot_latent_traversals(decode, z, dims=[0, 2], values=values)
    codes = decode.calls[0].reshape(2, 5, 3)
    assert codes.dtype == np.float32
    np.testing.assert_allclose(codes[0, :, 0], values)
    np.testing.assert_allclose(codes[1, :, 2], values)
    np.testing.assert_array_equal(codes[0, :, 1:], np.broadcast_to(z[1:], (5, 2)))
    np.testing.assert_array_equal(codes[1, :, :2], np.broadcast_to(z[:2], (5, 2)))
    assert canvas(fig).shape == (2 * 5 - 1, 5 * 5 - 1)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["z[0]", "z[2]"]
    with pytest.raises(ValueError, match="float vector"):
        plot_latent_traversals(decode, np.zeros((2, 3)))


# --- filters and kernels -----------------------------------------------------------------
def test_max_activating_inputs_are_the_normalized_weight_columns(rng):
    W = rng.normal(size=(16, 5))
    W[:, 3] = 0.0
    x_star = max_activating_inputs(Parameter(W))
    assert x_star.shape == (5, 16)
    norms = np.linalg.norm(x_star, axis=1)
    np.testing.assert_allclose(norms[[0, 1, 2, 4]], 1.0, rtol=1e-12)
    assert np.all(x_star[3] == 0)  # a dead unit stays zeros, no NaN
    np.testing.assert_allclose(x_star[0] * np.linalg.norm(W[:, 0]), W[:, 0], rtol=1e-12)
    # no other unit-norm input activates any unit more (Cauchy–Schwarz, checked by sampling)
    others = rng.normal(size=(2000, 16))
    others /= np.linalg.norm(others, axis=1, keepdims=True)
    best = np.sum(W.T * x_star, axis=1)
    assert np.all(others @ W <= best + 1e-12)


def test_plot_filters_tiles_each_unit_scaled_symmetrically(tmp_path, rng):
    W = rng.normal(size=(64, 10))
    fig, pixels = saved_png(lambda p: plot_filters(W, (8, 8), path=p), tmp_path)
    image = canvas(fig)
    assert image.shape == (3 * 9 - 1, 4 * 9 - 1)  # 10 tiles, 4 columns
    first = image[:8, :8]
    np.testing.assert_allclose(first, W[:, 0].reshape(8, 8) / np.abs(W[:, 0]).max())
    assert pixels.std() > 0.1


@pytest.mark.parametrize("c_in, canvas_ndim", [(1, 2), (3, 3), (4, 2)])
def test_conv_kernels_for_gray_color_and_many_channels(c_in, canvas_ndim, tmp_path, rng):
    kernels = rng.normal(size=(6, c_in, 5, 5))
    fig, pixels = saved_png(lambda p: plot_conv_kernels(kernels, path=p), tmp_path)
    image = canvas(fig)
    assert image.ndim == canvas_ndim
    assert np.isclose(np.abs(image).max(), 1.0)
    if c_in == 4:
        assert image.shape == (6 * 6 - 1, 4 * 6 - 1)  # rows: outputs, columns: inputs
        assert fig.axes[0].get_xlabel() == "input channel"
    assert pixels.std() > 0.05
    with pytest.raises(ShapeError, match=r"\(C_out, C_in, kH, kW\)"):
        plot_conv_kernels(kernels[0])


# --- curves ------------------------------------------------------------------------------
def test_training_curves_one_line_per_component_val_dashed_in_same_colour(tmp_path):
    history = {"loss": [5.0, 3.0, 2.0], "kl": [0.5, 0.8, 0.9], "val_loss": [5.5, 3.5, 2.6]}
    fig, pixels = saved_png(lambda p: plot_training_curves(history, path=p), tmp_path)
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert set(lines) == set(history)
    np.testing.assert_array_equal(lines["kl"].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(lines["val_loss"].get_ydata(), history["val_loss"])
    assert lines["val_loss"].get_linestyle() == "--"
    assert lines["val_loss"].get_color() == lines["loss"].get_color()
    assert lines["kl"].get_color() != lines["loss"].get_color()
    assert fig.axes[0].get_yscale() == "linear" and pixels.std() > 0.05


def test_training_curves_log_scale_when_components_span_decades():
    fig = plot_training_curves({"loss": [500.0, 300.0], "sparsity": [0.5, 0.2]})
    assert fig.axes[0].get_yscale() == "log"
    assert plot_training_curves({"loss": [1.0, -1.0]}).axes[0].get_yscale() == "linear"


@pytest.mark.parametrize("history, error, message", [
    ({}, TypeError, "non-empty mapping component -> per-epoch values, got dict"),
    ([1.0, 2.0], TypeError, "non-empty mapping component -> per-epoch values, got list"),
    ({"loss": []}, ShapeError, r"'loss' must be a non-empty list .* got shape \(0,\)"),
    ({"loss": [[1.0, 2.0]]}, ShapeError, r"'loss' must be a non-empty list .* got shape \(1, 2\)"),
])
def test_training_curves_reject_bad_histories(history, error, message):
    with pytest.raises(error, match=message):
        plot_training_curves(history)


def test_sparsity_kl_is_the_bernoulli_kl_divergence():
    rho, rho_hat = 0.2, np.array([0.01, 0.1, 0.2, 0.5, 0.9])
    p, q = np.array([rho, 1 - rho]), np.stack([rho_hat, 1 - rho_hat], axis=1)
    by_definition = np.sum(p * np.log(p / q), axis=1)  # Σ over the two outcomes
    np.testing.assert_allclose(sparsity_kl(rho, rho_hat), by_definition, rtol=1e-12)
    assert sparsity_kl(rho, 0.2) == 0.0 and np.all(sparsity_kl(rho, rho_hat[[0, 1, 3, 4]]) > 0)
    with pytest.raises(ValueError, match=r"strictly inside \(0, 1\)"):
        sparsity_kl(0.2, 1.0)


def test_sparsity_kl_plot_has_its_minimum_at_rho(tmp_path):
    fig, pixels = saved_png(lambda p: plot_sparsity_kl([0.05, 0.3], path=p), tmp_path)
    curves = [line for line in fig.axes[0].get_lines() if len(line.get_xdata()) > 2]
    assert len(curves) == 2
    for line, rho in zip(curves, (0.05, 0.3)):
        x, y = line.get_xdata(), line.get_ydata()
        assert x[np.argmin(y)] == pytest.approx(rho, abs=1e-3) and y.min() < 1e-5
    assert pixels.std() > 0.05


def test_pca_finds_the_direction_of_largest_variance(rng):
    direction = np.array([3.0, 4.0, 0.0]) / 5
    codes = rng.normal(size=(400, 1)) * 10 * direction + rng.normal(size=(400, 3))
    projected, explained = pca_2d(codes)
    centred = codes - codes.mean(axis=0)
    assert abs(np.corrcoef(projected[:, 0], centred @ direction)[0, 1]) > 0.99
    assert explained[0] > 0.9 and explained[0] >= explained[1]
    np.testing.assert_allclose(np.var(projected, axis=0).sum() / np.var(centred, axis=0).sum(),
                               explained.sum(), rtol=1e-10)


def test_latent_scatter_first_two_dims_discrete_labels_get_a_legend(tmp_path, rng):
    codes = rng.normal(size=(60, 2))
    labels = np.arange(60) % 3
    fig, pixels = saved_png(lambda p: plot_latent_scatter(codes, labels, ("a", "b", "c"),
                                                          path=p), tmp_path)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "c"]
    np.testing.assert_allclose(ax.collections[1].get_offsets(), codes[labels == 1])
    assert ax.get_xlabel() == "z[0]" and pixels.std() > 0.05


def test_latent_scatter_pca_and_continuous_colours(rng):
    fig = plot_latent_scatter(rng.normal(size=(50, 6)), rng.uniform(size=50))
    assert fig.axes[0].get_xlabel().startswith("PC1 (") and len(fig.axes) == 2  # colourbar
    with pytest.raises(ShapeError, match="K >= 2"):
        plot_latent_scatter(np.zeros((5, 1)))
    with pytest.raises(ShapeError, match=r"labels must be \(5,\)"):
        plot_latent_scatter(np.zeros((5, 2)), np.zeros(4, int))
    with pytest.raises(ValueError, match="method"):
        plot_latent_scatter(np.zeros((5, 2)), method="tsne")
