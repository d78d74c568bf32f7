"""The SavedModel TF Serving loads (ganzoo.export, docs/serving.md).

No model server can be installed on the CI machines, so the export is checked
three ways: `tf.saved_model.load`, the `saved_model_cli` the TF wheel ships
(run in subprocesses, started early so they overlap the other tests), and an
in-process copy of TF Serving's REST predict JSON contract (`rest_predict`
below, following tensorflow_serving/util/json_tensor.cc).
"""

import base64
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.framework import types_pb2
from tensorflow.python.tools import saved_model_utils

import ganzoo
from ganzoo import export
from tests import helpers

MAX_SAMPLES = 64
# kind -> (builder, extra config). The LSGAN is a 2-D toy with a uniform
# latent, so the point output and the uniform branch are covered too.
CASES = {
    "gan": (helpers.tiny_image_model, {}),
    "lsgan": (helpers.tiny_toy_model, {"latent_distribution": "uniform"}),
    "deligan": (helpers.tiny_image_model, {}),
}
KINDS = tuple(CASES)
CLI_RUN_KINDS = ("gan", "deligan")
TOL = 1e-5


# --------------------------------------------------------------- REST harness
def rest_predict(served, body):
    """TF Serving's `POST /v1/models/<name>:predict`, in process.

    `served` is what `tf.saved_model.load` returned; `body` the request JSON
    (str or dict). Returns `(http_status, response_dict)`: 200 with
    `{"predictions": ...}` (row request, `instances`) or `{"outputs": ...}`
    (columnar request, `inputs`), else 400 with `{"error": message}`.
    """
    try:
        return 200, _predict(served, body)
    except (ValueError, TypeError, tf.errors.OpError) as err:
        return 400, {"error": str(err)}


def _predict(served, body):
    if isinstance(body, (str, bytes)):
        body = json.loads(body)
    if not isinstance(body, dict):
        raise TypeError("JSON Value is not object")
    name = body.get("signature_name", "serving_default")
    if not isinstance(name, str):
        raise TypeError("'signature_name' key must be a string value.")
    if name not in served.signatures:
        raise ValueError(f'Serving signature name: "{name}" not found.')
    fn = served.signatures[name]
    specs = fn.structured_input_signature[1]
    if not specs:
        raise ValueError(f"Failed to get input map for signature: {name}")
    if "instances" in body and "inputs" in body:
        raise ValueError("expecting only one of 'inputs' or 'instances'")
    if "instances" in body:
        outputs = fn(**_row_inputs(body["instances"], specs))
        response = {"predictions": _row_outputs(outputs)}
    elif "inputs" in body:
        outputs = fn(**_columnar_inputs(body["inputs"], specs))
        response = {"outputs": _columnar_outputs(outputs)}
    else:
        raise ValueError("Missing 'inputs' or 'instances' key")
    return json.loads(json.dumps(response))


def _is_object(value):
    # A {"b64": ...} object is a (binary string) value, not named inputs.
    return isinstance(value, dict) and set(value) != {"b64"}


def _row_inputs(instances, specs):
    if not isinstance(instances, list):
        raise TypeError("Expecting 'instances' to be an list/array")
    if not instances:
        raise ValueError("No values in 'instances' array")
    objects = _is_object(instances[0])
    if not objects and len(specs) > 1:
        raise ValueError(
            "instances is a plain list, but expecting list of objects as "
            "multiple input tensors required"
        )
    rows = {name: [] for name in specs}
    for i, item in enumerate(instances):
        if objects != _is_object(item):
            raise ValueError(f"mixed objects and values at item {i}")
        named = item if objects else {next(iter(specs)): item}
        if set(named) != set(specs):
            raise ValueError(
                f"item {i} of 'instances': keys must be equal to "
                f"{sorted(specs)}"
            )
        for key, value in named.items():
            rows[key].append(_dense(value, specs[key].dtype))
    tensors = {}
    for key, values in rows.items():
        if len({v.shape for v in values}) != 1:
            raise ValueError(f"instances of '{key}' differ in shape")
        tensors[key] = tf.constant(np.stack(values), specs[key].dtype)
    return tensors


def _columnar_inputs(inputs, specs):
    if not _is_object(inputs):
        if len(specs) > 1:
            raise ValueError(
                "inputs is a plain value/list, but expecting an object as "
                "multiple input tensors required"
            )
        inputs = {next(iter(specs)): inputs}
    tensors = {}
    # As in TF Serving, keys the signature does not name are ignored.
    for key, spec in specs.items():
        if key not in inputs:
            raise ValueError(f"Missing named input: {key} in 'inputs' object.")
        tensors[key] = tf.constant(_dense(inputs[key], spec.dtype), spec.dtype)
    return tensors


def _dense(value, dtype):
    """A JSON value as a numpy array, with TF Serving's type checks."""
    shape, node = [], value
    while isinstance(node, list):
        shape.append(len(node))
        node = node[0] if node else None
    leaves = []

    def walk(node, level):
        if isinstance(node, list):
            if level >= len(shape) or len(node) != shape[level]:
                raise ValueError(f"list of unexpected size at level {level}")
            for item in node:
                walk(item, level + 1)
            return
        if level != len(shape):
            raise ValueError(f"value {node!r} found at an unexpected level")
        leaves.append(_leaf(node, dtype))

    walk(value, 0)
    np_dtype = object if dtype == tf.string else dtype.as_numpy_dtype
    return np.array(leaves, dtype=np_dtype).reshape(shape)


def _leaf(value, dtype):
    ok = {
        tf.float32: isinstance(value, (int, float)),
        tf.float64: isinstance(value, (int, float)),
        tf.int32: isinstance(value, int) and -(2**31) <= value < 2**31,
        tf.int64: isinstance(value, int),
        tf.bool: isinstance(value, bool),
        tf.string: isinstance(value, str)
        or (isinstance(value, dict) and set(value) == {"b64"}),
    }.get(dtype, False)
    if isinstance(value, bool) and dtype != tf.bool:
        ok = False
    if not ok:
        raise TypeError(
            f"JSON Value: {value!r} is not of expected type: {dtype.name}"
        )
    if isinstance(value, dict):
        return base64.b64decode(value["b64"])
    return value


def _json_value(name, tensor):
    value = tensor.numpy()
    if tensor.dtype == tf.string:

        def text(b):
            if name.endswith("_bytes"):
                return {"b64": base64.b64encode(b).decode()}
            return b.decode("utf-8")

        return np.vectorize(text, otypes=[object])(value).tolist()
    return value.tolist()


def _row_outputs(outputs):
    sizes = set()
    for name, tensor in outputs.items():
        if tensor.shape.rank == 0:
            raise ValueError(f"Tensor name: {name} has no shape information")
        sizes.add(int(tensor.shape[0]))
    if len(sizes) != 1:
        raise ValueError("outputs have inconsistent batch sizes")
    values = {name: _json_value(name, t) for name, t in outputs.items()}
    if len(values) == 1:
        return next(iter(values.values()))
    return [
        {name: column[i] for name, column in values.items()}
        for i in range(sizes.pop())
    ]


def _columnar_outputs(outputs):
    values = {name: _json_value(name, t) for name, t in outputs.items()}
    return next(iter(values.values())) if len(values) == 1 else values


# ------------------------------------------------------------------ fixtures
class Exported:
    """A model, its export, the reloaded SavedModel, and saved_model_cli
    runs started in the background."""

    def __init__(self, kind, base):
        build, extra = CASES[kind]
        self.kind = kind
        self.model = build(kind, **extra)
        self.base = base
        self.dir = export.export_saved_model(
            self.model, base, max_samples=MAX_SAMPLES
        )
        self.served = tf.saved_model.load(self.dir)
        self.is_deligan = kind == "deligan"
        self.d = self.model.latent_dim
        self._procs = {}
        self._results = {}

    def serving_inputs(self, n, seed=0):
        rng = np.random.default_rng(seed)
        noise = rng.standard_normal((n, self.d)).astype("float32")
        if not self.is_deligan:
            return {"latent": noise}
        component = rng.integers(0, self.model.num_components, n)
        return {"noise": noise, "component": component.astype("int32")}

    def keras_images(self, inputs):
        latent = (
            (inputs["noise"], inputs["component"])
            if self.is_deligan
            else inputs["latent"]
        )
        latent = tf.nest.map_structure(tf.constant, latent)
        return self.model.postprocess(self.model.generate_raw(latent)).numpy()

    def start_cli(self, key, *args):
        cmd = _saved_model_cli() + list(args)
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
        self._procs[key] = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )

    def cli(self, key):
        if key not in self._results:
            proc = self._procs[key]
            out, err = proc.communicate(timeout=180)
            assert proc.returncode == 0, f"saved_model_cli failed:\n{err}"
            self._results[key] = out
        return self._results[key]

    def close(self):
        for proc in self._procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _saved_model_cli():
    local = pathlib.Path(sys.executable).with_name("saved_model_cli")
    if local.exists():
        return [str(local)]
    found = shutil.which("saved_model_cli")
    if found:
        return [found]
    return [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    models = {kind: Exported(kind, root / kind) for kind in KINDS}
    # Each saved_model_cli process spends ~3 s of CPU importing TensorFlow:
    # start the few we need now, collect their output when a test needs it.
    # `show` runs once (the signature defs of every kind are also read
    # in-process below); `run` for a one-input and a two-input signature.
    models["deligan"].start_cli(
        "show", "show", "--all", "--dir", models["deligan"].dir
    )
    for kind in CLI_RUN_KINDS:
        ex = models[kind]
        ex.cli_inputs = ex.serving_inputs(3, seed=7)
        files = []
        for name, array in ex.cli_inputs.items():
            np.save(root / f"{kind}_{name}.npy", array)
            files.append(f"{name}={root / f'{kind}_{name}.npy'}")
        ex.cli_outdir = root / f"{kind}_out"
        ex.start_cli(
            "run", "run", "--dir", ex.dir, "--tag_set", "serve",
            "--signature_def", "serving_default",
            "--inputs", ";".join(files), "--outdir", str(ex.cli_outdir),
        )  # fmt: skip
    yield models
    for ex in models.values():
        ex.close()


@pytest.fixture(params=KINDS)
def ex(request, exported):
    return exported[request.param]


def _max_diff(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(a - b)))


def _sample(ex, n, seed):
    return ex.served.signatures["sample"](
        num_samples=tf.constant(n), seed=tf.constant(seed, tf.int32)
    )["images"].numpy()


# -------------------------------------------------------------- signatures
def test_signature_names(ex):
    expected = {"serving_default", "sample", "metadata"}
    if ex.is_deligan:
        expected.add("generate")
    assert set(ex.served.signatures) == expected
    assert sorted(os.listdir(ex.base)) == ["1"]
    assert {"saved_model.pb", "variables"} <= set(os.listdir(ex.dir))


def test_serving_default_matches_keras(ex):
    inputs = ex.serving_inputs(5)
    out = ex.served.signatures["serving_default"](
        **{k: tf.constant(v) for k, v in inputs.items()}
    )
    assert set(out) == {"images"}
    images = out["images"].numpy()
    assert images.dtype == np.float32
    assert _max_diff(images, ex.keras_images(inputs)) < TOL
    if ex.kind != "lsgan":
        assert images.shape == (5, 28, 28, 1)
        assert images.min() >= 0.0 and images.max() <= 1.0
    else:
        assert images.shape == (5, 2)


def test_sample_matches_keras(ex):
    seed = tf.constant([5, 9], tf.int32)
    m = ex.model
    expected = m.postprocess(m.generate_raw(m.draw_latent(6, seed))).numpy()
    assert _max_diff(_sample(ex, 6, [5, 9]), expected) < TOL


def test_sample_reproduces_model_sample(ex):
    got = _sample(ex, 4, [11, export.SAMPLE_STREAM])
    assert _max_diff(got, ex.model.sample(4, seed=11)) < TOL


def test_sample_is_deterministic_per_seed(ex):
    a = _sample(ex, 8, [1, 2])
    np.testing.assert_array_equal(a, _sample(ex, 8, [1, 2]))
    assert _max_diff(a, _sample(ex, 8, [1, 3])) > 1e-3
    assert _sample(ex, 1, [1, 2]).shape[0] == 1


def test_generate_uses_the_ids_of_sample(exported):
    ex = exported["deligan"]
    seed = tf.constant([4, 2], tf.int32)
    eps, ids = ex.model.draw_latent(7, seed)
    out = ex.served.signatures["generate"](noise=eps, seed=seed)["images"]
    assert _max_diff(out, _sample(ex, 7, [4, 2])) < TOL
    inputs = {"noise": eps.numpy(), "component": ids.numpy()}
    assert _max_diff(out, ex.keras_images(inputs)) < TOL


# ------------------------------------------------------------------ limits
def test_too_many_samples_is_a_clear_error(ex):
    with pytest.raises(tf.errors.InvalidArgumentError, match="max_samples"):
        _sample(ex, MAX_SAMPLES + 1, [0, 0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_samples"):
        _sample(ex, 0, [0, 0])
    # A huge request fails on the check, before any allocation.
    with pytest.raises(tf.errors.InvalidArgumentError, match="max_samples"):
        _sample(ex, 2**31 - 1, [0, 0])
    big = ex.serving_inputs(MAX_SAMPLES + 1)
    with pytest.raises(tf.errors.InvalidArgumentError, match="max_samples"):
        ex.served.signatures["serving_default"](
            **{k: tf.constant(v) for k, v in big.items()}
        )


def test_wrong_dtype_or_shape_is_rejected(ex):
    # A reloaded signature checks dtypes but feeds any shape through, as TF
    # Serving does: the graph itself checks shapes (tf.ensure_shape).
    fn = ex.served.signatures["serving_default"]
    inputs = {k: tf.constant(v) for k, v in ex.serving_inputs(2).items()}
    first = "noise" if ex.is_deligan else "latent"
    for bad, message in [
        (tf.zeros((2, ex.d + 1)), f"Shape of tensor {first}"),
        (tf.zeros((ex.d,)), f"Shape of tensor {first}"),
        (tf.zeros((1, 2, ex.d)), f"Shape of tensor {first}"),
        (tf.zeros((2, ex.d), tf.float64), "expected to be a float tensor"),
        (tf.zeros((2, ex.d), tf.int32), "expected to be a float tensor"),
    ]:
        with pytest.raises(tf.errors.InvalidArgumentError, match=message):
            fn(**dict(inputs, **{first: bad}))
    sample = ex.served.signatures["sample"]
    for num, seed, message in [
        (2, [1, 2, 3], "Shape of tensor seed"),
        ([2], [1, 2], "Shape of tensor num_samples"),
        (2.0, [1, 2], "expected to be a int32 tensor"),
    ]:
        with pytest.raises(tf.errors.InvalidArgumentError, match=message):
            sample(num_samples=tf.constant(num), seed=tf.constant(seed))
    # The Python attribute of the same endpoint checks its input spec.
    with pytest.raises(TypeError, match="Can not cast"):
        ex.served.sample(tf.constant([2]), tf.constant([1, 2]))


def test_deligan_component_ids_are_checked(exported):
    ex = exported["deligan"]
    fn = ex.served.signatures["serving_default"]
    noise = tf.zeros((3, ex.d))
    n = ex.model.num_components
    for ids, message in [
        ([0, n, 1], f"num_components = {n}"),
        ([0, -1, 1], ">= 0"),
        ([0, 1], "same length"),
        ([1], "same length"),
    ]:
        with pytest.raises(tf.errors.InvalidArgumentError, match=message):
            fn(noise=noise, component=tf.constant(ids, tf.int32))


# ---------------------------------------------------------------- metadata
def test_metadata(ex):
    meta = export.read_metadata(ex.dir)
    assert meta == export.read_metadata(ex.served)
    m = ex.model
    assert meta == {
        "model_class": type(m).__name__,
        "model_name": m.name,
        "ganzoo_version": ganzoo.__version__,
        "latent_dim": m.latent_dim,
        "latent_distribution": ("uniform" if ex.kind == "lsgan" else "normal"),
        "num_components": 3 if ex.is_deligan else 0,
        "output_shape": [2] if ex.kind == "lsgan" else [28, 28, 1],
        "max_samples": MAX_SAMPLES,
    }


# --------------------------------------------------------------- REST JSON
def test_rest_row_format(ex):
    inputs = ex.serving_inputs(3)
    expected = ex.keras_images(inputs)
    if ex.is_deligan:
        instances = [
            {
                "noise": inputs["noise"][i].tolist(),
                "component": int(inputs["component"][i]),
            }
            for i in range(3)
        ]
    else:
        # A single-input signature takes bare values or named objects.
        bare = inputs["latent"].tolist()
        status, body = rest_predict(ex.served, {"instances": bare})
        assert status == 200, body
        assert _max_diff(body["predictions"], expected) < TOL
        instances = [{"latent": row} for row in bare]
    request = json.dumps(
        {"signature_name": "serving_default", "instances": instances}
    )
    status, body = rest_predict(ex.served, request)
    assert status == 200, body
    assert set(body) == {"predictions"}
    assert len(body["predictions"]) == 3
    assert _max_diff(body["predictions"], expected) < TOL


def test_rest_columnar_format(ex):
    inputs = ex.serving_inputs(2)
    columns = {k: v.tolist() for k, v in inputs.items()}
    status, body = rest_predict(ex.served, {"inputs": columns})
    assert status == 200, body
    assert _max_diff(body["outputs"], ex.keras_images(inputs)) < TOL

    request = {
        "signature_name": "sample",
        "inputs": {"num_samples": 3, "seed": [1, 2]},
    }
    status, body = rest_predict(ex.served, request)
    assert status == 200, body
    assert _max_diff(body["outputs"], _sample(ex, 3, [1, 2])) < TOL

    # One named input: the bare value works in the columnar form too.
    status, body = rest_predict(
        ex.served, {"signature_name": "metadata", "inputs": 0}
    )
    assert status == 200, body
    assert body["outputs"] == export.read_metadata(ex.served)


def test_rest_errors_are_400(ex):
    inputs = ex.serving_inputs(2)
    first = "noise" if ex.is_deligan else "latent"
    bad_requests = [
        {},  # neither instances nor inputs
        {"instances": []},
        {"instances": [[0.0] * ex.d], "inputs": [[0.0] * ex.d]},
        {"signature_name": "nope", "inputs": [[0.0] * ex.d]},
        # Wrong width, ragged rows, and strings where numbers belong.
        {
            "inputs": dict(
                {k: v.tolist() for k, v in inputs.items()},
                **{first: [[0.0] * (ex.d + 1)] * 2},
            )
        },
        {"instances": [{first: [0.0] * ex.d}, {first: [0.0]}]},
        {
            "inputs": dict(
                {k: v.tolist() for k, v in inputs.items()},
                **{first: [["a"] * ex.d] * 2},
            )
        },
        # A scalar and a [2] vector cannot be stacked as rows.
        {
            "signature_name": "sample",
            "instances": [{"num_samples": 2, "seed": [1, 2]}],
        },
        {
            "signature_name": "sample",
            "inputs": {"num_samples": 2.5, "seed": [1, 2]},
        },
        {"signature_name": "sample", "inputs": {"num_samples": 2}},
        {
            "signature_name": "sample",
            "inputs": {"num_samples": MAX_SAMPLES + 1, "seed": [1, 2]},
        },
        # Rows stack a batch dimension the scalar input does not have.
        {"signature_name": "metadata", "instances": [0]},
    ]
    if ex.is_deligan:
        bad_requests += [
            {"instances": [[0.0] * ex.d]},  # plain list, two inputs
            {"inputs": {"noise": [[0.0] * ex.d], "component": [0.5]}},
        ]
    for request in bad_requests:
        status, body = rest_predict(ex.served, request)
        assert status == 400, request
        assert set(body) == {"error"} and body["error"], request


# ------------------------------------------------------------ file handling
def test_overwrite_is_refused_then_allowed(tmp_path, umask_022):
    first = helpers.tiny_toy_model("gan", seed=0)
    out = export.export_saved_model(first, tmp_path / "m", version=3)
    assert out == str(tmp_path / "m" / "3")
    second = helpers.tiny_toy_model("gan", seed=1)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        export.export_saved_model(second, tmp_path / "m", version=3)
    export.export_saved_model(second, tmp_path / "m", version=4)
    export.export_saved_model(second, tmp_path / "m", version=3, overwrite=True)
    assert sorted(os.listdir(tmp_path / "m")) == ["3", "4"]
    # A model server running as another user can read the versions.
    assert os.stat(out).st_mode & 0o777 == 0o755
    latent = tf.random.stateless_normal((4, 3), [0, 0])
    served = tf.saved_model.load(out)
    got = served.signatures["serving_default"](latent=latent)["images"]
    assert _max_diff(got, second.generate(latent)) < TOL


def test_failed_export_leaves_nothing(tmp_path, monkeypatch):
    model = helpers.tiny_toy_model("deligan")

    def broken_save(obj, export_dir, *args, **kwargs):
        # Half a SavedModel, then a crash.
        pathlib.Path(export_dir, "saved_model.pb").write_bytes(b"partial")
        raise OSError("disk full")

    export.export_saved_model(model, tmp_path / "kept", version=1)
    monkeypatch.setattr(tf.saved_model, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        export.export_saved_model(model, tmp_path / "new" / "deeper")
    assert not (tmp_path / "new").exists()  # nor the parent it created
    for version, overwrite in [(2, False), (1, True)]:
        with pytest.raises(OSError, match="disk full"):
            export.export_saved_model(
                model, tmp_path / "kept", version=version, overwrite=overwrite
            )
        # Only the good version, intact: no temp folder, no version 2.
        assert os.listdir(tmp_path / "kept") == ["1"]
    monkeypatch.undo()
    tf.saved_model.load(str(tmp_path / "kept" / "1"))


def test_bad_arguments(tmp_path):
    model = helpers.tiny_toy_model("gan")
    with pytest.raises(TypeError, match="ganzoo model"):
        export.export_saved_model(model.generator, tmp_path / "m")
    for kwargs in [
        {"version": -1},
        {"version": "1"},
        {"version": True},
        {"max_samples": 0},
        {"max_samples": 1.5},
    ]:
        with pytest.raises(ValueError):
            export.export_saved_model(model, tmp_path / "m", **kwargs)
    assert not (tmp_path / "m").exists()


# ------------------------------------------ saved_model_cli (kept last: the
# subprocesses started by the fixture run while the tests above do)
def _expected_signature_defs(ex):
    """{signature: {"inputs"|"outputs": {name: (dtype, shape)}}}."""
    d = ex.d
    image = (-1, 2) if ex.kind == "lsgan" else (-1, 28, 28, 1)
    images = {"images": ("DT_FLOAT", image)}
    seed = ("DT_INT32", (2,))
    noise = ("DT_FLOAT", (-1, d))
    if ex.is_deligan:
        serve = {"noise": noise, "component": ("DT_INT32", (-1,))}
    else:
        serve = {"latent": noise}
    scalar_int, string = ("DT_INT32", ()), ("DT_STRING", ())
    rank = 1 if ex.kind == "lsgan" else 3
    sigs = {
        "__saved_model_init_op": {
            "inputs": {},
            "outputs": {"__saved_model_init_op": ("DT_INVALID", None)},
        },
        "serving_default": {"inputs": serve, "outputs": images},
        "sample": {
            "inputs": {"num_samples": scalar_int, "seed": seed},
            "outputs": images,
        },
        "metadata": {
            "inputs": {"unused": scalar_int},
            "outputs": {
                "model_class": string,
                "model_name": string,
                "ganzoo_version": string,
                "latent_distribution": string,
                "latent_dim": scalar_int,
                "num_components": scalar_int,
                "max_samples": scalar_int,
                "output_shape": ("DT_INT32", (rank,)),
            },
        },
    }
    if ex.is_deligan:
        sigs["generate"] = {
            "inputs": {"noise": noise, "seed": seed},
            "outputs": images,
        }
    return sigs


def _parse_show(text):
    """`saved_model_cli show --all` output in the form above."""
    sigs = {}
    blocks = re.split(r"signature_def\['([^']+)'\]:", text)
    for name, block in zip(blocks[1::2], blocks[2::2]):
        sigs[name] = {"inputs": {}, "outputs": {}}
        for kind, key, dtype, shape in re.findall(
            r"(inputs|outputs)\['([^']+)'\] tensor_info:\s+dtype: (\w+)\s+"
            r"shape: ([^\n]+)",
            block,
        ):
            dims = re.findall(r"-?\d+", shape)
            parsed = None if "unknown" in shape else tuple(map(int, dims))
            sigs[name][kind][key] = (dtype, parsed)
    return sigs


def _read_signature_defs(saved_model_dir):
    """The same facts from the MetaGraphDef proto `show` prints."""
    meta = saved_model_utils.get_meta_graph_def(saved_model_dir, "serve")

    def infos(tensor_infos):
        return {
            key: (
                types_pb2.DataType.Name(info.dtype),
                None
                if info.tensor_shape.unknown_rank
                else tuple(dim.size for dim in info.tensor_shape.dim),
            )
            for key, info in tensor_infos.items()
        }

    return {
        name: {"inputs": infos(sig.inputs), "outputs": infos(sig.outputs)}
        for name, sig in meta.signature_def.items()
    }


def test_signature_defs(ex):
    assert _read_signature_defs(ex.dir) == _expected_signature_defs(ex)


def test_saved_model_cli_show_lists_signatures(exported):
    ex = exported["deligan"]
    text = ex.cli("show")
    assert _parse_show(text) == _expected_signature_defs(ex)


@pytest.mark.parametrize("kind", CLI_RUN_KINDS)
def test_saved_model_cli_run_with_npy_inputs(exported, kind):
    # Trap 10: `--input_exprs` takes only Python literals in TF 2.21; the
    # documented way is `--inputs name=file.npy`.
    ex = exported[kind]
    ex.cli("run")
    got = np.load(ex.cli_outdir / "images.npy")
    assert _max_diff(got, ex.keras_images(ex.cli_inputs)) < TOL
