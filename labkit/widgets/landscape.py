r"""``LandscapeExplorer``: several optimizers on one 2-D landscape, from one start, live.

    import labkit as lk
    ex = lk.widgets.LandscapeExplorer(rules=("sgd", "adam", "rmsprop"))
    ex.widget                      # problem, lr (log), steps, step scrubber, quiver toggle, status, figure
    ex.update(lr=0.02)             # what a slider move does: every rule re-run once
    ex.update(step=150)            # the scrubber: markers and Hessian directions move, nothing re-runs
    ex.on_click(-3.0, 3.0)         # what a click on the contour does: a new shared start

Views: the problem's contour (log colour scale, :func:`labkit.viz.contour`) with every rule's
path from the shared start, a marker per path at the scrubbed step, the Hessian's
eigen-directions at the first rule's scrubbed point (segments whose length says how flat the
direction is, :func:`labkit.landscape.hessian_at`) and, toggled, the descent field
:math:`-\nabla f` (:func:`labkit.landscape.gradient_field`); beside it the loss per step with
a cursor at the scrubbed step.  Built in the mpl-interactions style of
:mod:`labkit.widgets`: artists made once, an event mutates them and blits them over the
cached contour.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from .. import optim as _optim
from .._errors import DivergenceWarning, check_array, check_bool, check_int, check_positive, shown
from ..run import run as _run
from .base import (Explorer, check_contour_n, check_steps, decade, merge_ranges, positive, problem_dict, rule_names,
                   set_log_ylim)

__all__ = ["LandscapeExplorer", "landscape_problems"]


def landscape_problems() -> dict:
    """The explorer's default problems: Himmelblau, Rosenbrock, Rastrigin, Beale, the strict saddle, a quadratic."""
    from .. import problems as P
    return {"himmelblau": P.himmelblau(), "rosenbrock": P.rosenbrock(), "rastrigin": P.rastrigin(),
            "beale": P.beale(), "saddle": P.saddle(),
            "quadratic": P.quadratic(eigs=(1.0, 20.0), angle=0.5)}


class LandscapeExplorer(Explorer):
    r"""Several optimizers on one 2-D problem from a shared start; lr, steps and a step scrubber.

    Parameters: ``problems`` (a dict of 2-D :class:`labkit.Problem`, or one Problem; default
    :func:`landscape_problems`), ``rules`` (each runs with the same ``lr`` and its other
    defaults), ``steps``, ``lr``, ``x0`` (default the problem's), ``problem`` (the one shown
    first), ``quiver`` (show the descent field), ``contour_n``.

    ``update(**changes)`` takes ``problem``, ``lr``, ``steps``, ``step``, ``x0`` and
    ``quiver``: ``lr``, ``steps``, ``x0`` and ``problem`` re-run every rule once (memoised per
    event); ``step`` and ``quiver`` re-run nothing.  A click on the contour moves the start.
    The status label (CSS class ``labkit-status``) reads ``lr=<lr:.3g>`` after every event.
    """

    _KEYS = ("problem", "lr", "steps", "step", "x0", "quiver")

    def __init__(self, problems=None, rules=("sgd", "adam", "rmsprop"), steps: int = 500, lr: float = 0.01, *,
                 x0=None, problem: str | None = None, quiver: bool = False, contour_n: int = 150):
        problems = problem_dict(landscape_problems() if problems is None else problems)
        for name, p in problems.items():
            if p.dim != 2:
                raise ValueError(f"LandscapeExplorer needs 2-D problems; {name!r} has {p.dim} coordinates")
        rules = rule_names(rules)
        for r in rules:
            _optim.get(r)                                  # unknown names fail here, with suggestions
        self.problems, self.rules = problems, rules
        first = problem if problem is not None else next(iter(problems))
        if not isinstance(first, str) or first not in problems:
            raise ValueError(f"problem must be one of {list(problems)}, got {shown(first)}")
        lr, steps = self._check_lr(lr), check_steps(self._check_steps(steps), problems.values())
        start = problems[first].x0 if x0 is None else self._check_x0(x0)
        self._state = {"problem": first, "lr": lr, "steps": steps, "step": min(steps, 0), "x0": np.array(start),
                       "quiver": check_bool("quiver", quiver)}
        self._contour_n = check_contour_n(contour_n)
        self._memo_key, self._trajs = None, {}
        self.runs = 0                                      # lk.run calls so far (the tests count them)
        self._build_figure()
        self._build_controls()
        self._draw(render=False)
        self.freeze_layout()

    # ------------------------------------------------------------------ checks

    @staticmethod
    def _check_lr(lr):
        return check_positive("lr", lr)

    @staticmethod
    def _check_steps(steps):
        return check_int("steps", steps, 1)

    @staticmethod
    def _check_x0(x0):
        x0 = check_array("x0", x0, finite=False, what="2 finite numbers").reshape(-1)
        if x0.shape != (2,) or not np.all(np.isfinite(x0)):
            raise ValueError(f"x0 must be 2 finite coordinates, got {x0!r}")
        return x0

    @property
    def problem(self):
        return self.problems[self._state["problem"]]

    @property
    def params(self) -> dict:
        return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in self._state.items()}

    @property
    def trajectory(self) -> dict:
        """``{rule: Trajectory}`` on display."""
        return dict(self._trajs)

    # ------------------------------------------------------------------ figure

    def _build_figure(self):
        from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator

        from .. import viz

        fig = self.new_figure((7.4, 4.4))
        ax_path, ax_loss = fig.subplots(1, 2, width_ratios=(1.1, 1))
        self.fig, self.axes = fig, {"path": ax_path, "loss": ax_loss}
        styles = dict(zip(self.rules, viz.series_styles(len(self.rules))))
        self._colors = {r: st["color"] for r, st in styles.items()}
        self._paths, self._marks, self._losses, self._ends = {}, {}, {}, {}
        for r in self.rules:
            c, st = self._colors[r], styles[r]
            self._paths[r], = ax_path.plot([], [], lw=1.3, label=r, zorder=2, **st)
            self._ends[r], = ax_path.plot([], [], ls="none", marker="o", ms=4, color=c, zorder=3)
            self._marks[r], = ax_path.plot([], [], ls="none", marker="o", ms=8, color=c, mec="white", mew=1.2,
                                           zorder=5)
            self._losses[r], = ax_loss.plot([], [], lw=1.3, label=r, **st)
        self._start, = ax_path.plot([], [], ls="none", marker="o", ms=8, mfc="white", mec="black", mew=1.5, zorder=5)
        self._eig = [ax_path.plot([], [], color=col, lw=2.2, solid_capstyle="round", zorder=6)[0]
                     for col in ("white", "orangered")]
        self._eig_text = ax_path.text(0.01, 0.99, "", transform=ax_path.transAxes, va="top", ha="left",
                                      fontsize="x-small", zorder=7,
                                      bbox=dict(boxstyle="round", fc="white", ec="0.7", alpha=0.85))
        self._cursor = ax_loss.axvline(0, color="0.4", lw=0.8)
        fig.legend(handles=list(self._paths.values()), loc="outside upper center", ncols=len(self.rules),
                   fontsize="small", frameon=False)
        ax_loss.set_yscale("log")
        ax_loss.set_xlabel("step")
        ax_loss.yaxis.set_major_locator(LogLocator(numticks=6))
        ax_loss.yaxis.set_minor_locator(NullLocator())
        ax_loss.yaxis.set_major_formatter(FuncFormatter(decade))
        ax_loss.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        self._quiver = None
        self._draw_static()
        fig.set_layout_engine("constrained")
        self.floor_marks([ax_loss])
        self.animate([*self._paths.values(), *self._ends.values(), *self._marks.values(),
                       *self._losses.values(), self._start, *self._eig, self._eig_text, self._cursor])
        self.connect("button_press_event", self._on_press)

    def _draw_static(self):
        """Contour, quiver, titles and limits: what changes only with the problem (a full redraw)."""
        from .. import viz
        from ..landscape import gradient_field
        ax = self.axes["path"]
        keep = {*self._paths.values(), *self._ends.values(), *self._marks.values(), self._start, *self._eig}
        for coll in list(ax.collections):
            coll.remove()
        for line in [ln for ln in ax.lines if ln not in keep]:
            line.remove()
        p = self.problem
        viz.contour(p, ax=ax, n=self._contour_n)
        self.contour_bar(ax)
        g = gradient_field(p, 18)
        norm = np.hypot(g.U, g.V)
        norm = np.where(norm > 0, norm, 1.0)
        # Unit arrows (direction only): the magnitude spans decades and the contour already shows it.
        self._quiver = ax.quiver(g.X, g.Y, -g.U / norm, -g.V / norm, color="white", alpha=0.6, width=0.003,
                                 zorder=1, visible=self._state["quiver"])
        ax.set_title(f"{self._state['problem']}: click = shared start", fontsize="small")
        self._gap = p.f_star is not None
        self.axes["loss"].set_ylabel("f - f*" if self._gap else "f")
        self.axes["loss"].set_title("loss per step", fontsize="small")

    # ------------------------------------------------------------------ controls

    def _build_controls(self):
        import ipywidgets as W
        s = self._state
        lg = math.log10(s["lr"])
        self.problem_picker = W.Dropdown(options=list(self.problems), value=s["problem"], description="problem")
        self.lr_slider = W.FloatLogSlider(value=s["lr"], base=10, min=min(-5, math.floor(lg)), max=max(0, math.ceil(lg)),
                                          step=0.02, description="lr", readout_format=".3g")
        self.steps_slider = self.steps_slider(s["steps"], 5000)
        self.scrubber = W.IntSlider(value=s["step"], min=0, max=s["steps"], description="step")
        self.quiver_box = W.Checkbox(value=s["quiver"], description="gradient field")
        self.bind((("problem", self.problem_picker), ("lr", self.lr_slider), ("steps", self.steps_slider),
                    ("step", self.scrubber), ("quiver", self.quiver_box)))

    def control_rows(self):
        return [[self.problem_picker, self.quiver_box],
                [self.lr_slider, self.steps_slider, self.scrubber]]

    def _sync_controls(self):
        s = self._state
        with self.syncing():
            self.problem_picker.value = s["problem"]
            self.lr_slider.value = s["lr"]
            self.steps_slider.value = s["steps"]
            self.scrubber.max = s["steps"]
            self.scrubber.value = s["step"]
            self.quiver_box.value = s["quiver"]

    # ------------------------------------------------------------------ events

    def on_click(self, x: float, y: float):
        """Start every rule from ``(x, y)`` and re-run."""
        return self.update(x0=(float(x), float(y)))

    def _on_press(self, event):
        if self.clicked_in(event, self.axes["path"]):
            self.on_click(event.xdata, event.ydata)

    def apply(self, **changes):
        """Apply ``changes`` (``problem``, ``lr``, ``steps``, ``step``, ``x0``, ``quiver``); returns ``{rule: Trajectory}``.

        A new ``problem`` also resets the start to that problem's ``x0`` unless ``x0`` is given.
        """
        unknown = set(changes) - set(self._KEYS)
        if unknown:
            raise ValueError(f"update takes {', '.join(self._KEYS)}; got {sorted(unknown)}")
        s = dict(self._state)
        if "problem" in changes:
            if changes["problem"] not in self.problems:
                raise ValueError(f"problem must be one of {list(self.problems)}, got {changes['problem']!r}")
            if changes["problem"] != s["problem"] and "x0" not in changes:
                s["x0"] = self.problems[changes["problem"]].x0.copy()
            s["problem"] = changes["problem"]
        if "lr" in changes:
            s["lr"] = self._check_lr(changes["lr"])
        if "steps" in changes:
            s["steps"] = self._check_steps(changes["steps"])
        if "step" in changes:
            s["step"] = int(changes["step"])
        if "x0" in changes:
            s["x0"] = self._check_x0(changes["x0"])
        if "quiver" in changes:
            s["quiver"] = bool(changes["quiver"])
        s["step"] = min(max(s["step"], 0), s["steps"])
        new_problem = s["problem"] != self._state["problem"]
        full = new_problem or s["steps"] != self._state["steps"] or s["quiver"] != self._state["quiver"]
        self._state = s
        if new_problem:
            self._draw_static()
        if self._quiver is not None:
            self._quiver.set_visible(s["quiver"])
        if hasattr(self, "scrubber"):
            self._sync_controls()
        self._draw(full=full)
        return self.trajectory

    def _compute(self):
        s = self._state
        key = (s["problem"], s["lr"], s["steps"], tuple(s["x0"]))
        if key != self._memo_key:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DivergenceWarning)
                self._trajs = {r: _run(self.problem, r, s["steps"], s["x0"], lr=s["lr"]) for r in self.rules}
            self.runs += len(self.rules)
            self._memo_key = key
        return self._trajs

    # ------------------------------------------------------------------ views

    def _draw(self, render: bool = True, full: bool = False):
        from ..landscape import hessian_at
        s = self._state
        trajs = self._compute()
        p = self.problem
        k = s["step"]
        rng = None
        empty = (np.empty(0), np.empty(0))
        for r, tr in trajs.items():
            xy = tr.xs
            self._paths[r].set_data(xy[:, 0], xy[:, 1])
            self._ends[r].set_data(*(xy[-1:].T if len(xy) else empty))
            kk = min(k, len(xy) - 1)
            self._marks[r].set_data(xy[kk:kk + 1, 0], xy[kk:kk + 1, 1])
            f = tr.f - float(p.f_star) if self._gap else tr.f
            f, r_ = positive(f)
            self._losses[r].set_data(np.arange(f.size), f)
            rng = merge_ranges(rng, r_)
        self._start.set_data([s["x0"][0]], [s["x0"][1]])
        ax = self.axes["loss"]
        ax.set_xlim(0, max(s["steps"], 1))
        set_log_ylim(ax, rng)
        self._cursor.set_xdata([k, k])
        first = trajs[self.rules[0]]
        # A run that diverges at its start (f(x0) not finite) records no state: show the start.
        point = first.xs[min(k, len(first.xs) - 1)] if len(first.xs) else s["x0"]
        self._draw_eigen(point, hessian_at if p.hess is not None else None)
        self.set_status(self._status())
        if render:
            self.refresh(full=full)

    def _draw_eigen(self, point, hessian_at):
        """Eigen-directions at ``point``: segments of half-length proportional to 1/sqrt|curvature| (a level-set's axes)."""
        if hessian_at is None:
            for line in self._eig:
                line.set_data([], [])
            self._eig_text.set_text("")
            return
        c = hessian_at(self.problem, point)
        (x0, x1), (y0, y1) = self.problem.domain
        size = 0.12 * max(x1 - x0, y1 - y0)
        lam = np.abs(c.values)
        ref = float(np.max(lam)) if np.max(lam) > 0 else 1.0
        rows = [f"at ({point[0]:.3g}, {point[1]:.3g}): {c.kind}"]
        for i, line in enumerate(self._eig):
            u = c.vectors[:, i]
            # The flatter direction draws longer, capped at 3x the stiff one.
            h = size * min(3.0, math.sqrt(ref / lam[i]) if lam[i] > 0 else 3.0)
            line.set_data([point[0] - h * u[0], point[0] + h * u[0]], [point[1] - h * u[1], point[1] + h * u[1]])
            rows.append(f"{'white' if i == 0 else 'red'}: λ{i + 1}={c.values[i]:.3g}"
                        + (f"  2/λ={2 / c.values[i]:.3g}" if c.values[i] > 0 else ""))
        self._eig_text.set_text("\n".join(rows))

    def _status(self) -> str:
        s = self._state
        parts = []
        for r, tr in self._trajs.items():
            if tr.diverged:
                parts.append(f"{r}: diverged at {tr.diverged_at}")
            else:
                what = tr.f_final - (float(self.problem.f_star) if self._gap else 0.0)
                parts.append(f"{r}: {'f-f*' if self._gap else 'f'}={what:.3g}")
        x0 = s["x0"]
        # "lr=<3 significant digits>" is a contract: the browser test reads it back.
        return (f"lr={s['lr']:.3g} steps={s['steps']} step {s['step']} from ({x0[0]:.3g}, {x0[1]:.3g}): "
                + ", ".join(parts))


def merge_ranges(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return min(a[0], b[0]), max(a[1], b[1])
