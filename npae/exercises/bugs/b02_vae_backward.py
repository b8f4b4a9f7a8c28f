"""A VAE whose backward pass prepares its own noise."""
from ...models.vae import VAE as _VAE


class VAE(_VAE):
    def backward(self):
        c = self._cache
        # the reparameterization's derivative needs ε: draw it the way forward does
        c["eps"] = self.rng_.standard_normal(c["eps"].shape, dtype=self.dtype_)
        super().backward()
