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
import os
import pathlib
import sys

import keras
import tensorflow as tf

from ganzoo import augment as augment_lib
from ganzoo import datasets, models, networks, presets_io
from ganzoo._checks import check_positive_ints
from ganzoo.callbacks import ProgressRecorder, SampleGrid

MODELS = {"gan": models.GAN, "lsgan": models.LSGAN, "deligan": models.DeLiGAN}
STRATEGIES = ("auto", "one_device", "mirrored", "multi_worker", "tpu")
LR_DECAYS = ("none", "linear")
PRECISIONS = ("none", "mixed_float16", "mixed_bfloat16")
# Networks whose float32 train step XLA speeds up on CPU: 1.18-1.39x for
# mnist_mlp at batch 256/64; none for dcgan_mnist (0.76-0.98x) nor,
# clearly, deligan_mnist (0.92x at 64, 1.29x at 256); benchmarks/BENCHMARKS.md.
XLA_ON_CPU = ("mnist_mlp",)

# Per network: builders, their width arguments and defaults, data range,
# latent size and prior, and which datasets it fits.
NETWORKS = {
    "mnist_mlp": dict(
        g=networks.mnist_mlp_generator, g_width=("units", 1200),
        d=networks.mnist_maxout_discriminator, d_width=("units", 240),
        data_range=(0.0, 1.0), latent_dim=100, latent="uniform",
        datasets=datasets.IMAGE_NAMES,
    ),
    "deligan_mnist": dict(
        g=networks.deligan_mnist_generator, g_width=("filters", 16),
        d=networks.deligan_mnist_discriminator, d_width=("filters", 16),
        data_range=(-1.0, 1.0), latent_dim=30, latent="normal",
        datasets=datasets.IMAGE_NAMES,
    ),
    "dcgan_mnist": dict(
        g=networks.dcgan_mnist_generator, g_width=("filters", 64),
        d=networks.dcgan_mnist_discriminator, d_width=("filters", 64),
        data_range=(-1.0, 1.0), latent_dim=100, latent="normal",
        datasets=datasets.IMAGE_NAMES,
    ),
    "toy": dict(
        g=networks.toy_generator, g_width=("units", 128),
        d=networks.toy_discriminator, d_width=("units", 128),
        data_range=None, latent_dim=2, latent="normal",
        datasets=datasets.TOY_NAMES,
    ),
}


@dataclasses.dataclass
class TrainConfig:
    """Everything a training run depends on; `ganzoo train` flags map 1:1.

    `validate()` checks it all before any training starts.

    Example:
    >>> TrainConfig(model="deligan", network="deligan_mnist",
    ...             limit=500, batch_size=50).validate().model
    'deligan'
    """

    model: str = "gan"
    network: str = "mnist_mlp"
    dataset: str = "mnist"
    data_dir: str = None
    limit: int = None
    take: int = None
    epochs: int = 10
    steps_per_epoch: int = None
    batch_size: int = 64
    d_lr: float = 2e-4
    g_lr: float = 2e-4
    beta_1: float = 0.5
    lr_decay: str = "none"
    g_ema: float = 0.0
    augment: str = ""
    d_steps: int = 1
    latent_dim: int = None
    width: float = 1.0
    num_components: int = 50
    sigma_init: float = 0.2
    sigma_reg: float = 1.0 / 3.0
    coding: str = "pearson"
    generator_loss: str = "non_saturating"
    seed: int = 0
    strategy: str = "auto"
    jit_compile: bool = None  # None: XLA where measured faster (XLA_ON_CPU)
    mixed_precision: str = "none"
    init_from: str = None
    grid_size: int = 8

    def validate(self):
        """Raises ValueError naming the first bad field; returns self."""
        _choice("model", self.model, MODELS)
        _choice("network", self.network, NETWORKS)
        _choice("dataset", self.dataset, datasets.NAMES)
        _choice("strategy", self.strategy, STRATEGIES)
        _choice("lr_decay", self.lr_decay, LR_DECAYS)
        _choice("mixed_precision", self.mixed_precision, PRECISIONS)
        if self.lr_decay != "none" and self.steps_per_epoch is None:
            raise ValueError("lr_decay needs steps_per_epoch (total steps).")
        fits = NETWORKS[self.network]["datasets"]
        if self.dataset not in fits:
            raise ValueError(
                f"network={self.network!r} is for datasets {fits}, not "
                f"{self.dataset!r}."
            )
        check_positive_ints(
            epochs=self.epochs, batch_size=self.batch_size,
            d_steps=self.d_steps, grid_size=self.grid_size,
        )
        check_positive_ints(**{
            name: getattr(self, name)
            for name in ("steps_per_epoch", "limit", "take", "latent_dim")
            if getattr(self, name) is not None
        })
        for name in ("d_lr", "g_lr", "width", "sigma_init"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}.")
        if not 0 <= self.beta_1 < 1:
            raise ValueError(f"beta_1 must be in [0, 1), got {self.beta_1}.")
        if not 0 <= self.g_ema < 1:
            raise ValueError(
                f"g_ema must be in [0, 1) (0: no moving average), got "
                f"{self.g_ema}."
            )
        policy = augment_lib.check_policy(self.augment)
        if policy and NETWORKS[self.network]["data_range"] is None:
            raise ValueError(
                f"augment={self.augment!r} transforms images; network="
                f"{self.network!r} makes {self.dataset} points. Leave augment "
                "empty."
            )
        return self


def _choice(name, value, choices):
    if value not in choices:
        raise ValueError(
            f"{name}={value!r} is not valid; choose from {sorted(choices)}."
        )


def build_model(cfg):
    """The (uncompiled) model a `TrainConfig` describes.

    Example:
    >>> build_model(TrainConfig(model="lsgan", network="toy",
    ...                         dataset="ring8")).latent_dim
    2
    """
    net = NETWORKS[cfg.network]
    latent_dim = cfg.latent_dim or net["latent_dim"]
    g_arg, g_base = net["g_width"]
    d_arg, d_base = net["d_width"]
    width = lambda base: max(1, round(base * cfg.width))
    generator = net["g"](latent_dim=latent_dim, **{g_arg: width(g_base)})
    discriminator = net["d"](**{d_arg: width(d_base)})
    kwargs = dict(
        generator=generator, discriminator=discriminator,
        latent_dim=latent_dim, d_steps=cfg.d_steps,
        data_range=net["data_range"], seed=cfg.seed, augment=cfg.augment,
    )
    if cfg.model == "deligan":
        kwargs.update(
            num_components=cfg.num_components, sigma_init=cfg.sigma_init,
            sigma_reg=cfg.sigma_reg, generator_loss=cfg.generator_loss,
        )
    elif cfg.model == "lsgan":
        kwargs.update(coding=cfg.coding, latent_distribution=net["latent"])
    else:
        kwargs.update(
            generator_loss=cfg.generator_loss,
            latent_distribution=net["latent"],
        )
    return MODELS[cfg.model](**kwargs)


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
    _choice("strategy", name, STRATEGIES)
    if name == "auto":
        if json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster"):
            name = "multi_worker"
        elif len(tf.config.list_logical_devices("GPU")) > 1:
            name = "mirrored"
        else:
            name = "one_device"
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def make_dataset(cfg):
    """The training `tf.data.Dataset` of a config (global batch).

    Example:
    >>> make_dataset(TrainConfig(network="toy", dataset="ring8",
    ...                          batch_size=8)).element_spec.shape
    TensorShape([8, 2])
    """
    net = NETWORKS[cfg.network]
    return datasets.load(
        cfg.dataset, "train", batch_size=cfg.batch_size,
        data_dir=cfg.data_dir, limit=cfg.limit, take=cfg.take,
        value_range=net["data_range"] or (-1.0, 1.0), seed=cfg.seed,
        repeat=cfg.steps_per_epoch is not None,
    )


def train(cfg, output_dir, verbose=1, command=None):
    """Trains the model of `cfg`, resumable, and writes a preset.

    Writes into `output_dir`: `backup/` (a `BackupAndRestore` checkpoint
    per epoch: the same call after a crash or `kill -9` resumes from the
    last finished epoch), `samples/epoch_NNN.png` (a grid from fixed noise),
    `tensorboard/`, `log.csv`, and at the end `preset/` (config, weights,
    model card). Returns the model card.
    """
    cfg.validate()
    out = pathlib.Path(output_dir)
    if (out / "preset" / presets_io.METADATA_FILE).exists():
        raise FileExistsError(
            f"{out / 'preset'} exists: this run has finished. Choose another "
            "output directory or delete it to train again."
        )
    out.mkdir(parents=True, exist_ok=True)
    # First: tf.data's shuffle and the initial weights follow the global
    # seed (the noise is keyed by cfg.seed already).
    keras.utils.set_random_seed(cfg.seed)
    dataset = make_dataset(cfg)
    strategy = get_strategy(cfg.strategy)
    jit_compile = _jit_compile(cfg, strategy)  # outside the strategy scope
    with strategy.scope(), _global_policy(cfg.mixed_precision):
        model = build_model(cfg)
        if cfg.init_from:
            _init_from(model, cfg.init_from)
        model.compile(
            d_optimizer=_adam(cfg, cfg.d_lr, cfg.d_steps),
            g_optimizer=_adam(cfg, cfg.g_lr, 1, ema=cfg.g_ema),
            jit_compile=jit_compile,
        )
    (out / "train_config.json").write_text(
        json.dumps(dataclasses.asdict(cfg), indent=1)
    )
    progress = ProgressRecorder(out / "progress.json")
    callbacks = [
        keras.callbacks.BackupAndRestore(str(out / "backup")),
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.CSVLogger(str(out / "log.csv"), append=True),
        keras.callbacks.TensorBoard(str(out / "tensorboard")),
        SampleGrid(out, num=cfg.grid_size**2, seed=cfg.seed),
        progress,
    ]
    model.fit(
        dataset, epochs=cfg.epochs, steps_per_epoch=cfg.steps_per_epoch,
        callbacks=callbacks, verbose=verbose, shuffle=False,
    )
    if model.stop_training:
        raise RuntimeError("Training stopped early (NaN loss); no preset.")
    done = progress.state
    steps = int(model.g_optimizer.iterations.numpy())
    card = {
        "model": cfg.model,
        "network": cfg.network,
        "dataset": cfg.dataset,
        "protocol": describe_data(cfg),
        "limit": cfg.limit,
        "take": cfg.take,
        "train_config": dataclasses.asdict(cfg),
        "command": command or " ".join(sys.argv),
        "steps": steps,
        "epochs": cfg.epochs,
        "images_seen": steps * cfg.batch_size,
        "wall_time_s": round(done["wall_time_s"], 1),
        "train_images_per_s": round(
            steps * cfg.batch_size / max(done["wall_time_s"], 1e-9), 1
        ),
        "final_logs": done["last_logs"],
        "strategy": type(strategy).__name__,
        "replicas": strategy.num_replicas_in_sync,
        "jit_compile": bool(model.jit_compile),
    }
    if cfg.init_from:
        card.update(with_previous_phases(card, cfg.init_from))
    if _is_chief():
        presets_io.save_preset(model, out / "preset", card)
    return card


def describe_data(cfg):
    """One line saying which data a config trains on.

    Example:
    >>> describe_data(TrainConfig(dataset="mnist", limit=500))
    'mnist train split, the last 50 images of each class (500 images, IDX file order)'
    """
    if cfg.dataset in datasets.TOY_NAMES:
        num = cfg.limit or datasets.TOY_SIZE
        return f"{cfg.dataset}: {num} points drawn with seed {cfg.seed}"
    if cfg.limit:
        return (f"{cfg.dataset} train split, the last {cfg.limit // 10} images"
                f" of each class ({cfg.limit} images, IDX file order)")
    if cfg.take:
        return (f"{cfg.dataset} train split, the first {cfg.take} images "
                "(IDX file order)")
    return f"{cfg.dataset} train split, all images"


def with_previous_phases(card, init_from):
    """`previous_phases` and totals for a run that started from a preset.

    Example:
    >>> with_previous_phases({"steps": 10, "wall_time_s": 1.0},
    ...                      "runs/phase1/preset")  # doctest: +SKIP
    {'previous_phases': [...], 'total_steps': 110, 'total_wall_time_s': 9.0}
    """
    from ganzoo import zoo

    start = zoo.load(init_from).preset_metadata
    phases = list(start.get("previous_phases", [])) + [
        {k: start.get(k) for k in ("command", "steps", "wall_time_s",
                                   "train_images_per_s")}
    ]
    return {
        "previous_phases": phases,
        "total_steps": card["steps"] + sum(p["steps"] or 0 for p in phases),
        "total_wall_time_s": round(
            card["wall_time_s"] + sum(p["wall_time_s"] or 0 for p in phases), 1
        ),
    }


def _init_from(model, source):
    """Starts from the weights of a preset (name or folder) of the same
    architecture: fine-tuning, or a second phase of a recipe."""
    from ganzoo import zoo

    start = zoo.load(source)
    shapes = lambda m: [tuple(w.shape) for w in m.weights]
    if type(start) is not type(model) or shapes(start) != shapes(model):
        raise ValueError(
            f"init_from={source!r} is a different model than the one this "
            "run builds: its config (networks, sizes, losses) must match."
        )
    model.set_weights(start.get_weights())


def _jit_compile(cfg, strategy):
    """`cfg.jit_compile`, or if None: XLA for the XLA_ON_CPU networks in
    float32 on one CPU device, with no strategy (trap 16). Call it outside
    any strategy scope."""
    if cfg.jit_compile is not None:
        return bool(cfg.jit_compile)
    return (
        cfg.network in XLA_ON_CPU
        and cfg.mixed_precision == "none"
        and strategy is tf.distribute.get_strategy()
        and not tf.config.list_logical_devices("GPU")
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


def _adam(cfg, lr, updates_per_step, ema=0.0):
    if cfg.lr_decay == "linear":
        # To 0 at the last step; the schedule follows optimizer.iterations,
        # which BackupAndRestore restores.
        lr = keras.optimizers.schedules.PolynomialDecay(
            lr, cfg.epochs * cfg.steps_per_epoch * updates_per_step, 0.0
        )
    if ema:
        # Keras keeps the average in the optimizer (so BackupAndRestore
        # saves it) and `GAN.fit` writes it into the weights at the end.
        return keras.optimizers.Adam(
            lr, beta_1=cfg.beta_1, use_ema=True, ema_momentum=ema
        )
    return keras.optimizers.Adam(lr, beta_1=cfg.beta_1)


def _is_chief():
    """True unless TF_CONFIG makes this process a non-chief worker."""
    tf_config = json.loads(os.environ.get("TF_CONFIG", "{}"))
    task = tf_config.get("task", {})
    if not task:
        return True
    if "chief" in tf_config.get("cluster", {}):
        return task.get("type") == "chief"
    return task.get("type") == "worker" and task.get("index", 0) == 0
