"""im2col + BLAS versus direct convolution loops (Numba), on the conv autoencoder's layers.

npae's Conv2D copies receptive fields into a matrix (im2col, a Numba kernel) and lets
BLAS do the multiply-adds; the alternative is one Numba loop nest per pass that
multiplies and adds in place (no copy, no BLAS), either in the textbook loop order
("direct") or vectorised over the filters ("pixel"). This script times them on the two
convolution shapes of the benchmark net (batch 128, float32) and prints JSON:

    python benchmarks/conv_kernels.py [--threads 1] [--batch 128] [--repeats 20]

Forward = y from x; backward = dW, db and dx from dy. A ConvTranspose2D runs the
same two computations in swapped roles (its forward is a conv's dx, its backward a
conv's forward + dW), so the conv pair below covers the decoder too.

Measured here (2 shared cores, one BLAS thread, best of 20): forward plus backward of both
layers took ~7.5 ms with im2col + BLAS, ~29 ms with the filter-vectorised loops and ~87 ms
with the textbook loops; so npae uses im2col. (The loops lose mainly in the reductions,
which LLVM will not reorder into SIMD without fastmath, and in the dW accumulation.)
"""
import argparse
import json
import time

import numpy as np
from numba import njit

from npae.layers import Conv2D

# (name, in channels, out channels, image side, kernel, stride, padding)
LAYERS = [
    ("encoder conv 1 (1->16, 28->14)", 1, 16, 28, 3, 2, 1),
    ("encoder conv 2 (16->32, 14->7)", 16, 32, 14, 3, 2, 1),
]


@njit(cache=True)
def direct_forward(x, W, b, sh, sw, ph, pw, y):
    n_images, channels, h, w = x.shape
    filters, _, kh, kw = W.shape
    ho, wo = y.shape[2], y.shape[3]
    for n in range(n_images):
        for f in range(filters):
            y[n, f] = b[f]
            for c in range(channels):
                for p in range(kh):
                    for q in range(kw):
                        weight = W[f, c, p, q]
                        for i in range(ho):
                            row = i * sh + p - ph
                            if row < 0 or row >= h:
                                continue
                            for j in range(wo):
                                col = j * sw + q - pw
                                if 0 <= col < w:
                                    y[n, f, i, j] += weight * x[n, c, row, col]
    return y


@njit(cache=True)
def direct_backward(x, W, dy, sh, sw, ph, pw, dx, dW, db):
    n_images, channels, h, w = x.shape
    filters, _, kh, kw = W.shape
    ho, wo = dy.shape[2], dy.shape[3]
    dx[...] = 0.0
    for n in range(n_images):
        for f in range(filters):
            for i in range(ho):
                for j in range(wo):
                    db[f] += dy[n, f, i, j]
            for c in range(channels):
                for p in range(kh):
                    for q in range(kw):
                        weight = W[f, c, p, q]
                        total = 0.0
                        for i in range(ho):
                            row = i * sh + p - ph
                            if row < 0 or row >= h:
                                continue
                            for j in range(wo):
                                col = j * sw + q - pw
                                if 0 <= col < w:
                                    g = dy[n, f, i, j]
                                    total += g * x[n, c, row, col]
                                    dx[n, c, row, col] += weight * g
                        dW[f, c, p, q] += total
    return dx


@njit(cache=True)
def pixel_forward(x, Wt, b, sh, sw, ph, pw, y):
    """Direct, vectorised over filters: per output pixel, acc[f] += x · Wt[c, p, q, f].
    Wt is W laid out (C, k_h, k_w, F) so the innermost loop runs over contiguous memory."""
    n_images, channels, h, w = x.shape
    _, kh, kw, filters = Wt.shape
    ho, wo = y.shape[2], y.shape[3]
    acc = np.empty(filters, x.dtype)
    for n in range(n_images):
        for i in range(ho):
            for j in range(wo):
                acc[:] = b
                for c in range(channels):
                    for p in range(kh):
                        row = i * sh + p - ph
                        if row < 0 or row >= h:
                            continue
                        for q in range(kw):
                            col = j * sw + q - pw
                            if 0 <= col < w:
                                v = x[n, c, row, col]
                                for f in range(filters):
                                    acc[f] += v * Wt[c, p, q, f]
                for f in range(filters):
                    y[n, f, i, j] = acc[f]
    return y


@njit(cache=True)
def pixel_backward(x, Wt, dy, sh, sw, ph, pw, dx, dWt, db):
    """Direct, vectorised over filters: per output pixel with g = dy[n, :, i, j],
    dx[n, c, row, col] += Wt[c, p, q, :] · g  and  dWt[c, p, q, :] += x[n, c, row, col] g."""
    n_images, channels, h, w = x.shape
    _, kh, kw, filters = Wt.shape
    ho, wo = dy.shape[2], dy.shape[3]
    g = np.empty(filters, x.dtype)
    dx[...] = 0.0
    for n in range(n_images):
        for i in range(ho):
            for j in range(wo):
                for f in range(filters):
                    g[f] = dy[n, f, i, j]
                    db[f] += g[f]
                for c in range(channels):
                    for p in range(kh):
                        row = i * sh + p - ph
                        if row < 0 or row >= h:
                            continue
                        for q in range(kw):
                            col = j * sw + q - pw
                            if 0 <= col < w:
                                v = x[n, c, row, col]
                                total = 0.0
                                for f in range(filters):
                                    total += Wt[c, p, q, f] * g[f]
                                    dWt[c, p, q, f] += v * g[f]
                                dx[n, c, row, col] += total
    return dx


def race(functions, repeats):
    """Best time (ms) of each function over ``repeats`` interleaved rounds, after a warm-up
    (JIT compile). Interleaving shares any machine noise fairly; noise only ever adds
    time, so the minimum is the most faithful figure on a shared machine."""
    for fn in functions.values():
        fn()
    best = {name: float("inf") for name in functions}
    for _ in range(repeats):
        for name, fn in functions.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: round(1e3 * t, 3) for name, t in best.items()}


def compare(name, c_in, c_out, side, kernel, stride, padding, batch, repeats, rng):
    layer = Conv2D(c_in, c_out, kernel, stride, padding, rng=0)
    x = rng.standard_normal((batch, c_in, side, side)).astype(np.float32)
    y = layer.forward(x)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    W, b = layer.W.value, layer.b.value
    Wt = np.ascontiguousarray(W.transpose(1, 2, 3, 0))
    s, p = stride, padding
    out, dx, dW, db = np.empty_like(y), np.empty_like(x), np.zeros_like(W), np.zeros_like(b)
    dWt = np.zeros_like(Wt)

    # all three compute the same numbers (float32 sums in different orders)
    layer.zero_grad()
    dx_layer = layer.backward(dy)
    agree = {}
    direct_forward(x, W, b, s, s, p, p, out)
    direct_backward(x, W, dy, s, s, p, p, dx, dW, db)
    agree["direct"] = (np.allclose(out, y, atol=1e-4) and np.allclose(dx, dx_layer, atol=1e-3)
                       and np.allclose(dW, layer.W.grad, rtol=1e-4, atol=1e-2))
    pixel_forward(x, Wt, b, s, s, p, p, out)
    pixel_backward(x, Wt, dy, s, s, p, p, dx, dWt, db)
    agree["pixel"] = (np.allclose(out, y, atol=1e-4) and np.allclose(dx, dx_layer, atol=1e-3)
                      and np.allclose(dWt.transpose(3, 0, 1, 2), layer.W.grad, rtol=1e-4, atol=1e-2))

    times = race({
        "im2col_forward": lambda: layer.forward(x),
        "im2col_backward": lambda: layer.backward(dy),        # reuses the cached forward
        "direct_forward": lambda: direct_forward(x, W, b, s, s, p, p, out),
        "direct_backward": lambda: direct_backward(x, W, dy, s, s, p, p, dx, dW, db),
        "pixel_forward": lambda: pixel_forward(x, Wt, b, s, s, p, p, out),
        "pixel_backward": lambda: pixel_backward(x, Wt, dy, s, s, p, p, dx, dWt, db),
    }, repeats)
    return {"layer": name, "input": list(x.shape), "output": list(y.shape),
            "agree": {k: bool(v) for k, v in agree.items()}, "best_ms": times}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads (the Numba loops use one; 1 is the like-for-like figure)")
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits
    rng = np.random.default_rng(0)
    with threadpool_limits(limits=args.threads, user_api="blas"):
        rows = [compare(*layer, args.batch, args.repeats, rng) for layer in LAYERS]
    total = {key: round(sum(r["best_ms"][key] for r in rows), 3) for key in rows[0]["best_ms"]}
    forward_backward = {way: round(total[f"{way}_forward"] + total[f"{way}_backward"], 3)
                        for way in ("im2col", "direct", "pixel")}
    print(json.dumps({"benchmark": "conv_kernels", "batch": args.batch, "dtype": "float32",
                      "blas_threads": args.threads, "layers": rows, "total_ms": total,
                      "forward_plus_backward_ms": forward_backward}, indent=2))


if __name__ == "__main__":
    main()
