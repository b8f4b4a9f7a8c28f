"""Corruption processes q(x̃ | x) for denoising autoencoders (Vincent et al. 2008, 2010, §4.2).

Each function maps x (N, ...) to x̃ of the same shape and dtype and never modifies x.
Randomness comes from the explicit arrays when given (``mask``, ``noise``, ``salt``: fix
them and a gradient check becomes deterministic), else from ``rng``, a numpy Generator.
"Per example" below means per row: D = the number of values in one example.
"""
import numpy as np

from ._checks import check_finite, check_float_array
from .errors import DTypeError, ShapeError


def _check_x(x, who):
    check_float_array(x, who, "x")
    if x.ndim < 2 or x.size == 0:
        raise ShapeError(f"{who}: expected a non-empty batch x of shape (N, ...), got {x.shape}")
    return check_finite(x, who, "x")


def _check_fraction(fraction, who):
    if not 0 <= fraction <= 1:
        raise ValueError(f"{who}: the corrupted fraction must lie in [0, 1], got {fraction}")


def _rng(rng, who, what):
    if rng is None:
        raise ValueError(f"{who}: give either rng (a numpy.random.Generator) or an explicit {what}")
    return np.random.default_rng(rng)


def _check_mask(mask, x, who, name="mask"):
    if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_:
        raise DTypeError(f"{who}: {name} must be a boolean numpy array, got "
                         f"{getattr(mask, 'dtype', type(mask).__name__)}")
    if mask.shape != x.shape:
        raise ShapeError(f"{who}: {name} must have x's shape {x.shape}, got {mask.shape}")
    return mask


def sample_mask(shape, fraction, rng):
    """Boolean mask (shape) with exactly round(fraction · D) True values per example,
    at uniformly random positions (D = number of values per example)."""
    n, d = shape[0], int(np.prod(shape[1:]))
    n_corrupt = int(round(fraction * d))
    order = np.argsort(rng.random((n, d)), axis=1)[:, :n_corrupt]   # a random subset per row
    mask = np.zeros((n, d), dtype=bool)
    np.put_along_axis(mask, order, True, axis=1)
    return mask.reshape(shape)


def masking_noise(x, fraction=0.3, rng=None, mask=None):
    """Masking noise: x̃ = x ⊙ (1 − m), a fixed fraction ν of each example's values forced to 0.

    mask: boolean, x's shape, True where a value is destroyed (default: drawn from rng with
    exactly round(ν · D) True values per example).
    """
    who = "masking_noise"
    _check_x(x, who)
    _check_fraction(fraction, who)
    if mask is None:
        mask = sample_mask(x.shape, fraction, _rng(rng, who, "mask"))
    _check_mask(mask, x, who)
    return np.where(mask, x.dtype.type(0), x)


def gaussian_noise(x, sigma=0.1, rng=None, noise=None):
    """Additive isotropic Gaussian noise: x̃ = x + σ ε,  ε ~ N(0, I).

    noise: ε itself (x's shape; standard normal), cast to x's dtype; default drawn from rng.
    """
    who = "gaussian_noise"
    _check_x(x, who)
    if not sigma >= 0:
        raise ValueError(f"{who}: sigma must be >= 0, got {sigma}")
    if noise is None:
        noise = _rng(rng, who, "noise").standard_normal(x.shape, dtype=x.dtype)
    check_float_array(noise, who, "noise")
    if noise.shape != x.shape:
        raise ShapeError(f"{who}: noise must have x's shape {x.shape}, got {noise.shape}")
    check_finite(noise, who, "noise")
    return x + x.dtype.type(sigma) * noise.astype(x.dtype, copy=False)


def salt_and_pepper(x, fraction=0.1, rng=None, mask=None, salt=None, low=0.0, high=1.0):
    """Salt-and-pepper noise: a fixed fraction ν of each example's values is set to ``low``
    or ``high`` by a fair coin flip (x̃ = high where mask & salt, low where mask & ~salt).

    mask: boolean, True where a value is corrupted (default: round(ν · D) per example);
    salt: boolean, True where a corrupted value becomes ``high`` (default: fair coins).
    """
    who = "salt_and_pepper"
    _check_x(x, who)
    _check_fraction(fraction, who)
    if mask is None:
        mask = sample_mask(x.shape, fraction, _rng(rng, who, "mask"))
    if salt is None:
        salt = _rng(rng, who, "salt").random(x.shape) < 0.5
    _check_mask(mask, x, who)
    _check_mask(salt, x, who, "salt")
    flipped = np.where(salt, x.dtype.type(high), x.dtype.type(low))
    return np.where(mask, flipped, x)


#: name -> (function, name of its level argument, names of its explicit noise arrays)
CORRUPTIONS = {
    "masking": (masking_noise, "fraction", ("mask",)),
    "gaussian": (gaussian_noise, "sigma", ("noise",)),
    "salt_and_pepper": (salt_and_pepper, "fraction", ("mask", "salt")),
}


def corrupt(x, kind, level, rng=None, **noise):
    """Apply the corruption called ``kind`` ("masking", "gaussian", "salt_and_pepper") at
    ``level`` (ν or σ); ``noise`` holds that corruption's explicit arrays, if any."""
    if kind not in CORRUPTIONS:
        raise ValueError(f"corruption must be one of {sorted(CORRUPTIONS)}, got {kind!r}")
    function, level_name, noise_names = CORRUPTIONS[kind]
    unexpected = set(noise) - set(noise_names)
    if unexpected:
        raise TypeError(f"{kind} corruption takes the noise arrays {list(noise_names)}, "
                        f"got unexpected {sorted(unexpected)}")
    return function(x, **{level_name: level}, rng=rng, **noise)
