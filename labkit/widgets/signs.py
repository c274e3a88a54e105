"""SignUpdateExplorer: Adam against signSGD, Signum, Lion and Lion-K on one problem, live."""
from __future__ import annotations

import html
import math
import warnings

import numpy as np

from .. import optim as _optim
from .._errors import DivergenceWarning, check_bool, check_real
from ..run import run as _run
from .base import (Explorer, check_contour_n, check_steps, decade, merge_ranges, positive, problem_dict, rule_names,
                   set_log_ylim, theory_style)

__all__ = ["SignUpdateExplorer", "sign_lab_problems"]


def sign_lab_problems() -> dict:
    """The sign-update lab's problems: Rosenbrock and one ill-conditioned quadratic, axis-aligned and rotated."""
    from .. import problems as P
    return {"rosenbrock": P.rosenbrock(),
            "quadratic (axis-aligned)": P.quadratic(eigs=(1.0, 25.0), angle=0.0, x0=(-3.0, 2.5)),
            "quadratic (rotated 45°)": P.quadratic(eigs=(1.0, 25.0), angle=math.pi / 4, x0=(-3.0, 2.5))}


_SIGN_RULES = ("adamw", "sign_sgd", "signum", "lion")


class SignUpdateExplorer(Explorer):
    r"""Adam against the sign methods (signSGD, Signum, Lion, Lion-K) on one problem, live.

    ``rules`` are rule names; ``"lion_k:tanh"`` (a smooth sign switch), ``"lion_k:huber"``
    (clipped-linear) and ``"lion_k:l1"`` (Lion's hard sign) pick Lion-K's :math:`\nabla K`.

    Controls: problem, ``lr`` (log), ``b1`` (Signum's momentum, Adam's and Lion's
    :math:`\beta_1`), ``b2``, ``weight_decay`` (decoupled for AdamW and Lion), "decay the
    step" (a cosine schedule to zero), ``steps``, a step scrubber and the rule to inspect.

    Views: every rule's path over the contour (with Lion's box :math:`\|x\|_\infty \le
    1/(\lambda)` when ``weight_decay > 0``, and the scrubbed step marked); the distance
    :math:`\|x_t - x^*\|_\infty / \eta` per step (a sign method ends oscillating at about 1);
    the inspected rule's per-coordinate step :math:`|\Delta x_i| / \eta` (exactly 1 for signSGD
    and Lion: the lattice); and its internal state at the scrubbed step, per coordinate
    (:func:`labkit.signs.sign_state`): :math:`g`, :math:`m`, :math:`v`, the interpolation
    :math:`c = \beta_1 m + (1-\beta_1) g`, its sign, sign flips so far, agreement of
    :math:`\mathrm{sign}(g)` and :math:`\mathrm{sign}(m)`, and the update.

    References: Bernstein et al., "signSGD", ICML 2018; Chen et al., "Symbolic Discovery of
    Optimization Algorithms", NeurIPS 2023; Chen, Liu et al., "Lion Secretly Solves
    Constrained Optimization", ICLR 2024; Balles & Hennig, "Dissecting Adam", ICML 2018.
    """

    def __init__(self, problems=None, rules=_SIGN_RULES, steps: int = 2000, lr: float = 0.01, b1: float = 0.9,
                 b2: float = 0.99, weight_decay: float = 0.0, decay: bool = False, *, contour_n: int = 120):
        self.problems = problem_dict(sign_lab_problems() if problems is None else problems)
        for name, p in self.problems.items():
            if p.dim != 2:
                raise ValueError(f"SignUpdateExplorer draws 2-D problems; {name!r} has {p.dim} coordinates")
        self.rules = rule_names(rules)
        for r in self.rules:
            self._rule_and_extra(r)                    # unknown names and K values fail here
        first = next(iter(self.problems))
        steps = check_steps(steps, self.problems.values())
        self._state = {"problem": first, "lr": check_real("lr", lr), "b1": check_real("b1", b1),
                       "b2": check_real("b2", b2), "weight_decay": check_real("weight_decay", weight_decay),
                       "decay": check_bool("decay", decay), "steps": steps,
                       "step": min(steps, 100), "inspect": self.rules[-1]}
        contour_n = check_contour_n(contour_n)
        self._check(self._state)
        self._memo_key, self._trajs, self._inspected = None, None, None
        self._contour_n = contour_n
        self._build_figure()
        self._build_controls()
        self._draw(render=False)
        self.freeze_layout()

    # ------------------------------------------------------------------ parameters

    @staticmethod
    def _check(s):
        if not (s["lr"] > 0 and math.isfinite(s["lr"])):
            raise ValueError(f"lr must be finite and > 0, got {s['lr']!r}")
        for k in ("b1", "b2"):
            if not 0.0 <= s[k] < 1.0:
                raise ValueError(f"{k} must be in [0, 1), got {s[k]!r}")
        if not (s["weight_decay"] >= 0 and math.isfinite(s["weight_decay"])):
            raise ValueError(f"weight_decay must be finite and >= 0, got {s['weight_decay']!r}")
        if s["steps"] < 1:
            raise ValueError(f"steps must be >= 1, got {s['steps']!r}")

    @staticmethod
    def _rule_and_extra(label: str):
        """``"lion_k:tanh"`` -> ``("lion_k", {"K": "tanh"})``: Lion-K's switch picked by name."""
        name, _, K = label.partition(":")
        extra = {"K": K} if K else {}
        _optim.get(name, **extra)
        return name, extra

    def hyperparameters(self, rule: str) -> dict:
        """The keywords the current controls give ``rule`` (``b1`` is Signum's ``momentum``).

        ``rule`` is one of the explorer's labels; ``"lion_k:tanh"`` adds ``K="tanh"``.
        """
        s = self._state
        name, extra = self._rule_and_extra(rule)
        names = _optim.get(name).hyperparameters
        hp = {"lr": s["lr"], **extra}
        for key, value in (("b1", s["b1"]), ("b2", s["b2"]), ("momentum", s["b1"]),
                           ("weight_decay", s["weight_decay"])):
            if key in names:
                hp[key] = value
        return hp

    def _schedule(self):
        from .. import schedules
        return schedules.cosine(self._state["steps"]) if self._state["decay"] else None

    @property
    def problem(self):
        return self.problems[self._state["problem"]]

    @property
    def trajectory(self) -> dict:
        """``{rule: Trajectory}`` on display."""
        return dict(self._trajs)

    # ------------------------------------------------------------------ figure

    def _build_figure(self):
        from matplotlib.patches import Rectangle
        from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator

        # The inspected rule's state is an HTML table under the figure (below_figure): as text
        # in the figure its ~350 glyphs were two thirds of an event's drawing (~24 ms).
        fig = self.new_figure((7.4, 3.3))
        gs = fig.add_gridspec(2, 2, width_ratios=(1.1, 1))
        ax_path, ax_dist, ax_coord = fig.add_subplot(gs[:, 0]), fig.add_subplot(gs[0, 1]), fig.add_subplot(gs[1, 1])
        self.fig = fig
        self.axes = {"path": ax_path, "dist": ax_dist, "coord": ax_coord}
        from .. import viz
        styles = dict(zip(self.rules, viz.series_styles(len(self.rules))))
        self._colors = {r: st["color"] for r, st in styles.items()}
        self._paths, self._marks, self._dists = {}, {}, {}
        for r in self.rules:
            c, st = self._colors[r], styles[r]
            self._paths[r], = ax_path.plot([], [], lw=1.1, label=r, **st)
            self._marks[r], = ax_path.plot([], [], ls="none", marker="o", ms=6, color=c, mec="white", zorder=4)
            self._dists[r], = ax_dist.plot([], [], lw=1.1, label=r, **st)
        self._box = Rectangle((0, 0), 0, 0, fill=False, ec="0.2", ls="--", lw=1.2, visible=False, zorder=3)
        ax_path.add_patch(self._box)
        # Legends outside the data area stay in the cached background (inside, they would have
        # to be repainted over the lines on every event: ~5 ms each).
        fig.legend(handles=list(self._paths.values()), loc="outside upper center", ncols=len(self.rules),
                   fontsize="small", frameon=False)
        self._dist_cursor = ax_dist.axvline(0, color="0.4", lw=0.8)
        ax_dist.set_yscale("log")
        ax_dist.set_xlabel("step")
        ax_dist.set_ylabel("‖x - x*‖∞ / lr")
        ax_dist.set_title("distance to x*, in steps of lr")
        self._one_line = ax_dist.axhline(1.0, **theory_style(ls=":"))
        self._coord_lines = [ax_coord.plot([], [], lw=1.0, ls=ls, label=f"coordinate {i}")[0]
                             for i, ls in enumerate(("-", "--"))]
        self._coord_cursor = ax_coord.axvline(0, color="0.4", lw=0.8)
        ax_coord.set_xlabel("step")
        ax_coord.set_ylabel("|Δx_i| / lr")
        ax_coord.set_ylim(0.0, 2.5)             # fixed: exactly 1 is the lattice; larger steps are clipped
        for ax in (ax_dist,):
            ax.yaxis.set_major_locator(LogLocator(numticks=4))
            ax.yaxis.set_minor_locator(NullLocator())
            ax.yaxis.set_major_formatter(FuncFormatter(decade))
        for ax in (ax_dist, ax_coord):
            ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        self._draw_contour()
        fig.set_layout_engine("constrained")
        self.animate([*self._paths.values(), *self._marks.values(),
                       *self._dists.values(), self._box, self._dist_cursor, self._one_line, *self._coord_lines,
                       self._coord_cursor, ax_coord.title])

    def _draw_contour(self):
        from .. import viz
        ax = self.axes["path"]
        for coll in list(ax.collections):
            coll.remove()
        for line in [ln for ln in ax.lines if ln not in self._paths.values() and ln not in self._marks.values()]:
            line.remove()
        p = self.problem
        viz.contour(p, ax=ax, n=self._contour_n)
        self.contour_bar(ax)
        ax.set_title(f"{self._state['problem']}: every rule from x0")
        (x0, x1), (y0, y1) = p.domain
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)

    # ------------------------------------------------------------------ controls

    def _build_controls(self):
        import ipywidgets as W
        s = self._state
        self.problem_picker = W.Dropdown(options=list(self.problems), value=s["problem"], description="problem")
        self.lr_slider = W.FloatLogSlider(value=s["lr"], base=10, min=-5, max=0, step=0.02, description="lr",
                                          readout_format=".3g")
        self.b1_slider = W.FloatSlider(value=s["b1"], min=0.0, max=0.999, step=0.001, description="b1",
                                       readout_format=".3f")
        self.b2_slider = W.FloatSlider(value=s["b2"], min=0.0, max=0.9999, step=0.0001, description="b2",
                                       readout_format=".4f")
        self.wd_slider = W.FloatSlider(value=s["weight_decay"], min=0.0, max=5.0, step=0.01,
                                       description="weight decay", readout_format=".2f",
                                       style={"description_width": "initial"})   # not cut to "weight de..."
        self.decay_box = W.Checkbox(value=s["decay"], description="decay the step (cosine)")
        self.steps_slider = self.steps_slider(s["steps"])
        self.scrubber = W.IntSlider(value=s["step"], min=0, max=s["steps"], description="step")
        self.inspect_picker = W.Dropdown(options=list(self.rules), value=s["inspect"], description="inspect")
        self.bind((("problem", self.problem_picker), ("lr", self.lr_slider), ("b1", self.b1_slider),
                    ("b2", self.b2_slider), ("weight_decay", self.wd_slider), ("decay", self.decay_box),
                    ("steps", self.steps_slider), ("step", self.scrubber), ("inspect", self.inspect_picker)))

    def control_rows(self):
        return [[self.problem_picker, self.inspect_picker, self.decay_box],
                [self.lr_slider, self.b1_slider, self.b2_slider],
                [self.wd_slider, self.steps_slider, self.scrubber]]

    def _sync_controls(self):
        s = self._state
        with self.syncing():
            for control, key in ((self.problem_picker, "problem"), (self.lr_slider, "lr"), (self.b1_slider, "b1"),
                                 (self.b2_slider, "b2"), (self.wd_slider, "weight_decay"),
                                 (self.decay_box, "decay"), (self.steps_slider, "steps"),
                                 (self.inspect_picker, "inspect")):
                control.value = s[key]
            self.scrubber.max = s["steps"]
            self.scrubber.value = s["step"]

    # ------------------------------------------------------------------ events

    _KEYS = ("problem", "lr", "b1", "b2", "weight_decay", "decay", "steps", "step", "inspect")

    def apply(self, **changes):
        """Apply ``changes`` (any of the controls' names), re-run if needed, update every view.

        Returns ``{rule: Trajectory}``.  Moving only ``step`` (the scrubber) or ``inspect``
        re-runs nothing.
        """
        unknown = set(changes) - set(self._KEYS)
        if unknown:
            raise ValueError(f"update takes {', '.join(self._KEYS)}; got {sorted(unknown)}")
        s = dict(self._state)
        for k, v in changes.items():
            s[k] = v if k in ("problem", "inspect") else (bool(v) if k == "decay" else
                                                           int(v) if k in ("steps", "step") else float(v))
        if s["problem"] not in self.problems:
            raise ValueError(f"problem must be one of {list(self.problems)}, got {s['problem']!r}")
        if s["inspect"] not in self.rules:
            raise ValueError(f"inspect must be one of {self.rules}, got {s['inspect']!r}")
        self._check(s)
        s["step"] = min(max(s["step"], 0), s["steps"])
        new_problem = s["problem"] != self._state["problem"]
        self._state = s
        if hasattr(self, "scrubber"):
            self._sync_controls()
        if new_problem:
            self._draw_contour()
        self._draw(full=new_problem or "steps" in changes)
        return self.trajectory

    def _compute(self):
        s = self._state
        key = tuple(s[k] for k in ("problem", "lr", "b1", "b2", "weight_decay", "decay", "steps"))
        if key != self._memo_key:
            sched = self._schedule()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DivergenceWarning)
                self._trajs = {r: _run(self.problem, self._rule_and_extra(r)[0], s["steps"], schedule=sched,
                                       **self.hyperparameters(r)) for r in self.rules}
            self._memo_key = key
        return self._trajs

    def inspect(self, rule: str | None = None, upto: int | None = None):
        """Internal state of ``rule`` (default: the inspected one) for the current settings.

        :func:`labkit.signs.sign_state` over the first ``upto`` steps (default: up to the
        scrubbed step).  That NumPy twin replays the kernels bit for bit but costs ~0.1 ms a
        step, so the explorer computes only the prefix the scrubber needs (doubling it as the
        scrubber moves on) instead of the whole run on every slider move.
        """
        from .. import signs
        s = self._state
        rule = rule or s["inspect"]
        need = max(1, min(s["steps"], s["step"] if upto is None else int(upto)))
        key = (self._memo_key, rule)
        cached = self._inspected
        if cached is None or cached[0] != key or cached[1] < need:
            n = need if cached is None or cached[0] != key else min(s["steps"], max(need, 2 * cached[1]))
            st = signs.sign_state(self.problem, self._rule_and_extra(rule)[0], n,
                                  schedule=self._schedule_for(n), **self.hyperparameters(rule))
            self._inspected = cached = (key, n, st)
        return cached[2]

    def _schedule_for(self, n):
        """The run's schedule cut to its first ``n`` steps (a cosine over ``steps``, not over ``n``)."""
        sched = self._schedule()
        if sched is None:
            return None
        from ..run import schedule_multipliers
        return schedule_multipliers(sched, self._state["steps"])[:n]

    # ------------------------------------------------------------------ views

    def _draw(self, render: bool = True, full: bool = False):
        s = self._state
        trajs = self._compute()
        p = self.problem
        lr = s["lr"]
        k = s["step"]
        rng = None
        xstar = None if p.x_star is None else np.asarray(p.x_star, dtype=np.float64)
        for r, tr in trajs.items():
            xy = tr.xs
            self._paths[r].set_data(xy[:, 0], xy[:, 1])
            kk = min(k, xy.shape[0] - 1)
            self._marks[r].set_data(xy[kk:kk + 1, 0], xy[kk:kk + 1, 1])
            if xstar is not None:
                d, r_ = positive(np.max(np.abs(xy - xstar), axis=1) / lr)
                self._dists[r].set_data(np.arange(d.size), d)
                rng = merge_ranges(rng, r_)
        from .. import viz
        viz.space_markers([*self._paths.values(), *self._dists.values()])
        ax = self.axes["dist"]
        ax.set_xlim(0, max(s["steps"], 1))
        set_log_ylim(ax, rng)
        self._dist_cursor.set_xdata([k, k])
        wd = s["weight_decay"]
        lion_like = any("lion" in r for r in self.rules)
        if wd > 0 and lion_like:
            b = 1.0 / wd
            self._box.set_bounds(-b, -b, 2 * b, 2 * b)
            self._box.set_visible(True)
        else:
            self._box.set_visible(False)
        tr = trajs[s["inspect"]]
        steps = np.arange(tr.xs.shape[0] - 1)
        dx = np.abs(np.diff(tr.xs, axis=0)) / lr
        for i, line in enumerate(self._coord_lines):
            line.set_data(steps, dx[:, i])
            line.set_color(self._colors[s["inspect"]] if i == 0 else "0.45")
        ax = self.axes["coord"]
        ax.set_xlim(0, max(s["steps"], 1))
        ax.set_title(f"{s['inspect']}: per-coordinate step / lr")
        self._coord_cursor.set_xdata([k, k])
        self._inspector_html = self._state_table()
        if self._inspector is not None:
            self._inspector.value = self._inspector_html
        self.set_status(self._status())
        if render:
            self.refresh(full=full)

    def _state_table(self) -> str:
        """The inspected rule's state at the scrubbed step as an HTML table: one row per coordinate."""
        s = self._state
        try:
            st = self.inspect()
        except Exception as e:                     # the inspector must never break the explorer
            return f"<p>inspector unavailable: {html.escape(str(e))}</p>"
        if s["step"] == 0 or not len(st.g):
            return f"<p><b>{html.escape(s['inspect'])}</b> at the start: move the step scrubber</p>"
        k = min(s["step"], len(st.g)) - 1           # row k is the step that produced x_(k+1)
        # Short headers: one line each, the table three rows high (u: the direction; c: the
        # interpolation b1 m + (1-b1) g; sgn g=m: the signs of g and m agree).
        fields = [(name, arr) for name, arr in (("g", st.g), ("m", st.m), ("v", st.v), ("c", st.c),
                                                ("u", st.u), ("flips", st.flips),
                                                ("sgn g=m", st.agree), ("Δx", st.update))
                  if arr is not None]
        cell = 'style="padding:0 6px;text-align:right;white-space:nowrap"'
        title = f"step {k + 1}, lr_t {float(st.lr[k]):.3g}"     # (the rule: the inspect picker above)
        head = "".join(f"<th {cell}>{html.escape(name)}</th>" for name, _ in fields)
        rows = "".join(f"<tr><th {cell}>x{i}</th>" + "".join(f"<td {cell}>{self._cell(np.asarray(arr[k])[i])}</td>"
                                                               for _, arr in fields) + "</tr>"
                       for i in range(np.asarray(fields[0][1][k]).size))
        # Three rows of 16 px: the table's title rides in its corner cell (below_px budgets it).
        return ('<table class="labkit-inspector" style="font-size:13px;font-family:monospace;'
                f'line-height:16px;border-collapse:collapse"><tr><th style="text-align:left;padding:0 6px;'
                f'white-space:nowrap">'
                f"{title}</th>{head}</tr>{rows}</table>")

    _inspector = None
    _inspector_html = ""
    below_px = 56

    @property
    def inspector(self):
        """The inspected rule's state at the scrubbed step (an ``ipywidgets.HTML`` table under the figure)."""
        if self._inspector is None:
            import ipywidgets as W
            self._inspector = W.HTML(value=self._inspector_html, layout=W.Layout(width="auto"))
        return self._inspector

    def below_figure(self):
        return [self.inspector]

    @staticmethod
    def _cell(v) -> str:
        if isinstance(v, (bool, np.bool_)):
            return "yes" if v else "no"
        if isinstance(v, (int, np.integer)):
            return str(int(v))
        v = float(v)
        return "nan" if not math.isfinite(v) else f"{v:+.3e}" if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e4) \
            else f"{v:+.4f}"

    def _status(self) -> str:
        s = self._state
        p = self.problem
        parts = []
        for r, tr in self._trajs.items():
            if tr.diverged:
                parts.append(f"{r}: diverged at {tr.diverged_at}")
            elif p.x_star is not None:
                d = float(np.max(np.abs(tr.xs[-1] - np.asarray(p.x_star))))
                parts.append(f"{r}: {d / s['lr']:.3g} lr")
        return (f"lr={s['lr']:.3g} b1={s['b1']:.3g} b2={s['b2']:.4g} wd={s['weight_decay']:.3g}"
                f"{' decayed' if s['decay'] else ''} step {s['step']}: final ‖x-x*‖∞ " + ", ".join(parts))
