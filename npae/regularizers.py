"""Penalties on the code: each gives its value and a hand-derived gradient.

Protocol: ``forward(h, ...)`` -> float (unweighted; the model multiplies by its weight),
``backward()`` -> dpenalty/dh with h's shape and dtype (``Contractive`` also returns
dpenalty/dW). Like losses, penalties are means over the batch unless a formula says
otherwise. Each gradient is checked against central differences in
tests/test_regularizers.py, on its own and inside the models.
"""
import numpy as np

from ._checks import check_finite, check_float_array, check_shape
from .errors import DomainError, ShapeError


def _check_codes(h, who):
    check_float_array(h, who, "h")
    if h.ndim != 2 or h.size == 0:
        raise ShapeError(f"{who}: expected codes h of shape (N, n_latent), got {h.shape}")
    return check_finite(h, who, "h")


class _Penalty:
    @property
    def name(self):
        return type(self).__name__

    def _cached(self, key):
        cache = getattr(self, "_cache", None)
        if cache is None:
            raise RuntimeError(f"{self.name}.backward() called before forward()")
        return cache[key]


class SparsityKL(_Penalty):
    """Sparsity of sigmoid codes as a KL divergence (Ng, "Sparse autoencoder", CS294A notes):

        ρ̂_j = (1/N) Σ_n h_nj                    (mean activation of unit j over the batch)
        P   = Σ_j KL(ρ ‖ ρ̂_j) = Σ_j ρ log(ρ / ρ̂_j) + (1 − ρ) log((1 − ρ) / (1 − ρ̂_j))
        ∂P/∂h_nj = (−ρ / ρ̂_j + (1 − ρ) / (1 − ρ̂_j)) / N      (the same for every example n)

    Shapes: h (N, n_latent) with values in [0, 1]; the gradient has h's shape and dtype.
    ρ̂ is clipped to [clip, 1 − clip] (default 1e-6 in float32, 1e-12 in float64) so the logs
    and divisions never see 0; the gradient is the formula at the clipped ρ̂, so a unit stuck
    at 0 or 1 is still pushed back towards ρ. ``rho_hat`` keeps the last (unclipped) ρ̂.
    """

    def __init__(self, rho=0.05, clip=None):
        if not 0 < rho < 1:
            raise ValueError(f"SparsityKL: rho must lie in (0, 1), got {rho}")
        self.rho, self.clip = float(rho), clip

    def forward(self, h):
        _check_codes(h, self.name)
        if h.min() < 0 or h.max() > 1:
            raise DomainError(f"{self.name}: activations must lie in [0, 1] (sigmoid codes), "
                              f"got values in [{h.min()}, {h.max()}]")
        clip = self.clip if self.clip is not None else (1e-6 if h.dtype == np.float32 else 1e-12)
        rho, n = self.rho, h.shape[0]
        self.rho_hat = h.mean(axis=0)
        rho_hat = np.clip(self.rho_hat, clip, 1 - clip)
        kl = rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))
        self._cache = {"grad_row": (-rho / rho_hat + (1 - rho) / (1 - rho_hat)) / n,
                       "shape": h.shape}
        return float(np.sum(kl))

    def backward(self):
        row = self._cached("grad_row")
        return np.broadcast_to(row, self._cached("shape")).copy()

    def __repr__(self):
        return f"SparsityKL(rho={self.rho})"


class L1Activity(_Penalty):
    """L1 penalty on the code:  P = (1/N) Σ_n Σ_j |h_nj|,   ∂P/∂h = sign(h) / N.

    Shapes: h (N, n_latent). At h = 0 (the kink) the gradient is 0, a subgradient.
    """

    kinks = (0.0,)

    def forward(self, h):
        _check_codes(h, self.name)
        self._cache = {"h": h}
        return float(np.sum(np.abs(h))) / h.shape[0]

    def backward(self):
        h = self._cached("h")
        return np.sign(h) / h.dtype.type(h.shape[0])


class Contractive(_Penalty):
    """Squared Frobenius norm of the encoder's Jacobian (Rifai et al. 2011), for h = s(x W + b):

        J = ∂h/∂x = diag(a) Wᵀ,  a = h ⊙ (1 − h)     so   ‖J‖²_F = Σ_j a_j² Σ_i W_ij²

        P = (1/N) Σ_n Σ_j a_nj² w_j,        w_j = Σ_i W_ij²

    Gradients (returned by ``backward``; ⊙ element-wise, sums over n are over the batch):

        ∂P/∂h_nj = 2 a_nj (1 − 2 h_nj) w_j / N              (through a = h − h²)
        ∂P/∂W_ij = 2 W_ij Σ_n a_nj² / N                     (the direct path, through w_j)

    The model adds ∂P/∂h to the gradient at the code; the encoder's own backward (Sigmoid,
    then Dense) turns it into the rest of the total derivative:

        ∂P/∂b_j  = Σ_n 2 a_nj² (1 − 2 h_nj) w_j / N
        ∂P/∂W_ij = 2 W_ij Σ_n a_nj² / N  +  Σ_n x_ni 2 a_nj² (1 − 2 h_nj) w_j / N

    Shapes: h (N, H), W (D, H) as in ``Dense`` (y = x W + b).
    """

    def forward(self, h, W):
        _check_codes(h, self.name)
        check_float_array(W, self.name, "W", dtype=h.dtype)
        check_shape(W, (None, h.shape[1]), self.name, "W")
        check_finite(W, self.name, "W")
        a = h * (1 - h)
        w = np.sum(W * W, axis=0)                       # (H,)  Σ_i W_ij²
        a2 = a * a
        self._cache = {"h": h, "W": W, "a": a, "w": w, "a2": a2}
        return float(np.sum(a2 @ w)) / h.shape[0]

    def backward(self):
        """Returns (dP/dh of shape (N, H), dP/dW of shape (D, H)), the direct path for W."""
        h, W, a, w, a2 = (self._cached(k) for k in ("h", "W", "a", "w", "a2"))
        n = h.dtype.type(h.shape[0])
        dh = 2 * a * (1 - 2 * h) * w / n
        dW = 2 * W * (a2.sum(axis=0) / n)
        return dh, dW

    def jacobian_norm(self, h, W):
        """‖J_f(x)‖_F per example, shape (N,): the quantity the penalty shrinks."""
        a = h * (1 - h)
        return np.sqrt((a * a) @ np.sum(W * W, axis=0))
