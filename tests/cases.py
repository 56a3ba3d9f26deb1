"""Inputs for every loss of the contract, shared by the value, gradient and property tests."""

import numpy as np
import pytest

from companion._checks import REDUCTIONS

NUM_CLASSES = 4
LABEL_SHAPES = {"rank1": (7,), "rank3": (2, 3, 5)}
LOSSES = (
    "softmax_cross_entropy",
    "sigmoid_cross_entropy",
    "focal_loss",
    "sigmoid_focal_loss",
    "huber_loss",
    "dice_loss",
    "cost_sensitive_cross_entropy",
    "logit_adjusted_cross_entropy",
    "soft_precision_loss",
    "soft_f1_loss",
)
# Losses of the whole batch (one value per column, summed over axis 0): they have no element
# weights, so they refuse reduction="weighted_mean" and the tests skip it for them.
BATCH_LOSSES = ("soft_precision_loss", "soft_f1_loss")


def unsupported_reduction(name, reduction):
    """Why ``name`` does not take ``reduction`` (a skip reason), or ``None`` if it does."""
    if name in BATCH_LOSSES and reduction == "weighted_mean":
        return f"{name} refuses reduction='weighted_mean' (a loss of the whole batch)"
    return None


def skip_unsupported_reduction(name, reduction):
    """``pytest.skip`` a test of ``name`` with a ``reduction`` it refuses."""
    reason = unsupported_reduction(name, reduction)
    if reason:
        pytest.skip(reason)


def reductions_of(name, reductions=REDUCTIONS):
    """The reductions among ``reductions`` that ``name`` takes."""
    return tuple(r for r in reductions if unsupported_reduction(name, r) is None)


def make_case(name, rng, shape, *, saturated=False, weighted=True):
    """``(args, kwargs)`` of float64/int64 NumPy arrays and numbers for loss ``name``.

    ``shape`` is the labels' shape; logits add a class axis. Saturated inputs put softmax and
    sigmoid probabilities within e^-40 of 0 and 1 and Huber residuals far in the linear part.
    """
    scale = 40.0 if saturated else 2.0
    k = NUM_CLASSES
    logits = rng.normal(size=(*shape, k)) * scale
    labels = rng.integers(0, k, size=shape)
    per_sample = rng.uniform(0.0, 2.0, size=shape[:1])
    per_class = rng.uniform(0.2, 3.0, size=k)
    if name == "softmax_cross_entropy":
        kwargs = {"class_weight": per_class, "sample_weight": per_sample} if weighted else {}
        return (logits, labels), kwargs
    if name == "sigmoid_cross_entropy":
        targets = (rng.random(logits.shape) < 0.3).astype(np.float64)
        if not saturated:
            targets[..., 0] = rng.random(shape)  # probabilities as targets too
        kwargs = (
            {
                "class_weight": per_class,
                "sample_weight": per_sample,
                "pos_weight": rng.uniform(1.0, 5.0, size=k),
            }
            if weighted
            else {}
        )
        return (logits, targets), kwargs
    if name == "focal_loss":
        kwargs = {"alpha": per_class, "gamma": 1.5} if weighted else {"gamma": 2.0}
        return (logits, labels), kwargs
    if name == "sigmoid_focal_loss":
        targets = (rng.random(logits.shape) < 0.3).astype(np.float64)
        kwargs = {"alpha": 0.3, "gamma": 2.5} if weighted else {"alpha": None, "gamma": 2.0}
        return (logits, targets), kwargs
    if name == "huber_loss":
        prediction = rng.normal(size=shape) * (1e3 if saturated else 1.5)
        return (prediction, rng.normal(size=shape)), {"delta": 0.7 if weighted else 1.0}
    if name == "dice_loss":
        probabilities = rng.random(size=(*shape, 2))
        if saturated:
            probabilities = np.round(probabilities)
        targets = (rng.random(size=probabilities.shape) < 0.2).astype(np.float64)
        return (probabilities, targets), {"smooth": 0.5 if weighted else 1.0}
    if name == "cost_sensitive_cross_entropy":
        cost = rng.uniform(0.5, 5.0, size=(k, k))
        return (logits, labels, cost), {}
    if name == "logit_adjusted_cross_entropy":
        # A long tail of priors, down to 1e-30 where saturated (log-prior -69).
        prior = np.sort(rng.uniform(0.05, 1.0, size=k))[::-1].copy()
        if saturated:
            prior[-1] = 1e-30
        if not weighted:
            return (logits, labels), {"class_prior": prior / prior.sum()}
        kwargs = {
            "class_prior": prior * 250,  # counts: the prior is normalised
            "tau": 1.5,
            "class_weight": per_class,
            "sample_weight": per_sample,
        }
        return (logits, labels), kwargs
    if name in BATCH_LOSSES:
        # Soft precision on [batch] logits (a 0-d loss per column); soft F1 on [batch, ..., K].
        z = logits[..., 0] if name == "soft_precision_loss" else logits
        targets = (rng.random(z.shape) < 0.3).astype(np.float64)
        if not saturated:
            targets.flat[::3] = rng.random(targets.flat[::3].shape)  # probabilities too
        kwargs = {"sample_weight": per_sample, "smooth": 0.5} if weighted else {}
        return (z, targets), kwargs
    raise ValueError(name)


# The contract's newer arguments, as variants of a weighted case: variant id -> (losses, kwargs).
# ``ignore_index`` marks about a third of the labels (for Dice, of the targets) with that value;
# at least one element stays and at least one is ignored. ``ignore_index=1`` is a valid class.
SOFTMAX = ("softmax_cross_entropy", "focal_loss", "cost_sensitive_cross_entropy")
VARIANTS = {
    "ignore_index=-100": (SOFTMAX, {"ignore_index": -100}),
    "ignore_index=255": ((*SOFTMAX, "dice_loss"), {"ignore_index": 255}),
    "ignore_index=class1": (SOFTMAX, {"ignore_index": 1}),
    "label_smoothing=0.2": (
        ("softmax_cross_entropy", "sigmoid_cross_entropy"),
        {"label_smoothing": 0.2},
    ),
    "label_smoothing=1": (
        ("softmax_cross_entropy", "sigmoid_cross_entropy"),
        {"label_smoothing": 1.0},
    ),
    "smoothing_weight=label": (
        ("softmax_cross_entropy",),
        {"label_smoothing": 0.1, "smoothing_weight": "label"},
    ),
    "smoothing_weight=per_class": (
        ("softmax_cross_entropy",),
        {"label_smoothing": 0.1, "smoothing_weight": "per_class"},
    ),
    "per_class+ignore_index": (
        ("softmax_cross_entropy",),
        {"label_smoothing": 0.3, "smoothing_weight": "per_class", "ignore_index": -100},
    ),
    "label_smoothing+ignore_index": (
        ("softmax_cross_entropy",),
        {"label_smoothing": 0.3, "ignore_index": 255},
    ),
}
VARIANT_CASES = [(v, name) for v, (names, _) in VARIANTS.items() for name in names]


def make_variant_case(variant, name, rng, shape, *, weighted=True):
    """``make_case`` with the keyword arguments of ``VARIANTS[variant]`` added.

    Integer ``labels`` (or, for Dice, float ``targets``) get ``ignore_index`` written into about
    a third of their elements. The kwargs go to the loss as they are, so an implementation that
    does not take an argument fails with a ``TypeError`` rather than being skipped.
    """
    names, extra = VARIANTS[variant]
    if name not in names:
        raise ValueError(f"{variant} does not apply to {name}")
    args, kwargs = make_case(name, rng, shape, weighted=weighted)
    kwargs = {**kwargs, **extra}
    ignore = extra.get("ignore_index")
    if ignore is not None and ignore not in range(NUM_CLASSES):
        args = list(args)
        marked = args[1].copy()
        mask = rng.random(marked.shape) < 0.35
        mask.flat[0], mask.flat[-1] = True, False
        marked[mask] = ignore
        args[1] = marked
        args = tuple(args)
    return args, kwargs


# Half precision: the means run over more than 65,504 elements (the largest float16), so a
# float16 accumulator would overflow. The labels' shape is that of 4 masks of 128 x 128.
HALF_DTYPES = ("float16", "bfloat16")
HALF_SHAPE = (4, 128, 128)


__all__ = [
    "BATCH_LOSSES",
    "HALF_DTYPES",
    "HALF_SHAPE",
    "LABEL_SHAPES",
    "LOSSES",
    "NUM_CLASSES",
    "REDUCTIONS",
    "VARIANTS",
    "VARIANT_CASES",
    "make_case",
    "make_variant_case",
    "reductions_of",
    "skip_unsupported_reduction",
    "unsupported_reduction",
]
