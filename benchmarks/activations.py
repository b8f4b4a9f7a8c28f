"""The classic autoencoders' activations in float32: each layer's forward + backward on a
(128, 512) batch, and a training step of the default sigmoid ``Autoencoder`` — npae vs
PyTorch CPU (same network, weights, batch and objective), alternating in one process.

    python benchmarks/activations.py [--rounds 300] [--threads 2] [--no-torch]

Prints one JSON line: per activation, npae's and torch's medians in µs and ns per element,
and the same for NumPy's plain expression of the forward (what a student would write);
then the Autoencoder step (784-256-32, sigmoid, BCE on logits, Adam, batch 64) in ms.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from common import alternate, main, paired_block_ratio, summary  # noqa: E402

import npae  # noqa: E402
from npae.models.autoencoder import Autoencoder  # noqa: E402

SHAPE = (128, 512)
NUMPY_FORWARD = {"Sigmoid": lambda x: 1 / (1 + np.exp(-x)), "Tanh": np.tanh,
                 "Softplus": lambda x: np.logaddexp(x, np.float32(0)), "ReLU": lambda x: np.maximum(x, 0)}


def activation_steps(name, x, dy):
    layer = getattr(npae, name)()

    def npae_step():
        layer.forward(x)
        layer.backward(dy)

    def numpy_step():
        NUMPY_FORWARD[name](x)
    return {"npae": npae_step, "numpy forward": numpy_step}


def torch_activation_step(name, x, dy):
    import torch
    function = {"Sigmoid": torch.sigmoid, "Tanh": torch.tanh,
                "Softplus": torch.nn.functional.softplus, "ReLU": torch.relu}[name]
    xt, dyt = torch.from_numpy(x).requires_grad_(), torch.from_numpy(dy)

    def step():
        xt.grad = None
        function(xt).backward(dyt)
    return step


def autoencoder_steps(x, with_torch):
    model = Autoencoder(layer_sizes=[784, 256, 32], activation="sigmoid", seed=0, verbose=0)
    optimizer = npae.Adam(model.parameters(), lr=1e-3)

    def npae_step():
        optimizer.zero_grad()
        model.loss(x)
        model.backward()
        optimizer.step()
    steps = {"npae": npae_step}
    if with_torch:
        steps["torch"] = torch_autoencoder_step(model, x)
    return steps


def torch_autoencoder_step(model, x):
    """The same network in PyTorch, npae's initial weights copied in, the same loss."""
    import torch
    from torch import nn

    def copy(seq):
        modules = []
        for layer in seq.layers:
            if isinstance(layer, npae.Dense):
                linear = nn.Linear(layer.in_features, layer.out_features)
                with torch.no_grad():
                    linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(layer.W.value.T)))
                    linear.bias.copy_(torch.from_numpy(layer.b.value))
                modules.append(linear)
            else:
                modules.append(nn.Sigmoid())
        return nn.Sequential(*modules)

    network = nn.Sequential(copy(model.encoder_), copy(model.decoder_))
    optimizer = torch.optim.Adam(network.parameters(), lr=1e-3)
    bce = nn.BCEWithLogitsLoss(reduction="sum")
    xt = torch.from_numpy(x)

    def step():
        optimizer.zero_grad()
        (bce(network(xt), xt) / len(xt)).backward()
        optimizer.step()
    return step


def run(args):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(SHAPE, dtype=np.float32) * 3
    dy = rng.standard_normal(SHAPE, dtype=np.float32)
    with_torch = not args.no_torch
    result = {"benchmark": "activations", "dtype": "float32", "shape": list(SHAPE), "threads": args.threads,
              "backend": npae.get_backend()}
    if with_torch:
        try:
            import torch
            torch.set_num_threads(args.threads)
            result["torch_version"] = torch.__version__
        except ImportError:
            with_torch, result["torch_version"] = False, "not installed"
    layers = {}
    for name in NUMPY_FORWARD:
        steps = activation_steps(name, x, dy)
        if with_torch:
            steps["torch"] = torch_activation_step(name, x, dy)
        times = alternate(steps, 20, args.rounds, block=50, settle=0.05)
        entry = {}
        for who, t in times.items():
            us = 1e6 * float(np.median(t))
            entry[who] = {"median_us": round(us, 1), "ns_per_element": round(1e3 * us / x.size, 3)}
        if with_torch:
            entry["ratio_npae_over_torch"] = round(entry["npae"]["median_us"] / entry["torch"]["median_us"], 3)
        layers[name + " forward+backward (numpy: forward only)"] = entry
    result["layers"] = layers
    batch = rng.random((64, 784), dtype=np.float32)
    times = alternate(autoencoder_steps(batch, with_torch), 20, args.rounds)
    step = {"network": "Autoencoder 784-256-32, sigmoid, BCE on logits, Adam, batch 64",
            "npae": summary(times["npae"])}
    if with_torch:
        step["torch"] = summary(times["torch"])
        step["ratio_npae_over_torch"] = round(step["npae"]["median_ms"] / step["torch"]["median_ms"], 3)
        step["ratio_paired_blocks"] = paired_block_ratio(times["npae"], times["torch"], block=25)
    result["autoencoder_step"] = step
    return result


if __name__ == "__main__":
    main(run, __doc__, rounds=300)
