"""Small deterministic data sets with rare classes, built from what installed packages ship.

Nothing is downloaded: the images are scikit-learn's bundled 8×8 digits, and the segmentation
masks are drawn from a seeded NumPy generator. The same ``seed`` gives the same arrays on every
machine. Every set has a balanced test split, so per-class recall is measured fairly.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from companion._checks import check_number, fail

__all__ = ["Split", "imbalanced_digits", "rare_multilabel", "segmentation_masks"]


@dataclass(frozen=True)
class Split:
    """Training and test arrays. ``y_*`` are integer labels, or 0/1 matrices for multi-label."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    names: tuple[str, ...]


def _check_int(name, value, low):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        fail(TypeError, name, "an integer", type(value).__name__)
    if value < low:
        fail(ValueError, name, f"an integer >= {low}", value)
    return int(value)


def _digits():
    from sklearn.datasets import load_digits  # imported here: scikit-learn is only for the data

    digits = load_digits()
    return (digits.data / 16.0).astype(np.float32), digits.target.astype(np.int64)


def imbalanced_digits(n_classes=4, *, imbalance=0.05, test_per_class=40, seed=0):
    r"""Digits ``0 … n_classes-1`` with a long-tailed training set and a balanced test set.

    Class :math:`c` keeps a fraction :math:`\rho^{c/(k-1)}` of its training images, where
    :math:`\rho` is ``imbalance`` and :math:`k` is ``n_classes``: class 0 keeps all of them and
    the last class keeps a fraction :math:`\rho`. ``test_per_class`` images of each class are
    held out first, so the test set is balanced.

    Args:
      n_classes: number of classes, 2 to 10.
      imbalance: the rarest class's share relative to the most common, in ``(0, 1]``.
      test_per_class: test images per class (each digit has about 180 images).
      seed: seed of the NumPy generator that chooses which images are kept.

    Returns:
      A :class:`Split` with ``x`` of shape ``[n, 64]`` (float32 pixels in ``[0, 1]``) and ``y``
      of shape ``[n]`` (int64).

    Example:
      >>> split = imbalanced_digits(4, imbalance=0.1)
      >>> np.bincount(split.y_train).tolist(), np.bincount(split.y_test).tolist()
      ([138, 66, 30, 14], [40, 40, 40, 40])
    """
    n_classes = _check_int("n_classes", n_classes, 2)
    if n_classes > 10:
        fail(ValueError, "n_classes", "an integer from 2 to 10", n_classes)
    imbalance = check_number("imbalance", imbalance, low=0.0, high=1.0, low_open=True)
    test_per_class = _check_int("test_per_class", test_per_class, 1)
    x, y = _digits()
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in range(n_classes):
        index = rng.permutation(np.flatnonzero(y == c))
        if test_per_class >= index.size:
            fail(
                ValueError,
                "test_per_class",
                f"fewer than the {index.size} images of digit {c}",
                test_per_class,
            )
        test.append(index[:test_per_class])
        rest = index[test_per_class:]
        keep = max(1, round(rest.size * imbalance ** (c / (n_classes - 1))))
        train.append(rest[:keep])
    train, test = np.sort(np.concatenate(train)), np.sort(np.concatenate(test))
    names = tuple(f"digit {c}" for c in range(n_classes))
    return Split(x[train], y[train], x[test], y[test], names)


#: The labels of :func:`rare_multilabel`: each a property of the digit shown.
MULTILABEL_NAMES = ("even", "at least 5", "prime", "zero", "eight")
_MULTILABEL_RULES = (
    lambda d: d % 2 == 0,
    lambda d: d >= 5,
    lambda d: np.isin(d, (2, 3, 5, 7)),
    lambda d: d == 0,
    lambda d: d == 8,
)


def rare_multilabel(*, rare_fraction=0.2, test_size=0.3, seed=0):
    """A multi-label set from the digits: common labels and two rare ones.

    Each image carries the labels of :data:`MULTILABEL_NAMES` that its digit has ("even",
    "at least 5", "prime" are common; "zero" and "eight" are rare). The zeros and eights are
    thinned to ``rare_fraction`` of their number, so those two labels occur in about 2% of the
    images when ``rare_fraction=0.2``, against 40–50% for the common ones.

    Args:
      rare_fraction: share of the zeros and eights kept, in ``(0, 1]``.
      test_size: share of the images held out for testing, in ``(0, 1)``.
      seed: seed of the NumPy generator that thins and splits the images.

    Returns:
      A :class:`Split` with ``x`` of shape ``[n, 64]`` (float32) and ``y`` of shape ``[n, 5]``
      (float32 zeros and ones).

    Example:
      >>> split = rare_multilabel()
      >>> split.y_train.shape, split.names[3:]
      ((1057, 5), ('zero', 'eight'))
    """
    rare_fraction = check_number("rare_fraction", rare_fraction, low=0.0, high=1.0, low_open=True)
    test_size = check_number("test_size", test_size, low=0.0, high=1.0, low_open=True)
    if test_size == 1.0:
        fail(ValueError, "test_size", "a number in (0, 1)", test_size)
    x, digit = _digits()
    rng = np.random.default_rng(seed)
    rare = np.isin(digit, (0, 8))
    keep = ~rare | (rng.random(digit.size) < rare_fraction)
    x, digit = x[keep], digit[keep]
    y = np.stack([rule(digit) for rule in _MULTILABEL_RULES], axis=1).astype(np.float32)
    order = rng.permutation(digit.size)
    n_test = round(digit.size * test_size)
    test, train = np.sort(order[:n_test]), np.sort(order[n_test:])
    return Split(x[train], y[train], x[test], y[test], MULTILABEL_NAMES)


def segmentation_masks(n_images=64, *, size=32, n_classes=2, noise=0.3, seed=0):
    """Noisy grey images with a few small objects, and their integer masks.

    Every image holds one to three small discs (class 1) and, with ``n_classes=3``, one or two
    small squares (class 2), on background (class 0) that covers about 95% of the pixels. Pixel
    values are the object's brightness plus Gaussian noise of standard deviation ``noise``, so a
    model must look at neighbours to segment well.

    Args:
      n_images: number of images (split in half into training and test images).
      size: height and width in pixels, at least 16.
      n_classes: 2 (background, disc) or 3 (background, disc, square).
      noise: standard deviation of the pixel noise, ``>= 0``.
      seed: seed of the NumPy generator.

    Returns:
      A :class:`Split` with ``x`` of shape ``[n, size, size, 1]`` (float32, channels last) and
      ``y`` of shape ``[n, size, size]`` (int64 classes).

    Example:
      >>> split = segmentation_masks(8, size=16)
      >>> split.x_train.shape, split.y_train.shape
      ((4, 16, 16, 1), (4, 16, 16))
    """
    n_images = _check_int("n_images", n_images, 2)
    size = _check_int("size", size, 16)
    n_classes = _check_int("n_classes", n_classes, 2)
    if n_classes > 3:
        fail(ValueError, "n_classes", "2 or 3", n_classes)
    noise = check_number("noise", noise, low=0.0)
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[:size, :size]
    masks = np.zeros((n_images, size, size), dtype=np.int64)
    for mask in masks:
        for _ in range(rng.integers(1, 4)):
            r, c = rng.integers(3, size - 3, size=2)
            radius = rng.uniform(1.0, 2.5)
            mask[(rows - r) ** 2 + (cols - c) ** 2 <= radius**2] = 1
        if n_classes == 3:
            for _ in range(rng.integers(1, 3)):
                r, c = rng.integers(2, size - 4, size=2)
                mask[r : r + 3, c : c + 3] = 2
    brightness = np.array([0.0, 1.0, -1.0], dtype=np.float32)
    images = brightness[masks] + rng.normal(0.0, noise, masks.shape).astype(np.float32)
    images = images[..., None].astype(np.float32)
    half = n_images // 2
    names = ("background", "disc", "square")[:n_classes]
    return Split(images[:half], masks[:half], images[half:], masks[half:], names)
