"""Figures made of images: grids, reconstructions, prior samples, the latent manifold and
latent traversals.

Images may be flat (N, D) with ``image_shape`` (H, W) or (C, H, W), or (N, H, W), or
(N, C, H, W). Figures that need a model take a callable ``decode(z) -> images``: z is
(N, n_latent) of ``dtype``, the result the decoder's mean image in [0, 1] (for a VAE:
``model.decode``; for a Bernoulli decoder on logits: ``lambda z: sigmoid(decoder(z))``).
"""
import numpy as np

from ._base import as_images, figure_for_grid, finish, grid_size, show_tiles, tile_images


def plot_images(images, image_shape=None, n_cols=10, title=None, value_range=(0.0, 1.0),
                path=None, dpi=100):
    """All ``images`` in one grid, ``n_cols`` wide. ``value_range=None`` stretches the
    gray scale to the data's min..max. Returns the Figure (saved to ``path`` if given)."""
    images = as_images(images, image_shape, "plot_images")
    n_rows, n_cols = grid_size(len(images), n_cols)
    fig = figure_for_grid(n_rows, n_cols, *images.shape[1:3])
    ax = fig.add_subplot()
    show_tiles(ax, tile_images(images, n_cols), value_range)
    if title:
        ax.set_title(title)
    return finish(fig, path, dpi)


def plot_reconstructions(originals, reconstructions, image_shape=None, corrupted=None, n=10,
                         value_range=(0.0, 1.0), path=None, dpi=100):
    """The first ``n`` originals above their reconstructions.

    With ``corrupted`` (a denoising autoencoder's input) three rows: corrupted, reconstructed,
    clean. All arrays hold the same images in the same order.
    """
    rows = [("original", originals), ("reconstruction", reconstructions)]
    if corrupted is not None:
        rows = [("corrupted", corrupted), ("reconstruction", reconstructions),
                ("clean", originals)]
    rows = [(label, as_images(x, image_shape, "plot_reconstructions", label)) for label, x in rows]
    shapes = {label: x.shape for label, x in rows}
    if len(set(shapes.values())) != 1:
        raise ValueError(f"plot_reconstructions: the arrays must have equal shapes, got {shapes}")
    n = min(int(n), len(rows[0][1]))
    fig = figure_for_grid(len(rows), n, *rows[0][1].shape[1:3], extra_height=0.2)
    axes = fig.subplots(len(rows), 1)
    for ax, (label, images) in zip(axes, rows):
        show_tiles(ax, tile_images(images[:n], n), value_range)
        ax.set_ylabel(label, rotation=0, ha="right", va="center")
    return finish(fig, path, dpi)


def plot_prior_samples(decode, n_latent, rng, n=64, n_cols=8, image_shape=None,
                       dtype=np.float32, path=None, dpi=100):
    """Decode ``n`` draws from the prior, z ~ N(0, I) in ``n_latent`` dimensions.

    ``rng``: a ``numpy.random.Generator`` or a seed (the figure is reproducible).
    """
    z = np.random.default_rng(rng).standard_normal((n, n_latent)).astype(dtype)
    return plot_images(decode(z), image_shape, n_cols, title="samples from the prior",
                       path=path, dpi=dpi)


def inverse_normal_cdf(p):
    """Φ⁻¹(p) of the standard normal, elementwise, for p in (0, 1) (via the standard
    library's ``statistics.NormalDist``, so scipy is not needed). Returns float64."""
    from statistics import NormalDist
    p = np.asarray(p, dtype=np.float64)
    if np.any((p <= 0) | (p >= 1)) or not np.all(np.isfinite(p)):
        raise ValueError("inverse_normal_cdf: probabilities must lie strictly inside (0, 1)")
    standard = NormalDist()
    return np.array([standard.inv_cdf(float(q)) for q in p.ravel()]).reshape(p.shape)


def latent_grid(n=15, n_latent=2, dims=(0, 1), quantiles=(0.05, 0.95), dtype=np.float32):
    """The codes of the 2-D latent manifold (Kingma & Welling 2014, Fig. 4): ``n`` evenly
    spaced quantiles of N(0, 1) along each of ``dims``, mapped through Φ⁻¹, so the grid is
    dense where the prior has mass; every other dimension is 0.

    Returns (z of shape (n*n, n_latent), values of shape (n,)): row r, column c of the
    figure is z[r*n + c], with z[dims[0]] = values[c] and z[dims[1]] = values[n-1-r]
    (up is positive, like a plot's y axis).
    """
    if len(dims) != 2 or dims[0] == dims[1] or not all(0 <= d < n_latent for d in dims):
        raise ValueError(f"latent_grid: dims must be two different indices below n_latent="
                         f"{n_latent}, got {dims}")
    values = inverse_normal_cdf(np.linspace(quantiles[0], quantiles[1], n))
    z = np.zeros((n, n, n_latent), dtype=dtype)
    z[:, :, dims[0]] = values[None, :]
    z[:, :, dims[1]] = values[::-1, None]
    return z.reshape(n * n, n_latent), values


def plot_latent_manifold(decode, n_latent=2, n=15, dims=(0, 1), image_shape=None,
                         quantiles=(0.05, 0.95), dtype=np.float32, path=None, dpi=100):
    """Decode a grid of codes over two latent dimensions (see ``latent_grid``); the axes
    are labelled with the z values."""
    z, values = latent_grid(n, n_latent, dims, quantiles, dtype)
    images = as_images(decode(z), image_shape, "plot_latent_manifold", "decoded images")
    height, width = images.shape[1:3]
    fig = figure_for_grid(n, n, height, width, extra_height=0.6)
    ax = fig.add_subplot()
    show_tiles(ax, tile_images(images, n, pad=0))
    step = max(1, n // 5)  # label about five ticks per axis
    ticks = np.arange(0, n, step)
    ax.set_xticks(ticks * width + (width - 1) / 2, [f"{values[i]:.1f}" for i in ticks])
    ax.set_yticks(ticks * height + (height - 1) / 2, [f"{values[n - 1 - i]:.1f}" for i in ticks])
    ax.set_xlabel(f"z[{dims[0]}]")
    ax.set_ylabel(f"z[{dims[1]}]")
    return finish(fig, path, dpi)


def plot_latent_traversals(decode, z, dims=None, values=None, image_shape=None, path=None,
                           dpi=100):
    """One row per latent dimension d: decode z with z[d] replaced by each of ``values``.

    ``z``: (n_latent,) the code to start from (an encoded image's mean, or zeros).
    ``values``: default 9 points from -3 to 3 (the prior's ±3σ).
    ``dims``: which dimensions to vary (default all). A dimension the model does not use
    gives a row of identical images; a disentangled one changes a single factor.
    """
    z = np.asarray(z)
    if z.ndim != 1 or z.dtype.kind != "f":
        raise ValueError(f"plot_latent_traversals: z must be a float vector (n_latent,), got "
                         f"{z.dtype} {z.shape}")
    dims = list(range(len(z))) if dims is None else [int(d) for d in dims]
    values = np.linspace(-3, 3, 9) if values is None else values
    values = np.asarray(values, dtype=z.dtype)
    codes = np.repeat(z[None, :], len(dims) * len(values), axis=0)
    for row, d in enumerate(dims):
        codes[row * len(values):(row + 1) * len(values), d] = values
    images = as_images(decode(codes), image_shape, "plot_latent_traversals", "decoded images")
    height, width = images.shape[1:3]
    fig = figure_for_grid(len(dims), len(values), height, width, extra_height=0.6)
    ax = fig.add_subplot()
    show_tiles(ax, tile_images(images, len(values)))
    ax.set_yticks(np.arange(len(dims)) * (height + 1) + (height - 1) / 2,
                  [f"z[{d}]" for d in dims])
    ax.set_xticks(np.arange(len(values)) * (width + 1) + (width - 1) / 2,
                  [f"{v:g}" for v in values])
    ax.set_xlabel("value of the varied dimension")
    return finish(fig, path, dpi)
