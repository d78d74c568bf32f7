"""`ganzoo.images` takes the pictures users have (uint8 0-255, floats in
[0, 1], one image with a channel of 1) and refuses the rest with one
named `ArgumentError` instead of a silently wrong picture or a PIL error."""

import os

import numpy as np
import pytest
from PIL import Image

from ganzoo import _atomic, images, zoo
from ganzoo._checks import ArgumentError


def _uint8_images(n=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28, 1), dtype=np.uint8)


def test_image_grid_of_valid_floats_is_unchanged():
    """Two 2x2 images in [0, 1], side by side with a white 2-px gap."""
    x = np.array([[[0.0, 0.5], [1.0, 0.25]], [[1.0, 0.0], [0.2, 0.8]]])
    grid = images.image_grid(x[..., None], columns=2)
    expected = np.array(
        [[0, 128, 255, 255, 255, 0], [255, 64, 255, 255, 51, 204]], "uint8"
    )
    np.testing.assert_array_equal(grid, expected)


def test_image_grid_reads_uint8_as_0_to_255():
    x = _uint8_images()
    grid = images.image_grid(x, columns=2)
    np.testing.assert_array_equal(grid[:28, :28], x[0, ..., 0])
    np.testing.assert_array_equal(grid[30:, 30:], x[3, ..., 0])
    np.testing.assert_array_equal(grid, images.image_grid(x / 255, columns=2))


@pytest.mark.parametrize(
    "scale, message",
    [
        (
            lambda x: x / 127.5 - 1,
            (
                r"images must be in \[0, 1\] \(got min -1, max 1\); for "
                r"tanh output in \[-1, 1\] use \(x \+ 1\) / 2"
            ),
        ),
        (
            lambda x: x.astype("float32"),
            r"\(got min 0, max 255\); for values 0-255 pass uint8",
        ),
        (lambda x: np.where(x > 9, np.nan, 0.5), "got NaN or infinite values"),
        (lambda x: x.astype(str), "must be numbers"),
    ],
    ids=["tanh-range", "float-0-255", "nan", "strings"],
)
def test_image_grid_refuses_values_outside_0_1(scale, message):
    x = scale(_uint8_images().astype("float64"))
    with pytest.raises(ArgumentError, match=message):
        images.image_grid(x)


def test_image_grid_allows_float_rounding_outside_0_1():
    x = np.full((1, 2, 2, 1), 1.0005, "float32")
    x[0, 0, 0, 0] = -0.0005
    grid = images.image_grid(x)
    np.testing.assert_array_equal(grid, [[0, 255], [255, 255]])


@pytest.mark.parametrize("columns", [0, -2, 2.5, "3", True])
def test_image_grid_refuses_a_bad_column_count(columns):
    with pytest.raises(
        ArgumentError, match="columns must be a positive integer"
    ):
        images.image_grid(np.zeros((4, 28, 28, 1)), columns=columns)


def test_image_grid_refuses_no_images():
    with pytest.raises(ArgumentError, match="images must hold at least one"):
        images.image_grid(np.zeros((0, 28, 28, 1)))


@pytest.mark.parametrize(
    "picture",
    [
        np.linspace(0, 1, 28 * 28, dtype="float32").reshape(28, 28, 1),
        _uint8_images(1)[0],
        _uint8_images(1)[0, ..., 0] / 255,
    ],
    ids=["float-sample", "uint8-channel-1", "grid-over-255"],
)
def test_save_png_takes_one_picture_as_uint8_or_0_1(picture, tmp_path):
    path = tmp_path / "x.png"
    images.save_png(picture, path)
    expected = picture if picture.dtype == np.uint8 else picture * 255
    with Image.open(path) as saved:
        written = np.asarray(saved)
    np.testing.assert_array_equal(
        written, np.asarray(expected).round().astype("uint8").squeeze()
    )
    assert os.listdir(tmp_path) == ["x.png"]


@pytest.mark.parametrize(
    "picture, message",
    [
        (_uint8_images(2), r"save_png needs one picture .* image_grid first"),
        (
            np.zeros((28, 28, 5), "uint8"),
            r"C of 1 to 4 channels, got \(28, 28, 5",
        ),
        (_uint8_images(1)[0] / 127.5 - 1, r"array must be in \[0, 1\]"),
    ],
    ids=["batch", "five-channels", "tanh-range"],
)
def test_save_png_refuses_what_is_not_one_picture(picture, message, tmp_path):
    with pytest.raises(ArgumentError, match=message):
        images.save_png(picture, tmp_path / "x.png")
    assert os.listdir(tmp_path) == []


def test_save_png_refuses_a_name_not_ending_in_png(tmp_path):
    with pytest.raises(ArgumentError, match=r"path must end in \.png.*x\.jpg"):
        images.save_png(np.zeros((4, 4), "uint8"), tmp_path / "x.jpg")
    assert os.listdir(tmp_path) == []


def _no_temp_name(error):
    return ".tmp-" not in str(error)


def test_save_png_into_a_missing_folder_names_the_users_path(tmp_path):
    path = tmp_path / "nodir" / "x.png"
    with pytest.raises(FileNotFoundError, match="does not exist") as info:
        images.save_png(np.zeros((4, 4), "uint8"), path)
    assert str(path) in str(info.value) and _no_temp_name(info.value)


def test_atomic_writers_name_the_users_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist") as info:
        zoo.atomic_save_npy(tmp_path / "nodir" / "x.npy", np.zeros(3))
    assert str(tmp_path / "nodir" / "x.npy") in str(info.value)
    assert _no_temp_name(info.value)
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError, match="file does not") as info:
        _atomic.write_text(tmp_path / "file" / "a.json", "{}")
    assert _no_temp_name(info.value)
    assert os.listdir(tmp_path) == ["file"]


def test_samples_to_image_takes_images_without_a_channel_axis():
    x = _uint8_images(6)
    np.testing.assert_array_equal(
        images.samples_to_image(x[..., 0], columns=3),
        images.samples_to_image(x, columns=3),
    )


@pytest.mark.parametrize("shape", [(6, 784), (6, 3), (6,)])
def test_samples_to_image_names_the_shapes_it_takes(shape):
    with pytest.raises(
        ArgumentError,
        match=r"samples must be images \(n, H, W, C\) or \(n, H, W\), or "
        r"2-D points \(n, 2\), got \(6",
    ):
        images.samples_to_image(np.zeros(shape))


POINTS = np.zeros((10, 2))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"points": np.zeros((0, 2))}, "points must hold at least one"),
        (
            {"points": np.zeros((0, 2)), "extent": 1.0},
            "points must hold at least one",
        ),
        ({"modes": np.zeros((4, 3))}, r"modes must be \(k, 2\), got \(4, 3\)"),
        ({"size": 0}, "size must be a positive integer, got 0"),
        ({"size": -5}, "size must be a positive integer, got -5"),
        ({"size": 2.5}, "size must be a positive integer, got 2.5"),
        ({"extent": 0}, "extent must be a finite number > 0, got 0"),
        ({"extent": -1.5}, "extent must be a finite number > 0, got -1.5"),
    ],
    ids=[
        "no-points",
        "no-points-with-extent",
        "modes-k-3",
        "size-0",
        "size-negative",
        "size-float",
        "extent-0",
        "extent-negative",
    ],
)
def test_scatter_image_names_the_bad_argument(kwargs, message):
    kwargs = {"points": POINTS, **kwargs}
    with pytest.raises(ArgumentError, match=message):
        images.scatter_image(**kwargs)


@pytest.mark.parametrize(
    "series, message",
    [
        ([1, 2], r"series must be a non-empty dict \{name: \[value per epoch"),
        ({}, "series must be a non-empty dict"),
        ({"loss": []}, r"series\['loss'\] must be a non-empty list"),
        ({"loss": 3.0}, r"series\['loss'\] must be a non-empty list"),
    ],
    ids=["list", "empty", "empty-values", "scalar"],
)
def test_line_chart_names_a_bad_series(series, message):
    with pytest.raises(ArgumentError, match=message):
        images.line_chart(series, y_max=2)


def test_sample_grid_skips_the_picture_of_a_nan_generator(tmp_path):
    """TerminateOnNaN stops training, yet Keras still ends the epoch: the
    grid callback must not fail on NaN samples (image_grid refuses them),
    so `train` can say "Training stopped early (NaN loss)"."""
    import contextlib

    from ganzoo import callbacks

    class NanModel:
        def averaged_generator(self):
            return contextlib.nullcontext()

        def sample(self, num, seed=None):
            return np.full((num, 4, 4, 1), np.nan, "float32")

    grid = callbacks.SampleGrid(tmp_path, num=4)
    grid.set_model(NanModel())
    grid.on_epoch_end(0)
    assert list((tmp_path / "samples").iterdir()) == []


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda c, d: c.SampleGrid(d, num=0), "num must be a positive integer"),
        (lambda c, d: c.SampleGrid(d, seed=1.5), "seed must be an integer"),
        (lambda c, d: c.SampleGrid(7), "output_dir must be a folder path"),
        (lambda c, d: c.ModeCoverage("ring8", num=0), "num must be a positive"),
        (lambda c, d: c.ModeCoverage("ring8", seed="0"), "seed must be an"),
    ],
)
def test_callbacks_check_their_arguments_before_training(
    tmp_path, make, message
):
    # These used to fail only at the end of the first epoch.
    from ganzoo import callbacks
    from ganzoo._checks import ArgumentError

    with pytest.raises(ArgumentError, match=message):
        make(callbacks, tmp_path)
