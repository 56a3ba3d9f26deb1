"""The conformance adapter of ``companion.torch`` (see ``tests/test_conformance.py``).

Inputs come in the reference layout (NumPy, class axis last). Floating arrays become tensors of
the requested dtype, integer arrays stay integer, so that a float ``labels`` or an integer
``logits`` array reaches the function as the mistake it is. The class axis moves to PyTorch's
axis 1 for the softmax losses' logits and for both inputs of the sigmoid losses; the loss and
the gradient come back in the reference layout as float64 NumPy arrays.
"""

import numpy as np
import torch

from companion import torch as losses

# For each loss, the positional arguments whose last (class) axis moves to axis 1.
CLASS_AXIS_ARGS = {
    "softmax_cross_entropy": (0,),
    "focal_loss": (0,),
    "cost_sensitive_cross_entropy": (0,),
    "logit_adjusted_cross_entropy": (0,),
    "sigmoid_cross_entropy": (0, 1),
    "sigmoid_focal_loss": (0, 1),
}
SIGMOID = ("sigmoid_cross_entropy", "sigmoid_focal_loss")


def to_torch_layout(array):
    return np.moveaxis(array, -1, 1) if array.ndim >= 2 else array


def to_reference_layout(array):
    return np.moveaxis(array, 1, -1) if array.ndim >= 2 else array


def as_tensor(array, dtype):
    """A floating array as a tensor of ``dtype``; any other array keeps its dtype."""
    array = np.array(array, order="C")  # np.ascontiguousarray would make a 0-d array 1-d
    if np.issubdtype(array.dtype, np.floating):
        return torch.tensor(array, dtype=getattr(torch, dtype))
    return torch.tensor(array)


def _sample_weight(sample_weight, rank):
    """A per-element ``sample_weight`` of a sigmoid loss, in PyTorch's layout."""
    weight = np.asarray(sample_weight)
    if weight.ndim < 2:
        return sample_weight  # a number or per-sample weights: the same in both layouts
    weight = weight.reshape(weight.shape + (1,) * (rank - weight.ndim))
    return to_torch_layout(weight)


def evaluate(name, args, kwargs, *, reduction, dtype, grad=True):
    moved = CLASS_AXIS_ARGS.get(name, ())
    tensors = [
        as_tensor(to_torch_layout(a) if i in moved else a, dtype) for i, a in enumerate(args)
    ]
    kwargs = dict(kwargs)
    if name in SIGMOID and kwargs.get("sample_weight") is not None:
        kwargs["sample_weight"] = _sample_weight(kwargs["sample_weight"], np.ndim(args[0]))
    if grad:
        tensors[0].requires_grad_(True)
    loss = getattr(losses, name)(*tensors, **kwargs, reduction=reduction)
    gradient = None
    if grad:
        loss.sum().backward()
        gradient = tensors[0].grad.double().numpy()
        if 0 in moved:
            gradient = to_reference_layout(gradient)
    value = loss.detach().double().numpy()
    if reduction == "none" and name in SIGMOID:
        value = to_reference_layout(value)
    return value, gradient
