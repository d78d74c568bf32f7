"""
Title: Serving a ganzoo model with TensorFlow Serving
Author: ganzoo team
Description: Export a preset as a SavedModel, inspect its signatures, call
them from Python, and build the REST requests TF Serving expects.
"""

"""
## Setup

This tutorial exports the pretrained `deligan-mnist` preset and needs no
dataset. It does not start a server: TensorFlow Serving ships as a Docker
image (`tensorflow/serving`), and the last section gives the `docker` and
`curl` commands to use it. Outputs go to
`$GANZOO_TUTORIAL_OUT/06_serving/` (default `tutorial_outputs/`);
`GANZOO_FAST=1` makes the requests smaller. The full reference is
`docs/serving.md`.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import tensorflow as tf

import ganzoo
import ganzoo.export
import ganzoo.images

FAST = os.environ.get("GANZOO_FAST") == "1"
OUT = pathlib.Path(os.environ.get("GANZOO_TUTORIAL_OUT", "tutorial_outputs"))
OUT = OUT / "06_serving"
OUT.mkdir(parents=True, exist_ok=True)
NUM = 8 if FAST else 64

"""
## Export

`ganzoo.export_saved_model(model, path, version)` writes
`<path>/<version>/`, the layout TF Serving polls: one numbered folder per
version under the model's base folder; the server loads the highest.
Only the generator (and DeLiGAN's mixture) is exported, not the
discriminator. The export is atomic (written to a hidden folder, then
renamed), refuses to replace an existing version unless
`overwrite=True`, and bounds the samples per request with `max_samples`.

From the command line: `ganzoo export deligan-mnist serving/deligan-mnist`.
"""

model = ganzoo.load("deligan-mnist")
base = OUT / "serving" / "deligan-mnist"
version_dir = ganzoo.export_saved_model(
    model, base, version=1, max_samples=1024, overwrite=True
)
print(sorted(os.listdir(version_dir)))

"""
## Inspect it with `saved_model_cli`

`saved_model_cli`, installed with TensorFlow, lists every signature with
its inputs and outputs (names, dtypes, shapes; -1 is a free dimension).
A DeLiGAN has four:

| signature | inputs | output |
|---|---|---|
| `serving_default` | `noise` f32 [n, 30], `component` i32 [n] | `images` |
| `generate` | `noise` f32 [n, 30], `seed` i32 [2] | `images` |
| `sample` | `num_samples` i32 [], `seed` i32 [2] | `images` |
| `metadata` | `unused` i32 [] (ignored) | one tensor per fact |

A GAN or LSGAN has `serving_default` with one input, `latent`, plus
`sample` and `metadata`.
"""

cli = shutil.which("saved_model_cli")
cli = (
    [cli]
    if cli
    else [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli"]
)
shown = subprocess.run(
    cli + ["show", "--all", "--dir", version_dir],
    capture_output=True,
    text=True,
    check=True,
).stdout
(OUT / "saved_model_cli_show.txt").write_text(shown)
lines = [line.strip() for line in shown.splitlines()]
for i, line in enumerate(lines):  # a summary of the listing
    if line.startswith("signature_def[") and "__saved_model" not in line:
        print(line)
    elif line.startswith(("inputs[", "outputs[")) and "__saved" not in line:
        dtype, shape = lines[i + 1], lines[i + 2]  # "dtype: ..", "shape: .."
        print("   ", line.split()[0], dtype.split()[1], shape.split(" ", 1)[1])

"""
## Call it from Python

`tf.saved_model.load` gives the same signatures as concrete functions;
they take keyword arguments and return a dict. Images are float32 in
[0, 1], whatever the generator's own range.
"""

served = tf.saved_model.load(version_dir)
print(list(served.signatures))

rng = np.random.default_rng(0)
noise = rng.standard_normal((NUM, model.latent_dim)).astype("float32")
component = np.arange(NUM, dtype="int32") % model.num_components
images = served.signatures["serving_default"](
    noise=tf.constant(noise), component=tf.constant(component)
)["images"]
print(images.shape, float(tf.reduce_min(images)), float(tf.reduce_max(images)))
assert np.allclose(images, model.generate((noise, component)), atol=1e-5)

"""
`sample` draws both the noise and the components from a stateless seed,
an int32 pair: the same seed gives the same images on every call and
every server. `seed = [s, ganzoo.export.SAMPLE_STREAM]` reproduces
`model.sample(n, seed=s)` exactly.
"""

sampled = served.signatures["sample"](
    num_samples=tf.constant(NUM),
    seed=tf.constant([0, ganzoo.export.SAMPLE_STREAM]),
)["images"].numpy()
assert np.allclose(sampled, model.sample(NUM, seed=0), atol=1e-5)
ganzoo.images.save_png(
    ganzoo.images.samples_to_image(sampled), OUT / "served_samples.png"
)

"""
`metadata` returns the model's facts (class, latent size and prior,
number of components, output shape, the `max_samples` bound). It takes a
dummy `unused` input because TF Serving refuses signatures without inputs.
`ganzoo.export.read_metadata` decodes it into a dict.
"""

print(ganzoo.export.read_metadata(served))

"""
Requests that break the contract fail inside the graph with an
`InvalidArgumentError` naming the problem (TF Serving returns it as
HTTP 400): too many samples, a component id out of range, a wrong shape.
"""

try:
    served.signatures["serving_default"](
        noise=tf.constant(noise[:1]), component=tf.constant([999])
    )
except tf.errors.InvalidArgumentError as e:
    reason = e.message.split("assertion failed: [", 1)[-1].split("]")[0]
    print("refused:", reason)

"""
## The REST requests

TF Serving's REST API takes a JSON body with an optional
`signature_name` (default `serving_default`) and the inputs in one of two
forms:

- **rows, `instances`**: a list with one object per sample, one value per
  input name; the response is `{"predictions": [...]}`, one image per
  instance. For a single-input signature (GAN/LSGAN `serving_default`)
  each row may be the bare latent vector.
- **columns, `inputs`**: one value per input name, each for the whole
  batch; the response is `{"outputs": ...}`. This is the only form for
  `sample` and `metadata`, whose inputs have no batch dimension to split
  into rows.

We write the bodies to files for `curl -d @file`:
"""

noise_rows = rng.standard_normal((2, model.latent_dim)).round(4)
requests = {
    "rows": {
        "instances": [
            {"noise": row.tolist(), "component": c}
            for row, c in zip(noise_rows, [0, 7])
        ]
    },
    "columns": {"inputs": {"noise": noise_rows.tolist(), "component": [0, 7]}},
    "generate": {
        "signature_name": "generate",
        "inputs": {"noise": noise_rows.tolist(), "seed": [0, 42]},
    },
    "sample": {
        "signature_name": "sample",
        "inputs": {"num_samples": 16, "seed": [0, 42]},
    },
    "metadata": {"signature_name": "metadata", "inputs": {"unused": 0}},
}
request_dir = OUT / "requests"
request_dir.mkdir(exist_ok=True)
for name, body in requests.items():
    (request_dir / f"{name}.json").write_text(json.dumps(body))

"""
What the server does with a body, in a few lines: pick the signature,
turn the JSON values into tensors of the signature's dtypes (rows are
stacked into a batch), call it, and return the result as nested lists.
This sketch only illustrates the contract; TF Serving also validates
much more.
"""


def predict(saved_model, body):
    fn = saved_model.signatures[body.get("signature_name", "serving_default")]
    specs = fn.structured_input_signature[1]
    if "instances" in body:
        rows = body["instances"]
        if not isinstance(rows[0], dict):  # bare rows: one-input signature
            rows = [{next(iter(specs)): r} for r in rows]
        inputs, key = {k: [r[k] for r in rows] for k in specs}, "predictions"
    else:
        inputs, key = body["inputs"], "outputs"
    outputs = fn(
        **{k: tf.constant(v, specs[k].dtype) for k, v in inputs.items()}
    )
    values = {k: v.numpy().tolist() for k, v in outputs.items()}
    if len(values) == 1:
        return {key: next(iter(values.values()))}
    return {key: values}


rows = predict(served, requests["rows"])
columns = predict(served, requests["columns"])
print(
    "rows:",
    np.shape(rows["predictions"]),
    "columns:",
    np.shape(columns["outputs"]),
)
assert np.allclose(rows["predictions"], columns["outputs"])
print("sample:", np.shape(predict(served, requests["sample"])["outputs"]))

r"""
## Run TF Serving

On a machine with Docker, serve the base folder (not the version folder)
and send the request files:

```shell
docker run -p 8501:8501 \
  -v "$PWD/serving/deligan-mnist:/models/deligan-mnist" \
  -e MODEL_NAME=deligan-mnist -t tensorflow/serving

URL=http://localhost:8501/v1/models/deligan-mnist
curl -d @requests/rows.json $URL:predict     # {"predictions": [...]}
curl -d @requests/sample.json $URL:predict   # {"outputs": [16 images]}
curl -d @requests/metadata.json $URL:predict
curl $URL/metadata                           # signatures, dtypes, shapes
```

To update a served model without a gap, export a new version number
(`version=2`): TF Serving switches to it when it appears.
"""

commands = f"""\
docker run -p 8501:8501 \\
  -v "{base.resolve()}:/models/deligan-mnist" \\
  -e MODEL_NAME=deligan-mnist -t tensorflow/serving
"""
for name in requests:
    commands += (
        f"curl -d @{request_dir.resolve() / name}.json "
        "http://localhost:8501/v1/models/deligan-mnist:predict\n"
    )
(OUT / "commands.sh").write_text(commands)
print(commands)
print(f"Outputs written to {OUT}")
