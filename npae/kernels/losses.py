"""Loss kernels: the value (summed in float64; float32 BCE in float32 blocks added to a
float64 total) and the gradient, in one pass.

``scale`` multiplies the gradient (it is 1/N for a mean over the batch; callers give it in
the data's dtype). The sums are compiled with reassociation allowed, so LLVM can vectorize
them (~6x here).
"""
import math

import numpy as np

from . import threads
from .backend import HELPER_FASTMATH, get_backend, with_twin
from .vecmath import exp_neg_abs_float32, exp_neg_abs_float32_numpy, log1p_float32


def _mse_numpy(pred, target, scale, grad):
    diff = pred - target
    np.multiply(diff, scale, out=grad)
    return 0.5 * float(np.dot(diff.astype(np.float64), diff.astype(np.float64)))


@with_twin(_mse_numpy, fastmath={"reassoc"})
def mse(pred, target, scale, grad):
    """sum ½ (pred - target)²; grad = scale (pred - target).

    Block by block, the terms go to a buffer that a loop of its own sums in float64: a sum
    inside the loop that writes ``grad`` would change its order, and its last bits, with
    where the arrays lie (see ``bce_with_logits_float32``)."""
    half = pred.dtype.type(0.5)
    terms = np.empty(_BLOCK, pred.dtype)
    total = 0.0
    for start in range(0, pred.size, _BLOCK):
        size = min(_BLOCK, pred.size - start)
        p_block, t_block = pred[start:start + size], target[start:start + size]
        grad_block = grad[start:start + size]
        for j in range(size):
            d = p_block[j] - t_block[j]
            terms[j] = half * d * d
            grad_block[j] = scale * d
        for j in range(size):
            total += terms[j]
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
    one = prob.dtype.type(1)
    total = 0.0
    for i in range(prob.size):
        p = min(max(prob[i], low), high)
        t = target[i]
        total -= t * np.log(p) + (one - t) * np.log1p(-p)
        grad[i] = scale * (p - t) / (p * (one - p))
    return total


def bce_with_logits(logits, target, scale, grad):
    """sum softplus(z) - t z  =  max(z, 0) - t z + log1p(e^-|z|);  grad = scale (s(z) - t).

    Returns (loss sum, out of range), the second Σ max(t - 1, 0) + max(-t, 0): it is 0
    exactly when every target lies in [0, 1] (NaN if a target is NaN), so the caller's
    domain check rides along in the same pass.

    float32: one fused loop, exp included (``bce_with_logits_float32``; big batches in chunks
    on BLAS's threads, ``bce_with_logits_float32_threaded``). float64 (gradient
    checks, float64 models), and float32 in the absurd case that the loop's float32 block sums overflow
    (|z| ~ 1e35): NumPy's exp, then the loop ``bce_with_logits_from_exp``.
    """
    if logits.dtype == np.float32:
        total, outside = bce_with_logits_float32_threaded(logits, target, scale, grad)
        if math.isfinite(total):
            return total, outside
    e = np.abs(logits)
    np.negative(e, out=e)
    np.exp(e, out=e)                      # in (0, 1]: never overflows
    total = bce_with_logits_from_exp(logits, target, e, atanh_coefficients(logits.dtype), scale, grad)
    return total, _out_of_unit_interval(target)


def _out_of_unit_interval(t):
    return float(np.sum(np.maximum(t - 1, 0) + np.maximum(-t, 0)))


_ATANH_TERMS = 16
_COEFFICIENTS = {}


def atanh_coefficients(dtype):
    """(1, 1/3, 1/5, ..., 1/31) in ``dtype``: the series 2 atanh(s) = 2 Σ_k s^(2k+1) / (2k+1).

    With s = e / (2 + e), 2 atanh(s) = log((1 + s) / (1 - s)) = log1p(e). For e in [0, 1],
    s <= 1/3 and s² <= 1/9, so 16 terms leave a relative truncation error (1/9)^16 / 33 <
    2e-17, below float64's rounding; with the rounding of each step the result is within
    2.3 ulps of log1p(e) in float32 and float64 (np.log1p: 0.74). float32 would need only
    8 terms (``bce_with_logits_float32`` uses 8). Given in the data's dtype (Python float
    constants would make a float32 loop float64, at half the SIMD width)."""
    dtype = np.dtype(dtype)
    if dtype not in _COEFFICIENTS:
        _COEFFICIENTS[dtype] = tuple(dtype.type(1 / (2 * k + 1)) for k in range(_ATANH_TERMS))
    return _COEFFICIENTS[dtype]


def _bce_with_logits_from_exp_numpy(logits, target, e, coefficients, scale, grad):
    with np.errstate(invalid="ignore"):          # NaN/inf inputs: the caller names them
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
    # in the data's dtype: a literal 0 would make max(z, 0) float64 and halve the SIMD width
    one, two, zero = c0, c0 + c0, c0 - c0
    terms = np.empty(_BLOCK, logits.dtype)
    total = 0.0
    for start in range(0, logits.size, _BLOCK):    # the terms summed apart, as in ``mse``
        size = min(_BLOCK, logits.size - start)
        z_block, t_block = logits[start:start + size], target[start:start + size]
        e_block, grad_block = e[start:start + size], grad[start:start + size]
        for j in range(size):
            z = z_block[j]
            t = t_block[j]
            ei = e_block[j]
            s = ei / (two + ei)
            s2 = s * s
            p = c13 + s2 * (c14 + s2 * c15)
            p = c9 + s2 * (c10 + s2 * (c11 + s2 * (c12 + s2 * p)))
            p = c5 + s2 * (c6 + s2 * (c7 + s2 * (c8 + s2 * p)))
            p = c1 + s2 * (c2 + s2 * (c3 + s2 * (c4 + s2 * p)))
            log1p_e = two * s * (one + s2 * p)
            terms[j] = max(z, zero) - t * z + log1p_e
            sig = (one if z >= zero else ei) / (one + ei)
            grad_block[j] = scale * (sig - t)
        for j in range(size):
            total += terms[j]
    return total


def bce_with_logits_float32_threaded(logits, target, scale, grad):
    """``bce_with_logits_float32``; from 4 · ``BCE_CHUNK`` elements on, chunk by chunk
    on BLAS's threads when it can (``threads``), the chunks' sums added up in chunk order.
    The chunks never depend on the number of threads, so neither do the sums' last bits.
    (Smaller arrays run whole: handing them over would cost more than it saves.)"""
    scale = np.float32(scale)
    if logits.size < 4 * BCE_CHUNK:
        return bce_with_logits_float32(logits, target, scale, grad)
    n_chunks = -(-logits.size // BCE_CHUNK)
    partials = np.zeros((n_chunks, 2))
    if not (get_backend() == "numba" and target.dtype == grad.dtype == np.float32 and threads.run(
            "bce_with_logits_float32", (logits, target, grad, partials), (scale,), BCE_CHUNK)):
        for i in range(n_chunks):          # the twins; or arrays with gaps
            lo, hi = i * BCE_CHUNK, (i + 1) * BCE_CHUNK
            partials[i] = bce_with_logits_float32(logits[lo:hi], target[lo:hi], scale, grad[lo:hi])
    total, outside = partials.sum(axis=0)
    return float(total), float(outside)


# --- float32: the whole loss in one loop, exp and log1p included (``vecmath``) -------------
_BLOCK = 512                       # float32 partial sums of this many terms, added in float64
BCE_CHUNK = 8 * _BLOCK             # elements per chunk on BLAS's threads (whole blocks)


def _bce_with_logits_float32_numpy(logits, target, scale, grad):
    e = exp_neg_abs_float32_numpy(logits)           # as the loop: no denormals
    with np.errstate(invalid="ignore"):          # NaN/inf inputs: the caller names them
        loss = np.maximum(logits, 0) - target * logits + np.log1p(e)
    sig = np.where(logits >= 0, np.float32(1), e) / (1 + e)
    np.multiply(sig - target, scale, out=grad)
    return float(np.sum(loss, dtype=np.float64)), _out_of_unit_interval(target)


@with_twin(_bce_with_logits_float32_numpy, fastmath=HELPER_FASTMATH)
def bce_with_logits_float32(logits, target, scale, grad):
    """float32 only. The loss sum, grad = scale (s(z) - t) and Σ max(t - 1, 0) + max(-t, 0).

    NumPy's exp would be a pass of its own at ~1.3 ns per element (libm's exp stops LLVM from
    vectorizing a loop); written out (``vecmath``) it vectorizes with the rest: ~2x faster in
    all. log1p(e) is the series of ``bce_with_logits_from_exp`` in 8 terms (float32's precision).

    The loss is summed in float32 blocks (8 SIMD lanes; float64 partial sums would halve
    that), each block added to a float64 total. The terms of a block go to a small buffer and
    are summed by a loop of their own: LLVM vectorizes a loop that also writes ``grad`` only
    after a run-time check that the arrays lie apart, so a sum inside it would change its
    order, and its last bits, when the arrays overlap or lie close together (a resumed run
    must repeat an uninterrupted one bit for bit, wherever NumPy put its arrays).
    """
    one, zero = np.float32(1), np.float32(0)
    terms = np.empty(_BLOCK, np.float32)
    total = 0.0
    outside = zero                      # only ever compared with 0: its order does not matter
    for start in range(0, logits.size, _BLOCK):
        size = min(_BLOCK, logits.size - start)
        # views of the block: indices from range(size) are known >= 0, so no wraparound
        # checks (with logits[start + j] the loop ran 6x slower)
        z_block, t_block = logits[start:start + size], target[start:start + size]
        grad_block = grad[start:start + size]
        for j in range(size):
            z = z_block[j]
            t = t_block[j]
            e = exp_neg_abs_float32(z)
            terms[j] = max(z, zero) - t * z + log1p_float32(e)     # NaN z: NaN here, so the caller sees it
            outside += max(t - one, zero) + max(-t, zero)
            grad_block[j] = scale * ((one if z >= zero else e) / (one + e) - t)
        block = zero
        for j in range(size):
            block += terms[j]
        total += block
    return total, outside
