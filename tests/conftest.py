"""Test set-up: two logical CPU devices (for MirroredStrategy) and the data
folder.

TensorFlow fixes its devices when it first runs an op, so the split into two
logical CPUs happens here, before any test imports a model.
"""

import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest

from ganzoo.cli import _NATIVE_LOG

# TensorFlow's C++ start-up lines ignore TF_CPP_MIN_LOG_LEVEL; pytest-xdist's
# controller would print them after the summary. Hidden as the CLI hides them.
_NATIVE_LOG.silence()
try:
    import tensorflow as tf

    _cpus = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(
        _cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2
    )
finally:
    _NATIVE_LOG.restore()

REPO = pathlib.Path(__file__).resolve().parents[1]


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: longer tests (subprocesses, real data); CI runs them"
    )


def shared_data_dir():
    """`$GANZOO_TEST_DATA` or `../shared/data` beside the repository."""
    env = os.environ.get("GANZOO_TEST_DATA")
    return pathlib.Path(env) if env else REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir():
    path = shared_data_dir()
    if not (path / "mnist" / "train-images-idx3-ubyte.gz").exists():
        pytest.fail(
            f"MNIST IDX files not found under {path}; set GANZOO_TEST_DATA "
            "to a folder holding mnist/ and fashion_mnist/."
        )
    return path


@pytest.fixture(scope="session")
def mirrored():
    """One MirroredStrategy over the two logical CPUs for the whole session:
    a second one in the same process may reuse collective instance keys of
    the first and abort with "Shape mismatch in the collective instance"."""
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert strategy.num_replicas_in_sync == 2
    return strategy


@pytest.fixture
def umask_022():
    """The usual umask (new folders 0755) for the test, restored after."""
    old = os.umask(0o022)
    yield
    os.umask(old)
