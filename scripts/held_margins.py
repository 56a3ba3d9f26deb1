"""How much room each chapter's printed numbers from training have: a report, not a test.

    .venv/bin/python scripts/held_margins.py book/NAME.ipynb [...]

Executes each notebook in a fresh kernel (in memory: nothing is written back), under the
margin used when outputs are stored, and prints, for every code cell that printed a number
through `booktools.held` or `booktools.held_spread`, how many numbers it checked and the
tightest one: its distance to a rounding boundary over its largest difference to a twin run
(the margin; "exact" where the twins agreed to the last bit).
"""

import os
import sys
from pathlib import Path

import nbformat
from run_notebook import execute  # scripts/, beside this file

REPORT = """\
import booktools as _b
_cells = {}
for _cell, _dec, _dist, _spread in _b.CHECKS:
    _ratio = _dist / _spread if _spread else float("inf")
    _n, _worst = _cells.get(_cell, (0, (float("inf"),) * 4))
    _cells[_cell] = (_n + 1, min(_worst, (_ratio, _dist, _spread, _dec)))
for _cell, (_n, (_ratio, _dist, _spread, _dec)) in sorted(_cells.items()):
    _m = "exact" if _ratio == float("inf") else f"{_ratio:.3g}x"
    print(f"cell {_cell}: {_n} numbers; tightest at {_dec} decimals: "
          f"{_dist:.2g} from a boundary, twins {_spread:.2g} apart, margin {_m}")
"""


def report(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(REPORT))
    execute(notebook, path.parent)
    counts = [c.get("execution_count") for c in notebook.cells if c.cell_type == "code"]
    print(f"{path} (cell = execution count, the n-th code cell; {len(counts) - 1} in all)")
    for output in notebook.cells[-1].outputs:
        print("  " + output.get("text", "").rstrip().replace("\n", "\n  "))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    os.environ["BOOK_STORE_OUTPUTS"] = "1"
    for name in sys.argv[1:]:
        report(Path(name))
