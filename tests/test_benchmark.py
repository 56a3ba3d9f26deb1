"""``benchmarks/losses.py --quick`` runs and prints its table (the structure, not the numbers)."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "losses.py"
COLUMNS = "framework loss ms t/floor t/peer MiB m/floor m/peer targets pass".split()
RATIO = r"(\d+\.\d\d|-)"
VERDICT = r"[tm]/(floor|peer)<=\d\.\d\d:(ok|NO|n/a)"


def test_quick_benchmark_prints_one_row_per_case_with_ratios_targets_and_verdicts():
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, str(SCRIPT), "--quick", "--rows", "256", "--repeats", "1"]
    # One Keras backend (JAX, the quickest to import): each adds four processes.
    command += ["--losses", "sigmoid_focal_loss", "--keras-backends", "jax"]
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("torch ") and lines[1].startswith("tensorflow ")
    assert lines[2].startswith("keras-jax: keras ")
    (top,) = [i for i, line in enumerate(lines) if line.split()[:1] == ["framework"]]
    assert lines[top].split() == COLUMNS
    rows = lines[top + 1 : top + 4]
    pattern = re.compile(
        rf"(torch|tensorflow|keras-jax) +sigmoid_focal_loss +\d+\.\d +{RATIO} +{RATIO} +"
        rf"(\d+\.\d|-) +{RATIO} +{RATIO} +{VERDICT} {VERDICT} +(yes|NO) *$"
    )
    assert [pattern.match(row) is not None for row in rows] == [True, True, True], rows
    assert [row.split()[0] for row in rows] == ["torch", "tensorflow", "keras-jax"]
    # companion.keras is held to Keras' own loss on the same backend.
    assert " t/peer<=1.05:" in rows[2] and " m/peer<=1.20:" in rows[2], rows[2]
    assert lines[top + 4] == "floor and peer of each row:"
    assert "keras-jax sigmoid_focal_loss: floor keras.ops." in lines[top + 7]
    assert lines[-1].startswith("targets failed: ")
    # Progress: a line per memory measurement and per finished case.
    progress = done.stderr.splitlines()
    assert sum(line.startswith("memory ") for line in progress) == 3
    assert sum(line.startswith("done ") for line in progress) == 3
