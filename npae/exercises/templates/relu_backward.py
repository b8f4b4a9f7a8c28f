"""Exercise: the backward pass of the ReLU.

Forward (npae.ReLU), element-wise:

    y = max(x, 0)

Given the cached input x and dy = ∂L/∂y (same shape, any number of dimensions), return
dx = ∂L/∂x. At the kink x = 0 take the derivative to be 0 (the checks keep x away from 0).

Rules: do NOT modify dy in place (``dy[x <= 0] = 0`` destroys the upstream gradient, which
belongs to the layer above); return a new array of x's shape and dtype.

Check: run this file, or ``npae.exercises.check("relu_backward", relu_backward)``.
"""
import numpy as np


def relu_backward(x, dy):
    # TODO: return dx = ∂L/∂x (one line).
    raise NotImplementedError("relu_backward: fill in the TODO")


if __name__ == "__main__":
    from npae.exercises import check
    check("relu_backward", relu_backward)
