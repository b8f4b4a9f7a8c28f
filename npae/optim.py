"""Optimizers: update every Parameter in place with one fused kernel per Parameter."""
import numpy as np

from . import kernels as K
from .parameter import Parameter
from .sequential import unique_parameters


def _collect(params):
    """Accept a model/layer (anything with .parameters()) or an iterable of Parameters."""
    if hasattr(params, "parameters"):
        params = params.parameters()
    params = [p for _, p in unique_parameters((None, p) for p in params)]
    for p in params:
        if not isinstance(p, Parameter):
            raise TypeError(f"optimizer: expected Parameters, got {type(p).__name__}")
    if not params:
        raise ValueError("optimizer: no parameters to optimize")
    return params


def _tiny(dtype):
    return float(np.finfo(dtype).tiny)   # smallest normal number; below it lie denormals


class Optimizer:
    def __init__(self, params, lr):
        if not lr > 0:
            raise ValueError(f"{type(self).__name__}: learning rate must be > 0, got {lr}")
        self.params = _collect(params)
        self.lr = float(lr)

    def zero_grad(self):
        for p in self.params:
            p.zero_grad()


class SGD(Optimizer):
    """Stochastic gradient descent with momentum (optionally Nesterov) and L2 weight decay.

        g ← g + weight_decay · p
        buf ← momentum · buf + g
        p ← p − lr · (g + momentum · buf   if nesterov   else buf)

    With momentum = 0 this is p ← p − lr · g. (Same convention as Sutskever et al. 2013
    as written in most libraries.)
    """

    def __init__(self, params, lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, lr)
        if not 0 <= momentum < 1:
            raise ValueError(f"SGD: momentum must be in [0, 1), got {momentum}")
        if nesterov and momentum == 0:
            raise ValueError("SGD: nesterov=True needs momentum > 0")
        if weight_decay < 0:
            raise ValueError(f"SGD: weight_decay must be >= 0, got {weight_decay}")
        self.momentum, self.nesterov, self.weight_decay = float(momentum), bool(nesterov), float(weight_decay)
        self.buffers = [np.zeros_like(p.value) for p in self.params]

    def step(self):
        for p, buf in zip(self.params, self.buffers):
            K.optim.sgd_update(p.value.reshape(-1), p.grad.reshape(-1), buf.reshape(-1),
                               self.lr, self.momentum, self.nesterov, self.weight_decay,
                               _tiny(p.dtype))


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction and L2 weight decay.

        g ← g + weight_decay · p
        m ← β1 m + (1 − β1) g,        v ← β2 v + (1 − β2) g²
        m̂ = m / (1 − β1ᵗ),           v̂ = v / (1 − β2ᵗ)
        p ← p − lr · m̂ / (√v̂ + eps)

    One fused pass per Parameter; m and v entries below the dtype's smallest
    normal number are flushed to zero (denormals make float arithmetic ~15x slower).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        beta1, beta2 = betas
        if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise ValueError(f"Adam: betas must be in [0, 1), got {betas}")
        if not eps > 0 or weight_decay < 0:
            raise ValueError(f"Adam: need eps > 0 and weight_decay >= 0, got {eps}, {weight_decay}")
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.weight_decay = float(weight_decay)
        self.t = 0
        self.m = [np.zeros_like(p.value) for p in self.params]
        self.v = [np.zeros_like(p.value) for p in self.params]

    def step(self):
        self.t += 1
        bias_correction1 = 1.0 - self.beta1 ** self.t
        bias_correction2 = 1.0 - self.beta2 ** self.t
        for p, m, v in zip(self.params, self.m, self.v):
            K.optim.adam_update(p.value.reshape(-1), p.grad.reshape(-1), m.reshape(-1),
                                v.reshape(-1), self.lr, self.beta1, self.beta2, self.eps,
                                self.weight_decay, bias_correction1, bias_correction2,
                                _tiny(p.dtype))
