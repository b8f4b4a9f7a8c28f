"""W1: one training step of the dense VAE 784-512-256-32 (ReLU, Bernoulli decoder), batch 128,
float32, Adam — npae vs PyTorch CPU on the same network, in the same process.

    python benchmarks/dense_vae_step.py [--rounds 200] [--threads 2] [--no-torch]

One step = zero grads, forward (encode, reparameterize, decode), loss (BCE with logits summed
over pixels + KL, mean over the batch), backward, Adam. Data: Fashion-MNIST training images
when installed (Debian's dataset-fashion-mnist), otherwise uniform [0, 1] noise. Prints one
JSON line: median/best/p90 ms per step over ``--rounds`` alternating steps after warm-up, the
step's matmul FLOPs, the machine's measured sgemm rate in the same run, the fraction of that
sgemm-bound floor the step reaches, the per-layer split of npae's step (medians from a separately
instrumented run), and npae / torch.
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from common import alternate, dense_flops, main, paired_block_ratio, sgemm_gflops, summary  # noqa: E402

import npae  # noqa: E402
from npae.models.vae import VAE  # noqa: E402

SIZES = [784, 512, 256, 32]


def load_batches(batch, n_batches, rng):
    try:
        data = npae.datasets.load("fashion-mnist", download=False).x_train
        source = "fashion-mnist"
    except Exception:  # noqa: BLE001 - absent dataset: fall back to noise, say so
        data = rng.random((batch * n_batches, 784), dtype=np.float32)
        source = "uniform noise (fashion-mnist not installed)"
    order = rng.permutation(len(data))[:batch * n_batches]
    return [np.ascontiguousarray(data[order[i * batch:(i + 1) * batch]]) for i in range(n_batches)], source


def npae_stepper(batches, seed):
    model = VAE(layer_sizes=SIZES, activation="relu", reconstruction_loss="bce",
                                seed=seed, verbose=0)
    optimizer = npae.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(seed)
    state = {"i": 0}

    def step():
        x = batches[state["i"] % len(batches)]
        state["i"] += 1
        optimizer.zero_grad()
        model.loss(x, rng=rng)
        model.backward()
        optimizer.step()
    return model, step


def torch_stepper(model, batches):
    """The same network in PyTorch (npae's initial weights copied in), same objective."""
    import torch
    from torch import nn

    def linear(dense):
        m = nn.Linear(dense.in_features, dense.out_features)
        with torch.no_grad():
            m.weight.copy_(torch.from_numpy(np.ascontiguousarray(dense.W.value.T)))
            m.bias.copy_(torch.from_numpy(dense.b.value))
        return m

    def stack(seq):
        return nn.Sequential(*[linear(layer) if isinstance(layer, npae.Dense) else nn.ReLU()
                               for layer in seq.layers])

    body, decoder = stack(model.encoder_), stack(model.decoder_)
    mu_head, log_var_head = linear(model.mu_head_), linear(model.log_var_head_)
    params = [p for m in (body, decoder, mu_head, log_var_head) for p in m.parameters()]
    optimizer = torch.optim.Adam(params, lr=1e-3)
    bce = nn.BCEWithLogitsLoss(reduction="sum")
    tensors = [torch.from_numpy(b) for b in batches]
    state = {"i": 0}

    def step():
        x = tensors[state["i"] % len(tensors)]
        state["i"] += 1
        optimizer.zero_grad()
        h = body(x)
        mu, log_var = mu_head(h), log_var_head(h)
        z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)
        reconstruction = bce(decoder(z), x) / len(x)
        kl = -0.5 * torch.sum(1 + log_var - mu * mu - torch.exp(log_var)) / len(x)
        (reconstruction + kl).backward()
        optimizer.step()
    return step


def part_split(model, batches, rounds):
    """Median ms of every part of npae's step, from a separately instrumented run: each
    layer's forward and backward, the likelihood loss, the VAE's own glue (sampling ε,
    reparameterization, KL, checks: the model's loss/backward minus its layers), Adam."""
    optimizer = npae.Adam(model.parameters(), lr=1e-3)
    times = {}

    def instrument(obj, method, name):
        original = getattr(obj, method)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            out = original(*args, **kwargs)
            times.setdefault(name, []).append(time.perf_counter() - start)
            return out
        setattr(obj, method, timed)

    layers = [(f"encoder.{i} {layer!r}", layer) for i, layer in enumerate(model.encoder_.layers)]
    layers += [(f"mu head {model.mu_head_!r}", model.mu_head_),
               (f"log_var head {model.log_var_head_!r}", model.log_var_head_)]
    layers += [(f"decoder.{i} {layer!r}", layer) for i, layer in enumerate(model.decoder_.layers)]
    for name, layer in layers:
        instrument(layer, "forward", f"{name} forward")
        instrument(layer, "backward", f"{name} backward")
    instrument(model.reconstruction_loss_, "forward", "loss (BCE with logits) forward")
    instrument(model, "loss", "model.loss")
    instrument(model, "backward", "model.backward")
    instrument(optimizer, "zero_grad", "zero_grad")
    instrument(optimizer, "step", "adam")
    for i in range(rounds):
        optimizer.zero_grad()
        model.loss(batches[i % len(batches)])
        model.backward()
        optimizer.step()
    median = {name: 1e3 * float(np.median(t)) for name, t in times.items()}
    parts = {name: ms for name, ms in median.items() if not name.startswith("model.")}
    forward_parts = sum(ms for name, ms in parts.items() if name.endswith("forward"))
    backward_parts = sum(ms for name, ms in parts.items() if name.endswith("backward"))
    parts["VAE glue in loss (sampling, reparameterization, KL, checks)"] = median["model.loss"] - forward_parts
    parts["VAE glue in backward"] = median["model.backward"] - backward_parts
    for obj in [layer for _, layer in layers] + [model.reconstruction_loss_, model]:
        for method in ("forward", "backward", "loss"):   # drop the wrappers (instance attributes)
            obj.__dict__.pop(method, None)
    return {name: round(ms, 3) for name, ms in parts.items()}


def run(args):
    rng = np.random.default_rng(0)
    batches, source = load_batches(args.batch, 50, rng)
    model, npae_step = npae_stepper(batches, seed=0)
    steps = {"npae": npae_step}
    result = {"benchmark": "dense_vae_step", "network": "784-512-256-32 ReLU VAE, Bernoulli",
              "batch": args.batch, "dtype": "float32", "data": source, "threads": args.threads,
              "backend": npae.get_backend()}
    if not args.no_torch:
        try:
            import torch
            torch.set_num_threads(args.threads)
            steps["torch"] = torch_stepper(model, batches)
            result["torch_version"] = torch.__version__
        except ImportError:
            result["torch_version"] = "not installed"
    times = alternate(steps, args.warmup, args.rounds)
    pairs = list(zip(SIZES[:-1], SIZES[1:])) + [(SIZES[-2], SIZES[-1])]      # body + 2 heads
    pairs += list(zip(SIZES[::-1][:-1], SIZES[::-1][1:]))                    # decoder
    flops = dense_flops((pairs, args.batch))
    rate = sgemm_gflops()
    result.update({"rounds": args.rounds, "npae": summary(times["npae"]), "matmul_gflop": round(flops / 1e9, 4),
                   "sgemm_gflops": round(rate, 1), "sgemm_floor_ms": round(1e3 * flops / (rate * 1e9), 3)})
    result["floor_fraction"] = round(result["sgemm_floor_ms"] / result["npae"]["median_ms"], 3)
    if "torch" in times:
        result["torch"] = summary(times["torch"])
        result["ratio_npae_over_torch"] = round(result["npae"]["median_ms"] / result["torch"]["median_ms"], 3)
        result["ratio_paired_blocks"] = paired_block_ratio(times["npae"], times["torch"], block=25)
        result["target_ratio"] = 0.67
    result["npae_parts_median_ms"] = part_split(model, batches, 100)
    result["blas_pool"] = npae.kernels.threads.status()     # element-wise jobs on BLAS's threads
    return result


if __name__ == "__main__":
    main(run, __doc__, rounds=200, batch=(int, 128), warmup=(int, 20))
