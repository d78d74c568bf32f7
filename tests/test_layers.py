"""MixtureLatent, Maxout and MinibatchDiscrimination."""

import keras
import numpy as np
import pytest

from ganzoo.layers import Maxout, MinibatchDiscrimination, MixtureLatent


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
