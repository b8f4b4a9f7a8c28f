"""Layers: one small file per family."""
from .activations import Identity, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh
from .base import Layer
from .conv import Conv2D, ConvTranspose2D
from .dense import Dense, TiedDense
from .pooling import AvgPool2D, MaxPool2D
from .reshape import Flatten, Reshape
from .upsample import Upsample2D

__all__ = ["Layer", "Dense", "TiedDense", "Sigmoid", "ReLU", "LeakyReLU", "Tanh", "Softplus",
           "Identity", "Flatten", "Reshape",
           "Conv2D", "ConvTranspose2D", "MaxPool2D", "AvgPool2D", "Upsample2D"]
