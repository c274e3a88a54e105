"""One lock, used everywhere: pyproject's ranges, the lock's exact versions, environment.yml,
Binder and the installed environment agree (tools/lock.py writes the lock: `make lock`)."""
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

import lock     # tools/lock.py (tests/conftest.py puts tools/ on the path)

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
DEV = lock.pins(lock.DEV.read_text())
LAB = lock.pins(lock.LAB.read_text())


def _requirements(entries):
    return {canonicalize_name(r.name): r for r in map(Requirement, entries)}


RUNTIME = _requirements(PYPROJECT["dependencies"])
EXTRAS = _requirements(sum(PYPROJECT["optional-dependencies"].values(), []))


def test_lock_lines_are_exact_pins():
    for path in (lock.DEV, lock.LAB):
        for line in path.read_text().splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*==\S+", line), f"{path.name}: {line!r}"


def test_lock_satisfies_pyproject():
    # A dependency added to (or a range changed in) pyproject without `make lock` fails here.
    for name, req in RUNTIME.items():
        assert name in LAB, f"{name} is a runtime dependency but not in requirements/lab.txt: make lock"
        assert Version(LAB[name]) in req.specifier, f"lab.txt has {name}=={LAB[name]}, pyproject asks {req}"
    for name, req in {**RUNTIME, **EXTRAS}.items():
        assert name in DEV, f"{name} is in pyproject but not in requirements/dev.txt: make lock"
        assert Version(DEV[name]) in req.specifier, f"dev.txt has {name}=={DEV[name]}, pyproject asks {req}"


def test_lab_lock_is_the_runtime_part_of_the_dev_lock():
    assert LAB.keys() <= DEV.keys()
    differ = {n: (LAB[n], DEV[n]) for n in LAB if LAB[n] != DEV[n]}
    assert not differ, f"lab.txt and dev.txt disagree: {differ}"
    # Test tools stay out of what the labs install.
    assert not {"pytest", "playwright", "jupyter-repo2docker", "rebound"} & LAB.keys()


def test_torch_is_the_cpu_build():
    assert DEV["torch"].endswith("+cpu")
    assert not [n for n in DEV if n.startswith("nvidia-") or n == "triton"]


def test_binder_installs_the_lab_lock():
    assert (ROOT / "binder/requirements.txt").read_text() == lock.binder_requirements(lock.LAB.read_text())
    assert lock.pins((ROOT / "binder/requirements.txt").read_text()) == LAB
    assert (ROOT / "binder/runtime.txt").read_text().strip() == "python-3.11"
    # One way to build: a binder/environment.yml would make repo2docker ignore requirements.txt.
    assert not (ROOT / "binder/environment.yml").exists()


def test_environment_yml_installs_the_lab_lock():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["name"] == "labkit" and env["channels"] == ["conda-forge"]
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    assert conda == ["python=3.11", "pip"], "conda gives Python and pip; every package comes from the lock"
    (pip,) = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    assert "-r requirements/lab.txt" in pip and "-e ." in pip
    assert f"--extra-index-url {lock.TORCH_CPU_INDEX}" in pip


def test_make_setup_installs_the_dev_lock():
    make = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^\$\(STAMP\):(.*?)\n\n", make, re.S | re.M).group(1)
    assert "requirements/dev.txt" in recipe.splitlines()[0], "the stamp must depend on the lock"
    installs = [line.strip() for line in recipe.splitlines() if "install" in line and "uninstall" not in line]
    assert installs[1:] == ["$(PIP) install --no-deps -r requirements/dev.txt", "$(PIP) install --no-deps -e ."]


def test_this_environment_is_the_lock():
    """`make setup` ran here: every locked package is installed at its locked version."""
    if not sys.prefix.endswith(".venv"):
        pytest.skip(f"not the project's .venv ({sys.prefix}): nothing says it came from the lock")
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    differ = {n: (v, installed.get(n)) for n, v in DEV.items() if installed.get(n) != v}
    assert not differ, f"locked vs installed: {differ} (run `rm .venv/.labkit-stamp && make setup`)"
    assert not {n for n in installed if n in lock.EXCLUDED}


def test_binder_requirements_roundtrip_catches_drift():
    # The check above can fail: one changed version in lab.txt changes Binder's file.
    text = lock.LAB.read_text()
    name, version = next(iter(LAB.items()))
    changed = text.replace(f"{name}=={version}\n", f"{name}=={version}.post9\n", 1)
    assert changed != text
    assert lock.binder_requirements(changed) != (ROOT / "binder/requirements.txt").read_text()
