"""The version of ganzoo, in one place (setup.py reads it from here)."""

__all__ = [
    "__version__",
]

__version__ = "0.2.0"
