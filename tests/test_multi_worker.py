"""MultiWorkerMirroredStrategy: two worker processes on 127.0.0.1."""

import os
import subprocess
import sys

import numpy as np
import pytest

from tests import helpers
from tests.conftest import REPO

TIMEOUT = (
    150  # seconds; a worker whose peer died blocks forever and ignores SIGTERM
)


def _run_workers(kind, tmp_path):
    ports = ",".join(map(str, helpers.free_ports(2)))
    env = dict(os.environ, PYTHONPATH=str(REPO))
    outs = [tmp_path / f"w{i}.npz" for i in (-1, 0, 1)]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.mwms_worker",
                str(i),
                ports,
                kind,
                str(out),
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for i, out in zip((-1, 0, 1), outs)
    ]
    logs = []
    try:
        for p in procs:
            logs.append(p.communicate(timeout=TIMEOUT)[0].decode()[-3000:])
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, 9)  # SIGKILL: SIGTERM is ignored
    for p, log in zip(procs, logs):
        assert p.returncode == 0, log
    return [np.load(out) for out in outs]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["gan", "deligan", "deligan-md"])
def test_two_workers_match_each_other_and_one_device(kind, tmp_path):
    single, w0, w1 = _run_workers(kind, tmp_path)
    assert int(w0["iterations"]) == int(w1["iterations"]) == 8
    weights = sorted(k for k in w0.files if k.startswith("arr_"))
    assert weights
    for key in weights:
        np.testing.assert_array_equal(w0[key], w1[key])
    np.testing.assert_allclose(w0["d_loss"], w1["d_loss"], rtol=1e-6)
    assert np.all(np.isfinite(w0["d_loss"]))
    # And the same update as one device with the same global batch.
    for key in weights:
        np.testing.assert_allclose(w0[key], single[key], atol=1e-5)
    np.testing.assert_allclose(w0["d_loss"], single["d_loss"], rtol=1e-5)
