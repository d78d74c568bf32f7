"""Callbacks for GAN training: sample grids, mode coverage, resumable
progress, preset snapshots and a stop on a NaN loss."""

import json
import os
import pathlib
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
    "ModeCoverage",
    "PresetSnapshots",
    "ProgressRecorder",
    "SampleGrid",
    "TerminateOnNaNLoss",
]


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
