"""Sample-weight invariances, after scikit-learn's ``check_sample_weight_invariance``.

Each weighted loss must treat weights as counts: unit weights change nothing, an integer weight
equals repeating the sample, a zero weight equals dropping it, and ``weighted_mean`` ignores a
common scale of all weights.
"""

import numpy as np
import pytest

from companion import reference

N, K = 12, 3


def _softmax(rng):
    logits, labels = rng.normal(size=(N, K)) * 2, rng.integers(0, K, size=N)
    return reference.softmax_cross_entropy, logits, labels


def _sigmoid(rng):
    logits, targets = rng.normal(size=(N, K)) * 2, (rng.random((N, K)) < 0.3).astype(float)
    return reference.sigmoid_cross_entropy, logits, targets


def _segmentation(rng):
    logits, labels = rng.normal(size=(N, 4, 4, K)), rng.integers(0, K, size=(N, 4, 4))
    return reference.softmax_cross_entropy, logits, labels


PROBLEMS = {"softmax": _softmax, "sigmoid": _sigmoid, "segmentation": _segmentation}


@pytest.fixture(params=PROBLEMS.keys())
def problem(request, rng):
    return PROBLEMS[request.param](rng)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean", "weighted_mean"])
def test_unit_weights_equal_no_weights(problem, reduction):
    loss, x, y = problem
    np.testing.assert_allclose(
        loss(x, y, sample_weight=np.ones(N), class_weight=np.ones(K), reduction=reduction),
        loss(x, y, reduction=reduction),
        rtol=1e-14,
    )


@pytest.mark.parametrize("reduction", ["sum", "weighted_mean"])
def test_integer_weights_equal_repeated_samples(problem, rng, reduction):
    loss, x, y = problem
    counts = rng.integers(0, 4, size=N)
    counts[0] = 1
    repeated = loss(
        np.repeat(x, counts, axis=0),
        np.repeat(y, counts, axis=0),
        reduction="sum" if reduction == "sum" else "mean",
    )
    np.testing.assert_allclose(
        loss(x, y, sample_weight=counts, reduction=reduction), repeated, rtol=1e-12
    )


@pytest.mark.parametrize("reduction", ["sum", "weighted_mean"])
def test_zero_weights_equal_dropped_samples(problem, rng, reduction):
    loss, x, y = problem
    keep = rng.random(N) < 0.5
    keep[0] = True
    dropped = loss(x[keep], y[keep], reduction="sum" if reduction == "sum" else "mean")
    np.testing.assert_allclose(
        loss(x, y, sample_weight=keep.astype(float), reduction=reduction), dropped, rtol=1e-12
    )


def test_weighted_mean_unchanged_when_all_weights_are_scaled(problem, rng):
    loss, x, y = problem
    sample_weight, class_weight = rng.uniform(0.1, 2, size=N), rng.uniform(0.1, 2, size=K)
    base = loss(
        x, y, sample_weight=sample_weight, class_weight=class_weight, reduction="weighted_mean"
    )
    for scale in (1e-3, 7.0, 1e4):
        np.testing.assert_allclose(
            loss(
                x,
                y,
                sample_weight=scale * sample_weight,
                class_weight=class_weight,
                reduction="weighted_mean",
            ),
            base,
            rtol=1e-12,
        )
        np.testing.assert_allclose(
            loss(
                x,
                y,
                sample_weight=sample_weight,
                class_weight=scale * class_weight,
                reduction="weighted_mean",
            ),
            base,
            rtol=1e-12,
        )


def test_class_weight_equals_the_same_weight_given_per_sample(rng):
    logits, labels = rng.normal(size=(N, K)), rng.integers(0, K, size=N)
    class_weight = rng.uniform(0.1, 3, size=K)
    for reduction in ("sum", "mean", "weighted_mean"):
        np.testing.assert_allclose(
            reference.softmax_cross_entropy(
                logits, labels, class_weight=class_weight, reduction=reduction
            ),
            reference.softmax_cross_entropy(
                logits, labels, sample_weight=class_weight[labels], reduction=reduction
            ),
            rtol=1e-14,
        )


def test_sample_weight_of_the_wrong_length_raises(problem):
    loss, x, y = problem
    with pytest.raises(ValueError, match="sample_weight"):
        loss(x, y, sample_weight=np.ones(N - 1))


@pytest.mark.parametrize("reduction", ["sum", "mean", "weighted_mean"])
@pytest.mark.parametrize("name", ["softmax_cross_entropy", "focal_loss"])
def test_ignored_labels_equal_dropped_samples(rng, name, reduction):
    logits, labels = rng.normal(size=(N, 4, 4, K)), rng.integers(0, K, size=(N, 4, 4))
    ignored = rng.random(labels.shape) < 0.3
    weight = {"softmax_cross_entropy": "class_weight", "focal_loss": "alpha"}[name]
    kwargs = {weight: rng.uniform(0.5, 2.0, size=K)}
    loss = getattr(reference, name)
    got = loss(
        logits, np.where(ignored, -100, labels), **kwargs, ignore_index=-100, reduction=reduction
    )
    dropped = loss(logits[~ignored], labels[~ignored], **kwargs, reduction=reduction)
    np.testing.assert_allclose(got, dropped, rtol=1e-13)
