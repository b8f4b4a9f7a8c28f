"""Line and scatter figures: training curves, the sparsity penalty KL(ρ ‖ ρ̂), latent codes."""
from collections.abc import Mapping

import numpy as np

from .._checks import check_finite
from ..errors import ShapeError
from ._base import finish, new_figure

VALIDATION_PREFIX = "val_"


def plot_training_curves(history, log_y="auto", title=None, path=None, dpi=100):
    """One line per loss component against the epoch.

    ``history``: a mapping component -> per-epoch values, e.g. {"loss": [...],
    "reconstruction": [...], "kl": [...]}. A key "val_<name>" is drawn dashed in the
    colour of "<name>". ``log_y``: True, False or "auto" (log scale when every value is
    positive and they span more than two decades, e.g. a KL term next to a total loss).
    """
    if not isinstance(history, Mapping) or not history:
        raise TypeError(f"plot_training_curves: history must be a non-empty mapping "
                        f"component -> per-epoch values, got {type(history).__name__}")
    curves = {name: np.asarray(values, dtype=np.float64) for name, values in history.items()}
    for name, values in curves.items():
        if values.ndim != 1 or values.size == 0:
            raise ShapeError(f"plot_training_curves: {name!r} must be a non-empty list of "
                             f"per-epoch values, got shape {values.shape}")
    fig = new_figure(6.0, 4.0)
    ax = fig.add_subplot()
    colors = {}
    # training components first, so each "val_" curve can reuse its colour
    for name in sorted(curves, key=lambda key: key.startswith(VALIDATION_PREFIX)):
        values = curves[name]
        base = name[len(VALIDATION_PREFIX):] if name.startswith(VALIDATION_PREFIX) else None
        style = dict(linestyle="--", color=colors.get(base)) if base is not None else {}
        (line,) = ax.plot(np.arange(1, len(values) + 1), values, marker="." if len(values) < 30
                          else None, label=name, **style)
        colors[name] = line.get_color()
    finite = np.concatenate([v[np.isfinite(v)] for v in curves.values()])
    if log_y == "auto":
        log_y = finite.size > 0 and finite.min() > 0 and finite.max() / finite.min() > 100
    if log_y:
        ax.set_yscale("log")
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (mean over the batch)")
    ax.legend()
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    return finish(fig, path, dpi)


def sparsity_kl(rho, rho_hat):
    """KL(ρ ‖ ρ̂) = ρ log(ρ/ρ̂) + (1-ρ) log((1-ρ)/(1-ρ̂)), the KL divergence between
    Bernoulli(ρ) and Bernoulli(ρ̂) (Ng's sparse autoencoder penalty). Zero at ρ̂ = ρ,
    growing without bound as ρ̂ -> 0 or 1. ``rho`` in (0, 1), ``rho_hat`` in (0, 1)."""
    rho_hat = np.asarray(rho_hat, dtype=np.float64)
    if not 0 < rho < 1 or np.any((rho_hat <= 0) | (rho_hat >= 1)):
        raise ValueError("sparsity_kl: rho and rho_hat must lie strictly inside (0, 1)")
    return rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))


def plot_sparsity_kl(rho=0.2, y_max=3.0, path=None, dpi=100):
    """The lecture's plot of KL(ρ ‖ ρ̂) against ρ̂ for a target ρ (or several): the
    penalty is 0 when a unit's mean activation ρ̂ equals ρ and grows on both sides."""
    rhos = np.atleast_1d(np.asarray(rho, dtype=np.float64))
    rho_hat = np.linspace(0.001, 0.999, 999)
    fig = new_figure(5.0, 3.5)
    ax = fig.add_subplot()
    for target in rhos:
        (line,) = ax.plot(rho_hat, sparsity_kl(float(target), rho_hat), label=f"ρ = {target:g}")
        ax.axvline(target, color=line.get_color(), linestyle=":", linewidth=1)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, y_max)
    ax.set_xlabel("ρ̂ (mean activation of a hidden unit)")
    ax.set_ylabel("KL(ρ ‖ ρ̂)")
    ax.legend()
    ax.grid(alpha=0.3)
    return finish(fig, path, dpi)


def pca_2d(codes):
    """Project (N, K) codes on their two principal axes (SVD of the centred codes).

    Returns (projected (N, 2), explained (2,)): the fraction of variance on each axis.
    """
    centred = codes - codes.mean(axis=0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    variance = singular ** 2
    total = variance.sum()
    explained = variance[:2] / total if total > 0 else np.zeros(2)
    return centred @ vt[:2].T, explained


def plot_latent_scatter(codes, labels=None, label_names=None, method="auto", path=None,
                        dpi=100):
    """Scatter the codes in 2-D, coloured by label.

    ``codes``: (N, K) latent codes (e.g. a VAE's mu). ``method``: "first2" (dims 0 and 1),
    "pca" (the two principal axes, variance explained in the labels; needs N >= 2 codes)
    or "auto" (pca when K > 2 and N >= 2, else first2: a single code has no principal
    axes). ``labels``: (N,) integers (one colour per class, legend from ``label_names``)
    or floats (a colour map, e.g. a generative factor).
    """
    codes = np.asarray(codes, dtype=np.float64)
    if codes.ndim != 2 or codes.shape[0] == 0 or codes.shape[1] < 2:
        raise ShapeError(f"plot_latent_scatter: codes must be (N, K) with K >= 2, got "
                         f"{codes.shape}")
    check_finite(codes, "plot_latent_scatter", "codes")
    n_codes, n_latent = codes.shape
    if method == "auto":
        method = "pca" if n_latent > 2 and n_codes >= 2 else "first2"
    if method == "first2":
        points, axis_labels = codes[:, :2], ("z[0]", "z[1]")
    elif method == "pca":
        if n_codes < 2:
            raise ShapeError(f"plot_latent_scatter: method='pca' needs codes of shape (N, K) "
                             f"with N >= 2, got {codes.shape}; use method='first2'")
        points, explained = pca_2d(codes)
        axis_labels = tuple(f"PC{i + 1} ({100 * e:.0f}% of variance)"
                            for i, e in enumerate(explained))
    else:
        raise ValueError(f"plot_latent_scatter: method must be 'auto', 'first2' or 'pca', "
                         f"got {method!r}")
    fig = new_figure(5.5, 4.5)
    ax = fig.add_subplot()
    if labels is None:
        ax.scatter(points[:, 0], points[:, 1], s=4, alpha=0.6)
    else:
        _scatter_labelled(fig, ax, points, np.asarray(labels), label_names)
    ax.set_xlabel(axis_labels[0])
    ax.set_ylabel(axis_labels[1])
    return finish(fig, path, dpi)


def _scatter_labelled(fig, ax, points, labels, label_names):
    if labels.shape != (len(points),):
        raise ShapeError(f"plot_latent_scatter: labels must be ({len(points)},), got "
                         f"{labels.shape}")
    if labels.dtype.kind in "iub":
        classes = np.unique(labels)
        cmap = _class_colormap(len(classes))
        for i, label in enumerate(classes):
            name = label_names[label] if label_names is not None else str(label)
            chosen = labels == label
            ax.scatter(points[chosen, 0], points[chosen, 1], s=4, alpha=0.6, color=cmap(i),
                       label=name)
        ax.legend(markerscale=3, fontsize="small", loc="best")
    else:
        dots = ax.scatter(points[:, 0], points[:, 1], s=4, alpha=0.6, c=labels,
                          cmap="viridis")
        fig.colorbar(dots, ax=ax)


def _class_colormap(n):
    from matplotlib import colormaps
    return colormaps["tab10" if n <= 10 else "tab20"].resampled(max(n, 1))
