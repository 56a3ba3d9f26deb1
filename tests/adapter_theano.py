"""Test adapter of :mod:`companion.theano` for the conformance harness (``test_conformance.py``).

Theano keeps the class axis last, as the reference does, so no axis moves. The first argument
becomes a symbolic variable of ``dtype``; the others stay NumPy arrays (floating ones cast to
``dtype``, integer ones unchanged), which the module turns into constants and checks by value.
One ``theano.function`` per call returns the loss and ``T.grad`` of its sum.
"""

import numpy as np

import companion.theano as ct

theano, T = ct.theano, ct.T
HALF_DTYPES = ("float16",)  # Theano has no bfloat16


def _cast(array, dtype):
    if isinstance(array, np.ndarray) and np.issubdtype(array.dtype, np.floating):
        return array.astype(dtype)
    return array


def evaluate(name, args, kwargs, *, reduction, dtype, grad=True):
    loss_fn = getattr(ct, name)
    args = [_cast(a, dtype) for a in args]
    if not grad:
        loss = loss_fn(*args, **kwargs, reduction=reduction)
        return np.asarray(theano.function([], loss, mode="FAST_RUN")(), dtype=np.float64), None
    first = T.TensorType(dtype, (False,) * args[0].ndim)(name="first")
    loss = loss_fn(first, *args[1:], **kwargs, reduction=reduction)
    compiled = theano.function([first], [loss, T.grad(loss.sum(), first)], mode="FAST_RUN")
    value, gradient = compiled(args[0])
    return np.asarray(value, dtype=np.float64), np.asarray(gradient, dtype=np.float64)
