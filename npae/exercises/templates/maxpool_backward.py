"""Exercise: the backward pass of 2-D max pooling (NCHW, no padding).

Forward (npae.MaxPool2D) with a square window k and stride s:

    y[n, c, i, j] = max over x[n, c, i·s : i·s + k, j·s : j·s + k]

    x (N, C, H, W),  y (N, C, H_out, W_out),  H_out = ⌊(H − k) / s⌋ + 1

Given x and dy = ∂L/∂y, return dx = ∂L/∂x (N, C, H, W): each dy[n, c, i, j] goes to the
position of its window's maximum; every other position gets 0.

Hint: with s < k the windows overlap, and one input can be the maximum of several windows.
Its gradient is then the *sum* of their dy (add, never assign). The checks use inputs
without ties.

Rules: do not modify dy or x; return an array of x's shape and dtype.

Check: run this file, or ``npae.exercises.check("maxpool_backward", maxpool_backward)``.
"""
import numpy as np


def maxpool_backward(x, dy, kernel_size, stride):
    # TODO: route each dy[n, c, i, j] to its window's argmax (a loop over i, j is fine).
    raise NotImplementedError("maxpool_backward: fill in the TODO")


if __name__ == "__main__":
    from npae.exercises import check
    check("maxpool_backward", maxpool_backward)
