"""Every notebook with a widget passes the browser harness: a notebook in notebooks/ (by
glob) that builds an explorer, shows a ``.widget``, uses ipywidgets or ipympl
(``%matplotlib widget``) must have a row in widget_notebooks.NOTEBOOKS, which
test_widget_notebooks.py drives in a real browser. Needs no browser itself.
"""
from __future__ import annotations

import json
import re

import pytest

from widget_notebooks import NOTEBOOK_DIR, NOTEBOOKS

# What makes a code cell show a widget: an explorer built, a .widget displayed, ipywidgets
# (interact included) or the ipympl backend (every figure a canvas widget).
WIDGET = re.compile(r"\w*Explorer\(|\.widget\b|\bipywidgets\b|\binteract(ive)?\(|"
                    r"^\s*%matplotlib\s+(widget|ipympl)\b", re.MULTILINE)
NOTEBOOK_FILES = sorted(NOTEBOOK_DIR.glob("*.ipynb"))


def _widget_lines(path) -> list[str]:
    """The code-cell lines of a notebook that show a widget."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    lines = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = "".join(cell.get("source", ""))
        lines += [line.strip() for line in source.splitlines() if WIDGET.search(line)]
    return lines


def test_the_glob_finds_the_notebooks():
    assert NOTEBOOK_FILES, f"no notebooks in {NOTEBOOK_DIR}"


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=lambda p: p.stem)
def test_a_notebook_with_a_widget_has_a_browser_row(path):
    lines = _widget_lines(path)
    rows = [row for row in NOTEBOOKS if row.name == path.name and not row.generated]
    if lines:
        assert rows, (f"notebooks/{path.name} shows a widget ({lines[0]!r}) but has no row in "
                      "tests/browser/widget_notebooks.py NOTEBOOKS: add one, so that the browser test drives it")


def test_every_row_names_a_widget_notebook():
    """No stale row: a row for a notebooks/ file is for a notebook that shows a widget."""
    for row in NOTEBOOKS:
        if row.generated or row.missing():
            continue
        assert _widget_lines(NOTEBOOK_DIR / row.name), f"{row.name} has a browser row but shows no widget"


def test_the_widget_pattern():
    for src in ("ex = lk.widgets.StepSizeExplorer(problem)", "lk.widgets.StabilityMapExplorer(smap).widget",
                "%matplotlib widget", "import ipywidgets as W", "ex.widget"):
        assert WIDGET.search(src), src
    for src in ("%matplotlib inline", "import matplotlib.pyplot as plt", "widgets = 3"):
        assert not WIDGET.search(src), src
