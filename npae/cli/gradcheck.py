"""``npae gradcheck``: every built-in layer, loss, penalty and model against central
differences (``npae.gradcheck``), in float64, at small fixed sizes with a fixed seed.

Each line of the table is one check: the worst relative error over the input and every
parameter, ‖a − n‖ / max(‖a‖, ‖n‖, floor), and "ok" when it is at most the tolerance
(1e-7). Random draws (corruption masks, the VAE's ε) are drawn once and passed in, so
each loss is a deterministic function of the weights. Inputs stay away from kinks
(ReLU at 0, top-k ties), where finite differences are meaningless.
"""
import time
import warnings

import numpy as np

from .options import positive_float


def add_parser(commands, common):
    parser = commands.add_parser(
        "gradcheck", parents=[common], help="check every built-in gradient numerically",
        description="Check the hand-written backward pass of every built-in layer, loss, "
                    "penalty and model against fourth-order central differences in float64 "
                    "and print a table of relative errors. Exit status 1 if any check fails.")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--tol", type=positive_float, default=None,
                        help="pass line for the relative error (default 1e-7)")
    parser.add_argument("--only", metavar="TEXT", default=None,
                        help="run only the checks whose name contains TEXT (case-insensitive)")
    parser.set_defaults(run=run)


def away_from_zero(x, margin=0.1):
    """Move every value to at least ``margin`` from 0, keeping its sign (ReLU's kink)."""
    return np.where(x >= 0, 1.0, -1.0) * (margin + np.abs(x))


def layer_checks(rng):
    """(name, thunk) pairs; each thunk runs one check and returns a GradcheckResult."""
    from .. import layers as L
    from ..gradcheck import check_layer
    f64 = dict(dtype=np.float64)

    def normal(*shape):
        return rng.standard_normal(shape)

    dense = L.Dense(5, 4, rng=rng, **f64)
    cases = [
        ("Dense", dense, normal(3, 5)),
        ("TiedDense", L.TiedDense(L.Dense(5, 4, rng=rng, **f64)), normal(3, 4)),
        ("Sigmoid", L.Sigmoid(), normal(3, 5)),
        ("Tanh", L.Tanh(), normal(3, 5)),
        ("Softplus", L.Softplus(), normal(3, 5)),
        ("ReLU", L.ReLU(), away_from_zero(normal(3, 5))),
        ("LeakyReLU", L.LeakyReLU(0.1), away_from_zero(normal(3, 5))),
        ("Identity", L.Identity(), normal(3, 5)),
        ("Flatten", L.Flatten(), normal(2, 2, 3, 3)),
        ("Reshape", L.Reshape((2, 3)), normal(3, 6)),
        ("Conv2D", L.Conv2D(2, 3, 3, stride=2, padding=1, rng=rng, **f64), normal(2, 2, 5, 5)),
        ("ConvTranspose2D", L.ConvTranspose2D(2, 3, 3, stride=2, padding=1, output_padding=1,
                                              rng=rng, **f64), normal(2, 2, 3, 3)),
        # overlapping windows (stride < size): the case a scatter-by-assignment gets wrong
        ("MaxPool2D", L.MaxPool2D(3, stride=2), normal(2, 2, 5, 5)),
        ("AvgPool2D", L.AvgPool2D(2), normal(2, 2, 4, 4)),
        ("Upsample2D", L.Upsample2D(2), normal(2, 2, 3, 3)),
    ]
    return [(f"{'layer':<8}{name}", lambda layer=layer, x=x: check_layer(layer, x))
            for name, layer, x in cases]


def loss_checks(rng):
    from .. import losses
    from ..gradcheck import check_loss
    target = rng.random((3, 5))
    probabilities = 0.05 + 0.9 * rng.random((3, 5))
    cases = [
        ("MSE", losses.MSE(), rng.standard_normal((3, 5))),
        ("BCE", losses.BCE(), probabilities),
        ("BCEWithLogits", losses.BCEWithLogits(), rng.standard_normal((3, 5))),
        ("GaussianNLL", losses.GaussianNLL(0.5), rng.standard_normal((3, 5))),
    ]
    return [(f"{'loss':<8}{name}", lambda loss=loss, pred=pred: check_loss(loss, pred, target))
            for name, loss, pred in cases]


def penalty_checks(rng):
    from .. import regularizers as R
    from ..gradcheck import check_function
    h = 0.05 + 0.9 * rng.random((4, 3))            # sigmoid codes, away from 0 and 1
    W = rng.standard_normal((5, 3))

    def check(penalty, grad=lambda p: p.backward(), at=h, value=lambda p, a: p.forward(a)):
        return check_function(lambda a: value(penalty, a),
                              lambda a: (value(penalty, a), grad(penalty))[1], at)

    contractive = R.Contractive()
    return [
        ("penalty SparsityKL", lambda: check(R.SparsityKL(0.1))),
        ("penalty L1Activity", lambda: check(R.L1Activity())),
        ("penalty Contractive (h)", lambda: check(
            contractive, grad=lambda p: p.backward()[0], value=lambda p, a: p.forward(a, W))),
        ("penalty Contractive (W)", lambda: check(
            contractive, grad=lambda p: p.backward()[1], at=W,
            value=lambda p, a: p.forward(h, a))),
    ]


def model_checks(rng):
    from .. import models as M
    from ..gradcheck import check_model
    from ..models.conv import ConvAutoencoder
    from ..models.conv_vae import ConvVAE
    from ..models.vae import VAE
    f64 = dict(dtype="float64", verbose=0, seed=int(rng.integers(2**31)))
    x = 0.05 + 0.9 * rng.random((3, 6))           # data in (0, 1), away from 0
    images = 0.05 + 0.9 * rng.random((2, 1, 6, 6))
    mask = rng.random(x.shape) < 0.3

    def vae(model, data):
        eps = rng.standard_normal((2, len(data), model.n_latent_))      # K = 2 samples
        return lambda: check_model(model, data, eps=eps)

    def ae(model, data=x, **noise):
        return lambda: check_model(model, data, **noise)

    sizes = dict(layer_sizes=[6, 4, 3], activation="tanh")
    return [
        ("model   Autoencoder", ae(M.Autoencoder(**sizes, **f64))),
        ("model   Autoencoder (tied)", ae(M.Autoencoder(**sizes, tied=True, **f64))),
        ("model   DenoisingAutoencoder", ae(M.DenoisingAutoencoder(**sizes, **f64), mask=mask)),
        ("model   SparseAutoencoder (KL)", ae(M.SparseAutoencoder(
            layer_sizes=[6, 4, 3], code_activation="sigmoid", activation="tanh", **f64))),
        ("model   SparseAutoencoder (L1)", ae(M.SparseAutoencoder(
            sparsity="l1", layer_sizes=[6, 4, 3], code_activation="softplus", **f64))),
        ("model   KSparseAutoencoder", ae(_ksparse(M.KSparseAutoencoder, x, f64))),
        ("model   ContractiveAutoencoder", ae(M.ContractiveAutoencoder(layer_sizes=[6, 3],
                                                                      **f64))),
        ("model   ConvAutoencoder", ae(ConvAutoencoder((1, 6, 6), channels=(2,), n_latent=3,
                                                      activation="tanh", **f64), images)),
        ("model   VAE (Bernoulli)", vae(VAE(**sizes, **f64), x)),
        ("model   VAE (β = 4, warm-up)", vae(_stepped(VAE(**sizes, beta=4.0, warmup_steps=10,
                                                         **f64)), x)),
        ("model   VAE (capacity)", vae(VAE(**sizes, capacity=5.0, capacity_steps=10, **f64), x)),
        ("model   VAE (Gaussian, learned σ)", vae(VAE(**sizes, reconstruction_loss="gaussian",
                                                      learn_variance=True, **f64), x)),
        ("model   ConvVAE", vae(ConvVAE((1, 6, 6), channels=(2,), n_latent=2, activation="tanh",
                                       **f64), images)),
    ]


def _stepped(model, step=3):
    model.training_step = step          # inside the warm-up: β_t = β · 3/10
    return model


def _ksparse(cls, x, settings):
    """A k-sparse model whose top-k choice on x has a clear gap (no near-ties): the first
    of a fixed sequence of seeds that gives one, so the check is deterministic."""
    for seed in range(settings["seed"], settings["seed"] + 100):
        model = cls(layer_sizes=[6, 5], k=2, activation="tanh", **{**settings, "seed": seed})
        model.loss(x)
        if model.kink_distance() > 1e-3:
            return model
    return model


def run(args):
    from ..gradcheck import TOLERANCE
    from ..errors import KinkWarning
    tol = args.tol if args.tol is not None else TOLERANCE
    rng = np.random.default_rng(args.seed)
    checks = layer_checks(rng) + loss_checks(rng) + penalty_checks(rng) + model_checks(rng)
    if args.only:
        checks = [(name, check) for name, check in checks if args.only.lower() in name.lower()]
        if not checks:
            raise ValueError(f"no check's name contains {args.only!r}")
    width = max(len(name) for name, _ in checks)
    print(f"{'check':<{width}}  {'worst rel. error':>16}  {'worst at':<14}  result "
          f"(tol {tol:.0e}, float64, seed {args.seed})")
    failed, start = [], time.perf_counter()
    for name, check in checks:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", KinkWarning)
            result = check()
        result.tol = tol
        worst_at = max(result.errors, key=result.errors.get) if result.errors else "-"
        verdict = "ok" if result.passed else "FAIL"
        if any(issubclass(w.category, KinkWarning) for w in caught):
            verdict += " (near a kink)"
        if result.problems:
            verdict += "; " + "; ".join(result.problems)
        print(f"{name:<{width}}  {result.worst:>16.2e}  {worst_at:<14}  {verdict}", flush=True)
        if not result.passed:
            failed.append(name)
    seconds = time.perf_counter() - start
    if failed:
        print(f"{len(failed)} of {len(checks)} checks FAILED ({seconds:.1f} s): "
              f"{', '.join(failed)}")
        return 1
    print(f"all {len(checks)} checks passed ({seconds:.1f} s)")
    return 0
