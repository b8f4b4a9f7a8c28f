"""A finiteness check for every layer's input: one read-only pass, no temporaries."""
import numpy as np

from .backend import with_twin


def _all_finite_numpy(x):
    return bool(np.isfinite(x).all())


# x - x is 0 for a finite x and NaN for NaN or ±inf, so the sum is NaN exactly when one
# element is not finite. "reassoc" lets LLVM vectorize the sum; it does not let it fold
# x - x to 0 (that would need the no-NaN and no-inf flags, which stay off).
@with_twin(_all_finite_numpy, fastmath={"reassoc"})
def all_finite(x):
    """True when no element of the flat array x is NaN or ±inf."""
    total = x[0] - x[0]
    for i in range(x.size):
        total += x[i] - x[i]
    return total == total
