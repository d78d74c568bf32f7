"""The GAN of Goodfellow et al. 2014 and the base class of every ganzoo
model."""

import contextlib
import contextvars
import inspect
import os
import random

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from ganzoo import augment as augment_lib
from ganzoo import layers as layers_lib
from ganzoo import losses, networks
from ganzoo._checks import (
    ArgumentError,
    _is_int,
    check_choice,
    check_interval,
    check_positive_ints,
    check_seed,
)
from ganzoo.models.adaptive import AdaptiveSwitch
from ganzoo.models.adaptive_step import _AdaptiveUpdate

__all__ = [
    "GAN",
    "LATENT_DISTRIBUTIONS",
    "SAMPLE_STREAM",
    "SAMPLINGS",
    "UPDATES",
    "latent_key",
]


LATENT_DISTRIBUTIONS = ("normal", "uniform")
UPDATES = ("alternating", "simultaneous", "adaptive")
# Streams of the stateless noise: (seed, step, stream) -> noise.
# `sample(n, seed=s)` uses the key [s, SAMPLE_STREAM].
SAMPLE_STREAM = 1 << 20
_EVAL_STREAM = (1 << 20) + 1
# `sample(..., sampling=...)`: the model's own prior, as in training, or
# "paper", the DeLiGAN authors' evaluation (DeLiGAN only).
SAMPLINGS = ("normal", "paper")


def latent_key(seed):
    """The stateless key of `draw_latent`: an integer seed becomes
    `[seed, SAMPLE_STREAM]` (the key of `sample(n, seed=seed)`); a key of
    two integers (tensor, array or list) is used as it is. Else
    `ArgumentError`."""
    if _is_int(seed):
        return tf.constant([check_seed(seed), SAMPLE_STREAM], tf.int64)
    if isinstance(seed, tf.Tensor):
        # The stateless kernels take int32 and int64 keys only.
        if seed.dtype in (tf.int32, tf.int64) and seed.shape.is_compatible_with(
            [2]
        ):
            return seed
    else:
        key = np.asarray(seed) if np.ndim(seed) == 1 else None
        if (
            key is not None
            and key.shape == (2,)
            and key.dtype.kind in "iu"
            and all(-(2**63) <= int(v) < 2**63 for v in key)
        ):
            return tf.constant(key.astype(np.int64), tf.int64)
    raise ArgumentError(
        "seed must be an integer or a key of two integers (int[2]), got "
        f"{seed!r}."
    )


@keras.saving.register_keras_serializable(package="ganzoo")
class GAN(_AdaptiveUpdate, keras.Model):
    """Generative adversarial nets (Goodfellow et al. 2014, arXiv 1406.2661).

    `fit` runs Algorithm 1: `d_steps` discriminator updates (each with fresh
    noise and the same real batch), then one generator update. D minimises
    `-log D(x) - log(1 - D(G(z)))`; G minimises the non-saturating
    `-log D(G(z))` by default or the paper's minimax `log(1 - D(G(z)))`.

    The update does not depend on the distribution strategy: losses are
    averaged over the *global* batch, and the noise of example `j` of the
    global batch at step `t` is drawn from a stateless generator keyed by
    `(seed, t)`, so one device and N replicas see the same noise.

    Args:
        generator: `keras.Model` mapping `(batch, latent_dim)` to data.
        discriminator: `keras.Model` mapping data to one logit per example.
        latent_dim: size of the latent vector (> 0).
        d_steps: k, discriminator updates per generator update (>= 1).
        generator_loss: `"non_saturating"` (default) or `"minimax"`.
        latent_distribution: `"normal"` (N(0, I)) or `"uniform"`
            (U(-sqrt 3, sqrt 3), unit variance, as in the paper's code).
        data_range: `(low, high)` range of the generator's images; `sample`
            and `generate` rescale images to [0, 1]. Non-image data (rank 2)
            is returned as it is.
        seed: integer seed of the training noise (a random one if None; it
            is stored in the config, so a saved model resumes the stream).
        augment: DiffAugment policy for limited data: names from
            `ganzoo.augment.POLICIES` (e.g. `("translation", "cutout")`) or
            one comma-separated string. D sees real and generated images
            through the same kind of random, differentiable transform in
            both updates; sampling never augments. Images only. Default:
            none (the papers' setting).
        update: `"alternating"` (default: D's updates, then G's against the
            updated D, Algorithm 1) or `"simultaneous"` (one forward pass;
            both gradients at the current weights, applied together, as the
            LSGAN authors' toy code does; needs `d_steps=1`) or
            `"adaptive"` (the DeLiGAN authors' rule, `switch`: a fixed number
            of updates per real batch, each a G step if G's loss is above a
            moving threshold, else a D step; needs `d_steps=1`). The switch
            is decided from the loss over the global batch, so every
            replica takes the same branch.
        switch: the `ganzoo.models.AdaptiveSwitch` of `update="adaptive"`
            (or its config dict; default: the authors' MNIST rule,
            `AdaptiveSwitch.dg_mnist()`, 5 updates per batch). Its state
            (threshold, counts, the floor if it falls) is non-trainable
            variables of the model, saved and restored with it. Logs
            `g_steps` (G steps per batch), `threshold` and a falling floor
            as `low`.

    Example:
    >>> import ganzoo, keras
    >>> gan = ganzoo.GAN(
    ...     generator=ganzoo.networks.toy_generator(latent_dim=2, units=8),
    ...     discriminator=ganzoo.networks.toy_discriminator(units=8),
    ...     latent_dim=2, seed=0)
    >>> gan.compile(d_optimizer=keras.optimizers.Adam(1e-3),
    ...             g_optimizer=keras.optimizers.Adam(1e-3))
    >>> gan.sample(4, seed=0).shape
    (4, 2)
    """

    def __init__(
        self,
        generator,
        discriminator,
        latent_dim,
        d_steps=1,
        generator_loss="non_saturating",
        latent_distribution="normal",
        data_range=(-1.0, 1.0),
        seed=None,
        augment=None,
        update="alternating",
        switch=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive_ints(latent_dim=latent_dim)
        check_choice("update", update, UPDATES)
        if update != "alternating" and d_steps != 1:
            what = {
                "simultaneous": "takes one D step per G step",
                "adaptive": "chooses G or D at each update",
            }[update]
            raise ArgumentError(
                f"update={update!r} {what}, got d_steps={d_steps!r}."
            )
        if switch is not None and update != "adaptive":
            raise ArgumentError(
                f"switch= is the rule of update='adaptive', not of "
                f"update={update!r}."
            )
        check_positive_ints(d_steps=d_steps)
        if generator_loss not in losses.GENERATOR_LOSSES:
            raise ArgumentError(
                f"generator_loss must be one of "
                f"{sorted(losses.GENERATOR_LOSSES)}, got {generator_loss!r}."
            )
        if latent_distribution not in LATENT_DISTRIBUTIONS:
            raise ArgumentError(
                f"latent_distribution must be one of {LATENT_DISTRIBUTIONS}, "
                f"got {latent_distribution!r}."
            )
        for name, net in (
            ("generator", generator),
            ("discriminator", discriminator),
        ):
            if not isinstance(net, keras.Layer):
                raise ArgumentError(
                    f"{name} must be a keras.Model (e.g. from "
                    f"ganzoo.networks), got {type(net).__name__}."
                )
        if data_range is not None:
            check_interval("data_range", data_range)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(latent_dim)
        self.d_steps = int(d_steps)
        self.generator_loss = generator_loss
        self.latent_distribution = latent_distribution
        self.data_range = None if data_range is None else tuple(data_range)
        self.seed = (
            random.randrange(2**31) if seed is None else check_seed(seed)
        )
        self.augment = augment_lib.check_policy(augment)
        self.update = update
        self.switch = (
            AdaptiveSwitch.get(switch) if update == "adaptive" else None
        )
        self.d_optimizer = None
        self.g_optimizer = None
        names = self.metric_names
        if self.switch:
            names += self._switch_metrics
            self._add_switch_state()
        self._trackers = {name: keras.metrics.Mean(name=name) for name in names}
        self._check_networks()
        if self.augment and (
            self.data_range is None
            or len(_static_shape(self.discriminator, "input_shape") or ()) != 4
        ):
            raise ArgumentError(
                f"augment={list(self.augment)} needs image data: a "
                "discriminator with (batch, height, width, channels) inputs "
                "and a data_range."
            )
        # Built: otherwise fit first calls `call` on a batch of training
        # data, which a GAN's `call` (it takes z) cannot take.
        self.built = True

    # ----------------------------------------------------- what subclasses change
    metric_names = ("d_loss", "g_loss", "d_real", "d_fake")
    # The `SAMPLINGS` that `sample` / `draw_latent` accept.
    samplings = ("normal",)

    def discriminator_loss(self, real_output, fake_output):
        """Per-example D loss; `minimax_discriminator_loss` for GAN."""
        return losses.minimax_discriminator_loss(real_output, fake_output)

    def generator_loss_fn(self, fake_output):
        """Per-example G loss; the `generator_loss` family for GAN."""
        return losses.GENERATOR_LOSSES[self.generator_loss](fake_output)

    def discriminator_score(self, output):
        """What D's raw output means: the probability of 'real' for GAN."""
        return ops.sigmoid(output)

    @property
    def generator_variables(self):
        """Variables the generator optimizer trains."""
        return self.generator.trainable_variables

    def generator_regularization(self):
        """A scalar added to G's loss (none for GAN)."""
        return

    def check_sampling(self, sampling):
        """Raises `ArgumentError` unless this model draws `sampling`: one
        of `SAMPLINGS`, and of the model's own `samplings` ("paper", the
        DeLiGAN authors' evaluation, is DeLiGAN's only).

        Example:
        >>> import ganzoo
        >>> gan = ganzoo.GAN(
        ...     generator=ganzoo.networks.toy_generator(units=8),
        ...     discriminator=ganzoo.networks.toy_discriminator(units=8),
        ...     latent_dim=2)
        >>> gan.check_sampling("paper")
        Traceback (most recent call last):
        ganzoo._checks.ArgumentError: sampling='paper' is the DeLiGAN authors' evaluation, which GAN does not have: use sampling='normal'.
        """
        check_choice("sampling", sampling, SAMPLINGS)
        if sampling not in self.samplings:
            raise ArgumentError(
                f"sampling={sampling!r} is the DeLiGAN authors' evaluation, "
                f"which {type(self).__name__} does not have: use "
                "sampling='normal'."
            )

    def draw_latent(self, num, seed, sampling="normal"):
        """Latent noise for `num` examples from a stateless `seed`: an
        integer, which means what it means to `sample` (so
        `generate(draw_latent(n, s))` equals `sample(n, seed=s)`), or a key
        of two integers (`tf.random.stateless_*`'s int[2]).

        The same `(num, seed)` always gives the same noise. `sampling` is
        one of `SAMPLINGS`: `"normal"`, the model's own prior; `"paper"`
        only for DeLiGAN, whose latent is `(eps, component_ids)`.

        Example:
        >>> z = model.draw_latent(8, seed=0)  # doctest: +SKIP
        """
        self.check_sampling(sampling)
        seed = latent_key(seed)
        shape = (num, self.latent_dim)
        if self.latent_distribution == "uniform":
            bound = 3.0**0.5
            return tf.random.stateless_uniform(shape, seed, -bound, bound)
        return tf.random.stateless_normal(shape, seed)

    def generate_raw(self, latent, training=False):
        """Generator output for latent noise, in the generator's own range."""
        return self.generator(latent, training=training)

    def discriminate(self, data, training=False):
        """D's raw output as float32 whatever D computes in, so that the
        losses are float32 under a mixed-precision policy."""
        return ops.cast(self.discriminator(data, training=training), "float32")

    # ---------------------------------------------------------------- training
    def compile(
        self,
        d_optimizer=None,
        g_optimizer=None,
        jit_compile="auto",
        steps_per_execution=1,
        run_eagerly=False,
        auto_scale_loss=True,
    ):
        """Configures the two optimizers.

        Args:
            d_optimizer: discriminator optimizer (instance, name or config);
                default `Adam(2e-4, beta_1=0.5)`.
            g_optimizer: generator optimizer, same default.
            jit_compile, steps_per_execution, run_eagerly, auto_scale_loss:
                as in `keras.Model.compile`; under a `mixed_float16` policy
                both optimizers get a `keras.optimizers.LossScaleOptimizer`.

        Example:
        >>> gan.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
        ...             g_optimizer="adam")  # doctest: +SKIP
        """
        # optimizer=None: without it Keras makes an unused RMSprop.
        super().compile(
            optimizer=None,
            jit_compile=jit_compile,
            steps_per_execution=steps_per_execution,
            run_eagerly=run_eagerly,
        )
        self.d_optimizer = _get_optimizer(d_optimizer, "d_optimizer")
        self.g_optimizer = _get_optimizer(g_optimizer, "g_optimizer")
        if auto_scale_loss and self.dtype_policy.name == "mixed_float16":
            if self.update == "adaptive":
                # A loss-scaled update skipped on overflow does not advance
                # `iterations`, from which the adaptive step counts batches.
                raise ArgumentError(
                    "update='adaptive' cannot run under mixed_float16 (loss "
                    "scaling skips updates); use float32 or mixed_bfloat16."
                )
            self.d_optimizer = _loss_scaled(self.d_optimizer)
            self.g_optimizer = _loss_scaled(self.g_optimizer)
        # Built here, in the strategy's scope: built lazily inside a replica
        # context, Adam's slots fail under MirroredStrategy (keras#23085).
        with self.distribute_strategy.scope():
            self.d_optimizer.build(self.discriminator.trainable_variables)
            self.g_optimizer.build(self.generator_variables)

    def get_compile_config(self):
        if self.d_optimizer is None:
            return None
        return {
            "d_optimizer": keras.optimizers.serialize(self.d_optimizer),
            "g_optimizer": keras.optimizers.serialize(self.g_optimizer),
            "jit_compile": self.jit_compile,
            "steps_per_execution": self.steps_per_execution,
        }

    def compile_from_config(self, config):
        config = dict(config)
        for key in ("d_optimizer", "g_optimizer"):
            config[key] = keras.optimizers.deserialize(config[key])
        self.compile(**config)

    def fit(self, *args, **kwargs):
        """`keras.Model.fit`, after checking that `compile` was called and
        that the examples of `x` and `validation_data` (arrays, tensors,
        `tf.data.Dataset`s) have the discriminator's input shape.

        A `tf.data.Dataset` is used in its own order (no Keras warning that
        `shuffle` is ignored: `ganzoo.datasets` shuffles already). With an
        `AdaptiveSwitch` whose floor falls, the callback that lowers it at
        each epoch's start joins `callbacks`. For the pairs TensorFlow's
        grappler remapper fails on (`networks.remapper_fails`), it is off
        during the fit (no "remapper failed" line; the same weights).
        """
        self._require_compiled("fit")
        # Arguments by name, however they were passed.
        bound = inspect.signature(keras.Model.fit).bind(self, *args, **kwargs)
        arguments = bound.arguments
        self._check_real_shape(arguments.get("x"))
        validation = arguments.get("validation_data")
        if isinstance(validation, (tuple, list)):
            validation = validation[0] if validation else None
        self._check_real_shape(validation, "validation_data's examples")
        if isinstance(arguments.get("x"), tf.data.Dataset):
            arguments.setdefault("shuffle", False)
        callbacks = self._switch_callbacks(arguments.get("callbacks"))
        if callbacks is not None:
            arguments["callbacks"] = callbacks
        # TF 2.21's remapper fails on some pairs' step and logs an error
        # line; off, nothing else changes (`networks.remapper_fails`).
        off = networks.remapper_fails(self.generator, self.discriminator)
        with networks.remapper_off(off):
            history = super().fit(*bound.args[1:], **bound.kwargs)
        # What `keras.Model.fit` does for its one optimizer: an optimizer
        # with `use_ema=True` writes its moving averages into the weights.
        self.d_optimizer.finalize_variable_values(
            self.discriminator.trainable_variables
        )
        self.g_optimizer.finalize_variable_values(self.generator_variables)
        return history

    @contextlib.contextmanager
    def averaged_generator(self):
        """Within the block, the generator has its moving-average weights.

        Only with `g_optimizer=keras.optimizers.Adam(..., use_ema=True)`
        (`ganzoo train --g_ema=0.999`); otherwise a no-op. It needs a
        compiled model (`RuntimeError` before `compile`). The trained
        weights come back at the end of the block. `fit` itself ends with
        the averages in place, as `keras.Model.fit` does.

        Example:
        >>> with gan.averaged_generator():  # doctest: +SKIP
        ...     images = gan.sample(64, seed=0)
        """
        self._require_compiled("averaged_generator")
        variables = self.generator_variables
        inner = getattr(self.g_optimizer, "inner_optimizer", self.g_optimizer)
        if not (inner.use_ema and inner.built):
            yield self
            return
        trained = [v.numpy() for v in variables]
        self.g_optimizer.finalize_variable_values(variables)
        try:
            yield self
        finally:
            for v, value in zip(variables, trained):
                v.assign(value)

    def recalibrate_batch_norm(self, num_batches=100, batch_size=100, seed=0):
        """Re-estimates the generator's batch-norm moving statistics.

        After a moving average of the weights is written into the generator
        (`use_ema`), its batch-norm moving mean and variance still describe
        the trained weights, not the average. This runs the generator in
        training mode on `num_batches` fresh latent batches and sets each
        moving statistic to the plain mean of the batch statistics (the
        layer's momentum is set to i/(i+1) at batch i, then restored).
        Nothing else changes. Call it on one device, after training.
        Returns the number of batch-norm layers updated (0 for a generator
        without batch norm).

        Example:
        >>> model.recalibrate_batch_norm()  # doctest: +SKIP
        2
        """
        check_positive_ints(num_batches=num_batches, batch_size=batch_size)
        norms = [
            layer
            for layer in _all_layers(self.generator)
            if isinstance(layer, keras.layers.BatchNormalization)
        ]
        momenta = [layer.momentum for layer in norms]
        try:
            # Eager calls: Keras reads `momentum` when the layer is called.
            for i in range(num_batches if norms else 0):
                for layer in norms:
                    layer.momentum = i / (i + 1)
                self.generate_raw(
                    self.draw_latent(batch_size, tf.constant([seed, i])),
                    training=True,
                )
        finally:
            for layer, momentum in zip(norms, momenta):
                layer.momentum = momentum
        return len(norms)

    def evaluate(self, *args, **kwargs):
        """`keras.Model.evaluate`, after checking that `compile` was called
        and the shape of the data's examples."""
        self._require_compiled("evaluate")
        bound = inspect.signature(keras.Model.evaluate).bind(
            self, *args, **kwargs
        )
        self._check_real_shape(bound.arguments.get("x"))
        return super().evaluate(*args, **kwargs)

    @property
    def metrics(self):
        """The trackers of `metric_names`, reset by Keras every epoch."""
        return list(self._trackers.values())

    def train_step(self, data):
        real = self._real(data)
        batch, global_batch, start = _batch_info(real)
        if self.update == "simultaneous":
            return self._simultaneous_step(real, batch, global_batch, start)
        if self.update == "adaptive":
            return self._adaptive_step(real, batch, global_batch, start)
        step = self.g_optimizer.iterations
        for k in range(self.d_steps):
            latent = self._replica_latent(step, k, batch, global_batch, start)
            d_loss, real_out, fake_out = self._d_update(
                real, latent, step, k, global_batch, start
            )
        latent = self._replica_latent(
            step, self.d_steps, batch, global_batch, start
        )
        g_loss = self._g_update(latent, step, self.d_steps, global_batch, start)
        return self._log(
            d_loss, g_loss, real_out, fake_out, global_batch, batch
        )

    def _d_update(self, real, latent, step, stream, global_batch, start):
        """One D step against fakes from `latent`; `(loss, D(real),
        D(fake))`."""
        fake = self.generate_raw(latent, training=True)
        real_seen, fake_seen = (
            self._replica_augment(x, step, stream, which, global_batch, start)
            for which, x in enumerate((real, fake))
        )
        d_vars = self.discriminator.trainable_variables
        with tf.GradientTape() as tape:
            real_out = self._train_discriminate(
                real_seen, step, stream, 0, global_batch, start
            )
            fake_out = self._train_discriminate(
                fake_seen, step, stream, 1, global_batch, start
            )
            d_loss = self._d_loss(real_out, fake_out, global_batch)
            # A no-op unless the optimizer scales losses (float16).
            scaled = self.d_optimizer.scale_loss(d_loss)
        self.d_optimizer.apply(tape.gradient(scaled, d_vars), d_vars)
        return d_loss, real_out, fake_out

    def _g_update(self, latent, step, stream, global_batch, start):
        """One G step from `latent`; G's adversarial loss."""
        g_vars = self.generator_variables
        with tf.GradientTape() as tape:
            fake = self.generate_raw(latent, training=True)
            fake = self._replica_augment(
                fake, step, stream, 1, global_batch, start
            )
            g_out = self._train_discriminate(
                fake, step, stream, 1, global_batch, start
            )
            g_loss, total = self._g_loss(g_out, global_batch)
            scaled = self.g_optimizer.scale_loss(total)
        self.g_optimizer.apply(tape.gradient(scaled, g_vars), g_vars)
        return g_loss

    def _simultaneous_step(self, real, batch, global_batch, start):
        step = self.g_optimizer.iterations
        d_vars = self.discriminator.trainable_variables
        g_vars = self.generator_variables
        latent = self._replica_latent(step, 0, batch, global_batch, start)
        with tf.GradientTape(persistent=True) as tape:
            fake = self.generate_raw(latent, training=True)
            real_seen, fake_seen = (
                self._replica_augment(x, step, 0, which, global_batch, start)
                for which, x in enumerate((real, fake))
            )
            real_out = self._train_discriminate(
                real_seen, step, 0, 0, global_batch, start
            )
            fake_out = self._train_discriminate(
                fake_seen, step, 0, 1, global_batch, start
            )
            d_loss = self._d_loss(real_out, fake_out, global_batch)
            g_loss, total = self._g_loss(fake_out, global_batch)
            d_scaled = self.d_optimizer.scale_loss(d_loss)
            g_scaled = self.g_optimizer.scale_loss(total)
        d_grads = tape.gradient(d_scaled, d_vars)
        g_grads = tape.gradient(g_scaled, g_vars)
        del tape
        self.d_optimizer.apply(d_grads, d_vars)
        self.g_optimizer.apply(g_grads, g_vars)
        return self._log(
            d_loss, g_loss, real_out, fake_out, global_batch, batch
        )

    def _d_loss(self, real_out, fake_out, global_batch):
        return tf.nn.compute_average_loss(
            self.discriminator_loss(real_out, fake_out),
            global_batch_size=global_batch,
        )

    def _g_loss(self, fake_out, global_batch):
        """`(G's adversarial loss, that plus the regulariser)`."""
        g_loss = tf.nn.compute_average_loss(
            self.generator_loss_fn(fake_out), global_batch_size=global_batch
        )
        reg = self.generator_regularization()
        if reg is None:
            return g_loss, g_loss
        # Gradients are summed over replicas: add reg / replicas.
        return g_loss, g_loss + tf.nn.scale_regularization_loss(reg)

    def test_step(self, data):
        real = self._real(data)
        batch, global_batch, start = _batch_info(real)
        latent = self._replica_latent(
            0, _EVAL_STREAM, batch, global_batch, start
        )
        fake = self.generate_raw(latent, training=False)
        real_out = self.discriminate(real, training=False)
        fake_out = self.discriminate(fake, training=False)
        d_loss = self._d_loss(real_out, fake_out, global_batch)
        g_loss, _ = self._g_loss(fake_out, global_batch)
        return self._log(
            d_loss, g_loss, real_out, fake_out, global_batch, batch
        )

    def _log(self, d_loss, g_loss, real_out, fake_out, global_batch, batch):
        self._track(
            global_batch,
            batch,
            d_loss=d_loss,
            g_loss=g_loss,
            d_real=real_out,
            d_fake=fake_out,
        )
        return self._logs()

    def _track(self, global_batch, batch, **values):
        """Updates the trackers of `values`: losses `d_loss`/`g_loss`, D's
        raw outputs `d_real`/`d_fake`."""
        # Losses are sums over this replica / global batch; the local mean is
        # that times global/local. Keras then averages replicas' metrics.
        scale = ops.cast(global_batch / batch, "float32")
        # Weighted by the replica's examples: the last batch of an epoch may
        # be split unevenly.
        weight = ops.cast(batch, "float32")
        for name, value in values.items():
            if name.endswith("_loss"):
                value = value * ops.cast(scale, value.dtype)
            else:
                value = self.discriminator_score(value)
            self._trackers[name].update_state(value, weight)

    def _logs(self):
        self.update_extra_metrics()
        logs = {m.name: m.result() for m in self.metrics}
        strategy = self.distribute_strategy
        if (
            isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
            and strategy.extended._in_multi_worker_mode()
        ):
            # MWMS cannot reduce scalar logs across workers
            # (tensorflow#72388). Keras reduces across workers under this
            # same test; a single worker's logs stay scalars, as
            # TensorBoard needs.
            logs = {k: ops.reshape(v, (1,)) for k, v in logs.items()}
        return logs

    def update_extra_metrics(self):
        """Hook for subclasses with more trackers than `metric_names`."""

    def _keyed_seed(self, purpose, *keys):
        """The stateless seed of `purpose` (0 latent noise, 1 augmentation,
        2 D's dropout and noise) for `keys` (step, stream, ...):
        `[self.seed, purpose]` folded with each."""
        seed = tf.constant([self.seed, purpose], tf.int64)
        for key in keys:
            seed = tf.random.experimental.stateless_fold_in(seed, key)
        return seed

    def _replica_latent(self, step, stream, batch, global_batch, start):
        full = self.draw_latent(global_batch, self._keyed_seed(0, step, stream))
        return tf.nest.map_structure(lambda t: t[start : start + batch], full)

    def _train_discriminate(
        self, data, step, stream, which, global_batch, start
    ):
        """`discriminate(data, training=True)` with D's keyed layers
        (`layers.KeyedDropout`, `KeyedGaussianNoise`) keyed by (seed, step,
        stream, `which`: 0 real, 1 generated) and by global row."""
        seed = self._keyed_seed(2, step, stream, which)
        with layers_lib.noise_key(seed, start, global_batch):
            return self.discriminate(data, training=True)

    def _replica_augment(
        self, images, step, stream, which, global_batch, start
    ):
        """`images` (this replica's part of the global batch) as D sees
        them at `step`: augmented with `self.augment`, keyed like the noise
        by (seed, step, stream) and by `which` (0 real, 1 generated)."""
        if not self.augment:
            return images
        return augment_lib.augment(
            images,
            self.augment,
            self._keyed_seed(1, step, stream, which),
            start=start,
            total=global_batch,
            value_range=self.data_range,
        )

    # ---------------------------------------------------------------- sampling
    def call(self, latent, training=False):
        """`model(latent)` / `model.predict(latent)`: `generate_raw`, the
        generator's output in its own range (`data_range`, e.g. [-1, 1]),
        as a tensor; `generate` gives images in [0, 1] as numpy."""
        return self.generate_raw(latent, training=training)

    def sample(self, num, seed=None, batch_size=1000, sampling="normal"):
        """`num` samples as a float32 numpy array.

        Images are rescaled to [0, 1] (shape `(num, H, W, C)`); 2-D toy
        points are returned as they are. The same `seed` gives the same
        samples; `seed=None` draws a fresh one. `sampling` as in
        `draw_latent`: `"paper"` draws a DeLiGAN's samples as its authors
        evaluated (`DeLiGAN.draw_latent`); other models refuse it.

        Example:
        >>> images = model.sample(16, seed=0)  # doctest: +SKIP
        """
        check_positive_ints(num=num, batch_size=batch_size)
        seed = random.randrange(2**31) if seed is None else check_seed(seed)
        latent = self.draw_latent(int(num), seed, sampling)
        return self.generate(latent, batch_size)

    def generate(self, latent, batch_size=1000):
        """Generator output for the given latent noise, as numpy float32;
        images rescaled to [0, 1] as in `sample`. For DeLiGAN, `latent` is
        `(eps, component_ids)` (or `eps` alone: components drawn at random).

        Example:
        >>> z = np.random.default_rng(0).normal(size=(4, 100))
        >>> images = gan.generate(z.astype("float32"))  # doctest: +SKIP
        """
        check_positive_ints(batch_size=batch_size)
        latent = self._checked_latent(latent)
        num = int(tf.nest.flatten(latent)[0].shape[0])
        outs = []
        for start in range(0, num, batch_size):
            chunk = tf.nest.map_structure(
                lambda t, s=start: t[s : s + batch_size], latent
            )
            outs.append(self.postprocess(self.generate_raw(chunk)))
        return np.concatenate([np.asarray(o) for o in outs], axis=0)

    def _checked_latent(self, latent):
        """`latent` for `generate`, as tensors, once checked: a numeric
        `(n, latent_dim)` array with n >= 1; else `ArgumentError`."""
        return tf.convert_to_tensor(
            _latent_array("latent", latent, self.latent_dim)
        )

    def postprocess(self, raw):
        """Maps generator output to the user's space ([0, 1] for images).

        Example:
        >>> gan.postprocess(gan.generate_raw(z))  # doctest: +SKIP
        """
        if self.data_range is None or len(raw.shape) != 4:
            return ops.cast(raw, "float32")
        low, high = self.data_range
        out = (ops.cast(raw, "float32") - low) / (high - low)
        return ops.clip(out, 0.0, 1.0)

    # ------------------------------------------------------------------ config
    def save(self, filepath, *args, **kwargs):
        """Keras' `save`, to a `.keras` file: the config, the weights and
        both optimizers' state. The legacy HDF5 format (`.h5`) would lose
        the optimizers' state (and fails halfway on a compiled model):
        refused before anything is written."""
        name = str(filepath) if isinstance(filepath, (str, os.PathLike)) else ""
        if name.endswith((".h5", ".hdf5")):
            raise ArgumentError(
                f"{name}: Keras' legacy HDF5 format loses a ganzoo model's "
                "optimizer state (and fails on a compiled one); save to a "
                ".keras file (or save_weights to a .weights.h5 file)."
            )
        return super().save(filepath, *args, **kwargs)

    def get_config(self):
        return {
            "name": self.name,
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(
                self.discriminator
            ),
            "latent_dim": self.latent_dim,
            "d_steps": self.d_steps,
            "generator_loss": self.generator_loss,
            "latent_distribution": self.latent_distribution,
            "data_range": None
            if self.data_range is None
            else list(self.data_range),
            "seed": self.seed,
            "augment": list(self.augment),
            "update": self.update,
            "switch": self.switch and self.switch.get_config(),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        # A file saved before the activation check came in loads as saved.
        token = _REBUILDING.set(True)
        try:
            return cls(**config)
        finally:
            _REBUILDING.reset(token)

    # ----------------------------------------------------------------- checks
    def _real(self, data):
        """The real batch of `fit` / `evaluate`'s `data`; `ArgumentError`,
        while tracing (free), if it holds integers (uint8 pixels)."""
        real = _unpack(data)
        if not tf.as_dtype(real.dtype).is_floating:
            if self.data_range is None:
                raise ArgumentError(
                    f"real data must be floats, got {real.dtype.name}."
                )
            low, high = self.data_range
            raise ArgumentError(
                f"real data must be floats in data_range ({low:g}, "
                f"{high:g}), got {real.dtype.name}: scale them first (uint8 "
                f"pixels p: p / 255 * {high - low:g} + {low:g})."
            )
        return real

    def _check_real_shape(self, x, what="real examples"):
        """ArgumentError if the examples of `x` (an array or tensor, a
        tuple or dict whose first entry is one, or a `tf.data.Dataset` of
        batches; other inputs, e.g. a distributed dataset, are left to
        Keras) are not of the shape the discriminator takes. Checked before
        Keras traces the step: a second `fit` retraces with relaxed shapes,
        and a wrong shape then fails deep in the graph."""
        want = _static_shape(self.discriminator, "input_shape")
        dataset = isinstance(x, tf.data.Dataset)
        if dataset:
            x = _unpack(x.element_spec)
        shape = getattr(_unpack(x), "shape", None)
        if shape is None or not _is_shape(want):
            return  # not an array, or a discriminator of several inputs
        shape = tf.TensorShape(shape)
        if shape.rank is None:
            return
        want, got = tuple(want)[1:], tuple(shape)[1:]
        if _fits(got, want):
            return
        if dataset and _fits(tuple(shape), want):
            raise ArgumentError(
                f"{what} must come in batches (dataset.batch(n)), got "
                f"single examples of shape {tuple(shape)}."
            )
        hint = ""
        if want[-1:] == (1,) and _fits(got, want[:-1]):
            hint = " (add the channel axis: x[..., None])"
        raise ArgumentError(
            f"{what} must have the discriminator's input shape {want}, got "
            f"{got}{hint}."
        )

    def _require_compiled(self, method):
        if self.d_optimizer is None:
            raise RuntimeError(
                f"{type(self).__name__}.{method}() needs optimizers: call "
                "model.compile(d_optimizer=..., g_optimizer=...) first."
            )

    def _generator_input_dim(self):
        return self.latent_dim

    def _check_networks(self):
        """ArgumentError for networks that do not fit together: shapes,
        D's one score per example, G's output activation against
        `data_range`. Builds a network given without an input shape (a
        `Sequential` without `Input`), as `fit`'s optimizers need."""
        if self.generator is self.discriminator:
            raise ArgumentError(
                "generator and discriminator are the same network: give two."
            )
        in_dim = self._generator_input_dim()
        g_in = _static_shape(self.generator, "input_shape")
        if g_in is not None and g_in[-1] not in (None, in_dim):
            raise ArgumentError(
                f"The generator takes inputs of shape {g_in}, but latent_dim "
                f"is {in_dim}: they must match."
            )
        g_out = _static_shape(self.generator, "output_shape")
        d_in = _static_shape(self.discriminator, "input_shape")
        if g_out is None:
            g_out = tuple(self.generator(ops.zeros((2, in_dim))).shape)
        if d_in is not None and tuple(g_out[1:]) != tuple(d_in[1:]):
            raise ArgumentError(
                f"The generator's output shape {tuple(g_out)} does not match "
                f"the discriminator's input shape {tuple(d_in)}."
            )
        d_out = _static_shape(self.discriminator, "output_shape")
        if d_out is None:
            fake = ops.zeros((2,) + tuple(g_out[1:]))
            d_out = (None,) + tuple(self.discriminator(fake).shape[1:])
        if None in d_out[1:] or int(np.prod(d_out[1:])) != 1:
            raise ArgumentError(
                "discriminator must give one score per example (output "
                f"shape (batch, 1)), got output shape {tuple(d_out)}."
            )
        activation = _output_activation(self.generator)
        # Images only: data_range means nothing for 2-D points (as in
        # postprocess); a saved model loads as it was saved.
        if (
            activation
            and self.data_range is not None
            and len(g_out) == 4
            and not _REBUILDING.get()
        ):
            low, high = _ACTIVATION_RANGES[activation]
            if tuple(self.data_range) != (low, high):
                raise ArgumentError(
                    f"data_range must be ({low:g}, {high:g}) for a generator "
                    f"that ends in {activation}, got {tuple(self.data_range)}:"
                    f" pass data_range=({low:g}, {high:g}) and real images in"
                    f" that range (ganzoo.datasets.load(..., value_range="
                    f"({low:g}, {high:g})))."
                )


# True while from_config rebuilds a saved model (see _check_networks).
_REBUILDING = contextvars.ContextVar("ganzoo_rebuilding", default=False)
# The output ranges of the activations G's last layer may end in.
_ACTIVATION_RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}
# Layers after G's activation that keep its values (only reshape them).
_SHAPE_LAYERS = (
    keras.layers.Reshape,
    keras.layers.Flatten,
    keras.layers.Permute,
    keras.layers.Cropping1D,
    keras.layers.Cropping2D,
)


def _output_activation(net):
    """`"sigmoid"` or `"tanh"` if the layer that makes `net`'s one output
    (a functional or Sequential model's graph, walked back over layers
    that only reshape) applies that activation; else None (also for a
    subclassed model, whose graph is not known)."""
    outputs = (
        getattr(net, "outputs", None) if isinstance(net, keras.Model) else None
    )
    if not outputs or len(outputs) != 1:
        return None
    history = getattr(outputs[0], "_keras_history", None)
    while history is not None:
        layer = history.operation
        if isinstance(layer, keras.Model):
            return _output_activation(layer)
        if not isinstance(layer, _SHAPE_LAYERS):
            name = getattr(getattr(layer, "activation", None), "__name__", None)
            return name if name in _ACTIVATION_RANGES else None
        inputs = layer._inbound_nodes[history.node_index].input_tensors
        history = getattr(inputs[0], "_keras_history", None) if inputs else None
    return None


def _is_shape(dims):
    """Whether `dims` is one static shape (ints and None), not nested."""
    return dims is not None and all(
        d is None or isinstance(d, int) for d in dims
    )


def _fits(shape, want):
    """Whether `shape` matches `want`, None (unknown) matching any size."""
    return len(shape) == len(want) and all(
        g is None or w is None or g == w for g, w in zip(shape, want)
    )


def _static_shape(net, attr):
    try:
        return tuple(getattr(net, attr))
    except (AttributeError, ValueError, TypeError):
        return None


def _all_layers(model):
    """The layers of `model`, and of the models nested in it."""
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)


def _get_optimizer(identifier, name):
    if identifier is None:
        return keras.optimizers.Adam(2e-4, beta_1=0.5)
    try:
        return keras.optimizers.get(identifier)
    except ValueError as e:
        raise ArgumentError(
            f"{name} must be a keras optimizer, its name or its config; got "
            f"{identifier!r}."
        ) from e


def _loss_scaled(optimizer):
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return optimizer
    return keras.optimizers.LossScaleOptimizer(optimizer)


def _unpack(data):
    if isinstance(data, dict):
        return next(iter(data.values()))
    if isinstance(data, (tuple, list)):
        return data[0]
    return data


def _batch_info(real):
    """`(local batch, global batch, offset of this replica's examples in
    the global batch)`, from every replica's real size: the last batch of an
    epoch may hold fewer examples on some replicas (103 examples at batch 50
    on 2 replicas end with 2 and 1)."""
    ctx = tf.distribute.get_replica_context()
    batch = tf.shape(real)[0]
    if ctx.num_replicas_in_sync == 1:
        return batch, batch, 0
    sizes = ctx.all_gather(tf.reshape(batch, [1]), axis=0)
    replica = tf.cast(ctx.replica_id_in_sync_group, tf.int32)
    before = tf.range(ctx.num_replicas_in_sync) < replica
    start = tf.reduce_sum(tf.where(before, sizes, tf.zeros_like(sizes)))
    return batch, tf.reduce_sum(sizes), start


def _latent_array(name, value, latent_dim):
    """`value` as a float32 `(n, latent_dim)` numpy array, n >= 1, or an
    `ArgumentError` naming `name` and the shape it has."""
    try:
        z = np.asarray(value)
    except ValueError:  # ragged, or a (eps, ids) pair given to a GAN
        z = np.asarray(None)
    if (
        not np.issubdtype(z.dtype, np.number)
        or z.ndim != 2
        or z.shape[0] < 1
        or z.shape[1] != latent_dim
    ):
        raise ArgumentError(
            f"{name} must be a numeric array of shape (n, {latent_dim}) with "
            f"n >= 1, got shape {z.shape} ({z.dtype})."
        )
    return z.astype("float32")
