"""Contractive autoencoder (Rifai et al. 2011): penalize the encoder's sensitivity to its input.

    h = s(x W + b)                     (one sigmoid layer: the closed form below needs it)
    L = reconstruction + λ (1/N) Σ_n ‖J_f(x_n)‖²_F,   ‖J_f(x)‖²_F = Σ_j (h_j (1 − h_j))² Σ_i W_ij²

The penalty's gradient (``npae.regularizers.Contractive``) has two parts: one at the code h,
added to the decoder's before the encoder's backward, and a direct one for W (through
Σ_i W_ij²), added straight into W.grad.
"""
from ..io import register_model
from ..layers import Dense, Sigmoid
from ..regularizers import Contractive
from ..sequential import Sequential
from .autoencoder import Autoencoder


@register_model
class ContractiveAutoencoder(Autoencoder):
    """An ``Autoencoder`` with the contractive penalty, weight ``contractive_weight`` (λ).

    The encoder must be a single sigmoid layer, h = s(x W + b): ``layer_sizes=[D, H]`` with
    the default sigmoid activation, or ``encoder=Sequential(Dense(D, H), Sigmoid())``.
    Deeper encoders raise a ValueError (their Jacobian has no cheap closed form here).
    The decoder may be anything. The history records the unweighted ‖J‖²_F as "contractive".
    """

    _keep_weights_on = Autoencoder._keep_weights_on | {"contractive_weight"}

    def __init__(self, encoder=None, decoder=None, reconstruction_loss="bce", *,
                 contractive_weight=0.1, **kwargs):
        self.contractive_weight = contractive_weight
        super().__init__(encoder, decoder, reconstruction_loss, **kwargs)

    def _build(self):
        super()._build()
        e = self.encoder_
        if not (isinstance(e, Sequential) and len(e) == 2 and isinstance(e[0], Dense)
                and type(e[1]) is Sigmoid):
            raise ValueError(f"{type(self).__name__}: the closed-form contractive penalty needs "
                             "a one-layer sigmoid encoder h = sigmoid(x W + b) (layer_sizes=[D, H] "
                             "with activation='sigmoid', or Sequential(Dense, Sigmoid)); "
                             f"got {e!r}")
        self.penalty_ = Contractive()

    def _penalties(self, x, z):
        value = self.penalty_.forward(z, self.encoder_[0].W.value)
        return {"contractive": (self.contractive_weight, value)}

    def _penalties_backward(self, dz):
        weight = dz.dtype.type(self.contractive_weight)
        dh, dW = self.penalty_.backward()
        self.encoder_[0].W.grad += weight * dW      # the direct path, through Σ_i W_ij²
        return dz + weight * dh

    def jacobian_norm(self, X):
        """‖J_f(x)‖_F for each example of X (N, D), shape (N,)."""
        return self.penalty_.jacobian_norm(self.transform(X), self.encoder_[0].W.value)
