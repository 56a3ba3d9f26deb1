"""U-Net's weight map (Ronneberger et al. 2015, equation 2): values, defaults and bad input."""

import numpy as np
import pytest
from scipy import ndimage

from companion.data import segmentation_masks
from companion.weights import class_weight, unet_weight_map


def _two_squares(gap):
    mask = np.zeros((20, 20 + gap), dtype=np.int64)
    mask[5:15, 2:8] = 1
    mask[5:15, 8 + gap : 14 + gap] = 1
    return mask


def test_equals_the_formula_pixel_by_pixel(rng):
    mask = (rng.random((12, 15)) < 0.2).astype(np.int64)
    ids, count = ndimage.label(mask)
    assert count >= 2
    distances = np.stack([ndimage.distance_transform_edt(ids != k) for k in range(1, count + 1)])
    d = np.sort(distances, axis=0)
    w_c = class_weight(mask)
    gap = 10.0 * np.exp(-((d[0] + d[1]) ** 2) / (2 * 5.0**2))
    np.testing.assert_allclose(unet_weight_map(mask), w_c[mask] + gap * (ids == 0), rtol=1e-12)
    np.testing.assert_allclose(unet_weight_map(mask, gap_on="all"), w_c[mask] + gap, rtol=1e-12)


def test_the_gap_term_is_on_background_pixels_by_default_and_everywhere_with_all():
    mask = _two_squares(1)
    term = unet_weight_map(mask, class_weight=[0.0, 0.0])
    term_all = unet_weight_map(mask, class_weight=[0.0, 0.0], gap_on="all")
    np.testing.assert_array_equal(term[mask == 1], 0.0)  # no gap term inside the squares
    np.testing.assert_array_equal(term[mask == 0], term_all[mask == 0])
    np.testing.assert_array_equal(unet_weight_map(mask, gap_on="background"), unet_weight_map(mask))
    # An edge pixel beside the gap: d1 = 0 (inside its square), d2 = 2 across the gap.
    assert mask[10, 7] == 1
    assert term_all[10, 7] == pytest.approx(10.0 * np.exp(-4.0 / 50.0), rel=1e-12)
    assert term_all[mask == 1].min() > 0.0


def test_defaults_are_the_papers_w0_10_and_sigma_5():
    mask = _two_squares(1)
    np.testing.assert_allclose(
        unet_weight_map(mask), unet_weight_map(mask, w0=10.0, sigma=5.0), rtol=0
    )
    # In a one-pixel gap d1 = d2 = 1, so the term is w0 exp(-4 / (2 sigma^2)).
    gap = unet_weight_map(mask, class_weight=[0.0, 0.0])[10, 8]
    assert gap == pytest.approx(10.0 * np.exp(-4.0 / 50.0), rel=1e-12)


def test_the_gap_term_is_largest_between_close_objects_and_fades_with_the_gap():
    narrow = unet_weight_map(_two_squares(1), class_weight=[1.0, 1.0])
    wide = unet_weight_map(_two_squares(6), class_weight=[1.0, 1.0])
    assert narrow[10, 8] > wide[10, 10] > 1.0
    assert narrow.max() == narrow[10, 8]  # the gap, and the edge pixels beside it


def test_one_object_or_none_gets_only_the_class_term():
    mask = np.zeros((10, 10), dtype=np.int64)
    np.testing.assert_array_equal(unet_weight_map(mask, class_weight=[2.0]), 2.0)
    mask[3:6, 3:6] = 1
    np.testing.assert_allclose(unet_weight_map(mask), class_weight(mask)[mask])


def test_batch_is_computed_image_by_image_with_one_class_term():
    masks = segmentation_masks(6, size=16, seed=1).y_train
    batch = unet_weight_map(masks, class_weight=[1.0, 4.0])
    for n, mask in enumerate(masks):
        np.testing.assert_allclose(batch[n], unet_weight_map(mask, class_weight=[1.0, 4.0]))
    default = unet_weight_map(masks) - unet_weight_map(masks, class_weight=[0.0, 0.0])
    np.testing.assert_allclose(default, class_weight(masks)[masks], rtol=1e-12)


def test_instances_separate_objects_that_touch():
    mask = np.zeros((8, 12), dtype=np.int64)
    mask[2:6, 2:10] = 1  # one component to the labels
    instances = np.zeros_like(mask)
    instances[2:6, 2:6], instances[2:6, 6:10] = 1, 2  # two touching objects
    merged = unet_weight_map(mask, class_weight=[1.0, 1.0], gap_on="all")
    split = unet_weight_map(mask, class_weight=[1.0, 1.0], instances=instances, gap_on="all")
    np.testing.assert_array_equal(merged, 1.0)
    assert split[3, 5] == pytest.approx(1.0 + 10.0 * np.exp(-1.0 / 50.0))
    # Where the cells touch there is no background pixel: the default adds nothing there,
    # only on the background around the two cells.
    default = unet_weight_map(mask, class_weight=[1.0, 1.0], instances=instances)
    np.testing.assert_array_equal(default[instances > 0], 1.0)
    assert default[1, 5] > 1.0


def test_instances_decide_which_pixels_are_background():
    mask = np.zeros((5, 12), dtype=np.int64)
    mask[1:4, 1:5], mask[1:4, 7:11] = 1, 1
    instances = np.zeros_like(mask)
    instances[1:4, 1:5], instances[1:4, 7:11] = 1, 2
    instances[2, 2] = 0  # a pixel of class 1 that belongs to no instance
    weight = unet_weight_map(mask, class_weight=[1.0, 1.0], instances=instances)
    assert weight[2, 2] > 1.0 and weight[2, 3] == 1.0


def test_dict_class_weight_and_other_background():
    mask = np.array([[2, 2, 0, 2, 2]])
    by_dict = unet_weight_map(mask, class_weight={2: 3.0}, background=0, w0=0.0)
    np.testing.assert_array_equal(by_dict, [[3.0, 3.0, 1.0, 3.0, 3.0]])
    inverted = unet_weight_map(mask, class_weight=[1.0, 1.0, 1.0], background=2, sigma=1.0)
    np.testing.assert_array_equal(inverted, 1.0)  # one object: the pixel of class 0


@pytest.mark.parametrize(
    ("kwargs", "error", "argument"),
    [
        ({"labels": np.zeros(5, dtype=int)}, ValueError, "labels"),
        ({"labels": np.zeros((2, 2, 2, 2), dtype=int)}, ValueError, "labels"),
        ({"labels": np.full((3, 3), 0.5)}, TypeError, "labels"),
        ({"labels": -np.ones((3, 3), dtype=int)}, ValueError, "labels"),
        ({"labels": np.zeros((0, 3), dtype=int)}, ValueError, "labels"),
        ({"w0": -1.0}, ValueError, "w0"),
        ({"w0": float("inf")}, ValueError, "w0"),
        ({"sigma": 0.0}, ValueError, "sigma"),
        ({"sigma": "5"}, TypeError, "sigma"),
        ({"class_weight": [1.0, -1.0]}, ValueError, "class_weight"),
        ({"class_weight": [[1.0, 1.0]]}, ValueError, "class_weight"),
        ({"class_weight": [1.0]}, ValueError, "labels"),
        ({"instances": np.zeros((3, 4), dtype=int)}, ValueError, "instances"),
        ({"instances": np.full((3, 3), 0.5)}, TypeError, "instances"),
        ({"background": 0.0}, TypeError, "background"),
        ({"gap_on": "objects"}, ValueError, "gap_on"),
        ({"gap_on": "Background"}, ValueError, "gap_on"),
        ({"gap_on": None}, TypeError, "gap_on"),
        ({"gap_on": True}, TypeError, "gap_on"),
    ],
)
def test_bad_input_names_the_argument(kwargs, error, argument):
    arguments = {"labels": np.eye(3, dtype=int)} | kwargs
    labels = arguments.pop("labels")
    with pytest.raises(error, match=rf"^{argument}: expected"):
        unet_weight_map(labels, **arguments)


@pytest.mark.parametrize(
    ("gap_on", "error", "got"),
    [("objects", ValueError, "'objects'"), (1, TypeError, "int"), (None, TypeError, "NoneType")],
)
def test_gap_on_message_says_what_was_expected_and_what_came(gap_on, error, got):
    with pytest.raises(error) as raised:
        unet_weight_map(np.eye(3, dtype=int), gap_on=gap_on)
    assert str(raised.value) == f"gap_on: expected one of ('background', 'all'), got {got}"
