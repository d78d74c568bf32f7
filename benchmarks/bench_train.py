"""Training throughput of `fit` against this process's dense matmul rate.

For GAN (the paper's MNIST MLP + maxout nets), LSGAN (DCGAN-style nets, 32
filters) and DeLiGAN (its MNIST conv nets), at each batch size, with and
without XLA, times `fit` on an in-memory batch (so the input pipeline costs
nothing: see bench_pipeline.py for it) and converts images/s into an
achieved FLOP rate with the step's analytic FLOP count. Each fit is paired
with a dense float32 matmul measured just before it in the same process
(same threads), and the table gives the median of the per-pair ratios: the
machine's absolute speed drifts, ratios measured seconds apart do not.

A plain keras.io-style GAN (`PlainGAN` below: two tapes, `keras.random`
with a SeedGenerator, built-in `BinaryCrossentropy`; none of ganzoo's
strategy-invariant noise or loss scaling) trains the same MLP nets in the
same rounds, so ganzoo / plain is a median of per-round ratios too. Every
round visits the configurations in an order reversed every other round.

    python benchmarks/bench_train.py                  # full run, ~10 min
    python benchmarks/bench_train.py --rounds 2 --seconds 0.5 \\
        --models gan,plain --batch_sizes 64 --jit off  # smoke test

FLOPs: a net's forward pass costs 2 x its matmul/conv multiply-adds
(`forward_macs`; activations, dropout, maxout's max, batch norm and the
minibatch-discrimination distances are not counted). A backward pass costs
2 x forward (input and weight gradients), except the first layer's input
gradient when nothing needs it. With k = d_steps (1 here):
  D step = k x [G fwd + D fwd/bwd on the real batch + D fwd/bwd on the fake]
  G step = G fwd/bwd + D fwd/bwd (D's input gradient is needed here)
"""

import argparse
import itertools
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf

import ganzoo
from ganzoo import layers as glayers
from ganzoo import networks

MODELS = ("gan", "plain", "lsgan", "deligan")


# ------------------------------------------------------------------ models
@keras.saving.register_keras_serializable(package="bench")
class PlainGAN(keras.Model):
    """The keras.io idiom, nothing more: the comparison point for GAN."""

    def __init__(self, generator, discriminator, latent_dim, seed=0):
        super().__init__()
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.built = True

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        super().compile(optimizer=None, **kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        d_optimizer.build(self.discriminator.trainable_variables)
        g_optimizer.build(self.generator.trainable_variables)

    def train_step(self, real):
        batch = tf.shape(real)[0]
        shape = (batch, self.latent_dim)
        z = keras.random.normal(shape, seed=self.seed_generator)
        fake = self.generator(z, training=True)
        d_vars = self.discriminator.trainable_variables
        with tf.GradientTape() as tape:
            real_out = self.discriminator(real, training=True)
            fake_out = self.discriminator(fake, training=True)
            d_loss = self.loss_fn(
                tf.ones_like(real_out), real_out
            ) + self.loss_fn(tf.zeros_like(fake_out), fake_out)
        self.d_optimizer.apply(tape.gradient(d_loss, d_vars), d_vars)

        z = keras.random.normal(shape, seed=self.seed_generator)
        g_vars = self.generator.trainable_variables
        with tf.GradientTape() as tape:
            fake_out = self.discriminator(
                self.generator(z, training=True), training=True
            )
            g_loss = self.loss_fn(tf.ones_like(fake_out), fake_out)
        self.g_optimizer.apply(tape.gradient(g_loss, g_vars), g_vars)
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {m.name: m.result() for m in self.metrics}


def build(name, seed=0, policy="float32"):
    """`(model, data_range)` of a benchmark configuration, its layers built
    under the dtype `policy`."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        return _build(name, seed)
    finally:
        keras.mixed_precision.set_global_policy(previous)


def _build(name, seed):
    keras.utils.set_random_seed(seed)
    if name in ("gan", "plain"):
        g = networks.mnist_mlp_generator(latent_dim=100)
        d = networks.mnist_maxout_discriminator()
        if name == "plain":
            return PlainGAN(g, d, latent_dim=100, seed=seed), (0.0, 1.0)
        model = ganzoo.GAN(
            generator=g,
            discriminator=d,
            latent_dim=100,
            latent_distribution="uniform",
            data_range=(0.0, 1.0),
            seed=seed,
        )
        return model, (0.0, 1.0)
    if name == "lsgan":
        model = ganzoo.LSGAN(
            generator=networks.dcgan_mnist_generator(100, filters=32),
            discriminator=networks.dcgan_mnist_discriminator(filters=32),
            latent_dim=100,
            seed=seed,
        )
        return model, (-1.0, 1.0)
    if name == "deligan":
        model = ganzoo.DeLiGAN(
            generator=networks.deligan_mnist_generator(latent_dim=30),
            discriminator=networks.deligan_mnist_discriminator(),
            latent_dim=30,
            num_components=50,
            seed=seed,
        )
        return model, (-1.0, 1.0)
    raise ValueError(f"unknown model {name!r}; choose from {MODELS}.")


OPTIMIZERS = {
    # The presets' optimizer.
    "adam": lambda: keras.optimizers.Adam(2e-4, beta_1=0.5),
    # The GAN paper's: SGD with momentum (one slot instead of two, and
    # about a quarter of Adam's element-wise passes per update).
    "sgd": lambda: keras.optimizers.SGD(0.1, momentum=0.5),
}


def compile_model(model, jit, steps_per_execution=1, optimizer="adam"):
    if optimizer not in OPTIMIZERS:
        raise ValueError(
            f"unknown optimizer {optimizer!r}; choose from {list(OPTIMIZERS)}."
        )
    model.compile(
        d_optimizer=OPTIMIZERS[optimizer](),
        g_optimizer=OPTIMIZERS[optimizer](),
        jit_compile=jit,
        steps_per_execution=steps_per_execution,
    )
    return model


# ------------------------------------------------------------------- FLOPs
def _layer_macs(layer):
    """`(macs, first_input_grad_macs)` per example of one layer."""
    if isinstance(layer, keras.Model):
        return forward_macs(layer), 0
    if isinstance(layer, glayers.MixtureLatent):  # two one-hot matmuls
        return 2 * layer.num_components * layer.mu.shape[1], 0
    if isinstance(layer, keras.layers.InputLayer):
        return 0, 0
    x, y = layer.input.shape, layer.output.shape
    if isinstance(layer, keras.layers.Dense):
        macs = int(np.prod(x[1:])) * layer.units
    elif isinstance(layer, glayers.Maxout):
        macs = x[-1] * layer.units * layer.pieces
    elif isinstance(layer, glayers.MinibatchDiscrimination):
        macs = x[-1] * layer.num_kernels * layer.kernel_dim
    elif isinstance(layer, keras.layers.Conv2DTranspose):
        kh, kw = layer.kernel_size
        macs = x[1] * x[2] * kh * kw * x[3] * layer.filters
    elif isinstance(layer, keras.layers.Conv2D):
        kh, kw = layer.kernel_size
        macs = y[1] * y[2] * kh * kw * x[3] * layer.filters
    else:
        return 0, 0
    return macs, macs


def forward_macs(net):
    """Multiply-adds of one example's forward pass through `net`."""
    return sum(_layer_macs(layer)[0] for layer in net.layers)


def _first_layer_macs(net):
    for layer in net.layers:
        macs, first = _layer_macs(layer)
        if macs:
            return first
    return 0


def step_flops(model, d_steps=1):
    """`(nominal, exact)` FLOPs per example of one train step.

    nominal: backward = 2 x forward everywhere. exact: without the first
    layer's input gradient where nothing needs it (D's in the D step, whose
    inputs are data and a G output computed outside the tape; G's, unless
    a DeLiGAN mixture sits below it).
    """
    g_fwd = 2 * forward_macs(model.generator)
    if hasattr(model, "mixture"):
        g_fwd += 2 * _layer_macs(model.mixture)[0]
    d_fwd = 2 * forward_macs(model.discriminator)
    nominal = d_steps * (g_fwd + 2 * 3 * d_fwd) + 3 * g_fwd + 3 * d_fwd
    unused = d_steps * 2 * 2 * _first_layer_macs(model.discriminator)
    if not hasattr(model, "mixture"):  # DeLiGAN trains mu, sigma through z
        unused += 2 * _first_layer_macs(model.generator)
    return nominal, nominal - unused


# ------------------------------------------------------------------ timers
class Matmul:
    """Dense float32 matmul GFLOP/s: the best of square sizes `sizes`,
    each a `tf.function` called until `seconds` have passed."""

    def __init__(self, sizes=(1024, 2048), seconds=0.3):
        self.seconds = seconds
        self.fn = tf.function(lambda a, b: tf.reduce_sum(tf.matmul(a, b)))
        self.args = {}
        for n in sizes:
            a, b = tf.random.normal((n, n)), tf.random.normal((n, n))
            self.fn(a, b).numpy()
            self.args[n] = (a, b)

    def __call__(self):
        best = 0.0
        for n, (a, b) in self.args.items():
            reps, start = 0, time.perf_counter()
            while time.perf_counter() - start < self.seconds:
                self.fn(a, b).numpy()
                reps += 1
            rate = 2.0 * n**3 * reps / (time.perf_counter() - start)
            best = max(best, rate / 1e9)
        return best


class _EpochTimer(keras.callbacks.Callback):
    """Wall time of the epoch: the steps, not fit's set-up."""

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds = time.perf_counter() - self.start


def fixed_batch_dataset(batch_size, data_range, seed=0):
    """One random image batch, repeated: a pipeline that costs nothing."""
    low, high = data_range
    rng = np.random.default_rng(seed)
    x = rng.uniform(low, high, (batch_size, 28, 28, 1)).astype("float32")
    return tf.data.Dataset.from_tensors(x).repeat()


def fit_rate(model, dataset, steps, batch_size):
    """images/s of `model.fit` over `steps` steps (one epoch)."""
    timer = _EpochTimer()
    model.fit(
        dataset,
        epochs=1,
        steps_per_epoch=steps,
        verbose=0,
        callbacks=[timer],
    )
    return steps * batch_size / timer.seconds


def calibrate(model, dataset, batch_size, seconds, spe=1):
    """Warms `model` up (traces, compiles) and returns the number of steps
    (a multiple of `spe`) one fit needs to last about `seconds`."""
    for _ in range(2):
        fit_rate(model, dataset, 2 * spe, batch_size)
    steps = 2 * spe
    while True:
        start = time.perf_counter()
        rate = fit_rate(model, dataset, steps, batch_size)
        if time.perf_counter() - start > 0.2 * seconds:
            break
        steps *= 2
    steps = int(seconds * rate / batch_size)
    return max(spe, steps // spe * spe)


# -------------------------------------------------------------------- main
def _item_name(model, jit, spe):
    return f"{model}/{'xla' if jit else 'no-xla'}/spe{spe}"


def run_batch(args, batch_size, matmul):
    """All configurations at one batch size, in alternating rounds."""
    items = {}
    configs = itertools.product(
        args.models.split(","),
        args.optimizers.split(","),
        args.jit_values,
        args.spe_values,
    )
    for name, opt, jit, spe in configs:
        model, data_range = build(name, policy=args.policy)
        compile_model(model, jit, spe, optimizer=opt)
        data = fixed_batch_dataset(batch_size, data_range)
        steps = calibrate(model, data, batch_size, args.seconds, spe)
        nominal, exact = step_flops(model)
        label = name if opt == "adam" else f"{name}-{opt}"
        items[_item_name(label, jit, spe)] = dict(
            model=model,
            data=data,
            steps=steps,
            nominal=nominal,
            exact=exact,
            rates=[],
            matmul=[],
            fractions=[],
        )
        print(
            f"  warmed up {_item_name(label, jit, spe)} "
            f"(batch {batch_size}, {steps} steps/fit)",
            flush=True,
        )
    order = list(items)
    for r in range(args.rounds):
        for key in order if r % 2 == 0 else order[::-1]:
            item = items[key]
            gflops = matmul()
            rate = fit_rate(
                item["model"], item["data"], item["steps"], batch_size
            )
            item["rates"].append(rate)
            item["matmul"].append(gflops)
            item["fractions"].append(rate * item["exact"] / 1e9 / gflops)
        print(f"  round {r + 1}/{args.rounds} done", flush=True)
    return items


def _median_ratio(a, b):
    return statistics.median(x / y for x, y in zip(a, b))


def report(batch_size, items):
    print(f"\n### batch {batch_size}\n")
    print(
        "| model / XLA / steps_per_execution | MFLOP/img (exact; nominal) "
        "| fit img/s (median) | achieved GFLOP/s | matmul GFLOP/s "
        "| fraction of matmul (median of pairs) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for key, it in items.items():
        rate = statistics.median(it["rates"])
        print(
            f"| {key} | {it['exact'] / 1e6:.2f}; {it['nominal'] / 1e6:.2f} "
            f"| {rate:,.0f} | {rate * it['exact'] / 1e9:.1f} "
            f"| {statistics.median(it['matmul']):.1f} "
            f"| {statistics.median(it['fractions']):.1%} "
            f"(min {min(it['fractions']):.1%}, "
            f"max {max(it['fractions']):.1%}) |"
        )
    print(
        "\n| comparison (same round) | median of per-round ratios | min | max |"
    )
    print("|---|---:|---:|---:|")
    keys = list(items)
    for key in keys:
        name, xla, spe = key.split("/")
        base, _, opt = name.partition("-")
        suffix = f"-{opt}" if opt else ""
        pairs = []
        if base == "gan":
            pairs.append(
                ("plain" + suffix, xla, spe, "ganzoo GAN / plain keras.io")
            )
        if xla == "xla":
            pairs.append((name, "no-xla", spe, "XLA / no XLA"))
        if opt:
            pairs.append((base, xla, spe, f"{opt} / adam"))
        for other_name, other_xla, other_spe, label in pairs:
            other = f"{other_name}/{other_xla}/{other_spe}"
            if other not in items:
                continue
            ratios = [
                a / b
                for a, b in zip(items[key]["rates"], items[other]["rates"])
            ]
            print(
                f"| {label}: {key} vs {other} "
                f"| {statistics.median(ratios):.3f} "
                f"| {min(ratios):.3f} | {max(ratios):.3f} |"
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--batch_sizes", default="64,256")
    parser.add_argument("--jit", default="off,on", help="off, on or both")
    parser.add_argument(
        "--optimizers",
        default="adam",
        help=f"comma-separated, from {','.join(OPTIMIZERS)}",
    )
    parser.add_argument("--steps_per_execution", default="1")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--seconds",
        type=float,
        default=1.5,
        help="target wall time of one timed fit",
    )
    parser.add_argument("--matmul_sizes", default="1024,2048")
    parser.add_argument(
        "--policy",
        default="float32",
        help="Keras dtype policy of the nets, e.g. mixed_bfloat16 (the "
        "matmul reference stays float32)",
    )
    args = parser.parse_args()
    args.jit_values = [v == "on" for v in args.jit.split(",")]
    args.spe_values = [int(v) for v in args.steps_per_execution.split(",")]
    sizes = tuple(int(n) for n in args.matmul_sizes.split(","))
    matmul = Matmul(sizes)
    threads = tf.config.threading.get_intra_op_parallelism_threads()
    print(
        f"TF {tf.__version__}, Keras {keras.__version__}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()}, "
        f"intra-op threads {threads} (0 = all cores), policy "
        f"{args.policy}",
        flush=True,
    )
    results = {}
    for batch_size in (int(b) for b in args.batch_sizes.split(",")):
        results[batch_size] = run_batch(args, batch_size, matmul)
    for batch_size, items in results.items():
        report(batch_size, items)
    print(f"\nload average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
