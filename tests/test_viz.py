"""lk.viz: each plot returns an Axes holding what its docstring promises (Agg backend)."""
import dataclasses
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import labkit as lk  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def rosen():
    return lk.problems.rosenbrock()


@pytest.fixture(scope="module")
def runs(rosen):
    """Two converging runs and one that diverges."""
    good = [lk.run(rosen, lk.optim.adam(lr=0.05), 300), lk.run(rosen, lk.optim.sgd(lr=1e-3, momentum=0.9), 300)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lk.DivergenceWarning)
        bad = lk.run(rosen, lk.optim.sgd(lr=0.01), 300)
    assert bad.diverged and not any(t.diverged for t in good)
    return good + [bad]


def _markers(ax):
    return [ln for ln in ax.lines if ln.get_gid() in ("x_star", "minima")]


def _all_finite(ax):
    return all(np.all(np.isfinite(np.asarray(ln.get_xydata(), dtype=float))) for ln in ax.lines)


def test_style_is_applied_once():
    assert lk.viz.__name__ == "labkit.viz"
    lk.viz.style()
    plt.rcParams["axes.facecolor"] = "red"      # a user's change after the theme is kept
    lk.viz.style()
    assert plt.rcParams["axes.facecolor"] == "red"
    plt.rcdefaults()
    lk.viz._STYLED = False


def test_contour_axes_limits_labels_and_markers(rosen):
    ax = lk.viz.contour(rosen)
    assert isinstance(ax, matplotlib.axes.Axes)
    assert ax.get_xlim() == rosen.domain[0] and ax.get_ylim() == rosen.domain[1]
    assert ax.get_title() == rosen.name
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("$x_0$", "$x_1$")
    (star,) = _markers(ax)
    assert star.get_gid() == "x_star" and np.array_equal(star.get_xydata()[0], rosen.x_star)
    assert len(ax.collections) >= 2             # filled bands and their lines


def test_contour_marks_every_minimum():
    h = lk.problems.himmelblau()
    ax = lk.viz.contour(h, n=50)
    marks = {ln.get_gid(): ln.get_xydata() for ln in _markers(ax)}
    assert len(marks["x_star"]) == 1 and len(marks["minima"]) == len(h.minima) - 1


def test_contour_evaluates_f_once_on_the_whole_grid():
    p = lk.problems.rosenbrock_nd(4)
    calls = []

    def f(x):
        calls.append(np.array(x))
        return p.f(x)

    lk.viz.contour(dataclasses.replace(p, f=f), n=30)
    assert len(calls) == 1 and calls[0].shape == (900, 4)
    # d > 2: the slice through x_star in the first two coordinates
    assert np.all(calls[0][:, 2:] == p.x_star[2:])


def test_contour_of_a_pointwise_user_function():
    p = lk.Problem(name="bowl", f=lambda x: x[0] ** 2 + 4 * x[1] ** 2, grad=lambda x: np.array([2 * x[0], 8 * x[1]]),
                   x0=[1.0, 1.0])
    ax = lk.viz.contour(p, n=20)             # f(points) has the wrong shape: evaluated point by point
    assert ax.get_title() == "bowl" and not _markers(ax)


def test_trajectories_lines_limits_legend(rosen, runs):
    ax = lk.viz.trajectories(rosen, runs)
    # path, start and end per trajectory, plus the x_star marker
    assert len(ax.lines) == 3 * len(runs) + len(_markers(ax)) == 10
    assert ax.get_xlim() == rosen.domain[0] and ax.get_ylim() == rosen.domain[1]
    bad = runs[-1]
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == [runs[0].label, runs[1].label, f"{bad.label} (diverged at {bad.diverged_at})"]
    assert _all_finite(ax)
    ends = [ln for ln in ax.lines if ln.get_marker() == "x"]
    assert len(ends) == 1 and np.array_equal(ends[0].get_xydata()[0], bad.xs[-1])


def test_trajectories_takes_labels_and_a_single_trajectory(rosen, runs):
    ax = lk.viz.trajectories(rosen, runs[0], labels=["mine"])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["mine"]
    with pytest.raises(ValueError, match="labels"):
        lk.viz.trajectories(rosen, runs, labels=["one"])


def test_loss_curves_gap_on_log_axis(runs):
    ax = lk.viz.loss_curves(runs)
    assert isinstance(ax, matplotlib.axes.Axes)
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "step" and ax.get_ylabel() == "$f - f^*$"
    assert len(ax.lines) == len(runs) + 1       # one 'x' for the diverged run
    assert _all_finite(ax)
    assert all(np.all(ln.get_ydata() > 0) for ln in ax.lines)
    bad = runs[-1]
    x_marks = [ln for ln in ax.lines if ln.get_marker() == "x"]
    assert len(x_marks) == 1 and x_marks[0].get_xdata()[0] == bad.diverged_at - 1
    assert ax.get_legend().get_texts()[-1].get_text().endswith(f"(diverged at {bad.diverged_at})")
    gap = runs[0].f - runs[0].problem.f_star
    y = ax.lines[0].get_ydata()
    assert np.array_equal(y[gap > 0], gap[gap > 0])     # only gaps <= 0 are lifted, to the floor


def test_loss_curves_plain_f_when_asked_or_f_star_unknown():
    s = lk.problems.saddle()                     # f goes negative: linear axis for f
    tr = lk.run(s, lk.optim.sgd(lr=0.1), 100)
    ax = lk.viz.loss_curves([tr], gap=False)
    assert ax.get_yscale() == "linear" and ax.get_ylabel() == "$f$"
    assert np.array_equal(ax.lines[0].get_ydata(), tr.f)
    unknown = dataclasses.replace(s, f_star=None)
    tr2 = lk.run(unknown, lk.optim.sgd(lr=0.1), 100)
    ax = lk.viz.loss_curves([tr2])
    assert ax.get_ylabel() == "$f$"


def test_markers_are_spaced_by_index_not_by_path_length():
    """From the fifth series on, series get markers; on an oscillating line (signSGD at its
    minimiser) spacing by distance along the line put hundreds on top of each other."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    p = lk.problems.quadratic(eigs=(1, 10))
    trajs = [lk.run(p, "sign_sgd", 1000, lr=lr) for lr in (0.01, 0.02, 0.03, 0.04, 0.05)]
    ax = lk.viz.loss_curves(trajs)
    marked = [line for line in ax.get_lines() if line.get_marker() not in (None, "None", "", " ")
              and line.get_label() != "_nolegend_"]
    assert len(marked) == 1                                   # the fifth series
    assert marked[0].get_markevery() == 1001 // 10
    ax = lk.viz.trajectories(p, trajs)
    path = [line for line in ax.get_lines() if line.get_label().startswith(trajs[4].label)][0]
    assert path.get_markevery() == 1001 // 10
    plt.close("all")
