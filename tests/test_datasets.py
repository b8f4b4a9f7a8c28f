"""load("digits"), the Dataset it returns, binarization, options and their errors."""
import subprocess
import sys

import numpy as np
import pytest

from npae.datasets import Dataset, binarize, load


@pytest.fixture(scope="module")
def digits():
    return load("digits")


def test_digits_shapes_range_and_labels(digits):
    assert isinstance(digits, Dataset) and digits.name == "digits"
    assert digits.x_train.shape == (1498, 64) and digits.x_test.shape == (299, 64)
    assert digits.image_shape == (1, 8, 8) and digits.n_features == 64
    assert digits.x_train.dtype == np.float32 and digits.y_train.dtype == np.int64
    assert digits.x_train.min() == 0.0 and digits.x_train.max() == 1.0
    # sklearn's values are 0..16, so every pixel is a multiple of 1/16
    np.testing.assert_allclose(digits.x_train * 16, np.round(digits.x_train * 16), atol=1e-5)
    assert set(np.unique(digits.y_test)) == set(range(10))
    assert digits.label_names[3] == "3" and digits.source == "scikit-learn"


def test_digits_split_is_every_sixth_image_and_fixed(digits):
    from sklearn.datasets import load_digits
    raw = load_digits()
    np.testing.assert_array_equal(digits.y_test, raw.target[5::6])
    np.testing.assert_allclose(digits.x_test[7], raw.data[5 + 6 * 7] / 16, rtol=1e-6)
    np.testing.assert_array_equal(load("digits").x_train, digits.x_train)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_and_nchw_layout(dtype, digits):
    data = load("digits", dtype=dtype, flat=False)
    assert data.x_train.dtype == dtype and data.x_test.dtype == dtype
    assert data.x_train.shape == (1498, 1, 8, 8)
    np.testing.assert_allclose(data.x_train.reshape(1498, 64), digits.x_train, rtol=1e-6)
    assert data.x_train.flags.c_contiguous


def test_n_train_and_n_test_keep_the_first_images(digits):
    small = load("digits", n_train=10, n_test=3)
    np.testing.assert_array_equal(small.x_train, digits.x_train[:10])
    np.testing.assert_array_equal(small.y_test, digits.y_test[:3])


def test_static_binarization_is_fixed_by_the_seed(digits):
    a, b = load("digits", binarize="static", seed=1), load("digits", binarize="static", seed=1)
    c = load("digits", binarize="static", seed=2)
    assert set(np.unique(a.x_train)) == {0.0, 1.0} and a.x_train.dtype == np.float32
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.x_test, b.x_test)
    assert np.mean(a.x_train != c.x_train) > 0.05
    # pixels that are exactly 0 or 1 stay so; the mean is kept up to sampling noise
    assert np.all(a.x_train[digits.x_train == 0] == 0)
    assert np.all(a.x_train[digits.x_train == 1] == 1)
    assert abs(a.x_train.mean() - digits.x_train.mean()) < 0.01
    assert a.train_epoch(np.random.default_rng(0)) is a.x_train


def test_dynamic_binarization_resamples_each_epoch(digits):
    data = load("digits", binarize="dynamic", seed=3)
    np.testing.assert_array_equal(data.x_train, digits.x_train)  # gray values kept
    assert set(np.unique(data.x_test)) == {0.0, 1.0}  # test sampled once, fixed
    rng = np.random.default_rng(0)
    first, second = data.train_epoch(rng), data.train_epoch(rng)
    assert set(np.unique(first)) == {0.0, 1.0} and first.dtype == np.float32
    assert np.mean(first != second) > 0.05
    np.testing.assert_array_equal(load("digits", binarize="dynamic", seed=3).x_test, data.x_test)


def test_binarize_with_explicit_noise_is_the_threshold_rule():
    x = np.array([[0.0, 0.3, 0.7, 1.0]], np.float64)
    u = np.array([[0.5, 0.2, 0.8, 0.999]])
    np.testing.assert_array_equal(binarize(x, u=u), [[0, 1, 0, 1]])
    assert binarize(x, u=u).dtype == np.float64


def test_binarize_frequency_matches_the_gray_value():
    x = np.full(200_000, 0.3, np.float32)
    frequency = binarize(x, rng=0).mean()
    assert abs(frequency - 0.3) < 0.005  # 5 standard errors of a Bernoulli(0.3) mean


def test_binarize_rejects_bad_input():
    with pytest.raises(TypeError, match="float32 or float64"):
        binarize(np.zeros(3, np.uint8), rng=0)
    with pytest.raises(ValueError, match="NaN or inf"):
        binarize(np.array([0.5, np.nan]), rng=0)
    with pytest.raises(ValueError, match="shape"):
        binarize(np.zeros(3), u=np.zeros(4))


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(name="cifar"), ValueError, "unknown dataset 'cifar'"),
    (dict(dtype=np.int32), TypeError, "float32 or float64"),
    (dict(binarize="always"), ValueError, "binarize must be one of"),
    (dict(n_train=5000), ValueError, "n_train must be between 1 and 1498"),
    (dict(n_test=0), ValueError, "n_test must be between 1 and 299"),
    (dict(resolution=64), ValueError, "'shapes' only"),
    (dict(path="/tmp"), ValueError, "path= is for the IDX datasets"),
    (dict(name="shapes", path="/tmp"), ValueError, "'shapes' needs no files"),
])
def test_bad_options_raise_clear_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        load(**kwargs)


def test_repr_is_a_summary_not_the_arrays(digits):
    text = repr(digits)
    assert "x_train=(1498, 64) float32" in text and len(text) < 200


def test_importing_npae_datasets_and_plotting_stays_light():
    code = ("import sys, npae, npae.datasets, npae.plotting; "
            "heavy = [m for m in ('matplotlib', 'sklearn', 'tqdm', 'scipy') if m in sys.modules]; "
            "print(heavy)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"
