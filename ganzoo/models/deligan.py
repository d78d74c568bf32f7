"""DeLiGAN (Gurumurthy et al. 2017)."""

import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from ganzoo._checks import ArgumentError, check_range
from ganzoo.layers import COMPONENT_SAMPLINGS, MixtureLatent
from ganzoo.models.gan import GAN, SAMPLINGS, _latent_array, latent_key

__all__ = [
    "COMPONENT_SAMPLINGS",
    "PAPER_SAMPLES_PER_COMPONENT",
    "SAMPLINGS",
    "DeLiGAN",
]

# The authors evaluated 100 batches of 50 = 100 samples per component.
PAPER_SAMPLES_PER_COMPONENT = 100


@keras.saving.register_keras_serializable(package="ganzoo")
class DeLiGAN(GAN):
    """DeLiGAN: GANs for diverse and limited data (Gurumurthy et al., CVPR
    2017, arXiv 1706.02071).

    Only the latent differs from `GAN`: the generator sees
    `z = mu_i + sigma_i * eps` with `eps ~ N(0, I)` and `i` a component of a
    trainable Gaussian mixture (`ganzoo.layers.MixtureLatent`), trained with
    G. G's loss adds `sigma_reg * mean((1 - sigma)^2)` so sigma does not
    collapse to 0. The noise `eps` is standard normal (the original code
    drew it uniformly at generation time, a known bug;
    `sample(..., sampling="paper")` draws that way to compare with the
    paper's numbers).

    Args:
        generator, discriminator, latent_dim, d_steps, generator_loss,
        data_range, seed: as in `GAN`.
        num_components: N, mixture components (>= 1; 50 in the paper).
        sigma_init: initial sigma (> 0; 0.2 in the paper).
        sigma_reg: weight of the sigma regulariser (>= 0; the original
            code's `mean((sigma - 1)^2) / 3` is `sigma_reg=1/3`).
        component_sampling: `"uniform"` (each sample picks a component at
            random) or `"cycle"` (sample k uses component k mod N, the
            original code's one-sample-per-component batches). k counts
            rows of the global batch, so every strategy gives the same.

    Example:
    >>> import ganzoo
    >>> m = ganzoo.DeLiGAN(
    ...     generator=ganzoo.networks.toy_generator(units=8),
    ...     discriminator=ganzoo.networks.toy_discriminator(units=8),
    ...     latent_dim=2, num_components=5)
    >>> tuple(m.mixture.mu.shape)
    (5, 2)
    """

    metric_names = GAN.metric_names + ("sigma",)
    samplings = SAMPLINGS

    def __init__(
        self,
        generator,
        discriminator,
        latent_dim,
        num_components=50,
        sigma_init=0.2,
        sigma_reg=1.0 / 3.0,
        component_sampling="uniform",
        **kwargs,
    ):
        if kwargs.pop("latent_distribution", "normal") != "normal":
            raise ArgumentError(
                "DeLiGAN's noise eps is always standard normal (the mixture "
                "shapes it): latent_distribution must be 'normal'."
            )
        kwargs.setdefault("name", "deligan")
        check_range("sigma_reg", sigma_reg, 0, math.inf)  # not NaN or inf
        super().__init__(generator, discriminator, latent_dim, **kwargs)
        self.mixture = MixtureLatent(
            num_components=num_components,
            sigma_init=sigma_init,
            component_sampling=component_sampling,
            name="mixture",
        )
        self.mixture.build((None, self.latent_dim))
        self.sigma_reg = float(sigma_reg)

    @property
    def num_components(self):
        """N, the number of mixture components."""
        return self.mixture.num_components

    @property
    def sigma_init(self):
        """The mixture's initial sigma (its argument; the trained sigmas
        are `mixture.sigma`)."""
        return self.mixture.sigma_init

    @property
    def component_sampling(self):
        """How each sample's mixture component is chosen: "uniform" or
        "cycle"."""
        return self.mixture.component_sampling

    @property
    def generator_variables(self):
        return self.mixture.trainable_variables + (
            self.generator.trainable_variables
        )

    def generator_regularization(self):
        if not self.sigma_reg:
            return None
        return self.sigma_reg * self.mixture.sigma_regularization()

    def draw_latent(self, num, seed, sampling="normal"):
        """`(eps, components)`: standard-normal noise and component ids
        (`component_sampling`), from `seed` as in `GAN.draw_latent` (an
        integer, as `sample` takes it, or an int[2] key).
        `sampling="paper"` draws as the DeLiGAN
        authors evaluated: eps ~ U(-1, 1) (not the N(0, I) of training) and
        sample k takes component k mod N, so `sample(100 * N, ...,
        sampling="paper")` gives 100 samples per component (their 5,000 for
        50 components).

        Example:
        >>> import ganzoo, tensorflow as tf
        >>> m = ganzoo.DeLiGAN(
        ...     generator=ganzoo.networks.toy_generator(units=8),
        ...     discriminator=ganzoo.networks.toy_discriminator(units=8),
        ...     latent_dim=2, num_components=5)
        >>> eps, ids = m.draw_latent(7, tf.constant([0, 1]), "paper")
        >>> ids.numpy().tolist()
        [0, 1, 2, 3, 4, 0, 1]
        >>> m.sample(500, seed=0, sampling="paper").shape
        (500, 2)
        """
        self.check_sampling(sampling)
        seed = latent_key(seed)
        shape = (num, self.latent_dim)
        if sampling == "paper":
            eps = tf.random.stateless_uniform(shape, seed, -1.0, 1.0)
            return eps, tf.range(num) % self.num_components
        eps = tf.random.stateless_normal(shape, seed)
        if self.mixture.component_sampling == "cycle":
            ids = tf.range(num) % self.num_components
        else:
            ids = tf.random.stateless_uniform(
                (num,),
                tf.random.experimental.stateless_fold_in(seed, 1),
                0,
                self.num_components,
                dtype=tf.int32,
            )
        return eps, ids

    def _checked_latent(self, latent):
        """`eps` alone (components drawn at random) or `(eps, component_ids)`
        with as many integer ids in [0, num_components) as rows of eps; an
        id outside it would silently give G(0)."""
        pair = isinstance(latent, tuple) or (
            isinstance(latent, list)
            and len(latent) == 2
            and np.ndim(latent[0]) == 2
        )
        if not pair:
            return super()._checked_latent(latent)
        eps, ids = latent
        eps = _latent_array("eps", eps, self.latent_dim)
        ids = np.asarray(ids)
        if (
            not np.issubdtype(ids.dtype, np.integer)
            or ids.shape != (len(eps),)
            or ids.min() < 0
            or ids.max() >= self.num_components
        ):
            raise ArgumentError(
                f"component_ids must be {len(eps)} integers (one per row of "
                f"eps) in [0, {self.num_components}), got "
                f"{ids.dtype} of shape {ids.shape}"
                + (
                    f" from {ids.min()} to {ids.max()}."
                    if ids.size and np.issubdtype(ids.dtype, np.number)
                    else "."
                )
            )
        return tf.convert_to_tensor(eps), tf.convert_to_tensor(ids, tf.int32)

    def generate_raw(self, latent, training=False):
        if isinstance(latent, (tuple, list)):
            eps, components = latent
        else:
            eps, components = latent, None
        z = self.mixture(eps, components=components)
        return self.generator(z, training=training)

    def update_extra_metrics(self):
        self._trackers["sigma"].update_state(ops.mean(self.mixture.sigma))

    def get_config(self):
        config = super().get_config()
        del config["latent_distribution"]
        config.update(
            num_components=self.mixture.num_components,
            sigma_init=self.mixture.sigma_init,
            sigma_reg=self.sigma_reg,
            component_sampling=self.mixture.component_sampling,
        )
        return config
