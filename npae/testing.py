"""Hypothesis strategies for property-testing layers (public: use them on your own layers).

    from hypothesis import given
    from npae.testing import arrays_for
    from npae.gradcheck import check_layer

    layer = MyLayer(...)                       # built with dtype=np.float64

    @given(arrays_for(layer))
    def test_my_layer(x):
        assert check_layer(layer, x).passed

Shapes include batch size 1; values are kept at least ``kink_margin`` away from
the layer's kinks (``layer.kinks``, e.g. ReLU at 0), where finite differences lie.
Needs the ``hypothesis`` package (``pip install npae[test]``).
"""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

MAX_BATCH = 5


def batch_sizes(max_size=MAX_BATCH):
    """Batch sizes 1..max_size (1 is the edge case that breaks forgotten batch sums)."""
    return st.integers(1, max_size)


def feature_shapes(min_dims=1, max_dims=3, max_side=5):
    """Per-example shapes such as (7,) or (2, 3, 4)."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side)


def away_from_kinks(x, kinks, margin):
    """Push every value closer than ``margin`` to a kink out to kink ± margin."""
    x = np.array(x, copy=True)
    for k in kinks:
        near = np.abs(x - k) < margin
        x[near] = np.where(x[near] >= k, k + margin, k - margin)
    return x


def arrays(shape, dtype=np.float64, min_value=-3.0, max_value=3.0, kinks=(), kink_margin=1e-2):
    """Finite arrays of a fixed ``shape`` with values in [min_value, max_value]."""
    elements = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False,
                         width=np.dtype(dtype).itemsize * 8)
    strategy = hnp.arrays(np.dtype(dtype), shape, elements=elements)
    if kinks:
        strategy = strategy.map(lambda x: away_from_kinks(x, kinks, kink_margin))
    return strategy


def input_shape_of(layer):
    """The per-example input shape a layer needs, or None when any shape will do."""
    from .layers import Dense, Reshape, TiedDense
    from .sequential import Sequential
    if isinstance(layer, Sequential):
        return input_shape_of(layer.layers[0])
    if isinstance(layer, Dense):
        return (layer.in_features,)
    if isinstance(layer, TiedDense):
        return (layer.W.shape[1],)
    if isinstance(layer, Reshape):
        return (int(np.prod(layer.shape)),)
    return getattr(layer, "input_shape", None)


@st.composite
def arrays_for(draw, layer, batch_size=None, dtype=np.float64, min_value=-3.0, max_value=3.0,
               kink_margin=1e-2):
    """Inputs for ``layer``: (N, *input shape), N drawn from 1..5 unless given.

    The input shape is the layer's own (Dense: (in_features,)); a layer that takes
    any shape (activations) gets one drawn by ``feature_shapes()``. A layer may
    declare ``input_shape`` (a tuple without the batch axis) to be drawn for.
    """
    n = batch_size if batch_size is not None else draw(batch_sizes())
    shape = input_shape_of(layer)
    if shape is None:
        shape = draw(feature_shapes())
    return draw(arrays((n,) + tuple(shape), dtype, min_value, max_value,
                       getattr(layer, "kinks", ()), kink_margin))
