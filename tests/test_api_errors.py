"""A user's mistake in a Python call (the API a notebook uses, not the
command line) is one `ArgumentError` (or the standard `FileNotFoundError`)
naming the argument and what is valid, before anything is written; nothing
is silently wrong. The cases come from an audit of the public API."""

import os
import pathlib
import re
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import ganzoo
from ganzoo import datasets, evaluation, export, metrics, presets_io, zoo
from ganzoo._checks import ArgumentError, NotAGeneratorError
from tests import helpers


@pytest.fixture(scope="module")
def deligan():
    return ganzoo.load("deligan-ring8")


@pytest.fixture(scope="module")
def gan():
    return ganzoo.load("gan-ring8")


# ------------------------------------------------------------ save_preset
@pytest.mark.parametrize("kind", ["folder", "file"])
def test_save_preset_never_replaces_what_is_not_a_preset(tmp_path, kind):
    """The target held the user's own files: refused, all of it kept (it
    used to be deleted and replaced by the preset)."""
    target = tmp_path / "myproject"
    if kind == "folder":
        target.mkdir()
        (target / "notes.txt").write_text("mine")
    else:
        target.write_text("mine")
    model = helpers.tiny_toy_model()
    with pytest.raises(ArgumentError, match="is not a preset folder"):
        presets_io.save_preset(model, target)
    mine = target / "notes.txt" if kind == "folder" else target
    assert mine.read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["myproject"]


def test_save_preset_needs_a_model(tmp_path):
    with pytest.raises(ArgumentError, match="model must be a keras.Model"):
        presets_io.save_preset("gan-ring8", tmp_path / "p")
    assert list(tmp_path.iterdir()) == []


def test_save_preset_replaces_a_preset(tmp_path):
    model = helpers.tiny_toy_model()
    first = presets_io.save_preset(model, tmp_path / "p", {"note": "1"})
    second = presets_io.save_preset(model, tmp_path / "p", {"note": "2"})
    assert (first["note"], second["note"]) == ("1", "2")
    assert ganzoo.load(str(tmp_path / "p")).preset_metadata["note"] == "2"


def test_a_saved_preset_is_readable_by_other_users(tmp_path, umask_022):
    presets_io.save_preset(helpers.tiny_toy_model(), tmp_path / "p")
    assert os.stat(tmp_path / "p").st_mode & 0o777 == 0o755


def test_a_failed_save_removes_the_folders_it_made(tmp_path):
    """A save that fails (here: metadata that is not JSON) leaves neither
    its temporary folder nor the parent folders it made (they stayed,
    empty)."""
    with pytest.raises(TypeError, match="not JSON serializable"):
        presets_io.save_preset(
            helpers.tiny_toy_model(),
            tmp_path / "new" / "nested" / "p",
            {"bad": object()},
        )
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------ sample / generate
@pytest.mark.parametrize(
    "ids, message",
    [
        ([0, 1, 99], "in [0, 50), got int64 of shape (3,) from 0 to 99"),
        ([-1, 0, 1], "from -1 to 1"),
        ([0.0, 1.0, 2.0], "got float64"),
        ([0, 1], "got int64 of shape (2,)"),
    ],
    ids=["too-large", "negative", "floats", "too-few"],
)
def test_deligan_component_ids_are_checked(deligan, ids, message):
    """An id outside [0, N) used to give G(0) whatever eps was."""
    with pytest.raises(ArgumentError) as info:
        deligan.generate((np.zeros((3, 2), "float32"), ids))
    assert "component_ids must be 3 integers" in str(info.value)
    assert message in str(info.value), info.value


def test_deligan_generate_accepts_what_sample_draws(deligan):
    eps = np.random.default_rng(0).normal(size=(4, 2)).astype("float32")
    ids = np.array([0, 1, 2, 49])
    as_tuple = deligan.generate((eps, ids))
    np.testing.assert_array_equal(deligan.generate([eps, ids]), as_tuple)
    assert as_tuple.shape == (4, 2)
    assert deligan.generate(eps).shape == (4, 2)  # components at random


@pytest.mark.parametrize(
    "latent, shape",
    [
        (np.zeros((0, 2)), "(0, 2)"),
        (np.zeros(2), "(2,)"),
        (np.zeros((3, 7)), "(3, 7)"),
        (np.array([["a", "b"]]), "(1, 2) (<U1)"),
    ],
    ids=["empty", "1-D", "wrong-width", "strings"],
)
def test_latent_of_the_wrong_shape_is_named(gan, latent, shape):
    with pytest.raises(ArgumentError) as info:
        gan.generate(latent)
    message = str(info.value)
    assert message.startswith("latent must be a numeric array of shape (n, 2)")
    assert f"got shape {shape}" in message, message


def test_a_list_of_rows_is_a_latent(gan):
    np.testing.assert_array_equal(
        gan.generate([[0.0, 0.0]]), gan.generate(np.zeros((1, 2)))
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"batch_size": 0}, "batch_size must be a positive integer, got 0"),
        ({"batch_size": 2.5}, "batch_size must be a positive integer"),
        ({"seed": "abc"}, "seed must be an integer in [-2**63, 2**63)"),
        ({"seed": 1.7}, "got 1.7"),  # used to be truncated to 1
        ({"seed": 2**70}, "seed must be an integer"),
    ],
)
def test_sample_arguments_are_checked(gan, kwargs, message):
    with pytest.raises(ArgumentError) as info:
        gan.sample(5, **kwargs)
    assert message in str(info.value), info.value


def test_a_numpy_seed_is_a_seed(gan):
    np.testing.assert_array_equal(
        gan.sample(5, seed=np.int64(3)), gan.sample(5, seed=3)
    )


def test_networks_must_be_keras_models():
    with pytest.raises(ArgumentError, match="generator must be a keras.Model"):
        ganzoo.GAN(generator=None, discriminator=None, latent_dim=2)


# ------------------------------------------------------------------- load
@pytest.mark.parametrize("value", [None, 123, ""])
def test_load_needs_a_name_or_a_path(value):
    with pytest.raises(ArgumentError, match="must be a preset name"):
        ganzoo.load(value)


def test_load_expands_the_home_folder(tmp_path, monkeypatch):
    shutil.copytree(zoo.PACKAGE_PRESETS / "gan-ring8", tmp_path / "p")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert ganzoo.load("~/p").preset_metadata["dataset"] == "ring8"


def test_load_of_a_file_says_it_is_a_file(tmp_path):
    path = tmp_path / "afile.txt"
    path.write_text("x")
    with pytest.raises(FileNotFoundError, match="is a file, not a preset"):
        ganzoo.load(str(path))


def test_a_case_typo_gets_a_hint():
    with pytest.raises(ArgumentError, match="Did you mean 'gan-ring8'"):
        ganzoo.load("GAN-Ring8")


def test_load_flags_must_be_bools():
    with pytest.raises(ArgumentError, match="full must be True or False"):
        ganzoo.load("gan-ring8", full="yes")


def test_a_cache_that_is_a_file_names_the_variable(tmp_path, monkeypatch):
    """gan-mnist's full weights are not in the package: load writes to the
    cache, which $GANZOO_HOME points at a file."""
    home = tmp_path / "afile.txt"
    home.write_text("x")
    monkeypatch.setenv(zoo.HOME_ENV, str(home))
    with pytest.raises(ArgumentError, match=r"set \$GANZOO_HOME to a"):
        ganzoo.load("gan-mnist", full=True)
    assert home.read_text() == "x"


# ----------------------------------------------------- export / evaluate
def test_overwrite_must_be_a_bool(gan, tmp_path):
    """overwrite="no" used to count as true and replace the version."""
    out = export.export_saved_model(gan, tmp_path / "s", version=1)
    before = os.path.getmtime(os.path.join(out, "saved_model.pb"))
    with pytest.raises(ArgumentError, match="overwrite must be True or"):
        export.export_saved_model(
            gan, tmp_path / "s", version=1, overwrite="no"
        )
    assert os.path.getmtime(os.path.join(out, "saved_model.pb")) == before


def test_export_into_a_version_folder_is_refused(gan, tmp_path):
    out = export.export_saved_model(gan, tmp_path / "s", version=1)
    with pytest.raises(ArgumentError, match="is a SavedModel version folder"):
        export.export_saved_model(gan, out)
    assert "1" not in os.listdir(out)  # no s/1/1
    with pytest.raises(FileNotFoundError, match="pass a version folder"):
        export.read_metadata(tmp_path / "s")


def test_a_preset_name_where_a_model_is_needed_says_load_it(tmp_path):
    with pytest.raises(NotAGeneratorError, match=r"ganzoo.load\('gan-ring8'"):
        export.export_saved_model("gan-ring8", tmp_path / "s")
    assert not (tmp_path / "s").exists()
    with pytest.raises(NotAGeneratorError, match=r"ganzoo.load\('gan-ring8'"):
        evaluation.evaluate_model("gan-ring8")


def test_evaluate_source_of_a_model_points_to_evaluate_model(gan):
    with pytest.raises(ArgumentError, match="use evaluate_model"):
        evaluation.evaluate_source(gan)


# --------------------------------------------------------------- datasets
@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"channels": 2}, "channels=2 is not valid; choose from 1, 3"),
        ({"image_size": 0}, "image_size must be a positive integer, got 0"),
        ({"image_size": "32"}, "image_size must be a positive integer"),
        ({"seed": "abc"}, "seed must be an integer in [0, 2**63), got 'abc'"),
        ({"seed": -1}, "seed must be an integer in [0, 2**63), got -1"),
        # Used to pass the check and fail in TensorFlow (OverflowError).
        ({"seed": 2**63}, "in [0, 2**63), got 9223372036854775808."),
        ({"value_range": 1}, "value_range must be (low, high)"),
    ],
)
def test_dataset_arguments_are_checked(kwargs, message, data_dir):
    """channels=2 and image_size=0 used to be ignored silently."""
    with pytest.raises(ArgumentError) as info:
        datasets.load("mnist", data_dir=data_dir, limit=100, **kwargs)
    assert message in str(info.value), info.value


def test_the_largest_int64_seed_orders_the_data():
    """The data's order is keyed by an int64 (`_stateless_order`): 2**63 - 1
    is the largest seed it takes (2**63 is refused above)."""
    ds = datasets.load("ring8", batch_size=4, seed=2**63 - 1, repeat=True)
    assert next(iter(ds)).shape == (4, 2)


def _picture_folder(root, n=3):
    root.mkdir()
    for i in range(n):
        Image.new("RGB", (8, 8), (40 * i, 0, 0)).save(root / f"{i}.png")
    return root


def test_a_path_object_names_a_folder(tmp_path):
    folder = _picture_folder(tmp_path / "pics")
    batch = next(
        iter(datasets.load(pathlib.Path(folder), image_size=8, batch_size=3))
    )
    assert batch.shape == (3, 8, 8, 3)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"limit": 0}, "limit must be a positive integer, got 0"),
        ({"take": -1}, "take must be a positive integer, got -1"),
    ],
)
def test_folder_limit_and_take_are_named(tmp_path, kwargs, message):
    """limit=0 used to mean the whole folder; take=-1 said "limit"."""
    folder = _picture_folder(tmp_path / "pics")
    with pytest.raises(ArgumentError, match=message):
        datasets.image_arrays(str(folder), image_size=8, **kwargs)


@pytest.mark.parametrize("what", ["limit", "take"])
def test_too_large_a_limit_names_the_pictures_that_decode(tmp_path, what):
    """It named the 4 image files, and then limit=4 failed on the 3 that
    decode."""
    folder = _picture_folder(tmp_path / "pics")
    (folder / "broken.png").write_bytes(b"not a png")
    with pytest.raises(ArgumentError) as info:
        datasets.image_arrays(str(folder), image_size=8, **{what: 10})
    assert str(info.value).endswith(
        f"the 3 pictures of {folder} that decode (of its 4 image files); "
        f"give {what} <= 3"
    ), info.value
    assert len(datasets.image_arrays(str(folder), image_size=8, limit=3)) == 3


# ---------------------------------------------------------------- metrics
def test_empty_samples_are_named():
    with pytest.raises(ArgumentError, match="x needs at least 2 rows, got 0"):
        metrics.frechet_distance(np.zeros((0, 3)), np.zeros((5, 3)))
    with pytest.raises(
        ArgumentError, match="samples needs at least 1 row, got"
    ):
        metrics.mode_coverage(np.zeros((0, 2)), np.zeros((2, 2)), 0.1)


def test_mode_coverage_names_the_bad_threshold():
    with pytest.raises(
        ArgumentError, match="threshold must be a finite number > 0"
    ):
        metrics.mode_coverage(np.zeros((3, 2)), np.zeros((2, 2)), 0.1, -1)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: metrics.evaluate_samples(
                np.zeros((3, 2)), metrics=[], dataset="ring8"
            ),
            "metrics is empty; give some of mode_coverage",
        ),
        (
            lambda: metrics.evaluate_samples(
                np.zeros((3, 28, 28, 1)), classifier="mnist-classifier"
            ),
            "classifier must be a keras.Model such as ganzoo.load(",
        ),
        (
            lambda: metrics.mnist_parzen(np.zeros((3, 784)), num_valid=20000),
            "num_valid must be an integer in [1, 10000]",  # was clamped
        ),
        (
            lambda: metrics.mnist_parzen(np.zeros((3, 784)), dataset="cifar10"),
            "dataset='cifar10' is not valid; choose from fashion_mnist, mnist",
        ),
    ],
    ids=["no-metrics", "classifier-name", "num-valid", "parzen-dataset"],
)
def test_metric_arguments_are_named(call, message):
    with pytest.raises(ArgumentError) as info:
        call()
    assert message in str(info.value), info.value


def test_parzen_reads_uint8_as_evaluate_samples_does(data_dir):
    x = (np.random.default_rng(0).random((20, 784)) * 255).astype("uint8")
    as_uint8 = metrics.mnist_parzen(x, data_dir=data_dir, num_valid=10)
    as_float = metrics.mnist_parzen(x / 255.0, data_dir=data_dir, num_valid=10)
    assert as_uint8["mean"] == pytest.approx(as_float["mean"])


def test_train_refuses_a_preset_folder_that_is_not_one_before_training(
    tmp_path,
):
    """A `preset/` without a model card (made by hand, a sync tool) used to
    be refused by save_preset only after the whole training, when the
    checkpoint was gone: the run was lost."""
    (tmp_path / "run" / "preset").mkdir(parents=True)
    with pytest.raises(ArgumentError, match="is not a preset folder"):
        ganzoo.training.train(helpers.tiny_train_config(), tmp_path / "run")
    assert os.listdir(tmp_path / "run") == ["preset"]


def test_a_path_object_may_name_a_preset(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no folder of that name here
    model = ganzoo.load(pathlib.Path("gan-ring8"))
    assert model.preset_metadata["name"] == "gan-ring8"


def test_a_pair_given_to_a_gan_is_named(gan):
    with pytest.raises(ArgumentError, match="latent must be a numeric array"):
        gan.generate((np.zeros((3, 2)), [0, 1, 2]))


def test_an_array_is_an_interval():
    model = helpers.tiny_toy_model()
    again = ganzoo.GAN(
        generator=model.generator,
        discriminator=model.discriminator,
        latent_dim=model.latent_dim,
        data_range=np.array([-1.0, 1.0]),
    )
    assert again.data_range == (-1.0, 1.0)


def test_draw_latent_takes_sample_seeds_and_keys(gan, deligan):
    # An integer seed means what it means to `sample` (it was a TensorFlow
    # error deep in stateless_normal); a key of two integers is a key.
    np.testing.assert_array_equal(
        gan.generate(gan.draw_latent(5, 3)), gan.sample(5, seed=3)
    )
    np.testing.assert_array_equal(
        deligan.generate(deligan.draw_latent(7, 2)), deligan.sample(7, seed=2)
    )
    np.testing.assert_array_equal(
        gan.draw_latent(4, np.array([1, 2])), gan.draw_latent(4, [1, 2])
    )
    for bad in (
        1.5,
        "a",
        [1, 2, 3],
        True,
        None,
        np.array([1.0, 2.0]),
        np.array([2**63, 1], np.uint64),  # would wrap to a negative key
        tf.constant([1, 2], tf.uint8),  # a TensorFlow error deep inside
    ):
        with pytest.raises(ArgumentError, match="integer or a key of two"):
            gan.draw_latent(4, bad)


# ------------------------------------------- networks that do not fit (review)
def _toy_pair(units=8):
    return (
        ganzoo.networks.toy_generator(latent_dim=2, units=units),
        ganzoo.networks.toy_discriminator(units=units),
    )


def test_a_generator_activation_must_match_data_range():
    """A sigmoid G with the default data_range (-1, 1) trained and sampled
    washed-out grey images; a tanh G with (0, 1) lost its negative half."""
    nets = ganzoo.networks
    with pytest.raises(
        ArgumentError,
        match=r"data_range must be \(0, 1\) for a generator that ends in sigmoid, got \(-1.0, 1.0\)",
    ):
        ganzoo.GAN(
            nets.mnist_mlp_generator(latent_dim=10, units=16),
            nets.mnist_maxout_discriminator(units=8),
            latent_dim=10,
        )
    with pytest.raises(
        ArgumentError,
        match=r"data_range must be \(-1, 1\) for a generator that ends in tanh",
    ):
        ganzoo.GAN(
            nets.deligan_mnist_generator(latent_dim=10, filters=4),
            nets.deligan_mnist_discriminator(filters=4, minibatch_kernels=0),
            latent_dim=10,
            data_range=(0, 1),
        )


def test_a_discriminator_gives_one_score_per_example():
    generator, _ = _toy_pair()
    inputs = keras.Input((2,))
    three = keras.Model(inputs, keras.layers.Dense(3)(inputs))
    with pytest.raises(
        ArgumentError,
        match=r"one score per example .*got output shape \(None, 3\)",
    ):
        ganzoo.GAN(generator, three, latent_dim=2, data_range=None)
    with pytest.raises(ArgumentError, match="the same network"):
        ganzoo.GAN(generator, generator, latent_dim=2, data_range=None)


def test_networks_without_an_input_shape_are_built_and_train():
    """They passed the constructor, then fit failed inside Keras' optimizer
    ("Unknown variable")."""
    model = ganzoo.GAN(
        keras.Sequential([keras.layers.Dense(2)]),
        keras.Sequential([keras.layers.Dense(1)]),
        latent_dim=2,
        data_range=None,
    )
    assert model.discriminator.built
    model.compile()
    ring = datasets.load("ring8", batch_size=16, limit=64)
    history = model.fit(ring, steps_per_epoch=2, verbose=0)
    assert np.isfinite(history.history["d_loss"][-1])


def test_integer_real_data_is_refused_in_fit_and_evaluate(data_dir):
    model = ganzoo.GAN(
        ganzoo.networks.mnist_mlp_generator(latent_dim=10, units=16),
        ganzoo.networks.mnist_maxout_discriminator(units=8),
        latent_dim=10,
        data_range=(0, 1),
    )
    model.compile()
    pixels = datasets.load_arrays("mnist", data_dir=data_dir)[0][:32]
    message = r"real data must be floats in data_range \(0, 1\), got uint8"
    with pytest.raises(ArgumentError, match=message):
        model.fit(pixels, batch_size=16, verbose=0)
    with pytest.raises(ArgumentError, match=message):
        model.evaluate(pixels, batch_size=16, verbose=0)


def test_real_data_of_another_shape_is_refused_before_any_step():
    """After a first fit, Keras retraces the step with relaxed shapes: data
    of another shape failed deep in the graph ("Matrix size-incompatible",
    "Depth of output must be a multiple of the number of groups")."""
    model = helpers.tiny_image_model()
    helpers.compile_adam(model)
    x = np.zeros((32, 28, 28, 1), "float32")
    model.fit(x, batch_size=16, verbose=0)
    wrong = {
        "(32, 32, 1)": np.zeros((32, 32, 32, 1), "float32"),
        "(28, 28, 3)": tf.data.Dataset.from_tensor_slices(
            (np.zeros((32, 28, 28, 3), "float32"), np.zeros(32))
        ).batch(16),
        "(784,)": np.zeros((32, 784), "float32"),
        "(28, 28) (add the channel axis: x[..., None])": x[..., 0],
    }
    for got, data in wrong.items():
        message = re.escape(
            "real examples must have the discriminator's input shape "
            f"(28, 28, 1), got {got}."
        )
        with pytest.raises(ArgumentError, match=f"^{message}$"):
            model.fit(data, verbose=0)
        with pytest.raises(ArgumentError, match=f"^{message}$"):
            model.evaluate(data, verbose=0)
    single = tf.data.Dataset.from_tensor_slices(x)
    with pytest.raises(ArgumentError, match=r"must come in batches \(data"):
        model.fit(single, verbose=0)
    # Refused before the first epoch, not when Keras first validates.
    before = helpers.all_weights(model)
    with pytest.raises(ArgumentError, match="^validation_data's examples"):
        model.fit(x, batch_size=16, validation_data=(x[:, :27],), verbose=0)
    assert helpers.max_abs_diff(before, helpers.all_weights(model)) == 0
    # What must still pass: batched datasets of (images, labels) and of
    # dicts, validation data, a 2-D toy.
    for data in (
        tf.data.Dataset.from_tensor_slices((x, np.zeros(32))).batch(16),
        tf.data.Dataset.from_tensor_slices({"images": x}).batch(16),
    ):
        model.fit(data, validation_data=data, verbose=0)
    toy = helpers.tiny_toy_model()
    helpers.compile_adam(toy)
    points = np.zeros((32, 2), "float32")
    toy.fit(points, batch_size=16, validation_data=(points,), verbose=0)


def test_what_the_network_checks_must_still_accept():
    """Legitimate pairs the constructor's checks must let through: 2-D
    points from a sigmoid G (data_range means nothing for them), a D whose
    one score has shape (batch, 1, 1, 1), a layer shared so that `layers`
    ends in a tanh that is not the output, a tanh G rescaled to (0, 1),
    and a saved model whose pair predates the activation check."""
    points = keras.Input((2,))
    sigmoid_points = keras.Model(
        points, keras.layers.Dense(2, activation="sigmoid")(points)
    )
    ganzoo.GAN(sigmoid_points, _toy_pair()[1], latent_dim=2)

    image = keras.Input((28, 28, 1))
    conv_score = keras.Model(image, keras.layers.Conv2D(1, 28)(image))
    generator = ganzoo.networks.deligan_mnist_generator(latent_dim=4, filters=2)
    ganzoo.GAN(generator, conv_score, latent_dim=4)

    z = keras.Input((3,))
    shared, tanh = keras.layers.Dense(3), keras.layers.Dense(3, "tanh")
    shared_last = keras.Model(z, shared(tanh(shared(z))))
    assert shared_last.layers[-1] is tanh  # what a look at layers sees
    ganzoo.GAN(shared_last, _linear_score(3), latent_dim=3)

    rescaled = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(784, activation="tanh"),
            keras.layers.Rescaling(0.5, offset=0.5),
            keras.layers.Reshape((28, 28, 1)),
        ]
    )
    ganzoo.GAN(rescaled, conv_score, latent_dim=4, data_range=(0, 1))

    sigmoid = ganzoo.networks.mnist_mlp_generator(latent_dim=4, units=8)
    saved = ganzoo.GAN(sigmoid, conv_score, latent_dim=4, data_range=(0, 1))
    config = keras.saving.serialize_keras_object(saved)
    config["config"]["data_range"] = [-1.0, 1.0]  # as an old file might hold
    with pytest.raises(ArgumentError, match="ends in sigmoid"):
        ganzoo.GAN(sigmoid, conv_score, latent_dim=4)
    loaded = keras.saving.deserialize_keras_object(config)
    assert loaded.data_range == (-1.0, 1.0)


def _linear_score(dim):
    inputs = keras.Input((dim,))
    return keras.Model(inputs, keras.layers.Dense(1)(inputs))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"a": float("nan")}, "a must be a finite number, got nan"),
        ({"c": float("inf")}, "c must be a finite number, got inf"),
        ({"b": "1"}, "b must be a finite number, got '1'"),
    ],
)
def test_lsgan_targets_are_finite_numbers(kwargs, message):
    with pytest.raises(ArgumentError, match=message):
        ganzoo.LSGAN(*_toy_pair(), latent_dim=2, data_range=None, **kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"sigma_init": float("inf")}, r"sigma_init must be in \[0.001, inf\)"),
        (
            {"sigma_reg": float("nan")},
            r"sigma_reg must be in \[0, inf\), got nan",
        ),
        ({"sigma_reg": "x"}, r"sigma_reg must be in \[0, inf\), got 'x'"),
    ],
)
def test_deligan_sigmas_are_finite_numbers(kwargs, message):
    with pytest.raises(ArgumentError, match=message):
        ganzoo.DeLiGAN(*_toy_pair(), latent_dim=2, data_range=None, **kwargs)


def test_every_constructor_argument_is_an_attribute():
    deligan = ganzoo.DeLiGAN(
        *_toy_pair(),
        latent_dim=2,
        data_range=None,
        sigma_init=0.3,
        component_sampling="cycle",
    )
    assert (deligan.sigma_init, deligan.component_sampling) == (0.3, "cycle")
    lsgan = ganzoo.LSGAN(
        *_toy_pair(), latent_dim=2, data_range=None, coding="real_label"
    )
    assert lsgan.coding == "real_label"
    other = ganzoo.LSGAN(*_toy_pair(), latent_dim=2, data_range=None, c=0.5)
    assert other.coding is None


def test_augment_takes_arrays_and_names_a_bad_seed():
    from ganzoo import augment

    images = np.zeros((2, 8, 8, 3), "float32")
    out = augment.augment(images, "translation", seed=[0, 1])
    assert out.shape == (2, 8, 8, 3)
    with pytest.raises(
        ArgumentError,
        match=r"pair of integers such as \[0, 1\], got int32 of shape \(\)",
    ):
        augment.augment(images, "translation", seed=0)
    with pytest.raises(
        ArgumentError, match="images must be floats in value_range, got uint8"
    ):
        augment.augment(images.astype("uint8"), "translation", seed=[0, 1])


@pytest.mark.parametrize(
    "name, kwargs, message",
    [
        ("mnist", {"shuffle": "no"}, "shuffle must be True or False"),
        ("mnist", {"with_labels": "no"}, "with_labels must be True or False"),
        ("mnist", {"drop_remainder": None}, "drop_remainder must be True or"),
        ("mnist", {"resize": "zoom"}, "resize='zoom' is not valid"),
        ("mnist", {"resize": "pad"}, "mnist does not read it"),
        ("ring8", {"image_size": 28}, "mean nothing for ring8"),
    ],
)
def test_dataset_flags_and_picture_arguments_are_checked(
    name, kwargs, message, data_dir
):
    """Each was accepted and ignored ("no" counted as true)."""
    with pytest.raises(ArgumentError, match=message):
        datasets.load(name, data_dir=data_dir, limit=100, **kwargs)


@pytest.mark.parametrize(
    "name, how",
    [("m.keras", "keras.saving.load_model"), ("m.weights.h5", "load_weights")],
)
def test_load_of_a_keras_file_says_how_to_load_it(tmp_path, name, how):
    (tmp_path / name).write_bytes(b"x")
    with pytest.raises(ArgumentError, match=f"is a Keras file.*{how}"):
        ganzoo.load(tmp_path / name)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: datasets.ring8(5, std=-1), "std must be a finite number > 0"),
        (lambda: datasets.ring8(5, radius=0), "radius must be a finite number"),
        (lambda: datasets.grid25(5, std=0), "std must be a finite number > 0"),
        (
            lambda: ganzoo.schedules.FlatThenLinear(-1e-3, 1e-3, epochs=2),
            "d_lr must be a finite number > 0, got -0.001",
        ),
        (
            lambda: ganzoo.networks.toy_generator(layers_count=-1),
            "layers_count must be an integer >= 0, got -1",
        ),
    ],
)
def test_toy_data_schedule_and_network_sizes_are_checked(call, message):
    with pytest.raises(ArgumentError, match=message):
        call()


def test_a_toy_network_without_hidden_layers_is_linear():
    generator = ganzoo.networks.toy_generator(layers_count=0)
    assert len(generator.layers) == 2  # the input and one Dense


def test_saving_to_legacy_hdf5_is_refused(gan, tmp_path):
    """It wrote m.h5, which keras.models.load_model could not read back."""
    with pytest.raises(ArgumentError, match="legacy HDF5 format loses"):
        gan.save(tmp_path / "m.h5")
    assert list(tmp_path.iterdir()) == []
    gan.save(tmp_path / "m.keras")
    assert (tmp_path / "m.keras").is_file()


def test_a_float_seed_pair_is_not_an_augment_seed():
    from ganzoo import augment

    images = np.zeros((2, 8, 8, 1), "float32")
    with pytest.raises(ArgumentError, match="got float32 of shape"):
        augment.augment(images, "translation", seed=[0.5, 1.0])


def test_a_huge_integer_is_not_a_finite_number():
    from ganzoo._checks import check_finite

    with pytest.raises(ArgumentError, match="x must be a finite number"):
        check_finite(x=10**400)
