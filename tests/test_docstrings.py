"""Every public name has a docstring, and runnable examples run."""

import doctest
import importlib
import inspect

import pytest

import ganzoo

MODULES = [
    "ganzoo",
    "ganzoo.augment",
    "ganzoo.callbacks",
    "ganzoo.classifier",
    "ganzoo.cli",
    "ganzoo.datasets",
    "ganzoo.evaluation",
    "ganzoo.export",
    "ganzoo.images",
    "ganzoo.inception",
    "ganzoo.layers",
    "ganzoo.losses",
    "ganzoo.metrics",
    "ganzoo.networks",
    "ganzoo.presets_io",
    "ganzoo.schedules",
    "ganzoo.training",
    "ganzoo.zoo",
    "ganzoo.version",
    "ganzoo.models",
    "ganzoo.models.gan",
    "ganzoo.models.lsgan",
    "ganzoo.models.deligan",
    "ganzoo.models.adaptive",
    "ganzoo.models.adaptive_step",
]
# Examples that run in a second or two and need no data or presets.
DOCTESTED = [
    "ganzoo.augment",
    "tools.results",
    "ganzoo.losses",
    "ganzoo.layers",
    "ganzoo.networks",
    "ganzoo.images",
    "ganzoo.models.gan",
    "ganzoo.models.lsgan",
    "ganzoo.models.deligan",
    "ganzoo.models.adaptive",
    "ganzoo.schedules",
    "ganzoo.training",
]


def _public(module):
    for name, obj in vars(module).items():
        if name.startswith("_") or not callable(obj):
            continue
        if getattr(obj, "__module__", None) != module.__name__:
            continue
        yield name, obj
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_") or attr in ("call", "build"):
                    continue
                if callable(member) or isinstance(member, property):
                    # getattr + getdoc: an override inherits its docstring.
                    yield f"{name}.{attr}", getattr(obj, attr)


@pytest.mark.parametrize("module_name", MODULES)
def test_public_names_have_docstrings(module_name):
    module = importlib.import_module(module_name)
    assert module.__doc__, module_name
    inherited_ok = {
        "get_config",
        "from_config",
        "compute_output_shape",
        "get_compile_config",
        "compile_from_config",
        "train_step",
        "test_step",
        "on_epoch_end",
        "on_epoch_begin",
        "__call__",
    }
    missing = [
        name
        for name, obj in _public(module)
        if name.split(".")[-1] not in inherited_ok
        and not (inspect.getdoc(obj) or "").strip()
    ]
    assert not missing, f"{module_name}: no docstring on {missing}"


@pytest.mark.parametrize("module_name", DOCTESTED)
def test_examples_run(module_name):
    module = importlib.import_module(module_name)
    result = doctest.testmod(
        module,
        extraglobs={"ganzoo": ganzoo},
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.failed == 0


@pytest.mark.parametrize("module_name", MODULES)
def test_public_modules_declare_all(module_name):
    module = importlib.import_module(module_name)
    assert hasattr(module, "__all__"), f"{module_name} has no __all__"
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert not missing, f"{module_name}.__all__ names missing {missing}"
    if module_name != "ganzoo":
        defined = [
            n
            for n, obj in vars(module).items()
            if not n.startswith("_")
            and callable(obj)
            and getattr(obj, "__module__", None) == module_name
        ]
        assert set(defined) <= set(module.__all__), (
            f"{module_name}: public but not in __all__: "
            f"{sorted(set(defined) - set(module.__all__))}"
        )


def test_top_level_api():
    for name in (
        "GAN",
        "LSGAN",
        "DeLiGAN",
        "load",
        "list_models",
        "export_saved_model",
        "datasets",
        "metrics",
        "networks",
        "training",
        "zoo",
        "__version__",
    ):
        assert name in ganzoo.__all__ and hasattr(ganzoo, name), name
    from ganzoo import version

    assert ganzoo.__version__ == version.__version__


@pytest.mark.parametrize(
    "module, name, new",
    [
        ("ganzoo.networks", "BUILDERS", "NETWORKS"),
        ("ganzoo.training", "NETWORKS", "ganzoo.networks.NETWORKS"),
        ("ganzoo.training", "MODELS", "ganzoo.models.MODELS"),
    ],
)
def test_renamed_names_keep_a_deprecated_alias(module, name, new):
    module = importlib.import_module(module)
    with pytest.warns(DeprecationWarning, match=new):
        value = getattr(module, name)
    assert "toy" in value or "gan" in value
