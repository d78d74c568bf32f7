"""`GAN`'s `update="adaptive"` training step, the mixin `_AdaptiveUpdate`:
the DeLiGAN authors' choice between a G and a D step before each update,
by the rule of `ganzoo.models.adaptive.AdaptiveSwitch`, strategy-invariant
(the choice is taken once, in cross-replica context)."""

import functools

import keras
import tensorflow as tf

from ganzoo.models.adaptive import (
    _counted,
    _fallen_low,
    _moved_threshold,
)

__all__ = []


class _AdaptiveUpdate:
    """`GAN`'s `update="adaptive"` step, with `switch` an `AdaptiveSwitch`.

    A mixin of `GAN`: it uses the model's `_replica_latent`, `_d_update`,
    `_g_update`, `_replica_augment` and trackers."""

    @property
    def _switch_metrics(self):
        """Logged besides the model's metrics: G steps per batch, the
        threshold and, if it falls, the floor."""
        falls = self.switch.low_final is not None
        return ("g_steps", "threshold") + (("low",) if falls else ())

    def _add_switch_state(self):
        """Model variables `switch_<name>` for the names of
        `AdaptiveSwitch.initial_state`, so a `.keras` file or a
        BackupAndRestore resume continues the schedule. Each replica updates
        its own copy (no aggregation): every replica computes the same
        values."""
        for name, value in self.switch.initial_state().items():
            dtype = self.switch.dtype if isinstance(value, float) else "int32"
            variable = self.add_weight(
                name=f"switch_{name}",
                shape=(),
                dtype=dtype,
                initializer=keras.initializers.Constant(value),
                trainable=False,
                autocast=False,
            )
            setattr(self, f"switch_{name}", variable)

    def _switch_state(self):
        return {
            name: getattr(self, f"switch_{name}")
            for name in self.switch.initial_state()
        }

    def _set_switch_state(self, state):
        for name, variable in self._switch_state().items():
            if state[name] is not variable:
                variable.assign(state[name])

    def _switch_callbacks(self, callbacks):
        """`fit`'s `callbacks` with, for a falling floor, the callback that
        lowers it: epochs start in `fit`, unseen by the train step."""
        if self.switch is not None and self.switch.low_final is not None:
            return _with_falling_low(callbacks, self)
        return callbacks

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
            self._set_switch_state(_counted(rule, self._switch_state(), take_g))
            g_steps += tf.cast(take_g, "float32")
        self._trackers["g_steps"].update_state(g_steps)
        self._trackers["threshold"].update_state(self.switch_threshold)
        if "low" in self._trackers:
            self._trackers["low"].update_state(self.switch_low)
        return self._logs()

    def _move_threshold(self):
        """The once-per-batch move of `AdaptiveSwitch.next_threshold`."""
        self._set_switch_state(
            _moved_threshold(self.switch, self._switch_state())
        )

    def _lower_floor(self):
        """The once-per-epoch fall of `AdaptiveSwitch.next_low`, called by
        `fit` at the start of each epoch, in cross-replica context."""
        self._set_switch_state(_fallen_low(self.switch, self._switch_state()))

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
        # In the threshold's dtype, as the authors' float32 loss met their
        # float64 threshold.
        threshold = self.switch_threshold
        return tf.cast(loss, threshold.dtype) > threshold

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


class _FallingLow(keras.callbacks.Callback):
    """Lowers the floor of the model's `AdaptiveSwitch` (if D's count says
    so) at the start of every epoch; `fit` adds it."""

    def on_epoch_begin(self, epoch, logs=None):
        self.model._lower_floor()


def _with_falling_low(callbacks, model):
    """`fit`'s `callbacks` (None, one, a list or a `CallbackList`) with a
    `_FallingLow`, unless they hold one."""
    if isinstance(callbacks, keras.callbacks.CallbackList):
        if not any(isinstance(c, _FallingLow) for c in callbacks.callbacks):
            falling = _FallingLow()
            falling.set_model(model)
            callbacks.callbacks.append(falling)
        return callbacks
    callbacks = keras.tree.flatten(callbacks) if callbacks else []
    if any(isinstance(c, _FallingLow) for c in callbacks):
        return callbacks
    return [*callbacks, _FallingLow()]


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
