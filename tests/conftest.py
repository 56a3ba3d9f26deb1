"""Backends every reference test runs on, after scipy's ``xp`` fixture.

NumPy, array_api_strict (which refuses anything outside the standard) and PyTorch run on the CPU
everywhere; CuPy and CUDA tensors run where a CUDA device is present and skip with the reason
otherwise.

nbval compares every stored output of the book's notebooks, stderr included (it is not told to
ignore it), so library log noise in a chapter fails the test that runs it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest


@dataclass(frozen=True)
class Backend:
    """A way to put float64 NumPy test data on one array library and device, and back."""

    name: str
    module: Any

    def asarray(self, array):
        array = np.asarray(array)
        if self.name.startswith("torch"):
            return self.module.as_tensor(
                array, device="cuda" if self.name == "torch-cuda" else None
            )
        return self.module.asarray(array)

    def to_numpy(self, array):
        if self.name.startswith("torch"):
            return array.detach().cpu().numpy()
        if self.name == "cupy":
            return self.module.asnumpy(array)
        return np.asarray(array)


def _cuda_reason(name):
    try:
        if name == "cupy":
            cupy = importlib.import_module("cupy")
            if cupy.cuda.runtime.getDeviceCount() > 0:
                return None
        else:
            torch = importlib.import_module("torch")
            if torch.cuda.is_available():
                return None
    except Exception as error:  # no CuPy, no driver, no device: all mean "no GPU here"
        return f"{name}: no CUDA device ({type(error).__name__}: {error})"
    return f"{name}: no CUDA device"


def _backend(name):
    if name in ("cupy", "torch-cuda"):
        reason = _cuda_reason(name)
        if reason:
            pytest.skip(reason)
    module = {"torch-cpu": "torch", "torch-cuda": "torch"}.get(name, name)
    return Backend(name, importlib.import_module(module))


BACKENDS = [
    "numpy",
    "array_api_strict",
    "torch-cpu",
    pytest.param("cupy", marks=pytest.mark.gpu),
    pytest.param("torch-cuda", marks=pytest.mark.gpu),
]


@pytest.fixture(params=BACKENDS)
def backend(request):
    return _backend(request.param)


@pytest.fixture
def rng():
    return np.random.default_rng(20261123)
