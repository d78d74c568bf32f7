"""Images from a folder of pictures or a tensorflow_datasets image dataset,
decoded once into uint8 arrays of one square size and channel count.

`ganzoo.datasets` is the public front door (`load("path/to/pictures")`,
`load("tfds:cifar10")`); this module does the reading. Decoding, resizing
and channel conversion are TensorFlow's (`tf.io.decode_image`,
`tf.image.resize`) in a parallel tf.data map, after Pillow has read each
photo's EXIF orientation from its header (pictures are turned upright;
transparency goes onto black); the decoded arrays are cached
in-process, so later epochs cost a gather from memory. Nothing is ever
written into the user's folder.
"""

import concurrent.futures
import functools
import hashlib
import logging
import os
import pathlib

import numpy as np
import tensorflow as tf
from PIL import Image

from ganzoo._checks import ArgumentError, check_choice, check_positive_ints

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
# How pictures of another aspect become square; the first is the default.
RESIZE_MODES = ("crop", "pad", "stretch")
DEFAULT_RESIZE = RESIZE_MODES[0]
TFDS_PREFIX = "tfds:"
# The draw behind `limit=N` on a folder: fixed, so every training seed of a
# recipe sees the same N pictures (as MNIST's limited subset is fixed).
LIMIT_DRAW_SEED = 0
_CHUNK = 256
# Files already reported as undecodable: a folder read again (another size,
# or as the reference of a metric) does not repeat the warnings.
_REPORTED = set()
log = logging.getLogger("ganzoo.datasets")


def image_files(folder):
    """The image files under `folder` (recursive, by suffix, hidden files
    and folders skipped), sorted by relative path."""
    root = pathlib.Path(folder).expanduser()
    if not root.exists():
        raise FileNotFoundError(
            f"dataset folder {folder} does not exist; give a folder of "
            "pictures, a tfds:NAME, or mnist / fashion_mnist / ring8 / grid25"
        )
    if not root.is_dir():
        raise ArgumentError(f"dataset {folder} is a file, not a folder")
    files = sorted(
        path
        for path in root.rglob("*")
        if path.suffix.lower() in IMAGE_SUFFIXES
        and not any(p.startswith(".") for p in path.relative_to(root).parts)
        and path.is_file()
    )
    if not files:
        raise ArgumentError(
            f"{folder} holds no image files ({', '.join(IMAGE_SUFFIXES)}), "
            "searched recursively"
        )
    return files


def in_colour(folder, num=50):
    """Whether any of the first `num` pictures of `folder` (path order) is
    in colour by its header (an RGB or CMYK mode, or a palette with a
    colour; Pillow reads no pixels, so a grey picture stored as RGB counts
    as colour); a file Pillow cannot open is passed over."""
    for path in image_files(folder)[:num]:
        try:
            with Image.open(path) as picture:
                mode = picture.mode
                palette = (mode in ("P", "PA") and picture.getpalette()) or []
        except Exception:  # noqa: BLE001 (the decoder reports damage)
            mode, palette = None, []
        if mode in ("RGB", "RGBA", "CMYK", "YCbCr"):
            return True
        rgb = zip(palette[0::3], palette[1::3], palette[2::3])
        if any(r != g or g != b for r, g, b in rgb):
            return True
    return False


def resize(image, size, mode):
    """One decoded image (H, W, C), any dtype, as float32 `size` x `size`:
    centre crop to a square then resize ("crop"), resize inside a black
    frame ("pad"), or resize ignoring the aspect ("stretch")."""
    image = tf.cast(image, tf.float32)
    if mode == "crop":
        h, w = tf.shape(image)[0], tf.shape(image)[1]
        side = tf.minimum(h, w)
        image = tf.image.crop_to_bounding_box(
            image, (h - side) // 2, (w - side) // 2, side, side
        )
    if mode == "pad":
        return tf.image.resize_with_pad(image, size, size, antialias=True)
    return tf.image.resize(image, (size, size), antialias=True)


def to_uint8(image, channels):
    """float32 (H, W, 1 or 3) pixels in [0, 255] as uint8 with `channels`."""
    if channels == 1 and image.shape[-1] == 3:
        image = tf.image.rgb_to_grayscale(image)
    elif channels == 3 and image.shape[-1] == 1:
        image = tf.image.grayscale_to_rgb(image)
    return tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)


# EXIF orientation (tag 0x0112) -> (transpose, quarter turns
# counter-clockwise after it) that shows the picture upright, as Pillow's
# `ImageOps.exif_transpose` does; 1 (and a missing tag) is upright.
_ORIENTATIONS = {
    1: (False, 0),
    2: (True, 3),  # mirrored
    3: (False, 2),
    4: (True, 1),  # flipped upside down
    5: (True, 0),
    6: (False, 3),  # phones held upright: turned a quarter clockwise
    7: (True, 2),
    8: (False, 1),
}
# Formats whose EXIF block Pillow reads with the header (a PNG's may come
# after the pixels, so reading it would decode the picture twice).
_EXIF_FORMATS = ("JPEG", "MPO", "WEBP")


def _layout(path):
    """`(transpose, turns, alpha)` of the picture at `path`, from its
    header: `_ORIENTATIONS`' entry and whether Pillow sees transparency
    (an alpha band or a transparent palette entry: a 32-bit BMP's unused
    4th byte, often 0, is no alpha). Upright and opaque for a file Pillow
    cannot read: TensorFlow's decoder decides on those."""
    try:
        with Image.open(path) as picture:
            tag = 1
            if picture.format in _EXIF_FORMATS:
                tag = picture.getexif().get(0x0112, 1)
            alpha = "A" in picture.getbands() or "transparency" in picture.info
    except Exception:  # noqa: BLE001 (any damage: the decoder reports it)
        tag, alpha = 1, False
    return (*_ORIENTATIONS.get(tag, (False, 0)), alpha)


def _as_rgb(image, alpha):
    """A decoded (H, W, 1-4) uint8 picture as float32 RGB in [0, 255]:
    grey repeated; a 2nd or 4th channel composited onto black as alpha if
    `alpha`, else dropped."""
    x = tf.cast(image, tf.float32)
    count = tf.shape(x)[-1]
    colours = count - (1 - count % 2)  # 1, 1, 3, 3 for 1-4 channels
    opacity = tf.cond(
        tf.logical_and(alpha, count % 2 == 0),
        lambda: x[..., -1:] / 255.0,
        lambda: tf.ones_like(x[..., :1]),
    )
    rgb = tf.tile(x[..., :colours] * opacity, [1, 1, 3 // colours])
    rgb.set_shape([None, None, 3])
    return rgb


def _decode(path, transpose, turns, alpha, size, channels, mode):
    data = tf.io.read_file(path)
    # A JPEG as RGB (a CMYK one too); other formats with their own channels
    # (grey, grey + alpha, RGB, RGBA): every format takes channels=0. A GIF
    # gives its first frame.
    image = tf.cond(
        tf.io.is_jpeg(data),
        lambda: tf.io.decode_jpeg(data, channels=3),
        lambda: tf.io.decode_image(data, channels=0, expand_animations=False),
    )
    image = _as_rgb(image, alpha)
    image = tf.cond(
        transpose, lambda: tf.transpose(image, [1, 0, 2]), lambda: image
    )
    image = tf.image.rot90(image, turns)
    return to_uint8(resize(image, size, mode), channels)


def _decode_files(paths, size, channels, mode):
    """`(ok, images)`: which of `paths` decoded, and their uint8 arrays
    (upright by their EXIF orientation, transparency on black)."""
    names = tf.constant([str(p) for p in paths])
    with concurrent.futures.ThreadPoolExecutor() as pool:
        layout = list(pool.map(_layout, paths))
    transposed, turns, alpha = (
        tf.constant(column, dtype)
        for column, dtype in zip(zip(*layout), (tf.bool, tf.int32, tf.bool))
    )
    ds = tf.data.Dataset.from_tensor_slices(
        (tf.range(len(paths)), names, transposed, turns, alpha)
    )
    ds = ds.map(
        lambda i, p, t, k, a: (i, _decode(p, t, k, a, size, channels, mode)),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    ds = ds.ignore_errors().batch(_CHUNK)
    ids, images = [], []
    for i, x in ds.as_numpy_iterator():
        ids.append(i)
        images.append(x)
    ok = np.zeros(len(paths), bool)
    if ids:
        ok[np.concatenate(ids)] = True
    empty = np.zeros((0, size, size, channels), np.uint8)
    return ok, np.concatenate(images) if images else empty


@functools.lru_cache(maxsize=4)
def folder_arrays(
    folder, size, channels, mode=DEFAULT_RESIZE, limit=None, take=None
):
    """`(images, names)`: uint8 `(N, size, size, channels)` pictures of
    `folder` and their paths relative to it. `limit=N`: N pictures drawn at
    random (seed `LIMIT_DRAW_SEED`); `take=N`: the first N in path order.
    A file that does not decode is skipped with a warning naming it."""
    check_positive_ints(image_size=size, channels=channels)
    check_choice("channels", channels, (1, 3))
    check_choice("resize", mode, RESIZE_MODES)
    if limit is not None and take is not None:
        raise ArgumentError("give limit= or take=, not both")
    for what, value in (("limit", limit), ("take", take)):
        if value is not None:
            check_positive_ints(**{what: value})
    root = pathlib.Path(folder).expanduser()
    files = image_files(folder)
    # More than the folder holds: every file is decoded (no more than asked
    # for), so the error below names how many pictures decode.
    wanted = limit or take or len(files)
    order = np.arange(len(files))
    if limit:
        order = np.random.default_rng(LIMIT_DRAW_SEED).permutation(len(files))
    log.info("Decoding up to %d pictures of %s", wanted, folder)
    keep, arrays, skipped, start = [], [], [], 0
    reported_now = False
    # Decode the draw; replace the files that fail by the next ones.
    while len(keep) < wanted and start < len(files):
        chunk = order[start : start + wanted - len(keep)]
        start += len(chunk)
        ok, images = _decode_files(
            [files[i] for i in chunk], size, channels, mode
        )
        keep += list(chunk[ok])
        arrays.append(images)
        for i in chunk[~ok]:
            if files[i] not in _REPORTED:
                log.warning("Skipping %s: not a decodable image", files[i])
                _REPORTED.add(files[i])
                reported_now = True
            skipped.append(i)
    if reported_now:
        log.warning(
            "%d of the files read in %s could not be decoded and were skipped",
            len(skipped),
            folder,
        )
    if not keep:
        raise ArgumentError(f"{folder}: none of its image files decodes")
    if (limit or take) and len(keep) < wanted:
        what = "limit" if limit else "take"
        raise ArgumentError(
            f"{what}={wanted} > the {len(keep)} pictures of {folder} that "
            f"decode (of its {len(files)} image files); give {what} <= "
            f"{len(keep)}"
        )
    images = np.concatenate(arrays)
    by_path = np.argsort(keep, kind="stable")
    images = np.ascontiguousarray(images[by_path])
    names = tuple(files[keep[i]].relative_to(root).as_posix() for i in by_path)
    images.flags.writeable = False  # shared cache
    return images, names


def manifest(folder, names):
    """`[{"file": name, "sha256": ...}, ...]` of the pictures `names` of
    `folder`: which images trained a run, checkable later."""
    root = pathlib.Path(folder).expanduser()
    rows = []
    for name in names:
        digest = hashlib.sha256((root / name).read_bytes()).hexdigest()
        rows.append({"file": name, "sha256": digest})
    return rows


def tfds_name(name):
    """`NAME` of "tfds:NAME" (config and version allowed: "tfds:a/b:1.0.0")."""
    rest = name[len(TFDS_PREFIX) :]
    if not rest:
        raise ArgumentError(
            f"dataset {name!r}: give tfds:NAME, e.g. tfds:cifar10"
        )
    return rest


def _tfds_builder(name):
    import tensorflow_datasets as tfds  # slow import: only on this path

    try:
        builder = tfds.builder(tfds_name(name))
    except (ValueError, AssertionError) as err:  # unknown name, version
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise ArgumentError(
            f"{name}: not a tensorflow_datasets dataset ({first})"
        ) from None
    if "image" not in builder.info.features:
        raise ArgumentError(
            f"{name} has no 'image' feature (features: "
            f"{', '.join(builder.info.features)})"
        )
    return builder


def tfds_shape(name):
    """`(size or None, channels)` of a tfds dataset's `image` feature."""
    shape = _tfds_builder(name).info.features["image"].shape
    h, w, c = shape
    return (h if h is not None and h == w else None), (c or 3)


def _prepare(builder, name, online):
    if builder.is_prepared():
        return
    if not online():
        raise FileNotFoundError(
            f"{name} is not prepared in {builder.data_dir} and the network "
            "cannot be reached: run tfds.builder("
            f"{tfds_name(name)!r}).download_and_prepare() on a machine with "
            "network and copy the prepared folder to the same place here "
            "(or set TFDS_DATA_DIR), or follow the manual download steps "
            "of the dataset's tfds page"
        )
    log.warning("Preparing %s with tensorflow_datasets (downloads)", name)
    builder.download_and_prepare()


@functools.lru_cache(maxsize=4)
def tfds_arrays(name, split, size, channels, mode, online):
    """uint8 `(N, size, size, channels)` images of a tfds dataset's split
    (labels ignored), in tfds' record order."""
    check_choice("resize", mode, RESIZE_MODES)
    builder = _tfds_builder(name)
    _prepare(builder, name, online)
    try:
        ds = builder.as_dataset(split=split, shuffle_files=False)
    except (ValueError, KeyError) as err:  # an unknown split or slice
        raise ArgumentError(
            f"{name} has no split {split!r} ({err}); splits: "
            f"{', '.join(builder.info.splits) or 'see its tfds page'}"
        ) from None

    def convert(example):
        image = example["image"]
        image = (
            tf.image.grayscale_to_rgb(image) if image.shape[-1] == 1 else image
        )
        image = tf.ensure_shape(image[..., :3], [None, None, 3])
        return to_uint8(resize(image, size, mode), channels)

    ds = ds.map(convert, num_parallel_calls=tf.data.AUTOTUNE).batch(_CHUNK)
    images = [x for x in ds.as_numpy_iterator()]
    if not images:
        raise ArgumentError(f"{name} split {split!r} holds no images")
    images = np.concatenate(images)
    images.flags.writeable = False
    return images


def source_label(name):
    """How a card names a dataset: a folder by its own name (no path of
    one machine), anything else as given."""
    if name.startswith(TFDS_PREFIX):
        return name
    return pathlib.Path(os.path.normpath(name)).name
