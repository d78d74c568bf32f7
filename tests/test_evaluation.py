"""`ganzoo.evaluation`: metrics of presets, runs and samples, and the
batch-norm re-estimation `ganzoo evaluate --recalibrate_bn` applies."""

import numpy as np
import pytest

from ganzoo import evaluation, presets_io
from ganzoo._checks import ArgumentError
from tests import helpers


@pytest.fixture
def image_preset(tmp_path):
    """A tiny DCGAN-pair preset (batch norm in G) whose moving statistics
    are garbage, as after averaging the weights."""
    model = helpers.compile_adam(helpers.tiny_image_model("gan", seed=2))
    for var in model.generator.non_trainable_variables:
        if "moving_mean" in var.path:
            var.assign(np.full(var.shape, 5.0, "float32"))
    path = tmp_path / "run" / "preset"
    presets_io.save_preset(model, path, {"dataset": "mnist"})
    return tmp_path / "run"


def test_recalibrated_evaluation_changes_samples_not_files(image_preset):
    files = image_preset / "preset" / presets_io.WEIGHTS_FILE
    before = presets_io.sha256_of(files)
    kwargs = dict(metrics=["class_histogram"], num_samples=200, seed=0)
    plain = evaluation.evaluate_source(str(image_preset), **kwargs)
    fixed = evaluation.evaluate_source(
        str(image_preset), recalibrate_bn=3, **kwargs
    )
    assert "post_training" not in plain
    assert fixed["post_training"] == (
        "recalibrate_batch_norm(num_batches=3, batch_size=100, seed=0)"
    )
    assert "post_training" in evaluation.format_table(fixed)
    assert (
        fixed["metrics"]["class_histogram"]
        != (plain["metrics"]["class_histogram"])
    )
    assert presets_io.sha256_of(files) == before


def test_evaluate_model_matches_evaluate_source(image_preset):
    model, _ = presets_io.load_preset_dir(image_preset / "preset")
    kwargs = dict(metrics=["class_histogram"], num_samples=200, seed=1)
    a = evaluation.evaluate_model(model, dataset="mnist", **kwargs)
    b = evaluation.evaluate_source(str(image_preset), **kwargs)
    assert a["metrics"] == b["metrics"] and a["seed"] == b["seed"] == 1


def test_recalibration_errors(image_preset, tmp_path):
    npy = tmp_path / "s.npy"
    np.save(npy, np.zeros((4, 28, 28, 1), "float32"))
    with pytest.raises(ValueError, match="holds samples, not a model"):
        evaluation.evaluate_source(str(npy), recalibrate_bn=2)
    model, _ = presets_io.load_preset_dir(image_preset / "preset")
    with pytest.raises(ValueError, match="integer >= 0"):
        evaluation.evaluate_model(model, recalibrate_bn=-1)
    toy = helpers.tiny_toy_model("gan")
    with pytest.raises(ValueError, match="no batch norm"):
        evaluation.evaluate_model(toy, dataset="ring8", recalibrate_bn=2)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, "holds 28x28 images: say which data they imitate with dataset="),
        ({"dataset": "mnist", "num_samples": 10}, "num_samples needs a preset"),
        ({"dataset": "mnist", "seed": 3}, "seed needs a preset"),
    ],
)
def test_saved_samples_refuse_what_they_cannot_use(tmp_path, kwargs, message):
    npy = tmp_path / "s.npy"
    np.save(npy, np.zeros((4, 28, 28, 1), "float32"))
    with pytest.raises(ArgumentError, match=message):
        evaluation.evaluate_source(str(npy), **kwargs)


def test_a_missing_npy_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no/s.npy: no such .npy file"):
        evaluation.evaluate_source(str(tmp_path / "no" / "s.npy"))
