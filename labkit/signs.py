r"""Sign updates: the :math:`\ell_\infty` geometry of signSGD, Signum, Lion and Adam, measured.

signSGD moves every coordinate by exactly :math:`\pm\eta` (or not at all), so at a constant
step its iterates live on the lattice :math:`x_0 + \eta\mathbb Z^d` and end up cycling within
about :math:`\eta` of the minimiser; Adam on a constant gradient takes the step
:math:`\eta\,g/(|g|+\epsilon)`, a smoothed sign; sign methods are not rotation invariant; and
Lion with decoupled weight decay :math:`\lambda` solves the box-constrained problem
:math:`\min f(x)` s.t. :math:`\|x\|_\infty \le 1/\lambda`.  Everything here is a client of
:func:`labkit.run` (trajectories) plus closed forms, except :func:`sign_state`, a NumPy twin of
the rules that exposes their internal state for the inspector and reproduces ``lk.run`` bit
for bit (``tests/test_signs.py``).

References: J. Bernstein, Y.-X. Wang, K. Azizzadenesheli, A. Anandkumar, "signSGD: Compressed
Optimisation for Non-Convex Problems", ICML 2018; L. Balles, P. Hennig, "Dissecting Adam: The
Sign, Magnitude and Variance of Stochastic Gradients", ICML 2018; X. Chen et al., "Symbolic
Discovery of Optimization Algorithms", NeurIPS 2023; L. Chen, B. Liu, K. Liang, Q. Liu, "Lion
Secretly Solves Constrained Optimization: As Lyapunov Predicts", ICLR 2024 (arXiv:2310.05898).
"""
from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import numpy as np

from . import optim as _optim
from . import schedules as _schedules
from ._errors import (MAX_ITERATIONS, DivergenceWarning, check_array, check_int, check_memory, check_positive,
                      check_problem)

__all__ = [
    "AdamSignGap",
    "BoxKKT",
    "DecayComparison",
    "Lattice",
    "LionBox",
    "INVERSE_SQRT",
    "Oscillation",
    "RotationSlowdown",
    "RotationSurvey",
    "SignState",
    "adam_sign_gap",
    "adam_sign_step",
    "box_kkt_residual",
    "box_minimiser",
    "decay_comparison",
    "float_box",
    "lattice_check",
    "lion_box",
    "oscillation_amplitude",
    "rotation_slowdown",
    "rotation_survey",
    "sign_sgd_cycle",
    "sign_state",
    "steps_to_tol",
]

_REF_SIGN = "Bernstein et al., 'signSGD: Compressed Optimisation for Non-Convex Problems', ICML 2018"
_REF_LION = "X. Chen et al., 'Symbolic Discovery of Optimization Algorithms', NeurIPS 2023"
_REF_LION_K = "L. Chen, B. Liu, K. Liang, Q. Liu, 'Lion Secretly Solves Constrained Optimization', ICLR 2024"

#: Rules whose update direction lies in [-1, 1]^d (times lr): the box argument applies to them.
_BOXED = ("sign_sgd", "signum", "lion", "lion_k")


# ----------------------------------------------------------------------------- result types

class Lattice(NamedTuple):
    """How far a trajectory is from moving on the lattice :math:`x_0 + \\eta\\mathbb Z^d` (errors in units of lr)."""

    step_error: float        # max over steps and coordinates of dist(|x_{t+1,i} - x_{t,i}|, {0, lr}) / lr
    offset_error: float      # max over iterates and coordinates of dist((x_{t,i} - x_{0,i}) / lr, Z)
    on_lattice: bool         # both errors <= tol
    zero_moves: int          # (step, coordinate) pairs that did not move (sign 0)


class Oscillation(NamedTuple):
    """Late-time oscillation around ``x_star``, in units of lr, over the last ``tail`` iterates."""

    amplitude: float         # max_t ||x_t - x*||_inf / lr over the tail
    per_coordinate: np.ndarray   # max_t |x_{t,i} - x*_i| / lr
    peak_to_peak: np.ndarray     # (max_t x_{t,i} - min_t x_{t,i}) / lr
    lr: float
    tail: int                # number of iterates used


class AdamSignGap(NamedTuple):
    """Adam's step against signSGD's step at the same points: :math:`\\|\\Delta x^{Adam}_t + \\eta\\,\\mathrm{sign}(g_t)\\|_\\infty/\\eta`."""

    gap: np.ndarray          # per step
    max: float
    mean: float


class RotationSlowdown(NamedTuple):
    """Steps to tolerance on the axis-aligned and the rotated quadratic (same spectrum, rotated start)."""

    steps_axis: float        # math.inf when the tolerance is not reached for good within the run
    steps_rotated: float
    ratio: float             # steps_rotated / steps_axis
    axis: object = None      # the two Trajectories
    rotated: object = None


class RotationSurvey(NamedTuple):
    """:func:`rotation_slowdown` from several start points: per-start steps and their medians."""

    starts: np.ndarray          # (n, 2), the axis-aligned starts (the rotated runs start at Q x0)
    steps_axis: np.ndarray      # (n,), math.inf where the tolerance is not reached for good
    steps_rotated: np.ndarray
    median_axis: float
    median_rotated: float
    ratio: float                # median_rotated / median_axis
    diagonal_steps: float       # first step s with sqrt(2) lr m(s) <= tol: one diagonal sign step
    coordinate_steps: float     # first step s with lr m(s) <= tol: one coordinate's sign step


class LionBox(NamedTuple):
    """Lion's box :math:`\\|x\\|_\\infty \\le 1/\\lambda`: entry and invariance along a trajectory."""

    bound: float             # 1 / weight_decay
    lr: float
    entry_step: int | None   # first t with ||x_t||_inf <= bound + allowance (the box, up to rounding); None if never
    max_after_entry: float   # max_{t >= entry} ||x_t||_inf (nan if never entered)
    excess: float            # max_after_entry - bound (<= allowance once inside)
    holds: bool              # entered, and excess <= allowance
    allowance: float         # float_box(weight_decay, lr) - bound: what rounding adds to the box (a few ulps)


class BoxKKT(NamedTuple):
    """KKT residuals of :math:`\\min f(x)` s.t. :math:`\\|x\\|_\\infty \\le B` at a point."""

    residual: float          # max of stationarity and primal violation
    natural: float           # ||x - P_box(x - grad f(x))||_inf, the projected-gradient residual
    stationarity: np.ndarray     # per coordinate: |g_i| inside, max(0, sign(x_i) g_i) at an active bound
    primal: np.ndarray       # per coordinate: max(0, |x_i| - B)
    active: np.ndarray       # |x_i| >= B - atol


class DecayComparison(NamedTuple):
    """Final distance to the minimiser at a constant step and with the step decayed."""

    constant: float
    decayed: float
    ratio: float             # constant / decayed
    final_lr: float          # lr times the schedule's last multiplier


class SignState(NamedTuple):
    """Per step and per coordinate internals of a sign rule (arrays of shape ``(steps, d)``; row k is step t = k + 1).

    ``g`` the gradient at ``x_{t-1}``; ``m`` the momentum after the step (zeros for signSGD);
    ``v`` Adam's second moment (zeros otherwise); ``c`` the quantity whose sign (or
    :math:`\\nabla K`) is taken: ``g`` for signSGD, ``m`` for Signum, Lion's interpolation
    :math:`\\beta_1 m_{t-1} + (1-\\beta_1) g_t`, Adam's :math:`\\hat m/(\\sqrt{\\hat v}+\\epsilon)`;
    ``u`` the direction applied (``sign(c)``, or :math:`\\nabla K(c)` for Lion-K, ``c`` for Adam);
    ``flips`` the cumulative count of sign reversals of ``c`` (a change between +1 and -1);
    ``agree`` whether ``sign(g_t) == sign(m_{t-1})`` (the momentum the gradient meets);
    ``update`` :math:`x_t - x_{t-1}` (weight decay included); ``xs`` the iterates, shape ``(steps + 1, d)``.
    """

    xs: np.ndarray
    g: np.ndarray
    m: np.ndarray
    v: np.ndarray
    c: np.ndarray
    u: np.ndarray
    flips: np.ndarray
    agree: np.ndarray
    update: np.ndarray
    lr: np.ndarray           # the step size of each step (lr times the schedule)

    def to_frame(self):
        """A tidy pandas frame: one row per (step, coordinate)."""
        import pandas as pd
        steps, d = self.g.shape
        cols = {"step": np.repeat(np.arange(1, steps + 1), d), "coord": np.tile(np.arange(d), steps)}
        for name in ("g", "m", "v", "c", "u", "flips", "agree", "update"):
            cols[name] = getattr(self, name).reshape(-1)
        cols["x_before"] = self.xs[:-1].reshape(-1)
        cols["x_after"] = self.xs[1:].reshape(-1)
        return pd.DataFrame(cols)


# ----------------------------------------------------------------------------- validation

def _trajectory(traj, argname="traj", min_len=2):
    xs = getattr(traj, "xs", None)
    if xs is None or getattr(traj, "rule", None) is None:
        raise ValueError(f"{argname} must be a labkit Trajectory (from lk.run), got {type(traj).__name__}")
    if len(xs) < min_len:
        raise ValueError(f"{argname} has {len(xs)} iterate(s); need at least {min_len}")
    return np.asarray(xs, dtype=np.float64)


def _tail_count(tail, n):
    """``tail`` as a number of iterates: a float in (0, 1] is a fraction of the ``n`` iterates, an int a count."""
    if isinstance(tail, bool):
        raise ValueError(f"tail must be a fraction in (0, 1] or a count >= 1, got {tail!r}")
    if isinstance(tail, (int, np.integer)):
        if not 1 <= tail <= n:
            raise ValueError(f"tail must be a count in [1, {n}] (the trajectory has {n} iterates), got {tail!r}")
        return int(tail)
    try:
        frac = float(tail)
    except (TypeError, ValueError):
        raise ValueError(f"tail must be a fraction in (0, 1] or a count >= 1, got {tail!r}") from None
    if not 0 < frac <= 1:
        raise ValueError(f"tail must be a fraction in (0, 1] or a count >= 1, got {tail!r}")
    return max(1, int(round(frac * n)))


def _x_star(traj, x_star, d):
    if x_star is None:
        x_star = getattr(traj.problem, "x_star", None)
        if x_star is None:
            raise ValueError(f"x_star must be given: {traj.problem.name} records no minimiser")
    x = np.asarray(x_star, dtype=np.float64).reshape(-1)
    if x.shape != (d,) or not np.all(np.isfinite(x)):
        raise ValueError(f"x_star must be {d} finite numbers, got {x_star!r}")
    return x


# ----------------------------------------------------------------------------- the lattice

def lattice_check(traj, lr: float | None = None, *, tol: float = 1e-9) -> Lattice:
    r"""Check that every step moved each coordinate by exactly :math:`\pm\eta` or 0, so :math:`x_t \in x_0 + \eta\mathbb Z^d`.

    signSGD (and Signum, and Lion without weight decay) at a constant step
    :math:`x_t = x_{t-1} - \eta\,\mathrm{sign}(\cdot)` lives on that lattice.  In floating
    point each step rounds :math:`x - \eta u` once, so the offsets drift by at most
    :math:`t\cdot\mathrm{ulp}(x)/2`; with a dyadic :math:`\eta` and start (e.g.
    :math:`\eta = 2^{-6}`, :math:`x_0 = (1.5, -1)`) both errors are exactly 0.  ``lr`` defaults
    to the trajectory's base lr; a run with a schedule or weight decay is (correctly) reported
    off the lattice.  ``tol`` is in units of lr.

    Reference: Bernstein et al., ICML 2018.
    """
    xs = _trajectory(traj)
    lr = check_positive("lr", traj.rule.lr if lr is None else lr)
    tol = float(tol)
    if not (math.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol must be a finite number >= 0, got {tol!r}")
    moves = np.abs(np.diff(xs, axis=0)) / lr
    step_err = np.minimum(moves, np.abs(moves - 1.0))
    k = (xs - xs[0]) / lr
    offset_err = np.abs(k - np.round(k))
    se, oe = float(step_err.max()), float(offset_err.max())
    return Lattice(se, oe, bool(se <= tol and oe <= tol), int(np.sum(moves == 0.0)))


def sign_sgd_cycle(x0, x_star, lr: float) -> np.ndarray:
    r"""The limit cycle of signSGD on an axis-aligned quadratic: per-coordinate radius :math:`\max_t |x_{t,i} - x^*_i|/\eta`.

    On :math:`f = \tfrac12\sum_i \lambda_i (x_i - x^*_i)^2` the coordinates decouple and
    :math:`\mathrm{sign}(g_i) = \mathrm{sign}(x_i - x^*_i)`: coordinate :math:`i` walks on
    :math:`x_{0,i} + \eta\mathbb Z` towards :math:`x^*_i`, one lattice point per step, and ends
    in the cell around :math:`x^*_i`.  With the lattice offset
    :math:`\varphi_i = \mathrm{frac}\big((x^*_i - x_{0,i})/\eta\big) \in [0, 1)` (the distance, in
    units of :math:`\eta`, from the lattice point below :math:`x^*_i`):

    * :math:`\varphi_i = 0`: the walk lands on :math:`x^*_i`, :math:`g_i = 0`, :math:`\mathrm{sign}(0) = 0`
      and the coordinate stops: radius 0;
    * otherwise it alternates between the two lattice points around :math:`x^*_i` (a 2-cycle,
      peak-to-peak exactly :math:`\eta`) at distances :math:`\varphi_i\eta` and :math:`(1-\varphi_i)\eta`:
      radius :math:`\max(\varphi_i, 1 - \varphi_i) \in [1/2, 1)`.

    So the :math:`\ell_\infty` amplitude over lr lies in :math:`\{0\} \cup [1/2, 1)`: exactly
    :math:`\max_i` of these radii, not merely "about 1".  The extreme 1/2 is :math:`x^*` at a cell
    centre, values near 1 a minimiser next to a lattice point.  (On a *rotated* quadratic the
    coordinates couple and the cycle can be far larger; see :func:`oscillation_amplitude`.)
    Rounding: :math:`\varphi_i` is computed in floating point, so a minimiser on the lattice is
    recognised only when the arithmetic is exact (dyadic lr and offsets); otherwise the rounded
    walk misses it by an ulp and that coordinate cycles at radius :math:`1 - O(\mathrm{ulp}/\eta)`.
    In floating point the band is therefore :math:`\{0\} \cup [1/2, 1]`.  This function walks the
    lattice with the kernel's arithmetic and returns the floating-point radii.

    Reference: Bernstein et al., ICML 2018 (the :math:`\ell_\infty` steepest-descent view).
    """
    lr = check_positive("lr", lr)
    x0 = np.asarray(x0, dtype=np.float64).reshape(-1)
    xs = np.asarray(x_star, dtype=np.float64).reshape(-1)
    if x0.shape != xs.shape or not (np.all(np.isfinite(x0)) and np.all(np.isfinite(xs))):
        raise ValueError(f"x0 and x_star must be finite and of the same length, got {x0.shape} and {xs.shape}")
    n = int(np.ceil(np.max(np.abs(xs - x0)) / lr)) + 2
    if n > 10_000_000:
        raise ValueError(f"x_star is {n} steps of lr from x0; sign_sgd_cycle walks them: use a larger lr")
    # Walk the lattice with the kernel's arithmetic (x - lr * sign(x - x*)), so the answer is the
    # floating-point one: a minimiser on the lattice in exact arithmetic may be missed by an ulp.
    x = x0.copy()
    for _ in range(n):
        x = x - lr * np.sign(x - xs)
    x1 = x - lr * np.sign(x - xs)
    return np.maximum(np.abs(x - xs), np.abs(x1 - xs)) / lr


def oscillation_amplitude(traj, x_star=None, *, tail=0.5, lr: float | None = None) -> Oscillation:
    r"""The :math:`\ell_\infty` amplitude of the late-time oscillation around ``x_star``, over lr.

    .. math:: A = \max_{t \in \mathrm{tail}} \|x_t - x^*\|_\infty / \eta

    ``tail`` is a fraction in (0, 1] of the iterates (the last half by default) or a count;
    it must lie past the transient.  ``x_star`` defaults to the problem's minimiser, ``lr`` to
    the trajectory's.  For signSGD at a constant step on an axis-aligned quadratic,
    :math:`A \in \{0\} \cup [1/2, 1)` and equals :func:`sign_sgd_cycle` exactly (per
    coordinate, with the peak-to-peak exactly 1).  On a rotated ill-conditioned quadratic the
    sign of each gradient coordinate depends on both errors and the cycle stretches along the
    valley, up to about :math:`\kappa\eta` (measured, not bounded here); momentum (Signum,
    Lion) also widens it.

    Reference: Bernstein et al., ICML 2018.
    """
    xs = _trajectory(traj, min_len=1)
    lr = check_positive("lr", traj.rule.lr if lr is None else lr)
    xstar = _x_star(traj, x_star, xs.shape[1])
    n = _tail_count(tail, len(xs))
    late = xs[-n:]
    per = np.max(np.abs(late - xstar), axis=0) / lr
    p2p = (late.max(axis=0) - late.min(axis=0)) / lr
    return Oscillation(float(per.max()), per, p2p, lr, n)


# ----------------------------------------------------------------------------- Adam as sign descent

def adam_sign_step(g, lr: float = 1e-3, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8, t=1, *,
                   bias_correction: bool = True):
    r"""Adam's displacement :math:`x_t - x_{t-1}` at step ``t`` when every gradient so far was the same ``g``.

    With :math:`m_0 = v_0 = 0` and a constant gradient, :math:`m_t = (1-\beta_1^t)\,g` and
    :math:`v_t = (1-\beta_2^t)\,g^2`, so torch's step (``eps`` added to the bias-corrected
    :math:`\sqrt{\hat v}`) is, for every :math:`t`,

    .. math:: x_t - x_{t-1} = -\frac{\eta}{1-\beta_1^t}\,\frac{(1-\beta_1^t) g}{\sqrt{(1-\beta_2^t) g^2}/\sqrt{1-\beta_2^t} + \epsilon}
              = -\eta\,\frac{g}{|g| + \epsilon}

    exactly: :math:`\beta_1, \beta_2, t` cancel, and it is :math:`-\eta\,\mathrm{sign}(g)` up to a
    relative :math:`\epsilon/(|g|+\epsilon)`.  Without bias correction
    (``bias_correction=False``: :math:`m_t/(\sqrt{v_t}+\epsilon)`) the step is
    :math:`-\eta(1-\beta_1^t) g / (\sqrt{1-\beta_2^t}|g| + \epsilon)`, which at :math:`t = 1`
    is :math:`\eta(1-\beta_1)/\sqrt{1-\beta_2}` long (0.1/0.0316 = 3.16 lr with the defaults).
    ``g`` may be an array; ``t`` an integer >= 1 (or an array of them).

    References: D. P. Kingma, J. Ba, ICLR 2015 (Algorithm 1); Balles & Hennig, ICML 2018.
    """
    lr = check_positive("lr", lr)
    b1, b2 = _optim._beta("b1", b1), _optim._beta("b2", b2)
    eps = _optim._num("eps", eps, 0.0)
    g = np.asarray(g, dtype=np.float64)
    t_arr = np.asarray(t)
    if t_arr.dtype.kind not in "iu" or np.any(t_arr < 1):
        raise ValueError(f"t must be an integer >= 1 (or integers), got {t!r}")
    if bias_correction:
        return np.broadcast_to(-lr * g / (np.abs(g) + eps), np.broadcast_shapes(g.shape, t_arr.shape)).copy()
    t_arr = t_arr.astype(np.float64)
    return -lr * (1.0 - b1 ** t_arr) * g / (np.sqrt(1.0 - b2 ** t_arr) * np.abs(g) + eps)


def adam_sign_gap(traj, schedule=None) -> AdamSignGap:
    r"""How far an Adam trajectory's steps are from signSGD's steps taken at the same points.

    .. math:: \mathrm{gap}_t = \big\|(x_t - x_{t-1}) + \eta_t\,\mathrm{sign}(\nabla f(x_{t-1}))\big\|_\infty / \eta_t

    (0 for a step that is exactly signSGD's, 2 for the opposite step).  With ``b1=0`` and
    ``b2=0`` Adam's step is :math:`-\eta\,g/(|g|+\epsilon)`, so the gap is
    :math:`\max_i \epsilon/(|g_i|+\epsilon)` and vanishes as :math:`\epsilon \to 0`; a larger
    ``b2`` averages old gradient magnitudes into :math:`\hat v` and a larger ``b1`` averages old
    gradients into :math:`\hat m`, and the gap grows.  ``traj`` is an ``lk.run`` trajectory of
    ``adam`` on a noise-free problem; pass the run's ``schedule`` if it had one.

    Reference: Balles & Hennig, "Dissecting Adam", ICML 2018.
    """
    from .run import schedule_multipliers
    xs = _trajectory(traj)
    if traj.rule.name not in ("adam", "adamw"):
        raise ValueError(f"traj must be a run of adam or adamw, got {traj.rule.name}")
    if traj.problem.noise:
        raise ValueError("adam_sign_gap needs a noise-free problem (the gradients are recomputed at the iterates)")
    lrs = traj.rule.lr * schedule_multipliers(schedule, traj.steps)[: len(xs) - 1]
    g = np.asarray(traj.problem.grad(xs[:-1]), dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = np.max(np.abs(np.diff(xs, axis=0) + lrs[:, None] * np.sign(g)), axis=1) / lrs
    return AdamSignGap(gap, float(np.max(gap)), float(np.mean(gap)))


# ----------------------------------------------------------------------------- rotation

def steps_to_tol(traj, tol: float, x_star=None, *, min_stay: int = 10) -> float:
    r"""The first step after which :math:`\|x_t - x^*\|_2 \le` ``tol`` for the rest of the run (``math.inf`` if the last iterate is above).

    "For good", not the first hit: an oscillating sign method can pass close to
    :math:`x^*` long before it stays there.  The Euclidean norm keeps the measure rotation
    invariant.  A run that gets there only in its last ``min_stay`` iterates has not shown it
    stays: ``inf``.
    """
    xs = _trajectory(traj, min_len=1)
    tol = check_positive("tol", tol)
    xstar = _x_star(traj, x_star, xs.shape[1])
    dist = np.sqrt(np.sum((xs - xstar) ** 2, axis=1))
    above = np.nonzero(dist > tol)[0]
    if traj.diverged or (above.size and above[-1] >= len(xs) - 1 - int(min_stay)):
        return math.inf
    return float(above[-1] + 1) if above.size else 0.0


#: :math:`m(s) = \min(1, 10/\sqrt{s})`: constant for 100 steps, then :math:`1/\sqrt t` (signSGD's theory schedule).
INVERSE_SQRT = _schedules.power(lr_max=1.0, a=10.0, b=-0.5)


def rotation_slowdown(rule, eigs=(1.0, 100.0), angle: float = math.pi / 4, *, steps: int = 50000, tol: float = 1e-3,
                      x0=None, schedule=INVERSE_SQRT, **hyperparameters) -> RotationSlowdown:
    r"""Steps to tolerance of ``rule`` on the axis-aligned and on the rotated quadratic with the same spectrum.

    The two problems are :math:`f_0(y) = \tfrac12 y^\top \Lambda y` and
    :math:`f_\theta(x) = \tfrac12 x^\top Q\Lambda Q^\top x = f_0(Q^\top x)`, :math:`Q` the rotation by
    ``angle``; the rotated run starts at :math:`Q x_0`.  A rotation-equivariant rule (GD, heavy
    ball, Nesterov) then makes the *same* trajectory up to the rotation: ratio 1 (up to
    rounding).  Sign methods and Adam act per coordinate, so their ratio measures how much
    they depend on the basis.  ``steps_*`` is :func:`steps_to_tol` (inf when not reached).

    Tolerance for sign methods: at a constant step they do not converge (axis-aligned they
    cycle within :math:`\eta` per coordinate, rotated within up to about :math:`0.4\kappa\eta`
    measured), so a constant step gives ``inf`` for any ``tol`` below the rotated cycle.  The
    default decays the step like :math:`1/\sqrt t` (:data:`INVERSE_SQRT`, the schedule of
    signSGD's theory); pass ``schedule=None`` for a constant step, or any ``lk.schedules``
    schedule.  The ratio depends on the schedule: under :math:`1/\sqrt t` the distance follows
    the cycle size (axis :math:`\sim\eta_t`, rotated up to :math:`\sim\kappa\eta_t`), while a
    geometric decay turns the factor :math:`\kappa` into an additive :math:`\log\kappa/\log(1/\gamma)`
    steps, so its ratio tends to 1 as ``tol`` shrinks.  ``x0`` defaults
    to the axis-aligned problem's start (1.5, -1).

    Reference: Balles & Hennig, ICML 2018 (sign descent and the axis alignment of the Hessian).
    """
    from .problems import quadratic
    from .run import run
    eigs = tuple(float(e) for e in np.asarray(eigs, dtype=np.float64).reshape(-1))
    if len(eigs) != 2 or min(eigs) <= 0 or not all(map(math.isfinite, eigs)):
        raise ValueError(f"eigs must be two positive finite eigenvalues (a 2-D convex quadratic), got {eigs!r}")
    angle = float(angle)
    if not math.isfinite(angle):
        raise ValueError(f"angle must be finite, got {angle!r}")
    tol = check_positive("tol", tol)
    axis = quadratic(eigs=eigs, angle=0.0)
    rot = quadratic(eigs=eigs, angle=angle)
    y0 = axis.x0 if x0 is None else np.asarray(x0, dtype=np.float64).reshape(-1)
    if y0.shape != (2,):
        raise ValueError(f"x0 must have shape (2,), got {np.shape(x0)}")
    cs, sn = math.cos(angle), math.sin(angle)
    Q = np.array([[cs, -sn], [sn, cs]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        ta = run(axis, rule, steps, y0, schedule=schedule, **hyperparameters)
        tr = run(rot, rule, steps, Q @ y0, schedule=schedule, **hyperparameters)
    sa, sr = steps_to_tol(ta, tol), steps_to_tol(tr, tol)
    if sa == 0:
        ratio = 1.0 if sr == 0 else math.inf
    else:
        ratio = sr / sa
    return RotationSlowdown(sa, sr, ratio, ta, tr)


def rotation_survey(rule, eigs=(1.0, 100.0), angle: float = math.pi / 4, *, n_starts: int = 25, steps: int = 50000,
                    tol: float = 1e-3, x0=None, schedule=INVERSE_SQRT, **hyperparameters) -> RotationSurvey:
    r""":func:`rotation_slowdown` from ``n_starts`` starts on the circle through ``x0``; the ratio of the medians.

    Why several starts: steps-to-tolerance of a sign method from *one* start is not a stable
    number.  On the axis-aligned quadratic each coordinate ends in a 2-cycle
    :math:`\{x_t, x_t - \eta_t\}` whose offset drifts to 0 under a decaying step, and the
    coordinate freezes once :math:`x_t - \eta_t` rounds to exactly 0 (``sign(0) = 0``); on the
    rotated one the iterate comes back near :math:`x^*` and leaves again by chaotic
    excursions.  When either happens moves with the last bits of :math:`\eta_t` (NumPy's
    ``power`` rounds differently with and without AVX-512): from (1.5, -1) signSGD needs 7,240
    axis-aligned steps on a Zen 4 and 4,648 on a Zen 3.  The median over starts averages that out.

    Both medians have closed forms when ``tol`` is such that they sit on their plateaus
    (``tol=1.5e-3`` with ``lr=0.01``: checked from 25 and 64 starts, on three CPU builds and
    under random one-ulp changes of every :math:`\eta_t`).  Rotated, the late excursions are
    single diagonal sign steps of length :math:`\sqrt2\,\eta_t` from (nearly) :math:`x^*`, so
    the run stays within ``tol`` from the first step :math:`s` with
    :math:`\sqrt 2\,\eta\, m(s) \le` ``tol`` (``diagonal_steps``, :math:`2(10\eta/\mathrm{tol})^2`
    under :data:`INVERSE_SQRT`).  Axis-aligned, the typical late iterate has one coordinate at
    :math:`x^*_i` and the other one coordinate step :math:`\eta_t` away (each coordinate's
    2-cycle drifts to :math:`\{x^*_i, x^*_i \pm \eta_t\}`, out of phase): it settles once
    :math:`\eta\, m(s) \le` ``tol`` (``coordinate_steps``).  The ratio is then
    :math:`(\sqrt 2)^2 = 2`.  At smaller ``tol`` more axis-aligned coordinates have frozen at
    :math:`x^*` first, the axis median falls off its plateau, and the ratio grows but moves
    with the CPU (3.27 from 25 starts at ``tol=1e-3``, 2.8 to 3.3 under one-ulp changes).

    Starts: radius :math:`\|x_0\|`, angles of ``x0`` plus :math:`k` golden angles,
    :math:`k = 1..n`: no two starts are mirror images (the axis problem's symmetry), and none
    is ``x0`` itself, whose coordinates are multiples of the step.  ``x0`` defaults to (1.5, -1).
    """
    from .problems import quadratic
    from .run import schedule_multipliers as _multipliers
    n_starts = check_int("n_starts", n_starts, 1)
    y0 = quadratic(eigs=(1.0, 10.0)).x0 if x0 is None else np.asarray(x0, dtype=np.float64).reshape(-1)
    if y0.shape != (2,):
        raise ValueError(f"x0 must have shape (2,), got {np.shape(x0)}")
    radius, phi0 = math.hypot(y0[0], y0[1]), math.atan2(y0[1], y0[0])
    golden = math.pi * (3.0 - math.sqrt(5.0))
    phis = phi0 + golden * np.arange(1, int(n_starts) + 1)
    starts = radius * np.stack([np.cos(phis), np.sin(phis)], axis=1)
    runs = [rotation_slowdown(rule, eigs, angle, steps=steps, tol=tol, x0=s, schedule=schedule, **hyperparameters)
            for s in starts]
    sa = np.array([r.steps_axis for r in runs])
    sr = np.array([r.steps_rotated for r in runs])
    ma, mr = float(np.median(sa)), float(np.median(sr))
    ratio = (1.0 if mr == 0 else math.inf) if ma == 0 else mr / ma
    lr = float(runs[0].axis.rule.lr)
    m = _multipliers(schedule, steps)

    def first(length):
        below = np.nonzero(length * lr * m <= tol)[0]
        return float(below[0]) if below.size else math.inf
    return RotationSurvey(starts, sa, sr, ma, mr, ratio, first(math.sqrt(2.0)), first(1.0))


# ----------------------------------------------------------------------------- Lion's box

def _weight_decay(traj, weight_decay):
    rule = traj.rule
    if rule.name not in _BOXED:
        raise ValueError(f"the box argument needs an update in [-lr, lr]^d (one of {', '.join(_BOXED)}); "
                         f"got {rule.name}")
    if rule.name == "lion_k" and rule.hyperparameters.get("K") not in ("l1", "huber", "tanh"):
        raise ValueError(f"lion_k with K={rule.hyperparameters.get('K')!r} has no box: its update is not in "
                         f"[-1, 1]^d (K='l2' bounds the Euclidean norm instead)")
    wd = rule.hyperparameters.get("weight_decay", 0.0) if weight_decay is None else weight_decay
    return check_positive("weight_decay", wd)


def float_box(weight_decay: float, lr: float) -> float:
    r"""The box :math:`\|x\|_\infty \le B^*` that Lion's *rounded* step keeps invariant and enters: :math:`1/\lambda` plus a stall band of ulps.

    The kernels compute :math:`x' = \mathrm{fl}(\mathrm{fl}(x\,a) - \mathrm{fl}(\eta u))`,
    :math:`a = \mathrm{fl}(1 - \mathrm{fl}(\lambda\eta))`, :math:`|u| \le 1`.  Rounding to nearest
    is monotone and odd, so over :math:`|x| \le y` the largest :math:`|x'|` is
    :math:`M(y) = \mathrm{fl}(\mathrm{fl}(y\,a) + \eta)` (:math:`x = y`, :math:`u = -1`), and every
    box with :math:`M(y) \le y` is invariant.  In exact arithmetic :math:`M(B + e) = B + a e`
    with :math:`B = 1/\lambda`: an excess :math:`e` loses :math:`\eta\lambda e` per step.  In floats
    that loss rounds away once :math:`\eta\lambda e` is below about an ulp of :math:`B`, so every
    :math:`y = B + e` with :math:`e \lesssim \mathrm{ulp}(B)/(\eta\lambda)` can be a fixed point: a
    coordinate pressed outward from outside stalls there and never reaches :math:`B` (measured: 12
    ulps above 0.5 with :math:`\eta = 0.01`, :math:`\lambda = 2`).  ``float_box`` returns the largest
    fixed point :math:`B^* = B + k\,\mathrm{ulp}(B)`, :math:`0 \le k \le 1/(\eta\lambda) + 2`:
    above it :math:`M(y) < y` (the iterates keep descending into it), and :math:`[-B^*, B^*]^d` is
    invariant (:math:`M(B^*) = B^*`).  Exact for a constant step ``lr`` (:math:`\eta`) and
    ``weight_decay`` (:math:`\lambda`), given as the run's floats.
    """
    wd, lr = check_positive("weight_decay", weight_decay), check_positive("lr", lr)
    a = 1.0 - wd * lr                      # the kernels' 1.0 - wd * lr, rounded the same way
    bound = 1.0 / wd
    if a == 1.0 or not math.isfinite(bound):
        # the decay rounds away (or 1/lambda overflows): the rounded step has no box to keep
        raise ValueError(f"weight_decay * lr = {wd * lr:.3g} is below rounding (1 - weight_decay * lr == 1) "
                         f"or 1/weight_decay overflows: the rounded step keeps no box")
    k = np.arange(int(min(1.0 / (wd * lr), 1e6)) + 3, dtype=np.float64)
    y = bound + k * np.spacing(bound)      # the grid B + k ulp(B) (exact: k ulp is a float multiple)
    fixed = y * a + lr >= y                # two roundings, as the kernel's x * a - lr * u with u = -1
    return float(y[np.nonzero(fixed)[0][-1]]) if fixed.any() else bound


def lion_box(traj, weight_decay: float | None = None, lr: float | None = None) -> LionBox:
    r"""Lion's constraint along a trajectory: the iterates enter the box :math:`\|x\|_\infty \le 1/\lambda` and stay.

    With decoupled weight decay, each coordinate obeys
    :math:`x_{t} = (1-\eta_t\lambda)x_{t-1} - \eta_t u`, :math:`|u| \le 1`, so

    .. math:: |x_t| - B \le (1-\eta_t\lambda)\big(|x_{t-1}| - B\big) - \eta_t(\lambda B - 1)

    for any :math:`B`.  With :math:`B \ge 1/\lambda` the box :math:`|x| \le B` is invariant
    (when :math:`\eta_t\lambda \le 1`), and from outside the excess over :math:`1/\lambda`
    shrinks at least by the factor :math:`1 - \eta_t\lambda` per step.  ``entry_step`` is the
    first :math:`t` with :math:`\|x_t\|_\infty \le 1/\lambda` up to rounding, i.e. inside
    :func:`float_box`'s :math:`B^*`; after it the box holds up to the same rounding:
    ``allowance`` is :math:`B^* - 1/\lambda` (a few ulps, at most about
    :math:`\mathrm{ulp}(1/\lambda)/(\eta\lambda)`, derived from the kernel's operations, not
    guessed: a coordinate pressed outward from outside stalls that far above the box), and
    ``holds`` checks ``excess <= allowance``.  Applies to Lion,
    Lion-K with K = l1, huber or tanh, and signSGD/Signum with decoupled weight decay.
    ``weight_decay`` and ``lr`` (the base step) default to the run's; the allowance is exact
    for a constant step (under a schedule each :math:`\eta_t` has its own, of the same size).

    References: Chen et al., NeurIPS 2023; Chen, Liu, Liang, Liu, ICLR 2024.
    """
    xs = _trajectory(traj, min_len=1)
    wd = _weight_decay(traj, weight_decay)
    lr = check_positive("lr", traj.rule.lr if lr is None else lr)
    bound = 1.0 / wd
    allowance = float_box(wd, lr) - bound
    norms = np.max(np.abs(xs), axis=1)
    inside = np.nonzero(norms <= bound + allowance)[0]
    if inside.size == 0:
        return LionBox(bound, lr, None, math.nan, math.nan, False, allowance)
    k = int(inside[0])
    mx = float(norms[k:].max())
    return LionBox(bound, lr, k, mx, mx - bound, bool(mx - bound <= allowance), allowance)


def box_kkt_residual(problem, x, bound: float, *, atol: float = 1e-8) -> BoxKKT:
    r"""KKT residual of :math:`\min_x f(x)` s.t. :math:`\|x\|_\infty \le B` at ``x``.

    KKT for the box: at an interior coordinate :math:`g_i = 0`; at an active one
    (:math:`|x_i| = B`) the gradient points outward, :math:`\mathrm{sign}(x_i)\,g_i \le 0`
    (the descent direction :math:`-g_i` leaves the box, so the constraint holds it back);
    and :math:`|x_i| \le B`.  Per coordinate, ``stationarity`` is :math:`|g_i|` inside and
    :math:`\max(0, \mathrm{sign}(x_i) g_i)` where :math:`|x_i| \ge B - ` ``atol``, ``primal`` is
    :math:`\max(0, |x_i| - B)`; ``residual`` is the largest of all.  ``natural`` is the
    classification-free :math:`\|x - \Pi_{[-B,B]^d}(x - \nabla f(x))\|_\infty`, 0 exactly at
    KKT points (use it when the activity of a coordinate is in doubt, e.g. an iterate
    :math:`O(\eta)` inside the bound).

    Reference: Chen, Liu, Liang, Liu, ICLR 2024 (Lion solves this problem with B = 1/lambda).
    """
    B = check_positive("bound", bound)
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    if x.shape != (problem.dim,) or not np.all(np.isfinite(x)):
        raise ValueError(f"x must be {problem.dim} finite numbers for {problem.name}, got {x.shape}")
    g = np.asarray(problem.grad(x), dtype=np.float64).reshape(-1)
    active = np.abs(x) >= B - float(atol)
    stat = np.where(active, np.maximum(0.0, np.sign(x) * g), np.abs(g))
    primal = np.maximum(0.0, np.abs(x) - B)
    natural = float(np.max(np.abs(x - np.clip(x - g, -B, B))))
    return BoxKKT(float(max(stat.max(), primal.max())), natural, stat, primal, active)


def box_minimiser(problem, bound: float, x0=None, *, tol: float = 1e-12, max_iter: int = 500) -> np.ndarray:
    r"""The minimiser of ``problem`` on the box :math:`\|x\|_\infty \le B`, by projected Newton.

    Two-metric projection (Bertsekas 1982): coordinates at a bound whose gradient points
    outward are held there; on the free ones a Newton step (a gradient step if the reduced
    Hessian is not positive definite), projected back onto the box, with Armijo
    backtracking along the projection arc.  Stops when the natural residual
    :math:`\|x - \Pi(x - \nabla f)\|_\infty` is below ``tol``.  Needs ``problem.hess``.  A local
    method: it finds the box minimiser of the basin it starts in (``x0`` defaults to the
    projection of ``problem.x_star`` or of ``problem.x0``).  On Rosenbrock with :math:`B < 1` the
    answer is :math:`(B, B^2)`.

    Reference: D. P. Bertsekas, 'Projected Newton methods for optimization problems with
    simple constraints', SIAM J. Control Optim. 20(2), 1982.
    """
    problem = check_problem("problem", problem)
    B, tol = check_positive("bound", bound), check_positive("tol", tol)
    max_iter = check_int("max_iter", max_iter, 1, MAX_ITERATIONS)
    if problem.hess is None:
        raise ValueError(f"box_minimiser needs the problem's Hessian; {problem.name} has none")
    start = x0 if x0 is not None else (problem.x_star if problem.x_star is not None else problem.x0)
    x = np.clip(check_array("x0", start, what="a start point").reshape(-1), -B, B)
    if x.shape != (problem.dim,):
        raise ValueError(f"x0 must have shape ({problem.dim},), got {x.shape}")
    for _ in range(int(max_iter)):
        g = np.asarray(problem.grad(x), dtype=np.float64)
        if np.max(np.abs(x - np.clip(x - g, -B, B))) <= tol:
            return x
        held = ((x >= B) & (g < 0)) | ((x <= -B) & (g > 0))
        free = ~held
        d = -g.copy()
        if np.any(free):
            H = np.asarray(problem.hess(x), dtype=np.float64)[np.ix_(free, free)]
            try:
                np.linalg.cholesky(H)
                d[free] = -np.linalg.solve(H, g[free])
            except np.linalg.LinAlgError:
                pass
        d[held] = 0.0
        if not np.any(d):
            d = -g
        fx, step = float(problem.f(x)), 1.0
        while step > 1e-20:
            xn = np.clip(x + step * d, -B, B)
            if float(problem.f(xn)) <= fx + 1e-4 * float(g @ (xn - x)):
                break
            step *= 0.5
        if np.array_equal(xn, x):
            return x
        x = xn
    raise ValueError(f"box_minimiser did not reach tol={tol:g} in {max_iter} iterations (start closer, or raise tol)")


# ----------------------------------------------------------------------------- decay

def decay_comparison(problem, rule, steps: int, *, schedule=None, x0=None, **hyperparameters) -> DecayComparison:
    r"""Final distance :math:`\|x_T - x^*\|_2` at a constant step and with the step decayed by ``schedule``.

    A sign method at a constant step ends in a cycle of radius about :math:`\eta` (see
    :func:`sign_sgd_cycle`); decaying the step shrinks the cycle with it, down to about the
    last step size :math:`\eta\,m(T-1)` once the iterate has caught up.  ``schedule``
    defaults to ``lk.schedules.cosine(steps)`` (to 0 at the end); any ``lk.schedules``
    schedule or multiplier function works.  ``problem`` must record ``x_star``.

    References: Bernstein et al., ICML 2018; Loshchilov & Hutter, ICLR 2017 (cosine).
    """
    from .run import run, schedule_multipliers
    from .schedules import cosine
    if problem.x_star is None:
        raise ValueError(f"{problem.name} records no minimiser (x_star is None)")
    sched = cosine(steps) if schedule is None else schedule
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        tc = run(problem, rule, steps, x0, **hyperparameters)
        td = run(problem, rule, steps, x0, schedule=sched, **hyperparameters)
    dc = float(np.linalg.norm(tc.xs[-1] - problem.x_star)) if not tc.diverged else math.inf
    dd = float(np.linalg.norm(td.xs[-1] - problem.x_star)) if not td.diverged else math.inf
    last = float(schedule_multipliers(sched, steps)[-1]) if steps else 1.0
    return DecayComparison(dc, dd, dc / dd if dd > 0 else math.inf, td.rule.lr * last)


# ----------------------------------------------------------------------------- the NumPy twin

_SPLIT = 134217729.0   # 2**27 + 1, Veltkamp's splitter for float64


def _fma(a, b, c):
    """a*b + c with a single rounding, in NumPy (Python 3.11 has no math.fma; the kernels use llvm.fma).

    Dekker's exact product p + e = a*b and Knuth's exact sum s + t = p + c give
    a*b + c = s + (t + e) exactly; the one remaining rounding of t + e can only matter in a
    halfway case of s + (t + e).  Non-finite or overflowing inputs fall back to a*b + c.
    """
    a, b, c = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(b, np.float64), np.asarray(c, np.float64))
    with np.errstate(all="ignore"):
        p = a * b
        ca, cb = _SPLIT * a, _SPLIT * b
        ah = ca - (ca - a)
        al = a - ah
        bh = cb - (cb - b)
        bl = b - bh
        e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
        s = p + c
        bb = s - p
        t = (p - (s - bb)) + (c - bb)
        out = s + (t + e)
        plain = a * b + c
    ok = np.isfinite(out) & (np.abs(a) < 1e150) & (np.abs(b) < 1e150)
    return np.where(ok, out, plain)


def _lerp(a, b, w):
    """torch.lerp / labkit._jit.lerp: a + w (b - a), fused, its form chosen by |w|."""
    if abs(w) < 0.5:
        return _fma(w, b - a, a)
    return _fma(a - b, 1.0 - w, b)


_TWIN_RULES = ("sign_sgd", "signum", "lion", "lion_k", "adam", "adamw")


def sign_state(problem, rule, steps: int = 200, x0=None, *, schedule=None, **hyperparameters) -> SignState:
    r"""Re-run a sign rule step by step in NumPy and record its internal state (for the state inspector).

    A *twin* of the compiled kernels in ``labkit.optim`` (``sign_step``, ``lion_step``,
    ``lion_k_step``, ``adam_step``), written with the same operations in the same order,
    fused multiply-adds included, so the iterates equal ``lk.run``'s bit for bit (tested in
    ``tests/test_signs.py``).  It is slow (a Python loop) and meant for a few thousand
    steps of a small problem next to a plot, not for sweeps.  Same arguments as
    :func:`labkit.run`; rules: signSGD, Signum, Lion, Lion-K (K = l1, quadratic, huber, tanh),
    Adam, AdamW.  Gradient noise of a noisy problem is reproduced too.  See
    :class:`SignState` for the recorded fields; the interpolation of Lion is

    .. math:: c_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad x_t = (1-\eta\lambda)x_{t-1} - \eta\,\mathrm{sign}(c_t),
              \qquad m_t = \beta_2 m_{t-1} + (1-\beta_2) g_t.

    A run that leaves the finite range stops there, like ``lk.run`` (shorter arrays).

    References: Bernstein et al., ICML 2018; Chen et al., NeurIPS 2023; Chen, Liu, Liang, Liu,
    ICLR 2024; Kingma & Ba, ICLR 2015.
    """
    from .run import _start, _steps, schedule_multipliers
    problem = check_problem("problem", problem)
    rule = _optim.get(rule, **hyperparameters)
    if rule.name not in _TWIN_RULES or rule.vector:
        raise ValueError(f"sign_state follows {', '.join(_TWIN_RULES)} (elementwise); got {rule.name}"
                         + (f" with K={rule.hyperparameters.get('K')!r}" if rule.vector else ""))
    steps = _steps(steps)
    # Ten (steps, d) records and the path: refused before allocating when they would not fit.
    check_memory(f"sign_state with steps={steps} on {problem.name}", 8.0 * 11 * (steps + 1) * problem.dim,
                 per_unit=88.0 * problem.dim, unit="steps")
    x = _start(problem, x0)
    mult = schedule_multipliers(schedule, steps)
    d = x.size
    hp = rule.hp
    noise = None
    if problem.noise:
        from ._engine import noise_table
        noise = noise_table(problem.seed, steps, d, problem.noise)
    rec = {k: np.zeros((steps, d)) for k in ("g", "m", "v", "c", "u", "update")}
    flips = np.zeros((steps, d), dtype=np.int64)
    agree = np.zeros((steps, d), dtype=bool)
    xs = np.empty((steps + 1, d))
    lrs = rule.lr * mult
    m = np.zeros(d)
    v = np.zeros(d)
    v_max = np.zeros(d)
    count = np.zeros(d, dtype=np.int64)
    prev_sign = np.zeros(d)
    xs[0] = x
    n = steps
    for k in range(steps):
        g = np.asarray(problem.grad(x), dtype=np.float64)
        if g.size != d:
            raise ValueError(f"problem {problem.name!r}: grad returned shape {g.shape} for a point of dimension {d}")
        g = g.reshape(d).copy()
        if noise is not None:
            g = g + noise[k]
        t, lr = k + 1, lrs[k]
        agree[k] = np.sign(g) == np.sign(m)
        xn = x.copy()
        if rule.name in ("sign_sgd", "signum"):
            mu, wd = hp[0], hp[1]
            if wd != 0.0:
                xn = xn * (1.0 - wd * lr)
            if mu > 0.0:
                m = _lerp(m, g, 1.0 - mu)
                c = m
            else:
                c = g
            u = np.sign(c)
        elif rule.name in ("lion", "lion_k"):
            b1, b2, wd = hp[0], hp[1], hp[2]
            if wd != 0.0:
                xn = xn * (1.0 - wd * lr)
            c = _lerp(m, g, 1.0 - b1)
            K = hp[3] if rule.name == "lion_k" else _optim.K_L1
            if K == _optim.K_L1:
                u = np.sign(c)
            elif K == _optim.K_QUADRATIC:
                u = c
            elif K == _optim.K_TANH:
                u = np.array([math.tanh(ci / hp[4]) for ci in c])     # libm's tanh, as the kernel
            else:
                u = np.minimum(np.maximum(c / hp[4], -1.0), 1.0)
            m = _lerp(m, g, 1.0 - b2)
        else:   # adam / adamw
            b1, b2, eps, wd, amsgrad, decoupled = hp[:6]
            if wd != 0.0:
                if decoupled != 0.0:
                    xn = xn * (1.0 - lr * wd)
                else:
                    g = _fma(wd, xn, g)
            m = _lerp(m, g, 1.0 - b1)
            v = _fma((1.0 - b2) * g, g, b2 * v)
            if amsgrad != 0.0:
                v_max = np.maximum(v_max, v)     # torch: the running max of the raw v, then / bc2
            bc1, sqrt_bc2 = 1.0 - b1 ** t, math.sqrt(1.0 - b2 ** t)
            denom = np.sqrt(v_max if amsgrad != 0.0 else v) / sqrt_bc2 + eps
            c = (m / bc1) / denom
            u = c
            xn = xn + (-(lr / bc1) * m) / denom
        rec["v"][k] = v
        if rule.name not in ("adam", "adamw"):
            xn = xn - lr * u
        s = np.sign(c)
        count += (s * prev_sign < 0)
        prev_sign = np.where(s != 0, s, prev_sign)
        rec["g"][k], rec["m"][k], rec["c"][k], rec["u"][k] = g, m, c, u
        rec["update"][k] = xn - x
        flips[k] = count
        x = xn
        if not np.all(np.isfinite(x)) or np.any(np.abs(x) > problem.bound):
            n = k
            break
        xs[k + 1] = x
    return SignState(xs[: n + 1], *(rec[k][:n] for k in ("g", "m", "v", "c", "u")), flips[:n], agree[:n],
                     rec["update"][:n], lrs[:n])
