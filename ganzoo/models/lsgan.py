"""Least squares GAN (Mao et al. 2016)."""

import keras

from ganzoo import losses
from ganzoo._checks import ArgumentError, check_finite
from ganzoo.models.gan import GAN

__all__ = [
    "CODINGS",
    "LSGAN",
]


CODINGS = {"pearson": (-1.0, 1.0, 0.0), "real_label": (0.0, 1.0, 1.0)}


@keras.saving.register_keras_serializable(package="ganzoo")
class LSGAN(GAN):
    """Least Squares GAN (Mao et al. 2016, arXiv 1611.04076).

    Only the losses differ from `GAN`: D minimises
    `1/2 (D(x) - b)^2 + 1/2 (D(G(z)) - a)^2` and G minimises
    `1/2 (D(G(z)) - c)^2`. D's output is linear. The paper's two codings are
    `(a, b, c) = (-1, 1, 0)` (minimises the Pearson chi^2 divergence, the
    default) and `(0, 1, 1)`; `coding="pearson"` / `"real_label"` selects
    them by name.

    Args:
        generator, discriminator, latent_dim, d_steps, latent_distribution,
        data_range, seed: as in `GAN`.
        a: target score for fake data in D's loss.
        b: target score for real data in D's loss (must differ from `a`).
        c: the score G wants D to give its samples.
        coding: optional name of a paper coding; overrides `a`, `b`, `c`.

    Example:
    >>> import ganzoo
    >>> m = ganzoo.LSGAN(
    ...     generator=ganzoo.networks.toy_generator(units=8),
    ...     discriminator=ganzoo.networks.toy_discriminator(units=8),
    ...     latent_dim=2, coding="real_label")
    >>> (m.a, m.b, m.c)
    (0.0, 1.0, 1.0)
    """

    def __init__(
        self,
        generator,
        discriminator,
        latent_dim,
        a=-1.0,
        b=1.0,
        c=0.0,
        coding=None,
        **kwargs,
    ):
        if "generator_loss" in kwargs:
            raise ArgumentError(
                "LSGAN's generator loss is fixed by the paper (least squares "
                "with target c): set a, b, c or coding, not generator_loss."
            )
        kwargs.setdefault("name", "lsgan")
        if coding is not None:
            if coding not in CODINGS:
                raise ArgumentError(
                    f"coding must be one of {sorted(CODINGS)} or None, got "
                    f"{coding!r}."
                )
            a, b, c = CODINGS[coding]
        check_finite(a=a, b=b, c=c)
        if a == b:
            raise ArgumentError(
                f"a (fake target) and b (real target) must differ, got "
                f"a = b = {a}."
            )
        super().__init__(generator, discriminator, latent_dim, **kwargs)
        self.a, self.b, self.c = float(a), float(b), float(c)

    @property
    def coding(self):
        """The name (a key of `CODINGS`) of the paper's coding that
        `(a, b, c)` equals, or None if it is another triple."""
        for name, abc in CODINGS.items():
            if abc == (self.a, self.b, self.c):
                return name
        return None

    def discriminator_loss(self, real_output, fake_output):
        return losses.least_squares_discriminator_loss(
            real_output, fake_output, a=self.a, b=self.b
        )

    def generator_loss_fn(self, fake_output):
        return losses.least_squares_generator_loss(fake_output, c=self.c)

    def discriminator_score(self, output):
        return output

    def get_config(self):
        config = super().get_config()
        del config["generator_loss"]
        config.update(a=self.a, b=self.b, c=self.c)
        return config
