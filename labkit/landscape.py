r"""Loss landscapes: basins of attraction, local curvature, and slices of high-dimensional losses.

    import labkit as lk
    from labkit import landscape as ls
    b = ls.basins(lk.problems.himmelblau(), "sgd", 1000, n=300, lr=0.01)
    b.fractions                    # {'min 0 (3, 2)': 0.27, ..., 'diverged': 0.0, 'saddle/stuck': 0.0}
    b.plot()

    net = lk.nets.mlp(lk.nets.moons(), widths=(16, 16), activation="relu")
    d1, d2 = ls.random_directions(net, net.x0, seed=0)          # filter-normalised (Li et al. 2018)
    s = ls.slice_2d(net, net.x0, d1, d2, span=1.0, n=51)
    s.plot()

Two-dimensional problems are seen whole: :func:`basins` runs one optimizer from every cell of
an ``n x n`` grid of starts (one :func:`labkit.sweep`) and colours each cell by where its run
ended; :func:`hessian_at` and :func:`gradient_field` give the local picture.  A loss of
thousands of parameters is seen through low-dimensional sections: :func:`interpolate_1d`
(Goodfellow et al. 2015), :func:`slice_2d` along directions from :func:`random_directions`
(filter-normalised, Li et al. 2018) or :func:`plane_through` given points, optimizer paths
projected onto a plane with :func:`project_path`, and :func:`pca_plane` (the plane of a path's
own principal components, which no other path shares).  :func:`rescaling_demo` shows why
filter normalisation is needed: a ReLU network is unchanged when one layer is scaled by
:math:`\alpha` and the next by :math:`1/\alpha`, and only filter-normalised slices say so.

``import labkit`` does not load this module's torch, pandas, matplotlib or tqdm: they load on use.

References: H. Li, Z. Xu, G. Taylor, C. Studer, T. Goldstein, "Visualizing the Loss Landscape
of Neural Nets", NeurIPS 2018 (arXiv:1712.09913); I. J. Goodfellow, O. Vinyals, A. M. Saxe,
"Qualitatively characterizing neural network optimization problems", ICLR 2015.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from . import problems as _problems
from ._errors import DivergenceWarning, check_array, check_int, check_memory, check_problem

__all__ = ["Basins", "Curvature", "GradientField", "Interpolation", "PCAPlane", "PathProjection",
           "RescalingDemo", "Slice2D", "basins", "gradient_field", "hessian_at", "interpolate_1d",
           "pca_plane", "plane_through", "project_path", "random_directions", "rescale_layers",
           "rescaling_demo", "slice_2d", "DIVERGED", "STUCK", "OTHER"]

LI_2018 = ("H. Li, Z. Xu, G. Taylor, C. Studer, T. Goldstein, 'Visualizing the Loss Landscape of Neural Nets', "
           "NeurIPS 2018 (arXiv:1712.09913)")
GOODFELLOW_2015 = ("I. J. Goodfellow, O. Vinyals, A. M. Saxe, 'Qualitatively characterizing neural network "
                   "optimization problems', ICLR 2015")

DIVERGED, STUCK, OTHER = -1, -2, -3      # basin labels that are not an index into the minima


# ----------------------------------------------------------------------------- basins

@dataclass(frozen=True, eq=False)
class Basins:
    r"""Where runs of one optimizer from a grid of starts end: the result of :func:`basins`.

    ``labels[j, i]`` is the outcome of the run started at ``(xs[i], ys[j])``: an index into
    ``minima`` (the run ended within ``radius`` of that minimiser), :data:`OTHER` (a stationary
    point with a positive definite Hessian that is not in ``minima``), :data:`STUCK` ("saddle/stuck":
    not near any minimiser; a saddle, a plateau or still moving) or :data:`DIVERGED`.
    ``x_final`` holds the last iterates ``(n, n, 2)`` (NaN where diverged), ``dist`` the distance of
    each final point to its basin's minimiser (NaN unless the label is a minimum).
    ``fractions`` maps every category's name to its share of the starts (they sum to 1).
    """

    problem: object = field(repr=False)
    rule: str
    steps: int
    hyperparameters: dict
    xs: np.ndarray = field(repr=False)
    ys: np.ndarray = field(repr=False)
    labels: np.ndarray = field(repr=False)
    minima: np.ndarray = field(repr=False)
    x_final: np.ndarray = field(repr=False)
    dist: np.ndarray = field(repr=False)
    radius: float
    seconds: float = 0.0

    @property
    def names(self) -> dict:
        """``{label: name}`` for every category, minima first."""
        names = {i: "min %d (%s)" % (i, ", ".join(f"{v:.3g}" for v in m)) for i, m in enumerate(self.minima)}
        names.update({OTHER: "other minimum", STUCK: "saddle/stuck", DIVERGED: "diverged"})
        return names

    @property
    def fractions(self) -> dict:
        """``{name: share of the starts}`` for every category (zeros included); sums to 1."""
        n = self.labels.size
        return {name: float(np.count_nonzero(self.labels == k)) / n for k, name in self.names.items()}

    def max_dist(self) -> dict:
        """``{name: largest distance of a final point to that basin's minimiser}`` for each minimum reached."""
        out = {}
        for k, name in self.names.items():
            if k >= 0 and np.any(self.labels == k):
                out[name] = float(np.max(self.dist[self.labels == k]))
        return out

    def plot(self, ax=None, legend: bool = True, markers: bool = True):
        """The basin map on ``ax``: a categorical colour per outcome, the minimisers starred.

        Colours are evenly spaced samples of viridis (lightness increases monotonically),
        diverged darkest and "saddle/stuck" next, so the categories stay distinguishable in
        greyscale and for the common colour-vision deficiencies.  Returns the Axes.
        """
        import matplotlib.pyplot as plt
        from matplotlib.colors import BoundaryNorm, ListedColormap
        from matplotlib.patches import Patch

        from . import viz
        viz.style()
        if ax is None:
            _, ax = plt.subplots(constrained_layout=True)
        order = [DIVERGED, STUCK, OTHER, *range(len(self.minima))]
        colors = _category_colors(len(order))
        index = {k: i for i, k in enumerate(order)}
        img = np.vectorize(index.get, otypes=[float])(self.labels)
        cmap = ListedColormap(colors)
        norm = BoundaryNorm(np.arange(len(order) + 1) - 0.5, len(order))
        dx = (self.xs[-1] - self.xs[0]) / max(len(self.xs) - 1, 1) / 2
        dy = (self.ys[-1] - self.ys[0]) / max(len(self.ys) - 1, 1) / 2
        ax.imshow(img, origin="lower", cmap=cmap, norm=norm, interpolation="nearest", aspect="auto",
                  extent=(self.xs[0] - dx, self.xs[-1] + dx, self.ys[0] - dy, self.ys[-1] + dy))
        if markers and len(self.minima):
            m = self.minima
            ax.plot(m[:, 0], m[:, 1], ls="none", marker="*", ms=13, mfc="white", mec="black", mew=1.0)
        if legend:
            frac = self.fractions
            names = self.names
            handles = [Patch(fc=colors[index[k]], ec="0.3", label=f"{names[k]}: {frac[names[k]]:.1%}")
                       for k in order if frac[names[k]] > 0]
            ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
                      frameon=False)
        hp = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.hyperparameters.items())
        ax.set_title(f"{self.problem.name}: basins of {self.rule}({hp}), {self.steps} steps", fontsize="small")
        ax.set_xlabel("$x_0$")
        ax.set_ylabel("$x_1$")
        ax.grid(False)
        return ax


def _category_colors(k):
    from matplotlib import colormaps
    return [colormaps["viridis"](v) for v in np.linspace(0.0, 1.0, k)]


def basins(problem, rule, steps: int = 1000, n: int = 300, *, minima=None, radius: float | None = None,
           gtol: float = 1e-3, progress: bool | None = None, **hp) -> Basins:
    r"""Basins of attraction of ``rule`` on a 2-D ``problem``: one run from each cell of an ``n x n`` grid.

    The starts are ``problem.grid(n)`` (the domain); all runs are one :func:`labkit.sweep`
    (``steps`` steps each, hyperparameters ``hp``, e.g. ``lr=0.01``), so 300 x 300 x 1,000
    GD steps on Himmelblau take about 0.3 s on two cores.  Each final point :math:`x_T` is
    labelled with the nearest of ``minima`` (default ``problem.minima``, else ``(x_star,)``)
    when :math:`\|x_T - m\| \le` ``radius`` (default :math:`10^{-3}` times the domain's larger
    side); otherwise :data:`OTHER` if :math:`\|\nabla f(x_T)\| \le` ``gtol`` and the Hessian
    there (finite differences of ``grad``) is positive definite, :data:`DIVERGED` if the run
    diverged, and :data:`STUCK` ("saddle/stuck") else.  Returns :class:`Basins`.
    """
    import time

    from .sweep import sweep
    problem = check_problem("problem", problem)
    if problem.dim != 2:
        raise ValueError(f"basins needs a 2-D problem, {problem.name} has {problem.dim} coordinates")
    for key, value in hp.items():
        if isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray) and value.ndim != 0):
            raise ValueError(f"{key} must be one value in basins (one run per grid cell), got {value!r}")
    n = check_int("n", n, 2)
    check_memory(f"basins with n={n} ({n} x {n} runs)", 8.0 * 16 * n * n, per_unit=128, unit="runs")
    if minima is None:
        minima = problem.minima if len(problem.minima) else (() if problem.x_star is None else (problem.x_star,))
    M = np.asarray([np.asarray(m, dtype=np.float64).reshape(2) for m in minima]).reshape(-1, 2)
    (x_lo, x_hi), (y_lo, y_hi) = problem.domain
    if radius is None:
        radius = 1e-3 * max(x_hi - x_lo, y_hi - y_lo)
    radius = float(radius)
    if not (math.isfinite(radius) and radius > 0):
        raise ValueError(f"radius must be finite and > 0, got {radius!r}")
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        frame = sweep(problem, rule, steps, x0=problem.grid(n), progress=progress, **hp)
    seconds = time.perf_counter() - t0
    X = frame[["x_final_0", "x_final_1"]].to_numpy()
    diverged = frame["diverged"].to_numpy(bool) | ~np.all(np.isfinite(X), axis=1)
    labels = np.full(len(X), STUCK, dtype=np.int64)
    labels[diverged] = DIVERGED
    dist = np.full(len(X), np.nan)
    ok = ~diverged
    if len(M):
        D = np.linalg.norm(X[ok, None, :] - M[None, :, :], axis=2)
        near = np.argmin(D, axis=1)
        dmin = D[np.arange(len(near)), near]
        idx = np.flatnonzero(ok)
        hit = dmin <= radius
        labels[idx[hit]] = near[hit]
        dist[idx[hit]] = dmin[hit]
    rest = np.flatnonzero(labels == STUCK)
    if rest.size:
        G = _problems.grad_rows(problem, X[rest])
        still = np.linalg.norm(G, axis=1) <= gtol
        if still.any():
            H = _fd_hessians(problem, X[rest[still]])
            pd = np.all(np.linalg.eigvalsh(H) > 0, axis=1)
            labels[rest[still][pd]] = OTHER
    name = frame.attrs["rule"]
    fixed = {k: _plain(v) for k, v in hp.items()}
    return Basins(problem=problem, rule=name, steps=int(steps), hyperparameters=fixed,
                  xs=np.linspace(x_lo, x_hi, n), ys=np.linspace(y_lo, y_hi, n), labels=labels.reshape(n, n),
                  minima=M, x_final=X.reshape(n, n, 2), dist=dist.reshape(n, n), radius=radius, seconds=seconds)


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


def _fd_hessians(problem, X, h: float = 1e-5):
    """Hessians at the rows of ``X`` (m, d) by central differences of the batched gradient, symmetrised."""
    m, d = X.shape
    H = np.empty((m, d, d))
    scale = h * np.maximum(1.0, np.abs(X))
    for k in range(d):
        Xp, Xm = X.copy(), X.copy()
        Xp[:, k] += scale[:, k]
        Xm[:, k] -= scale[:, k]
        gp = _problems.grad_rows(problem, Xp)
        gm = _problems.grad_rows(problem, Xm)
        H[:, :, k] = (gp - gm) / (2.0 * scale[:, k:k + 1])
    return 0.5 * (H + np.swapaxes(H, 1, 2))


# ----------------------------------------------------------------------------- local pictures

class Curvature(NamedTuple):
    """``hessian_at``'s result: eigenvalues ascending, eigenvectors as the columns of ``vectors``."""

    x: np.ndarray
    values: np.ndarray
    vectors: np.ndarray
    hessian: np.ndarray

    @property
    def kind(self) -> str:
        """``"minimum"``, ``"maximum"``, ``"saddle"`` or ``"degenerate"`` (by the signs of the eigenvalues)."""
        v = self.values
        tol = 1e-10 * max(1.0, float(np.max(np.abs(v))))
        if np.any(np.abs(v) <= tol):
            return "degenerate"
        return "minimum" if v[0] > 0 else "maximum" if v[-1] < 0 else "saddle"


def hessian_at(problem, x) -> Curvature:
    r"""The Hessian of ``problem`` at ``x``, its eigenvalues (curvatures, ascending) and eigen-directions.

    Uses ``problem.hess`` when there is one (exact), else central differences of ``grad``.
    ``values[i]`` is the curvature :math:`u_i^\top \nabla^2 f(x) u_i` along the unit
    eigenvector ``vectors[:, i]``: gradient descent is locally stable along it for
    :math:`\eta < 2/\lambda_i` when :math:`\lambda_i > 0`.
    """
    problem = check_problem("problem", problem)
    x = check_array("x", x, what="a point").reshape(-1)
    if x.shape != (problem.dim,):
        raise ValueError(f"x must have {problem.dim} coordinates for {problem.name}, got {x.shape}")
    if problem.hess is not None:
        H = np.asarray(problem.hess(x), dtype=np.float64)
    else:
        H = _fd_hessians(problem, x[None])[0]
    H = 0.5 * (H + H.T)
    values, vectors = np.linalg.eigh(H)
    return Curvature(x, values, vectors, H)


class GradientField(NamedTuple):
    """``gradient_field``'s result: grid ``X, Y`` (n, n) and the gradient components ``U, V`` there."""

    X: np.ndarray
    Y: np.ndarray
    U: np.ndarray
    V: np.ndarray


def gradient_field(problem, n: int = 20) -> GradientField:
    """The gradient of ``problem`` on an ``n x n`` grid over its domain (first two coordinates).

    For more than two coordinates the others are those of ``x_star`` (else ``x0``), as in
    :func:`labkit.viz.contour`.  Draw the descent direction with ``ax.quiver(X, Y, -U, -V)``.
    """
    problem = check_problem("problem", problem)
    if problem.dim < 2:
        raise ValueError(f"gradient_field needs 2 or more coordinates, {problem.name} has {problem.dim}")
    n = check_int("n", n, 2)
    check_memory(f"gradient_field with n={n} ({n} x {n} points)", 8.0 * n * n * (2 * problem.dim + 4),
                 per_unit=8.0 * (2 * problem.dim + 4), unit="points")
    (x_lo, x_hi), (y_lo, y_hi) = problem.domain
    X, Y = np.meshgrid(np.linspace(x_lo, x_hi, n), np.linspace(y_lo, y_hi, n))
    anchor = problem.x_star if problem.x_star is not None else problem.x0
    P = np.repeat(np.asarray(anchor, dtype=np.float64).reshape(1, -1), n * n, axis=0)
    P[:, 0], P[:, 1] = X.ravel(), Y.ravel()
    G = _problems.grad_rows(problem, P)
    return GradientField(X, Y, G[:, 0].reshape(n, n), G[:, 1].reshape(n, n))


# ----------------------------------------------------------------------------- directions

def _layout(model, dim=None):
    """The parameter blocks of ``model`` as (offset, shape) pairs; a plain vector is one 1-D block."""
    if isinstance(model, (int, np.integer)) and not isinstance(model, bool):
        if model < 1:
            raise ValueError(f"dimension must be >= 1, got {model}")
        return [(0, (int(model),))], int(model)
    shapes = getattr(model, "shapes", None)
    if shapes is None:
        raise ValueError("model must be a labkit MLP (lk.nets.mlp), a Problem or a dimension (int), "
                         f"got {type(model).__name__}")
    blocks, off = [], 0
    for s in shapes:
        s = tuple(int(v) for v in np.atleast_1d(s))
        blocks.append((off, s))
        off += int(np.prod(s))
    return blocks, off


def _dim(model) -> int:
    return _layout(model)[1]


def random_directions(model, center=None, seed: int = 0, *, n: int = 2, normalize: str | None = "filter",
                      bias: str = "zero", filter_normalize: bool | None = None) -> np.ndarray:
    r"""``n`` random directions (rows of the result, shape ``(n, P)``) around ``center``, normalised as Li et al. (2018).

    Each direction starts as :math:`d \sim N(0, I)` (NumPy, seeded by ``(seed, i)``: the same
    draw for the same seed whatever the normalisation).  ``normalize``:

    * ``"filter"`` (Li et al., Sec. 4): for every filter of every layer, here every row
      :math:`W_{l,j}` of a weight matrix (one output neuron's incoming weights, as
      ``torch.nn.Linear.weight``), :math:`d_{l,j} \leftarrow d_{l,j}\,\|\theta_{l,j}\| / \|d_{l,j}\|`
      with :math:`\theta` = ``center``.  Vector blocks (biases) follow ``bias``: ``"zero"``
      (the paper's plots, ``--xignore biasbn`` in its code: biases are not moved) or
      ``"weights"`` (the code's other branch: :math:`d_b = \theta_b`).  A model that is one
      plain vector (``rosenbrock_nd``, an int dimension) has no filters: the whole vector is
      one filter, :math:`d \leftarrow d\,\|\theta\| / \|d\|`;
    * ``"layer"``: the same with a whole block as the unit;
    * ``"coordinate"``: :math:`d_i \leftarrow d_i\,|\theta_i|` (each coordinate scaled by its
      weight; zero where the weight is zero);
    * ``None``: the raw Gaussian draw (what filter normalisation fixes, see :func:`rescaling_demo`).

    ``model``: a :class:`labkit.nets.MLP`, a :class:`labkit.Problem` (its ``shapes``) or a
    dimension ``P``.  ``center`` is required for every normalisation but ``None`` (a dimension
    without ``center`` gets unit-norm directions).  ``filter_normalize=True/False`` is shorthand
    for ``normalize="filter"``/``None``.
    """
    if filter_normalize is not None:
        normalize = "filter" if filter_normalize else None
    if normalize not in ("filter", "layer", "coordinate", None):
        raise ValueError(f"normalize must be 'filter', 'layer', 'coordinate' or None, got {normalize!r}")
    if bias not in ("zero", "weights"):
        raise ValueError(f"bias must be 'zero' or 'weights', got {bias!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    blocks, P = _layout(model)
    plain = len(blocks) == 1 and len(blocks[0][1]) == 1
    if center is None:
        if normalize is not None and not isinstance(model, (int, np.integer)):
            center = getattr(model, "x0")
        elif normalize is not None:
            normalize = "unit"
    if center is not None:
        center = np.asarray(center, dtype=np.float64).reshape(-1)
        if center.shape != (P,):
            raise ValueError(f"center must have shape ({P},), got {center.shape}")
        if not np.all(np.isfinite(center)):
            raise ValueError("center must be finite")
    out = np.empty((int(n), P))
    for i in range(int(n)):
        d = np.random.default_rng((int(seed), i)).standard_normal(P)
        if normalize == "unit":
            d /= np.linalg.norm(d)
        elif normalize == "coordinate":
            d *= np.abs(center)
        elif normalize is not None:
            for off, shape in blocks:
                size = int(np.prod(shape))
                dv, wv = d[off:off + size], center[off:off + size]
                if len(shape) == 1 and not plain:                   # a bias vector
                    if bias == "zero":
                        dv[:] = 0.0
                    else:
                        dv[:] = wv
                    continue
                rows = shape[0] if (len(shape) == 2 and normalize == "filter") else 1
                D, Wm = dv.reshape(rows, -1), wv.reshape(rows, -1)
                # Li et al.'s code adds 1e-10 to ||d||; a zero-norm draw does not occur in float64.
                D *= (np.linalg.norm(Wm, axis=1) / np.linalg.norm(D, axis=1))[:, None]
        out[i] = d
    return out


def plane_through(center, *points) -> np.ndarray:
    r"""Orthonormal directions (rows) spanning ``points - center`` (Gram-Schmidt, in order).

    The plane through a common start and two optimizers' end points contains both end points
    exactly: a plane that several paths can share without random directions.  Directions
    are scaled to the length of the first offset so that the plane's coordinates read in
    units of it.
    """
    c = np.asarray(center, dtype=np.float64).reshape(-1)
    if not points:
        raise ValueError("plane_through needs at least one point besides the center")
    basis = []
    for p in points:
        v = np.asarray(p, dtype=np.float64).reshape(-1) - c
        if v.shape != c.shape:
            raise ValueError(f"every point must have shape {c.shape}, got {v.shape}")
        for b in basis:
            v = v - (v @ b) * b
        nv = np.linalg.norm(v)
        if not nv > 1e-12 * max(1.0, np.linalg.norm(c)):
            raise ValueError("the points are (nearly) linearly dependent: they do not span a plane")
        basis.append(v / nv)
    scale = np.linalg.norm(np.asarray(points[0], dtype=np.float64).reshape(-1) - c)
    return np.array(basis) * scale


# ----------------------------------------------------------------------------- slices

def _batched_f(model):
    """``F(thetas (m, P)) -> (m,)`` for an MLP (``f_batch``), a Problem (vectorised f) or a callable.

    (A hand-written batched forward, ``torch.baddbmm`` over the batch, was tried here: no
    faster than ``MLP.f_batch``'s ``torch.func.vmap``, 0.60 s against 0.48 s for a 100 x 100
    slice of a 9.8k-parameter net measured side by side, so it went.)
    """
    if hasattr(model, "f_batch"):
        return model.f_batch
    f = getattr(model, "f", model)
    if not callable(f):
        raise ValueError(f"expected an MLP, a Problem or a function, got {type(model).__name__}")

    def F(thetas):
        return _problems.evaluate_rows(f, thetas)
    return F


class Slice2D(NamedTuple):
    r"""``slice_2d``'s result: ``loss[j, i]`` = :math:`L(c + \alpha_i d_1 + \beta_j d_2)`."""

    alphas: np.ndarray
    betas: np.ndarray
    loss: np.ndarray
    center: np.ndarray
    d1: np.ndarray
    d2: np.ndarray
    seconds: float

    @property
    def center_loss(self) -> float:
        """The loss at the centre of the grid (``n`` odd: exactly at ``center``)."""
        return float(self.loss[len(self.betas) // 2, len(self.alphas) // 2])

    def plot(self, ax=None, paths=None, levels: int = 30, log: bool = True, surface: bool = False):
        r"""Contours of the slice (of :math:`\log_{10}` of the loss when ``log``), with ``paths``.

        ``paths``: ``{label: (T, 2) coordinates}`` (e.g. :func:`project_path`'s ``coords``), drawn
        from an open circle to a filled one.  ``surface=True`` draws a 3-D surface instead (``ax``
        then must be a 3-D Axes or None).  Returns the Axes.
        """
        import matplotlib.pyplot as plt

        from . import viz
        viz.style()
        A, B = np.meshgrid(self.alphas, self.betas)
        Z = _log_loss(self.loss) if log else self.loss
        if surface:
            if ax is None:
                ax = plt.figure(constrained_layout=True).add_subplot(projection="3d")
            ax.plot_surface(A, B, Z, cmap=viz.CMAP, linewidth=0, antialiased=True, rcount=60, ccount=60)
            ax.set_zlabel("log10 loss" if log else "loss")
        else:
            if ax is None:
                _, ax = plt.subplots(constrained_layout=True)
            cs = ax.contourf(A, B, Z, levels=levels, cmap=viz.CMAP)
            ax.contour(A, B, Z, levels=levels, colors="white", linewidths=0.3, alpha=0.45)
            ax.figure.colorbar(cs, ax=ax, label="log10 loss" if log else "loss")
            ax.plot([0.0], [0.0], ls="none", marker="+", ms=10, color="white")
            for (label, xy), st in zip((paths or {}).items(), viz.series_styles(len(paths or {}))):
                color = st["color"]
                xy = np.asarray(xy, dtype=np.float64)
                ax.plot(xy[:, 0], xy[:, 1], lw=1.5, label=label, **st)
                ax.plot(xy[:1, 0], xy[:1, 1], ls="none", marker="o", ms=6, mfc="white", mec=color)
                ax.plot(xy[-1:, 0], xy[-1:, 1], ls="none", marker="o", ms=5, color=color, mec="white")
            if paths:
                ax.legend(loc="best", fontsize="small")
            ax.set_xlim(self.alphas[0], self.alphas[-1])
            ax.set_ylim(self.betas[0], self.betas[-1])
            ax.grid(False)
        ax.set_xlabel("α (along d1)")
        ax.set_ylabel("β (along d2)")
        return ax


def _log_loss(L):
    L = np.asarray(L, dtype=np.float64)
    ok = np.isfinite(L) & (L > 0)
    floor = 0.5 * float(L[ok].min()) if ok.any() else 1e-300
    return np.log10(np.where(ok, L, floor))


def _grid(span, n):
    """``n`` points over ``span`` (a half-width or (lo, hi)); for a symmetric span and odd n the middle is exactly 0."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    n = int(n)
    if np.ndim(span) == 0:
        s = float(span)
        if not (math.isfinite(s) and s > 0):
            raise ValueError(f"span must be > 0 (a half-width) or a pair (lo, hi), got {span!r}")
        half = (n - 1) / 2
        return s * ((np.arange(n) - half) / half)
    lo, hi = (float(v) for v in span)
    if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
        raise ValueError(f"span must be (lo, hi) with lo < hi, got {span!r}")
    return np.linspace(lo, hi, n)


def slice_2d(model, center, d1, d2, span=1.0, n: int = 51, *, chunk: int = 512,
             progress: bool | None = None) -> Slice2D:
    r"""The loss on the plane :math:`c + \alpha d_1 + \beta d_2`, on an ``n x n`` grid, batched.

    ``model``: a :class:`labkit.nets.MLP` (batched through ``f_batch``, ``torch.func.vmap``), a
    :class:`labkit.Problem` (its vectorised ``f``) or a function of a point (vectorised if it
    accepts ``(m, P)``).  ``span``: half-width of both axes (``alphas = betas`` from
    :math:`-s` to :math:`s`; with ``n`` odd the middle point is exactly ``center``) or ``(lo, hi)``.
    Points are built and evaluated ``chunk`` at a time (memory stays ``chunk x P`` floats);
    a tqdm bar shows when the slice will take more than about a second (``progress``
    forces it).  A 100 x 100 slice of a 10k-parameter MLP on 40 points takes about a second.
    """
    import time
    c = np.asarray(center, dtype=np.float64).reshape(-1)
    P = c.size
    D = np.stack([np.asarray(d, dtype=np.float64).reshape(-1) for d in (d1, d2)])
    if D.shape != (2, P):
        raise ValueError(f"d1 and d2 must have the shape of center ({P},), got {np.shape(d1)} and {np.shape(d2)}")
    if not (np.all(np.isfinite(c)) and np.all(np.isfinite(D))):
        raise ValueError("center, d1 and d2 must be finite")
    if hasattr(model, "n_params") and model.n_params != P:
        raise ValueError(f"center has {P} entries, the model {model.n_params} parameters")
    alphas = _grid(span, n)
    betas = alphas.copy()
    F = _batched_f(model)
    A, B = np.meshgrid(alphas, betas)
    coef = np.column_stack([A.ravel(), B.ravel()])
    m = coef.shape[0]
    out = np.empty(m)
    t0 = time.perf_counter()
    # One chunk first, to decide on the bar from its time.
    edges = list(range(0, m, int(chunk))) + [m]
    from tqdm.auto import tqdm
    bar = None
    for k, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
        pts = c + coef[lo:hi, :1] * D[0]          # (c + a d1) + b d2, as a row-by-row loop would form it
        pts += coef[lo:hi, 1:] * D[1]
        out[lo:hi] = F(pts)
        if k == 0:
            est = (time.perf_counter() - t0) * (len(edges) - 1)
            show = est > 1.0 if progress is None else bool(progress)
            bar = tqdm(total=m, disable=not show, desc="slice_2d", unit="pt", leave=False)
        bar.update(hi - lo)
    if bar is not None:
        bar.close()
    return Slice2D(alphas, betas, out.reshape(n, n), c, D[0].copy(), D[1].copy(), time.perf_counter() - t0)


class Interpolation(NamedTuple):
    r"""``interpolate_1d``'s result: ``loss[i]`` = :math:`L((1-\alpha_i)\,a + \alpha_i\, b)`."""

    alphas: np.ndarray
    loss: np.ndarray


def interpolate_1d(model, a, b, n: int = 51, span=(-0.5, 1.5)) -> Interpolation:
    r"""The loss on the line through ``a`` (:math:`\alpha = 0`) and ``b`` (:math:`\alpha = 1`), batched.

    :math:`L((1-\alpha) a + \alpha b)` for ``n`` values of :math:`\alpha` over ``span``
    (Goodfellow et al. 2015: from the initialisation to the solution, and past both ends).
    ``model`` as in :func:`slice_2d`.
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    b = np.asarray(b, dtype=np.float64).reshape(-1)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    alphas = _grid(span, n)
    pts = (1.0 - alphas)[:, None] * a + alphas[:, None] * b
    return Interpolation(alphas, np.asarray(_batched_f(model)(pts), dtype=np.float64).reshape(-1))


# ----------------------------------------------------------------------------- paths on a plane

class PathProjection(NamedTuple):
    """``project_path``'s result: plane coordinates ``coords`` (T, 2) and the distance of each point off the plane."""

    coords: np.ndarray
    residual: np.ndarray


def project_path(path, center, d1, d2) -> PathProjection:
    r"""Least-squares coordinates :math:`(\alpha_t, \beta_t)` of each iterate on the plane :math:`c + \alpha d_1 + \beta d_2`.

    :math:`\min_{\alpha,\beta} \|x_t - c - \alpha d_1 - \beta d_2\|` (the directions need not be
    orthogonal); ``residual[t]`` is that minimum, how far :math:`x_t` is from the plane.  A
    point on the plane is recovered exactly (to rounding).  ``path``: an array ``(T, P)`` or a
    :class:`labkit.Trajectory`.
    """
    X = np.asarray(getattr(path, "xs", path), dtype=np.float64)
    c = np.asarray(center, dtype=np.float64).reshape(-1)
    if X.ndim != 2 or X.shape[1] != c.size:
        raise ValueError(f"path must have shape (T, {c.size}), got {X.shape}")
    D = np.column_stack([np.asarray(d1, dtype=np.float64).reshape(-1), np.asarray(d2, dtype=np.float64).reshape(-1)])
    if D.shape != (c.size, 2):
        raise ValueError(f"d1 and d2 must have shape ({c.size},)")
    Q, R = np.linalg.qr(D)
    if abs(R[1, 1]) <= 1e-12 * abs(R[0, 0]):
        raise ValueError("d1 and d2 are (nearly) parallel: they do not span a plane")
    Y = X - c
    coords = np.linalg.solve(R, Q.T @ Y.T).T
    resid = np.linalg.norm(Y - coords @ D.T, axis=1)
    return PathProjection(coords, resid)


class PCAPlane(NamedTuple):
    """``pca_plane``'s result: the plane through ``center`` spanned by the path's two principal directions."""

    center: np.ndarray
    d1: np.ndarray
    d2: np.ndarray
    explained: np.ndarray
    coords: np.ndarray


def pca_plane(path, center=None) -> PCAPlane:
    r"""The plane of a trajectory's two principal components (Li et al. 2018, Sec. 7).

    PCA (centred, by SVD) of the iterates :math:`x_t - x_T`; ``d1``, ``d2`` are the two unit
    principal directions, ``explained`` their explained-variance ratios, and ``coords`` the
    iterates' coordinates on the plane through ``center`` (default the final iterate, as
    in the paper).  The plane is a property of the path: another optimizer's path has its
    own, so two paths cannot be compared on one PCA plane (use :func:`random_directions` or
    :func:`plane_through`).
    """
    X = np.asarray(getattr(path, "xs", path), dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 3:
        raise ValueError(f"path must have shape (T, P) with T >= 3, got {X.shape}")
    if X.shape[1] < 2:
        raise ValueError("pca_plane needs 2 or more coordinates")
    c = X[-1] if center is None else np.asarray(center, dtype=np.float64).reshape(-1)
    M = X - X[-1]
    M = M - M.mean(axis=0)
    _, s, Vt = np.linalg.svd(M, full_matrices=False)
    var = s ** 2
    explained = var[:2] / var.sum() if var.sum() > 0 else np.zeros(2)
    d1, d2 = Vt[0], Vt[1]
    coords = (X - c) @ np.column_stack([d1, d2])
    return PCAPlane(c, d1, d2, explained, coords)


# ----------------------------------------------------------------------------- the rescaling demo

def rescale_layers(model, theta, layer: int, alpha: float) -> np.ndarray:
    r"""``theta`` with layer ``layer``'s weights and bias times ``alpha`` and layer ``layer+1``'s weights over ``alpha``.

    For a ReLU network (positively homogeneous: :math:`\mathrm{relu}(\alpha z) = \alpha\,\mathrm{relu}(z)`,
    :math:`\alpha > 0`) the function, hence the loss, is unchanged; the weights' scale is not
    (Dinh et al. 2017, "Sharp minima can generalize for deep nets").  Layers count from 0.
    """
    alpha = float(alpha)
    if not (math.isfinite(alpha) and alpha > 0):
        raise ValueError(f"alpha must be finite and > 0, got {alpha!r}")
    layers = getattr(model, "layers", None)
    if layers is None:
        raise ValueError("rescale_layers needs a labkit MLP (lk.nets.mlp)")
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 0 <= layer < len(layers) - 1:
        raise ValueError(f"layer must be an integer in [0, {len(layers) - 2}] (it and the next one are rescaled), "
                         f"got {layer!r}")
    blocks = [b.copy() for b in model.unflatten(np.asarray(theta, dtype=np.float64))]
    blocks[2 * layer] *= alpha
    blocks[2 * layer + 1] *= alpha
    blocks[2 * layer + 2] /= alpha
    return model.flatten(blocks)


@dataclass(frozen=True, eq=False)
class RescalingDemo:
    """``rescaling_demo``'s result: four slices and how much each pair differs."""

    alpha: float
    layer: int
    function_change: float          # max |L(theta') - L(theta)| over the batch of the slice centre
    raw: tuple                      # (original, rescaled) slices, unnormalised directions
    filtered: tuple                 # (original, rescaled) slices, filter-normalised directions

    @property
    def max_diff_raw(self) -> float:
        return float(np.max(np.abs(self.raw[0].loss - self.raw[1].loss)))

    @property
    def max_diff_filtered(self) -> float:
        return float(np.max(np.abs(self.filtered[0].loss - self.filtered[1].loss)))

    def plot(self, axes=None):
        """Four panels: raw directions (top), filter-normalised (bottom); original (left), rescaled (right)."""
        from . import viz
        if axes is None:
            _, axes = viz.subplots(2, 2, height=7.5)      # 8 in: readable projected (#19)
        axes = np.asarray(axes)
        for row, (name, pair, diff) in enumerate((("raw directions", self.raw, self.max_diff_raw),
                                                  ("filter-normalised", self.filtered, self.max_diff_filtered))):
            for col, (tag, s) in enumerate(zip(("original", f"layer {self.layer} x{self.alpha:g}, "
                                                            f"layer {self.layer + 1} /{self.alpha:g}"), pair)):
                ax = axes[row, col]
                s.plot(ax=ax)
                ax.set_title(f"{name}: {tag}" + (f"\nmax |difference| = {diff:.2g}" if col else ""),
                             fontsize="small")
        return axes


def rescaling_demo(model, center, alpha: float = 10.0, layer: int = 0, seed: int = 0, span: float = 1.0,
                   n: int = 41) -> RescalingDemo:
    r"""The same ReLU network, rescaled (:func:`rescale_layers`): slices with and without filter normalisation.

    The directions are the same Gaussian draw (``seed``) in all four slices.  Without
    normalisation, the slice around the rescaled weights differs from the original one
    (the loss is the same function of the network, but a fixed step means a different
    relative change per layer).  With filter normalisation the directions scale with the
    weights, :math:`\theta' + \alpha d' = T(\theta + \alpha d)` for the rescaling map
    :math:`T`, so the two slices agree to rounding: what Li et al. (2018, Sec. 4) built it for.
    """
    if getattr(model, "activation", None) != "relu":
        raise ValueError("the rescaling symmetry holds for ReLU networks: build the model with activation='relu'")
    c = np.asarray(center, dtype=np.float64).reshape(-1)
    c2 = rescale_layers(model, c, layer, alpha)
    change = abs(model.f(c2) - model.f(c))
    raw = tuple(slice_2d(model, x, *random_directions(model, x, seed, normalize=None), span=span, n=n)
                for x in (c, c2))
    filt = tuple(slice_2d(model, x, *random_directions(model, x, seed, normalize="filter"), span=span, n=n)
                 for x in (c, c2))
    return RescalingDemo(float(alpha), int(layer), float(change), raw, filt)
