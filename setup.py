"""ganzoo: GAN, LSGAN and DeLiGAN in Keras 3, with pretrained weights."""

import pathlib
import re

from setuptools import find_packages, setup

HERE = pathlib.Path(__file__).parent
VERSION = re.search(
    r'__version__ = "([^"]+)"', (HERE / "ganzoo" / "version.py").read_text()
).group(1)

setup(
    name="ganzoo",
    version=VERSION,
    description=(
        "A Keras 3 model zoo of GAN, LSGAN and DeLiGAN with pretrained, "
        "hash-checked weights."
    ),
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    # The code uses datetime.UTC and `X | None` annotations.
    python_requires=">=3.11",
    packages=find_packages(include=["ganzoo", "ganzoo.*"]),
    # The shipped presets: configs, model cards and weights (a few MB each).
    package_data={
        "ganzoo": ["registry.json", "reference_values.json", "presets/*/*"]
    },
    install_requires=[
        "tensorflow>=2.21,<2.22",
        # TensorFlow 2.21's own floor.
        "keras>=3.12,<4",
        "tensorflow-datasets>=4.9",
        # TensorFlow 2.21 no longer pulls it in; tf.summary needs it.
        "tensorboard",
        # tfds 4.9.10 needs it to prepare datasets but does not declare it.
        "importlib_resources",
        "numpy",
        "scipy",
        "absl-py",
        "pillow",
    ],
    extras_require={"test": ["pytest", "pytest-xdist", "ruff==0.17.6"]},
    entry_points={"console_scripts": ["ganzoo=ganzoo.cli:run"]},
    license="Apache-2.0",
)
