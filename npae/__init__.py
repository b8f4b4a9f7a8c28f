"""npae: autoencoders from scratch in NumPy, every backward pass written by hand."""
from . import (checkpoint, corruption, datasets, gaussian, gradcheck, io, kernels, losses, metrics,  # noqa: F401
               optim, plotting, regularizers, training)
from .checkpoint import Checkpoint
from .datasets import Dataset
from .errors import (DataFileError, DomainError, DomainWarning, DTypeError, KinkWarning, ModelFileError,
                     NonFiniteError, ShapeError)
from .io import load, save
from .kernels import get_backend, set_backend
from .layers import (AvgPool2D, Conv2D, ConvTranspose2D, Dense, Flatten, Identity, Layer, LeakyReLU,
                     MaxPool2D, ReLU, Reshape, Sigmoid, Softplus, Tanh, TiedDense, Upsample2D)
from .losses import BCE, MSE, BCEWithLogits, GaussianNLL, Loss
from .models import (VAE, Autoencoder, ContractiveAutoencoder, ConvAutoencoder, ConvVAE,
                     DenoisingAutoencoder, KSparseAutoencoder, SparseAutoencoder)
from .optim import SGD, Adam
from .parameter import Parameter
from .sequential import Sequential
from .training import Callback, EarlyStopping, History

__version__ = "0.1.0"

__all__ = [
    "Parameter", "Layer", "Dense", "TiedDense", "Sigmoid", "ReLU", "LeakyReLU", "Tanh", "Softplus",
    "Identity", "Flatten", "Reshape", "Sequential",
    "Conv2D", "ConvTranspose2D", "MaxPool2D", "AvgPool2D", "Upsample2D",
    "Loss", "MSE", "BCE", "BCEWithLogits", "GaussianNLL",
    "SGD", "Adam", "set_backend", "get_backend",
    "Autoencoder", "DenoisingAutoencoder", "SparseAutoencoder", "KSparseAutoencoder",
    "ContractiveAutoencoder", "ConvAutoencoder", "VAE", "ConvVAE", "History", "Checkpoint", "Callback", "EarlyStopping", "load", "save", "Dataset",
    "ShapeError", "DTypeError", "NonFiniteError", "DomainError", "DomainWarning", "KinkWarning",
    "DataFileError", "ModelFileError",
]
