"""Numba kernels of ``lk.threebody``: Newtonian gravity, its invariants, five integrators.

Layout.  A state of ``n`` bodies in ``d`` = 2 or 3 dimensions is a flat float64 vector
``x[i*d + k]`` (coordinate ``k`` of body ``i``), and so are ``v`` and the Kahan
compensations ``cx``, ``cv``.  Every integrator is one cached kernel with the same
signature::

    kernel(m, G, d, x, v, cx, cv, mem, s, c, p, t_end, max_steps, record, ht, hdt) -> status

It advances the state *in place* until ``t_end`` (hit exactly: the last step is
shortened), so an environment can call it every 0.1 time units for ~1 us of overhead.
``mem`` rows hold what an integrator carries from one step to the next (accelerations,
jerks, IAS15's predictor polynomial), ``s`` the float scalars (``S_*`` slots), ``c`` the
counters (``C_*`` slots), ``p`` the integrator's hyperparameters.  When ``record`` is
true, each accepted step appends its end time and size to ``ht``/``hdt`` and the kernel
returns ``HIST_FULL`` when they are full (the caller grows them and calls again: the
state is always consistent between steps).

One kernel per integrator, not one kernel with an integrator switch: compilation is
lazy, so a notebook that uses Hermite pays only for Hermite (spec numba-performance §3a).
Each kernel is self-contained in this file, so Numba's per-file cache invalidation is
exact (a callee in another file would not invalidate the caller, spec §3b).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._jit import JIT

# Integrator kinds (mem is re-initialised when the kind changes between calls).
LEAPFROG, RK4, HERMITE, HERMITE_AARSETH, IAS15 = range(5)

# Status codes returned by every kernel.
DONE, HIST_FULL, MAX_STEPS, NONFINITE, STALL = range(5)

# Float scalars s[...]: time (Kahan sum t + compensation), proposed next step, spare.
S_T, S_TC, S_DT, S_AUX = range(4)
N_S = 4
# Counters c[...]: accepted steps, force evaluations, rejected steps, IAS15 corrector
# iterations, entries written to ht/hdt, kind whose memory is valid (-1: none).
C_STEPS, C_EVALS, C_REJECTED, C_ITERS, C_HIST, C_MEMKIND = range(6)
N_C = 6
N_MEM = 22          # rows of mem: IAS15 needs a0, b (7), its prediction (7), a saved copy (7)

_END_RTOL = 1e-10   # a step within this relative distance of t_end finishes there


# ----------------------------------------------------------------------------- gravity

@njit(**JIT)
def accel(m, G, d, x, a):
    """a_i = sum_{j != i} G m_j (x_j - x_i) / |x_j - x_i|^3."""
    n = m.size
    for k in range(n * d):
        a[k] = 0.0
    for i in range(n):
        ii = i * d
        for j in range(i + 1, n):
            jj = j * d
            dx = x[jj] - x[ii]
            dy = x[jj + 1] - x[ii + 1]
            dz = x[jj + 2] - x[ii + 2] if d == 3 else 0.0
            r2 = dx * dx + dy * dy + dz * dz
            inv3 = G / (r2 * math.sqrt(r2))
            mi = m[i] * inv3
            mj = m[j] * inv3
            a[ii] += mj * dx
            a[ii + 1] += mj * dy
            a[jj] -= mi * dx
            a[jj + 1] -= mi * dy
            if d == 3:
                a[ii + 2] += mj * dz
                a[jj + 2] -= mi * dz


@njit(**JIT)
def accel_jerk(m, G, d, x, v, a, jk):
    """Acceleration and jerk (its time derivative); returns the paper's collision time.

    jerk_i = sum_j G m_j [v_ij / r^3 - 3 (r_ij . v_ij) r_ij / r^5], and the collision time
    min over pairs of min(r / |v_ij|, sqrt(r^3 / (G (m_i + m_j)))) (AMUSE hermite0).
    """
    n = m.size
    for k in range(n * d):
        a[k] = 0.0
        jk[k] = 0.0
    tc2 = math.inf                     # squared collision time
    for i in range(n):
        ii = i * d
        for j in range(i + 1, n):
            jj = j * d
            dx = x[jj] - x[ii]
            dy = x[jj + 1] - x[ii + 1]
            du = v[jj] - v[ii]
            dw = v[jj + 1] - v[ii + 1]
            if d == 3:
                dz = x[jj + 2] - x[ii + 2]
                dq = v[jj + 2] - v[ii + 2]
            else:
                dz = 0.0
                dq = 0.0
            r2 = dx * dx + dy * dy + dz * dz
            v2 = du * du + dw * dw + dq * dq
            rv = dx * du + dy * dw + dz * dq
            inv3 = G / (r2 * math.sqrt(r2))
            s3 = 3.0 * rv / r2
            mi = m[i] * inv3
            mj = m[j] * inv3
            jx = du - s3 * dx
            jy = dw - s3 * dy
            a[ii] += mj * dx
            a[ii + 1] += mj * dy
            a[jj] -= mi * dx
            a[jj + 1] -= mi * dy
            jk[ii] += mj * jx
            jk[ii + 1] += mj * jy
            jk[jj] -= mi * jx
            jk[jj + 1] -= mi * jy
            if d == 3:
                jz = dq - s3 * dz
                a[ii + 2] += mj * dz
                a[jj + 2] -= mi * dz
                jk[ii + 2] += mj * jz
                jk[jj + 2] -= mi * jz
            if v2 > 0.0:
                tc2 = min(tc2, r2 / v2)
            tc2 = min(tc2, r2 * math.sqrt(r2) / (G * (m[i] + m[j])))
    return math.sqrt(tc2)


@njit(**JIT)
def collision_time(m, G, d, x, v):
    """min over pairs of min(r / |v_ij|, sqrt(r^3 / (G (m_i + m_j))))."""
    n = m.size
    tc2 = math.inf
    for i in range(n):
        for j in range(i + 1, n):
            r2 = 0.0
            v2 = 0.0
            for k in range(d):
                dx = x[j * d + k] - x[i * d + k]
                du = v[j * d + k] - v[i * d + k]
                r2 += dx * dx
                v2 += du * du
            if v2 > 0.0:
                tc2 = min(tc2, r2 / v2)
            tc2 = min(tc2, r2 * math.sqrt(r2) / (G * (m[i] + m[j])))
    return math.sqrt(tc2)


@njit(**JIT)
def energies(m, G, d, X, V, out):
    """Total energy E = sum m v^2 / 2 - sum_{i<j} G m_i m_j / r_ij of each row of X, V."""
    n = m.size
    for t in range(X.shape[0]):
        kin = 0.0
        pot = 0.0
        for i in range(n):
            for k in range(d):
                kin += 0.5 * m[i] * V[t, i * d + k] * V[t, i * d + k]
            for j in range(i + 1, n):
                r2 = 0.0
                for k in range(d):
                    dx = X[t, j * d + k] - X[t, i * d + k]
                    r2 += dx * dx
                pot -= G * m[i] * m[j] / math.sqrt(r2)
        out[t] = kin + pot


# ----------------------------------------------------------------------------- helpers

@njit(**JIT)
def kadd(x, cx, k, dx):
    """x[k] += dx with Kahan's compensation cx[k] (the rounding error carried to the next add)."""
    y = dx - cx[k]
    t = x[k] + y
    cx[k] = (t - x[k]) - y
    x[k] = t


@njit(**JIT)
def kadd2(b, cb, j, i, db):
    """b[j, i] += db, compensated."""
    y = db - cb[j, i]
    t = b[j, i] + y
    cb[j, i] = (t - b[j, i]) - y
    b[j, i] = t


@njit(**JIT)
def advance_time(s, h, last, t_end):
    """t += h (compensated); the last step of a call lands on t_end exactly."""
    if last:
        s[S_T] = t_end
        s[S_TC] = 0.0
    else:
        y = h - s[S_TC]
        t = s[S_T] + y
        s[S_TC] = (t - s[S_T]) - y
        s[S_T] = t


@njit(**JIT)
def all_finite(x, v):
    for k in range(x.size):
        if not (math.isfinite(x[k]) and math.isfinite(v[k])):
            return False
    return True


@njit(**JIT)
def push(record, c, ht, hdt, t, h):
    if record:
        k = c[C_HIST]
        ht[k] = t
        hdt[k] = h
        c[C_HIST] = k + 1


# Each integrator below repeats the head of its loop (stop at t_end, a full history or
# max_steps) and its tail (count the step, advance t, record, check finiteness) on purpose.
# Factored into two shared kernels, called or inlined at Numba-IR level, the same
# trajectories bit for bit ran slower: Hermite 1.8x, leapfrog 2.3x, RK4 1.5x (2026-12-01).


# ----------------------------------------------------------------------------- leapfrog

@njit(nogil=True, **JIT)
def leapfrog(m, G, d, x, v, cx, cv, mem, s, c, p, t_end, max_steps, record, ht, hdt):
    """Kick-drift-kick leapfrog (velocity Verlet), fixed step p[0]; one force evaluation a step."""
    N = x.size
    a = mem[0]
    if c[C_MEMKIND] != LEAPFROG:
        accel(m, G, d, x, a)
        c[C_EVALS] += 1
        c[C_MEMKIND] = LEAPFROG
    dt = p[0]
    taken = 0
    while True:
        rem = t_end - s[S_T]
        if rem <= 0.0:
            return DONE
        if record and c[C_HIST] >= ht.size:
            return HIST_FULL
        if taken >= max_steps:
            return MAX_STEPS
        last = rem <= dt * (1.0 + _END_RTOL)
        h = rem if last else dt
        for k in range(N):
            v[k] += 0.5 * h * a[k]
            kadd(x, cx, k, h * v[k])
        accel(m, G, d, x, a)
        for k in range(N):
            kadd(v, cv, k, 0.5 * h * a[k])
        c[C_EVALS] += 1
        c[C_STEPS] += 1
        taken += 1
        advance_time(s, h, last, t_end)
        push(record, c, ht, hdt, s[S_T], h)
        if not all_finite(x, v):
            return NONFINITE


# ----------------------------------------------------------------------------- RK4

@njit(nogil=True, **JIT)
def rk4(m, G, d, x, v, cx, cv, mem, s, c, p, t_end, max_steps, record, ht, hdt):
    """Classical 4th-order Runge-Kutta on (x, v), fixed step p[0]; four evaluations a step."""
    N = x.size
    c[C_MEMKIND] = RK4
    a1 = mem[0]
    a2 = mem[1]
    a3 = mem[2]
    a4 = mem[3]
    xs = mem[4]
    v2 = mem[5]
    v3 = mem[6]
    v4 = mem[7]
    dt = p[0]
    taken = 0
    while True:
        rem = t_end - s[S_T]
        if rem <= 0.0:
            return DONE
        if record and c[C_HIST] >= ht.size:
            return HIST_FULL
        if taken >= max_steps:
            return MAX_STEPS
        last = rem <= dt * (1.0 + _END_RTOL)
        h = rem if last else dt
        accel(m, G, d, x, a1)
        for k in range(N):
            xs[k] = x[k] + 0.5 * h * v[k]
            v2[k] = v[k] + 0.5 * h * a1[k]
        accel(m, G, d, xs, a2)
        for k in range(N):
            xs[k] = x[k] + 0.5 * h * v2[k]
            v3[k] = v[k] + 0.5 * h * a2[k]
        accel(m, G, d, xs, a3)
        for k in range(N):
            xs[k] = x[k] + h * v3[k]
            v4[k] = v[k] + h * a3[k]
        accel(m, G, d, xs, a4)
        for k in range(N):
            kadd(x, cx, k, h / 6.0 * (v[k] + 2.0 * (v2[k] + v3[k]) + v4[k]))
            kadd(v, cv, k, h / 6.0 * (a1[k] + 2.0 * (a2[k] + a3[k]) + a4[k]))
        c[C_EVALS] += 4
        c[C_STEPS] += 1
        taken += 1
        advance_time(s, h, last, t_end)
        push(record, c, ht, hdt, s[S_T], h)
        if not all_finite(x, v):
            return NONFINITE


# ----------------------------------------------------------------------------- Hermite

@njit(**JIT)
def _aarseth_dt(d, eta, a, jk, a2, a3):
    """min over bodies of sqrt(eta (|a||a2| + |j|^2) / (|j||a3| + |a2|^2))  (Aarseth 1985)."""
    n = a.size // d
    best = math.inf
    for i in range(n):
        na = 0.0
        nj = 0.0
        n2 = 0.0
        n3 = 0.0
        for k in range(d):
            q = i * d + k
            na += a[q] * a[q]
            nj += jk[q] * jk[q]
            n2 += a2[q] * a2[q]
            n3 += a3[q] * a3[q]
        na, nj, n2, n3 = math.sqrt(na), math.sqrt(nj), math.sqrt(n2), math.sqrt(n3)
        den = nj * n3 + n2 * n2
        if den > 0.0:
            best = min(best, math.sqrt(eta * (na * n2 + nj * nj) / den))
    return best


@njit(**JIT)
def _hermite(aarseth, m, G, d, x, v, cx, cv, mem, s, c, p, t_end, max_steps, record, ht, hdt):
    """4th-order Hermite predict-evaluate-correct with a shared adaptive step.

    Step rule: dt = mu * collision time (p[0] = mu, the paper's) or Aarseth's (p[0] = eta).
    p[1] != 0: Kahan-compensated corrector updates.
    """
    N = x.size
    a0 = mem[0]
    j0 = mem[1]
    a2 = mem[2]          # snap and crackle at the current time (Aarseth rule)
    a3 = mem[3]
    xp = mem[4]
    vp = mem[5]
    a1 = mem[6]
    j1 = mem[7]
    kind = HERMITE_AARSETH if aarseth else HERMITE
    eta = p[0]
    kahan = p[1] != 0.0
    if c[C_MEMKIND] != kind:
        s[S_AUX] = accel_jerk(m, G, d, x, v, a0, j0)
        c[C_EVALS] += 1
        c[C_MEMKIND] = kind
        s[S_DT] = -1.0   # no snap/crackle yet: the Aarseth rule needs a start-up step
    taken = 0
    while True:
        rem = t_end - s[S_T]
        if rem <= 0.0:
            return DONE
        if record and c[C_HIST] >= ht.size:
            return HIST_FULL
        if taken >= max_steps:
            return MAX_STEPS
        if aarseth:
            if s[S_DT] > 0.0:
                dt = _aarseth_dt(d, eta, a0, j0, a2, a3)
            else:
                # start-up from the collision time: |a|/|j|, the usual start, is 0 for a
                # body whose acceleration vanishes (the figure-eight's middle one at t = 0)
                dt = 0.1 * math.sqrt(eta) * s[S_AUX]
        else:
            dt = eta * s[S_AUX]
        if not (dt > 0.0 and math.isfinite(dt)):
            return NONFINITE
        if dt < 1e-15 * abs(s[S_T]) or dt < 1e-300:
            return STALL
        last = rem <= dt * (1.0 + _END_RTOL)
        h = rem if last else dt
        h2 = h * h / 2.0
        h3 = h * h * h / 6.0
        for k in range(N):
            xp[k] = x[k] + h * v[k] + h2 * a0[k] + h3 * j0[k]
            vp[k] = v[k] + h * a0[k] + h2 * j0[k]
        tcoll = accel_jerk(m, G, d, xp, vp, a1, j1)
        c[C_EVALS] += 1
        # corrector (Makino & Aarseth 1992), written as increments so they can be compensated
        hh = h * h / 12.0
        for k in range(N):
            dv = 0.5 * h * (a0[k] + a1[k]) + hh * (j0[k] - j1[k])
            dx = 0.5 * h * (2.0 * v[k] + dv) + hh * (a0[k] - a1[k])     # v0 + v1 = 2 v0 + dv
            if kahan:
                kadd(v, cv, k, dv)
                kadd(x, cx, k, dx)
            else:
                v[k] += dv
                x[k] += dx
        if aarseth:
            if s[S_DT] > 0.0 and h < 0.5 * dt:
                # a shortened last step: its differences are mostly roundoff, carry the old ones
                for k in range(N):
                    a2[k] += h * a3[k]
            else:
                # Hermite interpolation of a over the step: snap and crackle at its end
                ih = 1.0 / h
                for k in range(N):
                    da = a0[k] - a1[k]
                    s0 = (-6.0 * da - h * (4.0 * j0[k] + 2.0 * j1[k])) * ih * ih
                    c0 = (12.0 * da + 6.0 * h * (j0[k] + j1[k])) * ih * ih * ih
                    a2[k] = s0 + h * c0
                    a3[k] = c0
            s[S_DT] = 1.0
        # PEC: the next step starts from the force and jerk evaluated at the predicted state,
        # and so does its collision time (equal to the corrected state's to O(h^4))
        for k in range(N):
            a0[k] = a1[k]
            j0[k] = j1[k]
        s[S_AUX] = tcoll
        c[C_STEPS] += 1
        taken += 1
        advance_time(s, h, last, t_end)
        push(record, c, ht, hdt, s[S_T], h)
        if not all_finite(x, v):
            return NONFINITE


@njit(nogil=True, **JIT)
def hermite(m, G, d, x, v, cx, cv, mem, s, c, p, t_end, max_steps, record, ht, hdt):
    """Hermite with the paper's rule dt = mu * collision time (p[0] = mu)."""
    return _hermite(False, m, G, d, x, v, cx, cv, mem, s, c, p, t_end, max_steps, record, ht, hdt)


@njit(nogil=True, **JIT)
def hermite_aarseth(m, G, d, x, v, cx, cv, mem, s, c, p, t_end, max_steps, record, ht, hdt):
    """Hermite with Aarseth's (1985) rule (p[0] = eta)."""
    return _hermite(True, m, G, d, x, v, cx, cv, mem, s, c, p, t_end, max_steps, record, ht, hdt)


# ----------------------------------------------------------------------------- IAS15

# Gauss-Radau spacings h_1..h_7 on [0, 1] (h_0 = 0): the roots of
# (P_7 + P_8)(2h - 1) / h, as in Everhart (1985) and REBOUND's integrator_ias15.c.
RADAU_H = np.array([0.0, 0.0562625605369221464656521910318, 0.180240691736892364987579942780,
                    0.352624717113169637373907769648, 0.547153626330555383001448554766,
                    0.734210177215410531523210605558, 0.885320946839095768090359771030,
                    0.977520613561287501891174488626])


def _newton_to_power():
    """C with b_j = sum_k C[j, k] g_k: the power coefficients (tau^(j+1)) of the Newton
    basis N_{k+1}(tau) = tau prod_{i=1..k} (tau - h_i), and D = C^-1."""
    C = np.zeros((7, 7))
    for k in range(7):
        poly = np.array([0.0, 1.0])                        # tau, coefficients low to high
        for i in range(1, k + 1):
            poly = np.convolve(poly, [-RADAU_H[i], 1.0])
        C[: k + 1, k] = poly[1:]
    return C, np.linalg.inv(C)


RADAU_C, RADAU_D = _newton_to_power()
_BINOM = np.array([[math.comb(k + 1, j + 1) for k in range(7)] for j in range(7)], dtype=np.float64)
_SAFETY = 0.25            # REBOUND's safety_factor: reject below 1/4 of the step, grow at most 4x
_PC_EPS = 1e-16           # predictor-corrector convergence (REBOUND's)
_PC_MAX = 12


@njit(**JIT)
def shift_poly(src, dst, sft, q):
    """Re-expand a(tau) = a0 + sum_j b_j tau^(j+1) about tau = sft with step scaled by q.

    dst_j = q^(j+1) sum_{k>=j} binom(k+1, j+1) sft^(k-j) src_k.  sft = 1 is REBOUND's
    next-step prediction, sft = 0 a pure rescaling (a rejected or shortened step).
    """
    N = src.shape[1]
    for j in range(7):
        qj = q ** (j + 1)
        for i in range(N):
            acc = 0.0
            pw = 1.0
            for k in range(j, 7):
                acc += _BINOM[j, k] * pw * src[k, i]
                pw *= sft
            dst[j, i] = qj * acc


@njit(nogil=True, **JIT)
def ias15(m, G, d, x, v, cx, cv, mem, s, c, p, t_end, max_steps, record, ht, hdt):
    """IAS15 (Rein & Spiegel 2015): 15th-order Gauss-Radau predictor-corrector, adaptive.

    p[0] = epsilon.  Step control is REBOUND's "global" rule: the relative size of the
    last term, max|b_7| / max|a| over *all* coordinates, is kept at epsilon, dt_new =
    dt (epsilon / err)^(1/7).  REBOUND's default (PRS23) takes a minimum over bodies of
    per-body time scales and stalls when one body's acceleration passes through zero
    (the figure-eight at T/6); the global ratio cannot.
    """
    N = x.size
    eps = p[0]
    a0 = mem[0]
    b = mem[1:8]
    pred = mem[8:15]         # the plain extrapolation b started from (before the correction)
    saved = mem[15:22]       # the prediction before a shortened last step
    g = np.empty((7, N))
    xp = np.empty(N)
    at = np.empty(N)
    corr = np.empty((7, N))
    csb = np.empty((7, N))   # compensations of b's corrections (as REBOUND)
    if c[C_MEMKIND] != IAS15:
        b[:, :] = 0.0
        pred[:, :] = 0.0
        s[S_DT] = 0.01 * collision_time(m, G, d, x, v)
        c[C_MEMKIND] = IAS15
    taken = 0
    while True:
        rem = t_end - s[S_T]
        if rem <= 0.0:
            return DONE
        if record and c[C_HIST] >= ht.size:
            return HIST_FULL
        if taken >= max_steps:
            return MAX_STEPS
        dt_prop = s[S_DT]
        dt = dt_prop
        short = False
        if rem < dt * (1.0 + _END_RTOL):
            if rem < dt:
                short = True
                saved[:, :] = b
                shift_poly(saved, b, 0.0, rem / dt)
                shift_poly(pred, corr, 0.0, rem / dt)
                pred[:, :] = corr
            dt = rem
        last = rem <= dt
        accel(m, G, d, x, a0)
        c[C_EVALS] += 1
        csb[:, :] = 0.0
        # g from b (the Newton form of the same polynomial)
        for kk in range(7):
            for i in range(N):
                acc = 0.0
                for j in range(kk, 7):
                    acc += RADAU_D[kk, j] * b[j, i]
                g[kk, i] = acc
        # predictor-corrector iterations
        pce = 1e300
        pce_last = 2.0
        it = 0
        maxa = 0.0
        while True:
            if pce < _PC_EPS:
                break
            if it > 2 and pce_last <= pce:
                break
            if it >= _PC_MAX:
                break
            pce_last = pce
            it += 1
            for n in range(1, 8):
                hn = RADAU_H[n]
                hd = hn * dt
                for i in range(N):
                    poly = hn * (b[0, i] / 6.0 + hn * (b[1, i] / 12.0 + hn * (b[2, i] / 20.0 + hn * (
                        b[3, i] / 30.0 + hn * (b[4, i] / 42.0 + hn * (b[5, i] / 56.0 + hn * b[6, i] / 72.0))))))
                    xp[i] = x[i] + (hd * hd * (0.5 * a0[i] + poly) + hd * v[i] - cx[i])
                accel(m, G, d, xp, at)
                c[C_EVALS] += 1
                maxd = 0.0
                maxa = 0.0
                for i in range(N):
                    val = (at[i] - a0[i]) / hn
                    for q in range(1, n):
                        val = (val - g[q - 1, i]) / (hn - RADAU_H[q])
                    tmp = val - g[n - 1, i]
                    g[n - 1, i] = val
                    for j in range(n):
                        kadd2(b, csb, j, i, tmp * RADAU_C[j, n - 1])
                    if n == 7:
                        maxd = max(maxd, abs(tmp))
                        maxa = max(maxa, abs(at[i]))
            pce = maxd / maxa
        c[C_ITERS] += it
        # step-size control (global)
        maxb = 0.0
        for i in range(N):
            maxb = max(maxb, abs(b[6, i]))
        err = maxb / maxa
        if not math.isfinite(err):
            return NONFINITE
        dt_new = dt * (eps / err) ** (1.0 / 7.0) if err > 0.0 else dt / _SAFETY
        if dt_new < _SAFETY * dt:
            if dt_new < 1e-15 * abs(s[S_T]) or dt_new < 1e-300:
                return STALL
            # reject: redo from the same state with the smaller step, predictor rescaled
            c[C_REJECTED] += 1
            taken += 1
            shift_poly(b, corr, 0.0, dt_new / dt)
            b[:, :] = corr
            pred[:, :] = corr
            s[S_DT] = dt_new
            continue
        # accept: x += dt v + dt^2 (a0/2 + sum_j b_j / ((j+1)(j+2))), v += dt (a0 + sum_j b_j / (j+1))
        # (term by term, smallest first, each compensated: as REBOUND)
        dt2 = dt * dt
        for i in range(N):
            for j in range(6, -1, -1):
                kadd(x, cx, i, b[j, i] * dt2 / ((j + 2) * (j + 3)))
            kadd(x, cx, i, 0.5 * a0[i] * dt2)
            kadd(x, cx, i, v[i] * dt)
            for j in range(6, -1, -1):
                kadd(v, cv, i, b[j, i] * dt / (j + 2))
            kadd(v, cv, i, a0[i] * dt)
        c[C_STEPS] += 1
        taken += 1
        advance_time(s, dt, last, t_end)
        push(record, c, ht, hdt, s[S_T], dt)
        if not all_finite(x, v):
            return NONFINITE
        dt_new = min(dt_new, dt / _SAFETY)
        if short and dt < _SAFETY * dt_prop:
            # a short step that only reached t_end: keep the proposal and predict from the
            # polynomial of the full step, moved to the new start (a tiny step's own
            # polynomial, extrapolated > 4x, would be a poor guess)
            s[S_DT] = dt_prop
            shift_poly(saved, b, dt / dt_prop, 1.0)
            pred[:, :] = b
            continue
        dt_next = min(dt_new, dt_prop) if short else dt_new
        s[S_DT] = dt_next
        # REBOUND's predictor: the converged polynomial moved to the end of the step, plus
        # the correction the last prediction needed
        for j in range(7):
            for i in range(N):
                corr[j, i] = b[j, i] - pred[j, i]
        shift_poly(b, pred, 1.0, dt_next / dt)
        for j in range(7):
            for i in range(N):
                b[j, i] = pred[j, i] + corr[j, i]


# ----------------------------------------------------------------------------- one RL decision

@njit(nogil=True, **JIT)
def hermite_decision(m, G, d, x, v, cx, cv, mem, s, c, p, mu, t_nom, exact, max_steps, ht, e0, x_scale,
                     err_floor, eout, obs):
    """One decision of ``labkit.timestep_rl.TimestepEnv`` in one call (Python calls cost ~1 us
    each, and a decision made four of them): Hermite with ``p[0] = mu`` to ``t_nom``, the
    relative energy error, and the 13-number observation written to ``obs``.

    ``exact``: stop at ``t_nom``.  Otherwise natural ends: the whole steps that fit (target
    ``t_nom + h/2``, a guard should steps grow), then single natural steps until within
    ``h/2`` of ``t_nom`` (``h``: the step the rule proposes there); no shortened step, and
    no step at all when one spans more than the interval.  Returns ``(ok, err)``; ``err`` is
    ``inf`` when the integration failed or the energy is not finite.
    """
    ok = True
    p[0] = mu
    if exact:
        ok = hermite(m, G, d, x, v, cx, cv, mem, s, c, p, t_nom, max_steps, False, ht, ht) == DONE
    else:
        if c[C_MEMKIND] != HERMITE:             # first call: evaluate the force and jerk
            ok = hermite(m, G, d, x, v, cx, cv, mem, s, c, p, s[S_T], 1, False, ht, ht) == DONE
        budget = max_steps
        while ok:
            h = mu * s[S_AUX]
            t = s[S_T]
            if not (h > 0.0 and math.isfinite(h)):
                ok = False
                break
            rem = t_nom - t
            if rem <= 0.5 * h:
                break
            fit = rem / h - 0.5
            if fit >= 1.0:                      # whole steps that fit, at most up to t_nom + h/2
                n = budget if fit >= budget else int(fit)
                status = hermite(m, G, d, x, v, cx, cv, mem, s, c, p, t_nom + 0.5 * h, n, False, ht, ht)
                budget -= n
            else:                               # one natural step (ends past t_nom - h/2)
                status = hermite(m, G, d, x, v, cx, cv, mem, s, c, p, t + h, 1, False, ht, ht)
                budget -= 1
            if (status != DONE and status != MAX_STEPS) or budget <= 0:
                ok = False
    err = math.inf
    if ok:
        energies(m, G, d, x.reshape(1, -1), v.reshape(1, -1), eout)
        err = (eout[0] - e0) / abs(e0)
        if not math.isfinite(err):
            err = math.inf
    for i in range(6):
        obs[i] = x[i] / x_scale
        obs[6 + i] = v[i]
    e = abs(err)
    if not math.isfinite(e):
        le = 0.0
    elif e > err_floor:
        le = math.log10(e)
    else:
        le = math.log10(err_floor)
    obs[12] = -le / 10.0
    return ok, err
