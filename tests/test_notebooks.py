"""Checks on the chapters themselves, which nbval does not make.

nbval compares a cell's fresh outputs with its stored ones, but skips a cell that has none: a
notebook saved without outputs passes it while checking nothing. These tests make sure every
code cell carries the outputs of one top-to-bottom run, that no output differs between
machines, and that the chapters and the table of contents agree.
"""

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from book_toc import toc_files

from companion import reference, weights

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book"))
import booktools

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
NOTEBOOKS = sorted(p for p in BOOK.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
TOPICS = {f"T{i:02d}" for i in range(1, 20)}
IGNORE_MARK = "NBVAL_IGNORE_OUTPUT"
MACHINE_SPECIFIC = re.compile(
    r"(?P<path>(?<![\w.])/(?:home|root|tmp|work|usr|opt|var|Users)/)"
    r"|(?P<address>\b0x[0-9a-fA-F]{6,}\b)"
    r"|(?P<timing>\b\d+(?:\.\d+)?\s?(?:ms|µs|us|ns|s|sec|seconds)\b(?!\w))"
    r"|(?P<site>site-packages)"
)


def code_cells(notebook):
    return [
        c for c in notebook["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()
    ]


def output_text(output):
    text = "".join(output.get("text", ""))
    data = output.get("data", {})
    return text + "".join(data.get("text/plain", "")) + "".join(data.get("text/markdown", ""))


def cells_without_outputs(notebook):
    return [i for i, cell in enumerate(code_cells(notebook)) if not cell.get("outputs")]


def execution_order_problems(notebook):
    counts = [cell.get("execution_count") for cell in code_cells(notebook)]
    return [] if counts == list(range(1, len(counts) + 1)) else counts


def machine_specific_outputs(notebook):
    found = []
    for i, cell in enumerate(code_cells(notebook)):
        if IGNORE_MARK in "".join(cell["source"]):
            continue
        for output in cell.get("outputs", []):
            match = MACHINE_SPECIFIC.search(output_text(output))
            if match:
                found.append((i, match.group(0)))
    return found


def defined_functions(notebook):
    """Functions and classes a notebook defines; not the special methods (``__len__``) a class
    must spell as its protocol does."""
    names = set()
    for cell in code_cells(notebook):
        found = re.findall(r"^\s*(?:def|class) (\w+)\b", "".join(cell["source"]), re.MULTILINE)
        names |= {name for name in found if not re.fullmatch(r"__\w+__", name)}
    return names


def functions_defined_twice(notebooks):
    """{name: [notebook, ...]} for every function that more than one notebook defines."""
    where = defaultdict(list)
    for name, notebook in notebooks.items():
        for function in defined_functions(notebook):
            where[function].append(name)
    return {f: sorted(books) for f, books in where.items() if len(books) > 1}


def figures_without_alt_text(notebook):
    """Code cells that draw an image but give it no alt text (cell metadata mystnb.image.alt)."""
    found = []
    for i, cell in enumerate(code_cells(notebook)):
        draws = any("image/png" in o.get("data", {}) for o in cell.get("outputs", []))
        alt = cell.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt", "").strip()
        if draws and len(alt) < 20:
            found.append(i)
    return found


def load(path):
    return json.loads(path.read_text())


# ----------------------------------------------------------------------------- the checks fail


def _fake(cells):
    return {
        "cells": [
            {"cell_type": "code", "source": src, "outputs": outs, "execution_count": n}
            for src, outs, n in cells
        ]
    }


def test_the_output_check_catches_a_notebook_saved_without_outputs():
    stream = {"output_type": "stream", "name": "stdout", "text": "1\n"}
    assert cells_without_outputs(_fake([("print(1)", [], None)])) == [0]
    assert cells_without_outputs(_fake([("print(1)", [stream], 1)])) == []


def test_the_order_check_catches_cells_run_out_of_order():
    assert execution_order_problems(_fake([("a", [], 2), ("b", [], 1)])) == [2, 1]
    assert execution_order_problems(_fake([("a", [], 1), ("b", [], 2)])) == []


@pytest.mark.parametrize(
    "text",
    [
        "/home/ada/book/x.py",
        "object at 0x7f3a9c2b1d60",
        "took 3.2 s",
        "12 ms per step",
        "lib/site-packages/torch",
    ],
)
def test_the_machine_check_catches_paths_addresses_and_timings(text):
    stream = {"output_type": "stream", "name": "stdout", "text": text}
    assert machine_specific_outputs(_fake([("print(x)", [stream], 1)]))


def test_the_twice_defined_check_catches_a_helper_in_two_chapters():
    one = _fake([("def train(model):\n    pass", [], 1)])
    other = _fake([("x = 1\ndef train(data):\n    pass", [], 1)])
    assert functions_defined_twice({"a": one, "b": other}) == {"train": ["a", "b"]}
    assert functions_defined_twice({"a": one}) == {}
    batches = _fake([("class Batches:\n    def __len__(self):\n        return 2", [], 1)])
    again = _fake([("class Batches:\n    def __len__(self):\n        return 3", [], 1)])
    assert functions_defined_twice({"a": batches, "b": again}) == {"Batches": ["a", "b"]}


def test_the_alt_text_check_catches_a_figure_without_one():
    figure = {
        "output_type": "display_data",
        "data": {"image/png": "iVBOR", "text/plain": "<Figure>"},
    }
    cell = _fake([("plt.show()", [figure], 1)])
    assert figures_without_alt_text(cell) == [0]
    cell["cells"][0]["metadata"] = {"mystnb": {"image": {"alt": "Recall per class, three lines"}}}
    assert figures_without_alt_text(cell) == []


def test_the_machine_check_leaves_ordinary_numbers_alone():
    stream = {"output_type": "stream", "name": "stdout", "text": "loss 0.3133, 4 classes, 1/3"}
    assert not machine_specific_outputs(_fake([("print(x)", [stream], 1)]))


# ----------------------------------------------------------------------------- the chapters


def test_the_book_has_notebooks():
    assert NOTEBOOKS, "no notebooks under book/"


@pytest.fixture(params=NOTEBOOKS, ids=[str(p.relative_to(ROOT)) for p in NOTEBOOKS])
def notebook_path(request):
    return request.param


def test_every_code_cell_has_stored_outputs(notebook_path):
    missing = cells_without_outputs(load(notebook_path))
    assert not missing, f"code cells {missing} have no stored outputs: run the notebook and save"


def test_cells_were_run_once_top_to_bottom(notebook_path):
    problems = execution_order_problems(load(notebook_path))
    assert not problems, f"execution counts {problems}: restart the kernel and run all"


def test_no_output_differs_between_machines(notebook_path):
    found = machine_specific_outputs(load(notebook_path))
    assert not found, f"(cell, text) pairs that differ between machines: {found}"


def test_notebook_runs_on_the_python3_kernel(notebook_path):
    assert load(notebook_path)["metadata"]["kernelspec"]["name"] == "python3"


def test_notebook_is_in_the_table_of_contents(notebook_path):
    assert str(notebook_path.relative_to(ROOT).with_suffix("")) in toc_files()


def test_chapter_lists_known_topics(notebook_path):
    if notebook_path.name == "intro.ipynb":
        return
    topics = load(notebook_path)["metadata"].get("topics")
    # A chapter beyond the seed questions says so with an empty list.
    assert isinstance(topics, list), "a chapter lists its topic IDs in metadata: 'topics': ['T01']"
    assert set(topics) <= TOPICS, set(topics) - TOPICS


def test_every_topic_is_claimed_by_a_chapter():
    claimed = set()
    for path in NOTEBOOKS:
        claimed |= set(load(path)["metadata"].get("topics") or [])
    assert claimed >= TOPICS, f"no chapter lists the topics {sorted(TOPICS - claimed)}"


def test_no_helper_is_defined_in_two_chapters():
    twice = functions_defined_twice({p.name: load(p) for p in NOTEBOOKS})
    assert not twice, f"move these to book/booktools.py, or name them for their chapter: {twice}"


def test_every_figure_has_alt_text(notebook_path):
    missing = figures_without_alt_text(load(notebook_path))
    assert not missing, f"code cells {missing} draw a figure without mystnb.image.alt metadata"


def test_notebook_does_not_redefine_companion_functions(notebook_path):
    names = set(reference.__all__) | set(weights.__all__) | set(booktools.__all__)
    for cell in code_cells(load(notebook_path)):
        defined = set(re.findall(r"^\s*def (\w+)\(", "".join(cell["source"]), re.MULTILINE))
        assert not defined & names, f"import {defined & names} from companion or booktools instead"


def test_every_file_in_the_table_of_contents_exists():
    for name in toc_files():
        assert any((ROOT / f"{name}{suffix}").exists() for suffix in (".ipynb", ".md")), name
