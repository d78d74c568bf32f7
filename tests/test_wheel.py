"""The wheel, as a user gets it: built with `pip wheel --no-deps .`, installed
outside any checkout, run offline from another folder."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO

MAX_WHEEL_MB = 25
OFFLINE = "http://127.0.0.1:9"  # a closed port: every download fails at once

CHECK = r"""
import json, pathlib, sys
import ganzoo
site = pathlib.Path(sys.argv[1]).resolve()
assert pathlib.Path(ganzoo.__file__).resolve().is_relative_to(site), (
    ganzoo.__file__)
names = ganzoo.list_models()
shapes = {}
for name in names:
    model = ganzoo.load(name)
    if hasattr(model, "sample"):
        shapes[name] = list(model.sample(4, seed=0).shape)
print(json.dumps({"names": names, "shapes": shapes}))
"""


def _pip(*args, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "pip", *args],
        check=True,
        capture_output=True,
        text=True,
        **kwargs,
    )


def _build_isolation_flag():
    try:
        import setuptools  # noqa: F401

        return ["--no-build-isolation"]  # no download of build tools
    except ImportError:
        return []


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    dist, site, source = tmp / "dist", tmp / "site", tmp / "source"
    # Built from a copy: a build writes build/ and *.egg-info beside setup.py,
    # and the tests write nothing into the checkout.
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(
            ".git", "runs", "build", "*.egg-info", "__pycache__", ".*_cache"
        ),
    )
    _pip(
        "wheel",
        "--no-deps",
        *_build_isolation_flag(),
        "-w",
        str(dist),
        str(source),
    )
    wheels = list(dist.glob("ganzoo-*.whl"))
    assert len(wheels) == 1, wheels
    _pip("install", "--no-deps", "--target", str(site), str(wheels[0]))
    return wheels[0], site, tmp


def _run(site, tmp, *args):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("GANZOO_") and k != "PYTHONPATH"
    }
    env.update(
        PYTHONPATH=str(site),
        GANZOO_HOME=str(tmp / "home"),
        GANZOO_BASE_URL=OFFLINE,
    )
    work = tmp / "elsewhere"
    work.mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, *args],
        check=False,
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_wheel_is_small_and_ships_the_presets(installed):
    wheel, site, _ = installed
    assert wheel.stat().st_size < MAX_WHEEL_MB * 1e6, wheel.stat().st_size
    registry = json.loads((site / "ganzoo" / "registry.json").read_text())
    for name, entry in registry.items():
        for file in entry["shipped"]:
            assert (site / "ganzoo" / "presets" / name / file).is_file()
    # The maintainer tools and the tests stay out of the package.
    assert not (site / "tools").exists() and not (site / "tests").exists()


@pytest.mark.slow
def test_installed_wheel_loads_and_samples_every_preset_offline(installed):
    _, site, tmp = installed
    done = _run(site, tmp, "-c", CHECK, str(site))
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(result["names"]) >= 8
    assert result["shapes"]["deligan-mnist"] == [4, 28, 28, 1]
    assert result["shapes"]["gan-ring8"] == [4, 2]
    # Nothing was downloaded or cached: the presets came from the wheel.
    assert not (tmp / "home").exists()


@pytest.mark.slow
def test_installed_cli_evaluates_with_the_shipped_classifier(
    installed, data_dir
):
    _, site, tmp = installed
    cli = ["-m", "ganzoo.cli"]
    done = _run(
        site,
        tmp,
        *cli,
        "evaluate",
        "deligan-mnist",
        "--metrics=classifier_score",
        "--num_samples=200",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "classifier_score" in done.stdout
    # A metric that needs the MNIST files says how to get them, at once.
    done = _run(
        site,
        tmp,
        *cli,
        "evaluate",
        "gan-mnist",
        "--metrics=parzen",
        "--num_samples=200",
    )
    assert done.returncode == 2, done.stderr[-3000:]
    assert "GANZOO_DATA_DIR" in done.stderr and "Traceback" not in done.stderr
    # A download-only file offline: which file, which URL, which variable.
    done = _run(
        site,
        tmp,
        *cli,
        "train",
        "--network=mnist_mlp",
        "--init_from=gan-mnist",
        "--epochs=1",
        "--take=100",
        "--batch_size=50",
        f"--output_dir={tmp / 'run'}",
        f"--data_dir={data_dir}",
    )
    assert done.returncode == 2
    err = done.stderr
    assert "model.weights.h5" in err and OFFLINE in err, err[-3000:]
    assert "GANZOO_BASE_URL" in err
