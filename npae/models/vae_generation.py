"""What a trained VAE is for: generating, moving through the latent space, and bounding log p(x).

A mixin for ``VAE``: it uses the model's ``encode``, ``forward``, ``inverse_transform``,
``decoder_`` and its likelihood settings. Nothing here computes gradients.
"""
import numpy as np

from .. import gaussian as G


class GenerationMixin:
    """sample, decode, interpolate, traverse; the ELBO and the importance-weighted bound."""

    def decode(self, z):
        """The decoder's mean for latents z (M, n_latent): probabilities s(a) (Bernoulli) or means."""
        return self.inverse_transform(z)

    def sample(self, n, rng=None):
        """n new examples: z ~ N(0, I) (the prior), decoded to their means. (n, ...)."""
        rng = self.rng_ if rng is None else np.random.default_rng(rng)
        return self.decode(rng.standard_normal((int(n), self.n_latent_)).astype(self.dtype_))

    def interpolate(self, x1, x2, steps=8):
        """Decode z_t = (1 − t) μ(x1) + t μ(x2) for ``steps`` values of t from 0 to 1.

        x1, x2: single examples (shape (D,) or (C, H, W)) or batches of one (1, ...). Returns (steps, ...).
        """
        mu = self.encode(np.concatenate([self._one(x1), self._one(x2)]))[0]
        t = np.linspace(0, 1, int(steps), dtype=self.dtype_)[:, None]
        return self.decode((1 - t) * mu[0] + t * mu[1])

    def traverse(self, x, dims=None, values=np.linspace(-3, 3, 7)):
        """Latent traversal: from μ(x) (one example), set dimension j to each of ``values``
        while holding the others, and decode. dims default: all. Returns (len(dims), len(values), ...)."""
        mu = self.encode(self._one(x))[0][0]
        dims = range(self.n_latent_) if dims is None else dims
        rows = []
        for j in dims:
            z = np.tile(mu, (len(values), 1))
            z[:, j] = values
            rows.append(self.decode(z))
        return np.stack(rows)

    def _log_px_given_z(self, output, x):
        """log p(x | z) per (sample, example) from decoder outputs (K, N, ...) -> (K, N)."""
        if self.reconstruction_loss == "bce":
            return G.bernoulli_log_likelihood(output, x)
        log_var = self._decoder_log_var() if self.decoder_log_var_ is not None else 2 * np.log(self.sigma)
        return G.gaussian_log_likelihood(output, x, log_var)

    def elbo(self, x, rng=None, eps=None):
        """Per-example ELBO = E_q[log p(x|z)] − KL(q ‖ p) in nats, (N,): the expectation from K
        samples (``eps`` (K, N, d), else ``n_samples`` draws from ``rng``), the KL in closed form."""
        out = self.forward(x, eps=eps, rng=rng)
        return self._log_px_given_z(out.output, x).mean(axis=0) - G.kl_standard_normal(out.mu, out.log_var)

    def log_likelihood(self, x, k=100, rng=None, eps=None, max_rows=8192):
        """Importance-sampled estimate of log p(x) per example, the IWAE bound (Burda et al. 2016):

            L_k = log (1/k) Σ_i w_i,   w_i = p(x | z_i) p(z_i) / q(z_i | x),   z_i ~ q(z | x),

        computed with ``log_mean_exp`` over log w_i; log q(z_i | x) = −½ Σ_j (log 2π + log σ_j²
        + ε_ij²) comes from the noise (exact for every σ, even σ = 0). E[L_1] is the ELBO,
        E[L_k] rises with k towards log p(x). ``eps`` (k, N, d) fixes the samples. At most
        ``max_rows`` latents are decoded at a time. Returns (N,) in nats (float64).
        """
        x = self._check_x(x)
        rng = self.rng_ if rng is None else np.random.default_rng(rng)
        k = eps.shape[0] if eps is not None else k
        if not (isinstance(k, (int, np.integer)) and k >= 1):
            raise ValueError(f"log_likelihood: k must be an integer >= 1, got {k!r}")
        per_chunk = max(1, max_rows // k)                # examples per chunk
        result = np.empty(len(x), np.float64)
        for start in range(0, len(x), per_chunk):
            xb = x[start:start + per_chunk]
            mu, log_var = self.encode(xb)
            log_w = []
            for first in range(0, k, max_rows):          # k > max_rows: chunk the samples too
                count = min(k, first + max_rows) - first
                e = (eps[first:first + count, start:start + len(xb)] if eps is not None else
                     rng.standard_normal((count,) + mu.shape).astype(self.dtype_))
                z = G.reparameterize(mu, log_var, e)
                out = self.decoder_.forward(z.reshape(-1, self.n_latent_))
                out = out.reshape((count, len(xb)) + xb.shape[1:])
                # log q(z|x) from ε: (z − μ)²/σ² = ε² exactly, so σ² = 0 gives no 0 · ∞
                log_q = G.log_standard_normal(e) - 0.5 * np.sum(log_var, axis=-1)
                log_w.append(self._log_px_given_z(out, xb) + G.log_standard_normal(z) - log_q)
            result[start:start + len(xb)] = G.log_mean_exp(np.concatenate(log_w).astype(np.float64))
        return result

    def _one(self, x):
        """A single example as a batch of one (a batch is cut to its first example)."""
        x = np.asarray(x)
        if x.ndim == 1 or x.shape == self.example_shape_:
            return x[None]
        return x[:1]
