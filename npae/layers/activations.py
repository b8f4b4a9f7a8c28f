"""Element-wise activations. Each backward is one fused kernel: dx = dy * f'(x).

Any input shape works; the output has the input's shape and dtype.
"""
import numpy as np

from .. import kernels as K
from .._checks import nonfinite_error
from .base import Layer


def _flat(a):
    return a.reshape(-1)   # a view: kernels loop over flat contiguous arrays


def _new(x):
    return np.empty(x.shape, x.dtype)   # C-contiguous, so _flat() is a view


class Sigmoid(Layer):
    """y = s(x) = 1 / (1 + e^-x), computed without overflow for large |x|.

    dL/dx = dy * y (1 - y)   (uses the cached output y).
    """

    def forward(self, x):
        x = np.ascontiguousarray(self._check_input(x, finite=False))
        y = _new(x)
        if not K.elementwise.sigmoid(_flat(x), _flat(y)):
            raise nonfinite_error(x, self.name)      # the kernel checked x as it went
        self._save(y, y=y)
        return y

    def backward(self, dy):
        y = self._saved(dy)["y"]
        dx = _new(y)
        K.elementwise.sigmoid_backward(_flat(y), _flat(np.ascontiguousarray(dy)), _flat(dx))
        return dx


class Tanh(Layer):
    """y = tanh(x);  dL/dx = dy * (1 - y²)."""

    def forward(self, x):
        x = np.ascontiguousarray(self._check_input(x, finite=False))
        y = _new(x)
        if not K.elementwise.tanh(_flat(x), _flat(y)):
            raise nonfinite_error(x, self.name)
        self._save(y, y=y)
        return y

    def backward(self, dy):
        y = self._saved(dy)["y"]
        dx = _new(y)
        K.elementwise.tanh_backward(_flat(y), _flat(np.ascontiguousarray(dy)), _flat(dx))
        return dx


class LeakyReLU(Layer):
    """y = x if x > 0 else alpha x;  dL/dx = dy * (1 if x > 0 else alpha).

    Not differentiable at x = 0 (the kink); backward uses slope alpha there.
    """

    kinks = (0.0,)

    def __init__(self, alpha=0.01):
        if not 0 <= alpha < 1:
            raise ValueError(f"{self.name}: alpha must be in [0, 1), got {alpha}")
        self.alpha = float(alpha)

    def forward(self, x):
        x = np.ascontiguousarray(self._check_input(x, finite=False))
        y = _new(x)
        # alpha in x's dtype: a Python float would make the float32 loop float64
        if not K.elementwise.leaky_relu_forward(_flat(x), x.dtype.type(self.alpha), _flat(y)):
            raise nonfinite_error(x, self.name)      # the kernel checked x as it went
        self._save(y, x=x)
        return y

    def backward(self, dy):
        x = self._saved(dy)["x"]
        dx = _new(x)   # a new array: the upstream dy is never masked in place
        K.elementwise.leaky_relu_backward(_flat(x), _flat(np.ascontiguousarray(dy)),
                                          x.dtype.type(self.alpha), _flat(dx))
        return dx

    def __repr__(self):
        return f"{self.name}(alpha={self.alpha})"


class ReLU(LeakyReLU):
    """y = max(x, 0);  dL/dx = dy * [x > 0]  (gradient 0 at the kink x = 0)."""

    def __init__(self):
        super().__init__(alpha=0.0)

    def __repr__(self):
        return "ReLU()"


class Softplus(Layer):
    """y = log(1 + e^x) = max(x, 0) + log1p(e^-|x|)  (stable);  dL/dx = dy * s(x)."""

    def forward(self, x):
        x = np.ascontiguousarray(self._check_input(x, finite=False))
        y = _new(x)
        if not K.elementwise.softplus(_flat(x), _flat(y)):
            raise nonfinite_error(x, self.name)      # the kernel checked x as it went
        self._save(y, x=x)
        return y

    def backward(self, dy):
        x = self._saved(dy)["x"]
        dx = _new(x)
        K.elementwise.softplus_grad(_flat(x), _flat(np.ascontiguousarray(dy)), _flat(dx))
        return dx


class Identity(Layer):
    """y = x;  dL/dx = dy (a copy, so callers may modify it freely)."""

    def forward(self, x):
        x = self._check_input(x)
        self._save(x)
        return x

    def backward(self, dy):
        self._saved(dy)
        return dy.copy()
