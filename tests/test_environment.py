"""The environment is exactly the lock, environment.yml agrees with it, and the package is light."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
FRAMEWORKS = ("torch", "tensorflow", "keras", "tf_keras", "chainer", "theano", "cupy", "jax")


def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lines, separator="=="):
    found = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if separator in line:
            name, version = line.split(separator, 1)
            found[norm(name)] = version.strip()
    return found


def lock():
    return pins((ROOT / "requirements.lock").read_text().splitlines())


def environment_yml():
    spec = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in spec["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in spec["dependencies"] if isinstance(d, dict))
    found = pins([d.replace("=", "==", 1) for d in conda if "=" in d])
    found.update(pins(pip))
    found.pop("python")
    return found


def test_environment_yml_pins_exactly_what_the_lock_pins():
    assert environment_yml() == lock()


def test_environment_yml_asks_for_python_3_11():
    spec = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in spec["dependencies"]


def test_every_direct_requirement_is_locked_at_its_pin():
    direct = pins((ROOT / "requirements.in").read_text().splitlines())
    locked = lock()
    for name, version in direct.items():
        assert locked.get(name) == version, (name, version, locked.get(name))


def gpu_extra():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return pins(project["optional-dependencies"]["gpu"])


def installed_distributions():
    """Name and version of every installed distribution, read in a fresh interpreter.

    Not in this process: once setuptools is imported (Chainer's import does), its vendored
    packages' metadata is on ``sys.path`` too, with other versions.
    """
    code = (
        "from importlib.metadata import distributions\n"
        "for d in distributions(): print(d.metadata['Name'], d.version)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return dict(line.split() for line in result.stdout.splitlines())


def test_installed_packages_are_exactly_the_lock():
    installed = {norm(name): v.split("+")[0] for name, v in installed_distributions().items()}
    for name in ("pip", "companion", *gpu_extra()):  # the optional GPU extra may be there too
        installed.pop(name, None)
    assert installed == lock()


def test_gpu_extra_is_pinned_exactly():
    assert gpu_extra() and all(version for version in gpu_extra().values())


def test_importing_companion_loads_no_framework():
    code = (
        "import sys, companion, companion.reference, companion.weights\n"
        f"print([m for m in {FRAMEWORKS!r} if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]", result.stdout


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / "README.md").read_text()
    assert re.search(r"^make test$", (ROOT / ".ci" / "run").read_text(), re.MULTILINE)
