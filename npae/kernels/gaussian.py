"""The VAE's Gaussian latent step, fused: one pass forward, one backward.

``npae.gaussian`` has the formulas one function each (clamp, reparameterize, the KL and their
gradients); these two kernels compute the same things together, because on a batch of
128 x 32 latents NumPy spends its time in the ~15 calls, not in the arithmetic (~75 µs a
training step, against ~5 µs here).

Flat arrays: ``mu``, ``s`` (the log σ² head's output, before the clamp), ``log_var``, ``sigma``,
``d_mu`` and ``d_log_var`` hold the M = N·d numbers of a batch; ``eps``, ``z`` and ``dz`` hold
K samples of them, (K·M,) in C order (sample k is [k·M, (k+1)·M)). Scalars come in the
arrays' dtype, so float32 stays float32.
"""
import numpy as np

from .backend import with_twin


def _latent_sample_numpy(mu, s, eps, low, high, log_var, sigma, z):
    np.clip(s, low, high, out=log_var)
    np.exp(0.5 * log_var, out=sigma)
    np.add(mu, sigma * eps.reshape(-1, mu.size), out=z.reshape(-1, mu.size))
    return float(np.sum(0.5 * (mu * mu + sigma * sigma - 1 - log_var), dtype=np.float64))


@with_twin(_latent_sample_numpy)
def latent_sample(mu, s, eps, low, high, log_var, sigma, z):
    """log σ² = clamp(s, low, high),  σ = exp(½ log σ²),  z_k = μ + σ ⊙ ε_k  (written to
    ``log_var``, ``sigma``, ``z``); returns the KL summed over the batch and the dimensions,

        Σ_i ½ (μ_i² + σ_i² − 1 − log σ_i²)  =  Σ_i KL(N(μ_i, σ_i²) ‖ N(0, 1)).
    """
    one, half = mu.dtype.type(1), mu.dtype.type(0.5)
    m = mu.size
    total = 0.0                         # float64: M terms of one sign, no cancellation
    for i in range(m):
        v = s[i]
        if v < low:                     # written out so that NaN stays NaN (as np.clip)
            v = low
        if v > high:
            v = high
        log_var[i] = v
        sd = np.exp(half * v)
        sigma[i] = sd
        total += half * (mu[i] * mu[i] + sd * sd - one - v)
    for k in range(eps.size // m):
        for i in range(m):
            z[k * m + i] = mu[i] + sigma[i] * eps[k * m + i]
    return total


def _latent_backward_numpy(dz, mu, s, sigma, eps, w, low, high, d_mu, d_log_var):
    k = dz.size // mu.size
    dz, eps = dz.reshape(k, -1), eps.reshape(k, -1)
    d_mu[:] = dz.sum(axis=0) + w * mu
    g = (dz * eps).sum(axis=0) * (0.5 * sigma) + w * 0.5 * (sigma * sigma - 1)
    d_log_var[:] = np.where((s > low) & (s < high), g, 0)


@with_twin(_latent_backward_numpy)
def latent_backward(dz, mu, s, sigma, eps, w, low, high, d_mu, d_log_var):
    """Gradients of  L(z) + w Σ KL  through ``latent_sample``, given dz = dL/dz (K·M,) and
    w = d total / d KL ÷ N (β_t / N for the VAE's batch mean; with capacity γ sign(KL − C_t) / N):

        dL/dμ      = Σ_k dz_k + w μ
        dL/dlog σ² = ½ σ ⊙ Σ_k dz_k ⊙ ε_k + w ½ (σ² − 1)    where low < s < high, else 0

    (∂z/∂log σ² = ½ σ ε, ∂KL/∂log σ² = ½ (σ² − 1), and the clamp is flat outside its range).
    """
    one, half, zero = mu.dtype.type(1), mu.dtype.type(0.5), mu.dtype.type(0)
    m = mu.size
    for i in range(m):                  # the sums over the K samples, in order (d_log_var
        d_mu[i] = dz[i]                 # holds Σ_k dz_k ε_k until the last loop)
        d_log_var[i] = dz[i] * eps[i]
    for k in range(1, dz.size // m):
        for i in range(m):
            d_mu[i] += dz[k * m + i]
            d_log_var[i] += dz[k * m + i] * eps[k * m + i]
    for i in range(m):
        d_mu[i] += w * mu[i]
        g = half * sigma[i] * d_log_var[i] + w * half * (sigma[i] * sigma[i] - one)
        d_log_var[i] = g if (s[i] > low and s[i] < high) else zero
