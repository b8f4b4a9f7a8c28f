"""Numba kernels, each with a NumPy twin; see ``backend`` for the switch."""
from . import checks, conv, elementwise, gaussian, losses, optim, pooling, topk  # noqa: F401  (registers the kernels)
from .backend import BACKENDS, REGISTRY, Kernel, get_backend, set_backend, with_twin

__all__ = ["BACKENDS", "REGISTRY", "Kernel", "get_backend", "set_backend", "with_twin"]
