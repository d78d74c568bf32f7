"""The model zoo: `list_models()`, `load(name)`, hash-checked downloads.

Presets are data: `ganzoo/registry.json` holds, per preset, its
description, model class, the sha256 of each file, the training command and
the metrics of its model card. It is regenerated from `zoo_weights/` by
`python -m ganzoo.results registry` (never edited by hand), so the hashes a
user checks against ship with the code, not with the download.

Where `load(name)` finds a preset's files, first match wins; every file is
checked against the registry's sha256 before use:
1. the cache, `$GANZOO_HOME/presets/<name>/` (default `~/.keras/ganzoo`);
2. the `zoo_weights/<name>/` folder of a source checkout;
3. a download from `$GANZOO_BASE_URL/<name>/<file>` into the cache:
   temporary file, verify, atomic rename. A failed hash or an interrupted
   transfer leaves nothing in the cache; concurrent loads never see a
   partial file.
`load(path)` of a preset folder (e.g. a training run's `preset/`) checks the
files against the folder's own `metadata.json`.
"""

import difflib
import json
import os
import pathlib
import urllib.error
import urllib.request

import numpy as np

from ganzoo import _atomic, presets_io

REGISTRY_FILE = pathlib.Path(__file__).with_name("registry.json")
REPO_WEIGHTS = pathlib.Path(__file__).resolve().parents[1] / "zoo_weights"
HOME_ENV = "GANZOO_HOME"
BASE_URL_ENV = "GANZOO_BASE_URL"
DEFAULT_BASE_URL = (
    "https://raw.githubusercontent.com/ganzoo/ganzoo/main/zoo_weights"
)
FILES = (presets_io.CONFIG_FILE, presets_io.WEIGHTS_FILE,
         presets_io.METADATA_FILE)
TIMEOUT_S = 60


def _read_registry():
    if not REGISTRY_FILE.exists():
        return {}
    return json.loads(REGISTRY_FILE.read_text())


PRESETS = _read_registry()


def list_models():
    """Names of the presets `load` knows, sorted.

    Example:
    >>> "deligan-mnist" in list_models()  # doctest: +SKIP
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
    return pathlib.Path(home) if home else pathlib.Path.home() / ".keras" / (
        "ganzoo"
    )


def load(name_or_path, verify=True):
    """A preset model, built, weights loaded, ready to sample or fine-tune.

    Args:
        name_or_path: a name from `list_models()` or a preset folder.
        verify: check sha256 (always on for registry presets' downloads).

    Returns:
        The model (e.g. a `ganzoo.DeLiGAN`). Its model card is in
        `model.preset_metadata`. Compile it to train it further.

    Example:
    >>> model = ganzoo.load("deligan-mnist")  # doctest: +SKIP
    >>> model.sample(64, seed=0).shape  # doctest: +SKIP
    (64, 28, 28, 1)
    """
    path = pathlib.Path(name_or_path)
    if path.is_dir():
        model, metadata = presets_io.load_preset_dir(path, verify=verify)
    else:
        model, metadata = presets_io.load_preset_dir(
            fetch(str(name_or_path)), verify=False
        )
    model.preset_metadata = metadata
    return model


def fetch(name):
    """The local folder of preset `name`, verified, downloading if needed.

    Example:
    >>> fetch("gan-ring8")  # doctest: +SKIP
    PosixPath('.../zoo_weights/gan-ring8')
    """
    if name not in PRESETS:
        close = difflib.get_close_matches(name, list_models(), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"Unknown preset {name!r}.{hint} Valid names: "
            f"{', '.join(list_models())} (or pass a preset folder)."
        )
    expected = PRESETS[name]["sha256"]
    cached = cache_dir() / "presets" / name
    for folder in (cached, REPO_WEIGHTS / name):
        if _verified(folder, expected):
            return folder
    _download(name, cached, expected)
    return cached


def _verified(folder, expected):
    return all(
        (folder / f).is_file() and presets_io.sha256_of(folder / f) == sha
        for f, sha in expected.items()
    )


def _download(name, folder, expected):
    base = os.environ.get(BASE_URL_ENV, DEFAULT_BASE_URL).rstrip("/")
    folder.mkdir(parents=True, exist_ok=True)
    for file, sha in expected.items():
        target = folder / file
        if target.is_file() and presets_io.sha256_of(target) == sha:
            continue
        url = f"{base}/{name}/{file}"
        with _atomic.temp_path_for(target) as tmp:
            with open(tmp, "wb") as out:
                _copy_url(url, out)
            actual = presets_io.sha256_of(tmp)
            if actual != sha:
                raise OSError(
                    f"Downloaded {url} has sha256 {actual}, expected {sha}: "
                    "the file is corrupted or not the published one. Nothing "
                    "was kept in the cache."
                )


def _copy_url(url, out):
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            length = response.headers.get("Content-Length")
            copied = 0
            while chunk := response.read(1 << 20):
                out.write(chunk)
                copied += len(chunk)
            if length is not None and copied != int(length):
                raise OSError(
                    f"Download of {url} was interrupted: got {copied} of "
                    f"{length} bytes. Nothing was kept in the cache."
                )
    except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
        raise OSError(
            f"Could not download {url} ({e}). To use the weights offline, "
            f"copy the preset folder into {cache_dir() / 'presets'} (or set "
            f"${HOME_ENV}), pass a preset folder to ganzoo.load(), or point "
            f"${BASE_URL_ENV} at a mirror of zoo_weights/."
        ) from e


def atomic_save_npy(path, array):
    """`np.save` to a temporary file renamed into place.

    Example:
    >>> atomic_save_npy("samples.npy", model.sample(10))  # doctest: +SKIP
    """
    with _atomic.temp_path_for(path, suffix=".npy") as tmp:
        np.save(tmp, array)


def build_registry(weights_dir=None):
    """The registry dict of every preset folder under `weights_dir`
    (default: the checkout's `zoo_weights/`).

    Example:
    >>> sorted(build_registry())  # doctest: +SKIP
    ['deligan-mnist', ...]
    """
    registry = {}
    weights_dir = REPO_WEIGHTS if weights_dir is None else weights_dir
    for folder in sorted(pathlib.Path(weights_dir).iterdir()):
        if not (folder / presets_io.METADATA_FILE).is_file():
            continue
        card = json.loads((folder / presets_io.METADATA_FILE).read_text())
        registry[folder.name] = {
            "description": card.get("description", ""),
            "class_name": card.get("class_name"),
            "dataset": card.get("dataset"),
            "command": card.get("command"),
            "metrics": card.get("metrics", {}),
            "sha256": {f: presets_io.sha256_of(folder / f) for f in FILES},
        }
    return registry


def main():
    """Regenerates `ganzoo/registry.json` from `zoo_weights/`."""
    registry = build_registry()
    _atomic.write_text(
        REGISTRY_FILE, json.dumps(registry, indent=1, sort_keys=True) + "\n"
    )
    print(f"{len(registry)} presets -> {REGISTRY_FILE}")


