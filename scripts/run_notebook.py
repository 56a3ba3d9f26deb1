"""Execute notebooks top to bottom in place, so that their stored outputs are real.

    .venv/bin/python scripts/run_notebook.py book/NAME.ipynb [...]

Each notebook runs in a fresh kernel of this environment, in its own folder (as nbval and
jupyter-book run it), and is written back with the outputs it produced. The kernel runs with
BOOK_STORE_OUTPUTS=1, under which `booktools.held` asks a number from training to clear a
rounding boundary by three times its twin runs' difference, not once as in the tests: the
slack that lets the stored digits pass the same check on another CPU.
"""

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(notebook, folder: Path) -> None:
    """Run every cell of ``notebook`` in a fresh python3 kernel started in ``folder``."""
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute()


def run(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    execute(notebook, path.parent)
    nbformat.write(notebook, path)
    print(f"executed {path}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    os.environ["BOOK_STORE_OUTPUTS"] = "1"  # the kernel inherits it
    for name in sys.argv[1:]:
        run(Path(name))
