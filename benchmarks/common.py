"""Shared pieces of the benchmarks: the machine's sgemm rate, alternating timing, summaries."""
import time

import numpy as np


def sgemm_gflops(n=2048, repeat=5):
    """Best float32 GFLOP/s of an n×n @ n×n product (2 n³ flops) with the current BLAS threads."""
    rng = np.random.default_rng(0)
    a = rng.random((n, n), dtype=np.float32)
    b = rng.random((n, n), dtype=np.float32)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeat))
    return 2 * n ** 3 / best / 1e9


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def alternate(steps, warmup, rounds):
    """Time each named step function ``rounds`` times, interleaved so every contender sees
    the same machine load; returns {name: [seconds, ...]}."""
    for _ in range(warmup):
        for step in steps.values():
            step()
    times = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            times[name].append(_timed(step))
    return times


def summary(seconds):
    return {"median_ms": round(1e3 * float(np.median(seconds)), 3),
            "best_ms": round(1e3 * min(seconds), 3),
            "p90_ms": round(1e3 * float(np.percentile(seconds, 90)), 3)}


def dense_flops(layer_sizes_and_batch, skip_first_input_grad=True):
    """Matmul flops of one training step of a stack of dense layers [(d_in, d_out), ...]:
    forward x W (2 N d_in d_out), backward xᵀ dy and dy Wᵀ (the first layer's dx unneeded)."""
    pairs, n = layer_sizes_and_batch
    total = 0
    for i, (d_in, d_out) in enumerate(pairs):
        total += 2 * n * d_in * d_out * (2 if (i == 0 and skip_first_input_grad) else 3)
    return total
