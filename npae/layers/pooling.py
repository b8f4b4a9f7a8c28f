"""Pooling over NCHW images: MaxPool2D and AvgPool2D (no padding; windows may overlap).

Window (i, j) covers rows i·s_h … i·s_h + k_h − 1 and columns j·s_w … j·s_w + k_w − 1 of
every channel; the output is (N, C, H_out, W_out) with H_out = ⌊(H − k_h) / s_h⌋ + 1.
``stride`` defaults to the kernel size (non-overlapping windows); stride < kernel
gives overlapping windows, where one input pixel feeds several outputs and its
gradient is the sum over them. Both dtypes work; the output keeps the input's.
"""
import numpy as np

from .. import kernels as K
from .base import Layer
from .conv import check_images, output_grid, pair


class _Pool2D(Layer):
    """Shared by both pools: kernel, stride (default: the kernel), shape checks."""

    def __init__(self, kernel_size, stride=None, input_shape=None):
        self.kernel_size = pair(kernel_size, f"{self.name}: kernel_size", 1)
        self.stride = self.kernel_size if stride is None else pair(stride, f"{self.name}: stride", 1)
        self.input_shape = None if input_shape is None else tuple(int(s) for s in input_shape)

    def _prepare(self, x):
        x = check_images(self, x)
        ho, wo = output_grid(self, x.shape, self.kernel_size, self.stride)
        return x, np.empty(x.shape[:2] + (ho, wo), x.dtype)

    def output_shape(self, x_shape):
        """(N, C, H_out, W_out) for an input of shape (N, C, H, W)."""
        return tuple(x_shape[:2]) + output_grid(self, tuple(x_shape), self.kernel_size, self.stride)

    def __repr__(self):
        return f"{self.name}(kernel_size={self.kernel_size}, stride={self.stride})"


class MaxPool2D(_Pool2D):
    """y[n, c, i, j] = max over window (i, j) of x[n, c].

    dL/dx: each dy[n, c, i, j] goes to the position of its window's maximum (summed when
    overlapping windows share a maximum); every other input gets 0.

    Ties: the gradient goes to the *first* maximal position in row-major window order
    (top row first, then left to right), in both backends, so it is deterministic. At a
    tie the max is not differentiable, so gradient checks must draw inputs without
    ties: tests/layers/test_pooling.py uses a permutation of distinct values, scaled.
    ``kink_distance()`` reports how close the last input came to a tie (half the gap
    between a window's largest and second-largest value), and ``check_layer`` warns
    when it is below the finite-difference step.
    """

    def forward(self, x):
        x, y = self._prepare(x)
        argmax = np.empty(y.shape, np.int64)      # flat index row·W + column within the plane
        K.pooling.maxpool_forward(x, *self.kernel_size, *self.stride, y, argmax)
        self._save(y, x=x, argmax=argmax)
        return y

    def backward(self, dy):
        cache = self._saved(dy)
        dx = np.empty(cache["x"].shape, dy.dtype)
        K.pooling.maxpool_backward(np.ascontiguousarray(dy), cache["argmax"], dx)
        return dx

    def kink_distance(self):
        """Half the smallest gap between the two largest values of a window (inf if no
        forward yet or 1x1 windows): a perturbation that large swaps which one wins."""
        cache = getattr(self, "_cache", None)
        kh, kw = self.kernel_size
        if cache is None or kh * kw == 1:
            return float("inf")
        windows = K.pooling.pool_windows(cache["x"], kh, kw, *self.stride)
        top_two = np.sort(windows.reshape(windows.shape[:4] + (kh * kw,)), axis=-1)[..., -2:]
        return float(np.min(top_two[..., 1] - top_two[..., 0]) / 2)


class AvgPool2D(_Pool2D):
    """y[n, c, i, j] = (1 / (k_h k_w)) Σ over window (i, j) of x[n, c].

    dL/dx[n, c, r, s] = Σ over the windows containing (r, s) of dy[n, c, i, j] / (k_h k_w).
    """

    def forward(self, x):
        x, y = self._prepare(x)
        K.pooling.avgpool_forward(x, *self.kernel_size, *self.stride, y)
        self._save(y, x_shape=x.shape)
        return y

    def backward(self, dy):
        cache = self._saved(dy)
        dx = np.empty(cache["x_shape"], dy.dtype)
        K.pooling.avgpool_backward(np.ascontiguousarray(dy), *self.kernel_size, *self.stride, dx)
        return dx
