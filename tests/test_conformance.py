"""Every framework module computes the reference's loss and gradient, and rejects the same mistakes.

Each framework has a test adapter, ``tests/adapter_<framework>.py``, that takes inputs in the
reference layout (class axis last, NumPy arrays), converts them to the framework's tensors and
class-axis convention, calls ``companion.<framework>.<loss>`` and returns the loss and the
gradient with respect to the first argument as float64 NumPy arrays in the reference layout:

    evaluate(name, args, kwargs, *, reduction, dtype, grad=True) -> (loss, grad or None)

The expected loss is ``companion.reference`` in float64; the expected gradient is PyTorch's
float64 autograd through the reference.
"""

import importlib

import numpy as np
import pytest
import torch
from bad_inputs import CASES, IDS
from cases import LABEL_SHAPES, LOSSES, REDUCTIONS, make_case

from companion import reference

FRAMEWORKS = ("torch", "tensorflow", "chainer", "theano")
TOLERANCE = {"float64": {"rtol": 1e-10, "atol": 1e-12}, "float32": {"rtol": 1e-4, "atol": 1e-6}}


@pytest.fixture(scope="module", params=FRAMEWORKS)
def adapter(request):
    return importlib.import_module(f"adapter_{request.param}")


def _float(array, dtype):
    if isinstance(array, np.ndarray) and np.issubdtype(array.dtype, np.floating):
        return array.astype(dtype).astype(np.float64)
    return array


def reference_loss_and_grad(name, args, kwargs, reduction):
    """The float64 reference loss and d(sum of loss)/d(first argument) by torch autograd."""
    first = torch.tensor(args[0], dtype=torch.float64, requires_grad=True)
    rest = [torch.as_tensor(a) for a in args[1:]]
    loss = getattr(reference, name)(first, *rest, **kwargs, reduction=reduction)
    loss.sum().backward()
    return loss.detach().numpy(), first.grad.numpy()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("saturated", [False, True], ids=["random", "saturated"])
@pytest.mark.parametrize("shape", LABEL_SHAPES.values(), ids=LABEL_SHAPES.keys())
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", LOSSES)
def test_loss_and_gradient_equal_the_reference(adapter, name, reduction, shape, saturated, dtype):
    args, kwargs = make_case(name, np.random.default_rng(7), shape, saturated=saturated)
    # The float32 run is compared with the reference on the same float32-rounded inputs.
    args = tuple(_float(a, dtype) for a in args)
    kwargs = {k: _float(v, dtype) for k, v in kwargs.items()}
    expected_loss, expected_grad = reference_loss_and_grad(name, args, kwargs, reduction)
    loss, grad = adapter.evaluate(name, args, kwargs, reduction=reduction, dtype=dtype)
    assert loss.shape == expected_loss.shape
    np.testing.assert_allclose(loss, expected_loss, **TOLERANCE[dtype])
    np.testing.assert_allclose(grad, expected_grad, **TOLERANCE[dtype])


@pytest.mark.parametrize(
    ("name", "args", "kwargs", "error", "argument"), [case[1:] for case in CASES], ids=IDS
)
def test_bad_input_raises_the_reference_error(adapter, name, args, kwargs, error, argument):
    kwargs = dict(kwargs)
    reduction = kwargs.pop("reduction", "mean")
    with pytest.raises(error) as caught:
        adapter.evaluate(name, args, kwargs, reduction=reduction, dtype="float64", grad=False)
    message = str(caught.value)
    assert message.startswith(f"{argument}: expected "), message
    assert ", got " in message, message


@pytest.mark.parametrize("name", LOSSES)
def test_finite_loss_and_gradient_at_float32_logits_of_1e4(adapter, name):
    args, kwargs = make_case(name, np.random.default_rng(3), LABEL_SHAPES["rank1"])
    if name == "dice_loss":
        extreme = np.round(args[0])  # probabilities at exactly 0 and 1
    else:
        extreme = np.where(args[0] > 0, 1e4, -1e4)
    args = (extreme, *args[1:])
    for reduction in ("mean", "weighted_mean"):
        loss, grad = adapter.evaluate(name, args, kwargs, reduction=reduction, dtype="float32")
        assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad)), (loss, grad)
