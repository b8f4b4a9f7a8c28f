"""Nearest-neighbour upsampling of NCHW images."""
import numpy as np

from .base import Layer
from .conv import check_images, pair


class Upsample2D(Layer):
    """Repeat every pixel into an s_h × s_w block:  y[n, c, i, j] = x[n, c, ⌊i / s_h⌋, ⌊j / s_w⌋].

    Shapes: x (N, C, H, W), y (N, C, H·s_h, W·s_w).

    dL/dx[n, c, r, t] = Σ_{a < s_h, b < s_w} dy[n, c, r·s_h + a, t·s_w + b]: each input pixel
    was copied into a whole block, so its gradient is the *sum* over the block (not one
    strided sample dy[:, :, ::s_h, ::s_w], which drops the other s_h s_w − 1 copies).
    ``scale``: an int or a (s_h, s_w) pair.
    """

    def __init__(self, scale=2, input_shape=None):
        self.scale = pair(scale, "Upsample2D: scale", 1)
        self.input_shape = None if input_shape is None else tuple(int(s) for s in input_shape)

    def forward(self, x):
        x = check_images(self, x)
        n, c, h, w = x.shape
        sh, sw = self.scale
        # view x as (N, C, H, 1, W, 1), broadcast over the block axes, then flatten the blocks
        blocks = np.broadcast_to(x[:, :, :, None, :, None], (n, c, h, sh, w, sw))
        y = blocks.reshape(n, c, h * sh, w * sw)        # reshape copies: y is C-contiguous
        self._save(y, x_shape=x.shape)
        return y

    def backward(self, dy):
        n, c, h, w = self._saved(dy)["x_shape"]
        sh, sw = self.scale
        return dy.reshape(n, c, h, sh, w, sw).sum(axis=(3, 5))

    def output_shape(self, x_shape):
        n, c, h, w = x_shape
        return (n, c, h * self.scale[0], w * self.scale[1])

    def __repr__(self):
        return f"Upsample2D(scale={self.scale})"
