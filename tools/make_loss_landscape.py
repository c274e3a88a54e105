"""Write notebooks/03_loss_landscape.ipynb (run by hand after editing; the notebook is what is committed)."""
from nbgen import code, md, write


cells = [
    md("# The loss-landscape lab\n\n"
       "What does an optimizer see? In two dimensions, everything: the contour, the gradient field, the "
       "curvature at each point, and, running one optimizer from every point of a grid, its *basins of "
       "attraction*. In thousands of dimensions only sections: lines between parameter vectors and planes "
       "along random directions, which mean something only once the directions are scaled to the weights "
       "(*filter normalisation*, Li et al. 2018). This notebook goes from the first to the second and "
       "shows where the pictures mislead.\n\n"
       "It is also a regression test: `make test` runs it with small parameters and compares what it "
       "records with `data/baselines/03_loss_landscape.json`."),
    code('''
# Parameters (papermill overrides these in the regression test)
explorer_steps = 500
basin_n = 300            # basin maps: basin_n x basin_n starts
basin_steps = 1000
slice_n = 51             # slices: slice_n x slice_n points (odd: the centre is on the grid)
net_steps = 2000         # optimizer steps on the MLP
net_width = 16
seed = 0                 # draws every random thing: seed, seed + 1, ... for independent draws
''', metadata={"tags": ["parameters"]}),
    code('''
%matplotlib widget
import time

import matplotlib.pyplot as plt
import numpy as np

import labkit as lk
from labkit import landscape as ls
from labkit.widgets import LandscapeExplorer
'''),
    md("## The explorer\n\n"
       "Three optimizers from one start (click the contour to move it), one step size for all. The step "
       "scrubber moves the markers and the Hessian's eigen-directions at the first rule's point (the "
       "longer segment is the flatter direction; the box gives the curvatures λ and the GD limits 2/λ). "
       "Tick *gradient field* for the descent directions."),
    code('''
ex = LandscapeExplorer(rules=("sgd", "adam", "rmsprop"), steps=explorer_steps, lr=0.01)
ex.widget
'''),
    md("Every control calls `ex.update`; from code:"),
    code('''
ex.update(lr=0.02, step=min(100, explorer_steps))
print(ex.status.value)
runs = ex.runs
ex.update(step=min(50, explorer_steps))          # the scrubber re-runs nothing
assert ex.runs == runs and "lr=0.02" in ex.status.value
'''),
    md("## One landscape, three ways\n\n"
       "Himmelblau's function has four minima of equal depth, a maximum near the origin and four saddles "
       "between. The surface, the descent field $-\\nabla f$ and the curvature at a few points:"),
    code('''
him = lk.problems.himmelblau()
(xlo, xhi), (ylo, yhi) = him.domain
X, Y = np.meshgrid(np.linspace(xlo, xhi, 120), np.linspace(ylo, yhi, 120))
F = him.f(np.stack([X, Y], axis=-1))
fig = plt.figure(figsize=(lk.viz.MAX_WIDTH, 3.8), layout="constrained")     # 8 in: readable projected
ax3 = fig.add_subplot(1, 2, 1, projection="3d")
surf = ax3.plot_surface(X, Y, np.log10(F + 1e-3), cmap=lk.viz.CMAP, linewidth=0, rcount=80, ccount=80)
ax3.set(xlabel="$x_0$", ylabel="$x_1$", zlabel="log10 f", title="Himmelblau, log scale")
fig.colorbar(surf, ax=ax3, label="log10 f", shrink=0.6, location="left")
ax = fig.add_subplot(1, 2, 2)
lk.viz.contour(him, ax=ax, colorbar=True)
g = ls.gradient_field(him, 20)
ax.quiver(g.X, g.Y, -g.U, -g.V, color="white", alpha=0.7, angles="xy", scale=None)
for pt in [(0.0, 0.0), (3.0, 2.0), (-0.27, -0.92), (3.38, 0.07)]:
    c = ls.hessian_at(him, pt)
    print(f"{str(pt):16s} {c.kind:8s} curvatures {np.round(c.values, 2)}")
'''),
    md("## Basins of attraction\n\n"
       "Gradient descent from every cell of a grid, all runs in one `lk.sweep`, each cell coloured by "
       "where its run ended: which minimum, *diverged*, or *saddle/stuck* (near no minimum: a saddle, a "
       "cycle, still moving). At `lr = 0.01` every start reaches a minimum; at `lr = 0.02` the step is "
       "above $2/\\lambda_{max}$ at two of the minima, so GD cannot settle there: those basins turn into "
       "2-cycles and their area goes to the others."),
    code('''
t0 = time.perf_counter()
b_small = ls.basins(him, "sgd", basin_steps, n=basin_n, lr=0.01)
print(f"{basin_n} x {basin_n} starts x {basin_steps} steps: {b_small.seconds:.2f} s (sweep), "
      f"{time.perf_counter() - t0:.2f} s in all")
b_large = ls.basins(him, "sgd", basin_steps, n=basin_n, lr=0.02)
fig, axes = lk.viz.subplots(2, 1, height=8)      # one column: each legend beside its map
b_small.plot(ax=axes[0])
b_large.plot(ax=axes[1])
for k in (0, 1):
    c = ls.hessian_at(him, b_small.minima[k])
    print(f"minimum {k}: 2/lambda_max = {2 / c.values[-1]:.4f}")
'''),
    code('''
fr = b_small.fractions
assert abs(sum(fr.values()) - 1) < 1e-12 and fr["diverged"] == 0 and fr["saddle/stuck"] == 0
assert b_large.fractions["saddle/stuck"] > 0.2
lk.record("himmelblau_gd_basin_fractions", {"lr=0.01": b_small.fractions, "lr=0.02": b_large.fractions})
dist = b_small.max_dist()
assert max(dist.values()) < 1e-9
lk.record("himmelblau_gd_max_dist_to_minimiser", dist)
'''),
    md("Rastrigin lists only its global minimiser; the other cells end in one of its many local minima "
       "(*other minimum*: the gradient vanishes and the Hessian is positive definite there). A small "
       "step finds the nearest pit. Every pit has curvature about $2 + 40\\pi^2 \\approx 397$, so above "
       "$2/397 \\approx 0.005$ GD can settle in none of them: at `lr = 0.02` every run is still bouncing "
       "(*saddle/stuck*)."),
    code('''
ras = lk.problems.rastrigin()
fig, axes = lk.viz.subplots(2, 1, height=8)
ras_fracs = {}
for ax, lr in zip(axes, (0.002, 0.02)):
    b = ls.basins(ras, "sgd", basin_steps, n=basin_n, lr=lr)
    b.plot(ax=ax)
    ras_fracs[f"lr={lr}"] = b.fractions
    print(f"lr={lr}: {b.seconds:.2f} s", {k: round(v, 4) for k, v in b.fractions.items() if v})
lk.record("rastrigin_gd_basin_fractions", ras_fracs)
'''),
    md("## Higher dimensions: sections\n\n"
       "A plane through a point $c$ along directions $d_1, d_2$: $L(c + \\alpha d_1 + \\beta d_2)$. "
       "`ls.random_directions` draws Gaussian directions and scales them to the weights: per filter "
       "(a row of a weight matrix: one neuron's incoming weights) to that filter's norm; biases stay put "
       "(the paper's plots). A plain vector is one filter.\n\n"
       "### Rosenbrock in 10-D"),
    code('''
rosen = lk.problems.rosenbrock_nd(10)
trajs = {r: lk.run(rosen, r, net_steps, lr=lr) for r, lr in (("adam", 0.02), ("sgd", 1e-3))}
d1, d2 = ls.random_directions(rosen, rosen.x_star, seed=seed)
s = ls.slice_2d(rosen, rosen.x_star, d1, d2, span=1.0, n=slice_n)
proj = {r: ls.project_path(tr, rosen.x_star, d1, d2) for r, tr in trajs.items()}
fig, axes = lk.viz.subplots(1, 2, height=3.8)
s.plot(ax=axes[0], paths={r: p.coords for r, p in proj.items()})
axes[0].set_title("10-D Rosenbrock around x*, random plane", fontsize="small")
line = ls.interpolate_1d(rosen, rosen.x0, rosen.x_star, n=101)
axes[1].semilogy(line.alphas, line.loss)
axes[1].set(xlabel="α: (1-α) x0 + α x*", ylabel="f", title="1-D: from x0 to x*")
for r, p in proj.items():
    print(f"{r}: distance off the plane, start {p.residual[0]:.3g}, end {p.residual[-1]:.3g}")
assert s.center_loss == rosen.f(rosen.x_star) == 0.0
'''),
    md("The paths are drawn by their least-squares coordinates; the residuals say how far from the plane "
       "they really are. A random plane through $x^*$ holds the end of a converged path, not its start.\n\n"
       "### Softmax regression\n\n"
       "A convex loss: every section is a bowl. Its rows (one weight vector per class) are its filters."),
    code('''
soft = lk.problems.softmax_regression(n=200, d=5, k=3, seed=seed + 1)
d1, d2 = ls.random_directions(soft, soft.x_star, seed=seed + 2)
s_soft = ls.slice_2d(soft, soft.x_star, d1, d2, span=1.0, n=slice_n)
tr = lk.run(soft, "adam", net_steps, lr=0.05)
fig, ax = lk.viz.subplots(width=6, height=4.6)
s_soft.plot(ax=ax, paths={"adam": ls.project_path(tr, soft.x_star, d1, d2).coords})
ax.set_title("softmax regression around x*", fontsize="small")
assert s_soft.center_loss == soft.f(soft.x_star)
lk.record("softmax_slice", {"center": s_soft.center_loss, "max": float(s_soft.loss.max())})
'''),
    md("### A small MLP on two moons\n\n"
       "A ReLU network with two hidden layers, trained full-batch by SGD and Adam from the same "
       "initialisation (`lk.run` on `net.problem()`). One filter-normalised plane, drawn once, shared by "
       "both paths: around the SGD solution (as Li et al. plot around a trained net)."),
    code('''
net = lk.nets.mlp(lk.nets.moons(60, noise=0.1, seed=seed + 3), widths=(net_width, net_width), activation="relu",
                  seed=seed + 4)
prob = net.problem()
paths = {"sgd": lk.run(prob, "sgd", net_steps, lr=0.5), "adam": lk.run(prob, "adam", net_steps, lr=0.01)}
for r, tr in paths.items():
    print(f"{r}: loss {tr.f[0]:.4f} -> {tr.f_final:.4f}, accuracy {net.accuracy(tr.x_final):.2f}")
center = paths["sgd"].x_final
d1, d2 = ls.random_directions(net, center, seed=seed + 5)   # fixed and shared; another seed resamples
slc = ls.slice_2d(net, center, d1, d2, span=1.0, n=slice_n)
print(f"{net.n_params} parameters, {slice_n}x{slice_n} slice in {slc.seconds:.2f} s")
'''),
    code('''
# the slice's centre is the SGD solution: its loss is the model's there and the run's last loss, so it
# is checked here and recorded once (mlp_final_loss)
assert abs(slc.center_loss - net.f(center)) <= 1e-12, (slc.center_loss, net.f(center))
assert abs(slc.center_loss - paths["sgd"].f_final) <= 1e-12, (slc.center_loss, paths["sgd"].f_final)
lk.record("mlp_final_loss", {r: tr.f_final for r, tr in paths.items()})
'''),
    code('''
shared = {r: ls.project_path(tr, center, d1, d2) for r, tr in paths.items()}
a, b = paths["sgd"].x_final, paths["adam"].x_final
e1, e2 = ls.plane_through(net.x0, a, b)
through = {r: ls.project_path(tr, net.x0, e1, e2) for r, tr in paths.items()}
span_t = 1.3 * max(np.abs(p.coords).max() for p in through.values())
slc_t = ls.slice_2d(net, net.x0, e1, e2, span=span_t, n=slice_n)
fig, axes = lk.viz.subplots(2, 1, height=8)
slc.plot(ax=axes[0], paths={r: p.coords for r, p in shared.items()})
axes[0].set_title("random filter-normalised plane around the SGD solution", fontsize="small")
slc_t.plot(ax=axes[1], paths={r: p.coords for r, p in through.items()})
axes[1].set_title("the plane through x0 and both solutions", fontsize="small")
for r in paths:
    print(f"{r}: off the random plane by {shared[r].residual.max():.3g} at most; "
          f"off the plane through the ends by {through[r].residual.max():.3g} (0 at both ends)")
'''),
    md("In the random plane the paths' coordinates are tiny and their distance off the plane is large: "
       "a random direction in hundreds of dimensions is almost orthogonal to any path (Li et al., Sec. 7). "
       "The plane through the start and both solutions holds all three points exactly; the paths leave it "
       "in between.\n\n"
       "### 1-D interpolation\n\n"
       "From the initialisation to each solution, and from one solution to the other (Goodfellow et al. "
       "2015): a bump between the two solutions means a barrier, none means they are linearly connected."),
    code('''
fig, ax = lk.viz.subplots(width=7, height=4)
pairs = {"x0 -> sgd": (net.x0, a), "x0 -> adam": (net.x0, b), "sgd -> adam": (a, b)}
for (label, (p0, p1)), style in zip(pairs.items(), lk.viz.series_styles(len(pairs))):   # dashes: greyscale-safe
    it = ls.interpolate_1d(net, p0, p1, n=101)
    ax.semilogy(it.alphas, it.loss, label=label, **style)
ax.axvline(0, color="0.5", lw=0.8)
ax.axvline(1, color="0.5", lw=0.8)
ax.set(xlabel="α", ylabel="loss", title="L((1-α) a + α b)")
ax.legend()
mid = ls.interpolate_1d(net, a, b, n=3, span=(0.0, 1.0)).loss
# the ends are the two solutions' losses (recorded in mlp_final_loss): checked, and only the midpoint recorded
assert abs(mid[0] - paths["sgd"].f_final) <= 1e-12 and abs(mid[2] - paths["adam"].f_final) <= 1e-12, mid
print(f"midpoint loss {mid[1]:.4g}: {mid[1] / max(mid[0], mid[2]):.1f}x the worse end")
lk.record("mlp_interpolation_sgd_adam_midpoint", float(mid[1]))
'''),
    md("### PCA of a path, and its caveat\n\n"
       "The plane of a path's own two principal components captures most of its motion (Li et al., Sec. 7). "
       "But it is the *path's* plane: Adam's path has a different one, so each optimizer must be drawn on "
       "its own plane, and the two pictures are not comparable. Side by side, with the angle between "
       "the planes:"),
    code('''
pcas = {r: ls.pca_plane(tr) for r, tr in paths.items()}
fig, axes = lk.viz.subplots(2, 1, height=8)
for ax, (r, pl) in zip(axes, pcas.items()):
    span_p = 1.3 * np.abs(pl.coords).max()
    sp = ls.slice_2d(net, pl.center, pl.d1 * span_p, pl.d2 * span_p, span=1.0, n=slice_n)
    sp.plot(ax=ax, paths={r: pl.coords / span_p})
    ax.set_title(f"{r}'s own PCA plane: {pl.explained.sum():.1%} of its variance", fontsize="small")
Q1 = np.stack([pcas["sgd"].d1, pcas["sgd"].d2]).T
Q2 = np.stack([pcas["adam"].d1, pcas["adam"].d2]).T
cosines = np.linalg.svd(Q1.T @ Q2, compute_uv=False)       # cosines of the principal angles
print("principal angles between the two PCA planes (deg):", np.round(np.degrees(np.arccos(np.clip(cosines, -1, 1))), 1))
lk.record("pca_explained", {r: [float(v) for v in pl.explained] for r, pl in pcas.items()})
'''),
    md("### Why filter normalisation: the rescaling switch\n\n"
       "Scale the first layer of a ReLU net by α and the second by 1/α: the network computes the same "
       "function, with the same loss, so its landscape should look the same. With raw Gaussian directions "
       "it does not (top); with filter-normalised directions the two slices agree to rounding (bottom)."),
    code('''
demo = ls.rescaling_demo(net, center, alpha=10.0, layer=0, seed=seed + 6, span=1.0, n=slice_n)
demo.plot()
print(f"loss change from rescaling: {demo.function_change:.2g}")
print(f"max |slice difference|: raw directions {demo.max_diff_raw:.3g}, filter-normalised {demo.max_diff_filtered:.2g}")
assert demo.function_change < 1e-12 and demo.max_diff_filtered < 1e-10 < 1e-2 < demo.max_diff_raw
lk.record("rescaling_max_diff", {"raw": demo.max_diff_raw, "filtered": demo.max_diff_filtered})
'''),
    md("## What this notebook used\n\n"
       "Sections and filter normalisation: H. Li, Z. Xu, G. Taylor, C. Studer, T. Goldstein, \"Visualizing "
       "the Loss Landscape of Neural Nets\", NeurIPS 2018. 1-D interpolation: I. J. Goodfellow, O. Vinyals, "
       "A. M. Saxe, \"Qualitatively characterizing neural network optimization problems\", ICLR 2015. "
       "Rules and problems:"),
    code("lk.cite()"),
]
write(cells, "03_loss_landscape.ipynb")
