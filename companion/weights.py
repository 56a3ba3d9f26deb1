r"""Class weights from labels, and per-element weights from class and sample weights.

Every function takes NumPy arrays or anything :func:`numpy.asarray` accepts (lists, CPU
tensors), labels of any rank: ``[batch]`` for classification, ``[batch, height, width]`` for
segmentation masks, ``[batch, time]`` for sequences. A mistake gets a ``ValueError`` or
``TypeError`` in the losses' form, ``"<argument>: expected ..., got ..."``: strings or ragged
nested lists where numbers are expected, a ``{class: weight}`` dict naming a class outside
``[0, n_classes)``, a column of multi-label targets without a positive.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np

from companion._checks import broadcast_shape, check_not_empty, check_number, fail

__all__ = ["class_prior", "class_weight", "merge_weights", "pos_weight", "unet_weight_map"]

METHODS = ("balanced", "inverse_frequency", "effective_number")


def _numeric(value, name):
    """``value`` as a NumPy array of numbers (or bools); ragged lists and strings are errors."""
    try:
        array = np.asarray(value)
    except ValueError:  # NumPy refuses nested sequences of unequal lengths
        fail(
            ValueError,
            name,
            "a rectangular array (nested sequences of equal lengths)",
            "ragged nested sequences",
        )
    if array.dtype.kind in "USO" and array.size:
        kinds = sorted({type(v).__name__ for v in array.ravel().tolist()})
        if array.dtype.kind == "O" and any(isinstance(v, list | tuple) for v in array.ravel()):
            fail(
                ValueError,
                name,
                "a rectangular array (nested sequences of equal lengths)",
                "ragged nested sequences",
            )
        got = "strings" if array.dtype.kind in "US" else "values of type " + ", ".join(kinds)
        fail(TypeError, name, "numbers", f"{got} (dtype {array.dtype})")
    if array.dtype.kind == "c":
        fail(TypeError, name, "real numbers", f"dtype {array.dtype}")
    return array


def _integer_labels(labels, name="labels"):
    array = _numeric(labels, name)
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.bool_)
    ):
        if (
            np.issubdtype(array.dtype, np.floating)
            and np.all(np.isfinite(array))
            and np.all(array == np.round(array))
        ):
            array = array.astype(np.int64)
        else:
            fail(TypeError, name, "integer class indices", f"dtype {array.dtype}")
    check_not_empty(name, array.shape)
    if np.any(array < 0):
        fail(ValueError, name, "class indices >= 0", f"a minimum of {int(array.min())}")
    return array.astype(np.int64)


def _class_counts(labels, n_classes, why):
    """How many elements of ``labels`` fall in each of ``n_classes`` classes (float64); every
    class must occur, since a class that never occurs ``why``."""
    array = _integer_labels(labels)
    if n_classes is None:
        n_classes = int(array.max()) + 1
    if isinstance(n_classes, bool) or not isinstance(n_classes, numbers.Integral):
        fail(TypeError, "n_classes", "an integer", type(n_classes).__name__)
    if n_classes < 1 or array.max() >= n_classes:
        fail(ValueError, "n_classes", f"an integer > max(labels) = {int(array.max())}", n_classes)
    counts = np.bincount(array.ravel(), minlength=n_classes).astype(np.float64)
    if np.any(counts == 0):
        missing = np.flatnonzero(counts == 0).tolist()
        fail(
            ValueError,
            "labels",
            f"every class in [0, {n_classes}) at least once (a class that never occurs {why})",
            f"no element of class {missing}",
        )
    return counts


def class_weight(labels, n_classes=None, *, method="balanced", beta=0.999):
    r"""One weight per class, computed from how often each class occurs in ``labels``.

    With :math:`n` labels, :math:`k` classes and :math:`n_c` occurrences of class :math:`c`:

    * ``"balanced"``: :math:`w_c = n / (k\, n_c)`, scikit-learn's
      ``compute_class_weight("balanced", ...)``; the weighted class counts are all equal to
      :math:`n/k` and the weights average 1 over the samples.
    * ``"inverse_frequency"``: :math:`w_c = n / n_c`, one over the class frequency.
    * ``"effective_number"``: :math:`w_c \propto (1 - \beta) / (1 - \beta^{n_c})`, normalised so
      that :math:`\sum_c w_c = k` (Cui et al., 2019). :math:`\beta = 0` gives equal weights and
      :math:`\beta \to 1` approaches inverse frequency.

    Args:
      labels: integer class indices of any shape (every element counts once).
      n_classes: the number of classes :math:`k`; defaults to ``max(labels) + 1``. Every class
        must occur at least once, or its weight would be infinite.
      method: ``"balanced"``, ``"inverse_frequency"`` or ``"effective_number"``.
      beta: for ``"effective_number"``, a number in ``[0, 1)``.

    Returns:
      A float64 array of shape ``[n_classes]``.

    Example:
      >>> class_weight([0, 0, 0, 1]).tolist()
      [0.6666666666666666, 2.0]

    References:
      King & Zeng (2001) and scikit-learn for ``"balanced"``; Cui, Jia, Lin, Song & Belongie,
      "Class-Balanced Loss Based on Effective Number of Samples", CVPR 2019.
    """
    if method not in METHODS:
        fail(ValueError, "method", f"one of {METHODS}", repr(method))
    beta = check_number("beta", beta, low=0.0, high=1.0)
    if beta == 1.0:
        fail(ValueError, "beta", "a number in [0, 1)", beta)
    counts = _class_counts(labels, n_classes, "has no finite weight")
    n_classes = counts.size
    if method == "balanced":
        return counts.sum() / (n_classes * counts)
    if method == "inverse_frequency":
        return counts.sum() / counts
    # 1 - beta**n computed as -expm1(n log beta), exact for beta close to 1.
    effective = (
        -np.expm1(counts * np.log(beta)) / (1.0 - beta) if beta > 0 else np.ones_like(counts)
    )
    weights = 1.0 / effective
    return weights * n_classes / weights.sum()


def merge_weights(labels, *, class_weight=None, sample_weight=None, one_hot=False, n_classes=None):
    r"""The per-element weight :math:`w = \text{class\_weight}[y] \cdot \text{sample\_weight}`.

    This is what Keras 2 (tf-keras) did when ``fit`` got both ``class_weight`` and
    ``sample_weight``, and what Keras 3 refuses to do; pass the result to ``fit`` as
    ``sample_weight``. It works for labels of any rank, so a segmentation mask gets a weight map.

    Args:
      labels: integer labels of any shape ``[batch, ...]``, or, with ``one_hot=True``, one-hot
        (or probability) labels ``[batch, ..., num_classes]`` whose class is the argmax of the
        last axis.
      class_weight: one weight per class as a sequence or array, or a ``{class: weight}`` dict
        (missing classes weigh 1). ``None`` weighs every class 1.
      sample_weight: weights broadcastable to the (sparse) labels' shape after trailing axes of
        size one are added, so ``[batch]`` weights apply per sample. ``None`` weighs every
        sample 1.
      one_hot: whether ``labels`` carries a class axis last.
      n_classes: the number of classes; defaults to the one-hot axis's length, or to
        ``max(labels) + 1``. A ``{class: weight}`` dict may only name classes in
        ``[0, n_classes)``: pass ``n_classes`` when the labels at hand lack the last classes.

    Returns:
      A float64 array of the sparse labels' shape.

    Example:
      >>> merge_weights([0, 1, 1], class_weight={1: 3.0}, sample_weight=[0.5, 1.0, 2.0]).tolist()
      [0.5, 3.0, 6.0]
    """
    if n_classes is not None and (
        isinstance(n_classes, bool) or not isinstance(n_classes, numbers.Integral)
    ):
        fail(TypeError, "n_classes", "an integer or None", type(n_classes).__name__)
    if one_hot:
        dense = _numeric(labels, "labels")
        if dense.ndim < 1 or not (np.issubdtype(dense.dtype, np.number) or dense.dtype == bool):
            fail(
                ValueError,
                "labels",
                "one-hot labels [batch, ..., num_classes]",
                f"shape {dense.shape} of dtype {dense.dtype}",
            )
        check_not_empty("labels", dense.shape)
        if n_classes is not None and n_classes != dense.shape[-1]:
            fail(
                ValueError,
                "n_classes",
                f"the length of the one-hot axis, {dense.shape[-1]}",
                n_classes,
            )
        n_classes = dense.shape[-1]
        sparse = np.argmax(dense, axis=-1)
    else:
        sparse = _integer_labels(labels)
        if n_classes is not None and n_classes <= sparse.max():
            fail(
                ValueError,
                "n_classes",
                f"an integer > max(labels) = {int(sparse.max())}",
                n_classes,
            )
        if n_classes is None:
            n_classes = int(sparse.max()) + 1
    weight = np.ones(sparse.shape)
    if class_weight is not None:
        table = _class_table(class_weight, n_classes, one_hot)
        if sparse.max() >= table.shape[0]:
            fail(
                ValueError,
                "labels",
                f"class indices below len(class_weight) = {table.shape[0]}",
                f"a maximum of {int(sparse.max())}",
            )
        weight = table[sparse]
    if sample_weight is not None:
        sw = _numeric(sample_weight, "sample_weight").astype(np.float64)
        sw = sw.reshape(
            broadcast_shape("sample_weight", sw.shape, sparse.shape, "the labels' shape")
        )
        _nonnegative("sample_weight", sw)
        weight = weight * sw
    return np.broadcast_to(weight, sparse.shape).astype(np.float64)


def _class_table(class_weight, n_classes, exact):
    if isinstance(class_weight, Mapping):
        for key in class_weight:
            if (
                isinstance(key, bool)
                or not isinstance(key, numbers.Integral)
                or not 0 <= key < n_classes
            ):
                fail(
                    ValueError,
                    "class_weight",
                    f"integer class keys in [0, {n_classes}) (the classes of the labels; "
                    "pass n_classes= for classes they lack)",
                    repr(key),
                )
        table = np.ones(n_classes)
        for key, value in class_weight.items():
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                fail(
                    TypeError,
                    "class_weight",
                    "a number for every class",
                    f"{type(value).__name__} {value!r} for class {key}",
                )
            table[key] = value
    else:
        table = _numeric(class_weight, "class_weight").astype(np.float64)
        if table.ndim != 1:
            fail(
                ValueError,
                "class_weight",
                "one weight per class (a 1-D sequence)",
                f"shape {table.shape}",
            )
    if exact and table.shape[0] != n_classes:
        fail(
            ValueError,
            "class_weight",
            f"{n_classes} weights (one per class of the one-hot axis)",
            f"{table.shape[0]}",
        )
    _nonnegative("class_weight", table)
    return table


def _nonnegative(name, array):
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        fail(
            ValueError,
            name,
            "finite, non-negative weights",
            f"values from {np.min(array):g} to {np.max(array):g}",
        )


def pos_weight(targets):
    r"""Negatives over positives in every column of multi-label targets.

    .. math::

        \text{pos\_weight}_c = \frac{n - \sum_i t_{i,c}}{\sum_i t_{i,c}}

    where :math:`i` runs over every axis but the last (:math:`n` elements per column). It is
    the ``pos_weight`` of ``BCEWithLogitsLoss`` and of TensorFlow's
    ``weighted_cross_entropy_with_logits`` that makes each column's positives weigh as much in
    total as its negatives. Probabilities in ``[0, 1]`` count fractionally.

    Args:
      targets: 0/1 (or probability) targets of shape ``[..., n_columns]``, at least 1-D. The
        last axis holds the columns, so binary targets of shape ``[batch]`` need a column
        axis: ``pos_weight(targets[:, None])``.

    Returns:
      A float64 array of shape ``[n_columns]``.

    Example:
      >>> pos_weight([[1, 0], [0, 1], [0, 1], [0, 0]]).tolist()
      [3.0, 1.0]

    References:
      PyTorch ``torch.nn.BCEWithLogitsLoss`` (its documentation's ``pos_weight`` example).
    """
    array = _numeric(targets, "targets")
    if array.ndim < 1:
        fail(
            ValueError, "targets", "an array [..., n_columns] of at least one dimension", "a scalar"
        )
    check_not_empty("targets", array.shape)
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)) or np.any(array < 0) or np.any(array > 1):
        fail(
            ValueError,
            "targets",
            "values in [0, 1]",
            f"values from {np.min(array):g} to {np.max(array):g}",
        )
    columns = array.reshape(-1, array.shape[-1])
    positives = columns.sum(axis=0)
    if np.any(positives == 0):
        missing = np.flatnonzero(positives == 0).tolist()
        where = f"column {missing[0]}" if len(missing) == 1 else f"columns {missing}"
        fail(ValueError, "targets", "at least one positive in every column", f"none in {where}")
    return (columns.shape[0] - positives) / positives


def class_prior(labels, n_classes=None):
    r"""The class frequencies :math:`\pi_c = n_c / n` of ``labels``, one per class.

    This is the prior that logit adjustment takes (``class_prior=`` of
    :func:`companion.reference.logit_adjusted_cross_entropy` and
    :func:`companion.reference.logit_adjustment`): the frequencies of the *training* labels.

    Args:
      labels: integer class indices of any shape (every element counts once).
      n_classes: the number of classes :math:`k`; defaults to ``max(labels) + 1``. Every class
        must occur at least once, or its prior would be 0 and its log-prior infinite.

    Returns:
      A float64 array of shape ``[n_classes]`` that sums to 1.

    Example:
      >>> class_prior([0, 0, 0, 1]).tolist()
      [0.75, 0.25]

    References:
      Menon et al., "Long-tail learning via logit adjustment", ICLR 2021.
    """
    counts = _class_counts(labels, n_classes, "has prior 0 and no finite log-prior")
    return counts / counts.sum()


_weights_from_labels = class_weight  # the parameter of unet_weight_map shadows the name


GAP_ON = ("background", "all")


def unet_weight_map(
    labels,
    *,
    w0=10.0,
    sigma=5.0,
    class_weight=None,
    instances=None,
    background=0,
    gap_on="background",
):
    r"""U-Net's per-pixel weight map: a class-balance term plus a term for narrow gaps.

    Ronneberger et al.'s equation 2,

    .. math::

        w(x) = w_c(x) + w_0 \exp\!\left(-\frac{(d_1(x) + d_2(x))^2}{2\sigma^2}\right),

    where, in the paper's words, ":math:`w_c: \Omega \to \mathbb{R}` is the weight map to
    balance the class frequencies, :math:`d_1: \Omega \to \mathbb{R}` denotes the distance to
    the border of the nearest cell and :math:`d_2: \Omega \to \mathbb{R}` the distance to the
    border of the second nearest cell", with :math:`w_0 = 10` and :math:`\sigma \approx 5`
    pixels (section 3). The paper defines the map on every pixel :math:`\Omega` and leaves open
    which cell is the nearest for a pixel inside one. Here :math:`d_1(x)`, :math:`d_2(x)` are the
    Euclidean distances from :math:`x` to the nearest and the second-nearest object's pixels, so
    a pixel inside an object has :math:`d_1 = 0`. Where the gap term goes is this
    implementation's choice: by default (``gap_on="background"``) it is added to background
    pixels only (pixels of no object), where the separation borders carved between touching
    cells lie (the paper's figure 3c and 3d), as public implementations do (``unetwmap.m`` of
    deepCyAn multiplies it by ``cells == 0``); ``gap_on="all"`` adds it to every pixel, object
    pixels included (there :math:`d_1 = 0`, so object pixels near another object get
    :math:`w_0 \exp(-d_2^2 / 2\sigma^2)` on top of their class weight). A third reading,
    :math:`d_1` inside a cell as the distance to its own border, is not implemented. An image
    with fewer than two objects gets no gap term.

    Args:
      labels: integer class mask ``[height, width]`` or ``[batch, height, width]``.
      w0: weight of the gap term, a finite number ``>= 0``.
      sigma: width of the gap term in pixels, ``> 0``.
      class_weight: :math:`w_c`, one weight per class (a sequence or a ``{class: weight}``
        dict, missing classes weighing 1); ``None`` uses :func:`class_weight` of ``labels``
        (``"balanced"``, over every pixel of the batch).
      instances: integer object ids of the labels' shape (0: no object), for objects that
        touch; ``None`` takes the 4-connected components of ``labels != background`` in each
        image.
      background: the class that is not an object when ``instances`` is ``None``.
      gap_on: ``"background"`` (default): the gap term on pixels of no object only (instance
        id 0, or class ``background`` when ``instances`` is ``None``); ``"all"``: on every
        pixel.

    Returns:
      A float64 array of the labels' shape.

    Example:
      >>> mask = np.zeros((1, 7), dtype=int)
      >>> mask[0, [1, 2, 4, 5]] = 1  # two objects, one pixel apart
      >>> unet_weight_map(mask, class_weight=[1.0, 1.0], sigma=1.0).round(2).tolist()
      [[1.0, 1.0, 1.0, 2.35, 1.0, 1.0, 1.0]]
      >>> unet_weight_map(mask, class_weight=[1.0, 1.0], sigma=1.0, gap_on="all").round(2).tolist()
      [[1.0, 1.11, 2.35, 2.35, 2.35, 1.11, 1.0]]

    References:
      Ronneberger, Fischer & Brox, "U-Net: Convolutional Networks for Biomedical Image
      Segmentation", MICCAI 2015 (arXiv:1505.04597), section 3, equation 2 and figure 3.
    """
    try:
        from scipy import ndimage
    except ImportError as error:  # pragma: no cover - scipy comes with scikit-learn
        raise ImportError("unet_weight_map needs scipy (pip install scipy)") from error
    mask = _integer_labels(labels)
    if mask.ndim not in (2, 3):
        fail(
            ValueError,
            "labels",
            "a mask [height, width] or [batch, height, width]",
            f"shape {mask.shape}",
        )
    w0 = check_number("w0", w0, low=0.0)
    sigma = check_number("sigma", sigma, low=0.0, low_open=True)
    if isinstance(background, bool) or not isinstance(background, numbers.Integral):
        fail(TypeError, "background", "an integer class", type(background).__name__)
    if not isinstance(gap_on, str):
        fail(TypeError, "gap_on", f"one of {GAP_ON}", type(gap_on).__name__)
    if gap_on not in GAP_ON:
        fail(ValueError, "gap_on", f"one of {GAP_ON}", repr(gap_on))
    if class_weight is None:
        table = _weights_from_labels(mask)
    else:
        table = _class_table(class_weight, int(mask.max()) + 1, False)
        if mask.max() >= table.shape[0]:
            fail(
                ValueError,
                "labels",
                f"class indices below len(class_weight) = {table.shape[0]}",
                f"a maximum of {int(mask.max())}",
            )
    if instances is None:
        objects = None
    else:
        objects = _integer_labels(instances, "instances")
        if objects.shape != mask.shape:
            fail(ValueError, "instances", f"the labels' shape {mask.shape}", f"{objects.shape}")
    batched = mask if mask.ndim == 3 else mask[None]
    if objects is not None:
        objects = objects if objects.ndim == 3 else objects[None]
    gap = np.zeros(batched.shape)
    for n, image in enumerate(batched):
        if objects is None:
            ids, count = ndimage.label(image != background)
        else:
            ids = objects[n]
            count = None
        present = np.unique(ids[ids > 0]) if count is None else np.arange(1, count + 1)
        if present.size < 2:
            continue
        distances = np.stack([ndimage.distance_transform_edt(ids != k) for k in present])
        nearest = np.partition(distances, 1, axis=0)[:2]
        gap[n] = w0 * np.exp(-((nearest[0] + nearest[1]) ** 2) / (2 * sigma**2))
        if gap_on == "background":
            gap[n] *= ids == 0  # pixels of no object
    return table[mask] + gap.reshape(mask.shape)
