"""Sparse autoencoder: a penalty on the code keeps most hidden units near zero.

    KL form (Ng, CS294A notes):  L = reconstruction + β Σ_j KL(ρ ‖ ρ̂_j),  ρ̂_j = mean_n h_nj
    L1 form:                     L = reconstruction + λ (1/N) Σ_n Σ_j |h_nj|

The penalty's gradient at the code (``npae.regularizers``) is added to the one flowing back
from the decoder before the encoder's backward: dL/dh = dR/dh + β dP/dh.
"""
from ..io import register_model
from ..regularizers import L1Activity, SparsityKL
from .autoencoder import Autoencoder

SPARSITY = ("kl", "l1")


@register_model
class SparseAutoencoder(Autoencoder):
    """An ``Autoencoder`` with a sparsity penalty on its code.

    sparsity    "kl" (default; needs sigmoid codes, in [0, 1]) or "l1".
    rho, beta   target mean activation ρ and weight β of the KL penalty. The defaults
                (ρ = 0.05, β = 3) are in the range the UFLDL tutorial uses.
    l1_weight   λ of the L1 penalty.

    Other arguments: see ``Autoencoder``. The history records the unweighted penalty as
    "sparsity".
    """

    _keep_weights_on = Autoencoder._keep_weights_on | {"rho", "beta", "l1_weight"}

    def __init__(self, encoder=None, decoder=None, reconstruction_loss="bce", *, sparsity="kl",
                 rho=0.05, beta=3.0, l1_weight=1e-3, **kwargs):
        self.sparsity, self.rho, self.beta, self.l1_weight = sparsity, rho, beta, l1_weight
        super().__init__(encoder, decoder, reconstruction_loss, **kwargs)

    def _build(self):
        who = type(self).__name__
        if self.sparsity not in SPARSITY:
            raise ValueError(f"{who}: sparsity must be one of {SPARSITY}, got {self.sparsity!r}")
        if self.sparsity == "kl" and self.encoder is None and \
                (self.code_activation or self.activation) != "sigmoid":
            raise ValueError(f"{who}: the KL penalty needs codes in [0, 1]: use "
                             "code_activation='sigmoid', or sparsity='l1'")
        super()._build()

    def _penalties(self, x, z):
        if self.sparsity == "kl":
            self.penalty_, self._weight = SparsityKL(self.rho), self.beta
        else:
            self.penalty_, self._weight = L1Activity(), self.l1_weight
        return {"sparsity": (self._weight, self.penalty_.forward(z))}

    def _penalties_backward(self, dz):
        return dz + dz.dtype.type(self._weight) * self.penalty_.backward()
