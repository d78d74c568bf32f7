"""Callbacks for GAN training: crash-safe checkpoints, sample grids, mode
coverage, resumable progress, preset snapshots and a stop on a NaN loss."""

import contextlib
import json
import os
import pathlib
import re
import time

import keras
import numpy as np
import tensorflow as tf

from ganzoo import _atomic, datasets, images, metrics, presets_io
from ganzoo._checks import (
    ArgumentError,
    check_choice,
    check_positive_ints,
    check_seed,
)

SNAPSHOTS_DIR = "snapshots"

__all__ = [
    "SNAPSHOTS_DIR",
    "BackupAndRestore",
    "ModeCoverage",
    "PresetSnapshots",
    "ProgressRecorder",
    "SampleGrid",
    "TerminateOnNaNLoss",
]


class BackupAndRestore(keras.callbacks.Callback):
    """Checkpoints every epoch so that a killed `fit` resumes; crash-safe,
    and agreed on by all the workers of a multi-worker run.

    What `keras.callbacks.BackupAndRestore` does (the model's and the
    optimizers' variables after each epoch, restored with the epoch number
    when `fit` starts again), with these differences:
    - a kill at any moment leaves a checkpoint that loads: the weights go
      to a new file, flushed to disk and renamed into place, and count
      only once `checkpoint.json` naming them has been replaced the same
      way (Keras overwrites `latest.weights.h5` in place; a kill during
      that write leaves a file `load_weights` cannot open, and the run
      cannot resume);
    - under a multi-worker strategy the workers resume from the same epoch:
      a worker killed while writing is one epoch behind its peers, so each
      keeps its previous checkpoint too, and all load the oldest last
      epoch among them (with Keras' callback they would start from
      different epochs, and their collectives would no longer pair up). A
      worker that cannot resume makes all of them raise, not hang;
    - an epoch after which training stops (`model.stop_training`, e.g. a
      NaN loss) is not saved: the checkpoint stays the last good epoch;
    - with `delete_on_end=False` the folder outlives `fit`, for a caller
      that has more to write (`ganzoo train`: the preset), then `delete()`.
    A folder written by Keras' callback (`training_metadata.json`) resumes.

    Files in `backup_dir`: `checkpoint.json` (`{"epoch", "weights",
    "previous"}`) and the one or two weights files it names
    (`epoch_NNNN.weights.h5`), three while the next one is written. Other
    files in the folder are left alone; give each worker its own folder.

    Args:
        backup_dir: a folder for this run's checkpoints.
        delete_on_end: delete the checkpoints when `fit` ends (as Keras).

    Example:
    >>> model.fit(ds, epochs=20,
    ...           callbacks=[BackupAndRestore("runs/x/backup")])  # doctest: +SKIP
    """

    STATE_FILE = "checkpoint.json"
    _KERAS_STATE = "training_metadata.json"
    _KERAS_WEIGHTS = "latest.weights.h5"
    # What delete() and the clean-up after a commit may remove: this
    # class's files (with the temporary files of killed writes) and Keras'.
    _OWN_FILES = re.compile(
        r"epoch_\d{4,}\.weights\.h5|checkpoint\.json"
        r"|\.(epoch_\d{4,}\.weights\.h5|checkpoint\.json)\.tmp-\d+-[0-9a-f]{8}"
        r"(\.weights\.h5)?"
        r"|(training_metadata\.json|latest\.weights\.h5)(\.bkp)?"
    )

    def __init__(self, backup_dir, delete_on_end=True):
        super().__init__()
        if not isinstance(backup_dir, (str, os.PathLike)) or not str(
            backup_dir
        ):
            raise ArgumentError(
                f"backup_dir must be a folder path, got {backup_dir!r}."
            )
        self.dir = pathlib.Path(backup_dir)
        self.delete_on_end = bool(delete_on_end)
        self._last = None  # the checkpoint loaded or last written

    def _held(self):
        """`{epoch: weights file name}` of the checkpoints in the folder
        whose files exist: the last committed one and the one before."""
        path = self.dir / self.STATE_FILE
        if path.exists():
            state = json.loads(path.read_text())
            entries = [state, state.get("previous")]
        elif (self.dir / self._KERAS_STATE).exists():
            keras_state = json.loads((self.dir / self._KERAS_STATE).read_text())
            entries = [
                {"epoch": keras_state["epoch"], "weights": self._KERAS_WEIGHTS}
            ]
        else:
            entries = []
        return {
            int(e["epoch"]): e["weights"]
            for e in entries
            if e and e["epoch"] and (self.dir / e["weights"]).is_file()
        }

    def on_train_begin(self, logs=None):
        if not self.model.built:
            raise ValueError(
                f"BackupAndRestore needs a built model before fit(); "
                f"{self.model.name} is not built: call it on a batch first."
            )
        self._last = None
        start_over = f"delete {self.dir} to train from the start"
        problem = None
        try:
            held = self._held()
        except Exception as e:  # noqa: BLE001 (raised after the gather)
            held, problem = {}, e
        latest = max(held, default=0)
        before = max((e for e in held if e < latest), default=0)
        # One collective whatever happened here: a worker that raised
        # before it would leave its peers waiting in it.
        table = self.gather([latest, before, int(problem is not None)])
        if problem is not None:
            raise RuntimeError(
                f"Cannot resume: {self.dir / self.STATE_FILE} is unreadable "
                f"({problem}); {start_over}."
            ) from problem
        if table[:, 2].any():
            raise RuntimeError(
                "Cannot resume: another worker's checkpoint is unreadable "
                "(its output says which)."
            )
        epoch = int(table[:, 0].min())
        if epoch:
            apart = not all(epoch in row[:2] for row in table)
        else:  # nothing against epoch 5: a lost folder, not a kill
            apart = table[:, 0].max() > 1
        if apart:
            raise RuntimeError(
                f"Cannot resume: the workers' last checkpoints are of epochs "
                f"{sorted(set(table[:, 0].tolist()))}, further apart than a "
                f"kill leaves them (one epoch, each keeping the one before); "
                f"delete every worker's backup folder to train from the "
                f"start."
            )
        if epoch < latest:
            print(
                f"Another worker's last checkpoint is of epoch {epoch}: "
                f"resuming after epoch {epoch}, not {latest}.",
                flush=True,
            )
        try:
            if epoch:
                self._load(held[epoch])
            if epoch < latest:
                # The folder now names what was resumed: the newer
                # checkpoint, which another worker lacked, must not come
                # back next time while that worker redoes the epoch.
                if epoch:
                    self._commit(epoch, held[epoch], None)
                else:
                    self._remove_own_files(keep=())
        except Exception as e:  # noqa: BLE001 (raised after the gather)
            problem = e
        failed = self.gather([int(problem is not None)])
        if problem is not None:
            raise RuntimeError(
                f"Cannot resume from {self.dir} ({problem}); {start_over}."
            ) from problem
        if failed.any():
            raise RuntimeError(
                "Cannot resume: another worker could not load its "
                "checkpoint (its output says why)."
            )
        if epoch:
            self._last = {"epoch": epoch, "weights": held[epoch]}
        # Keras' own callback resumes `fit` through this attribute.
        self.model._initial_epoch = epoch

    def _load(self, name):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and not optimizer.built:
            optimizer.build(self.model.trainable_variables)
        self.model.load_weights(self.dir / name)

    def gather(self, values):
        """Every worker's `values` (ints), one row per replica: under a
        multi-worker strategy a collective that every worker must call,
        `[values]` otherwise. `ganzoo train` uses it to learn whether the
        chief wrote the preset before any worker deletes its checkpoint."""
        strategy = self.model.distribute_strategy
        if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
            return np.array([values], np.int64)
        row = tf.constant([values], tf.int32)

        @tf.function  # eagerly, TensorFlow warns that it is slow, twice
        def gathered():
            return strategy.gather(strategy.run(lambda: row), axis=0)

        return gathered().numpy().astype(np.int64)

    def on_epoch_end(self, epoch, logs=None):
        if self.model.stop_training:
            return  # a NaN loss: the last good epoch stays the checkpoint
        done = epoch + 1
        self.dir.mkdir(parents=True, exist_ok=True)
        name = f"epoch_{done:04d}.weights.h5"
        with _atomic.temp_path_for(self.dir / name, ".weights.h5") as tmp:
            self.model.save_weights(tmp)
        self._commit(done, name, self._last)
        self._last = {"epoch": done, "weights": name}

    def _commit(self, epoch, name, previous):
        """Makes `name` the checkpoint of `epoch` (`previous`: the one
        before, `{"epoch", "weights"}` or None), then removes what it no
        longer names (Keras' files, older epochs, temporary files of
        killed writes)."""
        state = {"epoch": epoch, "weights": name, "previous": previous}
        _atomic.write_text(self.dir / self.STATE_FILE, json.dumps(state))
        keep = {self.STATE_FILE, name}
        if previous:
            keep.add(previous["weights"])
        self._remove_own_files(keep)

    def _remove_own_files(self, keep):
        if not self.dir.is_dir():
            return
        for path in self.dir.iterdir():
            if (
                path.name not in keep
                and self._OWN_FILES.fullmatch(path.name)
                and path.is_file()
            ):
                path.unlink(missing_ok=True)

    def delete(self):
        """Removes the checkpoints, and the folder if nothing else is in
        it: the run is over."""
        self._remove_own_files(keep=())
        with contextlib.suppress(OSError):
            self.dir.rmdir()

    def on_train_end(self, logs=None):
        # A later fit of this model without the callback starts at 0.
        self.model._initial_epoch = None
        if self.delete_on_end:
            self.delete()


class SampleGrid(keras.callbacks.Callback):
    """Saves a picture of samples from fixed noise after every epoch.

    Writes `<output_dir>/samples/epoch_NNN.png` and a TensorBoard image
    under `<output_dir>/tensorboard/samples`. The noise is fixed by `seed`,
    so the pictures show one set of latents evolve. With a moving average
    of the generator's weights (`use_ema`), the picture shows the average.

    Args:
        output_dir: folder of the run.
        num: number of samples (64 gives an 8x8 grid).
        seed: seed of the fixed noise.

    Example:
    >>> model.fit(ds, callbacks=[SampleGrid("runs/x")])  # doctest: +SKIP
    """

    def __init__(self, output_dir, num=64, seed=0):
        super().__init__()
        # Checked now, not after the first epoch of training.
        if not isinstance(output_dir, (str, os.PathLike)):
            raise ArgumentError(
                f"output_dir must be a folder path, got {output_dir!r}."
            )
        check_positive_ints(num=num)
        check_seed(seed)
        self.dir = pathlib.Path(output_dir) / "samples"
        self.num = num
        self.seed = seed
        self._writer = None
        self._tb_dir = str(pathlib.Path(output_dir) / "tensorboard" / "samples")

    def on_epoch_end(self, epoch, logs=None):
        self.dir.mkdir(parents=True, exist_ok=True)
        with self.model.averaged_generator():
            samples = self.model.sample(self.num, seed=self.seed)
        if not np.all(np.isfinite(samples)):
            return  # a NaN loss stopped training; `train` says so
        picture = images.samples_to_image(samples)
        images.save_png(picture, self.dir / f"epoch_{epoch + 1:03d}.png")
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self._tb_dir)
        pic = picture if picture.ndim == 3 else picture[..., None]
        with self._writer.as_default():
            tf.summary.image("samples", pic[None], step=epoch + 1)
        self._writer.flush()


class TerminateOnNaNLoss(keras.callbacks.Callback):
    """Stops training at the first batch whose logs hold a NaN or infinite
    loss (any `*loss`: a GAN's `d_loss` and `g_loss`; Keras'
    `TerminateOnNaN` reads only `loss`, which a GAN does not log).

    Training stops gracefully (`model.stop_training`; `stopped_epoch`, from
    1, says when). Keras still ends the epoch: the callbacks that save
    (`SampleGrid`, `ModeCoverage`, `PresetSnapshots`) skip it, and
    `ganzoo train` raises instead of writing a preset.

    Args:
        verbose: whether to print the batch and the loss that stopped it.

    Example:
    >>> model.fit(ds, callbacks=[TerminateOnNaNLoss()])  # doctest: +SKIP
    """

    def __init__(self, verbose=1):
        super().__init__()
        self.verbose = verbose
        self.stopped_epoch = None  # from 1, once stopped
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        for key, value in (logs or {}).items():
            if key.endswith("loss") and not np.all(np.isfinite(value)):
                if self.verbose:
                    print(
                        f"\nEpoch {self._epoch}, batch {batch + 1}: {key} is "
                        f"{float(np.mean(value))}; stopping.",
                        flush=True,
                    )
                self.stopped_epoch = self._epoch
                self.model.stop_training = True
                return


class ProgressRecorder(keras.callbacks.Callback):
    """Keeps wall time and the last logs in a JSON file, across resumes.

    The file is rewritten atomically after every epoch, so a run killed at
    any moment and resumed by `BackupAndRestore` reports its total time. An
    epoch after which training stops (a NaN loss) adds its time, not its
    count or logs: `BackupAndRestore` does not save it either.

    Args:
        path: the JSON file (read back if it exists), or None to keep the
            state in memory only (a non-chief worker).

    Example:
    >>> rec = ProgressRecorder("runs/x/progress.json")  # doctest: +SKIP
    >>> model.fit(ds, callbacks=[rec]); rec.state["wall_time_s"]  # doctest: +SKIP
    """

    def __init__(self, path):
        super().__init__()
        self.path = None if path is None else pathlib.Path(path)
        self.state = {"wall_time_s": 0.0, "epochs_done": 0, "last_logs": {}}
        if self.path is not None and self.path.exists():
            self.state.update(json.loads(self.path.read_text()))

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    @property
    def elapsed_s(self):
        """Wall time trained so far, with the running epoch's."""
        start = getattr(self, "_start", None)
        running = 0.0 if start is None else time.perf_counter() - start
        return self.state["wall_time_s"] + running

    def on_epoch_end(self, epoch, logs=None):
        self.state["wall_time_s"] += time.perf_counter() - self._start
        self._start = None
        # An epoch after which training stops (a NaN loss) is not in the
        # checkpoint (BackupAndRestore) either: a rerun redoes it.
        if not self.model.stop_training:
            self.state["epochs_done"] = epoch + 1
            self.state["last_logs"] = {
                k: float(np.mean(v)) for k, v in (logs or {}).items()
            }
        if self.path is not None:
            _atomic.write_text(self.path, json.dumps(self.state, indent=1))


class ModeCoverage(keras.callbacks.Callback):
    """Adds the 2-D toys' mode coverage to each epoch's logs.

    After every epoch it draws `num` samples (with the generator's moving
    average, if any) and puts `modes_covered` and `high_quality` (the
    fraction of samples within 3 std of a mode) into the logs, so that
    `CSVLogger` and TensorBoard, placed after it, record them.

    Args:
        dataset: "ring8" or "grid25".
        num: samples per measurement (the protocol's 2,500).
        seed: seed of the samples.

    Example:
    >>> model.fit(ds, callbacks=[ModeCoverage("ring8"), csv])  # doctest: +SKIP
    """

    def __init__(self, dataset, num=2500, seed=0):
        super().__init__()
        check_choice("dataset", dataset, datasets.TOY_NAMES)
        self.modes = (
            datasets.RING8_MODES
            if dataset == "ring8"
            else datasets.GRID25_MODES
        )
        self.std = datasets.TOY_STDS[dataset]
        check_positive_ints(num=num)
        check_seed(seed)
        self.num = num
        self.seed = seed

    def on_epoch_end(self, epoch, logs=None):
        with self.model.averaged_generator():
            samples = self.model.sample(self.num, seed=self.seed)
        if not np.all(np.isfinite(samples)):
            return  # a NaN loss stopped training; `train` says so
        found = metrics.mode_coverage(samples, self.modes, self.std)
        if logs is not None:
            logs["modes_covered"] = float(found["modes_covered"])
            logs["high_quality"] = float(found["high_quality_fraction"])


class PresetSnapshots(keras.callbacks.Callback):
    """Saves the model as a preset every `every` epochs, before the last.

    Writes `<output_dir>/snapshots/epoch_NNNN/preset/` (a preset folder, as
    `ganzoo.save_preset` writes it: `ganzoo.load`, `ganzoo evaluate` and
    `python -m tools.results validate` read it), with the generator's
    moving average if there is one (`use_ema`), as the run's final preset
    will have it. The card says which epoch (`snapshot`). The last epoch is
    left to the caller (`ganzoo train` writes `preset/` itself). Put it
    before `BackupAndRestore` in the callbacks: an epoch redone after an
    interruption then replaces its snapshot, whole.

    Args:
        output_dir: folder of the run.
        every: epochs between snapshots (1: every epoch).
        card: dict merged into each snapshot's card, or a function
            `(epochs_done, logs) -> dict`.
        extra_files: `{name: text}` written beside each (as
            `save_preset`'s, e.g. the list of the pictures trained on).

    Example:
    >>> model.fit(ds, epochs=100,
    ...           callbacks=[PresetSnapshots("runs/x", 10)])  # doctest: +SKIP
    """

    def __init__(self, output_dir, every, card=None, extra_files=None):
        super().__init__()
        if not isinstance(output_dir, (str, os.PathLike)):
            raise ArgumentError(
                f"output_dir must be a folder path, got {output_dir!r}."
            )
        check_positive_ints(every=every)
        if card is not None and not (callable(card) or isinstance(card, dict)):
            raise ArgumentError(
                f"card must be a dict or a function (epochs, logs) -> dict, "
                f"got {card!r}."
            )
        self.dir = pathlib.Path(output_dir) / SNAPSHOTS_DIR
        self.every = every
        self.card = card
        self.extra_files = extra_files

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1
        total = self.params.get("epochs")
        if done % self.every or done == total or self.model.stop_training:
            return  # the last epoch is the caller's; a diverged one, no one's
        card = self.card(done, logs) if callable(self.card) else self.card
        card = dict(card or {}, snapshot=dict(epoch=done, of_epochs=total))
        with self.model.averaged_generator():
            presets_io.save_preset(
                self.model,
                self.dir / f"epoch_{done:04d}" / "preset",
                card,
                extra_files=self.extra_files,
            )
