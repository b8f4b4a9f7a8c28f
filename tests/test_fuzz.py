"""Fuzzing the public API with random shapes, dtypes, layouts, values and configurations.

The property, for every call: it either returns finite output of the right shape and dtype,
or raises one of npae's documented errors -- a ValueError/TypeError (for bad arrays one of
``npae.errors``) whose message says what was expected and what arrived. Never an
IndexError, a Numba TypingError, a ZeroDivisionError, or a NaN handed back silently.
"""
import os
import re
import tempfile
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import npae
from npae import errors
from npae.corruption import corrupt
from npae.datasets import binarize, read_idx
from npae.layers import (AvgPool2D, Conv2D, ConvTranspose2D, Dense, Flatten, Identity, LeakyReLU,
                         MaxPool2D, ReLU, Reshape, Sigmoid, Softplus, Tanh, TiedDense, Upsample2D)
from npae.losses import BCE, MSE, BCEWithLogits, GaussianNLL
from npae.models import (Autoencoder, ContractiveAutoencoder, DenoisingAutoencoder,
                         KSparseAutoencoder, SparseAutoencoder)
from npae.models.conv import ConvAutoencoder
from npae.models.conv_vae import ConvVAE
from npae.models.vae import VAE
from npae.regularizers import Contractive, L1Activity, SparsityKL
from npae.sequential import Sequential

ARRAY_ERRORS = (errors.ShapeError, errors.DTypeError, errors.NonFiniteError, errors.DomainError)
BAD_DTYPES = [np.float16, np.int64, np.uint8, np.bool_, np.complex64, np.dtype(">f4"),
              np.dtype(">f8")]
VALUES = ("normal",) * 4 + ("unit",) * 4 + ("big", "big", "nan", "inf", "pixels")
LAYOUTS = ("c",) * 6 + ("fortran", "strided", "readonly", "list")
FUZZ = settings(max_examples=60, deadline=None)


# --- strategies --------------------------------------------------------------------------
@st.composite
def shapes_near(draw, shape):
    """``shape`` itself most of the time, else one dimension changed, dropped or added."""
    shape = list(shape)
    how = draw(st.sampled_from(["same"] * 8 + ["resize", "drop", "add", "empty", "random"]))
    side = st.integers(1, 5)
    if how == "resize" and shape:
        shape[draw(st.integers(0, len(shape) - 1))] = draw(side)
    elif how == "drop" and shape:
        del shape[draw(st.integers(0, len(shape) - 1))]
    elif how == "add":
        shape.insert(draw(st.integers(0, len(shape))), draw(side))
    elif how == "empty" and shape:
        shape[draw(st.integers(0, len(shape) - 1))] = 0
    elif how == "random":
        shape = draw(st.lists(st.integers(0, 4), max_size=5))
    return tuple(shape)


@st.composite
def arrays(draw, shape, dtype=None, values=None):
    """An array of ``shape`` with random values, memory layout and write flag, and a dtype:
    mostly ``dtype`` (default: float32 or float64), else one npae must refuse."""
    good = [np.float32, np.float64] if dtype is None else [dtype]
    dtype = np.dtype(draw(st.sampled_from(good * 8 + BAD_DTYPES)))
    values = draw(st.sampled_from(VALUES)) if values is None else values
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    base = {"normal": lambda: rng.normal(size=shape), "unit": lambda: rng.random(shape),
            "big": lambda: rng.uniform(-1e4, 1e4, shape),
            "pixels": lambda: rng.integers(0, 256, shape).astype(float),
            "nan": lambda: np.where(rng.random(shape) < 0.3, np.nan, rng.random(shape)),
            "inf": lambda: np.where(rng.random(shape) < 0.3, -np.inf, rng.random(shape))}[values]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = np.asarray(base).astype(dtype)
    layout = draw(st.sampled_from(LAYOUTS))
    if layout == "fortran":
        x = np.asfortranarray(x)
    elif layout == "strided" and x.ndim:
        x = np.repeat(x, 2, axis=-1)[..., ::2]
    elif layout == "readonly":
        x.flags.writeable = False
    elif layout == "list" and x.size < 30:
        return x.tolist()
    return x


def outcome(call, array_input=True):
    """Run ``call``; return ("ok", result) or ("error", error) after checking the error is a
    documented one with a message saying what was expected and what was received."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return "ok", call()
    except (ValueError, TypeError) as error:
        assert not type(error).__module__.startswith("numba"), repr(error)
        message = str(error)       # "who: what is wrong, expected vs received"
        assert len(message) > 20, message
        assert ":" in message[:80] or any(w in message for w in ("got", "must", "cannot")), message
        if array_input and not isinstance(error, ARRAY_ERRORS):
            assert isinstance(error, TypeError) and "numpy.ndarray" in message, repr(error)
        return "error", error


def assert_array(result, shape, dtype):
    assert isinstance(result, (np.ndarray, np.generic)), type(result)   # 0-d: a NumPy scalar
    assert result.shape == tuple(shape) and result.dtype == dtype, (result.shape, result.dtype)
    assert np.all(np.isfinite(result)), "non-finite output"


# --- layers ------------------------------------------------------------------------------
def layers(dtype):
    """(layer, natural input shape without the batch axis) pairs."""
    dense = Dense(4, 3, rng=0, dtype=dtype)
    return [
        (Dense(4, 3, rng=0, dtype=dtype), (4,)), (TiedDense(dense), (3,)),
        (Sigmoid(), (3, 2)), (ReLU(), (5,)), (LeakyReLU(0.1), (2, 2)), (Tanh(), (4,)),
        (Softplus(), (3,)), (Identity(), (2,)), (Flatten(), (2, 3)), (Reshape((2, 2)), (4,)),
        (Conv2D(2, 3, 3, stride=2, padding=1, rng=0, dtype=dtype), (2, 5, 5)),
        (ConvTranspose2D(2, 1, 3, stride=2, padding=1, output_padding=1, rng=0, dtype=dtype),
         (2, 3, 3)),
        (MaxPool2D(2), (1, 4, 4)), (AvgPool2D(3, stride=1), (2, 4, 3)), (Upsample2D(2), (1, 2, 3)),
        (Sequential(Dense(4, 3, rng=0, dtype=dtype), Sigmoid()), (4,)),
    ]


@st.composite
def layer_cases(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    layer, example = draw(st.sampled_from(layers(dtype)))
    shape = draw(shapes_near((draw(st.integers(1, 4)),) + example))
    return layer, dtype, draw(arrays(shape, dtype=draw(st.sampled_from([dtype] * 3 + [None]))))


def expected_shape(layer, shape):
    if isinstance(layer, (Dense, TiedDense)):
        return shape[:-1] + (layer.W.shape[1] if isinstance(layer, Dense) else layer.W.shape[0],)
    if isinstance(layer, Sequential):
        return expected_shape(layer[0], shape)
    if isinstance(layer, Flatten):
        return (shape[0], int(np.prod(shape[1:])))
    if isinstance(layer, Reshape):
        return (shape[0],) + layer.shape
    if hasattr(layer, "output_shape"):
        return tuple(layer.output_shape(shape))
    return shape


@FUZZ
@given(layer_cases(), st.integers(0, 2**32 - 1))
def test_layers(case, seed):
    layer, dtype, x = case
    status, y = outcome(lambda: layer.forward(x))
    if status == "error":
        return
    assert_array(y, expected_shape(layer, x.shape), x.dtype)
    dy = np.random.default_rng(seed).normal(size=y.shape).astype(x.dtype)
    layer.zero_grad()
    status, dx = outcome(lambda: layer.backward(dy))
    assert status == "ok", dx
    assert_array(dx, x.shape, x.dtype)
    for p in layer.parameters():
        assert np.all(np.isfinite(p.grad))


@settings(max_examples=30, deadline=None)
@given(layer_cases(), st.sampled_from(["shape", "dtype", "nan", "list"]))
def test_layer_backward_rejects_a_bad_dy(case, how):
    layer, dtype, x = case
    status, y = outcome(lambda: layer.forward(x))
    if status == "error":
        return
    dy = {"shape": lambda: np.ones(y.shape + (2,), y.dtype),
          "dtype": lambda: np.ones(y.shape, np.float16),
          "nan": lambda: np.full(y.shape, np.nan, y.dtype),
          "list": lambda: y.tolist()}[how]()
    status, error = outcome(lambda: layer.backward(dy))
    if how == "nan":           # a NaN gradient goes through: forward checked the data
        return
    assert status == "error" and ("dy" in str(error) or "ndarray" in str(error)), error


@pytest.mark.parametrize("layer", [Flatten(), Reshape((2, 2))], ids=["Flatten", "Reshape"])
def test_reshaping_layers_check_dy_before_using_it(layer):
    y = layer.forward(np.ones((3, 4), np.float32) if isinstance(layer, Reshape)
                      else np.ones((3, 2, 2), np.float32))
    with pytest.raises(TypeError, match="dy must be a numpy.ndarray"):
        layer.backward(y.tolist())


# --- losses and penalties -----------------------------------------------------------------
@FUZZ
@given(st.sampled_from([MSE, BCE, BCEWithLogits, GaussianNLL]), st.data())
def test_losses(loss_class, data):
    loss = loss_class()
    shape = data.draw(shapes_near((data.draw(st.integers(1, 4)), 3)))
    pred = data.draw(arrays(shape))
    target = data.draw(arrays(data.draw(shapes_near(shape)), dtype=getattr(pred, "dtype", None)))
    status, value = outcome(lambda: loss.forward(pred, target))
    if status == "error":
        return
    assert isinstance(value, float) and np.isfinite(value)
    assert_array(loss.backward(), pred.shape, pred.dtype)


@FUZZ
@given(st.sampled_from(["kl", "l1", "contractive"]), st.data())
def test_penalties(kind, data):
    h = data.draw(arrays(data.draw(shapes_near((data.draw(st.integers(1, 4)), 3)))))
    if kind == "contractive":
        W = data.draw(arrays(data.draw(shapes_near((4, 3)))))
        penalty, call = Contractive(), lambda: Contractive.forward(penalty, h, W)
    else:
        penalty = SparsityKL(0.1) if kind == "kl" else L1Activity()
        call = lambda: penalty.forward(h)   # noqa: E731
    status, value = outcome(call)
    if status == "error":
        return
    assert np.isfinite(value)
    grads = penalty.backward()
    for g in grads if isinstance(grads, tuple) else (grads,):
        assert np.all(np.isfinite(g))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_contractive_refuses_a_non_finite_weight(bad):
    W = np.ones((4, 3))
    W[1, 2] = bad
    with pytest.raises(errors.NonFiniteError, match=r"Contractive.*W contains NaN or inf"):
        Contractive().forward(np.full((2, 3), 0.5), W)


@FUZZ
@given(st.sampled_from(["masking", "gaussian", "salt_and_pepper"]), st.floats(-0.5, 1.5),
       st.data())
def test_corruption(kind, level, data):
    x = data.draw(arrays(data.draw(shapes_near((3, 4)))))
    status, result = outcome(lambda: corrupt(x, kind, level, rng=0), array_input=False)
    if status == "ok":
        assert_array(result, x.shape, x.dtype)


# --- models --------------------------------------------------------------------------------
def models(dtype):
    """(model, per-example shape): 4 features, or 1x4x4 images for the conv models."""
    common = dict(seed=0, verbose=0, dtype=dtype)
    return [
        (Autoencoder(layer_sizes=[4, 3], **common), (4,)),
        (Autoencoder(layer_sizes=[4, 3], reconstruction_loss="mse", tied=True, **common), (4,)),
        (DenoisingAutoencoder(layer_sizes=[4, 3], **common), (4,)),
        (SparseAutoencoder(layer_sizes=[4, 3], **common), (4,)),
        (KSparseAutoencoder(layer_sizes=[4, 3], k=2, **common), (4,)),
        (ContractiveAutoencoder(layer_sizes=[4, 3], **common), (4,)),
        (ConvAutoencoder(input_shape=(1, 4, 4), channels=(2,), n_latent=2, **common), (1, 4, 4)),
        (VAE(layer_sizes=[4, 3, 2], **common), (4,)),
        (VAE(layer_sizes=[4, 3, 2], reconstruction_loss="gaussian", learn_variance=True,
             **common), (4,)),
        (ConvVAE(input_shape=(1, 4, 4), channels=(2,), n_latent=2, **common), (1, 4, 4)),
    ]


@st.composite
def model_cases(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    model, example = draw(st.sampled_from(models(dtype)))
    x = draw(arrays(draw(shapes_near((draw(st.integers(1, 5)),) + example)), dtype=dtype))
    validation = draw(st.none() | arrays(draw(shapes_near((2,) + example)), dtype=dtype))
    batch_size = draw(st.sampled_from([2, 2, 2, 7, 7, 0, -1, 1.5, "3"]))
    return model, example, x, validation, batch_size


@settings(max_examples=80, deadline=None)
@given(model_cases())
def test_models(case):
    model, example, x, validation, batch_size = case
    status, result = outcome(lambda: model.fit(x, epochs=1, batch_size=batch_size,
                                               validation_data=validation), array_input=False)
    if status == "ok":
        assert result is model
        for p in model.parameters():
            assert np.all(np.isfinite(p.value))
        for name, values in model.history_.history.items():
            assert np.all(np.isfinite(values)), name
    dtype = model.dtype_
    status, codes = outcome(lambda: model.transform(x))
    if status == "ok":
        assert codes.shape[0] == len(x) and codes.ndim == 2
        assert_array(codes, codes.shape, dtype)
        assert_array(model.inverse_transform(codes), (len(x),) + example, dtype)
    status, recon = outcome(lambda: model.reconstruct(x))
    if status == "ok":
        assert_array(recon, (len(x),) + example, dtype)


@pytest.mark.parametrize("index", range(10))
def test_integer_images_are_refused_with_the_divide_by_255_hint(index):
    """The policy everywhere (layers, fit, transform): integers are refused, not converted."""
    model, example = models(np.float32)[index]
    pixels = np.random.default_rng(0).integers(0, 256, (4,) + example).astype(np.uint8)
    for call in (lambda: model.fit(pixels, epochs=1), lambda: model.transform(pixels),
                 lambda: model.reconstruct(pixels)):
        with pytest.raises(errors.DTypeError, match=r"X must be float32 or float64, got uint8 "
                                                    r"\(integer images\? divide by 255"):
            call()
    assert model.training_step == 0


WIDTH_MODELS = {   # the models' own checks, not a layer's, report a wrong width
    "Autoencoder": lambda: Autoencoder(layer_sizes=[4, 3], seed=0, verbose=0),
    "tied": lambda: Autoencoder(layer_sizes=[4, 2, 3], tied=True, seed=0, verbose=0),
    "layers": lambda: Autoencoder(Sequential(Sigmoid(), Dense(4, 3, rng=0)),
                                  Sequential(Dense(3, 4, rng=0)), verbose=0),
    "VAE": lambda: VAE(layer_sizes=[4, 3], seed=0, verbose=0),
    "ConvVAE-decoder": lambda: ConvVAE(input_shape=(1, 4, 4), channels=(2,), n_latent=3, seed=0,
                                       verbose=0),
}


@pytest.mark.parametrize("name", sorted(WIDTH_MODELS))
@pytest.mark.parametrize("method", ["fit", "validation", "transform", "reconstruct", "score",
                                    "inverse_transform"])
def test_models_name_the_argument_with_a_wrong_width(name, method):
    model = WIDTH_MODELS[name]()
    good = np.full((3, 4) if name != "ConvVAE-decoder" else (3, 1, 4, 4), 0.5, np.float32)
    calls = {"fit": ("X", lambda: model.fit(np.full((3, 5), 0.5, np.float32), epochs=1)),
             "validation": ("validation_data", lambda: model.fit(
                 good, epochs=1, validation_data=np.full((2, 5), 0.5, np.float32))),
             "transform": ("X", lambda: model.transform(np.full((3, 5), 0.5, np.float32))),
             "reconstruct": ("X", lambda: model.reconstruct(np.full((3, 2, 2), 0.5, np.float32))),
             "score": ("X", lambda: model.score(np.full((3, 5), 0.5, np.float32))),
             "inverse_transform": ("Z", lambda: model.inverse_transform(
                 np.full((3, 4), 0.5, np.float32)))}
    argument, call = calls[method]
    if name == "ConvVAE-decoder" and argument != "Z":
        return                 # X: ConvVAE's own image check (tests/models/test_vae_conv.py)
    expected = "(N, 3)" if argument == "Z" else "(N, 4)"
    with pytest.raises(errors.ShapeError, match=rf"\b{argument} must .* {re.escape(expected)}"
                                                r"[;,] got \(\d, \d"):
        call()
    assert model.training_step == 0


# --- optimizers -----------------------------------------------------------------------------
@FUZZ
@given(st.sampled_from(["adam", "sgd"]),
       st.floats(1e-6, 1) | st.sampled_from([0.0, -1e-3, 10.0, np.nan, np.inf]),
       st.floats(0, 0.99) | st.sampled_from([-0.5, 1.0, 1.5]), st.booleans(),
       st.floats(-1e30, 1e30), st.data())
def test_optimizers(kind, lr, momentum, nesterov, grad_scale, data):
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    p = npae.Parameter(np.linspace(-1, 1, 6).astype(dtype).reshape(2, 3))
    make = (lambda: npae.Adam([p], lr=lr, betas=(momentum, 0.999))) if kind == "adam" else \
        (lambda: npae.SGD([p], lr=lr, momentum=momentum, nesterov=nesterov))
    status, optimizer = outcome(make, array_input=False)
    if status == "error":
        return
    p.grad[:] = np.float32(grad_scale) if abs(grad_scale) < 1e30 else 1.0
    optimizer.step()
    tiny = np.finfo(dtype).tiny
    for a in [p.value] + [b for k in optimizer.buffer_names for b in getattr(optimizer, k)]:
        assert a.dtype == dtype and not np.any((a != 0) & (np.abs(a) < tiny)), "denormals"


# --- data files and datasets -----------------------------------------------------------------
@st.composite
def idx_bytes(draw):
    """An IDX header (mostly plausible) followed by a payload of about the right length."""
    import struct
    code = draw(st.sampled_from([0x08, 0x08, 0x0B, 0x0D, 0x0E, 0x07]))
    sizes = draw(st.lists(st.integers(0, 4), max_size=3))
    header = struct.pack(">HBB", draw(st.sampled_from([0, 0, 0, 1])), code, len(sizes))
    header += b"".join(struct.pack(">I", s) for s in sizes)
    itemsize = {0x08: 1, 0x0B: 2, 0x0D: 4, 0x0E: 8}.get(code, 1)
    length = int(np.prod(sizes)) * itemsize + draw(st.sampled_from([0, 0, 0, -1, 1]))
    payload = draw(st.binary(min_size=max(length, 0), max_size=max(length, 0)))
    return draw(st.sampled_from([header + payload, (header + payload)[:-2]]))


@FUZZ
@given(st.binary(max_size=64) | idx_bytes(), st.booleans())
def test_read_idx_of_random_bytes(raw, gzipped):
    import gzip
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "images.idx")
        with open(path, "wb") as f:
            f.write(gzip.compress(raw) if gzipped else raw)
        status, result = outcome(lambda: read_idx(path), array_input=False)
    if status == "error":
        assert isinstance(result, errors.DataFileError), repr(result)
    else:
        assert isinstance(result, np.ndarray)


@FUZZ
@given(st.data())
def test_binarize(data):
    x = data.draw(arrays(data.draw(shapes_near((3, 4)))))
    status, result = outcome(lambda: binarize(x, rng=0))
    if status == "ok":
        assert_array(result, x.shape, x.dtype)
        assert set(np.unique(result)) <= {0, 1}


@pytest.mark.parametrize("x, found", [(np.full((2, 3), 2.0), r"\[2.0, 2.0\] \(0..255"),
                                      (np.arange(6.0).reshape(2, 3) * 51, r"\[0.0, 255.0\]"),
                                      (np.full((2, 3), -1.0), r"\[-1.0, -1.0\]$")])
def test_binarize_rejects_values_outside_the_unit_interval(x, found):
    with pytest.raises(errors.DomainError,
                       match=r"binarize: x .* \[0, 1\], got values in " + found):
        binarize(x, rng=0)
    edges = np.array([[0.0, 1.0]])            # the interval's ends are fine: always 0, always 1
    np.testing.assert_array_equal(binarize(edges, rng=0), edges)


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(["digits", "shapes"]),
       st.sampled_from([np.float32, np.float64] * 3 + [np.int64, "f2"]),
       st.sampled_from([None, 2, 2, 5, 0, -1, 10**9]),
       st.sampled_from([None, None, "static", "dynamic", "bogus"]))
def test_dataset_load(name, dtype, n, binarization):
    kwargs = dict(dtype=dtype, n_train=n, n_test=n, binarize=binarization)
    if name == "shapes":       # generated, not read: keep it small (10**9 would be a real request)
        kwargs.update(resolution=8, n_train=3 if n in (None, 10**9) else n,
                      n_test=2 if n in (None, 10**9) else n)
    status, data = outcome(lambda: npae.datasets.load(name, **kwargs), array_input=False)
    if status == "ok":
        for x in (data.x_train, data.x_test):
            assert_array(x, x.shape, np.dtype(dtype))
            assert x.min() >= 0 and x.max() <= 1


# --- plotting and the command line ---------------------------------------------------------
PLOTS = {   # name -> (function of one array, the array's natural shape)
    "plot_images": (lambda x: npae.plotting.plot_images(x), (3, 16)),
    "plot_reconstructions": (lambda x: npae.plotting.plot_reconstructions(x, x), (3, 16)),
    "plot_filters": (lambda W: npae.plotting.plot_filters(W), (16, 3)),
    "plot_conv_kernels": (lambda k: npae.plotting.plot_conv_kernels(k), (4, 1, 3, 3)),
    "plot_latent_scatter": (lambda z: npae.plotting.plot_latent_scatter(z, np.arange(len(z)) % 2)
                            if np.ndim(z) else npae.plotting.plot_latent_scatter(z), (6, 3)),
}


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(sorted(PLOTS)), st.data())
def test_plotting(name, data):
    plot, shape = PLOTS[name]
    x = data.draw(arrays(data.draw(shapes_near(shape)), values=data.draw(st.sampled_from(VALUES))))
    status, fig = outcome(lambda: plot(x), array_input=False)
    if status == "ok":
        assert len(fig.axes) >= 1


def test_latent_scatter_of_one_code():
    """auto: one code has no principal axes, so its first two dimensions are shown;
    method='pca' asks for what cannot be done: a ShapeError naming codes."""
    fig = npae.plotting.plot_latent_scatter(np.array([[0.1, 0.2, 0.3]]))
    np.testing.assert_array_equal(fig.axes[0].collections[0].get_offsets(), [[0.1, 0.2]])
    assert fig.axes[0].get_xlabel() == "z[0]"
    with pytest.raises(errors.ShapeError,
                       match=r"codes of shape \(N, K\) with N >= 2, got \(1, 3\)"):
        npae.plotting.plot_latent_scatter(np.array([[0.1, 0.2, 0.3]]), method="pca")


@pytest.mark.parametrize("dtype", [np.uint8, np.int64])
def test_plotting_integer_images_get_the_divide_by_255_message(dtype):
    from npae.plotting import plot_images, plot_reconstructions
    pixels = np.full((2, 16), 200, dtype)
    for call in (lambda: plot_images(pixels), lambda: plot_reconstructions(pixels / 255, pixels)):
        with pytest.raises(errors.DTypeError, match=rf"must be floats, got {np.dtype(dtype)} "
                                                    r"\(integer images\? divide by 255"):
            call()
    plot_images(np.eye(4, dtype=bool))        # booleans are unambiguous 0/1 images


BAD_VALUES = {
    "--epochs": ["0", "-1", "abc", "2.5", ""], "--batch-size": ["0", "-4", "x"],
    "--latent": ["0", "-1", "1e3"], "--k": ["0", "two"], "--lr": ["0", "-1e-3", "inf", "nan", "x"],
    "--beta": ["-1", "inf", "nan", "x"], "--corruption-level": ["-0.1", "1.5", "nan"],
    "--rho": ["0", "1", "nan"], "--dtype": ["float16", "int"], "--activation": ["softmax"],
    "--dataset": ["cifar"], "--backend": ["cuda"], "--threads": ["0"],
}


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["train", "train ae", "train vae", "train ksparse", "demo"]),
       st.sampled_from(sorted(BAD_VALUES)), st.data())
def test_command_line_rejects_bad_options(command, option, data):
    """One line ``npae: error: ...`` naming the option, exit status 2; nothing is trained."""
    import contextlib
    import io
    from npae.__main__ import main
    if command == "demo" and option not in ("--epochs", "--backend", "--threads"):
        option = "--epochs"
    value = data.draw(st.sampled_from(BAD_VALUES[option]))
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        status = main(command.split() + [option, value])
    lines = stderr.getvalue().strip().splitlines()
    assert status == 2 and len(lines) == 1, stderr.getvalue()
    assert lines[0].startswith("npae: error:") and option in lines[0], lines[0]


@pytest.mark.parametrize("argv, status", [([], 2), (["train", "nonsense-model"], 2),
                                          (["evaluate", "/nonexistent/run"], 1),
                                          (["sample", "/nonexistent/run", "-n", "3"], 1)])
def test_command_line_rejects_bad_commands(argv, status, capsys):
    from npae.__main__ import main
    assert main(argv) == status
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("npae: error:") and "Traceback" not in "".join(err)


def test_a_read_only_array_can_become_a_parameter(backend):
    value = np.ones((2, 3), np.float32)
    value.flags.writeable = False
    p = npae.Parameter(value)
    p.grad[:] = 1
    npae.SGD([p], lr=0.5).step()
    np.testing.assert_array_equal(p.value, np.full((2, 3), 0.5, np.float32))
    np.testing.assert_array_equal(value, np.ones((2, 3), np.float32))   # a copy was trained
    writeable = np.ones((2, 3))
    assert npae.Parameter(writeable).value is writeable     # copies only when it must
