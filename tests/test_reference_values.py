"""Every reference loss equals the float64 oracle on every backend, reduction and label rank."""

import numpy as np
import oracle
import pytest
from array_api_compat import array_namespace
from cases import (
    HALF_DTYPES,
    HALF_SHAPE,
    LABEL_SHAPES,
    LOSSES,
    REDUCTIONS,
    VARIANT_CASES,
    make_case,
    make_variant_case,
    skip_unsupported_reduction,
)

from companion import reference


def _on(backend, value):
    return backend.asarray(value) if isinstance(value, np.ndarray) else value


@pytest.mark.parametrize("weighted", [True, False], ids=["weighted", "unweighted"])
@pytest.mark.parametrize("saturated", [False, True], ids=["random", "saturated"])
@pytest.mark.parametrize("shape", LABEL_SHAPES.values(), ids=LABEL_SHAPES.keys())
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", LOSSES)
def test_float64_loss_equals_oracle(backend, rng, name, reduction, shape, saturated, weighted):
    skip_unsupported_reduction(name, reduction)
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
    skip_unsupported_reduction(name, reduction)
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


@pytest.mark.parametrize("weighted", [True, False], ids=["weighted", "unweighted"])
@pytest.mark.parametrize("shape", LABEL_SHAPES.values(), ids=LABEL_SHAPES.keys())
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    ("variant", "name"), VARIANT_CASES, ids=[f"{v}-{n}" for v, n in VARIANT_CASES]
)
def test_new_arguments_equal_oracle(backend, rng, variant, name, reduction, shape, weighted):
    args, kwargs = make_variant_case(variant, name, rng, shape, weighted=weighted)
    expected = getattr(oracle, name)(*args, **kwargs, reduction=reduction)
    got = getattr(reference, name)(
        *(_on(backend, a) for a in args),
        **{k: _on(backend, v) for k, v in kwargs.items()},
        reduction=reduction,
    )
    got = backend.to_numpy(got)
    assert got.shape == np.shape(expected)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_ignored_elements_count_in_no_numerator_and_no_denominator(rng):
    logits, labels = rng.normal(size=(10, 3)), rng.integers(0, 3, size=10)
    weight, marked = rng.uniform(0.5, 2.0, size=3), labels.copy()
    marked[[2, 5, 7]] = 255
    kept = marked != 255
    for name, kwargs in [
        ("softmax_cross_entropy", {"class_weight": weight}),
        ("focal_loss", {"alpha": weight}),
        ("cost_sensitive_cross_entropy", {}),
    ]:
        extra = (np.outer(weight, weight),) if name.startswith("cost") else ()
        loss = getattr(reference, name)
        for reduction in REDUCTIONS:
            got = loss(logits, marked, *extra, **kwargs, ignore_index=255, reduction=reduction)
            dropped = loss(logits[kept], labels[kept], *extra, **kwargs, reduction=reduction)
            if reduction == "none":
                np.testing.assert_array_equal(got[~kept], 0.0)
                got = got[kept]
            np.testing.assert_allclose(got, dropped, rtol=1e-14)


def test_ignore_index_may_be_a_valid_class(rng):
    logits, labels = rng.normal(size=(12, 3)), np.arange(12) % 3
    got = reference.softmax_cross_entropy(
        logits, labels, class_weight=[1.0, 5.0, 2.0], ignore_index=1, reduction="weighted_mean"
    )
    kept = labels != 1
    expected = reference.softmax_cross_entropy(
        logits[kept], labels[kept], class_weight=[1.0, 5.0, 2.0], reduction="weighted_mean"
    )
    np.testing.assert_allclose(got, expected, rtol=1e-14)


def test_dice_with_every_element_of_a_sample_ignored_is_zero_and_still_counted():
    p = np.full((2, 2, 2), 0.7)
    t = np.array([[[1.0, 0.0], [0.0, 1.0]], [[255.0, 255.0], [255.0, 255.0]]])
    per_sample = reference.dice_loss(p, t, ignore_index=255, reduction="none")
    assert per_sample[1] == 0.0
    np.testing.assert_allclose(reference.dice_loss(p, t, ignore_index=255), per_sample.sum() / 2)


def test_full_label_smoothing_is_the_cross_entropy_of_the_uniform_distribution(rng):
    logits, labels = rng.normal(size=(8, 5)), rng.integers(0, 5, size=8)
    got = reference.softmax_cross_entropy(logits, labels, label_smoothing=1.0, reduction="none")
    expected = -oracle.log_softmax(logits, axis=-1).mean(axis=-1)
    np.testing.assert_allclose(got, expected, rtol=1e-13)


def _half(backend, dtype):
    if backend.name == "array_api_strict":
        pytest.skip("the array API standard has no half-precision dtype")
    if backend.name.startswith("torch"):
        return getattr(backend.module, dtype)
    if dtype == "bfloat16":
        pytest.skip(f"{backend.name} has no bfloat16")
    return backend.module.float16


def _to_float64(backend, array):
    if backend.name.startswith("torch"):
        array = array.double()  # NumPy has no bfloat16
    return backend.to_numpy(array).astype(np.float64)


@pytest.mark.parametrize("dtype", HALF_DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "weighted_mean"])
@pytest.mark.parametrize("name", LOSSES)
def test_half_precision_mean_over_65536_elements_is_finite_and_right(
    backend, rng, name, reduction, dtype
):
    skip_unsupported_reduction(name, reduction)
    half = _half(backend, dtype)
    args, kwargs = make_case(name, rng, HALF_SHAPE)
    floating = [isinstance(a, np.ndarray) and a.dtype == np.float64 for a in args]
    inputs = [backend.asarray(a) for a in args]
    inputs = [
        array_namespace(x).astype(x, half) if is_float else x
        for x, is_float in zip(inputs, floating, strict=True)
    ]
    rounded = [
        _to_float64(backend, x) if is_float else a
        for x, a, is_float in zip(inputs, args, floating, strict=True)
    ]
    got = getattr(reference, name)(*inputs, **kwargs, reduction=reduction)
    assert got.dtype == half
    got = float(_to_float64(backend, got))
    expected = float(getattr(oracle, name)(*rounded, **kwargs, reduction=reduction))
    assert np.isfinite(got) and got != 0.0
    np.testing.assert_allclose(got, expected, rtol=4e-3 if dtype == "float16" else 2e-2)
