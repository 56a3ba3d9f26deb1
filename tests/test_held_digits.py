"""The book's check on digits printed from training (``booktools.held``).

A number that comes out of training is printed only where a twin run, nudged by one rounding
unit after every step, agrees with it far from a rounding boundary. These tests pin the check
itself, and that it refuses what broke a fresh clone on another CPU: the precision chapter's
old table of two-decimal spreads from float32 training, while the same training in float64
holds those digits.
"""

import sys
from functools import partial
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book"))
import booktools
from booktools import FragileDigits, Held, held, held_spread, nudge


@pytest.fixture(params=["store", "test"])
def margin(request, monkeypatch):
    if request.param == "store":
        monkeypatch.setenv("BOOK_STORE_OUTPUTS", "1")
        return booktools.STORE_MARGIN
    monkeypatch.delenv("BOOK_STORE_OUTPUTS", raising=False)
    return booktools.TEST_MARGIN


def test_a_digit_far_from_a_boundary_prints_as_format_would(margin):
    assert f"{Held(0.8571, 0.8572):.2f}" == "0.86"
    assert f"{Held(0.8571, 0.8572):.1%}" == "85.7%"
    assert f"{Held(26.0, 26.0):d}" == "26"
    assert f"{Held(-3.24, -3.24):.1f}" == "-3.2"  # identical twins


def test_a_twin_across_the_boundary_is_refused(margin):
    with pytest.raises(FragileDigits, match="2 decimals"):
        f"{Held(0.0651, 0.0649):.2f}"


def test_the_margin_is_wider_when_outputs_are_stored(margin):
    # 0.0004 from the boundary 0.0655, twins 0.0002 apart: clears 1x, not 3x.
    value = Held(0.0651, 0.0653)
    if margin > 2:
        with pytest.raises(FragileDigits):
            f"{value:.3f}"
    else:
        assert f"{value:.3f}" == "0.065"


def test_a_value_on_a_boundary_is_refused_even_with_identical_twins():
    with pytest.raises(FragileDigits, match="lies 0 from"):
        f"{Held(0.125, 0.125):.2f}"


def test_a_non_finite_value_is_refused():
    with pytest.raises(FragileDigits, match="not a finite number"):
        f"{Held(float('nan'), 0.0):.2f}"


@pytest.mark.parametrize("spec", ["", ".3g", "e", ".2e", "s"])
def test_a_format_without_fixed_decimals_is_an_error(spec):
    with pytest.raises(ValueError, match="fixed-point"):
        format(Held(0.5, 0.5), spec)


def test_a_held_number_has_no_str():
    with pytest.raises(TypeError, match="precision"):
        str(Held(0.5, 0.5))


def test_held_needs_a_twin_and_matching_structures():
    with pytest.raises(TypeError, match="twins"):
        held(0.5)
    with pytest.raises(TypeError, match="twins"):
        Held(0.5)
    with pytest.raises(ValueError, match="shape"):
        held([0.1, 0.2], [0.1])
    with pytest.raises(ValueError, match="keys"):
        held({"a": 1.0}, {"b": 1.0})


def test_held_keeps_the_structure_of_lists_and_dicts():
    out = held({"recall": [0.5, 0.75]}, {"recall": [0.5, 0.7501]})
    assert [f"{h:.2f}" for h in out["recall"]] == ["0.50", "0.75"]


def test_held_spread_checks_mean_and_standard_deviation():
    assert held_spread([0.8, 0.9, 0.7], [0.8, 0.9, 0.7], decimals=1) == "0.8\u00a0±\u00a00.1"
    # the mean holds at two decimals, the sd (0.0650 against 0.0649) does not
    with pytest.raises(FragileDigits):
        held_spread([0.935, 0.805], [0.9349, 0.8051], decimals=2)
    with pytest.raises(ValueError, match="one number per seed"):
        held_spread([0.5], [0.5])


def test_nudge_moves_each_number_by_one_rounding_unit_of_its_dtype():
    for dtype in (np.float32, np.float64):
        x = np.array([1.0, -3.0, 1e-3, 0.0], dtype=dtype)
        up = nudge(x)
        assert up.dtype == dtype
        np.testing.assert_array_equal(up, x + np.spacing(np.abs(x)))
        both = nudge(x, seed=1)
        assert np.all(np.abs(both - x) == np.spacing(np.abs(x)))
        np.testing.assert_array_equal(both, nudge(x, seed=1))  # seeded: repeatable
    assert nudge(1.0) == np.nextafter(1.0, 2.0)
    with pytest.raises(TypeError, match="floating-point"):
        nudge(np.arange(3))
    with pytest.raises(TypeError, match="got str"):
        nudge("weights")


def test_nudge_changes_a_torch_module_in_place():
    torch = pytest.importorskip("torch")
    net = torch.nn.Linear(3, 2).double()
    before = [p.detach().clone() for p in net.parameters()]
    assert nudge(net, seed=0) is net
    for old, new in zip(before, net.parameters(), strict=True):
        difference = (new.detach() - old).abs().numpy()
        np.testing.assert_array_equal(difference, np.spacing(np.abs(old.numpy())))


# The precision chapter's comparison as it stood when a fresh clone failed on an AMD EPYC:
# a 64-16-1 ReLU network, full batch, 400 Adam steps at 0.03, five seeds, plain and weighted
# BCE, thresholds at 0.5 and for precision 0.9 on validation; a table of mean ± sd.


def _train(x, y, loss_of, seed, dtype, twin):
    import torch

    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(64, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1)).to(
        dtype
    )
    optimizer = torch.optim.Adam(net.parameters(), lr=0.03)
    features = torch.from_numpy(x).to(dtype)
    targets = torch.from_numpy(y).to(dtype)[:, None]
    for step in range(400):
        optimizer.zero_grad()
        loss_of(net(features), targets).backward()
        optimizer.step()
        if twin:
            nudge(net, seed=step)
    return net


def _precision_table(dtype, twin):
    import torch
    from scipy.special import expit
    from sklearn.metrics import f1_score, precision_recall_curve, precision_score, recall_score
    from sklearn.model_selection import train_test_split

    from companion.data import rare_multilabel
    from companion.torch import sigmoid_cross_entropy
    from companion.weights import pos_weight

    torch.set_num_threads(1)
    rows = {}
    for seed in range(5):
        data = rare_multilabel(rare_fraction=0.5, test_size=0.4, seed=seed)
        y_all, y_true = data.y_train[:, 4], data.y_test[:, 4]
        x_a, x_v, y_a, y_v = train_test_split(
            data.x_train, y_all, test_size=0.3, stratify=y_all, random_state=seed
        )
        weight = torch.tensor(pos_weight(y_a[:, None])).to(dtype)
        for name, loss_of in {
            "BCE": sigmoid_cross_entropy,
            "weighted BCE": partial(sigmoid_cross_entropy, pos_weight=weight),
        }.items():
            net = _train(x_a, y_a, loss_of, seed, dtype, twin)
            with torch.no_grad():
                p_t = expit(net(torch.from_numpy(data.x_test).to(dtype))[:, 0].double().numpy())
                p_v = expit(net(torch.from_numpy(x_v).to(dtype))[:, 0].double().numpy())
            precision, _, thresholds = precision_recall_curve(y_v, p_v)
            reaching = np.flatnonzero(precision[:-1] >= 0.9)
            tuned = thresholds[reaching[0]] if reaching.size else thresholds[-1]
            for rule, cut in (("0.5", 0.5), ("precision 0.9", tuned)):
                called = p_t >= cut
                metrics = rows.setdefault(f"{name}, {rule}", {})
                for key, value in (
                    ("precision", precision_score(y_true, called, zero_division=0)),
                    ("recall", recall_score(y_true, called)),
                    ("F1", f1_score(y_true, called)),
                ):
                    metrics.setdefault(key, []).append(value)
    return rows


def _print_table(rows, twin_rows):
    return [
        held_spread(rows[rule][key], twin_rows[rule][key], decimals=2)
        for rule in rows
        for key in rows[rule]
    ]


@pytest.fixture(scope="module")
def float32_tables():
    pytest.importorskip("torch")
    import torch

    return _precision_table(torch.float32, False), _precision_table(torch.float32, True)


def test_the_old_float32_table_of_two_decimal_spreads_is_refused(float32_tables, monkeypatch):
    monkeypatch.delenv("BOOK_STORE_OUTPUTS", raising=False)  # the lenient margin of a test run
    with pytest.raises(FragileDigits):
        _print_table(*float32_tables)


def test_the_same_training_in_float64_holds_its_two_decimals(monkeypatch):
    pytest.importorskip("torch")
    import torch

    monkeypatch.setenv("BOOK_STORE_OUTPUTS", "1")  # the strict margin of stored outputs
    table = _print_table(
        _precision_table(torch.float64, False), _precision_table(torch.float64, True)
    )
    assert len(table) == 12 and all("±" in cell for cell in table)


def test_float64_twins_differ_nine_orders_of_magnitude_less_than_float32_twins():
    pytest.importorskip("torch")
    import torch

    from companion.data import rare_multilabel
    from companion.torch import sigmoid_cross_entropy

    torch.set_num_threads(1)
    data = rare_multilabel(rare_fraction=0.5, test_size=0.4, seed=0)
    apart = {}
    for dtype in (torch.float32, torch.float64):
        logits = []
        for twin in (False, True):
            net = _train(data.x_train, data.y_train[:, 4], sigmoid_cross_entropy, 0, dtype, twin)
            with torch.no_grad():
                logits.append(net(torch.from_numpy(data.x_test).to(dtype)).double().numpy())
        apart[dtype] = np.abs(logits[0] - logits[1]).max()
    assert apart[torch.float64] < 1e-11  # 3e-14 here, on logits up to about 50
    assert apart[torch.float32] > 1e6 * apart[torch.float64]  # 2e-5 here
