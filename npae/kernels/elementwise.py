"""Element-wise activation kernels: forward, and backward fused with the chain rule.

Each backward computes ``dx = dy * f'(.)`` in one pass, where NumPy would need
two or three temporaries. Constants are made in the data's dtype (``x.dtype.type(1)``):
a Python ``1.0`` would turn a float32 loop into float64, at half the SIMD width. Arguments
are flat 1-D arrays (``add_bias``: a 2-D y); results go to ``out``. The forward kernels that
see every element of a layer's input or output anyway (``add_bias``, the activations'
forwards) also return whether it was all finite: the layer's finiteness check costs no pass
of its own (float64 tanh, which is NumPy's, makes one).
"""
import numpy as np

from .backend import HELPER_FASTMATH, with_twin
from .checks import all_finite
from .vecmath import exp_neg_abs_float32, exp_neg_abs_float32_numpy, log1p_float32, tanh_float32


# --- a Dense layer's bias: y[n, :] += b, and the finiteness check in the same pass -----

def _add_bias_numpy(y, b):
    y += b
    return bool(np.isfinite(y).all())


@with_twin(_add_bias_numpy, fastmath={"reassoc"})      # exactly "reassoc": see checks.all_finite
def add_bias(y, b):
    """y (N, D) += b (D,) in place, row by row (NumPy's broadcast add is ~2x slower here).

    Returns True when every element of the new y is finite: the check of ``checks.all_finite``
    (Σ (v − v) is NaN exactly when some v is NaN or ±inf) in the pass that writes y anyway.
    """
    total = y.dtype.type(0)
    for n in range(y.shape[0]):
        row = y[n]
        for j in range(b.size):
            v = row[j] + b[j]
            row[j] = v
            total += v - v
    return total == total


# --- sigmoid: s(x) = 1 / (1 + e^-x) = (1 if x >= 0 else e) / (1 + e) with e = e^-|x| in
# (0, 1]: never overflows. Returns whether every x was finite (the layer's input check).

def sigmoid(x, out):
    """out = s(x) for flat x; True when every x is finite. float32 goes to the loop that
    vectorizes (``sigmoid_forward_float32``), float64 to ``sigmoid_forward``."""
    if x.dtype == np.float32:
        return sigmoid_forward_float32(x, out)
    return sigmoid_forward(x, out)


def _sigmoid_from_exp_numpy(x, e, out):
    """The twins' s(x), given e = e^-|x|."""
    return np.divide(np.where(x >= 0, x.dtype.type(1), e), 1 + e, out=out)


def _sigmoid_forward_numpy(x, out):
    _sigmoid_from_exp_numpy(x, np.exp(-np.abs(x)), out)
    return bool(np.isfinite(x).all())


@with_twin(_sigmoid_forward_numpy, fastmath={"reassoc"})      # exactly "reassoc": see add_bias
def sigmoid_forward(x, out):
    """Any float dtype, with libm's exp (one element at a time)."""
    one, zero = x.dtype.type(1), x.dtype.type(0)
    total = zero
    for i in range(x.size):
        v = x[i]
        e = np.exp(-abs(v))
        out[i] = (one if v >= zero else e) / (one + e)     # a select, not a branch
        total += v - v
    return total == total


def _sigmoid_forward_float32_numpy(x, out):
    _sigmoid_from_exp_numpy(x, exp_neg_abs_float32_numpy(x), out)   # e = 0 where the loop's is
    return bool(np.isfinite(x).all())


@with_twin(_sigmoid_forward_float32_numpy, fastmath=HELPER_FASTMATH)
def sigmoid_forward_float32(x, out):
    """float32 only: e^-|x| written out (``vecmath``), so the loop vectorizes: ~1 ns per
    element against ~10 ns with libm's exp. Within 2.5 ulps of the exact s(x); s(x) is
    exactly 0 below x = -87.33 (a denormal there otherwise)."""
    one, zero = np.float32(1), np.float32(0)
    total = zero
    for i in range(x.size):
        v = x[i]
        e = exp_neg_abs_float32(v)
        out[i] = (one if v >= zero else e) / (one + e)
        total += v - v
    return total == total


def _sigmoid_backward_numpy(y, dy, out):
    np.multiply(dy, y * (1 - y), out=out)
    return out


@with_twin(_sigmoid_backward_numpy)
def sigmoid_backward(y, dy, out):
    """dx = dy * s(x) (1 - s(x)), from the cached output y = s(x)."""
    one = y.dtype.type(1)
    for i in range(y.size):
        out[i] = dy[i] * y[i] * (one - y[i])
    return out


# --- tanh, and d tanh(x)/dx = 1 - tanh(x)^2 ---------------------------------------
# The forward returns whether every x was finite (the layer's input check).

def tanh(x, out):
    """out = tanh(x) for flat x; True when every x is finite. float32 goes to the loop that
    vectorizes (``tanh_forward_float32``, which checks x as it goes); float64 to NumPy's tanh
    and a separate ``all_finite`` pass (NumPy's SIMD tanh, on FMA machines, is within 1.2
    ulps; libm's, called from a loop, reaches 2.1, and the gradient checks run in float64)."""
    if x.dtype == np.float32:
        return tanh_forward_float32(x, out)
    np.tanh(x, out=out)
    return all_finite(x)


def _tanh_forward_numpy(x, out):
    np.tanh(x, out=out)
    return bool(np.isfinite(x).all())


@with_twin(_tanh_forward_numpy, fastmath=HELPER_FASTMATH)
def tanh_forward_float32(x, out):
    """float32 only: ``vecmath.tanh_float32``, so the loop vectorizes (~3x NumPy's tanh).
    Within 2.6 ulps of the exact tanh(x)."""
    total = np.float32(0)
    for i in range(x.size):
        v = x[i]
        out[i] = tanh_float32(v)
        total += v - v
    return total == total


def _tanh_backward_numpy(y, dy, out):
    np.multiply(dy, 1 - y * y, out=out)
    return out


@with_twin(_tanh_backward_numpy)
def tanh_backward(y, dy, out):
    one = y.dtype.type(1)
    for i in range(y.size):
        out[i] = dy[i] * (one - y[i] * y[i])
    return out


# --- ReLU and leaky ReLU: slope 1 for x > 0, slope alpha (0 for ReLU) otherwise -------

def _leaky_relu_forward_numpy(x, alpha, out):
    out[...] = np.where(x > 0, x, alpha * x)   # python-float alpha keeps x's dtype
    return bool(np.isfinite(x).all())


@with_twin(_leaky_relu_forward_numpy, fastmath={"reassoc"})   # exactly "reassoc" (checks.all_finite)
def leaky_relu_forward(x, alpha, out):
    """out = x if x > 0 else alpha x. Returns True when every x is finite (the layer's input
    check, in the same pass: see ``add_bias``)."""
    total = x.dtype.type(0)
    for i in range(x.size):
        v = x[i]
        out[i] = v if v > 0 else alpha * v
        total += v - v
    return total == total


def _leaky_relu_backward_numpy(x, dy, alpha, out):
    out[...] = np.where(x > 0, dy, alpha * dy)
    return out


@with_twin(_leaky_relu_backward_numpy)
def leaky_relu_backward(x, dy, alpha, out):
    for i in range(x.size):
        out[i] = dy[i] if x[i] > 0 else alpha * dy[i]
    return out


# --- softplus: log(1 + e^x) = max(x, 0) + log1p(e^-|x|), stable for large |x|; its derivative
# is the sigmoid. The forward returns whether every x was finite (the layer's input check).

def softplus(x, out):
    """out = softplus(x) for flat x; True when every x is finite (float32: the loop that
    vectorizes, ``softplus_forward_float32``)."""
    if x.dtype == np.float32:
        return softplus_forward_float32(x, out)
    return softplus_forward(x, out)


def softplus_grad(x, dy, out):
    """out = dy * s(x) for flat arrays (float32: ``softplus_backward_float32``)."""
    if x.dtype == np.float32:
        return softplus_backward_float32(x, dy, out)
    return softplus_backward(x, dy, out)


def _softplus_forward_numpy(x, out):
    np.add(np.maximum(x, 0), np.log1p(np.exp(-np.abs(x))), out=out)
    return bool(np.isfinite(x).all())


@with_twin(_softplus_forward_numpy, fastmath={"reassoc"})      # exactly "reassoc": see add_bias
def softplus_forward(x, out):
    """Any float dtype, with libm's exp and log1p."""
    zero = x.dtype.type(0)
    total = zero
    for i in range(x.size):
        v = x[i]
        out[i] = max(v, zero) + np.log1p(np.exp(-abs(v)))
        total += v - v
    return total == total


def _softplus_forward_float32_numpy(x, out):
    np.add(np.maximum(x, 0), np.log1p(exp_neg_abs_float32_numpy(x)), out=out)
    return bool(np.isfinite(x).all())


@with_twin(_softplus_forward_float32_numpy, fastmath=HELPER_FASTMATH)
def softplus_forward_float32(x, out):
    """float32 only: e^-|x| and log1p written out (``vecmath``), so the loop vectorizes.
    Within 3.7 ulps of the exact softplus(x)."""
    zero = np.float32(0)
    total = zero
    for i in range(x.size):
        v = x[i]
        out[i] = max(v, zero) + log1p_float32(exp_neg_abs_float32(v))
        total += v - v
    return total == total


def _softplus_backward_numpy(x, dy, out):
    return np.multiply(dy, _sigmoid_from_exp_numpy(x, np.exp(-np.abs(x)), None), out=out)


@with_twin(_softplus_backward_numpy)
def softplus_backward(x, dy, out):
    """d softplus(x)/dx = s(x), the sigmoid."""
    one, zero = x.dtype.type(1), x.dtype.type(0)
    for i in range(x.size):
        v = x[i]
        e = np.exp(-abs(v))
        out[i] = dy[i] * ((one if v >= zero else e) / (one + e))
    return out


def _softplus_backward_float32_numpy(x, dy, out):
    return np.multiply(dy, _sigmoid_from_exp_numpy(x, exp_neg_abs_float32_numpy(x), None), out=out)


@with_twin(_softplus_backward_float32_numpy, fastmath=HELPER_FASTMATH)
def softplus_backward_float32(x, dy, out):
    """float32 only: ``softplus_backward`` with ``vecmath``'s e^-|x| (vectorizes)."""
    one, zero = np.float32(1), np.float32(0)
    for i in range(x.size):
        v = x[i]
        e = exp_neg_abs_float32(v)
        out[i] = dy[i] * ((one if v >= zero else e) / (one + e))
    return out
