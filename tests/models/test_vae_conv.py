"""ConvVAE: the conv layers' backward composed with the VAE's heads, checked end to end."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import npae
import npae.io
from npae.gradcheck import check_model
from npae.models.conv_vae import ConvVAE
from npae.testing import arrays

from test_vae import WORST, check_vae   # tests/models is on sys.path (rootdir mode)


def teardown_module():
    for name, worst in sorted(WORST.items()):
        if name.startswith("ConvVAE"):
            print(f"worst VAE gradient-check error  {name}  {worst:.2e}")


@st.composite
def conv_vae_cases(draw):
    shape = (draw(st.integers(1, 2)), draw(st.integers(3, 6)), draw(st.integers(3, 6)))
    likelihood = draw(st.sampled_from(["bce", "gaussian", "gaussian-learned"]))
    vae = ConvVAE(input_shape=shape, channels=(draw(st.integers(1, 2)),), n_latent=draw(st.integers(1, 2)),
                  kernel_size=3, activation=draw(st.sampled_from(["tanh", "softplus"])),
                  reconstruction_loss=likelihood.split("-")[0], learn_variance=likelihood.endswith("learned"),
                  beta=draw(st.floats(0.5, 2.0)), n_samples=draw(st.integers(1, 2)),
                  seed=draw(st.integers(0, 2**16)), dtype="float64")
    jitter = np.random.default_rng(draw(st.integers(0, 2**16)))
    for p in vae.parameters():
        p.value += jitter.normal(0, 0.3, p.shape)
    x = draw(arrays((draw(st.integers(1, 3)),) + shape, min_value=0.05, max_value=1.0))
    eps = draw(arrays((vae.n_samples, len(x), vae.n_latent), kinks=(0.0,), kink_margin=0.25))
    vae.loss(x, eps=eps)
    assume(vae.kink_distance() > 1e-2)
    return vae, x, eps


@settings(max_examples=12)     # a conv model per draw: ~0.2 s each
@given(conv_vae_cases())
def test_conv_vae_gradients(case):
    vae, x, eps = case
    result = check_vae(vae, x, eps, "ConvVAE")
    assert result.passed, str(result)


def test_conv_vae_shapes_dtypes_and_save_load(tmp_path):
    vae = ConvVAE(seed=0)
    x = np.random.default_rng(0).uniform(0, 1, (4, 1, 28, 28)).astype(np.float32)
    out = vae.forward(x, rng=1)
    assert out.output.shape == (1, 4, 1, 28, 28) and out.mu.shape == (4, 32)
    assert vae.sample(3, rng=0).shape == (3, 1, 28, 28)
    assert vae.interpolate(x[0], x[1], 4).shape == (4, 1, 28, 28)      # single images (C, H, W)
    assert vae.traverse(x[0], dims=[0, 5], values=[0.0, 1.0]).shape == (2, 2, 1, 28, 28)
    assert all(a.dtype == np.float32 for a in (out.output, vae.reconstruct(x), vae.sample(2)))
    assert vae.log_likelihood(x, 3, rng=0).shape == (4,)
    loaded = npae.io.load(vae.save(tmp_path / "conv_vae.npz"))
    assert type(loaded) is ConvVAE and np.array_equal(loaded.transform(x), vae.transform(x))
    with pytest.raises(npae.ShapeError, match=r"\(N, 1, 28, 28\)"):
        vae.loss(x.reshape(4, 784))


def test_check_model_passes_the_noise_to_the_loss():
    """check_model(vae, x, eps=...) hands eps to vae.loss (the finite-difference step is
    ``step``): with it the loss is deterministic and the check passes; without it every
    evaluation draws new noise and the numerical gradient is meaningless."""
    vae = ConvVAE(input_shape=(1, 4, 4), channels=(1,), n_latent=1, seed=0, dtype="float64")
    x = np.random.default_rng(0).uniform(0.1, 0.9, (2, 1, 4, 4))
    eps = np.full((1, 2, 1), 0.7)
    assert check_model(vae, x, eps=eps).passed
    assert not check_model(vae, x).passed
