import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import npae
from npae.kernels import topk
from npae.models.ksparse import topk_mask


@st.composite
def codes_with_ties(draw):
    n, h = draw(st.integers(1, 5)), draw(st.integers(1, 12))
    values = draw(st.lists(st.integers(-3, 3), min_size=n * h, max_size=n * h))   # many ties
    return np.array(values, dtype=draw(st.sampled_from([np.float32, np.float64]))).reshape(n, h)


def reference(z, k):
    """Rank by value (descending), then by index (ascending)."""
    mask = np.zeros(z.shape, bool)
    for r, row in enumerate(z):
        best = sorted(range(len(row)), key=lambda j: (-row[j], j))[:k]
        mask[r, best] = True
    return mask


@settings(max_examples=100)
@given(codes_with_ties(), st.data())
def test_topk_twins_agree_with_the_reference(z, data):
    k = data.draw(st.integers(1, z.shape[1]))
    n, h = z.shape
    expected = reference(z, k)
    for kernel in (topk.topk_mask.twin, topk.topk_mask.compiled()):
        mask = np.empty(z.size, bool)
        kernel(z.reshape(-1), n, h, k, mask)
        np.testing.assert_array_equal(mask.reshape(n, h), expected)
    assert np.all(expected.sum(axis=1) == k)


def test_ties_go_to_the_lower_index(backend):
    z = np.array([[1.0, 2.0, 2.0, 2.0, 0.0]])
    assert topk_mask(z, 2).tolist() == [[False, True, True, False, False]]
    assert topk_mask(np.zeros((1, 4)), 1).tolist() == [[True, False, False, False]]


def test_k_out_of_range():
    with pytest.raises(ValueError, match=r"\[1, 3\]"):
        topk_mask(np.zeros((2, 3)), 4)
    with pytest.raises(ValueError, match=r"k must lie in \[1, 3\] .* got 0"):
        topk_mask(np.zeros((2, 3)), 0)


def test_kernel_is_registered():
    assert "topk_mask" in npae.kernels.REGISTRY
