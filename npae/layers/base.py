"""The layer protocol every npae layer follows.

- ``forward(x)`` computes the output and caches what backward needs.
- ``backward(dy)`` *adds* dL/dparam into each Parameter's ``grad`` and returns
  dL/dx. It never updates weights and never modifies ``dy``.
- ``parameters()`` lists the layer's Parameters (``named_parameters()`` with names).
"""
from .._checks import check_finite, check_float_array, check_shape
from ..errors import ShapeError


class Layer:
    #: input values where the layer's derivative jumps (ReLU: 0). Gradient checks
    #: warn when an input lies this close to one, and test strategies avoid them.
    kinks = ()

    #: False: backward may skip dL/dx and return None. Models set it on the encoder's
    #: first layer, whose input is the data: nobody needs that gradient (one GEMM saved).
    input_grad = True

    @property
    def name(self):
        return type(self).__name__

    def __call__(self, x):
        return self.forward(x)

    def forward(self, x):
        """Abstract: compute y from x and cache what backward needs (``self._save``)."""
        raise NotImplementedError(f"{self.name} must define forward(x)")

    def backward(self, dy):
        """Abstract: add dL/dparam into each Parameter's grad and return dL/dx."""
        raise NotImplementedError(f"{self.name} must define backward(dy)")

    def named_parameters(self):
        """[(name, Parameter), ...]; empty for layers without weights."""
        return []

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.zero_grad()

    # --- helpers for subclasses ------------------------------------------------
    def _check_input(self, x, shape=None, dtype=None, finite=True):
        """Validate ``x``: a float array, of ``shape`` (None = any size), and finite. A layer
        whose kernel checks finiteness in a pass it makes anyway passes ``finite=False``."""
        check_float_array(x, self.name, dtype=dtype)
        if shape is not None:
            check_shape(x, shape, self.name)
        elif x.ndim == 0 or x.size == 0:
            raise ShapeError(f"{self.name}: input must be a non-empty batch, got shape {x.shape}")
        return check_finite(x, self.name) if finite else x

    def _save(self, out, **arrays):
        """Cache arrays for backward, and the shape and dtype ``dy`` must have (out's)."""
        self._cache = arrays
        self._out_shape, self._out_dtype = out.shape, out.dtype

    def _saved(self, dy):
        """Return the forward cache, after checking that ``dy`` fits it."""
        cache = getattr(self, "_cache", None)
        if cache is None:
            raise RuntimeError(f"{self.name}.backward() called before forward(): "
                               "nothing is cached to differentiate")
        check_float_array(dy, f"{self.name}.backward", name="dy", dtype=self._out_dtype)
        if dy.shape != self._out_shape:
            raise ShapeError(f"{self.name}.backward: dy must have the forward output's shape "
                             f"{self._out_shape}, got {dy.shape}")
        return cache

    def kink_distance(self):
        """Smallest |input - kink| over the last forward's input (inf if no kinks)."""
        cache = getattr(self, "_cache", None)
        if not self.kinks or cache is None or "x" not in cache:
            return float("inf")
        import numpy as np
        x = cache["x"]
        return float(min(np.min(np.abs(x - k)) for k in self.kinks))

    def __repr__(self):
        return f"{self.name}()"
