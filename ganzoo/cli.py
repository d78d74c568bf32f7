"""The `ganzoo` command.

    ganzoo list
    ganzoo sample NAME_OR_DIR [--num=64] [--seed=0] [--out=grid.png]
    ganzoo train --model=gan --network=mnist_mlp --dataset=mnist \\
        --epochs=10 --output_dir=runs/gan-mnist [--data_dir=...]
    ganzoo evaluate NAME_OR_DIR_OR_NPY_DIR --metrics=classifier_score,...
    ganzoo export NAME_OR_DIR SERVING_DIR [--version=1]

`ganzoo COMMAND --help` lists the command's flags with their defaults;
a flag of another command is refused rather than ignored. A mistake in the
command line (a bad flag value, an unknown preset, a missing folder, an
output that cannot be written) prints one line and exits with status 2.
TensorFlow's start-up log is hidden unless `--verbosity` is given.
"""

import dataclasses
import errno
import json
import logging
import os
import pathlib
import sys
import textwrap
import typing

from absl import app, flags
from absl import logging as absl_logging

__all__ = [
    "COMMANDS",
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "USAGE",
    "command_flags",
    "command_help",
    "define_flags",
    "main",
    "quiet_start",
    "run",
]

COMMANDS = ("list", "sample", "train", "evaluate", "export")
# Each command's arguments, as its --help and its usage errors show them.
USAGE = {
    "list": "ganzoo list",
    "sample": "ganzoo sample NAME_OR_DIR [--num=64] [--seed=0] "
    "[--out=samples.png]",
    "train": "ganzoo train --output_dir=DIR [--model=gan --network=... "
    "--dataset=... ...]",
    "evaluate": "ganzoo evaluate NAME_OR_DIR [NAME_OR_DIR ...] "
    "[--metrics=...] [--num_samples=10000]",
    "export": "ganzoo export NAME_OR_DIR SERVING_DIR [--version=1] "
    "[--overwrite]",
}
# The flags each command reads besides train's (TrainConfig's fields and
# these two); --seed, --data_dir and --dataset are TrainConfig's. Written
# only here: `ganzoo COMMAND --help` lists them, the help texts do not.
_TRAIN_ONLY = ("output_dir", "verbose")
_OTHER_FLAGS = {
    "list": (),
    "sample": ("num", "seed", "out", "sampling"),
    "evaluate": (
        "metrics",
        "num_samples",
        "seed",
        "sampling",
        "recalibrate_bn",
        "reference",
        "dataset",
        "data_dir",
        "json_out",
    ),
    "export": ("version", "overwrite"),
}
EXIT_USAGE = 2  # a mistake in the command: one line, no traceback
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT (128 + 2)
FLAGS = flags.FLAGS


def define_flags():
    """Defines the command's absl flags (once per process): `ganzoo train`'s
    from `TrainConfig`'s fields (each default and help text is written there
    once), then the other commands' own."""
    from ganzoo import training
    from ganzoo.models.deligan import SAMPLINGS

    if "model" in FLAGS:
        return
    for field in dataclasses.fields(training.TrainConfig):
        kind = _flag_type(field.type)
        help_text = field.metadata["help"]
        choices = field.metadata["choices"]
        if choices is not None:
            flags.DEFINE_enum(
                field.name, field.default, list(choices), help_text
            )
        elif kind is bool:
            flags.DEFINE_bool(field.name, field.default, help_text)
        elif kind is int:
            flags.DEFINE_integer(field.name, field.default, help_text)
        elif kind is float:
            flags.DEFINE_float(field.name, field.default, help_text)
        else:
            flags.DEFINE_string(field.name, field.default, help_text)
    flags.DEFINE_string("output_dir", None, "The run folder.")
    flags.DEFINE_integer(
        "verbose",
        1,
        "Keras progress: 0 silent, 1 bar, 2 a line per epoch.",
        lower_bound=0,
        upper_bound=2,
    )
    flags.DEFINE_integer("num", 64, "Number of samples.", lower_bound=1)
    flags.DEFINE_string(
        "out",
        "samples.png",
        "Output file: a .png grid or a .npy array.",
    )
    flags.DEFINE_list("metrics", None, "Metrics to compute; default per data.")
    flags.DEFINE_integer(
        "num_samples",
        10000,
        "Samples to evaluate (with --sampling=paper the default is 100 per "
        "component).",
        lower_bound=1,
    )
    flags.DEFINE_enum(
        "sampling",
        "normal",
        list(SAMPLINGS),
        "How a DeLiGAN draws its samples: normal, eps ~ "
        "N(0, 1) as in training; paper, the authors' evaluation, eps ~ "
        "U(-1, 1) with components in turn (100 per component in evaluate).",
    )
    flags.DEFINE_string(
        "reference",
        None,
        "Real images the distances and the Parzen number compare with: "
        "a folder, tfds:NAME, or a split of the preset's dataset "
        "such as train[50000:] (training images; the table says how many of "
        "them the preset trained on; Parzen searches sigma on its first "
        "1,000). Default: the test split; for a run on a folder, that "
        "folder.",
    )
    flags.DEFINE_integer(
        "recalibrate_bn",
        0,
        "Evaluate after re-estimating G's batch-norm statistics from this many "
        "batches of 100 (for --g_ema runs; files unchanged). 0: no.",
        lower_bound=0,
    )
    flags.DEFINE_string(
        "json_out",
        None,
        "Where evaluate writes its JSON (default: evaluation-<source>.json).",
    )
    flags.DEFINE_integer(
        "version", 1, "SavedModel version folder.", lower_bound=1
    )
    flags.DEFINE_bool("overwrite", False, "Replace an existing export version.")


def command_flags(command):
    """The names of the flags `command` reads (`ganzoo COMMAND --help`
    lists them; any other flag of ganzoo's is refused).

    Example:
    >>> command_flags("export")
    ('version', 'overwrite')
    """
    if command == "train":
        from ganzoo import training

        fields = dataclasses.fields(training.TrainConfig)
        return tuple(f.name for f in fields) + _TRAIN_ONLY
    return _OTHER_FLAGS[command]


def command_help(command=None):
    """`ganzoo --help` (the commands) or `ganzoo COMMAND --help` (its
    usage and flags, with defaults and help texts), as printed.

    Example:
    >>> print(command_help("export"))  # doctest: +SKIP
    usage: ganzoo export NAME_OR_DIR SERVING_DIR [--version=1] [--overwrite]
    ...
    """
    if command is None:
        lines = ["usage: ganzoo COMMAND [ARGS] [--flags]", "", "commands:"]
        for name in COMMANDS:
            lines += textwrap.wrap(
                _summary(name),
                width=76,
                initial_indent=f"  {name:9s} ",
                subsequent_indent=" " * 12,
            )
        lines += [
            "",
            (
                "ganzoo COMMAND --help lists the command's flags; "
                "--helpfull lists absl's too."
            ),
        ]
        return "\n".join(lines)
    what = _summary(command)
    lines = [f"usage: {USAGE[command]}", ""]
    lines += textwrap.wrap(what[0].upper() + what[1:], width=76) + [""]
    names = command_flags(command)
    lines.append("flags:" if names else "(no flags)")
    for name in names:
        flag = FLAGS[name]
        default = flag.default
        if isinstance(default, list):
            default = ",".join(map(str, default))
        default = "" if default is None else f" (default: {default})"
        lines.append(f"  --{name}:")
        lines += textwrap.wrap(
            " ".join(flag.help.split()) + default,
            width=76,
            initial_indent="    ",
            subsequent_indent="    ",
            break_long_words=False,
            break_on_hyphens=False,
        )
    return "\n".join(lines)


def _summary(command):
    """What `command` does: its function's docstring after the colon."""
    doc = globals()[f"_cmd_{command}"].__doc__
    return " ".join(doc.split(": ", 1)[1].split())


def _check_command_flags(command):
    """Refuses a flag of ganzoo's that `command` would not read (it would
    be silently ignored: `sample --num_samples=10`)."""
    own = set(command_flags("train")).union(*_OTHER_FLAGS.values())
    reads = command_flags(command)
    for name in sorted(own - set(reads)):
        if FLAGS[name].present:
            choices = (
                "; its flags: " + ", ".join(f"--{n}" for n in reads)
                if reads and command != "train"
                else ""
            )
            raise app.UsageError(
                f"--{name} is not a flag of ganzoo {command}{choices} "
                f"(ganzoo {command} --help)."
            )


def _help_request(argv):
    """`(True, command or None)` when `argv` asks for help (`-h`,
    `--help`, `help [COMMAND]`), else `(False, None)`."""
    args = argv[1:]
    command = next((a for a in args if a in COMMANDS), None)
    if args[:1] == ["help"]:
        return True, (args[1] if args[1:2] and args[1] in COMMANDS else None)
    if any(a in ("-h", "--help", "-help", "--h") for a in args):
        return True, command
    return False, None


def _flag_type(annotation):
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return args[0] if args else annotation


def _user_errors():
    """The exceptions that mean the user's input was wrong: one line, exit 2.
    Anything else is a bug and keeps its traceback."""
    from ganzoo import _checks, training, zoo

    return (
        app.UsageError,
        _checks.ArgumentError,
        training.TrainingDiverged,
        zoo.DownloadError,
        FileNotFoundError,
        FileExistsError,
        NotADirectoryError,
        PermissionError,
    )


# A full disk, a quota or a read-only file system: one line, exit 2.
_FULL_OR_READ_ONLY = {
    errno.ENOSPC,
    errno.EROFS,
    getattr(errno, "EDQUOT", errno.ENOSPC),
}


def _check_output_file(flag, path, suffixes):
    from ganzoo import _atomic

    path = pathlib.Path(path)
    if path.is_dir():
        raise app.UsageError(f"--{flag}={path} is a folder; give a file name.")
    if path.suffix not in suffixes:
        raise app.UsageError(
            f"--{flag}={path}: give a file name ending in "
            f"{' or '.join(suffixes)}."
        )
    folder = path.parent.resolve()
    if not folder.is_dir():
        raise app.UsageError(
            f"--{flag}={path}: folder {folder} does not exist; create it "
            "first or choose another path."
        )
    _atomic.check_can_create(folder, f"--{flag}={path}")


def _cmd_train(args):
    """`ganzoo train --flags`: a resumable training run and its preset."""
    from ganzoo import training

    if args:
        raise app.UsageError(f"train takes only flags, got {' '.join(args)}.")
    if not FLAGS.output_dir:
        raise app.UsageError("train needs --output_dir (the run folder).")
    names = [f.name for f in dataclasses.fields(training.TrainConfig)]
    cfg = training.TrainConfig(**{n: FLAGS[n].value for n in names})
    cfg.validate()
    # Before any other TensorFlow work: MultiWorkerMirroredStrategy must be
    # created before the runtime starts.
    strategy = training.get_strategy(cfg.strategy)
    _NATIVE_LOG.restore()
    card = training.train(
        cfg,
        FLAGS.output_dir,
        verbose=FLAGS.verbose,
        command="ganzoo " + " ".join(sys.argv[1:]),
        strategy=strategy,
    )
    logs = ", ".join(f"{k} {v:.3g}" for k, v in card["final_logs"].items())
    print(
        f"Trained {card['steps']:,} steps in "
        f"{training.duration(card['wall_time_s'])} "
        f"({card['train_images_per_s']:,.0f} images/s); last epoch: {logs}."
    )
    if training.is_chief():
        preset = os.path.join(FLAGS.output_dir, "preset")
        print(
            f"Preset written to {preset}; e.g. ganzoo sample {preset} "
            "--num=64 --out=samples.png"
        )
        if FLAGS.snapshot_every:
            from ganzoo import datasets

            snaps = os.path.join(FLAGS.output_dir, "snapshots")
            toy = datasets.data_kind(FLAGS.dataset) == "toy"
            print(
                f"Earlier epochs in {snaps}/; compare them with ganzoo "
                f"evaluate {snaps}/*/preset {preset}"
                + ("" if toy else " --reference=... (held-out images)")
            )


def _cmd_list(args):
    """`ganzoo list`: preset names and descriptions."""
    from ganzoo import zoo

    if args:
        raise app.UsageError("list takes no arguments.")
    for name in zoo.list_models():
        print(f"{name:26s} {zoo.PRESETS[name]['description']}")


def _cmd_sample(args):
    """`ganzoo sample NAME_OR_DIR`: a PNG grid (or .npy) of samples."""
    from ganzoo import images, zoo

    if len(args) != 1:
        raise app.UsageError(f"usage: {USAGE['sample']}")
    _check_output_file("out", FLAGS.out, (".png", ".npy"))
    model = zoo.load(args[0])
    if not hasattr(model, "sample"):
        raise app.UsageError(f"{args[0]} is a classifier, not a generator.")
    samples = model.sample(FLAGS.num, seed=FLAGS.seed, sampling=FLAGS.sampling)
    if FLAGS.out.endswith(".npy"):
        zoo.atomic_save_npy(FLAGS.out, samples)
    else:
        images.save_png(images.samples_to_image(samples), FLAGS.out)
    print(f"Wrote {FLAGS.num} samples of {args[0]} to {FLAGS.out}")


def _cmd_export(args):
    """`ganzoo export NAME_OR_DIR DIR`: a SavedModel for TF Serving."""
    from ganzoo import export, zoo

    if len(args) != 2:
        raise app.UsageError(f"usage: {USAGE['export']}")
    path = export.export_saved_model(
        zoo.load(args[0]),
        args[1],
        version=FLAGS.version,
        overwrite=FLAGS.overwrite,
    )
    print(f"SavedModel written to {path}")


def _cmd_evaluate(args):
    """`ganzoo evaluate SOURCE [SOURCE ...]`: a metrics table (and JSON) per
    source; for several (a run's snapshots), a table comparing them."""
    from ganzoo import _atomic, evaluation

    if not args:
        raise app.UsageError(f"usage: {USAGE['evaluate']}")
    names = [_evaluation_name(source) for source in args]
    if len(args) > 1 and FLAGS.json_out:
        raise app.UsageError(
            "--json_out names one file: with several sources each gets "
            "its own evaluation-NAME.json."
        )
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise app.UsageError(
            f"Two sources named {twice[0]} would write one "
            f"evaluation-{twice[0]}.json: evaluate them one at a time with "
            "--json_out."
        )
    outputs = [FLAGS.json_out or f"evaluation-{name}.json" for name in names]
    for json_out in outputs:
        _check_output_file("json_out", json_out, (".json",))
    found = []
    for source, json_out in zip(args, outputs):
        try:
            results = evaluation.evaluate_source(
                source,
                metrics=FLAGS.metrics,
                # Not given: the default of the sampling (10,000, or 100
                # per component for the paper's).
                num_samples=FLAGS.num_samples
                if FLAGS["num_samples"].present
                else None,
                sampling=FLAGS.sampling,
                seed=FLAGS.seed if FLAGS["seed"].present else None,
                data_dir=FLAGS.data_dir,
                recalibrate_bn=FLAGS.recalibrate_bn,
                reference=FLAGS.reference,
                # A preset knows its dataset; .npy samples may need
                # --dataset.
                dataset=FLAGS.dataset if FLAGS["dataset"].present else None,
            )
        except (ValueError, KeyError) as e:
            # The metrics name what they cannot use (an unknown metric,
            # samples of the wrong shape or range, a dataset without a
            # classifier).
            raise app.UsageError(str(e).strip("'\"")) from None
        print(evaluation.format_table(results))
        _atomic.write_text(json_out, json.dumps(results, indent=1))
        print(f"Wrote {json_out}", flush=True)
        found.append(results)
    if len(found) > 1:
        print()
        print(evaluation.format_comparison(found))


def _evaluation_name(source):
    """The NAME of `evaluation-NAME.json` for a source: its folder's name,
    for a `preset/` folder its run's (`runs/mine/preset` -> mine,
    `runs/mine/snapshots/epoch_0010/preset` -> epoch_0010), for a `.npy`
    file its name without the suffix (`fm.npy` -> fm)."""
    path = pathlib.PurePath(os.path.normpath(source))
    if path.name == "preset" and path.parent.name:
        path = path.parent
    if path.suffix == ".npy":
        return path.stem
    return path.name or "samples"


def main(argv):
    """Dispatches `ganzoo COMMAND ...` (argv as parsed by absl)."""
    if not FLAGS["verbosity"].present:
        # absl logs INFO by default: TensorFlow's SavedModel writer alone
        # prints a screenful of it on `export`.
        absl_logging.set_verbosity(absl_logging.WARNING)
    try:
        if len(argv) < 2 or argv[1] not in COMMANDS:
            raise app.UsageError(
                (
                    "give a command"
                    if len(argv) < 2
                    else f"unknown command {argv[1]!r}"
                )
                + f"; choose from {', '.join(COMMANDS)} (ganzoo --help)."
            )
        _check_command_flags(argv[1])
        if argv[1] != "train":  # train creates its strategy first
            _start_runtime()
            _NATIVE_LOG.restore()
        globals()[f"_cmd_{argv[1]}"](argv[2:])
    except _user_errors() as e:
        _fail(e)
    except OSError as e:
        if e.errno not in _FULL_OR_READ_ONLY:
            raise
        _fail(e)  # the user's disk, not a bug: no traceback
    except KeyboardInterrupt:
        _NATIVE_LOG.restore()
        resume = (
            ": run the same command again to resume from the last finished "
            "epoch"
            if argv[1:2] == ["train"]
            else ""
        )
        print(f"ganzoo: interrupted{resume}.", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    finally:
        _NATIVE_LOG.restore()


def _plain_ganzoo_log():
    """ganzoo's own warnings (a picture that does not decode, a tfds
    download) as `ganzoo: warning: ...` lines on stderr, without absl's
    `W1207 02:59:18.716878 1405... _pictures.py:152]` prefix."""
    log = logging.getLogger("ganzoo")
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("ganzoo: warning: %(message)s"))
        handler.setLevel(logging.WARNING)
        log.addHandler(handler)
        log.propagate = False


def _fail(error):
    _NATIVE_LOG.restore()
    message = " ".join(str(error).split()) or type(error).__name__
    print(f"ganzoo: error: {message}", file=sys.stderr)
    sys.exit(EXIT_USAGE)


def _parse_flags(argv):
    try:
        return FLAGS(argv)
    except flags.Error as e:
        _fail(e)


def _start_runtime():
    import tensorflow as tf

    tf.config.list_logical_devices()


class _NativeLogSilencer:
    """Sends file descriptor 2 to /dev/null from the start of the command
    until TensorFlow has started, so its C++ start-up lines (which ignore
    TF_CPP_MIN_LOG_LEVEL: they come before absl::InitializeLog,
    tensorflow/tensorflow#102212) stay hidden. Every Python error restores
    the descriptor before it is printed."""

    def __init__(self):
        self._saved = None

    def silence(self):
        sys.stderr.flush()
        self._saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)

    def restore(self):
        if self._saved is None:
            return
        sys.stderr.flush()
        os.dup2(self._saved, 2)
        os.close(self._saved)
        self._saved = None


_NATIVE_LOG = _NativeLogSilencer()


def _wants_native_log(argv):
    return any(
        a == "-v" or a.startswith(("--verbosity", "-v=", "--v="))
        for a in argv[1:]
    )


def quiet_start(argv):
    """Imports TensorFlow and starts its runtime with its C++ start-up lines
    hidden (unless `argv` asks for `--verbosity`), for a script run as
    `python -m` (the maintainer tools call it first)."""
    if _wants_native_log(argv):
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    _NATIVE_LOG.silence()
    try:
        _start_runtime()
    finally:
        _NATIVE_LOG.restore()


def run():
    """Console-script entry point."""
    if not _wants_native_log(sys.argv):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        _NATIVE_LOG.silence()
    try:
        import tensorflow  # noqa: F401  (its import logs in C++)

        define_flags()
    except KeyboardInterrupt:  # Ctrl-C in the seconds TensorFlow loads
        _NATIVE_LOG.restore()
        print("ganzoo: interrupted.", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    except BaseException:
        _NATIVE_LOG.restore()
        raise
    wants_help, command = _help_request(sys.argv)
    if wants_help:  # on stdout, status 0 (absl's --help shows only usage)
        print(command_help(command))
        sys.exit(0)
    if sys.argv[1:] == ["--version"]:
        from ganzoo.version import __version__

        print(f"ganzoo {__version__}")
        sys.exit(0)
    _plain_ganzoo_log()
    app.run(main, flags_parser=_parse_flags)


if __name__ == "__main__":
    run()
