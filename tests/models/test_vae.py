"""VAE: full-objective gradient checks (every parameter, fixed eps) and the model's contract."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import npae
import npae.gaussian
from npae.gradcheck import check_model
from npae.models.vae import VAE
from npae.models.vae_schedules import linear_ramp
from npae.testing import arrays

# each draw checks every parameter of a whole model (~70 ms): 35 draws per objective
# keeps the three checks at ~8 s on a shared 2-core machine
EXAMPLES = 35


WORST = {}   # objective -> worst relative error seen (printed with pytest -s)


def check_vae(vae, x, eps, objective=None):
    """check_model with the noise fixed (its finite-difference step is ``step``, so ``eps``
    goes to ``vae.loss``); the worst error is recorded under ``objective``."""
    result = check_model(vae, x, eps=eps)
    if objective is None:
        return result
    decoder = vae.reconstruction_loss + (" learned σ" if vae.learn_variance else "")
    name = f"{objective:<12} {decoder:<18} K{'>1' if eps.shape[0] > 1 else '=1'}"
    WORST[name] = max(WORST.get(name, 0.0), result.worst)
    return result


def teardown_module():
    for name, worst in sorted(WORST.items()):
        print(f"worst VAE gradient-check error  {name}  {worst:.2e}")


@st.composite
def vae_cases(draw, objective="elbo"):
    n_features, n_latent = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    hidden = tuple(draw(st.lists(st.integers(1, 4), max_size=2)))
    likelihood = draw(st.sampled_from(["bce", "gaussian", "gaussian-learned"]))
    options = dict(reconstruction_loss=likelihood.split("-")[0],
                   learn_variance=likelihood.endswith("learned"),
                   activation=draw(st.sampled_from(["tanh", "softplus", "sigmoid", "relu"])),
                   n_samples=draw(st.integers(1, 3)), seed=draw(st.integers(0, 2**16)),
                   sigma=draw(st.floats(0.3, 2.0)), dtype=np.float64)
    step = 0
    if objective == "beta-warmup":
        options.update(beta=draw(st.floats(0.1, 4.0)), warmup_steps=draw(st.integers(0, 20)))
        step = draw(st.integers(0, 30))
    elif objective == "capacity":
        options.update(capacity=1.0, capacity_steps=draw(st.integers(1, 20)),
                       gamma=draw(st.floats(1.0, 1000.0)))
        step = draw(st.integers(1, 30))
    vae = VAE(layer_sizes=[n_features, *hidden, n_latent], **options)
    vae.training_step = step
    # random biases too: at the zero initial biases (x = 0 gives log σ² = 0, σ² = 1) some
    # gradients vanish exactly, and a relative error of round-off against 0 means nothing
    jitter = np.random.default_rng(draw(st.integers(0, 2**16)))
    for p in vae.parameters():
        p.value += jitter.normal(0, 0.3, p.shape)
    n = draw(st.integers(1, 4))
    if options["reconstruction_loss"] == "bce":
        x = draw(arrays((n, n_features), min_value=0.0, max_value=1.0, kinks=(0.0,), kink_margin=0.05))
    else:   # (x near 0 makes the first layer's gradient vanish: round-off against ~0 again)
        x = draw(arrays((n, n_features), kinks=(0.0,), kink_margin=0.05))
    eps = draw(arrays((options["n_samples"], n, n_latent), kinks=(0.0,), kink_margin=0.25))
    if options["learn_variance"]:    # a per-pixel log σ² on both sides of the clamp's range
        vae.loss(x, eps=eps)
        log_var = draw(arrays((n_features,), min_value=-9.0, max_value=9.0))
        vae.decoder_log_var_.value[:] = np.where(np.abs(np.abs(log_var) - 7) < 0.01, 0.0, log_var)
    if objective == "capacity":      # aim C_t a drawn distance δ from the KL, on either side
        vae.loss(x, eps=eps)
        # δ in proportion to the KL: a finite-difference step (±2e-4 on a weight) moves a
        # large KL by ~KL · 2e-4 · |x| (dKL/dlog σ² = ½ (σ² − 1) grows with the KL), and a
        # fixed δ could then be crossed (KL 1347, δ 0.5: a 0.11 relative error at the kink)
        kl_scale = max(1.0, vae.components["kl"])
        delta = draw(st.floats(0.01, 0.5)) * kl_scale * draw(st.sampled_from([-1, 1]))
        ramp = min(1.0, step / vae.capacity_steps)
        assume(vae.components["kl"] + delta > 0)
        vae.capacity = (vae.components["kl"] + delta) / ramp
    vae.loss(x, eps=eps)
    assume(vae.kink_distance() > 1e-2)            # ReLU inputs and |KL − C| off their kinks
    return vae, x, eps


@settings(max_examples=EXAMPLES)
@given(vae_cases("elbo"))
def test_elbo_gradients(case):
    vae, x, eps = case
    result = check_vae(vae, x, eps, "ELBO")
    assert result.passed, str(result)


@settings(max_examples=EXAMPLES)
@given(vae_cases("beta-warmup"))
def test_beta_vae_with_warmup_gradients(case):
    vae, x, eps = case
    result = check_vae(vae, x, eps, "β, warm-up")
    assert result.passed, str(result)


@settings(max_examples=EXAMPLES)
@given(vae_cases("capacity"))
def test_capacity_gradients(case):
    vae, x, eps = case
    result = check_vae(vae, x, eps, "capacity")
    assert result.passed, str(result)


def small_vae(**options):
    options.setdefault("seed", 0)
    options.setdefault("dtype", np.float64)
    return VAE(layer_sizes=[6, 5, 3], activation="tanh", **options)


@pytest.fixture
def batch(rng):
    return rng.uniform(0, 1, (4, 6)), rng.standard_normal((1, 4, 3))


def clamped_vae(**options):
    """A VAE whose log σ² head output s sits in three bands, one per latent dimension:
    below, inside and above log_var_range = (−1, 1), each at least 0.3 from the ends."""
    vae = small_vae(log_var_range=(-1.0, 1.0), **options)
    vae.log_var_head_.W.value *= 0.1
    vae.log_var_head_.b.value[:] = [-2.5, 0.0, 2.5]
    return vae


def test_the_log_var_clamp_in_forward_and_backward(batch):
    x, eps = batch
    vae = clamped_vae()
    out = vae.forward(x, eps=eps)
    s = vae._cache["raw_log_var"]
    assert np.all(s[:, 0] < -1.3) and np.all(np.abs(s[:, 1]) < 0.7) and np.all(s[:, 2] > 1.3)
    np.testing.assert_array_equal(out.log_var[:, 0], -1.0)
    np.testing.assert_array_equal(out.log_var[:, 1], s[:, 1])
    np.testing.assert_array_equal(out.log_var[:, 2], 1.0)
    assert vae.kink_distance() >= 0.3
    vae.zero_grad()
    vae.loss(x, eps=eps)
    vae.backward()
    g = vae.log_var_head_.b.grad                         # flat outside the range: exactly 0
    assert g[0] == 0 and g[2] == 0 and g[1] != 0
    assert np.all(vae.log_var_head_.W.grad[:, [0, 2]] == 0)


@pytest.mark.parametrize("options", [{}, {"reconstruction_loss": "gaussian", "n_samples": 2}])
def test_the_log_var_clamp_passes_the_gradient_check(batch, options, monkeypatch):
    """The whole model, log σ² on both sides of the range: float64, rel. error ≤ 1e-7;
    and the check has teeth: a clamp that passes the gradient everywhere fails it."""
    x, _ = batch
    eps = np.random.default_rng(7).standard_normal((options.get("n_samples", 1), 4, 3))
    vae = clamped_vae(**options)
    result = check_vae(vae, x, eps, "log σ² clamp")
    assert result.passed, str(result)
    latent_backward = npae.kernels.gaussian.latent_backward   # the training path's clamp

    def no_clamp(dz, mu, s, sigma, e, w, low, high, d_mu, d_log_var):
        latent_backward(dz, mu, s, sigma, e, w, low.dtype.type(-np.inf), high.dtype.type(np.inf),
                        d_mu, d_log_var)
    monkeypatch.setattr(npae.kernels.gaussian, "latent_backward", no_clamp)
    broken = check_vae(vae, x, eps)
    assert not broken.passed and broken.errors["log_var.b"] > 1e-3


def test_components_and_the_total(batch):
    x, eps = batch
    vae = small_vae(beta=3.0, warmup_steps=10)
    vae.training_step = 0                                 # warm-up starts at β = 0
    total = vae.loss(x, eps=eps)
    recon, kl = vae.components["reconstruction"], vae.components["kl"]
    assert total == recon and kl > 0
    vae.training_step = 4
    assert vae.loss(x, eps=eps) == pytest.approx(recon + 3.0 * 0.4 * kl, rel=1e-14)
    vae.training_step = 25                                # past the ramp: β itself
    assert vae.loss(x, eps=eps) == pytest.approx(recon + 3.0 * kl, rel=1e-14)
    vae = small_vae(capacity=25.0, capacity_steps=100, gamma=1000.0)
    vae.training_step = 10                                # C_t = 2.5 nats
    total = vae.loss(x, eps=eps)
    assert vae.components["capacity"] == pytest.approx(1000.0 * abs(vae.components["kl"] - 2.5))
    assert total == pytest.approx(vae.components["reconstruction"] + vae.components["capacity"])
    assert total == pytest.approx(sum(vae.loss_weights[c] * v for c, v in vae.components.items()))


def test_reconstruction_averages_the_k_samples(batch):
    x, _ = batch
    eps = np.random.default_rng(5).standard_normal((3, 4, 3))
    vae = small_vae()
    singles = [vae.loss(x, eps=eps[k:k + 1]) - vae.components["kl"] for k in range(3)]
    vae.loss(x, eps=eps)
    assert vae.components["reconstruction"] == pytest.approx(np.mean(singles), rel=1e-13)


def test_kl_gradient_is_zero_exactly_at_the_capacity(batch):
    x, eps = batch
    vae = small_vae(capacity=1.0, capacity_steps=0, gamma=1000.0)
    vae.loss(x, eps=eps)
    vae.capacity = vae.components["kl"]
    reference = small_vae(beta=0.0)                      # the same weights, KL weight 0
    for model in (vae, reference):
        model.zero_grad()
        model.loss(x, eps=eps)
        model.backward()
    for (name, p), q in zip(vae.named_parameters(), reference.parameters()):
        assert np.array_equal(p.grad, q.grad), name


def test_forward_shapes_and_dtypes():
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        vae = VAE(layer_sizes=[8, 6, 2], seed=0, dtype=dtype, n_samples=3)
        x = rng.uniform(0, 1, (5, 8)).astype(dtype)
        out = vae.forward(x, rng=1)
        assert out.output.shape == (3, 5, 8) and out.z.shape == (3, 5, 2)
        assert out.mu.shape == out.log_var.shape == (5, 2)
        arrays_out = [out.output, out.mu, out.log_var, out.z, vae.reconstruct(x), vae.sample(4, rng=0),
                      vae.transform(x), vae.interpolate(x[0], x[1], 5), vae.traverse(x[0], [1], [0.0, 1.0])]
        assert all(a.dtype == dtype for a in arrays_out)
        assert isinstance(vae.loss(x, rng=0), float)
        assert vae.interpolate(x[0], x[1], 5).shape == (5, 8)
        assert vae.traverse(x[0], values=np.linspace(-2, 2, 4)).shape == (2, 4, 8)


def test_generation_is_what_it_says():
    vae = VAE(layer_sizes=[8, 6, 2], seed=0, dtype=np.float64)
    x = np.random.default_rng(0).uniform(0, 1, (2, 8))
    mu = vae.transform(x)
    path = vae.interpolate(x[0], x[1], 3)
    assert np.allclose(path[0], vae.decode(mu[:1])[0]) and np.allclose(path[2], vae.decode(mu[1:])[0])
    assert np.allclose(path[1], vae.decode((mu[:1] + mu[1:]) / 2)[0])
    grid = vae.traverse(x[0], dims=[1], values=np.array([-1.0, 2.0]))
    assert np.allclose(grid[0, 1], vae.decode(np.array([[mu[0, 0], 2.0]]))[0])
    assert np.array_equal(vae.reconstruct(x), vae.reconstruct(x))          # eval mode: no sampling
    assert np.all((vae.sample(5, rng=1) > 0) & (vae.sample(5, rng=1) < 1))  # Bernoulli means
    assert np.array_equal(vae.sample(5, rng=1), vae.sample(5, rng=1))


def test_bad_input_is_rejected_clearly():
    vae = VAE(layer_sizes=[4, 3, 2], seed=0)
    x = np.full((2, 4), 0.5, np.float32)
    with pytest.raises(npae.DTypeError, match="float64"):
        vae.loss(x.astype(np.float64))
    with pytest.raises(npae.DTypeError, match="int"):
        vae.loss(np.zeros((2, 4), np.int64))
    with pytest.raises(npae.NonFiniteError, match="NaN or inf"):
        vae.loss(np.full((2, 4), np.nan, np.float32))
    with pytest.raises(npae.ShapeError, match=r"\(K, 2, 2\)"):
        vae.loss(x, eps=np.zeros((2, 2), np.float32))
    with pytest.raises(npae.ShapeError, match=r"shape \(N, 4\), got \(2, 5\)"):
        vae.loss(np.zeros((2, 5), np.float32))
    with pytest.raises(npae.DomainError, match=r"\[0, 1\]"):
        vae.loss(x + 1)
    with pytest.raises(RuntimeError, match="before loss"):
        VAE(layer_sizes=[4, 3, 2]).backward()
    vae.loss(x)
    vae.sample(3)                          # the decoder's cache now belongs to the samples
    with pytest.raises(RuntimeError, match="before loss"):
        vae.backward()
    with pytest.raises(ValueError, match="reconstruction_loss"):
        VAE(layer_sizes=[4, 2], reconstruction_loss="poisson")
    with pytest.raises(ValueError, match="n_samples"):
        VAE(layer_sizes=[4, 2], n_samples=0)
    with pytest.raises(ValueError, match="learn_variance"):
        VAE(layer_sizes=[4, 2], learn_variance=True)
    with pytest.raises(ValueError, match="warmup"):
        VAE(layer_sizes=[4, 2], warmup_steps=5, warmup_epochs=2)
    with pytest.raises(ValueError, match="n_latent"):
        VAE(npae.Sequential(npae.Dense(4, 3)), npae.Sequential(npae.Dense(2, 4)))


def test_warmup_and_capacity_follow_the_trainers_counters(rng):
    x = rng.uniform(0, 1, (40, 6))
    vae = small_vae(beta=2.0, warmup_epochs=2)
    vae.fit(x, epochs=3, batch_size=10, verbose=0)
    h = vae.history_               # β is constant within an epoch: 0, then 1 (= 2 · 1/2), then 2
    for epoch, beta in enumerate([0.0, 1.0, 2.0]):
        expected = h["reconstruction"][epoch] + beta * h["kl"][epoch]
        assert h["loss"][epoch] == pytest.approx(expected, rel=1e-12)
    vae = small_vae(beta=2.0, warmup_steps=10)
    vae.fit(x, epochs=2, batch_size=10, verbose=0)
    assert vae.training_step == 8 and vae.beta_t == pytest.approx(2.0 * 0.8)
    vae = small_vae(capacity=25.0, capacity_steps=100, gamma=1000.0)
    vae.fit(x, epochs=1, batch_size=10, verbose=0)
    assert set(vae.history_.keys()) == {"loss", "reconstruction", "kl", "capacity"}
    assert vae.capacity_t == pytest.approx(1.0)                       # 4 steps of 100 towards 25 nats
    with pytest.raises(ValueError, match="step"):
        linear_ramp(-1, 10, 1.0)
    assert [linear_ramp(t, 4, 3.0) for t in (0, 2, 4, 9)] == [0.0, 1.5, 3.0, 3.0]
    assert linear_ramp(0, 0, 3.0) == 3.0


def test_the_check_rejects_broken_gradients(batch, monkeypatch):
    """The checks have teeth: a KL weight off by 2, or ∂z/∂log σ² = σ ε (the ½ dropped), fail."""
    x, eps = batch

    class WrongKLWeight(VAE):
        def _kl_weight(self):
            return 2 * super()._kl_weight()

    broken = WrongKLWeight(layer_sizes=[6, 5, 3], activation="tanh", seed=0, dtype=np.float64)
    result = check_vae(broken, x, eps)
    assert not result.passed and result.errors["log_var.b"] > 1e-3
    correct = npae.kernels.gaussian.latent_backward       # the training path's reparameterization

    def without_half(dz, mu, s, sigma, e, *rest):    # ½ σ Σ dz (2ε) = σ Σ dz ε
        correct(dz, mu, s, sigma, 2 * e, *rest)

    monkeypatch.setattr(npae.kernels.gaussian, "latent_backward", without_half)
    result = check_vae(small_vae(), x, eps)
    assert not result.passed and result.errors["log_var.W"] > 1e-3
    monkeypatch.setattr(npae.kernels.gaussian, "latent_backward", correct)
    assert check_vae(small_vae(), x, eps).passed


def test_noise_of_any_layout_and_bad_noise(batch):
    """ε laid out in Fortran order (or any strided view) gives the same pass as its C-order
    copy (the fused kernel reads flat arrays); no samples (K = 0), a wrong shape or a wrong
    dtype is refused by name."""
    x, _ = batch
    eps = np.random.default_rng(3).standard_normal((2, 4, 3))
    strided = np.asfortranarray(eps)
    assert not strided.flags.c_contiguous
    vae, twin = small_vae(n_samples=2), small_vae(n_samples=2)
    expected, got = vae.forward(x, eps=eps), twin.forward(x, eps=strided)
    for a, b in zip(expected, got):
        np.testing.assert_array_equal(a, b)
    vae.zero_grad(), twin.zero_grad()
    assert vae.loss(x, eps=eps) == twin.loss(x, eps=strided)
    vae.backward(), twin.backward()
    for p, q in zip(vae.parameters(), twin.parameters()):
        np.testing.assert_array_equal(p.grad, q.grad)
    for bad, match in [(np.zeros((0, 4, 3)), "eps must have shape"),
                       (np.zeros((1, 4, 2)), "eps must have shape"),
                       (eps.astype(np.float32), "eps has dtype float32")]:
        with pytest.raises((ValueError, TypeError), match=match):
            vae.forward(x, eps=bad)
