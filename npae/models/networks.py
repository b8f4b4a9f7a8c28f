"""Building blocks of the models: the mirrored dense encoder/decoder, and the per-example
input shape a network expects (for error messages that name the argument)."""
import numpy as np

from ..layers import Dense, Identity, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh, TiedDense
from ..losses import MSE, BCEWithLogits
from ..sequential import Sequential

ACTIVATIONS = {"sigmoid": Sigmoid, "relu": ReLU, "leaky_relu": LeakyReLU, "tanh": Tanh,
               "softplus": Softplus, "identity": Identity}
#: loss name -> Loss class; the decoder's last layer is linear, so "bce" gets logits.
LOSSES = {"bce": BCEWithLogits, "mse": MSE}


def dense_encoder_decoder(layer_sizes, activation="sigmoid", code_activation=None, tied=False,
                          rng=None, dtype=np.float32):
    """Mirrored dense networks for layer_sizes = [D, h_1, ..., h_L]  (h_L = n_latent):

        encoder  x (N, D) → Dense → act → ... → Dense → code_act → z (N, h_L)
        decoder  z → Dense → act → ... → Dense → x̂ (N, D)     (linear output: logits/values)

    ``code_activation`` defaults to ``activation``; "identity" leaves the code linear.
    ``tied=True``: every decoder layer is a ``TiedDense`` of its mirror encoder layer
    (W' = Wᵀ, own bias). He init for ReLU-like activations, Glorot otherwise.
    """
    sizes = [int(s) for s in layer_sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"layer_sizes must be [n_features, ..., n_latent] with at least two "
                         f"positive sizes, got {layer_sizes}")
    code_activation = activation if code_activation is None else code_activation
    for name in (activation, code_activation):
        if name not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {name!r}")
    rng = np.random.default_rng(rng)
    init = "he" if activation in ("relu", "leaky_relu") else "glorot"
    dense = [Dense(a, b, init=init, rng=rng, dtype=dtype) for a, b in zip(sizes[:-1], sizes[1:])]
    encoder = []
    for i, layer in enumerate(dense):
        name = code_activation if i == len(dense) - 1 else activation
        encoder += [layer] + ([ACTIVATIONS[name]()] if name != "identity" else [])
    decoder = []
    for i, layer in enumerate(reversed(dense)):
        mirror = TiedDense(layer) if tied else Dense(layer.out_features, layer.in_features,
                                                     init=init, rng=rng, dtype=dtype)
        hidden = i < len(dense) - 1 and activation != "identity"   # the output stays linear
        decoder += [mirror] + ([ACTIVATIONS[activation]()] if hidden else [])
    return Sequential(encoder), Sequential(decoder)


def example_shape_of(*parts):
    """The per-example input shape the first layer of ``parts`` fixes, or None if any will do.

    Element-wise layers (the activations) take any shape and pass it on, so the search goes
    on through them: a Dense needs (in_features,), a TiedDense (W.shape[1],), a layer that
    declares ``input_shape`` that shape. Any other layer (Flatten, Reshape, a convolution
    without ``input_shape``) takes many shapes: None.
    """
    for layer in (leaf for part in parts for leaf in _leaf_layers(part)):
        if isinstance(layer, tuple(ACTIVATIONS.values())):
            continue
        if isinstance(layer, Dense):
            return (layer.in_features,)
        if isinstance(layer, TiedDense):
            return (layer.W.shape[1],)
        shape = getattr(layer, "input_shape", None)
        return None if shape is None else tuple(int(s) for s in shape)
    return None


def _leaf_layers(part):
    """The layers of ``part`` in order, Sequentials (nested ones too) opened."""
    if not isinstance(part, Sequential):
        return [part]
    return [leaf for layer in part.layers for leaf in _leaf_layers(layer)]
