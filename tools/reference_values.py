"""Measures the real-data reference values of each image dataset with
presets, and writes them to `ganzoo/reference_values.json`
(`ganzoo.metrics.REFERENCE_VALUES`; RESULTS.md shows them):

    python -m tools.reference_values --data_dir=../shared/data \\
        [--datasets=mnist,fashion_mnist]

Per dataset, with its shipped reference classifier: the test set's
classifier score and modified inception score; Frechet distances (logits,
penultimate features) of train[:10000] vs the test set, of the two ordered
test halves and of two random halves (seed 0); the GAN paper's Parzen
log-likelihood with train[:10000] as the samples (the estimator's ceiling).
"""

import json
import pathlib
import time

import numpy as np
from absl import app, flags

from ganzoo import classifier, datasets, metrics, zoo

REPO = pathlib.Path(__file__).resolve().parents[1]
OUT = REPO / "ganzoo" / "reference_values.json"

flags.DEFINE_list("datasets", list(datasets.IMAGE_NAMES), "Datasets.")
flags.DEFINE_string("data_dir", None, "Folder of the IDX files.")
FLAGS = flags.FLAGS


def measure(name, data_dir):
    """The reference values of dataset `name` (a dict)."""
    model = zoo.load(name.replace("_", "-") + "-classifier")
    test, labels = datasets.load_arrays(name, "test", data_dir=data_dir)
    train, _ = datasets.load_arrays(name, "train", data_dir=data_dir)
    logits, feats, _ = classifier.features(model, test)
    train_logits, train_feats, _ = classifier.features(model, train[:10000])
    perm = np.random.default_rng(0).permutation(len(test))
    a, b = perm[:5000], perm[5000:]
    start = time.perf_counter()
    parzen = metrics.mnist_parzen(
        train[:10000].reshape(-1, 784) / 255.0, data_dir=data_dir, dataset=name
    )
    fd = metrics.frechet_distance
    return {
        "test_accuracy": float((logits.argmax(1) == labels).mean()),
        "classifier_score": float(metrics.classifier_score(logits, True)),
        "modified_inception_score": float(
            metrics.modified_inception_score(logits, from_logits=True)
        ),
        "frechet_distance": float(fd(train_logits, logits)),
        "frechet_distance_penultimate": float(fd(train_feats, feats)),
        "frechet_distance_test_halves": float(fd(logits[:5000], logits[5000:])),
        "frechet_distance_random_test_halves": float(fd(logits[a], logits[b])),
        "frechet_distance_penultimate_random_test_halves": float(
            fd(feats[a], feats[b])
        ),
        "parzen": {
            "mean": round(float(parzen["mean"]), 1),
            "stderr": round(float(parzen["stderr"]), 1),
            "sigma": float(parzen["sigma"]),
            "wall_time_s": round(time.perf_counter() - start, 1),
        },
        "command": "python -m tools.reference_values --datasets=" + name,
    }


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments {argv[1:]}.")
    values = json.loads(OUT.read_text()) if OUT.exists() else {}
    for name in FLAGS.datasets:
        values[name] = measure(name, FLAGS.data_dir)
        print(name, json.dumps(values[name], indent=1))
    OUT.write_text(json.dumps(values, indent=1, sort_keys=True) + "\n")
    print(f"Wrote {OUT}")


if __name__ == "__main__":
    app.run(main)
