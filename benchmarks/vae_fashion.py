"""Learning quality of the VAE on Fashion-MNIST, against an autograd reference.

    python benchmarks/vae_fashion.py [--epochs 10] [--k 500] [--n-ll 2000] [--no-torch] [--quick]

Setting (both frameworks): 784-512-256-32 ReLU MLP VAE (heads μ and log σ² on the 256 layer,
mirrored decoder 32-256-512-784 with a linear output), Bernoulli decoder on pixel intensities
in [0, 1] (BCE with logits), −ELBO = reconstruction + KL, one ε per example, Adam lr 1e-3
(β1 0.9, β2 0.999, ε 1e-8), batch 128, shuffled every epoch, float32, 60,000 training images.
The torch model starts from npae's initial weights, so the two runs differ only in the
arithmetic, the shuffling order and the ε draws.

Prints JSON: for npae, and for torch when it is importable (never an npae dependency):
training seconds, per-epoch training loss, the test −ELBO (10,000 images, one ε draw each)
and the k-sample IWAE estimate of −log p(x) on the first ``n_ll`` test images, all in nats.
The torch run is evaluated twice: by its own code, and by npae's after copying its weights
into an npae VAE (the two evaluations must agree, which checks npae's bound code too).

Needs Fashion-MNIST's IDX files: ``apt-get install dataset-fashion-mnist`` puts them under
/usr/share/datasets/fashion-mnist/, where ``npae.datasets.load`` finds them.
"""
import argparse
import json
import math
import time

import numpy as np

import npae.datasets
from npae import metrics
from npae.models.vae import VAE

SIZES = [784, 512, 256, 32]


def load(quick):
    data = npae.datasets.load("fashion-mnist", download=False, progress=False)
    if quick:   # a smoke run of the script itself, not a benchmark
        return data.x_train[:3000], data.x_test[:1000]
    return data.x_train, data.x_test


def run_npae(x_train, x_test, args):
    vae = VAE(layer_sizes=SIZES, activation="relu", reconstruction_loss="bce", batch_size=128,
              learning_rate=1e-3, seed=args.seed, verbose=0)
    initial = {name: p.value.copy() for name, p in vae.named_parameters()}
    start = time.perf_counter()
    vae.fit(x_train, epochs=args.epochs, seed=args.seed)
    seconds = time.perf_counter() - start
    return vae, initial, dict(
        train_seconds=round(seconds, 1),
        train_loss_per_epoch=[round(v, 2) for v in vae.history_["loss"]],
        test_negative_elbo=round(metrics.negative_elbo(vae, x_test, rng=1), 2),
        **{f"test_nll_iwae_k{args.k}_first{args.n_ll}":
           round(metrics.iwae_nll(vae, x_test[:args.n_ll], k=args.k, rng=2, batch_size=100), 2)})


# --- the torch reference ---------------------------------------------------------------------
def torch_modules(torch, initial):
    """The same network in torch, loaded with npae's initial weights (npae's Dense is x W + b,
    torch's Linear is x Wᵀ + b: the weights are transposed)."""
    nn = torch.nn

    def linear(prefix):
        W, b = initial[f"{prefix}.W"], initial[f"{prefix}.b"]
        layer = nn.Linear(*W.shape)
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(W.T.copy()))
            layer.bias.copy_(torch.from_numpy(b))
        return layer

    encoder = nn.Sequential(linear("encoder.0"), nn.ReLU(), linear("encoder.2"), nn.ReLU())
    decoder = nn.Sequential(linear("decoder.0"), nn.ReLU(), linear("decoder.2"), nn.ReLU(),
                            linear("decoder.4"))
    return nn.ModuleDict(dict(encoder=encoder, mu=linear("mu"), log_var=linear("log_var"),
                              decoder=decoder))


def torch_terms(torch, net, x, k=1):
    """Per-example (log p(x|z), log p(z), log q(z|x)) for k samples, and the KL: shapes (k, N)."""
    h = net["encoder"](x)
    mu, log_var = net["mu"](h), net["log_var"](h)
    eps = torch.randn((k,) + mu.shape)
    z = mu + torch.exp(0.5 * log_var) * eps
    logits = net["decoder"](z)
    log_px = -torch.nn.functional.binary_cross_entropy_with_logits(
        logits, x.expand_as(logits), reduction="none").sum(-1)
    log_2pi = math.log(2 * math.pi)
    log_pz = -0.5 * (log_2pi + z ** 2).sum(-1)
    log_qz = -0.5 * (log_2pi + log_var + eps ** 2).sum(-1)
    kl = -0.5 * (1 + log_var - mu ** 2 - torch.exp(log_var)).sum(-1)
    return log_px, log_pz, log_qz, kl


def run_torch(x_train, x_test, initial, args):
    import torch
    torch.manual_seed(args.seed)
    net = torch_modules(torch, initial)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    x_train_t, x_test_t = torch.from_numpy(x_train), torch.from_numpy(x_test)
    losses = []
    start = time.perf_counter()
    for _ in range(args.epochs):
        order, total = torch.randperm(len(x_train_t)), 0.0
        for first in range(0, len(order), 128):
            xb = x_train_t[order[first:first + 128]]
            log_px, _, _, kl = torch_terms(torch, net, xb)
            loss = (-log_px[0] + kl).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(xb)
        losses.append(total / len(x_train_t))
    seconds = time.perf_counter() - start
    with torch.no_grad():
        elbo = torch.cat([(lambda t: t[0][0] - t[3])(torch_terms(torch, net, x_test_t[i:i + 1000]))
                          for i in range(0, len(x_test_t), 1000)])
        bounds = []
        for i in range(0, args.n_ll, 10):   # 10 images x k samples at a time
            log_px, log_pz, log_qz, _ = torch_terms(torch, net, x_test_t[i:min(i + 10, args.n_ll)], args.k)
            log_w = (log_px + log_pz - log_qz).double()
            bounds.append(torch.logsumexp(log_w, dim=0) - math.log(args.k))
        nll = -float(torch.cat(bounds).mean())
    result = dict(train_seconds=round(seconds, 1), train_loss_per_epoch=[round(v, 2) for v in losses],
                  test_negative_elbo=round(-float(elbo.mean()), 2),
                  **{f"test_nll_iwae_k{args.k}_first{args.n_ll}": round(nll, 2)})
    # the same trained weights, evaluated by npae's code
    trained = {}
    for name, module in [("encoder.0", net["encoder"][0]), ("encoder.2", net["encoder"][2]),
                         ("mu", net["mu"]), ("log_var", net["log_var"]),
                         ("decoder.0", net["decoder"][0]), ("decoder.2", net["decoder"][2]),
                         ("decoder.4", net["decoder"][4])]:
        trained[f"{name}.W"] = module.weight.detach().numpy().T
        trained[f"{name}.b"] = module.bias.detach().numpy()
    vae = VAE(layer_sizes=SIZES, activation="relu", reconstruction_loss="bce", verbose=0)
    for name, p in vae.named_parameters():
        np.copyto(p.value, trained[name])
    result["evaluated_by_npae"] = dict(
        test_negative_elbo=round(metrics.negative_elbo(vae, x_test, rng=1), 2),
        **{f"test_nll_iwae_k{args.k}_first{args.n_ll}":
           round(metrics.iwae_nll(vae, x_test[:args.n_ll], k=args.k, rng=2, batch_size=100), 2)})
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--k", type=int, default=500, help="importance samples for log p(x)")
    parser.add_argument("--n-ll", type=int, default=2000, help="test images for the k-sample bound")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--quick", action="store_true", help="3,000/1,000 images: check the script runs")
    args = parser.parse_args()
    x_train, x_test = load(args.quick)
    args.n_ll = min(args.n_ll, len(x_test))
    vae, initial, result = run_npae(x_train, x_test, args)
    report = dict(setting=dict(layer_sizes=SIZES, activation="relu", decoder="bernoulli", optimizer="adam",
                               learning_rate=1e-3, batch_size=128, epochs=args.epochs, dtype="float32",
                               n_train=len(x_train), n_test=len(x_test), k=args.k, n_ll=args.n_ll),
                  npae=result)
    try:
        import torch  # noqa: F401
    except ImportError:
        torch = None
    if torch is not None and not args.no_torch:
        report["torch"] = run_torch(x_train, x_test, initial, args)
        report["torch"]["version"] = torch.__version__
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
