"""Write notebooks/01_step_sizes.ipynb (run by hand after editing; the notebook is what is committed)."""
import nbformat as nbf

md = nbf.v4.new_markdown_cell
code = nbf.v4.new_code_cell

cells = [
    md("# The step-size lab\n\n"
       "How large may a step be? On a quadratic the answer is exact: gradient descent is stable "
       "for $\\eta < 2/\\lambda_{max}$, heavy ball for $\\eta < (2+2\\mu)/\\lambda_{max}$, Nesterov for "
       "$\\eta < (2+2\\mu)/((1+2\\mu)\\lambda_{max})$, and the fastest plain step is "
       "$2/(\\lambda_{min}+\\lambda_{max})$. This notebook lets you move the step size and watch the "
       "theory hold, measures the thresholds, maps stability over step size and momentum, shows "
       "what happens on a neural network where curvature is not fixed (the *edge of stability*), "
       "and what schedules and batch sizes do when gradients are noisy.\n\n"
       "It is also a regression test: `make test` runs it with small parameters and compares "
       "what it records with `data/baselines/01_step_sizes.json`."),
    code("# Parameters (papermill overrides these in the regression test)\n"
         "steps = 2000            # explorer trajectory length\n"
         "map_n = 200             # stability map: map_n x map_n cells\n"
         "map_steps = 1000\n"
         "eos_steps = 5000        # full-batch GD steps on the MLP\n"
         "schedule_seeds = 64\n"
         "batch_seeds = 1024",
         metadata={"tags": ["parameters"]}),
    code("%matplotlib widget\n"
         "import time\n"
         "import warnings\n"
         "\n"
         "import matplotlib.pyplot as plt\n"
         "import numpy as np\n"
         "\n"
         "import labkit as lk\n"
         "from labkit import analysis as an\n"
         "\n"
         "problem = lk.problems.quadratic(eigs=(1, 10), angle=0.5)\n"
         "print(problem)"),
    md("## The explorer\n\n"
       "Move the step size: the path (top left; click the contour to move the start), the loss, "
       "the step length $\\|x_{k+1}-x_k\\|$ with the effective step $\\|x_{k+1}-x_k\\|/\\|g_k\\|$, and "
       "the error along each eigendirection $|u_i^\\top(x_t - x^*)|$ with, for SGD, its theoretical "
       "rate dashed. The box lists the limits for the current momentum. Past $2/\\lambda_{max}$ "
       "the stiff direction (λ = 10) blows up while the soft one still converges; the status line "
       "says where the run diverged."),
    code("ex = lk.widgets.StepSizeExplorer(problem, rules=(\"sgd\", \"adam\", \"rmsprop\", \"lion\"), steps=steps)\n"
         "ex.widget"),
    md("Every slider move is one call of `ex.update`; from code:"),
    code("tr_ok = ex.update(lr=0.19)\n"
         "tr_bad = ex.update(lr=0.21)\n"
         "ex.update(lr=an.gd_optimal_lr(problem).lr)\n"
         "assert not tr_ok.diverged and tr_bad.diverged\n"
         "print(ex.status.value)"),
    md("## The thresholds, measured\n\n"
       "`an.divergence_threshold` bisects on the step size for the point where the run stops "
       "contracting (the final loss is no longer below the start). With 2,000 steps a rate "
       "$1\\pm\\delta$ shows once $\\delta \\gtrsim 10^{-3}$, so the measurement is good to about 0.1%."),
    code("lam = an._eigs(problem)\n"
         "rows = []\n"
         "for label, mu, nesterov in [(\"GD\", 0.0, False), (\"heavy ball\", 0.5, False), (\"heavy ball\", 0.9, False),\n"
         "                            (\"Nesterov\", 0.5, True), (\"Nesterov\", 0.9, True)]:\n"
         "    theory = an.nesterov_limit(lam, mu) if nesterov else an.heavy_ball_limit(lam, mu)\n"
         "    measured = an.divergence_threshold(problem, \"sgd\", 2000, lo=theory / 2, hi=theory * 2,\n"
         "                                       momentum=mu, nesterov=nesterov)\n"
         "    rows.append((label, mu, theory, measured, measured / theory - 1))\n"
         "    print(f\"{label:10s} mu={mu:<4} theory {theory:.6f}  measured {measured:.6f}  rel. error {measured / theory - 1:+.1e}\")\n"
         "errors = {f\"{label} mu={mu}\": err for label, mu, _, _, err in rows}\n"
         "assert max(abs(e) for e in errors.values()) < 0.01, \"every threshold within 1% of theory\"\n"
         "lk.record(\"threshold_rel_error\", errors)"),
    md("The exact statement behind the *edge of stability*: with $\\eta = (2 - 10^{-3})/\\lambda_{max}$ "
       "GD converges, with $(2 + 10^{-3})/\\lambda_{max}$ it diverges, however long you wait."),
    code("with warnings.catch_warnings():\n"
         "    warnings.simplefilter(\"ignore\", lk.DivergenceWarning)\n"
         "    inside = lk.run(problem, \"sgd\", 20_000, lr=(2 - 1e-3) / lam[-1])\n"
         "    outside = lk.run(problem, \"sgd\", 20_000, lr=(2 + 1e-3) / lam[-1])\n"
         "f0 = problem.f(problem.x0)\n"
         "print(f\"inside:  f = {inside.f[-1]:.3g} after {len(inside.f) - 1} steps\")\n"
         "print(f\"outside: f = {outside.f[-1]:.3g}, diverged at step {outside.diverged_at}\")\n"
         "assert inside.f[-1] < 1e-6 * f0 and (outside.diverged or outside.f[-1] > 1e6 * f0)\n"
         "lk.record(\"edge_inside_converges\", bool(inside.f[-1] < 1e-6 * f0))\n"
         "lk.record(\"edge_outside_diverges\", bool(outside.diverged or outside.f[-1] > 1e6 * f0))"),
    md("## Stability maps\n\n"
       "One `lk.sweep` over a grid of step size × momentum: colour is the final loss, hatching marks "
       "divergence, the red line is heavy ball's limit $(2+2\\mu)/\\lambda_{max}$. **Click a cell** to "
       "see that run."),
    code("lrs, mus = np.geomspace(1e-3, 1.0, map_n), np.linspace(0.0, 0.99, map_n)\n"
         "t0 = time.perf_counter()\n"
         "smap = an.stability_map(problem, \"sgd\", map_steps, lr=lrs, momentum=mus)\n"
         "print(f\"{map_n} x {map_n} cells x {map_steps} steps in {time.perf_counter() - t0:.2f} s\")\n"
         "lk.widgets.StabilityMapExplorer(smap, 0.3, 0.9).widget"),
    md("How well does the map agree with theory? Away from the boundary (±5%) every cell should be "
       "on the predicted side; close to it, slow growth may not have shown in `map_steps` steps."),
    code("limit = an.heavy_ball_limit(lam, 0.0) * (1 + mus)[:, None]   # (2+2mu)/lambda_max per row\n"
         "ratio = lrs[None, :] / limit\n"
         "inside, outside = ratio < 0.95, ratio > 1.05\n"
         "agree_in = float(1 - smap.diverged[inside].mean())\n"
         "agree_out = float(smap.diverged[outside].mean())\n"
         "print(f\"stable where theory says stable: {agree_in:.4f}; diverged where theory says unstable: {agree_out:.4f}\")\n"
         "assert agree_in == 1.0 and agree_out > 0.99\n"
         "lk.record(\"map_agree_inside\", agree_in)\n"
         "lk.record(\"map_agree_outside\", agree_out)"),
    md("## The edge of stability\n\n"
       "On a neural network the curvature moves. Full-batch gradient descent on a small tanh MLP "
       "(float64, a few dozen points of two moons): the sharpness $\\lambda_{max}(\\nabla^2 L)$, measured "
       "with Hessian-vector products and Lanczos, first rises (*progressive sharpening*) until it "
       "reaches $2/\\eta$, then hovers there while the loss keeps falling, non-monotonically "
       "(Cohen et al., ICLR 2021). The quadratic theory above says such a step should diverge; "
       "the network escapes by changing its own curvature."),
    code("eos = lk.eos.edge_of_stability(steps=eos_steps)      # tanh MLP (32, 32) on 40 spiral points, lr = 0.15\n"
         "eos.plot()\n"
         "print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in eos.summary().items()})"),
    md("The band below comes from 24 runs (lr 0.12, 0.15, 0.2; 6 to 12 seeds each): every tracked "
       "sharpness in the last quarter of the runs lay within 0.86 to 1.07 of $2/\\eta$ "
       "(`lk.eos.RATIO_BAND`; the `edge_of_stability` docstring has the table)."),
    code("lo, hi = lk.eos.RATIO_BAND\n"
         "print(f\"final sharpness / (2/lr) = {eos.final_ratio:.3f} (band {lo}-{hi}); \"\n"
         "      f\"started at {eos.initial_ratio:.2f}; loss increases: {eos.n_increases}\")\n"
         "assert lo < eos.final_ratio < hi, \"sharpness settles at 2/lr\"\n"
         "assert eos.initial_ratio < 0.5, \"it starts well below the edge: progressive sharpening\"\n"
         "assert eos.n_increases > 0 and eos.loss[-1] < 0.1 * eos.loss[0], \"non-monotone, yet falling\"\n"
         "lk.record(\"eos_final_ratio\", float(eos.final_ratio))\n"
         "lk.record(\"eos_initial_ratio\", float(eos.initial_ratio))\n"
         "lk.record(\"eos_edge_step\", float(eos.edge_step))"),
    md("## Schedules on a noisy quadratic\n\n"
       "With gradient noise, a constant step reaches a stationary cloud whose size is proportional "
       "to the step; decaying it shrinks the cloud. Warmup-stable-decay (WSD) stays at the constant "
       "loss and drops during its short decay. All schedules see the same noise (same seeds)."),
    code("T = 4000\n"
         "S = lk.schedules\n"
         "noisy = problem.with_noise(0.3)\n"
         "schedules = {\"constant\": S.constant(), \"cosine\": S.cosine(T), \"linear\": S.linear(T),\n"
         "             \"wsd\": S.wsd(0, int(0.8 * T), int(0.2 * T))}\n"
         "sc = lk.stochastic.schedule_comparison(noisy, \"sgd\", T, schedules, seeds=schedule_seeds, lr=0.05)\n"
         "sc.plot()\n"
         "stationary = lk.stochastic.sgd_stationary_loss(problem, 0.05, 0.3)\n"
         "print(sc.final.to_string(), f\"\\nconstant-step theory: {stationary:.4g}\")\n"
         "before_decay = float(sc.curves[\"wsd\"].iloc[int(0.8 * T)])\n"
         "assert sc.final[[\"cosine\", \"linear\", \"wsd\"]].max() < 0.2 * sc.final[\"constant\"]\n"
         "assert sc.final[\"wsd\"] < 0.2 * before_decay\n"
         "lk.record(\"schedule_final_loss\", {k: float(v) for k, v in sc.final.items()})\n"
         "lk.record(\"wsd_decay_drop\", before_decay / float(sc.final[\"wsd\"]))"),
    md("## Batch size and the learning rate\n\n"
       "A batch of $B$ samples divides the gradient-noise variance by $B$. SGD's stationary loss is "
       "$\\sum_i \\eta s^2 / (2(2-\\eta\\lambda_i))$ (with $s^2 = \\sigma^2/B$), so scaling $\\eta$ "
       "linearly with $B$ keeps it fixed. Adam divides by $\\sqrt{v} \\approx \\sigma/\\sqrt B$, so it "
       "needs the square-root rule instead."),
    code("B = [1, 4, 16]\n"
         "sgd_scaling = lk.stochastic.batch_size_scaling(problem, \"sgd\", B, lr=2e-3, noise_std=1.0, steps=6000,\n"
         "                                               seeds=batch_seeds)\n"
         "sgd_scaling[\"theory\"] = [lk.stochastic.sgd_stationary_loss(problem, r.lr, r.noise_std)\n"
         "                         for r in sgd_scaling.itertuples()]\n"
         "adam_scaling = lk.stochastic.batch_size_scaling(problem, \"adam\", B, lr=1e-3, noise_std=1.0, steps=10_000,\n"
         "                                                seeds=batch_seeds)\n"
         "fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)\n"
         "for ax, (name, df) in zip(axes, [(\"SGD\", sgd_scaling), (\"Adam\", adam_scaling)]):\n"
         "    for (scaling, g), style in zip(df.groupby(\"scaling\"), lk.viz.series_styles(2)):\n"
         "        ax.errorbar(g.batch_size, g.relative, yerr=g.loss_sem / g.loss * g.relative, marker=\"o\",\n"
         "                    capsize=3, label=f\"{scaling} lr\", **style)\n"
         "    ax.set(xscale=\"log\", yscale=\"log\", xlabel=\"batch size B\", ylabel=\"stationary loss / loss at B=1\",\n"
         "           title=name)\n"
         "    ax.legend()\n"
         "display(sgd_scaling.round(6), adam_scaling.round(6))"),
    code("spread = lambda df, s: float(df[df.scaling == s].relative.max() / df[df.scaling == s].relative.min())\n"
         "z = ((sgd_scaling.loss - sgd_scaling.theory) / sgd_scaling.loss_sem).abs().max()\n"
         "print(f\"SGD measured vs theory: max |z| = {z:.2f}\")\n"
         "assert z < 4\n"
         "assert spread(sgd_scaling, \"linear\") < 1.3 < 3 < spread(sgd_scaling, \"sqrt\")\n"
         "assert spread(adam_scaling, \"sqrt\") < 1.3 < 2.5 < spread(adam_scaling, \"linear\")\n"
         "lk.record(\"batch_spread\", {\"sgd linear\": spread(sgd_scaling, \"linear\"), \"sgd sqrt\": spread(sgd_scaling, \"sqrt\"),\n"
         "                             \"adam linear\": spread(adam_scaling, \"linear\"), \"adam sqrt\": spread(adam_scaling, \"sqrt\")})"),
    md("## What this notebook used"),
    code("lk.cite()"),
]
nb = nbf.v4.new_notebook(cells=cells, metadata={
    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
    "language_info": {"name": "python"}})
nbf.write(nb, "notebooks/01_step_sizes.ipynb")
print("wrote notebooks/01_step_sizes.ipynb")
