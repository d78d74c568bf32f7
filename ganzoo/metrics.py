"""Sample-quality metrics of the GAN, LSGAN and DeLiGAN papers.

Pure functions on numpy arrays (features, class posteriors, points), plus
`mnist_parzen` and `evaluate_samples`, which also load the real data
(`ganzoo.datasets`) and run the reference classifier (`ganzoo.classifier`).

Reference values on real MNIST with the shipped `mnist-classifier` preset
(99.42% test accuracy); `REFERENCE_VALUES[dataset]` holds them for every
image dataset with presets, as measured by
`python -m tools.reference_values --data_dir=../shared/data`:

| quantity | value |
|---|---|
| classifier score, the 10,000 test images | 9.82 |
| same, 10 splits of 1,000 (mean +- std) | 9.80 +- 0.10 |
| modified inception score, the test images | 1.072 |
| Frechet distance, test[:5000] vs test[5000:], logits | 2.71 |
| same, penultimate features (128-d) | 8.75 |
| same, random halves of the test set, logits | 0.77 |
| Frechet distance, train[:10000] vs test, logits / penultimate | 0.22 / 0.69 |
| Frechet distance, test vs 10,000 U(0,1) noise images, logits | 915 |
| Parzen LL, samples = train[:10000], full paper protocol | 241.2 +- 2.1 |

The two ordered halves of the MNIST test set differ systematically (the
classifier errs on 0.9% of the first, 0.2% of the second), hence their
larger distance than random halves; Frechet distances are
biased upwards for small sample sizes, so compare them at equal N. The
Parzen value is the ceiling of the estimator (sigma 0.167); the GAN paper
reports 225 +- 2 for its MNIST GAN.
"""

import functools
import json
import pathlib

import keras
import numpy as np
import scipy.special
import tensorflow as tf

from ganzoo import classifier as clf
from ganzoo import datasets
from ganzoo._checks import (
    ArgumentError,
    _is_int,
    check_choice,
    check_positive,
    check_positive_ints,
)

__all__ = [
    "DEFAULT_METRICS",
    "IMAGE_DATASETS",
    "IMAGE_METRICS",
    "PAPER_SIGMAS",
    "PARZEN_NUM_VALID",
    "PICTURE_METRICS",
    "REFERENCE_VALUES",
    "TOY_DATASETS",
    "TOY_METRICS",
    "VALID_METRICS",
    "class_histogram",
    "classifier_score",
    "evaluate_samples",
    "frechet_distance",
    "frechet_distance_from_stats",
    "mnist_parzen",
    "mode_coverage",
    "modified_inception_score",
    "nearest_neighbours",
    "parzen_log_density",
    "parzen_log_likelihood",
]


PAPER_SIGMAS = np.logspace(-1.0, 0.0, 10)
# Images that choose the Parzen window's sigma (the GAN paper's 1,000).
PARZEN_NUM_VALID = 1000
# Per image dataset, its real data measured as if it were samples (test
# score, Frechet distances train-vs-test and between test halves, Parzen of
# train[:10000]): the ceilings a generator is compared to. Measured and
# written by `python -m tools.reference_values`.
REFERENCE_VALUES = json.loads(
    pathlib.Path(__file__).with_name("reference_values.json").read_text()
)
# On InceptionV3 features (`ganzoo.inception`): any pictures, no classifier.
PICTURE_METRICS = ("kid", "fid")
IMAGE_METRICS = (
    "classifier_score",
    "frechet_distance",
    "frechet_distance_penultimate",
    "modified_inception_score",
    "class_histogram",
    "parzen",
) + PICTURE_METRICS
TOY_METRICS = ("mode_coverage",)
IMAGE_DATASETS = datasets.IMAGE_NAMES
TOY_DATASETS = datasets.TOY_NAMES
DEFAULT_METRICS = {
    "image": ("classifier_score", "frechet_distance", "class_histogram"),
    "pictures": PICTURE_METRICS,
    "toy": ("mode_coverage",),
}
VALID_METRICS = {
    "image": IMAGE_METRICS,
    "pictures": PICTURE_METRICS,
    "toy": TOY_METRICS,
}


# --------------------------------------------------------------- validation
def _as_matrix(name, x, min_rows=1, cols=None):
    """`x` as a finite float64 (N, D) array; images are flattened."""
    x = np.asarray(x)
    if x.dtype == object or not np.issubdtype(x.dtype, np.number):
        raise ArgumentError(f"{name} must be a numeric array, got {x.dtype}.")
    if x.ndim < 2:
        raise ArgumentError(
            f"{name} must have shape (N, ...) with N examples, got {x.shape}."
        )
    if x.shape[0] < min_rows:
        raise ArgumentError(
            f"{name} needs at least {min_rows} "
            f"{'row' if min_rows == 1 else 'rows'}, got {x.shape[0]}."
        )
    x = x.reshape(x.shape[0], -1).astype(np.float64)
    if cols is not None and x.shape[1] != cols:
        raise ArgumentError(
            f"{name} must have {cols} columns, got {x.shape[1]}."
        )
    if not np.all(np.isfinite(x)):
        raise ArgumentError(f"{name} contains NaN or infinite values.")
    return x


def _check_same_scale(**arrays):
    """ArgumentError when one of two arrays is uint8 (pixels in 0-255) and
    the other holds floats: their distances would mix two scales (a uint8
    MNIST digit and the same digit in [0, 1] are ~2,000 apart)."""
    (a, x), (b, y) = arrays.items()
    dtypes = {a: np.asarray(x).dtype, b: np.asarray(y).dtype}
    kinds = {n: "bytes" if t == np.uint8 else t.kind for n, t in dtypes.items()}
    if sorted(kinds.values()) == ["bytes", "f"]:
        raw, other = (a, b) if kinds[a] == "bytes" else (b, a)
        raise ArgumentError(
            f"{raw} is uint8 (0-255) but {other} is {dtypes[other]}: give "
            f"both on one scale (e.g. {raw} / 255 for pictures in [0, 1])."
        )


def _log_posteriors(name, x, from_logits):
    """(probs, log_probs) from logits or from rows of probabilities."""
    x = _as_matrix(name, x, cols=None)
    if from_logits:
        logp = scipy.special.log_softmax(x, axis=1)
        return np.exp(logp), logp
    if np.any(x < 0) or not np.allclose(x.sum(axis=1), 1.0, atol=1e-3):
        raise ArgumentError(
            f"{name} must hold probabilities (non-negative rows summing to "
            "1); pass from_logits=True for logits."
        )
    x = x / x.sum(axis=1, keepdims=True)
    # Zero probabilities are floored at the smallest positive float32, so
    # every non-zero float32 softmax output is left as it is.
    logp = np.log(np.maximum(x, np.finfo(np.float32).tiny))
    return x, logp


# ----------------------------------------------------------------- Frechet
def _covariance(name, sigma):
    """`sigma` as a float64 symmetric matrix, or ArgumentError when it is
    not a covariance (not symmetric, or a clearly negative eigenvalue),
    which the distance would otherwise clip to a meaningless number. The
    tolerance, relative to the largest eigenvalue, lets the rounding of
    the input's own precision pass (float32 covariances of rank-deficient
    features have eigenvalues of about -1e-6 of the largest)."""
    precision = np.finfo(sigma.dtype).eps if sigma.dtype.kind == "f" else 0
    tol = max(1e-6, 100 * float(precision))
    sigma = sigma.astype(np.float64)
    scale = max(float(np.abs(sigma).max()), np.finfo(np.float64).tiny)
    if not np.allclose(sigma, sigma.T, rtol=0.0, atol=tol * scale):
        raise ArgumentError(f"{name} is not symmetric: not a covariance.")
    sigma = (sigma + sigma.T) / 2.0
    eigenvalues = np.linalg.eigvalsh(sigma)
    largest = max(float(np.abs(eigenvalues).max()), np.finfo(np.float64).tiny)
    if eigenvalues[0] < -tol * largest:
        raise ArgumentError(
            f"{name} is not a covariance: it has a negative eigenvalue "
            f"({eigenvalues[0]:.3g}, the largest is {largest:.3g})."
        )
    return sigma


def frechet_distance_from_stats(mu1, sigma1, mu2, sigma2):
    """Frechet distance between N(mu1, sigma1) and N(mu2, sigma2).

    d^2 = ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2), which
    equals the usual Tr(S1 + S2 - 2 (S1 S2)^1/2) (Dowson & Landau 1982;
    Heusel et al. 2017, arXiv 1706.08500). The symmetric form is evaluated
    with two eigendecompositions, so it is real and stable even for
    singular covariances (no `sqrtm` imaginary parts to discard).

    Example:
    >>> round(frechet_distance_from_stats(
    ...     np.zeros(2), np.eye(2), np.ones(2), 4 * np.eye(2)), 6)
    4.0
    """
    mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
    sigma1, sigma2 = np.atleast_2d(sigma1), np.atleast_2d(sigma2)
    d = mu1.shape[0]
    for n, v, shape in (
        ("mu1", mu1, (d,)),
        ("mu2", mu2, (d,)),
        ("sigma1", sigma1, (d, d)),
        ("sigma2", sigma2, (d, d)),
    ):
        if v.shape != shape:
            raise ArgumentError(f"{n} must have shape {shape}, got {v.shape}.")
        if not np.all(np.isfinite(v)):
            raise ArgumentError(f"{n} contains NaN or infinite values.")
    mu1, mu2 = mu1.astype(np.float64), mu2.astype(np.float64)
    s1 = _covariance("sigma1", sigma1)
    s2 = _covariance("sigma2", sigma2)
    w, v = np.linalg.eigh(s1)
    root1 = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    middle = np.linalg.eigvalsh(root1 @ s2 @ root1)
    trace_root = np.sqrt(np.clip(middle, 0.0, None)).sum()
    diff = mu1 - mu2
    value = diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * trace_root
    return float(max(value, 0.0))


def frechet_distance(x, y):
    """Frechet distance between Gaussians fitted to two feature sets.

    Means and (unbiased) covariances of the rows of `x` and `y`, then
    `frechet_distance_from_stats`. With the logits of the MNIST classifier
    this is TF-GAN's "MNIST Frechet distance"; with Inception pool features
    it would be FID. On logits, train[:10000] vs the test set gives 0.22,
    the test set vs uniform noise 915 (see the module docstring).

    Args:
        x: (N, D) features (N >= 2); higher-rank arrays are flattened.
        y: (M, D) features (M >= 2).

    Example:
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=(20000, 2))
    >>> round(frechet_distance(a, a + 3.0))  # ||(3, 3)||^2
    18
    """
    _check_same_scale(x=x, y=y)
    x = _as_matrix("x", x, min_rows=2)
    y = _as_matrix("y", y, min_rows=2, cols=x.shape[1])
    return frechet_distance_from_stats(
        x.mean(0), np.cov(x, rowvar=False), y.mean(0), np.cov(y, rowvar=False)
    )


# -------------------------------------------------------- classifier based
def classifier_score(posteriors, from_logits=False, splits=1, return_std=False):
    """The "MNIST score": exp(E_x KL(p(y|x) || p(y))), p(y) = E_x p(y|x).

    The Inception Score of Salimans et al. 2016 (arXiv 1606.03498) with a
    dataset classifier instead of Inception, as in TF-GAN's
    `classifier_score`. Protocol: posteriors of the reference classifier on
    the samples; with `splits` > 1 the samples are cut into that many
    consecutive parts, each part scored with its own p(y), and the mean
    (and std) over parts reported. The score lies in [1, C]; the 10,000
    MNIST test images score 9.82 with `ganzoo.classifier`.

    Args:
        posteriors: (N, C) class probabilities, or logits.
        from_logits: `posteriors` holds logits.
        splits: number of parts (each needs at least one sample).
        return_std: also return the std over parts.

    Returns:
        The mean score over parts, or `(mean, std)` with `return_std`.

    Example:
    >>> round(classifier_score(np.eye(10)), 6)
    10.0
    >>> round(classifier_score(np.full((5, 10), 0.1)), 6)
    1.0
    """
    probs, logp = _log_posteriors("posteriors", posteriors, from_logits)
    ok = isinstance(splits, (int, np.integer)) and 1 <= splits <= len(probs)
    if not ok:
        raise ArgumentError(
            f"splits must be an integer in [1, {len(probs)}], got {splits!r}."
        )
    scores = []
    for idx in np.array_split(np.arange(len(probs)), splits):
        p, lp = probs[idx], logp[idx]
        marginal = np.log(np.maximum(p.mean(0), np.finfo(np.float64).tiny))
        kl = (p * (lp - marginal)).sum(axis=1)
        scores.append(np.exp(kl.mean()))
    mean = float(np.mean(scores))
    return (mean, float(np.std(scores))) if return_std else mean


def modified_inception_score(posteriors, from_logits=False):
    """DeLiGAN's modified inception score (intra-class diversity).

    Samples are grouped by predicted class; within class c,
    s_c = exp(mean_i mean_j KL(p(y|x_i) || p(y|x_j))), and the score is the
    mean of s_c over the classes that received samples (Gurumurthy et al.
    2017, arXiv 1706.02071, Sec. 5; val-iisc/deligan
    `modified_inception_scores`). It is 1 when every sample of a class has
    the same posterior and grows with within-class diversity. The double
    mean factorises, mean_ij KL = mean_i sum p_i log p_i - pbar . mean_j
    log p_j, so the cost is linear in N (the original forms an N x N
    matrix). Zero probabilities are floored at the smallest float32; pass
    logits when you have them.

    Example:
    >>> p = np.array([[0.9, 0.1], [0.6, 0.4], [0.1, 0.9]])
    >>> round(modified_inception_score(p), 4)  # (exp(0.1344) + 1) / 2
    1.0719
    """
    probs, logp = _log_posteriors("posteriors", posteriors, from_logits)
    labels = probs.argmax(axis=1)
    scores = []
    for c in np.unique(labels):
        p, lp = probs[labels == c], logp[labels == c]
        self_term = (p * lp).sum(axis=1).mean()
        cross_term = p.mean(0) @ lp.mean(0)
        scores.append(np.exp(max(self_term - cross_term, 0.0)))
    return float(np.mean(scores))


def class_histogram(posteriors, num_classes=10):
    """Fraction of samples per predicted class (argmax), a length-C list.

    `posteriors` may be (N, C) probabilities or logits, or (N,) integer
    labels. A generator that drops classes shows zeros here.

    Example:
    >>> class_histogram(np.array([0, 0, 1, 3]), num_classes=4)
    [0.5, 0.25, 0.0, 0.25]
    """
    x = np.asarray(posteriors)
    if x.ndim == 2:
        if x.shape[1] != num_classes:
            raise ArgumentError(
                f"posteriors has {x.shape[1]} columns, expected num_classes="
                f"{num_classes}."
            )
        x = _as_matrix("posteriors", x).argmax(axis=1)
    elif x.ndim != 1 or not np.issubdtype(x.dtype, np.integer):
        raise ArgumentError(
            "posteriors must be (N, C) scores or (N,) integer labels, got "
            f"shape {x.shape} dtype {x.dtype}."
        )
    if x.size == 0 or x.min() < 0 or x.max() >= num_classes:
        raise ArgumentError(
            f"labels must be in [0, {num_classes}) and non-empty."
        )
    return (np.bincount(x, minlength=num_classes) / x.size).tolist()


def nearest_neighbours(queries, pool, batch_size=512):
    """`(indices, distances)`: for each of `queries`, the index of its
    nearest example in `pool` and the L2 distance to it, over all pixels
    (images are flattened). Shows whether a generator copies its training
    images: compare the samples' distances to the training set with those
    of held-out real images.

    Example:
    >>> pool = np.eye(3)
    >>> idx, dist = nearest_neighbours(np.array([[0.0, 0.9, 0.1]]), pool)
    >>> idx.tolist(), dist.round(3).tolist()
    ([1], [0.141])
    """
    check_positive_ints(batch_size=batch_size)
    _check_same_scale(queries=queries, pool=pool)
    q = _as_matrix("queries", queries)
    p = _as_matrix("pool", pool, cols=q.shape[1])
    p_sq = np.einsum("ij,ij->i", p, p)
    indices, distances = [], []
    for start in range(0, len(q), batch_size):
        chunk = q[start : start + batch_size]
        # |q - p|^2 = |q|^2 - 2 q.p + |p|^2, one matmul per chunk.
        d2 = p_sq[None, :] - 2.0 * chunk @ p.T
        best = d2.argmin(axis=1)
        d2 = d2[np.arange(len(chunk)), best] + np.einsum(
            "ij,ij->i", chunk, chunk
        )
        indices.append(best)
        distances.append(np.sqrt(np.maximum(d2, 0.0)))
    return np.concatenate(indices), np.concatenate(distances)


# ------------------------------------------------------------ 2-D toys
def mode_coverage(samples, modes, std, threshold=3.0):
    """Modes covered and high-quality fraction (VEEGAN / PacGAN protocol).

    A sample is high quality (HQ) if it lies within `threshold` * `std` of
    its nearest mode; a mode is covered if it is the nearest mode of at
    least one HQ sample (Srivastava et al. 2017, arXiv 1705.07761; Lin et
    al. 2018, arXiv 1712.04086: 2,500 samples, ring of 8 with std 0.01,
    grid of 25 with std 0.05).

    Returns:
        dict(modes_covered, num_modes, high_quality_fraction, counts), with
        `counts[k]` the number of HQ samples whose nearest mode is k.

    Example:
    >>> modes = np.array([[0.0, 0.0], [1.0, 0.0]])
    >>> r = mode_coverage(np.array([[0.0, 0.01], [0.5, 0.0]]), modes, 0.01)
    >>> r["modes_covered"], r["high_quality_fraction"], r["counts"]
    (1, 0.5, [1, 0])
    """
    modes = _as_matrix("modes", modes)
    samples = _as_matrix("samples", samples, cols=modes.shape[1])
    check_positive(std=std, threshold=threshold)
    d2 = ((samples[:, None, :] - modes[None, :, :]) ** 2).sum(axis=2)
    nearest = d2.argmin(axis=1)
    hq = np.sqrt(d2[np.arange(len(samples)), nearest]) <= threshold * std
    counts = np.bincount(nearest[hq], minlength=len(modes))
    return {
        "modes_covered": int((counts > 0).sum()),
        "num_modes": len(modes),
        "high_quality_fraction": float(hq.mean()),
        "counts": counts.tolist(),
    }


# ------------------------------------------------------------------ Parzen
def parzen_log_density(
    x, samples, sigmas, batch_size=1000, sample_batch_size=10000
):
    """Log density of a Gaussian Parzen window fitted to `samples`, at `x`.

    log p(x) = logmeanexp_i(-||x - s_i||^2 / (2 sigma^2))
               - d log(sigma sqrt(2 pi)),
    for every row of `x` and every sigma. Squared distances come from one
    float64 matmul per chunk, ||x||^2 - 2 x.s + ||s||^2, on data centred on
    the sample mean (fewer digits cancel); they are shared by all sigmas.
    Memory is bounded by `batch_size` x `sample_batch_size` float64s.

    Args:
        x: (N, D) points; images are flattened.
        samples: (M, D) kernel centres.
        sigmas: a bandwidth, or a 1-D array of them.
        batch_size: rows of `x` per chunk.
        sample_batch_size: rows of `samples` per chunk.

    Returns:
        (N,) for a scalar sigma, else (N, len(sigmas)), float64.

    Example:
    >>> s = np.zeros((1, 3))
    >>> float(parzen_log_density(s, s, 1.0)[0])  # N(0, I) at 0
    -2.756815599614018
    """
    scalar = np.ndim(sigmas) == 0
    sig = np.atleast_1d(np.asarray(sigmas, dtype=np.float64))
    if sig.ndim != 1 or not np.all(np.isfinite(sig) & (sig > 0)):
        raise ArgumentError(f"sigmas must be positive numbers, got {sigmas!r}.")
    check_positive_ints(
        batch_size=batch_size, sample_batch_size=sample_batch_size
    )
    _check_same_scale(x=x, samples=samples)
    samples = _as_matrix("samples", samples)
    x = _as_matrix("x", x, cols=samples.shape[1])
    centre = samples.mean(axis=0)
    s_all = tf.constant(samples - centre)
    s_sq = tf.reduce_sum(s_all * s_all, axis=1)
    scales = [tf.constant(-0.5 / s**2, tf.float64) for s in sig]
    out = []
    for start in range(0, len(x), batch_size):
        xb = tf.constant(x[start : start + batch_size] - centre)
        x_sq = tf.reduce_sum(xb * xb, axis=1, keepdims=True)
        lse = np.full((xb.shape[0], len(sig)), -np.inf)
        for s0 in range(0, len(samples), sample_batch_size):
            sb = s_all[s0 : s0 + sample_batch_size]
            d2 = x_sq - 2.0 * tf.matmul(xb, sb, transpose_b=True)
            d2 = tf.maximum(d2 + s_sq[None, s0 : s0 + sample_batch_size], 0.0)
            part = tf.stack(
                [tf.reduce_logsumexp(d2 * c, axis=1) for c in scales], axis=1
            )
            lse = np.logaddexp(lse, part.numpy())
        out.append(lse)
    d = samples.shape[1]
    log_p = (
        np.concatenate(out)
        - np.log(len(samples))
        - d * np.log(sig * np.sqrt(2.0 * np.pi))
    )
    return log_p[:, 0] if scalar else log_p


def parzen_log_likelihood(
    samples,
    test,
    valid=None,
    sigmas=PAPER_SIGMAS,
    batch_size=1000,
    sample_batch_size=10000,
):
    """Parzen-window log-likelihood of `test` under a KDE on `samples`.

    The GAN paper's protocol (Goodfellow et al. 2014, arXiv 1406.2661,
    Table 1; goodfeli/adversarial `parzen_ll.py`): fit an isotropic
    Gaussian kernel on every sample, pick sigma from `sigmas` by the mean
    log-likelihood of `valid`, report the mean log-likelihood of `test`
    and its standard error std / sqrt(n) (population std, as the original).
    See `parzen_log_density` for the formula. The full MNIST protocol
    (10,000 x 10,000, d = 784, 10 sigmas on 1,000 valid) is timed by
    `benchmarks/bench_parzen.py`.

    Args:
        samples: (M, D) generated samples.
        test: (N, D) held-out data.
        valid: (V, D) data for the sigma search; may be None when `sigmas`
            holds one value.
        sigmas: candidate bandwidths (default `logspace(-1, 0, 10)`).
        batch_size, sample_batch_size: chunk sizes (memory bound).

    Returns:
        dict(mean, stderr, sigma, valid_ll) with `valid_ll` the mean valid
        log-likelihood per candidate sigma (None without a search).

    Example:
    >>> rng = np.random.default_rng(0)
    >>> r = parzen_log_likelihood(rng.normal(size=(500, 1)),
    ...     rng.normal(size=(200, 1)), rng.normal(size=(100, 1)))
    >>> -1.7 < r["mean"] < -1.2  # N(0, 1) entropy is -1.42
    True
    """
    _check_same_scale(samples=samples, test=test)
    if valid is not None:
        _check_same_scale(samples=samples, valid=valid)
    sig = np.atleast_1d(np.asarray(sigmas, dtype=np.float64))
    chunks = {"batch_size": batch_size, "sample_batch_size": sample_batch_size}
    valid_ll = None
    if sig.size > 1:
        if valid is None:
            raise ArgumentError(
                "valid is needed to choose among several sigmas."
            )
        valid_ll = parzen_log_density(valid, samples, sig, **chunks).mean(0)
        sigma = float(sig[np.argmax(valid_ll)])
        valid_ll = valid_ll.tolist()
    elif sig.size == 1:
        sigma = float(sig[0])
    else:
        raise ArgumentError("sigmas is empty.")
    ll = parzen_log_density(test, samples, sigma, **chunks)
    return {
        "mean": float(ll.mean()),
        "stderr": float(ll.std() / np.sqrt(len(ll))),
        "sigma": sigma,
        "valid_ll": valid_ll,
    }


def mnist_parzen(
    samples,
    data_dir=None,
    dataset="mnist",
    num_valid=PARZEN_NUM_VALID,
    reference=None,
    **kwargs,
):
    """`parzen_log_likelihood` with the GAN paper's MNIST data.

    valid = train images 50000..50999 in the original IDX order (the
    original's `MNIST('train', start=50000, stop=60000).X[:1000]`, outside
    the GAN's training range train[0:50000]); test = the 10,000 test
    images; pixels in [0, 1]; sigmas logspace(-1, 0, 10). The paper used
    10,000 samples. Real train[:10000] as samples scores 241.2 +- 2.1.

    With `reference`, a number to choose on instead, which reads only
    `reference` (so a train slice never touches the test split): sigma is
    searched on its first `num_valid` images and the others are scored.
    `reference="train[50000:]"` searches the paper's own set,
    train[50000:51000], and scores train[51000:60000].

    Args:
        samples: (M, 28, 28, 1) or (M, 784) images in [0, 1] (or uint8).
        data_dir: folder holding `mnist/` IDX files (see
            `ganzoo.datasets.load_arrays`).
        dataset: "mnist" or "fashion_mnist" (same protocol).
        num_valid: validation images for the sigma search (without
            `reference`, 1 to 10,000: train[50000:60000]; with it, fewer
            than `reference` holds).
        reference: None (the paper's protocol), or held-out real images as
            `ganzoo.datasets.reference_arrays` reads them, such as
            "train[50000:]".
        **kwargs: passed to `parzen_log_likelihood`.

    Example:
    >>> mnist_parzen(model.sample(10000))["mean"]  # doctest: +SKIP
    >>> mnist_parzen(model.sample(10000), reference="train[50000:]")  # doctest: +SKIP
    """
    if np.asarray(samples).dtype == np.uint8:
        samples = np.asarray(samples) / 255.0  # as evaluate_samples reads it
    samples = _as_matrix("samples", samples, cols=784)
    _check_unit_range(samples)
    check_choice("dataset", dataset, IMAGE_DATASETS)
    if reference is None and not (
        _is_int(num_valid) and 1 <= num_valid <= 10000
    ):
        raise ArgumentError(
            "num_valid must be an integer in [1, 10000] (train[50000:60000]),"
            f" got {num_valid!r}."
        )
    if not (_is_int(num_valid) and num_valid >= 1):
        raise ArgumentError(
            f"num_valid must be a positive integer, got {num_valid!r}."
        )
    if reference is None:
        train, _ = datasets.load_arrays(dataset, "train", data_dir=data_dir)
        valid = train[50000 : 50000 + num_valid]
        scored, _ = datasets.load_arrays(dataset, "test", data_dir=data_dir)
    else:
        real = datasets.reference_arrays(
            reference, dataset, 28, 1, data_dir=data_dir
        )
        if len(real) <= num_valid:
            raise ArgumentError(
                f"reference={reference!r} holds {len(real)} images: the "
                f"Parzen number needs more than {num_valid:,} (the first "
                f"{num_valid:,} choose sigma, the others are scored)."
            )
        valid, scored = real[:num_valid], real[num_valid:]
    return parzen_log_likelihood(
        samples,
        scored.reshape(-1, 784) / 255.0,
        valid.reshape(-1, 784) / 255.0,
        **kwargs,
    )


def _check_unit_range(x, tol=1e-3):
    lo, hi = float(x.min()), float(x.max())
    if lo < -tol or hi > 1.0 + tol:
        raise ArgumentError(
            f"images must be in [0, 1] (got min {lo:.3g}, max {hi:.3g}); "
            "rescale generator output, e.g. (x + 1) / 2 for tanh."
        )


# --------------------------------------------------------------- front door
def evaluate_samples(
    samples,
    metrics=None,
    dataset="mnist",
    data_dir=None,
    classifier=None,
    splits=1,
    reference=None,
    inception_model=None,
):
    """Runs the named metrics on generated samples; a dict of results.

    MNIST-family datasets ("mnist", "fashion_mnist"): `samples` are images
    in [0, 1] (float, or uint8 in [0, 255]) as returned by `model.sample`;
    metrics from `IMAGE_METRICS`:
    "classifier_score" (float; with `splits` > 1 also
    "classifier_score_std"), "frechet_distance" (classifier logits, against
    the reference images), "frechet_distance_penultimate" (same, on the
    penultimate features), "modified_inception_score", "class_histogram"
    (list), "parzen" (dict, `mnist_parzen`, on the test split or, with a
    `reference`, on those images; the paper used 10,000 samples),
    and the `PICTURE_METRICS`.
    Any other image data (a folder of pictures, "tfds:NAME"): the
    `PICTURE_METRICS` "kid" and "fid" on InceptionV3 features
    (`ganzoo.inception`: comparable within ganzoo, not with papers), with
    the reference cut to a random subset (seed 0) of as many images as
    there are samples, so that FID compares equal sizes.
    Toy datasets ("ring8", "grid25"): `samples` are (N, 2) points;
    metrics from `TOY_METRICS`: "mode_coverage" (dict).

    Args:
        samples: generated images or points.
        metrics: names, or None for `DEFAULT_METRICS` of the data kind.
        dataset: a dataset name of `ganzoo.datasets`, a folder of
            pictures or "tfds:NAME".
        data_dir: folder of the IDX files (see `ganzoo.datasets`).
        classifier: a `ganzoo.classifier` model; default: the shipped
            preset of `dataset`.
        splits: parts for the classifier score's mean and std.
        reference: the real images the distances and the Parzen number
            compare with (`mnist_parzen`), as
            `ganzoo.datasets.reference_arrays` reads it: None (the test
            split; a folder itself), a split such as "train[50000:]"
            (held-out training images, to choose recipes on), a folder or
            a "tfds:NAME".
        inception_model: the network of "kid" / "fid" (default
            `ganzoo.inception.feature_extractor()`, ImageNet weights).

    Example:
    >>> r = evaluate_samples(model.sample(10000), ["classifier_score",
    ...     "frechet_distance"], dataset="mnist")  # doctest: +SKIP
    >>> evaluate_samples(datasets.ring8(2500, seed=0),
    ...     dataset="ring8")["mode_coverage"]["modes_covered"]
    8
    """
    kind = _dataset_kind(dataset)
    valid = VALID_METRICS[kind]
    names = DEFAULT_METRICS[kind] if metrics is None else metrics
    names = (names,) if isinstance(names, str) else tuple(names)
    if not names:
        raise ArgumentError(
            f"metrics is empty; give some of {', '.join(valid)} (or None for "
            f"the defaults, {', '.join(DEFAULT_METRICS[kind])})."
        )
    for name in names:
        if name not in IMAGE_METRICS + TOY_METRICS:
            raise ArgumentError(
                f"Unknown metric {name!r}; valid metrics: "
                f"{', '.join(IMAGE_METRICS + TOY_METRICS)}."
            )
        if name not in valid:
            raise ArgumentError(
                f"Metric {name!r} does not apply to {kind} dataset "
                f"{dataset!r}; valid for it: {', '.join(valid)}."
            )
    _check_samples_fit(samples, kind, dataset, reference)
    if kind == "toy":
        return {"mode_coverage": _toy_coverage(samples, dataset)}
    results = {}
    classic = [n for n in names if n not in PICTURE_METRICS]
    if classic:
        results.update(
            _image_metrics(
                samples,
                classic,
                dataset,
                data_dir,
                classifier,
                splits,
                reference,
            )
        )
    pictures = [n for n in names if n in PICTURE_METRICS]
    if pictures:
        results.update(
            _picture_metrics(
                samples,
                pictures,
                dataset,
                data_dir,
                reference,
                inception_model,
            )
        )
    return results


def _check_samples_fit(samples, kind, dataset, reference):
    """One-line errors for samples that cannot be compared with `dataset`:
    images against a 2-D toy or points against images, a `reference` for
    a toy (its metrics use the known modes), fewer than 2 images."""
    shape = np.shape(samples)
    points = len(shape) == 2 and shape[1] == 2
    if kind == "toy":
        if not points:
            raise ArgumentError(
                f"dataset={dataset!r} is a 2-D toy, but the samples have "
                f"shape {shape}: give the image dataset they come from "
                f"({', '.join(IMAGE_DATASETS)}, a folder or tfds:NAME)."
            )
        if reference is not None:
            raise ArgumentError(
                f"reference={reference!r} does not apply to the toy "
                f"{dataset!r}: its mode coverage uses the toy's known modes."
            )
        return
    if points:
        raise ArgumentError(
            f"The samples are 2-D points (shape {shape}), not images: give "
            f"the toy they come from as dataset= "
            f"({', '.join(TOY_DATASETS)}), not {dataset!r}."
        )
    if len(shape) >= 1 and shape[0] < 2:
        raise ArgumentError(
            f"Got {shape[0]} image sample(s); the image metrics need at "
            "least 2 (raise num_samples, --num_samples in the CLI)."
        )


def _dataset_kind(dataset):
    """ "image" (MNIST-family: classifier metrics), "toy", or "pictures"
    (a folder or tfds:NAME: the InceptionV3 metrics)."""
    try:
        kind = datasets.data_kind(dataset)
    except ArgumentError:
        raise ArgumentError(
            f"Unknown dataset {dataset!r}; valid datasets: "
            f"{', '.join(IMAGE_DATASETS + TOY_DATASETS)}, a folder of "
            "pictures or a tfds:NAME."
        ) from None
    return {"idx": "image", "toy": "toy"}.get(kind, "pictures")


def _picture_metrics(samples, names, dataset, data_dir, reference, model):
    from ganzoo import inception

    x = inception._as_images(samples)
    # A wrong reference path first, then the weights (fail fast offline),
    # then the slow decoding.
    datasets.check_reference(reference, dataset)
    model = model or inception.feature_extractor()
    real = datasets.reference_arrays(
        reference, dataset, x.shape[1], x.shape[3], data_dir=data_dir
    )
    if len(real) > len(x):
        keep = np.random.default_rng(0).choice(len(real), len(x), replace=False)
        real = real[np.sort(keep)]
    fake_f = inception.features(x, model=model)
    real_f = inception.features(real, model=model)
    results = {"reference_images": len(real)}
    if "kid" in names:
        kid, std = inception.kernel_inception_distance(
            real_f, fake_f, return_std=True
        )
        results.update(kid=kid, kid_std=std)
    if "fid" in names:
        results["fid"] = inception.frechet_inception_distance(real_f, fake_f)
    return results


def _toy_coverage(samples, dataset):
    modes = {"ring8": datasets.RING8_MODES, "grid25": datasets.GRID25_MODES}
    return mode_coverage(samples, modes[dataset], datasets.TOY_STDS[dataset])


def _image_metrics(
    samples, names, dataset, data_dir, classifier, splits, reference
):
    images = clf.as_images(samples)
    results = {}
    # First: a reference too small for it fails before the other metrics.
    parzen = (
        mnist_parzen(images, data_dir, dataset, reference=reference)
        if "parzen" in names
        else None
    )
    if any(n != "parzen" for n in names):
        model = (
            classifier
            if classifier is not None
            else (_default_classifier(dataset))
        )
        if not isinstance(model, keras.Model):
            raise ArgumentError(
                f"classifier must be a keras.Model such as "
                f"ganzoo.load('{dataset.replace('_', '-')}-classifier'), got "
                f"{model!r:.60}."
            )
        logits, feats, _ = clf.features(model, images)
    if any(n.startswith("frechet") for n in names):
        real = datasets.reference_arrays(
            reference, dataset, 28, 1, data_dir=data_dir
        )
        ref_logits, ref_feats, _ = clf.features(model, real)
    for name in names:
        if name == "classifier_score":
            mean, std = classifier_score(
                logits, from_logits=True, splits=splits, return_std=True
            )
            results[name] = mean
            if splits > 1:
                results["classifier_score_std"] = std
        elif name == "frechet_distance":
            results[name] = frechet_distance(logits, ref_logits)
        elif name == "frechet_distance_penultimate":
            results[name] = frechet_distance(feats, ref_feats)
        elif name == "modified_inception_score":
            results[name] = modified_inception_score(logits, from_logits=True)
        elif name == "class_histogram":
            results[name] = class_histogram(logits, logits.shape[1])
        elif name == "parzen":
            results[name] = parzen
    return results


@functools.cache
def _default_classifier(dataset):
    """The classifier preset of `dataset`, through the zoo (cache,
    checkout or hash-checked download), so a pip install finds it too."""
    from ganzoo import zoo

    return zoo.load(dataset.replace("_", "-") + "-classifier")
