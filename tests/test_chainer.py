"""``companion.chainer``: its import, Chainer's native losses beside ours, and its own behaviour.

The values and gradients of every loss against the reference are checked by
``tests/test_conformance.py`` through ``tests/adapter_chainer.py``; here Chainer's own functions
(``F.average``, ``F.softmax_cross_entropy``, ``F.sigmoid_cross_entropy``, ``F.huber_loss``) are
run beside ours, and what they do differently (normalisation, the ignore label) is pinned down.
"""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from companion import chainer as losses
from companion import reference

chainer, F = losses.chainer, losses.F


def _run(code):
    """Run ``code`` in a fresh interpreter, in the environment a user starts with.

    Importing ``companion.theano`` in this test process (another test file does) sets
    ``THEANO_FLAGS`` and ``SETUPTOOLS_USE_DISTUTILS`` in ``os.environ``; they are left out here.
    """
    unset = ("THEANO_FLAGS", "SETUPTOOLS_USE_DISTUTILS")
    environment = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=environment
    )


def _value(variable):
    return np.asarray(variable.array)


@pytest.fixture
def rng():
    return np.random.default_rng(20261123)


@pytest.fixture
def segmentation(rng):
    """Logits ``[batch, classes, width]`` and labels ``[batch, width]``, Chainer's layout."""
    return rng.normal(size=(4, 3, 5)), rng.integers(0, 3, size=(4, 5)).astype(np.int32)


# ----------------------------------------------------------------------------- importing


@pytest.mark.parametrize(
    "code",
    [
        "import companion.chainer; import chainer",
        "import torch; import companion.chainer; import chainer",
        "import setuptools; import companion.chainer; import chainer",
        "import companion.chainer; import torch; import setuptools",
        "import companion.theano; import companion.chainer; import chainer",
        "import companion.chainer; import companion.theano; import chainer",
    ],
    ids=[
        "alone",
        "after-torch",
        "after-setuptools",
        "before-torch-and-setuptools",
        "after-theano",
        "before-theano",
    ],
)
def test_import_prints_nothing_and_exits_zero(code):
    result = _run(code)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_import_after_tensorflow_raises_no_python_warning():
    # TensorFlow writes its own C++ log lines to stderr; no Python warning may join them.
    result = _run("import tensorflow; import companion.chainer; import chainer")
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_import_leaves_setuptools_distutils_unpatched_and_warning_filters_unchanged():
    code = (
        "import warnings; before = list(warnings.filters)\n"
        "import companion.chainer, numpy.distutils.ccompiler\n"
        "assert warnings.filters == before, warnings.filters\n"
        "import setuptools, distutils.ccompiler\n"
        "assert 'setuptools' in distutils.__file__, distutils.__file__\n"
        "assert distutils.ccompiler is not numpy.distutils.ccompiler.ccompiler\n"
        "assert 'numpy' not in distutils.ccompiler.CCompiler.compile.__module__\n"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_importing_companion_chainer_loads_neither_torch_nor_tensorflow():
    code = (
        "import sys, companion.chainer\n"
        "print([m for m in ('torch', 'tensorflow', 'keras', 'theano') if m in sys.modules])"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# ----------------------------------------------------------------------------- Chainer's own losses


def test_weighted_mean_equals_chainer_average_with_weights(segmentation, rng):
    logits, labels = segmentation
    weight = rng.uniform(0.0, 2.0, size=labels.shape)
    unweighted = losses.softmax_cross_entropy(logits, labels, reduction="none")
    ours = losses.softmax_cross_entropy(
        logits, labels, sample_weight=weight, reduction="weighted_mean"
    )
    np.testing.assert_allclose(
        _value(F.average(unweighted, weights=weight)), _value(ours), rtol=1e-12
    )


def test_chainer_average_gives_nan_for_zero_weights_where_weighted_mean_raises_or_gives_0(
    segmentation,
):
    logits, labels = segmentation
    unweighted = losses.softmax_cross_entropy(logits, labels, reduction="none")
    zero = np.zeros(labels.shape)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert np.isnan(_value(F.average(unweighted, weights=zero)))
    with pytest.raises(ValueError, match=r"^class_weight \* sample_weight: expected"):
        losses.softmax_cross_entropy(logits, labels, sample_weight=zero, reduction="weighted_mean")
    unchecked = losses.softmax_cross_entropy(
        logits, labels, sample_weight=zero, reduction="weighted_mean", validate=False
    )
    assert _value(unchecked) == 0


def test_chainer_softmax_class_weight_divides_by_element_count_not_weight_sum(segmentation):
    """``F.softmax_cross_entropy(class_weight=w)`` is our ``"mean"``, not ``"weighted_mean"``.

    Chainer multiplies each element's loss by its class weight and divides the sum by the number
    of (non-ignored) elements, as Keras does, not by the sum of the weights as PyTorch's
    ``CrossEntropyLoss(weight=)`` does.
    """
    logits, labels = segmentation
    class_weight = np.array([0.5, 2.0, 1.5])
    native = _value(F.softmax_cross_entropy(logits, labels, class_weight=class_weight))
    ours = {
        reduction: _value(
            losses.softmax_cross_entropy(
                logits, labels, class_weight=class_weight, reduction=reduction
            )
        )
        for reduction in ("mean", "weighted_mean")
    }
    np.testing.assert_allclose(native, ours["mean"], rtol=1e-12)
    assert not np.isclose(native, ours["weighted_mean"], rtol=1e-3)


def test_chainer_softmax_without_normalize_divides_by_batch_size(segmentation):
    logits, labels = segmentation
    class_weight = np.array([0.5, 2.0, 1.5])
    native = F.softmax_cross_entropy(logits, labels, class_weight=class_weight, normalize=False)
    total = losses.softmax_cross_entropy(logits, labels, class_weight=class_weight, reduction="sum")
    np.testing.assert_allclose(_value(native), _value(total) / len(labels), rtol=1e-12)


def test_chainer_softmax_ignore_label_equals_zero_sample_weight(segmentation):
    """Label -1 drops an element: our 0/1 ``sample_weight``, with ``"weighted_mean"`` for
    Chainer's default ``normalize=True`` (the mean over the elements that are not ignored)."""
    logits, labels = segmentation
    ignored = labels.copy()
    ignored[0, :2] = ignored[2, 3] = -1
    keep = (ignored != -1).astype(np.float64)

    def ours(reduction):
        return _value(
            losses.softmax_cross_entropy(logits, labels, sample_weight=keep, reduction=reduction)
        )

    np.testing.assert_allclose(
        _value(F.softmax_cross_entropy(logits, ignored, reduce="no")), ours("none"), rtol=1e-12
    )
    np.testing.assert_allclose(
        _value(F.softmax_cross_entropy(logits, ignored)), ours("weighted_mean"), rtol=1e-12
    )
    np.testing.assert_allclose(
        _value(F.softmax_cross_entropy(logits, ignored, normalize=False)),
        ours("sum") / len(labels),
        rtol=1e-12,
    )


def test_chainer_ignore_label_with_class_weight_divides_by_kept_count_not_weight_sum(
    segmentation,
):
    logits, labels = segmentation
    class_weight = np.array([0.5, 2.0, 1.5])
    ignored = labels.copy()
    ignored[1, 1:4] = -1
    keep = (ignored != -1).astype(np.float64)
    native = F.softmax_cross_entropy(logits, ignored, class_weight=class_weight)
    total = losses.softmax_cross_entropy(
        logits, labels, class_weight=class_weight, sample_weight=keep, reduction="sum"
    )
    np.testing.assert_allclose(_value(native), _value(total) / keep.sum(), rtol=1e-12)


@pytest.fixture
def multilabel(rng):
    """Logits and 0/1 int32 targets ``[batch, labels, width]``, Chainer's layout."""
    return rng.normal(size=(4, 3, 5)) * 3, (rng.random((4, 3, 5)) < 0.4).astype(np.int32)


def test_sigmoid_cross_entropy_none_equals_chainer_reduce_no(multilabel):
    logits, targets = multilabel
    native = F.sigmoid_cross_entropy(logits, targets, reduce="no")
    ours = losses.sigmoid_cross_entropy(logits, targets.astype(np.float64), reduction="none")
    np.testing.assert_allclose(_value(native), _value(ours), rtol=1e-12)


def test_chainer_sigmoid_normalize_true_is_mean_over_elements_false_is_sum_over_batch(
    multilabel,
):
    logits, targets = multilabel

    def ours(reduction):
        return _value(
            losses.sigmoid_cross_entropy(logits, targets.astype(np.float64), reduction=reduction)
        )

    np.testing.assert_allclose(
        _value(F.sigmoid_cross_entropy(logits, targets)), ours("mean"), rtol=1e-12
    )
    np.testing.assert_allclose(
        _value(F.sigmoid_cross_entropy(logits, targets, normalize=False)),
        ours("sum") / len(targets),
        rtol=1e-12,
    )


def test_chainer_sigmoid_ignore_label_equals_zero_sample_weight(multilabel):
    logits, targets = multilabel
    ignored = targets.copy()
    ignored[1, 0] = ignored[3, 2, 4] = -1
    keep = (ignored != -1).astype(np.float64)

    def ours(reduction):
        return _value(
            losses.sigmoid_cross_entropy(
                logits, targets.astype(np.float64), sample_weight=keep, reduction=reduction
            )
        )

    np.testing.assert_allclose(
        _value(F.sigmoid_cross_entropy(logits, ignored, reduce="no")), ours("none"), rtol=1e-12
    )
    np.testing.assert_allclose(
        _value(F.sigmoid_cross_entropy(logits, ignored)), ours("weighted_mean"), rtol=1e-12
    )
    np.testing.assert_allclose(
        _value(F.sigmoid_cross_entropy(logits, ignored, normalize=False)),
        ours("sum") / len(targets),
        rtol=1e-12,
    )


def test_huber_none_equals_chainer_reduce_no_and_chainer_default_sums_axis_1(rng):
    prediction, target = rng.normal(size=(4, 3, 5)) * 2, rng.normal(size=(4, 3, 5))
    ours = _value(losses.huber_loss(prediction, target, delta=0.7, reduction="none"))
    np.testing.assert_allclose(
        _value(F.huber_loss(prediction, target, 0.7, reduce="no")), ours, rtol=1e-12
    )
    np.testing.assert_allclose(
        _value(F.huber_loss(prediction, target, 0.7)), ours.sum(axis=1), rtol=1e-12
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gradients_equal_chainer_native_cross_entropy_gradients(segmentation, multilabel, dtype):
    logits, labels = segmentation
    class_weight = np.array([0.5, 2.0, 1.5], dtype=dtype)
    z, targets = multilabel
    pairs = [
        (
            lambda x: F.softmax_cross_entropy(x, labels, class_weight=class_weight),
            lambda x: losses.softmax_cross_entropy(x, labels, class_weight=class_weight),
            logits,
        ),
        (
            lambda x: F.sigmoid_cross_entropy(x, targets),
            lambda x: losses.sigmoid_cross_entropy(x, targets.astype(dtype)),
            z,
        ),
    ]
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    for native, ours, inputs in pairs:
        grads = []
        for loss in (native, ours):
            x = chainer.Variable(inputs.astype(dtype))
            loss(x).backward()
            grads.append(x.grad)
        np.testing.assert_allclose(grads[1], grads[0], rtol=rtol, atol=rtol * 1e-2)


# ----------------------------------------------------------------------------- our conventions


def test_returns_variables_with_the_same_value_for_arrays_and_variables(segmentation):
    logits, labels = segmentation
    from_array = losses.focal_loss(logits, labels, alpha=[0.2, 0.3, 0.5])
    from_variable = losses.focal_loss(chainer.Variable(logits), labels, alpha=[0.2, 0.3, 0.5])
    assert isinstance(from_array, chainer.Variable)
    assert isinstance(from_variable, chainer.Variable)
    assert from_array.shape == ()
    np.testing.assert_array_equal(_value(from_array), _value(from_variable))


def test_int32_and_int64_labels_give_the_same_loss(segmentation):
    logits, labels = segmentation
    results = [
        _value(losses.cost_sensitive_cross_entropy(logits, labels.astype(t), np.ones((3, 3)) * 2))
        for t in (np.int32, np.int64)
    ]
    np.testing.assert_array_equal(results[0], results[1])


def test_class_weight_as_list_array_dict_or_variable_gives_the_same_loss(segmentation):
    logits, labels = segmentation
    forms = [
        [1.0, 4.0, 1.0],
        np.array([1.0, 4.0, 1.0]),
        {1: 4.0},  # missing classes weigh 1
        chainer.Variable(np.array([1.0, 4.0, 1.0])),
    ]
    results = [
        _value(losses.softmax_cross_entropy(logits, labels, class_weight=w, reduction="none"))
        for w in forms
    ]
    for result in results[1:]:
        np.testing.assert_array_equal(result, results[0])


def test_sigmoid_class_and_pos_weight_apply_along_axis_1(rng):
    logits = rng.normal(size=(2, 3, 4))  # 3 labels on axis 1, 4 positions on the last axis
    targets = (rng.random((2, 3, 4)) < 0.5).astype(np.float64)
    class_weight, pos_weight = np.array([1.0, 2.0, 3.0]), np.array([4.0, 1.0, 0.5])
    ours = losses.sigmoid_cross_entropy(
        logits, targets, class_weight=class_weight, pos_weight=pos_weight, reduction="none"
    )
    expected = reference.sigmoid_cross_entropy(
        np.moveaxis(logits, 1, -1),
        np.moveaxis(targets, 1, -1),
        class_weight=class_weight,
        pos_weight=pos_weight,
        reduction="none",
    )
    np.testing.assert_allclose(_value(ours), np.moveaxis(expected, -1, 1), rtol=1e-12)


def test_focal_with_gamma_zero_and_alpha_equals_weighted_cross_entropy(segmentation):
    logits, labels = segmentation
    alpha = [0.2, 1.5, 0.7]
    for reduction in ("none", "sum", "mean", "weighted_mean"):
        focal = losses.focal_loss(logits, labels, alpha=alpha, gamma=0.0, reduction=reduction)
        ce = losses.softmax_cross_entropy(logits, labels, class_weight=alpha, reduction=reduction)
        np.testing.assert_allclose(_value(focal), _value(ce), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_focal_gradient_is_finite_at_saturation_with_gamma_below_one(dtype):
    logits = chainer.Variable(np.array([[1e4, -1e4, 0.0], [0.0, 1e4, -1e4]], dtype=dtype))
    targets = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]], dtype=dtype)
    for loss in (
        losses.focal_loss(logits, np.array([0, 1]), gamma=0.5),
        losses.sigmoid_focal_loss(logits, targets, gamma=0.5),
    ):
        logits.cleargrad()
        loss.backward()
        assert np.isfinite(_value(loss)) and np.all(np.isfinite(logits.grad)), logits.grad


def test_softplus_gradient_is_exact_and_silent_where_chainer_softplus_is_not():
    """``F.softplus``'s gradient 1 - 1/(1 + e^x) cancels to 0 at x = -40 and overflows (with a
    RuntimeWarning) at float32 x = 1e4; the sigmoid losses use exp(x - softplus(x)) instead."""
    x = chainer.Variable(np.array([-40.0, -30.0, 0.0]))
    losses.sigmoid_cross_entropy(x, np.zeros(3), reduction="sum").backward()
    np.testing.assert_allclose(x.grad, 1 / (1 + np.exp(-x.array)), rtol=1e-14)
    native = chainer.Variable(x.array.copy())
    F.sum(F.softplus(native)).backward()
    assert native.grad[0] == 0  # Chainer's own loses it
    big = chainer.Variable(np.array([1e4, -1e4], dtype=np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        losses.sigmoid_cross_entropy(big, np.array([0.0, 1.0], np.float32)).backward()
    np.testing.assert_array_equal(big.grad, [0.5, -0.5])


def test_sigmoid_cross_entropy_has_a_second_derivative(rng):
    x = chainer.Variable(rng.normal(size=(3, 2)))
    loss = losses.sigmoid_cross_entropy(x, np.zeros((3, 2)), reduction="sum")
    (gx,) = chainer.grad([loss], [x], enable_double_backprop=True)
    (ggx,) = chainer.grad([F.sum(gx)], [x])
    sigmoid = 1 / (1 + np.exp(-x.array))
    np.testing.assert_allclose(ggx.array, sigmoid * (1 - sigmoid), rtol=1e-12)


def test_validate_false_skips_value_checks_but_not_shape_checks(segmentation):
    logits, labels = segmentation
    out_of_range = labels.copy()
    out_of_range[0, 0] = 7
    with pytest.raises(ValueError, match=r"^labels: expected"):
        losses.softmax_cross_entropy(logits, out_of_range)
    assert np.isfinite(_value(losses.softmax_cross_entropy(logits, out_of_range, validate=False)))
    with pytest.raises(ValueError, match=r"^labels: expected"):
        losses.softmax_cross_entropy(logits, labels[:, :3], validate=False)


@pytest.mark.parametrize(
    ("call", "error", "argument"),
    [
        (lambda: losses.softmax_cross_entropy([[1.0, 2.0]], np.array([0])), TypeError, "logits"),
        (lambda: losses.focal_loss(np.zeros(3), np.array([0, 1, 2])), ValueError, "logits"),
        (
            lambda: losses.softmax_cross_entropy(np.zeros((2, 3)), np.array([True, False])),
            TypeError,
            "labels",
        ),
        (
            lambda: losses.sigmoid_cross_entropy(
                np.zeros((2, 3)), np.zeros((2, 3)), pos_weight="x"
            ),
            TypeError,
            "pos_weight",
        ),
        (
            lambda: losses.sigmoid_cross_entropy(
                np.zeros((2, 3, 4)), np.zeros((2, 3, 4)), pos_weight=[1.0] * 4
            ),
            ValueError,
            "pos_weight",
        ),
    ],
    ids=[
        "logits-list",
        "logits-without-class-axis",
        "labels-bool",
        "pos-weight-text",
        "pos-weight-sized-for-the-last-axis",
    ],
)
def test_chainer_specific_mistakes_name_the_argument(call, error, argument):
    with pytest.raises(error, match=f"^{argument}: expected .*, got "):
        call()


@pytest.mark.gpu
def test_cupy_arrays_give_the_numpy_loss_and_gradient(segmentation):
    if not chainer.backends.cuda.available:
        pytest.skip("CuPy with a CUDA device is not available to Chainer here")
    cupy = chainer.backends.cuda.cupy
    logits, labels = segmentation
    results = []
    for xp in (np, cupy):
        x = chainer.Variable(xp.asarray(logits))
        loss = losses.focal_loss(x, xp.asarray(labels), alpha=[0.2, 0.3, 0.5], gamma=1.5)
        loss.backward()
        results.append(
            (chainer.backends.cuda.to_cpu(loss.array), chainer.backends.cuda.to_cpu(x.grad))
        )
    for cpu, gpu in zip(*results, strict=True):
        np.testing.assert_allclose(gpu, cpu, rtol=1e-10)


# ----------------------------------------------------------------------------- issue 8 pins


@pytest.mark.parametrize("ignore_label", [-1, 255])
def test_ignore_index_mean_equals_chainer_ignore_label_which_divides_by_the_kept_count(
    segmentation, ignore_label
):
    """F.softmax_cross_entropy(ignore_label=, normalize=True) divides by the elements kept."""
    logits, labels = segmentation
    class_weight = np.array([0.5, 2.0, 1.5])
    ignored = labels.copy()
    ignored[1, 1:4] = ignore_label
    native = F.softmax_cross_entropy(
        logits, ignored, class_weight=class_weight, ignore_label=ignore_label
    )
    ours = losses.softmax_cross_entropy(
        logits, ignored, class_weight=class_weight, ignore_index=ignore_label
    )
    np.testing.assert_allclose(_value(ours), _value(native), rtol=1e-12)
    kept = (ignored != ignore_label).sum()
    total = losses.softmax_cross_entropy(
        logits, ignored, class_weight=class_weight, ignore_index=ignore_label, reduction="sum"
    )
    np.testing.assert_allclose(_value(native), _value(total) / kept, rtol=1e-12)


@pytest.mark.parametrize(
    "name", ["softmax_cross_entropy", "focal_loss", "sigmoid_cross_entropy", "huber_loss"]
)
def test_float16_mean_over_a_4x128x128_mask_is_finite_and_float16(rng, name):
    logits = chainer.Variable(rng.normal(size=(4, 3, 128, 128)).astype(np.float16))
    if name == "huber_loss":
        loss = losses.huber_loss(logits, np.zeros(logits.shape, np.float16))
    elif name == "sigmoid_cross_entropy":
        loss = losses.sigmoid_cross_entropy(logits, np.zeros(logits.shape, np.float16))
    else:
        labels = rng.integers(0, 3, size=(4, 128, 128)).astype(np.uint8)
        loss = getattr(losses, name)(logits, labels)
    loss.backward()
    assert loss.dtype == np.float16 and logits.grad.dtype == np.float16
    assert np.isfinite(float(loss.array)) and float(loss.array) > 0
    assert np.all(np.isfinite(logits.grad)) and np.any(logits.grad != 0)


def test_float16_focal_gradient_is_finite_at_logits_of_60000():
    logits = chainer.Variable(np.array([[6e4, -6e4], [-6e4, 6e4]], np.float16))
    losses.focal_loss(logits, np.array([0, 0])).backward()
    np.testing.assert_array_equal(logits.grad, [[0.0, 0.0], [-0.5, 0.5]])


@pytest.mark.parametrize("validate", [True, False])
def test_zero_classes_blame_logits_whatever_validate_says(validate):
    with pytest.raises(ValueError, match=r"^logits: expected"):
        losses.softmax_cross_entropy(np.zeros((3, 0)), np.zeros(3, np.int64), validate=validate)
