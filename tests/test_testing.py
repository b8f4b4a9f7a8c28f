import subprocess
import sys

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import npae
from npae.testing import arrays_for, away_from_kinks


def test_arrays_for_draws_batch_size_one_and_keeps_away_from_kinks():
    seen = []

    @settings(max_examples=60)
    @given(arrays_for(npae.ReLU()))
    def collect(x):
        seen.append(x)
        assert np.abs(x).min() >= 1e-2

    collect()
    assert any(len(x) == 1 for x in seen)
    assert len({x.ndim for x in seen}) > 1


@given(arrays_for(npae.Dense(7, 2)))
def test_arrays_for_knows_layer_input_shapes(x):
    assert x.shape[1:] == (7,) and x.dtype == np.float64


@given(st.lists(st.floats(-1, 1), min_size=1))
def test_away_from_kinks(values):
    x = away_from_kinks(np.array(values), (0.0, 0.5), 0.1)
    assert np.all(np.abs(x) >= 0.1 - 1e-12) and np.all(np.abs(x - 0.5) >= 0.1 - 1e-12)


def test_import_compiles_nothing_and_imports_no_heavy_dependency():
    """The import-time budget (0.3 s) is measured in benchmarks/import_time.py; what keeps
    it there is this: numba, matplotlib, scikit-learn and tqdm load only when first used."""
    code = ("import sys, npae; "
            "print(*[m for m in ('numba', 'matplotlib', 'sklearn', 'tqdm', 'hypothesis', 'scipy') "
            "if m in sys.modules]); "
            "print(sum(k._compiled is not None for k in npae.kernels.REGISTRY.values()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    heavy, compiled = out.stdout.splitlines()
    assert heavy == "" and compiled == "0", out.stdout
