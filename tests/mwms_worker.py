"""One worker of the MultiWorkerMirroredStrategy test (run as a script).

Usage: python -m tests.mwms_worker INDEX PORT0,PORT1 KIND OUT.npz
With INDEX = -1 it trains on one device instead, for comparison.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(index, ports, kind, out):
    if index >= 0:
        os.environ["TF_CONFIG"] = json.dumps(
            {
                "cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                "task": {"type": "worker", "index": index},
            }
        )
    import numpy as np
    import tensorflow as tf

    from tests import helpers

    strategy = (
        tf.distribute.MultiWorkerMirroredStrategy()
        if index >= 0
        else tf.distribute.get_strategy()
    )
    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    data = tf.data.Dataset.from_tensor_slices(x).batch(16)
    with strategy.scope():
        # "KIND-md": D with the grand-sum minibatch discrimination, whose
        # all_gather and all_reduce then run across the two processes.
        model = helpers.tiny_toy_model(
            kind.removesuffix("-md"),
            seed=4,
            md="grand_sum" if kind.endswith("-md") else None,
        )
        model.compile(
            d_optimizer=tf.keras.optimizers.SGD(0.1),
            g_optimizer=tf.keras.optimizers.SGD(0.1),
        )
    history = model.fit(data, epochs=2, verbose=0)
    weights = {f"arr_{i}": w for i, w in enumerate(helpers.all_weights(model))}
    np.savez(
        out,
        iterations=int(model.g_optimizer.iterations.numpy()),
        d_loss=np.ravel(history.history["d_loss"]),
        **weights,
    )


if __name__ == "__main__":
    main(
        int(sys.argv[1]),
        [int(p) for p in sys.argv[2].split(",")],
        sys.argv[3],
        sys.argv[4],
    )
