"""ganzoo: GAN, LSGAN and DeLiGAN in Keras 3, with pretrained weights."""

from ganzoo import layers
from ganzoo import losses
from ganzoo import networks
from ganzoo.models import GAN
from ganzoo.models import LSGAN
from ganzoo.models import DeLiGAN

__version__ = "0.1.0"
