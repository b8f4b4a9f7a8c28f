"""Nearest-neighbour upsampling (compare npae.layers.upsample)."""
import numpy as np

from ...layers import Upsample2D as _Upsample2D


class Upsample2D(_Upsample2D):
    def backward(self, dy):
        self._saved(dy)
        sh, sw = self.scale
        return np.ascontiguousarray(dy[:, :, ::sh, ::sw])
