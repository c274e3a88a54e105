"""Regenerate labkit's lock from pyproject.toml (``make lock``; on purpose only).

    python tools/lock.py

Writes three files, all from one resolution, so a version is the same wherever it appears:

* ``requirements/dev.txt``: every package at one exact version: the runtime dependencies and
  the ``test`` and ``bench`` extras. ``make setup`` (so ``make test`` and CI) installs this.
* ``requirements/lab.txt``: the runtime subset of the same resolution, what the labs need.
  ``environment.yml`` (conda users) installs it.
* ``binder/requirements.txt``: ``lab.txt`` plus the one line Binder needs to take torch's CPU
  build from PyTorch's wheel index (PyPI has only the CUDA build for Linux).

Only the Python 3.11 / x86-64 manylinux platform is resolved: the one CI, Binder and the
developers' machines run. torch is held at ``requirements/constraints.txt``. Its CPU wheel
comes from the directory in ``PIP_FIND_LINKS`` when one holds it (this project's machines keep
it on disk), else from PyTorch's CPU index.

tests/test_lock.py checks that the four places (pyproject, the lock, environment.yml, binder/)
agree and that the installed environment is the lock.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "requirements/dev.txt"
LAB = ROOT / "requirements/lab.txt"
BINDER = ROOT / "binder/requirements.txt"
CONSTRAINTS = ROOT / "requirements/constraints.txt"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PLATFORM = ["--python-version", "3.11", "--python-platform", "x86_64-manylinux_2_28"]
# Not locked and not installed: jsonschema's optional URI-format checker, which costs 1-2 s in
# every process that imports nbformat or papermill (jsonschema issue #1428). Nothing labkit or
# its notebooks use checks that format.
EXCLUDED = ["rfc3987-syntax"]

BINDER_HEADER = f"""\
# Binder's environment: requirements/lab.txt, the same exact versions CI tests with, plus
# PyTorch's CPU wheel index for the torch CPU build (written by `make lock`; do not edit).
--extra-index-url {TORCH_CPU_INDEX}
"""


def torch_source() -> list[str]:
    """uv options that make torch's CPU build visible to the resolver."""
    for folder in filter(None, os.environ.get("PIP_FIND_LINKS", "").split()):
        if any(Path(folder).glob("torch-*+cpu-*.whl")):
            return ["--find-links", folder]
    # PyPI's torch of the same version would otherwise win; take the best version across both.
    return ["--extra-index-url", TORCH_CPU_INDEX, "--index-strategy", "unsafe-best-match"]


def compile_lock(out: Path, extras: list[str], constraints: list[Path]) -> None:
    cmd = [sys.executable, "-m", "uv", "pip", "compile", "pyproject.toml", "--quiet",
           "--custom-compile-command", "make lock", "--no-emit-index-url", "--no-emit-find-links",
           "-o", str(out.relative_to(ROOT)), *PLATFORM, *torch_source()]
    for extra in extras:
        cmd += ["--extra", extra]
    for path in constraints:
        cmd += ["-c", str(path.relative_to(ROOT))]
    for name in EXCLUDED:
        cmd += ["--no-emit-package", name]
    subprocess.run(cmd, cwd=ROOT, check=True)


def pins(text: str) -> dict[str, str]:
    """{normalised name: version} of the ``name==version`` lines of a lock."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line)
        if m:
            out[re.sub(r"[-_.]+", "-", m.group(1)).lower()] = m.group(2)
    return out


def binder_requirements(lab_text: str) -> str:
    """Binder's file: the header, then lab.txt's pins without uv's comments."""
    pinned = [line for line in lab_text.splitlines() if re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*==", line)]
    return BINDER_HEADER + "\n".join(pinned) + "\n"


def main() -> int:
    # First everything, then the runtime subset constrained by it: one set of versions.
    compile_lock(DEV, ["test", "bench"], [CONSTRAINTS])
    compile_lock(LAB, [], [CONSTRAINTS, DEV])
    BINDER.write_text(binder_requirements(LAB.read_text()))
    dev, lab = pins(DEV.read_text()), pins(LAB.read_text())
    print(f"{DEV.relative_to(ROOT)}: {len(dev)} packages; {LAB.relative_to(ROOT)}: {len(lab)}; "
          f"{BINDER.relative_to(ROOT)} rewritten (torch {dev['torch']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
