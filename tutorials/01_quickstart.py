"""
Title: Quickstart: sample from a pretrained DeLiGAN
Author: ganzoo team
Description: List the zoo, load a preset in one line, draw a grid of
samples, and walk through the latent space.
"""

"""
## Setup

```shell
pip install -e .          # from a checkout of ganzoo
python tutorials/01_quickstart.py
```

Pretrained weights are checked against the sha256 in ganzoo's registry
before use; they ship inside the package (a preset whose registry entry
ships no `model.weights.h5`, such as gan-mnist, keeps its discriminator in a
download, fetched into `$GANZOO_HOME`, default `~/.keras/ganzoo`, only for
fine-tuning). This tutorial
reads no dataset. Figures go to `$GANZOO_TUTORIAL_OUT/01_quickstart/`
(default `tutorial_outputs/`); `GANZOO_FAST=1` makes the pictures smaller.
"""

import os
import pathlib

import keras
import numpy as np

import ganzoo
import ganzoo.images

FAST = os.environ.get("GANZOO_FAST") == "1"
OUT = pathlib.Path(os.environ.get("GANZOO_TUTORIAL_OUT", "tutorial_outputs"))
OUT = OUT / "01_quickstart"
OUT.mkdir(parents=True, exist_ok=True)
STEPS = 6 if FAST else 10  # images per interpolation

"""
## What is in the zoo

`ganzoo.list_models()` names every preset: model + dataset, e.g.
`deligan-mnist` (DeLiGAN trained on 500 MNIST digits) or `gan-ring8` (a
GAN on the 2-D ring of eight Gaussians). The classifier presets are the
reference networks behind the image metrics.
"""

print(ganzoo.list_models())

"""
## Load a preset

`ganzoo.load(name)` returns a built Keras model with its weights: here a
`ganzoo.DeLiGAN`. Its model card (data, training command, steps, wall
time, ...) is in `model.preset_metadata`. `ganzoo.load` also accepts a
preset folder, such as the `preset/` folder that `ganzoo train` writes.
"""

model = ganzoo.load("deligan-mnist")
card = model.preset_metadata
print(
    type(model).__name__,
    "latent_dim:",
    model.latent_dim,
    "components:",
    model.num_components,
)
print({k: card.get(k) for k in ("dataset", "limit", "steps", "command")})

"""
## Sample

`model.sample(n, seed=s)` returns a float32 numpy array of `n` images of
shape `(n, 28, 28, 1)` with pixels in [0, 1], whatever the generator's
own output range (tanh's [-1, 1] here). The same seed always gives the
same samples, on any machine and under any distribution strategy.

`ganzoo.images.samples_to_image` tiles images into one grid (2-D toy
samples become a scatter plot instead) and `ganzoo.images.save_png`
writes it. The command line does the same:
`ganzoo sample deligan-mnist --num=64 --seed=0 --out=grid.png`.
"""

samples = model.sample(64, seed=0)
print(samples.shape, samples.dtype, samples.min(), samples.max())
assert np.array_equal(samples, model.sample(64, seed=0))
ganzoo.images.save_png(
    ganzoo.images.samples_to_image(samples), OUT / "samples.png"
)

"""
## The DeLiGAN latent

A GAN draws `z` from one fixed distribution. DeLiGAN (Gurumurthy et al.
2017, arXiv 1706.02071) learns a Gaussian mixture instead: it draws a
component `i` and standard-normal noise `eps`, and feeds the generator
`z = mu[i] + sigma[i] * eps`. `mu` and `sigma` (both
`(num_components, latent_dim)`) live in `model.mixture`, a
`ganzoo.layers.MixtureLatent` layer trained with the generator.

So a DeLiGAN latent is a pair `(eps, ids)`, and `model.generate` accepts
that tuple: `model.generate((eps, ids))` returns images in [0, 1] just
like `sample`. (`sample(n, seed)` is `generate(model.draw_latent(n,
key))` with a key derived from the seed.)
"""

sigma = keras.ops.convert_to_numpy(model.mixture.sigma)
print(
    f"mu {model.mixture.mu.shape}, sigma {sigma.shape}: sigma from "
    f"{sigma.min():.3f} to {sigma.max():.3f}, mean {sigma.mean():.3f}"
)

"""
## Interpolate the noise within a component

Each row keeps one component and moves `eps` from one noise vector to
another. We use spherical interpolation: in 30 dimensions a straight
line between two Gaussian vectors passes through points of atypically
small norm, a great circle does not (White 2016, arXiv 1609.04468).

The rows change exactly as much as `sigma` lets them: a component with a
small sigma is almost one point in latent space, so its row is almost one
image. That is the trade-off DeLiGAN's sigma regulariser controls (see
tutorial 03).
"""


def slerp(a, b, t):
    """Spherical interpolation between vectors a and b at fractions t."""
    omega = np.arccos(
        np.clip(np.dot(a / np.linalg.norm(a), b / np.linalg.norm(b)), -1, 1)
    )
    t = np.asarray(t)[:, None]
    if omega < 1e-6:
        return (1 - t) * a + t * b
    return (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)


rng = np.random.default_rng(0)
eps_from, eps_to = rng.standard_normal((2, model.latent_dim))
path = slerp(eps_from, eps_to, np.linspace(0, 1, STEPS)).astype("float32")
components = [0, 1, 2, 3]
eps = np.concatenate([path] * len(components))
ids = np.repeat(components, STEPS).astype("int32")
rows = model.generate((eps, ids))
ganzoo.images.save_png(
    ganzoo.images.image_grid(rows, columns=STEPS), OUT / "interpolation.png"
)

"""
## Interpolate between components

To cross from one component to another we leave the mixture's discrete
choice behind and interpolate `z` itself, from `mu[a]` to `mu[b]`, then
apply the generator. `model.generator` is the plain Keras generator (its
output is in the model's `data_range`) and `model.postprocess` maps it to
[0, 1] as `sample` does.

For a `ganzoo.GAN` or `ganzoo.LSGAN` the latent is just `z`, and
`model.generate(z)` takes a `(n, latent_dim)` array directly:

```python
gan = ganzoo.load("gan-mnist")
z = np.linspace(z_from, z_to, 10)   # (10, 100)
images = gan.generate(z)           # (10, 28, 28, 1) in [0, 1]
```

(draw `z_from`, `z_to` from the model's prior: `gan.latent_distribution`
is `"uniform"` for the GAN paper's MNIST net, U(-sqrt 3, sqrt 3)).
"""

mu = keras.ops.convert_to_numpy(model.mixture.mu)
pairs = [(0, 1), (2, 3), (4, 5), (6, 7)]
t = np.linspace(0, 1, STEPS)[:, None]
z = np.concatenate([(1 - t) * mu[a] + t * mu[b] for a, b in pairs])
between = keras.ops.convert_to_numpy(
    model.postprocess(model.generator(z.astype("float32")))
)
ganzoo.images.save_png(
    ganzoo.images.image_grid(between, columns=STEPS),
    OUT / "between_components.png",
)

"""
## Next steps

- `02_train_gan_mnist.py`: train the GAN paper's MNIST model yourself.
- `03_deligan_limited_data.py`: what the mixture buys on 500 images.
- `06_serving.py`: export a preset for TensorFlow Serving.
"""

print(f"Figures written to {OUT}")
