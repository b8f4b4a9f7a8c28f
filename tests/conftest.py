"""Test configuration: a fixed Hypothesis profile so CI runs are reproducible.

Profiles: "ci" (default: derandomized, 100 examples, no deadline because Numba
compiles on first call) and "dev" (random, fewer examples). Choose with
HYPOTHESIS_PROFILE=dev.
"""
import importlib
import os
import pkgutil

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from threadpoolctl import threadpool_limits

import npae

# One BLAS thread: the test matrices are small, and on a 2-core machine shared with
# other work, BLAS threads spinning against each other made products ~100x slower.
threadpool_limits(limits=1, user_api="blas")

settings.register_profile(
    "ci", max_examples=100, deadline=None, derandomize=True, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", max_examples=30, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Hypothesis (6.155 here) mixes literal constants from the project's modules loaded so far
# (1 draw in 20) into what it generates; with an editable install (as in .ci/run), npae's
# count. Import all of npae now, so the derandomized examples depend on the code, not on
# which tests ran before: one test file run alone sees the examples CI's full run gives it.
# (So an edit of any literal in npae reshuffles the examples, as an edit of a test does.)
for _module in pkgutil.walk_packages(npae.__path__, "npae."):
    try:
        importlib.import_module(_module.name)
    except ImportError:       # e.g. the BLAS pool's jobs without Numba: the rest still runs
        pass


@pytest.fixture(params=["numba", "numpy"])
def backend(request):
    """Run a test once per backend; restores the previous backend afterwards."""
    previous = npae.get_backend()
    npae.set_backend(request.param)
    yield request.param
    npae.set_backend(previous)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
