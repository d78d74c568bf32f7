"""Maintainer tool: promote a training run to a preset, and write RESULTS.md.

    python -m ganzoo.results promote runs/deligan-mnist deligan-mnist \\
        --description="DeLiGAN on 500 MNIST digits (50 per class)" \\
        [--recalibrate_bn=100]
    python -m ganzoo.results write        # RESULTS.md, README tables
    python -m ganzoo.results registry     # ganzoo/registry.json

`promote` copies the run's `preset/` into `zoo_weights/NAME/`, measures the
preset's metrics with `ganzoo evaluate` (the exact command is stored next to
the numbers in `metadata.json`), and regenerates `ganzoo/registry.json`.
`write` only reads the model cards: RESULTS.md is regenerated from them by
one command and never edited by hand.
"""

import json
import pathlib
import shutil
import sys

from absl import app, flags

from ganzoo import _atomic, evaluation, presets_io, zoo
from ganzoo import metrics as metrics_lib

flags.DEFINE_string("description", "", "One-line description (promote).")
flags.DEFINE_string("data_dir", None, "IDX data folder for the metrics.")
flags.DEFINE_integer(
    "recalibrate_bn", 0,
    "promote: re-estimate G's batch-norm statistics from this many batches "
    "first (0: no).",
)
FLAGS = flags.FLAGS

# What each kind of preset is measured with (seed 0 samples).
EVAL = {
    "toy": dict(metrics=["mode_coverage"], num_samples=2500),
    "image": dict(
        metrics=["classifier_score", "frechet_distance",
                 "frechet_distance_penultimate", "modified_inception_score",
                 "class_histogram"],
        num_samples=10000,
    ),
}
PARZEN_PRESETS = ("gan-mnist",)
# The papers' own numbers, for the table.
PAPER = {
    "gan-mnist": "Parzen LL 225 +- 2 (GAN paper, Table 1)",
    "gan-ring8": "6.3/8 modes, 98.2% HQ (GAN, as reported by PacGAN)",
}
RESULTS_FILE = zoo.REPO_WEIGHTS / "RESULTS.md"
README = zoo.REPO_WEIGHTS.parent / "README.md"
SAMPLES_DIR = zoo.REPO_WEIGHTS.parent / "docs" / "samples"


def promote(run_dir, name, description, data_dir=None, recalibrate_bn=0):
    """Copies a run's preset into zoo_weights/NAME with measured metrics.

    `recalibrate_bn` > 0 first re-estimates the generator's batch-norm
    statistics from that many batches of 100
    (`GAN.recalibrate_batch_norm`); the card records it.
    """
    src = pathlib.Path(run_dir) / "preset"
    target = zoo.REPO_WEIGHTS / name
    card = json.loads((src / presets_io.METADATA_FILE).read_text())
    kind = "toy" if card["dataset"] in ("ring8", "grid25") else "image"
    spec = dict(EVAL[kind])
    if name in PARZEN_PRESETS:
        spec["metrics"] = spec["metrics"] + ["parzen"]
    # Re-saved, not copied: the preset format of today's presets_io.
    model, _ = presets_io.load_preset_dir(src)
    card.pop("files", None)
    if recalibrate_bn:
        layers = model.recalibrate_batch_norm(num_batches=recalibrate_bn)
        if not layers:
            raise ValueError(f"{run_dir}: the generator has no batch norm.")
        card["post_training"] = (
            f"recalibrate_batch_norm(num_batches={recalibrate_bn}, "
            "batch_size=100, seed=0)"
        )
    tmp = target.with_name(f".{name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    presets_io.save_preset(model, tmp, card)
    try:
        result = evaluation.evaluate_source(
            str(tmp), metrics=spec["metrics"],
            num_samples=spec["num_samples"], seed=0, data_dir=data_dir,
        )
        card.update(
            name=name,
            description=description,
            metrics=result["metrics"],
            metrics_command=(
                f"ganzoo evaluate {name} "
                f"--metrics={','.join(spec['metrics'])} "
                f"--num_samples={spec['num_samples']} --seed=0"
            ),
        )
        presets_io.save_preset(model, tmp, card)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _atomic.replace_dir(tmp, target)
    zoo.main()
    print(evaluation.format_table(result))


def _summary(metrics):
    parts = []
    if "mode_coverage" in metrics:
        m = metrics["mode_coverage"]
        parts.append(f"{m['modes_covered']}/{m['num_modes']} modes, "
                     f"{100 * m['high_quality_fraction']:.1f}% HQ")
    if "parzen" in metrics:
        p = metrics["parzen"]
        parts.append(f"Parzen {p['mean']:.1f} +- {p['stderr']:.1f}")
    for key, label in [("classifier_score", "MNIST score"),
                       ("frechet_distance", "FD logits"),
                       ("modified_inception_score", "mod. IS")]:
        if key in metrics:
            parts.append(f"{label} {metrics[key]:.2f}")
    if "test_accuracy" in metrics:
        parts.append(f"test accuracy {100 * metrics['test_accuracy']:.2f}%")
    if "class_histogram" in metrics:
        parts.append(f"min class {100 * min(metrics['class_histogram']):.1f}%")
    return "; ".join(parts)


def write_results():
    """Regenerates RESULTS.md from the model cards in zoo_weights/."""
    lines = [
        "# ganzoo results",
        "",
        "Generated by `python -m ganzoo.results write` from the model cards",
        "(`zoo_weights/*/metadata.json`); do not edit by hand. Every number",
        "was measured on this project's 2-core CPU machine with the command",
        "shown in its card. Wall times (all phases of a recipe) were measured",
        "while other trainings and tests shared the two cores: upper bounds.",
        "Metrics use 10,000 samples (2,500 for the 2-D toys) drawn with seed 0.",
        "",
        "| preset | ganzoo | paper / reference | steps | wall time |",
        "|---|---|---|---:|---:|",
    ]
    cards = {}
    for folder in sorted(zoo.REPO_WEIGHTS.iterdir()):
        meta = folder / presets_io.METADATA_FILE
        if meta.is_file():
            cards[folder.name] = json.loads(meta.read_text())
    ref = metrics_lib.REFERENCE_VALUES
    lines.append(
        "| real MNIST (train[:10000] as samples) | "
        f"Parzen {ref['parzen']['mean']} +- {ref['parzen']['stderr']}; "
        f"MNIST score {ref['classifier_score']}; FD logits "
        f"{ref['frechet_distance']}; mod. IS "
        f"{ref['modified_inception_score']} | the ceiling | | |"
    )
    for name, card in cards.items():
        if "steps" not in card:
            continue
        lines.append(
            f"| `{name}` | {_summary(card.get('metrics', {}))} | "
            f"{PAPER.get(name, '')} | {card.get('total_steps', card['steps'])}"
            f" | {card.get('total_wall_time_s', card['wall_time_s']) / 60:.1f}"
            " min |"
        )
    lines += ["", "## Model cards", ""]
    for name, card in cards.items():
        lines += [f"### `{name}`", "", card.get("description", ""), ""]
        for key in ("class_name", "dataset", "limit", "take", "protocol",
                    "command", "steps", "epochs", "wall_time_s",
                    "previous_phases", "total_steps", "total_wall_time_s",
                    "train_images_per_s", "metrics_command", "test_accuracy",
                    "note"):
            if card.get(key) is not None:
                lines.append(f"- {key}: `{card[key]}`")
        if card.get("metrics"):
            lines.append("- metrics: `" + json.dumps(card["metrics"]) + "`")
        lines.append("")
    extra = zoo.REPO_WEIGHTS / "studies.md"
    if extra.exists():
        lines += [extra.read_text()]
    RESULTS_FILE.write_text("\n".join(lines) + "\n")
    print(f"Wrote {RESULTS_FILE}")
    _write_readme(cards)


def _write_readme(cards):
    """The presets table and sample pictures of README.md."""
    from ganzoo import images

    table = ["| preset | model | data | metrics (seed-0 samples) |",
             "|---|---|---|---|"]
    pictures = []
    SAMPLES_DIR.mkdir(parents=True, exist_ok=True)
    for name, card in cards.items():
        table.append(
            f"| `{name}` | {_model_name(card)} | {card.get('dataset')}"
            f" | {_summary(card.get('metrics', {}))} |"
        )
        if "steps" in card:  # a generative preset
            model = zoo.load(name)
            png = SAMPLES_DIR / f"{name}.png"
            n = 2500 if card["dataset"] in ("ring8", "grid25") else 64
            images.save_png(
                images.samples_to_image(model.sample(n, seed=0)), png
            )
            pictures.append(
                f"`{name}`<br><img src=\"docs/samples/{png.name}\" "
                'width="200">'
            )
    text = README.read_text()
    text = _between(text, "presets", "\n".join(table))
    text = _between(text, "samples", " ".join(pictures))
    README.write_text(text)
    print(f"Updated {README}")


def _model_name(card):
    if card.get("class_name") == "Functional":
        return "classifier (CNN)"
    return f"{card.get('class_name')} ({card.get('network', '')} nets)"


def _between(text, marker, body):
    start = text.index(f"<!-- {marker}:")
    start = text.index("-->", start) + 3
    end = text.index(f"<!-- /{marker} -->")
    return text[:start] + "\n" + body + "\n" + text[end:]


def main(argv):
    if argv[1:2] == ["promote"] and len(argv) == 4:
        if not FLAGS.description:
            raise app.UsageError("promote needs --description.")
        promote(argv[2], argv[3], FLAGS.description, FLAGS.data_dir,
                FLAGS.recalibrate_bn)
    elif argv[1:] == ["write"]:
        write_results()
    elif argv[1:] == ["registry"]:
        zoo.main()
    else:
        raise app.UsageError(__doc__)


if __name__ == "__main__":
    app.run(main, argv=sys.argv)
