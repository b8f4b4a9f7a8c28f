import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import npae
from npae.gradcheck import check_layer
from npae.testing import arrays, batch_sizes, feature_shapes


@given(batch_sizes(), feature_shapes(min_dims=1), st.data())
def test_flatten_and_reshape_gradients(n, shape, data):
    x = data.draw(arrays((n,) + shape))
    result = check_layer(npae.Flatten(), x)
    assert result.passed, str(result)
    y = npae.Flatten().forward(x)
    assert y.shape == (n, int(np.prod(shape)))
    result = check_layer(npae.Reshape(shape), y)
    assert result.passed, str(result)
    np.testing.assert_array_equal(npae.Reshape(shape).forward(y), x)


def test_reshape_errors_name_the_sizes():
    with pytest.raises(ValueError, match=r"12 features per example"):
        npae.Reshape((3, 4)).forward(np.zeros((2, 10)))
    with pytest.raises(ValueError, match="positive"):
        npae.Reshape((0, 3))
