"""``npae evaluate DIR`` and ``npae sample DIR``, and the test figures ``npae train`` reports.

Test figures (all on the test split the run was trained next to):

    test_loss, test_<component>   the training objective (mean per example; a denoising
                                  model's input corrupted with a fixed seed)
    reconstruction_error          mean Σ_d (x̂_d − x_d)² on clean input (x̂ at z = μ for a VAE)
    elbo                          VAEs: mean ELBO, nats per example (one sample of z)
    log_likelihood                VAEs: mean IWAE bound L_k (Burda et al. 2016), nats, on the
                                  first ``iwae_examples`` test images
    active_units                  VAEs: dimensions with Var_x(μ_j(x)) > 0.01
    probe_accuracy                a logistic regression on frozen codes (at most
                                  ``PROBE_TRAIN`` training codes), with the chance level
"""
import json
import os

import numpy as np

from . import models as recipes
from .options import positive_int

PROBE_TRAIN = 5000
IWAE_EXAMPLES = 1000


def evaluate_on_test(model, data, k=100, iwae_examples=IWAE_EXAMPLES, seed=0):
    """The test figures above as {name: float or int}."""
    from .. import metrics
    from ..training import evaluate as mean_loss
    x_test = data.x_test
    results = {f"test_{name}": value for name, value in
               mean_loss(model, x_test, 500, np.random.default_rng(seed)).items()}
    results["reconstruction_error"] = metrics.reconstruction_error(model, x_test)
    if hasattr(model, "elbo"):
        rng = np.random.default_rng(seed)
        results["elbo"] = -metrics.negative_elbo(model, x_test, rng=rng)
        subset = x_test[:iwae_examples]
        results["log_likelihood"] = -metrics.iwae_nll(model, subset, k=k, rng=rng)
        results["iwae_k"], results["iwae_examples"] = int(k), len(subset)
        results["active_units"] = metrics.active_units(model, x_test)[0]
        results["n_latent"] = int(model.n_latent_)
    n = min(PROBE_TRAIN, len(data.x_train))
    codes_train = model.transform(data.x_train[:n]).astype(np.float64)
    codes_test = model.transform(x_test).astype(np.float64)
    results["probe_accuracy"] = metrics.linear_probe_accuracy(
        codes_train, data.y_train[:n], codes_test, data.y_test, seed=seed)
    results["probe_chance"] = float(np.bincount(data.y_test).max() / len(data.y_test))
    return results


def format_figures(results):
    """The test figures as aligned lines for the terminal."""
    lines = []
    for name, value in results.items():
        if name.startswith("test_"):
            lines.append((name.replace("_", " "), f"{value:.4g}"))
    lines.append(("reconstruction error (Σ sq.)", f"{results['reconstruction_error']:.4g}"))
    if "elbo" in results:
        lines.append(("ELBO", f"{results['elbo']:.4g} nats"))
        lines.append((f"log-likelihood (IWAE, k={results['iwae_k']})",
                      f"{results['log_likelihood']:.4g} nats  "
                      f"({results['iwae_examples']} test images)"))
        lines.append(("active units", f"{results['active_units']} of {results['n_latent']}"))
    lines.append(("linear-probe accuracy", f"{results['probe_accuracy']:.3f}  "
                                           f"(chance {results['probe_chance']:.3f})"))
    width = max(len(label) for label, _ in lines)
    return "\n".join(f"  {label:<{width}}  {value}" for label, value in lines)


def read_run(directory):
    """(model, metrics dict) of a folder written by ``npae train``."""
    from ..io import load
    from ..errors import ModelFileError
    model_path = os.path.join(directory, "model.npz")
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"{directory} is not a folder (give the --out folder of "
                                "'npae train')")
    if not os.path.isfile(model_path):
        raise FileNotFoundError(f"{directory} holds no model.npz; is it the --out folder of "
                                "'npae train'?")
    recipes.register_all()
    model = load(model_path)
    metrics_path = os.path.join(directory, "metrics.json")
    run = {}
    if os.path.isfile(metrics_path):
        try:
            with open(metrics_path) as f:
                run = json.load(f)
        except json.JSONDecodeError as error:
            raise ModelFileError(f"{metrics_path} is not valid JSON: {error}") from error
    return model, run


# --- npae evaluate ---------------------------------------------------------------------------
def add_evaluate_parser(commands, common):
    parser = commands.add_parser(
        "evaluate", parents=[common], help="test figures of a trained model",
        description="Reload DIR/model.npz and the dataset it was trained on (from "
                    "DIR/metrics.json), and print the test loss, the ELBO and the IWAE "
                    "log-likelihood bound for VAEs, and the linear-probe accuracy of the codes.")
    parser.add_argument("dir", metavar="DIR", help="a folder written by 'npae train'")
    parser.add_argument("-k", "--k", type=positive_int, default=100, dest="iwae_k",
                        help="importance samples of the log-likelihood bound (default 100)")
    parser.add_argument("--iwae-examples", type=positive_int, default=IWAE_EXAMPLES,
                        metavar="N", help=f"test images for the bound (default {IWAE_EXAMPLES})")
    parser.add_argument("--data-dir", metavar="PATH", default=None,
                        help="where the IDX files are, if not where training found them")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.set_defaults(run=run_evaluate)


def run_evaluate(args):
    model, run = read_run(args.dir)
    options = run.get("options")
    if not options:
        raise FileNotFoundError(f"{args.dir} holds no metrics.json naming the dataset the "
                                "model was trained on")
    if args.data_dir is not None:
        options["data_dir"] = args.data_dir
    data = recipes.load_data(options, dtype=model.dtype_)
    results = evaluate_on_test(model, data, k=args.iwae_k, iwae_examples=args.iwae_examples,
                               seed=args.seed)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(f"{type(model).__name__} ({options['model']}) on {data.name}: "
              f"{len(data.x_test)} test images, {os.path.join(args.dir, 'model.npz')}")
        print(format_figures(results))
    return 0


# --- npae sample -----------------------------------------------------------------------------
def add_sample_parser(commands, common):
    parser = commands.add_parser(
        "sample", parents=[common], help="decode draws from a VAE's prior into a PNG",
        description="Draw z ~ N(0, I), decode each to the decoder's mean image, and tile "
                    "them into one PNG. Needs a VAE (the other autoencoders have no prior).")
    parser.add_argument("dir", metavar="DIR", help="a folder written by 'npae train'")
    parser.add_argument("-n", type=positive_int, default=64, help="how many (default 64)")
    parser.add_argument("--cols", type=positive_int, default=8, help="grid width (default 8)")
    parser.add_argument("--out", metavar="PNG", default=None,
                        help="where to write (default DIR/samples.png)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.set_defaults(run=run_sample)


def run_sample(args):
    model, run = read_run(args.dir)
    if not hasattr(model, "sample"):
        raise ValueError(f"{os.path.join(args.dir, 'model.npz')} holds a model of class "
                         f"{type(model).__name__}, which has no prior to sample from; "
                         "sampling needs a VAE (npae train vae)")
    out = args.out or os.path.join(args.dir, "samples.png")
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot write {out}: the folder {folder} does not exist")
    from ..plotting import plot_images
    images = model.sample(args.n, rng=np.random.default_rng(args.seed))
    image_shape = tuple(run.get("dataset", {}).get("image_shape") or ()) or None
    plot_images(images, image_shape, n_cols=args.cols,
                title=f"{args.n} samples from the prior", path=out)
    print(f"wrote {out}")
    return 0
