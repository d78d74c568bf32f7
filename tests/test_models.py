"""GAN, LSGAN, DeLiGAN: fit, sample, save/resume, bad input."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import ganzoo
from tests import helpers

KINDS = ["gan", "lsgan", "deligan"]


def _points(n=128, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 2)).astype("float32")


@pytest.mark.parametrize("kind", KINDS)
def test_fit_logs_metrics(kind):
    model = helpers.compile_adam(helpers.tiny_toy_model(kind, d_steps=2))
    history = model.fit(_points(), batch_size=32, epochs=2, verbose=0)
    expected = {"d_loss", "g_loss", "d_real", "d_fake"}
    if kind == "deligan":
        expected.add("sigma")
    assert set(history.history) == expected
    for values in history.history.values():
        assert len(values) == 2 and np.all(np.isfinite(values))
    assert int(model.g_optimizer.iterations.numpy()) == 8
    assert int(model.d_optimizer.iterations.numpy()) == 16
    logs = model.evaluate(
        _points(64, 1), batch_size=32, verbose=0, return_dict=True
    )
    assert set(logs) == expected


def test_first_step_losses_match_formulas():
    """At init with D's last layer zeroed, D outputs 0: GAN losses are
    2 log 2 and log 2, LSGAN (-1, 1, 0) losses are 1 and 0."""
    for kind, d_loss, g_loss in [
        ("gan", 2 * np.log(2), np.log(2)),
        ("lsgan", 1.0, 0.0),
    ]:
        model = helpers.compile_adam(helpers.tiny_toy_model(kind), lr=0.0)
        last = model.discriminator.layers[-1]
        last.set_weights([np.zeros_like(w) for w in last.get_weights()])
        logs = model.evaluate(
            _points(32), batch_size=32, verbose=0, return_dict=True
        )
        assert logs["d_loss"] == pytest.approx(d_loss, rel=1e-5)
        assert logs["g_loss"] == pytest.approx(g_loss, abs=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_sample_images_in_unit_range_and_deterministic(kind):
    model = helpers.tiny_image_model(kind)
    images = model.sample(5, seed=3)
    assert images.shape == (5, 28, 28, 1) and images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() <= 1.0
    np.testing.assert_array_equal(images, model.sample(5, seed=3))
    assert not np.allclose(images, model.sample(5, seed=4))
    # Batching does not change samples.
    np.testing.assert_allclose(
        images, model.sample(5, seed=3, batch_size=2), atol=1e-6
    )


def test_generate_matches_generator():
    model = helpers.tiny_toy_model("gan")
    z = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    np.testing.assert_allclose(
        model.generate(z), np.asarray(model.generator(z)), atol=1e-6
    )


def _resume_check(model, path, save, load):
    data = _points(96, 2)
    model.fit(data[:64], batch_size=32, epochs=1, verbose=0, shuffle=False)
    save(model, path)
    restored = load(path)
    for m in (model, restored):
        m.fit(data[64:], batch_size=32, epochs=1, verbose=0, shuffle=False)
    assert (
        helpers.max_abs_diff(
            helpers.all_weights(model), helpers.all_weights(restored)
        )
        < 1e-6
    )
    assert int(restored.g_optimizer.iterations.numpy()) == 3


@pytest.mark.parametrize("kind", KINDS)
def test_keras_file_round_trip_resumes_training(kind, tmp_path):
    _resume_check(
        helpers.compile_adam(helpers.tiny_toy_model(kind)),
        tmp_path / "model.keras",
        lambda m, p: m.save(p),
        keras.saving.load_model,
    )


@pytest.mark.parametrize("kind", KINDS)
def test_weights_file_round_trip_resumes_training(kind, tmp_path):
    def load(path):
        model = helpers.compile_adam(helpers.tiny_toy_model(kind, init_seed=9))
        model.load_weights(path)
        return model

    _resume_check(
        helpers.compile_adam(helpers.tiny_toy_model(kind)),
        tmp_path / "model.weights.h5",
        lambda m, p: m.save_weights(p),
        load,
    )


def test_config_round_trip_keeps_arguments():
    model = helpers.tiny_toy_model(
        "deligan",
        num_components=7,
        sigma_init=0.3,
        sigma_reg=0.5,
        component_sampling="cycle",
        d_steps=3,
    )
    clone = ganzoo.DeLiGAN.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    lsgan = helpers.tiny_toy_model("lsgan", coding="real_label")
    assert ganzoo.LSGAN.from_config(lsgan.get_config()).c == 1.0


def test_deligan_trains_the_mixture_and_regulariser_pulls_sigma():
    model = helpers.tiny_toy_model("deligan", sigma_reg=100.0)
    helpers.compile_adam(model, lr=1e-2)
    mu0 = np.asarray(model.mixture.mu).copy()
    model.fit(_points(), batch_size=32, epochs=3, verbose=0)
    assert not np.allclose(mu0, model.mixture.mu)
    assert float(np.mean(model.mixture.sigma)) > 0.25


def test_generator_moving_average_ends_in_the_weights():
    """With `use_ema`, fit ends with the average of the trained weights
    (a_1 = w_1, a_t = m a_(t-1) + (1 - m) w_t); `averaged_generator`
    swaps it in mid-training and puts the trained weights back."""
    m = 0.6
    model = helpers.tiny_toy_model("deligan")
    model.compile(
        d_optimizer=keras.optimizers.Adam(1e-2),
        g_optimizer=keras.optimizers.Adam(1e-2, use_ema=True, ema_momentum=m),
    )
    average, checked = [None], []

    def track(batch, logs):
        w = [v.numpy().copy() for v in model.generator_variables]
        average[0] = (
            w
            if average[0] is None
            else [m * a + (1 - m) * x for a, x in zip(average[0], w)]
        )

    def check(epoch, logs):
        trained = [v.numpy().copy() for v in model.generator_variables]
        with model.averaged_generator():
            inside = [v.numpy().copy() for v in model.generator_variables]
        after = [v.numpy() for v in model.generator_variables]
        checked.append(epoch)
        for a, x in zip(average[0], inside):
            np.testing.assert_allclose(x, a, rtol=1e-5, atol=1e-6)
        for t, x in zip(trained, after):
            np.testing.assert_array_equal(t, x)
        assert not all(np.allclose(t, a) for t, a in zip(trained, inside))

    callback = keras.callbacks.LambdaCallback(
        on_train_batch_end=track, on_epoch_end=check
    )
    model.fit(
        _points(), batch_size=32, epochs=2, verbose=0, callbacks=[callback]
    )
    assert checked == [0, 1]
    for a, x in zip(average[0], model.generator_variables):
        np.testing.assert_allclose(x.numpy(), a, rtol=1e-5, atol=1e-6)


def test_averaged_generator_without_average_changes_nothing():
    model = helpers.compile_adam(helpers.tiny_toy_model("gan"))
    before = [v.numpy().copy() for v in model.generator_variables]
    with model.averaged_generator():
        inside = [v.numpy() for v in model.generator_variables]
    for b, x in zip(before, inside):
        np.testing.assert_array_equal(b, x)


def test_minimax_generator_loss_option():
    model = helpers.compile_adam(
        helpers.tiny_toy_model("gan", generator_loss="minimax")
    )
    history = model.fit(_points(), batch_size=32, verbose=0)
    assert history.history["g_loss"][0] < 0  # log(1 - D) < 0


def test_fit_before_compile_says_what_to_call():
    model = helpers.tiny_toy_model("gan")
    with pytest.raises(RuntimeError, match=r"compile\(d_optimizer"):
        model.fit(_points(), verbose=0)


G = ganzoo.networks.toy_generator
D = ganzoo.networks.toy_discriminator


@pytest.mark.parametrize(
    "cls, kwargs, word",
    [
        (ganzoo.GAN, {"latent_dim": 0}, "latent_dim"),
        (ganzoo.GAN, {"latent_dim": 2, "d_steps": 0}, "d_steps"),
        (
            ganzoo.GAN,
            {"latent_dim": 2, "generator_loss": "hinge"},
            "generator_loss",
        ),
        (
            ganzoo.GAN,
            {"latent_dim": 2, "latent_distribution": "cauchy"},
            "latent_distribution",
        ),
        (ganzoo.GAN, {"latent_dim": 5}, "latent_dim"),
        (ganzoo.LSGAN, {"latent_dim": 2, "coding": "wasserstein"}, "coding"),
        (ganzoo.LSGAN, {"latent_dim": 2, "a": 1.0, "b": 1.0}, "must differ"),
        (
            ganzoo.DeLiGAN,
            {"latent_dim": 2, "num_components": 0},
            "num_components",
        ),
        (ganzoo.DeLiGAN, {"latent_dim": 2, "sigma_init": 0.0}, "sigma_init"),
        (ganzoo.DeLiGAN, {"latent_dim": 2, "sigma_reg": -1.0}, "sigma_reg"),
        (
            ganzoo.DeLiGAN,
            {"latent_dim": 2, "latent_distribution": "uniform"},
            "latent_distribution",
        ),
        (
            ganzoo.LSGAN,
            {"latent_dim": 2, "generator_loss": "minimax"},
            "generator_loss",
        ),
    ],
)
def test_bad_arguments(cls, kwargs, word):
    with pytest.raises(ValueError, match=word):
        cls(
            generator=G(latent_dim=2, units=4),
            discriminator=D(units=4),
            **kwargs,
        )


def test_generator_discriminator_shape_mismatch():
    with pytest.raises(ValueError, match="does not match"):
        ganzoo.GAN(
            generator=G(latent_dim=2, units=4, data_dim=3),
            discriminator=D(units=4, data_dim=2),
            latent_dim=2,
        )


def test_sample_rejects_bad_num():
    with pytest.raises(ValueError, match="num"):
        helpers.tiny_toy_model("gan").sample(0)


def test_recalibrate_batch_norm_follows_the_current_weights():
    """Garbage moving statistics are replaced: afterwards inference-mode
    output matches training-mode (batch statistics) output."""
    model = helpers.compile_adam(helpers.tiny_image_model("gan"))
    latent = model.draw_latent(2000, tf.constant([9, 9]))
    batch_stats = model.generate_raw(latent, training=True).numpy()
    norms = [
        layer
        for layer in model.generator.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    for layer in norms:
        layer.moving_mean.assign(layer.moving_mean + 5.0)

    def gap():
        out = model.generate_raw(latent, training=False).numpy()
        return float(np.mean(np.abs(out - batch_stats)))

    before = gap()
    assert before > 0.2
    weights = [v.numpy().copy() for v in model.generator.trainable_variables]
    assert model.recalibrate_batch_norm(num_batches=40, batch_size=500) == 2
    assert gap() < 0.1 * before
    assert [layer.momentum for layer in norms] == [0.99, 0.99]
    for w, v in zip(weights, model.generator.trainable_variables):
        np.testing.assert_array_equal(w, v.numpy())


def test_recalibrate_batch_norm_without_batch_norm_and_bad_input():
    model = helpers.compile_adam(helpers.tiny_toy_model("gan"))
    assert model.recalibrate_batch_norm(num_batches=2) == 0
    with pytest.raises(ValueError, match="num_batches must be a positive"):
        model.recalibrate_batch_norm(num_batches=0)


def test_simultaneous_update_needs_one_d_step():
    with pytest.raises(ValueError, match="one D step"):
        helpers.tiny_toy_model("gan", d_steps=2, update="simultaneous")
    with pytest.raises(ValueError, match="update="):
        helpers.tiny_toy_model("gan", update="sometimes")


def test_simultaneous_step_uses_gradients_at_the_current_weights():
    """One step: D's new weights equal the alternating step's (same noise,
    same data), and G's gradient is taken against the old D."""
    x = np.random.default_rng(0).normal(size=(8, 2)).astype("float32")
    data = tf.data.Dataset.from_tensor_slices(x).batch(8)
    models = {}
    for update in ("simultaneous", "alternating"):
        model = helpers.tiny_toy_model("gan", seed=2, update=update)
        model.compile(
            d_optimizer=keras.optimizers.SGD(0.5),
            g_optimizer=keras.optimizers.SGD(0.5),
        )
        d_before = [w.numpy() for w in model.discriminator.weights]
        model.fit(data, epochs=1, verbose=0)
        models[update] = model
    sim, alt = models["simultaneous"], models["alternating"]
    for a, b in zip(sim.discriminator.weights, alt.discriminator.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)
    assert not np.allclose(d_before[0], sim.discriminator.weights[0].numpy())
    assert not np.allclose(
        sim.generator.weights[0].numpy(), alt.generator.weights[0].numpy()
    )


@pytest.mark.parametrize("bad", [2.5, True, 0])
def test_integer_arguments_refuse_floats_and_bools(bad):
    """2.5 components is an error, not a silent 2; True is not 1."""
    with pytest.raises(ValueError, match="positive integer"):
        helpers.tiny_toy_model("deligan", num_components=bad)
    with pytest.raises(ValueError, match="positive integer"):
        helpers.tiny_toy_model("gan", d_steps=bad)


def _adaptive(kind="gan", **switch):
    return helpers.tiny_toy_model(kind, update="adaptive", switch=switch)


@pytest.mark.parametrize("kind", KINDS)
def test_adaptive_update_takes_updates_per_batch_and_logs_them(kind):
    model = helpers.compile_adam(
        _adaptive(kind, updates_per_batch=3, start=0.7, low=0.0, high=0.8)
    )
    history = model.fit(_points(), batch_size=32, epochs=2, verbose=0)
    assert {"g_steps", "threshold"} <= set(history.history)
    d_steps = int(model.d_optimizer.iterations.numpy())
    g_steps = int(model.g_optimizer.iterations.numpy())
    assert d_steps + g_steps == 3 * 8
    np.testing.assert_allclose(
        np.sum(history.history["g_steps"]) * 4, g_steps, rtol=1e-6
    )


def test_adaptive_threshold_moves_once_per_batch_before_its_updates():
    """Always D (G's loss is never above 10): 5 D steps per batch, and the
    threshold falls by `step` at the start of every batch but the first."""
    model = helpers.compile_adam(
        _adaptive(start=10.0, low=6.5, high=10.0, step=1.0)
    )
    history = model.fit(_points(160), batch_size=32, epochs=1, verbose=0)
    assert int(model.g_optimizer.iterations.numpy()) == 0
    assert int(model.d_optimizer.iterations.numpy()) == 25
    # 10, 9, 8, 7, then 6.5 (the floor).
    assert float(model.switch_threshold.numpy()) == 6.5
    np.testing.assert_allclose(history.history["threshold"], [8.1])
    assert int(model.switch_d_run.numpy()) == 5
    assert int(model.switch_g_run.numpy()) == 0


@pytest.mark.parametrize("kind", ["gan", "deligan"])
def test_adaptive_state_survives_a_keras_file(kind, tmp_path):
    model = helpers.compile_adam(_adaptive(kind, start=0.7, low=0.6, g_run=2))
    data = _points(96, 2)
    model.fit(data[:64], batch_size=32, epochs=1, verbose=0, shuffle=False)
    model.switch_threshold.assign(0.65)  # as if it had moved
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    assert restored.switch == model.switch
    assert float(restored.switch_threshold.numpy()) == pytest.approx(0.65)
    for m in (model, restored):
        m.fit(data[64:], batch_size=32, epochs=1, verbose=0, shuffle=False)
    assert (
        helpers.max_abs_diff(
            helpers.all_weights(model), helpers.all_weights(restored)
        )
        < 1e-6
    )


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(update="adaptive", d_steps=2), "chooses G or D"),
        (dict(switch={"updates_per_batch": 2}), "switch= is the rule"),
        (dict(update="adaptive", switch={"start": 2.0}), "start must be in"),
        (dict(update="adaptive", switch={"steps": 2}), "Unknown AdaptiveSwi"),
        (dict(update="adaptive", switch="paper"), "switch must be"),
        (dict(update="sometimes"), "adaptive, alternating, simultaneous"),
    ],
)
def test_adaptive_bad_arguments(kwargs, word):
    with pytest.raises(ValueError, match=word):
        helpers.tiny_toy_model("gan", **kwargs)


def test_deligan_paper_sampling_is_uniform_with_100_per_component():
    from ganzoo import evaluation

    model = helpers.tiny_toy_model("deligan", num_components=4)
    seed = tf.constant([0, ganzoo.models.gan.SAMPLE_STREAM], tf.int64)
    eps, ids = (np.asarray(t) for t in model.draw_latent(400, seed, "paper"))
    assert eps.min() >= -1.0 and eps.max() <= 1.0
    assert 0.5 < eps.std() < 0.65  # U(-1, 1): 1/sqrt(3)
    np.testing.assert_array_equal(np.bincount(ids), [100] * 4)
    normal_eps, _ = model.draw_latent(400, seed)
    assert np.abs(np.asarray(normal_eps)).max() > 1.5
    np.testing.assert_allclose(
        model.sample(400, seed=0, sampling="paper"),
        model.generate((eps, ids)),
        atol=1e-6,
    )
    result = evaluation.evaluate_model(model, dataset="ring8", sampling="paper")
    assert result["num_samples"] == 400 and "100 per" in result["sampling"]
    with pytest.raises(ValueError, match="DeLiGAN authors"):
        evaluation.evaluate_model(
            helpers.tiny_toy_model("gan"), dataset="ring8", sampling="paper"
        )
    with pytest.raises(ValueError, match="normal, paper"):
        model.sample(4, sampling="uniform")


@pytest.mark.parametrize("kind", ["gan", "lsgan"])
def test_only_deligan_draws_the_paper_sampling(kind):
    """GAN and LSGAN refuse sampling="paper" in every door (`sample`,
    `draw_latent`, `check_sampling`) with the one message, and still
    sample with sampling="normal" as without it."""
    model = helpers.tiny_toy_model(kind)
    assert model.samplings == ("normal",)
    seed = tf.constant([0, 1], tf.int64)
    for call in (
        lambda: model.sample(4, seed=0, sampling="paper"),
        lambda: model.draw_latent(4, seed, "paper"),
        lambda: model.check_sampling("paper"),
    ):
        with pytest.raises(ValueError, match="which .*GAN does not have"):
            call()
    np.testing.assert_array_equal(
        model.sample(4, seed=3, sampling="normal"), model.sample(4, seed=3)
    )
    deligan = helpers.tiny_toy_model("deligan", num_components=4)
    assert deligan.samplings == ganzoo.models.gan.SAMPLINGS
    deligan.check_sampling("paper")
