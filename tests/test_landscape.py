"""lk.landscape: basins agree with single runs, filter normalisation, exact slices and projections, rescaling."""
import warnings

import numpy as np
import pytest

import labkit as lk
from labkit import landscape as ls


@pytest.fixture(scope="module")
def himmelblau_basins():
    return ls.basins(lk.problems.himmelblau(), "sgd", 300, n=24, lr=0.01)


@pytest.fixture(scope="module")
def relu_net():
    return lk.nets.mlp(lk.nets.moons(30, seed=1), widths=(8, 6), activation="relu", seed=2)


def test_basin_labels_match_single_runs(himmelblau_basins):
    b = himmelblau_basins
    p = b.problem
    n = len(b.xs)
    rng = np.random.default_rng(0)
    cells = [(0, 0), (n - 1, n - 1), (n // 2, n // 3)] + [tuple(rng.integers(0, n, 2)) for _ in range(12)]
    for j, i in cells:
        x0 = np.array([b.xs[i], b.ys[j]])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", lk.DivergenceWarning)
            tr = lk.run(p, "sgd", 300, x0, lr=0.01)
        np.testing.assert_allclose(b.x_final[j, i], tr.x_final, rtol=0, atol=1e-12)
        d = np.linalg.norm(b.minima - tr.x_final, axis=1)
        k = int(np.argmin(d))
        assert b.labels[j, i] == (k if d[k] <= b.radius else b.labels[j, i])
        if d[k] <= b.radius:
            assert b.dist[j, i] == pytest.approx(d[k], abs=1e-15)


def test_basin_fractions(himmelblau_basins):
    fr = himmelblau_basins.fractions
    assert sum(fr.values()) == pytest.approx(1.0, abs=1e-12)
    assert set(fr) >= {"diverged", "saddle/stuck", "other minimum"}
    # GD at lr = 0.01 on Himmelblau: every start reaches one of the four minima, each basin a real share.
    minima = [v for k, v in fr.items() if k.startswith("min ")]
    assert len(minima) == 4 and sum(minima) == pytest.approx(1.0) and min(minima) > 0.1
    assert max(himmelblau_basins.max_dist().values()) < 1e-9


def test_basins_stuck_and_diverged():
    p = lk.problems.himmelblau()
    b = ls.basins(p, "sgd", 200, n=12, lr=0.02)        # above 2/lambda_max at two minima: a 2-cycle there
    assert b.fractions["saddle/stuck"] > 0.1
    b = ls.basins(p, "sgd", 50, n=8, lr=1.0)
    assert b.fractions["diverged"] > 0.9
    assert np.all(np.isnan(b.dist[b.labels == ls.DIVERGED]))
    # Rastrigin lists only x*: the other local minima are found by their gradient and Hessian.
    r = ls.basins(lk.problems.rastrigin(), "sgd", 500, n=15, lr=0.002)
    assert r.fractions["other minimum"] > 0.5


def test_basins_plot_has_distinct_grey_levels(himmelblau_basins):
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.colors import to_rgb
    ax = himmelblau_basins.plot()
    assert ax.get_legend() is not None
    cols = ls._category_colors(7)
    grey = [0.299 * r + 0.587 * g + 0.114 * b for r, g, b in map(to_rgb, cols)]
    assert np.all(np.diff(grey) > 0.04)        # lightness strictly increases: readable in greyscale
    import matplotlib.pyplot as plt
    plt.close("all")


def test_hessian_and_gradient_field():
    p = lk.problems.himmelblau()
    c = ls.hessian_at(p, [3.0, 2.0])
    np.testing.assert_allclose(c.hessian, p.hess(np.array([3.0, 2.0])))
    np.testing.assert_allclose(c.hessian @ c.vectors, c.vectors * c.values, atol=1e-10)
    assert c.kind == "minimum" and ls.hessian_at(p, [0.0, 0.0]).kind == "maximum"
    assert ls.hessian_at(lk.problems.saddle(), [0.0, 0.0]).kind == "saddle"
    # no analytic Hessian: finite differences
    q = lk.problems.softmax_regression(n=30, d=2, k=2)
    q2 = lk.Problem(name="fd", f=q.f, grad=q.grad, x0=q.x0)
    np.testing.assert_allclose(ls.hessian_at(q2, q.x0).hessian, q.hess(q.x0), atol=1e-6)
    g = ls.gradient_field(p, 7)
    np.testing.assert_allclose(g.U[2, 3], p.grad(np.array([g.X[2, 3], g.Y[2, 3]]))[0])


def test_filter_normalisation(relu_net):
    net, c = relu_net, relu_net.x0
    D = ls.random_directions(net, c, seed=3)
    assert D.shape == (2, net.n_params)
    for d in D:
        for blk_d, blk_w in zip(net.unflatten(d), net.unflatten(c)):
            if blk_d.ndim == 2:        # every filter (row: one neuron's incoming weights) has its weights' norm
                np.testing.assert_allclose(np.linalg.norm(blk_d, axis=1), np.linalg.norm(blk_w, axis=1), rtol=1e-12)
            else:                      # biases: not moved (Li et al.'s plots, --xignore biasbn)
                assert np.all(blk_d == 0)
    Dw = ls.random_directions(net, c, seed=3, bias="weights")
    for blk_d, blk_w in zip(net.unflatten(Dw[0]), net.unflatten(c)):
        if blk_d.ndim == 1:
            np.testing.assert_array_equal(blk_d, blk_w)
    # The same Gaussian draw under every normalisation; filter_normalize=False is the raw draw.
    raw = ls.random_directions(net, c, seed=3, filter_normalize=False)
    assert np.all(np.sign(raw[0][D[0] != 0]) == np.sign(D[0][D[0] != 0]))
    assert not np.allclose(ls.random_directions(net, c, seed=4), D)
    # A plain vector is one filter; a Problem with a matrix block normalises its rows.
    r = lk.problems.rosenbrock_nd(10)
    d = ls.random_directions(r, r.x_star, seed=0, n=1)[0]
    assert np.linalg.norm(d) == pytest.approx(np.linalg.norm(r.x_star))
    s = lk.problems.softmax_regression(n=30, d=4, k=3)
    d = ls.random_directions(s, s.x0, seed=0)[0].reshape(3, 4)
    np.testing.assert_allclose(np.linalg.norm(d, axis=1), np.linalg.norm(s.x0.reshape(3, 4), axis=1))
    u = ls.random_directions(5, seed=0, n=3)
    np.testing.assert_allclose(np.linalg.norm(u, axis=1), 1.0)


def test_slice_centre_and_rows(relu_net):
    net, c = relu_net, relu_net.x0
    d1, d2 = ls.random_directions(net, c, seed=0)
    s = ls.slice_2d(net, c, d1, d2, span=0.8, n=9, chunk=16)
    assert s.alphas[4] == 0.0 and s.betas[4] == 0.0
    assert s.center_loss == net.f(c)                       # exactly the model's loss
    for j in (0, 3, 8):
        row = [net.f(c + a * d1 + s.betas[j] * d2) for a in s.alphas]
        np.testing.assert_allclose(s.loss[j], row, rtol=1e-13, atol=0)
    # a Problem: vectorised f
    p = lk.problems.rosenbrock_nd(6)
    e1, e2 = ls.random_directions(p, p.x_star, seed=1)
    sp = ls.slice_2d(p, p.x_star, e1, e2, span=0.5, n=7)
    assert sp.center_loss == p.f(p.x_star)
    np.testing.assert_array_equal(sp.loss[2], [p.f(p.x_star + a * e1 + sp.betas[2] * e2) for a in sp.alphas])
    it = ls.interpolate_1d(net, c, c + d1, n=5, span=(0.0, 1.0))
    assert it.loss[0] == net.f(c)


def test_project_path_recovers_plane_points():
    rng = np.random.default_rng(0)
    c, d1, d2 = rng.standard_normal((3, 50))
    ab = rng.standard_normal((20, 2)) * 3
    proj = ls.project_path(c + ab @ np.stack([d1, d2]), c, d1, d2)
    np.testing.assert_allclose(proj.coords, ab, rtol=1e-12, atol=1e-12)
    assert np.max(proj.residual) < 1e-12
    off = rng.standard_normal(50)
    off -= np.stack([d1, d2]).T @ np.linalg.lstsq(np.stack([d1, d2]).T, off, rcond=None)[0]
    assert ls.project_path(c[None] + off, c, d1, d2).residual[0] == pytest.approx(np.linalg.norm(off))
    # plane_through: both points lie on the plane
    a, b = rng.standard_normal((2, 50))
    e1, e2 = ls.plane_through(c, a, b)
    assert np.max(ls.project_path(np.stack([a, b]), c, e1, e2).residual) < 1e-12


def test_pca_plane():
    t = np.linspace(0, 1, 40)[:, None]
    rng = np.random.default_rng(0)
    u, v = np.linalg.qr(rng.standard_normal((30, 2)))[0].T
    path = 5 * t * u + 0.3 * np.sin(6 * t) * v + 1.0           # a curved path in the plane of u and v
    pl = ls.pca_plane(path)
    assert pl.explained.sum() == pytest.approx(1.0)
    basis = np.stack([pl.d1, pl.d2])
    np.testing.assert_allclose(np.linalg.norm(basis @ np.stack([u, v]).T, axis=0), 1.0, atol=1e-10)
    assert pl.explained[0] > 0.99
    np.testing.assert_allclose(pl.coords[-1], 0.0, atol=1e-12)


def test_rescaling_invariance(relu_net):
    net = relu_net
    c2 = ls.rescale_layers(net, net.x0, 0, 7.0)
    assert net.f(c2) == pytest.approx(net.f(net.x0), rel=1e-13)
    np.testing.assert_allclose(net.predict(c2), net.predict(net.x0), rtol=1e-12, atol=1e-13)
    demo = ls.rescaling_demo(net, net.x0, alpha=7.0, layer=1, n=7)
    assert demo.max_diff_filtered < 1e-10
    assert demo.max_diff_raw > 1e-2
    assert demo.function_change < 1e-12


def test_optimizers_run_on_the_net():
    net = lk.nets.mlp(lk.nets.moons(20), widths=(4,), activation="tanh")
    p = net.problem()
    for rule, lr in (("sgd", 0.5), ("adam", 0.02)):
        tr = lk.run(p, rule, 30, lr=lr)
        assert tr.xs.shape == (31, net.n_params) and tr.f[-1] < tr.f[0]
        assert ls.project_path(tr, net.x0, *ls.random_directions(net, net.x0)).coords.shape == (31, 2)


def test_bad_input(relu_net):
    net = relu_net
    with pytest.raises(ValueError, match="2-D"):
        ls.basins(lk.problems.rosenbrock_nd(3), "sgd", 10, n=4, lr=0.01)
    with pytest.raises(ValueError, match="n must"):
        ls.basins(lk.problems.himmelblau(), "sgd", 10, n=1, lr=0.01)
    with pytest.raises(ValueError, match="hyperparameter"):
        ls.basins(lk.problems.himmelblau(), "sgd", 10, n=4, bogus=1)
    with pytest.raises(ValueError, match="normalize"):
        ls.random_directions(net, net.x0, normalize="batch")
    with pytest.raises(ValueError, match="center"):
        ls.random_directions(net, np.zeros(3))
    with pytest.raises(ValueError, match="d1 and d2"):
        ls.slice_2d(net, net.x0, np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="span"):
        ls.slice_2d(net, net.x0, net.x0, net.x0, span=-1)
    with pytest.raises(ValueError, match="parallel"):
        ls.project_path(np.zeros((2, 3)), np.zeros(3), np.ones(3), 2 * np.ones(3))
    with pytest.raises(ValueError, match="ReLU"):
        ls.rescaling_demo(lk.nets.mlp(widths=(3,)), lk.nets.mlp(widths=(3,)).x0)
    with pytest.raises(ValueError, match="layer"):
        ls.rescale_layers(net, net.x0, 2, 2.0)
    with pytest.raises(ValueError, match="alpha"):
        ls.rescale_layers(net, net.x0, 0, -1.0)
    with pytest.raises(ValueError, match="linearly dependent"):
        ls.plane_through(np.zeros(3), np.ones(3), 2 * np.ones(3))
