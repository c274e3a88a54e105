"""The real-browser harness, without pytest: a JupyterLab server on a temporary copy of the
notebooks, Debian's chromium (through the PyPI ``playwright`` package; never ``playwright
install``), and the JavaScript snippets that drive a notebook in it.

Used by the browser tests (``conftest.py``, ``test_widget_notebooks.py``) and by the
key-press-to-pixels benchmark (``benchmarks/bench_browser.py``), which put this directory
and tools/ on ``sys.path``.

- :class:`Lab`: one JupyterLab server on 127.0.0.1 with a random token and a free port,
  rooted at a temporary copy of notebooks/ (plus generated notebooks), with its own Jupyter
  config/data/runtime/settings/workspaces dirs (user settings there turn the news prompt and
  autosave off: nothing touches the venv or ~). :meth:`Lab.stop` shuts every kernel down
  through the REST API, then the server (``POST /api/shutdown``).
- :func:`browser_missing`: why no browser can run here (no ``playwright`` package, no
  chromium), or None; :func:`launch_chromium` starts the headless one. LABKIT_CHROMIUM
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

from widget_notebooks import NOTEBOOK_DIR, NOTEBOOKS

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "screenshots"
CHROMIUM = os.environ.get("LABKIT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--disable-extensions", "--mute-audio"]
INSTALL_HINT = ("install it with `sudo apt-get install -y chromium` (or run `make chromium` as root), "
                "or point LABKIT_CHROMIUM at a chromium binary")
PLAYWRIGHT_HINT = ("the `playwright` package is not installed: `make setup` (or "
                   "`.venv/bin/pip install playwright`; no `playwright install` needed)")
VIEWPORT = {"width": 1500, "height": 1100}

# JupyterLab user settings, written into the session's own JUPYTERLAB_SETTINGS_DIR:
# no "receive Jupyter news?" toast over the screenshots, no autosave writing outputs back.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    # every cell stays in the DOM and rendered: off-screen outputs are found and have text
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}

# --- JavaScript run in the page (Playwright's page.evaluate / wait_for_function) -------------
# With --LabApp.expose_app_in_browser the application is window.jupyterapp.
KERNEL_IDLE = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.status === 'idle' && w.content && w.content.widgets.length > 0;
}"""
# Every cell has run: the kernel is idle and no prompt says [*] (between two queued cells the
# kernel is briefly idle too).
ALL_RUN = KERNEL_IDLE.replace("return !!k", """if (Array.from(document.querySelectorAll('.jp-InputPrompt'))
      .some(p => p.textContent.includes('[*]'))) return false;
  return !!k""")
RUN_ALL = "() => window.jupyterapp.commands.execute('notebook:run-all-cells')"
SHUTDOWN = """async () => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (w && w.sessionContext) { await w.sessionContext.shutdown(); }
}"""
# The text of every stderr/traceback output in the notebook (the failure message shows them).
ERRORS = """() => Array.from(document.querySelectorAll(
  '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')).map(e => e.innerText)"""
# An expression evaluated in the notebook's kernel: its repr, or the error.
KERNEL_EVAL = """async (expr) => {
  const k = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const reply = await k.requestExecute({code: '', silent: true, store_history: false,
                                        user_expressions: {v: expr}}).done;
  const r = reply.content.user_expressions.v;
  return r.status === 'ok' ? r.data['text/plain'] : `${r.ename}: ${r.evalue}`;
}"""
DATA_URL = "c => c.toDataURL()"
PAINTED = """c => { if (!c.width || !c.height) return false;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 3; i < d.length; i += 4) { if (d[i] !== 0) return true; } return false; }"""


def _poll(fn, timeout: float, interval: float = 0.05):
    """fn() until it returns something truthy; that value, or the last one after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def _settled(canvas, quiet: float = 0.4, timeout: float = 10.0) -> str:
    """The canvas image once it has not changed for `quiet` s (ipympl may redraw once after
    the first display, when the frontend reports its size): a baseline that only the key
    presses can change."""
    last, since = canvas.evaluate(DATA_URL), time.monotonic()
    deadline = since + timeout
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = canvas.evaluate(DATA_URL)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return last


def browser_missing() -> str | None:
    """Why no headless chromium can be driven here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return PLAYWRIGHT_HINT
    if not os.access(CHROMIUM, os.X_OK):
        return f"no chromium at {CHROMIUM}: {INSTALL_HINT}"
    return None


def launch_chromium(playwright):
    """Headless Debian chromium (never a Playwright-downloaded one)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


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
            import run_notebooks                 # tools/ (tests/conftest.py, the benchmark put it on sys.path)
            parameters = (run_notebooks.load_baseline(row.name) or {}).get("parameters", {})
        if parameters:
            from papermill.parameterize import parameterize_notebook
            nb = parameterize_notebook(nb, parameters)
    nbformat.write(nb, path)


class Lab:
    """A running JupyterLab server: ``url``, ``token``, ``root``, ``api(...)``.

    Its root holds a copy of notebooks/ (``copy_notebooks``) and the notebook of every row
    of ``rows`` (``widget_notebooks.WidgetNotebook``s, by default the browser tests' table).
    """

    def __init__(self, tmp: Path, rows=None, copy_notebooks: bool = True):
        self.tmp = tmp
        self.root = tmp / "root"
        self.log = tmp / "jupyter-lab.log"
        self.token = secrets.token_hex(16)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.startup_s = float("nan")
        self.rows = NOTEBOOKS if rows is None else list(rows)
        self.copy_notebooks = copy_notebooks

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

    def notebook_url(self, name: str) -> str:
        """Where the browser opens ``name`` (relative to the root), in a fresh workspace."""
        return f"{self.url}/lab/tree/{name}?reset&token={self.token}"

    def start(self) -> None:
        if self.copy_notebooks:
            shutil.copytree(NOTEBOOK_DIR, self.root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        else:
            self.root.mkdir(parents=True, exist_ok=True)
        for row in self.rows:
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

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
