"""The README is a first screen a newcomer can trust: its examples run, its picture exists,
its notebook table is the notebooks, and the commands it shows name real files and parameters."""
from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import labkit as lk

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", README, re.S | re.M)


def _section(title: str) -> str:
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.S | re.M)
    assert m, f"README.md has no '## {title}' section"
    return m.group(1)


@pytest.fixture(scope="module")
def executed():
    """Every python block of the README, in order, in one namespace (the Dask one excepted:
    it needs a cluster; tests/test_compare_dask.py runs the same call on a LocalCluster)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ns: dict = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for code in _blocks("python"):
            if "dask" in code:
                continue
            exec(compile(code, "README.md", "exec"), ns)
    plt.close("all")
    return ns, caught


def test_first_screen_order():
    # what it is, the badge, the five-line example and a picture, all before the set-up
    head = README[:README.index("\n## ")]
    assert "mybinder.org/badge_logo.svg" in head
    example = re.search(r"^```python\n(.*?)^```", head, re.S | re.M)
    assert example and len(example.group(1).strip().splitlines()) == 5
    picture = re.search(r"!\[[^\]]+\]\(([^)]+\.png)\)", head)
    assert picture, "the first screen needs a picture of an explorer"
    png = ROOT / picture.group(1)
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size < 400_000, "keep the picture small"
    titles = re.findall(r"^## (.+)$", README, re.M)
    assert titles[:5] == ["Set-up", "The labs, in reading order", "Running the notebooks headless",
                          "Your own problem", "Your own update rule"]


def test_five_line_example_runs(executed):
    ns, _ = executed
    traj = ns["traj"]
    assert ns["problem"].name == "rosenbrock" and not traj.diverged
    assert traj.f_final < 1e-11
    assert f"f={traj.f_final:.6g}" in README          # the output shown in its comment


def test_own_problem_example_runs_and_shows_what_it_says(executed):
    ns, caught = executed
    check = ns["booth"] and lk.check_gradient(ns["booth"])
    assert check.method == "complex step" and check.error < 1e-14
    assert ns["limit"] == pytest.approx(2 / 18, rel=1e-12)
    stable, unstable = ns["stable"], ns["unstable"]
    assert not stable.diverged and stable.f_final < 1e-25
    assert unstable.diverged and unstable.diverged_at is not None
    assert any(issubclass(w.category, lk.DivergenceWarning) for w in caught)
    shown = re.search(r"print\(stable\.f_final, unstable\.diverged_at\)\s*# (\S+) (\d+)", README)
    assert shown and float(shown.group(1)) == pytest.approx(stable.f_final, rel=0.05)
    assert int(shown.group(2)) == unstable.diverged_at


def test_check_gradient_catches_a_wrong_gradient(executed):
    ns, _ = executed
    booth = ns["booth"]
    import dataclasses
    wrong = dataclasses.replace(booth, grad=lambda x: booth.grad(x) * (1 + 1e-9))
    assert lk.check_gradient(wrong).error > 1e-10
    # compiled problems have no complex f: central differences, still far below a real mistake
    rosen = lk.check_gradient(lk.problems.rosenbrock())
    assert rosen.method == "central differences" and rosen.error < 1e-6


def test_labs_table_is_the_notebooks_in_order():
    rows = re.findall(r"^\| `(\d\d_\w+)` \| [^|]+ \|\s*([^|]*?)\s*\|$", _section("The labs, in reading order"), re.M)
    assert [name for name, _ in rows] == NOTEBOOKS
    import labkit.widgets as widgets
    for name, explorers in rows:
        for explorer in re.findall(r"`(\w+)`", explorers):
            assert hasattr(widgets, explorer), explorer
            source = (ROOT / "notebooks" / f"{name}.ipynb").read_text()
            assert f"{explorer}(" in source, f"{name} does not show {explorer}"


def test_headless_commands_name_real_notebooks_and_parameters():
    commands = "\n".join(_blocks("bash"))
    for path in set(re.findall(r"notebooks/\w+\.ipynb", commands)):
        assert (ROOT / path).is_file(), path
    for script in set(re.findall(r"tools/\w+\.py", commands)):
        assert (ROOT / script).is_file(), script
    for line in commands.splitlines():
        if "papermill " in line and " -p " in line:
            nb = json.loads((ROOT / re.search(r"notebooks/\w+\.ipynb", line).group(0)).read_text())
            params = next("".join(c["source"]) for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
            for name in re.findall(r" -p (\w+) ", line):
                assert re.search(rf"^{name}\s*=", params, re.M), f"{line}: no parameter {name}"


def test_write_your_own_explorer_example_runs(executed):
    """The README's teacher explorer is a real Explorer: update redraws, the API and the budget hold."""
    import base64

    from labkit.widgets import Explorer
    from labkit.widgets.base import MAX_HEIGHT_PX, MAX_WIDTH_PX
    ns, _ = executed
    ex = ns["parabola"]
    assert isinstance(ex, Explorer)
    assert ex.params == {"lr": 0.6, "steps": 40} and "diverges" in ex.status
    before = ex._line.get_ydata().copy()
    ex.update(lr=0.2)
    assert "converges" in ex.status and len(ex.timings) == 2
    assert not np.array_equal(before, ex._line.get_ydata())
    assert ex.trajectory[1] == pytest.approx(abs(1 - 0.2 * 4.0))
    ex.controls["lr"].value = 0.45                   # a slider move
    assert ex.params["lr"] == 0.45 and len(ex.timings) == 3
    assert base64.b64decode(ex.widget._repr_mimebundle_()["image/png"])[:4] == b"\x89PNG"
    assert ex.fig.get_figwidth() * ex.fig.dpi <= MAX_WIDTH_PX and ex.layout_height_px() <= MAX_HEIGHT_PX
    ex.close()
