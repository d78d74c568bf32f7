"""Losses against numbers computed by hand, eager and in tf.function."""

import math

import numpy as np
import pytest
import tensorflow as tf

from ganzoo import losses

REAL = np.array([[2.0], [0.0], [-1.0], [0.5]], "float32")
FAKE = np.array([[-2.0], [0.0], [1.0], [3.0]], "float32")


def _softplus(x):
    return math.log1p(math.exp(x))


# Each case: (function, args, per-example values computed by hand).
CASES = {
    "minimax_d": (
        losses.minimax_discriminator_loss,
        (REAL, FAKE),
        [_softplus(-r) + _softplus(f) for r, f in zip(REAL[:, 0], FAKE[:, 0])],
    ),
    "minimax_g": (
        losses.minimax_generator_loss,
        (FAKE,),
        [-_softplus(f) for f in FAKE[:, 0]],
    ),
    "non_saturating_g": (
        losses.non_saturating_generator_loss,
        (FAKE,),
        [_softplus(-f) for f in FAKE[:, 0]],
    ),
    # 1/2 (r - 1)^2 + 1/2 (f + 1)^2 with a=-1, b=1.
    "ls_d_pearson": (
        losses.least_squares_discriminator_loss,
        (REAL, FAKE),
        [
            0.5 * 1 + 0.5 * 1,
            0.5 * 1 + 0.5 * 1,
            0.5 * 4 + 0.5 * 4,
            0.5 * 0.25 + 0.5 * 16,
        ],
    ),
    # 1/2 (f - 0)^2.
    "ls_g_pearson": (
        losses.least_squares_generator_loss,
        (FAKE,),
        [2.0, 0.0, 0.5, 4.5],
    ),
    # a=0, b=1, c=1: 1/2 (r - 1)^2 + 1/2 f^2 and 1/2 (f - 1)^2.
    "ls_d_01": (
        lambda r, f: losses.least_squares_discriminator_loss(r, f, a=0, b=1),
        (REAL, FAKE),
        [0.5 + 2.0, 0.5 + 0.0, 2.0 + 0.5, 0.125 + 4.5],
    ),
    "ls_g_01": (
        lambda f: losses.least_squares_generator_loss(f, c=1),
        (FAKE,),
        [4.5, 0.5, 0.0, 2.0],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("graph", [False, True], ids=["eager", "tf_function"])
def test_loss_values(case, graph):
    fn, args, expected = CASES[case]
    if graph:
        fn = tf.function(fn)
    out = np.asarray(fn(*[tf.constant(a) for a in args]))
    assert out.shape == (4,)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_minimax_generator_is_log_one_minus_d():
    fake = np.array([[0.3]], "float32")
    d = 1 / (1 + math.exp(-0.3))
    assert float(losses.minimax_generator_loss(fake)[0]) == pytest.approx(
        math.log(1 - d), rel=1e-5
    )


def test_per_example_reduces_trailing_axes():
    scores = np.ones((3, 2, 2), "float32")
    assert losses.least_squares_generator_loss(scores, c=0.0).shape == (3,)


def test_losses_are_stable_for_large_logits():
    big = np.array([[80.0], [-80.0]], "float32")
    out = np.asarray(losses.minimax_discriminator_loss(big, -big))
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, [0.0, 160.0], atol=1e-4)


@pytest.mark.parametrize(
    "fn",
    [
        losses.minimax_discriminator_loss,
        losses.least_squares_discriminator_loss,
    ],
    ids=["minimax", "least_squares"],
)
def test_d_losses_refuse_batches_of_different_sizes(fn):
    # Was TensorFlow's "Incompatible shapes: [4] vs. [3]".
    with pytest.raises(ValueError, match=r"same batch size, got 4 and 3\.$"):
        fn(REAL, FAKE[:3])
    # What must still work: other trailing axes, and unknown batch sizes
    # while tracing (checked when the sizes are known only).
    assert fn(REAL, FAKE.reshape(4, 1, 1, 1)).shape == (4,)
    spec = tf.TensorSpec([None, 1], tf.float32)
    traced = tf.function(fn, input_signature=[spec, spec])
    np.testing.assert_allclose(traced(REAL, FAKE), fn(REAL, FAKE), rtol=1e-6)
