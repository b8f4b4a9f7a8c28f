"""Time one training step of the convolutional autoencoder (batch 128, float32, Adam).

    python benchmarks/conv_ae.py [--threads 1] [--batch 128] [--rounds 100] [--no-torch]

The net is ``ConvAutoencoder()``'s: 1×28×28 → Conv(1→16, 3, s2) → ReLU → Conv(16→32, 3, s2)
→ ReLU → Dense(1568→32) → Dense(32→1568) → ReLU → ConvT(32→16) → ReLU → ConvT(16→1) → BCE
with logits. One step = zero grads, forward + loss, backward, Adam update.

Prints JSON: the best and median ms per step, and each layer's forward / backward ms
(from a separately instrumented pass). If PyTorch is installed, the same net (same
initial weights, checked by comparing the first loss) is timed in the same process,
in alternating blocks of steps (``common.alternate``), and the ratio npae / torch is reported.
PyTorch is optional and never a dependency of npae.

``--threads`` caps BLAS (via threadpoolctl) and torch alike (default 1). On a machine shared
with other work, spinning BLAS / OpenMP worker threads of two libraries in one process
fight each other and the neighbours, so the single-threaded figures are the stable ones.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from common import alternate, paired_block_ratio  # noqa: E402
from npae.kernels import threads as blas_threads  # noqa: E402
from npae.models.conv import ConvAutoencoder  # noqa: E402
from npae.optim import Adam  # noqa: E402


def npae_step(model, optimizer, x):
    optimizer.zero_grad()
    loss = model.loss(x)
    model.backward()
    optimizer.step()
    return loss


def layer_split(model, x, rounds):
    """Best ms of each layer's forward and backward over ``rounds`` instrumented steps."""
    layers = [("encoder", i, layer) for i, layer in enumerate(model.encoder_.layers)]
    layers += [("decoder", i, layer) for i, layer in enumerate(model.decoder_.layers)]
    best = {}

    def timed(key, fn, arg):
        start = time.perf_counter()
        out = fn(arg)
        best[key] = min(best.get(key, float("inf")), time.perf_counter() - start)
        return out

    for _ in range(rounds):
        h = x
        for part, i, layer in layers:
            h = timed((part, i, "forward"), layer.forward, h)
        timed(("loss", 0, "forward"), lambda pred: model.reconstruction_loss_.forward(pred, x), h)
        g = timed(("loss", 0, "backward"), lambda _: model.reconstruction_loss_.backward(), None)
        for part, i, layer in reversed(layers):
            g = timed((part, i, "backward"), layer.backward, g)
    rows = []
    for part, i, layer in layers + [("loss", 0, model.reconstruction_loss_)]:
        rows.append({"layer": f"{part}.{i} {layer!r}",
                     "forward_ms": round(1e3 * best[(part, i, "forward")], 3),
                     "backward_ms": round(1e3 * best[(part, i, "backward")], 3)})
    return rows


def step_flops(model, x):
    """Matmul FLOPs of one training step: each Dense/conv layer's forward product, its
    weight-gradient product, and its input-gradient product (skipped for the first layer,
    whose input is the data). A convolution's product has 2·N·H_out·W_out·C_out·C_in·k_h·k_w
    flops; a transposed convolution's, the same with its input's H·W."""
    from npae.layers import Conv2D, ConvTranspose2D, Dense
    total, h, first = 0, x, True
    for layer in model.encoder_.layers + model.decoder_.layers:
        y = layer.forward(h)
        kh, kw = getattr(layer, "kernel_size", (1, 1))
        if isinstance(layer, Dense):
            product = 2 * len(h) * layer.in_features * layer.out_features
        elif isinstance(layer, Conv2D):
            product = 2 * y.shape[0] * y.shape[2] * y.shape[3] * layer.out_channels * layer.in_channels * kh * kw
        elif isinstance(layer, ConvTranspose2D):
            product = 2 * h.shape[0] * h.shape[2] * h.shape[3] * layer.out_channels * layer.in_channels * kh * kw
        else:
            product = 0
        if product:
            total += product * (2 if first else 3)
            first = False
        h = y
    return total


def torch_twin(model):
    """The same net in PyTorch, with npae's initial weights copied in."""
    import torch
    from torch import nn
    from npae.layers import Conv2D, ConvTranspose2D, Dense, Flatten, Reshape, ReLU
    modules = []
    for layer in model.encoder_.layers + model.decoder_.layers:
        if isinstance(layer, Conv2D):
            m = nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride,
                          layer.padding)
        elif isinstance(layer, ConvTranspose2D):
            m = nn.ConvTranspose2d(layer.in_channels, layer.out_channels, layer.kernel_size,
                                   layer.stride, layer.padding, layer.output_padding)
        elif isinstance(layer, Dense):
            m = nn.Linear(layer.in_features, layer.out_features)
        elif isinstance(layer, ReLU):
            m = nn.ReLU()
        elif isinstance(layer, Flatten):
            m = nn.Flatten()
        elif isinstance(layer, Reshape):
            m = nn.Unflatten(1, layer.shape)
        else:
            raise TypeError(f"no torch twin for {layer!r}")
        if hasattr(layer, "W"):
            weight = layer.W.value.T if isinstance(layer, Dense) else layer.W.value
            with torch.no_grad():
                m.weight.copy_(torch.from_numpy(np.ascontiguousarray(weight)))
                m.bias.copy_(torch.from_numpy(layer.b.value))
        modules.append(m)
    net = nn.Sequential(*modules)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    bce = nn.BCEWithLogitsLoss(reduction="sum")

    def step(x):
        optimizer.zero_grad()
        loss = bce(net(x), x) / len(x)          # npae's reduction: sum over pixels, mean over batch
        loss.backward()
        optimizer.step()
        return loss.item()
    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads and torch threads")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=args.threads, user_api="blas"):
        print(json.dumps(run(args), indent=2))


def run(args):
    rng = np.random.default_rng(0)
    x = rng.random((args.batch, 1, 28, 28)).astype(np.float32)
    model = ConvAutoencoder(seed=0)
    optimizer = Adam(model.parameters(), lr=1e-3)
    result = {"benchmark": "conv_ae", "batch": args.batch, "dtype": "float32",
              "threads": args.threads,
              "parameters": int(sum(p.size for p in model.parameters()))}

    torch_step = None
    if not args.no_torch:
        try:
            import torch
            torch.set_num_threads(args.threads)
            torch_step = torch_twin(model)
            x_torch = torch.from_numpy(x)
            result["torch"] = {"version": torch.__version__, "threads": torch.get_num_threads()}
        except ImportError:
            result["torch"] = "not installed"
    if torch_step is not None:   # same net, same weights: the first losses agree
        first = model.loss(x)
        result["torch"]["first_loss"] = {"npae": round(first, 4), "torch": round(torch_step(x_torch), 4)}

    steps = {"npae": lambda: npae_step(model, optimizer, x)}
    if torch_step is not None:
        steps["torch"] = lambda: torch_step(x_torch)
    # warm-up: JIT compilation, allocator, Adam state; then alternating blocks (common.py)
    times = alternate(steps, warmup=3, rounds=args.rounds, block=10)

    def summary(ts):
        return {"best_ms": round(1e3 * min(ts), 3), "median_ms": round(1e3 * float(np.median(ts)), 3)}

    result["step"] = summary(times["npae"])
    if torch_step is not None:
        result["torch"]["step"] = summary(times["torch"])
        result["ratio_npae_over_torch"] = {
            key: round(result["step"][key] / result["torch"]["step"][key], 2)
            for key in ("best_ms", "median_ms")}
        result["ratio_paired_blocks"] = paired_block_ratio(times["npae"], times["torch"], block=10)
    from common import sgemm_gflops
    flops = step_flops(model, x)
    rate = sgemm_gflops()
    result.update({"matmul_gflop": round(flops / 1e9, 4), "sgemm_gflops": round(rate, 1),
                   "sgemm_floor_ms": round(1e3 * flops / (rate * 1e9), 3)})
    result["floor_fraction"] = round(result["sgemm_floor_ms"] / result["step"]["median_ms"], 3)
    rows = layer_split(model, x, args.rounds)
    result["layers"] = rows
    result["blas_pool"] = blas_threads.status()     # element-wise jobs on BLAS's threads
    result["layers_total_ms"] = {
        "forward": round(sum(r["forward_ms"] for r in rows), 3),
        "backward": round(sum(r["backward_ms"] for r in rows), 3)}
    return result


if __name__ == "__main__":
    main()
