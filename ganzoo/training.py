"""The training recipe behind `ganzoo train`: model building, strategy
choice, callbacks, and the preset written at the end.

Use it from Python as well:
>>> from ganzoo import training
>>> cfg = training.TrainConfig(model="gan", network="toy", dataset="ring8",
...                            epochs=1, batch_size=64)
>>> training.train(cfg, "runs/ring8")  # doctest: +SKIP
"""

import contextlib
import dataclasses
import json
import math
import os
import pathlib
import sys
import typing
import warnings

import keras
import numpy as np
import tensorflow as tf

from ganzoo import (
    _atomic,
    _pictures,
    datasets,
    layers,
    losses,
    models,
    networks,
    presets_io,
    schedules,
)
from ganzoo import augment as augment_lib
from ganzoo._checks import (
    ArgumentError,
    _is_bool,
    _is_int,
    _is_real,
    check_choice,
    check_non_negative_ints,
    check_positive,
    check_positive_ints,
    check_range,
)
from ganzoo.callbacks import (
    SNAPSHOTS_DIR,
    BackupAndRestore,
    ModeCoverage,
    PresetSnapshots,
    ProgressRecorder,
    SampleGrid,
    TerminateOnNaNLoss,
)
from ganzoo.models.adaptive import AdaptiveSwitch
from ganzoo.models.deligan import COMPONENT_SAMPLINGS
from ganzoo.models.gan import UPDATES
from ganzoo.models.lsgan import CODINGS

__all__ = [
    "G_OUTPUT_BIASES",
    "LR_DECAYS",
    "OPTIMIZERS",
    "PRECISIONS",
    "RESUMABLE_CHANGES",
    "STRATEGIES",
    "TRAIN_IMAGES_FILE",
    "TrainConfig",
    "TrainingDiverged",
    "build_model",
    "compile_model",
    "describe_data",
    "duration",
    "get_strategy",
    "is_chief",
    "make_dataset",
    "schedule_callbacks",
    "steps_per_epoch",
    "train",
    "training_files",
    "with_previous_phases",
]

STRATEGIES = ("auto", "one_device", "mirrored", "multi_worker", "tpu")
LR_DECAYS = ("none", "linear", "linear_after", "exponential")
OPTIMIZERS = ("adam", "sgd")
PRECISIONS = ("none", "mixed_float16", "mixed_bfloat16")
G_OUTPUT_BIASES = ("zeros", "data")
# Networks whose float32 train step XLA speeds up on CPU (measured in
# benchmarks/BENCHMARKS.md); the others run faster without it there.
XLA_ON_CPU = ("mnist_mlp", "gan_paper_mnist")
# In a run on a folder (and its preset): the pictures it trained on.
TRAIN_IMAGES_FILE = "train_images.json"
# What a value of each field type may be (numpy scalars too: `validate`
# makes them Python's), and how an error names it.
_FIELD_TYPES = {
    int: (_is_int, "an integer"),
    float: (_is_real, "a number"),
    bool: (_is_bool, "a bool (True or False)"),
    str: (lambda value: isinstance(value, (str, os.PathLike)), "a string"),
    type(None): (lambda value: value is None, "None"),
}


def _field(default, help, choices=None):
    """A TrainConfig field: its default, its `ganzoo train --help` text and,
    for enums, the valid choices (read by the CLI and by `validate`)."""
    return dataclasses.field(
        default=default, metadata={"help": help, "choices": choices}
    )


# Fields only some models or optimizers read (`build_model`, `_optimizer`):
# field -> (the field that chooses, the choices that read it).
_READ_ONLY_BY = {
    "num_components": ("model", ("deligan",)),
    "sigma_init": ("model", ("deligan",)),
    "sigma_reg": ("model", ("deligan",)),
    "component_sampling": ("model", ("deligan",)),
    "coding": ("model", ("lsgan",)),
    "generator_loss": ("model", ("gan", "deligan")),
    "beta_1": ("optimizer", ("adam",)),
    "momentum": ("optimizer", ("sgd",)),
}


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite: `train` stops and writes no preset.
    The `ganzoo` command prints it as one line (a setting to change, not a
    bug)."""


@dataclasses.dataclass
class TrainConfig:
    """Everything a training run depends on. `ganzoo train`'s flags are
    generated from these fields: each default and help text lives here.

    `validate()` checks it all before any training starts.

    Example:
    >>> TrainConfig(model="deligan", network="deligan_mnist",
    ...             limit=500, batch_size=50).validate().model
    'deligan'
    """

    model: str = _field("gan", "Model.", tuple(models.MODELS))
    network: str = _field(
        "mnist_mlp",
        "Generator/discriminator pair (ganzoo.networks.NETWORKS).",
        tuple(networks.NETWORKS),
    )
    dataset: str = _field(
        "mnist",
        f"Training data: {', '.join(datasets.NAMES)}, a folder of pictures "
        "(read recursively: PNG, JPEG, BMP, GIF, WebP), or tfds:NAME (any "
        "tensorflow_datasets image dataset).",
    )
    image_size: int | None = _field(
        None,
        "Side of the square training images (default: the data's own, e.g. "
        "28 for MNIST; for a folder the network's, 64 for dcgan).",
    )
    channels: int | None = _field(
        None,
        "1 (grayscale) or 3 (RGB) (default: the data's own; for a folder "
        "the network's, 3 for dcgan).",
    )
    resize: str = _field(
        datasets.DEFAULT_RESIZE,
        "How pictures of another aspect become square: centre crop, pad "
        "with black, or stretch.",
        datasets.RESIZE_MODES,
    )
    data_dir: str | None = _field(
        None,
        "Folder with the IDX .gz files (else $GANZOO_DATA_DIR, else "
        "tensorflow-datasets).",
    )
    limit: int | None = _field(
        None,
        "Limited data: the last limit/10 images of each class (MNIST-family"
        "), limit pictures drawn at random (a folder; the same for every "
        "seed), or points (the 2-D toys).",
    )
    take: int | None = _field(
        None,
        "Use only the first N training images (IDX file order; a folder: "
        "path order).",
    )
    epochs: int = _field(10, "Epochs.")
    steps_per_epoch: int | None = _field(
        None, "Steps per epoch (default: one pass over the data)."
    )
    batch_size: int = _field(64, "Global batch size (all replicas).")
    d_lr: float = _field(2e-4, "Discriminator learning rate (Adam).")
    g_lr: float = _field(2e-4, "Generator learning rate (Adam).")
    optimizer: str = _field(
        "adam",
        "Optimizer of both networks: Adam (beta_1), or SGD with momentum.",
        OPTIMIZERS,
    )
    beta_1: float = _field(0.5, "Adam beta_1.")
    momentum: float = _field(0.0, "SGD momentum (optimizer=sgd).")
    final_momentum: float | None = _field(
        None,
        "optimizer=sgd: momentum rising linearly from momentum to this "
        "between epochs momentum_start and momentum_saturate (counted from "
        "1; pylearn2's MomentumAdjustor, the GAN authors'). None: constant.",
    )
    momentum_start: int = _field(
        1, "final_momentum: the epoch (from 1) the rise starts from."
    )
    momentum_saturate: int = _field(
        250, "final_momentum: the epoch (from 1) it reaches final_momentum."
    )
    lr_decay: str = _field(
        "none",
        "Learning-rate schedule: constant; linear to 0 at the last step; "
        "linear_after: flat for lr_flat_epochs epochs, then linear epoch by "
        "epoch to ~0 in the last (the DeLiGAN authors'); exponential: "
        "divided by lr_decay_factor every batch down to min_lr (pylearn2's "
        "ExponentialDecay, the GAN authors').",
        LR_DECAYS,
    )
    lr_flat_epochs: int = _field(
        0, "lr_decay=linear_after: epochs at the full rate before the decay."
    )
    lr_decay_factor: float = _field(
        1.000004, "lr_decay=exponential: the divisor of the rate per batch."
    )
    min_lr: float = _field(
        1e-6, "lr_decay=exponential: the floor of both rates."
    )
    g_ema: float = _field(
        0.0,
        "Momentum of a moving average of G's weights (e.g. 0.999); the "
        "preset gets the average. 0: none.",
    )
    augment: str = _field(
        "",
        "DiffAugment policy for D's inputs, comma-separated from "
        f"{', '.join(augment_lib.POLICIES)} (e.g. translation,cutout; for "
        "little data). Empty: none.",
    )
    d_steps: int = _field(1, "D updates per G update (k).")
    update: str = _field(
        "alternating",
        "alternating: D's updates, then G's against the new "
        "D (Algorithm 1); simultaneous: both from one forward pass, as the "
        "LSGAN authors' toy code; adaptive: updates_per_batch updates per "
        "batch, each G's if G's loss is above a moving threshold, else D's "
        "(the DeLiGAN authors').",
        UPDATES,
    )
    updates_per_batch: int = _field(
        AdaptiveSwitch.updates_per_batch,
        "update=adaptive: updates (a G or a D step each) per real batch.",
    )
    latent_dim: int | None = _field(None, "Latent size (default per network).")
    width: float = _field(1.0, "Width multiplier of both networks.")
    g_output_bias: str = _field(
        "zeros",
        "G's output-layer bias at the start: zeros (Keras'), or data: the "
        "log-odds of the training images' mean pixel, so G starts at the "
        "mean image (pylearn2's init_sigmoid_bias_from_marginals, the GAN "
        "authors'; for networks whose G ends in a sigmoid).",
        G_OUTPUT_BIASES,
    )
    num_components: int = _field(50, "DeLiGAN mixture components.")
    sigma_init: float = _field(0.2, "DeLiGAN initial sigma.")
    sigma_reg: float = _field(1.0 / 3.0, "DeLiGAN sigma regulariser weight.")
    component_sampling: str = _field(
        "uniform",
        "DeLiGAN mixture component of each sample: drawn at random, or cycle:"
        " row k of the global batch takes component k mod num_components "
        "(the authors' code).",
        COMPONENT_SAMPLINGS,
    )
    coding: str = _field("pearson", "LSGAN (a, b, c) coding.", tuple(CODINGS))
    generator_loss: str = _field(
        "non_saturating",
        "GAN / DeLiGAN generator loss.",
        tuple(losses.GENERATOR_LOSSES),
    )
    seed: int = _field(
        0,
        "Seed of the random numbers: a training run's weights, data order "
        "and noise, or the samples drawn.",
    )
    strategy: str = _field(
        "auto",
        "tf.distribute strategy: auto (multi_worker when TF_CONFIG "
        "names a cluster, mirrored over several GPUs, else one device), "
        "multi_worker reads TF_CONFIG, tpu uses TPUClusterResolver.",
        STRATEGIES,
    )
    jit_compile: bool | None = _field(
        None,
        "Compile the train step with XLA (default: on for mnist_mlp and "
        "gan_paper_mnist in float32 on one CPU device, where it measured "
        "faster).",
    )
    mixed_precision: str = _field(
        "none",
        "Keras dtype policy of the nets (GPU/TPU; float16 adds loss scaling).",
        PRECISIONS,
    )
    init_from: str | None = _field(
        None,
        "Start from this preset's weights (name or folder; same architecture).",
    )
    grid_size: int = _field(8, "Side of the per-epoch sample grid.")
    snapshot_every: int = _field(
        0,
        "Every N epochs before the last, also save a preset of the run as "
        "it is then (snapshots/epoch_NNNN/preset), to pick the epoch on "
        "held-out data. 0: none.",
    )

    def validate(self):
        """Raises `ArgumentError` naming the first bad field; returns self,
        its numpy scalars made the Python values they hold and its paths
        strings (Keras' seeds and the run's JSON need those)."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.metadata["choices"] is not None:
                check_choice(f.name, value, f.metadata["choices"])
            else:
                _check_type(f, value)
            if isinstance(value, np.generic):
                setattr(self, f.name, value.item())
            elif isinstance(value, os.PathLike):
                setattr(self, f.name, os.fspath(value))
        check_positive_ints(
            epochs=self.epochs,
            batch_size=self.batch_size,
            d_steps=self.d_steps,
            grid_size=self.grid_size,
            num_components=self.num_components,
        )
        check_positive_ints(
            **{
                name: getattr(self, name)
                for name in ("steps_per_epoch", "limit", "take", "latent_dim")
                if getattr(self, name) is not None
            }
        )
        check_positive(d_lr=self.d_lr, g_lr=self.g_lr, width=self.width)
        check_non_negative_ints(snapshot_every=self.snapshot_every)
        if self.snapshot_every >= self.epochs:
            raise ArgumentError(
                f"snapshot_every={self.snapshot_every} with epochs="
                f"{self.epochs} saves no snapshot (the last epoch is the "
                "run's preset/): give fewer epochs between snapshots, or 0."
            )
        # keras.utils.set_random_seed's range (numpy's).
        check_range("seed", self.seed, 0, 2**32)
        self._validate_recipe()
        spec = networks.NETWORKS[self.network]
        kind = datasets.data_kind(self.dataset)
        if (kind == "toy") != (spec.data == "points"):
            fits = (
                "the 2-D toys " + ", ".join(datasets.TOY_NAMES)
                if spec.data == "points"
                else "images"
            )
            raise ArgumentError(
                f"network={self.network!r} is for {fits}, not {self.dataset!r}."
            )
        datasets.check_picture_args(
            self.dataset, self.image_size, self.channels, self.resize
        )
        if kind != "toy":
            check_positive_ints(
                **{
                    name: getattr(self, name)
                    for name in ("image_size", "channels")
                    if getattr(self, name) is not None
                }
            )
            spec.check_shape(*self.image_shape()[1:])
        check_range("beta_1", self.beta_1, 0, 1)
        check_range("momentum", self.momentum, 0, 1)
        self._validate_sgd_schedules()
        self._validate_unused()
        check_range("g_ema", self.g_ema, 0, 1)  # 0: no moving average
        if self.g_output_bias == "data" and spec.data_range != (0.0, 1.0):
            raise ArgumentError(
                f"g_output_bias=data is for generators with a sigmoid output "
                f"(images in [0, 1]: mnist_mlp, gan_paper_mnist); network="
                f"{self.network!r} makes {spec.data_range or '2-D points'}. "
                "Use g_output_bias=zeros."
            )
        policy = augment_lib.check_policy(self.augment)
        if policy and spec.data_range is None:
            raise ArgumentError(
                f"augment={self.augment!r} transforms images; network="
                f"{self.network!r} makes {self.dataset} points. Leave augment "
                "empty."
            )
        return self

    def _validate_recipe(self):
        """The checks of the update rule, the schedules and the mixture."""
        check_positive_ints(updates_per_batch=self.updates_per_batch)
        if self.update != "alternating" and self.d_steps != 1:
            raise ArgumentError(
                f"update={self.update} chooses its own D steps; d_steps must "
                f"be 1, got {self.d_steps!r}."
            )
        if (
            self.update != "adaptive"
            and self.updates_per_batch != AdaptiveSwitch.updates_per_batch
        ):
            raise ArgumentError(
                "updates_per_batch is for update=adaptive; choose update="
                f"adaptive or leave it at {AdaptiveSwitch.updates_per_batch}."
            )
        if self.lr_decay == "linear":
            if self.update == "adaptive":
                raise ArgumentError(
                    "lr_decay=linear follows optimizer updates, which "
                    "update=adaptive shares between G and D unevenly; use "
                    "lr_decay=linear_after (by epoch)."
                )
            if self.steps_per_epoch is None:
                raise ArgumentError(
                    "lr_decay=linear needs steps_per_epoch (to know the "
                    "total steps)."
                )
        if self.lr_flat_epochs and self.lr_decay != "linear_after":
            raise ArgumentError(
                "lr_flat_epochs is for lr_decay=linear_after; choose it or "
                "leave lr_flat_epochs at 0."
            )
        if self.lr_decay == "linear_after" and not (
            0 <= self.lr_flat_epochs < self.epochs
        ):
            raise ArgumentError(
                f"lr_flat_epochs must be in [0, epochs={self.epochs}), got "
                f"{self.lr_flat_epochs!r}."
            )
        check_range("sigma_init", self.sigma_init, layers.MIN_SIGMA, math.inf)
        check_range("sigma_reg", self.sigma_reg, 0, math.inf)

    def _validate_unused(self):
        """A field the chosen model or optimizer does not read stays at its
        default (`--num_components` on a GAN would be ignored silently)."""
        for name, (key, readers) in _READ_ONLY_BY.items():
            chosen = getattr(self, key)
            if chosen not in readers and getattr(self, name) != _default(name):
                raise ArgumentError(
                    f"{name} is for {key}={'|'.join(readers)}; {key}="
                    f"{chosen} does not read it: leave {name} at "
                    f"{_default(name)}."
                )

    def _validate_sgd_schedules(self):
        """The checks of the GAN authors' rate decay and momentum ramp."""
        if self.lr_decay == "exponential":
            if self.update == "adaptive":
                raise ArgumentError(
                    "lr_decay=exponential follows optimizer updates, which "
                    "update=adaptive shares between G and D unevenly; use "
                    "update=simultaneous or alternating."
                )
            if not self.lr_decay_factor > 1:
                raise ArgumentError(
                    "lr_decay_factor must be a number > 1, got "
                    f"{self.lr_decay_factor!r}."
                )
            check_range("min_lr", self.min_lr, 0, min(self.d_lr, self.g_lr))
        else:
            for name in ("lr_decay_factor", "min_lr"):
                if getattr(self, name) != _default(name):
                    raise ArgumentError(
                        f"{name} is for lr_decay=exponential; choose it or "
                        f"leave {name} at {_default(name)}."
                    )
        if self.final_momentum is None:
            for name in ("momentum_start", "momentum_saturate"):
                if getattr(self, name) != _default(name):
                    raise ArgumentError(
                        f"{name} is for final_momentum (a momentum ramp); "
                        f"set final_momentum or leave {name} at "
                        f"{_default(name)}."
                    )
            return
        if self.optimizer != "sgd":
            raise ArgumentError(
                "final_momentum is for optimizer=sgd, not optimizer="
                f"{self.optimizer}."
            )
        check_range("final_momentum", self.final_momentum, 0, 1)
        check_positive_ints(
            momentum_start=self.momentum_start,
            momentum_saturate=self.momentum_saturate,
        )
        if self.momentum_saturate < self.momentum_start:
            raise ArgumentError(
                "momentum_saturate must be >= momentum_start="
                f"{self.momentum_start}, got {self.momentum_saturate!r}."
            )

    def image_shape(self):
        """`(image_size, image_size, channels)` the run trains on: what
        `image_size` / `channels` say, else the data's own shape (MNIST
        28x28x1, a tfds dataset's), else the network's default (a folder
        with `dcgan`: 64x64x3). None for the 2-D toys.

        Example:
        >>> TrainConfig(network="dcgan", dataset="mnist").image_shape()
        (28, 28, 1)
        """
        spec = networks.NETWORKS[self.network]
        if (
            spec.image_sizes is None
            or datasets.data_kind(self.dataset) == "toy"
        ):
            return None
        size, channels = datasets.native_shape(self.dataset)
        size = self.image_size or size or spec.image_sizes[0]
        channels = self.channels or channels or spec.channels[0]
        return size, size, channels


def _check_type(field, value):
    """ArgumentError unless `value` is of `field`'s annotated type (`T` or
    `T | None`; see `_FIELD_TYPES`)."""
    kinds = typing.get_args(field.type) or (field.type,)
    if not any(_FIELD_TYPES[kind][0](value) for kind in kinds):
        raise ArgumentError(
            f"{field.name} must be "
            f"{' or '.join(_FIELD_TYPES[kind][1] for kind in kinds)}, got "
            f"{value!r}."
        )


def _default(name):
    """A TrainConfig field's default (to tell a flag the user set)."""
    return TrainConfig.__dataclass_fields__[name].default


def build_model(cfg):
    """The (uncompiled) model a `TrainConfig` describes.

    Example:
    >>> build_model(TrainConfig(model="lsgan", network="toy",
    ...                         dataset="ring8")).latent_dim
    2
    """
    spec = networks.NETWORKS[cfg.network]
    latent_dim = cfg.latent_dim or spec.latent_dim
    shape = cfg.image_shape() or (None, None, None)
    generator, discriminator = spec.build(
        latent_dim, cfg.width, image_size=shape[0], channels=shape[2]
    )
    kwargs = dict(
        generator=generator,
        discriminator=discriminator,
        latent_dim=latent_dim,
        d_steps=cfg.d_steps,
        data_range=spec.data_range,
        seed=cfg.seed,
        augment=cfg.augment,
        update=cfg.update,
    )
    if cfg.update == "adaptive":
        kwargs["switch"] = AdaptiveSwitch(
            updates_per_batch=cfg.updates_per_batch
        )
    if cfg.model == "deligan":
        kwargs.update(
            num_components=cfg.num_components,
            sigma_init=cfg.sigma_init,
            sigma_reg=cfg.sigma_reg,
            generator_loss=cfg.generator_loss,
            component_sampling=cfg.component_sampling,
        )
    elif cfg.model == "lsgan":
        kwargs.update(coding=cfg.coding, latent_distribution=spec.latent)
    else:
        kwargs.update(
            generator_loss=cfg.generator_loss, latent_distribution=spec.latent
        )
    if cfg.g_output_bias == "data":
        _output_bias_from_data(generator, cfg)
    return models.MODELS[cfg.model](**kwargs)


def _output_bias_from_data(generator, cfg):
    """pylearn2's `init_sigmoid_bias_from_marginals`: G's sigmoid output
    layer starts at the log-odds of the training images' mean pixel
    (clipped to [1e-3, 1 - 1e-3]), so G's first samples are the mean
    image."""
    last = [layer for layer in generator.layers if layer.weights][-1]
    if getattr(last, "activation", None) is not keras.activations.sigmoid:
        raise ArgumentError(
            f"g_output_bias=data needs a generator whose last layer is a "
            f"sigmoid; network={cfg.network!r}'s is {last.name!r}. Use "
            "g_output_bias=zeros."
        )
    size, _, channels = cfg.image_shape()
    x = datasets.image_arrays(
        cfg.dataset,
        "train",
        size,
        channels,
        cfg.resize,
        cfg.data_dir,
        limit=cfg.limit,
        take=cfg.take,
    )
    mean = np.clip(x.reshape(len(x), -1).mean(axis=0) / 255.0, 1e-3, 1 - 1e-3)
    last.bias.assign(np.log(mean / (1.0 - mean)).astype("float32"))


def get_strategy(name="auto"):
    """A `tf.distribute` strategy by name.

    `auto`: multi-worker when `TF_CONFIG` names a cluster, mirrored over all
    GPUs when there are several, else the default (one device).
    `multi_worker` reads the cluster from `TF_CONFIG` (Kubernetes, Vertex);
    on Slurm, build `MultiWorkerMirroredStrategy(cluster_resolver=
    tf.distribute.cluster_resolver.SlurmClusterResolver())` yourself.
    `tpu` connects to the TPU named by the environment (TPU VM, Colab,
    `TPU_NAME`) through `TPUClusterResolver`; it is not tested on the
    project's CPU machines.

    Example:
    >>> get_strategy("one_device").num_replicas_in_sync
    1
    """
    check_choice("strategy", name, STRATEGIES)
    tf_config = _tf_config()
    if name == "auto":
        if tf_config.get("cluster"):
            name = "multi_worker"
        elif len(tf.config.list_logical_devices("GPU")) > 1:
            name = "mirrored"
        else:
            name = "one_device"
    if name == "multi_worker":
        try:
            return tf.distribute.MultiWorkerMirroredStrategy()
        except (ValueError, KeyError, TypeError) as e:
            raise ArgumentError(
                f"strategy=multi_worker: TF_CONFIG does not describe this "
                f"worker's cluster ({e})."
            ) from e
    if name == "tpu":
        try:
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        except ValueError as e:
            raise ArgumentError(f"strategy=tpu: no TPU found ({e}).") from e
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def make_dataset(cfg):
    """The training `tf.data.Dataset` of a config (global batch), endless:
    `fit` takes `steps_per_epoch(cfg)` batches per epoch.

    Example:
    >>> make_dataset(TrainConfig(network="toy", dataset="ring8",
    ...                          batch_size=8)).element_spec.shape
    TensorShape([8, 2])
    """
    return _load(cfg, repeat=True)


def steps_per_epoch(cfg):
    """`cfg.steps_per_epoch`, or the full batches in one pass over the data.

    Example:
    >>> steps_per_epoch(TrainConfig(network="toy", dataset="ring8",
    ...                             limit=100, batch_size=32))
    3
    """
    if cfg.steps_per_epoch is not None:
        return cfg.steps_per_epoch
    return int(_load(cfg, shuffle=False).cardinality())


def _load(cfg, **kwargs):
    spec = networks.NETWORKS[cfg.network]
    shape = cfg.image_shape() or (None, None, None)
    return datasets.load(
        cfg.dataset,
        "train",
        batch_size=cfg.batch_size,
        data_dir=cfg.data_dir,
        limit=cfg.limit,
        take=cfg.take,
        value_range=spec.data_range or (-1.0, 1.0),
        seed=cfg.seed,
        image_size=shape[0],
        channels=shape[2],
        resize=cfg.resize,
        **kwargs,
    )


def training_files(cfg):
    """For a run on a folder, the pictures it trains on (`datasets.
    training_files`: relative paths and sha256s); None for other data."""
    if datasets.data_kind(cfg.dataset) != "folder":
        return None
    size, _, channels = cfg.image_shape()
    return datasets.training_files(
        cfg.dataset, size, channels, cfg.resize, cfg.limit, cfg.take
    )


def _check_outside_pictures(out, dataset):
    """ArgumentError if the run folder `out` would lie inside the folder of
    pictures `dataset`: the run would write into the user's folder, and a
    later run on it would read the sample grids as pictures."""
    if datasets.data_kind(dataset) != "folder":
        return
    folder = pathlib.Path(dataset).expanduser().resolve()
    run = out.resolve()  # as `train` writes it (no "~" expansion)
    if run == folder or folder in run.parents:
        raise ArgumentError(
            f"output_dir={out} is inside the pictures folder {dataset}: "
            "nothing is written there (a later run would train on the "
            "sample grids); choose a run folder outside it."
        )


def train(cfg, output_dir, verbose=1, command=None, strategy=None):
    """Trains the model of `cfg`, resumable, and writes a preset.

    Writes into `output_dir`: `backup/` (`callbacks.BackupAndRestore`, a
    crash-safe checkpoint per epoch: the same call after a crash or
    `kill -9` resumes from the last finished epoch), `samples/epoch_NNN.png`
    (a grid from fixed noise), `tensorboard/`, `log.csv`, `progress.json`
    (wall time across resumes), `train_config.json` (what a resume must
    match), for a folder of pictures `train_images.json` (their sha256),
    with `snapshot_every` `snapshots/epoch_NNNN/preset/`
    (`callbacks.PresetSnapshots`), and at the end `preset/` (config,
    weights, model card). Under a multi-worker
    strategy only the chief writes these; every worker keeps its own
    `backup/` (deleted once the chief has written the preset), and all
    resume from the same epoch. Returns the model card.

    `strategy`: the `tf.distribute` strategy if the caller made it already
    (default: `get_strategy(cfg.strategy)`).
    """
    cfg.validate()
    out = pathlib.Path(output_dir)
    _atomic.check_can_create(out, f"output_dir={out} (the run folder)")
    _check_outside_pictures(out, cfg.dataset)
    # First, before anything starts the TensorFlow runtime: a
    # MultiWorkerMirroredStrategy created later raises "Collective ops must
    # be configured at program startup".
    if strategy is None:
        strategy = get_strategy(cfg.strategy)
    chief = is_chief()
    if presets_io.is_preset(out / "preset"):
        raise FileExistsError(
            f"{out / 'preset'} exists: this run has finished. Choose another "
            "output directory or delete it to train again."
        )
    # Before the training, not at its end.
    presets_io.check_preset_target(out / "preset")
    # Before the run folder exists, a wrong --init_from leaves nothing; and
    # before the seed, so loading it does not shift the global RNG.
    start = _load_init_from(cfg.init_from)
    # The initial weights follow the global seed (the data order and the
    # noise are keyed by cfg.seed already).
    keras.utils.set_random_seed(cfg.seed)
    # Before the run folder exists: bad data (a limit too large, no files)
    # leaves nothing behind.
    dataset = make_dataset(cfg)
    epoch_steps = steps_per_epoch(cfg)
    pictures = training_files(cfg)
    _check_same_run(out, cfg, pictures)
    jit_compile = _jit_compile(cfg, strategy)  # outside the strategy scope
    with strategy.scope(), _global_policy(cfg.mixed_precision):
        model = build_model(cfg)
        if start is not None:
            _init_from(model, start, cfg.init_from)
        compile_model(model, cfg, jit_compile=jit_compile)
    # Only now: an --init_from of another architecture leaves no folder.
    out.mkdir(parents=True, exist_ok=True)
    # Every worker checkpoints into its own output_dir/backup (deleted once
    # the preset is written); only the chief writes the run's pictures,
    # logs, config and preset.
    progress = ProgressRecorder(out / "progress.json" if chief else None)
    if chief and verbose:
        print(_start_lines(cfg, out, epoch_steps, progress), flush=True)

    def describe_run(epochs, logs):
        """The model card of the run after `epochs` epochs."""
        # Every epoch ran to its end (BackupAndRestore resumes at epoch
        # boundaries): the batches trained on, whatever the update rule, and
        # under mixed_float16 too (an update skipped on overflow does not
        # advance optimizer.iterations).
        steps = epochs * epoch_steps
        card = {
            "model": cfg.model,
            "network": cfg.network,
            "dataset": cfg.dataset,
            "protocol": describe_data(cfg),
            "limit": cfg.limit,
            "take": cfg.take,
            "image_shape": list(cfg.image_shape() or ()) or None,
            "train_config": dataclasses.asdict(cfg),
            "command": command or " ".join(sys.argv),
            "steps": steps,
            "epochs": epochs,
            "images_seen": steps * cfg.batch_size,
        }
        wall_time_s = progress.elapsed_s
        card.update(
            wall_time_s=round(wall_time_s, 1),
            train_images_per_s=round(
                steps * cfg.batch_size / max(wall_time_s, 1e-9), 1
            ),
            final_logs={k: float(np.mean(v)) for k, v in (logs or {}).items()},
            strategy=_strategy_name(strategy),
            replicas=strategy.num_replicas_in_sync,
            jit_compile=bool(model.jit_compile),
        )
        if pictures is not None:
            card["training_images"] = {
                "count": len(pictures),
                "manifest": TRAIN_IMAGES_FILE,
            }
        if start is not None:
            card.update(_with_phases(card, start.preset_metadata))
        return card

    # Snapshots first: an epoch redone after an interruption (its backup
    # not yet written) replaces its snapshot.
    extra_files = {}
    if pictures is not None:
        extra_files[TRAIN_IMAGES_FILE] = json.dumps(pictures, indent=1) + "\n"
    snapshots = (
        [PresetSnapshots(out, cfg.snapshot_every, describe_run, extra_files)]
        if chief and cfg.snapshot_every
        else []
    )
    diverged = TerminateOnNaNLoss(verbose=chief and verbose)
    # Kept until the preset is written: a kill while writing it resumes,
    # with nothing left to train.
    backup = BackupAndRestore(out / "backup", delete_on_end=False)
    callbacks = [
        *snapshots,
        backup,
        diverged,
        progress,
        *schedule_callbacks(cfg),
    ]
    if chief:
        _atomic.write_text(
            out / presets_io.RUN_CONFIG_FILE,
            json.dumps(dataclasses.asdict(cfg), indent=1),
        )
        for name, text in extra_files.items():
            _atomic.write_text(out / name, text)
        if cfg.dataset in datasets.TOY_NAMES:
            # Before the loggers: they record what it adds to the logs.
            callbacks.append(ModeCoverage(cfg.dataset, seed=cfg.seed))
        callbacks += [
            keras.callbacks.CSVLogger(str(out / "log.csv"), append=True),
            keras.callbacks.TensorBoard(str(out / "tensorboard")),
            SampleGrid(out, num=cfg.grid_size**2, seed=cfg.seed),
        ]
    model.fit(
        dataset,
        epochs=cfg.epochs,
        steps_per_epoch=epoch_steps,
        callbacks=callbacks,
        verbose=verbose if chief else 0,
        shuffle=False,
    )
    if diverged.stopped_epoch is not None:
        raise TrainingDiverged(
            f"Training diverged: a loss became NaN or infinite in epoch "
            f"{diverged.stopped_epoch} of {cfg.epochs}; no preset was "
            f"written. Lower the learning rates (d_lr={cfg.d_lr:g}, "
            f"g_lr={cfg.g_lr:g})"
            + (
                " or train in mixed_bfloat16 or float32"
                if cfg.mixed_precision == "mixed_float16"
                else ""
            )
            + f", then train into another output directory (or delete {out}"
            + (
                f"; its {SNAPSHOTS_DIR}/ of earlier epochs are good presets"
                if cfg.snapshot_every
                and diverged.stopped_epoch > cfg.snapshot_every
                else ""
            )
            + ")."
        )
    if model.stop_training:  # another callback's doing
        raise RuntimeError("Training stopped early; no preset was written.")
    done = progress.state
    card = describe_run(cfg.epochs, done["last_logs"])
    error = None
    if chief:
        try:
            presets_io.save_preset(
                model, out / "preset", card, extra_files=extra_files
            )
        except Exception as e:  # noqa: BLE001 (raised after the gather)
            error = e
    # No worker deletes its checkpoint before the preset is written: a
    # rerun after a failure there resumes at the end, not from epoch 0.
    failed = backup.gather([int(error is not None)])
    if error is not None:
        raise error
    if failed.any():
        raise RuntimeError(
            "The chief could not write the preset (its output says why); "
            "start every worker's command again to write it."
        )
    backup.delete()
    return card


def duration(seconds):
    """A wall time for people: seconds, minutes or hours.

    Example:
    >>> duration(2.6), duration(59.97), duration(754), duration(5400)
    ('2.6 s', '1.0 min', '12.6 min', '1.5 h')
    """
    if round(seconds, 1) < 60:
        return f"{seconds:.1f} s"
    if round(seconds / 60, 1) < 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _start_lines(cfg, out, epoch_steps, progress):
    """What `train` says before its first step: the run, its length, where
    to watch it, and where a resumed run picks up."""
    done = progress.state["epochs_done"]
    lines = [
        (
            f"Training {models.MODELS[cfg.model].__name__} ({cfg.network} "
            f"nets) on {describe_data(cfg)}; {cfg.epochs} "
            f"epoch{'s' * (cfg.epochs != 1)} of {epoch_steps} steps of "
            f"{cfg.batch_size} "
            f"({cfg.epochs * epoch_steps:,} steps)."
        ),
        (
            f"Run folder {out}: a sample grid per epoch in samples/, "
            f"log.csv, TensorBoard (tensorboard --logdir {out / 'tensorboard'})."
        ),
    ]
    grey = cfg.channels is None and (cfg.image_shape() or (0,))[-1] == 1
    folder = datasets.data_kind(cfg.dataset) == "folder"
    if grey and folder and _pictures.in_colour(cfg.dataset):
        lines.append(
            f"The pictures are in colour, but network {cfg.network} "
            "makes grey images, so they are trained in grey; "
            "network dcgan (--network=dcgan: RGB, any size of "
            "DCGAN_SIZES) keeps the colour."
        )
    if cfg.snapshot_every:
        every = cfg.snapshot_every
        lines.append(
            f"Every {'epoch' if every == 1 else f'{every} epochs'}, a preset "
            f"of the run as it is then: {out / SNAPSHOTS_DIR}/epoch_NNNN/preset."
        )
    if done:
        lines.append(
            f"Resuming after epoch {done} of {cfg.epochs} "
            f"({duration(progress.state['wall_time_s'])} trained so far)."
        )
    else:
        lines.append(
            "Interrupted? Run the same command again: it resumes from the "
            "last finished epoch."
        )
    return "\n".join(lines)


def describe_data(cfg):
    """One line saying which data a config trains on.

    Example:
    >>> describe_data(TrainConfig(dataset="mnist", limit=500))
    'mnist train split, the last 50 images of each class (500 images, IDX file order)'
    """
    kind = datasets.data_kind(cfg.dataset)
    if kind == "toy":
        num = cfg.limit or datasets.TOY_SIZE
        return f"{cfg.dataset}: {num} points drawn with seed {cfg.seed}"
    shape = "x".join(map(str, cfg.image_shape()))
    if kind in ("folder", "tfds"):
        if kind == "tfds":
            what = f"{cfg.dataset} train split"
        elif cfg.limit:
            what = (
                f"{cfg.limit} pictures of folder {cfg.dataset} drawn at "
                f"random (seed {datasets.LIMIT_DRAW_SEED}; {TRAIN_IMAGES_FILE}"
                " lists them)"
            )
        elif cfg.take:
            what = f"the first {cfg.take} pictures of folder {cfg.dataset}"
        else:
            what = f"the pictures of folder {cfg.dataset}"
        return f"{what}, as {shape} ({cfg.resize} to square)"
    if cfg.limit:
        return (
            f"{cfg.dataset} train split, the last {cfg.limit // 10} images"
            f" of each class ({cfg.limit} images, IDX file order)"
        )
    if cfg.take:
        return (
            f"{cfg.dataset} train split, the first {cfg.take} images "
            "(IDX file order)"
        )
    return f"{cfg.dataset} train split, all images"


def with_previous_phases(card, init_from):
    """`previous_phases` and totals for a run that started from a preset.

    Example:
    >>> with_previous_phases({"steps": 10, "wall_time_s": 1.0},
    ...                      "runs/phase1/preset")  # doctest: +SKIP
    {'previous_phases': [...], 'total_steps': 110, 'total_wall_time_s': 9.0}
    """
    from ganzoo import zoo

    return _with_phases(card, zoo.load(init_from).preset_metadata)


def _with_phases(card, start):
    """`with_previous_phases` from the card `start` of the preset the run
    started from."""
    phases = list(start.get("previous_phases", [])) + [
        {
            k: start.get(k)
            for k in ("command", "steps", "wall_time_s", "train_images_per_s")
        }
    ]
    return {
        "previous_phases": phases,
        "total_steps": card["steps"] + sum(p["steps"] or 0 for p in phases),
        "total_wall_time_s": round(
            card["wall_time_s"] + sum(p["wall_time_s"] or 0 for p in phases), 1
        ),
    }


# What may change between a run and its resumption: where the data is read
# from and the hardware (the update is the same on any number of replicas).
RESUMABLE_CHANGES = ("data_dir", "strategy", "jit_compile", "snapshot_every")


def _check_same_run(out, cfg, pictures):
    """Raises `ArgumentError` if `out` holds an unfinished run of another
    config, or of other pictures: resuming its checkpoint would mix two
    runs (and misreport the recipe in the card). Only `RESUMABLE_CHANGES`
    may differ, and a run on a folder may resume from a moved folder that
    holds the same pictures. Each worker checks its own `out`."""
    saved = _read_run_file(out / presets_io.RUN_CONFIG_FILE, dict)
    if saved is None:
        return
    now = json.loads(json.dumps(dataclasses.asdict(cfg)))
    ignore = set(RESUMABLE_CHANGES)
    trained_on = _read_run_file(out / TRAIN_IMAGES_FILE, list)
    if pictures is not None and trained_on is not None:
        if trained_on != pictures:
            raise ArgumentError(
                f"{out} holds an unfinished run on other pictures ("
                f"{len(trained_on)} files then, {len(pictures)} now, or "
                "changed): restore them to resume it, or choose another "
                "output directory."
            )
        ignore.add("dataset")
    changed = [
        f"{k}={now[k]!r}, not {saved[k]!r}"
        for k in now
        if k in saved and k not in ignore and now[k] != saved[k]
    ]
    if changed:
        raise ArgumentError(
            f"{out} holds an unfinished run with other settings ("
            f"{'; '.join(changed[:3])}{'; ...' if len(changed) > 3 else ''})"
            ": run its own command to resume it, or choose another "
            "output directory."
        )


def _read_run_file(path, kind):
    """The JSON `kind` (dict or list) in a run folder's file, None if there
    is no such file; `ArgumentError` if it is damaged."""
    if not path.is_file():
        return None
    try:
        value = json.loads(path.read_text())
    except ValueError as e:
        raise ArgumentError(
            f"{path} is damaged ({e}): delete the run folder to start again."
        ) from e
    if not isinstance(value, kind):
        raise ArgumentError(
            f"{path} is damaged (not a JSON {kind.__name__}): delete the run "
            "folder to start again."
        )
    return value


def _load_init_from(source):
    """The model of the preset `source` names (or None for none)."""
    from ganzoo import zoo

    return zoo.load(source, full=True) if source else None


def _init_from(model, start, source):
    """Starts from the weights of `start`, the model of a preset (`source`:
    name or folder) of the same architecture: fine-tuning, or a second
    phase of a recipe."""
    shapes = lambda m: [tuple(w.shape) for w in m.weights]
    if type(start) is not type(model) or shapes(start) != shapes(model):
        raise ArgumentError(
            f"init_from={source!r} is a different model than the one this "
            "run builds: its config (networks, sizes, losses) must match."
        )
    model.set_weights(start.get_weights())


def _jit_compile(cfg, strategy):
    """`cfg.jit_compile`, or if None: Keras' own "auto" where a GPU is
    visible (XLA on GPUs), else XLA for the XLA_ON_CPU networks in float32
    on one CPU device with no strategy (MirroredStrategy with XLA on logical
    CPUs fails to place its resources). Call it outside any strategy
    scope; `strategy=None` means none."""
    if cfg.jit_compile is not None:
        return bool(cfg.jit_compile)
    if tf.config.list_logical_devices("GPU"):
        return "auto"
    return (
        cfg.network in XLA_ON_CPU
        and cfg.mixed_precision == "none"
        and (strategy is None or strategy is tf.distribute.get_strategy())
    )


@contextlib.contextmanager
def _global_policy(name):
    """Layers built inside take the `name` dtype policy and keep it; the
    global policy is restored after. Under mixed_float16, `GAN.compile`
    adds loss scaling."""
    if name == "none":
        yield
        return
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def schedule_callbacks(cfg):
    """The Keras callbacks of `cfg` that set the optimizers'
    hyperparameters by epoch (`FlatThenLinear` for
    `lr_decay="linear_after"`, `MomentumAdjustor` for `final_momentum`);
    pass them to `fit` beside a model compiled by `compile_model`.
    Per-update schedules live in the optimizers themselves.

    Example:
    >>> cfg = TrainConfig(epochs=40, lr_decay="linear_after", lr_flat_epochs=10)
    >>> [type(c).__name__ for c in schedule_callbacks(cfg.validate())]
    ['FlatThenLinear']
    """
    callbacks = []
    if cfg.lr_decay == "linear_after":
        callbacks.append(
            schedules.FlatThenLinear(
                cfg.d_lr, cfg.g_lr, cfg.epochs, cfg.lr_flat_epochs
            )
        )
    if cfg.final_momentum is not None:
        callbacks.append(
            schedules.MomentumAdjustor(
                cfg.momentum,
                cfg.final_momentum,
                cfg.momentum_start,
                cfg.momentum_saturate,
            )
        )
    return callbacks


def compile_model(model, cfg, jit_compile=None):
    """Compiles `model` (from `build_model(cfg)`) as `train` does, and
    returns it: Adam (`beta_1`) or SGD (`momentum`; a `VariableMomentumSGD`
    under `final_momentum`) at `d_lr` / `g_lr`, with `lr_decay`'s
    per-update schedule and G's moving average (`g_ema`) kept in G's
    optimizer. For tools that call `fit` themselves: pass
    `schedule_callbacks(cfg)` to it.

    `jit_compile`: None for `cfg.jit_compile`, else the default of `train`
    without a strategy (XLA for `XLA_ON_CPU`'s nets on a CPU in float32, Keras'
    "auto" where a GPU is visible). Under a strategy, `train` decides
    before entering its scope and passes the answer here.

    Example:
    >>> cfg = TrainConfig(optimizer="sgd", momentum=0.5).validate()
    >>> model = compile_model(build_model(cfg), cfg)
    >>> type(model.d_optimizer).__name__, float(model.d_optimizer.momentum)
    ('SGD', 0.5)
    """
    if jit_compile is None:
        jit_compile = _jit_compile(cfg, None)
    model.compile(
        d_optimizer=_optimizer(cfg, cfg.d_lr, cfg.d_steps),
        g_optimizer=_optimizer(cfg, cfg.g_lr, 1, ema=cfg.g_ema),
        jit_compile=jit_compile,
    )
    return model


def _optimizer(cfg, lr, updates_per_step, ema=0.0):
    if cfg.lr_decay == "linear":
        # To 0 at the last step; the schedule follows optimizer.iterations,
        # which BackupAndRestore restores.
        lr = keras.optimizers.schedules.PolynomialDecay(
            lr, cfg.epochs * cfg.steps_per_epoch * updates_per_step, 0.0
        )
    elif cfg.lr_decay == "exponential":
        # Per real batch, from optimizer.iterations (restored on resume).
        lr = schedules.FlooredExponentialDecay(
            lr, cfg.lr_decay_factor, cfg.min_lr, updates_per_step
        )
    # With ema, Keras keeps the average in the optimizer (so
    # BackupAndRestore saves it) and `GAN.fit` writes it into the weights
    # at the end.
    average = dict(use_ema=True, ema_momentum=ema) if ema else {}
    if cfg.optimizer == "sgd" and cfg.final_momentum is not None:
        # Keras' SGD would keep the first momentum in the traced step.
        return schedules.VariableMomentumSGD(
            lr, momentum=cfg.momentum, **average
        )
    if cfg.optimizer == "sgd":
        return keras.optimizers.SGD(lr, momentum=cfg.momentum, **average)
    return keras.optimizers.Adam(lr, beta_1=cfg.beta_1, **average)


def _strategy_name(strategy):
    """The public class name (MultiWorkerMirroredStrategy is implemented by
    a class named CollectiveAllReduceStrategy)."""
    for name in (
        "MultiWorkerMirroredStrategy",
        "MirroredStrategy",
        "TPUStrategy",
        "OneDeviceStrategy",
    ):
        if isinstance(strategy, getattr(tf.distribute, name)):
            return name
    return type(strategy).__name__


def _tf_config():
    """The `TF_CONFIG` environment variable as a dict ({} if unset)."""
    try:
        value = json.loads(os.environ.get("TF_CONFIG") or "{}")
    except ValueError as e:
        raise ArgumentError(f"TF_CONFIG is not valid JSON ({e}).") from e
    if not isinstance(value, dict):
        raise ArgumentError("TF_CONFIG must be a JSON object ({...}).")
    return value


def is_chief():
    """True unless TF_CONFIG makes this process a non-chief worker."""
    tf_config = _tf_config()
    task = tf_config.get("task", {})
    if not task:
        return True
    if "chief" in tf_config.get("cluster", {}):
        return task.get("type") == "chief"
    return task.get("type") == "worker" and task.get("index", 0) == 0


def __getattr__(name):
    # Deprecated aliases (0.1): the registries moved to their own modules.
    moved = {"NETWORKS": networks, "MODELS": models}
    if name in moved:
        warnings.warn(
            f"ganzoo.training.{name} is deprecated; use "
            f"{moved[name].__name__}.{name}.",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(moved[name], name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
