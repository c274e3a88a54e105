r"""Interactive explorers for Jupyter: sliders that re-run ``lk.run`` and update plots in place.

    import labkit as lk
    from labkit.widgets import StepSizeExplorer
    ex = StepSizeExplorer(lk.problems.quadratic(), rules=("sgd", "adam"))
    ex.widget                      # sliders, status line and the 2x2 figure
    ex.update(lr=0.15)             # what a slider move does; returns the Trajectory

Written in the mpl-interactions style (``mpl_interactions/controller.py``): every artist is
created once in ``__init__``; an event runs :func:`labkit.run` once, and every view reads
that one trajectory and mutates its artists (``set_data``, ``set_text``), then one
``fig.canvas.draw_idle()``.  Use ``%matplotlib widget`` (ipympl) for a live canvas; with any
other backend the figure is shown in an ``ipywidgets.Output`` and re-displayed per event.

matplotlib and ipywidgets load with this module (``import labkit`` does not load it).
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from . import analysis as _an
from . import optim as _optim
from ._errors import (DivergenceWarning, check_bool, check_int, check_positive, check_problem, check_real,
                      check_run_memory, shown)
from .run import run as _run

__all__ = ["LandscapeExplorer", "SeparableExplorer", "SignUpdateExplorer", "StabilityMapExplorer", "StepSizeExplorer",
           "ThreeBodyExplorer", "sign_lab_problems"]

# Explorers that live in their own modules (they build on _LiveFigure below), loaded on first use.
_ELSEWHERE = {"LandscapeExplorer": "landscape_explorer", "SeparableExplorer": "separable_explorer",
              "ThreeBodyExplorer": "threebody_explorer"}


def __getattr__(name):
    if name in _ELSEWHERE:
        import importlib
        return getattr(importlib.import_module("." + _ELSEWHERE[name], __package__), name)
    raise AttributeError(f"module 'labkit.widgets' has no attribute {name!r}")

_TINY = 1e-300          # floor for log axes: zeros and underflow are drawn here, never NaN
_LR_RANGE = (-6.0, 1.0)  # log10 bounds of the step-size slider (widened to include the start lr)


# ----------------------------------------------------------------------------- argument checks
# Shared by every explorer: a bad argument fails in the constructor, naming itself, before a
# figure is built.

#: Largest contour grid an explorer draws (``contour_n`` x ``contour_n`` evaluations per redraw).
MAX_CONTOUR_N = 1000


def _contour_n(contour_n) -> int:
    return check_int("contour_n", contour_n, 2, MAX_CONTOUR_N)


def _rule_names(rules) -> tuple:
    """``rules``: one rule name or a non-empty list of them (the pickers show the names)."""
    rules = (rules,) if isinstance(rules, str) else rules
    if isinstance(rules, dict) or not hasattr(rules, "__iter__") or not all(isinstance(r, str) for r in rules):
        raise TypeError(f"rules must be a rule name or a list of rule names (lk.optim.names()), got {shown(rules)}")
    rules = tuple(rules)
    if not rules:
        raise ValueError("rules must name at least one rule")
    return rules


def _problem_dict(problems) -> dict:
    """``problems``: a Problem, a registered problem name, or a dict ``{label: Problem}``."""
    if isinstance(problems, dict):
        out = {k: check_problem(f"problems[{k!r}]", p) for k, p in problems.items()}
    else:
        try:
            p = check_problem("problems", problems)
        except TypeError:
            raise TypeError(f"problems must be a Problem, a problem name or a dict {{label: Problem}}, got "
                            f"{shown(problems)}") from None
        out = {p.name: p}
    if not out:
        raise ValueError("problems must hold at least one problem")
    return out


def _steps(steps, problems) -> int:
    """``steps`` >= 1, with each problem's trajectory of that length fitting in memory."""
    steps = check_int("steps", steps, 1)
    for p in problems:
        check_run_memory(p, steps)
    return steps


def _is_ipympl() -> bool:
    import matplotlib
    backend = matplotlib.get_backend().lower()
    return "ipympl" in backend or backend in ("widget", "nbagg")


def _positive(y):
    """``y`` with non-positive / non-finite entries replaced by a floor, and its (lo, hi) range."""
    y = np.asarray(y, dtype=np.float64)
    ok = np.isfinite(y) & (y > 0)
    if not ok.all():
        floor = 0.5 * float(y[ok].min()) if ok.any() else _TINY
        y = np.where(ok, y, max(floor, _TINY))
    if y.size == 0:
        return y, None
    return y, (float(y.min()), float(y.max()))


def _merge(*ranges):
    ranges = [r for r in ranges if r is not None]
    if not ranges:
        return None
    return min(r[0] for r in ranges), max(r[1] for r in ranges)


def _set_log_ylim(ax, rng):
    if rng is None:
        ax.set_ylim(1e-3, 1.0)
        return
    lo, hi = rng
    lo = max(lo, hi * 1e-60, 1e-290)        # readable: at most 60 decades (round-off lives below)
    hi = min(max(hi, lo), 1e290)
    if not hi > lo:
        lo, hi = lo / 10.0, hi * 10.0
    pad = 10.0 ** (0.05 * math.log10(hi / lo))
    ax.set_ylim(lo / pad, hi * pad)


def _decade(v, _pos=None) -> str:
    return f"{v:.0e}".replace("e-0", "e-").replace("e+0", "e").replace("e+", "e")


def _g(v: float) -> str:
    return f"{v:.3g}"


class _LiveFigure:
    """What every explorer shares: a figure that lives in a widget, updated by blitting.

    Subclasses build their figure with :meth:`_new_figure`, list the artists that change per
    event in :meth:`_animate`, and after an event call :meth:`_refresh`.  Animated artists
    are skipped by a normal draw; the ``draw_event`` hook caches everything else as the
    background and paints them on top, so a full draw (first display, resize, ``savefig``)
    and a blitted event give the same pixels.
    """

    _output = None
    _widget = None
    _background = None
    _animated = ()
    _cids = ()

    @staticmethod
    def _new_figure(figsize, layout=None):
        import matplotlib.pyplot as plt
        from matplotlib.figure import Figure

        from . import viz

        viz.style()
        if _is_ipympl():
            with plt.ioff():                       # the canvas is shown in .widget, not at cell end
                fig = plt.figure(figsize=figsize, layout=layout)
            # No pyplot auto-redraw: under plt.ion() every set_data would queue a full draw
            # (defeating the blit), and the draw_event hook's own painting would queue the next
            # draw, forever.  The explorers ask for the draws they need.
            fig.stale_callback = None
            fig.canvas.header_visible = False      # ipympl's "Figure 1" line above every explorer
            return fig
        # Not registered with pyplot: no figure piles up, nothing is shown twice inline.
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        fig = Figure(figsize=figsize, layout=layout)
        FigureCanvasAgg(fig)
        return fig

    def _freeze_layout(self):
        """Lay out once, then pin titles and axis labels where they are.

        Constrained layout, automatic title placement and automatic axis-label placement
        each measure every tick label's extent on every draw: together more than half of a
        redraw.  A slider move changes only the data and the limits, so the layout of the
        first draw is kept.
        """
        fig = self.fig
        fig.set_layout_engine("constrained")
        # Not canvas.draw(): under ipympl a draw before the canvas is displayed stores its
        # image without the data-URL prefix, and the browser then shows nothing.
        fig.draw_without_rendering()               # lays out and places titles and labels
        self._background = None                    # nothing was rendered: no background to blit on
        fig.set_layout_engine("none")
        for ax in fig.axes:
            inv = ax.transAxes.inverted()
            ax.title.set_y(ax.title.get_position()[1])
            ax._autotitlepos = False               # as set_title(y=...) does
            if ax.get_xlabel():
                x, y_px = ax.xaxis.label.get_position()      # x in axes units, y in pixels
                ax.xaxis.set_label_coords(x, inv.transform((0.0, y_px))[1])
            if ax.get_ylabel():
                x_px, y = ax.yaxis.label.get_position()
                ax.yaxis.set_label_coords(inv.transform((x_px, 0.0))[0], y)

    def _animate(self, artists):
        self._animated = [a for a in artists if a is not None]
        for artist in self._animated:
            artist.set_animated(True)
        self._background = None
        self._cids = (*self._cids, self.fig.canvas.mpl_connect("draw_event", self._on_draw))

    def _connect(self, event, handler):
        self._cids = (*self._cids, self.fig.canvas.mpl_connect(event, handler))

    def _on_draw(self, event):
        """After every full draw: keep the static picture, then paint the per-event artists.

        Runs for a resize, a limits change, ``savefig`` (any renderer) and the first
        display; the background is cached only from the canvas's own renderer.
        """
        canvas = self.fig.canvas
        # (draw_without_rendering also passes the canvas's renderer: _freeze_layout drops that one)
        if event.renderer is getattr(canvas, "renderer", None) and hasattr(canvas, "copy_from_bbox"):
            self._background = canvas.copy_from_bbox(self.fig.bbox)
        for artist in self._animated:
            artist.draw(event.renderer)
        self.fig.stale = False

    def _render(self, full: bool = False):
        """Blit the per-event artists over the cached background, or ask for a full draw."""
        canvas = self.fig.canvas
        # Not ``canvas.supports_blit``: WebAgg (so ipympl) reports False out of caution, yet its
        # blit works (it marks the frame stale and sends the diff; checked in a real browser).
        if full or self._background is None or not hasattr(canvas, "restore_region"):
            canvas.draw_idle()
            return
        canvas.restore_region(self._background)
        for artist in self._animated:
            self.fig.draw_artist(artist)
        canvas.blit(self.fig.bbox)
        # The canvas now shows the current state.  Left stale, the figure would get a full
        # draw from pyplot's post-execute hook (ipykernel triggers it after every comm message
        # under plt.ion()): a second, slower frame for every slider move.
        self.fig.stale = False

    def _refresh(self, full: bool = False):
        if self._output is not None:               # no live canvas: show a fresh picture
            self._show_output()
        else:
            self._render(full=full)

    def _controls(self):
        """The widgets shown above the figure (a list)."""
        return []

    _syncing = False

    @staticmethod
    def _status_label():
        """The status line: CSS class ``labkit-status`` is what the browser tests look for."""
        import ipywidgets as W
        label = W.Label(value="")
        label.add_class("labkit-status")
        return label

    @staticmethod
    def _steps_slider(steps: int, top: int = 20_000):
        """A ``steps`` slider whose grid holds ``steps`` (else the browser snaps the value and
        sends back another one: an extra run, and a status that disagrees with the call)."""
        import ipywidgets as W
        tick = 10 if steps % 10 == 0 else 1
        return W.IntSlider(value=steps, min=tick, max=max(top, steps), step=tick, description="steps")

    def _bind(self, pairs):
        """Each control's change calls ``self.update(key=new)``, except while controls are synced."""
        for key, control in pairs:
            def on_change(change, key=key):
                if not self._syncing:
                    self.update(**{key: change["new"]})
            control.observe(on_change, names="value")

    @property
    def widget(self):
        """Controls, status line and figure as one ``ipywidgets.VBox``."""
        if self._widget is None:
            import ipywidgets as W
            if _is_ipympl() and isinstance(self.fig.canvas, W.DOMWidget):
                view = self.fig.canvas
            else:
                self._output = W.Output()
                self._output.add_class("labkit-plot")
                self._show_output()
                view = self._output
            self._widget = W.VBox([*self._controls(), view])
        return self._widget

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def _show_output(self):
        try:
            from IPython import get_ipython
        except ImportError:
            return
        if get_ipython() is None:                  # no kernel (a script, the tests): nothing to show
            return
        from IPython.display import display
        with self._output:
            self._output.clear_output(wait=True)
            display(self.fig)

    def close(self):
        """Disconnect the event handlers and release the figure."""
        for cid in self._cids:
            self.fig.canvas.mpl_disconnect(cid)
        self._cids = ()
        if _is_ipympl():
            import matplotlib.pyplot as plt
            plt.close(self.fig)


class StepSizeExplorer(_LiveFigure):
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
        rules = _rule_names(rules)
        for name in rules:
            _optim.get(name)                            # unknown names fail here, with suggestions
        steps, contour_n = _steps(steps, [problem]), _contour_n(contour_n)
        lr = None if lr is None else check_positive("lr", lr)
        momentum = None if momentum is None else check_real("momentum", momentum)
        if problem.dim < 2:
            raise ValueError(f"StepSizeExplorer needs a problem of 2 or more coordinates, {problem.name} has "
                             f"{problem.dim}")
        self.problem = problem
        self.rules = rules
        try:
            self._lam = _an._eigs(problem)              # ascending; None unless a quadratic
        except ValueError:
            self._lam = None
        if lr is None:
            lr = (_an.gd_optimal_lr(problem).lr if self._lam is not None and self._lam[0] > 0 else 1e-3)
        self._state = {"rule": rules[0], "lr": float(lr), "steps": int(steps),
                       "momentum": self._default_momentum(rules[0]) if momentum is None else float(momentum),
                       "x0": np.array(problem.x0, dtype=np.float64)}
        self._memo_key = None
        self._traj = None
        self._syncing = False
        self._build_figure(contour_n)
        self._build_controls()
        self._draw(self._compute(), render=False)
        self._freeze_layout()                          # laid out around the first run's tick labels

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

        from . import viz

        fig = self._new_figure((10, 7.5))
        (ax_path, ax_loss), (ax_step, ax_split) = fig.subplots(2, 2)
        self.fig, self.axes = fig, {"path": ax_path, "loss": ax_loss, "step": ax_step, "split": ax_split}
        p = self.problem
        colors = viz._colors(max(3, p.dim))

        viz.contour(p, ax=ax_path, n=contour_n)
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
        ax_step.set_ylabel("|Δx|, |Δx|/|g|")
        ax_step.set_title("step |Δx| and effective step |Δx|/|g|")
        ax_step.legend(loc="lower left", fontsize="x-small")

        self._split_lines, self._rate_lines = [], []
        ax_split.set_yscale("log")
        ax_split.set_xlabel("step")
        ax_split.set_ylabel("|x - x*| along eigenvector")
        if self._lam is not None:
            for i, lam in enumerate(self._lam):
                line, = ax_split.plot([], [], color=colors[i % len(colors)], lw=1.3,
                                      label=f"λ={lam:.3g}")
                rate, = ax_split.plot([], [], color=colors[i % len(colors)], lw=1.0, ls="--", label="_nolegend_")
                self._split_lines.append(line)
                self._rate_lines.append(rate)
            ax_split.legend(loc="lower left", fontsize="x-small")
            ax_split.set_title("|error| per eigendirection (--: theory)")
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
            ax.yaxis.set_major_formatter(FuncFormatter(_decade))   # plain text: mathtext costs ~1 ms a label
            ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        for axis in (ax_path.xaxis, ax_path.yaxis):
            axis.set_major_locator(MaxNLocator(nbins=5))
        # Blitting: what changes per event is drawn over a cached picture of everything else.
        # The y axes change with the data (log limits, tick labels) so they are redrawn too;
        # the x axes span the step budget and change only with the ``steps`` control.
        self._animate([ax_loss.yaxis, ax_step.yaxis, ax_split.yaxis,
                       self._path_line, self._start_mark, self._end_mark, self._div_mark,
                       self._loss_line, self._step_line, self._eff_line,
                       *self._split_lines, *self._rate_lines,
                       ax_step.get_legend(), ax_split.get_legend(), self._limits_text])
        self._connect("button_press_event", self._on_press)

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
        self.steps_slider = self._steps_slider(s["steps"])
        self.rule_picker = W.Dropdown(options=list(self.rules), value=s["rule"], description="rule")
        self.status = self._status_label()
        self._sync_momentum_control()
        self._bind((("lr", self.lr_slider), ("momentum", self.momentum_slider),
                    ("steps", self.steps_slider), ("rule", self.rule_picker)))

    def _sync_momentum_control(self):
        name = self._momentum_name(self._state["rule"])
        self.momentum_slider.description = name or "momentum"
        self.momentum_slider.disabled = name is None

    def _sync_controls(self):
        s = self._state
        self._syncing = True
        try:
            self.rule_picker.value = s["rule"]
            self.lr_slider.value = s["lr"]
            self.momentum_slider.value = s["momentum"]
            self.steps_slider.value = s["steps"]
            self._sync_momentum_control()
        finally:
            self._syncing = False

    def _controls(self):
        import ipywidgets as W
        return [W.VBox([W.HBox([self.rule_picker, self.steps_slider]),
                        W.HBox([self.lr_slider, self.momentum_slider]), self.status])]

    # ------------------------------------------------------------------ events

    def on_click(self, x: float, y: float):
        """Start from ``(x, y)`` (other coordinates as in the current start) and re-run."""
        x0 = self._state["x0"].copy()
        x0[0], x0[1] = float(x), float(y)
        return self.update(x0=x0)

    def _on_press(self, event):
        toolbar = getattr(event.canvas, "toolbar", None)
        if getattr(toolbar, "mode", "") not in ("", None):      # zooming or panning: not a click for us
            return
        if event.inaxes is self.axes["path"] and event.xdata is not None and event.ydata is not None:
            self.on_click(event.xdata, event.ydata)

    def update(self, **changes):
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
        f, rng = _positive(f)
        self._loss_line.set_data(steps, f)
        xlim = (0, max(self._state["steps"], 1))   # the budget: a diverged run visibly stops early
        full = ax.get_xlim() != xlim
        for a in (self.axes["loss"], self.axes["step"], self.axes["split"]):
            a.set_xlim(*xlim)
        _set_log_ylim(ax, rng)

        ax = self.axes["step"]
        sn = traj.step_norm
        gn = traj.grad_norm[:-1]
        eff = np.divide(sn, gn, out=np.zeros_like(sn), where=gn > 0)
        sn, r1 = _positive(sn)
        eff, r2 = _positive(eff)
        self._step_line.set_data(steps[:-1], sn)
        self._eff_line.set_data(steps[:-1], eff)
        _set_log_ylim(ax, _merge(r1, r2))

        if self._lam is not None:
            self._draw_split(traj, steps)
        self.status.value = self._status(traj)
        if render:
            self._refresh(full=full)

    def _draw_split(self, traj, steps):
        s = self._state
        ax = self.axes["split"]
        E = np.abs(_an.error_split(traj))
        rng = None
        for i, line in enumerate(self._split_lines):
            e, r = _positive(E[:, i])
            line.set_data(steps, e)
            rng = _merge(rng, r)
        if s["rule"] == "sgd" and E.shape[0]:
            rates = _an.eigen_rates(self.problem, "sgd", lr=s["lr"], momentum=s["momentum"]).rates
            for i, line in enumerate(self._rate_lines):
                # |E_0| rho^t in log space: no overflow to inf, no underflow to 0
                e0 = max(E[0, i], _TINY)
                log_rho = math.log(rates[i]) if rates[i] > 0 else -1e3
                logy = np.clip(math.log(e0) + steps * log_rho, math.log(_TINY), math.log(1e300))
                line.set_data(steps, np.exp(logy))
                line.set_visible(True)
        else:
            for line in self._rate_lines:
                line.set_data([], [])
                line.set_visible(False)
        _set_log_ylim(ax, rng)
        self._limits_text.set_text(self._limits(s["momentum"] if s["rule"] == "sgd" else 0.0))

    def _limits(self, mu: float) -> str:
        lam = self._lam
        if lam[-1] <= 0:
            return "no stable step: λmax <= 0"
        rows = [f"2/λmax = {_g(_an.gd_stability_limit(lam))}"]
        if 0.0 <= mu < 1.0:
            rows.append(f"(2+2μ)/λmax = {_g(_an.heavy_ball_limit(lam, mu))} (μ={mu:.3g})")
            rows.append(f"Nesterov = {_g(_an.nesterov_limit(lam, mu))}")
        if lam[0] > 0:
            rows.append(f"2/(λmin+λmax) = {_g(_an.gd_optimal_lr(lam).lr)}")
        return "\n".join(rows)

    def _limit_note(self) -> str:
        """The stability limit that applies to the current sgd settings, as text."""
        lam, s = self._lam, self._state
        if lam is None or lam[-1] <= 0:
            return ""
        mu = s["momentum"] if s["rule"] == "sgd" else 0.0
        if mu > 0 and mu < 1:
            return f"(2+2μ)/λmax = {_g(_an.heavy_ball_limit(lam, mu))}, 2/λmax = {_g(_an.gd_stability_limit(lam))}"
        return f"2/λmax = {_g(_an.gd_stability_limit(lam))}"

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


class StabilityMapExplorer(_LiveFigure):
    r"""A :class:`~labkit.analysis.StabilityMap` you can click: the cell's trajectory, drawn beside it.

    ``StabilityMapExplorer(smap).widget`` shows the heatmap (:meth:`StabilityMap.plot`, with
    its theoretical boundary), the path of the selected cell's run over the problem's
    contour, and its loss per step.  A click on the map (or :meth:`select`) re-runs that
    cell with :meth:`~labkit.analysis.StabilityMap.run_cell` (bit-for-bit the sweep's run)
    and updates the path, loss curve, cell marker and status line in place.
    """

    def __init__(self, smap, value0=None, value1=None, *, what: str = "f_final", contour_n: int = 150):
        if not isinstance(smap, _an.StabilityMap):
            raise TypeError(f"smap must be a StabilityMap (from lk.analysis.stability_map), got {shown(smap)}")
        contour_n = _contour_n(contour_n)
        if smap.problem is None:
            raise ValueError("StabilityMapExplorer needs a map built by lk.analysis.stability_map")
        if smap.problem.dim < 2:
            raise ValueError("StabilityMapExplorer draws paths in 2-D: the problem needs 2 or more coordinates")
        from . import viz

        self.map = smap
        fig = self._new_figure((13, 4.2), layout="constrained")
        ax_map, ax_path, ax_loss = fig.subplots(1, 3, width_ratios=(1.25, 1, 1))
        self.fig, self.axes = fig, {"map": ax_map, "path": ax_path, "loss": ax_loss}
        smap.plot(ax=ax_map, what=what)
        self._cell_mark, = ax_map.plot([], [], ls="none", marker="s", ms=9, mfc="none", mec="red", mew=2)
        p = smap.problem
        viz.contour(p, ax=ax_path, n=contour_n)
        self._path_line, = ax_path.plot([], [], color="tab:orange", lw=1.3)
        self._end_mark, = ax_path.plot([], [], ls="none", marker="o", ms=6, color="tab:orange", mec="white")
        self._div_mark, = ax_path.plot([], [], ls="none", marker="x", ms=10, mew=2.5, color="red")
        ax_path.set_title("the selected cell's path")
        self._gap = p.f_star is not None
        self._loss_line, = ax_loss.plot([], [], lw=1.3)
        ax_loss.set_yscale("log")
        ax_loss.set_xlabel("step")
        ax_loss.set_ylabel("f - f*" if self._gap else "f")
        ax_loss.set_xlim(0, max(smap.steps, 1))
        ax_loss.set_title("its loss")
        self._traj = None
        self.status = self._status_label()
        # The heatmap and contour are the slow part of a draw: they stay in the cached
        # background and a click repaints only these.
        self._animate([self._cell_mark, self._path_line, self._end_mark, self._div_mark, ax_loss.yaxis,
                       self._loss_line])
        self._connect("button_press_event", self._on_press)
        a0, a1 = smap.axis0, smap.axis1
        self.select(a0[len(a0) // 2] if value0 is None else value0,
                    a1[len(a1) // 2] if value1 is None else value1, render=False)
        self._freeze_layout()

    @property
    def trajectory(self):
        """The selected cell's trajectory."""
        return self._traj

    def _on_press(self, event):
        toolbar = getattr(event.canvas, "toolbar", None)
        if getattr(toolbar, "mode", "") not in ("", None):
            return
        if event.inaxes is self.axes["map"] and event.xdata is not None and event.ydata is not None:
            self.select(event.xdata, event.ydata)

    def select(self, value0, value1, render: bool = True):
        """Show the run of the cell nearest to ``(value0, value1)``; returns its Trajectory."""
        m = self.map
        i1, i0 = m.cell(value0, value1)
        v0, v1 = float(m.axis0[i0]), float(m.axis1[i1])
        traj = self._traj = m.run_cell(v0, v1)
        self._cell_mark.set_data([v0], [v1])
        xy = traj.xs[:, :2]
        self._path_line.set_data(xy[:, 0], xy[:, 1])
        empty = (np.empty(0), np.empty(0))
        self._end_mark.set_data(*(xy[-1:].T if not traj.diverged else empty))
        self._div_mark.set_data(*(xy[-1:].T if traj.diverged else empty))
        f = traj.f - float(m.problem.f_star) if self._gap else traj.f
        f, rng = _positive(f)
        self._loss_line.set_data(np.arange(f.size), f)
        _set_log_ylim(self.axes["loss"], rng)
        k0, k1 = m.axes
        what = (f"diverged at step {traj.diverged_at}" if traj.diverged else
                f"{'f-f*' if self._gap else 'f'}={f[-1]:.3g} after {m.steps} steps")
        self.status.value = f"{traj.label.split('(')[0]} {k0}={v0:.3g} {k1}={v1:.3g}: {what}"
        if render:
            self._refresh()
        return traj

    def _controls(self):
        return [self.status]


def sign_lab_problems() -> dict:
    """The sign-update lab's problems: Rosenbrock and one ill-conditioned quadratic, axis-aligned and rotated."""
    from . import problems as P
    return {"rosenbrock": P.rosenbrock(),
            "quadratic (axis-aligned)": P.quadratic(eigs=(1.0, 25.0), angle=0.0, x0=(-3.0, 2.5)),
            "quadratic (rotated 45°)": P.quadratic(eigs=(1.0, 25.0), angle=math.pi / 4, x0=(-3.0, 2.5))}


_SIGN_RULES = ("adamw", "sign_sgd", "signum", "lion")


class SignUpdateExplorer(_LiveFigure):
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
        self.problems = _problem_dict(sign_lab_problems() if problems is None else problems)
        for name, p in self.problems.items():
            if p.dim != 2:
                raise ValueError(f"SignUpdateExplorer draws 2-D problems; {name!r} has {p.dim} coordinates")
        self.rules = _rule_names(rules)
        for r in self.rules:
            self._rule_and_extra(r)                    # unknown names and K values fail here
        first = next(iter(self.problems))
        steps = _steps(steps, self.problems.values())
        self._state = {"problem": first, "lr": check_real("lr", lr), "b1": check_real("b1", b1),
                       "b2": check_real("b2", b2), "weight_decay": check_real("weight_decay", weight_decay),
                       "decay": check_bool("decay", decay), "steps": steps,
                       "step": min(steps, 100), "inspect": self.rules[-1]}
        contour_n = _contour_n(contour_n)
        self._check(self._state)
        self._memo_key, self._trajs, self._inspected = None, None, None
        self._syncing = False
        self._contour_n = contour_n
        self._build_figure()
        self._build_controls()
        self._draw(render=False)
        self._freeze_layout()

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
        from . import schedules
        return schedules.cosine(self._state["steps"]) if self._state["decay"] else None

    @property
    def problem(self):
        return self.problems[self._state["problem"]]

    @property
    def trajectories(self) -> dict:
        """``{rule: Trajectory}`` on display."""
        return dict(self._trajs)

    # ------------------------------------------------------------------ figure

    def _build_figure(self):
        from matplotlib.patches import Rectangle
        from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator

        fig = self._new_figure((11, 7.8))
        gs = fig.add_gridspec(2, 2, height_ratios=(1.25, 1))
        ax_path, ax_dist = fig.add_subplot(gs[0, 0]), fig.add_subplot(gs[0, 1])
        ax_coord, ax_state = fig.add_subplot(gs[1, 0]), fig.add_subplot(gs[1, 1])
        self.fig = fig
        self.axes = {"path": ax_path, "dist": ax_dist, "coord": ax_coord, "state": ax_state}
        from . import viz
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
        ax_dist.set_title("distance to the minimiser, in steps of lr")
        self._one_line = ax_dist.axhline(1.0, color="0.3", lw=0.8, ls=":")
        self._coord_lines = [ax_coord.plot([], [], lw=1.0, ls=ls, label=f"coordinate {i}")[0]
                             for i, ls in enumerate(("-", "--"))]
        self._coord_cursor = ax_coord.axvline(0, color="0.4", lw=0.8)
        ax_coord.set_xlabel("step")
        ax_coord.set_ylabel("|Δx_i| / lr  (x0: colour, x1: grey --)")
        ax_coord.set_ylim(0.0, 2.5)             # fixed: exactly 1 is the lattice; larger steps are clipped
        ax_state.axis("off")
        self._state_text = ax_state.text(0.0, 1.0, "", family="monospace", fontsize=8.5, va="top", ha="left",
                                         transform=ax_state.transAxes)
        for ax in (ax_dist,):
            ax.yaxis.set_major_locator(LogLocator(numticks=6))
            ax.yaxis.set_minor_locator(NullLocator())
            ax.yaxis.set_major_formatter(FuncFormatter(_decade))
        for ax in (ax_dist, ax_coord):
            ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        self._draw_contour()
        fig.set_layout_engine("constrained")
        self._animate([ax_dist.yaxis, *self._paths.values(), *self._marks.values(),
                       *self._dists.values(), self._box, self._dist_cursor, self._one_line, *self._coord_lines,
                       self._coord_cursor, ax_coord.title, self._state_text])

    def _draw_contour(self):
        from . import viz
        ax = self.axes["path"]
        for coll in list(ax.collections):
            coll.remove()
        for line in [ln for ln in ax.lines if ln not in self._paths.values() and ln not in self._marks.values()]:
            line.remove()
        p = self.problem
        viz.contour(p, ax=ax, n=self._contour_n)
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
        self.steps_slider = self._steps_slider(s["steps"])
        self.scrubber = W.IntSlider(value=s["step"], min=0, max=s["steps"], description="step")
        self.inspect_picker = W.Dropdown(options=list(self.rules), value=s["inspect"], description="inspect")
        self.status = self._status_label()
        self._bind((("problem", self.problem_picker), ("lr", self.lr_slider), ("b1", self.b1_slider),
                    ("b2", self.b2_slider), ("weight_decay", self.wd_slider), ("decay", self.decay_box),
                    ("steps", self.steps_slider), ("step", self.scrubber), ("inspect", self.inspect_picker)))

    def _controls(self):
        import ipywidgets as W
        return [W.VBox([W.HBox([self.problem_picker, self.inspect_picker, self.decay_box]),
                        W.HBox([self.lr_slider, self.b1_slider, self.b2_slider]),
                        W.HBox([self.wd_slider, self.steps_slider, self.scrubber]), self.status])]

    def _sync_controls(self):
        s = self._state
        self._syncing = True
        try:
            for control, key in ((self.problem_picker, "problem"), (self.lr_slider, "lr"), (self.b1_slider, "b1"),
                                 (self.b2_slider, "b2"), (self.wd_slider, "weight_decay"),
                                 (self.decay_box, "decay"), (self.steps_slider, "steps"),
                                 (self.inspect_picker, "inspect")):
                control.value = s[key]
            self.scrubber.max = s["steps"]
            self.scrubber.value = s["step"]
        finally:
            self._syncing = False

    # ------------------------------------------------------------------ events

    _KEYS = ("problem", "lr", "b1", "b2", "weight_decay", "decay", "steps", "step", "inspect")

    def update(self, **changes):
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
        return self.trajectories

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
        from . import signs
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
        from .run import _schedule
        return _schedule(sched, self._state["steps"])[:n]

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
                d, r_ = _positive(np.max(np.abs(xy - xstar), axis=1) / lr)
                self._dists[r].set_data(np.arange(d.size), d)
                rng = _merge(rng, r_)
        from . import viz
        viz.space_markers([*self._paths.values(), *self._dists.values()])
        ax = self.axes["dist"]
        ax.set_xlim(0, max(s["steps"], 1))
        _set_log_ylim(ax, rng)
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
        self._state_text.set_text(self._state_table())
        self.status.value = self._status()
        if render:
            self._refresh(full=full)

    def _state_table(self) -> str:
        s = self._state
        try:
            st = self.inspect()
        except Exception as e:                     # the inspector must never break the explorer
            return f"inspector unavailable: {e}"
        if s["step"] == 0 or not len(st.g):
            return f"{s['inspect']} at the start: move the step scrubber"
        k = min(s["step"], len(st.g)) - 1           # row k is the step that produced x_(k+1)
        rows = [f"{s['inspect']}, step {k + 1} (lr_t = {float(st.lr[k]):.3g})", ""]
        fields = [("g", st.g), ("m", st.m), ("v", st.v), ("c", st.c), ("direction u", st.u),
                  ("sign flips of c", st.flips), ("sign g = sign m", st.agree), ("update Δx", st.update)]
        rows.append(f"{'':16s}" + "".join(f"{'x' + str(i):>12s}" for i in range(2)))
        for name, arr in fields:
            if arr is None:
                continue
            vals = np.asarray(arr[k])
            cells = "".join(f"{self._cell(v):>12s}" for v in vals)
            rows.append(f"{name:16s}{cells}")
        return "\n".join(rows)

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
