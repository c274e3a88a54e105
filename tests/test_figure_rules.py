"""tests/figure_rules.py (issue #19): each rule fires on a figure that breaks it, and labkit's own
plots pass.  The notebooks' figures are checked in tests/test_notebooks.py, on the runs it makes."""
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import labkit as lk  # noqa: E402
from figure_rules import LOG_FLOOR, MAX_WIDTH, MIN_FONT, readability_problems  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _good():
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    ax.plot([0, 1, 2], [1, 2, 3], label="data")
    ax.set(xlabel="x", ylabel="y", title="fine")
    ax.legend()
    return fig, ax


def _one(problems, fragment):
    hits = [p for p in problems if fragment in p]
    assert hits, f"expected a problem with {fragment!r}, got {problems}"


def test_a_plain_figure_passes():
    fig, _ = _good()
    assert readability_problems(fig) == []


def test_the_rules_agree_with_viz():
    assert MAX_WIDTH == lk.viz.MAX_WIDTH and MIN_FONT == lk.viz.MIN_FONT


def test_too_wide():
    fig, _ = _good()
    fig.set_size_inches(13, 5)
    _one(readability_problems(fig), "13 in wide (1300 px")


def test_small_text():
    fig, ax = _good()
    ax.annotate("1e-3", (1, 2), fontsize=7)
    ax.tick_params(labelsize=8)
    problems = readability_problems(fig)
    _one(problems, "'1e-3' is 7 pt")
    _one(problems, "is 8 pt")


def test_too_few_ticks():
    fig, ax = _good()
    ax.set_xticks([1])
    _one(readability_problems(fig), "x axis shows 1 labelled tick")


def test_log_axis_to_1e_minus_62():
    fig, ax = _good()
    ax.semilogy([0, 1, 2], [1.0, 1e-30, 1e-62])
    _one(readability_problems(fig), "log y axis runs down to")
    fig2, ax2 = _good()
    ax2.semilogy([0, 1, 2], [1.0, 1e-30, 1e-62])
    ax2.set_ylim(bottom=LOG_FLOOR * 10)
    assert readability_problems(fig2) == []


def test_colour_without_a_bar():
    fig, ax = _good()
    ax.scatter([0, 1, 2], [1, 2, 3], c=[0.1, 0.5, 0.9])
    _one(readability_problems(fig), "PathCollection colour-maps values without a colour bar")
    fig.colorbar(ax.collections[0], ax=ax, label="lr")
    assert readability_problems(fig) == []


def test_theory_line_below_the_data_or_solid():
    fig, ax = _good()
    ax.plot([0, 2], [1, 3], ls="--", color="k", label="theory", zorder=1)
    _one(readability_problems(fig), "theory line 'theory' (zorder 1) is not above the data")
    fig2, ax2 = _good()
    lk.viz.theory_line(ax2, [0, 2], [1, 3], ls="-")
    _one(readability_problems(fig2), "is not dashed or dotted")
    fig3, ax3 = _good()
    lk.viz.theory_line(ax3, [0, 2], [1, 3], label="theory: 2/lr")
    ax3.legend()
    assert readability_problems(fig3) == []


def test_viz_plots_pass():
    p = lk.problems.get("quadratic")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lk.DivergenceWarning)
        trajs = [lk.run(p, "sgd", 500, lr=0.1), lk.run(p, "adam", 500, lr=0.05), lk.run(p, "sgd", 100, lr=5.0)]
    assert min(trajs[0].f) < 1e-40 and trajs[2].diverged      # far below the rounding floor; one blows up
    fig, (ax1, ax2) = lk.viz.subplots(2, 1, height=8)
    lk.viz.trajectories(p, trajs, ax=ax1, colorbar=True)
    lk.viz.loss_curves(trajs, ax=ax2)
    assert readability_problems(fig) == []
    assert [t for t in ax2.texts if t.get_gid() == "rounding_floor"]
    # the floor scales with the starting gap, not with the diverged run's last (huge) finite one
    assert ax2.get_ylim()[0] < 1e-14 * max(tr.f[0] for tr in trajs)
    assert readability_problems(lk.viz.contour(p).figure) == []     # its own figure: a colour bar


def test_viz_subplots_refuse_wide_figures():
    with pytest.raises(ValueError, match="width"):
        lk.viz.subplots(1, 2, width=13)


def test_rounding_floor_stops_the_axis():
    fig, ax = _good()
    y = np.array([1.0, 1e-10, 0.0, 1e-300])
    floor = lk.viz.EPS * y.max()
    ax.semilogy(np.arange(4), np.maximum(y, floor))
    assert lk.viz.rounding_floor(ax, floor) == floor
    lo, _ = ax.get_ylim()
    assert floor / 10 < lo < floor
    assert any("rounding floor" in t.get_text() for t in ax.texts)
    assert readability_problems(fig) == []
    with pytest.raises(ValueError):
        lk.viz.rounding_floor(ax, 0.0)
