"""Learning-rate and momentum schedules of the papers' recipes, for both of a
GAN's optimizers.

`FlatThenLinear` and `MomentumAdjustor` follow epochs, so they hold under
`update="adaptive"` too, where an optimizer's `iterations` count only its
own steps; `FlooredExponentialDecay` follows `iterations` (one per real
batch with the other update modes).
"""

import math

import keras
from keras import ops

from ganzoo._checks import (
    ArgumentError,
    _is_int,
    _is_real,
    check_positive,
    check_positive_ints,
    check_range,
)

__all__ = [
    "FlatThenLinear",
    "FlooredExponentialDecay",
    "MomentumAdjustor",
    "VariableMomentumSGD",
]


class FlatThenLinear(keras.callbacks.Callback):
    """The DeLiGAN authors' learning rate: flat for `flat_epochs` epochs,
    then down linearly, epoch by epoch, to `lr / (epochs - flat_epochs)` in
    the last epoch (0 just after it).

    At the start of epoch `e` (from 0) each optimizer's rate is
    `base * min(1, (epochs - e) / (epochs - flat_epochs))`: the authors'
    `5e-4 * min(4 - e/1000, 3) / 3` for 4,000 epochs with 1,000 flat
    (val-iisc/deligan `src/mnist/dg_mnist.py`). It counts epochs, as they
    do, so it does not depend on how many updates each optimizer made; a
    run resumed by `BackupAndRestore` sets the rate of the epoch it resumes.

    Args:
        d_lr, g_lr: the flat rates of `d_optimizer` and `g_optimizer`.
        epochs: the run's epochs (> flat_epochs).
        flat_epochs: epochs at the full rate (>= 0).

    Example:
    >>> schedule = FlatThenLinear(5e-4, 5e-4, epochs=4000, flat_epochs=1000)
    >>> [round(schedule.factor(e), 6) for e in (0, 1000, 2500, 3999)]
    [1.0, 1.0, 0.5, 0.000333]
    """

    def __init__(self, d_lr, g_lr, epochs, flat_epochs=0):
        super().__init__()
        check_positive_ints(epochs=epochs)
        check_positive(d_lr=d_lr, g_lr=g_lr)
        if not (_is_int(flat_epochs) and 0 <= flat_epochs < epochs):
            raise ArgumentError(
                f"flat_epochs must be an integer in [0, epochs={epochs}), got "
                f"{flat_epochs!r}."
            )
        self.d_lr, self.g_lr = float(d_lr), float(g_lr)
        self.epochs, self.flat_epochs = int(epochs), int(flat_epochs)

    def factor(self, epoch):
        """The multiplier of the base rates in `epoch` (from 0).

        Example:
        >>> FlatThenLinear(1.0, 1.0, epochs=10).factor(5)
        0.5
        """
        return min(
            1.0, (self.epochs - epoch) / (self.epochs - self.flat_epochs)
        )

    def on_epoch_begin(self, epoch, logs=None):
        factor = self.factor(epoch)
        self.model.d_optimizer.learning_rate = self.d_lr * factor
        self.model.g_optimizer.learning_rate = self.g_lr * factor


@keras.saving.register_keras_serializable(package="ganzoo")
class FlooredExponentialDecay(keras.optimizers.schedules.LearningRateSchedule):
    """The GAN authors' learning rate: divided by `decay_factor` after every
    minibatch, never below `min_lr`.

    pylearn2's `ExponentialDecay` (the `update_callbacks` of
    goodfeli/adversarial `mnist.yaml`: 1.000004 and 1e-6) runs after each
    SGD update, so update `t` (from 0) uses
    `max(initial_learning_rate / decay_factor**t, min_lr)`. There one SGD
    update moves D and G together; here each optimizer counts its own
    `iterations`, and `updates_per_batch` (D's `d_steps` under alternating
    updates) makes the rate change once per real batch. The rate follows
    `iterations` only, which `BackupAndRestore` restores, so a resumed run
    continues the schedule. Not for `update="adaptive"`, where G and D share
    a batch's updates unevenly.

    Args:
        initial_learning_rate: the rate of the first update (> 0).
        decay_factor: the divisor per batch (> 1).
        min_lr: the floor (>= 0, below `initial_learning_rate`).
        updates_per_batch: optimizer updates per real batch (>= 1).

    Example:
    >>> rate = FlooredExponentialDecay(0.1, decay_factor=1.000004, min_lr=1e-6)
    >>> [round(float(rate(t)), 8) for t in (0, 1, 3_000_000)]
    [0.1, 0.0999996, 1e-06]
    >>> round(float(rate(500 * 100)) / 0.1, 4)  # after 100 epochs of 500
    0.8187
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_factor,
        min_lr,
        updates_per_batch=1,
        name="FlooredExponentialDecay",
    ):
        super().__init__()
        check_positive(initial_learning_rate=initial_learning_rate)
        if not (_is_real(decay_factor) and decay_factor > 1):
            raise ArgumentError(
                f"decay_factor must be a number > 1, got {decay_factor!r}."
            )
        check_range("min_lr", min_lr, 0, initial_learning_rate)
        check_positive_ints(updates_per_batch=updates_per_batch)
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_factor = float(decay_factor)
        self.min_lr = float(min_lr)
        self.updates_per_batch = int(updates_per_batch)
        self.name = name

    def __call__(self, step):
        batches = ops.cast(
            ops.floor_divide(step, self.updates_per_batch), "float32"
        )
        # exp(-t log f) with the log taken in float64 here: in float32,
        # 1.000004 rounds to 1.00000405, a decay 1.3% too fast.
        rate = self.initial_learning_rate * ops.exp(
            -batches * math.log(self.decay_factor)
        )
        return ops.maximum(rate, self.min_lr)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_factor": self.decay_factor,
            "min_lr": self.min_lr,
            "updates_per_batch": self.updates_per_batch,
            "name": self.name,
        }


@keras.saving.register_keras_serializable(package="ganzoo")
class VariableMomentumSGD(keras.optimizers.SGD):
    """`keras.optimizers.SGD` whose momentum can change during `fit`.

    Keras' SGD reads `momentum` as a Python float, which the traced (and
    XLA-compiled) train step keeps as a constant: setting
    `optimizer.momentum` after the first step changes nothing. Here the
    momentum in use is `momentum_variable`, a scalar variable of the
    optimizer (saved with it, restored by `BackupAndRestore`); `momentum`
    stays the initial value of the config. The velocities exist even at
    momentum 0, since it may rise later. The update rule is SGD's:
    `v = momentum * v - lr * g; w = w + v`.

    Args: those of `keras.optimizers.SGD`.

    Example:
    >>> import numpy as np
    >>> w = keras.Variable(np.zeros(1, "float32"))
    >>> opt = VariableMomentumSGD(1.0, momentum=0.5)
    >>> opt.build([w])
    >>> _ = opt.momentum_variable.assign(0.0)  # no velocity carried
    >>> _ = opt.apply([np.ones(1, "float32")], [w])
    >>> float(w[0])
    -1.0
    """

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        if not self.momentums:
            self.momentums = self.add_optimizer_variables(variables, "momentum")
        self.momentum_variable = self.add_variable(
            (),
            initializer=keras.initializers.Constant(self.momentum),
            dtype="float32",
            name="momentum_value",
        )

    def update_step(self, gradient, variable, learning_rate):
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        momentum = ops.cast(self.momentum_variable, variable.dtype)
        m = self.momentums[self._get_variable_index(variable)]
        step = ops.subtract(
            ops.multiply(m, momentum), ops.multiply(gradient, learning_rate)
        )
        self.assign(m, step)
        if self.nesterov:
            self.assign_add(
                variable,
                ops.subtract(
                    ops.multiply(m, momentum),
                    ops.multiply(gradient, learning_rate),
                ),
            )
        else:
            self.assign_add(variable, m)


class MomentumAdjustor(keras.callbacks.Callback):
    """The GAN authors' momentum: linear from `initial` to `final` between
    two epochs (pylearn2's `MomentumAdjustor`).

    pylearn2 counts epochs from 1 at the first epoch of training (its
    extensions' `on_monitor` runs once before training and after each
    epoch), so epoch `e` of `fit` (from 0) uses
    `initial + (final - initial) * clip((e + 1 - start) / (saturate -
    start), 0, 1)`: with `mnist.yaml`'s start 1 and saturate 250, 0.5 in
    epoch 0, 0.7 from epoch 249 on. At the start of each epoch it sets both
    optimizers' `momentum_variable` (`VariableMomentumSGD`; Keras' SGD would
    ignore the change). It counts epochs only, so a run resumed by
    `BackupAndRestore` sets the momentum of the epoch it resumes.

    Args:
        initial, final: the momenta before `start` and from `saturate`,
            in [0, 1).
        start, saturate: pylearn2's epochs (counted from 1),
            `1 <= start <= saturate`.

    Example:
    >>> ramp = MomentumAdjustor(0.5, 0.7, start=1, saturate=250)
    >>> [round(ramp.momentum(e), 4) for e in (0, 1, 125, 249, 300)]
    [0.5, 0.5008, 0.6004, 0.7, 0.7]
    """

    def __init__(self, initial, final, start, saturate):
        super().__init__()
        check_range("initial momentum", initial, 0, 1)
        check_range("final_momentum", final, 0, 1)
        check_positive_ints(start=start, saturate=saturate)
        if saturate < start:
            raise ArgumentError(
                f"saturate must be >= start={start}, got {saturate!r}."
            )
        self.initial, self.final = float(initial), float(final)
        self.start, self.saturate = int(start), int(saturate)

    def momentum(self, epoch):
        """The momentum of `epoch` (of `fit`, from 0).

        Example:
        >>> MomentumAdjustor(0.5, 0.7, start=1, saturate=1).momentum(0)
        0.7
        """
        count = epoch + 1  # pylearn2's epoch number
        if self.saturate == self.start:
            alpha = 1.0 if count >= self.start else 0.0
        else:
            alpha = (count - self.start) / (self.saturate - self.start)
            alpha = min(1.0, max(0.0, alpha))
        return self.initial * (1 - alpha) + alpha * self.final

    def _optimizers(self):
        # Under mixed_float16 the SGD is inside a LossScaleOptimizer.
        return [
            getattr(opt, "inner_optimizer", opt)
            for opt in (self.model.d_optimizer, self.model.g_optimizer)
        ]

    def on_train_begin(self, logs=None):
        for inner in self._optimizers():
            if not isinstance(inner, VariableMomentumSGD):
                raise ArgumentError(
                    "MomentumAdjustor needs VariableMomentumSGD optimizers "
                    f"(Keras' SGD ignores a momentum changed during fit), "
                    f"got {type(inner).__name__}."
                )

    def on_epoch_begin(self, epoch, logs=None):
        value = self.momentum(epoch)
        for inner in self._optimizers():
            inner.momentum_variable.assign(value)
