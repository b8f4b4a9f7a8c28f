"""The gradient checker must have teeth: it rejects deliberately broken layers."""
import warnings

import numpy as np
import pytest
from hypothesis import given

import npae
from npae.gradcheck import (check_function, check_layer, check_loss, check_model, numerical_gradient,
                            rel_error)
from npae.layers.base import Layer
from npae.testing import arrays
from npae.parameter import Parameter


class WrongTransposeDense(npae.Dense):
    """dL/dx computed with W instead of Wᵀ (only shape-compatible for square W)."""

    def backward(self, dy):
        x = self._saved(dy)["x"]
        self.W.grad += x.T @ dy
        self.b.grad += dy.sum(axis=0)
        return dy @ self.W.value


class MissingBatchSumDense(npae.Dense):
    """Bias gradient from the first example only: right for batch size 1, wrong otherwise."""

    def backward(self, dy):
        x = self._saved(dy)["x"]
        self.W.grad += x.T @ dy
        self.b.grad += dy[0]
        return dy @ self.W.value.T


class InPlaceReLU(npae.ReLU):
    """Masks the upstream gradient in place: the right numbers, but dy is destroyed."""

    def backward(self, dy):
        x = self._saved(dy)["x"]
        dy[x <= 0] = 0
        return dy


class OverwritingDense(npae.Dense):
    """Assigns gradients instead of accumulating them: breaks tied weights."""

    def backward(self, dy):
        x = self._saved(dy)["x"]
        self.W.grad[...] = x.T @ dy
        self.b.grad[...] = dy.sum(axis=0)
        return dy @ self.W.value.T


class WrongSigmoid(npae.Sigmoid):
    """Uses s(x) instead of s(x)(1 − s(x))."""

    def backward(self, dy):
        return dy * self._saved(dy)["y"]


def _x(n=4, d=3, seed=0):
    return np.random.default_rng(seed).uniform(0.1, 2.0, (n, d)) * np.array([1, -1, 1])[:d]


@pytest.mark.parametrize("broken, needle", [
    (WrongTransposeDense(3, 3, rng=1, dtype=np.float64), None),
    (MissingBatchSumDense(3, 3, rng=1, dtype=np.float64), None),
    (InPlaceReLU(), "modified its argument dy"),
    (OverwritingDense(3, 3, rng=1, dtype=np.float64), "accumulate with +="),
    (WrongSigmoid(), None),
])
def test_check_layer_rejects_broken_layers(broken, needle):
    result = check_layer(broken, _x())
    assert not result.passed
    if needle:
        assert any(needle in p for p in result.problems), str(result)
    else:
        assert result.worst > 1e-2, str(result)


def test_missing_batch_sum_passes_only_at_batch_size_one():
    layer = MissingBatchSumDense(3, 2, rng=1, dtype=np.float64)
    assert check_layer(layer, _x(n=1)).passed           # why batch size 1 alone is not enough
    assert not check_layer(layer, _x(n=2)).passed


def test_correct_layers_pass_with_room_to_spare():
    result = check_layer(npae.Sequential(npae.Dense(3, 4, rng=0, dtype=np.float64), npae.Tanh()), _x())
    assert result.passed and result.worst < 1e-9, str(result)
    assert set(result.errors) == {"x", "0.W", "0.b"}
    assert "rel. error" in str(result)


def test_numerical_gradient_of_known_functions():
    a = np.array([0.3, -1.2, 2.0])
    np.testing.assert_allclose(numerical_gradient(lambda: np.sum(np.sin(a)), a), np.cos(a), rtol=1e-11)
    np.testing.assert_allclose(numerical_gradient(lambda: np.sum(a ** 3), a, order=2), 3 * a ** 2, rtol=1e-7)
    np.testing.assert_array_equal(a, [0.3, -1.2, 2.0])          # restored after perturbing
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda: 0.0, np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="order"):
        numerical_gradient(lambda: 0.0, np.zeros(3), order=3)


def test_rel_error():
    assert rel_error(np.ones(3), np.ones(3)) == 0
    assert rel_error(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == pytest.approx(np.sqrt(2))
    assert rel_error(np.array([2.0]), np.array([1.0])) == pytest.approx(0.5)
    assert rel_error(np.zeros(2), np.zeros(2)) == 0


def test_check_loss_rejects_a_loss_missing_the_batch_mean():
    class SumMSE(npae.MSE):
        def backward(self):
            return super().backward() * 2        # as if the 1/N were forgotten for N = 2
    x = _x(n=2)
    assert check_loss(npae.MSE(), x, x * 0.5).passed
    assert not check_loss(SumMSE(), x, x * 0.5).passed


def test_check_model_uses_the_model_protocol():
    class TinyModel:
        def __init__(self, wrong=False):
            self.net = npae.Sequential(npae.Dense(3, 2, rng=0, dtype=np.float64), npae.Sigmoid(),
                                       npae.Dense(2, 3, rng=1, dtype=np.float64))
            self.mse, self.wrong = npae.MSE(), wrong

        def named_parameters(self):
            return self.net.named_parameters()

        def loss(self, x):
            return self.mse(self.net.forward(x), x)

        def backward(self):
            self.net.backward(self.mse.backward() * (1.5 if self.wrong else 1.0))

    assert check_model(TinyModel(), _x()).passed
    assert not check_model(TinyModel(wrong=True), _x()).passed


def test_check_function():
    assert check_function(lambda x: np.sum(x ** 2), lambda x: 2 * x, _x()).passed
    assert not check_function(lambda x: np.sum(x ** 2), lambda x: x, _x()).passed


def test_checks_refuse_float32_and_warn_at_kinks():
    with pytest.raises(TypeError, match="float64"):
        check_layer(npae.Dense(2, 2), np.zeros((1, 2), np.float32))
    with pytest.warns(npae.KinkWarning, match="kink"):
        check_layer(npae.ReLU(), np.array([[1e-6, 1.0]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_layer(npae.ReLU(), np.array([[0.5, -1.0]]))


class Square(Layer):
    """A student's layer y = x², written against the public protocol."""

    def forward(self, x):
        self._check_input(x)
        self._save(x, x=x)
        return x * x

    def backward(self, dy):
        return 2 * self._saved(dy)["x"] * dy


@given(arrays((3, 2)))
def test_public_strategies_drive_a_students_layer(x):
    assert check_layer(Square(), x).passed


def test_parameter_basics():
    p = Parameter(np.ones((2, 3), np.float32), "W")
    assert p.grad.shape == (2, 3) and p.grad.dtype == np.float32 and not p.grad.any()
    p.grad += 1
    p.zero_grad()
    assert not p.grad.any()
    with pytest.raises(TypeError, match="float32 or float64"):
        Parameter(np.ones(3, int))


def test_check_model_passes_noise_named_eps_through_to_the_model():
    """A VAE's loss takes its noise as ``eps``; the checker's own step is ``step``."""
    vae = npae.VAE(layer_sizes=[4, 3, 2], activation="tanh", dtype="float64", seed=0)
    x = np.random.default_rng(0).uniform(0.1, 0.9, (3, 4))
    noise = np.random.default_rng(1).standard_normal((2, 3, 2))
    result = check_model(vae, x, eps=noise)
    assert result.passed, str(result)
    wrong = check_model(vae, x, eps=noise, step=1.0)          # a silly step must show
    assert not wrong.passed


def test_a_transposed_weight_gradient_is_caught_even_for_inputs_from_seed_zero():
    """check_layer's projection R comes from its own stream: an x drawn from
    default_rng(0) must not coincide with R (x = R makes xᵀR symmetric and hides a transpose)."""
    class TransposedGradient(npae.Dense):
        def backward(self, dy):
            x = self._saved(dy)["x"]
            self.W.grad += dy.T @ x
            self.b.grad += dy.sum(axis=0)
            return dy @ self.W.value.T

    for seed in range(3):
        x = np.random.default_rng(seed).standard_normal((4, 3))
        assert not check_layer(TransposedGradient(3, 3, rng=1, dtype=np.float64), x, seed=seed).passed
