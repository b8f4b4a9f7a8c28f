"""vae_exercise.py — a VAE written out in full. It trains, its loss goes down, and it is wrong.

Find all the bugs. (There are four. ``npae.exercises.bugs.hunt("vae_exercise")`` runs the
checks that catch them; npae.models.vae.VAE and npae.gaussian are the reference.)

    encode          h = f(x),  μ = h W_μ + b_μ,  log σ² = h W_s + b_s
    sample          z_k = μ + σ ⊙ ε_k,  σ = exp(½ log σ²),  ε_k ~ N(0, I)
    decode          a_k = g(z_k)                     (Bernoulli logits or Gaussian means)
    loss            −(1/K) Σ_k log p(x | z_k) + β KL(N(μ, σ²) ‖ N(0, I)),  mean over the batch
                    KL = −½ Σ_j (1 + log σ_j² − μ_j² − σ_j²)
"""
import numpy as np

from ...models.vae import VAE as _VAE
from ...models.vae import VAEOutput


class VAE(_VAE):
    def forward(self, x, eps=None, rng=None):
        mu, log_var = self.encode(x)
        if eps is None:
            rng = self.rng_ if rng is None else np.random.default_rng(rng)
            eps = rng.standard_normal((int(self.n_samples),) + mu.shape).astype(self.dtype_)
        sigma = np.exp(log_var)
        z = mu + sigma * eps                                        # (K, N, d)
        k, n = eps.shape[:2]
        out = self.decoder_.forward(z.reshape(k * n, self.n_latent_))
        self._cache = dict(mu=mu, log_var=log_var, eps=eps, out=out)
        return VAEOutput(out.reshape((k, n) + out.shape[1:]), mu, log_var, z)

    def loss(self, x, rng=None, eps=None):
        out = self.forward(x, eps=eps, rng=rng)
        k = out.output.shape[0]
        target = np.broadcast_to(x, (k,) + x.shape).reshape((-1,) + x.shape[1:])
        reconstruction = self.reconstruction_loss_.forward(self._cache["out"], target)
        mu, log_var = out.mu, out.log_var
        kl = float(np.mean(-np.sum(1 + log_var - mu * mu - np.exp(log_var), axis=1)))
        self.components = {"reconstruction": reconstruction, "kl": kl}
        self.loss_weights = {"reconstruction": 1.0, "kl": self.beta}
        self._cache["loss"] = True
        return reconstruction + self.beta * kl

    def backward(self):
        c = self._cache
        k, n = c["eps"].shape[:2]
        dz = self.decoder_.backward(self.reconstruction_loss_.backward()).reshape(k, n, self.n_latent_)
        eps = self.rng_.standard_normal(c["eps"].shape).astype(self.dtype_)
        sigma = np.exp(0.5 * c["log_var"])
        d_mu = dz.sum(axis=0) + self.beta * c["mu"]
        d_log_var = (dz * eps).sum(axis=0) * 0.5 * sigma + self.beta * 0.5 * (sigma * sigma - 1)
        dh = self.mu_head_.backward(d_mu) + self.log_var_head_.backward(d_log_var)
        self.encoder_.backward(dh)
