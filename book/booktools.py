"""What the chapters share that is not their lesson.

Tables, comparisons, per-class metrics and figure style. The chapters import
it as ``import booktools``: it sits beside them, and a notebook runs in its
own folder. It is not part of ``companion``: the package holds the losses a
reader calls from training code, this module the book's presentation.

Every printed claim goes through :func:`agree` or a rounded number, never a
raw float difference: the last digits of a float change with the CPU's
instruction set and thread count, and nbval compares the printed text.
A number that comes out of training is printed only through :func:`held`
(or :func:`held_spread`), which refuses a digit that the arithmetic noise of
that training could flip on another CPU.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "FragileDigits",
    "Held",
    "agree",
    "close",
    "compare_over_seeds",
    "held",
    "held_spread",
    "holm",
    "markdown_table",
    "nudge",
    "precision_per_class",
    "recall_per_class",
    "style_figures",
    "to_numpy",
]


def to_numpy(value) -> np.ndarray:
    """A float64 NumPy copy of an array, tensor or variable, on the host.

    Handles anything ``np.asarray`` takes, PyTorch tensors (detached, moved
    to the CPU), TensorFlow tensors and Keras variables (``.numpy()``),
    Chainer variables (``.array``) and CuPy arrays (``.get()``).

    >>> to_numpy([1, 2]).dtype
    dtype('float64')
    """
    if hasattr(value, "detach"):  # torch.Tensor
        value = value.detach().cpu().numpy()
    elif hasattr(value, "array") and not isinstance(
        value, np.ndarray
    ):  # chainer.Variable
        value = value.array
    if hasattr(value, "numpy") and not isinstance(
        value, np.ndarray
    ):  # tf.Tensor, keras.Variable
        value = value.numpy()
    if hasattr(value, "get") and type(value).__module__.startswith("cupy"):
        value = value.get()
    return np.asarray(value, dtype=np.float64)


def close(a, b, *, rtol: float = 1e-5, atol: float = 1e-6) -> bool:
    """Whether two losses or gradients agree: ``|a - b| <= atol + rtol·|b|``.

    The defaults are float32 precision; pass ``rtol=atol=1e-12`` for float64.

    >>> close(1.0, 1.0 + 1e-7), close(1.0, 1.001)
    (True, False)
    """
    a, b = to_numpy(a), to_numpy(b)
    if a.shape != b.shape:
        raise ValueError(
            f"close: a and b must have one shape, got {a.shape} and {b.shape}"
        )
    return bool(np.allclose(a, b, rtol=rtol, atol=atol))


def agree(a, b, *, rtol: float = 1e-5, atol: float = 1e-6) -> str:
    """The comparison of ``a`` and ``b``, in words the same on every machine.

    Equal within the tolerance, it says so and names the tolerance.
    Different, it gives the largest difference to two significant figures:
    a real difference is far above float error, so this too is stable (float
    noise fails the test only where the tolerance is too tight).

    >>> agree(0.5, 0.5 + 1e-9)
    'equal to rtol 1e-05, atol 1e-06'
    >>> agree([0.5, 1.0], [0.5, 1.25])
    'different: largest |difference| 0.25'
    """
    if close(a, b, rtol=rtol, atol=atol):
        return f"equal to rtol {rtol:.0e}, atol {atol:.0e}"
    largest = float(np.max(np.abs(to_numpy(a) - to_numpy(b))))
    return f"different: largest |difference| {largest:.2g}"


def _cell(value) -> str:
    # A literal pipe would end the cell: escape it. Newlines would end the row.
    return str(value).replace("|", r"\|").replace("\n", " ")


def markdown_table(header, rows):
    """A code cell's output that the book renders as a table (MyST Markdown).

    ``header`` holds the column titles (Markdown, so ``$w_c$`` renders as
    math), ``rows`` a sequence of rows of values, each shown with ``str``.
    Literal ``|`` are escaped.

    >>> print(markdown_table(["a", "b"], [(1, "x|y")]).data)
    | a | b |
    |---|---|
    | 1 | x\\|y |
    """
    from IPython.display import Markdown

    header = [_cell(h) for h in header]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        row = [_cell(v) for v in row]
        if len(row) != len(header):
            raise ValueError(
                f"rows: expected {len(header)} values per row, "
                f"got {len(row)}: {row}"
            )
        lines.append("| " + " | ".join(row) + " |")
    return Markdown("\n".join(lines))


def _per_class(predicted, truth, num_classes, *, by):
    predicted = np.asarray(predicted).ravel()
    truth = np.asarray(truth).ravel()
    if predicted.shape != truth.shape:
        raise ValueError(
            f"predicted: expected the shape of truth {truth.shape}, "
            f"got {predicted.shape}"
        )
    reference = truth if by == "truth" else predicted
    out = np.full(num_classes, np.nan)
    for c in range(num_classes):
        chosen = reference == c
        if chosen.any():
            out[c] = float(np.mean(predicted[chosen] == truth[chosen]))
    return out


def recall_per_class(predicted, truth, num_classes: int) -> np.ndarray:
    """Recall of each class: the share of its elements predicted as it.

    ``predicted`` and ``truth`` hold integer classes of one shape (labels,
    masks: any rank). A class absent from ``truth`` gets NaN.

    >>> recall_per_class([0, 1, 1, 1], [0, 0, 1, 1], 2)
    array([0.5, 1. ])
    """
    return _per_class(predicted, truth, num_classes, by="truth")


def precision_per_class(predicted, truth, num_classes: int) -> np.ndarray:
    """Precision of each class: the share of its predictions that are right.

    A class that is never predicted gets NaN.

    >>> precision_per_class([0, 1, 1, 1], [0, 0, 1, 1], 2)
    array([1.        , 0.66666667])
    """
    return _per_class(predicted, truth, num_classes, by="predicted")


def style_figures() -> None:
    """Figures sharp on high-DPI screens, legible at the book's column width.

    Inline figures become PNG at twice the pixel density (``retina``), drawn
    at 6.4 × 3.6 inches on a white background (readable in the dark theme
    too), with fonts sized for the column.
    """
    import matplotlib as mpl
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    set_matplotlib_formats("retina")
    mpl.rcParams.update(
        {
            "figure.figsize": (6.4, 3.6),
            "figure.facecolor": "white",
            "savefig.facecolor": "white",
            "font.size": 11,
            "axes.titlesize": 11,
            "axes.labelsize": 11,
            "legend.fontsize": 9.5,
            "xtick.labelsize": 9.5,
            "ytick.labelsize": 9.5,
            "figure.constrained_layout.use": True,
        }
    )


# Printed digits of numbers that come out of training
# ---------------------------------------------------
#
# Two CPUs (Intel and AMD, AVX2 and AVX-512, one thread or several) round the
# last bit of a sum or a product differently, and no setting on one machine
# reproduces another vendor's kernels. Training grows that last bit: after a
# few hundred float32 steps a metric can move in its second decimal, and a
# digit near a rounding boundary flips. The check: train a twin whose
# initial weights (or inputs) are moved by one float32 rounding unit, which is
# what another CPU's kernels amount to, and print a digit only where the
# twins' values lie far from a rounding boundary compared with how far apart
# the twins are.

# How many times the twins' difference the value must clear a rounding
# boundary by: 3 when the outputs are stored (BOOK_STORE_OUTPUTS=1, set by
# scripts/run_notebook.py), 1 when a test re-executes the chapter. The gap
# between the two is what lets the check itself pass on another CPU, whose
# value and twins move by about the twins' difference.
STORE_MARGIN = 3.0
TEST_MARGIN = 1.0
_FLOOR = 1e-9  # below any float64 sum-order noise of a printed mean


# Every check made in this process: (cell, decimals, distance to the rounding
# boundary, largest difference to a twin), for scripts/held_margins.py.
CHECKS: list[tuple[int | None, int, float, float]] = []


def _cell_number():
    try:
        from IPython import get_ipython

        return get_ipython().execution_count - 1  # counted before it ends
    except (ImportError, AttributeError):
        return None


class FragileDigits(ValueError):
    """A number printed to more digits than the noise of its training allows."""


def _margin() -> float:
    import os

    store = os.environ.get("BOOK_STORE_OUTPUTS", "") not in ("", "0")
    return STORE_MARGIN if store else TEST_MARGIN


def _decimals(spec: str) -> int:
    """The decimals of a format spec: ``.2f`` 2, ``.1%`` 3, ``d`` 0."""
    import re

    match = re.fullmatch(r"[^.]*?(?:\.(\d+))?([fF%d])", spec)
    if match is None or (match.group(1) is None) != (match.group(2) == "d"):
        raise ValueError(
            f"spec: expected a fixed-point format such as '.2f', '.1%' or "
            f"'d' (a number from training is printed to a set number of "
            f"decimals), got {spec!r}"
        )
    decimals = int(match.group(1) or 0)
    return decimals + 2 if match.group(2) == "%" else decimals


def _check(value: float, twins, decimals: int, what: str) -> None:
    if not np.isfinite(value):
        raise FragileDigits(
            f"{what}: the value is {value}, not a finite number"
        )
    scale = 10.0**decimals
    scaled = value * scale
    distance = abs(scaled - np.floor(scaled) - 0.5) / scale  # to k + 1/2
    spread = max((abs(value - t) for t in twins), default=0.0)
    margin = _margin()
    needed = margin * spread + _FLOOR * max(1.0, abs(value))
    CHECKS.append((_cell_number(), decimals, distance, spread))
    if not distance > needed:
        raise FragileDigits(
            f"{what}: {value!r} printed to {decimals} decimals lies "
            f"{distance:.2g} from a rounding boundary, and its twin runs "
            f"differ from it by up to {spread:.2g} (margin {margin:g}x): "
            f"print fewer decimals, or train so that this digit holds"
        )


class Held:
    """A number from training and the same number from its nudged twins.

    Formatting it with a fixed-point spec (``f"{h:.2f}"``) prints the value
    after checking that the digits hold: the value must lie farther from
    the spec's rounding boundary than ``margin`` times its largest distance
    to a twin (plus 1e-9 for the float64 order of a sum), where ``margin``
    is 3 when a chapter's outputs are stored and 1 when a test re-executes
    it. Otherwise it raises :class:`FragileDigits`. There is no ``str``:
    a number from training has no precision until one is asked for.

    >>> f"{Held(0.8571, 0.8579):.2f}"
    '0.86'
    >>> f"{Held(0.8571, 0.8579):.3f}"  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    booktools.FragileDigits: value: 0.8571 printed to 3 decimals lies 0.0004 ...
    """

    __slots__ = ("twins", "value")

    def __init__(self, value, *twins):
        self.value = float(value)
        self.twins = tuple(float(t) for t in twins)
        if not self.twins:
            raise TypeError(
                "twins: expected the same number from at least one nudged "
                "twin run, got none"
            )

    def __format__(self, spec: str) -> str:
        decimals = _decimals(spec)
        _check(self.value, self.twins, decimals, "value")
        if spec.endswith("d"):
            return format(round(self.value), spec)
        return format(self.value, spec)

    def __str__(self) -> str:
        raise TypeError(
            "Held: format it with a precision (f'{x:.2f}'); a number from "
            "training has no printable precision of its own"
        )

    __repr__ = object.__repr__


def held(value, *twins):
    """Pair a number from training with the same number from twin runs.

    ``value`` and each twin are scalars, or arrays, lists or dicts of one
    structure; the result has that structure with a :class:`Held` at every
    leaf, so ``f"{held(r, r_twin)['recall'][3]:.2f}"`` works as the plain
    number's format would, with the check. Build the twins with
    :func:`nudge`.

    >>> f"{held([0.5, 0.27], [0.5, 0.26])[1]:.1f}"
    '0.3'
    """
    if not twins:
        raise TypeError(
            "twins: expected the same result from at least one nudged twin "
            "run, got none"
        )
    if isinstance(value, dict):
        for t in twins:
            if not isinstance(t, dict) or set(t) != set(value):
                raise ValueError(
                    f"twins: expected dicts with the keys {sorted(value)}, "
                    f"got {type(t).__name__} "
                    f"{sorted(t) if isinstance(t, dict) else ''}"
                )
        return {k: held(value[k], *(t[k] for t in twins)) for k in value}
    array = to_numpy(value)
    others = [to_numpy(t) for t in twins]
    for t in others:
        if t.shape != array.shape:
            raise ValueError(
                f"twins: expected the shape of value {array.shape}, "
                f"got {t.shape}"
            )
    if array.ndim == 0:
        return Held(array, *others)
    return [held(array[i], *(t[i] for t in others)) for i in range(len(array))]


def held_spread(values, *twins, decimals: int = 2) -> str:
    """``"mean ± sd"`` of runs over seeds, each part checked by :func:`held`.

    ``values`` holds one number per seed, each twin the same numbers from
    the nudged runs; the standard deviation is NumPy's (``ddof=0``). A
    no-break space keeps the three parts on one line.

    >>> held_spread([0.8, 0.9, 0.7], [0.8, 0.9, 0.71], decimals=1)
    '0.8\\xa0±\\xa00.1'
    """
    values = to_numpy(values)
    if values.ndim != 1 or values.size < 2:
        raise ValueError(
            f"values: expected one number per seed, two or more, got shape "
            f"{values.shape}"
        )
    twins = [to_numpy(t) for t in twins]
    mean = held(values.mean(), *(t.mean() for t in twins))
    sd = held(values.std(), *(t.std() for t in twins))
    spec = f".{decimals}f"
    return f"{mean:{spec}}\u00a0±\u00a0{sd:{spec}}"


def _nudged_array(array, rng):
    array = np.asarray(array)
    if not np.issubdtype(array.dtype, np.floating):
        raise TypeError(
            f"value: expected floating-point numbers to nudge, got dtype "
            f"{array.dtype}"
        )
    step = np.spacing(np.abs(array))  # one rounding unit of its own dtype
    if rng is not None:
        step = step * rng.choice(np.array([-1, 1], array.dtype), array.shape)
    return array + step


def nudge(value, *, seed=None):
    """Move every number of ``value`` by one rounding unit of its dtype.

    What another CPU's kernels amount to, once: the twin run that
    :func:`held` compares with is the same training with its weights
    nudged after every optimiser step (``seed`` the step number, so the
    directions are random but fixed). Without ``seed`` every number moves
    up; with it, each moves up or down as ``np.random.default_rng(seed)``
    draws.

    Takes a NumPy array or a float (returns a new one), or a model, changed
    in place and returned: a PyTorch ``nn.Module`` (its parameters), a Keras
    model (its weights), a Chainer ``Link`` (its parameters) or a list of
    Theano shared variables. For Keras ``fit``, :func:`nudge_callback`
    does it after every batch.

    >>> x = np.array([1.0, -2.0], dtype=np.float32)
    >>> (nudge(x) - x).tolist()
    [1.1920928955078125e-07, 2.384185791015625e-07]
    """
    rng = None if seed is None else np.random.default_rng(seed)
    return _nudge(value, rng)


def _nudge(value, rng):
    if isinstance(value, (list, tuple)):
        for item in value:
            _nudge(item, rng)
        return value
    if hasattr(value, "named_parameters"):  # torch.nn.Module
        import torch

        with torch.no_grad():
            for p in value.parameters():
                moved = _nudged_array(p.detach().cpu().numpy(), rng)
                p.copy_(torch.from_numpy(moved))
        return value
    if hasattr(value, "trainable_weights") and hasattr(value, "compile"):
        for w in value.trainable_weights:  # Keras model
            w.assign(_nudged_array(np.asarray(w), rng))
        return value
    if hasattr(value, "namedparams"):  # chainer.Link
        for p in value.params():
            p.array[...] = _nudged_array(p.array, rng)
        return value
    if hasattr(value, "set_value") and hasattr(value, "get_value"):  # Theano
        value.set_value(_nudged_array(value.get_value(), rng))
        return value
    if isinstance(value, (float, np.floating, np.ndarray)):
        nudged = _nudged_array(value, rng)
        return nudged if isinstance(value, np.ndarray) else nudged.item()
    raise TypeError(
        f"value: expected a NumPy array, a float, a torch module, a Keras "
        f"model, a Chainer link or Theano shared variables, got "
        f"{type(value).__name__}"
    )


def nudge_callback():
    """A Keras callback that nudges the model after every training batch.

    ``model.fit(..., callbacks=[nudge_callback()])`` trains the twin run of
    :func:`held`: the weights move by one rounding unit, in directions drawn
    from the batch's running number, after each optimiser step.
    """
    import keras

    class NudgeEachBatch(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.batches = 0

        def on_train_batch_end(self, batch, logs=None):
            nudge(self.model, seed=self.batches)
            self.batches += 1

    return NudgeEachBatch()


# Comparing remedies over seeds
# -----------------------------


def _held_side(value, twins, threshold, what):
    """Whether ``value`` < ``threshold``; refused if a twin could flip it."""
    spread = max((abs(value - t) for t in twins), default=0.0)
    needed = _margin() * spread + _FLOOR * max(1.0, abs(threshold))
    if not abs(value - threshold) > needed:
        raise FragileDigits(
            f"{what}: {value!r} lies {abs(value - threshold):.2g} from "
            f"{threshold}, and its twin runs differ from it by up to "
            f"{spread:.2g}: the verdict could flip on another CPU"
        )
    return value < threshold


def _paired(scores, baseline, names):
    base = np.asarray(scores[baseline], dtype=np.float64)
    out = {}
    for name in names:
        values = np.asarray(scores[name], dtype=np.float64)
        if values.shape != base.shape:
            raise ValueError(
                f"scores: expected one value per seed for every remedy, "
                f"{base.shape} like {baseline!r}, "
                f"got {values.shape} for {name!r}"
            )
        out[name] = values - base
    return out


def _t_summary(differences, level):
    from scipy import stats

    n = differences.size
    mean = differences.mean()
    se = differences.std(ddof=1) / np.sqrt(n)
    half = stats.t.ppf(0.5 + level / 2, n - 1) * se
    if se == 0:
        p = 1.0 if mean == 0 else 0.0
    else:
        p = 2 * stats.t.sf(abs(mean / se), n - 1)
    return mean, mean - half, mean + half, p


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjustment of p-values for several comparisons.

    The k-th smallest of m p-values is multiplied by m − k + 1, and the
    adjusted values are made non-decreasing in that order (capped at 1);
    a comparison is beyond the noise at level α if its adjusted p is
    below α. Holm, *Scand. J. Statist.* 6 (1979) 65–70.

    >>> holm([0.01, 0.04, 0.03]).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1 or np.any((p < 0) | (p > 1)) or np.any(np.isnan(p)):
        raise ValueError(
            f"p_values: expected a 1-D sequence of probabilities in [0, 1], "
            f"got {p!r}"
        )
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(scaled)
    return adjusted


def _signed(text: str) -> str:
    """A true minus sign, and no sign on a number that rounds to 0."""
    if text.strip("+-0.") == "":
        return text.lstrip("+-")
    return text.replace("-", "−")


def compare_over_seeds(
    scores,
    twin_scores,
    *,
    baseline: str,
    decimals: int = 2,
    level: float = 0.95,
    title: str | None = None,
):
    """Each remedy against ``baseline``, paired by seed, as a table.

    ``scores`` maps a remedy's name to its metric on each seed (the same
    seeds, in the same order, for every remedy); ``twin_scores`` holds the
    same from the twin runs (see :func:`held`). For every remedy but the
    baseline, the table gives the mean of the paired differences
    d_s = remedy_s − baseline_s with its t interval at ``level``
    (mean ± t_{n−1} · sd/√n), the two-sided paired t-test's p-value
    adjusted by :func:`holm` over the table's comparisons, and whether the
    difference is beyond the noise: adjusted p < 1 − ``level``. Every
    printed number and verdict goes through the twin check. A ``title``
    heads the table in the same output (a title printed beside it would be
    merged with the cell's other printed text, away from its table).

    >>> scores = {"none": [0.50, 0.52, 0.48, 0.51], "weights": [0.60, 0.61,
    ...           0.59, 0.62], "focal": [0.51, 0.51, 0.49, 0.53]}
    >>> print(compare_over_seeds(scores, scores, baseline="none").data)
    | remedy | − none | 95 % t interval | p (Holm, 2 tests) | beyond the noise |
    |---|---|---|---|---|
    | weights | +0.10 | +0.09 to +0.12 | < 0.01 | yes |
    | focal | +0.01 | −0.01 to +0.03 | 0.32 | no |
    """
    if baseline not in scores:
        raise ValueError(
            f"baseline: expected one of {sorted(scores)}, got {baseline!r}"
        )
    if not 0 < level < 1:
        raise ValueError(f"level: expected a number in (0, 1), got {level!r}")
    names = [name for name in scores if name != baseline]
    if not names:
        raise ValueError(
            "scores: expected at least one remedy besides baseline"
        )
    if set(twin_scores) != set(scores):
        raise ValueError(
            f"twin_scores: expected the remedies {sorted(scores)}, "
            f"got {sorted(twin_scores)}"
        )
    seeds = np.asarray(scores[baseline]).size
    if seeds < 2:
        raise ValueError(
            f"scores: expected two or more seeds per remedy, got {seeds}"
        )
    runs = [
        _paired(scores, baseline, names),
        _paired(twin_scores, baseline, names),
    ]
    summaries = [{n: _t_summary(r[n], level) for n in names} for r in runs]
    adjusted = [holm([s[n][3] for n in names]) for s in summaries]
    alpha = 1 - level
    spec = f"+.{decimals}f"
    rows = []
    for i, name in enumerate(names):
        (mean, low, high, _), (t_mean, t_low, t_high, _) = (
            summaries[0][name],
            summaries[1][name],
        )
        mean, low, high = (
            _signed(format(Held(v, t), spec))
            for v, t in ((mean, t_mean), (low, t_low), (high, t_high))
        )
        p, t_p = adjusted[0][i], adjusted[1][i]
        small = 10.0**-decimals
        if _held_side(p, [t_p], small, f"p of {name}"):
            p_text = f"< {small:.{decimals}f}"
        else:
            p_text = format(Held(p, t_p), f".{decimals}f")
        beyond = _held_side(p, [t_p], alpha, f"verdict on {name}")
        rows.append(
            (name, mean, f"{low} to {high}", p_text, "yes" if beyond else "no")
        )
    header = [
        "remedy",
        f"− {baseline}",
        f"{level:.0%} t interval".replace("%", " %"),
        f"p (Holm, {len(names)} tests)",
        "beyond the noise",
    ]
    table = markdown_table(header, rows)
    if title is None:
        return table
    if not isinstance(title, str):
        raise TypeError(f"title: expected a str, got {type(title).__name__}")
    from IPython.display import Markdown

    return Markdown(f"**{title}**\n\n{table.data}")
