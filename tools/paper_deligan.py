"""The DeLiGAN paper's claims (Gurumurthy et al., CVPR 2017), checked with
ganzoo's public API under the authors' settings (val-iisc/deligan
`src/mnist/dg_mnist.py` and `src/Toy/dg_toy.py`):

1. MNIST, 500 digits (the last 50 of each class), GAN and DeLiGAN with the
   SAME nets (`deligan_paper_mnist`), batch 50, `update="adaptive"` (5
   updates per real batch, `AdaptiveSwitch`'s defaults are the authors'
   rule), Adam 5e-4 beta_1 0.5 for both nets, learning rate flat then
   linear to 0 (`FlatThenLinear`: 4,000 epochs, 1,000 flat, as
   `min(4 - epoch/1000, 3)/3` in dg_mnist.py), DeLiGAN with 50 components
   in turn (`component_sampling="cycle"`), z 30, sigma 0.2, regulariser
   1/3. Claim: DeLiGAN's modified inception score is higher than GAN's,
   measured with the authors' evaluation (`sampling="paper"`: 5,000
   samples, eps ~ U(-1, 1), 100 per component; GAN: 5,000 samples of its
   N(0, 1) prior) and with ganzoo's N(0, 1) sampling.
2. With continued training GAN collapses (fewer digits, less diversity),
   DeLiGAN does not: the classifier score, the class histogram and the
   modified inception score every `--eval_every` epochs.
3. The toy of dg_toy.py: 400 points of N(0, 0.3^2 I) (two draws of 200,
   stacked); D 2 -> 32 tanh -> 1 logit, G 2 -> 32 tanh -> 2 tanh (built
   here: ganzoo's `toy` nets are ReLU / leaky ReLU with linear output and
   `toy_tanh` has an orthogonal init and linear output, so neither
   matches); batch 50, 8 batches per epoch, 8,000 epochs,
   `update="adaptive"` with dg_toy.py's rule (`AdaptiveSwitch.dg_toy()`),
   Adam 1e-4 beta_1 0.5 constant; DeLiGAN with 50 components in turn, sigma
   0.02, regulariser 0.1. Claim: DeLiGAN's samples follow the data more
   closely, measured by an MMD (RBF kernel, median-heuristic bandwidth) and
   a 2-D histogram distance against fresh data.

What differs from the authors' code:
- Noise: ganzoo's DeLiGAN trains with eps ~ N(0, I) (dg_mnist.py does too;
  dg_toy.py draws eps ~ U(-1, 1)). The toy GAN does get the authors'
  U(-1, 1): its generator starts by scaling ganzoo's uniform latent,
  U(-sqrt 3, sqrt 3), by 1/sqrt 3. ganzoo draws fresh noise for each of
  the 5 updates of a batch (keyed by seed, batch and update, so any number
  of replicas draws the same), and decides each update on the noise that
  update trains with; the authors reuse one draw for all 5 (dg_toy.py) or
  draw per update (dg_mnist.py).
- Switching: the authors' two rules (their docstrings map each line of
  the original to a field). MNIST: `AdaptiveSwitch.dg_mnist()`, the
  defaults, with the threshold in float32 where the authors' Python has
  float64 (round-off only: no check of that rule depends on it). Toy:
  exactly dg_toy.py's, `AdaptiveSwitch.dg_toy()`, in float64 as the
  authors' Python floats (its `thres > t1` check and the floor's falls
  round differently in float32). A toy epoch is one pass
  of 8 batches over a fresh shuffle, as theirs, so the floor is checked at
  the same batches.
- The MNIST D's minibatch kernel is not weight-normalised
  (`deligan_paper_mnist_discriminator` says why); Adam's epsilon is
  Keras' 1e-7, not 1e-8.
- The authors' evaluation script draws U(-1, 1) noise for its GAN baseline
  too; GAN is sampled here from its N(0, 1) training prior.

Cost, measured here (2 CPU cores shared with other trainings; steady
state, the tool writes its own measurement into the section): MNIST about
0.75-1.0 s per epoch (10 batches, 50 updates) for either model, so the
authors' 4,000 epochs take about 1 h per run and 5-7 h for the 6 runs
(each evaluation of 5,000 samples: 2-6 s); the toy about 0.03 s per epoch,
4 min per run of 8,000 epochs, under 30 min for 6 runs.

    python -m tools.paper_deligan                       # everything
    python -m tools.paper_deligan --epochs=400 --flat_epochs=100 \\
        --eval_every=50 --toy_epochs=800 --toy_eval_every=100
    python -m tools.paper_deligan --write_only   # same schedule flags

Resumable: each (part, model, seed) run saves its model after every chunk
of `--eval_every` epochs (`model-eNNNNN.keras`, then `result.json`, both
atomically; the JSON names the checkpoint it matches), so a killed run
resumes from its last chunk and a finished one is skipped. Writes
`--runs_dir/<part>-<model>-s<seed>/result.json`, `--summary_json`,
the PNGs under `--docs_dir` and the `deligan-paper` section of
`--papers_md`.
"""

import json
import math
import os
import pathlib

import numpy as np
from absl import app, flags

from tools import _paper_tools

REPO = pathlib.Path(__file__).resolve().parents[1]
PARTS = ("mnist", "toy")
MODELS = {"gan": "GAN", "deligan": "DeLiGAN"}
MNIST_METRICS = [
    "classifier_score",
    "frechet_distance",
    "modified_inception_score",
    "class_histogram",
]
# Evaluations per model: (name, sampling). GAN's "paper" protocol is its
# own N(0, 1) prior, so its one evaluation stands in both columns.
SAMPLINGS = {
    "gan": [("prior", "normal")],
    "deligan": [("paper", "paper"), ("normal", "normal")],
}
PROTOCOLS = {
    "paper": {"gan": "prior", "deligan": "paper"},
    "normal": {"gan": "prior", "deligan": "normal"},
}
PROTOCOL_LABELS = {
    "paper": "authors' evaluation (DeLiGAN eps ~ U(-1,1), GAN its prior)",
    "normal": "ganzoo's N(0, 1) sampling",
}
TOY_POINTS = 400  # dg_toy.py: two draws of 200 from N(0, 0.3^2 I)
TOY_STD = 0.3
TOY_BATCH = 50
TOY_LR = 1e-4
TOY_UNITS = 32
TOY_COMPONENTS = 50
TOY_SIGMA = 0.02
TOY_SIGMA_REG = 0.1
TOY_BINS = 16  # of the 2-D histogram over [-1, 1]^2, G's tanh range
CLASS_FLOOR = 0.02  # a digit counts as generated from 2% of the samples

flags.DEFINE_list("parts", list(PARTS), "Parts to run: mnist, toy.")
flags.DEFINE_list("seeds", ["0", "1", "2"], "Training seeds.")
flags.DEFINE_list(
    "toy_seeds", None, "Training seeds of the toy part (default: --seeds)."
)
flags.DEFINE_integer("epochs", 4000, "MNIST epochs (10 batches of 50).")
flags.DEFINE_integer(
    "flat_epochs", 1000, "MNIST epochs at the full rate before the decay."
)
flags.DEFINE_integer("eval_every", 200, "MNIST epochs per chunk/evaluation.")
flags.DEFINE_integer("eval_samples", 5000, "MNIST samples per evaluation.")
flags.DEFINE_integer("toy_epochs", 8000, "Toy epochs (8 batches of 50).")
flags.DEFINE_integer("toy_eval_every", 500, "Toy epochs per chunk.")
flags.DEFINE_integer("toy_samples", 2000, "Toy samples per evaluation.")
flags.DEFINE_integer(
    "max_chunks", 0, "Stop each run after this many new chunks (0: none)."
)
flags.DEFINE_string("data_dir", None, "MNIST IDX folder ($GANZOO_DATA_DIR).")
flags.DEFINE_string("runs_dir", "runs/paper_deligan", "Run folders.")
flags.DEFINE_string(
    "papers_md", str(REPO / "zoo_weights" / "papers.md"), "Write-up file."
)
flags.DEFINE_string("docs_dir", str(REPO / "docs" / "papers"), "PNG folder.")
flags.DEFINE_string(
    "summary_json",
    str(REPO / "benchmarks" / "results" / "paper_deligan.json"),
    "Summary of the finished runs.",
)
flags.DEFINE_bool("write_only", False, "Only write up the finished runs.")
FLAGS = flags.FLAGS


# ------------------------------------------------------------------ settings
def settings(part):
    """What a run of `part` depends on; a resumed run must match it."""
    if part == "mnist":
        return dict(
            epochs=FLAGS.epochs,
            flat_epochs=FLAGS.flat_epochs,
            eval_every=FLAGS.eval_every,
            eval_samples=FLAGS.eval_samples,
        )
    return dict(
        epochs=FLAGS.toy_epochs,
        eval_every=FLAGS.toy_eval_every,
        eval_samples=FLAGS.toy_samples,
        switch=toy_switch().get_config(),
    )


def mnist_config(model, seed):
    from ganzoo import training

    return training.TrainConfig(
        model=model,
        network="deligan_paper_mnist",
        dataset="mnist",
        data_dir=FLAGS.data_dir,
        limit=500,
        batch_size=50,
        epochs=FLAGS.epochs,
        d_lr=5e-4,
        g_lr=5e-4,
        beta_1=0.5,
        update="adaptive",
        updates_per_batch=5,
        lr_decay="linear_after",
        lr_flat_epochs=FLAGS.flat_epochs,
        num_components=50,
        sigma_init=0.2,
        sigma_reg=1.0 / 3.0,
        component_sampling="cycle" if model == "deligan" else "uniform",
        seed=seed,
    ).validate()


# ------------------------------------------------------- building, the data
def build(part, model, seed):
    """`(compiled model, dataset factory(first_epoch), steps per epoch,
    callbacks)` of one run, as `ganzoo.training.train` builds them."""
    import keras

    from ganzoo import training

    keras.utils.set_random_seed(seed)
    if part == "mnist":
        cfg = mnist_config(model, seed)
        net = training.compile_model(training.build_model(cfg), cfg)
        steps = training.steps_per_epoch(cfg)

        def data(first_epoch):
            # The stateless per-pass order: skipping the batches already
            # trained on continues the very order of one uninterrupted fit.
            return training.make_dataset(cfg).skip(first_epoch * steps)

        return net, data, steps, training.schedule_callbacks(cfg)

    net = toy_model(model, seed)
    steps = TOY_POINTS // TOY_BATCH
    points = toy_data(TOY_POINTS, seed)

    def data(first_epoch):
        import tensorflow as tf

        ds = (
            tf.data.Dataset.from_tensor_slices(points)
            .shuffle(TOY_POINTS, seed=seed, reshuffle_each_iteration=True)
            .repeat()
            .batch(TOY_BATCH, drop_remainder=True)
        )
        return ds.skip(first_epoch * steps).prefetch(2)

    net.compile(
        d_optimizer=keras.optimizers.Adam(TOY_LR, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(TOY_LR, beta_1=0.5),
    )
    return net, data, steps, []


def toy_data(num, seed):
    """dg_toy.py's data: N(0, 0.3^2 I) points (float32)."""
    rng = np.random.default_rng([seed, 7])
    return rng.normal(0.0, TOY_STD, (num, 2)).astype("float32")


def toy_switch():
    """dg_toy.py's switching rule."""
    from ganzoo import models

    return models.AdaptiveSwitch.dg_toy()


def toy_model(model, seed):
    import keras

    from ganzoo import models

    layers = keras.layers
    z = keras.Input((2,), name="latent")
    x = z
    if model == "gan":
        # ganzoo's uniform latent is U(-sqrt 3, sqrt 3) (unit variance);
        # dg_toy.py's GAN trains on U(-1, 1).
        x = layers.Rescaling(1 / math.sqrt(3.0))(x)
    x = layers.Dense(TOY_UNITS, activation="tanh")(x)
    x = layers.Dense(2, activation="tanh")(x)
    generator = keras.Model(z, x, name="dg_toy_generator")
    p = keras.Input((2,), name="points")
    h = layers.Dense(TOY_UNITS, activation="tanh")(p)
    h = layers.Dense(1, name="logit")(h)
    discriminator = keras.Model(p, h, name="dg_toy_discriminator")
    common = dict(
        generator=generator,
        discriminator=discriminator,
        latent_dim=2,
        data_range=None,
        seed=seed,
        update="adaptive",
        switch=toy_switch(),
    )
    if model == "gan":
        return models.GAN(latent_distribution="uniform", **common)
    return models.DeLiGAN(
        num_components=TOY_COMPONENTS,
        sigma_init=TOY_SIGMA,
        sigma_reg=TOY_SIGMA_REG,
        component_sampling="cycle",
        **common,
    )


# ---------------------------------------------------------------- measuring
def evaluate(part, model, net, seed):
    """Per sampling name, the metrics of samples drawn with seed 0."""
    out = {}
    if part == "mnist":
        from ganzoo import evaluation

        for name, sampling in SAMPLINGS[model]:
            result = evaluation.evaluate_model(
                net,
                metrics=MNIST_METRICS,
                num_samples=FLAGS.eval_samples,
                seed=0,
                dataset="mnist",
                data_dir=FLAGS.data_dir,
                sampling=sampling,
            )
            m = result["metrics"]
            hist = m["class_histogram"]
            m["min_class"] = min(hist)
            m["classes_2pct"] = sum(h >= CLASS_FLOOR for h in hist)
            out[name] = m
        return out
    # Fresh data, never the training points: another stream of the seed.
    real = np.random.default_rng([seed, 11]).normal(
        0.0, TOY_STD, (FLAGS.toy_samples, 2)
    )
    for name, sampling in SAMPLINGS[model]:
        fake = net.sample(FLAGS.toy_samples, seed=0, sampling=sampling)
        out[name] = toy_distances(fake, real)
    return out


def toy_distances(fake, real):
    """MMD^2 (unbiased, RBF kernel, median-heuristic bandwidth) and the
    total-variation distance of 2-D histograms over [-1, 1]^2."""
    return {
        "mmd2": mmd2(fake, real),
        "hist_tv": histogram_distance(fake, real),
    }


def mmd2(x, y):
    """Unbiased MMD^2 with k(a, b) = exp(-|a - b|^2 / (2 h^2)), h the median
    distance between the pooled points (Gretton et al. 2012)."""
    x, y = np.asarray(x, "float64"), np.asarray(y, "float64")
    pooled = np.concatenate([x, y])
    sq = lambda a, b: np.maximum(
        (a * a).sum(1)[:, None] + (b * b).sum(1)[None] - 2 * a @ b.T, 0.0
    )
    d = sq(pooled, pooled)
    h2 = np.median(d[np.triu_indices(len(pooled), 1)])
    k = lambda a, b: np.exp(-sq(a, b) / (2 * max(h2, 1e-12)))
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    n, m = len(x), len(y)
    return float(
        (kxx.sum() - np.trace(kxx)) / (n * (n - 1))
        + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
        - 2 * kxy.mean()
    )


def histogram_distance(x, y):
    """Half the L1 distance of the normalised `TOY_BINS`^2 histograms
    (points outside [-1, 1]^2 fall in the edge bins)."""
    edges = np.linspace(-1.0, 1.0, TOY_BINS + 1)

    def hist(p):
        p = np.clip(np.asarray(p, "float64"), -1.0, 1.0)
        h, _, _ = np.histogram2d(p[:, 0], p[:, 1], bins=[edges, edges])
        return h / h.sum()

    return float(0.5 * np.abs(hist(x) - hist(y)).sum())


# ----------------------------------------------------------------- training
def run_dir(part, model, seed):
    return pathlib.Path(FLAGS.runs_dir) / f"{part}-{model}-s{seed}"


def run_one(part, model, seed):
    """Trains one run chunk by chunk, evaluating and saving after each."""
    import dataclasses

    out = run_dir(part, model, seed)
    fresh = dict(part=part, model=model, seed=seed)
    if part == "mnist":
        fresh["train_config"] = dataclasses.asdict(mnist_config(model, seed))
    _paper_tools.run_in_chunks(
        out,
        settings(part),
        build=lambda: build(part, model, seed),
        evaluate=lambda net: evaluate(part, model, net, seed),
        progress_line=progress_line,
        fresh_state=fresh,
        on_finish=lambda net: np.save(
            out / "final_samples.npy", final_samples(part, model, net)
        ),
        max_chunks=FLAGS.max_chunks,
    )


def final_samples(part, model, net):
    """What the write-up pictures: 100 digits (DeLiGAN: one per component
    pair, the authors' sampling) or `toy_samples` points."""
    sampling = "paper" if model == "deligan" else "normal"
    if part == "mnist":
        return net.sample(100, seed=0, sampling=sampling)
    return net.sample(FLAGS.toy_samples, seed=0)


def progress_line(name, epoch, epochs, entry):
    parts = [f"{name} epoch {epoch}/{epochs}"]
    for sampling, m in entry["metrics"].items():
        if "mmd2" in m:
            parts.append(
                f"{sampling}: MMD2 {m['mmd2']:.4f} hist {m['hist_tv']:.3f}"
            )
        else:
            parts.append(
                f"{sampling}: score {m['classifier_score']:.2f} MIS "
                f"{m['modified_inception_score']:.3f} FD "
                f"{m['frechet_distance']:.1f} classes>=2% "
                f"{m['classes_2pct']} min {m['min_class']:.3f}"
            )
    parts.append(f"{entry['seconds_per_epoch']:.2f} s/epoch")
    return " | ".join(parts)


def part_seeds(part):
    """The training seeds of `part` (`--toy_seeds` for the toy if given)."""
    if part == "toy" and FLAGS.toy_seeds:
        return FLAGS.toy_seeds
    return FLAGS.seeds


def run_all():
    for part in FLAGS.parts:
        for seed in part_seeds(part):
            for model in MODELS:
                run_one(part, model, int(seed))


# ------------------------------------------------------------------ write-up
def collect():
    """Finished runs: {part: {model: {seed: state}}}."""
    found = {}
    for part in PARTS:
        for model in MODELS:
            for seed in part_seeds(part):
                f = run_dir(part, model, int(seed)) / "result.json"
                if not f.exists():
                    continue
                state = json.loads(f.read_text())
                if state.get("finished") and state["settings"] == settings(
                    part
                ):
                    found.setdefault(part, {}).setdefault(model, {})[seed] = (
                        state
                    )
    return found


def mean_std(values):
    values = np.asarray(values, "float64")
    return float(values.mean()), float(values.std())


def fmt(values, digits):
    mean, std = mean_std(values)
    return f"{mean:.{digits}f} +- {std:.{digits}f}"


def final(runs, model, protocol, key):
    name = PROTOCOLS[protocol][model] if protocol in PROTOCOLS else protocol
    return [r["evals"][-1]["metrics"][name][key] for r in runs.values()]


def compare(a, b, higher_is_better=True):
    """ "better" if a's mean beats b's by more than their spreads together
    (the root sum of the squared std over seeds), "worse" if the other way,
    else "tie"."""
    (ma, sa), (mb, sb) = mean_std(a), mean_std(b)
    diff = (ma - mb) if higher_is_better else (mb - ma)
    spread = math.hypot(sa, sb)
    if diff > spread:
        return "better"
    if -diff > spread:
        return "worse"
    return "tie"


def verdict(outcomes):
    if outcomes and all(o == "better" for o in outcomes):
        return "holds"
    if "better" not in outcomes:
        return "does not hold"
    return "mixed"


def degraded(run, model):
    """Whether a run ends worse than its own best evaluation: 1+ fewer
    digits at >= 2% of the samples, a classifier score down 10% or more, or
    a modified inception score whose excess over 1 is down 25% or more."""
    name = PROTOCOLS["paper"][model]
    curve = [e["metrics"][name] for e in run["evals"]]
    last = curve[-1]
    peak = lambda key: max(m[key] for m in curve)
    return (
        peak("classes_2pct") - last["classes_2pct"] >= 1
        or last["classifier_score"] <= 0.9 * peak("classifier_score")
        or last["modified_inception_score"] - 1
        <= 0.75 * (peak("modified_inception_score") - 1)
    )


def mnist_section(runs, pictures, rel):
    """Rows, verdicts and pictures of claims 1 and 2."""
    seeds = len(next(iter(runs.values())))
    lines = [
        (
            "| model | protocol | modified IS | classifier score | FD (logits) "
            "| digits >= 2% | smallest class | final class histogram (mean) |"
        ),
        "|---|---|---|---|---|---|---|---|",
    ]
    for model, label in MODELS.items():
        if model not in runs:
            continue
        for protocol in PROTOCOLS:
            hist = np.mean(
                final(runs[model], model, protocol, "class_histogram"), 0
            )
            lines.append(
                f"| {label} | {PROTOCOL_LABELS[protocol]} "
                f"| {fmt(final(runs[model], model, protocol, 'modified_inception_score'), 3)} "
                f"| {fmt(final(runs[model], model, protocol, 'classifier_score'), 2)} "
                f"| {fmt(final(runs[model], model, protocol, 'frechet_distance'), 1)} "
                f"| {fmt(final(runs[model], model, protocol, 'classes_2pct'), 1)} "
                f"| {fmt(final(runs[model], model, protocol, 'min_class'), 3)} "
                f"| {' '.join(f'{h:.2f}' for h in hist)} |"
            )
    both = "gan" in runs and "deligan" in runs
    claims = []
    if both:
        outcomes = {
            p: compare(
                final(
                    runs["deligan"], "deligan", p, "modified_inception_score"
                ),
                final(runs["gan"], "gan", p, "modified_inception_score"),
            )
            for p in PROTOCOLS
        }
        claims.append(
            (
                "DeLiGAN's modified inception score is higher than GAN's",
                verdict(list(outcomes.values())),
                "DeLiGAN vs GAN, final evaluation, "
                + "; ".join(
                    f"{PROTOCOLS[p]['deligan']} sampling: {o}"
                    for p, o in outcomes.items()
                )
                + " (better/worse: the means differ by more than the root "
                "sum of squares of the two std over seeds; tie otherwise)",
            )
        )
        evals = len(runs["gan"][next(iter(runs["gan"]))]["evals"])
        if evals < 2:
            claims.append(
                (
                    "GAN collapses with continued training, DeLiGAN does not",
                    "not measured",
                    "one evaluation per run: set --eval_every below --epochs",
                )
            )
        else:
            gan_bad = sum(degraded(r, "gan") for r in runs["gan"].values())
            dg_bad = sum(
                degraded(r, "deligan") for r in runs["deligan"].values()
            )
            if gan_bad > dg_bad and 2 * dg_bad < seeds and 2 * gan_bad >= seeds:
                v = "holds"
            elif gan_bad <= dg_bad:
                v = "does not hold"
            else:
                v = "mixed"
            claims.append(
                (
                    "GAN collapses with continued training, DeLiGAN does not",
                    v,
                    (
                        f"runs that end worse than their own best evaluation: "
                        f"GAN {gan_bad}/{seeds}, DeLiGAN {dg_bad}/{seeds} "
                        "(worse: 1+ fewer digits at >= 2%, or a classifier score "
                        "10% below its peak, or a modified IS whose excess over 1 "
                        "is 25% below its peak; authors' protocol)"
                    ),
                )
            )
    curves_png = "deligan_mnist_curves.png"
    samples_png = "deligan_mnist_samples.png"
    mnist_curves(runs, pictures / curves_png)
    sample_grids(runs, pictures / samples_png)
    lines += [
        "",
        (
            f'<img src="{rel}/{curves_png}" width="640"> '
            f'<img src="{rel}/{samples_png}" width="320">'
        ),
        "",
        (
            "Left: mean over seeds every evaluation (authors' protocol: "
            "DeLiGAN eps ~ U(-1, 1), GAN its prior; and DeLiGAN with ganzoo's "
            "N(0, 1)). Right: 100 samples after the last epoch, seed "
            f"{next(iter(next(iter(runs.values()))))}, GAN then DeLiGAN "
            "(DeLiGAN drawn as the authors evaluated)."
        ),
    ]
    return lines, claims


def series(runs, model, name, key):
    return list(
        np.mean(
            [
                [e["metrics"][name][key] for e in r["evals"]]
                for r in runs.values()
            ],
            axis=0,
        )
    )


def mnist_curves(runs, path):
    from ganzoo import images

    charts = []
    every = FLAGS.eval_every
    for key, title, y_max in (
        ("classifier_score", "classifier score", 10),
        ("modified_inception_score", "modified inception score", None),
        ("classes_2pct", "digits with >= 2% of the samples", 10),
        ("min_class", "smallest class fraction", 0.1),
    ):
        lines = {}
        for model, label in MODELS.items():
            if model not in runs:
                continue
            for name, _ in SAMPLINGS[model]:
                tag = label if model == "gan" else f"{label} ({name})"
                lines[tag] = series(runs[model], model, name, key)
        top = y_max or max(max(v) for v in lines.values()) * 1.1
        charts.append(
            images.line_chart(
                lines,
                y_max=top,
                title=f"{title}: one point per {every} epochs",
                size=(480, 300),
                x_label=(
                    f"epochs {every} .. {every * max(map(len, lines.values()))}"
                ),
            )
        )
    grid = np.concatenate(
        [np.concatenate(charts[:2], 1), np.concatenate(charts[2:], 1)], 0
    )
    images.save_png(grid, path)


def sample_grids(runs, path):
    from ganzoo import images

    panels = []
    for model in MODELS:
        if model not in runs:
            continue
        seed = next(iter(runs[model]))
        f = run_dir("mnist", model, int(seed)) / "final_samples.npy"
        grid = images.image_grid(np.load(f), columns=10)
        panels += [grid, np.full((grid.shape[0], 8), 255, "uint8")]
    images.save_png(np.concatenate(panels[:-1], 1), path)


def toy_section(runs, pictures, rel):
    """Rows, verdict and scatter plot of claim 3."""
    # Two fresh draws per seed: how far data is from data at this size.
    floors = [
        toy_distances(
            toy_data(FLAGS.toy_samples, 1000 + 2 * k),
            toy_data(FLAGS.toy_samples, 1001 + 2 * k),
        )
        for k in range(len(part_seeds("toy")))
    ]
    lines = [
        "| samples | MMD^2 vs fresh data | 2-D histogram distance (TV) |",
        "|---|---|---|",
    ]
    keys = []
    for model, label in MODELS.items():
        if model not in runs:
            continue
        for name, _ in SAMPLINGS[model]:
            keys.append((model, name))
            tag = {
                "prior": "its prior, U(-1, 1)",
                "paper": "eps ~ U(-1, 1), as dg_toy.py trained",
                "normal": "eps ~ N(0, 1), as ganzoo trains",
            }[name]
            lines.append(
                f"| {label}, {tag} | {fmt(final(runs[model], model, name, 'mmd2'), 4)} "
                f"| {fmt(final(runs[model], model, name, 'hist_tv'), 3)} |"
            )
    lines.append(
        f"| fresh data vs fresh data (the floor) "
        f"| {fmt([f['mmd2'] for f in floors], 4)} "
        f"| {fmt([f['hist_tv'] for f in floors], 3)} |"
    )
    claims = []
    if "gan" in runs and "deligan" in runs:
        outcomes = []
        for name, _ in SAMPLINGS["deligan"]:
            for key in ("mmd2", "hist_tv"):
                o = compare(
                    final(runs["deligan"], "deligan", name, key),
                    final(runs["gan"], "gan", "prior", key),
                    higher_is_better=False,
                )
                outcomes.append((f"{name} {key}", o))
        claims.append(
            (
                (
                    "toy: DeLiGAN's samples follow the data more closely than "
                    "GAN's"
                ),
                verdict([o for _, o in outcomes]),
                "DeLiGAN vs GAN, lower is closer: "
                + ", ".join(f"{k}: {o}" for k, o in outcomes),
            )
        )
    png = "deligan_toy_samples.png"
    toy_scatter(runs, pictures / png)
    lines += [
        "",
        f'<img src="{rel}/{png}" width="720">',
        "",
        (
            f"Left to right: {FLAGS.toy_samples} fresh data points, GAN, DeLiGAN "
            "(eps ~ N(0, 1)) after the last epoch, seed "
            f"{part_seeds('toy')[0]}; each frame is the square [-1, 1]^2."
        ),
    ]
    return lines, claims


def toy_scatter(runs, path):
    from ganzoo import images

    panels = [
        images.scatter_image(
            toy_data(FLAGS.toy_samples, 1000), size=240, extent=1.0
        )
    ]
    for model in MODELS:
        if model in runs:
            seed = next(iter(runs[model]))
            f = run_dir("toy", model, int(seed)) / "final_samples.npy"
            panels.append(
                images.scatter_image(np.load(f), size=240, extent=1.0)
            )
    frame = np.zeros((240, 240), bool)
    frame[[0, -1], :] = frame[:, [0, -1]] = True
    for panel in panels:
        # A grey frame, the square [-1, 1]^2, where no sample lies: it shows
        # the scale when a panel's samples collapse to a few pixels.
        panel[frame & np.all(panel == 255, axis=-1)] = 160
    gap = np.full((240, 8, 3), 255, "uint8")
    row = [p for panel in panels for p in (panel, gap)][:-1]
    images.save_png(np.concatenate(row, axis=1), path)


def cost_line(found):
    """Measured seconds per epoch (the chunks after the first, which also
    traces the step) and per evaluation, and the wall time in all."""
    parts = []
    for part, runs in found.items():
        per_model = []
        total = 0.0
        for model, label in MODELS.items():
            if model not in runs:
                continue
            evals = [e for r in runs[model].values() for e in r["evals"]]
            steady = [
                e["seconds_per_epoch"]
                for r in runs[model].values()
                for e in r["evals"][1:]
            ] or [e["seconds_per_epoch"] for e in evals]
            total += sum(e["train_seconds"] + e["eval_seconds"] for e in evals)
            per_model.append(
                f"{label} {np.mean(steady):.2f} s/epoch, "
                f"{np.mean([e['eval_seconds'] for e in evals]):.1f} s per "
                "evaluation"
            )
        parts.append(
            f"{part}: {'; '.join(per_model)}; {total / 3600:.2f} h in all"
        )
    return "; ".join(parts)


def schedule_line(found):
    """The schedule actually run, and whether it is the authors'."""
    said, short = [], []
    if "mnist" in found:
        said.append(
            f"MNIST {FLAGS.epochs} epochs of 10 batches of 50 (5 updates "
            f"each), the learning rate flat for {FLAGS.flat_epochs} then "
            f"linear to 0, evaluated every {FLAGS.eval_every} epochs on "
            f"{FLAGS.eval_samples} samples"
        )
        if (FLAGS.epochs, FLAGS.flat_epochs) != (4000, 1000):
            short.append("4,000 MNIST epochs with 1,000 flat")
        if FLAGS.eval_samples != 5000:
            short.append("5,000 evaluation samples")
    if "toy" in found:
        said.append(
            f"toy {FLAGS.toy_epochs} epochs of 8 batches of 50, evaluated "
            f"every {FLAGS.toy_eval_every} epochs on {FLAGS.toy_samples} "
            "samples"
        )
        if FLAGS.toy_epochs != 8000:
            short.append("8,000 toy epochs")
    line = "Schedule run: " + "; ".join(said) + ". "
    if short:
        return line + (
            f"**Shortened**: the authors ran {', '.join(short)}; these "
            "numbers are not from the paper's schedule."
        )
    return line + "This is the authors' schedule."


def seeds_line(found):
    """How many training seeds each part's numbers are over."""
    counts = {part: len(part_seeds(part)) for part in found}
    if len(set(counts.values())) == 1:
        return f"{next(iter(counts.values()))} training seed(s)"
    return ", ".join(f"{n} training seed(s) ({p})" for p, n in counts.items())


def write(found):

    papers = pathlib.Path(FLAGS.papers_md)
    pictures = pathlib.Path(FLAGS.docs_dir)
    pictures.mkdir(parents=True, exist_ok=True)
    rel = os.path.relpath(pictures, papers.parent)
    command = "python -m tools.paper_deligan " + " ".join(
        f"--{k}={v}"
        for k, v in (
            ("parts", ",".join(found)),
            ("seeds", ",".join(FLAGS.seeds)),
            *(
                [("toy_seeds", ",".join(FLAGS.toy_seeds))]
                if FLAGS.toy_seeds
                else []
            ),
            ("epochs", FLAGS.epochs),
            ("flat_epochs", FLAGS.flat_epochs),
            ("eval_every", FLAGS.eval_every),
            ("eval_samples", FLAGS.eval_samples),
            ("toy_epochs", FLAGS.toy_epochs),
            ("toy_eval_every", FLAGS.toy_eval_every),
            ("toy_samples", FLAGS.toy_samples),
        )
    )
    body = [
        "### DeLiGAN: the paper's claims under the authors' settings",
        "",
        f"`{command}`",
        "",
        schedule_line(found),
        "",
        (
            "Same nets for GAN and DeLiGAN (`deligan_paper_mnist`; the toy "
            "nets of dg_toy.py, built by the tool), 500 MNIST digits, batch "
            '50, `update="adaptive"`, Adam 5e-4 (toy 1e-4) beta_1 0.5, '
            "DeLiGAN components in turn; tools/paper_deligan.py lists what "
            f"differs from the authors' code. Mean +- std over "
            f"{seeds_line(found)}. Cost measured here: "
            f"{cost_line(found)}."
        ),
        "",
    ]
    claims = []
    if "mnist" in found:
        lines, c = mnist_section(found["mnist"], pictures, rel)
        body += ["#### MNIST, 500 digits", "", *lines, ""]
        claims += c
    if "toy" in found:
        lines, c = toy_section(found["toy"], pictures, rel)
        body += ["#### Toy, 400 points of N(0, 0.3^2 I)", "", *lines, ""]
        claims += c
    body += ["#### Verdicts (computed from the numbers above)", ""]
    body += [f"- {claim}: **{v}** ({why})." for claim, v, why in claims]
    _paper_tools.write_up(
        papers,
        "deligan-paper",
        "tools/paper_deligan.py",
        body,
        FLAGS.summary_json,
        dict(
            command=command,
            claims=[dict(claim=c, verdict=v, why=w) for c, v, w in claims],
            runs={
                part: {
                    model: {seed: r["evals"] for seed, r in by_seed.items()}
                    for model, by_seed in runs.items()
                }
                for part, runs in found.items()
            },
        ),
    )
    print(f"Wrote {papers}, {FLAGS.summary_json}, {pictures}", flush=True)


def main(argv):
    _paper_tools.check_common(argv, FLAGS.seeds + (FLAGS.toy_seeds or []))
    for part in FLAGS.parts:
        if part not in PARTS:
            raise app.UsageError(
                f"--parts: {part!r} is not one of {', '.join(PARTS)}."
            )
    if not 0 <= FLAGS.flat_epochs < FLAGS.epochs:
        raise app.UsageError("--flat_epochs must be in [0, --epochs).")
    for name in ("epochs", "eval_every", "toy_epochs", "toy_eval_every"):
        if getattr(FLAGS, name) < 1:
            raise app.UsageError(f"--{name} must be >= 1.")
    if FLAGS.eval_samples < 50 or FLAGS.toy_samples < 50:
        raise app.UsageError("--eval_samples and --toy_samples: >= 50.")
    _paper_tools.run_then_write(run_all, collect, write)


if __name__ == "__main__":
    app.run(main)
