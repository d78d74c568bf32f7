"""GAN losses as small pure functions.

Every function returns the loss **per example** (shape `(batch,)`): the models
reduce it with `tf.nn.compute_average_loss` so that the update is the same on
one device and on many replicas (gradients are summed across replicas).
Discriminator outputs are logits for the cross-entropy family (the sigmoid of
the paper's D is folded into the loss for numerical stability) and raw scores
for the least-squares family.
"""

from keras import ops

from ganzoo._checks import ArgumentError

__all__ = [
    "GENERATOR_LOSSES",
    "least_squares_discriminator_loss",
    "least_squares_generator_loss",
    "minimax_discriminator_loss",
    "minimax_generator_loss",
    "non_saturating_generator_loss",
]


def _per_example(x):
    x = ops.convert_to_tensor(x)
    x = ops.reshape(x, (ops.shape(x)[0], -1))
    return ops.mean(x, axis=-1)


def _pair(real, fake):
    """`real` and `fake` D outputs as tensors; ArgumentError if their batch
    sizes are known and differ (each example's loss adds a real and a fake
    term; TensorFlow would say "Incompatible shapes")."""
    real, fake = ops.convert_to_tensor(real), ops.convert_to_tensor(fake)
    sizes = (
        (real.shape[0] if real.shape else None),
        (fake.shape[0] if fake.shape else None),
    )
    if None not in sizes and sizes[0] != sizes[1]:
        raise ArgumentError(
            "real and fake outputs must have the same batch size, got "
            f"{sizes[0]} and {sizes[1]}."
        )
    return real, fake


def minimax_discriminator_loss(real_logits, fake_logits):
    """Discriminator loss of the original GAN (arXiv 1406.2661, eq. 1).

    `-log D(x) - log(1 - D(G(z)))` with `D = sigmoid(logits)`, computed as
    `softplus(-real_logits) + softplus(fake_logits)`. D minimises this, which
    is the same as maximising the value function V(D, G).

    Example:
    >>> float(minimax_discriminator_loss([[0.0]], [[0.0]])[0])  # 2 log 2
    1.3862943...
    """
    real, fake = _pair(real_logits, fake_logits)
    return _per_example(ops.softplus(-real)) + _per_example(ops.softplus(fake))


def minimax_generator_loss(fake_logits):
    """The saturating generator loss of arXiv 1406.2661: `log(1 - D(G(z)))`.

    Equal to `-softplus(fake_logits)`. Its gradient vanishes when D confidently
    rejects the samples (early in training), which is why the paper advises
    the non-saturating loss instead.

    Example:
    >>> float(minimax_generator_loss([[0.0]])[0])  # log(1/2)
    -0.6931471...
    """
    return _per_example(-ops.softplus(ops.convert_to_tensor(fake_logits)))


def non_saturating_generator_loss(fake_logits):
    """The non-saturating generator loss of arXiv 1406.2661, section 3.

    `-log D(G(z))`, computed as `softplus(-fake_logits)`: same fixed point as
    the minimax loss, much stronger gradients early in training.

    Example:
    >>> float(non_saturating_generator_loss([[0.0]])[0])  # log 2
    0.6931471...
    """
    return _per_example(ops.softplus(-ops.convert_to_tensor(fake_logits)))


def least_squares_discriminator_loss(real_scores, fake_scores, a=-1.0, b=1.0):
    """LSGAN discriminator loss (arXiv 1611.04076, eq. 2).

    `1/2 (D(x) - b)^2 + 1/2 (D(G(z)) - a)^2` where `a` is the target for fake
    and `b` for real data. D's output is linear (no sigmoid).

    Example:
    >>> float(least_squares_discriminator_loss([[1.0]], [[0.0]])[0])
    0.5
    """
    real, fake = _pair(real_scores, fake_scores)
    return 0.5 * _per_example(ops.square(real - b)) + 0.5 * _per_example(
        ops.square(fake - a)
    )


def least_squares_generator_loss(fake_scores, c=0.0):
    """LSGAN generator loss (arXiv 1611.04076, eq. 2): `1/2 (D(G(z)) - c)^2`.

    With `(a, b, c) = (-1, 1, 0)` the objective minimises the Pearson chi^2
    divergence (eq. 9); `(0, 1, 1)` makes G fool D into the real label.

    Example:
    >>> float(least_squares_generator_loss([[2.0]], c=0.0)[0])
    2.0
    """
    fake = ops.convert_to_tensor(fake_scores)
    return 0.5 * _per_example(ops.square(fake - c))


GENERATOR_LOSSES = {
    "non_saturating": non_saturating_generator_loss,
    "minimax": minimax_generator_loss,
}
