"""Behaviour of ``lk.run`` and ``lk.sweep``: validation, divergence, run/sweep equivalence,
noise (common random numbers), schedules, user-defined problems and the progress bar."""
import itertools
import warnings

import numpy as np
import pandas as pd
import pytest

import labkit as lk

QUAD = lk.problems.quadratic(eigs=(1, 10), angle=0.3)
ROSEN = lk.problems.rosenbrock()


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lk.DivergenceWarning)
        return fn(*args, **kwargs)


def x_final(row_or_df, d=2):
    cols = [f"x_final_{i}" for i in range(d)]
    if isinstance(row_or_df, pd.DataFrame):
        return row_or_df[cols].to_numpy()
    return np.array([row_or_df[c] for c in cols])


def assert_row_equals_run(row, tr, problem):
    """A sweep row and the run with the same settings agree bit for bit."""
    assert bool(row["diverged"]) == tr.diverged
    assert row["f_final"] == tr.f[-1]                       # last finite loss, also for diverged lanes
    if tr.diverged:
        assert row["diverged_at"] == tr.diverged_at
        assert np.all(np.isnan(x_final(row, problem.dim)))
        assert np.isfinite(row["f_final"])
    else:
        assert row["diverged_at"] is pd.NA
        np.testing.assert_array_equal(x_final(row, problem.dim), tr.xs[-1])
        assert row["dist_to_x_star"] == pytest.approx(np.linalg.norm(tr.xs[-1] - problem.x_star), rel=1e-15)


# ============================================================================= validation

@pytest.mark.parametrize("lr", [-1.0, 0.0, 0, float("nan"), float("inf"), -float("inf"), "fast"])
def test_bad_lr_names_argument_and_range(lr):
    for call in (lambda: lk.run(QUAD, "sgd", 5, lr=lr), lambda: lk.optim.adam(lr=lr),
                 lambda: lk.run(QUAD, lk.optim.adam(), 5, lr=lr), lambda: lk.sweep(QUAD, "adam", 5, lr=lr)):
        with pytest.raises(ValueError, match=r"\blr\b.*(\(0, inf\)|number)"):
            call()


@pytest.mark.parametrize("rule, key, value", [
    ("adam", "b1", 1), ("adam", "b1", 1.0), ("adam", "b2", -0.1), ("adamw", "b2", 1.0), ("sgd", "momentum", 1.0),
    ("sgd", "momentum", -0.5), ("rmsprop", "alpha", 1.0), ("rmsprop", "momentum", 1.0), ("lion", "b1", 1.5),
    ("signum", "momentum", 1.0)])
def test_betas_outside_unit_interval_rejected(rule, key, value):
    with pytest.raises(ValueError, match=rf"{key} .*\[0, 1\)"):
        lk.run(QUAD, rule, 5, lr=1e-3, **{key: value})
    with pytest.raises(ValueError, match=rf"{key} .*\[0, 1\)"):
        lk.sweep(QUAD, rule, 5, lr=[1e-3], **{key: [0.5, value]})


@pytest.mark.parametrize("typo, meant", [("adma", "adam"), ("Adam", "adam"), ("sgdd", "sgd"), ("RMSprop", "rmsprop"),
                                         ("SGD", "sgd")])
def test_unknown_rule_suggests_the_closest(typo, meant):
    for call in (lambda: lk.run(QUAD, typo, 5), lambda: lk.sweep(QUAD, typo, 5), lambda: lk.optim.get(typo)):
        with pytest.raises(ValueError, match=rf"unknown optimizer '{typo}'.*Did you mean.*'{meant}'"):
            call()


@pytest.mark.parametrize("how", ["name", "rule", "replace", "sweep"])
def test_unknown_hyperparameter_is_a_value_error(how):
    calls = {
        "name": lambda: lk.run(QUAD, "adam", 5, beta1=0.9),
        "rule": lambda: lk.run(QUAD, lk.optim.adam(lr=0.01), 5, beta1=0.9),
        "replace": lambda: lk.optim.adam().replace(beta1=0.9),
        "sweep": lambda: lk.sweep(QUAD, "adam", 5, beta1=[0.9]),
    }
    with pytest.raises(ValueError, match="beta1"):
        calls[how]()


def test_unknown_hyperparameter_suggests_the_closest():
    with pytest.raises(ValueError, match=r"'beta1'.*'b1'"):
        lk.run(QUAD, "adam", 5, beta1=0.9)


@pytest.mark.parametrize("x0", [[1.0, 2.0, 3.0], [1.0], [[1.0, 2.0]], [1.0, float("nan")]])
def test_run_x0_of_wrong_shape_or_not_finite(x0):
    with pytest.raises(ValueError, match=r"x0 must (have shape \(2,\)|be finite)"):
        lk.run(QUAD, "sgd", 5, x0=x0)


@pytest.mark.parametrize("x0", [np.zeros((3, 3)), np.zeros((0, 2)), np.zeros((2, 2, 2)), [[0.0, np.inf]]])
def test_sweep_x0_of_wrong_shape_or_not_finite(x0):
    with pytest.raises(ValueError, match=r"x0 must (have shape \(2,\) or \(n, 2\)|be finite)"):
        lk.sweep(QUAD, "sgd", 5, x0=x0)


@pytest.mark.parametrize("steps", [1.5, 10.0, -1, "10", True, None])
def test_steps_must_be_a_non_negative_integer(steps):
    with pytest.raises(ValueError, match=r"steps must be an integer >= 0"):
        lk.run(QUAD, "sgd", steps)
    with pytest.raises(ValueError, match=r"steps must be an integer >= 0"):
        lk.sweep(QUAD, "sgd", steps)


def test_numpy_integer_steps_accepted():
    assert len(lk.run(QUAD, "sgd", np.int64(7), lr=0.01).xs) == 8
    assert lk.sweep(QUAD, "sgd", np.int32(7), lr=0.01).attrs["steps"] == 7


def test_sweep_grid_of_a_non_hyperparameter():
    with pytest.raises(ValueError, match=r"'b1' is not a hyperparameter of sgd.*momentum"):
        lk.sweep(QUAD, "sgd", 5, b1=[0.1, 0.2])
    with pytest.raises(ValueError, match=r"'noise' is not a hyperparameter"):
        lk.sweep(QUAD, "sgd", 5, lr=[0.1], noise=[0.0, 0.1])


@pytest.mark.parametrize("grid", [[0.1, 0.0], [0.1, -1.0], [float("nan")], [0.1, float("inf")]])
def test_sweep_lr_grid_must_be_positive(grid):
    with pytest.raises(ValueError, match=r"\blr\b.*> 0"):
        lk.sweep(QUAD, "adam", 5, lr=grid)


def test_sweep_grid_must_be_1d_and_non_empty():
    with pytest.raises(ValueError, match=r"grid 'lr'"):
        lk.sweep(QUAD, "adam", 5, lr=[])
    with pytest.raises(ValueError, match=r"grid 'lr'"):
        lk.sweep(QUAD, "adam", 5, lr=[[0.1, 0.2]])


def test_nesterov_needs_momentum():
    for call in (lambda: lk.optim.sgd(nesterov=True), lambda: lk.run(QUAD, "sgd", 5, nesterov=True),
                 lambda: lk.optim.sgd(momentum=0.9, dampening=0.5, nesterov=True),
                 lambda: lk.sweep(QUAD, "sgd", 5, nesterov=[False, True])):
        with pytest.raises(ValueError, match=r"nesterov.*momentum"):
            call()
    assert lk.optim.sgd(momentum=0.9, nesterov=True).hyperparameters["nesterov"] is True


# ============================================================================= divergence

def _is_bad(problem, x):
    """The engine's divergence test at one point."""
    f, g = problem.f(x), problem.grad(x)
    return not (abs(f) <= 1e300 and np.linalg.norm(g) <= 1e300 and np.max(np.abs(x)) <= problem.bound)


def test_sgd_diverges_on_rosenbrock_without_nan_or_exception():
    with pytest.warns(lk.DivergenceWarning, match="diverged"):
        tr = lk.run(ROSEN, "sgd", 1000, lr=0.1)
    assert tr.diverged is True
    assert tr.diverged_at == len(tr.xs) == len(tr.f) == len(tr.grad_norm)
    assert 1 <= tr.diverged_at <= 1000
    for name, arr in [("xs", tr.xs), ("f", tr.f), ("grad_norm", tr.grad_norm), ("step_norm", tr.step_norm)]:
        assert np.all(np.isfinite(arr)), f"{name} has non-finite values"
    assert len(tr.step_norm) == len(tr.xs) - 1
    # It stopped exactly at the first bad iterate: every kept point is fine, the next SGD step is not.
    assert not any(_is_bad(ROSEN, x) for x in tr.xs)
    assert _is_bad(ROSEN, tr.xs[-1] - 0.1 * ROSEN.grad(tr.xs[-1]))
    assert "diverged" in repr(tr)
    assert len(tr.to_frame()) == len(tr.xs)


def test_no_warning_when_nothing_diverges():
    with warnings.catch_warnings():
        warnings.simplefilter("error", lk.DivergenceWarning)
        tr = lk.run(ROSEN, "sgd", 200, lr=1e-3)
        lk.sweep(ROSEN, "sgd", 200, lr=[1e-4, 1e-3])
    assert not tr.diverged and tr.diverged_at is None


@pytest.mark.parametrize("eigs", [(1.0, 10.0), (0.5, 4.0), (2.0, 50.0)])
def test_gd_on_a_quadratic_is_stable_exactly_below_two_over_lambda_max(eigs):
    q = lk.problems.quadratic(eigs=eigs, angle=0.3)
    lam = max(eigs)
    stable, unstable = (2 - 1e-3) / lam, (2 + 1e-3) / lam
    steps = 20_000          # |1 - lr lam| = 1 -+ 1e-3: 0.999**2e4 ~ 2e-9, 1.001**2e4 ~ 5e8
    tr = lk.run(q, "sgd", steps, lr=stable)
    assert not tr.diverged
    assert tr.f[-1] <= 1e-12
    assert np.all(np.diff(tr.f) <= 0), "GD below 2/lambda_max decreases f monotonically on a quadratic"
    with pytest.warns(lk.DivergenceWarning):
        bad = lk.run(q, "sgd", steps, lr=unstable)
    assert bad.diverged and bad.diverged_at < steps
    with pytest.warns(lk.DivergenceWarning, match="1 of 2 runs"):
        df = lk.sweep(q, "sgd", steps, lr=[stable, unstable])
    assert df["diverged"].tolist() == [False, True]
    assert df["diverged_at"][1] == bad.diverged_at


# ============================================================================= sweep == run

def test_sweep_rows_equal_runs_adam_lr_grid():
    lrs = np.logspace(-3, -0.5, 16)
    df = quiet(lk.sweep, ROSEN, "adam", 500, lr=lrs)
    assert len(df) == 16
    assert sorted(df["lr"]) == sorted(lrs)
    for _, row in df.iterrows():
        assert_row_equals_run(row, quiet(lk.run, ROSEN, "adam", 500, lr=row["lr"]), ROSEN)


def test_sweep_rows_equal_runs_sgd_lr_by_momentum():
    # 70 lrs per momentum: more than one 64-lane block per combo, several threads; some lanes diverge.
    lrs = np.logspace(-5, -2.3, 70)
    with pytest.warns(lk.DivergenceWarning):
        df = lk.sweep(ROSEN, "sgd", 400, lr=lrs, momentum=[0.0, 0.5, 0.9])
    assert len(df) == 210
    assert df["diverged"].any() and not df["diverged"].all()
    for _, row in df.iterrows():
        tr = quiet(lk.run, ROSEN, "sgd", 400, lr=row["lr"], momentum=row["momentum"])
        assert_row_equals_run(row, tr, ROSEN)


def test_sweep_with_a_rule_object_and_fixed_values():
    base = lk.optim.sgd(lr=1e-3, momentum=0.5, nesterov=True)
    df = lk.sweep(ROSEN, base, 300, lr=[1e-4, 5e-4])
    assert "momentum" not in df.columns and "nesterov" not in df.columns
    for _, row in df.iterrows():
        assert_row_equals_run(row, lk.run(ROSEN, base.replace(lr=row["lr"]), 300), ROSEN)
    df = lk.sweep(ROSEN, "sgd", 300, lr=[1e-4, 5e-4], momentum=0.5)        # a scalar is fixed, not an axis
    assert "momentum" not in df.columns and df.attrs["fixed"]["momentum"] == 0.5
    for _, row in df.iterrows():
        assert_row_equals_run(row, lk.run(ROSEN, "sgd", 300, lr=row["lr"], momentum=0.5), ROSEN)


def test_sweep_grid_columns_and_cartesian_product():
    starts = np.array([[-1.5, 2.0], [0.0, 0.0], [1.2, 1.2]])
    lrs, moms, seeds = [1e-4, 2e-4, 5e-4, 1e-3], [0.0, 0.9], [1, 2]
    p = ROSEN.with_noise(0.01)
    df = quiet(lk.sweep, p, "sgd", 30, x0=starts, lr=lrs, momentum=moms, seed=seeds)
    assert list(df.columns) == ["momentum", "lr", "x0_0", "x0_1", "seed", "f_final", "dist_to_x_star",
                                "steps_to_tol", "diverged", "diverged_at", "x_final_0", "x_final_1"]
    assert len(df) == len(lrs) * len(starts) * len(moms) * len(seeds)
    got = list(zip(df["momentum"], df["lr"], df["x0_0"], df["x0_1"], df["seed"]))
    want = [(m, lr, a, b, s) for m, lr, (a, b), s in itertools.product(moms, lrs, starts, seeds)]
    assert sorted(got) == sorted(want)
    assert df["steps_to_tol"].dtype == "Int64" and df["diverged_at"].dtype == "Int64"
    assert df["diverged"].dtype == bool
    # Each row is the run from its own start point with its own seed.
    for i in (0, 17, len(df) - 1):
        row = df.iloc[i]
        tr = quiet(lk.run, p.with_noise(0.01, int(row["seed"])), "sgd", 30, x0=[row["x0_0"], row["x0_1"]],
                   lr=row["lr"], momentum=row["momentum"])
        assert_row_equals_run(row, tr, ROSEN)


def test_sweep_columns_without_start_or_seed_axes():
    df = lk.sweep(QUAD, "adam", 10, lr=[0.01, 0.02])
    assert list(df.columns) == ["lr", "f_final", "dist_to_x_star", "steps_to_tol", "diverged", "diverged_at",
                                "x_final_0", "x_final_1"]
    df = lk.sweep(QUAD, "adam", 10, x0=[1.0, 1.0], lr=[0.01, 0.02])       # one explicit start: shown
    assert {"x0_0", "x0_1"} <= set(df.columns) and len(df) == 2
    assert_row_equals_run(df.iloc[1], lk.run(QUAD, "adam", 10, x0=[1.0, 1.0], lr=0.02), QUAD)


def test_steps_to_tol_is_the_first_step_within_tol():
    tol = 1e-6
    df = lk.sweep(QUAD, "sgd", 150, tol=tol, lr=[1e-3, 0.01, 0.05, 0.15, 0.19])
    assert df["steps_to_tol"].isna().any() and df["steps_to_tol"].notna().any()
    for _, row in df.iterrows():
        tr = lk.run(QUAD, "sgd", 150, lr=row["lr"])
        hit = np.nonzero(tr.f - QUAD.f_star <= tol)[0]
        if hit.size:
            assert row["steps_to_tol"] == hit[0]
        else:
            assert row["steps_to_tol"] is pd.NA


def test_steps_to_tol_uses_the_gradient_norm_when_f_star_is_unknown():
    saddle = lk.problems.quadratic(eigs=(1.0, -1.0), x0=[1.5, 0.0])     # on the saddle's stable manifold
    assert saddle.f_star is None and saddle.x_star is None
    tol = 1e-6
    df = lk.sweep(saddle, "sgd", 100, tol=tol, lr=[0.05, 0.3])
    assert df["dist_to_x_star"].isna().all()
    assert df["steps_to_tol"].isna().tolist() == [True, False]      # 0.95**100 * 1.5 > 1e-6 > 0.7**100 * 1.5
    for _, row in df.iterrows():
        tr = lk.run(saddle, "sgd", 100, lr=row["lr"])
        hit = np.nonzero(tr.grad_norm <= tol)[0]
        if hit.size:
            assert row["steps_to_tol"] == hit[0]
        else:
            assert row["steps_to_tol"] is pd.NA
        np.testing.assert_array_equal(x_final(row), tr.xs[-1])


# ============================================================================= noise

NOISY = QUAD.with_noise(0.1, seed=3)


def test_noise_is_reproducible_and_depends_on_the_seed():
    a = lk.run(NOISY, "sgd", 100, lr=0.05)
    b = lk.run(QUAD.with_noise(0.1, seed=3), "sgd", 100, lr=0.05)
    c = lk.run(QUAD.with_noise(0.1, seed=4), "sgd", 100, lr=0.05)
    clean = lk.run(QUAD, "sgd", 100, lr=0.05)
    np.testing.assert_array_equal(a.xs, b.xs)
    assert not np.allclose(a.xs[1:], c.xs[1:], atol=1e-6)
    assert not np.allclose(a.xs[1:], clean.xs[1:], atol=1e-6)
    assert np.array_equal(a.xs[0], c.xs[0])
    assert NOISY.noise == 0.1 and NOISY.seed == 3 and QUAD.noise == 0.0      # with_noise copies


def test_sweep_lane_sees_the_runs_noise():
    df = lk.sweep(QUAD.with_noise(0.1, seed=0), "adam", 200, lr=[0.01, 0.05], seed=[3, 4])
    assert sorted(df["seed"].unique()) == [3, 4]
    for _, row in df.iterrows():
        tr = lk.run(QUAD.with_noise(0.1, seed=int(row["seed"])), "adam", 200, lr=row["lr"])
        assert_row_equals_run(row, tr, QUAD)
    # Without a seed axis the problem's own seed is used.
    df = lk.sweep(NOISY, "adam", 200, lr=[0.05])
    assert "seed" not in df.columns
    assert_row_equals_run(df.iloc[0], lk.run(NOISY, "adam", 200, lr=0.05), QUAD)


def _first_step_noise(df):
    """SGD's first step is x1 = x0 - lr (g0 + noise): recover the noise of each lane."""
    x0, g0 = QUAD.x0, QUAD.grad(QUAD.x0)
    return -(x_final(df) - x0) / df["lr"].to_numpy()[:, None] - g0


def test_lanes_with_the_same_seed_see_the_same_noise():
    lrs = [1e-3, 0.01, 0.02, 0.05, 0.1]
    df = lk.sweep(NOISY, "sgd", 1, lr=lrs, seed=[3, 4])
    noise = _first_step_noise(df)
    by_seed = {s: noise[df["seed"].to_numpy() == s] for s in (3, 4)}
    for s, rows in by_seed.items():
        assert len(rows) == len(lrs)
        # Equal up to the rounding of x0 - lr (g + noise) (~1e-16 / lr).
        np.testing.assert_allclose(rows, np.broadcast_to(rows[-1], rows.shape), rtol=0, atol=1e-12)
    assert np.min(np.abs(by_seed[3][0] - by_seed[4][0])) > 1e-6
    # The single run with seed 3 saw that noise too.
    tr = lk.run(NOISY, "sgd", 1, lr=0.1)
    assert tr.grad_norm[0] == pytest.approx(np.linalg.norm(QUAD.grad(QUAD.x0) + by_seed[3][-1]), rel=1e-12)


def test_noise_has_the_requested_standard_deviation():
    seeds = np.arange(2000)
    df = lk.sweep(QUAD.with_noise(0.1), "sgd", 1, lr=[0.5], seed=seeds)
    noise = _first_step_noise(df).ravel()
    assert abs(noise.mean()) < 0.01                   # 4000 samples: standard error 0.0016
    assert noise.std() == pytest.approx(0.1, rel=0.05)


# ============================================================================= schedules

@pytest.mark.parametrize("rule, lr", [("sgd", 0.1), ("adam", 0.05)])
def test_constant_half_schedule_equals_half_the_lr(rule, lr):
    half = lk.run(QUAD, rule, 100, lr=lr, schedule=lambda k: 0.5)
    ref = lk.run(QUAD, rule, 100, lr=lr / 2)
    np.testing.assert_array_equal(half.xs, ref.xs)
    np.testing.assert_array_equal(lk.run(QUAD, rule, 100, lr=lr, schedule=np.full(100, 0.5)).xs, ref.xs)
    df = lk.sweep(QUAD, rule, 100, lr=[lr], schedule=lambda k: 0.5)
    assert_row_equals_run(df.iloc[0], ref, QUAD)


def test_schedule_multiplies_step_k():
    # A scalar-only callable (not vectorisable) is evaluated step by step: steps 0..9 move, then nothing.
    tr = lk.run(ROSEN, "sgd", 50, lr=1e-3, schedule=lambda k: 1.0 if k < 10 else 0.0)
    ref = lk.run(ROSEN, "sgd", 10, lr=1e-3)
    np.testing.assert_array_equal(tr.xs[:11], ref.xs)
    assert np.all(tr.xs[10:] == tr.xs[10])
    assert not np.array_equal(tr.xs[9], tr.xs[10])


def test_library_schedule_in_run_and_sweep():
    sched = lk.schedules.cosine(300)
    tr = lk.run(ROSEN, "adam", 300, lr=0.02, schedule=sched)
    assert not np.array_equal(tr.xs, lk.run(ROSEN, "adam", 300, lr=0.02).xs)
    df = lk.sweep(ROSEN, "adam", 300, lr=[0.01, 0.02], schedule=sched)
    assert_row_equals_run(df[df["lr"] == 0.02].iloc[0], tr, ROSEN)


@pytest.mark.parametrize("schedule, match", [
    (np.ones(99), r"schedule must have one multiplier per step \(100\), got 99"),
    (np.ones(101), r"schedule must have one multiplier per step \(100\), got 101"),
    (lambda k: -1.0, r"schedule .*>= 0"),
    (np.full(100, np.nan), r"schedule .*finite"),
])
def test_bad_schedule_raises(schedule, match):
    with pytest.raises(ValueError, match=match):
        lk.run(QUAD, "sgd", 100, lr=0.01, schedule=schedule)
    with pytest.raises(ValueError, match=match):
        lk.sweep(QUAD, "sgd", 100, lr=[0.01], schedule=schedule)


# ============================================================================= Trajectory

def test_to_frame_has_one_row_per_iterate():
    tr = lk.run(ROSEN, "adam", 50, lr=0.01)
    fr = tr.to_frame()
    assert len(fr) == len(tr.xs) == 51
    assert list(fr.columns) == ["step", "x_0", "x_1", "f", "grad_norm", "step_norm", "rule", "problem"]
    np.testing.assert_array_equal(fr["step"], np.arange(51))
    np.testing.assert_array_equal(fr[["x_0", "x_1"]].to_numpy(), tr.xs)
    np.testing.assert_array_equal(fr["f"], tr.f)
    np.testing.assert_array_equal(fr["grad_norm"], tr.grad_norm)
    np.testing.assert_array_equal(fr["step_norm"][:-1], tr.step_norm)
    assert np.isnan(fr["step_norm"].iloc[-1])
    assert (fr["rule"] == "adam").all() and (fr["problem"] == "rosenbrock").all()


def test_trajectory_fields():
    tr = lk.run(ROSEN, "adam", 50, lr=0.01)
    assert tr.xs.shape == (51, 2) and tr.f.shape == (51,) and tr.grad_norm.shape == (51,)
    np.testing.assert_array_equal(tr.xs[0], ROSEN.x0)
    np.testing.assert_array_equal(tr.f, ROSEN.f(tr.xs))
    np.testing.assert_allclose(tr.grad_norm, np.linalg.norm(ROSEN.grad(tr.xs), axis=1), rtol=1e-15)
    np.testing.assert_allclose(tr.step_norm, np.linalg.norm(np.diff(tr.xs, axis=0), axis=1), rtol=1e-15)
    assert tr.steps == 50 and tr.rule.name == "adam" and tr.problem is ROSEN
    assert tr.hyperparameters == lk.optim.adam(lr=0.01).hyperparameters
    tr.hyperparameters["lr"] = 1.0                                   # a copy
    assert tr.rule.lr == 0.01


@pytest.mark.parametrize("problem", [QUAD, "user"])
def test_zero_steps_gives_the_start_point(problem):
    problem = _user_problem()[0] if problem == "user" else problem
    tr = lk.run(problem, "adam", 0, lr=0.1)
    assert tr.xs.shape == (1, 2) and tr.f.shape == (1,) and tr.grad_norm.shape == (1,)
    assert tr.step_norm.shape == (0,)
    np.testing.assert_array_equal(tr.xs[0], problem.x0)
    assert tr.f[0] == problem.f(problem.x0)
    assert not tr.diverged and tr.diverged_at is None
    assert len(tr.to_frame()) == 1
    df = lk.sweep(problem, "adam", 0, lr=[0.1, 0.2])
    np.testing.assert_array_equal(x_final(df), np.tile(problem.x0, (2, 1)))
    assert (df["f_final"] == tr.f[0]).all()


# ============================================================================= user-defined problems

def _user_problem():
    """QUAD's objective as plain Python/NumPy functions, counting gradient calls."""
    A, c = QUAD.params[:4].reshape(2, 2), QUAD.params[4:]
    calls = []

    def grad(x):
        calls.append(1)
        return A @ (x - c)

    def f(x):
        return 0.5 * (x - c) @ A @ (x - c)

    p = lk.Problem(name="my quadratic", f=f, grad=grad, x0=QUAD.x0, x_star=c, f_star=0.0, domain=QUAD.domain)
    return p, calls


@pytest.mark.parametrize("rule, lr", [("sgd", 0.1), ("adam", 0.05)])
def test_user_problem_runs_through_python_and_matches_builtin(rule, lr):
    user, calls = _user_problem()
    assert user.kernel < 0
    tr = lk.run(user, rule, 300, lr=lr)
    assert len(calls) == 301, "the Python path evaluates the user's gradient once per iterate"
    ref = lk.run(QUAD, rule, 300, lr=lr)
    assert not tr.diverged
    # A @ x rounds differently from the kernel's loop (BLAS may fuse): equal to about an ulp.
    np.testing.assert_allclose(tr.xs, ref.xs, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(tr.f, ref.f, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(tr.grad_norm, ref.grad_norm, rtol=1e-15, atol=1e-15)
    # Through sweep (one run per lane), with noise too.
    df = lk.sweep(user, rule, 300, lr=[lr / 2, lr], progress=False)
    for _, row in df.iterrows():
        assert_row_equals_run(row, lk.run(user, rule, 300, lr=row["lr"]), user)
    noisy = lk.run(user.with_noise(0.1, seed=3), rule, 300, lr=lr)
    np.testing.assert_allclose(noisy.xs, lk.run(NOISY, rule, 300, lr=lr).xs, rtol=0, atol=1e-14)


def test_user_problem_divergence_is_reported_like_builtins():
    user, _ = _user_problem()
    with pytest.warns(lk.DivergenceWarning):
        tr = lk.run(user, "sgd", 20_000, lr=0.2001)       # 2/lambda_max = 0.2
    assert tr.diverged and tr.diverged_at == len(tr.xs)
    assert np.all(np.isfinite(tr.xs)) and np.all(np.isfinite(tr.f))
    ref = quiet(lk.run, QUAD, "sgd", 20_000, lr=0.2001)
    assert abs(tr.diverged_at - ref.diverged_at) <= 1


def test_python_path_gradient_norm_is_the_kernels():
    """Same gradient, same |g|: the Python path should sum g_i^2 as the kernels do (they
    feed normalised rules), not through a BLAS dot product that rounds differently."""
    A, c = QUAD.params[:4].reshape(2, 2), QUAD.params[4:]

    def grad(x):                 # the kernel's arithmetic, so the gradients agree bit for bit
        g = [0.0, 0.0]
        for i in range(2):
            for k in range(2):
                g[i] += A[i, k] * (x[k] - c[k])
        return np.array(g)

    user = lk.Problem(name="user", f=lambda x: 0.0, grad=grad, x0=QUAD.x0, domain=QUAD.domain)
    tr, ref = lk.run(user, "sgd", 300, lr=0.01), lk.run(QUAD, "sgd", 300, lr=0.01)
    np.testing.assert_array_equal(tr.xs, ref.xs)
    np.testing.assert_array_equal(tr.grad_norm, ref.grad_norm)


# ============================================================================= progress bar

def test_progress_bar_on_stderr(capsys):
    lk.sweep(QUAD, "sgd", 10, lr=[0.01, 0.02], progress=True)
    err = capsys.readouterr().err
    assert "sweep sgd" in err and "run" in err
    lk.sweep(QUAD, "sgd", 10, lr=[0.01, 0.02], progress=False)
    assert capsys.readouterr().err == ""
    lk.sweep(QUAD, "sgd", 10, lr=[0.01, 0.02])                  # auto: a tiny sweep shows none
    assert capsys.readouterr().err == ""


def test_progress_bar_python_path(capsys):
    user, _ = _user_problem()
    lk.sweep(user, "sgd", 5, lr=[0.01, 0.02], progress=True)
    assert "sweep" in capsys.readouterr().err
    lk.sweep(user, "sgd", 5, lr=[0.01, 0.02], progress=False)
    assert capsys.readouterr().err == ""
