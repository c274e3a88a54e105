"""Write notebooks/02_sign_updates.ipynb (run by hand after editing; the notebook is what is committed)."""
from nbgen import code, md, write

cells = [
    md("# The sign-update lab\n\n"
       "signSGD, Signum and Lion throw away the gradient's magnitude and keep its sign: every "
       "coordinate moves by exactly $\\pm\\eta$. That one fact explains why their iterates sit on a "
       "lattice, why they never settle at a constant step and need a decaying one, why they care "
       "about the coordinate axes, and why Lion with weight decay $\\lambda$ can never leave the box "
       "$\\|x\\|_\\infty \\le 1/\\lambda$. Adam, on a steady gradient, is a smoothed version of the same.\n\n"
       "This notebook is a regression test too: `make test` runs it with small parameters and "
       "compares its records with `data/baselines/02_sign_updates.json`."),
    code("# Parameters (papermill overrides these in the regression test)\n"
         "steps = 4000             # explorer and lattice runs\n"
         "n_lrs = 20               # step sizes in the amplitude scan\n"
         "rotation_steps = 50_000  # budget for steps-to-tolerance on the quadratics\n"
         "kkt_steps = 20_000       # Lion's run to its box-constrained limit",
         metadata={"tags": ["parameters"]}),
    code("%matplotlib widget\n"
         "import math\n"
         "\n"
         "import matplotlib.pyplot as plt\n"
         "import numpy as np\n"
         "\n"
         "import labkit as lk\n"
         "from labkit import signs"),
    md("## The explorer\n\n"
       "AdamW, signSGD, Signum and Lion from one start. Top right: the distance to the minimiser "
       "in units of $\\eta$ — the sign methods stall at about 1. Bottom left: each coordinate's move "
       "$|\\Delta x_i|/\\eta$ of the inspected rule — exactly 1 for signSGD: the lattice. Bottom right: "
       "the inspected rule's state at the scrubbed step (gradient, momentum, Lion's interpolation "
       "$c = \\beta_1 m + (1-\\beta_1) g$, its sign, flips so far). Try the rotated quadratic, a weight "
       "decay (Lion's box appears dashed) and \"decay the step\". `lion_k:tanh` swaps Lion's hard "
       "sign for a smooth switch $\\tanh(c/\\delta)$, `lion_k:huber` for the clipped-linear "
       "$\\mathrm{clip}(c/\\delta, -1, 1)$ (Lion-K, Chen, Liu et al., ICLR 2024)."),
    code("ex = lk.widgets.SignUpdateExplorer(rules=(\"adamw\", \"sign_sgd\", \"signum\", \"lion\", \"lion_k:tanh\", \"lion_k:huber\"),\n"
         "                                  steps=min(steps, 3000), lr=0.02)\n"
         "ex.widget"),
    md("## The lattice, and how close a constant step gets\n\n"
       "On an axis-aligned quadratic each coordinate walks on $x_{0,i} + \\eta\\mathbb Z$ towards "
       "$x^*_i$ and ends alternating between the two lattice points around it, at distances "
       "$\\varphi\\eta$ and $(1-\\varphi)\\eta$ with $\\varphi$ the lattice offset of $x^*_i$. So the "
       "late-time amplitude $\\max_t\\|x_t - x^*\\|_\\infty/\\eta$ lies in $\\{0\\} \\cup [1/2, 1]$ "
       "(0 when the walk lands on $x^*$ exactly), and `signs.sign_sgd_cycle` predicts it exactly."),
    code("quad = lk.problems.quadratic(eigs=(1, 10), x0=(1.5, -1.0))\n"
         "tr = lk.run(quad, \"sign_sgd\", steps, lr=0.013)\n"
         "lat = signs.lattice_check(tr)\n"
         "osc = signs.oscillation_amplitude(tr)\n"
         "pred = signs.sign_sgd_cycle(quad.x0, quad.x_star, 0.013)\n"
         "print(f\"on the lattice: {lat.on_lattice} (step error {lat.step_error:.1e} lr)\")\n"
         "print(f\"amplitude / lr = {osc.amplitude:.6f}, per coordinate {osc.per_coordinate}, predicted {pred}\")\n"
         "assert lat.on_lattice and np.allclose(osc.per_coordinate, pred, atol=1e-9)\n"
         "lk.record(\"signsgd_amplitude_over_lr\", osc.amplitude)\n"
         "\n"
         "lrs = np.geomspace(0.005, 0.05, n_lrs)\n"
         "amps = np.array([signs.oscillation_amplitude(lk.run(quad, \"sign_sgd\", steps, lr=lr)).amplitude for lr in lrs])\n"
         "in_band = (amps == 0) | ((amps >= 0.5) & (amps <= 1.0))\n"
         "fig, ax = plt.subplots(figsize=(6, 3.5), constrained_layout=True)\n"
         "ax.axhspan(0.5, 1.0, color=\"0.85\", label=\"band [1/2, 1]\")\n"
         "ax.semilogx(lrs, amps, \"o-\", label=\"measured\")\n"
         "ax.set(xlabel=\"lr\", ylabel=\"late amplitude ‖x - x*‖∞ / lr\", title=\"signSGD on an axis-aligned quadratic\")\n"
         "ax.legend()\n"
         "assert in_band.all()\n"
         "lk.record(\"amplitude_in_band_fraction\", float(in_band.mean()))"),
    md("Rotate the same quadratic and the coordinates couple: the cycle stretches along the valley."),
    code("rot = lk.problems.quadratic(eigs=(1, 10), angle=math.pi / 4, x0=(1.5, -1.0))\n"
         "amp_rot = signs.oscillation_amplitude(lk.run(rot, \"sign_sgd\", steps, lr=0.013)).amplitude\n"
         "print(f\"rotated: amplitude / lr = {amp_rot:.3f}\")\n"
         "lk.record(\"signsgd_rotated_amplitude_over_lr\", amp_rot)"),
    md("## Adam is a smoothed sign\n\n"
       "On a constant gradient $m_t = (1-\\beta_1^t) g$ and $v_t = (1-\\beta_2^t) g^2$, so after bias "
       "correction Adam's step is $\\eta\\, g/(|g| + \\epsilon)$: the sign, softened by $\\epsilon$. On a "
       "real trajectory the gradient changes and $\\sqrt{\\hat v}$ averages its past; with $\\beta_1 = 0$ "
       "and $\\beta_2 \\to 0$ Adam *is* signSGD (up to $\\epsilon$). The gap is measured per step in units of lr."),
    code("print(\"closed form, g = 0.3, t = 1..3:\", [float(signs.adam_sign_step(0.3, lr=1.0, t=t)) for t in (1, 2, 3)])\n"
         "rosen = lk.problems.rosenbrock()\n"
         "gaps = {}\n"
         "for b2 in (0.999, 0.5, 0.0):\n"
         "    tr = lk.run(rosen, \"adam\", 500, lr=1e-3, b1=0.0, b2=b2)\n"
         "    gaps[f\"b2={b2}\"] = signs.adam_sign_gap(tr).mean\n"
         "print(gaps)\n"
         "assert gaps[\"b2=0.999\"] > gaps[\"b2=0.5\"] > gaps[\"b2=0.0\"] and gaps[\"b2=0.0\"] < 1e-6\n"
         "lk.record(\"adam_sign_gap\", gaps)"),
    md("## Rotation dependence\n\n"
       "Steps until $\\|x - x^*\\|_2 \\le 10^{-3}$ (and staying there) on a quadratic with eigenvalues 1 "
       "and 100, axis-aligned and rotated by 45°, the rotated run started at the rotated start. "
       "Gradient descent is rotation invariant: the ratio is exactly 1. Sign methods need a decaying "
       "step to reach any tolerance; here $\\eta_t \\propto 1/\\sqrt t$."),
    code("rs = {name: signs.rotation_slowdown(name, steps=rotation_steps, lr=0.01, **hp)\n"
         "      for name, hp in [(\"sgd\", {}), (\"sign_sgd\", {}), (\"signum\", {\"momentum\": 0.9})]}\n"
         "for name, r in rs.items():\n"
         "    print(f\"{name:9s} axis {r.steps_axis:>8} rotated {r.steps_rotated:>8}  slowdown {r.ratio:.2f}\")\n"
         "assert rs[\"sgd\"].ratio == 1.0 and rs[\"sign_sgd\"].ratio > 2\n"
         "lk.record(\"rotation_slowdown\", {k: float(r.ratio) for k, r in rs.items()})"),
    md("## Lion's box\n\n"
       "With decoupled weight decay, $x_t = (1-\\eta\\lambda)x_{t-1} - \\eta\\,\\mathrm{sign}(c_t)$ and "
       "$|\\mathrm{sign}| \\le 1$: outside $\\|x\\|_\\infty \\le 1/\\lambda$ every coordinate shrinks, so the "
       "iterates enter the box and stay (within one step $\\eta$). Started outside, on Rosenbrock whose "
       "minimiser (1, 1) lies outside the box for $\\lambda = 2$:"),
    code("lam = 2.0\n"
         "lion = lk.run(rosen, \"lion\", 3000, x0=(3.0, -3.0), lr=0.01, weight_decay=lam)\n"
         "box = signs.lion_box(lion)\n"
         "print(box)\n"
         "assert box.holds and box.max_after_entry <= 1 / lam + 0.01\n"
         "lk.record(\"lion_box_max_after_entry\", box.max_after_entry)\n"
         "lk.record(\"lion_box_entry_step\", box.entry_step)"),
    md("The limit solves $\\min f(x)$ s.t. $\\|x\\|_\\infty \\le 1/\\lambda$ (Chen, Liu et al., ICLR 2024). "
       "Check the KKT conditions: inside the box the gradient vanishes; at an active coordinate the "
       "negative gradient points out of the box. The residual is measured against the exact box "
       "minimiser (projected Newton), with the step decayed so the limit is sharp."),
    code("bound = 1 / lam\n"
         "x_box = signs.box_minimiser(rosen, bound)\n"
         "exact = signs.box_kkt_residual(rosen, x_box, bound)\n"
         "T = kkt_steps\n"
         "lion_lim = lk.run(rosen, \"lion\", T, x0=(3.0, -3.0), lr=0.01, weight_decay=lam,\n"
         "                  schedule=lk.schedules.cosine(T, floor=1e-3))\n"
         "kkt = signs.box_kkt_residual(rosen, lion_lim.x_final, bound)\n"
         "naive = signs.box_kkt_residual(rosen, np.clip(rosen.x_star, -bound, bound), bound)\n"
         "dist = float(np.linalg.norm(lion_lim.x_final - x_box))\n"
         "print(f\"box minimiser {x_box}, residual {exact.natural:.1e}; Lion's limit {lion_lim.x_final}, \"\n"
         "      f\"residual {kkt.natural:.2e}, distance {dist:.2e}; clipped (1,1): residual {naive.residual:.3g}\")\n"
         "assert exact.residual < 1e-10 and kkt.natural < 1e-2 and naive.residual > 10\n"
         "lk.record(\"lion_kkt_residual\", kkt.natural)\n"
         "lk.record(\"lion_limit_distance_to_box_minimiser\", dist)"),
    md("## Decay the step\n\n"
       "At a constant step the sign methods stop at about $\\eta$ from the minimiser; a cosine decay "
       "to zero shrinks the cycle with the step."),
    code("dc = {name: signs.decay_comparison(quad, name, steps, lr=0.013) for name in (\"sign_sgd\", \"lion\")}\n"
         "for name, d in dc.items():\n"
         "    print(f\"{name:9s} constant {d.constant:.3e}  decayed {d.decayed:.3e}\")\n"
         "assert all(d.decayed < 1e-3 * d.constant for d in dc.values())\n"
         "lk.record(\"final_distance\", {f\"{k} {w}\": float(getattr(d, w)) for k, d in dc.items()\n"
         "                               for w in (\"constant\", \"decayed\")})"),
    md("## What this notebook used"),
    code("lk.cite()"),
]
write(cells, "02_sign_updates.ipynb")
