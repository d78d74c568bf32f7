"""Every tutorial runs top to bottom in fast mode and writes its figures."""

import os
import signal
import subprocess
import sys

import pytest
from PIL import Image

import ganzoo
from tests.conftest import REPO

TUTORIALS = REPO / "tutorials"
# Figures each tutorial must write under $GANZOO_TUTORIAL_OUT/<tutorial>/.
FIGURES = {
    "01_quickstart": [
        "samples.png",
        "interpolation.png",
        "between_components.png",
    ],
    "02_train_gan_mnist": [
        "final_samples.png",
        "samples/epoch_001.png",
        "samples/epoch_002.png",
    ],
    "03_deligan_limited_data": [
        "sigma.png",
        "deligan_samples.png",
        "gan_samples.png",
        "components.png",
    ],
    "04_lsgan_vs_gan_ring": ["samples.png", "coverage.png", "quality.png"],
    "05_distributed": ["one_device_vs_mirrored.png"],
    "06_serving": ["served_samples.png"],
    "07_deligan_own_pictures": [
        "training_batch.png",
        "samples.png",
        "components.png",
        "served_samples.png",
    ],
    "08_choose_on_validation": ["fd.png", "chosen_samples.png"],
}
# Presets a tutorial loads by name; without them it cannot run.
PRESETS = {"01_quickstart": "deligan-mnist", "06_serving": "deligan-mnist"}
# Seconds before a tutorial is killed; 05's own worker limit is 120 s.
TIMEOUT = 300

pytestmark = pytest.mark.slow


def test_every_tutorial_is_tested():
    assert sorted(p.stem for p in TUTORIALS.glob("*.py")) == sorted(FIGURES)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_tutorial_runs_in_fast_mode(name, data_dir, tmp_path):
    preset = PRESETS.get(name)
    if preset and preset not in ganzoo.list_models():
        pytest.skip(f"preset {preset!r} is not in the registry yet")
    env = dict(
        os.environ,
        GANZOO_FAST="1",
        GANZOO_DATA_DIR=str(data_dir),
        GANZOO_TUTORIAL_OUT=str(tmp_path),
        PYTHONPATH=str(REPO),
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    env.pop("TF_CONFIG", None)
    # Its own process group: a timeout kills the tutorial and its workers.
    proc = subprocess.Popen(
        [sys.executable, str(TUTORIALS / f"{name}.py")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        log = proc.communicate(timeout=TIMEOUT)[0].decode()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, log[-5000:]
    for figure in FIGURES[name]:
        path = tmp_path / name / figure
        assert path.is_file() and path.stat().st_size > 0, (figure, log[-2000:])
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert min(image.size) > 0
            image.verify()
