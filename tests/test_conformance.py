"""Every framework module computes the reference's loss and gradient, and rejects the same mistakes.

Each framework has a test adapter, ``tests/adapter_<framework>.py``, that takes inputs in the
reference layout (class axis last, NumPy arrays), converts them to the framework's tensors and
class-axis convention, calls ``companion.<framework>.<loss>`` and returns the loss and the
gradient with respect to the first argument as float64 NumPy arrays in the reference layout:

    evaluate(name, args, kwargs, *, reduction, dtype, grad=True) -> (loss, grad or None)

The expected loss is ``companion.reference`` in float64; the expected gradient is PyTorch's
float64 autograd through the reference.

The contract's newer arguments reach the adapter as keyword arguments in ``kwargs``
(``ignore_index``, ``label_smoothing``, ``smoothing_weight``, ``validate``), passed on as they
are: an implementation that does not take one fails with a ``TypeError``. Half precision reaches
it as ``dtype="float16"`` or ``dtype="bfloat16"``; an adapter whose framework cannot hold a dtype
says so in a module attribute ``HALF_DTYPES`` (the dtypes it supports), and those cases skip with
that reason.
"""

import importlib
import os

import numpy as np
import pytest
import torch
from bad_inputs import CASES, IDS
from cases import (
    HALF_DTYPES,
    HALF_SHAPE,
    LABEL_SHAPES,
    LOSSES,
    REDUCTIONS,
    VARIANT_CASES,
    make_case,
    make_variant_case,
    reductions_of,
    skip_unsupported_reduction,
)

from companion import reference

# COMPANION_FRAMEWORKS (comma-separated) narrows the list: tests/test_keras_backends.py runs the
# Keras adapter alone on the JAX and PyTorch backends of Keras that way.
FRAMEWORKS = tuple(
    os.environ.get("COMPANION_FRAMEWORKS", "torch,tensorflow,keras,chainer,theano").split(",")
)
TOLERANCE = {"float64": {"rtol": 1e-10, "atol": 1e-12}, "float32": {"rtol": 1e-4, "atol": 1e-6}}
# Half precision is computed in float32 and rounded once to the input's dtype: the tolerance is
# a few units of that rounding (float16 keeps 11 significant bits, bfloat16 8), plus float16's
# subnormal spacing (6e-8) for tiny gradients. The float32 computation itself is good to about
# 6e-8 absolute where a gradient is a difference of numbers near 1 (sigmoid(x) - t with
# sigmoid(x) close to 1), so bfloat16 gets that absolute tolerance too.
HALF_TOLERANCE = {
    "float16": {"rtol": 4e-3, "atol": 1e-7},
    "bfloat16": {"rtol": 2e-2, "atol": 1e-7},
}


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
    skip_unsupported_reduction(name, reduction)
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
    for reduction in reductions_of(name, ("mean", "weighted_mean")):
        loss, grad = adapter.evaluate(name, args, kwargs, reduction=reduction, dtype="float32")
        assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad)), (loss, grad)


def _round(array, dtype):
    """A float64 array rounded to ``dtype`` (bfloat16 included) and back, as NumPy float64."""
    rounded = torch.as_tensor(np.asarray(array, dtype=np.float64)).to(getattr(torch, dtype))
    return rounded.double().numpy()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", LABEL_SHAPES.values(), ids=LABEL_SHAPES.keys())
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    ("variant", "name"), VARIANT_CASES, ids=[f"{v}-{n}" for v, n in VARIANT_CASES]
)
def test_new_arguments_equal_the_reference(adapter, variant, name, reduction, shape, dtype):
    args, kwargs = make_variant_case(variant, name, np.random.default_rng(11), shape)
    args = tuple(_float(a, dtype) for a in args)
    kwargs = {k: _float(v, dtype) for k, v in kwargs.items()}
    expected_loss, expected_grad = reference_loss_and_grad(name, args, kwargs, reduction)
    loss, grad = adapter.evaluate(name, args, kwargs, reduction=reduction, dtype=dtype)
    assert loss.shape == expected_loss.shape
    np.testing.assert_allclose(loss, expected_loss, **TOLERANCE[dtype])
    np.testing.assert_allclose(grad, expected_grad, **TOLERANCE[dtype])


def _skip_unsupported_half(adapter, dtype):
    supported = getattr(adapter, "HALF_DTYPES", HALF_DTYPES)
    if dtype not in supported:
        pytest.skip(f"{adapter.__name__}.HALF_DTYPES = {supported}: no {dtype} in this framework")


@pytest.mark.parametrize("dtype", HALF_DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", LOSSES)
def test_half_precision_equals_the_reference_over_more_than_65504_elements(
    adapter, name, reduction, dtype
):
    skip_unsupported_reduction(name, reduction)
    _skip_unsupported_half(adapter, dtype)
    args, kwargs = make_case(name, np.random.default_rng(5), HALF_SHAPE)
    args = tuple(
        _round(a, dtype) if isinstance(a, np.ndarray) and a.dtype == np.float64 else a for a in args
    )
    expected_loss, expected_grad = reference_loss_and_grad(name, args, kwargs, reduction)
    loss, grad = adapter.evaluate(name, args, kwargs, reduction=reduction, dtype=dtype)
    assert loss.shape == expected_loss.shape
    # The result comes back in the input's dtype: a "sum" beyond its range is inf on both sides.
    np.testing.assert_allclose(loss, _round(expected_loss, dtype), **HALF_TOLERANCE[dtype])
    if reduction in ("mean", "weighted_mean"):
        assert np.isfinite(loss) and loss != 0, loss
    np.testing.assert_allclose(grad, expected_grad, **HALF_TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", HALF_DTYPES)
@pytest.mark.parametrize("name", LOSSES)
def test_half_precision_gradient_is_finite_at_logits_of_6e4(adapter, name, dtype):
    """60,000 is representable in float16 (up to 65,504); the float32 gradient there is too."""
    _skip_unsupported_half(adapter, dtype)
    args, kwargs = make_case(name, np.random.default_rng(3), LABEL_SHAPES["rank3"])
    if name == "dice_loss":
        extreme = np.round(args[0])
    else:
        extreme = np.where(args[0] > 0, 6e4, -6e4)
    args = (extreme, *args[1:])
    for reduction in reductions_of(name, ("mean", "weighted_mean")):
        loss, grad = adapter.evaluate(name, args, kwargs, reduction=reduction, dtype=dtype)
        # The loss itself may exceed float16's range (a cross-entropy of 1.2e5 is inf), never NaN.
        assert not np.any(np.isnan(loss)), loss
        assert np.all(np.isfinite(grad)), grad
