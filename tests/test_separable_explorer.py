"""SeparableExplorer on Agg: builds, a slider move re-runs LR+GD once, the status contract (lr=<.3g>)."""
import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import labkit as lk  # noqa: E402
from labkit import separable as sep  # noqa: E402
from labkit.widgets.separable import SeparableExplorer  # noqa: E402


@pytest.fixture
def ex():
    e = SeparableExplorer(steps=100)
    yield e
    e.close()


def test_constructs_and_draws(ex):
    ex.fig.canvas.draw()
    assert "labkit-status" in ex.status_label._dom_classes
    assert ex.widget is not None
    np.testing.assert_array_equal(ex.trajectory.w, sep.lr_gd(ex.problem, 1.0, 100).w)


def test_slider_reruns_once_and_status(ex, monkeypatch):
    calls = []
    real = sep.lr_gd
    monkeypatch.setattr(sep, "lr_gd", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    ex.gamma_slider.value = 1e6                       # the slider, as in the browser
    assert calls == [1e6]
    assert f"lr={1e6:.3g}" in ex.status and "zero training error from step" in ex.status
    ex.t_slider.value = 3                             # the step slider reuses the run
    assert calls == [1e6] and "t=3" in ex.status
    ex.update(gamma=0.1234)
    assert calls == [1e6, 0.1234] and "lr=0.123 " in ex.status
    assert ex.gamma_slider.value == pytest.approx(0.1234, rel=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="2-D"):
        SeparableExplorer(lk.problems.separable_logistic(n=20, d=3))
    e = SeparableExplorer(steps=10)
    with pytest.raises(ValueError, match="gamma"):
        e.update(gamma=-1)
    with pytest.raises(ValueError, match="t must"):
        e.update(t=11)
    with pytest.raises(ValueError, match="update takes"):
        e.update(lr=1)
    e.close()
