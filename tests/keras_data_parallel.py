"""One SGD step of a linear softmax classifier under ``keras.distribution.DataParallel`` on JAX.

Run by ``tests/test_keras_data_parallel.py`` in a subprocess with ``KERAS_BACKEND=jax`` and
``XLA_FLAGS=--xla_force_host_platform_device_count=2`` (two host CPU devices). For each way of
weighting, it trains one step on the global batch of 8 split over the two devices, one step on
one device, and the average of one step on each half (what a per-replica mean would give), and
prints the largest differences as JSON.
"""

import json
import os

import jax
import keras
import numpy as np

import companion.keras as ck

X = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
Y = np.array([0, 0, 0, 1, 2, 2, 2, 2])  # the rare class 1 sits in the first half only
CLASS_WEIGHT = [1.0, 10.0, 0.1]
W0 = np.random.default_rng(1).normal(size=(3, 3)).astype(np.float32)


def _weighted_mean(y_true, y_pred):
    """A loss function (not a class): the weighted mean Σwℓ/Σw of companion.keras itself."""
    labels = keras.ops.cast(y_true, "int32")
    return ck.softmax_cross_entropy(
        y_pred, labels, class_weight=CLASS_WEIGHT, reduction="weighted_mean", validate=False
    )


def _train(distribution, loss, rows, sample_weight):
    keras.distribution.set_distribution(distribution)
    try:
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3, use_bias=False)])
        model.layers[0].set_weights([W0])
        model.compile(keras.optimizers.SGD(1.0), loss=loss)
        weight = None if sample_weight is None else sample_weight[rows]
        model.fit(X[rows], Y[rows], sample_weight=weight, batch_size=8, shuffle=False, verbose=0)
        devices = len(model.layers[0].kernel.value.sharding.device_set)
        return model.get_weights()[0], devices
    finally:
        keras.distribution.set_distribution(None)


def main():
    assert os.environ.get("KERAS_BACKEND") == "jax" and len(jax.devices()) == 2, jax.devices()
    sample_weight = ck.fit_sample_weight(Y, class_weight=CLASS_WEIGHT).astype(np.float32)
    cases = {
        "SoftmaxCrossEntropy, sample_weight, mean_with_sample_weight": (
            lambda: ck.SoftmaxCrossEntropy(reduction="mean_with_sample_weight"),
            sample_weight,
        ),
        "SoftmaxCrossEntropy, sample_weight, sum_over_batch_size": (
            lambda: ck.SoftmaxCrossEntropy(),
            sample_weight,
        ),
        "softmax_cross_entropy(reduction='weighted_mean') as the loss": (
            lambda: _weighted_mean,
            None,
        ),
    }
    everything, first, second = slice(0, 8), slice(0, 4), slice(4, 8)
    results = {}
    for name, (loss, weight) in cases.items():
        data_parallel = keras.distribution.DataParallel(devices=jax.devices())
        parallel, devices = _train(data_parallel, loss(), everything, weight)
        single, _ = _train(None, loss(), everything, weight)
        halves = [_train(None, loss(), rows, weight)[0] for rows in (first, second)]
        per_replica = W0 + sum(h - W0 for h in halves) / 2
        results[name] = {
            "devices_holding_the_weights": devices,
            "data_layout": [str(a) for a in data_parallel.get_data_layout((8, 3)).axes],
            "to_one_device": float(np.abs(parallel - single).max()),
            "to_per_replica_mean": float(np.abs(parallel - per_replica).max()),
        }
    print(json.dumps(results))


if __name__ == "__main__":
    main()
