"""The input checks layers run (``check_finite``; Dense and ReLU: tests/layers/test_finite_checks.py): a NaN or inf anywhere is found, huge finite values are not
mistaken for one, and nothing warns on the way."""
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from npae._checks import check_finite
from npae.errors import NonFiniteError


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@given(shape=st.tuples(st.integers(1, 9), st.integers(1, 9)), where=st.integers(0, 80),
       bad=st.sampled_from([np.nan, np.inf, -np.inf]))
def test_a_single_non_finite_value_is_found_in_any_layout(dtype, layout, shape, where, bad):
    x = np.full((shape[0], 2 * shape[1]), 0.5, dtype)
    x = {"C": x[:, :shape[1]].copy(), "F": np.asfortranarray(x[:, :shape[1]]), "strided": x[:, ::2]}[layout]
    x[np.unravel_index(where % x.size, x.shape)] = bad
    with pytest.raises(NonFiniteError, match=r"X contains NaN or inf \(1 of"):
        check_finite(x, "who", "X")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_huge_finite_values_pass_without_warnings(dtype, layout):
    """x·x (and a sum) overflows for |x| near the maximum: the fast path must hand over to
    the exact test, silently."""
    big = np.finfo(dtype).max
    x = np.array([[big, -big, 1.0, big], [big, big, big, -big]], dtype)
    x = {"C": x, "F": np.asfortranarray(x), "strided": x[:, ::2]}[layout]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_finite(x, "who") is x


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")     # np.matrix
@pytest.mark.parametrize("make", [lambda: np.float32(2.0), lambda: np.zeros((0, 3)),
                                  lambda: np.arange(6).reshape(2, 3), lambda: np.matrix([[1.0, 2.0]]),
                                  lambda: np.array([1.0, 2.0], dtype=">f8")],
                         ids=["0-d", "empty", "integers", "np.matrix", "big-endian"])
def test_other_arrays_pass(make):
    x = make()
    assert check_finite(x, "who") is x


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_nan_in_an_np_matrix_is_found():
    with pytest.raises(NonFiniteError, match="1 of 2"):
        check_finite(np.matrix([[1.0, np.nan]]), "who")
