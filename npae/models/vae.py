"""The variational autoencoder (Kingma & Welling 2014) and its β / warm-up / capacity variants.

    encoder body      h = f(x)                                     (any npae Layer)
    Gaussian head     μ = h W_μ + b_μ,   log σ² = clamp(h W_s + b_s, low, high)  (two Dense heads;
                      ``log_var_range`` = (low, high), default (−30, 30))
    reparameterize    z⁽ᵏ⁾ = μ + σ ⊙ ε⁽ᵏ⁾,  ε⁽ᵏ⁾ ~ N(0, I),  k = 1..K,  σ = exp(½ log σ²)
                      ∂z/∂μ = 1,   ∂z/∂log σ² = ½ σ ⊙ ε   (ε fixed: z is a smooth function of the weights)
    decoder           a⁽ᵏ⁾ = g(z⁽ᵏ⁾): Bernoulli logits or Gaussian means

Objective (per example, averaged over the batch; in nats):

    reconstruction  R = −(1/K) Σ_k log p(x | z⁽ᵏ⁾)
    kl              KL = KL(N(μ, σ²) ‖ N(0, I)) = −½ Σ_j (1 + log σ_j² − μ_j² − σ_j²)
    total           R + β_t KL                     (β-VAE with warm-up; β = 1, no warm-up: −ELBO)
                    R + γ |KL − C_t|               (capacity annealing, Burgess et al. 2018)

Backward is the chain of the parts: the likelihood loss's gradient runs back through the
decoder's layers to dL/dz, ``reparameterize_backward`` turns it into dL/dμ and dL/dlog σ²,
the KL adds w (μ, ½(σ² − 1)) / N with w = β_t or γ sign(KL − C_t), the clamp passes dL/dlog σ²
where low < h W_s + b_s < high and 0 elsewhere (it is flat there), and the heads and the
encoder body take it from there. The formulas live in ``npae.gaussian``; training runs them fused,
two kernels in ``npae.kernels.gaussian`` whose NumPy twins are those formulas (a training step
of the dense VAE spends ~75 µs less on them). The schedules are in ``vae_schedules``,
generation and the likelihood bounds in ``vae_generation``.
"""
from collections import namedtuple

import numpy as np

from .. import gaussian as G
from .. import kernels
from .._checks import FLOAT_DTYPES
from ..errors import DTypeError, ShapeError
from ..io import register_model
from ..layers import Dense, Identity, Layer
from ..losses import BCEWithLogits, GaussianNLL
from ..parameter import Parameter
from ..sequential import Sequential, skip_input_gradient, unique_parameters
from .autoencoder import Autoencoder
from .networks import ACTIVATIONS, dense_encoder_decoder, example_shape_of
from .vae_generation import GenerationMixin
from .vae_schedules import linear_ramp, steps_for

LIKELIHOODS = {"bce": "Bernoulli decoder (logits)", "gaussian": "Gaussian decoder (means)"}

#: what ``forward`` returns: decoder output (K, N, ...) (logits or means), μ, log σ² (N, d), z (K, N, d)
VAEOutput = namedtuple("VAEOutput", ["output", "mu", "log_var", "z"])


def gaussian_body(encoder):
    """The encoder of ``dense_encoder_decoder``/``conv_encoder_decoder`` without its code layer
    (a final Dense with a linear output): the VAE's μ and log σ² heads take its place."""
    layers = encoder.layers[:-1]
    return Sequential(layers) if layers else Sequential(Identity())


@register_model
class VAE(GenerationMixin, Autoencoder):
    """Variational autoencoder: a Gaussian encoder, a Bernoulli or Gaussian decoder.

    Two ways to build one:

        VAE(layer_sizes=[784, 512, 256, 32], activation="relu")     # body 784-512-256, n_latent 32
        VAE(encoder, decoder, encoder_features=H, n_latent=d)        # any npae Layers

    With ``layer_sizes`` = [D, h..., d] the networks are ``dense_encoder_decoder``'s: the
    encoder body is D -> h... (``activation`` after each), the heads h[-1] -> d replace its
    code layer, and the decoder is the mirror d -> reversed(h) -> D with a linear output. A custom ``encoder`` maps x (N, ...) to (N, H); a custom ``decoder`` maps z (M, d)
    to x's per-example shape (see ``ConvVAE``).

    reconstruction_loss   "bce": Bernoulli decoder p(x|z) = Π s(a)^x (1 − s(a))^(1−x), x in [0, 1],
                    the decoder outputs logits a. "gaussian": p(x|z) = N(x; m, σ²) with a fixed
                    ``sigma``, or with ``learn_variance=True`` a learned per-pixel log σ²
                    (Parameter ``decoder_log_var``, shape ``input_shape``) clamped to
                    ``decoder_log_var_range``: without a floor, a pixel that never varies
                    (MNIST's border) drives σ → 0 and the likelihood to infinity.
    beta            weight of the KL term (1: the VAE; > 1: β-VAE, Higgins et al. 2017).
    warmup_steps, warmup_epochs   β ramps linearly from 0 over this many batches
                    (``training_step``) or epochs (``training_epoch``); 0/None: no warm-up.
    capacity        C_max in nats; if given, the objective is R + γ |KL − C_t| instead, C_t
                    rising linearly from 0 to C_max over ``capacity_steps`` batches, γ = ``gamma``.
    n_samples       K, samples of z per example for the reconstruction term (default 1).
    log_var_range   (low, high): the encoder's log σ² is clamped to it, default (−30, 30),
                    i.e. σ² in [9e-14, 1e13]: exp(log σ²) and z = μ + σ ε stay finite in
                    float32 even for inputs of 1e4 (where log σ² would reach 1e3..1e4). The
                    clamp is flat outside the range, so the gradient there is 0. Training
                    normally stays far inside it (the KL term pulls σ² towards 1).
    History components: "reconstruction" (R), "kl" (KL) and, with capacity, "capacity"
    (γ |KL − C_t|); "loss" is the total actually optimized. Other arguments: ``Autoencoder``.
    """

    _keep_weights_on = Autoencoder._keep_weights_on | {
        "beta", "warmup_steps", "warmup_epochs", "capacity", "capacity_steps", "gamma",
        "n_samples"}

    def __init__(self, encoder=None, decoder=None, reconstruction_loss="bce", *, n_latent=None,
                 encoder_features=None, input_shape=None, activation="relu", beta=1.0,
                 warmup_steps=0, warmup_epochs=None, capacity=None, capacity_steps=0,
                 gamma=1000.0, n_samples=1, sigma=1.0, learn_variance=False,
                 decoder_log_var_range=(-7.0, 7.0), log_var_range=(-30.0, 30.0), batch_size=128,
                 **kwargs):
        self.n_latent, self.encoder_features, self.input_shape = n_latent, encoder_features, input_shape
        self.beta, self.warmup_steps, self.warmup_epochs = beta, warmup_steps, warmup_epochs
        self.capacity, self.capacity_steps, self.gamma = capacity, capacity_steps, gamma
        self.n_samples, self.sigma, self.learn_variance = n_samples, sigma, learn_variance
        self.decoder_log_var_range, self.log_var_range = decoder_log_var_range, log_var_range
        super().__init__(encoder, decoder, reconstruction_loss, activation=activation,
                         batch_size=batch_size, **kwargs)

    # --- building -----------------------------------------------------------------------
    def _build(self):
        who = type(self).__name__
        self._check_settings(who)
        self.rng_ = np.random.default_rng(self.seed)
        networks = self._gaussian_networks(who)
        self.encoder_, self.decoder_, n_latent, features, example_shape, dtype = networks
        if self.encoder is None:                # our own layers (not the user's): dL/dx of the
            skip_input_gradient(self.encoder_)  # data is never used, so skip its GEMM
        if self.dtype is not None and np.dtype(self.dtype) != dtype:
            raise DTypeError(f"{who}: dtype={np.dtype(self.dtype).name} but the layers' "
                             f"Parameters are {dtype}")
        self.dtype_, self.n_latent_, self.example_shape_ = dtype, n_latent, example_shape
        self.mu_head_ = Dense(features, n_latent, rng=self.rng_, dtype=dtype)
        self.log_var_head_ = Dense(features, n_latent, rng=self.rng_, dtype=dtype)
        self.decoder_log_var_ = None
        if self.learn_variance:
            if example_shape is None:
                raise ValueError(f"{who}: learn_variance with your own layers needs input_shape "
                                 "(the per-example shape of x) for the per-pixel log σ²")
            self.decoder_log_var_ = Parameter(np.zeros(example_shape, dtype), "decoder_log_var")
        self.reconstruction_loss_ = (BCEWithLogits() if self.reconstruction_loss == "bce"
                                     else GaussianNLL(float(self.sigma) ** 2))
        self.training_step, self.training_epoch = 0, 0
        self.components, self.loss_weights = {}, {}
        self.optimizer_, self.history_, self._cache = None, None, None

    def _gaussian_networks(self, who):
        """(encoder body, decoder, n_latent, encoder_features, example shape or None, dtype).

        The VAE's counterpart of ``Autoencoder._networks``: besides the layers, the heads need
        the body's output width and the latent size. ``ConvVAE`` overrides it."""
        if self.encoder is None and self.decoder is None:
            sizes = [int(s) for s in (self.layer_sizes or [])]
            if len(sizes) < 2 or min(sizes) < 1:
                raise ValueError(f"{who}: give layer_sizes=[n_features, hidden..., n_latent] (at least "
                                 f"two positive sizes), or an encoder and a decoder; got {self.layer_sizes}")
            dtype = np.dtype(self.dtype or np.float32)
            if dtype not in FLOAT_DTYPES:
                raise DTypeError(f"{who}: dtype must be float32 or float64, got {dtype}")
            encoder, decoder = dense_encoder_decoder(sizes, self.activation, "identity",
                                                     rng=self.rng_, dtype=dtype)
            return gaussian_body(encoder), decoder, sizes[-1], sizes[-2], (sizes[0],), dtype
        if self.encoder is None or self.decoder is None or self.layer_sizes is not None:
            raise ValueError(f"{who}: give both an encoder and a decoder (and no layer_sizes), "
                             "or layer_sizes alone")
        if not (isinstance(self.encoder, Layer) and isinstance(self.decoder, Layer)):
            raise TypeError(f"{who}: encoder and decoder must be npae Layers")
        if self.n_latent is None or self.encoder_features is None:
            raise ValueError(f"{who}: with your own layers, give n_latent and encoder_features "
                             "(the width of the encoder's output)")
        params = self.encoder.parameters() + self.decoder.parameters()
        dtype = params[0].dtype if params else np.dtype(self.dtype or np.float32)
        example_shape = None if self.input_shape is None else tuple(self.input_shape)
        return (self.encoder, self.decoder, int(self.n_latent), int(self.encoder_features),
                example_shape, dtype)

    def _check_settings(self, who):
        if self.reconstruction_loss not in LIKELIHOODS:
            raise ValueError(f"{who}: reconstruction_loss must be one of {sorted(LIKELIHOODS)} "
                             f"(the decoder's likelihood), got {self.reconstruction_loss!r}")
        if self.learn_variance and self.reconstruction_loss != "gaussian":
            raise ValueError(f"{who}: learn_variance=True needs reconstruction_loss='gaussian'")
        if self.tied or self.code_activation is not None:
            raise ValueError(f"{who}: tied and code_activation do not apply (the code is the Gaussian's μ)")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"{who}: activation must be one of {sorted(ACTIVATIONS)}, "
                             f"got {self.activation!r}")
        if not (int(self.n_samples) == self.n_samples and self.n_samples >= 1):
            raise ValueError(f"{who}: n_samples (K) must be an integer >= 1, got {self.n_samples!r}")
        if not (self.sigma > 0 and self.beta >= 0 and self.gamma > 0):
            raise ValueError(f"{who}: need sigma > 0, beta >= 0, gamma > 0; got sigma={self.sigma}, "
                             f"beta={self.beta}, gamma={self.gamma}")
        if self.capacity is not None and self.capacity < 0:
            raise ValueError(f"{who}: capacity (C_max, nats) must be >= 0, got {self.capacity}")
        if self.warmup_epochs is not None and self.warmup_steps:
            raise ValueError(f"{who}: give warmup_steps or warmup_epochs, not both")
        steps_for(self.warmup_steps), steps_for(self.capacity_steps), steps_for(self.warmup_epochs)
        for name in ("decoder_log_var_range", "log_var_range"):
            low, high = getattr(self, name)
            if not low < high:
                raise ValueError(f"{who}: {name} must be (low, high) with low < high, "
                                 f"got {getattr(self, name)}")

    # --- parameters and schedules ---------------------------------------------------------
    def named_parameters(self):
        named = [(f"encoder.{n}", p) for n, p in self.encoder_.named_parameters()]
        named += [(f"mu.{n}", p) for n, p in self.mu_head_.named_parameters()]
        named += [(f"log_var.{n}", p) for n, p in self.log_var_head_.named_parameters()]
        named += [(f"decoder.{n}", p) for n, p in self.decoder_.named_parameters()]
        if self.decoder_log_var_ is not None:
            named.append(("decoder_log_var", self.decoder_log_var_))
        return unique_parameters(named)

    @property
    def beta_t(self):
        """The KL weight now: β · min(1, step / warmup_steps), or by epochs with warmup_epochs."""
        if self.warmup_epochs is not None:
            return linear_ramp(self.training_epoch, steps_for(self.warmup_epochs), self.beta)
        return linear_ramp(self.training_step, steps_for(self.warmup_steps), self.beta)

    @property
    def capacity_t(self):
        """C_t = C_max · min(1, step / capacity_steps) in nats (None without capacity)."""
        if self.capacity is None:
            return None
        return linear_ramp(self.training_step, steps_for(self.capacity_steps), self.capacity)

    # --- training mode ------------------------------------------------------------------------
    def encode(self, x):
        """q(z|x)'s parameters (μ, log σ²), each (N, n_latent), log σ² clamped to
        ``log_var_range``. No sampling."""
        mu, _, log_var = self._encode(x)
        return mu, log_var

    def _encode(self, x):
        """(μ, the log σ² head's output s, log σ² = clamp(s, low, high)); backward needs s."""
        mu, s = self._heads(x)
        return mu, s, G.clamp(s, *self.log_var_range)

    def _heads(self, x):
        """(μ, s): the two heads on the encoder body's features h = f(x), each (N, d)."""
        self._cache = None                 # the layers' caches are about to change: no backward
        h = self.encoder_.forward(self._check_x(x))
        s = self.log_var_head_.forward(h)
        return self.mu_head_.forward(h), s

    def _in_dtype(self, *numbers):
        """Scalars for a kernel, in the model's dtype (a Python float would make float32 loops float64)."""
        return tuple(self.dtype_.type(v) for v in numbers)

    def _example_shape(self, name):
        """X goes through the body, then the heads: a body of activations only (layer_sizes
        [D, d]) leaves the shape to the μ head's Dense."""
        if name == "Z" or self.input_shape is not None:
            return super()._example_shape(name)
        return example_shape_of(self.encoder_, self.mu_head_)

    def forward(self, x, eps=None, rng=None):
        """Encode, draw K latents per example, decode. Returns ``VAEOutput``.

        eps: (K, N, n_latent), explicit noise (makes the pass deterministic); otherwise K =
        ``n_samples`` draws from ``rng`` (a Generator or seed; default the model's own).
        """
        mu, raw_log_var = self._heads(x)
        if eps is None:
            rng = self.rng_ if rng is None else np.random.default_rng(rng)
            eps = rng.standard_normal((int(self.n_samples),) + mu.shape, dtype=self.dtype_)
        else:
            eps = np.ascontiguousarray(G.check_eps(eps, mu, type(self).__name__))
        # G.clamp, G.reparameterize and the KL's sum in one kernel (its NumPy twin: the formulas)
        mu, raw_log_var = np.ascontiguousarray(mu), np.ascontiguousarray(raw_log_var)
        log_var, sigma = np.empty(mu.shape, mu.dtype), np.empty(mu.shape, mu.dtype)
        z = np.empty(eps.shape, eps.dtype)     # C order: the kernel writes through flat views
        kl_sum = kernels.gaussian.latent_sample(
            mu.reshape(-1), raw_log_var.reshape(-1), eps.reshape(-1), *self._in_dtype(*self.log_var_range),
            log_var.reshape(-1), sigma.reshape(-1), z.reshape(-1))
        k, n = eps.shape[:2]
        out = self.decoder_.forward(z.reshape(k * n, self.n_latent_))
        if out.shape[1:] != x.shape[1:]:
            raise ShapeError(f"{type(self).__name__}: the decoder maps z to examples of shape "
                             f"{out.shape[1:]}, but x has examples of shape {x.shape[1:]}")
        self._cache = dict(mu=mu, log_var=log_var, raw_log_var=raw_log_var, eps=eps, sigma=sigma,
                           kl=kl_sum / n, out=out)
        return VAEOutput(out.reshape((k, n) + out.shape[1:]), mu, log_var, z)

    def _decoder_log_var(self):
        """The learned per-pixel log σ², clamped: s = clamp(decoder_log_var, low, high)."""
        return G.clamp(self.decoder_log_var_.value, *self.decoder_log_var_range)

    def loss(self, x, rng=None, eps=None):
        """The objective at ``training_step`` (mean over the batch, nats per example).

        Sets ``components`` = {"reconstruction": R, "kl": KL} (+ "capacity": γ|KL − C_t|) and
        ``loss_weights``, with total = Σ loss_weights[c] · components[c].
        """
        out = self.forward(x, eps=eps, rng=rng)
        k = out.output.shape[0]
        target = x if k == 1 else np.broadcast_to(x, (k,) + x.shape).reshape((-1,) + x.shape[1:])
        variance = {} if self.decoder_log_var_ is None else {"variance": np.exp(self._decoder_log_var())}
        # a mean over the K·N rows = (1/K) Σ_k of the batch means
        reconstruction = self.reconstruction_loss_.forward(self._cache["out"], target, **variance)
        kl = self._cache["kl"]             # the batch mean of G.kl_standard_normal(μ, log σ²)
        self.components = {"reconstruction": reconstruction, "kl": kl}
        if self.capacity is None:
            self.loss_weights = {"reconstruction": 1.0, "kl": self.beta_t}
        else:
            self._cache["gap"] = kl - self.capacity_t
            self.components["capacity"] = self.gamma * abs(self._cache["gap"])
            self.loss_weights = {"reconstruction": 1.0, "kl": 0.0, "capacity": 1.0}
        self._cache["loss"] = True         # backward may run now
        return sum(self.loss_weights[c] * v for c, v in self.components.items())

    def _kl_weight(self):
        """d total / d KL: β_t, or γ sign(KL − C_t) with capacity (taken as 0 exactly at the kink)."""
        if self.capacity is None:
            return self.beta_t
        return self.gamma * float(np.sign(self._cache["gap"]))

    def backward(self):
        """Add d(total)/d(param) into every Parameter's grad (after ``loss``)."""
        c = self._cache
        if c is None or "loss" not in c:
            raise RuntimeError(f"{type(self).__name__}.backward() called before loss() "
                               "(or after another forward pass: encode, decode, sample ...)")
        k, n, d = c["eps"].shape
        if self.decoder_log_var_ is not None:      # dR/ds = dR/dσ² · σ², through the clamp
            s = self.decoder_log_var_
            d_s = self.reconstruction_loss_.variance_grad * np.exp(self._decoder_log_var())
            s.grad += G.clamp_backward(d_s, s.value, *self.decoder_log_var_range)
        dz = np.ascontiguousarray(self.decoder_.backward(self.reconstruction_loss_.backward()))
        if dz.shape != (k * n, d):                  # the kernel trusts the sizes
            raise ShapeError(f"{type(self).__name__}: the decoder's backward gave dL/dz of shape "
                             f"{dz.shape}, expected {(k * n, d)}")
        # G.reparameterize_backward + w G.kl_standard_normal_grad, then G.clamp_backward
        d_mu, d_log_var = np.empty((n, d), self.dtype_), np.empty((n, d), self.dtype_)
        w = self._kl_weight() / n                   # the KL is a mean over the batch
        eps = np.ascontiguousarray(c["eps"])        # (a subclass may have put its own there)
        kernels.gaussian.latent_backward(
            dz.reshape(-1), c["mu"].reshape(-1), c["raw_log_var"].reshape(-1), c["sigma"].reshape(-1),
            eps.reshape(-1), *self._in_dtype(w, *self.log_var_range), d_mu.reshape(-1), d_log_var.reshape(-1))
        dh = self.mu_head_.backward(d_mu) + self.log_var_head_.backward(d_log_var)
        self.encoder_.backward(dh)

    def kink_distance(self):
        """Closest approach to a kink: ReLU inputs, the ends of the log σ² clamp, and
        |KL − C_t| for the capacity term."""
        d = min(self.encoder_.kink_distance(), self.decoder_.kink_distance())
        c = self._cache
        if c is not None and "raw_log_var" in c:
            d = min(d, *(float(np.min(np.abs(c["raw_log_var"] - end))) for end in self.log_var_range))
        if self.capacity is not None and c is not None and "gap" in c:
            d = min(d, abs(c["gap"]))
        return d

    # --- evaluation mode ----------------------------------------------------------------------
    def _encode_eval(self, x):
        """transform(X): the code is the posterior mean μ(x)."""
        return self.encode(x)[0]

    def inverse_transform(self, Z):
        """Decode codes Z (N, n_latent) to the decoder's mean: probabilities ("bce") or means."""
        self._cache = None
        return super().inverse_transform(Z)

    def score(self, X, y=None, rng=None):
        """The mean ELBO of X in nats per example (higher is better, as in scikit-learn).
        The expectation takes ``n_samples`` draws of z per example, from ``rng``."""
        return float(np.mean(self.elbo(X, rng=rng)))
