"""Metrics against closed forms, hand-made posteriors and real MNIST."""

import numpy as np
import pytest
import scipy.linalg
import scipy.stats

from ganzoo import classifier as clf
from ganzoo import datasets, metrics
from ganzoo._checks import ArgumentError


# ----------------------------------------------------------------- Frechet
def test_frechet_from_stats_matches_sqrtm_formula():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 5, 5))
    s1, s2 = a @ a.T + 0.1 * np.eye(5), b @ b.T  # non-commuting
    mu1, mu2 = rng.normal(size=(2, 5))
    root = scipy.linalg.sqrtm(s1 @ s2).real
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * root)
    got = metrics.frechet_distance_from_stats(mu1, s1, mu2, s2)
    assert got == pytest.approx(expected, rel=1e-8)
    assert metrics.frechet_distance_from_stats(mu1, s1, mu1, s1) < 1e-8


def test_frechet_of_two_gaussians_vs_closed_form():
    # Diagonal covariances: d^2 = |mu1 - mu2|^2 + sum (sd1 - sd2)^2.
    rng = np.random.default_rng(1)
    sd1, sd2 = np.array([1.0, 2.0, 0.5]), np.array([2.0, 1.0, 0.5])
    mu2 = np.array([1.0, -1.0, 0.0])
    x = rng.normal(size=(200_000, 3)) * sd1
    y = mu2 + rng.normal(size=(200_000, 3)) * sd2
    expected = np.sum(mu2**2) + np.sum((sd1 - sd2) ** 2)  # 4.0
    assert metrics.frechet_distance(x, y) == pytest.approx(expected, rel=0.02)


def test_frechet_refuses_what_is_not_a_covariance():
    # Clipping the eigenvalues of -I used to give a distance of 0.
    eye, zero = np.eye(2), np.zeros(2)
    with pytest.raises(metrics.ArgumentError, match="negative eigenvalue"):
        metrics.frechet_distance_from_stats(zero, -eye, zero, eye)
    with pytest.raises(metrics.ArgumentError, match="sigma2 is not symmetric"):
        metrics.frechet_distance_from_stats(zero, eye, zero, [[1, 2], [0, 1]])
    # Singular sample covariances (fewer rows than columns) pass, also in
    # float32, whose rounding leaves eigenvalues of about -1e-8 of the
    # largest (refused by a tolerance of 1e-6 of the largest entry).
    x = np.random.default_rng(0).normal(size=(5, 20))
    assert metrics.frechet_distance(x, x[::-1]) == pytest.approx(0, abs=1e-9)
    rng = np.random.default_rng(0)
    f = rng.normal(size=(200, 512)) ** 2 * 3 + rng.normal(size=(200, 1)) * 5
    c = np.cov(f.astype(np.float32), rowvar=False, dtype=np.float32)
    mu = f.mean(0)
    assert metrics.frechet_distance_from_stats(mu, c, mu, c) < 1e-6


@pytest.mark.parametrize(
    "call",
    [
        lambda a, b: metrics.frechet_distance(a, b),
        lambda a, b: metrics.nearest_neighbours(a, b),
        lambda a, b: metrics.parzen_log_likelihood(a, b, sigmas=0.2),
    ],
)
def test_pixels_and_unit_floats_are_not_mixed(call):
    # The same pictures as uint8 and as floats in [0, 1] are far apart.
    pixels = np.random.default_rng(0).integers(0, 256, (4, 6), np.uint8)
    with pytest.raises(metrics.ArgumentError, match=r"is uint8 \(0-255\)"):
        call(pixels, pixels / 255.0)
    with pytest.raises(metrics.ArgumentError, match=r"is uint8 \(0-255\)"):
        call(pixels / 255.0, pixels)
    call(pixels, pixels)  # one scale either way
    call(pixels / 255.0, pixels / 255.0)
    call(pixels, pixels.astype(np.int64))  # integers: both 0-255


# ---------------------------------------------------- posterior-based scores
def test_classifier_score_uniform_and_one_hot():
    assert metrics.classifier_score(np.full((50, 10), 0.1)) == pytest.approx(1)
    one_hot = np.eye(10)[np.arange(100) % 10]
    assert metrics.classifier_score(one_hot) == pytest.approx(10)
    logits = 50.0 * one_hot  # softmax is one-hot to float precision
    assert metrics.classifier_score(logits, from_logits=True) == (
        pytest.approx(10)
    )
    mean, std = metrics.classifier_score(one_hot, splits=10, return_std=True)
    assert (mean, std) == (pytest.approx(10), pytest.approx(0))


def test_classifier_score_matches_direct_formula():
    p = np.random.default_rng(2).dirichlet(np.ones(4), size=30)
    marginal = p.mean(0)
    kl = np.sum(p * np.log(p / marginal), axis=1)
    assert metrics.classifier_score(p) == pytest.approx(np.exp(kl.mean()))


def test_modified_inception_score_by_hand():
    # Class 0: two posteriors; mean over the 4 ordered pairs of KL(p_i||p_j).
    p = np.array([[0.9, 0.1], [0.6, 0.4], [0.1, 0.9]])
    kl = scipy.stats.entropy
    pair = (kl(p[0], p[1]) + kl(p[1], p[0])) / 4
    expected = (np.exp(pair) + 1.0) / 2  # class 1 has one sample: score 1
    assert metrics.modified_inception_score(p) == pytest.approx(expected)
    # Identical posteriors within each class: no intra-class diversity.
    same = np.repeat(np.eye(3) * 0.7 + 0.1, 4, axis=0)
    assert metrics.modified_inception_score(same) == pytest.approx(1.0)


def test_modified_inception_score_matches_pairwise_loop():
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(60, 3)) * 2
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = p.argmax(1)
    scores = []
    for c in np.unique(labels):
        q = p[labels == c]
        kls = [[scipy.stats.entropy(a, b) for b in q] for a in q]
        scores.append(np.exp(np.mean(kls)))
    got = metrics.modified_inception_score(logits, from_logits=True)
    assert got == pytest.approx(np.mean(scores))


def test_class_histogram():
    p = np.eye(3)[[0, 0, 2, 2]]
    assert metrics.class_histogram(p, num_classes=3) == [0.5, 0.0, 0.5]


# ------------------------------------------------------------------ Parzen
def test_parzen_density_of_gaussian_mixture_vs_analytic():
    # A Parzen window with sigma s on the exact mixture centres IS the
    # mixture of N(c_i, s^2 I): compare with scipy pointwise.
    rng = np.random.default_rng(4)
    centres = rng.normal(size=(7, 3))
    x = rng.normal(size=(25, 3))
    dens = np.mean(
        [scipy.stats.multivariate_normal(c, 0.3**2).pdf(x) for c in centres],
        axis=0,
    )
    got = metrics.parzen_log_density(
        x, centres, [0.3, 1.0], batch_size=4, sample_batch_size=3
    )
    np.testing.assert_allclose(got[:, 0], np.log(dens), rtol=1e-10)
    assert got.shape == (25, 2)


def test_parzen_protocol_recovers_mixture_log_likelihood():
    rng = np.random.default_rng(5)
    centres = np.array([[-2.0, 0.0], [2.0, 0.0]])

    def draw(n):
        return centres[rng.integers(2, size=n)] + 0.5 * rng.normal(size=(n, 2))

    test = draw(2000)
    truth = np.log(
        np.mean(
            [
                scipy.stats.multivariate_normal(c, 0.25).pdf(test)
                for c in centres
            ],
            axis=0,
        )
    )
    r = metrics.parzen_log_likelihood(
        draw(5000), test, draw(1000), sigmas=np.logspace(-1.5, 0, 10)
    )
    assert r["mean"] == pytest.approx(truth.mean(), abs=0.05)
    assert r["stderr"] == pytest.approx(truth.std() / np.sqrt(2000), rel=0.1)
    assert r["sigma"] in np.logspace(-1.5, 0, 10)
    assert np.argmax(r["valid_ll"]) not in (0, 9)  # optimum is interior


def test_parzen_on_a_reference_never_reads_the_test_split(
    data_dir, monkeypatch
):
    """With `reference`, sigma is searched on its first `num_valid` images
    and the others are scored: train[50000:] gives the GAN tool's
    validation number (train[50000:51000] / train[51000:60000]); through
    `evaluate_samples` too (it used to score the test split whatever the
    reference)."""
    train, _ = datasets.load_arrays("mnist", "train", data_dir=data_dir)
    samples = train[:50] / 255.0
    expected = metrics.parzen_log_likelihood(
        samples.reshape(-1, 784),
        train[51000:60000].reshape(-1, 784) / 255.0,
        train[50000:51000].reshape(-1, 784) / 255.0,
    )
    real_read = datasets._arrays  # what every reader of IDX files calls

    def no_test(name, split, folder):
        assert split != "test", "read the test split"
        return real_read(name, split, folder)

    monkeypatch.setattr(datasets, "_arrays", no_test)
    got = metrics.mnist_parzen(
        samples, data_dir=data_dir, reference="train[50000:]"
    )
    assert got["mean"] == pytest.approx(expected["mean"], rel=1e-12)
    assert got["sigma"] == expected["sigma"]
    via = metrics.evaluate_samples(
        samples.reshape(-1, 28, 28, 1),
        ["parzen"],
        data_dir=data_dir,
        reference="train[50000:]",
    )
    # float32 images there: the same number to 1e-6.
    assert via["parzen"]["mean"] == pytest.approx(expected["mean"], rel=1e-6)
    # The first num_valid images choose sigma, the others are scored.
    fewer = metrics.mnist_parzen(
        samples,
        data_dir=data_dir,
        num_valid=500,
        reference="train[50000:52000]",
    )
    mine = metrics.parzen_log_likelihood(
        samples.reshape(-1, 784),
        train[50500:52000].reshape(-1, 784) / 255.0,
        train[50000:50500].reshape(-1, 784) / 255.0,
    )
    assert fewer["mean"] == pytest.approx(mine["mean"], rel=1e-12)
    with pytest.raises(ArgumentError, match="holds 500 images: the Parzen"):
        metrics.mnist_parzen(
            samples, data_dir=data_dir, reference="train[59500:]"
        )
    with pytest.raises(ArgumentError, match="num_valid must be a positive"):
        metrics.mnist_parzen(
            samples, data_dir=data_dir, num_valid=0, reference="train[50000:]"
        )


# ------------------------------------------------------------ mode coverage
def test_mode_coverage_true_ring_and_collapse():
    std = datasets.TOY_STDS["ring8"]
    r = metrics.mode_coverage(
        datasets.ring8(2500, seed=0), datasets.RING8_MODES, std
    )
    assert r["modes_covered"] == r["num_modes"] == 8
    assert r["high_quality_fraction"] > 0.99
    assert sum(r["counts"]) == pytest.approx(2500, abs=25)
    collapsed = datasets.RING8_MODES[[0, 3]].repeat(100, axis=0)
    r = metrics.mode_coverage(collapsed, datasets.RING8_MODES, std)
    assert (r["modes_covered"], r["high_quality_fraction"]) == (2, 1.0)
    off_ring = np.zeros((10, 2))  # the centre: near no mode
    r = metrics.mode_coverage(off_ring, datasets.RING8_MODES, std)
    assert (r["modes_covered"], r["high_quality_fraction"]) == (0, 0.0)


def test_evaluate_samples_on_grid():
    r = metrics.evaluate_samples(
        datasets.grid25(2500, seed=1), dataset="grid25"
    )
    assert r["mode_coverage"]["modes_covered"] == 25


# --------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "call, match",
    [
        (
            lambda: metrics.frechet_distance(np.ones((5, 3)), np.ones((5, 4))),
            "columns",
        ),
        (lambda: metrics.frechet_distance(np.ones(5), np.ones(5)), "shape"),
        (lambda: metrics.frechet_distance([[np.nan]] * 3, [[1.0]] * 3), "NaN"),
        (lambda: metrics.classifier_score(-np.ones((3, 2))), "probabilities"),
        (lambda: metrics.classifier_score(np.eye(3), splits=4), "splits"),
        (lambda: metrics.class_histogram(np.eye(3)), "num_classes"),
        (
            lambda: metrics.parzen_log_density(
                np.ones((2, 2)), np.ones((2, 2)), -1.0
            ),
            "sigmas",
        ),
        (
            lambda: metrics.parzen_log_likelihood(
                np.ones((2, 2)), np.ones((2, 2))
            ),
            "valid",
        ),
        (
            lambda: metrics.mode_coverage(
                np.ones((2, 3)), np.ones((2, 2)), 0.1
            ),
            "columns",
        ),
        (lambda: metrics.mnist_parzen(np.full((3, 784), 2.0)), r"\[0, 1\]"),
        (
            lambda: metrics.evaluate_samples(
                np.zeros((3, 2)), ["fidd"], dataset="ring8"
            ),
            "valid metrics",
        ),
        (
            lambda: metrics.evaluate_samples(
                np.zeros((3, 2)), ["parzen"], dataset="ring8"
            ),
            "mode_coverage",
        ),
        (
            lambda: metrics.evaluate_samples(
                np.zeros((3, 784)), ["mode_coverage"]
            ),
            "parzen",
        ),
        (
            lambda: metrics.evaluate_samples(np.zeros((3, 2)), dataset="cifar"),
            "valid datasets",
        ),
        (lambda: clf.as_images(-np.ones((3, 784))), r"\[0, 1\]"),
        (lambda: clf.as_images(np.ones((3, 10))), "784"),
    ],
)
def test_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ------------------------------------------------ real data, shipped preset
@pytest.fixture(scope="module")
def mnist_test(data_dir):
    images, labels = datasets.load_arrays("mnist", "test", data_dir=data_dir)
    logits, feats, probs = clf.features(
        metrics._default_classifier("mnist"), images
    )
    return images, labels, logits, feats, probs


def test_classifier_accuracy_on_mnist(mnist_test):
    _, labels, _, _, probs = mnist_test
    assert (probs[:2000].argmax(1) == labels[:2000]).mean() > 0.99


def test_mnist_test_set_classifier_score(mnist_test):
    score = metrics.classifier_score(mnist_test[2], from_logits=True)
    assert 9.5 < score <= 10.0


def test_frechet_real_halves_small_noise_large(mnist_test):
    _, _, logits, feats, _ = mnist_test
    halves = metrics.frechet_distance(logits[:5000], logits[5000:])
    noise = np.random.default_rng(6).random((2000, 28, 28, 1))
    noise_logits = clf.features(metrics._default_classifier("mnist"), noise)[0]
    vs_noise = metrics.frechet_distance(logits, noise_logits)
    # Measured 2.71 (the two halves come from different writers) vs 915.
    assert halves < 5.0 and vs_noise > 100 * halves
    assert metrics.frechet_distance(feats[:5000], feats[5000:]) < 20.0


def test_evaluate_samples_on_real_images(data_dir):
    images, _ = datasets.load_arrays("mnist", "train", data_dir=data_dir)
    r = metrics.evaluate_samples(
        images[:1000],
        [
            "classifier_score",
            "frechet_distance",
            "modified_inception_score",
            "class_histogram",
        ],
        data_dir=data_dir,
        splits=2,
    )
    assert r["classifier_score"] > 9.0 and r["classifier_score_std"] >= 0
    assert r["frechet_distance"] < 1.0
    assert r["modified_inception_score"] >= 1.0
    assert sum(r["class_histogram"]) == pytest.approx(1.0)


# ------------------------------------------------------- nearest neighbours
def test_nearest_neighbours_match_brute_force():
    rng = np.random.default_rng(0)
    pool = rng.uniform(size=(300, 7, 7, 1))
    queries = rng.uniform(size=(50, 7, 7, 1))
    queries[:5] = pool[[10, 20, 30, 40, 50]]  # copies of training images
    idx, dist = metrics.nearest_neighbours(queries, pool, batch_size=16)
    brute = np.linalg.norm(
        queries.reshape(50, 1, -1) - pool.reshape(1, 300, -1), axis=2
    )
    np.testing.assert_array_equal(idx, brute.argmin(axis=1))
    np.testing.assert_allclose(dist, brute.min(axis=1), atol=1e-6)
    np.testing.assert_array_equal(idx[:5], [10, 20, 30, 40, 50])
    np.testing.assert_allclose(dist[:5], 0.0, atol=1e-6)


def test_nearest_neighbours_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="pool must have 49 columns"):
        metrics.nearest_neighbours(np.zeros((2, 7, 7)), np.zeros((3, 8, 8)))
