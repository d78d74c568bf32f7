"""A user's mistake (a damaged preset, the wrong kind of preset, a bad file
or reference) is one `ArgumentError` naming the file or flag and what is
valid, and on the command line one line with exit status 2."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from ganzoo import (
    _atomic,
    datasets,
    evaluation,
    export,
    metrics,
    presets_io,
    zoo,
)
from ganzoo._checks import ArgumentError
from tests import helpers
from tests.conftest import REPO


@pytest.fixture
def preset_copy(tmp_path):
    """A copy of a shipped preset, to damage."""
    copy = tmp_path / "ring8"
    shutil.copytree(zoo.PACKAGE_PRESETS / "gan-ring8", copy)
    return copy


@pytest.mark.parametrize(
    "text, reason",
    [
        (None, "Unterminated string"),  # the first 200 bytes
        ("", "Expecting value"),
        ("[]", "top level is not a JSON object"),
        ('{"files": []}', r"does not match metadata.json's record \(none\)"),
    ],
)
def test_damaged_preset_card_names_the_file(preset_copy, text, reason):
    card = preset_copy / presets_io.METADATA_FILE
    card.write_text(card.read_text()[:200] if text is None else text)
    with pytest.raises(ArgumentError, match=reason) as info:
        presets_io.load_preset_dir(preset_copy)
    assert str(preset_copy) in str(info.value)


def test_damaged_model_config_names_the_file(preset_copy):
    config = preset_copy / presets_io.CONFIG_FILE
    config.write_text(config.read_text()[:200])
    with pytest.raises(ArgumentError, match="is not a valid model config"):
        presets_io.load_preset_dir(preset_copy, verify=False)


@pytest.fixture(scope="module")
def classifier():
    return zoo.load("mnist-classifier")


def test_evaluate_refuses_a_classifier(classifier):
    with pytest.raises(
        ArgumentError,
        match="mnist-classifier is a classifier, not a generator: evaluate",
    ):
        evaluation.evaluate_model(classifier, source="mnist-classifier")


def test_export_refuses_a_classifier_before_writing(classifier, tmp_path):
    # A TypeError as before for the Python API, an ArgumentError for the CLI.
    with pytest.raises(TypeError, match="not a generator: export") as info:
        export.export_saved_model(classifier, tmp_path / "exp" / "clf")
    assert isinstance(info.value, ArgumentError)
    assert not (tmp_path / "exp").exists()


def test_existing_export_names_the_command_line_flag(tmp_path):
    (tmp_path / "m" / "1").mkdir(parents=True)
    model = helpers.tiny_toy_model("gan")
    with pytest.raises(FileExistsError, match=r"overwrite=True \(--overwrite"):
        export.export_saved_model(model, tmp_path / "m", version=1)


def test_replace_dir_removes_an_old_file(tmp_path):
    (tmp_path / "2").write_text("x")
    new = tmp_path / "new"
    new.mkdir()
    (new / "a").write_text("a")
    _atomic.replace_dir(new, tmp_path / "2")
    assert os.listdir(tmp_path) == ["2"]
    assert os.listdir(tmp_path / "2") == ["a"]


@pytest.mark.parametrize(
    "write, message",
    [
        (lambda p: p.write_text("x\n"), "is not a .npy array"),
        (lambda p: np.save(p, np.array(["a", "b"])), "holds a <U1 array"),
        (lambda p: np.save(p, np.zeros(3)), "of shape (3,), not samples"),
    ],
    ids=["text", "strings", "1-D"],
)
def test_npy_that_is_not_samples_is_named(tmp_path, write, message):
    path = tmp_path / "garbage.npy"
    write(path)
    with pytest.raises(ArgumentError, match=f"{path}.*") as info:
        evaluation.load_source(str(path))
    assert message in str(info.value)


def test_npy_folder_of_two_shapes_names_both_files(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((5, 2), "float32"))
    np.save(tmp_path / "b.npy", np.zeros((5, 28, 28, 1), "float32"))
    with pytest.raises(ArgumentError) as info:
        evaluation.load_source(str(tmp_path))
    message = str(info.value)
    assert str(tmp_path / "a.npy") in message, message
    assert str(tmp_path / "b.npy") in message, message
    assert "(2,)" in message and "(28, 28, 1)" in message, message


@pytest.mark.parametrize(
    "reference, why",
    [
        ("/no/such/dir", "folder /no/such/dir does not exist"),
        ("trian[50000:]", "mnist has no split 'trian'"),
        ("validation", "mnist has no split 'validation'"),
        ("train[a:b]", "give a slice of example indices"),
    ],
)
def test_bad_reference_is_named_with_the_choices(reference, why, data_dir):
    with pytest.raises(ArgumentError) as info:
        datasets.reference_arrays(reference, "mnist", 28, 1, data_dir=data_dir)
    message = str(info.value)
    assert message.startswith(f"reference={reference!r}: {why}; "), message
    assert "a folder of pictures, tfds:NAME" in message, message
    assert "split of mnist (train or test)" in message, message
    assert "train[50000:]" in message and message.endswith("."), message


def test_reference_that_is_a_file_says_so(tmp_path):
    (tmp_path / "x.png").write_bytes(b"")
    with pytest.raises(ArgumentError, match="is a file, not a folder"):
        datasets.reference_arrays(str(tmp_path / "x.png"), "mnist", 28, 1)


@pytest.mark.parametrize(
    "reference, message",
    [
        ("missing", "folder {tmp}/missing does not exist"),
        ("a_file.png", "a_file.png is a file, not a folder of pictures"),
        ("empty", "empty holds no image files"),
        ("test", "has no split 'test'"),  # a folder has no splits
    ],
)
def test_a_bad_reference_is_named_before_inception_loads(
    tmp_path, monkeypatch, reference, message
):
    """A wrong --reference used to be reported only after InceptionV3 had
    loaded (offline: its missing-weights error instead; online: after an
    87 MB download)."""
    from ganzoo import inception

    def not_yet():
        raise AssertionError("InceptionV3 loaded before the reference check")

    monkeypatch.setattr(inception, "feature_extractor", not_yet)
    (tmp_path / "a_file.png").write_bytes(b"")
    (tmp_path / "empty").mkdir()
    pictures = tmp_path / "pictures"  # the run's own folder of pictures
    pictures.mkdir()
    Image.new("RGB", (16, 16)).save(pictures / "a.png")
    samples = np.zeros((4, 16, 16, 3), np.float32)
    with pytest.raises(ArgumentError, match="reference|holds no") as info:
        metrics.evaluate_samples(
            samples,
            metrics=["kid"],
            dataset=str(pictures),
            reference=reference
            if reference == "test"
            else str(tmp_path / reference),
        )
    assert message.format(tmp=tmp_path) in str(info.value), info.value


@pytest.mark.parametrize(
    "shape, dataset, reference, message",
    [
        ((10, 28, 28, 1), "ring8", None, "'ring8' is a 2-D toy, but the"),
        ((10, 2), "mnist", None, "2-D points (shape (10, 2)), not images"),
        ((10, 2), "ring8", "train[50000:]", "does not apply to the toy"),
        ((1, 28, 28, 1), "mnist", None, "Got 1 image sample(s); the image"),
    ],
    ids=["images-vs-toy", "points-vs-images", "toy-reference", "one-image"],
)
def test_samples_that_do_not_fit_the_dataset_are_named(
    shape, dataset, reference, message
):
    """Before any classifier or data is read: the error says what the
    samples are and what to give instead (the audit found "samples must
    have 2 columns, got 784" and a reference printed but ignored)."""
    with pytest.raises(ArgumentError) as info:
        metrics.evaluate_samples(
            np.zeros(shape, "float32"), dataset=dataset, reference=reference
        )
    assert message in str(info.value), info.value


def _ganzoo(args, cwd):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    return subprocess.run(
        [sys.executable, "-m", "ganzoo.cli", *args],
        check=False,  # the exit status is what the tests look at
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=120,
    )


BAD_CARD = "ring8/metadata.json is not a valid preset card"


@pytest.mark.parametrize(
    "args, message",
    [
        (["sample", "ring8"], BAD_CARD),
        (["evaluate", "ring8"], BAD_CARD),
        (["export", "mnist-classifier", "exp/clf"], "a classifier, not a"),
    ],
    ids=["sample", "evaluate", "export"],
)
def test_command_line_prints_one_line(preset_copy, args, message):
    """As a user runs it: a subprocess, one line, exit 2, nothing written
    (ring8/ holds a preset whose card is cut at 200 bytes)."""
    card = preset_copy / presets_io.METADATA_FILE
    card.write_text(card.read_text()[:200])
    proc = _ganzoo(args, preset_copy.parent)
    output = proc.stdout.decode()
    assert proc.returncode == 2, output
    assert output.startswith("ganzoo: error: ") and message in output, output
    assert output.count("\n") == 1 and "Traceback" not in output, output
    assert sorted(os.listdir(preset_copy.parent)) == ["ring8"]


def test_a_run_folder_loads_its_preset_once_finished(preset_copy, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / presets_io.RUN_CONFIG_FILE).write_text("{}")
    with pytest.raises(FileNotFoundError, match="has not finished"):
        zoo.load(run)
    shutil.copytree(preset_copy, run / "preset")
    assert zoo.load(run).preset_metadata["model"] == "gan"


def test_export_into_a_file_names_it_and_writes_nothing(tmp_path):
    model = helpers.tiny_toy_model()
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    for path in (blocker, blocker / "sub"):
        with pytest.raises(NotADirectoryError, match=f"{blocker} is a file"):
            export.export_saved_model(model, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_a_dataset_that_is_not_here_is_named_with_the_choices(tmp_path):
    np.save(tmp_path / "s.npy", np.zeros((4, 28, 28, 1), "float32"))
    with pytest.raises(
        ArgumentError, match=r"dataset='mnistt' .* not one of mnist, fashion"
    ):
        evaluation.evaluate_source(
            str(tmp_path / "s.npy"), ["classifier_score"], dataset="mnistt"
        )


def test_take_on_a_toy_says_what_to_use():
    with pytest.raises(ArgumentError, match=r"take=5: ring8 .* use limit="):
        datasets.load("ring8", take=5)


def test_evaluating_an_unfinished_run_says_so(tmp_path):
    (tmp_path / presets_io.RUN_CONFIG_FILE).write_text("{}")
    with pytest.raises(FileNotFoundError, match="has not finished"):
        evaluation.evaluate_source(str(tmp_path))
