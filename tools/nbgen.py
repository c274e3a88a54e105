"""What every tools/make_*.py notebook generator shares: cell constructors and the writer.

    from nbgen import code, md, write
    write([md("# Title"), code("x = 1", metadata={"tags": ["parameters"]}), ...], "01_step_sizes.ipynb")

``write`` keeps the cell ids of the notebook it replaces, cell by cell, so that regenerating
after an edit changes only the cells that changed (nbformat would draw new random ids).

The file is what JupyterLab itself would save (issue #19: every tab opened marked modified):
nbformat's writer (indent 1, sorted keys, a trailing newline, as jupyter_server's contents
manager writes) and the notebook metadata JupyterLab fills in from the kernel on open, the
kernelspec of ipykernel's ``python3`` and the ``language_info`` of its kernel_info reply.
``LABKIT_NOTEBOOK_DIR`` writes elsewhere (tests/test_notebook_files.py regenerates into a temp
dir and compares with the committed files: the generator is the one source of each notebook).
"""
from __future__ import annotations

import copy
import os
from pathlib import Path

import nbformat as nbf

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
# The Python of the lab's environment (environment.yml and binder pin 3.11; this is the patch
# release the lock was made with).  JupyterLab rewrites language_info.version from the kernel,
# so a kernel of another patch release marks the tab modified: regenerate there if it matters.
PYTHON_VERSION = "3.11.7"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
                 "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
                 "pygments_lexer": "ipython3", "version": PYTHON_VERSION}
METADATA = {"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO}


def md(source: str):
    return nbf.v4.new_markdown_cell(source)


def code(source: str, **kw):
    return nbf.v4.new_code_cell(source.strip("\n"), **kw)


def write(cells, name: str) -> Path:
    """notebooks/<name> from ``cells``, committed without outputs; old cell ids kept in order."""
    committed = NOTEBOOKS / name
    path = Path(os.environ.get("LABKIT_NOTEBOOK_DIR", NOTEBOOKS)) / name
    if committed.exists():
        old = nbf.read(committed, as_version=4).cells
        for new, prev in zip(cells, old):
            if new.cell_type == prev.cell_type and "id" in prev:
                new["id"] = prev["id"]
    nb = nbf.v4.new_notebook(cells=cells, metadata=copy.deepcopy(METADATA))
    nbf.write(nb, path)      # nbformat.writes + "\n": what jupyter_server's save writes
    print(f"wrote {path}")
    return path
