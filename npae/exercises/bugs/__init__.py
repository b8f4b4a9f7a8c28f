"""The bug zoo: npae components broken the classic ways. Find each bug, then fix it.

Each bug is a small file in this folder (``b01_reparameterize.py`` ...) holding a broken
version of an npae component, written the way a student might. The prompts say what the
component is supposed to do and which check fails; ``hunt(name)`` runs that check and
prints what it found; ``answer(name)`` tells the mistake. ``vae_exercise.py`` hides four
bugs in one VAE: find all of them.

    >>> from npae.exercises import bugs
    >>> bugs.names()
    >>> print(bugs.prompt("b07_upsample"))
    >>> bugs.hunt("b07_upsample")

Every check is one of npae's own (gradient checks on drawn cases, or a behaviour that follows
from the definitions, see ``bugs.checks``), and each also passes on the correct npae
component — the test suite asserts both (tests/test_bug_zoo.py).
"""
import importlib
from dataclasses import dataclass

import numpy as np

from ... import gaussian as G


@dataclass(frozen=True)
class Bug:
    name: str
    component: str      # what it is a broken version of
    prompt: str         # the exercise, without the answer
    mistake: str        # the answer
    check: str          # the check that catches it

    def module(self):
        return importlib.import_module(f"{__name__}.{self.name}")


BUGS = {bug.name: bug for bug in [
    Bug("b01_reparameterize", "npae.gaussian.reparameterize (+ backward)",
        "Samples z = μ + σ ⊙ ε of this reparameterization have the wrong spread. Its backward "
        "pass passes every gradient check. Why does the gradient check not help, and what is wrong?",
        "σ computed as exp(log σ²) — the variance used as the standard deviation; σ = exp(½ log σ²). "
        "Forward and backward agree with each other, so only a behaviour check (E[z] = μ, "
        "Var[z] = σ²) can see it.", "sampling_moments"),
    Bug("b02_vae_backward", "npae.models.vae.VAE.backward",
        "This VAE's gradient check fails although every formula in the backward pass is npae's. "
        "Find the line that breaks it.",
        "A fresh ε is drawn in backward; the derivative ∂z/∂log σ² = ½ σ ⊙ ε must use the same ε "
        "that produced z in forward.", "vae_gradients (check_model, ε fixed)"),
    Bug("b03_kl", "npae.gaussian.kl_standard_normal (+ grad)",
        "A KL divergence can never be negative. This one's gradient passes the gradient check. "
        "Find the mistake.",
        "The KL has the wrong sign: KL = −½ Σ (1 + log σ² − μ² − σ²).", "kl_against_monte_carlo"),
    Bug("b04_kl", "npae.gaussian.kl_standard_normal (+ grad)",
        "This closed-form KL disagrees with a Monte Carlo estimate of E_q[log q(z) − log p(z)], "
        "yet its gradient passes the gradient check. Find the mistake.",
        "The ½ is missing in the value (and consistently in the gradient): the KL comes out doubled.",
        "kl_against_monte_carlo"),
    Bug("b05_kl_gradient", "npae.gaussian.kl_standard_normal_grad",
        "The KL's value is right, but the gradient check of ∂KL/∂log σ² fails. Fix the gradient.",
        "∂KL/∂log σ² = ½ (σ² − 1); the ½ is missing.", "check_function"),
    Bug("b06_vae_backward", "npae.models.vae.VAE.backward",
        "This VAE's gradient check passes for a batch of one example and fails for larger batches. "
        "Which gradient is off, and by how much?",
        "The KL gradient is not divided by the batch size N (the KL is a mean over the batch); "
        "the reconstruction gradient is, through the loss.", "vae_gradients (check_model, ε fixed)"),
    Bug("b07_upsample", "npae.Upsample2D.backward",
        "Nearest-neighbour upsampling copies each pixel into an s×s block. This backward pass "
        "passes its gradient check for scale 1 only. Fix it.",
        "It samples one copy per block (strided slicing dy[:, :, ::s, ::s]); the gradient of a "
        "copied pixel is the sum over its whole block.", "check_layer"),
    Bug("b08_relu", "npae.ReLU.backward",
        "This ReLU's backward returns the right numbers, and still fails check_layer. Why does "
        "it matter?",
        "It masks the upstream gradient in place (dy[x <= 0] = 0): dy belongs to the layer above "
        "(a loss's cached gradient, a branch shared by two layers) and must not change.",
        "check_layer (protocol: dy unchanged)"),
    Bug("b09_dense", "npae.Dense.backward",
        "This dense layer's weight gradient is wrong for square W and crashes for the others. Fix it.",
        "dW computed as dyᵀ x, the transpose of xᵀ dy (W has shape (D_in, D_out) in y = x W + b).",
        "check_layer"),
    Bug("b10_maxpool", "npae.MaxPool2D.backward",
        "This max-pool backward is right whenever stride == kernel size. Make it right for "
        "overlapping windows too.",
        "It assigns dy to each argmax (dx[argmax] = dy); when overlapping windows share a "
        "maximum only one gradient survives — they must be summed (+=).", "check_layer"),
    Bug("b11_sparsity", "npae.regularizers.SparsityKL",
        "This sparsity penalty's gradient passes the gradient check, and training with it makes "
        "the units' mean activation approach ρ. Still it is not the KL penalty of the sparse "
        "autoencoder. What does it compute, and what does that do to the codes?",
        "ρ̂ is computed per example (each h_nj against ρ) instead of per unit over the batch: "
        "it forces every activation towards ρ instead of letting each unit fire rarely.",
        "sparsity_uses_batch_mean"),
    Bug("b12_tied", "npae.TiedDense.backward",
        "An autoencoder with tied weights (decoder W' = Wᵀ) fails its gradient check on W only. "
        "Find the missing piece.",
        "The decoder's use of W adds nothing to W.grad: a tied W's gradient is the sum over both "
        "uses, xᵀ δ_enc (encoder) + dyᵀ x (decoder).", "check_model (tied autoencoder)"),
    Bug("b13_dense", "npae.Dense.backward",
        "This dense layer passes its gradient check with a batch of one example. Try more.",
        "The bias gradient takes the first example only (dy[0]); b is added to every example, "
        "so its gradient sums dy over the batch.", "check_layer"),
    Bug("b14_sigmoid", "npae.Sigmoid.backward",
        "This sigmoid's backward uses the identity s'(x) = s(x)(1 − s(x)) and still fails. Why?",
        "The cached value is the output y = s(x), so s'(x) = y (1 − y); applying s again to y "
        "computes s'(y).", "check_layer"),
    Bug("b15_conv", "npae.Conv2D.backward",
        "This loop-based convolution backward is right when stride ≥ kernel size. Fix dx for "
        "overlapping patches.",
        "Each output position assigns (=) its contribution to the input patch; overlapping "
        "patches must add (+=).", "check_layer"),
    Bug("b16_contractive", "npae.ContractiveAutoencoder._penalties_backward",
        "A contractive autoencoder whose gradient check fails on the encoder's W (and only there). "
        "Which path of the penalty's gradient is missing?",
        "‖J‖²_F = Σ_j a_j² Σ_i W_ij² depends on W directly, not only through h: the direct term "
        "2 W_ij Σ_n a_nj² / N must be added to W.grad.", "check_model"),
    Bug("b17_ksparse", "npae.KSparseAutoencoder._encode_backward",
        "A k-sparse autoencoder whose encoder gradients fail the gradient check.",
        "The backward pass lets the gradient through every unit; only the k selected units were "
        "used in forward, so dL/dz must be masked by the same support.", "check_model"),
    Bug("vae_exercise", "npae.models.vae.VAE (forward, loss, backward)",
        "vae_exercise.py: a VAE written out in full. It trains and its loss goes down. Find all "
        "four bugs.",
        "(1) σ = exp(log σ²) in forward (variance as standard deviation); (2) the KL value misses "
        "its ½; (3) backward draws a fresh ε; (4) the KL gradient is not divided by the batch size.",
        "vae_gradients and vae_unbiased"),
]}


def names():
    return list(BUGS)


def prompt(name):
    bug = _bug(name)
    return (f"{bug.name}.py — a broken {bug.component}\n{bug.prompt}\n"
            f"(the check that catches it: {bug.check}; run bugs.hunt({bug.name!r}))")


def answer(name):
    return _bug(name).mistake


def run_check(name, broken=True, shrink=True):
    """Run the check that catches bug ``name`` on the broken component (``broken=True``) or on
    npae's correct one; returns a CheckResult (or, for vae_exercise, a list of two)."""
    from ... import layers as npae_layers
    from ... import models, regularizers
    from ...models.vae import VAE as vae_class
    from .. import layer_exercises as L
    from . import checks as C
    bug = _bug(name)
    m = bug.module() if broken else None

    def pick(attribute, correct):
        return getattr(m, attribute) if broken else correct

    def dense(case):
        return pick("Dense", npae_layers.Dense)(case["x"].shape[1], case["d_out"], rng=case["seed"],
                                                 dtype=np.float64)

    runs = {
        "b01_reparameterize": lambda: C.sampling_moments(pick("reparameterize", G.reparameterize), shrink=shrink),
        "b02_vae_backward": lambda: C.vae_gradients(pick("VAE", vae_class), shrink=shrink),
        "b03_kl": lambda: C.kl_against_monte_carlo(pick("kl_standard_normal", G.kl_standard_normal), shrink=shrink),
        "b04_kl": lambda: C.kl_against_monte_carlo(pick("kl_standard_normal", G.kl_standard_normal), shrink=shrink),
        "b05_kl_gradient": lambda: C.kl_gradients(pick("kl_standard_normal", G.kl_standard_normal),
                                                  pick("kl_standard_normal_grad", G.kl_standard_normal_grad),
                                                  shrink=shrink),
        "b06_vae_backward": lambda: C.vae_gradients(pick("VAE", vae_class), shrink=shrink),
        "b07_upsample": lambda: C.layer_gradients(
            lambda case: pick("Upsample2D", npae_layers.Upsample2D)(case["scale"]), C.upsample_cases(),
            shrink=shrink),
        "b08_relu": lambda: C.layer_gradients(lambda case: pick("ReLU", npae_layers.ReLU)(),
                                              L.elementwise_cases(kinks=(0.0,)), shrink=shrink),
        "b09_dense": lambda: C.layer_gradients(dense, L.dense_cases(), shrink=shrink),
        "b10_maxpool": lambda: C.layer_gradients(
            lambda case: pick("MaxPool2D", npae_layers.MaxPool2D)(case["k"], case["stride"]),
            L.pool_cases(), shrink=shrink),
        "b11_sparsity": lambda: C.sparsity_uses_batch_mean(pick("SparsityKL", regularizers.SparsityKL),
                                                           shrink=shrink),
        "b12_tied": lambda: C.model_gradients(_tied_autoencoder(pick("TiedDense", npae_layers.TiedDense)),
                                              C.autoencoder_cases(), shrink=shrink),
        "b13_dense": lambda: C.layer_gradients(dense, L.dense_cases(), shrink=shrink),
        "b14_sigmoid": lambda: C.layer_gradients(lambda case: pick("Sigmoid", npae_layers.Sigmoid)(),
                                                 L.elementwise_cases(), shrink=shrink),
        "b15_conv": lambda: C.layer_gradients(_conv(pick("Conv2D", npae_layers.Conv2D)), L.conv_cases(),
                                              shrink=shrink),
        "b16_contractive": lambda: C.model_gradients(
            _sized(pick("ContractiveAutoencoder", models.ContractiveAutoencoder), contractive_weight=0.5),
            C.autoencoder_cases(), shrink=shrink),
        "b17_ksparse": lambda: C.model_gradients(_ksparse(pick("KSparseAutoencoder", models.KSparseAutoencoder)),
                                                 C.autoencoder_cases(), shrink=shrink),
        "vae_exercise": lambda: [C.vae_gradients(pick("VAE", vae_class), shrink=shrink),
                                 C.vae_unbiased(pick("VAE", vae_class))],
    }
    return runs[name]()


def hunt(name, verbose=True):
    """Run the check that catches bug ``name`` on its broken component; prints and returns it."""
    result = run_check(name, broken=True)
    if verbose:
        for r in (result if isinstance(result, list) else [result]):
            print(r)
    return result


def _bug(name):
    if name not in BUGS:
        raise ValueError(f"unknown bug {name!r}; the zoo holds {names()}")
    return BUGS[name]


# --- building the components the checks run on -------------------------------------------------

def _tied_autoencoder(tied_class):
    from ...layers import Dense, Sigmoid
    from ...models import Autoencoder
    from ...sequential import Sequential

    def make(case):
        dense = Dense(case["x"].shape[1], case["hidden"], rng=case["seed"], dtype=np.float64)
        model = Autoencoder(Sequential(dense, Sigmoid()), Sequential(tied_class(dense)), "mse")
        return model, {}
    return make


def _sized(model_class, **options):
    def make(case):
        return model_class(layer_sizes=[case["x"].shape[1], case["hidden"]], seed=case["seed"],
                           dtype="float64", **options), {}
    return make


def _ksparse(model_class):
    from hypothesis import assume

    def make(case):
        model = model_class(layer_sizes=[case["x"].shape[1], case["hidden"] + 1],
                            k=max(1, case["hidden"] // 2), seed=case["seed"], dtype="float64")
        model.loss(case["x"])
        assume(model.kink_distance() > 1e-3)       # a step must not change the selection
        return model, {}
    return make


def _conv(conv_class):
    def make(case):
        layer = conv_class(case["x"].shape[1], case["c_out"], case["k"], stride=case["stride"],
                           padding=case["padding"], rng=case["seed"], dtype=np.float64)
        layer.b.value[:] = np.random.default_rng(case["seed"]).normal(size=case["c_out"])
        return layer
    return make


__all__ = ["BUGS", "Bug", "names", "prompt", "answer", "hunt", "run_check"]
