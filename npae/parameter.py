"""Parameter: a value and the gradient of the loss with respect to it."""
import numpy as np

from ._checks import FLOAT_DTYPES
from .errors import DTypeError


class Parameter:
    """A trainable array and its gradient, same shape and dtype.

    Layers *add* into ``grad`` (``grad += ...``) and never overwrite it: a
    Parameter shared by two layers (tied weights) then receives the sum of both
    contributions by itself. Whoever runs the backward pass zeroes the
    gradients first (``Sequential.zero_grad``, the optimizer's ``zero_grad``).
    """

    def __init__(self, value, name="param"):
        value = np.asarray(value)
        if value.dtype not in FLOAT_DTYPES:
            raise DTypeError(f"Parameter {name!r}: value must be float32 or float64, got {value.dtype}")
        # C-contiguous and writeable (optimizers update in place): copies only when needed,
        # e.g. a read-only array, which would otherwise fail at the first optimizer step.
        self.value = np.require(value, requirements=["C", "W"])
        self.grad = np.zeros_like(self.value)
        self.name = name

    @property
    def shape(self):
        return self.value.shape

    @property
    def dtype(self):
        return self.value.dtype

    @property
    def size(self):
        return self.value.size

    def zero_grad(self):
        self.grad.fill(0)

    def __repr__(self):
        return f"Parameter({self.name!r}, shape={self.shape}, dtype={self.dtype})"
