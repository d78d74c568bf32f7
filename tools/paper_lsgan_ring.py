"""LSGAN's stability comparison on the ring of 8 Gaussians, run as the
authors ran it (github xudonmao/LSGAN, stability_comparison/mixture_gaussian,
ls.py and sig.py), with ganzoo's public models and `ganzoo train`:

- nets: G z(256) -> 128 tanh -> 128 tanh -> 2, D 2 -> 128 tanh -> 128 tanh ->
  1, orthogonal weights (gain 1.4): `--network=toy_tanh`;
- batch 512, Adam (beta_1 0.5) D 1e-4 / G 1e-3, 35,000 iterations, D and G
  updated together from one forward pass: `--update=simultaneous`;
- GAN (sig.py: sigmoid cross-entropy, non-saturating G) against LSGAN with
  ls.py's (a, b, c) = (0, 1, 1) coding and with the (-1, 1, 0) coding.

Differences left: the authors draw a fresh batch of the mixture each
iteration and their ring repeats one mode (linspace(0, 2 pi, 9): that mode
has weight 2/9); ganzoo trains on 100,000 points of 8 equal modes. Adam's
epsilon is Keras' 1e-7, not 1e-8. The authors only plotted the samples; here
each variant is measured every 5,000 iterations with the VEEGAN/PacGAN
protocol (2,500 samples; modes covered, high-quality fraction).

    python -m tools.paper_lsgan_ring            # all runs, then the write-up
    python -m tools.paper_lsgan_ring --write_only

Resumable: a finished run is skipped, an interrupted one resumes from its
last checkpoint. Writes `benchmarks/results/paper_lsgan_ring.json`,
`docs/papers/lsgan_ring*.png` and its section of `zoo_weights/papers.md`.
"""

import csv
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
from absl import app, flags

from ganzoo import datasets, images, presets_io
from tools import results as results_lib

REPO = pathlib.Path(__file__).resolve().parents[1]
VARIANTS = {
    "gan": ["--model=gan", "--generator_loss=non_saturating"],
    "lsgan-011": ["--model=lsgan", "--coding=real_label"],
    "lsgan-m110": ["--model=lsgan", "--coding=pearson"],
}
LABELS = {
    "gan": "GAN (sigmoid cross-entropy)",
    "lsgan-011": "LSGAN (a,b,c) = (0,1,1)",
    "lsgan-m110": "LSGAN (a,b,c) = (-1,1,0)",
}
RECIPE = [
    "--network=toy_tanh",
    "--dataset=ring8",
    "--batch_size=512",
    "--d_lr=1e-4",
    "--g_lr=1e-3",
    "--beta_1=0.5",
    "--update=simultaneous",
]

flags.DEFINE_list("seeds", ["0", "1", "2"], "Training seeds.")
flags.DEFINE_integer("iterations", 35000, "Training iterations.")
flags.DEFINE_integer("every", 5000, "Iterations between measurements.")
flags.DEFINE_string("runs_dir", "runs/papers/lsgan-ring", "Run folders.")
flags.DEFINE_bool("write_only", False, "Only write up the finished runs.")
FLAGS = flags.FLAGS


def command(variant, seed, out):
    """The `ganzoo train` command of one run."""
    epochs = FLAGS.iterations // FLAGS.every
    return [
        "ganzoo",
        "train",
        *VARIANTS[variant],
        *RECIPE,
        f"--epochs={epochs}",
        f"--steps_per_epoch={FLAGS.every}",
        f"--seed={seed}",
        "--verbose=2",
        f"--output_dir={out}",
    ]


def run_all():
    for seed in FLAGS.seeds:
        for variant in VARIANTS:
            out = pathlib.Path(FLAGS.runs_dir) / f"{variant}-s{seed}"
            if presets_io.is_preset(out / "preset"):
                continue
            print("+", " ".join(command(variant, seed, out)), flush=True)
            subprocess.run(command(variant, seed, out), check=True)


def collect():
    """Per variant and seed: modes and high-quality fraction per epoch."""
    found = {}
    for variant in VARIANTS:
        for seed in FLAGS.seeds:
            log = (
                pathlib.Path(FLAGS.runs_dir) / f"{variant}-s{seed}" / "log.csv"
            )
            if not log.exists():
                continue
            with open(log) as f:
                rows = {int(r["epoch"]): r for r in csv.DictReader(f)}
            if len(rows) < FLAGS.iterations // FLAGS.every:
                continue  # not finished
            found.setdefault(variant, {})[seed] = {
                "modes": [
                    float(rows[e]["modes_covered"]) for e in sorted(rows)
                ],
                "high_quality": [
                    float(rows[e]["high_quality"]) for e in sorted(rows)
                ],
            }
    return found


def write(found):
    out_json = REPO / "benchmarks" / "results" / "paper_lsgan_ring.json"
    settings = dict(
        seeds=FLAGS.seeds,
        iterations=FLAGS.iterations,
        every=FLAGS.every,
        recipe=RECIPE,
    )
    out_json.write_text(
        json.dumps(dict(settings=settings, runs=found), indent=1) + "\n"
    )
    pictures = REPO / "docs" / "papers"
    pictures.mkdir(parents=True, exist_ok=True)
    mean_modes = {
        LABELS[v]: list(np.mean([r["modes"] for r in runs.values()], axis=0))
        for v, runs in found.items()
    }
    images.save_png(
        images.line_chart(
            mean_modes,
            y_max=8,
            title="LSGAN ring: modes covered (mean of seeds) per 5k iterations",
            size=(640, 360),
        ),
        pictures / "lsgan_ring_modes.png",
    )
    _scatter(found, pictures / "lsgan_ring_samples.png")
    rows = [
        (
            f"| variant | modes covered every {FLAGS.every} iterations (mean "
            "of seeds) | final modes (per seed) | final high-quality % "
            "(mean +- std) |"
        ),
        "|---|---|---|---|",
    ]
    for v, runs in found.items():
        modes = np.array([r["modes"] for r in runs.values()])
        hq = np.array([r["high_quality"][-1] for r in runs.values()]) * 100
        rows.append(
            f"| {LABELS[v]} | {', '.join(f'{m:.1f}' for m in modes.mean(0))} "
            f"| {', '.join(str(int(m)) for m in modes[:, -1])} "
            f"| {hq.mean():.1f} +- {hq.std():.1f} |"
        )
    body = "\n".join(
        [
            "### LSGAN: the ring of 8 Gaussians under the authors' settings",
            "",
            (
                f"`python -m tools.paper_lsgan_ring` ({len(FLAGS.seeds)} "
                f"seeds; {FLAGS.iterations} iterations; measured every "
                f"{FLAGS.every}: 2,500 samples, a mode is covered by a sample "
                "within 3 std of it). Nets, batch, learning rates and "
                "simultaneous updates as in the authors' ls.py / sig.py "
                "(tools/paper_lsgan_ring.py lists what differs)."
            ),
            "",
            *rows,
            "",
            (
                '<img src="../docs/papers/lsgan_ring_modes.png" width="480"> '
                '<img src="../docs/papers/lsgan_ring_samples.png" width="480">'
            ),
            "",
            "Samples after the last iteration, seed 0 (red: the 8 modes), left "
            "to right: " + ", ".join(LABELS[v] for v in found) + ".",
        ]
    )
    papers = REPO / "zoo_weights" / "papers.md"
    text = papers.read_text() if papers.exists() else "# The papers' claims\n"
    papers.write_text(
        results_lib.replace_section(
            text,
            "lsgan-ring",
            body,
            note="generated by tools/paper_lsgan_ring.py",
        )
    )
    print(f"Wrote {out_json}, {papers}, {pictures}")


def _scatter(found, path):
    panels = []
    seed = FLAGS.seeds[0]
    for v in found:
        preset = pathlib.Path(FLAGS.runs_dir) / f"{v}-s{seed}" / "preset"
        if not preset.exists():
            continue
        model, _ = presets_io.load_preset_dir(preset)
        points = model.sample(2500, seed=0)
        panels.append(
            images.scatter_image(
                points, size=240, extent=1.6, modes=datasets.RING8_MODES
            )
        )
    if panels:
        gap = np.full((240, 8, 3), 255, "uint8")
        row = [p for panel in panels for p in (panel, gap)][:-1]
        images.save_png(np.concatenate(row, axis=1), path)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments {argv[1:]}.")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if not FLAGS.write_only:
        run_all()
    found = collect()
    if not found:
        sys.exit("No finished runs under " + FLAGS.runs_dir)
    write(found)


if __name__ == "__main__":
    app.run(main)
