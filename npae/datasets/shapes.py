"""A dSprites-style generator: white 2-D shapes on black with known generative factors.

Matthey et al.'s dSprites (2017), used for β-VAE disentanglement studies (Higgins et al.,
ICLR 2017), draws a square, an ellipse or a heart at a known scale, rotation and position.
This module renders the same kind of images from scratch, at any resolution:

    factors  (shape, scale, rotation, x, y)
    shape    0 square, 1 ellipse, 2 heart
    scale    in [0.5, 1]: the shape's half-size is ``scale * 0.16`` of the image side
    rotation in [0, 2π) radians, counter-clockwise (a square looks the same every π/2,
             an ellipse every π, exactly as in dSprites)
    x, y     in [0, 1]: the centre, left to right and bottom to top, kept far enough from
             the border that every shape leaves a one-pixel empty frame

A pixel's value is the fraction of its ``supersample²`` sub-pixel samples inside the shape,
so edges are anti-aliased (``supersample=1`` gives dSprites' binary images).
"""
import numpy as np

SHAPES = ("square", "ellipse", "heart")
FACTOR_NAMES = ("shape", "scale", "rotation", "x", "y")
SCALE_RANGE = (0.5, 1.0)
HALF_SIZE = 0.16  # of the image side, at scale 1
# A rotated shape reaches at most sqrt(2) half-sizes from its centre (the square's corners);
# the centre stays this far plus one pixel from the border, so no shape is ever cut off.
MAX_EXTENT = 2.0 ** 0.5 * HALF_SIZE * SCALE_RANGE[1]
CHUNK_IMAGES = 256  # render in chunks so sub-pixel arrays stay a few tens of MB


def sample_factors(n, rng):
    """Draw ``n`` factor rows uniformly: shape from {0, 1, 2}, the others from their ranges.

    Returns float64 (n, 5), columns in ``FACTOR_NAMES`` order.
    """
    rng = np.random.default_rng(rng)
    return np.column_stack([
        rng.integers(0, len(SHAPES), size=n).astype(np.float64),
        rng.uniform(*SCALE_RANGE, size=n),
        rng.uniform(0.0, 2.0 * np.pi, size=n),
        rng.uniform(0.0, 1.0, size=n),
        rng.uniform(0.0, 1.0, size=n),
    ])


def render(factors, resolution=32, supersample=2, dtype=np.float32):
    """Render one image per factor row.

    ``factors``: (N, 5) in ``FACTOR_NAMES`` order (see the module docstring).
    Returns (N, resolution, resolution) of ``dtype`` with values in [0, 1].
    """
    factors = np.asarray(factors, dtype=np.float64)
    if factors.ndim != 2 or factors.shape[1] != len(FACTOR_NAMES):
        raise ValueError(f"render: factors must have shape (N, {len(FACTOR_NAMES)}) with columns "
                         f"{FACTOR_NAMES}, got {factors.shape}")
    _check_factors(factors)
    if int(resolution) < 8 or int(supersample) < 1:
        raise ValueError(f"render: need resolution >= 8 and supersample >= 1, "
                         f"got {resolution} and {supersample}")
    images = np.empty((len(factors), resolution, resolution), dtype=dtype)
    for start in range(0, len(factors), CHUNK_IMAGES):
        chunk = factors[start:start + CHUNK_IMAGES]
        images[start:start + len(chunk)] = _render_chunk(chunk, int(resolution), int(supersample))
    return images


def generate(n, resolution=32, rng=None, supersample=2, dtype=np.float32):
    """Sample ``n`` factor rows and render them: returns (images (n, R, R), factors (n, 5))."""
    factors = sample_factors(n, rng)
    return render(factors, resolution, supersample, dtype), factors


def _check_factors(factors):
    shape, scale, rotation, x, y = factors.T
    if not np.all(np.isfinite(factors)):
        raise ValueError("render: factors contain NaN or inf")
    if not np.all(np.isin(shape, np.arange(len(SHAPES)))):
        raise ValueError(f"render: shape factor must be 0, 1 or 2 ({', '.join(SHAPES)})")
    if np.any(scale < SCALE_RANGE[0]) or np.any(scale > SCALE_RANGE[1]):
        raise ValueError(f"render: scale must lie in {SCALE_RANGE}")
    if np.any((x < 0) | (x > 1) | (y < 0) | (y > 1)):
        raise ValueError("render: x and y must lie in [0, 1]")


def _render_chunk(factors, resolution, supersample):
    # float32 is plenty for sub-pixel geometry and halves the memory traffic
    shape, scale, rotation, x, y = (column[:, None, None].astype(np.float32)
                                    for column in factors.T)
    side = resolution * supersample
    # sub-pixel centres in image units: columns left to right, rows top to bottom
    ticks = ((np.arange(side) + 0.5) / side).astype(np.float32)
    margin = MAX_EXTENT + 1.0 / resolution
    centre_x = margin + x * (1.0 - 2.0 * margin)
    centre_y = margin + y * (1.0 - 2.0 * margin)
    dx = ticks[None, None, :] - centre_x
    dy = (1.0 - ticks)[None, :, None] - centre_y  # "up" is the top of the image
    # rotate the sample points by -rotation, i.e. the shape by +rotation, and scale
    cos, sin = np.cos(rotation), np.sin(rotation)
    half_size = HALF_SIZE * scale
    u = (cos * dx + sin * dy) / half_size
    v = (-sin * dx + cos * dy) / half_size
    inside = np.zeros(u.shape, dtype=bool)
    for code, test in enumerate((_square, _ellipse, _heart)):
        rows = shape[:, 0, 0] == code
        if rows.any():
            inside[rows] = test(u[rows], v[rows])
    blocks = inside.reshape(len(factors), resolution, supersample, resolution, supersample)
    return blocks.mean(axis=(2, 4), dtype=np.float32)  # fraction of sub-pixels inside


def _square(u, v):
    return np.maximum(np.abs(u), np.abs(v)) <= 1.0


def _ellipse(u, v):
    # semi-axes 1 and 0.5: elongated, so its rotation is visible
    return u * u + (v / 0.5) ** 2 <= 1.0


def _heart(u, v):
    # the classic heart curve (X² + Y² - 1)³ <= X² Y³, about 2.3 wide and 2.2 tall;
    # shrunk and shifted so it sits inside the unit disc around its centre
    big_x2, big_y = (1.2 * u) ** 2, 1.2 * v + 0.1
    r = big_x2 + big_y * big_y - 1.0
    return r * r * r <= big_x2 * big_y * big_y * big_y
