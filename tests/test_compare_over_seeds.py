"""``booktools.compare_over_seeds``: paired differences over seeds, t intervals, Holm."""

import re
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book"))
from booktools import FragileDigits, compare_over_seeds, holm

SCORES = {
    "none": [0.50, 0.52, 0.48, 0.51, 0.47, 0.55, 0.49, 0.50],
    "weights": [0.60, 0.61, 0.59, 0.62, 0.55, 0.66, 0.58, 0.61],
    "focal": [0.51, 0.51, 0.49, 0.53, 0.46, 0.57, 0.50, 0.493],
}


def _rows(table):
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in table.data.splitlines()[2:]
    ]


def _number(text):
    return float(text.replace("−", "-"))


def test_holm_multiplies_the_kth_smallest_by_m_minus_k_plus_one_and_keeps_the_order():
    p = np.array([0.04, 0.001, 0.03, 0.2])
    adjusted = holm(p)
    np.testing.assert_allclose(adjusted, [0.09, 0.004, 0.09, 0.2])
    assert np.all(adjusted >= p)
    assert holm([0.5, 0.9]).max() <= 1.0


@pytest.mark.parametrize("bad", [[1.5], [-0.1], [[0.1]], [np.nan]])
def test_holm_refuses_what_is_not_a_list_of_probabilities(bad):
    with pytest.raises(ValueError, match="p_values"):
        holm(bad)


def test_the_interval_and_p_are_the_paired_t_tests():
    rows = {row[0]: row for row in _rows(compare_over_seeds(SCORES, SCORES, baseline="none"))}
    p_raw = {}
    for name in ("weights", "focal"):
        test = stats.ttest_rel(SCORES[name], SCORES["none"])
        low, high = test.confidence_interval(0.95)
        interval = [_number(x) for x in rows[name][2].split(" to ")]
        np.testing.assert_allclose(interval, [low, high], atol=0.005)
        p_raw[name] = test.pvalue
    assert rows["weights"][3] == "< 0.01" and rows["weights"][4] == "yes"
    focal_p = holm([p_raw["weights"], p_raw["focal"]])[1]
    assert _number(rows["focal"][3]) == pytest.approx(focal_p, abs=0.005)
    assert rows["focal"][4] == ("yes" if focal_p < 0.05 else "no")


def test_the_header_names_the_baseline_level_and_number_of_tests():
    table = compare_over_seeds(SCORES, SCORES, baseline="none", level=0.9)
    assert table.data.splitlines()[0] == (
        "| remedy | − none | 90 % t interval | p (Holm, 2 tests) | beyond the noise |"
    )


def test_a_verdict_a_twin_could_flip_is_refused():
    # "focal" beats "none" at p just above 0.05; its twin, a hair better, just below
    base = np.array([0.50, 0.52, 0.48, 0.51, 0.47, 0.55, 0.49, 0.50])
    noise = np.array([0.03, -0.02, 0.01, -0.04, 0.02, 0.00, -0.01, 0.035])
    low, high = 0.0, 0.1
    for _ in range(60):  # bisect the shift to p = 0.0501
        shift = (low + high) / 2
        p = stats.ttest_rel(base + shift + noise, base).pvalue
        low, high = (shift, high) if p > 0.0501 else (low, shift)
    scores = {"none": base, "focal": base + shift + noise}
    twin = {"none": base, "focal": base + shift + noise + 0.001}
    assert stats.ttest_rel(twin["focal"], base).pvalue < 0.05
    with pytest.raises(FragileDigits, match="verdict on focal"):
        compare_over_seeds(scores, twin, baseline="none", decimals=1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"baseline": "nothing"}, "baseline: expected one of"),
        ({"baseline": "none", "level": 1.5}, "level: expected a number in"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        compare_over_seeds(SCORES, SCORES, **kwargs)


def test_scores_of_unequal_seeds_or_remedies_are_refused():
    uneven = dict(SCORES, focal=SCORES["focal"][:5])
    with pytest.raises(ValueError, match="one value per seed"):
        compare_over_seeds(uneven, uneven, baseline="none")
    with pytest.raises(ValueError, match="twin_scores: expected the remedies"):
        compare_over_seeds(SCORES, {"none": SCORES["none"]}, baseline="none")
    with pytest.raises(ValueError, match="two or more seeds"):
        one = {k: v[:1] for k, v in SCORES.items()}
        compare_over_seeds(one, one, baseline="none")
    with pytest.raises(ValueError, match="at least one remedy"):
        only = {"none": SCORES["none"]}
        compare_over_seeds(only, only, baseline="none")


def test_a_difference_that_rounds_to_zero_has_no_sign():
    scores = {"none": [0.500, 0.520, 0.480], "tiny": [0.499, 0.519, 0.479]}
    row = _rows(compare_over_seeds(scores, scores, baseline="none"))[0]
    assert row[1] == "0.00"


def test_a_title_heads_the_table_in_the_same_output():
    table = compare_over_seeds(SCORES, SCORES, baseline="none", title="recall of digit 3")
    lines = table.data.splitlines()
    assert lines[0] == "**recall of digit 3**"
    assert lines[1] == ""
    assert lines[2].startswith("| remedy | − none |")
    with pytest.raises(TypeError, match="title: expected a str, got int"):
        compare_over_seeds(SCORES, SCORES, baseline="none", title=3)
