"""``npae train [MODEL]``: train one model, then write DIR/model.npz, DIR/metrics.json and
the figures (see ``npae.cli.figures``), and print where they are.

With no options it trains a VAE with a 2-D code on the digits for 50 epochs (seconds).
"""
import json
import os
import shlex
import time

from . import models as recipes
from .evaluate import evaluate_on_test, format_figures
from .figures import FIGURE_NAMES, write_figures
from .options import (fraction, nonnegative_float, nonnegative_int, open_fraction,
                      positive_float, positive_int)


def add_parser(commands, common):
    models = "\n".join(f"  {name:<12} {text}" for name, text in recipes.MODELS.items())
    import argparse
    parser = commands.add_parser(
        "train", parents=[common], help="train a model and write it, its metrics and figures",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train MODEL and write DIR/model.npz, DIR/metrics.json (per-epoch\n"
                    "history, test figures) and the figures as PNGs.\n\nmodels:\n" + models,
        epilog="Options left unset take the model's defaults (npae/cli/models.py); options "
               "that a model does not take are an error.\nExample: npae train sparse --rho "
               "0.1 --epochs 20 --out runs/sparse")
    parser.add_argument("model", metavar="MODEL", nargs="?", default="vae",
                        choices=list(recipes.MODELS), help="which model (default vae)")
    data = parser.add_argument_group("data")
    data.add_argument("--dataset", default="digits", choices=list(recipes.EPOCHS),
                      help="default digits (offline); mnist / fashion-mnist read IDX files "
                           "(--data-dir, $NPAE_DATA, the cache) or download them")
    data.add_argument("--data-dir", metavar="PATH", help="folder holding the IDX files")
    data.add_argument("--no-download", action="store_true",
                      help="never download a missing dataset")
    data.add_argument("--n-train", type=positive_int, metavar="N",
                      help="use only the first N training images")
    data.add_argument("--n-test", type=positive_int, metavar="N",
                      help="use only the first N test images")
    net = parser.add_argument_group("model")
    net.add_argument("--latent", type=positive_int, metavar="D",
                     help="size of the code (vae: 2, beta-vae/conv-vae: 8, conv: 16, else 32)")
    net.add_argument("--hidden", type=positive_int, nargs="*", metavar="H",
                     help="hidden layer sizes between input and code (VAEs: 256; others: "
                          "none); '--hidden' alone: none. Give MODEL before it")
    net.add_argument("--channels", type=positive_int, nargs="+", metavar="C",
                     help="conv models: channels of the stride-2 convolutions (default 16 32); "
                          "give MODEL before it")
    net.add_argument("--activation", choices=("sigmoid", "relu", "leaky_relu", "tanh",
                                              "softplus"),
                     help="after hidden layers (default sigmoid; relu for VAEs and conv)")
    net.add_argument("--loss", choices=("bce", "mse"), default="bce",
                     help="reconstruction loss: bce (default; a Bernoulli decoder for VAEs) "
                          "or mse (a Gaussian decoder with σ = 1 for VAEs)")
    net.add_argument("--beta", type=nonnegative_float, metavar="B",
                     help="VAEs: KL weight (vae 1, beta-vae 2); sparse: penalty weight (3)")
    net.add_argument("--warmup", type=nonnegative_int, metavar="EPOCHS",
                     help="VAEs: ramp the KL weight from 0 to β over this many epochs")
    net.add_argument("--rho", type=open_fraction, help="sparse: target mean activation (0.05)")
    net.add_argument("--k", type=positive_int, help="ksparse: units kept per example (8)")
    net.add_argument("--contractive-weight", type=nonnegative_float, metavar="LAMBDA",
                     help="contractive: weight λ of ‖J‖²_F (0.1)")
    net.add_argument("--corruption", choices=("masking", "gaussian", "salt_and_pepper"),
                     help="denoising, conv: corrupt the input (denoising: masking)")
    net.add_argument("--corruption-level", type=fraction, metavar="NU",
                     help="fraction masked / flipped, or σ of Gaussian noise (0.3)")
    training = parser.add_argument_group("training")
    training.add_argument("--epochs", type=positive_int, metavar="N",
                          help="passes over the training set (digits 50, otherwise 10)")
    training.add_argument("--batch-size", type=positive_int, default=64, metavar="N",
                          help="default 64")
    training.add_argument("--lr", type=positive_float, default=3e-3,
                          help="Adam learning rate (default 3e-3)")
    training.add_argument("--seed", type=int, default=0,
                          help="initial weights, shuffling, noise (default 0)")
    training.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    out = parser.add_argument_group("output")
    out.add_argument("--out", metavar="DIR", help="output folder (default runs/MODEL-DATASET)")
    out.add_argument("--no-figures", action="store_true", help="skip the PNGs")
    out.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args):
    options = {name: value for name, value in vars(args).items()
               if name not in ("run", "command", "debug", "backend", "threads", "argv")}
    try:
        recipes.resolve(options)
    except ValueError as error:
        from . import UsageError
        raise UsageError(f"{error} (see 'npae train --help')") from error
    out_dir = options["out"] = options["out"] or default_out(options)
    data = recipes.load_data(options)
    model = recipes.build_model(options, data)
    os.makedirs(out_dir, exist_ok=True)
    print(f"training {type(model).__name__} ({options['model']}) on {data.name}: "
          f"{len(data.x_train)} train / {len(data.x_test)} test images of "
          f"{'x'.join(map(str, data.image_shape))}, {options['epochs']} "
          f"epoch{'s' if options['epochs'] > 1 else ''}")
    start = time.perf_counter()
    model.fit(data.x_train, validation_data=data.x_test)
    seconds = time.perf_counter() - start
    history = model.history_
    print(f"trained in {seconds:.1f} s; last epoch: " + ", ".join(
        f"{name} {values[-1]:.4g}" for name, values in history.history.items()))
    _remove_previous_run(out_dir)
    written = {"model": model.save(os.path.join(out_dir, "model.npz"))}
    results = evaluate_on_test(model, data, seed=options["seed"])
    print("test figures:\n" + format_figures(results))
    corruption = ((options["corruption"], options["corruption_level"])
                  if options.get("corruption") else None)
    figures = {} if options["no_figures"] else write_figures(
        model, data, history.history, out_dir, seed=options["seed"], corruption=corruption)
    metrics_path = os.path.join(out_dir, "metrics.json")
    _write_json(metrics_path, {
        "command": "npae " + shlex.join(getattr(args, "argv", None) or ["train"]),
        "model": options["model"], "class": type(model).__name__,
        "dataset": {"name": data.name, "n_train": len(data.x_train), "n_test": len(data.x_test),
                    "image_shape": list(data.image_shape), "source": data.source,
                    "note": data.note},
        "options": options, "train_seconds": round(seconds, 3),
        "history": {"epoch": list(history.epoch), **history.history},
        "notes": ["history: val_* are measured on the test split, for monitoring only "
                  "(nothing is selected on it)"] + ([data.note] if data.note else []),
        "test": results, "files": {**written, **figures},
    })
    written["metrics"] = metrics_path
    print(f"wrote {len(written) + len(figures)} files to {out_dir}/:")
    for path in [*written.values(), *figures.values()]:
        print(f"  {path}")
    return 0


def _remove_previous_run(out_dir):
    """Delete what an earlier run wrote to out_dir (only npae's own file names), so no
    figure of another model is left next to this one."""
    for name in ("model.npz", "metrics.json", *(f"{f}.png" for f in FIGURE_NAMES)):
        path = os.path.join(out_dir, name)
        if os.path.isfile(path):
            os.remove(path)


def default_out(options):
    """runs/MODEL-DATASET, relative to the working folder (git ignores runs/)."""
    return os.path.join("runs", f"{options['model']}-{options['dataset']}")


def _write_json(path, content):
    with open(path, "w") as f:
        json.dump(content, f, indent=2)
        f.write("\n")
