"""Limit cases as identities, and gradients against automatic differentiation."""

import numpy as np
import pytest
import torch
from cases import LABEL_SHAPES, LOSSES, REDUCTIONS, make_case, skip_unsupported_reduction

from companion import reference


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_focal_with_gamma_zero_equals_weighted_ce(rng, reduction):
    logits, labels = rng.normal(size=(6, 5, 4)) * 3, rng.integers(0, 4, size=(6, 5))
    class_weight = rng.uniform(0.1, 4.0, size=4)
    focal = reference.focal_loss(logits, labels, alpha=class_weight, gamma=0.0, reduction=reduction)
    ce = reference.softmax_cross_entropy(
        logits, labels, class_weight=class_weight, reduction=reduction
    )
    np.testing.assert_allclose(focal, ce, rtol=1e-13)


def test_focal_over_ce_is_alpha_times_modulating_factor(rng):
    logits, labels = rng.normal(size=(50, 4)) * 2, rng.integers(0, 4, size=50)
    alpha = np.array([0.25, 1.0, 2.0, 0.5])
    focal = reference.focal_loss(logits, labels, alpha=alpha, gamma=2.0, reduction="none")
    ce = reference.softmax_cross_entropy(logits, labels, reduction="none")
    p_t = np.exp(-ce)
    np.testing.assert_allclose(focal / ce, alpha[labels] * (1 - p_t) ** 2, rtol=1e-12)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_sigmoid_focal_with_gamma_zero_and_no_alpha_equals_sigmoid_ce(rng, reduction):
    logits, targets = rng.normal(size=(8, 3)) * 4, rng.random((8, 3))
    focal = reference.sigmoid_focal_loss(
        logits, targets, alpha=None, gamma=0.0, reduction=reduction
    )
    ce = reference.sigmoid_cross_entropy(logits, targets, reduction=reduction)
    np.testing.assert_allclose(focal, ce, rtol=1e-13)


@pytest.mark.parametrize(("alpha", "silent"), [(1.0, 0.0), (0.0, 1.0)])
def test_sigmoid_focal_alpha_zero_or_one_silences_one_side(rng, alpha, silent):
    logits = rng.normal(size=(40, 3)) * 3
    targets = (rng.random((40, 3)) < 0.5).astype(np.float64)
    loss = reference.sigmoid_focal_loss(logits, targets, alpha=alpha, reduction="none")
    assert np.all(loss[targets == silent] == 0.0)
    assert np.all(loss[targets != silent] > 0.0)


def test_pos_weight_scales_only_the_positive_term(rng):
    logits = rng.normal(size=(10, 3))
    ones, zeros = np.ones((10, 3)), np.zeros((10, 3))
    for targets, factor in ((ones, 3.0), (zeros, 1.0)):
        weighted = reference.sigmoid_cross_entropy(
            logits, targets, pos_weight=3.0, reduction="none"
        )
        plain = reference.sigmoid_cross_entropy(logits, targets, reduction="none")
        np.testing.assert_allclose(weighted, factor * plain, rtol=1e-14)


def test_cost_matrix_of_ones_equals_plain_cross_entropy(rng):
    logits, labels = rng.normal(size=(4, 6, 3)), rng.integers(0, 3, size=(4, 6))
    np.testing.assert_allclose(
        reference.cost_sensitive_cross_entropy(logits, labels, np.ones((3, 3))),
        reference.softmax_cross_entropy(logits, labels),
        rtol=1e-14,
    )


def test_dice_of_a_perfect_prediction_is_zero_and_of_a_disjoint_one_is_near_one():
    mask = np.zeros((2, 8, 8))
    mask[:, 2:5, 3:6] = 1.0
    assert float(reference.dice_loss(mask, mask)) == 0.0
    disjoint = reference.dice_loss(1.0 - mask, mask, smooth=1e-6, reduction="none")
    np.testing.assert_allclose(disjoint, 1.0, atol=1e-7)


def test_huber_grad_equals_autodiff_gradient_of_huber_loss(rng):
    prediction = torch.tensor(rng.normal(size=200) * 3, requires_grad=True)
    target = torch.tensor(rng.normal(size=200))
    reference.huber_loss(prediction, target, delta=1.2, reduction="sum").backward()
    expected = reference.huber_grad(prediction.detach(), target, delta=1.2)
    torch.testing.assert_close(prediction.grad, expected, rtol=1e-12, atol=1e-12)


def test_huber_grad_is_continuous_at_delta():
    delta = 0.8
    d = np.array([delta - 1e-9, delta, delta + 1e-9])
    np.testing.assert_allclose(reference.huber_grad(d, np.zeros(3), delta=delta), delta, atol=1e-8)


def _analytic_gradient(name, args, kwargs, reduction):
    """d loss / d first argument by torch autograd in float64."""
    first = torch.tensor(args[0], requires_grad=True)
    rest = [torch.as_tensor(a) for a in args[1:]]
    kwargs = {k: torch.as_tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    loss = getattr(reference, name)(first, *rest, **kwargs, reduction=reduction)
    loss.sum().backward()
    return first.grad.numpy()


@pytest.mark.parametrize("reduction", ["sum", "mean", "weighted_mean"])
@pytest.mark.parametrize("name", LOSSES)
def test_autodiff_gradient_equals_central_finite_differences(rng, name, reduction):
    skip_unsupported_reduction(name, reduction)
    args, kwargs = make_case(name, rng, LABEL_SHAPES["rank1"])
    if name == "dice_loss":
        args = (np.clip(args[0], 0.05, 0.95), args[1])  # stay inside [0, 1] when perturbed
    if name == "huber_loss":  # keep residuals away from the kink at |d| = delta
        residual = args[0] - args[1]
        args = (
            np.where(np.abs(np.abs(residual) - kwargs["delta"]) < 1e-3, args[0] + 0.01, args[0]),
            args[1],
        )
    grad = _analytic_gradient(name, args, kwargs, reduction)
    step = 1e-6
    numeric = np.zeros_like(args[0])
    for index in np.ndindex(args[0].shape):
        up, down = args[0].copy(), args[0].copy()
        up[index] += step
        down[index] -= step
        f = getattr(reference, name)
        numeric[index] = (
            float(f(up, *args[1:], **kwargs, reduction=reduction))
            - float(f(down, *args[1:], **kwargs, reduction=reduction))
        ) / (2 * step)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)
