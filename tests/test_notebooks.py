"""Every notebook is a regression test: it runs headless with the small parameters in its
baseline, and what it records must match data/baselines/<stem>.json (see tools/run_notebooks.py).
The same run checks every figure a cell shows with tests/figure_rules.py (issue #19).
"""
import functools
import json
import subprocess
import sys

import nbformat
import pytest

import run_notebooks as nbrun

# Every notebooks/*.ipynb, by glob, minus nbrun.EXCLUDE (kept there, with a reason per
# notebook, so that `make notebooks` skips the same ones).
NOTEBOOKS = nbrun.notebooks()
# One execution per notebook serves both tests below: each notebook's tests are one xdist group
# (pyproject's addopts say --dist loadgroup), so they run in the same worker, which caches the run.
EXECUTED = [pytest.param(p, id=p.name, marks=pytest.mark.xdist_group(p.stem)) for p in NOTEBOOKS]


@functools.cache
def _executed(path):
    """The notebook run at its baseline's parameters with every figure checked, once per process."""
    baseline = nbrun.load_baseline(path)
    if baseline is None:
        pytest.fail(f"{path.name} has no baseline {nbrun._rel(nbrun.baseline_path(path))}: write "
                    '{"parameters": {<small values>}} there and run `make baselines`', pytrace=False)
    try:
        return nbrun.run_notebook(path, baseline["parameters"], check_figures=True)
    except (nbrun.NotebookError, ValueError) as e:
        pytest.fail(str(e), pytrace=False)


@pytest.mark.parametrize("path", EXECUTED)
def test_notebook_records_match_baseline(path):
    baseline = nbrun.load_baseline(path)
    run = _executed(path)
    if not run.records:
        pytest.fail(f"{path.name} records nothing: call lk.record(name, value) on the numbers "
                    "it should keep producing", pytrace=False)
    rows = nbrun.compare(path, run.records, baseline)
    if not all(r.ok for r in rows):
        pytest.fail(f"{path.name}: records differ from the baseline (executed copy: "
                    f"{nbrun._rel(run.output)}); if intended, run `make baselines`\n"
                    + nbrun.format_table(rows), pytrace=False)


@pytest.mark.cpu_independent
@pytest.mark.parametrize("path", EXECUTED)
def test_notebook_figures_readable_when_projected(path):
    """Every figure a notebook cell draws passes tests/figure_rules.py (width, font sizes, ticks,
    log floors, colour bars, theory lines).  An explorer's figure is its widget's (labkit.widgets,
    tests/test_widgets.py), not the notebook's: left out here."""
    run = _executed(path)
    own = [f for f in run.figures if not f["explorer"]]
    bad = [f for f in own if f["problems"]]
    assert not bad, f"{path.name}: figures hard to read when projected:\n" + "\n".join(
        f"  cell {f['cell']} (executed order), figure {f['figure']}: {f['source'].splitlines()[0][:70]!r}\n"
        + "\n".join(f"    - {q}" for q in f["problems"]) for f in bad)


def _leaves(value, path=()):
    """(path, leaf) pairs of a record's value: nested dicts and lists walked, leaves as stored."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, path + (i,))
    else:
        yield path, value


# Known repeats, each a defect left to its notebook's owner (strict: the entry must go once fixed).
REPEATS_KNOWN: dict[str, str] = {}


@pytest.mark.parametrize("path", [pytest.param(p, marks=pytest.mark.xfail(reason=REPEATS_KNOWN[p.name], strict=True))
                                  if p.name in REPEATS_KNOWN else p for p in NOTEBOOKS],
                         ids=[p.name for p in NOTEBOOKS])
def test_no_record_repeats_another(path):
    """Two records equal by construction are one number recorded twice: the second can only fail
    when the first does.  Checked on the baselines (cheap): no two top-level records equal, and no
    non-integral float leaf in two different records.  Flags and counts (bools, ints, integral
    floats: 0.0 and 1.0 fractions) recur honestly and are left out of both checks."""
    baseline = nbrun.load_baseline(path)
    if baseline is None:
        pytest.skip("no baseline (test_notebook_records_match_baseline reports it)")
    records = {name: entry["value"] for name, entry in baseline["records"].items()}
    # flags and counts (True, 1, 1.0: "the check passed") recur honestly; measured values must not
    names = [n for n, v in records.items() if not (isinstance(v, (bool, int)) or (isinstance(v, float) and v.is_integer()))]
    same = [(a, b) for i, a in enumerate(names) for b in names[i + 1:] if records[a] == records[b]]
    assert not same, f"{path.name}: records with equal values {same}"
    seen = {}
    for name, value in records.items():
        for where, leaf in _leaves(value):
            if isinstance(leaf, float) and not leaf.is_integer():
                seen.setdefault(leaf, []).append((name, where))
    shared = {leaf: places for leaf, places in seen.items() if len({n for n, _ in places}) > 1}
    assert not shared, f"{path.name}: one float in several records (equal by construction?) {shared}"


def _committed(path):
    """The notebook as staged for commit (git index), else as on disk (untracked, no git).
    Reading the index lets `make test` pass while the lab has saved outputs into the
    working copy, and still catches them once they are staged."""
    rel = path.relative_to(nbrun.ROOT).as_posix()
    shown = subprocess.run(["git", "show", f":{rel}"], cwd=nbrun.ROOT, capture_output=True)
    return nbformat.reads(shown.stdout.decode() if shown.returncode == 0 else path.read_text(),
                          as_version=4)


@pytest.mark.cpu_independent
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_committed_clean(path):
    nb = _committed(path)
    with_outputs = [i for i, c in enumerate(nb.cells) if c.get("outputs")]
    counted = [i for i, c in enumerate(nb.cells) if c.get("execution_count") is not None]
    assert not with_outputs and not counted, (
        f"{path.name}: cells {sorted(set(with_outputs + counted))} carry outputs or execution "
        "counts; clear them (Edit > Clear Outputs of All Cells) before committing")
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", ())]
    assert len(tagged) == 1, f"{path.name}: cells tagged 'parameters': {tagged}, need exactly one"
    assert nb.cells[tagged[0]].cell_type == "code"


def test_exclude_list_names_existing_notebooks():
    missing = [name for name in nbrun.EXCLUDE if not (nbrun.NOTEBOOK_DIR / name).exists()]
    assert not missing, f"EXCLUDE names notebooks that do not exist: {missing}"


# --- the runner itself, on throwaway notebooks --------------------------------------------

def _write_notebook(path, *sources):
    """A notebook whose first cell is the parameters cell."""
    cells = [nbformat.v4.new_code_cell(sources[0], metadata={"tags": ["parameters"]})]
    cells += [nbformat.v4.new_code_cell(s) for s in sources[1:]]
    nb = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, path)
    return path


def test_runner_passes_parameters_and_collects_records(tmp_path):
    path = _write_notebook(
        tmp_path / "ok.ipynb",
        "n = 1",
        "import sys, numpy as np\nfrom labkit.record import record",
        "record('twice', np.int64(2 * n))\n"
        "record('halves', np.arange(n) / 2)\n"
        "record('prefix', sys.prefix)\n"
        "record('nested', {'a': (np.float32(0.5), float('nan')), 'ok': np.bool_(True)})")
    run = nbrun.run_notebook(path, {"n": 3}, out_dir=tmp_path / "out")
    # The kernel is this environment's Python, not whatever a user-level kernelspec names.
    assert run.records.pop("prefix") == sys.prefix
    assert run.records == {"twice": 6, "halves": [0.0, 0.5, 1.0],
                           "nested": {"a": [0.5, "nan"], "ok": True}}
    from labkit.record import MIME, read_records
    assert MIME == nbrun.MIME
    assert read_records(run.output) == {**run.records, "prefix": sys.prefix}
    nbformat.validate(nbformat.read(run.output, as_version=4))     # records are valid outputs
    # A baseline made from the run matches it; a nudged float beyond rtol does not.
    baseline = nbrun.make_baseline(run)
    assert baseline["parameters"] == {"n": 3}
    assert set(baseline["records"]["halves"]) == {"value", "rtol", "atol"}
    assert set(baseline["records"]["twice"]) == {"value"}
    assert all(r.ok for r in nbrun.compare(path, run.records, baseline))
    baseline["records"]["halves"]["value"][2] = 1.0 + 1e-5
    (row,) = [r for r in nbrun.compare(path, run.records, baseline) if not r.ok]
    assert row.name == "halves" and "[2]" in row.problem


def test_runner_checks_each_figure_once(tmp_path):
    path = _write_notebook(
        tmp_path / "figs.ipynb",
        "n = 1",
        "import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(13, 4))\nax.plot([0, 1, 2])\n"
        "# an explorer's figure: a labkit object whose .fig it is (attributes inline, no __dict__ asked for)\n"
        "keep = type('DemoExplorer', (), {'__module__': 'labkit.widgets'})()\nkeep.fig = fig",
        "fig2, ax2 = plt.subplots(figsize=(6, 4))\nax2.plot([0, 1, 2], label='a')\nax2.set(xlabel='x', ylabel='y')",
        "plt.close('all')")
    run = nbrun.run_notebook(path, {"n": 2}, out_dir=tmp_path / "out", check_figures=True)
    # cells counted from 1 as executed: parameters, the injected parameters, then the figures
    assert [(f["cell"], f["explorer"]) for f in run.figures] == [(3, "DemoExplorer"), (4, None)]
    assert any("13 in wide" in q for q in run.figures[0]["problems"]) and run.figures[1]["problems"] == []
    assert nbrun.run_notebook(path, {"n": 2}, out_dir=tmp_path / "out").figures == []    # off by default


@pytest.mark.parametrize("before", [["x = n + 1"], []], ids=["cell2", "right-after-parameters"])
def test_runner_reports_failing_cell(tmp_path, before):
    path = _write_notebook(tmp_path / "bad.ipynb", "n = 1", *before,
                           "def inner():\n    return 1 / 0\ninner()", "never = True")
    with pytest.raises(nbrun.NotebookError) as info:
        nbrun.run_notebook(path, {"n": 2}, out_dir=tmp_path / "out")
    e = info.value
    # Counted in the notebook as written, although papermill injected a parameters cell.
    index = 1 + len(before)
    assert e.cell_index == index and e.ename == "ZeroDivisionError"
    message = str(e)
    assert f"cell {index} raised ZeroDivisionError: division by zero" in message
    assert "inner()" in message and "return 1 / 0" in message      # source and traceback
    assert "\x1b[" not in message                                  # no ANSI colours
    assert e.output.exists()                                       # executed copy kept


def test_runner_rejects_unknown_parameters(tmp_path):
    path = _write_notebook(tmp_path / "p.ipynb", "n = 1", "pass")
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['nn'\]"):
        nbrun.run_notebook(path, {"nn": 2}, out_dir=tmp_path / "out")


def test_compare_semantics():
    baseline = {"records": {
        "f": {"value": 1.0, "rtol": 1e-6, "atol": 0.0},
        "n": {"value": 3},
        "flag": {"value": True},
        "gone": {"value": "x"},
    }}
    rows = {r.name: r for r in nbrun.compare("nb.ipynb", {
        "f": 1.0 + 5e-7, "n": 4, "flag": 1, "new": 0.5}, baseline)}
    assert rows["f"].ok
    assert not rows["n"].ok                     # ints are exact
    assert not rows["flag"].ok                  # True is not 1
    assert not rows["gone"].ok and not rows["new"].ok
    assert "make baselines" in rows["new"].problem


def test_record_validates_and_converts(monkeypatch):
    import numpy as np
    import IPython.display
    from labkit.record import MIME, record
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw: shown.append(obj))
    assert record("x", np.float64(0.25)) is None    # a cell ending in record() shows no Out[]
    assert shown[-1][MIME] == {"name": "x", "value": 0.25}
    assert type(shown[-1][MIME]["value"]) is float
    assert shown[-1]["text/plain"] == "x = 0.25"
    record("inf", [np.inf, -np.inf])
    assert shown[-1][MIME]["value"] == ["inf", "-inf"]       # JSON has no infinity
    json.dumps(shown[-1], allow_nan=False)
    for name in ("", None, 3):
        with pytest.raises(ValueError):
            record(name, 1)
    with pytest.raises(TypeError):
        record("obj", object())
    with pytest.raises(TypeError):
        record("keys", {1: 2.0})
