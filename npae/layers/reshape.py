"""Layers that only change the shape: Flatten and Reshape. Backward undoes the reshape."""
import numpy as np

from ..errors import ShapeError
from .base import Layer


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1*d2*...);  dL/dx = dy reshaped back to x's shape."""

    def forward(self, x):
        x = self._check_input(x)
        if x.ndim < 2:
            raise ShapeError(f"Flatten: expected input of shape (N, ...) with ndim >= 2, got {x.shape}")
        y = x.reshape(len(x), -1)
        self._save(y, x_shape=x.shape)
        return y

    def backward(self, dy):
        x_shape = self._saved(dy)["x_shape"]       # checks dy before it is used
        return dy.reshape(x_shape)


class Reshape(Layer):
    """(N, prod(shape)) -> (N, *shape);  dL/dx = dy reshaped back to (N, prod(shape))."""

    def __init__(self, shape):
        self.shape = tuple(int(s) for s in shape)
        if any(s < 1 for s in self.shape):
            raise ValueError(f"Reshape: sizes must be positive, got {self.shape}")

    def forward(self, x):
        x = self._check_input(x)
        size = int(np.prod(self.shape))
        if x.ndim < 2 or int(np.prod(x.shape[1:])) != size:
            raise ShapeError(f"Reshape: expected input of shape (N, ...) with {size} features "
                             f"per example to reshape to (N, *{self.shape}), got {x.shape}")
        y = x.reshape((len(x),) + self.shape)
        self._save(y, x_shape=x.shape)
        return y

    def backward(self, dy):
        x_shape = self._saved(dy)["x_shape"]       # checks dy before it is used
        return dy.reshape(x_shape)

    def __repr__(self):
        return f"Reshape({self.shape})"
