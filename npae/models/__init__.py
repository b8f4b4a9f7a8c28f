"""Models: the autoencoder family. Each class is registered for ``npae.load``."""
from .autoencoder import Autoencoder, dense_encoder_decoder
from .contractive import ContractiveAutoencoder
from .conv import ConvAutoencoder, conv_encoder_decoder
from .denoising import DenoisingAutoencoder
from .ksparse import KSparseAutoencoder
from .sparse import SparseAutoencoder

__all__ = ["Autoencoder", "DenoisingAutoencoder", "SparseAutoencoder", "KSparseAutoencoder",
           "ContractiveAutoencoder", "ConvAutoencoder", "dense_encoder_decoder", "conv_encoder_decoder"]
