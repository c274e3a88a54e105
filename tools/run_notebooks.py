"""Execute labkit's notebooks headless and compare what they record with their baselines.

    python tools/run_notebooks.py                 # run every notebook, print a table (make notebooks)
    python tools/run_notebooks.py --baselines     # rewrite the baselines from fresh runs (make baselines)
    python tools/run_notebooks.py notebooks/00_tour.ipynb     # only these

tests/test_notebooks.py uses the same functions. Notebooks run through papermill's Python API,
all from this one process (the papermill CLI pays ~2 s of imports per notebook), each in a
fresh kernel, with the small parameters stored in its baseline, so that CI runs them small.
Executed copies land in build/notebooks/.

A baseline, data/baselines/<notebook stem>.json:

    {
      "parameters": {"steps": 200},
      "records": {
        "final_f":  {"value": 1.5e-07, "rtol": 1e-06, "atol": 1e-12},
        "diverged": {"value": 3}
      }
    }

"parameters" are passed to papermill. A record whose value holds floats (also inside lists
and dicts) is compared with |value - expected| <= atol + rtol * |expected|, element by element;
ints, bools, strings and None compare exactly. --baselines keeps "parameters", any other
top-level key, and the rtol/atol already set for a record; new float records get the defaults.

This file does not import labkit: it has to report a broken labkit, not die importing it.
"""
import argparse
import copy
import json
import os
import re
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
BASELINE_DIR = ROOT / "data" / "baselines"
OUT_DIR = ROOT / "build" / "notebooks"
FIGURE_RULES = ROOT / "tests" / "figure_rules.py"

MIME = "application/vnd.labkit.record+json"     # labkit.record.MIME; tests check they agree
RTOL, ATOL = 1e-6, 1e-12                         # defaults for new float records

# Notebooks that neither the regression test nor `make notebooks` runs, each with the reason.
# Empty on purpose: every notebook is a test unless it says here why not.
EXCLUDE: dict[str, str] = {
    # "99_example.ipynb": "needs a browser",
}

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def notebooks():
    """Every notebooks/*.ipynb, sorted, except EXCLUDE."""
    return sorted(p for p in NOTEBOOK_DIR.glob("*.ipynb") if p.name not in EXCLUDE)


def baseline_path(notebook):
    return BASELINE_DIR / f"{Path(notebook).stem}.json"


def load_baseline(notebook):
    """The notebook's baseline as a dict, or None when it has no baseline file."""
    path = baseline_path(notebook)
    if not path.exists():
        return None
    baseline = json.loads(path.read_text())
    baseline.setdefault("parameters", {})
    baseline.setdefault("records", {})
    return baseline


@contextmanager
def isolated_jupyter():
    """Point Jupyter's and IPython's per-user directories at an empty temp dir meanwhile.

    The kernelspec "python3" then comes from this environment, whose argv[0] is "python",
    which jupyter_client replaces by sys.executable. A user-level kernelspec
    (~/.local/share/jupyter/kernels/python3) would otherwise win and could start another
    Python; user config and IPython startup files could change what a notebook computes.
    """
    with tempfile.TemporaryDirectory(prefix="labkit-jupyter-") as tmp:
        with patched_environ(dict(
                JUPYTER_DATA_DIR=f"{tmp}/data", JUPYTER_CONFIG_DIR=f"{tmp}/config",
                JUPYTER_RUNTIME_DIR=f"{tmp}/runtime", IPYTHONDIR=f"{tmp}/ipython",
                JUPYTER_PATH=None, JUPYTER_CONFIG_PATH=None,
                # silences debugpy's "frozen modules" warning at every kernel start
                PYDEVD_DISABLE_FILE_VALIDATION="1")):
            startup = Path(tmp) / "ipython" / "profile_default" / "startup"
            startup.mkdir(parents=True)
            (startup / "00-labkit-figures.py").write_text(FIGURE_HOOK)
            yield Path(tmp)


# An IPython startup file for every kernel isolated_jupyter starts; it does nothing unless
# run_notebook(check_figures=True) names a log.  After each cell (post_execute, before the inline
# backend shows and closes the cell's figures) it runs tests/figure_rules.py's
# readability_problems on every figure not seen before and appends one JSON line per figure to
# the log, saying whether a labkit explorer (an object whose .fig it is) owns it.
# It reads the figures and draws them once more; it computes nothing the notebook records.
FIGURE_HOOK = """\
def _labkit_figure_hook():
    import gc, importlib.util, json, os, sys, weakref
    log, rules = os.environ.get("LABKIT_FIGURE_LOG"), os.environ.get("LABKIT_FIGURE_RULES")
    if not (log and rules):
        return
    state = {"cell": 0, "source": "", "rules": None, "seen": weakref.WeakSet()}

    def pre(info):
        state["cell"] += 1
        state["source"] = info.raw_cell

    def post():
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is None or not plt.get_fignums():
            return
        if state["rules"] is None:
            spec = importlib.util.spec_from_file_location("_labkit_figure_rules", rules)
            state["rules"] = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(state["rules"])
        from matplotlib._pylab_helpers import Gcf
        for manager in Gcf.get_all_fig_managers():
            fig = manager.canvas.figure
            if fig in state["seen"]:
                continue
            state["seen"].add(fig)
            # the object whose .fig it is refers to it through its __dict__, or directly (Python 3.11
            # keeps a plain object's attributes inline until its __dict__ is asked for)
            refs = gc.get_referrers(fig)
            refs += [o for d in refs if isinstance(d, dict) and d.get("fig") is fig for o in gc.get_referrers(d)]
            owner = [type(o).__name__ for o in refs if not isinstance(o, dict)
                     and type(o).__module__.startswith("labkit") and getattr(o, "fig", None) is fig]
            try:
                problems = state["rules"].readability_problems(fig)
            except Exception as e:
                problems = [f"the figure check raised {type(e).__name__}: {e}"]
            with open(log, "a") as f:
                f.write(json.dumps({"cell": state["cell"], "figure": manager.num, "explorer": owner[0] if owner else None,
                                    "source": state["source"], "problems": problems}) + "\\n")

    get_ipython().events.register("pre_run_cell", pre)
    get_ipython().events.register("post_execute", post)


_labkit_figure_hook()
del _labkit_figure_hook
"""


@contextmanager
def patched_environ(env):
    """os.environ with ``env`` applied ({name: value, or None to unset}), restored on exit."""
    saved = {name: os.environ.get(name) for name in env}
    try:
        for name, value in env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = str(value)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass
class Run:
    """One executed notebook."""
    notebook: Path
    output: Path            # the executed copy
    parameters: dict
    records: dict           # {name: value}, in the order recorded
    seconds: float
    figures: list = None    # with check_figures: what tests/figure_rules.py says of each figure


class NotebookError(Exception):
    """A notebook raised. str() names the cell (0-based, counted in the committed notebook),
    the exception and its traceback without ANSI colours; the executed copy is at `output`."""

    def __init__(self, notebook, output, cell_index, source, ename, evalue, traceback):
        self.notebook, self.output, self.cell_index = Path(notebook), Path(output), cell_index
        self.source, self.ename, self.evalue = source, ename, evalue
        self.traceback = _ANSI.sub("", "\n".join(traceback))
        super().__init__(str(self))

    def __str__(self):
        source = "\n".join("    " + line for line in self.source.splitlines())
        return (f"{_rel(self.notebook)}: cell {self.cell_index} raised "
                f"{self.ename}: {self.evalue}\n"
                f"  executed copy: {_rel(self.output)}\n"
                f"  cell source:\n{source}\n"
                f"  traceback:\n{self.traceback}")


def run_notebook(notebook, parameters=None, out_dir=OUT_DIR, timeout=600, env=None, check_figures=False):
    """Execute ``notebook`` with ``parameters`` in a fresh kernel; return a Run.

    ``env``: environment variables for the kernel, {name: value, or None to unset}, set in
    this process while the notebook runs (the kernel inherits them) and restored after:
    how tools/record_spread.py picks a CPU target and tools/mutants.py a mutated labkit.

    ``check_figures``: check every figure a cell shows with tests/figure_rules.py (Run.figures:
    one {"cell", "figure", "explorer", "source", "problems"} per figure, cells counted from 1 as executed, the
    injected parameters cell included).

    Raises ValueError for a parameter the notebook's ``parameters`` cell does not define
    (papermill would only warn, and the notebook would silently run at its defaults), and
    NotebookError when a cell raises. ``timeout`` is per cell, in seconds.
    """
    import papermill as pm      # 1-2 s to import: only when something runs

    notebook = Path(notebook).resolve()
    parameters = dict(parameters or {})
    try:
        known = pm.inspect_notebook(str(notebook))
    except ValueError as e:     # it needs metadata.kernelspec to parse the parameters cell
        raise ValueError(f"{_rel(notebook)}: {e} (save it from JupyterLab with the Python 3 kernel)")
    unknown = sorted(set(parameters) - set(known))
    if unknown:
        raise ValueError(f"{_rel(notebook)}: unknown parameter(s) {unknown}; "
                         f"its parameters cell defines {sorted(known)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    output = out_dir / notebook.name
    figure_log = out_dir / f"{notebook.stem}.figures.jsonl"
    figure_log.unlink(missing_ok=True)
    hook = {"LABKIT_FIGURE_LOG": str(figure_log), "LABKIT_FIGURE_RULES": str(FIGURE_RULES)} if check_figures else {}
    start = time.perf_counter()
    with isolated_jupyter(), patched_environ({**hook, **(env or {})}):
        try:
            nb = pm.execute_notebook(str(notebook), str(output), parameters=parameters,
                                     kernel_name="python3", progress_bar=False,
                                     cwd=str(notebook.parent), execution_timeout=timeout)
        except pm.PapermillExecutionError as e:
            raise NotebookError(notebook, output, _input_index(output, e.cell_index), e.source,
                                e.ename, e.evalue, e.traceback) from None
    figures = ([json.loads(line) for line in figure_log.read_text().splitlines()]
               if figure_log.exists() else [])
    return Run(notebook, output, parameters, read_records(nb), time.perf_counter() - start, figures)


def _input_index(output, fallback):
    """Index of the failed cell in the notebook as committed. papermill's own cell_index
    counts the parameters cell it injected; the copy it writes also has error cells added."""
    added = {"injected-parameters", "papermill-error-cell-tag"}
    cells = [c for c in _read(output).cells if not added & set(c.metadata.get("tags", ()))]
    failed = [i for i, c in enumerate(cells)
              if c.metadata.get("papermill", {}).get("status") == "failed"]
    return failed[0] if failed else fallback


def read_records(nb):
    """{name: value} of the labkit records in an executed notebook (a notebook or a path)."""
    if not hasattr(nb, "get"):
        nb = _read(nb)
    records = {}
    for cell in nb["cells"]:
        for output in cell.get("outputs", ()):
            data = output.get("data", {})
            if MIME in data:
                name = data[MIME]["name"]
                if name in records:
                    raise ValueError(f"record {name!r} is recorded twice")
                records[name] = data[MIME]["value"]
    return records


@dataclass
class Row:
    """One record compared with its baseline; `problem` is None when it matches."""
    notebook: str
    name: str
    value: object
    expected: object
    tolerance: str
    problem: str | None

    @property
    def ok(self):
        return self.problem is None


_MISSING = "<missing>"


def compare(notebook, records, baseline):
    """One Row per record and per baseline entry; a record without a baseline entry fails."""
    stem = Path(notebook).stem
    expected = (baseline or {}).get("records", {})
    rows = []
    for name, value in records.items():
        if name not in expected:
            rows.append(Row(stem, name, value, _MISSING, "", "not in the baseline (make baselines)"))
            continue
        entry = expected[name]
        rtol, atol = entry.get("rtol", 0.0), entry.get("atol", 0.0)
        tol = f"rtol={rtol:g} atol={atol:g}" if "rtol" in entry or "atol" in entry else "exact"
        rows.append(Row(stem, name, value, entry["value"], tol,
                        mismatch(value, entry["value"], rtol, atol)))
    for name, entry in expected.items():
        if name not in records:
            rows.append(Row(stem, name, _MISSING, entry["value"], "", "no longer recorded"))
    return rows


def mismatch(value, expected, rtol=0.0, atol=0.0, where=""):
    """None when ``value`` matches ``expected``, else where and how they differ."""
    if isinstance(value, bool) or isinstance(expected, bool):
        same = type(value) is type(expected) and value == expected
    elif isinstance(value, (int, float)) and isinstance(expected, (int, float)):
        if isinstance(value, int) and isinstance(expected, int):
            same = value == expected
        else:
            same = abs(value - expected) <= atol + rtol * abs(expected)
    elif isinstance(value, list) and isinstance(expected, list):
        if len(value) != len(expected):
            return f"{where or 'value'}: length {len(value)} != {len(expected)}"
        for i, (v, e) in enumerate(zip(value, expected)):
            if problem := mismatch(v, e, rtol, atol, f"{where}[{i}]"):
                return problem
        return None
    elif isinstance(value, dict) and isinstance(expected, dict):
        if value.keys() != expected.keys():
            return f"{where or 'value'}: keys {sorted(value)} != {sorted(expected)}"
        for k in expected:
            if problem := mismatch(value[k], expected[k], rtol, atol, f"{where}[{k!r}]"):
                return problem
        return None
    else:
        same = type(value) is type(expected) and value == expected
    return None if same else f"{where or 'value'}: {value!r} != {expected!r}"


def make_baseline(run, old=None):
    """A baseline from ``run``, keeping ``old``'s parameters, extra keys and tolerances."""
    old = old or {}
    baseline = {**old, "parameters": old.get("parameters", run.parameters), "records": {}}
    for name, value in run.records.items():
        entry = {"value": copy.deepcopy(value)}      # not shared with run.records
        if _has_float(value):
            previous = old.get("records", {}).get(name, {})
            entry["rtol"] = previous.get("rtol", RTOL)
            entry["atol"] = previous.get("atol", ATOL)
        baseline["records"][name] = entry
    return baseline


def write_baseline(notebook, baseline):
    path = baseline_path(notebook)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(baseline, indent=2) + "\n")
    return path


def format_table(rows, changes=False):
    """The rows as an aligned text table, then what differs in each failing row.
    ``changes=True`` (make baselines) labels differences as changes, not failures."""
    same, differs = ("same", "changed") if changes else ("ok", "FAIL")

    def short(v, width=32):
        text = "-" if v is _MISSING else repr(v)
        return text if len(text) <= width else text[:width - 3] + "..."
    table = [("notebook", "record", "value", "baseline", "tolerance", "ok")]
    table += [(r.notebook, r.name, short(r.value), short(r.expected), r.tolerance or "-",
               same if r.ok else differs) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in table]
    lines += [f"{differs} {r.notebook}/{r.name}: {r.problem}" for r in rows if not r.ok]
    return "\n".join(lines)


def _has_float(value):
    if isinstance(value, float):
        return True
    if isinstance(value, list):
        return any(map(_has_float, value))
    if isinstance(value, dict):
        return any(map(_has_float, value.values()))
    return False


def _read(path):
    import nbformat
    return nbformat.read(str(path), as_version=4)


def _rel(path):
    path = Path(path)
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to run (default: every notebook in notebooks/)")
    parser.add_argument("--baselines", action="store_true",
                        help="write data/baselines/<stem>.json from the fresh runs")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)     # keep the table after the progress lines in CI logs

    failed, rows = [], []
    for notebook in args.notebooks or notebooks():
        baseline = load_baseline(notebook)
        if baseline is None and not args.baselines:
            print(f"{_rel(baseline_path(notebook))} is missing: run `make baselines`; "
                  "running at the notebook's defaults", file=sys.stderr)
        print(f"running {_rel(notebook)} ...", file=sys.stderr, flush=True)
        try:
            run = run_notebook(notebook, (baseline or {}).get("parameters"))
        except (NotebookError, ValueError) as e:
            print(f"FAILED {e}\n", file=sys.stderr)
            failed.append(notebook)
            continue
        print(f"  {len(run.records)} records in {run.seconds:.1f} s -> {_rel(run.output)}",
              file=sys.stderr)
        if not run.records:
            print(f"FAILED {_rel(notebook)} records nothing (call lk.record)", file=sys.stderr)
            failed.append(notebook)
            continue
        # With --baselines the table shows what changed against the old baseline.
        rows += compare(notebook, run.records, baseline)
        if args.baselines:
            path = write_baseline(notebook, make_baseline(run, baseline))
            print(f"  wrote {_rel(path)}", file=sys.stderr)
            if baseline is None:
                print("  (it ran at the notebook's defaults: put small test parameters under "
                      '"parameters" in that file and run `make baselines` again)', file=sys.stderr)
    if rows:
        if args.baselines:
            print("compared with the previous baselines, now rewritten:")
        print(format_table(rows, changes=args.baselines))
    differ = 0 if args.baselines else sum(not r.ok for r in rows)
    print(f"\n{len(failed)} notebook(s) failed; {differ} record(s) differ from their baselines")
    return 1 if failed or differ else 0


if __name__ == "__main__":
    sys.exit(main())
