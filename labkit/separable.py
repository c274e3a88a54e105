r"""Logistic regression on separable data with large step sizes: LR+GD becomes the batch perceptron.

    import labkit as lk
    from labkit import separable as sep
    p = lk.problems.separable_logistic(n=100, d=2, margin=0.05, seed=0)
    sw = sep.large_step_sweep(p, gammas=[0.1, 1, 10, 1e3, 1e6], steps=500)
    sw.agreement, sw.iters_to_separation          # per step size
    sep.implicit_bias(p, gamma=0.1, steps=10_000).angle[-1]   # -> 0 like 1/log t

The setting of Tyurin (2024): data :math:`(a_i, y_i)`, :math:`y_i \in \{\pm 1\}`, separable, loss
:math:`f(x) = \frac1n\sum_i \log(1 + e^{-y_i a_i^\top x})` (``lk.problems.separable_logistic``,
``blobs_logistic(std=...)``, or any ``logistic_regression`` problem with ``l2 = 0``), and
gradient descent from :math:`x_0 = 0` ("LR+GD"):

.. math::
    x_{t+1} = x_t - \gamma \nabla f(x_t) = x_t + \frac{\gamma}{n}\sum_i \sigma(-y_i a_i^\top x_t)\, y_i a_i .

**Why not** ``lk.run``: the iterates grow like :math:`\gamma t`, and ``lk.run`` stops a run that
leaves the problem's box ``problem.bound`` (about :math:`2\cdot 10^6` here) as diverged, so at
:math:`\gamma = 10^6` it stops after one step.  This module runs LR+GD in the scaled variable
:math:`w_t = x_t/\gamma` (an exact change of variables, never overflowing):

.. math::
    w_{t+1} = w_t + \frac1n \sum_i \sigma(-\gamma\, y_i a_i^\top w_t)\, y_i a_i ,

and the classifier :math:`\mathrm{sign}(a^\top x_t) = \mathrm{sign}(a^\top w_t)`.  As
:math:`\gamma \to \infty`, :math:`\sigma(-\gamma m) \to 1, \tfrac12, 0` for :math:`m <, =, > 0`: the
**batch perceptron** :math:`w_{t+1} = w_t + \frac1n\sum_{m_i < 0} y_i a_i + \frac1{2n}\sum_{m_i = 0} y_i a_i`
(:func:`batch_perceptron`; the first step, where every margin is 0, is
:math:`\frac1{2n}\sum_i y_i a_i`, as in Tyurin's Sec. 3).  ``tests/test_separable.py`` checks the
scaled iteration against ``lk.run(problem, "sgd", lr=gamma)`` where the latter fits in its box.
Normalized LR+GD (Tyurin Sec. 6) and the loss-adaptive step :math:`\eta/f` (Zhang et al. 2025)
are run by the same direct loop in :func:`steps_to_separation` (stopping at separation; also
checked against ``lk.run``'s ``normalized_lr_gd`` and ``loss_adaptive_gd``).

References: A. Tyurin, 'From Logistic Regression to the Perceptron Algorithm: Exploring Gradient
Descent with Large Step Sizes', arXiv:2412.08424, 2024; D. Soudry, E. Hoffer, M. S. Nacson,
S. Gunasekar, N. Srebro, 'The Implicit Bias of Gradient Descent on Separable Data', JMLR 19(70),
2018; R. Zhang, J. Wu, L. Lin, P. L. Bartlett, arXiv:2504.04105, 2025.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import citations as _cite
from ._errors import check_int, check_positive

__all__ = ["METHODS", "SeparablePath", "LargeStepSweep", "ImplicitBias", "lr_gd", "batch_perceptron",
           "agreement", "comparison_window", "perceptron_deviation", "first_step_loss",
           "separation_step", "angle_to", "margin_angle_bound", "large_step_sweep", "implicit_bias",
           "steps_to_separation", "separation_comparison", "tyurin_bounds"]

REFERENCE = ("A. Tyurin, 'From Logistic Regression to the Perceptron Algorithm: Exploring Gradient Descent "
             "with Large Step Sizes', arXiv:2412.08424, 2024")

#: methods of :func:`steps_to_separation`
METHODS = ("lr_gd", "normalized_lr_gd", "loss_adaptive_gd", "perceptron")


def _log1pexp(z):
    return np.logaddexp(0.0, z)


def _sigma_neg(m):
    """sigma(-m) = 1/(1 + e^m), accurate for every m (no overflow, full relative precision)."""
    return np.exp(-_log1pexp(m))


def problem_data(problem):
    """(Z, A, y) with rows z_i = y_i a_i of a binary logistic problem."""
    data = getattr(problem, "extras", {}).get("data")
    if data is None:
        raise ValueError(f"problem {getattr(problem, 'name', problem)!r} has no extras['data']: use "
                         "lk.problems.separable_logistic, blobs_logistic or logistic_regression")
    A, y = (np.asarray(v, dtype=np.float64) for v in data)
    if A.ndim != 2 or y.shape != (A.shape[0],) or not np.all(np.abs(y) == 1.0) or problem.dim != A.shape[1]:
        raise ValueError(f"problem {problem.name} is not a binary logistic problem (labels in {{-1, +1}}, "
                         f"x = weights)")
    return np.ascontiguousarray(A * y[:, None]), A, y


def max_margin(problem):
    mm = problem.extras.get("max_margin")
    if mm is None:
        raise ValueError(f"{problem.name} has no extras['max_margin']: its data are not strictly separable")
    return mm


def check_gamma(gamma):
    return check_positive("gamma", gamma)


#: Most steps of one separable run: the paths keep every iterate (and these labs separate in
#: thousands of steps), so 10**12 is refused instead of exhausting memory.
MAX_STEPS = 10**7


def check_steps(steps, name="steps"):
    return check_int(name, steps, 1, MAX_STEPS)


class SeparablePath(NamedTuple):
    """One run from 0: ``w[t]`` = :math:`x_t/\\gamma` (``(steps+1, d)``), ``loss[t]`` =
    :math:`f(x_t)`, ``errors[t]`` = training points with :math:`y_i a_i^\\top x_t \\le 0`.
    ``gamma = inf`` marks the batch perceptron (``loss`` is then NaN)."""

    gamma: float
    w: np.ndarray
    loss: np.ndarray
    errors: np.ndarray

    @property
    def xs(self) -> np.ndarray:
        """The LR+GD iterates :math:`x_t = \\gamma w_t` (may overflow to inf for the perceptron)."""
        return self.gamma * self.w

    @property
    def separated_at(self):
        """First step with zero training error, or None within the run."""
        return separation_step(self.errors)


def _lr_gd_many(Z, gammas, steps):
    """LR+GD for several gammas at once (scaled variable): W (G, steps+1, d), losses, errors."""
    G, (n, d) = len(gammas), Z.shape
    g = np.asarray(gammas, dtype=np.float64)[:, None]
    W = np.zeros((G, steps + 1, d))
    loss = np.empty((G, steps + 1))
    err = np.empty((G, steps + 1), dtype=np.int64)
    w = np.zeros((G, d))
    ZT = np.ascontiguousarray(Z.T)
    for t in range(steps + 1):
        M = w @ ZT                                   # (G, n) margins y_i a_i.w
        gm = g * M
        loss[:, t] = _log1pexp(-gm).sum(axis=1) / n
        err[:, t] = (M <= 0.0).sum(axis=1)
        W[:, t] = w
        if t < steps:
            w = w + (_sigma_neg(gm) @ Z) / n
    return W, loss, err


def lr_gd(problem, gamma: float, steps: int = 1000) -> SeparablePath:
    r"""LR+GD, :math:`x_{t+1} = x_t - \gamma\nabla f(x_t)` from :math:`x_0 = 0`, run as :math:`w_t = x_t/\gamma`.

    Exact for every :math:`\gamma` (no box, no overflow: see the module docstring).  Returns a
    :class:`SeparablePath`.  Reference: Tyurin, arXiv:2412.08424, 2024, eq. (LR+GD).
    """
    Z, _, _ = problem_data(problem)
    gamma = check_gamma(gamma)
    _cite.note(problem, lr_gd)
    W, loss, err = _lr_gd_many(Z, [gamma], check_steps(steps))
    return SeparablePath(gamma, W[0], loss[0], err[0])


def batch_perceptron(problem, steps: int = 1000) -> SeparablePath:
    r"""The :math:`\gamma \to \infty` limit of LR+GD: :math:`w_{t+1} = w_t + \frac1n\sum_{m_i<0} y_ia_i + \frac1{2n}\sum_{m_i=0} y_ia_i`.

    :math:`m_i = y_i a_i^\top w_t`; ties count half, which is :math:`\sigma(0) = 1/2` (so the first
    step from 0 is :math:`\frac1{2n}\sum_i y_i a_i`).  Tyurin's batch perceptron counts
    :math:`m_i \le 0` as mistakes; after the first step exact ties have probability zero on
    continuous data, and the two agree.  ``loss`` is NaN (the limit has no finite loss).
    Reference: Tyurin, arXiv:2412.08424, 2024, Sec. 3.
    """
    Z, _, _ = problem_data(problem)
    steps = check_steps(steps)
    _cite.note(problem, batch_perceptron)
    n, d = Z.shape
    W = np.zeros((steps + 1, d))
    err = np.empty(steps + 1, dtype=np.int64)
    w = np.zeros(d)
    for t in range(steps + 1):
        m = Z @ w
        W[t] = w
        err[t] = int((m <= 0.0).sum())
        if t < steps:
            c = np.where(m < 0.0, 1.0, np.where(m == 0.0, 0.5, 0.0))
            w = w + (c @ Z) / n
    return SeparablePath(math.inf, W, np.full(steps + 1, np.nan), err)


def agreement(problem, a: SeparablePath, b: SeparablePath, window: int | None = None) -> float:
    r"""Fraction of steps :math:`t = 1..T` at which the two classifiers label every training point alike.

    Compares :math:`\mathrm{sign}(a_i^\top w_t)` of both paths for all i (a point on the boundary,
    margin exactly 0, has sign 0).  Step 0 (both are 0) is left out.  ``window``: compare steps
    ``1..window`` only (default: every step of the shorter path).  Averaged over a long run the
    fraction is dominated by steps after both have separated the data, where it is trivially 1:
    :func:`large_step_sweep` uses :func:`comparison_window`.
    """
    _, A, _ = problem_data(problem)
    T = min(len(a.w), len(b.w)) - 1
    if window is not None:
        T = min(T, check_int("window", window, 1))
    if T < 1:
        raise ValueError("need paths of at least one step")
    sa = np.sign(a.w[1:T + 1] @ A.T)
    sb = np.sign(b.w[1:T + 1] @ A.T)
    return float(np.mean(np.all(sa == sb, axis=1)))


def comparison_window(perceptron: SeparablePath) -> int:
    r"""The steps :math:`1..H` on which LR+GD is compared with the batch perceptron: up to the perceptron's separation.

    :math:`H = \max(2, T_P)` with :math:`T_P` the perceptron's separation step (the whole run if
    it does not separate).  Step 1 is the same for every :math:`\gamma` (:math:`\sigma(0) = 1/2`:
    :math:`w_1 = \frac1{2n}\sum_i y_ia_i`), so the window always holds step 2: where the
    perceptron separates at once, step 2 is the first step at which a finite :math:`\gamma`
    can differ (the perceptron stops, LR+GD keeps moving by :math:`\frac1n\sum_i\sigma(-\gamma m_i)y_ia_i`).
    """
    T = len(perceptron.w) - 1
    sep = perceptron.separated_at
    return min(T, max(2, T if sep is None else sep))


def perceptron_deviation(perceptron: SeparablePath, path: SeparablePath, window: int | None = None) -> float:
    r""":math:`\max_{1\le t\le H}\|w_t - w^P_t\|/\|w^P_t\|`: how far LR+GD's scaled iterates are from the batch perceptron's.

    Tyurin's Sec. 3 limit is step by step: for every fixed :math:`t`, :math:`w_t = x_t/\gamma \to w^P_t`
    as :math:`\gamma \to \infty`.  Each step's weights differ from the perceptron's 0/1 by
    :math:`|\sigma(-\gamma m) - 1_{m<0}| \le e^{-\gamma|m|}`, so the deviation vanishes like
    :math:`e^{-\gamma\min|m_i|}` once :math:`\gamma` exceeds :math:`1/\min_i|m_i|` along the path, and
    is of order 1 for :math:`\gamma \lesssim 1/\max_i|m_i|`.  ``window`` :math:`H` defaults to
    :func:`comparison_window` (up to the perceptron's separation, where a comparison of labels
    is not trivially 1).
    """
    H = comparison_window(perceptron) if window is None else check_int("window", window, 1)
    H = min(H, len(perceptron.w) - 1, len(path.w) - 1)
    wp, w = perceptron.w[1:H + 1], path.w[1:H + 1]
    return float(np.max(np.linalg.norm(w - wp, axis=1) / np.linalg.norm(wp, axis=1)))


def first_step_loss(problem, gammas) -> dict:
    r"""The loss after one LR+GD step as a function of :math:`\gamma`: :math:`f(\gamma w_1)`, with its large-:math:`\gamma` asymptote.

    Every :math:`\gamma` takes the same first step in :math:`w` (:math:`w_1 = \frac1{2n}\sum_i y_ia_i`),
    so :math:`\phi(\gamma) = f(\gamma w_1) = \frac1n\sum_i\log(1+e^{-\gamma m_i})`, :math:`m_i = y_ia_i^\top w_1`,
    is convex in :math:`\gamma`.  If some :math:`m_i < 0` (the first step misclassifies a point),
    :math:`\phi(\gamma) = \gamma s + \frac{\log 2}{n}\#\{m_i = 0\} + O(e^{-\gamma\min|m_i|})` with slope
    :math:`s = \frac1n\sum_{m_i<0}|m_i| > 0`: the loss grows linearly in :math:`\gamma` and, being convex,
    increases on every :math:`\gamma` beyond its minimiser.  If none is misclassified,
    :math:`\phi` decreases to 0 for all :math:`\gamma`.  Returns ``loss`` (per gamma), ``errors``
    (misclassified after step 1), ``slope`` :math:`s`, ``offset`` and ``asymptote`` (:math:`\gamma s` + offset).
    """
    Z, _, _ = problem_data(problem)
    n = Z.shape[0]
    g = np.array([check_gamma(x) for x in np.atleast_1d(gammas)])
    m = Z @ (Z.sum(axis=0) / (2 * n))
    loss = np.array([float(_log1pexp(-gi * m).sum() / n) for gi in g])
    slope = float(-m[m < 0].sum() / n)
    offset = float(math.log(2.0) * np.count_nonzero(m == 0.0) / n)
    return dict(gammas=g, loss=loss, errors=int(np.count_nonzero(m <= 0.0)), slope=slope, offset=offset,
                asymptote=g * slope + offset)


def separation_step(errors):
    """First index with zero training error, or None."""
    hit = np.flatnonzero(np.asarray(errors) == 0)
    return int(hit[0]) if hit.size else None


def angle_to(xs, u) -> np.ndarray:
    r"""Angle (radians) between each row of ``xs`` and the direction ``u``: :math:`\arccos\frac{x^\top u}{\|x\|\|u\|}`.

    NaN where :math:`x = 0`.  Computed as :math:`2\arctan(\|\hat x - \hat u\| / \|\hat x + \hat u\|)`,
    accurate for tiny angles (``arccos`` of a cosine near 1 loses half the digits).
    """
    xs = np.atleast_2d(np.asarray(xs, dtype=np.float64))
    u = np.asarray(u, dtype=np.float64)
    u = u / np.linalg.norm(u)
    nx = np.linalg.norm(xs, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        xh = xs / nx
        ang = 2.0 * np.arctan2(np.linalg.norm(xh - u, axis=1), np.linalg.norm(xh + u, axis=1))
    return np.where(nx[:, 0] > 0, ang, np.nan)


class LargeStepSweep(NamedTuple):
    """:func:`large_step_sweep`: per step size ``gammas[j]``, LR+GD's ``loss[j]``, ``errors[j]``
    (training errors per step), ``w[j]``, ``iters_to_separation[j]`` (None if not within the
    run), ``agreement[j]`` with the batch perceptron (:func:`agreement`) and ``deviation[j]``
    (:func:`perceptron_deviation`), both over the steps ``1..window`` (:func:`comparison_window`:
    up to the perceptron's separation); the perceptron's own path and separation step."""

    gammas: np.ndarray
    w: np.ndarray
    loss: np.ndarray
    errors: np.ndarray
    iters_to_separation: list
    agreement: np.ndarray
    perceptron: SeparablePath
    problem: object
    deviation: np.ndarray
    window: int

    def plot(self, axes=None):
        """Loss and training error per step for each gamma (two panels).

        Colour encodes gamma (viridis by rank, one shade per gamma), read off the shared colour
        bar; the loss is clipped at its rounding floor (:func:`labkit.viz.rounding_floor`, ``EPS``
        times the starting loss), where a large gamma drives it within a few steps.
        """
        import matplotlib.pyplot as plt
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import BoundaryNorm, ListedColormap

        from . import viz
        viz.style()
        if axes is None:
            _, axes = viz.subplots(1, 2, height=3.6)
        steps = np.arange(self.loss.shape[1])
        colors = plt.get_cmap("viridis")(np.linspace(0, 0.9, len(self.gammas)))
        n = self.errors.shape[1] and len(self.problem.extras["data"][1])
        start = float(np.max(self.loss[:, 0]))           # f(x_0): every run starts there
        floor = viz.EPS * start if np.isfinite(start) and start > 0 else 1e-300
        for g, loss, err, c in zip(self.gammas, self.loss, self.errors, colors):
            axes[0].plot(steps, np.maximum(loss, floor), color=c, label=f"γ={g:.3g}")
            axes[1].plot(steps, err / n, color=c, label=f"γ={g:.3g}")
        axes[1].plot(steps, self.perceptron.errors / n, "k--", lw=1, label="batch perceptron")
        axes[0].set(xscale="symlog", yscale="log", xlabel="step t", ylabel="logistic loss f(x_t)",
                    title="loss (higher for larger γ)")
        if np.any(self.loss <= floor):
            viz.rounding_floor(axes[0], floor)
        axes[1].set(xscale="symlog", xlabel="step t", ylabel="training error",
                    title="training error (zero sooner for larger γ)")
        axes[1].legend(handles=axes[1].lines[-1:], fontsize="small")
        k = len(self.gammas)
        bar = ScalarMappable(norm=BoundaryNorm(np.arange(k + 1) - 0.5, k), cmap=ListedColormap(colors))
        cb = axes[0].figure.colorbar(bar, ax=list(axes), label="step size γ", ticks=np.arange(k))
        cb.ax.set_yticklabels([f"{g:.3g}" for g in self.gammas])
        return axes


def large_step_sweep(problem, gammas=(0.1, 1.0, 10.0, 100.0, 1e3, 1e4, 1e6), steps: int = 500) -> LargeStepSweep:
    r"""LR+GD at each step size :math:`\gamma`, side by side with the batch perceptron.

    Returns a :class:`LargeStepSweep`: the agreement with the perceptron per :math:`\gamma` and the
    deviation of the iterates from its iterates, over the steps before the perceptron separates
    (the deviation tends to 0 as :math:`\gamma \to \infty`: the step-by-step limit of Tyurin's
    Sec. 3; after both have separated, label agreement is trivially 1), the iterations to zero
    training error (fewer for larger :math:`\gamma`), and the loss curves (higher for larger
    :math:`\gamma`: the loss stops measuring progress).
    """
    Z, _, _ = problem_data(problem)
    steps = check_steps(steps)
    gammas = np.array([check_gamma(g) for g in np.atleast_1d(gammas)])
    _cite.note(problem, lr_gd)
    W, loss, err = _lr_gd_many(Z, gammas, steps)
    perc = batch_perceptron(problem, steps)
    H = comparison_window(perc)
    paths = [SeparablePath(g, W[j], loss[j], err[j]) for j, g in enumerate(gammas)]
    agree = np.array([agreement(problem, path, perc, window=H) for path in paths])
    dev = np.array([perceptron_deviation(perc, path, window=H) for path in paths])
    iters = [separation_step(e) for e in err]
    return LargeStepSweep(gammas, W, loss, err, iters, agree, perc, problem, dev, H)


def margin_angle_bound(margin, max_margin: float) -> np.ndarray:
    r"""Largest angle to the max-margin direction that a direction with normalised margin ``margin`` can have.

    With :math:`\hat w = \hat u/\mu` the max-margin vector (the projection of 0 onto
    :math:`K = \{w: y_ia_i^\top w \ge 1\ \forall i\}`) and a unit :math:`v` of normalised margin
    :math:`\gamma > 0`, :math:`w = v/\gamma \in K`, and projection onto a convex set gives
    :math:`\|w\|^2 \ge \|\hat w\|^2 + \|w - \hat w\|^2`; so
    :math:`\sin\angle(v, \hat u) \le \|w-\hat w\|/\|\hat w\| \le \sqrt{\mu^2/\gamma^2 - 1}`.  Returns
    :math:`\arcsin\min(1, \sqrt{\mu^2/\gamma^2-1})`, and :math:`\pi` where :math:`\gamma \le 0`
    (no bound).  An identity of the data, not of the dynamics: it turns the margin's
    convergence into the direction's.
    """
    g = np.asarray(margin, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.sqrt(np.maximum(float(max_margin) ** 2 / g ** 2 - 1.0, 0.0))
    return np.where(g > 0, np.arcsin(np.minimum(1.0, s)), math.pi)


class ImplicitBias(NamedTuple):
    """:func:`implicit_bias`: at steps ``t``, the angle (radians) between :math:`x_t` and the
    max-margin direction, the normalized margin :math:`\\min_i y_ia_i^\\top x_t/\\|x_t\\|`, the
    loss and :math:`\\|x_t\\|`; ``max_margin`` = the problem's :math:`(u, \\gamma_{mm})`."""

    t: np.ndarray
    angle: np.ndarray
    margin: np.ndarray
    loss: np.ndarray
    norm: np.ndarray
    gamma: float
    max_margin: tuple

    @property
    def log_t_angle(self) -> np.ndarray:
        r""":math:`\theta_t\log t`: bounded for GD on separable data (Soudry et al. Thm 3: :math:`\theta_t = O(1/\log t)`)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.angle * np.log(self.t)

    @property
    def angle_bound(self) -> np.ndarray:
        """:func:`margin_angle_bound` of the recorded normalised margins: ``angle <= angle_bound`` always."""
        return margin_angle_bound(self.margin, self.max_margin[1])

    def plot(self, ax=None):
        import matplotlib.pyplot as plt
        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.6), constrained_layout=True)
        ax.plot(self.t, self.angle, marker=".", label="angle to max-margin (rad)")
        ax.plot(self.t, 1.0 / np.log(self.t + 1.0), "k:", lw=1, label="1/log t (rate, up to a constant)")
        ax.set(xscale="log", yscale="log", xlabel="step t", ylabel="angle to max-margin direction (rad)",
               title=f"direction of x_t, γ={self.gamma:g}")
        ax.legend(fontsize="small")
        return ax


def implicit_bias(problem, gamma: float = 0.1, steps: int = 10_000, points: int = 60) -> ImplicitBias:
    r"""Small-step LR+GD: the direction :math:`x_t/\|x_t\|` tends to the max-margin direction.

    Soudry et al. (2018, Thm 3): :math:`x_t = \hat w \log t + \rho_t` with :math:`\hat w = \hat u/\mu`
    and a bounded residual :math:`\rho_t` (for almost every data set), so the angle to the
    max-margin direction :math:`\hat u` (``problem.extras["max_margin"]``, solved to rounding) is
    :math:`O(1/\log t)`: ``log_t_angle`` stays bounded.  It need not fall monotonically: the
    residual's component across :math:`\hat u` can pass through 0 and grow again (in 2-D it is a
    signed scalar), so the angle can dip early and be larger later (``separable_logistic(seed=8)``,
    :math:`\gamma = 1`: 4e-5 at t = 55, 8e-3 at t = 2e4).  Records ``points`` log-spaced steps up to ``steps``.
    Reference: Soudry et al., JMLR 19(70), 2018, Thm 3.
    """
    Z, _, _ = problem_data(problem)
    gamma, steps = check_gamma(gamma), check_steps(steps)
    u, mm = max_margin(problem)
    _cite.note(problem, implicit_bias)
    n, d = Z.shape
    keep = np.unique(np.geomspace(1, steps, check_steps(points, "points")).astype(np.int64))
    x = np.zeros(d)
    X = np.empty((len(keep), d))
    loss = np.empty(len(keep))
    j = 0
    for t in range(1, steps + 1):
        x = x + (gamma / n) * (_sigma_neg(Z @ x) @ Z)
        if t == keep[j]:
            X[j] = x
            loss[j] = float(_log1pexp(-(Z @ x)).sum() / n)
            j += 1
    norm = np.linalg.norm(X, axis=1)
    margin = np.min(X @ Z.T, axis=1) / norm
    return ImplicitBias(keep, angle_to(X, u), margin, loss, norm, gamma, (u, mm))


# ----------------------------------------------------------------------------- methods to separation

def steps_to_separation(problem, method: str, gamma: float, max_steps: int = 100_000):
    r"""Iterations from :math:`x_0 = 0` until every training point is strictly correct, or None.

    ``method``: ``"lr_gd"`` (:math:`x \leftarrow x - \gamma\nabla f`), ``"normalized_lr_gd"``
    (:math:`x \leftarrow x - \gamma\beta_t\nabla f`, :math:`\beta_t^{-1} = \frac1n\sum_i (1+e^{y_ia_i^\top x})^{-1}`;
    Tyurin Sec. 6, as ``lk.optim.normalized_lr_gd``), ``"loss_adaptive_gd"``
    (:math:`x \leftarrow x - (\gamma/f(x))\nabla f`, as ``lk.optim.loss_adaptive_gd``), or
    ``"perceptron"`` (the batch perceptron; ``gamma`` unused).  A direct loop, not ``lk.run``:
    it stops at separation and is not bounded by ``problem.bound`` (checked against ``lk.run``
    in the tests).

    Reference: A. Tyurin, arXiv:2412.08424, 2024 (Sec. 3, Sec. 6); R. Zhang, J. Wu, L. Lin,
    P. L. Bartlett, arXiv:2504.04105, 2025.
    """
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    Z, _, _ = problem_data(problem)
    gamma, max_steps = check_gamma(gamma), check_steps(max_steps, "max_steps")
    if method in ("normalized_lr_gd", "loss_adaptive_gd"):
        from . import optim
        _cite.note(problem, optim.get(method))
    else:
        _cite.note(problem, lr_gd)
    n, d = Z.shape
    x = np.zeros(d)
    for t in range(max_steps + 1):
        m = Z @ x
        if np.all(m > 0.0):
            return t
        if t == max_steps:
            return None
        if method == "perceptron":
            c = np.where(m < 0.0, 1.0, np.where(m == 0.0, 0.5, 0.0))
            x = x + (c @ Z) / n
            continue
        s = _sigma_neg(m)
        step = (s @ Z) / n                              # -grad f(x)
        if method == "lr_gd":
            x = x + gamma * step
        elif method == "normalized_lr_gd":
            x = x + (gamma / (s.sum() / n)) * step
        else:
            f = float(_log1pexp(-m).sum() / n)
            x = x + (gamma / f) * step
    return None


def tyurin_bounds(problem, gamma: float) -> dict:
    r"""Tyurin's iteration bounds from :math:`x_0 = 0`: normalized LR+GD :math:`R^2/\mu^2 + 2\log(2n-1)/(\gamma\mu^2)`
    (Thm 6.1) and the batch perceptron :math:`nR^2/\mu^2` (Thm 3.3), with :math:`R = \max_i\|a_i\|`
    and :math:`\mu` the max margin."""
    Z, _, _ = problem_data(problem)
    _, mu = max_margin(problem)
    n = Z.shape[0]
    R2 = float(np.max(np.sum(Z * Z, axis=1)))
    gamma = check_gamma(gamma)
    return {"normalized_lr_gd": R2 / mu ** 2 + 2.0 * math.log(2 * n - 1) / (gamma * mu ** 2),
            "perceptron": n * R2 / mu ** 2}


def separation_comparison(margins=(0.2, 0.1, 0.05, 0.02), n: int = 100, d: int = 2, seed: int = 0,
                          gammas=(1.0, 100.0), methods=("lr_gd", "normalized_lr_gd", "loss_adaptive_gd"),
                          max_steps: int = 100_000):
    r"""Iterations to separation of each method at each :math:`\gamma`, across data margins.

    One ``lk.problems.separable_logistic(n, d, margin, seed)`` per margin.  Returns a pandas
    frame with columns ``margin`` (the generator's), ``mu`` (the max margin), ``gamma``,
    ``method``, ``steps`` (None: not separated within ``max_steps``) and Tyurin's bounds.
    """
    import pandas as pd

    from .problems_matrix import separable_logistic
    rows = []
    for margin in margins:
        p = separable_logistic(n=n, d=d, margin=margin, seed=seed)
        mu = p.extras["max_margin"][1]
        for g in gammas:
            bounds = tyurin_bounds(p, g)
            for m in methods:
                rows.append(dict(margin=float(margin), mu=mu, gamma=float(g), method=m,
                                 steps=steps_to_separation(p, m, g, max_steps),
                                 bound_normalized=bounds["normalized_lr_gd"], bound_perceptron=bounds["perceptron"]))
    return pd.DataFrame(rows)
