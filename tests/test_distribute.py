"""The update must not depend on the strategy: optimizers built in its scope,
losses averaged over the global batch, noise distinct per replica, D's
dropout and noise keyed by global row, its minibatch features over the global
batch."""

import contextlib

import keras
import numpy as np
import pytest
import tensorflow as tf

import ganzoo
from ganzoo import layers
from tests import helpers

STEPS = 3
GLOBAL_BATCH = 16


def _fit(build, optimizer, strategy, x, batch=GLOBAL_BATCH):
    with strategy.scope():
        model = build()
        model.compile(
            d_optimizer=optimizer(), g_optimizer=optimizer(), jit_compile=False
        )
    history = model.fit(
        tf.data.Dataset.from_tensor_slices(x).batch(batch),
        epochs=1,
        verbose=0,
    )
    return model, history.history


def _fit_both(build, optimizer, mirrored, x, batch=GLOBAL_BATCH):
    """`_fit` on one device and on `mirrored`; asserts both end with the
    same weights (optimizer variables included) and returns `(single,
    its history, multi, its history)`."""
    single, h1 = _fit(build, optimizer, tf.distribute.get_strategy(), x, batch)
    multi, h2 = _fit(build, optimizer, mirrored, x, batch)
    assert (
        helpers.max_abs_diff(
            helpers.all_weights(single), helpers.all_weights(multi)
        )
        < 1e-5
    )
    return single, h1, multi, h2


OPTIMIZERS = {
    "adam": lambda: keras.optimizers.Adam(1e-2, beta_1=0.5),
    # Adam is invariant to a constant gradient scale; SGD is not, so it
    # catches a loss that is off by the number of replicas.
    "sgd": lambda: keras.optimizers.SGD(0.1),
    # A moving average of the weights, written into them at the end of fit.
    "adam_ema": lambda: keras.optimizers.Adam(
        1e-2, beta_1=0.5, use_ema=True, ema_momentum=0.5
    ),
}


@pytest.mark.parametrize("kind", ["gan", "lsgan", "deligan"])
@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
def test_mirrored_matches_single_device(kind, opt, mirrored):
    x = np.random.default_rng(0).normal(size=(GLOBAL_BATCH * STEPS, 2))
    x = x.astype("float32")
    build = lambda: helpers.tiny_toy_model(kind, seed=3, d_steps=2)
    _single, h1, multi, h2 = _fit_both(build, OPTIMIZERS[opt], mirrored, x)

    assert int(multi.g_optimizer.iterations.numpy()) == STEPS
    for name in h1:
        np.testing.assert_allclose(h1[name], h2[name], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("augment", [None, "translation,cutout,color"])
def test_mirrored_matches_single_device_with_batch_norm(augment, mirrored):
    """The DCGAN generator's batch norm is synchronised across replicas, and
    each replica augments its examples as one device does."""
    x = np.random.default_rng(1).uniform(-1, 1, (GLOBAL_BATCH * 2, 28, 28, 1))
    x = x.astype("float32")
    build = lambda: helpers.tiny_image_model("gan", seed=5, augment=augment)
    _fit_both(build, OPTIMIZERS["sgd"], mirrored, x)


def test_replicas_get_different_noise(mirrored):
    """Examples on different replicas must not share their noise (a seeded
    keras.random draw gives every replica the same)."""
    model = helpers.tiny_toy_model("gan", seed=0)

    def noise():
        from ganzoo.models.gan import _batch_info

        batch, global_batch, replica = _batch_info(tf.zeros((4, 2)))
        return model._replica_latent(7, 0, batch, global_batch, replica)

    per_replica = mirrored.experimental_local_results(mirrored.run(noise))
    a, b = (np.asarray(t) for t in per_replica)
    assert not np.allclose(a, b)
    # Together they are exactly the single-device noise of the global batch.
    full = np.asarray(model._replica_latent(7, 0, 8, 8, 0))
    np.testing.assert_array_equal(np.concatenate([a, b]), full)


def test_averaging_and_recalibration_under_mirrored(mirrored):
    """`averaged_generator` and `recalibrate_batch_norm` on a model built in
    a MirroredStrategy scope give what they give on one device."""
    x = np.random.default_rng(2).uniform(-1, 1, (GLOBAL_BATCH * 2, 28, 28, 1))
    x = x.astype("float32")
    build = lambda: helpers.tiny_image_model("gan", seed=4)
    # SGD: Adam turns the replicas' float round-off in near-zero gradients
    # into ~1e-3 weight differences on this net, which would hide a real one.
    sgd_ema = lambda: keras.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5)
    outputs = []
    for strategy in (tf.distribute.get_strategy(), mirrored):
        model, _ = _fit(build, sgd_ema, strategy, x)
        # fit ends with the average in place; move off it, as mid-training.
        for v in model.generator.trainable_variables:
            v.assign(v + 0.01)
        with model.averaged_generator():
            averaged = model.sample(8, seed=0)
        trained = model.sample(8, seed=0)
        assert model.recalibrate_batch_norm(num_batches=3, batch_size=16) == 2
        outputs.append((averaged, trained, model.sample(8, seed=0)))
    for a, b in zip(*outputs):
        np.testing.assert_allclose(a, b, atol=1e-5)
    # The average and the recalibration each changed the samples.
    assert not np.allclose(outputs[0][0], outputs[0][1], atol=1e-4)
    assert not np.allclose(outputs[0][1], outputs[0][2], atol=1e-4)


@pytest.mark.parametrize("kind", ["gan", "lsgan", "deligan"])
def test_simultaneous_update_matches_single_device(kind, mirrored):
    """`update="simultaneous"` (the LSGAN authors' toy code) is strategy
    invariant too, and is not the alternating update."""
    x = np.random.default_rng(4).normal(size=(GLOBAL_BATCH * STEPS, 2))
    x = x.astype("float32")
    build = lambda: helpers.tiny_toy_model(kind, seed=3, update="simultaneous")
    single, _, _multi, _ = _fit_both(build, OPTIMIZERS["sgd"], mirrored, x)
    alternating, _ = _fit(
        lambda: helpers.tiny_toy_model(kind, seed=3),
        OPTIMIZERS["sgd"],
        tf.distribute.get_strategy(),
        x,
    )
    # D's update is the same; G's, taken against the un-updated D, is not.
    g = len(single.generator.weights)
    assert (
        helpers.max_abs_diff(
            [w.numpy() for w in single.generator.weights],
            [w.numpy() for w in alternating.generator.weights][:g],
        )
        > 1e-4
    )


@pytest.mark.parametrize("kind", ["gan", "deligan"])
def test_partial_last_batch_on_two_replicas_matches_one_device(kind, mirrored):
    """103 examples at batch 50: the last step's replicas hold 2 and 1. The
    loss is averaged over the 3 (not 4 and 2), and each example keeps its
    own noise row."""
    x = np.random.default_rng(7).normal(size=(103, 2)).astype("float32")
    build = lambda: helpers.tiny_toy_model(kind, seed=6, d_steps=2)
    _single, h1, multi, h2 = _fit_both(
        build, OPTIMIZERS["sgd"], mirrored, x, 50
    )
    assert int(multi.g_optimizer.iterations.numpy()) == 3
    np.testing.assert_allclose(h1["d_loss"], h2["d_loss"], rtol=1e-5)


def test_partial_last_batch_with_augmentation_and_batch_norm(mirrored):
    x = np.random.default_rng(8).uniform(-1, 1, (35, 28, 28, 1))
    x = x.astype("float32")
    build = lambda: helpers.tiny_image_model(
        "gan", seed=5, augment="translation,cutout"
    )
    _fit_both(build, OPTIMIZERS["sgd"], mirrored, x, 16)


# A threshold G's loss crosses on these tiny nets, so both branches run.
SWITCH = dict(start=0.72, low=0.6, high=0.8, step=0.02, g_run=2)


def _switch_state(model):
    return [
        v.numpy()
        for v in (
            model.switch_threshold,
            model.switch_g_run,
            model.switch_d_run,
        )
    ]


@pytest.mark.parametrize("kind", ["gan", "lsgan", "deligan"])
def test_adaptive_update_matches_single_device(kind, mirrored):
    """`update="adaptive"`: 2 replicas take the same G/D steps as one device
    and end with the same weights, threshold and run lengths (SGD: Adam's
    round-off would hide a real difference)."""
    x = np.random.default_rng(0).normal(size=(GLOBAL_BATCH * 3 + 5, 2))
    x = x.astype("float32")
    switch = (
        SWITCH
        if kind != "lsgan"
        else dict(SWITCH, start=0.05, low=0.0, high=0.3)
    )
    build = lambda: helpers.tiny_toy_model(
        kind, seed=3, update="adaptive", switch=switch
    )
    models, histories = [], []
    for strategy in (tf.distribute.get_strategy(), mirrored):
        with strategy.scope():
            model = build()
            model.compile(
                d_optimizer=OPTIMIZERS["sgd"](),
                g_optimizer=OPTIMIZERS["sgd"](),
                jit_compile=False,
            )
        history = model.fit(
            tf.data.Dataset.from_tensor_slices(x).batch(GLOBAL_BATCH),
            epochs=2,
            verbose=0,
        )
        models.append(model)
        histories.append(history.history)
    single, multi = models
    d_steps, g_steps = (
        int(o.iterations.numpy())
        for o in (single.d_optimizer, single.g_optimizer)
    )
    # 5 updates for each of the 4 batches of 2 epochs, of both kinds.
    assert d_steps + g_steps == 5 * 4 * 2 and d_steps and g_steps
    assert int(multi.d_optimizer.iterations.numpy()) == d_steps
    assert int(multi.g_optimizer.iterations.numpy()) == g_steps
    np.testing.assert_allclose(_switch_state(single), _switch_state(multi))
    assert (
        helpers.max_abs_diff(
            helpers.all_weights(single), helpers.all_weights(multi)
        )
        < 1e-5
    )
    for name in ("g_steps", "threshold", "d_loss", "g_loss"):
        np.testing.assert_allclose(
            histories[0][name], histories[1][name], rtol=1e-5, atol=1e-6
        )
    assert np.sum(histories[0]["g_steps"]) > 0


def test_adaptive_update_with_batch_norm_and_partial_batch(mirrored):
    """Synchronised batch norm in both branches, and a last batch split 2/1
    over the replicas."""
    x = np.random.default_rng(1).uniform(-1, 1, (35, 28, 28, 1))
    x = x.astype("float32")
    build = lambda: helpers.tiny_image_model(
        "gan", seed=5, update="adaptive", switch=SWITCH
    )
    single, _, multi, _ = _fit_both(build, OPTIMIZERS["sgd"], mirrored, x)
    assert int(single.d_optimizer.iterations.numpy()) > 0
    assert int(single.g_optimizer.iterations.numpy()) > 0
    np.testing.assert_allclose(_switch_state(single), _switch_state(multi))


def test_adaptive_switch_is_decided_over_the_global_batch(mirrored):
    """With the threshold between the replicas' own mean losses, each replica
    alone would decide differently; both must decide as one device does."""
    from ganzoo.models.gan import _batch_info

    model = helpers.tiny_toy_model("gan", seed=2, update="adaptive")
    latent = np.asarray(model._replica_latent(0, 0, 8, 8, 0))
    losses = np.asarray(
        model.generator_loss_fn(model.discriminate(model.generator(latent)))
    )
    halves = sorted([losses[:4].mean(), losses[4:].mean()])
    assert halves[1] - halves[0] > 1e-3
    # Above the global mean, below the larger half's mean.
    model.switch_threshold.assign((losses.mean() + halves[1]) / 2)

    def decide(rows):
        batch, global_batch, start = _batch_info(tf.zeros((rows, 2)))
        z = model._replica_latent(0, 0, batch, global_batch, start)
        return model._generator_behind(z, 0, 0, global_batch, start)

    one_device = bool(tf.function(decide)(8))
    per_replica = mirrored.experimental_local_results(
        mirrored.run(tf.function(lambda: decide(4)))
    )
    assert one_device is False
    assert [bool(d) for d in per_replica] == [False, False]


def test_cycle_components_follow_rows_of_the_global_batch(mirrored):
    """`component_sampling="cycle"`: row k of the global batch takes
    component k mod N on each replica, also when split unevenly."""
    from ganzoo.models.gan import _batch_info

    model = helpers.tiny_toy_model(
        "deligan", seed=0, num_components=3, component_sampling="cycle"
    )

    @tf.function
    def ids(sizes):
        ctx = tf.distribute.get_replica_context()
        local = tf.gather(sizes, ctx.replica_id_in_sync_group)
        batch, global_batch, start = _batch_info(tf.zeros((local, 2)))
        return model._replica_latent(0, 0, batch, global_batch, start)[1]

    for sizes in ([4, 4], [3, 2]):
        parts = mirrored.experimental_local_results(
            mirrored.run(ids, args=(tf.constant(sizes),))
        )
        got = np.concatenate([np.asarray(p) for p in parts])
        np.testing.assert_array_equal(got, np.arange(sum(sizes)) % 3)


def _keyed_d_model(d, seed=5, kind="gan", **kwargs):
    """A tiny model with D's dropout / noise on: the GAN paper's maxout D
    (MNIST) or the DeLiGAN authors' CIFAR-10 D (minibatch discrimination
    too)."""
    keras.utils.set_random_seed(seed)
    if d == "maxout":
        g = ganzoo.networks.mnist_mlp_generator(latent_dim=4, units=8)
        disc = ganzoo.networks.mnist_maxout_discriminator(units=8, pieces=2)
    else:
        g = ganzoo.networks.deligan_cifar_generator(latent_dim=4, filters=2)
        # With minibatch discrimination, which compares each replica's
        # rows with the whole global batch.
        disc = ganzoo.networks.deligan_cifar_discriminator(
            filters=2, minibatch_kernels=3
        )
    extra = {"num_components": 3} if kind == "deligan" else {}
    return helpers.MODEL_CLASSES[kind](
        generator=g,
        discriminator=disc,
        latent_dim=4,
        data_range=(0, 1) if d == "maxout" else (-1, 1),  # sigmoid / tanh G
        seed=seed,
        **extra,
        **kwargs,
    )


@pytest.mark.parametrize(
    "d, kind, kwargs",
    [
        ("maxout", "gan", dict(d_steps=2)),
        ("maxout", "gan", dict(update="simultaneous")),
        ("maxout", "gan", dict(update="adaptive", switch=SWITCH)),
        ("cifar", "deligan", {}),
    ],
    ids=["maxout", "maxout-simultaneous", "maxout-adaptive", "cifar"],
)
def test_keyed_dropout_and_noise_match_single_device(d, kind, kwargs, mirrored):
    """D's dropout masks and Gaussian noise are drawn per row of the global
    batch (`layers.KeyedDropout`, `KeyedGaussianNoise`), and the CIFAR D's
    minibatch features compare each row with the global batch: 2 replicas
    update as one device, also with a last batch of 3 split 2/1."""
    shape = (28, 28, 1) if d == "maxout" else (32, 32, 3)
    x = np.random.default_rng(3).uniform(-1, 1, (35, *shape))
    x = x.astype("float32")
    build = lambda: _keyed_d_model(d, kind=kind, **kwargs)
    single, h1, multi, h2 = _fit_both(build, OPTIMIZERS["sgd"], mirrored, x, 16)
    steps = [
        [int(o.iterations.numpy()) for o in (m.d_optimizer, m.g_optimizer)]
        for m in (single, multi)
    ]
    # The same D and G steps (the adaptive update takes both kinds).
    assert steps[0] == steps[1] and min(steps[0]) > 0
    for name in h1:
        np.testing.assert_allclose(h1[name], h2[name], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, contexts",
    [(dict(d_steps=2), 5), (dict(update="simultaneous"), 2)],
)
def test_each_discriminator_pass_has_its_own_key(kwargs, contexts, monkeypatch):
    """Real and fake passes, each D step and G's pass open their own
    `noise_key`, in training mode: D's 3 dropout layers draw in each."""
    opened = []
    noise_key = layers.noise_key

    @contextlib.contextmanager
    def spy(seed, start=0, global_batch=None):
        with noise_key(seed, start, global_batch):
            yield
            opened.append((tuple(np.asarray(seed)), layers._open_key().calls))

    monkeypatch.setattr(layers, "noise_key", spy)
    model = _keyed_d_model("maxout", **kwargs)
    model.compile(jit_compile=False)
    model.train_step(np.zeros((4, 28, 28, 1), "float32"))
    assert len(opened) == contexts
    assert len({seed for seed, _ in opened}) == contexts
    assert {calls for _, calls in opened} == {3}


@pytest.mark.parametrize("update", ["alternating", "simultaneous"])
def test_spectral_norm_discriminator_matches_single_device(update, mirrored):
    """`deligan_mnist_sn`'s D renormalises its kernels and power-iteration
    vectors (non-trainable) on every training call: each replica computes
    the same from the same mirrored kernels, so 2 replicas end as one
    device, those vectors included."""
    x = np.random.default_rng(6).uniform(-1, 1, (32, 28, 28, 1))
    x = x.astype("float32")

    def build():
        # G without batch norm: the deconv biases that feed it get a
        # gradient of rounding noise only, which Adam scales up to full
        # steps, different on 2 replicas (SGD diverges with the plain D).
        keras.utils.set_random_seed(4)
        return ganzoo.LSGAN(
            generator=ganzoo.networks.deligan_mnist_generator(
                4, filters=2, batch_norm=False
            ),
            discriminator=ganzoo.networks.deligan_mnist_sn_discriminator(
                filters=2, minibatch_kernels=3
            ),
            latent_dim=4,
            seed=4,
            update=update,
        )

    _single, h1, multi, h2 = _fit_both(build, OPTIMIZERS["adam"], mirrored, x)
    # The wrappers write kernels and vectors on each replica (aggregation
    # "none"): every replica's copy must agree, not just the first's.
    written = [
        v
        for layer in multi.discriminator.layers
        if isinstance(layer, keras.layers.SpectralNormalization)
        for v in (layer.vector_u, layer.layer.kernel)
    ]
    assert len(written) == 8
    for v in written:
        first, *others = mirrored.experimental_local_results(v.value)
        assert others
        for copy in others:
            np.testing.assert_array_equal(copy.numpy(), first.numpy())
    for name in h1:
        np.testing.assert_allclose(h1[name], h2[name], rtol=1e-5, atol=1e-6)


def test_grand_sum_minibatch_discrimination_matches_single_device(mirrored):
    """The DeLiGAN authors' MNIST D: its `"grand_sum"` minibatch features
    compare each replica's rows with the whole global batch (real and
    generated apart, as D sees them) and divide by the grand sum over all
    of it; with its synchronised batch norm, 2 replicas update as one
    device, also with a last batch of 3 split 2/1. (The CIFAR-10 D above
    covers `"standard"` ones.)"""
    x = np.random.default_rng(5).uniform(-1, 1, (35, 28, 28, 1))
    x = x.astype("float32")

    def build():
        keras.utils.set_random_seed(2)
        return ganzoo.DeLiGAN(
            generator=ganzoo.networks.dcgan_mnist_generator(4, filters=2),
            discriminator=ganzoo.networks.deligan_paper_mnist_discriminator(
                filters=2, minibatch_kernels=3
            ),
            latent_dim=4,
            num_components=3,
            seed=2,
            update="simultaneous",
        )

    _single, h1, multi, h2 = _fit_both(
        build, OPTIMIZERS["sgd"], mirrored, x, 16
    )
    assert int(multi.g_optimizer.iterations.numpy()) == 3
    for name in h1:
        np.testing.assert_allclose(h1[name], h2[name], rtol=1e-5, atol=1e-6)
