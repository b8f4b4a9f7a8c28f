"""Parameter: a value and the gradient of the loss with respect to it."""
import numpy as np

from ._checks import FLOAT_DTYPES
from .errors import DTypeError, ShapeError


class Parameter:
    """A trainable array and its gradient, same shape and dtype.

    Layers *add* into ``grad`` (``grad += ...``) and never overwrite it: a
    Parameter shared by two layers (tied weights) then receives the sum of both
    contributions by itself. Whoever runs the backward pass zeroes the
    gradients first (``Sequential.zero_grad``, the optimizer's ``zero_grad``).

    ``zero_grad()`` is lazy: it only marks the gradient as zero. The array is
    cleared when ``grad`` is next read, or skipped altogether when the first
    contribution is a matrix product written straight into it (``add_matmul``):
    a weight gradient is usually the whole product xᵀ dy, and clearing a big W's
    gradient only to add the product to it is two wasted passes over memory.
    So read ``p.grad`` afresh in each backward pass: an array kept from before
    ``zero_grad()`` still holds the old numbers, and what is added to it is lost.
    """

    def __init__(self, value, name="param"):
        value = np.asarray(value)
        if value.dtype not in FLOAT_DTYPES:
            raise DTypeError(f"Parameter {name!r}: value must be float32 or float64, got {value.dtype}")
        # C-contiguous and writeable (optimizers update in place): copies only when needed,
        # e.g. a read-only array, which would otherwise fail at the first optimizer step.
        self.value = np.require(value, requirements=["C", "W"])
        self._grad = np.zeros_like(self.value)
        self._zero_pending = True    # _grad's numbers stand for zeros (it is zeros now, too)
        self.name = name

    @property
    def grad(self):
        """dL/dvalue, an array of the value's shape and dtype (zeros after ``zero_grad``)."""
        if self._zero_pending:
            self._grad.fill(0)
            self._zero_pending = False
        return self._grad

    @grad.setter
    def grad(self, new):
        # ``p.grad += g`` reads, adds in place, then assigns the same array back.
        if new is self._grad:
            return
        new = np.asarray(new)
        if new.shape != self.shape:
            raise ShapeError(f"Parameter {self.name!r}: grad must have shape {self.shape}, got {new.shape}")
        np.copyto(self._grad, new)
        self._zero_pending = False

    def add_matmul(self, a, b):
        """grad += a @ b  for a (m, k) and b (k, n): (m, n) must be the value's shape, or for
        a value of more dimensions (a convolution's W) its shape (m, ...) in C order, m · n
        = value.size.

        Right after ``zero_grad`` the product goes straight into the gradient array
        (BLAS writes it; no temporary, no clearing, no addition)."""
        m, n = a.shape[0], b.shape[1]
        fits = (m, n) == self.shape if self.value.ndim == 2 else (m == self.shape[0] and m * n == self.size)
        if not fits:
            raise ShapeError(f"Parameter {self.name!r}: a product of shape ({m}, {n}) cannot be added "
                             f"to a gradient of shape {self.shape} (a transposed product?)")
        if self._zero_pending and a.dtype == b.dtype == self.dtype:
            np.matmul(a, b, out=self._grad.reshape(m, n))
            self._zero_pending = False
        else:
            self.grad += (a @ b).reshape(self.shape)

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
        self._zero_pending = True

    def __repr__(self):
        return f"Parameter({self.name!r}, shape={self.shape}, dtype={self.dtype})"
