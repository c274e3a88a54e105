"""Write notebooks/00_tour.ipynb (run once by hand; the notebook is what is committed)."""
from nbgen import code, md, write

cells = [
    md("# labkit: a tour\n\n"
       "labkit runs optimizer update rules on toy problems fast enough to explore them live. "
       "Every rule matches its reference implementation (torch.optim, pytorch-optimizer) "
       "trajectory for trajectory in float64, and every problem has exact derivatives.\n\n"
       "This notebook is also a regression test: `make test` executes it with small parameters "
       "and compares the numbers it records with `data/baselines/00_tour.json`."),
    code("# Parameters (papermill overrides these in the regression test)\n"
         "steps = 2000\n"
         "lr = 0.05\n"
         "sweep_points = 64",
         metadata={"tags": ["parameters"]}),
    md("## The first screen\n\nFive lines: a problem, a rule, a run, a plot."),
    code("import labkit as lk\n"
         "problem = lk.problems.rosenbrock()\n"
         "traj = lk.run(problem, lk.optim.adam(lr=lr), steps=steps)\n"
         "print(traj)\n"
         "lk.viz.trajectories(problem, [traj]);"),
    code("import numpy as np\n"
         "assert traj.f_final < 1e-8, \"Adam should reach the bottom of the valley\"\n"
         "# traj.f_final is recorded once, as final_gap_by_rule[\"adam\"] below (the same run; f* = 0)\n"
         "lk.record(\"adam_final_distance\", float(np.linalg.norm(traj.x_final - problem.x_star)))"),
    md("A `Trajectory` holds every iterate (`xs`), the loss and gradient norm at each one, and "
       "the step lengths; `to_frame()` gives a tidy table."),
    code("traj.to_frame().tail()"),
    md("## Problems\n\nA problem is a record: objective, exact gradient and Hessian, start point, "
       "minimiser, plot box and a reference."),
    code("import matplotlib.pyplot as plt\n"
         "names = [\"rosenbrock\", \"beale\", \"himmelblau\", \"saddle\", \"rastrigin\", \"styblinski_tang\"]\n"
         "fig, axes = lk.viz.subplots(3, 2, height=9)     # at most 8 in wide: readable projected\n"
         "for ax, name in zip(axes.flat, names):\n"
         "    lk.viz.contour(lk.problems.get(name), ax=ax, colorbar=True)\n"
         "for name in lk.problems.names():\n"
         "    p = lk.problems.get(name)\n"
         "    print(f\"{p.name:28s} f* = {p.f_star!s:22s} {p.reference[:60]}\")"),
    code("h = lk.problems.himmelblau()\n"
         "lk.record(\"himmelblau_minima_max_grad\", max(float(np.linalg.norm(h.grad(m))) for m in h.minima))"),
    md("## Update rules\n\nEach rule is a small Numba kernel written like its equations; "
       "`lk.optim.describe(name)` prints the update, its defaults and its reference."),
    code("lk.optim.describe(\"adam\");"),
    code("rules = [lk.optim.sgd(lr=1e-3, momentum=0.9), lk.optim.adam(lr=lr), lk.optim.rmsprop(lr=1e-2),\n"
         "         lk.optim.adagrad(lr=0.5), lk.optim.lion(lr=1e-2), lk.optim.signum(lr=1e-2),\n"
         "         lk.optim.normalized_gd(lr=1e-2)]\n"
         "trajs = [lk.run(problem, r, steps) for r in rules]\n"
         "fig, (ax1, ax2) = lk.viz.subplots(2, 1, height=8)\n"
         "lk.viz.trajectories(problem, trajs, ax=ax1, colorbar=True)\n"
         "lk.viz.loss_curves(trajs, ax=ax2);\n"
         "lk.record(\"final_gap_by_rule\", {t.rule.name: t.f_final - problem.f_star for t in trajs})"),
    md("Sign-based rules (Lion, Signum) and normalised GD move by a fixed length every step, so "
       "at a constant `lr` they zig-zag down the curved valley instead of settling: they need a "
       "decaying step (the sign-update lab shows why). Momentum SGD and Adam adapt their step "
       "length and converge."),
    md("## Sweeps\n\n`lk.sweep` runs a whole grid of hyperparameters at once, in parallel and "
       "vectorised across runs. Here: Adam's final loss against its step size."),
    code("import warnings\n"
         "with warnings.catch_warnings():\n"
         "    warnings.simplefilter(\"ignore\", lk.DivergenceWarning)\n"
         "    df = lk.sweep(problem, \"adam\", steps, lr=np.logspace(-4, 0.5, sweep_points))\n"
         "ok = df[~df.diverged]\n"
         "fig, ax = lk.viz.subplots(width=6, height=4)\n"
         "floor = lk.viz.EPS * ok.f_final.max()        # below it, f is rounding: clipped there and marked\n"
         "ax.loglog(ok.lr, np.maximum(ok.f_final, floor), \".\")\n"
         "lk.viz.rounding_floor(ax, floor)\n"
         "ax.set(xlabel=\"lr\", ylabel=\"f after %d steps\" % steps, title=\"Adam on Rosenbrock\");\n"
         "best = df.loc[df.f_final.idxmin()]\n"
         "lk.record(\"sweep_best_lr\", float(best.lr))\n"
         "lk.record(\"sweep_diverged\", int(df.diverged.sum()))\n"
         "same = bool(df.f_final.iloc[0] == lk.run(problem, \"adam\", steps, lr=df.lr.iloc[0]).f_final)\n"
         "assert same, \"a sweep lane is the same computation as a run\"\n"
         "lk.record(\"sweep_row_equals_run\", same)"),
    md("## Divergence is reported, not plotted as NaN\n\n"
       "Plain gradient descent with a step too large for Rosenbrock's curvature blows up; the run "
       "stops at its last finite point and says where."),
    code("with warnings.catch_warnings(record=True) as caught:\n"
         "    warnings.simplefilter(\"always\")\n"
         "    bad = lk.run(problem, lk.optim.sgd(lr=0.01), steps)\n"
         "print(bad, \"|\", caught[0].message if caught else \"no warning\")\n"
         "assert bad.diverged and np.isfinite(bad.xs).all() and np.isfinite(bad.f).all()\n"
         "lk.record(\"sgd_diverged_at\", bad.diverged_at)"),
    md("## What this notebook used\n\nEvery rule and problem carries its reference."),
    code("for r in rules:\n"
         "    print(f\"{r.name:14s} {r.reference}\")\n"
         "print(f\"{problem.name:14s} {problem.reference}\")"),
]
write(cells, "00_tour.ipynb")
