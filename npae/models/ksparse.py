"""k-sparse autoencoder (Makhzani & Frey 2014): keep only the k largest code units.

    z = x W + b                         (linear code)
    Γ = the k largest entries of z      (per example; ties go to the lower index)
    h = z ⊙ 1_Γ,   x̂ = g(h)            (g: by default the tied decoder h Wᵀ + b')

The selection is a fixed mask once chosen, so backward is the mask again:
dL/dz = dL/dh ⊙ 1_Γ — only the k selected units (and their weights) receive gradient.
At encode time (``transform``) the α·k largest are kept, α ≥ 1 (the paper's αk).
A schedule can start with k_start > k and lower k linearly over the first
``k_schedule_steps`` batches, which keeps units from dying early on (paper, §3.3).
"""
import numpy as np

from ..io import register_model
from ..kernels import topk
from .autoencoder import Autoencoder


def topk_mask(z, k):
    """Boolean mask (N, H) marking the k largest values of each row of z (N, H); among
    equal values the lower index wins."""
    n, h = z.shape
    if not 1 <= k <= h:
        raise ValueError(f"top-k: k must lie in [1, {h}] for codes of width {h}, got {k}")
    mask = np.empty(z.size, dtype=bool)
    topk.topk_mask(np.ascontiguousarray(z).reshape(-1), n, h, int(k), mask)
    return mask.reshape(n, h)


@register_model
class KSparseAutoencoder(Autoencoder):
    """An ``Autoencoder`` whose code keeps its k largest units (linear code, tied by default).

    k                 units kept per example in training.
    alpha             α ≥ 1: ``transform`` keeps round(α·k) units (at most the code width).
    k_start           if given, k starts here and falls linearly to ``k`` over
    k_schedule_steps  batches (reads ``training_step``).

    ``support`` holds the mask of the last training forward. Other arguments: see
    ``Autoencoder`` (here ``tied=True`` and ``code_activation="identity"`` by default).
    """

    _keep_weights_on = Autoencoder._keep_weights_on | {"k", "alpha", "k_start", "k_schedule_steps"}

    def __init__(self, encoder=None, decoder=None, reconstruction_loss="bce", *, k=25, alpha=1.0,
                 k_start=None, k_schedule_steps=0, tied=True, code_activation="identity",
                 **kwargs):
        self.k, self.alpha = k, alpha
        self.k_start, self.k_schedule_steps = k_start, k_schedule_steps
        super().__init__(encoder, decoder, reconstruction_loss, tied=tied,
                         code_activation=code_activation, **kwargs)

    def _build(self):
        who = type(self).__name__
        if int(self.k) != self.k or self.k < 1 or not self.alpha >= 1:
            raise ValueError(f"{who}: need an integer k >= 1 and alpha >= 1, "
                             f"got k={self.k}, alpha={self.alpha}")
        if self.k_start is not None and (self.k_start < self.k or self.k_schedule_steps < 1):
            raise ValueError(f"{who}: a schedule needs k_start >= k and k_schedule_steps >= 1, got "
                             f"k_start={self.k_start}, k_schedule_steps={self.k_schedule_steps}")
        super()._build()

    def current_k(self):
        """k at ``training_step``: k_start → k linearly over k_schedule_steps, then k."""
        if self.k_start is None:
            return int(self.k)
        progress = min(1.0, self.training_step / self.k_schedule_steps)
        return int(round(self.k_start + (self.k - self.k_start) * progress))

    def encode_k(self):
        """Units kept by ``transform``: round(α·k)."""
        return int(round(self.alpha * self.k))

    def _encode_train(self, x):
        z = self.encoder_.forward(x)
        self.support = topk_mask(z, self.current_k())
        self._gap = _selection_gap(z, self.support)
        return np.where(self.support, z, z.dtype.type(0))

    def _encode_backward(self, dz):
        return self.encoder_.backward(np.where(self.support, dz, dz.dtype.type(0)))

    def _encode_eval(self, x):
        z = self.encoder_.forward(x)
        mask = topk_mask(z, min(self.encode_k(), z.shape[1]))   # α·k stops at the code width
        return np.where(mask, z, z.dtype.type(0))

    def kink_distance(self):
        """Half the smallest gap between a kept and a dropped unit: a perturbation smaller
        than that cannot change the selection (gradient checks warn when it is tiny)."""
        return min(super().kink_distance(), getattr(self, "_gap", np.inf) / 2)


def _selection_gap(z, mask):
    """min over rows of (smallest kept value − largest dropped value); inf if none dropped."""
    if mask.all():
        return np.inf
    kept = np.where(mask, z, np.inf).min(axis=1)
    dropped = np.where(mask, -np.inf, z).max(axis=1)
    return float(np.min(kept - dropped))
