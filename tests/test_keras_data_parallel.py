"""Under ``keras.distribution.DataParallel`` on JAX, companion.keras' weighted mean is global.

JAX's data parallelism compiles one program over the global batch, sharded across the devices
(here two host CPU devices, ``XLA_FLAGS=--xla_force_host_platform_device_count=2``): the sums of
a weighted mean run over the whole batch, so one step equals one step on one device, and differs
from the average of per-replica weighted means (what TensorFlow's ``MirroredStrategy`` computes
with a per-replica ``Σwℓ/Σw``, see ``tests/test_distributed.py`` and the data-parallel chapter).
The batch puts the rare class in one half only, so the two answers differ.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def differences():
    env = {
        **os.environ,
        "KERAS_BACKEND": "jax",
        "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "keras_data_parallel.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


WEIGHTED = [
    "SoftmaxCrossEntropy, sample_weight, mean_with_sample_weight",
    "softmax_cross_entropy(reduction='weighted_mean') as the loss",
]


def test_the_batch_is_split_over_two_devices_that_both_hold_the_weights(differences):
    for case in differences.values():
        assert case["devices_holding_the_weights"] == 2, case
        assert case["data_layout"] == ["batch", "None"], case


@pytest.mark.parametrize("case", WEIGHTED)
def test_weighted_mean_under_jax_data_parallel_is_the_global_batch_s(differences, case):
    assert differences[case]["to_one_device"] < 1e-6, differences[case]
    assert differences[case]["to_per_replica_mean"] > 0.05, differences[case]


def test_a_mean_over_the_batch_size_is_the_same_either_way_for_equal_halves(differences):
    case = differences["SoftmaxCrossEntropy, sample_weight, sum_over_batch_size"]
    assert case["to_one_device"] < 1e-6 and case["to_per_replica_mean"] < 1e-6, case
