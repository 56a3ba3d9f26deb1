"""What is particular to ``companion.torch``.

Values and gradients of every loss against the reference, and the shared bad inputs, are
checked by ``tests/test_conformance.py`` through ``tests/adapter_torch.py``. Here: PyTorch's own
losses compute the same numbers, the class axis is PyTorch's, the analytic gradients are right,
weights come in every form, ``validate=False`` never synchronises with the device, half
precision works, the ``nn.Module`` wrappers, and CUDA where there is one.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from cases import LOSSES, NUM_CLASSES, REDUCTIONS, reductions_of, skip_unsupported_reduction
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from companion import reference, weights
from companion import torch as losses

EXACT = {"rtol": 1e-12, "atol": 1e-14}

cuda = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="torch.cuda.is_available() is False"
)


def generator():
    return torch.Generator().manual_seed(20261123)


def make_inputs(name, shape=(6, NUM_CLASSES, 3), dtype=torch.float64):
    """``(args, kwargs)`` for loss ``name`` in PyTorch's layout (class axis 1), weighted."""
    g = generator()
    k = shape[1]
    logits = (torch.randn(shape, generator=g) * 3).to(dtype)
    labels = torch.randint(0, k, shape[:1] + shape[2:], generator=g)
    targets = (torch.rand(shape, generator=g) < 0.3).to(dtype)
    per_class = torch.rand(k, generator=g, dtype=torch.float64) + 0.5
    per_sample = torch.rand(shape[0], generator=g, dtype=torch.float64) * 2
    if name == "softmax_cross_entropy":
        return (logits, labels), {"class_weight": per_class, "sample_weight": per_sample}
    if name == "sigmoid_cross_entropy":
        kwargs = {"class_weight": per_class, "sample_weight": per_sample, "pos_weight": per_class}
        return (logits, targets), kwargs
    if name == "focal_loss":
        return (logits, labels), {"alpha": per_class, "gamma": 1.5}
    if name == "sigmoid_focal_loss":
        return (logits, targets), {"alpha": 0.3, "gamma": 2.5}
    if name == "huber_loss":
        return (logits, torch.randn(shape, generator=g).to(dtype)), {"delta": 0.7}
    if name == "dice_loss":
        return (torch.sigmoid(logits), targets), {"smooth": 0.5}
    if name == "cost_sensitive_cross_entropy":
        return (logits, labels, torch.rand(k, k, generator=g, dtype=torch.float64) * 5), {}
    if name == "logit_adjusted_cross_entropy":
        prior = torch.rand(k, generator=g, dtype=torch.float64) + 1e-3
        kwargs = {"class_prior": prior, "tau": 1.5, "class_weight": per_class}
        return (logits, labels), {**kwargs, "sample_weight": per_sample}
    if name in ("soft_precision_loss", "soft_f1_loss"):
        return (logits, targets), {"sample_weight": per_sample, "smooth": 0.5}
    raise ValueError(name)


def value_and_grad(loss, first, *rest, **kwargs):
    """The loss and d(sum of loss)/d(first) for a fresh copy of ``first``."""
    first = first.detach().clone().requires_grad_(True)
    value = loss(first, *rest, **kwargs)
    value.sum().backward()
    return value.detach(), first.grad


def assert_same(actual, expected, **tolerance):
    torch.testing.assert_close(actual, expected, **(tolerance or EXACT))


# ----------------------------------------------------------------------------- native equivalents


@pytest.mark.parametrize("shape", [(16, 5), (4, 5, 3, 2)], ids=["rows", "segmentation"])
def test_weighted_mean_equals_cross_entropy_with_weight(shape):
    g = generator()
    logits = torch.randn(shape, generator=g, dtype=torch.float64) * 3
    labels = torch.randint(0, shape[1], shape[:1] + shape[2:], generator=g)
    weight = torch.rand(shape[1], generator=g, dtype=torch.float64) + 0.1
    ours = value_and_grad(
        losses.softmax_cross_entropy,
        logits,
        labels,
        class_weight=weight,
        reduction="weighted_mean",
    )
    native = value_and_grad(F.cross_entropy, logits, labels, weight=weight)
    assert_same(ours, native)


@pytest.mark.parametrize("reduction", ["sum", "none"])
def test_sum_and_none_equal_cross_entropy_with_weight(reduction):
    logits, labels = make_inputs("softmax_cross_entropy")[0]
    weight = torch.tensor([0.5, 2.0, 1.0, 3.0], dtype=torch.float64)
    ours = value_and_grad(
        losses.softmax_cross_entropy, logits, labels, class_weight=weight, reduction=reduction
    )
    native = value_and_grad(F.cross_entropy, logits, labels, weight=weight, reduction=reduction)
    assert_same(ours, native)


def test_weighted_mean_equals_nll_loss_of_log_softmax():
    logits, labels = make_inputs("softmax_cross_entropy", shape=(32, NUM_CLASSES))[0]
    weight = torch.tensor([0.5, 2.0, 1.0, 3.0], dtype=torch.float64)
    ours = value_and_grad(
        losses.softmax_cross_entropy,
        logits,
        labels,
        class_weight=weight,
        reduction="weighted_mean",
    )
    native = value_and_grad(
        lambda x: F.nll_loss(F.log_softmax(x, dim=1), labels, weight=weight), logits
    )
    assert_same(ours, native)


def test_focal_loss_with_gamma_zero_equals_cross_entropy_with_weight():
    logits, labels = make_inputs("focal_loss")[0]
    weight = torch.tensor([0.5, 2.0, 1.0, 3.0], dtype=torch.float64)
    ours = value_and_grad(
        losses.focal_loss, logits, labels, alpha=weight, gamma=0.0, reduction="weighted_mean"
    )
    native = value_and_grad(F.cross_entropy, logits, labels, weight=weight)
    assert_same(ours, native)


@pytest.mark.parametrize("shape", [(16, 5), (4, 5, 3, 2)], ids=["rows", "segmentation"])
def test_pos_weight_equals_bce_with_logits_pos_weight(shape):
    g = generator()
    logits = torch.randn(shape, generator=g, dtype=torch.float64) * 3
    targets = torch.rand(shape, generator=g, dtype=torch.float64)
    pos_weight = torch.rand(shape[1], generator=g, dtype=torch.float64) * 4 + 1
    # Ours applies a [C] weight along axis 1; the native loss broadcasts from the last axis.
    native_pos_weight = pos_weight.reshape((-1,) + (1,) * (len(shape) - 2))
    ours = value_and_grad(losses.sigmoid_cross_entropy, logits, targets, pos_weight=pos_weight)
    native = value_and_grad(nn.BCEWithLogitsLoss(pos_weight=native_pos_weight), logits, targets)
    assert_same(ours, native)


IGNORE_INDICES = [-100, 255, 2]


def inputs_with_ignored_labels(shape, ignore_index):
    """float64 logits, labels with about a third set to ``ignore_index``, class weights."""
    g = generator()
    logits = torch.randn(shape, generator=g, dtype=torch.float64) * 3
    labels = torch.randint(0, shape[1], shape[:1] + shape[2:], generator=g)
    ignored = torch.rand(labels.shape, generator=g) < 0.35
    ignored.view(-1)[0] = True
    labels = labels.masked_fill(ignored, ignore_index)
    weight = torch.rand(shape[1], generator=g, dtype=torch.float64) + 0.1
    return logits, labels, weight


@pytest.mark.parametrize("ignore_index", IGNORE_INDICES)
@pytest.mark.parametrize("shape", [(16, 5), (4, 5, 3, 2)], ids=["rows", "segmentation"])
def test_weighted_mean_with_ignore_index_equals_cross_entropy(shape, ignore_index):
    logits, labels, weight = inputs_with_ignored_labels(shape, ignore_index)
    ours = value_and_grad(
        losses.softmax_cross_entropy,
        logits,
        labels,
        class_weight=weight,
        ignore_index=ignore_index,
        reduction="weighted_mean",
    )
    native = value_and_grad(
        F.cross_entropy, logits, labels, weight=weight, ignore_index=ignore_index
    )
    assert_same(ours, native)


@pytest.mark.parametrize("ignore_index", IGNORE_INDICES)
def test_mean_with_ignore_index_alone_equals_cross_entropy(ignore_index):
    logits, labels, _ = inputs_with_ignored_labels((4, 5, 3, 2), ignore_index)
    for reduction in ("mean", "weighted_mean"):  # without weights they are the same
        ours = value_and_grad(
            losses.softmax_cross_entropy,
            logits,
            labels,
            ignore_index=ignore_index,
            reduction=reduction,
        )
        native = value_and_grad(F.cross_entropy, logits, labels, ignore_index=ignore_index)
        assert_same(ours, native)


@pytest.mark.parametrize("label_smoothing", [0.1, 0.5, 1.0])
@pytest.mark.parametrize("ignore_index", [None, -100, 255])
@pytest.mark.parametrize("shape", [(16, 5), (4, 5, 3, 2)], ids=["rows", "segmentation"])
def test_per_class_smoothing_equals_cross_entropy_with_weight_and_label_smoothing(
    shape, ignore_index, label_smoothing
):
    logits, labels, weight = inputs_with_ignored_labels(
        shape, -100 if ignore_index is None else ignore_index
    )
    if ignore_index is None:
        labels = labels.clamp(min=0) % shape[1]
    native_options = {} if ignore_index is None else {"ignore_index": ignore_index}
    for reduction, native_reduction in [
        ("weighted_mean", "mean"),
        ("sum", "sum"),
        ("none", "none"),
    ]:
        ours = value_and_grad(
            losses.softmax_cross_entropy,
            logits,
            labels,
            class_weight=weight,
            ignore_index=ignore_index,
            label_smoothing=label_smoothing,
            smoothing_weight="per_class",
            reduction=reduction,
        )
        native = value_and_grad(
            F.cross_entropy,
            logits,
            labels,
            weight=weight,
            label_smoothing=label_smoothing,
            reduction=native_reduction,
            **native_options,
        )
        assert_same(ours, native)


def test_label_smoothing_without_class_weight_equals_cross_entropy_in_both_conventions():
    logits, labels, _ = inputs_with_ignored_labels((4, 5, 3, 2), 255)
    native = value_and_grad(F.cross_entropy, logits, labels, ignore_index=255, label_smoothing=0.2)
    for smoothing_weight in ("label", "per_class"):
        ours = value_and_grad(
            losses.softmax_cross_entropy,
            logits,
            labels,
            ignore_index=255,
            label_smoothing=0.2,
            smoothing_weight=smoothing_weight,
        )
        assert_same(ours, native)


def test_label_convention_weighs_the_whole_smoothed_loss_by_the_label_class():
    logits, labels, weight = inputs_with_ignored_labels((16, 5), 255)
    labels = labels % 5
    smoothed = F.cross_entropy(logits, labels, label_smoothing=0.3, reduction="none")
    expected = (smoothed * weight[labels]).sum() / weight[labels].sum()
    ours = losses.softmax_cross_entropy(
        logits, labels, class_weight=weight, label_smoothing=0.3, reduction="weighted_mean"
    )
    assert_same(ours, expected)


@pytest.mark.parametrize("shape", [(16, 5), (4, 5, 3, 2)], ids=["rows", "segmentation"])
def test_bce_with_logits_pos_weight_from_weights_pos_weight_equals_ours(shape):
    g = generator()
    logits = torch.randn(shape, generator=g, dtype=torch.float64) * 3
    targets = (torch.rand(shape, generator=g) < 0.2).double()
    # weights.pos_weight counts over every axis but the last; PyTorch's label axis is 1.
    columns = torch.movedim(targets, 1, -1).numpy()
    pos_weight = torch.from_numpy(weights.pos_weight(columns))
    native_pos_weight = pos_weight.reshape((-1,) + (1,) * (len(shape) - 2))
    ours = value_and_grad(losses.sigmoid_cross_entropy, logits, targets, pos_weight=pos_weight)
    native = value_and_grad(nn.BCEWithLogitsLoss(pos_weight=native_pos_weight), logits, targets)
    assert_same(ours, native)
    # With it, the positives of every column weigh as much in total as its negatives.
    np.testing.assert_allclose(
        pos_weight.numpy() * columns.reshape(-1, shape[1]).sum(0),
        (1 - columns.reshape(-1, shape[1])).sum(0),
        rtol=1e-12,
    )


def test_class_weight_with_mean_equals_bce_with_logits_weight():
    (logits, targets), _ = make_inputs("sigmoid_cross_entropy", shape=(16, NUM_CLASSES))
    weight = torch.tensor([0.5, 2.0, 1.0, 3.0], dtype=torch.float64)
    ours = value_and_grad(
        losses.sigmoid_cross_entropy, logits, targets, class_weight=weight, reduction="mean"
    )
    native = value_and_grad(nn.BCEWithLogitsLoss(weight=weight), logits, targets)
    assert_same(ours, native)


def test_sigmoid_cross_entropy_has_full_relative_precision_for_confident_answers():
    # F.binary_cross_entropy_with_logits computes (1 - t) z - log σ(z), which cancels to 0 for
    # the right answers; softplus's default threshold of 20 drops e^-25 from the wrong ones.
    logits = torch.tensor([-30.0, 30.0, -50.0, 50.0, 25.0, -25.0], dtype=torch.float64)
    targets = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.0, 1.0], dtype=torch.float64)
    loss = losses.sigmoid_cross_entropy(logits, targets, reduction="none")
    expected = np.logaddexp(0.0, np.where(targets.numpy() == 1, -1, 1) * logits.numpy())
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-15)


def torchvision_sigmoid_focal_loss(inputs, targets, alpha, gamma):
    """``torchvision.ops.sigmoid_focal_loss`` (reduction="none"), written out: not installed."""
    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    return loss


@pytest.mark.parametrize(("alpha", "gamma"), [(0.25, 2.0), (0.9, 0.5), (None, 3.0)])
def test_sigmoid_focal_loss_equals_the_torchvision_formula(alpha, gamma):
    (logits, targets), _ = make_inputs("sigmoid_focal_loss")
    ours = value_and_grad(
        losses.sigmoid_focal_loss, logits, targets, alpha=alpha, gamma=gamma, reduction="none"
    )
    formula = value_and_grad(
        torchvision_sigmoid_focal_loss, logits, targets, -1 if alpha is None else alpha, gamma
    )
    assert_same(ours, formula)


@pytest.mark.parametrize("delta", [0.3, 1.0, 2.5])
def test_huber_loss_equals_nn_huber_loss(delta):
    (prediction, target), _ = make_inputs("huber_loss")
    for reduction in ("none", "sum", "mean"):
        ours = value_and_grad(
            losses.huber_loss, prediction, target, delta=delta, reduction=reduction
        )
        native = value_and_grad(nn.HuberLoss(delta=delta, reduction=reduction), prediction, target)
        assert_same(ours, native)


@pytest.mark.parametrize("delta", [0.3, 1.0, 2.5])
def test_huber_loss_is_delta_times_smooth_l1_with_beta_delta(delta):
    (prediction, target), _ = make_inputs("huber_loss")
    ours = value_and_grad(losses.huber_loss, prediction, target, delta=delta)
    smooth_l1 = value_and_grad(lambda x: delta * nn.SmoothL1Loss(beta=delta)(x, target), prediction)
    assert_same(ours, smooth_l1)


# ----------------------------------------------------------------------------- layout and weights


def test_sigmoid_class_and_pos_weight_apply_along_axis_1():
    (logits, targets), kwargs = make_inputs("sigmoid_cross_entropy", shape=(3, NUM_CLASSES, 2, 5))
    ours = losses.sigmoid_cross_entropy(logits, targets, **kwargs, reduction="none")
    to_last = (0, 2, 3, 1)
    expected = reference.sigmoid_cross_entropy(
        logits.permute(to_last), targets.permute(to_last), **kwargs, reduction="none"
    )
    assert_same(ours.permute(to_last), expected)


@pytest.mark.parametrize(
    "class_weight",
    [
        [1.0, 2.0, 1.0, 0.5],
        (1.0, 2.0, 1.0, 0.5),
        np.array([1.0, 2.0, 1.0, 0.5]),
        np.array([1.0, 2.0, 1.0, 0.5], dtype=np.float32),
        torch.tensor([1.0, 2.0, 1.0, 0.5]),
        {1: 2.0, 3: 0.5},
    ],
    ids=["list", "tuple", "numpy", "numpy-float32", "tensor-float32", "dict"],
)
def test_weights_as_sequence_array_tensor_or_dict_agree(class_weight):
    (logits, labels), _ = make_inputs("softmax_cross_entropy")
    expected = losses.softmax_cross_entropy(
        logits, labels, class_weight=torch.tensor([1.0, 2.0, 1.0, 0.5], dtype=torch.float64)
    )
    assert_same(losses.softmax_cross_entropy(logits, labels, class_weight=class_weight), expected)
    focal = losses.focal_loss(logits, labels, alpha=class_weight, gamma=0.0)
    assert_same(focal, expected)


def test_scalar_alpha_as_number_array_or_tensor_agree():
    (logits, labels), _ = make_inputs("focal_loss")
    expected = losses.focal_loss(logits, labels, alpha=0.25, reduction="weighted_mean")
    for alpha in (np.float64(0.25), np.array(0.25), torch.tensor(0.25)):
        assert_same(
            losses.focal_loss(logits, labels, alpha=alpha, reduction="weighted_mean"), expected
        )


def test_zero_weights_give_zero_weighted_mean_without_validation():
    (logits, labels), _ = make_inputs("softmax_cross_entropy")
    loss, grad = value_and_grad(
        losses.softmax_cross_entropy,
        logits,
        labels,
        sample_weight=torch.zeros(6),
        reduction="weighted_mean",
        validate=False,
    )
    assert loss.item() == 0.0
    assert torch.all(grad == 0)


def test_validate_false_skips_the_value_checks():
    (logits, labels), _ = make_inputs("softmax_cross_entropy")
    with pytest.raises(ValueError, match=r"^class_weight: expected"):
        losses.softmax_cross_entropy(logits, labels, class_weight=[1.0, -1.0, 1.0, 1.0])
    losses.softmax_cross_entropy(logits, labels, class_weight=[1.0, -1.0, 1.0, 1.0], validate=False)


def test_logits_that_are_not_a_tensor_raise_type_error_naming_logits():
    (logits, labels), _ = make_inputs("softmax_cross_entropy")
    with pytest.raises(TypeError, match=r"^logits: expected a torch\.Tensor, got ndarray"):
        losses.softmax_cross_entropy(logits.numpy(), labels)


def test_labels_on_another_device_raise_value_error_naming_labels():
    (logits, labels), _ = make_inputs("softmax_cross_entropy")
    with pytest.raises(ValueError, match=r"^labels: expected a tensor on the device of the logits"):
        losses.softmax_cross_entropy(logits.to("meta"), labels, validate=False)


# ----------------------------------------------------------------------------- analytic gradients


@pytest.mark.parametrize(
    "pos_weight", [None, 2.5, [1.0, 3.0, 0.5, 2.0]], ids=["none", "scalar", "vector"]
)
@pytest.mark.parametrize("of_all", [False, True], ids=["logits", "logits-targets-pos_weight"])
def test_sigmoid_cross_entropy_gradients_pass_gradcheck(pos_weight, of_all):
    (logits, _), _ = make_inputs("sigmoid_cross_entropy", shape=(3, NUM_CLASSES, 2))
    targets = torch.rand(logits.shape, generator=generator(), dtype=torch.float64)
    pos_weight = None if pos_weight is None else torch.tensor(pos_weight, dtype=torch.float64)
    inputs = [logits.requires_grad_(), targets.requires_grad_(of_all)]
    if pos_weight is not None:
        inputs.append(pos_weight.requires_grad_(of_all))

    def loss(logits, targets, pos_weight=None):
        return losses.sigmoid_cross_entropy(
            logits, targets, pos_weight=pos_weight, reduction="none"
        )

    assert torch.autograd.gradcheck(loss, inputs)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0, 3.7])
@pytest.mark.parametrize("of_alpha", [False, True], ids=["logits", "logits-alpha"])
def test_focal_loss_gradients_pass_gradcheck(gamma, of_alpha):
    (logits, labels), _ = make_inputs("focal_loss", shape=(5, NUM_CLASSES, 2))
    alpha = torch.tensor([0.5, 2.0, 1.0, 3.0], dtype=torch.float64, requires_grad=of_alpha)

    def loss(logits, alpha):
        return losses.focal_loss(logits, labels, alpha=alpha, gamma=gamma, reduction="none")

    assert torch.autograd.gradcheck(loss, [logits.requires_grad_(), alpha])


@pytest.mark.parametrize("gamma", [0.0, 0.25, 0.5])
def test_focal_loss_gradient_at_saturation_equals_the_reference_for_small_gamma(gamma):
    logits = torch.tensor([[60.0, 0.0, -60.0], [0.0, 800.0, 0.0], [-1e4, 1e4, 0.0]])
    labels = torch.tensor([0, 0, 1])
    for dtype in (torch.float32, torch.float64):
        ours = value_and_grad(losses.focal_loss, logits.to(dtype), labels, gamma=gamma)
        expected = value_and_grad(reference.focal_loss, logits.to(dtype), labels, gamma=gamma)
        assert torch.isfinite(ours[1]).all()
        assert_same(ours, expected, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("pos_weight", [None, [1.0, 3.0, 0.5, 2.0]], ids=["none", "vector"])
def test_sigmoid_cross_entropy_second_derivatives_pass_gradgradcheck(pos_weight):
    (logits, _), _ = make_inputs("sigmoid_cross_entropy", shape=(3, NUM_CLASSES))
    targets = torch.rand(logits.shape, generator=generator(), dtype=torch.float64)
    inputs = [logits.requires_grad_(), targets.requires_grad_()]
    if pos_weight is not None:
        inputs.append(torch.tensor(pos_weight, dtype=torch.float64).requires_grad_())

    def loss(logits, targets, pos_weight=None):
        return losses.sigmoid_cross_entropy(logits, targets, pos_weight=pos_weight)

    assert torch.autograd.gradgradcheck(loss, inputs)


@pytest.mark.parametrize("gamma", [0.0, 2.0, 3.7])
def test_focal_loss_second_derivatives_pass_gradgradcheck(gamma):
    (logits, labels), _ = make_inputs("focal_loss", shape=(5, NUM_CLASSES))
    alpha = torch.tensor([0.5, 2.0, 1.0, 3.0], dtype=torch.float64, requires_grad=True)

    def loss(logits, alpha):
        return losses.focal_loss(logits, labels, alpha=alpha, gamma=gamma, reduction="sum")

    assert torch.autograd.gradgradcheck(loss, [logits.requires_grad_(), alpha])


@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.0, 3.7])
@pytest.mark.parametrize("alpha", [None, 0.3])
def test_sigmoid_focal_loss_fused_gradient_passes_gradcheck(alpha, gamma):
    (logits, targets), _ = make_inputs("sigmoid_focal_loss", shape=(5, NUM_CLASSES))
    soft = torch.rand(logits.shape, generator=generator(), dtype=torch.float64)
    for t in (targets, soft):

        def loss(logits, t=t):
            return losses.sigmoid_focal_loss(logits, t, alpha=alpha, gamma=gamma, reduction="sum")

        assert torch.autograd.gradcheck(loss, [logits.detach().requires_grad_()])


@pytest.mark.parametrize("reduction", ["sum", "mean", "weighted_mean"])
def test_sigmoid_focal_loss_reducing_forward_saves_one_logits_sized_tensor(reduction):
    # Autograd through the elementwise formula saves a dozen logits-sized tensors; the fused
    # forward pass saves only the gradient. Counted structurally, through the hooks every
    # saved tensor passes, so the test pins the memory without timing anything.
    g = generator()
    logits = torch.randn(64, NUM_CLASSES, 8, generator=g)
    targets = (torch.rand(logits.shape, generator=g) < 0.3).float()
    saved = []

    def pack(tensor):
        saved.append(tensor.numel() * tensor.element_size())
        return tensor

    x = logits.clone().requires_grad_(True)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        loss = losses.sigmoid_focal_loss(x, targets, reduction=reduction)
    # The division of the reductions saves a few 0-d tensors besides.
    assert 0 < sum(saved) <= logits.numel() * logits.element_size() + 8 * 8
    loss.backward()
    expected = value_and_grad(
        reference.sigmoid_focal_loss, logits, targets, alpha=0.25, gamma=2.0, reduction=reduction
    )
    assert_same((loss.detach(), x.grad), expected, rtol=1e-5, atol=1e-7)


def test_sigmoid_focal_loss_reducing_has_no_second_derivative_and_says_so():
    (logits, targets), _ = make_inputs("sigmoid_focal_loss")
    x = logits.detach().requires_grad_()
    loss = losses.sigmoid_focal_loss(x, targets)
    with pytest.raises(RuntimeError, match="reduction='none'"):
        torch.autograd.grad(loss, x, create_graph=True)
    # The elementwise losses, summed by the caller, have second derivatives.
    assert torch.autograd.gradgradcheck(
        lambda z: losses.sigmoid_focal_loss(z, targets, reduction="none").sum(), [x]
    )


# ----------------------------------------------------------------------------- no host sync


def on_meta(name):
    args, kwargs = make_inputs(name)
    return tuple(a.to("meta") for a in args), kwargs


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", LOSSES)
def test_validate_false_never_reads_values_on_the_host(name, reduction):
    skip_unsupported_reduction(name, reduction)
    # Reading a meta tensor (.item(), bool(), .tolist(), nonzero) raises: it has no data.
    args, kwargs = on_meta(name)
    first = args[0].requires_grad_(True)
    loss = getattr(losses, name)(first, *args[1:], **kwargs, reduction=reduction, validate=False)
    loss.sum().backward()
    assert loss.device.type == "meta" and first.grad.shape == first.shape


# The operators behind .item(), bool(tensor) and outputs whose shape depends on values: what
# torch.cuda.set_sync_debug_mode reports as a synchronisation on a GPU.
SYNCING_OPS = {
    "_local_scalar_dense",
    "is_nonzero",
    "item",
    "masked_select",
    "nonzero",
    "unique",
    "_unique",
    "_unique2",
    "unique_consecutive",
    "unique_dim",
}


class RecordOps(TorchDispatchMode):
    """Records the name of every ATen operator that runs."""

    def __init__(self):
        super().__init__()
        self.names = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.names.add(func.overloadpacket.__name__)
        return func(*args, **(kwargs or {}))


def ops_run_by(name, **options):
    args, kwargs = make_inputs(name)
    first = args[0].requires_grad_(True)
    with RecordOps() as record:
        getattr(losses, name)(first, *args[1:], **kwargs, **options).sum().backward()
    return record.names


@pytest.mark.parametrize("name", LOSSES)
def test_validate_false_runs_no_syncing_operator_on_the_cpu(name):
    for reduction in reductions_of(name):
        assert not ops_run_by(name, reduction=reduction, validate=False) & SYNCING_OPS


NEW_ARGUMENTS = {
    "softmax_cross_entropy": {
        "ignore_index": 255,
        "label_smoothing": 0.1,
        "smoothing_weight": "per_class",
    },
    "sigmoid_cross_entropy": {"label_smoothing": 0.1},
    "focal_loss": {"ignore_index": -100},
    "dice_loss": {"ignore_index": 255},
    "cost_sensitive_cross_entropy": {"ignore_index": 1},
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", NEW_ARGUMENTS)
def test_validate_false_with_the_new_arguments_never_syncs(name, reduction):
    options = NEW_ARGUMENTS[name]
    args, kwargs = on_meta(name)
    first = args[0].requires_grad_(True)
    loss = getattr(losses, name)(
        first, *args[1:], **kwargs, **options, reduction=reduction, validate=False
    )
    loss.sum().backward()
    assert not ops_run_by(name, **options, reduction=reduction, validate=False) & SYNCING_OPS


def test_the_syncing_operators_are_seen_when_values_are_read():
    ops = ops_run_by("softmax_cross_entropy", reduction="weighted_mean", validate=True)
    assert "_local_scalar_dense" in ops


@pytest.mark.parametrize("name", ["softmax_cross_entropy", "sigmoid_cross_entropy", "dice_loss"])
def test_validate_true_reads_values_so_meta_tensors_catch_a_host_sync(name):
    args, kwargs = on_meta(name)
    with pytest.raises((RuntimeError, NotImplementedError), match="meta"):
        getattr(losses, name)(*args, **kwargs)


# ----------------------------------------------------------------------------- dtypes


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("name", LOSSES)
def test_half_precision_gives_a_finite_result_of_the_input_dtype(name, dtype):
    args, kwargs = make_inputs(name, dtype=torch.float32)
    half = tuple(a.to(dtype) if a.is_floating_point() else a for a in args)
    loss, grad = value_and_grad(getattr(losses, name), *half, **kwargs)
    expected = getattr(losses, name)(
        *(a.float() if a.is_floating_point() else a for a in half), **kwargs
    )
    assert loss.dtype == dtype and grad.dtype == dtype
    assert torch.isfinite(loss) and torch.isfinite(grad).all()
    torch.testing.assert_close(loss.float(), expected, rtol=1e-2, atol=1e-3)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_mean_over_a_4x128x128_mask_is_finite_and_focal_is_not_zero(dtype):
    g = generator()
    logits = (torch.randn((4, 3, 128, 128), generator=g) * 2).to(dtype)
    labels = torch.randint(0, 3, (4, 128, 128), generator=g)
    for name in ("softmax_cross_entropy", "focal_loss", "cost_sensitive_cross_entropy"):
        args = (logits, labels) + ((torch.ones(3, 3),) if name.startswith("cost") else ())
        loss = getattr(losses, name)(*args)
        expected = getattr(losses, name)(logits.double(), *args[1:])
        assert loss.dtype == dtype and torch.isfinite(loss) and loss != 0
        torch.testing.assert_close(loss.double(), expected, rtol=1e-2, atol=0)


def test_float16_focal_gradient_at_logits_of_6e4_is_finite():
    logits = torch.tensor([[6e4, -6e4, 0.0], [-6e4, 6e4, 0.0]], dtype=torch.float16)
    labels = torch.tensor([0, 0])
    for gamma in (0.5, 2.0):
        _, grad = value_and_grad(losses.focal_loss, logits, labels, gamma=gamma)
        assert grad.dtype == torch.float16 and torch.isfinite(grad).all()


def test_half_precision_logits_of_1e4_give_a_finite_loss_and_gradient():
    logits = torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]], dtype=torch.float16)
    labels = torch.tensor([1, 1])
    for gamma in (0.5, 2.0):
        loss, grad = value_and_grad(losses.focal_loss, logits, labels, gamma=gamma)
        assert torch.isfinite(loss) and torch.isfinite(grad).all()


# ----------------------------------------------------------------------------- modules


MODULES = {
    "softmax_cross_entropy": lambda kw: losses.SoftmaxCrossEntropy(
        class_weight=kw["class_weight"], reduction="weighted_mean"
    ),
    "sigmoid_cross_entropy": lambda kw: losses.SigmoidCrossEntropy(
        class_weight=kw["class_weight"], pos_weight=kw["pos_weight"], reduction="sum"
    ),
    "focal_loss": lambda kw: losses.FocalLoss(alpha=kw["alpha"], gamma=kw["gamma"]),
    "sigmoid_focal_loss": lambda kw: losses.SigmoidFocalLoss(alpha=kw["alpha"], gamma=kw["gamma"]),
    "huber_loss": lambda kw: losses.HuberLoss(delta=kw["delta"], reduction="none"),
    "dice_loss": lambda kw: losses.DiceLoss(smooth=kw["smooth"]),
    "cost_sensitive_cross_entropy": lambda kw: losses.CostSensitiveCrossEntropy(
        kw["cost_matrix"], reduction="weighted_mean"
    ),
    "logit_adjusted_cross_entropy": lambda kw: losses.LogitAdjustedCrossEntropy(
        kw["class_prior"], tau=kw["tau"], class_weight=kw["class_weight"], reduction="sum"
    ),
    "soft_precision_loss": lambda kw: losses.SoftPrecisionLoss(smooth=kw["smooth"]),
    "soft_f1_loss": lambda kw: losses.SoftF1Loss(smooth=kw["smooth"], reduction="none"),
}
MODULE_REDUCTION = {
    "soft_f1_loss": "none",
    "softmax_cross_entropy": "weighted_mean",
    "sigmoid_cross_entropy": "sum",
    "huber_loss": "none",
    "cost_sensitive_cross_entropy": "weighted_mean",
    "logit_adjusted_cross_entropy": "sum",
}


def module_case(name):
    args, kwargs = make_inputs(name)
    if name == "cost_sensitive_cross_entropy":
        kwargs, args = {"cost_matrix": args[2]}, args[:2]
    return MODULES[name](kwargs), args, kwargs


@pytest.mark.parametrize("name", LOSSES)
def test_module_equals_its_function_value_and_gradient(name):
    module, args, kwargs = module_case(name)
    function_kwargs = {k: v for k, v in kwargs.items() if k != "sample_weight"}
    reduction = MODULE_REDUCTION.get(name, "mean")
    function_args = args
    if name == "cost_sensitive_cross_entropy":
        function_args, function_kwargs = (*args, kwargs["cost_matrix"]), {}
    expected = value_and_grad(
        getattr(losses, name), *function_args, **function_kwargs, reduction=reduction
    )
    assert_same(value_and_grad(module, *args), expected)


MODULES_WITH_NEW_ARGUMENTS = {
    "softmax_cross_entropy": lambda: losses.SoftmaxCrossEntropy(
        class_weight=[0.5, 2.0, 1.0, 3.0],
        ignore_index=255,
        label_smoothing=0.2,
        smoothing_weight="per_class",
        reduction="weighted_mean",
    ),
    "sigmoid_cross_entropy": lambda: losses.SigmoidCrossEntropy(label_smoothing=0.2),
    "focal_loss": lambda: losses.FocalLoss(alpha=[0.5, 2.0, 1.0, 3.0], ignore_index=255),
    "dice_loss": lambda: losses.DiceLoss(ignore_index=255),
    "cost_sensitive_cross_entropy": lambda: losses.CostSensitiveCrossEntropy(
        torch.ones(4, 4), ignore_index=255, reduction="sum"
    ),
}


@pytest.mark.parametrize("name", MODULES_WITH_NEW_ARGUMENTS)
def test_module_takes_the_new_arguments(name):
    module = MODULES_WITH_NEW_ARGUMENTS[name]()
    inputs = list(make_inputs(name)[0][:2])
    if module.__dict__.get("ignore_index") is not None:
        inputs[1] = inputs[1].clone()
        inputs[1].view(-1)[::3] = 255  # labels, or dice targets, marked as ignored
    options = {k: getattr(module, k) for k in module._options if k not in ("gamma", "smooth")}
    weights_ = {
        k: getattr(module, k)
        for k in ("class_weight", "alpha", "cost_matrix")
        if isinstance(getattr(module, k, None), torch.Tensor)
    }
    function_args = list(inputs)
    if "cost_matrix" in weights_:
        function_args.append(weights_.pop("cost_matrix"))
    expected = value_and_grad(getattr(losses, name), *function_args, **options, **weights_)
    assert_same(value_and_grad(module, *inputs), expected)


@pytest.mark.parametrize(
    ("make", "error", "argument"),
    [
        (lambda: losses.SoftmaxCrossEntropy(ignore_index=1.5), TypeError, "ignore_index"),
        (lambda: losses.SoftmaxCrossEntropy(label_smoothing=2.0), ValueError, "label_smoothing"),
        (
            lambda: losses.SoftmaxCrossEntropy(smoothing_weight="class"),
            ValueError,
            "smoothing_weight",
        ),
        (lambda: losses.SigmoidCrossEntropy(label_smoothing=-1), ValueError, "label_smoothing"),
        (lambda: losses.FocalLoss(ignore_index="255"), TypeError, "ignore_index"),
        (lambda: losses.DiceLoss(ignore_index=True), TypeError, "ignore_index"),
        (lambda: losses.FocalLoss(reduction="avg"), ValueError, "reduction"),
    ],
)
def test_module_checks_its_arguments_when_constructed(make, error, argument):
    with pytest.raises(error, match=f"^{argument}: expected "):
        make()


def test_module_passes_sample_weight_through_forward():
    module, (logits, labels), kwargs = module_case("softmax_cross_entropy")
    expected = losses.softmax_cross_entropy(logits, labels, **kwargs, reduction="weighted_mean")
    assert_same(module(logits, labels, sample_weight=kwargs["sample_weight"]), expected)


@pytest.mark.parametrize(
    ("name", "buffers"),
    [
        ("softmax_cross_entropy", {"class_weight"}),
        ("sigmoid_cross_entropy", {"class_weight", "pos_weight"}),
        ("focal_loss", {"alpha"}),
        ("cost_sensitive_cross_entropy", {"cost_matrix"}),
        ("logit_adjusted_cross_entropy", {"class_prior", "class_weight"}),
    ],
)
def test_module_weights_are_buffers_that_move_with_to(name, buffers):
    module = MODULES[name](module_case(name)[2]).to(torch.float32)
    assert set(module.state_dict()) == buffers
    assert all(b.dtype == torch.float32 for b in module.buffers())
    module = module.to(torch.float64)
    assert all(b.dtype == torch.float64 for b in module.buffers())
    on_meta_device = module.to("meta")
    assert all(b.device.type == "meta" for b in on_meta_device.buffers())


def test_module_keeps_a_dict_class_weight_and_a_scalar_alpha_as_attributes():
    module = losses.SoftmaxCrossEntropy(class_weight={1: 3.0})
    assert dict(module.named_buffers()) == {} and module.class_weight == {1: 3.0}
    (logits, labels), _ = make_inputs("softmax_cross_entropy")
    expected = losses.softmax_cross_entropy(logits, labels, class_weight=[1.0, 3.0, 1.0, 1.0])
    assert_same(module(logits, labels), expected)
    assert dict(losses.FocalLoss(alpha=0.25).named_buffers()) == {}


def test_module_on_meta_with_validate_false_never_syncs():
    module = losses.FocalLoss(alpha=[1.0, 2.0, 1.0, 0.5], validate=False).to("meta")
    (logits, labels), _ = on_meta("focal_loss")
    module(logits.requires_grad_(), labels).backward()


def test_module_repr_shows_its_options():
    assert repr(losses.FocalLoss(gamma=1.5)) == (
        "FocalLoss(gamma=1.5, ignore_index=None, reduction='mean', validate=True)"
    )


# ----------------------------------------------------------------------------- CUDA


@cuda
@pytest.mark.gpu
@pytest.mark.parametrize("name", LOSSES)
def test_cuda_gives_the_cpu_values_and_gradients(name):
    args, kwargs = make_inputs(name)
    expected = value_and_grad(getattr(losses, name), *args, **kwargs)
    on_gpu = value_and_grad(getattr(losses, name), *(a.cuda() for a in args), **kwargs)
    assert_same(tuple(t.cpu() for t in on_gpu), expected, rtol=1e-10, atol=1e-12)


@cuda
@pytest.mark.gpu
@pytest.mark.parametrize("name", LOSSES)
def test_cuda_with_validate_false_never_synchronises(name):
    args, kwargs = make_inputs(name)
    args = tuple(a.cuda() for a in args)
    first = args[0].detach().clone().requires_grad_(True)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for reduction in reductions_of(name):
            loss = getattr(losses, name)(
                first, *args[1:], **kwargs, reduction=reduction, validate=False
            )
            loss.sum().backward()
    finally:
        torch.cuda.set_sync_debug_mode("default")


@cuda
@pytest.mark.gpu
def test_cuda_module_moves_its_buffers_with_to():
    module, (logits, labels), _ = module_case("focal_loss")
    expected = module(logits, labels)
    module = module.to("cuda")
    assert module.alpha.is_cuda
    assert_same(module(logits.cuda(), labels.cuda()).cpu(), expected, rtol=1e-10, atol=1e-12)
