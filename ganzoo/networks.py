"""Builders for the generator / discriminator pairs the presets use.

Every builder returns a functional `keras.Model` (serialisable as is) and has
a width knob so tests can build tiny versions. Generators map a latent
vector to data; discriminators map data to one unnormalised score per
example (a logit for GAN, a linear score for LSGAN). Under a mixed-precision
policy that last score layer stays float32 (one dot product per example):
the losses take its log / square. Generator outputs (sigmoid, tanh) stay in
the compute dtype; `GAN.sample` returns float32.

| builder | paper | output range |
|---|---|---|
| `mnist_mlp_generator` / `mnist_maxout_discriminator` | GAN (1406.2661) | [0, 1] |
| `deligan_mnist_generator` / `deligan_mnist_discriminator` | ganzoo's simplified DeLiGAN-style MNIST pair | [-1, 1] |
| `deligan_mnist_dense_discriminator`, `deligan_mnist_sn_discriminator` | that D with a hidden dense layer; with spectral normalisation | |
| `deligan_paper_mnist_generator` / `deligan_paper_mnist_discriminator` | DeLiGAN (1706.02071), the authors' MNIST code | [-1, 1] |
| `deligan_cifar_generator` / `deligan_cifar_discriminator` (32x32x3) | DeLiGAN, the authors' CIFAR-10 code | [-1, 1] |
| `dcgan_mnist_generator` / `dcgan_mnist_discriminator` | DCGAN-style | [-1, 1] |
| `dcgan_generator` / `dcgan_discriminator` (any `DCGAN_SIZES`, 1 or 3 channels) | DCGAN (1511.06434) | [-1, 1] |
| `toy_generator` / `toy_discriminator` | 2-D toys | unbounded |
| `toy_tanh_generator` / `toy_tanh_discriminator` | LSGAN's ring experiment | unbounded |
"""

import contextlib
import dataclasses
import math
import warnings

import keras
import tensorflow as tf
from keras import layers

from ganzoo._checks import ArgumentError, _is_int, check_non_negative_ints
from ganzoo._checks import check_positive_ints as _check_positive
from ganzoo.layers import (
    KeyedDropout,
    KeyedGaussianNoise,
    Maxout,
    MinibatchDiscrimination,
)

__all__ = [
    "CIFAR_SHAPE",
    "DCGAN_SIZES",
    "MNIST_SHAPE",
    "NETWORKS",
    "NetworkSpec",
    "dcgan_discriminator",
    "dcgan_generator",
    "dcgan_mnist_discriminator",
    "dcgan_mnist_generator",
    "deligan_cifar_discriminator",
    "deligan_cifar_generator",
    "deligan_mnist_dense_discriminator",
    "deligan_mnist_discriminator",
    "deligan_mnist_generator",
    "deligan_mnist_sn_discriminator",
    "deligan_paper_mnist_discriminator",
    "deligan_paper_mnist_generator",
    "gan_paper_mnist_discriminator",
    "gan_paper_mnist_generator",
    "mnist_maxout_discriminator",
    "mnist_mlp_generator",
    "remapper_fails",
    "remapper_off",
    "toy_discriminator",
    "toy_generator",
    "toy_tanh_discriminator",
    "toy_tanh_generator",
]

MNIST_SHAPE = (28, 28, 1)
CIFAR_SHAPE = (32, 32, 3)
# NetworkSpec fields of the pairs that make MNIST-shaped images only.
_MNIST_IMAGES = dict(
    data="images", image_sizes=MNIST_SHAPE[:1], channels=MNIST_SHAPE[2:]
)
# Square sizes the `dcgan` pair builds: base x 2^k with a base of 4 to 7.
DCGAN_SIZES = (16, 28, 32, 48, 64, 96, 128)


def mnist_mlp_generator(latent_dim=100, units=1200, image_shape=MNIST_SHAPE):
    """The GAN paper's MNIST generator: two ReLU layers of `units`, sigmoid.

    Output pixels are in [0, 1] (use `data_range=(0, 1)` in the model).

    Example:
    >>> g = mnist_mlp_generator(latent_dim=4, units=8)
    >>> g.output_shape
    (None, 28, 28, 1)
    """
    _check_positive(latent_dim=latent_dim, units=units)
    image_shape = _check_image_shape(image_shape)
    z = keras.Input((latent_dim,), name="latent")
    x = layers.Dense(units, activation="relu")(z)
    x = layers.Dense(units, activation="relu")(x)
    x = layers.Dense(math.prod(image_shape), activation="sigmoid")(x)
    x = layers.Reshape(image_shape)(x)
    return keras.Model(z, x, name="mnist_mlp_generator")


def mnist_maxout_discriminator(
    units=240, pieces=5, input_dropout=0.2, dropout=0.5, image_shape=MNIST_SHAPE
):
    """The GAN paper's MNIST discriminator: maxout(240x5) twice, one logit.

    Dropout rates are drop probabilities (the paper's keep probabilities 0.8
    on the input and 0.5 on hidden units). The masks are `KeyedDropout`'s:
    in a ganzoo model's training step (at the same `jit_compile`), the same
    on N replicas as on one device.

    Example:
    >>> d = mnist_maxout_discriminator(units=8, pieces=2)
    >>> d.output_shape
    (None, 1)
    """
    _check_positive(units=units, pieces=pieces)
    image_shape = _check_image_shape(image_shape)
    x_in = keras.Input(image_shape, name="images")
    x = layers.Flatten()(x_in)
    x = KeyedDropout(input_dropout)(x) if input_dropout else x
    for _ in range(2):
        x = Maxout(units, pieces)(x)
        x = KeyedDropout(dropout)(x) if dropout else x
    x = layers.Dense(1, name="logit", dtype="float32")(x)
    return keras.Model(x_in, x, name="mnist_maxout_discriminator")


def gan_paper_mnist_generator(latent_dim=100, units=1200):
    """`mnist_mlp_generator` initialised as goodfeli/adversarial's
    `mnist.yaml` does: every kernel ~ U(-0.05, 0.05) (pylearn2's `irange`),
    biases 0. Its output bias can start at the data's log-odds instead
    (`TrainConfig.g_output_bias="data"`), as the yaml's
    `init_sigmoid_bias_from_marginals`.

    Example:
    >>> g = gan_paper_mnist_generator(latent_dim=4, units=8)
    >>> float(abs(g.layers[1].kernel).numpy().max()) <= 0.05
    True
    """
    return _uniform_kernels(mnist_mlp_generator(latent_dim, units), 0.05)


def gan_paper_mnist_discriminator(units=240, pieces=5):
    """`mnist_maxout_discriminator` initialised as `mnist.yaml` does: every
    kernel ~ U(-0.005, 0.005), biases 0 (Keras' default Glorot init is about
    ten times larger).

    Example:
    >>> d = gan_paper_mnist_discriminator(units=8, pieces=2)
    >>> float(abs(d.get_layer("logit").kernel).numpy().max()) <= 0.005
    True
    """
    return _uniform_kernels(mnist_maxout_discriminator(units, pieces), 0.005)


def _uniform_kernels(model, init_range):
    """Redraws every kernel of `model` from U(-init_range, init_range)
    (from Keras' global seed, as the initialisers it replaces)."""
    init = keras.initializers.RandomUniform(-init_range, init_range)
    for weight in model.weights:
        if weight.path.endswith("kernel"):
            weight.assign(init(weight.shape, weight.dtype))
    return model


def deligan_mnist_generator(latent_dim=30, filters=16, batch_norm=True):
    """ganzoo's simplified DeLiGAN-style MNIST generator: FC to 4x4x(4f),
    5x5 deconvs to 7x7x(2f), 14x14x(f), 28x28x1 with tanh (f = `filters`).

    Not the authors' net (that is `deligan_paper_mnist_generator`: a 3x3
    first deconv, batch norm on the dense units before the reshape); the
    presets were trained with this one.

    Batch norm is synchronised across replicas, so the update does not depend
    on how many devices share a batch.

    Example:
    >>> deligan_mnist_generator(latent_dim=4, filters=2).output_shape
    (None, 28, 28, 1)
    """
    _check_positive(latent_dim=latent_dim, filters=filters)
    z = keras.Input((latent_dim,), name="latent")
    x = layers.Dense(4 * 4 * 4 * filters)(z)
    x = layers.Reshape((4, 4, 4 * filters))(x)
    x = _bn_relu(x, batch_norm)
    # kernel 5, stride 2, 'same', output_padding 0: 4 -> 7.
    x = layers.Conv2DTranspose(
        2 * filters, 5, strides=2, padding="same", output_padding=0
    )(x)
    x = _bn_relu(x, batch_norm)
    x = layers.Conv2DTranspose(filters, 5, strides=2, padding="same")(x)
    x = _bn_relu(x, batch_norm)
    x = layers.Conv2DTranspose(
        1, 5, strides=2, padding="same", activation="tanh"
    )(x)
    return keras.Model(z, x, name="deligan_mnist_generator")


def deligan_mnist_discriminator(
    filters=16, minibatch_kernels=50, image_shape=MNIST_SHAPE
):
    """ganzoo's simplified DeLiGAN-style MNIST discriminator: 3x3 conv
    16/32/64 (stride 2, leaky ReLU), minibatch discrimination (over the
    global batch under data parallelism, see `MinibatchDiscrimination`),
    one logit. `minibatch_kernels=0` drops the minibatch layer (then the
    net is per-example).

    Not the authors' net (that is `deligan_paper_mnist_discriminator`: 5x5
    convs, batch norm, a max-pool to 64 features, grand-sum-normalised
    minibatch features); the presets were trained with this one.

    Example:
    >>> deligan_mnist_discriminator(filters=2, minibatch_kernels=3).output_shape
    (None, 1)
    """
    return _deligan_mnist_d(
        filters,
        minibatch_kernels,
        image_shape,
        0,
        "deligan_mnist_discriminator",
    )


def deligan_mnist_dense_discriminator(
    filters=16, minibatch_kernels=50, image_shape=MNIST_SHAPE
):
    """`deligan_mnist_discriminator` with a hidden layer: the three strided
    convs, then a dense layer of `16 * filters` units (leaky ReLU 0.2),
    minibatch discrimination on those units, one logit.

    The convs' last features each see 15x15 pixels and the plain net reads
    them out linearly; the hidden layer lets D weigh the whole digit's
    shape (as the fully connected layer of InfoGAN's MNIST D does).

    Example:
    >>> deligan_mnist_dense_discriminator(filters=2).get_layer("hidden").units
    32
    """
    return _deligan_mnist_d(
        filters,
        minibatch_kernels,
        image_shape,
        16 * filters,
        "deligan_mnist_dense_discriminator",
    )


def deligan_mnist_sn_discriminator(
    filters=16, minibatch_kernels=50, image_shape=MNIST_SHAPE
):
    """`deligan_mnist_discriminator` with spectral normalisation (after
    Miyato et al. 2018, arXiv 1802.05957) of its three convs and its logit
    layer; the minibatch layer's kernel is left as is.

    Keras' `keras.layers.SpectralNormalization` differs from the paper: on
    every call with `training=True` (D's passes on real and generated
    images, and its pass in G's step) it divides the kernel, reshaped to
    (inputs, outputs), by its largest singular value estimated with one
    power iteration, and writes the result back into the kernel, so no
    gradient flows through that value. Between calls the optimizer moves
    the kernels off norm 1 again. The wrappers compute in float32 under a
    mixed-precision policy (the convs inside them in the policy's dtype),
    so the kernels they rewrite are not rounded to 16 bits.

    Example:
    >>> d = deligan_mnist_sn_discriminator(filters=2, minibatch_kernels=3)
    >>> type(d.get_layer("logit")).__name__
    'SpectralNormalization'
    """
    return _deligan_mnist_d(
        filters,
        minibatch_kernels,
        image_shape,
        0,
        "deligan_mnist_sn_discriminator",
        spectral_norm=True,
    )


def _deligan_mnist_d(
    filters, minibatch_kernels, image_shape, hidden, name, spectral_norm=False
):
    _check_positive(filters=filters)
    image_shape = _check_image_shape(image_shape)

    def normed(layer, **kwargs):
        if not spectral_norm:
            return layer
        return layers.SpectralNormalization(layer, **kwargs)

    x_in = keras.Input(image_shape, name="images")
    x = x_in
    for mult in (1, 2, 4):
        conv = layers.Conv2D(mult * filters, 3, strides=2, padding="same")
        x = normed(conv, dtype="float32")(x)
        x = layers.LeakyReLU(0.2)(x)
    x = layers.Flatten()(x)
    if hidden:
        x = layers.Dense(hidden, name="hidden")(x)
        x = layers.LeakyReLU(0.2)(x)
    if minibatch_kernels:
        x = MinibatchDiscrimination(minibatch_kernels, 5)(x)
    if spectral_norm:  # the wrapper is the "logit" layer, float32 as well
        logit = layers.SpectralNormalization(
            layers.Dense(1, dtype="float32"), name="logit", dtype="float32"
        )
    else:
        logit = layers.Dense(1, name="logit", dtype="float32")
    x = logit(x)
    return keras.Model(x_in, x, name=name)


def deligan_paper_mnist_generator(latent_dim=30, filters=16):
    """The generator of the DeLiGAN authors' MNIST code (arXiv 1706.02071;
    val-iisc/deligan `src/mnist/dg_mnist.py`): dense to 4x4x(4f) with batch
    norm on its units and ReLU; a 3x3 stride-2 deconv to 7x7x(2f), 5x5
    stride-2 to 14x14x(f), each with batch norm and ReLU; 5x5 stride-2 to
    28x28x1 with tanh, in [-1, 1] (f = `filters`, 16 in the original).

    As the original: batch norm momentum 0.9, epsilon 1e-5, scales drawn
    from N(1, 0.02); deconv kernels from a normal truncated at 2 std of 0.02,
    the dense kernel Glorot-uniform (TF's default there). Batch norm is
    synchronised across replicas (the original ran on one device). The
    mixture latent lives in `ganzoo.DeLiGAN`, not here.

    Example:
    >>> deligan_paper_mnist_generator(latent_dim=4, filters=2).output_shape
    (None, 28, 28, 1)
    """
    _check_positive(latent_dim=latent_dim, filters=filters)

    def deconv(width, kernel, **kwargs):
        return layers.Conv2DTranspose(
            width, kernel, 2, "same", kernel_initializer=_truncated(), **kwargs
        )

    def bn_relu(x):
        gamma = _normal(1.0, 0.02)
        return _bn_relu(
            x, True, momentum=0.9, epsilon=1e-5, gamma_initializer=gamma
        )

    z = keras.Input((latent_dim,), name="latent")
    x = layers.Dense(4 * 4 * 4 * filters)(z)
    # Normalised per dense unit, before the reshape, as the original.
    x = bn_relu(x)
    x = layers.Reshape((4, 4, 4 * filters))(x)
    # output_padding 0 makes this TF's conv2d_transpose to 7x7 (4 -> 7).
    x = bn_relu(deconv(2 * filters, 3, output_padding=0)(x))
    x = bn_relu(deconv(filters, 5)(x))
    x = deconv(1, 5, activation="tanh")(x)
    return keras.Model(z, x, name="deligan_paper_mnist_generator")


def deligan_paper_mnist_discriminator(filters=16, minibatch_kernels=None):
    """The discriminator of the DeLiGAN authors' MNIST code (val-iisc/deligan
    `src/mnist/dg_mnist.py`): 5x5 stride-2 conv to f with leaky ReLU 0.2 (no
    batch norm); 5x5 stride-2 to 2f and 3x3 stride-2 to 4f, each with batch
    norm and leaky ReLU (28 -> 14 -> 7 -> 4); a 4x4 max-pool (stride 1,
    valid) to 4f features; minibatch discrimination with
    `minibatch_kernels` kernels of 5 (default 4f, as the original) and
    `normalization="grand_sum"`; the 4f + kernels features to one logit
    (f = `filters`, 16 in the original).

    As the original: conv kernels from a normal truncated at 2 std of 0.02,
    the logit's kernel N(0, 0.02), batch norm momentum 0.9 (epsilon 1e-3,
    scale 1). Batch norm is synchronised across replicas, and the minibatch
    features compare each example with the global batch (see
    `MinibatchDiscrimination`), so the update is the same on N replicas as
    on one device.

    Differences kept: the original's minibatch kernel is weight-normalised
    (a direction and a per-row log-scale); here it is one plain kernel, the
    same family of functions with a different parametrisation (so a
    different optimisation path) and initial scale.

    Example:
    >>> d = deligan_paper_mnist_discriminator(filters=2)
    >>> d.output_shape, d.get_layer("minibatch").num_kernels
    ((None, 1), 8)
    """
    _check_positive(filters=filters)
    if minibatch_kernels is None:
        minibatch_kernels = 4 * filters
    _check_positive(minibatch_kernels=minibatch_kernels)
    x_in = keras.Input(MNIST_SHAPE, name="images")
    conv = lambda width, kernel: layers.Conv2D(
        width, kernel, 2, "same", kernel_initializer=_truncated()
    )
    x = conv(filters, 5)(x_in)
    x = layers.LeakyReLU(0.2)(x)
    for width, kernel in ((2 * filters, 5), (4 * filters, 3)):
        x = conv(width, kernel)(x)
        x = layers.BatchNormalization(synchronized=True, momentum=0.9)(x)
        x = layers.LeakyReLU(0.2)(x)
    x = layers.MaxPooling2D(4, strides=1, padding="valid")(x)
    x = layers.Flatten()(x)
    x = MinibatchDiscrimination(
        minibatch_kernels, 5, normalization="grand_sum", name="minibatch"
    )(x)
    x = layers.Dense(
        1, name="logit", dtype="float32", kernel_initializer=_normal(0.0, 0.02)
    )(x)
    return keras.Model(x_in, x, name="deligan_paper_mnist_discriminator")


def deligan_cifar_generator(latent_dim=100, filters=128):
    """The generator of the DeLiGAN authors' CIFAR-10 code (arXiv
    1706.02071; val-iisc/deligan `src/cifar/dg_cifar.py`, Theano/Lasagne):
    dense to 4x4x(4f) with batch norm on its units and ReLU; 5x5 stride-2
    deconvs to 8x8x(2f) and 16x16x(f), each with batch norm and ReLU; a 5x5
    stride-2 deconv to 32x32x3 with tanh, in [-1, 1] (f = `filters`, 128 in
    the original: 512, 256, 128 channels).

    As the original: batch norm without a scale (its `g=None`), momentum
    0.9, epsilon 1e-6, no bias before it; the deconvs keep Theano's
    alignment (2 pixels of padding on each side). Batch norm is
    synchronised across replicas. The mixture latent lives in
    `ganzoo.DeLiGAN`, not here.

    Differences kept: the last deconv is weight-normalised in the original,
    with a data-dependent initialisation (pre-tanh std 0.1 on a first
    batch); Keras has no such layer, so here it is a plain deconv, and all
    kernels start from Keras' Glorot-uniform default rather than the
    original's N(0, 0.05) directions.

    Example:
    >>> deligan_cifar_generator(latent_dim=4, filters=2).output_shape
    (None, 32, 32, 3)
    """
    _check_positive(latent_dim=latent_dim, filters=filters)
    bn = dict(scale=False, momentum=0.9, epsilon=1e-6)
    z = keras.Input((latent_dim,), name="latent")
    x = layers.Dense(4 * 4 * 4 * filters, use_bias=False)(z)
    # Normalised per dense unit, before the reshape, as the original.
    x = _bn_relu(x, True, **bn)
    x = layers.Reshape((4, 4, 4 * filters))(x)
    for width in (2 * filters, filters):
        x = _theano_deconv(x, width, use_bias=False)
        x = _bn_relu(x, True, **bn)
    x = _theano_deconv(x, CIFAR_SHAPE[2], activation="tanh")
    return keras.Model(z, x, name="deligan_cifar_generator")


def deligan_cifar_discriminator(
    filters=96, minibatch_kernels=100, noise_stddev=0.2, dropout=0.5
):
    """The discriminator of the DeLiGAN authors' CIFAR-10 code
    (val-iisc/deligan `src/cifar/dg_cifar.py`), unsupervised: Gaussian
    noise (std 0.2); three 3x3 convs to f, the third stride 2 (32 -> 16);
    dropout 0.5; three 3x3 convs to 2f, the third stride 2 (16 -> 8);
    dropout 0.5; a 3x3 valid conv to 2f (8 -> 6); two 1x1 convs to 2f; a
    global mean pool; minibatch discrimination (`minibatch_kernels` x 5,
    standard normalisation, over the global batch under data parallelism;
    `0` drops it, making the net per-example); one logit. Every conv has
    leaky ReLU 0.2 (f = `filters`, 96 in the original: 96 and 192
    channels). Noise and dropout act only in training
    (`KeyedGaussianNoise`, `KeyedDropout`: the same on N replicas as on one
    device); the stride-2 convs pad 1 pixel on each side, as Theano. No
    batch norm.

    Differences kept, and why:
    - No weight normalisation or its data-dependent initialisation (each
      layer rescaled on 500 training images before training): Keras has
      no such layer, and D here trains from Keras' default initialisers.
    - One logit instead of the original's 10 class logits: the original is
      the semi-supervised model of Salimans et al., whose unsupervised
      "real" logit is log-sum-exp of the 10; ganzoo's models are
      unsupervised, and with one class that logit is the output itself.
    - The minibatch layer is ganzoo's `MinibatchDiscrimination`: a plain
      kernel instead of a weight-normalised one, and no per-kernel bias
      (followed by the linear logit, a bias on the features only shifts the
      logit's bias).

    Example:
    >>> deligan_cifar_discriminator(filters=2, minibatch_kernels=3).output_shape
    (None, 1)
    """
    _check_positive(filters=filters)
    check_non_negative_ints(minibatch_kernels=minibatch_kernels)
    x_in = keras.Input(CIFAR_SHAPE, name="images")
    x = KeyedGaussianNoise(noise_stddev)(x_in) if noise_stddev else x_in
    for width in (filters, 2 * filters):
        x = _conv_lrelu(x, width, 3)
        x = _conv_lrelu(x, width, 3)
        # Theano's pad=1 on both sides; Keras' "same" would pad the end only.
        x = layers.ZeroPadding2D(1)(x)
        x = _conv_lrelu(x, width, 3, strides=2, padding="valid")
        x = KeyedDropout(dropout)(x) if dropout else x
    x = _conv_lrelu(x, 2 * filters, 3, padding="valid")
    x = _conv_lrelu(x, 2 * filters, 1)
    x = _conv_lrelu(x, 2 * filters, 1)
    x = layers.GlobalAveragePooling2D()(x)
    if minibatch_kernels:
        x = MinibatchDiscrimination(minibatch_kernels, 5, name="minibatch")(x)
    x = layers.Dense(1, name="logit", dtype="float32")(x)
    return keras.Model(x_in, x, name="deligan_cifar_discriminator")


def _theano_deconv(x, filters, **kwargs):
    # Theano's 5x5 stride-2 "half" transposed conv (2 pixels of padding on
    # each side of the target). Keras' "same" would crop 1 before and 2
    # after, shifting the kernel a pixel; crop the valid output (2, 1).
    x = layers.Conv2DTranspose(filters, 5, 2, "valid", **kwargs)(x)
    return layers.Cropping2D(((2, 1), (2, 1)))(x)


def _conv_lrelu(x, filters, kernel, strides=1, padding="same"):
    x = layers.Conv2D(filters, kernel, strides, padding)(x)
    return layers.LeakyReLU(0.2)(x)


def dcgan_mnist_generator(latent_dim=100, filters=64, batch_norm=True):
    """`dcgan_generator` at MNIST's 28x28x1: FC to 7x7x(2f), two stride-2
    deconvs, tanh output in [-1, 1].

    Example:
    >>> dcgan_mnist_generator(latent_dim=4, filters=2).output_shape
    (None, 28, 28, 1)
    """
    return dcgan_generator(
        latent_dim, filters, image_size=28, channels=1, batch_norm=batch_norm
    )


def dcgan_mnist_discriminator(filters=64):
    """`dcgan_discriminator` at MNIST's 28x28x1: two stride-2 convs with
    leaky ReLU (no batch norm, so it is per-example), one score.

    Example:
    >>> dcgan_mnist_discriminator(filters=2).output_shape
    (None, 1)
    """
    return dcgan_discriminator(filters, image_size=28, channels=1)


def _dcgan_plan(image_size, channels):
    """`(base, upsamplings)`: `image_size = base * 2**upsamplings`."""
    if image_size not in DCGAN_SIZES:
        raise ArgumentError(
            f"image_size={image_size!r}: the dcgan networks build "
            f"{', '.join(map(str, DCGAN_SIZES))}."
        )
    if channels not in (1, 3):
        raise ArgumentError(f"channels={channels!r}: choose 1 or 3.")
    base, ups = image_size, 0
    while base > 7:
        base, ups = base // 2, ups + 1
    return base, ups


def dcgan_generator(
    latent_dim=100, filters=64, image_size=64, channels=3, batch_norm=True
):
    """A DCGAN generator for square images of any `DCGAN_SIZES`: FC to
    base x base x (f 2^(k-1)), then k stride-2 4x4 deconvs halving the
    filters (batch norm, ReLU), the last to `channels` with tanh, where
    `image_size = base * 2^k`, base in 4..7 (64: 4x4x512 -> 64x64x3 with
    f = 64, as Radford et al. 2016).

    Batch norm is synchronised across replicas.

    Example:
    >>> dcgan_generator(latent_dim=4, filters=2, image_size=48).output_shape
    (None, 48, 48, 3)
    """
    _check_positive(latent_dim=latent_dim, filters=filters)
    base, ups = _dcgan_plan(image_size, channels)
    z = keras.Input((latent_dim,), name="latent")
    width = filters * 2 ** (ups - 1)
    x = layers.Dense(base * base * width)(z)
    x = layers.Reshape((base, base, width))(x)
    x = _bn_relu(x, batch_norm)
    for i in range(1, ups):
        x = layers.Conv2DTranspose(width >> i, 4, strides=2, padding="same")(x)
        x = _bn_relu(x, batch_norm)
    x = layers.Conv2DTranspose(
        channels, 4, strides=2, padding="same", activation="tanh"
    )(x)
    return keras.Model(z, x, name="dcgan_generator")


def dcgan_discriminator(
    filters=64, image_size=64, channels=3, batch_norm=False
):
    """The DCGAN discriminator matching `dcgan_generator`: k stride-2 4x4
    convs doubling from `filters` (leaky ReLU 0.2) down to base x base, one
    float32 score. No batch norm by default: D is then per-example, as
    DiffAugment and data parallelism like; `batch_norm=True` adds
    synchronised batch norm after every conv but the first (the paper's D).

    Example:
    >>> dcgan_discriminator(filters=2, image_size=32, channels=1).output_shape
    (None, 1)
    """
    _check_positive(filters=filters)
    _, ups = _dcgan_plan(image_size, channels)
    x_in = keras.Input((image_size, image_size, channels), name="images")
    x = x_in
    for i in range(ups):
        x = layers.Conv2D(filters << i, 4, strides=2, padding="same")(x)
        if batch_norm and i:
            x = layers.BatchNormalization(synchronized=True)(x)
        x = layers.LeakyReLU(0.2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(1, name="logit", dtype="float32")(x)
    return keras.Model(x_in, x, name="dcgan_discriminator")


def toy_generator(latent_dim=2, units=128, layers_count=2, data_dim=2):
    """A small ReLU MLP generator for the 2-D toy datasets (linear output).

    Example:
    >>> toy_generator(units=8).output_shape
    (None, 2)
    """
    _check_positive(latent_dim=latent_dim, units=units, data_dim=data_dim)
    check_non_negative_ints(layers_count=layers_count)  # 0: linear
    z = keras.Input((latent_dim,), name="latent")
    x = z
    for _ in range(layers_count):
        x = layers.Dense(units, activation="relu")(x)
    x = layers.Dense(data_dim)(x)
    return keras.Model(z, x, name="toy_generator")


def toy_discriminator(units=128, layers_count=2, data_dim=2):
    """A small leaky-ReLU MLP discriminator for the 2-D toys, one score.

    Example:
    >>> toy_discriminator(units=8).output_shape
    (None, 1)
    """
    _check_positive(units=units, data_dim=data_dim)
    check_non_negative_ints(layers_count=layers_count)
    x_in = keras.Input((data_dim,), name="points")
    x = x_in
    for _ in range(layers_count):
        x = layers.Dense(units)(x)
        x = layers.LeakyReLU(0.2)(x)
    x = layers.Dense(1, name="logit", dtype="float32")(x)
    return keras.Model(x_in, x, name="toy_discriminator")


def toy_tanh_generator(latent_dim=256, units=128, layers_count=2, data_dim=2):
    """The generator of the LSGAN authors' ring experiment (from the unrolled
    GAN code): `layers_count` tanh layers of `units`, linear output, weights
    orthogonal with gain 1.4, zero biases.

    Example:
    >>> toy_tanh_generator(latent_dim=4, units=8).output_shape
    (None, 2)
    """
    _check_positive(latent_dim=latent_dim, units=units, data_dim=data_dim)
    check_non_negative_ints(layers_count=layers_count)  # 0: linear
    z = keras.Input((latent_dim,), name="latent")
    x = z
    for _ in range(layers_count):
        x = layers.Dense(units, "tanh", kernel_initializer=_orthogonal())(x)
    x = layers.Dense(data_dim, kernel_initializer=_orthogonal())(x)
    return keras.Model(z, x, name="toy_tanh_generator")


def toy_tanh_discriminator(units=128, layers_count=2, data_dim=2):
    """The discriminator of the LSGAN authors' ring experiment:
    `layers_count` tanh layers of `units`, one linear score, orthogonal
    weights with gain 1.4.

    Example:
    >>> toy_tanh_discriminator(units=8).output_shape
    (None, 1)
    """
    _check_positive(units=units, data_dim=data_dim)
    check_non_negative_ints(layers_count=layers_count)
    x_in = keras.Input((data_dim,), name="points")
    x = x_in
    for _ in range(layers_count):
        x = layers.Dense(units, "tanh", kernel_initializer=_orthogonal())(x)
    x = layers.Dense(
        1, name="logit", dtype="float32", kernel_initializer=_orthogonal()
    )(x)
    return keras.Model(x_in, x, name="toy_tanh_discriminator")


def _orthogonal():
    return keras.initializers.Orthogonal(gain=1.4)


# A new initializer per layer: an unseeded Keras initializer fixes its seed
# when made, so one instance shared by layers draws correlated weights.
def _normal(mean, stddev):
    return keras.initializers.RandomNormal(mean, stddev)


def _truncated():
    return keras.initializers.TruncatedNormal(stddev=0.02)


def _bn_relu(x, batch_norm, **bn_kwargs):
    if batch_norm:
        x = layers.BatchNormalization(synchronized=True, **bn_kwargs)(x)
    return layers.ReLU()(x)


def _check_image_shape(image_shape):
    """`image_shape` as a tuple of ints; ArgumentError unless it is
    `(height, width, channels)` of positive integers (a tuple, list,
    `TensorShape` or array; a 2-D `(28, 28)` would build rank-3 outputs)."""
    try:
        dims = tuple(image_shape)
    except TypeError:
        dims = ()
    if not (len(dims) == 3 and all(_is_int(d) and d >= 1 for d in dims)):
        raise ArgumentError(
            "image_shape must be (height, width, channels) of positive "
            f"integers, e.g. {MNIST_SHAPE}, got {image_shape!r}."
        )
    return tuple(int(d) for d in dims)


@dataclasses.dataclass(frozen=True)
class NetworkSpec:
    """One generator/discriminator pair of the registry `NETWORKS`.

    Attributes:
        generator: builder of G, `generator(latent_dim=..., <width>=...)`.
        discriminator: builder of D, `discriminator(<width>=...)`.
        g_width: `(argument, default)` of G's width knob.
        d_width: `(argument, default)` of D's width knob.
        data_range: `(low, high)` of G's images, or None for 2-D points.
        latent_dim: the latent size the pair is built with by default.
        latent: the prior GAN and LSGAN draw z from, "normal" or "uniform".
        data: "images" or "points" (2-D toys).
        image_sizes: the square sizes the pair builds (None for points).
        channels: the channel counts it builds (None for points).
        sized: whether the builders take `image_size=` and `channels=`
            (else the pair has one fixed shape).
        name: the pair's key in `NETWORKS`; default: the generator
            builder's name without `_generator` (a pair that reuses
            another's generator gives its own).
        remapper_fails: TensorFlow 2.21's grappler remapper fails on the
            pair's training step (it fuses a conv's bias into a LeakyReLU
            whose gradient still reads the bias output) and logs an
            "E ... remapper failed" line; `GAN.fit` turns the remapper off
            for it (`remapper_fails`, `remapper_off`), which changes nothing else (the failed pass
            was dropped anyway: weights after training are bit-identical).
    """

    generator: object
    discriminator: object
    g_width: tuple
    d_width: tuple
    data_range: tuple
    latent_dim: int
    latent: str
    data: str
    image_sizes: tuple = None
    channels: tuple = None
    sized: bool = False
    remapper_fails: bool = False
    name: str = None

    def __post_init__(self):
        if self.name is None:
            name = self.generator.__name__.removesuffix("_generator")
            object.__setattr__(self, "name", name)

    def check_shape(self, image_size, channels):
        """Raises `ArgumentError` unless the pair builds
        `image_size` x `image_size` x `channels` images.

        Example:
        >>> NETWORKS["dcgan"].check_shape(64, 3)
        """
        name = self.name
        if self.image_sizes is None:
            raise ArgumentError(
                f"network={name!r} makes 2-D points, not images."
            )
        if image_size not in self.image_sizes or channels not in self.channels:
            sizes = ", ".join(map(str, sorted(self.image_sizes)))
            chans = " or ".join(map(str, sorted(self.channels)))
            hint = "" if self.sized else "; network=dcgan builds other sizes"
            raise ArgumentError(
                f"network={name!r} makes {sizes}-pixel images with {chans} "
                f"channel(s), not {image_size}x{image_size}x{channels}{hint}."
            )

    def build(self, latent_dim=None, width=1.0, image_size=None, channels=None):
        """`(generator, discriminator)`, widths scaled by `width`, for
        `image_size` x `image_size` x `channels` images (default: the
        pair's first size and channel count).

        Example:
        >>> g, d = NETWORKS["toy"].build(width=0.1)
        >>> g.output_shape, d.output_shape
        ((None, 2), (None, 1))
        >>> NETWORKS["dcgan"].build(width=0.05, image_size=16)[0].output_shape
        (None, 16, 16, 3)
        """
        scale = lambda base: max(1, round(base * width))
        (g_arg, g_base), (d_arg, d_base) = self.g_width, self.d_width
        g_kwargs, d_kwargs = {g_arg: scale(g_base)}, {d_arg: scale(d_base)}
        if self.image_sizes is not None:
            image_size = image_size or self.image_sizes[0]
            channels = channels or self.channels[0]
            self.check_shape(image_size, channels)
            if self.sized:
                shape = dict(image_size=image_size, channels=channels)
                g_kwargs.update(shape)
                d_kwargs.update(shape)
        generator = self.generator(
            latent_dim=latent_dim or self.latent_dim, **g_kwargs
        )
        return generator, self.discriminator(**d_kwargs)


_DELIGAN_MNIST = NetworkSpec(
    deligan_mnist_generator,
    deligan_mnist_discriminator,
    g_width=("filters", 16),
    d_width=("filters", 16),
    data_range=(-1.0, 1.0),
    latent_dim=30,
    latent="normal",
    **_MNIST_IMAGES,
    remapper_fails=True,
)

# The one table of network pairs: training, the CLI's choices and the tests
# read it.
NETWORKS = {
    "mnist_mlp": NetworkSpec(
        mnist_mlp_generator,
        mnist_maxout_discriminator,
        g_width=("units", 1200),
        d_width=("units", 240),
        data_range=(0.0, 1.0),
        latent_dim=100,
        latent="uniform",
        **_MNIST_IMAGES,
    ),
    "gan_paper_mnist": NetworkSpec(
        gan_paper_mnist_generator,
        gan_paper_mnist_discriminator,
        g_width=("units", 1200),
        d_width=("units", 240),
        data_range=(0.0, 1.0),
        latent_dim=100,
        latent="uniform",  # mnist.yaml's noise: 'uniform', U(-sqrt 3, sqrt 3)
        **_MNIST_IMAGES,
    ),
    "deligan_mnist": _DELIGAN_MNIST,
    # The same G against a D with a hidden dense layer (an lsgan-mnist
    # candidate: the plain D barely ranks the unsure digits, studies.md).
    "deligan_mnist_dense": dataclasses.replace(
        _DELIGAN_MNIST,
        discriminator=deligan_mnist_dense_discriminator,
        name="deligan_mnist_dense",
    ),
    # And against a D with spectral normalisation (an lsgan-mnist candidate).
    "deligan_mnist_sn": dataclasses.replace(
        _DELIGAN_MNIST,
        discriminator=deligan_mnist_sn_discriminator,
        name="deligan_mnist_sn",
    ),
    "deligan_paper_mnist": NetworkSpec(
        deligan_paper_mnist_generator,
        deligan_paper_mnist_discriminator,
        g_width=("filters", 16),
        d_width=("filters", 16),
        data_range=(-1.0, 1.0),
        latent_dim=30,
        latent="normal",
        **_MNIST_IMAGES,
    ),
    "deligan_cifar": NetworkSpec(
        deligan_cifar_generator,
        deligan_cifar_discriminator,
        g_width=("filters", 128),
        d_width=("filters", 96),
        data_range=(-1.0, 1.0),
        latent_dim=100,
        latent="normal",
        data="images",
        image_sizes=CIFAR_SHAPE[:1],
        channels=CIFAR_SHAPE[2:],
        remapper_fails=True,
    ),
    "dcgan_mnist": NetworkSpec(
        dcgan_mnist_generator,
        dcgan_mnist_discriminator,
        g_width=("filters", 64),
        d_width=("filters", 64),
        data_range=(-1.0, 1.0),
        latent_dim=100,
        latent="normal",
        **_MNIST_IMAGES,
        remapper_fails=True,
    ),
    "dcgan": NetworkSpec(
        dcgan_generator,
        dcgan_discriminator,
        g_width=("filters", 64),
        d_width=("filters", 64),
        data_range=(-1.0, 1.0),
        latent_dim=100,
        latent="normal",
        data="images",
        image_sizes=(64,) + tuple(s for s in DCGAN_SIZES if s != 64),
        channels=(3, 1),
        sized=True,
        remapper_fails=True,
    ),
    "toy_tanh": NetworkSpec(
        toy_tanh_generator,
        toy_tanh_discriminator,
        g_width=("units", 128),
        d_width=("units", 128),
        data_range=None,
        latent_dim=256,
        latent="normal",
        data="points",
    ),
    "toy": NetworkSpec(
        toy_generator,
        toy_discriminator,
        g_width=("units", 128),
        d_width=("units", 128),
        data_range=None,
        latent_dim=2,
        latent="normal",
        data="points",
    ),
}


def remapper_fails(*nets):
    """Whether TensorFlow's grappler remapper fails on a training step of
    `nets` (Keras models; those of a pair in `NETWORKS` are known by their
    builders' names): see `NetworkSpec.remapper_fails`.

    Example:
    >>> remapper_fails(deligan_mnist_discriminator(filters=4))
    True
    """
    names = {net.name for net in nets}
    return any(
        spec.remapper_fails
        and names & {spec.generator.__name__, spec.discriminator.__name__}
        for spec in NETWORKS.values()
    )


@contextlib.contextmanager
def remapper_off(off=True):
    """Grappler's remapper off inside (if `off`), as it was after:
    `GAN.fit` turns it off for the pairs it fails on (`remapper_fails`),
    which changes no weight, only hides its "E ... remapper failed" line."""
    if not off:
        yield
        return
    before = tf.config.optimizer.get_experimental_options().get(
        "remapping", True
    )
    tf.config.optimizer.set_experimental_options({"remapping": False})
    try:
        yield
    finally:
        tf.config.optimizer.set_experimental_options({"remapping": before})


def __getattr__(name):
    # Deprecated alias (0.1): the pairs without their defaults.
    if name == "BUILDERS":
        warnings.warn(
            "ganzoo.networks.BUILDERS is deprecated; use "
            "ganzoo.networks.NETWORKS[name].generator / .discriminator.",
            DeprecationWarning,
            stacklevel=2,
        )
        return {k: (v.generator, v.discriminator) for k, v in NETWORKS.items()}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
