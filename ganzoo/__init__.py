"""ganzoo: GAN, LSGAN and DeLiGAN in Keras 3, with pretrained weights.

The names below load on first use, so `import ganzoo` (and the `ganzoo`
command) does not start TensorFlow before it needs to.

Example:
>>> import ganzoo
>>> model = ganzoo.load("deligan-mnist")
>>> model.sample(16, seed=0).shape
(16, 28, 28, 1)
"""

import importlib

from ganzoo.version import __version__

# name -> (module, attribute or None for the module itself); one per line.
_EXPORTS = {
    "GAN": ("ganzoo.models", "GAN"),
    "LSGAN": ("ganzoo.models", "LSGAN"),
    "DeLiGAN": ("ganzoo.models", "DeLiGAN"),
    "load": ("ganzoo.zoo", "load"),
    "list_models": ("ganzoo.zoo", "list_models"),
    "export_saved_model": ("ganzoo.export", "export_saved_model"),
    "augment": ("ganzoo.augment", None),
    "callbacks": ("ganzoo.callbacks", None),
    "classifier": ("ganzoo.classifier", None),
    "datasets": ("ganzoo.datasets", None),
    "evaluation": ("ganzoo.evaluation", None),
    "export": ("ganzoo.export", None),
    "images": ("ganzoo.images", None),
    "inception": ("ganzoo.inception", None),
    "layers": ("ganzoo.layers", None),
    "losses": ("ganzoo.losses", None),
    "metrics": ("ganzoo.metrics", None),
    "models": ("ganzoo.models", None),
    "networks": ("ganzoo.networks", None),
    "presets_io": ("ganzoo.presets_io", None),
    "schedules": ("ganzoo.schedules", None),
    "training": ("ganzoo.training", None),
    "zoo": ("ganzoo.zoo", None),
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'ganzoo' has no attribute {name!r}")
    module_name, attribute = _EXPORTS[name]
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)  # not importlib, _EXPORTS, version
