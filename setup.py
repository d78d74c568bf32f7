"""ganzoo: GAN, LSGAN and DeLiGAN in Keras 3, with pretrained weights."""

from setuptools import find_packages
from setuptools import setup

setup(
    name="ganzoo",
    version="0.1.0",
    description=(
        "A Keras 3 model zoo of GAN, LSGAN and DeLiGAN with pretrained, "
        "hash-checked weights."
    ),
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.9",
    packages=find_packages(include=["ganzoo", "ganzoo.*"]),
    package_data={"ganzoo": ["registry.json"]},
    install_requires=[
        "tensorflow>=2.21,<2.22",
        "keras>=3.8,<4",
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
    extras_require={"test": ["pytest"]},
    entry_points={"console_scripts": ["ganzoo=ganzoo.cli:run"]},
    license="Apache-2.0",
)
