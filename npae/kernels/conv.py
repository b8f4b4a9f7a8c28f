"""im2col / col2im: turn a convolution into one matrix product (BLAS does the arithmetic).

For an input x of shape (N, C, H, W), a kernel (k_h, k_w), stride (s_h, s_w) and
zero padding (p_h, p_w), the output grid is H_out × W_out with

    H_out = ⌊(H + 2 p_h − k_h) / s_h⌋ + 1,     W_out likewise.

``im2col`` copies every receptive field into one column:

    cols[(c, p, q), (n, i, j)] = x[n, c, i·s_h + p − p_h, j·s_w + q − p_w]   (0 outside x),

so ``cols`` has shape (C·k_h·k_w, N·H_out·W_out) and a convolution is
``W.reshape(F, -1) @ cols``. ``col2im`` is its adjoint: it *adds* every column entry
back onto the input pixel it was copied from (pixels shared by overlapping windows
receive the sum), dropping the entries that came from the padding.

The kernels take C-contiguous arrays and write into ``cols`` / ``out``.
(benchmarks/conv_kernels.py compares this against direct convolution loops.)
"""
import numpy as np

from . import threads
from .backend import get_backend, with_twin


def conv_output_size(size, kernel, stride, padding):
    """⌊(size + 2 padding − kernel) / stride⌋ + 1 (may be < 1 when the kernel does not fit)."""
    return (size + 2 * padding - kernel) // stride + 1


# --- im2col -----------------------------------------------------------------------------

def _im2col_numpy(x, kh, kw, sh, sw, ph, pw, cols):
    n, c, h, w = x.shape
    ho, wo = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    view = cols.reshape(c, kh, kw, n, ho, wo)
    for p in range(kh):
        for q in range(kw):
            # the (p, q) entry of every window: a strided slice of the padded input
            window_entry = padded[:, :, p:p + sh * ho:sh, q:q + sw * wo:sw]
            view[:, p, q] = window_entry.transpose(1, 0, 2, 3)
    return cols


@with_twin(_im2col_numpy)
def im2col(x, kh, kw, sh, sw, ph, pw, cols):
    """cols[(c, p, q), (n, i, j)] = x[n, c, i sh + p − ph, j sw + q − pw], 0 in the padding."""
    n_images, channels, h, w = x.shape
    ho, wo = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    for c in range(channels):
        for p in range(kh):
            for q in range(kw):
                row = (c * kh + p) * kw + q
                for n in range(n_images):
                    for i in range(ho):
                        start = (n * ho + i) * wo
                        y = i * sh + p - ph
                        if y < 0 or y >= h:
                            for j in range(wo):
                                cols[row, start + j] = 0.0
                            continue
                        for j in range(wo):
                            xx = j * sw + q - pw
                            if 0 <= xx < w:
                                cols[row, start + j] = x[n, c, y, xx]
                            else:
                                cols[row, start + j] = 0.0
    return cols


# --- col2im: the adjoint of im2col ------------------------------------------------------

def _col2im_numpy(cols, kh, kw, sh, sw, ph, pw, out):
    n, c, h, w = out.shape
    ho, wo = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    padded = np.zeros((n, c, h + 2 * ph, w + 2 * pw), out.dtype)
    view = cols.reshape(c, kh, kw, n, ho, wo)
    for p in range(kh):
        for q in range(kw):
            # += on a strided slice: windows with the same (p, q) never overlap, so no
            # index repeats within one slice; overlaps across (p, q) add up over the loop
            padded[:, :, p:p + sh * ho:sh, q:q + sw * wo:sw] += view[:, p, q].transpose(1, 0, 2, 3)
    out[...] = padded[:, :, ph:ph + h, pw:pw + w]
    return out


@with_twin(_col2im_numpy)
def col2im(cols, kh, kw, sh, sw, ph, pw, out):
    """out[n, c, y, x] = Σ of the cols entries im2col copied from (n, c, y, x); out is (N, C, H, W)."""
    n_images, channels, h, w = out.shape
    ho, wo = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    out[...] = 0.0
    for c in range(channels):
        for p in range(kh):
            for q in range(kw):
                row = (c * kh + p) * kw + q
                for n in range(n_images):
                    for i in range(ho):
                        y = i * sh + p - ph
                        if y < 0 or y >= h:
                            continue
                        start = (n * ho + i) * wo
                        for j in range(wo):
                            xx = j * sw + q - pw
                            if 0 <= xx < w:
                                out[n, c, y, xx] += cols[row, start + j]
    return out


# --- both, a few images per chunk on BLAS's threads (``threads``) -----------------------

#: images per chunk: each chunk writes its own columns of cols (im2col) or its own images
#: (col2im), so the split changes no number
IMAGES_PER_CHUNK = 8


def im2col_threaded(x, kh, kw, sh, sw, ph, pw, cols):
    """``im2col``, float32 batches split over BLAS's threads by images when it can."""
    if not _on_threads("im2col_float32", x, x, cols, kh, kw, sh, sw, ph, pw):
        im2col(x, kh, kw, sh, sw, ph, pw, cols)
    return cols


def col2im_threaded(cols, kh, kw, sh, sw, ph, pw, out):
    """``col2im``, float32 batches split over BLAS's threads by images when it can."""
    if not _on_threads("col2im_float32", out, cols, out, kh, kw, sh, sw, ph, pw):
        col2im(cols, kh, kw, sh, sw, ph, pw, out)
    return out


def _on_threads(job, images, first, second, *geometry):
    """Run a conv job on the (N, C, H, W) batch ``images``; False when it cannot."""
    if not (images.dtype == first.dtype == second.dtype == np.float32 and get_backend() == "numba"
            and len(images) > IMAGES_PER_CHUNK):
        return False
    return threads.run(job, (first, second), images.shape[1:] + geometry, IMAGES_PER_CHUNK,
                       items=len(images), here=False)
