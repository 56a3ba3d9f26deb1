"""Float64 NumPy/SciPy formulas: the oracle ``companion.reference`` is checked against.

Written independently of the package, as literally as the formulas in the design allow: explicit
gathers with ``take_along_axis``, SciPy's ``log_softmax`` and ``log_expit``, no shared helpers.
"""

import numpy as np
from scipy.special import expit, log_expit, log_softmax


def reduce(loss, weight, reduction, kept=None):
    """``kept``: boolean mask of the elements not ignored (``None``: all of them)."""
    if kept is not None:
        # Drop the ignored elements outright; "none" puts 0 back in their place.
        weight = None if weight is None else np.broadcast_to(weight, loss.shape)[kept]
        reduced = reduce(loss[kept], weight, reduction)
        if reduction != "none":
            return reduced
        full = np.zeros(loss.shape)
        full[kept] = reduced
        return full
    weighted = loss if weight is None else loss * weight
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return weighted.sum()
    if reduction == "mean" or weight is None:
        return weighted.mean()
    return weighted.sum() / np.broadcast_to(weight, loss.shape).sum()


def split_ignored(labels, ignore_index):
    """The mask of the labels that count, and the labels with the ignored ones set to 0."""
    if ignore_index is None:
        return None, labels
    kept = labels != ignore_index
    return kept, np.where(kept, labels, 0)


def per_sample(sample_weight, shape):
    sample_weight = np.asarray(sample_weight, dtype=np.float64)
    return sample_weight.reshape(sample_weight.shape + (1,) * (len(shape) - sample_weight.ndim))


def log_prob_of_label(logits, labels):
    return np.take_along_axis(log_softmax(logits, axis=-1), labels[..., None], axis=-1)[..., 0]


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
):
    kept, labels = split_ignored(labels, ignore_index)
    k = logits.shape[-1]
    # The smoothed target distribution q, as a dense array, and -sum_c q_c log p_c.
    q = (1 - label_smoothing) * np.eye(k)[labels] + label_smoothing / k
    log_p = log_softmax(logits, axis=-1)
    cw = None if class_weight is None else np.asarray(class_weight, dtype=np.float64)
    if smoothing_weight == "per_class" and cw is not None:
        # Every class's term carries that class's weight (PyTorch's weight= with smoothing).
        loss = -(q * cw * log_p).sum(axis=-1)
        applied = cw[labels]
    else:
        loss = -(q * log_p).sum(axis=-1)
        applied = None
    weight = np.ones_like(loss)
    if cw is not None:
        weight = weight * cw[labels]
    if sample_weight is not None:
        weight = weight * per_sample(sample_weight, labels.shape)
    if class_weight is None and sample_weight is None:
        weight = None
    if applied is not None:
        # The loss holds the class weights already: reduce loss * sample_weight, divide by w.
        sw = 1.0 if sample_weight is None else per_sample(sample_weight, labels.shape)
        return reduce_with_divisor(loss * sw, weight, reduction, kept)
    return reduce(loss, weight, reduction, kept)


def reduce_with_divisor(weighted, weight, reduction, kept):
    """Reduce losses that carry their weights already; ``weight`` only divides weighted_mean."""
    if kept is not None:
        weighted = np.where(kept, weighted, 0.0)
        weight = np.where(kept, weight, 0.0)
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return weighted.sum()
    if reduction == "mean":
        return weighted.sum() / (weighted.size if kept is None else kept.sum())
    return weighted.sum() / weight.sum()


def sigmoid_cross_entropy(
    logits,
    targets,
    *,
    class_weight=None,
    sample_weight=None,
    pos_weight=None,
    label_smoothing=0.0,
    reduction="mean",
):
    targets = targets * (1 - label_smoothing) + label_smoothing / 2
    pos = 1.0 if pos_weight is None else np.asarray(pos_weight, dtype=np.float64)
    loss = -(pos * targets * log_expit(logits) + (1 - targets) * log_expit(-logits))
    weight = np.ones_like(loss)
    if class_weight is not None:
        weight = weight * np.asarray(class_weight, dtype=np.float64)
    if sample_weight is not None:
        weight = weight * per_sample(sample_weight, targets.shape)
    if class_weight is None and sample_weight is None:
        weight = None
    return reduce(loss, weight, reduction)


def focal_loss(logits, labels, *, alpha=None, gamma=2.0, ignore_index=None, reduction="mean"):
    kept, labels = split_ignored(labels, ignore_index)
    log_p = log_prob_of_label(logits, labels)
    loss = -((-np.expm1(log_p)) ** gamma) * log_p
    if alpha is None:
        weight = None
    elif np.ndim(alpha) == 0:
        weight = np.full_like(loss, float(alpha))
    else:
        weight = np.asarray(alpha, dtype=np.float64)[labels]
    return reduce(loss, weight, reduction, kept)


def sigmoid_focal_loss(logits, targets, *, alpha=0.25, gamma=2.0, reduction="mean"):
    p = expit(logits)
    bce = -(targets * log_expit(logits) + (1 - targets) * log_expit(-logits))
    one_minus_p_t = targets * expit(-logits) + (1 - targets) * p
    loss = one_minus_p_t**gamma * bce
    weight = None if alpha is None else alpha * targets + (1 - alpha) * (1 - targets)
    return reduce(loss, weight, reduction)


def huber_loss(prediction, target, *, delta=1.0, reduction="mean"):
    d = np.abs(prediction - target)
    loss = np.where(d <= delta, 0.5 * d**2, delta * (d - 0.5 * delta))
    return reduce(loss, None, reduction)


def huber_grad(prediction, target, *, delta=1.0):
    d = prediction - target
    return np.where(np.abs(d) <= delta, d, delta * np.sign(d))


def dice_loss(probabilities, targets, *, smooth=1.0, ignore_index=None, reduction="mean"):
    if ignore_index is not None:
        kept = targets != ignore_index
        probabilities, targets = probabilities * kept, np.where(kept, targets, 0.0)
    axes = tuple(range(1, probabilities.ndim))
    overlap = (probabilities * targets).sum(axis=axes)
    total = probabilities.sum(axis=axes) + targets.sum(axis=axes)
    return reduce(1 - (2 * overlap + smooth) / (total + smooth), None, reduction)


def cost_sensitive_cross_entropy(
    logits, labels, cost_matrix, *, ignore_index=None, reduction="mean"
):
    kept, labels = split_ignored(labels, ignore_index)
    loss = -log_prob_of_label(logits, labels)
    weight = np.asarray(cost_matrix, dtype=np.float64)[labels, np.argmax(logits, axis=-1)]
    return reduce(loss, weight, reduction, kept)


def logit_adjusted_cross_entropy(
    logits,
    labels,
    *,
    class_prior,
    tau=1.0,
    class_weight=None,
    sample_weight=None,
    reduction="mean",
):
    prior = np.asarray(class_prior, dtype=np.float64)
    adjusted = logits + tau * np.log(prior / prior.sum())
    return softmax_cross_entropy(
        adjusted,
        labels,
        class_weight=class_weight,
        sample_weight=sample_weight,
        reduction=reduction,
    )


def soft_counts(logits, targets, sample_weight):
    """Expected true, predicted and actual positives of each column, summed over axis 0."""
    p = expit(logits)
    w = np.ones_like(targets) if sample_weight is None else per_sample(sample_weight, targets.shape)
    w = np.broadcast_to(w, targets.shape)
    return (w * p * targets).sum(axis=0), (w * p).sum(axis=0), (w * targets).sum(axis=0)


def soft_precision_loss(logits, targets, *, sample_weight=None, smooth=1.0, reduction="mean"):
    tp, pp, _ = soft_counts(logits, targets, sample_weight)
    return reduce(1 - (tp + smooth) / (pp + smooth), None, reduction)


def soft_f1_loss(logits, targets, *, sample_weight=None, smooth=1.0, reduction="mean"):
    tp, pp, ap = soft_counts(logits, targets, sample_weight)
    return reduce(1 - (2 * tp + smooth) / (pp + ap + smooth), None, reduction)
