"""The set-up promises: Binder config where repo2docker reads it, a light `import labkit`,
CI = `make test`, and a README that says so (the lock and its copies: tests/test_lock.py)."""
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_binder_postbuild_installs_labkit():
    post = ROOT / "binder/postBuild"
    assert post.is_file() and os.access(post, os.X_OK)
    text = post.read_text()
    assert "pip install --no-deps -e ." in text
    assert "overrides.json" in text and (ROOT / "binder/overrides.json").is_file()


def test_only_labkit_is_packaged():
    # notebooks/, binder/, tools/ would otherwise be discovered as packages in this flat layout.
    assert PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"] == ["labkit*"]


def test_import_labkit_is_light():
    heavy = ["torch", "matplotlib", "ipywidgets", "seaborn"]
    code = f"import sys, labkit; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    assert out.strip() == "[]", f"`import labkit` loads {out.strip()}"


def test_ci_runs_make_test_only():
    lines = [line.strip() for line in (ROOT / ".ci/run").read_text().splitlines()]
    commands = [line for line in lines if line and not line.startswith("#")]
    assert commands == ["set -euo pipefail", 'cd "$(dirname "$0")/.."', "make test"]
    assert os.access(ROOT / ".ci/run", os.X_OK)


def test_readme_setup_is_make_lab_and_make_test():
    text = (ROOT / "README.md").read_text()
    section = re.search(r"^## Set-up\n(.*?)(?=^## )", text, re.S | re.M)
    assert section, "README.md needs a '## Set-up' section"
    block = re.search(r"```\w*\n(.*?)```", section.group(1), re.S)
    assert block, "the Set-up section starts with a code block of its commands"
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    assert [c for c in commands if c] == ["make lab", "make test"]


def test_the_repository_stands_alone():
    # Design knowledge lives in docs/; a pointer to a file outside the repository is dead in a clone.
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    outside = re.compile(r"\.\./shared\b|\bshared/(?:spec|STYLE)")
    found = [f for f in files if (ROOT / f).is_file() and f != "tests/test_packaging.py"
             and outside.search((ROOT / f).read_text(errors="ignore"))]
    assert not found, f"these files point outside the repository: {found}"
