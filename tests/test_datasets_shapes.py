"""The dSprites-style generator: each factor moves the image the way its name says."""
import numpy as np
import pytest

from npae.datasets import load, shapes

SQUARE, ELLIPSE, HEART = 0, 1, 2


def one(shape=SQUARE, scale=1.0, rotation=0.0, x=0.5, y=0.5, resolution=32, supersample=4):
    return shapes.render([[shape, scale, rotation, x, y]], resolution, supersample)[0]


def centroid(image):
    rows, cols = np.indices(image.shape)
    mass = image.sum()
    return (rows * image).sum() / mass, (cols * image).sum() / mass


def second_moments(image):
    """Variance of the pixel mass along columns (x) and along rows (y)."""
    row_mean, col_mean = centroid(image)
    rows, cols = np.indices(image.shape)
    mass = image.sum()
    return (((cols - col_mean) ** 2 * image).sum() / mass,
            ((rows - row_mean) ** 2 * image).sum() / mass)


def test_images_are_in_unit_range_with_requested_shape_and_dtype():
    factors = shapes.sample_factors(50, rng=0)
    for dtype in (np.float32, np.float64):
        images = shapes.render(factors, resolution=20, supersample=2, dtype=dtype)
        assert images.shape == (50, 20, 20) and images.dtype == dtype
        assert images.min() == 0.0 and images.max() == 1.0
        assert np.all(images.reshape(50, -1).max(axis=1) == 1.0)  # no image is blank


def test_x_moves_right_and_y_moves_up():
    col = [centroid(one(x=x))[1] for x in (0.0, 0.5, 1.0)]
    row = [centroid(one(y=y))[0] for y in (0.0, 0.5, 1.0)]
    assert col[0] < col[1] < col[2] and col[2] - col[0] > 10
    assert row[0] > row[1] > row[2] and row[0] - row[2] > 10  # y = 1 is the top
    np.testing.assert_allclose(centroid(one(x=0.5, y=0.5)), (15.5, 15.5), atol=1e-6)


def test_area_grows_with_the_square_of_the_scale():
    for shape in (SQUARE, ELLIPSE, HEART):
        ratio = one(shape, scale=1.0).sum() / one(shape, scale=0.5).sum()
        assert ratio == pytest.approx(4.0, rel=0.08), shape


def test_square_area_matches_its_geometry():
    side_pixels = 2 * shapes.HALF_SIZE * 32  # at scale 1
    assert one(SQUARE, resolution=32, supersample=8).sum() == pytest.approx(side_pixels ** 2,
                                                                           rel=0.03)


def test_rotation_turns_the_ellipse():
    wide_x, wide_y = second_moments(one(ELLIPSE, rotation=0.0))
    tall_x, tall_y = second_moments(one(ELLIPSE, rotation=np.pi / 2))
    assert wide_x > 3 * wide_y and tall_y > 3 * tall_x
    ellipse = one(ELLIPSE, rotation=0.3)  # an ellipse repeats every π
    assert relative_difference(ellipse, one(ELLIPSE, rotation=0.3 + np.pi)) < 0.02


def relative_difference(a, b):
    return np.abs(a - b).sum() / a.sum()


def test_square_repeats_every_quarter_turn_and_heart_does_not():
    square = one(SQUARE, rotation=0.2)
    assert relative_difference(square, one(SQUARE, rotation=0.2 + np.pi / 2)) < 0.02
    assert relative_difference(square, one(SQUARE, rotation=0.2 + np.pi / 4)) > 0.1
    assert relative_difference(one(HEART), one(HEART, rotation=np.pi / 2)) > 0.15


def test_upright_heart_is_mirror_symmetric_with_lobes_on_top():
    heart = one(HEART, x=0.5, y=0.5)
    np.testing.assert_allclose(heart, heart[:, ::-1], atol=1e-6)
    assert not np.allclose(heart, heart[::-1, :], atol=0.1)
    # the two lobes put more mass in the top half of the shape than the tip in the bottom
    rows = np.nonzero(heart.sum(axis=1) > 0)[0]
    top, bottom = rows[: len(rows) // 2], rows[len(rows) // 2:]
    assert heart[top].sum() > 1.4 * heart[bottom].sum()


def test_shapes_never_touch_the_border():
    corners = [[s, 1.0, np.pi / 4, x, y] for s in range(3) for x in (0, 1) for y in (0, 1)]
    images = shapes.render(corners, resolution=32, supersample=4)
    border = np.concatenate([images[:, 0], images[:, -1], images[:, :, 0], images[:, :, -1]],
                            axis=1)
    assert border.max() == 0.0


def test_supersample_one_gives_binary_images():
    images = shapes.render(shapes.sample_factors(20, rng=1), resolution=16, supersample=1)
    assert set(np.unique(images)) == {0.0, 1.0}


def test_sample_factors_cover_their_ranges():
    factors = shapes.sample_factors(3000, rng=0)
    assert set(np.unique(factors[:, 0])) == {0.0, 1.0, 2.0}
    low = np.array([0.5, 0.0, 0.0, 0.0])
    high = np.array([1.0, 2 * np.pi, 1.0, 1.0])
    assert np.all(factors[:, 1:] >= low) and np.all(factors[:, 1:] <= high)
    np.testing.assert_allclose(factors[:, 1:].mean(axis=0), (low + high) / 2, rtol=0.05)


@pytest.mark.parametrize("factors, message", [
    ([[3, 1.0, 0, 0.5, 0.5]], "shape factor"),
    ([[0, 2.0, 0, 0.5, 0.5]], "scale"),
    ([[0, 1.0, 0, 1.5, 0.5]], "x and y"),
    ([[0, 1.0, np.nan, 0.5, 0.5]], "NaN"),
    ([[0, 1.0, 0, 0.5]], r"shape \(N, 5\)"),
])
def test_bad_factors_are_rejected(factors, message):
    with pytest.raises(ValueError, match=message):
        shapes.render(factors)


def test_load_shapes_returns_factors_labels_and_a_fixed_split():
    data = load("shapes", n_train=40, n_test=10, resolution=24, seed=5)
    assert data.x_train.shape == (40, 576) and data.image_shape == (1, 24, 24)
    assert data.factors_train.shape == (40, 5) and data.factor_names == shapes.FACTOR_NAMES
    np.testing.assert_array_equal(data.y_train, data.factors_train[:, 0].astype(np.int64))
    np.testing.assert_allclose(data.x_test.reshape(10, 24, 24),
                               shapes.render(data.factors_test, 24), rtol=1e-6)
    again = load("shapes", n_train=40, n_test=10, resolution=24, seed=5)
    np.testing.assert_array_equal(again.x_train, data.x_train)
    other = load("shapes", n_train=40, n_test=10, resolution=24, seed=6)
    assert not np.allclose(other.factors_train, data.factors_train)
    assert not np.any(np.all(np.isclose(data.factors_test[:, None], data.factors_train[None]),
                             axis=2))  # train and test are different draws
    assert data.label_names == ("square", "ellipse", "heart")
