"""Is a static figure readable on a projector (issue #19)?  ``readability_problems(fig)`` says what is not.

The rules, for JupyterLab at 1280 px with the file browser open (about 800 px of output width):

- the figure is at most ``MAX_WIDTH`` inches wide at 100 dpi (800 px): wider ones are cut or shrunk;
- every visible text (tick labels, axis labels, titles, legends, annotations) is at least
  ``MIN_FONT`` points (9 pt, about 12 px);
- every visible axis shows at least 2 ticks with labels inside its limits (a colour bar included);
- a log axis does not run below ``LOG_FLOOR`` (1e-20): curves that reach zero are clipped at a
  rounding floor (``labkit.viz.rounding_floor``), not drawn down to 1e-300;
- a colour-mapped artist whose colours vary (images, filled contours, meshes, scatters with
  ``c=``) has a colour bar, its own or one sharing its norm on the same axes (categories, a
  ``BoundaryNorm`` named in a legend, need none);
- a theory line (label or gid containing "theory" or "theoretical") is dashed or dotted and drawn above every
  data line of its axes (a higher zorder).

This module imports matplotlib only (no labkit, no pytest): tools/run_notebooks.py loads it into
each notebook's kernel to check every figure a cell shows.
"""
from __future__ import annotations

import numpy as np

MAX_WIDTH = 8.0          # inches at 100 dpi
MIN_FONT = 9.0           # points
LOG_FLOOR = 1e-20
MIN_TICKS = 2


def _visible(text) -> bool:
    return text.get_visible() and (text.axes is None or text.axes.get_visible())


def _where(fig, ax):
    axes = fig.get_axes()
    title = ax.get_title() or ax.get_title(loc="left")
    return f"axes {title!r}" if title else f"axes #{axes.index(ax)}"


def _ticks(ax, axis, which):
    """Tick labels of ``axis`` shown inside its limits (major, and labelled minor ones)."""
    lo, hi = sorted(axis.get_view_interval())
    span = hi - lo
    shown = []
    for tick in axis.get_major_ticks() + axis.get_minor_ticks():
        loc = tick.get_loc()
        if loc is None or not (lo - 1e-9 * span <= loc <= hi + 1e-9 * span):
            continue
        label = tick.label1 if tick.label1.get_visible() else tick.label2
        if tick.get_visible() and label.get_visible() and label.get_text().strip():
            shown.append(loc)
    return sorted(set(shown))


def _is_colorbar(ax):
    return getattr(ax, "_colorbar", None) is not None


def _varies(artist) -> bool:
    arr = artist.get_array()
    if arr is None:
        return False
    arr = np.ma.masked_invalid(np.ma.asarray(arr, dtype=float)).compressed()
    return arr.size > 1 and float(arr.max()) > float(arr.min())


def _mapped(ax):
    """Colour-mapped artists of ``ax`` whose colours encode a value (more than one colour)."""
    out = []
    for m in list(ax.images) + list(ax.collections):
        if not hasattr(m, "get_array") or not _varies(m):
            continue
        # contour lines drawn in one fixed colour (``colors="white"``) carry levels, not colours
        if hasattr(m, "levels") and getattr(m, "colors", None) is not None:
            continue
        out.append(m)
    return out


def readability_problems(fig) -> list[str]:
    """What in ``fig`` breaks the rules of the module docstring, as readable strings (empty: none)."""
    from matplotlib.colors import BoundaryNorm
    from matplotlib.text import Text
    fig.draw_without_rendering()          # tick labels and layout as they will be shown
    out = []
    width = fig.get_size_inches()[0]
    if width > MAX_WIDTH + 1e-9:
        out.append(f"figure {width:g} in wide ({width * 100:.0f} px at 100 dpi) > {MAX_WIDTH:g} in")
    small = {}
    for t in fig.findobj(Text):
        if not t.get_text().strip() or not _visible(t) or t.figure is None:
            continue
        if t.get_fontsize() < MIN_FONT - 1e-9:
            key = (round(t.get_fontsize(), 2), t.get_text()[:30])
            small.setdefault(key, 0)
            small[key] += 1
    for (size, text), n in sorted(small.items())[:8]:
        out.append(f"text {text!r} is {size:g} pt < {MIN_FONT:g} pt" + (f" ({n} such)" if n > 1 else ""))
    if len(small) > 8:
        out.append(f"... and {len(small) - 8} more texts below {MIN_FONT:g} pt")
    for ax in fig.get_axes():
        if not (ax.get_visible() and ax.axison):
            continue
        where = _where(fig, ax)
        is_3d = ax.name == "3d"
        axes_ = [("x", ax.xaxis), ("y", ax.yaxis)] + ([("z", ax.zaxis)] if is_3d else [])
        if _is_colorbar(ax):          # a colour bar has one axis: its long one
            axes_ = [axes_[0] if ax._colorbar.orientation == "horizontal" else axes_[1]]
        for name, axis in axes_:
            if is_3d:
                n = len([loc for loc in axis.get_majorticklocs()])
            else:
                n = len(_ticks(ax, axis, name))
            if n < MIN_TICKS and not is_3d and name in "xy":
                # stacked panels and twin axes label a shared axis once
                shared = (ax.get_shared_x_axes() if name == "x" else ax.get_shared_y_axes()).get_siblings(ax)
                twins = ax._twinned_axes.get_siblings(ax)
                n = max([n] + [len(_ticks(o, getattr(o, name + "axis"), name)) for o in {*shared, *twins} - {ax}
                               if getattr(o, name + "axis").get_view_interval().tolist()
                               == axis.get_view_interval().tolist()])
            if n < MIN_TICKS:
                out.append(f"{where}: {name} axis shows {n} labelled tick(s) < {MIN_TICKS}")
        if is_3d:
            continue
        for name, scale, lim in (("y", ax.get_yscale(), ax.get_ylim()), ("x", ax.get_xscale(), ax.get_xlim())):
            if scale == "log" and min(lim) < LOG_FLOOR:
                out.append(f"{where}: log {name} axis runs down to {min(lim):.3g} < {LOG_FLOOR:g} "
                           "(clip at a rounding floor: labkit.viz.rounding_floor)")
        if _is_colorbar(ax):
            continue
        mapped = _mapped(ax)
        with_bar = [m for m in mapped if getattr(m, "colorbar", None) is not None]
        for m in mapped:
            # categories (a BoundaryNorm over a listed map, each named in the legend) need no bar
            categorical = isinstance(m.norm, BoundaryNorm) and ax.get_legend() is not None
            if (getattr(m, "colorbar", None) is None and not categorical
                    and not any(b.norm is m.norm for b in with_bar)):
                out.append(f"{where}: {type(m).__name__} colour-maps values without a colour bar")
        theory = [ln for ln in ax.lines
                  if "theor" in (str(ln.get_label()) + str(ln.get_gid() or "")).lower()]
        data = [ln for ln in ax.lines if ln not in theory and len(np.atleast_1d(ln.get_xdata())) > 1]
        data += list(ax.collections)
        for ln in theory:
            if ln.get_linestyle() in ("-", "solid", "None", "none", "", " "):
                out.append(f"{where}: theory line {ln.get_label()!r} is not dashed or dotted")
            below = [d for d in data if d.get_zorder() >= ln.get_zorder()]
            if below:
                out.append(f"{where}: theory line {ln.get_label()!r} (zorder {ln.get_zorder():g}) is not above "
                           f"the data ({len(below)} artist(s) at zorder >= it)")
    return out
