r"""The losses in ``keras.ops``: one code path for Keras 3 on the TensorFlow, JAX, torch backends.

The functions take the same arguments as :mod:`companion.reference` and compute the same numbers
(the contract is written there once); what differs here:

* Tensors are the backend's (``tf.Tensor``, ``jax.Array``, ``torch.Tensor``); NumPy arrays and
  Python numbers are converted with ``keras.ops.convert_to_tensor``. The class axis is last, as
  in Keras. The backend is the one Keras was imported with (``KERAS_BACKEND``).
* Shapes, dtypes and hyperparameters are checked on every call. Checks of values (label ranges,
  weight signs, targets in ``[0, 1]``, a positive sum for ``"weighted_mean"``) need the values on
  the host: they run when the inputs are concrete (eager TensorFlow, eager JAX, PyTorch) and
  ``validate=True``, and are skipped inside a compiled function (``tf.function``, ``jax.jit``,
  ``fit`` unless ``run_eagerly=True``), where no value is known yet. The :class:`keras.losses.Loss`
  classes therefore check every argument they are made with when they are made.
* Half precision (float16, bfloat16) is computed in float32 and returned in the input's dtype.
* JAX computes in float32 unless ``jax_enable_x64`` is set (``JAX_ENABLE_X64=1``); with it set,
  float64 inputs stay float64 as on the other backends.

The ``Loss`` classes (:class:`SoftmaxCrossEntropy`, :class:`FocalLoss`, ...) are thin: they store
their checked arguments, call the function with ``reduction="none"``, and leave Keras to apply its
own reduction and ``sample_weight``. They are registered for serialisation (package
``"companion"``), so a model compiled with one saves to ``.keras`` and loads back with the same
loss and no ``custom_objects``. :func:`fit_sample_weight` merges class and sample weights into
the one ``sample_weight`` array Keras 3 ``fit`` accepts (it refuses both at once).

Importing this module sets ``TF_CPP_MIN_LOG_LEVEL=3`` unless it is already set, and silences the
C++ runtime while Keras (and with it the backend) is first imported.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Mapping

import ml_dtypes
import numpy as np

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
from companion.weights import merge_weights

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

with quiet_stderr():
    import keras
    from keras import ops

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

BACKEND = keras.backend.backend()

# ----------------------------------------------------------------------------- input handling

_FLOATS = ("float16", "bfloat16", "float32", "float64")
_HALF = ("float16", "bfloat16")


def _dtype(x):
    return keras.backend.standardize_dtype(x.dtype)


def _concrete(x):
    """Whether ``x`` holds values that can be read now (not inside a compiled function)."""
    if isinstance(x, keras.KerasTensor):
        return False
    if BACKEND == "tensorflow":
        import tensorflow as tf

        return tf.executing_eagerly()
    if BACKEND == "jax":
        import jax

        return not isinstance(x, jax.core.Tracer)
    if BACKEND == "torch":
        import torch

        return not torch.compiler.is_compiling()
    return True


def _tensor(name, x):
    """``x`` as a tensor of the backend (a NumPy array keeps its dtype)."""
    if ops.is_tensor(x) or isinstance(x, keras.KerasTensor):
        return x
    if isinstance(x, str | bytes) or x is None:
        fail(TypeError, name, "a tensor or an array", type(x).__name__)
    try:
        array = np.asarray(x)
        if array.dtype == object or array.dtype.kind in "USV":
            raise TypeError(f"dtype {array.dtype}")
        return ops.convert_to_tensor(array)
    except (TypeError, ValueError) as e:
        fail(TypeError, name, "a tensor or an array", f"{type(x).__name__} ({e})")


def _floating(name, x):
    x = _tensor(name, x)
    if _dtype(x) not in _FLOATS:
        fail(TypeError, name, "a real floating-point array", f"dtype {_dtype(x)}")
    return x


def _working(x):
    """``x`` in float32 if it is a half-precision float, else ``x`` (see the module docstring)."""
    return ops.cast(x, "float32") if _dtype(x) in _HALF else x


def _restore(result, like):
    return result if _dtype(result) == _dtype(like) else ops.cast(result, _dtype(like))


def _shape(x):
    """The static shape as a tuple (``None`` for unknown dimensions)."""
    return tuple(x.shape)


def _compatible(shape, other):
    return len(shape) == len(other) and all(
        a is None or b is None or a == b for a, b in zip(shape, other, strict=True)
    )


def _check_logits(logits, name="logits"):
    logits = _floating(name, logits)
    if len(logits.shape) == 0:
        fail(ValueError, name, "at least one dimension (the class axis)", "a 0-d array")
    if logits.shape[-1] is not None:
        check_class_axis(logits.shape[-1], name)
    return logits, _working(logits)


def _num_classes(logits):
    n_classes = logits.shape[-1]
    if n_classes is None:
        fail(
            ValueError,
            "logits",
            "a known number of classes (a static last axis)",
            f"shape {_shape(logits)}",
        )
    return n_classes


def _as_tensor(name, value, like):
    """``value`` (tensor, array, sequence or number) as a tensor of ``like``'s dtype."""
    try:
        if ops.is_tensor(value):
            return ops.cast(value, _dtype(like))
        if isinstance(value, list | tuple) and any(ops.is_tensor(v) for v in value):
            return ops.stack([_as_tensor(name, v, like) for v in value])
        array = np.asarray(value, dtype=np.float64)
        return ops.convert_to_tensor(array, dtype=_dtype(like))
    except (TypeError, ValueError) as e:
        fail(TypeError, name, "an array, a sequence of numbers or a number", f"{value!r} ({e})")


def _check_not_empty(name, x):
    shape = _shape(x)
    if all(s is not None for s in shape):
        check_not_empty(name, shape)


def _host(x):
    """A NumPy copy of a tensor, array, sequence or number."""
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    if ops.is_tensor(x):
        return ops.convert_to_numpy(x)
    return np.asarray(x)


def _extremes(x):
    """Minimum, maximum and finiteness of a concrete tensor, read on the host."""
    low, high = ops.min(x), ops.max(x)
    finite = ops.all(ops.isfinite(x)) if _dtype(x) in _FLOATS else True
    return float(_host(low)), float(_host(high)), bool(_host(finite))


def _check_weights(name, w):
    if _concrete(w):
        check_weight_values(name, *_extremes(w))


def _check_unit_interval(name, x):
    if _concrete(x):
        check_unit_interval(name, *_extremes(x))


def _check_labels(labels, logits, validate, ignore_index=None, reduction="mean"):
    """Integer labels of the logits' shape without the class axis, ignored elements set to class
    0, and the boolean mask of the elements that count (``None`` without ``ignore_index``)."""
    labels = _tensor("labels", labels)
    dtype = _dtype(labels)
    if "int" not in dtype:
        fail(
            TypeError,
            "labels",
            "an integer array of class indices (not one-hot)",
            f"dtype {dtype}",
        )
    if not _compatible(_shape(labels), _shape(logits)[:-1]):
        fail(
            ValueError,
            "labels",
            f"shape {_shape(logits)[:-1]} (the logits' shape without the class axis)",
            f"shape {_shape(labels)}",
        )
    _check_not_empty("labels", labels)
    n_classes = _num_classes(logits)
    if dtype not in ("int32", "int64"):
        labels = ops.cast(labels, "int32")
    keep = None if ignore_index is None else ops.not_equal(labels, ignore_index)
    if validate and _concrete(labels):
        host = _host(labels)
        if keep is not None:
            kept = host[host != ignore_index]
            check_some_kept(int(kept.size), int(host.size), ignore_index, reduction)
            host = kept
        if host.size:
            check_label_range(int(host.min()), int(host.max()), n_classes)
    if keep is not None:
        labels = ops.where(keep, labels, ops.zeros_like(labels))
    return labels, keep


def _check_targets(targets, logits, validate, name="targets", ignore_index=None):
    """Targets of the logits' shape in the logits' dtype (with ``ignore_index``, also the mask)."""
    targets = _tensor(name, targets)
    if not _compatible(_shape(targets), _shape(logits)):
        fail(ValueError, name, f"shape {_shape(logits)}", f"shape {_shape(targets)}")
    _check_not_empty(name, targets)
    targets = ops.cast(targets, _dtype(logits))
    if ignore_index is None:
        if validate:
            _check_unit_interval(name, targets)
        return targets
    keep = ops.not_equal(targets, ops.cast(ignore_index, _dtype(targets)))
    targets = ops.where(keep, targets, ops.zeros_like(targets))
    if validate:
        _check_unit_interval(name, targets)
    return targets, keep


def _class_weight_table(class_weight, n_classes, like, validate, name="class_weight"):
    class_weight = class_table(name, class_weight, n_classes)
    w = _as_tensor(name, class_weight, like)
    expected = f"one weight per class, shape ({n_classes},)"
    if len(w.shape) == 0:
        fail(ValueError, name, expected, "a scalar")
    if not _compatible(_shape(w), (n_classes,)):
        fail(ValueError, name, expected, f"shape {_shape(w)}")
    if validate:
        _check_weights(name, w)
    return w


def _sample_weight(sample_weight, target, like, validate, name="sample_weight", what="labels"):
    """``sample_weight`` broadcast to ``target``'s shape (trailing axes of size one added first)."""
    w = _as_tensor(name, sample_weight, like)
    pad = len(target.shape) - len(w.shape)
    known = [
        t if t is not None else (s if s is not None else 1)
        for s, t in zip(_shape(w) + (1,) * max(0, pad), _shape(target), strict=False)
    ]
    given = tuple(1 if s is None else s for s in _shape(w))
    broadcast_shape(name, given, tuple(known), f"the {what}' shape")
    if pad > 0:
        w = ops.reshape(w, (*ops.shape(w), *(1,) * pad))
    if validate:
        _check_weights(name, w)
    return ops.broadcast_to(w, ops.shape(target))


def _multiply(a, b):
    if a is None:
        return b
    return a if b is None else a * b


def _count(x):
    """The number of elements of ``x`` as a scalar of its dtype."""
    shape = _shape(x)
    if all(s is not None for s in shape):
        return math.prod(shape)
    return ops.cast(ops.size(x), _dtype(x))


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
    """Apply the element weights and the reduction (see :mod:`companion.reference`)."""
    if weight is not None:
        if keep is not None:
            weight = ops.where(keep, weight, ops.zeros_like(weight))
        if not applied:
            loss = loss * weight
    if keep is not None:
        loss = ops.where(keep, loss, ops.zeros_like(loss))
    if reduction == "none":
        return loss
    total = ops.sum(loss)
    if reduction == "sum":
        return total
    if reduction == "mean" or weight is None:
        if keep is None:
            return total / _count(loss)
        count = ops.sum(ops.cast(keep, _dtype(loss)))
        # All ignored (possible with validate=False only): 0 rather than 0/0.
        return total / ops.where(count > 0, count, ops.ones_like(count))
    denominator = ops.sum(ops.broadcast_to(weight, ops.shape(loss)))
    if validate and _concrete(denominator):
        check_positive_sum(weight_name, float(_host(denominator)))
    # With validate=False an all-zero weight gives 0 rather than 0/0.
    return total / ops.where(denominator > 0, denominator, ops.ones_like(denominator))


def _modulating_factor(one_minus_p, gamma):
    """(1 - p_t)^gamma, clamped below at the smallest normal number so that the gradient stays
    finite where 1 - p_t underflows to 0 and gamma < 1."""
    if gamma == 0:
        return ops.ones_like(one_minus_p)
    tiny = float(ml_dtypes.finfo(_dtype(one_minus_p)).smallest_normal)
    # ops.where rather than ops.maximum: Keras 3.15's torch backend computes the maximum of two
    # float64 tensors in float32.
    safe = ops.where(one_minus_p > tiny, one_minus_p, ops.full_like(one_minus_p, tiny))
    if gamma == 1:
        return safe
    if gamma == 2:
        return safe * safe
    return ops.power(safe, gamma)


def _nll(logits, labels):
    """-log softmax(logits)[label] for every element (the backend's fused kernel)."""
    return ops.sparse_categorical_crossentropy(labels, logits, from_logits=True)


def _softplus_both(z):
    """softplus(-z) and softplus(z), as max(∓z, 0) + log(1 + exp(-|z|)): finite for every z,
    and neither is a difference of large numbers."""
    shared = ops.log1p(ops.exp(-ops.abs(z)))
    return ops.relu(-z) + shared, ops.relu(z) + shared


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

    The contract, formula and arguments: :func:`companion.reference.softmax_cross_entropy`.
    Here the class axis is last and :math:`-\log p_{y}` comes from
    ``keras.ops.sparse_categorical_crossentropy(from_logits=True)``, the backend's fused kernel.

    Example:
      >>> import numpy as np
      >>> logits, labels = np.array([[2.0, 0.0], [2.0, 0.0]]), np.array([0, 1])
      >>> round(float(softmax_cross_entropy(logits, labels, class_weight=[1.0, 3.0])), 4)
      3.2539
    """
    check_reduction(reduction)
    ignore_index = check_ignore_index(ignore_index)
    eps = check_label_smoothing(label_smoothing)
    smoothing_weight = check_smoothing_weight(smoothing_weight)
    given, logits = _check_logits(logits)
    labels, keep = _check_labels(labels, logits, validate, ignore_index, reduction)
    n_classes = _num_classes(logits)
    loss = _nll(logits, labels)
    table = weight = None
    if class_weight is not None:
        table = _class_weight_table(class_weight, n_classes, logits, validate)
        weight = ops.take(table, labels, axis=0)
    applied = False
    if eps > 0:
        log_p = ops.log_softmax(logits, axis=-1)
        if smoothing_weight == "per_class" and table is not None:
            uniform = -ops.sum(log_p * table, axis=-1) / n_classes
            loss = (1 - eps) * weight * loss + eps * uniform
            applied = True
        else:
            loss = (1 - eps) * loss - eps * ops.sum(log_p, axis=-1) / n_classes
    if sample_weight is not None:
        sw = _sample_weight(sample_weight, labels, logits, validate)
        if applied:
            loss = loss * sw
        weight = _multiply(weight, sw)
    result = _reduce(loss, weight, reduction, validate, keep=keep, applied=applied)
    return _restore(result, given)


def _log_prior(class_prior, n_classes, like, validate):
    """``log(class_prior / sum(class_prior))`` in ``like``'s dtype (read in at least float32)."""
    wide = "float64" if _dtype(like) == "float64" else "float32"
    prior = _as_tensor("class_prior", class_prior, ops.zeros((), dtype=wide))
    expected = f"one positive value per class, shape ({n_classes},)"
    if len(prior.shape) == 0:
        fail(ValueError, "class_prior", expected, "a scalar")
    if not _compatible(_shape(prior), (n_classes,)):
        fail(ValueError, "class_prior", expected, f"shape {_shape(prior)}")
    if validate and _concrete(prior):
        check_prior_values("class_prior", *_extremes(prior))
    return ops.cast(ops.log(prior) - ops.log(ops.sum(prior)), _dtype(like))


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
    r"""Softmax cross-entropy of ``logits + tau * log(class_prior)`` (logit adjustment).

    The contract: :func:`companion.reference.logit_adjusted_cross_entropy`.

    Example:
      >>> import numpy as np
      >>> logits, labels = np.array([[2.0, 0.0], [2.0, 0.0]]), np.array([0, 1])
      >>> round(float(logit_adjusted_cross_entropy(logits, labels, class_prior=[0.9, 0.1])), 4)
      2.1135
    """
    check_reduction(reduction)
    tau = check_number("tau", tau, low=0.0)
    given = _floating("logits", logits)
    logits = _working(given)
    log_prior = _log_prior(class_prior, _num_classes(logits), logits, validate)
    loss = softmax_cross_entropy(
        logits + tau * log_prior,
        labels,
        class_weight=class_weight,
        sample_weight=sample_weight,
        reduction=reduction,
        validate=validate,
    )
    return _restore(loss, given)


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

    The contract: :func:`companion.reference.sigmoid_cross_entropy`. Both softplus terms are
    :math:`\max(\mp z, 0) + \log(1 + e^{-|z|})`, sharing the logarithm.

    Example:
      >>> import numpy as np
      >>> z, t = np.array([[0.0, 0.0]]), np.array([[1.0, 0.0]])
      >>> round(float(sigmoid_cross_entropy(z, t, pos_weight=3.0, reduction="sum")), 4)
      2.7726
    """
    check_reduction(reduction)
    eps = check_label_smoothing(label_smoothing)
    given, logits = _check_logits(logits)
    targets = _check_targets(targets, logits, validate)
    if eps > 0:
        targets = targets * (1 - eps) + eps / 2
    n_labels = logits.shape[-1]
    softplus_neg, softplus_pos = _softplus_both(logits)
    positive = targets * softplus_neg
    if pos_weight is not None:
        p = _as_tensor("pos_weight", pos_weight, logits)
        if not (len(p.shape) == 0 or (len(p.shape) == 1 and _compatible(_shape(p), (n_labels,)))):
            fail(
                ValueError,
                "pos_weight",
                f"a number or one weight per label, shape ({n_labels},)",
                f"shape {_shape(p)}",
            )
        if validate:
            _check_weights("pos_weight", p)
        positive = positive * p
    loss = positive + (1 - targets) * softplus_pos
    weight = None
    if class_weight is not None:
        weight = _class_weight_table(class_weight, _num_classes(logits), logits, validate)
    if sample_weight is not None:
        weight = _multiply(
            weight, _sample_weight(sample_weight, logits, logits, validate, what="targets")
        )
    if weight is not None:
        weight = ops.broadcast_to(weight, ops.shape(loss))
    return _restore(_reduce(loss, weight, reduction, validate), given)


# ----------------------------------------------------------------------------- focal losses


def focal_loss(
    logits, labels, *, alpha=None, gamma=2.0, ignore_index=None, reduction="mean", validate=True
):
    r"""Multi-class (softmax) focal loss with a scalar or per-class ``alpha``.

    The contract: :func:`companion.reference.focal_loss`. :math:`\log p_y` comes from the
    backend's fused cross-entropy kernel and :math:`1 - p_y` from ``-expm1(log p_y)``, clamped
    below at the smallest normal number.

    Example:
      >>> import numpy as np
      >>> logits = np.array([[3.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
      >>> loss = focal_loss(logits, np.array([0, 0]), reduction="none")
      >>> [round(float(v), 4) for v in loss]
      [0.0008, 0.4883]
    """
    check_reduction(reduction)
    gamma = check_number("gamma", gamma, low=0.0)
    ignore_index = check_ignore_index(ignore_index)
    given, logits = _check_logits(logits)
    labels, keep = _check_labels(labels, logits, validate, ignore_index, reduction)
    n_classes = _num_classes(logits)
    nll = _nll(logits, labels)
    loss = _modulating_factor(-ops.expm1(-nll), gamma) * nll
    weight = None
    if alpha is not None:
        if _is_per_class(alpha):
            table = _class_weight_table(alpha, n_classes, logits, validate, "alpha")
            weight = ops.take(table, labels, axis=0)
        else:
            alpha = check_number("alpha", _scalar(alpha), low=0.0)
            weight = ops.full(ops.shape(loss), alpha, dtype=_dtype(loss))
    return _restore(_reduce(loss, weight, reduction, validate, "alpha", keep=keep), given)


def _is_per_class(value):
    if ops.is_tensor(value) or hasattr(value, "ndim"):
        return len(value.shape) > 0
    return isinstance(value, Mapping | list | tuple)


def _scalar(value):
    if (ops.is_tensor(value) or hasattr(value, "ndim")) and len(value.shape) == 0:
        return float(_host(value))
    return value


def sigmoid_focal_loss(logits, targets, *, alpha=0.25, gamma=2.0, reduction="mean", validate=True):
    r"""Binary / multi-label focal loss in the RetinaNet form.

    The contract: :func:`companion.reference.sigmoid_focal_loss`. :math:`1 - p_t` is
    :math:`t\,\sigma(-z) + (1 - t)\,\sigma(z)`, so it never subtracts two numbers close to 1.

    Example:
      >>> import numpy as np
      >>> round(float(sigmoid_focal_loss(np.array([0.0]), np.array([1.0]))), 4)
      0.0433
    """
    check_reduction(reduction)
    gamma = check_number("gamma", gamma, low=0.0)
    if alpha is not None:
        alpha = check_number("alpha", alpha, low=0.0, high=1.0)
    given = _floating("logits", logits)
    logits = _working(given)
    targets = _check_targets(targets, logits, validate)
    softplus_neg, softplus_pos = _softplus_both(logits)
    bce = targets * softplus_neg + (1 - targets) * softplus_pos
    one_minus_p_t = targets * ops.sigmoid(-logits) + (1 - targets) * ops.sigmoid(logits)
    loss = _modulating_factor(one_minus_p_t, gamma) * bce
    weight = None if alpha is None else (1 - alpha) + (2 * alpha - 1) * targets
    return _restore(_reduce(loss, weight, reduction, validate, "alpha"), given)


# ----------------------------------------------------------------------------- regression


def huber_loss(prediction, target, *, delta=1.0, reduction="mean", validate=True):
    r"""Huber loss: :math:`\tfrac12 q^2 + \delta(|d| - q)` with :math:`q = \min(|d|, \delta)`.

    The contract: :func:`companion.reference.huber_loss`. Unlike ``keras.losses.Huber``, which
    averages over the last axis, ``reduction="none"`` keeps every element.

    Example:
      >>> import numpy as np
      >>> loss = huber_loss(np.array([0.5, 3.0]), np.zeros(2), reduction="none")
      >>> [float(v) for v in loss]
      [0.125, 2.5]
    """
    check_reduction(reduction)
    delta = check_number("delta", delta, low=0.0, low_open=True)
    prediction = _floating("prediction", prediction)
    target = _tensor("target", target)
    if not _compatible(_shape(target), _shape(prediction)):
        fail(
            ValueError,
            "target",
            f"shape {_shape(prediction)} (the prediction's)",
            f"shape {_shape(target)}",
        )
    _check_not_empty("prediction", prediction)
    x = _working(prediction)
    size = ops.abs(x - ops.cast(target, _dtype(x)))
    q = ops.where(size <= delta, size, ops.full_like(size, delta))  # not ops.minimum (above)
    loss = 0.5 * q * q + delta * (size - q)
    return _restore(_reduce(loss, None, reduction, validate), prediction)


# ----------------------------------------------------------------------------- segmentation


def dice_loss(
    probabilities, targets, *, smooth=1.0, ignore_index=None, reduction="mean", validate=True
):
    r"""Soft Dice loss, one value per sample, over every axis but the first.

    The contract: :func:`companion.reference.dice_loss`.

    Example:
      >>> import numpy as np
      >>> p = np.array([[[0.9, 0.1], [0.2, 0.8]]])
      >>> t = np.array([[[1.0, 0.0], [0.0, 1.0]]])
      >>> round(float(dice_loss(p, t)), 4)
      0.12
    """
    check_reduction(reduction)
    smooth = check_number("smooth", smooth, low=0.0, low_open=True)
    ignore_index = check_ignore_index(ignore_index)
    given = _floating("probabilities", probabilities)
    if len(given.shape) < 2:
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
        p = ops.where(keep, p, ops.zeros_like(p))
    axes = tuple(range(1, len(p.shape)))
    overlap = ops.sum(p * targets, axis=axes)
    total = ops.sum(p + targets, axis=axes)
    loss = 1 - (2 * overlap + smooth) / (total + smooth)
    return _restore(_reduce(loss, None, reduction, validate), given)


def _soft_counts(logits, targets, sample_weight, validate):
    given = _floating("logits", logits)
    if len(given.shape) == 0:
        fail(ValueError, "logits", "at least one dimension (the batch axis)", "a 0-d array")
    x = _working(given)
    t = _check_targets(targets, x, validate)
    p = ops.sigmoid(x)
    if sample_weight is not None:
        w = _sample_weight(sample_weight, x, x, validate, what="targets")
        p_weighted, t_weighted = p * w, t * w
    else:
        p_weighted, t_weighted = p, t
    counts = (
        ops.sum(p_weighted * t, axis=0),
        ops.sum(p_weighted, axis=0),
        ops.sum(t_weighted, axis=0),
    )
    return given, counts


def soft_precision_loss(
    logits, targets, *, sample_weight=None, smooth=1.0, reduction="mean", validate=True
):
    r"""One minus the soft precision of the batch, one value per column.

    The contract: :func:`companion.reference.soft_precision_loss`.

    Example:
      >>> import numpy as np
      >>> z, t = np.zeros(3), np.array([1.0, 0.0, 0.0])
      >>> round(float(soft_precision_loss(z, t, smooth=1e-6)), 4)  # 1 - 0.5 / 1.5
      0.6667
    """
    check_batch_reduction(reduction)
    smooth = check_smooth(smooth)
    given, (tp, pp, _) = _soft_counts(logits, targets, sample_weight, validate)
    loss = 1 - (tp + smooth) / (pp + smooth)
    return _restore(_reduce(loss, None, reduction, validate), given)


def soft_f1_loss(
    logits, targets, *, sample_weight=None, smooth=1.0, reduction="mean", validate=True
):
    r"""One minus the soft F1 score (the soft Dice) of the batch, one value per column.

    The contract: :func:`companion.reference.soft_f1_loss`.

    Example:
      >>> import numpy as np
      >>> z, t = np.zeros(3), np.array([1.0, 0.0, 0.0])
      >>> round(float(soft_f1_loss(z, t, smooth=1e-6)), 4)  # 1 - 2 * 0.5 / (1.5 + 1)
      0.6
    """
    check_batch_reduction(reduction)
    smooth = check_smooth(smooth)
    given, (tp, pp, ap) = _soft_counts(logits, targets, sample_weight, validate)
    loss = 1 - (2 * tp + smooth) / (pp + ap + smooth)
    return _restore(_reduce(loss, None, reduction, validate), given)


def cost_sensitive_cross_entropy(
    logits, labels, cost_matrix, *, ignore_index=None, reduction="mean", validate=True
):
    r"""Cross-entropy of each element weighted by ``cost_matrix[label, argmax(logits)]``.

    The contract: :func:`companion.reference.cost_sensitive_cross_entropy`.

    Example:
      >>> import numpy as np
      >>> cost = [[1.0, 1.0], [5.0, 1.0]]  # missing class 1 costs 5
      >>> logits = np.array([[2.0, 0.0], [2.0, 0.0]])
      >>> loss = cost_sensitive_cross_entropy(logits, np.array([0, 1]), cost, reduction="none")
      >>> [round(float(v), 4) for v in loss]
      [0.1269, 10.6346]
    """
    check_reduction(reduction)
    ignore_index = check_ignore_index(ignore_index)
    given, logits = _check_logits(logits)
    labels, keep = _check_labels(labels, logits, validate, ignore_index, reduction)
    n_classes = _num_classes(logits)
    cost = _as_tensor("cost_matrix", cost_matrix, logits)
    if not (len(cost.shape) == 2 and _compatible(_shape(cost), (n_classes, n_classes))):
        fail(
            ValueError,
            "cost_matrix",
            f"shape ({n_classes}, {n_classes})",
            f"shape {_shape(cost)}",
        )
    if validate:
        _check_weights("cost_matrix", cost)
    loss = _nll(logits, labels)
    predicted = ops.cast(ops.argmax(logits, axis=-1), _dtype(labels))
    weight = ops.take(ops.reshape(cost, (-1,)), labels * n_classes + predicted, axis=0)
    return _restore(_reduce(loss, weight, reduction, validate, "cost_matrix", keep=keep), given)


# ----------------------------------------------------------------------------- Keras 3 fit


def fit_sample_weight(y, *, class_weight=None, sample_weight=None, one_hot=None):
    r"""The ``sample_weight`` for Keras 3 ``fit``: :math:`w = \text{class\_weight}[y]\cdot
    \text{sample\_weight}`, one weight per element of the sparse labels.

    Keras 3 ``fit`` refuses ``class_weight`` together with ``sample_weight``, and its
    ``class_weight`` gives one weight per sample, so it fails for sparse labels of rank 2 or more.
    Pass this function's result to ``fit`` as ``sample_weight`` instead.

    Args:
      y: the targets given to ``fit`` (NumPy or a backend tensor): sparse integer labels of any
        rank, or one-hot (or probability) labels with the class axis last, whose class is the
        argmax.
      class_weight: one weight per class (a sequence, array or ``{class: weight}`` dict, missing
        classes weighing 1).
      sample_weight: weights broadcastable to the sparse labels' shape after trailing axes of
        size one are added, so ``[N]`` weights apply per sample.
      one_hot: whether ``y`` carries a class axis last. ``None`` infers it: floating ``y`` with at
        least two axes and a last axis longer than 1, in ``[0, 1]`` and summing to 1 along it.
        Pass ``one_hot=False`` for floating sparse labels that happen to look one-hot.

    Returns:
      A float64 NumPy array of the sparse labels' shape.

    Example:
      >>> import numpy as np
      >>> y = np.array([0, 1, 1])
      >>> fit_sample_weight(y, class_weight={1: 3.0}, sample_weight=[0.5, 1.0, 2.0]).tolist()
      [0.5, 3.0, 6.0]
      >>> fit_sample_weight(np.eye(2)[y], class_weight=[1.0, 3.0]).tolist()
      [1.0, 3.0, 3.0]
    """
    y = _host(y)
    if one_hot is None:
        one_hot = _looks_one_hot(y)
    if sample_weight is not None:
        sample_weight = _host(sample_weight)
    if class_weight is not None and not isinstance(class_weight, Mapping):
        class_weight = _host(class_weight)
    return merge_weights(
        y, class_weight=class_weight, sample_weight=sample_weight, one_hot=bool(one_hot)
    )


def _looks_one_hot(y):
    if y.ndim < 2 or y.shape[-1] < 2 or not np.issubdtype(y.dtype, np.floating) or y.size == 0:
        return False
    in_unit_interval = bool(np.all((y >= 0) & (y <= 1)))
    return in_unit_interval and bool(np.allclose(y.sum(axis=-1), 1.0, rtol=0.0, atol=1e-5))


# ----------------------------------------------------------------------------- Keras 3 losses

# Inside ``fit`` the loss runs compiled, where no value can be checked: a NaN class weight would
# train to NaN, a negative alpha would train. So every argument a Keras loss is constructed with
# is a Python value (or a host array) checked here, once, when the loss is made.


def _host_array(name, value):
    """``value`` (a number, sequence, NumPy array or concrete tensor) as a float64 NumPy array."""
    if ops.is_tensor(value) or isinstance(value, keras.KerasTensor):
        if isinstance(value, keras.KerasTensor) or not _concrete(value):
            fail(
                TypeError,
                name,
                "a value known when the loss is made (not a symbolic tensor)",
                value,
            )
        value = _host(value)
    if isinstance(value, str | bytes) or value is None:
        fail(TypeError, name, "a number or a sequence of numbers", type(value).__name__)
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as e:
        fail(TypeError, name, "a number or a sequence of numbers", f"{value!r} ({e})")
    return array


def _check_host_values(name, array):
    if array.size:
        check_weight_values(
            name, float(array.min()), float(array.max()), bool(np.all(np.isfinite(array)))
        )


def _checked_per_class(name, value, *, scalar=False):
    """A per-class weight argument of a Keras loss, checked on the host: a ``{class: weight}``
    dict with non-negative integer keys, or a 1-D array (a scalar too if ``scalar``) of finite,
    non-negative weights. The number of classes is checked when the loss first runs."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        for key in value:
            if isinstance(key, bool) or not isinstance(key, numbers.Integral) or key < 0:
                fail(ValueError, name, "non-negative integer class keys", repr(key))
        _check_host_values(name, _host_array(name, list(value.values())))
        return value
    array = _host_array(name, value)
    expected = "a number or one weight per class (1-D)" if scalar else "one weight per class (1-D)"
    if array.ndim > 1 or (array.ndim == 0 and not scalar) or (array.ndim == 1 and not array.size):
        fail(ValueError, name, expected, "a scalar" if array.ndim == 0 else f"shape {array.shape}")
    _check_host_values(name, array)
    return value


def _checked_cost_matrix(value):
    array = _host_array("cost_matrix", value)
    if array.ndim != 2 or array.shape[0] != array.shape[1] or not array.size:
        fail(ValueError, "cost_matrix", "a square matrix, shape (K, K)", f"shape {array.shape}")
    _check_host_values("cost_matrix", array)
    return value


def _set_keras_mask(losses, mask):
    """Mark ``losses`` with the elements that count, as ``keras.losses.
    SparseCategoricalCrossentropy(ignore_class=)`` does: Keras' ``"sum_over_batch_size"`` then
    divides by their number, and every reduction leaves the others out."""
    try:
        from keras.src.backend import set_keras_mask
    except ImportError:  # pragma: no cover - an older or newer layout of Keras
        losses._keras_mask = mask
    else:
        set_keras_mask(losses, mask)
    return losses


def _serializable(value):
    """A JSON-friendly copy of a weight argument (``{class: weight}`` dicts keep their keys)."""
    if value is None or isinstance(value, numbers.Number | str):
        return value
    if isinstance(value, Mapping):
        return {int(k): float(v) for k, v in value.items()}
    return _host(value).tolist()


def _integer_keys(value):
    """Undo JSON's string keys in a ``{class: weight}`` dict read back from a config."""
    if isinstance(value, Mapping):
        return {int(k): v for k, v in value.items()}
    return value


def _sparse(y_true, y_pred):
    """Keras hands labels over as floats, with a trailing axis of size 1 when ``y`` had one."""
    if len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, axis=-1)
    return ops.cast(y_true, "int32")


def _dense(y_true, y_pred):
    """Targets ``[N]`` for predictions ``[N, 1]``, as Keras' own losses accept."""
    if len(y_true.shape) + 1 == len(y_pred.shape) and y_pred.shape[-1] == 1:
        y_true = ops.expand_dims(y_true, -1)
    return y_true


class _Loss(keras.losses.Loss):
    """Stores the loss arguments (checked on the host when constructed) and calls ``_function``
    with ``reduction="none"``; Keras then applies its ``reduction`` and ``sample_weight``."""

    _function = None
    _sparse_labels = False  # labels are class indices that Keras handed over as floats
    _mean_over_last_axis = False  # per-element losses averaged over the last axis, as Keras does
    _weights = ()  # arguments that may be {class: weight} dicts
    _masks_ignored = False  # ignore_index marks the elements Keras' reduction leaves out

    def __init__(self, *, validate=True, reduction="sum_over_batch_size", name=None, dtype=None):
        if not isinstance(validate, bool):
            fail(TypeError, "validate", "True or False", type(validate).__name__)
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.validate = validate

    def _arguments(self):
        raise NotImplementedError

    def call(self, y_true, y_pred):
        y_true = _sparse(y_true, y_pred) if self._sparse_labels else _dense(y_true, y_pred)
        loss = self._function(
            y_pred, y_true, **self._arguments(), reduction="none", validate=self.validate
        )
        if self._masks_ignored and self.ignore_index is not None:
            # "none" never raises for labels that are all ignored: such a batch weighs 0.
            _set_keras_mask(loss, ops.not_equal(y_true, self.ignore_index))
        return ops.mean(loss, axis=-1) if self._mean_over_last_axis else loss

    def get_config(self):
        config = super().get_config()
        config.update({k: _serializable(v) for k, v in self._arguments().items()})
        config["validate"] = self.validate
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**{k: _integer_keys(v) if k in cls._weights else v for k, v in config.items()})


@keras.saving.register_keras_serializable(package="companion")
class SoftmaxCrossEntropy(_Loss):
    """Keras 3 loss: :func:`softmax_cross_entropy` of sparse labels and logits.

    ``y_true`` holds class indices of shape ``[N, ...]`` or ``[N, ..., 1]``. The per-element
    losses have the labels' shape, so ``sample_weight`` may be ``[N]`` or a weight map such as
    :func:`fit_sample_weight` makes. Elements labelled ``ignore_index`` are masked out of Keras'
    reduction, as ``keras.losses.SparseCategoricalCrossentropy(ignore_class=)`` does.

    Example:
      >>> import numpy as np
      >>> loss = SoftmaxCrossEntropy(class_weight=[1.0, 3.0])
      >>> round(float(loss(np.array([0, 1]), np.array([[2.0, 0.0], [2.0, 0.0]]))), 4)
      3.2539
    """

    _function = staticmethod(softmax_cross_entropy)
    _sparse_labels = True
    _weights = ("class_weight",)
    _masks_ignored = True

    def __init__(
        self,
        class_weight=None,
        ignore_index=None,
        label_smoothing=0.0,
        smoothing_weight="label",
        **kwargs,
    ):
        self.class_weight = _checked_per_class("class_weight", class_weight)
        self.ignore_index = check_ignore_index(ignore_index)
        self.label_smoothing = check_label_smoothing(label_smoothing)
        self.smoothing_weight = check_smoothing_weight(smoothing_weight)
        super().__init__(**kwargs)

    def _arguments(self):
        return {
            "class_weight": self.class_weight,
            "ignore_index": self.ignore_index,
            "label_smoothing": self.label_smoothing,
            "smoothing_weight": self.smoothing_weight,
        }


@keras.saving.register_keras_serializable(package="companion")
class LogitAdjustedCrossEntropy(_Loss):
    """Keras 3 loss: :func:`logit_adjusted_cross_entropy` of sparse labels and logits.

    ``class_prior`` must hold positive, finite values, checked when the loss is made.

    Example:
      >>> import numpy as np
      >>> loss = LogitAdjustedCrossEntropy([0.9, 0.1])
      >>> round(float(loss(np.array([0, 1]), np.array([[2.0, 0.0], [2.0, 0.0]]))), 4)
      2.1135
    """

    _function = staticmethod(logit_adjusted_cross_entropy)
    _sparse_labels = True
    _weights = ("class_weight",)

    def __init__(self, class_prior, tau=1.0, class_weight=None, **kwargs):
        super().__init__(**kwargs)
        self.tau = check_number("tau", tau, low=0.0)
        prior = _host_array("class_prior", class_prior)
        if prior.ndim != 1 or prior.size == 0:
            fail(
                ValueError,
                "class_prior",
                "one positive value per class (a 1-D sequence)",
                f"shape {prior.shape}",
            )
        if self.validate:
            check_prior_values(
                "class_prior",
                float(prior.min()),
                float(prior.max()),
                bool(np.all(np.isfinite(prior))),
            )
        self.class_prior = class_prior
        self.class_weight = _checked_per_class("class_weight", class_weight)

    def _arguments(self):
        return {
            "class_prior": self.class_prior,
            "tau": self.tau,
            "class_weight": self.class_weight,
        }


@keras.saving.register_keras_serializable(package="companion")
class SigmoidCrossEntropy(_Loss):
    """Keras 3 loss: :func:`sigmoid_cross_entropy` of 0/1 (or probability) targets and logits,
    averaged over the last axis like ``keras.losses.BinaryCrossentropy``.

    Example:
      >>> import numpy as np
      >>> loss = SigmoidCrossEntropy(pos_weight=3.0)
      >>> round(float(loss(np.array([[1.0, 0.0]]), np.array([[0.0, 0.0]]))), 4)
      1.3863
    """

    _function = staticmethod(sigmoid_cross_entropy)
    _mean_over_last_axis = True
    _weights = ("class_weight",)

    def __init__(self, class_weight=None, pos_weight=None, label_smoothing=0.0, **kwargs):
        self.class_weight = _checked_per_class("class_weight", class_weight)
        self.pos_weight = _checked_per_class("pos_weight", pos_weight, scalar=True)
        if isinstance(self.pos_weight, Mapping):
            fail(TypeError, "pos_weight", "a number or one weight per label", "a dict")
        self.label_smoothing = check_label_smoothing(label_smoothing)
        super().__init__(**kwargs)

    def _arguments(self):
        return {
            "class_weight": self.class_weight,
            "pos_weight": self.pos_weight,
            "label_smoothing": self.label_smoothing,
        }


@keras.saving.register_keras_serializable(package="companion")
class FocalLoss(_Loss):
    """Keras 3 loss: :func:`focal_loss` of sparse labels and logits (elements labelled
    ``ignore_index`` masked out of Keras' reduction).

    Example:
      >>> import numpy as np
      >>> loss = FocalLoss(alpha=[0.25, 0.75], gamma=2.0, reduction="none")
      >>> [round(float(v), 4) for v in loss(np.array([0, 1]), np.zeros((2, 2)))]
      [0.0433, 0.13]
    """

    _function = staticmethod(focal_loss)
    _sparse_labels = True
    _weights = ("alpha",)
    _masks_ignored = True

    def __init__(self, alpha=None, gamma=2.0, ignore_index=None, **kwargs):
        if alpha is not None and not _is_per_class(alpha):
            check_number("alpha", _scalar(alpha), low=0.0)
        self.alpha = _checked_per_class("alpha", alpha, scalar=True)
        self.gamma = check_number("gamma", gamma, low=0.0)
        self.ignore_index = check_ignore_index(ignore_index)
        super().__init__(**kwargs)

    def _arguments(self):
        return {"alpha": self.alpha, "gamma": self.gamma, "ignore_index": self.ignore_index}


@keras.saving.register_keras_serializable(package="companion")
class SigmoidFocalLoss(_Loss):
    """Keras 3 loss: :func:`sigmoid_focal_loss` of 0/1 targets and logits, averaged over the last
    axis like ``keras.losses.BinaryFocalCrossentropy``.

    Example:
      >>> import numpy as np
      >>> round(float(SigmoidFocalLoss()(np.array([[1.0]]), np.array([[0.0]]))), 4)
      0.0433
    """

    _function = staticmethod(sigmoid_focal_loss)
    _mean_over_last_axis = True

    def __init__(self, alpha=0.25, gamma=2.0, **kwargs):
        self.alpha = None if alpha is None else check_number("alpha", alpha, low=0.0, high=1.0)
        self.gamma = check_number("gamma", gamma, low=0.0)
        super().__init__(**kwargs)

    def _arguments(self):
        return {"alpha": self.alpha, "gamma": self.gamma}


@keras.saving.register_keras_serializable(package="companion")
class HuberLoss(_Loss):
    """Keras 3 loss: :func:`huber_loss` averaged over the last axis, as ``keras.losses.Huber``.

    Example:
      >>> import numpy as np
      >>> round(float(HuberLoss(delta=1.0)(np.zeros((1, 2)), np.array([[0.5, 3.0]]))), 4)
      1.3125
    """

    _function = staticmethod(huber_loss)
    _mean_over_last_axis = True

    def __init__(self, delta=1.0, **kwargs):
        self.delta = check_number("delta", delta, low=0.0, low_open=True)
        super().__init__(**kwargs)

    def _arguments(self):
        return {"delta": self.delta}


@keras.saving.register_keras_serializable(package="companion")
class DiceLoss(_Loss):
    """Keras 3 loss: :func:`dice_loss` of probabilities and masks, one value per sample.

    Example:
      >>> import numpy as np
      >>> p = np.array([[[0.9, 0.1], [0.2, 0.8]]])
      >>> t = np.array([[[1.0, 0.0], [0.0, 1.0]]])
      >>> round(float(DiceLoss()(t, p)), 4)
      0.12
    """

    _function = staticmethod(dice_loss)

    def __init__(self, smooth=1.0, ignore_index=None, **kwargs):
        self.smooth = check_number("smooth", smooth, low=0.0, low_open=True)
        self.ignore_index = check_ignore_index(ignore_index)
        super().__init__(**kwargs)

    def _arguments(self):
        return {"smooth": self.smooth, "ignore_index": self.ignore_index}


class _BatchLoss(_Loss):
    """A loss of the whole batch: ``sample_weight`` goes into its counts, not onto its values,
    and Keras' reduction then works over the columns."""

    def __init__(self, smooth=1.0, **kwargs):
        self.smooth = check_smooth(smooth)
        self._sample_weight = None
        super().__init__(**kwargs)

    def __call__(self, y_true, y_pred, sample_weight=None):
        self._sample_weight = sample_weight
        try:
            return super().__call__(y_true, y_pred)
        finally:
            self._sample_weight = None

    def call(self, y_true, y_pred):
        return self._function(
            y_pred,
            _dense(y_true, y_pred),
            sample_weight=self._sample_weight,
            smooth=self.smooth,
            reduction="none",
            validate=self.validate,
        )

    def _arguments(self):
        return {"smooth": self.smooth}


@keras.saving.register_keras_serializable(package="companion")
class SoftPrecisionLoss(_BatchLoss):
    """Keras 3 loss: :func:`soft_precision_loss` of 0/1 (or probability) targets and logits.

    Example:
      >>> import numpy as np
      >>> loss = SoftPrecisionLoss(smooth=1e-6)
      >>> round(float(loss(np.array([1.0, 0.0, 0.0]), np.zeros(3))), 4)
      0.6667
    """

    _function = staticmethod(soft_precision_loss)


@keras.saving.register_keras_serializable(package="companion")
class SoftF1Loss(_BatchLoss):
    """Keras 3 loss: :func:`soft_f1_loss` of 0/1 (or probability) targets and logits.

    Example:
      >>> import numpy as np
      >>> loss = SoftF1Loss(smooth=1e-6)
      >>> round(float(loss(np.array([1.0, 0.0, 0.0]), np.zeros(3))), 4)
      0.6
    """

    _function = staticmethod(soft_f1_loss)


@keras.saving.register_keras_serializable(package="companion")
class CostSensitiveCrossEntropy(_Loss):
    """Keras 3 loss: :func:`cost_sensitive_cross_entropy` of sparse labels and logits (elements
    labelled ``ignore_index`` masked out of Keras' reduction).

    Example:
      >>> import numpy as np
      >>> loss = CostSensitiveCrossEntropy([[1.0, 1.0], [5.0, 1.0]], reduction="sum")
      >>> round(float(loss(np.array([0, 1]), np.array([[2.0, 0.0], [2.0, 0.0]]))), 4)
      10.7616
    """

    _function = staticmethod(cost_sensitive_cross_entropy)
    _sparse_labels = True
    _masks_ignored = True

    def __init__(self, cost_matrix, ignore_index=None, **kwargs):
        self.cost_matrix = _checked_cost_matrix(cost_matrix)
        self.ignore_index = check_ignore_index(ignore_index)
        super().__init__(**kwargs)

    def _arguments(self):
        return {"cost_matrix": self.cost_matrix, "ignore_index": self.ignore_index}
