"""The Keras tests and the Keras conformance tests, again on Keras' JAX and PyTorch backends.

Keras picks its backend once, when it is imported (``KERAS_BACKEND``), and this test process
runs on TensorFlow. So each other backend gets a subprocess that runs ``tests/test_keras.py``
and ``tests/test_conformance.py`` (narrowed to ``companion.keras`` by ``COMPANION_FRAMEWORKS``):
values and gradients against the float64 reference, the bad inputs, ``fit`` with
``sample_weight`` and with ``fit_sample_weight``, saving and loading, ``jit_compile``. The two
files run in separate processes, since the conformance adapter turns on JAX's float64.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(backend, test_file):
    env = {
        **os.environ,
        "KERAS_BACKEND": backend,
        "COMPANION_FRAMEWORKS": "keras",
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts="]
    done = subprocess.run(
        [*command, str(ROOT / "tests" / test_file)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize("test_file", ["test_keras.py", "test_conformance.py"])
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_keras_tests_pass_on_the_backend(backend, test_file):
    returncode, output = _run(backend, test_file)
    summary = output.strip().splitlines()[-1] if output.strip() else ""
    assert returncode == 0, output[-6000:]
    passed = re.search(r"(\d+) passed", summary)
    assert passed and int(passed.group(1)) > 50, summary
    assert "failed" not in summary and "error" not in summary, summary
