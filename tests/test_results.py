"""`python -m tools.results`: a run becomes a measured, registered preset;
a preset can be slimmed to its generator."""

import json
import pathlib

import numpy as np
import pytest

from ganzoo import evaluation, presets_io
from tests import helpers
from tools import results


@pytest.fixture
def toy_run(tmp_path, monkeypatch):
    monkeypatch.setattr(results, "PRESETS_DIR", tmp_path / "presets")
    monkeypatch.setattr(results, "ZOO_WEIGHTS", tmp_path / "zoo_weights")
    monkeypatch.setattr(results, "REGISTRY_FILE", tmp_path / "registry.json")
    (tmp_path / "presets").mkdir()
    model = helpers.compile_adam(helpers.tiny_toy_model("gan", latent_dim=2))
    presets_io.save_preset(
        model,
        tmp_path / "run" / "preset",
        {"dataset": "ring8", "command": "ganzoo train"},
    )
    return tmp_path


def test_promote_measures_and_registers(toy_run):
    results.promote(toy_run / "run", "toy-gan", "a toy")
    card = json.loads(
        (toy_run / "presets" / "toy-gan" / "metadata.json").read_text()
    )
    assert card["description"] == "a toy"
    assert card["metrics"]["mode_coverage"]["num_modes"] == 8
    assert (
        "ganzoo evaluate toy-gan --metrics=mode_coverage"
        in (card["metrics_command"])
    )
    assert "post_training" not in card
    registry = json.loads((toy_run / "registry.json").read_text())
    entry = registry["toy-gan"]
    assert entry["sha256"]["metadata.json"] == (
        presets_io.sha256_of(toy_run / "presets" / "toy-gan" / "metadata.json")
    )
    assert entry["shipped"] == sorted(
        ["config.json", "metadata.json", "model.weights.h5"]
    )
    # What load needs, not the recipe: that lives in the card.
    assert set(entry) == {
        "class_name",
        "dataset",
        "description",
        "sha256",
        "shipped",
    }


def test_promote_refuses_recalibration_without_batch_norm(toy_run):
    results.promote(toy_run / "run", "toy-gan", "first")
    before = (toy_run / "presets" / "toy-gan" / "metadata.json").read_text()
    with pytest.raises(ValueError, match="no batch norm"):
        results.promote(toy_run / "run", "toy-gan", "second", recalibrate_bn=5)
    after = (toy_run / "presets" / "toy-gan" / "metadata.json").read_text()
    assert after == before
    assert sorted(p.name for p in (toy_run / "presets").iterdir()) == [
        "toy-gan"
    ]


def test_promote_ship_generator_slims_the_preset(toy_run):
    results.promote(toy_run / "run", "toy-gan", "a toy", ship="generator")
    folder = toy_run / "presets" / "toy-gan"
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.json",
        "generator.weights.h5",
        "metadata.json",
    ]
    full = toy_run / "zoo_weights" / "toy-gan" / "model.weights.h5"
    registry = json.loads((toy_run / "registry.json").read_text())["toy-gan"]
    assert registry["sha256"]["model.weights.h5"] == presets_io.sha256_of(full)
    assert "model.weights.h5" not in registry["shipped"]
    slim, card = presets_io.load_preset_dir(folder)
    assert card["weights_loaded"] == "generator" and "slimmed" in card
    whole, _ = presets_io.load_preset_dir(toy_run / "run" / "preset")
    np.testing.assert_array_equal(
        slim.sample(8, seed=3), whole.sample(8, seed=3)
    )


def test_promote_records_spread_over_sample_and_training_seeds(toy_run):
    other = helpers.compile_adam(
        helpers.tiny_toy_model("gan", latent_dim=2, seed=5)
    )
    presets_io.save_preset(
        other,
        toy_run / "run5" / "preset",
        {
            "dataset": "ring8",
            "command": "ganzoo train --seed=5",
            "train_config": {"seed": 5},
        },
    )
    card_path = toy_run / "run" / "preset" / "metadata.json"
    card = json.loads(card_path.read_text())
    card.update(
        command="ganzoo train --seed=0 --output_dir=runs/s9/x",
        train_config={"seed": 0},
    )
    card_path.write_text(json.dumps(card))
    results.promote(
        toy_run / "run",
        "toy-gan",
        "a toy",
        seed_runs=[toy_run / "run5"],
        selection="by hand",
    )
    card = json.loads(
        (toy_run / "presets" / "toy-gan" / "metadata.json").read_text()
    )
    # No scratch path in the recorded command.
    assert card["command"] == "ganzoo train --seed=0 --output_dir=runs/toy-gan"
    assert card["selection"] == "by hand"
    over = card["metrics_over_sample_seeds"]
    assert over["sample_seeds"] == [0, 1, 2]
    hq = over["mode_coverage.high_quality_fraction"]
    assert 0 <= hq["mean"] <= 1 and hq["std"] >= 0
    spread = card["recipe_spread"]
    assert spread["training_seeds"] == [0, 5]
    assert set(spread["mode_coverage.modes_covered"]) == {"mean", "std"}


def _other_run(folder, seed, command, previous=()):
    model = helpers.compile_adam(
        helpers.tiny_toy_model("gan", latent_dim=2, seed=seed)
    )
    presets_io.save_preset(
        model,
        folder / "preset",
        {
            "dataset": "ring8",
            "command": command,
            "train_config": {"seed": seed},
            "previous_phases": [{"command": c} for c in previous],
        },
    )


def test_spread_adds_the_recipe_spread_to_a_shipped_preset(toy_run):
    card_path = toy_run / "run" / "preset" / "metadata.json"
    card = json.loads(card_path.read_text())
    card.update(
        command="ganzoo train --lr=1 --seed=0 --output_dir=runs/x",
        train_config={"seed": 0},
    )
    card_path.write_text(json.dumps(card))
    results.promote(toy_run / "run", "toy-gan", "a toy")
    shipped = toy_run / "presets" / "toy-gan" / "metadata.json"
    before = json.loads(shipped.read_text())
    weights = (
        toy_run / "presets" / "toy-gan" / "model.weights.h5"
    ).read_bytes()
    _other_run(
        toy_run / "s1", 1, "ganzoo train --lr=1 --seed=1 --output_dir=s1"
    )
    _other_run(
        toy_run / "s2", 2, "ganzoo train --lr=1 --seed=2 --output_dir=s2"
    )

    results.spread("toy-gan", [toy_run / "s1", toy_run / "s2"], selection="x")

    after = json.loads(shipped.read_text())
    spread = after.pop("recipe_spread")
    assert after.pop("selection") == "x"
    assert after == before  # the shipped numbers stay as they were
    assert spread["training_seeds"] == [0, 1, 2]
    # Each seed's number is its mean over the card's sample seeds 0-2.
    key = "mode_coverage.high_quality_fraction"
    means = [before["metrics_over_sample_seeds"][key]["mean"]]
    for run in ("s1", "s2"):
        model, _ = presets_io.load_preset_dir(toy_run / run / "preset")
        means.append(
            np.mean(
                [
                    evaluation.evaluate_model(
                        model,
                        num_samples=results.EVAL["toy"]["num_samples"],
                        seed=s,
                        dataset="ring8",
                    )["metrics"]["mode_coverage"]["high_quality_fraction"]
                    for s in (0, 1, 2)
                ]
            )
        )
    assert spread[key]["mean"] == pytest.approx(np.mean(means))
    assert spread[key]["std"] == pytest.approx(np.std(means))
    assert (
        toy_run / "presets" / "toy-gan" / "model.weights.h5"
    ).read_bytes() == weights
    registry = json.loads((toy_run / "registry.json").read_text())["toy-gan"]
    assert registry["sha256"]["metadata.json"] == presets_io.sha256_of(shipped)


@pytest.mark.parametrize(
    "command, seed, message",
    [
        ("ganzoo train --lr=2 --seed=1", 1, "another recipe"),
        ("ganzoo train --lr=1 --seed=0", 0, "different seeds"),
    ],
)
def test_spread_refuses_runs_of_another_recipe(toy_run, command, seed, message):
    card_path = toy_run / "run" / "preset" / "metadata.json"
    card = json.loads(card_path.read_text())
    card.update(
        command="ganzoo train --lr=1 --seed=0", train_config={"seed": 0}
    )
    card_path.write_text(json.dumps(card))
    results.promote(toy_run / "run", "toy-gan", "a toy")
    shipped = toy_run / "presets" / "toy-gan" / "metadata.json"
    before = shipped.read_text()
    _other_run(toy_run / "other", seed, command)
    with pytest.raises(results.app.UsageError, match=message):
        results.spread("toy-gan", [toy_run / "other"])
    assert shipped.read_text() == before
    with pytest.raises(results.app.UsageError, match="no finished run"):
        results.spread("toy-gan", [toy_run / "missing"])
    with pytest.raises(results.app.UsageError, match="No shipped preset"):
        results.spread("toy-none", [toy_run / "other"])


_PHASED = [
    "ganzoo train --a=1 --seed=0 --output_dir=runs/p1",
    "ganzoo train --b=2 --init_from=runs/p1/preset --seed=0 --output_dir=runs/x",
]


@pytest.mark.parametrize(
    "commands, message",
    [
        # Flags in another order, other folders, a snapshot flag: the same.
        (
            [
                "ganzoo train --seed=1 --a=1 --output_dir=runs/p1-s1",
                (
                    "ganzoo train --seed 1 --b=2.0 --init_from=runs/p1-s1/preset "
                    "--output_dir=runs/x-s1 --snapshot_every=5 --nojit_compile"
                ),
            ],
            None,
        ),
        (
            [
                "ganzoo train --a=1 --seed=0 --output_dir=runs/p1",
                "ganzoo train --b=2 --init_from=runs/p1/preset --seed=1",
            ],
            r"phase 1 ran with --seed=0, not its own seed 1",
        ),
        (["ganzoo train --b=2 --seed=1"], r"ran 1 phase\(s\), x's recipe 2"),
        (
            [
                "ganzoo train --a=1 --seed=1",
                "ganzoo train --b=3 --seed=1 --c=4",
            ],
            r"phase 2 has --b=3 \(the card: 2\), --c=4 \(the card: None\)",
        ),
    ],
)
def test_a_seed_run_must_run_the_cards_recipe_with_its_own_seed(
    tmp_path, commands, message
):
    card = dict(
        name="x",
        command=_PHASED[-1],
        previous_phases=[{"command": c} for c in _PHASED[:-1]],
    )
    _other_run(tmp_path, 1, commands[-1], previous=commands[:-1])
    if message is None:
        _, other = results._seed_run(card, tmp_path)
        assert other["train_config"]["seed"] == 1
    else:
        with pytest.raises(results.app.UsageError, match=message):
            results._seed_run(card, tmp_path)


# --------------------------------------------------------------- validate
def test_validate_records_every_run_on_validation_seeds(toy_run, monkeypatch):
    record = toy_run / "validation.json"
    monkeypatch.setattr(results, "VALIDATION_FILE", record)
    found = results.validate([toy_run / "run"])
    entry = json.loads(record.read_text())["run"]
    assert found == {"run": entry}
    assert entry["sample_seeds"] == [100, 101, 102]
    assert entry["command"] == "ganzoo train" and entry["reference"] is None
    hq = entry["metrics"]["mode_coverage.high_quality_fraction"]
    assert 0 <= hq["mean"] <= 1 and hq["std"] >= 0
    # The same run again replaces its record; another command under the
    # same folder name is refused, and the record is left as it was.
    results.validate([toy_run / "run"])
    card_path = toy_run / "run" / "preset" / "metadata.json"
    card = json.loads(card_path.read_text())
    card_path.write_text(json.dumps(dict(card, command="ganzoo train -x")))
    before = record.read_text()
    with pytest.raises(results.app.UsageError, match="another command"):
        results.validate([toy_run / "run"])
    assert record.read_text() == before


def test_validate_refuses_the_test_set_and_unfinished_runs(
    toy_run, monkeypatch
):
    monkeypatch.setattr(results, "VALIDATION_FILE", toy_run / "validation.json")
    for runs, reference, message in [
        ([toy_run / "nowhere"], None, "holds no finished run"),
        ([toy_run / "run"], "train[:100]", "toy is validated on fresh"),
    ]:
        with pytest.raises(results.app.UsageError, match=message):
            results.validate(runs, reference)
    assert not (toy_run / "validation.json").exists()


@pytest.mark.parametrize(
    "card, reference, message",
    [
        ({"take": 50000}, "train[50000:]", None),
        ({"take": 50000}, "train[49000:]", "holds 1,000 of the images"),
        ({"take": 50000}, "train[ +49000 : ]", "holds 1,000 of the images"),
        ({"take": None}, "train[50000:]", "holds 10,000 of the images"),
        ({"limit": 500}, "train[:10000]", None),  # the last 50 per digit
        ({"limit": 500}, "train", "holds 500 of the images"),
        ({"take": 50000}, "train[a:]", "slice of example indices"),
        # Test splits, however spelt, and other datasets' images.
        ({"take": 50000}, "test[:5000]", "never a test split"),
        ({"take": 50000}, "mnist", "never a test split"),
        ({"take": 50000}, "tfds:mnist", "never a test split"),
        ({"take": 50000}, "fashion_mnist", "never a test split"),
        ({"dataset": "tfds:mnist"}, "validation[:100]", None),
        ({"dataset": "tfds:mnist"}, "train[:100]", "validation split"),
        ({"dataset": "ring8"}, "train[:100]", "fresh samples"),
        ({"dataset": "ring8"}, None, None),
    ],
)
def test_validation_images_are_held_out(data_dir, card, reference, message):
    card = {"dataset": "mnist", **card}
    run = pathlib.Path("runs/x")
    if message is None:
        results._check_validation_reference(run, card, reference, data_dir)
        return
    with pytest.raises((results.app.UsageError, ValueError), match=message):
        results._check_validation_reference(run, card, reference, data_dir)


def test_a_folder_run_is_validated_on_pictures_it_never_saw(tmp_path):
    from PIL import Image

    from ganzoo import training

    def folder(name, shades):
        path = tmp_path / name
        path.mkdir()
        for shade in shades:
            Image.new("L", (8, 8), shade).save(path / f"{shade}.png")
        return path

    trained = folder("mine", [10, 20, 30])
    run = tmp_path / "run"
    (run / "preset").mkdir(parents=True)
    (run / "preset" / training.TRAIN_IMAGES_FILE).write_text(
        json.dumps(
            [
                {"file": p.name, "sha256": presets_io.sha256_of(p)}
                for p in sorted(trained.iterdir())
            ]
        )
    )
    card = {"dataset": str(trained)}
    check = results._check_validation_reference
    for reference, shared in [(trained, 3), (folder("some", [30, 40]), 1)]:
        with pytest.raises(results.app.UsageError, match=f"holds {shared} of"):
            check(run, card, str(reference), None)
    check(run, card, str(folder("new", [50, 60])), None)
    with pytest.raises(results.app.UsageError, match="another folder"):
        check(run, card, "train[:100]", None)


def test_validate_measures_no_test_split_number(toy_run, monkeypatch):
    # A folder named like a Parzen preset used to get the Parzen number,
    # which reads the test split; two runs of one name would share a key.
    monkeypatch.setattr(results, "VALIDATION_FILE", toy_run / "v.json")
    import shutil

    shutil.copytree(toy_run / "run", toy_run / "gan-mnist")
    found = results.validate([toy_run / "gan-mnist"])
    assert set(found["gan-mnist"]["metrics"]) >= {"mode_coverage.modes_covered"}
    assert not any("parzen" in k for k in found["gan-mnist"]["metrics"])
    (toy_run / "b").mkdir()
    shutil.copytree(toy_run / "run", toy_run / "b" / "run")
    with pytest.raises(results.app.UsageError, match="Two runs named run"):
        results.validate([toy_run / "run", toy_run / "b" / "run"])


def test_validate_never_reads_the_test_split(tmp_path, monkeypatch):
    model = helpers.compile_adam(helpers.tiny_image_model("gan"))
    presets_io.save_preset(
        model,
        tmp_path / "run" / "preset",
        {"dataset": "mnist", "command": "ganzoo train", "take": 50000},
    )
    monkeypatch.setattr(results, "VALIDATION_FILE", tmp_path / "v.json")
    for reference in (None, "test", "test[:5000]", "mnist"):
        with pytest.raises(results.app.UsageError, match="test split"):
            results.validate([tmp_path / "run"], reference)
    assert not (tmp_path / "v.json").exists()


def test_a_run_measured_on_two_slices_keeps_both_records(
    tmp_path, monkeypatch, data_dir
):
    # One slice chooses a run's epoch, a disjoint one compares recipes.
    model = helpers.compile_adam(helpers.tiny_image_model("gan"))
    presets_io.save_preset(
        model,
        tmp_path / "run" / "preset",
        {"dataset": "mnist", "command": "ganzoo train", "take": 50000},
    )
    record = tmp_path / "v.json"
    # A record of the format before keys named the slice.
    legacy = {"command": "ganzoo train", "reference": "train[58000:]"}
    record.write_text(json.dumps({"run": legacy}))
    monkeypatch.setattr(results, "VALIDATION_FILE", record)
    monkeypatch.setattr(results, "VALIDATION_SEEDS", (100,))
    monkeypatch.setattr(
        results,
        "EVAL",
        dict(results.EVAL, image=dict(results.EVAL["image"], num_samples=200)),
    )
    for reference in ("train[50000:51000]", "train[51000:52000]"):
        results.validate(
            [tmp_path / "run"], reference, str(data_dir), 0, (100,)
        )
    kept = json.loads(record.read_text())
    assert sorted(kept) == [
        "run on train[50000:51000]",
        "run on train[51000:52000]",
        "run on train[58000:]",
    ]
    assert {r["run"] for r in kept.values()} == {"run"}
    first, second = (
        kept[f"run on train[{a}:{b}]"]["metrics"]["frechet_distance"]["mean"]
        for a, b in ((50000, 51000), (51000, 52000))
    )
    assert first != second


def test_validate_parzen_measures_the_reference_and_best_takes_the_highest(
    tmp_path, monkeypatch, data_dir
):
    """`validate --parzen` adds the Parzen number of the held-out slice
    (never the test split) and `best --metric=parzen.mean` keeps the epoch
    with the highest; a toy run has no Parzen number."""
    monkeypatch.setattr(results, "VALIDATION_FILE", tmp_path / "v.json")
    monkeypatch.setattr(
        results,
        "EVAL",
        dict(results.EVAL, image=dict(results.EVAL["image"], num_samples=100)),
    )
    run = tmp_path / "run"
    for where, seed in ((run, 0), (run / "snapshots" / "epoch_0001", 1)):
        model = helpers.compile_adam(helpers.tiny_image_model("gan", seed=seed))
        presets_io.save_preset(
            model,
            where / "preset",
            {"dataset": "mnist", "command": "ganzoo train", "take": 50000},
        )
    reference = "train[50000:52000]"
    found = results.validate(
        [run / "snapshots" / "epoch_0001", run],
        reference,
        str(data_dir),
        0,
        (100,),
        parzen=True,
    )
    parzen = {
        record["run"]: record["metrics"]["parzen.mean"]["mean"]
        for record in found.values()
    }
    assert set(parzen) == {"run", "run/epoch_0001"}
    assert all(np.isfinite(v) for v in parzen.values())
    best = results.best_epoch(run, reference, "parzen.mean")
    assert found[best]["run"] == max(parzen, key=parzen.get)
    toy = tmp_path / "toy"
    presets_io.save_preset(
        helpers.compile_adam(helpers.tiny_toy_model("gan", latent_dim=2)),
        toy / "preset",
        {"dataset": "ring8", "command": "ganzoo train"},
    )
    with pytest.raises(results.app.UsageError, match="--parzen: .* ring8"):
        results.validate([toy], parzen=True)
    # Too few held-out images for it: refused before anything is measured.
    before = (tmp_path / "v.json").read_text()
    with pytest.raises(results.app.UsageError, match="holds 500 images"):
        results.validate([run], "train[59500:]", str(data_dir), parzen=True)
    assert (tmp_path / "v.json").read_text() == before
    with pytest.raises(results.app.UsageError, match="validate --parzen"):
        results.best_epoch(run, reference, "parzen.stderr_typo")


def test_results_md_and_the_readme_table_are_what_write_makes_of_the_cards():
    """RESULTS.md and README's presets table are generated from the model
    cards (and studies.md): an edited card or study without `python -m
    tools.results write` leaves them stale."""
    cards = results._cards()
    assert set(cards) == {
        p.name for p in results.PRESETS_DIR.iterdir() if presets_io.is_preset(p)
    }
    assert results.RESULTS_FILE.read_text() == results.results_text(cards), (
        "zoo_weights/RESULTS.md is stale: run python -m tools.results write"
    )
    readme = results.README.read_text()
    assert f"\n{results.presets_table(cards)}\n" in readme, (
        "README.md's presets table is stale: run python -m tools.results write"
    )
