"""npae: autoencoders from scratch in NumPy, every backward pass written by hand."""
from . import gradcheck, kernels, losses, optim  # noqa: F401
from .errors import DomainError, DomainWarning, DTypeError, KinkWarning, NonFiniteError, ShapeError
from .kernels import get_backend, set_backend
from .layers import (Dense, Flatten, Identity, Layer, LeakyReLU, ReLU, Reshape, Sigmoid, Softplus,
                     Tanh, TiedDense)
from .losses import BCE, MSE, BCEWithLogits, GaussianNLL, Loss
from .optim import SGD, Adam
from .parameter import Parameter
from .sequential import Sequential

__version__ = "0.1.0"

__all__ = [
    "Parameter", "Layer", "Dense", "TiedDense", "Sigmoid", "ReLU", "LeakyReLU", "Tanh", "Softplus",
    "Identity", "Flatten", "Reshape", "Sequential",
    "Loss", "MSE", "BCE", "BCEWithLogits", "GaussianNLL",
    "SGD", "Adam", "set_backend", "get_backend",
    "ShapeError", "DTypeError", "NonFiniteError", "DomainError", "DomainWarning", "KinkWarning",
]
