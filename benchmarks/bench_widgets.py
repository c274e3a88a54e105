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

Every explorer (``explorer_events``): median kernel milliseconds of one control event
(``ex.update``: compute + artist updates + blit over the cached background; what
``Explorer.timings`` records), alternating between two values one slider step apart (what one
key press sends: the axes' decade limits then rarely move, as in use), each explorer built the
way its notebook builds it.  Runs on labkit versions before the Explorer base too (it only
calls ``update`` and ``select``), which is how the before/after table of issue #19 was made:
``python benchmarks/bench_widgets.py --events``.

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


def _event_cases():
    """(name, factory, [event, other event]) for every explorer, as its notebook builds it."""
    import numpy as np

    import labkit as lk
    from labkit import widgets as W
    quad = lk.problems.quadratic(eigs=(1, 10), angle=0.5)
    smap = lk.analysis.stability_map(quad, "sgd", 100, lr=np.geomspace(1e-3, 1.0, 30),
                                     momentum=np.linspace(0, 0.99, 30))
    return [
        ("StepSizeExplorer lr", lambda: W.StepSizeExplorer(quad, rules=("sgd", "adam", "rmsprop", "lion"), steps=2000),
         [{"lr": 0.05}, {"lr": 0.05 * 10 ** 0.01}]),
        ("StabilityMapExplorer click", lambda: W.StabilityMapExplorer(smap, 0.3, 0.9),
         [("select", (0.05, 0.5)), ("select", (0.3, 0.9))]),
        ("SignUpdateExplorer lr", lambda: W.SignUpdateExplorer(
            rules=("adamw", "sign_sgd", "signum", "lion", "lion_k:tanh", "lion_k:huber"), steps=3000, lr=0.02),
         [{"lr": 0.02}, {"lr": 0.02 * 10 ** 0.02}]),
        ("LandscapeExplorer lr", lambda: W.LandscapeExplorer(rules=("sgd", "adam", "rmsprop"), steps=500, lr=0.01),
         [{"lr": 0.01}, {"lr": 0.01 * 10 ** 0.02}]),
        ("SeparableExplorer lr", lambda: W.SeparableExplorer(
            lk.problems.separable_logistic(n=40, d=2, margin=0.1, seed=0), steps=200),
         [{"gamma": 1.0}, {"gamma": 10 ** 0.1}]),
        ("SeparableExplorer t", lambda: W.SeparableExplorer(
            lk.problems.separable_logistic(n=40, d=2, margin=0.1, seed=0), steps=200), [{"t": 50}, {"t": 150}]),
        ("ThreeBodyExplorer t", lambda: W.ThreeBodyExplorer("figure_eight", "hermite", mu=1e-2, n_out=400),
         [{"t": 3.0}, {"t": 9.0}]),
        ("ThreeBodyExplorer mu (memo hit)", lambda: W.ThreeBodyExplorer("figure_eight", "hermite", mu=1e-2, n_out=400),
         [{"mu": 1e-2}, {"mu": 1e-2 * 10 ** 0.05}]),
    ]


def explorer_events(n: int = 21, backend: str = "Agg") -> dict:
    """{case: median ms of one event} (thread CPU time; the background cached first).

    ``backend="module://ipympl.backend_nbagg"`` adds what ipympl does in the kernel per
    event: the diff image's PNG encoding and the comm message (no browser attached).
    """
    import statistics
    import time
    import matplotlib
    matplotlib.use(backend)
    out = {}
    for name, make, events in _event_cases():
        ex = make()
        # Under ipympl, as once a browser view has said "initialized": until then every event only
        # asks the (absent) browser for a draw, and nothing would be rendered or timed.
        ex.fig.canvas.syncing_data_url = False
        ex.fig.canvas.draw()                        # the first display: caches the background
        times = []
        for k in range(n + 2):
            ev = events[k % 2]
            t0 = time.thread_time()
            if isinstance(ev, tuple):
                getattr(ex, ev[0])(*ev[1])
            else:
                ex.update(**ev)
            if k >= 2:                              # the first two fill memos and caches
                times.append(time.thread_time() - t0)
        out[name] = 1e3 * statistics.median(times)
        ex.close()
    return out


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
    events = explorer_events()
    for name, ms_ in events.items():
        r = row(SECTION, f"{name}: one event (update + blit), median of 21", _Fixed(ms_ / 1e3), "cpu", 1e3, "ms",
                "<= 100")
        rows.append(r)
    raw = {"stats": {k: v.to_dict() for k, v in stats.items()}, "steps": STEPS, "signs": sign_raw,
           "maps": map_raw, "events_ms": events}
    return rows, raw


class _Fixed:
    """One measured median, shaped like _timing.Stats for ``row``."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.calls_per_sample = 1

    def median(self, clock):
        return self.seconds

    def quartiles(self, clock):
        return self.seconds, self.seconds


if __name__ == "__main__" and "--events" in __import__("sys").argv:
    _backend = "module://ipympl.backend_nbagg" if "--ipympl" in __import__("sys").argv else "Agg"
    for name, ms_ in explorer_events(backend=_backend).items():
        print(f"{name:36s} {ms_:8.2f} ms")
elif __name__ == "__main__":
    import sys
    rows, _ = measure(rounds=int(sys.argv[1]) if len(sys.argv) > 1 else 7)
    for r in rows:
        q = f"[{r.q1:.1f}, {r.q3:.1f}]" if r.q1 is not None else ""
        print(f"{r.name}: {r.value:.2f} {r.unit} {q} {r.target} {'' if r.ok is None else ('PASS' if r.ok else 'MISS')}")
