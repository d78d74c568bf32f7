"""
Title: DeLiGAN on a few hundred of your own pictures
Author: ganzoo team
Description: Point ganzoo at a folder of your own pictures, train a DeLiGAN
with DiffAugment and a moving average, look at its samples and mixture
components, measure KID and FID, and export it for serving.
"""

"""
## Setup

```shell
pip install -e .          # from a checkout of ganzoo
python tutorials/07_deligan_own_pictures.py --pictures=path/to/my_pictures
```

Any folder of a few hundred pictures works: PNG, JPEG, BMP, GIF or WebP,
any sizes, grey, RGB or RGBA, in subfolders if you like. The folder is
only read, never written to. `$GANZOO_PICTURES` may name it instead of
`--pictures`. Without either, the tutorial draws a folder of synthetic
pictures itself (coloured shapes) in a temporary directory, so it runs
anywhere.

`GANZOO_FAST=1` makes it a smoke test of under a minute on a CPU: it always
uses the synthetic pictures, at 16 pixels, with tiny networks and ten
training steps; its samples are grey noise. Without it, the tutorial
trains the README's 64-pixel recipe, which wants a GPU (or hours of CPU).
Figures go to `$GANZOO_TUTORIAL_OUT/07_deligan_own_pictures/` (default
`tutorial_outputs/`), and so does the training run in full mode, as
`run-<hash>/`: one folder per recipe and set of pictures, so running it
again resumes or reuses that run, and other pictures get a run of their
own. (A full run left unfinished in `run/` by an earlier version of this
tutorial is not picked up: delete that folder.)
"""

import argparse
import atexit
import dataclasses
import hashlib
import json
import os
import pathlib
import shutil
import tempfile

import numpy as np
import tensorflow as tf
from PIL import Image, ImageDraw

import ganzoo
import ganzoo.export
import ganzoo.images

FAST = os.environ.get("GANZOO_FAST") == "1"
OUT = pathlib.Path(os.environ.get("GANZOO_TUTORIAL_OUT", "tutorial_outputs"))
OUT = OUT / "07_deligan_own_pictures"
OUT.mkdir(parents=True, exist_ok=True)
# Scratch space: the synthetic pictures, the fast run, the export.
WORK = pathlib.Path(tempfile.mkdtemp(prefix="ganzoo-07-"))
atexit.register(shutil.rmtree, WORK, ignore_errors=True)

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument(
    "--pictures",
    default=os.environ.get("GANZOO_PICTURES"),
    help="your folder of pictures (default: $GANZOO_PICTURES, else a "
    "synthetic folder)",
)
ARGS = parser.parse_args()

IMAGE_SIZE = 16 if FAST else 64
BATCH_SIZE = 16 if FAST else 64
WIDTH = 0.125 if FAST else 1.0  # the dcgan pair's filters: 8 or 64
LATENT_DIM = 16 if FAST else 100
NUM_COMPONENTS = 8 if FAST else 50
EPOCHS = 2 if FAST else 50
STEPS_PER_EPOCH = 5 if FAST else 100
G_EMA = 0.9 if FAST else 0.999
NUM_SYNTHETIC = 48 if FAST else 300
NUM_EVAL = 16 if FAST else 500

"""
## Where the pictures come from

Your own folder, if you named one. Otherwise we make one: a few dozen
(fast mode) or a few hundred pictures of coloured ellipses, boxes and
triangles on plain or two-tone backgrounds. They are deliberately as mixed
as a real folder: sizes from 40 to 200 pixels in every aspect, PNG and
JPEG, a quarter of them grey, one RGBA picture with transparency, some in a
subfolder, plus a text file (ignored: only image suffixes are read) and a
`.jpg` that is not a picture (skipped with a warning naming it; a real
folder often has one).
"""


def random_colour(rng):
    return tuple(int(c) for c in rng.integers(0, 256, 3))


def synthetic_picture(rng):
    """One picture: a background and one to three filled shapes."""
    w, h = (int(s) for s in rng.integers(40, 201, 2))
    image = Image.new("RGB", (w, h), random_colour(rng))
    draw = ImageDraw.Draw(image)
    if rng.random() < 0.5:  # a two-tone background
        draw.rectangle([0, h // 2, w, h], fill=random_colour(rng))
    for _ in range(rng.integers(1, 4)):
        cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
        r = rng.uniform(0.15, 0.35) * min(w, h)
        box = [cx - r, cy - r, cx + r, cy + r]
        kind, fill = rng.integers(3), random_colour(rng)
        if kind == 0:
            draw.ellipse(box, fill=fill)
        elif kind == 1:
            draw.rectangle(box, fill=fill)
        else:
            draw.polygon(
                [(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill
            )
    return image


def make_synthetic_folder(folder, num, seed=0):
    rng = np.random.default_rng(seed)
    (folder / "more").mkdir(parents=True)
    for i in range(num):
        image = synthetic_picture(rng)
        sub = folder / "more" if i % 3 == 0 else folder
        if i % 4 == 1:
            image = image.convert("L")  # grey: ganzoo repeats it to RGB
        if i == 2:  # RGBA: ganzoo composites it onto black
            image = image.convert("RGBA")
            image.putalpha(Image.new("L", image.size, 128))
            image.save(sub / f"picture_{i:03d}.png")
        elif i % 2:
            image.save(sub / f"picture_{i:03d}.jpg", quality=90)
        else:
            image.save(sub / f"picture_{i:03d}.png")
    (folder / "notes.txt").write_text("not a picture: ignored\n")
    (folder / "broken.jpg").write_bytes(b"not a JPEG: skipped")
    return folder


OWN = bool(ARGS.pictures) and not FAST
if OWN:
    folder = pathlib.Path(ARGS.pictures).expanduser()
else:
    folder = make_synthetic_folder(WORK / "pictures", NUM_SYNTHETIC)
files = ganzoo.datasets.image_files(folder)
print(f"{len(files)} image files under {folder}")

"""
## Loading

`ganzoo.datasets.load(folder, ...)` reads the folder recursively, decodes
every picture once (in parallel, with TensorFlow's decoders), brings it to
a square by a centre crop (`resize="pad"` or `"stretch"` instead), resizes
it to `image_size` and converts it to `channels` (grey to RGB, RGBA
without its alpha). The decoded pictures stay in memory, so an epoch costs
a gather, not a decode. Batches are float32 in [-1, 1], the range of the
dcgan generator's tanh.

`limit=N` trains on N pictures drawn at random. The draw has its own fixed
seed (`ganzoo.datasets.LIMIT_DRAW_SEED`), not the training `seed`: runs
with different seeds train on the same N pictures, so they can be
compared. `ganzoo.datasets.training_files` names them, with a sha256 each.
In full mode we use the README's `limit=500` when the folder has more than
500 pictures, else all of them.
"""

if FAST:
    LIMIT = 32
else:
    LIMIT = 500 if len(files) > 500 else None
dataset = ganzoo.datasets.load(
    str(folder),
    image_size=IMAGE_SIZE,
    channels=3,
    batch_size=BATCH_SIZE,
    limit=LIMIT,
    seed=0,
)
batch = next(iter(dataset)).numpy()
print("one batch:", batch.shape, batch.dtype, batch.min(), batch.max())
ganzoo.images.save_png(
    ganzoo.images.image_grid((batch + 1) / 2), OUT / "training_batch.png"
)
drawn = ganzoo.datasets.training_files(
    str(folder), IMAGE_SIZE, channels=3, limit=LIMIT
)
print(f"{len(drawn)} pictures drawn, e.g. {[d['file'] for d in drawn[:3]]}")

"""
Look at `training_batch.png` before training: it shows what the networks
will see after cropping and resizing. If the subject is cut off, try
`resize="pad"`; if the pictures are mostly background at this size, crop
them yourself first.

## Training

We train through `ganzoo.training.train(cfg, run_folder)`, the very
function `ganzoo train` calls: the command line's flags are generated from
the fields of `ganzoo.training.TrainConfig`, so the Python run and the
command line below are the same run. What the recipe chooses, and why:

- `model="deligan"`: a trainable mixture latent (`num_components`
  Gaussians, see tutorial 03) lets the generator spread over a small,
  varied set instead of collapsing onto a few pictures.
- `network="dcgan"`: a convolutional pair for 16 to 128 pixels, RGB or
  grey; its discriminator has no batch norm, which DiffAugment wants.
- `augment="translation,cutout"`: DiffAugment (Zhao et al. 2020, arXiv
  2006.10738) shifts and blanks out patches of *both* real and generated
  images before the discriminator sees them. With a few hundred pictures a
  discriminator otherwise memorises them within a few epochs, and the
  generator stops learning.
- `g_ema`: the preset ships a moving average of the generator's weights,
  which is smoother than the last step's. The average spans about
  `1 / (1 - g_ema)` steps: 0.999 for the full run; the fast run's ten
  steps need 0.9, else it would ship its initial weights.

The run folder gets a checkpoint per epoch (interrupt the full run and
start the tutorial again: it resumes), a sample grid per epoch in
`samples/`, `log.csv`, TensorBoard logs, and at the end `preset/`. The
README's command leaves the length at its default (10 passes over the
data, a few dozen steps for 500 pictures); we give the full run 5000 steps.
"""

cfg = ganzoo.training.TrainConfig(
    model="deligan",
    network="dcgan",
    dataset=str(folder),
    image_size=IMAGE_SIZE,
    channels=3,
    limit=LIMIT,
    augment="translation,cutout",
    g_ema=G_EMA,
    batch_size=BATCH_SIZE,
    epochs=EPOCHS,
    steps_per_epoch=STEPS_PER_EPOCH,
    width=WIDTH,
    latent_dim=LATENT_DIM,
    num_components=NUM_COMPONENTS,
    grid_size=4 if FAST else 8,
    seed=0,
)
# One run folder per recipe and set of pictures (their sha256, not the
# folder's path: the synthetic pictures are redrawn alike in a new folder
# each time), so a finished run of other pictures or settings is never
# taken for this one.
recipe = {k: v for k, v in dataclasses.asdict(cfg).items() if k != "dataset"}
key = json.dumps([recipe, drawn], sort_keys=True).encode()
RUN = (
    WORK / "run"
    if FAST
    else OUT / f"run-{hashlib.sha256(key).hexdigest()[:12]}"
)
# The same run as a command: every field that differs from its default.
default = ganzoo.training.TrainConfig()
command = "ganzoo train " + " ".join(
    f"--{name}={value}"
    for name, value in dataclasses.asdict(cfg).items()
    if value != getattr(default, name)
)
print(command, f"--output_dir={RUN}")

# Started before and unfinished: `train` resumes it.
if (RUN / "preset" / ganzoo.presets_io.METADATA_FILE).exists():
    print(f"{RUN} has finished already; delete it to train again.")
else:
    card = ganzoo.training.train(
        cfg, RUN, verbose=2, command=f"{command} --output_dir={RUN}"
    )
    print({k: card[k] for k in ("steps", "wall_time_s", "final_logs")})

"""
## Looking

`ganzoo.load(run / "preset")` loads the run's preset as it loads the
zoo's: built, weights checked against the sha256s of its
`metadata.json`. `model.sample(n, seed=s)` gives float32 RGB images in
[0, 1], the same for the same seed; `ganzoo.images` tiles them into a grid.
This is what `ganzoo sample RUN/preset --num=64 --out=samples.png` does.
"""

model = ganzoo.load(str(RUN / "preset"))
samples = model.sample(64, seed=0)
print("samples:", samples.shape, samples.dtype, samples.min(), samples.max())
ganzoo.images.save_png(
    ganzoo.images.samples_to_image(samples), OUT / "samples.png"
)

"""
DeLiGAN's latent is a pair: standard-normal noise `eps` and a component
`i`, giving `z = mu[i] + sigma[i] * eps`. `model.generate((eps, ids))`
takes that pair, so we can hold one fixed and vary the other. In
`components.png` each row is one component and each column one noise
vector, shared by all rows: along a row you see how much a component
varies (a component whose sigma has shrunk to nothing repeats one
picture), down a column what the component itself changes.
"""

rows, columns = min(8, model.num_components), 8
rng = np.random.default_rng(1)
eps = rng.standard_normal((columns, model.latent_dim)).astype("float32")
eps = np.tile(eps, (rows, 1))
ids = np.repeat(np.arange(rows), columns).astype("int32")
ganzoo.images.save_png(
    ganzoo.images.image_grid(model.generate((eps, ids)), columns=columns),
    OUT / "components.png",
)

"""
Which pictures trained it? The run folder and its preset hold
`train_images.json`: every picture's path relative to the folder and its
sha256, so a preset says exactly what it learnt from, with no path of your
machine in it, and you can check later that the files have not changed.
"""

manifest = json.loads(
    (RUN / "preset" / ganzoo.training.TRAIN_IMAGES_FILE).read_text()
)
print(f"{len(manifest)} training pictures; the first: {manifest[0]}")
first = hashlib.sha256((folder / manifest[0]["file"]).read_bytes())
assert first.hexdigest() == manifest[0]["sha256"]
assert [m["file"] for m in manifest] == [d["file"] for d in drawn]

"""
## The moving average and batch norm

The moving average replaces the generator's weights, but not its batch
norm statistics, which still describe the last step's weights.
`model.recalibrate_batch_norm()` re-estimates them by running the averaged
generator on fresh latents; nothing else changes. `ganzoo evaluate RUN
--recalibrate_bn=100` measures a run this way. From here on, the model
(and what we export) is the recalibrated one.
"""

model.recalibrate_batch_norm(num_batches=5 if FAST else 100)

"""
## Measuring

With no classifier for your pictures, ganzoo scores them on the pool
features of Keras' InceptionV3: KID (Binkowski et al. 2018, arXiv
1801.01401; unbiased, so it can compare small sample sizes) and FID
(Heusel et al. 2017). `ganzoo.metrics.evaluate_samples(samples, ["kid",
"fid"], dataset=folder)` compares the samples with the folder's pictures,
cut to as many as there are samples; `ganzoo evaluate RUN/preset
--metrics=kid,fid --reference=FOLDER` does the same. Lower is closer. They
compare ganzoo runs with each other, not with papers: this Inception is
not the network of the published FID tables.

The InceptionV3 ImageNet weights (`ganzoo.inception.WEIGHTS_FILE`, 88 MB)
download once into `~/.keras/models/` (`$KERAS_HOME/models/`). Offline,
`feature_extractor()` raises `ganzoo.zoo.DownloadError`, whose message
names the URL to fetch elsewhere and the folder to place the file in.

**In fast mode we use `weights=None`**, a randomly initialised Inception,
because the tests run without network. That exercises the code path
only: numbers on random features mean nothing, and are printed as such.
"""

if FAST:
    inception = ganzoo.inception.feature_extractor(weights=None)
else:
    try:
        inception = ganzoo.inception.feature_extractor()
    except ganzoo.zoo.DownloadError as error:
        print(f"No KID/FID: {error}")
        inception = None
if inception is not None:
    scores = ganzoo.metrics.evaluate_samples(
        model.sample(NUM_EVAL, seed=1),
        ["kid", "fid"],
        dataset=str(folder),
        inception_model=inception,
    )
    note = " (random Inception: meaningless)" if FAST else ""
    print(
        f"KID {scores['kid']:.3g} +- {scores['kid_std']:.2g}, "
        f"FID {scores['fid']:.3g}, against {scores['reference_images']} "
        f"pictures{note}"
    )

"""
## Export for serving

`ganzoo.export_saved_model` writes the generator and the mixture as a
SavedModel in `<base>/<version>/`, the layout TensorFlow Serving polls
(tutorial 06 covers the server). `ganzoo export RUN/preset serving/mine`
is the same from the command line. Reloaded with plain
`tf.saved_model.load` (TF Serving reads the same files, without Python),
its `serving_default` signature takes DeLiGAN's noise and component ids
and returns RGB images in [0, 1], equal to `model.generate`.
"""

version_dir = ganzoo.export_saved_model(model, WORK / "serving" / "mine")
served = tf.saved_model.load(version_dir)
component = np.arange(16, dtype="int32") % model.num_components
noise = rng.standard_normal((16, model.latent_dim)).astype("float32")
images = served.signatures["serving_default"](
    noise=tf.constant(noise), component=tf.constant(component)
)["images"].numpy()
print("served:", images.shape, images.min(), images.max())
assert images.shape == (16, IMAGE_SIZE, IMAGE_SIZE, 3)
assert np.allclose(images, model.generate((noise, component)), atol=1e-5)
ganzoo.images.save_png(
    ganzoo.images.image_grid(images), OUT / "served_samples.png"
)

"""
## Going further

- Train longer, or compare runs: KID of two runs on the same folder and
  sample size is a fair comparison; so is a different `seed` on the same
  `limit` draw.
- More diversity: raise `sigma_reg` (the pull of the components' sigma
  towards 1) or `num_components`; watch `components.png`.
- Start from your preset to train further: `ganzoo train ...
  --init_from=RUN/preset` with the same networks.
"""

print(f"Figures written to {OUT}")
