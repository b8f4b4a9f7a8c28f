"""Shared pieces of the figures: making and saving a Figure, turning arrays into image tiles.

Figures are built with matplotlib's object API (``matplotlib.figure.Figure``), never pyplot:
nothing opens a window or needs a display, PNGs are written by the Agg renderer, and no
global list of figures grows while a loop makes hundreds of them.
"""
import numpy as np

from .._checks import check_finite
from ..errors import DTypeError, ShapeError


def new_figure(width, height):
    """A Figure of ``width`` x ``height`` inches with constrained layout."""
    from matplotlib.figure import Figure  # imported here: `import npae` must stay light
    return Figure(figsize=(width, height), layout="constrained")


def finish(fig, path=None, dpi=100):
    """Save ``fig`` as an image (PNG for a .png path) when ``path`` is given; return it."""
    if path is not None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        FigureCanvasAgg(fig)  # render with Agg whatever backend pyplot may have chosen
        fig.savefig(path, dpi=dpi)
    return fig


def infer_image_shape(n_features):
    """A square (H, W) for flat images of ``n_features`` pixels, or an error asking for one."""
    side = int(round(np.sqrt(n_features)))
    if side * side != n_features:
        raise ShapeError(f"cannot guess the image shape of {n_features} features; "
                         "pass image_shape=(H, W) or (C, H, W)")
    return (side, side)


def as_images(x, image_shape=None, who="plot", name="images"):
    """Bring images to (N, H, W) for grayscale or (N, H, W, 3) for color.

    ``x``: (N, D) flat with ``image_shape`` (H, W) or (C, H, W) (guessed when square),
    (N, H, W), or (N, C, H, W) with C = 1 or 3 (the conv layout). Floats (any precision)
    or booleans; integers are refused, as everywhere in npae: 0..255 pixels drawn on the
    default value range (0, 1) would all be white.
    """
    x = np.asarray(x)
    if x.dtype.kind in "iu":
        raise DTypeError(f"{who}: {name} must be floats, got {x.dtype} (integer images? "
                         "divide by 255 and cast, e.g. x / 255)")
    if x.dtype.kind not in "fb" or x.size == 0:
        raise ShapeError(f"{who}: {name} must be a non-empty numeric array, got {x.dtype} "
                         f"{x.shape}")
    x = x.astype(np.float64, copy=False)
    check_finite(x, who, name)
    if x.ndim == 2:
        shape = tuple(image_shape) if image_shape is not None else infer_image_shape(x.shape[1])
        if int(np.prod(shape)) != x.shape[1]:
            raise ShapeError(f"{who}: {name} have {x.shape[1]} features but image_shape "
                             f"{shape} holds {int(np.prod(shape))}")
        x = x.reshape(len(x), *shape)
    if x.ndim == 4:
        if x.shape[1] == 1:
            x = x[:, 0]
        elif x.shape[1] == 3:
            x = x.transpose(0, 2, 3, 1)
        else:
            raise ShapeError(f"{who}: {name} of shape {x.shape} have {x.shape[1]} channels; "
                             "only 1 (gray) or 3 (color) can be shown")
    if x.ndim not in (3, 4):
        raise ShapeError(f"{who}: {name} must be (N, D), (N, H, W) or (N, C, H, W), "
                         f"got shape {x.shape}")
    return x


def rescale_each(images):
    """Stretch each image to [0, 1] on its own (filters have arbitrary scale and sign)."""
    axes = tuple(range(1, images.ndim))
    low = images.min(axis=axes, keepdims=True)
    span = images.max(axis=axes, keepdims=True) - low
    return (images - low) / np.where(span > 0, span, 1.0)


def tile_images(images, n_cols, pad=1, pad_value=1.0):
    """Tile (N, H, W[, 3]) images row by row into one (rows*(H+pad)-pad, cols*(W+pad)-pad[, 3])
    array; unused cells and the gaps hold ``pad_value``."""
    n, height, width = images.shape[:3]
    n_cols = max(1, min(int(n_cols), n))
    n_rows = -(-n // n_cols)
    canvas = np.full((n_rows * (height + pad) - pad, n_cols * (width + pad) - pad)
                     + images.shape[3:], pad_value, dtype=np.float64)
    for i, image in enumerate(images):
        row, col = divmod(i, n_cols)
        top, left = row * (height + pad), col * (width + pad)
        canvas[top:top + height, left:left + width] = image
    return canvas


def show_tiles(ax, canvas, value_range=(0.0, 1.0), cmap="gray"):
    """Draw a tiled canvas on ``ax`` without ticks; returns the AxesImage."""
    low, high = value_range if value_range is not None else (canvas.min(), canvas.max())
    if canvas.ndim == 3:  # RGB: imshow takes no vmin/vmax, so clip into [0, 1] ourselves
        canvas = np.clip((canvas - low) / max(high - low, 1e-12), 0.0, 1.0)
        image = ax.imshow(canvas, interpolation="nearest")
    else:
        image = ax.imshow(canvas, cmap=cmap, vmin=low, vmax=high, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    return image


def grid_size(n, n_cols):
    """(rows, cols) of a grid of ``n`` tiles, at most ``n_cols`` wide."""
    n_cols = max(1, min(int(n_cols), n))
    return -(-n // n_cols), n_cols


def figure_for_grid(n_rows, n_cols, height, width, extra_height=0.4, max_width=14.0):
    """A figure for an ``n_rows`` x ``n_cols`` grid of ``height`` x ``width`` tiles.

    Each tile gets 0.5 to 1 inch (bigger images, bigger tiles), shrunk to fit ``max_width``.
    """
    tile = min(1.0, max(0.5, 0.025 * width))
    tile = min(tile, max_width / n_cols)
    return new_figure(max(3.0, n_cols * tile), max(1.0, n_rows * tile * height / width
                                                   + extra_height))
