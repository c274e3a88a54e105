"""StepSizeExplorer: one rule on one problem; lr, momentum, steps and the start point, live."""
from __future__ import annotations

import math
import warnings

import numpy as np

from .. import analysis as _an
from .. import optim as _optim
from .._errors import DivergenceWarning, check_positive, check_problem, check_real
from ..run import run as _run
from .base import (TINY, Explorer, check_contour_n, check_steps, decade, fmt, log_axis, merge_ranges, positive,
                   rule_names, set_log_ylim, theory_style)

__all__ = ["StepSizeExplorer"]

_LR_RANGE = (-6.0, 1.0)  # log10 bounds of the step-size slider (widened to include the start lr)


_LEGEND_ABOVE = dict(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, frameon=False, borderaxespad=0.1,
                     handlelength=1.6, columnspacing=1.0)


class StepSizeExplorer(Explorer):
    r"""Step size, momentum and start point of one optimizer on one problem, live.

    Parameters: ``problem`` (2-D or more; the path is drawn in its first two coordinates),
    ``rules`` (names offered by the rule picker; the first one starts), ``steps``, ``lr``
    (default: :func:`~labkit.analysis.gd_optimal_lr` on a quadratic, else ``1e-3``) and
    ``momentum``: the rule's momentum coefficient (``momentum`` for ``sgd``, ``b1`` for the
    Adam family), ``None`` for the rule's default.  Changing the rule resets it to the new
    rule's default.

    Views (one figure, 2x2): the path over :func:`labkit.viz.contour` (click to move the
    start point); :math:`f - f^*` (or :math:`f`) per step; the step length
    :math:`\|x_{k+1}-x_k\|` and the effective step size :math:`\|x_{k+1}-x_k\| / \|g_k\|`;
    and on a quadratic the error along each eigendirection
    :math:`|u_i^\top (x_t - c)|` (:func:`~labkit.analysis.error_split`) with, for ``sgd``,
    the theoretical envelope :math:`|E_{0,i}|\,\rho_i^t`
    (:func:`~labkit.analysis.eigen_rates`) dashed, and a box with the limits
    :math:`2/\lambda_{max}`, :math:`(2+2\mu)/\lambda_{max}` (heavy ball), Nesterov's and
    the optimal :math:`2/(\lambda_{min}+\lambda_{max})`.

    A run that diverges is drawn up to its last finite point; the status line says where
    it diverged (the :class:`~labkit.DivergenceWarning` is silenced here).

    References: Goh, "Why Momentum Really Works", Distill 2017; mpl-interactions
    (ianhi/mpl-interactions) for the update pattern.
    """

    def __init__(self, problem, rules=("sgd", "adam"), steps: int = 2000, lr: float | None = None,
                 momentum: float | None = None, *, contour_n: int = 150):
        problem = check_problem("problem", problem)
        rules = rule_names(rules)
        for name in rules:
            _optim.get(name)                            # unknown names fail here, with suggestions
        steps, contour_n = check_steps(steps, [problem]), check_contour_n(contour_n)
        lr = None if lr is None else check_positive("lr", lr)
        momentum = None if momentum is None else check_real("momentum", momentum)
        if problem.dim < 2:
            raise ValueError(f"StepSizeExplorer needs a problem of 2 or more coordinates, {problem.name} has "
                             f"{problem.dim}")
        self.problem = problem
        self.rules = rules
        try:
            self._lam = _an.eigenvalues(problem)              # ascending; None unless a quadratic
        except ValueError:
            self._lam = None
        if lr is None:
            lr = (_an.gd_optimal_lr(problem).lr if self._lam is not None and self._lam[0] > 0 else 1e-3)
        self._state = {"rule": rules[0], "lr": float(lr), "steps": int(steps),
                       "momentum": self._default_momentum(rules[0]) if momentum is None else float(momentum),
                       "x0": np.array(problem.x0, dtype=np.float64)}
        self._memo_key = None
        self._traj = None
        self._build_figure(contour_n)
        self._build_controls()
        self._draw(self._compute(), render=False)
        self.freeze_layout()                          # laid out around the first run's tick labels

    # ------------------------------------------------------------------ state

    @staticmethod
    def _momentum_name(rule: str) -> str | None:
        hp = _optim.get(rule).hyperparameters
        return "momentum" if "momentum" in hp else "b1" if "b1" in hp else None

    def _default_momentum(self, rule: str) -> float:
        name = self._momentum_name(rule)
        return float(_optim.get(rule).hyperparameters[name]) if name else 0.0

    @property
    def trajectory(self):
        """The trajectory on display (the last event's run)."""
        return self._traj

    @property
    def x0(self) -> np.ndarray:
        return self._state["x0"].copy()

    @property
    def params(self) -> dict:
        """Current rule, lr, momentum, steps and x0."""
        return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in self._state.items()}

    # ------------------------------------------------------------------ figure (built once)

    def _build_figure(self, contour_n):
        from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator

        from .. import viz

        fig = self.new_figure((7.4, 4.5))
        gs = fig.add_gridspec(3, 2, height_ratios=(0.09, 1, 1))
        ax_lr = fig.add_subplot(gs[0, :])
        (ax_path, ax_loss), (ax_step, ax_split) = [[fig.add_subplot(gs[i, j]) for j in (0, 1)] for i in (1, 2)]
        self.fig, self.axes = fig, {"path": ax_path, "loss": ax_loss, "step": ax_step, "split": ax_split}
        self.lr_axes = ax_lr
        self._build_lr_scale(ax_lr)
        p = self.problem
        colors = [st["color"] for st in viz.series_styles(max(3, p.dim))]

        viz.contour(p, ax=ax_path, n=contour_n)
        self.contour_bar(ax_path)
        self._path_line, = ax_path.plot([], [], color="tab:orange", lw=1.5, zorder=2)
        self._start_mark, = ax_path.plot([], [], ls="none", marker="o", ms=7, mfc="white", mec="tab:orange",
                                         mew=1.5, zorder=3)
        self._end_mark, = ax_path.plot([], [], ls="none", marker="o", ms=6, color="tab:orange", mec="white",
                                       mew=0.8, zorder=3)
        self._div_mark, = ax_path.plot([], [], ls="none", marker="x", ms=10, mew=2.5, color="red", zorder=3)
        ax_path.set_title(f"{p.name}: click = start")

        self._gap = p.f_star is not None
        self._loss_line, = ax_loss.plot([], [], color=colors[0], lw=1.5)
        ax_loss.set_yscale("log")
        ax_loss.set_xlabel("step")
        ax_loss.set_ylabel("f - f*" if self._gap else "f")
        ax_loss.set_title("loss")

        self._step_line, = ax_step.plot([], [], color=colors[0], lw=1.2, label="|Δx|")
        self._eff_line, = ax_step.plot([], [], color=colors[1], lw=1.2, ls="--",
                                       label="|Δx|/|g|")
        ax_step.set_yscale("log")
        ax_step.set_xlabel("step")
        ax_step.set_ylabel("step, effective step")
        # Legends above the plots, where titles would be: never over the data, and part of the
        # cached background (inside a plot a legend is repainted over the lines every event).
        ax_step.legend(**_LEGEND_ABOVE)

        self._split_lines, self._rate_lines = [], []
        ax_split.set_yscale("log")
        ax_split.set_xlabel("step")
        ax_split.set_ylabel("|x - x*| per eigvec")
        if self._lam is not None:
            for i, lam in enumerate(self._lam):
                line, = ax_split.plot([], [], color=colors[i % len(colors)], lw=1.3,
                                      label=f"λ={lam:.3g}")
                rate, = ax_split.plot([], [], label="_nolegend_", **theory_style())
                self._split_lines.append(line)
                self._rate_lines.append(rate)
            ax_split.legend(**_LEGEND_ABOVE)
        else:
            ax_split.set_title("error per eigendirection")
            ax_split.set_yticks([])
        self._limits_text = ax_split.text(0.98, 0.98, "", transform=ax_split.transAxes, ha="right", va="top",
                                          fontsize="x-small",
                                          bbox=dict(boxstyle="round", fc="white", ec="0.7", alpha=0.9))
        if self._lam is None:
            self._limits_text.set_text("error split: quadratics only\n(lk.problems.quadratic)")
            self._limits_text.set_position((0.5, 0.5))
            self._limits_text.set_ha("center")
            self._limits_text.set_va("center")

        for ax in (ax_loss, ax_step, ax_split):
            # Few major ticks, no minor ones: tick labels are most of a draw on log axes spanning decades.
            ax.yaxis.set_major_locator(LogLocator(numticks=6))
            ax.yaxis.set_minor_locator(NullLocator())
            ax.yaxis.set_major_formatter(FuncFormatter(decade))   # plain text: mathtext costs ~1 ms a label
            ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        for axis in (ax_path.xaxis, ax_path.yaxis):
            axis.set_major_locator(MaxNLocator(nbins=5))
        # Blitting: what changes per event is drawn over a cached picture of everything else.
        # The axes are in that picture: their decade limits rarely move with lr, and when they
        # do (or ``steps`` changes the x axes) the event gets a full draw.
        self.floor_marks([ax_loss, ax_step] + ([ax_split] if self._lam is not None else []))
        self.animate([self._path_line, self._start_mark, self._end_mark, self._div_mark,
                       self._loss_line, self._step_line, self._eff_line,
                       *self._split_lines, *self._rate_lines,
                       self._limits_text, self._lr_mark, self._hb_line])
        self.connect("button_press_event", self._on_press)

    def _build_lr_scale(self, ax):
        """The lr slider's scale as a strip above the plots: the stability limits (theory, dashed
        black, fixed: 2/λmax; moving with momentum: (2+2μ)/λmax) and the current lr (a marker)."""
        lo, hi = _LR_RANGE
        lg = math.log10(self._state["lr"])
        ax.set_xscale("log")
        ax.set_xlim(10.0 ** min(lo, math.floor(lg)), 10.0 ** max(hi, math.ceil(lg)))
        ax.set_ylim(0, 1)
        ax.yaxis.set_visible(False)
        ax.grid(False)
        log_axis(ax.xaxis, numticks=8)
        self._theory = []
        lam = self._lam
        if lam is not None and lam[-1] > 0:
            lim = _an.gd_stability_limit(lam)
            self._theory.append(ax.axvline(lim, **theory_style()))
            ax.text(lim, 0.5, f" 2/λmax={fmt(lim)}", va="center", ha="left", fontsize=9, zorder=7)
        self._hb_line = ax.axvline(1.0, visible=False, **theory_style(ls=":"))
        self._theory.append(self._hb_line)
        self._lr_mark, = ax.plot([self._state["lr"]], [0.5], ls="none", marker="v", ms=9, color="tab:orange",
                                 mec="black", zorder=5)
        ax.set_xlabel("lr (dashed: stability limit)", labelpad=0)
        ax.set_ylabel("lr")                            # (hidden with the y axis; names the strip)

    def theory_lines(self) -> list:
        """The lines that draw theory (stability limits, envelopes): dark, dashed, above the data."""
        return [*self._theory, *self._rate_lines]

    # ------------------------------------------------------------------ controls

    def _build_controls(self):
        import ipywidgets as W

        s = self._state
        lo, hi = _LR_RANGE
        lg = math.log10(s["lr"]) if s["lr"] > 0 else lo
        self.lr_slider = W.FloatLogSlider(value=s["lr"], base=10, min=min(lo, math.floor(lg)),
                                          max=max(hi, math.ceil(lg)), step=0.01, description="lr",
                                          readout_format=".3g", continuous_update=True)
        self.momentum_slider = W.FloatSlider(value=s["momentum"], min=0.0, max=0.999, step=0.001,
                                             description="momentum", readout_format=".3f")
        self.steps_slider = self.steps_slider(s["steps"])
        self.rule_picker = W.Dropdown(options=list(self.rules), value=s["rule"], description="rule")
        self._sync_momentum_control()
        self.bind((("lr", self.lr_slider), ("momentum", self.momentum_slider),
                    ("steps", self.steps_slider), ("rule", self.rule_picker)))

    def _sync_momentum_control(self):
        name = self._momentum_name(self._state["rule"])
        self.momentum_slider.description = name or "momentum"
        self.momentum_slider.disabled = name is None

    def _sync_controls(self):
        s = self._state
        with self.syncing():
            self.rule_picker.value = s["rule"]
            self.lr_slider.value = s["lr"]
            self.momentum_slider.value = s["momentum"]
            self.steps_slider.value = s["steps"]
            self._sync_momentum_control()

    def control_rows(self):
        return [[self.rule_picker, self.steps_slider], [self.lr_slider, self.momentum_slider]]

    # ------------------------------------------------------------------ events

    def on_click(self, x: float, y: float):
        """Start from ``(x, y)`` (other coordinates as in the current start) and re-run."""
        x0 = self._state["x0"].copy()
        x0[0], x0[1] = float(x), float(y)
        return self.update(x0=x0)

    def _on_press(self, event):
        if self.clicked_in(event, self.axes["path"]):
            self.on_click(event.xdata, event.ydata)

    def apply(self, **changes):
        """Apply ``changes`` (``lr``, ``momentum``, ``steps``, ``rule``, ``x0``), run once, update every view.

        Synchronous; returns the :class:`~labkit.Trajectory` on display.  This is what
        the controls call.
        """
        unknown = set(changes) - {"lr", "momentum", "steps", "rule", "x0"}
        if unknown:
            raise ValueError(f"update takes lr, momentum, steps, rule, x0; got {sorted(unknown)}")
        s = self._state
        if "rule" in changes and changes["rule"] != s["rule"]:
            if changes["rule"] not in self.rules:
                raise ValueError(f"rule must be one of {self.rules}, got {changes['rule']!r}")
            s["rule"] = changes["rule"]
            if "momentum" not in changes:
                s["momentum"] = self._default_momentum(s["rule"])
        if "lr" in changes:
            s["lr"] = float(changes["lr"])
        if "momentum" in changes:
            s["momentum"] = float(changes["momentum"])
        if "steps" in changes:
            s["steps"] = int(changes["steps"])
        if "x0" in changes:
            x0 = np.array(changes["x0"], dtype=np.float64).reshape(-1)
            if x0.shape != (self.problem.dim,):
                raise ValueError(f"x0 must have {self.problem.dim} coordinates, got {x0.shape}")
            s["x0"] = x0
        if changes and hasattr(self, "lr_slider"):
            self._sync_controls()
        traj = self._compute()
        self._draw(traj)
        return traj

    def _compute(self):
        """One ``lk.run`` per distinct event (memoised on the event's parameters)."""
        s = self._state
        key = (s["rule"], s["lr"], s["momentum"], s["steps"], tuple(s["x0"]))
        if key != self._memo_key:
            hp = {"lr": s["lr"]}
            name = self._momentum_name(s["rule"])
            if name is not None:
                hp[name] = s["momentum"]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DivergenceWarning)
                self._traj = _run(self.problem, s["rule"], s["steps"], s["x0"], **hp)
            self._memo_key = key
        return self._traj

    # ------------------------------------------------------------------ views

    def _draw(self, traj, render: bool = True):
        xy = traj.xs[:, :2]                         # lk.run keeps only finite points
        n = xy.shape[0]
        self._path_line.set_data(xy[:, 0], xy[:, 1])
        self._start_mark.set_data(xy[:1, 0], xy[:1, 1])
        last = xy[-1:] if n else xy
        self._end_mark.set_data(*(last.T if not traj.diverged else (np.empty(0), np.empty(0))))
        self._div_mark.set_data(*(last.T if traj.diverged else (np.empty(0), np.empty(0))))

        steps = np.arange(n)
        ax = self.axes["loss"]
        f = traj.f - float(self.problem.f_star) if self._gap else traj.f
        f, rng = positive(f)
        self._loss_line.set_data(steps, f)
        xlim = (0, max(self._state["steps"], 1))   # the budget: a diverged run visibly stops early
        full = ax.get_xlim() != xlim
        for a in (self.axes["loss"], self.axes["step"], self.axes["split"]):
            a.set_xlim(*xlim)
        set_log_ylim(ax, rng)

        ax = self.axes["step"]
        sn = traj.step_norm
        gn = traj.grad_norm[:-1]
        eff = np.divide(sn, gn, out=np.zeros_like(sn), where=gn > 0)
        sn, r1 = positive(sn)
        eff, r2 = positive(eff)
        self._step_line.set_data(steps[:-1], sn)
        self._eff_line.set_data(steps[:-1], eff)
        set_log_ylim(ax, merge_ranges(r1, r2))

        self._lr_mark.set_xdata([self._state["lr"]])
        mu = self._state["momentum"] if self._state["rule"] == "sgd" else 0.0
        hb = self._lam is not None and self._lam[-1] > 0 and 0.0 < mu < 1.0
        self._hb_line.set_visible(bool(hb))
        if hb:
            self._hb_line.set_xdata([_an.heavy_ball_limit(self._lam, mu)] * 2)
        if self._lam is not None:
            self._draw_split(traj, steps)
        self.set_status(self._status(traj))
        if render:
            self.refresh(full=full)

    def _draw_split(self, traj, steps):
        s = self._state
        ax = self.axes["split"]
        E = np.abs(_an.error_split(traj))
        rng = None
        for i, line in enumerate(self._split_lines):
            e, r = positive(E[:, i])
            line.set_data(steps, e)
            rng = merge_ranges(rng, r)
        if s["rule"] == "sgd" and E.shape[0]:
            rates = _an.eigen_rates(self.problem, "sgd", lr=s["lr"], momentum=s["momentum"]).rates
            for i, line in enumerate(self._rate_lines):
                # |E_0| rho^t in log space: no overflow to inf, no underflow to 0
                e0 = max(E[0, i], TINY)
                log_rho = math.log(rates[i]) if rates[i] > 0 else -1e3
                logy = np.clip(math.log(e0) + steps * log_rho, math.log(TINY), math.log(1e300))
                line.set_data(steps, np.exp(logy))
                line.set_visible(True)
        else:
            for line in self._rate_lines:
                line.set_data([], [])
                line.set_visible(False)
        set_log_ylim(ax, rng)
        self._limits_text.set_text(self._limits(s["momentum"] if s["rule"] == "sgd" else 0.0))

    def _limits(self, mu: float) -> str:
        lam = self._lam
        if lam[-1] <= 0:
            return "no stable step: λmax <= 0"
        rows = [f"2/λmax = {fmt(_an.gd_stability_limit(lam))}"]
        if 0.0 <= mu < 1.0:
            rows.append(f"(2+2μ)/λmax = {fmt(_an.heavy_ball_limit(lam, mu))} (μ={mu:.3g})")
            rows.append(f"Nesterov = {fmt(_an.nesterov_limit(lam, mu))}")
        if lam[0] > 0:
            rows.append(f"2/(λmin+λmax) = {fmt(_an.gd_optimal_lr(lam).lr)}")
        return "\n".join(rows)

    def _limit_note(self) -> str:
        """The stability limit that applies to the current sgd settings, as text."""
        lam, s = self._lam, self._state
        if lam is None or lam[-1] <= 0:
            return ""
        mu = s["momentum"] if s["rule"] == "sgd" else 0.0
        if mu > 0 and mu < 1:
            return f"(2+2μ)/λmax = {fmt(_an.heavy_ball_limit(lam, mu))}, 2/λmax = {fmt(_an.gd_stability_limit(lam))}"
        return f"2/λmax = {fmt(_an.gd_stability_limit(lam))}"

    def _status(self, traj) -> str:
        s = self._state
        # "lr=<3 significant digits>" is a contract: the browser test reads it back.
        label = f"{s['rule']} lr={s['lr']:.3g}"
        name = self._momentum_name(s["rule"])
        if name is not None:
            label += f" {name}={s['momentum']:.3g}"
        note = self._limit_note()
        if traj.diverged:
            msg = f"{label}: diverged at step {traj.diverged_at}"
            if note:
                mu = s["momentum"] if s["rule"] == "sgd" else 0.0
                lim = (_an.heavy_ball_limit(self._lam, mu) if 0 < mu < 1 else _an.gd_stability_limit(self._lam))
                msg += f" — lr {'above' if s['lr'] > lim else 'below'} {note}"
            return msg
        what = "f-f*" if self._gap else "f"
        msg = f"{label}: {what}={traj.f_final - (float(self.problem.f_star) if self._gap else 0.0):.3g} after " \
              f"{len(traj.xs) - 1} steps"
        return msg + (f" — {note}" if note else "")
