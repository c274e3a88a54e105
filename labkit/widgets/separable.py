r"""``SeparableExplorer``: LR+GD on 2-D separable data with a step-size slider from 0.1 to 10^6.

    import labkit as lk
    from labkit.widgets import SeparableExplorer
    ex = SeparableExplorer(lk.problems.separable_logistic(n=40, d=2, margin=0.1), steps=200)
    ex.widget                  # lr (= gamma, log) and step sliders, status line, 2x2 figure
    ex.update(gamma=1e6)       # what the lr slider does; ex.update(t=5) what the step slider does

Views: the data with the decision boundary :math:`a^\top x_t = 0` at step ``t`` and the
max-margin boundary (dashed); the logistic loss :math:`f(x_t)` and the training error per step;
the angle between :math:`x_t` and the max-margin direction and the normalised margin
:math:`\min_i y_i a_i^\top x_t / (\|x_t\|\mu)` (1 at the max-margin direction); and the normalised
step :math:`r_t = \|x_{t+1}-x_t\|/\rho_a` of each step (Sao 2026; for logistic regression
:math:`r_t = \gamma\max_i |a_i^\top (w_{t+1}-w_t)|/\pi`).  LR+GD runs through
:func:`labkit.separable.lr_gd` (exact at any :math:`\gamma`).  The status line reports
``lr=<gamma, 3 significant digits>`` after every event (the browser test reads it back).

The mpl-interactions pattern of :mod:`labkit.widgets`: artists built once, a slider event
recomputes one path (memoised per :math:`\gamma`) and blits the per-event artists.
"""
from __future__ import annotations

import math

import numpy as np

from .. import separable as _sep
from .._errors import check_int, check_problem, check_run_memory
from .base import Explorer, decade, positive, set_log_ylim, theory_style

__all__ = ["SeparableExplorer"]

_GAMMA_RANGE = (-1.0, 7.0)     # log10 bounds of the slider: the lab shows gamma = 1e6 with room to move either way


class SeparableExplorer(Explorer):
    r"""LR+GD at step size :math:`\gamma` (a log slider, labelled ``lr``) on 2-D separable data, and a step slider.

    Parameters: ``problem`` (2-D binary separable logistic regression; default
    ``lk.problems.separable_logistic(n=40, d=2, margin=0.1, seed=0)``), ``steps``, ``gamma``.
    ``update(gamma=..., t=...)`` is what the sliders call; ``path`` is the run on display.

    References: A. Tyurin, arXiv:2412.08424, 2024; D. Soudry et al., JMLR 19(70), 2018;
    P. Sao, arXiv:2603.13552, 2026.
    """

    def __init__(self, problem=None, steps: int = 200, gamma: float = 1.0, *, t: int | None = None):
        if problem is None:
            from ..problems_matrix import separable_logistic
            problem = separable_logistic(n=40, d=2, margin=0.1, seed=0)
        problem = check_problem("problem", problem)
        Z, A, y = _sep.problem_data(problem)
        if A.shape[1] != 2:
            raise ValueError(f"SeparableExplorer draws 2-D data; {problem.name} has d = {A.shape[1]}")
        self.problem = problem
        self._u, self._mu = _sep.max_margin(problem)
        self._A, self._y, self._Z = A, y, Z
        self._steps = _sep.check_steps(steps)
        check_run_memory(problem, self._steps)
        self._state = {"gamma": _sep.check_gamma(gamma),
                       "t": self._start_t() if t is None else check_int("t", t, 0, self._steps)}
        self._memo = {}
        self._build_figure()
        self._build_controls()
        self._draw(full_run=True, render=False)
        self.freeze_layout()

    # ------------------------------------------------------------------ state

    def _start_t(self) -> int:
        """Where the step slider opens: inside its range (3/4 of the way), so both arrow keys move it."""
        return max(0, min(self._steps - 1, (3 * self._steps) // 4))

    @property
    def params(self) -> dict:
        return dict(self._state)

    @property
    def trajectory(self):
        """The :class:`labkit.separable.SeparablePath` on display."""
        return self._compute()["path"]

    def _compute(self):
        """One LR+GD run and its derived curves per gamma (memoised: the step slider reuses it)."""
        g = self._state["gamma"]
        if self._memo.get("gamma") != g:
            path = _sep.lr_gd(self.problem, g, self._steps)
            W = path.w
            nw = np.linalg.norm(W, axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                margin = np.min(W @ self._Z.T, axis=1) / (nw * self._mu)
            dW = np.diff(W, axis=0)
            r = g * np.max(np.abs(dW @ self._A.T), axis=1) / math.pi
            self._memo = {"gamma": g, "path": path, "angle": _sep.angle_to(W, self._u), "margin": margin,
                          "r": r, "err": path.errors / len(self._y), "sep": path.separated_at}
        return self._memo

    # ------------------------------------------------------------------ figure

    def _build_figure(self):
        from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator


        fig = self.new_figure((7.4, 4.8))
        (ax_data, ax_loss), (ax_angle, ax_r) = fig.subplots(2, 2)
        self.fig = fig
        self.axes = {"data": ax_data, "loss": ax_loss, "angle": ax_angle, "r": ax_r}
        A, y = self._A, self._y
        ax_data.scatter(A[y > 0, 0], A[y > 0, 1], s=14, c="tab:blue", label="y = +1")
        ax_data.scatter(A[y < 0, 0], A[y < 0, 1], s=14, c="tab:red", marker="s", label="y = -1")
        lim = 1.15 * float(np.max(np.abs(A)))
        ax_data.set_xlim(-lim, lim)
        ax_data.set_ylim(-lim, lim)
        ax_data.set_aspect("equal")
        u = self._u
        seg = np.array([-2 * lim, 2 * lim])
        ax_data.plot(-u[1] * seg, u[0] * seg, "k--", lw=1, label="max margin")
        self._boundary, = ax_data.plot([], [], color="tab:orange", lw=2, label="LR+GD at step t")
        self._arrow, = ax_data.plot([], [], color="tab:orange", lw=1, marker="o", ms=3)
        ax_data.legend(loc="lower left", ncols=2, handlelength=1.2, columnspacing=0.8, labelspacing=0.2,
                       borderpad=0.2, framealpha=0.7)
        ax_data.set_xlabel("feature $a_0$")
        ax_data.set_ylabel("feature $a_1$")
        ax_data.set_title("data, boundary at step t")

        steps = np.arange(self._steps + 1)
        self._loss_line, = ax_loss.plot([], [], color="tab:blue", lw=1.5, label="loss f(x_t)")
        ax_loss.set_yscale("log")
        ax_loss.set_xlabel("step")
        ax_loss.set_ylabel("logistic loss")
        self._ax_err = ax_loss.twinx()
        self._err_line, = self._ax_err.plot([], [], color="tab:red", lw=1.2, ls="--", label="training error")
        self._ax_err.set_ylim(-0.02, 0.6)
        self._ax_err.set_ylabel("training error")
        self._ax_err.grid(False)                 # one grid per panel: the left axis's
        ax_loss.set_title("loss (—), training error (--)")

        self._angle_line, = ax_angle.plot([], [], color="tab:purple", lw=1.5)
        ax_angle.set_yscale("log")
        ax_angle.set_xlabel("step")
        ax_angle.set_ylabel("angle (rad)")
        self._ax_margin = ax_angle.twinx()
        self._margin_line, = self._ax_margin.plot([], [], color="tab:green", lw=1.2, ls="--")
        self._ax_margin.set_ylim(-1.0, 1.1)
        self._ax_margin.axhline(1.0, **theory_style(ls=":"))
        self._ax_margin.set_ylabel("margin / max")
        self._ax_margin.grid(False)
        ax_angle.set_title("angle to max margin (—), margin (--)")

        self._r_line, = ax_r.plot([], [], color="tab:brown", lw=1.2, marker=".", ms=3)
        # r = 1 moves on screen as the log y-limits change: repainted with the data
        self._r_one = ax_r.axhline(1.0, **theory_style())
        ax_r.set_yscale("log")
        ax_r.set_xlabel("step")
        ax_r.set_ylabel("r = |Δx|/ρ_a")
        ax_r.set_title("normalised step (safe below 1)")

        self._t_marks = [a.axvline(0, color="0.4", lw=0.8) for a in (ax_loss, ax_angle, ax_r)]
        for ax in (ax_loss, ax_angle, ax_r):
            ax.set_xlim(0, max(self._steps, 1))
            ax.yaxis.set_major_locator(LogLocator(numticks=6))
            ax.yaxis.set_minor_locator(NullLocator())
            ax.yaxis.set_major_formatter(FuncFormatter(decade))
            ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        self.animate([self._boundary, self._arrow,
                       self._loss_line, self._err_line, self._angle_line, self._margin_line, self._r_line,
                       self._r_one, *self._t_marks])
        _ = steps

    # ------------------------------------------------------------------ controls

    def _build_controls(self):
        import ipywidgets as W
        s = self._state
        lo, hi = _GAMMA_RANGE
        lg = math.log10(s["gamma"])
        self.gamma_slider = W.FloatLogSlider(value=s["gamma"], base=10, min=min(lo, math.floor(lg)),
                                             max=max(hi, math.ceil(lg)), step=0.1, description="lr",
                                             readout_format=".3g", continuous_update=True,
                                             tooltip="the step size γ of LR+GD")
        self.t_slider = W.IntSlider(value=min(s["t"], self._steps), min=0, max=self._steps, step=1,
                                    description="step t", continuous_update=True)
        self._write_status()
        self.bind((("gamma", self.gamma_slider), ("t", self.t_slider)))

    def control_rows(self):
        return [[self.gamma_slider, self.t_slider]]

    # ------------------------------------------------------------------ events

    def apply(self, **changes):
        """Apply ``gamma`` (the lr slider) and/or ``t`` (the step slider), recompute if gamma changed, redraw."""
        unknown = set(changes) - {"gamma", "t"}
        if unknown:
            raise ValueError(f"update takes gamma, t; got {sorted(unknown)}")
        s = self._state
        new_gamma = "gamma" in changes and float(changes["gamma"]) != s["gamma"]
        if "gamma" in changes:
            s["gamma"] = _sep.check_gamma(changes["gamma"])
        if "t" in changes:
            t = int(changes["t"])
            if not 0 <= t <= self._steps:
                raise ValueError(f"t must be in 0..{self._steps}, got {t}")
            s["t"] = t
        with self.syncing():
            self.gamma_slider.value = s["gamma"]
            self.t_slider.value = s["t"]
        self._draw(full_run=new_gamma)
        return self.trajectory

    # ------------------------------------------------------------------ views

    def _draw(self, full_run: bool, render: bool = True):
        memo = self._compute()
        t = self._state["t"]
        if full_run:
            steps = np.arange(self._steps + 1)
            loss, rng = positive(memo["path"].loss)
            self._loss_line.set_data(steps, loss)
            set_log_ylim(self.axes["loss"], rng)
            self._err_line.set_data(steps, memo["err"])
            ang, rng = positive(memo["angle"][1:])
            self._angle_line.set_data(steps[1:], ang)
            set_log_ylim(self.axes["angle"], rng)
            self._margin_line.set_data(steps[1:], np.clip(memo["margin"][1:], -1.0, 1.1))
            r, rng = positive(memo["r"])
            self._r_line.set_data(steps[:-1], r)
            lo, hi = rng if rng else (0.1, 10.0)
            set_log_ylim(self.axes["r"], (min(lo, 0.5), max(hi, 2.0)))
        w = memo["path"].w[t]
        lim = 2.0 * float(np.max(np.abs(self._A)))
        nw = float(np.linalg.norm(w))
        if nw > 0:
            d = w / nw
            self._boundary.set_data([-d[1] * lim, d[1] * lim], [d[0] * lim, -d[0] * lim])
            self._arrow.set_data([0, 0.3 * d[0]], [0, 0.3 * d[1]])
        else:
            self._boundary.set_data([], [])
            self._arrow.set_data([], [])
        for mark in self._t_marks:
            mark.set_xdata([t, t])
        self._write_status()
        if render:
            self.refresh()

    def _write_status(self):
        memo = self._compute()
        s = self._state
        t = s["t"]
        sep = memo["sep"]
        # "lr=<3 significant digits>" is a contract: the browser test reads it back.
        text = (f"LR+GD lr={s['gamma']:.3g} (γ): "
                + (f"zero training error from step {sep}" if sep is not None
                   else f"not separated in {self._steps} steps")
                + f"; at t={t}: loss {memo['path'].loss[t]:.3g}, error {memo['err'][t]:.2f}")
        if t > 0:
            text += f", angle {memo['angle'][t]:.3g} rad"
        if t < self._steps:
            text += f", r {memo['r'][t]:.3g}"
        self.set_status(text)
