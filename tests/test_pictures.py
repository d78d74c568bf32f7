"""A user's own pictures: folders and tfds datasets of any size and colour,
the `dcgan` pair at every size, and training on them end to end."""

import logging
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import ganzoo
from ganzoo import _pictures, datasets, networks, training
from ganzoo._checks import ArgumentError
from tests import helpers

FORMATS = ("png", "jpg", "bmp", "gif", "webp")


def _write(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = {1: "L", 3: "RGB", 4: "RGBA"}[array.shape[-1]]
    Image.fromarray(array.squeeze(-1) if mode == "L" else array, mode).save(
        path
    )


def _picture(rng, h, w, channels=3):
    return rng.integers(0, 256, (h, w, channels), dtype=np.uint8)


@pytest.fixture()
def folder(tmp_path):
    """12 pictures of every format, size and colour mode, in subfolders,
    plus a broken image, a text file and a hidden folder."""
    rng = np.random.default_rng(0)
    root = tmp_path / "my_pictures"
    for i in range(12):
        channels = (1, 3, 4)[i % 3] if FORMATS[i % 5] != "jpg" else 3
        sub = root / ("a" if i % 2 else "b/c")
        _write(
            sub / f"im{i:02d}.{FORMATS[i % 5]}",
            _picture(rng, 20 + 3 * i, 40 - i, channels),
        )
    (root / "broken.png").write_bytes(b"\x89PNG not really")
    (root / "notes.txt").write_text("not a picture")
    _write(root / ".thumbs" / "x.png", _picture(rng, 8, 8))
    return root


def _listing(root):
    return sorted(
        (str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns)
        for p in root.rglob("*")
    )


# ------------------------------------------------------------------ folders
def test_folder_reads_every_format_size_and_colour(folder, caplog):
    before = _listing(folder)
    with caplog.at_level(logging.WARNING, logger="ganzoo.datasets"):
        rgb = datasets.image_arrays(str(folder), image_size=16)
    assert rgb.shape == (12, 16, 16, 3) and rgb.dtype == np.uint8
    # The broken file is named, and counted; the text file is ignored.
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "broken.png" in messages and "1 of the files" in messages
    assert "notes.txt" not in messages
    gray = datasets.image_arrays(str(folder), image_size=16, channels=1)
    assert gray.shape == (12, 16, 16, 1)
    # Nothing was written into the user's folder.
    assert _listing(folder) == before


def test_resize_modes_keep_the_centre_or_the_whole(tmp_path):
    """A wide picture, white in its central square, black at the sides."""
    image = np.zeros((20, 60, 3), np.uint8)
    image[:, 20:40] = 255
    _write(tmp_path / "wide.png", image)
    get = lambda mode: datasets.image_arrays(
        str(tmp_path), image_size=10, resize=mode
    )[0]
    assert get("crop").min() == 255  # only the centre square is kept
    padded = get("pad")
    assert padded[0].max() == 0 and padded[5, 5].min() > 200  # black frame
    stretched = get("stretch")
    assert stretched[5, 0].max() == 0 and stretched[5, 5].min() > 200


@pytest.mark.parametrize("orientation", range(1, 9))
def test_pictures_are_read_upright_by_their_exif_orientation(
    tmp_path, orientation
):
    """A phone's photo is stored sideways with an EXIF orientation tag: it
    used to be read as stored. Each of the 8 tags gives the picture Pillow's
    `ImageOps.exif_transpose` shows (lossless WebP, so pixel for pixel)."""
    from PIL import ImageOps

    stored = np.random.default_rng(orientation).integers(
        0, 256, (6, 6, 3), dtype=np.uint8
    )
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "photo.webp"
    Image.fromarray(stored).save(path, lossless=True, exif=exif)
    with Image.open(path) as picture:
        upright = np.asarray(ImageOps.exif_transpose(picture).convert("RGB"))
    read = datasets.image_arrays(str(tmp_path), image_size=6)[0]
    np.testing.assert_array_equal(read, upright)
    assert (orientation == 1) == np.array_equal(read, stored)


def test_a_sideways_jpeg_is_read_upright(tmp_path):
    """The phone case: a JPEG stored sideways (red left, blue right) with
    orientation 6 shows red on top."""
    stored = np.zeros((16, 16, 3), np.uint8)
    stored[:, :8, 0] = 255
    stored[:, 8:, 2] = 255
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "IMG_0001.JPG"
    Image.fromarray(stored).save(path, quality=95, exif=exif)
    read = datasets.image_arrays(str(tmp_path), image_size=16)[0].astype(int)
    top, bottom = read[:6].mean(axis=(0, 1)), read[10:].mean(axis=(0, 1))
    assert top[0] > 200 and top[2] < 50, top  # red
    assert bottom[2] > 200 and bottom[0] < 50, bottom  # blue


def test_a_32_bit_bmp_without_alpha_keeps_its_colours(tmp_path):
    """Many tools write 32-bit BMPs whose unused 4th byte is 0: TensorFlow
    returns it as a 4th channel, which is no alpha (Pillow opens such a
    file as RGB), so it must not black the picture out."""
    rgb = np.random.default_rng(0).integers(0, 256, (4, 4, 3), np.uint8)
    rgba = np.dstack([rgb, np.zeros((4, 4, 1), np.uint8)])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "scan.bmp")
    assert (
        tf.io.decode_image((tmp_path / "scan.bmp").read_bytes()).shape[-1] == 4
    )
    with Image.open(tmp_path / "scan.bmp") as picture:
        assert picture.mode == "RGB"
    read = datasets.image_arrays(str(tmp_path), image_size=4, resize="stretch")
    np.testing.assert_array_equal(read[0], rgb)


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_transparency_is_composited_onto_black(tmp_path, mode):
    """Transparent pixels used to keep their hidden colour (the alpha
    channel was dropped): a logo on a transparent background came out on
    whatever colour those pixels held. Now on black, as --resize=pad's
    frame; half-transparent pixels at half their value."""
    alpha = np.array([0, 0, 128, 255], np.uint8)[:, None].repeat(4, axis=1)
    if mode == "P":  # a palette PNG whose entry 0 is transparent
        alpha[2] = 255  # (an entry is transparent or not)
        picture = Image.fromarray((alpha > 0).astype(np.uint8), "P")
        picture.putpalette([200] * 6)
        options = {"transparency": 0}
    else:
        rgba = np.dstack([np.full((4, 4, 3), 200, np.uint8), alpha])
        picture = Image.fromarray(rgba, "RGBA").convert(mode)
        options = {}
    picture.save(tmp_path / "logo.png", **options)
    read = datasets.image_arrays(str(tmp_path), image_size=4, resize="stretch")
    expected = np.round(200 * (alpha / 255.0))[..., None].repeat(3, axis=-1)
    np.testing.assert_allclose(read[0], expected, atol=1)


def test_limit_is_a_seeded_draw_and_training_files_lists_it(folder):
    first = datasets.training_files(str(folder), 16, limit=5)
    again = datasets.training_files(str(folder), 16, limit=5)
    assert first == again and len(first) == 5
    names = [row["file"] for row in first]
    first_five = datasets.training_files(str(folder), 16, take=5)
    assert names != [row["file"] for row in first_five]  # a draw
    assert all(len(row["sha256"]) == 64 for row in first)
    assert "broken.png" not in names
    taken = datasets.training_files(str(folder), 16, take=3)
    assert [r["file"] for r in taken] == [
        "a/im01.jpg",
        "a/im03.gif",
        "a/im05.png",
    ]


def test_load_is_shuffled_repeatable_and_in_range(folder):
    def first_batch(seed):
        ds = datasets.load(
            str(folder), image_size=16, batch_size=4, seed=seed, repeat=True
        )
        return next(iter(ds)).numpy()

    a, b, c = first_batch(1), first_batch(1), first_batch(2)
    assert a.shape == (4, 16, 16, 3) and a.dtype == np.float32
    assert a.min() >= -1.0 and a.max() <= 1.0
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(limit=50), ["limit=50", "13 image files"]),
        (dict(take=13), ["take=13", "12 pictures"]),
        (
            dict(image_size=None),
            ["a folder's pictures are read at one size; give image_size"],
        ),
        (dict(channels=2), ["channels"]),
        (dict(resize="zoom"), ["resize", "crop, pad, stretch"]),
        (dict(split="test"), ["split", "train"]),
    ],
)
def test_bad_folder_arguments(folder, kwargs, words):
    args = dict(image_size=16) | kwargs
    with pytest.raises(ArgumentError) as err:
        datasets.image_arrays(str(folder), **args)
    for word in words:
        assert word in str(err.value)


def test_missing_empty_and_unreadable_folders(tmp_path):
    with pytest.raises(ArgumentError, match="an existing folder of pictures"):
        datasets.load(str(tmp_path / "nope"), image_size=16)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.md").write_text("x")
    with pytest.raises(ArgumentError, match="holds no image files"):
        datasets.load(str(tmp_path / "empty"), image_size=16)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "a.jpg").write_bytes(b"nope")
    with pytest.raises(ArgumentError, match="none of its image files decodes"):
        datasets.load(str(tmp_path / "bad"), image_size=16)


def test_mnist_at_another_size_and_reference_slices(data_dir):
    x = datasets.image_arrays(
        "mnist", "test", image_size=32, channels=3, data_dir=data_dir
    )
    assert x.shape == (10000, 32, 32, 3)
    assert np.array_equal(x[..., 0], x[..., 2])  # grey in RGB
    held_out = datasets.reference_arrays(
        "train[50000:]", "mnist", data_dir=data_dir
    )
    train, _ = datasets.load_arrays("mnist", "train", data_dir=data_dir)
    np.testing.assert_array_equal(held_out, train[50000:])
    with pytest.raises(ArgumentError, match="slice"):
        datasets.reference_arrays("train[a:b]", "mnist", data_dir=data_dir)


@pytest.mark.parametrize(
    "reference, run, shared",
    [
        # deligan-mnist's 500 digits are the last 50 of each class: all of
        # them lie in train[50000:], none in train[:10000].
        ("train[50000:]", {"limit": 500}, 500),
        ("train[:10000]", {"limit": 500}, 0),
        ("train[50000:]", {"take": 50000}, 0),
        ("train[49990:50010]", {"take": 50000}, 10),
        ("train[50000:]", {}, 10000),  # a run on all of train
        ("train", {"take": 50000}, 50000),
        ("test", {}, 0),
        ("test[:5000]", {"limit": 500}, 0),
    ],
)
def test_training_overlap(data_dir, reference, run, shared):
    assert (
        datasets.training_overlap(
            reference, {"dataset": "mnist", **run}, data_dir
        )
        == shared
    )


def test_evaluate_says_when_a_train_slice_is_not_held_out(data_dir):
    """`evaluate` of deligan-mnist against train[50000:] (which holds its
    500 training digits) says so in the result and the table; against
    train[:10000] or the test split it says nothing."""
    from ganzoo import evaluation

    def note(reference):
        result = evaluation.evaluate_source(
            "deligan-mnist",
            metrics=["frechet_distance"],
            num_samples=64,
            reference=reference,
            data_dir=data_dir,
        )
        return result.get("reference_note"), evaluation.format_table(result)

    text, table = note("train[50000:]")
    assert text.startswith("train[50000:] holds 500 of the images")
    assert text in table
    assert note("train[:10000]")[0] is None
    assert note(None)[0] is None


# --------------------------------------------------------------------- tfds
@pytest.fixture()
def mock_tfds(monkeypatch):
    import tensorflow_datasets as tfds

    monkeypatch.setattr(datasets, "_online", lambda: True)
    _pictures.tfds_arrays.cache_clear()
    with tfds.testing.mock_data(num_examples=24):
        yield
    _pictures.tfds_arrays.cache_clear()


def test_tfds_dataset_through_mock_data(mock_tfds):
    assert datasets.native_shape("tfds:cifar10") == (32, 3)
    ds = datasets.load("tfds:cifar10", batch_size=8, seed=0)
    batch = next(iter(ds)).numpy()
    assert batch.shape == (8, 32, 32, 3)
    assert -1.0 <= batch.min() and batch.max() <= 1.0
    small = datasets.image_arrays("tfds:cifar10", image_size=16, channels=1)
    assert small.shape == (24, 16, 16, 1)
    cfg = training.TrainConfig(network="dcgan", dataset="tfds:cifar10")
    assert cfg.validate().image_shape() == (32, 32, 3)


def test_tfds_offline_error_is_fast_and_says_how(monkeypatch, tmp_path):
    monkeypatch.setattr(datasets, "_online", lambda: False)
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
    _pictures.tfds_arrays.cache_clear()
    with pytest.raises(FileNotFoundError) as err:
        datasets.image_arrays("tfds:cifar10")
    assert "download_and_prepare" in str(err.value)
    assert "TFDS_DATA_DIR" in str(err.value)
    with pytest.raises(ArgumentError, match="not a tensorflow_datasets"):
        datasets.image_arrays("tfds:no_such_dataset_here")


# ---------------------------------------------------------------- networks
@pytest.mark.parametrize("size", networks.DCGAN_SIZES)
@pytest.mark.parametrize("channels", [1, 3])
def test_dcgan_builds_every_size(size, channels):
    g, d = networks.NETWORKS["dcgan"].build(
        latent_dim=4, width=1 / 32, image_size=size, channels=channels
    )
    assert g.output_shape == (None, size, size, channels)
    assert d.input_shape == (None, size, size, channels)
    assert d.output_shape == (None, 1)
    assert not any("batch_norm" in layer.name for layer in d.layers)


def test_networks_refuse_shapes_they_cannot_make():
    with pytest.raises(ArgumentError, match="network=dcgan builds other"):
        training.TrainConfig(
            network="deligan_mnist", dataset="mnist", image_size=64
        ).validate()
    with pytest.raises(ArgumentError, match="16, 28, 32, 48, 64, 96, 128"):
        networks.dcgan_generator(image_size=50)
    with pytest.raises(ArgumentError, match="channels"):
        networks.dcgan_discriminator(channels=4)


def _tiny_rgb(kind="deligan", size=16, seed=0, **kwargs):
    keras.utils.set_random_seed(seed)
    g, d = networks.NETWORKS["dcgan"].build(4, 1 / 32, size, 3)
    extra = {"num_components": 3} if kind == "deligan" else {}
    return helpers.MODEL_CLASSES[kind](
        generator=g, discriminator=d, latent_dim=4, seed=seed, **extra, **kwargs
    )


def test_rgb_step_on_two_replicas_matches_one_device(mirrored):
    strategy = mirrored
    x = (
        np.random.default_rng(0)
        .uniform(-1, 1, (24, 16, 16, 3))
        .astype("float32")
    )
    weights = []
    for s in (tf.distribute.get_strategy(), strategy):
        with s.scope():
            model = _tiny_rgb("gan", augment="translation,color")
            model.compile(
                d_optimizer=keras.optimizers.SGD(0.1),
                g_optimizer=keras.optimizers.SGD(0.1),
                jit_compile=False,
            )
        # 24 examples at batch 16: the last step is a partial batch.
        model.fit(tf.data.Dataset.from_tensor_slices(x).batch(16), verbose=0)
        weights.append(helpers.all_weights(model))
    assert helpers.max_abs_diff(*weights) < 1e-5


def test_rgb_keras_file_round_trip_and_mixed_precision(tmp_path):
    x = (
        np.random.default_rng(1)
        .uniform(-1, 1, (16, 32, 32, 3))
        .astype("float32")
    )
    model = helpers.compile_adam(_tiny_rgb(size=32))
    model.fit(x, batch_size=8, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras")
    assert (
        helpers.max_abs_diff(
            helpers.all_weights(model), helpers.all_weights(again)
        )
        == 0
    )
    again.fit(x, batch_size=8, epochs=1, verbose=0)
    assert int(again.g_optimizer.iterations.numpy()) == 4
    assert again.sample(3, seed=0).shape == (3, 32, 32, 3)
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        mixed = helpers.compile_adam(_tiny_rgb(size=16))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    history = mixed.fit(x[:, :16, :16], batch_size=8, epochs=1, verbose=0)
    assert all(np.isfinite(v).all() for v in history.history.values())
    images = mixed.sample(4, seed=0)
    assert images.shape == (4, 16, 16, 3) and images.dtype == np.float32


def test_rgb_export_serves_colour_images(tmp_path):
    model = _tiny_rgb()
    path = ganzoo.export.export_saved_model(model, tmp_path / "serving")
    served = tf.saved_model.load(str(path))
    out = served.signatures["sample"](
        num_samples=tf.constant(5),
        seed=tf.constant([11, ganzoo.export.SAMPLE_STREAM]),
    )["images"].numpy()
    assert out.shape == (5, 16, 16, 3)
    np.testing.assert_allclose(out, model.sample(5, seed=11), atol=1e-5)
    meta = served.signatures["metadata"](unused=tf.constant(0))
    assert list(meta["output_shape"].numpy()) == [16, 16, 3]


# ------------------------------------------------------------ end to end
def test_train_on_a_folder_writes_what_it_trained_on(folder, tmp_path):
    cfg = training.TrainConfig(
        model="deligan",
        network="dcgan",
        dataset=str(folder),
        image_size=16,
        width=1 / 32,
        limit=8,
        batch_size=4,
        epochs=2,
        snapshot_every=1,
        num_components=3,
        augment="translation,cutout",
    )
    before = _listing(folder)
    card = training.train(cfg, tmp_path / "run", verbose=0)
    assert card["image_shape"] == [16, 16, 3]
    assert card["training_images"]["count"] == 8
    assert "8 pictures of folder" in card["protocol"]
    preset = tmp_path / "run" / "preset"
    listed = (preset / training.TRAIN_IMAGES_FILE).read_text()
    assert listed == (tmp_path / "run" / training.TRAIN_IMAGES_FILE).read_text()
    assert "sha256" in listed and "broken.png" not in listed
    # A snapshot lists them too (validate reads the list to refuse them).
    snapshot = tmp_path / "run" / "snapshots" / "epoch_0001" / "preset"
    assert (snapshot / training.TRAIN_IMAGES_FILE).read_text() == listed
    model = ganzoo.load(str(preset))
    assert model.sample(2, seed=0).shape == (2, 16, 16, 3)
    grid = Image.open(tmp_path / "run" / "samples" / "epoch_001.png")
    assert grid.mode == "RGB"
    assert _listing(folder) == before
    assert not os.path.exists(folder / "preset")


def test_picture_metrics_on_random_inception(folder):
    """KID and FID through `evaluate_samples`, with an InceptionV3 of random
    weights (`weights=None`): the code path, not ImageNet numbers."""
    from ganzoo import inception, metrics

    net = inception.feature_extractor(weights=None)
    real = datasets.image_arrays(str(folder), image_size=16) / 255.0
    same = metrics.evaluate_samples(
        real, dataset=str(folder), inception_model=net
    )
    assert set(same) >= {"kid", "fid", "kid_std", "reference_images"}
    noisy = np.clip(
        real + np.random.default_rng(0).normal(0, 0.5, real.shape), 0, 1
    )
    worse = metrics.evaluate_samples(
        noisy, dataset=str(folder), inception_model=net
    )
    assert abs(same["fid"]) < 1e-3 and worse["fid"] > same["fid"]
    assert worse["kid"] > same["kid"]
    with pytest.raises(ArgumentError, match="does not apply"):
        metrics.evaluate_samples(
            real, ["classifier_score"], dataset=str(folder)
        )


def test_an_undecodable_file_is_reported_once(tmp_path, caplog):
    """Tutorial 07 printed each warning twice: the folder is read again as
    the reference of KID, at another size."""
    from PIL import Image

    for i in range(3):
        Image.new("RGB", (8, 8), (60 * i, 0, 0)).save(tmp_path / f"{i}.png")
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with caplog.at_level("WARNING", logger="ganzoo.datasets"):
        for size in (8, 4):
            assert (
                len(datasets.image_arrays(str(tmp_path), image_size=size)) == 3
            )
    skipped = [r for r in caplog.records if "Skipping" in r.getMessage()]
    assert len(skipped) == 1 and "broken.png" in skipped[0].getMessage()
