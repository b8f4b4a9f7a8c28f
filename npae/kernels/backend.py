"""The backend switch: every kernel has Numba loops and a plain NumPy twin.

``set_backend("numpy")`` (or ``NPAE_BACKEND=numpy`` in the environment) makes
all of npae run on the twins, so every line can be stepped through in a
debugger. The default, ``"numba"``, compiles a kernel's loops the first time it
is called (``import npae`` compiles nothing and does not import Numba).
"""
import os
import warnings

BACKENDS = ("numba", "numpy")
REGISTRY = {}   # name -> Kernel, so tests can run every pair of twins


def _backend_from_env():
    name = os.environ.get("NPAE_BACKEND", "numba").strip().lower() or "numba"
    if name not in BACKENDS:
        raise ValueError(f"NPAE_BACKEND must be one of {BACKENDS}, got {name!r}")
    return name


_backend = _backend_from_env()


def set_backend(name):
    """Choose ``"numba"`` (compiled loops) or ``"numpy"`` (the readable twins)."""
    global _backend
    if name not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {name!r}")
    _backend = name


def get_backend():
    return _backend


class Kernel:
    """One kernel: ``loops`` (written for Numba) and ``twin`` (NumPy), same signature.

    Kernels work on flat, C-contiguous 1-D arrays and write into ``out``
    arguments they are given; callers reshape (a free view) around them.
    """

    def __init__(self, loops, twin, **jit_options):
        self.name = loops.__name__
        self.loops = loops
        self.twin = twin
        self.jit_options = jit_options
        self._compiled = None
        self.__doc__ = loops.__doc__

    def compiled(self):
        if self._compiled is None:
            try:
                from numba import njit
            except ImportError:  # pragma: no cover - numba is a dependency
                warnings.warn("numba is not importable; npae falls back to its NumPy twins")
                return self.twin
            # error_model="numpy": x / 0 gives inf/nan as in the twins, instead of a
            # per-division zero check that stops LLVM from vectorizing the loop (~7x).
            self._compiled = njit(cache=True, error_model="numpy", **self.jit_options)(self.loops)
        return self._compiled

    def __call__(self, *args):
        if _backend == "numpy":
            return self.twin(*args)
        return (self._compiled or self.compiled())(*args)

    def __repr__(self):
        return f"<npae kernel {self.name}>"


def with_twin(twin, **jit_options):
    """Decorator: ``@with_twin(numpy_version)`` over the loop version registers a Kernel.

    ``jit_options`` go to ``numba.njit``; e.g. ``fastmath={"reassoc"}`` for a kernel that
    sums: reordering the sum is what lets LLVM vectorize it (the value changes in the last
    bits only, as NumPy's own pairwise summation does).
    """
    def wrap(loops):
        kernel = Kernel(loops, twin, **jit_options)
        REGISTRY[kernel.name] = kernel
        return kernel
    return wrap
