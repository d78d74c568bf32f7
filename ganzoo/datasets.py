"""Training data: MNIST, Fashion-MNIST (local IDX files or tfds), limited
subsets, 2-D toys, a folder of the user's own pictures, or any tensorflow_datasets
image dataset ("tfds:NAME").

A folder is read recursively (PNG, JPEG, BMP, GIF's first frame, WebP);
pictures of any size are brought to `image_size` (centre crop to a square by
default, or `resize="pad"` / `"stretch"`) and to `channels` (grayscale, RGB
and RGBA all convert; transparency onto black; photos upright by their
EXIF orientation), decoded once in a parallel tf.data map and cached in
memory. A file that does not decode is skipped with a warning naming it;
files of other types are ignored; nothing is written into the folder.

Where MNIST and Fashion-MNIST come from, first match wins:
1. `data_dir=`, 2. `$GANZOO_DATA_DIR`: a folder holding the four IDX `.gz`
files, either directly or in a subfolder named after the dataset. These are
read with numpy alone, in the original file order, with no network and
without importing tensorflow_datasets.
3. Only when neither is given: tensorflow_datasets, whose record order is its
own (it shuffles when it prepares a dataset), so the limited-data subsets
need local IDX files.
"""

import functools
import gzip
import logging
import math
import os
import pathlib
import re
import socket
import struct

import numpy as np
import tensorflow as tf

from ganzoo import _pictures
from ganzoo._checks import (
    ArgumentError,
    check_bools,
    check_choice,
    check_interval,
    check_non_negative_ints,
    check_positive,
    check_positive_ints,
    check_seed,
)

__all__ = [
    "DATA_DIR_ENV",
    "DEFAULT_RESIZE",
    "GRID25_MODES",
    "IMAGE_NAMES",
    "IMAGE_SUFFIXES",
    "LIMIT_DRAW_SEED",
    "NAMES",
    "RESIZE_MODES",
    "RING8_MODES",
    "SPLITS",
    "TOY_NAMES",
    "TOY_SIZE",
    "TOY_STDS",
    "check_picture_args",
    "check_reference",
    "data_kind",
    "grid25",
    "image_arrays",
    "image_files",
    "load",
    "load_arrays",
    "manifest",
    "native_shape",
    "reference_arrays",
    "ring8",
    "split_slice",
    "subset_indices",
    "training_files",
    "training_overlap",
]


IMAGE_NAMES = ("mnist", "fashion_mnist")
TOY_NAMES = ("ring8", "grid25")
NAMES = IMAGE_NAMES + TOY_NAMES
SPLITS = ("train", "test")
IMAGE_SUFFIXES = _pictures.IMAGE_SUFFIXES
RESIZE_MODES = _pictures.RESIZE_MODES
DEFAULT_RESIZE = _pictures.DEFAULT_RESIZE
LIMIT_DRAW_SEED = _pictures.LIMIT_DRAW_SEED
image_files = _pictures.image_files
manifest = _pictures.manifest
DATA_DIR_ENV = "GANZOO_DATA_DIR"
TOY_STDS = {"ring8": 0.01, "grid25": 0.05}
TOY_SIZE = 100_000  # points in a toy dataset unless `limit` says otherwise
_ANGLES = 2 * np.pi * np.arange(8) / 8  # not linspace(0, 2pi, 8): 0 == 2pi
RING8_MODES = np.stack([np.cos(_ANGLES), np.sin(_ANGLES)], 1).astype("float32")
GRID25_MODES = np.array(
    [(x, y) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)], "float32"
)
_FILES = {"train": "train-%s-idx%d-ubyte.gz", "test": "t10k-%s-idx%d-ubyte.gz"}
_IMAGE_LABEL = (("images", 3), ("labels", 1))
_IMAGE_MAGIC, _LABEL_MAGIC = 2051, 2049
_FIXES = (
    "point data_dir= or ${env} at a folder holding the four IDX .gz "
    "files ({files}), directly or in a subfolder '{name}/'"
)
log = logging.getLogger(__name__)


def _check_int(arg, value, minimum=1):
    if minimum == 0:
        check_non_negative_ints(**{arg: value})
    else:
        check_positive_ints(**{arg: value})


def _fixes(name):
    names = [_FILES[s] % k for s in SPLITS for k in _IMAGE_LABEL]
    return _FIXES.format(env=DATA_DIR_ENV, files=", ".join(names), name=name)


def _local_dir(name, split, data_dir):
    """The folder holding `name`'s IDX files, or None to use tfds."""
    root = data_dir if data_dir is not None else os.environ.get(DATA_DIR_ENV)
    if not root:
        return None
    root = pathlib.Path(root).expanduser().resolve()
    needed = [_FILES[split] % k for k in _IMAGE_LABEL]
    for folder in (root / name, root):
        if all((folder / f).is_file() for f in needed):
            other = root.name in IMAGE_NAMES and root.name != name
            if folder == root and other:  # e.g. data_dir=.../mnist
                raise ArgumentError(
                    f"data_dir {root} holds '{root.name}', not '{name}'"
                )
            return str(folder)
    raise FileNotFoundError(
        f"{needed} not found in {root / name} nor in {root}; " + _fixes(name)
    )


def _read_idx(path, magic, ndim):
    """A uint8 array from one gzipped IDX file, header and size checked."""
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as err:  # not gzip, or truncated
        raise ArgumentError(f"{path}: corrupt or truncated ({err})") from err
    header = 4 * (1 + ndim)
    if len(raw) < header:
        raise ArgumentError(f"{path}: truncated IDX header ({len(raw)} bytes)")
    found, *dims = struct.unpack(f">{1 + ndim}I", raw[:header])
    if found != magic:
        raise ArgumentError(f"{path}: IDX magic {found}, expected {magic}")
    if len(raw) - header != math.prod(dims):
        raise ArgumentError(
            f"{path}: header promises {dims} = {math.prod(dims)} bytes of "
            f"data, file holds {len(raw) - header} (truncated or corrupt)"
        )
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims)


# tensorflow_datasets fetches through Google's storage first; probed before
# a download so that offline the error comes at once, not after tfds'
# retries (about 200 s).
TFDS_PROBE = ("storage.googleapis.com", 443)


def _online(timeout=3.0):
    try:
        socket.create_connection(TFDS_PROBE, timeout=timeout).close()
        return True
    except OSError:
        return False


def _tfds_arrays(name, split):
    import tensorflow_datasets as tfds  # slow import: only on this path

    builder = tfds.builder(name)
    if not builder.is_prepared():
        if not _online():
            raise FileNotFoundError(
                f"'{name}' is not prepared for tensorflow_datasets and "
                f"{TFDS_PROBE[0]} cannot be reached (offline?): " + _fixes(name)
            )
        log.warning(
            "Preparing %s with tensorflow_datasets; with no network it "
            "retries for minutes before failing. Offline: %s",
            name,
            _fixes(name),
        )
    builder.download_and_prepare()
    data = builder.as_dataset(split=split, batch_size=-1, as_supervised=True)
    return tfds.as_numpy(data)


@functools.lru_cache(maxsize=8)
def _arrays(name, split, folder):
    if folder is None:
        try:
            images, labels = _tfds_arrays(name, split)
        except FileNotFoundError:
            raise
        except Exception as err:
            raise RuntimeError(
                f"Could not load '{name}': no local folder was given and "
                f"tensorflow_datasets failed ({type(err).__name__}: {err}). "
                f"Either {_fixes(name)}; or give tensorflow_datasets network "
                "access (or an already prepared copy) to fetch it."
            ) from err
    else:
        paths = [os.path.join(folder, _FILES[split] % k) for k in _IMAGE_LABEL]
        images = _read_idx(paths[0], _IMAGE_MAGIC, 3)
        labels = _read_idx(paths[1], _LABEL_MAGIC, 1)
        if images.shape[1:] != (28, 28) or len(images) != len(labels):
            raise ArgumentError(
                f"{folder}: images {images.shape} and labels "
                f"{labels.shape} do not match (28x28 images, one label each)"
            )
    images = np.ascontiguousarray(images).reshape(-1, 28, 28, 1)
    labels = np.asarray(labels).astype(np.int64)
    images.flags.writeable = labels.flags.writeable = False  # shared cache
    return images, labels


def load_arrays(name, split="train", data_dir=None):
    """Decoded images and labels of MNIST or Fashion-MNIST.

    With a local folder (`data_dir` or `$GANZOO_DATA_DIR`) the order is the
    original IDX file order; through tensorflow_datasets it is tfds' own
    shuffled order. Arrays are cached in-process and read-only (copy them to
    write).

    Args:
        name: "mnist" or "fashion_mnist".
        split: "train" (60,000 images) or "test" (10,000).
        data_dir: folder with the four IDX .gz files, directly or in a
            subfolder `<name>/`. Defaults to `$GANZOO_DATA_DIR`, then tfds.

    Returns:
        `(images, labels)`: uint8 `(N, 28, 28, 1)` and int64 `(N,)`.

    Example:
    >>> DATA = "../shared/data"  # holds mnist/ and fashion_mnist/
    >>> x, y = load_arrays("mnist", "test", data_dir=DATA)
    >>> x.shape, x.dtype, y[:3]
    ((10000, 28, 28, 1), dtype('uint8'), array([7, 2, 1]))
    """
    check_choice("name", name, IMAGE_NAMES)
    check_choice("split", split, SPLITS)
    return _arrays(name, split, _local_dir(name, split, data_dir))


def subset_indices(labels, limit=None, per_class=None):
    """Indices of the DeLiGAN limited-data subset, in file order.

    `per_class=k` keeps the LAST k images of each class in file order;
    `limit=n` is the same with k = n / (number of classes), so `limit=500`
    on MNIST train is the 500-image set of Gurumurthy et al. 2017 (the last
    50 of each digit). Give one of the two; with neither, all indices.

    Example:
    >>> subset_indices(np.array([0, 1, 0, 1, 0, 1]), limit=4)
    array([2, 3, 4, 5])
    """
    labels = np.asarray(labels)
    if limit is not None and per_class is not None:
        raise ArgumentError("give limit or per_class, not both")
    if limit is None and per_class is None:
        return np.arange(len(labels))
    classes, counts = np.unique(labels, return_counts=True)
    if per_class is None:
        _check_int("limit", limit)
        if limit > len(labels):
            raise ArgumentError(f"limit={limit} > {len(labels)} examples")
        if limit % len(classes):
            raise ArgumentError(
                f"limit={limit} must be a multiple of the {len(classes)} "
                "classes (or use per_class=)"
            )
        per_class = limit // len(classes)
    _check_int("per_class", per_class)
    if per_class > counts.min():
        raise ArgumentError(
            f"per_class={per_class} > {counts.min()}, the smallest class size"
        )
    picks = [np.flatnonzero(labels == c)[-per_class:] for c in classes]
    return np.sort(np.concatenate(picks))


def _toy(modes, num, seed, std):
    _check_int("num", num, minimum=0)
    check_positive(std=std)
    if seed is not None:
        check_non_negative_ints(seed=seed)  # numpy's: no upper bound
    rng = np.random.default_rng(seed)
    which = rng.integers(len(modes), size=num)
    points = modes[which] + std * rng.standard_normal((num, 2))
    return points.astype("float32"), which.astype("int64")


def ring8(num, seed=None, std=0.01, radius=1.0):
    """`num` points from 8 Gaussians on a circle (VEEGAN / PacGAN toy).

    Example:
    >>> ring8(2500, seed=0).shape
    (2500, 2)
    """
    check_positive(radius=radius)
    return _toy(radius * RING8_MODES, num, seed, std)[0]


def grid25(num, seed=None, std=0.05):
    """`num` points from 25 Gaussians at {-4,-2,0,2,4}^2 (PacGAN toy).

    Example:
    >>> grid25(2500, seed=0).shape
    (2500, 2)
    """
    return _toy(GRID25_MODES, num, seed, std)[0]


def _image_arrays(name, split, data_dir, limit, per_class, take):
    folder = _local_dir(name, split, data_dir)
    subset = limit is not None or per_class is not None
    if subset and take is not None:
        raise ArgumentError("give take= or limit=/per_class=, not both")
    if (subset or take is not None) and folder is None:
        raise ArgumentError(
            "limit=, per_class= and take= select by the ORIGINAL file order, "
            f"which tensorflow_datasets does not keep: {_fixes(name)}"
        )
    x, y = _arrays(name, split, folder)
    if take is not None:
        _check_int("take", take)
        if take > len(y):
            raise ArgumentError(f"take={take} > {len(y)} examples")
        return x[:take], y[:take]
    if subset:
        keep = subset_indices(y, limit, per_class)
        return x[keep], y[keep]
    return x, y


def data_kind(name, arg="dataset"):
    """What `name` names: "idx" (MNIST, Fashion-MNIST), "toy", "tfds"
    ("tfds:NAME") or "folder" (an existing folder of pictures); else a
    one-line error listing the choices.

    Example:
    >>> data_kind("mnist"), data_kind("ring8"), data_kind("tfds:cifar10")
    ('idx', 'toy', 'tfds')
    """
    if isinstance(name, os.PathLike):
        name = os.fspath(name)
    if not isinstance(name, str) or not name:
        raise ArgumentError(f"{arg}={name!r}: give a dataset name or folder")
    if name in IMAGE_NAMES:
        return "idx"
    if name in TOY_NAMES:
        return "toy"
    if name.startswith(_pictures.TFDS_PREFIX):
        _pictures.tfds_name(name)
        return "tfds"
    path = pathlib.Path(name).expanduser()
    if path.is_dir():
        return "folder"
    raise ArgumentError(
        f"{arg}={name!r}: choose from {', '.join(NAMES)}, an existing "
        "folder of pictures, or tfds:NAME"
        + (" (it is a file)" if path.exists() else "")
    )


def native_shape(name):
    """`(image_size, channels)` a dataset comes in: (28, 1) for MNIST and
    Fashion-MNIST, the `image` feature's for tfds (size None when it
    varies), (None, None) for a folder (its pictures vary; the network's
    shape decides) and for the 2-D toys.

    Example:
    >>> native_shape("fashion_mnist")
    (28, 1)
    """
    kind = data_kind(name)
    if kind == "idx":
        return 28, 1
    if kind == "tfds":
        return _pictures.tfds_shape(name)
    return None, None


def check_picture_args(
    name, image_size=None, channels=None, resize=DEFAULT_RESIZE
):
    """ArgumentError for a picture argument `name`'s data would not read:
    `image_size` / `channels` for a 2-D toy, a `resize` other than "crop"
    for data that is square already (MNIST-family, toys); and a `resize`
    not in `RESIZE_MODES`. `load` and `TrainConfig` check with it.

    Example:
    >>> check_picture_args("ring8", image_size=28)
    Traceback (most recent call last):
    ...
    ganzoo._checks.ArgumentError: image_size= and channels= mean nothing for ring8: its examples are 2-D points.
    """
    check_choice("resize", resize, RESIZE_MODES)
    kind = data_kind(name)
    if kind == "toy" and (image_size is not None or channels is not None):
        raise ArgumentError(
            f"image_size= and channels= mean nothing for {name}: its "
            "examples are 2-D points."
        )
    if kind in ("toy", "idx") and resize != DEFAULT_RESIZE:
        raise ArgumentError(
            f"resize={resize!r} squares pictures of a folder or a tfds "
            f"dataset; {name} does not read it (leave it at {DEFAULT_RESIZE!r})."
        )


def _picture_shape(name, image_size, channels):
    """`(image_size, channels)` to read the pictures of `name` at: the
    arguments given, else its `native_shape` (3 channels for a folder);
    checked."""
    size0, channels0 = native_shape(name)
    size = size0 if image_size is None else image_size
    channels = (channels0 or 3) if channels is None else channels
    if size is None:
        why = (
            "its pictures vary in size"
            if data_kind(name) == "tfds"
            else "a folder's pictures are read at one size"
        )
        raise ArgumentError(f"{name}: {why}; give image_size= (e.g. 64)")
    check_positive_ints(image_size=size)
    check_choice("channels", channels, (1, 3))
    return size, channels


def image_arrays(
    name,
    split="train",
    image_size=None,
    channels=None,
    resize=DEFAULT_RESIZE,
    data_dir=None,
    limit=None,
    take=None,
    per_class=None,
):
    """uint8 `(N, image_size, image_size, channels)` images of any image
    dataset (defaults: its `native_shape`; a folder needs `image_size`).

    A folder has no splits (`split` must be "train"); `limit=N` takes N of
    its pictures by a random draw with seed `LIMIT_DRAW_SEED` (the same N
    for every training seed), `take=N` the first N by path. For MNIST and
    Fashion-MNIST, `limit` / `per_class` / `take` are `load_arrays`'
    subsets. For "tfds:NAME", `split` is any tfds split string
    ("train[:80%]"). Arrays are cached in-process and read-only.

    Example:
    >>> image_arrays("mnist", "test", image_size=32, channels=3,
    ...              data_dir="../shared/data").shape
    (10000, 32, 32, 3)
    """
    name = os.fspath(name) if isinstance(name, os.PathLike) else name
    kind = data_kind(name)
    if kind == "toy":
        raise ArgumentError(f"{name} holds 2-D points, not images")
    size, channels = _picture_shape(name, image_size, channels)
    check_choice("resize", resize, RESIZE_MODES)
    if kind == "folder":
        check_choice("split", split, ("train",))  # a folder has one split
        if per_class is not None:
            raise ArgumentError("per_class= needs classes; a folder has none")
        return _folder_arrays(name, size, channels, resize, limit, take)[0]
    if kind == "tfds":
        if limit is not None or per_class is not None or take is not None:
            raise ArgumentError(
                "limit=, per_class= and take= are for local data; select "
                "tfds examples with a split string, e.g. split='train[:500]'"
            )
        return _pictures.tfds_arrays(
            name, split, size, channels, resize, _online
        )
    check_choice("split", split, SPLITS)
    x, _ = _image_arrays(name, split, data_dir, limit, per_class, take)
    return _reshaped(x, size, channels)


def _reshaped(x, size, channels):
    """MNIST-family arrays at another size or channel count."""
    if x.shape[1:] == (size, size, channels):
        return x
    images = tf.image.resize(
        tf.cast(x, tf.float32), (size, size), antialias=True
    )
    images = _pictures.to_uint8(images, channels).numpy()  # the whole batch
    images.flags.writeable = False
    return images


def _folder_arrays(name, image_size, channels, resize, limit, take):
    """`_pictures.folder_arrays` of a folder named as the user gave it."""
    folder = str(pathlib.Path(name).expanduser().resolve())
    return _pictures.folder_arrays(
        folder, image_size, channels, resize, limit, take
    )


def training_files(
    name, image_size, channels=3, resize=DEFAULT_RESIZE, limit=None, take=None
):
    """The `manifest` of the pictures `load(folder, ...)` trains on:
    `[{"file": relative path, "sha256": ...}]`.

    Example:
    >>> training_files("my_pictures", 64, limit=2)  # doctest: +SKIP
    [{'file': 'a.jpg', 'sha256': '...'}, {'file': 'b/c.png', 'sha256': '...'}]
    """
    _, names = _folder_arrays(name, image_size, channels, resize, limit, take)
    return _pictures.manifest(name, names)


_SPLIT_SPEC = re.compile(r"^(train|test|validation)(\[[^\]]*\])?$")


def reference_arrays(
    reference, dataset, image_size=None, channels=None, data_dir=None
):
    """uint8 real images to compare samples with, by spec:

    - None: `dataset`'s test split (a folder: the folder itself);
    - a split of `dataset` with an optional slice, "train[50000:]",
      "test[:5000]" (MNIST-family: IDX file order; tfds: its own syntax),
      e.g. held-out training images to choose recipes on;
    - any other dataset name: a folder, "tfds:NAME" (its test split), or
      "mnist" / "fashion_mnist" (test split).

    Example:
    >>> reference_arrays("train[50000:]", "mnist",
    ...                  data_dir="../shared/data").shape
    (10000, 28, 28, 1)
    """

    def of(name, split):
        kind = data_kind(name)
        if kind == "folder":
            return image_arrays(name, "train", image_size, channels)
        return image_arrays(
            name, split, image_size, channels, data_dir=data_dir
        )

    if reference is None:
        return of(dataset, "test")
    match = _SPLIT_SPEC.match(reference) if isinstance(reference, str) else None
    if match is None:
        _check_reference(reference, dataset)
        return of(reference, "test")
    if data_kind(dataset) == "tfds":
        return of(dataset, reference)
    split, lo, hi = _idx_split(reference, dataset)
    part = of(dataset, split)[lo:hi]
    if not len(part):
        raise ArgumentError(f"reference={reference!r} selects no images")
    return part


def _idx_split(reference, dataset):
    """`split_slice` of the split spec `reference` of an IDX `dataset`; an
    `ArgumentError` naming it for any other dataset or split."""
    split, lo, hi = split_slice(reference, dataset)
    if split not in SPLITS or data_kind(dataset) != "idx":
        raise _reference_error(
            reference, dataset, f"{dataset} has no split {split!r}"
        )
    return split, lo, hi


def check_reference(reference, dataset):
    """The quick part of `reference_arrays`' checks, before anything slow
    (loading InceptionV3, decoding): an `ArgumentError` unless `reference`
    is None, a split of `dataset` (any for tfds; train or test for the
    MNIST family, with integer slices) or a dataset name, and unless the
    folder it names (or `dataset`, for None) holds image files. Reading
    the images may still fail (none decodes, an empty slice).

    Example:
    >>> check_reference("no/such/folder", "mnist")
    Traceback (most recent call last):
    ...
    ganzoo._checks.ArgumentError: reference='no/such/folder' ...
    """
    name = dataset
    if reference is not None:
        if isinstance(reference, str) and _SPLIT_SPEC.match(reference):
            if data_kind(dataset) != "tfds":
                _idx_split(reference, dataset)
            return
        _check_reference(reference, dataset)
        name = reference
    if data_kind(name) == "folder":
        image_files(name)


def split_slice(spec, dataset):
    """`(split, start, stop)` of an IDX split spec such as "train[50000:]"
    (start and stop None where open; no slice: both None), or None when
    `spec` names no split; `ArgumentError` for a slice that is not
    integer indices.

    Example:
    >>> split_slice("train[50000:]", "mnist"), split_slice("test", "mnist")
    (('train', 50000, None), ('test', None, None))
    """
    match = _SPLIT_SPEC.match(spec) if isinstance(spec, str) else None
    if match is None:
        return None
    split, where = match.groups()
    if where is None:
        return split, None, None
    try:
        lo, hi = (int(v) if v.strip() else None for v in where[1:-1].split(":"))
    except ValueError:
        raise _reference_error(
            spec, dataset, "give a slice of example indices"
        ) from None
    return split, lo, hi


def training_overlap(reference, card, data_dir=None):
    """How many of the train images that a run trained on lie in
    `reference`, a slice of the train split such as "train[50000:]"; 0 for
    any other reference (a test split, a folder, tfds:NAME) or a dataset
    other than MNIST's family. `card`: what the run trained on, a preset's
    metadata (or any mapping) with `dataset` and, optionally, `take` (the
    first `take` images) or `limit` (`subset_indices`; neither: all).
    Nonzero: `reference` is not held out.

    Example:
    >>> training_overlap("train[50000:]", {"dataset": "mnist", "limit": 500})
    ... # doctest: +SKIP
    500
    """
    dataset, take = card["dataset"], card.get("take")
    parsed = split_slice(reference, dataset)
    if data_kind(dataset) != "idx" or parsed is None or parsed[0] != "train":
        return 0
    _, labels = load_arrays(dataset, "train", data_dir=data_dir)
    if take:
        trained = np.arange(min(take, len(labels)))
    else:
        trained = subset_indices(labels, limit=card.get("limit"))
    _, lo, hi = parsed
    return int(np.intersect1d(np.arange(len(labels))[lo:hi], trained).size)


def _check_reference(reference, dataset):
    """An `ArgumentError` naming `reference` unless it names a dataset (a
    folder, tfds:NAME, mnist or fashion_mnist)."""
    try:
        data_kind(reference, arg="reference")
        return
    except ArgumentError:
        if not isinstance(reference, str) or not reference:
            raise
    path = pathlib.Path(reference).expanduser()
    if "[" in reference:  # a misspelt split, e.g. "trian[50000:]"
        split = reference.split("[")[0]
        why = (
            f"{dataset} has no split {split!r}"
            if data_kind(dataset) == "idx"
            else f"{split!r} is not a split (train, test or validation)"
        )
    elif path.exists():
        why = f"{path} is a file, not a folder of pictures"
    elif os.sep in reference or reference.startswith((".", "~")):
        why = f"folder {path} does not exist"
    else:
        why = "no dataset or folder has that name"
    raise _reference_error(reference, dataset, why)


def _reference_error(reference, dataset, why):
    """`why` `reference` is wrong, and what it may be."""
    kind = data_kind(dataset)
    if kind == "idx":
        splits = (
            f", or a split of {dataset} ({' or '.join(SPLITS)}) with an "
            "optional slice, e.g. train[50000:] or test[:5000]"
        )
    elif kind == "tfds":
        splits = f", or a tfds split of {dataset}, e.g. train[:10%]"
    else:
        splits = f" ({dataset} has no splits)"
    return ArgumentError(
        f"reference={reference!r}: {why}; give a folder of pictures, "
        f"tfds:NAME, {' or '.join(IMAGE_NAMES)}{splits}."
    )


def load(
    name,
    split="train",
    batch_size=64,
    data_dir=None,
    limit=None,
    per_class=None,
    value_range=(-1.0, 1.0),
    shuffle=True,
    seed=None,
    repeat=False,
    with_labels=False,
    drop_remainder=True,
    take=None,
    image_size=None,
    channels=None,
    resize=DEFAULT_RESIZE,
):
    """A batched, shuffled, prefetched `tf.data.Dataset` of one dataset.

    Images are float32 `(B, image_size, image_size, channels)` scaled to
    `value_range` ((-1, 1) for tanh generators, (0, 1) for the GAN paper's
    sigmoid MLP); with `with_labels` (MNIST-family and toys), elements are
    `(images, labels)`. `name` is "mnist", "fashion_mnist", a folder of
    pictures, or "tfds:NAME" (any tensorflow_datasets dataset with an
    `image` feature, labels ignored; downloaded by tfds when online).
    `image_size` / `channels` default to the data's own (28 / 1 for MNIST;
    a folder needs `image_size` and is RGB unless `channels=1`); `resize`
    says how other aspects become square (`image_arrays`).

    `limit` / `per_class` select the limited-data subset of
    `subset_indices`; `take=n` keeps the first n examples (the GAN paper
    trains on train[:50000]); all three need local IDX files. On a folder,
    `limit=n` draws n pictures at random (seed `LIMIT_DRAW_SEED`) and
    `take=n` keeps the first n by path. Shuffling is fresh each epoch
    (deterministic for a given `seed`, an integer in [0, 2**63)). With
    `repeat`, the order is a stateless permutation per pass keyed by
    `(seed, pass)`, so every worker of a MultiWorkerMirroredStrategy
    reads the very batches one device would (tf.data's seeded `shuffle` is
    re-seeded when the strategy rewrites the pipeline for its workers).

    For "ring8" / "grid25", elements are float32 `(B, 2)` points (labels:
    the mode index), `limit` is the number of points (default `TOY_SIZE`),
    `seed` also fixes the points, and `value_range` is ignored.

    Example:
    >>> ds = load("mnist", batch_size=100, data_dir="../shared/data", limit=500)
    >>> next(iter(ds)).shape  # 5 batches: the last 50 of each digit
    TensorShape([100, 28, 28, 1])
    """
    name = os.fspath(name) if isinstance(name, os.PathLike) else name
    kind = data_kind(name, "name")
    _check_int("batch_size", batch_size)
    if seed is not None:  # also TensorFlow's (`_stateless_order`): int64
        check_seed(seed, non_negative=True)
    check_bools(
        shuffle=shuffle,
        repeat=repeat,
        with_labels=with_labels,
        drop_remainder=drop_remainder,
    )
    check_picture_args(name, image_size, channels, resize)
    if kind == "toy":
        check_choice("split", split, ("train",))  # toys have one split
        given = [
            f"{n}={v}"
            for n, v in (("per_class", per_class), ("take", take))
            if v is not None
        ]
        if given:
            raise ArgumentError(
                f"{' and '.join(given)}: {name} has no fixed set of points "
                "to take from (it draws `limit` fresh ones); use limit=."
            )
        num = TOY_SIZE if limit is None else limit
        _check_int("limit", num)
        modes = RING8_MODES if name == "ring8" else GRID25_MODES
        x, y = _toy(modes, num, seed, TOY_STDS[name])
        scale = tf.identity
    else:
        check_interval("value_range", value_range)
        lo, hi = (float(v) for v in value_range)
        if kind == "idx":
            check_choice("split", split, SPLITS)
            size, chans = _picture_shape(name, image_size, channels)
            x, y = _image_arrays(name, split, data_dir, limit, per_class, take)
            x = _reshaped(x, size, chans)
        else:
            if with_labels:
                raise ArgumentError(
                    f"with_labels=True: {name} is read without labels"
                )
            x = image_arrays(
                name,
                split,
                image_size,
                channels,
                resize,
                data_dir,
                limit,
                take,
                per_class,
            )
            y = np.zeros(len(x), np.int64)

        def scale(images):
            return tf.cast(images, tf.float32) * ((hi - lo) / 255.0) + lo

    if drop_remainder and len(x) < batch_size:
        raise ArgumentError(
            f"batch_size={batch_size} > the {len(x)} examples selected, "
            "with drop_remainder=True: no batch would be produced; give a "
            "smaller batch_size (--batch_size) or more data"
        )
    if shuffle and repeat:
        xs, ys = tf.constant(x), tf.constant(y)
        ds = (
            _stateless_order(len(x), seed)
            .batch(batch_size, drop_remainder=drop_remainder)
            .map(lambda i: (tf.gather(xs, i), tf.gather(ys, i)))
        )
    else:
        ds = tf.data.Dataset.from_tensor_slices((x, y))
        if shuffle:
            ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        if repeat:
            ds = ds.repeat()
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    if with_labels:
        ds = ds.map(lambda a, b: (scale(a), b), num_parallel_calls=-1)
    else:
        ds = ds.map(lambda a, b: scale(a), num_parallel_calls=-1)
    options = tf.data.Options()
    # In-memory data has no files to shard across workers.
    policy = tf.data.experimental.AutoShardPolicy.DATA
    options.experimental_distribute.auto_shard_policy = policy
    return ds.with_options(options).prefetch(tf.data.AUTOTUNE)


def _stateless_order(n, seed):
    """Indices of `n` examples in an endless stream of passes, each pass a
    permutation drawn statelessly from `(seed, pass index)`."""
    if seed is None:
        seed = int(np.random.default_rng().integers(2**31))

    def permutation(index):
        key = tf.stack([tf.constant(seed, tf.int64), index])
        return tf.random.experimental.stateless_shuffle(
            tf.range(n, dtype=tf.int64), seed=key
        )

    order = tf.data.Dataset.range(np.iinfo(np.int64).max).map(permutation)
    return order.unbatch()
