"""`tools/train_presets.sh`, run with a stand-in `ganzoo` that records the
commands it is given: which runs it trains, from which earlier phase."""

import os
import pathlib
import shutil
import subprocess

import pytest

from tools import results

REPO = pathlib.Path(__file__).resolve().parents[1]


def _commands(tmp_path, names, seeds):
    """The `ganzoo` commands `SEEDS=seeds train_presets.sh names` runs, in a
    copy of the script whose runs/ is under `tmp_path`."""
    (tmp_path / "tools").mkdir(exist_ok=True)
    shutil.copy(REPO / "tools" / "train_presets.sh", tmp_path / "tools")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = tmp_path / "commands.txt"
    log.write_text("")
    fake = bin_dir / "ganzoo"
    fake.write_text(f'#!/bin/sh\necho "$*" >> {log}\n')
    fake.chmod(0o755)
    env = dict(
        os.environ,
        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        SEEDS=seeds,
        GANZOO_DATA_DIR=str(tmp_path),
    )
    subprocess.run(
        ["bash", str(tmp_path / "tools" / "train_presets.sh"), *names],
        env=env,
        check=True,
        capture_output=True,
    )
    return log.read_text().splitlines()


def test_each_seed_of_a_phased_recipe_starts_from_its_own_earlier_phase(
    tmp_path,
):
    phases = ["lsgan-mnist-phase1", "lsgan-mnist-phase2", "lsgan-mnist"]
    commands = _commands(tmp_path, phases, "1,2")
    assert len(commands) == 6
    by_run = {c.split("--output_dir=")[1]: c for c in commands}
    assert sorted(by_run) == sorted(
        f"runs/{name}-s{seed}" for name in phases for seed in (1, 2)
    )
    for seed in (1, 2):
        assert f"--seed={seed} " in by_run[f"runs/lsgan-mnist-s{seed}"]
        assert "--init_from" not in by_run[f"runs/lsgan-mnist-phase1-s{seed}"]
        assert (
            f"--init_from=runs/lsgan-mnist-phase1-s{seed}/preset"
            in by_run[f"runs/lsgan-mnist-phase2-s{seed}"]
        )
        assert (
            f"--init_from=runs/lsgan-mnist-phase2-s{seed}/preset"
            in by_run[f"runs/lsgan-mnist-s{seed}"]
        )
    # Seed 0, the shipped one, keeps the recipe's own folders.
    (shipped,) = _commands(tmp_path, ["lsgan-mnist"], "0")
    assert "--init_from=runs/lsgan-mnist-phase2/preset" in shipped
    assert shipped.endswith(
        "--seed=0 --verbose=2 --output_dir=runs/lsgan-mnist"
    )


def test_a_finished_run_is_not_trained_again(tmp_path):
    done = tmp_path / "runs" / "lsgan-ring8-s1" / "preset"
    done.mkdir(parents=True)
    (done / "metadata.json").write_text("{}")
    commands = _commands(tmp_path, ["lsgan-ring8"], "0,1")
    assert [c.split("--output_dir=")[1] for c in commands] == [
        "runs/lsgan-ring8"
    ]


def test_a_candidate_built_on_a_recipe_runs_that_recipe(tmp_path):
    (base,) = _commands(tmp_path, ["deligan-mnist"], "0")
    (snap,) = _commands(tmp_path, ["deligan-mnist-cand-snap10"], "0")
    assert (
        snap.replace(" --snapshot_every=10", "").replace("-cand-snap10", "")
        == base
    )


def _shipped_phases():
    """`(name, [command, ...])` of each shipped GAN preset: the commands its
    card records, earliest phase first."""
    for name, card in results._cards().items():
        if "train_config" in card:
            phases = card.get("previous_phases", []) + [card]
            yield name, [p["command"] for p in phases]


@pytest.mark.parametrize(
    "name, recorded", list(_shipped_phases()), ids=lambda v: str(v)[:30]
)
def test_the_script_retrains_each_shipped_preset_as_its_card_records(
    tmp_path, name, recorded
):
    """The script's recipe for a shipped preset, followed back through its
    --init_from phases, runs the commands the card records, phase by phase
    (but for seed, folders and what a resumed run may change)."""
    run = {c.split("--output_dir=")[1]: c for c in _commands(tmp_path, [], "0")}
    chain, folder = [], f"runs/{name}"
    while folder:
        chain.insert(0, run[folder])
        start = results._command_flags(chain[0]).get("init_from", "")
        folder = (
            start.removesuffix("/preset") if start.startswith("runs/") else ""
        )
    assert len(chain) == len(recorded)
    for i, (script, card) in enumerate(zip(chain, recorded), 1):
        differ = results._recipe_differences(
            results._command_flags(script), results._command_flags(card)
        )
        assert not differ, f"{name} phase {i}: {differ}"
