"""MixtureLatent, Maxout, MinibatchDiscrimination, and the keyed dropout and
noise."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from ganzoo._checks import ArgumentError
from ganzoo.layers import (
    KeyedDropout,
    KeyedGaussianNoise,
    Maxout,
    MinibatchDiscrimination,
    MixtureLatent,
    noise_key,
)


def test_mixture_initialisation_and_formula():
    layer = MixtureLatent(num_components=6, sigma_init=0.2, seed=0)
    eps = np.random.default_rng(0).normal(size=(10, 3)).astype("float32")
    ids = np.arange(10) % 6
    z = np.asarray(layer(eps, components=ids))
    mu, sigma = np.asarray(layer.mu), np.asarray(layer.sigma)
    assert mu.shape == sigma.shape == (6, 3)
    assert np.all(np.abs(mu) <= 1.0) and mu.std() > 0.1
    np.testing.assert_allclose(sigma, 0.2)
    np.testing.assert_allclose(z, mu[ids] + sigma[ids] * eps, rtol=1e-6)


def test_mixture_component_sampling():
    eps = np.zeros((12, 2), "float32")
    cycle = MixtureLatent(num_components=4, component_sampling="cycle")
    z = np.asarray(cycle(eps))
    np.testing.assert_allclose(z, np.asarray(cycle.mu)[np.arange(12) % 4])
    uniform = MixtureLatent(num_components=4, seed=1)
    ids = np.asarray(uniform.sample_components(4000))
    counts = np.bincount(ids, minlength=4)
    assert counts.min() > 850 and ids.max() < 4


def test_mixture_sigma_stays_positive_and_regulariser():
    layer = MixtureLatent(num_components=2, sigma_init=0.2, min_sigma=1e-3)
    layer.build((None, 2))
    assert float(layer.sigma_regularization()) == pytest.approx(0.64)
    opt = keras.optimizers.SGD(10.0)
    opt.build([layer.sigma])
    # A gradient that pushes sigma far below zero.
    opt.apply([np.ones((2, 2), "float32")], [layer.sigma])
    assert float(np.min(layer.sigma)) == pytest.approx(1e-3)


def test_mixture_serialises_in_a_model():
    inp = keras.Input((3,))
    out = MixtureLatent(num_components=5, sigma_init=0.3, name="mix")(inp)
    model = keras.Model(inp, out)
    restored = keras.Model.from_config(model.get_config())
    restored.set_weights(model.get_weights())
    layer = restored.get_layer("mix")
    assert (layer.num_components, layer.sigma_init) == (5, 0.3)
    np.testing.assert_allclose(layer.mu, model.get_layer("mix").mu)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"num_components": 0}, "num_components"),
        ({"sigma_init": 0.0}, "sigma_init"),
        ({"sigma_init": -1.0}, "sigma_init"),
        ({"component_sampling": "round_robin"}, "component_sampling"),
    ],
)
def test_mixture_bad_arguments(kwargs, word):
    with pytest.raises(ValueError, match=word):
        MixtureLatent(**kwargs)


def test_maxout_takes_max_over_pieces():
    layer = Maxout(2, pieces=3)
    layer.build((None, 1))
    kernel = np.array([[1.0, -2.0, 3.0, -1.0, 0.5, 0.0]], "float32")
    layer.dense.set_weights([kernel, np.zeros(6, "float32")])
    out = np.asarray(layer(np.array([[1.0], [-1.0]], "float32")))
    np.testing.assert_allclose(out, [[3.0, 0.5], [2.0, 1.0]])


def test_minibatch_discrimination_sees_diversity():
    layer = MinibatchDiscrimination(num_kernels=4, kernel_dim=2)
    same = np.ones((5, 3), "float32")
    diverse = np.random.default_rng(0).normal(size=(5, 3)).astype("float32")
    f_same = np.asarray(layer(same))[:, 3:]
    f_diverse = np.asarray(layer(diverse))[:, 3:]
    # Identical examples: each has 4 others at distance 0 -> 4 per kernel.
    np.testing.assert_allclose(f_same, 4.0, rtol=1e-6)
    assert np.all(f_diverse < 4.0)


def _md_with_kernel(kernel, **kwargs):
    layer = MinibatchDiscrimination(**kwargs)
    layer.build((None, kernel.shape[0]))
    layer.set_weights([kernel])
    return layer


def test_minibatch_grand_sum_matches_hand_computation():
    # 3 examples, 1 input feature, 2 kernels of 1 dim: M = x * [1, 2].
    layer = _md_with_kernel(
        np.array([[1.0, 2.0]], "float32"),
        num_kernels=2,
        kernel_dim=1,
        normalization="grand_sum",
    )
    x = np.array([[0.0], [1.0], [3.0]], "float32")
    out = np.asarray(layer(x))
    # Kernel 1 distances: |0-1| = 1, |0-3| = 3, |1-3| = 2; kernel 2 doubles
    # them. Row sums include the example itself (exp(0) = 1).
    e = np.exp
    k1 = [1 + e(-1) + e(-3), 1 + e(-1) + e(-2), 1 + e(-3) + e(-2)]
    k2 = [1 + e(-2) + e(-6), 1 + e(-2) + e(-4), 1 + e(-6) + e(-4)]
    grand = sum(k1) + sum(k2)
    expected = np.stack([k1, k2], axis=1) / grand
    np.testing.assert_allclose(out[:, :1], x)
    np.testing.assert_allclose(out[:, 1:], expected, rtol=1e-6)
    np.testing.assert_allclose(out[:, 1:].sum(), 1.0, rtol=1e-6)
    # The standard form on the same input: other examples only, no division.
    layer.normalization = "standard"
    np.testing.assert_allclose(
        np.asarray(layer(x))[:, 1:],
        np.stack([k1, k2], axis=1) - 1.0,
        rtol=1e-6,
    )


def test_minibatch_grand_sum_does_not_overflow_float16():
    # 50 identical examples x 64 kernels: a grand sum of 160,000 > 65,504.
    layer = MinibatchDiscrimination(64, 5, normalization="grand_sum")
    layer.build((None, 8))
    half = MinibatchDiscrimination.from_config(
        {**layer.get_config(), "dtype": "mixed_float16"}
    )
    half.build((None, 8))
    half.set_weights(layer.get_weights())
    out = np.asarray(half(np.ones((50, 8), "float16")), "float32")
    np.testing.assert_allclose(out[:, 8:], 1 / (50 * 64), rtol=1e-3)


def test_minibatch_config_round_trip():
    inp = keras.Input((3,))
    layer = MinibatchDiscrimination(4, 2, normalization="grand_sum", name="md")
    model = keras.Model(inp, layer(inp))
    assert layer.get_config()["normalization"] == "grand_sum"
    restored = keras.Model.from_config(model.get_config())
    restored.set_weights(model.get_weights())
    assert restored.get_layer("md").normalization == "grand_sum"
    x = np.random.default_rng(1).normal(size=(5, 3)).astype("float32")
    np.testing.assert_allclose(restored(x), model(x), rtol=1e-6)
    default = MinibatchDiscrimination.from_config(
        {"num_kernels": 4, "kernel_dim": 2}
    )
    assert default.normalization == "standard"


# (2, 0): an empty replica must still join the collectives (a replica alone
# with the whole batch gave the right features before they were global too).
@pytest.mark.parametrize("sizes", [(4, 4), (3, 2), (2, 0)])
@pytest.mark.parametrize("normalization", ["standard", "grand_sum"])
def test_minibatch_on_two_replicas_sees_the_global_batch(
    normalization, sizes, mirrored
):
    """Replicas holding consecutive rows of a batch (also unevenly, or none)
    compare them with the whole batch: their features are one device's, and
    their gradients (kernel: summed over replicas, as the strategy does;
    inputs: their own rows) too."""
    rng = np.random.default_rng(2)
    total = sum(sizes)
    x = tf.constant(rng.normal(size=(total, 6)), "float32")
    # Random weights on the features: the grand-sum ones always sum to 1.
    w = tf.constant(rng.normal(size=(total, 3)), "float32")
    kernel = rng.normal(scale=0.3, size=(6, 15)).astype("float32")
    layer = _md_with_kernel(kernel, num_kernels=3, kernel_dim=5)
    layer.normalization = normalization
    with mirrored.scope():
        twin = _md_with_kernel(kernel, num_kernels=3, kernel_dim=5)
    twin.normalization = normalization

    def run(md, rows, weights):
        with tf.GradientTape() as tape:
            tape.watch(rows)
            features = md(rows)[:, 6:]
            loss = tf.reduce_sum(features * weights)
        return (features, *tape.gradient(loss, [md.kernel, rows]))

    whole = [np.asarray(t) for t in run(layer, x, w)]

    @tf.function
    def part():
        r = tf.distribute.get_replica_context().replica_id_in_sync_group
        start = tf.gather(tf.cumsum([0, *sizes]), r)
        end = start + tf.gather(sizes, r)
        return run(twin, x[start:end], w[start:end])

    parts = mirrored.experimental_local_results(mirrored.run(part))
    features, grad_kernel, grad_rows = (
        [np.asarray(t) for t in ts] for ts in zip(*parts)
    )
    np.testing.assert_allclose(
        np.concatenate(features), whole[0], rtol=1e-5, atol=1e-7
    )
    np.testing.assert_allclose(sum(grad_kernel), whole[1], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(
        np.concatenate(grad_rows), whole[2], rtol=1e-4, atol=1e-6
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"normalization": "mean"}, "choose from grand_sum, standard"),
        ({"num_kernels": 0}, "num_kernels"),
        ({"kernel_dim": 2.5}, "kernel_dim"),
    ],
)
def test_minibatch_bad_arguments(kwargs, message):
    with pytest.raises(ArgumentError, match=message) as info:
        MinibatchDiscrimination(**kwargs)
    assert "\n" not in str(info.value)


KEYED = {
    "dropout": (KeyedDropout, keras.layers.Dropout, 0.3),
    "noise": (KeyedGaussianNoise, keras.layers.GaussianNoise, 0.3),
}


@pytest.mark.parametrize("kind", sorted(KEYED))
def test_keyed_layers_without_a_key_are_keras_layers(kind):
    keyed, plain, value = KEYED[kind]
    x = np.ones((400, 50), "float32")
    y = np.asarray(keyed(value, seed=3)(x, training=True))
    np.testing.assert_array_equal(y, plain(value, seed=3)(x, training=True))
    if kind == "dropout":
        assert np.mean(y == 0) == pytest.approx(0.3, abs=0.01)
        np.testing.assert_allclose(y[y != 0], 1 / 0.7, rtol=1e-6)
    else:
        assert np.std(y - x) == pytest.approx(0.3, rel=0.02)
    for layer in (keyed(value), keyed(0.0)):
        np.testing.assert_array_equal(layer(x), x)
        with noise_key([0, 1]):
            np.testing.assert_array_equal(layer(x, training=False), x)


@pytest.mark.parametrize("kind", sorted(KEYED))
def test_keyed_layers_slice_the_global_batch_by_row(kind):
    """Rows 3:7 drawn on their own, keyed as rows 3:7 of 7, are rows 3:7
    of the draw for all 7; also traced, with a tensor seed and rows."""
    layer = KEYED[kind][0](0.5)
    x = np.random.default_rng(0).normal(size=(7, 4, 5)).astype("float32")
    with noise_key([4, 2]):
        whole = np.asarray(layer(x, training=True))
        second = np.asarray(layer(x, training=True))
    with noise_key([4, 2], start=0, global_batch=7):
        head = np.asarray(layer(x[:3], training=True))

    @tf.function
    def tail(rows, start, total):
        with noise_key(tf.constant([4, 2], tf.int64), start, total):
            return layer(rows, training=True)

    parts = np.concatenate([head, tail(x[3:], tf.constant(3), tf.constant(7))])
    np.testing.assert_array_equal(parts, whole)
    # Each call inside a key draws its own stream; a new key, another.
    assert not np.array_equal(whole, second)
    with noise_key([4, 3]):
        assert not np.array_equal(layer(x, training=True), whole)


def test_keyed_dropout_keeps_keras_scaling():
    x = np.random.default_rng(1).uniform(1, 2, (200, 100)).astype("float32")
    with noise_key([0, 0]):
        y = np.asarray(KeyedDropout(0.2)(x, training=True))
    kept = y != 0
    assert np.mean(kept) == pytest.approx(0.8, abs=0.01)
    np.testing.assert_allclose(y[kept], x[kept] / 0.8, rtol=1e-6)


def test_keyed_layers_keras_file_round_trip(tmp_path):
    inp = keras.Input((6,))
    x = KeyedGaussianNoise(0.1, seed=2, name="noise")(inp)
    x = keras.layers.Dense(4)(x)
    out = KeyedDropout(0.25, seed=1, name="drop")(x)
    model = keras.Model(inp, out)
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    for name, cls in (("noise", KeyedGaussianNoise), ("drop", KeyedDropout)):
        layer = restored.get_layer(name)
        assert type(layer) is cls
        assert layer.get_config() == model.get_layer(name).get_config()
    x = np.random.default_rng(2).normal(size=(5, 6)).astype("float32")
    np.testing.assert_allclose(restored(x), model(x), rtol=1e-6)
    outputs = []
    for net in (model, restored):
        with noise_key([9, 9]):
            outputs.append(np.asarray(net(x, training=True)))
    np.testing.assert_allclose(*outputs, rtol=1e-6)


@pytest.mark.parametrize("kind", sorted(KEYED))
def test_keyed_layers_under_mixed_bfloat16(kind):
    layer = KEYED[kind][0](0.5, dtype="mixed_bfloat16")
    x = np.ones((8, 16), "float32")
    with noise_key([0, 5]):
        y = layer(x, training=True)
    assert y.dtype == "bfloat16"
    with noise_key([0, 5]):
        y32 = KEYED[kind][0](0.5)(x, training=True)
    # The same draw as in float32, rounded to bfloat16.
    np.testing.assert_allclose(
        np.asarray(tf.cast(y, "float32")), y32, rtol=1e-2, atol=1e-2
    )


@pytest.mark.parametrize(
    "layer, kwargs, message",
    [
        (KeyedDropout, {"rate": 1.0}, "rate must be in"),
        (KeyedDropout, {"rate": -0.1}, "rate must be in"),
        (KeyedDropout, {"rate": 0.5, "noise_shape": (1, 3)}, "noise_shape"),
        (KeyedGaussianNoise, {"stddev": -1}, "stddev must be >= 0"),
        (KeyedGaussianNoise, {"stddev": "0.1"}, "stddev must be >= 0"),
    ],
)
def test_keyed_layers_bad_arguments(layer, kwargs, message):
    with pytest.raises(ArgumentError, match=message) as error:
        layer(**kwargs)
    assert "\n" not in str(error.value)
