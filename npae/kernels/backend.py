"""The backend switch: every kernel has Numba loops and a plain NumPy twin.

``set_backend("numpy")`` (or ``NPAE_BACKEND=numpy`` in the environment) makes
all of npae run on the twins, so every line can be stepped through in a
debugger. The default, ``"numba"``, compiles a kernel's loops the first time it
is called (``import npae`` compiles nothing and does not import Numba).
"""
import hashlib
import inspect
import os
import pathlib
import sys
import types
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
        if _helpers_called_by(loops) and _flags(jit_options.get("fastmath")) != HELPER_FASTMATH:
            raise ValueError(f"kernel {loops.__name__} calls helpers: it must be compiled with "
                             f"fastmath={set(HELPER_FASTMATH)} (see backend.HELPER_FASTMATH)")
        if isinstance(jit_options.get("fastmath"), frozenset):    # Numba takes a set
            jit_options["fastmath"] = set(jit_options["fastmath"])
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
            jit = njit(cache=True, error_model="numpy", **self.jit_options)
            self._compiled = jit(with_helpers_compiled(self.loops))
        return self._compiled

    def __call__(self, *args):
        if _backend == "numpy":
            return self.twin(*args)
        return (self._compiled or self.compiled())(*args)

    def __repr__(self):
        return f"<npae kernel {self.name}>"


#: The fastmath flags of every kernel that calls helpers: the helpers are compiled into the
#: kernel under its flags, and their accuracy is measured under these. "contract" fuses
#: multiply-adds; "reassoc" lets sums vectorize (and keeps ``total += v - v`` a NaN check).
#: Never "nsz" next to "reassoc" (LLVM would merge vecmath's two halves of ln 2 into one
#: rounded constant: exp off by up to 66 ulps) nor "nnan"/"ninf" (they drop NaN checks).
HELPER_FASTMATH = frozenset({"reassoc", "contract"})


def helper(function):
    """Decorator: a scalar function that kernels call inside their loops (``vecmath``'s exp).

    It stays a plain Python function, so tests and debuggers can call it. When a kernel that
    calls it compiles, ``with_helpers_compiled`` hands Numba a compiled version, inlined into
    the kernel's loop (a call would stop the loop from vectorizing). Kernels call helpers by
    their bare name (``from .vecmath import exp_neg_abs_float32``), with the fastmath flags
    ``HELPER_FASTMATH``.
    """
    function.npae_helper = True
    return function


def with_helpers_compiled(loops):
    """``loops``, or, when it calls helpers, a copy whose globals give Numba their compiled,
    always-inlined versions (the module itself keeps the Python functions). The copy sees
    the module's globals as they are now (Numba treats globals as constants anyway).

    Numba keys a cached function on its own file, not on the files of the functions it
    calls: after an edit of ``vecmath.py`` alone it would load the kernel compiled with the
    old helper. So the copy's name carries a hash of the helpers' source files (and of this
    file, which compiles them), and Numba's cache, which files a function under its name,
    starts afresh when they change. (Old entries stay on disk until ``__pycache__`` goes.)
    """
    helpers = _helpers_called_by(loops)
    if not helpers:
        return loops
    from numba import njit
    namespace = dict(loops.__globals__)
    namespace.update({name: njit(inline="always")(with_helpers_compiled(value))
                      for name, value in helpers.items()})
    copy = types.FunctionType(loops.__code__, namespace, loops.__name__, loops.__defaults__,
                              loops.__closure__)
    copy.__kwdefaults__, copy.__doc__ = loops.__kwdefaults__, loops.__doc__
    digest = hashlib.sha256(b"".join(_source(module) for module in helper_modules(loops))
                            + pathlib.Path(__file__).read_bytes()).hexdigest()
    copy.__qualname__ = f"{loops.__qualname__}__helpers_{digest[:12]}"
    return copy


def _flags(fastmath):
    """njit's ``fastmath`` argument as a set of flags (True is "fast", False or None none)."""
    if isinstance(fastmath, bool) or fastmath is None:
        return {"fast"} if fastmath else set()
    return set(fastmath)


def helper_modules(function):
    """The modules of the helpers ``function`` calls, directly or through other helpers."""
    return list(dict.fromkeys(sys.modules[value.__module__] for value in _all_helpers(function)))


def _source(module):
    """The bytes of a module's file, or of its helpers' source when it has no file (a notebook)."""
    try:
        return pathlib.Path(inspect.getfile(module)).read_bytes()
    except (TypeError, OSError):
        return "".join(inspect.getsource(value) for value in vars(module).values()
                       if getattr(value, "npae_helper", False)).encode()


def _helpers_called_by(function):
    """The helpers ``function`` names at its own level (not inside nested functions or
    comprehensions, which kernels do not use), by name."""
    namespace = function.__globals__
    return {name: namespace[name] for name in function.__code__.co_names
            if getattr(namespace.get(name), "npae_helper", False)}


def _all_helpers(function, found=None):
    """The helpers ``function`` calls, and those they call, and so on (each once)."""
    found = [] if found is None else found
    for value in _helpers_called_by(function).values():
        if value not in found:
            found.append(value)
            _all_helpers(value, found)
    return found


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
