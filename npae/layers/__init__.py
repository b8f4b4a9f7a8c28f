"""Layers: one small file per family."""
from .activations import Identity, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh
from .base import Layer
from .dense import Dense, TiedDense
from .reshape import Flatten, Reshape

__all__ = ["Layer", "Dense", "TiedDense", "Sigmoid", "ReLU", "LeakyReLU", "Tanh", "Softplus",
           "Identity", "Flatten", "Reshape"]
