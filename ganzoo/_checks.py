"""Argument checks shared by the modules: one exception type, one message
style ("<name> must be <what>, got <value>.")."""

import math
import numbers
import os

import numpy as np

__all__ = [
    "ArgumentError",
    "NotAGeneratorError",
    "check_bools",
    "check_choice",
    "check_finite",
    "check_generator",
    "check_interval",
    "check_non_negative_ints",
    "check_positive",
    "check_positive_ints",
    "check_range",
    "check_seed",
]


class ArgumentError(ValueError):
    """A bad argument value: the message names it and what is valid."""


class NotAGeneratorError(ArgumentError, TypeError):
    """A model that is not a ganzoo generator (e.g. a reference classifier)
    where one is needed: a `TypeError`, as Python has it, and an
    `ArgumentError`, so the command line prints one line."""


def _is_bool(value):
    return isinstance(value, (bool, np.bool_))


def _is_int(value):
    # bool is an int subclass; `True` as a size is a mistake, not 1.
    return isinstance(value, (int, np.integer)) and not isinstance(
        value, (bool, np.bool_)
    )


def check_bools(**values):
    """ArgumentError naming the first of `values` that is not a bool (a
    string such as "no" would count as true)."""
    for name, value in values.items():
        if not _is_bool(value):
            raise ArgumentError(f"{name} must be True or False, got {value!r}.")


def check_positive_ints(**values):
    """ArgumentError naming the first of `values` that is not an integer
    (Python or numpy, not bool) >= 1."""
    for name, value in values.items():
        if not (_is_int(value) and value >= 1):
            raise ArgumentError(
                f"{name} must be a positive integer, got {value!r}."
            )


def check_non_negative_ints(**values):
    """ArgumentError naming the first of `values` that is not an integer
    >= 0."""
    for name, value in values.items():
        if not (_is_int(value) and value >= 0):
            raise ArgumentError(
                f"{name} must be an integer >= 0, got {value!r}."
            )


def check_finite(**values):
    """ArgumentError naming the first of `values` that is not a finite real
    number (NaN or infinity would make every loss NaN)."""
    for name, value in values.items():
        if not _is_finite(value):
            raise ArgumentError(
                f"{name} must be a finite number, got {value!r}."
            )


def check_positive(**values):
    """ArgumentError naming the first of `values` that is not a finite real
    number > 0."""
    for name, value in values.items():
        if not (_is_finite(value) and value > 0):
            raise ArgumentError(
                f"{name} must be a finite number > 0, got {value!r}."
            )


def check_range(name, value, low, high, high_open=True):
    """ArgumentError unless `low <= value < high` (`<= high` if not
    `high_open`)."""
    ok = (
        _is_real(value)
        and low <= value
        and (value < high if high_open else value <= high)
    )
    if not ok:
        bracket = ")" if high_open else "]"
        raise ArgumentError(
            f"{name} must be in [{low}, {high}{bracket}, got {value!r}."
        )


def check_seed(value, name="seed", non_negative=False):
    """`value` as a Python int if it is an integer (Python or numpy, not
    bool) that fits in int64 (and is >= 0 if `non_negative`: numpy's seeds);
    else ArgumentError (1.7 would silently become 1, "abc" or 2**64 fail
    deep in TensorFlow)."""
    low, shown = (0, "0") if non_negative else (-(2**63), "-2**63")
    if not (_is_int(value) and low <= value < 2**63):
        raise ArgumentError(
            f"{name} must be an integer in [{shown}, 2**63), got {value!r}."
        )
    return int(value)


def check_interval(name, value):
    """ArgumentError unless `value` is a pair of real numbers `(low, high)`
    (a tuple, list or array) with low < high."""
    pair = np.asarray(value) if np.ndim(value) == 1 else None
    if not (
        pair is not None
        and len(pair) == 2
        and all(_is_real(v) for v in pair.tolist())
        and pair[0] < pair[1]
    ):
        raise ArgumentError(
            f"{name} must be (low, high) with low < high, got {value!r}."
        )


def check_choice(name, value, choices):
    """ArgumentError unless `value` is one of `choices` (listed sorted)."""
    if value not in choices:
        raise ArgumentError(
            f"{name}={value!r} is not valid; choose from "
            f"{', '.join(map(str, sorted(choices)))}."
        )


def check_generator(model, needs, source=None):
    """NotAGeneratorError unless `model` is a ganzoo GAN, LSGAN or DeLiGAN;
    the message names `source` (e.g. the preset; default the model's name)
    and what `needs` one."""
    from ganzoo.models import GAN  # here: the models import this module

    if isinstance(model, GAN):
        return
    if isinstance(model, (str, os.PathLike)):
        raise NotAGeneratorError(
            f"{needs} needs a model, got the name or path {str(model)!r}: "
            f"pass ganzoo.load({str(model)!r})."
        )
    name = source or f"model {getattr(model, 'name', None)!r}"
    card = getattr(model, "preset_metadata", None) or {}
    # The reference classifiers' cards name their logits layer.
    kind = (
        "classifier"
        if "logits_layer" in card
        else f"{type(model).__name__} model"
    )
    raise NotAGeneratorError(
        f"{name} is a {kind}, not a generator: {needs} needs a ganzoo model "
        "(GAN, LSGAN or DeLiGAN), such as the gan-*, lsgan-* and deligan-* "
        "presets."
    )


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(
        value, (bool, np.bool_)
    )


def _is_finite(value):
    try:
        return _is_real(value) and math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False
