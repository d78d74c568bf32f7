"""
Title: Distributed training with tf.distribute
Author: ganzoo team
Description: Train a ganzoo model with MirroredStrategy and with
MultiWorkerMirroredStrategy, check that the result equals one device, and
see what changes on GPUs, TPUs and clusters.
"""

"""
## Setup: two devices on one CPU

`MirroredStrategy` keeps one copy of the model per device and splits each
batch among them. On a machine with several GPUs it uses them all. This
tutorial also runs on a laptop: we split the CPU into two *logical*
devices, `/cpu:0` and `/cpu:1`, which is enough to exercise the real
code paths (per-replica batches, gradient all-reduce, replica ids).

The split must come first, before anything else touches TensorFlow:
TensorFlow fixes its device list when it initialises its runtime (the
first op, the first `list_logical_devices`, the first model), and after
that `set_logical_device_configuration` raises a `RuntimeError`. So it
happens right after `import tensorflow`, before ganzoo or Keras build
anything. On a machine with GPUs we skip it and mirror over the GPUs.

No data files are needed (2-D toy data). Figures go to
`$GANZOO_TUTORIAL_OUT/05_distributed/` (default `tutorial_outputs/`);
`GANZOO_FAST=1` shortens the runs.
"""

# First, before anything else initialises TensorFlow.
import tensorflow as tf

GPUS = tf.config.list_physical_devices("GPU")
if not GPUS:
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2
    )

import json
import os
import pathlib
import socket
import subprocess
import sys
import textwrap
import time

import keras
import numpy as np

import ganzoo
import ganzoo.images

FAST = os.environ.get("GANZOO_FAST") == "1"
OUT = pathlib.Path(os.environ.get("GANZOO_TUTORIAL_OUT", "tutorial_outputs"))
OUT = OUT / "05_distributed"
OUT.mkdir(parents=True, exist_ok=True)

GLOBAL_BATCH = 64
STEPS = 10 if FAST else 50
UNITS = 16 if FAST else 64
WORKER_TIMEOUT_S = 120 if FAST else 600  # hard limit for the workers

print("logical devices:", [d.name for d in tf.config.list_logical_devices()])

"""
## The experiment

A GAN on the ring of 8 Gaussians, built the same way twice: same initial
weights (`keras.utils.set_random_seed`), same training noise (`seed=0`),
same data in the same order (no shuffling). We use plain SGD rather
than Adam on purpose: Adam divides each gradient by its own running
scale, so it would hide a gradient that is off by a constant factor,
such as the number of replicas. SGD would not.
"""

points = ganzoo.datasets.ring8(GLOBAL_BATCH * STEPS, seed=0)


def make_dataset():
    return tf.data.Dataset.from_tensor_slices(points).batch(GLOBAL_BATCH)


def build_and_compile():
    keras.utils.set_random_seed(0)
    model = ganzoo.GAN(
        generator=ganzoo.networks.toy_generator(latent_dim=2, units=UNITS),
        discriminator=ganzoo.networks.toy_discriminator(units=UNITS),
        latent_dim=2,
        data_range=None,
        seed=0,
    )
    model.compile(
        d_optimizer=keras.optimizers.SGD(0.05),
        g_optimizer=keras.optimizers.SGD(0.05),
        jit_compile=False,  # XLA + logical CPU devices fails (see below)
    )
    return model


def weights_of(model):
    return [np.asarray(w.numpy()) for w in model.weights]


"""
## One device

The reference: the default strategy, one device.
"""

single = build_and_compile()
single_history = single.fit(
    make_dataset(), epochs=1, shuffle=False, verbose=0
).history

"""
## MirroredStrategy

Everything that creates variables, the model *and* its optimizers, goes
inside `strategy.scope()`: `ganzoo.GAN.compile` builds both optimizers
there. `fit` then runs each step on every replica with
`GLOBAL_BATCH / num_replicas` examples each; the batch size you give the
dataset is always the global one.
"""

devices = None if GPUS else ["/cpu:0", "/cpu:1"]
strategy = tf.distribute.MirroredStrategy(devices)
print("replicas:", strategy.num_replicas_in_sync)
with strategy.scope():
    mirrored = build_and_compile()
mirrored_history = mirrored.fit(
    make_dataset(), epochs=1, shuffle=False, verbose=0
).history

"""
## The same result as one device

Two design choices in ganzoo's `train_step` make the update independent
of the number of replicas:

1. **Losses are averaged over the global batch.** Every replica computes
   the *sum* of its per-example losses divided by the *global* batch size
   (`tf.nn.compute_average_loss`), and the strategy sums the replicas'
   gradients: together, the gradient of the global mean. (A hand-written
   `mean` over the local batch would give N times the step on N
   replicas.) The logged losses are rescaled to be the true global mean.
2. **The noise is keyed by seed, step and global example index.** At
   step t every replica draws the noise of the whole global batch from a
   stateless generator keyed by `(seed, t)` and keeps its own slice, so
   example j gets the same z on one device and on N replicas.
"""

diff = max(
    float(np.max(np.abs(a - b)))
    for a, b in zip(weights_of(single), weights_of(mirrored))
)
print(
    f"largest weight difference, 1 device vs {strategy.num_replicas_in_sync}"
    f" replicas: {diff:.2e}"
)
print(
    f"d_loss: {single_history['d_loss'][0]:.6f} (1 device), "
    f"{mirrored_history['d_loss'][0]:.6f} (mirrored)"
)
assert diff < 1e-4, diff

"""
The difference is float rounding: the replicas add up the gradient in
another order. It can grow as training goes on, because the two-player
dynamics amplify small differences (in our runs: 4e-8 after 50 steps,
7e-5 after 200), but it is not a systematic error such as a gradient
twice too large, which would show from the first step. Both models also
sample the same points:
"""

panel = np.concatenate(
    [
        ganzoo.images.scatter_image(
            m.sample(2500, seed=0),
            size=256,
            extent=1.5,
            modes=ganzoo.datasets.RING8_MODES,
        )
        for m in (single, mirrored)
    ],
    axis=1,
)
ganzoo.images.save_png(panel, OUT / "one_device_vs_mirrored.png")

"""
## MultiWorkerMirroredStrategy on localhost

Across machines, `MultiWorkerMirroredStrategy` runs one process per
machine (a *worker*), each with its local devices. Every worker runs the
*same* script; the cluster comes from the `TF_CONFIG` environment
variable, which differs only in the task index:

```json
{"cluster": {"worker": ["host0:port", "host1:port"]},
 "task": {"type": "worker", "index": 0}}
```

Kubernetes (TFJob) and Vertex AI set `TF_CONFIG` for you. Here we play
both machines on localhost: write the worker script, then start it twice.
Worker 0 is the *chief*; in a real job only the chief writes checkpoints
and presets (`ganzoo train` does this).
"""

WORKER = textwrap.dedent(
    f"""
    import json, os, sys
    import keras, numpy as np, tensorflow as tf
    import ganzoo

    strategy = tf.distribute.MultiWorkerMirroredStrategy()  # reads TF_CONFIG
    points = ganzoo.datasets.ring8({GLOBAL_BATCH * STEPS}, seed=0)
    dataset = tf.data.Dataset.from_tensor_slices(points).batch({GLOBAL_BATCH})
    with strategy.scope():
        keras.utils.set_random_seed(0)
        model = ganzoo.GAN(
            ganzoo.networks.toy_generator(latent_dim=2, units={UNITS}),
            ganzoo.networks.toy_discriminator(units={UNITS}),
            latent_dim=2, data_range=None, seed=0,
        )
        model.compile(d_optimizer=keras.optimizers.SGD(0.05),
                      g_optimizer=keras.optimizers.SGD(0.05), jit_compile=False)
    history = model.fit(dataset, epochs=1, shuffle=False, verbose=0).history
    task = json.loads(os.environ["TF_CONFIG"])["task"]["index"]
    np.savez(sys.argv[1], d_loss=np.ravel(history["d_loss"]),
             *[w.numpy() for w in model.weights])
    print("worker", task, "replicas", strategy.num_replicas_in_sync)
    """
)
worker_script = OUT / "worker.py"
worker_script.write_text(WORKER)

"""
Two things make a local run robust:

- **Free ports.** We ask the OS for two unused ports.
- **A hard timeout.** A worker whose peer never comes up (a crash, a
  typo in `TF_CONFIG`) waits for it forever, and it ignores SIGTERM. A
  worker that is not done in time gets SIGKILL (`Popen.kill`).
"""


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


cluster = {"worker": [f"127.0.0.1:{p}" for p in free_ports(2)]}
procs = []
for index in range(2):
    tf_config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
    env = dict(os.environ, TF_CONFIG=json.dumps(tf_config))
    out = OUT / f"worker{index}.npz"
    procs.append(
        subprocess.Popen(
            [sys.executable, str(worker_script), str(out)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
    )
logs = []
deadline = time.monotonic() + WORKER_TIMEOUT_S
try:
    for p in procs:
        left = max(deadline - time.monotonic(), 1)
        logs.append(p.communicate(timeout=left)[0].decode())
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()  # SIGKILL: SIGTERM would be ignored
for p, log in zip(procs, logs):
    if p.returncode != 0:
        raise RuntimeError(f"worker failed:\n{log[-3000:]}")
    print(log.strip().splitlines()[-1])

"""
Both workers end with identical weights, and they equal the one-device
run: two processes with one CPU each are two replicas, just as the two
logical devices were. (Per-worker sharding of the data is automatic:
each worker reads the dataset and keeps its half of every global batch.)
"""

results = [np.load(OUT / f"worker{i}.npz") for i in range(2)]
arrays = sorted(
    (k for k in results[0].files if k.startswith("arr_")),
    key=lambda k: int(k.split("_")[1]),
)
diff_workers = max(
    float(np.max(np.abs(results[0][k] - results[1][k]))) for k in arrays
)
diff_single = max(
    float(np.max(np.abs(results[0][k] - w)))
    for k, w in zip(arrays, weights_of(single))
)
print(
    f"worker 0 vs worker 1: {diff_workers:.2e}; "
    f"vs one device: {diff_single:.2e}"
)
assert diff_workers == 0.0 and diff_single < 1e-4

"""
## On real hardware

**Several GPUs, one machine.** `MirroredStrategy()` with no arguments
mirrors over all visible GPUs and all-reduces with NCCL. Skip the CPU
split above. From the command line, `ganzoo train --strategy=mirrored`
(or `--strategy=auto`, the default, which picks it when there are two or
more GPUs).

**Several machines.** Start the same command on every machine with its
own `TF_CONFIG`: `ganzoo train --strategy=multi_worker ...`
(`--strategy=auto` also picks it when `TF_CONFIG` names a cluster). The
`--batch_size` flag is the global batch. On Slurm, build the strategy in
Python from the Slurm environment instead of `TF_CONFIG`:

```python
resolver = tf.distribute.cluster_resolver.SlurmClusterResolver()
strategy = tf.distribute.MultiWorkerMirroredStrategy(
    cluster_resolver=resolver)
```

**TPUs.** `ganzoo train --strategy=tpu ...` connects to the TPU that
the environment names (a TPU VM, Colab, `TPU_NAME`) through
`TPUClusterResolver`. In Python, `ganzoo.training.get_strategy("tpu")`
builds the same strategy; by hand:

```python
resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
tf.config.experimental_connect_to_cluster(resolver)
tf.tpu.experimental.initialize_tpu_system(resolver)
strategy = tf.distribute.TPUStrategy(resolver)
with strategy.scope():
    model = ...  # build and compile as above
```

TPUs compile the whole step with XLA and need static shapes: keep
`drop_remainder=True` in `ganzoo.datasets.load` (the default) so every
batch has the same size. ganzoo's noise is stateless and its mixture
lookup a dense one-hot matmul, both TPU friendly, but the TPU path is not
tested here.

## Caveats

- **Minibatch discrimination sees the global batch.** The DeLiGAN
  discriminators' `ganzoo.layers.MinibatchDiscrimination` gathers the
  projected features of every replica (`ReplicaContext.all_gather`) and
  compares each of its examples with the whole global batch (the
  `"grand_sum"` form also divides by a cross-replica sum), so 2 replicas
  of 32 compute what 1 device of 64 does, gradients included. The price
  is a collective per call of D and, per replica, a
  (global batch x its batch x kernels x 5) difference tensor.
- **Batch normalisation is synchronised.** ganzoo's generators use
  `BatchNormalization(synchronized=True)`, so batch statistics are over
  the global batch and the update does not depend on the replica count.
  Networks of your own need the same flag for that.
- **Dropout and noise in D are keyed by global row.** The GAN paper's
  maxout discriminator (dropout) and the DeLiGAN authors' CIFAR-10 one
  (Gaussian noise and dropout) use `ganzoo.layers.KeyedDropout` and
  `KeyedGaussianNoise`: in the training step each replica draws the
  masks and noise of the whole global batch, keyed like the latent noise,
  and keeps its own rows, so N replicas drop what one device drops (at
  the same `jit_compile`: XLA draws other numbers from the same seed, and
  `ganzoo train` turns it on by default for these MLPs on one CPU only).
  Keras' own `Dropout` and `GaussianNoise` draw on each replica for its
  own examples: in networks of your own, or in a model saved with them
  (the `gan-mnist` preset's config), training on N replicas is
  equivalent in distribution to one device, not bit for bit.
- **XLA on logical CPU devices.** `jit_compile=True` with
  `MirroredStrategy` over logical CPUs fails to place resources; ganzoo's
  default `jit_compile="auto"` leaves XLA off on CPUs and under
  strategies. On GPUs and TPUs it is fine.
- **Larger global batches change the dynamics.** The update equals one
  device *at the same global batch*. Scaling the batch with the number
  of devices changes GAN training, and usually needs new learning rates.
"""

print(f"Figures written to {OUT}")
