"""``run``: one trajectory of one rule on one problem, and its result type."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from . import citations as _cite
from . import optim as _optim
from ._errors import DivergenceWarning, check_array, check_int, check_nonneg, check_problem, check_run_memory, shown
from .problems import Problem


@dataclass(frozen=True, eq=False)
class Trajectory:
    """The result of :func:`run`.

    ``xs`` has shape ``(n, d)``: the start point and every iterate (``n = steps + 1``
    unless the run diverged).  ``f`` and ``grad_norm`` are evaluated at each row of
    ``xs`` (the gradient norm of what the rule saw, noise included); ``step_norm[k]`` is
    ``|x_{k+1} - x_k|``.  A diverged run stops at its last finite point:
    ``diverged=True`` and ``diverged_at`` is the index of the first bad iterate.
    """

    xs: np.ndarray
    f: np.ndarray
    grad_norm: np.ndarray
    diverged: bool
    diverged_at: int | None
    rule: _optim.Rule
    problem: Problem = field(repr=False)
    steps: int = 0

    @property
    def step_norm(self) -> np.ndarray:
        """``|x_{k+1} - x_k|`` for each step (computed on first use)."""
        cached = self.__dict__.get("_step_norm")
        if cached is None:
            cached = np.sqrt(np.sum(np.diff(self.xs, axis=0) ** 2, axis=1))
            object.__setattr__(self, "_step_norm", cached)
        return cached

    @property
    def hyperparameters(self) -> dict:
        return dict(self.rule.hyperparameters)

    @property
    def x_final(self) -> np.ndarray:
        return self.xs[-1]

    @property
    def f_final(self) -> float:
        return float(self.f[-1])

    @property
    def label(self) -> str:
        """The rule with its non-default hyperparameters, e.g. ``adam(lr=0.05)`` (for legends)."""
        return self.rule.label

    def to_frame(self):
        """A tidy pandas frame: one row per iterate (step, x_0..x_{d-1}, f, grad_norm, step_norm, rule)."""
        import pandas as pd
        n, d = self.xs.shape
        frame = pd.DataFrame({"step": np.arange(n)})
        for i in range(d):
            frame[f"x_{i}"] = self.xs[:, i]
        frame["f"] = self.f
        frame["grad_norm"] = self.grad_norm
        frame["step_norm"] = np.append(self.step_norm, np.nan)   # no step from the last point
        frame["rule"] = self.rule.name
        frame["problem"] = self.problem.name
        return frame

    def __repr__(self):
        status = f"diverged at step {self.diverged_at}" if self.diverged else f"f={self.f_final:.6g}"
        return f"Trajectory({self.rule!r} on {self.problem.name}, {len(self.xs) - 1} steps, {status})"


def _steps(steps) -> int:
    return check_int("steps", steps, 0)


def _start(problem: Problem, x0) -> np.ndarray:
    if x0 is None:
        return problem.x0.copy()
    return check_array("x0", x0, (problem.dim,), what=f"finite numbers (the start point of {problem.name})")


def schedule_multipliers(schedule, steps) -> np.ndarray:
    """Per-step multipliers of the base step size (ones when there is no schedule)."""
    if schedule is None:
        return np.ones(steps)
    if callable(schedule):
        m = None
        try:       # vectorised first (lk.schedules, numpy expressions), then step by step
            out = np.asarray(schedule(np.arange(steps)), dtype=np.float64)
            if out.shape in ((), (steps,)):
                m = np.broadcast_to(out, (steps,)).copy()
        except (TypeError, ValueError):
            pass
        if m is None:
            values = [schedule(k) for k in range(steps)]
            try:
                m = np.array(values, dtype=np.float64).reshape(steps)
            except (TypeError, ValueError):
                raise ValueError(f"schedule(k) must return one number per step k, got "
                                 f"{shown(values[:3])} for k = 0, 1, 2") from None
    else:
        m = check_array("schedule", schedule, finite=False,
                        what="multipliers, one per step (or a function of the step)").reshape(-1)
        if m.size != steps:
            raise ValueError(f"schedule must have one multiplier per step ({steps}), got {m.size}")
    if not np.all(np.isfinite(m) & (m >= 0)):
        raise ValueError(f"schedule must give finite multipliers >= 0, got {shown(m)}")
    return m


def _tol(tol) -> float:
    return check_nonneg("tol", tol)


def _seeds(seeds) -> np.ndarray:
    """Noise seeds as int64; 1.5 or 'a' is an error, not a silent truncation."""
    arr = np.atleast_1d(np.asarray(seeds))
    if arr.dtype.kind not in "iu" and not (arr.dtype.kind == "f" and np.all(np.isfinite(arr))
                                            and np.all(arr == np.round(arr))):
        raise ValueError(f"seed must be an integer (or integers), got {seeds!r}")
    if np.any(arr < 0):
        raise ValueError(f"seed must be >= 0, got {seeds!r}")
    return arr.astype(np.int64)


def _cfg(problem: Problem, tol: float) -> np.ndarray:
    f_star = np.nan if problem.f_star is None else float(problem.f_star)
    return np.array([problem.noise, f_star, float(tol), problem.bound])


def run(problem: Problem, rule, steps: int = 1000, x0=None, *, schedule=None, tol: float = 1e-8,
        **hyperparameters) -> Trajectory:
    """Run ``rule`` for ``steps`` steps on ``problem`` from ``x0`` (default ``problem.x0``).

    ``problem`` is a :class:`~labkit.problems.Problem` or the name of a built-in one
    (``"rosenbrock"``: ``lk.problems.get(name)`` with its defaults, as in ``lk.compare``).
    ``rule`` is a :class:`~labkit.optim.Rule` (``lk.optim.adam(lr=0.01)``) or a name with
    hyperparameters as keywords (``run(p, "adam", 500, lr=0.01)``).  ``schedule`` is a
    function of the step ``k = 0, 1, ...`` returning the multiplier of the base step size
    (or an array of them).  A run that produces a non-finite value or leaves the
    problem's box stops there with a :class:`DivergenceWarning`: the trajectory keeps
    only finite points and reports ``diverged_at``.  A run whose arrays would take more than
    a quarter of the available memory is refused before it starts, saying how many steps fit.
    """
    problem = check_problem("problem", problem)
    rule = _optim.get(rule, **hyperparameters)
    steps = _steps(steps)
    check_run_memory(problem, steps)
    tol = _tol(tol)
    x = _start(problem, x0)
    sched = schedule_multipliers(schedule, steps)
    _cite.note(rule, problem, *([schedule] if callable(schedule) else []))
    if problem.kernel >= 0 and not rule.vector:
        xs, fs, gs, n = _run_compiled(problem, rule, x, sched, tol)
    else:
        xs, fs, gs, n = _run_python(problem, rule, x, sched)
    diverged = n < steps + 1
    xs, fs, gs = xs[:n], fs[:n], gs[:n]
    if diverged:
        warnings.warn(f"{rule!r} on {problem.name} diverged at step {n} (non-finite value or |x| > "
                      f"{problem.bound:g}); the trajectory stops at the last finite point. "
                      f"Try a smaller lr.", DivergenceWarning, stacklevel=2)
    return Trajectory(xs, fs, gs, diverged, n if diverged else None, rule, problem, steps)


def _run_compiled(problem, rule, x, sched, tol):
    from ._engine import KERNELS
    from .problems import kind_tag
    n, xs, fs, gs, _ = KERNELS[rule.kind][0](kind_tag(problem.kernel), problem.params, np.array(rule.hp), x,
                                             np.array(rule.state0), rule.lr, problem.seed, sched,
                                             _cfg(problem, tol))
    return xs, fs, gs, n


def _run_python(problem, rule, x, sched):
    """A Python loop around a compiled update.

    Serves problems given as Python functions (elementwise rules go through the engine's
    ``step_kernel``) and whole-vector rules (``labkit.vrules``: Muon, AdamP, Sophia, ...)
    on every problem.  Same bookkeeping as the compiled driver, so a Python-defined copy
    of a built-in problem gives the same trajectory bit for bit.
    """
    from ._engine import noise_table
    steps, d = sched.size, x.size
    x = x.copy()
    noise = noise_table(problem.seed, steps, d, problem.noise) if problem.noise else None
    value_and_grad = _value_and_grad(problem, x)
    update = _vector_update(problem, rule, d) if rule.vector else _elementwise_update(rule, d)
    xs, fs, gs = np.empty((steps + 1, d)), np.empty(steps + 1), np.empty(steps + 1)
    bound = problem.bound
    for k in range(steps + 1):
        fk, g = value_and_grad(x)
        if noise is not None:
            g = g + noise[k]
        # Summed in coordinate order like the kernels (not BLAS g @ g), so both paths agree bitwise.
        gn = 0.0
        for gi in g:
            gn += gi * gi
        gn = float(np.sqrt(gn))
        if not (abs(fk) <= 1e300 and gn <= 1e300 and np.all(np.abs(x) <= bound)):
            return xs, fs, gs, k
        xs[k], fs[k], gs[k] = x, fk, gn
        if k == steps:
            break
        update(x, g, k + 1, rule.lr * sched[k], gn, fk)
    return xs, fs, gs, steps + 1


def _value_and_grad(problem, x):
    """(f, grad) at x: one kernel call for a built-in, f and grad for a Python problem."""
    d = x.size
    if problem.kernel >= 0:
        from .problems import objective
        X, G, F = np.empty((d, 1)), np.empty((d, 1)), np.empty(1)

        def value_and_grad(x):
            X[:, 0] = x
            objective(problem.kernel, problem.params, X, G, F)
            return float(F[0]), G[:, 0].copy()
        return value_and_grad

    def value_and_grad(x):
        # A user's f or grad of the wrong shape is reported as such, not as a reshape error.
        fx, g = problem.f(x), np.asarray(problem.grad(x), dtype=np.float64)
        if g.size != d:
            raise ValueError(f"problem {problem.name!r}: grad(x) returned shape {g.shape} for x of shape ({d},); "
                             f"it must return ({d},)")
        try:
            fx = float(fx)
        except (TypeError, ValueError):
            raise ValueError(f"problem {problem.name!r}: f(x) must return one number, got {shown(fx)}") from None
        return fx, g.reshape(d).copy()
    return value_and_grad


def _elementwise_update(rule, d):
    from ._engine import step_kernel
    S = np.empty((4, d, 1))
    S[:] = np.asarray(rule.state0).reshape(4, 1, 1)
    acc = np.zeros(8)
    acc[::2] = 1.0
    hp = np.array(rule.hp)

    def update(x, g, t, lr, gn, f):
        X = x.reshape(d, 1)                      # a view: the kernel writes x in place
        step_kernel(rule.kind, hp, X, g.reshape(d, 1), S, float(t), acc, np.array([lr]), np.array([gn]),
                    np.array([f]))
    return update


def _vector_update(problem, rule, d):
    """The step of a whole-vector rule, with the per-step input its ``needs`` asks of the problem."""
    from . import vrules
    vstep = getattr(vrules, rule.vstep)
    S = np.empty((4, d))
    S[:] = np.asarray(rule.state0).reshape(4, 1)
    hp = np.array(rule.hp)
    layout = problem.layout
    aux = np.zeros(d)
    hyper = rule.hyperparameters
    if rule.needs == "hessian":
        estimate = _hessian_estimator(problem, hyper["estimator"], hyper["seed"])
        period = hyper["update_period"]
    elif rule.needs == "sigmoid_weight":
        weight = _extra(problem, "sigmoid_weight", rule.name)

    def update(x, g, t, lr, gn, f):
        if rule.needs == "hessian" and (t - 1) % period == 0:
            aux[:] = estimate(x, t)               # refreshed before the step, as pytorch-optimizer's SophiaH
        elif rule.needs == "sigmoid_weight":
            aux[0] = 1.0 / weight(x)
        vstep(x, g, S, float(t), lr, f, hp, layout, aux)
    return update


def _extra(problem, key, who):
    if key not in problem.extras:
        raise ValueError(f"{who} needs the problem's {key!r} (in Problem.extras), which {problem.name} "
                         f"does not provide; problems that do: "
                         f"{', '.join(_problems_with(key)) or 'none'}")
    return problem.extras[key]


def _problems_with(key):
    from . import problems_matrix
    return [n for n in problems_matrix.PROVIDES.get(key, ())]


def _hessian_estimator(problem, estimator, seed):
    """Sophia's diagonal-Hessian estimate at x on step t (Liu et al. 2023, §2.3)."""
    if estimator == "gnb":
        gnb = _extra(problem, "gnb_hess", "sophia (estimator='gnb')")
        return lambda x, t: gnb(x, int(seed), int(t))
    if problem.hess is None:
        raise ValueError(f"sophia with estimator={estimator!r} needs the problem's Hessian; {problem.name} has none "
                         f"(use estimator='gnb' on a logistic or softmax problem)")
    if estimator == "exact":
        return lambda x, t: np.diag(problem.hess(x)).copy()

    def hutchinson(x, t):
        # u ~ N(0, I) drawn per (seed, step): h = u * (H u), unbiased for diag(H).
        u = np.random.default_rng((int(seed), int(t))).standard_normal(x.size)
        return u * (np.asarray(problem.hess(x)) @ u)
    return hutchinson

