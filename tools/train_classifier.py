"""Trains a reference classifier of `ganzoo.metrics` into a preset folder.

    python -m tools.train_classifier --dataset=mnist \\
        --output=ganzoo/presets/mnist-classifier --data_dir=../shared/data

(`--dataset=fashion_mnist` for the other). Then
`python -m tools.results registry` records the new hashes.
"""

from absl import app, flags

from ganzoo import classifier, datasets

flags.DEFINE_enum(
    "dataset", "mnist", list(datasets.IMAGE_NAMES), "Dataset to train on."
)
flags.DEFINE_string("output", None, "Preset folder to write.")
flags.DEFINE_string("data_dir", None, "Folder of IDX files.")
flags.DEFINE_integer("epochs", 6, "Training epochs.")
flags.DEFINE_integer("batch_size", 128, "Batch size.")
flags.DEFINE_integer("seed", 0, "Random seed.")
FLAGS = flags.FLAGS


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments {argv[1:]}.")
    _, meta = classifier.train_classifier(
        FLAGS.dataset,
        data_dir=FLAGS.data_dir,
        epochs=FLAGS.epochs,
        batch_size=FLAGS.batch_size,
        seed=FLAGS.seed,
        output=FLAGS.output,
    )
    print(
        f"test accuracy {meta['test_accuracy']:.4f}, "
        f"{meta['train_wall_time_s']} s"
    )


if __name__ == "__main__":
    app.run(main)
