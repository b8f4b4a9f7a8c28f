"""Memory layout must not matter: Fortran-order, strided and read-only arrays give the same
results as C-contiguous ones (kernels loop over flat arrays, so a layer that forgot to make
its input contiguous would read the wrong elements)."""
import numpy as np
import pytest

import npae


def layouts(x):
    """x in four memory layouts with equal values."""
    strided = np.empty((x.shape[0] * 2,) + x.shape[1:], x.dtype)[::2]
    strided[...] = x
    read_only = x.copy()
    read_only.setflags(write=False)
    return {"C": np.ascontiguousarray(x), "F": np.asfortranarray(x), "strided": strided,
            "read-only": read_only}


LAYERS = {
    "Dense": lambda: npae.Dense(6, 4, rng=0), "Sigmoid": npae.Sigmoid, "Tanh": npae.Tanh,
    "ReLU": npae.ReLU, "LeakyReLU": lambda: npae.LeakyReLU(0.1), "Softplus": npae.Softplus,
    "Identity": npae.Identity, "Flatten": npae.Flatten,
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layers_give_the_same_forward_and_backward_in_every_layout(name, backend):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 6)).astype(np.float32)
    dy_values = None
    results = {}
    for layout, xl in layouts(x).items():
        layer = LAYERS[name]()
        y = layer.forward(xl)
        if dy_values is None:
            dy_values = rng.standard_normal(y.shape).astype(np.float32)
        dy = layouts(dy_values)[layout]
        dx = layer.backward(dy)
        grads = [p.grad.copy() for p in layer.parameters()]
        results[layout] = (np.array(y), np.array(dx), grads)
    y_c, dx_c, grads_c = results["C"]
    for layout, (y, dx, grads) in results.items():
        np.testing.assert_array_equal(y, y_c, err_msg=layout)
        np.testing.assert_array_equal(dx, dx_c, err_msg=layout)
        for g, g_c in zip(grads, grads_c):
            np.testing.assert_allclose(g, g_c, rtol=1e-6, err_msg=layout)


def test_conv_layers_accept_every_layout():
    x = np.random.default_rng(0).random((2, 1, 6, 6)).astype(np.float32)
    outputs = {layout: npae.Conv2D(1, 2, 3, rng=0).forward(xl) for layout, xl in layouts(x).items()}
    for layout, y in outputs.items():
        np.testing.assert_allclose(y, outputs["C"], rtol=1e-6, err_msg=layout)


@pytest.mark.parametrize("loss", [npae.MSE, npae.BCEWithLogits, npae.BCE])
def test_losses_accept_every_layout(loss):
    rng = np.random.default_rng(1)
    pred, target = rng.uniform(0.1, 0.9, (4, 5)), rng.uniform(0, 1, (4, 5))
    reference = loss()(pred, target)
    for layout, p in layouts(pred).items():
        f = loss()
        assert f(p, layouts(target)[layout]) == pytest.approx(reference, rel=1e-12), layout
        assert f.backward().flags.c_contiguous


def test_models_train_identically_on_every_layout():
    x = (np.random.default_rng(2).random((40, 8)) > 0.5).astype(np.float32)
    codes = {}
    for layout, xl in layouts(x).items():
        model = npae.Autoencoder(layer_sizes=[8, 3], seed=0, verbose=0)
        model.fit(xl, epochs=2, batch_size=10, seed=0)
        codes[layout] = model.transform(xl)
    for layout, z in codes.items():
        np.testing.assert_array_equal(z, codes["C"], err_msg=layout)
