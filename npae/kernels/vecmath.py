"""float32 e^-|z|, log1p(e) and tanh written out as arithmetic, so that the loops calling them
vectorize.

A loop that calls libm's ``exp`` or ``log1p`` runs one element at a time (Numba has no vector
math library here): ~10 ns per element for the sigmoid, against ~0.2 ns for a loop of plain
arithmetic. Written out, the functions vectorize with the rest of the loop. They are
``backend.helper`` functions: plain Python, compiled into each kernel that calls them.

e^-|z| (Cody & Waite 1980): for x = -|z| in [-87.33, 0], x = n ln 2 + r with
n = round(x / ln 2) and |r| <= ln 2 / 2, so e^x = 2^n e^r. 2^n is built from its bits (the
exponent field holds n + 127); e^r is its Taylor polynomial to r^7 (truncation below 1e-8
relative, under float32's 6e-8). ln 2 is split as 355/512, for which n · 355/512 is exact,
plus the rest. Below -87.33, e^x would be a denormal (slow, and below float32's smallest
normal): the result is 0 there.

Never compile a caller with fastmath "nsz" next to "reassoc": LLVM would merge the two
halves of ln 2 back into one rounded constant.
"""
import math

import numpy as np

from .backend import helper

LOG2_E = np.float32(1 / math.log(2))
LN2_HIGH = np.float32(355 / 512)
LN2_LOW = np.float32(math.log(2) - 355 / 512)
EXP_TAYLOR = tuple(np.float32(1 / math.factorial(k)) for k in range(9))    # 1/0! .. 1/8!
UNDERFLOW = np.float32(87.33)     # e^-87.34 is below float32's smallest normal: use 0


@helper
def exp_neg_abs_float32(z):
    """e^-|z| for a float32 scalar z: in (0, 1], and 0 for |z| > 87.33. Measured over every
    7th float32 in [0, 87.33]: within 1.22 ulps of the exact value (NumPy's float32 exp: 2.4).
    A NaN z gives a finite value (e^-87.33): callers that must see NaN check z themselves."""
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


@helper
def log1p_float32(e):
    """log1p(e) for a float32 e in [0, 1], by log1p(e) = 2 atanh(s) with s = e / (2 + e)
    <= 1/3: the series 2 Σ_k s^(2k+1) / (2k+1) in 8 terms, truncated below float32's
    rounding ((1/9)^8 / 17 < 2e-9). Measured over every 3rd float32 in (0, 1]: within 2.9
    ulps of the exact value (NumPy's float32 log1p: 0.83)."""
    a0, a1, a2, a3, a4, a5, a6, a7 = ATANH_SERIES
    s = e / (np.float32(2) + e)
    s2 = s * s
    series = a1 + s2 * (a2 + s2 * (a3 + s2 * (a4 + s2 * (a5 + s2 * (a6 + s2 * a7)))))
    return np.float32(2) * s * (a0 + s2 * series)


@helper
def tanh_float32(v):
    """tanh(v) for a float32 scalar v: tanh|v| = -m / (2 + m) with m = e^(-2|v|) - 1, the
    sign of v restored. m is computed as expm1, never as e^x - 1 (which would cancel for
    small |v|): with x = n ln 2 + r as in ``exp_neg_abs_float32``, m = 2^n expm1(r) + (2^n - 1),
    expm1(r) by its Taylor polynomial to r^8; for |x| < ln 2 / 2, n = 0 and m = expm1(x).
    Measured over every 7th float32 in [0, 9.1] (tanh is 1 in float32 beyond): within 2.5
    ulps of the exact value. A NaN v gives a finite value: callers check v themselves."""
    _, c1, c2, c3, c4, c5, c6, c7, c8 = EXP_TAYLOR
    x = max(-UNDERFLOW, np.float32(-2) * abs(v))
    n = np.floor(x * LOG2_E + np.float32(0.5))
    r = x - n * LN2_HIGH - n * LN2_LOW
    expm1_r = r * (c1 + r * (c2 + r * (c3 + r * (c4 + r * (c5 + r * (c6 + r * (c7 + r * c8)))))))
    two_to_n = np.int32((np.int32(n) + np.int32(127)) << np.int32(23)).view(np.float32)
    m = two_to_n * expm1_r + (two_to_n - np.float32(1))
    return math.copysign(-m / (np.float32(2) + m), v)     # (-m: +0 at v = 0, not -0)
