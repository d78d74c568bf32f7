"""`callbacks.BackupAndRestore`: a run killed at any moment resumes, from
a checkpoint that loads, at the epoch every worker has."""

import json
import pathlib

import keras
import numpy as np
import pytest

from ganzoo import callbacks
from ganzoo._checks import ArgumentError
from tests import helpers

X = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")


class _Record(keras.callbacks.Callback):
    """Raises at the start of epoch `stop` (None: never); records the
    epochs begun and every model's weights after each epoch."""

    def __init__(self, stop=None):
        super().__init__()
        self.stop, self.begun, self.after = stop, [], {}

    def on_epoch_begin(self, epoch, logs=None):
        self.begun.append(epoch)
        if epoch == self.stop:
            raise RuntimeError("interrupted")

    def on_epoch_end(self, epoch, logs=None):
        self.after[epoch + 1] = helpers.all_weights(self.model)


def _fit(backup, record, epochs=4):
    """A tiny GAN, the same initial weights each call, for `epochs`."""
    model = helpers.compile_adam(helpers.tiny_toy_model("gan"), lr=0.01)
    model.fit(
        X,
        batch_size=32,
        epochs=epochs,
        verbose=0,
        shuffle=False,
        callbacks=[record, backup],
    )
    return model


def test_resumes_where_it_stopped_with_the_weights_of_one_run(tmp_path):
    whole = _Record()
    _fit(callbacks.BackupAndRestore(tmp_path / "other"), whole)
    with pytest.raises(RuntimeError, match="interrupted"):
        _fit(callbacks.BackupAndRestore(tmp_path / "b"), _Record(stop=2))
    state = json.loads((tmp_path / "b" / "checkpoint.json").read_text())
    assert state["epoch"] == 2 and state["previous"]["epoch"] == 1
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == [
        "checkpoint.json",
        "epoch_0001.weights.h5",
        "epoch_0002.weights.h5",
    ]
    resumed = _Record()
    model = _fit(callbacks.BackupAndRestore(tmp_path / "b"), resumed)
    assert resumed.begun == [2, 3]
    final = helpers.all_weights(model)
    assert helpers.max_abs_diff(whole.after[4], final) < 1e-6
    assert not (tmp_path / "b").exists()  # deleted at the end, as Keras'


def test_a_write_killed_midway_leaves_the_last_checkpoint(tmp_path):
    """Keras' callback overwrites its weights file in place: a crash in
    that write left a file `load_weights` cannot open."""
    backup = callbacks.BackupAndRestore(tmp_path / "b")

    class _DiesWritingEpoch3(_Record):
        def on_epoch_begin(self, epoch, logs=None):
            super().on_epoch_begin(epoch, logs)
            if epoch == 2:
                save = self.model.save_weights

                def half_then_die(path, *args, **kwargs):
                    save(path, *args, **kwargs)
                    data = pathlib.Path(path).read_bytes()
                    pathlib.Path(path).write_bytes(data[: len(data) // 2])
                    raise OSError("No space left on device")

                self.model.save_weights = half_then_die

    first = _DiesWritingEpoch3()
    with pytest.raises(OSError, match="No space"):
        _fit(backup, first)
    left = sorted(p.name for p in (tmp_path / "b").iterdir())
    assert left == [
        "checkpoint.json",
        "epoch_0001.weights.h5",
        "epoch_0002.weights.h5",
    ], left  # no temporary file, no epoch 3
    resumed = _Record(stop=3)
    with pytest.raises(RuntimeError, match="interrupted"):
        _fit(callbacks.BackupAndRestore(tmp_path / "b"), resumed)
    assert resumed.begun == [2, 3]
    # Epoch 3 redone from epoch 2's weights: as the first run's epoch 3
    # (whose own save failed after training it).
    assert helpers.max_abs_diff(first.after[3], resumed.after[3]) < 1e-6


def test_a_folder_of_keras_callback_resumes(tmp_path):
    """Runs checkpointed by `keras.callbacks.BackupAndRestore` (what
    `ganzoo train` used before) go on from their epoch."""
    whole = _Record()
    _fit(callbacks.BackupAndRestore(tmp_path / "other"), whole)
    keras_backup = keras.callbacks.BackupAndRestore(str(tmp_path / "b"))
    with pytest.raises(RuntimeError, match="interrupted"):
        _fit(keras_backup, _Record(stop=3))
    resumed = _Record(stop=3 + 1)
    model = _fit(callbacks.BackupAndRestore(tmp_path / "b"), resumed)
    assert resumed.begun == [3]
    assert (
        helpers.max_abs_diff(whole.after[4], helpers.all_weights(model)) < 1e-6
    )


def test_a_stray_temporary_file_is_ignored_then_removed(tmp_path):
    with pytest.raises(RuntimeError, match="interrupted"):
        _fit(callbacks.BackupAndRestore(tmp_path / "b"), _Record(stop=1))
    stray = tmp_path / "b" / ".epoch_0002.weights.h5.tmp-1-abc.weights.h5"
    stray.write_bytes(b"half a file")
    resumed = _Record(stop=2)
    with pytest.raises(RuntimeError, match="interrupted"):
        _fit(callbacks.BackupAndRestore(tmp_path / "b"), resumed)
    assert resumed.begun == [1, 2] and not stray.exists()


def test_workers_too_far_apart_is_a_clear_error(tmp_path, monkeypatch):
    with pytest.raises(RuntimeError, match="interrupted"):
        _fit(callbacks.BackupAndRestore(tmp_path / "b"), _Record(stop=3))
    # As if a peer's last checkpoint were of epoch 2, 0, then 1: this
    # worker holds epochs 2 and 3.
    for peer, begun in ((2, [2]), (0, [0])):
        monkeypatch.setattr(
            callbacks.BackupAndRestore,
            "_agreed_epoch",
            lambda s, e, peer=peer: peer,
        )
        record = _Record(stop=begun[0])
        with pytest.raises(RuntimeError, match="interrupted"):
            _fit(callbacks.BackupAndRestore(tmp_path / "b"), record)
        assert record.begun == begun
    monkeypatch.setattr(
        callbacks.BackupAndRestore, "_agreed_epoch", lambda s, e: 1
    )
    with pytest.raises(
        RuntimeError, match="of epoch 1.*holds epochs \\[2, 3\\]"
    ):
        _fit(callbacks.BackupAndRestore(tmp_path / "b"), _Record())


@pytest.mark.parametrize("bad", ["", None, 3])
def test_backup_dir_must_be_a_folder_path(bad):
    with pytest.raises(ArgumentError, match="backup_dir must be a folder"):
        callbacks.BackupAndRestore(bad)
