r"""Weighted losses as Theano-PyMC symbolic expressions, class axis last.

Every loss of :mod:`companion.reference` builds a graph from :mod:`theano.tensor` operations, so
``theano.grad`` differentiates it and ``theano.function`` compiles it. Logits have the class axis
**last**, as in ``theano.tensor.nnet.categorical_crossentropy``: ``[..., num_classes]``, with
integer ``labels`` of shape ``[...]``. Arguments are symbolic tensor variables (``T.matrix()``,
shared variables, constants) or NumPy arrays, which become constants of the graph.

Checks run when the graph is built. Dtypes, numbers of dimensions, hyperparameters and every shape
known at that time (those of constants and NumPy arrays, and axes marked broadcastable) are always
checked. Checks of values (label ranges, weight signs and finiteness, targets in ``[0, 1]``, the
sum of the weights for ``"weighted_mean"``) run with ``validate=True`` when those values are known
at graph-building time, that is when the arguments they read are NumPy arrays or constants. A
symbolic input has no value yet, so its values cannot be checked here; check the data before
feeding it to the compiled function. The upper bound of the labels needs the number of classes,
known only when the logits are a constant; negative constant labels are caught either way.

Importing this module makes Theano-PyMC 1.1.2 load on NumPy 1.26 with nothing set by the user:

* the NumPy aliases Theano still uses (``np.bool`` and kin, removed in NumPy 1.24) are restored
  as the builtins they stood for, only where missing;
* the standard library's ``distutils`` is used (``SETUPTOOLS_USE_DISTUTILS=stdlib`` unless the
  variable is set, and setuptools' import shim is removed if ``distutils`` is not imported yet;
  if setuptools already put its own ``distutils`` in place, that one is kept, and it works);
* ``blas__ldflags=`` is appended to ``THEANO_FLAGS`` unless the user set that flag, so that Theano
  calls BLAS through NumPy's C API instead of probing for a BLAS library;
* Theano's notice "Using NumPy C-API based implementation for BLAS functions.", the deprecation
  warnings of ``distutils`` raised while Theano imports and, where this module set
  ``SETUPTOOLS_USE_DISTUTILS``, setuptools' warning about that variable on a later
  ``import setuptools`` are silenced, nothing else.

The two variables are set in ``os.environ``, so child processes see them too. Theano compiles C
code with the system's C++ compiler and keeps it in its usual per-user cache.
"""

from __future__ import annotations

import importlib
import logging
import numbers
import os
import shlex
import sys
import warnings
from collections.abc import Mapping

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

# ----------------------------------------------------------------------------- loading Theano

# The aliases NumPy 1.24 removed and Theano-PyMC 1.1.2 still reads (``getattr(np, "bool")``).
_NUMPY_ALIASES = {
    "bool": bool,
    "int": int,
    "float": float,
    "complex": complex,
    "object": object,
    "str": str,
}
# Deprecation warnings raised while Theano imports distutils and numpy.distutils.
_DISTUTILS_WARNINGS = (
    r"The distutils package is deprecated",
    r"The distutils\.sysconfig module is deprecated",
    r"\s*`numpy\.distutils` is deprecated",
    r"Use shutil\.which instead of find_executable",
)
# What setuptools says when imported later with SETUPTOOLS_USE_DISTUTILS=stdlib.
_SETUPTOOLS_STDLIB_WARNING = r"Reliance on distutils from stdlib is deprecated"
_BLAS_NOTICE = "Using NumPy C-API based implementation for BLAS functions."


def _not_the_blas_notice(record: logging.LogRecord) -> bool:
    return record.getMessage() != _BLAS_NOTICE


def _flag_names(flags: str) -> set[str]:
    """The names set in a ``THEANO_FLAGS`` string, split the way Theano splits it."""
    splitter = shlex.shlex(flags, posix=True)
    splitter.whitespace = ","
    splitter.whitespace_split = True
    try:
        return {pair.split("=", 1)[0].strip() for pair in splitter if "=" in pair}
    except ValueError:  # unbalanced quotes: Theano itself will report them
        return set()


def _prepare_environment() -> None:
    for name, builtin in _NUMPY_ALIASES.items():
        if name not in vars(np):
            setattr(np, name, builtin)
    logger = logging.getLogger("theano.tensor.blas")
    if _not_the_blas_notice not in logger.filters:
        logger.addFilter(_not_the_blas_notice)
    if "theano" in sys.modules:  # already loaded: its configuration is fixed
        return
    if "SETUPTOOLS_USE_DISTUTILS" not in os.environ:
        os.environ["SETUPTOOLS_USE_DISTUTILS"] = "stdlib"
        warnings.filterwarnings("ignore", _SETUPTOOLS_STDLIB_WARNING, UserWarning)
    if os.environ["SETUPTOOLS_USE_DISTUTILS"] == "stdlib" and "distutils" not in sys.modules:
        # The shim was installed at interpreter start-up, before the variable was set here.
        remove_shim = getattr(sys.modules.get("_distutils_hack"), "remove_shim", None)
        if remove_shim is not None:
            remove_shim()
    flags = os.environ.get("THEANO_FLAGS", "")
    if not _flag_names(flags) & {"blas__ldflags", "blas.ldflags"}:
        os.environ["THEANO_FLAGS"] = (
            f"{flags},blas__ldflags=" if flags.strip() else "blas__ldflags="
        )


def _import_theano():
    _prepare_environment()
    try:
        with warnings.catch_warnings():
            for message in _DISTUTILS_WARNINGS:
                warnings.filterwarnings("ignore", message, DeprecationWarning)
            theano = importlib.import_module("theano")
            importlib.import_module("theano.tensor")
    except Exception as error:
        raise ImportError(
            f"companion.theano could not import Theano-PyMC ({type(error).__name__}: {error}). "
            "It needs Theano-PyMC 1.1.2 on NumPy 1.26: install setuptools<81 first, then "
            "`pip install --no-build-isolation Theano-PyMC==1.1.2`, and a C++ compiler (g++) "
            "for compiled functions."
        ) from error
    return theano


theano = _import_theano()
T = theano.tensor
_Constant = theano.graph.basic.Constant
_Variable = theano.graph.basic.Variable
_graph_inputs = theano.graph.basic.graph_inputs
_constant_for_grad = theano.gradient.disconnected_grad
# Folding a graph of constants into a value (for the weighted_mean check): no C, no rewrites.
_EVALUATE = theano.compile.mode.Mode(linker="py", optimizer=None)


# ----------------------------------------------------------------------------- input handling


def _tensor(name, x):
    """``x`` as a tensor variable: symbolic tensors pass, NumPy arrays become constants."""
    if isinstance(x, _Variable):
        if not isinstance(x.type, T.TensorType):
            fail(
                TypeError, name, "a Theano tensor or a NumPy array", f"a variable of type {x.type}"
            )
        return x
    if isinstance(x, np.ndarray | np.generic):
        try:
            return T.constant(np.asarray(x))
        except TypeError as e:
            fail(TypeError, name, "a Theano tensor or a NumPy array", f"dtype {x.dtype} ({e})")
    fail(TypeError, name, "a Theano tensor or a NumPy array", type(x).__name__)


def _values(x):
    """The NumPy value of ``x`` if it is a constant of the graph, else ``None``."""
    return x.data if isinstance(x, _Constant) else None


def _shape(x):
    """The shape known when the graph is built: ``None`` for an axis known only at run time."""
    if isinstance(x, _Constant):
        return tuple(x.data.shape)
    return tuple(1 if b else None for b in x.broadcastable)


def _show(shape):
    """A shape as the messages print it, ``?`` for an unknown axis."""
    dims = ["?" if d is None else str(d) for d in shape]
    return f"({dims[0]},)" if len(dims) == 1 else f"({', '.join(dims)})"


def _same_shape(a, b):
    return len(a) == len(b) and all(
        x is None or y is None or x == y for x, y in zip(a, b, strict=True)
    )


def _check_not_empty(name, x):
    shape = _shape(x)
    if 0 in shape:
        check_not_empty(name, tuple(0 if d is None else d for d in shape))


def _check_floating(name, x):
    if x.dtype not in T.float_dtypes:
        fail(TypeError, name, "a real floating-point array", f"dtype {x.dtype}")


def _const(value, dtype):
    """A constant of ``dtype`` (a bare Python float could turn a float32 graph into float64)."""
    return T.constant(np.asarray(value, dtype=dtype))


def _cast(x, dtype):
    if isinstance(x, _Constant):
        return _const(x.data, dtype)
    return T.cast(x, dtype)


def _extremes(values):
    return float(np.min(values)), float(np.max(values)), bool(np.all(np.isfinite(values)))


def _weights(name, value, dtype, validate):
    """``value`` (tensor, array, sequence or number) as a tensor of ``dtype``."""
    if isinstance(value, _Variable):
        w = _cast(_tensor(name, value), dtype)
    else:
        try:
            w = _const(value, dtype)
        except (TypeError, ValueError) as e:
            fail(TypeError, name, "an array, a sequence of numbers or a number", f"{value!r} ({e})")
    if validate and _values(w) is not None:
        check_weight_values(name, *_extremes(_values(w)))
    return w


def _n_classes(logits):
    return _shape(logits)[-1] if logits.ndim else None


def _check_labels(labels, logits, validate, ignore_index=None, reduction="mean"):
    """Integer class indices of shape ``logits.shape[:-1]``.

    Returns the labels, with every element equal to ``ignore_index`` replaced by class 0, and
    the mask of the elements that count (``None`` without ``ignore_index``). Value checks read
    constants only.
    """
    labels = _tensor("labels", labels)
    if labels.dtype not in T.integer_dtypes:
        fail(
            TypeError,
            "labels",
            "an integer array of class indices (not one-hot)",
            f"dtype {labels.dtype}",
        )
    expected = _shape(logits)[:-1]
    if not _same_shape(_shape(labels), expected):
        fail(
            ValueError,
            "labels",
            f"shape {_show(expected)} (the logits' shape without the class axis)",
            f"shape {_show(_shape(labels))}",
        )
    _check_not_empty("labels", labels)
    values = _values(labels)
    keep = None
    if ignore_index is not None:
        keep = T.neq(labels, _const(ignore_index, "int64"))
        if values is not None:
            kept = values != ignore_index
            if validate:
                check_some_kept(int(kept.sum()), values.size, ignore_index, reduction)
            values = values[kept] if kept.any() else None
        labels = T.switch(keep, labels, T.zeros_like(labels))
    if validate and values is not None:
        n_classes = _n_classes(logits)
        if n_classes is not None:
            check_label_range(int(values.min()), int(values.max()), n_classes)
        elif values.min() < 0:
            fail(
                ValueError,
                "labels",
                "class indices >= 0",
                f"values from {int(values.min())} to {int(values.max())}",
            )
    return labels, keep


def _check_targets(targets, logits, validate, name="targets"):
    """Probabilities or 0/1 targets of the logits' shape, in the logits' dtype."""
    targets = _tensor(name, targets)
    if not _same_shape(_shape(targets), _shape(logits)):
        fail(ValueError, name, f"shape {_show(_shape(logits))}", f"shape {_show(_shape(targets))}")
    _check_not_empty(name, targets)
    targets = _cast(targets, logits.dtype)
    if validate and _values(targets) is not None:
        check_unit_interval(name, *_extremes(_values(targets)))
    return targets


def _class_weight_table(class_weight, logits, validate, name="class_weight"):
    """One weight per class; a ``{class: weight}`` dict weighs the classes it omits 1."""
    n_classes = _n_classes(logits)
    if isinstance(class_weight, Mapping):
        keys = list(class_weight)
        for key in keys:
            if (
                isinstance(key, bool)
                or not isinstance(key, numbers.Integral)
                or key < 0
                or (n_classes is not None and key >= n_classes)
            ):
                expected = "non-negative integer class keys"
                if n_classes is not None:
                    expected = f"integer class keys in [0, {n_classes})"
                fail(ValueError, name, expected, repr(key))
        values = _weights(name, [class_weight[k] for k in keys], logits.dtype, validate)
        if n_classes is not None:
            table = np.ones(n_classes, dtype=logits.dtype)
            table[keys] = _values(values)
            return _const(table, logits.dtype)
        ones = T.ones((logits.shape[-1],), dtype=logits.dtype)
        return T.set_subtensor(ones[np.asarray(keys, dtype="int64")], values) if keys else ones
    w = _weights(name, class_weight, logits.dtype, validate)
    expected = f"one weight per class, shape {_show((n_classes,))}"
    if w.ndim == 0:
        fail(ValueError, name, expected, "a scalar")
    if w.ndim != 1 or not _same_shape(_shape(w), (n_classes,)):
        fail(ValueError, name, expected, f"shape {_show(_shape(w))}")
    return w


def _sample_weight(sample_weight, like, dtype, validate, name="sample_weight", what="labels"):
    """``sample_weight`` with trailing axes of size one added to reach ``like``'s rank."""
    w = _weights(name, sample_weight, dtype, validate=False)
    shape, to = _shape(w), _shape(like)
    if None in shape or None in to:
        padded = shape + (1,) * max(len(to) - len(shape), 0)
        if len(shape) > len(to) or not all(
            s is None or t is None or s in (1, t) for s, t in zip(padded, to, strict=True)
        ):
            expected = f"a shape that broadcasts to the {what}' shape {_show(to)}"
            fail(ValueError, name, expected, _show(shape))
    else:
        broadcast_shape(name, shape, to, f"the {what}' shape")
    if validate and _values(w) is not None:
        check_weight_values(name, *_extremes(_values(w)))
    return T.shape_padright(w, len(to) - len(shape))


def _broadcast(weight, like, dtype):
    """``weight`` broadcast to ``like``'s shape (``like`` holds no logits, so a graph of
    constants stays one and the weighted_mean check can read its sum)."""
    return weight * T.ones(like.shape, dtype=dtype)


def _one_hot(labels, n_classes):
    """Boolean one-hot mask of shape ``labels.shape + (n_classes,)``."""
    return T.eq(T.shape_padright(labels), T.arange(n_classes, dtype=labels.dtype))


def _pick(one_hot, values):
    """``values[..., label]`` for every element, as a masked sum over the class axis."""
    return T.sum(T.switch(one_hot, values, 0), axis=-1)


def _multiply(a, b):
    if a is None:
        return b
    return a if b is None else a * b


def _known_value(x):
    """The value of ``x`` if every input of its graph is a constant, else ``None``."""
    if not all(isinstance(v, _Constant) for v in _graph_inputs([x])):
        return None
    return theano.function([], x, mode=_EVALUATE)()


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
    """Apply the element weights (already of the loss's shape) and the reduction.

    ``keep`` (a mask, ``None`` for all) drops the ignored elements from every sum; with
    ``applied``, ``loss`` is already weighted and ``weight`` only gives the divisor.
    """
    if weight is not None:
        if keep is not None:
            weight = T.switch(keep, weight, 0)
        if not applied:
            loss = loss * weight
    if keep is not None:
        loss = T.switch(keep, loss, 0)
    if reduction == "none":
        return loss
    total = T.sum(loss)
    if reduction == "sum":
        return total
    if reduction == "mean" or weight is None:
        if keep is None:
            return total / T.cast(loss.size, loss.dtype)
        count = T.cast(T.sum(keep), loss.dtype)
        # All ignored (possible with validate=False only): 0 rather than 0/0.
        return total / T.switch(count > 0, count, 1)
    denominator = T.sum(weight)
    if validate:
        value = _known_value(denominator)
        if value is not None:
            check_positive_sum(weight_name, float(value))
    # With validate=False an all-zero weight gives 0 rather than 0/0.
    return total / T.switch(denominator > 0, denominator, 1)


def _softplus(x):
    """log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)): finite, and its gradient is exactly
    sigmoid(x) everywhere, 1/2 at 0 included (both switches pick finite, safe branches)."""
    return T.switch(x > 0, x, 0) + T.log1p(T.exp(-T.switch(x > 0, x, -x)))


def _log_softmax(logits):
    # The shift changes no value of log-softmax and no gradient, so it is held constant.
    shifted = logits - _constant_for_grad(T.max(logits, axis=-1, keepdims=True))
    return shifted - T.log(T.sum(T.exp(shifted), axis=-1, keepdims=True))


def _modulating_factor(one_minus_p, gamma):
    """(1 - p_t)^gamma with a finite gradient where 1 - p_t underflows to 0 and gamma < 1: the
    power reads a clamped input, never 0, so no branch of the switch is ever infinite."""
    tiny = _const(np.finfo(one_minus_p.dtype).tiny, one_minus_p.dtype)
    safe = T.switch(one_minus_p > tiny, one_minus_p, tiny)
    return safe ** _const(gamma, one_minus_p.dtype)


def _logits(logits, class_axis=True):
    logits = _tensor("logits", logits)
    _check_floating("logits", logits)
    if class_axis:
        if logits.ndim < 1:
            fail(ValueError, "logits", "at least one dimension (the class axis)", "a 0-d array")
        if _n_classes(logits) is not None:
            check_class_axis(_n_classes(logits))
    return logits


def _working(x):
    """float16 as float32: half precision is computed and summed in float32 (a float16 sum of
    more than 65,504 ones is ``inf``); :func:`_restore` casts the result back."""
    return _cast(x, "float32") if x.dtype == "float16" else x


def _restore(result, like):
    return result if result.dtype == like.dtype else T.cast(result, like.dtype)


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

    An element labelled ``ignore_index`` counts in no sum. ``label_smoothing``
    :math:`\varepsilon` replaces the one-hot target by
    :math:`(1 - \varepsilon)\,\operatorname{onehot}(y) + \varepsilon/K`; ``smoothing_weight``
    is ``"label"`` (the element's weight multiplies its whole loss) or ``"per_class"``
    (PyTorch's convention: each class's term carries that class's weight). float16 logits are
    computed in float32 and the result returned as float16.

    Args:
      logits: ``[..., num_classes]`` floating tensor or NumPy array, class axis last.
      labels: ``[...]`` integer class indices in ``[0, num_classes)``.
      class_weight: ``[num_classes]`` non-negative weights (tensor, array or sequence), or a
        ``{class: weight}`` dict (missing classes weigh 1).
      sample_weight: non-negative weights broadcastable to ``labels.shape`` after trailing axes
        of size one are added (``[batch]`` weights apply per sample).
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"``.
      validate: check label ranges and weight values where they are known (constants).

    Returns:
      A 0-d tensor, or the ``[...]`` per-element weighted losses for ``"none"``.

    Example:
      >>> import numpy as np
      >>> import theano
      >>> import theano.tensor as T
      >>> z, y = T.matrix("logits"), T.lvector("labels")
      >>> loss = softmax_cross_entropy(z, y, class_weight=[1.0, 3.0])
      >>> f = theano.function([z, y], [loss, T.grad(loss, z)])
      >>> value, grad = f(np.array([[2.0, 0.0], [2.0, 0.0]]), np.array([0, 1]))
      >>> round(float(value), 4), grad.round(4).tolist()
      (3.2539, [[-0.0596, 0.0596], [1.3212, -1.3212]])

    References:
      King & Zeng (2001); PyTorch ``torch.nn.CrossEntropyLoss`` for the ``weighted_mean`` form.
    """
    check_reduction(reduction)
    ignore_index = check_ignore_index(ignore_index)
    eps = check_label_smoothing(label_smoothing)
    smoothing_weight = check_smoothing_weight(smoothing_weight)
    given = _logits(logits)
    logits = _working(given)
    labels, keep = _check_labels(labels, logits, validate, ignore_index, reduction)
    log_p = _log_softmax(logits)
    loss = -_pick(_one_hot(labels, logits.shape[-1]), log_p)
    n_classes = T.cast(logits.shape[-1], logits.dtype)
    table = weight = None
    if class_weight is not None:
        table = _class_weight_table(class_weight, logits, validate)
        weight = table[labels]
    applied = False
    if eps > 0:
        e = _const(eps, logits.dtype)
        if smoothing_weight == "per_class" and table is not None:
            uniform = -T.sum(log_p * table, axis=-1) / n_classes
            loss = (1 - e) * weight * loss + e * uniform
            applied = True
        else:
            loss = (1 - e) * loss - e * T.sum(log_p, axis=-1) / n_classes
    if sample_weight is not None:
        sw = _sample_weight(sample_weight, labels, logits.dtype, validate)
        if applied:
            loss = loss * sw
        weight = _multiply(weight, sw)
    if weight is not None:
        weight = _broadcast(weight, labels, logits.dtype)
    result = _reduce(loss, weight, reduction, validate, keep=keep, applied=applied)
    return _restore(result, given)


def _log_prior(class_prior, logits, validate):
    """``log(class_prior / sum(class_prior))`` as a tensor of the logits' dtype.

    A constant prior is read in at least float32, so that a tiny prior (1e-30) of half-precision
    logits keeps its finite logarithm; its values are checked when ``validate`` is set.
    """
    n_classes = _n_classes(logits)
    wide = logits.dtype if np.dtype(logits.dtype).itemsize >= 4 else "float32"
    if isinstance(class_prior, _Variable):
        prior = _cast(_tensor("class_prior", class_prior), wide)
    else:
        try:
            prior = _const(class_prior, wide)
        except (TypeError, ValueError) as e:
            fail(
                TypeError,
                "class_prior",
                "an array or a sequence of numbers",
                f"{class_prior!r} ({e})",
            )
    expected = f"one positive value per class, shape {_show((n_classes,))}"
    if prior.ndim == 0:
        fail(ValueError, "class_prior", expected, "a scalar")
    if prior.ndim != 1 or not _same_shape(_shape(prior), (n_classes,)):
        fail(ValueError, "class_prior", expected, f"shape {_show(_shape(prior))}")
    values = _values(prior)
    if values is None:
        return _cast(T.log(prior) - T.log(T.sum(prior)), logits.dtype)
    if validate:
        check_prior_values("class_prior", *_extremes(values))
    with np.errstate(divide="ignore", invalid="ignore"):  # validate=False: as it comes
        return _const(np.log(values) - np.log(np.sum(values)), logits.dtype)


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
      logits: ``[..., num_classes]`` floating tensor or NumPy array, class axis last.
      labels: ``[...]`` integer class indices in ``[0, num_classes)``.
      class_prior: ``[num_classes]`` positive, finite class frequencies or counts (a tensor, an
        array or a sequence).
      tau: the strength of the adjustment, a finite number ``>= 0``.
      class_weight: ``[num_classes]`` non-negative weights, or a ``{class: weight}`` dict.
      sample_weight: non-negative weights broadcastable to ``labels.shape``.
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"``.
      validate: check label ranges, prior and weight values where they are known (constants).

    Returns:
      A 0-d tensor, or the ``[...]`` per-element weighted losses for ``"none"``.

    Example:
      >>> import numpy as np
      >>> import theano
      >>> import theano.tensor as T
      >>> z, y = T.matrix("logits"), T.lvector("labels")
      >>> loss = logit_adjusted_cross_entropy(z, y, class_prior=[0.9, 0.1])
      >>> f = theano.function([z, y], loss)
      >>> round(float(f(np.array([[2.0, 0.0], [2.0, 0.0]]), np.array([0, 1]))), 4)
      2.1135

    References:
      Menon et al., "Long-tail learning via logit adjustment", ICLR 2021; Ren et al.,
      "Balanced Meta-Softmax for Long-Tailed Visual Recognition", NeurIPS 2020.
    """
    check_reduction(reduction)
    tau = check_number("tau", tau, low=0.0)
    logits = _logits(logits)
    if logits.ndim < 1:
        fail(ValueError, "logits", "at least one dimension (the class axis)", "a scalar")
    log_prior = _log_prior(class_prior, logits, validate)
    if isinstance(logits, _Constant) and isinstance(log_prior, _Constant):
        # Folded, so that the shifted logits stay a constant whose shape the checks know.
        shifted = _const(logits.data + np.asarray(tau, logits.dtype) * log_prior.data, logits.dtype)
    else:
        shifted = logits + _const(tau, logits.dtype) * log_prior
    return softmax_cross_entropy(
        shifted,
        labels,
        class_weight=class_weight,
        sample_weight=sample_weight,
        reduction=reduction,
        validate=validate,
    )


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

    where :math:`p` is ``pos_weight`` (it scales only the positive term, as in TensorFlow's
    ``weighted_cross_entropy_with_logits``), and :math:`w_i` is ``class_weight`` of the element's
    column times ``sample_weight``.

    Args:
      logits: ``[..., num_labels]`` floating tensor or NumPy array.
      targets: same shape, values in ``[0, 1]`` (0/1 labels or probabilities).
      class_weight: ``[num_labels]`` weights, one per column of the last axis.
      sample_weight: weights broadcastable to ``targets.shape`` after trailing axes of size one
        are added.
      pos_weight: a number or ``[num_labels]`` weights for the positive term.
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"``.
      validate: check target ranges and weight values where they are known (constants).

    Example:
      >>> import numpy as np
      >>> z, t = np.array([[0.0, 0.0]]), np.array([[1.0, 0.0]])
      >>> round(float(sigmoid_cross_entropy(z, t, pos_weight=3.0, reduction="sum").eval()), 4)
      2.7726

    References:
      TensorFlow ``tf.nn.weighted_cross_entropy_with_logits``; Elkan (2001) on costs and weights.
    """
    check_reduction(reduction)
    eps = check_label_smoothing(label_smoothing)
    given = _logits(logits)
    logits = _working(given)
    targets = _check_targets(targets, logits, validate)
    if eps > 0:
        e = _const(eps, logits.dtype)
        targets = targets * (1 - e) + e / 2
    n_labels = _n_classes(logits)
    positive = targets * _softplus(-logits)
    if pos_weight is not None:
        p = _weights("pos_weight", pos_weight, logits.dtype, validate=False)
        if p.ndim > 1 or (p.ndim == 1 and not _same_shape(_shape(p), (n_labels,))):
            fail(
                ValueError,
                "pos_weight",
                f"a number or one weight per label, shape {_show((n_labels,))}",
                f"shape {_show(_shape(p))}",
            )
        if validate and _values(p) is not None:
            check_weight_values("pos_weight", *_extremes(_values(p)))
        positive = positive * p
    loss = positive + (1 - targets) * _softplus(logits)
    weight = None
    if class_weight is not None:
        weight = _class_weight_table(class_weight, logits, validate)
    if sample_weight is not None:
        weight = _multiply(
            weight, _sample_weight(sample_weight, targets, logits.dtype, validate, what="targets")
        )
    if weight is not None:
        weight = _broadcast(weight, targets, logits.dtype)
    return _restore(_reduce(loss, weight, reduction, validate), given)


# ----------------------------------------------------------------------------- focal losses


def focal_loss(
    logits, labels, *, alpha=None, gamma=2.0, ignore_index=None, reduction="mean", validate=True
):
    r"""Multi-class (softmax) focal loss with a scalar or per-class ``alpha``.

    .. math::

        \ell_i = -\alpha_{y_i}\,(1 - p_{i,y_i})^{\gamma}\,\log p_{i,y_i}, \qquad
        p_i = \operatorname{softmax}(z_i)

    A scalar ``alpha`` multiplies every class alike; a ``[num_classes]`` vector is looked up by
    label. :math:`\alpha_{y_i}` is the element's weight, so ``reduction="weighted_mean"`` divides
    by :math:`\sum_i \alpha_{y_i}`. :math:`1 - p` is computed as ``-expm1(log p)``, clamped to the
    smallest normal number, so the gradient stays finite at saturation even for ``gamma < 1``.

    Args:
      logits: ``[..., num_classes]`` floating tensor or NumPy array, class axis last.
      labels: ``[...]`` integer class indices.
      alpha: ``None``, a non-negative number, or ``[num_classes]`` non-negative weights (tensor,
        array, sequence or ``{class: weight}`` dict).
      gamma: focusing parameter, ``gamma >= 0``.
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"``.
      validate: check label ranges and weight values where they are known (constants).

    Example:
      >>> import numpy as np
      >>> logits = np.array([[3.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
      >>> loss = focal_loss(logits, np.array([0, 0]), reduction="none")
      >>> loss.eval().round(4).tolist()
      [0.0008, 0.4883]

    References:
      Lin, Goyal, Girshick, He & Dollár, "Focal Loss for Dense Object Detection", ICCV 2017.
    """
    check_reduction(reduction)
    gamma = check_number("gamma", gamma, low=0.0)
    ignore_index = check_ignore_index(ignore_index)
    given = _logits(logits)
    logits = _working(given)
    labels, keep = _check_labels(labels, logits, validate, ignore_index, reduction)
    log_p = _pick(_one_hot(labels, logits.shape[-1]), _log_softmax(logits))
    loss = -_modulating_factor(-T.expm1(log_p), gamma) * log_p
    weight = None
    if alpha is not None:
        if _is_per_class(alpha):
            weight = _class_weight_table(alpha, logits, validate, "alpha")[labels]
        elif isinstance(alpha, _Variable) and _values(alpha) is None:
            weight = _cast(alpha, logits.dtype)
        else:
            value = _values(alpha) if isinstance(alpha, _Variable) else alpha
            value = float(value) if getattr(value, "ndim", None) == 0 else value
            weight = _const(check_number("alpha", value, low=0.0), logits.dtype)
        weight = _broadcast(weight, labels, logits.dtype)
    return _restore(_reduce(loss, weight, reduction, validate, "alpha", keep=keep), given)


def _is_per_class(value):
    if hasattr(value, "ndim"):
        return value.ndim > 0
    return isinstance(value, Mapping | list | tuple)


def sigmoid_focal_loss(logits, targets, *, alpha=0.25, gamma=2.0, reduction="mean", validate=True):
    r"""Binary / multi-label focal loss in the RetinaNet form.

    .. math::

        \ell_i = \alpha_{t,i}\,(1 - p_{t,i})^{\gamma}\,\mathrm{BCE}(z_i, t_i), \quad
        p_{t} = p\,t + (1 - p)(1 - t), \quad \alpha_t = \alpha\,t + (1 - \alpha)(1 - t)

    with :math:`p = \sigma(z)`, and :math:`1 - p = e^{-\operatorname{softplus}(z)}` so that
    neither probability is formed by a subtraction that cancels. ``alpha`` weighs the positives
    and ``1 - alpha`` the negatives; ``alpha=None`` weighs neither. :math:`\alpha_t` is the
    element's weight for ``reduction="weighted_mean"``.

    Args:
      logits: floating tensor or NumPy array of any shape.
      targets: same shape, values in ``[0, 1]``.
      alpha: ``None`` or a number in ``[0, 1]``.
      gamma: focusing parameter, ``gamma >= 0``.
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"``.
      validate: check target ranges where they are known (constants).

    Example:
      >>> import numpy as np
      >>> round(float(sigmoid_focal_loss(np.array([0.0]), np.array([1.0])).eval()), 4)
      0.0433

    References:
      Lin et al., ICCV 2017; torchvision ``torchvision.ops.sigmoid_focal_loss``.
    """
    check_reduction(reduction)
    gamma = check_number("gamma", gamma, low=0.0)
    if alpha is not None:
        alpha = check_number("alpha", alpha, low=0.0, high=1.0)
    given = _logits(logits, class_axis=False)
    logits = _working(given)
    targets = _check_targets(targets, logits, validate)
    softplus_neg, softplus_pos = _softplus(-logits), _softplus(logits)
    bce = targets * softplus_neg + (1 - targets) * softplus_pos
    one_minus_p_t = targets * T.exp(-softplus_pos) + (1 - targets) * T.exp(-softplus_neg)
    loss = _modulating_factor(one_minus_p_t, gamma) * bce
    weight = None
    if alpha is not None:
        a = _const(alpha, logits.dtype)
        weight = a * targets + (1 - a) * (1 - targets)
    return _restore(_reduce(loss, weight, reduction, validate, "alpha"), given)


# ----------------------------------------------------------------------------- regression


def huber_loss(prediction, target, *, delta=1.0, reduction="mean", validate=True):
    r"""Huber loss: quadratic for small residuals, linear for large ones.

    .. math::

        \ell_i = \begin{cases} \tfrac12 d_i^2 & |d_i| \le \delta \\
                 \tfrac12\delta^2 + \delta\,(|d_i| - \delta) & |d_i| > \delta \end{cases},
        \qquad d_i = \text{prediction}_i - \text{target}_i

    This is the reference's :math:`\tfrac12 q^2 + \delta(|d| - q)` with
    :math:`q = \min(|d|, \delta)`, written out on each side of :math:`\delta`: the same values, and
    ``theano.grad`` of the summed loss is exactly :func:`companion.reference.huber_grad`,
    :math:`\operatorname{clip}(d, -\delta, \delta)`, continuous at :math:`|d| = \delta`. The
    derivatives of both branches of the switch are finite wherever the residual is, so the branch
    the switch drops passes on a zero gradient, never ``0 * inf = nan``.

    Args:
      prediction: floating tensor or NumPy array of any shape.
      target: tensor or array of the same shape.
      delta: threshold between the quadratic and linear parts, ``delta > 0``.
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"`` (the last equals
        ``"mean"``: there are no weights).
      validate: unused here (there are no values to check); kept for a uniform signature.

    Example:
      >>> import numpy as np
      >>> import theano
      >>> import theano.tensor as T
      >>> x = T.vector("prediction")
      >>> loss = huber_loss(x, np.zeros(3), reduction="sum")
      >>> theano.function([x], T.grad(loss, x))(np.array([0.5, 3.0, -3.0])).tolist()
      [0.5, 1.0, -1.0]

    References:
      Huber, "Robust Estimation of a Location Parameter", Ann. Math. Statist. 35(1), 1964.
    """
    check_reduction(reduction)
    delta = check_number("delta", delta, low=0.0, low_open=True)
    prediction = _tensor("prediction", prediction)
    _check_floating("prediction", prediction)
    target = _tensor("target", target)
    if not _same_shape(_shape(target), _shape(prediction)):
        fail(
            ValueError,
            "target",
            f"shape {_show(_shape(prediction))} (the prediction's)",
            f"shape {_show(_shape(target))}",
        )
    _check_not_empty("prediction", prediction)
    given, prediction = prediction, _working(prediction)
    size = abs(prediction - _cast(target, prediction.dtype))
    d = _const(delta, prediction.dtype)
    # The reference's 0.5 q² + δ(|d| - q), with q = min(|d|, δ), written out for each side of δ.
    loss = T.switch(size <= d, 0.5 * size * size, 0.5 * d * d + d * (size - d))
    return _restore(_reduce(loss, None, reduction, validate), given)


# ----------------------------------------------------------------------------- segmentation


def dice_loss(
    probabilities, targets, *, smooth=1.0, ignore_index=None, reduction="mean", validate=True
):
    r"""Soft Dice loss, one value per sample.

    .. math::

        \ell_n = 1 - \frac{2\sum_k p_{n,k} t_{n,k} + s}{\sum_k p_{n,k} + \sum_k t_{n,k} + s}

    where :math:`k` runs over every axis but the first (pixels, and classes if there are any) and
    :math:`s` is ``smooth``. ``reduction`` then works over the samples (``"weighted_mean"`` equals
    ``"mean"``: there are no weights).

    Args:
      probabilities: ``[batch, ...]`` predicted probabilities in ``[0, 1]``.
      targets: same shape, values in ``[0, 1]``.
      smooth: ``smooth > 0``; it keeps an empty mask predicted empty at loss 0 instead of 0/0.
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"``.
      validate: check that both inputs lie in ``[0, 1]`` where they are known (constants).

    Example:
      >>> import numpy as np
      >>> p = np.array([[[0.9, 0.1], [0.2, 0.8]]])
      >>> t = np.array([[[1.0, 0.0], [0.0, 1.0]]])
      >>> round(float(dice_loss(p, t).eval()), 4)
      0.12

    References:
      Milletari, Navab & Ahmadi, "V-Net", 3DV 2016; Ronneberger et al. (2015) for the U-Net setting.
    """
    check_reduction(reduction)
    smooth = check_number("smooth", smooth, low=0.0, low_open=True)
    ignore_index = check_ignore_index(ignore_index)
    probabilities = _tensor("probabilities", probabilities)
    _check_floating("probabilities", probabilities)
    if probabilities.ndim < 2:
        fail(
            ValueError,
            "probabilities",
            "shape [batch, ...] with at least two dimensions",
            f"shape {_show(_shape(probabilities))}",
        )
    given, probabilities = probabilities, _working(probabilities)
    if ignore_index is None:
        targets = _check_targets(targets, probabilities, validate)
    else:
        targets = _check_targets(targets, probabilities, False)
        values = _values(targets)
        if validate and values is not None:
            kept = values[values != ignore_index]
            if kept.size:
                check_unit_interval("targets", *_extremes(kept))
        keep = T.neq(targets, _const(ignore_index, targets.dtype))
        targets = T.switch(keep, targets, 0)
        probabilities_kept = T.switch(keep, probabilities, 0)
    if validate and _values(probabilities) is not None:
        check_unit_interval("probabilities", *_extremes(_values(probabilities)))
    if ignore_index is not None:
        probabilities = probabilities_kept
    axes = tuple(range(1, probabilities.ndim))
    s = _const(smooth, probabilities.dtype)
    overlap = T.sum(probabilities * targets, axis=axes)
    total = T.sum(probabilities, axis=axes) + T.sum(targets, axis=axes)
    loss = 1 - (2 * overlap + s) / (total + s)
    return _restore(_reduce(loss, None, reduction, validate), given)


def _soft_counts(logits, targets, sample_weight, validate):
    """The logits as given and the expected counts TP, PP, AP of each column, summed over axis
    0. ``p = exp(-softplus(-z))``: finite, with a finite gradient, for every finite logit."""
    given = _logits(logits, class_axis=False)
    if given.ndim < 1:
        fail(ValueError, "logits", "at least one dimension (the batch axis)", "a 0-d array")
    logits = _working(given)
    t = _check_targets(targets, logits, validate)
    p = T.exp(-_softplus(-logits))
    if sample_weight is not None:
        w = _sample_weight(sample_weight, t, logits.dtype, validate, what="targets")
        p_weighted, t_weighted = p * w, t * w
    else:
        p_weighted, t_weighted = p, t
    counts = (
        T.sum(p_weighted * t, axis=0),
        T.sum(p_weighted, axis=0),
        T.sum(t_weighted, axis=0),
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
      validate: check target ranges and weight values where they are known
        (constants).

    Example:
      >>> import numpy as np
      >>> z, t = np.zeros(3), np.array([1.0, 0.0, 0.0])
      >>> round(float(soft_precision_loss(z, t, smooth=1e-6).eval()), 4)  # 1 - 0.5 / 1.5
      0.6667

    References:
      A surrogate of precision from expected counts, as the soft Dice of Milletari, Navab &
      Ahmadi, "V-Net", 3DV 2016, is of F1.
    """
    check_batch_reduction(reduction)
    smooth = check_smooth(smooth)
    given, (tp, pp, _) = _soft_counts(logits, targets, sample_weight, validate)
    s = _const(smooth, tp.dtype)
    loss = 1 - (tp + s) / (pp + s)
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
      validate: check target ranges and weight values where they are known
        (constants).

    Example:
      >>> import numpy as np
      >>> z, t = np.zeros(3), np.array([1.0, 0.0, 0.0])
      >>> round(float(soft_f1_loss(z, t, smooth=1e-6).eval()), 4)  # 1 - 2 * 0.5 / (1.5 + 1)
      0.6

    References:
      Milletari, Navab & Ahmadi, "V-Net: Fully Convolutional Neural Networks for Volumetric
      Medical Image Segmentation", 3DV 2016 (the soft Dice, i.e. soft F1, form).
    """
    check_batch_reduction(reduction)
    smooth = check_smooth(smooth)
    given, (tp, pp, ap) = _soft_counts(logits, targets, sample_weight, validate)
    s = _const(smooth, tp.dtype)
    loss = 1 - (2 * tp + s) / (pp + ap + s)
    return _restore(_reduce(loss, None, reduction, validate), given)


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
      logits: ``[..., num_classes]`` floating tensor or NumPy array, class axis last.
      labels: ``[...]`` integer class indices.
      cost_matrix: ``[num_classes, num_classes]`` non-negative costs, row = true class,
        column = predicted class.
      reduction: ``"none"``, ``"sum"``, ``"mean"`` or ``"weighted_mean"`` (divides by the sum of
        the costs).
      validate: check label ranges and cost values where they are known (constants).

    Example:
      >>> import numpy as np
      >>> cost = np.array([[1.0, 1.0], [5.0, 1.0]])  # missing class 1 costs 5
      >>> logits = np.array([[2.0, 0.0], [2.0, 0.0]])
      >>> loss = cost_sensitive_cross_entropy(logits, np.array([0, 1]), cost, reduction="none")
      >>> loss.eval().round(4).tolist()
      [0.1269, 10.6346]

    References:
      Elkan, "The Foundations of Cost-Sensitive Learning", IJCAI 2001.
    """
    check_reduction(reduction)
    ignore_index = check_ignore_index(ignore_index)
    given = _logits(logits)
    logits = _working(given)
    labels, keep = _check_labels(labels, logits, validate, ignore_index, reduction)
    n_classes = _n_classes(logits)
    cost = _weights("cost_matrix", cost_matrix, logits.dtype, validate=False)
    rows, columns = _shape(cost) if cost.ndim == 2 else (None, None)
    if (
        cost.ndim != 2
        or not _same_shape(_shape(cost), (n_classes, n_classes))
        or (rows is not None and columns is not None and rows != columns)
    ):
        fail(
            ValueError,
            "cost_matrix",
            f"shape {_show((n_classes, n_classes))}",
            f"shape {_show(_shape(cost))}",
        )
    if validate and _values(cost) is not None:
        check_weight_values("cost_matrix", *_extremes(_values(cost)))
    loss = -_pick(_one_hot(labels, logits.shape[-1]), _log_softmax(logits))
    weight = cost[labels, T.argmax(logits, axis=-1)]
    return _restore(_reduce(loss, weight, reduction, validate, "cost_matrix", keep=keep), given)
