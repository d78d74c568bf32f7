"""`TrainConfig.validate()` checks every field's type (from its annotation)
and DeLiGAN's sigma ranges, so a wrong value is one `ArgumentError` naming
the field before any training, not an error deep in Keras after the run
folder exists."""

import dataclasses
import json

import numpy as np
import pytest

from ganzoo import training, zoo
from ganzoo._checks import ArgumentError
from ganzoo.layers import MixtureLatent
from tests import helpers

DELIGAN = dict(model="deligan")
LINEAR_AFTER = dict(lr_decay="linear_after")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(seed=None), "seed must be an integer, got None."),
        (dict(seed="0"), "seed must be an integer, got '0'."),
        (dict(seed=1.5), "seed must be an integer, got 1.5."),
        (dict(seed=True), "seed must be an integer, got True."),
        (dict(seed=-1), "seed must be in [0, 4294967296), got -1."),
        (dict(seed=2**32), "seed must be in [0, 4294967296), got 4294967296."),
        (
            dict(DELIGAN, sigma_reg="0.3"),
            "sigma_reg must be a number, got '0.3'.",
        ),
        (dict(DELIGAN, sigma_reg=-1), "sigma_reg must be in [0, inf), got -1."),
        (
            dict(DELIGAN, sigma_reg=float("nan")),
            "sigma_reg must be in [0, inf), got nan.",
        ),
        (
            dict(DELIGAN, sigma_init=1e-4),
            "sigma_init must be in [0.001, inf), got 0.0001.",
        ),
        (
            dict(LINEAR_AFTER, epochs="10"),
            "epochs must be an integer, got '10'.",
        ),
        (
            dict(LINEAR_AFTER, lr_flat_epochs="2"),
            "lr_flat_epochs must be an integer, got '2'.",
        ),
        (
            dict(LINEAR_AFTER, lr_flat_epochs=2.5),
            "lr_flat_epochs must be an integer, got 2.5.",
        ),
        (
            dict(lr_decay="exponential", lr_decay_factor="1.1"),
            "lr_decay_factor must be a number, got '1.1'.",
        ),
        (
            dict(jit_compile="yes"),
            "jit_compile must be a bool (True or False) or None, got 'yes'.",
        ),
        (
            dict(data_dir=123),
            "data_dir must be a string or None, got 123.",
        ),
        (
            dict(update="simultaneous", d_steps="1"),
            "d_steps must be an integer, got '1'.",
        ),
        (
            dict(image_size=28.0),
            "image_size must be an integer or None, got 28.0.",
        ),
        (dict(d_lr=True), "d_lr must be a number, got True."),
        (dict(width="1"), "width must be a number, got '1'."),
        (dict(augment=None), "augment must be a string, got None."),
        # Fields with choices keep their own message, naming the choices.
        (dict(model=3), "model=3 is not valid; choose from deligan, gan, "),
    ],
)
def test_a_wrong_value_is_one_line_naming_the_field(kwargs, message):
    with pytest.raises(ArgumentError) as error:
        training.TrainConfig(**kwargs).validate()
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_train_rejects_a_bad_sigma_before_creating_the_run_folder(tmp_path):
    run = tmp_path / "run"
    cfg = helpers.tiny_train_config(model="deligan", sigma_init=1e-4)
    with pytest.raises(ArgumentError, match=r"^sigma_init must be in"):
        training.train(cfg, run, verbose=0)
    assert not run.exists()


def test_the_smallest_valid_sigma_init_is_the_layers_and_builds():
    smallest = MixtureLatent().min_sigma
    cfg = helpers.tiny_train_config(model="deligan", sigma_init=smallest)
    model = training.build_model(cfg.validate())
    assert model.mixture.sigma_init == smallest
    for below in (np.nextafter(smallest, 0), 0.0, -0.2):
        with pytest.raises(ArgumentError, match="^sigma_init must be in"):
            dataclasses.replace(cfg, sigma_init=below).validate()
    dataclasses.replace(cfg, sigma_reg=0).validate()  # no regulariser


@pytest.mark.parametrize(
    "kwargs",
    [
        # JSON and hand-written configs: ints where floats are annotated.
        dict(d_lr=1, g_lr=1, width=2, beta_1=0, g_ema=0, momentum=0),
        dict(DELIGAN, sigma_init=1, sigma_reg=0),
        dict(seed=2**32 - 1, jit_compile=False, data_dir="data"),
        dict(LINEAR_AFTER, epochs=3, lr_flat_epochs=2),
    ],
)
def test_the_types_the_annotations_allow_pass(kwargs):
    cfg = training.TrainConfig(**kwargs)
    assert cfg.validate() is cfg


def test_numpy_scalars_pass_and_become_python_values():
    cfg = training.TrainConfig(
        model=np.str_("deligan"),
        seed=np.int64(3),
        batch_size=np.int32(8),
        d_lr=np.float32(0.5),
        sigma_reg=np.float64(0.25),
        jit_compile=np.bool_(False),
    ).validate()
    values = dataclasses.asdict(cfg)
    assert json.loads(json.dumps(values)) == values
    assert (type(cfg.seed), type(cfg.batch_size)) == (int, int)
    assert (type(cfg.d_lr), type(cfg.jit_compile)) == (float, bool)
    assert type(cfg.model) is str


def test_a_numpy_seed_trains(tmp_path):
    """Keras' seeds take Python ints only: validate makes it one."""
    cfg = helpers.tiny_train_config(seed=np.int64(1))
    card = training.train(cfg, tmp_path / "run", verbose=0)
    assert card["train_config"]["seed"] == 1


@pytest.mark.parametrize(
    "name",
    sorted(
        p.parent.name
        for p in zoo.PACKAGE_PRESETS.glob("*/metadata.json")
        if "train_config" in json.loads(p.read_text())
    ),
)
def test_each_shipped_cards_train_config_validates(name):
    card = json.loads(
        (zoo.PACKAGE_PRESETS / name / "metadata.json").read_text()
    )
    training.TrainConfig(**card["train_config"]).validate()


@pytest.mark.parametrize(
    "network",
    ["deligan_mnist", "deligan_mnist_dense", "deligan_mnist_sn", "dcgan_mnist"],
)
def test_conv_pairs_train_without_the_remapper_error_line(
    network, tmp_path, capfd, data_dir
):
    """TF 2.21's grappler remapper fails on these pairs' training step and
    logs "E ... remapper failed" (C++, on fd 2): a user saw an error line
    at the start of every run. `GAN.fit` turns the remapper off for them
    (`networks.remapper_fails`) and restores it after."""
    import tensorflow as tf

    from ganzoo import networks

    assert networks.NETWORKS[network].remapper_fails
    cfg = helpers.tiny_train_config(
        network=network,
        dataset="mnist",
        data_dir=data_dir,
        limit=100,
        batch_size=10,
        width=0.25,
    )
    training.train(cfg, tmp_path / "run", verbose=0)
    assert "remapper failed" not in capfd.readouterr().err
    # And for a user calling fit: GAN.fit turns it off itself.
    model = training.build_model(cfg)
    training.compile_model(model, cfg)
    model.fit(training.make_dataset(cfg), steps_per_epoch=2, verbose=0)
    assert "remapper failed" not in capfd.readouterr().err
    assert (
        "remapping" not in tf.config.optimizer.get_experimental_options()
        or (tf.config.optimizer.get_experimental_options()["remapping"])
    )


def test_paths_are_accepted_as_strings(tmp_path):
    cfg = helpers.tiny_train_config(data_dir=tmp_path).validate()
    assert cfg.data_dir == str(tmp_path) and isinstance(cfg.data_dir, str)


def test_train_says_what_it_trains_unless_silent(tmp_path, capsys):
    cfg = helpers.tiny_train_config(epochs=2)
    training.train(cfg, tmp_path / "quiet", verbose=0)
    assert capsys.readouterr().out == ""
    training.train(cfg, tmp_path / "run", verbose=2)
    out = capsys.readouterr().out
    assert out.startswith(
        "Training GAN (toy nets) on ring8: 100000 points drawn with seed 0; "
        "2 epochs of 2 steps of 16 (4 steps).\n"
        f"Run folder {tmp_path / 'run'}: a sample grid per epoch"
    ), out
    assert "Interrupted? Run the same command again" in out


@pytest.mark.parametrize(
    "mode, network, warned",
    [
        ("RGB", "mnist_mlp", True),  # the default network: grey
        ("L", "mnist_mlp", False),  # grey pictures
        ("P", "mnist_mlp", False),  # a grey palette
        ("PC", "mnist_mlp", True),  # a palette with a colour
        ("RGB", "dcgan", False),  # RGB by default
    ],
)
def test_colour_pictures_trained_in_grey_are_named(
    tmp_path, mode, network, warned
):
    """A colour folder with the default network used to be trained in grey
    with nothing said but the 28x28x1 of the first line."""
    from PIL import Image

    from ganzoo.callbacks import ProgressRecorder

    folder = tmp_path / "pictures"
    folder.mkdir()
    if mode.startswith("P"):  # grey levels, or one red entry among them
        picture = Image.new("L", (8, 8), 77).convert("P")
        if mode == "PC":
            picture.putpalette([200, 10, 10] + picture.getpalette()[3:])
    else:
        picture = Image.new(mode, (8, 8))
    picture.save(folder / "a.png")
    cfg = helpers.tiny_train_config(network=network, dataset=str(folder))
    lines = training._start_lines(cfg, tmp_path, 2, ProgressRecorder(None))
    assert ("The pictures are in colour" in lines) == warned, lines
    assert ("--network=dcgan: RGB" in lines) == warned


def test_a_resumed_run_says_where_it_picks_up(tmp_path):
    from ganzoo.callbacks import ProgressRecorder

    progress = ProgressRecorder(None)
    progress.state.update(epochs_done=3, wall_time_s=754.0)
    cfg = helpers.tiny_train_config(epochs=5)
    lines = training._start_lines(cfg, tmp_path, 2, progress)
    assert lines.splitlines()[-1] == (
        "Resuming after epoch 3 of 5 (12.6 min trained so far)."
    )
