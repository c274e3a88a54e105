r"""Is a problem's gradient exact?  A check for problems you write yourself.

The built-in problems are checked against torch autograd in the tests; a problem written in
NumPy in a notebook gets :func:`check_gradient`, which needs nothing but ``f``.
"""
from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from ._errors import check_array, check_int, check_memory, check_problem, check_seed
from .problems import evaluate_rows


class GradientCheck(NamedTuple):
    error: float      # max over points and coordinates of |grad - derivative| / max(1, |derivative|)
    method: str       # "complex step" or "central differences"
    points: int


def _complex_step(f, x, h=1e-30):
    d = x.size
    with warnings.catch_warnings():          # an f that casts to real drops the imaginary part: not usable
        warnings.simplefilter("error", np.exceptions.ComplexWarning)
        out = evaluate_rows(f, x + 1j * h * np.eye(d), dtype=None)
    if not np.iscomplexobj(out) or not np.all(np.isfinite(out)):
        raise TypeError("f does not extend to complex input")
    return out.imag / h


def _central(f, x):
    d = x.size
    h = 1e-6 * np.maximum(1.0, np.abs(x))
    E = np.diag(h)
    return (evaluate_rows(f, x + E) - evaluate_rows(f, x - E)) / (2 * h)


def check_gradient(problem, points=None, *, n: int = 8, seed: int = 0) -> GradientCheck:
    r"""Compare ``problem.grad`` with derivatives of ``problem.f`` at ``points`` (default: ``x0``
    and ``n`` random points, the first two coordinates drawn in ``problem.domain``, the others
    within 1 of ``x0``).

    Complex step: :math:`\partial_i f(x) = \operatorname{Im} f(x + \mathrm{i}\,h e_i) / h` with
    :math:`h = 10^{-30}` has no subtractive cancellation, so an exact gradient agrees to about
    1e-15.  It needs an ``f`` built from operations that extend to complex numbers
    (polynomials, ``exp``, ``sin``, ``log``, ...; not ``abs``, ``maximum`` or comparisons).
    Otherwise (compiled problems too) central differences, good to about 1e-8.

    It costs ``d`` evaluations of ``f`` per point (central differences: ``2 d``): a check
    for problems of a few to a few hundred coordinates, not for a network's parameters.

    ``problem`` is a :class:`~labkit.problems.Problem` or a built-in problem's name.
    Returns ``GradientCheck(error, method, points)``; ``error`` is the largest
    :math:`|g_i - \partial_i f| / \max(1, |\partial_i f|)`.

    Reference: W. Squire and G. Trapp, "Using complex variables to estimate derivatives of
    real functions", SIAM Review 40(1):110-112, 1998.
    """
    problem = check_problem("problem", problem)
    n, seed = check_int("n", n, 0), check_seed("seed", seed)
    dim = problem.dim
    if points is None:
        check_memory(f"check_gradient with n={n} points of dim {dim}", 8.0 * (n + 1) * dim * (2 * dim + 2))
        rng = np.random.default_rng(seed)
        x0 = np.asarray(problem.x0, float)
        P = x0 + rng.uniform(-1.0, 1.0, (n, x0.size))
        (a, b), (c, d) = problem.domain
        P[:, 0] = rng.uniform(a, b, n)
        if x0.size > 1:
            P[:, 1] = rng.uniform(c, d, n)
        points = np.vstack([x0, P])
    points = np.atleast_2d(check_array("points", points, finite=False, what=f"points of dimension {dim}"))
    if points.ndim != 2 or points.shape[1] != dim:
        raise ValueError(f"points must have shape (m, {dim}) for {problem.name}, got {points.shape}")
    check_memory(f"check_gradient at {len(points)} points of dim {dim}", 8.0 * len(points) * dim * (2 * dim + 2))
    method = "complex step"
    try:
        derivs = [_complex_step(problem.f, x) for x in points]
    except Exception:               # f is compiled, or not analytic in complex arguments
        method = "central differences"
        derivs = [_central(problem.f, x) for x in points]
    error = 0.0
    for x, ref in zip(points, derivs):
        g = np.asarray(problem.grad(x), dtype=np.float64).reshape(-1)
        if g.shape != ref.shape:
            raise ValueError(f"problem {problem.name!r}: grad returned shape {g.shape} for a point of dimension "
                             f"{x.size}")
        error = max(error, float(np.max(np.abs(g - ref) / np.maximum(1.0, np.abs(ref)))))
    return GradientCheck(error, method, len(points))
