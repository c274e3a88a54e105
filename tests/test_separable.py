"""lk.separable: LR+GD at large step sizes against the batch perceptron (Tyurin 2024), the implicit
bias towards the max-margin direction (Soudry et al. 2018), and the max-margin solvers themselves."""
import itertools
import warnings

import numpy as np
import pytest

import labkit as lk
from labkit import separable as sep


@pytest.fixture(scope="module")
def prob():
    return lk.problems.separable_logistic(n=100, d=2, margin=0.05, seed=0)


def _brute_max_margin(Z, kmax):
    """The min-norm point of conv(rows of Z) by enumerating supports of size <= kmax (independent of Wolfe)."""
    best = None
    for k in range(1, kmax + 1):
        for S in itertools.combinations(range(len(Z)), k):
            P = Z[list(S)]
            K = np.zeros((k + 1, k + 1))
            K[:k, :k], K[:k, k], K[k, :k] = P @ P.T, 1.0, 1.0
            rhs = np.zeros(k + 1)
            rhs[k] = 1.0
            try:
                lam = np.linalg.solve(K, rhs)[:k]
            except np.linalg.LinAlgError:
                continue
            w = lam @ P
            if np.all(lam > 0) and np.min(Z @ w) >= (w @ w) * (1 - 1e-12) and (best is None or w @ w < best @ best):
                best = w
    return best / np.linalg.norm(best)


@pytest.mark.parametrize("n,d,margin,seed", [(40, 2, 0.1, 0), (40, 2, 0.01, 3), (30, 3, 0.05, 1), (25, 3, 0.2, 5)])
def test_max_margin_direction_to_1e8_in_angle(n, d, margin, seed):
    p = lk.problems.separable_logistic(n, d, margin, seed)
    A, y = p.extras["data"]
    u, _ = p.extras["max_margin"]
    assert sep.angle_to(u[None], _brute_max_margin(A * y[:, None], d))[0] < 1e-8


def test_blobs_max_margin_and_softmax_max_margin():
    p = lk.problems.blobs_logistic(std=0.3)
    A, y = p.extras["data"]
    assert sep.angle_to(p.extras["max_margin"][0][None], _brute_max_margin(A * y[:, None], 2))[0] < 1e-8
    # Multiclass (Crammer-Singer hard margin), added to softmax_regression(separable=True): a feasible,
    # locally optimal unit W whose margin is the minimum over (i, c != y_i).
    q = lk.problems.softmax_regression(n=60, d=3, k=3, separable=True)
    u, g = q.extras["max_margin"]
    A, y = q.extras["data"]
    Z = A @ u.reshape(3, 3).T
    marg = Z[np.arange(60), y] - np.max(np.where(np.eye(3)[y] > 0, -np.inf, Z), axis=1)
    assert np.linalg.norm(u) == pytest.approx(1.0, rel=1e-14) and np.min(marg) == pytest.approx(g, rel=1e-10)
    rng = np.random.default_rng(0)
    V = u + 1e-3 * rng.standard_normal((500, 9))
    V /= np.linalg.norm(V, axis=1, keepdims=True)
    for v in V:
        Zv = A @ v.reshape(3, 3).T
        assert np.min(Zv[np.arange(60), y] - np.max(np.where(np.eye(3)[y] > 0, -np.inf, Zv), axis=1)) <= g + 1e-12
    assert "max_margin" not in lk.problems.softmax_regression().extras     # overlapping: no max margin


def test_scaled_lr_gd_is_lk_run_sgd(prob):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lk.DivergenceWarning)
        tr = lk.run(prob, "sgd", 60, lr=10.0)
    path = sep.lr_gd(prob, 10.0, 60)
    np.testing.assert_allclose(path.xs[:len(tr.xs)], tr.xs, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(path.loss[:len(tr.f)], tr.f, rtol=1e-12, atol=1e-15)
    # gamma = 1e6: still the same iterates while lk.run's box (problem.bound) holds them
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lk.DivergenceWarning)
        big = lk.run(prob, "sgd", 20, lr=1e6)
    np.testing.assert_allclose(sep.lr_gd(prob, 1e6, 20).xs[:len(big.xs)], big.xs, rtol=1e-12, atol=1e-6)


def test_perceptron_agreement_and_separation(prob):
    sw = sep.large_step_sweep(prob, gammas=(0.1, 1.0, 10.0, 100.0, 1e4, 1e6), steps=400)
    # compared before separation only: steps 1..5, where the perceptron separates
    assert sw.window == sw.perceptron.separated_at == 5
    assert sw.agreement[-1] == 1.0 and sw.deviation[-1] < 1e-12       # gamma = 1e6: the batch perceptron
    assert sw.agreement[0] < 0.5 and sw.deviation[0] > 1.0             # gamma = 0.1: not it
    it = sw.iters_to_separation
    assert it[0] is None and it[1] == 269 and it[2] == 26 and it[3] == 4   # measured: fewer for larger gamma
    assert it[-1] == sw.perceptron.separated_at == 5                   # and in the limit, the perceptron's
    # ... while the loss is higher: at step 1 it grows with gamma once gamma >= 100
    assert np.all(np.diff(sw.loss[3:, 1]) > 0) and sw.loss[-1, 1] > 100
    # the perceptron's first step is (1/2n) sum y_i a_i
    Z = prob.extras["data"][0] * prob.extras["data"][1][:, None]
    np.testing.assert_allclose(sw.perceptron.w[1], Z.sum(0) / 200, rtol=1e-14)


def test_implicit_bias_angle_is_o_one_over_log_t(prob):
    ib = sep.implicit_bias(prob, gamma=0.1, steps=5000, points=30)
    assert ib.angle[-1] < 0.1 and np.all(ib.log_t_angle[ib.t >= 10] < 2.0)   # the notebook's LOG_T_BOUND
    assert np.all(ib.angle <= ib.angle_bound + 1e-12)
    assert np.all(np.diff(ib.margin[ib.t >= 3000]) > 0)                # the normalized margin rises towards mu


def test_angle_is_not_monotone_on_other_data():
    # A counterexample to "the angle falls monotonically": on seed 8 it dips to 4e-5 at t = 55 and
    # grows back to 8e-3 by t = 2e4, while theta_t log t stays bounded (Soudry et al. Thm 3 bounds
    # the residual, not its sign).
    p = lk.problems.separable_logistic(n=100, d=2, margin=0.05, seed=8)
    ib = sep.implicit_bias(p, gamma=1.0, steps=20_000, points=80)
    low = int(np.argmin(ib.angle))
    assert ib.t[low] < 100 and ib.angle[low] < 1e-4 and ib.angle[-1] > 50 * ib.angle[low]
    assert np.all(ib.log_t_angle[ib.t >= 10] < 2.0)
    assert np.all(ib.angle <= ib.angle_bound + 1e-12)


@pytest.mark.parametrize("kw", [dict(n=100, d=3, margin=0.1, seed=3), dict(n=200, d=2, margin=0.05, seed=11)],
                         ids=["seed3-d3", "seed11-n200"])
def test_perceptron_check_fails_at_small_gamma_even_when_step_one_separates(kw):
    # The audit's data where the first step separates: label agreement is 1 for every gamma, the
    # deviation of the iterates (step 2 is in the window) still tells gamma = 1 from the perceptron.
    p = lk.problems.separable_logistic(**kw)
    sw = sep.large_step_sweep(p, gammas=(1.0, 1e6), steps=50)
    assert sw.perceptron.separated_at == 1 and sw.window == 2
    assert sw.agreement.tolist() == [1.0, 1.0]
    assert sw.deviation[0] > 0.5 and sw.deviation[1] < 1e-12


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_first_step_loss_is_convex_with_linear_growth(seed):
    p = lk.problems.separable_logistic(n=100, d=2, margin=0.05, seed=seed)
    g = np.geomspace(0.1, 1e6, 30)
    fl = sep.first_step_loss(p, g)
    np.testing.assert_allclose(fl["loss"], sep.large_step_sweep(p, g, steps=1).loss[:, 1], rtol=1e-9)
    if fl["errors"]:
        k = int(np.argmin(fl["loss"]))
        assert np.all(np.diff(fl["loss"][k:]) > 0) and abs(fl["loss"][-1] / fl["asymptote"][-1] - 1) < 1e-6
    else:
        pos = fl["loss"] > 0                                         # exp underflows to 0 for large gamma
        assert np.all(np.diff(fl["loss"][pos]) < 0) and np.all(np.diff(fl["loss"]) <= 0) and fl["slope"] == 0.0


def test_margin_angle_bound_is_exact_on_random_directions(prob):
    u, mu = prob.extras["max_margin"]
    Z = prob.extras["data"][0] * prob.extras["data"][1][:, None]
    rng = np.random.default_rng(0)
    V = u + 0.3 * rng.standard_normal((2000, 2))
    V /= np.linalg.norm(V, axis=1, keepdims=True)
    marg = np.min(V @ Z.T, axis=1)
    ok = marg > 0
    assert ok.sum() > 100
    assert np.all(sep.angle_to(V[ok], u) <= sep.margin_angle_bound(marg[ok], mu) + 1e-12)
    assert np.all(sep.margin_angle_bound(-marg[ok], mu) == np.pi)


def test_methods_against_lk_run(prob):
    # The direct loops take the same steps as the lk rules: check the separation step on the rules' paths.
    for method in ("normalized_lr_gd", "loss_adaptive_gd"):
        k = sep.steps_to_separation(prob, method, 1.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", lk.DivergenceWarning)
            tr = lk.run(prob, method, k + 2, lr=1.0)
        A, y = prob.extras["data"]
        sep_rows = np.all((tr.xs @ (A * y[:, None]).T) > 0, axis=1)
        assert int(np.argmax(sep_rows)) == k
    assert sep.steps_to_separation(prob, "normalized_lr_gd", 1.0) < sep.tyurin_bounds(prob, 1.0)["normalized_lr_gd"]
    assert sep.steps_to_separation(prob, "perceptron", 1.0) < sep.tyurin_bounds(prob, 1.0)["perceptron"]


def test_bad_input(prob):
    with pytest.raises(ValueError, match="gamma"):
        sep.lr_gd(prob, -1.0)
    with pytest.raises(ValueError, match="steps"):
        sep.lr_gd(prob, 1.0, 0)
    with pytest.raises(ValueError, match="method"):
        sep.steps_to_separation(prob, "adam", 1.0)
    with pytest.raises(ValueError, match="binary logistic|data"):
        sep.lr_gd(lk.problems.softmax_regression(), 1.0)
    with pytest.raises(ValueError, match="max_margin"):
        sep.implicit_bias(lk.problems.blobs_logistic(), 0.1, 10)
