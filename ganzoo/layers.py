"""Layers the papers need: DeLiGAN's mixture latent, maxout, minibatch
discrimination, and dropout / Gaussian noise keyed by global batch row."""

import contextlib
import math
import threading

import keras
import tensorflow as tf
from keras import ops

from ganzoo._checks import (
    ArgumentError,
    _is_real,
    check_choice,
    check_positive,
    check_positive_ints,
    check_range,
)

__all__ = [
    "COMPONENT_SAMPLINGS",
    "MIN_SIGMA",
    "KeyedDropout",
    "KeyedGaussianNoise",
    "Maxout",
    "MinValue",
    "MinibatchDiscrimination",
    "MixtureLatent",
    "noise_key",
]

# `MixtureLatent(component_sampling=...)` choices.
COMPONENT_SAMPLINGS = ("uniform", "cycle")
# `MixtureLatent`'s default floor of sigma (keeps it positive).
MIN_SIGMA = 1e-3
# `MinibatchDiscrimination(normalization=...)` choices.
_NORMALIZATIONS = ("standard", "grand_sum")


@keras.saving.register_keras_serializable(package="ganzoo")
class MinValue(keras.constraints.Constraint):
    """Clips a weight from below so that, e.g., DeLiGAN's sigma stays > 0.

    Args:
        min_value: the smallest value the weight may take.

    Example:
    >>> c = MinValue(1e-3)
    >>> round(float(c(keras.ops.convert_to_tensor([-1.0]))[0]), 6)
    0.001
    """

    def __init__(self, min_value=1e-3):
        self.min_value = float(min_value)

    def __call__(self, w):
        return ops.maximum(w, ops.cast(self.min_value, w.dtype))

    def get_config(self):
        return {"min_value": self.min_value}


@keras.saving.register_keras_serializable(package="ganzoo")
class MixtureLatent(keras.layers.Layer):
    """DeLiGAN's trainable Gaussian-mixture latent (arXiv 1706.02071, eq. 3).

    Holds `num_components` means `mu` (N x d, initialised U(-1, 1)) and
    standard deviations `sigma` (N x d, initialised to `sigma_init`, kept
    >= `min_sigma`). For standard-normal noise `eps` and component ids `i`
    it returns `z = mu[i] + sigma[i] * eps`, so G and the mixture train
    together through the reparameterisation.

    Args:
        num_components: N, the number of mixture components (>= 1).
        sigma_init: initial value of every sigma (> 0). The paper uses 0.2.
        component_sampling: how ids are drawn when the caller gives none:
            `"uniform"` (each sample picks a component at random) or
            `"cycle"` (the original code: sample k uses component k mod N,
            so a batch of N holds one sample per component).
        min_sigma: lower bound that keeps sigma positive.
        seed: seed for the component ids drawn when none are given.

    Call args:
        inputs: `eps`, float tensor `(batch, d)`, standard normal.
        components: optional int tensor `(batch,)` of component ids.

    Example:
    >>> layer = MixtureLatent(num_components=5, sigma_init=0.2)
    >>> z = layer(keras.random.normal((8, 3), seed=0))
    >>> tuple(z.shape), tuple(layer.mu.shape)
    ((8, 3), (5, 3))
    """

    def __init__(
        self,
        num_components=50,
        sigma_init=0.2,
        component_sampling="uniform",
        min_sigma=MIN_SIGMA,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive_ints(num_components=num_components)
        check_positive(min_sigma=min_sigma)
        check_range("sigma_init", sigma_init, min_sigma, math.inf)
        if component_sampling not in COMPONENT_SAMPLINGS:
            raise ArgumentError(
                "component_sampling must be 'uniform' or 'cycle', got "
                f"{component_sampling!r}."
            )
        self.num_components = int(num_components)
        self.sigma_init = float(sigma_init)
        self.component_sampling = component_sampling
        self.min_sigma = float(min_sigma)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        dim = input_shape[-1]
        self.mu = self.add_weight(
            name="mu",
            shape=(self.num_components, dim),
            initializer=keras.initializers.RandomUniform(-1.0, 1.0),
        )
        self.sigma = self.add_weight(
            name="sigma",
            shape=(self.num_components, dim),
            initializer=keras.initializers.Constant(self.sigma_init),
            constraint=MinValue(self.min_sigma),
        )

    def sample_components(self, batch_size):
        """Component ids for a batch, following `component_sampling`.

        Example:
        >>> MixtureLatent(4, component_sampling="cycle").sample_components(6)
        ... # doctest: +SKIP
        [0, 1, 2, 3, 0, 1]
        """
        if self.component_sampling == "cycle":
            return ops.arange(batch_size) % self.num_components
        return keras.random.randint(
            (batch_size,), 0, self.num_components, seed=self.seed_generator
        )

    def call(self, inputs, components=None):
        if components is None:
            components = self.sample_components(ops.shape(inputs)[0])
        # A one-hot matmul rather than a gather: dense gradients, which
        # all-reduce across replicas (sparse ones of unequal size do not).
        onehot = ops.one_hot(
            ops.cast(components, "int32"),
            self.num_components,
            dtype=self.mu.dtype,
        )
        mu = ops.matmul(onehot, self.mu)
        sigma = ops.matmul(onehot, self.sigma)
        return mu + sigma * ops.cast(inputs, mu.dtype)

    def sigma_regularization(self):
        """The paper's anti-collapse term `mean((1 - sigma)^2)` (unweighted).

        Example:
        >>> layer = MixtureLatent(2, sigma_init=0.5)
        >>> layer.build((None, 3))
        >>> round(float(layer.sigma_regularization()), 4)
        0.25
        """
        return ops.mean(ops.square(1.0 - self.sigma))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            num_components=self.num_components,
            sigma_init=self.sigma_init,
            component_sampling=self.component_sampling,
            min_sigma=self.min_sigma,
            seed=self.seed,
        )
        return config


@keras.saving.register_keras_serializable(package="ganzoo")
class Maxout(keras.layers.Layer):
    """Maxout units (Goodfellow et al. 2013): a dense layer with `units *
    pieces` outputs, max-pooled over each group of `pieces`.

    The GAN paper's MNIST discriminator uses two maxout layers of 240 units
    with 5 pieces.

    Args:
        units: number of output units.
        pieces: linear pieces per unit.

    Example:
    >>> tuple(Maxout(4, pieces=3)(keras.ops.ones((2, 7))).shape)
    (2, 4)
    """

    def __init__(self, units, pieces=5, **kwargs):
        super().__init__(**kwargs)
        if units < 1 or pieces < 1:
            raise ArgumentError(
                f"units and pieces must be >= 1, got {units} and {pieces}."
            )
        self.units = int(units)
        self.pieces = int(pieces)
        self.dense = keras.layers.Dense(self.units * self.pieces)

    def build(self, input_shape):
        self.dense.build(input_shape)

    def call(self, inputs):
        x = self.dense(inputs)
        x = ops.reshape(x, (-1, self.units, self.pieces))
        return ops.max(x, axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, pieces=self.pieces)
        return config


@keras.saving.register_keras_serializable(package="ganzoo")
class MinibatchDiscrimination(keras.layers.Layer):
    """Minibatch discrimination (Salimans et al. 2016, arXiv 1606.03498).

    Projects each example's features to `num_kernels` rows of size
    `kernel_dim`, and appends, per kernel, a similarity to the batch built
    from `exp(-||M_i - M_j||_1)`, letting D see a lack of diversity:

    - `normalization="standard"` (Salimans et al.): `sum_j exp(...)` over
      the *other* examples j of the batch.
    - `normalization="grand_sum"` (the DeLiGAN authors' MNIST code,
      `Minibatch_Discriminator` in val-iisc/deligan `dg_mnist.py`): the sum
      over *all* j, the example itself included (`exp(0) = 1`), divided by
      the grand sum of `exp(...)` over every example, kernel and j, so the
      added features of a batch sum to 1. It is computed in float32, as
      that grand sum of batch^2 x kernels terms can overflow float16.

    The batch is the global batch: under a `tf.distribute` strategy with
    several replicas (in a replica context, as in `fit`), each replica
    compares its own examples with those of every replica
    (`ReplicaContext.all_gather`), and `"grand_sum"` divides by the grand
    sum over all of them (`all_reduce`). Like synchronised batch norm,
    replicas holding consecutive parts of a batch (also unevenly) compute
    what one device computes for the whole batch: the features, their
    gradients for each replica's inputs and, once summed over the replicas
    as the optimizer does, the kernel's gradient. Every replica must call
    the layer, in the same order (the calls are collective).

    Args:
        num_kernels: number of similarity kernels (output features added).
        kernel_dim: size of each kernel's projection.
        normalization: `"standard"` or `"grand_sum"` (see above).

    Example:
    >>> tuple(MinibatchDiscrimination(8, 3)(keras.ops.ones((4, 10))).shape)
    (4, 18)
    >>> layer = MinibatchDiscrimination(2, 3, normalization="grand_sum")
    >>> keras.ops.convert_to_numpy(layer(keras.ops.ones((4, 5))))[0, 5:]
    array([0.125, 0.125], dtype=float32)
    """

    def __init__(
        self, num_kernels=50, kernel_dim=5, normalization="standard", **kwargs
    ):
        super().__init__(**kwargs)
        check_positive_ints(num_kernels=num_kernels, kernel_dim=kernel_dim)
        check_choice("normalization", normalization, _NORMALIZATIONS)
        self.num_kernels = int(num_kernels)
        self.kernel_dim = int(kernel_dim)
        self.normalization = normalization

    def build(self, input_shape):
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_shape[-1], self.num_kernels * self.kernel_dim),
            initializer=keras.initializers.RandomNormal(stddev=0.05),
        )

    def call(self, inputs):
        m = ops.reshape(
            ops.matmul(inputs, self.kernel),
            (-1, self.num_kernels, self.kernel_dim),
        )
        if self.normalization == "grand_sum":
            m = ops.cast(m, "float32")
        replicas = _synced_replicas()
        # The rows of every replica (its own included) in global batch
        # order; their gradient flows back to the replica that holds them.
        batch = m if replicas is None else replicas.all_gather(m, axis=0)
        # (global j, local i, kernel, dim): M_i - M_j.
        diff = ops.expand_dims(m, 0) - ops.expand_dims(batch, 1)
        similarity = ops.exp(-ops.sum(ops.abs(diff), axis=-1))
        if self.normalization == "grand_sum":
            total = ops.sum(similarity)
            if replicas is not None:
                total = replicas.all_reduce("sum", total)
            features = ops.sum(similarity, axis=0) / total
            features = ops.cast(features, inputs.dtype)
        else:
            # Subtract exp(0) = 1, each example's similarity with itself.
            features = ops.sum(similarity, axis=0) - 1.0
        return ops.concatenate([inputs, features], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1] + self.num_kernels)

    def get_config(self):
        config = super().get_config()
        config.update(
            num_kernels=self.num_kernels,
            kernel_dim=self.kernel_dim,
            normalization=self.normalization,
        )
        return config


def _synced_replicas():
    """The replica context when replicas of a strategy run in sync (in a
    replica context, more than one), else `None`."""
    ctx = tf.distribute.get_replica_context()
    if ctx is None or ctx.num_replicas_in_sync == 1:
        return None
    return ctx


class _Keys(threading.local):
    # The open `noise_key`s, per thread: a MirroredStrategy traces each
    # replica's step in a thread of its own.
    def __init__(self):
        self.stack = []


_KEYS = _Keys()


class _NoiseKey:
    """An open `noise_key`: its seed and rows, and how many keyed layer
    calls it has served (each call draws from its own stream)."""

    def __init__(self, seed, start, global_batch):
        self.seed = seed
        self.start = start
        self.global_batch = global_batch
        self.calls = 0

    def rows(self, inputs, draw):
        """`draw(shape, seed)` for the global batch, `inputs`' rows of it."""
        seed = tf.random.experimental.stateless_fold_in(self.seed, self.calls)
        self.calls += 1
        shape = tf.shape(inputs)
        total = shape[0] if self.global_batch is None else self.global_batch
        full = draw(tf.concat([[total], shape[1:]], 0), seed)
        return full[self.start : self.start + shape[0]]


@contextlib.contextmanager
def noise_key(seed, start=0, global_batch=None):
    """Keys the `KeyedDropout` / `KeyedGaussianNoise` calls made inside it.

    Each keyed layer call (in call order; the n-th is keyed by `seed`
    folded with n) draws its mask or noise for a global batch of
    `global_batch` rows and keeps rows `start:start + batch` of it, so that
    replicas holding consecutive parts of the global batch together draw
    what one device draws for all of it. `GAN` opens one around each
    training call of its discriminator. The context is read when the
    layers are called (at trace time inside a `tf.function`), in the
    calling thread.

    Args:
        seed: a stateless seed, int tensor or list of shape `(2,)`.
        start: the row of the global batch where the inputs' rows start.
        global_batch: rows in the global batch; `None`: the inputs' own.

    Example:
    >>> layer = KeyedDropout(0.5)
    >>> x = keras.ops.ones((4, 3))
    >>> with noise_key([0, 1]):
    ...     whole = layer(x, training=True)
    >>> with noise_key([0, 1], start=2, global_batch=4):
    ...     part = layer(x[2:], training=True)
    >>> bool(keras.ops.all(part == whole[2:]))
    True
    """
    _KEYS.stack.append(_NoiseKey(seed, start, global_batch))
    try:
        yield
    finally:
        _KEYS.stack.pop()


def _open_key():
    return _KEYS.stack[-1] if _KEYS.stack else None


@keras.saving.register_keras_serializable(package="ganzoo")
class KeyedDropout(keras.layers.Dropout):
    """`keras.layers.Dropout` whose mask, inside a `noise_key`, is drawn for
    the global batch and sliced by row, so N replicas drop what one device
    drops (Keras draws per replica).

    Outside a `noise_key` it is Keras' `Dropout`; at inference, the
    identity. Kept units are divided by `1 - rate`, as in Keras (dropout:
    Srivastava et al. 2014, JMLR 15). The GAN paper's maxout discriminator
    uses it.

    Args:
        rate: fraction of units dropped, in [0, 1).
        seed: seed of the unkeyed (Keras) mask.

    Example:
    >>> layer = KeyedDropout(0.5)
    >>> with noise_key([0, 0]):
    ...     y = layer(keras.ops.ones((2, 4)), training=True)
    >>> sorted(set(keras.ops.convert_to_numpy(y).ravel().tolist()))
    [0.0, 2.0]
    """

    def __init__(self, rate, seed=None, **kwargs):
        if not 0 <= rate < 1:
            raise ArgumentError(f"rate must be in [0, 1), got {rate!r}.")
        if kwargs.get("noise_shape") is not None:
            raise ArgumentError("KeyedDropout takes no noise_shape.")
        super().__init__(rate, seed=seed, **kwargs)

    def call(self, inputs, training=False):
        key = _open_key()
        if key is None or not training or self.rate == 0:
            return super().call(inputs, training=training)
        kept = key.rows(
            inputs,
            lambda shape, seed: (
                tf.random.stateless_uniform(shape, seed) >= self.rate
            ),
        )
        scale = ops.cast(kept, "float32") / (1 - self.rate)
        return inputs * ops.cast(scale, inputs.dtype)


@keras.saving.register_keras_serializable(package="ganzoo")
class KeyedGaussianNoise(keras.layers.GaussianNoise):
    """`keras.layers.GaussianNoise` whose noise, inside a `noise_key`, is
    drawn for the global batch and sliced by row, like `KeyedDropout`.

    Outside a `noise_key` it is Keras' `GaussianNoise`; at inference, the
    identity. The DeLiGAN authors' CIFAR-10 discriminator uses it.

    Args:
        stddev: standard deviation of the added noise.
        seed: seed of the unkeyed (Keras) noise.

    Example:
    >>> layer = KeyedGaussianNoise(0.1)
    >>> with noise_key([0, 0]):
    ...     y = layer(keras.ops.zeros((1000, 1)), training=True)
    >>> round(float(keras.ops.std(y)), 1)
    0.1
    """

    def __init__(self, stddev, seed=None, **kwargs):
        if not (_is_real(stddev) and stddev >= 0):
            raise ArgumentError(f"stddev must be >= 0, got {stddev!r}.")
        super().__init__(stddev, seed=seed, **kwargs)

    def call(self, inputs, training=False):
        key = _open_key()
        if key is None or not training or self.stddev == 0:
            return super().call(inputs, training=training)
        noise = key.rows(
            inputs,
            lambda shape, seed: tf.random.stateless_normal(
                shape, seed, stddev=self.stddev
            ),
        )
        return inputs + ops.cast(noise, inputs.dtype)
