"""The sparsity penalty Σ KL(ρ ‖ ρ̂) and its gradient (compare npae.regularizers)."""
import numpy as np

from ...regularizers import SparsityKL as _SparsityKL


class SparsityKL(_SparsityKL):
    def forward(self, h):
        rho, n = self.rho, h.shape[0]
        rho_hat = np.clip(h, 1e-12, 1 - 1e-12)
        kl = rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))
        self._cache = {"grad": (-rho / rho_hat + (1 - rho) / (1 - rho_hat)) / n}
        return float(np.sum(kl)) / n

    def backward(self):
        return self._cached("grad").copy()
