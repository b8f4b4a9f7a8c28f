"""Optimizers: update every Parameter in place, one fused kernel call over all of them."""
import math

import numpy as np

from . import kernels as K
from .parameter import FlatParameters, Parameter
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
    """Base class. The Parameters are gathered into one flat array per dtype
    (``FlatParameters``: each Parameter's value and grad become views into it), so a step is
    one fused kernel call over all of them; the optimizer's state is laid out the same way."""

    def __init__(self, params, lr):
        if not lr > 0:
            raise ValueError(f"{type(self).__name__}: learning rate must be > 0, got {lr}")
        self.params = _collect(params)
        self.lr = float(lr)
        dtypes = list(dict.fromkeys(p.dtype for p in self.params))
        self._groups = [FlatParameters([p for p in self.params if p.dtype == d]) for d in dtypes]

    def zero_grad(self):
        for p in self.params:
            p.zero_grad()

    def _new_state(self):
        """A zero state: (one flat array per group, one view per Parameter in ``params`` order)."""
        flats = [np.zeros_like(group.values) for group in self._groups]
        views = {id(p): view for group, flat in zip(self._groups, flats)
                 for p, view in zip(group.params, group.views_of(flat))}
        return flats, [views[id(p)] for p in self.params]

    def _update(self, kernel, flat_states, in_dtype):
        """``kernel(values, grads, *state, *in_dtype(dtype))`` once per dtype group, on the flat
        arrays. ``in_dtype(dtype)`` gives the scalar arguments in that dtype, so float32 runs
        stay float32 and the loops vectorize."""
        for group, *state in zip(self._groups, *flat_states):
            kernel(*group.gather(), *state, *in_dtype(group.dtype))

    # --- state, for checkpoints and resuming (npae.io, npae.checkpoint) -------------------
    #: hyper-parameters and counters (plain numbers) that ``state_dict`` holds
    scalars = ("lr",)
    #: names of the per-Parameter state lists (one array per Parameter, in ``params`` order)
    buffer_names = ()

    def state_dict(self):
        """Everything a resumed run needs: {scalar name: number, buffer name: [array per
        Parameter]}. The arrays are the optimizer's own (copy them to keep a snapshot)."""
        state = {name: getattr(self, name) for name in self.scalars}
        state.update({name: list(getattr(self, name)) for name in self.buffer_names})
        return state

    def load_state_dict(self, state):
        """Restore a ``state_dict()``: numbers are set, arrays copied into this optimizer's
        own (same Parameters, same order). ValueError naming the entry that does not fit."""
        who = f"{type(self).__name__}.load_state_dict"
        expected = set(self.scalars) | set(self.buffer_names)
        if set(state) != expected:
            raise ValueError(f"{who}: expected the entries {sorted(expected)}, got {sorted(state)}")
        for name in self.buffer_names:
            mine, given = getattr(self, name), list(state[name])
            if len(given) != len(mine):
                raise ValueError(f"{who}: {name!r} holds {len(given)} arrays, this optimizer has "
                                 f"{len(mine)} Parameters")
            for i, (a, b) in enumerate(zip(mine, given)):
                b = np.asarray(b)
                if b.shape != a.shape or b.dtype != a.dtype:
                    raise ValueError(f"{who}: {name}[{i}] must be {a.dtype}{a.shape} like "
                                     f"Parameter {self.params[i].name!r}, got {b.dtype}{b.shape}")
        for name in self.buffer_names:
            for a, b in zip(getattr(self, name), state[name]):
                np.copyto(a, b)
        for name in self.scalars:
            setattr(self, name, type(getattr(self, name))(state[name]))


class SGD(Optimizer):
    """Stochastic gradient descent with momentum (optionally Nesterov) and L2 weight decay.

        g ← g + weight_decay · p
        buf ← momentum · buf + g
        p ← p − lr · (g + momentum · buf   if nesterov   else buf)

    With momentum = 0 this is p ← p − lr · g. (Same convention as Sutskever et al. 2013
    as written in most libraries.)
    """

    def __init__(self, params, lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0):
        if not 0 <= momentum < 1:
            raise ValueError(f"SGD: momentum must be in [0, 1), got {momentum}")
        if nesterov and momentum == 0:
            raise ValueError("SGD: nesterov=True needs momentum > 0")
        if weight_decay < 0:
            raise ValueError(f"SGD: weight_decay must be >= 0, got {weight_decay}")
        super().__init__(params, lr)      # gathers the Parameters: only once the settings are valid
        self.momentum, self.nesterov, self.weight_decay = float(momentum), bool(nesterov), float(weight_decay)
        self._flat_buffers, self.buffers = self._new_state()

    scalars = ("lr", "momentum", "nesterov", "weight_decay")
    buffer_names = ("buffers",)

    def step(self):
        def in_dtype(dtype):             # the kernel's scalar arguments, in the dtype's precision
            cast = dtype.type
            return (cast(self.lr), cast(self.momentum), self.nesterov, cast(self.weight_decay),
                    cast(_tiny(dtype)))
        self._update(K.optim.sgd_update, [self._flat_buffers], in_dtype)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction and L2 weight decay.

        g ← g + weight_decay · p
        m ← β1 m + (1 − β1) g,        v ← β2 v + (1 − β2) g²
        m̂ = m / (1 − β1ᵗ),           v̂ = v / (1 − β2ᵗ)
        p ← p − lr · m̂ / (√v̂ + eps)

    One fused pass over all Parameters; m and v entries below the dtype's smallest
    normal number are flushed to zero (denormals make float arithmetic ~15x slower).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        beta1, beta2 = betas
        if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise ValueError(f"Adam: betas must be in [0, 1), got {betas}")
        if not eps > 0 or weight_decay < 0:
            raise ValueError(f"Adam: need eps > 0 and weight_decay >= 0, got {eps}, {weight_decay}")
        super().__init__(params, lr)      # gathers the Parameters: only once the settings are valid
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.weight_decay = float(weight_decay)
        self.t = 0
        (self._flat_m, self.m), (self._flat_v, self.v) = self._new_state(), self._new_state()

    scalars = ("lr", "beta1", "beta2", "eps", "weight_decay", "t")
    buffer_names = ("m", "v")

    def step(self):
        self.t += 1
        bias_correction1 = 1.0 - self.beta1 ** self.t
        bias_correction2 = 1.0 - self.beta2 ** self.t

        def in_dtype(dtype):             # the kernel's scalar arguments, in the dtype's precision
            cast = dtype.type
            return (cast(self.lr / bias_correction1), cast(self.beta1), cast(self.beta2),
                    cast(1.0 - self.beta1), cast(1.0 - self.beta2), cast(self.eps),
                    cast(self.weight_decay), cast(1.0 / math.sqrt(bias_correction2)), cast(_tiny(dtype)))
        self._update(K.optim.adam_update_threaded, [self._flat_m, self._flat_v], in_dtype)


#: class name -> optimizer class, for files that store an optimizer's state (npae.io).
OPTIMIZERS = {"SGD": SGD, "Adam": Adam}
