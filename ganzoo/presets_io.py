"""Reading and writing a preset folder: `config.json`, `model.weights.h5`,
`metadata.json`.

This is the format of the shipped presets (`ganzoo/presets/<name>/`), of the
end of `ganzoo train`, and of what `ganzoo.load` reads. `config.json` is the
model's Keras serialisation; the weights file holds only the model's weights
(no optimizer state: what sampling and fine-tuning need); `metadata.json` is
the model card, with the sha256 of the other files. A slim preset holds
`generator.weights.h5` (the generator's weights alone, enough to sample)
instead of `model.weights.h5`.
"""

import datetime
import hashlib
import json
import os
import pathlib
import platform

import keras

# Imported for their serialisation registrations: a preset's config names
# ganzoo's classes.
from ganzoo import _atomic, layers, models  # noqa: F401
from ganzoo._checks import ArgumentError

__all__ = [
    "CONFIG_FILE",
    "GENERATOR_FILE",
    "METADATA_FILE",
    "RUN_CONFIG_FILE",
    "WEIGHTS_FILE",
    "check_preset_target",
    "is_preset",
    "load_preset_dir",
    "save_preset",
    "sha256_of",
]

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
GENERATOR_FILE = "generator.weights.h5"
METADATA_FILE = "metadata.json"
# What `ganzoo train` writes first into a run folder (`preset/` at the end).
RUN_CONFIG_FILE = "train_config.json"


def sha256_of(path):
    """Hex sha256 of a file, read in 1 MiB chunks.

    Example:
    >>> sha256_of("runs/gan-ring8/preset/model.weights.h5")  # doctest: +SKIP
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_preset(folder):
    """Whether `folder` holds a preset (its model card, `metadata.json`).

    Example:
    >>> is_preset("runs/gan-ring8/preset")  # doctest: +SKIP
    True
    """
    return (pathlib.Path(folder) / METADATA_FILE).is_file()


def check_preset_target(directory):
    """`ArgumentError` unless `save_preset` may write `directory`: absent,
    or a preset folder it replaces. Callers with long work before the save
    (training) call it first, so the work is not lost to a late refusal.

    Example:
    >>> check_preset_target("runs/new/preset")  # absent: fine
    """
    directory = pathlib.Path(directory).expanduser()
    if directory.exists() and not is_preset(directory):
        raise ArgumentError(
            f"{directory} exists and is not a preset folder (no "
            f"{METADATA_FILE}); delete it or choose another folder."
        )


def save_preset(model, directory, metadata=None, extra_files=None):
    """Writes `model` as a preset folder and returns its metadata dict.

    Files are written to a temporary folder beside `directory` and moved in
    place at the end, so an interrupted save leaves no half-written preset;
    a failed save also removes the parent folders it made.

    Args:
        model: any serialisable `keras.Model` (a ganzoo model or not).
        directory: the preset folder to create, or an existing preset
            folder (one with a `metadata.json`) to replace; anything else
            already there is refused, never deleted.
        metadata: dict merged into the model card (dataset, protocol,
            command, metrics, ...).
        extra_files: `{name: text}` written beside them (e.g. the list
            of the pictures a run trained on), hashed in the card too.

    Example:
    >>> save_preset(model, "runs/my-gan/preset", {"dataset": "mnist"})  # doctest: +SKIP
    """
    if not isinstance(model, keras.Model):
        raise ArgumentError(
            f"model must be a keras.Model (e.g. a ganzoo.GAN), got "
            f"{type(model).__name__}: save_preset(model, directory)."
        )
    directory = pathlib.Path(directory).expanduser()
    check_preset_target(directory)
    # Parent folders made here are removed again if the save fails.
    with _atomic.made_dirs(directory.parent):
        tmp = _atomic.temp_dir(directory.parent, ".tmp-")
        try:
            config = keras.saving.serialize_keras_object(model)
            # No compile config: a preset is weights for sampling and
            # fine-tuning; optimizer state would triple the file.
            config.pop("compile_config", None)
            (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=1))
            # An uncompiled copy: the file holds weights only, no optimizer state.
            bare = keras.saving.deserialize_keras_object(config)
            bare.set_weights(model.get_weights())
            bare.save_weights(tmp / WEIGHTS_FILE)
            for name, text in (extra_files or {}).items():
                (tmp / name).write_text(text)
            card = {
                "class_name": type(model).__name__,
                "created": datetime.datetime.now(datetime.UTC).isoformat(
                    timespec="seconds"
                ),
                "keras_version": keras.__version__,
                "hardware": _hardware(),
            }
            card.update(metadata or {})
            card["files"] = {
                name: {
                    "sha256": sha256_of(tmp / name),
                    "bytes": os.path.getsize(tmp / name),
                }
                for name in (CONFIG_FILE, WEIGHTS_FILE, *(extra_files or {}))
            }
            (tmp / METADATA_FILE).write_text(json.dumps(card, indent=1) + "\n")
            _atomic.replace_dir(tmp, directory)
        except BaseException:
            _rmtree(tmp)
            raise
    return card


def load_preset_dir(directory, verify=True):
    """Builds the model of a preset folder and loads its weights.

    Args:
        directory: a folder with `config.json`, `metadata.json` and
            `model.weights.h5` (or, for a slim preset, `generator.weights.h5`:
            then the discriminator keeps its initial weights and the returned
            card says `"weights_loaded": "generator"`).
        verify: check the files against the sha256 in `metadata.json`.

    Returns:
        `(model, metadata)`.

    Example:
    >>> model, card = load_preset_dir("runs/gan-ring8/preset")  # doctest: +SKIP
    """
    directory = pathlib.Path(directory)
    weights = next(
        (
            n
            for n in (WEIGHTS_FILE, GENERATOR_FILE)
            if (directory / n).is_file()
        ),
        WEIGHTS_FILE,
    )
    missing = [
        n
        for n in (CONFIG_FILE, weights, METADATA_FILE)
        if not (directory / n).is_file()
    ]
    if missing:
        raise FileNotFoundError(
            f"{directory} is not a preset folder: missing {', '.join(missing)}."
        )
    metadata = _read_object(directory / METADATA_FILE, "preset card")
    if verify:
        files = metadata.get("files")
        for name in (CONFIG_FILE, weights):
            info = files.get(name) if isinstance(files, dict) else None
            expected = info.get("sha256") if isinstance(info, dict) else None
            actual = sha256_of(directory / name)
            if actual != expected:
                raise ArgumentError(
                    f"{directory / name} is corrupted: sha256 {actual} does "
                    f"not match {METADATA_FILE}'s "
                    f"{expected or 'record (none)'}."
                )
    config = _read_object(directory / CONFIG_FILE, "model config")
    model = keras.saving.deserialize_keras_object(config)
    if weights == WEIGHTS_FILE:
        model.load_weights(directory / WEIGHTS_FILE)
    else:
        model.generator.load_weights(directory / GENERATOR_FILE)
        metadata = dict(metadata, weights_loaded="generator")
    return model, metadata


def _read_object(path, what):
    """The JSON object (dict) in `path`; else an `ArgumentError` naming the
    file (truncated, empty, not UTF-8, or not an object)."""
    try:
        value = json.loads(path.read_text())
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError
        reason = str(e)
    else:
        if isinstance(value, dict):
            return value
        reason = "its top level is not a JSON object"
    raise ArgumentError(
        f"{path} is not a valid {what} ({reason}): re-download or re-create "
        "the preset."
    )


def _hardware():
    return {
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }


def _rmtree(path):
    import shutil

    shutil.rmtree(path, ignore_errors=True)
