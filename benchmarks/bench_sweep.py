"""A batched sweep: 1,024 log-spaced lrs (1e-4..1e-1) x 10,000 Adam steps on 2-D Rosenbrock.

Multi-threaded, so the figures are wall time.  Variants, timed in one set of interleaved
rounds: ``lk.sweep`` on all of Numba's threads, the same with ``numba.set_num_threads(1)``
(``lk.sweep`` sizes its thread pool with ``numba.get_num_threads()``), and the same Adam
vectorised over the batch in NumPy, twice:

* *fma-emulated*: labkit's Adam rounds like torch's (``lerp`` and ``addcmul`` are fused
  multiply-adds), which NumPy cannot express directly; an error-free ``two_prod``/
  ``two_sum`` emulation of fma reproduces it.  This is the reference: its end points
  must equal the sweep's to 1e-10 before it is timed.
* *plain*: the same equations as a NumPy user would write them (no fma).  Rounding
  differs by an ulp here and there, which Rosenbrock amplifies: reported, not required
  to match.
"""
from __future__ import annotations

import numpy as np

from _timing import Row, interleaved, row

SECTION = "sweep"
STEPS = 10_000
LANES = 1_024
LRS = np.logspace(-4, -1, LANES)
B1, B2, EPS = 0.9, 0.999, 1e-8
_SPLIT = 134217729.0      # 2**27 + 1, Veltkamp's splitter for float64


def _two_prod(p, q):
    """p*q = s + e exactly (Dekker)."""
    s = p * q
    c = _SPLIT * p
    ph = c - (c - p)
    pl = p - ph
    c = _SPLIT * q
    qh = c - (c - q)
    ql = q - qh
    return s, ((ph * qh - s) + ph * ql + pl * qh) + pl * ql


def _fma(p, q, r):
    """p*q + r with (almost always) one rounding, from error-free transformations."""
    s, e = _two_prod(p, q)
    u = s + r
    z = u - s
    t = (s - (u - z)) + (r - z)          # two_sum error of s + r
    return u + (t + e)


def adam_numpy(x0, lrs, steps, a=1.0, b=100.0, fused=True):
    """Adam (torch's rounding when ``fused``) on Rosenbrock, lanes vectorised; returns x (2, L)."""
    L = lrs.size
    x = np.repeat(np.asarray(x0, dtype=np.float64).reshape(2, 1), L, axis=1)
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    g = np.empty_like(x)
    w1, w2 = 1.0 - B1, 1.0 - B2
    for k in range(steps):
        u, w = x[0], x[1]
        r = w - u * u
        g[0] = -4.0 * b * u * r - 2.0 * (a - u)      # same operation order as the kernel
        g[1] = 2.0 * b * r
        t = k + 1
        bc1 = 1.0 - B1 ** t                            # Python's pow: what torch uses
        sqrt_bc2 = np.sqrt(1.0 - B2 ** t)
        if fused:
            m = _fma(w1, g - m, m)                     # torch.lerp(m, g, 1 - b1), |w| < 0.5
            v = _fma(w2 * g, g, B2 * v)                # v.mul_(b2).addcmul_(g, g, value=1 - b2)
        else:
            m = m + w1 * (g - m)
            v = B2 * v + w2 * g * g
        x = x + (-(lrs / bc1) * m) / (np.sqrt(v) / sqrt_bc2 + EPS)
    return x


def measure(rounds: int = 7) -> tuple[list[Row], dict]:
    import warnings

    import numba

    import labkit as lk

    p = lk.problems.rosenbrock()
    threads = numba.config.NUMBA_NUM_THREADS

    def sweep(n_threads):
        numba.set_num_threads(n_threads)
        try:
            return lk.sweep(p, "adam", STEPS, lr=LRS, progress=False)
        finally:
            numba.set_num_threads(threads)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # a diverged lane is checked below, not warned about
        df = sweep(threads)
    assert df.lr.to_numpy().tolist() == LRS.tolist()
    x_sweep = np.vstack([df.x_final_0.to_numpy(), df.x_final_1.to_numpy()])
    ok = ~df.diverged.to_numpy()
    x_fused = adam_numpy(p.x0, LRS, STEPS, fused=True)
    x_plain = adam_numpy(p.x0, LRS, STEPS, fused=False)
    diff_fused = float(np.max(np.abs(x_fused[:, ok] - x_sweep[:, ok]))) if ok.any() else float("nan")
    diff_plain = float(np.max(np.abs(x_plain[:, ok] - x_sweep[:, ok]))) if ok.any() else float("nan")
    lanes_off_plain = int(np.sum(np.max(np.abs(x_plain[:, ok] - x_sweep[:, ok]), axis=0) > 1e-10))
    if not diff_fused <= 1e-10:
        raise AssertionError(f"NumPy reference does not reproduce lk.sweep: max |dx| = {diff_fused:.3g}")

    variants = {
        f"sweep {threads} threads": lambda: sweep(threads),
        "sweep 1 thread": lambda: sweep(1),
        "numpy fused": lambda: adam_numpy(p.x0, LRS, STEPS, fused=True),
        "numpy plain": lambda: adam_numpy(p.x0, LRS, STEPS, fused=False),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = interleaved(variants, rounds=rounds, min_sample_s=0.1)

    ms = 1e3
    base = stats[f"sweep {threads} threads"].median("wall")
    lane_steps = LANES * STEPS

    def rate(key):
        return f"{lane_steps / stats[key].median('wall') / 1e6:,.0f} M lane-steps/s"

    rows = [
        row(SECTION, f"lk.sweep, {LANES:,} lrs x {STEPS:,} Adam steps, {threads} threads",
            stats[f"sweep {threads} threads"], "wall", ms, "ms", "<= 50", note=rate(f"sweep {threads} threads")),
        row(SECTION, "lk.sweep, same, numba.set_num_threads(1)", stats["sweep 1 thread"], "wall", ms, "ms",
            note=rate("sweep 1 thread")),
        row(SECTION, "NumPy vectorised over lanes, fma-emulated (reference)", stats["numpy fused"], "wall", ms, "ms",
            note=f"{rate('numpy fused')}; end points vs lk.sweep: max |dx| = {diff_fused:.1e}"),
        row(SECTION, "NumPy vectorised over lanes, plain expressions", stats["numpy plain"], "wall", ms, "ms",
            note=f"{rate('numpy plain')}; max |dx| = {diff_plain:.1e}, {lanes_off_plain} lanes off by > 1e-10"),
    ]
    for r in rows:
        r.ratio = r.value / (base * ms)
    scaling = stats["sweep 1 thread"].median("wall") / base
    rows.append(Row(SECTION, f"thread scaling, 1 thread / {threads} threads", scaling, "x",
                    note=f"ideal {threads}; spec measured 1.8-1.95 on a quiet machine"))
    raw = {"stats": {k: v.to_dict() for k, v in stats.items()}, "threads": threads,
           "numpy_fused_max_abs_dx": diff_fused, "numpy_plain_max_abs_dx": diff_plain,
           "numpy_plain_lanes_off": lanes_off_plain, "diverged_lanes": int((~ok).sum())}
    return rows, raw

