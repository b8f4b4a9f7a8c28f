"""Each penalty's hand-derived gradient against central differences, on its own."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from npae.errors import DomainError, DTypeError, ShapeError
from npae.gradcheck import check_function
from npae.layers import Dense, Sigmoid
from npae.regularizers import Contractive, L1Activity, SparsityKL
from npae.sequential import Sequential
from npae.testing import arrays

shapes = st.tuples(st.integers(1, 5), st.integers(1, 5))


@st.composite
def codes(draw, low=0.02, high=0.98):
    return draw(arrays(draw(shapes), min_value=low, max_value=high))


# --- SparsityKL ----------------------------------------------------------------------------
@settings(max_examples=60)
@given(codes(), st.floats(0.01, 0.99))
def test_sparsity_kl_gradient(h, rho):
    penalty = SparsityKL(rho)

    def grad(h):
        penalty.forward(h)
        return penalty.backward()
    # at ρ̂ = ρ for every unit the gradient is exactly 0 and a relative error means nothing
    assume(np.linalg.norm(grad(h)) > 1e-6)
    assert check_function(penalty.forward, grad, h).passed


def test_sparsity_kl_value_matches_the_formula():
    h = np.array([[0.1, 0.5], [0.3, 0.7]])
    rho = 0.2
    rho_hat = np.array([0.2, 0.6])
    expected = np.sum(rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat)))
    assert SparsityKL(rho).forward(h) == pytest.approx(expected, rel=1e-12)
    assert SparsityKL(0.6).forward(np.array([[0.6], [0.6]])) == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparsity_kl_is_finite_for_dead_and_saturated_units(dtype):
    h = np.array([[0.0, 1.0, 0.5], [0.0, 1.0, 0.2]], dtype)   # ρ̂ = 0 and ρ̂ = 1
    penalty = SparsityKL(0.05)
    value = penalty.forward(h)
    grad = penalty.backward()
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert grad.dtype == dtype and grad.shape == h.shape
    assert grad[0, 0] < 0 < grad[0, 1]   # a dead unit is pushed up, a saturated one down


def test_sparsity_kl_rejects_bad_input():
    with pytest.raises(DomainError, match=r"\[0, 1\]"):
        SparsityKL().forward(np.array([[1.5, 0.2]]))
    with pytest.raises(ShapeError, match=r"shape \(N, n_latent\), got \(3,\)"):
        SparsityKL().forward(np.zeros(3))
    with pytest.raises(ValueError, match="rho"):
        SparsityKL(rho=1.0)
    with pytest.raises(RuntimeError, match="before forward"):
        SparsityKL().backward()


# --- L1Activity ----------------------------------------------------------------------------
@settings(max_examples=60)
@given(st.data())
def test_l1_activity_gradient(data):
    h = data.draw(arrays(data.draw(shapes), min_value=-3, max_value=3, kinks=(0.0,),
                         kink_margin=1e-2))
    penalty = L1Activity()

    def grad(h):
        penalty.forward(h)
        return penalty.backward()
    assert check_function(penalty.forward, grad, h).passed


def test_l1_activity_value_and_dtype():
    h = np.array([[1.0, -2.0], [0.0, 3.0]], np.float32)
    penalty = L1Activity()
    assert penalty.forward(h) == pytest.approx(3.0)
    assert penalty.backward().dtype == np.float32
    np.testing.assert_array_equal(penalty.backward(), np.array([[0.5, -0.5], [0, 0.5]]))


# --- Contractive ---------------------------------------------------------------------------
@settings(max_examples=60)
@given(st.data())
def test_contractive_gradient_wrt_h_and_w(data):
    n, hidden = data.draw(shapes)
    n_in = data.draw(st.integers(1, 5))
    h = data.draw(arrays((n, hidden), min_value=0.02, max_value=0.98))
    W = data.draw(arrays((n_in, hidden), min_value=-2, max_value=2, kinks=(0.0,), kink_margin=1e-2))
    penalty = Contractive()

    def grad_h(h):
        penalty.forward(h, W)
        return penalty.backward()[0]

    def grad_w(W):
        penalty.forward(h, W)
        return penalty.backward()[1]
    assert check_function(lambda h: penalty.forward(h, W), grad_h, h).passed
    assert check_function(lambda W: penalty.forward(h, W), grad_w, W).passed


@settings(max_examples=40)
@given(st.data())
def test_contractive_gradient_wrt_encoder_w_and_b(data):
    """The total derivative for h = s(x W + b): the code part chained through the encoder's
    own backward, plus the direct dW — the formula in Contractive's docstring."""
    n, n_in, hidden = (data.draw(st.integers(1, 4)) for _ in range(3))
    seed = data.draw(st.integers(0, 2**16))
    encoder = Sequential(Dense(n_in, hidden, rng=seed, dtype=np.float64), Sigmoid())
    encoder[0].b.value[:] = np.random.default_rng(seed).normal(size=hidden)
    x = data.draw(arrays((n, n_in), min_value=-2, max_value=2, kinks=(0.0,), kink_margin=0.05))
    penalty = Contractive()
    W, b = encoder[0].W, encoder[0].b

    def gradients():
        encoder.zero_grad()
        penalty.forward(encoder.forward(x), W.value)
        dh, dW = penalty.backward()
        encoder.backward(dh)
        return W.grad + dW, b.grad.copy()

    def with_value(parameter):
        """P as a function of one Parameter's value (check_function perturbs a copy)."""
        def value(v):
            saved = parameter.value.copy()
            parameter.value[...] = v
            result = penalty.forward(encoder.forward(x), W.value)
            parameter.value[...] = saved
            return result
        return value

    assert check_function(with_value(W), lambda _: gradients()[0], W.value).passed
    assert check_function(with_value(b), lambda _: gradients()[1], b.value).passed
    # and the closed form in the docstring, written out directly
    h = encoder.forward(x)
    a = h * (1 - h)
    w = np.sum(W.value ** 2, axis=0)
    d_pre = 2 * a * a * (1 - 2 * h) * w / n
    np.testing.assert_allclose(gradients()[0], 2 * W.value * (a * a).sum(0) / n + x.T @ d_pre)
    np.testing.assert_allclose(gradients()[1], d_pre.sum(0))


def test_contractive_value_is_the_jacobian_norm():
    """P equals the squared Frobenius norm of the numerically differentiated encoder."""
    rng = np.random.default_rng(3)
    dense = Dense(4, 3, rng=rng, dtype=np.float64)
    encoder = Sequential(dense, Sigmoid())
    x = rng.random((1, 4))
    J = np.empty((3, 4))
    for i in range(4):
        e = np.zeros((1, 4))
        e[0, i] = 1e-6
        J[:, i] = (encoder.forward(x + e) - encoder.forward(x - e))[0] / 2e-6
    value = Contractive().forward(encoder.forward(x), dense.W.value)
    assert value == pytest.approx(np.sum(J ** 2), rel=1e-7)


def test_contractive_checks_shapes_and_dtypes():
    with pytest.raises(ShapeError, match=r"W of shape \(N, 3\), got \(4, 2\)"):
        Contractive().forward(np.full((2, 3), 0.5), np.ones((4, 2)))
    with pytest.raises(DTypeError, match="W has dtype float32 but the layer's parameters are float64"):
        Contractive().forward(np.full((2, 3), 0.5), np.ones((4, 3), np.float32))
    h = np.full((2, 3), 0.5, np.float32)
    penalty = Contractive()
    penalty.forward(h, np.ones((4, 3), np.float32))
    assert all(g.dtype == np.float32 for g in penalty.backward())


def test_gradient_checker_rejects_a_wrong_kl_gradient():
    """Teeth: the same check fails for a gradient that forgets the 1/N."""
    h = np.random.default_rng(0).uniform(0.1, 0.9, (4, 3))
    penalty = SparsityKL(0.1)

    def wrong(h):
        penalty.forward(h)
        return penalty.backward() * len(h)
    assert not check_function(penalty.forward, wrong, h).passed
