"""Test adapter: calls ``companion.chainer`` on inputs in the reference layout (class axis last).

Floating arrays become ``chainer.Variable``\\ s of the requested dtype; integer arrays stay
integer arrays, so that a float ``labels`` array (or an integer ``logits`` array) reaches the
loss as the mistake it is. The class axis moves from last to Chainer's axis 1 for the losses
that have one, and back for the results.
"""

import numpy as np

from companion import chainer as losses

HALF_DTYPES = ("float16",)  # NumPy, and so Chainer, has no bfloat16

# Losses whose first argument has a class (or label) axis, and whether the second has one too.
CLASS_AXIS = {
    "softmax_cross_entropy": False,
    "focal_loss": False,
    "cost_sensitive_cross_entropy": False,
    "logit_adjusted_cross_entropy": False,
    "sigmoid_cross_entropy": True,
    "sigmoid_focal_loss": True,
}


def _to_chainer_layout(array):
    return np.moveaxis(array, -1, 1) if array.ndim >= 2 else array


def _to_reference_layout(array):
    return np.moveaxis(array, 1, -1) if array.ndim >= 2 else array


def _convert(array, dtype):
    if isinstance(array, np.ndarray) and np.issubdtype(array.dtype, np.floating):
        # np.ascontiguousarray would make a 0-d array 1-d.
        return np.array(array, dtype=dtype, order="C")
    return array


def _sample_weight_layout(sample_weight, rank):
    """A reference-layout sample weight, padded to ``rank`` and moved like the targets."""
    w = np.asarray(sample_weight)
    if w.ndim == 0 or w.ndim > rank:
        return sample_weight
    return _to_chainer_layout(w.reshape(w.shape + (1,) * (rank - w.ndim)))


def evaluate(name, args, kwargs, *, reduction, dtype, grad=True):
    """The loss and d(sum of loss)/d(args[0]) as float64 NumPy arrays in the reference layout."""
    first, *rest = (_convert(a, dtype) for a in args)
    kwargs = dict(kwargs)
    moves = name in CLASS_AXIS
    if moves:
        first = _to_chainer_layout(first)
        if CLASS_AXIS[name]:
            rest[0] = _to_chainer_layout(rest[0])
            if kwargs.get("sample_weight") is not None:
                kwargs["sample_weight"] = _sample_weight_layout(
                    kwargs["sample_weight"], rest[0].ndim
                )
    floating = np.issubdtype(first.dtype, np.floating)
    variable = losses.chainer.Variable(np.array(first, order="C")) if floating else first
    loss = getattr(losses, name)(variable, *rest, **kwargs, reduction=reduction)
    value = np.asarray(loss.array, dtype=np.float64)
    if moves and CLASS_AXIS[name] and reduction == "none":
        value = _to_reference_layout(value)
    if not grad:
        return value, None
    losses.F.sum(loss).backward()
    gradient = np.asarray(variable.grad, dtype=np.float64)
    return value, _to_reference_layout(gradient) if moves else gradient
