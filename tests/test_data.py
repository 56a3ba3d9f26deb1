"""The data sets are deterministic, imbalanced as documented, and check their arguments."""

import numpy as np
import pytest

from companion import data


def _same(a, b):
    for field in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def test_imbalanced_digits_has_a_long_tail_and_a_balanced_test_set():
    split = data.imbalanced_digits(4, imbalance=0.05, test_per_class=30)
    counts = np.bincount(split.y_train)
    assert list(counts) == sorted(counts, reverse=True)
    assert counts[-1] / counts[0] == pytest.approx(0.05, abs=0.02)
    assert np.bincount(split.y_test).tolist() == [30] * 4
    assert split.x_train.dtype == np.float32 and split.x_train.shape[1] == 64
    assert 0.0 <= split.x_train.min() and split.x_train.max() <= 1.0


def test_rare_multilabel_has_two_rare_labels():
    split = data.rare_multilabel(rare_fraction=0.2)
    prevalence = split.y_train.mean(axis=0)
    assert np.all(prevalence[:3] > 0.3)
    assert np.all(prevalence[3:] < 0.05)
    assert set(np.unique(split.y_train)) == {0.0, 1.0}


@pytest.mark.parametrize("n_classes", [2, 3])
def test_segmentation_masks_have_small_targets(n_classes):
    split = data.segmentation_masks(16, size=24, n_classes=n_classes)
    assert split.x_train.shape == (8, 24, 24, 1) and split.y_train.shape == (8, 24, 24)
    assert set(np.unique(split.y_train)) == set(range(n_classes))
    assert (split.y_train == 0).mean() > 0.9


@pytest.mark.parametrize(
    "make", [data.imbalanced_digits, data.rare_multilabel, data.segmentation_masks]
)
def test_same_seed_gives_the_same_arrays_and_another_seed_does_not(make):
    _same(make(seed=3), make(seed=3))
    with pytest.raises(AssertionError):
        _same(make(seed=3), make(seed=4))


@pytest.mark.parametrize(
    ("call", "error", "argument"),
    [
        (lambda: data.imbalanced_digits(11), ValueError, "n_classes"),
        (lambda: data.imbalanced_digits(4, imbalance=0.0), ValueError, "imbalance"),
        (lambda: data.imbalanced_digits(4, test_per_class=500), ValueError, "test_per_class"),
        (lambda: data.imbalanced_digits(2.5), TypeError, "n_classes"),
        (lambda: data.rare_multilabel(test_size=1.0), ValueError, "test_size"),
        (lambda: data.segmentation_masks(8, size=8), ValueError, "size"),
        (lambda: data.segmentation_masks(8, n_classes=4), ValueError, "n_classes"),
        (lambda: data.segmentation_masks(8, noise=-1.0), ValueError, "noise"),
    ],
)
def test_bad_arguments_are_named(call, error, argument):
    with pytest.raises(error, match=f"^{argument}: expected"):
        call()
