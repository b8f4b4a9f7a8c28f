"""The sigmoid (compare npae.layers.activations)."""
import numpy as np

from ...layers import Sigmoid as _Sigmoid


class Sigmoid(_Sigmoid):
    def backward(self, dy):
        y = self._saved(dy)["y"]
        s = 1 / (1 + np.exp(-y))
        return dy * s * (1 - s)
