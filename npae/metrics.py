"""Evaluation metrics: reconstruction error, the VAE's bounds, posterior collapse, linear probes.

All take a model and data X (N, ...) in the model's dtype and work in batches, so a
10,000-image test set never builds one huge array. Results are Python floats (nats or
squared units per example) or small NumPy arrays.

    reconstruction_error(model, X)   mean over examples of Σ_d (x̂_d − x_d)²
    negative_elbo(model, X)          mean −ELBO, nats per example (a VAE)
    iwae_nll(model, X, k)            mean −L_k, the importance-weighted bound (Burda et al. 2016)
    kl_per_dimension(model, X)       mean over X of KL(q(z_j|x) ‖ N(0, 1)), one value per latent j
    active_units(model, X)           units with Var_x(E_q[z_j]) > 0.01 (Burda et al. 2016, §5.2)
    linear_probe_accuracy(...)       a logistic regression on frozen codes: how linearly
                                     separable the classes are
"""
import numpy as np

from . import gaussian as G

BATCH = 1000


def _batches(X, batch_size):
    for start in range(0, len(X), batch_size):
        yield X[start:start + batch_size]


def reconstruction_error(model, X, batch_size=BATCH):
    """Mean over examples of the summed squared error Σ_d (x̂_d − x_d)², x̂ = model.reconstruct(x)
    (for a VAE, the decoder's mean at z = μ(x))."""
    total = 0.0
    for xb in _batches(X, batch_size):
        diff = model.reconstruct(xb).astype(np.float64) - xb
        total += float(np.sum(diff * diff))
    return total / len(X)


def negative_elbo(model, X, rng=None, batch_size=BATCH):
    """Mean −ELBO of a VAE in nats per example (reconstruction with the model's K samples
    drawn from ``rng``, KL in closed form). Lower is better; ≥ −log p(x) on average."""
    rng = np.random.default_rng(rng)
    return -float(sum(np.sum(model.elbo(xb, rng=rng), dtype=np.float64)
                      for xb in _batches(X, batch_size)) / len(X))


def iwae_nll(model, X, k=500, rng=None, batch_size=BATCH):
    """Mean −L_k in nats per example: the negative log-likelihood estimate from k importance
    samples (``model.log_likelihood``). k = 1 is the single-sample −ELBO; larger k is tighter."""
    rng = np.random.default_rng(rng)
    return -float(sum(np.sum(model.log_likelihood(xb, k, rng=rng)) for xb in _batches(X, batch_size))
                  / len(X))


def _posterior_parameters(model, X, batch_size):
    parts = [model.encode(xb) for xb in _batches(X, batch_size)]
    return (np.concatenate([p[0] for p in parts]).astype(np.float64),
            np.concatenate([p[1] for p in parts]).astype(np.float64))


def kl_per_dimension(model, X, batch_size=BATCH):
    """Mean over X of KL(N(μ_j, σ_j²) ‖ N(0, 1)) for each latent dimension j: (n_latent,).
    A dimension with KL ≈ 0 carries no information about x (posterior collapse)."""
    mu, log_var = _posterior_parameters(model, X, batch_size)
    return G.kl_per_dimension(mu, log_var).mean(axis=0)


def active_units(model, X, threshold=0.01, batch_size=BATCH):
    """Burda et al. 2016: unit j is active if A_j = Var_x(E_{q(z|x)}[z_j]) = Var_x(μ_j(x)) > 0.01.

    Returns (number of active units, A as an (n_latent,) array).
    """
    mu, _ = _posterior_parameters(model, X, batch_size)
    activity = mu.var(axis=0)
    return int(np.sum(activity > threshold)), activity


def linear_probe_accuracy(codes_train, labels_train, codes_test, labels_test, seed=0):
    """Test accuracy of a multinomial logistic regression (scikit-learn) trained on frozen codes.

    The codes are standardized with the training set's mean and scale first. Chance level
    is the frequency of the most common test class.
    """
    from sklearn.linear_model import LogisticRegression  # imported here: `import npae` stays light
    mean, scale = codes_train.mean(axis=0), codes_train.std(axis=0) + 1e-12
    probe = LogisticRegression(max_iter=1000, random_state=seed)
    probe.fit((codes_train - mean) / scale, labels_train)
    return float(probe.score((codes_test - mean) / scale, labels_test))
