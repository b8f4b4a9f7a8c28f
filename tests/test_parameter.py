"""Parameter: lazy zeroing and products written straight into the gradient."""
import numpy as np
import pytest

import npae
from npae import Parameter


@pytest.fixture
def p(rng):
    return Parameter(rng.standard_normal((3, 4)).astype(np.float32), "W")


def test_zero_grad_is_seen_as_zeros_even_though_the_array_is_not_cleared_yet(p):
    p.grad += 5
    p.zero_grad()
    assert p._grad[0, 0] == 5                    # not cleared yet: nothing read it
    assert np.all(p.grad == 0)                   # reading clears it
    p.grad += 1
    assert np.all(p.grad == 1)


def test_add_matmul_writes_after_zero_grad_and_adds_after_that(p, rng):
    a, b = (rng.standard_normal(s).astype(np.float32) for s in ((3, 5), (5, 4)))
    p.grad += 7                                  # stale numbers that must not survive
    p.zero_grad()
    p.add_matmul(a, b)
    np.testing.assert_array_equal(p.grad, a @ b)
    p.add_matmul(a, b)                           # a second use (tied weights) adds
    np.testing.assert_allclose(p.grad, 2 * (a @ b), rtol=1e-6)
    p.zero_grad()
    p.grad += 1                                  # += after zero_grad starts from zeros
    p.add_matmul(a, b)
    np.testing.assert_allclose(p.grad, 1 + a @ b, rtol=1e-6)


def test_add_matmul_reshapes_to_the_parameter_shape(rng):
    w = Parameter(np.zeros((2, 3, 2, 2), np.float64), "conv W")
    a, b = rng.standard_normal((2, 7)), rng.standard_normal((7, 12))
    w.grad += 7                                  # stale numbers that must not survive
    w.zero_grad()
    w.add_matmul(a, b)
    np.testing.assert_array_equal(w.grad, (a @ b).reshape(2, 3, 2, 2))
    w.add_matmul(a, b)
    np.testing.assert_allclose(w.grad, 2 * (a @ b).reshape(2, 3, 2, 2), rtol=1e-14)


def test_add_matmul_into_a_vector_takes_a_one_row_product(rng):
    """A bias: 1_Nᵀ dy as a (1, N) (N, D) product, written after zero_grad, added after that."""
    b = Parameter(np.zeros(4, np.float32), "b")
    ones, dy = np.ones((1, 6), np.float32), rng.standard_normal((6, 4)).astype(np.float32)
    b.grad += 7                                  # stale numbers that must not survive
    b.zero_grad()
    b.add_matmul(ones, dy)
    np.testing.assert_allclose(b.grad, dy.sum(axis=0), rtol=1e-6)
    b.add_matmul(ones, dy)
    np.testing.assert_allclose(b.grad, 2 * dy.sum(axis=0), rtol=1e-6)
    with pytest.raises(npae.ShapeError, match="cannot be added"):
        b.add_matmul(np.ones((2, 6), np.float32), dy[:, :2])      # 2 · 2 values, but not one row


def test_add_matmul_of_another_dtype_still_adds_correctly(p, rng):
    a, b = rng.standard_normal((3, 2)), rng.standard_normal((2, 4))     # float64 into float32
    p.grad += 7
    p.zero_grad()
    p.add_matmul(a, b)
    assert p.grad.dtype == np.float32
    np.testing.assert_allclose(p.grad, a @ b, rtol=1e-6)


def test_assigning_grad_copies_into_the_array_and_checks_the_shape(p):
    array = p.grad
    p.zero_grad()
    p.grad = np.full((3, 4), 2.0)
    assert p.grad is array and np.all(array == 2)
    with pytest.raises(npae.ShapeError, match=r"grad must have shape \(3, 4\)"):
        p.grad = np.zeros(4)


def test_a_training_step_after_lazy_zeroing_matches_eager_zeroing(rng):
    """The optimizer reads every gradient; a Parameter that got none this step is zero."""
    model = npae.Sequential(npae.Dense(6, 5, rng=1), npae.ReLU(), npae.Dense(5, 6, rng=2))
    unused = Parameter(np.ones(3, np.float32), "unused")
    opt = npae.SGD(model.parameters() + [unused], lr=0.1)
    x = rng.random((4, 6), dtype=np.float32)
    for p in opt.params:
        p.grad += 100                            # garbage from an earlier step
    opt.zero_grad()
    model.backward(model.forward(x) - x)
    expected = [p.grad.copy() for p in opt.params]
    for p in opt.params:
        p.grad.fill(0)
    model.forward(x)
    model.backward(model.forward(x) - x)
    for p, e in zip(opt.params, expected):
        np.testing.assert_array_equal(p.grad, e)
    assert np.all(expected[-1] == 0)
    opt.step()
    np.testing.assert_array_equal(unused.value, 1)


def test_add_matmul_rejects_a_transposed_product_even_when_the_sizes_agree(rng):
    w = Parameter(np.zeros((3, 2)), "W")
    with pytest.raises(npae.ShapeError, match=r"product of shape \(2, 3\) cannot be added to a gradient of "
                                              r"shape \(3, 2\)"):
        w.add_matmul(rng.standard_normal((2, 5)), rng.standard_normal((5, 3)))
    conv = Parameter(np.zeros((4, 3, 2, 2)), "conv W")
    with pytest.raises(npae.ShapeError, match="cannot be added"):
        conv.add_matmul(rng.standard_normal((3, 5)), rng.standard_normal((5, 16)))


def test_a_new_parameter_takes_the_direct_write_on_its_first_product(p, rng, monkeypatch):
    a, b = (rng.standard_normal(s).astype(np.float32) for s in ((3, 5), (5, 4)))
    calls = []
    real = np.matmul
    monkeypatch.setattr(np, "matmul", lambda *args, **kw: calls.append(kw.get("out") is not None) or real(*args, **kw))
    p.add_matmul(a, b)
    assert calls == [True]
    np.testing.assert_array_equal(p.grad, a @ b)
