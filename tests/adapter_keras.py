"""Conformance adapter for :mod:`companion.keras` (see ``tests/test_conformance.py``).

It runs on the backend Keras was imported with (``KERAS_BACKEND``): the test process itself
uses TensorFlow, and ``tests/test_keras_backends.py`` runs the same tests again in a subprocess
per backend. The class axis is last, as in the reference, so nothing is moved. The gradient
comes from the backend's own autodiff (``tf.GradientTape``, ``jax.vjp``, ``torch.autograd``).
JAX computes in float64 only with ``jax_enable_x64``, which this adapter sets.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np

import companion.keras as ck

BACKEND = keras.backend.backend()
HALF_DTYPES = ("float16", "bfloat16")

if BACKEND == "jax":
    import jax

    jax.config.update("jax_enable_x64", True)


def _tensor(array, dtype):
    array = np.asarray(array)
    if np.issubdtype(array.dtype, np.floating):
        return keras.ops.convert_to_tensor(array, dtype=dtype)
    if np.issubdtype(array.dtype, np.integer):
        return keras.ops.convert_to_tensor(array, dtype="int64")
    return keras.ops.convert_to_tensor(array)


def _numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(keras.ops.cast(x, "float64")))


def evaluate(name, args, kwargs, *, reduction, dtype, grad=True):
    """The loss and d(sum of loss)/d(args[0]) as float64 NumPy arrays in the reference layout."""
    tensors = [_tensor(a, dtype) for a in args]
    loss_fn = getattr(ck, name)

    def loss_of(first):
        return loss_fn(first, *tensors[1:], **kwargs, reduction=reduction)

    if not grad:
        return _numpy(loss_of(tensors[0])), None
    if BACKEND == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(tensors[0])
            loss = loss_of(tensors[0])
            total = tf.reduce_sum(loss)
        gradient = tape.gradient(total, tensors[0])
    elif BACKEND == "jax":
        loss, backward = jax.vjp(loss_of, tensors[0])
        (gradient,) = backward(keras.ops.ones_like(loss))
    elif BACKEND == "torch":
        first = tensors[0].detach().requires_grad_(True)
        loss = loss_of(first)
        loss.sum().backward()
        gradient = first.grad
        loss = loss.detach()
    else:  # pragma: no cover
        raise RuntimeError(f"no gradient for the Keras backend {BACKEND!r}")
    return _numpy(loss), _numpy(gradient)
