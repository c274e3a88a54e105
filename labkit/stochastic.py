r"""Noisy gradients: the stationary loss of SGD, learning-rate schedules and the batch-size rule.

A noisy quadratic is the smallest model where schedules and batch sizes matter: with
gradients :math:`g_t = A(x_t - c) + \xi_t`, :math:`\xi_t \sim \mathcal N(0, \sigma^2 I / B)`
(``problem.with_noise(sigma / sqrt(B), seed)``), a constant step size does not converge
but reaches a stationary cloud around the minimiser whose size is set by the step size and
the noise; decaying the step size shrinks the cloud, and a larger batch lowers the noise.

Everything here is a client of :func:`labkit.run` / :func:`labkit.sweep`; runs over seeds
are averaged (common random numbers: the same seed gives the same noise to every variant).

References: S. Mandt, M. D. Hoffman, D. M. Blei, "Stochastic Gradient Descent as
Approximate Bayesian Inference", JMLR 18, 2017 (the stationary distribution);
P. Goyal et al., arXiv:1706.02677, 2017 (linear scaling); S. Malladi, K. Lyu, A. Panigrahi,
S. Arora, "On the SDEs and Scaling Rules for Adaptive Gradient Algorithms", NeurIPS 2022
(square-root scaling for Adam); K. Wen et al., "Understanding Warmup-Stable-Decay Learning
Rates", arXiv:2410.05192, 2024 (WSD's loss drop in the decay phase).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from ._errors import (DivergenceWarning, MAX_ITERATIONS, check_bool, check_int, check_nonneg, check_positive,
                      check_problem, check_run_memory, check_seed, shown)

__all__ = ["ScheduleComparison", "batch_size_scaling", "schedule_comparison", "sgd_stationary_loss"]


def _seed_list(seeds):
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if not 1 <= seeds <= MAX_ITERATIONS:
            raise ValueError(f"seeds must be a count in [1, {MAX_ITERATIONS}] or a sequence of seeds, got {seeds!r}")
        return list(range(int(seeds)))
    if isinstance(seeds, (str, bytes, dict)) or not hasattr(seeds, "__iter__"):
        raise TypeError(f"seeds must be a count or a sequence of seeds, got {shown(seeds)}")
    out = [check_seed("each of seeds", s) for s in seeds]
    if not out:
        raise ValueError("seeds must not be empty")
    return out


def sgd_stationary_loss(problem_or_eigs, lr: float, noise_std: float) -> float:
    r"""Expected :math:`f - f^*` of plain SGD at stationarity on a quadratic with additive noise.

    Along eigendirection :math:`i` the error obeys :math:`e_{t+1} = (1-\eta\lambda_i) e_t - \eta\xi_t`,
    whose stationary variance is :math:`\eta^2 s^2 / (1 - (1-\eta\lambda_i)^2)`, so

    .. math:: \mathbb E[f - f^*] = \sum_i \tfrac12 \lambda_i \operatorname{Var} e_i
              = \sum_i \frac{\eta s^2}{2 (2 - \eta \lambda_i)}, \qquad 0 < \eta < 2/\lambda_{max},

    with :math:`s` the noise standard deviation per coordinate.  For small :math:`\eta\lambda`
    this is :math:`d\,\eta s^2/4`: proportional to :math:`\eta / B` when :math:`s^2 = \sigma^2/B`,
    which is why the step size should grow linearly with the batch size.

    References: Mandt, Hoffman, Blei, JMLR 2017; Goyal et al., 2017.
    """
    from .analysis import eigenvalues, gd_stability_limit

    lam = eigenvalues(problem_or_eigs)
    lr, noise_std = check_positive("lr", lr), check_nonneg("noise_std", noise_std)
    if not (lr > 0 and math.isfinite(lr)):
        raise ValueError(f"lr must be finite and > 0, got {lr!r}")
    if not (noise_std >= 0 and math.isfinite(noise_std)):
        raise ValueError(f"noise_std must be finite and >= 0, got {noise_std!r}")
    if lam[0] <= 0:
        raise ValueError("problem_or_eigs: the quadratic must be positive definite for a stationary distribution")
    if lr >= gd_stability_limit(lam):
        raise ValueError(f"lr={lr:g} is at or beyond the stability limit 2/λmax={gd_stability_limit(lam):g}")
    # noise_std as float64: a huge one gives inf, where Python's float ** 2 raises OverflowError.
    return float(np.sum(lr * np.float64(noise_std)**2 / (2.0 * (2.0 - lr * lam))))


@dataclass(frozen=True, eq=False)
class ScheduleComparison:
    """The result of :func:`schedule_comparison`.

    ``curves``: DataFrame indexed by step, one column per schedule: the loss gap
    :math:`f - f^*` averaged over seeds.  ``final``: Series, the mean final gap per
    schedule.  ``multipliers``: DataFrame of each schedule's per-step multiplier of ``lr``.
    """

    curves: object
    final: object
    multipliers: object
    rule: str
    lr: float
    seeds: int

    def plot(self, axes=None):
        """Mean loss gap per step (log scale) over the step-size multipliers.  Returns the two axes."""
        import matplotlib.pyplot as plt

        from . import viz
        if axes is None:
            _, axes = plt.subplots(2, 1, figsize=(7, 5.5), sharex=True, height_ratios=(3, 1))
        ax, axm = axes
        for name, st in zip(self.curves.columns, viz.series_styles(len(self.curves.columns))):
            viz.space_markers(ax.plot(self.curves.index, self.curves[name], lw=1.3,
                                      label=f"{name}: {self.final[name]:.3g}", **st))
            viz.space_markers(axm.plot(self.multipliers.index, self.multipliers[name], lw=1.3, **st))
        ax.set_yscale("log")
        ax.set_ylabel("mean f - f*")
        ax.set_title(f"{self.rule}, lr={self.lr:g}, mean over {self.seeds} noise seeds")
        ax.legend(title="schedule: final", fontsize="small")
        axm.set_xlabel("step")
        axm.set_ylabel("lr multiplier")
        return ax, axm


def schedule_comparison(problem, rule, steps: int, schedules: dict, *, seeds=32, progress: bool | None = None,
                        **hyperparameters):
    r"""Run ``rule`` under each of ``schedules`` (name -> :mod:`labkit.schedules` entry) over noise seeds.

    ``problem`` must have gradient noise (``problem.with_noise(...)``).  Every schedule
    sees the same noise for the same seed, so differences are the schedules', not luck's.
    Returns a :class:`ScheduleComparison` of mean loss-gap curves and final gaps.  A tqdm bar
    over the runs shows once the comparison has taken a second (``progress=True/False`` forces it).

    References: Loshchilov & Hutter, ICLR 2017 (cosine); Wen et al., 2024 (WSD).
    """
    import dataclasses

    import pandas as pd

    from .run import run, schedule_multipliers
    from .sweep import _progress_bar

    problem = check_problem("problem", problem)
    if not problem.noise:
        raise ValueError("schedule_comparison needs a noisy problem: problem.with_noise(std, seed)")
    steps = check_int("steps", steps, 0)
    check_run_memory(problem, steps)
    if not isinstance(schedules, dict):
        raise TypeError(f"schedules must be a dict {{name: schedule}}, got {shown(schedules)}")
    if not schedules:
        raise ValueError("schedules must name at least one schedule")
    for name, sched in schedules.items():           # each one checked before any run
        try:
            schedule_multipliers(sched, steps)
        except (TypeError, ValueError) as e:
            raise type(e)(f"schedules[{name!r}]: {e}") from None
    progress = None if progress is None else check_bool("progress", progress)
    seed_list = _seed_list(seeds)
    ref = 0.0 if problem.f_star is None else float(problem.f_star)
    curves, mult = {}, {}
    with _progress_bar(len(schedules) * len(seed_list), progress, "schedule_comparison") as bar:
        for name, sched in schedules.items():
            total = np.zeros(int(steps) + 1)
            for s in seed_list:
                with warnings.catch_warnings():
                    warnings.simplefilter("error", DivergenceWarning)
                    tr = run(dataclasses.replace(problem, seed=s), rule, steps, schedule=sched, **hyperparameters)
                total += tr.f - ref
                bar.update()
            curves[name] = total / len(seed_list)
            mult[name] = schedule_multipliers(sched, int(steps))
    curves = pd.DataFrame(curves)
    curves.index.name = "step"
    lr = float(hyperparameters.get("lr", np.nan))
    return ScheduleComparison(curves, curves.iloc[-1], pd.DataFrame(mult), str(rule), lr, len(seed_list))


def batch_size_scaling(problem, rule, batch_sizes, *, lr: float, noise_std: float, steps: int,
                       scalings=("linear", "sqrt"), seeds=256, base_batch_size=None, progress: bool | None = None,
                       **hyperparameters):
    r"""Mean final loss gap when the batch size grows and ``lr`` follows each scaling rule.

    Batch size :math:`B` sets the gradient noise to ``noise_std / sqrt(B)``; the step size
    is :func:`labkit.schedules.scale_lr_for_batch` of ``lr`` from ``base_batch_size`` (the
    smallest batch by default).  A scaling rule is right for a rule when the stationary loss
    does not depend on :math:`B`: linear for SGD (loss :math:`\propto \eta/B`), square root
    for Adam (in the noise-dominated regime :math:`\sqrt{v} \approx \sigma/\sqrt B`, so Adam is
    SGD with step :math:`\eta\sqrt B/\sigma` and loss :math:`\propto \eta/\sqrt B`).  Runs
    with :func:`labkit.sweep` over ``seeds``; ``steps`` must be long enough to reach
    stationarity.  Returns a DataFrame: ``scaling``, ``batch_size``, ``lr``, ``noise_std``,
    ``loss`` (mean over seeds) and ``loss_sem`` (its standard error), and ``relative``
    (loss over the base batch's loss under the same scaling).  A tqdm bar over the sweeps shows
    once the call has taken a second (``progress=True/False`` forces it).

    References: Goyal et al., 2017; Malladi et al., NeurIPS 2022.
    """
    import pandas as pd

    from .schedules import scale_lr_for_batch
    from .sweep import _progress_bar, sweep

    from ._errors import check_array
    problem = check_problem("problem", problem)
    batch_sizes = [float(b) for b in check_array("batch_sizes", batch_sizes, what="positive batch sizes").reshape(-1)]
    if not batch_sizes or min(batch_sizes) <= 0:
        raise ValueError("batch_sizes must be positive")
    base = min(batch_sizes) if base_batch_size is None else check_positive("base_batch_size", base_batch_size)
    noise_std = check_nonneg("noise_std", noise_std)
    progress = None if progress is None else check_bool("progress", progress)
    seed_list = _seed_list(seeds)
    ref = 0.0 if problem.f_star is None else float(problem.f_star)
    rows = []
    with _progress_bar(len(scalings) * len(batch_sizes), progress, "batch_size_scaling", "sweep") as bar:
        for scaling in scalings:
            for b in batch_sizes:
                step = scale_lr_for_batch(lr, b, base, scaling)
                std = float(noise_std) / math.sqrt(b)
                with warnings.catch_warnings():
                    warnings.simplefilter("error", DivergenceWarning)
                    frame = sweep(problem.with_noise(std), rule, steps, lr=step, seed=np.array(seed_list),
                                  progress=False, **hyperparameters)
                gap = frame["f_final"].to_numpy(dtype=np.float64) - ref
                rows.append({"scaling": scaling, "batch_size": b, "lr": step, "noise_std": std,
                             "loss": float(gap.mean()), "loss_sem": float(gap.std(ddof=1) / math.sqrt(gap.size))})
                bar.update()
    out = pd.DataFrame(rows)
    base_loss = out[out.batch_size == base].set_index("scaling")["loss"]
    out["relative"] = out["loss"] / out["scaling"].map(base_loss)
    return out
