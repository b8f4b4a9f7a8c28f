"""What the first layer learned: dense filters as images, and convolution kernels."""
import numpy as np

from ..errors import ShapeError
from ._base import as_images, figure_for_grid, finish, grid_size, show_tiles, tile_images


def max_activating_inputs(W):
    """The input of unit norm that most activates each hidden unit (Ng, "Sparse
    autoencoder" lecture notes, section "Visualizing a trained autoencoder").

    Hidden unit i computes a_i = f(Σ_j W_ij x_j + b_i); over inputs with ‖x‖² ≤ 1 it is
    largest at  x_j = W_ij / sqrt(Σ_j W_ij²),  i.e. unit i's weight vector, normalized.

    ``W``: (D_in, n_hidden), npae's Dense layout (y = x W, so unit i's weights are the
    column W[:, i]); a ``Parameter`` is accepted too. Returns (n_hidden, D_in) float64,
    one unit-norm row per hidden unit (a unit with all-zero weights gives zeros).
    """
    W = np.asarray(getattr(W, "value", W), dtype=np.float64)
    if W.ndim != 2 or W.size == 0:
        raise ShapeError(f"max_activating_inputs: W must be (D_in, n_hidden), got {W.shape}")
    norms = np.sqrt(np.sum(W * W, axis=0))
    return (W / np.where(norms > 0, norms, 1.0)).T


def _symmetric(tiles):
    """Scale each tile by its largest |value| into [-1, 1]: zero stays mid-gray, so the
    sign of every weight is visible."""
    axes = tuple(range(1, tiles.ndim))
    peak = np.abs(tiles).max(axis=axes, keepdims=True)
    return tiles / np.where(peak > 0, peak, 1.0)


def plot_filters(W, image_shape=None, n=None, n_cols=None, path=None, dpi=100):
    """Tile each hidden unit's maximally activating input (``max_activating_inputs``) as an
    image; mid-gray is 0, white positive, black negative (each tile scaled on its own).

    ``W``: (D_in, n_hidden) first-layer weights; ``image_shape``: (H, W) or (1, H, W) of the
    input images (guessed when square); ``n``: show the first n units (default all).
    """
    x = max_activating_inputs(W)[:n]
    tiles = _symmetric(as_images(x, image_shape, "plot_filters", "filters"))
    n_rows, n_cols = grid_size(len(tiles), n_cols or int(np.ceil(np.sqrt(len(tiles)))))
    fig = figure_for_grid(n_rows, n_cols, *tiles.shape[1:3])
    ax = fig.add_subplot()
    show_tiles(ax, tile_images(tiles, n_cols, pad_value=-1.0), value_range=(-1.0, 1.0))
    ax.set_title(f"{len(tiles)} hidden units: maximally activating inputs", fontsize="small")
    return finish(fig, path, dpi)


def plot_conv_kernels(kernels, max_kernels=64, path=None, dpi=100):
    """Show first-layer convolution kernels, each scaled on its own (mid-gray is 0).

    ``kernels``: (C_out, C_in, kH, kW) (a ``Parameter`` is accepted). With C_in = 1 each
    kernel is one gray tile; with C_in = 3 one color tile; otherwise one row per output
    channel and one column per input channel. At most ``max_kernels`` output channels.
    """
    kernels = np.asarray(getattr(kernels, "value", kernels), dtype=np.float64)
    if kernels.ndim != 4 or kernels.size == 0:
        raise ShapeError(f"plot_conv_kernels: kernels must be (C_out, C_in, kH, kW), got "
                         f"{kernels.shape}")
    kernels = kernels[:max_kernels]
    c_out, c_in, height, width = kernels.shape
    if c_in == 3:
        tiles = (_symmetric(kernels).transpose(0, 2, 3, 1) + 1.0) / 2.0  # RGB in [0, 1]
        n_cols, value_range, pad_value = int(np.ceil(np.sqrt(c_out))), (0.0, 1.0), 1.0
    else:
        tiles = _symmetric(kernels.reshape(c_out * c_in, height, width))
        n_cols = c_in if c_in > 1 else int(np.ceil(np.sqrt(c_out)))
        value_range, pad_value = (-1.0, 1.0), -1.0
    n_rows, n_cols = grid_size(len(tiles), n_cols)
    fig = figure_for_grid(n_rows, n_cols, max(height, 8), max(width, 8))
    ax = fig.add_subplot()
    show_tiles(ax, tile_images(tiles, n_cols, pad_value=pad_value), value_range)
    ax.set_title(f"{c_out} kernels of {height}x{width}" + (f", {c_in} input channels"
                                                             if c_in > 1 else ""),
                 fontsize="small")
    if c_in not in (1, 3):
        ax.set_xlabel("input channel")
        ax.set_ylabel("output channel")
    return finish(fig, path, dpi)
