"""The reference solutions: npae's own implementations, called with each exercise's signature.

Nothing here re-derives a gradient; each function builds the npae component, runs its forward
pass and returns what its backward pass computes. (So the checkers pass the reference exactly
when npae's own layers pass their gradient checks.)
"""
import numpy as np

from .. import gaussian as G
from .. import kernels as K
from ..layers import Conv2D, Dense, MaxPool2D, ReLU
from ..regularizers import Contractive, SparsityKL


def dense_backward(x, W, dy):
    """npae.Dense.backward: (dx, dW, db)."""
    layer = Dense(*W.shape, dtype=W.dtype)
    layer.W.value[...] = W
    layer.forward(x)
    dx = layer.backward(dy)
    return dx, layer.W.grad, layer.b.grad


def sigmoid_backward(y, dy):
    """npae.Sigmoid.backward from the cached output y: dx = dy ⊙ y (1 − y) (the fused kernel)."""
    y, dy = np.ascontiguousarray(y), np.ascontiguousarray(dy)
    dx = np.empty_like(y)
    K.elementwise.sigmoid_backward(y.reshape(-1), dy.reshape(-1), dx.reshape(-1))
    return dx


def relu_backward(x, dy):
    """npae.ReLU.backward: dx = dy ⊙ [x > 0]."""
    layer = ReLU()
    layer.forward(x)
    return layer.backward(dy)


def conv2d_backward(x, W, dy, stride, padding):
    """npae.Conv2D.backward (square stride and padding): (dx, dW, db)."""
    layer = Conv2D(W.shape[1], W.shape[0], W.shape[2:], stride=stride, padding=padding,
                   dtype=W.dtype)
    layer.W.value[...] = W
    layer.forward(x)
    dx = layer.backward(dy)
    return dx, layer.W.grad, layer.b.grad


def maxpool_backward(x, dy, kernel_size, stride):
    """npae.MaxPool2D.backward: dx."""
    layer = MaxPool2D(kernel_size, stride)
    layer.forward(x)
    return layer.backward(dy)


def sparse_kl_backward(h, rho):
    """npae.regularizers.SparsityKL.backward: ∂/∂h Σ_j KL(ρ ‖ ρ̂_j)."""
    penalty = SparsityKL(rho)
    penalty.forward(h)
    return penalty.backward()


def contractive_backward(h, W):
    """npae.regularizers.Contractive.backward: (∂P/∂h, ∂P/∂W), P = (1/N) Σ_n ‖J_f(x_n)‖²_F."""
    penalty = Contractive()
    penalty.forward(h, W)
    return penalty.backward()


def reparameterize_backward(dz, log_var, eps):
    """npae.gaussian.reparameterize_backward: (dL/dμ, dL/dlog σ²)."""
    return G.reparameterize_backward(dz, log_var, eps)
