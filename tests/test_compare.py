"""lk.compare: protocols with equal budgets, Halton points, AlgoPerf's median of bests,
performance profiles, determinism (in-process and through an executor), agreement with lk.run."""
import math
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

import labkit as lk
from labkit.compare import (SPACE, Protocol, Task, algoperf, compare, defaults, flips, halton, lr_grid, median_of_best,
                            performance_profile, performance_ratios, profile_score, random_search, search_points)

SUITE = ["rosenbrock", Task("quadratic", {"eigs": (1.0, 10.0)}, noise=0.3, tol=1e-2)]
RULES = ["adam", lk.optim.sgd(momentum=0.9), "lion"]
PROTOCOLS = [defaults(), lr_grid(6), random_search(6, seed=1), algoperf(3, 3, seed=2)]


@pytest.fixture(scope="module")
def study():
    return compare(SUITE, RULES, PROTOCOLS, horizon=(100, 400), seeds=(0, 1, 2), tol=1e-4, progress=False)


def test_budgets_equal_per_rule(study):
    budgets = {"defaults": 1, "lr_grid(6)": 6, "random_search(6)": 6, "algoperf(3x3)": 9}
    for (protocol, problem), g in study.table.groupby(["protocol", "problem"]):
        seeds = 3 if "noise" in problem else 1
        assert set(g["budget_runs"]) == {budgets[protocol] * seeds}
        assert all(r.budget_steps == budgets[protocol] * seeds * r.tune_horizon for r in g.itertuples())
    counts = study.runs.groupby(["protocol", "rule", "problem", "horizon"]).size()
    for (protocol, rule, problem, h), n in counts.items():
        assert n == budgets[protocol] * (3 if "noise" in problem else 1)


def test_search_shares_points_across_rules():
    p = random_search(8, seed=3)
    adam, sgd, lion = (p.configs(lk.optim.get(r)) for r in ("adam", "sgd", "lion"))
    assert [c["lr"] for _, _, c in adam] == [c["lr"] for _, _, c in sgd] == [c["lr"] for _, _, c in lion]
    assert set(adam[0][2]) == {"lr", "b1", "b2"} and set(sgd[0][2]) == {"lr", "momentum"}
    for _, _, c in adam + sgd + lion:
        assert 1e-4 <= c["lr"] <= 1.0
        for k, (lo, hi) in SPACE.items():
            if k in c:
                assert lo <= 1 - c[k] <= hi
    ap = algoperf(4, 3, seed=3).configs(lk.optim.get("adam"))
    assert len(ap) == 12 and sorted({s for s, _, _ in ap}) == [0, 1, 2]
    assert len({c["lr"] for _, _, c in ap}) == 12           # studies are disjoint


def test_halton_values_range_and_determinism():
    h = halton(4, 2)
    np.testing.assert_allclose(h[:, 0], [0.5, 0.25, 0.75, 0.125])
    np.testing.assert_allclose(h[:, 1], [1 / 3, 2 / 3, 1 / 9, 4 / 9])
    np.testing.assert_allclose(halton(2, 3, start=3)[:, 2], [3 / 5, 4 / 5])
    a, b = search_points(50, 5, seed=7, study=1), search_points(50, 5, seed=7, study=1)
    assert np.array_equal(a, b) and np.all((a >= 0) & (a < 1))
    assert not np.array_equal(a, search_points(50, 5, seed=8, study=1))
    assert not np.array_equal(a, search_points(50, 5, seed=7, study=0))
    # Low discrepancy: every half of every axis gets about half of the points.
    for j in range(5):
        assert abs(np.mean(a[:, j] < 0.5) - 0.5) <= 0.1


def test_median_of_best_by_hand():
    inf = math.inf
    trials = pd.DataFrame({
        "study": [0, 0, 0, 1, 1, 1, 2, 2, 2],
        "trial": [0, 1, 2, 0, 1, 2, 0, 1, 2],
        "steps_to_target": [50, 30, inf, inf, inf, inf, 80, 20, 40],
        "gap": [0, 0, 1, 3, 2, 5, 0, 0, 0]})
    # bests: study 0 -> 30 (trial 1), study 1 -> inf (trial 1, smallest gap), study 2 -> 20 (trial 1)
    # median of {20, 30, inf} is 30: study 0's trial 1.
    row = median_of_best(trials)
    assert (row["study"], row["trial"], row["steps_to_target"]) == (0, 1, 30)
    # Two of three studies miss: the median is a miss (AlgoPerf scores it inf).
    trials.loc[trials.study == 0, "steps_to_target"] = inf
    row = median_of_best(trials)
    assert row["steps_to_target"] == inf and (row["study"], row["trial"]) == (0, 0)


def test_performance_profile_by_hand():
    inf = math.inf
    costs = pd.DataFrame({"a": [10, 40, inf, inf], "b": [20, 20, 5, inf]}, index=["p1", "p2", "p3", "p4"])
    r = performance_ratios(costs)
    assert r.loc["p1"].tolist() == [1.0, 2.0] and r.loc["p2"].tolist() == [2.0, 1.0]
    assert r.loc["p3"].tolist() == [inf, 1.0] and r.loc["p4"].tolist() == [inf, inf]
    rho = performance_profile(r, [1.0, 2.0, 100.0])
    assert rho["a"].tolist() == [0.25, 0.5, 0.5] and rho["b"].tolist() == [0.5, 0.75, 0.75]
    s = profile_score(r, tau_max=4.0)        # ratio 2 is half-way on log [1, 4]
    assert s["a"] == pytest.approx((1 + 0.5) / 4) and s["b"] == pytest.approx((0.5 + 1 + 1) / 4)
    assert flips(["a", "b", "c"], ["b", "a", "c"]) == [("a", "b")] and flips(["a", "b"], ["a", "b"]) == []


def test_same_seeds_same_tables_other_seeds_differ(study):
    again = compare(SUITE, RULES, PROTOCOLS, horizon=(100, 400), seeds=(0, 1, 2), tol=1e-4, progress=False)
    assert again.table.equals(study.table) and again.runs.equals(study.runs)
    assert again.rankings() == study.rankings()
    other = compare(SUITE, RULES, [lr_grid(6)], horizon=400, seeds=(3, 4, 5), tol=1e-4, progress=False)
    noisy = lambda c: c.runs[c.runs.problem.str.contains("noise") & (c.runs.horizon == 400)
                             & (c.runs.protocol == "lr_grid(6)")]
    assert not np.array_equal(noisy(other)["f_final"].to_numpy(), noisy(study)["f_final"].to_numpy())
    shifted = compare(SUITE, RULES, [random_search(6, seed=2)], horizon=400, seeds=(0, 1, 2), tol=1e-4,
                      progress=False)
    assert not np.array_equal(shifted.runs["lr"].to_numpy(),
                              study.runs[(study.runs.protocol == "random_search(6)")
                                         & (study.runs.horizon == 400)]["lr"].to_numpy())


def test_thread_pool_gives_the_same_table(study):
    with ThreadPoolExecutor(2) as pool:
        via = compare(SUITE, RULES, PROTOCOLS, horizon=(100, 400), seeds=(0, 1, 2), tol=1e-4, executor=pool,
                      progress=False)
    assert via.table.equals(study.table) and via.runs.equals(study.runs)


def test_steps_to_target_agrees_with_run(study):
    row = study.select("lr_grid(6)", 400).query("rule == 'adam' and problem == 'rosenbrock'").iloc[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lk.DivergenceWarning)
        tr = lk.run(lk.problems.rosenbrock(), "adam", 400, lr=row["lr"])
    hit = np.nonzero(tr.f - 0.0 <= 1e-4)[0]
    assert row["steps_to_target"] == (hit[0] if hit.size else math.inf)
    assert row["gap"] == pytest.approx(tr.f_final if not tr.diverged else math.inf, rel=0, abs=0)
    assert bool(row["solved"]) == bool(hit.size)
    # A noisy cell: each seed's run is lk.run on problem.with_noise(sigma, seed).
    runs = study.runs.query("protocol == 'lr_grid(6)' and rule == 'lion' and horizon == 400 and trial == 3")
    runs = runs[runs.problem.str.contains("noise")]
    for r in runs.itertuples():
        p = lk.problems.quadratic(eigs=(1.0, 10.0)).with_noise(0.3, r.seed)
        tr = lk.run(p, "lion", 400, lr=r.lr)
        hit = np.nonzero(tr.f <= 1e-2)[0]
        assert r.f_final == tr.f_final and r.steps_to_target == (hit[0] if hit.size else math.inf)


def test_best_is_chosen_at_the_tuning_horizon(study):
    bad = compare(SUITE, RULES, [lr_grid(6)], horizon=400, tune_horizon=100, seeds=(0, 1, 2), tol=1e-4,
                  progress=False)
    at100 = study.select("lr_grid(6)", 100).set_index(["rule", "problem"])
    got = bad.table.set_index(["rule", "problem"])
    assert (got["trial"] == at100["trial"]).all() and set(got["tune_horizon"]) == {100}
    assert "NOT the reported horizon" in bad.stamp()
    fair = study.select("lr_grid(6)", 400)
    assert set(fair["tune_horizon"]) == {400}


def test_rankings_and_figures(study):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ranks = study.rankings()
    assert set(ranks) == {p.name for p in PROTOCOLS}
    for by_h in ranks.values():
        for r in by_h.values():
            assert sorted(r) == sorted(["adam", "sgd(momentum=0.9)", "lion"])
    assert 0.0 <= study.success_fraction("lr_grid(6)", 400) <= 1.0
    ax = study.success_matrix("algoperf(3x3)", 400)
    texts = ax.get_title(loc="left").replace("\n", " ")
    assert "algoperf(3x3)" in texts and "horizon 400" in texts and "seeds [0, 1, 2]" in texts
    ax2 = study.performance_profile("lr_grid(6)", 100)
    assert "6 trial(s)" in ax2.get_title(loc="left").replace("\n", " ")
    plt.close("all")


def test_bad_input_suggests():
    with pytest.raises(ValueError, match="Did you mean 'rosenbrock'"):
        compare(["rosenbrok"], ["adam"], lr_grid(3), horizon=10)
    with pytest.raises(ValueError, match="Did you mean .*'adam'"):
        compare(["rosenbrock"], ["adma"], lr_grid(3), horizon=10)
    with pytest.raises(ValueError, match="Did you mean 'algoperf'"):
        Protocol("algoperff")
    with pytest.raises(ValueError, match="horizon"):
        compare(["rosenbrock"], ["adam"], lr_grid(3), horizon=0)
    with pytest.raises(ValueError, match="Protocol"):
        compare(["rosenbrock"], ["adam"], ["lr_grid"], horizon=10)
    with pytest.raises(ValueError, match="lr range"):
        lr_grid(3, lr=(1.0, 0.1))
    with pytest.raises(TypeError, match="submit"):
        compare(["rosenbrock"], ["adam"], lr_grid(2), horizon=10, executor=object())
    st = compare(["rosenbrock"], ["adam"], lr_grid(2), horizon=10, progress=False)
    with pytest.raises(ValueError, match="Did you mean 'lr_grid\\(2\\)'"):
        st.ranking("lr_grid(3)")
    with pytest.raises(ValueError, match="not run"):
        st.ranking("lr_grid(2)", 20)
