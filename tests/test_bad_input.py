"""Every mistake listed in the design gets a ValueError or TypeError that names the argument,
what was expected and what came."""

import numpy as np
import pytest

from companion import reference as R
from companion import weights as W

rng = np.random.default_rng(0)
LOGITS = rng.normal(size=(6, 3))
LABELS = np.array([0, 1, 2, 0, 1, 2])
TARGETS = (rng.random((6, 3)) < 0.5).astype(float)
PROBS = rng.random((2, 4, 4))
MASKS = (rng.random((2, 4, 4)) < 0.3).astype(float)
COST = np.ones((3, 3))

# (id, call, error, argument named in the message, a word of what came)
CASES = [
    (
        "label-negative",
        lambda: R.softmax_cross_entropy(LOGITS, LABELS - 1),
        ValueError,
        "labels",
        "-1",
    ),
    ("label-too-large", lambda: R.focal_loss(LOGITS, LABELS + 1), ValueError, "labels", "3"),
    (
        "label-too-large-cost",
        lambda: R.cost_sensitive_cross_entropy(LOGITS, LABELS * 2, COST),
        ValueError,
        "labels",
        "4",
    ),
    (
        "labels-float",
        lambda: R.softmax_cross_entropy(LOGITS, LABELS.astype(float)),
        TypeError,
        "labels",
        "float64",
    ),
    (
        "labels-shape",
        lambda: R.softmax_cross_entropy(LOGITS, LABELS[:5]),
        ValueError,
        "labels",
        "(5,)",
    ),
    (
        "logits-list",
        lambda: R.softmax_cross_entropy(LOGITS.tolist(), LABELS),
        TypeError,
        "logits",
        "list",
    ),
    (
        "logits-int",
        lambda: R.softmax_cross_entropy(LABELS[:, None], LABELS),
        TypeError,
        "logits",
        "int64",
    ),
    (
        "class-weight-negative",
        lambda: R.softmax_cross_entropy(LOGITS, LABELS, class_weight=[1.0, -1.0, 1.0]),
        ValueError,
        "class_weight",
        "-1",
    ),
    (
        "class-weight-nan",
        lambda: R.softmax_cross_entropy(LOGITS, LABELS, class_weight=[1.0, np.nan, 1.0]),
        ValueError,
        "class_weight",
        "finite",
    ),
    (
        "class-weight-length",
        lambda: R.softmax_cross_entropy(LOGITS, LABELS, class_weight=[1.0, 2.0]),
        ValueError,
        "class_weight",
        "(2,)",
    ),
    (
        "class-weight-dict-key",
        lambda: R.softmax_cross_entropy(LOGITS, LABELS, class_weight={5: 2.0}),
        ValueError,
        "class_weight",
        "5",
    ),
    (
        "sample-weight-inf",
        lambda: R.sigmoid_cross_entropy(LOGITS, TARGETS, sample_weight=np.full(6, np.inf)),
        ValueError,
        "sample_weight",
        "inf",
    ),
    (
        "sample-weight-broadcast",
        lambda: R.softmax_cross_entropy(LOGITS, LABELS, sample_weight=np.ones(4)),
        ValueError,
        "sample_weight",
        "(4,)",
    ),
    (
        "sample-weight-rank",
        lambda: R.softmax_cross_entropy(LOGITS, LABELS, sample_weight=np.ones((6, 1, 1))),
        ValueError,
        "sample_weight",
        "(6, 1, 1)",
    ),
    (
        "pos-weight-negative",
        lambda: R.sigmoid_cross_entropy(LOGITS, TARGETS, pos_weight=-2.0),
        ValueError,
        "pos_weight",
        "-2",
    ),
    (
        "pos-weight-length",
        lambda: R.sigmoid_cross_entropy(LOGITS, TARGETS, pos_weight=[1.0, 2.0]),
        ValueError,
        "pos_weight",
        "(2,)",
    ),
    (
        "alpha-length",
        lambda: R.focal_loss(LOGITS, LABELS, alpha=[0.2, 0.8]),
        ValueError,
        "alpha",
        "(2,)",
    ),
    (
        "alpha-negative",
        lambda: R.focal_loss(LOGITS, LABELS, alpha=-0.5),
        ValueError,
        "alpha",
        "-0.5",
    ),
    (
        "sigmoid-alpha-above-one",
        lambda: R.sigmoid_focal_loss(LOGITS, TARGETS, alpha=1.5),
        ValueError,
        "alpha",
        "1.5",
    ),
    (
        "reduction-unknown",
        lambda: R.softmax_cross_entropy(LOGITS, LABELS, reduction="avg"),
        ValueError,
        "reduction",
        "avg",
    ),
    (
        "reduction-not-a-string",
        lambda: R.huber_loss(LOGITS, LOGITS, reduction=None),
        TypeError,
        "reduction",
        "NoneType",
    ),
    (
        "weighted-mean-zero-weights",
        lambda: R.softmax_cross_entropy(
            LOGITS, LABELS, sample_weight=np.zeros(6), reduction="weighted_mean"
        ),
        ValueError,
        "class_weight * sample_weight",
        "sum to 0",
    ),
    (
        "focal-weighted-mean-zero-alpha",
        lambda: R.focal_loss(LOGITS, LABELS, alpha=[0.0, 0.0, 0.0], reduction="weighted_mean"),
        ValueError,
        "alpha",
        "sum to 0",
    ),
    (
        "targets-above-one",
        lambda: R.sigmoid_cross_entropy(LOGITS, TARGETS + 1),
        ValueError,
        "targets",
        "2",
    ),
    (
        "targets-negative",
        lambda: R.sigmoid_focal_loss(LOGITS, TARGETS - 1),
        ValueError,
        "targets",
        "-1",
    ),
    (
        "targets-shape",
        lambda: R.sigmoid_cross_entropy(LOGITS, TARGETS[:, :2]),
        ValueError,
        "targets",
        "(6, 2)",
    ),
    (
        "dice-probabilities-above-one",
        lambda: R.dice_loss(PROBS + 1, MASKS),
        ValueError,
        "probabilities",
        "values from",
    ),
    (
        "dice-rank-one",
        lambda: R.dice_loss(PROBS.ravel(), MASKS.ravel()),
        ValueError,
        "probabilities",
        "(32,)",
    ),
    (
        "dice-smooth-zero",
        lambda: R.dice_loss(PROBS, MASKS, smooth=0.0),
        ValueError,
        "smooth",
        "0.0",
    ),
    ("delta-zero", lambda: R.huber_loss(LOGITS, LOGITS, delta=0.0), ValueError, "delta", "0.0"),
    ("delta-negative", lambda: R.huber_grad(LOGITS, LOGITS, delta=-1), ValueError, "delta", "-1"),
    ("delta-string", lambda: R.huber_loss(LOGITS, LOGITS, delta="1"), TypeError, "delta", "str"),
    ("huber-shape", lambda: R.huber_loss(LOGITS, LOGITS[:2]), ValueError, "target", "(2, 3)"),
    ("gamma-negative", lambda: R.focal_loss(LOGITS, LABELS, gamma=-1.0), ValueError, "gamma", "-1"),
    (
        "gamma-nan",
        lambda: R.sigmoid_focal_loss(LOGITS, TARGETS, gamma=float("nan")),
        ValueError,
        "gamma",
        "nan",
    ),
    (
        "empty-batch",
        lambda: R.softmax_cross_entropy(LOGITS[:0], LABELS[:0]),
        ValueError,
        "labels",
        "empty",
    ),
    (
        "empty-batch-sigmoid",
        lambda: R.sigmoid_cross_entropy(LOGITS[:0], TARGETS[:0]),
        ValueError,
        "targets",
        "empty",
    ),
    (
        "empty-batch-huber",
        lambda: R.huber_loss(LOGITS[:0], LOGITS[:0]),
        ValueError,
        "prediction",
        "empty",
    ),
    (
        "cost-matrix-shape",
        lambda: R.cost_sensitive_cross_entropy(LOGITS, LABELS, np.ones(3)),
        ValueError,
        "cost_matrix",
        "(3,)",
    ),
    (
        "cost-matrix-negative",
        lambda: R.cost_sensitive_cross_entropy(LOGITS, LABELS, -np.ones((3, 3))),
        ValueError,
        "cost_matrix",
        "-1",
    ),
    (
        "class-weight-method",
        lambda: W.class_weight(LABELS, method="median"),
        ValueError,
        "method",
        "median",
    ),
    (
        "class-weight-beta",
        lambda: W.class_weight(LABELS, method="effective_number", beta=1.0),
        ValueError,
        "beta",
        "1.0",
    ),
    (
        "class-weight-labels-float",
        lambda: W.class_weight([0.5, 1.0]),
        TypeError,
        "labels",
        "float64",
    ),
    ("class-weight-labels-negative", lambda: W.class_weight([-1, 0]), ValueError, "labels", "-1"),
    (
        "class-weight-n-classes",
        lambda: W.class_weight(LABELS, n_classes=2),
        ValueError,
        "n_classes",
        "2",
    ),
    ("class-weight-empty", lambda: W.class_weight([]), ValueError, "labels", "empty"),
    (
        "merge-negative-sample-weight",
        lambda: W.merge_weights(LABELS, sample_weight=-np.ones(6)),
        ValueError,
        "sample_weight",
        "-1",
    ),
    (
        "merge-sample-weight-shape",
        lambda: W.merge_weights(LABELS, sample_weight=np.ones(5)),
        ValueError,
        "sample_weight",
        "(5,)",
    ),
    (
        "merge-class-weight-too-short",
        lambda: W.merge_weights(LABELS, class_weight=[1.0, 2.0]),
        ValueError,
        "labels",
        "2",
    ),
    (
        "merge-one-hot-length",
        lambda: W.merge_weights(np.eye(3)[LABELS], class_weight=[1.0, 2.0], one_hot=True),
        ValueError,
        "class_weight",
        "2",
    ),
]


@pytest.mark.parametrize(
    ("call", "error", "argument", "came"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_input_raises_an_error_naming_argument_expectation_and_value(
    call, error, argument, came
):
    with pytest.raises(error) as caught:
        call()
    message = str(caught.value)
    assert message.startswith(f"{argument}: expected "), message
    assert ", got " in message, message
    assert came in message.split(", got ", 1)[1] or came in message, message


def test_validate_false_skips_value_checks_but_not_shape_checks():
    loss = R.softmax_cross_entropy(LOGITS, LABELS, sample_weight=-np.ones(6), validate=False)
    assert np.isfinite(loss)
    with pytest.raises(ValueError, match="sample_weight"):
        R.softmax_cross_entropy(LOGITS, LABELS, sample_weight=np.ones(4), validate=False)


def test_validate_false_weighted_mean_of_zero_weights_is_zero_not_nan():
    loss = R.softmax_cross_entropy(
        LOGITS, LABELS, sample_weight=np.zeros(6), reduction="weighted_mean", validate=False
    )
    assert float(loss) == 0.0
