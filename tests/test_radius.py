"""lk.radius: the softmax Taylor radius (Sao 2026) against brute force, the binary formula, Taylor
agreement inside the radius, the controller's bound, the training loop against lk.run, the spike."""
import math

import numpy as np
import pytest

import labkit as lk
from labkit import radius as rad


@pytest.fixture(scope="module")
def soft():
    return lk.problems.softmax_regression(n=120, d=4, k=3, seed=1)


@pytest.fixture(scope="module")
def net():
    X, y = lk.nets.moons(40, 0.1, 0)
    return lk.nets.mlp((X, y), (8,), "tanh", "cross_entropy", 0)


def test_radius_vs_brute_force_softmax(soft):
    rng = np.random.default_rng(0)
    A, y = soft.extras["data"]
    x, v = rng.standard_normal(12), rng.standard_normal(12)
    R = rad.softmax_radius(soft, x, 3.0 * v)              # the length of direction does not matter
    u = v / np.linalg.norm(v)
    # explicit per-example directional logit derivatives: finite differences of the logits (exact: linear)
    a = np.array([(u.reshape(3, 4) @ A[i]) for i in range(len(A))])
    fd = (A @ (x + 1e-3 * u).reshape(3, 4).T - A @ x.reshape(3, 4).T) / 1e-3
    np.testing.assert_allclose(a, fd, rtol=1e-6, atol=1e-8)
    delta = max(a[i].max() - a[i].min() for i in range(len(A)))
    assert R.delta_a == pytest.approx(delta, rel=1e-14) and R.rho == pytest.approx(math.pi / delta, rel=1e-14)
    assert R.rho_binary is None
    assert rad.normalized_step(soft, x, 0.7 * u) == pytest.approx(0.7 * delta / math.pi, rel=1e-14)


def test_radius_mlp_jvp_vs_finite_differences(net):
    rng = np.random.default_rng(1)
    x, v = net.x0, rng.standard_normal(net.n_params)
    u = v / np.linalg.norm(v)
    h = 1e-6
    a = (net.predict(x + h * u) - net.predict(x - h * u)) / (2 * h)
    delta = np.max(a.max(1) - a.min(1))
    R = rad.softmax_radius(net, x, v)
    assert R.delta_a == pytest.approx(delta, rel=1e-6)
    assert rad.softmax_radius(net.problem(), x, v).rho == R.rho
    # two classes: the exact binary radius, min_i sqrt(delta_i^2 + pi^2) / |a_i1 - a_i2|
    z = net.predict(x)
    exact = np.min(np.sqrt((z[:, 0] - z[:, 1]) ** 2 + math.pi ** 2) / np.abs(a[:, 0] - a[:, 1]))
    assert R.rho_binary == pytest.approx(exact, rel=1e-6) and R.rho_binary >= R.rho


def test_binary_radius_formula_logistic():
    p = lk.problems.separable_logistic(50, 2, 0.1, 0)
    A, _ = p.extras["data"]
    x, v = np.array([0.3, -1.2]), np.array([1.0, 2.0])
    u = v / np.linalg.norm(v)
    R = rad.softmax_radius(p, x, v)
    assert R.delta_a == pytest.approx(np.max(np.abs(A @ u)), rel=1e-14)
    assert R.rho_binary == pytest.approx(np.min(np.sqrt((A @ x) ** 2 + math.pi ** 2) / np.abs(A @ u)), rel=1e-14)
    # At x = 0 (delta = 0) the bound is exact: the Taylor series breaks exactly at r = 1.
    tl = rad.taylor_line(p, np.zeros(2), -p.grad(np.zeros(2)), r=np.array([0.5, 0.9, 1.5]), orders=(40,))
    assert tl.rho_binary == pytest.approx(tl.rho, rel=1e-12)
    err = np.abs(tl.taylor[0] - tl.loss)
    assert err[0] < 1e-10 and err[1] < 1e-2 and err[2] > 1.0


def test_taylor_agrees_inside_the_radius(soft):
    x = soft.x0
    tl = rad.taylor_line(soft, x, -soft.grad(x), r=np.array([0.25, 0.5, 0.75]), orders=(4, 16, 32))
    err = np.abs(tl.taylor - tl.loss)
    assert np.all(err[-1] < 1e-4) and np.all(err[-1] <= err[0] + 1e-15)      # higher degree: closer
    # exact derivatives: degree-2 coefficients are the gradient and the Hessian along v
    g, H = soft.grad(x), soft.hess(x)
    v = -g / np.linalg.norm(g)
    t = 1e-3 * tl.rho
    q = soft.f(x) + t * g @ v + 0.5 * t * t * v @ H @ v
    tl2 = rad.taylor_line(soft, x, -g, r=np.array([1e-3]), orders=(2,))
    assert tl2.taylor[0, 0] == pytest.approx(q, rel=1e-13)


def test_training_loop_is_lk_run(soft):
    for rule, hp in [("sgd", dict(lr=0.5, momentum=0.9)), ("adam", dict(lr=0.05))]:
        tr = lk.run(soft, rule, 40, **hp)
        res = rad.train(soft, rule, 40, keep=True, **hp)
        np.testing.assert_allclose(res.xs, tr.xs, rtol=1e-12, atol=1e-14)


def test_controller_never_exceeds_rho_and_survives_spike(soft, net):
    sched = rad.spike(150, at=50, factor=1e4)
    for model, rule, lr in [(soft, "sgd", 0.5), (soft, "adam", 0.01), (net, "sgd", 0.5)]:
        ctl = rad.train(model, rule, 150, lr=lr, control="radius", schedule=sched)
        clip = rad.train(model, rule, 150, lr=lr, control="clip", max_norm=0.5, schedule=sched)
        assert np.all(ctl.r_taken <= 1.0 + 1e-12) and np.all(ctl.scale <= 1.0)
        assert ctl.r[50] > 10                                  # the spike proposed a step far past rho
        assert ctl.f_final < ctl.loss[50] * 1.01 and clip.f_final > 2 * ctl.f_final


def test_survey_no_blowup_below_one(soft):
    res = rad.train(soft, "sgd", 100, lr=0.5, keep=True)
    sv = rad.step_survey(soft, res.xs[::25])
    assert sv.min_r_blew_up > 1.0 and sv.max_r_decreased > 1.0
    # linear logits: each example's loss rises by at most pi r along a unit step of r rho_a
    assert np.all(sv.after - sv.before <= math.pi * sv.r + 1e-12)
    np.testing.assert_allclose(sv.rise_ratio, (sv.after - sv.before) / (math.pi * sv.r))


@pytest.mark.parametrize("seed", [1, 4, 9])
def test_rise_is_at_most_pi_r_for_linear_logits_in_every_direction(seed):
    # Softmax regression is convex along every line, so "no rise of a nat below r = 1" says
    # nothing there (it never rose by a nat within r <= 20); the bound that holds is rise <= pi r,
    # for every r and direction, random ones included.
    for model in (lk.problems.softmax_regression(n=200, d=5, k=3, seed=seed),
                  lk.problems.separable_logistic(n=100, d=2, margin=0.05, seed=seed)):
        pts = rad.train(model, "sgd", 60, lr=0.5, keep=True).xs[::20]
        sv = rad.step_survey(model, pts, n_random=4, seed=seed)
        assert sv.max_rise_ratio <= 1.0 + 1e-9
        assert sv.max_rise_ratio > 0.05                # and it is not slack by orders of magnitude


def test_bad_input(soft):
    with pytest.raises(ValueError, match="non-zero"):
        rad.softmax_radius(soft, soft.x0, np.zeros(12))
    with pytest.raises(ValueError, match="12 finite"):
        rad.softmax_radius(soft, soft.x0, np.ones(3))
    with pytest.raises(ValueError, match="cross_entropy"):
        rad.softmax_radius(lk.nets.mlp(loss="mse"), np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="softmax_radius takes"):
        rad.softmax_radius(lk.problems.quadratic(), np.zeros(2), np.ones(2))
    with pytest.raises(ValueError, match="control"):
        rad.train(soft, "sgd", 3, control="magic")
    with pytest.raises(ValueError, match="rule"):
        rad.train(soft, "lion", 3)
    with pytest.raises(ValueError, match="schedule"):
        rad.train(soft, "sgd", 3, schedule=[1.0])
