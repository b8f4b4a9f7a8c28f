"""The convolutional VAE: ``conv_encoder_decoder``'s networks with the VAE's Gaussian heads.

    encoder body  x (N, C, H, W) → [Conv2D(k, stride 2) → act] × L → Flatten → h (N, F)
    heads         μ, log σ² = Dense(F → d)(h)                     (the VAE's, unchanged)
    decoder       z → Dense(d → F) → act → Reshape → [ConvTranspose2D(k, stride 2) → act] × L
                  → logits (or means) of shape (N, C, H, W)

Nothing new to differentiate: the conv layers bring their own backward, the VAE its
reparameterization and KL. E.g. 1×28×28 → 16×14×14 → 32×7×7 → F = 1568 → d = 32 and back.
"""
import numpy as np

from ..io import register_model
from .conv import conv_encoder_decoder
from .vae import VAE, gaussian_body


@register_model
class ConvVAE(VAE):
    """A VAE for images (N, C, H, W) with a convolutional encoder and decoder.

        ConvVAE(input_shape=(1, 28, 28), channels=(16, 32), n_latent=32)

    input_shape, channels, kernel_size   as in ``ConvAutoencoder``: one stride-2 convolution
                    per entry of ``channels`` (padding kernel_size // 2), mirrored by
                    transposed convolutions. A learned decoder variance (``learn_variance``)
                    has one log σ² per pixel, shape ``input_shape``.
    Other arguments (reconstruction_loss, beta, warm-up, capacity, n_samples, ...): see ``VAE``.
    """

    def __init__(self, input_shape=(1, 28, 28), channels=(16, 32), n_latent=32, kernel_size=3,
                 *, reconstruction_loss="bce", **kwargs):
        self.channels, self.kernel_size = channels, kernel_size
        super().__init__(reconstruction_loss=reconstruction_loss, n_latent=n_latent,
                         input_shape=input_shape, **kwargs)

    def _gaussian_networks(self, who):
        if self.encoder is not None or self.decoder is not None or self.layer_sizes is not None:
            raise ValueError(f"{who} builds its own layers from input_shape, channels and n_latent; "
                             "to use your own, pass them to VAE(encoder, decoder, ...)")
        dtype = np.dtype(self.dtype or np.float32)
        encoder, decoder = conv_encoder_decoder(
            self.input_shape, self.channels, int(self.n_latent), self.kernel_size,
            self.activation, "identity", self.rng_, dtype)
        features = encoder.layers[-1].in_features    # the code Dense's input: the heads' input
        return gaussian_body(encoder), decoder, int(self.n_latent), features, tuple(self.input_shape), dtype
