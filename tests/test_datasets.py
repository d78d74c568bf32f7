"""ganzoo.datasets: IDX reading, the limited-data subset, the tf.data
pipeline, the 2-D toys, and the promise of no network with local files."""

import gzip
import shutil
import socket
import struct
import sys
import types

import numpy as np
import pytest

from ganzoo import datasets


def _no_network(*args, **kwargs):
    raise AssertionError("network access attempted")


@pytest.fixture
def offline(monkeypatch):
    """No sockets, no tensorflow_datasets import, no $GANZOO_DATA_DIR."""
    monkeypatch.setattr(socket.socket, "connect", _no_network)
    monkeypatch.setattr(socket, "create_connection", _no_network)
    # None in sys.modules makes any `import tensorflow_datasets` fail.
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)
    monkeypatch.delenv(datasets.DATA_DIR_ENV, raising=False)


def _fake_tfds(monkeypatch, builder):
    fake = types.ModuleType("tensorflow_datasets")
    fake.builder = builder
    fake.as_numpy = lambda data: data
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", fake)


def _write_idx(path, magic, array, extra=b""):
    header = struct.pack(f">{1 + array.ndim}I", magic, *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes() + extra)


def _tiny_idx_dir(folder, n=20):
    """A train split of n 28x28 images, labels 0..9 repeating."""
    folder.mkdir(parents=True, exist_ok=True)
    images = np.arange(n * 784).reshape(n, 28, 28) % 256
    _write_idx(folder / "train-images-idx3-ubyte.gz", 2051, images)
    _write_idx(folder / "train-labels-idx1-ubyte.gz", 2049, np.arange(n) % 10)
    return folder


@pytest.mark.parametrize(
    "name, split, count, first",
    [
        ("mnist", "train", 60000, [5, 0, 4, 1, 9, 2]),
        ("mnist", "test", 10000, [7, 2, 1, 0, 4, 1]),
        ("fashion_mnist", "test", 10000, [9, 2, 1, 1, 6, 1]),
    ],
)
def test_load_arrays(data_dir, name, split, count, first):
    images, labels = datasets.load_arrays(name, split, data_dir=data_dir)
    assert images.shape == (count, 28, 28, 1) and images.dtype == np.uint8
    assert labels.shape == (count,) and labels.dtype == np.int64
    assert labels[:6].tolist() == first  # the original file order
    assert np.unique(labels).tolist() == list(range(10))
    assert images.max() == 255 and not images.flags.writeable


def test_both_folder_layouts_and_env(data_dir, monkeypatch):
    by_parent = datasets.load_arrays("mnist", "test", data_dir=data_dir)
    by_folder = datasets.load_arrays("mnist", "test", data_dir / "mnist")
    monkeypatch.setenv(datasets.DATA_DIR_ENV, str(data_dir))
    by_env = datasets.load_arrays("mnist", "test")
    for arrays in (by_folder, by_env):
        np.testing.assert_array_equal(arrays[0], by_parent[0])
        np.testing.assert_array_equal(arrays[1], by_parent[1])
    with pytest.raises(ValueError, match="not 'fashion_mnist'"):
        datasets.load_arrays("fashion_mnist", "test", data_dir / "mnist")


def test_local_files_touch_no_network_nor_tfds(data_dir, tmp_path, offline):
    # A fresh folder, so the files are really read (no cache hit).
    folder = tmp_path / "mnist"
    folder.mkdir()
    for kind in ("images-idx3", "labels-idx1"):
        name = f"t10k-{kind}-ubyte.gz"
        shutil.copyfile(data_dir / "mnist" / name, folder / name)
    images, _ = datasets.load_arrays("mnist", "test", data_dir=tmp_path)
    assert images.shape == (10000, 28, 28, 1)
    ds = datasets.load("mnist", "test", 50, data_dir=folder, per_class=5)
    assert next(iter(ds)).shape == (50, 28, 28, 1)
    assert sys.modules["tensorflow_datasets"] is None  # never imported


def test_missing_local_folder_explains(tmp_path, offline):
    with pytest.raises(FileNotFoundError, match="GANZOO_DATA_DIR") as err:
        datasets.load_arrays("mnist", data_dir=tmp_path)
    assert "train-images-idx3-ubyte.gz" in str(err.value)


def test_corrupt_files_raise_clearly(tmp_path):
    folder = _tiny_idx_dir(tmp_path / "ok")
    images, labels = datasets.load_arrays("mnist", data_dir=folder)
    assert images.shape == (20, 28, 28, 1) and labels[-1] == 9
    bad = _tiny_idx_dir(tmp_path / "magic")  # labels file as images file
    labels_file = bad / "train-labels-idx1-ubyte.gz"
    shutil.copyfile(labels_file, bad / "train-images-idx3-ubyte.gz")
    with pytest.raises(ValueError, match="magic 2049, expected 2051"):
        datasets.load_arrays("mnist", data_dir=bad)
    short = _tiny_idx_dir(tmp_path / "short")
    _write_idx(short / "train-labels-idx1-ubyte.gz", 2049, np.zeros(20), b"!")
    with pytest.raises(ValueError, match="truncated or corrupt"):
        datasets.load_arrays("mnist", data_dir=short)
    cut = _tiny_idx_dir(tmp_path / "cut")
    path = cut / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match="corrupt or truncated"):
        datasets.load_arrays("mnist", data_dir=cut)


@pytest.mark.parametrize("value_range", [(-1.0, 1.0), (0.0, 1.0)])
def test_load_scales_images(data_dir, value_range):
    ds = datasets.load(
        "mnist", "test", 128, data_dir, shuffle=False, value_range=value_range
    )
    batch = next(iter(ds)).numpy()
    raw, _ = datasets.load_arrays("mnist", "test", data_dir)
    low, high = value_range
    assert batch.shape == (128, 28, 28, 1) and batch.dtype == np.float32
    assert batch.min() == low and batch.max() == high
    expected = raw[:128] / 255.0 * (high - low) + low
    np.testing.assert_allclose(batch, expected, atol=1e-6)


def test_limit_500_is_last_50_of_each_class(data_dir):
    _, labels = datasets.load_arrays("mnist", "train", data_dir)
    keep = datasets.subset_indices(labels, limit=500)
    expected = []
    for digit in range(10):  # walk the file backwards, 50 hits per digit
        hits = [i for i in range(len(labels) - 1, -1, -1) if labels[i] == digit]
        expected += hits[:50]
    assert keep.tolist() == sorted(expected)
    ds = datasets.load(
        "mnist",
        batch_size=100,
        data_dir=data_dir,
        limit=500,
        with_labels=True,
        value_range=(0.0, 1.0),
        shuffle=False,
    )
    batches = list(ds)
    got = np.concatenate([y.numpy() for _, y in batches])
    assert len(batches) == 5 and np.bincount(got).tolist() == [50] * 10
    np.testing.assert_array_equal(got, labels[keep])


def test_subset_indices_small():
    labels = np.array([0, 1, 0, 1, 0, 1, 1])
    assert datasets.subset_indices(labels).tolist() == list(range(7))
    assert datasets.subset_indices(labels, limit=4).tolist() == [2, 4, 5, 6]
    assert datasets.subset_indices(labels, per_class=1).tolist() == [4, 6]
    for kwargs, arg in [
        ({"limit": 3}, "limit"),  # not a multiple of 2 classes
        ({"limit": 8}, "limit"),  # more than available
        ({"limit": 0}, "limit"),
        ({"per_class": 4}, "per_class"),  # class 0 has only 3
        ({"limit": 2, "per_class": 1}, "per_class"),
    ]:
        with pytest.raises(ValueError, match=arg):
            datasets.subset_indices(labels, **kwargs)


@pytest.mark.parametrize(
    "kwargs, arg",
    [
        ({"name": "cifar10"}, "name"),
        ({"split": "valid"}, "split"),
        ({"batch_size": 0}, "batch_size"),
        ({"limit": 505}, "limit"),
        ({"limit": 70000}, "limit"),
        ({"limit": 50, "batch_size": 64}, "batch_size"),
        ({"per_class": 6000}, "per_class"),
        ({"value_range": (1.0, -1.0)}, "value_range"),
        ({"name": "ring8", "split": "test"}, "split"),
        ({"name": "ring8", "take": 10}, "take"),
        ({"take": 0}, "take"),
        ({"take": 60001}, "take"),
        ({"take": 100, "limit": 100}, "take"),
    ],
)
def test_load_rejects_bad_arguments(data_dir, kwargs, arg):
    kwargs = {"name": "mnist", "data_dir": data_dir, **kwargs}
    with pytest.raises(ValueError, match=arg) as err:
        datasets.load(**kwargs)
    if arg in ("name", "split"):
        assert "choose from" in str(err.value)


def test_shuffle_reshuffles_each_epoch_and_seed_repeats(data_dir):
    def epoch_labels(ds):
        return np.concatenate([y.numpy() for _, y in ds])

    kwargs = {"batch_size": 100, "data_dir": data_dir, "limit": 500}
    kwargs["seed"] = 3
    ds = datasets.load("mnist", with_labels=True, **kwargs)
    first, second = epoch_labels(ds), epoch_labels(ds)
    again = epoch_labels(datasets.load("mnist", with_labels=True, **kwargs))
    assert sorted(first) == sorted(second) and list(first) != list(second)
    np.testing.assert_array_equal(first, again)
    endless = datasets.load("mnist", repeat=True, **kwargs)
    assert len(list(endless.take(12))) == 12


def test_take_keeps_the_first_examples(data_dir):
    ds = datasets.load(
        "mnist",
        batch_size=100,
        data_dir=data_dir,
        take=1000,
        shuffle=False,
        with_labels=True,
    )
    _, labels = datasets.load_arrays("mnist", data_dir=data_dir)
    got = np.concatenate([y.numpy() for _, y in ds])
    np.testing.assert_array_equal(got, labels[:1000])


def test_fashion_mnist_pipeline(data_dir):
    ds = datasets.load("fashion_mnist", "test", 32, data_dir, with_labels=True)
    images, labels = next(iter(ds))
    assert images.shape == (32, 28, 28, 1) and labels.shape == (32,)
    assert len(list(ds)) == 10000 // 32


def test_ring8_modes_and_samples():
    modes = datasets.RING8_MODES
    gaps = np.linalg.norm(modes[:, None] - modes[None], axis=-1)
    assert modes.shape == (8, 2)
    np.testing.assert_allclose(np.linalg.norm(modes, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(gaps[gaps > 0].min(), 2 * np.sin(np.pi / 8))
    assert round(float(gaps[gaps > 0].min()), 3) == 0.765
    points = datasets.ring8(2500, seed=0)
    assert points.shape == (2500, 2) and points.dtype == np.float32
    dist = np.linalg.norm(points[:, None] - modes[None], axis=-1)
    assert dist.min(axis=1).max() < 6 * datasets.TOY_STDS["ring8"]
    assert len(set(dist.argmin(axis=1))) == 8
    np.testing.assert_array_equal(points, datasets.ring8(2500, seed=0))
    big = datasets.ring8(100, seed=1, radius=2.0)
    assert abs(np.linalg.norm(big, axis=1).mean() - 2.0) < 0.05


def test_grid25_modes_and_samples():
    modes = datasets.GRID25_MODES
    grid = {(x, y) for x in range(-4, 5, 2) for y in range(-4, 5, 2)}
    assert modes.shape == (25, 2) and set(map(tuple, modes.tolist())) == grid
    points = datasets.grid25(2500, seed=0)
    dist = np.linalg.norm(points[:, None] - modes[None], axis=-1)
    assert dist.min(axis=1).max() < 6 * datasets.TOY_STDS["grid25"]
    assert len(set(dist.argmin(axis=1))) == 25


@pytest.mark.parametrize("name", ["ring8", "grid25"])
def test_toy_pipeline(name):
    ds = datasets.load(name, batch_size=64, limit=640, seed=0, with_labels=True)
    batches = list(ds)
    points, mode = batches[0]
    assert len(batches) == 10 and points.shape == (64, 2)
    modes = datasets.RING8_MODES if name == "ring8" else datasets.GRID25_MODES
    near = np.linalg.norm(points.numpy() - modes[mode.numpy()], axis=1)
    assert near.max() < 6 * datasets.TOY_STDS[name]
    assert set(datasets.NAMES) == {"mnist", "fashion_mnist", "ring8", "grid25"}


# The tfds tests run last: they leave fake arrays in the in-process cache,
# which the fixture clears.
@pytest.fixture
def clean_cache():
    datasets._arrays.cache_clear()
    yield
    datasets._arrays.cache_clear()


def test_no_data_anywhere_names_both_fixes(monkeypatch, offline, clean_cache):
    def builder(name):
        raise ConnectionError("no network here")

    _fake_tfds(monkeypatch, builder)
    with pytest.raises(RuntimeError) as err:
        datasets.load_arrays("mnist")
    message = str(err.value)
    assert "data_dir" in message and "$GANZOO_DATA_DIR" in message
    assert "network access" in message and "no network here" in message


def test_tfds_source(monkeypatch, offline, clean_cache):
    calls = []

    class Builder:
        def __init__(self, name):
            calls.append(name)

        def is_prepared(self):
            return True

        def download_and_prepare(self):
            pass

        def as_dataset(self, split, batch_size, as_supervised):
            n = 10 if split == "test" else 20
            return np.zeros((n, 28, 28, 1), np.uint8), np.arange(n) % 10

    _fake_tfds(monkeypatch, Builder)
    images, labels = datasets.load_arrays("fashion_mnist", "test")
    assert images.shape == (10, 28, 28, 1) and labels.dtype == np.int64
    for kwargs in ({"limit": 10}, {"per_class": 1}, {"take": 10}):
        with pytest.raises(ValueError, match="ORIGINAL file order"):
            datasets.load("mnist", batch_size=10, **kwargs)
    assert calls == ["fashion_mnist"]  # refused before loading anything
    assert next(iter(datasets.load("mnist", batch_size=5))).shape[0] == 5
