"""Finite inputs never give a non-finite loss or gradient: float32 logits anywhere in ±1e4."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from companion import reference

K = 3
LOGITS = arrays(
    np.float32, st.tuples(st.integers(1, 6), st.just(K)), elements=st.floats(-1e4, 1e4, width=32)
)
GAMMAS = st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.7])


def _finite_loss_and_gradient(call, logits):
    x = torch.tensor(logits, requires_grad=True)
    loss = call(x)
    loss.backward()
    assert torch.isfinite(loss).all(), loss
    assert torch.isfinite(x.grad).all(), x.grad


@settings(max_examples=60, deadline=None)
@given(logits=LOGITS, data=st.data())
def test_softmax_losses_are_finite_with_finite_gradients(logits, data):
    n = logits.shape[0]
    labels = torch.tensor(data.draw(arrays(np.int64, n, elements=st.integers(0, K - 1))))
    gamma = data.draw(GAMMAS)
    for reduction in ("sum", "weighted_mean"):
        for call in (
            lambda x, r=reduction: reference.softmax_cross_entropy(
                x, labels, class_weight=[1.0, 5.0, 0.5], reduction=r
            ),
            lambda x, r=reduction: reference.focal_loss(
                x, labels, alpha=[0.25, 1.0, 2.0], gamma=gamma, reduction=r
            ),
            lambda x, r=reduction: reference.cost_sensitive_cross_entropy(
                x, labels, np.full((K, K), 2.0), reduction=r
            ),
        ):
            _finite_loss_and_gradient(call, logits)


@settings(max_examples=60, deadline=None)
@given(logits=LOGITS, data=st.data())
def test_sigmoid_losses_are_finite_with_finite_gradients(logits, data):
    targets = torch.tensor(
        data.draw(arrays(np.float32, logits.shape, elements=st.sampled_from([0.0, 1.0, 0.25])))
    )
    gamma = data.draw(GAMMAS)
    _finite_loss_and_gradient(
        lambda x: reference.sigmoid_cross_entropy(
            x, targets, pos_weight=[10.0, 1.0, 3.0], class_weight=[1.0, 2.0, 0.5]
        ),
        logits,
    )
    _finite_loss_and_gradient(
        lambda x: reference.sigmoid_focal_loss(x, targets, alpha=0.25, gamma=gamma), logits
    )


@settings(max_examples=60, deadline=None)
@given(prediction=LOGITS, delta=st.floats(1e-3, 1e3))
def test_huber_is_finite_with_finite_gradients(prediction, delta):
    target = torch.zeros(prediction.shape, dtype=torch.float32)
    _finite_loss_and_gradient(lambda x: reference.huber_loss(x, target, delta=delta), prediction)


@settings(max_examples=60, deadline=None)
@given(probabilities=arrays(np.float32, (2, 5, 5), elements=st.floats(0.0, 1.0, width=32)))
def test_dice_is_finite_with_finite_gradients(probabilities):
    targets = torch.zeros(probabilities.shape)
    targets[0, 1:3, 1:3] = 1.0
    _finite_loss_and_gradient(lambda x: reference.dice_loss(x, targets, smooth=1e-3), probabilities)


@pytest.mark.parametrize("value", [-1e4, 1e4])
def test_focal_gradient_at_saturation_is_finite_for_gamma_below_one(value):
    logits = np.array([[value, -value, 0.0]], dtype=np.float32)
    _finite_loss_and_gradient(
        lambda x: reference.focal_loss(x, torch.tensor([0]), gamma=0.3), logits
    )


@settings(max_examples=60, deadline=None)
@given(logits=LOGITS, data=st.data())
def test_ignored_and_smoothed_softmax_losses_are_finite_with_finite_gradients(logits, data):
    n = logits.shape[0]
    # Any subset ignored, all of them included (validate=False then gives 0, not 0/0).
    labels = torch.tensor(data.draw(arrays(np.int64, n, elements=st.sampled_from([0, 1, 2, 255]))))
    eps = data.draw(st.sampled_from([0.0, 0.1, 1.0]))
    options = {"ignore_index": 255, "validate": False}
    for reduction in ("sum", "mean", "weighted_mean"):
        for call in (
            lambda x, r=reduction: reference.softmax_cross_entropy(
                x,
                labels,
                class_weight=[1.0, 5.0, 0.5],
                label_smoothing=eps,
                smoothing_weight=data.draw(st.sampled_from(["label", "per_class"])),
                reduction=r,
                **options,
            ),
            lambda x, r=reduction: reference.focal_loss(
                x, labels, alpha=[0.25, 1.0, 2.0], gamma=data.draw(GAMMAS), reduction=r, **options
            ),
            lambda x, r=reduction: reference.cost_sensitive_cross_entropy(
                x, labels, np.full((K, K), 2.0), reduction=r, **options
            ),
        ):
            _finite_loss_and_gradient(call, logits)


@settings(max_examples=60, deadline=None)
@given(logits=LOGITS, data=st.data())
def test_soft_precision_and_f1_are_finite_with_finite_gradients(logits, data):
    # Any mix of targets, all-negative columns included, and any non-negative weights (all zero
    # too): smooth > 0 keeps every ratio finite, however small.
    targets = torch.tensor(
        data.draw(arrays(np.float32, logits.shape, elements=st.sampled_from([0.0, 1.0, 0.25])))
    )
    weight = data.draw(
        arrays(np.float32, logits.shape[:1], elements=st.sampled_from([0.0, 0.5, 1.0, 1e3]))
    )
    smooth = data.draw(st.sampled_from([1e-6, 1.0]))
    for name in ("soft_precision_loss", "soft_f1_loss"):
        for reduction in ("none", "sum", "mean"):
            _finite_loss_and_gradient(
                lambda x, n=name, r=reduction: getattr(reference, n)(
                    x, targets, sample_weight=weight, smooth=smooth, reduction=r
                ).sum(),
                logits,
            )
