"""
Title: Train the original GAN on MNIST
Author: ganzoo team
Description: Build Goodfellow et al.'s MNIST GAN from ganzoo's building
blocks, train it with `fit`, watch it in TensorBoard, and score it.
"""

"""
## Setup

MNIST comes from one of two places:

```shell
# Offline: a folder with the four original IDX files (train-images-idx3-
# ubyte.gz, ...), directly or in a subfolder mnist/.
export GANZOO_DATA_DIR=../shared/data
# Online: leave GANZOO_DATA_DIR unset and tensorflow_datasets downloads it.
python tutorials/02_train_gan_mnist.py
```

`GANZOO_FAST=1` shrinks the networks and the schedule to a smoke test
(the samples will be noise). Figures, TensorBoard logs and the trained
preset go to `$GANZOO_TUTORIAL_OUT/02_train_gan_mnist/` (default
`tutorial_outputs/`).
"""

import os
import pathlib

import keras
import numpy as np

import ganzoo
import ganzoo.callbacks
import ganzoo.images
import ganzoo.presets_io

FAST = os.environ.get("GANZOO_FAST") == "1"
DATA_DIR = os.environ.get("GANZOO_DATA_DIR")  # None: tensorflow_datasets
OUT = pathlib.Path(os.environ.get("GANZOO_TUTORIAL_OUT", "tutorial_outputs"))
OUT = OUT / "02_train_gan_mnist"
OUT.mkdir(parents=True, exist_ok=True)

LATENT_DIM = 100
BATCH_SIZE = 100
G_UNITS, D_UNITS = (64, 32) if FAST else (1200, 240)
EPOCHS = 2 if FAST else 30
STEPS_PER_EPOCH = 20 if FAST else 600  # 600 x 100 = one pass over 60,000
NUM_EVAL = 500 if FAST else 10000

"""
## The data

`ganzoo.datasets.load` returns a batched, shuffled `tf.data.Dataset` of
float32 images of shape `(batch, 28, 28, 1)`. The GAN paper's generator
ends in a sigmoid, so we ask for pixels in `value_range=(0, 1)` (the
default, (-1, 1), suits tanh generators). `repeat=True` makes the stream
endless, so `steps_per_epoch` alone sets the epoch length.

The paper trains on the first 50,000 training images and keeps the last
10,000 for validation; `take=50000` reproduces that split (it needs the
local IDX files, which keep the original order). We use all 60,000.
"""

dataset = ganzoo.datasets.load(
    "mnist",
    batch_size=BATCH_SIZE,
    value_range=(0, 1),
    data_dir=DATA_DIR,
    seed=0,
    repeat=True,
)
print(next(iter(dataset)).shape)

"""
## The model

`ganzoo.networks` has the paper's two networks:

- `mnist_mlp_generator`: z (100) -> 1200 ReLU -> 1200 ReLU -> 784 sigmoid;
- `mnist_maxout_discriminator`: two maxout layers (240 units x 5 pieces)
  with dropout, then one logit.

`ganzoo.GAN` wires them together. Two arguments describe the data and
the prior:

- `data_range=(0, 1)`: the range of the generator's output. `sample` and
  `generate` always return images in [0, 1]; for a tanh generator you
  would pass (-1, 1) and they would rescale.
- `latent_distribution="uniform"`: the paper's code draws z from a
  uniform distribution (U(-sqrt 3, sqrt 3) here, unit variance); the
  default is `"normal"`.

`seed` keys the training noise, so a run is reproducible, and
`keras.utils.set_random_seed` fixes the initial weights.
"""

keras.utils.set_random_seed(0)
gan = ganzoo.GAN(
    generator=ganzoo.networks.mnist_mlp_generator(
        latent_dim=LATENT_DIM, units=G_UNITS
    ),
    discriminator=ganzoo.networks.mnist_maxout_discriminator(units=D_UNITS),
    latent_dim=LATENT_DIM,
    data_range=(0, 1),
    latent_distribution="uniform",
    seed=0,
)
gan.generator.summary()

"""
## Compile

A GAN has two players, so `compile` takes two optimizers: one for the
discriminator and one for the generator. We use Adam with the DCGAN
settings (learning rate 2e-4, beta_1 0.5); the paper used SGD with
momentum. Other knobs live in the constructor: `d_steps` (k, the
discriminator updates per generator update of the paper's Algorithm 1)
and `generator_loss` (`"non_saturating"`, the default the paper
recommends, or `"minimax"`).
"""

gan.compile(
    d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
    g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
)

"""
## Train with `fit`

Everything `fit` offers works: callbacks, `steps_per_epoch`,
`BackupAndRestore`, distribution strategies. Two callbacks here:

- `ganzoo.callbacks.SampleGrid(OUT)` saves `samples/epoch_NNN.png` after
  every epoch, from fixed noise, so the pictures show the same latent
  points evolve; it also logs them to TensorBoard.
- `keras.callbacks.TensorBoard` logs the metrics. Run
  `tensorboard --logdir tutorial_outputs/02_train_gan_mnist/tensorboard`.

The logged metrics: `d_loss` and `g_loss`, and `d_real` / `d_fake`, D's
mean probability that real / generated images are real. At the game's
equilibrium both approach 0.5 and `d_loss` approaches 2 log 2 = 1.386; a
`d_fake` stuck near 0 means D wins and G gets little signal.
"""

history = gan.fit(
    dataset,
    epochs=EPOCHS,
    steps_per_epoch=STEPS_PER_EPOCH,
    callbacks=[
        ganzoo.callbacks.SampleGrid(OUT, num=64, seed=0),
        keras.callbacks.TensorBoard(str(OUT / "tensorboard")),
    ],
    shuffle=False,  # the dataset shuffles itself
    verbose=2,
)
print({k: round(float(np.mean(v[-1])), 3) for k, v in history.history.items()})

"""
## Sample

`sample(n, seed=s)` draws `n` images in [0, 1]; the same seed gives the
same images.
"""

samples = gan.sample(64, seed=1)
ganzoo.images.save_png(
    ganzoo.images.samples_to_image(samples), OUT / "final_samples.png"
)

"""
## Score it

`ganzoo.metrics.evaluate_samples` runs the metrics of the papers with the
shipped MNIST classifier (`mnist-classifier`):

- `classifier_score`, the "MNIST score" (the Inception Score with an
  MNIST classifier): between 1 and 10, and about 9.8 for real test
  images. Sharp *and* varied digits score high.
- `class_histogram`: the fraction of samples the classifier puts in each
  class; a generator that drops digits shows zeros.

`frechet_distance` and the GAN paper's Parzen-window log-likelihood
(`"parzen"`, with 10,000 samples) are available too; `ganzoo evaluate`
runs the same metrics from the command line.
"""

scores = ganzoo.metrics.evaluate_samples(
    gan.sample(NUM_EVAL, seed=2),
    ["classifier_score", "class_histogram"],
    dataset="mnist",
    data_dir=DATA_DIR,
)
print("classifier score:", round(scores["classifier_score"], 3))
print("class histogram:", np.round(scores["class_histogram"], 3).tolist())

"""
## Save and reload

`ganzoo.presets_io.save_preset` writes the model as a preset folder
(config, weights, and a model card with sha256 hashes): the format of the
zoo. `ganzoo.load` reads it back, checks the hashes and returns a model
that samples exactly as this one does. (`gan.save("gan.keras")` works as
well, and also keeps the optimizers' state for resuming training.)
"""

ganzoo.presets_io.save_preset(
    gan, OUT / "preset", {"dataset": "mnist", "epochs": EPOCHS}
)
reloaded = ganzoo.load(OUT / "preset")
assert np.allclose(reloaded.sample(8, seed=1), gan.sample(8, seed=1))

r"""
## The command line

`ganzoo train` runs this recipe from the command line, with resumable
checkpoints, a CSV log and a preset at the end. This is the first phase
of the `gan-mnist` preset's recipe: the networks, batch, optimizers and
30 epochs above, on the paper's 50,000 images (`--take=50000`, so an
epoch is 500 steps):

```shell
ganzoo train --model=gan --network=mnist_mlp --dataset=mnist \
    --take=50000 --batch_size=100 --epochs=30 \
    --output_dir=runs/gan-mnist-phase1
```

The preset trains eight more phases, each from the previous phase's
preset (`--init_from`): 10 epochs decaying the learning rate to 0, then
320 epochs at 2e-4 with a moving average of G's weights (`--g_ema`,
0.999 rising to 0.99995). The full recipe is in `tools/train_presets.sh`
(`gan-mnist-phase1` to `gan-mnist-phase8`, then `gan-mnist`), and the
preset's card records every phase's command:
`ganzoo.load("gan-mnist").preset_metadata["previous_phases"]` and, for the
last phase, `["command"]`.
"""

print(f"Figures written to {OUT}")
