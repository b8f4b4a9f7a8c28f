"""Loss kernels: the value (summed in float64) and the gradient, in one pass.

``scale`` multiplies the gradient (it is 1/N for a mean over the batch). The sums are
compiled with reassociation allowed, so LLVM can vectorize them (~6x here).
"""
import numpy as np

from .backend import with_twin


def _mse_numpy(pred, target, scale, grad):
    diff = pred - target
    np.multiply(diff, scale, out=grad)
    return 0.5 * float(np.dot(diff.astype(np.float64), diff.astype(np.float64)))


@with_twin(_mse_numpy, fastmath={"reassoc"})
def mse(pred, target, scale, grad):
    """sum ½ (pred - target)²; grad = scale (pred - target)."""
    total = 0.0
    for i in range(pred.size):
        d = pred[i] - target[i]
        total += 0.5 * d * d
        grad[i] = scale * d
    return total


def _bce_numpy(prob, target, low, high, scale, grad):
    p = np.clip(prob, low, high)
    loss = -(target * np.log(p) + (1 - target) * np.log1p(-p))
    np.multiply((p - target) / (p * (1 - p)), scale, out=grad)
    return float(np.sum(loss, dtype=np.float64))


@with_twin(_bce_numpy, fastmath={"reassoc"})
def bce(prob, target, low, high, scale, grad):
    """sum -[t log p + (1-t) log(1-p)] with p clipped to [low, high] (given in p's dtype);
    grad = scale (p - t) / (p (1 - p)) evaluated at the clipped p."""
    total = 0.0
    for i in range(prob.size):
        p = min(max(prob[i], low), high)
        t = target[i]
        total -= t * np.log(p) + (1.0 - t) * np.log1p(-p)
        grad[i] = scale * (p - t) / (p * (1.0 - p))
    return total


def bce_with_logits(logits, target, scale, grad):
    """sum softplus(z) - t z  =  max(z, 0) - t z + log1p(e^-|z|);  grad = scale (s(z) - t).

    The two transcendental passes, e = exp(-|z|) and log(1 + e), run as NumPy's SIMD
    ufuncs (Numba calls scalar libm here, ~10x slower); everything else is one fused
    loop, ``bce_with_logits_from_exp``.
    """
    e = np.abs(logits)
    np.negative(e, out=e)
    np.exp(e, out=e)                      # in (0, 1]: never overflows
    u = 1 + e                             # rounded in the data's dtype, as log sees it
    return bce_with_logits_from_exp(logits, target, e, u, np.log(u), scale, grad)


def _bce_with_logits_from_exp_numpy(logits, target, e, u, log_u, scale, grad):
    with np.errstate(invalid="ignore", divide="ignore"):
        log1p_e = np.where(u == 1, e, log_u * e / (u - 1))
    loss = np.maximum(logits, 0) - target * logits + log1p_e
    sig = np.where(logits >= 0, 1, e) / u
    np.multiply(sig - target, scale, out=grad)
    return float(np.sum(loss, dtype=np.float64))


@with_twin(_bce_with_logits_from_exp_numpy, fastmath={"reassoc"})
def bce_with_logits_from_exp(logits, target, e, u, log_u, scale, grad):
    """Given e = exp(-|z|), u = 1 + e (rounded in z's dtype) and log_u = log(u):
    the loss sum and grad = scale (s(z) - t).

    log1p(e) = log(u) e / (u - 1)  (Kahan's trick: exact to a few ulps, because
    u - 1 is exactly the e that u's rounding kept), s(z) = 1/u for z >= 0, else e/u.
    """
    total = 0.0
    for i in range(logits.size):
        z = logits[i]
        t = target[i]
        ei = e[i]
        ui = u[i]
        log1p_e = ei if ui == 1 else log_u[i] * ei / (ui - 1)
        total += max(z, z * 0) - t * z + log1p_e
        s = 1 / ui if z >= 0 else ei / ui
        grad[i] = scale * (s - t)
    return total
