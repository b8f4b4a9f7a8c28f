"""float32 e^-|z|, log1p(e) and tanh written out as arithmetic, so that loops calling them vectorize.

A loop that calls libm's ``exp`` or ``log1p`` runs one element at a time (Numba has no vector
math library here): ~10 ns per element for the sigmoid, against ~1 ns for the same loop with
the exp written out (0.2 ns for a ReLU). Written out, the functions vectorize with the rest of the loop. They are
``backend.helper`` functions: plain Python, compiled into each kernel that calls them.

e^-|z| (Cody & Waite 1980): for x = -|z| in [-87.33, 0], x = n ln 2 + r with
n = round(x / ln 2) and |r| <= ln 2 / 2, so e^x = 2^n e^r. 2^n is built from its bits (the
exponent field holds n + 127); e^r is its Taylor polynomial to r^7 (truncation below 1e-8
relative, under float32's 6e-8). ln 2 is split as 355/512, for which n · 355/512 is exact,
plus the rest. Below -126 ln 2 = -87.3365, e^x is a denormal (slow, and below float32's
smallest normal): the result is 0 from -87.33 down.

No step of these functions makes a denormal for an input that is 0 or at least 1e-30 in
magnitude (float32 arithmetic on denormals runs ~15x slower here; below 6e-35 the innermost
r · c7 of the polynomial is one, unless FMA contraction fuses it away, as it does in the
kernels). Kernels that call them compile with ``backend.HELPER_FASTMATH``.

Accuracy, measured so over every float32 in range, in units in the last place of the exact
value: e^-|z| 0.94, log1p 2.88, tanh 2.57 (AMD EPYC Zen 3 with FMA, Numba 0.68 / LLVM 22;
another CPU or LLVM may round differently). ``ERROR_ULPS`` holds the bounds the tests hold
them to.
"""
import math

import numpy as np

from .backend import helper

LOG2_E = np.float32(1 / math.log(2))
LN2_HIGH = np.float32(355 / 512)
LN2_LOW = np.float32(math.log(2) - 355 / 512)
EXP_TAYLOR = tuple(np.float32(1 / math.factorial(k)) for k in range(9))    # 1/0! .. 1/8!
UNDERFLOW = np.float32(87.33)     # e^-87.34 is below float32's smallest normal: use 0
ERROR_ULPS = {"exp": 1.0, "log1p": 2.9, "tanh": 2.6}


@helper
def exp_neg_abs_float32(z):
    """e^-|z| for a float32 scalar z: in (0, 1], and 0 for |z| > 87.33. A NaN z gives a
    finite value (e^-87.33): callers that must see NaN check z themselves."""
    c0, c1, c2, c3, c4, c5, c6, c7, _ = EXP_TAYLOR
    x = max(-UNDERFLOW, -abs(z))                 # this order: a NaN z gives -87.33, not NaN
    n = np.floor(x * LOG2_E + np.float32(0.5))
    r = x - n * LN2_HIGH - n * LN2_LOW
    exp_r = c0 + r * (c1 + r * (c2 + r * (c3 + r * (c4 + r * (c5 + r * (c6 + r * c7))))))
    two_to_n = np.int32((np.int32(n) + np.int32(127)) << np.int32(23)).view(np.float32)
    return np.float32(0) if abs(z) > UNDERFLOW else exp_r * two_to_n


def exp_neg_abs_float32_numpy(z):
    """The twins' e^-|z| (float32 array z): NumPy's exp, 0 where the loops give 0."""
    a = np.abs(z)
    return np.where(a > UNDERFLOW, np.float32(0), np.exp(-a))


#: 1, 1/3, ..., 1/15 (``losses.atanh_coefficients``' first 8, in float32)
ATANH_SERIES = tuple(np.float32(1 / (2 * k + 1)) for k in range(8))


#: floors for the small quantities below, under which they no longer change the sums they
#: go into (1 + e/2, 1 + s² (...)) in float32, and above the denormals
_E_FLOOR = np.float32(2.0 ** -30)
_TWO_S_FLOOR = np.float32(2.0 ** -39)


@helper
def log1p_float32(e):
    """log1p(e) for a float32 e in [0, 1], by log1p(e) = 2 atanh(s) with s = e / (2 + e)
    <= 1/3: the series 2 Σ_k s^(2k+1) / (2k+1) in 8 terms, truncated below float32's
    rounding ((1/9)^8 / 17 < 2e-9). 2s is computed as e / (1 + e/2): the same bits as
    2 · e / (2 + e), but with no denormal on the way for a normal e."""
    a0, a1, a2, a3, a4, a5, a6, a7 = ATANH_SERIES
    two_s = e / (np.float32(1) + np.float32(0.5) * max(e, _E_FLOOR))
    s = np.float32(0.5) * max(two_s, _TWO_S_FLOOR)
    s2 = s * s
    series = a1 + s2 * (a2 + s2 * (a3 + s2 * (a4 + s2 * (a5 + s2 * (a6 + s2 * a7)))))
    return two_s * (a0 + s2 * series)


@helper
def tanh_float32(v):
    """tanh(v) for a float32 scalar v: tanh|v| = -m / (2 + m) with m = e^(-2|v|) - 1, the
    sign of v restored. m is computed as expm1, never as e^x - 1 (which would cancel for
    small |v|): with x = n ln 2 + r as in ``exp_neg_abs_float32``, m = 2^n expm1(r) + (2^n - 1),
    expm1(r) by its Taylor polynomial to r^8; for |x| < ln 2 / 2, n = 0 and m = expm1(x).
    A NaN v gives a finite value: callers check v themselves."""
    _, c1, c2, c3, c4, c5, c6, c7, c8 = EXP_TAYLOR
    x = max(np.float32(-20), np.float32(-2) * abs(v))   # tanh is 1 from |v| = 9.01: no denormals
    n = np.floor(x * LOG2_E + np.float32(0.5))
    r = x - n * LN2_HIGH - n * LN2_LOW
    expm1_r = r * (c1 + r * (c2 + r * (c3 + r * (c4 + r * (c5 + r * (c6 + r * (c7 + r * c8)))))))
    two_to_n = np.int32((np.int32(n) + np.int32(127)) << np.int32(23)).view(np.float32)
    m = two_to_n * expm1_r + (two_to_n - np.float32(1))
    return np.float32(math.copysign(-m / (np.float32(2) + m), v))
