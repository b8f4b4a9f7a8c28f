"""Train every built-in model for 50 epochs on the digits in float32; look for stalls.

    python benchmarks/long_run.py [--epochs 50] [--batch 64] [--threads 1] [--models VAE,...]

Each model trains through ``npae.training.fit`` (Adam, lr 1e-3, 1,498 training digits,
24 batches per epoch: 1,200 steps at 50 epochs). Every step is timed, from the start of
``model.loss`` to the end of the optimizer step (forward, backward, gradient check, update).
A denormal stall would show as steps several times slower than the median, late in
training when small values have had time to appear.

Steps take well under a millisecond, so on a shared machine one wall-clock step is often
stretched 10-30x by the scheduler handing the core to another process. Two things separate
that from a stall: (1) the step is timed in *CPU time of this thread* (time.thread_time;
BLAS is capped at one thread, Numba kernels are serial), which a descheduled thread does
not accumulate but arithmetic on denormals does; (2) the run is repeated ``--repeats``
times with the same seed (bit-identical arithmetic, so the same denormals in the same step)
and each step keeps its fastest repeat. Per model, from those step times:

    median_ms, max_ms, max_over_median        the slowest step against the typical one
    p99_over_median, steps_over_3x_median      whether slow steps are single blips or a trend
    late_over_early                            median of the last 5 epochs / of epochs 2-6
    wall                                       the same from one run's wall clock (raw, noisy)
    denormals                                  denormal entries in the weights and Adam's m, v
    finite                                     every weight finite at the end

Before timing, one epoch of a twin model loads the compiled kernels, so compilation is not
counted. The garbage collector is paused while timing (a collection is not a stall).
Prints one JSON document.
"""
import argparse
import gc
import json
import platform
import time

import numpy as np

import npae
from npae.models import (Autoencoder, ContractiveAutoencoder, DenoisingAutoencoder,
                         KSparseAutoencoder, SparseAutoencoder)
from npae.models.conv import ConvAutoencoder
from npae.models.conv_vae import ConvVAE
from npae.models.vae import VAE
from npae.training import fit

MODELS = {   # name -> (constructor, takes (N, 1, 8, 8) images)
    "Autoencoder": (lambda: Autoencoder(layer_sizes=[64, 32, 16]), False),
    "DenoisingAutoencoder": (lambda: DenoisingAutoencoder(layer_sizes=[64, 32, 16]), False),
    "SparseAutoencoder": (lambda: SparseAutoencoder(layer_sizes=[64, 32]), False),
    "KSparseAutoencoder": (lambda: KSparseAutoencoder(layer_sizes=[64, 32], k=8), False),
    "ContractiveAutoencoder": (lambda: ContractiveAutoencoder(layer_sizes=[64, 32]), False),
    "ConvAutoencoder": (lambda: ConvAutoencoder(input_shape=(1, 8, 8), channels=(8, 16),
                                                n_latent=16), True),
    "VAE": (lambda: VAE(layer_sizes=[64, 32, 8]), False),
    "ConvVAE": (lambda: ConvVAE(input_shape=(1, 8, 8), channels=(8, 16), n_latent=8), True),
}


def denormals(arrays):
    """How many entries are denormal (nonzero, below the smallest normal float)."""
    return int(sum(np.count_nonzero((a != 0) & (np.abs(a) < np.finfo(a.dtype).tiny))
                   for a in arrays))


def timed_run(make, x, epochs, batch_size, seed=0):
    model = make().set_params(seed=seed, verbose=0, dtype="float32")
    optimizer = npae.Adam(model.parameters(), lr=1e-3)
    starts, cpu, wall = [], [], []
    loss, step = type(model).loss, optimizer.step

    def timed_loss(xb, rng=None, **noise):
        starts.append((time.thread_time(), time.perf_counter()))
        return loss(model, xb, rng=rng, **noise)

    def timed_step():
        step()
        cpu.append(time.thread_time() - starts[-1][0])
        wall.append(time.perf_counter() - starts[-1][1])

    model.loss, optimizer.step = timed_loss, timed_step
    gc.collect()
    gc.disable()
    try:
        begin = time.perf_counter()
        history = fit(model, x, epochs=epochs, batch_size=batch_size, seed=seed,
                      optimizer=optimizer, verbose=0)
        seconds = time.perf_counter() - begin
    finally:
        gc.enable()
    return model, optimizer, history, np.array(cpu), np.array(wall), seconds


def figures(steps, epochs):
    per_epoch = len(steps) // epochs
    median = float(np.median(steps))
    early = float(np.median(steps[per_epoch:6 * per_epoch]))
    late = float(np.median(steps[-5 * per_epoch:]))
    return {"median_ms": round(1e3 * median, 4), "max_ms": round(1e3 * float(steps.max()), 4),
            "max_over_median": round(float(steps.max()) / median, 2),
            "p99_over_median": round(float(np.percentile(steps, 99)) / median, 2),
            "steps_over_3x_median": int(np.sum(steps > 3 * median)),
            "slowest_step": int(np.argmax(steps)), "late_over_early": round(late / early, 3)}


def measure(name, x, epochs, batch_size, repeats):
    make, images = MODELS[name]
    data = x.reshape(-1, 1, 8, 8) if images else x
    timed_run(make, data, 1, batch_size)                    # load the compiled kernels
    runs = [timed_run(make, data, epochs, batch_size) for _ in range(repeats)]
    model, optimizer, history, _, wall, seconds = runs[0]
    same = all(np.array_equal(p.value, q.value) for run in runs[1:]
               for p, q in zip(model.parameters(), run[0].parameters()))
    cpu = np.min([run[3] for run in runs], axis=0)          # each step's fastest repeat
    weights = [p.value for p in model.parameters()]
    state = optimizer.state_dict()
    return {
        "steps": int(len(cpu)), "seconds": round(seconds, 3), "repeats_identical": same,
        **figures(cpu, epochs), "wall": figures(wall, epochs),
        "first_loss": round(history["loss"][0], 4), "last_loss": round(history["loss"][-1], 4),
        "finite": bool(all(np.all(np.isfinite(w)) for w in weights)),
        "denormals": {"weights": denormals(weights), "adam_m": denormals(state["m"]),
                      "adam_v": denormals(state["v"])},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits      # comes with scikit-learn
    threadpool_limits(limits=args.threads, user_api="blas")
    x = npae.datasets.load("digits").x_train
    results = {name: measure(name, x, args.epochs, args.batch, args.repeats)
               for name in args.models.split(",")}
    print(json.dumps({
        "benchmark": "long_run", "dataset": "digits", "n_train": len(x), "dtype": "float32",
        "epochs": args.epochs, "batch_size": args.batch, "blas_threads": args.threads,
        "repeats": args.repeats, "step_time": "thread CPU time, fastest of the repeats",
        "backend": npae.get_backend(), "machine": platform.processor() or platform.machine(),
        "worst_max_over_median": max(r["max_over_median"] for r in results.values()),
        "all_finite": all(r["finite"] for r in results.values()),
        "models": results}, indent=2))


if __name__ == "__main__":
    main()
