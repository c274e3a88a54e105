r"""Whole-block ("matrix-aware") update rules.

The elementwise rules in :mod:`labkit.optim` update one coordinate at a time.  The rules
here need a whole parameter block at once: a projection per output row (AdamP, SGDP),
an orthogonalisation (Muon, SWAN), alternating row/column normalisations (SinkGD,
SCALE) or a block norm (Lion-K with K = l2).  Each is one kernel

    <rule>_vstep(x, g, S, t, lr, f, hp, layout, aux)   # updates x and S in place

* ``x`` (d,) the point, ``g`` (d,) the gradient at ``x`` (read only), ``S`` (4, d) state
  slots, ``t`` the 1-based step, ``lr`` this step's (scheduled) step size, ``f`` the loss at
  ``x``, ``hp`` the float hyperparameter vector (order in :data:`HP_ORDER`), ``aux`` (d,) a
  per-step input from the driver (Sophia's Hessian-diagonal estimate, the normalised
  LR+GD factor).
* ``layout`` (nblocks, 3) int64 rows ``(offset, rows, cols)``: ``x`` is the concatenation of
  row-major blocks; ``cols == 0`` is a vector of length ``rows``, ``cols > 0`` a matrix whose
  rows are output units, like torch ``Linear.weight`` (out, in), so
  ``x[o:o + r*c].reshape(r, c)`` is torch's tensor.

``hp`` may be longer than the rule's entries (the engine pads); the constructors in
:mod:`labkit.optim` build it, with the defaults.

Rounding follows torch's CPU kernels where pytorch-optimizer 4.1.0 is the oracle (``lerp``
and ``fma`` from :mod:`labkit._jit`): over 1,000 float64 steps the trajectories are
bitwise equal to po's (SophiaH, most AdamP/SGDP runs) or within 1e-15 of the largest
coordinate (AdamP/SGDP where torch sums a row of > 4 entries in another order; Muon,
where NS's matrix products do), ``tests/test_oracles_matrix.py``.  SWAN and SinkGD have
no reference code: they are reconstructions from the papers' descriptions (spec 16.6).
"""
from __future__ import annotations

import math

import numba
import numpy as np
from numba import njit

from . import _jit
from ._jit import JIT, fma, lerp

# Kernels cache where labkit's other kernels do (see labkit/__init__.py); restored at the end.
_prev_cache_dir = numba.config.CACHE_DIR
_jit.begin_kernel_imports()

from .optim import NHP, NSLOT  # noqa: E402,F401  (hp length and state slots, shared with the engine)

# The hyperparameter vector of each rule, in order; flags are 0.0 / 1.0.  lr is not in hp.
HP_ORDER = {
    "adamp": ("b1", "b2", "eps", "wd", "delta", "wd_ratio", "nesterov", "po_eps"),
    "sgdp": ("mu", "tau", "nesterov", "wd", "delta", "wd_ratio", "eps", "project_buf"),
    "muon": ("mu", "nesterov", "ns_steps", "wd", "adjusted_lr", "ns_eps",
             "adamw_lr_ratio", "adamw_b1", "adamw_b2", "adamw_eps", "adamw_wd"),
    "swan": ("ns_steps", "eps"),
    "sinkgd": ("L",),
    "scale": ("beta", "wd", "adam_b1", "adam_b2", "adam_eps", "adam_lr_ratio", "rms_eps"),
    "sophia": ("b1", "b2", "rho", "wd", "eps", "update_period"),
    "lion_k_l2": ("b1", "b2", "wd"),
    "normalized_lr_gd": (),
}

# ============================================================================ building blocks
@njit(**JIT)
def _size(r, c):
    return r * c if c > 0 else r


@njit(**JIT)
def _norm(a):
    """||a||_2, summed in coordinate order (as torch for rows of <= 4; longer rows differ by an ulp)."""
    s = 0.0
    for v in a:
        s += v * v
    return math.sqrt(s)


@njit(**JIT)
def _last_matrix(layout):
    last = -1
    for k in range(layout.shape[0]):
        if layout[k, 2] > 0:
            last = k
    return last


@njit(**JIT)
def _mm(A, B):
    """A @ B with plain loops (numba's np.dot needs scipy's BLAS)."""
    n, p = A.shape
    q = B.shape[1]
    C = np.zeros((n, q))
    for i in range(n):
        for k in range(p):
            a = A[i, k]
            for j in range(q):
                C[i, j] += a * B[k, j]
    return C


@njit(**JIT)
def _gram(X):
    """X @ X.T."""
    n, p = X.shape
    A = np.empty((n, n))
    for i in range(n):
        for j in range(i + 1):
            s = 0.0
            for k in range(p):
                s += X[i, k] * X[j, k]
            A[i, j] = s
            A[j, i] = s
    return A


@njit(**JIT)
def _adamw_block(x, g, S, o, n, t, lr, b1, b2, eps, wd):
    """torch AdamW on x[o:o+n] with m, v in S[1], S[2] (Muon's AdamW branch in po)."""
    bc1 = 1.0 - b1 ** t
    sqrt_bc2 = math.sqrt(1.0 - b2 ** t)
    if wd != 0.0:
        decay = 1.0 - wd * lr
        for j in range(o, o + n):
            x[j] *= decay
    step = -lr / bc1
    for j in range(o, o + n):
        gj = g[j]
        m = lerp(S[1, j], gj, 1.0 - b1)
        v = lerp(S[2, j], gj * gj, 1.0 - b2)          # po: exp_avg_sq.lerp_(grad.square(), 1 - b2)
        S[1, j] = m
        S[2, j] = v
        x[j] = x[j] + (step * m) / (math.sqrt(v) / sqrt_bc2 + eps)


# ============================================================================ AdamP / SGDP
@njit(**JIT)
def _project(P, G, U, rows, cols, delta, eps):
    """Heo et al.'s projection of the update U (in place); True if it fired.

    Views in order: channel (one row per output unit), then layer (the block as one row).
    In the first view where every row has |cos(G_i, P_i)| < delta / sqrt(D) (D the row
    length), remove the radial part of U row-wise.  cos is torch's F.cosine_similarity:
    <G_i / max(|G_i|, eps), P_i / max(|P_i|, eps)>.
    """
    for view in range(2):
        nr = rows if view == 0 else 1
        nc = cols if view == 0 else rows * cols
        cmax = 0.0
        for i in range(nr):
            Gi = G[i * nc:(i + 1) * nc]
            Pi = P[i * nc:(i + 1) * nc]
            gn = max(_norm(Gi), eps)
            pn = max(_norm(Pi), eps)
            s = 0.0
            for j in range(nc):
                s += (Gi[j] / gn) * (Pi[j] / pn)
            c = abs(s)
            if not c <= cmax:          # max that propagates nan, like torch's max
                cmax = c
        if cmax < delta / math.sqrt(nc):
            for i in range(nr):
                Pi = P[i * nc:(i + 1) * nc]
                Ui = U[i * nc:(i + 1) * nc]
                pn = _norm(Pi) + eps
                radial = 0.0
                for j in range(nc):
                    radial += (Pi[j] / pn) * Ui[j]
                for j in range(nc):
                    Ui[j] -= (Pi[j] / pn) * radial
            return True
    return False


@njit(**JIT)
def adamp_vstep(x, g, S, t, lr, f, hp, layout, aux):
    # AdamP (Heo et al., ICLR 2021; clovaai/AdamP adamp.py).  hp:
    #   0 b1   1 b2   2 eps   3 wd   4 delta   5 wd_ratio   6 nesterov   7 po_eps
    # m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g^2                     (S[0], S[1]; no coupled wd)
    # U = m / D  (nesterov: (b1 m + (1-b1) g) / D),  D = sqrt(v)/sqrt(bc2) + eps   (clovaai)
    #                                                  D = (sqrt(v) + eps)/sqrt(bc2) (po_eps: po)
    # matrix blocks: U <- Pi(U), wd_factor = wd_ratio if the projection fired, else 1
    # x <- x (1 - lr wd wd_factor);  x <- x - (lr/bc1) U
    b1, b2, eps, wd, delta, wd_ratio = hp[0], hp[1], hp[2], hp[3], hp[4], hp[5]
    nesterov, po_eps = hp[6] != 0.0, hp[7] != 0.0
    bc1 = 1.0 - b1 ** t
    sqrt_bc2 = math.sqrt(1.0 - b2 ** t)
    step = lr / bc1
    for k in range(layout.shape[0]):
        o, r, c = layout[k, 0], layout[k, 1], layout[k, 2]
        n = _size(r, c)
        U = np.empty(n)
        for i in range(n):
            j = o + i
            gj = g[j]
            m = lerp(S[0, j], gj, 1.0 - b1)
            v = fma((1.0 - b2) * gj, gj, b2 * S[1, j])
            S[0, j] = m
            S[1, j] = v
            if nesterov:
                m = lerp(m, gj, 1.0 - b1)
            if po_eps:
                U[i] = (1.0 / (math.sqrt(v) + eps) * sqrt_bc2) * m   # po: reciprocal, then * sqrt(bc2)
            else:
                U[i] = m / (math.sqrt(v) / sqrt_bc2 + eps)
        ratio = 1.0
        if c > 0 and _project(x[o:o + n], g[o:o + n], U, r, c, delta, eps):
            ratio = wd_ratio
        if wd != 0.0:
            decay = 1.0 - wd * lr * ratio
            for i in range(n):
                x[o + i] *= decay
        for i in range(n):
            x[o + i] = fma(-step, U[i], x[o + i])


@njit(**JIT)
def sgdp_vstep(x, g, S, t, lr, f, hp, layout, aux):
    # SGDP (Heo et al., ICLR 2021; clovaai/AdamP sgdp.py).  hp:
    #   0 mu   1 tau (dampening)   2 nesterov   3 wd   4 delta   5 wd_ratio   6 eps   7 project_buf
    # b <- mu b + (1 - tau) g   (b_0 = 0, unlike torch SGD's b_1 = g)                    (S[0])
    # U = g + mu b if nesterov else b;  matrix blocks: U <- Pi(U)
    # x <- x (1 - lr wd wd_factor / (1 - mu));  x <- x - lr U
    # project_buf: clovaai's code projects U in place and U *is* the buffer when nesterov is
    # off, so its momentum buffer is projected too; the paper and po project a copy (default).
    mu, tau, wd, delta, wd_ratio, eps = hp[0], hp[1], hp[3], hp[4], hp[5], hp[6]
    nesterov, project_buf = hp[2] != 0.0, hp[7] != 0.0
    for k in range(layout.shape[0]):
        o, r, c = layout[k, 0], layout[k, 1], layout[k, 2]
        n = _size(r, c)
        U = np.empty(n)
        for i in range(n):
            j = o + i
            b = fma(1.0 - tau, g[j], mu * S[0, j])
            S[0, j] = b
            U[i] = b * mu + g[j] if nesterov else b
        ratio = 1.0
        if c > 0 and _project(x[o:o + n], g[o:o + n], U, r, c, delta, eps):
            ratio = wd_ratio
            if project_buf and not nesterov:
                S[0, o:o + n] = U
        if wd != 0.0:
            decay = 1.0 - wd * lr * (ratio / (1.0 - mu))
            for i in range(n):
                x[o + i] *= decay
        for i in range(n):
            x[o + i] = fma(-lr, U[i], x[o + i])


# ============================================================================ Muon
NS_A, NS_B, NS_C = 3.4445, -4.7750, 2.0315


@njit(**JIT)
def newton_schulz5(G, steps, eps):
    """Keller Jordan's quintic Newton-Schulz iteration towards the polar factor of G, in float64.

    X = G / max(||G||_F, eps) (transposed when rows > cols, so X X^T is the small Gram);
    repeat: A = X X^T, B = b A + c A A, X = a X + B X, with (a, b, c) = (3.4445, -4.7750,
    2.0315).  The singular values land in roughly (0.5, 1.5), not at 1 (by design).
    po normalises by max(||X||_F, eps) (KJ: ||X||_F + 1e-7) and runs in bfloat16 by default.
    """
    transpose = G.shape[0] > G.shape[1]
    X = np.ascontiguousarray(G.T) if transpose else G.copy()
    X = X / max(_norm(X.ravel()), eps)
    for _ in range(steps):
        A = _gram(X)
        B = NS_B * A + NS_C * _mm(A, A)
        X = NS_A * X + _mm(B, X)
    return np.ascontiguousarray(X.T) if transpose else X


@njit(**JIT)
def muon_vstep(x, g, S, t, lr, f, hp, layout, aux):
    # Muon (K. Jordan 2024, KellerJordan/Muon; po Muon).  hp:
    #   0 mu   1 nesterov   2 ns_steps   3 wd   4 adjusted_lr   5 ns_eps
    #   6 adamw_lr_ratio   7 adamw_b1   8 adamw_b2   9 adamw_eps   10 adamw_wd
    # matrix blocks:  b <- lerp(b, G, 1 - mu)  (S[0]);  U = lerp(G, b, mu) if nesterov else b
    #                 x <- x (1 - lr wd);  x <- x - lr s NS5(U)
    #                 s = sqrt(max(1, rows/cols))  (KJ, po's default)  |  0.2 sqrt(max(rows, cols))
    #                 (adjusted_lr, Moonlight)
    # vectors: Muon orthogonalises only matrices; po sends the rest to an internal AdamW
    # (use_muon=False groups): betas (0.9, 0.95), eps 1e-10, its own lr (adamw_lr = 3e-4
    # against lr = 0.02, hence the ratio 0.015 here, so a schedule scales both) and weight
    # decay adamw_wd; m, v in S[1], S[2].
    mu, nesterov, steps, wd, adjusted, ns_eps = hp[0], hp[1] != 0.0, int(hp[2]), hp[3], hp[4] != 0.0, hp[5]
    for k in range(layout.shape[0]):
        o, r, c = layout[k, 0], layout[k, 1], layout[k, 2]
        n = _size(r, c)
        if c == 0:
            _adamw_block(x, g, S, o, n, t, lr * hp[6], hp[7], hp[8], hp[9], hp[10])
            continue
        if wd != 0.0:
            decay = 1.0 - wd * lr
            for j in range(o, o + n):
                x[j] *= decay
        U = np.empty(n)
        for i in range(n):
            j = o + i
            b = lerp(S[0, j], g[j], 1.0 - mu)
            S[0, j] = b
            U[i] = lerp(g[j], b, mu) if nesterov else b
        O = newton_schulz5(U.reshape(r, c), steps, ns_eps).ravel()
        if adjusted:
            lr_s = lr * (0.2 * math.sqrt(max(r, c)))
        else:
            lr_s = lr * math.pow(max(1.0, r / c), 0.5)
        for i in range(n):
            x[o + i] = fma(-lr_s, O[i], x[o + i])


# ============================================================================ SWAN
@njit(**JIT)
def _inv_sqrt_ns(A, steps, P):
    """(A/s + P)^{-1/2} and s = ||A||_F, by the coupled Newton-Schulz iteration (Higham 1997).

    A symmetric PSD; P a projector onto a known null space of A (or 0).  Y_0 = A/s + P,
    Z_0 = I; T = (3I - Z Y)/2, Y <- Y T, Z <- T Z; then Z -> (A/s + P)^{-1/2}, which is
    sqrt(s) A^{-1/2} on the range of A.  An eigenvalue l converges once sqrt(l/s) has
    grown to ~1 (x1.5 a step), then quadratically: about log_1.5(n^{1/4} kappa) + 4 steps
    for A = G G^T with n rows and kappa = s_max/s_min of G (measured: 10 steps give 1e-15
    at kappa ~ 4, 15 steps at kappa = 26 with n = 16, where 10 leave 8e-3).  A zero
    eigenvalue that rounding made -1e-17 diverges after ~45 steps; deflate known null
    spaces with P.
    """
    n = A.shape[0]
    s = _norm(A.ravel())
    Z = np.eye(n)
    if s == 0.0:
        return Z * 0.0, 1.0
    Y = A / s + P
    for _ in range(steps):
        T = -0.5 * _mm(Z, Y)
        for i in range(n):
            T[i, i] += 1.5
        Y = _mm(Y, T)
        Z = _mm(T, Z)
    return Z, s


@njit(**JIT)
def swan_vstep(x, g, S, t, lr, f, hp, layout, aux):
    # SWAN (Ma, Gong, Scetbon, Meeds, ICML 2025, arXiv 2412.13148).  RECONSTRUCTION from the
    # paper's description (no reference code found, spec section 16.6).  Stateless.  hp:
    #   0 ns_steps   1 eps
    # GradNorm:      G~ = (G - mean_row) / std_row   (each output row over its columns;
    #                population std, clamped at eps; a common scale does not survive whitening)
    # GradWhitening: dW = (G~ G~^T)^{-1/2} G~ (pseudo-inverse root: the polar factor of G~)
    #                by coupled Newton-Schulz on the Gram (_inv_sqrt_ns, ns_steps iterations);
    #                when rows >= cols we use the equal G~ (G~^T G~)^{-1/2} on the smaller Gram.
    # x <- x - lr dW.  The optional rescaling of dW to ||G~|| is not applied.
    # Vectors: the paper keeps Adam for non-matrix parameters; we take the stateless
    # normalised step x <- x - lr g/||g|| (what whitening a 1 x n row gives, without centring).
    steps, eps = int(hp[0]), hp[1]
    for k in range(layout.shape[0]):
        o, r, c = layout[k, 0], layout[k, 1], layout[k, 2]
        n = _size(r, c)
        if c == 0:
            gn = _norm(g[o:o + n])
            if gn > 0.0:
                for j in range(o, o + n):
                    x[j] -= lr * (g[j] / gn)
            continue
        Gt = g[o:o + n].copy().reshape(r, c)
        for i in range(r):
            mean = 0.0
            for j in range(c):
                mean += Gt[i, j]
            mean /= c
            var = 0.0
            for j in range(c):
                Gt[i, j] -= mean
                var += Gt[i, j] * Gt[i, j]
            sd = max(math.sqrt(var / c), eps)
            for j in range(c):
                Gt[i, j] /= sd
        if r < c:                                   # dW = (G~ G~^T)^{-1/2} G~
            Z, sA = _inv_sqrt_ns(_gram(Gt), steps, np.zeros((r, r)))
            dW = _mm(Z, Gt) / math.sqrt(sA)
        else:                                       # the same matrix, G~ (G~^T G~)^{-1/2}
            # G~ 1 = 0 (centred rows), so 1 spans a null space of the c x c Gram: deflate it
            # (P = 1 1^T / c) so that its rounding-level eigenvalue cannot diverge
            Z, sA = _inv_sqrt_ns(_gram(np.ascontiguousarray(Gt.T)), steps, np.full((c, c), 1.0 / c))
            dW = _mm(Gt, Z) / math.sqrt(sA)
        d = dW.ravel()
        for i in range(n):
            x[o + i] -= lr * d[i]


# ============================================================================ SinkGD
@njit(**JIT)
def sinkgd_vstep(x, g, S, t, lr, f, hp, layout, aux):
    # SinkGD, gradient multi-normalisation (Scetbon, Ma, Gong, Meeds, arXiv 2502.06742).
    # RECONSTRUCTION from the paper's Algorithms 3-4 (spec section 16.6).  Stateless.  hp:
    #   0 L (number of alternations)
    # X = G (m x n);  repeat L times:  rows to l2 norm sqrt(n), then columns to sqrt(m)
    # x <- x - lr X.  A zero row or column stays zero.
    # Vectors: scaled to norm sqrt(len) (the row step of a 1 x len matrix; its column step
    # would be sign(g)).
    L = int(hp[0])
    for k in range(layout.shape[0]):
        o, r, c = layout[k, 0], layout[k, 1], layout[k, 2]
        n = _size(r, c)
        X = g[o:o + n].copy()
        if c == 0:
            gn = _norm(X)
            if gn > 0.0:
                X *= math.sqrt(n) / gn
        else:
            Xm = X.reshape(r, c)                  # a view: the loops below write into X
            for _ in range(L):
                for i in range(r):
                    s = _norm(Xm[i])
                    if s > 0.0:
                        a = math.sqrt(c) / s
                        for j in range(c):
                            Xm[i, j] *= a
                for j in range(c):
                    s = _norm(Xm[:, j])
                    if s > 0.0:
                        a = math.sqrt(r) / s
                        for i in range(r):
                            Xm[i, j] *= a
        for i in range(n):
            x[o + i] -= lr * X[i]


# ============================================================================ SCALE
@njit(**JIT)
def scale_vstep(x, g, S, t, lr, f, hp, layout, aux):
    # SCALE (Glentis, Li, Han, Hong, arXiv 2506.16659), transcribing the authors' code
    # (OptimAI-Lab/Minimalist_LLM_Pretraining, mem_eff_pt/pt_scale/scale_optimizer.py).  hp:
    #   0 beta   1 wd   2 adam_b1   3 adam_b2   4 adam_eps   5 adam_lr_ratio   6 rms_eps
    # matrix blocks: U = G / max(sqrt(mean(G^2, dim=1)), rms_eps)   (each output row to RMS 1;
    #                the abstract's "column" is a column of W^T = (in, out); embeddings,
    #                normalised along dim 0 in that code, are not modelled)
    # last matrix block in layout (the output layer): m <- lerp(m, G, 1 - beta) (EMA, no bias
    #                correction, S[0]), U from m instead of G
    # x <- x (1 - lr wd) - lr U
    # vectors: the code's AdamW, m/(eps + sqrt(v)) * sqrt(bc2)/bc1 (eps not bias-corrected),
    #          lr * adam_lr_ratio, the same wd; m, v in S[1], S[2]
    beta, wd, b1, b2, eps, ratio, rms_eps = hp[0], hp[1], hp[2], hp[3], hp[4], hp[5], hp[6]
    last = _last_matrix(layout)
    for k in range(layout.shape[0]):
        o, r, c = layout[k, 0], layout[k, 1], layout[k, 2]
        n = _size(r, c)
        if c == 0:
            lr_a = ratio * lr
            scale = (1.0 - b1 ** t) / (1.0 - b2 ** t) ** 0.5
            if wd != 0.0:
                decay = 1.0 - lr_a * wd
                for j in range(o, o + n):
                    x[j] *= decay
            for j in range(o, o + n):
                m = lerp(S[1, j], g[j], 1.0 - b1)
                v = lerp(S[2, j], g[j] * g[j], 1.0 - b2)
                S[1, j] = m
                S[2, j] = v
                x[j] = fma(-lr_a / scale, m / (eps + math.sqrt(v)), x[j])
            continue
        M = np.empty(n)
        for i in range(n):
            j = o + i
            if k == last:
                S[0, j] = lerp(S[0, j], g[j], 1.0 - beta)
                M[i] = S[0, j]
            else:
                M[i] = g[j]
        decay = 1.0 - lr * wd
        for i in range(r):
            Mi = M[i * c:(i + 1) * c]
            ms = 0.0
            for j in range(c):
                ms += Mi[j] * Mi[j]
            s = max(math.sqrt(ms / c), rms_eps)
            for j in range(c):
                jj = o + i * c + j
                if wd != 0.0:
                    x[jj] *= decay
                x[jj] = fma(-lr, Mi[j] / s, x[jj])


# ============================================================================ Sophia
@njit(**JIT)
def sophia_vstep(x, g, S, t, lr, f, hp, layout, aux):
    # Sophia, v1 form as po's SophiaH (Liu et al. 2023, arXiv 2305.14342; po sophia.py).  hp:
    #   0 b1   1 b2   2 rho (po's p)   3 wd   4 eps   5 update_period (k)
    # aux = the driver's fresh Hessian-diagonal estimate h^, valid on refresh steps
    # (t - 1) % k == 0 only (po: before the update, at t = 1, k+1, 2k+1, ...).
    # x <- x (1 - lr wd)  (decoupled, first, as po);  m <- lerp(m, g, 1 - b1)   (S[0])
    # refresh steps: h <- lerp(h, h^, 1 - b2)   (S[1])
    # x <- x - lr clip(m / max(h, eps), -rho, rho)    (no bias correction)
    b1, b2, rho, wd, eps, k = hp[0], hp[1], hp[2], hp[3], hp[4], hp[5]
    refresh = (t - 1.0) % k == 0.0
    decay = 1.0 - wd * lr
    for j in range(x.shape[0]):
        if wd != 0.0:
            x[j] *= decay
        m = lerp(S[0, j], g[j], 1.0 - b1)
        S[0, j] = m
        h = S[1, j]
        if refresh:
            h = lerp(h, aux[j], 1.0 - b2)
            S[1, j] = h
        u = m / max(h, eps)
        u = min(max(u, -rho), rho)
        x[j] = fma(-lr, u, x[j])


# ============================================================================ Lion-K, K = l2
@njit(**JIT)
def lion_k_l2_vstep(x, g, S, t, lr, f, hp, layout, aux):
    # Lion-K (Chen, Liu, Liang, Liu, ICLR 2024, arXiv 2310.05898) with K(z) = ||z||_2 per
    # parameter block: grad K(z) = z/||z|| (0 at z = 0).  Lion is K = ||z||_1.  hp:
    #   0 b1   1 b2   2 wd
    # x <- x (1 - lr wd);  c = lerp(m, g, 1 - b1) (OLD m);  x <- x - lr c/||c||;
    # m <- lerp(m, g, 1 - b2)   (S[0]).  With wd, lambda x is pulled into the unit l2 ball.
    b1, b2, wd = hp[0], hp[1], hp[2]
    for k in range(layout.shape[0]):
        o, r, c = layout[k, 0], layout[k, 1], layout[k, 2]
        n = _size(r, c)
        C = np.empty(n)
        for i in range(n):
            C[i] = lerp(S[0, o + i], g[o + i], 1.0 - b1)
        cn = _norm(C)
        for i in range(n):
            j = o + i
            if wd != 0.0:
                x[j] = x[j] * (1.0 - wd * lr)
            if cn > 0.0:
                x[j] = x[j] - lr * (C[i] / cn)
            S[0, j] = lerp(S[0, j], g[j], 1.0 - b2)


# ============================================================================ normalized LR+GD
@njit(**JIT)
def normalized_lr_gd_vstep(x, g, S, t, lr, f, hp, layout, aux):
    # Normalized LR+GD (Tyurin, arXiv 2412.08424, section 6; spec section 16.1):
    # x <- x - lr beta_t g,  beta_t = [ (1/n) sum_i (1 + exp(y_i a_i^T x))^{-1} ]^{-1}
    # computed by the driver from the data and passed as aux[0].  No hp, no state.
    s = lr * aux[0]
    for j in range(x.shape[0]):
        x[j] = fma(-s, g[j], x[j])


numba.config.CACHE_DIR = _prev_cache_dir
