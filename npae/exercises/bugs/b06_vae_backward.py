"""A VAE backward pass, written out: decoder, reparameterization, KL, heads, encoder."""
from ... import gaussian as G
from ...models.vae import VAE as _VAE


class VAE(_VAE):
    def backward(self):
        c = self._cache
        k, n = c["eps"].shape[:2]
        dz = self.decoder_.backward(self.reconstruction_loss_.backward()).reshape(k, n, self.n_latent_)
        d_mu, d_log_var = G.reparameterize_backward(dz, c["log_var"], c["eps"])
        kl_mu, kl_log_var = G.kl_standard_normal_grad(c["mu"], c["log_var"])
        beta = self.dtype_.type(self.beta_t)
        d_mu += beta * kl_mu
        d_log_var += beta * kl_log_var
        dh = self.mu_head_.backward(d_mu) + self.log_var_head_.backward(d_log_var)
        self.encoder_.backward(dh)
