import numpy as np
import pytest

import npae
from npae.parameter import Parameter


def quadratic_grad(p, A, c):
    """f(p) = ½ pᵀ A p − cᵀ p  ->  ∇f = A p − c."""
    return A @ p - c


def test_adam_first_step_is_the_closed_form(backend):
    # With m₀ = v₀ = 0 the bias-corrected m̂ = g and v̂ = g², so the first step is
    # exactly p − lr g / (|g| + eps).
    p0 = np.array([1.0, -2.0, 0.5, 3.0])
    A, c = np.diag([1.0, 2.0, 3.0, 4.0]), np.array([0.1, 0.0, -1.0, 2.0])
    param = Parameter(p0.copy())
    opt = npae.Adam([param], lr=0.1, eps=1e-8)
    g = quadratic_grad(p0, A, c)
    param.grad[:] = g
    opt.step()
    np.testing.assert_allclose(param.value, p0 - 0.1 * g / (np.abs(g) + 1e-8), rtol=1e-14)


def test_adam_follows_its_equations_for_several_steps(backend):
    rng = np.random.default_rng(0)
    A = np.diag(rng.uniform(0.5, 3, 5))
    c = rng.normal(size=5)
    lr, b1, b2, eps, wd = 0.05, 0.8, 0.95, 1e-6, 0.01
    param = Parameter(rng.normal(size=5))
    opt = npae.Adam([param], lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd)
    p, m, v = param.value.copy(), np.zeros(5), np.zeros(5)
    for t in range(1, 6):
        param.grad[:] = quadratic_grad(param.value, A, c)
        opt.step()
        g = quadratic_grad(p, A, c) + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        p = p - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        np.testing.assert_allclose(param.value, p, rtol=1e-12)


def test_adam_minimises_a_quadratic(backend):
    A, c = np.diag([1.0, 10.0]), np.array([1.0, -2.0])
    param = Parameter(np.zeros(2))
    opt = npae.Adam([param], lr=0.05)
    for _ in range(2000):
        opt.zero_grad()
        param.grad += quadratic_grad(param.value, A, c)
        opt.step()
    np.testing.assert_allclose(param.value, np.linalg.solve(A, c), atol=1e-4)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_solves_least_squares(nesterov, backend):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 3.0]) + 0.1 * rng.normal(size=50)
    w = Parameter(np.zeros(4))
    opt = npae.SGD([w], lr=0.02, momentum=0.9, nesterov=nesterov)
    for _ in range(1500):
        opt.zero_grad()
        w.grad += X.T @ (X @ w.value - y) / len(X)
        opt.step()
    np.testing.assert_allclose(w.value, np.linalg.lstsq(X, y, rcond=None)[0], atol=1e-8)


def test_sgd_update_equations(backend):
    p = Parameter(np.array([1.0, -1.0]))
    opt = npae.SGD([p], lr=0.1, momentum=0.5, nesterov=True, weight_decay=0.2)
    p.grad[:] = [0.3, 0.4]
    opt.step()
    g = np.array([0.3, 0.4]) + 0.2 * np.array([1.0, -1.0])
    np.testing.assert_allclose(p.value, [1.0, -1.0] - 0.1 * (g + 0.5 * g))
    plain = Parameter(np.array([2.0]))
    sgd = npae.SGD([plain], lr=0.5)
    plain.grad[:] = 4.0
    sgd.step()
    assert plain.value[0] == 0.0


def test_adam_flushes_denormal_state_to_zero(backend):
    p = Parameter(np.ones(3, np.float32))
    opt = npae.Adam([p], lr=1e-3)
    p.grad[:] = [1e-20, 1.0, 0.0]          # g² = 1e-40 is a float32 denormal
    opt.step()
    assert opt.v[0][0] == 0 and opt.v[0][1] > 0
    tiny = np.finfo(np.float32).tiny
    p.grad[:] = 0
    for _ in range(3000):                  # m decays by 0.9 per step toward denormals
        opt.step()
    state = np.concatenate([opt.m[0], opt.v[0]])
    assert not np.any((state != 0) & (np.abs(state) < tiny))
    assert p.value.dtype == np.float32


def test_optimizers_take_models_and_dedupe_tied_parameters():
    enc = npae.Dense(4, 2)
    model = npae.Sequential(enc, npae.TiedDense(enc))
    assert len(npae.Adam(model).params) == 3          # W (once), b, decoder b
    with pytest.raises(ValueError, match="learning rate"):
        npae.SGD(model, lr=0)
    with pytest.raises(ValueError, match="nesterov"):
        npae.SGD(model, nesterov=True)
    with pytest.raises(TypeError, match="Parameters"):
        npae.Adam([np.zeros(3)])


def test_parameters_of_both_dtypes_each_get_scalars_in_their_own_precision():
    """p = 1 − lr · g with lr = 0.3, g = 3: in float64, 1 − 0.9 = 0.09999999999999998; in
    float32, 0.3f · 3 rounds to 0.90000004f, leaving 0.099999964f. Scalars of the wrong
    precision land on the other number (float32(0.1) = 0.1f, not 0.099999964f)."""
    p32 = npae.Parameter(np.ones(3, np.float32))
    p64 = npae.Parameter(np.ones(3, np.float64))
    opt = npae.SGD([p32, p64], lr=0.3)
    p32.grad[...] = 3
    p64.grad[...] = 3
    opt.step()
    assert p32.value.dtype == np.float32 and p64.value.dtype == np.float64
    np.testing.assert_array_equal(p64.value, 1 - 0.3 * 3)
    np.testing.assert_array_equal(p32.value, np.float32(1) - np.float32(0.3) * np.float32(3))
    assert np.float32(1) - np.float32(0.3) * np.float32(3) != np.float32(1 - 0.3 * 3)


# --- the flat arrays the optimizers gather the Parameters into --------------------------------
def _reference_adam(p, g, lr=0.1, eps=1e-8):
    """The first Adam step, closed form: p − lr g / (|g| + eps)."""
    return p - lr * g / (np.abs(g) + eps)


def test_optimizer_gathers_parameters_into_one_flat_array_per_dtype(rng):
    a = Parameter(rng.normal(size=(3, 4)))
    b = Parameter(rng.normal(size=5))
    c = Parameter(rng.normal(size=2).astype(np.float32))
    before = [p.value.copy() for p in (a, b, c)]
    opt = npae.Adam([a, b, c], lr=0.1)
    assert [group.dtype for group in opt._groups] == [np.float64, np.float32]
    flat64, flat32 = opt._groups[0].values, opt._groups[1].values
    assert np.shares_memory(a.value, flat64) and np.shares_memory(b.value, flat64)
    assert np.shares_memory(c.value, flat32) and flat64.size == 17
    for p, value in zip((a, b, c), before):
        np.testing.assert_array_equal(p.value, value)                 # moved, not changed
        assert p.value.flags.c_contiguous and p.value.flags.writeable
    grads = [rng.normal(size=p.shape).astype(p.dtype) for p in (a, b, c)]
    for p, g in zip((a, b, c), grads):
        p.grad[...] = g
    opt.step()
    for p, value, g in zip((a, b, c), before, grads):
        np.testing.assert_allclose(p.value, _reference_adam(value, g), rtol=1e-6)
    assert [m.shape for m in opt.state_dict()["m"]] == [(3, 4), (5,), (2,)]   # per Parameter


def test_a_parameter_moved_away_is_gathered_back_before_the_step(rng):
    """A second optimizer over the same Parameters gathers them into its own arrays; the first
    one must still update the Parameters themselves, not its stale copies. Same for a value
    the user replaced."""
    p, q = Parameter(rng.normal(size=4)), Parameter(rng.normal(size=3))
    first = npae.Adam([p, q], lr=0.1)
    second = npae.Adam([p, q], lr=0.1)
    assert np.shares_memory(p.value, second._groups[0].values)
    p.value = np.full(4, 2.0)                  # replaced outright
    start = [p.value.copy(), q.value.copy()]
    first.zero_grad()
    p.grad[...] = 1.0
    q.grad[...] = -1.0
    first.step()
    np.testing.assert_allclose(p.value, _reference_adam(start[0], np.ones(4)))
    np.testing.assert_allclose(q.value, _reference_adam(start[1], -np.ones(3)))
    assert np.shares_memory(p.value, first._groups[0].values)


def test_a_parameter_without_a_gradient_this_step_is_updated_with_zeros(rng):
    """zero_grad is lazy; the flat gradient array must still read 0 for a Parameter that got
    no contribution (its stale numbers from the last step would otherwise be applied)."""
    p, q = Parameter(rng.normal(size=4)), Parameter(rng.normal(size=3))
    opt = npae.SGD([p, q], lr=0.5)
    p.grad[...] = 1.0
    q.grad[...] = 1.0
    opt.step()
    opt.zero_grad()
    p.grad[...] = 2.0                          # q gets nothing this time
    q_before = q.value.copy()
    opt.step()
    np.testing.assert_array_equal(q.value, q_before)


def test_layers_keep_working_on_gathered_parameters(rng):
    """Training a Dense through the optimizer's flat arrays changes its output as the
    closed-form step says (the layer reads W and b from the views)."""
    layer = npae.Dense(3, 2, rng=0, dtype=np.float64)
    x = rng.normal(size=(5, 3))
    opt = npae.SGD(layer, lr=0.1)
    W, b = layer.W.value.copy(), layer.b.value.copy()
    opt.zero_grad()
    layer.forward(x)
    dy = np.ones((5, 2))
    layer.backward(dy)
    opt.step()
    np.testing.assert_allclose(layer.forward(x), x @ (W - 0.1 * x.T @ dy) + (b - 0.1 * dy.sum(0)))


def test_invalid_settings_leave_the_parameters_where_they_are(rng):
    p = Parameter(rng.normal(size=3))
    value = p.value
    for make in (lambda: npae.Adam([p], betas=(1.5, 0.9)), lambda: npae.SGD([p], momentum=2.0)):
        with pytest.raises(ValueError):
            make()
        assert p.value is value


def test_a_value_replaced_by_one_of_another_shape_or_dtype_is_named(rng):
    p = Parameter(rng.normal(size=3), "W")
    opt = npae.Adam([p])
    p.value = np.zeros(4)
    with pytest.raises(npae.ShapeError, match=r"'W': value must keep its shape \(3,\)"):
        opt.step()
    p.value = np.zeros(3, np.float32)
    with pytest.raises(npae.DTypeError, match="'W': value must keep its dtype float64"):
        opt.step()
