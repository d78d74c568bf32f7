"""`ganzoo train --strategy=multi_worker` as a user starts it on a cluster:
the console script on two workers on 127.0.0.1, each with its TF_CONFIG."""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from ganzoo import callbacks, presets_io
from tests import helpers

TIMEOUT = 240  # seconds; a worker whose peer died blocks and ignores SIGTERM
TOY = [
    "--model=deligan",
    "--network=toy",
    "--dataset=ring8",
    "--optimizer=sgd",
    "--momentum=0.5",
    "--d_lr=0.05",
    "--g_lr=0.05",
    "--num_components=4",
    "--width=0.1",
    "--batch_size=32",
    "--limit=640",
    "--seed=3",
    "--verbose=0",
    "--grid_size=2",
]


def _console_script():
    """The installed `ganzoo` command (beside this Python, or on PATH)."""
    here = os.path.join(os.path.dirname(sys.executable), "ganzoo")
    found = here if os.path.exists(here) else shutil.which("ganzoo")
    assert found, "the ganzoo console script is not installed"
    return found


def _start(args, cwd, tf_config=None):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TF_CONFIG", "TF_CPP_MIN_LOG_LEVEL")
    }
    if tf_config is not None:
        env["TF_CONFIG"] = json.dumps(tf_config)
    return subprocess.Popen(
        [_console_script(), "train", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _cluster(ports, index):
    return {
        "cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
        "task": {"type": "worker", "index": index},
    }


def _kill(procs):
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
        p.wait()


def _finish(procs):
    """Waits for all, under the hard timeout; their outputs."""
    logs = []
    try:
        for p in procs:
            logs.append(p.communicate(timeout=TIMEOUT)[0].decode()[-3000:])
    finally:
        _kill(procs)
    return logs


def _two_workers(tmp_path, args, strategy="multi_worker"):
    ports = helpers.free_ports(2)
    return [
        _start(
            [
                *args,
                f"--strategy={strategy}",
                f"--output_dir={tmp_path / f'w{i}'}",
            ],
            tmp_path,
            _cluster(ports, i),
        )
        for i in (0, 1)
    ]


def _epochs_logged(run):
    if not (run / "log.csv").exists():
        return []
    with open(run / "log.csv") as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


def _generator_weights(run):
    model, card = presets_io.load_preset_dir(run / "preset")
    return model.generator.get_weights(), card


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["multi_worker", "auto"])
def test_two_workers_through_the_cli_equal_one_device(tmp_path, strategy):
    args = [*TOY, "--epochs=2", "--steps_per_epoch=10"]
    procs = _two_workers(tmp_path, args, strategy)
    single = _start(
        [*args, "--strategy=one_device", f"--output_dir={tmp_path / 'single'}"],
        tmp_path,
    )
    logs = _finish([*procs, single])
    for p, log in zip([*procs, single], logs):
        assert p.returncode == 0, log
    chief, card = _generator_weights(tmp_path / "w0")
    assert card["strategy"] == "MultiWorkerMirroredStrategy"
    assert card["replicas"] == 2 and card["steps"] == 20
    alone, _ = _generator_weights(tmp_path / "single")
    for a, b in zip(chief, alone):
        np.testing.assert_allclose(a, b, atol=1e-5)
    # Only the chief writes results; the other worker leaves no preset,
    # pictures, logs or config, and no checkpoint files once done.
    worker = tmp_path / "w1"
    left = (
        sorted(
            str(p.relative_to(worker)) for p in worker.rglob("*") if p.is_file()
        )
        if worker.exists()
        else []
    )
    assert left == [], left
    assert "Preset written" in logs[0] and "Preset written" not in logs[1]


@pytest.mark.slow
@pytest.mark.parametrize("tf_config", [False, True])
def test_one_worker_trains_with_tensorboard(tmp_path, tf_config):
    """A one-worker job (a cluster of one in TF_CONFIG, or no TF_CONFIG)
    logs scalars: its logs once had shape (1,), which TensorBoard's
    callback refused with a traceback."""
    run = tmp_path / "run"
    proc = _start(
        [
            *TOY,
            "--epochs=1",
            "--steps_per_epoch=3",
            "--strategy=multi_worker",
            f"--output_dir={run}",
        ],
        tmp_path,
        _cluster(helpers.free_ports(1), 0) if tf_config else None,
    )
    (log,) = _finish([proc])
    assert proc.returncode == 0, log
    assert "Traceback" not in log
    # BackupAndRestore.gather's collective runs in a tf.function: eagerly,
    # TensorFlow warned "Using CollectiveAllReduceStrategy eagerly".
    assert "eagerly" not in log, log
    _, card = _generator_weights(run)
    assert card["strategy"] == "MultiWorkerMirroredStrategy"
    assert card["replicas"] == 1 and card["steps"] == 3
    assert list((run / "tensorboard").rglob("events.out.tfevents.*"))


@pytest.mark.slow
def test_kill_9_of_a_worker_then_rerun_of_both_resumes(tmp_path):
    args = [*TOY, "--epochs=6", "--steps_per_epoch=60"]
    procs = _two_workers(tmp_path, args)
    chief_run = tmp_path / "w0"
    deadline = time.time() + TIMEOUT
    while time.time() < deadline and procs[0].poll() is None:
        if len(_epochs_logged(chief_run)) >= 2:
            break
        time.sleep(0.2)
    assert procs[0].poll() is None, procs[0].communicate()[0].decode()
    os.killpg(procs[1].pid, signal.SIGKILL)  # one machine dies
    _kill(procs)  # its peer blocks on the next collective: stop it too
    first = _epochs_logged(chief_run)
    assert 2 <= len(first) < 6 and not (chief_run / "preset").exists()

    logs = _finish(_two_workers(tmp_path, args))
    assert "Preset written" in logs[0], logs
    epochs = _epochs_logged(chief_run)
    second = epochs[len(first) :]
    # Resumed from the last checkpoint, not from the start.
    assert second[0] >= len(first) - 1 and second[-1] == 5
    card = json.loads(
        (chief_run / "preset" / presets_io.METADATA_FILE).read_text()
    )
    assert card["steps"] == 6 * 60 and card["replicas"] == 2


def _checkpoint(run):
    path = run / "backup" / callbacks.BackupAndRestore.STATE_FILE
    return json.loads(path.read_text()) if path.exists() else None


@pytest.mark.slow
def test_a_worker_an_epoch_behind_makes_both_resume_from_its_epoch(tmp_path):
    """A worker killed while writing its checkpoint keeps the one before:
    on the rerun, both must start from that older epoch, or their
    collectives no longer pair up (the run hangs or the workers train
    different weights)."""
    args = [*TOY, "--epochs=6", "--steps_per_epoch=60"]
    procs = _two_workers(tmp_path, args)
    chief_run, worker_run = tmp_path / "w0", tmp_path / "w1"
    deadline = time.time() + TIMEOUT
    while time.time() < deadline and procs[0].poll() is None:
        if len(_epochs_logged(chief_run)) >= 2:
            break
        time.sleep(0.2)
    _kill(procs)
    c, w = _checkpoint(chief_run), _checkpoint(worker_run)
    assert c and w and c["epoch"] >= 2, (c, w)
    # Whatever the kill left (the two within an epoch of each other), put
    # one a whole epoch behind the other, as a kill before its commit does.
    top = min(c["epoch"], w["epoch"])  # both hold it
    runs = (worker_run, chief_run)  # lagging, leading
    lag, lead = runs if w["epoch"] <= c["epoch"] else runs[::-1]
    for run, epoch in ((lead, top), (lag, top - 1)):
        state = _checkpoint(run)
        held = {s["epoch"]: s for s in (state, state["previous"]) if s}
        path = run / "backup" / callbacks.BackupAndRestore.STATE_FILE
        if epoch:
            before = held.get(epoch - 1)
            before = before and dict(before, previous=None)
            path.write_text(json.dumps(dict(held[epoch], previous=before)))
        else:
            path.unlink()
    behind = top - 1
    first = _epochs_logged(chief_run)

    logs = _finish(_two_workers(tmp_path, args))
    assert "Preset written" in logs[0], logs
    said = f"resuming after epoch {behind}, not {top}."
    assert said in logs[lead == worker_run], logs
    second = _epochs_logged(chief_run)[len(first) :]
    assert second == list(range(behind, 6)), second
    card = json.loads(
        (chief_run / "preset" / presets_io.METADATA_FILE).read_text()
    )
    assert card["steps"] == 6 * 60 and card["replicas"] == 2
