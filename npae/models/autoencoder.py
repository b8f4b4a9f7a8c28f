"""The autoencoder: an encoder, a decoder and a reconstruction loss.

    code            z = f(x)                     (the encoder: any npae Layer)
    reconstruction  x̂ = g(z)                    (the decoder; outputs logits for "bce")
    loss            L = (1/N) Σ_n ℓ(x̂_n, x_n) (+ Σ weight · penalty in the variants)

Backward is the chain of the parts: the loss's gradient runs back through the decoder to
dL/dz, the variants add their penalty's gradient there, and the encoder takes it from there.
The variants (denoising, sparse, k-sparse, contractive) override only the hooks they need:
``_corrupt`` (the input), ``_encode_train``/``_encode_backward`` (the code), ``_penalties``/
``_penalties_backward`` (regularizers).
"""
import inspect

import numpy as np

from .. import kernels as K
from .._checks import FLOAT_DTYPES, check_finite, check_float_array, nonfinite_error, shape_str
from ..errors import DTypeError, ShapeError
from ..io import register_model
from ..layers import Layer
from ..losses import BCEWithLogits, Loss
from ..sequential import skip_input_gradient, unique_parameters
from .networks import LOSSES, dense_encoder_decoder, example_shape_of

@register_model
class Autoencoder:
    """An autoencoder trained to reconstruct its input.

    Two ways to build one:

        Autoencoder(layer_sizes=[784, 256, 32], activation="relu", reconstruction_loss="bce")
        Autoencoder(encoder, decoder, MSE())       # any npae Layers (e.g. Sequential)

    reconstruction_loss  "bce" (data in [0, 1]: the decoder outputs logits, BCEWithLogits;
                    ``reconstruct`` applies the sigmoid), "mse" (real-valued data: linear
                    output, squared error), or a Loss instance.
    layer_sizes     [n_features, hidden..., n_latent] for mirrored dense networks
                    (``dense_encoder_decoder``); ``activation`` after each hidden layer,
                    ``code_activation`` (default ``activation``) on the code.
    tied            decoder weights W' = Wᵀ (the encoder's Parameters, used twice).
    epochs, batch_size, learning_rate   defaults for ``fit`` (Adam).
    seed            int, None or Generator: initial weights, then ``fit``'s shuffling/noise.
    dtype           "float32" (default for layer_sizes models) or "float64"; models built
                    from layers take their dtype from the layers' Parameters.

    scikit-learn conventions: ``fit(X)`` (continues from the current weights), ``transform``
    (the code), ``inverse_transform``, ``fit_transform``, ``reconstruct``, ``score`` (minus
    the reconstruction loss), ``get_params``/``set_params`` (constructor arguments).
    Built parts: ``encoder_``, ``decoder_`` (Layers), ``reconstruction_loss_`` (a Loss).

    Writing a variant: subclass, store your own arguments, pass the rest on with ``**kwargs``
    (``get_params`` then lists both; a constructor without ``**kwargs`` lists all its
    arguments itself). Override only the hooks you need: ``_networks`` (build your own
    layers), ``_corrupt``, ``_encode_train``/``_encode_backward``/``_encode_eval``,
    ``_penalties``/``_penalties_backward``. Name arguments read at use time in
    ``_keep_weights_on``, and decorate the class with ``@register_model`` for ``npae.load``.
    """

    #: arguments read when used, so set_params need not rebuild (keeps the weights)
    _keep_weights_on = frozenset({"epochs", "batch_size", "learning_rate", "verbose"})

    def __init__(self, encoder=None, decoder=None, reconstruction_loss="bce", *, layer_sizes=None,
                 activation="sigmoid", code_activation=None, tied=False, epochs=10,
                 batch_size=64, learning_rate=1e-3, seed=None, dtype=None, verbose=1):
        self.encoder, self.decoder, self.reconstruction_loss = encoder, decoder, reconstruction_loss
        self.layer_sizes, self.activation, self.tied = layer_sizes, activation, tied
        self.code_activation = code_activation
        self.epochs, self.batch_size, self.learning_rate = epochs, batch_size, learning_rate
        self.seed, self.dtype, self.verbose = seed, dtype, verbose
        self._build()

    # --- building -------------------------------------------------------------------------
    def _build(self):
        who = type(self).__name__
        self.rng_ = np.random.default_rng(self.seed)
        self.encoder_, self.decoder_ = self._networks()
        if self.encoder is None:                # our own layers (not the user's): dL/dx of the
            skip_input_gradient(self.encoder_)  # data is never used, so skip its GEMM
        self.reconstruction_loss_ = _make_loss(self.reconstruction_loss, who)
        params = self.parameters()
        if not params:
            raise ValueError(f"{who}: the encoder and decoder have no Parameters to train")
        self.dtype_ = params[0].dtype
        if self.dtype is not None and np.dtype(self.dtype) != self.dtype_:
            raise DTypeError(f"{who}: dtype={np.dtype(self.dtype).name} but the layers' "
                             f"Parameters are {self.dtype_}")
        self.training_step, self.training_epoch = 0, 0
        self.components, self.loss_weights = {}, {}
        self.optimizer_, self.history_ = None, None

    def _networks(self):
        """(encoder, decoder): built from layer_sizes, or the Layers given. A subclass that
        builds its own networks from its own arguments (a conv autoencoder) overrides this;
        it may use ``self.rng_`` for the initial weights."""
        who = type(self).__name__
        if self.encoder is None and self.decoder is None:
            if self.layer_sizes is None:
                raise ValueError(f"{who}: give layer_sizes=[n_features, ..., n_latent], "
                                 "or an encoder and a decoder")
            dtype = np.dtype(self.dtype or np.float32)
            if dtype not in FLOAT_DTYPES:
                raise DTypeError(f"{who}: dtype must be float32 or float64, got {dtype}")
            return dense_encoder_decoder(self.layer_sizes, self.activation,
                                         self.code_activation, self.tied, self.rng_, dtype)
        if self.encoder is None or self.decoder is None or self.layer_sizes is not None:
            raise ValueError(f"{who}: give both an encoder and a decoder (and no layer_sizes), "
                             "or layer_sizes alone")
        for part in (self.encoder, self.decoder):
            if not isinstance(part, Layer):
                raise TypeError(f"{who}: encoder and decoder must be npae Layers, "
                                f"got {type(part).__name__}")
        if self.tied:
            raise ValueError(f"{who}: tied=True builds tied layer_sizes models; tie your own "
                             "layers with TiedDense(encoder_dense)")
        return self.encoder, self.decoder

    # --- the model protocol (training mode) --------------------------------------------------
    def loss(self, x, rng=None, **noise):
        """Total training loss of the batch x (N, ...): reconstruction + Σ weight · penalty.

        Training mode: the variants corrupt the input / sparsify the code here. Random draws
        come from the explicit ``noise`` arrays, else ``rng``, else the model's own generator.
        Sets ``components`` (unweighted values), ``loss_weights`` and ``last_code`` (the code
        the decoder saw).
        """
        x = self._check_x(x)
        x_in = self._corrupt(x, rng if rng is not None else self.rng_, **noise)
        z = self._encode_train(x_in)
        output = self.decoder_.forward(z)
        reconstruction = self.reconstruction_loss_.forward(output, x)   # against the clean x
        penalties = self._penalties(x_in, z)
        self.last_code = z
        self.components = {"reconstruction": reconstruction,
                           **{name: value for name, (_, value) in penalties.items()}}
        self.loss_weights = {"reconstruction": 1.0,
                             **{name: weight for name, (weight, _) in penalties.items()}}
        return reconstruction + sum(weight * value for weight, value in penalties.values())

    def backward(self):
        """Add d(total loss)/d(param) into every Parameter's grad (after ``loss``)."""
        dz = self.decoder_.backward(self.reconstruction_loss_.backward())
        dz = self._penalties_backward(dz)
        self._encode_backward(dz)

    def named_parameters(self):
        """[("encoder.0.W", Parameter), ...]; a tied W is listed once, under the encoder."""
        return unique_parameters(
            [(f"encoder.{n}", p) for n, p in self.encoder_.named_parameters()]
            + [(f"decoder.{n}", p) for n, p in self.decoder_.named_parameters()])

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.zero_grad()

    def kink_distance(self):
        return min(part.kink_distance() for part in (self.encoder_, self.decoder_))

    # --- hooks the variants override --------------------------------------------------------
    def _corrupt(self, x, rng, **noise):
        if noise:
            raise TypeError(f"{type(self).__name__}.loss: unexpected noise arrays {sorted(noise)} "
                            "(this model draws no random numbers)")
        return x

    def _encode_train(self, x):
        return self.encoder_.forward(x)

    def _encode_backward(self, dz):
        return self.encoder_.backward(dz)

    def _encode_eval(self, x):
        return self.encoder_.forward(x)

    def _penalties(self, x, z):
        """{name: (weight, value)} of the regularizers on the code z (none here)."""
        return {}

    def _penalties_backward(self, dz):
        """Return dz plus the penalties' weighted gradients at z (and add any direct
        parameter gradients, e.g. the contractive penalty's dW)."""
        return dz

    # --- evaluation mode: clean input, no sampling --------------------------------------------
    def transform(self, X):
        """The code z = f(X): (N, n_features...) → (N, n_latent), in the model's dtype."""
        return self._encode_eval(self._check_x(X))

    def inverse_transform(self, Z):
        """Decode codes Z (N, n_latent) into reconstructions x̂ (probabilities for "bce")."""
        return self._output(self.decoder_.forward(self._check_x(Z, "Z")))

    def reconstruct(self, X):
        """x̂ = g(f(X)) on clean input."""
        return self.inverse_transform(self.transform(X))

    def score(self, X, y=None):
        """Minus the mean reconstruction loss of clean X (higher is better, as in sklearn)."""
        X = self._check_x(X)
        output = self.decoder_.forward(self._encode_eval(X))
        return -self.reconstruction_loss_.forward(output, X)

    def _output(self, output):
        """Decoder output → data space: the sigmoid of logits for BCEWithLogits. Non-finite
        outputs (from a user's layer that does not check) raise instead of passing on."""
        if not isinstance(self.reconstruction_loss_, BCEWithLogits):
            return check_finite(output, type(self).__name__, "the decoder's output")
        output = np.ascontiguousarray(output)
        probabilities = np.empty_like(output)
        if not K.elementwise.sigmoid(output.reshape(-1), probabilities.reshape(-1)):
            raise nonfinite_error(output, type(self).__name__, "the decoder's output (logits)")
        return probabilities

    def _check_x(self, x, name="X"):
        """x must be a finite float batch of the model's dtype, shaped as ``_example_shape``
        says; errors name the argument (X, Z, validation_data)."""
        who = type(self).__name__
        check_float_array(x, who, name, dtype=self.dtype_)
        if x.ndim < 2 or x.size == 0:
            raise ShapeError(f"{who}: {name} must be a non-empty batch of shape (N, ...), "
                             f"got {x.shape}")
        expected = self._example_shape(name)
        if expected is not None and x.shape[1:] != expected:
            what = "codes" if name == "Z" else "examples"
            hint = ""
            if len(expected) > 1:       # images: the usual mistake is flat data
                hint = (f"; load with flat=False or reshape with "
                        f"{name}.reshape(-1, {', '.join(map(str, expected))})")
            raise ShapeError(f"{who}: {name} must be {what} of shape "
                             f"{shape_str((None,) + expected)}, got {x.shape}{hint}")
        return check_finite(x, who, name)

    def _example_shape(self, name):
        """Per-example shape of Z (the decoder's input) or of X (the encoder's): a model's
        own ``input_shape`` if it has one (the conv models), else read off the layers."""
        if name != "Z" and getattr(self, "input_shape", None) is not None:
            return tuple(int(s) for s in self.input_shape)
        return example_shape_of(self.decoder_ if name == "Z" else self.encoder_)

    # --- training -----------------------------------------------------------------------------
    def fit(self, X, y=None, *, epochs=None, batch_size=None, validation_data=None, shuffle=True,
            seed=None, callbacks=None, optimizer=None, verbose=None, checkpoint_every=None,
            checkpoint_path=None, resume=False):
        """Train on X (N, ...) from the current weights; ``y`` is ignored (sklearn). Returns self;
        the ``History`` is in ``history_``. Unset arguments use the constructor's values; the
        default optimizer is Adam(learning_rate), kept between calls. ``seed`` (default: the
        model's generator) drives shuffling and noise. As in ``npae.training.fit``:

        checkpoint_every, checkpoint_path   save the run there every ``checkpoint_every``
                        epochs (default 1) and at the end; ``resume=True`` continues the run
                        saved there (weights, optimizer, generator, history), or starts it."""
        from ..training import fit as train_loop
        self._check_x(X)     # before training, naming X (validation_data: checked against X)
        if optimizer is None:
            if self.optimizer_ is None:
                from ..optim import Adam
                self.optimizer_ = Adam(self.parameters(), lr=self.learning_rate)
            self.optimizer_.lr = float(self.learning_rate)
            optimizer = self.optimizer_
        self.history_ = train_loop(
            self, X, epochs=self.epochs if epochs is None else epochs,
            batch_size=self.batch_size if batch_size is None else batch_size,
            validation_data=validation_data, shuffle=shuffle,
            seed=self.rng_ if seed is None else seed, callbacks=callbacks, optimizer=optimizer,
            verbose=self.verbose if verbose is None else verbose,
            checkpoint_every=checkpoint_every, checkpoint_path=checkpoint_path, resume=resume)
        return self

    def fit_transform(self, X, y=None, **fit_params):
        return self.fit(X, **fit_params).transform(X)

    def save(self, path):
        """Write the model to one .npz file (see ``npae.io``); ``npae.load(path)`` reads it."""
        from ..io import save
        return save(self, path)

    # --- scikit-learn parameters --------------------------------------------------------------
    @classmethod
    def _signature(cls):
        """{constructor argument: default}. A constructor that ends in ``**kwargs`` passes
        them to its parent, so the parent's arguments are collected too (a subclass's
        default wins); one without ``**kwargs`` lists all of its arguments itself."""
        defaults = {}
        for klass in cls.__mro__:
            if not (issubclass(klass, Autoencoder) and "__init__" in vars(klass)):
                continue
            forwards = False
            for p in inspect.signature(klass.__init__).parameters.values():
                if p.kind == p.VAR_KEYWORD:
                    forwards = True
                elif p.name != "self" and p.kind != p.VAR_POSITIONAL:
                    defaults.setdefault(p.name, p.default)
            if not forwards:
                break
        return defaults

    def get_params(self, deep=True):
        """The constructor arguments, exactly as given (sklearn's ``clone`` relies on it)."""
        return {name: getattr(self, name) for name in self._signature()}

    def set_params(self, **params):
        """Set constructor arguments. Changing anything but the training settings (and the
        penalty weights of the variants) rebuilds the network with fresh weights."""
        valid = list(self._signature())
        for name in params:
            if name not in valid:
                raise ValueError(f"{type(self).__name__}.set_params: invalid parameter {name!r}; "
                                 f"valid ones are {valid}")
        for name, value in params.items():
            setattr(self, name, value)
        if set(params) - self._keep_weights_on:
            self._build()
        return self

    def __sklearn_clone__(self):
        """An unfitted copy: the arguments deep-copied *together*, so layers tied to each
        other in this model are tied to each other in the copy."""
        import copy
        return type(self)(**copy.deepcopy(self.get_params()))

    def __repr__(self):
        defaults = self._signature()
        shown = [f"{name}={value!r}" for name, value in self.get_params().items()
                 if not _is_default(value, defaults[name])]
        return f"{type(self).__name__}({', '.join(shown)})"


def _is_default(value, default):
    plain = (str, int, float, bool)
    return value is default or (type(value) is type(default) and isinstance(value, plain)
                                and value == default)


def _make_loss(loss, who):
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str) and loss in LOSSES:
        return LOSSES[loss]()
    raise ValueError(f"{who}: reconstruction_loss must be one of {sorted(LOSSES)} or a Loss "
                     f"instance, got {loss!r}")
