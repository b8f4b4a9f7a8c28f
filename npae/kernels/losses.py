"""Loss kernels: the value (summed in float64) and the gradient, in one pass.

``scale`` multiplies the gradient (it is 1/N for a mean over the batch).
"""
import numpy as np

from .backend import with_twin


def _mse_numpy(pred, target, scale, grad):
    diff = pred - target
    np.multiply(diff, scale, out=grad)
    return 0.5 * float(np.dot(diff.astype(np.float64), diff.astype(np.float64)))


@with_twin(_mse_numpy)
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


@with_twin(_bce_numpy)
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


def _bce_with_logits_numpy(logits, target, scale, grad):
    z = logits
    e = np.exp(-np.abs(z))
    loss = np.maximum(z, 0) - target * z + np.log1p(e)
    sig = np.where(z >= 0, 1, e) / (1 + e)
    np.multiply(sig - target, scale, out=grad)
    return float(np.sum(loss, dtype=np.float64))


@with_twin(_bce_with_logits_numpy)
def bce_with_logits(logits, target, scale, grad):
    """sum softplus(z) - t z  =  max(z, 0) - t z + log1p(e^-|z|);
    grad = scale (s(z) - t)."""
    total = 0.0
    for i in range(logits.size):
        z = logits[i]
        t = target[i]
        e = np.exp(-abs(z))
        total += max(z, 0.0) - t * z + np.log1p(e)
        s = 1.0 / (1.0 + e) if z >= 0 else e / (1.0 + e)
        grad[i] = scale * (s - t)
    return total
