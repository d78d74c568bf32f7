"""SavedModels for TensorFlow Serving.

`export_saved_model` writes `<path>/<version>/saved_model.pb` + `variables/`,
the layout TF Serving polls, with named signatures (see docs/serving.md):

| signature | inputs | output |
|---|---|---|
| `serving_default` | GAN/LSGAN: `latent` f32 [n, d] | `images` |
| `serving_default` | DeLiGAN: `noise` f32 [n, d], `component` i32 [n] | same |
| `generate` | DeLiGAN only: `noise` f32 [n, d], `seed` i32 [2] | `images` |
| `sample` | `num_samples` i32 [], `seed` i32 [2] | `images` |
| `metadata` | `unused` i32 [] (ignored) | one tensor per fact |

`images` is float32 [n, H, W, C] in [0, 1], or [n, 2] points for 2-D toys.
"""

import os
import shutil

import keras
import tensorflow as tf

import ganzoo
from ganzoo import _atomic
from ganzoo._checks import (
    ArgumentError,
    check_bools,
    check_generator,
    check_non_negative_ints,
    check_positive_ints,
)
from ganzoo.models import DeLiGAN

# `model.sample(n, seed=s)` draws its latent with the stateless seed
# `[s, SAMPLE_STREAM]`, so the `sample` signature reproduces it (tested).
from ganzoo.models.gan import SAMPLE_STREAM  # noqa: F401

__all__ = [
    "export_saved_model",
    "read_metadata",
]


def export_saved_model(
    model, path, version=1, max_samples=1024, overwrite=False
):
    """Writes `model` as a TF Serving SavedModel in `<path>/<version>/`.

    The export is written to a hidden temporary folder inside `path` and
    renamed into place, so a failed export leaves nothing behind and TF
    Serving (which only loads all-digit folder names) never sees a
    half-written version.

    Args:
        model: a built `ganzoo.GAN`, `ganzoo.LSGAN` or `ganzoo.DeLiGAN`.
            Only the generator (and DeLiGAN's mixture) is exported. Any
            other model (e.g. a reference classifier) raises
            `ganzoo._checks.NotAGeneratorError`, a `TypeError`, before
            anything is written.
        path: the model's base folder (TF Serving's `model_base_path`);
            created if missing.
        version: the version folder, a non-negative integer.
        max_samples: the most samples one request may ask for, in every
            signature; larger requests fail with `InvalidArgumentError`
            instead of exhausting the server's memory.
        overwrite: replace an existing `<path>/<version>` (else
            `FileExistsError`).

    Returns:
        The version folder, as a string.

    Example:
    >>> import os, tempfile, ganzoo, tensorflow as tf
    >>> model = ganzoo.GAN(
    ...     generator=ganzoo.networks.toy_generator(latent_dim=2, units=8),
    ...     discriminator=ganzoo.networks.toy_discriminator(units=8),
    ...     latent_dim=2, seed=0)
    >>> base = os.path.join(tempfile.mkdtemp(), "toy")
    >>> out = export_saved_model(model, base, version=1)
    >>> sorted(os.listdir(out))
    ['assets', 'fingerprint.pb', 'saved_model.pb', 'variables']
    >>> served = tf.saved_model.load(out)
    >>> served.signatures["sample"](
    ...     num_samples=tf.constant(4), seed=tf.constant([0, 1])
    ... )["images"].shape
    TensorShape([4, 2])
    """
    check_generator(model, "export")
    check_non_negative_ints(version=version)
    check_positive_ints(max_samples=max_samples)
    check_bools(overwrite=overwrite)
    version, max_samples = int(version), int(max_samples)
    path = os.path.abspath(os.path.expanduser(os.fspath(path)))
    if os.path.isfile(os.path.join(path, "saved_model.pb")):
        raise ArgumentError(
            f"{path} is a SavedModel version folder: give its base folder "
            f"({os.path.dirname(path)}); the version goes below it."
        )
    target = os.path.join(path, str(version))
    _atomic.check_can_create(path, f"The SavedModel goes into {target}")
    if os.path.exists(target) and not overwrite:
        raise FileExistsError(
            f"{target} already exists: pick another version, or pass "
            "overwrite=True (--overwrite on the command line) to replace it."
        )
    archive = _build_archive(model, max_samples)
    with _atomic.made_dirs(path):  # removed again if the export fails
        tmp = str(_atomic.temp_dir(path, f".{version}.tmp-"))
        try:
            archive.write_out(tmp, verbose=False)
            _move_into_place(tmp, target, overwrite)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return target


def read_metadata(saved_model):
    """The `metadata` signature's values as a dict of Python values.

    Args:
        saved_model: a version folder written by `export_saved_model`, or
            the object `tf.saved_model.load` returned for one.

    Example:
    >>> import tempfile, ganzoo
    >>> model = ganzoo.DeLiGAN(
    ...     generator=ganzoo.networks.toy_generator(latent_dim=2, units=8),
    ...     discriminator=ganzoo.networks.toy_discriminator(units=8),
    ...     latent_dim=2, num_components=5)
    >>> meta = read_metadata(export_saved_model(model, tempfile.mkdtemp()))
    >>> meta["model_class"], meta["num_components"], meta["output_shape"]
    ('DeLiGAN', 5, [2])
    """
    if isinstance(saved_model, (str, os.PathLike)):
        folder = os.path.expanduser(os.fspath(saved_model))
        if not tf.io.gfile.exists(os.path.join(folder, "saved_model.pb")):
            raise FileNotFoundError(
                f"{folder} holds no saved_model.pb: pass a version folder "
                "that export_saved_model wrote (e.g. serving/gan-mnist/1)."
            )
        saved_model = tf.saved_model.load(folder)
    out = saved_model.signatures["metadata"](unused=tf.constant(0))
    values = {}
    for key, tensor in out.items():
        value = tensor.numpy()
        if tensor.dtype == tf.string:
            value = value.decode("utf-8")
        elif tensor.shape.rank:
            value = value.tolist()
        else:
            value = value.item()
        values[key] = value
    return values


def _build_archive(model, max_samples):
    d = model.latent_dim
    seed = tf.TensorSpec([2], tf.int32, name="seed")
    archive = keras.export.ExportArchive()
    archive.track(model.generator)

    def images(latent):
        return {"images": model.postprocess(model.generate_raw(latent))}

    def batch(x):
        return _limited(x, tf.shape(x)[0], max_samples, "the batch size")

    if isinstance(model, DeLiGAN):
        archive.track(model.mixture)
        n_comp = model.num_components
        noise = tf.TensorSpec([None, d], tf.float32, name="noise")

        def serve(noise, component):
            return images((batch(noise), _ids(component, noise, n_comp)))

        def generate(noise, seed):
            noise = batch(noise)
            # The ids `sample` draws for this seed (and `component_sampling`).
            _, component = model.draw_latent(tf.shape(noise)[0], seed)
            return images((noise, component))

        component = tf.TensorSpec([None], tf.int32, name="component")
        _add(archive, "serving_default", serve, noise, component)
        _add(archive, "generate", generate, noise, seed)
    else:
        n_comp = 0
        latent = tf.TensorSpec([None, d], tf.float32, name="latent")
        _add(archive, "serving_default", lambda x: images(batch(x)), latent)

    def sample(num_samples, seed):
        positive = tf.debugging.assert_positive(
            num_samples, message="num_samples must be >= 1"
        )
        with tf.control_dependencies([positive]):
            num = tf.identity(num_samples)
        num = _limited(num, num, max_samples, "num_samples")
        return images(model.draw_latent(num, seed))

    num = tf.TensorSpec([], tf.int32, name="num_samples")
    _add(archive, "sample", sample, num, seed)
    facts = {
        "model_class": type(model).__name__,
        "model_name": model.name,
        "ganzoo_version": ganzoo.__version__,
        "latent_dim": d,
        "latent_distribution": model.latent_distribution,
        "num_components": n_comp,
        "output_shape": list(_sample_shape(model)),
        "max_samples": max_samples,
    }

    def metadata(unused):
        # TF Serving (json_tensor.cc) and `saved_model_cli run` refuse a
        # signature without inputs, so this one takes an ignored scalar.
        del unused
        return {
            key: tf.constant(v, tf.string if isinstance(v, str) else tf.int32)
            for key, v in facts.items()
        }

    unused = tf.TensorSpec([], tf.int32, name="unused")
    _add(archive, "metadata", metadata, unused)
    return archive


def _add(archive, name, fn, *specs):
    """Adds endpoint `name`, checking input shapes inside the graph: a
    reloaded signature (and TF Serving) feeds any shape through."""

    def endpoint(*args):
        return fn(
            *(
                tf.ensure_shape(x, spec.shape, name=f"check_{spec.name}")
                for x, spec in zip(args, specs)
            )
        )

    endpoint.__name__ = name  # names the graph functions in errors
    archive.add_endpoint(name, endpoint, list(specs))


def _limited(x, num, max_samples, what):
    """`x`, run only once `num <= max_samples` holds (a data dependency, so
    nothing sized by `num` is allocated before the check)."""
    check = tf.debugging.assert_less_equal(
        num,
        tf.constant(max_samples, num.dtype),
        message=f"{what} must be <= max_samples = {max_samples} (fixed at "
        "export time)",
    )
    with tf.control_dependencies([check]):
        return tf.identity(x)


def _ids(component, noise, num_components):
    """`component`, once it is checked against `noise` and the mixture."""
    checks = [
        tf.debugging.assert_equal(
            tf.shape(component)[0],
            tf.shape(noise)[0],
            message="noise and component must have the same length",
        ),
        tf.debugging.assert_non_negative(
            component, message="component ids must be >= 0"
        ),
        tf.debugging.assert_less(
            component,
            num_components,
            message=f"component ids must be < num_components = "
            f"{num_components}",
        ),
    ]
    with tf.control_dependencies(checks):
        return tf.identity(component)


def _sample_shape(model):
    latent = model.draw_latent(1, tf.constant([0, 0], tf.int32))
    return tuple(
        int(d) for d in model.postprocess(model.generate_raw(latent)).shape[1:]
    )


def _move_into_place(tmp, target, overwrite):
    try:
        _atomic.replace_dir(tmp, target, overwrite=overwrite)
    except FileExistsError:
        raise FileExistsError(f"{target} appeared during the export.") from None
