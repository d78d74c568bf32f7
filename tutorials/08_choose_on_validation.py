"""
Title: Choosing an epoch without looking at the test set
Author: ganzoo team
Description: Train with snapshots, measure each on held-out training
images, keep the best, confirm the choice on a second held-out slice, and
read the test split once, for the chosen model.
"""

"""
## Introduction

A number measured on the data that chose it is biased in its favour. Keep
the best of fifteen epochs by their test-set Frechet distance and the
test FD you report is the smallest of fifteen noisy numbers: better than
the model will do on new data. ganzoo's presets are chosen on held-out
*training* images instead, and only the chosen model is measured on the
test split. This tutorial does that for DeLiGAN on 500 MNIST digits:

1. train with `snapshot_every`: a preset of the run every few epochs;
2. measure every snapshot on training images the run never saw, and keep
   the one with the lowest FD;
3. check the choice on a second, disjoint held-out slice (the slice that
   chose is biased in the chosen epoch's favour too);
4. measure the chosen model on the test split, once.

## Setup

The 500 digits are DeLiGAN's subset (the last 50 of each class, in the IDX
files' order), so the tutorial needs the IDX files:

```shell
export GANZOO_DATA_DIR=../shared/data   # holds mnist/train-images-...gz
python tutorials/08_choose_on_validation.py
```

It trains the `deligan-mnist` preset's recipe with a snapshot every 10
epochs, then measures each of its 15 presets on 10,000 samples: about 15
minutes on a 2-core CPU. `GANZOO_FAST=1` makes it a smoke test (nets a
quarter as wide, three epochs of five steps, a snapshot every epoch, 500
samples per measurement). Figures and the run go to
`$GANZOO_TUTORIAL_OUT/08_choose_on_validation/` (default
`tutorial_outputs/`); running it again reuses a finished run. The command
line does the same with `ganzoo train --snapshot_every=10 ...` and
`ganzoo evaluate RUN/snapshots/* RUN --reference="train[:5000]"`.
"""

import json
import os
import pathlib

import numpy as np

import ganzoo
import ganzoo.images

FAST = os.environ.get("GANZOO_FAST") == "1"
DATA_DIR = os.environ.get("GANZOO_DATA_DIR")
OUT = pathlib.Path(os.environ.get("GANZOO_TUTORIAL_OUT", "tutorial_outputs"))
OUT = OUT / "08_choose_on_validation"
OUT.mkdir(parents=True, exist_ok=True)

NUM_SAMPLES = 500 if FAST else 10000
CHOOSE_ON, CONFIRM_ON = "train[:5000]", "train[5000:10000]"

"""
## Training with snapshots

`ganzoo.training.TrainConfig` holds everything a run depends on; its
fields are the flags of `ganzoo train`. These are the `deligan-mnist`
preset's (DiffAugment on D's inputs, a moving average of G's weights)
plus `snapshot_every`: every 10 epochs before the last, the run writes a
preset of itself as it is then, with G's moving average swapped in, to
`snapshots/epoch_NNNN/preset/`. `ganzoo.training.train` resumes an
interrupted run from its last finished epoch and writes the final preset
to `preset/`.
"""

cfg = ganzoo.training.TrainConfig(
    model="deligan",
    network="deligan_mnist",
    dataset="mnist",
    data_dir=DATA_DIR,
    limit=500,
    num_components=50,
    batch_size=50,
    epochs=3 if FAST else 150,
    steps_per_epoch=5 if FAST else 100,
    d_lr=1e-4,
    g_lr=5e-4,
    augment="translation,cutout",
    g_ema=0.999,
    width=0.25 if FAST else 1.0,
    snapshot_every=1 if FAST else 10,
)
run = OUT / ("run-fast" if FAST else "run")
if not (run / "preset").is_dir():
    ganzoo.training.train(cfg, run, verbose=0 if FAST else 2)

"""
## Held-out images

The run trained on the last 50 digits of each class, which lie at the end
of the train split; `train[:10000]` holds none of them.
`ganzoo.datasets.training_overlap` counts a run's training images in a
slice, from its model card. Two disjoint halves: one chooses, the other
confirms.
"""

card = json.loads((run / "preset" / "metadata.json").read_text())
for reference in (CHOOSE_ON, CONFIRM_ON):
    seen = ganzoo.datasets.training_overlap(reference, card, data_dir=DATA_DIR)
    print(f"{reference} holds {seen} of the run's training images")
    assert seen == 0

"""
## Measure every snapshot

`ganzoo.evaluation.evaluate_source` samples a preset folder and runs the
metrics; `reference=` names the real images the Frechet distance compares
with (default: the test split). Fresh samples (seed 100) keep the
measurement apart from the pictures the training wrote.
"""


def measure(preset, reference):
    result = ganzoo.evaluation.evaluate_source(
        str(preset),
        metrics=["classifier_score", "frechet_distance"],
        num_samples=NUM_SAMPLES,
        seed=100,
        data_dir=DATA_DIR,
        reference=reference,
    )
    return result["metrics"]


presets = {
    int(p.parent.name.split("_")[1]): p
    for p in sorted((run / "snapshots").glob("epoch_*/preset"))
}
presets[cfg.epochs] = run / "preset"
chosen_by = {epoch: measure(p, CHOOSE_ON) for epoch, p in presets.items()}
for epoch, m in chosen_by.items():
    print(
        f"epoch {epoch:4d}: FD {m['frechet_distance']:8.2f}, "
        f"score {m['classifier_score']:.2f}  ({CHOOSE_ON})"
    )
best = min(chosen_by, key=lambda e: chosen_by[e]["frechet_distance"])
print(f"lowest FD on {CHOOSE_ON}: epoch {best}")

"""
FD falls steeply over the first epochs and then slowly; a log scale shows
both (`fd.png`).
"""

log_fd = [float(np.log10(m["frechet_distance"])) for m in chosen_by.values()]
ganzoo.images.save_png(
    ganzoo.images.line_chart(
        {f"log10 FD on {CHOOSE_ON}": log_fd},
        y_min=np.floor(min(log_fd)),
        y_max=np.floor(max(log_fd)) + 1,
        title="Frechet distance (logits) per snapshot",
        x_label=f"epochs {', '.join(map(str, chosen_by))}",
    ),
    OUT / "fd.png",
)

"""
## Confirm on the other half

The chosen epoch's FD on the slice that chose it is the lowest of several
noisy numbers. On the other half, compare it with the last epoch (what you
get without choosing): keep the snapshot only if it still wins there. For
the presets, ganzoo repeats this over three training seeds before it
changes a recipe (`zoo_weights/studies.md`). The `deligan-mnist` card
records one run of this recipe with snapshots (training seed 0, chosen on
`train[:5000]`): the last epoch was the best, so choosing was a check that
nothing was lost, not a gain.
"""

final = cfg.epochs
confirmed = {
    epoch: measure(presets[epoch], CONFIRM_ON) for epoch in {best, final}
}
for epoch, m in sorted(confirmed.items()):
    print(
        f"epoch {epoch:4d}: FD {m['frechet_distance']:8.2f}, "
        f"score {m['classifier_score']:.2f}  ({CONFIRM_ON})"
    )
keep = min(confirmed, key=lambda e: confirmed[e]["frechet_distance"])
print(f"kept: epoch {keep}")

"""
## The test split, once

Only now, and only for the kept model, the test split (`reference=None`):
the number to report. Measuring every snapshot here and keeping the best
would make this number biased again.
"""

test = measure(presets[keep], None)
print(
    f"epoch {keep} on the test split: FD {test['frechet_distance']:.2f}, "
    f"score {test['classifier_score']:.2f}"
)
model = ganzoo.load(str(presets[keep]))
ganzoo.images.save_png(
    ganzoo.images.samples_to_image(model.sample(64, seed=0)),
    OUT / "chosen_samples.png",
)
