"""The coursework checkers: each passes npae's reference solution, fails an empty template and
a wrong implementation, and says what is wrong (which gradient, which shape, how large)."""
import ast
import importlib

import numpy as np
import pytest

from npae import exercises
from npae.exercises.__main__ import main

NAMES = exercises.names()


def test_the_classic_assignments_are_all_there():
    assert {"dense_backward", "sigmoid_backward", "relu_backward", "sparse_kl_backward",
            "contractive_backward", "reparameterize_backward", "conv2d_backward"} <= set(NAMES)
    with pytest.raises(ValueError, match="dense_backward"):
        exercises.check("no_such_exercise", print)


@pytest.mark.parametrize("name", NAMES)
def test_template_is_the_function_with_its_body_removed(name):
    path = exercises.template_path(name)
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    assert [f.name for f in functions] == [name]
    assert "TODO" in source and ast.get_docstring(tree)          # the equations and the shapes
    body = functions[0].body
    assert len(body) == 1 and isinstance(body[0], ast.Raise)      # nothing left to copy
    assert f'check("{name}", {name})' in source                   # runnable as a script


@pytest.mark.parametrize("name", NAMES)
def test_checker_passes_the_reference_solution(name):
    result = exercises.check(name, exercises.reference(name), max_examples=15, verbose=False)
    assert result.passed, str(result)
    assert result.n_cases == 15 and result.worst < 1e-7
    assert str(result).startswith(f"{name}: passed 15 drawn cases")


@pytest.mark.parametrize("name", NAMES)
def test_checker_fails_the_empty_template(name):
    template = importlib.import_module(f"npae.exercises.templates.{name}")
    result = exercises.check(name, getattr(template, name), verbose=False)
    assert not result.passed
    assert "not implemented yet: fill in the TODO" in str(result)


@pytest.mark.parametrize("name", NAMES)
def test_checker_fails_a_function_that_returns_nothing(name):
    result = exercises.check(name, lambda *args: None, verbose=False)
    assert not result.passed and "returned None" in str(result)


# --- wrong implementations, each a classic mistake, and what the checker must say ------------

def sigmoid_backward_forgets_one_minus_y(y, dy):
    return dy * y


def relu_backward_in_place(x, dy):
    dy[x <= 0] = 0
    return dy


def dense_backward_bias_of_first_example(x, W, dy):
    return dy @ W.T, x.T @ dy, dy[0].copy()


def dense_backward_upcasts(x, W, dy):
    return (dy @ W.T).astype(np.float64), x.T @ dy, dy.sum(axis=0)


def sparse_kl_backward_without_1_over_n(h, rho):
    rho_hat = h.mean(axis=0)
    return np.broadcast_to(-rho / rho_hat + (1 - rho) / (1 - rho_hat), h.shape).copy()


def sparse_kl_backward_per_example(h, rho):
    return (-rho / h + (1 - rho) / (1 - h)) / len(h)


def contractive_backward_without_direct_path(h, W):
    a = h * (1 - h)
    return 2 * a * (1 - 2 * h) * np.sum(W * W, axis=0) / len(h), np.zeros_like(W)


def reparameterize_backward_without_half(dz, log_var, eps):
    return dz.sum(axis=0), (dz * eps).sum(axis=0) * np.exp(0.5 * log_var)


def reparameterize_backward_first_sample_only(dz, log_var, eps):
    return dz[0].copy(), dz[0] * eps[0] * 0.5 * np.exp(0.5 * log_var)


def conv2d_backward_assigning(x, W, dy, stride, padding):
    """Loops that assign into dx where overlapping patches must add."""
    k_h, k_w = W.shape[2:]
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dx, dW = np.zeros_like(padded), np.zeros_like(W)
    for i in range(dy.shape[2]):
        for j in range(dy.shape[3]):
            rows, cols = slice(i * stride, i * stride + k_h), slice(j * stride, j * stride + k_w)
            dW += np.tensordot(dy[:, :, i, j], padded[:, :, rows, cols], axes=(0, 0))
            dx[:, :, rows, cols] = np.tensordot(dy[:, :, i, j], W, axes=(1, 0))
    return dx[:, :, padding:padding + x.shape[2], padding:padding + x.shape[3]], dW, dy.sum(axis=(0, 2, 3))


def maxpool_backward_assigning(x, dy, kernel_size, stride):
    dx = np.zeros_like(x)
    for i in range(dy.shape[2]):
        for j in range(dy.shape[3]):
            window = x[:, :, i * stride:i * stride + kernel_size, j * stride:j * stride + kernel_size]
            flat = window.reshape(*window.shape[:2], -1).argmax(axis=-1)
            for n in range(x.shape[0]):
                for c in range(x.shape[1]):
                    r, s = divmod(flat[n, c], kernel_size)
                    dx[n, c, i * stride + r, j * stride + s] = dy[n, c, i, j]
    return dx


WRONG = [
    ("sigmoid_backward", sigmoid_backward_forgets_one_minus_y, ["dx", "FAIL"]),
    ("relu_backward", relu_backward_in_place, ["modified dy in place"]),
    ("dense_backward", dense_backward_bias_of_first_example,
     ["db", "FAIL", "passes for a batch of one example but not for 2"]),
    ("dense_backward", dense_backward_upcasts, ["float64 for float32 inputs", "upcasts"]),
    ("dense_backward", lambda x, W, dy: (dy @ W.T, dy.T @ x, dy.sum(axis=0)),
     ["dW has shape", "transposed?"]),
    ("sparse_kl_backward", sparse_kl_backward_without_1_over_n,
     ["dh", "FAIL", "4 × the right gradient on a batch of 4 examples", "division by N"]),
    ("sparse_kl_backward", sparse_kl_backward_per_example, ["mean over the whole batch"]),
    ("contractive_backward", contractive_backward_without_direct_path, ["dW", "dW is all zeros"]),
    ("reparameterize_backward", reparameterize_backward_without_half,
     ["d_log_var", "2 × the right gradient", "½"]),
    ("reparameterize_backward", reparameterize_backward_first_sample_only,
     ["passes for K = 1 sample but not for K = 2"]),
    ("conv2d_backward", conv2d_backward_assigning, ["dx", "FAIL", "stride 1"]),
    ("maxpool_backward", maxpool_backward_assigning, ["dx", "FAIL", "overlapping windows"]),
]


@pytest.mark.parametrize("name, function, needles", WRONG, ids=[w[1].__name__ for w in WRONG])
def test_checker_fails_a_wrong_implementation_and_says_why(name, function, needles):
    result = exercises.check(name, function, verbose=False)
    message = str(result)
    assert not result.passed and message.startswith(f"{name}: FAILED"), message
    assert "smallest failing case" in message
    for needle in needles:
        assert needle in message, message


def test_the_message_names_the_gradient_its_shape_and_the_error():
    result = exercises.check("sigmoid_backward", sigmoid_backward_forgets_one_minus_y, verbose=False)
    shape, error = result.failure.errors["dx"]
    assert shape == (1, 1) and error > 1e-2                       # shrunk to the smallest case
    assert f"{error:.1e}" in str(result) and "(1, 1)" in str(result)


def test_a_function_with_hidden_state_is_reported():
    calls = []

    def relu_backward_with_state(x, dy):          # wrong on every 7th call only
        calls.append(1)
        return dy * (x > 0) * (1.5 if len(calls) % 7 == 0 else 1.0)

    result = exercises.check("relu_backward", relu_backward_with_state, verbose=False)
    assert not result.passed and "keep state between calls" in str(result)


def test_command_line_copy_and_check(tmp_path, capsys):
    assert main(["list"]) == 0 and "conv2d_backward" in capsys.readouterr().out
    assert main(["copy", "relu_backward", str(tmp_path)]) == 0
    copied = tmp_path / "relu_backward.py"
    assert copied.read_text() == exercises.template_path("relu_backward").read_text()
    with pytest.raises(FileExistsError):
        exercises.copy_template("relu_backward", tmp_path)
    assert main(["check", "relu_backward", str(copied)]) == 1          # the TODO is still there
    copied.write_text(copied.read_text().replace(
        'raise NotImplementedError("relu_backward: fill in the TODO")', "return dy * (x > 0)"))
    assert main(["check", "relu_backward", str(copied)]) == 0
    assert "relu_backward: passed" in capsys.readouterr().out
