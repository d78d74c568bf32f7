"""Differentiable augmentation of the discriminator's inputs (DiffAugment,
Zhao et al. 2020, arXiv 2006.10738) for GANs trained on little data.

The same kind of random transform is applied to real and generated images
before D sees them, in D's and in G's update; it is differentiable in the
images, so G's gradient passes through it. D then cannot memorise the few
real images, and as G is judged on augmented images too, the augmentation
does not leak into the samples (it is never applied when sampling).

Every random number comes from a stateless generator: `augment(images,
policy, seed, start, total)` draws the parameters of `total` examples and
uses rows `start ... start + batch`, so a replica holding part of a global
batch transforms its examples exactly as one device holding all of it would.

Policies (images `(batch, height, width, channels)`, values in
`value_range`):
- `"translation"`: shift by up to 1/8 of the height and width, filling with
  `fill` (DiffAugment's `translation`).
- `"cutout"`: set a random square of half the height and width to `fill`
  (DiffAugment's `cutout`; the square may stick out of the image).
- `"color"`: add a brightness offset in +-1/4 of the value range, scale
  the saturation (images with several channels) by U(0, 2) and the contrast
  by U(0.5, 1.5) (DiffAugment's `color`).
"""

import tensorflow as tf

from ganzoo._checks import ArgumentError

__all__ = [
    "CUTOUT_RATIO",
    "POLICIES",
    "TRANSLATION_RATIO",
    "augment",
    "check_policy",
]


POLICIES = ("translation", "cutout", "color")
TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5


def check_policy(policy):
    """`policy` as a tuple of names; ValueError naming a bad one.

    Accepts a sequence of names or one comma-separated string; an empty one
    means no augmentation.

    Example:
    >>> check_policy("translation,cutout")
    ('translation', 'cutout')
    """
    if policy is None:
        return ()
    if isinstance(policy, str):
        policy = [p.strip() for p in policy.split(",") if p.strip()]
    policy = tuple(policy)
    for name in policy:
        if name not in POLICIES:
            raise ArgumentError(
                f"Unknown augmentation {name!r}; choose from {list(POLICIES)}."
            )
    if len(set(policy)) != len(policy):
        raise ArgumentError(f"Augmentation policy {policy} names one twice.")
    return policy


def augment(
    images,
    policy,
    seed,
    start=0,
    total=None,
    value_range=(-1.0, 1.0),
    fill=None,
):
    """`images` transformed by each transform of `policy`, in order.

    Args:
        images: floats `(batch, height, width, channels)` (a tensor or an
            array).
        policy: names from `POLICIES` (see `check_policy`).
        seed: stateless seed, two integers (a tensor or list of shape
            `(2,)`).
        start, total: these images are rows `start ... start + batch` of a
            global batch of `total` (default: `batch`, i.e. all of it).
        value_range: `(low, high)` of the images' values.
        fill: the value of pixels shifted in or cut out (default `low`, the
            background of digits).

    Example:
    >>> x = tf.zeros((4, 28, 28, 1))
    >>> augment(x, ("translation",), tf.constant([0, 1])).shape
    TensorShape([4, 28, 28, 1])
    """
    policy = check_policy(policy)
    images, seed = tf.convert_to_tensor(images), tf.convert_to_tensor(seed)
    if seed.dtype not in (tf.int32, tf.int64) or (
        seed.shape.rank is not None and seed.shape.as_list() != [2]
    ):
        raise ArgumentError(
            "seed must be a stateless seed, a pair of integers such as "
            f"[0, 1], got {seed.dtype.name} of shape {tuple(seed.shape)}."
        )
    if not images.dtype.is_floating:
        raise ArgumentError(
            f"images must be floats in value_range, got {images.dtype.name}."
        )
    if images.shape.rank != 4:
        raise ArgumentError(
            f"Augmentation needs images (batch, height, width, channels), "
            f"got shape {images.shape}."
        )
    batch = tf.shape(images)[0]
    total = batch if total is None else total
    low, high = value_range
    fill = low if fill is None else fill
    for i, name in enumerate(policy):
        key = tf.random.experimental.stateless_fold_in(seed, i)
        draw = lambda shape, j, *args, key=key, **kw: (
            tf.random.stateless_uniform(
                (total,) + tuple(shape),
                tf.random.experimental.stateless_fold_in(key, j),
                *args,
                **kw,
            )[start : start + batch]
        )
        if name == "translation":
            images = _translate(images, draw, fill)
        elif name == "cutout":
            images = _cutout(images, draw, fill)
        else:
            images = _color(images, draw, high - low)
    return images


def _translate(images, draw, fill):
    height, width = images.shape[1], images.shape[2]
    dy_max = int(height * TRANSLATION_RATIO + 0.5)
    dx_max = int(width * TRANSLATION_RATIO + 0.5)
    dy = draw((1,), 0, -dy_max, dy_max + 1, dtype=tf.int32)
    dx = draw((1,), 1, -dx_max, dx_max + 1, dtype=tf.int32)
    rows = tf.range(height)[None, :] - dy  # source row of each output row
    cols = tf.range(width)[None, :] - dx
    out = tf.gather(
        images, tf.clip_by_value(rows, 0, height - 1), axis=1, batch_dims=1
    )
    out = tf.gather(
        out, tf.clip_by_value(cols, 0, width - 1), axis=2, batch_dims=1
    )
    inside = ((rows >= 0) & (rows < height))[:, :, None] & (
        (cols >= 0) & (cols < width)
    )[:, None, :]
    return tf.where(inside[..., None], out, tf.cast(fill, images.dtype))


def _cutout(images, draw, fill):
    height, width = images.shape[1], images.shape[2]
    size_y = int(height * CUTOUT_RATIO + 0.5)
    size_x = int(width * CUTOUT_RATIO + 0.5)
    # The square's centre is anywhere in the image, so its top-left corner
    # may lie above or left of it.
    centre_y = draw((1,), 0, 0, height + (1 - size_y % 2), dtype=tf.int32)
    centre_x = draw((1,), 1, 0, width + (1 - size_x % 2), dtype=tf.int32)
    top, left = centre_y - size_y // 2, centre_x - size_x // 2
    rows = tf.range(height)[None, :]
    cols = tf.range(width)[None, :]
    in_rows = (rows >= top) & (rows < top + size_y)
    in_cols = (cols >= left) & (cols < left + size_x)
    cut = in_rows[:, :, None] & in_cols[:, None, :]
    return tf.where(cut[..., None], tf.cast(fill, images.dtype), images)


def _color(images, draw, span):
    dtype = images.dtype
    u = lambda j: tf.cast(draw((1, 1, 1), j), dtype)
    images = images + (u(0) - 0.5) * (span / 2)
    if images.shape[-1] > 1:
        mean = tf.reduce_mean(images, axis=3, keepdims=True)
        images = (images - mean) * (u(1) * 2) + mean
    mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
    return (images - mean) * (u(2) + 0.5) + mean
