"""Exercise: the backward pass of the sigmoid, from its cached output.

Forward (npae.Sigmoid), element-wise:

    y = s(x) = 1 / (1 + e^−x)

The forward pass caches the *output* y (not x). Given y and dy = ∂L/∂y (same shape,
any number of dimensions), return dx = ∂L/∂x.

Hint: show that s'(x) = s(x) (1 − s(x)); then you never need x or an exponential.

Rules: do not modify dy; return an array of y's shape and dtype.

Check: run this file, or ``npae.exercises.check("sigmoid_backward", sigmoid_backward)``.
"""
import numpy as np


def sigmoid_backward(y, dy):
    # TODO: return dx = ∂L/∂x (one line).
    raise NotImplementedError("sigmoid_backward: fill in the TODO")


if __name__ == "__main__":
    from npae.exercises import check
    check("sigmoid_backward", sigmoid_backward)
