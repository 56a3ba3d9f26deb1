"""companion.tensorflow: native TF/Keras equivalents, tf.function and XLA, Keras 3 losses and fit.

The values and gradients of every loss against the reference, and the bad inputs, are checked by
``tests/test_conformance.py`` through ``tests/adapter_tensorflow.py``. The behaviour of Keras 3
and tf-keras pinned here was measured with the versions of the lock (keras 3.15.1, tf-keras 2.21).
"""

import functools
import importlib
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest
from cases import LOSSES, make_case, skip_unsupported_reduction

import companion.tensorflow as ctf
from companion import reference

tf = ctf.tf
keras = ctf.keras
ROOT = Path(__file__).resolve().parents[1]


def f64(x):
    return np.asarray(x, dtype=np.float64)


def tensors(args, dtype=tf.float64):
    return [tf.constant(a, dtype=dtype if a.dtype.kind == "f" else tf.int64) for a in args]


# ----------------------------------------------------------------------------- import


def test_import_writes_nothing_to_stderr_and_leaves_stderr_working():
    code = (
        "import os, sys\n"
        "import companion.tensorflow\n"
        "print(os.environ['TF_CPP_MIN_LOG_LEVEL'])\n"
        "sys.stderr.write('python after; '); sys.stderr.flush()\n"
        "os.write(2, b'fd 2 after')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert done.stderr == "python after; fd 2 after"
    assert done.stdout == "3\n"


def test_import_keeps_a_log_level_the_user_set():
    code = "import os, companion.tensorflow; print(os.environ['TF_CPP_MIN_LOG_LEVEL'])"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout == "2\n"


# ----------------------------------------------------------------------------- native equivalents


@pytest.mark.parametrize("shape", [(6, 4), (2, 3, 4)])
def test_sigmoid_cross_entropy_with_pos_weight_equals_weighted_cross_entropy_with_logits(
    rng, shape
):
    logits = tf.constant(rng.normal(size=shape) * 3)
    targets = tf.constant((rng.random(shape) < 0.3).astype(float))
    pos_weight = tf.constant(rng.uniform(1.0, 5.0, size=shape[-1]))
    expected = tf.nn.weighted_cross_entropy_with_logits(targets, logits, pos_weight)
    ours = ctf.sigmoid_cross_entropy(logits, targets, pos_weight=pos_weight, reduction="none")
    np.testing.assert_allclose(ours, expected, rtol=1e-12)


@pytest.mark.parametrize("alpha", [[0.2, 1.5, 0.7], 0.25], ids=["list", "scalar"])
def test_focal_loss_equals_keras_categorical_focal_crossentropy_on_probabilities(rng, alpha):
    # Moderate logits keep Keras' clipping of the probabilities to [1e-7, 1 - 1e-7] inactive.
    logits = rng.normal(size=(10, 3)).astype(np.float32)
    labels = rng.integers(0, 3, size=10)
    keras_loss = keras.losses.CategoricalFocalCrossentropy(
        alpha=alpha, gamma=1.5, from_logits=False, reduction=None
    )
    expected = keras_loss(np.eye(3)[labels], tf.nn.softmax(logits))
    ours = ctf.focal_loss(logits, labels, alpha=alpha, gamma=1.5, reduction="none")
    np.testing.assert_allclose(ours, expected, rtol=1e-5)


def test_keras_categorical_focal_crossentropy_looks_a_list_alpha_up_by_the_true_class(rng):
    # Keras multiplies alpha into the class axis before summing it against one-hot labels, so a
    # list alpha weighs each sample by the entry of its true class.
    alpha = np.array([0.2, 1.5, 0.7])
    probabilities = tf.nn.softmax(rng.normal(size=(10, 3)))
    labels = rng.integers(0, 3, size=10)

    def keras_focal(alpha):
        loss = keras.losses.CategoricalFocalCrossentropy(alpha=alpha, reduction=None)
        return f64(loss(np.eye(3)[labels], probabilities))

    np.testing.assert_allclose(
        keras_focal(alpha.tolist()), alpha[labels] * keras_focal(1.0), rtol=1e-6
    )


def test_sigmoid_focal_loss_equals_keras_binary_focal_crossentropy_with_class_balancing(rng):
    logits = rng.normal(size=(8, 5)).astype(np.float32)
    targets = (rng.random((8, 5)) < 0.3).astype(np.float32)
    keras_loss = keras.losses.BinaryFocalCrossentropy(
        apply_class_balancing=True, alpha=0.3, gamma=2.5, from_logits=True, reduction=None
    )
    ours = ctf.sigmoid_focal_loss(logits, targets, alpha=0.3, gamma=2.5, reduction="none")
    # Keras averages over the last axis.
    np.testing.assert_allclose(
        np.mean(ours, axis=-1), keras_loss(targets, logits), rtol=1e-5, atol=1e-7
    )


@pytest.mark.parametrize("delta", [0.5, 1.0, 2.0])
def test_huber_loss_equals_keras_huber_which_averages_over_the_last_axis(rng, delta):
    prediction = rng.normal(size=(6, 4)) * 2
    target = rng.normal(size=(6, 4))
    ours = ctf.huber_loss(prediction, target, delta=delta, reduction="none")
    per_row = keras.losses.Huber(delta=delta, reduction=None, dtype="float64")(target, prediction)
    np.testing.assert_allclose(np.mean(ours, axis=-1), per_row, rtol=1e-12)
    np.testing.assert_allclose(
        ctf.huber_loss(prediction, target, delta=delta),
        keras.losses.Huber(delta=delta, dtype="float64")(target, prediction),
        rtol=1e-12,
    )


@pytest.mark.parametrize("shape", [(9,), (4, 5)], ids=["per-sample", "sequence"])
def test_softmax_cross_entropy_mean_equals_keras_sparse_categorical_crossentropy(rng, shape):
    logits = rng.normal(size=(*shape, 3)) * 2
    labels = rng.integers(0, 3, size=shape)
    sample_weight = rng.uniform(0.0, 2.0, size=shape)
    keras_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, dtype="float64")
    ours = ctf.softmax_cross_entropy(logits, labels, sample_weight=sample_weight, reduction="mean")
    expected = keras_loss(labels, logits, sample_weight=sample_weight)
    np.testing.assert_allclose(ours, expected, rtol=1e-12)


# ----------------------------------------------------------------------------- tf.function, XLA


def _case(name, rng):
    args, kwargs = make_case(name, rng, (2, 3, 5))
    return tensors(args), kwargs


def _unknown_batch_signature(args):
    return [tf.TensorSpec([None, *a.shape[1:]], a.dtype) for a in args[:2]] + [
        tf.TensorSpec(a.shape, a.dtype) for a in args[2:]
    ]


@pytest.mark.parametrize("reduction", ["none", "weighted_mean"])
@pytest.mark.parametrize("name", LOSSES)
def test_every_loss_gives_the_same_value_and_gradient_inside_tf_function(rng, name, reduction):
    skip_unsupported_reduction(name, reduction)
    args, kwargs = _case(name, rng)
    loss_fn = getattr(ctf, name)

    def value_and_gradient(*args):
        with tf.GradientTape() as tape:
            tape.watch(args[0])
            loss = loss_fn(*args, **kwargs, reduction=reduction)
            total = tf.reduce_sum(loss)
        return loss, tape.gradient(total, args[0])

    traced = tf.function(value_and_gradient, input_signature=_unknown_batch_signature(args))
    for eager, graph in zip(value_and_gradient(*args), traced(*args), strict=True):
        np.testing.assert_allclose(graph, eager, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", LOSSES)
def test_every_loss_compiles_with_xla_to_the_same_value(rng, name):
    args, kwargs = _case(name, rng)
    loss_fn = getattr(ctf, name)
    compiled = tf.function(lambda *a: loss_fn(*a, **kwargs), jit_compile=True)
    np.testing.assert_allclose(compiled(*args), loss_fn(*args, **kwargs), rtol=1e-12)


def test_a_shape_mistake_raises_when_the_function_is_traced():
    traced = tf.function(ctf.softmax_cross_entropy)
    with pytest.raises(ValueError, match=r"^labels: expected shape \(6,\)"):
        traced(tf.zeros((6, 3)), tf.zeros(5, tf.int64))


def test_a_hyperparameter_mistake_raises_when_the_function_is_traced():
    traced = tf.function(functools.partial(ctf.focal_loss, gamma=-1.0))
    with pytest.raises(ValueError, match=r"^gamma: expected"):
        traced(tf.zeros((6, 3)), tf.zeros(6, tf.int64))


def test_unknown_dimensions_are_taken_to_match_when_traced(rng):
    logits, labels = rng.normal(size=(4, 5, 3)), rng.integers(0, 3, size=(4, 5))
    traced = tf.function(
        lambda z, y, w: ctf.softmax_cross_entropy(z, y, sample_weight=w),
        input_signature=[
            tf.TensorSpec([None, None, 3], tf.float64),
            tf.TensorSpec([None, None], tf.int64),
            tf.TensorSpec([None], tf.float64),
        ],
    )
    weight = rng.uniform(size=4)
    np.testing.assert_allclose(
        traced(logits, labels, weight),
        reference.softmax_cross_entropy(logits, labels, sample_weight=weight),
        rtol=1e-12,
    )


def test_missing_class_count_is_a_trace_time_error():
    traced = tf.function(
        ctf.softmax_cross_entropy,
        input_signature=[tf.TensorSpec([4, None], tf.float32), tf.TensorSpec([4], tf.int64)],
    )
    with pytest.raises(ValueError, match=r"^logits: expected a known number of classes"):
        traced.get_concrete_function()


GRAPH_VALUE_MISTAKES = [
    (
        "softmax_cross_entropy",
        (np.zeros((4, 3)), np.array([0, 1, 2, 3])),
        {},
        r"labels: expected class indices in \[0, 3\), got values from\] \[0\] \[to\] \[3\]",
    ),
    (
        "softmax_cross_entropy",
        (np.zeros((4, 3)), np.array([0, 1, 2, 0])),
        {"class_weight": [1.0, -1.0, 1.0]},
        "class_weight: expected finite, non-negative weights",
    ),
    (
        "sigmoid_cross_entropy",
        (np.zeros((4, 3)), np.full((4, 3), 2.0)),
        {},
        r"targets: expected values in \[0, 1\]",
    ),
    (
        "softmax_cross_entropy",
        (np.zeros((4, 3)), np.array([0, 1, 2, 0])),
        {"sample_weight": np.zeros(4), "reduction": "weighted_mean"},
        r"class_weight \* sample_weight: expected a positive sum",
    ),
    (
        "cost_sensitive_cross_entropy",
        (np.zeros((4, 3)), np.array([0, 1, 2, 0]), -np.ones((3, 3))),
        {},
        "cost_matrix: expected finite, non-negative weights",
    ),
]


@pytest.mark.parametrize(
    ("name", "args", "kwargs", "message"),
    GRAPH_VALUE_MISTAKES,
    ids=["labels", "class-weight", "targets", "weighted-mean-zero-sum", "cost-matrix"],
)
def test_value_checks_in_a_graph_raise_invalid_argument_with_the_message(
    name, args, kwargs, message
):
    loss_fn = getattr(ctf, name)
    traced = tf.function(lambda *a: loss_fn(*a, **kwargs))
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        traced(*tensors(args))
    with pytest.raises(ValueError, match="^" + message.split(",")[0]):
        loss_fn(*tensors(args), **kwargs)


@pytest.mark.parametrize("jit_compile", [False, True], ids=["validate-false", "xla"])
def test_value_checks_are_skipped_with_validate_false_and_under_xla(jit_compile):
    validate = jit_compile  # XLA drops the assertions that validate=True adds
    logits, labels = tf.zeros((4, 3)), tf.constant([0, 1, 2, 3])
    traced = tf.function(
        lambda z, y: ctf.softmax_cross_entropy(z, y, reduction="sum", validate=validate),
        jit_compile=jit_compile,
    )
    # Label 3 of three classes picks nothing: its loss is 0, the others log 3.
    np.testing.assert_allclose(traced(logits, labels), 3 * np.log(3.0), rtol=1e-6)


def test_all_zero_weights_give_zero_with_validate_false_in_a_graph():
    traced = tf.function(
        lambda z, y: ctf.softmax_cross_entropy(
            z, y, sample_weight=tf.zeros(4), reduction="weighted_mean", validate=False
        )
    )
    assert float(traced(tf.zeros((4, 3)), tf.constant([0, 1, 2, 0]))) == 0.0


# ----------------------------------------------------------------------------- weight arguments


def test_weights_may_be_tensors_arrays_lists_or_dicts(rng):
    logits, labels = rng.normal(size=(8, 3)), rng.integers(0, 3, size=8)
    table = np.array([1.0, 2.5, 1.0])
    expected = reference.softmax_cross_entropy(logits, labels, class_weight=table)
    for given in (
        tf.constant(table, tf.float32),
        tf.Variable(table),
        table.tolist(),
        [1.0, tf.constant(2.5), 1.0],
        {1: 2.5},
        {1: tf.constant(2.5)},
    ):
        np.testing.assert_allclose(
            ctf.softmax_cross_entropy(logits, labels, class_weight=given), expected, rtol=1e-12
        )


def test_float32_logits_take_float64_weights_in_their_own_dtype(rng):
    logits = tf.constant(rng.normal(size=(8, 3)), tf.float32)
    labels = rng.integers(0, 3, size=8)
    loss = ctf.focal_loss(logits, labels, alpha=tf.constant([0.5, 1.0, 2.0], tf.float64))
    assert loss.dtype == tf.float32


# ----------------------------------------------------------------------------- Keras 3 fit

# The Keras classes and fit_sample_weight are those of companion.keras: tests/test_keras.py
# checks them on every backend.


def _classifier(labels_shape, n_classes=3):
    """A Dense layer that gives logits for every element of labels of shape ``labels_shape``."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((*labels_shape[1:], 2))
    model = keras.Model(inputs, keras.layers.Dense(n_classes)(inputs))
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


# ----------------------------------------------------------------------------- Keras 3 vs tf-keras


def test_keras3_fit_refuses_class_weight_together_with_sample_weight(rng):
    x, labels = rng.normal(size=(8, 2)).astype(np.float32), rng.integers(0, 3, size=8)
    model = _classifier((8,))
    with pytest.raises(
        ValueError, match="You cannot `class_weight` and `sample_weight` at the same time"
    ):
        model.fit(x, labels, class_weight={0: 1.0, 1: 2.0}, sample_weight=np.ones(8), verbose=0)


def test_keras3_class_weight_fails_for_sequence_labels(rng):
    # Keras 3 takes the argmax over the last axis of [N, T] labels as if they were one-hot, makes
    # one weight per sample, and the loss of shape [N, T] then fails to multiply it (in the
    # forward or the backward pass, whichever the runtime schedules first).
    x, labels = rng.normal(size=(8, 5, 2)).astype(np.float32), rng.integers(0, 3, size=(8, 5))
    model = _classifier((8, 5))
    with pytest.raises(
        tf.errors.InvalidArgumentError, match=r"Incompatible shapes: \[(8|8,5)\] vs. \[(8,5|8)\]"
    ):
        model.fit(x, labels, class_weight={0: 1.0, 1: 2.0, 2: 3.0}, verbose=0, shuffle=False)


def test_keras3_class_weight_fails_for_segmentation_masks(rng):
    x, labels = rng.normal(size=(4, 3, 3, 2)).astype(np.float32), rng.integers(0, 3, (4, 3, 3))
    model = _classifier((4, 3, 3))
    with pytest.raises(TypeError, match="only length-1 arrays can be converted to Python scalars"):
        model.fit(x, labels, class_weight={0: 1.0, 1: 2.0, 2: 3.0}, verbose=0)


def _train_linear(library, x, labels, **fit_kwargs):
    """A linear softmax classifier from fixed initial weights, 3 epochs of plain SGD."""
    rng = np.random.default_rng(5)
    model = library.Sequential([library.Input((x.shape[1],)), library.layers.Dense(3)])
    model.layers[-1].set_weights(
        [rng.normal(size=(x.shape[1], 3)).astype(np.float32), np.zeros(3, np.float32)]
    )
    model.compile(
        library.optimizers.SGD(0.1),
        library.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(x, labels, batch_size=4, epochs=3, shuffle=False, verbose=0, **fit_kwargs)
    return model.get_weights()


@pytest.fixture(scope="module")
def tf_keras():
    return importlib.import_module("tf_keras")  # Keras 2, imported only by the tests that use it


def _linear_data(rng):
    x = rng.normal(size=(16, 3)).astype(np.float32)
    labels = rng.integers(0, 3, size=16)
    return x, labels, {0: 1.0, 1: 4.0, 2: 0.5}, rng.uniform(0.5, 2.0, size=16)


def test_tf_keras_fit_multiplies_class_weight_and_sample_weight(rng, tf_keras):
    x, labels, table, per_sample = _linear_data(rng)
    both = _train_linear(tf_keras, x, labels, class_weight=table, sample_weight=per_sample)
    product = np.array([table[c] for c in labels]) * per_sample
    multiplied = _train_linear(tf_keras, x, labels, sample_weight=product)
    sample_only = _train_linear(tf_keras, x, labels, sample_weight=per_sample)
    for a, b in zip(both, multiplied, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert not np.allclose(both[0], sample_only[0], atol=1e-3)  # class_weight was not ignored


def test_keras3_with_fit_sample_weight_trains_like_tf_keras_with_both_weights(rng, tf_keras):
    x, labels, table, per_sample = _linear_data(rng)
    tf_keras_weights = _train_linear(
        tf_keras, x, labels, class_weight=table, sample_weight=per_sample
    )
    keras3_weights = _train_linear(
        keras,
        x,
        labels,
        sample_weight=ctf.fit_sample_weight(labels, class_weight=table, sample_weight=per_sample),
    )
    for a, b in zip(keras3_weights, tf_keras_weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert not np.allclose(keras3_weights[0], _train_linear(keras, x, labels)[0], atol=1e-3)


# ----------------------------------------------------------------------------- issue 8 pins


@pytest.mark.parametrize("dtype", [tf.float16, tf.bfloat16], ids=["float16", "bfloat16"])
@pytest.mark.parametrize("name", ["softmax_cross_entropy", "focal_loss", "huber_loss"])
def test_half_precision_mean_over_a_4x128x128_mask_is_finite_and_in_the_input_dtype(name, dtype):
    rng = np.random.default_rng(0)
    z = tf.constant(rng.normal(size=(4, 128, 128, 3)), dtype)
    with tf.GradientTape() as tape:
        tape.watch(z)
        if name == "huber_loss":
            loss = ctf.huber_loss(z[..., 0], tf.zeros_like(z[..., 0]))
        else:
            labels = tf.constant(rng.integers(0, 3, size=(4, 128, 128)), tf.uint8)
            loss = getattr(ctf, name)(z, labels)
    gradient = tape.gradient(loss, z)
    assert loss.dtype == dtype and gradient.dtype == dtype
    assert np.isfinite(float(loss)) and float(loss) > 0
    assert np.all(np.isfinite(f64(gradient))) and np.any(f64(gradient) != 0)


def test_float16_focal_gradient_is_finite_at_logits_of_60000():
    z = tf.constant([[6e4, -6e4], [-6e4, 6e4]], tf.float16)
    with tf.GradientTape() as tape:
        tape.watch(z)
        loss = ctf.focal_loss(z, tf.constant([0, 0]))
    np.testing.assert_array_equal(f64(tape.gradient(loss, z)), [[0.0, 0.0], [-0.5, 0.5]])


@pytest.mark.parametrize("dtype", [tf.uint8, tf.int8, tf.int16, tf.int32])
def test_mask_dtypes_are_accepted_as_labels(dtype):
    z, y = np.random.default_rng(1).normal(size=(2, 3, 4)), np.array([[0, 1, 3], [2, 2, 1]])
    expected = float(reference.softmax_cross_entropy(z, y))
    assert float(ctf.softmax_cross_entropy(tf.constant(z), tf.constant(y, dtype))) == (
        pytest.approx(expected, rel=1e-12)
    )


def test_uint8_mask_with_void_label_255_is_ignored():
    z, y = np.random.default_rng(2).normal(size=(2, 3, 4)), np.array([[0, 255, 3], [2, 255, 1]])
    loss = ctf.softmax_cross_entropy(tf.constant(z), tf.constant(y, tf.uint8), ignore_index=255)
    expected = reference.softmax_cross_entropy(z, y, ignore_index=255)
    assert float(loss) == pytest.approx(float(expected), rel=1e-12)


@pytest.mark.parametrize("validate", [True, False])
def test_zero_classes_and_0d_logits_blame_logits_whatever_validate_says(validate):
    for z, y in [(np.zeros((3, 0)), np.zeros(3, np.int64)), (np.float64(0.5), np.int64(0))]:
        with pytest.raises(ValueError, match=r"^logits: expected"):
            ctf.softmax_cross_entropy(z, y, validate=validate)


@pytest.mark.parametrize("eps", [0.1, 0.3, 1.0])
def test_label_smoothing_equals_keras_categorical_and_binary_crossentropy(rng, eps):
    z = rng.normal(size=(6, 4))
    y = rng.integers(0, 4, size=6)
    native = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=eps)
    ours = ctf.softmax_cross_entropy(z, y, label_smoothing=eps)
    assert float(native(np.eye(4)[y], z)) == pytest.approx(float(ours), rel=1e-6)
    t = (rng.random(size=(6, 4)) < 0.4).astype(np.float64)
    native = keras.losses.BinaryCrossentropy(from_logits=True, label_smoothing=eps)
    ours = ctf.sigmoid_cross_entropy(z, t, label_smoothing=eps)
    assert float(native(t, z)) == pytest.approx(float(ours), rel=1e-6)
    keras_class = ctf.SigmoidCrossEntropy(label_smoothing=eps)
    assert float(keras_class(t, z)) == pytest.approx(float(native(t, z)), rel=1e-6)
