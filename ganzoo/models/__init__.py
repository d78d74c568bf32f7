"""The three models: `GAN`, `LSGAN`, `DeLiGAN`."""

from ganzoo.models.deligan import DeLiGAN
from ganzoo.models.gan import GAN
from ganzoo.models.lsgan import LSGAN

__all__ = ["GAN", "LSGAN", "DeLiGAN"]
