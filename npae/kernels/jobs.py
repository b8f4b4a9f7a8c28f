"""What a job for OpenBLAS's threads (``threads.py``) is made of. Imports Numba: load lazily.

A job is a Numba ``cfunc`` with OpenBLAS's signature for a real float32 "legacy" routine:

    int job(long count, long n, long k, float alpha, int *first, long lda,
            void *b, long ldb, void *context, long ldc, void *sb)

npae uses ``count`` (how many chunks this call does), ``first[0]`` (the number of its first
chunk) and ``context``: an int64 block laid out as below. The other arguments are unused.
"""
import ctypes
import hashlib
import pathlib

import numpy as np
from numba import carray, cfunc, njit, types
from numba.core.extending import intrinsic

from . import backend, conv, losses, optim, threads

#: the context block: array addresses at 0..5, then the number of items (the arrays' size,
#: or the images of a batch) and the items per chunk, then scalars (as float64) from SCALARS on
N, CHUNK, SCALARS, CONTEXT_SIZE = 6, 7, 8, 24

SIGNATURE = types.int32(types.int64, types.int64, types.int64, types.float32,
                        types.CPointer(types.int32), types.int64, types.voidptr, types.int64,
                        types.voidptr, types.int64, types.voidptr)


@intrinsic
def pointer(typingctx, address):
    """An int64 address as a void pointer (for ``numba.carray``)."""
    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], context.get_value_type(types.voidptr))
    return types.voidptr(types.int64), codegen


def compile_job(make, *modules):
    """The cfunc of the job ``make(fingerprint)`` returns, cached next to this module like
    npae's other kernels. ``fingerprint`` hashes the source of ``modules`` (those of the
    kernels the job calls): Numba keys a cached function on its own file and on its closure
    variables, not on the code of the functions it calls, so without it a job would keep
    running an old kernel after that kernel's file changed."""
    return cfunc(SIGNATURE, cache=True, error_model="numpy")(make(fingerprint(*modules)))


def fingerprint(*modules):
    """A positive int from the source files of ``modules`` (a hash of their bytes)."""
    text = b"".join(pathlib.Path(module.__file__).read_bytes() for module in modules)
    return 1 + int.from_bytes(hashlib.sha256(text).digest()[:7], "little")


def call(job, context, n_chunks, first=0):
    """Run ``job`` on chunks first .. first + n_chunks - 1 in this thread (what each of
    OpenBLAS's threads does with its part)."""
    if job.address not in _callable:
        _callable[job.address] = _PROTOTYPE(job.address)
    _callable[job.address](n_chunks, 0, 0, 0.0, threads.CHUNK_NUMBERS.ctypes.data + 4 * first, 1, None, 0,
                           context.ctypes.data, 0, None)


# A prototype taking plain addresses (``job.ctypes`` would want a ctypes pointer for ``first``).
_PROTOTYPE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_long, ctypes.c_long, ctypes.c_long, ctypes.c_float,
                              ctypes.c_void_p, ctypes.c_long, ctypes.c_void_p, ctypes.c_long,
                              ctypes.c_void_p, ctypes.c_long, ctypes.c_void_p)
_callable = {}


def context_for(arrays, items, chunk, scalars):
    """A new context block: the arrays' addresses, items, chunk and the scalars."""
    assert len(arrays) <= N and len(scalars) <= CONTEXT_SIZE - SCALARS, "too many for the context"
    context = np.zeros(CONTEXT_SIZE, np.int64)
    context[:len(arrays)] = [_address(a) for a in arrays]
    context[N], context[CHUNK] = items, chunk
    context.view(np.float64)[SCALARS:SCALARS + len(scalars)] = scalars
    return context


@njit(cache=True)
def _address(a):
    return a.ctypes.data     # compiled: 0.4 µs, against ~1.5 µs for ``a.ctypes.data`` in Python


# --- the jobs ------------------------------------------------------------------------------
# Each maker returns the job as a closure over ``fingerprint`` (see ``compile_job``); the
# ``fingerprint == 0`` test only keeps it a closure variable.

def _make_probe(fingerprint):
    def probe_job(count, n, k, alpha, first, lda, b, ldb, context, ldc, sb):
        c = carray(context, (CONTEXT_SIZE,), np.int64)
        counts = carray(pointer(c[0]), (c[N] + 1,), np.int64)
        for i in range(first[0], first[0] + count):
            counts[min(max(i, 0), c[N])] += 1     # a chunk number out of range counts in the last
        return fingerprint == 0
    return probe_job


def _make_adam_float32(fingerprint):
    def adam_float32_job(count, n, k, alpha, first, lda, b, ldb, context, ldc, sb):
        """``optim.adam_update`` on chunks first[0] .. first[0] + count - 1 of p, g, m, v."""
        c = carray(context, (CONTEXT_SIZE,), np.int64)
        s = carray(context, (CONTEXT_SIZE,), np.float64)[SCALARS:]
        size, chunk = c[N], c[CHUNK]
        lo, hi = first[0] * chunk, min(size, (first[0] + count) * chunk)
        p = carray(pointer(c[0]), (size,), np.float32)
        g = carray(pointer(c[1]), (size,), np.float32)
        m = carray(pointer(c[2]), (size,), np.float32)
        v = carray(pointer(c[3]), (size,), np.float32)
        f = np.float32
        _adam_update(p[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], f(s[0]), f(s[1]), f(s[2]), f(s[3]),
                     f(s[4]), f(s[5]), f(s[6]), f(s[7]), f(s[8]))
        return fingerprint == 0
    return adam_float32_job


def _make_bce_with_logits_float32(fingerprint):
    def bce_with_logits_float32_job(count, n, k, alpha, first, lda, b, ldb, context, ldc, sb):
        """``losses.bce_with_logits_float32`` on chunks first[0] .. first[0] + count - 1 of
        (logits, target, grad); chunk i's two sums go to partials[2 i], partials[2 i + 1]."""
        c = carray(context, (CONTEXT_SIZE,), np.int64)
        scale = np.float32(carray(context, (CONTEXT_SIZE,), np.float64)[SCALARS])
        size, chunk = c[N], c[CHUNK]
        z = carray(pointer(c[0]), (size,), np.float32)
        t = carray(pointer(c[1]), (size,), np.float32)
        grad = carray(pointer(c[2]), (size,), np.float32)
        partials = carray(pointer(c[3]), (2 * ((size + chunk - 1) // chunk),), np.float64)
        for i in range(first[0], first[0] + count):
            lo, hi = i * chunk, min(size, (i + 1) * chunk)
            total, outside = _bce_with_logits_float32(z[lo:hi], t[lo:hi], scale, grad[lo:hi])
            partials[2 * i] = total
            partials[2 * i + 1] = outside
        return fingerprint == 0
    return bce_with_logits_float32_job


def _make_im2col_float32(fingerprint):
    def im2col_float32_job(count, n, k, alpha, first, lda, b, ldb, context, ldc, sb):
        """``conv.im2col`` for the images of chunks first[0] .. : their columns of cols."""
        x, cols, kh, kw, sh, sw, ph, pw = _conv_chunk(context, first[0], count, 0, 1)
        _im2col(x, kh, kw, sh, sw, ph, pw, cols)
        return fingerprint == 0
    return im2col_float32_job


def _make_col2im_float32(fingerprint):
    def col2im_float32_job(count, n, k, alpha, first, lda, b, ldb, context, ldc, sb):
        """``conv.col2im`` for the images of chunks first[0] .. (from their columns)."""
        out, cols, kh, kw, sh, sw, ph, pw = _conv_chunk(context, first[0], count, 1, 0)
        _col2im(cols, kh, kw, sh, sw, ph, pw, out)
        return fingerprint == 0
    return col2im_float32_job


@njit(cache=True)
def _conv_chunk(context, first, count, images_at, columns_at):
    """For the conv jobs: the images of chunks first .. first + count - 1, (n, C, H, W) from
    the batch at context slot ``images_at``; their columns of cols (slot ``columns_at``,
    ``_columns_from``); and k_h, k_w, s_h, s_w, p_h, p_w. The context's first nine scalars
    are C, H, W and those six."""
    c = carray(context, (CONTEXT_SIZE,), np.int64)
    s = carray(context, (CONTEXT_SIZE,), np.float64)[SCALARS:]
    channels, h, w = np.int64(s[0]), np.int64(s[1]), np.int64(s[2])
    kh, kw, sh, sw = np.int64(s[3]), np.int64(s[4]), np.int64(s[5]), np.int64(s[6])
    ph, pw = np.int64(s[7]), np.int64(s[8])
    grid = ((h + 2 * ph - kh) // sh + 1) * ((w + 2 * pw - kw) // sw + 1)     # H_out W_out
    images, chunk = c[N], c[CHUNK]
    lo, hi = first * chunk, min(images, (first + count) * chunk)
    batch = carray(pointer(c[images_at]), (images, channels, h, w), np.float32)[lo:hi]
    return batch, _columns_from(c[columns_at], lo, images, channels * kh * kw, grid), kh, kw, sh, sw, ph, pw


@njit(cache=True)
def _columns_from(address, lo, images, rows, grid):
    """cols (rows, images · grid), float32 at ``address``, seen from image ``lo`` on: a
    C-order array whose [r, j] is cols[r, lo · grid + j]. (The slice cols[:, lo · grid:]
    would do the same, but its rows are not contiguous, and the kernels run ~1.6x slower on
    such arrays.) Its last row reaches past the end of cols; the kernels only touch the
    first (hi − lo) · grid columns of each row, all inside cols."""
    return carray(pointer(address + 4 * lo * grid), (rows, images * grid), np.float32)


_adam_update = optim.adam_update.compiled()
_bce_with_logits_float32 = losses.bce_with_logits_float32.compiled()
_im2col, _col2im = conv.im2col.compiled(), conv.col2im.compiled()
_MAKERS = {"probe": (_make_probe, ()), "adam_float32": (_make_adam_float32, (optim, backend)),
           "bce_with_logits_float32": (_make_bce_with_logits_float32, (
               losses, backend, *backend.helper_modules(losses.bce_with_logits_float32.loops))),
           "im2col_float32": (_make_im2col_float32, (conv, backend)),
           "col2im_float32": (_make_col2im_float32, (conv, backend))}
_compiled = {}


def get(name):
    """The compiled job ``name`` (compiled, or loaded from Numba's cache, at first use)."""
    if name not in _compiled:
        make, modules = _MAKERS[name]
        _compiled[name] = compile_job(make, *modules)
    return _compiled[name]


def probe(launch):
    """True when ``launch(job, context, n_chunks)`` runs every chunk exactly once (checks the
    strides and the mode)."""
    n_chunks = 37
    counts = np.zeros(n_chunks + 1, np.int64)
    launch(get("probe"), context_for((counts,), n_chunks, 1, (0.0,)), n_chunks)
    return bool((counts[:-1] == 1).all() and counts[-1] == 0)
