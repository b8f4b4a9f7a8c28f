"""Exercise: the backward pass of a 2-D convolution (NCHW layout, cross-correlation).

Forward (npae.Conv2D) with a square stride s and zero padding p on both sides:

    y[n, f, i, j] = b[f] + Σ_c Σ_u Σ_v W[f, c, u, v] · x_pad[n, c, i·s + u, j·s + v]

    x (N, C, H, W_in),  W (F, C, k_h, k_w),  b (F,),  y (N, F, H_out, W_out),
    x_pad = x with p zeros around each image,  H_out = ⌊(H + 2p − k_h) / s⌋ + 1

Given dy = ∂L/∂y (N, F, H_out, W_out), return

    dx = ∂L/∂x (N, C, H, W_in),   dW = ∂L/∂W (F, C, k_h, k_w),   db = ∂L/∂b (F,)

Hints: loops are fine. Every output pixel (n, f, i, j) read one patch of x_pad with W[f]:
so it adds dy[n, f, i, j] · patch to dW[f] and dy[n, f, i, j] · W[f] to the same patch of
dx_pad. Patches overlap when s < k: *add*, never assign. Finally crop the padding off dx_pad.

Rules: do not modify dy, x or W; return arrays of x's dtype.

Check: run this file, or ``npae.exercises.check("conv2d_backward", conv2d_backward)``.
"""
import numpy as np


def conv2d_backward(x, W, dy, stride, padding):
    # TODO: compute dx, dW, db (a double loop over the output positions is enough).
    raise NotImplementedError("conv2d_backward: fill in the TODO")


if __name__ == "__main__":
    from npae.exercises import check
    check("conv2d_backward", conv2d_backward)
