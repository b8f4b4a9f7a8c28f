"""Models: the autoencoder family. Each class is registered for ``npae.load``."""
from .autoencoder import Autoencoder, dense_encoder_decoder
from .contractive import ContractiveAutoencoder
from .denoising import DenoisingAutoencoder
from .ksparse import KSparseAutoencoder
from .sparse import SparseAutoencoder

__all__ = ["Autoencoder", "DenoisingAutoencoder", "SparseAutoencoder", "KSparseAutoencoder",
           "ContractiveAutoencoder", "dense_encoder_decoder"]
