"""The three models, `GAN`, `LSGAN`, `DeLiGAN`, and their registry
`MODELS` (the names `ganzoo train --model` takes)."""

from ganzoo.models.deligan import DeLiGAN
from ganzoo.models.gan import GAN
from ganzoo.models.lsgan import LSGAN

__all__ = ["GAN", "LSGAN", "MODELS", "DeLiGAN"]

MODELS = {"gan": GAN, "lsgan": LSGAN, "deligan": DeLiGAN}
