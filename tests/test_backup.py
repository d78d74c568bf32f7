"""`callbacks.BackupAndRestore`: a run killed at any moment resumes, from
a checkpoint that loads, at the epoch every worker has."""

import json
import pathlib

import keras
import numpy as np
import pytest

from ganzoo import callbacks, presets_io, training
from ganzoo._checks import ArgumentError
from tests import helpers

X = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
FILES_AT_EPOCH_2 = [
    "checkpoint.json",
    "epoch_0001.weights.h5",
    "epoch_0002.weights.h5",
]


class _Record(keras.callbacks.Callback):
    """Raises at the start of epoch `stop` (None: never); records the
    epochs begun, the weights the first one starts from and the weights
    after each epoch."""

    def __init__(self, stop=None):
        super().__init__()
        self.stop, self.begun, self.after, self.start = stop, [], {}, None

    def on_epoch_begin(self, epoch, logs=None):
        if not self.begun:
            self.start = helpers.all_weights(self.model)
        self.begun.append(epoch)
        if epoch == self.stop:
            raise RuntimeError("interrupted")

    def on_epoch_end(self, epoch, logs=None):
        self.after[epoch + 1] = helpers.all_weights(self.model)


def _fit(backup, record, epochs=4, extra=()):
    """A tiny GAN, the same initial weights each call, for `epochs`."""
    model = helpers.compile_adam(helpers.tiny_toy_model("gan"), lr=0.01)
    model.fit(
        X,
        batch_size=32,
        epochs=epochs,
        verbose=0,
        shuffle=False,
        callbacks=[record, backup, *extra],
    )
    return model


def _files(folder):
    return sorted(p.name for p in pathlib.Path(folder).iterdir())


def _state(folder):
    return json.loads((folder / "checkpoint.json").read_text())


@pytest.fixture(scope="module")
def whole():
    """The weights of one uninterrupted run, after each epoch."""
    record = _Record()
    _fit(
        callbacks.BackupAndRestore(pathlib.Path("unused-never-written")), record
    )
    return record.after


def _stopped_at(folder, epoch):
    """A run interrupted at the start of `epoch` (0-based) into `folder`."""
    with pytest.raises(RuntimeError, match="interrupted"):
        _fit(callbacks.BackupAndRestore(folder), _Record(stop=epoch))


def test_resumes_where_it_stopped_with_the_weights_of_one_run(tmp_path, whole):
    _stopped_at(tmp_path / "b", 2)
    state = _state(tmp_path / "b")
    assert state["epoch"] == 2 and state["previous"]["epoch"] == 1
    assert _files(tmp_path / "b") == FILES_AT_EPOCH_2
    resumed = _Record()
    model = _fit(callbacks.BackupAndRestore(tmp_path / "b"), resumed)
    assert resumed.begun == [2, 3]
    assert helpers.max_abs_diff(whole[2], resumed.start) < 1e-6
    assert helpers.max_abs_diff(whole[4], helpers.all_weights(model)) < 1e-6
    assert not (tmp_path / "b").exists()  # deleted at the end, as Keras'
    assert model._initial_epoch is None  # a later fit starts at 0


def test_a_write_failing_midway_leaves_the_last_checkpoint(tmp_path, whole):
    """Keras' callback overwrites its weights file in place: a crash in
    that write left a file `load_weights` cannot open."""

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

    with pytest.raises(OSError, match="No space"):
        _fit(callbacks.BackupAndRestore(tmp_path / "b"), _DiesWritingEpoch3())
    assert _files(tmp_path / "b") == FILES_AT_EPOCH_2  # no temporary file
    resumed = _Record(stop=3)
    with pytest.raises(RuntimeError, match="interrupted"):
        _fit(callbacks.BackupAndRestore(tmp_path / "b"), resumed)
    assert resumed.begun == [2, 3]
    assert helpers.max_abs_diff(whole[2], resumed.start) < 1e-6
    assert helpers.max_abs_diff(whole[3], resumed.after[3]) < 1e-6


def test_a_folder_of_keras_callback_resumes(tmp_path, whole):
    """Runs checkpointed by `keras.callbacks.BackupAndRestore` (what
    `ganzoo train` used before) go on from their epoch."""
    keras_backup = keras.callbacks.BackupAndRestore(str(tmp_path / "b"))
    with pytest.raises(RuntimeError, match="interrupted"):
        _fit(keras_backup, _Record(stop=3))
    resumed = _Record(stop=4)
    model = _fit(callbacks.BackupAndRestore(tmp_path / "b"), resumed)
    assert resumed.begun == [3]
    assert helpers.max_abs_diff(whole[4], helpers.all_weights(model)) < 1e-6


def test_missing_or_stray_files_do_not_stop_a_resume(tmp_path, whole):
    _stopped_at(tmp_path / "b", 3)
    (tmp_path / "b" / "epoch_0003.weights.h5").unlink()  # named, gone
    stray = tmp_path / "b" / ".epoch_0004.weights.h5.tmp-1-0123abcd.weights.h5"
    stray.write_bytes(b"half a file")
    mine = tmp_path / "b" / "notes.txt"
    mine.write_text("not the callback's")
    resumed = _Record(stop=3)
    with pytest.raises(RuntimeError, match="interrupted"):
        _fit(callbacks.BackupAndRestore(tmp_path / "b"), resumed)
    assert resumed.begun == [2, 3]  # the epoch before
    assert helpers.max_abs_diff(whole[2], resumed.start) < 1e-6
    assert not stray.exists()
    _fit(callbacks.BackupAndRestore(tmp_path / "b"), _Record())
    assert _files(tmp_path / "b") == ["notes.txt"]  # only its own go


def test_an_unreadable_checkpoint_is_one_clear_error(tmp_path):
    _stopped_at(tmp_path / "b", 2)
    (tmp_path / "b" / "epoch_0002.weights.h5").write_bytes(b"not hdf5")
    with pytest.raises(RuntimeError, match="Cannot resume from .*b .*delete"):
        _fit(callbacks.BackupAndRestore(tmp_path / "b"), _Record())
    (tmp_path / "b" / "checkpoint.json").write_text("{")
    with pytest.raises(RuntimeError, match="checkpoint.json is unreadable"):
        _fit(callbacks.BackupAndRestore(tmp_path / "b"), _Record())
    assert (tmp_path / "b" / "checkpoint.json").read_text() == "{"


def _peer(monkeypatch, latest, unreadable=0, load_failed=0):
    """As if a second worker's last checkpoint were of epoch `latest`;
    the rounds of `gather` this worker makes, in a list."""
    rounds = []

    def gather(self, values):
        rounds.append(values)
        peer = [latest, 0, unreadable] if len(values) == 3 else [load_failed]
        return np.array([values, peer])

    monkeypatch.setattr(callbacks.BackupAndRestore, "gather", gather)
    return rounds


def test_workers_resume_from_the_oldest_last_epoch(
    tmp_path, whole, monkeypatch
):
    _stopped_at(tmp_path / "b", 3)  # this worker holds epochs 3 and 2
    _peer(monkeypatch, 1)
    with pytest.raises(RuntimeError, match=r"epochs \[1, 3\], further apart"):
        _fit(callbacks.BackupAndRestore(tmp_path / "b"), _Record())
    _peer(monkeypatch, 2)
    record = _Record(stop=2)
    with pytest.raises(RuntimeError, match="interrupted"):
        _fit(callbacks.BackupAndRestore(tmp_path / "b"), record)
    assert record.begun == [2]
    assert helpers.max_abs_diff(whole[2], record.start) < 1e-6
    # Its epoch 3, which the peer lacks, is gone: the next resume cannot
    # take it while the peer redoes epoch 3 its own way.
    assert _state(tmp_path / "b")["epoch"] == 2
    assert "epoch_0003.weights.h5" not in _files(tmp_path / "b")
    # A peer with nothing against epoch 2: a lost folder, not a kill.
    _peer(monkeypatch, 0)
    with pytest.raises(RuntimeError, match=r"epochs \[0, 2\], further apart"):
        _fit(callbacks.BackupAndRestore(tmp_path / "b"), _Record())
    # Against epoch 1 (killed during its first write): both start over.
    _stopped_at(tmp_path / "c", 1)
    record = _Record(stop=0)
    with pytest.raises(RuntimeError, match="interrupted"):
        _fit(callbacks.BackupAndRestore(tmp_path / "c"), record)
    assert record.begun == [0] and _files(tmp_path / "c") == []


@pytest.mark.parametrize("who", ["this worker", "its peer"])
@pytest.mark.parametrize("what", ["checkpoint.json", "weights"])
def test_a_worker_that_cannot_resume_fails_with_its_peers(
    tmp_path, monkeypatch, who, what
):
    """Every worker makes the same rounds of `gather` before it raises: a
    worker raising before a round its peers make would leave them waiting
    in it for ever."""
    _stopped_at(tmp_path / "b", 2)
    peer = {"latest": 2}
    if who == "this worker" and what == "checkpoint.json":
        (tmp_path / "b" / "checkpoint.json").write_text("[]")
    elif who == "this worker":
        (tmp_path / "b" / "epoch_0002.weights.h5").write_bytes(b"not hdf5")
    elif what == "checkpoint.json":
        peer["unreadable"] = 1
    else:
        peer["load_failed"] = 1
    rounds = _peer(monkeypatch, **peer)
    with pytest.raises(RuntimeError, match="Cannot resume"):
        _fit(callbacks.BackupAndRestore(tmp_path / "b"), _Record())
    assert len(rounds) == (1 if what == "checkpoint.json" else 2)


def test_a_stopped_epoch_is_not_saved_and_the_folder_can_outlive_fit(
    tmp_path,
):
    class _StopInEpoch2(keras.callbacks.Callback):
        """As `TerminateOnNaNLoss` does on a NaN loss: mid-epoch."""

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == 1:
                self.model.stop_training = True

    backup = callbacks.BackupAndRestore(tmp_path / "b", delete_on_end=False)
    _fit(backup, _Record(), extra=[_StopInEpoch2()])
    assert _state(tmp_path / "b")["epoch"] == 1  # not the stopped epoch 2
    backup.delete()
    assert not (tmp_path / "b").exists()


def test_one_instance_for_two_fits_keeps_no_stale_state(tmp_path):
    backup = callbacks.BackupAndRestore(tmp_path / "b")
    _fit(backup, _Record(), epochs=2)
    with pytest.raises(RuntimeError, match="interrupted"):
        _fit(backup, _Record(stop=1))
    assert _state(tmp_path / "b")["previous"] is None


def test_train_keeps_the_checkpoint_until_its_preset_is_written(
    tmp_path, monkeypatch
):
    """A kill while `ganzoo train` writes the preset: the rerun writes it
    without training again."""
    cfg = helpers.tiny_train_config(epochs=2)
    save = presets_io.save_preset

    def fails(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(presets_io, "save_preset", fails)
    with pytest.raises(OSError, match="No space"):
        training.train(cfg, tmp_path / "run", verbose=0)
    assert _state(tmp_path / "run" / "backup")["epoch"] == 2
    monkeypatch.setattr(presets_io, "save_preset", save)
    epochs = _Record()
    monkeypatch.setattr(
        training, "schedule_callbacks", lambda cfg: [epochs], raising=True
    )
    card = training.train(cfg, tmp_path / "run", verbose=0)
    assert epochs.begun == [] and card["epochs"] == 2
    assert presets_io.is_preset(tmp_path / "run" / "preset")
    assert not (tmp_path / "run" / "backup").exists()


@pytest.mark.parametrize("bad", ["", None, 3])
def test_backup_dir_must_be_a_folder_path(bad):
    with pytest.raises(ArgumentError, match="backup_dir must be a folder"):
        callbacks.BackupAndRestore(bad)


def test_no_worker_deletes_its_checkpoint_if_the_chief_wrote_no_preset(
    tmp_path, monkeypatch
):
    """A worker that is not the chief, whose chief failed to write the
    preset: it keeps its checkpoint, so the rerun of both resumes at the
    end instead of from epoch 0."""
    monkeypatch.setattr(training, "is_chief", lambda: False)
    # The chief's answers: nothing to resume, loaded, then its preset
    # failed.
    answers = iter([[0, 0, 0], [0], [1]])
    monkeypatch.setattr(
        callbacks.BackupAndRestore,
        "gather",
        lambda self, values: np.array([values, next(answers)]),
    )
    cfg = helpers.tiny_train_config(epochs=2)
    with pytest.raises(RuntimeError, match="chief could not write the preset"):
        training.train(cfg, tmp_path / "run", verbose=0)
    assert _state(tmp_path / "run" / "backup")["epoch"] == 2
