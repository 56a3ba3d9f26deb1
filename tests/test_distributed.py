"""``process_group=``: the losses of ``companion.torch`` under a real ``torch.distributed``.

Two and three processes on 127.0.0.1 (gloo), started by the test itself, each hold a shard of one
global batch whose shards differ as much as they can: the first rank holds class 0 only and most
of the ignored labels, the last rank holds every example of the rare class and no ignored label,
and with three ranks the middle one holds only ignored labels. A small float64 model wrapped in
``DistributedDataParallel`` runs every loss and module, for ``"mean"`` and ``"weighted_mean"`` (the
soft precision and F1 losses, ratios of counts over the whole batch: ``"mean"`` and ``"sum"``), with
``validate`` on and off. Given ``process_group=dist.group.WORLD``, the mean over the ranks of the
returned values is the one-process loss of the whole batch and DDP's averaged gradients are its
gradients (float64, rtol 1e-10). Without a group, the per-rank mean is pinned: exact where every
rank has the same denominator, wrong elsewhere. Processes start once per world size and run
every case; results come back through a file per rank.

Keras 3 under ``tf.distribute.MirroredStrategy`` (two logical CPU devices, in a fresh interpreter)
is pinned too: each replica divides by its own count (or its own sum of weights) and by the number
of replicas, and the replicas' gradients are summed, so ``fit`` minimises the mean of the
per-replica means; ``reduction="sum"`` of weights normalised by the global batch's sum in the
input pipeline, before the batch is split, gives the global loss and gradient exactly.
"""

import contextlib
import datetime
import os
import socket
import time

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from companion import torch as losses

N_PER_RANK, FEATURES, CLASSES = 6, 3, 4
IGNORE = -100
DICE_IGNORE = 255
CLASS_WEIGHT = torch.tensor([0.5, 1.0, 2.0, 8.0], dtype=torch.float64)
PRIOR = torch.tensor([0.55, 0.25, 0.15, 0.05], dtype=torch.float64)
COST = (
    torch.tensor(
        [[0.0, 1.0, 1.0, 1.0], [1.0, 0.0, 1.0, 1.0], [2.0, 2.0, 0.0, 2.0], [20.0, 20.0, 20.0, 0.0]],
        dtype=torch.float64,
    )
    + 0.5
)
TOLERANCE = {"rtol": 1e-10, "atol": 1e-13}
MEANS = ("mean", "weighted_mean")
BATCH_REDUCTIONS = ("mean", "sum")


def global_batch(world):
    """One batch of ``N_PER_RANK * world`` examples whose shards differ as much as they can."""
    g = torch.Generator().manual_seed(100 + world)
    n = N_PER_RANK * world
    first = slice(0, N_PER_RANK)
    x = torch.randn(n, FEATURES, generator=g, dtype=torch.float64)
    labels = torch.randint(0, 3, (n,), generator=g)
    labels[first] = 0  # the first rank sees class 0 only
    labels[n - N_PER_RANK : n - N_PER_RANK + 3] = 3  # the rare class, all on the last rank
    ignored = labels.clone()
    ignored[:4] = IGNORE  # four of the first rank's six labels are padding
    if world > 2:
        ignored[N_PER_RANK : 2 * N_PER_RANK] = IGNORE  # a middle rank of padding only
    targets = (torch.rand(n, CLASSES, generator=g) < 0.3).to(torch.float64)
    targets[:, 3] = 0.0
    targets[n - N_PER_RANK : n - N_PER_RANK + 3, 3] = 1.0  # the rare label, on the last rank
    dice_targets = targets.clone()
    dice_targets[:4, :3] = DICE_IGNORE
    ranks = torch.arange(n) // N_PER_RANK
    sample_weight = (torch.rand(n, generator=g, dtype=torch.float64) + 0.5) * (1 + 3 * ranks)
    zero_on_first = sample_weight.clone()
    zero_on_first[first] = 0.0
    return {
        "x": x,
        "labels": labels,
        "ignored": ignored,
        "targets": targets,
        "dice_targets": dice_targets,
        "huber_target": torch.randn(n, CLASSES, generator=g, dtype=torch.float64),
        "sample_weight": sample_weight,
        "zero_on_first": zero_on_first,
    }


def shard(batch, rank):
    part = slice(rank * N_PER_RANK, (rank + 1) * N_PER_RANK)
    return {name: value[part] for name, value in batch.items()}


def make_model():
    torch.manual_seed(0)
    return torch.nn.Linear(FEATURES, CLASSES, dtype=torch.float64)


def _fn(name, *inputs, **options):
    """A case calling the function ``name`` on the model's output and the batch's ``inputs``."""

    def case(out, b, reduction, group, validate):
        first = torch.sigmoid(out) if name == "dice_loss" else out
        rest = [b[i] if isinstance(i, str) else i for i in inputs]
        given = {k: b[v] if isinstance(v, str) and v in b else v for k, v in options.items()}
        return getattr(losses, name)(
            first, *rest, **given, reduction=reduction, validate=validate, process_group=group
        )

    return case


def _module(cls, *inputs, args=(), **options):
    """A case that makes module ``cls`` with the group, then calls it."""

    def case(out, b, reduction, group, validate):
        extra = {} if cls is losses.HuberLoss else {"validate": validate}
        module = cls(*args, **options, **extra, reduction=reduction, process_group=group)
        first = torch.sigmoid(out) if cls is losses.DiceLoss else out
        return module(first, *(b[i] for i in inputs))

    return case


# id -> (the case, the reductions at which every rank has the same denominator, so that the
# per-rank mean is exact without a group).
CASES = {
    "softmax": (_fn("softmax_cross_entropy", "labels"), MEANS),
    "softmax-class-weight": (
        _fn("softmax_cross_entropy", "labels", class_weight=CLASS_WEIGHT),
        ("mean",),
    ),
    "softmax-class-and-sample-weight": (
        _fn(
            "softmax_cross_entropy",
            "labels",
            class_weight=CLASS_WEIGHT,
            sample_weight="sample_weight",
        ),
        ("mean",),
    ),
    "softmax-sample-weight-zero-on-a-rank": (
        _fn("softmax_cross_entropy", "labels", sample_weight="zero_on_first"),
        ("mean",),
    ),
    "softmax-class-weight-ignore": (
        _fn("softmax_cross_entropy", "ignored", class_weight=CLASS_WEIGHT, ignore_index=IGNORE),
        (),
    ),
    "softmax-ignore-smoothing-per-class": (
        _fn(
            "softmax_cross_entropy",
            "ignored",
            class_weight=CLASS_WEIGHT,
            sample_weight="sample_weight",
            ignore_index=IGNORE,
            label_smoothing=0.1,
            smoothing_weight="per_class",
        ),
        (),
    ),
    "logit-adjusted": (
        _fn(
            "logit_adjusted_cross_entropy",
            "labels",
            class_prior=PRIOR,
            tau=1.0,
            class_weight=CLASS_WEIGHT,
            sample_weight="sample_weight",
        ),
        ("mean",),
    ),
    "sigmoid": (
        _fn(
            "sigmoid_cross_entropy",
            "targets",
            class_weight=CLASS_WEIGHT,
            pos_weight=3.0,
            sample_weight="sample_weight",
        ),
        ("mean",),
    ),
    "sigmoid-smoothing": (_fn("sigmoid_cross_entropy", "targets", label_smoothing=0.1), MEANS),
    "focal": (_fn("focal_loss", "labels", alpha=CLASS_WEIGHT, gamma=2.0), ("mean",)),
    "focal-ignore": (
        _fn("focal_loss", "ignored", alpha=0.25, gamma=2.0, ignore_index=IGNORE),
        (),
    ),
    "sigmoid-focal": (_fn("sigmoid_focal_loss", "targets", alpha=0.25, gamma=2.0), ("mean",)),
    "sigmoid-focal-no-alpha": (_fn("sigmoid_focal_loss", "targets", alpha=None), MEANS),
    "huber": (_fn("huber_loss", "huber_target", delta=0.5), MEANS),
    "dice": (_fn("dice_loss", "targets", smooth=1.0), MEANS),
    "dice-ignore": (_fn("dice_loss", "dice_targets", ignore_index=DICE_IGNORE), MEANS),
    "cost": (_fn("cost_sensitive_cross_entropy", "labels", COST), ("mean",)),
    "cost-ignore": (_fn("cost_sensitive_cross_entropy", "ignored", COST, ignore_index=IGNORE), ()),
    "module-softmax": (
        _module(
            losses.SoftmaxCrossEntropy, "ignored", class_weight=CLASS_WEIGHT, ignore_index=IGNORE
        ),
        (),
    ),
    "module-logit-adjusted": (
        _module(
            losses.LogitAdjustedCrossEntropy, "labels", args=(PRIOR,), class_weight=CLASS_WEIGHT
        ),
        ("mean",),
    ),
    "module-sigmoid": (
        # One weight per column: every rank's sum of weights is the same.
        _module(losses.SigmoidCrossEntropy, "targets", class_weight=CLASS_WEIGHT),
        MEANS,
    ),
    "module-focal": (
        _module(losses.FocalLoss, "ignored", alpha=CLASS_WEIGHT, ignore_index=IGNORE),
        (),
    ),
    "module-sigmoid-focal": (_module(losses.SigmoidFocalLoss, "targets"), ("mean",)),
    "module-huber": (_module(losses.HuberLoss, "huber_target"), MEANS),
    "module-dice": (_module(losses.DiceLoss, "targets"), MEANS),
    "module-cost": (
        _module(losses.CostSensitiveCrossEntropy, "ignored", args=(COST,), ignore_index=IGNORE),
        (),
    ),
    # The soft losses are ratios of counts over the whole batch: "sum" (over the columns)
    # depends on the group too, and "weighted_mean" is refused.
    "soft-precision": (
        _fn("soft_precision_loss", "targets", sample_weight="sample_weight", smooth=0.5),
        (),
        BATCH_REDUCTIONS,
    ),
    "soft-f1": (_fn("soft_f1_loss", "targets", smooth=0.5), (), BATCH_REDUCTIONS),
    "module-soft-precision": (_module(losses.SoftPrecisionLoss, "targets"), (), BATCH_REDUCTIONS),
    "module-soft-f1": (_module(losses.SoftF1Loss, "targets", smooth=0.5), (), BATCH_REDUCTIONS),
}


def reductions(case_id):
    """The reductions a case runs at: the two means, or those of a loss of the whole batch."""
    return CASES[case_id][2] if len(CASES[case_id]) > 2 else MEANS


def run_case(model, case, b, reduction, group, validate, record=None):
    """The loss and the gradients of ``model``'s parameters (after DDP's averaging, if any).

    ``record``, a dispatch mode, sees every operator of the forward and backward passes.
    """
    for p in model.parameters():
        p.grad = None
    with record or contextlib.nullcontext():
        loss = case(model(b["x"]), b, reduction, group, validate)
        loss.backward()
    module = getattr(model, "module", model)
    return float(loss.detach()), [p.grad.detach().clone() for p in module.parameters()]


def one_process_results(world):
    """The loss of the whole global batch in one process, for every case."""
    model, b = make_model(), global_batch(world)
    return {
        (case_id, reduction, validate): run_case(model, case, b, reduction, None, validate)
        for case_id, (case, *_) in CASES.items()
        for reduction in reductions(case_id)
        for validate in (True, False)
    }


def _error(call):
    try:
        call()
    except (TypeError, ValueError) as error:
        return type(error).__name__, str(error)
    return None


def _worker(rank, world, port, folder):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo", rank=rank, world_size=world, timeout=datetime.timedelta(seconds=60)
    )
    try:
        results = _worker_cases(rank, world)
    finally:
        dist.destroy_process_group()
    torch.save(results, os.path.join(folder, f"rank{rank}.pt"))


def _worker_cases(rank, world):
    from test_torch import SYNCING_OPS, RecordOps
    from torch.nn.parallel import DistributedDataParallel

    group = dist.group.WORLD
    b = shard(global_batch(world), rank)
    ddp = DistributedDataParallel(make_model())
    plain = make_model()
    results = {"group": {}, "naive": {}, "errors": {}}
    # Every operator run with validate=False: none may sync beyond the all-reduce.
    record = RecordOps()
    for case_id, (case, *_) in CASES.items():
        for reduction in reductions(case_id):
            for validate in (True, False):
                key = (case_id, reduction, validate)
                results["group"][key] = run_case(
                    ddp, case, b, reduction, group, validate, None if validate else record
                )
            # Without a group (and without validate, which a rank of padding only would fail).
            results["naive"][(case_id, reduction)] = run_case(ddp, case, b, reduction, None, False)

    results["ops"] = record.names
    results["syncing"] = record.names & SYNCING_OPS

    out = plain(b["x"])
    errors = results["errors"]
    errors["wrong type"] = _error(
        lambda: losses.softmax_cross_entropy(out, b["labels"], process_group="WORLD")
    )
    errors["wrong type, module"] = _error(lambda: losses.FocalLoss(process_group=0))
    all_ignored = torch.full_like(b["labels"], IGNORE)
    errors["all ignored"] = _error(
        lambda: losses.softmax_cross_entropy(
            out, all_ignored, ignore_index=IGNORE, process_group=group
        )
    )
    errors["all ignored, validate=False"] = float(
        losses.softmax_cross_entropy(
            out, all_ignored, ignore_index=IGNORE, process_group=group, validate=False
        ).detach()
    )
    zero = torch.zeros(CLASSES, dtype=torch.float64)
    errors["weights all zero"] = _error(
        lambda: losses.focal_loss(
            out, b["labels"], alpha=zero, reduction="weighted_mean", process_group=group
        )
    )
    # A shard of padding only fails the per-rank check that the group's check replaces.
    errors["padding only, no group"] = _error(
        lambda: losses.softmax_cross_entropy(out, b["ignored"], ignore_index=IGNORE)
    )
    return results


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module", params=[2, 3], ids=["2 ranks", "3 ranks"])
def world(request, tmp_path_factory):
    """Every rank's results, from one start of ``request.param`` processes."""
    size = request.param
    folder = tmp_path_factory.mktemp(f"world{size}")
    context = mp.start_processes(
        _worker,
        args=(size, _free_port(), str(folder)),
        nprocs=size,
        join=False,
        start_method="spawn",
    )
    deadline = time.monotonic() + 120
    while not context.join(timeout=1):
        if time.monotonic() > deadline:
            for process in context.processes:
                process.kill()
            pytest.fail(f"{size} ranks did not finish in 120 s")
    ranks = [torch.load(folder / f"rank{r}.pt", weights_only=False) for r in range(size)]
    return size, ranks, one_process_results(size)


KEYS = [(c, r, v) for c in CASES for r in reductions(c) for v in (True, False)]


def _close(a, b):
    return np.allclose(np.asarray(a), np.asarray(b), **TOLERANCE)


def test_the_mean_over_ranks_is_the_loss_of_the_global_batch(world):
    size, ranks, expected = world
    wrong = []
    for key in KEYS:
        mean = sum(r["group"][key][0] for r in ranks) / size
        if not _close(mean, expected[key][0]):
            wrong.append((key, mean, expected[key][0]))
    assert not wrong


def test_ddp_averages_the_gradients_of_the_global_batch(world):
    _, ranks, expected = world
    wrong = []
    for key in KEYS:
        for rank, r in enumerate(ranks):
            grads = r["group"][key][1]
            if not all(_close(g, e) for g, e in zip(grads, expected[key][1], strict=True)):
                wrong.append((key, rank))
    assert not wrong


def test_without_a_group_the_per_rank_mean_is_exact_only_where_denominators_agree(world):
    size, ranks, expected = world
    verdicts = {}
    for case_id in CASES:
        for reduction in reductions(case_id):
            naive = sum(r["naive"][(case_id, reduction)][0] for r in ranks) / size
            truth = expected[(case_id, reduction, False)][0]
            grad_naive = ranks[0]["naive"][(case_id, reduction)][1]
            grad_truth = expected[(case_id, reduction, False)][1]
            same_grad = all(_close(a, b) for a, b in zip(grad_naive, grad_truth, strict=True))
            verdicts[(case_id, reduction)] = (
                _close(naive, truth),
                same_grad,
                abs(naive - truth) / abs(truth),
            )
    for (case_id, reduction), (same, same_grad, error) in verdicts.items():
        if reduction in CASES[case_id][1]:
            assert same and same_grad, (case_id, reduction)
        else:
            # Wrong by more than 5% of the loss, and so is the gradient.
            # Wrong, and so is the gradient: by 0.6% to 55% of the loss on these shards.
            assert not same and not same_grad and error > 1e-3, (case_id, reduction, error)


def test_validate_false_adds_no_sync_beyond_the_all_reduce(world):
    _, ranks, _ = world
    for r in ranks:
        assert "allreduce_" in r["ops"]
        assert not r["syncing"]


def test_the_checks_apply_to_the_group_and_name_the_argument(world):
    size, ranks, _ = world
    for rank, r in enumerate(ranks):
        errors = r["errors"]
        assert errors["wrong type"][0] == "TypeError"
        assert errors["wrong type"][1].startswith("process_group: expected")
        assert errors["wrong type, module"][0] == "TypeError"
        assert errors["wrong type, module"][1].startswith("process_group: expected")
        # Every rank raises together: the check reads the global count.
        assert errors["all ignored"][0] == "ValueError"
        assert errors["all ignored"][1].startswith("labels: expected")
        assert f"all {size * N_PER_RANK} ignored" in errors["all ignored"][1]
        assert errors["all ignored, validate=False"] == 0.0
        assert errors["weights all zero"][0] == "ValueError"
        assert errors["weights all zero"][1].startswith("alpha: expected")
        padding_only = size > 2 and rank == 1
        if padding_only:
            assert errors["padding only, no group"][1].startswith("labels: expected")
        else:
            assert errors["padding only, no group"] is None


def test_a_group_while_torch_distributed_is_not_initialised_is_refused():
    assert not dist.is_initialized()
    logits, labels = torch.zeros(2, 3), torch.tensor([0, 1])
    for call in (
        lambda: losses.softmax_cross_entropy(logits, labels, process_group=object()),
        lambda: losses.huber_loss(logits, logits, process_group="WORLD"),
        lambda: losses.DiceLoss(process_group=object()),
    ):
        with pytest.raises(ValueError, match=r"^process_group: expected None, or a group once"):
            call()


def test_no_group_is_the_default_and_none_changes_nothing():
    logits = torch.randn(5, 3, dtype=torch.float64)
    labels = torch.tensor([0, 1, 2, 1, 0])
    assert torch.equal(
        losses.softmax_cross_entropy(logits, labels, class_weight=[1.0, 2.0, 3.0]),
        losses.softmax_cross_entropy(
            logits, labels, class_weight=[1.0, 2.0, 3.0], process_group=None
        ),
    )


# ----------------------------------------------------------------------------- Keras


# Two logical CPU devices must be configured before TensorFlow initialises, so the Keras side
# runs in a fresh interpreter. One global batch of 8 is split 4/4 between the replicas; the first
# replica's labels are mostly ignored, and the sample weights differ between the halves.
KERAS_SCRIPT = r'''
import json, os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras

keras.config.set_floatx("float64")
from companion import tensorflow as ktf

rng = np.random.default_rng(0)
x = rng.normal(size=(8, 3))
labels = np.array([0, 0, 0, 0, 1, 2, 3, 3])
ignored = np.where(np.arange(8) < 3, -100, labels)
weights = np.concatenate([rng.uniform(0.1, 0.3, 4), rng.uniform(2.0, 4.0, 4)])
halves = (slice(0, 4), slice(4, 8))
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])


def model():
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(4)])


def value_and_grad(loss, parts, y, w):
    """The mean over ``parts`` of the loss of each part, and its gradient, on one device."""
    m, values, grads = model(), [], []
    for part in parts:
        with tf.GradientTape() as tape:
            sw = None if w is None else tf.constant(w[part])
            value = loss(tf.constant(y[part]), m(tf.constant(x[part])), sample_weight=sw)
        values.append(float(value))
        grads.append([g.numpy() for g in tape.gradient(value, m.trainable_variables)])
    return float(np.mean(values)), [np.mean(g, axis=0) for g in zip(*grads)]


def fitted(loss, data):
    """fit's reported loss and its gradient (one SGD step of rate 1) under the strategy."""
    with strategy.scope():
        m = model()
        m.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0), loss=loss)
    before = [v.numpy().copy() for v in m.trainable_variables]
    history = m.fit(**data, epochs=1, verbose=0, shuffle=False)
    step = [b - v.numpy() for b, v in zip(before, m.trainable_variables)]
    return history.history["loss"][0], step


def same(a, b):
    return all(np.allclose(u, v, rtol=1e-10, atol=1e-13) for u, v in zip(a, b))


def normalise(xs, ys, ws):  # after batching, before the strategy splits the batch
    return xs, ys, ws / tf.reduce_sum(ws)


out = {"replicas": strategy.num_replicas_in_sync}
cases = {
    "sum_over_batch_size": (ktf.SoftmaxCrossEntropy(), labels, None),
    "sum_over_batch_size, sample_weight": (ktf.SoftmaxCrossEntropy(), labels, weights),
    "ignore_index": (ktf.SoftmaxCrossEntropy(ignore_index=-100), ignored, None),
    "mean_with_sample_weight": (
        ktf.SoftmaxCrossEntropy(reduction="mean_with_sample_weight"), labels, weights
    ),
}
for name, (loss, y, w) in cases.items():
    loss_fit, step = fitted(loss, {"x": x, "y": y, "sample_weight": w, "batch_size": 8})
    loss_global, grad_global = value_and_grad(loss, [slice(0, 8)], y, w)
    loss_naive, grad_naive = value_and_grad(loss, halves, y, w)
    out[name] = {
        "global": [np.isclose(loss_fit, loss_global, rtol=1e-10), same(step, grad_global)],
        "per-replica mean": [np.isclose(loss_fit, loss_naive, rtol=1e-10), same(step, grad_naive)],
        "error": abs(loss_naive - loss_global) / loss_global,
    }
# The fix: reduction="sum" of weights normalised by the global batch's sum in the pipeline.
for name, y, w, truth in [
    ("sum, normalised sample_weight", labels, weights,
     ktf.SoftmaxCrossEntropy(reduction="mean_with_sample_weight")),
    ("sum, normalised mask", ignored, (ignored != -100).astype(float),
     ktf.SoftmaxCrossEntropy(ignore_index=-100)),
]:
    data = tf.data.Dataset.from_tensor_slices((x, y, w)).batch(8).map(normalise)
    loss = ktf.SoftmaxCrossEntropy(ignore_index=-100, reduction="sum")
    loss_fit, step = fitted(loss, {"x": data})
    weight = None if name.endswith("mask") else w
    loss_global, grad_global = value_and_grad(truth, [slice(0, 8)], y, weight)
    out[name] = {"global": [np.isclose(loss_fit, loss_global, rtol=1e-10), same(step, grad_global)]}
print(json.dumps(out, default=bool))
'''


@pytest.fixture(scope="module")
def keras_mirrored():
    import json
    import subprocess
    import sys
    from pathlib import Path

    import companion

    root = str(Path(companion.__file__).resolve().parents[1])
    env = {
        **os.environ,
        "PYTHONPATH": root,
        "TF_NUM_INTRAOP_THREADS": "1",
        "TF_NUM_INTEROP_THREADS": "1",
        "PYTHONWARNINGS": "ignore",
    }
    done = subprocess.run(
        [sys.executable, "-c", KERAS_SCRIPT],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_keras_mirrored_strategy_averages_the_per_replica_means(keras_mirrored):
    result = keras_mirrored
    assert result["replicas"] == 2
    # Equal halves and no mask: every replica divides by 4, so the mean of means is exact, with
    # sample_weight too ("sum_over_batch_size" divides by the count, not by the weights).
    for name in ("sum_over_batch_size", "sum_over_batch_size, sample_weight"):
        assert result[name]["global"] == [True, True]
        assert result[name]["per-replica mean"] == [True, True]
    # Masked (ignore_index) or weighted denominators: fit's loss and gradient are the mean of
    # the per-replica means, not the global batch's.
    for name in ("ignore_index", "mean_with_sample_weight"):
        assert result[name]["global"] == [False, False]
        assert result[name]["per-replica mean"] == [True, True]
        assert result[name]["error"] > 0.05


def test_keras_sum_of_weights_normalised_before_the_split_is_exact(keras_mirrored):
    for name in ("sum, normalised sample_weight", "sum, normalised mask"):
        assert keras_mirrored[name]["global"] == [True, True]
