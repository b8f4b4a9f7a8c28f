"""Losses. Each gives its value and its gradient with respect to its input.

Reduction, everywhere in npae: **sum over the features, mean over the batch**,

    L = (1/N) Σ_n Σ_d ℓ(pred_nd, target_nd),

so a loss reads "per example, in nats (or squared units)" and its gradient is
dℓ/dpred / N. The first axis is the batch; all others are features.
"""
import math
import warnings

import numpy as np

from . import kernels as K
from ._checks import check_finite, check_float_array
from .errors import DomainError, DomainWarning, ShapeError


class Loss:
    """``forward(pred, target)`` -> float;  ``backward()`` -> dL/dpred (pred's shape/dtype)."""

    @property
    def name(self):
        return type(self).__name__

    def __call__(self, pred, target, *args, **kwargs):
        return self.forward(pred, target, *args, **kwargs)

    def _check(self, pred, target, values=True):
        """Types, shapes and (``values``) finiteness; returns flat contiguous (pred, target)."""
        check_float_array(pred, self.name, "prediction")
        check_float_array(target, self.name, "target", dtype=pred.dtype)
        if pred.shape != target.shape:
            raise ShapeError(f"{self.name}: prediction and target must have the same shape, "
                             f"got {pred.shape} and {target.shape}")
        if pred.ndim == 0 or pred.size == 0:
            raise ShapeError(f"{self.name}: expected a non-empty batch (N, ...), got {pred.shape}")
        if values:
            check_finite(pred, self.name, "prediction")
            check_finite(target, self.name, "target")
        return np.ascontiguousarray(pred).reshape(-1), np.ascontiguousarray(target).reshape(-1)

    def _run(self, kernel, pred, target, *args, checked=None):
        """Call a fused (value, gradient) kernel with scale 1/N; cache the gradient.
        ``checked``: the flat (pred, target) from an earlier ``_check``, if any."""
        p, t = checked if checked is not None else self._check(pred, target)
        grad = np.empty(pred.shape, pred.dtype)
        total = kernel(p, t, *args, _scale(pred), grad.reshape(-1))
        self._grad = grad
        return total / len(pred)

    def backward(self):
        grad = getattr(self, "_grad", None)
        if grad is None:
            raise RuntimeError(f"{self.name}.backward() called before forward()")
        return grad

    def __repr__(self):
        return f"{self.name}()"


class MSE(Loss):
    """Squared error with the ½ convention:  L = (1/N) Σ_n Σ_d ½ (pred_nd − target_nd)².

    dL/dpred = (pred − target) / N.  (The ½ makes this the Gaussian negative
    log-likelihood with σ = 1, up to a constant.)
    """

    def forward(self, pred, target):
        return self._run(K.losses.mse, pred, target)


def _default_clip(dtype):
    return 1e-7 if dtype == np.float32 else 1e-12


class BCE(Loss):
    """Binary cross-entropy on probabilities p in [0, 1]:

        L = (1/N) Σ_n Σ_d −[t log p + (1 − t) log(1 − p)],   targets t in [0, 1].

    p is clipped to [clip, 1 − clip] (default 1e-7 in float32, 1e-12 in float64),
    so the loss is finite; dL/dp = (p − t) / (p (1 − p)) / N at the clipped p.
    Predictions outside [0, 1] are clipped with a ``DomainWarning``; targets
    outside [0, 1] raise ``DomainError`` (a ValueError). Prefer ``BCEWithLogits``.
    """

    def __init__(self, clip=None):
        self.clip = clip

    def forward(self, pred, target):
        p, t = self._check(pred, target)
        _check_unit_interval(t, self.name)
        if p.min() < 0 or p.max() > 1:
            warnings.warn(f"{self.name}: predictions outside [0, 1] were clipped; "
                          "did you mean BCEWithLogits?", DomainWarning, stacklevel=2)
        clip = self.clip if self.clip is not None else _default_clip(pred.dtype)
        low, high = pred.dtype.type(clip), pred.dtype.type(1) - pred.dtype.type(clip)
        return self._run(K.losses.bce, pred, target, low, high, checked=(p, t))


class BCEWithLogits(Loss):
    """Binary cross-entropy on logits z (p = s(z)), in the stable form

        ℓ(z, t) = max(z, 0) − t z + log(1 + e^−|z|)  ( = −[t log s(z) + (1−t) log(1 − s(z))] ),
        L = (1/N) Σ_n Σ_d ℓ(z_nd, t_nd),    dL/dz = (s(z) − t) / N.

    Targets must lie in [0, 1] (``DomainError`` otherwise).
    """

    def forward(self, pred, target):
        p, t = self._check(pred, target, values=False)
        grad = np.empty(pred.shape, pred.dtype)
        # One fused pass: loss sum, gradient, and how far targets stray outside [0, 1].
        total, outside = K.losses.bce_with_logits(p, t, _scale(pred), grad.reshape(-1))
        if outside != 0 or not math.isfinite(total):    # NaN, inf or a bad target somewhere:
            check_finite(pred, self.name, "prediction")  # find it and say what it is
            check_finite(target, self.name, "target")
            _check_unit_interval(t, self.name)
        self._grad = grad
        return total / len(pred)


class GaussianNLL(Loss):
    """Negative log-likelihood of targets under N(pred, σ²), per feature:

        ℓ = ½ [ (t − μ)² / σ² + log(2π σ²) ],   L = (1/N) Σ_n Σ_d ℓ.

    dL/dμ = (μ − t) / (σ² N),   dL/dσ² = ½ (1/σ² − (t − μ)²/σ⁴) / N.

    σ² is fixed (``variance``, default 1) unless ``forward(pred, target, variance=v)``
    gives an array v > 0 broadcastable to pred; then ``variance_grad`` holds dL/dv.
    With σ² = 1 this is MSE plus the constant ½ log(2π) per feature.
    """

    def __init__(self, variance=1.0):
        if not variance > 0:
            raise ValueError(f"GaussianNLL: variance must be > 0, got {variance}")
        self.variance = float(variance)
        self.variance_grad = None

    def forward(self, pred, target, variance=None):
        p, t = self._check(pred, target)
        n = len(pred)
        if variance is None:
            total = self._run(K.losses.mse, pred, target)          # ½ Σ (μ − t)² / N
            self._grad /= pred.dtype.type(self.variance)
            self.variance_grad = None
            return total / self.variance + 0.5 * (p.size / n) * math.log(2 * math.pi * self.variance)
        var = check_float_array(variance, self.name, "variance", dtype=pred.dtype)
        check_finite(var, self.name, "variance")
        try:
            var_full = np.broadcast_to(var, pred.shape)
        except ValueError:
            raise ShapeError(f"{self.name}: variance of shape {var.shape} does not broadcast "
                             f"to the prediction's shape {pred.shape}") from None
        if var.min() <= 0:
            raise DomainError(f"{self.name}: variance must be > 0 everywhere (min {var.min()})")
        diff = pred - target
        sq = diff * diff
        total = 0.5 * float(np.sum(sq / var_full + np.log(2 * np.pi * var_full), dtype=np.float64))
        self._grad = diff / var_full / n
        g = 0.5 * (1 / var_full - sq / (var_full * var_full)) / n
        # sum the broadcast axes back to variance's shape
        extra = g.ndim - var.ndim
        g = g.sum(axis=tuple(range(extra))) if extra else g
        axes = tuple(i for i, s in enumerate(var.shape) if s == 1 and g.shape[i] != 1)
        self.variance_grad = g.sum(axis=axes, keepdims=True) if axes else g
        return total / n


def _scale(pred):
    """1/N in the prediction's dtype: a Python float would make a float32 kernel compute
    its gradient in float64."""
    return pred.dtype.type(1.0 / len(pred))


def _check_unit_interval(t, who):
    lo, hi = t.min(), t.max()
    if lo < 0 or hi > 1:
        raise DomainError(f"{who}: targets must lie in [0, 1], got values in [{lo}, {hi}]")
