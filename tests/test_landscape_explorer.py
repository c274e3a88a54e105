"""LandscapeExplorer on Agg: one run per rule per event, the scrubber re-runs nothing, status and click contracts."""
import re

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import labkit as lk  # noqa: E402
from labkit.widgets.landscape import LandscapeExplorer  # noqa: E402

RULES = ("sgd", "adam")


@pytest.fixture()
def ex():
    e = LandscapeExplorer(rules=RULES, steps=200, lr=0.01, contour_n=40)
    e.fig.canvas.draw()
    yield e
    e.close()


def _lr_in_status(e):
    m = re.search(r"\blr=([-+0-9.eE]+)", e.status)
    assert m, e.status
    return m.group(1)


def test_constructs_and_status(ex):
    assert ex.runs == len(RULES)
    assert set(ex.trajectory) == set(RULES)
    assert "labkit-status" in ex.status_label._dom_classes
    assert _lr_in_status(ex) == f"{0.01:.3g}"
    tr = lk.run(ex.problem, "adam", 200, ex.problem.x0, lr=0.01)
    np.testing.assert_array_equal(ex.trajectory["adam"].xs, tr.xs)


def test_lr_runs_each_rule_once(ex):
    before = ex.runs
    ex.lr_slider.value = 0.0237                       # through the widget, as a slider move
    assert ex.runs == before + len(RULES)
    assert ex.params["lr"] == pytest.approx(ex.lr_slider.value)
    assert _lr_in_status(ex) == f"{ex.lr_slider.value:.3g}"
    for r, tr in ex.trajectory.items():
        assert tr.rule.lr == pytest.approx(ex.lr_slider.value)
    ex.update(lr=ex.params["lr"])                     # same event: memoised
    assert ex.runs == before + len(RULES)


def test_scrubber_does_not_rerun(ex):
    before = ex.runs
    trajs = ex.trajectory
    ex.scrubber.value = 120
    assert ex.runs == before
    assert all(ex.trajectory[r] is trajs[r] for r in RULES)
    mark = ex._marks["sgd"].get_data()
    np.testing.assert_array_equal(np.ravel(mark), trajs["sgd"].xs[120])
    seg = np.array(ex._eig[0].get_data())              # eigen-direction segment centred at the scrubbed point
    np.testing.assert_allclose(seg.mean(axis=1), trajs["sgd"].xs[120], atol=1e-12)
    assert "step 120" in ex.status and "lr=" in ex.status
    ex.update(quiver=True)
    assert ex.runs == before and ex._quiver.get_visible()


def test_click_moves_the_start(ex):
    from matplotlib.backend_bases import MouseButton, MouseEvent
    ax = ex.axes["path"]
    x, y = ax.transData.transform((-3.0, 3.0))
    event = MouseEvent("button_press_event", ex.fig.canvas, x, y, button=MouseButton.LEFT)
    ex.fig.canvas.callbacks.process("button_press_event", event)
    np.testing.assert_allclose(ex.params["x0"], (-3.0, 3.0), atol=1e-9)
    for tr in ex.trajectory.values():
        np.testing.assert_allclose(tr.xs[0], (-3.0, 3.0), atol=1e-9)
    assert "lr=" in ex.status


def test_problem_switch_and_bad_input(ex):
    ex.update(problem="rosenbrock", lr=1e-3)
    np.testing.assert_array_equal(ex.params["x0"], lk.problems.rosenbrock().x0)
    assert ex.trajectory["sgd"].problem.name == "rosenbrock"
    with pytest.raises(ValueError, match="update takes"):
        ex.update(momentum=0.9)
    with pytest.raises(ValueError, match="lr"):
        ex.update(lr=-1)
    with pytest.raises(ValueError, match="problem must"):
        ex.update(problem="nope")
    with pytest.raises(ValueError, match="2-D"):
        LandscapeExplorer(lk.problems.rosenbrock_nd(3))


def test_a_start_that_diverges_at_once_is_reported_not_crashed():
    # found by tests/test_fuzz.py: the run records no state, and the eigen-cross read xs[-1]
    ex = lk.widgets.LandscapeExplorer(x0=(-449600426280504576, 262), rules=("sgd",))
    assert "diverged at 0" in ex.status
    ex.update(lr=0.02)
    assert "diverged at 0" in ex.status
    ex.close()
