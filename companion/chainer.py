r"""The weighted losses of :mod:`companion.reference`, built from ``chainer.functions``.

Every function takes NumPy arrays, CuPy arrays (on a GPU Chainer can use) or
:class:`chainer.Variable`\ s, computes with the array module of its input
(``chainer.backend.get_array_module``) and returns a differentiable :class:`chainer.Variable`.
The numbers are the reference's: the same weights, reductions and stable formulations.

Chainer's convention puts the class axis **second**, as ``F.softmax_cross_entropy`` does:

* ``logits`` are ``[batch, num_classes, d1, ...]`` and integer ``labels`` ``[batch, d1, ...]``
  (int32 or int64);
* for the sigmoid losses axis 1 holds the labels of each element (``[batch, num_labels, ...]``),
  so ``class_weight`` and ``pos_weight`` (``[num_labels]``) apply along axis 1;
* ``sample_weight`` is broadcast to the labels' (or targets') shape after trailing axes of size
  one are added, so a ``[batch]`` weight applies per sample.

Weights (``class_weight``, ``sample_weight``, ``pos_weight``, ``alpha``, ``cost_matrix``) and the
targets are constants: sequences, ``{class: weight}`` dicts (missing classes weigh 1), arrays or
Variables, whose values carry no gradient. ``reduction`` is ``"none"``, ``"sum"``, ``"mean"``
(divides by the number of elements) or ``"weighted_mean"`` (divides by the sum of the weights, as
``F.average(loss, weights=w)`` does). ``validate=False`` skips the checks that read values (label
ranges, weight signs, the sum of the weights), which copy data from a GPU; shape checks always run.

Importing this module imports Chainer 7, whose import needs ``numpy.distutils`` and
``pkg_resources``: see :func:`_import_chainer`.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Mapping

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
    "huber_loss",
    "logit_adjusted_cross_entropy",
    "sigmoid_cross_entropy",
    "sigmoid_focal_loss",
    "soft_f1_loss",
    "soft_precision_loss",
    "softmax_cross_entropy",
]

# ----------------------------------------------------------------------------- importing Chainer

# The warnings that importing Chainer 7 raises on this environment, and nothing else.
_IMPORT_WARNINGS = (
    (UserWarning, r"pkg_resources is deprecated as an API"),
    (DeprecationWarning, r"The distutils package is deprecated"),
    (DeprecationWarning, r"The distutils\.sysconfig module is deprecated"),
    (DeprecationWarning, r"\s*`numpy\.distutils` is deprecated"),
)


def _is_distutils(name):
    return name == "distutils" or name.startswith("distutils.")


def _import_numpy_distutils():
    """Import ``numpy.distutils.system_info`` against the standard library's ``distutils``.

    setuptools installs, at start-up, a finder that makes ``import distutils`` load its own copy,
    and the copy of setuptools 80 has no ``distutils.msvccompiler``, which ``numpy.distutils``
    imports. So the finder and any ``distutils`` already loaded are set aside while
    ``numpy.distutils`` is imported, and put back afterwards: ``numpy.distutils`` keeps the
    standard library's copy (and patches its classes, not setuptools'), and everything else sees
    the ``distutils`` it saw before.
    """
    saved = {name: module for name, module in sys.modules.items() if _is_distutils(name)}
    finders = [f for f in sys.meta_path if type(f).__module__ == "_distutils_hack"]
    for name in saved:
        del sys.modules[name]
    for finder in finders:
        sys.meta_path.remove(finder)
    try:
        importlib.import_module("numpy.distutils.system_info")
    finally:
        for name in [name for name in sys.modules if _is_distutils(name)]:
            del sys.modules[name]
        sys.modules.update(saved)
        sys.meta_path[:0] = finders


def _import_chainer():
    """Import Chainer 7 in any interpreter, after any other framework, without a warning.

    ``import chainer`` imports ``numpy.distutils.system_info`` (see
    :func:`_import_numpy_distutils`) and ``pkg_resources``; only the deprecation warnings of those
    two imports are silenced.
    """
    with warnings.catch_warnings():
        for category, message in _IMPORT_WARNINGS:
            warnings.filterwarnings("ignore", message=message, category=category)
        if "chainer" not in sys.modules and "numpy.distutils.system_info" not in sys.modules:
            _import_numpy_distutils()
        return importlib.import_module("chainer")


chainer = _import_chainer()
F = chainer.functions
get_array_module = chainer.backend.get_array_module

# ----------------------------------------------------------------------------- input handling


def _array(x):
    return x.array if isinstance(x, chainer.Variable) else x


def _check_array(name, x):
    """The array of ``x`` (a Variable or an array Chainer computes with)."""
    array = _array(x)
    if not isinstance(array, chainer.get_array_types()):
        fail(
            TypeError,
            name,
            "a chainer.Variable or an array (NumPy or CuPy)",
            type(x).__name__,
        )
    return array


def _check_floating(name, x):
    array = _check_array(name, x)
    if array.dtype.kind != "f":
        fail(TypeError, name, "a real floating-point array", f"dtype {array.dtype}")
    return array


def _check_same_kind(name, array, like, like_name):
    xp = get_array_module(like)
    if get_array_module(array) is not xp:
        fail(
            TypeError,
            name,
            f"an array of the same kind as {like_name} ({xp.__name__})",
            type(array).__name__,
        )


def _check_logits(logits):
    """Floating logits with a class axis of at least one class: ``[batch, num_classes, ...]``
    (shape checks, run with ``validate=False`` too)."""
    x = _check_floating("logits", logits)
    if x.ndim < 2:
        fail(
            ValueError,
            "logits",
            "shape [batch, num_classes, ...] with the class axis second",
            f"shape {x.shape}",
        )
    check_class_axis(x.shape[1])
    return x


def _working(variable, array):
    """A half-precision input (float16) as float32, both the Variable (or array) and its array:
    half precision is computed and summed in float32 (a float16 sum of more than 65,504 ones is
    ``inf``), and :func:`_restore` casts the result back."""
    if array.dtype.itemsize < 4:
        return F.cast(variable, "float32"), array.astype("float32")
    return variable, array


def _restore(result, array):
    """The result in the dtype of the input array."""
    return result if result.dtype == array.dtype else F.cast(result, array.dtype)


def _check_labels(labels, x, validate, ignore_index=None, reduction="mean"):
    """Integer class indices of shape ``[batch, d1, ...]`` in ``[0, num_classes)``.

    Returns the labels, with every element equal to ``ignore_index`` replaced by class 0, and
    the boolean mask of the elements that count (``None`` without ``ignore_index``).
    """
    labels = _check_array("labels", labels)
    _check_same_kind("labels", labels, x, "logits")
    if labels.dtype.kind not in "iu":
        fail(
            TypeError,
            "labels",
            "an integer array of class indices (not one-hot)",
            f"dtype {labels.dtype}",
        )
    expected = x.shape[:1] + x.shape[2:]
    if labels.shape != expected:
        fail(
            ValueError,
            "labels",
            f"shape {expected} (the logits' shape without the class axis 1)",
            f"shape {labels.shape}",
        )
    check_not_empty("labels", labels.shape)
    xp = get_array_module(labels)
    if labels.dtype.itemsize < 4:
        labels = labels.astype("int64")
    if ignore_index is None:
        if validate:
            check_label_range(int(xp.min(labels)), int(xp.max(labels)), x.shape[1])
        return labels, None
    keep = labels != ignore_index
    if validate:
        count = int(xp.sum(keep))
        check_some_kept(count, labels.size, ignore_index, reduction)
        if count:
            kept = labels[keep]
            check_label_range(int(xp.min(kept)), int(xp.max(kept)), x.shape[1])
    return xp.where(keep, labels, xp.zeros_like(labels)), keep


def _extremes(xp, x):
    """Minimum, maximum and finiteness of ``x`` as Python values (reads them on the host)."""
    return float(xp.min(x)), float(xp.max(x)), bool(xp.all(xp.isfinite(x)))


def _check_targets(targets, x, validate, like_name="the logits"):
    """Probabilities or 0/1 targets of ``x``'s shape, as an array of its dtype."""
    name = "targets"
    targets = _check_array(name, targets)
    _check_same_kind(name, targets, x, like_name)
    if targets.shape != x.shape:
        fail(ValueError, name, f"shape {x.shape}", f"shape {targets.shape}")
    check_not_empty(name, targets.shape)
    targets = targets.astype(x.dtype, copy=False)
    if validate:
        check_unit_interval(name, *_extremes(get_array_module(x), targets))
    return targets


def _as_array(name, value, like):
    """``value`` (array, Variable, sequence or number) as an array of ``like``'s dtype and kind."""
    xp = get_array_module(like)
    try:
        return xp.asarray(_array(value), dtype=like.dtype)
    except (TypeError, ValueError) as e:
        fail(TypeError, name, "an array, a sequence of numbers or a number", f"{value!r} ({e})")


def _check_weights(name, w):
    check_weight_values(name, *_extremes(get_array_module(w), w))


def _class_weight_table(class_weight, n_classes, like, validate, name="class_weight"):
    """One weight per class; a ``{class: weight}`` dict weighs missing classes 1."""
    class_weight = class_table(name, class_weight, n_classes)
    w = _as_array(name, class_weight, like)
    if w.ndim == 0:
        fail(ValueError, name, f"one weight per class, shape ({n_classes},)", "a scalar")
    if w.shape != (n_classes,):
        fail(ValueError, name, f"one weight per class, shape ({n_classes},)", f"shape {w.shape}")
    if validate:
        _check_weights(name, w)
    return w


def _sample_weight(sample_weight, shape, like, validate, what="labels"):
    """``sample_weight`` broadcast to ``shape`` (trailing axes of size one added first)."""
    xp = get_array_module(like)
    w = _as_array("sample_weight", sample_weight, like)
    w = w.reshape(broadcast_shape("sample_weight", w.shape, shape, f"the {what}' shape"))
    if validate:
        _check_weights("sample_weight", w)
    return xp.broadcast_to(w, shape)


def _along_axis(vector, ndim, axis):
    """A ``[n]`` vector reshaped to broadcast along ``axis`` of an ``ndim``-dimensional array."""
    return vector.reshape((1,) * axis + (-1,) + (1,) * (ndim - axis - 1))


def _one_hot(labels, n_classes):
    """Boolean one-hot mask of shape ``[batch, num_classes, d1, ...]``."""
    xp = get_array_module(labels)
    classes = _along_axis(xp.arange(n_classes, dtype=labels.dtype), labels.ndim + 1, 1)
    return xp.expand_dims(labels, 1) == classes


def _pick(values, one_hot):
    """``values[:, label]`` of every element (a Variable), as a masked sum over axis 1."""
    zero = get_array_module(one_hot).zeros((), dtype=values.dtype)
    return F.sum(F.where(one_hot, values, zero), axis=1)


def _pick_constant(table, one_hot):
    """``table[label]`` of every element, for a constant ``[num_classes]`` table."""
    xp = get_array_module(table)
    values = _along_axis(table, one_hot.ndim, 1)
    return xp.sum(xp.where(one_hot, values, xp.zeros((), dtype=table.dtype)), axis=1)


def _multiply(a, b):
    if a is None:
        return b
    return a if b is None else a * b


def _reduce(
    loss,
    weight,
    reduction,
    validate,
    weight_name="class_weight * sample_weight",
    *,
    keep=None,
    applied=False,
):
    """Apply the element weights (a constant of ``loss``'s shape) and the reduction.

    ``keep`` (a boolean mask, ``None`` for all) drops the ignored elements from every sum; with
    ``applied``, ``loss`` is already weighted and ``weight`` only gives the divisor.
    """
    xp = get_array_module(loss)
    if weight is not None:
        weight = xp.broadcast_to(xp.asarray(weight, dtype=loss.dtype), loss.shape)
        if keep is not None:
            weight = xp.where(keep, weight, xp.zeros_like(weight))
        if not applied:
            loss = loss * weight
    if keep is not None:
        loss = F.where(keep, loss, xp.zeros(loss.shape, dtype=loss.dtype))
    if reduction == "none":
        return loss
    total = F.sum(loss)
    if reduction == "sum":
        return total
    if reduction == "mean" or weight is None:
        if keep is None:
            return total / xp.asarray(loss.size, dtype=loss.dtype)
        count = xp.asarray(xp.sum(keep), dtype=loss.dtype)
        # All ignored (possible with validate=False only): 0 rather than 0/0.
        return total / xp.where(count > 0, count, xp.ones_like(count))
    denominator = xp.sum(weight)
    if validate:
        check_positive_sum(weight_name, float(denominator))
    # With validate=False an all-zero weight gives 0 rather than 0/0.
    return total / xp.where(denominator > 0, denominator, xp.ones_like(denominator))


class _Softplus(chainer.FunctionNode):
    """log(1 + exp(x)) as logaddexp(0, x), with the gradient exp(x - softplus(x)).

    ``F.softplus`` computes its gradient as ``1 - 1 / (1 + exp(x))``, which overflows (with a
    RuntimeWarning) for large ``x`` and cancels to 0 below ``x = -37`` in float64; this
    gradient is exact and never overflows, since ``x - softplus(x) <= 0``.
    """

    def forward(self, inputs):
        (x,) = inputs
        self.retain_inputs((0,))
        self.retain_outputs((0,))
        xp = get_array_module(x)
        return (chainer.utils.force_array(xp.logaddexp(x.dtype.type(0), x), x.dtype),)

    def backward(self, indexes, grad_outputs):
        (x,), (y,), (gy,) = self.get_retained_inputs(), self.get_retained_outputs(), grad_outputs
        return (gy * F.exp(x - y),)


def _softplus(x):
    return _Softplus().apply((x,))[0]


def _log_softmax(logits):
    """log softmax over axis 1, the maximum subtracted first.

    ``F.log_softmax`` computes ``x - (max + log(sum(exp(x - max))))``, which rounds a
    log-probability close to 0 against the maximum; ``(x - max) - log(...)`` keeps its digits.
    """
    x = _array(logits)
    shifted = logits - get_array_module(x).max(x, axis=1, keepdims=True)
    return shifted - F.log(F.sum(F.exp(shifted), axis=1, keepdims=True))


def _modulating_factor(one_minus_p, gamma):
    """(1 - p_t)^gamma with a finite gradient where 1 - p_t underflows to 0 and gamma < 1."""
    array = one_minus_p.array
    xp = get_array_module(array)
    tiny = xp.finfo(array.dtype).tiny
    safe = F.where(array > tiny, one_minus_p, xp.full_like(array, tiny))
    return safe**gamma


def _label_axis(ndim):
    """The axis of the sigmoid losses' labels: 1, or 0 for one-dimensional logits."""
    return min(1, ndim - 1)


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
    r"""Softmax cross-entropy with integer labels and per-class and per-sample weights.

    .. math::

        \ell_i = -\log \operatorname{softmax}(z_i)_{y_i}, \qquad
        w_i = \text{class\_weight}_{y_i} \cdot \text{sample\_weight}_i

    ``F.softmax_cross_entropy(logits, labels, class_weight=w)`` divides the weighted sum by the
    number of (non-ignored) elements: that is ``reduction="mean"`` here, not
    ``"weighted_mean"``. An element labelled ``ignore_index`` counts in no sum, as with
    ``F.softmax_cross_entropy(ignore_label=)``. ``label_smoothing`` :math:`\varepsilon` replaces
    the one-hot target by :math:`(1 - \varepsilon)\,\operatorname{onehot}(y) + \varepsilon/K`;
    ``smoothing_weight`` is ``"label"`` (the element's weight multiplies its whole loss) or
    ``"per_class"`` (PyTorch's ``F.cross_entropy(weight=, label_smoothing=)``: each class's term
    carries that class's weight). float16 logits are computed in float32.

    Args:
      logits: ``[batch, num_classes, d1, ...]`` real floating Variable or array.
      labels: ``[batch, d1, ...]`` integer class indices in ``[0, num_classes)`` (int32 or int64).
      class_weight: ``[num_classes]`` non-negative weights, or a ``{class: weight}`` dict
        (missing classes weigh 1).
      sample_weight: non-negative weights broadcastable to ``labels.shape`` after trailing axes
        of size one are added (``[batch]`` weights apply per sample).
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"``.
      validate: check label ranges and weight signs (reads values on the host).

    Returns:
      A Variable: the reduced loss (0-d), or ``[batch, d1, ...]`` weighted losses for ``"none"``.

    Example:
      >>> import numpy as np
      >>> logits, labels = np.array([[2.0, 0.0], [2.0, 0.0]]), np.array([0, 1])
      >>> loss = softmax_cross_entropy(logits, labels, class_weight=[1.0, 3.0])
      >>> round(float(loss.array), 4)
      3.2539
      >>> round(float(softmax_cross_entropy(
      ...     logits, labels, class_weight=[1.0, 3.0], reduction="weighted_mean").array), 4)
      1.6269

    References:
      King & Zeng (2001); Chainer ``F.softmax_cross_entropy`` and ``F.average(weights=)``.
    """
    check_reduction(reduction)
    ignore_index = check_ignore_index(ignore_index)
    eps = check_label_smoothing(label_smoothing)
    smoothing_weight = check_smoothing_weight(smoothing_weight)
    given = _check_logits(logits)
    logits, x = _working(logits, given)
    labels, keep = _check_labels(labels, x, validate, ignore_index, reduction)
    n_classes = x.shape[1]
    one_hot = _one_hot(labels, n_classes)
    log_p = _log_softmax(logits)
    loss = -_pick(log_p, one_hot)
    table = weight = None
    if class_weight is not None:
        table = _class_weight_table(class_weight, n_classes, x, validate)
        weight = _pick_constant(table, one_hot)
    applied = False
    if eps > 0:
        if smoothing_weight == "per_class" and table is not None:
            uniform = -F.sum(log_p * _along_axis(table, x.ndim, 1), axis=1) / n_classes
            loss = (1 - eps) * weight * loss + eps * uniform
            applied = True
        else:
            loss = (1 - eps) * loss - eps * F.sum(log_p, axis=1) / n_classes
    if sample_weight is not None:
        sw = _sample_weight(sample_weight, labels.shape, x, validate)
        if applied:
            loss = loss * sw
        weight = _multiply(weight, sw)
    result = _reduce(loss, weight, reduction, validate, keep=keep, applied=applied)
    return _restore(result, given)


def _log_prior(class_prior, n_classes, like, validate):
    """``log(class_prior / sum(class_prior))`` as an array of ``like``'s dtype and kind.

    The prior is read in at least float32, so that a tiny prior (1e-30) of half-precision logits
    keeps its finite logarithm.
    """
    xp = get_array_module(like)
    wide = like if like.dtype.itemsize >= 4 else xp.zeros((), dtype=xp.float32)
    prior = _as_array("class_prior", class_prior, wide)
    if prior.shape != (n_classes,):
        got = "a scalar" if prior.ndim == 0 else f"shape {prior.shape}"
        fail(ValueError, "class_prior", f"one positive value per class, shape ({n_classes},)", got)
    if validate:
        check_prior_values("class_prior", *_extremes(xp, prior))
    return (xp.log(prior) - xp.log(xp.sum(prior))).astype(like.dtype)


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

    :func:`softmax_cross_entropy` of ``logits + tau * log(class_prior)``, the prior laid along
    Chainer's class axis 1. ``tau=1`` is the Balanced Softmax of Ren et al. (2020).
    ``class_prior`` is a constant, normalised to sum to 1, so class counts may be passed as they
    are. Predict with the plain logits: the adjustment belongs to training.

    Args:
      logits: ``[batch, num_classes, d1, ...]`` real floating Variable or array.
      labels: ``[batch, d1, ...]`` integer class indices in ``[0, num_classes)``.
      class_prior: ``[num_classes]`` positive, finite class frequencies or counts.
      tau: the strength of the adjustment, a finite number ``>= 0``.
      class_weight: ``[num_classes]`` non-negative weights, or a ``{class: weight}`` dict.
      sample_weight: non-negative weights broadcastable to ``labels.shape``.
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"``.
      validate: check label ranges, prior and weight values (reads values on the host).

    Returns:
      A Variable: the reduced loss (0-d), or ``[batch, d1, ...]`` weighted losses for ``"none"``.

    Example:
      >>> import numpy as np
      >>> logits, labels = np.array([[2.0, 0.0], [2.0, 0.0]]), np.array([0, 1])
      >>> loss = logit_adjusted_cross_entropy(logits, labels, class_prior=[0.9, 0.1])
      >>> round(float(loss.array), 4)
      2.1135

    References:
      Menon et al., "Long-tail learning via logit adjustment", ICLR 2021; Ren et al.,
      "Balanced Meta-Softmax for Long-Tailed Visual Recognition", NeurIPS 2020.
    """
    check_reduction(reduction)
    tau = check_number("tau", tau, low=0.0)
    x = _check_logits(logits)
    wide, wide_x = _working(logits, x)  # the shift is rounded in float32, not in half
    log_prior = _log_prior(class_prior, wide_x.shape[1], wide_x, validate)
    shift = _along_axis(wide_x.dtype.type(tau) * log_prior, wide_x.ndim, 1)
    loss = softmax_cross_entropy(
        wide + shift,
        labels,
        class_weight=class_weight,
        sample_weight=sample_weight,
        reduction=reduction,
        validate=validate,
    )
    return _restore(loss, x)


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

        \ell_i = p\, t_i\,\operatorname{softplus}(-z_i) + (1 - t_i)\operatorname{softplus}(z_i)

    where :math:`p` is ``pos_weight`` (it scales only the positive term) and :math:`w_i` is the
    ``class_weight`` of the element's label (axis 1) times ``sample_weight``. With ``reduction=
    "none"`` and no weights this is ``F.sigmoid_cross_entropy(logits, targets, reduce="no")``,
    which takes 0/1 integer targets only.

    Args:
      logits: ``[batch, num_labels, d1, ...]`` real floating Variable or array (or ``[batch]``).
      targets: same shape, values in ``[0, 1]`` (0/1 labels or probabilities).
      class_weight: ``[num_labels]`` weights, one per label of axis 1.
      sample_weight: weights broadcastable to ``targets.shape`` after trailing axes of size one
        are added.
      pos_weight: a number or ``[num_labels]`` weights for the positive term.
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"``.
      validate: check target ranges and weight signs (reads values on the host).

    Returns:
      A Variable: the reduced loss (0-d), or the weighted losses of ``logits``' shape.

    Example:
      >>> import numpy as np
      >>> z, t = np.array([[0.0, 0.0]]), np.array([[1.0, 0.0]])
      >>> round(float(sigmoid_cross_entropy(z, t, pos_weight=3.0, reduction="sum").array), 4)
      2.7726

    References:
      TensorFlow ``tf.nn.weighted_cross_entropy_with_logits``; Elkan (2001) on costs and weights.
    """
    check_reduction(reduction)
    eps = check_label_smoothing(label_smoothing)
    given = _check_floating("logits", logits)
    if given.ndim < 1:
        fail(ValueError, "logits", "at least one dimension (the label axis)", "a 0-d array")
    check_class_axis(given.shape[_label_axis(given.ndim)])
    logits, x = _working(logits, given)
    targets = _check_targets(targets, x, validate)
    if eps > 0:
        targets = targets * (1 - eps) + eps / 2
    axis, n_labels = _label_axis(x.ndim), x.shape[_label_axis(x.ndim)]
    positive = _softplus(-logits) * targets
    if pos_weight is not None:
        p = _as_array("pos_weight", pos_weight, x)
        if p.ndim > 1 or (p.ndim == 1 and p.shape[0] != n_labels):
            fail(
                ValueError,
                "pos_weight",
                f"a number or one weight per label of axis {axis}, shape ({n_labels},)",
                f"shape {p.shape}",
            )
        if validate:
            _check_weights("pos_weight", p)
        positive = positive * (_along_axis(p, x.ndim, axis) if p.ndim else p)
    loss = positive + _softplus(logits) * (1 - targets)
    weight = None
    if class_weight is not None:
        table = _class_weight_table(class_weight, n_labels, x, validate)
        weight = _along_axis(table, x.ndim, axis)
    if sample_weight is not None:
        weight = _multiply(
            weight, _sample_weight(sample_weight, x.shape, x, validate, what="targets")
        )
    if weight is not None:
        weight = get_array_module(x).broadcast_to(weight, x.shape)
    return _restore(_reduce(loss, weight, reduction, validate), given)


# ----------------------------------------------------------------------------- focal losses


def focal_loss(
    logits, labels, *, alpha=None, gamma=2.0, ignore_index=None, reduction="mean", validate=True
):
    r"""Multi-class (softmax) focal loss with a scalar or per-class ``alpha``.

    .. math::

        \ell_i = -\alpha_{y_i}\,(1 - p_{i,y_i})^{\gamma}\,\log p_{i,y_i}, \qquad
        p_i = \operatorname{softmax}(z_i)

    A scalar ``alpha`` multiplies every class alike; a ``[num_classes]`` vector (or dict) is
    looked up by label. :math:`\alpha_{y_i}` is the element's weight, so
    ``reduction="weighted_mean"`` divides by :math:`\sum_i \alpha_{y_i}`. :math:`1 - p` is
    computed as ``-expm1(log p)``, exact where :math:`p` is close to 1. With ``gamma=0`` and
    ``alpha=class_weight`` this is :func:`softmax_cross_entropy` with that ``class_weight``.

    Args:
      logits: ``[batch, num_classes, d1, ...]`` real floating Variable or array.
      labels: ``[batch, d1, ...]`` integer class indices.
      alpha: ``None``, a non-negative number, or ``[num_classes]`` non-negative weights.
      gamma: focusing parameter, ``gamma >= 0``.
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"``.
      validate: check label ranges and weight signs (reads values on the host).

    Returns:
      A Variable: the reduced loss (0-d), or ``[batch, d1, ...]`` weighted losses for ``"none"``.

    Example:
      >>> import numpy as np
      >>> logits = np.array([[3.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
      >>> loss = focal_loss(logits, np.array([0, 0]), reduction="none")
      >>> [round(float(v), 4) for v in loss.array]
      [0.0008, 0.4883]

    References:
      Lin, Goyal, Girshick, He & Dollár, "Focal Loss for Dense Object Detection", ICCV 2017.
    """
    check_reduction(reduction)
    gamma = check_number("gamma", gamma, low=0.0)
    ignore_index = check_ignore_index(ignore_index)
    given = _check_logits(logits)
    logits, x = _working(logits, given)
    labels, keep = _check_labels(labels, x, validate, ignore_index, reduction)
    one_hot = _one_hot(labels, x.shape[1])
    log_p = _pick(_log_softmax(logits), one_hot)
    loss = -_modulating_factor(-F.expm1(log_p), gamma) * log_p
    weight = None
    if alpha is not None:
        if _is_per_class(alpha):
            table = _class_weight_table(alpha, x.shape[1], x, validate, "alpha")
            weight = _pick_constant(table, one_hot)
        else:
            a = check_number("alpha", _scalar(alpha), low=0.0)
            weight = get_array_module(x).full(loss.shape, a, dtype=x.dtype)
    return _restore(_reduce(loss, weight, reduction, validate, "alpha", keep=keep), given)


def _is_per_class(value):
    value = _array(value)
    if hasattr(value, "ndim"):
        return value.ndim > 0
    return isinstance(value, Mapping | list | tuple)


def _scalar(value):
    value = _array(value)
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
      logits: real floating Variable or array of any shape (labels on axis 1).
      targets: same shape, values in ``[0, 1]``.
      alpha: ``None`` or a number in ``[0, 1]``.
      gamma: focusing parameter, ``gamma >= 0``.
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"``.
      validate: check target ranges (reads values on the host).

    Returns:
      A Variable: the reduced loss (0-d), or the weighted losses of ``logits``' shape.

    Example:
      >>> import numpy as np
      >>> round(float(sigmoid_focal_loss(np.array([0.0]), np.array([1.0])).array), 4)
      0.0433

    References:
      Lin et al., ICCV 2017; torchvision ``torchvision.ops.sigmoid_focal_loss``.
    """
    check_reduction(reduction)
    gamma = check_number("gamma", gamma, low=0.0)
    if alpha is not None:
        alpha = check_number("alpha", alpha, low=0.0, high=1.0)
    given = _check_floating("logits", logits)
    logits, x = _working(logits, given)
    targets = _check_targets(targets, x, validate)
    softplus_neg, softplus_pos = _softplus(-logits), _softplus(logits)
    bce = softplus_neg * targets + softplus_pos * (1 - targets)
    # 1 - p_t = t (1 - p) + (1 - t) p, with p = exp(-softplus(-z)) and 1 - p = exp(-softplus(z)).
    one_minus_p_t = F.exp(-softplus_pos) * targets + F.exp(-softplus_neg) * (1 - targets)
    loss = _modulating_factor(one_minus_p_t, gamma) * bce
    weight = None if alpha is None else alpha * targets + (1 - alpha) * (1 - targets)
    return _restore(_reduce(loss, weight, reduction, validate, "alpha"), given)


# ----------------------------------------------------------------------------- regression


def huber_loss(prediction, target, *, delta=1.0, reduction="mean", validate=True):
    r"""Huber loss: quadratic for small residuals, linear for large ones.

    .. math::

        \ell_i = \begin{cases} \tfrac12 d_i^2 & |d_i| \le \delta \\
                 \delta\,(|d_i| - \tfrac12\delta) & |d_i| > \delta \end{cases},
        \qquad d_i = \text{prediction}_i - \text{target}_i

    Written as :math:`\tfrac12 q^2 + \delta(|d| - q)` with :math:`q = \min(|d|, \delta)`.
    ``F.huber_loss(prediction, target, delta, reduce="no")`` computes the same elements; its
    default ``reduce="sum_along_second_axis"`` sums them over axis 1.

    Args:
      prediction: real floating Variable or array of any shape.
      target: array of the same shape.
      delta: threshold between the quadratic and linear parts, ``delta > 0``.
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"`` (the last equals
        ``"mean"``: there are no weights).
      validate: unused here (there are no values to check); kept for a uniform signature.

    Returns:
      A Variable: the reduced loss (0-d), or the losses of ``prediction``'s shape.

    Example:
      >>> import numpy as np
      >>> huber_loss(np.array([0.5, 3.0]), np.zeros(2), reduction="none").array.tolist()
      [0.125, 2.5]

    References:
      Huber, "Robust Estimation of a Location Parameter", Ann. Math. Statist. 35(1), 1964.
    """
    check_reduction(reduction)
    delta = check_number("delta", delta, low=0.0, low_open=True)
    x = _check_floating("prediction", prediction)
    target = _check_array("target", target)
    _check_same_kind("target", target, x, "prediction")
    if target.shape != x.shape:
        fail(
            ValueError,
            "target",
            f"shape {x.shape} (the prediction's)",
            f"shape {target.shape}",
        )
    check_not_empty("prediction", x.shape)
    given = x
    prediction, x = _working(prediction, x)
    size = F.absolute(prediction - target.astype(x.dtype, copy=False))
    xp = get_array_module(x)
    q = F.where(size.array <= delta, size, xp.full_like(size.array, delta))
    loss = 0.5 * q * q + delta * (size - q)
    return _restore(_reduce(loss, None, reduction, validate), given)


# ----------------------------------------------------------------------------- segmentation


def dice_loss(
    probabilities, targets, *, smooth=1.0, ignore_index=None, reduction="mean", validate=True
):
    r"""Soft Dice loss, one value per sample.

    .. math::

        \ell_n = 1 - \frac{2\sum_k p_{n,k} t_{n,k} + s}{\sum_k p_{n,k} + \sum_k t_{n,k} + s}

    where :math:`k` runs over every axis but the first (classes and pixels alike, so the class
    axis may be anywhere) and :math:`s` is ``smooth``. ``reduction`` then works over the samples
    (``"weighted_mean"`` equals ``"mean"``: there are no weights). With ``ignore_index`` (a
    number such as 255) every element whose target equals it is left out of its sample's three
    sums.

    Args:
      probabilities: ``[batch, ...]`` predicted probabilities in ``[0, 1]``.
      targets: same shape, values in ``[0, 1]`` (or ``ignore_index``).
      smooth: ``smooth > 0``; it keeps an empty mask predicted empty at loss 0 instead of 0/0.
      ignore_index: ``None`` or an integer target value whose elements count nowhere.
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"``.
      validate: check that both inputs lie in ``[0, 1]`` (reads values on the host).

    Returns:
      A Variable: the reduced loss (0-d), or ``[batch]`` losses for ``"none"``.

    Example:
      >>> import numpy as np
      >>> p = np.array([[[0.9, 0.1], [0.2, 0.8]]])
      >>> t = np.array([[[1.0, 0.0], [0.0, 1.0]]])
      >>> round(float(dice_loss(p, t).array), 4)
      0.12

    References:
      Milletari, Navab & Ahmadi, "V-Net", 3DV 2016; Ronneberger et al. (2015) for the U-Net setting.
    """
    check_reduction(reduction)
    smooth = check_number("smooth", smooth, low=0.0, low_open=True)
    ignore_index = check_ignore_index(ignore_index)
    x = _check_floating("probabilities", probabilities)
    if x.ndim < 2:
        fail(
            ValueError,
            "probabilities",
            "shape [batch, ...] with at least two dimensions",
            f"shape {x.shape}",
        )
    given = x
    probabilities, x = _working(probabilities, x)
    xp = get_array_module(x)
    if ignore_index is None:
        targets = _check_targets(targets, x, validate, "probabilities")
    else:
        targets = _check_targets(targets, x, False, "probabilities")
        keep = targets != ignore_index
        targets = xp.where(keep, targets, xp.zeros_like(targets))
        if validate:
            check_unit_interval("targets", *_extremes(xp, targets))
        probabilities = F.where(keep, probabilities, xp.zeros_like(x))
    if validate:
        check_unit_interval("probabilities", *_extremes(xp, x))
    axes = tuple(range(1, x.ndim))
    overlap = F.sum(probabilities * targets, axis=axes)
    total = F.sum(probabilities, axis=axes) + xp.sum(targets, axis=axes)
    loss = 1 - (2 * overlap + smooth) / (total + smooth)
    return _restore(_reduce(loss, None, reduction, validate), given)


def _soft_counts(logits, targets, sample_weight, validate):
    """The logits' array and the expected counts TP, PP (Variables) and AP (a constant) of
    each column, summed over axis 0. ``p = exp(-softplus(-z))``: finite, with the finite
    gradient of :func:`_softplus`, for every finite logit."""
    given = _check_floating("logits", logits)
    if given.ndim < 1:
        fail(ValueError, "logits", "at least one dimension (the batch axis)", "a 0-d array")
    logits, x = _working(logits, given)
    xp = get_array_module(x)
    t = _check_targets(targets, x, validate)
    p = F.exp(-_softplus(-logits))
    if sample_weight is not None:
        w = _sample_weight(sample_weight, x.shape, x, validate, what="targets")
        p_weighted, t_weighted = p * w, t * w
    else:
        p_weighted, t_weighted = p, t
    counts = (
        F.sum(p_weighted * t, axis=0),
        F.sum(p_weighted, axis=0),
        xp.asarray(xp.sum(t_weighted, axis=0), dtype=x.dtype),
    )
    return given, counts


def soft_precision_loss(
    logits, targets, *, sample_weight=None, smooth=1.0, reduction="mean", validate=True
):
    r"""One minus the soft precision of the batch, one value per column.

    .. math::

        \ell_c = 1 - \frac{TP_c + s}{PP_c + s}, \qquad
        TP_c = \sum_i w_i\, p_{i,c}\, t_{i,c}, \quad PP_c = \sum_i w_i\, p_{i,c}

    with :math:`p = \sigma(z)`, :math:`s` = ``smooth`` and the sums over the batch axis (axis 0)
    only: every element of ``targets.shape[1:]`` is a column, whatever the layout. The counts
    are expected counts under the predicted probabilities, a differentiable surrogate of
    :math:`TP / (TP + FP)`. The loss is **non-decomposable**: its value on a batch depends on
    the whole batch, so the batch size matters.

    Args:
      logits: ``[batch]`` or ``[batch, d1, ...]`` real floating array, one sigmoid per element.
      targets: same shape, values in ``[0, 1]``.
      sample_weight: non-negative weights broadcastable to ``targets.shape`` after trailing
        axes of size one are added (``[batch]`` weighs samples).
      smooth: a finite number ``> 0``; the loss is then always finite.
      reduction: ``"none"`` (shape ``targets.shape[1:]``), ``"sum"`` or ``"mean"`` over the
        columns. ``"weighted_mean"`` is refused: there are no element weights to divide by.
      validate: check target ranges and weight values (reads values on the host).

    Example:
      >>> import numpy as np
      >>> z, t = np.zeros(3), np.array([1.0, 0.0, 0.0])
      >>> round(float(soft_precision_loss(z, t, smooth=1e-6).array), 4)  # 1 - 0.5 / 1.5
      0.6667

    References:
      A surrogate of precision from expected counts, as the soft Dice of Milletari, Navab &
      Ahmadi, "V-Net", 3DV 2016, is of F1.
    """
    check_batch_reduction(reduction)
    smooth = check_smooth(smooth)
    given, (tp, pp, _) = _soft_counts(logits, targets, sample_weight, validate)
    loss = 1 - (tp + smooth) / (pp + smooth)
    return _restore(_reduce(loss, None, reduction, validate), given)


def soft_f1_loss(
    logits, targets, *, sample_weight=None, smooth=1.0, reduction="mean", validate=True
):
    r"""One minus the soft F1 score of the batch, one value per column (the batch's soft Dice).

    .. math::

        \ell_c = 1 - \frac{2\,TP_c + s}{PP_c + AP_c + s}, \qquad
        TP_c = \sum_i w_i\, p_{i,c}\, t_{i,c}, \quad PP_c = \sum_i w_i\, p_{i,c}, \quad
        AP_c = \sum_i w_i\, t_{i,c}

    with :math:`p = \sigma(z)`, :math:`s` = ``smooth`` and the sums over the batch axis (axis 0)
    only. With expected counts in place of counts, :math:`F_1 = 2TP / (PP + AP)` is the soft
    Dice coefficient of Milletari et al. (2016) over the batch: :func:`dice_loss` of the batch
    seen as one sample. The loss is **non-decomposable**: its value on a batch depends on the
    whole batch, so the batch size matters.

    Args:
      logits: ``[batch]`` or ``[batch, d1, ...]`` real floating array, one sigmoid per element.
      targets: same shape, values in ``[0, 1]``.
      sample_weight: non-negative weights broadcastable to ``targets.shape`` after trailing
        axes of size one are added (``[batch]`` weighs samples).
      smooth: a finite number ``> 0``; the loss is then always finite.
      reduction: ``"none"`` (shape ``targets.shape[1:]``), ``"sum"`` or ``"mean"`` over the
        columns. ``"weighted_mean"`` is refused.
      validate: check target ranges and weight values (reads values on the host).

    Example:
      >>> import numpy as np
      >>> z, t = np.zeros(3), np.array([1.0, 0.0, 0.0])
      >>> round(float(soft_f1_loss(z, t, smooth=1e-6).array), 4)  # 1 - 2 * 0.5 / (1.5 + 1)
      0.6

    References:
      Milletari, Navab & Ahmadi, "V-Net: Fully Convolutional Neural Networks for Volumetric
      Medical Image Segmentation", 3DV 2016 (the soft Dice, i.e. soft F1, form).
    """
    check_batch_reduction(reduction)
    smooth = check_smooth(smooth)
    given, (tp, pp, ap) = _soft_counts(logits, targets, sample_weight, validate)
    loss = 1 - (2 * tp + smooth) / (pp + ap + smooth)
    return _restore(_reduce(loss, None, reduction, validate), given)


def cost_sensitive_cross_entropy(
    logits, labels, cost_matrix, *, ignore_index=None, reduction="mean", validate=True
):
    r"""Cross-entropy of each element weighted by the cost of the mistake the model makes there.

    .. math::

        \ell_i = -\log \operatorname{softmax}(z_i)_{y_i}, \qquad
        w_i = C[y_i, \hat y_i], \quad \hat y_i = \arg\max_j z_{ij}

    The weight depends on the predicted class (the argmax over axis 1) but carries no gradient.
    Every pixel of a ``[batch, num_classes, height, width]`` map gets its own cost.

    Args:
      logits: ``[batch, num_classes, d1, ...]`` real floating Variable or array.
      labels: ``[batch, d1, ...]`` integer class indices.
      cost_matrix: ``[num_classes, num_classes]`` non-negative costs, row = true class,
        column = predicted class.
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"`` (divides by the sum of
        the costs).
      validate: check label ranges and cost signs (reads values on the host).

    Returns:
      A Variable: the reduced loss (0-d), or ``[batch, d1, ...]`` weighted losses for ``"none"``.

    Example:
      >>> import numpy as np
      >>> cost = np.array([[1.0, 1.0], [5.0, 1.0]])  # missing class 1 costs 5
      >>> logits = np.array([[2.0, 0.0], [2.0, 0.0]])
      >>> loss = cost_sensitive_cross_entropy(logits, np.array([0, 1]), cost, reduction="none")
      >>> [round(float(v), 4) for v in loss.array]
      [0.1269, 10.6346]

    References:
      Elkan, "The Foundations of Cost-Sensitive Learning", IJCAI 2001.
    """
    check_reduction(reduction)
    ignore_index = check_ignore_index(ignore_index)
    given = _check_logits(logits)
    logits, x = _working(logits, given)
    labels, keep = _check_labels(labels, x, validate, ignore_index, reduction)
    n_classes = x.shape[1]
    cost = _as_array("cost_matrix", cost_matrix, x)
    if cost.shape != (n_classes, n_classes):
        fail(
            ValueError,
            "cost_matrix",
            f"shape ({n_classes}, {n_classes})",
            f"shape {cost.shape}",
        )
    if validate:
        _check_weights("cost_matrix", cost)
    loss = -_pick(_log_softmax(logits), _one_hot(labels, n_classes))
    xp = get_array_module(x)
    predicted = xp.argmax(x, axis=1)
    flat = labels.astype(predicted.dtype) * n_classes + predicted
    weight = xp.take(cost.reshape(-1), flat.reshape(-1)).reshape(labels.shape)
    return _restore(_reduce(loss, weight, reduction, validate, "cost_matrix", keep=keep), given)
