"""Figures for autoencoders (matplotlib, imported only when a figure is made).

Every function returns a ``matplotlib.figure.Figure`` and, given ``path=``, saves it
(PNG for a .png name). Figures are built without pyplot, so they need no display; in
Jupyter a returned Figure shows inline, in a script save it with ``path=`` or
``fig.savefig(...)``.

Inputs are plain arrays; figures that need a model take callables (duck typing, so any
model works):

    decode(z) -> images       z (N, n_latent); e.g. ``model.decode`` of a VAE

    plot_images(images)                         a grid
    plot_reconstructions(x, x_hat)              originals above reconstructions
    plot_reconstructions(x, x_hat, corrupted=x_tilde)    DAE: corrupted / reconstructed / clean
    plot_prior_samples(decode, n_latent, rng)   z ~ N(0, I) decoded
    plot_latent_manifold(decode)                a 2-D grid through the Gaussian inverse CDF
    plot_latent_scatter(codes, labels)          codes in 2-D (first two dims or PCA)
    plot_latent_traversals(decode, z)           one row per latent dimension
    plot_filters(W, image_shape)                each hidden unit's maximally activating input
    plot_conv_kernels(kernels)                  first-layer convolution kernels
    plot_training_curves(history)               one line per loss component
    plot_sparsity_kl(rho)                       KL(ρ ‖ ρ̂) against ρ̂
"""
from ._base import tile_images
from .curves import (pca_2d, plot_latent_scatter, plot_sparsity_kl, plot_training_curves,
                     sparsity_kl)
from .filters import max_activating_inputs, plot_conv_kernels, plot_filters
from .images import (inverse_normal_cdf, latent_grid, plot_images, plot_latent_manifold,
                     plot_latent_traversals, plot_prior_samples, plot_reconstructions)

__all__ = [
    "plot_images", "plot_reconstructions", "plot_prior_samples", "plot_latent_manifold",
    "plot_latent_traversals", "plot_latent_scatter", "plot_filters", "plot_conv_kernels",
    "plot_training_curves", "plot_sparsity_kl", "max_activating_inputs", "inverse_normal_cdf",
    "latent_grid", "pca_2d", "sparsity_kl", "tile_images",
]
