"""Turning samples into pictures: image grids and 2-D scatter plots."""

import collections.abc
import pathlib

import numpy as np
from PIL import Image

from ganzoo import _atomic
from ganzoo._checks import ArgumentError, check_positive, check_positive_ints

__all__ = [
    "image_grid",
    "line_chart",
    "samples_to_image",
    "save_png",
    "scatter_image",
]

# Float pixels may stray this far outside [0, 1] by rounding (e.g. a
# generator's `(tanh + 1) / 2`); they are clipped, anything further refused.
_RANGE_TOLERANCE = 1e-3


def _unit_floats(images, name):
    """`images` as float32 in [0, 1]: uint8 divided by 255, other numbers
    refused unless in [0, 1] (within `_RANGE_TOLERANCE`, then clipped)."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images.astype("float32") / 255
    if images.dtype.kind not in "biuf":
        raise ArgumentError(
            f"{name} must be numbers (uint8 0-255 or floats in [0, 1]), got "
            f"dtype {images.dtype}."
        )
    images = images.astype("float32")
    if not np.isfinite(images).all():
        raise ArgumentError(
            f"{name} must be in [0, 1], got NaN or infinite values."
        )
    low, high = float(images.min()), float(images.max())
    if low < -_RANGE_TOLERANCE or high > 1 + _RANGE_TOLERANCE:
        hint = (
            "for tanh output in [-1, 1] use (x + 1) / 2"
            if low < -_RANGE_TOLERANCE
            else "for values 0-255 pass uint8 or divide by 255"
        )
        raise ArgumentError(
            f"{name} must be in [0, 1] (got min {low:.4g}, max {high:.4g}); "
            f"{hint}."
        )
    return np.clip(images, 0, 1)


def image_grid(images, columns=None):
    """Tiles `(n, H, W, C)` images into one uint8 array, `columns` per row
    (default: a square). Images are uint8 (0-255) or numbers in [0, 1];
    anything further out (e.g. tanh output in [-1, 1]) is refused, not
    clipped (float rounding within 1e-3 of [0, 1] is clipped).

    Example:
    >>> image_grid(np.zeros((4, 28, 28, 1))).shape
    (58, 58)
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise ArgumentError(f"images must be (n, H, W, C), got {images.shape}.")
    if images.size == 0:
        raise ArgumentError(
            f"images must hold at least one image, got shape {images.shape}."
        )
    if columns is not None:
        check_positive_ints(columns=columns)
    images = _unit_floats(images, "images")
    n, h, w, c = images.shape
    columns = columns or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / columns))
    grid = np.ones((rows * (h + 2) - 2, columns * (w + 2) - 2, c), "float32")
    for i, image in enumerate(images):
        r, col = divmod(i, columns)
        grid[
            r * (h + 2) : r * (h + 2) + h, col * (w + 2) : col * (w + 2) + w
        ] = image
    grid = (np.clip(grid, 0, 1) * 255).round().astype("uint8")
    return grid[..., 0] if c == 1 else grid


def scatter_image(points, size=256, extent=None, modes=None):
    """Rasterises 2-D points (black) and optional modes (red) to RGB uint8.

    Example:
    >>> scatter_image(np.zeros((10, 2)), size=32).shape
    (32, 32, 3)
    """
    points = np.asarray(points, "float32")
    if points.ndim != 2 or points.shape[1] != 2:
        raise ArgumentError(f"points must be (n, 2), got {points.shape}.")
    if len(points) == 0:
        raise ArgumentError("points must hold at least one point, got none.")
    if modes is not None:
        modes = np.asarray(modes, "float32")
        if modes.ndim != 2 or modes.shape[1] != 2:
            raise ArgumentError(f"modes must be (k, 2), got {modes.shape}.")
    check_positive_ints(size=size)
    if extent is None:
        extent = float(np.max(np.abs(points))) * 1.1 + 1e-6
    else:
        check_positive(extent=extent)
    canvas = np.full((size, size, 3), 255, "uint8")

    def pixels(p):
        ij = ((p / extent + 1) / 2 * (size - 1)).round().astype(int)
        ok = np.all((ij >= 0) & (ij < size), axis=1)
        return ij[ok]

    for x, y in pixels(points):
        canvas[size - 1 - y, x] = (0, 0, 0)
    if modes is not None:
        for x, y in pixels(modes):
            canvas[
                max(size - 3 - y, 0) : size + 1 - y, max(x - 1, 0) : x + 2
            ] = (220, 0, 0)
    return canvas


def samples_to_image(samples, columns=None, **kwargs):
    """A picture of model samples: a grid for images `(n, H, W, C)` or
    `(n, H, W)` (`columns` per row), a scatter for 2-D points `(n, 2)`
    (`kwargs` of `scatter_image`).

    Example:
    >>> samples_to_image(np.zeros((6, 28, 28, 1)), columns=3).shape
    (58, 88)
    """
    samples = np.asarray(samples)
    if samples.ndim == 3:
        samples = samples[..., None]
    if samples.ndim == 4:
        return image_grid(samples, columns=columns)
    if samples.ndim != 2 or samples.shape[1] != 2:
        raise ArgumentError(
            "samples must be images (n, H, W, C) or (n, H, W), or 2-D points "
            f"(n, 2), got {samples.shape}; reshape flat images to (n, H, W)."
        )
    return scatter_image(samples, **kwargs)


def save_png(array, path):
    """Writes one picture `(H, W)` or `(H, W, C)`, C = 1 (grey), 2 (grey,
    alpha), 3 (RGB) or 4 (RGBA), to `path` (ending in .png) atomically:
    temp file, then rename. Pixels are uint8 (0-255) or numbers in [0, 1],
    as in `image_grid`; tile a batch of images with `image_grid` first.

    Example:
    >>> save_png(image_grid(model.sample(16)), "grid.png")  # doctest: +SKIP
    """
    if pathlib.Path(path).suffix.lower() != ".png":
        raise ArgumentError(
            f"path must end in .png (save_png writes PNG), got {str(path)!r}."
        )
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if not (array.ndim == 2 or array.ndim == 3 and array.shape[-1] <= 4):
        raise ArgumentError(
            "save_png needs one picture (H, W) or (H, W, C) with C of 1 to 4 "
            f"channels, got {array.shape}; for a batch of images use "
            "image_grid first."
        )
    if array.size == 0:
        raise ArgumentError(f"save_png needs pixels, got shape {array.shape}.")
    if array.dtype != np.uint8:
        array = (_unit_floats(array, "array") * 255).round().astype("uint8")
    with _atomic.temp_path_for(path, suffix=".png") as tmp:
        Image.fromarray(array).save(tmp, format="PNG")


def line_chart(
    series, y_max, title="", size=(480, 320), y_min=0.0, x_label=None
):
    """Draws `{name: [value per epoch]}` as lines on the y range
    `[y_min, y_max]`, as RGB uint8 (Pillow only: matplotlib is not a
    dependency). `x_label` is written under the x axis (default:
    `"epochs 1 .. N"`, N the longest series); the legend goes to the
    corner of the plot that the curves cross least.

    Example:
    >>> line_chart({"modes": [2, 5, 8]}, y_max=8, title="coverage").shape
    (320, 480, 3)
    """
    from PIL import ImageDraw

    if not isinstance(series, collections.abc.Mapping) or not series:
        raise ArgumentError(
            "series must be a non-empty dict {name: [value per epoch]}, got "
            f"{type(series).__name__} {series!r:.60}."
        )
    for name, values in series.items():
        if np.ndim(values) != 1 or not len(values):
            raise ArgumentError(
                f"series[{name!r}] must be a non-empty list of values, got "
                f"{values!r:.60}."
            )
    if not y_min < y_max:
        raise ArgumentError(
            f"y_min must be < y_max, got y_min={y_min!r}, y_max={y_max!r}."
        )
    width, height = size
    left, right, top, bottom = 50, 20, 30, 30
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([left, top, width - right, height - bottom], outline="black")
    epochs = max(len(v) for v in series.values())

    def xy(i, v):
        x = left + (width - left - right) * i / max(epochs - 1, 1)
        span = (v - y_min) / (y_max - y_min)
        y = height - bottom - (height - top - bottom) * span
        return x, y

    for tick in np.linspace(y_min, y_max, 5):
        draw.text((5, xy(0, tick)[1] - 6), f"{tick:.4g}", fill="black")
    draw.text((left, 8), title, fill="black")
    if x_label is None:
        x_label = f"epochs 1 .. {epochs}"
    draw.text((left, height - 20), x_label, fill="black")
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
    lines = [
        [xy(i, v) for i, v in enumerate(values)] for values in series.values()
    ]
    for k, points in enumerate(lines):
        colour = colours[k % len(colours)]
        if len(points) > 1:
            draw.line(points, fill=colour, width=2)
        for x, y in points:
            draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=colour)
    legend = (
        max(draw.textlength(str(name)) for name in series) + 10,
        14 * len(series) + 6,
    )
    x0, y0 = _emptiest_corner(
        lines,
        legend,
        (left + 5, top + 5, width - right - 5, height - bottom - 5),
    )
    for k, name in enumerate(series):
        draw.text(
            (x0 + 5, y0 + 3 + 14 * k), str(name), fill=colours[k % len(colours)]
        )
    return np.asarray(image)


def _emptiest_corner(lines, box, frame):
    """The top-left `(x, y)` of a `box` (width, height) in the corner of
    `frame` (left, top, right, bottom) that the polylines `lines` cross
    least (counted along each segment; ties go to top right, then top
    left, bottom right, bottom left), so that a legend hides no curve it
    need not."""
    left, top, right, bottom = frame
    box_w, box_h = box
    corners = [
        (right - box_w, top),
        (left, top),
        (right - box_w, bottom - box_h),
        (left, bottom - box_h),
    ]
    t = np.linspace(0.0, 1.0, 25)[None, :, None]
    along = []
    for points in lines:
        points = np.asarray(points, dtype=float)
        start, step = points[:-1, None], (points[1:] - points[:-1])[:, None]
        along.append(points)
        along.append((start + t * step).reshape(-1, 2))
    along = np.concatenate(along)

    def crossings(corner):
        x, y = corner
        inside = (
            (along[:, 0] >= x - 4)
            & (along[:, 0] <= x + box_w + 4)
            & (along[:, 1] >= y - 4)
            & (along[:, 1] <= y + box_h + 4)
        )
        return int(inside.sum())

    return min(corners, key=crossings)
