"""The lab explorers' slider latency, side by side in one run (Agg canvas; the blit path ipympl uses).

Thread CPU time per event, medians of interleaved rounds (``_timing.py``), each event a new
value so no memo answers:

* ``LandscapeExplorer``: an lr move (3 rules x 500 steps re-run, paths and loss blitted);
* ``SeparableExplorer``: a gamma move (LR+GD re-run, boundary, loss/error, angle, radius);
* ``ThreeBodyExplorer``: a mu move (figure-eight, two periods, Hermite re-run) and a time move;
* ``TimestepEnv``: overhead per 0.1 yr decision beyond one uninterrupted ``evolve`` over the
  same steps (target <= 5 us; ``bench_threebody_widget.env_overhead``).

Re-measure: ``.venv/bin/python benchmarks/run_all.py --only labs``.
"""
from __future__ import annotations

import itertools
import os

from _timing import interleaved, row

SECTION = "labs"
TARGET_MS = "<= 50"


def measure(rounds: int = 7):
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib
    matplotlib.use("Agg")
    from labkit.widgets import LandscapeExplorer, SeparableExplorer, ThreeBodyExplorer

    land = LandscapeExplorer()
    sep = SeparableExplorer(steps=200)
    three = ThreeBodyExplorer()
    for ex in (land, sep, three):
        ex.fig.canvas.draw()                       # first display: caches the background
    lrs = (1e-2 * (1 + 1e-3 * k) for k in itertools.count(1))
    gammas = (10.0 * (1 + 1e-3 * k) for k in itertools.count(1))
    mus = (1e-2 * (1 + 1e-3 * k) for k in itertools.count(1))
    times = itertools.cycle([1.0, 2.0, 3.0, 4.0])
    stats = interleaved({
        "landscape lr": lambda: land.update(lr=next(lrs)),
        "separable gamma": lambda: sep.update(gamma=next(gammas)),
        "threebody mu": lambda: three.update(mu=next(mus)),
        "threebody t": lambda: three.update(t=next(times)),
    }, rounds=rounds, min_sample_s=0.2, max_calls=30)
    rows = [
        row(SECTION, "LandscapeExplorer: lr slider -> 3 rules x 500 steps re-run, all views blitted",
            stats["landscape lr"], "cpu", 1e3, "ms", TARGET_MS),
        row(SECTION, "SeparableExplorer: lr (gamma) slider -> LR+GD re-run (200 steps), all views blitted",
            stats["separable gamma"], "cpu", 1e3, "ms", TARGET_MS),
        row(SECTION, "ThreeBodyExplorer: mu slider -> figure-eight, 2 periods, Hermite re-run, redrawn",
            stats["threebody mu"], "cpu", 1e3, "ms", TARGET_MS),
        row(SECTION, "ThreeBodyExplorer: time slider (no re-run, blit)", stats["threebody t"], "cpu", 1e3, "ms",
            TARGET_MS),
    ]
    import bench_threebody_widget
    from _timing import Row
    us = bench_threebody_widget.env_overhead() * 1e6
    rows.append(Row(SECTION, "TimestepEnv: overhead per 0.1 yr decision beyond the integration (median of seeds)",
                    us, "us", None, None, "wall", "<= 5", us <= 5, ""))
    for ex in (land, sep, three):
        ex.close()
    return rows, {"stats": {k: v.to_dict() for k, v in stats.items()}, "env_overhead_us": us}
