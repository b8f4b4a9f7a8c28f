"""Models: the autoencoder family and the VAEs. Each class is registered for ``npae.load``."""
from .autoencoder import Autoencoder
from .contractive import ContractiveAutoencoder
from .conv import ConvAutoencoder, conv_encoder_decoder
from .conv_vae import ConvVAE
from .denoising import DenoisingAutoencoder
from .ksparse import KSparseAutoencoder
from .networks import dense_encoder_decoder, example_shape_of
from .sparse import SparseAutoencoder
from .vae import VAE

__all__ = ["Autoencoder", "DenoisingAutoencoder", "SparseAutoencoder", "KSparseAutoencoder",
           "ContractiveAutoencoder", "ConvAutoencoder", "VAE", "ConvVAE", "dense_encoder_decoder", "conv_encoder_decoder",
           "example_shape_of"]
