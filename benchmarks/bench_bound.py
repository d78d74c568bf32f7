"""How close to the matmul rate can the MLP GAN step get? A time budget.

One process, alternating rounds, medians. Each round measures:

- the square-matmul rate (GFLOP/s, `bench_train.Matmul`);
- the step's 36 matmuls alone at the step's shapes, in one XLA-compiled
  graph (`bench_profile.mlp_matmul_shapes`);
- one update of both optimizers on the MLP GAN's 3.75 M parameters with
  random gradients, XLA-compiled: Adam (the presets') and SGD with
  momentum (the GAN paper's);
- the full `fit` step with XLA, with Adam and with SGD + momentum.

A step must at least do its matmuls and its optimizer updates, one after
the other (the update needs the gradients; both use both cores), so

    bound = step FLOPs / (t_matmuls + t_update) / matmul rate

is the most the step's fraction of the matmul rate can be, before dropout,
maxout, the losses and the noise are counted.

    python benchmarks/bench_bound.py              # batch 256, 5 rounds
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import bench_profile
import bench_train
import keras
import tensorflow as tf

OPTIMIZERS = ("adam", "sgd")


def _time_call(fn, seconds):
    """Seconds per call of `fn` (called until `seconds` have passed)."""
    fn()
    reps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        reps += 1
    return (time.perf_counter() - start) / reps


def matmuls_alone(batch_size):
    """`(flops, fn)`: the step's matmuls in one XLA graph."""
    shapes = bench_profile.mlp_matmul_shapes(batch_size)
    operands = [
        (tf.random.normal((m, k)), tf.random.normal((k, n)))
        for m, k, n in shapes
    ]
    run = tf.function(
        lambda ops: tf.add_n([tf.reduce_sum(tf.matmul(a, b)) for a, b in ops]),
        jit_compile=True,
    )
    return sum(2 * m * k * n for m, k, n in shapes), (
        lambda: run(operands).numpy()
    )


def update_alone(optimizer_name):
    """`fn`: one XLA-compiled update of both optimizers of the MLP GAN."""
    model, _ = bench_train.build("gan")
    bench_train.compile_model(model, jit=True, optimizer=optimizer_name)
    pairs = [
        (model.d_optimizer, model.discriminator.trainable_variables),
        (model.g_optimizer, model.generator_variables),
    ]
    grads = [[tf.random.normal(v.shape) * 1e-3 for v in vs] for _, vs in pairs]

    @tf.function(jit_compile=True)
    def apply():
        for (opt, vs), gs in zip(pairs, grads):
            opt.apply(gs, vs)
        return model.g_optimizer.iterations

    return lambda: apply().numpy()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch_size", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    b = args.batch_size
    matmul = bench_train.Matmul()
    mm_flops, mm_fn = matmuls_alone(b)
    updates = {name: update_alone(name) for name in OPTIMIZERS}
    steps = {}
    for name in OPTIMIZERS:
        model, data_range = bench_train.build("gan")
        bench_train.compile_model(model, jit=True, optimizer=name)
        data = bench_train.fixed_batch_dataset(b, data_range)
        n = bench_train.calibrate(model, data, b, 1.5)
        steps[name] = (model, data, n)
    flops = b * bench_train.step_flops(steps["adam"][0])[1]
    rows = {
        k: []
        for k in [
            "rate",
            "mm",
            *[f"upd_{o}" for o in OPTIMIZERS],
            *[f"step_{o}" for o in OPTIMIZERS],
        ]
    }
    for r in range(args.rounds):
        jobs = [("mm", mm_fn)] + [(f"upd_{o}", updates[o]) for o in OPTIMIZERS]
        for key, fn in jobs if r % 2 == 0 else jobs[::-1]:
            rows["rate"].append(matmul())
            rows[key].append(_time_call(fn, args.seconds))
        for o in OPTIMIZERS:
            model, data, n = steps[o]
            rows[f"step_{o}"].append(
                b / bench_train.fit_rate(model, data, n, b)
            )
        print(f"  round {r + 1}/{args.rounds} done", flush=True)
    med = {k: statistics.median(v) for k, v in rows.items()}
    rate = med["rate"] * 1e9
    print(
        f"\nMLP GAN, batch {b}, XLA, {keras.__version__=}, "
        f"load average {os.getloadavg()}\n"
    )
    print(
        f"square-matmul rate: {med['rate']:.0f} GFLOP/s; step: "
        f"{flops / 1e9:.2f} GFLOP; at that rate a step takes "
        f"{1e3 * flops / rate:.1f} ms\n"
    )
    print("| part (XLA, median) | ms | fraction bound |")
    print("|---|---:|---:|")
    print(
        f"| the step's matmuls alone ({mm_flops / 1e9:.2f} GFLOP) "
        f"| {1e3 * med['mm']:.1f} | {mm_flops / med['mm'] / rate:.1%} |"
    )
    for o in OPTIMIZERS:
        t = med["mm"] + med[f"upd_{o}"]
        print(
            f"| {o} update of both nets | {1e3 * med[f'upd_{o}']:.1f} "
            f"| matmuls + update: {flops / t / rate:.1%} |"
        )
    for o in OPTIMIZERS:
        t = med[f"step_{o}"]
        print(
            f"| full fit step, {o} | {1e3 * t:.1f} "
            f"| achieved: {flops / t / rate:.1%} |"
        )


if __name__ == "__main__":
    main()
