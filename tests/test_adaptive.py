"""`AdaptiveSwitch`: its rules against transcriptions of the authors' loops,
the model's step against the Python rule, configs old and new."""

import json
import math
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf

from ganzoo._checks import ArgumentError
from ganzoo.models import GAN, AdaptiveSwitch
from ganzoo.models.adaptive_step import _FallingLow, _with_falling_low
from tests import helpers

G, D = True, False


# ------------------------------------------- the authors' loops, transcribed
def dg_toy_loop(epochs, thres=1.0):
    """val-iisc/deligan src/Toy/dg_toy.py lines 107-137, with the G/D
    choice `gloss.eval({z: batch_z}) > thres` replaced by the given
    decisions (epochs of batches of updates): `(thres, count, t1)` before
    each batch's updates."""
    count = 0
    t1 = 0.73
    seen = []
    for epoch in epochs:
        if count < -1000:
            t1 = max(t1 - 0.005, 0.70)
        for batch in epoch:
            if count > 10:
                thres = min(thres + 0.01, 1.0)
                count = 0
            if count < -150 and thres > t1:
                thres = max(thres - 0.001, t1)
                count = 0
            seen.append((thres, count, t1))
            for g_step in batch:
                if g_step:
                    count += 1
                else:
                    count -= 1
    return seen


def dg_mnist_loop(epochs):
    """val-iisc/deligan src/mnist/dg_mnist.py lines 165-198, decisions
    given: `(thres, count1, -count2)` before each batch's updates."""
    thres = 1.0
    count1 = 0
    count2 = 0
    t1 = 0.70
    seen = []
    for epoch in epochs:
        for batch in epoch:
            if count1 > 3:
                thres = min(thres + 0.003, 1.0)
                count1 = 0
            if count2 < -1:
                thres = max(thres - 0.003, t1)
                count2 = 0
            seen.append((thres, count1, -count2))
            for g_step in batch:
                if g_step:
                    count1 += 1
                    count2 = 0
                else:
                    count2 -= 1
                    count1 = 0
    return seen


def replay(rule, epochs):
    """The same loop with `rule`'s Python methods: its state (as a tuple)
    before each batch's updates."""
    state = rule.initial_state()
    seen = []
    for epoch in epochs:
        state = rule.next_low(state)
        for batch in epoch:
            state = rule.next_threshold(state)
            seen.append(tuple(state.values()))
            for g_step in batch:
                state = rule.counted(state, g_step)
    return seen


def test_dg_toy_rule_is_the_authors_loop():
    """D only, from just above the floor: the threshold falls to it in
    steps of 0.001, stays there while the count runs below -1000, then the
    floor falls and the threshold follows; then G-heavy batches raise it by
    0.01. Exactly equal: both in Python floats (float64)."""
    batches = 8  # dg_toy.py: 400 points, batch 50
    epochs = [[[D] * 5] * batches] * 52
    epochs += [[[G, G, G, D, G]] * batches] * 6
    epochs += [[[G] * 5, [D] * 5, [G, D, G, D, D], [D] * 5] * 2] * 3
    authors = dg_toy_loop(epochs, thres=0.735)
    assert replay(AdaptiveSwitch.dg_toy(start=0.735), epochs) == authors

    # The sequence reaches every branch of the authors' rule.
    thres, count, t1 = (np.array(c) for c in zip(*authors))
    assert np.any(np.diff(thres) > 0.009)  # up by 0.01
    assert np.any(np.diff(thres) < 0)  # down by 0.001
    assert np.any((thres == t1) & (count < -150))  # at the floor, waiting
    assert t1.min() == pytest.approx(0.725)  # the floor fell once
    assert np.any(thres < 0.73)  # and the threshold followed


def test_dg_mnist_rule_is_the_authors_loop():
    rng = np.random.default_rng(0)
    epochs = (rng.random((40, 10, 5)) < 0.45).tolist()
    authors = dg_mnist_loop(epochs)
    rule = AdaptiveSwitch.dg_mnist(dtype="float64")
    assert replay(rule, epochs) == authors
    thres = np.array([s[0] for s in authors])
    assert np.any(np.diff(thres) > 0) and np.any(np.diff(thres) < 0)
    assert thres.min() == 0.7


# ------------------------------------------------- the model's step, compiled
LOG2 = math.log(2.0)
# G's loss is log 2 at every update (D's output is 0): G steps while the
# threshold is below it, D steps above. Each rule below falls to its floor
# (above log 2), lowers the floor below log 2 at epoch starts, then rises.
FIT_RULES = {
    "dg_toy": AdaptiveSwitch.dg_toy(
        start=0.875,
        low=0.75,
        up_step=0.125,
        down_step=0.0625,
        up_count=3,
        down_count=4,
        low_final=0.5,
        low_step=0.03125,
        low_count=8,
    ),
    "runs-float32": AdaptiveSwitch(
        start=0.875,
        low=0.75,
        up_step=0.125,
        down_step=0.0625,
        up_count=3,
        down_count=4,
        low_final=0.5,
        low_step=0.03125,
        low_count=5,
    ),
}


class _Record(keras.callbacks.Callback):
    """`(G steps so far, switch state)` after every batch."""

    def __init__(self):
        super().__init__()
        self.rows = []

    def on_train_batch_end(self, batch, logs=None):
        state = self.model._switch_state()
        self.rows.append(
            (
                int(self.model.g_optimizer.iterations.numpy()),
                {k: v.numpy().item() for k, v in state.items()},
            )
        )


def _log2_model(rule, jit_compile=False):
    """A GAN whose G loss is log 2 whatever the noise: D's last layer is 0
    and nothing learns (learning rate 0)."""
    model = helpers.tiny_toy_model("gan", update="adaptive", switch=rule)
    last = model.discriminator.layers[-1]
    last.set_weights([np.zeros_like(w) for w in last.get_weights()])
    model.compile(
        d_optimizer=keras.optimizers.SGD(0.0),
        g_optimizer=keras.optimizers.SGD(0.0),
        jit_compile=jit_compile,
    )
    return model


def _fit_rows(model, epochs=6, batches=4):
    record = _Record()
    x = np.random.default_rng(0).normal(size=(32 * batches, 2))
    data = tf.data.Dataset.from_tensor_slices(x.astype("float32")).batch(32)
    history = model.fit(data, epochs=epochs, callbacks=[record], verbose=0)
    return record.rows, history.history


@pytest.mark.parametrize(
    "name, jit_compile",
    [("dg_toy", False), ("dg_toy", True), ("runs-float32", False)],
)
def test_compiled_fit_follows_the_python_rule(name, jit_compile):
    """The model's state after every batch of a compiled `fit` equals the
    Python rule fed the same G/D steps (the floor falling at epoch starts,
    by the callback `fit` adds itself)."""
    rule = FIT_RULES[name]
    epochs, batches = 6, 4
    rows, history = _fit_rows(_log2_model(rule, jit_compile), epochs, batches)
    assert len(rows) == epochs * batches
    state, g_before, seen = rule.initial_state(), 0, []
    for epoch in range(epochs):
        state = rule.next_low(state)
        for b in range(batches):
            state = rule.next_threshold(state)
            g_total, got = rows[epoch * batches + b]
            g_steps, g_before = g_total - g_before, g_total
            assert g_steps == (5 if LOG2 > state["threshold"] else 0)
            for _ in range(5):
                state = rule.counted(state, g_steps == 5)
            assert got == state, (epoch, b)
            seen.append(state)
    lows = [s["low"] for s in seen]
    assert min(lows) < LOG2 < max(lows)  # the floor fell below log 2
    assert 0 < rows[-1][0] < 5 * epochs * batches  # G and D steps
    # Logged: the floor, the same through each epoch.
    assert history["low"] == pytest.approx(lows[::batches])


def test_a_fixed_floor_has_no_variable_and_no_log():
    model = _log2_model(AdaptiveSwitch(start=0.875, low=0.75))
    _, history = _fit_rows(model, epochs=1)
    assert "low" not in history and "threshold" in history
    names = [w.path.split("/")[-1] for w in model.weights]
    assert [n for n in names if n.startswith("switch_")] == [
        "switch_threshold",
        "switch_g_run",
        "switch_d_run",
    ]


def test_fit_adds_the_floor_callback_once():
    model = _log2_model(FIT_RULES["dg_toy"])
    first = _with_falling_low(None, model)
    assert [type(c) for c in first] == [_FallingLow]
    assert _with_falling_low(first, model) == first
    listed = keras.callbacks.CallbackList([], model=model)
    for _ in range(2):
        assert _with_falling_low(listed, model) is listed
    assert [type(c) for c in listed.callbacks] == [_FallingLow]


def test_fit_takes_callbacks_by_position_with_a_falling_floor():
    """`fit(x, y, batch_size, epochs, verbose, callbacks)`: the caller's
    callback runs and the floor still falls (the one `fit` override binds
    the arguments by name)."""
    model = _log2_model(FIT_RULES["dg_toy"])
    record = _Record()
    x = np.random.default_rng(0).normal(size=(128, 2)).astype("float32")
    model.fit(x, None, 32, 6, 0, [record])
    assert len(record.rows) == 6 * 4
    assert record.rows[-1][1]["low"] < FIT_RULES["dg_toy"].low


def test_mirrored_fit_follows_one_device(mirrored):
    """2 replicas: the same state after every batch as one device, the
    floor's fall (cross-replica, at epoch starts) on both copies."""
    rule = FIT_RULES["dg_toy"]
    single, _ = _fit_rows(_log2_model(rule))
    with mirrored.scope():
        model = _log2_model(rule)
    multi, _ = _fit_rows(model)
    assert multi == single
    assert multi[-1][1]["low"] < rule.low  # the floor fell
    for variable in model._switch_state().values():
        copies = mirrored.experimental_local_results(variable.value)
        assert len(copies) == 2 and copies[0].numpy() == copies[1].numpy()


# ----------------------------------------------------------------- configs
def test_config_round_trip_and_keras_file(tmp_path):
    rule = FIT_RULES["dg_toy"]
    assert AdaptiveSwitch.get(json.loads(json.dumps(rule.get_config()))) == rule
    model = _log2_model(rule)
    _fit_rows(model, epochs=2)
    clone = GAN.from_config(model.get_config())
    assert clone.switch == rule
    assert list(clone._switch_state()) == ["threshold", "count", "low"]
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    assert restored.switch == rule
    for name, variable in model._switch_state().items():
        assert variable.dtype == restored._switch_state()[name].dtype
        assert variable.numpy() == restored._switch_state()[name].numpy()
    assert restored.switch_threshold.dtype == "float64"


LEGACY = {
    "updates_per_batch": 3,
    "start": 0.72,
    "low": 0.6,
    "high": 0.8,
    "step": 0.02,
    "g_run": 2,
    "d_run": 5,
}


def test_named_rules_take_the_earlier_names():
    rule = AdaptiveSwitch.dg_toy(step=0.002)
    assert (rule.up_step, rule.down_step, rule.up_count) == (0.002, 0.002, 11)
    assert AdaptiveSwitch.dg_mnist(g_run=3).up_count == 3


def test_old_configs_load(tmp_path):
    """Configs saved before `up_step`/`down_step`/`up_count`/`down_count`:
    by `get`, `from_config` and a `.keras` file."""
    expected = AdaptiveSwitch(
        updates_per_batch=3,
        start=0.72,
        low=0.6,
        high=0.8,
        up_step=0.02,
        down_step=0.02,
        up_count=2,
        down_count=5,
    )
    assert AdaptiveSwitch.get(LEGACY) == expected
    model = _log2_model(expected)
    # A fresh config each time: deserializing the networks consumes it.
    for switch, rule in ((LEGACY, expected), (None, AdaptiveSwitch())):
        config = {**model.get_config(), "switch": switch}
        assert GAN.from_config(config).switch == rule
    # A .keras file written before: its config.json holds the old names.
    path = tmp_path / "m.keras"
    model.save(path)
    old = tmp_path / "old.keras"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(old, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "config.json":
                saved = json.loads(data)
                saved["config"]["switch"] = LEGACY
                data = json.dumps(saved)
            dst.writestr(item, data)
    restored = keras.saving.load_model(old)
    assert restored.switch == expected
    assert list(restored._switch_state()) == ["threshold", "g_run", "d_run"]


@pytest.mark.parametrize(
    "make, word",
    [
        (lambda: AdaptiveSwitch(counter="both"), "counter='both' is not"),
        (lambda: AdaptiveSwitch(dtype="float16"), "dtype='float16' is not"),
        (lambda: AdaptiveSwitch(up_step=-0.1), "up_step must be >= 0"),
        (lambda: AdaptiveSwitch(down_count=0), "down_count must be a posit"),
        (lambda: AdaptiveSwitch(move_at_low="no"), "move_at_low must be"),
        (lambda: AdaptiveSwitch(low_final=0.6), "go together"),
        (lambda: AdaptiveSwitch.dg_toy(low_final=0.8), "low_final must be"),
        (lambda: AdaptiveSwitch.dg_toy(low_step=0), "low_step must be"),
        (lambda: AdaptiveSwitch.dg_toy(low_count=1.5), "low_count must be"),
        (lambda: AdaptiveSwitch.dg_toy(start=0.5), "start must be in"),
        (lambda: AdaptiveSwitch.dg_toy(steps=1), "Unknown AdaptiveSwitch"),
        (lambda: AdaptiveSwitch.get({"step": 1, "up_step": 1}), "earlier"),
        (lambda: AdaptiveSwitch.get("dg_toy"), "switch must be"),
        (
            lambda: AdaptiveSwitch().next_threshold({"threshold": 1.0}),
            "state must be a dict of threshold, g_run, d_run",
        ),
    ],
)
def test_bad_arguments_give_one_line_errors(make, word):
    with pytest.raises(ArgumentError, match=word) as error:
        make()
    assert "\n" not in str(error.value)
