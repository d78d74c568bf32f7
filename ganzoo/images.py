"""Turning samples into pictures: image grids and 2-D scatter plots."""

import numpy as np
from PIL import Image

from ganzoo import _atomic
from ganzoo._checks import ArgumentError

__all__ = [
    "image_grid",
    "line_chart",
    "samples_to_image",
    "save_png",
    "scatter_image",
]


def image_grid(images, columns=None):
    """Tiles `(n, H, W, C)` images in [0, 1] into one uint8 array.

    Example:
    >>> image_grid(np.zeros((4, 28, 28, 1))).shape
    (58, 58)
    """
    images = np.asarray(images, "float32")
    if images.ndim != 4:
        raise ArgumentError(f"images must be (n, H, W, C), got {images.shape}.")
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
    if extent is None:
        extent = float(np.max(np.abs(points))) * 1.1 + 1e-6
    canvas = np.full((size, size, 3), 255, "uint8")

    def pixels(p):
        ij = ((p / extent + 1) / 2 * (size - 1)).round().astype(int)
        ok = np.all((ij >= 0) & (ij < size), axis=1)
        return ij[ok]

    for x, y in pixels(points):
        canvas[size - 1 - y, x] = (0, 0, 0)
    if modes is not None:
        for x, y in pixels(np.asarray(modes, "float32")):
            canvas[
                max(size - 3 - y, 0) : size + 1 - y, max(x - 1, 0) : x + 2
            ] = (220, 0, 0)
    return canvas


def samples_to_image(samples, columns=None, **kwargs):
    """A picture of model samples: a grid for images (`columns` per row),
    a scatter for 2-D points (`kwargs` of `scatter_image`).

    Example:
    >>> samples_to_image(np.zeros((6, 28, 28, 1)), columns=3).shape
    (58, 88)
    """
    samples = np.asarray(samples)
    if samples.ndim == 4:
        return image_grid(samples, columns=columns)
    return scatter_image(samples, **kwargs)


def save_png(array, path):
    """Writes a uint8 array as PNG (atomically: temp file, then rename)."""
    with _atomic.temp_path_for(path, suffix=".png") as tmp:
        Image.fromarray(array).save(tmp, format="PNG")


def line_chart(
    series, y_max, title="", size=(480, 320), y_min=0.0, x_label=None
):
    """Draws `{name: [value per epoch]}` as lines on the y range
    `[y_min, y_max]`, as RGB uint8 (Pillow only: matplotlib is not a
    dependency). `x_label` is written under the x axis (default:
    `"epochs 1 .. N"`, N the longest series).

    Example:
    >>> line_chart({"modes": [2, 5, 8]}, y_max=8, title="coverage").shape
    (320, 480, 3)
    """
    from PIL import ImageDraw

    if not series or not all(len(v) for v in series.values()):
        raise ArgumentError("series must map names to non-empty value lists.")
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
    for k, (name, values) in enumerate(series.items()):
        points = [xy(i, v) for i, v in enumerate(values)]
        colour = colours[k % len(colours)]
        if len(points) > 1:
            draw.line(points, fill=colour, width=2)
        for x, y in points:
            draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=colour)
        draw.text((width - right - 150, top + 5 + 14 * k), name, fill=colour)
    return np.asarray(image)
