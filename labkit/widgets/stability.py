"""StabilityMapExplorer: a stability map you can click; the cell's run beside it."""
from __future__ import annotations

import numpy as np

from .. import analysis as _an
from .._errors import shown
from .base import Explorer, check_contour_n, positive, set_log_ylim, theory_style

__all__ = ["StabilityMapExplorer"]


class StabilityMapExplorer(Explorer):
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
        contour_n = check_contour_n(contour_n)
        if smap.problem is None:
            raise ValueError("StabilityMapExplorer needs a map built by lk.analysis.stability_map")
        if smap.problem.dim < 2:
            raise ValueError("StabilityMapExplorer draws paths in 2-D: the problem needs 2 or more coordinates")
        from .. import viz

        self.map = smap
        self._state = {"value0": None, "value1": None}
        fig = self.new_figure((7.4, 4.6), layout="constrained")
        gs = fig.add_gridspec(2, 2, width_ratios=(1.25, 1))     # the map tall on the left, its cell's run beside
        ax_map, ax_path, ax_loss = fig.add_subplot(gs[:, 0]), fig.add_subplot(gs[0, 1]), fig.add_subplot(gs[1, 1])
        self.fig, self.axes = fig, {"map": ax_map, "path": ax_path, "loss": ax_loss}
        smap.plot(ax=ax_map, what=what)
        self._restyle_boundary(ax_map)
        ax_map.set_title(self._map_title(ax_map.get_title()))
        self._cell_mark, = ax_map.plot([], [], ls="none", marker="s", ms=9, mfc="none", mec="red", mew=2)
        p = smap.problem
        viz.contour(p, ax=ax_path, n=contour_n)
        self.contour_bar(ax_path)
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
        # The heatmap and contour are the slow part of a draw: they stay in the cached
        # background and a click repaints only these.
        self.floor_marks([ax_loss])
        self.animate([self._cell_mark, self._path_line, self._end_mark, self._div_mark, self._loss_line])
        self.connect("button_press_event", self._on_press)
        a0, a1 = smap.axis0, smap.axis1
        self.apply(value0=a0[len(a0) // 2] if value0 is None else value0,
                   value1=a1[len(a1) // 2] if value1 is None else value1, render=False)
        self.freeze_layout()

    @staticmethod
    def _map_title(title: str) -> str:
        """"sgd on quadratic(...), 300 steps" -> "sgd, 300 steps: click a cell" over the problem's
        name: each line narrower than the map (a one-line problem name centred over it was cut
        at the figure's left edge)."""
        rule, _, rest = title.partition(" on ")
        problem, _, steps = rest.rpartition(", ")
        if not (rule and problem and steps):
            return title + ": click a cell"
        return f"{rule}, {steps}: click a cell\n{problem}"

    @staticmethod
    def _restyle_boundary(ax):
        """The map's theoretical limit as theory is drawn in every explorer: dark, dashed, thick,
        above the cells (with a white edge: the heatmap's dark cells)."""
        from matplotlib import patheffects
        lines = [ln for ln in ax.lines if ln.get_label() == "theoretical limit"]
        for ln in lines:
            ln.set(**theory_style(), path_effects=[patheffects.withStroke(linewidth=3.6, foreground="white")])
        if lines:
            ax.legend(loc="upper left")

    def theory_lines(self) -> list:
        """The lines that draw theory (the map's stability boundary)."""
        return [ln for ln in self.axes["map"].lines if ln.get_label() == "theoretical limit"]

    def _on_press(self, event):
        if self.clicked_in(event, self.axes["map"]):
            self.select(event.xdata, event.ydata)

    def select(self, value0, value1):
        """Show the run of the cell nearest to ``(value0, value1)`` (what a click does); returns its Trajectory."""
        return self.update(value0=value0, value1=value1)

    def apply(self, value0=None, value1=None, render: bool = True):
        """``value0``, ``value1``: the map's two axes (``params`` names them); the nearest cell is run."""
        m = self.map
        s = self._state
        i1, i0 = m.cell(s["value0"] if value0 is None else value0, s["value1"] if value1 is None else value1)
        v0, v1 = float(m.axis0[i0]), float(m.axis1[i1])
        self._state = {"value0": v0, "value1": v1}
        traj = self._result = m.run_cell(v0, v1)
        self._cell_mark.set_data([v0], [v1])
        xy = traj.xs[:, :2]
        self._path_line.set_data(xy[:, 0], xy[:, 1])
        empty = (np.empty(0), np.empty(0))
        self._end_mark.set_data(*(xy[-1:].T if not traj.diverged else empty))
        self._div_mark.set_data(*(xy[-1:].T if traj.diverged else empty))
        f = traj.f - float(m.problem.f_star) if self._gap else traj.f
        f, rng = positive(f)
        self._loss_line.set_data(np.arange(f.size), f)
        # One scale for every cell (every run starts from the same point): clicks compare runs
        # without the axis jumping, and keep it in the cached background.  A diverging run
        # leaves through the top; the red cross and the status line say where it diverged.
        set_log_ylim(self.axes["loss"], None if rng is None else (0.0, f[0] * 1e4))
        k0, k1 = m.axes
        what = (f"diverged at step {traj.diverged_at}" if traj.diverged else
                f"{'f-f*' if self._gap else 'f'}={f[-1]:.3g} after {m.steps} steps")
        self.set_status(f"{traj.label.split('(')[0]} {k0}={v0:.3g} {k1}={v1:.3g}: {what}")
        if render:
            self.refresh()
        return traj

