r"""Reference implementations of weighted losses, written once against the Python array API.

Each function takes NumPy, CuPy or PyTorch arrays (or any array the
`array-api-compat <https://data-apis.org/array-api-compat/>`_ package knows), computes in the
namespace and on the device of its inputs, and returns an array of that namespace. These are the
ground truth that every framework module of :mod:`companion` is tested against.

Conventions shared by every implementation:

* ``logits`` have the class axis **last**: shape ``[..., num_classes]``; integer ``labels`` have
  the leading shape ``[...]``. (The framework modules follow their framework's own convention.)
* ``class_weight`` has one value per class and is looked up by each element's label;
  ``sample_weight`` is broadcast to the labels' shape after padding it with trailing axes of
  size one, so a ``[batch]`` weight applies per sample. An element's weight :math:`w_i` is their
  product.
* ``reduction`` is ``"none"`` (:math:`w_i\ell_i`), ``"sum"`` (:math:`\sum_i w_i\ell_i`),
  ``"mean"`` (:math:`\sum_i w_i\ell_i / N`) or ``"weighted_mean"``
  (:math:`\sum_i w_i\ell_i / \sum_i w_i`).
* ``ignore_index`` (the softmax losses and :func:`dice_loss`): an element whose label (for
  Dice, whose target) equals it counts in **no** numerator and **no** denominator. Its loss and
  its weight are 0 (``"none"`` gives 0 there, ``"sum"`` leaves it out), ``"mean"`` divides by
  :math:`N_{\text{kept}}`, the number of elements **not** ignored, and ``"weighted_mean"`` by
  :math:`\sum_{i\ \text{kept}} w_i`. It may lie outside ``[0, num_classes)`` (``-100``,
  ``255``); the label-range check skips the ignored elements. Labels that are all ignored are a
  ``ValueError`` naming ``labels`` for ``"mean"`` and ``"weighted_mean"``; with
  ``validate=False`` they give 0. For Dice, the ignored elements leave the three sums of their
  sample, and ``"mean"`` still counts samples.
* ``label_smoothing`` :math:`\varepsilon` (the cross-entropies): softmax targets become
  :math:`(1 - \varepsilon)\,\text{onehot}(y) + \varepsilon/K`, sigmoid targets
  :math:`t(1 - \varepsilon) + \varepsilon/2`; the weights and denominators do not change.
* :func:`soft_precision_loss` and :func:`soft_f1_loss` are losses of the whole batch: their
  expected counts are summed over the batch axis (axis 0), one value per column, so
  ``reduction`` works over the columns and ``"weighted_mean"`` is refused.
* ``validate=False`` skips the checks that read array values (label ranges, weight signs, the sum
  of the weights, labels that are all ignored), which would copy data from a GPU to the host;
  shape checks (a class axis that exists and holds at least one class included) always run.

Half precision (float16, bfloat16) is computed and accumulated in float32 and the result is
returned in the input's dtype, so a float16 ``"mean"`` over more than 65,504 elements is finite
(a ``"sum"`` that exceeds the float16 range is not). Logits are never exponentiated unshifted,
so finite inputs (float32 logits of :math:`\pm 10^4` included) give a finite loss and a finite
gradient.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from array_api_compat import array_namespace
from array_api_compat import device as _device

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
    "cost_sensitive_cross_entropy",
    "dice_loss",
    "focal_loss",
    "huber_grad",
    "huber_loss",
    "logit_adjusted_cross_entropy",
    "logit_adjustment",
    "sigmoid_cross_entropy",
    "sigmoid_focal_loss",
    "soft_f1_loss",
    "soft_precision_loss",
    "softmax_cross_entropy",
]


# ----------------------------------------------------------------------------- input handling


def _namespace(name, x):
    try:
        return array_namespace(x)
    except TypeError:
        fail(TypeError, name, "an array (NumPy, CuPy, PyTorch or array API)", type(x).__name__)


def _check_floating(xp, name, x):
    if not xp.isdtype(x.dtype, "real floating"):
        fail(TypeError, name, "a real floating-point array", f"dtype {x.dtype}")


def _as_array(xp, name, value, like):
    """``value`` (array, sequence or scalar) as an array of ``like``'s dtype and device."""
    try:
        return xp.asarray(value, dtype=like.dtype, device=_device(like))
    except (TypeError, ValueError, RuntimeError) as e:
        fail(TypeError, name, "an array, a sequence of numbers or a number", f"{value!r} ({e})")


def _extremes(xp, x):
    """Minimum, maximum and finiteness of ``x`` as Python values (reads them on the host)."""
    if hasattr(x, "detach"):  # a PyTorch tensor that requires grad: read its values only
        x = x.detach()
    return float(xp.min(x)), float(xp.max(x)), bool(xp.all(xp.isfinite(x)))


def _check_weights(xp, name, w):
    check_weight_values(name, *_extremes(xp, w))


def _check_logits(name, logits, *, class_axis=True):
    """The namespace of floating ``logits`` and the logits in the dtype to compute in.

    Half precision (float16, bfloat16) is computed in float32; each loss casts its result back
    to the input's dtype with :func:`_restore`. With ``class_axis``, the last axis holds the
    classes and must exist and hold at least one class: shape checks, run with
    ``validate=False`` too.
    """
    xp = _namespace(name, logits)
    _check_floating(xp, name, logits)
    if class_axis:
        if logits.ndim < 1:
            fail(ValueError, name, "at least one dimension (the class axis)", "a 0-d array")
        check_class_axis(logits.shape[-1], name)
    return xp, _working(xp, logits)


def _working(xp, x):
    """``x`` in float32 if it is a half-precision float, else ``x`` itself."""
    if xp.finfo(x.dtype).bits < 32:
        return xp.astype(x, xp.float32)
    return x


def _restore(xp, result, like):
    """The result in the dtype of the input ``like`` (half precision comes back as half)."""
    return result if result.dtype == like.dtype else xp.astype(result, like.dtype)


def _check_labels(xp, labels, logits, validate, ignore_index=None, reduction="mean"):
    """Integer class indices of shape ``logits.shape[:-1]`` in ``[0, num_classes)``.

    Returns the labels, with every element equal to ``ignore_index`` replaced by class 0 so that
    gathers stay in range, and the boolean mask of the elements that count (``None`` without
    ``ignore_index``). The range check skips the ignored elements; with ``validate``, labels
    that are all ignored are an error for ``"mean"`` and ``"weighted_mean"``.
    """
    labels_xp = _namespace("labels", labels)
    if labels_xp is not xp:
        fail(
            TypeError,
            "labels",
            f"an array of the same kind as logits ({xp.__name__})",
            type(labels).__name__,
        )
    if not xp.isdtype(labels.dtype, "integral"):
        fail(
            TypeError,
            "labels",
            "an integer array of class indices (not one-hot)",
            f"dtype {labels.dtype}",
        )
    if tuple(labels.shape) != tuple(logits.shape[:-1]):
        fail(
            ValueError,
            "labels",
            f"shape {tuple(logits.shape[:-1])} (the logits' shape without the class axis)",
            f"shape {tuple(labels.shape)}",
        )
    check_not_empty("labels", tuple(labels.shape))
    n_classes = logits.shape[-1]
    if ignore_index is None:
        if validate:
            check_label_range(int(xp.min(labels)), int(xp.max(labels)), n_classes)
        return labels, None
    keep = labels != ignore_index
    if validate:
        count = int(xp.sum(xp.astype(keep, xp.int64)))
        check_some_kept(count, math.prod(labels.shape), ignore_index, reduction)
        if count:
            kept = labels[keep]
            check_label_range(int(xp.min(kept)), int(xp.max(kept)), n_classes)
    return xp.where(keep, labels, xp.zeros_like(labels)), keep


def _check_targets(xp, targets, logits, validate, name="targets", ignore_index=None):
    """Probabilities or 0/1 targets of the same shape as ``logits``, in the logits' dtype.

    With ``ignore_index``, the elements equal to it are exempt from the range check and come
    back as 0, with the mask of the elements that count (else the mask is ``None``).
    """
    if _namespace(name, targets) is not xp:
        fail(
            TypeError,
            name,
            f"an array of the same kind as the logits ({xp.__name__})",
            type(targets).__name__,
        )
    if tuple(targets.shape) != tuple(logits.shape):
        fail(ValueError, name, f"shape {tuple(logits.shape)}", f"shape {tuple(targets.shape)}")
    check_not_empty(name, tuple(targets.shape))
    targets = xp.astype(targets, logits.dtype)
    if ignore_index is None:
        if validate:
            check_unit_interval(name, *_extremes(xp, targets))
        return targets
    keep = targets != ignore_index
    if validate and bool(xp.any(keep)):
        check_unit_interval(name, *_extremes(xp, targets[keep]))
    return xp.where(keep, targets, xp.zeros_like(targets)), keep


def _class_weight_table(xp, class_weight, n_classes, like, validate, name="class_weight"):
    """One weight per class as an array; a ``{class: weight}`` dict weighs missing classes 1."""
    class_weight = class_table(name, class_weight, n_classes)
    w = _as_array(xp, name, class_weight, like)
    if w.ndim == 0:
        fail(ValueError, name, f"one weight per class, shape ({n_classes},)", "a scalar")
    if tuple(w.shape) != (n_classes,):
        fail(
            ValueError,
            name,
            f"one weight per class, shape ({n_classes},)",
            f"shape {tuple(w.shape)}",
        )
    if validate:
        _check_weights(xp, name, w)
    return w


def _sample_weight(xp, sample_weight, shape, like, validate, name="sample_weight", what="labels"):
    """``sample_weight`` broadcast to ``shape`` (trailing axes of size one added first)."""
    w = _as_array(xp, name, sample_weight, like)
    w = xp.reshape(w, broadcast_shape(name, tuple(w.shape), tuple(shape), f"the {what}' shape"))
    if validate:
        _check_weights(xp, name, w)
    return xp.broadcast_to(w, tuple(shape))


def _one_hot(xp, labels, n_classes):
    """Boolean one-hot mask of shape ``labels.shape + (n_classes,)``."""
    classes = xp.arange(n_classes, dtype=labels.dtype, device=_device(labels))
    return xp.expand_dims(labels, axis=-1) == classes


def _pick(xp, one_hot, values):
    """``values[..., label]`` for every element, written as a masked sum so it runs everywhere."""
    return xp.sum(xp.where(one_hot, values, xp.zeros_like(values)), axis=-1)


def _multiply(a, b):
    if a is None:
        return b
    return a if b is None else a * b


def _reduce(
    xp,
    loss,
    weight,
    reduction,
    validate,
    weight_name="class_weight * sample_weight",
    *,
    keep=None,
    applied=False,
):
    """Apply the element weights and the reduction (see the module docstring).

    ``keep`` (a boolean mask, ``None`` for all) drops the ignored elements from every sum: their
    loss and weight are 0, ``"mean"`` divides by the number of kept elements and
    ``"weighted_mean"`` by the sum of the kept elements' weights. With ``applied``, ``loss`` is
    already weighted and ``weight`` only gives the divisor of ``"weighted_mean"``.
    """
    if weight is not None:
        weight = xp.broadcast_to(weight, tuple(loss.shape))
        if keep is not None:
            weight = xp.where(keep, weight, xp.zeros_like(weight))
        if not applied:
            loss = loss * weight
    if keep is not None:
        loss = xp.where(keep, loss, xp.zeros_like(loss))
    if reduction == "none":
        return loss
    total = xp.sum(loss)
    if reduction == "sum":
        return total
    if reduction == "mean" or weight is None:
        if keep is None:
            # An array, not a Python int: NumPy 1.x would promote a float32 scalar to float64.
            count = xp.asarray(math.prod(loss.shape), dtype=loss.dtype, device=_device(loss))
            return total / count
        count = xp.sum(xp.astype(keep, loss.dtype))
        # All ignored (possible with validate=False only): 0 rather than 0/0.
        return total / xp.where(count > 0, count, xp.ones_like(count))
    denominator = xp.sum(weight)
    if validate:
        check_positive_sum(weight_name, float(denominator))
    # With validate=False an all-zero weight gives 0 rather than 0/0.
    return total / xp.where(denominator > 0, denominator, xp.ones_like(denominator))


def _softplus(xp, x):
    """log(1 + exp(x)), finite with a finite gradient for every finite x."""
    return xp.logaddexp(xp.zeros_like(x), x)


def _log_softmax(xp, logits):
    shifted = logits - xp.max(logits, axis=-1, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=-1, keepdims=True))


def _modulating_factor(xp, one_minus_p, gamma):
    """(1 - p_t)^gamma with a finite gradient where 1 - p_t underflows to 0 and gamma < 1."""
    tiny = xp.finfo(one_minus_p.dtype).smallest_normal
    safe = xp.where(one_minus_p > tiny, one_minus_p, xp.full_like(one_minus_p, tiny))
    return safe**gamma


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
):
    r"""Softmax cross-entropy with integer labels, per-class and per-sample weights.

    .. math::

        \ell_i = -\sum_c q_{i,c} \log \operatorname{softmax}(z_i)_c, \qquad
        q_i = (1 - \varepsilon)\,\operatorname{onehot}(y_i) + \varepsilon / K, \qquad
        w_i = \text{class\_weight}_{y_i} \cdot \text{sample\_weight}_i

    with :math:`\varepsilon` = ``label_smoothing`` and :math:`K` classes
    (:math:`\varepsilon = 0` is the plain cross-entropy :math:`-\log p_{i,y_i}`). By default
    (``smoothing_weight="label"``) the whole smoothed loss of element :math:`i` is multiplied by
    :math:`w_i`. ``smoothing_weight="per_class"`` is PyTorch's convention for
    ``F.cross_entropy(weight=, label_smoothing=)``: each class's term carries that class's weight,

    .. math::

        w_i\ell_i = \text{sample\_weight}_i \Big[(1 - \varepsilon)\,
        \text{class\_weight}_{y_i}(-\log p_{i,y_i})
        + \frac{\varepsilon}{K}\sum_c \text{class\_weight}_c\,(-\log p_{i,c})\Big],

    while ``"weighted_mean"`` still divides by :math:`\sum_i w_i`.

    An element whose label is ``ignore_index`` has loss 0 and counts in no sum: ``"mean"``
    divides by the number of elements not ignored, ``"weighted_mean"`` by the sum of their
    weights.

    Args:
      logits: ``[..., num_classes]`` real floating array.
      labels: ``[...]`` integer class indices in ``[0, num_classes)``, or ``ignore_index``.
      class_weight: ``[num_classes]`` non-negative weights, or a ``{class: weight}`` dict
        (missing classes weigh 1).
      sample_weight: non-negative weights broadcastable to ``labels.shape`` after trailing axes
        of size one are added (``[batch]`` weights apply per sample).
      ignore_index: ``None`` or an integer label (``-100``, ``255``, or a class) to leave out.
      label_smoothing: :math:`\varepsilon` in ``[0, 1]``.
      smoothing_weight: ``"label"`` or ``"per_class"`` (see above).
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"``. With ``class_weight``
        alone, ``"weighted_mean"`` is PyTorch's ``CrossEntropyLoss(weight=...)``, with
        ``ignore_index`` and, under ``smoothing_weight="per_class"``, ``label_smoothing`` too.
      validate: check label ranges and weight signs (reads values on the host).

    Returns:
      The reduced loss (a 0-d array), or ``[...]`` per-element weighted losses for ``"none"``,
      in the logits' dtype.

    Example:
      >>> import numpy as np
      >>> logits, labels = np.array([[2.0, 0.0], [2.0, 0.0]]), np.array([0, 1])
      >>> round(float(softmax_cross_entropy(logits, labels, class_weight=[1.0, 3.0])), 4)
      3.2539
      >>> round(float(softmax_cross_entropy(
      ...     logits, labels, class_weight=[1.0, 3.0], reduction="weighted_mean")), 4)
      1.6269
      >>> round(float(softmax_cross_entropy(logits, np.array([0, -100]), ignore_index=-100)), 4)
      0.1269

    References:
      King & Zeng (2001); Szegedy et al., "Rethinking the Inception Architecture", CVPR 2016,
      for label smoothing; PyTorch ``torch.nn.CrossEntropyLoss`` for the ``weighted_mean`` form.
    """
    check_reduction(reduction)
    ignore_index = check_ignore_index(ignore_index)
    eps = check_label_smoothing(label_smoothing)
    smoothing_weight = check_smoothing_weight(smoothing_weight)
    xp, x = _check_logits("logits", logits)
    labels, keep = _check_labels(xp, labels, x, validate, ignore_index, reduction)
    n_classes = x.shape[-1]
    one_hot = _one_hot(xp, labels, n_classes)
    log_p = _log_softmax(xp, x)
    loss = -_pick(xp, one_hot, log_p)
    table = weight = None
    if class_weight is not None:
        table = _class_weight_table(xp, class_weight, n_classes, x, validate)
        weight = _pick(xp, one_hot, table)
    applied = False
    if eps > 0:
        if smoothing_weight == "per_class" and table is not None:
            uniform = -xp.sum(log_p * table, axis=-1) / n_classes
            loss = (1 - eps) * weight * loss + eps * uniform
            applied = True
        else:
            loss = (1 - eps) * loss - eps * xp.sum(log_p, axis=-1) / n_classes
    if sample_weight is not None:
        sw = _sample_weight(xp, sample_weight, labels.shape, x, validate)
        if applied:
            loss = loss * sw
        weight = _multiply(weight, sw)
    result = _reduce(xp, loss, weight, reduction, validate, keep=keep, applied=applied)
    return _restore(xp, result, logits)


def _log_prior(xp, class_prior, n_classes, like, validate):
    """``log(class_prior / sum(class_prior))`` as an array of ``like``'s dtype and device.

    The prior is read in at least float32, so that a tiny prior (1e-30) of half-precision logits
    keeps its finite logarithm.
    """
    wide = xp.finfo(like.dtype).bits >= 32
    prior = _as_array(xp, "class_prior", class_prior, like if wide else xp.astype(like, xp.float32))
    if tuple(prior.shape) != (n_classes,):
        fail(
            ValueError,
            "class_prior",
            f"one positive value per class, shape ({n_classes},)",
            "a scalar" if prior.ndim == 0 else f"shape {tuple(prior.shape)}",
        )
    if validate:
        check_prior_values("class_prior", *_extremes(xp, prior))
    # Normalised: counts and frequencies give the same prior (a common factor would shift every
    # logit alike, which the softmax and the argmax ignore anyway).
    return xp.astype(xp.log(prior) - xp.log(xp.sum(prior)), like.dtype)


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
):
    r"""Softmax cross-entropy of the logits shifted by :math:`\tau \log \pi` (logit adjustment).

    .. math::

        \ell_i = -\log \frac{e^{z_{i,y_i} + \tau\log\pi_{y_i}}}
                             {\sum_j e^{z_{ij} + \tau\log\pi_j}}

    with :math:`\pi` the class prior of the training labels (Menon et al., 2021). Training with
    it leaves the model's own logits :math:`z` fit for a balanced test set: a label :math:`y`
    must beat a more common label :math:`y'` by a margin of
    :math:`\tau(\log\pi_{y'} - \log\pi_y) > 0`. ``tau=1`` is the Balanced Softmax of Ren et
    al. (2020); ``tau=0`` is :func:`softmax_cross_entropy`. Predict with ``argmax`` of the plain
    logits, not of the adjusted ones.

    ``class_prior`` is normalised to sum to 1, so class counts may be passed as they are (a
    common factor shifts every logit alike and changes nothing). ``class_weight`` and
    ``sample_weight`` weigh the adjusted cross-entropy as in :func:`softmax_cross_entropy`.

    Args:
      logits: ``[..., num_classes]`` real floating array.
      labels: ``[...]`` integer class indices in ``[0, num_classes)``.
      class_prior: ``[num_classes]`` positive, finite class frequencies or counts, e.g.
        :func:`companion.weights.class_prior` of the training labels.
      tau: the strength of the adjustment, a finite number ``>= 0``.
      class_weight: ``[num_classes]`` non-negative weights, or a ``{class: weight}`` dict.
      sample_weight: non-negative weights broadcastable to ``labels.shape``.
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"``.
      validate: check label ranges, prior and weight values (reads values on the host).

    Example:
      >>> import numpy as np
      >>> logits, labels = np.array([[2.0, 0.0], [2.0, 0.0]]), np.array([0, 1])
      >>> round(float(logit_adjusted_cross_entropy(logits, labels, class_prior=[0.9, 0.1])), 4)
      2.1135

    References:
      Menon, Jayasumana, Rawat, Jain, Veit & Kumar, "Long-tail learning via logit adjustment",
      ICLR 2021; Ren et al., "Balanced Meta-Softmax for Long-Tailed Visual Recognition",
      NeurIPS 2020.
    """
    check_reduction(reduction)
    tau = check_number("tau", tau, low=0.0)
    xp = _namespace("logits", logits)
    _check_floating(xp, "logits", logits)
    if logits.ndim < 1:
        fail(ValueError, "logits", "at least one dimension (the class axis)", "a scalar")
    log_prior = _log_prior(xp, class_prior, logits.shape[-1], logits, validate)
    return softmax_cross_entropy(
        logits + tau * log_prior,
        labels,
        class_weight=class_weight,
        sample_weight=sample_weight,
        reduction=reduction,
        validate=validate,
    )


def logit_adjustment(logits, class_prior, tau=1.0, *, validate=True):
    r"""Post-hoc logit adjustment: :math:`z - \tau \log \pi`, for a model trained without it.

    A model trained with plain cross-entropy on a long-tailed set estimates
    :math:`p(y \mid x) \propto p(x \mid y)\,\pi_y`; subtracting :math:`\tau\log\pi_y` from
    its logits (``tau=1``) gives scores whose ``argmax`` is the Bayes rule for a balanced test
    set (Menon et al., 2021). The sign is the opposite of the loss's:
    :func:`logit_adjusted_cross_entropy` *adds* :math:`\tau\log\pi` during training, so that
    the plain logits come out adjusted; this *subtracts* it after training. ``class_prior`` is
    normalised to sum to 1, which changes the scores by a constant and the argmax not at all.

    Args:
      logits: ``[..., num_classes]`` real floating array.
      class_prior: ``[num_classes]`` positive, finite class frequencies or counts.
      tau: a finite number ``>= 0``.
      validate: check the prior's values (reads them on the host).

    Returns:
      The adjusted logits, of the logits' shape and dtype.

    Example:
      >>> import numpy as np
      >>> logit_adjustment(np.array([[1.0, 0.0]]), [0.5, 0.5]).round(4).tolist()
      [[1.6931, 0.6931]]
    """
    tau = check_number("tau", tau, low=0.0)
    xp = _namespace("logits", logits)
    _check_floating(xp, "logits", logits)
    if logits.ndim < 1:
        fail(ValueError, "logits", "at least one dimension (the class axis)", "a scalar")
    return logits - tau * _log_prior(xp, class_prior, logits.shape[-1], logits, validate)


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
):
    r"""Binary / multi-label sigmoid cross-entropy with class, sample and positive weights.

    .. math::

        \ell_i = -\big[\, p\, t_i \log\sigma(z_i) + (1 - t_i)\log(1 - \sigma(z_i)) \big]
               = p\, t_i\,\operatorname{softplus}(-z_i) + (1 - t_i)\operatorname{softplus}(z_i)

    where :math:`p` is ``pos_weight`` (it scales only the positive term, as in TensorFlow's
    ``weighted_cross_entropy_with_logits`` and PyTorch's ``BCEWithLogitsLoss(pos_weight=)``), and
    :math:`w_i` is ``class_weight`` of the element's column times ``sample_weight``. With
    ``label_smoothing`` :math:`\varepsilon`, the targets become
    :math:`t_i (1 - \varepsilon) + \varepsilon / 2` first (Keras'
    ``BinaryCrossentropy(label_smoothing=)``); the weights are unchanged.

    Args:
      logits: ``[..., num_labels]`` real floating array (any shape; the last axis holds the labels).
      targets: same shape, values in ``[0, 1]`` (0/1 labels or probabilities).
      class_weight: ``[num_labels]`` weights, one per column of the last axis.
      sample_weight: weights broadcastable to ``targets.shape`` after trailing axes of size one
        are added.
      pos_weight: a number or ``[num_labels]`` weights for the positive term.
      label_smoothing: :math:`\varepsilon` in ``[0, 1]``.
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"``.
      validate: check target ranges and weight signs (reads values on the host).

    Example:
      >>> import numpy as np
      >>> z, t = np.array([[0.0, 0.0]]), np.array([[1.0, 0.0]])
      >>> round(float(sigmoid_cross_entropy(z, t, pos_weight=3.0, reduction="sum")), 4)
      2.7726

    References:
      TensorFlow ``tf.nn.weighted_cross_entropy_with_logits``; Elkan (2001) on costs and weights.
    """
    check_reduction(reduction)
    eps = check_label_smoothing(label_smoothing)
    xp, x = _check_logits("logits", logits)
    targets = _check_targets(xp, targets, x, validate)
    if eps > 0:
        targets = targets * (1 - eps) + eps / 2
    positive = targets * _softplus(xp, -x)
    if pos_weight is not None:
        p = _as_array(xp, "pos_weight", pos_weight, x)
        if p.ndim > 1 or (p.ndim == 1 and p.shape[0] != logits.shape[-1]):
            fail(
                ValueError,
                "pos_weight",
                f"a number or one weight per label, shape ({logits.shape[-1]},)",
                f"shape {tuple(p.shape)}",
            )
        if validate:
            _check_weights(xp, "pos_weight", p)
        positive = positive * p
    loss = positive + (1 - targets) * _softplus(xp, x)
    weight = None
    if class_weight is not None:
        weight = _class_weight_table(xp, class_weight, x.shape[-1], x, validate)
    if sample_weight is not None:
        weight = _multiply(
            weight, _sample_weight(xp, sample_weight, x.shape, x, validate, what="targets")
        )
    return _restore(xp, _reduce(xp, loss, weight, reduction, validate), logits)


# ----------------------------------------------------------------------------- focal losses


def focal_loss(
    logits, labels, *, alpha=None, gamma=2.0, ignore_index=None, reduction="mean", validate=True
):
    r"""Multi-class (softmax) focal loss with a scalar or per-class ``alpha``.

    .. math::

        \ell_i = -\alpha_{y_i}\,(1 - p_{i,y_i})^{\gamma}\,\log p_{i,y_i}, \qquad
        p_i = \operatorname{softmax}(z_i)

    A scalar ``alpha`` multiplies every class alike (as Keras' ``CategoricalFocalCrossentropy``
    does); a ``[num_classes]`` vector is looked up by label. :math:`\alpha_{y_i}` is the element's
    weight, so ``reduction="weighted_mean"`` divides by :math:`\sum_i \alpha_{y_i}`. With
    ``gamma=0`` and ``alpha=class_weight`` this is :func:`softmax_cross_entropy` with that
    ``class_weight``, for every reduction.

    Args:
      logits: ``[..., num_classes]`` real floating array.
      labels: ``[...]`` integer class indices.
      alpha: ``None``, a non-negative number, or ``[num_classes]`` non-negative weights.
      gamma: focusing parameter, ``gamma >= 0``.
      ignore_index: ``None`` or an integer label whose elements count in no sum (``"mean"``
        divides by the number of the others, ``"weighted_mean"`` by the sum of their alphas).
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"``.
      validate: check label ranges and weight signs (reads values on the host).

    Example:
      >>> import numpy as np
      >>> logits = np.array([[3.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
      >>> [round(float(v), 4) for v in focal_loss(logits, np.array([0, 0]), reduction="none")]
      [0.0008, 0.4883]

    References:
      Lin, Goyal, Girshick, He & Dollár, "Focal Loss for Dense Object Detection", ICCV 2017.
    """
    check_reduction(reduction)
    gamma = check_number("gamma", gamma, low=0.0)
    ignore_index = check_ignore_index(ignore_index)
    xp, x = _check_logits("logits", logits)
    labels, keep = _check_labels(xp, labels, x, validate, ignore_index, reduction)
    n_classes = x.shape[-1]
    one_hot = _one_hot(xp, labels, n_classes)
    log_p = _pick(xp, one_hot, _log_softmax(xp, x))
    loss = -_modulating_factor(xp, -xp.expm1(log_p), gamma) * log_p
    weight = None
    if alpha is not None:
        if _is_per_class(alpha):
            weight = _pick(
                xp, one_hot, _class_weight_table(xp, alpha, n_classes, x, validate, "alpha")
            )
        else:
            weight = xp.full_like(loss, check_number("alpha", _scalar(alpha), low=0.0))
    result = _reduce(xp, loss, weight, reduction, validate, "alpha", keep=keep)
    return _restore(xp, result, logits)


def _is_per_class(value):
    if hasattr(value, "ndim"):
        return value.ndim > 0
    return isinstance(value, Mapping | list | tuple)


def _scalar(value):
    return float(value) if getattr(value, "ndim", None) == 0 else value


def sigmoid_focal_loss(logits, targets, *, alpha=0.25, gamma=2.0, reduction="mean", validate=True):
    r"""Binary / multi-label focal loss in the RetinaNet form.

    .. math::

        \ell_i = \alpha_{t,i}\,(1 - p_{t,i})^{\gamma}\,\mathrm{BCE}(z_i, t_i), \quad
        p_{t} = p\,t + (1 - p)(1 - t), \quad \alpha_t = \alpha\,t + (1 - \alpha)(1 - t)

    with :math:`p = \sigma(z)`. ``alpha`` weighs the positives and ``1 - alpha`` the negatives;
    ``alpha=None`` weighs neither. :math:`\alpha_t` is the element's weight for
    ``reduction="weighted_mean"``.

    Args:
      logits: real floating array of any shape.
      targets: same shape, values in ``[0, 1]``.
      alpha: ``None`` or a number in ``[0, 1]``.
      gamma: focusing parameter, ``gamma >= 0``.
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"``.
      validate: check target ranges (reads values on the host).

    Example:
      >>> import numpy as np
      >>> round(float(sigmoid_focal_loss(np.array([0.0]), np.array([1.0]))), 4)
      0.0433

    References:
      Lin et al., ICCV 2017; torchvision ``torchvision.ops.sigmoid_focal_loss``.
    """
    check_reduction(reduction)
    gamma = check_number("gamma", gamma, low=0.0)
    if alpha is not None:
        alpha = check_number("alpha", alpha, low=0.0, high=1.0)
    xp, x = _check_logits("logits", logits, class_axis=False)
    targets = _check_targets(xp, targets, x, validate)
    softplus_neg, softplus_pos = _softplus(xp, -x), _softplus(xp, x)
    bce = targets * softplus_neg + (1 - targets) * softplus_pos
    # 1 - p_t = t (1 - p) + (1 - t) p, with p = exp(-softplus(-z)) and 1 - p = exp(-softplus(z)).
    one_minus_p_t = targets * xp.exp(-softplus_pos) + (1 - targets) * xp.exp(-softplus_neg)
    loss = _modulating_factor(xp, one_minus_p_t, gamma) * bce
    weight = None if alpha is None else alpha * targets + (1 - alpha) * (1 - targets)
    return _restore(xp, _reduce(xp, loss, weight, reduction, validate, "alpha"), logits)


# ----------------------------------------------------------------------------- regression


def huber_loss(prediction, target, *, delta=1.0, reduction="mean", validate=True):
    r"""Huber loss: quadratic for small residuals, linear for large ones.

    .. math::

        \ell_i = \begin{cases} \tfrac12 d_i^2 & |d_i| \le \delta \\
                 \delta\,(|d_i| - \tfrac12\delta) & |d_i| > \delta \end{cases},
        \qquad d_i = \text{prediction}_i - \text{target}_i

    Written as :math:`\tfrac12 q^2 + \delta(|d| - q)` with :math:`q = \min(|d|, \delta)`, which
    has a finite gradient everywhere (no branch is ever evaluated outside its domain).
    ``torch.nn.HuberLoss(delta=δ)`` and ``keras.losses.Huber(delta=δ)`` compute the same.

    Args:
      prediction: real floating array of any shape.
      target: array of the same shape.
      delta: threshold between the quadratic and linear parts, ``delta > 0``.
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"`` (the last equals
        ``"mean"``: there are no weights).
      validate: unused here (there are no values to check); kept for a uniform signature.

    Example:
      >>> import numpy as np
      >>> huber_loss(np.array([0.5, 3.0]), np.zeros(2), reduction="none").tolist()
      [0.125, 2.5]

    References:
      Huber, "Robust Estimation of a Location Parameter", Ann. Math. Statist. 35(1), 1964.
    """
    check_reduction(reduction)
    delta = check_number("delta", delta, low=0.0, low_open=True)
    residual = _residual(prediction, target)
    xp = array_namespace(residual)
    size = xp.abs(residual)
    q = xp.where(size <= delta, size, xp.full_like(size, delta))
    result = _reduce(xp, 0.5 * q * q + delta * (size - q), None, reduction, validate)
    return _restore(xp, result, prediction)


def huber_grad(prediction, target, *, delta=1.0):
    r"""The derivative of the element-wise Huber loss with respect to ``prediction``.

    .. math::

        \frac{\partial \ell_i}{\partial \text{prediction}_i}
        = \operatorname{clip}(d_i, -\delta, \delta)

    It is continuous at :math:`|d| = \delta`, where both pieces give :math:`\pm\delta`. The
    gradient of ``huber_loss(..., reduction="sum")`` is this array, to rounding: automatic
    differentiation of :math:`\delta(|d| - q)` may differ from :math:`\pm\delta` in the last bit.

    Example:
      >>> import numpy as np
      >>> huber_grad(np.array([0.5, 3.0, -3.0]), np.zeros(3)).tolist()
      [0.5, 1.0, -1.0]
    """
    delta = check_number("delta", delta, low=0.0, low_open=True)
    residual = _residual(prediction, target)
    xp = array_namespace(residual)
    return _restore(xp, xp.clip(residual, -delta, delta), prediction)


def _residual(prediction, target):
    xp = _namespace("prediction", prediction)
    _check_floating(xp, "prediction", prediction)
    if _namespace("target", target) is not xp:
        fail(
            TypeError,
            "target",
            f"an array of the same kind as prediction ({xp.__name__})",
            type(target).__name__,
        )
    if tuple(target.shape) != tuple(prediction.shape):
        fail(
            ValueError,
            "target",
            f"shape {tuple(prediction.shape)} (the prediction's)",
            f"shape {tuple(target.shape)}",
        )
    check_not_empty("prediction", tuple(prediction.shape))
    x = _working(xp, prediction)
    return x - xp.astype(target, x.dtype)


# ----------------------------------------------------------------------------- segmentation


def dice_loss(
    probabilities, targets, *, smooth=1.0, ignore_index=None, reduction="mean", validate=True
):
    r"""Soft Dice loss, one value per sample.

    .. math::

        \ell_n = 1 - \frac{2\sum_k p_{n,k} t_{n,k} + s}{\sum_k p_{n,k} + \sum_k t_{n,k} + s}

    where :math:`k` runs over every axis but the first (pixels, and classes if there are any) and
    :math:`s` is ``smooth``. ``reduction`` then works over the samples (``"weighted_mean"`` equals
    ``"mean"``: there are no weights). With ``ignore_index``, every element whose target equals
    it is left out of all three sums of its sample; a sample whose elements are all ignored has
    loss :math:`1 - s/s = 0`, and ``"mean"`` still counts it (it divides by the number of
    samples).

    Args:
      probabilities: ``[batch, ...]`` predicted probabilities in ``[0, 1]``.
      targets: same shape, values in ``[0, 1]``, or ``ignore_index``.
      smooth: ``smooth > 0``; it keeps an empty mask predicted empty at loss 0 instead of 0/0.
      ignore_index: ``None`` or an integer target value (e.g. ``255``) marking elements to
        leave out.
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"``.
      validate: check that both inputs lie in ``[0, 1]`` (reads values on the host).

    Example:
      >>> import numpy as np
      >>> p = np.array([[[0.9, 0.1], [0.2, 0.8]]])
      >>> t = np.array([[[1.0, 0.0], [0.0, 1.0]]])
      >>> round(float(dice_loss(p, t)), 4)
      0.12
      >>> t[0, 0, 1] = 255.0
      >>> round(float(dice_loss(p, t, ignore_index=255)), 4)
      0.102

    References:
      Milletari, Navab & Ahmadi, "V-Net", 3DV 2016; Ronneberger et al. (2015) for the U-Net setting.
    """
    check_reduction(reduction)
    smooth = check_number("smooth", smooth, low=0.0, low_open=True)
    ignore_index = check_ignore_index(ignore_index)
    xp, p = _check_logits("probabilities", probabilities, class_axis=False)
    if p.ndim < 2:
        fail(
            ValueError,
            "probabilities",
            "shape [batch, ...] with at least two dimensions",
            f"shape {tuple(p.shape)}",
        )
    t = _check_targets(xp, targets, p, validate, ignore_index=ignore_index)
    if validate:
        check_unit_interval("probabilities", *_extremes(xp, p))
    if ignore_index is not None:
        t, keep = t
        p = xp.where(keep, p, xp.zeros_like(p))
    axes = tuple(range(1, p.ndim))
    overlap = xp.sum(p * t, axis=axes)
    total = xp.sum(p, axis=axes) + xp.sum(t, axis=axes)
    loss = 1 - (2 * overlap + smooth) / (total + smooth)
    return _restore(xp, _reduce(xp, loss, None, reduction, validate), probabilities)


def _soft_counts(logits, targets, sample_weight, validate):
    r"""The namespace and the expected counts TP, PP, AP, one per column (summed over axis 0).

    ``p = sigmoid(logits)`` is :math:`e^{-\operatorname{softplus}(-z)}`, finite with a finite
    gradient for every finite logit.
    """
    xp, x = _check_logits("logits", logits, class_axis=False)
    if x.ndim < 1:
        fail(ValueError, "logits", "at least one dimension (the batch axis)", "a 0-d array")
    t = _check_targets(xp, targets, x, validate)
    p = xp.exp(-_softplus(xp, -x))
    if sample_weight is not None:
        w = _sample_weight(xp, sample_weight, x.shape, x, validate, what="targets")
        p_weighted, t_weighted = w * p, w * t
    else:
        p_weighted, t_weighted = p, t
    return xp, (
        xp.sum(p_weighted * t, axis=0),
        xp.sum(p_weighted, axis=0),
        xp.sum(t_weighted, axis=0),
    )


def soft_precision_loss(
    logits, targets, *, sample_weight=None, smooth=1.0, reduction="mean", validate=True
):
    r"""One minus the soft precision of the batch, one value per column.

    .. math::

        \ell_c = 1 - \frac{TP_c + s}{PP_c + s}, \qquad
        TP_c = \sum_i w_i\, p_{i,c}\, t_{i,c}, \quad PP_c = \sum_i w_i\, p_{i,c}

    with :math:`p = \sigma(z)`, :math:`s` = ``smooth`` and the sums over the batch axis (axis 0)
    only: every element of ``targets.shape[1:]`` is a column (a label of a multi-label problem, a
    pixel). The counts are expected counts under the predicted probabilities, which makes the
    precision :math:`TP / (TP + FP)` differentiable. The loss is **non-decomposable**: its value
    on a batch is not a sum of per-sample terms but depends on the whole batch, so the batch
    size (and, under data parallelism, summing the counts over the devices) changes it.

    Args:
      logits: ``[batch]`` or ``[batch, d1, ...]`` real floating array, one sigmoid per element.
      targets: same shape, values in ``[0, 1]``.
      sample_weight: non-negative weights broadcastable to ``targets.shape`` after trailing
        axes of size one are added (``[batch]`` weighs samples).
      smooth: a finite number ``> 0``; the loss is then always finite.
      reduction: ``"none"`` (shape ``targets.shape[1:]``, 0-d for ``[batch]``), ``"sum"`` or
        ``"mean"`` over the columns. ``"weighted_mean"`` is refused: there are no element
        weights to divide by.
      validate: check target ranges and weight values (reads values on the host).

    Example:
      >>> import numpy as np
      >>> z, t = np.array([0.0, 0.0, 0.0]), np.array([1.0, 0.0, 0.0])
      >>> round(float(soft_precision_loss(z, t, smooth=1e-6)), 4)  # 1 - 0.5 / 1.5
      0.6667

    References:
      A differentiable surrogate of precision built from expected counts, as the soft Dice of
      Milletari, Navab & Ahmadi, "V-Net", 3DV 2016, is of F1.
    """
    check_batch_reduction(reduction)
    smooth = check_smooth(smooth)
    xp, (tp, pp, _) = _soft_counts(logits, targets, sample_weight, validate)
    loss = 1 - (tp + smooth) / (pp + smooth)
    return _restore(xp, _reduce(xp, loss, None, reduction, validate), logits)


def soft_f1_loss(
    logits, targets, *, sample_weight=None, smooth=1.0, reduction="mean", validate=True
):
    r"""One minus the soft F1 score of the batch, one value per column (the batch's soft Dice).

    .. math::

        \ell_c = 1 - \frac{2\,TP_c + s}{PP_c + AP_c + s}, \qquad
        TP_c = \sum_i w_i\, p_{i,c}\, t_{i,c}, \quad PP_c = \sum_i w_i\, p_{i,c}, \quad
        AP_c = \sum_i w_i\, t_{i,c}

    with :math:`p = \sigma(z)`, :math:`s` = ``smooth`` and the sums over the batch axis (axis 0)
    only. :math:`F_1 = 2TP / (2TP + FP + FN) = 2TP / (PP + AP)`, with expected counts in place of
    counts: this is the soft Dice coefficient of Milletari et al. (2016) taken over the batch
    rather than over one sample, so it equals :func:`dice_loss` of the batch seen as one sample.
    The loss is **non-decomposable**: its value on a batch depends on the whole batch, so the
    batch size (and, under data parallelism, summing the counts over the devices) changes it.

    Args:
      logits: ``[batch]`` or ``[batch, d1, ...]`` real floating array, one sigmoid per element.
      targets: same shape, values in ``[0, 1]``.
      sample_weight: non-negative weights broadcastable to ``targets.shape`` after trailing
        axes of size one are added (``[batch]`` weighs samples).
      smooth: a finite number ``> 0``; the loss is then always finite.
      reduction: ``"none"`` (shape ``targets.shape[1:]``, 0-d for ``[batch]``), ``"sum"`` or
        ``"mean"`` over the columns. ``"weighted_mean"`` is refused.
      validate: check target ranges and weight values (reads values on the host).

    Example:
      >>> import numpy as np
      >>> z, t = np.array([0.0, 0.0, 0.0]), np.array([1.0, 0.0, 0.0])
      >>> round(float(soft_f1_loss(z, t, smooth=1e-6)), 4)  # 1 - 2 * 0.5 / (1.5 + 1)
      0.6

    References:
      Milletari, Navab & Ahmadi, "V-Net: Fully Convolutional Neural Networks for Volumetric
      Medical Image Segmentation", 3DV 2016 (the soft Dice, i.e. soft F1, form).
    """
    check_batch_reduction(reduction)
    smooth = check_smooth(smooth)
    xp, (tp, pp, ap) = _soft_counts(logits, targets, sample_weight, validate)
    loss = 1 - (2 * tp + smooth) / (pp + ap + smooth)
    return _restore(xp, _reduce(xp, loss, None, reduction, validate), logits)


def cost_sensitive_cross_entropy(
    logits, labels, cost_matrix, *, ignore_index=None, reduction="mean", validate=True
):
    r"""Cross-entropy of each element weighted by the cost of the mistake the model makes there.

    .. math::

        \ell_i = -\log \operatorname{softmax}(z_i)_{y_i}, \qquad
        w_i = C[y_i, \hat y_i], \quad \hat y_i = \arg\max_j z_{ij}

    The weight depends on the predicted class but carries no gradient (``argmax`` has none): it
    rescales each element's cross-entropy by how costly its current mistake is. Works for any
    leading shape, so every pixel of a segmentation map gets its own cost.

    Args:
      logits: ``[..., num_classes]`` real floating array.
      labels: ``[...]`` integer class indices.
      cost_matrix: ``[num_classes, num_classes]`` non-negative costs, row = true class,
        column = predicted class.
      ignore_index: ``None`` or an integer label whose elements count in no sum (``"mean"``
        divides by the number of the others, ``"weighted_mean"`` by the sum of their costs).
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"`` (divides by the sum of
        the costs).
      validate: check label ranges and cost signs (reads values on the host).

    Example:
      >>> import numpy as np
      >>> cost = np.array([[1.0, 1.0], [5.0, 1.0]])  # missing class 1 costs 5
      >>> logits = np.array([[2.0, 0.0], [2.0, 0.0]])
      >>> [round(float(v), 4) for v in cost_sensitive_cross_entropy(
      ...     logits, np.array([0, 1]), cost, reduction="none")]
      [0.1269, 10.6346]

    References:
      Elkan, "The Foundations of Cost-Sensitive Learning", IJCAI 2001.
    """
    check_reduction(reduction)
    ignore_index = check_ignore_index(ignore_index)
    xp, x = _check_logits("logits", logits)
    labels, keep = _check_labels(xp, labels, x, validate, ignore_index, reduction)
    n_classes = x.shape[-1]
    cost = _as_array(xp, "cost_matrix", cost_matrix, x)
    if tuple(cost.shape) != (n_classes, n_classes):
        fail(
            ValueError,
            "cost_matrix",
            f"shape ({n_classes}, {n_classes})",
            f"shape {tuple(cost.shape)}",
        )
    if validate:
        _check_weights(xp, "cost_matrix", cost)
    loss = -_pick(xp, _one_hot(xp, labels, n_classes), _log_softmax(xp, x))
    predicted = xp.argmax(x, axis=-1)
    flat = xp.astype(labels, predicted.dtype) * n_classes + predicted
    weight = xp.reshape(
        xp.take(xp.reshape(cost, (-1,)), xp.reshape(flat, (-1,)), axis=0), tuple(labels.shape)
    )
    result = _reduce(xp, loss, weight, reduction, validate, "cost_matrix", keep=keep)
    return _restore(xp, result, logits)
