"""Shared pieces of the benchmarks: the machine's sgemm rate, alternating timing, summaries,
and the command line they share."""
import argparse
import json
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


def alternate(steps, warmup, rounds, block=25, settle=0.25, discard=2):
    """Time each named step function ``rounds`` times (rounded up to whole blocks), in
    alternating blocks of ``block`` steps so every contender sees the same machine load;
    returns {name: [seconds, ...]}.

    Blocks, not single steps: two libraries in one process each keep a pool of worker
    threads that spin for a while after their last parallel region (OpenBLAS's pthreads,
    PyTorch's OpenMP). Alternating step by step makes each library's spinning workers steal
    the cores from the other's (both ran ~1.6-2.3x slower here at 2 threads). Before each
    block we sleep ``settle`` seconds, so the other library's workers go to sleep (OpenBLAS
    spins for 2^28 cycles, ~0.1 s here, before it does), and drop the block's first
    ``discard`` steps (they wake the pool up).
    """
    for _ in range(warmup):
        for step in steps.values():
            step()
    times = {name: [] for name in steps}
    for _ in range(-(-rounds // block)):
        for name, step in steps.items():
            time.sleep(settle)
            for _ in range(discard):
                step()
            times[name].extend(_timed(step) for _ in range(block))
    return times


def paired_block_ratio(a, b, block):
    """The median, over the rounds of ``alternate``, of (a's block median / b's block median).
    Each round's two blocks ran back to back, so a load that comes and goes on a shared
    machine (this VM's medians drift by 10-30 % within a run) weighs on both sides of each
    quotient; the ratio of the whole runs' medians mixes calm blocks of one with busy blocks
    of the other. Reported beside that ratio, not instead of it."""
    a, b = np.asarray(a), np.asarray(b)
    rounds = min(len(a), len(b)) // block
    quotients = [np.median(a[i * block:(i + 1) * block]) / np.median(b[i * block:(i + 1) * block])
                 for i in range(rounds)]
    return round(float(np.median(quotients)), 3)


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


def main(run, doc, rounds, **extra):
    """Parse --rounds, --threads, --no-torch (and ``extra``: name -> (type, default)), then
    print ``run(args)`` as one JSON line with BLAS limited to ``--threads`` threads."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    for name, (kind, default) in extra.items():
        parser.add_argument(f"--{name}", type=kind, default=default)
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--threads", type=int, default=2, help="BLAS threads and torch threads")
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=args.threads, user_api="blas"):
        print(json.dumps(run(args)))
