"""Every reference loss equals the float64 oracle on every backend, reduction and label rank."""

import numpy as np
import oracle
import pytest
from cases import LABEL_SHAPES, LOSSES, REDUCTIONS, make_case

from companion import reference


def _on(backend, value):
    return backend.asarray(value) if isinstance(value, np.ndarray) else value


@pytest.mark.parametrize("weighted", [True, False], ids=["weighted", "unweighted"])
@pytest.mark.parametrize("saturated", [False, True], ids=["random", "saturated"])
@pytest.mark.parametrize("shape", LABEL_SHAPES.values(), ids=LABEL_SHAPES.keys())
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", LOSSES)
def test_float64_loss_equals_oracle(backend, rng, name, reduction, shape, saturated, weighted):
    args, kwargs = make_case(name, rng, shape, saturated=saturated, weighted=weighted)
    expected = getattr(oracle, name)(*args, **kwargs, reduction=reduction)
    got = getattr(reference, name)(
        *(_on(backend, a) for a in args),
        **{k: _on(backend, v) for k, v in kwargs.items()},
        reduction=reduction,
    )
    got = backend.to_numpy(got)
    assert got.shape == np.shape(expected)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", LOSSES)
def test_float32_loss_equals_oracle_within_float32_precision(backend, rng, name, reduction):
    args, kwargs = make_case(name, rng, LABEL_SHAPES["rank3"])
    expected = getattr(oracle, name)(*args, **kwargs, reduction=reduction)

    def to32(value):
        if isinstance(value, np.ndarray) and value.dtype == np.float64:
            return backend.asarray(value.astype(np.float32))
        return _on(backend, value)

    got = getattr(reference, name)(
        *(to32(a) for a in args), **{k: to32(v) for k, v in kwargs.items()}, reduction=reduction
    )
    got = backend.to_numpy(got)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)


def test_huber_grad_equals_oracle(backend, rng):
    prediction, target = rng.normal(size=(3, 50)) * 3, rng.normal(size=(3, 50))
    got = reference.huber_grad(backend.asarray(prediction), backend.asarray(target), delta=1.3)
    np.testing.assert_allclose(
        backend.to_numpy(got), oracle.huber_grad(prediction, target, delta=1.3), rtol=1e-12
    )


def test_class_weight_dict_equals_the_same_weights_as_a_list(rng):
    logits, labels = rng.normal(size=(9, 3)), rng.integers(0, 3, size=9)
    as_dict = reference.softmax_cross_entropy(logits, labels, class_weight={2: 4.0, 0: 0.5})
    as_list = reference.softmax_cross_entropy(logits, labels, class_weight=[0.5, 1.0, 4.0])
    assert float(as_dict) == float(as_list)


def test_focal_scalar_alpha_scales_every_class_alike(rng):
    logits, labels = rng.normal(size=(9, 3)), rng.integers(0, 3, size=9)
    plain = reference.focal_loss(logits, labels, reduction="none")
    scaled = reference.focal_loss(logits, labels, alpha=0.25, reduction="none")
    np.testing.assert_allclose(scaled, 0.25 * plain, rtol=1e-14)


def test_sample_weight_per_sample_applies_to_every_pixel(rng):
    logits, labels = rng.normal(size=(2, 4, 4, 3)), rng.integers(0, 3, size=(2, 4, 4))
    weighted = reference.softmax_cross_entropy(
        logits, labels, sample_weight=np.array([0.0, 2.0]), reduction="none"
    )
    plain = reference.softmax_cross_entropy(logits, labels, reduction="none")
    np.testing.assert_array_equal(weighted[0], 0.0)
    np.testing.assert_allclose(weighted[1], 2.0 * plain[1], rtol=1e-14)


def test_huber_loss_equals_oracle_on_a_grid_across_delta(backend):
    delta = 0.8
    residual = np.linspace(-3 * delta, 3 * delta, 601)  # steps of delta / 100, through ±delta
    got = reference.huber_loss(
        backend.asarray(residual),
        backend.asarray(np.zeros_like(residual)),
        delta=delta,
        reduction="none",
    )
    expected = oracle.huber_loss(residual, np.zeros_like(residual), delta=delta, reduction="none")
    np.testing.assert_allclose(backend.to_numpy(got), expected, rtol=1e-13, atol=0)
