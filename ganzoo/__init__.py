"""ganzoo: GAN, LSGAN and DeLiGAN in Keras 3, with pretrained weights.

Example:
>>> import ganzoo
>>> model = ganzoo.load("deligan-mnist")  # doctest: +SKIP
>>> images = model.sample(16, seed=0)  # doctest: +SKIP
"""

from ganzoo import (
    callbacks,
    datasets,
    evaluation,
    images,
    layers,
    losses,
    metrics,
    networks,
    presets_io,
    training,
    zoo,
)
from ganzoo.export import export_saved_model
from ganzoo.models import GAN, LSGAN, DeLiGAN
from ganzoo.zoo import list_models, load

__version__ = "0.1.0"
