"""Fully connected layers: Dense, and TiedDense which reuses Dense's W transposed."""
import numpy as np

from .. import kernels as K
from .._checks import nonfinite_error
from ..errors import NonFiniteError, ShapeError
from ..parameter import Parameter
from .base import Layer

INITS = ("glorot", "he")


def init_weight(fan_in, fan_out, init, rng, dtype):
    """Glorot/Xavier uniform U(±sqrt(6 / (fan_in + fan_out))), Glorot & Bengio 2010;
    He normal N(0, 2 / fan_in), He et al. 2015 (for ReLU layers)."""
    if init == "glorot":
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        w = rng.uniform(-limit, limit, size=(fan_in, fan_out))
    elif init == "he":
        w = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))
    else:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    return w.astype(dtype)


def _check_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    return dtype


def _add_bias(y, b, layer, x, w):
    """y += b, row by row (y is the fresh C-contiguous product x W), checking in the same pass
    that y is finite: that is the layer's input check too, since a NaN or ±inf anywhere in a
    row of x makes the whole row of x W NaN or ±inf (NaN · w and ±inf · 0 are NaN; this
    assumes a BLAS that computes every product, as OpenBLAS and today's reference BLAS do).
    When y is not finite, ``_explain`` says why. (The product itself may warn first, "invalid
    value encountered in matmul"; silencing that would cost ~1.6 µs per layer and call.)"""
    if b is None:
        finite = K.checks.all_finite(np.asarray(y).reshape(-1))   # asarray: np.matrix stays 2-D
    else:
        if b.value.shape != y.shape[1:]:    # the loop does not check bounds: a wrong b would
            raise ShapeError(f"Parameter {b.name!r}: bias of shape {b.value.shape} for outputs "
                             f"of shape {y.shape[1:]}")       # write past y's end
        finite = K.elementwise.add_bias(y, b.value)
    if not finite:
        raise _explain(layer, x, w, b)


def _explain(layer, x, w, b):
    """The NonFiniteError for an output x W + b that holds NaN or inf: the input's fault, the
    parameters', or an overflow."""
    for array, name in ((x, "input"), (w, "W"), (None if b is None else b.value, "b")):
        if array is not None and not np.isfinite(array).all():
            return nonfinite_error(array, layer.name, name)
    return NonFiniteError(f"{layer.name}: the output overflowed (inf, or NaN from inf − inf) "
                          f"from a finite input and weights (|x| up to {np.abs(x).max():.3g}, "
                          f"|W| up to {np.abs(w).max():.3g})")


_ONES = {}


def _ones(n, dtype):
    """A read-only vector of n ones (kept: a new one each backward pass costs ~1 µs)."""
    ones = _ONES.get((n, dtype))
    if ones is None:
        ones = np.ones(n, dtype)
        ones.flags.writeable = False
        if len(_ONES) >= 16:     # many batch sizes: keep a few
            _ONES.clear()
        _ONES[(n, dtype)] = ones
    return ones


def _add_bias_grad(b, dy):
    """b.grad += Σ_n dy_n, as the matrix-vector product 1_Nᵀ dy (BLAS: 2x faster than a sum
    over axis 0)."""
    if b is not None:
        b.add_matmul(_ones(len(dy), dy.dtype)[None, :], dy)      # (1, N) (N, D): b's D values


class Dense(Layer):
    """Affine map  y = x W + b.

    Shapes: x (N, D_in), W (D_in, D_out), b (D_out,), y (N, D_out).
    Gradients: dL/dW = xᵀ dy,  dL/db = Σ_n dy_n,  dL/dx = dy Wᵀ.

    ``init``: "glorot" (default, for sigmoid/tanh) or "he" (for ReLU).
    ``rng``: a ``numpy.random.Generator`` (or a seed) for the initial weights.
    """

    def __init__(self, in_features, out_features, bias=True, init="glorot", rng=None,
                 dtype=np.float32):
        if in_features < 1 or out_features < 1:
            raise ValueError(f"Dense: sizes must be positive, got ({in_features}, {out_features})")
        self.in_features, self.out_features = int(in_features), int(out_features)
        dtype = _check_dtype(dtype)
        rng = np.random.default_rng(rng)
        self.W = Parameter(init_weight(in_features, out_features, init, rng, dtype), "W")
        self.b = Parameter(np.zeros(out_features, dtype), "b") if bias else None

    def named_parameters(self):
        return [("W", self.W)] + ([("b", self.b)] if self.b is not None else [])

    def forward(self, x):
        self._check_input(x, (None, self.in_features), self.W.dtype, finite=False)
        y = x @ self.W.value
        _add_bias(y, self.b, self, x, self.W.value)      # and the finiteness check
        self._save(y, x=x)
        return y

    def backward(self, dy):
        x = self._saved(dy)["x"]
        self.W.add_matmul(x.T, dy)     # W.grad += xᵀ dy (+= : a tied W is used twice)
        _add_bias_grad(self.b, dy)
        return dy @ self.W.value.T if self.input_grad else None

    def __repr__(self):
        return f"Dense({self.in_features}, {self.out_features}, bias={self.b is not None})"


class TiedDense(Layer):
    """Decoder layer that reuses an encoder Dense's weights transposed:  y = x Wᵀ + c.

    Shapes: x (N, D_out), W (D_in, D_out) *shared with* ``dense``, c (D_in,), y (N, D_in).
    Gradients: dL/dW += dyᵀ x (added to the same Parameter the encoder adds xᵀ dy to,
    so W's gradient is the sum of both uses),  dL/dc = Σ_n dy_n,  dL/dx = dy W.
    """

    def __init__(self, dense, bias=True):
        if not isinstance(dense, Dense):
            raise TypeError(f"TiedDense needs the Dense layer whose W it shares, got {type(dense).__name__}")
        self.tied_to = dense
        self.W = dense.W
        self.b = Parameter(np.zeros(dense.in_features, dense.W.dtype), "b") if bias else None

    def named_parameters(self):
        return [("W", self.W)] + ([("b", self.b)] if self.b is not None else [])

    def forward(self, x):
        self._check_input(x, (None, self.W.shape[1]), self.W.dtype, finite=False)
        y = x @ self.W.value.T
        _add_bias(y, self.b, self, x, self.W.value)      # and the finiteness check
        self._save(y, x=x)
        return y

    def backward(self, dy):
        x = self._saved(dy)["x"]
        self.W.add_matmul(dy.T, x)     # W.grad += dyᵀ x
        _add_bias_grad(self.b, dy)
        return dy @ self.W.value if self.input_grad else None

    def __repr__(self):
        return f"TiedDense({self.W.shape[1]}, {self.W.shape[0]}, tied)"
