"""Every figure labkit draws: labelled axes, greyscale-safe colours, progress bars on long calls (issue #10).

One walker (``figure_problems``) checks a drawn figure: each Axes that shows data has an x and
a y label (a z label in 3-D; sharing an axis with a labelled Axes counts, as in stacked panels
and twin axes), each colorbar a label; every colour-mapped artist (images, contour sets, meshes,
scatters with ``c=``) uses a colour map whose lightness (CIE L*) is monotonic; the entries of
each legend differ in line style, marker or lightness (so they survive greyscale printing); and
an Axes with several curves has a legend or a title.  The walker is run on every public plotting
function and every explorer (a registry test keeps the table complete), and its rules are
themselves tested on figures that break them.  The notebooks are checked statically: every
colour map they name, and the labels of every figure a cell draws itself.
"""
import ast
import inspect
import json
import os
import re
import warnings
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pytest

import labkit as lk

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
pytest.importorskip("ipywidgets")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import colormaps  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.colors import ListedColormap, to_rgba  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from figure_rules import readability_problems  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
LIGHTNESS_TOL = 1.0      # L* units a colour map may step back (rounding in 256-entry tables)
MIN_DL = 8.0             # L* units that tell two legend entries of the same line style apart


# ============================================================================= the rules

def lightness(rgb):
    """CIE L* (0 black .. 100 white) of sRGB colours (..., 3 or 4), from the linearised channels."""
    rgb = np.asarray(rgb, dtype=np.float64)[..., :3]
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    y = lin @ np.array([0.2126, 0.7152, 0.0722])
    return np.where(y > (6 / 29) ** 3, 116 * np.cbrt(y) - 16, y * (29 / 3) ** 3)


def monotonic_lightness(cmap, n: int = 64, tol: float = LIGHTNESS_TOL) -> bool:
    """Whether L* along ``cmap`` (sampled at ``n`` points) only rises or only falls, within ``tol``."""
    d = np.diff(lightness(cmap(np.linspace(0.0, 1.0, n))))
    return bool(np.all(d >= -tol) or np.all(d <= tol))


def _mapped(ax):
    """The colour-mapped artists of ``ax``: images, and collections that carry an array of values."""
    return list(ax.images) + [c for c in ax.collections if c.get_array() is not None]


def _style(handle):
    """(line style, marker, L*) of a legend handle; None for handles that are not lines or markers."""
    if isinstance(handle, Line2D):
        ls = handle.get_linestyle()
        ls = "None" if ls in ("None", "none", "", " ") else ls
        marker = handle.get_marker()
        marker = "None" if marker in (None, "None", "none", "", " ") else str(marker)
        color = handle.get_color() if ls != "None" else handle.get_markerfacecolor()
        return ls, marker, float(lightness(to_rgba(color)))
    if isinstance(handle, PathCollection):
        paths, fc = handle.get_paths(), handle.get_facecolor()
        shape = tuple(np.round(paths[0].vertices, 3).ravel()) if paths else ()
        return "None", shape, float(lightness(fc[0] if len(fc) else (0, 0, 0, 1)))
    return None


def _curves(ax):
    return [ln for ln in ax.lines if len(np.atleast_1d(ln.get_xdata())) > 2]


def figure_problems(fig) -> list:
    """What in ``fig`` breaks the rules of the module docstring, as readable strings (empty: none)."""
    out = []
    axes = fig.get_axes()
    for ax in axes:
        where = f"axes {ax.get_title()!r}" if ax.get_title() else f"axes #{axes.index(ax)}"
        cb = getattr(ax, "_colorbar", None)
        if cb is not None:
            if not (ax.get_xlabel() or ax.get_ylabel()):
                out.append(f"colorbar without a label (next to {where})")
            if not monotonic_lightness(cb.cmap):
                out.append(f"colorbar map {cb.cmap.name!r} is not monotonic in lightness")
            continue
        if not (ax.get_visible() and ax.axison) or not (ax.lines or ax.collections or ax.images):
            continue
        if not any(a.get_xlabel() for a in ax.get_shared_x_axes().get_siblings(ax)):
            out.append(f"{where}: no x label")
        if not any(a.get_ylabel() for a in ax.get_shared_y_axes().get_siblings(ax)):
            out.append(f"{where}: no y label")
        if ax.name == "3d" and not ax.get_zlabel():
            out.append(f"{where}: no z label")
        for m in _mapped(ax):
            if not monotonic_lightness(m.get_cmap()):
                out.append(f"{where}: colour map {m.get_cmap().name!r} is not monotonic in lightness")
        twins = ax.get_shared_x_axes().get_siblings(ax)
        if (len(_curves(ax)) >= 2 and not fig.legends
                and not any(a.get_legend() is not None or a.get_title() for a in twins)):
            out.append(f"{where}: {len(_curves(ax))} curves and neither a legend nor a title")
    legends = [ax.get_legend() for ax in axes if ax.get_legend() is not None] + list(fig.legends)
    for leg in legends:
        entries = [(t.get_text(), _style(h)) for t, h in zip(leg.get_texts(), leg.legend_handles)]
        entries = [(t, s) for t, s in entries if s is not None]
        for i, (ti, si) in enumerate(entries):
            for tj, sj in entries[:i]:
                if si[:2] == sj[:2] and abs(si[2] - sj[2]) < MIN_DL:
                    out.append(f"legend entries {tj!r} and {ti!r} look alike in greyscale "
                               f"(same line and marker, L* {sj[2]:.0f} vs {si[2]:.0f})")
    return out


# ============================================================================= the rules catch what they should

@pytest.mark.parametrize("name", ["viridis", "cividis", "magma", "inferno", "plasma", "Greys", "gray", "Blues",
                                  "mako", "rocket", lk.viz.CMAP])
def test_sequential_maps_pass(name):
    import seaborn  # noqa: F401  (registers mako and rocket)
    assert monotonic_lightness(colormaps[name])
    assert monotonic_lightness(colormaps[name].reversed())


@pytest.mark.parametrize("name", ["jet", "hsv", "rainbow", "tab10", "Spectral", "coolwarm", "twilight"])
def test_rainbow_and_diverging_maps_fail(name):
    assert not monotonic_lightness(colormaps[name])


def test_walker_catches_unlabelled_axes_bad_maps_and_lookalike_legends():
    fig, (a, b, c) = plt.subplots(1, 3)
    a.plot([0, 1, 2], [0, 1, 4])
    im = b.imshow(np.arange(16.0).reshape(4, 4), cmap="jet")
    fig.colorbar(im, ax=b)
    b.set(xlabel="x", ylabel="y")
    c.plot([0, 1, 2], [1, 2, 3], color="#1f77b4", label="one")      # L* 48
    c.plot([0, 1, 2], [3, 2, 1], color="#d62728", label="two")      # L* 47: only the hue differs
    c.set(xlabel="step", ylabel="loss")
    c.legend()
    found = " | ".join(figure_problems(fig))
    plt.close(fig)
    for what in ("axes #0: no x label", "axes #0: no y label", "colorbar without a label", "'jet' is not monotonic",
                 "'one' and 'two' look alike"):
        assert what in found, (what, found)


def test_walker_passes_a_good_figure():
    fig, (a, b) = plt.subplots(2, 1, sharex=True)
    a.plot([0, 1, 2], [0, 1, 4], label="gd")
    a.plot([0, 1, 2], [0, 2, 3], ls="--", label="adam")                  # same colour family, other dashes
    a.legend()
    a.set_ylabel("loss f(x)")
    tw = b.twinx()
    b.plot([0, 1, 2], [1, 2, 3])
    tw.plot([0, 1, 2], [3, 2, 1], ls="--")
    b.set(xlabel="step", ylabel="lr", title="lr (solid) and momentum (dashed)")
    tw.set_ylabel("momentum")
    im = b.scatter([0, 1], [0, 1], c=[0.0, 1.0], cmap="cividis")
    fig.colorbar(im, ax=b, label="time [yr]")
    assert figure_problems(fig) == []
    plt.close(fig)


def test_basin_colours_rise_in_lightness():
    """landscape.Basins.plot's ListedColormap: diverged darkest, then stuck, other, the minima."""
    from labkit import landscape as ls
    for k in (4, 7, 12):
        L = lightness(np.array(ls._category_colors(k)))
        assert np.all(np.diff(L) > 0)
        assert monotonic_lightness(ListedColormap(ls._category_colors(k)))


def test_series_styles_differ_in_greyscale():
    styles = lk.viz.series_styles(36)
    keys = {(s["ls"], s.get("marker")) for s in styles}
    assert len(keys) == 36
    assert [s["color"] for s in lk.viz.series_styles(3)] == list(lk.viz._colors(3))


# ============================================================================= every plotting function

def _quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


def _traj_list():
    p = lk.problems.rosenbrock()
    rules = ["sgd", "adam", "rmsprop", "adagrad", "lion", "signum"]      # six: past four, markers too
    return p, [_quiet(lambda r=r: lk.run(p, r, 60, lr=1e-3)) for r in rules]


def _contour():
    return lk.viz.contour(lk.problems.himmelblau(), n=40).figure


def _trajectories():
    p, trajs = _traj_list()
    return lk.viz.trajectories(p, trajs).figure


def _loss_curves():
    return lk.viz.loss_curves(_traj_list()[1]).figure


def _floor_and_theory():
    """viz.rounding_floor and viz.theory_line on one plot: a gap that reaches 0, and its predicted rate."""
    fig, ax = lk.viz.subplots(width=6, height=4)
    t = np.arange(60)
    gap = np.where(t < 40, 0.5 ** t, 0.0)
    floor = lk.viz.EPS * gap.max()
    ax.semilogy(t, np.maximum(gap, floor), label="gap")
    lk.viz.theory_line(ax, t, 0.5 ** t, label="theory: 2^-t")
    lk.viz.rounding_floor(ax, floor)
    ax.set(xlabel="step", ylabel="f - f*")
    ax.legend()
    return fig


def _stability_map(what):
    def build():
        m = lk.analysis.stability_map(lk.problems.quadratic(), "sgd", 40, lr=np.geomspace(0.01, 2.0, 8),
                                      momentum=np.linspace(0.0, 0.9, 6), progress=False)
        return m.plot(what=what).figure
    return build


_STUDY = {}


def _study():
    if "s" not in _STUDY:
        from labkit.compare import compare, lr_grid
        _STUDY["s"] = _quiet(lambda: compare(["rosenbrock", "beale"], ["adam", "sgd", "lion"], lr_grid(2),
                                             horizon=20, progress=False))
    return _STUDY["s"]


def _success_matrix():
    return _study().success_matrix().figure


def _performance_profile():
    return _study().performance_profile().figure


def _eos():
    q = lk.problems.quadratic(eigs=(1.0, 4.0))
    return lk.eos.edge_of_stability(q, lr=0.3, steps=30, every=5, progress=False).plot()[0].figure


def _basins():
    from labkit import landscape as ls
    return ls.basins(lk.problems.himmelblau(), "sgd", 60, n=16, lr=0.01, progress=False).plot().figure


def _slice(surface=False):
    from labkit import landscape as ls
    p = lk.problems.rosenbrock_nd(4)
    d1, d2 = np.eye(4)[0], np.eye(4)[1]
    s = ls.slice_2d(p, p.x_star, d1, d2, span=1.0, n=9, progress=False)
    if surface:
        return s.plot(surface=True).figure
    paths = {"a": np.c_[np.linspace(-1, 0, 5), np.linspace(1, 0, 5)],
             "b": np.c_[np.linspace(1, 0, 5), np.linspace(-1, 0, 5)]}
    return s.plot(paths=paths).figure


def _rescaling_demo():
    from labkit import landscape as ls
    p = lk.problems.rosenbrock_nd(3)
    d1, d2 = np.eye(3)[0], np.eye(3)[1]
    s = [ls.slice_2d(p, p.x_star, d1, d2, span=0.5, n=7, progress=False) for _ in range(2)]
    return ls.RescalingDemo(2.0, 0, 0.0, tuple(s), tuple(s)).plot()[0, 0].figure


def _taylor_line():
    from labkit import radius as rad
    p = lk.problems.separable_logistic(n=30, d=2, margin=0.05, seed=0)
    x = np.zeros(2)
    return rad.taylor_line(p, x, -p.grad(x), r=np.linspace(0, 2, 41), orders=(2, 8, 32)).plot().figure


def _step_survey():
    from labkit import radius as rad
    p = lk.problems.softmax_regression(n=40, d=3, k=3)
    pts = np.stack([p.x0, p.x0 + 0.1])
    return rad.step_survey(p, pts, r=np.geomspace(0.1, 10, 6), n_random=1).plot().figure


def _large_step_sweep():
    from labkit import separable as sep
    p = lk.problems.separable_logistic(n=30, d=2, margin=0.1, seed=0)
    return sep.large_step_sweep(p, (0.1, 1.0, 10.0, 100.0, 1e3, 1e4, 1e6), steps=40).plot()[0].figure


def _implicit_bias():
    from labkit import separable as sep
    p = lk.problems.separable_logistic(n=30, d=2, margin=0.1, seed=0)
    return sep.implicit_bias(p, steps=300, points=12).plot().figure


def _schedule_comparison():
    s = lk.schedules
    noisy = lk.problems.quadratic().with_noise(0.5, 0)
    scheds = {"constant": s.constant(), "cosine": s.cosine(60), "linear": s.linear(60), "wsd": s.wsd(5, 35, 20),
              "step": s.step(20, 0.5)}
    return lk.stochastic.schedule_comparison(noisy, "sgd", 60, scheds, seeds=2, lr=0.05,
                                             progress=False).plot()[0].figure


PLOTS = {
    "viz.contour": _contour,
    "viz.trajectories": _trajectories,
    "viz.loss_curves": _loss_curves,
    "viz.rounding_floor": _floor_and_theory,
    "viz.theory_line": _floor_and_theory,
    "analysis.StabilityMap.plot": _stability_map("f_final"),
    "analysis.StabilityMap.plot(steps_to_tol)": _stability_map("steps_to_tol"),
    "compare.Comparison.success_matrix": _success_matrix,
    "compare.Comparison.performance_profile": _performance_profile,
    "eos.EdgeOfStability.plot": _eos,
    "landscape.Basins.plot": _basins,
    "landscape.Slice2D.plot": _slice,
    "landscape.Slice2D.plot(surface)": lambda: _slice(surface=True),
    "landscape.RescalingDemo.plot": _rescaling_demo,
    "radius.TaylorLine.plot": _taylor_line,
    "radius.StepSurvey.plot": _step_survey,
    "separable.LargeStepSweep.plot": _large_step_sweep,
    "separable.ImplicitBias.plot": _implicit_bias,
    "stochastic.ScheduleComparison.plot": _schedule_comparison,
}


def _explorer(module, name, *args, **kw):
    def build():
        import importlib
        cls = getattr(importlib.import_module(f"labkit.{module}"), name)
        return cls(*args, **kw)
    return build


def _stability_map_explorer():
    from labkit.widgets import StabilityMapExplorer
    m = lk.analysis.stability_map(lk.problems.quadratic(), "sgd", 40, lr=np.geomspace(0.01, 2.0, 6),
                                  momentum=np.linspace(0.0, 0.9, 5), progress=False)
    return StabilityMapExplorer(m, contour_n=20)


EXPLORERS = {
    "widgets.stepsize.StepSizeExplorer": _explorer("widgets.stepsize", "StepSizeExplorer", lk.problems.quadratic(),
                                                   steps=60, contour_n=20),
    "widgets.stability.StabilityMapExplorer": _stability_map_explorer,
    "widgets.signs.SignUpdateExplorer": _explorer("widgets.signs", "SignUpdateExplorer", steps=60, contour_n=20),
    "widgets.landscape.LandscapeExplorer": _explorer("widgets.landscape", "LandscapeExplorer", steps=60,
                                                     contour_n=20),
    "widgets.separable.SeparableExplorer": _explorer("widgets.separable", "SeparableExplorer", steps=30),
    "widgets.threebody.ThreeBodyExplorer": _explorer("widgets.threebody", "ThreeBodyExplorer", n_out=60),
}

PLOT_MODULES = ("viz", "analysis", "compare", "eos", "landscape", "radius", "separable", "stochastic", "signs",
                "schedules", "threebody", "timestep_rl", "nets")
EXPLORER_MODULES = ("widgets.stepsize", "widgets.stability", "widgets.signs", "widgets.landscape",
                    "widgets.separable", "widgets.threebody")


def _draws(fn) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "ax" in params or "axes" in params


def test_every_plotting_function_is_in_the_table():
    """A public function or method that takes ``ax``/``axes`` draws; each one must be in PLOTS."""
    import importlib
    found = set()
    for mod_name in PLOT_MODULES:
        mod = importlib.import_module(f"labkit.{mod_name}")
        for name in getattr(mod, "__all__", ()):
            obj = getattr(mod, name)
            if inspect.isclass(obj):
                for meth, fn in inspect.getmembers(obj, inspect.isfunction):
                    if not meth.startswith("_") and _draws(fn):
                        found.add(f"{mod_name}.{name}.{meth}")
            elif callable(obj) and _draws(obj):
                found.add(f"{mod_name}.{name}")
    covered = {k.split("(")[0] for k in PLOTS}
    assert found - covered == set(), "plotting functions missing from test_figures.PLOTS"
    assert covered - found == set(), "PLOTS names functions that no longer draw"
    explorers = set()
    for mod_name in EXPLORER_MODULES:
        mod = importlib.import_module(f"labkit.{mod_name}")
        explorers |= {f"{mod_name}.{n}" for n in mod.__all__ if n.endswith("Explorer")
                      and getattr(mod, n).__module__ == mod.__name__}
    assert explorers == set(EXPLORERS)


@pytest.mark.parametrize("name", list(PLOTS))
def test_plot_is_labelled_and_greyscale_safe(name):
    fig = PLOTS[name]()
    try:
        fig.canvas.draw()                    # legends and colorbars as the user sees them
        assert figure_problems(fig) == []
        # and readable when projected (issue #19; tests/figure_rules.py): at most 8 in wide, 9 pt text,
        # log axes above 1e-20, colour bars, theory lines on top
        assert readability_problems(fig) == []
    finally:
        plt.close(fig)


@pytest.mark.parametrize("name", list(EXPLORERS))
def test_explorer_figure_is_labelled_and_greyscale_safe(name):
    ex = EXPLORERS[name]()
    try:
        assert figure_problems(ex.fig) == []
    finally:
        ex.close()


# ============================================================================= notebooks, statically

def _cells():
    for nb in NOTEBOOKS:
        for k, cell in enumerate(json.loads(nb.read_text())["cells"]):
            if cell["cell_type"] == "code":
                src = "".join(cell["source"])
                yield f"{nb.name}[{k}]", "\n".join(line for line in src.splitlines()
                                                  if not line.lstrip().startswith(("%", "!")))


_CMAP_NAMES = {"lk.viz.CMAP": lk.viz.CMAP, "viz.CMAP": lk.viz.CMAP}


def _cmaps_in(src):
    """Colour maps a cell names: ``cmap=...`` keywords, ``plt.get_cmap(...)``, ``colormaps[...]``."""
    out = []
    for node in ast.walk(ast.parse(src)):
        values = []
        if isinstance(node, ast.keyword) and node.arg == "cmap":
            values.append(node.value)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "get_cmap":
            values.extend(node.args[:1])
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value).endswith("colormaps"):
            values.append(node.slice)
        for v in values:
            out.append(v.value if isinstance(v, ast.Constant) else _CMAP_NAMES.get(ast.unparse(v), ast.unparse(v)))
    return out


def test_notebook_colour_maps_read_in_greyscale():
    import seaborn  # noqa: F401
    seen = 0
    for where, src in _cells():
        for name in _cmaps_in(src):
            assert name in colormaps, f"{where}: cmap {name!r} is not a colour map name the test can check"
            assert monotonic_lightness(colormaps[name]), f"{where}: cmap {name!r} is not monotonic in lightness"
            seen += 1
    assert seen >= 1          # the 3-D surface of notebook 03


_DRAW = re.compile(r"\b(ax\w*|axes\[[^\]]*\])\.(plot|semilogx|semilogy|loglog|scatter|errorbar|step|hist|bar|"
                   r"fill_between|imshow|pcolormesh|contourf?|plot_surface)\(")


def test_notebook_figures_set_their_labels():
    """A cell that draws on an Axes itself (not through a labkit plot method) sets its x and y labels
    (and z for a 3-D Axes), by ``set_xlabel`` or ``xlabel=``; several curves on one Axes get a legend
    or a title."""
    checked = 0
    for where, src in _cells():
        if not _DRAW.search(src):
            continue
        checked += 1
        for axis in ("x", "y") + (("z",) if "3d" in src else ()):
            assert re.search(rf"set_{axis}label\(|\b{axis}label\s*=", src), f"{where}: draws without a {axis} label"
        loops = re.search(r"^\s*for .*:\s*$", src, re.M) is not None
        if loops or len(_DRAW.findall(src)) > 1:
            assert re.search(r"\.legend\(|set_title\(|\btitle\s*=", src), f"{where}: several curves, no legend/title"
    assert checked >= 5


# ============================================================================= progress bars

def _bar_shown(capsys, fn, desc):
    capsys.readouterr()
    fn(True)
    err = capsys.readouterr().err
    assert desc in err and "%|" in err, f"no tqdm bar {desc!r} on stderr: {err[-300:]!r}"
    fn(False)
    assert capsys.readouterr().err == ""


def test_progress_edge_of_stability(capsys):
    q = lk.problems.quadratic(eigs=(1.0, 4.0))
    _bar_shown(capsys, lambda p: lk.eos.edge_of_stability(q, lr=0.3, steps=40, every=5, progress=p),
               "edge_of_stability")


def test_progress_schedule_comparison(capsys):
    noisy = lk.problems.quadratic().with_noise(0.5, 0)
    scheds = {"constant": lk.schedules.constant(), "cosine": lk.schedules.cosine(20)}
    _bar_shown(capsys, lambda p: lk.stochastic.schedule_comparison(noisy, "sgd", 20, scheds, seeds=2, lr=0.05,
                                                                   progress=p), "schedule_comparison")


def test_progress_batch_size_scaling(capsys):
    q = lk.problems.quadratic()
    _bar_shown(capsys, lambda p: lk.stochastic.batch_size_scaling(q, "sgd", [1, 4], lr=0.01, noise_std=1.0,
                                                                  steps=20, seeds=3, progress=p),
               "batch_size_scaling")


def test_progress_stability_map(capsys):
    q = lk.problems.quadratic()
    _bar_shown(capsys, lambda p: lk.analysis.stability_map(q, "sgd", 20, lr=[0.01, 0.1], momentum=[0.0, 0.5],
                                                           progress=p), "sweep sgd")


def test_progress_basins_and_slice(capsys):
    from labkit import landscape as ls
    h = lk.problems.himmelblau()
    _bar_shown(capsys, lambda p: ls.basins(h, "sgd", 20, n=6, lr=0.01, progress=p), "sweep sgd")
    _bar_shown(capsys, lambda p: ls.slice_2d(h, h.x_star, [1, 0], [0, 1], n=5, progress=p), "slice_2d")


def test_progress_compare(capsys):
    from labkit.compare import compare, lr_grid
    _bar_shown(capsys, lambda p: _quiet(lambda: compare(["rosenbrock"], ["adam"], lr_grid(2), horizon=10,
                                                        progress=p)), "compare")


def test_progress_timestep_policy_evaluation(capsys):
    from labkit import timestep_rl as rl
    _bar_shown(capsys, lambda p: rl.evaluate(1e-2, seeds=range(2), n_steps=3, progress=p), "evaluate")


LONG_CALLS = ("sweep.sweep", "compare.compare", "analysis.stability_map", "landscape.basins", "landscape.slice_2d",
              "eos.edge_of_stability", "stochastic.schedule_comparison", "stochastic.batch_size_scaling",
              "timestep_rl.evaluate")


@pytest.mark.parametrize("path", LONG_CALLS)
def test_long_calls_default_to_an_automatic_bar(path):
    """``progress=None`` (the default) decides by itself: quiet for quick calls, so tests do not spam."""
    import importlib
    mod, name = path.split(".")
    fn = getattr(importlib.import_module(f"labkit.{mod}"), name)
    assert inspect.signature(fn).parameters["progress"].default is None
