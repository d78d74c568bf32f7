"""Learning-rate and momentum schedules of the papers' recipes, for both of a
GAN's optimizers.

They follow real batches and epochs, not optimizer updates: under
`update="adaptive"` an optimizer's `iterations` count only its own steps.
"""

import keras

from ganzoo._checks import ArgumentError, check_positive_ints

__all__ = [
    "FlatThenLinear",
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
        if not (isinstance(flat_epochs, int) and 0 <= flat_epochs < epochs):
            raise ArgumentError(
                f"flat_epochs must be an integer in [0, epochs={epochs}), got "
                f"{flat_epochs!r}."
            )
        self.d_lr, self.g_lr = float(d_lr), float(g_lr)
        self.epochs, self.flat_epochs = epochs, flat_epochs

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
