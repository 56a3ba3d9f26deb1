"""What soft precision and soft F1 do: the losses of a whole batch, one value per column.

Values and gradients against the reference in every framework, and the shared bad inputs, are
checked by ``tests/test_conformance.py``. Here: small values worked out by hand, soft F1 as the
soft Dice of the batch, what the empty prediction does to each loss, finiteness at saturated
logits in float32 and float16, and the wrappers (``nn.Module`` and Keras ``Loss``).
``companion.torch``'s ``process_group`` under a real ``torch.distributed`` is checked with every
other loss in ``tests/test_distributed.py``.
"""

import importlib

import numpy as np
import pytest
import torch
from cases import HALF_DTYPES
from scipy.special import expit, logit

from companion import reference
from companion import torch as losses

NAMES = ("soft_precision_loss", "soft_f1_loss")
FRAMEWORKS = ("reference", "torch", "tensorflow", "chainer", "theano")


def evaluate(framework, name, args, kwargs, *, reduction="mean", dtype="float64", grad=True):
    """The loss and d(sum of loss)/d(logits) as float64 NumPy arrays, in any implementation.

    The frameworks go through their conformance adapters (``tests/adapter_<framework>.py``);
    the reference runs on PyTorch tensors, for autograd.
    """
    if framework != "reference":
        adapter = importlib.import_module(f"adapter_{framework}")
        return adapter.evaluate(name, args, kwargs, reduction=reduction, dtype=dtype, grad=grad)
    first = torch.tensor(args[0], dtype=getattr(torch, dtype), requires_grad=True)
    rest = [torch.as_tensor(a) for a in args[1:]]
    loss = getattr(reference, name)(first, *rest, **kwargs, reduction=reduction)
    loss.sum().backward()
    return loss.detach().double().numpy(), first.grad.double().numpy()


# ----------------------------------------------------------------------------- values by hand

# p = (0.8, 0.5, 0.2, 0.1), t = (1, 0, 1, 0), smooth 1:
#   TP = 0.8 + 0.2 = 1.0, PP = 1.6, AP = 2
#   soft precision 1 - (1 + 1) / (1.6 + 1) = 3/13, soft F1 1 - (2 + 1) / (1.6 + 2 + 1) = 8/23
# with sample_weight (2, 1, 1, 0): TP = 1.8, PP = 2.3, AP = 3
#   soft precision 1 - 2.8 / 3.3 = 5/33, soft F1 1 - 4.6 / 6.3 = 17/63
P = np.array([0.8, 0.5, 0.2, 0.1])
T = np.array([1.0, 0.0, 1.0, 0.0])
W = np.array([2.0, 1.0, 1.0, 0.0])
BY_HAND = {
    "soft_precision_loss": {"plain": 3 / 13, "weighted": 5 / 33},
    "soft_f1_loss": {"plain": 8 / 23, "weighted": 17 / 63},
}


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("name", NAMES)
def test_values_worked_out_by_hand(framework, name):
    z = logit(P)
    plain, _ = evaluate(framework, name, (z, T), {}, grad=False)
    weighted, _ = evaluate(framework, name, (z, T), {"sample_weight": W}, grad=False)
    assert plain.shape == () and weighted.shape == ()
    np.testing.assert_allclose(plain, BY_HAND[name]["plain"], rtol=1e-12)
    np.testing.assert_allclose(weighted, BY_HAND[name]["weighted"], rtol=1e-12)
    # Two columns: the one above, and its targets flipped, smooth 0.5 (per column, "none").
    #   flipped: TP = 0.5 + 0.1 = 0.6, PP = 1.6, AP = 2
    #   soft precision 1 - 1.1 / 2.1 = 10/21, soft F1 1 - 1.7 / 4.1 = 24/41
    #   first column, smooth 0.5: soft precision 1 - 1.5 / 2.1 = 2/7, soft F1 1 - 2.5 / 4.1 = 16/41
    z2, t2 = np.stack([z, z], axis=1), np.stack([T, 1 - T], axis=1)
    expected = {"soft_precision_loss": [2 / 7, 10 / 21], "soft_f1_loss": [16 / 41, 24 / 41]}[name]
    kwargs = {"smooth": 0.5}
    per_column, _ = evaluate(framework, name, (z2, t2), kwargs, reduction="none", grad=False)
    np.testing.assert_allclose(per_column, expected, rtol=1e-12)
    total, _ = evaluate(framework, name, (z2, t2), kwargs, reduction="sum", grad=False)
    mean, _ = evaluate(framework, name, (z2, t2), kwargs, reduction="mean", grad=False)
    np.testing.assert_allclose([total, mean], [sum(expected), sum(expected) / 2], rtol=1e-12)


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("name", NAMES)
def test_weighted_mean_is_refused_naming_the_reductions_it_takes(framework, name):
    with pytest.raises(ValueError) as caught:
        evaluate(framework, name, (logit(P), T), {}, reduction="weighted_mean", grad=False)
    message = str(caught.value)
    assert message.startswith("reduction: expected one of ('none', 'sum', 'mean')"), message
    assert message.endswith("got 'weighted_mean'"), message


# ----------------------------------------------------------------------------- identities


@pytest.mark.parametrize("smooth", [1e-3, 1.0, 7.5])
def test_soft_f1_of_the_batch_is_the_dice_loss_of_the_batch_seen_as_one_sample(rng, smooth):
    z = rng.normal(size=(9, 4)) * 3
    t = (rng.random((9, 4)) < 0.3).astype(float)
    t[:, 0] = rng.random(9)  # probabilities as targets too
    # One column: the batch is one sample of dice_loss ([1, batch]).
    f1 = reference.soft_f1_loss(z[:, 1], t[:, 1], smooth=smooth)
    dice = reference.dice_loss(expit(z[:, 1])[None], t[:, 1][None], smooth=smooth)
    np.testing.assert_allclose(f1, dice, rtol=1e-13)
    # Every column: the transposed batch is one dice sample per column.
    f1 = reference.soft_f1_loss(z, t, smooth=smooth, reduction="none")
    dice = reference.dice_loss(expit(z).T, t.T, smooth=smooth, reduction="none")
    np.testing.assert_allclose(f1, dice, rtol=1e-13)


@pytest.mark.parametrize("name", NAMES)
def test_an_integer_sample_weight_counts_a_sample_that_many_times(rng, name):
    z, t = rng.normal(size=(6, 3)) * 2, (rng.random((6, 3)) < 0.4).astype(float)
    weight = np.array([0, 1, 2, 3, 1, 1])
    weighted = getattr(reference, name)(z, t, sample_weight=weight, reduction="none")
    repeated = getattr(reference, name)(
        np.repeat(z, weight, axis=0), np.repeat(t, weight, axis=0), reduction="none"
    )
    np.testing.assert_allclose(weighted, repeated, rtol=1e-13)


@pytest.mark.parametrize("name", NAMES)
def test_the_loss_of_a_batch_is_not_the_mean_of_the_losses_of_its_halves(name):
    # Non-decomposable: one half holds every positive, the other none.
    z, t = np.array([2.0, 1.0, -1.0, 0.5]), np.array([1.0, 1.0, 0.0, 0.0])
    loss = getattr(reference, name)
    whole = float(loss(z, t, smooth=1e-3))
    halves = (float(loss(z[:2], t[:2], smooth=1e-3)) + float(loss(z[2:], t[2:], smooth=1e-3))) / 2
    assert abs(whole - halves) > 0.1, (whole, halves)


# ----------------------------------------------------------------------------- the empty prediction


def test_the_empty_prediction_minimises_soft_precision_but_not_soft_f1():
    # Predicting nothing positive: TP and PP vanish, and soft precision is (PP - TP)/(PP + s),
    # which goes to its minimum 0 with the logits; so does a single confident true positive.
    # Soft F1 is AP / (AP + s) there, close to 1: it does not reward predicting nothing.
    t = np.zeros(50)
    t[:5] = 1.0
    nothing = np.full(50, -30.0)
    assert float(reference.soft_precision_loss(nothing, t)) < 1e-10
    assert (
        float(reference.soft_precision_loss(np.where(np.arange(50) == 0, 30.0, -30.0), t)) < 1e-10
    )
    np.testing.assert_allclose(float(reference.soft_f1_loss(nothing, t)), 5 / 6, rtol=1e-10)
    # There the gradient vanishes too (a flat minimum: p(1 - p) is e^-30).
    _, grad = evaluate("reference", "soft_precision_loss", (nothing, t), {})
    assert np.abs(grad).max() < 1e-12


@pytest.mark.parametrize("name", NAMES)
def test_gradient_descent_from_neutral_logits_does_not_collapse_to_the_empty_prediction(name):
    # From p = 1/2 everywhere, the gradient of soft precision raises every positive
    # (d/dp_i = -FP / (PP + s)^2 < 0 for t_i = 1) and lowers every negative
    # (d/dp_i = (TP + s) / (PP + s)^2 > 0 for t_i = 0): free logits separate the classes
    # instead of predicting nothing.
    g = torch.Generator().manual_seed(0)
    t = (torch.rand(200, generator=g) < 0.1).double()
    z = torch.zeros(200, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([z], lr=50.0)
    for _ in range(1000):
        optimizer.zero_grad()
        loss = getattr(losses, name)(z, t)
        loss.backward()
        optimizer.step()
    p = torch.sigmoid(z.detach())
    assert float(loss.detach()) < 0.01
    assert float(p[t == 1].min()) > 0.9 and float(p[t == 0].max()) < 0.01


# ----------------------------------------------------------------------------- saturation


def _half_dtypes(framework):
    if framework == "reference":
        return HALF_DTYPES
    return getattr(importlib.import_module(f"adapter_{framework}"), "HALF_DTYPES", HALF_DTYPES)


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("name", NAMES)
def test_logits_of_1e4_give_the_saturated_value_and_a_finite_gradient(framework, name, dtype):
    if dtype not in ("float32", *_half_dtypes(framework)):
        pytest.skip(f"no {dtype} in {framework}")
    rng = np.random.default_rng(4)
    t = (rng.random((8, 3)) < 0.4).astype(float)
    z = np.where(rng.random((8, 3)) < 0.5, 1e4, -1e4)  # 1e4 is a float16 too (max 65504)
    for reduction in ("none", "sum", "mean"):
        loss, grad = evaluate(
            framework, name, (z, t), {"smooth": 0.5}, reduction=reduction, dtype=dtype
        )
        assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad)), (loss, grad)
        # p is exactly 0 or 1 there.
        saturated = (z > 0) * 80.0 - 40.0
        expected = getattr(reference, name)(saturated, t, smooth=0.5, reduction=reduction)
        np.testing.assert_allclose(loss, expected, rtol=4e-3, atol=1e-6)


# ----------------------------------------------------------------------------- torch wrappers


@pytest.mark.parametrize(
    ("name", "module"),
    [(n, m) for n, m in zip(NAMES, ("SoftPrecisionLoss", "SoftF1Loss"), strict=True)],
)
def test_torch_module_equals_its_function(rng, name, module):
    z = torch.tensor(rng.normal(size=(7, 3)), requires_grad=True)
    t = torch.tensor((rng.random((7, 3)) < 0.3).astype(float))
    w = torch.tensor(rng.uniform(0, 2, size=7))
    wrapper = getattr(losses, module)(smooth=0.25, reduction="none")
    got = wrapper(z, t, sample_weight=w)
    expected = getattr(losses, name)(z, t, sample_weight=w, smooth=0.25, reduction="none")
    torch.testing.assert_close(got, expected, rtol=0, atol=0)
    assert "smooth=0.25" in repr(wrapper)
    with pytest.raises(ValueError, match=r"^reduction: expected one of \('none', 'sum', 'mean'\)"):
        getattr(losses, module)(reduction="weighted_mean")
    with pytest.raises(ValueError, match=r"^smooth: expected"):
        getattr(losses, module)(smooth=0)


@pytest.mark.parametrize("name", NAMES)
def test_torch_process_group_needs_an_initialised_torch_distributed(name):
    # A group of the wrong type under a running group: tests/test_distributed.py.
    z, t = torch.zeros(3), torch.ones(3)
    with pytest.raises(ValueError, match=r"^process_group: expected None, or a group once"):
        getattr(losses, name)(z, t, process_group="world")


# ----------------------------------------------------------------------------- Keras classes


@pytest.mark.parametrize(
    ("name", "cls"),
    [(n, c) for n, c in zip(NAMES, ("SoftPrecisionLoss", "SoftF1Loss"), strict=True)],
)
def test_keras_loss_passes_sample_weight_into_the_counts(rng, name, cls):
    ctf = importlib.import_module("companion.tensorflow")
    tf, keras = ctf.tf, ctf.keras
    z = rng.normal(size=(7, 3))
    t = (rng.random((7, 3)) < 0.3).astype(float)
    w = rng.uniform(0, 2, size=7)
    f = getattr(reference, name)
    for reduction, expected in (
        ("sum_over_batch_size", f(z, t, sample_weight=w, smooth=0.5)),
        ("sum", f(z, t, sample_weight=w, smooth=0.5, reduction="sum")),
        (None, f(z, t, sample_weight=w, smooth=0.5, reduction="none")),
    ):
        loss = getattr(ctf, cls)(smooth=0.5, reduction=reduction, dtype="float64")
        got = loss(tf.constant(t), tf.constant(z), sample_weight=tf.constant(w))
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    loss = getattr(ctf, cls)(smooth=0.5, dtype="float64")
    again = keras.losses.deserialize(keras.losses.serialize(loss))
    assert type(again) is type(loss) and again.smooth == 0.5
    with pytest.raises(ValueError, match=r"^smooth: expected"):
        getattr(ctf, cls)(smooth=-1.0)


def test_keras_fit_trains_on_the_weighted_loss_of_the_batch(rng):
    ctf = importlib.import_module("companion.tensorflow")
    keras = ctf.keras
    keras.utils.set_random_seed(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    t = (rng.random((32, 3)) < 0.3).astype("float32")
    w = rng.uniform(0, 2, size=32).astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=ctf.SoftF1Loss(smooth=0.5))
    before = reference.soft_f1_loss(model.predict(x, verbose=0), t, sample_weight=w, smooth=0.5)
    history = model.fit(x, t, sample_weight=w, batch_size=32, epochs=2, verbose=0)
    # One batch per epoch: the first loss Keras reports is that of the weights before the step.
    np.testing.assert_allclose(history.history["loss"][0], before, rtol=1e-5)
    assert history.history["loss"][1] < history.history["loss"][0]
