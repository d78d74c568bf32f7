"""KID and FID on Keras' InceptionV3 pool features, for any pictures.

`features(images)` embeds images in the 2048-d global-average-pool space of
`keras.applications.InceptionV3` with ImageNet weights;
`kernel_inception_distance` (KID, Binkowski et al. 2018, arXiv 1801.01401)
and `frechet_inception_distance` (FID, Heusel et al. 2017, arXiv
1706.08500, through `ganzoo.metrics.frechet_distance`) compare two such
feature sets. Unlike the MNIST classifier metrics of `ganzoo.metrics`, they
need no dataset-specific network, so they also score your own pictures.

Not the papers' numbers: this Keras InceptionV3 is not the network of the
TTUR code and pytorch-fid (the 2015 TF Inception graph, with other
weights, resized without antialiasing), so these KID/FID values are
comparable with each other within ganzoo, not with published FID/KID
tables. Compare at equal sample sizes: FID is biased upwards for small N,
KID is unbiased.

The ImageNet weights (`WEIGHTS_FILE`, about 88 MB) are fetched once by Keras' own
`keras.utils.get_file`, md5-checked, into `weights_dir()`:
`$KERAS_HOME/models/` (default `~/.keras/models/`), the file Keras'
`InceptionV3(include_top=False)` itself uses. Offline, download
`WEIGHTS_URL` elsewhere and place the file in that folder.
"""

import functools
import hashlib
import os
import pathlib

import keras
import numpy as np
import tensorflow as tf

from ganzoo._checks import (
    ArgumentError,
    check_non_negative_ints,
    check_positive_ints,
)
from ganzoo.zoo import DownloadError

__all__ = [
    "FEATURE_DIM",
    "IMAGE_SIZE",
    "PROGRESS_FROM",
    "WEIGHTS_FILE",
    "WEIGHTS_MD5",
    "WEIGHTS_URL",
    "feature_extractor",
    "features",
    "frechet_inception_distance",
    "kernel_inception_distance",
    "weights_dir",
]

IMAGE_SIZE = 299
FEATURE_DIM = 2048
# `features(verbose="auto")` shows a progress bar from this many images on
# (a minute or two on a 2-core CPU).
PROGRESS_FROM = 1000
# As in keras/src/applications/inception_v3.py (Keras 3.15), so a file
# Keras already downloaded is reused and vice versa.
WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
WEIGHTS_URL = (
    "https://storage.googleapis.com/tensorflow/keras-applications/"
    f"inception_v3/{WEIGHTS_FILE}"
)
WEIGHTS_MD5 = "bcbd6486424b2319ff4ef7d526e38f63"


def weights_dir():
    """`$KERAS_HOME/models`, or `~/.keras/models`: where the weights live.

    `$KERAS_HOME` is read on each call (Keras reads it once, at import).

    Example:
    >>> weights_dir().name
    'models'
    """
    home = os.environ.get("KERAS_HOME") or os.path.join("~", ".keras")
    return pathlib.Path(home).expanduser() / "models"


@functools.cache
def feature_extractor(weights="imagenet"):
    """InceptionV3 without its top, average-pooled: images to 2048 features.

    Built once per process and `weights`. It takes (B, 299, 299, 3) images
    scaled to [-1, 1]; `features` resizes and scales for you.

    Args:
        weights: `"imagenet"` (downloaded once, see the module docstring) or
            `None` for random weights (only to exercise the code, e.g. in
            tests: its features mean nothing).

    Raises:
        ganzoo.zoo.DownloadError: the weights file is not in `weights_dir()`
            and cannot be downloaded; the message says where to put it.

    Example:
    >>> feature_extractor(weights=None).output_shape
    (None, 2048)
    >>> model = feature_extractor()  # doctest: +SKIP
    """
    if weights not in ("imagenet", None):
        raise ArgumentError(
            f"weights must be 'imagenet' or None, got {weights!r}."
        )
    # The file first: offline, fail before spending seconds on the build.
    path = _weights_path() if weights == "imagenet" else None
    model = keras.applications.InceptionV3(
        include_top=False,
        weights=None,
        input_shape=(IMAGE_SIZE, IMAGE_SIZE, 3),
        pooling="avg",
    )
    if path is not None:
        model.load_weights(path)
    return model


def _weights_path():
    """The verified local weights file, downloaded if missing."""
    folder = weights_dir()
    path = folder / WEIGHTS_FILE
    if path.is_file() and _md5(path) == WEIGHTS_MD5:
        return path
    problem = "fails its md5 check" if path.exists() else "is missing"
    # A folder Keras cannot write makes get_file silently use /tmp/.keras.
    try:
        folder.mkdir(parents=True, exist_ok=True)
        writable = os.access(folder, os.W_OK)
    except OSError:
        writable = False
    reason = f"{folder} is not writable"
    if writable:
        try:
            keras.utils.get_file(
                WEIGHTS_FILE,
                WEIGHTS_URL,
                cache_dir=str(folder.parent),
                cache_subdir=folder.name,
                file_hash=WEIGHTS_MD5,
            )
        except Exception as e:  # noqa: BLE001  (get_file raises bare Exception)
            reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        else:
            if path.is_file() and _md5(path) == WEIGHTS_MD5:
                return path
            reason = "the download failed its md5 check"
        if path.exists() and _md5(path) != WEIGHTS_MD5:
            path.unlink()  # get_file keeps a download that fails its hash.
    raise DownloadError(
        f"InceptionV3 weights {WEIGHTS_FILE} {problem} in {folder} and could "
        f"not be downloaded from {WEIGHTS_URL} ({reason}). If you are "
        f"offline, download that URL elsewhere and place the file in "
        f"{folder} (md5 {WEIGHTS_MD5}; $KERAS_HOME moves the folder)."
    )


def _md5(path):
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def features(images01, model=None, batch_size=50, verbose="auto"):
    """InceptionV3 pool features of images, as float64 (N, 2048).

    Each image is repeated to 3 channels if grayscale, resized to 299x299
    (bilinear, antialiased, so small images are upsampled smoothly) and
    scaled to [-1, 1] as `keras.applications.inception_v3.preprocess_input`
    does, then embedded in batches of `batch_size`. On a CPU that takes
    minutes for thousands of images: `verbose` shows a Keras progress bar
    (1), none (0), or one from `PROGRESS_FROM` images on ("auto").

    Args:
        images01: (N, H, W, C) images, C = 1 or 3: floats in [0, 1], or
            uint8 in [0, 255].
        model: the embedding network; default `feature_extractor()` (ImageNet
            weights). Another Keras model must take images in [-1, 1]; they
            are resized to its input size if it has one.
        batch_size: images per forward pass.
        verbose: "auto", 0 or 1, as Keras' `predict` has it.

    Example:
    >>> images = np.random.default_rng(0).uniform(size=(8, 28, 28, 1))
    >>> features(images).shape  # doctest: +SKIP
    (8, 2048)
    >>> random_net = feature_extractor(weights=None)  # shapes only
    >>> features(images[:2], model=random_net).shape
    (2, 2048)
    """
    x = _as_images(images01)
    check_positive_ints(batch_size=batch_size)
    if model is None:
        model = feature_extractor()
    shape = tuple(model.input_shape[1:3])
    if not all(isinstance(s, int) for s in shape):
        shape = (IMAGE_SIZE, IMAGE_SIZE)
    if verbose not in ("auto", 0, 1):
        raise ArgumentError(
            f"verbose={verbose!r} is not valid; choose from auto, 0, 1."
        )
    if verbose == "auto":
        verbose = int(len(x) >= PROGRESS_FROM)
    bar = keras.utils.Progbar(len(x), unit_name="image") if verbose else None
    scale = 1.0 / 255.0 if x.dtype == np.uint8 else 1.0
    out = []
    for start in range(0, len(x), batch_size):
        batch = x[start : start + batch_size].astype(np.float32) * scale
        batch = _to_inception_input(batch, tf.constant(shape, tf.int32))
        out.append(np.asarray(model.predict_on_batch(batch), np.float64))
        if bar is not None:
            bar.add(len(batch))
    return np.concatenate(out).reshape(len(x), -1)


@tf.function(
    input_signature=[
        tf.TensorSpec([None, None, None, None], tf.float32),
        tf.TensorSpec([2], tf.int32),
    ]
)
def _to_inception_input(images01, size):
    # Broadcasting turns 1 channel into 3 and leaves 3 as they are.
    rgb = tf.broadcast_to(images01, tf.concat([tf.shape(images01)[:3], [3]], 0))
    rgb = tf.image.resize(rgb, size, method="bilinear", antialias=True)
    # preprocess_input's "tf" mode, x / 127.5 - 1 on [0, 255].
    return rgb * 2.0 - 1.0


def _as_images(images):
    """`images` as an (N, H, W, 1 or 3) float array in [0, 1] or uint8."""
    x = np.asarray(images)
    if x.ndim != 4 or x.shape[0] < 1 or x.shape[-1] not in (1, 3):
        raise ArgumentError(
            "images must have shape (N, H, W, C) with N >= 1 and C = 1 or 3, "
            f"got {x.shape}."
        )
    if x.dtype == np.uint8:
        return x
    if not np.issubdtype(x.dtype, np.floating):
        raise ArgumentError(
            f"images must be floats in [0, 1] or uint8, got {x.dtype}."
        )
    if not np.all(np.isfinite(x)):
        raise ArgumentError("images contain NaN or infinite values.")
    low, high = float(x.min()), float(x.max())
    if low < 0.0 or high > 1.0:
        raise ArgumentError(
            f"images must be floats in [0, 1], got values in [{low:.4g}, "
            f"{high:.4g}] (map [-1, 1] images with (x + 1) / 2)."
        )
    return x


def kernel_inception_distance(
    x_features,
    y_features,
    num_subsets=100,
    subset_size=1000,
    seed=0,
    return_std=False,
):
    """KID: unbiased MMD^2 with the kernel k(a, b) = (a.b / d + 1)^3.

    The estimator of Binkowski et al. 2018 (arXiv 1801.01401), averaged over
    `num_subsets` pairs of random subsets of m = min(subset_size, N, M) rows
    (without replacement, `np.random.default_rng(seed)`):
    sum_{i!=j} [k(x_i, x_j) + k(y_i, y_j)] / (m (m - 1))
    - 2 sum_{i,j} k(x_i, y_j) / m^2. Unbiased, so it can be slightly
    negative for two samples of one distribution.

    Args:
        x_features: (N, d) features (N >= 2), e.g. `features(real)`.
        y_features: (M, d) features (M >= 2), e.g. `features(samples)`.
        num_subsets: number of subset pairs averaged.
        subset_size: rows per subset (>= 2), capped at N and M.
        seed: seed of the subset draws (an integer >= 0, or None).
        return_std: also return the std over subsets.

    Returns:
        The mean over subsets, or `(mean, std)` with `return_std`.

    Example:
    >>> kernel_inception_distance([[0.0], [1.0]], [[1.0], [2.0]])
    9.5
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(2, 1000, 16))
    >>> kid = kernel_inception_distance(a, b, num_subsets=10, subset_size=500)
    >>> far = kernel_inception_distance(a, b + 0.5, 10, 500)
    >>> abs(kid) < 0.01, far > 0.1
    (True, True)
    """
    x = _feature_matrix("x_features", x_features)
    y = _feature_matrix("y_features", y_features, cols=x.shape[1])
    check_positive_ints(num_subsets=num_subsets)
    if not (isinstance(subset_size, (int, np.integer)) and subset_size >= 2):
        raise ArgumentError(
            f"subset_size must be an integer >= 2, got {subset_size!r}."
        )
    if seed is not None:
        check_non_negative_ints(seed=seed)
    m = min(subset_size, len(x), len(y))
    rng = np.random.default_rng(seed)
    values = np.empty(num_subsets)
    for i in range(num_subsets):
        a = x[rng.choice(len(x), m, replace=False)]
        b = y[rng.choice(len(y), m, replace=False)]
        values[i] = _polynomial_mmd2(a, b)
    mean = float(values.mean())
    return (mean, float(values.std())) if return_std else mean


def _cubic_kernel(a, b):
    k = a @ b.T / a.shape[1] + 1.0
    return k * k * k  # several times faster than k ** 3


def _polynomial_mmd2(a, b):
    m = len(a)
    k_aa, k_bb, k_ab = (
        _cubic_kernel(a, a),
        _cubic_kernel(b, b),
        _cubic_kernel(a, b),
    )
    within = (k_aa.sum() - np.trace(k_aa) + k_bb.sum() - np.trace(k_bb)) / (
        m * (m - 1)
    )
    return within - 2.0 * k_ab.mean()


def _feature_matrix(name, x, cols=None):
    """`x` as a finite float64 (N, d) array with N >= 2."""
    x = np.asarray(x)
    if x.dtype == object or not np.issubdtype(x.dtype, np.number):
        raise ArgumentError(f"{name} must be a numeric array, got {x.dtype}.")
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 1:
        raise ArgumentError(
            f"{name} must have shape (N, d) with N >= 2 rows, got {x.shape}."
        )
    if cols is not None and x.shape[1] != cols:
        raise ArgumentError(
            f"{name} must have {cols} columns like x_features, got "
            f"{x.shape[1]}."
        )
    x = x.astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise ArgumentError(f"{name} contains NaN or infinite values.")
    return x


def frechet_inception_distance(x_features, y_features):
    """FID: `ganzoo.metrics.frechet_distance` of two feature sets.

    Args:
        x_features: (N, d) features (N >= 2), e.g. `features(real)`.
        y_features: (M, d) features (M >= 2).

    Example:
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=(20000, 2))
    >>> round(frechet_inception_distance(a, a + 3.0))  # ||(3, 3)||^2
    18
    """
    # Imported here: ganzoo.metrics imports this module.
    from ganzoo.metrics import frechet_distance

    return frechet_distance(x_features, y_features)
