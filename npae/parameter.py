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

    Read ``p.value`` afresh too: an optimizer moves ``value`` and ``grad`` into views of
    its own flat arrays (``FlatParameters``), so an array taken from ``p.value`` before the
    optimizer was made (say ``self.Wt = self.W.value.T`` in a layer's ``__init__``) no
    longer changes when the weights are trained.
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
        = value.size, or for a vector (a bias) (1, n), n = value.size.

        Right after ``zero_grad`` the product goes straight into the gradient array
        (BLAS writes it; no temporary, no clearing, no addition)."""
        m, n = a.shape[0], b.shape[1]
        ndim = self.value.ndim
        fits = ((m, n) == self.shape if ndim == 2 else
                (m == 1 and n == self.size) if ndim == 1 else (m == self.shape[0] and m * n == self.size))
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

    def _lives_in(self, value, grad):
        return self.value is value and self._grad is grad

    def _move_into(self, value, grad):
        """Copy the value (and the gradient, unless a zero is pending) into the given arrays
        of the same shape and dtype, and use them from now on (``FlatParameters``)."""
        now = np.asarray(self.value)       # someone may have replaced it: say so if it no longer fits
        if now.shape != value.shape:
            raise ShapeError(f"Parameter {self.name!r}: value must keep its shape {value.shape}, "
                             f"got {now.shape}")
        if now.dtype != value.dtype:
            raise DTypeError(f"Parameter {self.name!r}: value must keep its dtype {value.dtype}, "
                             f"got {now.dtype}")
        np.copyto(value, now)
        if not self._zero_pending:
            np.copyto(grad, self._grad)
        self.value, self._grad = value, grad

    def __repr__(self):
        return f"Parameter({self.name!r}, shape={self.shape}, dtype={self.dtype})"


class FlatParameters:
    """Parameters of one dtype gathered into two flat arrays, ``values`` and ``grads``.

    Each Parameter's ``value`` and ``grad`` become views into them (their numbers are copied
    in), so a fused optimizer kernel updates every Parameter in one call over one contiguous
    array, instead of one call (and its Python overhead) per Parameter. npae's layers notice
    nothing: they read ``p.value`` and ``p.grad`` afresh each pass. An array taken from
    ``p.value`` *before* the gathering is no longer the Parameter's: read it afresh.

    ``gather()`` checks that every Parameter still lives in the flat arrays and moves it back
    if not (another optimizer may have gathered the same Parameters since), then clears the
    gradients that ``zero_grad`` left pending. It returns (values, grads).
    """

    def __init__(self, params):
        dtypes = {p.dtype for p in params}
        if len(dtypes) != 1:
            raise ValueError(f"FlatParameters: Parameters of one dtype, got {sorted(map(str, dtypes))}")
        self.params = list(params)
        self.dtype = dtypes.pop()
        self.values = np.zeros(sum(p.size for p in self.params), self.dtype)
        self.grads = np.zeros_like(self.values)
        self._views = list(zip(self.views_of(self.values), self.views_of(self.grads)))
        self.gather()

    def views_of(self, flat):
        """Per-Parameter views (of each Parameter's shape) into a flat array laid out like ``values``."""
        views, start = [], 0
        for p in self.params:
            views.append(flat[start:start + p.size].reshape(p.shape))
            start += p.size
        return views

    def gather(self):
        for p, (value, grad) in zip(self.params, self._views):
            if not p._lives_in(value, grad):
                p._move_into(value, grad)
            if p._zero_pending:
                p.grad                  # the property clears a pending gradient
        return self.values, self.grads
