"""Tiny models and shared checks for the tests."""

import socket

import keras
import numpy as np

import ganzoo

MODEL_CLASSES = {
    "gan": ganzoo.GAN,
    "lsgan": ganzoo.LSGAN,
    "deligan": ganzoo.DeLiGAN,
}


def tiny_toy_model(
    kind="gan", seed=0, latent_dim=3, init_seed=None, md=None, **kwargs
):
    """A 2-D model with 8-unit MLPs; weights drawn with `init_seed`
    (default: `seed`), training noise keyed by `seed`. `md="standard"` or
    `"grand_sum"` gives D a minibatch-discrimination layer (3 kernels of 2)
    before its score."""
    keras.utils.set_random_seed(seed if init_seed is None else init_seed)
    extra = {"num_components": 4} if kind == "deligan" else {}
    extra.update(kwargs)
    discriminator = ganzoo.networks.toy_discriminator(units=8)
    if md is not None:
        features = keras.Model(
            discriminator.input, discriminator.layers[-2].output
        )
        x = ganzoo.layers.MinibatchDiscrimination(3, 2, normalization=md)(
            features.output
        )
        x = keras.layers.Dense(1, dtype="float32")(x)
        discriminator = keras.Model(features.input, x)
    return MODEL_CLASSES[kind](
        generator=ganzoo.networks.toy_generator(latent_dim=latent_dim, units=8),
        discriminator=discriminator,
        latent_dim=latent_dim,
        seed=seed,
        **extra,
    )


def tiny_image_model(kind="gan", seed=0, latent_dim=4, **kwargs):
    """A 28x28 model with a DCGAN pair of 2 filters (batch norm in G)."""
    keras.utils.set_random_seed(seed)
    extra = {"num_components": 3} if kind == "deligan" else {}
    extra.update(kwargs)
    return MODEL_CLASSES[kind](
        generator=ganzoo.networks.dcgan_mnist_generator(latent_dim, filters=2),
        discriminator=ganzoo.networks.dcgan_mnist_discriminator(filters=2),
        latent_dim=latent_dim,
        seed=seed,
        **extra,
    )


def compile_adam(model, lr=1e-3):
    model.compile(
        d_optimizer=keras.optimizers.Adam(lr, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(lr, beta_1=0.5),
    )
    return model


def all_weights(model):
    """Model weights and both optimizers' variables, as numpy arrays."""
    arrays = [np.asarray(v.numpy()) for v in model.weights]
    for opt in (model.d_optimizer, model.g_optimizer):
        arrays += [np.asarray(v.numpy()) for v in opt.variables]
    return arrays


def max_abs_diff(a, b):
    assert len(a) == len(b)
    return max(
        float(np.max(np.abs(x - y))) if x.size else 0.0 for x, y in zip(a, b)
    )


def free_ports(n):
    """`n` TCP ports free on 127.0.0.1 now (for a local cluster)."""
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def tiny_train_config(**kwargs):
    """A `TrainConfig` of a tiny toy GAN run (2 steps of 16 points),
    with `kwargs` changed."""
    base = dict(
        model="gan",
        network="toy",
        dataset="ring8",
        width=0.1,
        epochs=1,
        steps_per_epoch=2,
        batch_size=16,
    )
    return ganzoo.training.TrainConfig(**{**base, **kwargs})
