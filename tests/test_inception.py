"""KID against hand-computed values, `features` on random-weight InceptionV3,
and the offline paths of the ImageNet weights (nothing is downloaded)."""

import doctest
import hashlib
import inspect

import h5py
import keras
import numpy as np
import pytest
from keras.src.applications import inception_v3 as keras_inception
from keras.src.legacy.saving import legacy_h5_format

from ganzoo import inception, metrics, zoo
from ganzoo._checks import ArgumentError

CLOSED_PORT = "http://127.0.0.1:9"


@pytest.fixture(scope="module")
def random_net():
    """InceptionV3 with random weights (`weights=None`): the real
    architecture and code path, but its features mean nothing."""
    return inception.feature_extractor(weights=None)


@pytest.fixture(scope="module")
def mean_net():
    """A stand-in 'network' whose features are the channel means of the
    preprocessed 299x299 input: the preprocessing checked by hand, fast."""
    inputs = keras.Input((inception.IMAGE_SIZE, inception.IMAGE_SIZE, 3))
    outputs = keras.layers.GlobalAveragePooling2D()(inputs)
    return keras.Model(inputs, outputs)


@pytest.fixture()
def keras_home(tmp_path, monkeypatch):
    """An empty $KERAS_HOME, no cached extractor before or after."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    inception.feature_extractor.cache_clear()
    yield tmp_path / "keras_home" / "models"
    inception.feature_extractor.cache_clear()


# --------------------------------------------------------------------- KID
def test_kid_matches_hand_computed_value():
    # d = 1, k(a, b) = (ab + 1)^3: within-set terms 1 and 27, cross-set
    # mean (1 + 1 + 8 + 27) / 4, so MMD^2 = 1 + 27 - 2 * 9.25.
    kid = inception.kernel_inception_distance([[0.0], [1.0]], [[1.0], [2.0]])
    assert kid == pytest.approx(9.5, abs=1e-12)


def test_kid_is_near_zero_for_one_distribution_and_grows_with_noise():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(2000, 32))
    x, y = real[:1000], real[1000:]
    kwargs = dict(num_subsets=5, subset_size=500)
    noisy = [
        inception.kernel_inception_distance(
            x, y + std * rng.normal(size=y.shape), **kwargs
        )
        for std in (0.0, 0.25, 0.5, 1.0, 2.0)
    ]
    assert abs(noisy[0]) < 0.01
    assert np.all(np.diff(noisy) > 0), noisy
    assert noisy[-1] > 100 * abs(noisy[0])


def test_kid_is_symmetric_up_to_subset_draws():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(600, 16))
    y = 1.3 * rng.normal(size=(600, 16))
    kwargs = dict(num_subsets=20, subset_size=200)
    xy = inception.kernel_inception_distance(x, y, **kwargs)
    yx = inception.kernel_inception_distance(y, x, **kwargs)
    assert xy != yx  # other subsets, same estimate
    assert xy > 0.05 and yx == pytest.approx(xy, rel=0.05)


def test_kid_std_and_seed():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(2, 300, 8))
    y = y + 0.3
    kwargs = dict(num_subsets=10, subset_size=100)
    mean, std = inception.kernel_inception_distance(
        x, y, return_std=True, **kwargs
    )
    assert mean == inception.kernel_inception_distance(x, y, **kwargs)
    assert 0 < std < mean
    other = inception.kernel_inception_distance(x, y, seed=1, **kwargs)
    assert other != mean and other == pytest.approx(mean, rel=0.3)
    # Subsets as large as the sets are permutations: all give one value.
    _, std_full = inception.kernel_inception_distance(
        x, y, num_subsets=3, return_std=True
    )
    assert std_full == pytest.approx(0, abs=1e-12)


@pytest.mark.parametrize(
    "x, y, kwargs, match",
    [
        (np.zeros((5, 3)), np.zeros((5, 4)), {}, "3 columns"),
        (np.zeros((1, 3)), np.zeros((5, 3)), {}, "N >= 2"),
        (np.zeros(5), np.zeros(5), {}, r"shape \(N, d\)"),
        (np.zeros((5, 3, 2)), np.zeros((5, 3, 2)), {}, r"shape \(N, d\)"),
        (np.full((5, 3), np.nan), np.zeros((5, 3)), {}, "NaN"),
        ([["a", "b"]] * 3, np.zeros((3, 2)), {}, "numeric"),
        (np.zeros((5, 3)), np.zeros((5, 3)), {"num_subsets": 0}, "num_sub"),
        (np.zeros((5, 3)), np.zeros((5, 3)), {"subset_size": 1}, ">= 2"),
        (np.zeros((5, 3)), np.zeros((5, 3)), {"seed": -1}, "seed"),
    ],
)
def test_kid_rejects_bad_input(x, y, kwargs, match):
    with pytest.raises(ArgumentError, match=match):
        inception.kernel_inception_distance(x, y, **kwargs)


# ---------------------------------------------------------------- features
def test_features_of_random_inception(random_net):
    """Random weights (`weights=None`): shapes, dtype and grayscale/uint8
    handling of the real network, not meaningful feature values."""
    rng = np.random.default_rng(3)
    gray = rng.integers(0, 256, size=(2, 32, 32, 1), dtype=np.uint8)
    rgb = rng.uniform(size=(2, 32, 32, 3)).astype(np.float32)
    both = np.concatenate([np.repeat(gray, 3, axis=-1) / 255.0, rgb])
    f_gray = inception.features(gray, model=random_net)
    f_rgb = inception.features(rgb, model=random_net)
    f_both = inception.features(both, model=random_net, batch_size=4)
    for f in (f_gray, f_rgb, f_both):
        assert f.dtype == np.float64 and np.all(np.isfinite(f))
    assert f_gray.shape == f_rgb.shape == (2, inception.FEATURE_DIM)
    np.testing.assert_allclose(
        np.concatenate([f_gray, f_rgb]), f_both, rtol=1e-4, atol=1e-5
    )


def test_features_preprocessing_by_hand(mean_net):
    # A constant image stays constant through the resize; [0, 1] -> [-1, 1].
    values = np.array([0.0, 0.25, 1.0])
    images = np.ones((3, 7, 5, 3)) * values[:, None, None, None]
    f = inception.features(images, model=mean_net, batch_size=2)
    np.testing.assert_allclose(f, np.repeat(2 * values - 1, 3).reshape(3, 3))
    rng = np.random.default_rng(4)
    gray = rng.integers(0, 256, size=(3, 9, 9, 1), dtype=np.uint8)
    from_uint8 = inception.features(gray, model=mean_net)
    from_float = inception.features(
        np.repeat(gray / 255.0, 3, axis=-1), model=mean_net, batch_size=1
    )
    np.testing.assert_allclose(from_uint8, from_float, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "images, match",
    [
        (np.zeros((2, 8, 8)), "shape"),
        (np.zeros((2, 8, 8, 2)), "C = 1 or 3"),
        (np.zeros((2, 8, 8, 4)), "C = 1 or 3"),
        (np.zeros((0, 8, 8, 3)), "N >= 1"),
        (np.zeros((2, 8, 8, 3), np.int32), "uint8"),
        (np.zeros((2, 8, 8, 3), bool), "uint8"),
        (np.full((2, 8, 8, 3), -0.5), r"\[0, 1\]"),
        (np.full((2, 8, 8, 3), 255.0), r"\[0, 1\]"),
        (np.full((2, 8, 8, 3), np.nan), "NaN"),
    ],
)
def test_features_reject_bad_images(mean_net, images, match):
    with pytest.raises(ArgumentError, match=match):
        inception.features(images, model=mean_net)


def test_features_reject_bad_batch_size(mean_net):
    with pytest.raises(ArgumentError, match="batch_size"):
        inception.features(np.zeros((2, 8, 8, 3)), mean_net, batch_size=0)


def test_frechet_distance_of_features_with_themselves_is_zero(mean_net):
    """Through `ganzoo.metrics.frechet_distance` and the module's wrapper,
    on the stand-in network's features: 2048-d ones would cost two 2048x2048
    eigendecompositions, tens of seconds on a busy CPU."""
    rng = np.random.default_rng(5)
    f = inception.features(rng.uniform(size=(8, 16, 16, 3)), mean_net)
    scale = np.trace(np.cov(f, rowvar=False))
    assert metrics.frechet_distance(f, f) < 1e-6 * scale
    shifted = f + 0.1 * f.std()
    fid = inception.frechet_inception_distance(f, shifted)
    assert fid == pytest.approx(metrics.frechet_distance(f, shifted))
    assert fid > 1e-3 * scale


# ----------------------------------------------------------------- weights
def test_weights_constants_match_keras():
    source = inspect.getsource(keras_inception)
    assert inception.WEIGHTS_URL == keras_inception.WEIGHTS_PATH_NO_TOP
    assert f'"{inception.WEIGHTS_FILE}"' in source
    assert f'file_hash="{inception.WEIGHTS_MD5}"' in source


def test_offline_error_names_file_folder_and_url(keras_home, monkeypatch):
    url = f"{CLOSED_PORT}/{inception.WEIGHTS_FILE}"
    monkeypatch.setattr(inception, "WEIGHTS_URL", url)
    with pytest.raises(zoo.DownloadError) as info:
        inception.feature_extractor()
    message = str(info.value)
    assert isinstance(info.value, OSError) and "\n" not in message
    assert inception.WEIGHTS_FILE in message and url in message
    assert f"place the file in {keras_home} " in message
    assert "is missing" in message
    assert list(keras_home.iterdir()) == []  # no partial file left


def test_offline_error_when_get_file_fails(keras_home, monkeypatch):
    def no_network(*args, **kwargs):
        raise ConnectionError("URL fetch failure: no network")

    monkeypatch.setattr(keras.utils, "get_file", no_network)
    keras_home.mkdir(parents=True)
    (keras_home / inception.WEIGHTS_FILE).write_bytes(b"truncated")
    with pytest.raises(zoo.DownloadError, match="fails its md5") as info:
        inception.feature_extractor("imagenet")
    assert "no network" in str(info.value)
    assert str(keras_home) in str(info.value)


def test_download_failing_its_hash_is_not_kept(keras_home, monkeypatch):
    def corrupted_download(fname, origin, cache_dir, cache_subdir, **kwargs):
        (keras_home / fname).write_bytes(b"an html error page")
        raise ValueError("Incomplete or corrupted file detected.")

    monkeypatch.setattr(keras.utils, "get_file", corrupted_download)
    with pytest.raises(zoo.DownloadError, match="corrupted"):
        inception.feature_extractor()
    assert list(keras_home.iterdir()) == []


def test_placed_weights_file_loads_offline(keras_home, monkeypatch, random_net):
    """A file placed in $KERAS_HOME/models is used with no download. The
    file here holds random weights (`weights=None`) in Keras' legacy h5
    format, the format of the ImageNet file; its md5 stands in for the
    real one."""
    keras_home.mkdir(parents=True)
    path = keras_home / inception.WEIGHTS_FILE
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, random_net)
    md5 = hashlib.md5(path.read_bytes()).hexdigest()
    monkeypatch.setattr(inception, "WEIGHTS_MD5", md5)
    monkeypatch.setattr(inception, "WEIGHTS_URL", CLOSED_PORT)
    monkeypatch.setattr(keras.utils, "get_file", pytest.fail)
    loaded = inception.feature_extractor()
    assert inception.feature_extractor() is loaded  # cached
    for a, b in zip(loaded.weights, random_net.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_weights_dir_follows_keras_home(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert inception.weights_dir() == tmp_path / "models"
    monkeypatch.delenv("KERAS_HOME")
    assert inception.weights_dir().parent.name == ".keras"


def test_feature_extractor_rejects_unknown_weights():
    with pytest.raises(ArgumentError, match="'imagenet' or None"):
        inception.feature_extractor("cifar")


# ---------------------------------------------------------------- docs
def test_examples_run(random_net):
    result = doctest.testmod(
        inception, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    assert result.failed == 0 and result.attempted > 0


def test_public_names_have_docstrings():
    assert "pytorch-fid" in inception.__doc__
    for name in inception.__all__:
        obj = getattr(inception, name)
        if callable(obj):
            assert inspect.getdoc(obj), name


def test_features_show_progress_when_asked(random_net, capsys):
    images = np.zeros((3, 8, 8, 1), "float32")
    inception.features(images, model=random_net, batch_size=2, verbose=1)
    assert "3/3" in capsys.readouterr().out
    inception.features(images, model=random_net)  # "auto": under 1,000
    assert capsys.readouterr().out == ""
    with pytest.raises(ArgumentError, match="verbose=2 is not valid"):
        inception.features(images, model=random_net, verbose=2)
