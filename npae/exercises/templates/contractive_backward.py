"""Exercise: the gradient of the contractive penalty (Rifai et al. 2011).

For a sigmoid encoder h = s(x W + b) (x (N, D), W (D, H), h (N, H)) the Jacobian of one
example's code has the closed-form squared Frobenius norm

    ‖J_f(x)‖²_F = Σ_j a_j² w_j,      a = h ⊙ (1 − h),      w_j = Σ_i W_ij²

and the penalty (npae.regularizers.Contractive) is its mean over the batch:

    P(h, W) = (1/N) Σ_n Σ_j a_nj² w_j

Treat h and W as independent inputs and return both partial derivatives

    dh = ∂P/∂h  (N, H)        and        dW = ∂P/∂W  (D, H)  (the direct path, through w)

(the model adds dh at the code; the encoder's own backward carries it on to W and b.)

Rules: return arrays of h's and W's shapes and dtype.

Check: run this file, or ``npae.exercises.check("contractive_backward", contractive_backward)``.
"""
import numpy as np


def contractive_backward(h, W):
    # TODO: compute a, w, then dh and dW (four lines).
    raise NotImplementedError("contractive_backward: fill in the TODO")


if __name__ == "__main__":
    from npae.exercises import check
    check("contractive_backward", contractive_backward)
