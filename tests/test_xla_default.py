"""`ganzoo train` turns XLA on by default only where it measured faster:
the mnist_mlp nets, float32, one CPU device, no strategy (MirroredStrategy
with XLA on logical CPUs fails to place its resources); with a GPU, Keras'
own "auto"."""

import numpy as np
import tensorflow as tf

from ganzoo import training


def _jit(strategy=None, **kwargs):
    cfg = training.TrainConfig(**kwargs)
    return training._jit_compile(cfg, strategy or tf.distribute.get_strategy())


def test_default_is_xla_for_mnist_mlp_on_one_cpu_only():
    assert not tf.config.list_logical_devices("GPU")
    assert _jit(network="mnist_mlp")
    assert not _jit(network="dcgan_mnist")
    assert not _jit(network="deligan_mnist")
    assert not _jit(network="mnist_mlp", mixed_precision="mixed_bfloat16")
    assert not _jit(tf.distribute.OneDeviceStrategy("/cpu:0"))
    # An explicit choice wins.
    assert not _jit(network="mnist_mlp", jit_compile=False)
    assert _jit(network="dcgan_mnist", jit_compile=True)


def test_train_records_xla_in_the_card(data_dir, tmp_path):
    cfg = training.TrainConfig(
        network="mnist_mlp",
        dataset="mnist",
        data_dir=str(data_dir),
        width=0.01,
        take=64,
        batch_size=32,
        epochs=1,
        grid_size=2,
    )
    card = training.train(cfg, tmp_path / "run", verbose=0)
    assert card["jit_compile"] is True and card["steps"] == 2
    assert np.all(np.isfinite(list(card["final_logs"].values())))


def test_with_a_gpu_keras_auto_is_passed_through(monkeypatch):
    """On a GPU machine the default is Keras' "auto" (XLA on for GPUs), not
    False."""
    real = tf.config.list_logical_devices
    monkeypatch.setattr(
        tf.config,
        "list_logical_devices",
        lambda kind=None: ["GPU:0"] if kind == "GPU" else real(kind),
    )
    assert _jit(network="dcgan_mnist") == "auto"
    assert _jit(network="mnist_mlp", jit_compile=False) is False
