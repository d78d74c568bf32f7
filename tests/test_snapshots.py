"""`ganzoo train --snapshot_every`: presets of the run at earlier epochs,
each the run as it was then, chosen among on held-out data."""

import json

import numpy as np
import pytest

import ganzoo
from ganzoo import training
from ganzoo._checks import ArgumentError
from ganzoo.callbacks import PresetSnapshots
from tests import helpers
from tools import results


def _train(folder, **kwargs):
    cfg = helpers.tiny_train_config(g_ema=0.9, steps_per_epoch=3, **kwargs)
    training.train(cfg, folder, verbose=0, command="ganzoo train")
    return folder


def _generator_weights(folder):
    model, _ = ganzoo.presets_io.load_preset_dir(folder)
    return model.generator.get_weights()


def test_a_snapshot_is_the_run_as_it_was_at_that_epoch(tmp_path):
    run = _train(tmp_path / "a", epochs=3, snapshot_every=1)
    snaps = run / "snapshots"
    assert sorted(p.name for p in snaps.iterdir()) == [
        "epoch_0001",
        "epoch_0002",
    ]  # the last epoch is preset/
    card = json.loads(
        (snaps / "epoch_0002" / "preset" / "metadata.json").read_text()
    )
    assert card["snapshot"] == {"epoch": 2, "of_epochs": 3}
    assert (card["epochs"], card["steps"]) == (2, 6)
    assert card["train_config"]["epochs"] == 3
    assert set(card["final_logs"]) >= {"d_loss", "g_loss"}
    # With G's moving average swapped in, as a 2-epoch run ends...
    two = _train(tmp_path / "b", epochs=2)
    for a, b in zip(
        _generator_weights(snaps / "epoch_0002" / "preset"),
        _generator_weights(two / "preset"),
    ):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    # ... and the training itself untouched by the snapshots.
    three = _train(tmp_path / "c", epochs=3)
    for a, b in zip(
        _generator_weights(run / "preset"), _generator_weights(three / "preset")
    ):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert not (three / "snapshots").exists()


def test_a_later_phase_snapshot_counts_its_earlier_phases(tmp_path):
    first = _train(tmp_path / "p1", epochs=1)
    run = _train(
        tmp_path / "p2",
        epochs=2,
        snapshot_every=1,
        init_from=str(first / "preset"),
    )
    card = json.loads(
        (
            run / "snapshots" / "epoch_0001" / "preset" / "metadata.json"
        ).read_text()
    )
    assert card["total_steps"] == 3 + 3
    assert 0 < card["wall_time_s"] <= card["total_wall_time_s"]
    assert len(card["previous_phases"]) == 1


def test_snapshots_are_validated_under_their_run_name(tmp_path, monkeypatch):
    monkeypatch.setattr(results, "VALIDATION_FILE", tmp_path / "v.json")
    run = _train(tmp_path / "toy", epochs=3, snapshot_every=2)
    found = results.validate([run / "snapshots" / "epoch_0002", run])
    assert sorted(found) == ["toy", "toy/epoch_0002"]
    assert sorted(json.loads((tmp_path / "v.json").read_text())) == [
        "toy",
        "toy/epoch_0002",
    ]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(epochs=3, snapshot_every=3), "saves no snapshot"),
        (dict(epochs=3, snapshot_every=-1), "snapshot_every"),
        (dict(epochs=3, snapshot_every=1.5), "snapshot_every"),
    ],
)
def test_bad_snapshot_every_is_refused_before_training(kwargs, message):
    with pytest.raises(ArgumentError, match=message):
        helpers.tiny_train_config(**kwargs).validate()


@pytest.mark.parametrize(
    "args, message",
    [
        (dict(output_dir=3, every=1), "output_dir"),
        (dict(output_dir="x", every=0), "every"),
        (dict(output_dir="x", every=1, card=[1]), "card"),
    ],
)
def test_preset_snapshots_checks_its_arguments(args, message):
    with pytest.raises(ArgumentError, match=message):
        PresetSnapshots(**args)


def test_best_names_the_epoch_chosen_on_one_slice(
    tmp_path, monkeypatch, capsys
):
    record = tmp_path / "v.json"
    monkeypatch.setattr(results, "VALIDATION_FILE", record)

    def rec(run, reference, fd):
        return dict(
            run=run,
            command="c",
            reference=reference,
            metrics={
                "frechet_distance": {"mean": fd, "std": 0.1},
                "classifier_score": {"mean": 10 - fd, "std": 0.1},
            },
        )

    record.write_text(
        json.dumps(
            {
                "r/epoch_0010 on a": rec("r/epoch_0010", "a", 3.0),
                "r/epoch_0020 on a": rec("r/epoch_0020", "a", 2.0),
                "r on a": rec("r", "a", 2.5),
                "r/epoch_0010 on b": rec("r/epoch_0010", "b", 1.0),
                "rr/epoch_0010 on a": rec("rr/epoch_0010", "a", 0.1),
            }
        )
    )
    assert results.best_epoch(tmp_path / "r", "a") == "r/epoch_0020 on a"
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "  r/epoch_0010",
        "* r/epoch_0020",
        "  r",
    ]
    # A score: the highest.
    best = results.best_epoch(tmp_path / "r", "a", metric="classifier_score")
    assert best == "r/epoch_0020 on a"
    assert results.best_epoch(tmp_path / "r", "b") == "r/epoch_0010 on b"
    capsys.readouterr()
    # A snapshot beating the final preset by less than the sample seeds'
    # std is chosen, and called a tie.
    record.write_text(
        json.dumps(
            {
                "r/epoch_0010 on a": rec("r/epoch_0010", "a", 2.0),
                "r on a": rec("r", "a", 2.05),
            }
        )
    )
    assert results.best_epoch(tmp_path / "r", "a") == "r/epoch_0010 on a"
    out = capsys.readouterr().out
    assert "differ by 0.05, within the std over sample seeds (0.1)" in out
    record.write_text(
        json.dumps(
            {
                "r/epoch_0010 on a": rec("r/epoch_0010", "a", 2.0),
                "r on a": rec("r", "a", 2.5),
                "r/epoch_0010 on b": rec("r/epoch_0010", "b", 1.0),
            }
        )
    )
    results.best_epoch(tmp_path / "r", "a")
    assert "tie" not in capsys.readouterr().out
    with pytest.raises(results.app.UsageError, match="no record of r on c"):
        results.best_epoch(tmp_path / "r", "c")
    with pytest.raises(results.app.UsageError, match="--metric=kid: r's"):
        results.best_epoch(tmp_path / "r", "a", metric="kid")
