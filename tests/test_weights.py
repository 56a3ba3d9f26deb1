"""Class weights from labels, and merged per-element weights."""

import numpy as np
import pytest
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight

from companion.weights import class_weight, merge_weights, pos_weight


@pytest.mark.parametrize("shape", [(500,), (20, 5, 5)])
def test_balanced_weights_equal_scikit_learn(rng, shape):
    labels = rng.choice(4, size=shape, p=[0.7, 0.2, 0.07, 0.03])
    expected = compute_class_weight("balanced", classes=np.arange(4), y=labels.ravel())
    np.testing.assert_allclose(class_weight(labels), expected, rtol=1e-14)


def test_balanced_weights_make_every_class_weigh_the_same_in_total(rng):
    labels = rng.choice(3, size=300, p=[0.8, 0.15, 0.05])
    totals = np.bincount(labels) * class_weight(labels)
    np.testing.assert_allclose(totals, totals[0], rtol=1e-14)


def test_inverse_frequency_is_balanced_times_the_number_of_classes(rng):
    labels = rng.integers(0, 5, size=100)
    np.testing.assert_allclose(
        class_weight(labels, method="inverse_frequency"), 5 * class_weight(labels), rtol=1e-14
    )


def test_effective_number_matches_cui_et_al_formula():
    labels = np.repeat([0, 1, 2], [1000, 100, 10])
    beta = 0.99
    raw = (1 - beta) / (1 - beta ** np.array([1000, 100, 10]))
    np.testing.assert_allclose(
        class_weight(labels, method="effective_number", beta=beta), 3 * raw / raw.sum(), rtol=1e-12
    )


def test_effective_number_goes_from_equal_weights_to_inverse_frequency(rng):
    labels = rng.choice(3, size=400, p=[0.8, 0.15, 0.05])
    np.testing.assert_allclose(class_weight(labels, method="effective_number", beta=0.0), 1.0)
    near_one = class_weight(labels, method="effective_number", beta=1 - 1e-9)
    inverse = class_weight(labels, method="inverse_frequency")
    np.testing.assert_allclose(near_one, 3 * inverse / inverse.sum(), rtol=1e-5)


def test_a_class_that_never_occurs_is_an_error_not_an_infinite_weight():
    with pytest.raises(ValueError, match=r"labels: .*no element of class \[2\]"):
        class_weight([0, 1, 1], n_classes=3)


def test_merge_weights_multiplies_class_and_sample_weights(rng):
    labels = rng.integers(0, 3, size=10)
    sample_weight = rng.uniform(0, 2, size=10)
    table = np.array([0.5, 2.0, 3.0])
    np.testing.assert_allclose(
        merge_weights(labels, class_weight=table, sample_weight=sample_weight),
        table[labels] * sample_weight,
    )


def test_merge_weights_with_balanced_class_weight_equals_compute_sample_weight(rng):
    labels = rng.choice(3, size=60, p=[0.7, 0.2, 0.1])
    np.testing.assert_allclose(
        merge_weights(labels, class_weight=class_weight(labels)),
        compute_sample_weight("balanced", labels),
        rtol=1e-14,
    )


def test_merge_weights_gives_a_weight_map_for_segmentation_masks(rng):
    masks = rng.integers(0, 2, size=(3, 8, 8))
    weights = merge_weights(masks, class_weight={1: 10.0}, sample_weight=[1.0, 0.0, 2.0])
    assert weights.shape == (3, 8, 8)
    np.testing.assert_array_equal(weights[1], 0.0)
    np.testing.assert_array_equal(weights[2], np.where(masks[2] == 1, 20.0, 2.0))


def test_merge_weights_accepts_one_hot_labels(rng):
    sparse = rng.integers(0, 4, size=(5, 6))
    one_hot = np.eye(4)[sparse]
    table = [1.0, 2.0, 3.0, 4.0]
    np.testing.assert_array_equal(
        merge_weights(one_hot, class_weight=table, one_hot=True),
        merge_weights(sparse, class_weight=table),
    )


def test_merge_weights_without_weights_is_all_ones():
    np.testing.assert_array_equal(merge_weights([[0, 1], [1, 1]]), np.ones((2, 2)))


def test_pos_weight_is_negatives_over_positives_per_column(rng):
    targets = (rng.random((50, 3, 3, 4)) < [0.05, 0.2, 0.5, 0.9]).astype(float)
    columns = targets.reshape(-1, 4)
    expected = (columns == 0).sum(axis=0) / (columns == 1).sum(axis=0)
    np.testing.assert_allclose(pos_weight(targets), expected, rtol=1e-15)
    assert pos_weight(targets).dtype == np.float64


def test_pos_weight_makes_positives_and_negatives_weigh_the_same_per_column(rng):
    targets = rng.random((200, 5)) < 0.1
    weight = pos_weight(targets)
    np.testing.assert_allclose(weight * targets.sum(axis=0), (~targets).sum(axis=0), rtol=1e-12)


def test_pos_weight_counts_probabilities_fractionally():
    assert pos_weight([[0.5], [0.0]]).tolist() == [3.0]


def test_pos_weight_reads_one_dimensional_targets_as_one_row():
    # The last axis holds the columns: binary targets [batch] need a column axis, [batch, 1].
    assert pos_weight(np.array([1, 0, 0, 0])[:, None]).tolist() == [3.0]
    assert pos_weight([1, 1]).tolist() == [0.0, 0.0]


def test_merge_weights_accepts_a_dict_for_classes_the_labels_lack_given_n_classes():
    weight = merge_weights([0, 1, 1], class_weight={3: 5.0, 1: 2.0}, n_classes=4)
    assert weight.tolist() == [1.0, 2.0, 2.0]
