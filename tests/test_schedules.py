"""The papers' schedules of learning rate (and momentum) by epoch."""

import keras
import numpy as np
import pytest

from ganzoo import schedules
from tests import helpers


class _RecordRates(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.rates = []

    def on_epoch_end(self, epoch, logs=None):
        self.rates.append(
            [
                float(keras.ops.convert_to_numpy(o.learning_rate))
                for o in (self.model.d_optimizer, self.model.g_optimizer)
            ]
        )


def test_flat_then_linear_sets_both_rates_by_epoch_under_adaptive():
    """Epoch e gets base * min(1, (E - e) / (E - F)) whatever the number of
    G or D updates in it."""
    model = helpers.compile_adam(
        helpers.tiny_toy_model("gan", update="adaptive")
    )
    record = _RecordRates()
    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    model.fit(
        x,
        batch_size=32,
        epochs=5,
        verbose=0,
        callbacks=[
            schedules.FlatThenLinear(0.1, 0.2, epochs=5, flat_epochs=2),
            record,
        ],
    )
    factors = [1, 1, 1, 2 / 3, 1 / 3]
    np.testing.assert_allclose(
        record.rates, [[0.1 * f, 0.2 * f] for f in factors], rtol=1e-6
    )


def test_flat_then_linear_is_the_deligan_authors_rate():
    schedule = schedules.FlatThenLinear(5e-4, 5e-4, 4000, 1000)
    for epoch in (0, 999, 1000, 1001, 2345, 3999):
        authors = 5e-4 * min(4 - epoch / 1000.0, 3.0) / 3
        assert schedule.d_lr * schedule.factor(epoch) == pytest.approx(authors)


@pytest.mark.parametrize("flat", [-1, 4, 1.5])
def test_flat_then_linear_bad_flat_epochs(flat):
    with pytest.raises(ValueError, match=r"flat_epochs must be .* \[0, "):
        schedules.FlatThenLinear(1.0, 1.0, epochs=4, flat_epochs=flat)
