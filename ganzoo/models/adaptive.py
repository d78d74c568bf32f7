"""The DeLiGAN authors' adaptive choice between G and D updates."""

import dataclasses

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
        """`(threshold, g_run, d_run)` after the once-per-batch check; the
        tensor version of this is in `GAN`'s step.

        Example:
        >>> AdaptiveSwitch().next_threshold(1.0, g_run=5, d_run=0)
        (1.0, 0, 0)
        """
        if g_run >= self.g_run:
            threshold, g_run = min(threshold + self.step, self.high), 0
        if d_run >= self.d_run:
            threshold, d_run = max(threshold - self.step, self.low), 0
        return round(threshold, 12), g_run, d_run

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
