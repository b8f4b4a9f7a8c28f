"""Exercise: the backward pass of the VAE's reparameterization trick (Kingma & Welling 2014).

Forward (npae.gaussian.reparameterize), with K samples per example:

    σ = exp(½ log σ²),        z_k = μ + σ ⊙ ε_k,      k = 1..K

    mu, log_var (N, d);   eps (K, N, d), drawn from N(0, I) *before* the forward pass and kept;
    z (K, N, d)

Given dz = ∂L/∂z (K, N, d), the cached log_var and the *same* eps the forward pass used,
return

    d_mu = ∂L/∂μ (N, d)       and       d_log_var = ∂L/∂log σ² (N, d)

Hints: ∂z_k/∂μ = 1 and ∂z_k/∂log σ² = ? (differentiate exp(½ log σ²)). μ and log σ² feed
every one of the K samples.

Rules: do not draw new noise (a fresh ε in backward is a classic bug); return arrays of
mu's shape and log_var's dtype.

Check: run this file, or ``npae.exercises.check("reparameterize_backward", reparameterize_backward)``.
"""
import numpy as np


def reparameterize_backward(dz, log_var, eps):
    # TODO: return d_mu, d_log_var (two lines).
    raise NotImplementedError("reparameterize_backward: fill in the TODO")


if __name__ == "__main__":
    from npae.exercises import check
    check("reparameterize_backward", reparameterize_backward)
