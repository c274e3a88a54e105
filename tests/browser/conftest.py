"""Fixtures of the real-browser widget tests: JupyterLab on a copy of the notebooks, and
Debian's chromium driven by Playwright (the PyPI package; never `playwright install`).

- ``lab``: one JupyterLab server per session, on 127.0.0.1 with a random token and a free
  port, rooted at a temporary copy of notebooks/ (plus the generated notebooks of the table),
  with its own Jupyter config/data/runtime/settings/workspaces dirs (user settings there turn
  the news prompt and autosave off: nothing touches the venv or ~). Teardown shuts every
  kernel down through the REST API, then the server (``POST /api/shutdown``).
- ``browser``: one headless chromium per session; ``page``: a fresh context per test.

Skips (with the reason, never a silent pass) when playwright is not installed or there is no
chromium: `make test` installs both (chromium via apt-get, when root). LABKIT_CHROMIUM
points at another chromium binary.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from widget_notebooks import NOTEBOOK_DIR, NOTEBOOKS

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "screenshots"
CHROMIUM = os.environ.get("LABKIT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--disable-extensions", "--mute-audio"]
INSTALL_HINT = ("install it with `sudo apt-get install -y chromium` (or run `make chromium` as root), "
                "or point LABKIT_CHROMIUM at a chromium binary")

# JupyterLab user settings, written into the session's own JUPYTERLAB_SETTINGS_DIR:
# no "receive Jupyter news?" toast over the screenshots, no autosave writing outputs back.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    # every cell stays in the DOM and rendered: off-screen outputs are found and have text
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}

TIMINGS: list[tuple[str, dict]] = []        # (test id, {phase: seconds}), for the summary below


def pytest_terminal_summary(terminalreporter):
    if not TIMINGS:
        return
    terminalreporter.section("browser timings (s)")
    for name, t in TIMINGS:
        terminalreporter.write_line(f"{name}: " + ", ".join(f"{k} {v:.2f}" for k, v in t.items()))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_notebook(row, path: Path) -> None:
    """The copy of ``row``'s notebook that the browser opens: generated from ``row.cells``, or
    notebooks/<name> with its parameters injected after its ``parameters`` cell (papermill's way)."""
    import nbformat
    if row.generated:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(src) for src in row.cells]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.metadata["language_info"] = {"name": "python"}
    else:
        from papermill.iorw import load_notebook_node       # nbformat.read + the metadata papermill needs
        nb = load_notebook_node(str(NOTEBOOK_DIR / row.name))
        parameters = row.parameters
        if parameters is None:
            import run_notebooks                 # tools/ (tests/conftest.py puts it on sys.path)
            parameters = (run_notebooks.load_baseline(row.name) or {}).get("parameters", {})
        if parameters:
            from papermill.parameterize import parameterize_notebook
            nb = parameterize_notebook(nb, parameters)
    nbformat.write(nb, path)


class Lab:
    """A running JupyterLab server: ``url``, ``token``, ``root``, ``api(...)``."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.root = tmp / "root"
        self.log = tmp / "jupyter-lab.log"
        self.token = secrets.token_hex(16)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.startup_s = float("nan")

    def api(self, path: str, method: str = "GET", timeout: float = 5.0):
        req = urllib.request.Request(f"{self.url}{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = r.read()
        return json.loads(body) if body else None

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def start(self) -> None:
        shutil.copytree(NOTEBOOK_DIR, self.root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        for row in NOTEBOOKS:
            if row.missing() is None:
                _write_notebook(row, self.root / row.name)
        dirs = {name: self.tmp / sub for name, sub in (
            ("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
            ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython"),
            ("JUPYTERLAB_SETTINGS_DIR", "lab-settings"), ("JUPYTERLAB_WORKSPACES_DIR", "lab-workspaces"))}
        for d in dirs.values():
            d.mkdir(parents=True, exist_ok=True)
        for plugin, values in LAB_SETTINGS.items():
            f = dirs["JUPYTERLAB_SETTINGS_DIR"] / f"{plugin}.jupyterlab-settings"
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(json.dumps(values))
        env = {k: v for k, v in os.environ.items() if k not in ("JUPYTER_PATH", "JUPYTER_CONFIG_PATH")}
        env.update({k: str(v) for k, v in dirs.items()})
        env.update(PYDEVD_DISABLE_FILE_VALIDATION="1", MPLBACKEND="module://ipympl.backend_nbagg")
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
               "--ServerApp.terminals_enabled=False", "--LabApp.expose_app_in_browser=True",
               "--LabApp.extension_manager=readonly", "--LabApp.news_url=None",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        t0 = time.perf_counter()
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(cmd, cwd=self.tmp, env=env, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                self.api("/api/status", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"jupyter lab did not answer in 60 s:\n{self.log_tail()}")
                time.sleep(0.1)
        self.startup_s = time.perf_counter() - t0

    def shutdown_kernels(self) -> None:
        for kernel in self.api("/api/kernels"):
            try:
                self.api(f"/api/kernels/{kernel['id']}", method="DELETE", timeout=10)
            except urllib.error.HTTPError as e:
                if e.code != 404:
                    raise

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            self.shutdown_kernels()
            self.api("/api/shutdown", method="POST", timeout=10)
            self.proc.wait(timeout=20)
        except Exception:                        # noqa: BLE001 - fall back to signals below
            pass
        if self.proc.poll() is None:
            self.proc.terminate()                # SIGTERM also shuts its kernels down
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    server = Lab(tmp_path_factory.mktemp("lab"))
    server.start()
    TIMINGS.append(("lab server start", {"up": server.startup_s}))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the `playwright` package is not installed: `make setup` (or "
                    "`.venv/bin/pip install playwright`; no `playwright install` needed)")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no chromium at {CHROMIUM}: {INSTALL_HINT}")
    t0 = time.perf_counter()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        TIMINGS.append(("browser launch", {"launch": time.perf_counter() - t0}))
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        try:
            pg.screenshot(path=str(SCREENSHOTS / f"{request.node.callspec.id}-failure.png"), full_page=True)
        except Exception:                        # noqa: BLE001 - the failure itself is reported
            pass
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)
