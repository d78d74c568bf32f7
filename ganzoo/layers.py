"""Layers the papers need: DeLiGAN's mixture latent, maxout, minibatch
discrimination."""

import keras
from keras import ops

from ganzoo._checks import ArgumentError, check_choice, check_positive_ints

__all__ = [
    "COMPONENT_SAMPLINGS",
    "Maxout",
    "MinValue",
    "MinibatchDiscrimination",
    "MixtureLatent",
]

# `MixtureLatent(component_sampling=...)` choices.
COMPONENT_SAMPLINGS = ("uniform", "cycle")
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
        min_sigma=1e-3,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive_ints(num_components=num_components)
        if not sigma_init > 0:
            raise ArgumentError(f"sigma_init must be > 0, got {sigma_init}.")
        if not 0 < min_sigma <= sigma_init:
            raise ArgumentError(
                f"min_sigma must be in (0, sigma_init={sigma_init}], got "
                f"{min_sigma}."
            )
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

    Under data parallelism the batch is the per-replica batch, so, like
    batch normalisation without synchronisation, results depend on how the
    global batch is split. With `"grand_sum"` the split also changes the
    features' scale: the original divides by a sum over its whole (single
    device) batch; here each replica divides by the sum over its own
    examples, so with R replicas of b the features are about R times those
    of one device with the global batch R x b.

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
        diff = ops.expand_dims(m, 0) - ops.expand_dims(m, 1)
        similarity = ops.exp(-ops.sum(ops.abs(diff), axis=-1))
        if self.normalization == "grand_sum":
            features = ops.sum(similarity, axis=0) / ops.sum(similarity)
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
