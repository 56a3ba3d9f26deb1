"""The mistakes of the design's "Bad input" list, as data every implementation is tried on.

Each case is ``(id, loss, args, kwargs, error, argument)`` in the reference layout (class axis
last, NumPy arrays). The reference is called directly; a framework module is called through its
test adapter, which converts floating arrays to tensors but keeps integer and float dtypes as
they are, so that a float label array stays a mistake. Every implementation must raise ``error``
with a message that starts ``"<argument>: expected"``.
"""

import numpy as np

_rng = np.random.default_rng(0)
LOGITS = _rng.normal(size=(6, 3))
LABELS = np.array([0, 1, 2, 0, 1, 2])
TARGETS = (_rng.random((6, 3)) < 0.5).astype(float)
PROBABILITIES = _rng.random((2, 4, 4))
MASKS = (_rng.random((2, 4, 4)) < 0.3).astype(float)
COST = np.ones((3, 3))

CE, SIG = "softmax_cross_entropy", "sigmoid_cross_entropy"
FOCAL, SIGFOCAL = "focal_loss", "sigmoid_focal_loss"
HUBER, DICE, COSTLY = "huber_loss", "dice_loss", "cost_sensitive_cross_entropy"
ADJUSTED, PRIOR = "logit_adjusted_cross_entropy", {"class_prior": [0.5, 0.3, 0.2]}

CASES = [
    ("label-negative", CE, (LOGITS, LABELS - 1), {}, ValueError, "labels"),
    ("label-too-large", FOCAL, (LOGITS, LABELS + 1), {}, ValueError, "labels"),
    ("label-too-large-cost", COSTLY, (LOGITS, LABELS * 2, COST), {}, ValueError, "labels"),
    ("labels-float", CE, (LOGITS, LABELS.astype(float)), {}, TypeError, "labels"),
    ("labels-shape", CE, (LOGITS, LABELS[:5]), {}, ValueError, "labels"),
    ("logits-int", CE, (LABELS[:, None] * np.ones((1, 3), int), LABELS), {}, TypeError, "logits"),
    (
        "class-weight-negative",
        CE,
        (LOGITS, LABELS),
        {"class_weight": [1.0, -1.0, 1.0]},
        ValueError,
        "class_weight",
    ),
    (
        "class-weight-nan",
        CE,
        (LOGITS, LABELS),
        {"class_weight": [1.0, np.nan, 1.0]},
        ValueError,
        "class_weight",
    ),
    (
        "class-weight-length",
        CE,
        (LOGITS, LABELS),
        {"class_weight": [1.0, 2.0]},
        ValueError,
        "class_weight",
    ),
    (
        "class-weight-dict-key",
        CE,
        (LOGITS, LABELS),
        {"class_weight": {5: 2.0}},
        ValueError,
        "class_weight",
    ),
    (
        "sample-weight-inf",
        SIG,
        (LOGITS, TARGETS),
        {"sample_weight": np.full(6, np.inf)},
        ValueError,
        "sample_weight",
    ),
    (
        "sample-weight-negative",
        CE,
        (LOGITS, LABELS),
        {"sample_weight": -np.ones(6)},
        ValueError,
        "sample_weight",
    ),
    (
        "sample-weight-broadcast",
        CE,
        (LOGITS, LABELS),
        {"sample_weight": np.ones(4)},
        ValueError,
        "sample_weight",
    ),
    ("pos-weight-negative", SIG, (LOGITS, TARGETS), {"pos_weight": -2.0}, ValueError, "pos_weight"),
    (
        "pos-weight-length",
        SIG,
        (LOGITS, TARGETS),
        {"pos_weight": [1.0, 2.0]},
        ValueError,
        "pos_weight",
    ),
    ("alpha-length", FOCAL, (LOGITS, LABELS), {"alpha": [0.2, 0.8]}, ValueError, "alpha"),
    ("alpha-negative", FOCAL, (LOGITS, LABELS), {"alpha": -0.5}, ValueError, "alpha"),
    ("sigmoid-alpha-above-one", SIGFOCAL, (LOGITS, TARGETS), {"alpha": 1.5}, ValueError, "alpha"),
    ("reduction-unknown", CE, (LOGITS, LABELS), {"reduction": "avg"}, ValueError, "reduction"),
    (
        "reduction-not-a-string",
        HUBER,
        (LOGITS, LOGITS),
        {"reduction": None},
        TypeError,
        "reduction",
    ),
    (
        "weighted-mean-zero-weights",
        CE,
        (LOGITS, LABELS),
        {"sample_weight": np.zeros(6), "reduction": "weighted_mean"},
        ValueError,
        "class_weight * sample_weight",
    ),
    (
        "focal-weighted-mean-zero-alpha",
        FOCAL,
        (LOGITS, LABELS),
        {"alpha": [0.0, 0.0, 0.0], "reduction": "weighted_mean"},
        ValueError,
        "alpha",
    ),
    ("targets-above-one", SIG, (LOGITS, TARGETS + 1), {}, ValueError, "targets"),
    ("targets-negative", SIGFOCAL, (LOGITS, TARGETS - 1), {}, ValueError, "targets"),
    ("targets-shape", SIG, (LOGITS, TARGETS[:, :2]), {}, ValueError, "targets"),
    (
        "dice-probabilities-above-one",
        DICE,
        (PROBABILITIES + 1, MASKS),
        {},
        ValueError,
        "probabilities",
    ),
    (
        "dice-rank-one",
        DICE,
        (PROBABILITIES.ravel(), MASKS.ravel()),
        {},
        ValueError,
        "probabilities",
    ),
    ("dice-smooth-zero", DICE, (PROBABILITIES, MASKS), {"smooth": 0.0}, ValueError, "smooth"),
    ("delta-zero", HUBER, (LOGITS, LOGITS), {"delta": 0.0}, ValueError, "delta"),
    ("delta-string", HUBER, (LOGITS, LOGITS), {"delta": "1"}, TypeError, "delta"),
    ("huber-shape", HUBER, (LOGITS, LOGITS[:2]), {}, ValueError, "target"),
    ("gamma-negative", FOCAL, (LOGITS, LABELS), {"gamma": -1.0}, ValueError, "gamma"),
    ("gamma-nan", SIGFOCAL, (LOGITS, TARGETS), {"gamma": float("nan")}, ValueError, "gamma"),
    ("empty-batch", CE, (LOGITS[:0], LABELS[:0]), {}, ValueError, "labels"),
    ("empty-batch-sigmoid", SIG, (LOGITS[:0], TARGETS[:0]), {}, ValueError, "targets"),
    ("empty-batch-huber", HUBER, (LOGITS[:0], LOGITS[:0]), {}, ValueError, "prediction"),
    ("cost-matrix-shape", COSTLY, (LOGITS, LABELS, np.ones(3)), {}, ValueError, "cost_matrix"),
    (
        "cost-matrix-negative",
        COSTLY,
        (LOGITS, LABELS, -np.ones((3, 3))),
        {},
        ValueError,
        "cost_matrix",
    ),
]

# The newer arguments (ignore_index, label_smoothing, smoothing_weight) and the shape checks that
# run with validate=False too.
IGNORED = np.full(6, 255)
NO_CLASSES = LOGITS[:, :0]
CASES += [
    ("ignore-index-float", CE, (LOGITS, LABELS), {"ignore_index": 1.0}, TypeError, "ignore_index"),
    (
        "ignore-index-bool",
        FOCAL,
        (LOGITS, LABELS),
        {"ignore_index": True},
        TypeError,
        "ignore_index",
    ),
    (
        "ignore-index-string",
        COSTLY,
        (LOGITS, LABELS, COST),
        {"ignore_index": "255"},
        TypeError,
        "ignore_index",
    ),
    (
        "dice-ignore-index-string",
        DICE,
        (PROBABILITIES, MASKS),
        {"ignore_index": "255"},
        TypeError,
        "ignore_index",
    ),
    ("all-ignored-mean", CE, (LOGITS, IGNORED), {"ignore_index": 255}, ValueError, "labels"),
    (
        "all-ignored-weighted-mean",
        CE,
        (LOGITS, IGNORED),
        {"ignore_index": 255, "class_weight": [1.0, 2.0, 3.0], "reduction": "weighted_mean"},
        ValueError,
        "labels",
    ),
    (
        "all-ignored-focal-mean",
        FOCAL,
        (LOGITS, IGNORED),
        {"ignore_index": 255},
        ValueError,
        "labels",
    ),
    (
        "all-ignored-cost-weighted-mean",
        COSTLY,
        (LOGITS, IGNORED, COST),
        {"ignore_index": 255, "reduction": "weighted_mean"},
        ValueError,
        "labels",
    ),
    (
        "label-too-large-beside-ignored",
        CE,
        (LOGITS, np.where(LABELS == 0, 255, LABELS + 1)),
        {"ignore_index": 255},
        ValueError,
        "labels",
    ),
    (
        "label-smoothing-above-one",
        CE,
        (LOGITS, LABELS),
        {"label_smoothing": 1.5},
        ValueError,
        "label_smoothing",
    ),
    (
        "label-smoothing-negative",
        SIG,
        (LOGITS, TARGETS),
        {"label_smoothing": -0.1},
        ValueError,
        "label_smoothing",
    ),
    (
        "label-smoothing-string",
        CE,
        (LOGITS, LABELS),
        {"label_smoothing": "0.1"},
        TypeError,
        "label_smoothing",
    ),
    (
        "smoothing-weight-unknown",
        CE,
        (LOGITS, LABELS),
        {"label_smoothing": 0.1, "smoothing_weight": "class"},
        ValueError,
        "smoothing_weight",
    ),
    ("zero-classes", CE, (NO_CLASSES, LABELS), {}, ValueError, "logits"),
    (
        "zero-classes-without-validation",
        CE,
        (NO_CLASSES, LABELS),
        {"validate": False},
        ValueError,
        "logits",
    ),
    (
        "zero-classes-focal-without-validation",
        FOCAL,
        (NO_CLASSES, LABELS),
        {"validate": False},
        ValueError,
        "logits",
    ),
    (
        "zero-classes-cost-without-validation",
        COSTLY,
        (NO_CLASSES, LABELS, np.ones((0, 0))),
        {"validate": False},
        ValueError,
        "logits",
    ),
    ("logits-0d", CE, (np.array(0.5), np.array(0)), {}, ValueError, "logits"),
    ("logits-0d-focal", FOCAL, (np.array(0.5), np.array(0)), {}, ValueError, "logits"),
    (
        "logits-0d-without-validation",
        COSTLY,
        (np.array(0.5), np.array(0), np.ones((1, 1))),
        {"validate": False},
        ValueError,
        "logits",
    ),
]
CASES += [
    ("adjusted-label-too-large", ADJUSTED, (LOGITS, LABELS + 1), PRIOR, ValueError, "labels"),
    ("adjusted-labels-float", ADJUSTED, (LOGITS, LABELS * 1.0), PRIOR, TypeError, "labels"),
    (
        "prior-zero",
        ADJUSTED,
        (LOGITS, LABELS),
        {"class_prior": [0.5, 0.0, 0.5]},
        ValueError,
        "class_prior",
    ),
    (
        "prior-negative",
        ADJUSTED,
        (LOGITS, LABELS),
        {"class_prior": [0.6, -0.1, 0.5]},
        ValueError,
        "class_prior",
    ),
    (
        "prior-nan",
        ADJUSTED,
        (LOGITS, LABELS),
        {"class_prior": [0.5, np.nan, 0.5]},
        ValueError,
        "class_prior",
    ),
    (
        "prior-inf",
        ADJUSTED,
        (LOGITS, LABELS),
        {"class_prior": [0.5, np.inf, 0.5]},
        ValueError,
        "class_prior",
    ),
    (
        "prior-length",
        ADJUSTED,
        (LOGITS, LABELS),
        {"class_prior": [0.5, 0.5]},
        ValueError,
        "class_prior",
    ),
    ("prior-scalar", ADJUSTED, (LOGITS, LABELS), {"class_prior": 0.5}, ValueError, "class_prior"),
    (
        "prior-matrix",
        ADJUSTED,
        (LOGITS, LABELS),
        {"class_prior": np.full((3, 3), 0.2)},
        ValueError,
        "class_prior",
    ),
    ("tau-negative", ADJUSTED, (LOGITS, LABELS), {**PRIOR, "tau": -1.0}, ValueError, "tau"),
    ("tau-nan", ADJUSTED, (LOGITS, LABELS), {**PRIOR, "tau": float("nan")}, ValueError, "tau"),
    ("tau-string", ADJUSTED, (LOGITS, LABELS), {**PRIOR, "tau": "1"}, TypeError, "tau"),
    (
        "adjusted-class-weight-negative",
        ADJUSTED,
        (LOGITS, LABELS),
        {**PRIOR, "class_weight": [1.0, -1.0, 1.0]},
        ValueError,
        "class_weight",
    ),
    (
        "adjusted-sample-weight-broadcast",
        ADJUSTED,
        (LOGITS, LABELS),
        {**PRIOR, "sample_weight": np.ones(4)},
        ValueError,
        "sample_weight",
    ),
    ("adjusted-empty-batch", ADJUSTED, (LOGITS[:0], LABELS[:0]), PRIOR, ValueError, "labels"),
    (
        "adjusted-reduction-unknown",
        ADJUSTED,
        (LOGITS, LABELS),
        {**PRIOR, "reduction": "avg"},
        ValueError,
        "reduction",
    ),
]

IDS = [case[0] for case in CASES]
