"""Float64 NumPy/SciPy formulas: the oracle ``companion.reference`` is checked against.

Written independently of the package, as literally as the formulas in the design allow: explicit
gathers with ``take_along_axis``, SciPy's ``log_softmax`` and ``log_expit``, no shared helpers.
"""

import numpy as np
from scipy.special import expit, log_expit, log_softmax


def reduce(loss, weight, reduction):
    weighted = loss if weight is None else loss * weight
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return weighted.sum()
    if reduction == "mean" or weight is None:
        return weighted.mean()
    return weighted.sum() / np.broadcast_to(weight, loss.shape).sum()


def per_sample(sample_weight, shape):
    sample_weight = np.asarray(sample_weight, dtype=np.float64)
    return sample_weight.reshape(sample_weight.shape + (1,) * (len(shape) - sample_weight.ndim))


def log_prob_of_label(logits, labels):
    return np.take_along_axis(log_softmax(logits, axis=-1), labels[..., None], axis=-1)[..., 0]


def softmax_cross_entropy(
    logits, labels, *, class_weight=None, sample_weight=None, reduction="mean"
):
    loss = -log_prob_of_label(logits, labels)
    weight = np.ones_like(loss)
    if class_weight is not None:
        weight = weight * np.asarray(class_weight, dtype=np.float64)[labels]
    if sample_weight is not None:
        weight = weight * per_sample(sample_weight, labels.shape)
    if class_weight is None and sample_weight is None:
        weight = None
    return reduce(loss, weight, reduction)


def sigmoid_cross_entropy(
    logits, targets, *, class_weight=None, sample_weight=None, pos_weight=None, reduction="mean"
):
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


def focal_loss(logits, labels, *, alpha=None, gamma=2.0, reduction="mean"):
    log_p = log_prob_of_label(logits, labels)
    loss = -((-np.expm1(log_p)) ** gamma) * log_p
    if alpha is None:
        weight = None
    elif np.ndim(alpha) == 0:
        weight = np.full_like(loss, float(alpha))
    else:
        weight = np.asarray(alpha, dtype=np.float64)[labels]
    return reduce(loss, weight, reduction)


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


def dice_loss(probabilities, targets, *, smooth=1.0, reduction="mean"):
    axes = tuple(range(1, probabilities.ndim))
    overlap = (probabilities * targets).sum(axis=axes)
    total = probabilities.sum(axis=axes) + targets.sum(axis=axes)
    return reduce(1 - (2 * overlap + smooth) / (total + smooth), None, reduction)


def cost_sensitive_cross_entropy(logits, labels, cost_matrix, *, reduction="mean"):
    loss = -log_prob_of_label(logits, labels)
    weight = np.asarray(cost_matrix, dtype=np.float64)[labels, np.argmax(logits, axis=-1)]
    return reduce(loss, weight, reduction)


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
