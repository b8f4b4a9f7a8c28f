"""Exercises on the new math of the variants: a gradient of a formula, judged by npae's
``check_function`` against central differences of npae's own forward formula.

    sparse_kl_backward(h, rho)               -> dh              ∂/∂h Σ_j KL(ρ ‖ ρ̂_j)
    contractive_backward(h, W)               -> (dh, dW)        ∂P/∂h, ∂P/∂W (direct path)
    reparameterize_backward(dz, log_var, eps) -> (d_mu, d_log_var)
"""
import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from .. import gaussian as G
from ..gradcheck import check_function
from ..regularizers import Contractive, SparsityKL
from ..testing import arrays, batch_sizes
from . import solutions as reference
from .runner import CaseReport, ExerciseError, compare_hint, expect, unpack

# --- cases ---------------------------------------------------------------------------------

@st.composite
def sparse_cases(draw):
    shape = (draw(batch_sizes(4)), draw(st.integers(1, 4)))
    case = {"h": draw(arrays(shape, min_value=0.02, max_value=0.98)),
            "rho": draw(st.floats(0.01, 0.99))}
    # at ρ̂ = ρ for every unit the gradient is exactly 0: a relative error means nothing there
    assume(np.linalg.norm(reference.sparse_kl_backward(case["h"], case["rho"])) > 1e-6)
    return case


@st.composite
def contractive_cases(draw):
    n, hidden, d = draw(batch_sizes(4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    return {"h": draw(arrays((n, hidden), min_value=0.05, max_value=0.95)),
            "W": draw(arrays((d, hidden), kinks=(0.0,), kink_margin=0.05))}


@st.composite
def gaussian_cases(draw):
    k, n, d = draw(st.integers(1, 3)), draw(batch_sizes(3)), draw(st.integers(1, 3))
    away = dict(kinks=(0.0,), kink_margin=0.05)   # every gradient here vanishes at 0
    return {"mu": draw(arrays((n, d), **away)),
            "log_var": draw(arrays((n, d), min_value=-4.0, max_value=2.0, **away)),
            "eps": draw(arrays((k, n, d), **away)),
            "dz": np.random.default_rng(draw(st.integers(0, 2**16))).standard_normal((k, n, d))}


# --- running one case ----------------------------------------------------------------------

def _call(function, who, names, *args):
    return unpack(function(*args), names, who)


def _judge(who, describe, checks, function, float32_args, probe, smaller, smaller_hint):
    """checks: [(name, array, f, grad_f)], each run by ``check_function``. ``probe``: () ->
    [(name, student's gradient, reference gradient, batch size)] on a generic case, for the
    hints. ``smaller``: () -> the report of a smaller case (one example, one sample), or None."""
    report = CaseReport(describe)
    try:
        for name, array, f, grad_f in checks:
            result = check_function(f, grad_f, array)
            report.errors[name] = (array.shape, result.errors["x"])
        if not report.passed:
            _probe_hints(probe, report)
    except NotImplementedError:
        report.problems.append(f"{who} is not implemented yet: fill in the TODO")
    except ExerciseError as error:
        report.problems.append(str(error))
    except Exception as error:
        report.problems.append(f"{who} raised {type(error).__name__}: {error}")
    if report.passed:
        _check_float32(who, function, float32_args, report)
    elif smaller is not None:
        small = smaller()
        if small is not None and small.passed:
            report.hints.append(smaller_hint)
    return report


def _probe_hints(probe, report):
    try:
        for name, student, correct, batch in probe():
            hint = compare_hint(name, student, correct, batch)
            if hint:
                report.hints.append(hint)
    except Exception:     # the failure itself is reported already
        pass


def _check_float32(who, function, args, report):
    """The same call in float32 must return float32 arrays (no silent upcast)."""
    try:
        outputs = function(*[a.astype(np.float32) if isinstance(a, np.ndarray) else a for a in args])
        for out in (outputs if isinstance(outputs, tuple) else (outputs,)):
            if isinstance(out, np.ndarray) and out.dtype != np.float32:
                report.problems.append(
                    f"{who} returned {out.dtype} for float32 inputs; npae never upcasts silently "
                    "(compute from the inputs, or allocate with np.zeros_like)")
                return
    except Exception as error:
        report.problems.append(f"{who} raised {type(error).__name__} on float32 inputs: {error}")


# generic cases for the hints: on a shrunk case (zeros and ones) every ratio looks constant
PROBE = np.random.default_rng(2024)
PROBE_H = PROBE.uniform(0.05, 0.9, size=(4, 3))
PROBE_W = PROBE.choice([-1, 1], size=(5, 3)) * PROBE.uniform(0.2, 2.0, size=(5, 3))
PROBE_GAUSSIAN = {"log_var": PROBE.uniform(-2, 1, size=(3, 2)), "eps": PROBE.normal(size=(2, 3, 2)),
                  "dz": PROBE.normal(size=(2, 3, 2))}


def run_sparse(function, case, hints=True):
    h, rho, who = case["h"], case["rho"], "sparse_kl_backward"

    def grad(h):
        (dh,) = _call(function, who, ("dh",), h, rho)
        expect(dh, h.shape, h.dtype, "dh", who, "h")
        return dh

    def probe():
        return [("dh", grad(PROBE_H), reference.sparse_kl_backward(PROBE_H, rho), len(PROBE_H))]

    one = {"h": h[:1].copy(), "rho": rho}
    return _judge(who, f"h {h.shape}, rho {rho:.3g}",
                  [("dh", h, lambda h: SparsityKL(rho).forward(h), grad)], function, (h, rho),
                  probe,
                  (lambda: run_sparse(function, one, hints=False)) if hints and len(h) > 1 else None,
                  f"it passes for a batch of one example but not for {len(h)}: ρ̂_j is unit j's "
                  "mean over the whole batch, and every example's gradient uses that same ρ̂_j (÷ N)")


def run_contractive(function, case, hints=True):
    h, W, who = case["h"], case["W"], "contractive_backward"

    def grads(h, W):
        dh, dW = _call(function, who, ("dh", "dW"), h, W)
        expect(dh, h.shape, h.dtype, "dh", who, "h")
        expect(dW, W.shape, W.dtype, "dW", who, "W")
        return dh, dW

    def probe():
        student, correct = grads(PROBE_H, PROBE_W), reference.contractive_backward(PROBE_H, PROBE_W)
        return [(name, s, r, len(PROBE_H)) for name, s, r in zip(("dh", "dW"), student, correct)]

    checks = [("dh", h, lambda h: Contractive().forward(h, W), lambda h: grads(h, W)[0]),
              ("dW", W, lambda W: Contractive().forward(h, W), lambda W: grads(h, W)[1])]
    one = {"h": h[:1].copy(), "W": W}
    return _judge(who, f"h {h.shape}, W {W.shape}", checks, function, (h, W), probe,
                  (lambda: run_contractive(function, one, hints=False)) if hints and len(h) > 1 else None,
                  f"it passes for a batch of one example but not for {len(h)}: the penalty is "
                  "a mean over the batch (÷ N), and ∂P/∂W sums over the examples")


def run_reparameterize(function, case, hints=True):
    mu, log_var, eps, dz = case["mu"], case["log_var"], case["eps"], case["dz"]
    who = "reparameterize_backward"

    def grads(dz, log_var, eps):
        d_mu, d_log_var = _call(function, who, ("d_mu", "d_log_var"), dz, log_var, eps)
        expect(d_mu, log_var.shape, log_var.dtype, "d_mu", who, "mu")
        expect(d_log_var, log_var.shape, log_var.dtype, "d_log_var", who, "log_var")
        return d_mu, d_log_var

    def probe():
        p = PROBE_GAUSSIAN
        student = grads(p["dz"], p["log_var"], p["eps"])
        correct = reference.reparameterize_backward(p["dz"], p["log_var"], p["eps"])
        return [(name, s, r, None) for name, s, r in zip(("d_mu", "d_log_var"), student, correct)]

    checks = [("d_mu", mu, lambda m: np.sum(G.reparameterize(m, log_var, eps) * dz),
               lambda m: grads(dz, log_var, eps)[0]),
              ("d_log_var", log_var, lambda s: np.sum(G.reparameterize(mu, s, eps) * dz),
               lambda s: grads(dz, s, eps)[1])]
    one = {**case, "eps": eps[:1].copy(), "dz": dz[:1].copy()}
    return _judge(who, f"dz {dz.shape}, log_var {log_var.shape}, eps {eps.shape} "
                  f"(K = {len(eps)})", checks, function, (dz, log_var, eps), probe,
                  (lambda: run_reparameterize(function, one, hints=False)) if hints and len(eps) > 1 else None,
                  f"it passes for K = 1 sample but not for K = {len(eps)}: μ and log σ² feed "
                  "every sample z_k, so their gradients sum over k")


EXERCISES = {
    "sparse_kl_backward": dict(
        signature="sparse_kl_backward(h, rho) -> dh",
        title="the gradient of the sparsity penalty Σ_j KL(ρ ‖ ρ̂_j) with respect to the codes h",
        strategy=sparse_cases, run_case=run_sparse, reference=reference.sparse_kl_backward,
        description="batch sizes 1–4, ρ from 0.01 to 0.99"),
    "contractive_backward": dict(
        signature="contractive_backward(h, W) -> (dh, dW)",
        title="the gradient of the contractive penalty (1/N) Σ_n ‖J_f(x_n)‖²_F",
        strategy=contractive_cases, run_case=run_contractive,
        reference=reference.contractive_backward, description="batch sizes 1–4"),
    "reparameterize_backward": dict(
        signature="reparameterize_backward(dz, log_var, eps) -> (d_mu, d_log_var)",
        title="the backward pass of the VAE's reparameterization z = μ + σ ⊙ ε",
        strategy=gaussian_cases, run_case=run_reparameterize,
        reference=reference.reparameterize_backward,
        description="K = 1–3 samples, batch sizes 1–3"),
}
