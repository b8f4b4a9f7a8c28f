"""Kernels on OpenBLAS's threads (npae.kernels.threads, npae.kernels.jobs): the same numbers,
bit for bit, on two threads, on one, and with the pool turned off."""
import ctypes
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import npae
from npae import kernels
from npae.kernels import conv, jobs, losses, optim, threads


def _numpy_exports_the_thread_server():
    path = threads._numpy_openblas()
    return path is not None and hasattr(ctypes.CDLL(path), "blas_level1_thread")


@pytest.fixture
def no_pool(monkeypatch):
    """The pool turned off, as NPAE_BLAS_POOL=0 does; restored afterwards."""
    threads._get()
    monkeypatch.setattr(threads, "_pool", False)


def _launches():
    return threads.status()["launches"]


def test_the_pool_is_there_when_numpys_openblas_exports_its_thread_server():
    with threadpool_limits(2, user_api="blas"):
        status = threads.status()
    assert set(status) == {"available", "reason", "threads", "launches"}
    if not _numpy_exports_the_thread_server():
        assert not status["available"] and status["reason"]
        pytest.skip(f"no pool here: {status['reason']}")
    assert status["available"] and threads._get().probe_passed, status["reason"]
    assert re.fullmatch(r"OpenBLAS 0\.3\.\d+", status["reason"])


def test_the_probe_rejects_a_launch_that_skips_or_repeats_chunks():
    def skips(job, context, n_chunks):
        pass

    def repeats(job, context, n_chunks):
        jobs.call(job, context, n_chunks)
        jobs.call(job, context, n_chunks)

    def shifted(job, context, n_chunks):          # a stride of 8 bytes read as 4
        jobs.call(job, context, n_chunks // 2)
        jobs.call(job, context, n_chunks - n_chunks // 2, first=2 * (n_chunks // 2))

    def in_pieces(job, context, n_chunks):
        for first in reversed(range(n_chunks)):
            jobs.call(job, context, 1, first=first)
    assert not any(jobs.probe(launch) for launch in (skips, repeats, shifted))
    assert jobs.probe(in_pieces)


def test_one_blas_thread_from_the_start_runs_here_and_never_waits_for_a_worker():
    """With OPENBLAS_NUM_THREADS=1, OpenBLAS starts no worker thread: handing a job to one
    would wait forever. The probe waits until BLAS runs on two threads (threadpoolctl)."""
    code = textwrap.dedent("""
        import numpy as np
        from threadpoolctl import threadpool_limits
        from npae.kernels import optim, threads
        arrays = [np.ones(4 * optim.ADAM_CHUNK, np.float32) for _ in range(4)]
        scalars = [np.float32(0.1)] * 9
        optim.adam_update_threaded(*arrays, *scalars)
        one = threads.status()
        with threadpool_limits(2, user_api="blas"):
            optim.adam_update_threaded(*arrays, *scalars)
            two = threads.status()
        print(one["launches"], "to be probed" in one["reason"], two["launches"], two["reason"])
    """)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120, check=True).stdout.split()
    if not _numpy_exports_the_thread_server():
        pytest.skip("no pool here")
    assert out[:3] == ["0", "True", "1"], out


def test_only_openblas_builds_npae_knows_are_used():
    assert threads._check_build("OpenBLAS 0.3.31.188.0  USE64BITINT DYNAMIC_ARCH Haswell", 1) == ((0, 3, 31), None)
    assert threads._check_build("OpenBLAS 0.3.23.dev USE64BITINT DYNAMIC_ARCH Zen", 1)[0] == (0, 3, 23)
    version, why = threads._check_build("OpenBLAS 0.3.21 DYNAMIC_ARCH", 1)
    assert version is None and "versions 0.3.23 to 0.3.34" in why
    assert threads._check_build("OpenBLAS 0.3.35 DYNAMIC_ARCH", 1)[0] is None      # not checked yet
    assert threads._check_build("OpenBLAS 0.3.34.0.0 DYNAMIC_ARCH", 1)[0] == (0, 3, 34)
    version, why = threads._check_build("OpenBLAS 0.3.31 USE_OPENMP", 2)
    assert version is None and "pthreads" in why
    assert threads._check_build("something else", 1)[0] is None


def test_turning_the_pool_off_by_the_environment(monkeypatch):
    monkeypatch.setenv("NPAE_BLAS_POOL", "0")
    monkeypatch.setattr(threads, "_reason", threads._reason)
    monkeypatch.setattr(threads, "_pool", None)
    status = threads.status()
    assert not status["available"] and "NPAE_BLAS_POOL=0" in status["reason"]


def test_a_jobs_fingerprint_follows_the_source_of_the_kernels_it_calls(tmp_path):
    class Module:
        def __init__(self, text):
            self.__file__ = str(tmp_path / f"m{abs(hash(text))}.py")
            with open(self.__file__, "w") as f:
                f.write(text)
    a, a_again, b = Module("x = 1\n"), Module("x = 1\n"), Module("x = 2\n")
    assert jobs.fingerprint(a) == jobs.fingerprint(a_again) > 0
    assert jobs.fingerprint(a) != jobs.fingerprint(b)
    assert jobs.fingerprint(a, b) != jobs.fingerprint(b, a)


def _adam_arguments(n, seed):
    rng = np.random.default_rng(seed)
    f = np.float32
    p, g = rng.standard_normal(n).astype(f), rng.standard_normal(n).astype(f)
    m = (rng.standard_normal(n) * 1e-2).astype(f)
    v = (m * m + rng.random(n) * 1e-3).astype(f)
    m[::97] = 1e-39                      # denormals the update flushes
    scalars = tuple(f(s) for s in (1e-3, 0.9, 0.999, 0.1, 1e-3, 1e-8, 1e-2, 1.3, np.finfo(f).tiny))
    return [p, g, m, v], scalars


@pytest.mark.parametrize("n", [4 * optim.ADAM_CHUNK - 1, 4 * optim.ADAM_CHUNK, 67 * optim.ADAM_CHUNK + 5])
def test_adam_on_threads_is_the_kernel_bit_for_bit(n):
    arrays, scalars = _adam_arguments(n, seed=n)
    expected = [a.copy() for a in arrays]
    kernels.REGISTRY["adam_update"].compiled()(*expected, *scalars)
    for blas_threads in (2, 1):
        got = [a.copy() for a in arrays]
        before = _launches()
        with threadpool_limits(blas_threads, user_api="blas"):
            optim.adam_update_threaded(*got, *scalars)
        for a, b in zip(got, expected):
            np.testing.assert_array_equal(a, b)
        on_threads = threads.status()["available"] and blas_threads == 2 and n >= 4 * optim.ADAM_CHUNK
        assert _launches() == before + on_threads


def test_adam_without_the_pool_is_the_kernel(no_pool):
    arrays, scalars = _adam_arguments(9 * optim.ADAM_CHUNK + 3, seed=1)
    expected = [a.copy() for a in arrays]
    kernels.REGISTRY["adam_update"].compiled()(*expected, *scalars)
    optim.adam_update_threaded(*arrays, *scalars)
    for a, b in zip(arrays, expected):
        np.testing.assert_array_equal(a, b)


def _bce_case(n, seed):
    rng = np.random.default_rng(seed)
    z = (rng.standard_normal(n) * 6).astype(np.float32)
    z[::1001] = 95.0                     # past exp's float32 underflow
    t = rng.random(n).astype(np.float32)
    return z, t


@pytest.mark.parametrize("n", [4 * losses.BCE_CHUNK - 1, 4 * losses.BCE_CHUNK, 25 * losses.BCE_CHUNK + 77])
def test_bce_on_threads_gives_the_same_sums_and_gradient_on_any_thread_count(n):
    z, t = _bce_case(n, seed=n)
    scale = np.float32(1 / 128)
    whole_grad = np.empty_like(z)
    whole = kernels.REGISTRY["bce_with_logits_float32"].compiled()(z, t, scale, whole_grad)
    results = []
    for blas_threads in (2, 1):
        grad = np.empty_like(z)
        before = _launches()
        with threadpool_limits(blas_threads, user_api="blas"):
            results.append((losses.bce_with_logits_float32_threaded(z, t, scale, grad), grad))
        on_threads = threads.status()["available"] and blas_threads == 2 and n >= 4 * losses.BCE_CHUNK
        assert _launches() == before + on_threads
    (two, two_grad), (one, one_grad) = results
    assert two == one                                     # bit for bit
    np.testing.assert_array_equal(two_grad, one_grad)
    np.testing.assert_array_equal(two_grad, whole_grad)   # the gradient never depends on chunks
    assert two[0] == pytest.approx(whole[0], rel=1e-12)   # the sums only in their last bits
    assert two[1] == whole[1] == 0


def test_bce_without_the_pool_adds_the_same_chunks(no_pool):
    z, t = _bce_case(6 * losses.BCE_CHUNK + 5, seed=2)
    scale = np.float32(0.25)
    grad, grad_loop = np.empty_like(z), np.empty_like(z)
    total, outside = losses.bce_with_logits_float32_threaded(z, t, scale, grad)
    kernel = kernels.REGISTRY["bce_with_logits_float32"].compiled()
    chunks = [kernel(z[i:i + losses.BCE_CHUNK], t[i:i + losses.BCE_CHUNK], scale, grad_loop[i:i + losses.BCE_CHUNK])
              for i in range(0, z.size, losses.BCE_CHUNK)]
    assert (total, outside) == tuple(float(s) for s in np.array(chunks).sum(axis=0))
    np.testing.assert_array_equal(grad, grad_loop)


def test_bce_on_threads_still_names_bad_values_in_a_big_batch():
    n = 128
    z, t = _bce_case(n * 784, seed=3)
    z, t = z.reshape(n, 784), t.reshape(n, 784)
    loss = npae.BCEWithLogits()
    assert np.isfinite(loss(z, t))
    bad_z = z.copy()
    bad_z[100, 700] = np.nan
    with pytest.raises(npae.NonFiniteError, match="prediction contains NaN or inf"):
        loss(bad_z, t)
    bad_t = t.copy()
    bad_t[127, 783] = 1.5
    with pytest.raises(npae.DomainError, match=r"targets must lie in \[0, 1\]"):
        loss(z, bad_t)


@pytest.mark.parametrize("geometry", [(128, 1, 28, 28, 3, 3, 2, 2, 1, 1), (37, 3, 9, 7, 2, 3, 1, 2, 0, 1),
                                      (17, 2, 5, 5, 3, 3, 1, 1, 2, 2)])
def test_im2col_and_col2im_on_threads_are_the_kernels_bit_for_bit(geometry):
    n, c, h, w, kh, kw, sh, sw, ph, pw = geometry
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    ho, wo = conv.conv_output_size(h, kh, sh, ph), conv.conv_output_size(w, kw, sw, pw)
    cols, cols_threads = (np.full((c * kh * kw, n * ho * wo), 7, np.float32) for _ in range(2))
    conv.im2col.compiled()(x, kh, kw, sh, sw, ph, pw, cols)
    out, out_threads = (np.full_like(x, 3) for _ in range(2))
    conv.col2im.compiled()(cols, kh, kw, sh, sw, ph, pw, out)
    before = _launches()
    with threadpool_limits(2, user_api="blas"):     # (the tests run BLAS on one thread)
        conv.im2col_threaded(x, kh, kw, sh, sw, ph, pw, cols_threads)
        conv.col2im_threaded(cols, kh, kw, sh, sw, ph, pw, out_threads)
    np.testing.assert_array_equal(cols_threads, cols)
    np.testing.assert_array_equal(out_threads, out)
    assert _launches() == before + 2 * threads.status()["available"]


def test_a_vae_trains_to_the_same_bits_with_and_without_the_pool():
    """Adam and the BCE loss on the threads: two runs, pool on and off, same weights."""
    x = np.random.default_rng(0).random((128, 784), dtype=np.float32)
    runs = []
    pool = threads._get()
    for use in (pool, False):
        launches = _launches()
        previous, threads._pool = threads._pool, use
        try:
            with threadpool_limits(2, user_api="blas"):
                model = npae.VAE(layer_sizes=[784, 256, 16], activation="relu",
                                 reconstruction_loss="bce", seed=0, verbose=0)
                optimizer = npae.Adam(model.parameters(), lr=1e-3)
                rng = np.random.default_rng(1)
                losses_seen = []
                for _ in range(3):
                    optimizer.zero_grad()
                    losses_seen.append(model.loss(x, rng=rng))
                    model.backward()
                    optimizer.step()
        finally:
            threads._pool = previous
        runs.append((losses_seen, [p.value.copy() for p in model.parameters()]))
        if use:                             # 3 steps: the loss and Adam went to the threads
            assert _launches() == launches + 6
    (losses_on, weights_on), (losses_off, weights_off) = runs
    assert losses_on == losses_off
    for a, b in zip(weights_on, weights_off):
        np.testing.assert_array_equal(a, b)


def _context_and_check(name):
    """(job name, arrays, scalars, chunk, items, a check of the results against the kernel)."""
    rng = np.random.default_rng(7)
    f = np.float32
    if name == "adam_float32":
        arrays, scalars = _adam_arguments(5 * optim.ADAM_CHUNK + 9, seed=7)
        expected = [a.copy() for a in arrays]
        kernels.REGISTRY["adam_update"].compiled()(*expected, *scalars)
        return arrays, scalars, optim.ADAM_CHUNK, None, lambda: [
            np.testing.assert_array_equal(a, b) for a, b in zip(arrays, expected)]
    if name == "bce_with_logits_float32":
        z, t = _bce_case(5 * losses.BCE_CHUNK + 9, seed=7)
        grad, partials = np.empty_like(z), np.zeros((6, 2))
        kernel = kernels.REGISTRY["bce_with_logits_float32"].compiled()
        chunk = losses.BCE_CHUNK
        expected = [kernel(z[i:i + chunk], t[i:i + chunk], f(0.5), np.empty(min(chunk, z.size - i), f))
                    for i in range(0, z.size, chunk)]
        return (z, t, grad, partials), (0.5,), chunk, None, lambda: np.testing.assert_array_equal(
            partials, np.array(expected))
    n, c, h, w, k, s, p = 21, 3, 9, 8, 3, 2, 1
    ho, wo = conv.conv_output_size(h, k, s, p), conv.conv_output_size(w, k, s, p)
    x = rng.standard_normal((n, c, h, w)).astype(f)
    cols = rng.standard_normal((c * k * k, n * ho * wo)).astype(f)
    geometry = (c, h, w, k, k, s, s, p, p)
    if name == "im2col_float32":
        got, expected = np.full_like(cols, 9), conv.im2col.compiled()(x, k, k, s, s, p, p, np.empty_like(cols))
        arrays = (x, got)
    else:
        got, expected = np.full_like(x, 9), conv.col2im.compiled()(cols, k, k, s, s, p, p, np.empty_like(x))
        arrays = (cols, got)
    return arrays, geometry, conv.IMAGES_PER_CHUNK, n, lambda: np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("name", ["adam_float32", "bce_with_logits_float32", "im2col_float32", "col2im_float32"])
def test_every_job_run_chunk_by_chunk_in_any_order_is_the_kernel(name):
    """What each OpenBLAS thread does with its part, here: one chunk at a time, shuffled."""
    arrays, scalars, chunk, items, check = _context_and_check(name)
    items = arrays[0].size if items is None else items
    n_chunks = -(-items // chunk)
    context = jobs.context_for(tuple(arrays), items, chunk, tuple(float(v) for v in scalars))
    for first in np.random.default_rng(0).permutation(n_chunks):
        jobs.call(jobs.get(name), context, 1, first=int(first))
    check()


def test_arrays_with_gaps_skip_the_threads_and_give_the_kernels_numbers():
    rng = np.random.default_rng(8)
    z, t = _bce_case(2 * 4 * losses.BCE_CHUNK, seed=8)
    grad = np.empty(z.size // 2, np.float32)
    before = _launches()
    with threadpool_limits(2, user_api="blas"):
        total, outside = losses.bce_with_logits_float32_threaded(z[::2], t[::2], np.float32(1), grad)
        x = rng.standard_normal((16, 2, 6, 6)).astype(np.float32)[..., ::-1]
        cols = conv.im2col_threaded(x, 3, 3, 1, 1, 1, 1, np.empty((18, 16 * 36), np.float32))
    assert _launches() == before
    expected_grad = np.empty_like(grad)
    expected = kernels.REGISTRY["bce_with_logits_float32"].compiled()(
        np.ascontiguousarray(z[::2]), np.ascontiguousarray(t[::2]), np.float32(1), expected_grad)
    assert total == pytest.approx(expected[0], rel=1e-12) and outside == 0
    np.testing.assert_array_equal(grad, expected_grad)
    np.testing.assert_array_equal(cols, conv.im2col.compiled()(np.ascontiguousarray(x), 3, 3, 1, 1, 1, 1,
                                                              np.empty((18, 16 * 36), np.float32)))


def test_the_threaded_wrappers_run_the_twins_on_the_numpy_backend(backend):
    arrays, scalars = _adam_arguments(4 * optim.ADAM_CHUNK, seed=9)
    expected = [a.copy() for a in arrays]
    kernels.REGISTRY["adam_update"].twin(*expected, *scalars)
    z, t = _bce_case(4 * losses.BCE_CHUNK, seed=9)
    grad = np.empty_like(z)
    before = _launches()
    with threadpool_limits(2, user_api="blas"):
        optim.adam_update_threaded(*arrays, *scalars)
        total, _ = losses.bce_with_logits_float32_threaded(z, t, np.float32(1), grad)
    assert _launches() == before + 2 * (backend == "numba" and threads.status()["available"])
    for a, b in zip(arrays, expected):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    twin_total = kernels.REGISTRY["bce_with_logits_float32"].twin(z, t, np.float32(1), np.empty_like(z))[0]
    assert total == pytest.approx(twin_total, rel=1e-6)
