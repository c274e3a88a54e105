r"""Stability analysis for the step-size lab: closed-form theory on quadratics, stability maps, sharpness.

On a quadratic :math:`f(x) = \tfrac12 (x - c)^\top A (x - c)` with eigenpairs
:math:`A u_i = \lambda_i u_i`, every first-order method with constant hyperparameters is
linear, and decouples into one small linear recurrence per eigendirection.  Everything here
is checked against ``lk.run`` / ``lk.sweep`` trajectories in ``tests/test_analysis.py``.

References: B. T. Polyak, USSR Comput. Math. & Math. Phys. 4(5), 1964; G. Goh, "Why Momentum
Really Works", Distill 2017; L. Lessard, B. Recht, A. Packard, SIAM J. Optim. 26(1), 2016;
J. Cohen, S. Kaur, Y. Li, J. Z. Kolter, A. Talwalkar, "Gradient Descent on Neural Networks
Typically Occurs at the Edge of Stability", ICLR 2021.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ._errors import check_array, shown

__all__ = [
    "Boundary",
    "EigenRates",
    "OptimalStep",
    "StabilityMap",
    "divergence_threshold",
    "eigen_rates",
    "error_split",
    "gd_optimal_lr",
    "gd_stability_limit",
    "heavy_ball_limit",
    "iteration_matrix",
    "nesterov_limit",
    "polyak_optimal",
    "sharpness",
    "sharpness_power",
    "softmax_radius",
    "stability_map",
]

_REF_POLYAK = "B. T. Polyak, USSR Comput. Math. & Math. Phys. 4(5):1-17, 1964"
_REF_GOH = "G. Goh, 'Why Momentum Really Works', Distill 2017"
_REF_LRP = "L. Lessard, B. Recht, A. Packard, SIAM J. Optim. 26(1):57-95, 2016"
_REF_COHEN = "J. Cohen et al., 'Gradient Descent on Neural Networks Typically Occurs at the Edge of Stability', ICLR 2021"


# ----------------------------------------------------------------------------- result types

class OptimalStep(NamedTuple):
    """Optimal constant hyperparameters on a quadratic and the linear rate they achieve."""

    lr: float
    momentum: float
    rate: float


class EigenRates(NamedTuple):
    """Per-eigendirection linear rates: ``eigenvectors[:, i]`` belongs to ``eigenvalues[i]``."""

    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    rates: np.ndarray


class Boundary(NamedTuple):
    """A theoretical stability limit curve: the largest stable ``lr`` at each ``momentum``."""

    momentum: np.ndarray
    lr: np.ndarray


# ----------------------------------------------------------------------------- helpers

def _is_problem(obj) -> bool:
    from .problems import Problem
    return isinstance(obj, Problem)


def _quadratic_parts(problem, argname="problem"):
    """(A, c) of a built-in quadratic; ValueError naming ``argname`` otherwise."""
    from .problems import QUADRATIC
    if not _is_problem(problem):
        raise ValueError(f"{argname} must be a labkit Problem, got {type(problem).__name__}")
    d = problem.dim
    if problem.kernel != QUADRATIC or problem.params.size != d * d + d:
        raise ValueError(f"{argname} must be a quadratic problem (lk.problems.quadratic), got {problem.name}; "
                         f"for another problem pass the eigenvalues of its Hessian instead, "
                         f"e.g. np.linalg.eigvalsh(problem.hess(problem.x_star))")
    A = problem.params[:d * d].reshape(d, d)
    c = problem.params[d * d:d * d + d]
    return A, c


def eigenvalues(problem_or_eigs, argname="problem_or_eigs") -> np.ndarray:
    """Sorted eigenvalues from a quadratic problem or a 1-D sequence of them (ValueError for any other problem)."""
    if _is_problem(problem_or_eigs):
        A, _ = _quadratic_parts(problem_or_eigs, argname)
        lam = np.linalg.eigvalsh(A)
    else:
        try:
            lam = np.asarray(problem_or_eigs, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{argname} must be a quadratic Problem or a 1-D sequence of eigenvalues, "
                             f"got {problem_or_eigs!r}") from None
        if lam.ndim != 1 or lam.size == 0 or not np.all(np.isfinite(lam)):
            raise ValueError(f"{argname} must be a quadratic Problem or a non-empty 1-D sequence of finite "
                             f"eigenvalues, got shape {lam.shape}")
        lam = np.sort(lam)
    return lam




def _positive_top(lam, argname):
    if lam[-1] <= 0:
        raise ValueError(f"{argname}: the largest eigenvalue must be > 0 (got {lam[-1]:g}); "
                         f"no step size makes a non-convex quadratic converge")
    return float(lam[-1])


def _momentum(momentum, argname="momentum", open_zero=False):
    try:
        mu = float(momentum)
    except (TypeError, ValueError):
        raise ValueError(f"{argname} must be a number in [0, 1), got {momentum!r}") from None
    if not (math.isfinite(mu) and (mu > 0 if open_zero else mu >= 0) and mu < 1):
        raise ValueError(f"{argname} must be in {'(0' if open_zero else '[0'}, 1), got {momentum!r}")
    return mu


# ----------------------------------------------------------------------------- closed-form limits

def gd_stability_limit(problem_or_eigs) -> float:
    r"""Largest stable step of gradient descent on a quadratic, :math:`\eta_{max} = 2/\lambda_{max}`.

    GD gives :math:`x_t - c = (I - \eta A)(x_{t-1} - c)`; along eigenvector :math:`u_i` the
    error is multiplied by :math:`1 - \eta\lambda_i` each step, so GD converges iff
    :math:`|1 - \eta\lambda_i| < 1` for all :math:`i`, i.e. :math:`0 < \eta < 2/\lambda_{max}`
    (for :math:`\lambda_{min} > 0`).  At :math:`\eta = 2/\lambda_{max}` the top direction
    oscillates without decay; above it, it grows as :math:`|1-\eta\lambda_{max}|^t`.

    ``problem_or_eigs`` is a quadratic problem (``lk.problems.quadratic``) or the
    eigenvalues of the Hessian (for any other problem, e.g. at its minimiser).

    References: Goh, "Why Momentum Really Works", Distill 2017; Cohen et al., ICLR 2021, §2.
    """
    return 2.0 / _positive_top(eigenvalues(problem_or_eigs), "problem_or_eigs")


def gd_optimal_lr(problem_or_eigs) -> OptimalStep:
    r"""The fastest constant GD step on a quadratic and its rate.

    .. math::
        \eta^* = \frac{2}{\lambda_{min} + \lambda_{max}}, \qquad
        \rho^* = \max_i |1 - \eta^*\lambda_i| = \frac{\kappa - 1}{\kappa + 1},
        \quad \kappa = \lambda_{max}/\lambda_{min}.

    It balances the slowest (:math:`\lambda_{min}`) and the most oscillating
    (:math:`\lambda_{max}`) directions.  Returns ``OptimalStep(lr, momentum=0.0, rate)``.
    Needs :math:`\lambda_{min} > 0`.

    References: Polyak 1964; Goh, Distill 2017; Lessard, Recht, Packard 2016, §2.
    """
    lam = eigenvalues(problem_or_eigs)
    if lam[0] <= 0:
        raise ValueError(f"problem_or_eigs: the smallest eigenvalue must be > 0 (got {lam[0]:g})")
    lo, hi = float(lam[0]), float(lam[-1])
    kappa = hi / lo
    return OptimalStep(2.0 / (lo + hi), 0.0, (kappa - 1.0) / (kappa + 1.0))


def heavy_ball_limit(problem_or_eigs, momentum: float) -> float:
    r"""Largest stable step of heavy-ball momentum (torch ``SGD(momentum=mu)``) on a quadratic.

    In torch's form :math:`b_t = \mu b_{t-1} + g_t`, :math:`x_t = x_{t-1} - \eta b_t`, each
    eigendirection follows :math:`(e_t, b_t) = M (e_{t-1}, b_{t-1})` with characteristic
    polynomial :math:`z^2 - (1 + \mu - \eta\lambda) z + \mu` (see :func:`iteration_matrix`).
    By the Jury criterion both roots lie in the unit disc iff :math:`0 \le \mu < 1` and
    :math:`0 < \eta\lambda < 2 + 2\mu`, hence

    .. math:: \eta_{max}(\mu) = \frac{2 + 2\mu}{\lambda_{max}}.

    References: Polyak 1964; Goh, Distill 2017; Cohen et al., ICLR 2021 (appendix).
    """
    mu = _momentum(momentum)
    return (2.0 + 2.0 * mu) / _positive_top(eigenvalues(problem_or_eigs), "problem_or_eigs")


def nesterov_limit(problem_or_eigs, momentum: float) -> float:
    r"""Largest stable step of Nesterov momentum (torch ``SGD(nesterov=True)``) on a quadratic.

    Torch's form :math:`b_t = \mu b_{t-1} + g_t`, :math:`x_t = x_{t-1} - \eta (g_t + \mu b_t)`
    gives the characteristic polynomial
    :math:`z^2 - (1 + \mu - \eta\lambda(1+\mu)) z + \mu(1 - \eta\lambda)` per eigendirection;
    the Jury conditions reduce to :math:`0 < \eta\lambda < (2 + 2\mu)/(1 + 2\mu)`, hence

    .. math:: \eta_{max}(\mu) = \frac{2 + 2\mu}{(1 + 2\mu)\,\lambda_{max}}.

    References: Lessard, Recht, Packard 2016, §3; Cohen et al., ICLR 2021 (appendix).
    """
    mu = _momentum(momentum)
    return (2.0 + 2.0 * mu) / ((1.0 + 2.0 * mu) * _positive_top(eigenvalues(problem_or_eigs), "problem_or_eigs"))


def polyak_optimal(problem_or_eigs) -> OptimalStep:
    r"""Polyak's optimal heavy-ball hyperparameters on a quadratic and their rate.

    .. math::
        \eta^* = \frac{4}{(\sqrt{\lambda_{max}} + \sqrt{\lambda_{min}})^2}, \qquad
        \mu^* = \left(\frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}\right)^2, \qquad
        \rho^* = \sqrt{\mu^*} = \frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}.

    With these, every eigendirection's iteration matrix has complex (or double) roots of
    modulus :math:`\sqrt{\mu^*}`.  The step is the same for torch's form
    :math:`x_t = x_{t-1} - \eta b_t` and Polyak's :math:`x_{t+1} = x_t - \alpha\nabla f + \beta(x_t - x_{t-1})`
    (constant lr).  The rate is asymptotic: at the extreme eigenvalues the roots are double,
    so the error decays as :math:`t\rho^t` there.

    References: Polyak 1964, §4; Goh, Distill 2017; Lessard, Recht, Packard 2016, Prop. 1.
    """
    lam = eigenvalues(problem_or_eigs)
    if lam[0] <= 0:
        raise ValueError(f"problem_or_eigs: the smallest eigenvalue must be > 0 (got {lam[0]:g})")
    s_lo, s_hi = math.sqrt(lam[0]), math.sqrt(lam[-1])
    rate = (s_hi - s_lo) / (s_hi + s_lo)
    return OptimalStep(4.0 / (s_hi + s_lo) ** 2, rate * rate, rate)


# ----------------------------------------------------------------------------- per-direction dynamics

def _sgd_hp(rule, hyperparameters, argname="rule"):
    from . import optim as _optim
    try:
        rule = _optim.get(rule, **hyperparameters)
    except ValueError as exc:
        raise ValueError(f"{argname}: {exc}") from None
    if rule.name != "sgd":
        raise ValueError(f"{argname} must be sgd (with or without momentum/nesterov): the closed-form analysis "
                         f"covers linear rules only, got {rule.name}")
    hp = rule.hyperparameters
    return (float(hp["lr"]), float(hp["momentum"]), float(hp["dampening"]), bool(hp["nesterov"]),
            float(hp["weight_decay"]))


def iteration_matrix(lam: float, lr: float, momentum: float = 0.0, *, nesterov: bool = False,
                     dampening: float = 0.0) -> np.ndarray:
    r"""The linear map of one torch-SGD step along an eigendirection with curvature ``lam``.

    With error :math:`e = u^\top(x - c)`, gradient :math:`g = \lambda e` and buffer
    :math:`b` (torch: :math:`b_t = \mu b_{t-1} + (1-\tau) g_t`), the state
    :math:`(e_t, b_t) = M (e_{t-1}, b_{t-1})` with

    .. math::
        M_{hb} = \begin{pmatrix} 1 - \eta(1-\tau)\lambda & -\eta\mu \\ (1-\tau)\lambda & \mu \end{pmatrix},
        \qquad
        M_{nag} = \begin{pmatrix} 1 - \eta\lambda(1+\mu) & -\eta\mu^2 \\ \lambda & \mu \end{pmatrix},

    and the 1x1 :math:`M = (1 - \eta\lambda)` without momentum.  (torch sets :math:`b_1 = g_1`,
    which changes only the first step, not :math:`M`.)  The asymptotic rate along the
    direction is the spectral radius :math:`\rho(M)`.

    References: Polyak 1964; Goh, Distill 2017; Lessard, Recht, Packard 2016, §2-3.
    """
    from ._errors import check_bool, check_real
    lam, eta, mu, tau = (check_real(k, v) for k, v in (("lam", lam), ("lr", lr), ("momentum", momentum),
                                                       ("dampening", dampening)))
    nesterov = check_bool("nesterov", nesterov)
    if mu == 0.0:
        return np.array([[1.0 - eta * lam]])
    if nesterov:
        return np.array([[1.0 - eta * lam * (1.0 + mu), -eta * mu * mu], [lam, mu]])
    return np.array([[1.0 - eta * (1.0 - tau) * lam, -eta * mu], [(1.0 - tau) * lam, mu]])


def eigen_rates(problem, rule="sgd", **hyperparameters) -> EigenRates:
    r"""Eigendecomposition of a quadratic and the linear rate of ``rule`` along each eigenvector.

    For torch SGD (plain, heavy ball, Nesterov, dampening; weight decay :math:`w` shifts
    every eigenvalue to :math:`\lambda_i + w` and the fixed point to the regularised
    minimiser) the error along :math:`u_i` evolves by the iteration matrix :math:`M_i` of
    :func:`iteration_matrix`, so asymptotically :math:`|u_i^\top(x_t - x^*)| \propto \rho(M_i)^t`
    with

    .. math:: \rho_i = \rho(M_i) = \max |\mathrm{eig}(M_i)|, \qquad
              \text{plain GD: } \rho_i = |1 - \eta\lambda_i|.

    The run converges iff :math:`\max_i \rho_i < 1`.  ``rule`` is a Rule or a name with
    hyperparameters as keywords, as in :func:`labkit.run`.  Returns
    ``EigenRates(eigenvalues, eigenvectors, rates)``, eigenvalues ascending and
    ``eigenvectors[:, i]`` the i-th unit eigenvector.

    References: Goh, Distill 2017; Lessard, Recht, Packard 2016, §2.
    """
    A, _ = _quadratic_parts(problem)
    lr, mu, tau, nesterov, wd = _sgd_hp(rule, hyperparameters)
    if not np.all(np.isfinite(lr * (np.abs(A) + abs(wd)))):
        raise ValueError(f"lr={lr!r} times the curvature overflows float64; no rate to compute")
    lam, vecs = np.linalg.eigh(A)
    rates = np.array([np.max(np.abs(np.linalg.eigvals(iteration_matrix(l + wd, lr, mu, nesterov=nesterov,
                                                                       dampening=tau)))) for l in lam])
    return EigenRates(lam, vecs, rates)


def error_split(traj, problem=None) -> np.ndarray:
    r"""The error of each iterate along each eigendirection of a quadratic.

    .. math:: E_{t,i} = u_i^\top (x_t - c), \qquad A u_i = \lambda_i u_i,

    with eigenvalues ascending (the order of :func:`eigen_rates`).  ``traj`` is a
    :class:`~labkit.Trajectory` (``problem`` defaults to ``traj.problem``) or an array of
    iterates of shape ``(n, d)``.  Returns shape ``(n, d)``: ``(steps + 1, d)`` for a run
    that did not diverge.

    References: Goh, Distill 2017 ("the error decomposes along the eigenvectors").
    """
    xs = getattr(traj, "xs", traj)
    if problem is None:
        problem = getattr(traj, "problem", None)
        if problem is None:
            raise ValueError("problem must be given when traj is an array of iterates")
    A, c = _quadratic_parts(problem)
    xs = np.asarray(xs, dtype=np.float64)
    if xs.ndim != 2 or xs.shape[1] != problem.dim:
        raise ValueError(f"traj must hold iterates of shape (n, {problem.dim}), got {xs.shape}")
    _, vecs = np.linalg.eigh(A)
    return (xs - c) @ vecs


# ----------------------------------------------------------------------------- stability maps

def _is_geometric(v) -> bool:
    v = np.asarray(v, dtype=np.float64)
    if v.size < 3 or np.any(v <= 0):
        return False
    r = np.diff(np.log(v))
    return bool(np.allclose(r, r[0], rtol=1e-6, atol=0))


@dataclass(frozen=True, eq=False)
class StabilityMap:
    """The result of :func:`stability_map`.

    ``frame`` is the tidy sweep frame; ``axes`` the names of the two swept
    hyperparameters ``(axis0, axis1)`` with their values in ``values``; ``f_final``,
    ``diverged`` and ``steps_to_tol`` are arrays of shape ``(len(axis1), len(axis0))``
    (rows follow axis 1, columns axis 0, as an image with axis 0 horizontal), ``steps_to_tol``
    NaN where the tolerance was never reached.  ``boundary`` is the theoretical limit
    (:class:`Boundary`) where one is known, else ``None``.
    """

    frame: object
    axes: tuple
    values: tuple
    f_final: np.ndarray
    diverged: np.ndarray
    steps_to_tol: np.ndarray
    boundary: Boundary | None
    f_star: float | None = None
    problem: object = None
    rule: object = None
    steps: int | None = None
    x0: np.ndarray | None = None
    fixed: dict | None = None

    def cell(self, value0, value1):
        """Index ``(row, column)`` of the cell nearest to ``(value0, value1)`` (log distance on a geometric axis)."""
        from ._errors import check_real
        idx = []
        for v, grid in ((check_real("value1", value1), self.axis1), (check_real("value0", value0), self.axis0)):
            g = np.asarray(grid, dtype=np.float64)
            if _is_geometric(g) and v > 0:
                idx.append(int(np.argmin(np.abs(np.log(g) - math.log(v)))))
            else:
                idx.append(int(np.argmin(np.abs(g - v))))
        return tuple(idx)

    def run_cell(self, value0, value1):
        """The trajectory behind the cell nearest to ``(value0, value1)``, re-run with :func:`labkit.run`.

        Bit-for-bit the run the sweep made for that cell (same kernels, same arithmetic).
        """
        if self.problem is None:
            raise ValueError("this map does not know its problem and rule (build it with stability_map)")
        from .run import run
        i1, i0 = self.cell(value0, value1)
        hp = dict(self.fixed or {})
        hp[self.axes[0]] = float(self.axis0[i0])
        hp[self.axes[1]] = float(self.axis1[i1])
        import warnings

        from ._errors import DivergenceWarning
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DivergenceWarning)
            return run(self.problem, self.rule, self.steps, self.x0, **hp)

    @property
    def axis0(self) -> np.ndarray:
        return self.values[0]

    @property
    def axis1(self) -> np.ndarray:
        return self.values[1]

    def plot(self, ax=None, what: str = "f_final"):
        """Heatmap of ``what`` (``"f_final"``: log10 of the final suboptimality; ``"steps_to_tol"``).

        Diverged cells are masked (grey, hatched; with ``"steps_to_tol"`` cells that never
        reach ``tol`` are grey without hatching); suboptimality is clipped at 1e-32; a
        geometric axis is drawn on a log scale; the theoretical boundary, if any, is overlaid as a line.  Returns the axes.
        """
        import matplotlib.pyplot as plt

        if not isinstance(what, str) or what not in ("f_final", "steps_to_tol"):
            raise ValueError(f"what must be 'f_final' or 'steps_to_tol', got {what!r}")
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4.5))
        x, y = (np.asarray(v, dtype=np.float64) for v in self.values)
        if what == "f_final":
            ref = 0.0 if self.f_star is None else self.f_star
            z = np.log10(np.maximum(self.f_final - ref, 1e-32))      # clipped: below is round-off
            label = r"$\log_{10}(f_T - f^*)$" if self.f_star is not None else r"$\log_{10} f_T$"
        else:
            z, label = self.steps_to_tol, "steps to tol"
        z = np.ma.masked_where(self.diverged | ~np.isfinite(z), z)
        cmap = plt.get_cmap("viridis").with_extremes(bad="0.85")
        xi, yi = np.argsort(x), np.argsort(y)
        xs, ys = x[xi], y[yi]
        zs = z[np.ix_(yi, xi)]
        mesh = ax.pcolormesh(_edges(xs), _edges(ys), zs, cmap=cmap, shading="flat")
        div = self.diverged[np.ix_(yi, xi)].astype(float)
        if div.any() and min(div.shape) > 1:
            # one hatched contour region (cell centres), not a hatched polygon per cell: 50x faster to draw
            ax.contourf(xs, ys, div, levels=[0.5, 1.5], colors="none", hatches=["//"])
        ax.figure.colorbar(mesh, ax=ax, label=label)
        if _is_geometric(xs):
            ax.set_xscale("log")
        if _is_geometric(ys):
            ax.set_yscale("log")
        if self.boundary is not None:
            mu, lr = self.boundary
            bx, by = (lr, mu) if self.axes[0] == "lr" else (mu, lr)
            from . import viz      # dashed and above the mesh: the prediction reads over the data (#19)
            viz.theory_line(ax, bx, by, label="theoretical limit", color="r", lw=1.8)
            ax.legend(loc="upper left")     # not "best": it scans every cell of the mesh (~1 s at 200 x 200)
        ax.set_xlim(_edges(xs)[[0, -1]])
        ax.set_ylim(_edges(ys)[[0, -1]])
        ax.set_xlabel(self.axes[0])
        ax.set_ylabel(self.axes[1])
        ax.set_title(f"{self.frame.attrs.get('rule', '')} on {self.frame.attrs.get('problem', '')}, "
                     f"{self.frame.attrs.get('steps', '')} steps")
        return ax


def _edges(v):
    """Cell edges around sorted centres (geometric midpoints for a geometric axis)."""
    v = np.asarray(v, dtype=np.float64)
    if v.size == 1:
        return np.array([v[0] - 0.5, v[0] + 0.5]) if v[0] <= 0 else np.array([v[0] / 1.5, v[0] * 1.5])
    w = np.log(v) if _is_geometric(v) else v
    mid = 0.5 * (w[1:] + w[:-1])
    e = np.concatenate([[2 * w[0] - mid[0]], mid, [2 * w[-1] - mid[-1]]])
    return np.exp(e) if _is_geometric(v) else e


def stability_map(problem, rule, steps: int = 1000, *, tol: float = 1e-8, x0=None, progress: bool | None = None,
                  **grids) -> StabilityMap:
    r"""Sweep two hyperparameters with :func:`labkit.sweep` and arrange the outcome as images.

    Exactly two keywords of ``grids`` must be 1-D grids (``lr=np.geomspace(1e-3, 1, 200)``,
    ``momentum=np.linspace(0, 0.99, 200)``); the first is axis 0 (horizontal), the second
    axis 1.  Scalars fix other hyperparameters.  For ``sgd`` on a quadratic swept over
    ``lr`` and ``momentum`` the map carries the theoretical boundary

    .. math:: \eta_{max}(\mu) = \frac{2 + 2\mu}{(1-\tau)(\lambda_{max} + w)}
              \quad\text{(heavy ball)}, \qquad
              \eta_{max}(\mu) = \frac{2 + 2\mu}{(1 + 2\mu)(\lambda_{max} + w)} \quad\text{(Nesterov)},

    which :func:`heavy_ball_limit` and :func:`nesterov_limit` derive.  Note that a run counts
    as diverged only when it produces a non-finite value or leaves the problem's box: a
    slowly growing run near the boundary may still be "finite" after ``steps`` steps.
    ``progress`` is :func:`labkit.sweep`'s (a bar when the sweep will take more than about a second).

    References: Polyak 1964; Goh, Distill 2017; Cohen et al., ICLR 2021.
    """
    import pandas as pd

    from . import optim as _optim
    from ._errors import check_problem
    from .sweep import sweep

    problem = check_problem("problem", problem)
    swept = []
    for k, v in grids.items():
        try:
            if np.ndim(v) == 1:
                swept.append((k, np.asarray(v)))
        except ValueError:                        # ragged nesting
            raise ValueError(f"grid {k!r} must be a value or a 1-D sequence, got {shown(v)}") from None
    if len(swept) != 2:
        others = ", ".join(f"{k}={shown(v, 40)}" for k, v in grids.items() if k not in dict(swept))
        raise ValueError(f"grids must hold exactly two 1-D grids (the map's axes), got "
                         f"{[k for k, _ in swept] or 'none'}" + (f"; not 1-D: {others}" if others else ""))
    for key, v in swept:
        if len(np.unique(v)) != len(v):
            raise ValueError(f"grid {key!r} must not repeat values")
    import warnings

    from ._errors import DivergenceWarning
    with warnings.catch_warnings():         # diverged cells are what the map shows, not an accident
        warnings.simplefilter("ignore", DivergenceWarning)
        frame = sweep(problem, rule, steps, x0, tol=tol, progress=progress, **grids)
    (k0, v0), (k1, v1) = swept
    i0 = pd.Index(v0).get_indexer(frame[k0].to_numpy())
    i1 = pd.Index(v1).get_indexer(frame[k1].to_numpy())
    if np.any(i0 < 0) or np.any(i1 < 0) or len(frame) != v0.size * v1.size:
        raise ValueError("stability_map needs one run per grid cell (pass a single x0 and no seed grid)")
    shape = (v1.size, v0.size)
    f_final = np.full(shape, np.nan)
    diverged = np.zeros(shape, dtype=bool)
    steps_to = np.full(shape, np.nan)
    f_final[i1, i0] = frame["f_final"].to_numpy(dtype=np.float64)
    diverged[i1, i0] = frame["diverged"].to_numpy(dtype=bool)
    steps_to[i1, i0] = frame["steps_to_tol"].to_numpy(dtype=np.float64, na_value=np.nan)

    boundary = None
    name = rule.name if isinstance(rule, _optim.Rule) else rule
    if name == "sgd" and {k0, k1} == {"lr", "momentum"}:
        try:
            lam = eigenvalues(problem, "problem")
        except ValueError:
            lam = None
        if lam is not None and lam[-1] > 0:
            base = dict(rule.hyperparameters) if isinstance(rule, _optim.Rule) else {}
            base.update({k: v for k, v in grids.items() if np.ndim(v) == 0})
            tau = float(base.get("dampening", 0.0))
            wd = float(base.get("weight_decay", 0.0))
            nesterov = bool(base.get("nesterov", False))
            mv = v0 if k0 == "momentum" else v1
            mu = np.linspace(float(np.min(mv)), float(np.max(mv)), 256)
            top = lam[-1] + wd
            lr_max = ((2 + 2 * mu) / ((1 + 2 * mu) * top) if nesterov
                      else (2 + 2 * mu) / ((1 - tau) * top))
            boundary = Boundary(mu, lr_max)
    fixed = {k: v for k, v in grids.items() if np.ndim(v) == 0}
    return StabilityMap(frame, (k0, k1), (v0, v1), f_final, diverged, steps_to, boundary,
                        None if problem.f_star is None else float(problem.f_star),
                        problem=problem, rule=rule, steps=int(steps),
                        x0=None if x0 is None else np.array(x0, dtype=np.float64), fixed=fixed)


def divergence_threshold(problem, rule, steps: int = 2000, *, lo: float, hi: float, rtol: float = 1e-6,
                         x0=None, **hyperparameters) -> float:
    r"""The measured step size where ``rule`` stops contracting on ``problem``: bisection on ``lr``.

    A step size counts as stable when ``steps`` steps end below the start,
    :math:`f(x_T) - f^* < f(x_0) - f^*` (so a run that grows slowly but stays finite is
    *unstable* here, unlike in :func:`stability_map`).  ``lo`` must be stable and ``hi``
    unstable; bisection in :math:`\log \eta` stops at relative width ``rtol``.  The
    resolution is set by ``steps``: a per-step rate :math:`1 \pm \delta` shows after about
    :math:`1/\delta` steps, so 2,000 steps resolve the threshold to about 0.1%.  Compare with
    :func:`gd_stability_limit`, :func:`heavy_ball_limit`, :func:`nesterov_limit`.

    References: Polyak 1964; Cohen et al., ICLR 2021.
    """
    import warnings

    from ._errors import DivergenceWarning
    from .run import run

    from ._errors import check_array, check_positive, check_problem
    problem = check_problem("problem", problem)
    lo, hi = check_positive("lo", lo), check_positive("hi", hi)
    if not (0 < lo < hi and math.isfinite(hi)):
        raise ValueError(f"need 0 < lo < hi, got lo={lo!r}, hi={hi!r}")
    rtol = check_positive("rtol", rtol)
    if not (0 < rtol < 1):
        raise ValueError(f"rtol must be in (0, 1), got {rtol!r}")
    ref = 0.0 if problem.f_star is None else float(problem.f_star)
    start = problem.x0 if x0 is None else check_array("x0", x0, (problem.dim,))
    f0 = np.asarray(problem.f(start), dtype=np.float64)
    if f0.size != 1:
        raise ValueError(f"problem {problem.name!r}: f(x) must return one number, got shape {f0.shape}")
    f0 = float(f0.reshape(())) - ref

    def stable(lr):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DivergenceWarning)
            tr = run(problem, rule, steps, start, lr=lr, **hyperparameters)
        return (not tr.diverged) and float(tr.f[-1]) - ref < f0

    if not stable(lo):
        raise ValueError(f"lo={lo:g} is not stable on problem {problem.name} in steps={steps}: lower it")
    if stable(hi):
        raise ValueError(f"hi={hi:g} is stable: raise it")
    while hi / lo > 1 + rtol:
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if stable(mid) else (lo, mid)
    return math.sqrt(lo * hi)


# ----------------------------------------------------------------------------- sharpness

def sharpness(problem, xs, every: int = 1) -> np.ndarray:
    r"""Sharpness :math:`S(x_t) = \lambda_{max}(\nabla^2 f(x_t))` at the recorded iterates.

    ``xs`` is a :class:`~labkit.Trajectory` or an array ``(n, d)``; every ``every``-th row
    is used (``xs[::every]``).  Exact (``numpy.linalg.eigvalsh`` of ``problem.hess``).  GD
    with step :math:`\eta` is linearly stable at a point only if :math:`S < 2/\eta`; Cohen
    et al. observe that on neural networks :math:`S` rises to and then hovers at :math:`2/\eta`
    (the edge of stability).

    References: Cohen et al., ICLR 2021.
    """
    if not _is_problem(problem):
        raise ValueError(f"problem must be a labkit Problem, got {type(problem).__name__}")
    from ._errors import check_int, check_problem
    problem, every = check_problem("problem", problem), check_int("every", every, 1)
    if problem.hess is None:
        raise ValueError(f"problem {problem.name} has no Hessian; use sharpness_power with a "
                         f"Hessian-vector product instead")
    if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
        raise ValueError(f"every must be an integer >= 1, got {every!r}")
    pts = check_array("xs", getattr(xs, "xs", xs), finite=False, what="points (n, d) or a Trajectory")
    if pts.ndim != 2 or pts.shape[1] != problem.dim:
        raise ValueError(f"xs must be a Trajectory or an array of shape (n, {problem.dim}), got {pts.shape}")
    return np.array([np.linalg.eigvalsh(np.asarray(problem.hess(x)))[-1] for x in pts[::every]])


def _operator(op, x):
    """A function v -> H v from a Problem, a matrix, hess(x) or hvp(x, v)."""
    import inspect
    if _is_problem(op):
        if op.hess is None:
            raise ValueError(f"hvp: problem {op.name} has no Hessian; pass a function hvp(x, v)")
        H = np.asarray(op.hess(x), dtype=np.float64)
        return lambda v: H @ v
    if isinstance(op, np.ndarray) or isinstance(op, (list, tuple)):
        from ._errors import check_array
        H = check_array("hvp", op, what="a Hessian matrix (d, d)")
        if H.ndim != 2 or H.shape[0] != H.shape[1] or H.shape[0] != x.size:
            raise ValueError(f"hvp: a Hessian matrix must have shape ({x.size}, {x.size}), got {H.shape}")
        return lambda v: H @ v
    if not callable(op):
        raise ValueError(f"hvp must be a function hvp(x, v), hess(x), a matrix or a Problem, got {op!r}")
    try:
        n_args = len([p for p in inspect.signature(op).parameters.values()
                      if p.default is inspect.Parameter.empty
                      and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)])
    except (TypeError, ValueError):
        n_args = 2
    if n_args == 1:
        H = np.asarray(op(x), dtype=np.float64)
        if H.shape != (x.size, x.size):
            raise ValueError(f"hvp: hess(x) must return shape ({x.size}, {x.size}), got {H.shape}")
        return lambda v: H @ v

    def hv(v):
        out = np.asarray(op(x, v), dtype=np.float64)
        if out.size != x.size:
            raise ValueError(f"hvp(x, v) must return shape ({x.size},), got {out.shape}")
        return out.reshape(x.size)
    return hv


def sharpness_power(hvp, x, iters: int = 100, *, seed: int = 0) -> float:
    r"""Sharpness :math:`\lambda_{max}(H)` at ``x`` by power iteration on Hessian-vector products.

    .. math:: v_{k+1} = \frac{H v_k}{\|H v_k\|}, \qquad \lambda \approx v_k^\top H v_k.

    Power iteration finds the eigenvalue of largest *magnitude*; if that is negative, a
    second pass on :math:`H - \lambda I` (whose dominant eigenvalue is
    :math:`\lambda_{max} - \lambda \ge 0`) recovers :math:`\lambda_{max}`.  ``hvp`` is a
    function ``hvp(x, v)`` returning :math:`\nabla^2 f(x) v`, a function ``hess(x)``
    returning the matrix, the matrix itself, or a Problem with a Hessian.  Convergence is
    geometric in :math:`|\lambda_2/\lambda_1|`; ``iters`` bounds the work.

    References: Cohen et al., ICLR 2021 (sharpness measured by Lanczos/power iteration).
    """
    from ._errors import check_array, check_seed
    x = check_array("x", x, finite=False, what="a point").reshape(-1)
    seed = check_seed("seed", seed)
    if x.size == 0 or not np.all(np.isfinite(x)):
        raise ValueError(f"x must be a finite point, got {x!r}")
    from ._errors import MAX_ITERATIONS, check_int
    iters = check_int("iters", iters, 1, MAX_ITERATIONS)
    Hv = _operator(hvp, x)
    v0 = np.random.default_rng(seed).standard_normal(x.size)
    v0 /= np.linalg.norm(v0)

    def power(apply):
        v = v0.copy()
        for _ in range(int(iters)):
            w = apply(v)
            nw = np.linalg.norm(w)
            if nw == 0.0:
                return 0.0
            v = w / nw
        return float(v @ apply(v))

    lam1 = power(Hv)
    if lam1 >= 0:
        return lam1
    return lam1 + power(lambda v: Hv(v) - lam1 * v)


# The safe step radius of cross-entropy lives with its controller and experiments in
# labkit.radius (numpy only at import); the step-size analysis offers it here too.
from .radius import softmax_radius  # noqa: E402
