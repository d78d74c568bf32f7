"""Argument checks shared by the modules: one exception type, one message
style ("<name> must be <what>, got <value>.")."""

import numbers

import numpy as np

__all__ = [
    "ArgumentError",
    "check_choice",
    "check_non_negative_ints",
    "check_positive",
    "check_positive_ints",
    "check_range",
]


class ArgumentError(ValueError):
    """A bad argument value: the message names it and what is valid."""


def _is_int(value):
    # bool is an int subclass; `True` as a size is a mistake, not 1.
    return isinstance(value, (int, np.integer)) and not isinstance(
        value, (bool, np.bool_)
    )


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


def check_positive(**values):
    """ArgumentError naming the first of `values` that is not a real number
    > 0."""
    for name, value in values.items():
        if not (_is_real(value) and value > 0):
            raise ArgumentError(f"{name} must be a number > 0, got {value!r}.")


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


def check_choice(name, value, choices):
    """ArgumentError unless `value` is one of `choices` (listed sorted)."""
    if value not in choices:
        raise ArgumentError(
            f"{name}={value!r} is not valid; choose from "
            f"{', '.join(map(str, sorted(choices)))}."
        )


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(
        value, (bool, np.bool_)
    )
