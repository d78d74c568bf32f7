"""Pictures (issue 15): the folder pipeline against the `dcgan` train step,
and ganzoo's step against the same nets and optimizer in PyTorch eager.

    pip install torch==2.13.0    # the CPU build; only this benchmark needs it
    python benchmarks/bench_pictures.py              # ~6 min on 2 cores
    python benchmarks/bench_pictures.py --smoke      # a 1-minute check

Part 1, the pipeline. 2,000 random 64x64 JPEGs are written to a temporary
folder; `ganzoo.datasets.load(folder, image_size=64, channels=3,
batch_size=64, repeat=True)` is timed once for its first pass (the decode)
and then read inside one graph (`Dataset.reduce`, as `fit` reads it). The
train step is GAN's `fit` with the `dcgan` pair at 64x64x3 (default width,
Adam) on an in-memory batch. Target: pipeline >= 10x the step's images/s.

Part 2, ganzoo vs PyTorch. The same GAN step (D on a real and a generated
batch, then G through D with fresh noise; non-saturating loss; Adam(2e-4,
0.5) for both nets) with the same `dcgan` nets at 32 and 64 pixels, in
float32 and mixed bfloat16 (`torch.autocast` for PyTorch), batch 64.
ganzoo runs `fit` as `ganzoo train` compiles it (no XLA for this pair on a
CPU) and with XLA; PyTorch runs the usual eager loop, D frozen during G's
step (no wasted weight gradients). Every round visits all configurations,
in an order reversed every other round; a ratio is the median of per-round
ratios (this machine's absolute speed drifts 2-3x). Target: ganzoo >= 1.2x.
"""

import argparse
import os
import pathlib
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import bench_pipeline
import bench_train
import keras
import numpy as np
import tensorflow as tf
from PIL import Image

import ganzoo
from ganzoo import datasets, networks

LATENT = 100


# ---------------------------------------------------------------- the data
def write_jpegs(folder, num, size=64, seed=0):
    """`num` random smooth colour JPEGs of `size` pixels in `folder`: a few
    random colour blobs, so JPEG has real work to do."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    for i in range(num):
        image = np.zeros((size, size, 3))
        for _ in range(3):
            cy, cx, r = rng.uniform(0.1, 0.9, 3)
            blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (0.1 * r))
            image += blob[..., None] * rng.uniform(0, 255, 3)
        image += rng.normal(0, 8, image.shape)
        pixels = np.clip(image, 0, 255).astype("uint8")
        Image.fromarray(pixels).save(folder / f"{i:05d}.jpg", quality=90)


# ------------------------------------------------------------------- ganzoo
def ganzoo_model(size, policy, seed=0):
    """GAN on the `dcgan` pair at `size` x `size` x 3, built under `policy`."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        keras.utils.set_random_seed(seed)
        g, d = networks.NETWORKS["dcgan"].build(image_size=size, channels=3)
        return ganzoo.GAN(g, d, latent_dim=LATENT, seed=seed)
    finally:
        keras.mixed_precision.set_global_policy(previous)


def image_batch(batch_size, size, seed=0):
    """One random image batch in [-1, 1], repeated: a free pipeline."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (batch_size, size, size, 3)).astype("float32")
    return tf.data.Dataset.from_tensors(x).repeat()


class KerasRunner:
    """`rate()`: images/s of one timed `fit` of ganzoo's GAN."""

    def __init__(self, size, policy, jit, batch_size, seconds):
        self.model = ganzoo_model(size, policy)
        bench_train.compile_model(self.model, jit)
        self.data = image_batch(batch_size, size)
        self.batch_size = batch_size
        self.steps = bench_train.calibrate(
            self.model, self.data, batch_size, seconds
        )

    def rate(self):
        return bench_train.fit_rate(
            self.model, self.data, self.steps, self.batch_size
        )


# ------------------------------------------------------------------ PyTorch
def torch_nets(size, filters=64):
    """The `dcgan` pair of `ganzoo.networks`, layer for layer, in PyTorch
    (NCHW; 4x4 stride-2 convs with padding 1 are Keras' 'same' here)."""
    import torch
    from torch import nn

    base, ups = networks._dcgan_plan(size, 3)
    width = filters * 2 ** (ups - 1)

    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(LATENT, base * base * width)
            layers = [nn.BatchNorm2d(width), nn.ReLU()]
            for i in range(1, ups):
                layers += [
                    nn.ConvTranspose2d(width >> (i - 1), width >> i, 4, 2, 1),
                    nn.BatchNorm2d(width >> i),
                    nn.ReLU(),
                ]
            layers += [nn.ConvTranspose2d(width >> (ups - 1), 3, 4, 2, 1)]
            self.body = nn.Sequential(*layers, nn.Tanh())

        def forward(self, z):
            return self.body(self.fc(z).view(-1, width, base, base))

    layers, channels = [], 3
    for i in range(ups):
        layers += [nn.Conv2d(channels, filters << i, 4, 2, 1)]
        layers += [nn.LeakyReLU(0.2)]
        channels = filters << i
    discriminator = nn.Sequential(
        *layers, nn.Flatten(), nn.Linear(channels * base * base, 1)
    )
    torch.manual_seed(0)
    return Generator(), discriminator


class TorchRunner:
    """`rate()`: images/s of the same GAN step in PyTorch eager."""

    def __init__(self, size, policy, batch_size, seconds):
        import torch

        self.torch = torch
        self.g, self.d = torch_nets(size)
        adam = dict(lr=2e-4, betas=(0.5, 0.999), eps=1e-7)
        self.g_opt = torch.optim.Adam(self.g.parameters(), **adam)
        self.d_opt = torch.optim.Adam(self.d.parameters(), **adam)
        self.bce = torch.nn.BCEWithLogitsLoss()
        self.bf16 = policy == "mixed_bfloat16"
        self.real = torch.rand(batch_size, 3, size, size) * 2 - 1
        self.ones = torch.ones(batch_size, 1)
        self.zeros = torch.zeros(batch_size, 1)
        self.batch_size = batch_size
        for _ in range(3):  # warm-up: oneDNN primitives, allocator
            self.step()
        start = time.perf_counter()
        self.step()
        self.steps = max(2, int(seconds / (time.perf_counter() - start)))

    def _autocast(self):
        return self.torch.autocast(
            "cpu", dtype=self.torch.bfloat16, enabled=self.bf16
        )

    def step(self):
        torch, b = self.torch, self.batch_size
        with torch.no_grad(), self._autocast():
            fake = self.g(torch.randn(b, LATENT))
        self.d_opt.zero_grad(set_to_none=True)
        with self._autocast():
            d_loss = self.bce(self.d(self.real).float(), self.ones)
            d_loss = d_loss + self.bce(self.d(fake).float(), self.zeros)
        d_loss.backward()
        self.d_opt.step()
        self.d.requires_grad_(False)
        self.g_opt.zero_grad(set_to_none=True)
        with self._autocast():
            out = self.d(self.g(torch.randn(b, LATENT))).float()
            g_loss = self.bce(out, self.ones)
        g_loss.backward()
        self.g_opt.step()
        self.d.requires_grad_(True)

    def rate(self):
        start = time.perf_counter()
        for _ in range(self.steps):
            self.step()
        return self.steps * self.batch_size / (time.perf_counter() - start)


# --------------------------------------------------------------------- runs
def alternate(runners, rounds):
    """`{name: [images/s per round]}`, the order reversed every other
    round."""
    rates = {name: [] for name in runners}
    order = list(runners)
    for r in range(rounds):
        for name in order if r % 2 == 0 else order[::-1]:
            rates[name].append(runners[name].rate())
        print(f"  round {r + 1}/{rounds} done", flush=True)
    return rates


def pipeline_part(args):
    b = args.batch_size
    with tempfile.TemporaryDirectory() as tmp:
        folder = pathlib.Path(tmp)
        start = time.perf_counter()
        write_jpegs(folder, args.pictures)
        print(
            f"wrote {args.pictures} JPEGs in {time.perf_counter() - start:.1f} s"
        )
        start = time.perf_counter()
        ds = datasets.load(
            str(folder),
            image_size=64,
            channels=3,
            batch_size=b,
            seed=0,
            repeat=True,
        )
        decode = time.perf_counter() - start
    # The decoded arrays live in memory: the folder is not read again.
    batches = 4 * args.pictures // b
    reader = bench_pipeline.graph_reader(ds, batches)
    reader()  # traces

    class Pipeline:
        def rate(self):
            return bench_pipeline.graph_rate(reader, batches, b)

    runners = {
        "pipeline": Pipeline(),
        "step": KerasRunner(64, "float32", False, b, args.seconds),
    }
    rates = alternate(runners, args.rounds)
    print(f"\n### The folder pipeline vs the dcgan step (batch {b})\n")
    print(
        f"First pass (decode {args.pictures} JPEGs, once): {decode:.2f} s "
        f"= {args.pictures / decode:,.0f} images/s\n"
    )
    print("| what | images/s (median) |\n|---|---:|")
    print(
        f"| pipeline, later passes, read in-graph | "
        f"{statistics.median(rates['pipeline']):,.0f} |"
    )
    print(
        f"| GAN `fit` step, dcgan 64x64x3, in-memory batch | "
        f"{statistics.median(rates['step']):,.1f} |"
    )
    ratio = bench_train._median_ratio(rates["pipeline"], rates["step"])
    print(f"\npipeline / step: **{ratio:,.0f}x** (target >= 10x)\n")


def torch_part(args):
    runners = {}
    for size in args.sizes:
        for policy in args.policies:
            key = f"{size}px {policy}"
            runners[f"{key} | torch eager"] = TorchRunner(
                size, policy, args.batch_size, args.seconds
            )
            for jit in (False, True):
                name = "ganzoo XLA" if jit else "ganzoo (ganzoo train)"
                runners[f"{key} | {name}"] = KerasRunner(
                    size, policy, jit, args.batch_size, args.seconds
                )
            print(f"  warmed up {key}", flush=True)
    rates = alternate(runners, args.rounds)
    print(f"\n### ganzoo vs PyTorch eager (batch {args.batch_size})\n")
    print(
        "| size, precision | ganzoo img/s | ganzoo XLA img/s | PyTorch img/s "
        "| ganzoo / PyTorch | ganzoo XLA / PyTorch |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for size in args.sizes:
        for policy in args.policies:
            key = f"{size}px {policy}"
            plain = rates[f"{key} | ganzoo (ganzoo train)"]
            xla = rates[f"{key} | ganzoo XLA"]
            torch = rates[f"{key} | torch eager"]
            print(
                f"| {key} | {statistics.median(plain):,.1f} "
                f"| {statistics.median(xla):,.1f} "
                f"| {statistics.median(torch):,.1f} "
                f"| {bench_train._median_ratio(plain, torch):.2f} "
                f"(min {min(a / b for a, b in zip(plain, torch)):.2f}) "
                f"| {bench_train._median_ratio(xla, torch):.2f} "
                f"(min {min(a / b for a, b in zip(xla, torch)):.2f}) |"
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="pipeline,torch")
    parser.add_argument("--pictures", type=int, default=2000)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--sizes", default="32,64")
    parser.add_argument("--policies", default="float32,mixed_bfloat16")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    if args.smoke:
        args.pictures, args.rounds, args.seconds = 200, 2, 0.5
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.policies = args.policies.split(",")
    import torch

    print(
        f"TF {tf.__version__}, Keras {keras.__version__}, PyTorch "
        f"{torch.__version__} ({torch.get_num_threads()} threads), "
        f"load average before {os.getloadavg()}"
    )
    if "pipeline" in args.parts:
        pipeline_part(args)
    if "torch" in args.parts:
        torch_part(args)
    print(f"load average after {os.getloadavg()}")


if __name__ == "__main__":
    main()
