"""What every tools/make_*.py notebook generator shares: cell constructors and the writer.

    from nbgen import code, md, write
    write([md("# Title"), code("x = 1", metadata={"tags": ["parameters"]}), ...], "01_step_sizes.ipynb")

``write`` keeps the cell ids of the notebook it replaces, cell by cell, so that regenerating
after an edit changes only the cells that changed (nbformat would draw new random ids).
"""
from __future__ import annotations

from pathlib import Path

import nbformat as nbf

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
METADATA = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"}}


def md(source: str):
    return nbf.v4.new_markdown_cell(source)


def code(source: str, **kw):
    return nbf.v4.new_code_cell(source.strip("\n"), **kw)


def write(cells, name: str) -> Path:
    """notebooks/<name> from ``cells``, committed without outputs; old cell ids kept in order."""
    path = NOTEBOOKS / name
    if path.exists():
        old = nbf.read(path, as_version=4).cells
        for new, prev in zip(cells, old):
            if new.cell_type == prev.cell_type and "id" in prev:
                new["id"] = prev["id"]
    nb = nbf.v4.new_notebook(cells=cells, metadata=METADATA)
    nbf.write(nb, path)
    print(f"wrote notebooks/{name}")
    return path
