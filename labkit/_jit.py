"""Numba settings and the scalar building blocks every kernel shares.

Why this module exists (the measurements: docs/design.md, "Numba"):

* ``error_model="numpy"`` everywhere: the default Python error model adds a
  ``ZeroDivisionError`` branch to every division and costs 1.4-2.4x in these
  loops; a lab about divergence wants ``inf``/``nan`` anyway.
* ``cache=True`` only with a cache directory we know is writable.  Numba raises
  at *decoration* (so ``import labkit`` would fail) when the package is installed
  read-only and no locator is writable.  We also key the directory on a hash of
  all of labkit's kernel sources, because Numba does not notice when a callee in
  another file changes and would keep serving a stale caller.
"""
from __future__ import annotations

import hashlib
import math
import os
import tempfile
from pathlib import Path

import numba
import numpy as np
from numba import njit
from numba.core import types
from numba.extending import intrinsic

_PKG = Path(__file__).resolve().parent
# Every file whose @njit functions end up inside a cached kernel.
_KERNEL_SOURCES = ("_jit.py", "problems.py", "optim.py", "_engine.py")


def _source_hash() -> str:
    h = hashlib.sha256(numba.__version__.encode())
    for name in _KERNEL_SOURCES:
        h.update((_PKG / name).read_bytes())
    return h.hexdigest()[:16]


def _writable(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
        return True
    except OSError:
        return False


def _choose_cache_dir() -> str | None:
    """LABKIT_CACHE_DIR, else NUMBA_CACHE_DIR, else ~/.cache/labkit, else a temp dir."""
    bases = [os.environ.get("LABKIT_CACHE_DIR"), os.environ.get("NUMBA_CACHE_DIR"),
             os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "labkit"),
             os.path.join(tempfile.gettempdir(), f"labkit-cache-{os.getuid()}")]
    for base in bases:
        if base:
            path = Path(base) / f"numba-{_source_hash()}"
            if _writable(path):
                _prune(path)
                return str(path)
    return None


def _prune(keep: Path, max_age_days: float = 7.0) -> None:
    """Drop caches of older labkit sources, unused for a week (each edit makes a new one)."""
    import time
    cutoff = time.time() - max_age_days * 86400
    for old in keep.parent.glob("numba-*"):
        try:
            if old != keep and old.stat().st_mtime < cutoff:
                import shutil
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass


CACHE_DIR = _choose_cache_dir()
CACHE = CACHE_DIR is not None and os.environ.get("LABKIT_NO_CACHE") != "1"

# Numba reads config.CACHE_DIR when a cached function is *decorated*; we set it while
# labkit's kernel modules are imported and restore it after (labkit/__init__.py), so a
# user's own cached functions keep their usual location.
_saved_cache_dir = numba.config.CACHE_DIR


def begin_kernel_imports() -> None:
    if CACHE:
        numba.config.CACHE_DIR = CACHE_DIR


def end_kernel_imports() -> None:
    numba.config.CACHE_DIR = _saved_cache_dir


JIT = dict(error_model="numpy", cache=CACHE)          # building blocks and kernels
INLINE = dict(error_model="numpy", inline="always")   # generic drivers, see _engine.py


@intrinsic
def fma(typingctx, a, b, c):
    """a*b + c with one rounding (llvm.fma.f64)."""
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return sig, codegen


# Rounding: torch's CPU kernels here fuse multiply-adds (measured, tests/test_oracles.py):
# add(b, alpha=c) is fma(c, b, a), addcmul(t1, t2, value=v) is fma(v*t1, t2, a), lerp is
# fused, addcdiv(t1, t2, value=v) is a + (v*t1)/t2.  The rules use fma where torch does, so
# trajectories agree to the last bit instead of drifting by an ulp a step (which Rosenbrock
# amplifies past 1e-11 in 1,000 steps).  A single rounding is also the more accurate choice.


@njit(**INLINE)
def lerp(a, b, w):
    """a + w (b - a), as torch.lerp computes it: fused, with the form depending on |w|."""
    if abs(w) < 0.5:
        return fma(w, b - a, a)
    return fma(a - b, 1.0 - w, b)


@njit(**INLINE)
def sign(x):
    """sign with sign(0) = 0, as torch and numpy (a coordinate with zero argument does not move)."""
    if x > 0.0:
        return 1.0
    if x < 0.0:
        return -1.0
    return x * 0.0  # 0 stays 0, nan stays nan


@njit(**INLINE)
def power_step(acc, k, base):
    """Advance the running power acc[k] + acc[k+1] (a double-double) by one factor of base.

    Bias corrections need beta**t every step.  ``pow`` costs ~20 ns, as much as a whole
    Adam step; a plain running product drifts by ~t/2 ulp.  Kept as an unevaluated sum
    hi + lo with an exact product (fma), the power is exact to ~1e-32 and rounds to the
    same double as Python's ``beta ** t`` (what torch uses).
    """
    hi = acc[k]
    lo = acc[k + 1]
    p = hi * base
    e = fma(hi, base, -p)          # exact error of hi*base
    e = fma(lo, base, e)
    s = p + e                      # renormalise (fast two-sum, |p| >= |e|)
    acc[k] = s
    acc[k + 1] = e - (s - p)
    return s


@njit(**JIT)
def splitmix(z):
    z = (z + np.uint64(0x9E3779B97F4A7C15))
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(**JIT)
def gauss(seed, step, coord):
    """A standard normal that depends only on (seed, step, coord).

    Counter-based, so a lane of a sweep sees exactly the noise that ``run`` with the
    same seed sees, whatever the blocking and threading (common random numbers).
    """
    z = splitmix(np.uint64(seed) * np.uint64(0x100000001B3) ^ splitmix(np.uint64(step) << np.uint64(20) ^ np.uint64(coord)))
    u1 = ((z >> np.uint64(11)) + np.uint64(1)) * (1.0 / 9007199254740993.0)   # (0, 1]
    z2 = splitmix(z)
    u2 = (z2 >> np.uint64(11)) * (1.0 / 9007199254740992.0)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
