"""Exercise: the gradient of the sparsity penalty of a sparse autoencoder.

For sigmoid codes h (N, H) with values in (0, 1), unit j's mean activation over the batch is

    ρ̂_j = (1/N) Σ_n h_nj

and the penalty (npae.regularizers.SparsityKL; Ng, "Sparse autoencoder", CS294A) is

    P(h) = Σ_j KL(ρ ‖ ρ̂_j) = Σ_j [ ρ log(ρ / ρ̂_j) + (1 − ρ) log((1 − ρ) / (1 − ρ̂_j)) ]

Return dh = ∂P/∂h, shape (N, H).

Hint: first find dP/dρ̂_j, then ∂ρ̂_j/∂h_nj. Careful: ρ̂ is a mean over the *batch*, not a
per-example quantity.

Rules: return an array of h's shape and dtype (rho is a Python float).

Check: run this file, or ``npae.exercises.check("sparse_kl_backward", sparse_kl_backward)``.
"""
import numpy as np


def sparse_kl_backward(h, rho):
    # TODO: compute rho_hat, then dP/drho_hat, then dh (three lines).
    raise NotImplementedError("sparse_kl_backward: fill in the TODO")


if __name__ == "__main__":
    from npae.exercises import check
    check("sparse_kl_backward", sparse_kl_backward)
