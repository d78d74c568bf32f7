"""Argument checks shared by the modules (one predicate, one message)."""

import numpy as np


def check_positive_ints(**values):
    """ValueError naming the first of `values` that is not an integer
    (Python or numpy) >= 1."""
    for name, value in values.items():
        if not (isinstance(value, (int, np.integer)) and value >= 1):
            raise ValueError(
                f"{name} must be a positive integer, got {value!r}."
            )
