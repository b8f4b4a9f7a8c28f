"""Every tutorial runs, cell by cell, in its quick setting (NPAE_TUTORIAL_FAST=1).

The tutorials are percent-format scripts (``# %%`` cells). Each cell is executed in one
shared namespace, in order, so a failure names the cell that raised and the line in the
tutorial's own file. Every tutorial's assertions (gradient checks, behaviour on data)
run here too, and every tutorial must save its figures into NPAE_TUTORIAL_OUT.
"""
import re
from pathlib import Path

import numpy as np
import pytest

import npae

TUTORIALS_DIR = Path(__file__).resolve().parent.parent / "tutorials"
TUTORIALS = sorted(TUTORIALS_DIR.glob("[0-9][0-9]_*.py"))
CELL = re.compile(r"^# %%(.*)$")


def cells(path):
    """[(first line index, kind, source)]: kind "markdown" or "code"."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    found, start, kind = [], 0, "code"
    for i, line in enumerate(lines):
        match = CELL.match(line)
        if match:
            if i > start:
                found.append((start, kind, "".join(lines[start:i])))
            start, kind = i, "markdown" if "[markdown]" in match.group(1) else "code"
    found.append((start, kind, "".join(lines[start:])))
    return found


def test_there_are_ten_numbered_tutorials():
    numbers = [int(path.name[:2]) for path in TUTORIALS]
    assert numbers == list(range(1, 11)), [path.name for path in TUTORIALS]


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda path: path.stem)
def test_each_tutorial_states_its_equations_and_checks_them(path):
    kinds = [kind for _, kind, _ in cells(path)]
    assert kinds[0] == "markdown", f"{path.name} must open with a markdown cell (its equation)"
    code = "".join(source for _, kind, source in cells(path) if kind == "code")
    assert "assert " in code, f"{path.name} checks nothing numerically"
    assert ".fit(" in code, f"{path.name} trains nothing"
    assert "plt.show" not in code and "import matplotlib.pyplot" not in code


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda path: path.stem)
def test_tutorial_runs_cell_by_cell(path, tmp_path, monkeypatch):
    monkeypatch.setenv("NPAE_TUTORIAL_FAST", "1")
    monkeypatch.setenv("NPAE_TUTORIAL_OUT", str(tmp_path))
    backend = npae.get_backend()
    namespace = {"__name__": "__main__", "__file__": str(path)}
    state = np.geterr()
    try:
        for number, (start, kind, source) in enumerate(cells(path)):
            if kind != "code":
                continue
            code = compile("\n" * start + source, str(path), "exec")   # line numbers = the file's
            try:
                exec(code, namespace)
            except Exception as error:
                pytest.fail(f"{path.name}: cell {number} (line {start + 1}) raised "
                            f"{type(error).__name__}: {error}", pytrace=True)
    finally:
        npae.set_backend(backend)
        np.seterr(**state)
    figures = sorted(p.name for p in tmp_path.glob("*.png"))
    assert figures and all(name.startswith(path.name[:2]) for name in figures), figures


# --- the equation map (docs/equations.md) points at real code, tests and tutorials ----------

EQUATIONS = TUTORIALS_DIR.parent / "docs" / "equations.md"
SEED_EQUATIONS = ["AE objective", "tied weights", "corruption", "ρ̂", "KL(ρ ‖ ρ̂)", "L1",
                  "max-activating input", "k-sparse", "‖J‖²_F", "VAE loss", "closed-form KL",
                  "z = μ + σ ⊙ ε", "MSE ↔ Gaussian", "BCE ↔ Bernoulli", "K-sample estimate",
                  "ELBO ≤ log p(x)", "β-VAE", "posterior collapse", "prior sampling", "2-D manifold"]


def _resolve(dotted):
    import importlib
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            obj = getattr(obj, attribute)
        return obj
    raise ImportError(dotted)


def test_every_seed_equation_maps_to_code_a_test_and_a_tutorial():
    rows = [line for line in EQUATIONS.read_text(encoding="utf-8").splitlines()
            if line.startswith("| **")]
    for label in SEED_EQUATIONS:
        row = next((r for r in rows if r.startswith(f"| **{label}**")), None)
        assert row is not None, f"docs/equations.md has no row for {label!r}"
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]
        assert len(cells) == 4 and all(cells), f"{label}: every column must be filled: {row}"
        assert "`npae." in cells[1] and "`tests/" in cells[2] and "`tutorials/" in cells[3], row


def test_every_name_in_the_equation_map_exists():
    root = TUTORIALS_DIR.parent
    tokens = re.findall(r"`([^`]+)`", EQUATIONS.read_text(encoding="utf-8"))
    checked = 0
    for token in tokens:
        if re.fullmatch(r"npae(\.\w+)+", token):
            _resolve(token)
        elif re.fullmatch(r"tests/[\w/]+\.py::\w+", token):
            path, name = token.split("::")
            assert re.search(rf"^def {name}\(", (root / path).read_text(encoding="utf-8"), re.M), token
        elif re.fullmatch(r"tutorials/\w+\.py", token):
            assert (root / token).is_file(), token
        else:
            continue
        checked += 1
    assert checked > 80
