"""Run one exercise's property-based check and explain a failure to a student.

Hypothesis draws cases (shapes, batch sizes, strides, values away from kinks); each case runs
npae's own gradient checks (``check_layer`` or ``check_function``) on the student's code. On a
failure Hypothesis shrinks the case to the smallest one that still fails, and the report names
the gradient, its shape, the relative error, and — by comparing with npae's reference
implementation — a hint (a constant factor, a transpose, a missing sum over the batch).
"""
from dataclasses import dataclass, field

import numpy as np

from ..gradcheck import TOLERANCE


class ExerciseError(Exception):
    """The student's function returned something unusable (None, wrong shape or dtype)."""


@dataclass
class CaseReport:
    """One drawn case: per-gradient (shape, relative error), problems and hints."""
    case: str
    errors: dict = field(default_factory=dict)     # name -> (shape, relative error)
    problems: list = field(default_factory=list)
    hints: list = field(default_factory=list)
    tol: float = TOLERANCE
    measure: str = "rel. error"

    @property
    def passed(self):
        return not self.problems and all(err <= self.tol for _, err in self.errors.values())

    @property
    def worst(self):
        return max((err for _, err in self.errors.values()), default=0.0)

    def table(self):
        width = max(12, *(len(name) + 2 for name in self.errors))
        lines = [f"    {'':<{width}}{'shape':<18}{self.measure:>15}"]
        for name, (shape, err) in self.errors.items():
            verdict = "ok" if err <= self.tol else f"FAIL (tolerance {self.tol:.0e})"
            shown = str(tuple(shape)) if shape else ""
            lines.append(f"    {name:<{width}}{shown:<18}{err:>15.1e}  {verdict}")
        return "\n".join(lines)


@dataclass
class CheckResult:
    """What ``npae.exercises.check`` returns; ``str(result)`` is the message it prints."""
    name: str
    passed: bool
    n_cases: int
    worst: float
    failure: CaseReport = None
    description: str = ""
    measure: str = "relative error"
    tol: float = TOLERANCE

    def __str__(self):
        if self.passed:
            cases = f"{self.n_cases} drawn cases" if self.n_cases > 1 else "its case"
            return (f"{self.name}: passed {cases} ({self.description}); "
                    f"worst {self.measure} {self.worst:.1e} (tolerance {self.tol:.0e})")
        f = self.failure
        lines = [f"{self.name}: FAILED", f"  smallest failing case: {f.case}"]
        if f.errors:
            lines.append(f.table())
        lines += [f"  problem: {p}" for p in f.problems]
        lines += [f"  hint: {h}" for h in f.hints]
        return "\n".join(lines)

    def __bool__(self):
        return self.passed


class _CaseFailed(Exception):
    def __init__(self, report):
        super().__init__(report.case)
        self.report = report


def run_property(name, strategy, run_case, description, max_examples=40, shrink=True):
    """Draw cases from ``strategy``; ``run_case(case)`` returns a CaseReport. Returns a
    CheckResult for the first failing case (shrunk to the smallest) or for all of them."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis.errors import Flaky

    seen = {"cases": 0, "worst": 0.0, "measure": "relative error", "tol": TOLERANCE}
    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if shrink else [])

    @settings(max_examples=max_examples, derandomize=True, database=None, deadline=None,
              phases=phases, report_multiple_bugs=False, print_blob=False,
              verbosity=Verbosity.quiet, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def prop(case):
        report = run_case(case)
        seen["cases"] += 1
        seen["worst"] = max(seen["worst"], report.worst)
        seen["measure"] = "relative error" if report.measure == "rel. error" else report.measure
        seen["tol"] = report.tol
        if not report.passed:
            raise _CaseFailed(report)

    try:
        prop()
    except _CaseFailed as failed:
        return CheckResult(name, False, seen["cases"], failed.report.worst, failed.report, description)
    except Flaky as error:                # Hypothesis could not replay the failure
        report = CaseReport("(could not be replayed)", problems=[
            f"the same inputs gave different results ({type(error).__name__}); does your "
            "function draw random numbers or keep state between calls?"])
        return CheckResult(name, False, seen["cases"], float("inf"), report, description)
    return CheckResult(name, True, seen["cases"], seen["worst"], None, description,
                       seen["measure"], seen["tol"])


# --- turning what the student returned into arrays, and explaining a wrong one -------------

def unpack(returned, names, who):
    """The student's return value as a tuple of len(names) arrays, or an ExerciseError."""
    if len(names) == 1:
        returned = (returned,)
    if returned is None or (isinstance(returned, tuple) and any(r is None for r in returned)):
        raise ExerciseError(f"{who} returned None; it must return {', '.join(names)}")
    if not isinstance(returned, (tuple, list)) or len(returned) != len(names):
        raise ExerciseError(f"{who} must return a tuple ({', '.join(names)}), got "
                            f"{type(returned).__name__}")
    arrays = []
    for n, r in zip(names, returned):
        if not isinstance(r, np.ndarray):
            raise ExerciseError(f"{who}: {n} must be a numpy array, got {type(r).__name__}")
        arrays.append(r)
    return tuple(arrays)


def expect(array, shape, dtype, name, who, like):
    """Shape and dtype must match ``like`` (the array the gradient belongs to)."""
    if array.shape != tuple(shape):
        transposed = " (transposed?)" if array.shape == tuple(shape)[::-1] else ""
        raise ExerciseError(f"{who}: {name} has shape {array.shape}, expected {tuple(shape)}, "
                            f"the shape of {like}{transposed}")
    if array.dtype != dtype:
        raise ExerciseError(f"{who}: {name} is {array.dtype} for {dtype} inputs; npae never "
                            f"upcasts silently (allocate with dtype={like}.dtype, np.zeros_like, "
                            f"or compute from the inputs)")


def compare_hint(name, student, reference, batch_size=None):
    """A hint from how the student's gradient relates to the reference one, or None."""
    s, r = np.asarray(student, np.float64).ravel(), np.asarray(reference, np.float64).ravel()
    if s.shape != r.shape or not np.any(r):
        return None
    if not np.any(s):
        return f"{name} is all zeros"
    scale = float(s @ r / (r @ r))
    if np.linalg.norm(s - scale * r) <= 1e-6 * np.linalg.norm(s) and abs(scale - 1) > 1e-6:
        if abs(scale + 1) < 1e-6:
            return f"{name} has the wrong sign"
        why = ""
        if batch_size and batch_size > 1 and abs(scale - batch_size) < 1e-6:
            why = f" on a batch of {batch_size} examples — a missing division by N?"
        elif batch_size and batch_size > 1 and abs(scale * batch_size - 1) < 1e-6:
            why = f" on a batch of {batch_size} examples — divided by N twice?"
        elif abs(scale - 2) < 1e-6 or abs(scale - 0.5) < 1e-6:
            why = ": a factor 2 — a missing or extra ½?"
        return f"{name} is {scale:.4g} × the right gradient{why}"
    square = np.asarray(student).ndim == 2 and np.asarray(student).shape[0] == np.asarray(student).shape[1]
    if square and np.allclose(np.asarray(student).T, reference, rtol=1e-6, atol=1e-12):
        return f"{name} is the transpose of the right gradient"
    return None
