"""The committed notebooks are byte for byte what JupyterLab would save, so a tab opens unmodified
(issue #19), and clean: each ``.ipynb`` is its notebook's one source, edited in JupyterLab
(README, "Editing a lab"); these tests and tests/test_notebooks.py keep it free of outputs,
execution counts and editor state.

JupyterLab marks a notebook modified on open when the file differs from what it would save:
the JSON layout of jupyter_server's contents manager, and the metadata the frontend fills in
from the kernel (its kernelspec's display name, the kernel_info reply's language_info).  Both
are checked against the real thing: FileContentsManager's get/save round trip, and a kernel
started from this environment's ``python3`` kernelspec.
"""
import shutil
from pathlib import Path

import nbformat
import pytest

import run_notebooks as nbrun

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
IDS = [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_cells_carry_no_editor_state(path):
    """What nbstripout strips, enforced: a cell's metadata is its tags only (no collapsed,
    scrolled, ExecuteTime, ...), so a notebook saved after a session diffs only in its source."""
    nb = nbformat.read(path, as_version=4)
    extra = {i: sorted(set(c.metadata) - {"tags"}) for i, c in enumerate(nb.cells) if set(c.metadata) - {"tags"}}
    assert not extra, f"{path.name}: cell metadata beyond tags: {extra}"
    stray = [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and c.get("attachments")]
    assert not stray, f"{path.name}: markdown cells with attachments {stray}: put images in docs/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_contents_manager_round_trip_is_byte_identical(path, tmp_path):
    """jupyter_server's save of what its get returned (what JupyterLab's Save does with an
    unchanged notebook) writes the same bytes as committed."""
    from jupyter_server.services.contents.filemanager import FileContentsManager
    shutil.copy(path, tmp_path / path.name)
    cm = FileContentsManager(root_dir=str(tmp_path))
    model = cm.get(path.name, content=True, type="notebook")
    cm.save(model, path.name)
    assert (tmp_path / path.name).read_bytes() == path.read_bytes()
    nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=nbformat.NO_CONVERT)
    assert (nb.nbformat, nb.nbformat_minor) == (4, 5)
    ids = [c.get("id") for c in nb.cells]
    assert all(ids) and len(set(ids)) == len(ids), f"{path.name}: cell ids missing or repeated"


@pytest.fixture(scope="module")
def kernel_metadata():
    """(kernelspec, language_info) as JupyterLab would write them for this environment's kernel."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import start_new_kernel
    spec = KernelSpecManager().get_kernel_spec("python3")
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        reply = kc.kernel_info(reply=True, timeout=60)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    kernelspec = {"display_name": spec.display_name, "language": spec.language, "name": "python3"}
    return kernelspec, reply["content"]["language_info"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_metadata_is_what_the_kernel_reports(path, kernel_metadata):
    kernelspec, language_info = kernel_metadata
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.kernelspec == kernelspec
    # The patch release of Python is the environment's, not the lock's: compared to the minor
    # release here (JupyterLab rewrites it from the kernel).
    info = dict(nb.metadata.language_info)
    version, expected = info.pop("version"), dict(language_info).pop("version")
    assert info == {k: v for k, v in language_info.items() if k != "version"}
    assert version.split(".")[:2] == expected.split(".")[:2]
    assert set(nb.metadata) == {"kernelspec", "language_info"}


def test_runner_sees_the_same_notebooks():
    assert [p.name for p in nbrun.notebooks()] == [n for n in IDS if n not in nbrun.EXCLUDE]
