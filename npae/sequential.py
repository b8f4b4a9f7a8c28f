"""Sequential: layers applied in order; backward runs them in reverse."""
from .layers.base import Layer


def unique_parameters(named):
    """Drop repeated Parameters (a tied W appears twice) keeping the first name."""
    seen, out = set(), []
    for name, p in named:
        if id(p) not in seen:
            seen.add(id(p))
            out.append((name, p))
    return out


def skip_input_gradient(layer):
    """Tell the first layer of ``layer`` (through nested Sequentials) not to compute dL/dx.

    For a model's encoder, whose input is the data: the gradient with respect to the data
    is never used, and for Dense/Conv2D it costs a whole matrix product.
    """
    while isinstance(layer, Sequential):
        layer = layer.layers[0]
    layer.input_grad = False


class Sequential(Layer):
    """y = f_L(... f_2(f_1(x))).

    Backward applies the chain rule from the last layer to the first:
    dL/dx = J_1ᵀ (J_2ᵀ (... J_Lᵀ dy)). Each layer adds its parameter gradients.
    """

    def __init__(self, *layers):
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"Sequential: item {i} is a {type(layer).__name__}, not a Layer")
        if not layers:
            raise ValueError("Sequential needs at least one layer")
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        self._ran_forward = True
        return x

    def backward(self, dy):
        if not getattr(self, "_ran_forward", False):
            raise RuntimeError("Sequential.backward() called before forward()")
        for layer in reversed(self.layers):
            dy = layer.backward(dy)
            if dy is None:              # an earlier layer opted out of dL/dx (input_grad)
                return None
        return dy

    def named_parameters(self):
        """Names are 'index.name' ("0.W"); a shared Parameter is listed once."""
        return unique_parameters((f"{i}.{name}", p) for i, layer in enumerate(self.layers)
                                 for name, p in layer.named_parameters())

    def kink_distance(self):
        return min(layer.kink_distance() for layer in self.layers)

    def __getitem__(self, i):
        return self.layers[i]

    def __len__(self):
        return len(self.layers)

    def __repr__(self):
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Sequential(\n  {inner}\n)"
