"""Exercise: the backward pass of a dense (fully connected) layer.

Forward (npae.Dense), for a batch of N examples:

    y = x W + b          x (N, D_in),  W (D_in, D_out),  b (D_out,),  y (N, D_out)

Given dy = ∂L/∂y (N, D_out), return the three gradients

    dx = ∂L/∂x (N, D_in),    dW = ∂L/∂W (D_in, D_out),    db = ∂L/∂b (D_out,)

Hints: write y_nk = Σ_i x_ni W_ik + b_k and differentiate one entry at a time; then turn
the sums into matrix products. The shapes tell you where the transposes go. b is added to
every example, so its gradient collects every example's dy.

Rules: do not modify dy, x or W; return arrays of x's dtype (float32 in, float32 out).

Check: run this file, or ``npae.exercises.check("dense_backward", dense_backward)``.
"""
import numpy as np


def dense_backward(x, W, dy):
    # TODO: compute dx, dW and db (one line each) and return them.
    raise NotImplementedError("dense_backward: fill in the TODO")


if __name__ == "__main__":
    from npae.exercises import check
    check("dense_backward", dense_backward)
