"""Is there per-step Python overhead in `fit`? Two checks on the MLP GAN.

1. Wall time per step with `steps_per_execution=1` vs `10` (one Python
   call into the TF executor per step vs per 10 steps), alternating,
   median of per-round ratios: ~1.00 means the per-call cost (Python and
   the executor's own per-call work) is not measurable.
2. A sampling profile of `fit` (py-spy style: a thread records the main
   thread's innermost Python frame every 2 ms): the share of samples
   inside the call that runs the traced train function
   (`execute.quick_execute`, i.e. `TFE_Py_Execute`, which releases the
   GIL) and where the rest goes. cProfile is not used: its hooks distort
   this workload (it reported 4.5 s of `fit` self time for a 5.7 s run).
3. The ceiling: the step's 36 matmuls alone, at the step's shapes, in one
   graph, as a fraction of the square-matmul rate (paired, median).

    python benchmarks/bench_profile.py            # batch 256, 5 rounds
    python benchmarks/bench_profile.py --batch_size 64 --jit
"""

import argparse
import collections
import os
import statistics
import sys
import threading
import time
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import bench_train
import tensorflow as tf

EXECUTOR = "quick_execute"  # tensorflow/python/eager/execute.py


def spe_comparison(batch_size, rounds, seconds, jit):
    runs = {}
    for spe in (1, 10):
        model, data_range = bench_train.build("gan")
        bench_train.compile_model(model, jit, steps_per_execution=spe)
        data = bench_train.fixed_batch_dataset(batch_size, data_range)
        steps = bench_train.calibrate(model, data, batch_size, seconds, 10)
        runs[spe] = dict(model=model, data=data, steps=steps, rates=[])
    for r in range(rounds):
        for spe in (1, 10) if r % 2 == 0 else (10, 1):
            run = runs[spe]
            run["rates"].append(
                bench_train.fit_rate(
                    run["model"], run["data"], run["steps"], batch_size
                )
            )
    ratios = [a / b for a, b in zip(runs[10]["rates"], runs[1]["rates"])]
    ms = {
        spe: 1e3 * batch_size / statistics.median(run["rates"])
        for spe, run in runs.items()
    }
    return ms, ratios


class Sampler(threading.Thread):
    """Counts the innermost Python frame of thread `ident` every
    `interval` seconds."""

    def __init__(self, ident, interval=0.002):
        super().__init__(daemon=True)
        self.target, self.interval = ident, interval
        self.counts = collections.Counter()
        self.running = True

    def run(self):
        while self.running:
            frame = sys._current_frames().get(self.target)
            if frame is not None:
                top = traceback.extract_stack(frame, limit=1)[-1]
                where = top.filename.split("site-packages/")[-1]
                self.counts[f"{where}:{top.lineno} {top.name}"] += 1
            time.sleep(self.interval)


def sample_fit(batch_size, steps, jit):
    model, data_range = bench_train.build("gan")
    bench_train.compile_model(model, jit)
    data = bench_train.fixed_batch_dataset(batch_size, data_range)
    bench_train.calibrate(model, data, batch_size, 0.5)
    sampler = Sampler(threading.get_ident())
    sampler.start()
    start = time.perf_counter()
    model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)
    wall = time.perf_counter() - start
    sampler.running = False
    sampler.join()
    return wall, sampler.counts


def mlp_matmul_shapes(batch_size):
    """`(m, k, n)` of every matmul in one MLP GAN train step (the exact
    count of bench_train.step_flops: 36 matmuls)."""
    g = [(100, 1200), (1200, 1200), (1200, 784)]
    d = [(784, 1200), (240, 1200), (240, 1)]

    def fwd(net):
        return [(batch_size, i, o) for i, o in net]

    def bwd(net, first_dx):
        weights = [(i, batch_size, o) for i, o in net]  # x^T dy
        inputs = [
            (batch_size, o, i) for j, (i, o) in enumerate(net) if j or first_dx
        ]  # dy W^T
        return weights + inputs

    d_step = fwd(g) + 2 * (fwd(d) + bwd(d, False))
    return d_step + fwd(g) + fwd(d) + bwd(d, True) + bwd(g, False)


def matmul_ceiling(batch_size, rounds, matmul):
    """The step's matmuls alone (one graph, random operands) as a fraction
    of the square-matmul rate: the most the full step could reach."""
    shapes = mlp_matmul_shapes(batch_size)
    flops = sum(2 * m * k * n for m, k, n in shapes)
    operands = [
        (tf.random.normal((m, k)), tf.random.normal((k, n)))
        for m, k, n in shapes
    ]
    run = tf.function(
        lambda ops: tf.add_n([tf.reduce_sum(tf.matmul(a, b)) for a, b in ops])
    )
    run(operands).numpy()
    fractions = []
    for _ in range(rounds):
        gflops = matmul()
        start, reps = time.perf_counter(), 0
        while time.perf_counter() - start < 1.0:
            run(operands).numpy()
            reps += 1
        rate = flops * reps / (time.perf_counter() - start) / 1e9
        fractions.append(rate / gflops)
    return len(shapes), flops, fractions


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch_size", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--profile_steps", type=int, default=200)
    parser.add_argument("--jit", action="store_true")
    args = parser.parse_args()
    b, steps = args.batch_size, args.profile_steps
    ms, ratios = spe_comparison(b, args.rounds, args.seconds, args.jit)
    wall, counts = sample_fit(b, steps, args.jit)
    count, flops, ceiling = matmul_ceiling(b, args.rounds, bench_train.Matmul())
    total = sum(counts.values())
    inside = sum(n for k, n in counts.items() if k.endswith(EXECUTOR))
    outside_ms = 1e3 * wall * (1 - inside / total) / steps
    print(
        f"\nMLP GAN, batch {b}, XLA {'on' if args.jit else 'off'}, "
        f"load average {os.getloadavg()}\n"
    )
    print("| check | result |")
    print("|---|---:|")
    print(f"| ms/step, steps_per_execution=1 (median) | {ms[1]:.1f} |")
    print(f"| ms/step, steps_per_execution=10 (median) | {ms[10]:.1f} |")
    print(
        f"| speed spe=10 / spe=1, median of {len(ratios)} rounds "
        f"| {statistics.median(ratios):.3f} "
        f"(min {min(ratios):.3f}, max {max(ratios):.3f}) |"
    )
    print(
        f"| sampled fit of {steps} steps: wall | {wall:.2f} s "
        f"({1e3 * wall / steps:.1f} ms/step) |"
    )
    print(
        f"| samples inside the TF executor call | {inside / total:.1%} "
        f"of {total} |"
    )
    print(f"| main thread outside it, per step | {outside_ms:.2f} ms |")
    print(
        f"| the step's {count} matmuls alone ({flops / 1e9:.2f} GFLOP), "
        f"fraction of the square-matmul rate (median of {len(ceiling)}) "
        f"| {statistics.median(ceiling):.1%} |"
    )
    print("\nWhere the main thread was (top frames):\n")
    for key, n in counts.most_common(8):
        print(f"- {n / total:6.1%} `{key}`")


if __name__ == "__main__":
    main()
