"""``sweep``: many runs of one rule at once, over grids of hyperparameters and start points."""
from __future__ import annotations

import itertools
import math
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import optim as _optim
from ._errors import DivergenceWarning, check_array, check_bool, check_problem, check_run_memory, shown
from .problems import Problem
from .run import _cfg, _seeds, _steps, _tol, run, schedule_multipliers

BLOCK = 64          # lanes per block: one SIMD-friendly unit of work per thread
_NS_PER_LANE_STEP = 1.5e-9   # rough cost per lane-step and coordinate, for the progress-bar decision


def sweep(problem: Problem, rule, steps: int = 1000, x0=None, *, schedule=None, tol: float = 1e-8,
          progress: bool | None = None, **grids):
    """Run ``rule`` on ``problem`` over the Cartesian product of ``grids``; one row per run.

    Each keyword is a hyperparameter of the rule (``lr=np.logspace(-4, -1, 1024)``,
    ``momentum=[0, 0.5, 0.9]``) or ``seed`` (noise seeds), given as a value or a 1-D
    sequence of values.  ``x0`` is one start point ``(d,)`` or several ``(n, d)``
    (e.g. ``problem.grid(300)``), which makes another axis.  Returns a long-form pandas
    DataFrame: the grid columns, then ``f_final`` (last finite loss), ``dist_to_x_star``,
    ``steps_to_tol`` (first step with f - f_star <= tol; <NA> if never), ``diverged``,
    ``diverged_at`` and ``x_final_<i>`` (NaN for diverged runs).  Lanes with the same
    noise seed see the same noise (common random numbers).  Runs in parallel on all
    cores; shows a progress bar when it will take more than about a second
    (``progress=True/False`` forces it).  ``problem`` may be a built-in problem's name, as in
    :func:`~labkit.run`; a sweep whose arrays would not fit in memory is refused before it starts.
    """
    import pandas as pd

    problem = check_problem("problem", problem)
    progress = None if progress is None else check_bool("progress", progress)
    name = _optim.get(rule).name              # a Rule or a registered name; else raises with suggestions
    base = dict(rule.hyperparameters) if isinstance(rule, _optim.Rule) else {}
    steps = _steps(steps)
    check_run_memory(problem, steps, lanes=1, who="sweep")
    sched = schedule_multipliers(schedule, steps)
    allowed = set(_optim.get(name).hyperparameters)
    axes, fixed = [], dict(base)
    for key, value in grids.items():
        if key != "seed" and key not in allowed:
            raise ValueError(f"{key!r} is not a hyperparameter of {name}; allowed: {', '.join(sorted(allowed))}, seed")
        try:
            arr = np.asarray(value)
        except (TypeError, ValueError):            # ragged nesting
            raise ValueError(f"grid {key!r} must be a value or a non-empty 1-D sequence, got {shown(value)}") from None
        if arr.ndim == 0:
            fixed[key] = value
        elif arr.ndim == 1 and arr.size > 0:
            axes.append((key, arr))
        else:
            raise ValueError(f"grid {key!r} must be a value or a non-empty 1-D sequence, got shape {arr.shape}")
    seed_fixed = int(_seeds(fixed.pop("seed", problem.seed))[0])
    tol = _tol(tol)
    d = problem.dim
    if x0 is None:
        starts = problem.x0.reshape(1, d)
    else:
        starts = check_array("x0", x0, finite=False, what=f"start points, ({d},) or (n, {d})")
        if starts.shape == (d,):
            starts = starts.reshape(1, d)
        if starts.ndim != 2 or starts.shape[1] != d or starts.shape[0] == 0:
            raise ValueError(f"x0 must have shape ({d},) or (n, {d}) for {problem.name}, got {starts.shape}")
        if not np.all(np.isfinite(starts)):
            raise ValueError("x0 must be finite")

    # Lanes that share every hyperparameter except lr share a block (per-step scalars such
    # as bias corrections are then computed once per block).  So: hyperparameter combos
    # outer, then lr x start x seed inner.
    hp_axes = [(k, v) for k, v in axes if k not in ("lr", "seed")]
    lr_vals = dict(axes).get("lr")
    if lr_vals is None:                   # not swept: the given or default lr (validated by the rule)
        lr_vals = np.array([_optim.get(name, **fixed).lr])
    lr_vals = check_array("lr", lr_vals, finite=False, what="learning rates")
    seed_vals = dict(axes).get("seed", np.array([seed_fixed]))
    if not np.all(np.isfinite(lr_vals) & (lr_vals > 0)):
        raise ValueError("lr must be finite and > 0 for every grid value")
    seed_vals = _seeds(seed_vals)
    fixed.pop("lr", None)

    n_lanes = math.prod(len(v) for _, v in hp_axes) * len(lr_vals) * len(starts) * len(seed_vals)
    check_run_memory(problem, steps, lanes=n_lanes, who=f"sweep of {n_lanes} runs")   # before listing them
    combos = list(itertools.product(*[v for _, v in hp_axes])) or [()]
    rules = [_optim.get(name, lr=1.0, **{**fixed, **{k: _plain(v) for (k, _), v in zip(hp_axes, combo)}})
             for combo in combos]
    inner = len(lr_vals) * len(starts) * len(seed_vals)
    L = len(combos) * inner
    li, si, ei = np.meshgrid(np.arange(len(lr_vals)), np.arange(len(starts)), np.arange(len(seed_vals)),
                             indexing="ij")
    li, si, ei = li.ravel(), si.ravel(), ei.ravel()
    lane_lr = np.tile(lr_vals[li], len(combos))
    lane_x0 = np.tile(starts[si], (len(combos), 1))
    lane_seed = np.tile(seed_vals[ei], len(combos))
    lane_combo = np.repeat(np.arange(len(combos)), inner)

    from . import citations as _cite
    _cite.note(rules[0], problem, *([schedule] if callable(schedule) else []))
    if problem.kernel >= 0 and not rules[0].vector:
        X_out, f_last, hit, div_at = _sweep_compiled(problem, name, rules, inner, lane_lr, lane_x0, lane_seed,
                                                     sched, tol, progress)
    else:
        X_out, f_last, hit, div_at = _sweep_python(problem, rules, lane_combo, lane_lr, lane_x0, lane_seed,
                                                   sched, tol, progress)

    frame = pd.DataFrame()
    for col, (key, _) in enumerate(hp_axes):
        frame[key] = np.array([combos[c][col] for c in lane_combo])
    frame["lr"] = lane_lr
    if len(starts) > 1 or x0 is not None:
        for i in range(d):
            frame[f"x0_{i}"] = lane_x0[:, i]
    if "seed" in dict(axes):
        frame["seed"] = lane_seed
    diverged = div_at >= 0
    X_out[:, diverged] = np.nan
    frame["f_final"] = f_last
    frame["dist_to_x_star"] = (np.linalg.norm(X_out.T - problem.x_star, axis=1)
                               if problem.x_star is not None else np.nan)
    frame["steps_to_tol"] = pd.array(np.where(hit >= 0, hit, 0), dtype="Int64")
    frame.loc[hit < 0, "steps_to_tol"] = pd.NA
    frame["diverged"] = diverged
    frame["diverged_at"] = pd.array(np.where(diverged, div_at, 0), dtype="Int64")
    frame.loc[~diverged, "diverged_at"] = pd.NA
    for i in range(min(d, 8)):
        frame[f"x_final_{i}"] = X_out[i]
    frame.attrs.update(problem=problem.name, rule=name, steps=steps, fixed=dict(fixed), tol=tol)
    if diverged.any():
        warnings.warn(f"{int(diverged.sum())} of {L} runs of {name} on {problem.name} diverged "
                      f"(see the 'diverged' column).", DivergenceWarning, stacklevel=2)
    return frame


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


def _progress(total, enabled, desc, unit="run", delay=0.0):
    from tqdm.auto import tqdm
    return tqdm(total=total, disable=not enabled, desc=desc, unit=unit, leave=False, delay=delay)


def _progress_bar(total, progress, desc, unit="run"):
    """labkit's tqdm bar for a loop with no cheap cost estimate: ``progress=None`` shows it once
    the loop has run for a second (quick calls print nothing), ``True`` from the start, ``False``
    never.  ``tqdm.auto``: a widget in Jupyter, text on stderr elsewhere; gone when done."""
    return _progress(total, progress is None or bool(progress), desc, unit, 1.0 if progress is None else 0.0)


def _sweep_compiled(problem, name, rules, inner, lane_lr, lane_x0, lane_seed, sched, tol, progress):
    from numba import get_num_threads

    from ._engine import KERNELS
    L, d = lane_x0.shape
    # Blocks: consecutive lanes of one hyperparameter combo, at most BLOCK per block.
    starts, block_hp, block_s0 = [0], [], []
    for c, rule in enumerate(rules):
        lo, hi = c * inner, (c + 1) * inner
        for b in range(lo, hi, BLOCK):
            starts.append(min(b + BLOCK, hi))
            block_hp.append(rule.hp)
            block_s0.append(rule.state0)
    starts = np.array(starts, dtype=np.int64)
    HP = np.array(block_hp, dtype=np.float64)
    S0 = np.array(block_s0, dtype=np.float64)
    X0 = np.ascontiguousarray(lane_x0.T)
    X_out = np.empty_like(X0)
    f_last = np.full(L, np.nan)
    hit = np.full(L, -1, dtype=np.int64)
    div_at = np.full(L, -1, dtype=np.int64)
    cfg = _cfg(problem, tol)
    threads = max(1, get_num_threads())
    estimate = L * sched.size * (d + 2) * _NS_PER_LANE_STEP / threads
    show = estimate > 1.0 if progress is None else bool(progress)
    nb = len(HP)
    # Disjoint ranges of blocks, run on `threads` threads (the kernels release the GIL);
    # more chunks than threads when a progress bar is shown, so that it moves.
    chunks = min(nb, threads * (8 if show else 1))
    edges = np.linspace(0, nb, chunks + 1).astype(int)
    kernel = KERNELS[rules[0].kind][1]

    def work(b0, b1):
        kernel(problem.kernel, problem.params, HP[b0:b1], S0[b0:b1], starts[b0:b1 + 1], X0, lane_lr, lane_seed,
               sched, cfg, X_out, f_last, hit, div_at)
        return int(starts[b1] - starts[b0])

    with _progress(L, show, f"sweep {name}") as bar:
        if chunks <= 1:
            bar.update(work(0, nb))
        else:
            with ThreadPoolExecutor(threads) as pool:
                for done in pool.map(work, edges[:-1], edges[1:]):
                    bar.update(done)
    return X_out, f_last, hit, div_at


def _sweep_python(problem, rules, lane_combo, lane_lr, lane_x0, lane_seed, sched, tol, progress):
    """Problems without a compiled kernel: one ``run`` per lane (slow, but always works)."""
    L, d = lane_x0.shape
    X_out = np.empty((d, L))
    f_last = np.full(L, np.nan)
    hit = np.full(L, -1, dtype=np.int64)
    div_at = np.full(L, -1, dtype=np.int64)
    with _progress(L, bool(progress) or (progress is None and L > 50), "sweep") as bar:
        for j in range(L):
            p = problem if lane_seed[j] == problem.seed else problem.with_noise(problem.noise, int(lane_seed[j]))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DivergenceWarning)
                tr = run(p, rules[lane_combo[j]].replace(lr=float(lane_lr[j])), sched.size, lane_x0[j],
                         schedule=sched)
            X_out[:, j] = tr.xs[-1]
            f_last[j] = tr.f[-1]
            if tr.diverged:
                div_at[j] = tr.diverged_at
            crit = tr.f - problem.f_star if problem.f_star is not None else tr.grad_norm
            below = np.nonzero(crit <= tol)[0]
            hit[j] = below[0] if below.size else -1
            bar.update(1)
    return X_out, f_last, hit, div_at
