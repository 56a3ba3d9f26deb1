r"""Weighted losses for TensorFlow 2 and Keras 3, with the class axis last as in TF and Keras.

The functions mirror :mod:`companion.reference` name for name and compute the same numbers: they
take ``tf.Tensor`` inputs (NumPy arrays are converted, keeping their dtype), run eagerly or inside
``tf.function``, and return tensors. ``class_weight`` and ``alpha`` may be sequences, NumPy
arrays, tensors or ``{class: weight}`` dicts (missing classes weigh 1).

Checks, eagerly and in graphs:

* Dtypes, static shapes and hyperparameters (``gamma``, ``delta``, ``reduction``, ...) are
  checked when the function runs eagerly and, inside ``tf.function``, when it is traced; an
  unknown dimension (``None``) is taken to match. A mistake raises ``ValueError`` or
  ``TypeError`` whose message starts ``"<argument>: expected"``.
* Checks of values (label ranges, weight signs and finiteness, targets in ``[0, 1]``, the sum of
  the weights for ``"weighted_mean"``) run only with ``validate=True``. Eagerly they read the
  values and raise ``ValueError``. In a graph they become ``tf.debugging.Assert`` operations
  that raise ``tf.errors.InvalidArgumentError`` with a message of the same form when the graph
  runs; XLA (``jit_compile=True``, which Keras uses on a GPU by default) drops them.
  ``validate=False`` skips them, which saves a host transfer on a GPU.

The Keras 3 ``Loss`` classes (:class:`SoftmaxCrossEntropy`, :class:`FocalLoss`, ...) and
:func:`fit_sample_weight` are those of :mod:`companion.keras`, written in ``keras.ops`` so that
they run on every Keras 3 backend; they are importable from here too.

Importing this module sets ``TF_CPP_MIN_LOG_LEVEL=3`` unless it is already set, and silences
the C++ runtime's messages while TensorFlow is first imported: TensorFlow 2.21 prints a
"Could not find cuda drivers" line on machines without a GPU before its log level applies
(tensorflow/tensorflow#100442).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import ml_dtypes

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
    quiet_stderr,
)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


with quiet_stderr():
    import keras  # noqa: F401  (the Keras classes below are keras.losses.Loss classes)
    import tensorflow as tf

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
    "fit_sample_weight",
    "focal_loss",
    "huber_loss",
    "logit_adjusted_cross_entropy",
    "sigmoid_cross_entropy",
    "sigmoid_focal_loss",
    "soft_f1_loss",
    "soft_precision_loss",
    "softmax_cross_entropy",
]


# ----------------------------------------------------------------------------- input handling


def _not_converted(function):
    """Keep AutoGraph out: the losses have no control flow on tensors, and a mistake found while
    tracing then raises with the project's message rather than one rewritten by AutoGraph."""
    return tf.autograph.experimental.do_not_convert(function)


def _tensor(name, x):
    """``x`` as a tensor of its own dtype (a NumPy array keeps its dtype)."""
    if tf.is_tensor(x):
        return x
    try:
        return tf.convert_to_tensor(x)
    except (TypeError, ValueError) as e:
        fail(TypeError, name, "a tensor or an array", f"{type(x).__name__} ({e})")


def _floating(name, x):
    x = _tensor(name, x)
    if not x.dtype.is_floating:
        fail(TypeError, name, "a real floating-point array", f"dtype {x.dtype.name}")
    return x


_HALF = (tf.float16, tf.bfloat16)


def _working(x):
    """``x`` in float32 if it is a half-precision float (float16, bfloat16), else ``x``.

    Half-precision inputs are computed and summed in float32 and the result is cast back with
    :func:`_restore`: a float16 sum of more than 65,504 ones would be ``inf``, and a float16
    ``1 - p`` or ``log p`` loses the digits the focal loss and its gradient need.
    """
    return tf.cast(x, tf.float32) if x.dtype in _HALF else x


def _restore(result, like):
    """The result in the dtype of the input ``like``."""
    return result if result.dtype == like.dtype else tf.cast(result, like.dtype)


def _check_logits(logits, name="logits"):
    """Floating logits with a class axis last holding at least one class (shape checks, which
    run with ``validate=False`` too); returns the logits as given and in the working dtype."""
    logits = _floating(name, logits)
    if logits.shape.rank == 0:
        fail(ValueError, name, "at least one dimension (the class axis)", "a 0-d array")
    n_classes = logits.shape[-1] if logits.shape.rank else None
    if n_classes is not None:
        check_class_axis(n_classes, name)
    return logits, _working(logits)


def _as_tensor(name, value, like):
    """``value`` (tensor, array, sequence or number) as a tensor of ``like``'s dtype."""
    try:
        if tf.is_tensor(value):
            return tf.cast(value, like.dtype)
        if isinstance(value, list | tuple) and any(tf.is_tensor(v) for v in value):
            return tf.stack([_as_tensor(name, v, like) for v in value])
        return tf.constant(value, dtype=like.dtype)
    except (TypeError, ValueError) as e:
        fail(TypeError, name, "an array, a sequence of numbers or a number", f"{value!r} ({e})")


def _shape(x):
    """The static shape as a tuple (``None`` for unknown dimensions), as the messages print it."""
    return tuple(x.shape)


def _check_not_empty(name, x):
    if x.shape.is_fully_defined():
        check_not_empty(name, _shape(x))


def _assert_values(condition, name, expected, low, high):
    """In a graph, a run-time check with the project's message form."""
    tf.debugging.Assert(
        condition, [f"{name}: expected {expected}, got values from", low, "to", high]
    )


def _extremes(x):
    return tf.reduce_min(x), tf.reduce_max(x), tf.reduce_all(tf.math.is_finite(x))


def _check_weights(name, w):
    """Finite, non-negative weights (values read on the host eagerly, asserted in a graph)."""
    low, high, finite = _extremes(w)
    if tf.executing_eagerly():
        check_weight_values(name, float(low), float(high), bool(finite))
    else:
        _assert_values(finite & (low >= 0), name, "finite, non-negative weights", low, high)


def _check_unit_interval(name, x):
    low, high, finite = _extremes(x)
    if tf.executing_eagerly():
        check_unit_interval(name, float(low), float(high), bool(finite))
    else:
        _assert_values(finite & (low >= 0) & (high <= 1), name, "values in [0, 1]", low, high)


def _num_classes(logits):
    """The static length of the last axis, which the class weights are checked against."""
    n_classes = logits.shape[-1] if logits.shape.rank else None
    if n_classes is None:
        fail(
            ValueError,
            "logits",
            "a known number of classes (a static last axis)",
            f"shape {logits.shape}",
        )
    return n_classes


_LABEL_DTYPES = (tf.int32, tf.int64)


def _check_labels(labels, logits, validate, ignore_index=None, reduction="mean"):
    """Integer class indices of shape ``logits.shape[:-1]`` in ``[0, num_classes)``.

    Returns the labels as int32 or int64 (uint8 and int8 masks are widened: ``tf.range`` and the
    comparisons below have no kernels for them), with every element equal to ``ignore_index``
    replaced by class 0, and the boolean mask of the elements that count (``None`` without
    ``ignore_index``). The range check skips ignored elements; with ``validate``, labels that
    are all ignored are an error for ``"mean"`` and ``"weighted_mean"``.
    """
    labels = _tensor("labels", labels)
    if not labels.dtype.is_integer:
        fail(
            TypeError,
            "labels",
            "an integer array of class indices (not one-hot)",
            f"dtype {labels.dtype.name}",
        )
    known = logits.shape.rank is not None and labels.shape.rank is not None
    if known and not labels.shape.is_compatible_with(logits.shape[:-1]):
        fail(
            ValueError,
            "labels",
            f"shape {_shape(logits)[:-1]} (the logits' shape without the class axis)",
            f"shape {_shape(labels)}",
        )
    _check_not_empty("labels", labels)
    n_classes = _num_classes(logits)
    if labels.dtype not in _LABEL_DTYPES:
        labels = tf.cast(labels, tf.int64)
    keep = None if ignore_index is None else tf.not_equal(labels, ignore_index)
    if validate:
        if keep is None:
            low, high = tf.reduce_min(labels), tf.reduce_max(labels)
        else:
            # The extremes of the labels that count (an all-ignored tensor gives 0 and 0).
            low = tf.reduce_min(tf.where(keep, labels, tf.reduce_max(labels)))
            high = tf.reduce_max(tf.where(keep, labels, tf.reduce_min(labels)))
            count = tf.reduce_sum(tf.cast(keep, tf.int64))
        if tf.executing_eagerly():
            if keep is not None:
                check_some_kept(int(count), int(tf.size(labels)), ignore_index, reduction)
            if keep is None or int(count):
                check_label_range(int(low), int(high), n_classes)
        else:
            in_range = (low >= 0) & (high < n_classes)
            if keep is not None:
                in_range = in_range | tf.equal(count, 0)
                if reduction in ("mean", "weighted_mean"):
                    tf.debugging.Assert(
                        count > 0,
                        [
                            f"labels: expected at least one element not equal to "
                            f"ignore_index={ignore_index} for reduction={reduction!r}, "
                            "got all",
                            tf.size(labels),
                            "ignored",
                        ],
                    )
            _assert_values(in_range, "labels", f"class indices in [0, {n_classes})", low, high)
    if keep is not None:
        labels = tf.where(keep, labels, tf.zeros_like(labels))
    return labels, keep


def _check_targets(targets, logits, validate, name="targets", ignore_index=None):
    """Probabilities or 0/1 targets of the same shape as ``logits``, in ``logits``' dtype.

    With ``ignore_index``, the elements equal to it are exempt from the range check and come
    back as 0, with the mask of the elements that count.
    """
    targets = _tensor(name, targets)
    if not targets.shape.is_compatible_with(logits.shape):
        fail(ValueError, name, f"shape {_shape(logits)}", f"shape {_shape(targets)}")
    _check_not_empty(name, targets)
    targets = tf.cast(targets, logits.dtype)
    if ignore_index is None:
        if validate:
            _check_unit_interval(name, targets)
        return targets
    keep = tf.not_equal(targets, tf.cast(ignore_index, targets.dtype))
    targets = tf.where(keep, targets, tf.zeros_like(targets))
    if validate:
        _check_unit_interval(name, targets)
    return targets, keep


def _class_weight_table(class_weight, n_classes, like, validate, name="class_weight"):
    """One weight per class as a tensor; a ``{class: weight}`` dict weighs missing classes 1."""
    class_weight = class_table(name, class_weight, n_classes)
    w = _as_tensor(name, class_weight, like)
    if w.shape.rank == 0:
        fail(ValueError, name, f"one weight per class, shape ({n_classes},)", "a scalar")
    if not w.shape.is_compatible_with((n_classes,)):
        fail(ValueError, name, f"one weight per class, shape ({n_classes},)", f"shape {_shape(w)}")
    if validate:
        _check_weights(name, w)
    return w


def _sample_weight(sample_weight, target, like, validate, name="sample_weight", what="labels"):
    """``sample_weight`` broadcast to ``target``'s shape (trailing axes of size one added first)."""
    w = _as_tensor(name, sample_weight, like)
    if w.shape.rank is not None and target.shape.rank is not None:
        # Unknown dimensions (inside tf.function) are taken to match.
        known = [
            t if t is not None else (s if s is not None else 1)
            for s, t in zip(
                _shape(w) + (1,) * max(0, target.shape.rank - w.shape.rank),
                _shape(target),
                strict=False,
            )
        ]
        given = tuple(1 if s is None else s for s in _shape(w))
        broadcast_shape(name, given, tuple(known), f"the {what}' shape")
        pad = target.shape.rank - w.shape.rank
        w = tf.reshape(w, tf.concat([tf.shape(w), tf.ones([pad], tf.int32)], axis=0))
    if validate:
        _check_weights(name, w)
    return tf.broadcast_to(w, tf.shape(target))


def _nll(logits, labels, n_classes):
    """``-log softmax(logits)[label]`` from TensorFlow's fused kernel, and the mask of labels in
    ``[0, n_classes)``: an out-of-range label (possible with ``validate=False``) gives 0 rather
    than the kernel's error (CPU) or NaN (GPU)."""
    inside = (labels >= 0) & (labels < n_classes)
    safe = tf.where(inside, labels, tf.zeros_like(labels))
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=safe, logits=logits)
    return tf.where(inside, loss, tf.zeros_like(loss)), safe, inside


def _lookup(table, labels, inside):
    """``table[label]`` for every element, 0 where the label is out of range."""
    picked = tf.gather(table, labels)
    return tf.where(inside, picked, tf.zeros_like(picked))


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
    """Apply the element weights and the reduction (see :mod:`companion.reference`).

    ``keep`` (a boolean mask, ``None`` for all) drops the ignored elements from every sum:
    ``"mean"`` divides by the number of kept elements and ``"weighted_mean"`` by the sum of the
    kept elements' weights. With ``applied``, ``loss`` is already weighted and ``weight`` only
    gives the divisor of ``"weighted_mean"``.
    """
    if weight is not None:
        weight = tf.broadcast_to(weight, tf.shape(loss))
        if keep is not None:
            weight = tf.where(keep, weight, tf.zeros_like(weight))
        if not applied:
            loss = loss * weight
    if keep is not None:
        loss = tf.where(keep, loss, tf.zeros_like(loss))
    if reduction == "none":
        return loss
    total = tf.reduce_sum(loss)
    if reduction == "sum":
        return total
    if reduction == "mean" or weight is None:
        if keep is None:
            return total / tf.cast(tf.size(loss, out_type=tf.int64), loss.dtype)
        count = tf.reduce_sum(tf.cast(keep, loss.dtype))
        # All ignored (possible with validate=False only): 0 rather than 0/0.
        return total / tf.where(count > 0, count, tf.ones_like(count))
    denominator = tf.reduce_sum(weight)
    if validate:
        if tf.executing_eagerly():
            check_positive_sum(weight_name, float(denominator))
        else:
            expected = "a positive sum for reduction='weighted_mean'"
            message = f"{weight_name}: expected {expected}, got weights that sum to"
            tf.debugging.Assert(denominator > 0, [message, denominator])
    # With validate=False an all-zero weight gives 0 rather than 0/0.
    return total / tf.where(denominator > 0, denominator, tf.ones_like(denominator))


def _modulating_factor(one_minus_p, gamma):
    """(1 - p_t)^gamma with a finite gradient where 1 - p_t underflows to 0 and gamma < 1."""
    tiny = ml_dtypes.finfo(one_minus_p.dtype.as_numpy_dtype).smallest_normal
    safe = tf.where(one_minus_p > tiny, one_minus_p, tf.fill(tf.shape(one_minus_p), tiny))
    return safe**gamma


# ----------------------------------------------------------------------------- cross-entropy


@_not_converted
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

        \ell_i = -\sum_c q_{i,c} \log \operatorname{softmax}(z_i)_c, \qquad
        q_i = (1 - \varepsilon)\,\operatorname{onehot}(y_i) + \varepsilon / K, \qquad
        w_i = \text{class\_weight}_{y_i} \cdot \text{sample\_weight}_i

    with :math:`\varepsilon` = ``label_smoothing`` and :math:`K` classes (:math:`\varepsilon = 0`
    is the plain :math:`-\log p_{i,y_i}`; ``keras.losses.CategoricalCrossentropy(
    label_smoothing=)`` smooths the same way). With ``smoothing_weight="label"`` the whole
    smoothed loss of element :math:`i` is multiplied by :math:`w_i`; ``"per_class"`` is
    PyTorch's ``F.cross_entropy(weight=, label_smoothing=)``: the uniform part weighs each
    class's term by that class's weight,
    :math:`\text{sample\_weight}_i[(1-\varepsilon)\,\text{class\_weight}_{y_i}(-\log p_{i,y_i})
    + \tfrac{\varepsilon}{K}\sum_c \text{class\_weight}_c(-\log p_{i,c})]`, and
    ``"weighted_mean"`` still divides by :math:`\sum_i w_i`.

    An element whose label is ``ignore_index`` has loss 0 and counts in no sum: ``"mean"``
    divides by the number of the other elements (as ``keras.losses.
    SparseCategoricalCrossentropy(ignore_class=)`` does), ``"weighted_mean"`` by the sum of their
    weights. :math:`-\log p_{i,y_i}` comes from TensorFlow's fused
    ``tf.nn.sparse_softmax_cross_entropy_with_logits``, which shifts the logits by their
    maximum, so the loss and its gradient stay finite for any finite logits. Half-precision
    logits are computed in float32 and the result is returned in their dtype.

    Args:
      logits: ``[..., num_classes]`` floating tensor (the class axis last, as in Keras).
      labels: ``[...]`` integer class indices in ``[0, num_classes)`` (any integer dtype,
        uint8 masks included), or ``ignore_index``.
      class_weight: ``[num_classes]`` non-negative weights, or a ``{class: weight}`` dict
        (missing classes weigh 1).
      sample_weight: non-negative weights broadcastable to ``labels.shape`` after trailing axes
        of size one are added (``[batch]`` weights apply per sample).
      ignore_index: ``None`` or an integer label (``-100``, ``255``, or a class) to leave out.
      label_smoothing: :math:`\varepsilon` in ``[0, 1]``.
      smoothing_weight: ``"label"`` or ``"per_class"`` (see above).
      reduction: ``"none"``, ``"sum"``, ``"mean"`` (Keras' ``"sum_over_batch_size"``) or
        ``"weighted_mean"`` (:math:`\sum_i w_i\ell_i / \sum_i w_i`).
      validate: check label ranges and weight values: eagerly a ``ValueError``, in a graph a
        ``tf.debugging.Assert`` (see the module docstring).

    Returns:
      The reduced loss (a scalar tensor), or ``[...]`` per-element weighted losses for ``"none"``.

    Example:
      >>> import tensorflow as tf
      >>> logits, labels = tf.constant([[2.0, 0.0], [2.0, 0.0]]), tf.constant([0, 1])
      >>> round(float(softmax_cross_entropy(logits, labels, class_weight=[1.0, 3.0])), 4)
      3.2539
      >>> round(float(softmax_cross_entropy(
      ...     logits, labels, class_weight=[1.0, 3.0], reduction="weighted_mean")), 4)
      1.6269

    References:
      King & Zeng (2001); PyTorch ``torch.nn.CrossEntropyLoss`` for the ``weighted_mean`` form.
    """
    check_reduction(reduction)
    ignore_index = check_ignore_index(ignore_index)
    eps = check_label_smoothing(label_smoothing)
    smoothing_weight = check_smoothing_weight(smoothing_weight)
    given, logits = _check_logits(logits)
    labels, keep = _check_labels(labels, logits, validate, ignore_index, reduction)
    n_classes = _num_classes(logits)
    loss, safe, inside = _nll(logits, labels, n_classes)
    table = weight = None
    if class_weight is not None:
        table = _class_weight_table(class_weight, n_classes, logits, validate)
        weight = _lookup(table, safe, inside)
    applied = False
    if eps > 0:
        log_p = tf.nn.log_softmax(logits)
        if smoothing_weight == "per_class" and table is not None:
            uniform = -tf.reduce_sum(log_p * table, axis=-1) / n_classes
            loss = (1 - eps) * weight * loss + eps * uniform
            applied = True
        else:
            loss = (1 - eps) * loss - eps * tf.reduce_sum(log_p, axis=-1) / n_classes
    if sample_weight is not None:
        sw = _sample_weight(sample_weight, labels, logits, validate)
        if applied:
            loss = loss * sw
        weight = _multiply(weight, sw)
    result = _reduce(loss, weight, reduction, validate, keep=keep, applied=applied)
    return _restore(result, given)


def _log_prior(class_prior, n_classes, like, validate):
    """``log(class_prior / sum(class_prior))`` as a tensor of ``like``'s dtype.

    The prior is read in at least float32, so that a tiny prior (1e-30) of half-precision logits
    keeps its finite logarithm.
    """
    wide = like.dtype if like.dtype.size >= 4 else tf.float32
    prior = _as_tensor("class_prior", class_prior, tf.zeros((), wide))
    expected = f"one positive value per class, shape ({n_classes},)"
    if prior.shape.rank == 0:
        fail(ValueError, "class_prior", expected, "a scalar")
    if not prior.shape.is_compatible_with((n_classes,)):
        fail(ValueError, "class_prior", expected, f"shape {_shape(prior)}")
    if validate:
        low, high, finite = _extremes(prior)
        if tf.executing_eagerly():
            check_prior_values("class_prior", float(low), float(high), bool(finite))
        else:
            _assert_values(
                finite & (low > 0),
                "class_prior",
                "finite, positive values (class frequencies or counts)",
                low,
                high,
            )
    return tf.cast(tf.math.log(prior) - tf.math.log(tf.reduce_sum(prior)), like.dtype)


@_not_converted
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

    :func:`softmax_cross_entropy` of ``logits + tau * log(class_prior)``. ``tau=1`` is the
    Balanced Softmax of Ren et al. (2020). ``class_prior`` is normalised to sum to 1, so class
    counts may be passed as they are. Predict with the plain logits: the adjustment belongs to
    training.

    Args:
      logits: ``[..., num_classes]`` floating tensor (the class axis last, as in Keras).
      labels: ``[...]`` integer class indices in ``[0, num_classes)``.
      class_prior: ``[num_classes]`` positive, finite class frequencies or counts.
      tau: the strength of the adjustment, a finite number ``>= 0``.
      class_weight: ``[num_classes]`` non-negative weights, or a ``{class: weight}`` dict.
      sample_weight: non-negative weights broadcastable to ``labels.shape``.
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"``.
      validate: check label ranges, prior and weight values: eagerly a ``ValueError``, in a
        graph a ``tf.debugging.Assert`` (see the module docstring).

    Returns:
      The reduced loss (a scalar tensor), or ``[...]`` per-element weighted losses for ``"none"``.

    Example:
      >>> import tensorflow as tf
      >>> logits, labels = tf.constant([[2.0, 0.0], [2.0, 0.0]]), tf.constant([0, 1])
      >>> round(float(logit_adjusted_cross_entropy(logits, labels, class_prior=[0.9, 0.1])), 4)
      2.1135

    References:
      Menon et al., "Long-tail learning via logit adjustment", ICLR 2021; Ren et al.,
      "Balanced Meta-Softmax for Long-Tailed Visual Recognition", NeurIPS 2020.
    """
    check_reduction(reduction)
    tau = check_number("tau", tau, low=0.0)
    logits = _floating("logits", logits)
    dtype = logits.dtype
    if dtype in (tf.float16, tf.bfloat16):  # the shift is rounded in float32, not in half
        logits = tf.cast(logits, tf.float32)
    log_prior = _log_prior(class_prior, _num_classes(logits), logits, validate)
    loss = softmax_cross_entropy(
        logits + tf.cast(tau, logits.dtype) * log_prior,
        labels,
        class_weight=class_weight,
        sample_weight=sample_weight,
        reduction=reduction,
        validate=validate,
    )
    return tf.cast(loss, dtype)


@_not_converted
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

    where :math:`p` is ``pos_weight`` (it scales only the positive term, as in
    ``tf.nn.weighted_cross_entropy_with_logits``), and :math:`w_i` is ``class_weight`` of the
    element's column times ``sample_weight``. With ``label_smoothing`` :math:`\varepsilon` the
    targets become :math:`t_i(1 - \varepsilon) + \varepsilon/2` first, as in
    ``keras.losses.BinaryCrossentropy(label_smoothing=)``; the weights are unchanged.
    ``tf.nn.softplus`` stays finite, with the finite gradient :math:`\sigma(z)`, for every
    finite :math:`z`.

    Args:
      logits: ``[..., num_labels]`` floating tensor.
      targets: same shape, values in ``[0, 1]`` (0/1 labels or probabilities).
      class_weight: ``[num_labels]`` weights, one per column of the last axis.
      sample_weight: weights broadcastable to ``targets.shape`` after trailing axes of size one
        are added.
      pos_weight: a number or ``[num_labels]`` weights for the positive term.
      label_smoothing: :math:`\varepsilon` in ``[0, 1]``.
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"``.
      validate: check target ranges and weight values (see the module docstring).

    Example:
      >>> import tensorflow as tf
      >>> z, t = tf.constant([[0.0, 0.0]]), tf.constant([[1.0, 0.0]])
      >>> round(float(sigmoid_cross_entropy(z, t, pos_weight=3.0, reduction="sum")), 4)
      2.7726

    References:
      TensorFlow ``tf.nn.weighted_cross_entropy_with_logits``; Elkan (2001) on costs and weights.
    """
    check_reduction(reduction)
    eps = check_label_smoothing(label_smoothing)
    given, logits = _check_logits(logits)
    targets = _check_targets(targets, logits, validate)
    if eps > 0:
        targets = targets * (1 - eps) + eps / 2
    n_labels = logits.shape[-1] if logits.shape.rank is not None else None
    positive = targets * tf.nn.softplus(-logits)
    if pos_weight is not None:
        p = _as_tensor("pos_weight", pos_weight, logits)
        if p.shape.rank is None or not (
            p.shape.rank == 0 or (p.shape.rank == 1 and p.shape.is_compatible_with((n_labels,)))
        ):
            fail(
                ValueError,
                "pos_weight",
                f"a number or one weight per label, shape ({n_labels},)",
                f"shape {_shape(p)}",
            )
        if validate:
            _check_weights("pos_weight", p)
        positive = positive * p
    loss = positive + (1 - targets) * tf.nn.softplus(logits)
    weight = None
    if class_weight is not None:
        weight = _class_weight_table(class_weight, _num_classes(logits), logits, validate)
    if sample_weight is not None:
        weight = _multiply(
            weight, _sample_weight(sample_weight, logits, logits, validate, what="targets")
        )
    return _restore(_reduce(loss, weight, reduction, validate), given)


# ----------------------------------------------------------------------------- focal losses


@_not_converted
def focal_loss(
    logits, labels, *, alpha=None, gamma=2.0, ignore_index=None, reduction="mean", validate=True
):
    r"""Multi-class (softmax) focal loss with a scalar or per-class ``alpha``.

    .. math::

        \ell_i = -\alpha_{y_i}\,(1 - p_{i,y_i})^{\gamma}\,\log p_{i,y_i}, \qquad
        p_i = \operatorname{softmax}(z_i)

    :math:`\log p` comes from TensorFlow's fused cross-entropy kernel and
    :math:`1 - p` is computed as ``-expm1(log p)``, clamped below at the dtype's smallest
    normal number, so the gradient stays finite where :math:`p` rounds to 1, even for
    :math:`\gamma < 1`. A scalar ``alpha`` multiplies every class alike, as in
    ``keras.losses.CategoricalFocalCrossentropy``; a ``[num_classes]`` vector is looked up by
    label (Keras multiplies a list ``alpha`` into the class axis, which has the same effect on
    one-hot labels). Unlike Keras, whose ``alpha`` defaults to 0.25, ``alpha=None`` weighs
    nothing. :math:`\alpha_{y_i}` is the element's weight for ``reduction="weighted_mean"``.
    Elements labelled ``ignore_index`` count in no sum. Half-precision logits are computed in
    float32, so the gradient stays finite (logits of :math:`\pm 60000` in float16 included).

    Args:
      logits: ``[..., num_classes]`` floating tensor.
      labels: ``[...]`` integer class indices.
      alpha: ``None``, a non-negative number, or ``[num_classes]`` non-negative weights (a
        sequence, array, tensor or ``{class: weight}`` dict).
      gamma: focusing parameter, ``gamma >= 0``.
      ignore_index: ``None`` or an integer label whose elements count in no sum (``"mean"``
        divides by the number of the others, ``"weighted_mean"`` by the sum of their alphas).
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"``.
      validate: check label ranges and weight values (see the module docstring).

    Example:
      >>> import tensorflow as tf
      >>> logits = tf.constant([[3.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
      >>> loss = focal_loss(logits, tf.constant([0, 0]), reduction="none")
      >>> [round(float(v), 4) for v in loss]
      [0.0008, 0.4883]

    References:
      Lin, Goyal, Girshick, He & Dollár, "Focal Loss for Dense Object Detection", ICCV 2017.
    """
    check_reduction(reduction)
    gamma = check_number("gamma", gamma, low=0.0)
    ignore_index = check_ignore_index(ignore_index)
    given, logits = _check_logits(logits)
    labels, keep = _check_labels(labels, logits, validate, ignore_index, reduction)
    n_classes = _num_classes(logits)
    nll, safe, inside = _nll(logits, labels, n_classes)
    loss = _modulating_factor(-tf.math.expm1(-nll), gamma) * nll
    weight = None
    if alpha is not None:
        if _is_per_class(alpha):
            table = _class_weight_table(alpha, n_classes, logits, validate, "alpha")
            weight = _lookup(table, safe, inside)
        else:
            alpha = check_number("alpha", _scalar(alpha), low=0.0)
            weight = tf.fill(tf.shape(loss), tf.constant(alpha, loss.dtype))
    return _restore(_reduce(loss, weight, reduction, validate, "alpha", keep=keep), given)


def _is_per_class(value):
    if tf.is_tensor(value) or hasattr(value, "ndim"):
        return len(value.shape) > 0
    return isinstance(value, Mapping | list | tuple)


def _scalar(value):
    if (tf.is_tensor(value) or hasattr(value, "ndim")) and len(value.shape) == 0:
        return float(value)
    return value


@_not_converted
def sigmoid_focal_loss(logits, targets, *, alpha=0.25, gamma=2.0, reduction="mean", validate=True):
    r"""Binary / multi-label focal loss in the RetinaNet form.

    .. math::

        \ell_i = \alpha_{t,i}\,(1 - p_{t,i})^{\gamma}\,\mathrm{BCE}(z_i, t_i), \quad
        p_{t} = p\,t + (1 - p)(1 - t), \quad \alpha_t = \alpha\,t + (1 - \alpha)(1 - t)

    with :math:`p = \sigma(z)`; :math:`1 - p_t` is :math:`t\,\sigma(-z) + (1 - t)\,\sigma(z)`,
    so it never subtracts two numbers close to 1. ``alpha`` weighs the positives and
    ``1 - alpha`` the negatives; ``alpha=None`` weighs neither. :math:`\alpha_t` is the element's
    weight for ``reduction="weighted_mean"``. The gradient with respect to the logits is written
    out (a ``tf.custom_gradient`` that keeps only the logits and targets for the backward pass);
    no gradient flows to ``targets``.

    Args:
      logits: floating tensor of any shape.
      targets: same shape, values in ``[0, 1]``.
      alpha: ``None`` or a number in ``[0, 1]``.
      gamma: focusing parameter, ``gamma >= 0``.
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"``.
      validate: check target ranges (see the module docstring).

    Example:
      >>> import tensorflow as tf
      >>> round(float(sigmoid_focal_loss(tf.constant([0.0]), tf.constant([1.0]))), 4)
      0.0433

    References:
      Lin et al., ICCV 2017; ``keras.losses.BinaryFocalCrossentropy(apply_class_balancing=True)``.
    """
    check_reduction(reduction)
    gamma = check_number("gamma", gamma, low=0.0)
    if alpha is not None:
        alpha = check_number("alpha", alpha, low=0.0, high=1.0)
    given = _floating("logits", logits)
    logits = _working(given)
    targets = _check_targets(targets, logits, validate)
    loss = _sigmoid_focal_terms(logits, tf.stop_gradient(targets), gamma)
    weight = None if alpha is None else alpha * targets + (1 - alpha) * (1 - targets)
    return _restore(_reduce(loss, weight, reduction, validate, "alpha"), given)


def _sigmoid_focal_terms(z, t, gamma):
    r"""The unweighted terms :math:`(1 - p_t)^\gamma\,\mathrm{BCE}(z, t)`, with a hand-written
    gradient that keeps only ``z`` and ``t`` for the backward pass (automatic differentiation
    of the formula keeps a dozen temporaries of the logits' size).

    With :math:`\sigma = \sigma(z)`, :math:`\bar\sigma = \sigma(-z)`,
    :math:`q = 1 - p_t = t\bar\sigma + (1 - t)\sigma`:
    :math:`\partial\mathrm{BCE}/\partial z = \sigma - t`,
    :math:`\partial q/\partial z = (1 - 2t)\,\sigma\bar\sigma`, and
    :math:`\partial\ell/\partial z = \gamma q^{\gamma - 1}\,\partial q/\partial z\,\mathrm{BCE}
    + q^\gamma (\sigma - t)`, with :math:`q` clamped below at the smallest normal number as
    in :func:`_modulating_factor` (no gradient through the clamp). No gradient flows to ``t``.
    """
    tiny = ml_dtypes.finfo(z.dtype.as_numpy_dtype).smallest_normal

    def parts(z):
        sigma, sigma_neg = tf.math.sigmoid(z), tf.math.sigmoid(-z)
        bce = t * tf.nn.softplus(-z) + (1 - t) * tf.nn.softplus(z)
        q = t * sigma_neg + (1 - t) * sigma
        return sigma, sigma_neg, bce, q, q > tiny

    @tf.custom_gradient
    def terms(z):
        _, _, bce, q, above = parts(z)
        safe = tf.where(above, q, tf.fill(tf.shape(q), tf.constant(tiny, q.dtype)))

        def backward(upstream):
            sigma, sigma_neg, bce, q, above = parts(z)  # recomputed, not kept
            safe = tf.where(above, q, tf.fill(tf.shape(q), tf.constant(tiny, q.dtype)))
            focus = tf.where(
                above,
                gamma * safe ** (gamma - 1) * (1 - 2 * t) * sigma * sigma_neg,
                tf.zeros_like(q),
            )
            return upstream * (focus * bce + safe**gamma * (sigma - t))

        return safe**gamma * bce, backward

    return terms(z)


# ----------------------------------------------------------------------------- regression


@_not_converted
def huber_loss(prediction, target, *, delta=1.0, reduction="mean", validate=True):
    r"""Huber loss: quadratic for small residuals, linear for large ones.

    .. math::

        \ell_i = \tfrac12 q_i^2 + \delta\,(|d_i| - q_i), \qquad
        q_i = \min(|d_i|, \delta), \quad d_i = \text{prediction}_i - \text{target}_i

    which is :math:`\tfrac12 d^2` for :math:`|d| \le \delta` and
    :math:`\delta(|d| - \tfrac12\delta)` beyond, with a finite gradient everywhere. Unlike
    ``keras.losses.Huber``, which averages over the last axis, ``reduction="none"`` keeps every
    element; ``"mean"`` equals Keras' default reduction.

    Args:
      prediction: floating tensor of any shape.
      target: tensor of the same shape.
      delta: threshold between the quadratic and linear parts, ``delta > 0``.
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"`` (the last equals
        ``"mean"``: there are no weights).
      validate: unused (there are no values to check); kept for a uniform signature.

    Example:
      >>> import tensorflow as tf
      >>> loss = huber_loss(tf.constant([0.5, 3.0]), tf.zeros(2), reduction="none")
      >>> loss.numpy().tolist()
      [0.125, 2.5]

    References:
      Huber, "Robust Estimation of a Location Parameter", Ann. Math. Statist. 35(1), 1964.
    """
    check_reduction(reduction)
    delta = check_number("delta", delta, low=0.0, low_open=True)
    prediction = _floating("prediction", prediction)
    target = _tensor("target", target)
    if not target.shape.is_compatible_with(prediction.shape):
        fail(
            ValueError,
            "target",
            f"shape {_shape(prediction)} (the prediction's)",
            f"shape {_shape(target)}",
        )
    _check_not_empty("prediction", prediction)
    x = _working(prediction)
    size = tf.abs(x - tf.cast(target, x.dtype))
    q = tf.where(size <= delta, size, tf.fill(tf.shape(size), tf.constant(delta, size.dtype)))
    loss = 0.5 * q * q + delta * (size - q)
    return _restore(_reduce(loss, None, reduction, validate), prediction)


# ----------------------------------------------------------------------------- segmentation


@_not_converted
def dice_loss(
    probabilities, targets, *, smooth=1.0, ignore_index=None, reduction="mean", validate=True
):
    r"""Soft Dice loss, one value per sample.

    .. math::

        \ell_n = 1 - \frac{2\sum_k p_{n,k} t_{n,k} + s}{\sum_k p_{n,k} + \sum_k t_{n,k} + s}

    where :math:`k` runs over every axis but the first (pixels, and classes if there are any) and
    :math:`s` is ``smooth``. ``reduction`` then works over the samples (``"weighted_mean"`` equals
    ``"mean"``: there are no weights). With ``ignore_index`` (a number such as 255), every
    element whose target equals it is left out of all three sums of its sample; a sample with
    every element ignored has loss 0.

    Args:
      probabilities: ``[batch, ...]`` predicted probabilities in ``[0, 1]``.
      targets: same shape, values in ``[0, 1]`` (or ``ignore_index``).
      smooth: ``smooth > 0``; it keeps an empty mask predicted empty at loss 0 instead of 0/0.
      ignore_index: ``None`` or an integer target value whose elements count nowhere.
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"``.
      validate: check that both inputs lie in ``[0, 1]`` (see the module docstring).

    Returns:
      The reduced loss, or ``[batch]`` losses for ``"none"``.

    Example:
      >>> import tensorflow as tf
      >>> p = tf.constant([[[0.9, 0.1], [0.2, 0.8]]])
      >>> t = tf.constant([[[1.0, 0.0], [0.0, 1.0]]])
      >>> round(float(dice_loss(p, t)), 4)
      0.12

    References:
      Milletari, Navab & Ahmadi, "V-Net", 3DV 2016; Ronneberger et al. (2015) for the U-Net setting.
    """
    check_reduction(reduction)
    smooth = check_number("smooth", smooth, low=0.0, low_open=True)
    ignore_index = check_ignore_index(ignore_index)
    given = _floating("probabilities", probabilities)
    if given.shape.rank is not None and given.shape.rank < 2:
        fail(
            ValueError,
            "probabilities",
            "shape [batch, ...] with at least two dimensions",
            f"shape {_shape(given)}",
        )
    p = _working(given)
    targets = _check_targets(targets, p, validate, ignore_index=ignore_index)
    if validate:
        _check_unit_interval("probabilities", p)
    if ignore_index is not None:
        targets, keep = targets
        p = tf.where(keep, p, tf.zeros_like(p))
    rank = p.shape.rank
    axes = tf.range(1, tf.rank(p)) if rank is None else list(range(1, rank))
    overlap = tf.reduce_sum(p * targets, axis=axes)
    total = tf.reduce_sum(p, axis=axes) + tf.reduce_sum(targets, axis=axes)
    loss = 1 - (2 * overlap + smooth) / (total + smooth)
    return _restore(_reduce(loss, None, reduction, validate), given)


def _soft_counts(logits, targets, sample_weight, validate):
    """The logits as given and the expected counts TP, PP, AP per column (summed over axis 0)."""
    given = _floating("logits", logits)
    if given.shape.rank == 0:
        fail(ValueError, "logits", "at least one dimension (the batch axis)", "a 0-d array")
    x = _working(given)
    t = _check_targets(targets, x, validate)
    p = tf.math.sigmoid(x)  # finite, with a finite gradient, for every finite logit
    if sample_weight is not None:
        w = _sample_weight(sample_weight, x, x, validate, what="targets")
        p_weighted, t_weighted = p * w, t * w
    else:
        p_weighted, t_weighted = p, t
    counts = (
        tf.reduce_sum(p_weighted * t, axis=0),
        tf.reduce_sum(p_weighted, axis=0),
        tf.reduce_sum(t_weighted, axis=0),
    )
    return given, counts


@_not_converted
def soft_precision_loss(
    logits, targets, *, sample_weight=None, smooth=1.0, reduction="mean", validate=True
):
    r"""One minus the soft precision of the batch, one value per column.

    .. math::

        \ell_c = 1 - \frac{TP_c + s}{PP_c + s}, \qquad
        TP_c = \sum_i w_i\, p_{i,c}\, t_{i,c}, \quad PP_c = \sum_i w_i\, p_{i,c}

    with :math:`p = \sigma(z)`, :math:`s` = ``smooth`` and the sums over the batch axis (axis 0)
    only: every element of ``targets.shape[1:]`` is a column. The counts are expected counts
    under the predicted probabilities, a differentiable surrogate of :math:`TP / (TP + FP)`. The
    loss is **non-decomposable**: its value on a batch depends on the whole batch, so the batch
    size matters (and a batch split over several replicas has another loss on each).

    Args:
      logits: ``[batch]`` or ``[batch, d1, ...]`` real floating array, one sigmoid per element.
      targets: same shape, values in ``[0, 1]``.
      sample_weight: non-negative weights broadcastable to ``targets.shape`` after trailing
        axes of size one are added (``[batch]`` weighs samples).
      smooth: a finite number ``> 0``; the loss is then always finite.
      reduction: ``"none"`` (shape ``targets.shape[1:]``), ``"sum"`` or ``"mean"`` over the
        columns. ``"weighted_mean"`` is refused: there are no element weights to divide by.
      validate: check target ranges and weight values (see the module docstring).

    Example:
      >>> import tensorflow as tf
      >>> z, t = tf.zeros(3), tf.constant([1.0, 0.0, 0.0])
      >>> round(float(soft_precision_loss(z, t, smooth=1e-6)), 4)  # 1 - 0.5 / 1.5
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


@_not_converted
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
      validate: check target ranges and weight values (see the module docstring).

    Example:
      >>> import tensorflow as tf
      >>> z, t = tf.zeros(3), tf.constant([1.0, 0.0, 0.0])
      >>> round(float(soft_f1_loss(z, t, smooth=1e-6)), 4)  # 1 - 2 * 0.5 / (1.5 + 1)
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


@_not_converted
def cost_sensitive_cross_entropy(
    logits, labels, cost_matrix, *, ignore_index=None, reduction="mean", validate=True
):
    r"""Cross-entropy of each element weighted by the cost of the mistake the model makes there.

    .. math::

        \ell_i = -\log \operatorname{softmax}(z_i)_{y_i}, \qquad
        w_i = C[y_i, \hat y_i], \quad \hat y_i = \arg\max_j z_{ij}

    The weight depends on the predicted class but carries no gradient (``argmax`` has none): it
    rescales each element's cross-entropy by how costly its current mistake is. Works for any
    leading shape, so every pixel of a segmentation map gets its own cost. Elements labelled
    ``ignore_index`` count in no sum.

    Args:
      logits: ``[..., num_classes]`` floating tensor.
      labels: ``[...]`` integer class indices.
      cost_matrix: ``[num_classes, num_classes]`` non-negative costs, row = true class,
        column = predicted class.
      ignore_index: ``None`` or an integer label whose elements count in no sum.
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"`` (divides by the sum of
        the costs).
      validate: check label ranges and cost values (see the module docstring).

    Example:
      >>> import tensorflow as tf
      >>> cost = [[1.0, 1.0], [5.0, 1.0]]  # missing class 1 costs 5
      >>> logits = tf.constant([[2.0, 0.0], [2.0, 0.0]])
      >>> loss = cost_sensitive_cross_entropy(logits, tf.constant([0, 1]), cost, reduction="none")
      >>> [round(float(v), 4) for v in loss]
      [0.1269, 10.6346]

    References:
      Elkan, "The Foundations of Cost-Sensitive Learning", IJCAI 2001.
    """
    check_reduction(reduction)
    ignore_index = check_ignore_index(ignore_index)
    given, logits = _check_logits(logits)
    labels, keep = _check_labels(labels, logits, validate, ignore_index, reduction)
    n_classes = _num_classes(logits)
    cost = _as_tensor("cost_matrix", cost_matrix, logits)
    if not (cost.shape.rank == 2 and cost.shape.is_compatible_with((n_classes, n_classes))):
        fail(
            ValueError,
            "cost_matrix",
            f"shape ({n_classes}, {n_classes})",
            f"shape {_shape(cost)}",
        )
    if validate:
        _check_weights("cost_matrix", cost)
    loss, safe, inside = _nll(logits, labels, n_classes)
    # The entry C[label, argmax(z)] of the flattened cost matrix, for every element.
    predicted = tf.cast(tf.argmax(logits, axis=-1), safe.dtype)
    weight = _lookup(tf.reshape(cost, [-1]), safe * n_classes + predicted, inside)
    return _restore(_reduce(loss, weight, reduction, validate, "cost_matrix", keep=keep), given)


# ----------------------------------------------------------------------------- Keras 3

# One implementation of each Keras class, in keras.ops (it runs on every Keras 3 backend).
from companion.keras import (  # noqa: E402
    CostSensitiveCrossEntropy,
    DiceLoss,
    FocalLoss,
    HuberLoss,
    LogitAdjustedCrossEntropy,
    SigmoidCrossEntropy,
    SigmoidFocalLoss,
    SoftF1Loss,
    SoftmaxCrossEntropy,
    SoftPrecisionLoss,
    fit_sample_weight,
)
