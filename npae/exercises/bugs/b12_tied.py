"""A tied decoder layer y = x Wᵀ + c (compare npae.layers.dense.TiedDense)."""
from ...layers import TiedDense as _TiedDense


class TiedDense(_TiedDense):
    def backward(self, dy):
        self._saved(dy)
        if self.b is not None:
            self.b.grad += dy.sum(axis=0)
        return dy @ self.W.value
