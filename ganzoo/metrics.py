"""Sample-quality metrics of the GAN, LSGAN and DeLiGAN papers.

Pure functions on numpy arrays (features, class posteriors, samples).
`evaluate_samples` is the one entry point that also runs the reference
classifier (`ganzoo.classifier`) and loads real data (`ganzoo.datasets`).

Reference values, measured with the shipped `zoo_weights/mnist-classifier`
(`python benchmarks/bench_parzen.py --reference`, this machine, 2 cores):

| quantity (MNIST) | value |
|---|---|
| classifier score of the 10,000 test images | 9.89 |
| Frechet distance test[:5000] vs test[5000:], logits | 0.042 |
| same, penultimate features (128-d) | 0.24 |
| Frechet distance test set vs uniform noise, logits | 1.2e3 |
| Parzen LL, samples = train[:10000] (paper protocol) | 239.7 +- 2.1 |
| Parzen wall time, full protocol | 11 s |
"""

import numpy as np
import tensorflow as tf

from ganzoo.frechet import frechet_distance  # noqa: F401
from ganzoo.frechet import frechet_distance_from_stats  # noqa: F401
