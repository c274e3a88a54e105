"""StepSizeExplorer: latency of one slider move, 2,000-step trajectories, Agg backend.

Single-threaded, so the figures are thread CPU time (wall time is in the raw data).
Variants, all timed in one set of interleaved rounds, each alternating between two step
sizes so that every call is a real event (the per-event memo never answers):

* ``compute``: ``ex.update(lr=...)`` with ``fig.canvas.draw_idle`` made a no-op, i.e. what
  the slider callback costs under ipympl, where ``draw_idle`` only posts a message: one
  ``lk.run``, every view's ``set_data``/``set_text`` and axis limits;
* ``full``: ``ex.update(lr=...)`` then ``fig.canvas.draw()`` on Agg: every view rendered
  (the figure the issue's "slider move -> all views updated <= 50 ms" is judged on);
* ``draw``: ``fig.canvas.draw()`` alone (the render share);
* ``lk.run``: the bare ``lk.run`` of the same event, for scale.

On a quadratic (all four views) and on Rosenbrock (no error split), both with sgd.
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
    # Agg's draw_idle renders at once; under ipympl it only posts a message and the front-end
    # then asks for one draw.  So: draw_idle a no-op, and "full" = update + one draw.
    ex.fig.canvas.draw_idle = lambda *a, **k: None
    cyc = {k: itertools.cycle(lrs) for k in ("compute", "full", "run")}

    def full():
        ex.update(lr=next(cyc["full"]))
        ex.fig.canvas.draw()

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lk.run(problem, "sgd", STEPS, lr=next(cyc["run"]))

    return ex, {
        f"{name} compute": lambda: ex.update(lr=next(cyc["compute"])),
        f"{name} full": full,
        f"{name} draw": ex.fig.canvas.draw,
        f"{name} lk.run": run,
    }


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
        base = stats[f"{name} full"].median("cpu") * ms
        for key, label, target in (
                ("full", f"slider move -> all views drawn (update + Agg draw), {problem.name}, {views}",
                 TARGET_MS),
                ("compute", f"slider callback without the render (ipympl: draw_idle posts a message), "
                            f"{problem.name}", ""),
                ("draw", f"fig.canvas.draw() alone, {problem.name}", ""),
                ("lk.run", f"lk.run alone, sgd, {STEPS:,} steps, {problem.name}", "")):
            r = row(SECTION, label, stats[f"{name} {key}"], "cpu", ms, "ms", target)
            r.ratio = r.value / base
            rows.append(r)
    for ex in explorers.values():
        ex.close()
    raw = {"stats": {k: v.to_dict() for k, v in stats.items()}, "steps": STEPS}
    return rows, raw


if __name__ == "__main__":
    import sys
    rows, _ = measure(rounds=int(sys.argv[1]) if len(sys.argv) > 1 else 7)
    for r in rows:
        q = f"[{r.q1:.1f}, {r.q3:.1f}]" if r.q1 is not None else ""
        print(f"{r.name}: {r.value:.2f} {r.unit} {q} {r.target} {'' if r.ok is None else ('PASS' if r.ok else 'MISS')}")
