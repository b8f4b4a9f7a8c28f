"""Numerical gradient checks (public: use them on the layers you write).

Central differences in float64 (fourth-order stencil by default, see
``numerical_gradient``),

    ∂f/∂a_i ≈ (f(a − 2h e_i) − 8 f(a − h e_i) + 8 f(a + h e_i) − f(a + 2h e_i)) / 12h,

compared with the analytic gradient by the relative error

    rel_error(a, n) = ‖a − n‖ / max(‖a‖, ‖n‖, 1e-8)      (Frobenius norms).

A correct smooth layer reaches 1e-9 .. 1e-10; 1e-7 is the pass line. Besides the
numbers, ``check_layer`` also tests the layer protocol: backward must not modify
``dy``, must not change parameter values, and must *add* into ``grad``.
"""
import warnings
from dataclasses import dataclass, field

import numpy as np

from .errors import DTypeError, KinkWarning

TOLERANCE = 1e-7
R_STREAM = 0x6E706165          # "npae": keeps check_layer's projection off users' streams
FLOOR = 1e-8
STEP = 1e-4
# central stencils as pairs (k, w): Σ_k w [f(a + k h) − f(a − k h)] / (denominator h).
# Pairing matters: outputs the perturbation does not touch then cancel exactly.
STENCILS = {2: (((1, 1),), 2), 4: (((1, 8), (2, -1)), 12)}


def numerical_gradient(f, array, step=STEP, order=4):
    """d f() / d array by central differences; ``array`` (float64) is perturbed in
    place one entry at a time and restored. Returns an array of its shape.

    order=2:  (f(a+h) − f(a−h)) / 2h                                  error O(h²)
    order=4:  (f(a−2h) − 8 f(a−h) + 8 f(a+h) − f(a+2h)) / 12h          error O(h⁴)

    The fourth-order stencil (default) allows a larger h, so round-off stays small
    even where the derivative is tiny (tanh at x = 6 has slope 2.5e-5).
    ``f()`` returns a scalar, or an array whose *sum* is the scalar: evaluations
    are then combined element by element before summing, so outputs the
    perturbation does not touch cancel exactly instead of adding round-off.
    """
    if not isinstance(array, np.ndarray) or array.dtype != np.float64:
        raise DTypeError("numerical_gradient needs a float64 numpy array "
                         f"(finite differences in float32 are meaningless), got "
                         f"{getattr(array, 'dtype', type(array).__name__)}")
    if order not in STENCILS:
        raise ValueError(f"order must be one of {sorted(STENCILS)}, got {order}")
    flat = array.reshape(-1)
    if not np.shares_memory(flat, array):
        raise ValueError("numerical_gradient needs a C-contiguous array (it perturbs it in place)")
    pairs, denominator = STENCILS[order]
    grad = np.empty(array.size)
    for i in range(array.size):
        old = flat[i]
        combined = 0.0
        for k, weight in pairs:
            flat[i] = old + k * step
            f_plus = np.array(f(), dtype=np.float64)
            flat[i] = old - k * step
            combined = combined + weight * (f_plus - np.array(f(), dtype=np.float64))
        flat[i] = old
        grad[i] = np.sum(combined) / (denominator * step)
    return grad.reshape(array.shape)


def rel_error(analytic, numeric, floor=FLOOR):
    """‖a − n‖ / max(‖a‖, ‖n‖, floor): 0 when equal, about 1 when unrelated.

    ``floor`` (1e-8): a gradient whose norm is below it (an exactly-zero gradient,
    say) is judged by absolute error instead, ‖a − n‖ / 1e-8, since finite
    differences carry round-off of ~1e-16 |f| / h that no relative test can beat."""
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    if a.shape != n.shape:
        raise ValueError(f"rel_error: shapes differ, {a.shape} vs {n.shape}")
    scale = max(np.linalg.norm(a), np.linalg.norm(n), floor)
    return float(np.linalg.norm(a - n) / scale)


def noise_floor(f_values, step=STEP, tol=TOLERANCE):
    """The gradient norm below which a relative comparison is meaningless.

    Each evaluation of f carries round-off ~ ε_mach Σ|f|, so a difference
    quotient carries ~ ε_mach Σ|f| / h. Gradients smaller than that / tol are
    compared on the absolute scale of the round-off (``rel_error``'s floor).
    """
    roundoff = 4 * np.finfo(np.float64).eps * float(np.sum(np.abs(f_values))) / step
    return max(FLOOR, roundoff / tol)


@dataclass
class GradcheckResult:
    """Relative error per input/parameter name, protocol problems, and the verdict."""
    errors: dict
    tol: float = TOLERANCE
    problems: list = field(default_factory=list)
    floor: float = FLOOR

    @property
    def worst(self):
        return max(self.errors.values(), default=0.0)

    @property
    def passed(self):
        return not self.problems and all(e <= self.tol for e in self.errors.values())

    def __str__(self):
        lines = [f"{'gradient':<16}{'rel. error':>12}  verdict (tol {self.tol:.0e}, "
                 f"norms below {self.floor:.0e} compared absolutely)"]
        for name, err in self.errors.items():
            lines.append(f"{name:<16}{err:>12.2e}  {'ok' if err <= self.tol else 'FAIL'}")
        lines += [f"problem: {p}" for p in self.problems]
        return "\n".join(lines)


def _require_float64(arrays, who):
    for name, a in arrays:
        if a.dtype != np.float64:
            raise DTypeError(f"{who}: gradient checks run in float64, but {name} is {a.dtype} "
                             "(build the layer with dtype=np.float64)")


def _named(obj):
    if hasattr(obj, "named_parameters"):
        return list(obj.named_parameters())
    return [(f"param{i}", p) for i, p in enumerate(obj.parameters())]


def check_layer(layer, x, tol=TOLERANCE, step=STEP, seed=0):
    """Check ``layer.backward`` against central differences of f(x) = Σ forward(x) ⊙ R,
    R a fixed random array (so dy = R). Returns a ``GradcheckResult`` with entries
    "x" and one per parameter."""
    named = _named(layer)
    _require_float64([("x", x)] + [(n, p.value) for n, p in named], f"check_layer({layer!r})")
    x = np.array(x, dtype=np.float64)          # our own copy, perturbed in place
    # R's own stream: a student's x from default_rng(0) must not equal R (x = R would make
    # xᵀR symmetric, and a transposed weight gradient would pass)
    rng = np.random.default_rng([seed, R_STREAM])
    y = layer.forward(x)
    R = rng.standard_normal(y.shape)
    _warn_if_near_kink(layer, step)

    def f():
        return layer.forward(x) * R           # summed by numerical_gradient

    problems = []
    values_before = {n: p.value.copy() for n, p in named}
    for _, p in named:
        p.zero_grad()
    layer.forward(x)
    dy = R.copy()
    dx = layer.backward(dy)
    if not np.array_equal(dy, R):
        problems.append("backward modified its argument dy in place")
    if np.shape(dx) != x.shape:
        problems.append(f"backward returned dx of shape {np.shape(dx)}, expected {x.shape}")
    for n, p in named:
        if not np.array_equal(p.value, values_before[n]):
            problems.append(f"backward changed the value of {n} (it must only add to .grad)")
    analytic = {n: p.grad.copy() for n, p in named}

    layer.forward(x)                                  # gradients must accumulate (+=)
    layer.backward(R.copy())
    for n, p in named:
        if np.any(analytic[n]) and rel_error(p.grad, 2 * analytic[n]) > 1e-12:
            problems.append(f"{n}.grad was overwritten by a second backward; accumulate with +=")

    errors = {}
    floor = noise_floor(f(), step, tol)
    if np.shape(dx) == x.shape:
        errors["x"] = rel_error(dx, numerical_gradient(f, x, step), floor)
    for n, p in named:
        errors[n] = rel_error(analytic[n], numerical_gradient(f, p.value, step), floor)
        p.zero_grad()
    return GradcheckResult(errors, tol, problems, floor)


def check_loss(loss, pred, target, tol=TOLERANCE, step=STEP):
    """Check ``loss.backward()`` (dL/dpred) against central differences of loss(pred, target)."""
    _require_float64([("pred", pred), ("target", target)], f"check_loss({loss!r})")
    pred = np.array(pred, dtype=np.float64)
    target_copy = np.array(target, dtype=np.float64)
    value = loss.forward(pred, target_copy)
    analytic = np.array(loss.backward(), copy=True)
    numeric = numerical_gradient(lambda: loss.forward(pred, target_copy), pred, step)
    problems = [] if np.array_equal(target_copy, target) else ["the loss modified its target"]
    floor = noise_floor(value, step, tol)
    return GradcheckResult({"pred": rel_error(analytic, numeric, floor)}, tol, problems, floor)


def check_model(model, x, tol=TOLERANCE, step=STEP, **fixed):
    """Check a whole model's gradients. The model protocol:

    - ``model.loss(x, **fixed)`` runs forward and returns the total loss (a float),
    - ``model.backward()`` adds dloss/dparam into every Parameter's ``grad``,
    - ``model.parameters()`` (or ``named_parameters()``) lists the Parameters.

    ``fixed`` holds the noise (``eps=...`` for a VAE, ``mask=...`` ...) so the loss is a
    deterministic function; the finite-difference step is ``step``.
    """
    named = _named(model)
    _require_float64([("x", x)] + [(n, p.value) for n, p in named], f"check_model({type(model).__name__})")
    x = np.array(x, dtype=np.float64)
    for _, p in named:
        p.zero_grad()
    value = model.loss(x, **fixed)
    model.backward()
    _warn_if_near_kink(model, step)
    floor = noise_floor(value, step, tol)
    errors = {}
    for n, p in named:
        analytic = p.grad.copy()
        numeric = numerical_gradient(lambda: model.loss(x, **fixed), p.value, step)
        errors[n] = rel_error(analytic, numeric, floor)
        p.zero_grad()
    return GradcheckResult(errors, tol, floor=floor)


def check_function(f, grad_f, x, tol=TOLERANCE, step=STEP):
    """Check a plain function: ``f(x)`` -> float and its claimed gradient ``grad_f(x)``."""
    _require_float64([("x", x)], "check_function")
    x = np.array(x, dtype=np.float64)
    analytic = np.asarray(grad_f(x.copy()), dtype=np.float64)
    floor = noise_floor(f(x), step, tol)
    numeric = numerical_gradient(lambda: f(x), x, step)
    return GradcheckResult({"x": rel_error(analytic, numeric, floor)}, tol, floor=floor)


def _warn_if_near_kink(obj, step):
    distance = obj.kink_distance() if hasattr(obj, "kink_distance") else float("inf")
    if distance < 10 * step:
        warnings.warn(f"{type(obj).__name__}: an input lies {distance:.1e} from a kink "
                      f"(finite-difference step {step:.0e}); the numerical gradient there is "
                      "unreliable. Move inputs away from kinks.", KinkWarning, stacklevel=3)
