"""Explorer latency: one slider move of StepSizeExplorer (2,000 steps, Agg), and stability maps.

StepSizeExplorer, single-threaded, so thread CPU time (wall time is in the raw data).
Variants, timed in one set of interleaved rounds, each alternating between two step sizes
so that every call is a real event (the per-event memo never answers):

* ``blit``: ``ex.update(lr=...)`` with the background cached: one ``lk.run``, every view's
  ``set_data``/limits, then the per-event artists (lines, y axes, legends, limits box)
  painted over the cached background -- what a slider move costs in the kernel under ipympl
  (which then sends the image); the issue's "slider move -> all views updated <= 50 ms";
* ``full``: ``ex.update(lr=...)`` then ``fig.canvas.draw()``: everything rendered (what a
  resize or a ``steps`` change costs);
* ``draw``: ``fig.canvas.draw()`` alone;
* ``lk.run``: the bare ``lk.run`` of the same event, for scale.

On a quadratic (all four views) and on Rosenbrock (no error split), both with sgd.

SignUpdateExplorer (thread CPU time): an ``lr`` move (four rules re-run, the inspector's
NumPy replay to the scrubbed step 100, every view blitted) and a scrubber move.

Stability maps (wall time, both cores): ``lk.analysis.stability_map`` of sgd on a quadratic,
200 x 200 cells x 1,000 steps (target < 2 s), and a click on StabilityMapExplorer (re-run of
the cell, then its path, loss and cell marker blitted over the cached map and contour).
"""
from __future__ import annotations

import itertools
import os
import warnings

from _timing import interleaved, row

SECTION = "widgets"
STEPS = 2000
TARGET_MS = "<= 50"


def _variants(name, problem, lrs):
    import labkit as lk
    from labkit.widgets import StepSizeExplorer

    ex = StepSizeExplorer(problem, rules=("sgd", "adam"), steps=STEPS, lr=lrs[0])
    ex.fig.canvas.draw()                    # the first display: caches the background
    cyc = {k: itertools.cycle(lrs) for k in ("blit", "full", "run")}

    def full():
        ex.update(lr=next(cyc["full"]))
        ex.fig.canvas.draw()

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lk.run(problem, "sgd", STEPS, lr=next(cyc["run"]))

    return ex, {
        f"{name} blit": lambda: ex.update(lr=next(cyc["blit"])),
        f"{name} full": full,
        f"{name} draw": ex.fig.canvas.draw,
        f"{name} lk.run": run,
    }


def _signs(rounds):
    from labkit.widgets import SignUpdateExplorer

    ex = SignUpdateExplorer(steps=STEPS)          # 4 rules on Rosenbrock, inspector at step 100
    ex.fig.canvas.draw()
    lrs = itertools.cycle([0.01, 0.02])
    scrub = itertools.cycle([80, 100])
    stats = interleaved({"lr": lambda: ex.update(lr=next(lrs)), "scrub": lambda: ex.update(step=next(scrub))},
                        rounds=rounds, min_sample_s=0.2, max_calls=50)
    ex.close()
    return [row(SECTION, f"SignUpdateExplorer: lr slider -> 4 rules re-run ({STEPS:,} steps), inspector "
                         "replayed to step 100, all views blitted", stats["lr"], "cpu", 1e3, "ms", TARGET_MS),
            row(SECTION, "SignUpdateExplorer: step scrubber (no re-run; inspector from its cache)",
                stats["scrub"], "cpu", 1e3, "ms", TARGET_MS)], {k: v.to_dict() for k, v in stats.items()}


def _maps(rounds):
    import numpy as np

    import labkit as lk
    from labkit.widgets import StabilityMapExplorer

    q = lk.problems.quadratic()
    lrs, mus = np.geomspace(1e-3, 1.0, 200), np.linspace(0.0, 0.99, 200)
    smap = lk.analysis.stability_map(q, "sgd", 1000, lr=lrs, momentum=mus)      # compile + warm
    ex = StabilityMapExplorer(smap)
    ex.fig.canvas.draw()
    cells = itertools.cycle([(0.05, 0.5), (0.3, 0.9)])

    def click():
        ex.select(*next(cells))

    stats = interleaved({"map": lambda: lk.analysis.stability_map(q, "sgd", 1000, lr=lrs, momentum=mus),
                         "click": click}, rounds=rounds, min_sample_s=0.2, max_calls=20)
    return [row(SECTION, "stability_map: 200 x 200 cells x 1,000 steps, sgd on a quadratic (wall, both cores)",
                stats["map"], "wall", 1.0, "s", "<= 2"),
            row(SECTION, "StabilityMapExplorer: click a cell -> its run drawn (re-run + blit)",
                stats["click"], "cpu", 1e3, "ms", "")], {k: v.to_dict() for k, v in stats.items()}


def measure(rounds: int = 7):
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib
    matplotlib.use("Agg")
    import labkit as lk

    cases = {"quadratic": (lk.problems.quadratic(), (0.05, 0.15)),
             "rosenbrock": (lk.problems.rosenbrock(), (1e-3, 1.5e-3))}
    variants, explorers = {}, {}
    for name, (problem, lrs) in cases.items():
        ex, v = _variants(name, problem, lrs)
        explorers[name] = ex
        variants.update(v)
    stats = interleaved(variants, rounds=rounds, min_sample_s=0.2, max_calls=50)

    ms = 1e3
    rows = []
    for name, (problem, _) in cases.items():
        views = "4 views" if name == "quadratic" else "3 views (no error split)"
        base = stats[f"{name} blit"].median("cpu") * ms
        for key, label, target in (
                ("blit", f"slider move -> all views updated (update + blit over the cached background), "
                         f"{problem.name}, {views}", TARGET_MS),
                ("full", f"the same with a full redraw (update + fig.canvas.draw(): resize, steps change), "
                         f"{problem.name}", ""),
                ("draw", f"fig.canvas.draw() alone, {problem.name}", ""),
                ("lk.run", f"lk.run alone, sgd, {STEPS:,} steps, {problem.name}", "")):
            r = row(SECTION, label, stats[f"{name} {key}"], "cpu", ms, "ms", target)
            r.ratio = r.value / base
            rows.append(r)
    for ex in explorers.values():
        ex.close()
    sign_rows, sign_raw = _signs(rounds)
    map_rows, map_raw = _maps(rounds)
    rows += sign_rows + map_rows
    raw = {"stats": {k: v.to_dict() for k, v in stats.items()}, "steps": STEPS, "signs": sign_raw,
           "maps": map_raw}
    return rows, raw


if __name__ == "__main__":
    import sys
    rows, _ = measure(rounds=int(sys.argv[1]) if len(sys.argv) > 1 else 7)
    for r in rows:
        q = f"[{r.q1:.1f}, {r.q3:.1f}]" if r.q1 is not None else ""
        print(f"{r.name}: {r.value:.2f} {r.unit} {q} {r.target} {'' if r.ok is None else ('PASS' if r.ok else 'MISS')}")
