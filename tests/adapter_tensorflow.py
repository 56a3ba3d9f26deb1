"""Conformance adapter for :mod:`companion.tensorflow` (see ``tests/test_conformance.py``).

TensorFlow and Keras put the class axis last, as the reference does, so nothing is moved.
Floating arrays become tensors of the requested dtype; integer arrays stay integer (``int64``),
so a float ``labels`` array or an integer ``logits`` array reaches the module as the mistake it
is. Keyword arguments are passed as they come (NumPy arrays, lists, dicts, numbers).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

import companion.tensorflow as ctf

tf = ctf.tf  # imported by companion.tensorflow, which keeps the C++ start-up messages quiet
HALF_DTYPES = ("float16", "bfloat16")  # both are TensorFlow dtypes


def _tensor(array, dtype):
    array = np.asarray(array)
    if np.issubdtype(array.dtype, np.floating):
        return tf.constant(array, dtype=dtype)
    if np.issubdtype(array.dtype, np.integer):
        return tf.constant(array, dtype=tf.int64)
    return tf.constant(array)


def evaluate(name, args, kwargs, *, reduction, dtype, grad=True):
    """The loss and d(sum of loss)/d(args[0]) as float64 NumPy arrays in the reference layout."""
    tensors = [_tensor(a, dtype) for a in args]
    loss_fn = getattr(ctf, name)
    if not grad:
        loss = loss_fn(*tensors, **kwargs, reduction=reduction)
        return loss.numpy().astype(np.float64), None
    with tf.GradientTape() as tape:
        tape.watch(tensors[0])
        loss = loss_fn(*tensors, **kwargs, reduction=reduction)
        total = tf.reduce_sum(loss)
    gradient = tape.gradient(total, tensors[0])
    return loss.numpy().astype(np.float64), gradient.numpy().astype(np.float64)
