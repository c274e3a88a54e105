"""The one driver: every rule on every built-in problem, for a run or a batched sweep.

Layout: a *block* of B lanes (independent runs that share the rule's hyperparameters
but may differ in step size, start point and noise seed) stored lanes-innermost,
``X[i, j]`` = coordinate i of lane j, so the inner loops vectorise across lanes
(steps outer, lanes inner: 18x faster than one scalar loop per lane, spec §2).
A single run is a block of one lane whose arrays are allocated inside the kernel, so
that LLVM sees B = 1 as a constant and the lane loops disappear, and it is compiled per
(rule, problem kind) (``problems.kind_tag``), so the loop holds one objective.

Caching (spec §3): a cached kernel that *receives* jitted functions as arguments
recompiles in every process (numba #9609).  So the generic drivers ``_run`` and
``_blocks`` take the rule's ``prep``/``step`` as arguments but are inlined at the
Numba-IR level (``inline="always"``) into two tiny kernels per rule that name those
functions as globals (``run_adam``, ``blocks_adam``, ...).  Those cache to disk like any
kernel, and compile lazily: a notebook pays only for the rules it uses.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._jit import INLINE, JIT, gauss
from .optim import (ADABELIEF, ADAGRAD, ADAM, ADAN, DIFFGRAD, EXADAM, LION, LION_K, LOSS_ADAPTIVE_GD, NORMALIZED_GD,
                    RMSPROP, SGD, SIGN, adabelief_prep, adabelief_step, adagrad_prep, adagrad_step, adam_prep,
                    adam_step, adan_prep, adan_step, diffgrad_step, exadam_prep, exadam_step,
                    lion_k_step, lion_step, loss_adaptive_gd_step, no_prep, normalized_gd_step, rmsprop_step,
                    sgd_step, sign_step)
from .problems import objective, objective_tagged

F_MAX = 1e300   # |f| or |g| above this (or nan) counts as divergence


@njit(**INLINE)
def _apply(step, X, G, S, t, LR, GN, F, hp, c):
    """x, s <- step(x, g, s, ...) for every coordinate of every lane."""
    d, B = X.shape
    for i in range(d):
        for j in range(B):
            X[i, j], s = step(X[i, j], G[i, j], (S[0, i, j], S[1, i, j], S[2, i, j], S[3, i, j]),
                              t, LR[j], GN[j], F[j], hp, c)
            S[0, i, j], S[1, i, j], S[2, i, j], S[3, i, j] = s


@njit(**INLINE)
def _loop(prep, step, objective, kind, p, hp, X, S, lr0, seeds, mults, cfg, E, record, xs, fs, gs, f_last, hit,
          div_at):
    """``len(mults)`` steps of one rule on one built-in problem for a block of lanes.

    ``objective`` is ``objective_tagged`` for a single run (``kind`` is then the type tag
    of one problem, inlined: a call costs ~45 ns a step there) and the compiled
    ``objective`` for blocks (one call per step serves 64 lanes, and the rule's block
    kernel then compiles once for every problem, in ~2 s instead of ~11 s).

    cfg = (noise sigma, f_star or nan, tol, bound).  ``record`` is a constant at each
    call site (so LLVM removes the branches): a single run records iterates, losses and
    gradient norms, takes its noise from the pre-drawn ``E`` (a noise branch inside the
    loop costs ~8 ns a step even when not taken) and stops at the first non-finite or
    out-of-box point.  Per lane: ``f_last`` last finite loss, ``hit`` first step with
    f - f_star <= tol (|g| <= tol when f_star is unknown), ``div_at`` first bad step
    (-1 if none).  Returns the number of finite points (single run).
    """
    d, B = X.shape
    steps = mults.shape[0]
    sigma, f_star, tol, bound = cfg[0], cfg[1], cfg[2], cfg[3]
    use_gap = not math.isnan(f_star)
    G = np.empty_like(X)
    F = np.empty(B)
    GN = np.empty(B)
    XM = np.empty(B)
    LR = np.empty(B)
    acc = np.zeros(8)
    for q in range(0, 8, 2):
        acc[q] = 1.0                      # running powers beta**0 (see _jit.power_step)
    alive = B
    e_stride = 1 if E.shape[0] > 1 else 0    # a branch-free zero add when there is no noise
    for k in range(steps + 1):
        objective(kind, p, X, G, F)
        if record:
            # A single run: scalar bookkeeping for lane 0, stop at the first bad point.
            gn = 0.0
            xm = 0.0
            for i in range(d):
                G[i, 0] += E[k * e_stride, i]
                gn += G[i, 0] * G[i, 0]
                xm = max(xm, abs(X[i, 0]))
                xs[k, i] = X[i, 0]
            gn = math.sqrt(gn)
            if not (abs(F[0]) <= F_MAX and gn <= F_MAX and xm <= bound):
                return k
            fs[k] = F[0]
            gs[k] = gn
        else:
            if sigma > 0.0:
                for i in range(d):
                    for j in range(B):
                        G[i, j] += sigma * gauss(seeds[j], k, i)
            # One pass for the gradient norm and the box check, one for the lane bookkeeping.
            for j in range(B):
                GN[j] = 0.0
                XM[j] = 0.0
            for i in range(d):
                for j in range(B):
                    GN[j] += G[i, j] * G[i, j]
                    XM[j] = max(XM[j], abs(X[i, j]))
            # Branch-free (selects, not jumps) so that it vectorises across lanes; the rare
            # divergence is handled in a second pass only when some lane went bad.
            any_bad = False
            for j in range(B):
                GN[j] = math.sqrt(GN[j])
                ok = (abs(F[j]) <= F_MAX) & (GN[j] <= F_MAX) & (XM[j] <= bound)
                fresh = ok & (div_at[j] < 0)
                crit = F[j] - f_star if use_gap else GN[j]
                f_last[j] = F[j] if fresh else f_last[j]
                hit[j] = k if fresh & (hit[j] < 0) & (crit <= tol) else hit[j]
                any_bad |= not ok
            if any_bad:
                for j in range(B):
                    if div_at[j] < 0 and not (abs(F[j]) <= F_MAX and GN[j] <= F_MAX and XM[j] <= bound):
                        div_at[j] = k
                        alive -= 1
            if alive == 0:
                return k
        if k == steps:
            break
        t = float(k + 1)
        c = prep(t, hp, acc)
        if record:
            lr = lr0[0] * mults[k]
            for i in range(d):
                X[i, 0], s = step(X[i, 0], G[i, 0], (S[0, i, 0], S[1, i, 0], S[2, i, 0], S[3, i, 0]), t, lr, gn, F[0],
                                  hp, c)
                S[0, i, 0], S[1, i, 0], S[2, i, 0], S[3, i, 0] = s
        else:
            for j in range(B):
                LR[j] = lr0[j] * mults[k]
            _apply(step, X, G, S, t, LR, GN, F, hp, c)
    return steps + 1


@njit(**INLINE)
def _run(prep, step, tag, p, hp, x0, s0, lr, seed, mults, cfg):
    """A single run: returns (n finite points, xs, fs, gs, hit step).

    ``tag`` is the problem kind as a type (``problems.kind_tag``): the objective is fixed
    when this compiles, so the loop holds one problem, not a dispatch over all of them.
    """
    d = x0.shape[0]
    X = np.empty((d, 1))
    S = np.empty((4, d, 1))
    for i in range(d):
        X[i, 0] = x0[i]
        for q in range(4):
            S[q, i, 0] = s0[q]
    steps = mults.shape[0]
    xs = np.empty((steps + 1, d))
    fs = np.empty(steps + 1)
    gs = np.empty(steps + 1)
    lr0 = np.full(1, lr)
    seeds = np.full(1, seed)
    E = np.zeros((steps + 1 if cfg[0] > 0.0 else 1, d))   # one zero row when noiseless
    if cfg[0] > 0.0:
        for k in range(steps + 1):
            for i in range(d):
                E[k, i] = cfg[0] * gauss(seed, k, i)
    f_last = np.empty(1)
    hit = np.full(1, -1)
    div_at = np.full(1, -1)
    n = _loop(prep, step, objective_tagged, tag, p, hp, X, S, lr0, seeds, mults, cfg, E, True, xs, fs, gs, f_last,
              hit, div_at)
    return n, xs, fs, gs, hit[0]


@njit(**INLINE)
def _blocks(prep, step, kind, p, HP, S0, starts, X0, lr0, seeds, mults, cfg, X_out, f_last, hit, div_at):
    """Blocks of lanes, one after another: block b has hyperparameters HP[b], initial state
    S0[b] and the lanes starts[b]:starts[b+1] of X0 (d, L).  ``sweep`` runs disjoint ranges
    of blocks on several threads (the kernels release the GIL): unlike ``prange`` this adds
    no parallel-compilation cost (13 s a rule), and the chunks drive the progress bar."""
    d = X0.shape[0]
    E = np.empty((0, d))
    for b in range(HP.shape[0]):
        lo, hi = starts[b], starts[b + 1]
        X = X0[:, lo:hi].copy()
        S = np.empty((4, d, hi - lo))
        for q in range(4):
            S[q] = S0[b, q]
        fl = np.full(hi - lo, np.nan)
        ht = np.full(hi - lo, -1)
        dv = np.full(hi - lo, -1)
        _loop(prep, step, objective, kind, p, HP[b].copy(), X, S, lr0[lo:hi].copy(), seeds[lo:hi].copy(), mults, cfg, E,
              False, E, fl, fl, fl, ht, dv)
        X_out[:, lo:hi] = X
        f_last[lo:hi] = fl
        hit[lo:hi] = ht
        div_at[lo:hi] = dv


# --- one line per rule and mode: the functions named here are what gets compiled and cached


@njit(nogil=True, **JIT)
def run_sgd(tag, p, hp, x0, s0, lr, seed, mults, cfg):
    return _run(no_prep, sgd_step, tag, p, hp, x0, s0, lr, seed, mults, cfg)


@njit(nogil=True, **JIT)
def run_adam(tag, p, hp, x0, s0, lr, seed, mults, cfg):
    return _run(adam_prep, adam_step, tag, p, hp, x0, s0, lr, seed, mults, cfg)


@njit(nogil=True, **JIT)
def run_adagrad(tag, p, hp, x0, s0, lr, seed, mults, cfg):
    return _run(adagrad_prep, adagrad_step, tag, p, hp, x0, s0, lr, seed, mults, cfg)


@njit(nogil=True, **JIT)
def run_rmsprop(tag, p, hp, x0, s0, lr, seed, mults, cfg):
    return _run(no_prep, rmsprop_step, tag, p, hp, x0, s0, lr, seed, mults, cfg)


@njit(nogil=True, **JIT)
def run_lion(tag, p, hp, x0, s0, lr, seed, mults, cfg):
    return _run(no_prep, lion_step, tag, p, hp, x0, s0, lr, seed, mults, cfg)


@njit(nogil=True, **JIT)
def run_sign(tag, p, hp, x0, s0, lr, seed, mults, cfg):
    return _run(no_prep, sign_step, tag, p, hp, x0, s0, lr, seed, mults, cfg)


@njit(nogil=True, **JIT)
def run_normalized_gd(tag, p, hp, x0, s0, lr, seed, mults, cfg):
    return _run(no_prep, normalized_gd_step, tag, p, hp, x0, s0, lr, seed, mults, cfg)


@njit(nogil=True, **JIT)
def run_adabelief(tag, p, hp, x0, s0, lr, seed, mults, cfg):
    return _run(adabelief_prep, adabelief_step, tag, p, hp, x0, s0, lr, seed, mults, cfg)


@njit(nogil=True, **JIT)
def run_diffgrad(tag, p, hp, x0, s0, lr, seed, mults, cfg):
    return _run(adam_prep, diffgrad_step, tag, p, hp, x0, s0, lr, seed, mults, cfg)


@njit(nogil=True, **JIT)
def run_adan(tag, p, hp, x0, s0, lr, seed, mults, cfg):
    return _run(adan_prep, adan_step, tag, p, hp, x0, s0, lr, seed, mults, cfg)


@njit(nogil=True, **JIT)
def run_exadam(tag, p, hp, x0, s0, lr, seed, mults, cfg):
    return _run(exadam_prep, exadam_step, tag, p, hp, x0, s0, lr, seed, mults, cfg)


@njit(nogil=True, **JIT)
def run_lion_k(tag, p, hp, x0, s0, lr, seed, mults, cfg):
    return _run(no_prep, lion_k_step, tag, p, hp, x0, s0, lr, seed, mults, cfg)


@njit(nogil=True, **JIT)
def run_loss_adaptive_gd(tag, p, hp, x0, s0, lr, seed, mults, cfg):
    return _run(no_prep, loss_adaptive_gd_step, tag, p, hp, x0, s0, lr, seed, mults, cfg)


@njit(nogil=True, **JIT)
def blocks_sgd(kind, p, HP, S0, starts, X0, lr0, seeds, mults, cfg, X_out, f_last, hit, div_at):
    _blocks(no_prep, sgd_step, kind, p, HP, S0, starts, X0, lr0, seeds, mults, cfg, X_out, f_last, hit, div_at)


@njit(nogil=True, **JIT)
def blocks_adam(kind, p, HP, S0, starts, X0, lr0, seeds, mults, cfg, X_out, f_last, hit, div_at):
    _blocks(adam_prep, adam_step, kind, p, HP, S0, starts, X0, lr0, seeds, mults, cfg, X_out, f_last, hit, div_at)


@njit(nogil=True, **JIT)
def blocks_adagrad(kind, p, HP, S0, starts, X0, lr0, seeds, mults, cfg, X_out, f_last, hit, div_at):
    _blocks(adagrad_prep, adagrad_step, kind, p, HP, S0, starts, X0, lr0, seeds, mults, cfg, X_out, f_last, hit,
           div_at)


@njit(nogil=True, **JIT)
def blocks_rmsprop(kind, p, HP, S0, starts, X0, lr0, seeds, mults, cfg, X_out, f_last, hit, div_at):
    _blocks(no_prep, rmsprop_step, kind, p, HP, S0, starts, X0, lr0, seeds, mults, cfg, X_out, f_last, hit, div_at)


@njit(nogil=True, **JIT)
def blocks_lion(kind, p, HP, S0, starts, X0, lr0, seeds, mults, cfg, X_out, f_last, hit, div_at):
    _blocks(no_prep, lion_step, kind, p, HP, S0, starts, X0, lr0, seeds, mults, cfg, X_out, f_last, hit, div_at)


@njit(nogil=True, **JIT)
def blocks_sign(kind, p, HP, S0, starts, X0, lr0, seeds, mults, cfg, X_out, f_last, hit, div_at):
    _blocks(no_prep, sign_step, kind, p, HP, S0, starts, X0, lr0, seeds, mults, cfg, X_out, f_last, hit, div_at)


@njit(nogil=True, **JIT)
def blocks_normalized_gd(kind, p, HP, S0, starts, X0, lr0, seeds, mults, cfg, X_out, f_last, hit, div_at):
    _blocks(no_prep, normalized_gd_step, kind, p, HP, S0, starts, X0, lr0, seeds, mults, cfg, X_out, f_last, hit,
           div_at)


@njit(nogil=True, **JIT)
def blocks_adabelief(kind, p, HP, S0, starts, X0, lr0, seeds, mults, cfg, X_out, f_last, hit, div_at):
    _blocks(adabelief_prep, adabelief_step, kind, p, HP, S0, starts, X0, lr0, seeds, mults, cfg, X_out, f_last, hit,
           div_at)


@njit(nogil=True, **JIT)
def blocks_diffgrad(kind, p, HP, S0, starts, X0, lr0, seeds, mults, cfg, X_out, f_last, hit, div_at):
    _blocks(adam_prep, diffgrad_step, kind, p, HP, S0, starts, X0, lr0, seeds, mults, cfg, X_out, f_last, hit,
           div_at)


@njit(nogil=True, **JIT)
def blocks_adan(kind, p, HP, S0, starts, X0, lr0, seeds, mults, cfg, X_out, f_last, hit, div_at):
    _blocks(adan_prep, adan_step, kind, p, HP, S0, starts, X0, lr0, seeds, mults, cfg, X_out, f_last, hit, div_at)


@njit(nogil=True, **JIT)
def blocks_exadam(kind, p, HP, S0, starts, X0, lr0, seeds, mults, cfg, X_out, f_last, hit, div_at):
    _blocks(exadam_prep, exadam_step, kind, p, HP, S0, starts, X0, lr0, seeds, mults, cfg, X_out, f_last, hit, div_at)


@njit(nogil=True, **JIT)
def blocks_lion_k(kind, p, HP, S0, starts, X0, lr0, seeds, mults, cfg, X_out, f_last, hit, div_at):
    _blocks(no_prep, lion_k_step, kind, p, HP, S0, starts, X0, lr0, seeds, mults, cfg, X_out, f_last, hit, div_at)


@njit(nogil=True, **JIT)
def blocks_loss_adaptive_gd(kind, p, HP, S0, starts, X0, lr0, seeds, mults, cfg, X_out, f_last, hit, div_at):
    _blocks(no_prep, loss_adaptive_gd_step, kind, p, HP, S0, starts, X0, lr0, seeds, mults, cfg, X_out, f_last, hit,
           div_at)


@njit(**JIT)
def step_kernel(rule, hp, X, G, S, t, acc, LR, GN, F):
    """One step for a block, for problems without a compiled kernel (a Python loop drives it)."""
    if rule == SGD:
        _apply(sgd_step, X, G, S, t, LR, GN, F, hp, no_prep(t, hp, acc))
    elif rule == ADAM:
        _apply(adam_step, X, G, S, t, LR, GN, F, hp, adam_prep(t, hp, acc))
    elif rule == ADAGRAD:
        _apply(adagrad_step, X, G, S, t, LR, GN, F, hp, adagrad_prep(t, hp, acc))
    elif rule == RMSPROP:
        _apply(rmsprop_step, X, G, S, t, LR, GN, F, hp, no_prep(t, hp, acc))
    elif rule == LION:
        _apply(lion_step, X, G, S, t, LR, GN, F, hp, no_prep(t, hp, acc))
    elif rule == SIGN:
        _apply(sign_step, X, G, S, t, LR, GN, F, hp, no_prep(t, hp, acc))
    elif rule == NORMALIZED_GD:
        _apply(normalized_gd_step, X, G, S, t, LR, GN, F, hp, no_prep(t, hp, acc))
    elif rule == ADABELIEF:
        _apply(adabelief_step, X, G, S, t, LR, GN, F, hp, adabelief_prep(t, hp, acc))
    elif rule == DIFFGRAD:
        _apply(diffgrad_step, X, G, S, t, LR, GN, F, hp, adam_prep(t, hp, acc))
    elif rule == ADAN:
        _apply(adan_step, X, G, S, t, LR, GN, F, hp, adan_prep(t, hp, acc))
    elif rule == EXADAM:
        _apply(exadam_step, X, G, S, t, LR, GN, F, hp, exadam_prep(t, hp, acc))
    elif rule == LION_K:
        _apply(lion_k_step, X, G, S, t, LR, GN, F, hp, no_prep(t, hp, acc))
    elif rule == LOSS_ADAPTIVE_GD:
        _apply(loss_adaptive_gd_step, X, G, S, t, LR, GN, F, hp, no_prep(t, hp, acc))


@njit(**JIT)
def noise_table(seed, steps, d, sigma):
    """sigma * gauss(seed, k, i) for k <= steps: the noise a single run sees (same as a sweep lane)."""
    E = np.empty((steps + 1, d))
    for k in range(steps + 1):
        for i in range(d):
            E[k, i] = sigma * gauss(seed, k, i)
    return E


#: rule id -> (single-run kernel, block kernel)
KERNELS = {
    SGD: (run_sgd, blocks_sgd),
    ADAM: (run_adam, blocks_adam),
    ADAGRAD: (run_adagrad, blocks_adagrad),
    RMSPROP: (run_rmsprop, blocks_rmsprop),
    LION: (run_lion, blocks_lion),
    SIGN: (run_sign, blocks_sign),
    NORMALIZED_GD: (run_normalized_gd, blocks_normalized_gd),
    ADABELIEF: (run_adabelief, blocks_adabelief),
    DIFFGRAD: (run_diffgrad, blocks_diffgrad),
    ADAN: (run_adan, blocks_adan),
    EXADAM: (run_exadam, blocks_exadam),
    LION_K: (run_lion_k, blocks_lion_k),
    LOSS_ADAPTIVE_GD: (run_loss_adaptive_gd, blocks_loss_adaptive_gd),
}
