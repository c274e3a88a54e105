r"""Learning-rate schedules: plain functions of the step.

A schedule maps the step index :math:`s = 0, 1, \dots` (torch ``LambdaLR``'s convention)
to a *multiplier* of the base step size: ``lk.run(problem, rule, steps,
schedule=lk.schedules.cosine(steps))`` uses :math:`\eta_s = \eta \cdot m(s)`.  Every
schedule is vectorised over an array of steps and checked against
``torch.optim.lr_scheduler`` or pytorch-optimizer's ``get_wsd_schedule`` where those exist
(``tests/test_schedules.py``).  Warm-up, where offered, is linear from 0 as in
pytorch-optimizer: :math:`m(s) = s / W` for :math:`s < W`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ._errors import check_array, check_int, check_memory, check_nonneg, check_positive, check_real, shown

__all__ = ["Schedule", "constant", "step", "exponential", "cosine", "linear", "wsd", "power", "refined",
           "scale_lr_for_batch"]


@dataclass(frozen=True)
class Schedule:
    """A learning-rate multiplier as a function of the step, with its parameters and reference."""

    name: str
    fn: Callable = field(repr=False)
    params: dict = field(default_factory=dict)
    reference: str = field(default="", repr=False)

    def __call__(self, s):
        arr = np.asarray(s, dtype=np.float64)
        out = np.asarray(self.fn(arr), dtype=np.float64)
        return float(out) if arr.ndim == 0 else np.broadcast_to(out, arr.shape).copy()

    def values(self, steps: int) -> np.ndarray:
        """The multipliers of steps 0 .. steps-1."""
        steps = check_int("steps", steps, 0)
        check_memory(f"{self!r}.values(steps={steps})", 16.0 * steps, per_unit=16, unit="steps")
        return self(np.arange(steps))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.name}({args})"


def _ratio(name, v):
    v = check_real(name, v)
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {v!r}")
    return v


def _warm(s, warmup, after):
    """Linear warm-up s / W for s < W, then ``after(s)``."""
    if warmup == 0:
        return after(s)
    return np.where(s < warmup, s / max(1, warmup), after(np.maximum(s, warmup)))


def constant() -> Schedule:
    """:math:`m(s) = 1`."""
    return Schedule("constant", lambda s: np.ones_like(s))


def step(step_size: int, gamma: float = 0.1) -> Schedule:
    r"""Step decay, :math:`m(s) = \gamma^{\lfloor s / \mathrm{step\_size} \rfloor}` (torch ``StepLR``)."""
    step_size = check_int("step_size", step_size, 1)
    gamma = _ratio("gamma", gamma)
    return Schedule("step", lambda s: gamma ** np.floor(s / step_size), dict(step_size=step_size, gamma=gamma),
                    "torch.optim.lr_scheduler.StepLR")


def exponential(gamma: float) -> Schedule:
    r"""Exponential decay, :math:`m(s) = \gamma^s` (torch ``ExponentialLR``)."""
    gamma = _ratio("gamma", gamma)
    return Schedule("exponential", lambda s: gamma ** s, dict(gamma=gamma), "torch.optim.lr_scheduler.ExponentialLR")


def cosine(total: int, warmup: int = 0, floor: float = 0.0) -> Schedule:
    r"""Cosine annealing to ``floor`` at step ``total``, after an optional linear warm-up.

    .. math:: m(s) = r + (1 - r)\,\tfrac12\big(1 + \cos(\pi p)\big), \quad
              p = \min\!\big(1, (s - W)/(T - W)\big)

    Unlike torch's ``CosineAnnealingLR`` it stays at the floor after ``total`` instead of
    rising again (torch's is periodic).  Reference: I. Loshchilov, F. Hutter, 'SGDR:
    Stochastic Gradient Descent with Warm Restarts', ICLR 2017.
    """
    total, warmup, r = check_int("total", total, 1), check_int("warmup", warmup, 0), _ratio("floor", floor)
    if warmup >= total:
        raise ValueError(f"warmup ({warmup}) must be smaller than total ({total})")

    def after(s):
        p = np.minimum(1.0, (s - warmup) / (total - warmup))
        return r + (1.0 - r) * 0.5 * (1.0 + np.cos(math.pi * p))
    return Schedule("cosine", lambda s: _warm(s, warmup, after), dict(total=total, warmup=warmup, floor=r),
                    "Loshchilov & Hutter, ICLR 2017")


def linear(total: int, warmup: int = 0, floor: float = 0.0) -> Schedule:
    r"""Linear decay to ``floor`` at step ``total``, :math:`m(s) = 1 - (1 - r)\,p`.

    Defazio et al. (2023) show linear decay is the worst-case optimal last-iterate schedule
    and matches or beats cosine in practice.  torch ``LinearLR(1, floor, total)`` without warm-up.
    Reference: A. Defazio, A. Cutkosky, H. Mehta, K. Mishchenko, 'When, Why and How Much?
    Adaptive Learning Rate Scheduling by Refinement', arXiv:2310.07831, 2023.
    """
    total, warmup, r = check_int("total", total, 1), check_int("warmup", warmup, 0), _ratio("floor", floor)
    if warmup >= total:
        raise ValueError(f"warmup ({warmup}) must be smaller than total ({total})")

    def after(s):
        p = np.minimum(1.0, (s - warmup) / (total - warmup))
        return 1.0 - (1.0 - r) * p
    return Schedule("linear", lambda s: _warm(s, warmup, after), dict(total=total, warmup=warmup, floor=r),
                    "Defazio et al., arXiv:2310.07831, 2023")


_COOLDOWNS = ("1-sqrt", "linear", "1-square", "cosine", "exponential")


def wsd(warmup: int, stable: int, decay: int, floor: float = 0.0, cooldown: str = "1-sqrt",
        num_cycles: float = 0.5, half_life: float | None = None) -> Schedule:
    r"""Warm-up / stable / decay (MiniCPM's WSD), as pytorch-optimizer's ``get_wsd_schedule``.

    :math:`m = s/W` during warm-up, 1 while stable, then a cooldown over ``decay`` steps with
    progress :math:`p = (s - W - S)/D`: ``'1-sqrt'`` :math:`1 - \sqrt p` (default),
    ``'linear'`` :math:`1 - p`, ``'1-square'`` :math:`1 - p^2`, ``'cosine'``
    :math:`r + (1-r)\max(0, \tfrac12(1 + \cos 2\pi c p))`; afterwards ``floor``.  As in
    pytorch-optimizer, the non-cosine cooldowns ignore ``floor`` until they end and then jump
    to it.  ``'exponential'`` is MiniCPM's :math:`0.5^{(s - W - S)/h}` with half-life
    :math:`h` (default D/8; the report's constants are not verified here), clipped below at floor.
    Reference: S. Hu et al., 'MiniCPM: Unveiling the Potential of Small Language Models with
    Scalable Training Strategies', arXiv:2404.06395, 2024.
    """
    warmup, stable, decay = check_int("warmup", warmup, 0), check_int("stable", stable, 0), check_int("decay", decay, 1)
    r = _ratio("floor", floor)
    if not isinstance(cooldown, str) or cooldown not in _COOLDOWNS:
        from ._errors import unknown_name
        raise unknown_name("cooldown", cooldown, _COOLDOWNS)
    num_cycles = check_real("num_cycles", num_cycles)
    h = decay / 8.0 if half_life is None else check_positive("half_life", half_life)

    def fn(s):
        p = (s - warmup - stable) / decay
        pc = np.clip(p, 0.0, 1.0)
        if cooldown == "1-sqrt":
            cool = 1.0 - np.sqrt(pc)
        elif cooldown == "linear":
            cool = 1.0 - pc
        elif cooldown == "1-square":
            cool = 1.0 - pc ** 2
        elif cooldown == "cosine":
            cool = (1.0 - r) * np.maximum(0.0, 0.5 * (1.0 + np.cos(math.pi * float(num_cycles) * 2.0 * pc))) + r
        else:
            cool = np.maximum(r, 0.5 ** ((s - warmup - stable) / h))
        return np.select([s < warmup, s < warmup + stable, s < warmup + stable + decay],
                         [s / max(1, warmup), 1.0, cool], r)
    params = dict(warmup=warmup, stable=stable, decay=decay, floor=r, cooldown=cooldown)
    if cooldown == "cosine":
        params["num_cycles"] = num_cycles
    if cooldown == "exponential":
        params["half_life"] = h
    return Schedule("wsd", fn, params, "Hu et al., arXiv:2404.06395, 2024; pytorch-optimizer get_wsd_schedule")


def power(lr_max: float = 0.02, a: float = 4.0, b: float = -0.51, warmup: int = 0, decay: int = 0,
          total: int | None = None, tokens_per_step: float = 1.0, batch_size: float = 1.0,
          final_ratio: float = 0.0) -> Schedule:
    r"""The Power scheduler, relative to ``lr_max`` (use ``lr=lr_max`` in ``run``).

    .. math:: \eta(n) = \min\big(\eta_{max},\ \beta\, a\, (n c)^{b}\big)

    with :math:`n` the step, :math:`c` = ``tokens_per_step`` and :math:`\beta` =
    ``batch_size``; linear warm-up to :math:`\eta(W)` over ``warmup`` steps, and over the last
    ``decay`` steps of ``total`` an exponential decay :math:`A e^{-x/t} + B` from 1 to
    ``final_ratio`` with :math:`A = (1-f)e/(e-1)`, :math:`B = (fe-1)/(e-1)`.  From the authors'
    code (IBM dolomite-engine ``PowerScheduler``); the constants a = 4, b = -0.51,
    lr_max = 0.02 are not verified against the paper: they are parameters.
    Reference: Y. Shen et al., 'Power Scheduler: A Batch Size and Token Number Agnostic
    Learning Rate Scheduler', arXiv:2408.13359, 2024.
    """
    lr_max = check_positive("lr_max", lr_max)
    a, b = check_real("a", a), check_real("b", b)
    tokens_per_step, batch_size = check_positive("tokens_per_step", tokens_per_step), check_positive("batch_size", batch_size)
    warmup, decay = check_int("warmup", warmup, 0), check_int("decay", decay, 0)
    if total is not None:
        total = check_int("total", total, max(decay, 1))
    f = _ratio("final_ratio", final_ratio)
    if decay and total is None:
        raise ValueError("power(decay=...) needs total (the run length)")

    def law(n):
        return np.minimum(lr_max, batch_size * a * np.maximum(n * tokens_per_step, 1e-300) ** b) / lr_max

    def fn(s):
        out = law(np.maximum(s, warmup))
        if warmup:
            out = np.where(s < warmup, s / warmup * law(np.float64(warmup)), out)
        if decay:
            x = s - (total - decay)
            e = math.e
            A, B = (1.0 - f) * e / (e - 1.0), (f * e - 1.0) / (e - 1.0)
            out = np.where(x > 0, out * (A * np.exp(-np.clip(x, 0, decay) / decay) + B), out)
        return out
    return Schedule("power", fn, dict(lr_max=lr_max, a=a, b=b, warmup=warmup, decay=decay, total=total),
                    "Shen et al., arXiv:2408.13359, 2024")


def refined(grad_norms, smoothing: float = 0.0, power: float = 2.0) -> Schedule:
    r"""The refined schedule of Defazio et al.: a schedule computed from a previous run's gradient norms.

    .. math:: w_t = \|g_t\|^{-p} \sum_{u > t} \|g_u\|^{-p} \Big/ \sum_u \|g_u\|^{-p}, \qquad w_{T-1} = 0

    normalised to a peak of 1 (authors' ``find_closed_form_schedule``, p = 2).  Constant norms
    give linear decay; norms that fall early give a warm-up.  ``smoothing`` = :math:`\tau`
    applies the authors' median filter of width :math:`2\lfloor\tau T/2\rfloor + 1` (right
    padding by twice the width, reflected) first.  The paper's Adam variant (l1 norms) is not
    verified; ``power`` exposes the exponent.  Steps past the recorded run are 0.
    Reference: Defazio, Cutkosky, Mehta, Mishchenko, arXiv:2310.07831, 2023.
    """
    g = check_array("grad_norms", grad_norms, finite=False, what="gradient norms").reshape(-1)
    if g.size < 2 or not np.all(np.isfinite(g) & (g > 0)):
        raise ValueError(f"grad_norms must hold at least 2 finite positive values (e.g. trajectory.grad_norm), "
                         f"got {shown(grad_norms)}")
    smoothing = check_nonneg("smoothing", smoothing)
    if smoothing > 1.0:
        raise ValueError(f"smoothing must be in [0, 1] (a fraction of the run's length), got {smoothing!r}")
    power = check_real("power", power)
    if smoothing:
        g = _median_smooth(g, smoothing)
    w = g ** -power
    tail = np.cumsum(w[::-1])[::-1]
    sched = np.zeros_like(w)
    sched[:-1] = w[:-1] * tail[1:] / tail[0]
    sched /= sched.max()
    T = sched.size
    return Schedule("refined", lambda s: np.where(s < T, sched[np.clip(s, 0, T - 1).astype(np.int64)], 0.0),
                    dict(length=T, smoothing=smoothing, power=power), "Defazio et al., arXiv:2310.07831, 2023")


def _median_smooth(g, tau):
    from numpy.lib.stride_tricks import sliding_window_view
    width = 2 * (int(tau * g.size) // 2) + 1
    pad = 2 * width
    padded = np.pad(g, (0, pad), mode="reflect")
    half = width // 2
    edged = np.pad(padded, (half, half), mode="edge")      # scipy's mode='nearest'
    return np.median(sliding_window_view(edged, width), axis=1)[:-pad]


def scale_lr_for_batch(lr: float, batch_size: float, base_batch_size: float, rule: str = "linear") -> float:
    r"""Learning rate for another batch size: ``'linear'`` :math:`\eta B/B_0` (SGD), ``'sqrt'`` :math:`\eta\sqrt{B/B_0}` (Adam).

    Valid below the batch size where gradient noise stops dominating.  References:
    P. Goyal et al., 'Accurate, Large Minibatch SGD', arXiv:1706.02677, 2017 (linear);
    D. Granziol, S. Zohren, S. Roberts, 'Learning Rates as a Function of Batch Size',
    JMLR 23, 2022 (linear for SGD, square root for adaptive methods).
    """
    if not isinstance(rule, str) or rule not in ("linear", "sqrt"):
        raise ValueError(f"rule must be 'linear' or 'sqrt', got {shown(rule)}")
    ratio = check_positive("batch_size", batch_size) / check_positive("base_batch_size", base_batch_size)
    if not (ratio > 0 and math.isfinite(ratio)):
        raise ValueError(f"batch_size / base_batch_size must be a finite ratio > 0, got {batch_size!r} / "
                         f"{base_batch_size!r}")
    return check_real("lr", lr) * (ratio if rule == "linear" else math.sqrt(ratio))
