"""Fused optimizer updates: one pass over (p, g, state) per parameter.

NumPy needs about eight full-array temporaries for an Adam step; the loops
read and write each element once. Both versions flush optimizer state that
falls below ``tiny`` (the smallest normal float of the dtype) to zero:
denormal floats make arithmetic on them ~15x slower.
"""
import numpy as np

from . import threads
from .backend import get_backend, with_twin


def _adam_update_numpy(p, g, m, v, step_size, beta1, beta2, one_minus_beta1, one_minus_beta2,
                       eps, weight_decay, inv_sqrt_bias_correction2, tiny):
    grad = g + weight_decay * p if weight_decay else g
    m *= beta1
    m += one_minus_beta1 * grad
    v *= beta2
    v += one_minus_beta2 * grad * grad
    m[np.abs(m) < tiny] = 0
    v[v < tiny] = 0
    p -= step_size * m / (np.sqrt(v) * inv_sqrt_bias_correction2 + eps)


# This loop is bound by arithmetic, not memory: it runs as fast on 8k elements (in L1) as on
# 1M. The flush as an `if` (a masked select) instead of a product with a bool (a conversion
# and a multiply), and "contract" (fused multiply-adds), took it from 0.60 to 0.48 ns per
# element here; the square root and the division, one slow unit, are what remains.
@with_twin(_adam_update_numpy, fastmath={"contract"})
def adam_update(p, g, m, v, step_size, beta1, beta2, one_minus_beta1, one_minus_beta2,
                eps, weight_decay, inv_sqrt_bias_correction2, tiny):
    """m <- b1 m + (1-b1) g,  v <- b2 v + (1-b2) g²,  with g <- g + wd p;
    p <- p - step_size m / (sqrt(v) / sqrt(bc2) + eps),  step_size = lr / bc1.

    That is the textbook p - lr m̂ / (sqrt(v̂) + eps) with m̂ = m / bc1, v̂ = v / bc2,
    rearranged so no element needs two divisions. Scalars come in p's dtype (the
    optimizer casts them) so float32 runs stay float32 and the loop vectorizes.
    """
    zero = tiny - tiny                  # 0 in p's dtype
    for i in range(p.size):
        grad = g[i] + weight_decay * p[i]
        mi = beta1 * m[i] + one_minus_beta1 * grad
        vi = beta2 * v[i] + one_minus_beta2 * grad * grad
        if abs(mi) < tiny:              # flush denormals (LLVM makes these a masked select)
            mi = zero
        if vi < tiny:
            vi = zero
        m[i] = mi
        v[i] = vi
        p[i] -= step_size * mi / (np.sqrt(vi) * inv_sqrt_bias_correction2 + eps)


#: elements per chunk when Adam runs on BLAS's threads (an update is element by element, so
#: the split changes no number)
ADAM_CHUNK = 1 << 14


def adam_update_threaded(p, g, m, v, *scalars):
    """``adam_update``, float32 arrays split over BLAS's threads when it can (``threads``).

    The update reads and writes 7 arrays as large as the model, and its square root and
    division keep one core busy: two cores take 0.52 ms down to 0.28 ms on 1.09 M float32
    parameters with the arrays in cache."""
    on_threads = (p.size >= 4 * ADAM_CHUNK and get_backend() == "numba"
                  and all(a.dtype == np.float32 and a.size == p.size for a in (p, g, m, v)))
    if not (on_threads and threads.run("adam_float32", (p, g, m, v), scalars, ADAM_CHUNK, here=False)):
        adam_update(p, g, m, v, *scalars)


def _sgd_update_numpy(p, g, buf, lr, momentum, nesterov, weight_decay, tiny):
    grad = g + weight_decay * p if weight_decay else g
    if momentum == 0:
        p -= lr * grad
        return
    buf *= momentum
    buf += grad
    buf[np.abs(buf) < tiny] = 0
    p -= lr * (grad + momentum * buf if nesterov else buf)


@with_twin(_sgd_update_numpy)
def sgd_update(p, g, buf, lr, momentum, nesterov, weight_decay, tiny):
    """buf <- momentum buf + g;  p <- p - lr (g + momentum buf if nesterov else buf)."""
    for i in range(p.size):
        grad = g[i] + weight_decay * p[i]
        if momentum == 0.0:
            p[i] -= lr * grad
            continue
        b = momentum * buf[i] + grad
        if abs(b) < tiny:               # flush denormals
            b = tiny - tiny
        buf[i] = b
        if nesterov:
            p[i] -= lr * (grad + momentum * b)
        else:
            p[i] -= lr * b
