"""labkit.analysis: every closed-form stability formula checked against lk.run / lk.sweep trajectories."""
import warnings

import matplotlib
import numpy as np
import pytest

import labkit as lk
from labkit import analysis as an

matplotlib.use("Agg")

QUAD = lk.problems.quadratic(eigs=(1, 10), angle=0.3)
QUAD3 = lk.problems.quadratic(eigs=(0.5, 3.0, 20.0), basis_seed=1)
# Axis-aligned: the kernel's off-diagonal terms are exact zeros, so a direction excited alone stays alone
# in floating point and its decay can be followed down to 1e-200 (in QUAD3 round-off couples directions).
DIAG3 = lk.problems.quadratic(eigs=(0.5, 3.0, 20.0))
ROSEN = lk.problems.rosenbrock()


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lk.DivergenceWarning)
        return fn(*args, **kwargs)


def fitted_rates(problem, steps=1000, skip=20, window=60, **hp):
    """Per-direction linear rate measured on lk.run: start on c + u_i (only direction i excited) and
    fit the log-slope of the windowed RMS of |E_t,i| (windows average out complex-root oscillation).

    Starting on one eigenvector keeps the other directions at round-off (exactly zero on DIAG3), so a
    fast direction is not drowned by a slow one; windows where direction i is below 1e-10 of the whole
    error are dropped.  NaN where the direction dies out (e.g. rate 0) before 3 windows.
    """
    er = an.eigen_rates(problem, "sgd", **hp)
    rates = []
    for i in range(problem.dim):
        tr = lk.run(problem, "sgd", steps, problem.x_star + er.eigenvectors[:, i], **hp)
        E = an.error_split(tr)
        n = (E.shape[0] - skip) // window
        blocks = E[skip:skip + n * window].reshape(n, window, -1) ** 2
        rms = np.sqrt(np.mean(blocks[:, :, i], axis=1))
        total = np.sqrt(np.mean(blocks.sum(axis=2), axis=1))
        centres = skip + window * (np.arange(n) + 0.5)
        ok = (rms > 1e-200) & (rms > 1e-10 * total)
        rates.append(np.exp(np.polyfit(centres[ok], np.log(rms[ok]), 1)[0]) if ok.sum() >= 3 else np.nan)
    return np.array(rates)


# ----------------------------------------------------------------------------- plain GD

def test_gd_limit_from_problem_and_eigs():
    assert an.gd_stability_limit(QUAD) == pytest.approx(0.2, rel=1e-12)
    assert an.gd_stability_limit([10.0, 1.0]) == pytest.approx(0.2)
    assert an.gd_stability_limit(QUAD3) == pytest.approx(0.1, rel=1e-12)


@pytest.mark.parametrize("problem", [QUAD, QUAD3], ids=["2d", "3d"])
def test_gd_just_below_limit_decays_just_above_grows_exactly(problem):
    # Spec §14: along the top eigenvector the error scales by |1 - lr lam_max| each step, exactly.
    lam_max, T = np.linalg.eigvalsh(problem.hess(problem.x0))[-1], 2000
    limit = an.gd_stability_limit(problem)
    for factor in (1 - 5e-4, 1 + 5e-4):
        lr = factor * limit
        tr = quiet(lk.run, problem, "sgd", T, lr=lr)
        assert not tr.diverged
        E = an.error_split(tr)
        assert E.shape == (T + 1, problem.dim)
        ratio = abs(E[-1, -1] / E[0, -1])
        assert ratio == pytest.approx(abs(1 - lr * lam_max) ** T, rel=1e-6)
        assert (ratio < 1) == (factor < 1)
    # well above the limit the run blows up and is reported as diverged
    assert quiet(lk.run, problem, "sgd", 2000, lr=1.1 * limit).diverged


def test_gd_optimal_lr_rate_is_achieved_and_optimal():
    opt = an.gd_optimal_lr(QUAD3)
    kappa = 20.0 / 0.5
    assert opt.lr == pytest.approx(2 / 20.5) and opt.momentum == 0.0
    assert opt.rate == pytest.approx((kappa - 1) / (kappa + 1))
    er = an.eigen_rates(QUAD3, "sgd", lr=opt.lr)
    assert er.rates.max() == pytest.approx(opt.rate, rel=1e-12)
    np.testing.assert_allclose(fitted_rates(DIAG3, 400, lr=opt.lr)[[0, 2]], opt.rate, rtol=1e-6)  # extremes at rho*
    for lr in (0.95 * opt.lr, 1.05 * opt.lr):            # any other step is slower
        assert an.eigen_rates(QUAD3, "sgd", lr=lr).rates.max() > opt.rate


# ----------------------------------------------------------------------------- momentum

def test_spec_thresholds():
    # Spec §14: lr = 0.1, mu = 0.9 is stable up to lam_max = 38 (heavy ball), 13.571 (Nesterov).
    assert an.heavy_ball_limit([1.0, 38.0], 0.9) == pytest.approx(0.1)
    assert an.nesterov_limit([1.0, 38.0 / 2.8], 0.9) == pytest.approx(0.1)
    assert an.heavy_ball_limit(QUAD, 0.0) == an.gd_stability_limit(QUAD)


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("mu", [0.3, 0.6, 0.9])
def test_momentum_limit_against_runs(mu, nesterov):
    limit = (an.nesterov_limit if nesterov else an.heavy_ball_limit)(QUAD, mu)
    below = lk.run(QUAD, "sgd", 3000, lr=0.995 * limit, momentum=mu, nesterov=nesterov)
    above = quiet(lk.run, QUAD, "sgd", 3000, lr=1.005 * limit, momentum=mu, nesterov=nesterov)
    Eb, Ea = np.abs(an.error_split(below)), np.abs(an.error_split(above))
    assert not below.diverged and Eb[-1, 1] < 1e-3 * Eb[0, 1]
    assert above.diverged or Ea[-1, 1] > 1e3 * Ea[0, 1]
    # and the spectral radius crosses 1 exactly there
    rate = lambda lr: an.eigen_rates(QUAD, "sgd", lr=lr, momentum=mu, nesterov=nesterov).rates.max()
    assert rate(0.995 * limit) < 1 < rate(1.005 * limit)


@pytest.mark.parametrize("hp", [
    dict(lr=0.05),
    dict(lr=0.08),
    dict(lr=0.05, momentum=0.5),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.12, momentum=0.6),
    dict(lr=0.06, momentum=0.5, nesterov=True),
    dict(lr=0.03, momentum=0.8, nesterov=True),
    dict(lr=0.05, momentum=0.5, dampening=0.3),
], ids=str)
def test_eigen_rates_match_run_log_slopes(hp):
    er = an.eigen_rates(QUAD3, "sgd", **hp)
    assert np.all(er.rates < 1)
    np.testing.assert_allclose(er.eigenvalues, [0.5, 3.0, 20.0], rtol=1e-12)
    np.testing.assert_allclose(QUAD3.hess(QUAD3.x0) @ er.eigenvectors, er.eigenvectors * er.eigenvalues, atol=1e-12)
    fit = fitted_rates(DIAG3, **hp)
    ok = er.rates > 0.05                                 # a rate ~0 dies out at once: nothing to fit
    np.testing.assert_allclose(fit[ok], er.rates[ok], rtol=1e-3)
    # rotation-invariant. A rate that is 0 in exact arithmetic (lr = 0.05, lambda = 20: 1 - lr lambda)
    # comes out as a rounding residue of 1 - lr lambda: eigh's eigenvalues of the rotated matrix
    # are exact to a few ulps of ||A||, so the rate is exact to a few ulps of 1 + lr ||A||.
    scale = 1.0 + hp["lr"] * er.eigenvalues.max()
    np.testing.assert_allclose(an.eigen_rates(DIAG3, "sgd", **hp).rates, er.rates, rtol=1e-12,
                               atol=8 * np.finfo(float).eps * scale)
    # on the rotated problem the slowest direction (the one round-off cannot drown) is measured too
    assert fitted_rates(QUAD3, **hp)[0] == pytest.approx(er.rates[0], rel=1e-3)


@pytest.mark.parametrize("hp", [dict(momentum=0.7), dict(momentum=0.7, nesterov=True),
                                dict(momentum=0.7, dampening=0.5)], ids=str)
def test_run_obeys_characteristic_recurrence(hp):
    # After torch's first step (b_1 = g_1) each direction is a 2-state linear system with matrix M, so
    # its error obeys e_{t+1} = tr(M) e_t - det(M) e_{t-1} exactly (Cayley-Hamilton), for t >= 2.
    tr_ = lk.run(QUAD3, "sgd", 60, lr=0.05, **hp)
    E = an.error_split(tr_)
    for i, lam in enumerate(an.eigen_rates(QUAD3, "sgd", lr=0.05, **hp).eigenvalues):
        M = an.iteration_matrix(lam, 0.05, hp["momentum"], nesterov=hp.get("nesterov", False),
                                dampening=hp.get("dampening", 0.0))
        pred = np.trace(M) * E[2:-1, i] - np.linalg.det(M) * E[1:-2, i]
        np.testing.assert_allclose(E[3:, i], pred, rtol=0, atol=1e-13 * np.abs(E[:, i]).max())


def test_eigen_rates_rule_object_and_weight_decay():
    rule = lk.optim.sgd(lr=0.05, momentum=0.5)
    assert np.array_equal(an.eigen_rates(QUAD, rule).rates, an.eigen_rates(QUAD, "sgd", lr=0.05, momentum=0.5).rates)
    # weight decay shifts each eigenvalue by wd: same rates as the problem with A + wd I
    shifted = lk.problems.quadratic(eigs=(1.5, 10.5), angle=0.3)
    np.testing.assert_allclose(an.eigen_rates(QUAD, "sgd", lr=0.05, weight_decay=0.5).rates,
                               an.eigen_rates(shifted, "sgd", lr=0.05).rates, rtol=1e-12)


def test_iteration_matrix_is_one_torch_step():
    # from a state (e, b) with b != g, one step of the engine's sgd equals M (e, b) along each direction
    for nesterov, tau in ((False, 0.0), (False, 0.4), (True, 0.0)):
        lam, lr, mu = 7.0, 0.03, 0.8
        M = an.iteration_matrix(lam, lr, mu, nesterov=nesterov, dampening=tau)
        e, b = 0.7, -1.3
        b_new = mu * b + (1 - tau) * lam * e
        e_new = e - lr * ((lam * e + mu * b_new) if nesterov else b_new)
        np.testing.assert_allclose(M @ [e, b], [e_new, b_new], rtol=1e-14)


def test_polyak_optimal():
    opt = an.polyak_optimal(QUAD3)
    sk = np.sqrt(40.0)
    assert opt.lr == pytest.approx(4 / (np.sqrt(20) + np.sqrt(0.5)) ** 2)
    assert opt.momentum == pytest.approx(((sk - 1) / (sk + 1)) ** 2)
    assert opt.rate == pytest.approx(np.sqrt(opt.momentum))
    er = an.eigen_rates(QUAD3, "sgd", lr=opt.lr, momentum=opt.momentum)
    np.testing.assert_allclose(er.rates, opt.rate, rtol=1e-6)      # every direction at sqrt(mu*)
    assert opt.rate < an.gd_optimal_lr(QUAD3).rate
    # the middle direction (complex roots, no polynomial factor) decays at sqrt(mu*) in a real run
    fit = fitted_rates(DIAG3, lr=opt.lr, momentum=opt.momentum)
    assert fit[1] == pytest.approx(opt.rate, rel=1e-3)
    # near-optimal perturbations are slower
    for lr, mu in ((1.05 * opt.lr, opt.momentum), (opt.lr, opt.momentum - 0.02)):
        assert an.eigen_rates(QUAD3, "sgd", lr=lr, momentum=mu).rates.max() > opt.rate


def test_error_split_reconstructs_iterates():
    tr = lk.run(QUAD3, "sgd", 50, lr=0.05, momentum=0.5)
    E = an.error_split(tr)
    V = an.eigen_rates(QUAD3, "sgd", lr=0.05).eigenvectors
    np.testing.assert_allclose(E @ V.T + QUAD3.x_star, tr.xs, atol=1e-13)
    np.testing.assert_array_equal(an.error_split(tr.xs, QUAD3), E)


# ----------------------------------------------------------------------------- stability maps

def test_stability_map_matches_theory_and_sweep():
    lrs, mus = np.geomspace(0.01, 1.0, 40), np.linspace(0.0, 0.9, 19)
    m = quiet(an.stability_map, QUAD, "sgd", 1000, lr=lrs, momentum=mus)
    assert m.axes == ("lr", "momentum")
    assert m.f_final.shape == m.diverged.shape == m.steps_to_tol.shape == (19, 40)
    limit = (2 + 2 * mus[:, None]) / 10.0
    ratio = lrs[None, :] / limit
    assert not m.diverged[ratio < 0.99].any()
    assert m.diverged[ratio > 1.05].all()
    assert np.all(np.isnan(m.steps_to_tol[m.diverged]))
    np.testing.assert_allclose(m.boundary.lr, (2 + 2 * m.boundary.momentum) / 10.0)
    # one cell against lk.run
    i, j = 7, 11
    tr = lk.run(QUAD, "sgd", 1000, lr=lrs[j], momentum=mus[i])
    assert m.f_final[i, j] == tr.f[-1]
    # swapped axis order transposes the images
    m2 = quiet(an.stability_map, QUAD, "sgd", 1000, momentum=mus, lr=lrs)
    assert m2.axes == ("momentum", "lr")
    np.testing.assert_array_equal(m2.diverged, m.diverged.T)


def test_stability_map_nesterov_boundary_and_none():
    mus = np.linspace(0.1, 0.9, 9)
    m = quiet(an.stability_map, QUAD, "sgd", 500, lr=np.geomspace(0.01, 1, 30), momentum=mus, nesterov=True)
    np.testing.assert_allclose(m.boundary.lr, (2 + 2 * m.boundary.momentum) / ((1 + 2 * m.boundary.momentum) * 10))
    assert quiet(an.stability_map, ROSEN, "sgd", 50, lr=[1e-4, 1e-3], momentum=[0.0, 0.5]).boundary is None
    assert quiet(an.stability_map, QUAD, "adam", 50, lr=[1e-3, 1e-2], b1=[0.5, 0.9]).boundary is None


def test_stability_map_plot():
    import matplotlib.pyplot as plt
    m = quiet(an.stability_map, QUAD, "sgd", 300, lr=np.geomspace(0.01, 1, 20), momentum=np.linspace(0, 0.9, 10))
    ax = m.plot()
    assert ax.get_xscale() == "log" and ax.get_yscale() == "linear"
    assert ax.get_xlabel() == "lr" and ax.get_ylabel() == "momentum"
    assert len(ax.lines) == 1                              # the boundary
    assert len(ax.figure.axes) == 2                        # heatmap + colourbar
    ax2 = quiet(an.stability_map, QUAD, "sgd", 300, momentum=np.linspace(0, 0.9, 10),
                lr=np.geomspace(0.01, 1, 20)).plot(what="steps_to_tol")
    assert ax2.get_yscale() == "log"
    plt.close("all")


# ----------------------------------------------------------------------------- sharpness

def test_sharpness_constant_on_quadratic():
    tr = lk.run(QUAD3, "sgd", 200, lr=0.05)
    s = an.sharpness(QUAD3, tr, every=10)
    assert s.shape == (21,)
    np.testing.assert_allclose(s, 20.0, rtol=1e-12)


def test_sharpness_power_agrees_with_eigvalsh():
    x = ROSEN.x0
    exact = an.sharpness(ROSEN, x[None])[0]
    hvp = lambda x, v: ROSEN.hess(x) @ v
    assert an.sharpness_power(hvp, x, 200) == pytest.approx(exact, rel=1e-10)
    assert an.sharpness_power(ROSEN.hess, x, 200) == pytest.approx(exact, rel=1e-10)
    assert an.sharpness_power(ROSEN, x, 200) == pytest.approx(exact, rel=1e-10)
    # dominant eigenvalue negative: the shifted second pass still returns lambda_max
    assert an.sharpness_power(np.diag([-5.0, 1.0, 0.5]), np.zeros(3), 300) == pytest.approx(1.0, rel=1e-8)


def test_rosenbrock_sharpness_self_stabilises():
    # Verified numerically (documented, not a general theorem): Rosenbrock's sharpness is 2092 at x0
    # and 1001.6 at the minimiser.  With 2/lr between them GD reaches the minimiser; with 2/lr just
    # below 1001.6 it cannot, yet it does not diverge: it settles where the sharpness is ~2/lr
    # (an edge-of-stability-like equilibrium); lr = 0.0021 (2/lr = 952) diverges within 10 steps.
    s_min = an.sharpness(ROSEN, ROSEN.x_star[None])[0]
    for lr in (0.0015, 0.0019, 0.00201):
        tr = lk.run(ROSEN, "sgd", 20000, lr=lr)
        s = an.sharpness(ROSEN, tr, every=10)
        assert not tr.diverged and s[0] > 2 / lr
        assert s[-100:].max() <= 2 / lr * 1.01
        if 2 / lr > s_min:
            assert tr.f_final < 1e-8 and s[-1] == pytest.approx(s_min, rel=1e-3)
        else:
            assert tr.f_final > 1e-3 and s[-100:].mean() == pytest.approx(2 / lr, rel=0.01)
    assert quiet(lk.run, ROSEN, "sgd", 100, lr=0.0021).diverged


# ----------------------------------------------------------------------------- errors

def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="problem_or_eigs.*eigenvalues"):
        an.gd_stability_limit(ROSEN)
    with pytest.raises(ValueError, match="problem_or_eigs"):
        an.gd_stability_limit([[1.0, 2.0]])
    with pytest.raises(ValueError, match="problem_or_eigs"):
        an.gd_optimal_lr([-1.0, 2.0])
    with pytest.raises(ValueError, match="momentum"):
        an.heavy_ball_limit(QUAD, 1.0)
    with pytest.raises(ValueError, match="rule"):
        an.eigen_rates(QUAD, "adam", lr=0.01)
    with pytest.raises(ValueError, match="problem.*eigenvalues"):
        an.eigen_rates(ROSEN, "sgd", lr=0.01)
    with pytest.raises(ValueError, match="grids"):
        an.stability_map(QUAD, "sgd", 10, lr=[0.1, 0.2])
    with pytest.raises(ValueError, match="every"):
        an.sharpness(QUAD, QUAD.x0[None], every=0)
    with pytest.raises(ValueError, match="problem"):
        an.error_split(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="iters"):
        an.sharpness_power(QUAD, QUAD.x0, 0)


def test_public_functions_document_math_and_reference():
    for name in an.__all__:
        obj = getattr(an, name)
        if callable(obj) and not isinstance(obj, type):
            doc = obj.__doc__ or ""
            assert ":math:" in doc or ".. math::" in doc, name
            assert "References" in doc, name


def test_stability_map_does_not_warn_about_the_divergence_it_maps():
    import warnings
    q = lk.problems.quadratic(eigs=(1, 10))
    with warnings.catch_warnings():
        warnings.simplefilter("error", lk.DivergenceWarning)
        m = lk.analysis.stability_map(q, "sgd", 200, lr=np.geomspace(1e-2, 1, 8), momentum=[0.0, 0.5])
    assert m.diverged.any()


def test_stability_map_cell_reruns_the_sweeps_run():
    lrs, mus = np.geomspace(0.01, 1.0, 25), np.linspace(0.1, 0.9, 9)
    m = quiet(an.stability_map, QUAD, "sgd", 400, lr=lrs, momentum=mus, nesterov=True)
    assert m.cell(lrs[7] * 1.01, mus[3] + 0.01) == (3, 7)
    tr = m.run_cell(lrs[7] * 1.01, mus[3] + 0.01)
    assert tr.hyperparameters["lr"] == lrs[7] and tr.hyperparameters["momentum"] == mus[3]
    assert tr.hyperparameters["nesterov"]                      # the map's fixed settings come along
    assert tr.f[-1] == m.f_final[3, 7]                         # bit for bit the sweep's lane
    bad = an.StabilityMap(m.frame, m.axes, m.values, m.f_final, m.diverged, m.steps_to_tol, None)
    with pytest.raises(ValueError, match="does not know its problem"):
        bad.run_cell(0.1, 0.5)


@pytest.mark.parametrize("mu, nesterov", [(0.0, False), (0.5, False), (0.9, False), (0.5, True), (0.9, True)])
def test_divergence_threshold_matches_theory(mu, nesterov):
    theory = an.nesterov_limit(QUAD, mu) if nesterov else an.heavy_ball_limit(QUAD, mu)
    measured = an.divergence_threshold(QUAD, "sgd", 2000, lo=0.5 * theory, hi=1.5 * theory,
                                       momentum=mu, nesterov=nesterov)
    assert abs(measured / theory - 1) < 1e-3


def test_divergence_threshold_checks_its_bracket():
    with pytest.raises(ValueError, match="lo=.* is not stable"):
        an.divergence_threshold(QUAD, "sgd", 500, lo=0.3, hi=0.5)
    with pytest.raises(ValueError, match="hi=.* is stable"):
        an.divergence_threshold(QUAD, "sgd", 500, lo=0.01, hi=0.1)
    with pytest.raises(ValueError, match="0 < lo < hi"):
        an.divergence_threshold(QUAD, "sgd", 500, lo=0.2, hi=0.1)


def test_gd_just_inside_and_outside_two_over_lambda_max():
    """The exact statement behind the edge of stability: lr = (2 -/+ 1e-3)/λmax converges / diverges."""
    lam = 10.0
    slow = lk.run(QUAD, "sgd", 20_000, lr=(2 - 1e-3) / lam)
    fast = quiet(lk.run, QUAD, "sgd", 20_000, lr=(2 + 1e-3) / lam)
    f0 = QUAD.f(QUAD.x0)
    assert slow.f[-1] < 1e-6 * f0
    assert fast.diverged or fast.f[-1] > 1e6 * f0
