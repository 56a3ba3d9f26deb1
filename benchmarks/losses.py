"""Time and peak memory of the losses of ``companion.torch``, ``.tensorflow`` and ``.keras``.

Each loss is compared, in the same run, with two others on inputs of the same size (``--rows``
rows of 10 classes, float32; forward + backward, ``validate=False``):

* the native floor: the framework's own fused cross-entropy, the least any loss of that kind
  costs (``cross_entropy(weight=)`` for the losses of integer labels, BCE-with-logits for the
  elementwise ones);
* the best existing peer: what a user would call otherwise (``torchvision.ops``'
  ``sigmoid_focal_loss``, Keras' ``CategoricalFocalCrossentropy``,
  ``BinaryFocalCrossentropy``, ``Dice``, ``Huber``, the native weighted losses) or, where there
  is none, the elementwise formula users write.

Time: a warm-up, then ``--repeats`` rounds in which the three run back to back in an order
that rotates each round; the table gives our median time and the median over the rounds of
the paired ratios ours / floor and ours / peer (steadier than a ratio of medians on a shared
machine). Memory: each of the three runs once in a fresh process of its own, after a small
warm-up, and its peak is the rise of ``VmHWM`` (``/proc/self/status``) over the resident set
right before the step, the high-water mark having been reset (``5`` to
``/proc/self/clear_refs``), with glibc told to return every freed block of 64 KiB or more
at once and, for TensorFlow, without oneDNN's pooling allocator (``TF_ENABLE_ONEDNN_OPTS=0`` in
those processes only); on a GPU, the framework's peak-allocation counter. Progress (one line
per case) goes to stderr, the table to stdout.

``companion.keras`` is measured on each Keras 3 backend (``--keras-backends``; rows
``keras-tensorflow``, ``keras-jax``, ``keras-torch``), each in processes of its own since the
backend is fixed when Keras is imported, against the same loss of Keras itself on that backend
(the peer; the floor is ``keras.ops``' fused cross-entropy). The step is compiled where the
backend has one: ``tf.function(jit_compile=True)`` of the loss and its gradient,
``jax.jit(jax.value_and_grad(loss))``; on torch, eager autograd. Its timings run in a child
process per backend, its memory as above, after a warm-up step at the measured size (so that
compilation is not the loss's memory). Targets: time <= 1.05 and peak memory <= 1.20 times
Keras' own.

    python benchmarks/losses.py                       # 10**6 rows, CPU, every framework
    python benchmarks/losses.py --quick               # small sizes, a smoke test
    python benchmarks/losses.py --device cuda --framework torch --rows 10000000
    python benchmarks/losses.py --framework keras --keras-backends jax,torch
"""

from __future__ import annotations

import argparse
import concurrent.futures
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

NUM_CLASSES = 10
FRAMEWORKS = ("torch", "tensorflow", "keras")
KERAS_BACKENDS = ("tensorflow", "jax", "torch")
LOSSES = (
    "softmax_cross_entropy",
    "logit_adjusted_cross_entropy",
    "cost_sensitive_cross_entropy",
    "focal_loss",
    "sigmoid_cross_entropy",
    "sigmoid_focal_loss",
    "dice_loss",
    "soft_precision_loss",
    "soft_f1_loss",
    "huber_loss",
)
# The losses that Keras 3 has a loss of its own for (dice: the formula written in keras.ops).
KERAS_LOSSES = (
    "softmax_cross_entropy",
    "focal_loss",
    "sigmoid_cross_entropy",
    "sigmoid_focal_loss",
    "dice_loss",
    "huber_loss",
)
VARIANTS = ("floor", "peer", "ours")
QUICK_ROWS = 2000
WARM_ROWS = 64
RESOLUTION = 1 << 20  # bytes: smaller peaks give no memory ratio

# Targets: (measure, what ours is divided by, the largest ratio that passes). No loss may be
# slower than its best peer; the focal losses have targets of their own besides.
NO_SLOWER = ("time", "peer", 1.00)
TARGETS = {
    "sigmoid_focal_loss": (("time", "peer", 1.05), ("memory", "floor", 1.20)),
    "focal_loss": (("time", "floor", 1.10), ("memory", "floor", 1.10), NO_SLOWER),
}


# companion.keras against Keras' own loss on the same backend.
KERAS_TARGETS = (("time", "peer", 1.05), ("memory", "peer", 1.20))


def targets_of(framework, loss):
    if keras_backend(framework):
        return KERAS_TARGETS
    return TARGETS.get(loss, (NO_SLOWER,))


def keras_backend(framework):
    """The Keras backend of a ``keras-<backend>`` row, else ``None``."""
    return framework.removeprefix("keras-") if framework.startswith("keras-") else None


# ----------------------------------------------------------------------------- PyTorch cases


def torch_cases(rows, device):
    """``{loss: {variant: (label, function of the first input, first input)}}``."""
    import torch
    import torch.nn.functional as F

    from companion import torch as ours

    g = torch.Generator().manual_seed(0)
    c = NUM_CLASSES
    logits = torch.randn(rows, c, generator=g).to(device)
    labels = torch.randint(0, c, (rows,), generator=g).to(device)
    targets = (torch.rand(rows, c, generator=g) < 0.2).float().to(device)
    probabilities = torch.rand(rows, c, generator=g).to(device)
    prediction = (torch.randn(rows, c, generator=g) * 2).to(device)
    class_weight = (torch.rand(c, generator=g) * 3 + 0.2).to(device)
    pos_weight = (torch.rand(c, generator=g) * 4 + 1).to(device)
    prior = torch.softmax(torch.randn(c, generator=g) * 2, 0).to(device)
    cost = (torch.rand(c, c, generator=g) * 5 + 0.1).to(device)
    log_prior = prior.log()

    ce = ("F.cross_entropy(weight=)", lambda x: F.cross_entropy(x, labels, weight=class_weight))
    bce = (
        "F.binary_cross_entropy_with_logits",
        lambda x: F.binary_cross_entropy_with_logits(x, targets),
    )

    def torchvision_focal(x, alpha=0.25, gamma=2.0):
        # torchvision.ops.sigmoid_focal_loss (0.2x), line for line, where it is not installed.
        p = torch.sigmoid(x)
        ce_loss = F.binary_cross_entropy_with_logits(x, targets, reduction="none")
        p_t = p * targets + (1 - p) * (1 - targets)
        loss = ce_loss * ((1 - p_t) ** gamma)
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        return (alpha_t * loss).mean()

    try:
        from torchvision.ops import sigmoid_focal_loss as tv_focal

        torchvision = (
            "torchvision.ops.sigmoid_focal_loss",
            lambda x: tv_focal(x, targets, alpha=0.25, gamma=2.0, reduction="mean"),
        )
    except ImportError:
        torchvision = ("torchvision's formula (not installed)", torchvision_focal)

    def user_focal(x):
        ce_ = F.cross_entropy(x, labels, reduction="none")
        a = class_weight[labels]
        return (a * (1 - torch.exp(-ce_)) ** 2 * ce_).sum() / a.sum()

    def user_dice(p):
        inter = (p * targets).sum(1)
        return (1 - (2 * inter + 1) / (p.sum(1) + targets.sum(1) + 1)).mean()

    def user_soft_precision(x):
        p = torch.sigmoid(x)
        return (1 - ((p * targets).sum(0) + 1) / (p.sum(0) + 1)).mean()

    def user_soft_f1(x):
        p = torch.sigmoid(x)
        return (1 - (2 * (p * targets).sum(0) + 1) / (p.sum(0) + targets.sum(0) + 1)).mean()

    def user_cost(x):
        w = cost[labels, x.detach().argmax(1)]
        return (w * F.cross_entropy(x, labels, reduction="none")).sum() / w.sum()

    def case(floor, peer, mine, first=logits, first_floor=logits):
        return {"floor": (*floor, first_floor), "peer": (*peer, first), "ours": ("", mine, first)}

    return {
        "softmax_cross_entropy": case(
            ce,
            ce,
            lambda x: ours.softmax_cross_entropy(
                x, labels, class_weight=class_weight, reduction="weighted_mean", validate=False
            ),
        ),
        "logit_adjusted_cross_entropy": case(
            ce,
            (
                "formula: cross_entropy(z + log prior, weight=)",
                lambda x: F.cross_entropy(x + log_prior, labels, weight=class_weight),
            ),
            lambda x: ours.logit_adjusted_cross_entropy(
                x,
                labels,
                class_prior=prior,
                class_weight=class_weight,
                reduction="weighted_mean",
                validate=False,
            ),
        ),
        "cost_sensitive_cross_entropy": case(
            ce,
            ("formula: cost[y, argmax] * cross_entropy", user_cost),
            lambda x: ours.cost_sensitive_cross_entropy(
                x, labels, cost, reduction="weighted_mean", validate=False
            ),
        ),
        "focal_loss": case(
            ce,
            ("formula: alpha_y (1 - exp(-ce))^2 ce", user_focal),
            lambda x: ours.focal_loss(
                x, labels, alpha=class_weight, gamma=2.0, reduction="weighted_mean", validate=False
            ),
        ),
        "sigmoid_cross_entropy": case(
            bce,
            (
                "F.binary_cross_entropy_with_logits(pos_weight=)",
                lambda x: F.binary_cross_entropy_with_logits(x, targets, pos_weight=pos_weight),
            ),
            lambda x: ours.sigmoid_cross_entropy(x, targets, pos_weight=pos_weight, validate=False),
        ),
        "sigmoid_focal_loss": case(
            bce,
            torchvision,
            lambda x: ours.sigmoid_focal_loss(x, targets, alpha=0.25, gamma=2.0, validate=False),
        ),
        "dice_loss": case(
            bce,
            ("formula: 1 - (2 sum pt + 1) / (sum p + sum t + 1)", user_dice),
            lambda p: ours.dice_loss(p, targets, smooth=1.0, validate=False),
            first=probabilities,
        ),
        "soft_precision_loss": case(
            bce,
            ("formula: 1 - (sum pt + 1) / (sum p + 1)", user_soft_precision),
            lambda x: ours.soft_precision_loss(x, targets, validate=False),
        ),
        "soft_f1_loss": case(
            bce,
            ("formula: 1 - (2 sum pt + 1) / (sum p + sum t + 1)", user_soft_f1),
            lambda x: ours.soft_f1_loss(x, targets, validate=False),
        ),
        "huber_loss": case(
            bce,
            ("F.huber_loss", lambda x: F.huber_loss(x, logits, delta=1.0)),
            lambda x: ours.huber_loss(x, logits, delta=1.0, validate=False),
            first=prediction,
        ),
    }


def torch_step(device):
    import torch

    def step(loss, first, before=None):
        x = first.detach().clone().requires_grad_(True)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        if before is not None:
            before()
        start = time.perf_counter()
        loss(x).backward()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return time.perf_counter() - start

    return step


# ----------------------------------------------------------------------------- TensorFlow cases


def tensorflow_cases(rows, device):
    import keras
    import numpy as np
    import tensorflow as tf

    from companion import tensorflow as ours

    rng = np.random.default_rng(0)
    c = NUM_CLASSES
    with tf.device(device):
        logits = tf.constant(rng.standard_normal((rows, c), dtype=np.float32))
        labels = tf.constant(rng.integers(0, c, rows), dtype=tf.int64)
        one_hot = tf.one_hot(labels, c)
        targets = tf.constant((rng.random((rows, c)) < 0.2).astype(np.float32))
        probabilities = tf.constant(rng.random((rows, c), dtype=np.float32))
        prediction = tf.constant(rng.standard_normal((rows, c), dtype=np.float32) * 2)
        class_weight = tf.constant(rng.random(c, dtype=np.float32) * 3 + 0.2)
        pos_weight = tf.constant(rng.random(c, dtype=np.float32) * 4 + 1)
        prior_np = rng.random(c) + 0.05
        prior = tf.constant((prior_np / prior_np.sum()).astype(np.float32))
        cost = tf.constant(rng.random((c, c), dtype=np.float32) * 5 + 0.1)
        log_prior = tf.math.log(prior)
        w = tf.gather(class_weight, labels)

    def weighted_ce(x):
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=x)
        return tf.reduce_sum(w * loss) / tf.reduce_sum(w)

    def user_cost(x):
        predicted = tf.argmax(tf.stop_gradient(x), axis=-1)
        cw = tf.gather_nd(cost, tf.stack([labels, predicted], axis=-1))
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=x)
        return tf.reduce_sum(cw * loss) / tf.reduce_sum(cw)

    ce = ("tf.nn.sparse_softmax_cross_entropy_with_logits, weighted", weighted_ce)
    bce = (
        "tf.nn.sigmoid_cross_entropy_with_logits",
        lambda x: tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(targets, x)),
    )
    keras_sparse = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    keras_focal = keras.losses.CategoricalFocalCrossentropy(alpha=0.25, gamma=2.0, from_logits=True)
    keras_binary_focal = keras.losses.BinaryFocalCrossentropy(
        apply_class_balancing=True, alpha=0.25, gamma=2.0, from_logits=True
    )
    keras_dice = keras.losses.Dice(axis=(1,))
    keras_huber = keras.losses.Huber(delta=1.0)

    def user_soft_precision(x):
        p = tf.sigmoid(x)
        tp = tf.reduce_sum(p * targets, 0)
        return tf.reduce_mean(1 - (tp + 1) / (tf.reduce_sum(p, 0) + 1))

    def user_soft_f1(x):
        p = tf.sigmoid(x)
        tp = tf.reduce_sum(p * targets, 0)
        total = tf.reduce_sum(p, 0) + tf.reduce_sum(targets, 0)
        return tf.reduce_mean(1 - (2 * tp + 1) / (total + 1))

    def case(floor, peer, mine, first=logits, first_floor=logits):
        return {"floor": (*floor, first_floor), "peer": (*peer, first), "ours": ("", mine, first)}

    return {
        "softmax_cross_entropy": case(
            ce,
            (
                "keras SparseCategoricalCrossentropy(sample_weight=)",
                lambda x: keras_sparse(labels, x, sample_weight=w),
            ),
            lambda x: ours.softmax_cross_entropy(
                x, labels, class_weight=class_weight, reduction="weighted_mean", validate=False
            ),
        ),
        "logit_adjusted_cross_entropy": case(
            ce,
            ("formula: weighted sparse CE of z + log prior", lambda x: weighted_ce(x + log_prior)),
            lambda x: ours.logit_adjusted_cross_entropy(
                x,
                labels,
                class_prior=prior,
                class_weight=class_weight,
                reduction="weighted_mean",
                validate=False,
            ),
        ),
        "cost_sensitive_cross_entropy": case(
            ce,
            ("formula: cost[y, argmax] * sparse CE", user_cost),
            lambda x: ours.cost_sensitive_cross_entropy(
                x, labels, cost, reduction="weighted_mean", validate=False
            ),
        ),
        "focal_loss": case(
            ce,
            (
                "keras CategoricalFocalCrossentropy",
                lambda x: keras_focal(one_hot, x),
            ),
            lambda x: ours.focal_loss(x, labels, alpha=0.25, gamma=2.0, validate=False),
        ),
        "sigmoid_cross_entropy": case(
            bce,
            (
                "tf.nn.weighted_cross_entropy_with_logits",
                lambda x: tf.reduce_mean(
                    tf.nn.weighted_cross_entropy_with_logits(targets, x, pos_weight)
                ),
            ),
            lambda x: ours.sigmoid_cross_entropy(x, targets, pos_weight=pos_weight, validate=False),
        ),
        "sigmoid_focal_loss": case(
            bce,
            (
                "keras BinaryFocalCrossentropy(apply_class_balancing)",
                lambda x: keras_binary_focal(targets, x),
            ),
            lambda x: ours.sigmoid_focal_loss(x, targets, alpha=0.25, gamma=2.0, validate=False),
        ),
        "dice_loss": case(
            bce,
            ("keras Dice(axis=(1,))", lambda p: keras_dice(targets, p)),
            lambda p: ours.dice_loss(p, targets, smooth=1.0, validate=False),
            first=probabilities,
        ),
        "soft_precision_loss": case(
            bce,
            ("formula: 1 - (sum pt + 1) / (sum p + 1)", user_soft_precision),
            lambda x: ours.soft_precision_loss(x, targets, validate=False),
        ),
        "soft_f1_loss": case(
            bce,
            ("formula: 1 - (2 sum pt + 1) / (sum p + sum t + 1)", user_soft_f1),
            lambda x: ours.soft_f1_loss(x, targets, validate=False),
        ),
        "huber_loss": case(
            bce,
            ("keras Huber", lambda x: keras_huber(logits, x)),
            lambda x: ours.huber_loss(x, logits, delta=1.0, validate=False),
            first=prediction,
        ),
    }


def tensorflow_step(device):
    import tensorflow as tf

    def step(loss, first, before=None):
        with tf.device(device):
            x = tf.identity(first)
            if device.startswith("/GPU"):
                tf.test.experimental.sync_devices()
            if before is not None:
                before()
            start = time.perf_counter()
            with tf.GradientTape() as tape:
                tape.watch(x)
                value = loss(x)
            grad = tape.gradient(value, x)
            if device.startswith("/GPU"):
                tf.test.experimental.sync_devices()
            elapsed = time.perf_counter() - start
        del grad
        return elapsed

    return step


# ----------------------------------------------------------------------------- Keras 3 cases


def keras_cases(rows):
    """As the other cases, but each function takes ``(x, data)`` and each first input is that
    pair: the batch's other tensors are arguments of the compiled step, not constants in it."""
    import keras
    import numpy as np
    from keras import ops

    from companion import keras as ours

    rng = np.random.default_rng(0)
    c = NUM_CLASSES
    labels = rng.integers(0, c, rows).astype(np.int32)
    class_weight = (rng.random(c) * 3 + 0.2).astype(np.float32)
    alpha = [float(a) for a in class_weight]  # per-class alpha of the focal losses, a list
    arrays = {
        "logits": rng.standard_normal((rows, c), dtype=np.float32),
        "labels": labels,
        "one_hot": np.eye(c, dtype=np.float32)[labels],
        "targets": (rng.random((rows, c)) < 0.2).astype(np.float32),
        "probabilities": rng.random((rows, c), dtype=np.float32),
        "prediction": rng.standard_normal((rows, c), dtype=np.float32) * 2,
        "class_weight": class_weight,
        "sample_weight": class_weight[labels],  # the class weights as Keras' own loss takes them
    }
    data = {key: ops.convert_to_tensor(value) for key, value in arrays.items()}

    sparse = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    focal = keras.losses.CategoricalFocalCrossentropy(alpha=alpha, gamma=2.0, from_logits=True)
    binary_focal = keras.losses.BinaryFocalCrossentropy(
        apply_class_balancing=True, alpha=0.25, gamma=2.0, from_logits=True
    )
    binary = keras.losses.BinaryCrossentropy(from_logits=True)
    huber = keras.losses.Huber(delta=1.0)

    def fused_ce(x, d):
        return ops.mean(ops.sparse_categorical_crossentropy(d["labels"], x, from_logits=True))

    def fused_bce(x, d):
        return ops.mean(ops.binary_crossentropy(d["targets"], x, from_logits=True))

    ce = ("keras.ops.sparse_categorical_crossentropy, mean", fused_ce)
    bce = ("keras.ops.binary_crossentropy, mean", fused_bce)

    def written_dice(p, d):
        t = d["targets"]
        overlap = ops.sum(p * t, axis=1)
        return ops.mean(1 - (2 * overlap + 1) / (ops.sum(p, axis=1) + ops.sum(t, axis=1) + 1))

    def case(floor, peer, mine, first="logits"):
        pair = (data[first], data)
        return {
            "floor": (*floor, (data["logits"], data)),
            "peer": (*peer, pair),
            "ours": ("", mine, pair),
        }

    return {
        "softmax_cross_entropy": case(
            ce,
            (
                "keras SparseCategoricalCrossentropy(sample_weight=class_weight[labels])",
                lambda x, d: sparse(d["labels"], x, sample_weight=d["sample_weight"]),
            ),
            lambda x, d: ours.softmax_cross_entropy(
                x, d["labels"], class_weight=d["class_weight"], validate=False
            ),
        ),
        "focal_loss": case(
            ce,
            (
                "keras CategoricalFocalCrossentropy(alpha=[...]), one-hot",
                lambda x, d: focal(d["one_hot"], x),
            ),
            lambda x, d: ours.focal_loss(x, d["labels"], alpha=alpha, gamma=2.0, validate=False),
        ),
        "sigmoid_cross_entropy": case(
            bce,
            ("keras BinaryCrossentropy", lambda x, d: binary(d["targets"], x)),
            lambda x, d: ours.sigmoid_cross_entropy(x, d["targets"], validate=False),
        ),
        "sigmoid_focal_loss": case(
            bce,
            (
                "keras BinaryFocalCrossentropy(apply_class_balancing)",
                lambda x, d: binary_focal(d["targets"], x),
            ),
            lambda x, d: ours.sigmoid_focal_loss(
                x, d["targets"], alpha=0.25, gamma=2.0, validate=False
            ),
        ),
        "dice_loss": case(
            bce,
            ("formula: 1 - (2 sum pt + 1) / (sum p + sum t + 1)", written_dice),
            lambda p, d: ours.dice_loss(p, d["targets"], smooth=1.0, validate=False),
            first="probabilities",
        ),
        "huber_loss": case(
            bce,
            ("keras Huber", lambda x, d: huber(d["logits"], x)),
            lambda x, d: ours.huber_loss(x, d["logits"], delta=1.0, validate=False),
            first="prediction",
        ),
    }


def keras_step(backend, device_name):
    """A step of loss and gradient w.r.t. ``x``, compiled where the backend has a compiler (once
    per loss and shape, in the warm-up)."""
    compiled = {}
    cuda = device_name == "cuda"
    if backend == "jax":
        import jax

        def step(loss, first, before=None):
            x, data = first
            if loss not in compiled:
                compiled[loss] = jax.jit(jax.value_and_grad(loss))
            jax.block_until_ready(first)
            if before is not None:
                before()
            start = time.perf_counter()
            jax.block_until_ready(compiled[loss](x, data))
            return time.perf_counter() - start

        return step
    if backend == "tensorflow":
        import tensorflow as tf

        def compile_step(loss):
            @tf.function(jit_compile=True)
            def value_and_grad(x, data):
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    value = loss(x, data)
                return value, tape.gradient(value, x)

            return value_and_grad

        def step(loss, first, before=None):
            x, data = first
            if loss not in compiled:
                compiled[loss] = compile_step(loss)
            if cuda:
                tf.test.experimental.sync_devices()
            if before is not None:
                before()
            start = time.perf_counter()
            result = compiled[loss](x, data)
            if cuda:
                tf.test.experimental.sync_devices()
            elapsed = time.perf_counter() - start
            del result
            return elapsed

        return step
    import torch

    def step(loss, first, before=None):
        x, data = first
        x = x.detach().clone().requires_grad_(True)
        if cuda:
            torch.cuda.synchronize()
        if before is not None:
            before()
        start = time.perf_counter()
        loss(x, data).backward()
        if cuda:
            torch.cuda.synchronize()
        return time.perf_counter() - start

    return step


KERAS_STEPS = {
    "tensorflow": "tf.function(jit_compile=True) of loss and gradient",
    "jax": "jax.jit(jax.value_and_grad(loss))",
    "torch": "eager autograd (no compiled step)",
}


def keras_about(framework, device_name):
    """A line on a ``keras-<backend>`` row's versions and step, without importing them."""
    from importlib.metadata import PackageNotFoundError, version

    backend = keras_backend(framework)
    try:
        backend_version = version(backend)
    except PackageNotFoundError:
        backend_version = "(version unknown)"
    where = "GPU" if device_name == "cuda" else "CPU"
    return (
        f"{framework}: keras {version('keras')} on {backend} {backend_version}, {where}, "
        f"{KERAS_STEPS[backend]}, each backend in processes of its own"
    )


def keras_env(framework, device_name):
    """The environment of a child process of a ``keras-<backend>`` row."""
    env = dict(os.environ)
    env["KERAS_BACKEND"] = keras_backend(framework)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if device_name == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""  # every backend on the CPU, none probing for a GPU
        env["JAX_PLATFORMS"] = "cpu"
    else:
        # Up to three processes share the GPU: none may take most of its memory up front.
        env["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"
        env["TF_FORCE_GPU_ALLOW_GROWTH"] = "true"
    return env


def keras_setup(framework, device_name):
    backend = keras_backend(framework)
    os.environ["KERAS_BACKEND"] = backend  # before Keras is imported
    ours = importlib.import_module("companion.keras")
    if ours.BACKEND != backend:
        sys.exit(f"{framework}: Keras was already imported with the {ours.BACKEND} backend")
    if device_name == "cuda":
        if backend == "jax":
            import jax

            has_gpu = jax.default_backend() == "gpu"
        elif backend == "tensorflow":
            import tensorflow as tf

            has_gpu = bool(tf.config.list_physical_devices("GPU"))
        else:
            import torch

            has_gpu = torch.cuda.is_available()
        if not has_gpu:
            sys.exit(f"--device cuda: {backend} sees no GPU; run without it or without keras")
    return keras_cases, keras_step(backend, device_name), keras_about(framework, device_name)


def check_agreement(framework, built, losses, tolerance=1e-4):
    """Ours and Keras' own compute the same number on each case of a Keras row (else the row
    would compare different work)."""
    from keras import ops

    for loss in losses:
        values = {}
        for key in ("peer", "ours"):
            _label, fn, (x, data) = built[loss][key]
            values[key] = float(ops.convert_to_numpy(fn(x, data)))
        if abs(values["ours"] - values["peer"]) > tolerance * max(abs(values["peer"]), 1e-12):
            raise RuntimeError(f"{framework} {loss}: ours and Keras' differ, {values}")


# ----------------------------------------------------------------------------- the two measures


def setup(framework, device_name):
    """``(cases(rows), step(loss, first) -> seconds, a description of the device)``."""
    if keras_backend(framework):
        return keras_setup(framework, device_name)
    if framework == "torch":
        import torch

        if device_name == "cuda" and not torch.cuda.is_available():
            sys.exit("--device cuda: torch.cuda.is_available() is False; run without it")
        device = torch.device(device_name)
        where = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
        about = f"torch {torch.__version__} on {where} ({torch.get_num_threads()} threads)"
        return (lambda rows: torch_cases(rows, device)), torch_step(device), about
    os.environ["KERAS_BACKEND"] = "tensorflow"  # its peers are Keras' losses
    importlib.import_module("companion.tensorflow")  # first: it keeps TF's start-up quiet
    import tensorflow as tf

    if device_name == "cuda" and not tf.config.list_physical_devices("GPU"):
        sys.exit("--device cuda: TensorFlow sees no GPU; run without it or with --framework torch")
    device = "/GPU:0" if device_name == "cuda" else "/CPU:0"
    about = f"tensorflow {tf.__version__} on {device} (eager)"
    return (lambda rows: tensorflow_cases(rows, device)), tensorflow_step(device), about


def time_case(variants, step, repeats, warmup):
    """Our median time and the medians of the paired ratios ours / floor and ours / peer."""
    for _ in range(warmup):
        for _label, loss, first in variants.values():
            step(loss, first)
    times = {key: [] for key in VARIANTS}
    for round_ in range(repeats):
        order = VARIANTS[round_ % 3 :] + VARIANTS[: round_ % 3]
        for key in order:
            _label, loss, first = variants[key]
            times[key].append(step(loss, first))
    ratio = {
        key: statistics.median(o / n for o, n in zip(times["ours"], times[key], strict=True))
        for key in ("floor", "peer")
    }
    return statistics.median(times["ours"]), ratio


def _status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _settle(interval=0.02, steady=3, timeout=5.0):
    """Wait until the resident set has stopped shrinking for ``steady`` intervals: JAX frees the
    buffers of a step a moment after the step returns, on a thread of its own, and a peak
    measured from before that would start from memory about to be freed."""
    deadline = time.monotonic() + timeout
    last, unchanged = _status("VmRSS"), 0
    while unchanged < steady and time.monotonic() < deadline:
        time.sleep(interval)
        now = _status("VmRSS")
        unchanged = unchanged + 1 if now >= last else 0
        last = min(last, now)


def peak_memory(framework, loss, variant, rows, device_name):
    """Bytes the step of one variant adds at its peak; run in a fresh process (``--child``)."""
    cases, step, _ = setup(framework, device_name)
    if keras_backend(framework):
        # A compiled step is compiled for the shape it runs at: the warm-up is at the measured
        # size, so that neither compilation nor lazy initialisation is the loss's memory.
        _label, fn, first = cases(rows)[loss][variant]
        step(fn, first)
        if device_name == "cpu":
            _settle()
    else:
        _label, fn, first = cases(WARM_ROWS)[loss][variant]
        step(fn, first)  # lazy initialisation (kernels, thread pools) is not the loss's memory
        _label, fn, first = cases(rows)[loss][variant]
    # The measured step starts from the leaf copy of the input (made before ``before``).
    start = {}
    if device_name == "cuda" and keras_backend(framework) == "jax":
        import jax

        def before():
            # No reset of JAX's peak: the warm-up ran this very step, whose peak it is.
            start["bytes"] = jax.devices()[0].memory_stats()["bytes_in_use"]

        step(fn, first, before)
        return jax.devices()[0].memory_stats()["peak_bytes_in_use"] - start["bytes"]
    if device_name == "cuda" and framework in ("torch", "keras-torch"):
        import torch

        def before():
            torch.cuda.reset_peak_memory_stats()
            start["bytes"] = torch.cuda.memory_allocated()

        step(fn, first, before)
        return torch.cuda.max_memory_allocated() - start["bytes"]
    if device_name == "cuda":
        import tensorflow as tf

        def before():
            tf.config.experimental.reset_memory_stats("GPU:0")
            start["bytes"] = tf.config.experimental.get_memory_info("GPU:0")["current"]

        step(fn, first, before)
        return tf.config.experimental.get_memory_info("GPU:0")["peak"] - start["bytes"]

    def before():
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # VmHWM := VmRSS
        start["bytes"] = _status("VmRSS")

    step(fn, first, before)
    return _status("VmHWM") - start["bytes"]


def measure_memory(framework, loss, rows, device_name):
    """``{variant: peak bytes}``, each variant in a fresh Python process."""
    env = keras_env(framework, device_name) if keras_backend(framework) else dict(os.environ)
    # Fixed, so that glibc returns every freed block of 64 KiB or more to the system at once
    # and the resident set follows the live tensors (its default threshold adapts).
    env["MALLOC_MMAP_THRESHOLD_"] = str(64 * 1024)
    if framework in ("tensorflow", "keras-tensorflow"):
        # oneDNN's allocator keeps freed blocks in a pool of its own, which would hide a step's
        # allocations from the resident set; without it TensorFlow allocates through malloc.
        env["TF_ENABLE_ONEDNN_OPTS"] = "0"
    peaks = {}
    for variant in VARIANTS:
        command = [sys.executable, os.path.abspath(__file__), "--child"]
        command += [framework, loss, variant, str(rows), device_name]
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{framework} {loss} {variant}: {done.stderr.strip()[-2000:]}")
        peaks[variant] = json.loads(done.stdout.strip().splitlines()[-1])["peak"]
    return peaks


def time_cases(built, step, losses, repeats, warmup):
    """For each loss, ``(loss, our seconds, time ratios, floor's label, peer's label)``."""
    for loss in losses:
        variants = built[loss]
        seconds, ratio = time_case(variants, step, repeats, warmup)
        yield loss, seconds, ratio, variants["floor"][0], variants["peer"][0]


RESULT = "result "  # the prefix of a timing child's lines on stdout


def time_in_child(framework, rows, losses, repeats, warmup, device_name):
    """:func:`time_cases` of a ``keras-<backend>`` row, run in a child process (Keras' backend
    is fixed by the first import); yields each loss's result as it comes."""
    command = [sys.executable, os.path.abspath(__file__), "--child-time", framework]
    command += [str(rows), ",".join(losses), str(repeats), str(warmup), device_name]
    with (
        tempfile.TemporaryFile("w+") as errors,
        subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env=keras_env(framework, device_name),
        ) as child,
    ):
        for line in child.stdout:
            if line.startswith(RESULT):
                yield tuple(json.loads(line.removeprefix(RESULT)))
        child.wait()
        if child.returncode != 0:
            errors.seek(0)
            raise RuntimeError(f"{framework} timings: {errors.read().strip()[-2000:]}")


def child_time(framework, rows, losses, repeats, warmup, device_name):
    """The body of ``--child-time``: one JSON line per loss on stdout."""
    make, step, _about = setup(framework, device_name)
    built = make(rows)
    check_agreement(framework, built, losses)
    for result in time_cases(built, step, losses, repeats, warmup):
        print(RESULT + json.dumps(result), flush=True)


# ----------------------------------------------------------------------------- the table


COLUMNS = (
    ("framework", "<16"),
    ("loss", "<28"),
    ("ms", ">7"),
    ("t/floor", ">7"),
    ("t/peer", ">6"),
    ("MiB", ">6"),
    ("m/floor", ">7"),
    ("m/peer", ">6"),
    ("targets", "<32"),
    ("pass", "<4"),
)


def verdicts(framework, loss, ratios):
    """``(text of the targets, "yes" or "NO")``; ``ratios`` maps "time"/"memory" to dicts."""
    parts, passed = [], True
    for measure, against, limit in targets_of(framework, loss):
        value = ratios[measure][against]
        short = "t" if measure == "time" else "m"
        if value is None:
            parts.append(f"{short}/{against}<={limit:.2f}:n/a")
            continue
        ok = value <= limit
        passed &= ok
        parts.append(f"{short}/{against}<={limit:.2f}:{'ok' if ok else 'NO'}")
    return " ".join(parts), "yes" if passed else "NO"


def ratio_text(value):
    return "-" if value is None else f"{value:.2f}"


def row(framework, loss, ms, time_ratio, mib, memory_ratio):
    targets, passed = verdicts(framework, loss, {"time": time_ratio, "memory": memory_ratio})
    values = (
        framework,
        loss,
        f"{ms:.1f}",
        ratio_text(time_ratio["floor"]),
        ratio_text(time_ratio["peer"]),
        "-" if mib is None else f"{mib:.1f}",
        ratio_text(memory_ratio["floor"]),
        ratio_text(memory_ratio["peer"]),
        targets,
        passed,
    )
    return " ".join(f"{v:{spec}}" for v, (_, spec) in zip(values, COLUMNS, strict=True))


def header():
    return " ".join(f"{name:{spec}}" for name, spec in COLUMNS)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("``", ""))
    parser.add_argument("--rows", type=int, help=f"rows of the batch (10**6; {QUICK_ROWS} quick)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--repeats", type=int, help="timed rounds after warm-up (5; 3 quick)")
    parser.add_argument("--threads", type=int, help="CPU threads of PyTorch (default: its own)")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--framework", choices=(*FRAMEWORKS, "all"), default="all")
    parser.add_argument(
        "--keras-backends",
        help=f"comma-separated Keras backends of --framework keras (default: "
        f"{','.join(KERAS_BACKENDS)})",
    )
    parser.add_argument("--losses", help="comma-separated subset of the losses (default: all)")
    parser.add_argument("--no-memory", action="store_true", help="time only")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    parser.add_argument("--child-time", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.threads:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)  # the child processes too
        import torch

        torch.set_num_threads(args.threads)
    if args.child:
        framework, loss, variant, rows, device_name = args.child
        peak = peak_memory(framework, loss, variant, int(rows), device_name)
        print(json.dumps({"peak": peak}))
        return
    if args.child_time:
        framework, rows, losses, repeats, warmup, device_name = args.child_time
        child_time(framework, int(rows), losses.split(","), int(repeats), int(warmup), device_name)
        return
    rows = args.rows or (QUICK_ROWS if args.quick else 10**6)
    repeats = args.repeats or (3 if args.quick else 5)
    warmup = 1
    backends = KERAS_BACKENDS
    if args.keras_backends:
        backends = tuple(name.strip() for name in args.keras_backends.split(","))
        unknown = sorted(set(backends) - set(KERAS_BACKENDS))
        if unknown:
            parser.error(
                f"--keras-backends: unknown {', '.join(unknown)}; "
                f"known: {', '.join(KERAS_BACKENDS)}"
            )
    losses = LOSSES
    if args.losses:
        losses = tuple(name.strip() for name in args.losses.split(","))
        unknown = sorted(set(losses) - set(LOSSES))
        if unknown:
            parser.error(f"--losses: unknown {', '.join(unknown)}; known: {', '.join(LOSSES)}")
    frameworks = []
    for framework in FRAMEWORKS if args.framework == "all" else (args.framework,):
        if framework != "keras":
            frameworks.append(framework)
        elif any(loss in KERAS_LOSSES for loss in losses):
            frameworks += [f"keras-{backend}" for backend in backends]
    losses_of = {
        framework: tuple(
            loss for loss in losses if not keras_backend(framework) or loss in KERAS_LOSSES
        )
        for framework in frameworks
    }
    cases = {}
    for framework in frameworks:
        if keras_backend(framework):  # set up in its child processes
            print(keras_about(framework, args.device))
            continue
        make, step, about = setup(framework, args.device)
        cases[framework] = (make, step)
        print(about)
    print(
        f"{rows} rows x {NUM_CLASSES} classes, float32, forward + backward, validate=False; "
        f"time: median of {repeats} rounds after {warmup} warm-up, paired ratios; "
        "memory: peak of one step, each in a fresh process"
    )
    if args.device == "cpu" and not args.no_memory:
        with_tf = [f for f in frameworks if f in ("tensorflow", "keras-tensorflow")]
        if with_tf:
            print(
                f"{' and '.join(with_tf)} memory measured with TF_ENABLE_ONEDNN_OPTS=0 "
                "(its pool hides peaks)"
            )
    if any(keras_backend(framework) for framework in frameworks):
        print(
            "keras rows: companion.keras (reduction='mean') against Keras' own loss on the "
            "same backend (its default reduction); the floor is keras.ops' cross-entropy"
        )
    print("t/ = time ratio, m/ = peak-memory ratio, ours over the native floor or the peer")
    # Memory first, in child processes three at a time (the peaks do not depend on the CPUs
    # free), so that they never run beside the timings.
    memory = {}
    if not args.no_memory:
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            futures = {
                pool.submit(measure_memory, framework, loss, rows, args.device): (framework, loss)
                for framework in frameworks
                for loss in losses_of[framework]
            }
            for future in concurrent.futures.as_completed(futures):
                framework, loss = futures[future]
                memory[framework, loss] = future.result()
                peaks = memory[framework, loss]
                print(
                    f"memory {framework} {loss}: "
                    + ", ".join(f"{k} {v / 2**20:.1f} MiB" for k, v in peaks.items()),
                    file=sys.stderr,
                    flush=True,
                )
    lines, peers, failed = [], [], []
    for framework in frameworks:
        if keras_backend(framework):
            results = time_in_child(
                framework, rows, losses_of[framework], repeats, warmup, args.device
            )
        else:
            make, step = cases[framework]
            results = time_cases(make(rows), step, losses_of[framework], repeats, warmup)
        for loss, seconds, time_ratio, floor, peer in results:
            peaks = memory.get((framework, loss))
            memory_ratio, mib = {"floor": None, "peer": None}, None
            if peaks is not None:
                mib = peaks["ours"] / 2**20
                # A rise below RESOLUTION is page and allocator noise: no ratio of it.
                for key in ("floor", "peer"):
                    if min(peaks[key], peaks["ours"]) >= RESOLUTION:
                        memory_ratio[key] = peaks["ours"] / peaks[key]
            line = row(framework, loss, seconds * 1e3, time_ratio, mib, memory_ratio)
            print(f"done   {line}", file=sys.stderr, flush=True)
            lines.append(line)
            if line.rstrip().endswith("NO"):
                failed.append(f"{framework} {loss}")
            peers.append(f"  {framework} {loss}: floor {floor}; peer {peer}")
        del results
    print(header())
    for line in lines:
        print(line)
    print("floor and peer of each row:")
    for line in peers:
        print(line)
    print(f"targets failed: {', '.join(failed) if failed else 'none'}")


if __name__ == "__main__":
    main()
