"""The smallest complete example: a two-layer sigmoid autoencoder on scikit-learn's digits.

    encoder  h = s(x W1 + b1)        64 -> 32
    decoder  x̂ = s(h W2 + b2)        32 -> 64
    loss     ½ Σ_d (x̂ − x)², mean over the batch  (MSE);  Adam.

Everything is an explicit loop over the pieces: forward, loss, backward, step.
"""
import numpy as np

from . import Adam, Dense, MSE, Sequential, Sigmoid


def load_digits_unit(dtype=np.float32):
    """scikit-learn's 8×8 digits as (1797, 64) in [0, 1] (pixel values are 0..16)."""
    from sklearn.datasets import load_digits
    return (load_digits().data / 16.0).astype(dtype)


def train_digits_autoencoder(epochs=10, n_hidden=32, batch_size=32, lr=0.01, seed=0,
                             dtype=np.float32, log=print):
    """Train and return (model, per-epoch losses, mean-image baseline loss)."""
    x = load_digits_unit(dtype)
    rng = np.random.default_rng(seed)
    model = Sequential(Dense(64, n_hidden, rng=rng, dtype=dtype), Sigmoid(),
                       Dense(n_hidden, 64, rng=rng, dtype=dtype), Sigmoid())
    loss = MSE()
    optimizer = Adam(model, lr=lr)
    # baseline: predict every image as the average image
    baseline = loss(np.broadcast_to(x.mean(axis=0), x.shape).copy(), x)
    log(f"mean-image baseline: {baseline:.3f}")
    history = []
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            batch = x[order[start:start + batch_size]]
            optimizer.zero_grad()
            reconstruction = model.forward(batch)
            loss(reconstruction, batch)
            model.backward(loss.backward())
            optimizer.step()
        history.append(loss(model.forward(x), x))
        log(f"epoch {epoch:3d}  reconstruction loss {history[-1]:.3f}  "
            f"({history[-1] / baseline:.0%} of baseline)")
    return model, history, baseline
