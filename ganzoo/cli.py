"""The `ganzoo` command.

    ganzoo list
    ganzoo sample NAME_OR_DIR [--num=64] [--seed=0] [--out=grid.png]
    ganzoo train --model=gan --network=mnist_mlp --dataset=mnist \\
        --epochs=10 --output_dir=runs/gan-mnist [--data_dir=...]
    ganzoo evaluate NAME_OR_DIR_OR_NPY_DIR --metrics=classifier_score,...
    ganzoo export NAME_OR_DIR SERVING_DIR [--version=1]

`ganzoo COMMAND --helpfull` lists every flag.
"""

import dataclasses
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import (
    app,
    flags,
)

COMMANDS = ("list", "sample", "train", "evaluate", "export")

# -------------------------------------------------------------- train flags
flags.DEFINE_enum("model", "gan", ["gan", "lsgan", "deligan"], "Model.")
flags.DEFINE_enum(
    "network", "mnist_mlp", ["mnist_mlp", "deligan_mnist", "dcgan_mnist", "toy"],
    "Generator/discriminator pair (see ganzoo.networks).",
)
flags.DEFINE_enum(
    "dataset", "mnist", ["mnist", "fashion_mnist", "ring8", "grid25"], "Data."
)
flags.DEFINE_string(
    "data_dir", None,
    "Folder with the IDX .gz files (else $GANZOO_DATA_DIR, else tfds).",
)
flags.DEFINE_integer(
    "limit", None, "Limited data: the last limit/10 images of each class."
)
flags.DEFINE_integer(
    "take", None, "Use only the first N training images (file order)."
)
flags.DEFINE_integer("epochs", 10, "Epochs.")
flags.DEFINE_integer(
    "steps_per_epoch", None, "Steps per epoch (default: one pass over data)."
)
flags.DEFINE_integer("batch_size", 64, "Global batch size.")
flags.DEFINE_float("d_lr", 2e-4, "Discriminator learning rate (Adam).")
flags.DEFINE_float("g_lr", 2e-4, "Generator learning rate (Adam).")
flags.DEFINE_float("beta_1", 0.5, "Adam beta_1.")
flags.DEFINE_float(
    "g_ema", 0.0,
    "Momentum of a moving average of the generator's weights (e.g. 0.999); "
    "the preset gets the average. 0: none.",
)
flags.DEFINE_string(
    "augment", "",
    "DiffAugment policy for D's inputs, comma-separated from translation, "
    "cutout, color (e.g. translation,cutout; for little data). Empty: none.",
)
flags.DEFINE_enum(
    "lr_decay", "none", ["none", "linear"],
    "Learning-rate schedule: constant, or linear to 0 at the last step.",
)
flags.DEFINE_integer("d_steps", 1, "D updates per G update (k).")
flags.DEFINE_integer("latent_dim", None, "Latent size (default per network).")
flags.DEFINE_float("width", 1.0, "Width multiplier of both networks.")
flags.DEFINE_integer("num_components", 50, "DeLiGAN mixture components.")
flags.DEFINE_float("sigma_init", 0.2, "DeLiGAN initial sigma.")
flags.DEFINE_float("sigma_reg", 1.0 / 3.0, "DeLiGAN sigma regulariser weight.")
flags.DEFINE_enum(
    "coding", "pearson", ["pearson", "real_label"], "LSGAN (a, b, c) coding."
)
flags.DEFINE_enum(
    "generator_loss", "non_saturating", ["non_saturating", "minimax"],
    "GAN / DeLiGAN generator loss.",
)
flags.DEFINE_integer("seed", 0, "Seed of weights, data order and noise.")
flags.DEFINE_enum(
    "strategy", "auto",
    ["auto", "one_device", "mirrored", "multi_worker", "tpu"],
    "tf.distribute strategy (multi_worker reads TF_CONFIG; tpu uses "
    "TPUClusterResolver).",
)
flags.DEFINE_bool(
    "jit_compile", None,
    "Compile the train step with XLA (default: on for mnist_mlp in float32 "
    "on one CPU device, where it measured faster; off otherwise).",
)
flags.DEFINE_enum(
    "mixed_precision", "none", ["none", "mixed_float16", "mixed_bfloat16"],
    "Keras dtype policy of the nets (GPU/TPU; float16 adds loss scaling).",
)
flags.DEFINE_string("output_dir", None, "Run folder (train).")
flags.DEFINE_string(
    "init_from", None,
    "Start from this preset's weights (name or folder; same architecture).",
)
flags.DEFINE_integer("verbose", 1, "Keras progress: 0 silent, 1 bar, 2 line.")
# ------------------------------------------------------- other commands
flags.DEFINE_integer("num", 64, "Number of samples (sample).")
flags.DEFINE_string("out", "samples.png", "Output PNG or .npy (sample).")
flags.DEFINE_list(
    "metrics", None, "Metrics to compute (evaluate); default per data."
)
flags.DEFINE_integer("num_samples", 10000, "Samples to evaluate (evaluate).")
flags.DEFINE_integer(
    "recalibrate_bn", 0,
    "Evaluate after re-estimating G's batch-norm statistics from this many "
    "batches of 100 (for --g_ema runs; files unchanged). 0: no (evaluate).",
)
flags.DEFINE_string(
    "json_out", None,
    "Where evaluate writes its JSON (default: evaluation-<source>.json).",
)
flags.DEFINE_integer("version", 1, "SavedModel version folder (export).")
flags.DEFINE_bool("overwrite", False, "Replace an existing export version.")

FLAGS = flags.FLAGS


def _usage_error(message):
    raise app.UsageError(f"{message}\nCommands: {', '.join(COMMANDS)}.")


def _train_config():
    from ganzoo import training

    names = [f.name for f in dataclasses.fields(training.TrainConfig)]
    values = {n: getattr(FLAGS, n) for n in names if n in FLAGS}
    return training.TrainConfig(**values)


def cmd_train(args):
    """`ganzoo train --flags`: a resumable training run and its preset."""
    from ganzoo import training

    if args:
        _usage_error(f"train takes only flags, got {args}.")
    if not FLAGS.output_dir:
        _usage_error("train needs --output_dir.")
    try:
        cfg = _train_config().validate()
        # Fails now (bad limit, missing data), not after model building.
        training.make_dataset(cfg)
    except (ValueError, TypeError, FileNotFoundError) as e:
        raise app.UsageError(str(e)) from None
    try:
        card = training.train(
            cfg, FLAGS.output_dir, verbose=FLAGS.verbose,
            command="ganzoo " + " ".join(sys.argv[1:]),
        )
    except FileExistsError as e:
        raise app.UsageError(str(e)) from None
    print(json.dumps({k: card[k] for k in (
        "steps", "wall_time_s", "train_images_per_s", "final_logs")}))
    print(f"Preset written to {os.path.join(FLAGS.output_dir, 'preset')}")


def cmd_list(args):
    """`ganzoo list`: preset names and descriptions."""
    from ganzoo import zoo

    for name in zoo.list_models():
        print(f"{name:24s} {zoo.PRESETS[name]['description']}")


def cmd_sample(args):
    """`ganzoo sample NAME_OR_DIR`: a PNG grid (or .npy) of samples."""
    from ganzoo import images, zoo

    if len(args) != 1:
        _usage_error("usage: ganzoo sample NAME_OR_DIR [--num] [--out]")
    model = _load(args[0])
    samples = model.sample(FLAGS.num, seed=FLAGS.seed)
    if FLAGS.out.endswith(".npy"):
        zoo.atomic_save_npy(FLAGS.out, samples)
    else:
        images.save_png(images.samples_to_image(samples), FLAGS.out)
    print(f"Wrote {FLAGS.num} samples of {args[0]} to {FLAGS.out}")


def cmd_export(args):
    """`ganzoo export NAME_OR_DIR DIR`: a SavedModel for TF Serving."""
    from ganzoo import export

    if len(args) != 2:
        _usage_error("usage: ganzoo export NAME_OR_DIR SERVING_DIR")
    path = export.export_saved_model(
        _load(args[0]), args[1], version=FLAGS.version,
        overwrite=FLAGS.overwrite,
    )
    print(f"SavedModel written to {path}")


def cmd_evaluate(args):
    """`ganzoo evaluate SOURCE`: a metrics table (and JSON)."""
    from ganzoo import _atomic, evaluation

    if len(args) != 1:
        _usage_error("usage: ganzoo evaluate NAME_OR_DIR --metrics=...")
    try:
        results = evaluation.evaluate_source(
            args[0], metrics=FLAGS.metrics, num_samples=FLAGS.num_samples,
            seed=FLAGS.seed, data_dir=FLAGS.data_dir,
            recalibrate_bn=FLAGS.recalibrate_bn,
            # A preset knows its dataset; .npy samples may need --dataset.
            dataset=FLAGS.dataset if FLAGS["dataset"].present else None,
        )
    except (ValueError, KeyError, FileNotFoundError, RuntimeError) as e:
        raise app.UsageError(str(e)) from None
    print(evaluation.format_table(results))
    name = os.path.basename(os.path.normpath(args[0])) or "samples"
    json_out = FLAGS.json_out or f"evaluation-{name}.json"
    _atomic.write_text(json_out, json.dumps(results, indent=1))
    print(f"Wrote {json_out}")


def _load(source):
    from ganzoo import zoo

    try:
        return zoo.load(source)
    except (KeyError, ValueError, FileNotFoundError) as e:
        raise app.UsageError(str(e)) from None


def main(argv):
    """Dispatches `ganzoo COMMAND ...` (argv as parsed by absl)."""
    if len(argv) < 2 or argv[1] not in COMMANDS:
        _usage_error(
            "ganzoo: give a command." if len(argv) < 2
            else f"Unknown command {argv[1]!r}."
        )
    globals()[f"cmd_{argv[1]}"](argv[2:])


def run():
    """Console-script entry point."""
    app.run(main)


if __name__ == "__main__":
    run()
