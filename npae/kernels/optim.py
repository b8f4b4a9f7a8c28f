"""Fused optimizer updates: one pass over (p, g, state) per parameter.

NumPy needs about eight full-array temporaries for an Adam step; the loops
read and write each element once. Both versions flush optimizer state that
falls below ``tiny`` (the smallest normal float of the dtype) to zero:
denormal floats make arithmetic on them ~15x slower.
"""
import numpy as np

from .backend import with_twin


def _adam_update_numpy(p, g, m, v, lr, beta1, beta2, eps, weight_decay,
                       bias_correction1, bias_correction2, tiny):
    grad = g + weight_decay * p if weight_decay else g
    m *= beta1
    m += (1 - beta1) * grad
    v *= beta2
    v += (1 - beta2) * grad * grad
    m[np.abs(m) < tiny] = 0
    v[v < tiny] = 0
    m_hat = m / bias_correction1
    v_hat = v / bias_correction2
    p -= lr * m_hat / (np.sqrt(v_hat) + eps)


@with_twin(_adam_update_numpy)
def adam_update(p, g, m, v, lr, beta1, beta2, eps, weight_decay,
                bias_correction1, bias_correction2, tiny):
    """m <- b1 m + (1-b1) g,  v <- b2 v + (1-b2) g²,
    p <- p - lr (m / bc1) / (sqrt(v / bc2) + eps),  with g <- g + wd p."""
    for i in range(p.size):
        grad = g[i] + weight_decay * p[i]
        mi = beta1 * m[i] + (1.0 - beta1) * grad
        vi = beta2 * v[i] + (1.0 - beta2) * grad * grad
        if abs(mi) < tiny:
            mi = 0.0
        if vi < tiny:
            vi = 0.0
        m[i] = mi
        v[i] = vi
        p[i] -= lr * (mi / bias_correction1) / (np.sqrt(vi / bias_correction2) + eps)


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
        if abs(b) < tiny:
            b = 0.0
        buf[i] = b
        if nesterov:
            p[i] -= lr * (grad + momentum * b)
        else:
            p[i] -= lr * b
