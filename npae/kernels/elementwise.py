"""Element-wise activation kernels: forward, and backward fused with the chain rule.

Each backward computes ``dx = dy * f'(.)`` in one pass, where NumPy would need
two or three temporaries. Constants are made in the data's dtype (``x.dtype.type(1)``):
a Python ``1.0`` would turn a float32 loop into float64, at half the SIMD width. Arguments
are flat 1-D arrays (``add_bias``: a 2-D y); results go to ``out``. The forward kernels that
see every element of a layer's input or output anyway (``add_bias``, ``leaky_relu_forward``)
also return whether it was all finite: the layer's finiteness check costs no pass of its own.
"""
import numpy as np

from .backend import with_twin


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


# --- sigmoid: s(x) = 1 / (1 + e^-x), written so that e^(...) never overflows --------

def _sigmoid_forward_numpy(x, out):
    e = np.exp(-np.abs(x))                       # in (0, 1]: no overflow
    np.divide(np.where(x >= 0, 1, e), 1 + e, out=out)
    return out


@with_twin(_sigmoid_forward_numpy)
def sigmoid_forward(x, out):
    one, zero = x.dtype.type(1), x.dtype.type(0)
    for i in range(x.size):
        v = x[i]
        if v >= zero:
            out[i] = one / (one + np.exp(-v))
        else:
            e = np.exp(v)
            out[i] = e / (one + e)
    return out


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


# --- tanh: d tanh(x)/dx = 1 - tanh(x)^2 --------------------------------------------

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


# --- softplus: log(1 + e^x) = max(x, 0) + log1p(e^-|x|), stable for large |x| --------

def _softplus_forward_numpy(x, out):
    np.add(np.maximum(x, 0), np.log1p(np.exp(-np.abs(x))), out=out)
    return out


@with_twin(_softplus_forward_numpy)
def softplus_forward(x, out):
    zero = x.dtype.type(0)
    for i in range(x.size):
        v = x[i]
        out[i] = max(v, zero) + np.log1p(np.exp(-abs(v)))
    return out


def _softplus_backward_numpy(x, dy, out):
    s = _sigmoid_forward_numpy(x, np.empty_like(x))
    np.multiply(dy, s, out=out)
    return out


@with_twin(_softplus_backward_numpy)
def softplus_backward(x, dy, out):
    """d softplus(x)/dx = s(x), the sigmoid."""
    one, zero = x.dtype.type(1), x.dtype.type(0)
    for i in range(x.size):
        v = x[i]
        if v >= zero:
            s = one / (one + np.exp(-v))
        else:
            e = np.exp(v)
            s = e / (one + e)
        out[i] = dy[i] * s
    return out
