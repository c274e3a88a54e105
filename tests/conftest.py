import pytest

import run_notebooks  # tools/ (pyproject.toml: pytest's pythonpath)


@pytest.fixture(autouse=True, scope="session")
def _isolated_jupyter():
    """Empty per-user Jupyter/IPython dirs for the whole session: a user-level kernelspec
    or config must not decide which Python runs the notebooks, or what they compute."""
    with run_notebooks.isolated_jupyter():
        yield


def pytest_collection_modifyitems(config, items):
    """Real-browser tests last: by then the notebook tests have compiled (and cached) every
    Numba kernel, so a kernel started by JupyterLab does not spend the browser's timeout
    compiling on a cold cache (a clean clone's first run)."""
    items.sort(key=lambda item: "tests/browser/" in item.nodeid.replace("\\", "/"))
