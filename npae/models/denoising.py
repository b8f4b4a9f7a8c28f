"""Denoising autoencoder (Vincent et al. 2008): reconstruct the clean x from a corrupted x̃.

    x̃ ~ q(x̃ | x)         corruption: "masking", "gaussian" or "salt_and_pepper" (npae.corruption)
    z = f(x̃),  x̂ = g(z)
    L = (1/N) Σ_n ℓ(x̂_n, x_n)        against the *clean* input

Nothing new to differentiate: the corruption does not depend on the weights, so backward is
the plain autoencoder's. Corruption happens only in training (``loss``/``fit``);
``transform``, ``reconstruct`` and ``score`` see clean input.
"""
from ..corruption import CORRUPTIONS, corrupt
from ..io import register_model
from .autoencoder import Autoencoder


@register_model
class DenoisingAutoencoder(Autoencoder):
    """An ``Autoencoder`` trained on corrupted input.

    corruption        "masking" (a fraction ν of each example's values set to 0),
                      "gaussian" (x + σ ε) or "salt_and_pepper" (ν set to 0 or 1 by coin flips).
    corruption_level  ν for masking and salt-and-pepper (default 0.3), σ for Gaussian noise.

    ``loss(x, rng, mask=...)`` (or ``noise=...``, ``salt=...``) takes the corruption's
    explicit arrays, which makes it deterministic (gradient checks). Other arguments:
    see ``Autoencoder``.
    """

    def __init__(self, encoder=None, decoder=None, reconstruction_loss="bce", *,
                 corruption="masking", corruption_level=0.3, **kwargs):
        if corruption not in CORRUPTIONS:
            raise ValueError(f"DenoisingAutoencoder: corruption must be one of "
                             f"{sorted(CORRUPTIONS)}, got {corruption!r}")
        self.corruption, self.corruption_level = corruption, corruption_level
        super().__init__(encoder, decoder, reconstruction_loss, **kwargs)

    _keep_weights_on = Autoencoder._keep_weights_on | {"corruption", "corruption_level"}

    def _corrupt(self, x, rng, **noise):
        return corrupt(x, self.corruption, self.corruption_level, rng=rng, **noise)
