"""The DeLiGAN authors' adaptive choice between G and D updates: the rule,
`AdaptiveSwitch` (the training step `GAN` takes with it is in
`ganzoo.models.adaptive_step`)."""

import dataclasses

import tensorflow as tf

from ganzoo._checks import (
    ArgumentError,
    _is_real,
    check_choice,
    check_positive,
    check_positive_ints,
    check_range,
)

__all__ = [
    "COUNTERS",
    "AdaptiveSwitch",
]

# How the rule counts updates: "runs", the current run of consecutive G
# steps and of consecutive D steps (dg_mnist.py's count1 and count2);
# "net", one count, +1 per G step and -1 per D step (dg_toy.py's count).
COUNTERS = ("runs", "net")
# Config keys of earlier versions, and the fields that replaced them.
_RENAMED = {
    "step": ("up_step", "down_step"),
    "g_run": ("up_count",),
    "d_run": ("down_count",),
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class AdaptiveSwitch:
    """The rule of `update="adaptive"`: which network each update trains.

    From the DeLiGAN authors' code (val-iisc/deligan): every real batch
    gets exactly `updates_per_batch` updates. Before each, G's adversarial
    loss is measured on fresh noise with batch norm in inference mode;
    above the threshold the update is a G step, else a D step on the same
    real batch. The updates are counted by `counter`: `"runs"`, the run of
    consecutive G steps and the run of consecutive D steps (each step ends
    the other run); `"net"`, one count, +1 per G step and -1 per D step.
    G's count is the G run or the net count; D's, the D run or minus the
    net count.

    Once per batch, before its updates, the threshold moves: up by
    `up_step` (to at most `high`) if G's count is `up_count` or more, then
    down by `down_step` (to at least the floor) if D's count is
    `down_count` or more; each move restarts the count that made it (the
    one count, with "net"). With `move_at_low=False` there is no downward
    move while the threshold is at the floor, and D's count runs on.

    The floor is `low`. With `low_final` (and `low_step`, `low_count`), it
    falls at the start of an epoch if D's count is then `low_count` or
    more, by `low_step`, down to `low_final` at the lowest; `fit` does this
    itself (a callback it adds).

    The defaults are the authors' MNIST rule, `dg_mnist()`; `dg_toy()` is
    their toy's. The model keeps the threshold, the floor and the counts
    as variables (`dtype` and int32): `initial_state`, `counted`,
    `next_threshold` and `next_low` are the rule on Python numbers,
    computed by the same code in the same dtypes.

    Args:
        updates_per_batch: updates (G or D) per real batch (>= 1).
        start: the threshold before training (in `[low, high]`).
        low, high: the threshold's bounds (`low`: the floor, at the start
            if it falls).
        up_step, down_step: how far the threshold moves up / down (>= 0).
        up_count: G's count that raises the threshold (>= 1).
        down_count: D's count that lowers it (>= 1).
        counter: one of `COUNTERS`, `"runs"` or `"net"`.
        move_at_low: whether D's count also moves the threshold when it
            is at the floor (a move that changes nothing but restarts the
            count); False: no move there, the count runs on.
        low_final: where the floor stops falling (<= low); None: it does
            not fall, and `low_step`, `low_count` are None too.
        low_step: how far the floor falls at a time (> 0).
        low_count: D's count at an epoch's start that lowers the floor.
        dtype: of the threshold and the floor, `"float32"` or `"float64"`
            (the authors' Python floats; `thres > t1` in dg_toy.py and the
            floor's falls depend on their round-off).

    Example:
    >>> import ganzoo
    >>> rule = ganzoo.models.AdaptiveSwitch.dg_toy()
    >>> state = rule.initial_state()
    >>> state
    {'threshold': 1.0, 'count': 0, 'low': 0.73}
    >>> for _ in range(151):  # 151 D steps
    ...     state = rule.counted(state, g_step=False)
    >>> rule.next_threshold(state)
    {'threshold': 0.999, 'count': 0, 'low': 0.73}
    """

    updates_per_batch: int = 5
    start: float = 1.0
    low: float = 0.70
    high: float = 1.0
    up_step: float = 0.003
    down_step: float = 0.003
    up_count: int = 4
    down_count: int = 2
    counter: str = "runs"
    move_at_low: bool = True
    low_final: float | None = None
    low_step: float | None = None
    low_count: int | None = None
    dtype: str = "float32"

    def __post_init__(self):
        check_positive_ints(
            updates_per_batch=self.updates_per_batch,
            up_count=self.up_count,
            down_count=self.down_count,
        )
        check_choice("counter", self.counter, COUNTERS)
        check_choice("dtype", self.dtype, ("float32", "float64"))
        for name in ("low", "high"):
            if not _is_real(getattr(self, name)):
                raise ArgumentError(
                    f"{name} must be a number, got {getattr(self, name)!r}."
                )
        if not self.low <= self.high:
            raise ArgumentError(
                f"low must be <= high, got low={self.low!r}, high="
                f"{self.high!r}."
            )
        check_range("start", self.start, self.low, self.high, high_open=False)
        for name in ("up_step", "down_step"):
            value = getattr(self, name)
            if not (_is_real(value) and value >= 0):
                raise ArgumentError(f"{name} must be >= 0, got {value!r}.")
        if not isinstance(self.move_at_low, bool):
            raise ArgumentError(
                f"move_at_low must be True or False, got {self.move_at_low!r}."
            )
        falling = (self.low_final, self.low_step, self.low_count)
        if None in falling and falling != (None,) * 3:
            raise ArgumentError(
                "low_final, low_step and low_count go together (a falling "
                f"floor) or are all None, got low_final={self.low_final!r}, "
                f"low_step={self.low_step!r}, low_count={self.low_count!r}."
            )
        if self.low_final is not None:
            if not (_is_real(self.low_final) and self.low_final <= self.low):
                raise ArgumentError(
                    f"low_final must be a number <= low={self.low!r}, got "
                    f"{self.low_final!r}."
                )
            check_positive(low_step=self.low_step)
            check_positive_ints(low_count=self.low_count)

    @classmethod
    def dg_mnist(cls, **changes):
        """The rule of dg_mnist.py (the defaults), with `changes` to fields.

        val-iisc/deligan `src/mnist/dg_mnist.py`, line by line::

            thres=1.0; t1=0.70              start=1.0, low=0.70
            per batch, before its updates:
              if count1>3:                  up_count=4
                thres=min(thres+0.003, 1.0)   up_step=0.003, high=1.0
                count1=0
              if count2<-1:                 down_count=2, move_at_low=True
                thres=max(thres-0.003, t1)    down_step=0.003
                count2=0
              for k in xrange(5):           updates_per_batch=5
                G: count1+=1; count2=0        counter="runs"
                D: count2-=1; count1=0

        The authors' floats are Python's, float64; `dtype` stays float32,
        the default, so that models saved before train on unchanged. Here
        the two differ in round-off only: no check depends on equality.

        Example:
        >>> AdaptiveSwitch.dg_mnist() == AdaptiveSwitch()
        True
        >>> AdaptiveSwitch.dg_mnist(dtype="float64").next_threshold(
        ...     {"threshold": 0.9, "g_run": 4, "d_run": 0})
        {'threshold': 0.903, 'g_run': 0, 'd_run': 0}
        """
        return cls.get(changes)

    @classmethod
    def dg_toy(cls, **changes):
        """The rule of dg_toy.py, with `changes` to its fields.

        val-iisc/deligan `src/Toy/dg_toy.py`, line by line::

            thres=1.0; t1=0.73              start=1.0, low=0.73
            per epoch, before its batches:
              if count<-1000:               low_count=1001
                t1=max(t1-0.005, 0.70)        low_step=0.005, low_final=0.70
            per batch, before its updates:
              if count>10:                  up_count=11
                thres=min(thres+0.01, 1.0)    up_step=0.01, high=1.0
                count=0
              if count<-150 and thres>t1:   down_count=151, move_at_low=False
                thres=max(thres-0.001, t1)    down_step=0.001
                count=0
              for k in xrange(5):           updates_per_batch=5
                G: count+=1; D: count-=1      counter="net"
            Python floats                   dtype="float64"

        Example:
        >>> rule = AdaptiveSwitch.dg_toy()
        >>> rule.next_low({"threshold": 0.73, "count": -1001, "low": 0.73})
        {'threshold': 0.73, 'count': -1001, 'low': 0.725}
        """
        return cls.get({**_DG_TOY, **_renamed(changes)})

    def initial_state(self):
        """The rule's state before training, by name: `threshold`, the
        counts (`g_run` and `d_run`, or `count`) and, if the floor falls,
        `low`. The model holds each as the variable `switch_<name>`.

        Example:
        >>> AdaptiveSwitch().initial_state()
        {'threshold': 1.0, 'g_run': 0, 'd_run': 0}
        """
        counts = ("g_run", "d_run") if self.counter == "runs" else ("count",)
        state = {"threshold": float(self.start), **dict.fromkeys(counts, 0)}
        if self.low_final is not None:
            state["low"] = float(self.low)
        return state

    def counted(self, state, g_step):
        """`state` (a dict as `initial_state`'s) after one update: a G step
        if `g_step`, else a D step.

        Example:
        >>> AdaptiveSwitch().counted(
        ...     {"threshold": 1.0, "g_run": 0, "d_run": 3}, g_step=True)
        {'threshold': 1.0, 'g_run': 1, 'd_run': 0}
        """
        return self._on_numbers(_counted, state, bool(g_step))

    def next_threshold(self, state):
        """`state` after the once-per-batch move of the threshold (before
        the batch's updates).

        Example:
        >>> AdaptiveSwitch().next_threshold(
        ...     {"threshold": 1.0, "g_run": 5, "d_run": 0})
        {'threshold': 1.0, 'g_run': 0, 'd_run': 0}
        """
        return self._on_numbers(_moved_threshold, state)

    def next_low(self, state):
        """`state` after the once-per-epoch fall of the floor (before the
        epoch's batches); unchanged if the floor does not fall.

        Example:
        >>> AdaptiveSwitch.dg_toy(low_count=3).next_low(
        ...     {"threshold": 0.73, "count": -2, "low": 0.73})["low"]
        0.73
        """
        return self._on_numbers(_fallen_low, state)

    def _on_numbers(self, rule_fn, state, *args):
        """`rule_fn` (one of the tensor rules below) on Python numbers, in
        the model's dtypes."""
        names = self.initial_state()
        if not isinstance(state, dict) or set(state) != set(names):
            raise ArgumentError(
                f"state must be a dict of {', '.join(names)}, got {state!r}."
            )
        tensors = {
            name: tf.constant(
                state[name], self.dtype if isinstance(v, float) else "int32"
            )
            for name, v in names.items()
        }
        out = rule_fn(self, tensors, *args)
        return {name: type(v)(out[name].numpy()) for name, v in names.items()}

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
        MNIST rule). A config of an earlier version, with `step`, `g_run`
        and `d_run`, gives the rule it gave then.

        Example:
        >>> AdaptiveSwitch.get({"updates_per_batch": 2}).updates_per_batch
        2
        >>> AdaptiveSwitch.get({"step": 0.01, "g_run": 3}).down_step
        0.01
        """
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            value = _renamed(value)
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
_DG_TOY = dict(
    start=1.0,
    low=0.73,
    high=1.0,
    up_step=0.01,
    down_step=0.001,
    up_count=11,
    down_count=151,
    counter="net",
    move_at_low=False,
    low_final=0.70,
    low_step=0.005,
    low_count=1001,
    dtype="float64",
)


def _renamed(config):
    """`config` with the names of earlier versions replaced."""
    config = dict(config)
    for old, new in _RENAMED.items():
        if old not in config:
            continue
        both = [name for name in new if name in config]
        if both:
            raise ArgumentError(
                f"{old} is the earlier name of {' and '.join(new)}: give "
                f"one, got {old} and {both[0]}."
            )
        config.update(dict.fromkeys(new, config.pop(old)))
    return config


# The rule on tensors, once for the model's variables and for Python
# numbers: each takes and returns a state dict (`initial_state`'s names).
def _counts(rule, state):
    """`(G's count, D's count)`."""
    if rule.counter == "runs":
        return state["g_run"], state["d_run"]
    return state["count"], -state["count"]


def _restarted(rule, state, side, where):
    """`state` with the count of `side` ("g" or "d") set to 0 `where`."""
    name = "count" if rule.counter == "net" else f"{side}_run"
    count = state[name]
    return {**state, name: tf.where(where, tf.zeros_like(count), count)}


def _counted(rule, state, g_step):
    if rule.counter == "net":
        count = state["count"]
        return {**state, "count": tf.where(g_step, count + 1, count - 1)}
    g_run, d_run = state["g_run"], state["d_run"]
    return {
        **state,
        "g_run": tf.where(g_step, g_run + 1, tf.zeros_like(g_run)),
        "d_run": tf.where(g_step, tf.zeros_like(d_run), d_run + 1),
    }


def _moved_threshold(rule, state):
    threshold = state["threshold"]
    up = _counts(rule, state)[0] >= rule.up_count
    threshold = tf.where(
        up, tf.minimum(threshold + rule.up_step, rule.high), threshold
    )
    state = _restarted(rule, state, "g", up)
    low = state.get("low", rule.low)
    down = _counts(rule, state)[1] >= rule.down_count
    if not rule.move_at_low:
        down &= threshold > low
    threshold = tf.where(
        down, tf.maximum(threshold - rule.down_step, low), threshold
    )
    return {**_restarted(rule, state, "d", down), "threshold": threshold}


def _fallen_low(rule, state):
    if rule.low_final is None:
        return dict(state)
    low = state["low"]
    falls = _counts(rule, state)[1] >= rule.low_count
    low = tf.where(falls, tf.maximum(low - rule.low_step, rule.low_final), low)
    return {**state, "low": low}
