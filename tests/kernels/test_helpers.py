"""``backend.helper``: functions that kernels call stay plain Python, and a kernel's cached
machine code never outlives an edit of a helper in another file (nor of a helper that
helper calls, in a third)."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from numba import njit

from npae.kernels.backend import HELPER_FASTMATH, Kernel, helper, with_helpers_compiled

INNER = """
from npae.kernels.backend import helper

@helper
def amount():
    return {amount}
"""
OUTER = """
from npae.kernels.backend import helper
from inner_module import amount

@helper
def shift(v):
    return v + amount()
"""
KERNEL = """
import numpy as np
from npae.kernels.backend import HELPER_FASTMATH, with_twin
from outer_module import shift

def _add_twin(x, out):
    out[:] = x + 1
    return out

@with_twin(_add_twin, fastmath=HELPER_FASTMATH)
def add(x, out):
    for i in range(x.size):
        out[i] = shift(x[i])
    return out

value = add(np.zeros(1), np.empty(1))[0]
print(value, add.compiled().stats.cache_hits and 1 or 0)
"""


def _run(folder):
    """(the kernel's result, whether it came from Numba's disk cache), in a fresh interpreter."""
    env = {**os.environ, "NPAE_BACKEND": "numba", "NUMBA_CACHE_DIR": str(folder / "cache")}
    out = subprocess.run([sys.executable, "kernel_module.py"], cwd=folder, capture_output=True,
                         text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr
    value, hit = out.stdout.split()
    return float(value), hit == "1"


def test_a_cached_kernel_sees_an_edited_helper(tmp_path):
    """The kernel's own file never changes; the helper it calls, and the helper that one
    calls, do. Each edit must reach the kernel; an unchanged tree must load from the cache."""
    (tmp_path / "kernel_module.py").write_text(textwrap.dedent(KERNEL))
    (tmp_path / "outer_module.py").write_text(OUTER)
    (tmp_path / "inner_module.py").write_text(INNER.format(amount=1))
    assert _run(tmp_path) == (1.0, False)            # compiled
    assert _run(tmp_path) == (1.0, True)             # loaded from the cache
    (tmp_path / "inner_module.py").write_text(INNER.format(amount=2))
    assert _run(tmp_path) == (2.0, False)
    (tmp_path / "outer_module.py").write_text(OUTER.replace("v + amount()", "v + 2 * amount()"))
    assert _run(tmp_path) == (4.0, False)
    assert _run(tmp_path) == (4.0, True)


@helper
def _double(v):
    return v + v


def _calls_double(x, out):
    for i in range(x.size):
        out[i] = _double(x[i])
    return out


def test_helpers_stay_python_and_kernels_calling_them_need_the_helper_flags():
    compiled = with_helpers_compiled(_calls_double)
    assert compiled is not _calls_double and globals()["_double"] is _double   # a copy; the module untouched
    assert _calls_double(np.float32([1, 2]), np.empty(2, np.float32)).tolist() == [2, 4]  # plain Python still
    for wrong in ({"reassoc"}, {"reassoc", "contract", "nsz"}, True, None):
        with pytest.raises(ValueError, match="calls helpers: it must be compiled with fastmath"):
            Kernel(_calls_double, _calls_double, **({} if wrong is None else {"fastmath": wrong}))
    Kernel(_calls_double, _calls_double, fastmath=HELPER_FASTMATH)                 # accepted
    # compiled as Kernel.compiled does, minus the disk cache (no files in the source tree)
    jit = njit(error_model="numpy", fastmath=set(HELPER_FASTMATH))
    assert jit(compiled)(np.float32([1.5]), np.empty(1, np.float32))[0] == 3
