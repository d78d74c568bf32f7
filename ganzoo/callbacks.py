"""Callbacks for GAN training: sample grids and resumable progress."""

import json
import pathlib
import time

import keras
import numpy as np
import tensorflow as tf

from ganzoo import _atomic, images

__all__ = ["ProgressRecorder", "SampleGrid"]


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
        self.dir = pathlib.Path(output_dir) / "samples"
        self.num = num
        self.seed = seed
        self._writer = None
        self._tb_dir = str(pathlib.Path(output_dir) / "tensorboard" / "samples")

    def on_epoch_end(self, epoch, logs=None):
        self.dir.mkdir(parents=True, exist_ok=True)
        with self.model.averaged_generator():
            samples = self.model.sample(self.num, seed=self.seed)
        picture = images.samples_to_image(samples)
        images.save_png(picture, self.dir / f"epoch_{epoch + 1:03d}.png")
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self._tb_dir)
        pic = picture if picture.ndim == 3 else picture[..., None]
        with self._writer.as_default():
            tf.summary.image("samples", pic[None], step=epoch + 1)
        self._writer.flush()


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

    def on_epoch_end(self, epoch, logs=None):
        self.state["wall_time_s"] += time.perf_counter() - self._start
        self.state["epochs_done"] = epoch + 1
        self.state["last_logs"] = {
            k: float(np.mean(v)) for k, v in (logs or {}).items()
        }
        if self.path is not None:
            _atomic.write_text(self.path, json.dumps(self.state, indent=1))
