"""Mixed precision (`--mixed_precision`): bfloat16 / float16 compute,
float32 weights, losses and samples; float16 gets loss scaling."""

import contextlib

import keras
import numpy as np
import pytest

import ganzoo
from ganzoo import training
from tests import helpers

POLICIES = ["mixed_bfloat16", "mixed_float16"]
KINDS = ["gan", "lsgan", "deligan"]


@contextlib.contextmanager
def global_policy(name):
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy("float32")


def _images(n=32, seed=0):
    x = np.random.default_rng(seed).uniform(-1, 1, (n, 28, 28, 1))
    return x.astype("float32")


def _build(kind, policy, **kwargs):
    with global_policy(policy):
        model = helpers.tiny_image_model(kind, **kwargs)
        if kind == "deligan":  # its own D, with minibatch discrimination
            model = ganzoo.DeLiGAN(
                generator=model.generator,
                discriminator=ganzoo.networks.deligan_mnist_discriminator(
                    filters=2, minibatch_kernels=3
                ),
                latent_dim=model.latent_dim,
                num_components=3,
                seed=0,
            )
        return helpers.compile_adam(model)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("policy", POLICIES)
def test_fit_and_sample(kind, policy):
    model = _build(kind, policy)
    compute = policy.split("_")[1]
    assert model.generator.layers[-1].compute_dtype == compute
    # D's score layer stays float32: the losses take its log / square.
    assert model.discriminator.layers[-1].compute_dtype == "float32"
    history = model.fit(_images(), batch_size=8, epochs=2, verbose=0)
    for values in history.history.values():
        assert np.all(np.isfinite(values))
    assert {str(w.dtype) for w in model.weights} == {"float32"}
    assert int(model.g_optimizer.iterations.numpy()) == 8
    scaled = isinstance(model.d_optimizer, keras.optimizers.LossScaleOptimizer)
    assert scaled == (policy == "mixed_float16")
    assert isinstance(model.g_optimizer, type(model.d_optimizer))
    images = model.sample(5, seed=1)
    assert images.dtype == np.float32 and images.shape == (5, 28, 28, 1)
    assert images.min() >= 0.0 and images.max() <= 1.0
    assert keras.mixed_precision.global_policy().name == "float32"


def _huge_scale():
    return keras.optimizers.LossScaleOptimizer(
        keras.optimizers.Adam(1e-3), initial_scale=2.0**60
    )


def test_float16_loss_scale_skips_overflowing_steps():
    """A loss scale that overflows float16 gradients: the step is skipped
    (weights unchanged) and the scale halves; without `scale_loss` in
    train_step the scale would not matter."""
    with global_policy("mixed_float16"):
        model = helpers.tiny_image_model("gan")
    model.compile(d_optimizer=_huge_scale(), g_optimizer=_huge_scale())
    before = [w.numpy().copy() for w in model.trainable_weights]
    model.fit(_images(8), batch_size=8, epochs=1, verbose=0)
    for opt in (model.d_optimizer, model.g_optimizer):
        assert float(opt.dynamic_scale.numpy()) == 2.0**59
        assert int(opt.iterations.numpy()) == 0
    after = [w.numpy() for w in model.trainable_weights]
    assert helpers.max_abs_diff(before, after) == 0.0


def test_float16_compile_config_round_trip(tmp_path):
    model = _build("gan", "mixed_float16")
    model.fit(_images(16), batch_size=8, epochs=1, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    for name in ("d_optimizer", "g_optimizer"):
        opt = getattr(loaded, name)
        assert isinstance(opt, keras.optimizers.LossScaleOptimizer)
        assert not isinstance(
            opt.inner_optimizer, keras.optimizers.LossScaleOptimizer
        )
    assert loaded.generator.layers[-1].compute_dtype == "float16"
    np.testing.assert_allclose(
        loaded.sample(4, seed=2), model.sample(4, seed=2), atol=1e-3
    )


def test_train_config_flag(tmp_path):
    cfg = helpers.tiny_train_config(
        grid_size=2, mixed_precision="mixed_bfloat16"
    )
    card = training.train(cfg, tmp_path / "run", verbose=0)
    assert card["steps"] == 2
    assert card["train_config"]["mixed_precision"] == "mixed_bfloat16"
    # The policy is for the run's model only.
    assert keras.mixed_precision.global_policy().name == "float32"
    with pytest.raises(ValueError, match="mixed_precision"):
        training.TrainConfig(mixed_precision="float8").validate()


def test_adaptive_update_refuses_float16_loss_scaling():
    # A skipped (overflowing) update would not advance `iterations`, from
    # which the adaptive step counts real batches.
    with pytest.raises(ValueError, match="cannot run under mixed_float16"):
        _build("gan", "mixed_float16", update="adaptive")
    assert _build("gan", "mixed_bfloat16", update="adaptive").built
