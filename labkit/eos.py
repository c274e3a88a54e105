r"""Edge of stability: full-batch gradient descent on a small network, with its sharpness tracked.

    import labkit as lk
    res = lk.eos.edge_of_stability()          # the demo: tanh MLP, squared loss, full batch, ~4 s
    res.final_ratio, res.n_increases          # ~1.0 (inside lk.eos.RATIO_BAND), 173
    res.plot()

Gradient descent with step :math:`\eta` on a quadratic is stable only while the sharpness
:math:`S(\theta) = \lambda_{max}(\nabla^2 L(\theta))` stays below :math:`2/\eta`.  Cohen et al.
found that on neural networks trained with full-batch GD, :math:`S` first rises (*progressive
sharpening*) until it reaches :math:`2/\eta`, and then hovers at or just above :math:`2/\eta`
(the *edge of stability*) while the loss keeps falling over long times, non-monotonically.
:math:`S` is computed here from Hessian-vector products by Lanczos (or power iteration).

References: J. Cohen, S. Kaur, Y. Li, J. Z. Kolter, A. Talwalkar, "Gradient Descent on Neural
Networks Typically Occurs at the Edge of Stability", ICLR 2021; C. Lanczos, J. Res. Nat. Bur.
Standards 45, 1950; G. H. Golub, C. F. Van Loan, Matrix Computations, 4th ed., Sec. 10.1.
"""
from __future__ import annotations

import math
import time
from typing import NamedTuple

import numpy as np

from ._errors import MAX_ITERATIONS, check_int, check_positive, unknown_name

__all__ = ["EOS_DEMO", "LATE_RATIO_RANGE", "METHODS", "RATIO_BAND", "EdgeOfStability", "demo_model", "edge_of_stability", "lanczos",
           "top_eigenvalue"]

METHODS = ("lanczos", "power")


# ----------------------------------------------------------------------------- top eigenvalue


def lanczos(apply, n: int, iters: int = 30, *, v0=None, seed: int = 0):
    r"""Lanczos tridiagonalisation of a symmetric operator, with full reorthogonalisation.

    .. math::
        \beta_{j} q_{j+1} = A q_j - \alpha_j q_j - \beta_{j-1} q_{j-1}, \qquad
        \alpha_j = q_j^\top A q_j, \qquad Q_m^\top A Q_m = T_m = \mathrm{tridiag}(\beta, \alpha, \beta).

    ``apply(v)`` returns :math:`A v` for :math:`v \in \mathbb{R}^n`.  Each new vector is
    orthogonalised twice against all previous ones (classical Gram-Schmidt, "twice is enough"),
    which removes the ghost copies of converged eigenvalues that plain Lanczos produces in
    floating point; the cost is :math:`O(n m^2)`, negligible next to ``m`` HVPs for a few
    thousand parameters.  Stops early on an invariant subspace (:math:`\beta_j \approx 0`).
    Returns ``(ritz_values, ritz_vectors)``, ascending, of the :math:`m \le` ``iters`` step
    Krylov space started from ``v0`` (default: a seeded Gaussian vector).  The extreme Ritz
    values converge to the extreme eigenvalues from inside, :math:`\theta_{max} \le \lambda_{max}`.

    Reference: C. Lanczos, 1950; Golub & Van Loan, Matrix Computations, 4th ed., Sec. 10.1.
    """
    n = check_int("n", n, 1)
    m = min(check_int("iters", iters, 1, MAX_ITERATIONS), n)
    if v0 is None:
        v0 = np.random.default_rng(seed).standard_normal(n)
    q = np.asarray(v0, dtype=np.float64).reshape(-1)
    if q.size != n or not np.all(np.isfinite(q)) or not np.any(q):
        raise ValueError(f"v0 must be a finite non-zero vector of length {n}")
    Q = np.zeros((m, n))
    Q[0] = q / np.linalg.norm(q)
    alpha, beta = np.zeros(m), np.zeros(m)
    k = m
    for j in range(m):
        w = np.asarray(apply(Q[j]), dtype=np.float64).reshape(-1)
        if w.shape != (n,) or not np.all(np.isfinite(w)):
            raise ValueError(f"the operator must return a finite vector of length {n}, got shape {w.shape}")
        alpha[j] = Q[j] @ w
        for _ in range(2):
            w -= Q[:j + 1].T @ (Q[:j + 1] @ w)
        beta[j] = np.linalg.norm(w)
        if j + 1 == m:
            break
        if beta[j] <= 1e-12 * max(abs(alpha[:j + 1]).max(), 1e-300):
            k = j + 1
            break
        Q[j + 1] = w / beta[j]
    T = np.diag(alpha[:k]) + np.diag(beta[:k - 1], 1) + np.diag(beta[:k - 1], -1)
    vals, S = np.linalg.eigh(T)
    return vals, Q[:k].T @ S


def top_eigenvalue(hvp, theta, method: str = "lanczos", iters: int = 20, *, seed: int = 0, v0=None,
                   return_vector: bool = False):
    r"""The largest eigenvalue :math:`\lambda_{max}(\nabla^2 L(\theta))` (the sharpness) from Hessian-vector products.

    ``hvp`` is a function ``hvp(theta, v)`` returning :math:`\nabla^2 L(\theta) v` (e.g.
    ``net.hvp``), a network from :func:`labkit.nets.mlp` (its graph is reused across products), a
    function ``hess(theta)``, a matrix, or a Problem with a Hessian (as
    :func:`labkit.analysis.sharpness_power`).

    ``method="lanczos"``: the largest Ritz value of ``iters`` Lanczos steps with full
    reorthogonalisation (:func:`lanczos`); a lower bound that converges fast when the top
    eigenvalue is separated, as it is for trained networks (Cohen et al. use Lanczos too).
    ``method="power"``: ``iters`` steps of power iteration,
    :math:`v \leftarrow Hv/\|Hv\|`, :math:`\lambda \approx v^\top H v`
    (:func:`labkit.analysis.sharpness_power`; it returns the eigenvalue of largest magnitude,
    corrected when that is negative).  ``v0`` starts Lanczos from a given vector (e.g. the previous
    top eigenvector, when tracking along a trajectory); ``return_vector=True`` also returns the
    unit Ritz vector (Lanczos only).

    References: Cohen et al., ICLR 2021; C. Lanczos, 1950; Golub & Van Loan, Sec. 10.1.
    """
    if method not in METHODS:
        raise unknown_name("method", method, METHODS)
    iters = check_int("iters", iters, 1, MAX_ITERATIONS)
    if return_vector and method != "lanczos":
        raise ValueError("return_vector=True needs method='lanczos'")
    theta = np.asarray(theta, dtype=np.float64).reshape(-1)
    if theta.size == 0 or not np.all(np.isfinite(theta)):
        raise ValueError("theta must be a finite point")
    from . import analysis
    if hasattr(hvp, "hvp_at"):                       # a labkit.nets.MLP: one gradient graph for all products
        graph_op = hvp.hvp_at(theta)
        op, hvp = graph_op, (lambda _x, v: graph_op(v))
    else:
        op = analysis._operator(hvp, theta)
    if method == "power":
        return analysis.sharpness_power(hvp, theta, iters, seed=seed)
    vals, vecs = lanczos(op, theta.size, iters, v0=v0, seed=seed)
    return (float(vals[-1]), vecs[:, -1]) if return_vector else float(vals[-1])


# ----------------------------------------------------------------------------- the experiment

# The demo configuration (see edge_of_stability's docstring for how it was chosen and measured).
EOS_DEMO = dict(n=40, turns=1.0, noise=0.0, widths=(32, 32), activation="tanh", loss="mse", lr=0.15, steps=5000,
                every=20)
# final sharpness / (2/lr) at the end of the demo, for any seed and lr in [0.12, 0.2]: measured, see edge_of_stability
RATIO_BAND = (0.85, 1.15)
# every tracked ratio in the last quarter of those 24 runs (the docstring's table); RATIO_BAND rounds it outwards
LATE_RATIO_RANGE = (0.856, 1.066)


def demo_model(seed: int = 0):
    r"""The network of the demo: a tanh MLP (32, 32) with squared loss on ``spirals(40, turns=1, seed=seed)``.

    1218 parameters, init seeded by ``seed`` too.  See :func:`edge_of_stability`.

    Reference: Cohen et al., ICLR 2021 (tanh networks, squared loss); Lang & Witbrock, 1988 (two spirals).
    """
    from . import nets
    c = EOS_DEMO
    data = nets.spirals(c["n"], turns=c["turns"], noise=c["noise"], seed=seed)
    return nets.mlp(data, widths=c["widths"], activation=c["activation"], loss=c["loss"], seed=seed,
                    name=f"eos demo: mlp(spirals({c['n']}, seed={seed}), widths={c['widths']}, tanh, mse)")


class EdgeOfStability(NamedTuple):
    r"""A full-batch GD run with its sharpness tracked (from :func:`edge_of_stability`).

    ``loss[k]`` is :math:`L(\theta_k)`, ``k = 0..steps`` (shorter if the run diverged);
    ``sharpness[i]`` is :math:`S(\theta_k)` at ``k = sharpness_steps[i]``; ``threshold`` is
    :math:`2/\eta`.  Summary: ``edge_step``, the first tracked step with
    :math:`S \ge 0.9 \cdot 2/\eta` (``None`` if never); ``initial_ratio`` and ``final_ratio``,
    :math:`S/(2/\eta)` at the first and last tracked steps; ``late_ratio``, its mean over the last
    quarter of the tracked steps; ``n_increases``, the number of steps with
    :math:`L(\theta_{k+1}) > L(\theta_k)`; ``loss_ratio`` = final loss / initial loss; ``theta``,
    the last iterate with a finite loss; ``wall_s``, the run's wall time.
    """

    name: str
    lr: float
    threshold: float
    loss: np.ndarray
    sharpness_steps: np.ndarray
    sharpness: np.ndarray
    theta: np.ndarray
    edge_step: int | None
    initial_ratio: float
    final_ratio: float
    late_ratio: float
    n_increases: int
    loss_ratio: float
    wall_s: float

    @property
    def steps(self) -> int:
        """Number of GD steps taken."""
        return len(self.loss) - 1

    def summary(self) -> dict:
        """The summary numbers as a plain dict (for ``lk.record``)."""
        return dict(lr=self.lr, threshold=self.threshold, steps=self.steps, edge_step=self.edge_step,
                    initial_ratio=self.initial_ratio, final_ratio=self.final_ratio, late_ratio=self.late_ratio,
                    n_increases=self.n_increases, initial_loss=float(self.loss[0]),
                    final_loss=float(self.loss[-1]), loss_ratio=self.loss_ratio)

    def plot(self, axes=None):
        """Loss (log scale) and sharpness with the :math:`2/\\eta` line, against the step.

        ``axes``: two matplotlib axes (loss, sharpness); default: a new figure with two stacked
        panels sharing the step axis.  Returns the two axes.
        """
        import matplotlib.pyplot as plt
        if axes is None:
            _, axes = plt.subplots(2, 1, sharex=True, figsize=(7, 5.5), constrained_layout=True)
        if len(axes) != 2:
            raise ValueError(f"axes must be two matplotlib axes (loss, sharpness), got {len(axes)}")
        ax_loss, ax_sharp = axes
        ax_loss.plot(np.arange(len(self.loss)), self.loss, lw=1.0, color="C0")
        ax_loss.set_yscale("log")
        ax_loss.set_ylabel("training loss")
        ax_loss.set_title(f"{self.name}\nfull-batch GD, lr = {self.lr:g}", fontsize=9)
        ax_sharp.plot(self.sharpness_steps, self.sharpness, lw=1.2, color="C1", label=r"sharpness $\lambda_{max}$")
        from . import viz
        ax_sharp.axhline(self.threshold, color="k", ls="--", lw=1.2, label=r"$2/\eta$ (theory)",
                         zorder=viz.THEORY_ZORDER, gid="theory")
        if self.edge_step is not None:
            ax_sharp.axvline(self.edge_step, color="0.6", ls=":", lw=1.0,
                             label=r"first $\lambda_{max} \geq 0.9 \cdot 2/\eta$")
        ax_sharp.set_ylim(0.0, 1.25 * max(self.threshold, float(np.max(self.sharpness, initial=0.0))))
        ax_sharp.set_xlabel("step")
        ax_sharp.set_ylabel("sharpness")
        ax_sharp.legend(loc="lower right")
        return ax_loss, ax_sharp


def _value_and_grad_of(model):
    if hasattr(model, "value_and_grad"):
        return model.value_and_grad
    return lambda x: (float(model.f(x)), np.asarray(model.grad(x), dtype=np.float64).reshape(-1))


def _hvp_of(model):
    """A function theta -> (v -> H(theta) v) for an MLP (graph reused) or a Problem."""
    if hasattr(model, "hvp_at"):
        return model.hvp_at
    from . import analysis
    extras = getattr(model, "extras", {}) or {}
    if "hvp" in extras:
        return lambda x: analysis._operator(extras["hvp"], x)
    if getattr(model, "hess", None) is None:
        raise ValueError(f"model {getattr(model, 'name', model)!r} has neither hvp_at, extras['hvp'] nor hess: "
                         "the sharpness needs Hessian-vector products")
    return lambda x: analysis._operator(model.hess, x)


def edge_of_stability(model=None, lr: float = EOS_DEMO["lr"], steps: int = EOS_DEMO["steps"], *,
                      every: int = EOS_DEMO["every"], sharpness_iters: int = 20, method: str = "lanczos",
                      x0=None, seed: int = 0, progress: bool | None = None) -> EdgeOfStability:
    r"""Full-batch gradient descent :math:`\theta_{k+1} = \theta_k - \eta \nabla L(\theta_k)` (float64), tracking the sharpness.

    The sharpness :math:`S(\theta_k) = \lambda_{max}(\nabla^2 L(\theta_k))` is computed every
    ``every`` steps (and at the last step) by :func:`top_eigenvalue` with ``sharpness_iters``
    Lanczos steps (or power iterations, ``method="power"``); Lanczos starts from the previous top
    Ritz vector, so that a few steps track the top eigenvalue along the run.  GD on the local
    quadratic model is stable only while :math:`S < 2/\eta`: Cohen et al. observe that
    :math:`S` rises towards :math:`2/\eta` (progressive sharpening) and then hovers there (the
    edge of stability) while the loss keeps falling, non-monotonically.

    ``model``: a network from :func:`labkit.nets.mlp` or a :class:`labkit.Problem` with a Hessian
    (or ``extras["hvp"]``); default :func:`demo_model` ``(seed)``.  ``x0`` overrides
    ``model.x0``.  A non-finite loss stops the run with a :class:`labkit.DivergenceWarning`.
    A tqdm bar shows when the run will take more than about a second, judged from its first
    ``every`` steps (``progress=True/False`` forces it).

    **The demo** (the defaults, ``EOS_DEMO``): a tanh MLP with widths (32, 32), 1218 parameters,
    squared loss on 40 points of two spirals (one turn, no noise), ``lr = 0.15``
    (:math:`2/\eta = 13.3`), 5000 steps, sharpness every 20 steps by 20 warm-started Lanczos steps:
    3.3-4 s on one free CPU core (up to 7 s with the two cores shared).  Measured with seeds 0-11
    (data and init) at ``lr = 0.15`` and seeds 0-5 at ``lr = 0.12`` and ``0.2``, 24 runs:

    ====================================  ==============  ==============  ==============
    5000 steps                            lr = 0.12       lr = 0.15       lr = 0.2
    ====================================  ==============  ==============  ==============
    ``initial_ratio``                     0.26-0.35       0.28-0.44       0.44-0.58
    ``edge_step``                         1040-2200       560-1240        300-820
    ``final_ratio``                       0.992-1.031     0.964-1.036     0.985-1.012
    every tracked ratio, last quarter     0.946-1.062     0.856-1.066     0.946-1.060
    ``n_increases``                       19-434          48-1346         128-657
    ``late_ratio``                        0.991-1.008     0.908-1.005     0.996-1.001
    final loss (initial 0.34-0.76)        0.012-0.018     0.010-0.016     0.008-0.011
    ====================================  ==============  ==============  ==============

    So the sharpness grows 1.7-3.8x from initialisation to :math:`2/\eta` and then stays within
    :math:`\pm 15\%` of it while the loss falls 26-80x, with many increases.  ``RATIO_BAND``
    = (0.85, 1.15) is the band for ``final_ratio``: at the edge of stability :math:`S`
    oscillates about :math:`2/\eta` (an overshoot makes GD unstable along the top eigenvector,
    and the growing oscillation pushes :math:`S` back down: self-stabilisation, Damian et al.
    2023), and the last value is one sample of that oscillation; so the band is the range of
    *every* tracked value in the last quarters of the 24 runs (0.856-1.066), rounded outwards,
    rather than the narrower range of the 24 final values (0.964-1.036).  It holds once the first
    overshoot has settled: for a few hundred steps after ``edge_step`` the ratio overshoots (to 1.3
    with seed 0), and each overshoot ends in a spike of the loss.  Smaller steps sharpen too
    slowly for 5000 steps: at ``lr = 0.1`` one of six seeds ends at 0.83 without reaching
    :math:`0.9 \cdot 2/\eta` and another reaches it only at step 3880, which is why the demo
    uses 0.15.

    References: J. Cohen et al., ICLR 2021; C. Lanczos, 1950; A. Damian, E. Nichani, J. D. Lee,
    "Self-Stabilization: The Implicit Bias of Gradient Descent at the Edge of Stability", ICLR 2023.
    """
    import warnings

    from ._errors import DivergenceWarning
    lr = check_positive("lr", lr)
    steps = check_int("steps", steps, 1)
    every = check_int("every", every, 1)
    sharpness_iters = check_int("sharpness_iters", sharpness_iters, 1, MAX_ITERATIONS)
    if method not in METHODS:
        raise unknown_name("method", method, METHODS)
    if model is None:
        model = demo_model(seed)
    if not hasattr(model, "x0") or not (hasattr(model, "grad") or hasattr(model, "value_and_grad")):
        raise ValueError(f"model must be a labkit.nets.MLP or a labkit Problem, got {type(model).__name__}")
    theta = np.array(model.x0 if x0 is None else x0, dtype=np.float64).reshape(-1)
    if theta.shape != np.shape(model.x0) or not np.all(np.isfinite(theta)):
        raise ValueError(f"x0 must be a finite vector of shape {np.shape(model.x0)}")
    value_and_grad, hvp_at = _value_and_grad_of(model), _hvp_of(model)
    threshold = 2.0 / lr

    from .sweep import _progress

    t0 = time.perf_counter()
    loss = np.empty(steps + 1)
    s_steps, s_vals = [], []
    v = None
    k_last, theta_prev = steps, theta
    show = None if progress is None else bool(progress)
    bar = _progress(steps, bool(show), "edge_of_stability", "step")
    for k in range(steps + 1):
        if k and k % every == 0:
            if show is None:                # decide from the first block of steps (and its sharpness)
                show = (time.perf_counter() - t0) * steps / k > 1.0
                bar = _progress(steps, show, "edge_of_stability", "step")
            bar.update(every)
        f, g = value_and_grad(theta)
        if not (math.isfinite(f) and np.all(np.isfinite(g))):
            warnings.warn(f"edge_of_stability: loss or gradient not finite at step {k} (lr={lr:g}); stopped there",
                          DivergenceWarning, stacklevel=2)
            k_last, theta = k - 1, theta_prev
            break
        loss[k] = f
        if k % every == 0 or k == steps:
            op = hvp_at(theta)
            if method == "lanczos":
                vals, vecs = lanczos(op, theta.size, sharpness_iters, v0=v, seed=seed)
                s, v = float(vals[-1]), vecs[:, -1]
            else:
                from . import analysis
                s = analysis.sharpness_power(lambda _x, u: op(u), theta, sharpness_iters, seed=seed)
            s_steps.append(k)
            s_vals.append(s)
        if k == steps:
            break
        theta_prev, theta = theta, theta - lr * g
    bar.close()
    wall = time.perf_counter() - t0
    if k_last < 0:
        raise ValueError("edge_of_stability: the loss is not finite at x0")

    loss = loss[:k_last + 1]
    S = np.array(s_vals)
    ratio = S / threshold
    hit = np.flatnonzero(ratio >= 0.9)
    tail = ratio[(3 * len(ratio)) // 4:] if len(ratio) >= 4 else ratio[-1:]
    return EdgeOfStability(
        name=getattr(model, "name", type(model).__name__), lr=lr, threshold=threshold, loss=loss,
        sharpness_steps=np.array(s_steps, dtype=np.int64), sharpness=S, theta=theta,
        edge_step=int(s_steps[hit[0]]) if hit.size else None,
        initial_ratio=float(ratio[0]), final_ratio=float(ratio[-1]), late_ratio=float(tail.mean()),
        n_increases=int(np.sum(np.diff(loss) > 0)), loss_ratio=float(loss[-1] / loss[0]), wall_s=wall)
