"""The Explorer base class: one API, lifetime, stills, the laptop layout budget, readable axes (Agg backend)."""
import gc

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import labkit as lk  # noqa: E402
from labkit.widgets import base  # noqa: E402


def _smap():
    q = lk.problems.quadratic(eigs=(1, 10), angle=0.5)
    return lk.analysis.stability_map(q, "sgd", 60, lr=np.geomspace(1e-3, 1.0, 6), momentum=np.linspace(0, 0.99, 5),
                                     progress=False)


# name: (factory, one event as update keywords)
EXPLORERS = {
    "step": (lambda W: W.StepSizeExplorer(lk.problems.quadratic(eigs=(1, 10), angle=0.5), steps=80, contour_n=30),
             {"lr": 0.15}),
    "map": (lambda W: W.StabilityMapExplorer(_smap(), 0.3, 0.9, contour_n=30), {"value0": 0.01, "value1": 0.5}),
    "sign": (lambda W: W.SignUpdateExplorer(steps=120, contour_n=30), {"lr": 0.02}),
    "landscape": (lambda W: W.LandscapeExplorer(steps=80, contour_n=30), {"lr": 0.02}),
    "separable": (lambda W: W.SeparableExplorer(steps=40), {"gamma": 30.0}),
    "threebody": (lambda W: W.ThreeBodyExplorer(n_out=60), {"mu": 0.02}),
}


@pytest.fixture(params=list(EXPLORERS))
def made(request):
    from labkit import widgets as W
    make, event = EXPLORERS[request.param]
    ex = make(W)
    yield ex, event
    ex.close()


def test_every_explorer_has_the_one_api(made):
    ex, event = made
    assert isinstance(ex, base.Explorer)
    before = ex.params
    assert isinstance(before, dict) and before
    out = ex.update(**event)
    assert out is ex.trajectory or (isinstance(out, dict) and out == ex.trajectory)
    assert ex.params != before
    assert isinstance(ex.status, str) and ex.status and ex.status.value == ex.status
    assert len(ex.timings) == 1 and 0 < ex.timings[0] < 60
    assert isinstance(ex.controls, dict)
    for name, control in ex.controls.items():
        assert name in ex.params, name
        assert hasattr(control, "value")
    import ipywidgets as W
    assert isinstance(ex.widget, W.VBox)
    assert "labkit-status" in ex.status_label._dom_classes


def test_the_widget_keeps_its_explorer_alive_and_listening():
    """``Explorer(...).widget`` (notebook 01's map) keeps working after gc: matplotlib holds
    the click callback weakly, the widget holds the explorer strongly."""
    from matplotlib.backend_bases import MouseEvent

    from labkit.widgets import StabilityMapExplorer
    smap = _smap()
    widget = StabilityMapExplorer(smap, 0.3, 0.9, contour_n=20).widget   # the explorer is not kept
    fig = widget._labkit_explorer.fig
    line = next(ln for ln in fig.axes[1].lines if ln.get_color() == "tab:orange" and ln.get_linestyle() == "-")
    before = np.array(line.get_xydata())
    gc.collect()
    ax = fig.axes[0]
    fig.canvas.draw()
    x, y = ax.transData.transform((float(smap.axis0[0]), float(smap.axis1[0])))
    fig.canvas.callbacks.process("button_press_event", MouseEvent("button_press_event", fig.canvas, x, y, 1))
    after = np.array(line.get_xydata())
    assert before.shape != after.shape or not np.allclose(before, after)
    assert widget._labkit_explorer.params["value0"] == pytest.approx(float(smap.axis0[0]))


def test_mime_bundle_carries_a_png(made):
    ex, _ = made
    png = ex.still_png()
    assert png[:4] == b"\x89PNG"
    for obj in (ex, ex.widget):
        bundle = obj._repr_mimebundle_()
        assert "application/vnd.jupyter.widget-view+json" in bundle
        import base64
        assert base64.b64decode(bundle["image/png"])[:4] == b"\x89PNG"
        assert "text/plain" in bundle


def test_fits_a_laptop_output_area(made):
    """1280x720 with JupyterLab's file browser: about 800 x 600 px of output area."""
    ex, _ = made
    w, h = ex.fig.get_size_inches() * ex.fig.dpi
    assert ex.fig.dpi == base.DPI
    assert w <= base.MAX_WIDTH_PX
    assert ex.layout_height_px() <= base.MAX_HEIGHT_PX
    for row in ex.control_rows():
        assert len(row) <= 3
    import ipywidgets as W
    rows = [c for c in ex.widget.children if isinstance(c, W.HBox)]
    assert len(rows) == len(ex.control_rows())
    for row in rows:                                   # each row fits the width: no wrapping, no extra row
        assert sum(int(c.layout.width.rstrip("px")) for c in row.children) <= base.MAX_WIDTH_PX


def _drawn(ex, event):
    ex.update(**event)
    ex.fig.canvas.draw()
    return ex.fig


def test_fonts_are_readable(made):
    from matplotlib.text import Text
    ex, event = made
    fig = _drawn(ex, event)
    small = [(t.get_text(), t.get_fontsize()) for t in fig.findobj(Text)
             if t.get_visible() and t.get_text() and t.get_fontsize() < base.MIN_FONT_PT]
    assert small == []


def test_axes_have_ticks_floors_and_colorbars(made):
    from matplotlib.cm import ScalarMappable
    ex, event = made
    fig = _drawn(ex, event)
    # a colour bar covers every mappable that shares its norm (one scale, two panels)
    bars = {id(cb.mappable.norm) for ax in fig.axes if getattr(ax, "_colorbar", None) is not None
            for cb in [ax._colorbar]}
    for ax in fig.axes:
        if not ax.axison or getattr(ax, "_colorbar", None) is not None:
            continue
        for axis, (lo, hi) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            if not axis.get_visible():
                continue
            lo, hi = min(lo, hi), max(lo, hi)
            locs = [v for v in axis.get_majorticklocs() if lo - 1e-12 * abs(lo) <= v <= hi + 1e-12 * abs(hi)]
            assert len(locs) >= 2, (type(ex).__name__, ax.get_title(), axis.axis_name, locs, (lo, hi))
        if ax.get_yscale() == "log":
            assert ax.get_ylim()[0] >= 1e-20, (type(ex).__name__, ax.get_title(), ax.get_ylim())
        for artist in ax.get_children():
            if isinstance(artist, ScalarMappable) and artist.get_array() is not None and artist.get_visible():
                if getattr(artist, "get_offsets", None) is not None and len(artist.get_offsets()) <= 1:
                    continue
                assert id(artist.norm) in bars or artist.colorbar is not None, (type(ex).__name__, ax.get_title(),
                                                                           type(artist).__name__)


@pytest.mark.parametrize("kind", ["step", "map"])
def test_theory_lines_are_drawn_above_the_data_in_dark_dashes(kind):
    from labkit import widgets as W
    make, event = EXPLORERS[kind]
    ex = make(W)
    ex.update(**event)
    lines = ex.theory_lines()
    assert lines
    data_z = max(ln.get_zorder() for ax in ex.fig.axes for ln in ax.lines if ln not in lines)
    for ln in lines:
        assert ln.get_zorder() > data_z - 1e-9
        assert ln.get_linestyle() in ("--", ":", "-.")
        r, g, b, _ = matplotlib.colors.to_rgba(ln.get_color())
        assert max(r, g, b) <= 0.35                    # dark grey or black: visible in greyscale
    ex.close()


def test_separable_explorer_opens_inside_its_sliders():
    from labkit.widgets import SeparableExplorer
    ex = SeparableExplorer(steps=60)
    for control in ex.controls.values():
        assert control.min < control.value < control.max, control.description
    ex.close()


def test_a_log_axis_that_reaches_round_off_shows_the_rounding_floor():
    from labkit.widgets import StepSizeExplorer
    ex = StepSizeExplorer(lk.problems.quadratic(eigs=(1, 10), angle=0.5), steps=400, contour_n=20)
    ex.update(lr=0.15)                                  # converges to round-off well within 400 steps
    ax = ex.axes["loss"]
    lo, hi = ax.get_ylim()
    assert lo >= hi * 1e-18
    labels = [t for t in ax.texts if t.get_text() == "rounding floor" and t.get_visible()]
    assert labels and lo <= labels[0].get_position()[1] <= hi
    ex.close()


def test_under_ipympl_a_shown_explorer_renders_without_a_browser_round_trip():
    """Once the browser's view is initialized, an event's full redraw renders and pushes the frame itself
    (canvas.draw -> refresh_all) instead of draw_idle's request to the browser; a blit does too."""
    import subprocess
    import sys
    code = ("import matplotlib; matplotlib.use('module://ipympl.backend_nbagg')\n"
            "import labkit as lk; from labkit import widgets as W\n"
            "ex = W.StepSizeExplorer(lk.problems.quadratic(), steps=50, contour_n=20)\n"
            "c = ex.fig.canvas; idle = []; pushed = []\n"
            "c.draw_idle = lambda: idle.append(1)\n"
            "real = c.manager.refresh_all\n"
            "c.manager.refresh_all = lambda: pushed.append(1) or real()\n"
            "ex.refresh(full=True); print(len(idle), len(pushed))\n"     # not shown yet: asks the browser
            # displayed (the still's savefig caches a background) but the view not yet
            # initialized: a pushed frame would lose its data-URL prefix and the view stay empty
            "ex.still_png(); idle.clear(); ex.update(lr=0.05); print(len(idle), len(pushed))\n"
            "c.draw()\n"                                                   # the first frame (caches the background)
            "c._handle_message(c, {'type': 'initialized'}, [])\n"          # what the browser's view sends
            "idle.clear(); pushed.clear()\n"
            "ex.update(steps=60); ex.update(lr=0.1)\n"
            "print(len(idle), len(pushed), ex.fig.stale)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["1", "0", "1", "0", "0", "2", "False"]


def _inside_the_figure(ex):
    fig = ex.fig
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        box = ax.get_tightbbox(renderer)
        assert box.x0 >= -1 and box.y0 >= -1 and box.x1 <= fig.bbox.width + 1 and box.y1 <= fig.bbox.height + 1, (
            type(ex).__name__, ax.get_title(), box.extents, fig.bbox.bounds)


def test_nothing_is_cut_at_the_figure_edges(made):
    """Every axes with its title, labels, ticks and legend lies inside the figure (a title wider
    than its panel, centred over it, was cut at the figure's left edge)."""
    ex, event = made
    ex.fig.canvas.draw()
    _inside_the_figure(ex)
    ex.update(**event)
    ex.fig.canvas.draw()
    _inside_the_figure(ex)


@pytest.mark.parametrize("size", [(8.4, 4.6), (9.6, 5.4)])
def test_a_resized_explorer_lays_out_again_and_still_blits_exactly(made, size):
    """A resize (the figure's new size and a resize event, as WebAgg's handle_resize sends): the layout is redone
    at the new size (every label inside the figure), and a blitted event after it paints what a
    full draw paints.  Wider, as for a projector: narrower than the 740 px default, the longest
    titles no longer fit their panels (the default is sized for a laptop's output area)."""
    from matplotlib.backend_bases import ResizeEvent
    ex, event = made
    fig = ex.fig
    fig.canvas.draw()
    fig.set_size_inches(*size, forward=False)
    ResizeEvent("resize_event", fig.canvas)._process()
    fig.canvas.draw()                                  # what ipympl's draw_idle leads to
    _inside_the_figure(ex)
    before = np.asarray(fig.canvas.buffer_rgba()).copy()
    ex.update(**event)
    blitted = np.asarray(fig.canvas.buffer_rgba()).copy()
    assert blitted.shape[:2] == (round(size[1] * fig.dpi), round(size[0] * fig.dpi))
    assert not np.array_equal(blitted, before)
    fig.canvas.draw()
    assert np.array_equal(blitted, np.asarray(fig.canvas.buffer_rgba()))


def test_log_limits_are_decades_and_sticky():
    """Whole decades; limits that hold the data stay (a minimum hovering at 1e-8 does not flip the
    axis every event); they move when the data leaves them or when they are too loose."""
    from matplotlib.figure import Figure
    ax = Figure().add_subplot()
    ax.set_yscale("log")
    base.set_log_ylim(ax, (2e-8, 3.0))
    assert ax.get_ylim() == (1e-8, 10.0)
    base.set_log_ylim(ax, (2e-7, 3.0))            # the minimum crosses 1e-7: kept
    assert ax.get_ylim() == (1e-8, 10.0)
    base.set_log_ylim(ax, (2e-8, 30.0))           # the data leaves through the top: moved
    assert ax.get_ylim() == (1e-8, 100.0)
    base.set_log_ylim(ax, (2e-5, 30.0))           # three decades loose below: tightened
    assert ax.get_ylim() == (1e-5, 100.0)
    base.set_log_ylim(ax, (2e-5, 0.3))            # two decades loose above: tightened
    assert ax.get_ylim() == (1e-5, 1.0)
