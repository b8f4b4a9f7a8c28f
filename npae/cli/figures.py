"""The figures ``npae train`` writes next to the model, one PNG each.

    training_curves.png     one line per loss component (dashed: the test split)
    reconstructions.png     test images above their reconstructions
                            (denoising: corrupted / reconstructed / clean)
    filters.png             first dense layer: each unit's maximally activating input
    conv_kernels.png        first convolution's kernels (conv models)
    latent_scatter.png      test codes in 2-D (PCA when wider), coloured by label
    prior_samples.png       VAEs: z ~ N(0, I) decoded
    latent_traversals.png   VAEs: one row per latent dimension (the most informative first)
    latent_manifold.png     VAEs with a 2-D code: the decoded grid through Φ⁻¹
"""
import os

import numpy as np

#: every figure a run may write (a new run in the same folder removes the old ones first)
FIGURE_NAMES = ("training_curves", "reconstructions", "filters", "conv_kernels",
                "latent_scatter", "prior_samples", "latent_traversals", "latent_manifold",
                "samples")
N_SHOWN = 10          # images in the reconstruction figure
MAX_FILTERS = 100     # dense units shown
MAX_TRAVERSED = 10    # latent dimensions in the traversal figure


def write_figures(model, data, history, out_dir, seed=0, corruption=None):
    """Make every figure that applies to ``model``; returns {name: path}."""
    from .. import plotting
    written = {}

    def save(name, make):
        path = os.path.join(out_dir, f"{name}.png")
        make(path)
        written[name] = path

    x = data.x_test[:N_SHOWN]
    image_shape = data.image_shape
    save("training_curves", lambda p: plotting.plot_training_curves(
        history, title=f"{type(model).__name__} on {data.name} (dashed: test split)", path=p))
    if corruption is not None:
        from ..corruption import corrupt
        kind, level = corruption
        x_tilde = corrupt(x, kind, level, rng=np.random.default_rng(seed))
        save("reconstructions", lambda p: plotting.plot_reconstructions(
            x, model.reconstruct(x_tilde), image_shape, corrupted=x_tilde, n=N_SHOWN, path=p))
    else:
        save("reconstructions", lambda p: plotting.plot_reconstructions(
            x, model.reconstruct(x), image_shape, n=N_SHOWN, path=p))
    kind, weights = first_layer_weights(model)
    if kind == "dense":
        save("filters", lambda p: plotting.plot_filters(weights, image_shape, n=MAX_FILTERS,
                                                        path=p))
    elif kind == "conv":
        save("conv_kernels", lambda p: plotting.plot_conv_kernels(weights, path=p))
    codes = model.transform(data.x_test)
    if codes.shape[1] >= 2:
        save("latent_scatter", lambda p: plotting.plot_latent_scatter(
            codes, data.y_test, data.label_names or None, path=p))
    if hasattr(model, "decode"):
        written.update(_vae_figures(model, data, out_dir, seed))
    return written


def first_layer_weights(model):
    """("dense", W (D, H)) or ("conv", kernels (C_out, C_in, k, k)) of the first layer that
    sees the input, or (None, None). A VAE without hidden layers: its μ head."""
    from ..layers import Conv2D, Dense
    for layer in getattr(model.encoder_, "layers", [model.encoder_]):
        if isinstance(layer, Dense):
            return "dense", layer.W.value
        if isinstance(layer, Conv2D):
            return "conv", layer.W.value
    head = getattr(model, "mu_head_", None)
    return ("dense", head.W.value) if head is not None else (None, None)


def informative_dimensions(model, x, n=MAX_TRAVERSED):
    """The (at most) n latent dimensions with the largest mean KL(q(z_j|x) ‖ N(0, 1)) on x,
    most informative first: a collapsed dimension (KL ≈ 0) decodes to the same image."""
    from ..metrics import kl_per_dimension
    kl = kl_per_dimension(model, x)
    return [int(j) for j in np.argsort(-kl, kind="stable")[:n]]


def _vae_figures(model, data, out_dir, seed):
    from .. import plotting
    written = {}
    n_latent, image_shape = model.n_latent_, data.image_shape

    def save(name, make):
        written[name] = os.path.join(out_dir, f"{name}.png")
        make(written[name])

    save("prior_samples", lambda p: plotting.plot_prior_samples(
        model.decode, n_latent, np.random.default_rng(seed), n=64, n_cols=8,
        image_shape=image_shape, dtype=model.dtype_, path=p))
    start = model.encode(data.x_test[:1])[0][0]          # μ of the first test image
    save("latent_traversals", lambda p: plotting.plot_latent_traversals(
        model.decode, start, dims=informative_dimensions(model, data.x_test),
        image_shape=image_shape, path=p))
    if n_latent == 2:
        save("latent_manifold", lambda p: plotting.plot_latent_manifold(
            model.decode, n_latent=2, n=15, image_shape=image_shape, dtype=model.dtype_,
            path=p))
    return written
