"""A finiteness check for layer inputs: one read-only pass, no temporaries. (Dense and ReLU
check inside kernels that make a pass anyway: ``elementwise.add_bias``, ``leaky_relu_forward``.)"""
import numpy as np

from .backend import with_twin


def _all_finite_numpy(x):
    return bool(np.isfinite(x).all())


# x - x is 0 for a finite x and NaN for NaN or ±inf, so the sum is NaN exactly when one
# element is not finite. "reassoc" lets LLVM vectorize the sum. Keep exactly that flag:
# with "nnan" LLVM may fold x - x to 0, and "reassoc" with "nsz" lets it cancel the sum's
# terms and drop the loop; either way the check would pass everything.
@with_twin(_all_finite_numpy, fastmath={"reassoc"})
def all_finite(x):
    """True when no element of the flat array x is NaN or ±inf (True for an empty x)."""
    if x.size == 0:
        return True
    total = x[0] - x[0]
    for i in range(x.size):
        total += x[i] - x[i]
    return total == total
