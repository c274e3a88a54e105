"""Binder: what repo2docker would build from this repository, checked without Docker.

``repo2docker --no-build --debug`` prints the Dockerfile it would build (PyPI's
jupyter-repo2docker, in the test extra).  From it: Python 3.11 (binder/runtime.txt), the lock's
exact versions installed from binder/requirements.txt *before* the repository is copied (so
Binder reuses that layer across commits), and binder/postBuild run after.  Then postBuild itself runs here (its pip call
logged, not run; settings into a temporary prefix), and a second process must find every
kernel the explorers use in Numba's cache: the first slider move on Binder compiles nothing.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BADGE = re.compile(r"\[!\[Binder\]\(https://mybinder\.org/badge_logo\.svg\)\]\((https://mybinder\.org/v2/gh/[^)\s]+)\)")


def repo2docker(repo: Path) -> tuple[int, str, str]:
    """(exit code, Dockerfile, log) of ``repo2docker --no-build --debug repo``."""
    pytest.importorskip("repo2docker", reason="jupyter-repo2docker is in the test extra: `make setup`")
    proc = subprocess.run([sys.executable, "-m", "repo2docker", "--no-build", "--debug", str(repo)],
                          capture_output=True, text=True, timeout=120, cwd=repo)
    return proc.returncode, proc.stdout, proc.stderr


def problems(code: int, dockerfile: str, log: str) -> list[str]:
    """What is wrong with a repo2docker plan for labkit (empty: nothing)."""
    if code != 0:
        return [f"repo2docker exited with {code}: {log[-2000:]}"]
    out = []
    # build-script file names are escaped ("." -> "-2e", "-" -> "-2d")
    unescaped = dockerfile.replace("-2e", ".").replace("-2d", "-")
    if "Building conda environment for python=3.11" not in log or "environment.py-3.11-linux-64.lock" not in unescaped:
        out.append("not Python 3.11 (binder/runtime.txt)")
    lines = dockerfile.splitlines()

    def first(pattern):
        return next((i for i, line in enumerate(lines) if re.search(pattern, line)), None)

    req_copy = first(r"^COPY .*src/binder/requirements\.txt ")
    req_install = first(r'pip install --no-cache-dir -r "binder/requirements\.txt"$')
    repo_copy = first(r"^COPY .*src/ \$\{REPO_DIR\}/$")
    post = first(r"^RUN \./binder/postBuild$")
    if req_install is None or req_copy is None:
        out.append("the lock is not installed from binder/requirements.txt")
    elif repo_copy is None or not req_copy < req_install < repo_copy:
        out.append("the lock is not installed before the repository is copied (a rebuild per commit)")
    if post is None:
        out.append("binder/postBuild does not run")
    elif repo_copy is None or post < repo_copy:
        out.append("binder/postBuild runs before the repository is there")
    return out


def test_repo2docker_plan():
    code, dockerfile, log = repo2docker(ROOT)
    assert problems(code, dockerfile, log) == []


def test_the_plan_check_catches_the_root_requirements_trap(tmp_path):
    # repo2docker reads only binder/ when it exists: with the requirements and runtime.txt at
    # the root only, it installs nothing of ours and picks its default Python. The check must
    # say so.
    repo = tmp_path / "repo"
    (repo / "binder").mkdir(parents=True)
    shutil.copy(ROOT / "binder/requirements.txt", repo / "requirements.txt")
    shutil.copy(ROOT / "binder/runtime.txt", repo / "runtime.txt")
    shutil.copy(ROOT / "binder/postBuild", repo / "binder/postBuild")
    found = problems(*repo2docker(repo))
    assert "not Python 3.11 (binder/runtime.txt)" in found
    assert "the lock is not installed from binder/requirements.txt" in found


def test_binder_keeps_autosave_on():
    # A student on Binder has no git checkout to protect; turning autosave off loses their edits.
    overrides = json.loads((ROOT / "binder/overrides.json").read_text())
    assert "autosave" not in json.dumps(overrides)


def test_jupyterlab_overrides_are_known_settings():
    # A misspelt plugin or setting in overrides.json is silently ignored by JupyterLab.
    schemas = Path(sys.prefix) / "share/jupyter/lab/schemas"
    overrides = json.loads((ROOT / "binder/overrides.json").read_text())
    assert overrides
    for plugin, values in overrides.items():
        package, name = plugin.split(":")
        schema = json.loads((schemas / package / f"{name}.json").read_text())
        for key, value in values.items():
            spec = schema["properties"].get(key)
            assert spec is not None, f"{plugin} has no setting {key!r}"
            if "enum" in spec:
                assert value in spec["enum"], (plugin, key, value)
            else:
                assert isinstance(value, {"boolean": bool, "string": str}[spec["type"]]), (plugin, key, value)


def test_readme_badge_opens_the_tour_in_jupyterlab():
    m = BADGE.search((ROOT / "README.md").read_text())
    assert m, "README.md needs a Binder badge"
    urlpath = re.search(r"[?&]urlpath=([^&]+)", m.group(1))
    assert urlpath and urlpath.group(1) == "lab/tree/notebooks/00_tour.ipynb"
    assert (ROOT / "notebooks/00_tour.ipynb").is_file()


COMPILES = """
from numba.core import event
compiled = event.RecordingListener()
event.register("numba:compile", compiled)
import labkit.warm
labkit.warm.warm(verbose=False)
names = sorted({d.data["dispatcher"].py_func.__qualname__ for _, d in compiled.buffer if d.is_start})
print("COMPILED", len(names), names)
"""


def test_postbuild_runs_and_leaves_every_explorer_kernel_cached(tmp_path):
    # `python` on postBuild's PATH: this interpreter, except that `python -m pip ...` is only
    # logged (labkit is installed here already; a real install would touch this venv).
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "python").write_text(f"""#!/bin/bash
if [ "$1 $2" = "-m pip" ]; then echo "$@" >> {tmp_path}/pip.log; exit 0; fi
exec {sys.executable} "$@"
""")
    (shim / "python").chmod(0o755)
    env = dict(os.environ, NB_PYTHON_PREFIX=str(tmp_path / "prefix"), PATH=f"{shim}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.run(["bash", "binder/postBuild"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert (tmp_path / "pip.log").read_text().split() == ["-m", "pip", "install", "--no-deps", "-e", "."]
    settings = tmp_path / "prefix/share/jupyter/lab/settings/overrides.json"
    assert settings.read_bytes() == (ROOT / "binder/overrides.json").read_bytes()
    assert re.search(r"labkit\.warm: [1-9]\d* explorers", proc.stderr), proc.stderr[-2000:]

    # a fresh process, as a new Binder session: every kernel comes from the cache
    out = subprocess.run([sys.executable, "-c", COMPILES], cwd=ROOT, capture_output=True, text=True,
                         timeout=600, check=True).stdout
    assert "COMPILED 0 []" in out, out
