"""The bug zoo: every broken component is caught by npae's own checks, and the very same check
passes on the correct npae component (so it is the bug that fails, not the check).

Run with ``pytest -s`` to see the table: bug, the check that catches it, its first complaint.
"""
import numpy as np
import pytest

from npae.exercises import bugs
from npae.exercises.bugs import checks as C

CAUGHT = {}   # bug -> (check, first line of the complaint)


def teardown_module():
    width = max(len(name) for name in CAUGHT) if CAUGHT else 0
    for name, (check, complaint) in CAUGHT.items():
        print(f"{name:<{width}}  caught by {check:<28} {complaint}")


def results(name, broken):
    found = bugs.run_check(name, broken=broken, shrink=False)
    return found if isinstance(found, list) else [found]


def complaint(result):
    """The first failing row of a failed check (or its first problem)."""
    report = result.failure
    rows = [f"{row}: {error:.1e} {report.measure} (tol {report.tol:.0e})"
            for row, (_, error) in report.errors.items() if error > report.tol]
    return (rows + report.problems)[0]


def test_the_zoo_holds_the_classic_mistakes():
    assert len(bugs.names()) >= 10
    for name in bugs.names():
        bug = bugs.BUGS[name]
        assert bug.prompt and bug.mistake and bug.check
        assert name in bugs.prompt(name) and bugs.answer(name) == bug.mistake
        assert bug.module().__doc__                                      # each file says what it is
    with pytest.raises(ValueError, match="b01_reparameterize"):
        bugs.prompt("b99")


@pytest.mark.parametrize("name", bugs.names())
def test_the_check_passes_on_npae_s_correct_component(name):
    for result in results(name, broken=False):
        assert result.passed, f"{name}: the check fails on npae's own component\n{result}"


@pytest.mark.parametrize("name", bugs.names())
def test_npae_s_checks_catch_the_bug(name):
    found = results(name, broken=True)
    failed = [r for r in found if not r.passed]
    assert failed, f"{name} slipped through every check:\n" + "\n".join(map(str, found))
    CAUGHT[name] = (failed[0].name, complaint(failed[0]))
    # a crash is a catch only where the bug cannot run at all; b09's shapes only fit for
    # square W, and the square case is caught by the numbers (see the test below)
    if name not in CRASH_IS_THE_CATCH:
        assert not complaint(failed[0]).startswith("raised"), (name, complaint(failed[0]))


CRASH_IS_THE_CATCH = {"b09_dense"}


def test_the_transposed_weight_gradient_is_caught_by_the_numbers_when_w_is_square():
    from npae.gradcheck import check_layer
    layer = bugs.BUGS["b09_dense"].module().Dense(3, 3, rng=0, dtype=np.float64)
    # (not seed 0: that is check_layer's own projection R, and x = R makes xᵀR symmetric)
    x = np.random.default_rng(7).standard_normal((4, 3))
    result = check_layer(layer, x)                         # runs: the shapes fit
    assert not result.passed and result.errors["W"] > 1e-2, str(result)
    assert result.errors["x"] < 1e-7                       # only dW is wrong


# --- why behaviour checks are needed: these bugs fool every gradient check --------------------

def test_consistent_mistakes_pass_the_gradient_checks():
    """A forward pass and a backward pass wrong the same way still agree with each other:
    these four bugs pass the gradient checks, and only the behaviour checks catch them."""
    b01 = bugs.BUGS["b01_reparameterize"].module()
    rng = np.random.default_rng(0)
    mu, log_var, eps = rng.normal(size=(3, 2)), rng.uniform(-2, 1, (3, 2)), rng.normal(size=(2, 3, 2))
    dz = rng.normal(size=eps.shape)
    from npae.gradcheck import check_function
    assert check_function(lambda s: np.sum(b01.reparameterize(mu, s, eps) * dz),
                          lambda s: b01.reparameterize_backward(dz, s, eps)[1], log_var).passed
    for name in ("b03_kl", "b04_kl"):
        module = bugs.BUGS[name].module()
        assert C.kl_gradients(module.kl_standard_normal, module.kl_standard_normal_grad,
                              shrink=False).passed, name
    b11 = bugs.BUGS["b11_sparsity"].module()
    penalty = b11.SparsityKL(0.1)
    h = rng.uniform(0.05, 0.9, (4, 3))
    assert check_function(penalty.forward, lambda h: (penalty.forward(h), penalty.backward())[1], h).passed


def test_the_vae_exercise_hides_four_bugs_and_npae_s_vae_has_none():
    assert "four" in bugs.prompt("vae_exercise")
    gradients, unbiased = results("vae_exercise", broken=True)
    assert not gradients.passed and not unbiased.passed
    assert all(r.passed for r in results("vae_exercise", broken=False))


def test_hunt_prints_the_check_s_verdict(capsys):
    result = bugs.hunt("b13_dense")
    out = capsys.readouterr().out
    assert not result.passed and "check_layer: FAILED" in out
    assert "on x (2, 1)" in out              # shrunk: a batch of two is the smallest that fails
