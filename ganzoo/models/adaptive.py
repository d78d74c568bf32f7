"""The DeLiGAN authors' adaptive choice between G and D updates: the rule,
`AdaptiveSwitch`, and the training step `GAN` takes with it."""

import dataclasses
import functools

import keras
import tensorflow as tf

from ganzoo._checks import ArgumentError, check_positive_ints, check_range

__all__ = [
    "AdaptiveSwitch",
]


@dataclasses.dataclass(frozen=True)
class AdaptiveSwitch:
    """The rule of `update="adaptive"`: which network each update trains.

    From the DeLiGAN authors' MNIST code (val-iisc/deligan
    `src/mnist/dg_mnist.py`): every real batch gets exactly
    `updates_per_batch` updates. Before each, G's adversarial loss is
    measured on fresh noise with batch norm in inference mode; above the
    threshold the update is a G step, else a D step on the same real batch.
    Once per batch, before its updates, the threshold moves: up by `step`
    (to at most `high`) after `g_run` or more consecutive G steps, down by
    `step` (to at least `low`) after `d_run` or more consecutive D steps;
    the run that moved it starts again from 0. The defaults are the
    paper's.

    Args:
        updates_per_batch: updates (G or D) per real batch (>= 1).
        start: the threshold before training (in `[low, high]`).
        low, high: the threshold's bounds.
        step: how far the threshold moves at a time (>= 0).
        g_run: consecutive G steps that raise the threshold (>= 1).
        d_run: consecutive D steps that lower it (>= 1).

    Example:
    >>> import ganzoo
    >>> rule = ganzoo.models.AdaptiveSwitch(updates_per_batch=3)
    >>> rule.next_threshold(0.9, g_run=4, d_run=0)
    (0.903, 0, 0)
    >>> rule.next_threshold(0.7, g_run=0, d_run=2)
    (0.7, 0, 0)
    """

    updates_per_batch: int = 5
    start: float = 1.0
    low: float = 0.70
    high: float = 1.0
    step: float = 0.003
    g_run: int = 4
    d_run: int = 2

    def __post_init__(self):
        check_positive_ints(
            updates_per_batch=self.updates_per_batch,
            g_run=self.g_run,
            d_run=self.d_run,
        )
        if not self.low <= self.high:
            raise ArgumentError(
                f"low must be <= high, got low={self.low!r}, high="
                f"{self.high!r}."
            )
        check_range("start", self.start, self.low, self.high, high_open=False)
        if not self.step >= 0:
            raise ArgumentError(f"step must be >= 0, got {self.step!r}.")

    def next_threshold(self, threshold, g_run, d_run):
        """`(threshold, g_run, d_run)` after the once-per-batch check, as
        Python numbers (the rule `GAN`'s step applies to its variables).

        Example:
        >>> AdaptiveSwitch().next_threshold(1.0, g_run=5, d_run=0)
        (1.0, 0, 0)
        """
        # float64: the Python arithmetic of the authors' code.
        threshold, g_run, d_run = _moved_threshold(
            self, tf.constant(threshold, tf.float64), g_run, d_run
        )
        return round(float(threshold), 12), int(g_run), int(d_run)

    def get_config(self):
        """The rule as a dict of its fields (what `GAN.get_config` holds).

        Example:
        >>> AdaptiveSwitch().get_config()["updates_per_batch"]
        5
        """
        return dataclasses.asdict(self)

    @classmethod
    def get(cls, value):
        """An `AdaptiveSwitch` from one, its config dict, or None (the
        paper's rule).

        Example:
        >>> AdaptiveSwitch.get({"updates_per_batch": 2}).updates_per_batch
        2
        """
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            unknown = sorted(set(value) - {f.name for f in _FIELDS})
            if unknown:
                raise ArgumentError(
                    f"Unknown AdaptiveSwitch fields {unknown}; valid: "
                    f"{', '.join(f.name for f in _FIELDS)}."
                )
            return cls(**value)
        raise ArgumentError(
            f"switch must be an AdaptiveSwitch, its config dict or None, got "
            f"{value!r}."
        )


_FIELDS = dataclasses.fields(AdaptiveSwitch)


def _moved_threshold(rule, threshold, g_run, d_run):
    """`AdaptiveSwitch.next_threshold` on tensors, the threshold in its own
    dtype (float32 in the model)."""
    up = g_run >= rule.g_run
    threshold = tf.where(
        up, tf.minimum(threshold + rule.step, rule.high), threshold
    )
    down = d_run >= rule.d_run
    threshold = tf.where(
        down, tf.maximum(threshold - rule.step, rule.low), threshold
    )
    return threshold, tf.where(up, 0, g_run), tf.where(down, 0, d_run)


class _AdaptiveUpdate:
    """`GAN`'s `update="adaptive"` step, with `switch` an `AdaptiveSwitch`.

    A mixin of `GAN`: it uses the model's `_replica_latent`, `_d_update`,
    `_g_update`, `_replica_augment` and trackers."""

    # Logged besides the model's metrics: G steps per batch, the threshold.
    _switch_metrics = ("g_steps", "threshold")

    def _add_switch_state(self):
        """Model variables, so a `.keras` file or a BackupAndRestore resume
        continues the schedule. Each replica updates its own copy (no
        aggregation): every replica computes the same values."""

        def add(name, value, dtype):
            return self.add_weight(
                name=name,
                shape=(),
                dtype=dtype,
                initializer=keras.initializers.Constant(value),
                trainable=False,
                autocast=False,
            )

        self.switch_threshold = add(
            "switch_threshold", self.switch.start, "float32"
        )
        self.switch_g_run = add("switch_g_run", 0, "int32")
        self.switch_d_run = add("switch_d_run", 0, "int32")

    def _adaptive_step(self, real, batch, global_batch, start):
        rule = self.switch
        # Every update is one apply of one optimizer: their iterations
        # together count updates, so real batches too.
        updates = self.d_optimizer.iterations + self.g_optimizer.iterations
        step = updates // rule.updates_per_batch
        self._move_threshold()
        g_steps = tf.constant(0.0)
        for k in range(rule.updates_per_batch):
            latent = self._replica_latent(step, k, batch, global_batch, start)
            take_g = self._generator_behind(
                latent, step, k, global_batch, start
            )
            _cross_replica_cond(
                take_g,
                functools.partial(self._adaptive_g_update, stream=k),
                functools.partial(self._adaptive_d_update, stream=k),
                (real, latent, step, batch, global_batch, start),
            )
            g_run, d_run = self.switch_g_run, self.switch_d_run
            g_run.assign(tf.where(take_g, g_run + 1, 0))
            d_run.assign(tf.where(take_g, 0, d_run + 1))
            g_steps += tf.cast(take_g, "float32")
        self._trackers["g_steps"].update_state(g_steps)
        self._trackers["threshold"].update_state(self.switch_threshold)
        return self._logs()

    def _move_threshold(self):
        """The once-per-batch check of `AdaptiveSwitch.next_threshold`."""
        state = (self.switch_threshold, self.switch_g_run, self.switch_d_run)
        moved = _moved_threshold(self.switch, *state)
        for variable, value in zip(state, moved):
            variable.assign(value)

    def _generator_behind(self, latent, step, stream, global_batch, start):
        """Whether the next update trains G: G's adversarial loss on
        `latent`, batch norm in inference mode, above the threshold."""
        fake = self.generate_raw(latent, training=False)
        fake = self._replica_augment(fake, step, stream, 1, global_batch, start)
        loss = tf.nn.compute_average_loss(
            self.generator_loss_fn(self.discriminate(fake, training=False)),
            global_batch_size=global_batch,
        )
        # The mean over the global batch, the same on every replica: one
        # decision for all of them.
        ctx = tf.distribute.get_replica_context()
        loss = ctx.all_reduce(tf.distribute.ReduceOp.SUM, loss)
        return loss > self.switch_threshold

    def _adaptive_d_update(
        self, real, latent, step, batch, global_batch, start, stream
    ):
        d_loss, real_out, fake_out = self._d_update(
            real, latent, step, stream, global_batch, start
        )
        self._track(
            global_batch, batch, d_loss=d_loss, d_real=real_out, d_fake=fake_out
        )

    def _adaptive_g_update(
        self, real, latent, step, batch, global_batch, start, stream
    ):
        del real  # a G step sees no real data
        g_loss = self._g_update(latent, step, stream, global_batch, start)
        self._track(global_batch, batch, g_loss=g_loss)


def _cross_replica_cond(pred, true_fn, false_fn, args):
    """`true_fn(*args)` if `pred` else `false_fn(*args)`, in a replica
    function, for branches that hold collectives (synchronised batch norm,
    `optimizer.apply`).

    A replica-context `tf.cond` cannot hold a `merge_call` ("merge_call
    called while defining a new graph", tensorflow/tensorflow#59487), so
    the cond is taken once in cross-replica context, on the first replica's
    `pred` (which must be the same on all), and the branch runs on every
    replica, as Keras' `LossScaleOptimizer._tf_apply` applies or skips."""

    def merged(strategy, pred, *args):
        pred = strategy.experimental_local_results(pred)[0]

        def branch(fn):
            return lambda: strategy.extended.call_for_each_replica(fn, args)

        tf.cond(pred, branch(true_fn), branch(false_fn))

    tf.distribute.get_replica_context().merge_call(merged, args=(pred, *args))
