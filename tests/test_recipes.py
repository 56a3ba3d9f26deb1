"""What a reader copies runs as written.

Every chapter opens with a recipe: a code cell tagged ``recipe`` that a reader can paste into a
fresh interpreter. nbval runs it inside the chapter, after the cells above it, so a recipe that
leans on a name defined elsewhere (an import, a data set) passes there and fails on the reader's
machine. Here each recipe runs alone, in a new process started in ``book/`` as the chapters are,
and must print what the chapter stores for it.

Markdown is checked for the other copy-paste trap: an inline code span broken across a line
break renders with a space in it (``tf.nn.`` then ``weighted_cross_entropy_with_logits``).
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CHAPTERS = sorted(p for p in BOOK.glob("*.ipynb") if p.name != "intro.ipynb")
NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))
FENCE = re.compile(r"^[ \t]*(```|~~~).*?^[ \t]*\1", re.MULTILINE | re.DOTALL)
# A recipe that ran in the chapter in a few seconds; alone it pays its imports as well.
TIMEOUT_S = 300


def load(path):
    return json.loads(path.read_text())


def source(cell):
    return "".join(cell["source"])


def recipes(notebook):
    return [
        cell
        for cell in notebook["cells"]
        if cell["cell_type"] == "code" and "recipe" in cell.get("metadata", {}).get("tags", [])
    ]


def stored_stdout(cell):
    return "".join(
        "".join(o["text"])
        for o in cell.get("outputs", [])
        if o["output_type"] == "stream" and o["name"] == "stdout"
    )


def run_alone(code):
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONPATH": os.pathsep.join([str(BOOK), str(ROOT)]),
    }
    env.pop("BOOK_STORE_OUTPUTS", None)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BOOK,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )


def split_code_spans(markdown):
    """Lines of ``markdown`` (fenced blocks left out) with an odd number of backticks."""
    text = FENCE.sub("", markdown)
    return [line for line in text.splitlines() if line.count("`") % 2]


# ----------------------------------------------------------------------------- the checks fail


def test_the_recipe_finder_reads_the_tag():
    tagged = {"cell_type": "code", "source": "x = 1", "metadata": {"tags": ["recipe"]}}
    plain = {"cell_type": "code", "source": "y = 2", "metadata": {}}
    assert recipes({"cells": [plain, tagged]}) == [tagged]
    assert recipes({"cells": [plain]}) == []


def test_a_recipe_that_leans_on_a_hidden_cell_fails_alone():
    result = run_alone("print(name_from_a_hidden_cell)")
    assert result.returncode != 0
    assert "NameError" in result.stderr


def test_the_span_check_catches_a_span_broken_across_lines():
    broken = "Use `tf.nn.\nweighted_cross_entropy_with_logits` here."
    whole = "Use\n`tf.nn.weighted_cross_entropy_with_logits` here."
    fenced = "```python\nx = `unbalanced\n```\nand `one` span"
    in_a_list = "- item\n  ```text\n  a ` b\n  ```\n- `two`"
    assert split_code_spans(broken) == ["Use `tf.nn.", "weighted_cross_entropy_with_logits` here."]
    assert split_code_spans(whole) == []
    assert split_code_spans(fenced) == []
    assert split_code_spans(in_a_list) == []


# ----------------------------------------------------------------------------- the chapters


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_has_a_recipe_that_runs_alone(path):
    cells = recipes(load(path))
    assert cells, f"{path.name}: no code cell tagged 'recipe'"
    for cell in cells:
        result = run_alone(source(cell))
        assert result.returncode == 0, f"{path.name}: the recipe fails alone:\n{result.stderr}"
        assert result.stdout == stored_stdout(cell), (
            f"{path.name}: alone, the recipe prints\n{result.stdout}\n"
            f"where the chapter stores\n{stored_stdout(cell)}"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_inline_code_span_is_broken_across_lines(path):
    found = [
        (i, line)
        for i, cell in enumerate(load(path)["cells"])
        if cell["cell_type"] == "markdown"
        for line in split_code_spans(source(cell))
    ]
    assert not found, f"{path.name}: (cell, line) with a code span broken across lines: {found}"
