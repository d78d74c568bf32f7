"""The input pipeline alone vs the training step it feeds.

Times `ganzoo.datasets.load("mnist", batch_size=256, ...)` (the pipeline
`ganzoo train` builds for the GAN paper's MLP: train[:50000], [0, 1],
shuffled, repeated) consumed inside one graph (`Dataset.reduce`, as `fit`
consumes it, no Python per batch) and from a Python loop; and the MLP
GAN's `fit` on an in-memory batch (the step alone) and on this pipeline
(the two together, one epoch of train[:50000] per fit, as `ganzoo train`
runs it). Measurements alternate; ratios are medians of
per-round ratios.

    python benchmarks/bench_pipeline.py --data_dir=../shared/data

Target: the pipeline is >= 10x faster than training.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import bench_train
import tensorflow as tf

from ganzoo import datasets


def pipeline(data_dir, batch_size, repeat=True):
    return datasets.load(
        "mnist",
        batch_size=batch_size,
        data_dir=data_dir,
        take=50000,
        value_range=(0.0, 1.0),
        seed=0,
        repeat=repeat,
    )


def graph_reader(dataset, batches):
    """A function reading `batches` batches of a fresh iterator in one
    graph (no Python per batch)."""
    return tf.function(
        lambda: dataset.take(batches).reduce(
            tf.constant(0.0), lambda acc, x: acc + x[0, 0, 0, 0]
        )
    )


def graph_rate(reader, batches, batch_size):
    """images/s of one call of a `graph_reader`, shuffle buffer fill
    included (as at the start of every epoch)."""
    start = time.perf_counter()
    reader().numpy()
    return batches * batch_size / (time.perf_counter() - start)


def python_rate(iterator, batches, batch_size):
    """images/s of the pipeline read batch by batch from Python."""
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return batches * batch_size / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data_dir", default=None)
    parser.add_argument("--batch_size", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.5)
    parser.add_argument(
        "--batches", type=int, default=400, help="pipeline batches per timing"
    )
    args = parser.parse_args()
    b = args.batch_size
    ds = pipeline(args.data_dir, b)
    iterator = iter(ds)
    next(iterator)
    # `ganzoo train` without --steps_per_epoch: one pass per epoch.
    epoch_ds = pipeline(args.data_dir, b, repeat=False)
    epoch_steps = 50000 // b
    model, data_range = bench_train.build("gan")
    bench_train.compile_model(model, jit=False)
    fixed = bench_train.fixed_batch_dataset(b, data_range)
    steps = bench_train.calibrate(model, fixed, b, args.seconds)
    fit_rate = bench_train.fit_rate
    reader = graph_reader(ds, args.batches)
    reader()  # traces
    fit_rate(model, epoch_ds, epoch_steps, b)  # traces for this dataset
    timings = [
        ("graph", lambda: graph_rate(reader, args.batches, b)),
        ("python", lambda: python_rate(iterator, args.batches, b)),
        ("step", lambda: fit_rate(model, fixed, steps, b)),
        ("fit_pipeline", lambda: fit_rate(model, epoch_ds, epoch_steps, b)),
    ]
    rates = {key: [] for key, _ in timings}
    for r in range(args.rounds):
        for key, fn in timings if r % 2 == 0 else timings[::-1]:
            rates[key].append(fn())
        print(f"  round {r + 1}/{args.rounds} done", flush=True)

    def ratio(a, b):
        return statistics.median(x / y for x, y in zip(rates[a], rates[b]))

    print(
        f"\nbatch {b}, {args.rounds} alternating rounds, TF "
        f"{tf.__version__}, load average {os.getloadavg()}\n"
    )
    print("| what | images/s (median) |")
    print("|---|---:|")
    labels = {
        "graph": "pipeline alone, read in-graph (`Dataset.reduce`)",
        "python": "pipeline alone, read from a Python loop",
        "step": "MLP GAN `fit`, in-memory batch (train step alone)",
        "fit_pipeline": "MLP GAN `fit`, one epoch of the pipeline",
    }
    for key, label in labels.items():
        print(f"| {label} | {statistics.median(rates[key]):,.0f} |")
    print("\n| ratio (median of per-round ratios) | value |")
    print("|---|---:|")
    print(f"| pipeline in-graph / train step | {ratio('graph', 'step'):.1f}x |")
    print(
        f"| pipeline from Python / train step "
        f"| {ratio('python', 'step'):.1f}x |"
    )
    print(
        f"| fit on pipeline / fit on in-memory batch "
        f"| {ratio('fit_pipeline', 'step'):.3f} |"
    )


if __name__ == "__main__":
    main()
