"""What the paper tools (`tools/paper_*.py`) share: the first checks of
their flags, training one run chunk by chunk, and writing the write-up.

A run is resumable: after every chunk of epochs it is evaluated and saved,
so a killed run resumes from its last chunk and a finished one is skipped.

A run folder holds `result.json` and `model-eNNNNN.keras`, the checkpoint
of the last chunk (and whatever a tool's `after_chunk` keeps beside it).
The JSON is the commit point: it is written last, atomically, and names
the checkpoint it matches, so a crash between the two leaves the previous
chunk's state whole.
"""

import json
import os
import pathlib
import sys
import time

from absl import app, flags


def check_common(argv, seeds):
    """UsageError for leftover arguments or seeds that are not integers."""
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments {argv[1:]}.")
    try:
        [int(s) for s in seeds]
    except ValueError:
        raise app.UsageError("--seeds must be integers.") from None


def run_then_write(run_all, collect, write):
    """A tool's `main` after its own flag checks: `run_all()` unless
    `--write_only`, then `write(collect())` if any run has finished (with
    `--write_only`, none finished is an error). `--data_dir` defaults to
    $GANZOO_DATA_DIR."""
    FLAGS = flags.FLAGS
    FLAGS.data_dir = FLAGS.data_dir or os.environ.get("GANZOO_DATA_DIR")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if not FLAGS.write_only:
        run_all()
    found = collect()
    if not found:
        print("No finished runs under " + FLAGS.runs_dir, flush=True)
        if FLAGS.write_only:
            sys.exit(1)
        return
    write(found)


def run_in_chunks(
    out,
    settings,
    build,
    evaluate,
    progress_line,
    fresh_state=None,
    after_chunk=None,
    on_finish=None,
    max_chunks=0,
    extendable=False,
):
    """Trains the run of folder `out` to `settings["epochs"]`, in chunks
    of `settings["eval_every"]` epochs.

    Args:
        out: the run's folder (`pathlib.Path`).
        settings: what the run depends on (JSON-able, holding `epochs` and
            `eval_every`); a folder trained with other settings is refused.
        build: `() -> (compiled model, data(first_epoch) -> dataset,
            steps per epoch, fit callbacks)`.
        evaluate: `(model) -> metrics` (JSON-able), after every chunk.
        progress_line: `(name, epoch, epochs, entry) -> str`, printed
            after every chunk.
        fresh_state: extra fields of a new run's JSON.
        after_chunk: `(model, state, entry) -> files`, before the JSON is
            written (it may add to `state`); the files it returns are
            deleted once the JSON no longer names them.
        on_finish: `(model) -> None`, once, after the last chunk's fit and
            before its JSON.
        max_chunks: stop after this many new chunks (0: no limit).
        extendable: whether a run may go on to more `epochs` than it was
            started with (for schedules that do not depend on the run's
            length); its other settings must match.
    """
    import keras

    from ganzoo import _atomic

    result_file = out / "result.json"
    state = json.loads(result_file.read_text()) if result_file.exists() else {}
    if state and _other_settings(state["settings"], extendable) != (
        _other_settings(settings, extendable)
    ):
        raise app.UsageError(
            f"{out} was trained with {state['settings']}, not {settings}: "
            "choose another --runs_dir or delete it."
        )
    if state and state["epochs_done"] > settings["epochs"]:
        raise app.UsageError(
            f"{out} has trained {state['epochs_done']} epochs already, more "
            f"than --epochs={settings['epochs']}."
        )
    if state and state["settings"] != settings:
        # Extended: the run goes on where it stopped.
        state.update(settings=settings, finished=False)
    if state.get("finished"):
        print(f"{out.name}: finished, skipped", flush=True)
        return
    epochs, every = settings["epochs"], settings["eval_every"]
    net, data, steps, callbacks = build()
    done = state.get("epochs_done", 0)
    if done:
        # The checkpoint holds the weights and both optimizers' state
        # (their iterations key the noise), and any switch state.
        net = keras.saving.load_model(out / state["checkpoint"])
        print(f"{out.name}: resumed after epoch {done}", flush=True)
    else:
        state = dict(
            **(fresh_state or {}),
            settings=settings,
            epochs_done=0,
            train_seconds=0.0,
            evals=[],
        )
    out.mkdir(parents=True, exist_ok=True)
    chunks = 0
    while done < epochs:
        if max_chunks and chunks >= max_chunks:
            print(f"{out.name}: stopped after {chunks} chunk(s)", flush=True)
            return
        stop = min(done + every, epochs)
        start = time.time()
        history = net.fit(
            data(done),
            initial_epoch=done,
            epochs=stop,
            steps_per_epoch=steps,
            callbacks=callbacks,
            verbose=0,
        )
        seconds = time.time() - start
        logs = {k: float(v[-1]) for k, v in history.history.items()}
        start = time.time()
        metrics = evaluate(net)
        entry = dict(
            epoch=stop,
            train_seconds=round(seconds, 2),
            eval_seconds=round(time.time() - start, 2),
            seconds_per_epoch=round(seconds / (stop - done), 4),
            logs=logs,
            metrics=metrics,
        )
        checkpoint = f"model-e{stop:05d}.keras"
        with _atomic.temp_path_for(out / checkpoint, suffix=".keras") as tmp:
            net.save(tmp)
        state["evals"].append(entry)
        state.update(
            epochs_done=stop,
            checkpoint=checkpoint,
            train_seconds=round(state["train_seconds"] + seconds, 2),
            finished=stop >= epochs,
        )
        stale = [f"model-e{done:05d}.keras"] if done else []
        if after_chunk is not None:
            stale += after_chunk(net, state, entry)
        if state["finished"] and on_finish is not None:
            on_finish(net)
        _atomic.write_text(result_file, json.dumps(state, indent=1) + "\n")
        named = set(_names(state))
        for name in stale:
            if name not in named:
                (out / name).unlink(missing_ok=True)
        print(progress_line(out.name, stop, epochs, entry), flush=True)
        done, chunks = stop, chunks + 1


def _other_settings(settings, extendable):
    """The settings a resumed run must match: all, or all but `epochs`."""
    return {
        k: v for k, v in settings.items() if not extendable or k != "epochs"
    }


def _names(state):
    """Every string value of `state` (the files it names among them)."""
    if isinstance(state, dict):
        for value in state.values():
            yield from _names(value)
    elif isinstance(state, list):
        for value in state:
            yield from _names(value)
    elif isinstance(state, str):
        yield state


def write_up(papers_md, marker, tool, body, summary_json, summary):
    """Replaces (or appends) the section `marker` of `papers_md` with the
    lines `body` and writes `summary` as JSON to `summary_json`, both
    atomically; `tool` names the script in the section's marker."""
    from ganzoo import _atomic
    from tools import results as results_lib

    papers = pathlib.Path(papers_md)
    text = papers.read_text() if papers.exists() else "# The papers' claims\n"
    _atomic.write_text(
        papers,
        results_lib.replace_section(
            text, marker, "\n".join(body), note=f"generated by {tool}"
        ),
    )
    path = pathlib.Path(summary_json)
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic.write_text(path, json.dumps(summary, indent=1) + "\n")
