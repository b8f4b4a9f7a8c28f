import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from npae.corruption import (corrupt, gaussian_noise, masking_noise, salt_and_pepper,
                             sample_mask)
from npae.errors import DTypeError, NonFiniteError, ShapeError


@settings(max_examples=50)
@given(st.integers(1, 6), st.integers(1, 40), st.floats(0, 1), st.integers(0, 2**16))
def test_masking_destroys_a_fixed_fraction_of_each_example(n, d, fraction, seed):
    x = np.random.default_rng(seed).uniform(0.5, 1.0, (n, d))   # no zeros of its own
    out = masking_noise(x, fraction, rng=np.random.default_rng(seed))
    zeros = (out == 0).sum(axis=1)
    assert np.all(zeros == round(fraction * d))
    kept = out != 0
    np.testing.assert_array_equal(out[kept], x[kept])


def test_masking_with_an_explicit_mask_is_deterministic_and_keeps_dtype():
    x = np.arange(1, 7, dtype=np.float32).reshape(2, 3)
    mask = np.array([[True, False, False], [False, False, True]])
    out = masking_noise(x, rng=None, mask=mask)
    np.testing.assert_array_equal(out, [[0, 2, 3], [4, 5, 0]])
    assert out.dtype == np.float32
    assert x[0, 0] == 1   # input untouched


def test_masks_follow_the_generator():
    a = sample_mask((3, 10), 0.3, np.random.default_rng(7))
    b = sample_mask((3, 10), 0.3, np.random.default_rng(7))
    c = sample_mask((3, 10), 0.3, np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    images = sample_mask((2, 2, 5), 0.5, np.random.default_rng(0))   # D = 10 values per example
    assert images.reshape(2, -1).sum(axis=1).tolist() == [5, 5]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gaussian_noise(dtype):
    x = np.zeros((200, 50), dtype)
    noise = np.random.default_rng(0).standard_normal(x.shape)
    out = gaussian_noise(x, 0.5, noise=noise)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, 0.5 * noise, rtol=1e-6)
    drawn = gaussian_noise(x, 0.5, rng=np.random.default_rng(1))
    assert drawn.dtype == dtype
    assert abs(drawn.std() - 0.5) < 0.01 and abs(drawn.mean()) < 0.01


def test_salt_and_pepper():
    x = np.full((4, 100), 0.5, np.float32)
    out = salt_and_pepper(x, 0.2, rng=np.random.default_rng(0))
    assert out.dtype == np.float32
    changed = out != 0.5
    assert np.all(changed.sum(axis=1) == 20)
    assert set(np.unique(out[changed])) == {0.0, 1.0}
    assert 0.3 < (out[changed] == 1).mean() < 0.7   # a fair coin, 80 flips
    mask = np.zeros(x.shape, bool)
    mask[:, :2] = True
    salt = np.zeros(x.shape, bool)
    salt[:, 0] = True
    out = salt_and_pepper(x, mask=mask, salt=salt, low=-1.0, high=2.0)
    assert out[0, :3].tolist() == [2.0, -1.0, 0.5]


def test_bad_arguments_raise_clear_errors():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="rng"):
        masking_noise(x, 0.3)
    with pytest.raises(DTypeError, match="boolean"):
        masking_noise(x, mask=np.ones((2, 3)))
    with pytest.raises(ShapeError, match=r"\(2, 3\)"):
        masking_noise(x, mask=np.ones((3, 2), bool))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        masking_noise(x, 1.5, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="sigma"):
        gaussian_noise(x, -1.0, rng=np.random.default_rng(0))
    with pytest.raises(NonFiniteError, match="noise contains NaN or inf"):
        gaussian_noise(x, noise=np.full((2, 3), np.nan))
    with pytest.raises(DTypeError, match="float32 or float64, got int"):
        masking_noise(np.ones((2, 3), int), rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="one of"):
        corrupt(x, "dropout", 0.3, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="noise"):
        corrupt(x, "masking", 0.3, noise=np.zeros((2, 3)))


def test_corrupt_dispatches_with_the_level():
    x = np.ones((1, 10))
    out = corrupt(x, "masking", 0.4, rng=np.random.default_rng(0))
    assert (out == 0).sum() == 4
    out = corrupt(x, "gaussian", 2.0, noise=np.ones((1, 10)))
    np.testing.assert_array_equal(out, 3.0)
