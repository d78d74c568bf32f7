"""Callbacks for GAN training: crash-safe checkpoints, sample grids, mode
coverage, resumable progress, preset snapshots and a stop on a NaN loss."""

import json
import os
import pathlib
import shutil
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
    when `fit` starts again; the folder deleted when `fit` ends), with two
    differences:
    - a kill at any moment leaves a checkpoint that loads: the weights go
      to a new file, renamed into place, and the checkpoint counts only
      once `checkpoint.json` naming it has been replaced (Keras overwrites
      `latest.weights.h5` in place; a kill during that write leaves a
      file that `load_weights` cannot open, and the run cannot resume);
    - under a multi-worker strategy the workers resume from the same epoch:
      a worker killed while writing is one epoch behind its peers, so each
      keeps its previous checkpoint too, and all load the oldest epoch any
      of them has (with Keras' callback they would start from different
      epochs and their collectives would no longer pair up).
    A folder written by Keras' callback (`training_metadata.json`) resumes.

    Files in `backup_dir`: `checkpoint.json` (`{"epoch", "weights",
    "previous"}`) and the one or two `epoch_NNNN.weights.h5` it names.

    Args:
        backup_dir: a folder for this run's checkpoints only.

    Example:
    >>> model.fit(ds, epochs=20,
    ...           callbacks=[BackupAndRestore("runs/x/backup")])  # doctest: +SKIP
    """

    STATE_FILE = "checkpoint.json"
    _KERAS_STATE = "training_metadata.json"
    _KERAS_WEIGHTS = "latest.weights.h5"

    def __init__(self, backup_dir):
        super().__init__()
        if not isinstance(backup_dir, (str, os.PathLike)) or not str(
            backup_dir
        ):
            raise ArgumentError(
                f"backup_dir must be a folder path, got {backup_dir!r}."
            )
        self.dir = pathlib.Path(backup_dir)
        self._last = None  # the checkpoint loaded or last written

    def _state(self):
        """The committed checkpoint: `{"epoch", "weights", "previous"}`
        (`previous`: the one before, or None), or None if there is none."""
        path = self.dir / self.STATE_FILE
        if path.exists():
            return json.loads(path.read_text())
        keras_state = self.dir / self._KERAS_STATE
        if keras_state.exists() and (self.dir / self._KERAS_WEIGHTS).exists():
            epoch = json.loads(keras_state.read_text())["epoch"]
            return {
                "epoch": epoch,
                "weights": self._KERAS_WEIGHTS,
                "previous": None,
            }
        return None

    def on_train_begin(self, logs=None):
        if not self.model.built:
            raise ValueError(
                f"BackupAndRestore needs a built model before fit(); "
                f"{self.model.name} is not built: call it on a batch first."
            )
        state = self._state()
        # Each checkpoint this worker can load, by epoch (0: none).
        loadable = {0: None}
        while state:
            loadable[state["epoch"]] = state["weights"]
            state = state.get("previous")
        epoch = self._agreed_epoch(max(loadable))
        if epoch not in loadable:
            raise RuntimeError(
                f"Cannot resume: another worker's last checkpoint is of "
                f"epoch {epoch}, and {self.dir} holds epochs "
                f"{sorted(e for e in loadable if e)}. Delete every "
                f"worker's backup folder to train from the start."
            )
        if epoch:
            optimizer = getattr(self.model, "optimizer", None)
            if optimizer is not None and not optimizer.built:
                optimizer.build(self.model.trainable_variables)
            self.model.load_weights(self.dir / loadable[epoch])
            self._last = {"epoch": epoch, "weights": loadable[epoch]}
        # Keras' own callback resumes `fit` through this attribute.
        self.model._initial_epoch = epoch

    def _agreed_epoch(self, epoch):
        """The oldest of the workers' last epochs (`epoch` if one worker)."""
        strategy = self.model.distribute_strategy
        if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
            return epoch
        mine = strategy.run(lambda: tf.constant([epoch], tf.int32))
        return int(tf.reduce_min(strategy.gather(mine, axis=0)))

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1
        self.dir.mkdir(parents=True, exist_ok=True)
        name = f"epoch_{done:04d}.weights.h5"
        with _atomic.temp_path_for(self.dir / name, ".weights.h5") as tmp:
            self.model.save_weights(tmp)
        previous = self._last
        state = {"epoch": done, "weights": name, "previous": previous}
        _atomic.write_text(self.dir / self.STATE_FILE, json.dumps(state))
        self._last = {"epoch": done, "weights": name}
        # Committed: what it no longer names goes (Keras' files, older
        # epochs, the temporary files of writes killed before).
        keep = {self.STATE_FILE, name, previous and previous["weights"]}
        for path in self.dir.iterdir():
            if path.name not in keep and path.is_file():
                path.unlink(missing_ok=True)

    def on_train_end(self, logs=None):
        shutil.rmtree(self.dir, ignore_errors=True)


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
    any moment and resumed by `BackupAndRestore` reports its total time.

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
