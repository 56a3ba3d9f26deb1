"""Every mistake listed in the design gets a ValueError or TypeError that names the argument,
what was expected and what came."""

import numpy as np
import pytest
from bad_inputs import CASES, IDS, LABELS, LOGITS

from companion import reference as R
from companion import weights as W

# Mistakes only the reference and companion.weights can meet, besides the shared CASES.
REFERENCE_ONLY = [
    ("logits-list", lambda: R.softmax_cross_entropy(LOGITS.tolist(), LABELS), TypeError, "logits"),
    ("delta-negative", lambda: R.huber_grad(LOGITS, LOGITS, delta=-1), ValueError, "delta"),
    ("class-weight-method", lambda: W.class_weight(LABELS, method="median"), ValueError, "method"),
    (
        "class-weight-beta",
        lambda: W.class_weight(LABELS, method="effective_number", beta=1.0),
        ValueError,
        "beta",
    ),
    ("class-weight-labels-float", lambda: W.class_weight([0.5, 1.0]), TypeError, "labels"),
    ("class-weight-labels-negative", lambda: W.class_weight([-1, 0]), ValueError, "labels"),
    (
        "class-weight-n-classes",
        lambda: W.class_weight(LABELS, n_classes=2),
        ValueError,
        "n_classes",
    ),
    ("class-weight-empty", lambda: W.class_weight([]), ValueError, "labels"),
    (
        "merge-negative-sample-weight",
        lambda: W.merge_weights(LABELS, sample_weight=-np.ones(6)),
        ValueError,
        "sample_weight",
    ),
    (
        "merge-sample-weight-shape",
        lambda: W.merge_weights(LABELS, sample_weight=np.ones(5)),
        ValueError,
        "sample_weight",
    ),
    (
        "merge-class-weight-too-short",
        lambda: W.merge_weights(LABELS, class_weight=[1.0, 2.0]),
        ValueError,
        "labels",
    ),
    ("class-weight-labels-strings", lambda: W.class_weight(["a", "b"]), TypeError, "labels"),
    (
        "class-weight-labels-ragged",
        lambda: W.class_weight([[0, 1], [1]]),
        ValueError,
        "labels",
    ),
    ("merge-labels-ragged", lambda: W.merge_weights([[0, 1], [1]]), ValueError, "labels"),
    ("merge-labels-strings", lambda: W.merge_weights(["0", "1"]), TypeError, "labels"),
    (
        "merge-class-weight-dict-outside-the-classes",
        lambda: W.merge_weights([0, 1, 1], class_weight={5: 2.0}),
        ValueError,
        "class_weight",
    ),
    (
        "merge-class-weight-dict-outside-n-classes",
        lambda: W.merge_weights([0, 1, 1], class_weight={3: 2.0}, n_classes=3),
        ValueError,
        "class_weight",
    ),
    (
        "merge-class-weight-dict-string-value",
        lambda: W.merge_weights([0, 1], class_weight={1: "3"}),
        TypeError,
        "class_weight",
    ),
    (
        "merge-class-weight-strings",
        lambda: W.merge_weights([0, 1], class_weight=["1", "3"]),
        TypeError,
        "class_weight",
    ),
    (
        "merge-sample-weight-strings",
        lambda: W.merge_weights([0, 1], sample_weight=["1", "3"]),
        TypeError,
        "sample_weight",
    ),
    (
        "merge-n-classes-too-small",
        lambda: W.merge_weights([0, 3], n_classes=2),
        ValueError,
        "n_classes",
    ),
    (
        "merge-n-classes-float",
        lambda: W.merge_weights([0, 1], n_classes=2.0),
        TypeError,
        "n_classes",
    ),
    ("pos-weight-no-positive", lambda: W.pos_weight([[1, 0], [1, 0]]), ValueError, "targets"),
    ("pos-weight-scalar", lambda: W.pos_weight(1.0), ValueError, "targets"),
    ("pos-weight-empty", lambda: W.pos_weight(np.zeros((0, 3))), ValueError, "targets"),
    ("pos-weight-above-one", lambda: W.pos_weight([[2.0, 1.0]]), ValueError, "targets"),
    ("pos-weight-nan", lambda: W.pos_weight([[np.nan, 1.0]]), ValueError, "targets"),
    ("pos-weight-strings", lambda: W.pos_weight([["1", "0"]]), TypeError, "targets"),
    ("pos-weight-ragged", lambda: W.pos_weight([[1, 0], [1]]), ValueError, "targets"),
    ("class-prior-labels-float", lambda: W.class_prior([0.5, 1.0]), TypeError, "labels"),
    ("class-prior-labels-negative", lambda: W.class_prior([-1, 0]), ValueError, "labels"),
    ("class-prior-missing-class", lambda: W.class_prior([0, 2]), ValueError, "labels"),
    ("class-prior-n-classes", lambda: W.class_prior(LABELS, n_classes=2), ValueError, "n_classes"),
    ("class-prior-n-classes-float", lambda: W.class_prior(LABELS, 3.0), TypeError, "n_classes"),
    ("class-prior-empty", lambda: W.class_prior([]), ValueError, "labels"),
    (
        "logit-adjustment-prior-zero",
        lambda: R.logit_adjustment(LOGITS, [0.5, 0.5, 0.0]),
        ValueError,
        "class_prior",
    ),
    (
        "logit-adjustment-prior-length",
        lambda: R.logit_adjustment(LOGITS, [0.5, 0.5]),
        ValueError,
        "class_prior",
    ),
    ("logit-adjustment-tau", lambda: R.logit_adjustment(LOGITS, [1, 1, 1], -1), ValueError, "tau"),
    (
        "logit-adjustment-logits-int",
        lambda: R.logit_adjustment(LABELS[:, None] * np.ones((1, 3), int), [1, 1, 1]),
        TypeError,
        "logits",
    ),
    (
        "merge-one-hot-length",
        lambda: W.merge_weights(np.eye(3)[LABELS], class_weight=[1.0, 2.0], one_hot=True),
        ValueError,
        "class_weight",
    ),
]


def _assert_message(error, argument):
    message = str(error)
    assert message.startswith(f"{argument}: expected "), message
    assert ", got " in message, message


@pytest.mark.parametrize(
    ("name", "args", "kwargs", "error", "argument"), [case[1:] for case in CASES], ids=IDS
)
def test_reference_rejects_bad_input_naming_the_argument(name, args, kwargs, error, argument):
    with pytest.raises(error) as caught:
        getattr(R, name)(*args, **kwargs)
    _assert_message(caught.value, argument)


@pytest.mark.parametrize(
    ("call", "error", "argument"),
    [case[1:] for case in REFERENCE_ONLY],
    ids=[case[0] for case in REFERENCE_ONLY],
)
def test_bad_input_raises_an_error_naming_the_argument(call, error, argument):
    with pytest.raises(error) as caught:
        call()
    _assert_message(caught.value, argument)


def test_validate_false_skips_value_checks_but_not_shape_checks():
    loss = R.softmax_cross_entropy(LOGITS, LABELS, sample_weight=-np.ones(6), validate=False)
    assert np.isfinite(loss)
    with pytest.raises(ValueError, match="sample_weight"):
        R.softmax_cross_entropy(LOGITS, LABELS, sample_weight=np.ones(4), validate=False)


def test_pos_weight_names_the_column_without_a_positive():
    with pytest.raises(ValueError, match=r"got none in column 2$"):
        W.pos_weight([[1, 0, 0], [0, 1, 0]])


@pytest.mark.parametrize("name", ["softmax_cross_entropy", "focal_loss"])
def test_zero_classes_are_blamed_on_logits_with_validate_false_too(name):
    for validate in (True, False):
        with pytest.raises(ValueError, match=r"^logits: expected at least one class"):
            getattr(R, name)(LOGITS[:, :0], LABELS, validate=validate)


def test_all_ignored_labels_give_zero_without_validation():
    ignored = np.full(6, -100)
    for reduction in ("mean", "weighted_mean"):
        loss = R.softmax_cross_entropy(
            LOGITS, ignored, ignore_index=-100, reduction=reduction, validate=False
        )
        assert float(loss) == 0.0
    # "sum" and "none" are defined for all-ignored labels, with validation too.
    assert float(R.focal_loss(LOGITS, ignored, ignore_index=-100, reduction="sum")) == 0.0


def test_validate_false_weighted_mean_of_zero_weights_is_zero_not_nan():
    loss = R.softmax_cross_entropy(
        LOGITS, LABELS, sample_weight=np.zeros(6), reduction="weighted_mean", validate=False
    )
    assert float(loss) == 0.0
