"""Element-wise loops on every core, run by OpenBLAS's own worker threads.

Why. NumPy's OpenBLAS keeps one worker thread per extra core. After each matrix product the
worker spins on its core for ~0.1 s, waiting for the next one. A second thread pool of our
own (Numba's ``parallel=True``, Python threads) has to fight that spinning worker for the
core: measured on a 2-core machine, it lost 0.2 to 1.4 ms per training step instead of
gaining. So npae hands the loop to OpenBLAS's thread server itself, through the function
its own level-1 routines use, ``blas_level1_thread``: the work runs on the threads that
would otherwise spin, and follows BLAS's thread setting (``OPENBLAS_NUM_THREADS``,
threadpoolctl). There is one pool, so nothing oversubscribes the cores.

How. ``blas_level1_thread(mode, m, ..., a, lda, ..., c, ..., job, threads)`` cuts the range
of m items into one piece per thread and calls ``job(count, n, k, alpha, a + offset, lda,
b, ldb, c, ldc, sb)`` on each, in the OpenBLAS thread (the caller runs the first piece).
npae's items are the chunks of a kernel's flat arrays: ``a`` points into an array of chunk
numbers 0, 1, 2, ..., so each call sees its first chunk number at ``a[0]`` and how many
follow in ``count``; ``c`` points to a context block with the arrays' addresses and the
scalars (``npae.kernels.jobs`` holds the jobs). Chunks have a fixed size, never one that
depends on the number of threads, so the numbers come out the same bit for bit on any
number of threads, and when the work runs in the calling thread alone.

When. The pool is used only with NumPy's own OpenBLAS on Linux (the wheel's library, found
in /proc/self/maps), built with pthreads, version 0.3.23 or newer (older versions number
the precisions of ``mode`` differently) up to 0.3.34 (the newest checked), when it exports
``blas_level1_thread``, when BLAS runs on more than one thread, and when a probe job, run
the first time it does, covers each chunk exactly once. Otherwise the work stays in the
calling thread: the same chunks, for jobs whose chunks shape the result (the BCE loss's
sums), or the kernel on the whole arrays. ``NPAE_BLAS_POOL=0`` turns the pool off.
"""
import ctypes
import os
import re

import numpy as np

#: blas_level1_thread's ``mode`` for real float32 items (4-byte strides), in NumPy's OpenBLAS wheels
#: from 0.3.23 (the oldest on PyPI) to 0.3.34.0 (later ones no longer export the function)
_MODE_FLOAT32 = 2
_MIN_VERSION, _MAX_VERSION = (0, 3, 23), (0, 3, 34)
CHUNK_NUMBERS = np.arange(1 << 16, dtype=np.int32)      # what ``a`` points into
_ZERO = np.zeros(1, np.float32)                          # ``alpha``, unused

_pool = None           # the _Pool, or False once it is known to be unavailable
_reason = "not tried yet"


class _Pool:
    def __init__(self, level1_thread, get_num_threads, version):
        self.level1_thread, self.get_num_threads, self.version = level1_thread, get_num_threads, version
        self._fixed = (_ZERO.ctypes.data, CHUNK_NUMBERS.ctypes.data)
        self.probe_passed = None    # None until BLAS first runs on two threads or more
        self.launches = 0           # jobs handed to the threads (``status``)

    def threads(self):
        """How many threads a job would get: BLAS's setting when that is two or more and the
        probe passed; else 1 (the work stays in the calling thread)."""
        threads = self.get_num_threads()
        return threads if threads >= 2 and self.probed() else min(threads, 1)

    def launch(self, job, context, n_chunks, threads):
        """Run ``job`` on chunks 0 .. n_chunks - 1 over ``threads`` (>= 2) of BLAS's threads."""
        self._hand_over(job, context, n_chunks, min(threads, n_chunks))
        self.launches += 1

    def probed(self):
        """Whether the probe job ran right; it runs once, the first time BLAS has two threads
        (with one, OpenBLAS may have started no worker at all, and would wait for it forever)."""
        if self.probe_passed is None and self.get_num_threads() >= 2:
            from . import jobs
            self.probe_passed = jobs.probe(lambda job, context, n_chunks: self._hand_over(job, context, n_chunks, 2))
        return bool(self.probe_passed)

    def _hand_over(self, job, context, n_chunks, threads):
        zero, chunk_numbers = self._fixed
        self.level1_thread(_MODE_FLOAT32, n_chunks, 0, 0, zero, chunk_numbers, 1, None, 0,
                           context.ctypes.data, 0, job.address, threads)


def _numpy_openblas():
    """Path of the OpenBLAS library inside NumPy's installation, or None."""
    root = os.path.dirname(os.path.dirname(np.__file__))       # site-packages
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split(None, 5)[-1].strip() for line in maps if "openblas" in line.lower()}
    except OSError:
        return None
    mine = [p for p in paths if p.startswith(os.path.join(root, "numpy"))]
    return mine[0] if len(mine) == 1 else None


def _symbol(lib, *names):
    for name in names:
        try:
            return getattr(lib, name)
        except AttributeError:
            continue
    return None


def _check_build(config, parallel):
    """(version, None) for an OpenBLAS whose config string and ``openblas_get_parallel()``
    (1: pthreads) npae can use; (None, why not) otherwise."""
    found = re.match(r"OpenBLAS (\d+)\.(\d+)\.(\d+)", config)
    version = tuple(int(v) for v in found.groups()) if found else None
    if version is None or not _MIN_VERSION <= version <= _MAX_VERSION:
        return None, (f"OpenBLAS version {config!r}: npae knows versions "
                      f"{'.'.join(map(str, _MIN_VERSION))} to {'.'.join(map(str, _MAX_VERSION))}")
    if parallel != 1:
        return None, f"OpenBLAS is not built with pthreads ({config!r})"
    return version, None


def _open():
    """(_Pool, None) or (None, the reason it is unavailable)."""
    if os.environ.get("NPAE_BLAS_POOL", "1").strip() == "0":
        return None, "turned off by NPAE_BLAS_POOL=0"
    path = _numpy_openblas()
    if path is None:
        return None, "NumPy's OpenBLAS library not found (not Linux, or NumPy uses another BLAS)"
    try:
        lib = ctypes.CDLL(path)
    except OSError as error:
        return None, f"cannot open {path}: {error}"
    level1_thread = _symbol(lib, "blas_level1_thread")
    config = _symbol(lib, "scipy_openblas_get_config64_", "scipy_openblas_get_config",
                     "openblas_get_config64_", "openblas_get_config")
    parallel = _symbol(lib, "scipy_openblas_get_parallel64_", "scipy_openblas_get_parallel",
                       "openblas_get_parallel64_", "openblas_get_parallel")
    threads = _symbol(lib, "scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
                      "openblas_get_num_threads64_", "openblas_get_num_threads")
    if None in (level1_thread, config, parallel, threads):
        return None, f"{os.path.basename(path)} lacks the symbols npae needs"
    config.restype = ctypes.c_char_p
    text = (config() or b"").decode(errors="replace")
    version, refusal = _check_build(text, parallel())
    if refusal:
        return None, refusal
    reason = f"OpenBLAS {'.'.join(map(str, version))}"
    level1_thread.restype = ctypes.c_int
    level1_thread.argtypes = [ctypes.c_int, ctypes.c_long, ctypes.c_long, ctypes.c_long,
                              ctypes.c_void_p, ctypes.c_void_p, ctypes.c_long, ctypes.c_void_p,
                              ctypes.c_long, ctypes.c_void_p, ctypes.c_long, ctypes.c_void_p,
                              ctypes.c_int]
    threads.restype = ctypes.c_int
    return _Pool(level1_thread, threads, version), reason


def _get():
    global _pool, _reason
    if _pool is None:
        pool, _reason = _open()
        _pool = pool or False
    return _pool


def run(job, arrays, scalars, chunk, items=None, here=True):
    """Run the job named ``job`` (``npae.kernels.jobs``) over chunks of ``chunk`` items, with
    ``arrays`` (C-contiguous, in the dtypes the job expects) and ``scalars`` (numbers, passed
    as float64), on BLAS's threads. ``items`` is the number of items (default: the first
    array's size; the images of a batch for the conv jobs).

    When the threads cannot take it (no pool, or BLAS on one thread): with ``here``, the same
    chunks run in this thread (for jobs whose chunks shape the result, as sums do); without,
    ``run`` returns False and the caller calls its kernel on the whole arrays. Also False,
    having run nothing, for arrays that are not C-contiguous or too many chunks."""
    items = arrays[0].size if items is None else items
    n_chunks = -(-items // chunk)
    if n_chunks > CHUNK_NUMBERS.size or not all(a.flags.c_contiguous for a in arrays):
        return False
    pool = _get()
    threads = pool.threads() if pool else 1
    if threads < 2 and not here:
        return False
    from . import jobs
    context = jobs.context_for(arrays, items, chunk, scalars)
    if threads >= 2 and n_chunks >= 2:
        pool.launch(jobs.get(job), context, n_chunks, threads)
    else:
        jobs.call(jobs.get(job), context, n_chunks)         # all chunks, here
    return True


def status():
    """A dict: whether the pool is available, why (not), BLAS's thread count now, and how
    many jobs went to the threads so far."""
    pool = _get()
    if not pool:
        return {"available": False, "reason": _reason, "threads": 1, "launches": 0}
    threads = pool.get_num_threads()
    if threads >= 2 and not pool.probed():
        reason = f"{_reason}: the probe job did not run each chunk exactly once"
    elif pool.probe_passed is None:
        reason = f"{_reason} (to be probed once BLAS runs on two threads or more)"
    else:
        reason = _reason
    return {"available": pool.probe_passed is not False, "reason": reason, "threads": threads,
            "launches": pool.launches}
