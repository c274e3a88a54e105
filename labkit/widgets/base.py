r"""The :class:`Explorer` base class and the helpers every explorer shares.

An explorer is controls (ipywidgets) above a figure (ipympl), with a status line.  The base
class owns what they all share: the figure (drawn once; an event mutates artists in place
and costs one render), the status line, the controls' binding to :meth:`Explorer.update`,
per-event timings, a still PNG for static renders, the layout and the explorer's lifetime.
A subclass says which controls, which computation and which artists (``README.md``,
"Write your own explorer").

    ex = SomeExplorer(...)
    ex.widget            # what a notebook shows (carries a PNG for nbconvert / nbviewer)
    ex.update(lr=0.1)    # what a control does; returns ex.trajectory
    ex.params, ex.trajectory, ex.status, ex.timings, ex.controls, ex.close()

Written in the mpl-interactions style (``mpl_interactions/controller.py``).
"""
from __future__ import annotations

import contextlib
import html
import io
import math
import time

import numpy as np

from .._errors import check_int, check_problem, check_run_memory, shown

__all__ = ["CONTROL_ROW_PX", "DPI", "Explorer", "MAX_CONTOUR_N", "MAX_HEIGHT_PX", "MAX_WIDTH_PX", "MIN_FONT_PT",
           "ROUNDING_FLOOR", "STATUS_PX", "TINY", "check_contour_n", "check_steps", "decade", "explorer_box",
           "floor_line", "fmt", "is_ipympl", "log_axis", "merge_ranges", "positive", "problem_dict", "rule_names",
           "set_log_ylim", "style_figure", "theory_style", "StatusText", "contour_colorbar"]

#: Floor for log axes relative to the data's top: round-off lives below ``1e-16`` of a value.
TINY = 1e-300
#: Lowest value a log axis shows, relative to its top (double precision's rounding floor).
ROUNDING_FLOOR = 1e-16

#: Layout budget: a laptop (1280x720, JupyterLab's file browser open) shows an output area of
#: about 776 x 599 px (measured: tests/browser/test_teacher.py).  Every explorer (controls + figure + status) fits in MAX_WIDTH_PX x
#: MAX_HEIGHT_PX at 100 % zoom, figures drawn at DPI.
DPI = 100
MAX_WIDTH_PX = 760
MAX_HEIGHT_PX = 560
CONTROL_ROW_PX = 32
STATUS_PX = 40
#: Smallest font in a figure: 9 pt at 100 dpi is 12.5 px.
MIN_FONT_PT = 9.0

#: Largest contour grid an explorer draws (``contour_n`` x ``contour_n`` evaluations per redraw).
MAX_CONTOUR_N = 1000


# ----------------------------------------------------------------------------- argument checks
# A bad argument fails in the constructor, naming itself, before a figure is built.

def check_contour_n(contour_n) -> int:
    """``contour_n``: an int in 2..MAX_CONTOUR_N."""
    return check_int("contour_n", contour_n, 2, MAX_CONTOUR_N)


def rule_names(rules) -> tuple:
    """``rules``: one rule name or a non-empty list of them (the pickers show the names)."""
    rules = (rules,) if isinstance(rules, str) else rules
    if isinstance(rules, dict) or not hasattr(rules, "__iter__") or not all(isinstance(r, str) for r in rules):
        raise TypeError(f"rules must be a rule name or a list of rule names (lk.optim.names()), got {shown(rules)}")
    rules = tuple(rules)
    if not rules:
        raise ValueError("rules must name at least one rule")
    return rules


def problem_dict(problems) -> dict:
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


def check_steps(steps, problems) -> int:
    """``steps`` >= 1, with each problem's trajectory of that length fitting in memory."""
    steps = check_int("steps", steps, 1)
    for p in problems:
        check_run_memory(p, steps)
    return steps


# ----------------------------------------------------------------------------- plotting helpers

def is_ipympl() -> bool:
    """Whether matplotlib draws through ipympl (``%matplotlib widget``)."""
    import matplotlib
    backend = matplotlib.get_backend().lower()
    return "ipympl" in backend or backend in ("widget", "nbagg")


def positive(y):
    """``y`` with non-positive / non-finite entries replaced by a floor, and its (lo, hi) range."""
    y = np.asarray(y, dtype=np.float64)
    ok = np.isfinite(y) & (y > 0)
    if not ok.all():
        floor = 0.5 * float(y[ok].min()) if ok.any() else TINY
        y = np.where(ok, y, max(floor, TINY))
    if y.size == 0:
        return y, None
    return y, (float(y.min()), float(y.max()))


def merge_ranges(*ranges):
    """The smallest (lo, hi) holding every range (``None`` entries skipped)."""
    ranges = [r for r in ranges if r is not None]
    if not ranges:
        return None
    return min(r[0] for r in ranges), max(r[1] for r in ranges)


def set_log_ylim(ax, rng, floor=None):
    """Log y-limits around ``rng`` = (lo, hi): whole decades, clipped at the rounding floor.

    The top is the power of ten above ``hi`` and the bottom the one below ``lo``: limits that
    move only when the data crosses a decade, so most slider moves keep the axes (and their
    tick labels) as drawn and only the data is repainted (:meth:`Explorer.refresh`).  The
    bottom never goes below ``ROUNDING_FLOOR * top`` (nor ``floor`` when given, nor 1e-20):
    below that a difference is round-off, and a 1e-300 axis hides the data in a sliver; where
    that clip is active the axis ends a little below the floor, so its line shows.  At least one
    decade is shown: a log axis always has two labelled ticks.  Limits that already hold the
    data (at most a decade loose above, two below) are kept.
    """
    if rng is None:
        ax.set_ylim(1e-3, 1.0)
        return
    lo, hi = rng
    hi = min(max(hi, 1e-18), 1e290)
    top = 10.0 ** math.ceil(math.log10(hi) + 0.01)       # (+0.01: a line at the top is not cut in half)
    bottom = 10.0 ** math.floor(math.log10(max(lo, 1e-300)))
    clip = max(top * ROUNDING_FLOOR, 1e-20 if floor is None else floor)
    if bottom < clip:
        bottom = clip / 2
    bottom = min(bottom, top / 10.0)
    # Sticky: limits that already hold the data, no more than a decade above it nor two below,
    # stay; a minimum hovering at a power of ten would otherwise flip the axis every event.
    lo_now, hi_now = ax.get_ylim()
    if (ax.get_yscale() == "log" and 0 < lo_now <= bottom and top <= hi_now <= 10.0 * top
            and lo_now >= bottom / 100.0 and lo_now >= clip / 2):
        return
    ax.set_ylim(bottom, top)


def decade(v, _pos=None) -> str:
    """A log-axis tick label in plain text (``1e-3``): mathtext costs ~1 ms a label."""
    return f"{v:.0e}".replace("e-0", "e-").replace("e+0", "e").replace("e+", "e")


def fmt(v: float) -> str:
    """Three significant digits."""
    return f"{v:.3g}"


def style_figure(fig):
    """Fonts of at least MIN_FONT_PT in every Text of ``fig`` (ticks, labels, titles, legends, notes).

    Tick labels are made at draw time from the axis's tick keywords, so those are set too.
    """
    import matplotlib as mpl
    from matplotlib.text import Text
    for ax in fig.axes:
        for name, axis in (("xtick", ax.xaxis), ("ytick", ax.yaxis)):
            for which in ("major", "minor"):
                size = axis.get_tick_params(which=which).get("labelsize", mpl.rcParams[f"{name}.labelsize"])
                if _points(size) < MIN_FONT_PT:
                    axis.set_tick_params(which=which, labelsize=MIN_FONT_PT)
    for text in fig.findobj(Text):
        if text.get_fontsize() < MIN_FONT_PT:
            text.set_fontsize(MIN_FONT_PT)


def _points(size) -> float:
    from matplotlib.font_manager import FontProperties
    return float(FontProperties(size=size).get_size_in_points())


def contour_colorbar(ax, label="log10(f - f*)"):
    """A slim colour bar for the contour in ``ax`` (the colour encodes log10 of the gap to f*)."""
    from matplotlib.contour import ContourSet
    sets = [c for c in ax.collections if isinstance(c, ContourSet)] or [c for c in ax.get_children()
                                                                         if isinstance(c, ContourSet)]
    if not sets:
        return None
    cb = ax.figure.colorbar(sets[-1], ax=ax, label=label, fraction=0.06, pad=0.02, aspect=30)
    _few_ticks(cb)
    return cb


def _few_ticks(cb):
    from matplotlib.ticker import FormatStrFormatter, MaxNLocator
    cb.locator = MaxNLocator(4)                # a colour bar of contour levels labels every level
    cb.formatter = FormatStrFormatter("%.1f")
    cb.update_ticks()


def log_axis(axis, numticks: int = 5):
    """Plain-text decade ticks on a log ``axis``, no minor ticks (labels are most of a log-axis draw)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator
    axis.set_major_locator(LogLocator(numticks=numticks))
    axis.set_minor_locator(NullLocator())
    axis.set_major_formatter(FuncFormatter(decade))


def theory_style(**kw) -> dict:
    """How theory is drawn: dark grey, dashed, thicker than data, above it (readable in greyscale)."""
    return {"color": "0.1", "ls": "--", "lw": 1.8, "zorder": 6, **kw}


def floor_line(ax, value, label="rounding floor"):
    """A dotted line at ``value`` labelled ``label`` (a log axis's rounding floor), drawn once."""
    line = ax.axhline(value, color="0.35", ls=":", lw=1.2, zorder=1)
    text = ax.text(0.99, value, f" {label}", transform=ax.get_yaxis_transform(), ha="right", va="bottom",
                   fontsize=MIN_FONT_PT, color="0.3")
    return line, text


_BOX = None


def explorer_box():
    """The ``VBox`` subclass an explorer's ``widget`` is: its mime bundle adds a PNG of the figure.

    nbconvert, nbviewer and static HTML cannot run a widget: they show the richest other
    output, here the still.  The box holds the explorer (``_labkit_explorer``) so the
    explorer lives as long as its widget is displayed: matplotlib holds its callbacks
    weakly, and ``Explorer(...).widget`` would otherwise drop the explorer at the next
    garbage collection, and with it every click handler.
    """
    global _BOX
    if _BOX is None:
        import ipywidgets as W

        class ExplorerVBox(W.VBox):
            _labkit_explorer = None

            def _repr_mimebundle_(self, **kwargs):
                bundle = super()._repr_mimebundle_(**kwargs) or {}
                ex = self._labkit_explorer
                if ex is not None:
                    import base64
                    bundle["image/png"] = base64.b64encode(ex.still_png()).decode("ascii")
                    bundle.setdefault("text/plain", f"{type(ex).__name__}: {ex.status}")
                return bundle

        _BOX = ExplorerVBox
    return _BOX


class StatusText(str):
    """The status line's text.  ``.value`` is the same text: the committed notebooks read
    ``ex.status.value`` from when ``status`` was the label widget."""

    @property
    def value(self) -> str:
        return str(self)


class Explorer:
    """What every explorer shares: controls, a figure updated in place, a status line.

    A subclass builds its figure with :meth:`new_figure` (artists made once), lists the
    artists that change per event in :meth:`animate`, registers its controls with
    :meth:`bind` (``{name: widget}``), and implements :meth:`apply` (apply ``params``,
    compute, mutate artists, call :meth:`refresh`; return the result).  The base class gives
    every explorer the same API: ``params``, ``trajectory``, ``update(**params)``,
    ``widget``, ``status``, ``timings``, ``controls``, ``still_png()``, ``close()``.

    Rendering: animated artists are skipped by a normal draw; the ``draw_event`` hook caches
    everything else as the background and paints them on top, so a full draw (first
    display, resize, ``savefig``) and a blitted event give the same pixels.
    """

    #: figure size in inches at DPI 100: width <= 7.4 in (740 px: ipympl adds ~14 px around it inside the 760 px box).
    figsize = (7.6, 3.6)

    _output = None
    _widget = None
    _background = None
    _animated = ()
    _drawn_view = None
    _cids = ()
    _syncing = False
    _status_text = ""
    _status_label = None
    _control_map = None
    _timings = None
    _result = None

    # ------------------------------------------------------------------ the public API

    def apply(self, **params):
        """Apply ``params``, recompute what they change, mutate the artists, render.  Subclasses implement it."""
        raise NotImplementedError

    def update(self, **params):
        """What a control does: apply ``params`` and redraw; returns :attr:`trajectory`.

        The kernel-side time of each call (compute + artist updates + render) is appended
        to :attr:`timings`.
        """
        t0 = time.perf_counter()
        out = self.apply(**params)
        if self._timings is None:
            self._timings = []
        self._timings.append(time.perf_counter() - t0)
        del self._timings[:-1000]
        return out

    @property
    def params(self) -> dict:
        """The current control values (a copy)."""
        return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in self._state.items()}

    @property
    def trajectory(self):
        """The result on display (the last event's)."""
        return self._result

    @property
    def timings(self) -> list:
        """Kernel seconds per :meth:`update` (every control event), oldest first."""
        return list(self._timings or ())

    @property
    def controls(self) -> dict:
        """``{name: ipywidgets control}``: the control that sets each parameter."""
        return dict(self._control_map or {})

    @property
    def status(self) -> StatusText:
        """The status line's text (a ``str``)."""
        return StatusText(self._status_text)

    @property
    def status_label(self):
        """The status line widget (CSS class ``labkit-status``; wraps, never truncates)."""
        if self._status_label is None:
            import ipywidgets as W
            # width auto, not 100 %: 100 % plus the widget's 2 px margins scrolled the box 4 px sideways
            label = W.HTML(value=html.escape(self._status_text),
                           layout=W.Layout(width="auto", min_height="20px"))
            label.add_class("labkit-status")
            self._status_label = label
        return self._status_label

    def set_status(self, text: str):
        """Show ``text`` in the status line (HTML-escaped; long lines wrap)."""
        self._status_text = str(text)
        if self._status_label is not None:
            self._status_label.value = html.escape(self._status_text)

    # ------------------------------------------------------------------ figure

    @classmethod
    def new_figure(cls, figsize=None, layout=None):
        """A figure for an explorer: registered with pyplot only under ipympl, never auto-redrawn."""
        import matplotlib.pyplot as plt
        from matplotlib.figure import Figure

        from .. import viz

        viz.style()
        figsize = cls.figsize if figsize is None else figsize
        # Constrained from the start: colour bars made now take their room from the layout.
        layout = "constrained" if layout is None else layout
        if is_ipympl():
            with plt.ioff():                       # the canvas is shown in .widget, not at cell end
                fig = plt.figure(figsize=figsize, layout=layout, dpi=DPI)
            # No pyplot auto-redraw: under plt.ion() every set_data would queue a full draw
            # (defeating the blit), and the draw_event hook's own painting would queue the next
            # draw, forever.  The explorers ask for the draws they need.
            fig.stale_callback = None
            canvas = fig.canvas
            canvas.header_visible = False          # ipympl's "Figure 1" line above every explorer
            # The toolbar beside or above the canvas would add 40 px to a layout sized to the
            # laptop budget; it shows only while the pointer is over the figure.
            canvas.toolbar_visible = "fade-in-fade-out"
            canvas.toolbar_position = "right"
            # Not resizable: with ipympl 0.10's resize handle on, JupyterLab's own re-layouts
            # (a browser window resized) resized the figures too (06's explorer lost 28 px at
            # 1440x900) and the rule picker then changed no pixels (test_teacher.py).  A resize
            # from the kernel (fig.set_size_inches) is laid out again (Explorer._on_resize).
            canvas.resizable = False
            # Figures are 740 px wide, not MAX_WIDTH_PX: ipympl draws the canvas with a 2 px
            # margin and the box pads it, so a 760 (750) px figure scrolled its 760 px box sideways
            # by 8 (4) px in JupyterLab (tests/browser/test_teacher.py).
            return fig
        # Not registered with pyplot: no figure piles up, nothing is shown twice inline.
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        fig = Figure(figsize=figsize, layout=layout, dpi=DPI)
        FigureCanvasAgg(fig)
        return fig

    def freeze_layout(self):
        """Lay out once (constrained), then pin titles and axis labels where they are.

        Constrained layout, automatic title placement and automatic axis-label placement
        each measure every tick label's extent on every draw: together more than half of a
        redraw.  A slider move changes only the data and the limits, so the layout of the
        first draw is kept.  Also raises every font to MIN_FONT_PT.
        """
        fig = self.fig
        self._move_floors()
        style_figure(fig)
        from matplotlib.transforms import IdentityTransform, blended_transform_factory as blend
        for ax in fig.axes:                        # (again after a resize: unpin, lay out afresh)
            ax._autotitlepos = True
            # set_label_coords below replaced each label's transform: back to Axis's own
            ax.xaxis.label.set_transform(blend(ax.transAxes, IdentityTransform()))
            ax.yaxis.label.set_transform(blend(IdentityTransform(), ax.transAxes))
            ax.xaxis._autolabelpos = ax.yaxis._autolabelpos = True
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

    _cbar = None

    def contour_bar(self, ax):
        """The contour's colour bar (made once; a new contour in ``ax`` is re-pointed to it)."""
        from matplotlib.contour import ContourSet
        if self._cbar is None:
            self._cbar = contour_colorbar(ax)
        else:
            # A new colour bar in the old one's axes: the layout stays as frozen.
            sets = [c for c in ax.get_children() if isinstance(c, ContourSet)]
            if sets:
                cax, label = self._cbar.ax, self._cbar.ax.get_ylabel()
                cax.clear()
                self._cbar = ax.figure.colorbar(sets[-1], cax=cax, label=label)
                _few_ticks(self._cbar)
                style_figure(ax.figure)
        return self._cbar

    _floors = ()

    def floor_marks(self, axes):
        """A dotted "rounding floor" line on each log axes in ``axes``, at ROUNDING_FLOOR times the
        top of its y range: below it a difference is round-off (set_log_ylim never goes lower).
        Shown when the floor is inside the limits; moved by :meth:`refresh`.  Call before :meth:`animate`."""
        marks = []
        for ax in axes:
            line = ax.axhline(1.0, color="0.3", ls=":", lw=1.4, zorder=5, visible=False)
            text = ax.text(0.99, 1.0, "rounding floor", transform=ax.get_yaxis_transform(), ha="right",
                           va="bottom", fontsize=MIN_FONT_PT, color="0.25", zorder=5, visible=False)
            marks.append((ax, line, text))
        self._floors = (*self._floors, *marks)

    def _move_floors(self):
        for ax, line, text in self._floors:
            lo, hi = ax.get_ylim()
            floor = hi * ROUNDING_FLOOR                # set_log_ylim's clip
            shown = ax.get_yscale() == "log" and lo <= floor <= hi
            line.set_visible(shown)
            text.set_visible(shown)
            if shown:
                line.set_ydata([floor, floor])
                text.set_y(floor)

    def animate(self, artists):
        """Mark ``artists`` as the per-event ones: blitted over the cached background.

        Axes are not per-event artists: an event that changes any axes' limits (or the figure's
        size) gets a full draw (:meth:`refresh`), which keeps ticks, labels and the rounding
        floor in the background; decade limits (:func:`set_log_ylim`) make that rare.
        """
        self._animated = [a for a in artists if a is not None]
        for artist in self._animated:
            artist.set_animated(True)
        self._background = None
        self.connect("draw_event", self._on_draw)
        self.connect("resize_event", self._on_resize)

    def _on_resize(self, event):
        """The figure was resized (``fig.set_size_inches`` and a resize event): lay out again at
        the new size, pinned as before; the draw that follows caches the new background."""
        self.freeze_layout()
        self.fig.canvas.draw_idle()

    def connect(self, event, handler):
        """``fig.canvas.mpl_connect`` (disconnected by :meth:`close`)."""
        self._cids = (*self._cids, self.fig.canvas.mpl_connect(event, handler))

    def _on_draw(self, event):
        """After every full draw: keep the static picture, then paint the per-event artists."""
        canvas = self.fig.canvas
        # (draw_without_rendering also passes the canvas's renderer: freeze_layout drops that one)
        if event.renderer is getattr(canvas, "renderer", None) and hasattr(canvas, "copy_from_bbox"):
            self._background = canvas.copy_from_bbox(self.fig.bbox)
            self._drawn_view = self._view()
        for artist in self._animated:
            artist.draw(event.renderer)
        self.fig.stale = False

    def _view(self):
        """What a full draw depends on beyond the per-event artists: the figure's size, every axes' limits."""
        return (tuple(self.fig.bbox.size),
                tuple((ax.get_position().bounds, ax.get_xlim(), ax.get_ylim()) for ax in self.fig.axes))

    def _render(self, full: bool = False):
        """Blit the per-event artists over the cached background, or draw everything.

        ipympl's path (ipympl 0.10 ``backend_nbagg``, matplotlib ``backend_webagg_core``):
        ``canvas.blit()`` and ``canvas.draw()`` both end in ``manager.refresh_all()``, which
        encodes the frame as PNG (``get_diff_image``) and sends it at once; ``draw_idle()``
        only sends a "draw" request that the browser answers before the kernel renders (a
        round trip).  ``image_mode`` is "diff" after the first frame: unchanged pixels go out
        transparent, so a blit's PNG holds little more than the changed artists.  The PNG
        encoding is most of the kernel time ipympl adds per event (bench_widgets --events
        --ipympl), proportional to the figure's pixels: hence figures of <= 760 px.
        """
        canvas = self.fig.canvas
        # ipympl's canvas syncs a data URL until its view in the browser says "initialized".
        # Until then a frame pushed from here (draw() or blit()) is stored without its
        # "data:image/png;base64," prefix, and the view, once shown, stays empty: the notebook
        # calls ex.update() in the cell after ex.widget, before the browser has drawn it, and
        # a still (savefig) has by then cached a background.  draw_idle() is always safe.
        early = is_ipympl() and getattr(canvas, "syncing_data_url", False)
        full = full or self._background is None or self._drawn_view != self._view()
        if full or early or not hasattr(canvas, "restore_region"):
            if self._background is not None and is_ipympl() and not early:
                # The canvas has been shown (a background was cached by a real draw), so
                # render now: WebAgg's draw() renders and pushes the frame (refresh_all).
                # draw_idle() would send a "draw" request to the browser, which asks back,
                # and only then would the kernel render: one round trip more per event.
                canvas.draw()
            else:
                canvas.draw_idle()
            return
        canvas.restore_region(self._background)
        for artist in self._animated:
            self.fig.draw_artist(artist)
        # Not ``canvas.supports_blit``: WebAgg (so ipympl) reports False out of caution, yet its
        # blit works (it marks the frame stale and pushes the diff at once; no round trip).
        canvas.blit(self.fig.bbox)
        # The canvas now shows the current state.  Left stale, the figure would get a full
        # draw from pyplot's post-execute hook (ipykernel triggers it after every comm message
        # under plt.ion()): a second, slower frame for every slider move.
        self.fig.stale = False

    def refresh(self, full: bool = False):
        """Show the current artists: blit (or a full draw when limits or layout changed)."""
        self._move_floors()
        if self._output is not None:               # no live canvas: show a fresh picture
            self._show_output()
        else:
            self._render(full=full)

    def still_png(self) -> bytes:
        """A PNG of the figure as it stands (what static renders of the notebook show)."""
        buf = io.BytesIO()
        self.fig.savefig(buf, format="png", dpi=DPI)
        return buf.getvalue()

    # ------------------------------------------------------------------ controls and layout

    def control_rows(self):
        """The rows of controls above the figure: a list of lists of widgets (one HBox each)."""
        return []

    #: Declared height of the widgets :meth:`below_figure` returns (px at 100 % zoom).
    below_px = 0

    def below_figure(self):
        """Widgets shown under the figure (e.g. a table of numbers: text in HTML costs the kernel
        nothing per event, drawn in the figure ~0.07 ms a glyph)."""
        return []

    def layout_height_px(self) -> int:
        """Declared height at 100 % zoom: control rows x CONTROL_ROW_PX + status + figure + what is below it."""
        return (len(self.control_rows()) * CONTROL_ROW_PX + STATUS_PX + int(round(self.fig.get_figheight() * DPI))
                + self.below_px)

    @staticmethod
    def steps_slider(steps: int, top: int = 20_000):
        """A ``steps`` slider whose grid holds ``steps`` (else the browser snaps the value and
        sends back another one: an extra run, and a status that disagrees with the call)."""
        import ipywidgets as W
        tick = 10 if steps % 10 == 0 else 1
        return W.IntSlider(value=steps, min=tick, max=max(top, steps), step=tick, description="steps")

    @staticmethod
    def compact(control, width: int = 250):
        """Size ``control`` to ``width`` px (a row's share of MAX_WIDTH_PX), its description never cut."""
        import ipywidgets as W
        control.layout.width = f"{width}px"
        if hasattr(control, "style") and hasattr(control.style, "description_width"):
            control.style.description_width = "initial"      # the label's own width: not "weight de..."
        if isinstance(control, W.Checkbox):
            control.indent = False
        return control

    @contextlib.contextmanager
    def syncing(self):
        """Set controls from the state without their observers calling ``update`` again."""
        self._syncing = True
        try:
            yield
        finally:
            self._syncing = False

    def clicked_in(self, event, ax) -> bool:
        """A plain click in ``ax`` (not a zoom or pan of the toolbar) with data coordinates."""
        toolbar = getattr(event.canvas, "toolbar", None)
        if getattr(toolbar, "mode", "") not in ("", None):
            return False
        return event.inaxes is ax and event.xdata is not None and event.ydata is not None

    def bind(self, pairs):
        """Each control's change calls ``self.update(key=new)``, except while controls are synced."""
        if self._control_map is None:
            self._control_map = {}
        for key, control in pairs:
            self._control_map[key] = control

            def on_change(change, key=key):
                if not self._syncing:
                    self.update(**{key: change["new"]})
            control.observe(on_change, names="value")

    @property
    def widget(self):
        """Controls, status line and figure as one ``ipywidgets.VBox`` that carries a still PNG."""
        if self._widget is None:
            import ipywidgets as W
            if is_ipympl() and isinstance(self.fig.canvas, W.DOMWidget):
                view = self.fig.canvas
            else:
                self._output = W.Output()
                self._output.add_class("labkit-plot")
                self._show_output()
                view = self._output
            rows = [W.HBox([self.compact(c, (MAX_WIDTH_PX - 40) // len(row)) for c in row])
                    for row in self.control_rows()]
            box = explorer_box()([*rows, self.status_label, view, *self.below_figure()],
                                 layout=W.Layout(max_width=f"{MAX_WIDTH_PX}px"))
            box._labkit_explorer = self            # the widget keeps its explorer alive
            self._widget = box
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
        """Disconnect the event handlers, close the widgets and release the figure."""
        for cid in self._cids:
            self.fig.canvas.mpl_disconnect(cid)
        self._cids = ()
        if self._widget is not None:
            self._widget._labkit_explorer = None
        if is_ipympl():
            import matplotlib.pyplot as plt
            plt.close(self.fig)
