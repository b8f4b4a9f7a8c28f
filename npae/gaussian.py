"""Diagonal-Gaussian math of the variational autoencoder, each formula next to its gradient.

Shapes: ``mu`` and ``log_var`` are (N, d) (N examples, d latent dimensions);
``eps`` and ``z`` are (K, N, d) for K samples per example. "Per example" means
summed over every axis but the batch axes. Everything is in nats.

Kingma & Welling 2014 (reparameterization, closed-form KL); Burda, Grosse &
Salakhutdinov 2016 (the importance-weighted bound that ``log_mean_exp`` computes).
"""
import math

import numpy as np

from ._checks import check_finite, check_float_array
from .errors import ShapeError

LOG_2PI = math.log(2 * math.pi)


def _feature_axes(a, batch_dims):
    return tuple(range(batch_dims, a.ndim))


# --- reparameterization -------------------------------------------------------------------
def reparameterize(mu, log_var, eps):
    """z = μ + σ ⊙ ε  with  σ = exp(½ log σ²),  ε ~ N(0, I) given explicitly.

    Shapes: mu, log_var (N, d); eps (K, N, d) -> z (K, N, d) (μ and σ broadcast over K).
    Derivatives, element-wise:  ∂z/∂μ = 1,   ∂z/∂log σ² = ½ σ ⊙ ε
    (since ∂σ/∂log σ² = ∂ exp(½ log σ²)/∂log σ² = ½ σ).
    """
    check_eps(eps, mu, "reparameterize")
    return mu + np.exp(0.5 * log_var) * eps


def check_eps(eps, mu, who):
    """ε must be finite, of μ's dtype and of shape (K, N, d), K >= 1, for μ of shape (N, d)."""
    check_float_array(eps, who, "eps", dtype=mu.dtype)
    if eps.ndim != 3 or eps.shape[1:] != mu.shape or eps.shape[0] < 1:
        raise ShapeError(f"{who}: eps must have shape (K, {mu.shape[0]}, {mu.shape[1]}) "
                         f"(K samples per example), got {eps.shape}")
    return check_finite(eps, who, "eps")


def reparameterize_backward(dz, log_var, eps):
    """Given dL/dz (K, N, d), return (dL/dμ, dL/dlog σ²), each (N, d), summed over the K samples:

        dL/dμ = Σ_k dL/dz_k,      dL/dlog σ² = Σ_k dL/dz_k ⊙ ½ σ ⊙ ε_k.
    """
    return dz.sum(axis=0), (dz * eps).sum(axis=0) * (0.5 * np.exp(0.5 * log_var))


# --- KL(q(z|x) ‖ p(z)) in closed form -----------------------------------------------------
def kl_per_dimension(mu, log_var):
    """KL(N(μ_j, σ_j²) ‖ N(0, 1)) for every example and latent dimension: (N, d) -> (N, d).

        KL_j = −½ (1 + log σ_j² − μ_j² − σ_j²)      (≥ 0, zero iff μ_j = 0, σ_j = 1).
    """
    return -0.5 * (1 + log_var - mu * mu - np.exp(log_var))


def kl_standard_normal(mu, log_var):
    """KL(N(μ, diag σ²) ‖ N(0, I)) per example: −½ Σ_j (1 + log σ_j² − μ_j² − σ_j²). (N, d) -> (N,)."""
    return kl_per_dimension(mu, log_var).sum(axis=-1)


def kl_standard_normal_grad(mu, log_var):
    """Gradient of the per-example KL: (∂KL/∂μ, ∂KL/∂log σ²) = (μ, ½ (σ² − 1)), each (N, d)."""
    return mu.copy(), 0.5 * (np.exp(log_var) - 1)


# --- log-densities (for importance weights; no gradients needed there) --------------------
def log_normal(z, mu, log_var, batch_dims=2):
    """log N(z; μ, diag σ²) per example: −½ Σ_j [log 2π + log σ_j² + (z_j − μ_j)² / σ_j²].

    z (K, N, d) with mu, log_var broadcastable to it -> (K, N).
    """
    sq = (z - mu) ** 2 * np.exp(-log_var)
    return -0.5 * np.sum(LOG_2PI + log_var + sq, axis=_feature_axes(z, batch_dims))


def log_standard_normal(z, batch_dims=2):
    """log N(z; 0, I) per example: −½ Σ_j (log 2π + z_j²). (K, N, d) -> (K, N)."""
    return -0.5 * np.sum(LOG_2PI + z * z, axis=_feature_axes(z, batch_dims))


def bernoulli_log_likelihood(logits, x, batch_dims=2):
    """log p(x | z) for a factorized Bernoulli decoder with logits a = decoder(z):

        log p(x | a) = Σ_i [x_i log s(a_i) + (1 − x_i) log(1 − s(a_i))] = Σ_i [x_i a_i − softplus(a_i)],

    softplus(a) = max(a, 0) + log1p(e^−|a|) (stable). x in [0, 1] broadcast over the K axis.
    logits (K, N, ...) -> (K, N). (Same value as ``BCEWithLogits`` per example, negated.)
    """
    softplus = np.maximum(logits, 0) + np.log1p(np.exp(-np.abs(logits)))
    return np.sum(x * logits - softplus, axis=_feature_axes(logits, batch_dims))


def gaussian_log_likelihood(mean, x, log_var, batch_dims=2):
    """log p(x | z) for a factorized Gaussian decoder with mean m = decoder(z), per-pixel log σ² s:

        log p(x | m) = −½ Σ_i [log 2π + s_i + (x_i − m_i)² e^−s_i].

    mean (K, N, ...) -> (K, N); ``log_var`` a float or an array broadcastable to x.
    """
    sq = (x - mean) ** 2 * np.exp(-np.asarray(log_var, dtype=mean.dtype))
    total = np.sum(sq + log_var + LOG_2PI, axis=_feature_axes(mean, batch_dims))   # sq has the full shape
    return -0.5 * total


# --- the importance-weighted bound ---------------------------------------------------------
def log_mean_exp(a, axis=0):
    """log( (1/K) Σ_k exp a_k ) along ``axis``, without overflow:  m + log( mean_k exp(a_k − m) ),
    m = max_k a_k. With a_k = log w_k the log importance weights, this is the IWAE bound
    (Burda et al. 2016) for one example; K = 1 gives the single-sample ELBO. All a_k = −∞
    (every weight 0) gives −∞, any a_k = +∞ gives +∞."""
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)              # −∞ − (−∞) would be NaN; any shift works
    with np.errstate(divide="ignore"):              # log 0 = −∞ is the right answer
        out = m + np.log(np.mean(np.exp(a - m), axis=axis, keepdims=True))
    return np.squeeze(out, axis=axis)


# --- a clamp with its (sub)gradient ------------------------------------------------------
def clamp(x, low, high):
    """y = min(max(x, low), high) element-wise."""
    return np.clip(x, low, high)


def clamp_backward(dy, x, low, high):
    """dL/dx = dy where low < x < high, else 0 (the clamp is flat outside the range;
    at the two kinks x = low, x = high the gradient is taken as 0)."""
    return dy * ((x > low) & (x < high))
