"""Times the GAN paper's Parzen protocol on real MNIST (the real data's
other reference values are measured by `python -m tools.reference_values`).

    python benchmarks/bench_parzen.py --data_dir=../shared/data

Parzen: samples = train[:10000] (real images, the ceiling of the
estimator), valid = train[50000:51000], test = the 10,000 test images,
sigma from logspace(-1, 0, 10). Prints one JSON object.
"""

import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags

from ganzoo import datasets, metrics

flags.DEFINE_string("data_dir", None, "Folder of the MNIST IDX files.")
flags.DEFINE_integer("num_samples", 10000, "Real train images as samples.")
FLAGS = flags.FLAGS


def parzen_reference(data_dir, num_samples):
    train, _ = datasets.load_arrays("mnist", "train", data_dir=data_dir)
    samples = train[:num_samples].reshape(-1, 784) / 255.0
    start = time.perf_counter()
    result = metrics.mnist_parzen(samples, data_dir=data_dir)
    result["wall_time_s"] = round(time.perf_counter() - start, 2)
    result["num_samples"] = num_samples
    return result


def main(argv):
    del argv
    out = {"parzen": parzen_reference(FLAGS.data_dir, FLAGS.num_samples)}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    app.run(main)
