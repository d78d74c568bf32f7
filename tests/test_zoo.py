"""`ganzoo.load`: registry, cache, checkout, hash-checked downloads."""

import functools
import http.server
import multiprocessing
import threading

import numpy as np
import pytest

import ganzoo
from ganzoo import presets_io, zoo
from tests import helpers
from tools import results


# ----------------------------------------------------------- shipped presets
@pytest.mark.parametrize("name", zoo.list_models())
def test_every_preset_loads_and_samples(name):
    model = ganzoo.load(name)
    assert model.preset_metadata["class_name"] == type(model).__name__
    if hasattr(model, "sample"):
        samples = model.sample(4, seed=0)
        assert samples.shape[0] == 4 and np.all(np.isfinite(samples))
        if samples.ndim == 4:
            assert samples.min() >= 0 and samples.max() <= 1


@pytest.mark.parametrize("name", zoo.list_models())
def test_every_preset_matches_its_registry_hashes(name):
    entry = zoo.PRESETS[name]
    for file in entry["shipped"]:
        path = zoo.PACKAGE_PRESETS / name / file
        assert presets_io.sha256_of(path) == entry["sha256"][file]
    # The registry is what `python -m tools.results registry` writes today.
    assert results.build_registry()[name] == entry


@pytest.mark.parametrize("name", ["gan-mnist", "lsgan-fashion-mnist"])
def test_slim_preset_samples_and_full_weights_are_published(name):
    """These ship only their generators; their full weights are in
    zoo_weights/ (the files of the version's tag), with the registry's
    hash."""
    entry = zoo.PRESETS[name]
    assert "generator.weights.h5" in entry["shipped"]
    assert "model.weights.h5" not in entry["shipped"]
    full = results.ZOO_WEIGHTS / name / "model.weights.h5"
    assert presets_io.sha256_of(full) == entry["sha256"]["model.weights.h5"]
    model = ganzoo.load(name)
    assert model.preset_metadata["weights_loaded"] == "generator"


def test_the_zoo_ships_the_issue_presets():
    # Guards the parametrised tests above against an empty registry.
    assert {
        "gan-mnist",
        "lsgan-mnist",
        "deligan-mnist",
        "gan-ring8",
        "lsgan-ring8",
        "deligan-ring8",
        "mnist-classifier",
        "fashion-mnist-classifier",
    } <= set(zoo.list_models())


def test_unknown_name_lists_valid_names_and_suggests():
    with pytest.raises(ValueError, match="Valid names") as info:
        zoo.load("delgan-mnist")
    if "deligan-mnist" in zoo.PRESETS:
        assert "Did you mean 'deligan-mnist'" in str(info.value)


# --------------------------------------------------- a private test registry
@pytest.fixture
def fake_zoo(tmp_path, monkeypatch):
    """A registry with one tiny preset, published under `tmp/published` and
    not shipped in the package."""
    published = tmp_path / "published"
    model = helpers.tiny_toy_model("deligan", seed=1)
    presets_io.save_preset(model, published / "tiny-ring8", {"dataset": "x"})
    monkeypatch.setattr(
        zoo,
        "PRESETS",
        results.build_registry(published, published_dir=tmp_path / "none"),
    )
    monkeypatch.setattr(zoo, "PACKAGE_PRESETS", tmp_path / "no-package")
    monkeypatch.setenv(zoo.HOME_ENV, str(tmp_path / "home"))
    return published, model


FILES = sorted(["config.json", "metadata.json", "model.weights.h5"])


class _Handler(http.server.SimpleHTTPRequestHandler):
    mode = "ok"

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.mode == "ok":
            return super().do_GET()
        path = self.translate_path(self.path)
        with open(path, "rb") as f:
            data = f.read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.mode == "corrupt":
            self.wfile.write(data[:-1] + bytes([data[-1] ^ 1]))
        else:  # "drop": half the bytes, then the connection closes.
            self.wfile.write(data[: len(data) // 2])
            self.close_connection = True


@pytest.fixture
def server(fake_zoo, monkeypatch):
    published, _ = fake_zoo
    handler = type("H", (_Handler,), {})
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(published))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv(
        zoo.BASE_URL_ENV, f"http://127.0.0.1:{httpd.server_address[1]}"
    )
    yield handler
    httpd.shutdown()


def _cache_files():
    return sorted(
        p.name for p in (zoo.cache_dir() / "presets").rglob("*") if p.is_file()
    )


def test_download_verifies_and_caches(fake_zoo, server):
    _, model = fake_zoo
    loaded = zoo.load("tiny-ring8")
    np.testing.assert_array_equal(
        loaded.sample(8, seed=2), model.sample(8, seed=2)
    )
    assert _cache_files() == FILES
    server.mode = "corrupt"  # served files are now bad: the cache is used
    zoo.load("tiny-ring8")


@pytest.mark.parametrize(
    "mode, message",
    [
        ("corrupt", "sha256"),
        ("drop", "interrupted|Could not download"),
    ],
)
def test_bad_download_leaves_nothing_in_cache(fake_zoo, server, mode, message):
    server.mode = mode
    with pytest.raises(OSError, match=message):
        zoo.load("tiny-ring8")
    assert _cache_files() == []
    server.mode = "ok"
    zoo.load("tiny-ring8")  # and a later good download works


def test_corrupted_cache_file_is_replaced(fake_zoo, server):
    zoo.load("tiny-ring8")
    weights = zoo.cache_dir() / "presets" / "tiny-ring8" / "model.weights.h5"
    weights.write_bytes(b"garbage")
    zoo.load("tiny-ring8")
    assert (
        presets_io.sha256_of(weights)
        == (zoo.PRESETS["tiny-ring8"]["sha256"]["model.weights.h5"])
    )


def test_offline_without_copy_says_how_to_get_weights(fake_zoo, monkeypatch):
    url = "http://127.0.0.1:9"  # a closed port
    monkeypatch.setenv(zoo.BASE_URL_ENV, url)
    with pytest.raises(zoo.DownloadError, match="offline") as info:
        zoo.load("tiny-ring8")
    message = str(info.value)
    # Which file, from which URL, and how to point at a mirror.
    assert f"{url}/tiny-ring8/" in message and zoo.BASE_URL_ENV in message
    assert "tiny-ring8" in message and "file://" in message
    assert _cache_files() == []


def test_default_url_is_pinned_to_this_version():
    assert f"/v{ganzoo.__version__}/" in zoo.DEFAULT_BASE_URL
    assert "/main/" not in zoo.DEFAULT_BASE_URL


def test_package_copy_is_used_without_network(fake_zoo, monkeypatch):
    published, _ = fake_zoo
    monkeypatch.setattr(zoo, "PACKAGE_PRESETS", published)
    monkeypatch.setenv(zoo.BASE_URL_ENV, "http://127.0.0.1:9")
    assert zoo.fetch("tiny-ring8") == published / "tiny-ring8"
    assert _cache_files() == []


def test_full_weights_of_a_slim_preset_download_from_a_mirror(
    tmp_path, monkeypatch
):
    """A preset shipped slim (generator only) samples offline; full=True
    fetches model.weights.h5 from $GANZOO_BASE_URL (here a file:// mirror)
    into the cache, checked against the registry."""
    model = helpers.tiny_toy_model("gan", seed=2)
    presets = tmp_path / "package"
    mirror = tmp_path / "mirror"
    monkeypatch.setattr(results, "PRESETS_DIR", presets)
    monkeypatch.setattr(results, "ZOO_WEIGHTS", mirror)
    presets_io.save_preset(model, presets / "slim-ring8", {"dataset": "x"})
    results.slim("slim-ring8")
    monkeypatch.setattr(zoo, "PRESETS", results.build_registry())
    monkeypatch.setattr(zoo, "PACKAGE_PRESETS", presets)
    monkeypatch.setenv(zoo.HOME_ENV, str(tmp_path / "home"))
    monkeypatch.setenv(zoo.BASE_URL_ENV, "http://127.0.0.1:9")
    slim = zoo.load("slim-ring8")
    assert slim.preset_metadata["weights_loaded"] == "generator"
    with pytest.raises(zoo.DownloadError, match="model.weights.h5"):
        zoo.load("slim-ring8", full=True)
    monkeypatch.setenv(zoo.BASE_URL_ENV, mirror.as_uri())
    full = zoo.load("slim-ring8", full=True)
    assert "weights_loaded" not in full.preset_metadata
    for a, b in zip(
        full.discriminator.get_weights(), model.discriminator.get_weights()
    ):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(
        slim.sample(5, seed=1), full.sample(5, seed=1)
    )


def _fetch_in_child(_):
    return str(zoo.fetch("tiny-ring8"))


def test_concurrent_loads_do_not_corrupt_the_cache(fake_zoo, server):
    # Forked processes inherit the fake registry and environment.
    with multiprocessing.get_context("fork").Pool(4) as pool:
        folders = pool.map(_fetch_in_child, range(4))
    assert len(set(folders)) == 1
    assert _cache_files() == FILES
    zoo.load("tiny-ring8")


def test_load_a_preset_folder_checks_its_hashes(fake_zoo):
    published, _ = fake_zoo
    folder = published / "tiny-ring8"
    assert isinstance(zoo.load(folder), ganzoo.DeLiGAN)
    (folder / "model.weights.h5").write_bytes(b"x")
    with pytest.raises(ValueError, match="corrupted"):
        zoo.load(folder)
