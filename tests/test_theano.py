"""Theano-PyMC losses: gradients by ``T.grad``, the switch pitfall, checks at graph-building time,
training with ``updates``, and an import that needs nothing from the user and says nothing.

The conformance harness (``test_conformance.py``, through ``adapter_theano.py``) already compares
every loss, reduction and dtype with the reference; these tests pin what is particular to Theano.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from bad_inputs import CASES, IDS
from cases import LABEL_SHAPES, LOSSES, make_case, reductions_of

import companion.theano as ct
from companion import reference

theano, T = ct.theano, ct.T
ROOT = Path(__file__).resolve().parents[1]
DELTA = 0.7


def compile_loss_and_grad(loss_fn, first, *rest, mode="FAST_RUN", **kwargs):
    """A compiled function of the first argument returning the loss and d(sum of loss)/d(first)."""
    loss = loss_fn(first, *rest, **kwargs)
    return theano.function([first], [loss, T.grad(loss.sum(), first)], mode=mode)


def reference_grad(name, args, kwargs, reduction):
    """d(sum of the reference loss)/d(first argument), by PyTorch autograd in float64."""
    first = torch.tensor(args[0], requires_grad=True)
    rest = [torch.as_tensor(a) for a in args[1:]]
    getattr(reference, name)(first, *rest, **kwargs, reduction=reduction).sum().backward()
    return first.grad.numpy()


# ----------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("name", LOSSES)
def test_t_grad_of_each_loss_equals_the_reference_gradient(name):
    args, kwargs = make_case(name, np.random.default_rng(11), LABEL_SHAPES["rank3"])
    first = T.TensorType("float64", (False,) * args[0].ndim)("first")
    reduction = reductions_of(name, ("weighted_mean", "mean"))[0]
    compiled = compile_loss_and_grad(
        getattr(ct, name), first, *args[1:], **kwargs, reduction=reduction
    )
    _, grad = compiled(args[0])
    expected = reference_grad(name, args, kwargs, reduction)
    np.testing.assert_allclose(grad, expected, rtol=1e-10, atol=1e-12)


def test_huber_t_grad_is_exactly_the_reference_huber_grad():
    rng = np.random.default_rng(5)
    target = rng.normal(size=200)
    residual = np.concatenate([rng.normal(size=194) * 2, [DELTA, -DELTA, 0.0, 1e6, -1e6, 1e-300]])
    prediction = residual + target
    x = T.dvector("prediction")
    _, grad = compile_loss_and_grad(ct.huber_loss, x, target, delta=DELTA, reduction="sum")(
        prediction
    )
    np.testing.assert_array_equal(grad, reference.huber_grad(prediction, target, delta=DELTA))


def test_huber_gradient_is_continuous_at_delta():
    x = T.dvector("prediction")
    compiled = compile_loss_and_grad(ct.huber_loss, x, np.zeros(6), delta=DELTA, reduction="none")
    below, above = np.nextafter(DELTA, 0.0), np.nextafter(DELTA, 1.0)
    _, grad = compiled(np.array([below, DELTA, above, -below, -DELTA, -above]))
    np.testing.assert_allclose(grad, [DELTA] * 3 + [-DELTA] * 3, rtol=0, atol=1e-15)


# ----------------------------------------------------------------------------- the switch pitfall
# T.grad of T.switch(c, a, b) sends zero to the branch that is not taken, and the chain rule then
# multiplies that zero by the branch's own derivative. Where that derivative is infinite or NaN
# (sqrt or log at or below 0), 0 * inf is NaN. FAST_RUN rewrites mul(switch(c, g, 0), x) into
# switch(c, g * x, 0) and so hides the simplest cases, but not a branch that feeds two switches,
# and FAST_COMPILE (what one debugs with) does no such rewrite.

RESIDUALS = np.array([-2.0, -DELTA, -0.3, 0.0, 0.3, DELTA, 2.0])


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_naive_huber_switch_has_the_right_gradient_because_both_branches_are_finite(mode):
    d = T.dvector("d")
    naive = T.switch(abs(d) <= DELTA, 0.5 * d**2, DELTA * (abs(d) - 0.5 * DELTA))
    grad = theano.function([d], T.grad(naive.sum(), d), mode=mode)(RESIDUALS)
    np.testing.assert_array_equal(grad, np.clip(RESIDUALS, -DELTA, DELTA))


def test_switch_with_a_non_finite_unused_branch_gives_a_nan_gradient():
    d = T.dvector("d")
    root = T.sqrt(d)  # NaN below 0, infinite derivative at 0: the branch the switch drops there
    one_switch = T.switch(d > 0, root, 0)
    with np.errstate(invalid="ignore", divide="ignore"):  # FAST_COMPILE computes in NumPy
        grad = theano.function([d], T.grad(one_switch.sum(), d), mode="FAST_COMPILE")(RESIDUALS)
    assert np.isnan(grad[RESIDUALS <= 0]).all()
    two_switches = T.switch(d > 0, root, 0) + T.switch(d > 1, root, 0)
    grad = theano.function([d], T.grad(two_switches.sum(), d), mode="FAST_RUN")(RESIDUALS)
    assert np.isnan(grad[RESIDUALS <= 0]).all()
    assert np.isfinite(grad[RESIDUALS > 0]).all()


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_switch_on_a_safe_input_has_a_finite_right_gradient(mode):
    d = T.dvector("d")
    root = T.sqrt(T.switch(d > 0, d, 1))  # the dropped branch reads 1, where sqrt is smooth
    fixed = T.switch(d > 0, root, 0) + T.switch(d > 1, root, 0)
    grad = theano.function([d], T.grad(fixed.sum(), d), mode=mode)(RESIDUALS)
    positive = np.maximum(RESIDUALS, 1e-300)
    expected = np.where(RESIDUALS > 0, 0.5 / np.sqrt(positive), 0.0) * (1 + (RESIDUALS > 1))
    np.testing.assert_allclose(grad, expected, rtol=1e-15)


@pytest.mark.parametrize("name", LOSSES)
def test_losses_stay_finite_at_float32_logits_of_1e4_without_graph_rewrites(name):
    args, kwargs = make_case(name, np.random.default_rng(3), LABEL_SHAPES["rank1"])
    extreme = np.round(args[0]) if name == "dice_loss" else np.where(args[0] > 0, 1e4, -1e4)
    first = T.TensorType("float32", (False,) * extreme.ndim)("first")
    compiled = compile_loss_and_grad(
        getattr(ct, name), first, *args[1:], **kwargs, mode="FAST_COMPILE"
    )
    loss, grad = compiled(extreme.astype(np.float32))
    assert np.isfinite(loss) and np.isfinite(grad).all(), (loss, grad)


# ----------------------------------------------------------------------------- checks


def symbolic_case(name):
    """Symbolic arguments of ``name`` (weights symbolic or as a dict too), and their values."""
    args, kwargs = make_case(name, np.random.default_rng(2), LABEL_SHAPES["rank1"])
    variables = [
        T.TensorType(str(a.dtype), (False,) * a.ndim)(f"arg{i}") for i, a in enumerate(args)
    ]
    symbolic_kwargs, values = dict(kwargs), list(args)
    for key in ("sample_weight", "pos_weight"):
        if key in kwargs:
            symbolic_kwargs[key] = T.dvector(key)
            variables.append(symbolic_kwargs[key])
            values.append(kwargs[key])
    for key in ("class_weight", "alpha"):
        if isinstance(kwargs.get(key), np.ndarray):
            symbolic_kwargs[key] = dict(enumerate(kwargs[key].tolist()))
    return variables, symbolic_kwargs, values, (args, kwargs)


@pytest.mark.parametrize("name", LOSSES)
def test_symbolic_inputs_with_validate_build_a_graph_that_computes_the_reference(name):
    variables, symbolic_kwargs, values, (args, kwargs) = symbolic_case(name)
    n_args = len(args)
    loss = getattr(ct, name)(*variables[:n_args], **symbolic_kwargs, validate=True)
    value = theano.function(variables, loss)(*values)
    expected = getattr(reference, name)(*args, **kwargs)
    np.testing.assert_allclose(value, expected, rtol=1e-12)


def test_symbolic_inputs_skip_the_value_checks_they_cannot_run():
    logits, labels, weight = T.dmatrix("logits"), T.lvector("labels"), T.dvector("weight")
    loss = ct.softmax_cross_entropy(logits, labels, sample_weight=weight, validate=True)
    value = theano.function([logits, labels, weight], loss)(np.zeros((2, 3)), [0, 1], [-1.0, 1.0])
    np.testing.assert_allclose(value, 0.0, atol=1e-15)  # -log(1/3) + log(1/3): nothing raised
    with pytest.raises(ValueError, match=r"^sample_weight: expected finite, non-negative"):
        ct.softmax_cross_entropy(logits, labels, sample_weight=np.array([-1.0, 1.0]))


@pytest.mark.parametrize(
    ("name", "args", "kwargs", "error", "argument"), [case[1:] for case in CASES], ids=IDS
)
def test_numpy_inputs_with_bad_values_raise_the_reference_error_word_for_word(
    name, args, kwargs, error, argument
):
    with pytest.raises(error) as expected:
        getattr(reference, name)(*args, **kwargs)
    with pytest.raises(error) as caught:
        getattr(ct, name)(*args, **kwargs)
    assert str(caught.value) == str(expected.value)
    assert str(caught.value).startswith(f"{argument}: expected ")


def test_symbolic_shape_mistakes_raise_at_graph_building_time():
    with pytest.raises(ValueError, match=r"^labels: expected shape \(\?,\) .*got shape \(\?, \?\)"):
        ct.softmax_cross_entropy(T.dmatrix(), T.lmatrix())
    with pytest.raises(TypeError, match=r"^labels: expected an integer array"):
        ct.focal_loss(T.dmatrix(), T.dvector())
    with pytest.raises(ValueError, match=r"^class_weight: expected one weight per class, shape"):
        ct.softmax_cross_entropy(T.dmatrix(), T.lvector(), class_weight=T.dmatrix())
    with pytest.raises(ValueError, match=r"^sample_weight: expected a shape that broadcasts"):
        ct.softmax_cross_entropy(T.dmatrix(), T.lvector(), sample_weight=T.dmatrix())


def test_float32_inputs_give_a_float32_loss_and_gradient():
    args, _ = make_case("focal_loss", np.random.default_rng(4), LABEL_SHAPES["rank1"])
    logits = T.fmatrix("logits")
    loss = ct.focal_loss(logits, args[1], alpha=0.3, gamma=0.7)
    assert loss.dtype == "float32"
    assert T.grad(loss, logits).dtype == "float32"


# ----------------------------------------------------------------------------- training


def test_sgd_with_theano_function_updates_fits_a_tiny_problem():
    rng = np.random.default_rng(0)
    features = np.concatenate([rng.normal(-2.0, 0.5, (6, 2)), rng.normal(2.0, 0.5, (2, 2))])
    labels = np.array([0] * 6 + [1] * 2)
    weights = theano.shared(np.zeros((2, 2)), name="weights")
    bias = theano.shared(np.zeros(2), name="bias")
    x, y = T.dmatrix("x"), T.lvector("y")
    loss = ct.softmax_cross_entropy(
        T.dot(x, weights) + bias, y, class_weight={1: 3.0}, reduction="weighted_mean"
    )
    updates = [
        (p, p - 0.5 * g)
        for p, g in zip([weights, bias], T.grad(loss, [weights, bias]), strict=True)
    ]
    step = theano.function([x, y], loss, updates=updates)
    losses = [float(step(features, labels)) for _ in range(40)]
    assert losses[0] == pytest.approx(np.log(2.0), rel=1e-12)
    assert losses[-1] < 0.05 * losses[0]
    predicted = np.argmax(features @ weights.get_value() + bias.get_value(), axis=1)
    np.testing.assert_array_equal(predicted, labels)


# ----------------------------------------------------------------------------- importing

MARKER = "<first imports done>"
CHECK = """
import numpy as np
import companion.theano as ct

def check():
    x = ct.T.dvector("x")
    loss = ct.huber_loss(x, np.zeros(3), reduction="sum")
    grad = ct.theano.function([x], ct.T.grad(loss, x))(np.array([0.5, 3.0, -3.0]))
    assert grad.tolist() == [0.5, 1.0, -1.0], grad
    assert ct.theano.config.cxx, "no C++ compiler: Theano fell back to Python"

check()
"""


def run_python(code, **env):
    """Run ``code`` in a fresh interpreter whose environment sets none of Theano's variables."""
    unset = (
        "THEANO_FLAGS",
        "SETUPTOOLS_USE_DISTUTILS",
    )  # importing companion.theano here sets both
    environment = {k: v for k, v in os.environ.items() if k not in unset}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment, cwd=ROOT
    )


ORDERS = {  # (imported before companion.theano, imported after it, environment)
    "alone": ("", "", {}),
    "after-torch": ("import torch", "", {}),
    "after-tensorflow": ("import tensorflow", "", {"TF_CPP_MIN_LOG_LEVEL": "3"}),
    "after-setuptools": ("import setuptools", "", {}),
    "after-companion-chainer": ("import companion.chainer", "", {}),
    "before-the-others": (
        "",
        "import torch\nimport companion.tensorflow\nimport companion.chainer\ncheck()",
        {},
    ),
}


@pytest.mark.parametrize(("before", "after", "env"), ORDERS.values(), ids=ORDERS.keys())
def test_import_in_any_order_needs_no_setting_and_writes_nothing_on_stderr(before, after, env):
    for module in ("companion.chainer", "companion.tensorflow"):
        if module in before + after and importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} does not exist")
    mark = f"import sys\nsys.stderr.write({MARKER!r})\nsys.stderr.flush()\n"
    result = run_python("\n".join([before, mark, CHECK, after]), **env)
    assert result.returncode == 0, result.stderr
    first_imports, marked, ours = result.stderr.partition(MARKER)
    assert marked and ours == ""
    if "tensorflow" not in before:  # bare TensorFlow prints CUDA notices TF_CPP_MIN_LOG_LEVEL keeps
        assert first_imports == ""


def test_import_uses_the_standard_librarys_distutils_and_keeps_the_users_flags():
    code = (
        "import os, sys, sysconfig\n"
        "import companion.theano as ct\n"
        "stdlib = os.path.join(sysconfig.get_path('stdlib'), 'distutils', '__init__.py')\n"
        "print(repr((sys.modules['distutils'].__file__ == stdlib, os.environ['THEANO_FLAGS'],\n"
        "            ct.theano.config.floatX, ct.theano.config.blas__ldflags)))"
    )
    result = run_python(code, THEANO_FLAGS="floatX=float32")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == repr((True, "floatX=float32,blas__ldflags=", "float32", ""))


def test_import_restores_only_the_missing_numpy_aliases():
    code = (
        "import numpy as np\n"
        "np.str = 'set by the user'\n"
        "import companion.theano\n"
        "print(repr((np.str, np.bool is bool, np.object is object, np.bool_ is bool)))"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == repr(("set by the user", True, True, False))


def test_a_theano_that_cannot_load_gives_an_import_error_saying_what_to_install():
    result = run_python("import sys\nsys.modules['theano'] = None\nimport companion.theano")
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: companion.theano could not import Theano-PyMC"), last
    assert "pip install --no-build-isolation Theano-PyMC==1.1.2" in last


# ----------------------------------------------------------------------------- issue 8 pins


@pytest.mark.parametrize("name", ["softmax_cross_entropy", "focal_loss", "huber_loss"])
def test_float16_mean_over_a_4x128x128_mask_is_finite_and_float16(name):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(4, 128, 128, 3)).astype("float16")
    if name == "huber_loss":
        first = T.TensorType("float16", (False,) * 3)("prediction")
        rest, value = (np.zeros((4, 128, 128), "float16"),), logits[..., 0]
    else:
        first = T.TensorType("float16", (False,) * 4)("logits")
        rest, value = (rng.integers(0, 3, size=(4, 128, 128)).astype("uint8"),), logits
    loss, grad = compile_loss_and_grad(getattr(ct, name), first, *rest)(value)
    # The loss comes back as float16; the compiled gradient may be float32 (Theano's rewrites
    # drop the cast back), but it is the float32 gradient either way.
    assert loss.dtype == np.float16
    assert np.isfinite(loss) and loss > 0
    assert np.all(np.isfinite(grad)) and np.any(grad != 0)


def test_float16_focal_gradient_is_finite_at_logits_of_60000():
    first = T.TensorType("float16", (False, False))("logits")
    f = compile_loss_and_grad(ct.focal_loss, first, np.array([0, 0]))
    _, grad = f(np.array([[6e4, -6e4], [-6e4, 6e4]], "float16"))
    np.testing.assert_array_equal(grad, [[0.0, 0.0], [-0.5, 0.5]])


def test_symbolic_labels_with_ignore_index_compute_the_reference():
    rng = np.random.default_rng(4)
    z, y = rng.normal(size=(6, 3)), np.array([0, 255, 2, 1, 255, 2])
    labels = T.lvector("labels")
    loss = ct.softmax_cross_entropy(z, labels, ignore_index=255, class_weight=[1.0, 2.0, 0.5])
    value = theano.function([labels], loss)(y)
    expected = reference.softmax_cross_entropy(z, y, ignore_index=255, class_weight=[1.0, 2.0, 0.5])
    np.testing.assert_allclose(value, expected, rtol=1e-12)


@pytest.mark.parametrize("validate", [True, False])
def test_zero_classes_and_0d_logits_blame_logits_whatever_validate_says(validate):
    for z, y in [(np.zeros((3, 0)), np.zeros(3, np.int64)), (np.array(0.5), np.array(0))]:
        with pytest.raises(ValueError, match=r"^logits: expected"):
            ct.softmax_cross_entropy(z, y, validate=validate)
