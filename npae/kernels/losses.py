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

    e = exp(-|z|) runs as NumPy's SIMD ufunc (Numba calls scalar libm for exp, ~2.5x
    slower); everything else, log1p(e) included, is one fused loop, ``bce_with_logits_from_exp``.
    """
    e = np.abs(logits)
    np.negative(e, out=e)
    np.exp(e, out=e)                      # in (0, 1]: never overflows
    return bce_with_logits_from_exp(logits, target, e, atanh_coefficients(logits.dtype), scale, grad)


_ATANH_TERMS = 16
_COEFFICIENTS = {}


def atanh_coefficients(dtype):
    """(1, 1/3, 1/5, ..., 1/31) in ``dtype``: the series 2 atanh(s) = 2 Σ_k s^(2k+1) / (2k+1).

    With s = e / (2 + e), 2 atanh(s) = log((1 + s) / (1 - s)) = log1p(e). For e in [0, 1],
    s <= 1/3 and s² <= 1/9, so 16 terms leave a relative truncation error (1/9)^16 / 33 <
    2e-17, below float64's rounding; with the rounding of each step the result is within
    2.3 ulps of log1p(e) in float32 and float64 (np.log1p: 0.74). float32 would need only
    8 terms; one term count keeps one loop for both dtypes. Given in the data's dtype, float32 runs stay float32
    (Python float constants would make the loop float64, at half the SIMD width)."""
    dtype = np.dtype(dtype)
    if dtype not in _COEFFICIENTS:
        _COEFFICIENTS[dtype] = tuple(dtype.type(1 / (2 * k + 1)) for k in range(_ATANH_TERMS))
    return _COEFFICIENTS[dtype]


def _bce_with_logits_from_exp_numpy(logits, target, e, coefficients, scale, grad):
    loss = np.maximum(logits, 0) - target * logits + np.log1p(e)
    sig = np.where(logits >= 0, 1, e) / (1 + e)
    np.multiply(sig - target, scale, out=grad)
    return float(np.sum(loss, dtype=np.float64))


@with_twin(_bce_with_logits_from_exp_numpy, fastmath={"reassoc", "contract"})
def bce_with_logits_from_exp(logits, target, e, coefficients, scale, grad):
    """Given e = exp(-|z|) and ``atanh_coefficients``: the loss sum and grad = scale (s(z) - t).

    log1p(e) = 2 atanh(s), s = e / (2 + e), by the series in s² (Horner's rule), a polynomial
    that LLVM vectorizes where a call to log would not. s(z) = 1 / (1 + e) for z >= 0, else
    e / (1 + e).
    """
    c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15 = coefficients
    one, two, zero = c0, c0 + c0, c0 - c0      # in the data's dtype: a literal 0 would make
    total = 0.0                                # max(z, 0) float64 and halve the SIMD width
    for i in range(logits.size):
        z = logits[i]
        t = target[i]
        ei = e[i]
        s = ei / (two + ei)
        s2 = s * s
        p = c13 + s2 * (c14 + s2 * c15)
        p = c9 + s2 * (c10 + s2 * (c11 + s2 * (c12 + s2 * p)))
        p = c5 + s2 * (c6 + s2 * (c7 + s2 * (c8 + s2 * p)))
        p = c1 + s2 * (c2 + s2 * (c3 + s2 * (c4 + s2 * p)))
        log1p_e = two * s * (one + s2 * p)
        total += max(z, zero) - t * z + log1p_e
        sig = (one if z >= zero else ei) / (one + ei)
        grad[i] = scale * (sig - t)
    return total
