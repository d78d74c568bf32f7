"""The model zoo: `list_models()`, `load(name)`, hash-checked downloads.

Presets are data. `ganzoo/registry.json` holds, per preset, what `load`
needs: its description, model class, dataset, the sha256 of every file, and
which files ship inside the package. It is written by the maintainer tool
`python -m tools.results registry` from the preset folders, never by hand, so
the hashes a user checks against ship with the code. A preset's recipe,
metrics and history are in its model card, `metadata.json`.

Where `load(name)` finds a preset's files, first match wins; every file is
checked against the registry's sha256 before use:
1. the package's own `ganzoo/presets/<name>/` (shipped in the wheel; no
   network needed);
2. the cache, `$GANZOO_HOME/presets/<name>/` (default `~/.keras/ganzoo`);
3. a download from `$GANZOO_BASE_URL/<name>/<file>` into the cache (default:
   the `zoo_weights/` folder of this version's git tag): temporary file,
   verify, atomic rename. A failed hash or an interrupted transfer leaves
   nothing in the cache; concurrent loads never see a partial file.

Some presets ship only what sampling needs (`generator.weights.h5`); their
full weights (`model.weights.h5`, the discriminator too, for fine-tuning) are
fetched by `load(name, full=True)`.
`load(path)` of a preset folder (e.g. a training run's `preset/`) checks the
files against the folder's own `metadata.json`.
"""

import difflib
import importlib.resources
import json
import os
import pathlib
import urllib.error
import urllib.request

import numpy as np

from ganzoo import _atomic, presets_io
from ganzoo._checks import ArgumentError, check_bools
from ganzoo.version import __version__

__all__ = [
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "HOME_ENV",
    "PACKAGE_PRESETS",
    "PRESETS",
    "DownloadError",
    "atomic_save_npy",
    "cache_dir",
    "fetch",
    "list_models",
    "load",
    "run_preset",
]

REGISTRY_FILE = pathlib.Path(__file__).with_name("registry.json")
PACKAGE_PRESETS = pathlib.Path(
    str(importlib.resources.files("ganzoo") / "presets")
)
HOME_ENV = "GANZOO_HOME"
BASE_URL_ENV = "GANZOO_BASE_URL"
# Pinned to this version's tag: the files behind a URL never change.
DEFAULT_BASE_URL = (
    f"https://raw.githubusercontent.com/ganzoo/ganzoo/v{__version__}/"
    "zoo_weights"
)
TIMEOUT_S = 60


class DownloadError(OSError):
    """A preset file could not be downloaded or failed its sha256."""


def _read_registry():
    if not REGISTRY_FILE.exists():
        return {}
    return json.loads(REGISTRY_FILE.read_text())


PRESETS = _read_registry()


def list_models():
    """Names of the presets `load` knows, sorted.

    Example:
    >>> "deligan-mnist" in list_models()
    True
    """
    return sorted(PRESETS)


def cache_dir():
    """`$GANZOO_HOME`, or `~/.keras/ganzoo`: the download cache.

    Example:
    >>> str(cache_dir()).endswith("ganzoo")  # doctest: +SKIP
    True
    """
    home = os.environ.get(HOME_ENV)
    return (
        pathlib.Path(home)
        if home
        else pathlib.Path.home() / ".keras" / ("ganzoo")
    )


def load(name_or_path, verify=True, full=False):
    """A preset model, built, weights loaded, ready to sample or fine-tune.

    Args:
        name_or_path: a name from `list_models()`, a preset folder, or a
            finished training run's folder (its `preset/`).
        verify: check a folder's files against its `metadata.json` (a
            registry preset is always checked against the registry).
        full: for a preset that ships only its generator's weights, fetch
            the full weights (the discriminator too) first: what fine-tuning
            needs. Otherwise such a preset's discriminator keeps its initial
            weights, and `model.preset_metadata["weights_loaded"]` is
            `"generator"`.

    Returns:
        The model (e.g. a `ganzoo.DeLiGAN`). Its model card is in
        `model.preset_metadata`. Compile it to train it further.

    Example:
    >>> model = ganzoo.load("deligan-mnist")
    >>> model.sample(64, seed=0).shape
    (64, 28, 28, 1)
    """
    if not isinstance(name_or_path, (str, os.PathLike)) or not str(
        name_or_path
    ):
        raise ArgumentError(
            f"name_or_path must be a preset name ({', '.join(list_models())})"
            f" or a preset folder, got {name_or_path!r}."
        )
    check_bools(verify=verify, full=full)
    path = run_preset(pathlib.Path(name_or_path).expanduser())
    if path.is_dir():
        model, metadata = presets_io.load_preset_dir(path, verify=verify)
    elif path.is_file() and path.name.endswith((".keras", ".weights.h5")):
        how = (
            "build the model and call its load_weights"
            if path.name.endswith(".h5")
            else "load it with keras.saving.load_model after import "
            "ganzoo.models (which registers ganzoo's classes with Keras)"
        )
        raise ArgumentError(
            f"{name_or_path} is a Keras file, not a preset folder: {how}."
        )
    elif path.exists():
        raise FileNotFoundError(
            f"{name_or_path} is a file, not a preset folder (pass a preset "
            f"folder or one of the names {', '.join(list_models())})."
        )
    elif str(name_or_path) not in PRESETS and (
        isinstance(name_or_path, os.PathLike)
        or os.sep in str(name_or_path)
        or str(name_or_path).startswith((".", "~"))
    ):
        raise FileNotFoundError(
            f"{name_or_path} is not a folder (pass a preset folder or one of "
            f"the names {', '.join(list_models())})."
        )
    else:
        model, metadata = presets_io.load_preset_dir(
            fetch(str(name_or_path), full=full), verify=False
        )
    model.preset_metadata = metadata
    return model


def run_preset(path):
    """For a `ganzoo train` run folder (its `train_config.json` or a
    finished `preset/`), the run's `preset/`; any other path unchanged.
    `FileNotFoundError` for a run that has not finished."""
    finished = presets_io.is_preset(path / "preset")
    if not finished and not (path / presets_io.RUN_CONFIG_FILE).is_file():
        return path
    if not (path / "preset").is_dir():
        raise FileNotFoundError(
            f"{path} is a training run that has not finished (no preset/ "
            "yet): run its command again to finish it."
        )
    return path / "preset"


def fetch(name, full=False):
    """The local folder of preset `name`, verified, downloading if needed.

    `full`: include the full weights of a preset that ships only its
    generator's (see `load`).

    Example:
    >>> fetch("gan-ring8").name
    'gan-ring8'
    """
    if name not in PRESETS:
        close = difflib.get_close_matches(str(name).lower(), list_models(), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ArgumentError(
            f"Unknown preset {name!r}.{hint} Valid names: "
            f"{', '.join(list_models())} (or pass a preset folder)."
        )
    entry = PRESETS[name]
    wanted = list(entry["shipped"])
    if full and presets_io.WEIGHTS_FILE not in wanted:
        wanted = [f for f in wanted if f != presets_io.GENERATOR_FILE]
        wanted.append(presets_io.WEIGHTS_FILE)
    expected = {f: entry["sha256"][f] for f in wanted}
    shipped = PACKAGE_PRESETS / name
    if all(_verified(shipped / f, sha) for f, sha in expected.items()):
        return shipped
    cached = cache_dir() / "presets" / name
    try:
        cached.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ArgumentError(
            f"Cannot use the download cache {cached} ({e.strerror}): set "
            f"${HOME_ENV} to a writable folder (now "
            f"{os.environ.get(HOME_ENV, 'unset')})."
        ) from None
    for file, sha in expected.items():
        target = cached / file
        if _verified(target, sha):
            continue
        if _verified(shipped / file, sha):
            _atomic.write_bytes(target, (shipped / file).read_bytes())
        else:
            _download(name, file, target, sha)
    return cached


def _verified(path, sha):
    return path.is_file() and presets_io.sha256_of(path) == sha


def _download(name, file, target, sha):
    base = os.environ.get(BASE_URL_ENV, DEFAULT_BASE_URL).rstrip("/")
    url = f"{base}/{name}/{file}"
    target.parent.mkdir(parents=True, exist_ok=True)
    with _atomic.temp_path_for(target) as tmp:
        with open(tmp, "wb") as out:
            _copy_url(url, out, target)
        actual = presets_io.sha256_of(tmp)
        if actual != sha:
            raise DownloadError(
                f"Downloaded {url} has sha256 {actual}, expected {sha}: the "
                "file is corrupted or not the published one. Nothing was "
                "kept in the cache."
            )


def _copy_url(url, out, target):
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            length = response.headers.get("Content-Length")
            copied = 0
            while chunk := response.read(1 << 20):
                out.write(chunk)
                copied += len(chunk)
            if length is not None and copied != int(length):
                raise DownloadError(
                    f"Download of {url} was interrupted: got {copied} of "
                    f"{length} bytes. Nothing was kept in the cache."
                )
    except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
        raise DownloadError(
            f"Could not download {target.name} of preset {target.parent.name} "
            f"from {url} ({getattr(e, 'reason', e)}). If you are offline, "
            f"copy that file to {target}, or set ${BASE_URL_ENV} to a mirror "
            "holding <preset>/<file> (an http(s):// or file:// URL, e.g. a "
            f"copy of the repository's zoo_weights/; ${HOME_ENV} moves the "
            "cache)."
        ) from e


def atomic_save_npy(path, array):
    """`np.save` to a temporary file renamed into place.

    Example:
    >>> atomic_save_npy("samples.npy", model.sample(10))  # doctest: +SKIP
    """
    with _atomic.temp_path_for(path, suffix=".npy") as tmp:
        np.save(tmp, array)
