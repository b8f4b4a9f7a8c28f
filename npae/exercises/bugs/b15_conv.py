"""A 2-D convolution with a loop backward (compare npae.layers.conv)."""
import numpy as np

from ...layers import Conv2D as _Conv2D


class Conv2D(_Conv2D):
    def forward(self, x):
        y = super().forward(x)
        self._cache["x"] = x
        return y

    def backward(self, dy):
        x = self._saved(dy)["x"]
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        dpadded = np.zeros_like(padded)
        W = self.W.value
        for i in range(dy.shape[2]):
            for j in range(dy.shape[3]):
                rows, cols = slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw)
                self.W.grad += np.tensordot(dy[:, :, i, j], padded[:, :, rows, cols], axes=(0, 0))
                dpadded[:, :, rows, cols] = np.tensordot(dy[:, :, i, j], W, axes=(1, 0))
        if self.b is not None:
            self.b.grad += dy.sum(axis=(0, 2, 3))
        return dpadded[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]]
