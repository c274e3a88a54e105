"""Compile every kernel the labs' explorers use, so that the first slider move does not wait.

``python -m labkit.warm`` builds each explorer the way its notebook does and moves every
control once: each slider to a neighbouring value, each checkbox both ways, each dropdown
through all its options.  Numba writes what that compiles to its on-disk cache
(:mod:`labkit._jit` chooses the directory), and a later process loads it instead of compiling.

Binder runs this in ``binder/postBuild``, so the cache is baked into the image: on a fresh
Binder session the first slider move loads machine code (milliseconds) instead of compiling
it (seconds).  ``tests/test_binder.py`` checks that a second process compiles nothing.

Caveat: Numba keys its cache on the CPU model and features.  Where Binder runs the image on
another CPU than it was built on, the first use compiles again (and re-caches): correct,
only as slow as without the warm-up.
"""
from __future__ import annotations

import math
import sys
import time


def _explorers():
    """(name, factory) for every explorer in the labs, with its notebook's arguments."""
    import numpy as np

    import labkit as lk
    from labkit import analysis as an
    from labkit import widgets as w

    quad = lk.problems.quadratic(eigs=(1, 10), angle=0.5)                      # 01_step_sizes
    return [
        ("StepSizeExplorer", lambda: w.StepSizeExplorer(quad, rules=("sgd", "adam", "rmsprop", "lion"), steps=2000)),
        # the map's size does not change the compiled kernel: a small one
        ("StabilityMapExplorer", lambda: w.StabilityMapExplorer(
            an.stability_map(quad, "sgd", 100, lr=np.geomspace(1e-3, 1.0, 8), momentum=np.linspace(0, 0.99, 8)),
            0.3, 0.9)),
        ("SignUpdateExplorer", lambda: w.SignUpdateExplorer(                      # 02_sign_updates
            rules=("adamw", "sign_sgd", "signum", "lion", "lion_k:tanh", "lion_k:huber"), steps=3000, lr=0.02)),
        ("LandscapeExplorer", lambda: w.LandscapeExplorer(rules=("sgd", "adam", "rmsprop"), steps=500, lr=0.01)),
        ("SeparableExplorer", lambda: w.SeparableExplorer(                        # 04_large_steps_logistic
            lk.problems.separable_logistic(n=40, d=2, margin=0.1, seed=0), steps=200)),
        ("ThreeBodyExplorer", lambda: w.ThreeBodyExplorer("figure_eight", "hermite", mu=1e-2, n_out=400)),
    ]


def _value_widgets(widgets):
    """The value-carrying controls inside ``widgets`` (boxes are walked), in display order."""
    import ipywidgets as W
    for widget in widgets:
        if isinstance(widget, W.Box):
            yield from _value_widgets(widget.children)
        elif isinstance(widget, W.ValueWidget) and not isinstance(widget, (W.Label, W.HTML)) \
                and not getattr(widget, "disabled", False):
            yield widget


def _other_values(control):
    """Values to move ``control`` through before it goes back to where it was."""
    import ipywidgets as W
    if isinstance(control, W.Checkbox):
        return [not control.value]
    if isinstance(control, (W.Dropdown, W.ToggleButtons, W.RadioButtons)):
        values = [o[1] if isinstance(o, tuple) else o for o in control.options]   # labels or (label, value)
        return [v for v in values if v != control.value]
    if isinstance(control, W.FloatLogSlider):
        exponent = math.log(control.value, control.base) + control.step          # one step up, kept in range
        lg = control.base ** min(control.max, max(control.min, exponent))
        return [lg] if lg != control.value else []
    if hasattr(control, "step") and hasattr(control, "max"):                # Int/Float sliders, BoundedIntText
        up = control.value + control.step
        return [up if up <= control.max else control.value - control.step]
    return []


def exercise(explorer) -> int:
    """Move every control of ``explorer`` once and back (and click a map); the number of moves."""
    moves = 0
    if hasattr(explorer, "select"):                 # StabilityMapExplorer: a click picks a cell
        m = explorer.map
        explorer.select(float(m.axis0[0]), float(m.axis1[-1]))
        moves += 1
    for control in list(_value_widgets(explorer.controls.values())):
        start = control.value
        for value in _other_values(control):
            control.value = value
            moves += 1
        control.value = start
    return moves


def warm(verbose: bool = True) -> dict[str, float]:
    """Build every explorer, move each control; seconds per explorer."""
    import matplotlib
    matplotlib.use("Agg")                   # no display: the figures render off screen
    times = {}
    for name, make in _explorers():
        t0 = time.perf_counter()
        explorer = make()
        moves = exercise(explorer)
        explorer.close()
        times[name] = time.perf_counter() - t0
        if verbose:
            print(f"{name}: {moves} control moves, {times[name]:.1f} s", flush=True)
    return times


if __name__ == "__main__":
    t = warm()
    print(f"labkit.warm: {len(t)} explorers in {sum(t.values()):.1f} s", file=sys.stderr)
