"""labkit.eos: Lanczos / power sharpness against dense eigvalsh, and the edge-of-stability phenomenon on the demo MLP."""
import numpy as np
import pytest

import labkit as lk
from labkit import eos, nets

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def net_and_point():
    """A 2 -> 8 -> 8 -> 2 tanh net (106 parameters) at a point away from init."""
    net = nets.mlp(nets.spirals(16, seed=1), widths=(8, 8), seed=1)
    theta = net.x0 + 0.5 * np.random.default_rng(0).standard_normal(net.n_params)
    return net, theta, np.linalg.eigvalsh(net.hessian(theta))


@pytest.fixture(scope="module")
def demo():
    """The documented demo (defaults of edge_of_stability), seed 0: ~4 s."""
    return eos.edge_of_stability()


# ----------------------------------------------------------------------------- top eigenvalue

def test_lanczos_matches_dense_eigvalsh(net_and_point):
    net, theta, ev = net_and_point
    lam = eos.top_eigenvalue(net, theta, iters=40)
    assert lam == pytest.approx(ev[-1], rel=1e-10)
    # the same through hvp(theta, v), a dense matrix and a Problem
    assert eos.top_eigenvalue(net.hvp, theta, iters=40) == pytest.approx(ev[-1], rel=1e-10)
    assert eos.top_eigenvalue(net.hessian(theta), theta, iters=40) == pytest.approx(ev[-1], rel=1e-10)
    assert eos.top_eigenvalue(net.problem(), theta, iters=40) == pytest.approx(ev[-1], rel=1e-10)


def test_lanczos_full_space_gives_all_eigenvalues():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((30, 30))
    A = A + A.T
    vals, vecs = eos.lanczos(lambda v: A @ v, 30, iters=30)
    np.testing.assert_allclose(vals, np.linalg.eigvalsh(A), atol=1e-10)      # full reorthogonalisation: no ghosts
    np.testing.assert_allclose(A @ vecs[:, -1], vals[-1] * vecs[:, -1], atol=1e-9)
    # a Krylov space of a low-rank operator is exhausted early (invariant subspace): stops cleanly
    U = np.linalg.qr(rng.standard_normal((30, 3)))[0]
    vals, _ = eos.lanczos(lambda v: U @ (np.array([5.0, 2.0, 1.0]) * (U.T @ v)), 30, iters=20)
    assert len(vals) <= 4 and vals[-1] == pytest.approx(5.0, rel=1e-12)


def test_lanczos_ritz_value_is_a_lower_bound_that_converges(net_and_point):
    net, theta, ev = net_and_point
    est = [eos.top_eigenvalue(net, theta, iters=k) for k in (2, 5, 10, 40)]
    assert all(e <= ev[-1] * (1 + 1e-12) for e in est)
    assert np.all(np.diff(est) >= -1e-10)                    # Ritz values increase with the Krylov space
    v0 = eos.top_eigenvalue(net, theta, iters=40, return_vector=True)[1]
    assert eos.top_eigenvalue(net, theta, iters=2, v0=v0) == pytest.approx(ev[-1], rel=1e-8)   # warm start


def test_power_iteration_matches_dense(net_and_point):
    net, theta, ev = net_and_point
    assert eos.top_eigenvalue(net, theta, method="power", iters=2000) == pytest.approx(ev[-1], rel=1e-6)
    # largest *algebraic* eigenvalue also when the most negative one dominates in magnitude
    H = np.diag([-10.0, 1.0, 3.0])
    assert eos.top_eigenvalue(H, np.zeros(3), method="power", iters=300) == pytest.approx(3.0, rel=1e-8)
    assert eos.top_eigenvalue(H, np.zeros(3), iters=3) == pytest.approx(3.0, rel=1e-12)


@pytest.mark.parametrize("kwargs, match", [
    (dict(method="lanzcos"), r"unknown method 'lanzcos'. Did you mean 'lanczos'"),
    (dict(iters=0), "iters must be an integer >= 1"),
    (dict(method="power", return_vector=True), "return_vector=True needs method='lanczos'"),
])
def test_top_eigenvalue_errors(net_and_point, kwargs, match):
    net, theta, _ = net_and_point
    with pytest.raises(ValueError, match=match):
        eos.top_eigenvalue(net, theta, **kwargs)


# ----------------------------------------------------------------------------- edge of stability

def test_demo_configuration(demo):
    assert demo.lr == eos.EOS_DEMO["lr"] and demo.threshold == pytest.approx(2 / 0.15)
    assert demo.steps == eos.EOS_DEMO["steps"] and len(demo.loss) == demo.steps + 1
    np.testing.assert_array_equal(demo.sharpness_steps, np.arange(0, demo.steps + 1, eos.EOS_DEMO["every"]))
    assert demo.theta.shape == (1218,)


def test_progressive_sharpening_then_edge_of_stability(demo):
    # Progressive sharpening: the sharpness starts well below 2/eta and at least doubles.
    assert demo.initial_ratio < 0.5
    assert demo.sharpness[-1] >= 2.0 * demo.sharpness[0]
    # It reaches 0.9 * 2/eta in the first half of the run ...
    assert demo.edge_step is not None and demo.edge_step < demo.steps / 2
    # ... and then hovers there: every tracked value after arrival settles within the band.
    lo, hi = eos.RATIO_BAND
    assert lo <= demo.final_ratio <= hi
    assert lo <= demo.late_ratio <= hi
    late = demo.sharpness[len(demo.sharpness) // 2:] / demo.threshold
    assert lo <= late.min() and late.max() <= hi


def test_loss_falls_non_monotonically_at_the_edge(demo):
    assert demo.loss[-1] < 0.1 * demo.loss[0]
    assert demo.n_increases >= 20
    # GD on an L-smooth function with lr < 2/L decreases monotonically: the increases happen at the edge.
    increases = np.flatnonzero(np.diff(demo.loss) > 0)
    assert increases.min() >= demo.edge_step - 2 * eos.EOS_DEMO["every"]
    # and the loss keeps falling over the edge-of-stability phase (quarter-averages decrease)
    tail = demo.loss[demo.edge_step:]
    quarters = [q.mean() for q in np.array_split(tail, 4)]
    assert np.all(np.diff(quarters) < 0)


def test_below_the_edge_gd_is_monotone_and_sharpness_tracking_is_exact():
    """With a small step (2/eta far above the sharpness) the run is classical: no loss increase."""
    net = nets.mlp(nets.moons(12, seed=0), widths=(6,), seed=0)
    res = eos.edge_of_stability(net, lr=0.02, steps=300, every=100, sharpness_iters=40)
    assert res.n_increases == 0 and res.edge_step is None and res.final_ratio < 0.5
    np.testing.assert_array_equal(res.sharpness_steps, [0, 100, 200, 300])
    # the tracked values are the dense top eigenvalues at those iterates (replayed here)
    theta = net.x0.copy()
    for _ in range(300):
        theta -= 0.02 * net.grad(theta)
    np.testing.assert_allclose(theta, res.theta, rtol=0, atol=0)
    assert res.sharpness[-1] == pytest.approx(np.linalg.eigvalsh(net.hessian(theta))[-1], rel=1e-10)
    power = eos.edge_of_stability(net, lr=0.02, steps=300, every=100, method="power", sharpness_iters=500)
    np.testing.assert_allclose(power.sharpness, res.sharpness, rtol=1e-5)


def test_divergence_stops_with_a_warning():
    net = nets.mlp(nets.moons(12, seed=0), widths=(6,), seed=0)
    with pytest.warns(lk.DivergenceWarning, match="not finite"):
        res = eos.edge_of_stability(net, lr=1e6, steps=50, every=5)
    assert res.steps < 50 and np.all(np.isfinite(res.loss))


@pytest.mark.parametrize("kwargs, match", [
    (dict(lr=0.0), "lr must be a finite number > 0"),
    (dict(lr=-0.1), "lr must be a finite number > 0"),
    (dict(lr="big"), "lr must be a finite number > 0"),
    (dict(steps=0), "steps must be an integer >= 1"),
    (dict(every=0), "every must be an integer >= 1"),
    (dict(method="arnoldi"), "unknown method 'arnoldi'"),
    (dict(x0=np.zeros(3)), r"x0 must be a finite vector of shape \(22,\)"),
])
def test_edge_of_stability_errors(kwargs, match):
    net = nets.mlp(nets.moons(8, seed=0), widths=(4,), seed=0)
    with pytest.raises(ValueError, match=match):
        eos.edge_of_stability(net, **kwargs)


def test_plot_draws_loss_and_the_two_over_eta_line(demo):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ax_loss, ax_sharp = demo.plot()
    assert ax_loss.get_yscale() == "log" and ax_sharp.get_xlabel() == "step"
    assert ax_loss.get_ylabel() and ax_sharp.get_ylabel()
    levels = [ln.get_ydata()[0] for ln in ax_sharp.get_lines() if ln.get_linestyle() == "--"]
    assert levels == [pytest.approx(demo.threshold)]
    plt.close("all")
    with pytest.raises(ValueError, match="two matplotlib axes"):
        demo.plot(axes=[ax_loss])


def test_summary_is_plain_numbers(demo):
    s = demo.summary()
    assert s["final_ratio"] == demo.final_ratio and s["n_increases"] == demo.n_increases
    assert all(v is None or isinstance(v, (int, float)) for v in s.values())


def test_band_constants_match_the_docstring_table_and_notebook_01():
    # The measured range is the docstring table's row "every tracked ratio, last quarter" (min/max
    # over the three learning rates), and RATIO_BAND contains it: prose and constants stay one set
    # of numbers.
    import re
    row = next(line for line in eos.edge_of_stability.__doc__.splitlines() if "every tracked ratio" in line)
    ranges = [tuple(map(float, m)) for m in re.findall(r"(\d\.\d+)-(\d\.\d+)", row)]
    assert (min(r[0] for r in ranges), max(r[1] for r in ranges)) == eos.LATE_RATIO_RANGE
    lo, hi = eos.RATIO_BAND
    assert lo <= eos.LATE_RATIO_RANGE[0] and eos.LATE_RATIO_RANGE[1] <= hi
    # notebook 01 names the constants instead of copying their numbers, and says "spirals" like the code
    import json
    from pathlib import Path
    nb = json.loads((Path(__file__).resolve().parents[1] / "notebooks" / "01_step_sizes.ipynb").read_text())
    text = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "moons" not in text and "spirals" in text
    assert "LATE_RATIO_RANGE" in text and "0.86" not in text and "1.07" not in text
