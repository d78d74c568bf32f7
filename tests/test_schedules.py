"""The papers' schedules of learning rate (and momentum) by epoch."""

import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from ganzoo import callbacks as callbacks_lib
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


def _pylearn2_rates(base, decay_factor, min_lr, updates):
    """pylearn2's `ExponentialDecay.__call__` after each SGD update (in
    float64): the rates updates 0..updates-1 used."""
    rates, lr, floored = [], base, False
    for count in range(1, updates + 1):  # `_count` after each update
        rates.append(lr)
        if not floored:
            lr = base / decay_factor**count
            if lr <= min_lr:
                floored, lr = True, min_lr
        else:
            lr = min_lr
    return rates


def test_floored_exponential_decay_is_pylearn2s_per_update_rate():
    rate = schedules.FlooredExponentialDecay(0.1, 1.000004, 1e-6)
    expected = _pylearn2_rates(0.1, 1.000004, 1e-6, 3)
    for step in range(3):
        assert float(rate(step)) == pytest.approx(expected[step], rel=1e-6)
    # By hand: 0.1 / 1.000004**t; the floor 1e-6 from
    # t = ceil(ln(1e5) / ln(1.000004)) = 2,878,236 on.
    for step, value in [
        (500, 0.1 / 1.000004**500),
        (250 * 500, 0.1 * 0.60653),  # exp(-0.5): 250 epochs of 500
        (2_878_235, 1.0000013e-6),
        (2_878_236, 1e-6),
        (10**7, 1e-6),
    ]:
        assert float(rate(step)) == pytest.approx(value, rel=2e-5)


def test_floored_exponential_decay_steps_once_per_batch():
    """With d_steps=3 updates per batch, D's rate changes every 3 updates."""
    rate = schedules.FlooredExponentialDecay(1.0, 2.0, 0.1, updates_per_batch=3)
    values = [float(rate(step)) for step in range(13)]
    expected = [1.0] * 3 + [0.5] * 3 + [0.25] * 3 + [0.125] * 3 + [0.1]
    np.testing.assert_allclose(values, expected, rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(decay_factor=1.0), "decay_factor must be a number > 1"),
        (dict(min_lr=0.2), r"min_lr must be in \[0, 0.1\)"),
        (dict(updates_per_batch=0), "updates_per_batch must be a positive"),
    ],
)
def test_floored_exponential_decay_bad_arguments(kwargs, message):
    args = dict(decay_factor=1.000004, min_lr=1e-6) | kwargs
    with pytest.raises(ValueError, match=message):
        schedules.FlooredExponentialDecay(0.1, **args)


def _pylearn2_momenta(init, final, start, saturate, epochs):
    """pylearn2's `MomentumAdjustor` as `Train.main_loop` drives it: `setup`
    (count = epochs seen = 0), `on_monitor` once before training and after
    each epoch; the momenta epochs 0..epochs-1 trained with."""
    momenta = []
    # `_count` in epoch e: e + 1 (on_monitor ran once before training).
    for count in range(1, epochs + 1):
        alpha = min(1.0, max(0.0, (count - start) / (saturate - start)))
        momenta.append(init * (1 - alpha) + alpha * final)
    return momenta


def test_momentum_adjustor_is_pylearn2s_ramp():
    ramp = schedules.MomentumAdjustor(0.5, 0.7, start=1, saturate=250)
    by_hand = {0: 0.5, 1: 0.5 + 0.2 / 249, 125: 0.5 + 0.2 * 125 / 249}
    by_hand.update({248: 0.7 - 0.2 / 249, 249: 0.7, 250: 0.7, 300: 0.7})
    for epoch, value in by_hand.items():
        assert ramp.momentum(epoch) == pytest.approx(value, abs=1e-12)
    pylearn2 = _pylearn2_momenta(0.5, 0.7, 1, 250, 301)
    np.testing.assert_allclose(
        [ramp.momentum(e) for e in range(301)], pylearn2, atol=1e-12
    )


def test_momentum_adjustor_bad_arguments():
    with pytest.raises(ValueError, match="saturate must be >= start=5"):
        schedules.MomentumAdjustor(0.5, 0.7, start=5, saturate=4)
    with pytest.raises(ValueError, match=r"final_momentum must be in \[0, 1"):
        schedules.MomentumAdjustor(0.5, 1.0, start=1, saturate=4)


def _traced_momentum_steps(optimizer, set_momentum):
    """w after one step at momentum 0.5 and one at momentum 0, both through
    one traced function, with gradient 1 and rate 1."""
    w = keras.Variable(np.zeros(1, "float32"))
    optimizer.build([w])

    @tf.function
    def step():
        optimizer.apply([tf.ones(1)], [w])

    step()  # v = -1, w = -1
    set_momentum(optimizer, 0.0)
    step()  # momentum 0: v = -1, w = -2; still 0.5: v = -1.5, w = -2.5
    return float(w.numpy()[0])


def test_keras_sgd_keeps_its_traced_momentum():
    """Why `VariableMomentumSGD`: Keras' SGD bakes `momentum` into the
    traced step (if this starts failing, Keras reads it at run time now)."""
    opt = keras.optimizers.SGD(1.0, momentum=0.5)
    w = _traced_momentum_steps(opt, lambda o, m: setattr(o, "momentum", m))
    assert w == -2.5


def test_variable_momentum_sgd_uses_the_new_momentum_after_tracing():
    opt = schedules.VariableMomentumSGD(1.0, momentum=0.5)
    w = _traced_momentum_steps(opt, lambda o, m: o.momentum_variable.assign(m))
    assert w == -2.0


class _SetMomentum(keras.callbacks.Callback):
    """The reference: Keras' SGD reads `momentum` at each step when run
    eagerly, or (`retrace`) when the train step is traced again."""

    def __init__(self, ramp, retrace=False):
        super().__init__()
        self.ramp, self.retrace = ramp, retrace

    def on_epoch_begin(self, epoch, logs=None):
        for opt in (self.model.d_optimizer, self.model.g_optimizer):
            opt.momentum = self.ramp.momentum(epoch)
        if self.retrace:
            # `fit` looks up `train_function` at every step.
            self.model.make_train_function(force=True)


def _sgd_fit(optimizer, callback, **compile_kwargs):
    """A tiny GAN trained 3 epochs of 2 batches with the momentum ramp 0.5,
    0.7, 0.9 and a rate divided by 1.5 per batch; its final weights."""
    model = helpers.tiny_toy_model("gan", update="simultaneous")
    ramp = schedules.MomentumAdjustor(0.5, 0.9, start=1, saturate=3)
    model.compile(
        **{
            name: optimizer(
                schedules.FlooredExponentialDecay(0.05, 1.5, 1e-3),
                momentum=0.5,
            )
            for name in ("d_optimizer", "g_optimizer")
        },
        **compile_kwargs,
    )
    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    model.fit(
        x,
        batch_size=32,
        epochs=3,
        verbose=0,
        shuffle=False,
        callbacks=[callback(ramp)],
    )
    return model.get_weights()


def test_momentum_ramp_takes_effect_inside_traced_fit():
    """`fit` (traced, and with XLA) with `MomentumAdjustor` and
    `VariableMomentumSGD` ends where Keras' SGD ends when its momentum is
    read at every step; traced once, Keras' SGD misses the ramp."""
    eager = _sgd_fit(keras.optimizers.SGD, _SetMomentum, run_eagerly=True)
    traced = _sgd_fit(schedules.VariableMomentumSGD, lambda ramp: ramp)
    assert helpers.max_abs_diff(eager, traced) < 1e-6
    baked = _sgd_fit(keras.optimizers.SGD, _SetMomentum)
    assert helpers.max_abs_diff(eager, baked) > 1e-4
    # XLA draws the noise unlike eager: its reference traces again each
    # epoch, so each epoch's XLA step has that epoch's momentum built in.
    retraced = _sgd_fit(
        keras.optimizers.SGD,
        lambda ramp: _SetMomentum(ramp, retrace=True),
        jit_compile=True,
    )
    xla = _sgd_fit(
        schedules.VariableMomentumSGD, lambda ramp: ramp, jit_compile=True
    )
    assert helpers.max_abs_diff(retraced, xla) < 1e-6


def test_momentum_adjustor_needs_variable_momentum_sgd():
    model = helpers.tiny_toy_model("gan")
    model.compile(
        d_optimizer=keras.optimizers.SGD(0.1, momentum=0.5),
        g_optimizer=keras.optimizers.SGD(0.1, momentum=0.5),
    )
    ramp = schedules.MomentumAdjustor(0.5, 0.7, start=1, saturate=3)
    x = np.zeros((32, 2), "float32")
    with pytest.raises(ValueError, match="needs VariableMomentumSGD"):
        model.fit(x, batch_size=32, epochs=1, verbose=0, callbacks=[ramp])


def test_sgd_recipe_round_trips_through_keras_file(tmp_path):
    """The optimizers, their rate schedule and the current momentum come
    back from a `.keras` file."""
    model = helpers.tiny_toy_model("gan", update="simultaneous")
    rate = schedules.FlooredExponentialDecay(0.1, 1.000004, 1e-6)
    model.compile(
        d_optimizer=schedules.VariableMomentumSGD(rate, momentum=0.5),
        g_optimizer=schedules.VariableMomentumSGD(0.1, momentum=0.5),
    )
    assert (
        schedules.FlooredExponentialDecay.from_config(
            rate.get_config()
        ).get_config()
        == rate.get_config()
    )
    ramp = schedules.MomentumAdjustor(0.5, 0.7, start=1, saturate=2)
    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    model.fit(x, batch_size=32, epochs=2, verbose=0, callbacks=[ramp])
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    d_opt = loaded.d_optimizer
    assert type(d_opt) is schedules.VariableMomentumSGD
    assert type(d_opt.learning_rate) is not float  # still a schedule
    assert d_opt.get_config()["learning_rate"]["config"] == rate.get_config()
    assert float(d_opt.momentum_variable.numpy()) == pytest.approx(0.7)
    assert int(d_opt.iterations.numpy()) == 4
    for a, b in zip(helpers.all_weights(model), helpers.all_weights(loaded)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_sgd_model_loads_after_importing_ganzoo_models_only(tmp_path):
    """A fresh interpreter loads an SGD-trained model's `.keras` after
    `import ganzoo.models` alone (`VariableMomentumSGD` lives in
    `schedules`, which `ganzoo`'s lazy imports would not load)."""
    model = helpers.tiny_toy_model("gan", update="simultaneous")
    model.compile(
        d_optimizer=schedules.VariableMomentumSGD(0.1, momentum=0.5),
        g_optimizer=schedules.VariableMomentumSGD(0.1, momentum=0.5),
    )
    x = np.random.default_rng(0).normal(size=(32, 2)).astype("float32")
    model.fit(x, batch_size=32, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    code = (
        "import sys, keras, ganzoo.models\n"
        "m = keras.saving.load_model(sys.argv[1])\n"
        "print(type(m).__name__, type(m.g_optimizer).__name__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "m.keras")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-2:] == ["GAN", "VariableMomentumSGD"]


class _StopAt(keras.callbacks.Callback):
    """Raises at the start of `epoch` (None: never); records the epochs
    begun."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch, self.begun = epoch, []

    def on_epoch_begin(self, epoch, logs=None):
        self.begun.append(epoch)
        if epoch == self.epoch:
            raise RuntimeError("interrupted")


def test_sgd_recipe_resumes_exactly_with_backup_and_restore(tmp_path):
    """Interrupted after 2 of 4 epochs and resumed: the same weights as one
    run (the rate follows `iterations`, the momentum the epoch)."""

    def run(callbacks):
        model = helpers.tiny_toy_model("gan", update="simultaneous")
        model.compile(
            **{
                name: schedules.VariableMomentumSGD(
                    schedules.FlooredExponentialDecay(0.05, 1.2, 1e-3),
                    momentum=0.5,
                )
                for name in ("d_optimizer", "g_optimizer")
            }
        )
        x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
        ramp = schedules.MomentumAdjustor(0.5, 0.9, start=1, saturate=4)
        model.fit(
            x,
            batch_size=32,
            epochs=4,
            verbose=0,
            shuffle=False,
            callbacks=[ramp, *callbacks],
        )
        return helpers.all_weights(model)

    whole = run([])
    backup = callbacks_lib.BackupAndRestore(tmp_path / "backup")
    with pytest.raises(RuntimeError, match="interrupted"):
        run([backup, _StopAt(2)])
    epochs = _StopAt(None)
    resumed = run([callbacks_lib.BackupAndRestore(tmp_path / "backup"), epochs])
    assert epochs.begun == [2, 3]  # resumed, not started again
    assert helpers.max_abs_diff(whole, resumed) < 1e-6


def test_sgd_recipe_under_mirrored_matches_one_device(mirrored):
    """The momentum variable, set from the callback, reaches both replicas;
    the rate schedule follows the shared `iterations`."""

    def run(strategy):
        with strategy.scope():
            model = helpers.tiny_toy_model("gan", update="simultaneous")
            model.compile(
                **{
                    name: schedules.VariableMomentumSGD(
                        schedules.FlooredExponentialDecay(0.05, 1.2, 1e-3),
                        momentum=0.5,
                    )
                    for name in ("d_optimizer", "g_optimizer")
                },
                jit_compile=False,
            )
        x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
        model.fit(
            tf.data.Dataset.from_tensor_slices(x).batch(16),
            epochs=3,
            verbose=0,
            callbacks=[schedules.MomentumAdjustor(0.5, 0.9, 1, 3)],
        )
        return helpers.all_weights(model)

    single = run(tf.distribute.get_strategy())
    assert helpers.max_abs_diff(single, run(mirrored)) < 1e-5


def test_schedules_take_numpy_numbers():
    """Numbers from numpy (a sweep's `np.arange`, a JSON loaded by numpy)
    are numbers: the checks take them as they take Python's."""
    flat = schedules.FlatThenLinear(1e-3, 1e-3, np.int64(40), np.int32(10))
    assert flat.factor(39) == schedules.FlatThenLinear(
        1e-3, 1e-3, 40, 10
    ).factor(39)
    decay = schedules.FlooredExponentialDecay(
        np.float32(0.1), np.float64(1.000004), np.float64(1e-6)
    )
    assert decay.decay_factor == 1.000004
    ramp = schedules.MomentumAdjustor(0.5, 0.7, np.int64(1), np.int64(250))
    assert ramp.momentum(250) == 0.7
    with pytest.raises(ValueError, match="flat_epochs must be an integer"):
        schedules.FlatThenLinear(1e-3, 1e-3, 40, np.float64(10.0))
    with pytest.raises(ValueError, match="decay_factor must be a number"):
        schedules.FlooredExponentialDecay(0.1, np.bool_(True), 1e-6)
