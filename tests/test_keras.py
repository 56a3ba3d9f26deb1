"""companion.keras: the Loss classes in compile and fit, saving, jit_compile, fit_sample_weight.

These tests use Keras and NumPy only, so they run on whichever backend Keras was imported with:
the test process uses TensorFlow, and ``tests/test_keras_backends.py`` runs this file again in
a subprocess per backend (``KERAS_BACKEND=jax``, ``KERAS_BACKEND=torch``). Values and gradients
of the functions against the reference are ``tests/test_conformance.py``'s (adapter
``tests/adapter_keras.py``).
"""

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest

import companion.keras as ck
from companion import reference

keras = ck.keras
ops = keras.ops
BACKEND = keras.backend.backend()


def f64(x):
    return np.asarray(ops.convert_to_numpy(x) if ops.is_tensor(x) else x, dtype=np.float64)


def _keras_case(name, rng, n=16):
    """(loss arguments, output units, output activation, y, x) for a tiny Dense model."""
    x = rng.normal(size=(n, 4)).astype(np.float32)
    labels = rng.integers(0, 3, size=n)
    binary = (rng.random((n, 2)) < 0.4).astype(np.float32)
    return {
        "SoftmaxCrossEntropy": ({"class_weight": {1: 3.0}}, 3, None, labels),
        "LogitAdjustedCrossEntropy": ({"class_prior": [0.6, 0.3, 0.1]}, 3, None, labels),
        "SigmoidCrossEntropy": ({"class_weight": [1.0, 2.0], "pos_weight": 3.0}, 2, None, binary),
        "FocalLoss": ({"alpha": [0.5, 1.0, 2.0], "gamma": 1.5}, 3, None, labels),
        "SigmoidFocalLoss": ({"alpha": 0.3, "gamma": 2.0}, 2, None, binary),
        "HuberLoss": ({"delta": 0.5}, 1, None, rng.normal(size=n).astype(np.float32)),
        "DiceLoss": ({"smooth": 0.5}, 2, "sigmoid", binary),
        "CostSensitiveCrossEntropy": (
            {"cost_matrix": [[0.0, 1.0, 2.0], [5.0, 0.0, 1.0], [1.0, 1.0, 0.0]]},
            3,
            None,
            labels,
        ),
    }[name] + (x,)


FUNCTIONS = {
    "SoftmaxCrossEntropy": reference.softmax_cross_entropy,
    "LogitAdjustedCrossEntropy": reference.logit_adjusted_cross_entropy,
    "SigmoidCrossEntropy": reference.sigmoid_cross_entropy,
    "FocalLoss": reference.focal_loss,
    "SigmoidFocalLoss": reference.sigmoid_focal_loss,
    "HuberLoss": reference.huber_loss,
    "DiceLoss": reference.dice_loss,
    "CostSensitiveCrossEntropy": reference.cost_sensitive_cross_entropy,
}
MEAN_OVER_LAST_AXIS = ("SigmoidCrossEntropy", "SigmoidFocalLoss", "HuberLoss")


def _reference_value(name, kwargs, y_pred, y_true, sample_weight=None):
    """The class's value from the float64 reference: Keras' sum_over_batch_size of w * loss."""
    kwargs = dict(kwargs)
    extra = (np.asarray(kwargs.pop("cost_matrix")),) if "cost_matrix" in kwargs else ()
    if "class_weight" in kwargs and isinstance(kwargs["class_weight"], dict):
        table = np.ones(np.shape(y_pred)[-1])
        for key, value in kwargs["class_weight"].items():
            table[key] = value
        kwargs["class_weight"] = table
    kwargs = {k: np.asarray(v) if isinstance(v, list) else v for k, v in kwargs.items()}
    y_pred = f64(y_pred)
    y_true = np.asarray(y_true)
    if name == "HuberLoss":
        y_true = y_true.reshape(y_pred.shape)
    if y_true.dtype.kind == "f" and name not in ("HuberLoss", "DiceLoss") and "Sigmoid" not in name:
        y_true = y_true.astype(np.int64)
    per_element = f64(FUNCTIONS[name](y_pred, y_true, *extra, **kwargs, reduction="none"))
    if name in MEAN_OVER_LAST_AXIS:
        per_element = per_element.mean(axis=-1)
    if sample_weight is not None:
        per_element = per_element * sample_weight.reshape(
            sample_weight.shape + (1,) * (per_element.ndim - sample_weight.ndim)
        )
    return per_element.mean()


@pytest.mark.parametrize("name", FUNCTIONS)
def test_loss_class_is_the_reference_reduced_by_keras_with_sample_weight(rng, name):
    kwargs, units, activation, y, _ = _keras_case(name, rng)
    y_pred = rng.normal(size=(len(y), units)).astype(np.float32)
    if activation == "sigmoid":
        y_pred = 1 / (1 + np.exp(-y_pred))
    sample_weight = rng.uniform(0.0, 2.0, size=len(y))
    loss = getattr(ck, name)(**kwargs)
    np.testing.assert_allclose(
        f64(loss(y, y_pred, sample_weight=sample_weight)),
        _reference_value(name, kwargs, y_pred, y, sample_weight),
        rtol=1e-5,
    )


@pytest.mark.parametrize("name", FUNCTIONS)
def test_loss_class_round_trips_through_get_config_and_json(rng, name):
    kwargs, *_ = _keras_case(name, rng)
    loss = getattr(ck, name)(**kwargs, reduction="sum", name="weighted")
    text = json.dumps(keras.saving.serialize_keras_object(loss))
    restored = keras.saving.deserialize_keras_object(json.loads(text))
    assert type(restored) is type(loss)
    assert restored.get_config() == loss.get_config()
    assert restored.get_config()["reduction"] == "sum"
    for key, value in kwargs.items():
        assert restored.get_config()[key] == value


def test_from_config_turns_json_string_keys_back_into_classes():
    restored = ck.SoftmaxCrossEntropy.from_config(
        {"class_weight": {"1": 3.0}, "name": "ce", "reduction": "sum_over_batch_size"}
    )
    assert restored.class_weight == {1: 3.0}


def _fit(name, rng, *, jit_compile):
    kwargs, units, activation, y, x = _keras_case(name, rng)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units, activation=activation)])
    model.compile(
        keras.optimizers.SGD(0.1), loss=getattr(ck, name)(**kwargs), jit_compile=jit_compile
    )
    history = model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    return model, kwargs, x, y, history.history["loss"]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_loss_class_trains_a_tiny_model_with_compile_and_fit(rng, name):
    model, kwargs, x, y, losses = _fit(name, rng, jit_compile=False)
    assert len(losses) == 2 and np.all(np.isfinite(losses))
    np.testing.assert_allclose(
        model.evaluate(x, y, verbose=0),
        _reference_value(name, kwargs, model.predict(x, verbose=0), y),
        rtol=1e-5,
    )


@pytest.mark.parametrize("name", ["FocalLoss", "SigmoidFocalLoss", "CostSensitiveCrossEntropy"])
def test_loss_class_trains_under_jit_compile_as_it_does_without(name):
    if BACKEND == "torch":
        pytest.skip("jit_compile on Keras' torch backend is TorchDynamo, not XLA: not tested here")
    _, _, _, _, plain = _fit(name, np.random.default_rng(1), jit_compile=False)
    _, _, _, _, compiled = _fit(name, np.random.default_rng(1), jit_compile=True)
    np.testing.assert_allclose(compiled, plain, rtol=1e-5)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_a_model_with_a_companion_loss_saves_and_loads_without_custom_objects(rng, tmp_path, name):
    model, kwargs, x, y, _ = _fit(name, rng, jit_compile=False)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert type(loaded.loss) is getattr(ck, name)
    for key, value in kwargs.items():
        assert getattr(loaded.loss, key) == value
    np.testing.assert_allclose(
        loaded.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0), rtol=1e-6
    )


def test_loss_class_takes_sparse_labels_with_a_trailing_axis_of_one(rng):
    logits = rng.normal(size=(6, 3)).astype(np.float32)
    labels = rng.integers(0, 3, size=6)
    loss = ck.SoftmaxCrossEntropy()
    np.testing.assert_allclose(
        f64(loss(labels[:, None], logits)), f64(loss(labels, logits)), rtol=1e-7
    )


def test_keras_sparse_categorical_ignore_class_divides_by_the_kept_count(rng):
    """Keras 3 masks the ignored elements and its sum_over_batch_size divides by the rest."""
    z = rng.normal(size=(2, 5, 3)).astype(np.float32)
    y = rng.integers(0, 3, size=(2, 5))
    y[0, :3] = 255
    native = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=255)
    kept = float(reference.softmax_cross_entropy(f64(z), y, ignore_index=255, reduction="sum")) / 7
    assert float(f64(ck.softmax_cross_entropy(z, y, ignore_index=255))) == pytest.approx(
        kept, rel=1e-6
    )
    loss = ck.SoftmaxCrossEntropy(ignore_index=255)
    assert float(f64(loss(y, z))) == pytest.approx(float(f64(native(y, z))), rel=1e-6)


@pytest.mark.parametrize("eps", [0.1, 1.0])
def test_label_smoothing_equals_keras_categorical_and_binary_crossentropy(rng, eps):
    z = rng.normal(size=(6, 4)).astype(np.float32)
    y = rng.integers(0, 4, size=6)
    native = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=eps)
    ours = ck.softmax_cross_entropy(z, y, label_smoothing=eps)
    assert float(f64(native(np.eye(4, dtype=np.float32)[y], z))) == pytest.approx(
        float(f64(ours)), rel=1e-5
    )
    t = (rng.random(size=(6, 4)) < 0.4).astype(np.float32)
    native = keras.losses.BinaryCrossentropy(from_logits=True, label_smoothing=eps)
    keras_class = ck.SigmoidCrossEntropy(label_smoothing=eps)
    assert float(f64(keras_class(t, z))) == pytest.approx(float(f64(native(t, z))), rel=1e-5)


# ----------------------------------------------------------------------------- fit_sample_weight


@pytest.mark.parametrize("shape", [(12,), (4, 6), (3, 4, 5)], ids=["rank1", "rank2", "rank3"])
def test_fit_sample_weight_weighs_every_element_of_sparse_labels(rng, shape):
    labels = rng.integers(0, 3, size=shape)
    table = np.array([1.0, 4.0, 0.5])
    per_sample = rng.uniform(0.0, 2.0, size=shape[0])
    weight = ck.fit_sample_weight(labels, class_weight=table, sample_weight=per_sample)
    assert weight.shape == shape
    expected = table[labels] * per_sample.reshape((-1,) + (1,) * (len(shape) - 1))
    np.testing.assert_allclose(weight, expected, rtol=1e-15)


@pytest.mark.parametrize("shape", [(12,), (4, 6), (3, 4, 5)], ids=["rank1", "rank2", "rank3"])
def test_fit_sample_weight_of_one_hot_labels_equals_that_of_their_class_indices(rng, shape):
    labels = rng.integers(0, 3, size=shape)
    one_hot = np.eye(3, dtype=np.float32)[labels]
    sample_weight = rng.uniform(0.0, 2.0, size=shape)
    np.testing.assert_array_equal(
        ck.fit_sample_weight(one_hot, class_weight={1: 4.0}, sample_weight=sample_weight),
        ck.fit_sample_weight(labels, class_weight={1: 4.0}, sample_weight=sample_weight),
    )


def test_fit_sample_weight_takes_tensors_of_the_backend(rng):
    labels = rng.integers(0, 3, size=(4, 5)).astype(np.int32)
    table = np.array([1.0, 4.0, 0.5], np.float32)
    per_sample = rng.uniform(size=4).astype(np.float32)
    np.testing.assert_allclose(
        ck.fit_sample_weight(
            ops.convert_to_tensor(labels),
            class_weight=ops.convert_to_tensor(table),
            sample_weight=ops.convert_to_tensor(per_sample),
        ),
        ck.fit_sample_weight(labels, class_weight=table, sample_weight=per_sample),
    )


def test_fit_sample_weight_reads_soft_labels_as_one_hot_by_their_argmax():
    soft = np.array([[0.8, 0.1, 0.1], [0.05, 0.05, 0.9]], dtype=np.float32)
    np.testing.assert_array_equal(ck.fit_sample_weight(soft, class_weight=[1.0, 2.0, 3.0]), [1, 3])


def test_fit_sample_weight_takes_integer_labels_as_sparse_even_when_they_look_one_hot():
    labels = np.array([[0, 1], [1, 0]])
    weight = ck.fit_sample_weight(labels, class_weight=[1.0, 5.0])
    np.testing.assert_array_equal(weight, [[1.0, 5.0], [5.0, 1.0]])


def test_fit_sample_weight_takes_float_class_indices_that_do_not_sum_to_one_as_sparse():
    labels = np.array([[0.0, 2.0, 1.0], [1.0, 1.0, 0.0]])
    np.testing.assert_array_equal(
        ck.fit_sample_weight(labels, class_weight=[1.0, 2.0, 3.0]),
        [[1.0, 3.0, 2.0], [2.0, 2.0, 1.0]],
    )


def test_fit_sample_weight_one_hot_can_be_forced_either_way():
    # A [N, 2] float sequence of 0/1 labels with one 1 per row looks one-hot.
    ambiguous = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    assert ck.fit_sample_weight(ambiguous, class_weight=[1.0, 5.0]).shape == (3,)
    np.testing.assert_array_equal(
        ck.fit_sample_weight(ambiguous, class_weight=[1.0, 5.0], one_hot=False),
        [[1.0, 5.0], [5.0, 1.0], [1.0, 5.0]],
    )
    np.testing.assert_array_equal(
        ck.fit_sample_weight(np.array([[0, 1], [1, 0]]), class_weight=[1.0, 5.0], one_hot=True),
        [5.0, 1.0],
    )


@pytest.mark.parametrize("shape", [(6, 5), (4, 3, 5)], ids=["sequence", "mask"])
def test_fit_with_fit_sample_weight_weighs_every_element(rng, shape):
    x = rng.normal(size=(*shape, 2)).astype(np.float32)
    labels = rng.integers(0, 3, size=shape)
    table, per_sample = {0: 1.0, 1: 4.0, 2: 0.5}, rng.uniform(0.5, 2.0, size=shape[0])
    keras.utils.set_random_seed(0)
    inputs = keras.Input((*shape[1:], 2))
    model = keras.Model(inputs, keras.layers.Dense(3)(inputs))
    model.compile("sgd", ck.SoftmaxCrossEntropy())
    weight = ck.fit_sample_weight(labels, class_weight=table, sample_weight=per_sample)
    history = model.fit(x, labels, sample_weight=weight, epochs=1, verbose=0, shuffle=False)
    assert np.isfinite(history.history["loss"][0])
    expected = reference.softmax_cross_entropy(
        f64(model.predict(x, verbose=0)),
        labels,
        class_weight=np.array([table[c] for c in range(3)]),
        sample_weight=per_sample,
    )
    np.testing.assert_allclose(
        model.evaluate(x, labels, sample_weight=weight, verbose=0), expected, rtol=1e-5
    )


# ----------------------------------------------------------------------------- constructor checks


KERAS_CONSTRUCTOR_MISTAKES = [
    ("FocalLoss", {"gamma": -1.0}, "gamma"),
    ("FocalLoss", {"alpha": -0.5}, "alpha"),
    ("FocalLoss", {"alpha": [1.0, float("nan"), 1.0]}, "alpha"),
    ("SoftmaxCrossEntropy", {"class_weight": [1.0, -1.0, 1.0]}, "class_weight"),
    ("SoftmaxCrossEntropy", {"class_weight": [[1.0, 1.0, 1.0]]}, "class_weight"),
    ("SoftmaxCrossEntropy", {"class_weight": {-1: 2.0}}, "class_weight"),
    ("SoftmaxCrossEntropy", {"class_weight": {0: -2.0}}, "class_weight"),
    ("SoftmaxCrossEntropy", {"class_weight": [1.0, float("nan"), 1.0]}, "class_weight"),
    ("SoftmaxCrossEntropy", {"label_smoothing": 1.5}, "label_smoothing"),
    ("SoftmaxCrossEntropy", {"ignore_index": 1.5}, "ignore_index"),
    ("SoftmaxCrossEntropy", {"smoothing_weight": "class"}, "smoothing_weight"),
    ("SoftmaxCrossEntropy", {"validate": "yes"}, "validate"),
    ("LogitAdjustedCrossEntropy", {"class_prior": [0.5, 0.0]}, "class_prior"),
    ("LogitAdjustedCrossEntropy", {"class_prior": [[0.5, 0.5]]}, "class_prior"),
    ("LogitAdjustedCrossEntropy", {"class_prior": [0.5, 0.5], "tau": -1.0}, "tau"),
    ("CostSensitiveCrossEntropy", {"cost_matrix": np.ones((3, 2))}, "cost_matrix"),
    ("CostSensitiveCrossEntropy", {"cost_matrix": -np.ones((3, 3))}, "cost_matrix"),
    ("SigmoidCrossEntropy", {"pos_weight": -1.0}, "pos_weight"),
    ("SigmoidCrossEntropy", {"pos_weight": {0: 1.0}}, "pos_weight"),
    ("SigmoidCrossEntropy", {"label_smoothing": -0.1}, "label_smoothing"),
    ("SigmoidFocalLoss", {"alpha": 2.0}, "alpha"),
    ("HuberLoss", {"delta": 0.0}, "delta"),
    ("DiceLoss", {"smooth": -1.0}, "smooth"),
    ("SoftF1Loss", {"smooth": 0.0}, "smooth"),
]


@pytest.mark.parametrize(
    ("name", "kwargs", "argument"),
    KERAS_CONSTRUCTOR_MISTAKES,
    ids=[f"{n}-{a}-{i}" for i, (n, _, a) in enumerate(KERAS_CONSTRUCTOR_MISTAKES)],
)
def test_keras_loss_checks_its_arguments_when_constructed(name, kwargs, argument):
    with pytest.raises((ValueError, TypeError), match=f"^{argument}: expected .*, got "):
        getattr(ck, name)(**kwargs)


def test_a_nan_class_weight_fails_before_a_compiled_fit_where_values_go_unchecked(rng):
    x = rng.normal(size=(8, 4)).astype(np.float32)
    y = rng.integers(0, 3, size=8)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    with pytest.raises(ValueError, match=r"^class_weight: expected"):
        model.compile(
            optimizer="sgd",
            loss=ck.SoftmaxCrossEntropy(class_weight=[1.0, float("nan"), 1.0]),
            jit_compile=BACKEND != "torch",
        )
        model.fit(x, y, epochs=1, verbose=0)
    assert getattr(model, "optimizer", None) is None  # never compiled, never trained


def test_value_checks_run_on_concrete_inputs_of_the_backend(rng):
    z = ops.convert_to_tensor(rng.normal(size=(4, 3)).astype(np.float32))
    with pytest.raises(ValueError, match=r"^labels: expected class indices in \[0, 3\)"):
        ck.softmax_cross_entropy(z, ops.convert_to_tensor(np.array([0, 1, 2, 3], np.int32)))
    with pytest.raises(ValueError, match=r"^alpha: expected finite, non-negative weights"):
        ck.focal_loss(z, np.array([0, 1, 2, 0]), alpha=[1.0, -1.0, 1.0])


def test_value_checks_are_skipped_inside_a_compiled_function_without_failing(rng):
    """Inside jit (or tf.function) the values are unknown: the call traces and runs."""
    z = rng.normal(size=(4, 3)).astype(np.float32)
    labels = np.array([0, 1, 2, 0], np.int32)
    expected = float(f64(ck.softmax_cross_entropy(z, labels, class_weight=[1.0, 2.0, 3.0])))
    if BACKEND == "jax":
        import jax

        compiled = jax.jit(lambda a, b: ck.softmax_cross_entropy(a, b, class_weight=[1, 2, 3.0]))
    elif BACKEND == "tensorflow":
        import tensorflow as tf

        compiled = tf.function(
            lambda a, b: ck.softmax_cross_entropy(a, b, class_weight=[1.0, 2.0, 3.0]),
            jit_compile=True,
        )
    else:
        pytest.skip("no compiled function is tested on Keras' torch backend")
    got = compiled(ops.convert_to_tensor(z), ops.convert_to_tensor(labels))
    assert float(f64(got)) == pytest.approx(expected, rel=1e-6)


def test_import_of_companion_keras_follows_the_backend_keras_was_imported_with():
    assert ck.BACKEND == BACKEND == os.environ.get("KERAS_BACKEND", "tensorflow")
