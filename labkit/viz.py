"""Static plots: a problem's landscape, trajectories over it, loss curves.

    import labkit as lk
    problem = lk.problems.rosenbrock()
    trajs = [lk.run(problem, lk.optim.adam(lr=lr), 2000) for lr in (0.01, 0.05)]
    lk.viz.trajectories(problem, trajs)
    lk.viz.loss_curves(trajs)

One look for the whole lab: every function applies :func:`style` (a seaborn theme, once)
and returns its matplotlib ``Axes``, drawing on ``ax`` when given (so plots compose with
``plt.subplots``) or on a new figure.  Trajectories and loss curves of the same list get
the same colours and line styles (:func:`series_styles`: the palette's colours differ in
hue more than in lightness, so each series also gets its own dash pattern, and past four a
marker, and the plots read in greyscale).  Colour maps are sequential, monotonic in
lightness.  Axis limits come from ``problem.domain``, never from the data: a run that
escapes does not rescale the plot.  A diverged run is drawn up to its last finite point,
marked with an ``x``, and its label says where it diverged; no NaN reaches matplotlib.

Readable when projected (issue #19; tests/figure_rules.py checks every notebook figure): figures
at most :data:`MAX_WIDTH` inches wide (800 px at 100 dpi, JupyterLab's output width at 1280 px
with the file browser open; :func:`subplots` makes them), text of at least :data:`MIN_FONT`
points, log axes that stop at a labelled :func:`rounding_floor` instead of running to 1e-300,
a colour bar wherever colour encodes a value, theory lines (:func:`theory_line`) dashed (black
unless asked otherwise) and above the data.

This is the only module of labkit that imports matplotlib and seaborn; ``import labkit``
loads it on first use of ``lk.viz``.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from . import problems as _problems
from ._errors import check_bool, check_int, check_memory, check_problem, shown

#: Most series :func:`series_styles` styles (and so most trajectories one plot takes): beyond it
#: the colours are indistinguishable anyway, and husl's palette costs time per colour.
MAX_SERIES = 1000

#: Widest figure, in inches: 800 px at 100 dpi, the output width JupyterLab has at 1280 px with
#: the file browser open.
MAX_WIDTH = 8.0
#: Smallest text, in points (about 12 px at 100 dpi).
MIN_FONT = 9.0
#: Relative rounding of float64: a gap below ``EPS * scale`` is below what the arithmetic resolves.
EPS = float(np.finfo(np.float64).eps)
THEORY_ZORDER = 5             # above data lines (2), start/end markers (3) and minima (4)

__all__ = ["EPS", "MAX_WIDTH", "MIN_FONT", "contour", "loss_curves", "rounding_floor", "series_styles",
           "space_markers", "style", "subplots", "theory_line", "trajectories"]

CMAP = "mako"                 # dark valleys, light walls: the paths' colours stand out on both;
                              # lightness rises monotonically, so it reads in greyscale
LINESTYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
_STYLED = False


def style() -> None:
    """Apply labkit's seaborn theme (``whitegrid``, ``notebook`` context, ``deep`` palette).

    Applied once per process: later calls do nothing, so a theme the user sets
    afterwards is kept.  Every plotting function calls it.
    """
    global _STYLED
    if not _STYLED:
        sns.set_theme(context="notebook", style="whitegrid", palette="deep",
                      rc={"legend.fontsize": "small", "legend.framealpha": 0.85})
        _STYLED = True


def contour(problem, ax=None, n: int = 200, levels=30, colorbar=None):
    r"""Filled contours of :math:`\log_{10}(f - f_{min} + \epsilon)` over ``problem.domain``.

    :math:`f_{min}` is ``problem.f_star`` when known, else the smallest value on the grid;
    :math:`\epsilon` is :math:`10^{-6}` times the largest gap on the grid, so the colours
    span six decades whatever the scale of ``f``.  ``f`` is evaluated on the ``n x n``
    grid in one vectorised call (a user's ``f`` written for one point at a time is
    evaluated point by point instead).  ``levels`` is the number of bands, or the band
    edges in :math:`\log_{10}` units.  ``x_star`` is marked with a large star, the other
    known ``problem.minima`` with small ones.  For a problem of more than two
    coordinates the plot is the slice through ``x_star`` (or ``x0`` when there is none)
    in ``x_0`` and ``x_1``, and says so in a corner.  ``colorbar`` adds a colour bar of
    :math:`\log_{10}(f - f_{min} + \epsilon)`; by default only on a figure ``contour`` makes
    itself (the explorers redraw on their own axes, where a bar per redraw would pile up).

    Example: ``lk.viz.contour(lk.problems.himmelblau())``.
    """
    style()
    problem = check_problem("problem", problem)
    d = problem.dim
    if d < 2:
        raise ValueError(f"contour needs a problem of 2 or more coordinates, {problem.name} has {d}; "
                         "use loss_curves")
    n = check_int("n", n, 2)
    check_memory(f"contour with n={n} ({n} x {n} points of dim {d})", 8.0 * n * n * (d + 4), per_unit=1,
                 unit="points")
    levels = _levels(levels)
    own = ax is None
    ax = _axes(ax)
    (x_lo, x_hi), (y_lo, y_hi) = problem.domain
    X, Y = np.meshgrid(np.linspace(x_lo, x_hi, n), np.linspace(y_lo, y_hi, n))
    anchor = problem.x_star if problem.x_star is not None else problem.x0
    points = np.repeat(np.asarray(anchor, dtype=np.float64).reshape(1, d), n * n, axis=0)
    points[:, 0] = X.ravel()
    points[:, 1] = Y.ravel()
    F = _problems.evaluate_rows(problem.f, points).reshape(n, n)

    finite = np.isfinite(F)
    if not finite.any():
        raise ValueError(f"f of {problem.name} is not finite anywhere on its domain")
    f_min = float(problem.f_star) if problem.f_star is not None else float(F[finite].min())
    gap = np.where(finite, np.maximum(F - f_min, 0.0), np.nan)   # < 0 only by rounding
    top = float(np.nanmax(gap))
    eps = 1e-6 * top if top > 0 else 1.0
    Z = np.ma.masked_invalid(np.log10(gap + eps))
    if np.ndim(levels) == 0:
        lo, hi = float(Z.min()), float(Z.max())
        bands = np.linspace(lo, hi if hi > lo else lo + 1.0, levels + 1)
    else:
        bands = levels
    filled = ax.contourf(X, Y, Z, levels=bands, cmap=CMAP, zorder=0)
    if colorbar if colorbar is not None else own:
        from matplotlib.ticker import MaxNLocator      # whole decades, not the band edges (1.601, 2.400, ...)
        ax.figure.colorbar(filled, ax=ax, label=r"$\log_{10}(f - f_{min} + \epsilon)$", shrink=0.9,
                           ticks=MaxNLocator(nbins=6, integer=True))
    ax.contour(X, Y, Z, levels=bands, colors="white", linewidths=0.3, alpha=0.45, zorder=0.5)

    star = None if problem.x_star is None else np.asarray(problem.x_star, dtype=np.float64)[:2]
    others = [np.asarray(m, dtype=np.float64)[:2] for m in problem.minima]
    if star is not None:
        others = [m for m in others if not np.allclose(m, star, rtol=0.0, atol=1e-9)]
    if others:
        m = np.array(others)
        ax.plot(m[:, 0], m[:, 1], ls="none", marker="*", ms=10, mfc="white", mec="0.15", mew=0.8, zorder=4,
                gid="minima", label="_nolegend_")
    if star is not None:
        ax.plot([star[0]], [star[1]], ls="none", marker="*", ms=15, mfc="gold", mec="0.15", mew=0.8, zorder=4,
                gid="x_star", label="_nolegend_")
    if d > 2:
        where = "x*" if problem.x_star is not None else "x0"
        ax.text(0.01, 0.01, f"slice: x_2..x_{d - 1} as in {where}", transform=ax.transAxes, fontsize="small",
                color="white", va="bottom", ha="left")
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_xlabel("$x_0$")
    ax.set_ylabel("$x_1$")
    ax.set_title(problem.name)
    ax.grid(False)
    return ax


def trajectories(problem, trajs, ax=None, labels=None, colorbar=None):
    """The paths of ``trajs`` (Trajectories, or one) over :func:`contour` of ``problem``.

    Each path is a line from an open circle (start) to a filled circle (end); a diverged
    run ends at its last finite point with an ``x``, and its label gets
    ``(diverged at k)``.  The legend shows ``labels`` if given (one per trajectory),
    else each ``traj.label``.  Limits are ``problem.domain``.  Trajectories of more than
    two coordinates are drawn in their first two (a projection onto the slice's plane).
    ``colorbar`` as in :func:`contour`.

    Example: ``lk.viz.trajectories(p, [lk.run(p, "adam", 2000, lr=lr) for lr in (0.01, 0.1)])``.
    """
    problem = check_problem("problem", problem)
    trajs = _as_list(trajs)
    names = _labels(trajs, labels)
    ax = contour(problem, ax=ax, colorbar=colorbar)
    for tr, name, st in zip(trajs, names, series_styles(len(trajs))):
        color = st["color"]
        xy = _finite_prefix(np.asarray(tr.xs, dtype=np.float64)[:, :2])
        space_markers(ax.plot(xy[:, 0], xy[:, 1], lw=1.5, label=_with_status(name, tr), zorder=2, **st))
        if len(xy):
            ax.plot(xy[:1, 0], xy[:1, 1], ls="none", marker="o", ms=7, mfc="white", mec=color, mew=1.5, zorder=3,
                    label="_nolegend_")
            end = dict(marker="x", ms=9, mew=2.5) if tr.diverged else dict(marker="o", ms=6, mec="white", mew=0.8)
            ax.plot(xy[-1:, 0], xy[-1:, 1], ls="none", color=color, zorder=3, label="_nolegend_", **end)
    (x_lo, x_hi), (y_lo, y_hi) = problem.domain
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    if trajs:
        ax.legend(loc="best")
    return ax


def loss_curves(trajs, ax=None, labels=None, gap: bool = True):
    r"""Loss against step for each of ``trajs`` (Trajectories, or one).

    With ``gap=True`` and ``f_star`` known for every trajectory's problem, plots
    :math:`f - f^*` on a log axis, clipped at the :func:`rounding_floor` ``EPS`` times the
    largest starting gap (below it the gap is rounding, and a gap of 0 or below, the minimum
    reached to the last bit, is drawn there too, so the curve stays connected);
    otherwise plots ``f``, on a log axis if every value is positive.  A diverged run
    stops at its last finite step with an ``x``, and its label gets ``(diverged at k)``.
    The legend shows ``labels`` if given, else each ``traj.label``.

    Example: ``lk.viz.loss_curves([lk.run(p, r, 2000) for r in rules])``.
    """
    style()
    trajs = _as_list(trajs)
    names = _labels(trajs, labels)
    gap = check_bool("gap", gap)
    ax = _axes(ax)
    use_gap = gap and bool(trajs) and all(tr.problem.f_star is not None for tr in trajs)
    curves = []
    for tr in trajs:
        f = _finite_prefix(np.asarray(tr.f, dtype=np.float64))
        curves.append(f - float(tr.problem.f_star) if use_gap else f)
    positive = np.concatenate([c[c > 0] for c in curves]) if curves else np.empty(0)
    floor = None
    if use_gap:
        starts = [float(c[0]) for c in curves if c.size and c[0] > 0]    # not the largest: a diverging run's
        floor = EPS * max(starts) if starts else 1.0                      # last finite gap can be 1e300
        curves = [np.where(c > floor, c, floor) for c in curves]
    log = use_gap or (bool(curves) and all(np.all(c > 0) for c in curves) and positive.size > 0)
    for tr, name, st, y in zip(trajs, names, series_styles(len(trajs)), curves):
        steps = np.arange(y.size)
        space_markers(ax.plot(steps, y, lw=1.5, label=_with_status(name, tr), **st))
        if tr.diverged and y.size:
            ax.plot(steps[-1:], y[-1:], ls="none", marker="x", ms=9, mew=2.5, color=st["color"],
                    label="_nolegend_")
    if log:
        ax.set_yscale("log")
    if floor is not None and any(np.any(c <= floor) for c in curves):
        rounding_floor(ax, floor)
    ax.set_xlabel("step")
    ax.set_ylabel("$f - f^*$" if use_gap else "$f$")
    problems = {tr.problem.name for tr in trajs}
    if len(problems) == 1:
        ax.set_title(problems.pop())
    if trajs:
        ax.legend(loc="best")
    return ax


def subplots(nrows: int = 1, ncols: int = 1, height: float | None = None, width: float = MAX_WIDTH, **kw):
    """``plt.subplots`` at most :data:`MAX_WIDTH` inches wide, with constrained layout.

    ``height`` defaults to 3.6 inches per row (2.8 past two rows).  Extra keywords go to
    ``plt.subplots`` (``sharex``, ``subplot_kw``, ...).

    Example: ``fig, (ax1, ax2) = lk.viz.subplots(1, 2)``.
    """
    style()
    nrows, ncols = check_int("nrows", nrows, 1, 20), check_int("ncols", ncols, 1, 20)
    if not 0 < float(width) <= MAX_WIDTH:
        raise ValueError(f"width must be in (0, {MAX_WIDTH}] inches (readable when projected), got {shown(width)}")
    if height is None:
        height = (3.6 if nrows <= 2 else 2.8) * nrows
    kw.setdefault("layout", "constrained")
    return plt.subplots(nrows, ncols, figsize=(float(width), float(height)), **kw)


def rounding_floor(ax, floor: float, axis: str = "y", label: str = "rounding floor"):
    """Mark ``floor`` on ``ax``'s log ``axis``: a dotted grey line, labelled, and the axis stopped just below.

    Values under a rounding floor (:data:`EPS` times the scale of what is plotted) are noise
    of the arithmetic, and a gap of exactly 0 has no place on a log axis: clip the data at
    ``floor`` (``np.maximum(y, floor)``) and call this after plotting, so the axis ends at
    the floor instead of running to 1e-300.  Returns ``floor``.

    Example: ``floor = lk.viz.EPS * y.max(); ax.semilogy(np.maximum(y, floor)); lk.viz.rounding_floor(ax, floor)``.
    """
    floor = float(floor)
    if not (np.isfinite(floor) and floor > 0):
        raise ValueError(f"floor must be a positive finite number, got {shown(floor)}")
    if axis not in ("x", "y"):
        raise ValueError(f"axis must be 'x' or 'y', got {shown(axis)}")
    kw = dict(color="0.35", ls=":", lw=1.2, zorder=1.5, gid="rounding_floor", label="_nolegend_")
    if axis == "y":
        ax.axhline(floor, **kw)
        ax.text(0.99, floor, f"{label} ({floor:.0e}) ", transform=ax.get_yaxis_transform(), ha="right",
                va="bottom", fontsize="small", color="0.3", gid="rounding_floor")
        lo, hi = ax.get_ylim()
        ax.set_ylim(floor / 3, max(hi, floor * 10))
    else:
        ax.axvline(floor, **kw)
        ax.text(floor, 0.99, f" {label} ({floor:.0e})", transform=ax.get_xaxis_transform(), ha="left",
                va="top", rotation=90, fontsize="small", color="0.3", gid="rounding_floor")
        lo, hi = ax.get_xlim()
        ax.set_xlim(floor / 3, max(hi, floor * 10))
    return floor


def theory_line(ax, x, y, label: str = "theory", **kw):
    """A prediction drawn over data: black, dashed, at zorder :data:`THEORY_ZORDER`, labelled.

    Black and dashed tells it from the data in colour and in greyscale; the zorder keeps it
    visible where the data covers it.  The label should contain "theory" (the figure checks
    find theory lines by it).  Extra keywords go to ``ax.plot``.  Returns the Line2D.
    """
    style = dict(color="black", ls="--", lw=1.6, zorder=THEORY_ZORDER, gid="theory")
    style.update(kw)
    (line,) = ax.plot(x, y, label=label, **style)
    return line


# ----------------------------------------------------------------------------- helpers

def _axes(ax):
    if ax is not None:
        from matplotlib.axes import Axes
        if not isinstance(ax, Axes):
            raise TypeError(f"ax must be a matplotlib Axes (e.g. from plt.subplots()) or None, got {shown(ax)}")
        return ax
    _, ax = plt.subplots(constrained_layout=True)
    return ax


def _levels(levels):
    """contour's ``levels``: a number of bands (int >= 1) or increasing band edges."""
    if isinstance(levels, (int, np.integer, float, np.floating)) or levels is None:
        return check_int("levels", levels, 1, 10_000)
    try:
        edges = np.asarray(levels, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        edges = None
    if edges is None or edges.size < 2 or not np.all(np.isfinite(edges)) or np.any(np.diff(edges) <= 0):
        raise ValueError(f"levels must be a number of bands (an integer >= 1) or increasing finite band edges "
                         f"in log10 units, got {shown(levels)}")
    return edges


def _as_list(trajs):
    from .run import Trajectory
    if isinstance(trajs, Trajectory):
        return [trajs]
    try:
        out = list(trajs)
    except TypeError:
        out = None
    if out is None or not all(isinstance(t, Trajectory) for t in out):
        bad = trajs if out is None else next(t for t in out if not isinstance(t, Trajectory))
        raise TypeError(f"trajs must be a Trajectory (what lk.run returns) or a list of them, got {shown(bad)}")
    if len(out) > MAX_SERIES:
        raise ValueError(f"trajs holds {len(out)} trajectories; one plot takes at most {MAX_SERIES}")
    return out


def _labels(trajs, labels):
    if labels is None:
        return [tr.label for tr in trajs]
    if isinstance(labels, (str, bytes)) or not hasattr(labels, "__len__"):
        raise TypeError(f"labels must be a list of strings, one per trajectory, got {shown(labels)}")
    labels = [str(s) for s in labels]
    if len(labels) != len(trajs):
        raise ValueError(f"got {len(labels)} labels for {len(trajs)} trajectories")
    return labels


def _with_status(label, tr):
    return f"{label} (diverged at {tr.diverged_at})" if tr.diverged else label


def _colors(n):
    """The theme's palette in order (husl when it has too few colours)."""
    palette = sns.color_palette()
    return palette[:n] if n <= len(palette) else sns.color_palette("husl", n)


def series_styles(n):
    """``n`` dicts of ``plot`` keywords (``color``, ``ls``, and past four ``marker``, ``markevery``) that
    tell ``n`` series apart in colour and in greyscale.

    Colours are the theme's palette (:func:`_colors`); series ``k`` gets the dash pattern
    ``LINESTYLES[k % 4]`` and, from the fifth on, a marker every tenth of the line, so no two of
    the first 36 series look alike when the hues are lost.
    """
    n = check_int("n", n, 0, MAX_SERIES)
    out = []
    for k, color in enumerate(_colors(n)):
        st = {"color": color, "ls": LINESTYLES[k % len(LINESTYLES)]}
        if k >= len(LINESTYLES):
            st.update(marker=MARKERS[(k // len(LINESTYLES) - 1) % len(MARKERS)], markevery=0.1, ms=5)
        out.append(st)
    return out


def space_markers(lines, n: int = 10):
    """About ``n`` markers on each of ``lines`` that has a marker: every ``len // n``-th point.

    :func:`series_styles`' own ``markevery=0.1`` spaces markers by distance along the line on
    screen, which crowds them on a line that oscillates (a sign method near its minimiser).
    Call this once the line holds its data (again after ``set_data``).
    """
    n = check_int("n", n, 1)
    from matplotlib.lines import Line2D
    given = lines
    lines = list(lines) if not isinstance(lines, Line2D) and hasattr(lines, "__iter__") else None
    if lines is None or not all(isinstance(line, Line2D) for line in lines):
        raise TypeError(f"lines must be a list of matplotlib Line2D (what ax.plot returns), got {shown(given)}")
    for line in lines:
        if line.get_marker() not in (None, "None", "", " "):
            line.set_markevery(max(1, len(line.get_xdata()) // n))
    return lines


def _finite_prefix(a):
    """Rows of a up to (not including) the first one with a non-finite value."""
    bad = ~np.isfinite(a) if a.ndim == 1 else ~np.all(np.isfinite(a), axis=1)
    first = np.argmax(bad) if bad.any() else a.shape[0]
    return a[:first]
