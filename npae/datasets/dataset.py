"""The Dataset every ``load`` returns, and binarization."""
from dataclasses import dataclass

import numpy as np

from .._checks import check_finite, check_float_array
from ..errors import DomainError

BINARIZATIONS = (None, "static", "dynamic")


@dataclass(repr=False)
class Dataset:
    """Images in [0, 1] with labels, split into a fixed train and test set.

    Fields:
        name           "digits", "mnist", "fashion-mnist" or "shapes"
        x_train        (N_train, D) float images, D = C * H * W; or (N_train, C, H, W) when
                       loaded with ``flat=False`` (the layout conv layers take)
        y_train        (N_train,) int64 class labels (for "shapes": the shape, 0..2)
        x_test, y_test the same for the test set
        image_shape    (C, H, W), e.g. (1, 28, 28): ``x.reshape(-1, *image_shape)`` gives images
        label_names    the name of each class, indexed by label
        factors_train  (N_train, F) float64 generative factors ("shapes" only, else None)
        factors_test   (N_test, F) likewise
        factor_names   the F factor names, e.g. ("shape", "scale", "rotation", "x", "y")
        binarization   None, "static" (x sampled once: x ~ Bernoulli(gray), fixed by the seed)
                       or "dynamic" (x_train keeps the gray values; call ``train_epoch(rng)``
                       for a fresh Bernoulli sample each epoch; x_test is sampled once)
        source         where the data came from (a folder, "scikit-learn", "generated")
        note           anything unusual about this copy (e.g. a partial MNIST), else ""
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    image_shape: tuple
    label_names: tuple = ()
    factors_train: np.ndarray = None
    factors_test: np.ndarray = None
    factor_names: tuple = ()
    binarization: str = None
    source: str = ""
    note: str = ""

    @property
    def n_features(self):
        """D = C * H * W, the length of a flattened image."""
        return int(np.prod(self.image_shape))

    def train_epoch(self, rng):
        """The training images for one epoch.

        With ``binarization="dynamic"`` a new sample x ~ Bernoulli(gray) per call, drawn
        from ``rng`` (a ``numpy.random.Generator``); otherwise ``x_train`` itself.
        """
        if self.binarization != "dynamic":
            return self.x_train
        return binarize(self.x_train, rng)

    def __repr__(self):
        extra = f", binarization={self.binarization!r}" if self.binarization else ""
        note = f", note={self.note!r}" if self.note else ""
        return (f"Dataset({self.name!r}, x_train={self.x_train.shape} {self.x_train.dtype}, "
                f"x_test={self.x_test.shape}, image_shape={self.image_shape}{extra}{note})")


def binarize(x, rng=None, u=None):
    """Stochastic binarization (Salakhutdinov & Murray, ICML 2008): x_b = 1[u < x].

    ``x``: float array in [0, 1]; ``u``: uniform noise of the same shape, or drawn from
    ``rng`` (a Generator or a seed) when not given. Each pixel becomes 1 with probability x.
    Returns an array of x's shape and dtype holding 0 and 1. Raises ``DomainError`` for
    values outside [0, 1] (0..255 pixels would all become 1).
    """
    check_float_array(x, "binarize", "x")
    check_finite(x, "binarize", "x")
    lo, hi = (x.min(), x.max()) if x.size else (0, 0)
    if lo < 0 or hi > 1:
        hint = " (0..255 pixels? divide by 255)" if hi > 1 else ""
        raise DomainError(f"binarize: x holds probabilities and must lie in [0, 1], "
                          f"got values in [{lo}, {hi}]{hint}")
    if u is None:
        u = np.random.default_rng(rng).random(x.shape)
    elif np.shape(u) != x.shape:
        raise ValueError(f"binarize: noise u must have x's shape {x.shape}, got {np.shape(u)}")
    return (u < x).astype(x.dtype)


def make_dataset(name, x_train, y_train, x_test, y_test, image_shape, *, dtype, flat,
                 binarization, seed, **fields):
    """Cast, reshape and (optionally) binarize raw arrays into a ``Dataset``.

    ``x_*`` arrive as float64 or uint8-scaled floats in [0, 1] of shape (N, H, W).
    """
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"load: dtype must be float32 or float64, got {dtype}")
    if binarization not in BINARIZATIONS:
        raise ValueError(f"load: binarize must be one of {BINARIZATIONS}, got {binarization!r}")
    layout = (-1, int(np.prod(image_shape))) if flat else (-1, *image_shape)
    x_train = np.ascontiguousarray(x_train, dtype=dtype).reshape(layout)
    x_test = np.ascontiguousarray(x_test, dtype=dtype).reshape(layout)
    if binarization is not None:
        # separate streams, so the test sample does not depend on the train set's size
        train_seed, test_seed = np.random.SeedSequence(seed).spawn(2)
        train_rng, test_rng = np.random.default_rng(train_seed), np.random.default_rng(test_seed)
        x_test = binarize(x_test, test_rng)
        if binarization == "static":
            x_train = binarize(x_train, train_rng)
    return Dataset(name=name, x_train=x_train, y_train=np.asarray(y_train, np.int64),
                   x_test=x_test, y_test=np.asarray(y_test, np.int64),
                   image_shape=tuple(image_shape), binarization=binarization, **fields)


def every_kth_split(n, k):
    """Deterministic split of range(n): every k-th index (k-1, 2k-1, ...) is test.

    Interleaving keeps both parts spread over the whole file (MNIST's test file puts
    different writer populations in its two halves), and needs no random generator.
    """
    index = np.arange(n)
    is_test = index % k == k - 1
    return index[~is_test], index[is_test]
