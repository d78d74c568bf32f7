"""`ganzoo evaluate`: metrics of a preset, a training run or saved samples.

Example:
>>> r = evaluate_source("deligan-mnist", metrics=["classifier_score"])  # doctest: +SKIP
>>> print(format_table(r))  # doctest: +SKIP
"""

import os
import pathlib

import numpy as np

from ganzoo import datasets, presets_io
from ganzoo import metrics as metrics_lib
from ganzoo._checks import (
    ArgumentError,
    check_choice,
    check_generator,
    check_non_negative_ints,
    check_positive_ints,
)

# SAMPLINGS: as the model samples (DeLiGAN: eps ~ N(0, I)), or "paper", as
# the DeLiGAN authors evaluated (`ganzoo.DeLiGAN.draw_latent`).
from ganzoo.models.deligan import PAPER_SAMPLES_PER_COMPONENT, SAMPLINGS

__all__ = [
    "DEFAULT_NUM_SAMPLES",
    "SAMPLINGS",
    "evaluate_model",
    "evaluate_source",
    "format_comparison",
    "format_table",
    "load_source",
]

DEFAULT_NUM_SAMPLES = 10000
_MNIST_SHAPES = ((28, 28, 1), (28, 28))  # samples of an MNIST-family model


def load_source(source):
    """`(model or None, samples or None, dataset or None)` for a source:
    a preset name, a preset folder, a training run folder (its `preset/`),
    a `.npy` file, or a folder of `.npy` files (concatenated).

    Example:
    >>> model, _, dataset = load_source("gan-ring8")  # doctest: +SKIP
    """
    from ganzoo import zoo

    if not isinstance(source, (str, os.PathLike)):
        raise ArgumentError(
            f"source must be a preset name, a preset or run folder or a .npy "
            f"path, got a {type(source).__name__}: for a model in memory use "
            "evaluate_model, for an array metrics.evaluate_samples."
        )
    path = pathlib.Path(source).expanduser()
    if path.suffix == ".npy":
        if not path.is_file():
            raise FileNotFoundError(
                f"{source}: no such .npy file"
                + (" (a folder)" if path.is_dir() else "")
                + "; give samples saved by np.save or `ganzoo sample "
                "--out=FILE.npy`."
            )
        return None, _load_samples(path), None
    path = zoo.run_preset(path)  # a training run: its preset/
    if path.is_dir() and not presets_io.is_preset(path):
        files = sorted(path.glob("*.npy"))
        if not files:
            raise FileNotFoundError(
                f"{path} holds neither a preset (metadata.json), a training "
                "run (preset/) nor .npy samples."
            )
        arrays = [_load_samples(f) for f in files]
        for f, x in zip(files[1:], arrays[1:]):
            if x.shape[1:] != arrays[0].shape[1:]:
                raise ArgumentError(
                    f"{files[0]} holds samples of shape {arrays[0].shape[1:]} "
                    f"but {f} of shape {x.shape[1:]}: the .npy files of a "
                    "folder are evaluated together, so they must match."
                )
        return None, np.concatenate(arrays), None
    model = zoo.load(str(path) if path.is_dir() else source)
    return model, None, model.preset_metadata.get("dataset")


def _load_samples(path):
    """The samples array in the .npy file `path`; an `ArgumentError` naming
    the file if it holds anything else."""
    what = (
        "give an array saved by np.save (or `ganzoo sample --out=FILE.npy`) "
        "of float (or uint8) samples, shape (n, H, W, C), (n, H, W) or "
        "(n, 2)."
    )
    try:
        samples = np.load(path)  # no pickles: a .npy of samples has none
    except (ValueError, OSError, EOFError):
        raise ArgumentError(
            f"{path} is not a .npy array (numpy cannot read it): {what}"
        ) from None
    if not isinstance(samples, np.ndarray):  # an .npz named .npy
        samples.close()
        raise ArgumentError(f"{path} is an .npz archive: {what}")
    if samples.dtype.kind not in "fiu" or samples.ndim < 2:
        raise ArgumentError(
            f"{path} holds a {samples.dtype} array of shape "
            f"{samples.shape}, not samples: {what}"
        )
    return samples


def evaluate_source(
    source,
    metrics=None,
    num_samples=None,
    seed=None,
    dataset=None,
    data_dir=None,
    recalibrate_bn=0,
    reference=None,
    sampling="normal",
):
    """Samples `num_samples` from a model with `seed` (default 0), or reads
    saved samples, and runs `ganzoo.metrics.evaluate_samples`. Returns a
    JSON-ready dict. Saved samples take no sampling arguments
    (`num_samples`, `seed`, `sampling`, `recalibrate_bn`: an
    `ArgumentError`), and 28x28 ones need `dataset` ("mnist" or
    "fashion_mnist": their classifiers differ).

    `sampling="paper"` (DeLiGAN only) draws the samples as the DeLiGAN
    authors evaluated: eps ~ U(-1, 1) and, by default, 100 per component
    (5,000 for 50 components). `num_samples` defaults to 10,000 otherwise.

    `reference`: the real images distances and the Parzen number compare
    with (`ganzoo.datasets.reference_arrays`: default the test split, or
    the folder a run trained on; a slice of the train split such as
    "train[50000:]"; a folder; a "tfds:NAME"). When a train slice holds
    images the preset trained on (`datasets.training_overlap`, from its
    card's `take` / `limit`), the result's `reference_note` says how many:
    that reference is not held out.

    `recalibrate_bn` > 0 first re-estimates the generator's batch-norm
    statistics from that many batches of 100 (`GAN.recalibrate_batch_norm`,
    for weights averaged with `--g_ema`), as
    the maintainer tool `tools/results.py promote --recalibrate_bn` does; the files are
    not changed.

    Example:
    >>> evaluate_source("gan-ring8", num_samples=2500)["metrics"]
    ... # doctest: +SKIP
    {'mode_coverage': {'modes_covered': 8, ...}}
    """
    check_choice("sampling", sampling, SAMPLINGS)
    model, samples, source_dataset = load_source(source)
    if model is None:
        for name, value, default in (
            ("num_samples", num_samples, None),
            ("seed", seed, None),
            ("recalibrate_bn", recalibrate_bn, 0),
            ("sampling", sampling, "normal"),
        ):
            if value != default:
                raise ArgumentError(
                    f"{source} holds samples, not a model: {name} needs a "
                    "preset or a training run."
                )
        if dataset is None and samples.shape[1:] in _MNIST_SHAPES:
            raise ArgumentError(
                f"{source} holds 28x28 images: say which data they imitate "
                f"with dataset= ({' or '.join(datasets.IMAGE_NAMES)}; "
                "--dataset on the command line): their classifiers differ."
            )
        return _evaluate(
            samples,
            str(source),
            metrics,
            dataset,
            data_dir,
            reference=reference,
        )
    return evaluate_model(
        model,
        metrics=metrics,
        num_samples=num_samples,
        seed=0 if seed is None else seed,
        dataset=dataset or source_dataset,
        data_dir=data_dir,
        recalibrate_bn=recalibrate_bn,
        source=str(source),
        reference=reference,
        sampling=sampling,
    )


def evaluate_model(
    model,
    metrics=None,
    num_samples=None,
    seed=0,
    dataset=None,
    data_dir=None,
    recalibrate_bn=0,
    source=None,
    reference=None,
    sampling="normal",
):
    """`evaluate_source` for a model in memory: `num_samples` samples drawn
    with `seed`, after `recalibrate_batch_norm(recalibrate_bn)` if > 0 (which
    changes the model's batch-norm statistics in place). `dataset` defaults
    to the model's preset card's, else `"mnist"`. `sampling` and the
    default `num_samples` as in `evaluate_source`.

    Example:
    >>> evaluate_model(ganzoo.load("gan-ring8"))["metrics"]  # doctest: +SKIP
    """
    check_generator(model, "evaluate", source)
    check_non_negative_ints(recalibrate_bn=recalibrate_bn)
    model.check_sampling(sampling)  # before any work
    if num_samples is None:
        num_samples = (
            model.num_components * PAPER_SAMPLES_PER_COMPONENT
            if sampling == "paper"
            else DEFAULT_NUM_SAMPLES
        )
    check_positive_ints(num_samples=num_samples)
    post_training = None
    if recalibrate_bn:
        if not model.recalibrate_batch_norm(num_batches=recalibrate_bn):
            raise ArgumentError(
                f"recalibrate_bn={recalibrate_bn}: {source or 'the model'}'s "
                "generator has no batch norm."
            )
        post_training = (
            f"recalibrate_batch_norm(num_batches={recalibrate_bn}, "
            "batch_size=100, seed=0)"
        )
    dataset = dataset or getattr(model, "preset_metadata", {}).get("dataset")
    samples = model.sample(num_samples, seed=seed, sampling=sampling)
    result = _evaluate(
        samples,
        source or model.name,
        metrics,
        dataset,
        data_dir,
        seed=seed,
        reference=reference,
    )
    if post_training:
        result["post_training"] = post_training
    card = getattr(model, "preset_metadata", {})
    if reference is not None and card.get("dataset") == result["dataset"]:
        shared = datasets.training_overlap(reference, card, data_dir)
        if shared:
            result["reference_note"] = (
                f"{reference} holds {shared:,} of the images "
                f"{source or model.name} trained on: not held-out data"
            )
    if sampling == "paper":
        result["sampling"] = (
            f"paper: eps ~ U(-1, 1), components in turn "
            f"({num_samples / model.num_components:g} per component)"
        )
    return result


def _evaluate(
    samples, source, metrics, dataset, data_dir, seed=None, reference=None
):
    if dataset is None:
        if samples.ndim == 2:
            raise ArgumentError(
                "Samples are 2-D points: say which toy they come from with "
                f"dataset= ({', '.join(metrics_lib.TOY_DATASETS)})."
            )
        is_mnist = samples.shape[1:] in _MNIST_SHAPES
        dataset = "mnist" if is_mnist or reference is None else reference
    try:
        datasets.data_kind(dataset)
    except ArgumentError:
        if reference is None:
            raise ArgumentError(
                f"dataset={dataset!r} (to compare {source} with) is not one "
                f"of {', '.join(datasets.NAMES)}, a folder here or tfds:NAME:"
                " name one as dataset=, or give the real pictures as "
                "reference= (--reference=FOLDER)."
            ) from None
        dataset = reference  # a folder run evaluated elsewhere
    results = metrics_lib.evaluate_samples(
        samples,
        metrics=metrics,
        dataset=dataset,
        data_dir=data_dir,
        reference=reference,
    )
    return {
        "source": source,
        "dataset": dataset,
        "reference": reference,
        "num_samples": len(samples),
        "seed": seed,
        "metrics": _jsonable(results),
    }


def format_table(result):
    """A readable two-column table of `evaluate_source`'s result.

    Example:
    >>> print(format_table(evaluate_source("gan-ring8")))  # doctest: +SKIP
    """
    rows = [
        ("source", result["source"]),
        ("dataset", result["dataset"]),
        ("samples", str(result["num_samples"])),
    ]
    if result.get("reference"):
        rows.append(("reference", result["reference"]))
    if "reference_note" in result:
        rows.append(("note", result["reference_note"]))
    if "post_training" in result:
        rows.append(("post_training", result["post_training"]))
    if "sampling" in result:
        rows.append(("sampling", result["sampling"]))
    for name, value in result["metrics"].items():
        rows.append((name, _format_value(name, value)))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def format_comparison(results):
    """One row per result of `evaluate_source` (e.g. a run's snapshots),
    one column per metric, for choosing among them at a glance; a class
    histogram shows its smallest class share.

    Example:
    >>> print(format_comparison([evaluate_source(s) for s in
    ...     ("runs/x/snapshots/epoch_0010", "runs/x")]))  # doctest: +SKIP
    """
    names = list(results[0]["metrics"])
    header = ["source"] + [
        "min class" if n == "class_histogram" else n for n in names
    ]
    rows = [header]
    for result in results:
        row = [result["source"]]
        for name in names:
            value = result["metrics"].get(name)
            if value is None:
                row.append("-")
            elif name == "class_histogram":
                row.append(f"{min(value):.3f}")
            else:
                row.append(_format_value(name, value))
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
        for row in rows
    )


def _format_value(name, value):
    if name == "class_histogram":
        return " ".join(f"{i}:{v:.3f}" for i, v in enumerate(value))
    if name == "parzen":
        return (
            f"{value['mean']:.1f} +- {value['stderr']:.1f} "
            f"(sigma {value['sigma']:.3f})"
        )
    if name == "mode_coverage":
        return (
            f"{value['modes_covered']}/{value['num_modes']} modes, "
            f"{100 * value['high_quality_fraction']:.1f}% high quality"
        )
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
