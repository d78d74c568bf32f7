"""The three models, `GAN`, `LSGAN`, `DeLiGAN`, their registry `MODELS`
(the names `ganzoo train --model` takes), and `AdaptiveSwitch`, the rule of
`update="adaptive"`.

Importing it registers everything a saved ganzoo model needs for
`keras.saving.load_model`, its optimizers included.
"""

# A model trained with `--optimizer=sgd` saves `VariableMomentumSGD`.
from ganzoo import schedules  # noqa: F401
from ganzoo.models.adaptive import AdaptiveSwitch
from ganzoo.models.deligan import DeLiGAN
from ganzoo.models.gan import GAN
from ganzoo.models.lsgan import LSGAN

__all__ = ["GAN", "LSGAN", "MODELS", "AdaptiveSwitch", "DeLiGAN"]

MODELS = {"gan": GAN, "lsgan": LSGAN, "deligan": DeLiGAN}
