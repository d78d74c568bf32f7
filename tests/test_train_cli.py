"""`ganzoo train`: bad flags fail at once, kill -9 resumes, outputs."""

import csv
import dataclasses
import errno
import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from ganzoo import cli, presets_io, training
from ganzoo._checks import ArgumentError
from tests import helpers
from tests.conftest import REPO
from tools.paper_gan import RECIPE

TOY = [
    "--model=deligan",
    "--network=toy",
    "--dataset=ring8",
    "--num_components=4",
    "--width=0.1",
    "--batch_size=32",
]


def _ganzoo(args, data_dir, **kwargs):
    env = dict(os.environ, GANZOO_DATA_DIR=str(data_dir), PYTHONPATH=str(REPO))
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "ganzoo.cli", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        **kwargs,
    )


@pytest.fixture
def flags():
    cli.define_flags()
    yield cli.FLAGS
    cli.FLAGS.unparse_flags()


def _usage_error(argv, capsys):
    """Runs `cli.main` in-process; the one-line error it printed (exit 2)."""
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("ganzoo: error: ") and err.count("\n") == 1, err
    return err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--dataset=mnist", "--limit=70000"], "limit"),
        (["--dataset=mnist", "--limit=505"], "limit"),
        (["--epochs=-1"], "epochs"),
        (["--steps_per_epoch=0"], "steps_per_epoch"),
        (["--dataset=ring8"], "network='mnist_mlp' is for images"),
        (["--dataset=no/such/folder"], "an existing folder of pictures"),
        (["--network=deligan_mnist", "--image_size=64"], "network=dcgan"),
        (["--network=dcgan", "--image_size=50"], "16, 28, 32, 48, 64"),
        (["--d_lr=0"], "d_lr"),
        (["--g_ema=1.0"], "g_ema must be in"),
        (["--augment=flip"], "Unknown augmentation 'flip'"),
        (
            ["--update=adaptive", "--lr_decay=linear", "--steps_per_epoch=2"],
            "use lr_decay=linear_after",
        ),
        (["--update=adaptive", "--d_steps=2"], "d_steps must be 1"),
        (["--updates_per_batch=3"], "updates_per_batch is for update=adapt"),
        (
            ["--update=adaptive", "--updates_per_batch=0"],
            "updates_per_batch must be a positive integer",
        ),
        (
            ["--lr_decay=linear_after", "--lr_flat_epochs=10"],
            "lr_flat_epochs must be in [0, epochs=10)",
        ),
        (["--lr_flat_epochs=3"], "lr_flat_epochs is for lr_decay=linear_af"),
        (
            ["--component_sampling=cycle"],
            "component_sampling is for model=deligan; model=gan does not",
        ),
        (
            ["--lr_decay=exponential", "--lr_decay_factor=0.9"],
            "lr_decay_factor must be a number > 1, got 0.9.",
        ),
        (
            ["--lr_decay=exponential", "--d_lr=0.1", "--min_lr=0.001"],
            "min_lr must be in [0, 0.0002), got 0.001.",
        ),
        (["--min_lr=1e-5"], "min_lr is for lr_decay=exponential"),
        (
            ["--lr_decay_factor=1.1"],
            "leave lr_decay_factor at 1.000004",
        ),
        (
            ["--update=adaptive", "--lr_decay=exponential"],
            "use update=simultaneous or alternating",
        ),
        (["--final_momentum=0.7"], "final_momentum is for optimizer=sgd"),
        (
            ["--optimizer=sgd", "--final_momentum=1.2"],
            "final_momentum must be in [0, 1), got 1.2.",
        ),
        (
            [
                "--optimizer=sgd",
                "--final_momentum=0.7",
                "--momentum_start=10",
                "--momentum_saturate=5",
            ],
            "momentum_saturate must be >= momentum_start=10, got 5.",
        ),
        (
            ["--optimizer=sgd", "--final_momentum=0.7", "--momentum_start=0"],
            "momentum_start must be a positive integer, got 0.",
        ),
        (["--momentum_saturate=100"], "momentum_saturate is for final_moment"),
        ([], "output_dir"),
    ],
)
def test_bad_flags_fail_before_training(
    flags, data_dir, tmp_path, args, message, capsys
):
    out = [f"--output_dir={tmp_path / 'run'}"] if args else []
    argv = flags(["ganzoo", "train", f"--data_dir={data_dir}", *out, *args])
    assert message in _usage_error(argv, capsys)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["train", "--model=wgan", "--output_dir=x"],
            "one of <gan|lsgan|deligan>",
        ),
        (["train", "--batch_size=many", "--output_dir=x"], "--batch_size"),
        (
            ["train", "--lr_decay=exp", "--output_dir=x"],
            "one of <none|linear|linear_after|exponential>",
        ),
        (["fly"], "unknown command 'fly'; choose from list, sample"),
        (["sample", "deligan-mnist", "--num", "-3"], "--num=-3"),
        (
            ["sample", "deligan-mnist", "--out=/no/such/dir/x.png"],
            "/no/such/dir does not exist",
        ),
        (["sample", "nope"], "Unknown preset 'nope'. Valid names"),
        (["evaluate", "no/such/folder"], "no/such/folder is not a folder"),
        (["evaluate", "gan-ring8", "--recalibrate_bn=-1"], "non-negative"),
        (
            ["train", "--component_sampling=rows", "--output_dir=x"],
            "one of <uniform|cycle>",
        ),
        (
            [
                "train",
                "--dataset=tfds:no_such_data",
                "--network=dcgan",
                "--output_dir=x",
            ],
            "not a tensorflow_datasets dataset",
        ),
        (
            [
                "train",
                "--dataset=no/such/pictures",
                "--network=dcgan",
                "--output_dir=x",
            ],
            "an existing folder of pictures, or tfds:NAME",
        ),
        (["sample", "gan-ring8", "--out=tests"], "--out=tests is a folder"),
        (["train", "--output_dir=README.md"], "README.md is a file"),
        (
            ["train", "--num_components=5", "--output_dir=x"],
            "num_components is for model=deligan; model=gan does not read it",
        ),
    ],
)
def test_user_errors_print_one_line_and_exit_2(data_dir, args, message):
    """As a user runs it: a subprocess, TensorFlow's log not silenced by
    the environment. stdout and stderr hold just the error line."""
    proc = _ganzoo(args, data_dir)
    output = proc.communicate(timeout=120)[0].decode()
    assert proc.returncode == 2, output
    assert output.startswith("ganzoo: error: ") and message in output, output
    assert output.count("\n") == 1 and "Traceback" not in output, output


@pytest.mark.slow
def test_ctrl_c_prints_one_line_and_exits_130(data_dir, tmp_path):
    run = tmp_path / "run"
    args = ["train", *TOY, "--epochs=1000", "--steps_per_epoch=150"]
    proc = _ganzoo(
        [*args, f"--output_dir={run}", "--verbose=0"],
        data_dir,
        # As in a terminal: a shell's background job (CI) ignores SIGINT,
        # and its children inherit that.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.time() + 300
    while time.time() < deadline and not _finished_an_epoch(run):
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    try:
        output = proc.communicate(timeout=120)[0].decode()
    except subprocess.TimeoutExpired:
        # Seen once (session 18, CI with a training sharing the cores): the
        # run went on training. Kill it rather than leave it running.
        os.killpg(proc.pid, signal.SIGKILL)
        output = proc.communicate()[0].decode()
        progress = run / "progress.json"
        state = progress.read_text() if progress.exists() else "no progress"
        pytest.fail(f"SIGINT did not stop the run: {state}\n{output}")
    assert proc.returncode == cli.EXIT_INTERRUPTED, output
    assert output.endswith(
        "ganzoo: interrupted: run the same command again to resume from "
        "the last finished epoch.\n"
    ), output
    assert "Traceback" not in output


def _finished_an_epoch(run):
    log = run / "log.csv"
    return log.exists() and len(log.read_text().splitlines()) >= 2


def test_an_unfinished_run_resumes_only_under_its_own_flags(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    started = json.dumps(dataclasses.asdict(helpers.tiny_train_config()))
    (run / "train_config.json").write_text(started)
    with pytest.raises(
        ArgumentError,
        match=r"unfinished run with other settings \(model='lsgan', not "
        r"'gan'; width=0.2, not 0.1\)",
    ):
        training.train(
            helpers.tiny_train_config(model="lsgan", width=0.2), run, verbose=0
        )
    assert (run / "train_config.json").read_text() == started
    assert sorted(p.name for p in run.iterdir()) == ["train_config.json"]
    # The hardware may change (jit_compile here; strategy, data_dir too).
    card = training.train(
        helpers.tiny_train_config(jit_compile=False), run, verbose=0
    )
    assert card["steps"] == 2


def test_a_damaged_run_config_is_named(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / presets_io.RUN_CONFIG_FILE).write_text("[]")
    with pytest.raises(ArgumentError, match="is damaged .not a JSON dict"):
        training.train(helpers.tiny_train_config(), run, verbose=0)


def test_a_folder_run_resumes_only_on_the_same_pictures(tmp_path):
    folder = tmp_path / "pictures"
    folder.mkdir()
    for i in range(6):
        Image.new("L", (8, 8), 40 * i).save(folder / f"{i}.png")
    cfg = helpers.tiny_train_config(
        network="dcgan",
        dataset=str(folder),
        image_size=16,
        channels=1,
        batch_size=4,
    )
    run = tmp_path / "run"
    run.mkdir()
    (run / presets_io.RUN_CONFIG_FILE).write_text(
        json.dumps(dataclasses.asdict(cfg))
    )
    manifest = run / training.TRAIN_IMAGES_FILE
    pictures = training.training_files(cfg)
    manifest.write_text(json.dumps(pictures[:-1]))  # one picture added since
    with pytest.raises(ArgumentError, match="5 files then, 6 now"):
        training.train(cfg, run, verbose=0)
    # The same pictures in a moved folder: the run resumes.
    manifest.write_text(json.dumps(pictures))
    moved = folder.rename(tmp_path / "moved")
    card = training.train(
        dataclasses.replace(cfg, dataset=str(moved)), run, verbose=0
    )
    assert card["steps"] == 2


@pytest.mark.parametrize("inside", ["run", "runs/a", "."])
def test_a_run_folder_inside_the_pictures_folder_is_refused(tmp_path, inside):
    """`--output_dir` inside `--dataset`'s folder used to be accepted: the
    run wrote into the user's folder, and the next run on that folder
    trained on the sample grids too."""
    folder = tmp_path / "pictures"
    folder.mkdir()
    for i in range(4):
        Image.new("RGB", (8, 8), (60 * i, 0, 0)).save(folder / f"{i}.png")
    before = sorted(os.listdir(folder))
    cfg = helpers.tiny_train_config(
        network="dcgan", dataset=str(folder), image_size=16, batch_size=4
    )
    with pytest.raises(ArgumentError, match="is inside the pictures folder"):
        training.train(cfg, folder / inside, verbose=0)
    assert sorted(os.listdir(folder)) == before


def test_a_wrong_init_from_leaves_no_run_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="no/such/preset"):
        training.train(
            helpers.tiny_train_config(
                init_from=str(tmp_path / "no/such/preset")
            ),
            tmp_path / "run",
            verbose=0,
        )
    # A preset of another architecture is found only once the model is
    # built: still no folder, nested ones included.
    with pytest.raises(ValueError, match="different model"):
        training.train(
            helpers.tiny_train_config(init_from="gan-ring8"),
            tmp_path / "run" / "deep",
            verbose=0,
        )
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"sigma_init": 0.5}, "sigma_init is for model=deligan"),
        ({"coding": "real_label"}, "coding is for model=lsgan"),
        (
            {"model": "lsgan", "generator_loss": "minimax"},
            "generator_loss is for model=gan|deligan; model=lsgan",
        ),
        ({"momentum": 0.5}, "momentum is for optimizer=sgd"),
        ({"optimizer": "sgd", "beta_1": 0.9}, "beta_1 is for optimizer=adam"),
        ({"resize": "pad"}, "resize='pad' squares pictures of a folder"),
    ],
)
def test_flags_the_model_would_ignore_are_refused(kwargs, message):
    with pytest.raises(ArgumentError, match=message.replace("|", r"\|")):
        helpers.tiny_train_config(**kwargs).validate()


@pytest.mark.parametrize(
    "error, one_line",
    [
        (OSError(errno.ENOSPC, "No space left on device", "grid.png"), True),
        (OSError(errno.EROFS, "Read-only file system", "grid.png"), True),
        (OSError(errno.EIO, "Input/output error", "grid.png"), False),
    ],
    ids=["disk-full", "read-only", "io-error-is-a-bug"],
)
def test_a_full_or_read_only_disk_is_one_line(
    error, one_line, flags, monkeypatch, capsys
):
    """The user's disk, not a bug: one line naming the file; any other
    OSError keeps its traceback."""

    def fails(argv):
        raise error

    monkeypatch.setattr(cli, "_cmd_list", fails)
    argv = flags(["ganzoo", "list"])
    if not one_line:
        with pytest.raises(OSError):
            cli.main(argv)
        return
    err = _usage_error(argv, capsys)
    assert error.strerror in err and "grid.png" in err, err


def test_tf_config_that_is_not_json_is_a_user_error(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", '{"cluster"')
    with pytest.raises(ArgumentError, match="TF_CONFIG is not valid JSON"):
        training.get_strategy("auto")


def _epochs_logged(run):
    with open(run / "log.csv") as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


@pytest.mark.slow
def test_kill_9_then_same_command_resumes(data_dir, tmp_path):
    run = tmp_path / "run"
    args = [
        "train",
        *TOY,
        "--epochs=6",
        "--steps_per_epoch=150",
        f"--output_dir={run}",
        "--verbose=0",
    ]
    proc = _ganzoo(args, data_dir)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if (run / "log.csv").exists() and len(_epochs_logged(run)) >= 2:
            break
        time.sleep(0.2)
    assert proc.poll() is None, proc.communicate()[0].decode()
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    first = _epochs_logged(run)
    assert 2 <= len(first) < 6 and not (run / "preset").exists()

    # --verbose is not part of the run: it may change on resuming.
    proc = _ganzoo([*args[:-1], "--verbose=2"], data_dir)
    output = proc.communicate(timeout=180)[0].decode()
    assert proc.returncode == 0, output
    # It says where it picks up, and what it did.
    assert "Training DeLiGAN (toy nets) on ring8" in output, output
    assert re.search(r"Resuming after epoch [1-5] of 6 \(", output), output
    assert "Trained 900 steps in " in output, output
    assert f"Preset written to {run / 'preset'}; e.g. ganzoo sample" in output
    epochs = _epochs_logged(run)
    second = epochs[len(first) :]
    # Resumed (did not start over) and lost at most one epoch.
    assert second[0] >= len(first) - 1 and second[-1] == 5
    assert sorted(set(epochs)) == list(range(6))
    card = json.loads((run / "preset" / presets_io.METADATA_FILE).read_text())
    assert card["steps"] == 6 * 150
    assert max(p.name for p in (run / "samples").iterdir()) == "epoch_006.png"
    assert list((run / "tensorboard" / "train").iterdir())
    # Running the finished command again refuses to overwrite the preset.
    proc = _ganzoo(args, data_dir)
    output = proc.communicate(timeout=120)[0].decode()
    assert proc.returncode != 0 and "has finished" in output


def test_init_from_copies_weights_and_checks_architecture(tmp_path):
    cfg = training.TrainConfig(
        model="gan", network="toy", dataset="ring8", width=0.1, seed=1
    )
    source = training.build_model(cfg)
    presets_io.save_preset(source, tmp_path / "p")
    target = training.build_model(dataclasses.replace(cfg, seed=2))
    start = training._load_init_from(str(tmp_path / "p"))
    training._init_from(target, start, str(tmp_path / "p"))
    for a, b in zip(source.get_weights(), target.get_weights()):
        np.testing.assert_array_equal(a, b)
    wider = training.build_model(dataclasses.replace(cfg, width=0.2))
    with pytest.raises(ValueError, match="different model"):
        training._init_from(wider, start, str(tmp_path / "p"))


def _run_cli(flags, *argv):
    cli.main(flags(["ganzoo", *argv]))


def test_sample_list_evaluate_export_commands(flags, tmp_path, capsys):
    png, npy = tmp_path / "grid.png", tmp_path / "points.npy"
    _run_cli(flags, "sample", "gan-ring8", "--num=16", f"--out={png}")
    assert Image.open(png).size == (256, 256)
    flags.unparse_flags()
    _run_cli(flags, "sample", "gan-ring8", "--num=100", f"--out={npy}")
    assert np.load(npy).shape == (100, 2)
    flags.unparse_flags()
    _run_cli(flags, "list")
    assert "gan-ring8" in capsys.readouterr().out
    flags.unparse_flags()
    report = tmp_path / "eval.json"
    _run_cli(
        flags, "evaluate", str(npy), "--dataset=ring8", f"--json_out={report}"
    )
    result = json.loads(report.read_text())
    assert result["metrics"]["mode_coverage"]["num_modes"] == 8
    assert "mode_coverage" in capsys.readouterr().out
    flags.unparse_flags()
    _run_cli(flags, "export", "gan-ring8", str(tmp_path / "serving"))
    assert (tmp_path / "serving" / "1" / "saved_model.pb").exists()


def test_evaluate_compares_several_sources(
    flags, tmp_path, monkeypatch, capsys
):
    # A run's snapshots, as README says to choose among them.
    run = tmp_path / "mine"
    cfg = helpers.tiny_train_config(epochs=3, snapshot_every=1)
    training.train(cfg, run, verbose=0)
    monkeypatch.chdir(tmp_path)
    snaps = [run / "snapshots" / f"epoch_000{i}" / "preset" for i in (1, 2)]
    _run_cli(flags, "evaluate", *map(str, snaps), str(run / "preset"))
    out = capsys.readouterr().out
    table = out.split("\n\n")[-1].strip().splitlines()
    assert table[0].split() == ["source", "mode_coverage"]
    assert [row.split()[0] for row in table[1:]] == [
        str(snaps[0]),
        str(snaps[1]),
        str(run / "preset"),
    ]
    for name in ("epoch_0001", "epoch_0002", "mine"):
        found = json.loads((tmp_path / f"evaluation-{name}.json").read_text())
        assert found["metrics"]["mode_coverage"]["num_modes"] == 8


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["evaluate", "gan-ring8", "lsgan-ring8", "--json_out=x.json"],
            "--json_out names one file",
        ),
        (["evaluate", "gan-ring8", "gan-ring8"], "Two sources named gan-ring8"),
        (["evaluate"], "usage: ganzoo evaluate NAME_OR_DIR [NAME_OR_DIR ...]"),
        (["evaluate", "gan-ring8", "--metrics=parzen"], "does not apply"),
        (["evaluate", "gan-ring8", "--metrics=bogus"], "valid metrics"),
        (["evaluate", "gan-ring8", "--recalibrate_bn=2"], "no batch norm"),
        (["sample", "gan-rng8"], "Did you mean 'gan-ring8'"),
        (["sample", "gan-ring8", "--sampling=paper"], "DeLiGAN authors'"),
        (["evaluate", "gan-ring8", "--sampling=paper"], "DeLiGAN authors'"),
        (["sample"], "usage"),
        (
            ["sample", "gan-ring8", "--num_samples=10"],
            "its flags: --num, --seed, --out, --sampling",
        ),
        (["list", "--num=3"], "--num is not a flag of ganzoo list"),
        (
            ["export", "gan-ring8", "x", "--seed=1"],
            "not a flag of ganzoo export",
        ),
        (
            ["evaluate", "gan-ring8", "--epochs=3"],
            "not a flag of ganzoo evaluate",
        ),
        (["train", "--out=x.png"], "--out is not a flag of ganzoo train "),
    ],
)
def test_command_errors(flags, argv, message, capsys):
    assert message in _usage_error(flags(["ganzoo", *argv]), capsys)


def test_same_seed_same_initial_weights(tmp_path):
    """`train` seeds weights and data order: two runs of a config end the
    same, a run with another seed does not."""
    cfg = helpers.tiny_train_config(limit=64, seed=7)
    configs = [cfg, cfg, dataclasses.replace(cfg, seed=8)]
    cards = [
        training.train(c, tmp_path / f"r{i}", verbose=0)
        for i, c in enumerate(configs)
    ]
    a, b, other = (
        presets_io.load_preset_dir(tmp_path / f"r{i}" / "preset")[0]
        for i in range(3)
    )
    for x, y in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(x, y, atol=1e-6)
    assert not np.allclose(
        a.get_weights()[0], other.get_weights()[0], atol=1e-2
    )
    # The toys' mode coverage is logged every epoch.
    with open(tmp_path / "r0" / "log.csv") as f:
        row = next(csv.DictReader(f))
    assert 0 <= float(row["modes_covered"]) <= 8
    assert 0 <= float(row["high_quality"]) <= 1
    assert cards[0]["protocol"] == "ring8: 64 points drawn with seed 7"


def test_evaluate_with_the_deligan_authors_sampling(flags, tmp_path):
    from ganzoo import zoo

    report = tmp_path / "eval.json"
    _run_cli(
        flags,
        "evaluate",
        "deligan-ring8",
        "--sampling=paper",
        f"--json_out={report}",
    )
    result = json.loads(report.read_text())
    components = zoo.load("deligan-ring8").num_components
    assert result["num_samples"] == 100 * components
    assert result["sampling"].startswith("paper: eps ~ U(-1, 1)")


def test_deligan_recipe_adaptive_cycle_linear_after(tmp_path):
    """The DeLiGAN authors' protocol through `train`: adaptive G/D updates,
    cycled components, the rate flat then linear by epoch."""
    cfg = training.TrainConfig(
        model="deligan",
        network="toy",
        dataset="ring8",
        width=0.1,
        num_components=4,
        component_sampling="cycle",
        update="adaptive",
        updates_per_batch=2,
        lr_decay="linear_after",
        lr_flat_epochs=1,
        epochs=3,
        steps_per_epoch=2,
        batch_size=16,
        limit=64,
    )
    card = training.train(cfg, tmp_path / "run", verbose=0)
    assert card["steps"] == 6  # real batches, not G updates
    with open(tmp_path / "run" / "log.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3
    assert all(0 <= float(r["g_steps"]) <= 2 for r in rows)
    assert all(0.7 <= float(r["threshold"]) <= 1.0 for r in rows)
    model, _ = presets_io.load_preset_dir(tmp_path / "run" / "preset")
    assert model.switch.updates_per_batch == 2
    assert model.mixture.component_sampling == "cycle"


def test_papers_md_command_is_the_gan_paper_recipe(flags, data_dir):
    """zoo_weights/papers.md's one-line command is tools/paper_gan.py's
    RECIPE."""
    text = (REPO / "zoo_weights" / "papers.md").read_text()
    (line,) = [
        line
        for line in text.splitlines()
        if line.startswith("ganzoo train --model=gan ")
        and "--lr_decay=exponential" in line
    ]
    args = line.replace("--epochs=N", "--epochs=1").split()[2:]
    flags(["ganzoo", *args])
    assert {k: flags[k].value for k in RECIPE} == RECIPE
    names = [f.name for f in dataclasses.fields(training.TrainConfig)]
    cfg = training.TrainConfig(**{n: flags[n].value for n in names})
    cfg.data_dir = str(data_dir)
    assert training.steps_per_epoch(cfg.validate()) == 500


def test_gan_paper_sgd_recipe_end_to_end(data_dir, tmp_path):
    """SGD with the authors' rate decay and momentum ramp through `train`:
    the optimizers and callback it builds, and a run that finishes."""
    import math

    from ganzoo import schedules, training

    # Shrunk: a narrow net, 2 epochs of 2 batches, the ramp over 2 epochs.
    cfg = training.TrainConfig(
        **RECIPE | dict(take=400, momentum_saturate=2, width=0.05, epochs=2),
        data_dir=str(data_dir),
        steps_per_epoch=2,
        grid_size=2,
    )
    d_opt = training.compile_model(training.build_model(cfg), cfg).d_optimizer
    assert isinstance(d_opt, schedules.VariableMomentumSGD)
    assert d_opt.momentum == 0.5
    assert d_opt.get_config()["learning_rate"]["config"] == {
        "initial_learning_rate": 0.05,
        "decay_factor": 1.000004,
        "min_lr": 1e-6,
        "updates_per_batch": 1,
        "name": "FlooredExponentialDecay",
    }
    (ramp,) = training.schedule_callbacks(cfg)
    assert [ramp.momentum(e) for e in (0, 1, 2)] == [0.5, 0.7, 0.7]
    card = training.train(cfg, tmp_path / "run", verbose=0)
    assert card["steps"] == 4
    assert all(math.isfinite(v) for v in card["final_logs"].values())


def test_export_prints_one_line(data_dir, tmp_path):
    """As a user runs it: `ganzoo export` says where the SavedModel went
    and nothing else (absl would log TensorFlow's SavedModel writer at
    INFO)."""
    proc = _ganzoo(["export", "gan-ring8", str(tmp_path / "serving")], data_dir)
    output = proc.communicate(timeout=120)[0].decode()
    assert proc.returncode == 0, output
    lines = output.strip().splitlines()
    assert lines == [f"SavedModel written to {tmp_path / 'serving' / '1'}"], (
        output
    )


def test_g_output_bias_from_data_is_pylearn2s_marginals(data_dir):
    """g_output_bias=data: G's sigmoid layer starts at the log-odds of the
    mean training pixel (clipped to [1e-3, 1 - 1e-3]), as mnist.yaml's
    init_sigmoid_bias_from_marginals; the authors' small init then makes
    G's first samples near the mean image. Networks without a sigmoid
    output refuse it."""
    from ganzoo import datasets, training

    cfg = training.TrainConfig(
        network="gan_paper_mnist",
        take=300,
        g_output_bias="data",
        data_dir=str(data_dir),
    ).validate()
    model = training.build_model(cfg)
    x, _ = datasets.load_arrays("mnist", "train", data_dir=str(data_dir))
    mean = np.clip(x[:300].reshape(300, -1).mean(0) / 255.0, 1e-3, 1 - 1e-3)
    bias = model.generator.layers[-2].bias.numpy()
    np.testing.assert_allclose(bias, np.log(mean / (1 - mean)), rtol=1e-5)
    first = model.sample(64, seed=0).reshape(64, -1)
    assert np.abs(first.mean(0) - mean).max() < 0.1
    plain = training.build_model(
        dataclasses.replace(cfg, g_output_bias="zeros")
    )
    assert not plain.generator.layers[-2].bias.numpy().any()
    with pytest.raises(ValueError, match="g_output_bias=data is for"):
        training.TrainConfig(
            network="deligan_mnist", g_output_bias="data"
        ).validate()


@pytest.mark.parametrize(
    "argv",
    [["-m", "ganzoo.cli", "list"], ["-m", "tools.results", "registry", "x"]],
)
def test_tensorflow_start_up_lines_stay_hidden(argv):
    # The `ganzoo` command and the maintainer tools (the latter answers
    # with its usage: nothing is written).
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run(
        [sys.executable, *argv],
        check=False,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ("gan-mnist" if "list" in argv else "Maintainer tool") in (
        done.stdout + done.stderr
    )
    assert "absl::InitializeLog" not in done.stderr, done.stderr
    assert not re.search(r"^[IWE]\d{4} ", done.stderr, re.MULTILINE), (
        done.stderr
    )


def test_a_diverged_run_is_one_line_and_writes_no_preset(data_dir, tmp_path):
    # Keras' TerminateOnNaN reads only `loss`, which a GAN does not log:
    # with it, this run went on to the end and wrote a preset of NaNs.
    run = tmp_path / "run"
    args = ["train", *TOY, "--epochs=3", "--steps_per_epoch=20"]
    args += ["--d_lr=1e12", "--g_lr=1e12", "--snapshot_every=1"]
    proc = _ganzoo([*args, f"--output_dir={run}"], data_dir)
    output = proc.communicate(timeout=300)[0].decode()
    assert proc.returncode == 2, output
    last = output.strip().splitlines()[-1]
    assert last.startswith("ganzoo: error: Training diverged: a loss became")
    assert "in epoch 1 of 3" in last and "d_lr=1e+12" in last, output
    assert "Traceback" not in output, output
    assert not (run / "preset").exists()
    assert not (run / "snapshots").exists()


@pytest.mark.parametrize(
    "argv, shown",
    [
        (["--help"], "  evaluate  a metrics table"),
        (["sample", "-h"], "usage: ganzoo sample NAME_OR_DIR"),
        (["help", "export"], "  --overwrite:"),
        (["--version"], "ganzoo 0."),
    ],
)
def test_help_and_version_exit_0(data_dir, argv, shown):
    proc = _ganzoo(argv, data_dir)
    output = proc.communicate(timeout=120)[0].decode()
    assert proc.returncode == 0 and shown in output, output


def test_each_command_help_lists_exactly_its_flags(flags):
    for command in cli.COMMANDS:
        text = cli.command_help(command)
        listed = re.findall(r"^  --(\w+):", text, re.MULTILINE)
        assert listed == list(cli.command_flags(command)), command
        assert text.startswith(f"usage: {cli.USAGE[command]}")
    assert "(default: 64)" in cli.command_help("sample")
    top = cli.command_help()
    listed = re.findall(r"^  (\w+) ", top, re.MULTILINE)
    assert listed == list(cli.COMMANDS)


def _documented_commands():
    """Every `ganzoo COMMAND ...` in the shell blocks of README.md and
    docs/*.md, continuation lines joined, comments and env prefixes cut."""
    import shlex

    found = []
    for doc in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        text = doc.read_text()
        for block in re.findall(r"```shell\n(.*?)\n```", text, re.DOTALL):
            for line in block.replace("\\\n", " ").splitlines():
                for part in line.split("&&"):
                    if "ganzoo " not in part:
                        continue
                    words = shlex.split(part, comments=True)
                    while words and "=" in words[0] and words[0][0] != "-":
                        words = words[1:]  # TF_CONFIG=... before ganzoo
                    if words and words[0] == "ganzoo":
                        found.append((doc.name, words[1:]))
    return found


def test_the_documented_commands_parse(flags):
    # Every flag the docs show exists and takes the value shown.
    commands = _documented_commands()
    assert len(commands) >= 15
    checked = 0
    for doc, args in commands:
        words = [w for w in args if w != "&"]
        assert words[0] in cli.COMMANDS, (doc, args)
        flags(["ganzoo", *words])
        cli._check_command_flags(words[0])  # each flag is the command's
        if words[0] == "train" and "path/to" not in flags.dataset:
            # The recipe itself is valid (a model reads every field given).
            names = [f.name for f in dataclasses.fields(training.TrainConfig)]
            training.TrainConfig(
                **{n: flags[n].value for n in names}
            ).validate()
            checked += 1
        flags.unparse_flags()
    assert checked >= 3


def test_a_skipped_picture_is_one_plain_warning_line(data_dir, tmp_path):
    folder = tmp_path / "pictures"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        pixels = rng.integers(0, 256, (20, 20), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{i}.png")
    (folder / "bad.png").write_bytes(b"not a picture")
    args = [
        "train",
        "--model=gan",
        "--network=deligan_mnist",
        f"--dataset={folder}",
        "--image_size=28",
        "--channels=1",
        "--batch_size=4",
        "--epochs=1",
        "--steps_per_epoch=1",
        "--verbose=0",
        f"--output_dir={tmp_path / 'run'}",
    ]
    proc = _ganzoo(args, data_dir)
    output = proc.communicate(timeout=120)[0].decode()
    assert proc.returncode == 0, output
    warning = f"ganzoo: warning: Skipping {folder / 'bad.png'}: not a decodable"
    assert warning in output.splitlines()[0], output
    assert "_pictures.py" not in output, output
