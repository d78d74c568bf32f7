"""DiffAugment (ganzoo.augment) and the models' `augment` option."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import ganzoo
from ganzoo import augment as aug
from ganzoo import training
from tests import helpers

SEED = tf.constant([3, 7], tf.int64)


def _dot_images(n=16, size=28):
    """Black images (-1) with one white pixel in the middle."""
    x = np.full((n, size, size, 1), -1.0, np.float32)
    x[:, size // 2, size // 2, 0] = 1.0
    return tf.constant(x)


def test_translation_moves_the_image_by_at_most_an_eighth():
    x = _dot_images()
    y = aug.augment(x, ("translation",), SEED).numpy()
    shifts = set()
    for image in y[..., 0]:
        ((row, col),) = np.argwhere(image > 0)  # the dot moved, not copied
        shifts.add((row - 14, col - 14))
        assert max(abs(row - 14), abs(col - 14)) <= 4  # 28 / 8 rounded
    assert len(shifts) > 4  # a different shift per example
    # What is shifted in is the fill value (the background here).
    assert set(np.unique(y)) == {-1.0, 1.0}


def test_translation_fills_with_the_fill_value():
    x = tf.ones((16, 28, 28, 1))
    y = aug.augment(x, "translation", SEED, fill=-1.0).numpy()[..., 0]
    assert set(np.unique(y)) <= {-1.0, 1.0}
    for image in y:
        # What stays is one solid rectangle, at most 4 rows/columns short.
        rows = np.flatnonzero((image == 1).any(axis=1))
        cols = np.flatnonzero((image == 1).any(axis=0))
        assert len(rows) >= 24 and len(cols) >= 24
        assert (image == 1).sum() == len(rows) * len(cols)
    assert (y == -1).any()


def test_cutout_blanks_a_square_of_half_the_size():
    x = tf.ones((32, 28, 28, 1))
    y = aug.augment(x, "cutout", SEED, fill=0.0).numpy()[..., 0]
    areas = []
    for image in y:
        rows = np.flatnonzero((image == 0).any(axis=1))
        cols = np.flatnonzero((image == 0).any(axis=0))
        assert len(rows) <= 14 and len(cols) <= 14
        # One solid rectangle (the square clipped to the image).
        assert (
            image[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1] == 0
        ).all()
        areas.append((image == 0).sum())
    assert max(areas) == 14 * 14 and min(areas) < 14 * 14


def test_color_keeps_images_finite_and_changes_them():
    x = tf.random.stateless_uniform((8, 28, 28, 3), [1, 2], -1, 1)
    y = aug.augment(x, "color", SEED).numpy()
    assert np.isfinite(y).all()
    assert not np.allclose(y, x.numpy())


def test_same_seed_same_transform_other_seed_other():
    x = tf.random.stateless_uniform((8, 28, 28, 1), [1, 2], -1, 1)
    policy = "translation,cutout,color"
    a = aug.augment(x, policy, SEED).numpy()
    b = aug.augment(x, policy, SEED).numpy()
    c = aug.augment(x, policy, SEED + 1).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_a_slice_of_the_global_batch_is_transformed_as_in_the_whole():
    """What a replica holding rows 4..8 of a global batch of 12 computes."""
    x = tf.random.stateless_uniform((12, 28, 28, 1), [1, 2], -1, 1)
    policy = "translation,cutout,color"
    whole = aug.augment(x, policy, SEED).numpy()
    part = aug.augment(x[4:8], policy, SEED, start=4, total=12).numpy()
    np.testing.assert_array_equal(part, whole[4:8])


def test_gradients_pass_through_to_the_images():
    x = tf.random.stateless_uniform((4, 28, 28, 1), [1, 2], -1, 1)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = aug.augment(x, "translation,cutout,color", SEED)
        loss = tf.reduce_sum(y * y)
    grad = tape.gradient(loss, x).numpy()
    assert np.abs(grad).sum() > 0
    assert np.isfinite(grad).all()


@pytest.mark.parametrize(
    "policy, message",
    [
        ("flip", "Unknown augmentation 'flip'"),
        ("cutout,cutout", "names one twice"),
    ],
)
def test_bad_policy_is_rejected_with_the_choices(policy, message):
    with pytest.raises(ValueError, match=message):
        aug.check_policy(policy)
    with pytest.raises(ValueError, match=message):
        training.TrainConfig(
            model="deligan", network="deligan_mnist", augment=policy
        ).validate()


def test_points_cannot_be_augmented():
    with pytest.raises(ValueError, match="needs image data"):
        helpers.tiny_toy_model("gan", augment=("translation",))
    with pytest.raises(ValueError, match="transforms images"):
        training.TrainConfig(
            network="toy", dataset="ring8", augment="translation"
        ).validate()
    with pytest.raises(ValueError, match="needs images"):
        aug.augment(tf.zeros((4, 2)), "translation", SEED)


@pytest.mark.parametrize("kind", ["gan", "lsgan", "deligan"])
def test_augmented_model_trains_and_round_trips(kind, tmp_path):
    model = helpers.tiny_image_model(kind, augment="translation,cutout")
    helpers.compile_adam(model)
    x = np.random.default_rng(0).uniform(-1, 1, (32, 28, 28, 1))
    history = model.fit(x.astype("float32"), batch_size=16, epochs=1, verbose=0)
    assert np.isfinite(history.history["d_loss"][0])
    assert model.get_config()["augment"] == ["translation", "cutout"]
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False)
    assert loaded.augment == ("translation", "cutout")
    # Sampling never augments: the same latent gives the same images.
    np.testing.assert_allclose(
        loaded.sample(4, seed=0), model.sample(4, seed=0), atol=1e-6
    )


def test_augmentation_changes_the_update():
    """D's update sees transformed images: without `augment`, the same seed
    and data give different weights."""
    x = np.random.default_rng(0).uniform(-1, 1, (32, 28, 28, 1))
    x = x.astype("float32")
    weights = []
    for policy in (None, "translation"):
        model = helpers.compile_adam(
            helpers.tiny_image_model("gan", augment=policy)
        )
        model.fit(x, batch_size=16, epochs=1, verbose=0, shuffle=False)
        weights.append(helpers.all_weights(model))
    assert helpers.max_abs_diff(*weights) > 1e-6


def test_old_configs_without_augment_still_load():
    model = helpers.tiny_image_model("deligan")
    config = model.get_config()
    del config["augment"]
    assert ganzoo.DeLiGAN.from_config(config).augment == ()
