"""Write notebooks/05_softmax_safe_steps.ipynb (run by hand after editing; the notebook is what is committed)."""
import nbformat as nbf

md = nbf.v4.new_markdown_cell
code = nbf.v4.new_code_cell

cells = [
    md("# A safe step radius for cross-entropy\n\n"
       "Along a step direction $v$ the logits move as $z_k + t\\,a_k$ with $a_k = \\nabla z_k\\cdot v$ (one "
       "Jacobian-vector product). The loss $\\log\\sum_k e^{z_k + a_k t} - z_y - a_y t$ has complex singularities "
       "where the softmax partition function vanishes (the \"ghosts of softmax\", Sao 2026), so its Taylor series "
       "converges only for $t < \\rho^* \\ge \\rho_a = \\pi/\\Delta_a$, $\\Delta_a = \\max_i(\\max_k a_{ik} - "
       "\\min_k a_{ik})$. For two classes $\\rho^* = \\sqrt{\\delta^2+\\pi^2}/\\Delta_a$ exactly. The normalised step "
       "of an update $p$ is $r = \\|p\\|/\\rho_a$, and the controller $p \\to \\min(1, \\rho_a/\\|p\\|)\\,p$ keeps "
       "$r \\le 1$.\n\n"
       "Regression test: `make test` runs this notebook with the small parameters of "
       "`data/baselines/05_softmax_safe_steps.json` and compares what it records."),
    code("# Parameters (papermill overrides these in the regression test)\n"
         "train_steps = 300        # steps of each spike run\n"
         "spike_at = 100           # the step whose lr is multiplied by 10,000\n"
         "survey_points = 10       # points along a run where steps of every length are tried\n"
         "mlp_width = 16",
         metadata={"tags": ["parameters"]}),
    code("%matplotlib widget\n"
         "import math\n"
         "\n"
         "import matplotlib.pyplot as plt\n"
         "import numpy as np\n"
         "\n"
         "import labkit as lk\n"
         "from labkit import radius as rad\n"
         "\n"
         "soft = lk.problems.softmax_regression(n=200, d=5, k=3, seed=0)\n"
         "net = lk.nets.mlp(lk.nets.moons(60, 0.1, 0), (mlp_width, mlp_width), \"tanh\", \"cross_entropy\", 0)\n"
         "print(soft, net)"),
    md("## The radius in one JVP\n\n"
       "At the start of softmax regression, along the gradient step:"),
    code("x, g = soft.x0, soft.grad(soft.x0)\n"
         "R = rad.softmax_radius(soft, x, -g)\n"
         "print(f\"Δ_a = {R.delta_a:.4f} (set by example {R.worst}), ρ_a = π/Δ_a = {R.rho:.4f}\")\n"
         "for lr in (0.1, 1.0, 5.0):\n"
         "    print(f\"GD step lr={lr}: r = {rad.normalized_step(soft, x, -lr * g):.3f}\")\n"
         "Rn = rad.softmax_radius(net, net.x0, -net.grad(net.x0))\n"
         "print(f\"MLP (two classes): ρ_a = {Rn.rho:.4f}, exact binary ρ* = {Rn.rho_binary:.4f}\")"),
    md("## The Taylor model holds while r < 1\n\n"
       "The loss along the step and its Taylor polynomials at $t=0$ (coefficients: cumulants of the softmax "
       "distribution on the $a_k$). Inside the radius the polynomials converge to the loss as the degree grows; "
       "past it they fly off. For binary logistic regression at $x = 0$ ($\\delta = 0$) the bound is exact and the "
       "break is at $r = 1$; for softmax regression $\\rho_a$ is a lower bound, and the break comes a little later."),
    code("logi = lk.problems.separable_logistic(n=100, d=2, margin=0.05, seed=0)\n"
         "fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)\n"
         "r_grid = np.linspace(0, 2, 201)\n"
         "tl_bin = rad.taylor_line(logi, np.zeros(2), -logi.grad(np.zeros(2)), r=r_grid, orders=(2, 8, 32))\n"
         "tl_soft = rad.taylor_line(soft, x, -g, r=r_grid, orders=(2, 8, 32))\n"
         "tl_bin.plot(axes[0]); axes[0].set_title(\"logistic, x = 0: exact radius\")\n"
         "tl_soft.plot(axes[1]); axes[1].set_title(\"softmax regression (k = 3)\");\n"
         "\n"
         "def break_r(tl, tol=1e-3):\n"
         "    \"\"\"First r where the highest-degree polynomial misses the loss by more than tol.\"\"\"\n"
         "    bad = np.abs(tl.taylor[-1] - tl.loss) > tol\n"
         "    return float(tl.r[np.argmax(bad)]) if bad.any() else math.inf\n"
         "\n"
         "inside = r_grid < 0.9\n"
         "err_in = max(float(np.max(np.abs(t.taylor[-1] - t.loss)[inside])) for t in (tl_bin, tl_soft))\n"
         "print(f\"degree-32 error for r < 0.9: {err_in:.2e}; breaks at r = {break_r(tl_bin):.2f} (binary), \"\n"
         "      f\"{break_r(tl_soft):.2f} (softmax)\")\n"
         "assert err_in < 1e-3 and 0.9 <= break_r(tl_bin) <= 1.1 and break_r(tl_soft) >= 0.9\n"
         "lk.record(\"taylor_break_r\", {\"logistic\": break_r(tl_bin), \"softmax\": break_r(tl_soft)})"),
    md("## Many steps, many directions: no blow-up below r = 1\n\n"
       "From points along a GD run, steps of normalised length $r$ from 0.05 to 20 along the gradient and Adam's "
       "first (sign-like) direction. A step *blows up* when the loss rises by more than one nat (labkit's "
       "threshold). Steps longer than $\\rho_a$ can still lower the loss (r < 1 is sufficient, not necessary); "
       "none below $r = 1$ blows up."),
    code("runs = {\"softmax regression\": (soft, rad.train(soft, \"sgd\", 200, lr=0.5, keep=True)),\n"
         "        \"MLP\": (net, rad.train(net, \"sgd\", 200, lr=0.5, keep=True))}\n"
         "fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)\n"
         "surveys = {}\n"
         "for ax, (name, (model, run)) in zip(axes, runs.items()):\n"
         "    pts = run.xs[np.linspace(0, 200, survey_points).astype(int)]\n"
         "    surveys[name] = sv = rad.step_survey(model, pts)\n"
         "    sv.plot(ax); ax.set_title(name)\n"
         "    print(f\"{name}: {len(sv.r)} steps; largest r that lowered the loss {sv.max_r_decreased:.3g}; \"\n"
         "          f\"smallest r that blew up {sv.min_r_blew_up:.3g}\")\n"
         "assert all(sv.min_r_blew_up >= 1.0 for sv in surveys.values())\n"
         "lk.record(\"max_r_decreased\", {k: sv.max_r_decreased for k, sv in surveys.items()})\n"
         "lk.record(\"min_r_blew_up\", {k: sv.min_r_blew_up for k, sv in surveys.items()})"),
    md("On the MLP the logits are not linear in the weights, and the guarantee is for the linearised model: a "
       "random descent direction can blow up below $r = 1$. Shown, not asserted:"),
    code("sv_rand = rad.step_survey(net, runs[\"MLP\"][1].xs[::50], n_random=3)\n"
         "rand = sv_rand.kind == \"random descent\"\n"
         "print(\"MLP, random descent directions: smallest r that blew up\",\n"
         "      float(sv_rand.r[rand & sv_rand.blew_up].min()) if (rand & sv_rand.blew_up).any() else None)"),
    md("## A learning-rate spike of ×10,000\n\n"
       "One step at step `spike_at` has its learning rate multiplied by 10,000. Gradient-norm clipping (to 0.5, as "
       "`torch.nn.utils.clip_grad_norm_`) bounds the gradient, not the step: the step is still 10,000 × lr × 0.5, "
       "and Adam's step does not depend on the gradient's scale at all. The controller caps the step at "
       "$\\rho_a$ along its own direction."),
    code("sched = rad.spike(train_steps, spike_at, 1e4)\n"
         "cases = [(\"softmax sgd\", soft, \"sgd\", 0.5), (\"softmax adam\", soft, \"adam\", 0.01),\n"
         "         (\"MLP sgd\", net, \"sgd\", 0.5), (\"MLP adam\", net, \"adam\", 0.01)]\n"
         "fig, axes = plt.subplots(1, 4, figsize=(14, 3.4), constrained_layout=True)\n"
         "finals = {}\n"
         "for ax, (name, model, rule, lr) in zip(axes, cases):\n"
         "    for control, style in zip((None, \"clip\", \"radius\"), lk.viz.series_styles(3)):\n"
         "        res = rad.train(model, rule, train_steps, lr=lr, control=control, max_norm=0.5, schedule=sched)\n"
         "        ax.plot(res.loss, label=str(control), **style)\n"
         "        finals[f\"{name} {control}\"] = res.f_final\n"
         "        if control == \"radius\":\n"
         "            assert np.all(res.r_taken <= 1 + 1e-12)\n"
         "    ax.set(yscale=\"log\", title=name, xlabel=\"step\", ylabel=\"training loss\")\n"
         "    ax.legend(fontsize=\"x-small\")\n"
         "for name, *_ in cases:\n"
         "    print(f\"{name:13s} final loss: none {finals[name + ' None']:.3g}, clip {finals[name + ' clip']:.3g}, \"\n"
         "          f\"controller {finals[name + ' radius']:.3g}\")\n"
         "    assert finals[name + \" radius\"] < 0.5 * finals[name + \" clip\"]\n"
         "lk.record(\"spike_final_loss\", {k: v for k, v in finals.items() if not k.endswith(\"None\")})"),
    md("## What this notebook used"),
    code("lk.cite()"),
]
nb = nbf.v4.new_notebook(cells=cells, metadata={
    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
    "language_info": {"name": "python"}})
nbf.write(nb, "notebooks/05_softmax_safe_steps.ipynb")
print("wrote notebooks/05_softmax_safe_steps.ipynb")
