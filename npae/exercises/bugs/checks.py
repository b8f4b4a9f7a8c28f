"""The checks the bug zoo is judged by: npae's own, nothing written to recognise one bug.

Gradient checks on drawn cases (Hypothesis): ``check_layer`` (central differences and the
layer protocol), ``check_model`` (a whole model, noise fixed), ``check_function``, and
behaviour checks that follow from the definitions:

    sampling_moments          z = μ + σ ⊙ ε has mean μ and variance σ² (ε ~ N(0, I))
    kl_against_monte_carlo    KL(q ‖ p) = E_q[log q(z) − log p(z)], estimated by sampling
    sparsity_uses_batch_mean  Σ_j KL(ρ ‖ ρ̂_j) depends on a batch only through ρ̂ = mean_n h_n
    vae_unbiased              the VAE's loss and gradient equal, in expectation over ε, the
                              closed-form −ELBO of a linear-Gaussian VAE and its gradient

A gradient check cannot see a mistake made the same way in a forward pass and its backward
pass (the gradient of a wrong function is still its gradient): the behaviour checks are the
ones that catch those. Each check returns a ``CheckResult`` (``.passed``, ``str()``).
"""
import numpy as np
from hypothesis import strategies as st

from ... import gaussian as G
from ...gradcheck import check_function, check_layer, check_model, numerical_gradient
from ...testing import arrays, batch_sizes
from ..runner import CaseReport, run_property

EXAMPLES = 25


def _report(describe, result=None, error=None):
    report = CaseReport(describe)
    if error is not None:
        report.problems.append(f"raised {type(error).__name__}: {error}")
    elif result is not None:
        report.errors = {name: ((), err) for name, err in result.errors.items()}
        report.problems += list(result.problems)
    return report


def _guarded(describe, run):
    try:
        return _report(describe, run())
    except Exception as error:          # a crash (wrong shapes ...) is a failed check too
        return _report(describe, error=error)


# --- gradient checks -------------------------------------------------------------------------

def layer_gradients(make_layer, cases, max_examples=EXAMPLES, shrink=True):
    """check_layer(make_layer(case), case["x"]) on every drawn case."""
    def run_case(case):
        layer = make_layer(case)
        return _guarded(f"{layer!r} on x {case['x'].shape}", lambda: check_layer(layer, case["x"]))
    return run_property("check_layer", cases, run_case, "drawn layer cases", max_examples, shrink)


def model_gradients(make_model, cases, max_examples=EXAMPLES, shrink=True):
    """check_model(model, x, **noise) on every drawn case; make_model(case) -> (model, noise)."""
    def run_case(case):
        model, noise = make_model(case)
        return _guarded(f"{type(model).__name__} on x {case['x'].shape}",
                        lambda: check_model(model, case["x"], **noise))
    return run_property("check_model", cases, run_case, "drawn model cases", max_examples, shrink)


@st.composite
def vae_cases(draw):
    n_features, n_latent, hidden = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    likelihood = draw(st.sampled_from(["bce", "gaussian"]))
    n, k = draw(batch_sizes(4)), draw(st.integers(1, 2))
    if likelihood == "bce":
        x = draw(arrays((n, n_features), min_value=0.0, max_value=1.0, kinks=(0.0,), kink_margin=0.05))
    else:
        x = draw(arrays((n, n_features), kinks=(0.0,), kink_margin=0.05))
    return {"sizes": [n_features, hidden, n_latent], "likelihood": likelihood, "x": x,
            "eps": draw(arrays((k, n, n_latent), kinks=(0.0,), kink_margin=0.25)),
            "seed": draw(st.integers(0, 2**16))}


def vae_gradients(vae_class, max_examples=15, shrink=True):
    """check_model on the whole VAE objective, ε fixed, biases jittered off zero."""
    def make(case):
        vae = vae_class(layer_sizes=case["sizes"], reconstruction_loss=case["likelihood"],
                        activation="tanh", n_samples=len(case["eps"]), seed=case["seed"],
                        dtype=np.float64)
        jitter = np.random.default_rng(case["seed"])
        for p in vae.parameters():
            p.value += jitter.normal(0, 0.3, p.shape)
        return vae, {"eps": case["eps"]}
    return model_gradients(make, vae_cases(), max_examples, shrink)


def function_gradients(f, grad_f, cases, max_examples=EXAMPLES, shrink=True):
    """check_function(lambda a: f(a, case), lambda a: grad_f(a, case), case["x"]) on drawn cases."""
    def run_case(case):
        return _guarded(f"x {case['x'].shape}", lambda: check_function(
            lambda a: f(a, case), lambda a: grad_f(a, case), case["x"]))
    return run_property("check_function", cases, run_case, "drawn cases", max_examples, shrink)


# --- behaviour checks from the definitions ---------------------------------------------------

@st.composite
def gaussian_parameters(draw, margin=0.0):
    """μ, log σ² (N, d); ``margin`` keeps them off 0, where the KL's gradient vanishes and a
    relative error would compare round-off with round-off."""
    n, d = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    away = dict(kinks=(0.0,), kink_margin=margin) if margin else {}
    return {"mu": draw(arrays((n, d), **away)),
            "log_var": draw(arrays((n, d), min_value=-3.0, max_value=2.0, **away))}


SAMPLES = 20_000


def sampling_moments(reparameterize, max_examples=10, shrink=True):
    """z = reparameterize(μ, log σ², ε), ε ~ N(0, I): every z_j has mean μ_j and variance
    σ_j² = exp(log σ_j²), within 5 standard errors of the sample estimates."""
    eps = np.random.default_rng(0).standard_normal((SAMPLES, 3, 3))

    def run_case(case):
        mu, log_var = case["mu"], case["log_var"]
        report = CaseReport(f"mu {mu.shape}, log_var {log_var.shape}, {SAMPLES} draws of eps")
        try:
            z = reparameterize(mu, log_var, np.ascontiguousarray(eps[:, :mu.shape[0], :mu.shape[1]]))
        except Exception as error:
            return _report(report.case, error=error)
        variance = np.exp(log_var)
        mean_z = (z.mean(axis=0) - mu) / np.sqrt(variance / SAMPLES)
        var_z = (z.var(axis=0) - variance) / (variance * np.sqrt(2.0 / SAMPLES))
        report.errors = {"E[z] − μ": ((), float(np.abs(mean_z).max())),
                         "Var[z] − σ²": ((), float(np.abs(var_z).max()))}
        report.tol, report.measure = 5.0, "std. errors"
        return report
    return run_property("sampling_moments", gaussian_parameters(), run_case,
                        "E[z] = μ, Var[z] = σ²", max_examples, shrink)


def kl_against_monte_carlo(kl_standard_normal, max_examples=10, shrink=True):
    """KL(N(μ, σ²) ‖ N(0, I)) per example against E_q[log q(z) − log p(z)] from 20,000 samples
    (within 5 standard errors); also 0 exactly at the prior μ = 0, σ = 1."""
    eps = np.random.default_rng(1).standard_normal((SAMPLES, 3, 3))

    def run_case(case):
        mu, log_var = case["mu"], case["log_var"]
        report = CaseReport(f"mu {mu.shape}, log_var {log_var.shape}")
        try:
            kl = np.asarray(kl_standard_normal(mu, log_var))
            at_prior = np.asarray(kl_standard_normal(np.zeros_like(mu), np.zeros_like(log_var)))
        except Exception as error:
            return _report(report.case, error=error)
        z = G.reparameterize(mu, log_var, np.ascontiguousarray(eps[:, :mu.shape[0], :mu.shape[1]]))
        log_ratio = G.log_normal(z, mu, log_var) - G.log_standard_normal(z)        # (K, N)
        standard_error = log_ratio.std(axis=0) / np.sqrt(SAMPLES) + 1e-12
        report.errors = {"KL − Monte Carlo": ((), float(np.max(np.abs(kl - log_ratio.mean(axis=0)) / standard_error)))}
        report.tol, report.measure = 5.0, "std. errors"
        if np.any(at_prior != 0):
            report.problems.append(f"KL(N(0, I) ‖ N(0, I)) must be 0, got {at_prior}")
        return report
    return run_property("kl_against_monte_carlo", gaussian_parameters(), run_case,
                        "KL = E_q[log q − log p]", max_examples, shrink)


@st.composite
def code_batches(draw):
    shape = (draw(batch_sizes(4)), draw(st.integers(1, 4)))
    return {"h": draw(arrays(shape, min_value=0.02, max_value=0.98)), "rho": draw(st.floats(0.02, 0.5))}


def sparsity_uses_batch_mean(make_penalty, max_examples=EXAMPLES, shrink=True):
    """The sparsity penalty Σ_j KL(ρ ‖ ρ̂_j) is a function of ρ̂ = (1/N) Σ_n h_n alone: replacing
    every example of the batch by the batch mean leaves its value unchanged."""
    def run_case(case):
        h, rho = case["h"], case["rho"]
        report = CaseReport(f"h {h.shape}, rho {rho:.3g}")
        try:
            value = make_penalty(rho).forward(h)
            at_mean = make_penalty(rho).forward(np.repeat(h.mean(axis=0, keepdims=True), len(h), axis=0))
        except Exception as error:
            return _report(report.case, error=error)
        report.errors = {"P(h) vs P(mean)": ((), abs(value - at_mean) / max(abs(at_mean), 1e-12))}
        report.tol, report.measure = 1e-9, "rel. difference"
        return report
    return run_property("sparsity_uses_batch_mean", code_batches(), run_case,
                        "P depends on the batch through ρ̂ only", max_examples, shrink)


def vae_unbiased(vae_class, groups=100, samples=50, seed=0):
    """On a linear-Gaussian VAE (p(x|z) = N(z W + b, σ² I), encoder μ, log σ² affine in x) the
    −ELBO has a closed form. The loss averaged over ε, and the gradient averaged over ε, must
    match it and its finite-difference gradient within 5 standard errors."""
    d, d_latent, sigma = 3, 2, 0.7
    vae = vae_class(layer_sizes=[d, d_latent], reconstruction_loss="gaussian", sigma=sigma,
                    seed=seed, dtype=np.float64, n_samples=samples)
    jitter = np.random.default_rng(seed + 1)
    for p in vae.parameters():
        p.value += jitter.normal(0, 0.3, p.shape)
    vae.mu_head_.b.value += 1.0            # a posterior well away from the prior: KL ≈ 1.5 nats,
    vae.log_var_head_.b.value -= 1.5       # σ² ≈ 0.2 (σ² and σ differ by a factor 2)
    x = np.random.default_rng(seed + 2).standard_normal((4, d))

    def closed_form():
        mu, log_var = vae.encode(x)
        W, b = vae.decoder_[0].W.value, vae.decoder_[0].b.value
        squared = np.sum((x - mu @ W - b) ** 2, axis=1) + np.exp(log_var) @ np.sum(W * W, axis=1)
        reconstruction = 0.5 * d * np.log(2 * np.pi * sigma ** 2) + squared / (2 * sigma ** 2)
        return float(np.mean(reconstruction + G.kl_standard_normal(mu, log_var)))

    report = CaseReport(f"linear-Gaussian VAE {d}-{d_latent}, x {x.shape}, {groups} × {samples} draws of eps")
    noise = np.random.default_rng(seed + 3)
    losses, grads = [], []
    try:
        for _ in range(groups):
            vae.zero_grad()
            losses.append(vae.loss(x, eps=noise.standard_normal((samples,) + (len(x), d_latent))))
            vae.backward()
            grads.append(np.concatenate([p.grad.ravel() for p in vae.parameters()]))
    except Exception as error:
        return _as_result(_report(report.case, error=error))
    exact = closed_form()
    exact_grad = np.concatenate([numerical_gradient(closed_form, p.value).ravel() for p in vae.parameters()])
    grads = np.array(grads)
    loss_se = np.std(losses, ddof=1) / np.sqrt(groups) + 1e-12
    grad_se = grads.std(axis=0, ddof=1) / np.sqrt(groups) + 1e-12
    report.errors = {"E[loss] + ELBO": ((), abs(np.mean(losses) - exact) / loss_se),
                     "E[gradient] − exact": ((), float(np.max(np.abs(grads.mean(axis=0) - exact_grad) / grad_se)))}
    report.tol, report.measure = 5.0, "std. errors"
    return _as_result(report)


def _as_result(report):
    from ..runner import CheckResult
    return CheckResult("vae_unbiased", report.passed, 1, report.worst, None if report.passed else report,
                       "E_ε[loss] = −ELBO, E_ε[∇loss] = ∇(−ELBO)", report.measure, report.tol)


def kl_gradients(kl_standard_normal, kl_standard_normal_grad, max_examples=EXAMPLES, shrink=True):
    """check_function on both partial derivatives of Σ_n KL_n(μ, log σ²)."""
    def run_case(case):
        mu, log_var = case["mu"], case["log_var"]
        report = CaseReport(f"mu {mu.shape}, log_var {log_var.shape}")
        try:
            for name, array, f, grad in (
                    ("∂KL/∂μ", mu, lambda m: np.sum(kl_standard_normal(m, log_var)),
                     lambda m: kl_standard_normal_grad(m, log_var)[0]),
                    ("∂KL/∂log σ²", log_var, lambda s: np.sum(kl_standard_normal(mu, s)),
                     lambda s: kl_standard_normal_grad(mu, s)[1])):
                report.errors[name] = (array.shape, check_function(f, grad, array).errors["x"])
        except Exception as error:
            return _report(report.case, error=error)
        return report
    return run_property("check_function", gaussian_parameters(0.05), run_case, "drawn μ, log σ²",
                        max_examples, shrink)


@st.composite
def upsample_cases(draw):
    shape = (draw(batch_sizes(3)), draw(st.integers(1, 2)), draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    return {"x": draw(arrays(shape)), "scale": (draw(st.integers(1, 3)), draw(st.integers(1, 3)))}


@st.composite
def autoencoder_cases(draw):
    """Sizes, a seed, and x in [0.05, 1] (a tiny input makes its gradients round-off)."""
    n_features, hidden = draw(st.integers(1, 5)), draw(st.integers(1, 4))
    x = draw(arrays((draw(batch_sizes(4)), n_features), min_value=0.0, max_value=1.0,
                    kinks=(0.0,), kink_margin=0.05))
    return {"x": x, "hidden": hidden, "seed": draw(st.integers(0, 2**16))}
