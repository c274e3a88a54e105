"""labkit's benchmarks (``make bench``): print a markdown table, write ``build/bench.json``.

    .venv/bin/python benchmarks/run_all.py                 # everything, a few minutes
    .venv/bin/python benchmarks/run_all.py --only sweep    # one section (see below)

Sections (method: docs/design.md, "Benchmarks"):

* ``run``: ``lk.run`` ns/step on 2-D Rosenbrock, end to end and the bare kernel, against
  torch.optim (autograd, analytic ``.grad``); every rule (``bench_run.py``);
* ``sweep``: ``lk.sweep`` of 1,024 lrs x 10,000 Adam steps, 2 threads and 1, against a
  vectorised NumPy Adam that reproduces it (``bench_sweep.py``);
* ``coldstart``: ``import labkit`` and the first ``lk.run`` in fresh processes
  (``bench_coldstart.py``);
* ``widgets``: StepSizeExplorer and SignUpdateExplorer slider moves (blit and full draw),
  stability maps and StabilityMapExplorer clicks (``bench_widgets.py``);
* ``threebody``: ``lk.threebody`` IAS15 and Hermite on the Pythagorean problem (t = 70) and
  100 figure-eight periods, at the issue's accuracy, against REBOUND 5.2.2 in the same run
  (``bench_threebody.py``; REBOUND rows skipped if it is not installed: ``.[bench]``);
* ``landscape``: basin maps, a 100 x 100 slice of a network, LandscapeExplorer
  (``bench_landscape.py``);
* ``labs``: the separable, landscape and three-body explorers' slider latency and the RL
  environment's overhead (``bench_labs.py``);
* ``browser``: every explorer's key press (or click) -> changed canvas pixels in JupyterLab,
  headless chromium, beside a plain ipympl figure's full draw and blit (``bench_browser.py``;
  skipped without playwright/chromium).

Every figure is a median over interleaved, shuffled rounds (``_timing.py``): thread CPU
time for single-threaded code, wall time for multi-threaded code and start-up.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from _timing import Row  # noqa: E402

SECTIONS = {
    "run": ("lk.run: one trajectory, 2-D Rosenbrock (thread CPU time per step)", "lk.run adam"),
    "sweep": ("lk.sweep: 1,024 lrs x 10,000 Adam steps, 2-D Rosenbrock (wall time)", "lk.sweep"),
    "coldstart": ("Cold start: fresh processes, warm Numba cache (wall time)", None),
    "widgets": ("Explorers: one slider move (2,000-step sgd, Agg, thread CPU time), stability maps",
                "slider move, same problem"),
    "threebody": ("Three-body integrators vs REBOUND 5.2.2, whole runs (thread CPU time)",
                  "REBOUND IAS15 (Pythagorean: default rule; figure-eight: GLOBAL)"),
    "landscape": ("Loss landscapes: basin maps, network slices, LandscapeExplorer", None),
    "labs": ("The other labs' explorers: one slider move (Agg, thread CPU time); the RL environment", None),
    "browser": ("Key press -> pixels in JupyterLab (headless chromium, ipympl; wall time in the page, ms)",
                "ipympl full draw (reference)"),
}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _environment() -> dict:
    import numba
    import numpy
    env = {"python": platform.python_version(), "numpy": numpy.__version__, "numba": numba.__version__,
           "cpu": _cpu_model(), "cpus": os.cpu_count(), "numba_threads": numba.config.NUMBA_NUM_THREADS,
           "platform": platform.platform()}
    try:
        from importlib.metadata import version
        env["torch"] = version("torch")
    except Exception:                    # torch is optional for everything but the run section
        env["torch"] = None
    try:
        env["loadavg_start"] = os.getloadavg()
    except OSError:
        pass
    return env


def _fmt(value: float, unit: str) -> str:
    if value != value:
        return "nan"
    if unit == "x":
        return f"{value:,.0f}x" if value >= 100 else f"{value:.2f}x"
    if unit == "s":
        return f"{value:.3f} s"
    if unit == "modules":
        return f"{value:.0f}"
    digits = 0 if value >= 1000 else 1 if value >= 10 else 2
    return f"{value:,.{digits}f} {unit}"


def _quart(r: Row) -> str:
    if r.q1 is None:
        return ""
    unit = r.unit if r.unit != "s" else "s"
    return f"[{_fmt(r.q1, unit).split()[0]}, {_fmt(r.q3, unit).split()[0]}]"


def _ratio(r: Row) -> str:
    if r.ratio is None:
        return ""
    return f"{r.ratio:,.0f}x" if r.ratio >= 100 else f"{r.ratio:.2f}x"


def table(rows: list[Row], base_name: str | None) -> str:
    ratio_head = f"vs {base_name}" if base_name else ""
    lines = [f"| figure | median | [q1, q3] | {ratio_head} | target | result | note |",
             "|---|---:|---|---:|---|---|---|"]
    for r in rows:
        result = "" if r.ok is None else ("PASS" if r.ok else "**MISS**")
        lines.append(f"| {r.name} | {_fmt(r.value, r.unit)} | {_quart(r)} | {_ratio(r)} | {r.target} | {result} "
                     f"| {r.note} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default="run,sweep,coldstart,widgets,threebody,landscape,labs,browser",
                    help="comma-separated sections: run, sweep, coldstart, widgets, threebody, landscape, labs, browser "
                         "(default: all)")
    ap.add_argument("--rounds", type=int, default=7, help="interleaved rounds per table (default 7)")
    ap.add_argument("--repeats", type=int, default=5, help="fresh processes per cold-start figure (default 5)")
    ap.add_argument("--json", default=str(ROOT / "build" / "bench.json"), help="where to write the results")
    args = ap.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in only if s not in SECTIONS]
    if unknown:
        ap.error(f"unknown section(s) {unknown}; choose from {', '.join(SECTIONS)}")

    t_start = time.perf_counter()
    env = _environment()
    results = {"environment": env, "rounds": args.rounds, "repeats": args.repeats, "sections": {}}
    out = [f"# labkit benchmarks\n",
           f"{env['cpu']}, {env['cpus']} CPUs, load {env.get('loadavg_start', ('?',) * 3)[0]:.2f}; "
           f"Python {env['python']}, numpy {env['numpy']}, numba {env['numba']} ({env['numba_threads']} threads), "
           f"torch {env['torch']}.\nMedians of {args.rounds} interleaved shuffled rounds "
           f"({args.repeats} fresh processes for cold start).\n"]
    all_rows = []
    for name in only:
        t0 = time.perf_counter()
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        if name == "run":
            import bench_run
            rows, raw = bench_run.measure(rounds=args.rounds)
        elif name == "sweep":
            import bench_sweep
            rows, raw = bench_sweep.measure(rounds=args.rounds)
        elif name == "widgets":
            import bench_widgets
            rows, raw = bench_widgets.measure(rounds=args.rounds)
        elif name in ("threebody", "landscape", "labs", "browser"):
            import importlib
            rows, raw = importlib.import_module(f"bench_{name}").measure(rounds=args.rounds)
        else:
            import bench_coldstart
            rows, raw = bench_coldstart.measure(repeats=args.repeats)
        took = time.perf_counter() - t0
        title, base = SECTIONS[name]
        out.append(f"## {title}\n\n{table(rows, base)}\n\nRe-measure: `.venv/bin/python benchmarks/run_all.py "
                   f"--only {name}` ({took:.0f} s)\n")
        results["sections"][name] = {"rows": [r.to_dict() for r in rows], "raw": raw, "seconds": took}
        all_rows += rows

    judged = [r for r in all_rows if r.ok is not None]
    missed = [r for r in judged if not r.ok]
    try:
        env["loadavg_end"] = os.getloadavg()
    except OSError:
        pass
    total = time.perf_counter() - t_start
    out.append(f"**{len(judged) - len(missed)} PASS, {len(missed)} MISS** of {len(judged)} targets"
               + (": " + "; ".join(r.name for r in missed) if missed else "")
               + f". Total {total:.0f} s; load at end {env.get('loadavg_end', ('?',))[0]:.2f}. "
                 f"Everything: `.venv/bin/python benchmarks/run_all.py` (or `make bench`).")
    results["seconds"] = total
    results["summary"] = {"pass": len(judged) - len(missed), "miss": len(missed),
                          "missed": [r.name for r in missed]}
    print("\n".join(out))
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, default=float))
    print(f"\nwrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
