"""ganzoo: GAN, LSGAN and DeLiGAN in Keras 3, with pretrained weights.

Example:
>>> import ganzoo
>>> model = ganzoo.load("deligan-mnist")  # doctest: +SKIP
>>> images = model.sample(16, seed=0)  # doctest: +SKIP
"""

from ganzoo import callbacks
from ganzoo import datasets
from ganzoo import evaluation
from ganzoo import images
from ganzoo import layers
from ganzoo import losses
from ganzoo import metrics
from ganzoo import networks
from ganzoo import presets_io
from ganzoo import training
from ganzoo import zoo
from ganzoo.export import export_saved_model
from ganzoo.models import GAN
from ganzoo.models import LSGAN
from ganzoo.models import DeLiGAN
from ganzoo.zoo import list_models
from ganzoo.zoo import load

__version__ = "0.1.0"
