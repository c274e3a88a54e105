"""The set-up promises: one dependency list in three places, Binder config where repo2docker
reads it, a light `import labkit`, CI = `make test`, and a README that says so."""
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
ENV = yaml.safe_load((ROOT / "environment.yml").read_text())

# conda-forge name -> PyPI name, where they differ.
CONDA_TO_PYPI = {"pytorch": "torch", "matplotlib-base": "matplotlib"}
NOT_RUNTIME = {"python", "pip"}     # the interpreter and the installer postBuild uses


def _conda_spec(entry):
    """'numpy>=1.26' / 'numpy=1.26' / 'numpy 1.26.*' -> (PyPI name, SpecifierSet)."""
    name, spec = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*", entry).groups()
    spec = spec.replace(" ", "")
    if re.fullmatch(r"=?[0-9][^,<>=!~]*", spec):            # conda's "=1.2" means 1.2.*
        spec = "==" + spec.lstrip("=") + ("" if spec.endswith("*") else ".*")
    return canonicalize_name(CONDA_TO_PYPI.get(name, name)), SpecifierSet(spec)


def test_environment_yml_lists_pyproject_dependencies():
    conda = [d for d in ENV["dependencies"] if isinstance(d, str)]
    ours = dict(_conda_spec(d) for d in conda)
    for name in NOT_RUNTIME:
        ours.pop(name, None)
    theirs = {canonicalize_name(r.name): r.specifier
              for r in map(Requirement, PYPROJECT["project"]["dependencies"])}
    assert ours == theirs
    assert ENV["name"] == "labkit" and ENV["channels"] == ["conda-forge"]
    assert "python=3.11" in conda


def test_environment_yml_has_no_local_pip_references():
    # A local pip entry (-e ., -r file) makes Binder rebuild the environment on every commit;
    # binder/postBuild installs labkit instead.
    pip = [d for d in ENV["dependencies"] if isinstance(d, dict)]
    for section in pip:
        for entry in section.get("pip", []):
            assert not re.match(r"(-e|-r|--editable|--requirement)\b|\.|/|file:", entry.strip()), entry


def test_binder_environment_is_a_copy():
    assert (ROOT / "binder/environment.yml").read_bytes() == (ROOT / "environment.yml").read_bytes()


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
