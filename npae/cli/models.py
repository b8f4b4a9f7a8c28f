"""What ``npae train MODEL`` builds: the model names, their defaults, the data they take.

Each name maps to one npae class with a few arguments filled in; the CLI adds nothing the
Python API lacks, so ``npae train sparse --rho 0.1`` is
``SparseAutoencoder(layer_sizes=[64, 32], rho=0.1, ...)`` and ``npae train conv`` is
``ConvAutoencoder(input_shape=(1, 8, 8), ...)`` fed images of shape (N, 1, 8, 8).
"""
import numpy as np

MODELS = {
    "ae": "autoencoder (Autoencoder)",
    "tied": "autoencoder with tied weights, decoder W' = Wᵀ (Autoencoder(tied=True))",
    "denoising": "denoising autoencoder, trained on corrupted input (DenoisingAutoencoder)",
    "sparse": "sparse autoencoder, KL penalty towards a mean activation ρ (SparseAutoencoder)",
    "ksparse": "k-sparse autoencoder, only the k largest code units kept (KSparseAutoencoder)",
    "contractive": "contractive autoencoder, penalty ‖J_f(x)‖²_F (ContractiveAutoencoder)",
    "conv": "convolutional autoencoder, strided conv / transposed conv (ConvAutoencoder)",
    "vae": "variational autoencoder (VAE)",
    "beta-vae": "β-VAE: a VAE with β > 1 on the KL term (VAE(beta=2))",
    "conv-vae": "convolutional VAE (ConvVAE)",
}
VAES = {"vae", "beta-vae", "conv-vae"}
CONV = {"conv", "conv-vae"}
DENSE = set(MODELS) - CONV

#: per-model defaults of the options left unset on the command line
DEFAULTS = {
    "ae": dict(latent=32, hidden=[], activation="sigmoid"),
    "tied": dict(latent=32, hidden=[], activation="sigmoid"),
    "denoising": dict(latent=32, hidden=[], activation="sigmoid", corruption="masking",
                      corruption_level=0.3),
    "sparse": dict(latent=32, hidden=[], activation="sigmoid", beta=3.0, rho=0.05),
    "ksparse": dict(latent=32, hidden=[], activation="sigmoid", k=8),
    "contractive": dict(latent=32, hidden=[], activation="sigmoid", contractive_weight=0.1),
    "conv": dict(latent=16, channels=[16, 32], activation="relu", corruption=None,
                 corruption_level=0.3),
    "vae": dict(latent=2, hidden=[256], activation="relu", beta=1.0, warmup=0),
    # β = 2: on the 8×8 digits Higgins et al.'s β = 4 collapses every dimension (KL ≈ 0.02 nats)
    "beta-vae": dict(latent=8, hidden=[256], activation="relu", beta=2.0, warmup=0),
    "conv-vae": dict(latent=8, channels=[16, 32], activation="relu", beta=1.0, warmup=0),
}
#: options that only some models take (anything else would be silently ignored)
APPLIES_TO = {
    "hidden": DENSE, "channels": CONV, "beta": VAES | {"sparse"}, "rho": {"sparse"},
    "k": {"ksparse"}, "contractive_weight": {"contractive"}, "warmup": VAES,
    "corruption": {"denoising", "conv"}, "corruption_level": {"denoising", "conv"},
}
EPOCHS = {"digits": 50, "shapes": 10, "mnist": 10, "fashion-mnist": 10}
FLAGS = {"contractive_weight": "--contractive-weight", "corruption_level": "--corruption-level"}


def flag(name):
    return FLAGS.get(name, "--" + name.replace("_", "-"))


def resolve(options):
    """Fill the options left unset (None) from the model's and dataset's defaults, in place.

    Raises ValueError (a usage error) for an option the model does not take, or values
    that do not fit together (k larger than the code, a deep contractive encoder).
    """
    model = options["model"]
    for name, models in APPLIES_TO.items():
        if options.get(name) is not None and model not in models:
            raise ValueError(f"{flag(name)} does not apply to {model!r} (it applies to "
                             f"{', '.join(sorted(models))})")
    for name, value in DEFAULTS[model].items():
        if options.get(name) is None:
            options[name] = value
    if options.get("epochs") is None:
        options["epochs"] = EPOCHS[options["dataset"]]
    if model == "ksparse" and options["k"] > options["latent"]:
        raise ValueError(f"--k {options['k']} is larger than the code (--latent "
                         f"{options['latent']}); k-sparse keeps k of the latent units")
    if model == "contractive" and options["hidden"]:
        raise ValueError("the contractive penalty's closed form needs a one-layer sigmoid "
                         "encoder: drop --hidden")
    if model in ("contractive", "sparse") and options["activation"] != "sigmoid":
        raise ValueError(f"{model!r} needs sigmoid codes (its penalty is written for them): "
                         "drop --activation or use --activation sigmoid")
    if options["dataset"] in ("digits", "shapes") and options.get("data_dir") is not None:
        raise ValueError(f"--data-dir is for mnist / fashion-mnist; {options['dataset']!r} "
                         "needs no files")
    return options


def load_data(options, dtype=None):
    """The dataset named in ``options``, in the layout the model takes (images for conv)."""
    from .. import datasets
    try:
        return datasets.load(options["dataset"], dtype=np.dtype(dtype or options["dtype"]),
                             flat=options["model"] not in CONV, seed=options["seed"],
                             n_train=options.get("n_train"), n_test=options.get("n_test"),
                             path=options.get("data_dir"),
                             download=not options.get("no_download", False))
    except FileNotFoundError as error:    # its advice names the Python argument path=
        raise FileNotFoundError(f"{error} On the command line: --data-dir PATH.") from error


def build_model(options, data):
    """The npae model ``options`` describe, sized for ``data``."""
    from ..models import (Autoencoder, ContractiveAutoencoder, DenoisingAutoencoder,
                          KSparseAutoencoder, SparseAutoencoder)
    o, model = options, options["model"]
    common = dict(seed=o["seed"], dtype=o["dtype"], learning_rate=o["lr"],
                  batch_size=o["batch_size"], epochs=o["epochs"], verbose=int(not o["quiet"]),
                  activation=o["activation"])
    if model in VAES:
        return _build_vae(o, data, common)
    common["reconstruction_loss"] = o["loss"]
    if model == "conv":
        from ..models.conv import ConvAutoencoder
        return ConvAutoencoder(input_shape=data.image_shape, channels=o["channels"],
                               n_latent=o["latent"], corruption=o["corruption"],
                               corruption_level=o["corruption_level"], **common)
    common["layer_sizes"] = [data.n_features, *o["hidden"], o["latent"]]
    if model in ("ae", "tied"):
        return Autoencoder(tied=model == "tied", **common)
    if model == "denoising":
        return DenoisingAutoencoder(corruption=o["corruption"],
                                    corruption_level=o["corruption_level"], **common)
    if model == "sparse":
        return SparseAutoencoder(rho=o["rho"], beta=o["beta"], **common)
    if model == "ksparse":
        return KSparseAutoencoder(k=o["k"], **common)
    return ContractiveAutoencoder(contractive_weight=o["contractive_weight"], **common)


def _build_vae(o, data, common):
    from ..models.vae import VAE
    likelihood = "bce" if o["loss"] == "bce" else "gaussian"
    settings = dict(reconstruction_loss=likelihood, beta=o["beta"], n_latent=o["latent"],
                    warmup_epochs=o["warmup"] or None, **common)
    if o["model"] == "conv-vae":
        from ..models.conv_vae import ConvVAE
        return ConvVAE(input_shape=data.image_shape, channels=o["channels"], **settings)
    del settings["n_latent"]       # layer_sizes gives it
    return VAE(layer_sizes=[data.n_features, *o["hidden"], o["latent"]], **settings)


def register_all():
    """Import every model module, so ``npae.load`` knows every class a run may have saved."""
    from ..models import conv, conv_vae, vae  # noqa: F401
