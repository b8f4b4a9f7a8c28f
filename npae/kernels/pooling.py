"""Pooling kernels over (N, C, H, W) arrays, no padding, windows may overlap (stride < kernel).

Window (i, j) covers rows i·s_h … i·s_h + k_h − 1 and columns j·s_w … j·s_w + k_w − 1;
the output grid is H_out = ⌊(H − k_h) / s_h⌋ + 1 (W_out likewise).

Max pooling records, per output, where its maximum came from (``argmax``, the flat
index y·W + x inside the image plane). Ties go to the *first* maximum in row-major
window order, in both twins, so the gradient lands on one deterministic position.
Backward scatters dy there with +=: with overlapping windows one input can be the
maximum of several windows and receives the sum.
"""
import numpy as np

from .backend import with_twin


def pool_windows(x, kh, kw, sh, sw):
    """Read-only view (N, C, H_out, W_out, k_h, k_w) of all pooling windows."""
    return np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]


# --- max pooling --------------------------------------------------------------------------

def _maxpool_forward_numpy(x, kh, kw, sh, sw, out, argmax):
    n, c, ho, wo = out.shape
    flat = pool_windows(x, kh, kw, sh, sw).reshape(n, c, ho, wo, kh * kw)
    k = flat.argmax(axis=-1)                  # first maximum in row-major window order
    out[...] = np.take_along_axis(flat, k[..., None], axis=-1)[..., 0]
    rows = np.arange(ho)[:, None] * sh + k // kw
    columns = np.arange(wo)[None, :] * sw + k % kw
    argmax[...] = rows * x.shape[3] + columns
    return out


@with_twin(_maxpool_forward_numpy)
def maxpool_forward(x, kh, kw, sh, sw, out, argmax):
    """out = max over each window; argmax = flat in-plane index y·W + x of the (first) maximum."""
    n_images, channels, ho, wo = out.shape
    w = x.shape[3]
    for n in range(n_images):
        for c in range(channels):
            for i in range(ho):
                for j in range(wo):
                    best_y, best_x = i * sh, j * sw
                    best = x[n, c, best_y, best_x]
                    for p in range(kh):
                        for q in range(kw):
                            v = x[n, c, i * sh + p, j * sw + q]
                            if v > best:           # strict: ties keep the first maximum
                                best, best_y, best_x = v, i * sh + p, j * sw + q
                    out[n, c, i, j] = best
                    argmax[n, c, i, j] = best_y * w + best_x
    return out


def _maxpool_backward_numpy(dy, argmax, dx):
    n, c, h, w = dx.shape
    dx[...] = 0
    planes = dx.reshape(n * c, h * w)
    plane_index = np.arange(n * c)[:, None]
    np.add.at(planes, (plane_index, argmax.reshape(n * c, -1)), dy.reshape(n * c, -1))
    return dx


@with_twin(_maxpool_backward_numpy)
def maxpool_backward(dy, argmax, dx):
    """dx[n, c, argmax[n, c, i, j]] += dy[n, c, i, j]; zero elsewhere."""
    n_images, channels, ho, wo = dy.shape
    w = dx.shape[3]
    dx[...] = 0.0
    for n in range(n_images):
        for c in range(channels):
            for i in range(ho):
                for j in range(wo):
                    a = argmax[n, c, i, j]
                    dx[n, c, a // w, a % w] += dy[n, c, i, j]
    return dx


# --- average pooling -----------------------------------------------------------------------

def _avgpool_forward_numpy(x, kh, kw, sh, sw, out):
    out[...] = pool_windows(x, kh, kw, sh, sw).mean(axis=(-2, -1))
    return out


@with_twin(_avgpool_forward_numpy)
def avgpool_forward(x, kh, kw, sh, sw, out):
    """out[n, c, i, j] = mean of window (i, j)."""
    n_images, channels, ho, wo = out.shape
    scale = 1.0 / (kh * kw)
    for n in range(n_images):
        for c in range(channels):
            for i in range(ho):
                for j in range(wo):
                    total = 0.0
                    for p in range(kh):
                        for q in range(kw):
                            total += x[n, c, i * sh + p, j * sw + q]
                    out[n, c, i, j] = total * scale
    return out


def _avgpool_backward_numpy(dy, kh, kw, sh, sw, dx):
    ho, wo = dy.shape[2], dy.shape[3]
    dx[...] = 0
    share = dy / (kh * kw)
    for p in range(kh):
        for q in range(kw):
            dx[:, :, p:p + sh * ho:sh, q:q + sw * wo:sw] += share
    return dx


@with_twin(_avgpool_backward_numpy)
def avgpool_backward(dy, kh, kw, sh, sw, dx):
    """Every input of window (i, j) receives dy[n, c, i, j] / (k_h k_w) (summed over windows)."""
    n_images, channels, ho, wo = dy.shape
    scale = 1.0 / (kh * kw)
    dx[...] = 0.0
    for n in range(n_images):
        for c in range(channels):
            for i in range(ho):
                for j in range(wo):
                    share = dy[n, c, i, j] * scale
                    for p in range(kh):
                        for q in range(kw):
                            dx[n, c, i * sh + p, j * sw + q] += share
    return dx
