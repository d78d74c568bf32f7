"""One epoch of each model on the full MNIST train split, with the loss
curve per step: the "falling, then stable" check of issue 2.

    python benchmarks/one_epoch.py --data_dir=../shared/data

Prints, per model, images/s and the mean losses over successive tenths of
the epoch, and writes benchmarks/results/one_epoch.json.
"""

import json
import pathlib
import time

import keras
import numpy as np
from absl import app, flags

from ganzoo import training

flags.DEFINE_string("data_dir", None, "IDX data folder.")
flags.DEFINE_integer("batch_size", 64, "Batch size.")
FLAGS = flags.FLAGS
REPO = pathlib.Path(__file__).resolve().parents[1]
RUNS = {
    "gan": dict(network="mnist_mlp"),
    "lsgan": dict(network="dcgan_mnist", width=0.5),
    "deligan": dict(network="deligan_mnist"),
}


class StepLosses(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.d, self.g = [], []

    def on_train_batch_end(self, batch, logs=None):
        # Keras logs running means; keep them and difference later.
        self.d.append(float(np.mean(logs["d_loss"])))
        self.g.append(float(np.mean(logs["g_loss"])))


def per_step(running):
    """Per-step values from Keras' running means."""
    running = np.asarray(running)
    n = np.arange(1, len(running) + 1)
    totals = running * n
    return np.diff(totals, prepend=0.0)


def main(argv):
    del argv
    results = {}
    for model_name, extra in RUNS.items():
        cfg = training.TrainConfig(
            model=model_name,
            dataset="mnist",
            epochs=1,
            batch_size=FLAGS.batch_size,
            data_dir=FLAGS.data_dir,
            d_lr=2e-4,
            g_lr=2e-4,
            **extra,
        )
        model = training.build_model(cfg)
        model.compile(
            d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
            g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
        )
        ds = training.make_dataset(cfg)
        rec = StepLosses()
        start = time.perf_counter()
        model.fit(ds, epochs=1, verbose=0, callbacks=[rec])
        seconds = time.perf_counter() - start
        d, g = per_step(rec.d), per_step(rec.g)
        tenths = lambda x: [
            round(float(c.mean()), 3) for c in np.array_split(x, 10)
        ]
        results[model_name] = {
            "network": extra["network"],
            "steps": len(d),
            "images_per_s": round(len(d) * FLAGS.batch_size / seconds, 1),
            "d_loss_by_tenth": tenths(d),
            "g_loss_by_tenth": tenths(g),
        }
        print(model_name, json.dumps(results[model_name]), flush=True)
    out = REPO / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "one_epoch.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    app.run(main)
