"""`python -m ganzoo.results promote`: a run becomes a measured preset."""

import json

import pytest

from ganzoo import presets_io, results, zoo
from tests import helpers


@pytest.fixture
def toy_run(tmp_path, monkeypatch):
    monkeypatch.setattr(zoo, "REPO_WEIGHTS", tmp_path / "zoo_weights")
    monkeypatch.setattr(zoo, "REGISTRY_FILE", tmp_path / "registry.json")
    (tmp_path / "zoo_weights").mkdir()
    model = helpers.compile_adam(helpers.tiny_toy_model("gan", latent_dim=2))
    presets_io.save_preset(model, tmp_path / "run" / "preset",
                           {"dataset": "ring8", "command": "ganzoo train"})
    return tmp_path


def test_promote_measures_and_registers(toy_run):
    results.promote(toy_run / "run", "toy-gan", "a toy")
    card = json.loads(
        (toy_run / "zoo_weights" / "toy-gan" / "metadata.json").read_text()
    )
    assert card["description"] == "a toy"
    assert card["metrics"]["mode_coverage"]["num_modes"] == 8
    assert "ganzoo evaluate toy-gan --metrics=mode_coverage" in (
        card["metrics_command"]
    )
    assert "post_training" not in card
    registry = json.loads((toy_run / "registry.json").read_text())
    assert registry["toy-gan"]["sha256"]["metadata.json"] == (
        presets_io.sha256_of(toy_run / "zoo_weights" / "toy-gan"
                             / "metadata.json")
    )


def test_promote_refuses_recalibration_without_batch_norm(toy_run):
    results.promote(toy_run / "run", "toy-gan", "first")
    before = (toy_run / "zoo_weights" / "toy-gan" / "metadata.json").read_text()
    with pytest.raises(ValueError, match="no batch norm"):
        results.promote(toy_run / "run", "toy-gan", "second",
                        recalibrate_bn=5)
    after = (toy_run / "zoo_weights" / "toy-gan" / "metadata.json").read_text()
    assert after == before
    assert sorted(p.name for p in (toy_run / "zoo_weights").iterdir()) == [
        "toy-gan"
    ]
