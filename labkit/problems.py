"""Test problems: each a :class:`Problem` record with exact derivatives.

Every built-in objective is one ``@njit`` kernel over a *block* of points stored
lanes-innermost, ``x[i, j]`` = coordinate ``i`` of point ``j``: the same code serves a
single run (one lane), a batched sweep (vectorised across lanes) and a contour grid.
Gradients and Hessians are analytic; ``tests/test_problems.py`` checks them against
torch autograd.
"""
from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from numba import njit
from numba.extending import overload

from ._errors import (check_array, check_callable, check_int, check_memory, check_nonneg, check_real,
                      check_seed, shown)
from ._jit import INLINE, JIT

# Kernel ids for the engine's dispatch (labkit/_engine.py). -1 = user-defined problem.
ROSENBROCK, QUADRATIC, RASTRIGIN, BEALE, HIMMELBLAU, SADDLE, STYBLINSKI_TANG = range(7)
DIFFGRAD_F1, DIFFGRAD_F2, DIFFGRAD_F3 = range(7, 10)


# ----------------------------------------------------------------------------- kernels
# Signature of every objective kernel: (p, x, g, f) with p the problem's float
# parameters, x and g of shape (d, B), f of shape (B,).  Each writes g and f.  They are
# inlined into the engine's loops (see objective_inline), so keep them small.

@njit(**INLINE)
def rosenbrock_kernel(p, x, g, f):
    # f = sum_i b (x_{i+1} - x_i^2)^2 + (a - x_i)^2   (Rosenbrock 1960; n-D form of Shang & Qiu 2006)
    a, b = p[0], p[1]
    d, n = x.shape
    for j in range(n):
        f[j] = 0.0
        g[0, j] = 0.0
    for i in range(d - 1):
        for j in range(n):
            xi = x[i, j]
            r = x[i + 1, j] - xi * xi
            f[j] += b * r * r + (a - xi) * (a - xi)
            g[i, j] += -4.0 * b * xi * r - 2.0 * (a - xi)
            g[i + 1, j] = 2.0 * b * r


@njit(**INLINE)
def quadratic_kernel(p, x, g, f):
    # f = 1/2 (x - c)^T A (x - c); p = [A (row-major, d*d), c (d)]
    d, n = x.shape
    c0 = d * d
    for j in range(n):
        f[j] = 0.0
    for i in range(d):
        for j in range(n):
            g[i, j] = 0.0
        for k in range(d):
            aik = p[i * d + k]
            ck = p[c0 + k]
            for j in range(n):
                g[i, j] += aik * (x[k, j] - ck)
    for i in range(d):
        ci = p[c0 + i]
        for j in range(n):
            f[j] += 0.5 * (x[i, j] - ci) * g[i, j]


@njit(**INLINE)
def rastrigin_kernel(p, x, g, f):
    # f = A d + sum_i x_i^2 - A cos(2 pi x_i)
    amp = p[0]
    d, n = x.shape
    w = 2.0 * math.pi
    for j in range(n):
        f[j] = amp * d
    for i in range(d):
        for j in range(n):
            xi = x[i, j]
            f[j] += xi * xi - amp * math.cos(w * xi)
            g[i, j] = 2.0 * xi + amp * w * math.sin(w * xi)


@njit(**INLINE)
def beale_kernel(p, x, g, f):
    # f = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2
    n = x.shape[1]
    for j in range(n):
        u, v = x[0, j], x[1, j]
        r1 = 1.5 - u + u * v
        r2 = 2.25 - u + u * v * v
        r3 = 2.625 - u + u * v * v * v
        f[j] = r1 * r1 + r2 * r2 + r3 * r3
        g[0, j] = 2.0 * (r1 * (v - 1.0) + r2 * (v * v - 1.0) + r3 * (v * v * v - 1.0))
        g[1, j] = 2.0 * u * (r1 + 2.0 * v * r2 + 3.0 * v * v * r3)


@njit(**INLINE)
def himmelblau_kernel(p, x, g, f):
    # f = (x^2 + y - 11)^2 + (x + y^2 - 7)^2
    n = x.shape[1]
    for j in range(n):
        u, v = x[0, j], x[1, j]
        r1 = u * u + v - 11.0
        r2 = u + v * v - 7.0
        f[j] = r1 * r1 + r2 * r2
        g[0, j] = 4.0 * u * r1 + 2.0 * r2
        g[1, j] = 2.0 * r1 + 4.0 * v * r2


@njit(**INLINE)
def saddle_kernel(p, x, g, f):
    # f = x^2/2 + y^4/4 - y^2/2: a strict saddle at 0, minima at (0, +-1)
    n = x.shape[1]
    for j in range(n):
        u, v = x[0, j], x[1, j]
        f[j] = 0.5 * u * u + 0.25 * v * v * v * v - 0.5 * v * v
        g[0, j] = u
        g[1, j] = v * v * v - v


@njit(**INLINE)
def styblinski_tang_kernel(p, x, g, f):
    # f = 1/2 sum_i x_i^4 - 16 x_i^2 + 5 x_i
    d, n = x.shape
    for j in range(n):
        f[j] = 0.0
    for i in range(d):
        for j in range(n):
            xi = x[i, j]
            x2 = xi * xi
            f[j] += 0.5 * (x2 * x2 - 16.0 * x2 + 5.0 * xi)
            g[i, j] = 2.0 * x2 * xi - 16.0 * xi + 2.5


# The three 1-D functions of the diffGrad paper (Dubey et al. 2020, eqs. 24-26).  Piecewise:
# at a breakpoint the value and gradient are those of the piece whose interval holds it (<=).

@njit(**INLINE)
def diffgrad_f1_kernel(p, x, g, f):
    # F1 = (x + 0.3)^2 for x <= 0, (x - 0.2)^2 + 0.05 for x > 0
    n = x.shape[1]
    for j in range(n):
        u = x[0, j]
        r = u + 0.3 if u <= 0.0 else u - 0.2
        f[j] = r * r + (0.0 if u <= 0.0 else 0.05)
        g[0, j] = 2.0 * r


@njit(**INLINE)
def diffgrad_f2_kernel(p, x, g, f):
    # F2 = -40 x - 35.15 for x <= -0.9, x^3 + x sin(8x) + 0.85 for x > -0.9 (a small jump at -0.9)
    n = x.shape[1]
    for j in range(n):
        u = x[0, j]
        if u <= -0.9:
            f[j] = -40.0 * u - 35.15
            g[0, j] = -40.0
        else:
            s8, c8 = math.sin(8.0 * u), math.cos(8.0 * u)
            f[j] = u * u * u + u * s8 + 0.85
            g[0, j] = 3.0 * u * u + s8 + 8.0 * u * c8


@njit(**INLINE)
def diffgrad_f3_kernel(p, x, g, f):
    # F3 = x^2 (|x| > 0.5), 0.75 - |x| (0.4 < |x| <= 0.5), 7|x|/8 (|x| <= 0.4); minimum 0 at 0,
    # kinked local minima 0.25 at +-0.5.  Each breakpoint belongs to the piece on its left.
    n = x.shape[1]
    for j in range(n):
        u = x[0, j]
        if u <= -0.5:
            f[j] = u * u
            g[0, j] = 2.0 * u
        elif u <= -0.4:
            f[j] = 0.75 + u
            g[0, j] = 1.0
        elif u <= 0.0:
            f[j] = -0.875 * u
            g[0, j] = -0.875
        elif u <= 0.4:
            f[j] = 0.875 * u
            g[0, j] = 0.875
        elif u <= 0.5:
            f[j] = 0.75 - u
            g[0, j] = -1.0
        else:
            f[j] = u * u
            g[0, j] = 2.0 * u


@njit(**INLINE)
def objective_inline(kind, p, x, g, f):
    """Dispatch on the problem kind.

    Inlined (Numba IR) into each rule's loop: a call boundary here costs ~45 ns a step,
    because the arrays escape and their shapes stop being constants.
    """
    if kind == ROSENBROCK:
        rosenbrock_kernel(p, x, g, f)
    elif kind == QUADRATIC:
        quadratic_kernel(p, x, g, f)
    elif kind == RASTRIGIN:
        rastrigin_kernel(p, x, g, f)
    elif kind == BEALE:
        beale_kernel(p, x, g, f)
    elif kind == HIMMELBLAU:
        himmelblau_kernel(p, x, g, f)
    elif kind == SADDLE:
        saddle_kernel(p, x, g, f)
    elif kind == STYBLINSKI_TANG:
        styblinski_tang_kernel(p, x, g, f)
    elif kind == DIFFGRAD_F1:
        diffgrad_f1_kernel(p, x, g, f)
    elif kind == DIFFGRAD_F2:
        diffgrad_f2_kernel(p, x, g, f)
    elif kind == DIFFGRAD_F3:
        diffgrad_f3_kernel(p, x, g, f)


_KERNEL_OF = {ROSENBROCK: rosenbrock_kernel, QUADRATIC: quadratic_kernel, RASTRIGIN: rastrigin_kernel,
              BEALE: beale_kernel, HIMMELBLAU: himmelblau_kernel, SADDLE: saddle_kernel,
              STYBLINSKI_TANG: styblinski_tang_kernel, DIFFGRAD_F1: diffgrad_f1_kernel,
              DIFFGRAD_F2: diffgrad_f2_kernel, DIFFGRAD_F3: diffgrad_f3_kernel}


def kind_tag(kind: int) -> tuple:
    """The problem kind as a *type*: a tuple of ``kind`` zeros.

    Single runs take this instead of the integer, so Numba compiles (and caches) one
    kernel per (rule, problem kind) with only that objective in its loop: 1.5x faster per
    step than a loop that dispatches on a runtime kind (spec section 1), for ~3 s of
    compilation the first time a pair is used.  ``numba.literally`` would do the same but
    re-dispatches through the compiler on every call.
    """
    return (0,) * int(kind)


def objective_tagged(tag, p, x, g, f):
    """``objective`` with the kind given by ``kind_tag``: resolved while typing (below)."""
    raise NotImplementedError("only callable from compiled code")


@overload(objective_tagged, inline="always", jit_options=dict(error_model="numpy"))
def _objective_tagged(tag, p, x, g, f):
    kernel = _KERNEL_OF[len(tag.types)]

    def impl(tag, p, x, g, f):
        kernel(p, x, g, f)
    return impl


@njit(**JIT)
def objective(kind, p, x, g, f):
    """Objective and gradient of a block of points (what Problem.f and Problem.grad call)."""
    objective_inline(kind, p, x, g, f)


@njit(**JIT)
def hessian(kind, p, x):
    """Analytic Hessian at one point x of shape (d,)."""
    d = x.shape[0]
    h = np.zeros((d, d))
    if kind == ROSENBROCK:
        a, b = p[0], p[1]
        for i in range(d - 1):
            xi = x[i]
            r = x[i + 1] - xi * xi
            h[i, i] += 12.0 * b * xi * xi - 4.0 * b * x[i + 1] + 2.0
            h[i, i + 1] += -4.0 * b * xi
            h[i + 1, i] += -4.0 * b * xi
            h[i + 1, i + 1] += 2.0 * b
    elif kind == QUADRATIC:
        for i in range(d):
            for k in range(d):
                h[i, k] = p[i * d + k]
    elif kind == RASTRIGIN:
        w = 2.0 * math.pi
        for i in range(d):
            h[i, i] = 2.0 + p[0] * w * w * math.cos(w * x[i])
    elif kind == BEALE:
        u, v = x[0], x[1]
        r1, r2, r3 = 1.5 - u + u * v, 2.25 - u + u * v * v, 2.625 - u + u * v * v * v
        a1, a2, a3 = v - 1.0, v * v - 1.0, v * v * v - 1.0        # d r_k / du
        b1, b2, b3 = u, 2.0 * u * v, 3.0 * u * v * v              # d r_k / dv
        h[0, 0] = 2.0 * (a1 * a1 + a2 * a2 + a3 * a3)
        h[0, 1] = 2.0 * (a1 * b1 + a2 * b2 + a3 * b3 + r1 + 2.0 * v * r2 + 3.0 * v * v * r3)
        h[1, 0] = h[0, 1]
        h[1, 1] = 2.0 * (b1 * b1 + b2 * b2 + b3 * b3 + r2 * 2.0 * u + r3 * 6.0 * u * v)
    elif kind == HIMMELBLAU:
        u, v = x[0], x[1]
        h[0, 0] = 12.0 * u * u + 4.0 * v - 42.0
        h[0, 1] = 4.0 * (u + v)
        h[1, 0] = h[0, 1]
        h[1, 1] = 12.0 * v * v + 4.0 * u - 26.0
    elif kind == SADDLE:
        h[0, 0] = 1.0
        h[1, 1] = 3.0 * x[1] * x[1] - 1.0
    elif kind == STYBLINSKI_TANG:
        for i in range(d):
            h[i, i] = 6.0 * x[i] * x[i] - 16.0
    elif kind == DIFFGRAD_F1:
        h[0, 0] = 2.0
    elif kind == DIFFGRAD_F2:
        u = x[0]
        if u > -0.9:
            h[0, 0] = 6.0 * u + 16.0 * math.cos(8.0 * u) - 64.0 * u * math.sin(8.0 * u)
    elif kind == DIFFGRAD_F3:
        h[0, 0] = 2.0 if x[0] <= -0.5 or x[0] > 0.5 else 0.0
    return h


# ----------------------------------------------------------------------------- record

def _as_block(x, d):
    x = np.asarray(x, dtype=np.float64)
    if x.shape[-1:] != (d,):
        raise ValueError(f"x must have shape (..., {d}), got {x.shape}")
    return np.ascontiguousarray(x.reshape(-1, d).T), x.shape[:-1]


def _kernel_f(kind, params, d, x):
    X, lead = _as_block(x, d)
    G = np.empty_like(X)
    F = np.empty(X.shape[1])
    objective(kind, params, X, G, F)
    return float(F[0]) if lead == () else F.reshape(lead)


def _kernel_grad(kind, params, d, x):
    X, lead = _as_block(x, d)
    G = np.empty_like(X)
    F = np.empty(X.shape[1])
    objective(kind, params, X, G, F)
    return G[:, 0].copy() if lead == () else G.T.reshape(lead + (d,))


def _kernel_hess(kind, params, d, x):
    x = np.asarray(x, dtype=np.float64)
    if x.shape != (d,):
        raise ValueError(f"x must have shape ({d},), got {x.shape}")
    return hessian(kind, params, x)


@dataclass(frozen=True, eq=False, kw_only=True)
class Problem:
    """A test problem as a record.

    Fields: ``name``; ``f(x)`` and ``grad(x)`` (``x`` of shape ``(d,)`` or ``(..., d)``);
    ``hess(x)`` or ``None``; start point ``x0``; minimiser ``x_star`` (``None`` when there
    is no finite one or it is unknown) and ``f_star``; ``domain``, the plot box
    ``((xlo, xhi), (ylo, yhi))`` of the first two coordinates; ``reference``.
    ``noise``/``seed`` add Gaussian noise of that standard deviation to every gradient
    the optimizer sees (the same noise for the same seed, in ``run`` and ``sweep``).
    ``minima`` lists known local minimisers (basins of attraction).  Built-ins carry a
    compiled ``kernel`` id and float ``params``; a user-defined problem leaves them unset
    and runs through a Python loop (no compilation).

    ``shapes`` splits the flat parameter vector into blocks, row-major, in order (default:
    one vector of length ``dim``); rules that act on matrices (Muon, AdamP's projection,
    SCALE, ...) see a ``(rows, cols)`` block as a matrix whose rows are output units, as
    torch's ``Linear.weight``.  ``extras`` holds named problem-specific callables that some
    rules need, e.g. ``"gnb_grad"`` (Sophia's Gauss-Newton-Bartlett estimator) or
    ``"sigmoid_weight"`` (Tyurin's normalized LR+GD).
    """

    name: str
    f: Callable
    grad: Callable
    hess: Callable | None = None
    x0: np.ndarray
    x_star: np.ndarray | None = None
    f_star: float | None = None
    domain: tuple | None = None
    reference: str = "user-defined"
    noise: float = 0.0
    seed: int = 0
    minima: tuple = ()
    kernel: int = -1
    params: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    description: str = ""
    shapes: tuple = ()
    extras: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        # Every field is checked here, so a slip fails where the problem is written, not deep
        # inside run or a plot.  The gradient's shape is checked where it is first called (run,
        # sweep, check_gradient): calling user code here could be slow or have side effects.
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a string, got {shown(self.name)}")
        check_callable("f", self.f)
        check_callable("grad", self.grad)
        check_callable("hess", self.hess, optional=True)
        x0 = check_array("x0", self.x0).reshape(-1)
        if x0.size < 1:
            raise ValueError(f"x0 must hold at least one coordinate, got {shown(self.x0)}")
        object.__setattr__(self, "x0", x0)
        object.__setattr__(self, "shapes", _check_shapes(self.shapes, x0.size))
        if self.x_star is not None:
            x_star = check_array("x_star", self.x_star).reshape(-1)
            if x_star.size != x0.size:
                raise ValueError(f"x_star must have as many coordinates as x0 ({x0.size}), got {x_star.size}")
            object.__setattr__(self, "x_star", x_star)
        if self.f_star is not None:
            check_real("f_star", self.f_star)
        if self.domain is None:
            c = x0[:2] if x0.size >= 2 else np.r_[x0, 0.0]
            object.__setattr__(self, "domain", ((c[0] - 2.0, c[0] + 2.0), (c[1] - 2.0, c[1] + 2.0)))
        else:
            box = check_array("domain", self.domain, (2, 2), what="limits ((xlo, xhi), (ylo, yhi))")
            if not np.all(box[:, 0] < box[:, 1]):
                raise ValueError(f"domain must be ((xlo, xhi), (ylo, yhi)) with lo < hi, got {shown(self.domain)}")
        try:
            object.__setattr__(self, "noise", check_nonneg("noise", self.noise))
        except ValueError:
            raise ValueError(f"noise must be a finite standard deviation >= 0, got {shown(self.noise)}") from None
        object.__setattr__(self, "seed", check_seed("seed", self.seed))
        if not isinstance(self.minima, (tuple, list)):
            raise TypeError(f"minima must be a tuple of points, got {shown(self.minima)}")
        for m in self.minima:
            check_array("each of minima", m)
        if not isinstance(self.extras, dict):
            raise TypeError(f"extras must be a dict of named callables, got {shown(self.extras)}")

    @property
    def dim(self) -> int:
        return self.x0.size

    @functools.cached_property
    def layout(self) -> np.ndarray:
        """The blocks of ``shapes`` as an int64 array of rows ``(offset, rows, cols)``; ``cols = 0`` for a vector."""
        rows, off = [], 0
        for s in self.shapes:
            rows.append((off, s[0], s[1] if len(s) == 2 else 0))
            off += int(np.prod(s))
        return np.array(rows, dtype=np.int64).reshape(-1, 3)

    def unflatten(self, x) -> list:
        """The parameter blocks of a flat point ``x``, as arrays of ``shapes`` (views)."""
        x = np.asarray(x)
        return [x[o:o + r * max(c, 1)].reshape((r, c) if c else (r,)) for o, r, c in self.layout]

    @functools.cached_property
    def bound(self) -> float:
        """A run that leaves the box |x_i| <= bound is reported as diverged."""
        return 1e6 * max(1.0, max(abs(v) for lim in self.domain for v in lim))

    def with_noise(self, noise: float, seed: int = 0) -> "Problem":
        """The same problem with Gaussian gradient noise of standard deviation ``noise``."""
        return dataclasses.replace(self, noise=noise, seed=seed)     # both checked by __post_init__

    def grid(self, n: int = 100):
        """Points of an n x n grid over the domain, shape (n*n, 2) (first two coordinates)."""
        n = check_int("n", n, 1)
        check_memory(f"grid(n={n}) ({n} x {n} points)", 48.0 * n * n, per_unit=48, unit="points")
        (x_lo, x_hi), (y_lo, y_hi) = self.domain
        X, Y = np.meshgrid(np.linspace(x_lo, x_hi, n), np.linspace(y_lo, y_hi, n))
        return np.column_stack([X.ravel(), Y.ravel()])

    def __repr__(self):
        extra = f", noise={self.noise}" if self.noise else ""
        return f"Problem({self.name!r}, dim={self.dim}{extra})"


def _check_shapes(shapes, dim):
    """``Problem.shapes``: 1-D or 2-D blocks of positive sizes adding up to ``dim`` (default: one vector)."""
    allowed = f"1-D or 2-D blocks, e.g. ((3, 2), (4,)), whose sizes add up to dim = {dim}"
    try:
        out = tuple(tuple(int(n) for n in np.atleast_1d(np.asarray(s, dtype=np.int64))) for s in shapes)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"shapes must be {allowed}, got {shown(shapes)}") from None
    out = out or ((dim,),)
    if any(len(s) not in (1, 2) or min(s) < 1 for s in out) or sum(math.prod(s) for s in out) != dim:
        raise ValueError(f"shapes must be {allowed}, got {shown(shapes)}")
    return out


def _dim(name, n, lo):
    """A problem's size argument: an integer >= lo whose x0, x_star and a gradient fit in memory."""
    n = check_int(name, n, lo)
    check_memory(f"{name}={n} coordinates", 32.0 * n, per_unit=32, unit="coordinates")
    return n


def _builtin(kind, params, *, name, dim, x0, x_star, f_star, domain, reference, description,
             noise=0.0, seed=0, minima=(), hess=True):
    params = np.ascontiguousarray(params, dtype=np.float64)
    return Problem(
        name=name,
        f=functools.partial(_kernel_f, kind, params, dim),
        grad=functools.partial(_kernel_grad, kind, params, dim),
        hess=functools.partial(_kernel_hess, kind, params, dim) if hess else None,
        x0=x0, x_star=x_star, f_star=f_star, domain=domain, reference=reference,
        noise=check_nonneg("noise", noise), seed=check_seed("seed", seed),
        minima=tuple(np.asarray(m, float) for m in minima),
        kernel=kind, params=params, description=description)


# ----------------------------------------------------------------------------- built-ins

_ROSEN_REF = ("H. H. Rosenbrock, 'An automatic method for finding the greatest or least value "
              "of a function', The Computer Journal 3(3):175-184, 1960.")


def rosenbrock(a: float = 1.0, b: float = 100.0, *, noise: float = 0.0, seed: int = 0) -> Problem:
    r"""Rosenbrock's banana valley, :math:`f(x, y) = (a - x)^2 + b (y - x^2)^2`.

    Minimum :math:`f^* = 0` at :math:`(a, a^2)`; start :math:`(-1.5, 2)`.
    """
    a, b = check_real("a", a), check_real("b", b)
    return _builtin(ROSENBROCK, [a, b], name="rosenbrock", dim=2, x0=[-1.5, 2.0], x_star=[a, a * a],
                    f_star=0.0, domain=((-2.0, 2.0), (-1.0, 3.0)), reference=_ROSEN_REF,
                    description="curved valley, ill-conditioned near the minimum", noise=noise, seed=seed)


def rosenbrock_nd(n: int = 10, a: float = 1.0, b: float = 100.0, *, noise: float = 0.0, seed: int = 0) -> Problem:
    r"""n-D Rosenbrock, :math:`f(x) = \sum_{i=1}^{n-1} b (x_{i+1} - x_i^2)^2 + (a - x_i)^2`.

    Global minimum :math:`f^* = 0` at :math:`x = (1, \dots, 1)` (for a = 1); for
    4 <= n <= 7 there is also a local minimum near :math:`(-1, 1, \dots, 1)`.
    Start: :math:`x_i = -1.2` for odd i, 1 for even i (the classic start).
    """
    n = _dim("n", n, 2)
    a, b = check_real("a", a), check_real("b", b)
    if a != 1.0:
        raise ValueError("rosenbrock_nd supports a = 1 only (x_star is known in closed form there)")
    x0 = np.where(np.arange(n) % 2 == 0, -1.2, 1.0)
    return _builtin(ROSENBROCK, [a, b], name=f"rosenbrock_nd({n})", dim=n, x0=x0, x_star=np.ones(n),
                    f_star=0.0, domain=((-2.0, 2.0), (-1.0, 3.0)),
                    reference=_ROSEN_REF + " n-D form: Y.-W. Shang, Y.-H. Qiu, Evolutionary Computation 14(1), 2006.",
                    description="coupled chain of banana valleys", noise=noise, seed=seed)


def quadratic(eigs=(1.0, 10.0), angle: float = 0.0, *, center=None, basis_seed: int | None = None,
              x0=None, noise: float = 0.0, seed: int = 0) -> Problem:
    r"""Quadratic :math:`f(x) = \tfrac12 (x - c)^\top A (x - c)` with :math:`A = Q\,\mathrm{diag}(\lambda)\,Q^\top`.

    ``eigs`` is any spectrum (positive for a minimum; a negative eigenvalue makes a saddle and
    ``x_star=None``).  In 2-D, Q rotates by ``angle`` radians; in higher dimension
    ``basis_seed`` draws a random orthogonal Q (None keeps the axes).  GD is stable for
    :math:`\eta < 2/\lambda_{max}`, fastest at :math:`\eta = 2/(\lambda_{min}+\lambda_{max})`.
    """
    lam = check_array("eigs", eigs, what="eigenvalues").reshape(-1)
    d = lam.size
    if d < 1:
        raise ValueError(f"eigs must be a non-empty sequence of finite numbers, got {shown(eigs)}")
    check_memory(f"a quadratic with {d} eigs (its {d} x {d} matrix)", 24.0 * d * d)
    angle = check_real("angle", angle)
    if basis_seed is not None:
        basis_seed = check_seed("basis_seed", basis_seed)
    if d == 2:
        cs, sn = math.cos(angle), math.sin(angle)
        Q = np.array([[cs, -sn], [sn, cs]])
    elif basis_seed is not None:
        Q, R = np.linalg.qr(np.random.default_rng(basis_seed).standard_normal((d, d)))
        Q = Q * np.sign(np.diag(R))
    else:
        if angle:
            raise ValueError("angle applies to 2-D quadratics; use basis_seed for d > 2")
        Q = np.eye(d)
    A = (Q * lam) @ Q.T
    A = 0.5 * (A + A.T)   # exactly symmetric
    c = np.zeros(d) if center is None else check_array("center", center, (d,))
    if x0 is not None:
        x0 = check_array("x0", x0, (d,))
    if x0 is None:
        x0 = c + np.where(np.arange(d) % 2 == 0, 1.5, -1.0) if d > 1 else c + 1.5
    convex = bool(np.all(lam > 0))
    span = 2.5 + float(np.max(np.abs(np.asarray(x0) - c)))
    span = max(span, 1e-9 * float(np.max(np.abs(c))))     # far from 0, c +- 2.5 would round to c
    lam_txt = ", ".join(f"{v:g}" for v in lam[:4]) + (", ..." if d > 4 else "")
    return _builtin(QUADRATIC, np.concatenate([A.ravel(), c]), name=f"quadratic([{lam_txt}], angle={angle:g})",
                    dim=d, x0=x0, x_star=c if convex else None, f_star=0.0 if convex else None,
                    domain=((c[0] - span, c[0] + span), (c[min(1, d - 1)] - span, c[min(1, d - 1)] + span)),
                    reference="Convex quadratic model; see Goh, 'Why Momentum Really Works', Distill 2017.",
                    description=f"condition number {np.max(np.abs(lam)) / np.min(np.abs(lam)):g}",
                    noise=noise, seed=seed)


def rastrigin(n: int = 2, A: float = 10.0, *, noise: float = 0.0, seed: int = 0) -> Problem:
    r"""Rastrigin, :math:`f(x) = A n + \sum_i x_i^2 - A\cos(2\pi x_i)`: a bowl with a lattice of local minima.

    Global minimum :math:`f^* = 0` at 0; domain :math:`[-5.12, 5.12]^n`.
    """
    n = _dim("n", n, 1)
    A = check_real("A", A)
    return _builtin(RASTRIGIN, [A], name=f"rastrigin({n})", dim=n, x0=np.full(n, 2.2), x_star=np.zeros(n),
                    f_star=0.0, domain=((-5.12, 5.12), (-5.12, 5.12)),
                    reference="L. A. Rastrigin, Systems of extremal control, 1974; H. Muehlenbein et al., Parallel Computing 17, 1991.",
                    description="highly multimodal", noise=noise, seed=seed)


def beale(*, noise: float = 0.0, seed: int = 0) -> Problem:
    r"""Beale, :math:`f = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2`.

    Minimum :math:`f^* = 0` at (3, 0.5); flat plateaus and sharp ridges.
    """
    return _builtin(BEALE, [], name="beale", dim=2, x0=[1.0, 1.4], x_star=[3.0, 0.5], f_star=0.0,
                    domain=((-4.5, 4.5), (-4.5, 4.5)),
                    reference="E. M. L. Beale, 'On an iterative method for finding a local minimum of a function "
                              "of more than one variable', Princeton Tech. Rep. 25, 1958.",
                    description="flat plateaus and steep walls", noise=noise, seed=seed)


_HIMMELBLAU_MINIMA = ((3.0, 2.0), (-2.805118086952745, 3.131312518250573),
                      (-3.779310253377747, -3.283185991286170), (3.584428340330492, -1.848126526964404))


def himmelblau(*, noise: float = 0.0, seed: int = 0) -> Problem:
    r"""Himmelblau, :math:`f = (x^2 + y - 11)^2 + (x + y^2 - 7)^2`: four minima with :math:`f^* = 0`.

    ``x_star`` is (3, 2); ``minima`` lists all four (basins of attraction).
    """
    return _builtin(HIMMELBLAU, [], name="himmelblau", dim=2, x0=[0.0, 0.0], x_star=[3.0, 2.0], f_star=0.0,
                    domain=((-5.0, 5.0), (-5.0, 5.0)), minima=_HIMMELBLAU_MINIMA,
                    reference="D. M. Himmelblau, Applied Nonlinear Programming, McGraw-Hill, 1972.",
                    description="four global minima", noise=noise, seed=seed)


def saddle(*, noise: float = 0.0, seed: int = 0) -> Problem:
    r"""A strict saddle, :math:`f = x^2/2 + y^4/4 - y^2/2`.

    Hessian diag(1, -1) at the saddle (0, 0); minima (0, +-1) with :math:`f^* = -1/4`.
    Gradient descent started on the x-axis converges to the saddle; any perturbation in
    y escapes (Lee et al. 2016, 'Gradient descent only converges to minimizers').
    """
    return _builtin(SADDLE, [], name="saddle", dim=2, x0=[1.5, 1e-3], x_star=[0.0, 1.0], f_star=-0.25,
                    domain=((-2.0, 2.0), (-1.8, 1.8)), minima=((0.0, 1.0), (0.0, -1.0)),
                    reference="J. D. Lee, M. Simchowitz, M. I. Jordan, B. Recht, 'Gradient descent only "
                              "converges to minimizers', COLT 2016.",
                    description="strict saddle at the origin", noise=noise, seed=seed)


_ST_XMIN = -2.903534027771178   # root of 2x^3 - 16x + 2.5 = 0 (the global one)


def styblinski_tang(n: int = 2, *, noise: float = 0.0, seed: int = 0) -> Problem:
    r"""Styblinski-Tang, :math:`f(x) = \tfrac12 \sum_i x_i^4 - 16 x_i^2 + 5 x_i`.

    Global minimum at :math:`x_i = -2.903534...`, :math:`f^* = -39.16617 n`; 2^n local minima.
    """
    n = _dim("n", n, 1)
    roots = np.sort(np.roots([2.0, 0.0, -16.0, 2.5]).real)   # the two minima per coordinate: roots[0], roots[2]
    xs = np.full(n, _ST_XMIN)
    f_star = float(styblinski_tang_value(xs))
    minima = ()
    if n == 2:
        minima = tuple((u, v) for u in roots[[0, 2]] for v in roots[[0, 2]])
    return _builtin(STYBLINSKI_TANG, [], name=f"styblinski_tang({n})", dim=n, x0=np.full(n, 0.5),
                    x_star=xs, f_star=f_star, domain=((-5.0, 5.0), (-5.0, 5.0)), minima=minima,
                    reference="M. A. Styblinski, T.-S. Tang, 'Experiments in nonconvex optimization', "
                              "Neural Networks 3(4):467-483, 1990.",
                    description="2^n local minima", noise=noise, seed=seed)


_DIFFGRAD_REF = ("S. R. Dubey, S. Chakraborty, S. K. Roy, S. Mukherjee, S. K. Singh, B. B. Chaudhuri, "
                 "'diffGrad: An Optimization Method for Convolutional Neural Networks', IEEE TNNLS 31(11), "
                 "2020 (arXiv:1909.11015), eqs. ")
# Paper set-up for these three: b1 = 0.95, b2 = 0.999, lr = 0.1, x0 = -1, 300 steps, Adam vs diffGrad.


def diffgrad_f1(*, noise: float = 0.0, seed: int = 0) -> Problem:
    r"""diffGrad's F1: :math:`F_1(x) = (x + 0.3)^2` for :math:`x \le 0`, :math:`(x - 0.2)^2 + 0.05` for :math:`x > 0`.

    1-D.  Global minimum :math:`F^* = 0` at :math:`x = -0.3`; local minimum 0.05 at 0.2,
    separated by a kink at 0 (continuous, :math:`F_1' = 0.6` on the left, :math:`-0.4` on the
    right).  Start :math:`x_0 = -1`.  ``domain`` is ``((xlo, xhi), (flo, fhi))``: the x range
    and, for a plot of the graph, the range of :math:`F`.
    """
    return _builtin(DIFFGRAD_F1, [], name="diffgrad_f1", dim=1, x0=[-1.0], x_star=[-0.3], f_star=0.0,
                    domain=((-1.5, 1.5), (-0.1, 1.8)), minima=((-0.3,), (0.2,)), reference=_DIFFGRAD_REF + "(24).",
                    description="1-D: a global and a local minimum either side of a kink", noise=noise, seed=seed)


# F2' = 3x^2 + sin 8x + 8x cos 8x = 0, by Newton in float64 (F2'' > 0 at each).
_F2_MINIMA = (-0.6429185989152617, 0.0, 0.5880534760792461, 1.3217274720817793)


def diffgrad_f2(*, noise: float = 0.0, seed: int = 0) -> Problem:
    r"""diffGrad's F2: :math:`F_2(x) = -40x - 35.15` for :math:`x \le -0.9`, :math:`x^3 + x\sin 8x + 0.85` beyond.

    1-D.  Global minimum :math:`F^* \approx 1.198\times10^{-4}` at :math:`x \approx -0.64292`;
    local minima at 0 (:math:`F = 0.85`), 0.58805 (0.4653) and 1.32173 (1.9531); the paper
    counts one global and two local minima (the last lies beyond its plots).  :math:`F_2` jumps
    down at :math:`-0.9`, from 0.85 to 0.8353 (as printed in the paper).  The gradient here is the
    true derivative :math:`F_2' = 3x^2 + \sin 8x + 8x\cos 8x`; the authors' notebook uses
    :math:`3x^2 + \sin 8x + x\cos 8x` (the chain-rule factor 8 is missing), so its runs are not
    gradient descent on :math:`F_2`.  Start :math:`x_0 = -1` on the linear piece
    (:math:`F_2' = -40`).  ``domain`` is the x range and the range of :math:`F`.
    """
    x_star = _F2_MINIMA[0]
    f_star = _kernel_f(DIFFGRAD_F2, np.zeros(0), 1, [x_star])
    return _builtin(DIFFGRAD_F2, [], name="diffgrad_f2", dim=1, x0=[-1.0], x_star=[x_star], f_star=f_star,
                    domain=((-1.2, 1.5), (-0.5, 5.5)), minima=tuple((m,) for m in _F2_MINIMA),
                    reference=_DIFFGRAD_REF + "(25).",
                    description="1-D: a steep linear wall, a jump, then an oscillating cubic", noise=noise, seed=seed)


def diffgrad_f3(*, noise: float = 0.0, seed: int = 0) -> Problem:
    r"""diffGrad's F3, a piecewise valley: :math:`F_3(x) = 7|x|/8` for :math:`|x| \le 0.4`.

    .. math::
        F_3(x) = x^2 \ (|x| > 0.5), \qquad 0.75 - |x| \ (0.4 < |x| \le 0.5), \qquad 7|x|/8 \ (|x| \le 0.4)

    1-D, continuous and piecewise linear in the middle.  Global minimum :math:`F^* = 0` at the
    kink :math:`x = 0`; kinked local minima :math:`F = 0.25` at :math:`\pm 0.5`.  At a breakpoint
    the gradient is that of the piece on its left (the paper's intervals are closed on the
    right), e.g. :math:`F_3'(0) = -7/8`.  Start :math:`x_0 = -1`.  ``domain`` is the x range and
    the range of :math:`F`.
    """
    return _builtin(DIFFGRAD_F3, [], name="diffgrad_f3", dim=1, x0=[-1.0], x_star=[0.0], f_star=0.0,
                    domain=((-1.5, 1.5), (-0.1, 1.5)), minima=((-0.5,), (0.0,), (0.5,)),
                    reference=_DIFFGRAD_REF + "(26).",
                    description="1-D: piecewise linear valley with kinked local minima", noise=noise, seed=seed)

def styblinski_tang_value(x):
    x = np.asarray(x, float)
    return 0.5 * float(np.sum(x ** 4 - 16 * x ** 2 + 5 * x))


#: name -> constructor, for lookup by name and the contract tests.
registry = {
    "rosenbrock": rosenbrock,
    "rosenbrock_nd": rosenbrock_nd,
    "quadratic": quadratic,
    "rastrigin": rastrigin,
    "beale": beale,
    "himmelblau": himmelblau,
    "saddle": saddle,
    "styblinski_tang": styblinski_tang,
    "diffgrad_f1": diffgrad_f1,
    "diffgrad_f2": diffgrad_f2,
    "diffgrad_f3": diffgrad_f3,
}


def evaluate_rows(f, points, dtype=np.float64) -> np.ndarray:
    """``f`` on every row of ``points``: one vectorised call when ``f`` takes a batch, else row by row.

    Compiled problems and most NumPy objectives accept ``(m, d)``; an ``f`` written for one
    point is detected (wrong shape or an exception) and called per row, where a real error
    in ``f`` is raised again.  ``dtype=None`` keeps what ``f`` returns (complex values, for
    :func:`labkit.check_gradient`'s complex step).
    """
    m = points.shape[0]
    try:
        out = np.asarray(f(points), dtype=dtype)
        if out.shape == (m,):
            return out
        if out.size == m:
            return out.reshape(m)
    except Exception:           # an f for one point at a time; a real error in f is raised below
        pass
    out = []
    for p in points:
        v = np.asarray(f(p), dtype=dtype)
        if v.size != 1:
            raise ValueError(f"the problem's f must return one number per point, got shape {v.shape} at "
                             f"x = {shown(p)}")
        out.append(v.reshape(()))
    return np.array(out)


def grad_rows(problem, points) -> np.ndarray:
    """``problem.grad`` on every row of ``points`` ``(m, d)``, as ``(m, d)``: one batched call when it
    gives ``m * d`` values (built-ins, most NumPy gradients), else row by row; a gradient of the wrong
    shape is reported as such."""
    m, d = points.shape
    G = np.asarray(problem.grad(points), dtype=np.float64)
    if G.size == m * d:
        return G.reshape(m, d)
    rows = []
    for p in points:
        g = np.asarray(problem.grad(p), dtype=np.float64)
        if g.size != d:
            raise ValueError(f"problem {problem.name!r}: grad returned shape {g.shape} for a point of dimension {d}")
        rows.append(g.reshape(d))
    return np.array(rows).reshape(m, d)

def names():
    return sorted(registry)


def get(name: str, **kwargs) -> Problem:
    """A built-in problem by name; unknown names raise ValueError with the closest matches."""
    from ._errors import unknown_name
    if not isinstance(name, str) or name not in registry:
        raise unknown_name("problem", name, registry)
    import inspect
    allowed = inspect.signature(registry[name]).parameters
    for key in kwargs:
        if key not in allowed:
            raise ValueError(f"problem {name!r} takes no keyword {key!r}; its keywords: {', '.join(allowed) or 'none'}")
    return registry[name](**kwargs)


# Matrix-shaped and data-driven problems (NumPy, not compiled; see problems_matrix.py).  Not in
# ``registry``: that lists the compiled built-ins every rule is checked on.
from .problems_matrix import (blobs_logistic, logistic_regression, scale_invariant,  # noqa: E402
                              separable_logistic, softmax_regression, two_layer_linear)
