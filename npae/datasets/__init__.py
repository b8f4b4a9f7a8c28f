"""Datasets for autoencoders: ``load(name)`` returns a ``Dataset`` of images in [0, 1].

    >>> data = npae.datasets.load("digits")            # offline, the default everywhere
    >>> data.x_train.shape, data.image_shape
    ((1498, 64), (1, 8, 8))

Names:
    "digits"         scikit-learn's 8x8 handwritten digits (1,797 images, values 0..16 / 16)
    "mnist"          LeCun et al.'s 28x28 digits, 60,000 + 10,000, read from IDX files
    "fashion-mnist"  Xiao et al.'s 28x28 clothing images, same format and sizes
    "shapes"         dSprites-style shapes with known factors, generated here (see ``shapes``)

Where the IDX files are looked for, and how they are downloaded: see ``npae.datasets.files``.
Nothing here imports scikit-learn or tqdm until a function needs it.
"""
import warnings

import numpy as np

from . import files, idx, shapes
from .dataset import Dataset, binarize, every_kth_split, make_dataset
from .files import DownloadError, cache_dir, download, search_dirs
from .idx import DataFileError, read_idx, write_idx

NAMES = ("digits", "mnist", "fashion-mnist", "shapes")
LABEL_NAMES = {
    "digits": tuple("0123456789"),
    "mnist": tuple("0123456789"),
    "fashion-mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                      "Sneaker", "Bag", "Ankle boot"),
    "shapes": shapes.SHAPES,
}
DIGITS_TEST_EVERY = 6    # digits: every 6th image is test -> 1,498 train, 299 test
PARTIAL_TEST_EVERY = 5   # t10k-only MNIST: every 5th image is test -> 8,000 train, 2,000 test
SHAPES_SIZES = (10_000, 2_000)  # default n_train, n_test for "shapes"


class PartialDatasetWarning(UserWarning):
    """Only the test files of an IDX dataset were found; its test set was split in two."""


def load(name="digits", *, dtype=np.float32, flat=True, binarize=None, seed=0, n_train=None,
         n_test=None, path=None, download=True, progress=True, resolution=None,
         supersample=None):
    """Load a dataset as a ``Dataset`` (fields documented there).

    name         one of ``NAMES``
    dtype        float32 (default) or float64; images are scaled to [0, 1]
    flat         True: x is (N, C*H*W); False: x is (N, C, H, W) for conv models
    binarize     None, "static" or "dynamic" (see ``Dataset.binarization``); ``seed`` fixes
                 the static samples and, for "shapes", the generated factors
    n_train, n_test  keep only the first n images of each split (quick experiments);
                 for "shapes", how many to generate (default 10,000 and 2,000)
    path         "mnist"/"fashion-mnist": a folder with the IDX files (only place looked)
    download     "mnist"/"fashion-mnist": download into the cache when not found
    progress     show a progress bar while downloading
    resolution, supersample  "shapes" only: image side (default 32) and anti-aliasing (2)

    The train/test split is fixed: MNIST's own files; every 6th digit for "digits";
    separate seeded draws for "shapes". When only MNIST's test files (t10k-*) exist and
    the training files cannot be downloaded, the 10,000 test images are split 8,000/2,000
    (every 5th is test) with a ``PartialDatasetWarning`` and a ``note`` on the result.
    """
    if name not in NAMES:
        raise ValueError(f"load: unknown dataset {name!r}; choose from {NAMES}")
    if name != "shapes" and (resolution is not None or supersample is not None):
        raise ValueError(f"load: resolution and supersample apply to 'shapes' only, not {name!r}")
    if name in ("digits", "shapes") and path is not None:
        raise ValueError(f"load: {name!r} needs no files; path= is for the IDX datasets")
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"load: dtype must be float32 or float64, got {dtype}")
    options = dict(dtype=dtype, flat=flat, binarization=binarize, seed=seed,
                   label_names=LABEL_NAMES[name])
    if name == "shapes":
        return _load_shapes(n_train, n_test, resolution or 32, supersample or 2, **options)
    if name == "digits":
        raw, source, note = _read_digits(), "scikit-learn", ""
    else:
        raw, source, note = _read_idx_dataset(name, path, download, progress)
    x_train, y_train, x_test, y_test = raw
    x_train, y_train = _first(x_train, y_train, n_train, "n_train")
    x_test, y_test = _first(x_test, y_test, n_test, "n_test")
    # scale to [0, 1] after selecting (a small subset never converts the whole file),
    # in the target dtype (no float64 copy of MNIST on the way)
    scale = 16.0 if name == "digits" else 255.0
    x_train, x_test = x_train.astype(dtype) / scale, x_test.astype(dtype) / scale
    return make_dataset(name, x_train, y_train, x_test, y_test,
                        (1, *x_train.shape[1:]), source=source, note=note, **options)


def _first(x, y, n, what):
    if n is None:
        return x, y
    if not 1 <= n <= len(x):
        raise ValueError(f"load: {what} must be between 1 and {len(x)}, got {n}")
    return x[:n], y[:n]


def _read_digits():
    from sklearn.datasets import load_digits  # imported here: `import npae` must stay light
    digits = load_digits()
    train, test = every_kth_split(len(digits.images), DIGITS_TEST_EVERY)
    images, labels = digits.images, digits.target
    return (images[train], labels[train], images[test], labels[test])


def _load_shapes(n_train, n_test, resolution, supersample, *, seed, dtype, **options):
    n_train = SHAPES_SIZES[0] if n_train is None else n_train
    n_test = SHAPES_SIZES[1] if n_test is None else n_test
    if n_train < 1 or n_test < 1:
        raise ValueError(f"load: shapes needs n_train, n_test >= 1, got {n_train}, {n_test}")
    # the train and test factors come from independent streams of the one seed
    train_seed, test_seed = np.random.SeedSequence([seed, 1]).spawn(2)
    x_train, f_train = shapes.generate(n_train, resolution, train_seed, supersample, dtype)
    x_test, f_test = shapes.generate(n_test, resolution, test_seed, supersample, dtype)
    return make_dataset(
        "shapes", x_train, f_train[:, 0], x_test, f_test[:, 0], (1, resolution, resolution),
        seed=seed, dtype=dtype, factors_train=f_train, factors_test=f_test,
        factor_names=shapes.FACTOR_NAMES, source="generated", **options)


def _read_idx_dataset(name, path, allow_download, progress):
    """Return ((x_train, y_train, x_test, y_test) as uint8, source, note)."""
    dirs = search_dirs(name, path)
    for directory in dirs:
        found = files.find_files(directory)
        if found:
            return _read_split(found), str(directory), ""
    reason = ""
    if allow_download and path is None:
        try:
            found = files.download(name, progress=progress)
            return _read_split(found), str(cache_dir() / name), ""
        except DownloadError as error:
            reason = str(error)
    for directory in dirs:
        found = files.find_files(directory, ("test_images", "test_labels"))
        if found:
            return _split_test_only(name, directory, found, reason)
    raise FileNotFoundError(files.missing_files_message(name, dirs, reason))


def _read_split(found):
    x_train, y_train = _read_pair(found["train_images"], found["train_labels"])
    x_test, y_test = _read_pair(found["test_images"], found["test_labels"])
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DataFileError(f"train images are {x_train.shape[1:]} but test images are "
                            f"{x_test.shape[1:]}: {found['train_images']}, {found['test_images']}")
    return x_train, y_train, x_test, y_test


def _read_pair(images_path, labels_path):
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataFileError(f"{images_path}: expected uint8 images of shape (N, H, W), "
                            f"got {images.dtype} {images.shape}")
    if labels.ndim != 1:
        raise DataFileError(f"{labels_path}: expected labels of shape (N,), got {labels.shape}")
    if len(images) != len(labels):
        raise DataFileError(f"{images_path} has {len(images)} images but {labels_path} has "
                            f"{len(labels)} labels")
    return images, labels


def _split_test_only(name, directory, found, reason):
    images, labels = _read_pair(found["test_images"], found["test_labels"])
    train, test = every_kth_split(len(images), PARTIAL_TEST_EVERY)
    note = (f"only the test files were found in {directory}; their {len(images)} images "
            f"are split {len(train)} train / {len(test)} test (every {PARTIAL_TEST_EVERY}th "
            f"is test). For the real training set put "
            f"{files.IDX_FILES['train_images']}.gz and {files.IDX_FILES['train_labels']}.gz "
            f"into {directory} or {cache_dir() / name}.")
    warnings.warn(f"{name}: {note}" + (f" (download failed: {reason.splitlines()[0]})"
                                       if reason else ""), PartialDatasetWarning, stacklevel=4)
    return (images[train], labels[train], images[test], labels[test]), str(directory), note


__all__ = [
    "load", "Dataset", "binarize", "NAMES", "LABEL_NAMES", "PartialDatasetWarning",
    "read_idx", "write_idx", "DataFileError", "DownloadError", "download", "search_dirs",
    "cache_dir", "files", "idx", "shapes",
]
