r"""The losses of :mod:`companion.reference` in PyTorch's idiom.

Every function takes tensors on any device and of any floating dtype and computes there; each
is checked against the reference in float64 and float32, values and gradients. They follow
PyTorch's class-axis convention, the one of :func:`torch.nn.functional.cross_entropy`:

* ``logits`` of the softmax losses are ``[batch, num_classes, d1, ...]`` (or ``[num_classes]``
  for one unbatched element) and integer ``labels`` are ``[batch, d1, ...]``.
* the sigmoid losses take ``logits`` and ``targets`` of one shape whose axis 1 holds the labels
  (axis 0 for a 1-D input), so ``class_weight`` and ``pos_weight`` of shape ``[num_labels]``
  apply along axis 1: for a plain ``[batch, num_labels]`` input that is the last axis, as in
  :class:`torch.nn.BCEWithLogitsLoss`.
* ``class_weight`` is looked up by each element's label; ``sample_weight`` is broadcast to the
  labels' (or targets') shape after trailing axes of size one are added, so ``[batch]`` weights
  apply per sample. Weights may be tensors, NumPy arrays, sequences or, for ``class_weight`` and
  a per-class ``alpha``, ``{class: weight}`` dicts (missing classes weigh 1); they are moved to
  the logits' dtype and device.
* ``reduction`` is ``"none"`` (:math:`w_i\ell_i`), ``"sum"``, ``"mean"`` (divides by the number
  of elements) or ``"weighted_mean"`` (divides by :math:`\sum_i w_i`, as
  ``CrossEntropyLoss(weight=)`` does).
* ``ignore_index`` (the softmax losses and :func:`dice_loss`): an element whose label (for Dice,
  whose target) equals it counts in no numerator and no denominator: its loss and weight are 0,
  ``"mean"`` divides by the number of elements **not** ignored and ``"weighted_mean"`` by the
  sum of **their** weights, as ``CrossEntropyLoss(ignore_index=)`` does. It may lie outside
  ``[0, num_classes)`` (``-100``, ``255``). For Dice the ignored elements leave the sums of
  their sample and ``"mean"`` still counts samples. Labels that are all ignored are a
  ``ValueError`` naming ``labels`` for ``"mean"`` and ``"weighted_mean"``, or give 0 with
  ``validate=False``.
* ``label_smoothing`` :math:`\varepsilon` (the cross-entropies): softmax targets
  :math:`(1 - \varepsilon)\,\text{onehot}(y) + \varepsilon/K`, sigmoid targets
  :math:`t(1 - \varepsilon) + \varepsilon/2`; for the softmax, ``smoothing_weight="per_class"``
  gives ``F.cross_entropy(weight=, label_smoothing=)``'s number exactly (see
  :func:`softmax_cross_entropy`).

Shape, dtype and hyperparameter checks always run (a class axis that exists and holds at
least one class included). The checks of values (label ranges, weight
signs and finiteness, targets in ``[0, 1]``, a positive sum of weights for ``"weighted_mean"``)
copy a few numbers to the host; ``validate=False`` skips them, and then no function
synchronises with the device, so the losses can be queued on a GPU (or traced on the ``meta``
device) like any native loss. With ``validate=False`` and all weights zero, ``"weighted_mean"``
returns 0.

Every loss (and every module) takes ``process_group=None``. Under data parallelism each rank
sees a shard of the batch, and the mean of the per-rank means is not the mean over the global
batch when the shards hold different sums of weights or different numbers of elements that are
not ignored. Given a process group (a ``torch.distributed.ProcessGroup``, such as
``torch.distributed.group.WORLD`` once ``init_process_group`` has run: before that it is
``None``), the denominators :math:`D_r` of ``"mean"`` (the number of elements, with
``ignore_index`` of those kept) and ``"weighted_mean"`` (:math:`\sum_i w_i` over the rank's
elements, ignored ones excluded) are summed over the group by one ``torch.distributed.all_reduce``
of a detached tensor (no gradient flows through it), and rank :math:`r` returns

.. math:: L_r = W\,\frac{\sum_{i \in r} w_i \ell_i}{\sum_{r'} D_{r'}}

with :math:`W` the group's size. The factor :math:`W` makes both of these hold: the gradient
that ``DistributedDataParallel`` averages over the ranks (it divides their sum by :math:`W`) is
the gradient of the loss over the global batch, and the mean of :math:`L_r` over the ranks is
that loss. A single :math:`L_r` is not a loss of its own shard: log the mean over the ranks.
``"sum"`` and ``"none"`` ignore the group. Every rank of the group must call the loss, as for
any collective. The value checks (``validate``) apply to the global sums: a rank whose labels are
all ignored, or whose weights are all zero, is fine while another rank has some. With
``validate=False`` the all-reduce is the only synchronisation.

float16 and bfloat16 inputs are computed in float32 and the result is returned in the input's
dtype. Logits are never exponentiated unshifted: finite inputs (float32 logits of
:math:`\pm 10^4` included) give a finite loss and a finite gradient.

The :class:`torch.nn.Module` classes at the end (:class:`SoftmaxCrossEntropy`,
:class:`FocalLoss`, ...) only store their arguments, with weight tensors registered as buffers
so that ``.to(device)`` moves them, and call these functions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
import torch.nn.functional as F

from companion._checks import (
    broadcast_shape,
    check_batch_reduction,
    check_class_axis,
    check_ignore_index,
    check_label_range,
    check_label_smoothing,
    check_not_empty,
    check_number,
    check_positive_sum,
    check_prior_values,
    check_reduction,
    check_smooth,
    check_smoothing_weight,
    check_some_kept,
    check_unit_interval,
    check_weight_values,
    class_table,
    fail,
)

__all__ = [
    "CostSensitiveCrossEntropy",
    "DiceLoss",
    "FocalLoss",
    "HuberLoss",
    "LogitAdjustedCrossEntropy",
    "SigmoidCrossEntropy",
    "SigmoidFocalLoss",
    "SoftF1Loss",
    "SoftPrecisionLoss",
    "SoftmaxCrossEntropy",
    "cost_sensitive_cross_entropy",
    "dice_loss",
    "focal_loss",
    "huber_loss",
    "logit_adjusted_cross_entropy",
    "sigmoid_cross_entropy",
    "sigmoid_focal_loss",
    "soft_f1_loss",
    "soft_precision_loss",
    "softmax_cross_entropy",
]

# softplus(x) = log1p(exp(x)) is replaced by x above this threshold. PyTorch's default of 20 is
# off by up to 1e-10 relatively, which float64 notices; at 40 the error is below 1e-17, and
# exp(40) is still finite in float32 (half precision is computed in float32).
_SOFTPLUS_THRESHOLD = 40.0
_WEIGHTS = "class_weight * sample_weight"


# ----------------------------------------------------------------------------- input handling


def _check_tensor(name, x):
    if not isinstance(x, torch.Tensor):
        fail(TypeError, name, "a torch.Tensor", type(x).__name__)


def _floating(name, x):
    """``x`` checked to be a floating tensor, in the dtype to compute in (half as float32)."""
    _check_tensor(name, x)
    if not x.is_floating_point():
        fail(TypeError, name, "a real floating-point tensor", f"dtype {x.dtype}")
    if x.dtype in (torch.float16, torch.bfloat16):
        return x.float()
    return x


def _same_device(name, x, like):
    if x.device != like.device:
        fail(ValueError, name, f"a tensor on the device of the logits ({like.device})", x.device)


def _class_axis(logits):
    """PyTorch's class axis: 1, or 0 for an unbatched ``[num_classes]`` input.

    A shape check, so it runs with ``validate=False`` too: the axis must exist and hold at
    least one class (PyTorch's own kernels would raise an ``IndexError`` or divide by zero).
    """
    if logits.ndim < 1:
        fail(ValueError, "logits", "at least one dimension (the class axis)", "a 0-d tensor")
    axis = 0 if logits.ndim == 1 else 1
    check_class_axis(logits.shape[axis])
    return axis


def _extremes(x):
    """Minimum, maximum and finiteness of ``x`` as Python values, in one pass and one copy.

    ``aminmax`` propagates NaN and shows an infinity, so the extremes tell finiteness too.
    """
    minimum, maximum = torch.stack(torch.aminmax(x)).tolist()
    return minimum, maximum, math.isfinite(minimum) and math.isfinite(maximum)


def _labels(labels, logits, validate, ignore_index=None, reduction="mean"):
    """Integer class indices of the logits' shape without the class axis, as int64.

    Returns the labels, with the elements equal to ``ignore_index`` replaced by class 0 for
    table lookups, the labels as given (for :func:`torch.nn.functional.cross_entropy`, which
    skips ``ignore_index`` itself) and the mask of the elements that count (``None`` without
    ``ignore_index``). The range check skips the ignored elements; with ``validate``, labels
    that are all ignored are an error for ``"mean"`` and ``"weighted_mean"``.
    """
    _check_tensor("labels", labels)
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        fail(
            TypeError,
            "labels",
            "an integer tensor of class indices (not one-hot)",
            f"dtype {labels.dtype}",
        )
    axis = _class_axis(logits)
    expected = tuple(logits.shape[:axis]) + tuple(logits.shape[axis + 1 :])
    if tuple(labels.shape) != expected:
        fail(
            ValueError,
            "labels",
            f"shape {expected} (the logits' shape without the class axis {axis})",
            f"shape {tuple(labels.shape)}",
        )
    check_not_empty("labels", expected)
    _same_device("labels", labels, logits)
    labels = labels.long()
    if ignore_index is None:
        if validate:
            minimum, maximum = torch.stack(torch.aminmax(labels)).tolist()
            check_label_range(minimum, maximum, logits.shape[axis])
        return labels, labels, None
    keep = labels != ignore_index
    if validate:
        kept = labels[keep]
        check_some_kept(kept.numel(), labels.numel(), ignore_index, reduction)
        if kept.numel():
            minimum, maximum = torch.stack(torch.aminmax(kept)).tolist()
            check_label_range(minimum, maximum, logits.shape[axis])
    return labels.masked_fill(~keep, 0), labels, keep


def _lookup(table, labels):
    """``table[labels]`` (``index_select`` is the fastest gather of a small table)."""
    return table.index_select(0, labels.reshape(-1)).reshape(labels.shape)


def _targets(targets, logits, validate, name="targets", ignore_index=None):
    """Targets of the logits' shape, in the logits' dtype, in ``[0, 1]``.

    With ``ignore_index``, the elements equal to it are exempt from the range check and come
    back as 0, together with the mask of the elements that count.
    """
    _check_tensor(name, targets)
    if tuple(targets.shape) != tuple(logits.shape):
        fail(ValueError, name, f"shape {tuple(logits.shape)}", f"shape {tuple(targets.shape)}")
    check_not_empty(name, tuple(targets.shape))
    _same_device(name, targets, logits)
    targets = targets.to(logits.dtype)
    if ignore_index is None:
        if validate:
            check_unit_interval(name, *_extremes(targets))
        return targets
    keep = targets != ignore_index
    if validate:
        kept = targets[keep]
        if kept.numel():
            check_unit_interval(name, *_extremes(kept))
    return targets.masked_fill(~keep, 0), keep


def _as_tensor(name, value, like):
    """``value`` (tensor, array, sequence or number) in ``like``'s dtype and on its device.

    A host value bound for a GPU is pinned and copied asynchronously: a plain copy from pageable
    memory would synchronise the host with the device.
    """
    if not isinstance(value, torch.Tensor):
        try:
            value = torch.as_tensor(value, dtype=like.dtype)
        except (TypeError, ValueError, RuntimeError) as e:
            fail(TypeError, name, "a tensor, an array, a sequence of numbers or a number", e)
    if value.device.type == "cpu" and like.device.type == "cuda":
        return value.pin_memory().to(device=like.device, dtype=like.dtype, non_blocking=True)
    return value.to(device=like.device, dtype=like.dtype)


def _class_table(class_weight, n_classes, like, validate, name="class_weight"):
    """One weight per class; a ``{class: weight}`` dict weighs missing classes 1."""
    class_weight = class_table(name, class_weight, n_classes)
    w = _as_tensor(name, class_weight, like)
    if tuple(w.shape) != (n_classes,):
        got = "a scalar" if w.ndim == 0 else f"shape {tuple(w.shape)}"
        fail(ValueError, name, f"one weight per class, shape ({n_classes},)", got)
    if validate:
        check_weight_values(name, *_extremes(w))
    return w


def _sample_weight(sample_weight, shape, like, validate, what="labels"):
    """``sample_weight`` padded with trailing axes of size one, to broadcast to ``shape``."""
    w = _as_tensor("sample_weight", sample_weight, like)
    padded = broadcast_shape("sample_weight", tuple(w.shape), shape, f"the {what}' shape")
    if validate:
        check_weight_values("sample_weight", *_extremes(w))
    return w.reshape(padded)


def _along_axis_1(table, ndim):
    """A ``[C]`` table shaped to broadcast along axis 1 of an ``ndim``-dimensional tensor."""
    return table.reshape((-1,) + (1,) * (ndim - 2)) if ndim > 1 else table


def _multiply(a, b):
    if a is None:
        return b
    return a if b is None else a * b


def _check_process_group(process_group):
    """``process_group`` checked to be ``None`` or a group of an initialised ``torch.distributed``.

    A host-side check of the object only: it reads no tensor, so ``validate=False`` keeps it.
    """
    if process_group is None:
        return None
    import torch.distributed as dist

    if not dist.is_available() or not dist.is_initialized():
        fail(
            ValueError,
            "process_group",
            "None, or a group once torch.distributed.init_process_group has run",
            f"a {type(process_group).__name__} while torch.distributed is not initialised",
        )
    if not isinstance(process_group, dist.ProcessGroup):
        fail(
            TypeError,
            "process_group",
            "None or a torch.distributed.ProcessGroup (such as torch.distributed.group.WORLD)",
            type(process_group).__name__,
        )
    return process_group


def _local_reduction(reduction, process_group):
    """The reduction whose per-rank check of "all ignored" applies: none under a group.

    Under a group the check is made on the global count (see :func:`_reduce_over_group`).
    """
    return reduction if process_group is None else "sum"


def _reduce(
    loss,
    weight,
    reduction,
    validate,
    name=_WEIGHTS,
    *,
    summed_over=None,
    keep=None,
    process_group=None,
    ignore_index=None,
):
    """Reduce the weighted elementwise ``loss``; ``weight`` only gives the weighted mean's divisor.

    ``weight`` is ``None``, a Python number or a tensor that broadcasts to the elements' shape.
    With ``summed_over`` (the elements' shape), ``loss`` is already their sum. ``keep``, the mask
    of the elements not ignored, makes ``"mean"`` divide by their number; the caller has already
    zeroed the ignored elements' losses and tensor weights. With a ``process_group`` the two
    means divide by the denominator summed over the group, times the group's size (see the
    module's docstring); ``ignore_index`` then only names the value in an error message.
    """
    shape = loss.shape if summed_over is None else summed_over
    count = math.prod(shape)
    if reduction == "none":
        return loss
    total = loss.sum() if summed_over is None else loss
    if reduction == "sum":
        return total
    if process_group is not None:
        return _reduce_over_group(
            total, weight, reduction, validate, name, count, keep, process_group, ignore_index
        )
    if keep is not None and (reduction == "mean" or not isinstance(weight, torch.Tensor)):
        kept = keep.sum(dtype=total.dtype)
        if isinstance(weight, float) and reduction == "weighted_mean":
            kept = kept * weight
            if validate:
                check_positive_sum(name, float(kept))
        # All ignored (with validate=False only): 0 rather than 0/0, without a host sync.
        return total / torch.where(kept > 0, kept, torch.ones_like(kept))
    if reduction == "mean" or weight is None:
        return total / count
    if isinstance(weight, float):
        denominator = weight * count
        if validate:
            check_positive_sum(name, denominator)
        return total / denominator if denominator > 0 else total
    denominator = weight.sum()
    if weight.numel() < count:  # broadcasting repeats every weight count / numel times
        denominator = denominator * (count // weight.numel())
    if validate:
        check_positive_sum(name, float(denominator))
    # With validate=False an all-zero weight gives 0 rather than 0/0, without a host sync.
    return total / torch.where(denominator > 0, denominator, torch.ones_like(denominator))


def _reduce_over_group(total, weight, reduction, validate, name, count, keep, group, ignore_index):
    """``W * total / D``, ``D`` the means' denominator summed over ``group`` of size ``W``.

    One ``all_reduce`` sums, in float64 (exact for counts below 2**53), the rank's denominator,
    its number of elements not ignored and its number of elements; the last two are only read
    by the checks of ``validate``. Nothing but the all-reduce synchronises.
    """
    import torch.distributed as dist

    device = total.device
    elements = torch.full((), count, dtype=torch.float64, device=device)
    kept = elements if keep is None else keep.sum(dtype=torch.float64)
    by_count = reduction == "mean" or not isinstance(weight, torch.Tensor)
    if by_count:
        denominator = kept
    else:
        denominator = weight.detach().sum(dtype=torch.float64)
        if weight.numel() < count:  # broadcasting repeats every weight count / numel times
            denominator = denominator * (count // weight.numel())
    sums = torch.stack([denominator, kept, elements])
    dist.all_reduce(sums, op=dist.ReduceOp.SUM, group=group)
    denominator = sums[0]
    if isinstance(weight, float) and reduction == "weighted_mean":
        denominator = denominator * weight
    if validate:
        global_denominator, global_kept, global_elements = sums.tolist()
        if keep is not None:
            check_some_kept(int(global_kept), int(global_elements), ignore_index, reduction)
        if reduction == "weighted_mean" and weight is not None:
            scale = weight if isinstance(weight, float) else 1.0
            check_positive_sum(name, global_denominator * scale)
    denominator = denominator.to(total.dtype)
    # All ignored or all weights zero (validate=False only): 0 rather than 0/0, without a sync.
    denominator = torch.where(denominator > 0, denominator, torch.ones_like(denominator))
    return total * dist.get_world_size(group) / denominator


def _masked(weight, keep):
    """A tensor weight with the ignored elements' entries set to 0 (broadcast to ``keep``)."""
    if keep is None or not isinstance(weight, torch.Tensor):
        return weight
    return torch.where(keep, weight, torch.zeros((), dtype=weight.dtype, device=weight.device))


def _as_input_dtype(loss, like):
    return loss.to(like.dtype)


# ----------------------------------------------------------------------------- cross-entropy


def softmax_cross_entropy(
    logits,
    labels,
    *,
    class_weight=None,
    sample_weight=None,
    ignore_index=None,
    label_smoothing=0.0,
    smoothing_weight="label",
    reduction="mean",
    validate=True,
    process_group=None,
):
    r"""Softmax cross-entropy with integer labels, per-class and per-sample weights.

    .. math::

        \ell_i = -\sum_c q_{i,c} \log \operatorname{softmax}(z_i)_c, \qquad
        q_i = (1 - \varepsilon)\,\operatorname{onehot}(y_i) + \varepsilon / K, \qquad
        w_i = \text{class\_weight}_{y_i} \cdot \text{sample\_weight}_i

    with :math:`\varepsilon` = ``label_smoothing`` and :math:`K` classes. By default
    (``smoothing_weight="label"``) the whole smoothed loss of element :math:`i` is multiplied by
    :math:`w_i`; ``smoothing_weight="per_class"`` is PyTorch's own convention, in which each
    class's term of the smoothed loss carries that class's weight (see
    :func:`companion.reference.softmax_cross_entropy`), while ``"weighted_mean"`` still divides
    by :math:`\sum_i w_i`. An element whose label is ``ignore_index`` has loss 0 and counts in no
    sum: ``"mean"`` divides by the number of elements not ignored, ``"weighted_mean"`` by the
    sum of their weights.

    One fused :func:`torch.nn.functional.cross_entropy` computes :math:`w_i \ell_i` (or their
    sum) with ``weight=class_weight``, so the cost is that of the native loss.

    Args:
      logits: ``[batch, num_classes, d1, ...]`` (or ``[num_classes]``) floating tensor.
      labels: ``[batch, d1, ...]`` (or ``[]``) integer class indices in ``[0, num_classes)``,
        or ``ignore_index``.
      class_weight: ``[num_classes]`` non-negative weights, or a ``{class: weight}`` dict
        (missing classes weigh 1).
      sample_weight: non-negative weights broadcastable to ``labels.shape`` after trailing axes
        of size one are added (``[batch]`` weights apply per sample).
      ignore_index: ``None`` or an integer label (``-100``, ``255``, or a class) to leave out.
      label_smoothing: :math:`\varepsilon` in ``[0, 1]``.
      smoothing_weight: ``"label"`` or ``"per_class"``.
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"``. With ``class_weight``
        alone, ``"weighted_mean"`` is ``F.cross_entropy(logits, labels, weight=class_weight)``,
        with ``ignore_index=`` too, and with ``label_smoothing=`` under
        ``smoothing_weight="per_class"``.
      validate: check label ranges and weight values (copies a few numbers to the host).
      process_group: ``None``, or a ``torch.distributed`` process group over which the
        ``"mean"`` and ``"weighted_mean"`` denominators (the number of elements not ignored, or
        the sum of their weights) are summed; each rank then returns the group's size times its
        own numerator over that global denominator, so that DDP's averaged gradient is the
        gradient of the global-batch loss and the mean over the ranks is the global loss (see
        the module's docstring). ``"sum"`` and ``"none"`` ignore it.

    Returns:
      The reduced loss (a 0-d tensor), or ``[batch, d1, ...]`` weighted losses for ``"none"``.

    Example:
      >>> import torch
      >>> logits, labels = torch.tensor([[2.0, 0.0], [2.0, 0.0]]), torch.tensor([0, 1])
      >>> round(float(softmax_cross_entropy(logits, labels, class_weight=[1.0, 3.0])), 4)
      3.2539
      >>> round(float(softmax_cross_entropy(
      ...     logits, labels, class_weight=[1.0, 3.0], reduction="weighted_mean")), 4)
      1.6269
      >>> round(float(softmax_cross_entropy(
      ...     logits, torch.tensor([0, -100]), ignore_index=-100)), 4)
      0.1269

    References:
      King & Zeng (2001); Szegedy et al., CVPR 2016, for label smoothing; PyTorch
      ``torch.nn.CrossEntropyLoss`` for the ``weighted_mean`` form.
    """
    check_reduction(reduction)
    ignore_index = check_ignore_index(ignore_index)
    eps = check_label_smoothing(label_smoothing)
    smoothing_weight = check_smoothing_weight(smoothing_weight)
    process_group = _check_process_group(process_group)
    x = _floating("logits", logits)
    local = _local_reduction(reduction, process_group)
    safe, labels, keep = _labels(labels, x, validate, ignore_index, local)
    n_classes = x.shape[_class_axis(x)]
    table = None
    if class_weight is not None:
        table = _class_table(class_weight, n_classes, x, validate)
    sw = None
    if sample_weight is not None:
        sw = _sample_weight(sample_weight, tuple(labels.shape), x, validate)
    # F.cross_entropy's weight= weighs each class's term of the smoothed loss by that class
    # ("per_class"); the "label" convention multiplies the whole element loss by w[y] instead.
    native = table if eps == 0 or smoothing_weight == "per_class" else None
    options = {
        "weight": native,
        "ignore_index": -100 if ignore_index is None else ignore_index,
        "label_smoothing": eps,
    }
    if sw is None and reduction != "none" and native is table:
        # The fused kernel sums w_i l_i itself; only the divisor of weighted_mean is left.
        total = F.cross_entropy(x, labels, reduction="sum", **options)
        weighted = table is not None and reduction == "weighted_mean"
        weight = _masked(_lookup(table, safe), keep) if weighted else None
        loss = _reduce(
            total,
            weight,
            reduction,
            validate,
            summed_over=labels.shape,
            keep=keep,
            process_group=process_group,
            ignore_index=ignore_index,
        )
    else:
        loss = F.cross_entropy(x, labels, reduction="none", **options)
        weight = _multiply(None if table is None else _lookup(table, safe), sw)
        if native is None and table is not None:
            loss = loss * _lookup(table, safe)
        if sw is not None:
            loss = loss * sw
        loss = _reduce(
            loss,
            _masked(weight, keep),
            reduction,
            validate,
            keep=keep,
            process_group=process_group,
            ignore_index=ignore_index,
        )
    return _as_input_dtype(loss, logits)


def _log_prior(class_prior, n_classes, like, validate):
    """``log(class_prior / sum(class_prior))`` in ``like``'s dtype and on its device."""
    prior = _as_tensor("class_prior", class_prior, like)
    if tuple(prior.shape) != (n_classes,):
        got = "a scalar" if prior.ndim == 0 else f"shape {tuple(prior.shape)}"
        fail(ValueError, "class_prior", f"one positive value per class, shape ({n_classes},)", got)
    if validate:
        check_prior_values("class_prior", *_extremes(prior))
    return prior.log() - prior.sum().log()


def logit_adjusted_cross_entropy(
    logits,
    labels,
    *,
    class_prior,
    tau=1.0,
    class_weight=None,
    sample_weight=None,
    reduction="mean",
    validate=True,
    process_group=None,
):
    r"""Softmax cross-entropy of the logits shifted by :math:`\tau \log \pi` (logit adjustment).

    .. math::

        \ell_i = -\log \frac{e^{z_{i,y_i} + \tau\log\pi_{y_i}}}
                             {\sum_j e^{z_{ij} + \tau\log\pi_j}}

    :func:`softmax_cross_entropy` (one fused ``F.cross_entropy``) of ``logits + tau *
    log(class_prior)``, the prior laid along the class axis 1. ``tau=1`` is the Balanced Softmax
    of Ren et al. (2020). ``class_prior`` is normalised to sum to 1, so class counts may be
    passed as they are. Predict with the plain logits: the adjustment belongs to training.

    Args:
      logits: ``[batch, num_classes, d1, ...]`` (or ``[num_classes]``) floating tensor.
      labels: ``[batch, d1, ...]`` (or ``[]``) integer class indices in ``[0, num_classes)``.
      class_prior: ``[num_classes]`` positive, finite class frequencies or counts.
      tau: the strength of the adjustment, a finite number ``>= 0``.
      class_weight: ``[num_classes]`` non-negative weights, or a ``{class: weight}`` dict.
      sample_weight: non-negative weights broadcastable to ``labels.shape``.
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"``.
      validate: check label ranges, prior and weight values (copies a few numbers to the host).
      process_group: ``None``, or a ``torch.distributed`` process group over which the
        ``"mean"`` and ``"weighted_mean"`` denominators (the number of elements, or the sum of
        their weights) are summed; each rank then returns the group's size times its own
        numerator over that global denominator, so that DDP's averaged gradient is the gradient
        of the global-batch loss and the mean over the ranks is the global loss (see the
        module's docstring). ``"sum"`` and ``"none"`` ignore it.

    Returns:
      The reduced loss (a 0-d tensor), or ``[batch, d1, ...]`` weighted losses for ``"none"``.

    Example:
      >>> import torch
      >>> logits, labels = torch.tensor([[2.0, 0.0], [2.0, 0.0]]), torch.tensor([0, 1])
      >>> round(float(logit_adjusted_cross_entropy(logits, labels, class_prior=[0.9, 0.1])), 4)
      2.1135

    References:
      Menon et al., "Long-tail learning via logit adjustment", ICLR 2021; Ren et al.,
      "Balanced Meta-Softmax for Long-Tailed Visual Recognition", NeurIPS 2020.
    """
    check_reduction(reduction)
    tau = check_number("tau", tau, low=0.0)
    process_group = _check_process_group(process_group)
    x = _floating("logits", logits)
    log_prior = _log_prior(class_prior, x.shape[_class_axis(x)], x, validate)
    loss = softmax_cross_entropy(
        x + tau * _along_axis_1(log_prior, x.ndim),
        labels,
        class_weight=class_weight,
        sample_weight=sample_weight,
        reduction=reduction,
        validate=validate,
        process_group=process_group,
    )
    return _as_input_dtype(loss, logits)


def _autograd(ctx, grad, formula, inputs):
    """The gradients of an analytic ``Function`` by autograd through its ``formula``.

    For ``backward(create_graph=True)``, so that higher derivatives exist, and for the gradients
    of targets and weights, which are seldom wanted.
    """
    needs = ctx.needs_input_grad
    create_graph = torch.is_grad_enabled()
    if not create_graph:
        inputs = [
            x.detach().requires_grad_(need) if isinstance(x, torch.Tensor) else x
            for x, need in zip(inputs, needs, strict=True)
        ]
    wanted = [i for i, need in enumerate(needs) if need]
    with torch.enable_grad():
        value = formula(*inputs)
    grads = torch.autograd.grad(value, [inputs[i] for i in wanted], grad, create_graph=create_graph)
    result = [None] * len(needs)
    for i, g in zip(wanted, grads, strict=True):
        result[i] = g
    return tuple(result)


class _SigmoidCrossEntropy(torch.autograd.Function):
    r"""``(1 - t) softplus(z) + p t softplus(-z)`` with an analytic backward pass.

    Autograd through the two softplus terms would take an exponential per term and several
    products in the backward pass; the derivative :math:`(1 - t + pt)\sigma(z) - pt` takes one
    sigmoid, as ``BCEWithLogitsLoss`` does, so the loss costs what the native one costs while
    its value keeps full relative precision where it is tiny. Higher derivatives and those of
    the targets and ``pos_weight`` come from autograd through :meth:`formula`.
    """

    @staticmethod
    def formula(logits, targets, pos_weight):
        positive = targets * F.softplus(-logits, threshold=_SOFTPLUS_THRESHOLD)
        if pos_weight is not None:
            positive = positive * pos_weight
        return (1 - targets) * F.softplus(logits, threshold=_SOFTPLUS_THRESHOLD) + positive

    @staticmethod
    def forward(ctx, logits, targets, pos_weight):
        negative = 1 - targets
        loss = F.softplus(logits, threshold=_SOFTPLUS_THRESHOLD).mul_(negative)
        log_sigmoid = F.logsigmoid(logits)  # -softplus(-z), without negating z first
        if pos_weight is not None:
            log_sigmoid = log_sigmoid.mul_(pos_weight)
        # The backward pass needs 1 - t only with a pos_weight.
        ctx.save_for_backward(logits, targets, pos_weight, None if pos_weight is None else negative)
        return loss.addcmul_(targets, log_sigmoid, value=-1)

    @staticmethod
    def backward(ctx, grad):
        logits, targets, pos_weight, negative = ctx.saved_tensors
        if torch.is_grad_enabled() or any(ctx.needs_input_grad[1:]):
            return _autograd(ctx, grad, _SigmoidCrossEntropy.formula, (logits, targets, pos_weight))
        grad_logits = torch.sigmoid(logits)
        if pos_weight is None:
            return grad_logits.sub_(targets).mul_(grad), None, None
        # (1 - t + p t) sigmoid(z) - p t
        grad_logits = grad_logits.mul_(torch.addcmul(negative, targets, pos_weight))
        return grad_logits.addcmul_(targets, pos_weight, value=-1).mul_(grad), None, None


def sigmoid_cross_entropy(
    logits,
    targets,
    *,
    class_weight=None,
    sample_weight=None,
    pos_weight=None,
    label_smoothing=0.0,
    reduction="mean",
    validate=True,
    process_group=None,
):
    r"""Binary / multi-label sigmoid cross-entropy with class, sample and positive weights.

    .. math::

        \ell_i = -\big[\, p\, t_i \log\sigma(z_i) + (1 - t_i)\log(1 - \sigma(z_i)) \big]
               = p\, t_i\,\operatorname{softplus}(-z_i) + (1 - t_i)\operatorname{softplus}(z_i)

    where :math:`p` is ``pos_weight`` (it scales only the positive term, as in
    ``BCEWithLogitsLoss(pos_weight=)``), and :math:`w_i` is ``class_weight`` of the element's
    label (its index along axis 1) times ``sample_weight``. Unlike
    ``F.binary_cross_entropy_with_logits``, which computes :math:`(1 - t)z - \ldots\log\sigma(z)`
    and so loses a tiny loss to cancellation, each softplus is evaluated directly. With
    ``label_smoothing`` :math:`\varepsilon` the targets become
    :math:`t_i(1 - \varepsilon) + \varepsilon / 2` first, as in Keras'
    ``BinaryCrossentropy(label_smoothing=)``; the weights are unchanged.

    Args:
      logits: ``[batch, num_labels, d1, ...]`` (or ``[num_labels]``) floating tensor.
      targets: same shape, values in ``[0, 1]`` (0/1 labels or probabilities).
      class_weight: ``[num_labels]`` weights applied along axis 1, or a ``{label: weight}`` dict.
      sample_weight: weights broadcastable to ``targets.shape`` after trailing axes of size one
        are added.
      pos_weight: a number or ``[num_labels]`` weights (along axis 1) for the positive term.
      label_smoothing: :math:`\varepsilon` in ``[0, 1]``.
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"``. With ``class_weight``
        alone, ``"mean"`` is ``BCEWithLogitsLoss(weight=class_weight)``.
      validate: check target ranges and weight values (copies a few numbers to the host).
      process_group: ``None``, or a ``torch.distributed`` process group over which the
        ``"mean"`` and ``"weighted_mean"`` denominators (the number of elements, or the sum of
        their weights) are summed; each rank then returns the group's size times its own
        numerator over that global denominator, so that DDP's averaged gradient is the gradient
        of the global-batch loss and the mean over the ranks is the global loss (see the
        module's docstring). ``"sum"`` and ``"none"`` ignore it.

    Returns:
      The reduced loss (a 0-d tensor), or the weighted losses, of the logits' shape, for
      ``"none"``.

    Example:
      >>> import torch
      >>> z, t = torch.tensor([[0.0, 0.0]]), torch.tensor([[1.0, 0.0]])
      >>> round(float(sigmoid_cross_entropy(z, t, pos_weight=3.0, reduction="sum")), 4)
      2.7726

    References:
      PyTorch ``torch.nn.BCEWithLogitsLoss``; Elkan (2001) on costs and weights.
    """
    check_reduction(reduction)
    eps = check_label_smoothing(label_smoothing)
    process_group = _check_process_group(process_group)
    x = _floating("logits", logits)
    axis = _class_axis(x)
    t = _targets(targets, x, validate)
    if eps > 0:
        t = t * (1 - eps) + eps / 2
    n_labels = x.shape[axis]
    p = None
    if pos_weight is not None:
        p = _as_tensor("pos_weight", pos_weight, x)
        if p.ndim > 1 or (p.ndim == 1 and p.shape[0] != n_labels):
            fail(
                ValueError,
                "pos_weight",
                f"a number or one weight per label (axis {axis}), shape ({n_labels},)",
                f"shape {tuple(p.shape)}",
            )
        if validate:
            check_weight_values("pos_weight", *_extremes(p))
        p = _along_axis_1(p, x.ndim)
    loss = _SigmoidCrossEntropy.apply(x, t, p)
    weight = None
    if class_weight is not None:
        table = _class_table(class_weight, n_labels, x, validate)
        weight = _along_axis_1(table, x.ndim)
    if sample_weight is not None:
        sw = _sample_weight(sample_weight, tuple(x.shape), x, validate, what="targets")
        weight = _multiply(weight, sw)
    if weight is not None:
        loss = loss * weight
    loss = _reduce(loss, weight, reduction, validate, process_group=process_group)
    return _as_input_dtype(loss, logits)


# ----------------------------------------------------------------------------- focal losses


def _modulating_factor(one_minus_p, gamma):
    """(1 - p_t)^gamma with a finite gradient where 1 - p_t underflows to 0 and gamma < 1."""
    tiny = torch.finfo(one_minus_p.dtype).tiny
    return torch.where(one_minus_p > tiny, one_minus_p, tiny) ** gamma


def _is_per_class(value):
    if hasattr(value, "ndim"):
        return value.ndim > 0
    return isinstance(value, Mapping | list | tuple)


def focal_loss(
    logits,
    labels,
    *,
    alpha=None,
    gamma=2.0,
    ignore_index=None,
    reduction="mean",
    validate=True,
    process_group=None,
):
    r"""Multi-class (softmax) focal loss with a scalar or per-class ``alpha``.

    .. math::

        \ell_i = -\alpha_{y_i}\,(1 - p_{i,y_i})^{\gamma}\,\log p_{i,y_i}, \qquad
        p_i = \operatorname{softmax}(z_i)

    A scalar ``alpha`` multiplies every class alike; a ``[num_classes]`` vector is looked up by
    label. :math:`\alpha_{y_i}` is the element's weight, so ``"weighted_mean"`` divides by
    :math:`\sum_i \alpha_{y_i}`. :math:`-\log p_{i,y_i}` comes from one fused
    :func:`torch.nn.functional.cross_entropy`; :math:`1 - p` is ``-expm1(log p)``, exact near
    :math:`p = 1`, and the gradient is analytic (see ``_FocalTerm``), finite for every
    ``gamma >= 0``. With ``gamma=0`` and ``alpha=class_weight`` this is
    :func:`softmax_cross_entropy` with that ``class_weight``. An element whose label is
    ``ignore_index`` has loss 0 and counts in no sum: ``"mean"`` divides by the number of
    elements not ignored, ``"weighted_mean"`` by the sum of their alphas.

    Args:
      logits: ``[batch, num_classes, d1, ...]`` (or ``[num_classes]``) floating tensor.
      labels: ``[batch, d1, ...]`` integer class indices.
      alpha: ``None``, a non-negative number, or ``[num_classes]`` non-negative weights (a
        sequence, array, tensor or ``{class: weight}`` dict).
      gamma: focusing parameter, ``gamma >= 0``.
      ignore_index: ``None`` or an integer label to leave out.
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"``.
      validate: check label ranges and weight values (copies a few numbers to the host).
      process_group: ``None``, or a ``torch.distributed`` process group over which the
        ``"mean"`` and ``"weighted_mean"`` denominators (the number of elements not ignored, or
        the sum of their alphas) are summed; each rank then returns the group's size times its
        own numerator over that global denominator, so that DDP's averaged gradient is the
        gradient of the global-batch loss and the mean over the ranks is the global loss (see
        the module's docstring). ``"sum"`` and ``"none"`` ignore it.

    Returns:
      The reduced loss (a 0-d tensor), or ``[batch, d1, ...]`` weighted losses for ``"none"``.

    Example:
      >>> import torch
      >>> logits = torch.tensor([[3.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
      >>> [round(v, 4) for v in focal_loss(logits, torch.tensor([0, 0]), reduction="none").tolist()]
      [0.0008, 0.4883]

    References:
      Lin, Goyal, Girshick, He & Dollár, "Focal Loss for Dense Object Detection", ICCV 2017.
    """
    check_reduction(reduction)
    gamma = check_number("gamma", gamma, low=0.0)
    ignore_index = check_ignore_index(ignore_index)
    process_group = _check_process_group(process_group)
    x = _floating("logits", logits)
    local = _local_reduction(reduction, process_group)
    safe, labels, keep = _labels(labels, x, validate, ignore_index, local)
    axis = _class_axis(x)
    weight = None
    if alpha is None:
        pass
    elif _is_per_class(alpha):
        table = _class_table(alpha, x.shape[axis], x, validate, "alpha")
        weight = _masked(_lookup(table, safe), keep)
    elif isinstance(alpha, torch.Tensor):
        weight = alpha.to(device=x.device, dtype=x.dtype)
        if validate:
            check_number("alpha", float(weight), low=0.0)
    else:
        weight = check_number("alpha", float(alpha) if hasattr(alpha, "ndim") else alpha, low=0.0)
    if isinstance(weight, torch.Tensor) and weight.ndim == 0 and keep is not None:
        weight = _masked(weight.expand(labels.shape), keep)  # a 0-d tensor alpha
    ignored = -100 if ignore_index is None else ignore_index
    # -log p, one fused kernel; 0 where the label is ignore_index.
    ce = F.cross_entropy(x, labels, ignore_index=ignored, reduction="none")
    loss = _FocalTerm.apply(ce, gamma, weight if isinstance(weight, torch.Tensor) else None)
    if isinstance(weight, float):
        loss = loss * weight
    result = _reduce(
        loss,
        weight,
        reduction,
        validate,
        "alpha",
        keep=keep,
        process_group=process_group,
        ignore_index=ignore_index,
    )
    return _as_input_dtype(result, logits)


class _FocalTerm(torch.autograd.Function):
    r"""``alpha (1 - p)^gamma ce`` as a function of the cross-entropy ``ce = -log p``.

    Autograd would take a dozen elementwise passes over the batch for this term; the analytic
    derivative

    .. math:: \frac{\partial \ell}{\partial\, ce}
        = \alpha (1 - p)^\gamma \Big(1 + \gamma\,\frac{ce}{e^{ce} - 1}\Big)

    takes five, and it is finite for every ``gamma >= 0``: the ratio lies in ``[0, 1]``. Where
    :math:`e^{ce} - 1` is below the smallest normal number (``p`` is 1 to working precision)
    the ratio is taken as 0, as the reference's clamp of :math:`1 - p` does. Higher derivatives
    and those of ``alpha`` come from autograd through :meth:`formula`.
    """

    @staticmethod
    def formula(ce, gamma, alpha):
        loss = _modulating_factor(-torch.expm1(-ce), gamma) * ce
        return loss if alpha is None else loss * alpha

    @staticmethod
    def forward(ctx, ce, gamma, alpha):
        # 1 - p = -expm1(-ce): exact where p is close to 1.
        factor = torch.neg(ce).expm1_().neg_().pow_(gamma)
        if alpha is not None:
            factor = factor.mul_(alpha)
        ctx.gamma = gamma
        ctx.save_for_backward(ce, factor, alpha)
        return factor * ce

    @staticmethod
    def backward(ctx, grad):
        ce, factor, alpha = ctx.saved_tensors
        if torch.is_grad_enabled() or ctx.needs_input_grad[2]:
            return _autograd(ctx, grad, _FocalTerm.formula, (ce, ctx.gamma, alpha))
        if ctx.gamma == 0:
            return factor * grad, None, None
        ratio = torch.expm1(ce).clamp_min_(torch.finfo(ce.dtype).tiny)
        ratio = torch.div(ce, ratio, out=ratio)
        grad_ce = torch.addcmul(factor, factor, ratio, value=ctx.gamma, out=ratio)
        return grad_ce.mul_(grad), None, None


def sigmoid_focal_loss(
    logits,
    targets,
    *,
    alpha=0.25,
    gamma=2.0,
    reduction="mean",
    validate=True,
    process_group=None,
):
    r"""Binary / multi-label focal loss in the RetinaNet form.

    .. math::

        \ell_i = \alpha_{t,i}\,(1 - p_{t,i})^{\gamma}\,\mathrm{BCE}(z_i, t_i), \quad
        p_{t} = p\,t + (1 - p)(1 - t), \quad \alpha_t = \alpha\,t + (1 - \alpha)(1 - t)

    with :math:`p = \sigma(z)`. ``alpha`` weighs the positives and ``1 - alpha`` the negatives;
    ``alpha=None`` weighs neither. :math:`\alpha_t` is the element's weight for
    ``"weighted_mean"``. The same as ``torchvision.ops.sigmoid_focal_loss``, whose BCE
    loses tiny values to cancellation where this one evaluates each softplus directly.
    ``"sum"``, ``"mean"`` and ``"weighted_mean"`` are fused (see ``_SigmoidFocalSum``): the
    forward pass computes the gradient along with the loss and keeps only it, one
    logits-sized tensor, so the loss costs about the memory of BCE-with-logits; those
    reductions have no second derivative (``"none"`` has, through autograd).

    Args:
      logits: floating tensor of any shape.
      targets: same shape, values in ``[0, 1]``.
      alpha: ``None`` or a number in ``[0, 1]``.
      gamma: focusing parameter, ``gamma >= 0``.
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"``.
      validate: check target ranges (copies a few numbers to the host).
      process_group: ``None``, or a ``torch.distributed`` process group over which the
        ``"mean"`` and ``"weighted_mean"`` denominators (the number of elements, or the sum of
        their alphas) are summed; each rank then returns the group's size times its own
        numerator over that global denominator, so that DDP's averaged gradient is the gradient
        of the global-batch loss and the mean over the ranks is the global loss (see the
        module's docstring). ``"sum"`` and ``"none"`` ignore it.

    Returns:
      The reduced loss (a 0-d tensor), or the weighted losses, of the logits' shape, for
      ``"none"``.

    Example:
      >>> import torch
      >>> round(float(sigmoid_focal_loss(torch.tensor([0.0]), torch.tensor([1.0]))), 4)
      0.0433

    References:
      Lin et al., ICCV 2017; torchvision ``torchvision.ops.sigmoid_focal_loss``.
    """
    check_reduction(reduction)
    gamma = check_number("gamma", gamma, low=0.0)
    if alpha is not None:
        alpha = check_number("alpha", alpha, low=0.0, high=1.0)
    process_group = _check_process_group(process_group)
    x = _floating("logits", logits)
    t = _targets(targets, x, validate)
    if reduction != "none" and not (torch.is_grad_enabled() and t.requires_grad):
        # Fused: the forward pass saves only d(sum)/d(logits), one logits-sized tensor.
        total = _SigmoidFocalSum.apply(x, t, alpha, gamma)
        # sum(alpha_t) = N (1 - alpha) + (2 alpha - 1) sum(t), as a 0-d mean weight.
        weight = None if alpha is None else (2 * alpha - 1) * t.detach().mean() + (1 - alpha)
        loss = _reduce(
            total,
            weight,
            reduction,
            validate,
            "alpha",
            summed_over=x.shape,
            process_group=process_group,
        )
        return _as_input_dtype(loss, logits)
    softplus_neg = F.softplus(-x, threshold=_SOFTPLUS_THRESHOLD)  # -log p
    softplus_pos = F.softplus(x, threshold=_SOFTPLUS_THRESHOLD)  # -log(1 - p)
    bce = t * softplus_neg + (1 - t) * softplus_pos
    one_minus_p_t = t * torch.sigmoid(-x) + (1 - t) * torch.sigmoid(x)
    loss = _modulating_factor(one_minus_p_t, gamma) * bce
    weight = None
    if alpha is not None:
        weight = alpha * t + (1 - alpha) * (1 - t)
        loss = loss * weight
    loss = _reduce(loss, weight, reduction, validate, "alpha", process_group=process_group)
    return _as_input_dtype(loss, logits)


class _SigmoidFocalSum(torch.autograd.Function):
    r"""The summed sigmoid focal loss whose forward pass saves only its gradient.

    Autograd through the elementwise formula keeps about a dozen logits-sized intermediates
    for the backward pass. This forward pass walks the flattened batch in chunks (small on the
    CPU, so that the temporaries stay in cache; large on a GPU, so that kernel launches stay
    few) and computes per chunk the loss and its analytic derivative

    .. math::

        \frac{\partial \ell}{\partial z} = \alpha_t \Big[ q^\gamma\, (\sigma(z) - t)
            + \gamma\, q^{\gamma - 1}\, \sigma(z)\,\sigma(-z)\,(1 - 2t)\,\mathrm{BCE} \Big],
        \qquad q = 1 - p_t = t\,\sigma(-z) + (1 - t)\,\sigma(z),

    where the second term is 0 where :math:`q` is at most the smallest normal number (there the
    reference clamps the modulating factor, whose gradient is then 0). It returns the sum and
    saves only that derivative; the backward pass scales it by the incoming gradient. The
    derivative is not itself differentiable: ``backward(create_graph=True)`` raises (use
    ``reduction="none"`` and sum, which autograd differentiates twice).
    """

    # Elements per chunk on a CPU: fewer than PyTorch's grain size (32768), so that every
    # elementwise kernel runs in the calling thread, its few temporaries in the cache. Larger
    # chunks open a parallel region per kernel; on an oversubscribed CPU its barrier stalls
    # turned a 0.3 s step into 1.5 s.
    CPU_CHUNK = (1 << 15) - 8
    # On a GPU, about 8 chunks of at least 2**22 elements: a few launches per kernel.
    GPU_CHUNK = 1 << 22

    @staticmethod
    def chunks(n, device):
        if device.type == "cpu":
            return _SigmoidFocalSum.CPU_CHUNK
        return max(_SigmoidFocalSum.GPU_CHUNK, -(-n // 8))

    @staticmethod
    def forward(ctx, logits, targets, alpha, gamma):
        want_grad = ctx.needs_input_grad[0]
        z_all, t_all = logits.reshape(-1), targets.reshape(-1)
        n = z_all.numel()
        grad_all = torch.empty_like(z_all) if want_grad else None
        tiny = torch.finfo(logits.dtype).tiny
        step = _SigmoidFocalSum.chunks(n, logits.device)
        total = None
        for start in range(0, n, step):
            z, t = z_all[start : start + step], t_all[start : start + step]
            minus_z, negative = z.neg(), torch.sub(1.0, t)
            sig, sig_neg = torch.sigmoid(z), torch.sigmoid(minus_z)
            # q = t sigma(-z) + (1 - t) sigma(z), as two products: a tiny q stays precise.
            q = torch.mul(t, sig_neg).addcmul_(negative, sig)
            # BCE = t softplus(-z) + (1 - t) softplus(z), each softplus evaluated directly.
            bce = F.softplus(z, threshold=_SOFTPLUS_THRESHOLD).mul_(negative)
            bce = bce.addcmul_(t, F.softplus(minus_z, threshold=_SOFTPLUS_THRESHOLD))
            safe = q.clamp_min(tiny)
            if gamma == 0:
                factor = None
            elif gamma == 1:
                factor = safe
            elif gamma == 2:
                factor = safe * safe
            else:
                factor = safe.pow(gamma)
            value = bce if factor is None else factor * bce
            weight = None
            if alpha is not None:
                weight = torch.mul(t, 2 * alpha - 1).add_(1 - alpha)  # alpha t + (1-alpha)(1-t)
                value = value.mul_(weight) if factor is not None else value * weight
            part = value.sum()
            total = part if total is None else total.add_(part)
            if not want_grad:
                continue
            grad = torch.sub(sig, t)
            if factor is not None:
                grad = grad.mul_(factor)
                # gamma q^(gamma - 1) sigma(z) sigma(-z) (1 - 2t) BCE, 0 where q <= tiny
                if gamma == 1:
                    focus = sig.mul_(sig_neg)
                else:
                    power = safe if gamma == 2 else safe.pow(gamma - 1)
                    focus = sig.mul_(sig_neg).mul_(power)
                focus = focus.mul_(negative.sub_(t)).mul_(bce).mul_(q > tiny)  # 1 - 2t
                grad = grad.add_(focus, alpha=gamma)
            if weight is not None:
                grad = grad.mul_(weight)
            grad_all[start : start + step] = grad
        ctx.shape = logits.shape
        ctx.save_for_backward(grad_all)
        return total

    @staticmethod
    def backward(ctx, grad):
        if torch.is_grad_enabled():
            raise RuntimeError(
                "sigmoid_focal_loss: the summed loss (reduction 'sum', 'mean' or "
                "'weighted_mean') has no second derivative; for backward(create_graph=True), "
                "use reduction='none' and reduce the elementwise losses yourself"
            )
        (grad_logits,) = ctx.saved_tensors
        return grad_logits.reshape(ctx.shape) * grad, None, None, None


# ----------------------------------------------------------------------------- regression


def huber_loss(
    prediction, target, *, delta=1.0, reduction="mean", validate=True, process_group=None
):
    r"""Huber loss: quadratic for small residuals, linear for large ones.

    .. math::

        \ell_i = \begin{cases} \tfrac12 d_i^2 & |d_i| \le \delta \\
                 \delta\,(|d_i| - \tfrac12\delta) & |d_i| > \delta \end{cases},
        \qquad d_i = \text{prediction}_i - \text{target}_i

    Computed by PyTorch's fused kernel (:func:`torch.nn.functional.huber_loss`), whose analytic
    gradient :math:`\operatorname{clip}(d_i, -\delta, \delta)` is finite everywhere.

    Args:
      prediction: floating tensor of any shape.
      target: tensor of the same shape.
      delta: threshold between the quadratic and linear parts, ``delta > 0``.
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"`` (the last equals
        ``"mean"``: there are no weights).
      validate: unused (there are no values to check); kept for a uniform signature.
      process_group: ``None``, or a ``torch.distributed`` process group over which the
        ``"mean"`` and ``"weighted_mean"`` denominators (the number of elements) are summed;
        each rank then returns the group's size times its own numerator over that global
        denominator, so that DDP's averaged gradient is the gradient of the global-batch loss
        and the mean over the ranks is the global loss (see the module's docstring). ``"sum"``
        and ``"none"`` ignore it.

    Returns:
      The reduced loss (a 0-d tensor), or the losses, of the prediction's shape, for ``"none"``.

    Example:
      >>> import torch
      >>> huber_loss(torch.tensor([0.5, 3.0]), torch.zeros(2), reduction="none").tolist()
      [0.125, 2.5]

    References:
      Huber, "Robust Estimation of a Location Parameter", Ann. Math. Statist. 35(1), 1964.
    """
    check_reduction(reduction)
    delta = check_number("delta", delta, low=0.0, low_open=True)
    process_group = _check_process_group(process_group)
    x = _floating("prediction", prediction)
    _check_tensor("target", target)
    if tuple(target.shape) != tuple(x.shape):
        fail(
            ValueError,
            "target",
            f"shape {tuple(x.shape)} (the prediction's)",
            f"shape {tuple(target.shape)}",
        )
    check_not_empty("prediction", tuple(x.shape))
    _same_device("target", target, x)
    native = "mean" if reduction == "weighted_mean" else reduction
    if process_group is not None and native == "mean":
        total = F.huber_loss(x, target.to(x.dtype), delta=delta, reduction="sum")
        loss = _reduce(
            total, None, "mean", validate, summed_over=x.shape, process_group=process_group
        )
        return _as_input_dtype(loss, prediction)
    loss = F.huber_loss(x, target.to(x.dtype), delta=delta, reduction=native)
    return _as_input_dtype(loss, prediction)


# ----------------------------------------------------------------------------- segmentation


def dice_loss(
    probabilities,
    targets,
    *,
    smooth=1.0,
    ignore_index=None,
    reduction="mean",
    validate=True,
    process_group=None,
):
    r"""Soft Dice loss, one value per sample.

    .. math::

        \ell_n = 1 - \frac{2\sum_k p_{n,k} t_{n,k} + s}{\sum_k p_{n,k} + \sum_k t_{n,k} + s}

    where :math:`k` runs over every axis but the first (classes and pixels, so the layout of a
    ``[batch, classes, height, width]`` input does not matter) and :math:`s` is ``smooth``.
    ``reduction`` then works over the samples (``"weighted_mean"`` equals ``"mean"``). With
    ``ignore_index``, every element whose target equals it leaves all three sums of its
    sample; a sample whose elements are all ignored has loss :math:`1 - s/s = 0`, and
    ``"mean"`` still divides by the number of samples.

    Args:
      probabilities: ``[batch, ...]`` predicted probabilities in ``[0, 1]``.
      targets: same shape, values in ``[0, 1]``, or ``ignore_index``.
      smooth: ``smooth > 0``; it keeps an empty mask predicted empty at loss 0 instead of 0/0.
      ignore_index: ``None`` or an integer target value (e.g. ``255``) marking elements to
        leave out.
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"``.
      validate: check that both inputs lie in ``[0, 1]`` (copies a few numbers to the host).
      process_group: ``None``, or a ``torch.distributed`` process group over which the
        ``"mean"`` and ``"weighted_mean"`` denominators (the number of samples, since the mean
        is over samples) are summed; each rank then returns the group's size times its own
        numerator over that global denominator, so that DDP's averaged gradient is the gradient
        of the global-batch loss and the mean over the ranks is the global loss (see the
        module's docstring). ``"sum"`` and ``"none"`` ignore it.

    Returns:
      The reduced loss (a 0-d tensor), or ``[batch]`` losses for ``"none"``.

    Example:
      >>> import torch
      >>> p = torch.tensor([[[0.9, 0.1], [0.2, 0.8]]])
      >>> t = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
      >>> round(float(dice_loss(p, t)), 4)
      0.12

    References:
      Milletari, Navab & Ahmadi, "V-Net", 3DV 2016.
    """
    check_reduction(reduction)
    smooth = check_number("smooth", smooth, low=0.0, low_open=True)
    ignore_index = check_ignore_index(ignore_index)
    process_group = _check_process_group(process_group)
    p = _floating("probabilities", probabilities)
    if p.ndim < 2:
        fail(
            ValueError,
            "probabilities",
            "shape [batch, ...] with at least two dimensions",
            f"shape {tuple(p.shape)}",
        )
    t = _targets(targets, p, validate, ignore_index=ignore_index)
    if validate:
        check_unit_interval("probabilities", *_extremes(p))
    if ignore_index is not None:
        t, keep = t
        p = p.masked_fill(~keep, 0)
    axes = tuple(range(1, p.ndim))
    overlap = (p * t).sum(axes)
    total = p.sum(axes) + t.sum(axes)
    loss = 1 - (2 * overlap + smooth) / (total + smooth)
    loss = _reduce(loss, None, reduction, validate, process_group=process_group)
    return _as_input_dtype(loss, probabilities)


def _soft_loss(ratio, logits, targets, sample_weight, reduction, validate, process_group):
    r"""``ratio(TP, PP, AP)`` reduced over the columns, with the counts of the whole group.

    The expected counts are summed over the batch axis. With a ``process_group`` they are
    summed over the group too (an ``all_reduce`` of detached copies), and each rank returns

    .. math::

        L_r = \operatorname{sg}(L_g) + W \big(L(TP_r + \operatorname{sg}(TP_g - TP_r), \ldots)
              - \operatorname{sg}(L_g)\big)

    (``sg``: detach, :math:`W`: the group's size): its value is the loss :math:`L_g` of the
    global batch on every rank, and its gradient, which flows through the rank's own counts
    only, averages over the ranks (as ``DistributedDataParallel`` does) to the gradient of
    :math:`L_g`.
    """
    check_batch_reduction(reduction)
    process_group = _check_process_group(process_group)
    x = _floating("logits", logits)
    if x.ndim < 1:
        fail(ValueError, "logits", "at least one dimension (the batch axis)", "a 0-d tensor")
    t = _targets(targets, x, validate)
    p = torch.sigmoid(x)  # exp(-softplus(-z)) in one kernel: finite, finite gradient
    if sample_weight is not None:
        w = _sample_weight(sample_weight, tuple(x.shape), x, validate, what="targets")
        p_weighted, t_weighted = p * w, t * w
    else:
        p_weighted, t_weighted = p, t
    counts = [(p_weighted * t).sum(0), p_weighted.sum(0), t_weighted.sum(0)]
    world = 1
    if process_group is not None:
        import torch.distributed as dist

        total = torch.stack(counts).detach().clone()
        dist.all_reduce(total, group=process_group)
        world = dist.get_world_size(process_group)
        counts = [c + (g - c).detach() for c, g in zip(counts, total.unbind(0), strict=True)]
    loss = _reduce(ratio(*counts), None, reduction, validate)
    if world > 1:
        value = loss.detach()
        loss = value + world * (loss - value)
    return _as_input_dtype(loss, logits)


def soft_precision_loss(
    logits,
    targets,
    *,
    sample_weight=None,
    smooth=1.0,
    reduction="mean",
    validate=True,
    process_group=None,
):
    r"""One minus the soft precision of the batch, one value per column.

    .. math::

        \ell_c = 1 - \frac{TP_c + s}{PP_c + s}, \qquad
        TP_c = \sum_i w_i\, p_{i,c}\, t_{i,c}, \quad PP_c = \sum_i w_i\, p_{i,c}

    with :math:`p = \sigma(z)`, :math:`s` = ``smooth`` and the sums over the batch axis (axis 0)
    only: every element of ``targets.shape[1:]`` is a column (a label of a multi-label problem,
    a pixel), whatever the layout. The counts are expected counts under the predicted
    probabilities, a differentiable surrogate of :math:`TP / (TP + FP)`. The loss is
    **non-decomposable**: its value on a batch depends on the whole batch, so the batch size
    matters, and under data parallelism the counts must be summed over the devices
    (``process_group``) for every device to train on the loss of the global batch.

    Args:
      logits: ``[batch]`` or ``[batch, d1, ...]`` floating tensor, one sigmoid per element.
      targets: same shape, values in ``[0, 1]``.
      sample_weight: non-negative weights broadcastable to ``targets.shape`` after trailing
        axes of size one are added (``[batch]`` weighs samples).
      smooth: a finite number ``> 0``; the loss is then always finite.
      reduction: ``"none"`` (shape ``targets.shape[1:]``), ``"sum"`` or ``"mean"`` over the
        columns. ``"weighted_mean"`` is refused: there are no element weights to divide by.
      validate: check target ranges and weight values (copies a few numbers to the host).
      process_group: ``None``, or a ``torch.distributed`` group whose ranks hold the shards of
        one batch: the counts are summed over it, every rank returns the loss of the whole
        batch, and the gradients ``DistributedDataParallel`` averages are those of that loss.

    Example:
      >>> import torch
      >>> z, t = torch.zeros(3), torch.tensor([1.0, 0.0, 0.0])
      >>> round(float(soft_precision_loss(z, t, smooth=1e-6)), 4)  # 1 - 0.5 / 1.5
      0.6667

    References:
      A surrogate of precision from expected counts, as the soft Dice of Milletari, Navab &
      Ahmadi, "V-Net", 3DV 2016, is of F1.
    """
    smooth = check_smooth(smooth)
    return _soft_loss(
        lambda tp, pp, ap: 1 - (tp + smooth) / (pp + smooth),
        logits,
        targets,
        sample_weight,
        reduction,
        validate,
        process_group,
    )


def soft_f1_loss(
    logits,
    targets,
    *,
    sample_weight=None,
    smooth=1.0,
    reduction="mean",
    validate=True,
    process_group=None,
):
    r"""One minus the soft F1 score of the batch, one value per column (the batch's soft Dice).

    .. math::

        \ell_c = 1 - \frac{2\,TP_c + s}{PP_c + AP_c + s}, \qquad
        TP_c = \sum_i w_i\, p_{i,c}\, t_{i,c}, \quad PP_c = \sum_i w_i\, p_{i,c}, \quad
        AP_c = \sum_i w_i\, t_{i,c}

    with :math:`p = \sigma(z)`, :math:`s` = ``smooth`` and the sums over the batch axis (axis 0)
    only. With expected counts in place of counts, :math:`F_1 = 2TP / (PP + AP)` is the soft
    Dice coefficient of Milletari et al. (2016) taken over the batch: :func:`dice_loss` of the
    batch seen as one sample. The loss is **non-decomposable**: its value on a batch depends on
    the whole batch, so the batch size matters, and under data parallelism the counts must be
    summed over the devices (``process_group``).

    Args:
      logits: ``[batch]`` or ``[batch, d1, ...]`` floating tensor, one sigmoid per element.
      targets: same shape, values in ``[0, 1]``.
      sample_weight: non-negative weights broadcastable to ``targets.shape`` after trailing
        axes of size one are added (``[batch]`` weighs samples).
      smooth: a finite number ``> 0``; the loss is then always finite.
      reduction: ``"none"`` (shape ``targets.shape[1:]``), ``"sum"`` or ``"mean"`` over the
        columns. ``"weighted_mean"`` is refused.
      validate: check target ranges and weight values (copies a few numbers to the host).
      process_group: ``None``, or a ``torch.distributed`` group whose ranks hold the shards of
        one batch (see :func:`soft_precision_loss`).

    Example:
      >>> import torch
      >>> z, t = torch.zeros(3), torch.tensor([1.0, 0.0, 0.0])
      >>> round(float(soft_f1_loss(z, t, smooth=1e-6)), 4)  # 1 - 2 * 0.5 / (1.5 + 1)
      0.6

    References:
      Milletari, Navab & Ahmadi, "V-Net: Fully Convolutional Neural Networks for Volumetric
      Medical Image Segmentation", 3DV 2016 (the soft Dice, i.e. soft F1, form).
    """
    smooth = check_smooth(smooth)
    return _soft_loss(
        lambda tp, pp, ap: 1 - (2 * tp + smooth) / (pp + ap + smooth),
        logits,
        targets,
        sample_weight,
        reduction,
        validate,
        process_group,
    )


def cost_sensitive_cross_entropy(
    logits,
    labels,
    cost_matrix,
    *,
    ignore_index=None,
    reduction="mean",
    validate=True,
    process_group=None,
):
    r"""Cross-entropy of each element weighted by the cost of the mistake the model makes there.

    .. math::

        \ell_i = -\log \operatorname{softmax}(z_i)_{y_i}, \qquad
        w_i = C[y_i, \hat y_i], \quad \hat y_i = \arg\max_j z_{ij}

    The weight depends on the predicted class but carries no gradient (``argmax`` has none): it
    rescales each element's cross-entropy by how costly its current mistake is. Every pixel of
    a ``[batch, num_classes, height, width]`` segmentation map gets its own cost.

    Args:
      logits: ``[batch, num_classes, d1, ...]`` (or ``[num_classes]``) floating tensor.
      labels: ``[batch, d1, ...]`` integer class indices.
      cost_matrix: ``[num_classes, num_classes]`` non-negative costs, row = true class,
        column = predicted class.
      ignore_index: ``None`` or an integer label whose elements count in no sum (``"mean"``
        divides by the number of the others, ``"weighted_mean"`` by the sum of their costs).
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"`` (divides by the sum of
        the costs).
      validate: check label ranges and cost values (copies a few numbers to the host).
      process_group: ``None``, or a ``torch.distributed`` process group over which the
        ``"mean"`` and ``"weighted_mean"`` denominators (the number of elements not ignored, or
        the sum of their costs) are summed; each rank then returns the group's size times its
        own numerator over that global denominator, so that DDP's averaged gradient is the
        gradient of the global-batch loss and the mean over the ranks is the global loss (see
        the module's docstring). ``"sum"`` and ``"none"`` ignore it.

    Returns:
      The reduced loss (a 0-d tensor), or ``[batch, d1, ...]`` weighted losses for ``"none"``.

    Example:
      >>> import torch
      >>> cost = torch.tensor([[1.0, 1.0], [5.0, 1.0]])  # missing class 1 costs 5
      >>> logits = torch.tensor([[2.0, 0.0], [2.0, 0.0]])
      >>> [round(v, 4) for v in cost_sensitive_cross_entropy(
      ...     logits, torch.tensor([0, 1]), cost, reduction="none").tolist()]
      [0.1269, 10.6346]

    References:
      Elkan, "The Foundations of Cost-Sensitive Learning", IJCAI 2001.
    """
    check_reduction(reduction)
    ignore_index = check_ignore_index(ignore_index)
    process_group = _check_process_group(process_group)
    x = _floating("logits", logits)
    local = _local_reduction(reduction, process_group)
    safe, labels, keep = _labels(labels, x, validate, ignore_index, local)
    axis = _class_axis(x)
    n_classes = x.shape[axis]
    cost = _as_tensor("cost_matrix", cost_matrix, x)
    if tuple(cost.shape) != (n_classes, n_classes):
        fail(
            ValueError,
            "cost_matrix",
            f"shape ({n_classes}, {n_classes})",
            f"shape {tuple(cost.shape)}",
        )
    if validate:
        check_weight_values("cost_matrix", *_extremes(cost))
    predicted = x.detach().argmax(axis)
    weight = _masked(_lookup(cost.reshape(-1), safe * n_classes + predicted), keep)
    ignored = -100 if ignore_index is None else ignore_index
    loss = F.cross_entropy(x, labels, ignore_index=ignored, reduction="none") * weight
    result = _reduce(
        loss,
        weight,
        reduction,
        validate,
        "cost_matrix",
        keep=keep,
        process_group=process_group,
        ignore_index=ignore_index,
    )
    return _as_input_dtype(result, logits)


# ----------------------------------------------------------------------------- nn.Module wrappers


def _buffer(value):
    """A weight as a tensor for ``register_buffer``; ``None`` and dicts are kept as they are."""
    if value is None or isinstance(value, Mapping | torch.Tensor):
        return value
    value = torch.as_tensor(value)
    return value if value.is_floating_point() else value.to(torch.get_default_dtype())


class _Loss(torch.nn.Module):
    """Stores the hyperparameters; weight tensors become buffers so ``.to()`` moves them.

    Every module takes ``process_group=None``, checked when it is made and passed on to its
    function (see the docstring of :mod:`companion.torch` for how a group rescales the two
    means): make the module after ``torch.distributed.init_process_group``.
    """

    def __init__(self, process_group=None):
        super().__init__()
        self.process_group = _check_process_group(process_group)

    def _store(self, weights, **options):
        for name, value in weights.items():
            value = _buffer(value)
            if isinstance(value, torch.Tensor):
                self.register_buffer(name, value)
            else:
                setattr(self, name, value)
        for name, value in options.items():
            setattr(self, name, value)
        self._options = tuple(options)

    def extra_repr(self):
        return ", ".join(f"{name}={getattr(self, name)!r}" for name in self._options)


class SoftmaxCrossEntropy(_Loss):
    """:func:`softmax_cross_entropy` as a module; ``forward(logits, labels, sample_weight=None)``.

    Example:
      >>> import torch
      >>> loss = SoftmaxCrossEntropy(class_weight=[1.0, 3.0], reduction="weighted_mean")
      >>> round(float(loss(torch.tensor([[2.0, 0.0], [2.0, 0.0]]), torch.tensor([0, 1]))), 4)
      1.6269
    """

    def __init__(
        self,
        *,
        class_weight=None,
        ignore_index=None,
        label_smoothing=0.0,
        smoothing_weight="label",
        reduction="mean",
        validate=True,
        process_group=None,
    ):
        super().__init__(process_group)
        self._store(
            {"class_weight": class_weight},
            ignore_index=check_ignore_index(ignore_index),
            label_smoothing=check_label_smoothing(label_smoothing),
            smoothing_weight=check_smoothing_weight(smoothing_weight),
            reduction=check_reduction(reduction),
            validate=validate,
        )

    def forward(self, logits, labels, sample_weight=None):
        return softmax_cross_entropy(
            logits,
            labels,
            class_weight=self.class_weight,
            sample_weight=sample_weight,
            ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing,
            smoothing_weight=self.smoothing_weight,
            reduction=self.reduction,
            validate=self.validate,
            process_group=self.process_group,
        )


class LogitAdjustedCrossEntropy(_Loss):
    """:func:`logit_adjusted_cross_entropy` as a module; ``class_prior`` is a buffer.

    ``forward(logits, labels, sample_weight=None)``; ``tau`` is checked when constructed.

    Example:
      >>> import torch
      >>> loss = LogitAdjustedCrossEntropy([0.9, 0.1])
      >>> round(float(loss(torch.tensor([[2.0, 0.0], [2.0, 0.0]]), torch.tensor([0, 1]))), 4)
      2.1135
    """

    def __init__(
        self,
        class_prior,
        *,
        tau=1.0,
        class_weight=None,
        reduction="mean",
        validate=True,
        process_group=None,
    ):
        super().__init__(process_group)
        check_reduction(reduction)
        self._store(
            {"class_prior": class_prior, "class_weight": class_weight},
            tau=check_number("tau", tau, low=0.0),
            reduction=reduction,
            validate=validate,
        )

    def forward(self, logits, labels, sample_weight=None):
        return logit_adjusted_cross_entropy(
            logits,
            labels,
            class_prior=self.class_prior,
            tau=self.tau,
            class_weight=self.class_weight,
            sample_weight=sample_weight,
            reduction=self.reduction,
            validate=self.validate,
            process_group=self.process_group,
        )


class SigmoidCrossEntropy(_Loss):
    """:func:`sigmoid_cross_entropy` as a module; ``forward(logits, targets, sample_weight=None)``.

    Example:
      >>> import torch
      >>> loss = SigmoidCrossEntropy(pos_weight=3.0, reduction="sum")
      >>> round(float(loss(torch.tensor([[0.0, 0.0]]), torch.tensor([[1.0, 0.0]]))), 4)
      2.7726
    """

    def __init__(
        self,
        *,
        class_weight=None,
        pos_weight=None,
        label_smoothing=0.0,
        reduction="mean",
        validate=True,
        process_group=None,
    ):
        super().__init__(process_group)
        self._store(
            {"class_weight": class_weight, "pos_weight": pos_weight},
            label_smoothing=check_label_smoothing(label_smoothing),
            reduction=check_reduction(reduction),
            validate=validate,
        )

    def forward(self, logits, targets, sample_weight=None):
        return sigmoid_cross_entropy(
            logits,
            targets,
            class_weight=self.class_weight,
            sample_weight=sample_weight,
            pos_weight=self.pos_weight,
            label_smoothing=self.label_smoothing,
            reduction=self.reduction,
            validate=self.validate,
            process_group=self.process_group,
        )


class FocalLoss(_Loss):
    """:func:`focal_loss` as a module; a per-class ``alpha`` is a buffer.

    Example:
      >>> import torch
      >>> loss = FocalLoss(alpha=[0.25, 0.75], gamma=2.0, reduction="sum")
      >>> round(float(loss(torch.tensor([[2.0, 0.0], [2.0, 0.0]]), torch.tensor([0, 1]))), 4)
      1.238
    """

    def __init__(
        self,
        *,
        alpha=None,
        gamma=2.0,
        ignore_index=None,
        reduction="mean",
        validate=True,
        process_group=None,
    ):
        super().__init__(process_group)
        per_class = alpha if _is_per_class(alpha) else None
        self._store(
            {"alpha": per_class},
            gamma=gamma,
            ignore_index=check_ignore_index(ignore_index),
            reduction=check_reduction(reduction),
            validate=validate,
        )
        if per_class is None:
            self.alpha = alpha

    def forward(self, logits, labels):
        return focal_loss(
            logits,
            labels,
            alpha=self.alpha,
            gamma=self.gamma,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            validate=self.validate,
            process_group=self.process_group,
        )


class SigmoidFocalLoss(_Loss):
    """:func:`sigmoid_focal_loss` as a module.

    Example:
      >>> import torch
      >>> round(float(SigmoidFocalLoss()(torch.tensor([0.0]), torch.tensor([1.0]))), 4)
      0.0433
    """

    def __init__(
        self, *, alpha=0.25, gamma=2.0, reduction="mean", validate=True, process_group=None
    ):
        super().__init__(process_group)
        self._store({}, alpha=alpha, gamma=gamma, reduction=reduction, validate=validate)

    def forward(self, logits, targets):
        return sigmoid_focal_loss(
            logits,
            targets,
            alpha=self.alpha,
            gamma=self.gamma,
            reduction=self.reduction,
            validate=self.validate,
            process_group=self.process_group,
        )


class HuberLoss(_Loss):
    """:func:`huber_loss` as a module.

    Example:
      >>> import torch
      >>> HuberLoss(delta=1.0, reduction="none")(torch.tensor([0.5, 3.0]), torch.zeros(2)).tolist()
      [0.125, 2.5]
    """

    def __init__(self, *, delta=1.0, reduction="mean", process_group=None):
        super().__init__(process_group)
        self._store({}, delta=delta, reduction=reduction)

    def forward(self, prediction, target):
        return huber_loss(
            prediction,
            target,
            delta=self.delta,
            reduction=self.reduction,
            process_group=self.process_group,
        )


class DiceLoss(_Loss):
    """:func:`dice_loss` as a module.

    Example:
      >>> import torch
      >>> p = torch.tensor([[[0.9, 0.1], [0.2, 0.8]]])
      >>> round(float(DiceLoss()(p, torch.tensor([[[1.0, 0.0], [0.0, 1.0]]]))), 4)
      0.12
    """

    def __init__(
        self, *, smooth=1.0, ignore_index=None, reduction="mean", validate=True, process_group=None
    ):
        super().__init__(process_group)
        self._store(
            {},
            smooth=smooth,
            ignore_index=check_ignore_index(ignore_index),
            reduction=check_reduction(reduction),
            validate=validate,
        )

    def forward(self, probabilities, targets):
        return dice_loss(
            probabilities,
            targets,
            smooth=self.smooth,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            validate=self.validate,
            process_group=self.process_group,
        )


class SoftPrecisionLoss(_Loss):
    """:func:`soft_precision_loss` as a module; ``forward(logits, targets, sample_weight=None)``.

    Example:
      >>> import torch
      >>> loss = SoftPrecisionLoss(smooth=1e-6)
      >>> round(float(loss(torch.zeros(3), torch.tensor([1.0, 0.0, 0.0]))), 4)
      0.6667
    """

    _function = staticmethod(soft_precision_loss)

    def __init__(self, *, smooth=1.0, reduction="mean", validate=True, process_group=None):
        super().__init__(process_group)
        self._store(
            {},
            smooth=check_smooth(smooth),
            reduction=check_batch_reduction(reduction),
            validate=validate,
        )

    def forward(self, logits, targets, sample_weight=None):
        return self._function(
            logits,
            targets,
            sample_weight=sample_weight,
            smooth=self.smooth,
            reduction=self.reduction,
            validate=self.validate,
            process_group=self.process_group,
        )


class SoftF1Loss(SoftPrecisionLoss):
    """:func:`soft_f1_loss` as a module; ``forward(logits, targets, sample_weight=None)``.

    Example:
      >>> import torch
      >>> loss = SoftF1Loss(smooth=1e-6)
      >>> round(float(loss(torch.zeros(3), torch.tensor([1.0, 0.0, 0.0]))), 4)
      0.6
    """

    _function = staticmethod(soft_f1_loss)


class CostSensitiveCrossEntropy(_Loss):
    """:func:`cost_sensitive_cross_entropy` as a module; ``cost_matrix`` is a buffer.

    Example:
      >>> import torch
      >>> loss = CostSensitiveCrossEntropy([[1.0, 1.0], [5.0, 1.0]], reduction="sum")
      >>> round(float(loss(torch.tensor([[2.0, 0.0], [2.0, 0.0]]), torch.tensor([0, 1]))), 4)
      10.7616
    """

    def __init__(
        self, cost_matrix, *, ignore_index=None, reduction="mean", validate=True, process_group=None
    ):
        super().__init__(process_group)
        self._store(
            {"cost_matrix": cost_matrix},
            ignore_index=check_ignore_index(ignore_index),
            reduction=check_reduction(reduction),
            validate=validate,
        )

    def forward(self, logits, labels):
        return cost_sensitive_cross_entropy(
            logits,
            labels,
            self.cost_matrix,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            validate=self.validate,
            process_group=self.process_group,
        )
