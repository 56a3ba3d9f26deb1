"""What the chapters share that is not their lesson.

Tables, comparisons, per-class metrics and figure style. The chapters import
it as ``import booktools``: it sits beside them, and a notebook runs in its
own folder. It is not part of ``companion``: the package holds the losses a
reader calls from training code, this module the book's presentation.

Every printed claim goes through :func:`agree` or a rounded number, never a
raw float difference: the last digits of a float change with the CPU's
instruction set and thread count, and nbval compares the printed text.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "agree",
    "close",
    "markdown_table",
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
