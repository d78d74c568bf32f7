"""The reference classifier behind the MNIST / Fashion-MNIST metrics.

A small CNN on 28x28x1 images in [-1, 1] (TF-GAN's "MNIST classifier" role:
its posteriors give the classifier score and modified inception score, its
logits and penultimate features the Frechet distances). The shipped presets
`mnist-classifier` and `fashion-mnist-classifier` were trained by the
maintainer tool `tools/train_classifier.py`; their model cards give the
command, the test accuracy and the wall time.
"""

import sys
import time

import keras
import numpy as np
import scipy.special
from keras import layers

from ganzoo import datasets, presets_io
from ganzoo._checks import ArgumentError, check_positive_ints

__all__ = [
    "IMAGE_SHAPE",
    "LOGITS",
    "PENULTIMATE",
    "as_images",
    "build_classifier",
    "features",
    "train_classifier",
]

IMAGE_SHAPE = (28, 28, 1)
PENULTIMATE = "penultimate"
LOGITS = "logits"
DESCRIPTION = (
    "Reference {name} classifier of ganzoo.metrics (classifier score, "
    "modified inception score, Frechet distance on logits); not a GAN."
)
PROTOCOL = (
    "CNN conv32-pool-conv64-pool-conv128-pool-dense128-dense(C), batch norm "
    "and ReLU after each conv, dropout 0.3, inputs in [-1, 1]; trained on "
    "the full train split (60,000 images, no augmentation), Adam with cosine "
    "decay from 1e-3, batch 128, seed 0; accuracy on the 10,000 test images."
)


def build_classifier(num_classes=10, filters=32, units=128, dropout=0.3):
    """The reference CNN, images in [-1, 1] to `num_classes` logits.

    Three 3x3 conv layers (`filters`, 2x, 4x), each with batch norm, ReLU
    and 2x2 max pooling, then a dense ReLU layer of `units` named
    "penultimate" (the feature layer of `features`) and a linear layer named
    "logits". About 242k weights (a 1 MB weights file) with the defaults.

    Example:
    >>> model = build_classifier()
    >>> model.output_shape, model.get_layer(PENULTIMATE).output.shape
    ((None, 10), (None, 128))
    """
    check_positive_ints(num_classes=num_classes, filters=filters, units=units)
    x_in = keras.Input(IMAGE_SHAPE, name="images")
    x = x_in
    for scale in (1, 2, 4):
        x = layers.Conv2D(filters * scale, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(units, activation="relu", name=PENULTIMATE)(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(num_classes, name=LOGITS)(x)
    return keras.Model(x_in, x, name="classifier")


def features(model, images01, batch_size=500):
    """Logits, penultimate features and probabilities for images in [0, 1].

    Images are rescaled to the classifier's [-1, 1] here. uint8 images are
    divided by 255 first.

    Args:
        model: a classifier from `build_classifier` (or a preset of it).
        images01: (N, 28, 28, 1), (N, 28, 28) or (N, 784) images.
        batch_size: images per forward pass.

    Returns:
        `(logits, penultimate, probs)`, float32 numpy arrays.

    Example:
    >>> logits, feats, probs = features(build_classifier(), np.zeros((3, 784)))
    >>> logits.shape, feats.shape, probs.shape
    ((3, 10), (3, 128), (3, 10))
    """
    x = as_images(images01)
    head = keras.Model(
        model.input,
        [model.get_layer(LOGITS).output, model.get_layer(PENULTIMATE).output],
    )
    logits, feats = [], []
    for start in range(0, len(x), batch_size):
        batch = x[start : start + batch_size] * 2.0 - 1.0
        out = head(batch, training=False)
        logits.append(keras.ops.convert_to_numpy(out[0]))
        feats.append(keras.ops.convert_to_numpy(out[1]))
    logits = np.concatenate(logits).astype(np.float32)
    probs = scipy.special.softmax(logits.astype(np.float64), axis=1)
    return logits, np.concatenate(feats), probs.astype(np.float32)


def as_images(images01):
    """`images01` as float32 (N, 28, 28, 1) in [0, 1], or a ValueError.

    Example:
    >>> as_images(np.full((2, 784), 255, np.uint8)).max()
    np.float32(1.0)
    """
    x = np.asarray(images01)
    if not np.issubdtype(x.dtype, np.number) or x.ndim < 2:
        raise ArgumentError(
            f"images must be a numeric array (N, 28, 28[, 1]) or (N, 784), "
            f"got {x.dtype} {x.shape}."
        )
    if x.size != len(x) * 784 or len(x) == 0:
        raise ArgumentError(f"images must hold N x 784 pixels, got {x.shape}.")
    if x.dtype == np.uint8:
        x = x / 255.0
    x = x.reshape(-1, *IMAGE_SHAPE).astype(np.float32)
    if not np.all(np.isfinite(x)):
        raise ArgumentError("images contain NaN or infinite values.")
    lo, hi = float(x.min()), float(x.max())
    if lo < -1e-3 or hi > 1.0 + 1e-3:
        raise ArgumentError(
            f"images must be in [0, 1] (got min {lo:.3g}, max {hi:.3g}); "
            "rescale generator output, e.g. (x + 1) / 2 for tanh."
        )
    return np.clip(x, 0.0, 1.0)


def train_classifier(
    name="mnist",
    data_dir=None,
    epochs=6,
    batch_size=128,
    learning_rate=1e-3,
    seed=0,
    output=None,
    verbose=2,
):
    """Trains the reference classifier; optionally saves it as a preset.

    Protocol in `PROTOCOL`; the metadata records dataset, protocol, command,
    epochs, wall time and test accuracy.

    Args:
        name: "mnist" or "fashion_mnist".
        data_dir: folder of IDX files (see `ganzoo.datasets.load_arrays`).
        epochs, batch_size, learning_rate, seed: the recipe.
        output: preset folder to write (`ganzoo.presets_io.save_preset`).
        verbose: Keras `fit` verbosity.

    Returns:
        `(model, metadata)`.

    Example:
    >>> model, meta = train_classifier("mnist", epochs=1)  # doctest: +SKIP
    >>> meta["test_accuracy"]  # doctest: +SKIP
    """
    if output is not None:  # before the training, not after it
        presets_io.check_preset_target(output)
    x_train, y_train = datasets.load_arrays(name, "train", data_dir=data_dir)
    x_test, y_test = datasets.load_arrays(name, "test", data_dir=data_dir)
    keras.utils.set_random_seed(seed)
    model = build_classifier(num_classes=int(y_train.max()) + 1)
    steps = epochs * int(np.ceil(len(x_train) / batch_size))
    model.compile(
        optimizer=keras.optimizers.Adam(
            keras.optimizers.schedules.CosineDecay(learning_rate, steps)
        ),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    start = time.time()
    model.fit(
        x_train.astype(np.float32) / 127.5 - 1.0,
        y_train,
        batch_size=batch_size,
        epochs=epochs,
        shuffle=True,
        verbose=verbose,
    )
    wall = time.time() - start
    probs = features(model, x_test)[2]
    accuracy = float((probs.argmax(1) == y_test).mean())
    metadata = {
        "description": DESCRIPTION.format(name=name),
        "dataset": name,
        "protocol": PROTOCOL,
        "command": "python -m tools.train_classifier " + " ".join(sys.argv[1:]),
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "seed": seed,
        "train_wall_time_s": round(wall, 1),
        "test_accuracy": accuracy,
        "metrics": {"test_accuracy": accuracy},
        "input_range": [-1.0, 1.0],
        "penultimate_layer": PENULTIMATE,
        "logits_layer": LOGITS,
    }
    if output:
        # An uncompiled twin: a compiled model's config would bring its
        # compile config and optimizer slots (3x the weights) into the preset.
        bare = build_classifier(num_classes=model.output_shape[-1])
        bare.set_weights(model.get_weights())
        metadata = presets_io.save_preset(bare, output, metadata)
    return model, metadata
