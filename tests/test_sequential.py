import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import npae
from npae.gradcheck import check_layer
from npae.testing import arrays, batch_sizes

HIDDEN = [npae.Sigmoid, npae.Tanh, npae.Softplus, npae.ReLU, lambda: npae.LeakyReLU(0.1)]


@given(st.lists(st.integers(1, 5), min_size=2, max_size=4), st.sampled_from(HIDDEN), batch_sizes(),
       st.integers(0, 1000), st.data())
def test_mlp_gradients(sizes, activation, n, seed, data):
    rng = np.random.default_rng(seed)
    layers = []
    for d_in, d_out in zip(sizes[:-1], sizes[1:]):
        layers += [npae.Dense(d_in, d_out, rng=rng, dtype=np.float64), activation()]
    model = npae.Sequential(layers)
    x = data.draw(arrays((n, sizes[0])))
    model.forward(x)
    assume(model.kink_distance() > 2e-3)         # ReLU pre-activations away from 0
    result = check_layer(model, x)
    assert result.passed, str(result)
    assert set(result.errors) == {"x"} | {f"{2 * i}.{p}" for i in range(len(sizes) - 1) for p in "Wb"}


def test_sequential_runs_layers_in_order_and_zeroes_grads(rng):
    a, b = npae.Dense(3, 4, rng=0), npae.Dense(4, 2, rng=1)
    model = npae.Sequential([a, npae.Tanh(), b])
    x = rng.random((5, 3)).astype(np.float32)
    np.testing.assert_allclose(model.forward(x), b.forward(np.tanh(a.forward(x))), rtol=1e-6)
    model.backward(np.ones((5, 2), np.float32))
    assert np.any(a.W.grad)
    model.zero_grad()
    assert not any(np.any(p.grad) for p in model.parameters())
    assert len(model) == 3 and model[2] is b


def test_sequential_errors():
    with pytest.raises(TypeError, match="item 1"):
        npae.Sequential(npae.Dense(2, 2), "relu")
    with pytest.raises(ValueError, match="at least one layer"):
        npae.Sequential()
    with pytest.raises(RuntimeError, match="before forward"):
        npae.Sequential(npae.Identity()).backward(np.zeros((1, 1)))


def test_skip_input_gradient_saves_the_first_product_and_keeps_parameter_gradients(rng):
    def build():
        return npae.Sequential(npae.Sequential(npae.Dense(4, 3, rng=0, dtype=np.float64), npae.ReLU()),
                               npae.Dense(3, 2, rng=1, dtype=np.float64))
    full, skipping = build(), build()
    from npae.sequential import skip_input_gradient
    skip_input_gradient(skipping)
    assert skipping[0][0].input_grad is False and skipping[1].input_grad is True
    x, dy = rng.standard_normal((5, 4)), rng.standard_normal((5, 2))
    for model in (full, skipping):
        model.forward(x)
    assert full.backward(dy).shape == (5, 4)
    assert skipping.backward(dy) is None
    for (name, a), (_, b) in zip(full.named_parameters(), skipping.named_parameters()):
        np.testing.assert_array_equal(a.grad, b.grad, err_msg=name)



def test_overflow_inside_the_network_is_reported_by_the_layer_that_meets_it():
    """An inf born in the middle (x W overflowing) is named where it appears, by the Dense
    whose output it is, instead of saturating a sigmoid silently."""
    model = npae.Sequential(npae.Dense(2, 2, rng=0), npae.Sigmoid())
    model[0].W.value[:] = np.float32(1e38)
    with np.errstate(over="ignore"), pytest.raises(ValueError, match=r"Dense: the output overflowed \(inf, or NaN"):
        model.forward(np.full((1, 2), 4, np.float32))
