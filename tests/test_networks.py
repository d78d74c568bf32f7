"""The network registry and the pairs read from the DeLiGAN authors' code."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import ganzoo
from ganzoo import networks, training
from ganzoo._checks import ArgumentError
from ganzoo.layers import (
    KeyedDropout,
    KeyedGaussianNoise,
    MinibatchDiscrimination,
)
from tests import helpers

FIXED_SHAPE_PAIRS = [
    k
    for k, v in networks.NETWORKS.items()
    if v.data == "images" and not v.sized
]
PAPER_PAIRS = ["deligan_paper_mnist", "deligan_cifar"]


@pytest.mark.parametrize("name", list(networks.NETWORKS))
def test_every_pair_builds_tiny_and_fits_together(name):
    spec = networks.NETWORKS[name]
    g, d = spec.build(latent_dim=3, width=1 / 64)
    assert spec.name == name
    assert g.input_shape == (None, 3)
    assert g.output_shape == d.input_shape
    assert d.output_shape == (None, 1)
    assert d.get_layer("logit").dtype_policy.compute_dtype == "float32"


def test_dense_pair_shares_the_plain_generator_and_adds_a_hidden_layer():
    """`deligan_mnist_dense` is the presets' G against a D whose convs feed
    a hidden layer of 16 * filters units before the minibatch layer."""
    plain, dense = (
        networks.NETWORKS[k] for k in ("deligan_mnist", "deligan_mnist_dense")
    )
    assert dense.generator is plain.generator
    assert (plain.name, dense.name) == ("deligan_mnist", "deligan_mnist_dense")
    d = dense.build(width=1 / 4)[1]
    assert d.name == "deligan_mnist_dense_discriminator"
    assert d.get_layer("hidden").units == 16 * 4
    assert isinstance(d.layers[-2], MinibatchDiscrimination)
    assert d.layers[-2].input.shape == (None, 64)
    with pytest.raises(ValueError):
        plain.build(width=1 / 4)[1].get_layer("hidden")
    with pytest.raises(ArgumentError, match="filters"):
        networks.deligan_mnist_dense_discriminator(filters=0)


def _spectral_norm(kernel):
    return float(np.linalg.norm(kernel.reshape(-1, kernel.shape[-1]), 2))


def _wrapped(d):
    return [
        layer
        for layer in d.layers
        if isinstance(layer, keras.layers.SpectralNormalization)
    ]


def test_spectral_norm_pair_sets_each_kernel_to_norm_one_in_training():
    """`deligan_mnist_sn` is the presets' G against a D whose convs and
    logit are wrapped in `keras.layers.SpectralNormalization`: after a few
    training steps a training call leaves each kernel at spectral norm 1,
    within 1% (each call runs one power iteration, so the estimate lags the
    moving kernel); the minibatch kernel, not wrapped, is not."""
    plain, sn = (
        networks.NETWORKS[k] for k in ("deligan_mnist", "deligan_mnist_sn")
    )
    assert sn.generator is plain.generator and sn.name == "deligan_mnist_sn"
    keras.utils.set_random_seed(0)
    g, d = sn.build(latent_dim=4, width=1 / 4)
    assert d.name == "deligan_mnist_sn_discriminator"
    wrapped = _wrapped(d)
    assert len(wrapped) == 4 and wrapped[-1] is d.get_layer("logit")
    assert d.get_layer("logit").compute_dtype == "float32"
    before = [_spectral_norm(w.layer.kernel.numpy()) for w in wrapped]
    assert max(abs(b - 1) for b in before) > 0.1  # not normalised at build
    model = helpers.compile_adam(
        ganzoo.LSGAN(generator=g, discriminator=d, latent_dim=4, seed=0)
    )
    x = np.random.default_rng(0).uniform(-1, 1, (80, 28, 28, 1))
    x = x.astype("float32")
    model.fit(x, batch_size=8, epochs=1, verbose=0)
    d(x[:8], training=True)
    after = [_spectral_norm(w.layer.kernel.numpy()) for w in wrapped]
    np.testing.assert_allclose(after, 1.0, atol=0.01)
    minibatch = next(
        layer
        for layer in d.layers
        if isinstance(layer, MinibatchDiscrimination)
    )
    assert abs(_spectral_norm(minibatch.weights[0].numpy()) - 1) > 0.1
    with pytest.raises(ArgumentError, match="filters"):
        networks.deligan_mnist_sn_discriminator(filters=0)


def test_spectral_norm_rescales_float32_kernels_under_mixed_precision():
    """Under a 16-bit policy the wrappers still compute in float32: a
    training call divides each kernel by one number (it used to write the
    kernel back rounded to bfloat16, which then swallowed small Adam
    steps); the convs inside compute in bfloat16."""
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        keras.utils.set_random_seed(0)
        d = networks.deligan_mnist_sn_discriminator(
            filters=4, minibatch_kernels=3
        )
    finally:
        keras.mixed_precision.set_global_policy("float32")
    wrapped = _wrapped(d)
    assert wrapped[0].layer.compute_dtype == "bfloat16"
    x = np.random.default_rng(0).uniform(-1, 1, (4, 28, 28, 1))
    old = [w.layer.kernel.numpy() for w in wrapped]
    d(x.astype("float32"), training=True)
    for w, k0 in zip(wrapped, old):
        k1 = w.layer.kernel.numpy()
        assert k1.dtype == np.float32
        ratio = k0 / k1
        assert np.std(ratio) < 1e-6 * np.mean(ratio), w.name


@pytest.mark.parametrize("name", FIXED_SHAPE_PAIRS)
def test_fixed_shape_pairs_refuse_other_shapes(name):
    spec = networks.NETWORKS[name]
    size, channels = spec.image_sizes[0], spec.channels[0]
    spec.check_shape(size, channels)
    for bad in [(size + 4, channels), (size, 4 - channels)]:
        with pytest.raises(ArgumentError, match="network=dcgan builds") as e:
            spec.build(width=1 / 64, image_size=bad[0], channels=bad[1])
        assert "\n" not in str(e.value)


@pytest.mark.parametrize(
    "build",
    [
        networks.mnist_mlp_generator,
        networks.mnist_maxout_discriminator,
        networks.deligan_mnist_discriminator,
    ],
)
@pytest.mark.parametrize("shape", [(28, 28), (28, 28, 0), 784])
def test_image_shape_must_be_three_positive_sides(build, shape):
    """(28, 28) built a generator of rank-3 output (no channel axis) that
    then failed far away, in the model's checks or a conv."""
    with pytest.raises(ArgumentError, match=r"image_shape must be \(height"):
        build(image_shape=shape)


@pytest.mark.parametrize(
    "shape",
    [[16, 16, 3], tf.TensorShape([16, 16, 3]), np.array([16, 16, 3])],
    ids=["list", "TensorShape", "array"],
)
def test_image_shape_may_be_any_sequence_of_three_sides(shape):
    """What keras.Input takes (e.g. a dataset's element_spec.shape[1:])."""
    g = networks.mnist_mlp_generator(latent_dim=4, units=4, image_shape=shape)
    d = networks.deligan_mnist_discriminator(filters=2, image_shape=shape)
    assert g.output_shape == d.input_shape == (None, 16, 16, 3)


def test_paper_pairs_refuse_the_other_dataset_in_a_run():
    with pytest.raises(ArgumentError, match="32-pixel images with 3"):
        training.TrainConfig(
            network="deligan_cifar", dataset="mnist"
        ).validate()
    with pytest.raises(ArgumentError, match="not 32x32x1"):
        training.TrainConfig(
            network="deligan_paper_mnist", dataset="mnist", image_size=32
        ).validate()


def test_deligan_paper_mnist_layers_follow_the_original():
    g, d = networks.NETWORKS["deligan_paper_mnist"].build()
    assert [tuple(x.output.shape[1:]) for x in g.layers[1:]] == [
        (1024,),  # dense 30 -> 4x4x64 units, normalised before the reshape
        (1024,),
        (1024,),
        (4, 4, 64),
        (7, 7, 32),
        (7, 7, 32),
        (7, 7, 32),
        (14, 14, 16),
        (14, 14, 16),
        (14, 14, 16),
        (28, 28, 1),
    ]
    deconvs = [
        x for x in g.layers if isinstance(x, keras.layers.Conv2DTranspose)
    ]
    assert [x.kernel_size for x in deconvs] == [(3, 3), (5, 5), (5, 5)]
    assert deconvs[-1].activation is keras.activations.tanh
    convs = [x for x in d.layers if isinstance(x, keras.layers.Conv2D)]
    assert [(x.filters, x.kernel_size, x.strides) for x in convs] == [
        (16, (5, 5), (2, 2)),
        (32, (5, 5), (2, 2)),
        (64, (3, 3), (2, 2)),
    ]
    for net, count in ((g, 3), (d, 2)):
        norms = [
            x
            for x in net.layers
            if isinstance(x, keras.layers.BatchNormalization)
        ]
        assert len(norms) == count and all(x.synchronized for x in norms)
        assert all(x.momentum == 0.9 for x in norms)
    # Scales from N(1, 0.02), drawn afresh per layer: one shared unseeded
    # initializer would repeat its draws (the first 32 of 1024 = the 32).
    gammas = [x.gamma.numpy() for x in g.layers if hasattr(x, "gamma")]
    assert 0.01 < gammas[0].std() < 0.03
    assert not np.allclose(gammas[0][:32], gammas[1])
    # No batch norm after the first conv of D.
    assert isinstance(d.layers[2], keras.layers.LeakyReLU)
    md = d.get_layer("minibatch")
    assert (md.num_kernels, md.kernel_dim) == (64, 5)
    assert md.normalization == "grand_sum"
    assert md.input.shape[1:] == (64,) and md.output.shape[1:] == (128,)


def test_deligan_cifar_layers_follow_the_original():
    g, d = networks.NETWORKS["deligan_cifar"].build()
    shapes = [
        tuple(x.output.shape[1:])
        for x in g.layers
        if isinstance(x, (keras.layers.Reshape, keras.layers.Cropping2D))
    ]
    assert shapes == [(4, 4, 512), (8, 8, 256), (16, 16, 128), (32, 32, 3)]
    norms = [
        x for x in g.layers if isinstance(x, keras.layers.BatchNormalization)
    ]
    assert len(norms) == 3
    assert all(x.synchronized and not x.scale for x in norms)
    convs = [x for x in d.layers if isinstance(x, keras.layers.Conv2D)]
    assert [(x.filters, x.kernel_size[0], x.strides[0]) for x in convs] == [
        (96, 3, 1),
        (96, 3, 1),
        (96, 3, 2),
        (192, 3, 1),
        (192, 3, 1),
        (192, 3, 2),
        (192, 3, 1),
        (192, 1, 1),
        (192, 1, 1),
    ]
    assert [tuple(x.output.shape[1:3]) for x in convs][2::3] == [
        (16, 16),
        (8, 8),
        (6, 6),
    ]
    # Keyed by global row: replicas draw what one device draws.
    assert type(d.layers[1]) is KeyedGaussianNoise
    assert d.layers[1].stddev == 0.2
    assert [
        (type(x), x.rate)
        for x in d.layers
        if isinstance(x, keras.layers.Dropout)
    ] == [(KeyedDropout, 0.5)] * 2
    assert not any(
        isinstance(x, keras.layers.BatchNormalization) for x in d.layers
    )
    md = d.get_layer("minibatch")
    assert (md.num_kernels, md.kernel_dim, md.normalization) == (
        100,
        5,
        "standard",
    )
    assert md.input.shape[1:] == (192,)


def test_cifar_discriminator_without_minibatch_features():
    d = networks.deligan_cifar_discriminator(filters=2, minibatch_kernels=0)
    assert not any(isinstance(x, MinibatchDiscrimination) for x in d.layers)
    assert d.get_layer("logit").input.shape[1:] == (4,)
    with pytest.raises(ArgumentError, match="minibatch_kernels"):
        networks.deligan_cifar_discriminator(minibatch_kernels=-1)


@pytest.mark.parametrize(
    "build",
    [
        networks.mnist_maxout_discriminator,
        networks.gan_paper_mnist_discriminator,
    ],
)
def test_maxout_discriminators_use_keyed_dropout(build):
    """The paper's dropout (0.2 on the input, 0.5 on each maxout layer),
    keyed by global row."""
    d = build(units=4, pieces=2)
    dropouts = [x for x in d.layers if isinstance(x, keras.layers.Dropout)]
    assert [(type(x), x.rate) for x in dropouts] == [
        (KeyedDropout, 0.2),
        (KeyedDropout, 0.5),
        (KeyedDropout, 0.5),
    ]


def test_cifar_deconv_keeps_theano_alignment():
    """Theano's "half" transposed conv is the adjoint of a 5x5 stride-2
    conv padded by 2 on each side; Keras' "same" is a pixel off."""
    rng = np.random.default_rng(0)
    kernel = rng.normal(size=(5, 5, 3, 2)).astype("float32")
    x = rng.normal(size=(1, 4, 4, 2)).astype("float32")
    target = tf.Variable(tf.zeros((1, 8, 8, 3)))
    with tf.GradientTape() as tape:
        padded = tf.pad(target, [[0, 0], [2, 2], [2, 2], [0, 0]])
        dot = tf.reduce_sum(tf.nn.conv2d(padded, kernel, 2, "VALID") * x)
    expected = tape.gradient(dot, target).numpy()
    inputs = keras.Input((4, 4, 2))
    deconv = keras.Model(
        inputs, networks._theano_deconv(inputs, 3, use_bias=False)
    )
    deconv.layers[1].set_weights([kernel])
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(deconv(x)), expected, atol=1e-4
    )


@pytest.mark.parametrize("name", PAPER_PAIRS)
def test_paper_pairs_keras_file_round_trip(name, tmp_path):
    g, d = networks.NETWORKS[name].build(latent_dim=3, width=1 / 16)
    z = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    images = keras.ops.convert_to_numpy(g(z))
    for net, x in ((g, z), (d, images)):
        path = tmp_path / f"{net.name}.keras"
        net.save(path)
        restored = keras.saving.load_model(path)
        # (get_config differs only in tuples read back as lists.)
        assert [type(x) for x in restored.layers] == [
            type(x) for x in net.layers
        ]
        np.testing.assert_allclose(
            *map(keras.ops.convert_to_numpy, (restored(x), net(x))), atol=1e-6
        )
    assert restored.get_layer("minibatch").get_config() == (
        d.get_layer("minibatch").get_config()
    )


@pytest.mark.parametrize("name", PAPER_PAIRS)
def test_deligan_trains_a_step_with_the_paper_pairs(name):
    spec = networks.NETWORKS[name]
    keras.utils.set_random_seed(0)
    g, d = spec.build(latent_dim=3, width=1 / 16)
    model = helpers.compile_adam(
        ganzoo.DeLiGAN(
            generator=g,
            discriminator=d,
            latent_dim=3,
            num_components=4,
            seed=0,
        )
    )
    x = np.random.default_rng(0).uniform(-1, 1, (8, *d.input_shape[1:]))
    before = [w.numpy() for w in d.trainable_weights]
    history = model.fit(x.astype("float32"), batch_size=8, verbose=0)
    for values in history.history.values():
        assert np.all(np.isfinite(values))
    assert int(model.g_optimizer.iterations.numpy()) == 1
    after = [w.numpy() for w in d.trainable_weights]
    assert helpers.max_abs_diff(before, after) > 0
    images = model.sample(2, seed=0)
    assert images.shape == (2, *d.input_shape[1:])


def test_paper_mnist_discriminator_under_float16():
    # Full width, batch 50: the grand sum (50 x 64 x 50) exceeds float16.
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        d = networks.deligan_paper_mnist_discriminator()
    finally:
        keras.mixed_precision.set_global_policy("float32")
    features = keras.Model(d.input, d.get_layer("minibatch").output)
    x = np.zeros((50, 28, 28, 1), "float32")
    md = keras.ops.convert_to_numpy(features(x, training=True))[:, 64:]
    np.testing.assert_allclose(md.astype("float64").sum(), 1.0, rtol=1e-2)
    logits = d(x, training=True)
    assert logits.dtype == "float32" and np.all(np.isfinite(logits))
