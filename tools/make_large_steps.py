"""Write notebooks/04_large_steps_logistic.ipynb (run by hand after editing; the notebook is what is committed)."""
from nbgen import code, md, write

cells = [
    md("# Huge step sizes on separable logistic regression\n\n"
       "On linearly separable data the logistic loss $f(x) = \\frac1n\\sum_i \\log(1+e^{-y_i a_i^\\top x})$ has no "
       "minimiser. Gradient descent from 0 (\"LR+GD\", step $\\gamma$) still does something definite: with a small "
       "step its direction tends to the max-margin separator (Soudry et al. 2018); with a huge step it *is* the "
       "batch perceptron, step by step (Tyurin 2024). Larger steps give a higher loss yet separate the data "
       "sooner: the loss stops meaning progress.\n\n"
       "Regression test: `make test` runs this notebook with the small parameters of "
       "`data/baselines/04_large_steps_logistic.json` and compares what it records."),
    code("# Parameters (papermill overrides these in the regression test)\n"
         "steps = 500              # LR+GD steps per step size\n"
         "bias_steps = 20_000      # small-step run for the implicit bias\n"
         "max_steps = 100_000      # cap for iterations to separation",
         metadata={"tags": ["parameters"]}),
    code("%matplotlib widget\n"
         "import matplotlib.pyplot as plt\n"
         "import numpy as np\n"
         "\n"
         "import labkit as lk\n"
         "from labkit import separable as sep\n"
         "from labkit.widgets import SeparableExplorer\n"
         "\n"
         "problem = lk.problems.separable_logistic(n=100, d=2, margin=0.05, seed=0)\n"
         "u, mu = problem.extras[\"max_margin\"]\n"
         "print(problem, \"x_star =\", problem.x_star, f\"max margin {mu:.4f} along {u}\")"),
    md("## The explorer\n\n"
       "The `lr` slider is the step size $\\gamma$ (log scale, 0.1 to $10^6$); `step t` moves along the run. "
       "Top left: the data, the boundary $a^\\top x_t = 0$ and the max-margin boundary (dashed). Top right: the "
       "loss and the training error. Bottom: the angle between $x_t$ and the max-margin direction with the "
       "normalised margin, and the normalised step $r$ of each step (notebook 05)."),
    code("ex = SeparableExplorer(lk.problems.separable_logistic(n=40, d=2, margin=0.1, seed=0), steps=200)\n"
         "ex.widget"),
    code("ex.update(gamma=1e6, t=5)\n"
         "print(ex.status.value)\n"
         "assert \"lr=1e+06\" in ex.status.value"),
    md("## (1) Large γ is the batch perceptron\n\n"
       "Put $w_t = x_t/\\gamma$: $w_{t+1} = w_t + \\frac1n\\sum_i \\sigma(-\\gamma y_i a_i^\\top w_t)\\,y_i a_i$. As "
       "$\\gamma\\to\\infty$ the weights become 1 for misclassified points, ½ on the boundary and 0 otherwise: the "
       "batch perceptron. `lk.separable` runs LR+GD in $w$ (exact; `lk.run` would stop at its box "
       "`problem.bound` once $\\|x_t\\|$ passes $10^6$). The agreement is the fraction of steps at which both "
       "classifiers label every training point alike."),
    code("gammas = [0.1, 1.0, 10.0, 100.0, 1e3, 1e4, 1e6]\n"
         "sw = sep.large_step_sweep(problem, gammas, steps=steps)\n"
         "for g, a, k, l1 in zip(sw.gammas, sw.agreement, sw.iters_to_separation, sw.loss[:, 1]):\n"
         "    print(f\"γ = {g:9.3g}: agreement {a:.3f}   separated at step {k}   loss after one step {l1:.3g}\")\n"
         "print(\"batch perceptron separates at step\", sw.perceptron.separated_at)\n"
         "sw.plot();\n"
         "assert sw.agreement[-1] == 1.0\n"
         "lk.record(\"perceptron_agreement_1e6\", float(sw.agreement[-1]))\n"
         "lk.record(\"perceptron_agreement\", {f\"{g:g}\": float(a) for g, a in zip(sw.gammas, sw.agreement)})"),
    md("## (2) Higher loss, fewer iterations\n\n"
       "Iterations to zero training error fall as γ grows, down to the perceptron's; meanwhile the loss after the "
       "first step *grows* with γ beyond γ ≈ 100 (the first iterate misclassifies a few points, each costing "
       "about $\\gamma|a_i^\\top w_1|$)."),
    code("iters = {f\"{g:g}\": k for g, k in zip(sw.gammas, sw.iters_to_separation)}\n"
         "# gamma = 0.1 does not separate within `steps`: count it with the early-stopping loop\n"
         "iters[\"0.1\"] = sep.steps_to_separation(problem, \"lr_gd\", 0.1, max_steps)\n"
         "print(iters)\n"
         "vals = [iters[f\"{g:g}\"] for g in gammas]\n"
         "assert all(a >= b for a, b in zip(vals[:4], vals[1:4])), \"fewer iterations for larger γ (up to 100)\"\n"
         "assert vals[-1] == sw.perceptron.separated_at\n"
         "assert np.all(np.diff(sw.loss[3:, 1]) > 0), \"higher loss for larger γ (from 100 on)\"\n"
         "lk.record(\"iters_to_separation\", iters)\n"
         "lk.record(\"loss_after_one_step\", {f\"{g:g}\": float(l) for g, l in zip(sw.gammas, sw.loss[:, 1])})"),
    md("## (3) Small γ: the max-margin direction\n\n"
       "Soudry et al.: $x_t = \\hat u\\log t + O(\\log\\log t)$, so the angle to the max-margin direction $\\hat u$ "
       "(solved to rounding by Wolfe's min-norm point in `lk.problems`) falls like $1/\\log t$: slowly."),
    code("ib = sep.implicit_bias(problem, gamma=0.1, steps=bias_steps)\n"
         "ib.plot();\n"
         "late = ib.angle[ib.t >= 100]\n"
         "print(f\"angle at t = {ib.t[-1]}: {ib.angle[-1]:.4f} rad; normalised margin {ib.margin[-1] / mu:.3f} of the max\")\n"
         "assert np.all(np.diff(late) < 0)\n"
         "lk.record(\"final_angle_small_gamma\", float(ib.angle[-1]))"),
    md("## (4) Normalized LR+GD and the loss-adaptive step\n\n"
       "Tyurin's Normalized LR+GD divides the step by the mean sigmoid weight "
       "$\\frac1n\\sum_i(1+e^{y_ia_i^\\top x})^{-1}$ (`lk.optim.normalized_lr_gd`): it needs at most "
       "$R^2/\\mu^2 + 2\\log(2n-1)/(\\gamma\\mu^2)$ iterations, where LR+GD → the batch perceptron needs "
       "$nR^2/\\mu^2$. The loss-adaptive step $\\eta/f(x)$ (Zhang et al. 2025, `lk.optim.loss_adaptive_gd`) is a "
       "different method. Iterations to separation, across data margins:"),
    code("cmp = sep.separation_comparison(margins=(0.2, 0.1, 0.05, 0.02), gammas=(1.0, 100.0), max_steps=max_steps)\n"
         "table = cmp.pivot_table(index=[\"margin\", \"gamma\"], columns=\"method\", values=\"steps\")\n"
         "display(table)\n"
         "ok = (cmp.method == \"normalized_lr_gd\") & (cmp.steps.notna())\n"
         "assert (cmp[ok].steps <= cmp[ok].bound_normalized).all(), \"Thm 6.1's bound holds\"\n"
         "lk.record(\"separation_comparison\", {f\"margin={m:g} gamma={g:g} {meth}\": (None if s != s else int(s))\n"
         "                                     for m, g, meth, s in cmp[[\"margin\", \"gamma\", \"method\", \"steps\"]].itertuples(index=False)})"),
    md("## What this notebook used"),
    code("lk.cite()"),
]
write(cells, "04_large_steps_logistic.ipynb")
