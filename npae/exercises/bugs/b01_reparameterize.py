"""The reparameterization trick, forward and backward (compare npae.gaussian)."""
import numpy as np


def reparameterize(mu, log_var, eps):
    """z = μ + σ ⊙ ε for eps (K, N, d) and mu, log_var (N, d)."""
    sigma = np.exp(log_var)
    return mu + sigma * eps


def reparameterize_backward(dz, log_var, eps):
    """(dL/dμ, dL/dlog σ²), each summed over the K samples."""
    sigma = np.exp(log_var)
    return dz.sum(axis=0), (dz * eps).sum(axis=0) * sigma
