"""The convolutional autoencoder: strided convolutions down to a dense code, transposed
convolutions back up (Masci et al. 2011 use convolutional encoders and decoders; the
strided/transposed form follows Springenberg et al. 2015 and Dumoulin & Visin 2016).

    encoder  x (N, C, H, W) → [Conv2D(k, stride 2) → act] × L → Flatten → Dense → z (N, n_latent)
    decoder  z → Dense → act → Reshape → [ConvTranspose2D(k, stride 2) → act] × L → x̂ logits

It is an ``Autoencoder`` whose encoder and decoder are built from convolutional layers:
the loss, backward, fit, transform and reconstruct are the Autoencoder's, unchanged.
"""
import numpy as np

from ..corruption import CORRUPTIONS, corrupt
from ..io import register_model
from ..layers import Conv2D, ConvTranspose2D, Dense, Flatten, Reshape
from ..sequential import Sequential
from .autoencoder import Autoencoder
from .networks import ACTIVATIONS


def conv_encoder_decoder(input_shape=(1, 28, 28), channels=(16, 32), n_latent=32, kernel_size=3,
                         activation="relu", code_activation="identity", rng=None,
                         dtype=np.float32):
    """Mirrored convolutional networks for images of ``input_shape`` = (C, H, W).

    Each entry of ``channels`` adds one Conv2D(kernel_size, stride 2, padding kernel_size // 2)
    to the encoder, halving H and W (rounding up); the decoder mirrors it with
    ConvTranspose2D layers whose output_padding restores the exact sizes, e.g.
    1×28×28 → 16×14×14 → 32×7×7 → 32 → 32×7×7 → 16×14×14 → 1×28×28.
    The decoder's last layer is linear (logits for BCE). He init for ReLU-like activations.
    """
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"input_shape must be (C, H, W) with positive sizes, got {input_shape}")
    channels = [int(c) for c in channels]
    if not channels or min(channels) < 1 or n_latent < 1:
        raise ValueError(f"channels must be a non-empty list of positive counts and n_latent "
                         f">= 1, got channels={channels}, n_latent={n_latent}")
    for name in (activation, code_activation):
        if name not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {name!r}")
    rng = np.random.default_rng(rng)
    init = "he" if activation in ("relu", "leaky_relu") else "glorot"
    k, padding = kernel_size, kernel_size // 2

    def act(name=activation):
        return [ACTIVATIONS[name]()] if name != "identity" else []

    encoder, shapes = [], [shape]               # shapes[i]: (C, H, W) entering conv i
    for c_out in channels:
        conv = Conv2D(shapes[-1][0], c_out, k, stride=2, padding=padding, init=init, rng=rng,
                      dtype=dtype)
        encoder += [conv] + act()
        shapes.append(conv.output_shape((1,) + shapes[-1])[1:])
    flat = int(np.prod(shapes[-1]))
    encoder += [Flatten(), Dense(flat, n_latent, init=init, rng=rng, dtype=dtype)] + act(code_activation)

    decoder = [Dense(n_latent, flat, init=init, rng=rng, dtype=dtype)] + act() + [Reshape(shapes[-1])]
    for i in range(len(channels), 0, -1):
        (c_in, h_in, w_in), (c_out, h_out, w_out) = shapes[i], shapes[i - 1]
        # (h_in − 1)·2 − 2p + k + output_padding = h_out  picks the output_padding
        output_padding = (h_out - ((h_in - 1) * 2 - 2 * padding + k),
                          w_out - ((w_in - 1) * 2 - 2 * padding + k))
        decoder.append(ConvTranspose2D(c_in, c_out, k, stride=2, padding=padding,
                                       output_padding=output_padding, init=init, rng=rng,
                                       dtype=dtype))
        decoder += act() if i > 1 else []       # the last layer stays linear: logits
    return Sequential(encoder), Sequential(decoder)


@register_model
class ConvAutoencoder(Autoencoder):
    """A convolutional autoencoder for images (N, C, H, W), built by ``conv_encoder_decoder``.

        ConvAutoencoder(input_shape=(1, 28, 28), channels=(16, 32), n_latent=32)

    input_shape        (C, H, W) of one image; X must be (N, C, H, W) (``datasets.load(...,
                       flat=False)``, or ``X.reshape(-1, C, H, W)``)
    channels           output channels of the stride-2 convolutions, one per halving
    n_latent           size of the dense code
    kernel_size        side of every (square) kernel, odd is natural (padding kernel_size // 2)
    activation         after every hidden layer (default "relu"); ``code_activation`` on the code
                       (default "identity": a linear code)
    corruption         None (plain), or "masking" / "gaussian" / "salt_and_pepper" to train as a
                       denoising autoencoder at ``corruption_level`` (see npae.corruption;
                       ``loss(x, mask=...)`` etc. take explicit noise)

    Other arguments (reconstruction_loss "bce"/"mse", epochs, batch_size, learning_rate,
    seed, dtype, verbose): see ``Autoencoder``. To combine your own convolutional layers
    with any variant, pass them directly, e.g. ``SparseAutoencoder(encoder, decoder)``.
    """

    _keep_weights_on = Autoencoder._keep_weights_on | {"corruption", "corruption_level"}

    def __init__(self, input_shape=(1, 28, 28), channels=(16, 32), n_latent=32, kernel_size=3,
                 *, activation="relu", code_activation="identity", corruption=None,
                 corruption_level=0.3, reconstruction_loss="bce", **kwargs):
        if corruption is not None and corruption not in CORRUPTIONS:
            raise ValueError(f"ConvAutoencoder: corruption must be None or one of "
                             f"{sorted(CORRUPTIONS)}, got {corruption!r}")
        self.input_shape, self.channels = input_shape, channels
        self.n_latent, self.kernel_size = n_latent, kernel_size
        self.corruption, self.corruption_level = corruption, corruption_level
        super().__init__(reconstruction_loss=reconstruction_loss, activation=activation,
                         code_activation=code_activation, **kwargs)

    def _networks(self):
        if self.encoder is not None or self.decoder is not None or self.layer_sizes is not None:
            raise ValueError("ConvAutoencoder builds its own encoder and decoder from input_shape, "
                             "channels and n_latent; to use your own layers, pass them to "
                             "Autoencoder(encoder, decoder)")
        return conv_encoder_decoder(self.input_shape, self.channels, self.n_latent, self.kernel_size,
                                    self.activation, self.code_activation, self.rng_,
                                    np.dtype(self.dtype or np.float32))

    def _corrupt(self, x, rng, **noise):
        if self.corruption is None:
            return super()._corrupt(x, rng, **noise)
        return corrupt(x, self.corruption, self.corruption_level, rng=rng, **noise)
