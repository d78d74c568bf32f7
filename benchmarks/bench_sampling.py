"""Sampling throughput: the Keras model vs its exported SavedModel.

For each model, times `model.sample(n, seed)` (eager Keras) and the
`sample` signature of `ganzoo.export.export_saved_model` (a graph function,
what TF Serving runs), alternating the two so both see the same machine
load, and prints a markdown table of the median images per second. The two
paths are given the same seed (`[seed, SAMPLE_STREAM]`), so their outputs
must agree; the table shows the largest difference.

    python benchmarks/bench_sampling.py            # n=1000, 11 runs each
    python benchmarks/bench_sampling.py --n 256 --runs 3 --models gan

Weights are random (throughput does not depend on training).
"""

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf

import ganzoo
from ganzoo import export, networks


def build(name):
    """The two mid-size paper models: GAN's MNIST MLP (latent 100) and
    DeLiGAN's MNIST conv nets (latent 30, 50 components)."""
    if name == "gan":
        return ganzoo.GAN(
            generator=networks.mnist_mlp_generator(latent_dim=100),
            discriminator=networks.mnist_maxout_discriminator(),
            latent_dim=100,
            data_range=(0.0, 1.0),
            seed=0,
        )
    if name == "deligan":
        return ganzoo.DeLiGAN(
            generator=networks.deligan_mnist_generator(latent_dim=30),
            discriminator=networks.deligan_mnist_discriminator(),
            latent_dim=30,
            num_components=50,
            seed=0,
        )
    raise ValueError(f"unknown model {name!r}; use gan or deligan.")


def bench(name, n, runs, workdir):
    model = build(name)
    path = export.export_saved_model(
        model, os.path.join(workdir, name), max_samples=max(n, 1024)
    )
    signature = tf.saved_model.load(path).signatures["sample"]

    def keras_sample(seed):
        return model.sample(n, seed=seed)

    def served_sample(seed):
        out = signature(
            num_samples=tf.constant(n),
            seed=tf.constant([seed, export.SAMPLE_STREAM]),
        )
        return out["images"].numpy()

    # Warm-up (tracing, allocation), and the two must agree.
    diff = float(np.max(np.abs(keras_sample(0) - served_sample(0))))
    times = {"keras": [], "saved_model": []}
    for run in range(runs):
        order = [("keras", keras_sample), ("saved_model", served_sample)]
        for key, fn in order if run % 2 == 0 else order[::-1]:
            start = time.perf_counter()
            fn(run + 1)
            times[key].append(time.perf_counter() - start)
    rates = {k: n / statistics.median(v) for k, v in times.items()}
    params = model.generator.count_params()
    if hasattr(model, "mixture"):
        params += model.mixture.count_params()
    return type(model).__name__, params, rates, diff


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="samples/call")
    parser.add_argument("--runs", type=int, default=11, help="runs per path")
    parser.add_argument("--models", default="gan,deligan")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for name in args.models.split(","):
            rows.append(bench(name, args.n, args.runs, workdir))
    print(
        f"\nn = {args.n} samples per call, median of {args.runs} alternating "
        f"runs, TF {tf.__version__}, {os.cpu_count()} CPUs\n"
    )
    print(
        "| model | G params | Keras `model.sample` (img/s) "
        "| SavedModel `sample` (img/s) | ratio | max abs diff |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for cls, params, rates, diff in rows:
        ratio = rates["saved_model"] / rates["keras"]
        print(
            f"| {cls} | {params:,} | {rates['keras']:,.0f} "
            f"| {rates['saved_model']:,.0f} | {ratio:.2f}x | {diff:.1e} |"
        )


if __name__ == "__main__":
    main()
