"""Maintainer tool: promote a training run to a preset, write RESULTS.md,
the README tables and the registry. Run from the repository root:

    python -m tools.results promote runs/deligan-mnist deligan-mnist \\
        --description="DeLiGAN on 500 MNIST digits (50 per class)" \\
        [--recalibrate_bn=100] [--ship=generator]
    python -m tools.results measure gan-mnist  # a shipped preset, re-measured
    python -m tools.results spread lsgan-mnist \\
        --seed_runs=runs/lsgan-mnist-s1,runs/lsgan-mnist-s2  # recipe spread
    python -m tools.results validate runs/v1 runs/v2 \\
        --reference="train[50000:]"      # choosing among recipes
    python -m tools.results validate runs/v1/snapshots/* runs/v1 \\
        --reference="train[50000:55000]"  # ... or epochs (--snapshot_every)
    python -m tools.results validate runs/gan-mnist-s1 \\
        --reference="train[50000:]" --parzen  # + the GAN paper's number
    python -m tools.results best runs/v1 --reference="train[50000:55000]"
    python -m tools.results write        # RESULTS.md, README tables
    python -m tools.results registry     # ganzoo/registry.json

`promote` re-saves the run's `preset/` into `ganzoo/presets/NAME/` (what the
wheel ships), measures the preset's metrics as `ganzoo evaluate` does (the
exact command is stored next to the numbers in `metadata.json`), and
regenerates `ganzoo/registry.json`. `--ship=generator` ships only the
generator's weights (`generator.weights.h5`, enough to sample) and puts the
full `model.weights.h5` in `zoo_weights/NAME/`, the download-only files of
the version's tag. `write` only reads the model cards: RESULTS.md is
regenerated from them by one command and never edited by hand.

`validate` is how recipes are chosen without the test set: it measures
finished runs on validation data (fresh samples of sample seeds 100-102;
for images, against held-out training images given by `--reference`) and
records every run tried in `benchmarks/results/validation.json`, so the
choice a card's `selection` describes can be checked and survives the run
folders.
"""

import dataclasses
import json
import pathlib
import re
import shutil
import sys
import typing

import numpy as np
from absl import app, flags

from ganzoo import _atomic, datasets, evaluation, presets_io
from ganzoo import metrics as metrics_lib
from ganzoo.callbacks import SNAPSHOTS_DIR
from ganzoo.training import RESUMABLE_CHANGES, TrainConfig

REPO = pathlib.Path(__file__).resolve().parents[1]
PRESETS_DIR = REPO / "ganzoo" / "presets"
REGISTRY_FILE = REPO / "ganzoo" / "registry.json"
# Download-only preset files (published under the version's tag) and the
# zoo's write-ups.
ZOO_WEIGHTS = REPO / "zoo_weights"

FLAGS = flags.FLAGS

# What each kind of preset is measured with (seed 0 samples).
EVAL = {
    "toy": dict(metrics=["mode_coverage"], num_samples=2500),
    "image": dict(
        metrics=[
            "classifier_score",
            "frechet_distance",
            "frechet_distance_penultimate",
            "modified_inception_score",
            "class_histogram",
        ],
        num_samples=10000,
    ),
}
PARZEN_PRESETS = ("gan-mnist",)
# The papers' own numbers, for the table.
PAPER = {
    "gan-mnist": "Parzen LL 225 +- 2 (GAN paper, Table 1)",
    "gan-ring8": "6.3/8 modes, 98.2% HQ (GAN, as reported by PacGAN)",
    "gan-grid25": (
        "17.3/25 modes, 94.8% HQ (GAN, as reported by PacGAN; PacGAN4 "
        "24.8/25, 93.6%)"
    ),
}
RESULTS_FILE = ZOO_WEIGHTS / "RESULTS.md"
README = REPO / "README.md"
SAMPLES_DIR = REPO / "docs" / "samples"
NEAREST_DIR = REPO / "docs" / "nearest"
SHIP = ("all", "generator")
SAMPLE_SEEDS = (0, 1, 2)
# Validation: other sample seeds than the reported numbers', and a record
# of every run measured on them.
VALIDATION_SEEDS = (100, 101, 102)
VALIDATION_FILE = REPO / "benchmarks" / "results" / "validation.json"
# What `validate` prints of each run.
_SHOWN = {
    "parzen.mean": "Parzen",
    "classifier_score": "score",
    "frechet_distance": "FD",
    "class_histogram.min": "min class",
    "mode_coverage.modes_covered": "modes",
    "mode_coverage.high_quality_fraction": "HQ",
    "kid": "KID",
    "fid": "FID",
}


def promote(
    run_dir,
    name,
    description,
    data_dir=None,
    recalibrate_bn=0,
    ship="all",
    seed_runs=(),
    sample_seeds=SAMPLE_SEEDS,
    selection=None,
):
    """Re-saves a run's preset as ganzoo/presets/NAME with measured metrics.

    The card's `metrics` are those of `sample_seeds[0]`'s samples;
    `metrics_over_sample_seeds` gives each number's mean and std over all
    `sample_seeds`. `seed_runs`: runs of the same recipe with other training
    seeds; `recipe_spread` then gives each number's mean and std over the
    training seeds (this run's first), each the mean over the sample seeds.
    `selection`: how the recipe and checkpoint were chosen, for the card.
    `recalibrate_bn` > 0 first re-estimates the generator's batch-norm
    statistics from that many batches of 100
    (`GAN.recalibrate_batch_norm`); the card records it. `ship="generator"`
    then slims the preset (see `slim`). The recorded command's
    `--output_dir` becomes `runs/NAME`, as `tools/train_presets.sh` runs it.
    """
    if ship not in SHIP:
        raise ValueError(f"ship={ship!r}: choose from {', '.join(SHIP)}.")
    src = pathlib.Path(run_dir) / "preset"
    target = PRESETS_DIR / name
    presets_io.check_preset_target(target)  # before the measuring
    card = json.loads((src / presets_io.METADATA_FILE).read_text())
    spec = _spec(name, card)
    # Re-saved, not copied: the preset format of today's presets_io.
    model, _ = presets_io.load_preset_dir(src)
    card.pop("files", None)
    per_seed = _measure(
        model,
        card,
        name,
        spec,
        data_dir,
        recalibrate_bn,
        run_dir,
        sample_seeds,
    )
    result = per_seed[0]
    card.update(
        name=name,
        description=description,
        command=re.sub(
            r"--output_dir=\S+", f"--output_dir=runs/{name}", card["command"]
        ),
    )
    if selection:
        card["selection"] = selection
    if seed_runs:
        card["recipe_spread"] = _recipe_spread(
            card,
            _mean_scalars(per_seed),
            seed_runs,
            spec,
            data_dir,
            recalibrate_bn,
            sample_seeds,
        )
    # Written beside `target` and swapped in whole (save_preset is atomic).
    presets_io.save_preset(model, target, card)
    if ship == "generator":
        slim(name)
    write_registry()
    print(evaluation.format_table(result))


def spread(name, seed_runs, data_dir=None, selection=None):
    """Adds to shipped preset NAME's card the spread of its recipe over
    training seeds (`recipe_spread`), from `seed_runs`, finished runs of the
    same recipe with other seeds (`SEEDS=1,2 bash tools/train_presets.sh`),
    each measured as the card's own numbers were (its sample seeds, its
    batch-norm re-estimation); the preset's weights and metrics stay as
    they are. `selection` replaces the card's."""
    folder = PRESETS_DIR / name
    if not presets_io.is_preset(folder):
        shipped = sorted(
            p.name for p in PRESETS_DIR.iterdir() if presets_io.is_preset(p)
        )
        raise app.UsageError(
            f"No shipped preset {name!r}; choose from {', '.join(shipped)}."
        )
    card_file = folder / presets_io.METADATA_FILE
    card = json.loads(card_file.read_text())
    over = card["metrics_over_sample_seeds"]
    shipped = {k: v["mean"] for k, v in over.items() if k != "sample_seeds"}
    card["recipe_spread"] = _recipe_spread(
        card,
        shipped,
        seed_runs,
        _spec(name, card),
        data_dir,
        _recalibrated_batches(card),
        over["sample_seeds"],
    )
    if selection:
        card["selection"] = selection
    _atomic.write_text(card_file, json.dumps(card, indent=1) + "\n")
    write_registry()
    print(_spread_summary(card).lstrip("; "))


def _recipe_spread(
    card, shipped, seed_runs, spec, data_dir, recalibrate_bn, sample_seeds
):
    """A card's `recipe_spread`: each number's mean and std over training
    seeds, `shipped` (the card's run, its means over `sample_seeds`) and
    `seed_runs`, each checked (`_seed_run`; seeds all different) before any
    is measured."""
    others = [_seed_run(card, run) for run in map(pathlib.Path, seed_runs)]
    seeds = [card["train_config"]["seed"]]
    seeds += [other["train_config"]["seed"] for _, other in others]
    if len(set(seeds)) < len(seeds):
        raise app.UsageError(
            f"Training seeds {seeds}: a recipe's spread needs runs of "
            "different seeds."
        )
    runs = [shipped]
    for run, (model, _) in zip(seed_runs, others):
        runs.append(
            _mean_scalars(
                _evaluate_seeds(
                    model,
                    spec,
                    card["dataset"],
                    data_dir,
                    recalibrate_bn,
                    run,
                    sample_seeds,
                )
            )
        )
    return dict(training_seeds=seeds, **_spread(runs))


# Flags of a recorded command that do not change the recipe: where the run
# went, how loud, and what `training.RESUMABLE_CHANGES` allows.
_NOT_RECIPE = ("seed", "output_dir", "init_from", "verbose", *RESUMABLE_CHANGES)


def _command_flags(command):
    """`{flag: value}` of a recorded `ganzoo train` command, as `TrainConfig`
    would read it: `--flag=value` or `--flag value`, absl's `--noflag` for
    a False boolean, numbers as floats.

    Example:
    >>> _command_flags("ganzoo train --d_lr=1e-4 --seed 1 --nojit_compile")
    {'d_lr': 0.0001, 'seed': 1.0, 'jit_compile': 'false'}
    """
    booleans = {
        f.name
        for f in dataclasses.fields(TrainConfig)
        if f.type is bool or bool in typing.get_args(f.type)
    }
    found = {}
    for flag, value in re.findall(r"--(\w+)(?:[= ](?!-)(\S+))?", command):
        if not value and flag.startswith("no") and flag[2:] in booleans:
            flag, value = flag[2:], "false"
        elif not value and flag in booleans:
            value = "true"
        try:
            found[flag] = float(value)
        except ValueError:
            found[flag] = value.lower() if flag in booleans else value
    return found


def _recipe_differences(a, b):
    """The flags (sorted) on which two phases' `_command_flags` differ as
    recipes: all but `_NOT_RECIPE`.

    Example:
    >>> _recipe_differences(_command_flags("--epochs=3 --seed=0"),
    ...                     _command_flags("--seed=1 --epochs 4"))
    ['epochs']
    """
    return sorted(
        k
        for k in (a.keys() | b.keys()) - set(_NOT_RECIPE)
        if a.get(k) != b.get(k)
    )


def _seed_run(card, run):
    """`(model, card)` of the finished run `run`; UsageError unless it ran
    `card`'s recipe with its own seed: as many phases, each with the same
    flags (in any order) but for `_NOT_RECIPE`, and each phase run with
    `run`'s seed (an earlier phase of another seed would make it another
    recipe)."""
    if not presets_io.is_preset(run / "preset"):
        raise app.UsageError(
            f"{run} holds no finished run (no {run / 'preset'})."
        )
    model, other = presets_io.load_preset_dir(run / "preset")
    seed = other["train_config"]["seed"]

    def phases(c):
        return [
            _command_flags(phase["command"])
            for phase in c.get("previous_phases", []) + [c]
        ]

    mine, theirs = phases(card), phases(other)
    name = card.get("name", "the card")
    if len(mine) != len(theirs):
        raise app.UsageError(
            f"{run} ran {len(theirs)} phase(s), {name}'s recipe {len(mine)}."
        )
    for i, (a, b) in enumerate(zip(mine, theirs), 1):
        if b.get("seed") != seed:
            raise app.UsageError(
                f"{run}'s phase {i} ran with --seed={_flag(b.get('seed'))}, not "
                f"its own seed {seed}: train every phase with it "
                f"(SEEDS={seed} bash tools/train_presets.sh PHASES...)."
            )
        differ = _recipe_differences(a, b)
        if differ:
            raise app.UsageError(
                f"{run} ran another recipe than {name}: phase {i} has "
                + ", ".join(
                    f"--{k}={_flag(b.get(k))} (the card: {_flag(a.get(k))})"
                    for k in differ
                )
                + "."
            )
    return model, other


def _flag(value):
    """A value of `_command_flags` as a command would write it."""
    return f"{value:g}" if isinstance(value, float) else value


def _recalibrated_batches(card):
    """How many batches a card's batch-norm statistics were re-estimated
    from (its `post_training`, as `evaluation.evaluate_model` writes it; 0:
    none).

    Example:
    >>> _recalibrated_batches({"post_training": "recalibrate_batch_norm("
    ...     "num_batches=100, batch_size=100, seed=0)"})
    100
    """
    text = card.get("post_training")
    if text is None:
        return 0
    found = re.fullmatch(
        r"recalibrate_batch_norm\(num_batches=(\d+), batch_size=100, "
        r"seed=0\)",
        text,
    )
    if not found:
        raise app.UsageError(
            f"post_training {text!r}: not the re-estimation this tool can "
            "repeat (recalibrate_batch_norm(num_batches=N, batch_size=100, "
            "seed=0))."
        )
    return int(found.group(1))


def _spec(name, card):
    """What preset `name` (its card `card`) is measured with: the metrics
    of its kind of data (`_validation_spec`), and for the GAN paper's
    presets its Parzen number."""
    spec = dict(_validation_spec(card))
    if name in PARZEN_PRESETS:
        spec["metrics"] = spec["metrics"] + ["parzen"]
    return spec


def _measure(
    model, card, name, spec, data_dir, recalibrate_bn, source, sample_seeds
):
    """Evaluates `model` on each of `sample_seeds` and writes the card's
    `metrics` (the first seed's), `metrics_over_sample_seeds` and
    `metrics_command`; returns the per-seed results."""
    per_seed = _evaluate_seeds(
        model,
        spec,
        card["dataset"],
        data_dir,
        recalibrate_bn,
        source,
        sample_seeds,
    )
    if "post_training" in per_seed[0]:
        card["post_training"] = per_seed[0]["post_training"]
    if datasets.data_kind(card["dataset"]) == "idx":
        card["nearest_neighbours"] = _nearest(model, card, name, data_dir)
    seeds_flag = ",".join(map(str, sample_seeds))
    # None: evaluate's own default for pictures (KID, FID).
    metrics_flag = spec["metrics"] and f"--metrics={','.join(spec['metrics'])} "
    card.update(
        metrics=per_seed[0]["metrics"],
        metrics_over_sample_seeds=dict(
            sample_seeds=list(sample_seeds),
            **_spread([_scalars(r["metrics"]) for r in per_seed]),
        ),
        metrics_command=(
            f"ganzoo evaluate {name} {metrics_flag or ''}"
            f"--num_samples={spec['num_samples']} --seed=S for S in "
            f"{seeds_flag}"
        ),
    )
    return per_seed


def _nearest(model, card, name, data_dir, num=1000, shown=12):
    """Whether preset `name` copies its training images: the mean L2
    distance (pixels in [0, 1]) from `num` samples (seed 0) to their
    nearest training image, beside that of `num` held-out test images; and
    `docs/nearest/NAME.png`, `shown` samples (top) over their nearest
    training images (bottom)."""
    from ganzoo import images

    def arrays(split, **subset):
        x = datasets.image_arrays(
            card["dataset"], split, data_dir=data_dir, **subset
        )
        return x.astype("float32") / 255.0

    train = arrays("train", limit=card.get("limit"), take=card.get("take"))
    test = arrays("test")
    held_out = test[np.random.default_rng(0).permutation(len(test))[:num]]
    samples = model.sample(num, seed=0)
    found, to_samples = metrics_lib.nearest_neighbours(samples, train)
    _, to_held_out = metrics_lib.nearest_neighbours(held_out, train)
    pair = np.concatenate([samples[:shown], train[found[:shown]]])
    NEAREST_DIR.mkdir(parents=True, exist_ok=True)
    figure = NEAREST_DIR / f"{name}.png"
    images.save_png(images.image_grid(pair, columns=shown), figure)
    return dict(
        samples=num,
        training_images=len(train),
        held_out="test",
        samples_mean=float(to_samples.mean()),
        held_out_mean=float(to_held_out.mean()),
        samples_min=float(to_samples.min()),
        figure=figure.relative_to(REPO).as_posix(),
    )


def measure(name, data_dir=None, sample_seeds=SAMPLE_SEEDS):
    """Re-measures the shipped preset NAME over `sample_seeds` (its weights
    untouched) and rewrites its card's metrics and the registry: for presets
    promoted before cards gave the spread over sample seeds."""
    folder = PRESETS_DIR / name
    model, card = presets_io.load_preset_dir(folder)
    card.pop("weights_loaded", None)
    per_seed = _measure(
        model,
        card,
        name,
        _spec(name, card),
        data_dir,
        0,
        folder,
        sample_seeds,
    )
    _atomic.write_text(
        folder / presets_io.METADATA_FILE, json.dumps(card, indent=1) + "\n"
    )
    write_registry()
    print(evaluation.format_table(per_seed[0]))


def validate(
    run_dirs,
    reference=None,
    data_dir=None,
    recalibrate_bn=0,
    sample_seeds=VALIDATION_SEEDS,
    parzen=False,
):
    """Measures finished runs on validation data, to choose among recipes
    without the test set: each run's `preset/` over `sample_seeds`, with
    `promote`'s metrics but no nearest neighbours (they read the test
    split): fresh samples for a 2-D toy; for images, distances to
    `reference`, images the run never saw
    (`_check_validation_reference`: e.g. "train[50000:]" for a
    `--take=50000` run, "train[:10000]" for `--limit=500`; never a test
    split), and with `parzen` the Parzen log-likelihood of `reference`
    (`metrics.mnist_parzen`: sigma searched on its first 1,000 images, the
    others scored; the GAN paper's number, as gan-mnist's card has it on
    test). Every run is checked before any is measured; each is recorded
    in `VALIDATION_FILE` as soon as it is measured, under
    `_record_key(_run_key(run), reference)` (a run measured on two slices
    has two records: one slice to choose its epoch, another to compare
    recipes),
    with its mean and std over the sample seeds and its command, and
    printed one line each; returns the new records."""
    found = _validation_runs(run_dirs, reference, data_dir)
    if parzen:
        for run, card in found:
            if datasets.data_kind(card["dataset"]) != "idx":
                raise app.UsageError(
                    f"--parzen: {run} trained on {card['dataset']}; the "
                    "Parzen number is for MNIST-family images."
                )
            held_out = datasets.reference_arrays(
                reference, card["dataset"], 28, 1, data_dir=data_dir
            )
            if len(held_out) <= metrics_lib.PARZEN_NUM_VALID:
                raise app.UsageError(
                    f"--parzen: --reference={reference} holds "
                    f"{len(held_out)} images; the Parzen number needs more "
                    f"than {metrics_lib.PARZEN_NUM_VALID:,} (they choose sigma)."
                )
    new = {}
    for run, card in found:
        model, _ = presets_io.load_preset_dir(run / "preset")
        spec = dict(_validation_spec(card))
        if parzen:
            spec["metrics"] = spec["metrics"] + ["parzen"]
        per_seed = _evaluate_seeds(
            model,
            spec,
            card["dataset"],
            data_dir,
            recalibrate_bn,
            run,
            sample_seeds,
            reference,
        )
        spread = _spread([_scalars(r["metrics"]) for r in per_seed])
        key = _record_key(_run_key(run), reference)
        new[key] = dict(
            run=_run_key(run),
            command=card["command"],
            reference=reference,
            recalibrate_bn=recalibrate_bn,
            sample_seeds=list(sample_seeds),
            num_samples=spec["num_samples"],
            metrics=spread,
        )
        # Recorded as soon as measured, into the file as it is now (another
        # validate may have added runs meanwhile).
        records = _validation_records()
        records[key] = new[key]
        VALIDATION_FILE.parent.mkdir(parents=True, exist_ok=True)
        _atomic.write_text(
            VALIDATION_FILE,
            json.dumps(records, indent=1, sort_keys=True) + "\n",
        )
        print(f"{key}: {_shown(spread)}", flush=True)
    return new


def _validation_runs(run_dirs, reference, data_dir):
    """`[(run folder, card)]` of `run_dirs`, each checked (finished, a
    reference it never saw, a name of its own that `VALIDATION_FILE` does
    not hold for another command) before any is measured."""
    records = _validation_records()
    found = []
    for run in map(pathlib.Path, run_dirs):
        key = _run_key(run)
        if key in [_run_key(other) for other, _ in found]:
            raise app.UsageError(
                f"Two runs named {key}: {VALIDATION_FILE.name} keys "
                "runs by folder name (RUN/epoch_NNNN for a snapshot); give "
                "them different names."
            )
        if not presets_io.is_preset(run / "preset"):
            raise app.UsageError(
                f"{run} holds no finished run (no {run / 'preset'})."
            )
        card = json.loads(
            (run / "preset" / presets_io.METADATA_FILE).read_text()
        )
        _check_validation_reference(run, card, reference, data_dir)
        if any(
            old["run"] == key and old["command"] != card["command"]
            for old in records.values()
        ):
            raise app.UsageError(
                f"{VALIDATION_FILE.name} holds {key} with another "
                "command: give this run another folder name."
            )
        found.append((run, card))
    return found


_HIGHER_IS_BETTER = (
    "parzen.mean",
    "classifier_score",
    "modified_inception_score",
    "class_histogram.min",
    "mode_coverage.",
)


def best_epoch(run, reference, metric="frechet_distance"):
    """The epoch of run folder `run` to keep: among its snapshots
    (`ganzoo train --snapshot_every`) and its final preset, as recorded by
    `validate` on `reference`, the one with the lowest mean `metric` (the
    highest, for a score, a Parzen number, a class share or mode
    coverage). Prints one line per epoch, the chosen one marked, and says
    when the chosen snapshot and the final preset differ by no more than
    the std over sample seeds; returns its record key (equal means: the
    earliest epoch). Choose on one held-out slice and compare recipes on
    another: the chosen epoch's number on the slice that chose it is
    biased in its favour."""
    name = _run_key(pathlib.Path(run))
    found = {
        key: record
        for key, record in _validation_records().items()
        if record.get("reference") == reference
        and record["run"].split("/")[0] == name
    }
    if not found:
        where = "" if reference is None else f" --reference={reference!r}"
        raise app.UsageError(
            f"{VALIDATION_FILE.name} has no record of {name}"
            + ("" if reference is None else f" on {reference}")
            + f": run python -m tools.results validate "
            f"{run}/{SNAPSHOTS_DIR}/* {run}{where} first."
        )
    recorded = set.intersection(*(set(r["metrics"]) for r in found.values()))
    if metric not in recorded:
        hint = " (validate --parzen records it)" if "parzen" in metric else ""
        raise app.UsageError(
            f"--metric={metric}: {name}'s records hold "
            f"{', '.join(sorted(recorded))}{hint}."
        )
    sign = -1 if metric.startswith(_HIGHER_IS_BETTER) else 1

    def is_final(key):  # the run's preset, not a snapshot RUN/epoch_NNNN
        return "/" not in found[key]["run"]

    def epoch(key):  # the final preset last
        run_name = found[key]["run"]
        return 10**9 if is_final(key) else int(run_name.split("epoch_")[1])

    ordered = sorted(found, key=epoch)
    best = min(
        ordered, key=lambda k: sign * found[k]["metrics"][metric]["mean"]
    )
    for key in ordered:
        shown = _shown(found[key]["metrics"])
        print(f"{'*' if key == best else ' '} {found[key]['run']}: {shown}")
    final = ordered[-1]
    if best != final and is_final(final):
        chosen, last = (found[k]["metrics"][metric] for k in (best, final))
        gap = abs(chosen["mean"] - last["mean"])
        noise = max(chosen.get("std", 0.0), last.get("std", 0.0))
        if gap <= noise:
            print(
                f"  {metric}: {found[best]['run']} and the final preset differ "
                f"by {gap:.3g}, within the std over sample seeds "
                f"({noise:.3g}): a tie, not a better epoch."
            )
    return best


def _shown(spread):
    """`_SHOWN`'s numbers of a record's metrics, `score 9.19 +- 0.017, ...`."""
    return ", ".join(
        f"{label} {spread[k]['mean']:.3g} +- {spread[k]['std']:.2g}"
        for k, label in _SHOWN.items()
        if k in spread
    )


def _run_key(run):
    """A run's name in `VALIDATION_FILE`: its folder's name, and for a
    snapshot (`ganzoo train --snapshot_every`) RUN/epoch_NNNN."""
    path = run.resolve()
    if path.parent.name == SNAPSHOTS_DIR:
        return f"{path.parent.parent.name}/{path.name}"
    return path.name


def _record_key(name, reference):
    """A record's key in `VALIDATION_FILE`: the run's name (`_run_key`),
    and the slice it was measured on.

    Example:
    >>> _record_key("v1", "train[50000:]")
    'v1 on train[50000:]'
    """
    return name if reference is None else f"{name} on {reference}"


def _validation_records():
    """`VALIDATION_FILE`'s records; those written before records were keyed
    by run and slice (by run only) get the key and `run` of today's."""
    if not VALIDATION_FILE.exists():
        return {}
    records = {}
    for key, record in json.loads(VALIDATION_FILE.read_text()).items():
        record.setdefault("run", key)
        records[_record_key(record["run"], record["reference"])] = record
    return records


def _validation_spec(card):
    """What `validate` measures: `EVAL`'s metrics by kind of data (not
    `_spec`'s Parzen number, which reads the test split); for a folder or
    tfds run, `evaluate`'s own default for pictures (KID, FID)."""
    kind = datasets.data_kind(card["dataset"])
    if kind in ("toy", "idx"):
        return EVAL["toy" if kind == "toy" else "image"]
    return dict(metrics=None, num_samples=EVAL["image"]["num_samples"])


def _check_validation_reference(run, card, reference, data_dir):
    """UsageError unless `reference` holds only images the run never saw
    and none of a test split: fresh samples (no reference) for a 2-D toy;
    a slice of the run's own train split outside its `take` / `limit` for
    MNIST-family data; the validation split of a tfds dataset (its run
    trained on the whole train split); for a folder of pictures, another
    folder sharing no picture with the run's `train_images.json`."""
    kind = datasets.data_kind(card["dataset"])
    if kind == "toy" or reference is None:
        if (kind == "toy") != (reference is None):
            raise app.UsageError(
                f"{run}: "
                + (
                    "a 2-D toy is validated on fresh samples; drop --reference."
                    if kind == "toy"
                    else "give --reference, images the run never saw (e.g. "
                    "train[50000:] for a run with --take=50000); without it "
                    "the distances would use the test split."
                )
            )
        return
    if kind == "folder":
        _check_other_pictures(run, reference)
        return
    parsed = datasets.split_slice(reference, card["dataset"])
    wanted = "train" if kind == "idx" else "validation"
    if parsed is None or parsed[0] != wanted:
        raise app.UsageError(
            f"--reference={reference}: validate {run} on "
            + (
                "a slice of its own train split it did not train on, e.g. "
                "train[50000:] for --take=50000 or train[:10000] for "
                "--limit=500"
                if kind == "idx"
                else "its dataset's validation split (validation, or e.g. "
                "validation[:5000]); it trained on the whole train split"
            )
            + "; never a test split."
        )
    if kind == "idx":
        _check_held_out(run, card, reference, data_dir)


def _check_held_out(run, card, reference, data_dir):
    """UsageError when the train slice `reference` holds images the run
    trained on (its `take` or `limit`)."""
    shared = datasets.training_overlap(reference, card, data_dir)
    if shared:
        raise app.UsageError(
            f"--reference={reference} holds {shared:,} of the images {run} "
            "trained on: validate on images it never saw (a run on "
            "train[:50000] with --take=50000, on train[50000:])."
        )


def _check_other_pictures(run, reference):
    """UsageError unless `reference` is a folder of pictures none of which
    trained the folder run `run` (by sha256, whatever their names)."""
    from ganzoo import training

    if not pathlib.Path(reference).expanduser().is_dir():
        raise app.UsageError(
            f"--reference={reference}: {run} trained on a folder of "
            "pictures; validate it on another folder of held-out pictures."
        )
    listed = run / "preset" / training.TRAIN_IMAGES_FILE
    trained = {row["sha256"] for row in json.loads(listed.read_text())}
    shared = sum(
        presets_io.sha256_of(path) in trained
        for path in datasets.image_files(reference)
    )
    if shared:
        raise app.UsageError(
            f"--reference={reference} holds {shared:,} of the pictures {run} "
            "trained on: validate on pictures it never saw."
        )


def _evaluate_seeds(
    model,
    spec,
    dataset,
    data_dir,
    recalibrate_bn,
    source,
    sample_seeds,
    reference=None,
):
    results = []
    for i, seed in enumerate(sample_seeds):
        results.append(
            evaluation.evaluate_model(
                model,
                metrics=spec["metrics"],
                num_samples=spec["num_samples"],
                seed=seed,
                dataset=dataset,
                data_dir=data_dir,
                # Once: it changes the model's statistics in place.
                recalibrate_bn=recalibrate_bn if i == 0 else 0,
                source=str(source),
                reference=reference,
            )
        )
    return results


def _scalars(metrics, prefix=""):
    """The numbers of a metrics dict, flattened: `mode_coverage.modes_covered`,
    `class_histogram.min`, ...

    Example:
    >>> _scalars({"a": 1.0, "b": {"c": 2}, "class_histogram": [0.2, 0.8]})
    {'a': 1.0, 'b.c': 2.0, 'class_histogram.min': 0.2}
    """
    out = {}
    for key, value in metrics.items():
        if isinstance(value, dict):
            out.update(_scalars(value, f"{prefix}{key}."))
        elif key == "class_histogram":
            out[f"{prefix}{key}.min"] = float(min(value))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[f"{prefix}{key}"] = float(value)
    return out


def _mean_scalars(results):
    rows = [_scalars(r["metrics"]) for r in results]
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


def _spread(rows):
    """`{name: {"mean": m, "std": s}}` over dicts of numbers (std with
    ddof=0 over the rows given)."""
    return {
        k: {
            "mean": float(np.mean([r[k] for r in rows])),
            "std": float(np.std([r[k] for r in rows])),
        }
        for k in rows[0]
        if not k.startswith(("parzen.valid_ll", "parzen.sigma"))
    }


def slim(name, reason=None):
    """Ships only preset NAME's generator: writes `generator.weights.h5`,
    moves `model.weights.h5` to `zoo_weights/NAME/` (download-only, fetched
    by `ganzoo.load(NAME, full=True)`), and records both in the card."""
    folder = PRESETS_DIR / name
    full = folder / presets_io.WEIGHTS_FILE
    model, card = presets_io.load_preset_dir(folder)
    model.generator.save_weights(folder / presets_io.GENERATOR_FILE)
    published = ZOO_WEIGHTS / name
    published.mkdir(parents=True, exist_ok=True)
    shutil.move(full, published / presets_io.WEIGHTS_FILE)
    card.pop("weights_loaded", None)
    card["files"][presets_io.GENERATOR_FILE] = {
        "sha256": presets_io.sha256_of(folder / presets_io.GENERATOR_FILE),
        "bytes": (folder / presets_io.GENERATOR_FILE).stat().st_size,
    }
    card["shipped_files"] = [
        presets_io.CONFIG_FILE,
        presets_io.GENERATOR_FILE,
        presets_io.METADATA_FILE,
    ]
    card["slimmed"] = reason or (
        "The package ships only the generator's weights (sampling needs no "
        "more); the full weights, for fine-tuning, are model.weights.h5, "
        "downloaded by ganzoo.load(name, full=True)."
    )
    (folder / presets_io.METADATA_FILE).write_text(
        json.dumps(card, indent=1) + "\n"
    )


def build_registry(presets_dir=None, published_dir=None):
    """The registry dict of every preset folder under `presets_dir` (default:
    the package's `ganzoo/presets/`), with the sha256 of its shipped files
    and of its download-only files under `published_dir` (default:
    `zoo_weights/`)."""
    presets_dir = pathlib.Path(presets_dir or PRESETS_DIR)
    published_dir = pathlib.Path(published_dir or ZOO_WEIGHTS)
    registry = {}
    for folder in sorted(presets_dir.iterdir()):
        if not presets_io.is_preset(folder):
            continue
        card = json.loads((folder / presets_io.METADATA_FILE).read_text())
        shipped = sorted(p.name for p in folder.iterdir() if p.is_file())
        published = published_dir / folder.name
        extra = (
            sorted(p.name for p in published.iterdir() if p.is_file())
            if published.is_dir()
            else []
        )
        registry[folder.name] = {
            "description": card.get("description", ""),
            "class_name": card.get("class_name"),
            "dataset": card.get("dataset"),
            "shipped": shipped,
            "sha256": {
                **{f: presets_io.sha256_of(folder / f) for f in shipped},
                **{f: presets_io.sha256_of(published / f) for f in extra},
            },
        }
    return registry


def write_registry(path=None, **kwargs):
    """Writes `build_registry(**kwargs)` to `ganzoo/registry.json` (or
    `path`)."""
    registry = build_registry(**kwargs)
    path = pathlib.Path(path or REGISTRY_FILE)
    path.write_text(json.dumps(registry, indent=1, sort_keys=True) + "\n")
    print(f"{len(registry)} presets -> {path}")


def _summary(metrics):
    parts = []
    if "mode_coverage" in metrics:
        m = metrics["mode_coverage"]
        parts.append(
            f"{m['modes_covered']}/{m['num_modes']} modes, "
            f"{100 * m['high_quality_fraction']:.1f}% HQ"
        )
    if "parzen" in metrics:
        p = metrics["parzen"]
        parts.append(f"Parzen {p['mean']:.1f} +- {p['stderr']:.1f}")
    for key, label in [
        ("classifier_score", "classifier score"),
        ("frechet_distance", "FD logits"),
        ("modified_inception_score", "mod. IS"),
    ]:
        if key in metrics:
            parts.append(f"{label} {metrics[key]:.2f}")
    if "test_accuracy" in metrics:
        parts.append(f"test accuracy {100 * metrics['test_accuracy']:.2f}%")
    if "class_histogram" in metrics:
        parts.append(f"min class {100 * min(metrics['class_histogram']):.1f}%")
    return "; ".join(parts)


# The numbers a spread shows: (key, label, scale, decimals).
_SPREAD_KEYS = [
    ("mode_coverage.modes_covered", "modes", 1, 1),
    ("mode_coverage.high_quality_fraction", "% HQ", 100, 1),
    ("parzen.mean", "Parzen", 1, 1),
    ("classifier_score", "score", 1, 2),
    ("frechet_distance", "FD", 1, 2),
]


def _spread_summary(card, field="recipe_spread"):
    """`; recipe over training seeds 0,1,2: ...` from a card's
    recipe_spread, or `; over sample seeds 0,1,2: ...` from its
    metrics_over_sample_seeds (`field`)."""
    spread = card.get(field)
    if not spread:
        return ""
    if field == "recipe_spread":
        seeds, what = spread["training_seeds"], "recipe over training seeds"
    else:
        seeds, what = spread["sample_seeds"], "over sample seeds"
    parts = []
    for key, label, scale, digits in _SPREAD_KEYS:
        if key in spread:
            m, sd = (scale * spread[key][k] for k in ("mean", "std"))
            parts.append(f"{label} {m:.{digits}f} +- {sd:.{digits}f}")
    return f"; {what} {','.join(map(str, seeds))}: " + ", ".join(parts)


def _nearest_section(cards):
    """RESULTS.md's lines on whether the image presets copy their data."""
    rows = {
        n: c["nearest_neighbours"]
        for n, c in cards.items()
        if "nearest_neighbours" in c
    }
    if not rows:
        return []
    lines = [
        "## Do the generators copy their training images?",
        "",
        "Each sample's L2 distance (all pixels, in [0, 1]) to its nearest",
        "training image, averaged over 1,000 samples (seed 0), beside the same",
        "for 1,000 held-out real images (the test split). A generator that",
        "copied its training images would sit far below the held-out real",
        "images, with a minimum of 0; a ratio below 1 says the samples stay",
        "nearer their training images than new real images do, the minimum",
        "says how near the closest comes. `metrics.nearest_neighbours`,",
        "measured by `promote` and `measure`. Pictures: samples (top) over",
        "their nearest training image (bottom).",
        "",
        (
            "| preset | training images | samples: mean (min) | held-out "
            "real: mean | samples / real |"
        ),
        "|---|---:|---:|---:|---:|",
    ]
    for name, nn in rows.items():
        lines.append(
            f"| `{name}` | {nn['training_images']:,} | "
            f"{nn['samples_mean']:.2f} ({nn['samples_min']:.2f}) | "
            f"{nn['held_out_mean']:.2f} | "
            f"{nn['samples_mean'] / nn['held_out_mean']:.2f} |"
        )
    lines.append("")
    for name, nn in rows.items():
        lines.append(f'`{name}`<br><img src="../{nn["figure"]}" width="480">')
        lines.append("")
    return lines


def _distance_to_real(card):
    """`FD x real-halves FD, score y% of real` for an image preset."""
    ref = metrics_lib.REFERENCE_VALUES.get(card.get("dataset"))
    found = card.get("metrics", {})
    if ref is None or "frechet_distance" not in found:
        return ""
    fd = found["frechet_distance"] / ref["frechet_distance_random_test_halves"]
    score = found["classifier_score"] / ref["classifier_score"]
    return f"FD {fd:.1f}x real halves; score {100 * score:.0f}% of real"


def write_results():
    """Regenerates zoo_weights/RESULTS.md and README.md's presets table and
    pictures from the presets' model cards."""
    cards = _cards()
    RESULTS_FILE.write_text(results_text(cards))
    print(f"Wrote {RESULTS_FILE}")
    _write_readme(cards)


def _cards():
    """`{name: card}` of every preset folder, by name."""
    cards = {}
    for folder in sorted(PRESETS_DIR.iterdir()):
        meta = folder / presets_io.METADATA_FILE
        if meta.is_file():
            cards[folder.name] = json.loads(meta.read_text())
    return cards


def results_text(cards):
    """RESULTS.md's text for the model cards `cards` (`{name: card}`) and
    zoo_weights/studies.md."""
    lines = [
        "# ganzoo results",
        "",
        "Generated by `python -m tools.results write` from the model cards",
        "(`ganzoo/presets/*/metadata.json`); do not edit by hand. Every number",
        "was measured on this project's 2-core CPU machine with the command",
        "shown in its card. Wall times (all phases of a recipe) were measured",
        "while other trainings and tests shared the two cores: upper bounds.",
        "Metrics use 10,000 samples (2,500 for the 2-D toys) drawn with seed 0;",
        "where a card has them, their mean +- std over sample seeds 0-2",
        "follows.",
        "The papers' own experiments, run as their authors ran them, are in",
        "[papers.md](papers.md).",
        "",
        (
            "| preset | ganzoo | how far from real data | paper / reference "
            "| steps | wall time |"
        ),
        "|---|---|---|---|---:|---:|",
    ]
    for name, card in cards.items():
        if "steps" not in card:
            continue
        lines.append(
            f"| `{name}` | {_summary(card.get('metrics', {}))}"
            f"{_spread_summary(card, 'metrics_over_sample_seeds')}"
            f"{_spread_summary(card)} | "
            f"{_distance_to_real(card)} | {PAPER.get(name, '')} | "
            f"{card.get('total_steps', card['steps'])} | "
            f"{card.get('total_wall_time_s', card['wall_time_s']) / 60:.1f}"
            " min |"
        )
    lines += [
        "",
        "How far from real data: the preset's Frechet distance (logits)",
        "divided by that between two random halves of the real test set, and",
        "its classifier score as a fraction of the real test set's. The real",
        "data's own numbers (`python -m tools.reference_values`):",
        "",
        (
            "| dataset | test score | mod. IS | FD train[:10000] vs test | "
            "FD random test halves | FD ordered test halves | Parzen of "
            "train[:10000] |"
        ),
        "|---|---|---|---|---|---|---|",
    ]
    for dataset, ref in metrics_lib.REFERENCE_VALUES.items():
        lines.append(
            f"| {dataset} | {ref['classifier_score']:.2f} | "
            f"{ref['modified_inception_score']:.3f} | "
            f"{ref['frechet_distance']:.2f} | "
            f"{ref['frechet_distance_random_test_halves']:.2f} | "
            f"{ref['frechet_distance_test_halves']:.2f} | "
            f"{ref['parzen']['mean']} +- {ref['parzen']['stderr']} |"
        )
    lines += [""] + _nearest_section(cards)
    lines += ["## Model cards", ""]
    for name, card in cards.items():
        lines += [f"### `{name}`", "", card.get("description", ""), ""]
        for key in (
            "class_name",
            "dataset",
            "limit",
            "take",
            "protocol",
            "command",
            "steps",
            "epochs",
            "snapshot",
            "wall_time_s",
            "previous_phases",
            "total_steps",
            "total_wall_time_s",
            "train_images_per_s",
            "metrics_command",
            "test_accuracy",
            "selection",
            "note",
        ):
            if key == "previous_phases":
                if card.get(key):
                    lines += ["- previous_phases:"] + _phase_lines(card[key])
            elif card.get(key) is not None:
                lines.append(f"- {key}: {_code(card[key])}")
        if card.get("metrics"):
            lines.append("- metrics: `" + json.dumps(card["metrics"]) + "`")
        lines.append("")
    extra = ZOO_WEIGHTS / "studies.md"
    if extra.exists():
        lines += [extra.read_text()]
    return "\n".join(lines) + "\n"


def _phase_lines(phases):
    """A card's earlier phases as RESULTS.md's numbered list: each phase's
    command, steps and wall time.

    Example:
    >>> _phase_lines([{"command": "ganzoo train --epochs=3", "steps": 300,
    ...                "wall_time_s": 90.0}])
    ['  1. `ganzoo train --epochs=3` (300 steps, 1.5 min)']
    """
    lines = []
    for i, phase in enumerate(phases, 1):
        about = []
        if phase.get("steps") is not None:
            about.append(f"{phase['steps']:,} steps")
        if phase.get("wall_time_s") is not None:
            about.append(f"{phase['wall_time_s'] / 60:.1f} min")
        tail = f" ({', '.join(about)})" if about else ""
        lines.append(f"  {i}. `{phase['command']}`{tail}")
    return lines


def _code(value):
    """`value` as a Markdown code span; doubled backticks when it holds
    one (a card's text may quote a command).

    Example:
    >>> _code(3), _code("run `ganzoo train`")
    ('`3`', '`` run `ganzoo train` ``')
    """
    text = str(value)
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _write_readme(cards):
    """The presets table and sample pictures of README.md."""
    from ganzoo import images, presets_io

    pictures = []
    SAMPLES_DIR.mkdir(parents=True, exist_ok=True)
    for name, card in cards.items():
        if "steps" in card:  # a generative preset
            model, _ = presets_io.load_preset_dir(PRESETS_DIR / name)
            png = SAMPLES_DIR / f"{name}.png"
            n = 2500 if card["dataset"] in ("ring8", "grid25") else 64
            images.save_png(
                images.samples_to_image(model.sample(n, seed=0)), png
            )
            pictures.append(
                f'`{name}`<br><img src="docs/samples/{png.name}" width="200">'
            )
    text = README.read_text()
    text = replace_section(text, "presets", presets_table(cards))
    text = replace_section(text, "samples", " ".join(pictures))
    README.write_text(text)
    print(f"Updated {README}")


def presets_table(cards):
    """README.md's table of the presets, from their model cards."""
    table = [
        "| preset | model | data | metrics (seed-0 samples) |",
        "|---|---|---|---|",
    ]
    for name, card in cards.items():
        table.append(
            f"| `{name}` | {_model_name(card)} | {card.get('dataset')}"
            f" | {_summary(card.get('metrics', {}))} |"
        )
    return "\n".join(table)


def _model_name(card):
    if card.get("class_name") == "Functional":
        return "classifier (CNN)"
    return f"{card.get('class_name')} ({card.get('network', '')} nets)"


def replace_section(text, marker, body, note="generated"):
    r"""`text` with what stands between `<!-- marker: ... -->` and
    `<!-- /marker -->` replaced by `body`; the section (with `note` in its
    opening marker) is appended if `text` has none.

    Example:
    >>> replace_section("a <!-- x: gen -->old<!-- /x --> b", "x", "new")
    'a <!-- x: gen -->\nnew\n<!-- /x --> b'
    """
    if f"<!-- {marker}:" not in text:
        return (
            f"{text.rstrip()}\n\n<!-- {marker}: {note} -->\n{body}\n"
            f"<!-- /{marker} -->\n"
        ).lstrip()
    start = text.index(f"<!-- {marker}:")
    start = text.index("-->", start) + 3
    end = text.index(f"<!-- /{marker} -->")
    return text[:start] + "\n" + body + "\n" + text[end:]


def main(argv):
    """`python -m tools.results promote|spread|measure|validate|best|write|registry|slim`
    (see the module docstring)."""
    if argv[1:2] == ["promote"] and len(argv) == 4:
        if not FLAGS.description:
            raise app.UsageError("promote needs --description.")
        promote(
            argv[2],
            argv[3],
            FLAGS.description,
            FLAGS.data_dir,
            FLAGS.recalibrate_bn,
            FLAGS.ship,
            seed_runs=FLAGS.seed_runs,
            selection=FLAGS.selection,
        )
    elif argv[1:2] == ["spread"] and len(argv) == 3:
        if not FLAGS.seed_runs:
            raise app.UsageError("spread needs --seed_runs.")
        spread(argv[2], FLAGS.seed_runs, FLAGS.data_dir, FLAGS.selection)
    elif argv[1:2] == ["best"] and len(argv) == 3:
        best_epoch(argv[2], FLAGS.reference, FLAGS.metric)
    elif argv[1:2] == ["measure"] and len(argv) > 2:
        for name in argv[2:]:
            measure(name, FLAGS.data_dir)
    elif argv[1:2] == ["validate"] and len(argv) > 2:
        validate(
            argv[2:],
            FLAGS.reference,
            FLAGS.data_dir,
            FLAGS.recalibrate_bn,
            parzen=FLAGS.parzen,
        )
    elif argv[1:] == ["write"]:
        write_results()
    elif argv[1:] == ["registry"]:
        write_registry()
    elif argv[1:2] == ["slim"] and len(argv) == 3:
        slim(argv[2])
        write_registry()
    else:
        raise app.UsageError(__doc__)


def _define_flags():
    # Only when run as a script: `ganzoo.cli` defines `data_dir` too, and
    # absl flags are global to the process.
    flags.DEFINE_string("description", "", "One-line description (promote).")
    flags.DEFINE_string("data_dir", None, "IDX data folder for the metrics.")
    flags.DEFINE_integer(
        "recalibrate_bn",
        0,
        "promote, validate: re-estimate G's batch-norm statistics from this many batches "
        "first (0: no).",
    )
    flags.DEFINE_enum(
        "ship", "all", list(SHIP), "promote: the files the package ships."
    )
    flags.DEFINE_list(
        "seed_runs",
        [],
        "promote, spread: runs of the same recipe with other "
        "training seeds (the card's recipe_spread).",
    )
    flags.DEFINE_string(
        "selection",
        None,
        "promote, spread: how the recipe was chosen (the card).",
    )
    flags.DEFINE_string(
        "metric",
        "frechet_distance",
        "best: the validation number to choose by (lowest, or highest for a "
        "score, a Parzen number, a class share or mode coverage; e.g. "
        "mode_coverage.high_quality_fraction for a 2-D toy).",
    )
    flags.DEFINE_bool(
        "parzen",
        False,
        "validate: also the Parzen log-likelihood of --reference (sigma "
        "searched on its first 1,000 images; best --metric=parzen.mean).",
    )
    flags.DEFINE_string(
        "reference",
        None,
        "validate, best: held-out training images the image metrics "
        "compare with, e.g. train[50000:] (never the test split).",
    )


if __name__ == "__main__":
    _define_flags()
    app.run(main, argv=sys.argv)
