"""Weighted losses for imbalanced data: reference implementations and five framework idioms.

``import companion`` imports no framework. Each submodule is loaded on first use:

* :mod:`companion.reference`: every loss, written once against the Python array API (NumPy,
  CuPy, PyTorch arrays on any device); the ground truth the others are tested against.
* :mod:`companion.weights`: class weights from labels, and merging class and sample weights.
* :mod:`companion.data`: small deterministic data sets built from what packages ship.
* ``companion.torch``, ``companion.tensorflow``, ``companion.chainer``, ``companion.theano``: the
  same losses in each framework's own idiom (each imports its framework when imported).
* ``companion.keras``: the same losses in ``keras.ops``, for Keras 3 on the TensorFlow, JAX and
  PyTorch backends, with serialisable ``keras.losses.Loss`` classes.
"""

import importlib

__version__ = "0.1.0"

_SUBMODULES = (
    "reference",
    "weights",
    "data",
    "torch",
    "tensorflow",
    "keras",
    "chainer",
    "theano",
)


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_SUBMODULES])
