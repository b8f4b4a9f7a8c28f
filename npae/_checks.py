"""Input validation shared by layers, losses and optimizers.

Each check names *who* is complaining, what was expected and what arrived, so a
student reading the message knows which line of their code to look at.
"""
import numpy as np

from . import kernels as K
from .errors import DTypeError, NonFiniteError, ShapeError

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def shape_str(shape):
    """(None, 64) -> '(N, 64)': None stands for 'any size'."""
    parts = ["N" if s is None else str(s) for s in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def check_float_array(x, who, name="input", dtype=None):
    """Reject non-arrays, non-float dtypes and (if given) a dtype mismatch."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{who}: {name} must be a numpy.ndarray, got {type(x).__name__}")
    if x.dtype not in FLOAT_DTYPES:
        hint = " (integer images? divide by 255 and cast)" if x.dtype.kind in "iub" else ""
        raise DTypeError(f"{who}: {name} must be float32 or float64, got {x.dtype}{hint}")
    if dtype is not None and x.dtype != dtype:
        raise DTypeError(
            f"{who}: {name} has dtype {x.dtype} but the layer's parameters are {np.dtype(dtype)}; "
            f"cast with .astype(np.{np.dtype(dtype).name}) (npae never upcasts silently)")
    return x


def check_shape(x, expected, who, name="input"):
    """``expected`` is a tuple of ints and ``None`` (any size, at least 1)."""
    shape = x.shape
    if len(shape) != len(expected) or not all([e is None or e == s for e, s in zip(expected, shape)]):
        raise ShapeError(f"{who}: expected {name} of shape {shape_str(expected)}, got {x.shape}")
    if x.size == 0:
        raise ShapeError(f"{who}: {name} is empty (shape {x.shape})")
    return x


def check_finite(x, who, name="input"):
    """Return x (an array of any shape) if every element is finite; NonFiniteError naming
    ``who`` and ``name`` and counting the NaN/inf values otherwise."""
    # This runs on most layers' inputs: a contiguous float array takes the one-pass kernel
    # (3x faster than BLAS's dot x·x, which also needed np.errstate for its overflow warning).
    if x.dtype in FLOAT_DTYPES and x.flags.c_contiguous and x.size:
        finite = K.checks.all_finite(np.asarray(x).reshape(-1))   # asarray: an np.matrix stays 2-D
    else:
        finite = bool(np.isfinite(x).all())
    if finite:
        return x
    raise nonfinite_error(x, who, name)


def nonfinite_error(x, who, name="input"):
    """The NonFiniteError for an ``x`` known to hold NaN or inf (it counts them)."""
    bad = ~np.isfinite(x)
    return NonFiniteError(f"{who}: {name} contains NaN or inf ({int(bad.sum())} of {x.size} values)")
