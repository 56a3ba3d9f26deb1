"""Input checks shared by every implementation.

Every message has the form ``"<argument>: expected <what>, got <what came>"`` so a reader sees at
once which argument is wrong and why. Checks of shapes, dtypes and hyperparameters always run;
checks of array values need the data on the host and are skipped with ``validate=False``.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import sys
from collections.abc import Mapping

REDUCTIONS = ("none", "sum", "mean", "weighted_mean")


def fail(error: type[Exception], name: str, expected: str, got: object) -> None:
    """Raise ``error`` with the project's message form."""
    raise error(f"{name}: expected {expected}, got {got}")


def check_reduction(reduction: object) -> str:
    if not isinstance(reduction, str):
        fail(TypeError, "reduction", f"one of {REDUCTIONS}", f"{type(reduction).__name__}")
    if reduction not in REDUCTIONS:
        fail(ValueError, "reduction", f"one of {REDUCTIONS}", repr(reduction))
    return reduction


def check_number(
    name: str,
    value: object,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
) -> float:
    """A real, finite scalar in ``[low, high]``, or ``(low, high]`` if ``low_open``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        fail(TypeError, name, "a real number", f"{type(value).__name__}")
    value = float(value)
    lo = "(" if low_open else "["
    interval = f"a finite number in {lo}{'-inf' if low is None else low}, "
    interval += f"{'inf' if high is None else high}]"
    if (
        not math.isfinite(value)
        or (low is not None and (value < low or (low_open and value == low)))
        or (high is not None and value > high)
    ):
        fail(ValueError, name, interval, value)
    return value


def broadcast_shape(name: str, shape: tuple, to: tuple, what: str) -> tuple:
    """The shape ``shape`` takes when padded on the right with ones to the rank of ``to``.

    Weights of shape ``(batch,)`` for labels of shape ``(batch, height, width)`` thus apply per
    sample, as Keras' ``sample_weight`` does. Raises if they then do not broadcast to ``to``.
    """
    if len(shape) > len(to):
        fail(ValueError, name, f"at most {len(to)} dimensions to broadcast to {what} {to}", shape)
    padded = tuple(shape) + (1,) * (len(to) - len(shape))
    if any(s not in (1, t) for s, t in zip(padded, to, strict=True)):
        fail(ValueError, name, f"a shape that broadcasts to {what} {to}", tuple(shape))
    return padded


def check_not_empty(name: str, shape: tuple) -> None:
    if math.prod(shape) == 0:
        fail(
            ValueError, name, "a batch of at least one element", f"an empty array of shape {shape}"
        )


# Checks of array values. Each framework computes the minimum, maximum and finiteness with its
# own operations (one transfer to the host each) and hands them here, so that every
# implementation words the same mistake the same way.


def describe_values(minimum: float, maximum: float, all_finite: bool = True) -> str:
    text = f"values from {minimum:g} to {maximum:g}"
    return text if all_finite else text + " (not all finite)"


def check_label_range(minimum: int, maximum: int, n_classes: int, name: str = "labels") -> None:
    if minimum < 0 or maximum >= n_classes:
        fail(
            ValueError,
            name,
            f"class indices in [0, {n_classes})",
            f"values from {int(minimum)} to {int(maximum)}",
        )


def check_weight_values(name: str, minimum: float, maximum: float, all_finite: bool) -> None:
    if not all_finite or minimum < 0:
        fail(
            ValueError,
            name,
            "finite, non-negative weights",
            describe_values(minimum, maximum, all_finite),
        )


def check_prior_values(name: str, minimum: float, maximum: float, all_finite: bool) -> None:
    if not all_finite or not minimum > 0:
        fail(
            ValueError,
            name,
            "finite, positive values (class frequencies or counts)",
            describe_values(minimum, maximum, all_finite),
        )


def check_unit_interval(name: str, minimum: float, maximum: float, all_finite: bool) -> None:
    if not all_finite or minimum < 0 or maximum > 1:
        fail(ValueError, name, "values in [0, 1]", describe_values(minimum, maximum, all_finite))


def check_positive_sum(name: str, total: float) -> None:
    if not total > 0:
        fail(
            ValueError,
            name,
            "a positive sum for reduction='weighted_mean'",
            "weights that sum to 0",
        )


def class_table(name: str, class_weight: object, n_classes: int) -> object:
    """A ``{class: weight}`` dict as a list of ``n_classes`` weights, missing classes weighing 1.

    Anything else (a sequence, an array, a tensor) is returned as it is, for the caller to
    convert with its own framework.
    """
    if not isinstance(class_weight, Mapping):
        return class_weight
    table = [1.0] * n_classes
    for key, value in class_weight.items():
        if (
            isinstance(key, bool)
            or not isinstance(key, numbers.Integral)
            or not 0 <= key < n_classes
        ):
            fail(ValueError, name, f"integer class keys in [0, {n_classes})", repr(key))
        table[key] = value
    return table


SMOOTHING_WEIGHTS = ("label", "per_class")


def check_ignore_index(ignore_index: object) -> int | None:
    """``None`` or an integer (not a bool): the label whose elements count nowhere."""
    if ignore_index is None:
        return None
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
        fail(
            TypeError,
            "ignore_index",
            "an integer label or None",
            f"{type(ignore_index).__name__} {ignore_index!r}",
        )
    return int(ignore_index)


def check_label_smoothing(label_smoothing: object) -> float:
    return check_number("label_smoothing", label_smoothing, low=0.0, high=1.0)


def check_smoothing_weight(smoothing_weight: object) -> str:
    if not isinstance(smoothing_weight, str) or smoothing_weight not in SMOOTHING_WEIGHTS:
        fail(ValueError, "smoothing_weight", f"one of {SMOOTHING_WEIGHTS}", repr(smoothing_weight))
    return smoothing_weight


def check_class_axis(n_classes: int, name: str = "logits") -> None:
    """A class axis of at least one class (shape check: runs with ``validate=False`` too)."""
    if n_classes < 1:
        fail(ValueError, name, "at least one class along the class axis", "0 classes")


def check_some_kept(count: int, total: int, ignore_index: int, reduction: str) -> None:
    """``"mean"`` and ``"weighted_mean"`` need at least one element that is not ignored."""
    if count == 0 and reduction in ("mean", "weighted_mean"):
        fail(
            ValueError,
            "labels",
            f"at least one element not equal to ignore_index={ignore_index} "
            f"for reduction={reduction!r}",
            f"all {total} ignored",
        )


BATCH_REDUCTIONS = ("none", "sum", "mean")


def check_batch_reduction(reduction: object) -> str:
    """The reductions of a loss of the whole batch (soft precision, soft F1): one value per
    column, with no per-element weights for ``"weighted_mean"`` to divide by."""
    if not isinstance(reduction, str):
        fail(TypeError, "reduction", f"one of {BATCH_REDUCTIONS}", f"{type(reduction).__name__}")
    if reduction not in BATCH_REDUCTIONS:
        fail(
            ValueError,
            "reduction",
            f"one of {BATCH_REDUCTIONS} (a loss of the whole batch has no element weights "
            "for 'weighted_mean' to divide by)",
            repr(reduction),
        )
    return reduction


def check_smooth(smooth: object) -> float:
    """``smooth > 0`` and finite, so that a ratio of sums is never 0/0 and always finite."""
    return check_number("smooth", smooth, low=0.0, low_open=True)


@contextlib.contextmanager
def quiet_stderr():
    """Point file descriptor 2 at the null device (C++ writes bypass ``sys.stderr``).

    TensorFlow 2.21 prints a "Could not find cuda drivers" line on machines without a GPU before
    its log level applies (tensorflow/tensorflow#100442); the framework modules import it inside
    this context.
    """
    if sys.stderr is not None:
        sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2 to silence
        yield
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)
