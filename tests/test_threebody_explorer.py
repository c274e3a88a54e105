"""ThreeBodyExplorer (lk.widgets.ThreeBodyExplorer) on the Agg backend."""
import re

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from labkit import threebody as tb  # noqa: E402
from labkit.widgets.threebody import ThreeBodyExplorer  # noqa: E402


def _mu(status):
    return float(re.search(r"mu=([0-9.e+-]+)", status).group(1))


@pytest.fixture(scope="module")
def ex():
    e = ThreeBodyExplorer(n_out=100)
    e.fig.canvas.draw()
    return e


def test_constructs_with_the_default_run(ex):
    run = ex.trajectory
    assert run.t[-1] == pytest.approx(2 * tb.FIGURE_EIGHT_PERIOD)
    assert run.x.shape == (101, 3, 2) and run.dt.shape == (101,)
    assert np.all(run.dt > 0)
    assert "labkit-status" in ex.status_label._dom_classes
    assert _mu(ex.status) == pytest.approx(1e-2)


def test_time_slider_moves_markers_without_rerunning(ex, monkeypatch):
    ex.update(t=ex.trajectory.t[-1])
    run = ex.trajectory
    calls = []
    monkeypatch.setattr(tb, "integrate", lambda *a, **k: calls.append(a))
    ex.update(t=3.0)
    assert not calls and ex.trajectory is run
    k = int(np.argmin(np.abs(run.t - 3.0)))
    np.testing.assert_allclose(ex._bodies.get_offsets(), run.x[k])
    assert len(ex._trails[0].get_xdata()) == k + 1
    assert f"mu={1e-2:.3g}" in ex.status


def test_mu_change_reruns_and_memoises(ex):
    before = ex.trajectory
    ex.update(mu=0.03)
    assert ex.trajectory is not before and ex.trajectory.steps < before.steps
    assert f"mu={0.03:.3g}" in ex.status
    ex.update(mu=1e-2)
    again = ex.trajectory
    ex.update(mu=0.03)
    ex.update(mu=1e-2)
    assert ex.trajectory is again                                     # memo hit


def test_policy_toggle_and_integrator_picker(ex):
    ex.update(policy=True)
    from labkit.timestep_rl import ACTIONS
    assert ex.trajectory.mu is not None and np.all(np.isin(ex.trajectory.mu, ACTIONS))
    assert "policy" in ex.status and _mu(ex.status) > 0
    ex.update(policy=False, integrator="ias15")
    assert ex.integrator().name == "ias15" and _mu(ex.status) == pytest.approx(1e-9)
    ex.update(integrator="leapfrog", mu=1e-3)
    assert ex.trajectory.t[-1] / 1e-3 <= ex.trajectory.steps <= ex.trajectory.t[-1] / 1e-3 + 101     # + shortened steps at samples
    ex.update(integrator="hermite")


def test_system_picker(ex):
    ex.update(system="paper_system", seed=2)
    assert ex.system.name == "paper_system(seed=2)"
    ex.update(system="figure_eight")
    assert ex.trajectory.t[-1] == pytest.approx(2 * tb.FIGURE_EIGHT_PERIOD)


def test_bad_input_errors(ex):
    for bad in ({"mu": -1.0}, {"mu": "x"}, {"integrator": "euler"}, {"system": "sun"}, {"seed": -1},
                {"t_end": 0.0}, {"speed": 1}):
        with pytest.raises(ValueError):
            ex.update(**bad)
    assert ex.system.name == "figure_eight" and _mu(ex.status) > 0      # still usable
    with pytest.raises(ValueError, match="integrator"):
        ThreeBodyExplorer(integrator="euler")


def test_controls_drive_update(ex):
    ex.widget
    ex.mu_slider.value = 0.02
    assert f"mu={0.02:.3g}" in ex.status
    ex.integrator_picker.value = "rk4"
    assert ex.mu_slider.description == "dt"
    ex.integrator_picker.value = "hermite"
    ex.policy_box.value = True
    assert ex.trajectory.mu is not None
    ex.policy_box.value = False
