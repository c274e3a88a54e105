"""Loss-landscape lab: basin maps, MLP slices and a LandscapeExplorer slider move.

* basin map: ``lk.landscape.basins`` of GD (sgd, lr=0.01) on Himmelblau, 300 x 300 starts x
  1,000 steps, one ``lk.sweep`` (wall time, both cores; target < 3 s); Rastrigin the same
  (its sin/cos per step cost ~10x Himmelblau's polynomial);
* slice: ``lk.landscape.slice_2d`` of a ReLU MLP on two moons (40 points, widths (96, 96):
  9,794 parameters), 100 x 100 points, filter-normalised directions (wall time; target <= 5 s);
* widget: ``LandscapeExplorer.update(lr=...)`` with 3 rules x 500 steps on Himmelblau,
  blitted over the cached contour on Agg (thread CPU time; target <= 50 ms), and a scrubber move.

    .venv/bin/python benchmarks/bench_landscape.py [rounds]
"""
from __future__ import annotations

import itertools
import os

from _timing import interleaved, row

SECTION = "landscape"


def measure(rounds: int = 5):
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib
    matplotlib.use("Agg")

    import labkit as lk
    from labkit import landscape as ls
    from labkit.widgets.landscape import LandscapeExplorer

    him, ras = lk.problems.himmelblau(), lk.problems.rastrigin()
    net = lk.nets.mlp(lk.nets.moons(40), widths=(96, 96), activation="relu")
    d1, d2 = ls.random_directions(net, net.x0, seed=0)

    heavy = interleaved({
        "basins himmelblau": lambda: ls.basins(him, "sgd", 1000, n=300, lr=0.01),
        "basins rastrigin": lambda: ls.basins(ras, "sgd", 1000, n=300, lr=0.002),
        "slice": lambda: ls.slice_2d(net, net.x0, d1, d2, span=1.0, n=100, progress=False),
    }, rounds=rounds, min_sample_s=0.0, max_calls=1)

    ex = LandscapeExplorer(rules=("sgd", "adam", "rmsprop"), steps=500, lr=0.01)
    ex.fig.canvas.draw()                       # first display: caches the background
    lrs, steps = itertools.cycle([0.01, 0.012]), itertools.cycle([50, 150])
    light = interleaved({"lr": lambda: ex.update(lr=next(lrs)), "step": lambda: ex.update(step=next(steps))},
                        rounds=7, min_sample_s=0.2, max_calls=50)
    ex.close()
    rows = [
        row(SECTION, "basins: Himmelblau, GD lr=0.01, 300 x 300 starts x 1,000 steps (wall, both cores)",
            heavy["basins himmelblau"], "wall", 1.0, "s", "<= 3"),
        row(SECTION, "basins: Rastrigin, GD lr=0.002, 300 x 300 starts x 1,000 steps (wall, both cores)",
            heavy["basins rastrigin"], "wall", 1.0, "s", ""),
        row(SECTION, f"slice_2d: ReLU MLP, {net.n_params:,} parameters, 40 points, 100 x 100 (wall)",
            heavy["slice"], "wall", 1.0, "s", "<= 5"),
        row(SECTION, "LandscapeExplorer: lr slider -> 3 rules x 500 steps re-run, all views blitted (CPU)",
            light["lr"], "cpu", 1e3, "ms", "<= 50"),
        row(SECTION, "LandscapeExplorer: step scrubber (no re-run; markers + Hessian directions blitted) (CPU)",
            light["step"], "cpu", 1e3, "ms", "<= 50"),
    ]
    raw = {k: v.to_dict() for k, v in {**heavy, **light}.items()}
    return rows, raw


if __name__ == "__main__":
    import sys
    rows, _ = measure(rounds=int(sys.argv[1]) if len(sys.argv) > 1 else 5)
    for r in rows:
        q = f"[{r.q1:.3g}, {r.q3:.3g}]" if r.q1 is not None else ""
        print(f"{r.name}: {r.value:.3g} {r.unit} {q} target {r.target or '-'} "
              f"{'' if r.ok is None else ('PASS' if r.ok else 'MISS')}")
