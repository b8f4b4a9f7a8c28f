"""A dense layer y = x W + b (compare npae.layers.dense)."""
from ...layers import Dense as _Dense


class Dense(_Dense):
    def backward(self, dy):
        x = self._saved(dy)["x"]
        self.W.grad += x.T @ dy
        self.b.grad += dy[0]
        return dy @ self.W.value.T
