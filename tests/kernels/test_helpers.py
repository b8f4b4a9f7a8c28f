"""``backend.helper``: functions that kernels call stay plain Python, and a kernel's cached
machine code never outlives an edit of a helper in another file."""
import subprocess
import sys
import textwrap

HELPER = """
from npae.kernels.backend import helper

@helper
def shift(v):
    return v + {amount}
"""
KERNEL = """
import numpy as np
from npae.kernels.backend import with_twin
from helper_module import shift

def _add_twin(x, out):
    out[:] = x + 1
    return out

@with_twin(_add_twin)
def add(x, out):
    for i in range(x.size):
        out[i] = shift(x[i])
    return out

print(add(np.zeros(1), np.empty(1))[0])
"""


def _run(folder):
    out = subprocess.run([sys.executable, "kernel_module.py"], cwd=folder, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return float(out.stdout)


def test_a_cached_kernel_sees_an_edited_helper(tmp_path):
    """A fresh interpreter loads the kernel from Numba's disk cache; after the helper's file
    changes (the kernel's own file does not), it must run the new helper."""
    (tmp_path / "kernel_module.py").write_text(textwrap.dedent(KERNEL))
    (tmp_path / "helper_module.py").write_text(HELPER.format(amount=1))
    assert _run(tmp_path) == 1.0
    assert _run(tmp_path) == 1.0                     # from the cache this time
    (tmp_path / "helper_module.py").write_text(HELPER.format(amount=2))
    assert _run(tmp_path) == 2.0
    assert any(path.suffix == ".nbi" for path in (tmp_path / "__pycache__").iterdir())
