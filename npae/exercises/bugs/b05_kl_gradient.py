"""KL(N(μ, σ²) ‖ N(0, I)) in closed form, and its gradient (compare npae.gaussian)."""
import numpy as np


def kl_standard_normal(mu, log_var):
    """Per example, (N, d) -> (N,)."""
    return -0.5 * np.sum(1 + log_var - mu * mu - np.exp(log_var), axis=-1)


def kl_standard_normal_grad(mu, log_var):
    """(∂KL/∂μ, ∂KL/∂log σ²), each (N, d)."""
    return mu.copy(), np.exp(log_var) - 1
