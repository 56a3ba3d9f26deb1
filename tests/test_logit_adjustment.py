"""Logit adjustment (Menon et al., 2021): identities of the loss, the post-hoc correction's sign,
``companion.weights.class_prior``, and what is particular to each framework's version.

Values, gradients and bad inputs of ``logit_adjusted_cross_entropy`` in every framework are
checked against the reference by ``tests/test_conformance.py`` (it is one of ``cases.LOSSES``).
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from companion import reference as R
from companion import weights as W

K = 5


def _case(rng, n=40):
    logits = rng.normal(size=(n, K)) * 3
    labels = rng.integers(0, K, size=n)
    prior = np.sort(rng.uniform(0.01, 1.0, size=K))[::-1] / 3
    return logits, labels, prior


# ----------------------------------------------------------------------------- reference


@pytest.mark.parametrize("reduction", ["none", "sum", "mean", "weighted_mean"])
def test_tau_zero_is_plain_softmax_cross_entropy(rng, reduction):
    logits, labels, prior = _case(rng)
    weight = rng.uniform(0.5, 2.0, size=K)
    adjusted = R.logit_adjusted_cross_entropy(
        logits, labels, class_prior=prior, tau=0.0, class_weight=weight, reduction=reduction
    )
    plain = R.softmax_cross_entropy(logits, labels, class_weight=weight, reduction=reduction)
    np.testing.assert_allclose(adjusted, plain, rtol=1e-14)


def test_loss_is_cross_entropy_of_logits_plus_tau_log_prior(rng):
    logits, labels, prior = _case(rng)
    expected = R.softmax_cross_entropy(
        logits + 0.7 * np.log(prior / prior.sum()), labels, reduction="none"
    )
    got = R.logit_adjusted_cross_entropy(
        logits, labels, class_prior=prior, tau=0.7, reduction="none"
    )
    np.testing.assert_allclose(got, expected, rtol=1e-13)


def test_counts_and_frequencies_give_the_same_loss(rng):
    logits, labels, prior = _case(rng)
    counts = np.round(prior * 1000)
    a = R.logit_adjusted_cross_entropy(logits, labels, class_prior=counts, reduction="none")
    b = R.logit_adjusted_cross_entropy(
        logits, labels, class_prior=counts / counts.sum(), reduction="none"
    )
    np.testing.assert_allclose(a, b, rtol=1e-13)


def test_tau_one_is_the_balanced_softmax_of_ren_et_al(rng):
    # Balanced Softmax: p_y = n_y e^{z_y} / sum_j n_j e^{z_j}, with n the class counts.
    logits, labels, prior = _case(rng)
    counts = np.round(prior * 1000)
    weighted = counts * np.exp(logits - logits.max(axis=1, keepdims=True))
    expected = -np.log(weighted[np.arange(len(labels)), labels] / weighted.sum(axis=1))
    got = R.logit_adjusted_cross_entropy(logits, labels, class_prior=counts, reduction="none")
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_post_hoc_adjustment_subtracts_what_the_loss_adds(rng):
    logits, labels, prior = _case(rng)
    # Training with the adjusted loss on z is plain cross-entropy on z + tau log(prior); the
    # post-hoc adjustment of those logits gives z back (up to a constant per row).
    shifted = logits + 1.3 * np.log(prior / prior.sum())
    np.testing.assert_allclose(R.logit_adjustment(shifted, prior, 1.3), logits, atol=1e-13)
    ce = R.softmax_cross_entropy(logits, labels, reduction="none")
    adjusted = R.logit_adjusted_cross_entropy(
        R.logit_adjustment(logits, prior, 1.3), labels, class_prior=prior, tau=1.3, reduction="none"
    )
    np.testing.assert_allclose(adjusted, ce, rtol=1e-12)


def test_post_hoc_adjustment_moves_predictions_towards_rare_classes(rng):
    logits = np.zeros((1, K))  # no preference: the rarest class wins after adjustment
    prior = np.array([0.5, 0.2, 0.15, 0.1, 0.05])
    assert int(np.argmax(R.logit_adjustment(logits, prior))) == K - 1
    assert R.logit_adjustment(logits, prior).dtype == logits.dtype


def test_post_hoc_adjustment_keeps_the_array_kind_dtype_and_device():
    logits = torch.zeros((2, 3), dtype=torch.float32)
    out = R.logit_adjustment(logits, torch.tensor([0.5, 0.25, 0.25], dtype=torch.float64))
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    np.testing.assert_allclose(out[0].numpy(), -np.log([0.5, 0.25, 0.25]), rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_a_prior_of_1e_30_gives_a_finite_loss_and_gradient(dtype):
    logits = torch.tensor(
        [[1e4, -1e4, 0.0], [0.0, 3.0, -3.0]], dtype=getattr(torch, dtype.__name__)
    )
    logits.requires_grad_(True)
    loss = R.logit_adjusted_cross_entropy(
        logits, torch.tensor([1, 0]), class_prior=[1e-30, 0.5, 0.5], reduction="sum"
    )
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()


def test_validate_false_skips_the_prior_values_but_not_its_shape():
    logits, labels = np.zeros((2, 3)), np.array([0, 1])
    with np.errstate(invalid="ignore"):  # log of a negative prior: NaN, as it comes
        R.logit_adjusted_cross_entropy(logits, labels, class_prior=[-1.0, 1.0, 1.0], validate=False)
    with pytest.raises(ValueError, match=r"^class_prior: expected one positive value per class"):
        R.logit_adjusted_cross_entropy(logits, labels, class_prior=[1.0, 1.0], validate=False)


# ----------------------------------------------------------------------------- class_prior


@pytest.mark.parametrize("shape", [(500,), (20, 5, 5)])
def test_class_prior_is_the_frequency_of_each_class(rng, shape):
    labels = rng.choice(4, size=shape, p=[0.7, 0.2, 0.07, 0.03])
    prior = W.class_prior(labels)
    np.testing.assert_allclose(prior, np.bincount(labels.ravel()) / labels.size, rtol=1e-15)
    assert prior.dtype == np.float64 and prior.sum() == pytest.approx(1.0, abs=1e-15)


def test_class_prior_is_balanced_weights_inverted():
    labels = np.repeat([0, 1, 2], [70, 20, 10])
    np.testing.assert_allclose(W.class_prior(labels), 1 / (3 * W.class_weight(labels)), rtol=1e-14)


def test_class_prior_takes_lists_and_n_classes():
    assert W.class_prior([0, 0, 0, 1], n_classes=2).tolist() == [0.75, 0.25]
    with pytest.raises(ValueError, match=r"^labels: expected every class in \[0, 3\)"):
        W.class_prior([0, 1], n_classes=3)


# ----------------------------------------------------------------------------- PyTorch


def test_torch_equals_cross_entropy_of_adjusted_logits_along_axis_1():
    from companion import torch as ct

    g = torch.Generator().manual_seed(3)
    logits = torch.randn(4, K, 3, 2, generator=g, dtype=torch.float64)
    labels = torch.randint(0, K, (4, 3, 2), generator=g)
    counts = torch.tensor([500.0, 120.0, 40.0, 9.0, 2.0], dtype=torch.float64)
    native = F.cross_entropy(logits + counts.log().reshape(1, K, 1, 1), labels)
    ours = ct.logit_adjusted_cross_entropy(logits, labels, class_prior=counts)
    torch.testing.assert_close(ours, native, rtol=1e-12, atol=1e-14)


def test_torch_module_checks_tau_and_moves_its_prior():
    from companion import torch as ct

    with pytest.raises(ValueError, match=r"^tau: expected"):
        ct.LogitAdjustedCrossEntropy([0.5, 0.5], tau=-1.0)
    module = ct.LogitAdjustedCrossEntropy([0.9, 0.1]).to(torch.float64)
    assert module.class_prior.dtype == torch.float64
    logits, labels = torch.tensor([[2.0, 0.0], [2.0, 0.0]]), torch.tensor([0, 1])
    assert round(float(module(logits, labels)), 4) == 2.1135


# ----------------------------------------------------------------------------- Keras 3


def test_keras_loss_checks_its_prior_when_constructed_and_round_trips_its_config():
    ctf = pytest.importorskip("companion.tensorflow")
    with pytest.raises(ValueError, match=r"^class_prior: expected finite, positive values"):
        ctf.LogitAdjustedCrossEntropy([0.5, 0.0])
    with pytest.raises(ValueError, match=r"^tau: expected"):
        ctf.LogitAdjustedCrossEntropy([0.5, 0.5], tau=float("inf"))
    loss = ctf.LogitAdjustedCrossEntropy(np.array([0.9, 0.1]), tau=0.5)
    again = ctf.LogitAdjustedCrossEntropy.from_config(loss.get_config())
    y_true, y_pred = np.array([[0], [1]]), np.array([[2.0, 0.0], [2.0, 0.0]], np.float32)
    expected = ctf.logit_adjusted_cross_entropy(
        y_pred, np.array([0, 1]), class_prior=[0.9, 0.1], tau=0.5
    )
    np.testing.assert_allclose(again(y_true, y_pred), expected, rtol=1e-6)
    np.testing.assert_allclose(loss(y_true, y_pred), expected, rtol=1e-6)


def test_keras_model_fits_with_the_loss():
    ctf = pytest.importorskip("companion.tensorflow")
    keras = ctf.keras
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
    y = (x[:, 0] > 1.0).astype(np.int64)  # a rare class
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile("sgd", loss=ctf.LogitAdjustedCrossEntropy(W.class_prior(y)))
    history = model.fit(x, y, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
