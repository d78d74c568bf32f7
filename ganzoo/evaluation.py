"""`ganzoo evaluate`: metrics of a preset, a training run or saved samples.

Example:
>>> r = evaluate_source("deligan-mnist", metrics=["classifier_score"])  # doctest: +SKIP
>>> print(format_table(r))  # doctest: +SKIP
"""

import pathlib

import numpy as np

from ganzoo import metrics as metrics_lib
from ganzoo import presets_io


def load_source(source):
    """`(model or None, samples or None, dataset or None)` for a source:
    a preset name, a preset folder, a training run folder (its `preset/`),
    a `.npy` file, or a folder of `.npy` files (concatenated).

    Example:
    >>> model, _, dataset = load_source("gan-ring8")  # doctest: +SKIP
    """
    from ganzoo import zoo

    path = pathlib.Path(source)
    if path.is_file() and path.suffix == ".npy":
        return None, np.load(path), None
    if path.is_dir() and (path / "preset" / presets_io.METADATA_FILE).exists():
        path = path / "preset"
    if path.is_dir() and not (path / presets_io.METADATA_FILE).exists():
        files = sorted(path.glob("*.npy"))
        if not files:
            raise FileNotFoundError(
                f"{path} holds neither a preset (metadata.json), a training "
                "run (preset/) nor .npy samples."
            )
        return None, np.concatenate([np.load(f) for f in files]), None
    model = zoo.load(str(path) if path.is_dir() else source)
    return model, None, model.preset_metadata.get("dataset")


def evaluate_source(source, metrics=None, num_samples=10000, seed=0,
                    dataset=None, data_dir=None):
    """Samples `num_samples` from a model (or reads saved samples) and runs
    `ganzoo.metrics.evaluate_samples`. Returns a JSON-ready dict.

    Example:
    >>> evaluate_source("gan-ring8", num_samples=2500)["metrics"]
    ... # doctest: +SKIP
    {'mode_coverage': {'modes_covered': 8, ...}}
    """
    model, samples, source_dataset = load_source(source)
    dataset = dataset or source_dataset
    if model is not None:
        samples = model.sample(num_samples, seed=seed)
    if dataset is None:
        if samples.ndim == 2:
            raise ValueError(
                "Samples are 2-D points: say which toy they come from with "
                f"dataset= ({', '.join(metrics_lib.TOY_DATASETS)})."
            )
        dataset = "mnist"
    results = metrics_lib.evaluate_samples(
        samples, metrics=metrics, dataset=dataset, data_dir=data_dir
    )
    return {
        "source": str(source),
        "dataset": dataset,
        "num_samples": len(samples),
        "seed": seed if model is not None else None,
        "metrics": _jsonable(results),
    }


def format_table(result):
    """A readable two-column table of `evaluate_source`'s result.

    Example:
    >>> print(format_table(evaluate_source("gan-ring8")))  # doctest: +SKIP
    """
    rows = [("source", result["source"]), ("dataset", result["dataset"]),
            ("samples", str(result["num_samples"]))]
    for name, value in result["metrics"].items():
        rows.append((name, _format_value(name, value)))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def _format_value(name, value):
    if name == "class_histogram":
        return " ".join(f"{i}:{v:.3f}" for i, v in enumerate(value))
    if name == "parzen":
        return (f"{value['mean']:.1f} +- {value['stderr']:.1f} "
                f"(sigma {value['sigma']:.3f})")
    if name == "mode_coverage":
        return (f"{value['modes_covered']}/{value['num_modes']} modes, "
                f"{100 * value['high_quality_fraction']:.1f}% high quality")
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in np.asarray(value).tolist()]
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value
