"""Times the GAN paper's Parzen protocol and measures the metrics' reference
values on real MNIST (the numbers quoted in `ganzoo/metrics.py`).

    python benchmarks/bench_parzen.py --data_dir=../shared/data
    python benchmarks/bench_parzen.py --data_dir=../shared/data --reference

Parzen: samples = train[:10000] (real images, the ceiling of the
estimator), valid = train[50000:51000], test = the 10,000 test images,
sigma from logspace(-1, 0, 10). Prints one JSON object.
"""

import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from absl import app, flags

from ganzoo import classifier, datasets, metrics

flags.DEFINE_string("data_dir", None, "Folder of the MNIST IDX files.")
flags.DEFINE_integer("num_samples", 10000, "Real train images as samples.")
flags.DEFINE_bool("reference", False, "Also the classifier-based values.")
FLAGS = flags.FLAGS


def parzen_reference(data_dir, num_samples):
    train, _ = datasets.load_arrays("mnist", "train", data_dir=data_dir)
    samples = train[:num_samples].reshape(-1, 784) / 255.0
    start = time.perf_counter()
    result = metrics.mnist_parzen(samples, data_dir=data_dir)
    result["wall_time_s"] = round(time.perf_counter() - start, 2)
    result["num_samples"] = num_samples
    return result


def classifier_reference(data_dir):
    model = metrics._default_classifier("mnist")
    test, labels = datasets.load_arrays("mnist", "test", data_dir=data_dir)
    logits, feats, _ = classifier.features(model, test)
    noise = np.random.default_rng(0).random((10000, 28, 28, 1))
    noise_logits, noise_feats, _ = classifier.features(model, noise)
    train, _ = datasets.load_arrays("mnist", "train", data_dir=data_dir)
    train_logits, train_feats, _ = classifier.features(model, train[:10000])
    perm = np.random.default_rng(0).permutation(len(test))
    score, std = metrics.classifier_score(logits, True, 10, True)
    return {
        "test_accuracy": float((logits.argmax(1) == labels).mean()),
        "classifier_score_test": metrics.classifier_score(logits, True),
        "classifier_score_test_10_splits": [score, std],
        "fd_logits_halves": metrics.frechet_distance(
            logits[:5000], logits[5000:]
        ),
        "fd_penultimate_halves": metrics.frechet_distance(
            feats[:5000], feats[5000:]
        ),
        "fd_logits_random_halves": metrics.frechet_distance(
            logits[perm[:5000]], logits[perm[5000:]]
        ),
        "fd_logits_train10k_vs_test": metrics.frechet_distance(
            train_logits, logits
        ),
        "fd_penultimate_train10k_vs_test": metrics.frechet_distance(
            train_feats, feats
        ),
        "fd_logits_vs_noise": metrics.frechet_distance(logits, noise_logits),
        "fd_penultimate_vs_noise": metrics.frechet_distance(feats, noise_feats),
        "modified_inception_score_test": metrics.modified_inception_score(
            logits, from_logits=True
        ),
    }


def main(argv):
    del argv
    out = {"parzen": parzen_reference(FLAGS.data_dir, FLAGS.num_samples)}
    if FLAGS.reference:
        out["classifier"] = classifier_reference(FLAGS.data_dir)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    app.run(main)
