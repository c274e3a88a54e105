"""Three-body lab: gravitating systems, their invariants, and Numba integrators.

    import labkit.threebody as tb
    orbit = tb.integrate(tb.pythagorean(), tb.ias15(), t_end=70.0)
    orbit.energy_error[-1], orbit.steps, orbit.evals      # -6.8e-12, 12560, 198263
    state = tb.init(tb.paper_system(seed=3))
    tb.advance(state, tb.hermite(mu=1e-2), 0.1)            # in place, exactly 0.1 later

Newtonian gravity in N-body units (G = 1 unless a system says otherwise):

    x_i'' = a_i = sum_{j != i} G m_j (x_j - x_i) / |x_j - x_i|^3,
    E = sum_i m_i |v_i|^2 / 2 - sum_{i<j} G m_i m_j / |x_i - x_j|,   L = sum_i m_i x_i x v_i.

**Systems** are :class:`System` records (masses, positions, velocities, G, what is known:
period, reference, units); energy, angular momentum and centre of mass are methods that
also accept whole trajectories.  Built in: :func:`pythagorean` (Burrau's problem),
:func:`figure_eight` (Chenciner-Montgomery, refined to be periodic to ~1e-15) and
:func:`paper_system` (the random triples of Saz Ulibarrena & Portegies Zwart 2025).

**Integrators** are :class:`Integrator` records built by :func:`leapfrog`, :func:`rk4`,
:func:`hermite` (the paper's step rule dt = mu * collision time), :func:`hermite_aarseth`
and :func:`ias15`; hyperparameters are runtime values, so a new mu costs no compilation.

**Drivers**: :func:`integrate` returns an :class:`Orbit` (samples, step sizes, counts,
energy error).  :func:`init` / :func:`advance` / :func:`evolve` move a :class:`State` in
place, in chunks that end exactly where asked, for ~3 us of overhead a call: what an RL
environment that resets mu every 0.1 time units needs.  Step and force-evaluation counts
are deterministic; wall time is not (the project's three-body spec).

Why these choices (measured, spec §2-3):

* Compensated (Kahan) summation of every position, velocity and time update.  Without
  it a 4th-order Hermite stalls at |dE/E| ~ 1e-8 on the Pythagorean problem, whatever
  the step: the t = 15.83 encounter (r ~ 4e-4 at |x| ~ 1, steps ~ 1e-9) adds increments
  a million times smaller than the coordinates.
* Energy conservation is not correctness: on the Pythagorean problem MERCURIUS and a
  fixed-step leapfrog conserve energy to 2e-10 and still send the wrong body away.
  The tests check the outcome (the mass-3 body at |r| = PYTHAGOREAN_R3 +- PYTHAGOREAN_R3_TOL at
  t = 70, a band from a convergence study: see :func:`pythagorean`).
* IAS15 takes eps >= IAS15_MIN_EPS = 1e-9 (:func:`ias15` raises below): smaller eps stalls at
  the Pythagorean encounter instead of converging further.
* IAS15 here steers its step by REBOUND's *global* rule.  The per-body rule that is
  REBOUND's default since 2024 (PRS23) stalls on the refined figure-eight at t ~ T/6,
  where the middle body's acceleration passes through ~0 (steps of 1e-32).
"""
from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from . import _jit
from ._errors import check_array, check_bool, check_int, check_memory, check_nonneg, check_positive, check_real, shown

_jit.begin_kernel_imports()     # cache the kernels where the rest of labkit's go
try:
    from . import _nbody as nb
finally:
    _jit.end_kernel_imports()

__all__ = [
    "INTEGRATORS", "SYSTEMS", "Integrator", "Orbit", "State", "System", "advance", "evolve",
    "IAS15_MIN_EPS", "PYTHAGOREAN_R3", "PYTHAGOREAN_R3_TOL",
    "figure_eight", "hermite", "hermite_aarseth", "ias15", "init", "integrate", "leapfrog",
    "paper_system", "pythagorean", "rk4",
]

# ----------------------------------------------------------------------------- systems


def _as_state_arrays(m, x, v):
    m = check_array("m", m, finite=False, what="masses").reshape(-1)
    x = check_array("x", x, finite=False, what="positions (n, d)")
    v = check_array("v", v, finite=False, what="velocities (n, d)")
    n = m.size
    if n < 2:
        raise ValueError(f"m must hold at least 2 masses (one per body), got {n}")
    if not (np.all(np.isfinite(m)) and np.all(m > 0)):
        raise ValueError(f"masses must be finite and > 0, got {m}")
    if x.ndim != 2 or x.shape[0] != n or x.shape[1] not in (2, 3):
        raise ValueError(f"x must have shape ({n}, 2) or ({n}, 3) for {n} masses, got {x.shape}")
    if v.shape != x.shape:
        raise ValueError(f"v must have the shape of x {x.shape}, got {v.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(v))):
        raise ValueError("x and v must be finite")
    return m, x, v


def _positions(x, n, d, what):
    arr = np.asarray(x, dtype=np.float64)
    if arr.shape[-2:] != (n, d):
        raise ValueError(f"{what} must have shape (..., {n}, {d}), got {arr.shape}")
    return arr


@dataclass(frozen=True, eq=False, kw_only=True)
class System:
    """A gravitating system as a record: masses ``m`` (n,), positions ``x`` and velocities
    ``v`` (n, d) with d = 2 (planar) or 3, the constant ``G``; what is known about it
    (``period``, ``reference``, ``description``) and ``units``, what one N-body unit is
    in physical units where the system was defined physically.

    Invariants are methods.  Called without arguments they evaluate the initial state; with
    ``x``, ``v`` of shape (..., n, d) (a trajectory, e.g. ``orbit.x, orbit.v``) they
    evaluate every sample.
    """

    name: str
    m: np.ndarray
    x: np.ndarray
    v: np.ndarray
    G: float = 1.0
    period: float | None = None
    reference: str = "user-defined"
    description: str = ""
    units: dict = field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a string, got {shown(self.name)}")
        m, x, v = _as_state_arrays(self.m, self.x, self.v)
        check_positive("G", self.G)
        if self.period is not None:
            check_positive("period", self.period)
        for name, arr in (("m", m), ("x", x), ("v", v)):
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "G", float(self.G))

    @property
    def n(self) -> int:
        return self.m.size

    @property
    def d(self) -> int:
        return self.x.shape[1]

    @functools.cached_property
    def e0(self) -> float:
        """The initial energy (what energy errors are relative to)."""
        return self.energy()

    def energy(self, x=None, v=None):
        """E = sum_i m_i |v_i|^2 / 2 - sum_{i<j} G m_i m_j / r_ij (a float, or an array over samples)."""
        x = self.x if x is None else _positions(x, self.n, self.d, "x")
        v = self.v if v is None else _positions(v, self.n, self.d, "v")
        lead = np.broadcast_shapes(x.shape, v.shape)[:-2]
        X = np.ascontiguousarray(np.broadcast_to(x, lead + x.shape[-2:]).reshape(-1, self.n * self.d))
        V = np.ascontiguousarray(np.broadcast_to(v, lead + v.shape[-2:]).reshape(-1, self.n * self.d))
        out = np.empty(X.shape[0])
        nb.energies(self.m, self.G, self.d, X, V, out)
        return float(out[0]) if lead == () else out.reshape(lead)

    def angular_momentum(self, x=None, v=None):
        """L = sum_i m_i x_i x v_i: L_z (planar systems) or the vector (..., 3)."""
        x = self.x if x is None else _positions(x, self.n, self.d, "x")
        v = self.v if v is None else _positions(v, self.n, self.d, "v")
        if self.d == 2:
            lz = np.einsum("i,...i->...", self.m, x[..., 0] * v[..., 1] - x[..., 1] * v[..., 0])
            return float(lz) if lz.ndim == 0 else lz
        return np.einsum("i,...ik->...k", self.m, np.cross(x, v))

    def center_of_mass(self, x=None, v=None):
        """(R, V): the mass-weighted mean position and velocity, each (..., d)."""
        x = self.x if x is None else _positions(x, self.n, self.d, "x")
        v = self.v if v is None else _positions(v, self.n, self.d, "v")
        M = self.m.sum()
        return (np.einsum("i,...ik->...k", self.m, x) / M, np.einsum("i,...ik->...k", self.m, v) / M)

    def replace(self, **changes) -> "System":
        """A copy with some fields changed (e.g. ``x=...`` for a perturbed start)."""
        import dataclasses
        return dataclasses.replace(self, **changes)


# |r_3| at t = 70 of the Pythagorean problem, and the band every converged run lies in
# (the convergence study in pythagorean's docstring): 21.3965-21.4340, centred and rounded outwards.
PYTHAGOREAN_R3 = 21.415
PYTHAGOREAN_R3_TOL = 0.025


def pythagorean() -> System:
    """Burrau's (Pythagorean) problem: masses 3, 4, 5 at rest at the corners of a 3-4-5
    right triangle, (1, 3), (-2, -1), (1, -1); G = 1, centre of mass at 0, E0 = -769/60.

    After close encounters (the deepest: bodies 4 and 5 at r = 4.1e-4, t = 15.83) the
    mass-3 body escapes and 4-5 leave as a binary, the escaper at |r_3| = ``PYTHAGOREAN_R3``
    +- ``PYTHAGOREAN_R3_TOL`` = 21.415 +- 0.025 from the centre of mass at t = 70.  That band
    is what converged runs agree on, no tighter: the encounters amplify rounding, so the
    value moves by ~0.01 with the output times (each sample ends a step) and with eps, in
    labkit and REBOUND alike.  Convergence study (|r_3| at t = 70, 2-D, samples every 70/n):

    run (|dE/E0| range)                   n = 1 (2 for labkit)   n = 70    n = 700   n = 7000
    labkit IAS15 eps 3e-8 (2e-11..7e-11)        21.4251           21.4123   21.4085   21.4123
    labkit IAS15 eps 1e-8 (7e-12..9e-11)        21.4196           21.4137   21.4136   21.4278
    labkit IAS15 eps 3e-9 (5e-13..1.1e-10)      21.4147           21.4325   21.4138   21.4188
    labkit IAS15 eps 1e-9 (3e-12..7e-11)        21.4147           21.4048   21.4145   21.4143
    REBOUND 5.2.2 global 1e-8 (2e-12..1e-11)    21.4189           21.4165   21.4158
    REBOUND 5.2.2 global 1e-9 (1e-11..8e-11)    21.4190           21.4165   21.4273
    REBOUND 5.2.2 PRS23 1e-8 (8e-12..1.2e-10)   21.4145           21.4340   21.3965
    REBOUND 5.2.2 PRS23 1e-9 (3e-11..1e-10)     21.4199           21.4306   21.3997

    All 28 runs lie in 21.3965-21.4340; ``PYTHAGOREAN_R3_TOL`` is that range's half-width
    rounded outwards.  Looser eps leaves it (1e-5: 21.383; 3e-7: 21.452).  Energy errors up
    to 1.2e-10 occur in converged runs, so 1e-9 is a safe bound for |dE/E0|, 1e-10 is not.
    """
    return System(name="pythagorean", m=[3.0, 4.0, 5.0], x=[[1.0, 3.0], [-2.0, -1.0], [1.0, -1.0]],
                  v=np.zeros((3, 2)), G=1.0,
                  reference="Burrau (1913), Astron. Nachr. 195, 113; Szebehely & Peters (1967), AJ 72, 876",
                  description="masses 3, 4, 5 at rest on a 3-4-5 triangle; E0 = -769/60; the 3 escapes")


FIGURE_EIGHT_PERIOD = 6.325914009782138


def figure_eight() -> System:
    """The figure-eight choreography (Moore 1993; Chenciner & Montgomery 2000; Simo 2002).

    m = 1 each, x1 = -x2 = (0.97000436, -0.24308753), x3 = 0, v1 = v2 = -v3/2 with
    v3 = (-0.9324073681390784, -0.8647314618349538): Simo's 8-digit v3 refined (Newton
    on the return map) so that the orbit closes to ~1e-15 after one period
    T = 6.325914009782138.  Simo's 8-digit v3, (-0.93240737, -0.86473146), returns only to
    1.5e-8 after ten periods T (2.3e-9 after one), at IAS15 eps 1e-9 and 3e-9 alike, where
    the refined v3 returns to 1e-14: the residual measures the initial conditions, not the
    integrator (tests/test_threebody.py checks both numbers).
    """
    x1 = np.array([0.97000436, -0.24308753])
    v3 = np.array([-0.9324073681390784, -0.8647314618349538])
    return System(name="figure_eight", m=[1.0, 1.0, 1.0], x=[x1, -x1, [0.0, 0.0]],
                  v=[-v3 / 2.0, -v3 / 2.0, v3], G=1.0, period=FIGURE_EIGHT_PERIOD,
                  reference="Chenciner & Montgomery (2000), Ann. Math. 152, 881; Simo (2002), "
                            "Contemp. Math. 292, 209 (initial conditions)",
                  description="three equal masses chasing each other on a figure eight")


# IAU 2015 nominal solar mass parameter and the astronomical unit (exact by definition).
_GM_SUN = 1.3271244e20          # m^3 s^-2
_AU = 1.495978707e11            # m
_YEAR = 365.25 * 86400.0        # s (Julian year, AMUSE's units.yr)


def paper_system(seed: int = 0) -> System:
    """A random triple of Saz Ulibarrena & Portegies Zwart (2025), in N-body units.

    Three 1 Msun bodies in a plane: body 0 at the origin moving at 10 km/s along +y, body 1
    uniform in [5, 20] x [0, 10] au moving at 10 km/s along -x, body 2 uniform in
    [-10, 0] x [5, 20] au at rest; then moved to the centre-of-mass frame.  Drawn as the
    authors' code does (``np.random.seed(seed)``; one ``uniform`` call for x1, y1, x2, y2),
    so seed k is their initial condition k.  Units are AMUSE's
    ``nbody_to_si(3 Msun, 1 au)``: mass unit 3 Msun (each m = 1/3), length unit 1 au,
    G = 1; one time unit is ~0.0919 yr and one velocity unit ~51.6 km/s (``units``), from
    the IAU nominal G Msun (AMUSE's older constants differ by ~1e-4).  The paper's RL
    agent acts every 0.1 yr, ~1.09 time units here.  Its Hermite runs used a softening
    eps^2 = 1e-9 (au^2); labkit's gravity is unsoftened.
    """
    seed = check_int("seed", seed, 0, 2**32 - 1)        # RandomState's range
    lo = np.array([5.0, 0.0, -10.0, 5.0])
    hi = np.array([20.0, 10.0, 0.0, 20.0])
    k = np.random.RandomState(int(seed)).uniform(low=lo, high=hi)
    m_unit = 3.0                                            # Msun
    v_unit = math.sqrt(_GM_SUN * m_unit / _AU) / 1e3        # km/s per N-body velocity unit
    t_unit = _AU / (v_unit * 1e3) / _YEAR                   # yr per N-body time unit
    x = np.array([[0.0, 0.0], [k[0], k[1]], [k[2], k[3]]])
    v = np.array([[0.0, 10.0], [-10.0, 0.0], [0.0, 0.0]]) / v_unit
    m = np.full(3, 1.0 / m_unit)
    x -= m @ x / m.sum()
    v -= m @ v / m.sum()
    return System(name=f"paper_system(seed={int(seed)})", m=m, x=x, v=v, G=1.0,
                  reference="Saz Ulibarrena & Portegies Zwart (2025), CNSNS, doi:10.1016/j.cnsns.2025.108723; "
                            "arXiv:2502.12809 (initial conditions of github.com/veronicasaz/ThreeBodyProblem_astronomy)",
                  description="three 1 Msun bodies, 10 km/s, random positions (au) in two boxes",
                  units={"length_au": 1.0, "mass_msun": m_unit, "time_yr": t_unit, "velocity_kms": v_unit})


SYSTEMS = {"pythagorean": pythagorean, "figure_eight": figure_eight, "paper_system": paper_system}


# ----------------------------------------------------------------------------- integrators


@dataclass(frozen=True, eq=False)
class Integrator:
    """An integrator as a record: ``name``, its kernel ``kind``, hyperparameters ``hyper``
    (a dict of floats named as in the papers), ``adaptive``, ``reference``.  Build one with
    :func:`leapfrog`, :func:`rk4`, :func:`hermite`, :func:`hermite_aarseth` or :func:`ias15`;
    construction is cheap (~1 us), so change mu by building a new one."""

    name: str
    kind: int
    hyper: dict
    adaptive: bool
    reference: str
    p: np.ndarray = field(repr=False)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyper.items())
        return f"{self.name}({args})"


def leapfrog(dt: float) -> Integrator:
    """Kick-drift-kick leapfrog (velocity Verlet), fixed step ``dt``; 2nd order, symplectic,
    time-reversible; one force evaluation a step::

        v <- v + dt/2 a(x);   x <- x + dt v;   v <- v + dt/2 a(x)

    The bridge to optimisers: gradient descent is explicit Euler on the gradient flow
    x' = -grad f; heavy ball is the damped Hamiltonian dynamics x'' = -grad f - gamma x'
    stepped the same way as here.  With a = -grad f and the half-step velocities
    v_{n+1/2} = v_{n-1/2} + dt a(x_n), x_{n+1} = x_n + dt v_{n+1/2}, the buffer p = dt v
    follows p <- beta p - lr grad f(x), x <- x + p with lr = dt^2 and beta = 1: momentum
    SGD without friction (beta = 1 - gamma dt adds it back) visits exactly this leapfrog's
    positions (Polyak 1964; jax-md's FIRE is built on this velocity-Verlet step).

    Reference: Verlet (1967), Phys. Rev. 159, 98; Hairer, Lubich & Wanner (2003), Acta Numerica 12, 399.
    """
    dt = check_positive("dt", dt)
    return Integrator("leapfrog", nb.LEAPFROG, {"dt": dt}, False,
                      "Verlet (1967), Phys. Rev. 159, 98; Hairer, Lubich & Wanner (2003), Acta Numer. 12, 399",
                      np.array([dt]))


def rk4(dt: float) -> Integrator:
    """Classical 4th-order Runge-Kutta on y = (x, v), y' = (v, a(x)), fixed step ``dt``;
    four force evaluations a step; not symplectic (energy drifts secularly).

    Reference: Kutta (1901), Z. Math. Phys. 46, 435.
    """
    dt = check_positive("dt", dt)
    return Integrator("rk4", nb.RK4, {"dt": dt}, False, "Kutta (1901), Z. Math. Phys. 46, 435", np.array([dt]))


def hermite(mu: float = 0.03, kahan: bool = True) -> Integrator:
    """4th-order Hermite predictor-evaluator-corrector with the paper's step rule.

    Predict with the Taylor series in a and the jerk j = a', evaluate a_1, j_1 there,
    correct (Makino & Aarseth 1992)::

        v_1 = v_0 + h/2 (a_0 + a_1) + h^2/12 (j_0 - j_1)
        x_1 = x_0 + h/2 (v_0 + v_1) + h^2/12 (a_0 - a_1)

    Step: h = mu * min over pairs (i, j) of min(r_ij / v_ij, sqrt(r_ij^3 / (G (m_i + m_j)))),
    the collision time of AMUSE's ``hermite0`` whose ``dt_param`` (default 0.03) is the
    time-step parameter mu that the paper's RL agent picks, from 1e-4 to 1e-1.  The error
    scales as mu^4.  ``kahan`` compensates the updates (the default; without it the
    Pythagorean problem stalls at |dE/E| ~ 1e-8).  One force-and-jerk evaluation a step.

    Reference: Makino & Aarseth (1992), PASJ 44, 141; Saz Ulibarrena & Portegies Zwart (2025),
    CNSNS, doi:10.1016/j.cnsns.2025.108723 (the mu rule, via AMUSE hermite0).
    """
    mu, kahan = check_positive("mu", mu), check_bool("kahan", kahan)
    return Integrator("hermite", nb.HERMITE, {"mu": mu, "kahan": bool(kahan)}, True,
                      "Makino & Aarseth (1992), PASJ 44, 141; Saz Ulibarrena & Portegies Zwart (2025), "
                      "CNSNS, doi:10.1016/j.cnsns.2025.108723",
                      np.array([mu, 1.0 if kahan else 0.0]))


def hermite_aarseth(eta: float = 0.02, kahan: bool = True) -> Integrator:
    """4th-order Hermite (as :func:`hermite`) with Aarseth's step criterion::

        h = min_i sqrt(eta (|a| |a''| + |a'|^2) / (|a'| |a'''| + |a''|^2))

    with a'' and a''' from the Hermite interpolation of a over the previous step.  The
    first step is 0.1 sqrt(eta) times the collision time (see :func:`hermite`): the usual
    start, eta_s min_i |a_i| / |a'_i|, is 0 for the figure-eight, whose middle body
    starts with a = 0.

    Reference: Aarseth (1985), in Multiple Time Scales, 377; Makino & Aarseth (1992), PASJ 44, 141.
    """
    eta, kahan = check_positive("eta", eta), check_bool("kahan", kahan)
    return Integrator("hermite_aarseth", nb.HERMITE_AARSETH, {"eta": eta, "kahan": bool(kahan)}, True,
                      "Aarseth (1985), Multiple Time Scales, 377; Makino & Aarseth (1992), PASJ 44, 141",
                      np.array([eta, 1.0 if kahan else 0.0]))


# Smallest IAS15 eps accepted: below it the run stalls (see ias15's docstring).
IAS15_MIN_EPS = 1e-9


def ias15(eps: float = 1e-9) -> Integrator:
    """IAS15: a 15th-order implicit Gauss-Radau integrator with adaptive steps.

    Over a step, a(tau) = a_0 + sum_{k=1..7} b_k tau^k (tau = t/h) is fitted at the seven
    Gauss-Radau nodes by predictor-corrector iteration (to 1e-16, at most 12 sweeps of
    7 force evaluations; usually 2).  Then::

        x_1 = x_0 + h v_0 + h^2 (a_0/2 + sum_k b_k / ((k+1)(k+2)))
        v_1 = v_0 + h (a_0 + sum_k b_k / (k+1))

    Step control keeps the last term's relative size at ``eps``: h_new = h (eps / err)^(1/7),
    err = max|b_7| / max|a| over all coordinates (REBOUND's "global" mode, which does not
    stall where one body's acceleration passes through 0); steps below 1/4 of the current
    one are redone, growth is capped at 4x.  Updates are compensated (Kahan).

    **eps >= IAS15_MIN_EPS = 1e-9**, else ValueError.  Below it the error estimate cannot reach
    eps at a deep encounter (the Pythagorean problem's r = 4e-4 at t = 15.83): it is a
    difference of accelerations carrying their rounding, so a smaller step does not lower it,
    and the step shrinks until the run stops or crawls.  Measured on the Pythagorean problem
    to t = 70: eps from 1e-5 down to 5e-10 finishes (12,564 steps at 1e-9, 13,994 at 5e-10);
    3e-10 takes 10^8 steps without leaving t = 15.8299 (10 minutes); 1e-10 stalls at
    t = 15.83, 1e-11 at t = 1.879.  REBOUND's default is also 1e-9.  Smaller eps would not
    help anyway: at 1e-9 the energy error is already at rounding level (~1e-11).

    Reference: Everhart (1985), in Dynamics of Comets, 185; Rein & Spiegel (2015), MNRAS 446, 1424.
    """
    eps = check_positive("eps", eps)
    if eps < IAS15_MIN_EPS:
        raise ValueError(f"ias15: eps={eps:g} is below IAS15_MIN_EPS={IAS15_MIN_EPS:g}, where IAS15 stalls at "
                         "close encounters (the Pythagorean problem: eps=1e-10 stops at t=15.83, 3e-10 crawls "
                         "for 1e8 steps); use eps in [1e-9, 1e-5] (1e-9 is already at rounding level)")
    return Integrator("ias15", nb.IAS15, {"eps": eps}, True,
                      "Everhart (1985), Dynamics of Comets, 185; Rein & Spiegel (2015), MNRAS 446, 1424",
                      np.array([eps]))


INTEGRATORS = {"leapfrog": leapfrog, "rk4": rk4, "hermite": hermite, "hermite_aarseth": hermite_aarseth,
               "ias15": ias15}

_KERNELS = {nb.LEAPFROG: nb.leapfrog, nb.RK4: nb.rk4, nb.HERMITE: nb.hermite,
            nb.HERMITE_AARSETH: nb.hermite_aarseth, nb.IAS15: nb.ias15}


# ----------------------------------------------------------------------------- state and drivers


class State(NamedTuple):
    """A system's state during integration, advanced *in place* by :func:`advance`/:func:`evolve`.

    ``xf``, ``vf`` (flat), their Kahan compensations ``cx``, ``cv``, the integrator's memory
    ``mem``, float scalars ``s`` and int counters ``c`` (slots in ``labkit._nbody``).  Read
    it through ``t``, ``x``, ``v`` (views, (n, d)), ``steps``, ``evals``, ``rejected`` and
    the invariant methods.  ``copy()`` forks it; ``set(x=..., v=...)`` edits it (writing
    into ``x``/``v`` directly would leave integrators with stale stored forces).
    """

    system: System
    xf: np.ndarray
    vf: np.ndarray
    cx: np.ndarray
    cv: np.ndarray
    mem: np.ndarray
    s: np.ndarray
    c: np.ndarray

    @property
    def t(self) -> float:
        return float(self.s[nb.S_T])

    @property
    def x(self) -> np.ndarray:
        return self.xf.reshape(self.system.n, self.system.d)

    @property
    def v(self) -> np.ndarray:
        return self.vf.reshape(self.system.n, self.system.d)

    @property
    def steps(self) -> int:
        """Accepted steps so far."""
        return int(self.c[nb.C_STEPS])

    @property
    def evals(self) -> int:
        """Force evaluations so far (Hermite's count force and jerk together)."""
        return int(self.c[nb.C_EVALS])

    @property
    def rejected(self) -> int:
        return int(self.c[nb.C_REJECTED])

    @property
    def dt(self) -> float:
        """The step the integrator proposes next (adaptive integrators; 0 before the first)."""
        return float(self.s[nb.S_DT])

    def energy(self) -> float:
        sy = self.system
        out = np.empty(1)               # direct kernel call: ~1 us, for an environment's every step
        nb.energies(sy.m, sy.G, sy.d, self.xf.reshape(1, -1), self.vf.reshape(1, -1), out)
        return float(out[0])

    def energy_error(self) -> float:
        """(E - E0) / |E0| against the system's initial energy."""
        e0 = self.system.e0
        return (self.energy() - e0) / abs(e0)

    def angular_momentum(self):
        return self.system.angular_momentum(self.x, self.v)

    def center_of_mass(self):
        return self.system.center_of_mass(self.x, self.v)

    def copy(self) -> "State":
        return State(self.system, *(a.copy() for a in self[1:]))

    def set(self, x=None, v=None) -> "State":
        """Overwrite positions and/or velocities (e.g. a dragged body) and return the state.

        Clears what integrators carried over (stored forces, IAS15's predictor and step
        proposal, Kahan compensations): the next call starts afresh from the new state.
        The system's ``e0`` is unchanged, so ``energy_error`` then measures the edit too.
        """
        n, d = self.system.n, self.system.d
        for name, new, flat in (("x", x, self.xf), ("v", v, self.vf)):
            if new is not None:
                new = np.asarray(new, dtype=np.float64)
                if new.shape != (n, d) or not np.all(np.isfinite(new)):
                    raise ValueError(f"{name} must be finite with shape ({n}, {d}), got {new.shape}")
                flat[:] = new.reshape(-1)
        self.cx[:] = 0.0
        self.cv[:] = 0.0
        self.c[nb.C_MEMKIND] = -1
        return self


def init(system: System) -> State:
    """A fresh :class:`State` at t = 0 from the system's initial conditions."""
    if not isinstance(system, System):
        raise TypeError(f"system must be a System (e.g. lk.threebody.figure_eight()), got {shown(system)}")
    N = system.n * system.d
    c = np.zeros(nb.N_C, dtype=np.int64)
    c[nb.C_MEMKIND] = -1
    return State(system, system.x.reshape(-1).copy(), system.v.reshape(-1).copy(), np.zeros(N), np.zeros(N),
                 np.zeros((nb.N_MEM, N)), np.zeros(nb.N_S), c)


_NO_HIST = np.zeros(0)
_MESSAGES = {
    nb.MAX_STEPS: "took max_steps={max_steps} steps before t={t_end} (stopped at t={t}); raise max_steps "
                  "or loosen the step parameter",
    nb.NONFINITE: "the state became non-finite at t={t} (a collision, or a step far too large)",
    nb.STALL: "the step size collapsed below the resolution of t at t={t} (a collision?)",
}


def _check_integrator(integrator):
    if not isinstance(integrator, Integrator):
        raise TypeError(f"integrator must be an Integrator (e.g. lk.threebody.ias15()), got {shown(integrator)}")


#: Largest ``max_steps``: it reaches the kernels as int64 (each step costs microseconds, so the
#: bound is about a time budget, not a type: 10**12 steps would take days).
MAX_STEPS = 10**12


def _max_steps(max_steps):
    return check_int("max_steps", max_steps, 1, MAX_STEPS)


def _check_state(state):
    if not isinstance(state, State):
        raise TypeError(f"state must be a State (from lk.threebody.init(system)), got {shown(state)}")


def _run_kernel(state, integrator, t_end, max_steps, record, ht, hdt):
    sy = state.system
    return _KERNELS[integrator.kind](sy.m, sy.G, sy.d, state.xf, state.vf, state.cx, state.cv, state.mem,
                                     state.s, state.c, integrator.p, t_end, max_steps, record, ht, hdt)


def evolve(state: State, integrator: Integrator, t: float, *, max_steps: int = 100_000_000) -> State:
    """Advance ``state`` in place to time ``t`` (hit exactly: the last step is shortened)
    with ``integrator``, and return it.

    The integrator may change between calls (a new mu, or another method): Hermite's rule
    reads mu afresh each step; IAS15 keeps its step proposal and predictor across calls,
    so chunking costs few extra steps.  Raises RuntimeError after ``max_steps`` steps
    in this call, on a non-finite state or a collapsed step (the state stays consistent
    at the time it reached).
    """
    _check_state(state)
    _check_integrator(integrator)
    max_steps = _max_steps(max_steps)
    t = check_real("t", t)
    if t < state.s[nb.S_T]:
        raise ValueError(f"t must be finite and >= the state's time {state.t}, got {t}")
    status = _run_kernel(state, integrator, t, max_steps, False, _NO_HIST, _NO_HIST)
    if status != nb.DONE:
        raise RuntimeError(f"{integrator!r}: " + _MESSAGES[status].format(max_steps=max_steps, t_end=t, t=state.t))
    return state


def advance(state: State, integrator: Integrator, dt: float, *, max_steps: int = 100_000_000) -> State:
    """Advance ``state`` in place by ``dt`` >= 0 time units (see :func:`evolve`) and return it."""
    _check_state(state)
    dt = check_nonneg("dt", dt)
    return evolve(state, integrator, state.s[nb.S_T] + dt, max_steps=max_steps)


@dataclass(frozen=True, eq=False)
class Orbit:
    """What :func:`integrate` returns.

    ``t`` (T,), ``x``, ``v`` (T, n, d): samples at ``n_out + 1`` equally spaced times;
    ``step_t``, ``step_dt``: end time and size of every accepted step; ``steps``,
    ``evals`` (force evaluations), ``rejected`` (IAS15's redone steps), ``iterations``
    (IAS15's corrector sweeps); ``energy_error`` (T,), (E - E0) / |E0| at each sample;
    ``wall_s``, the kernels' wall time; ``state``, the final :class:`State` (continue
    with :func:`advance`).
    """

    system: System
    integrator: Integrator
    t: np.ndarray
    x: np.ndarray
    v: np.ndarray
    step_t: np.ndarray
    step_dt: np.ndarray
    steps: int
    evals: int
    rejected: int
    iterations: int
    energy_error: np.ndarray
    wall_s: float
    state: State = field(repr=False)

    def energy(self):
        return self.system.energy(self.x, self.v)

    def angular_momentum(self):
        return self.system.angular_momentum(self.x, self.v)

    def center_of_mass(self):
        return self.system.center_of_mass(self.x, self.v)


def integrate(system: System, integrator: Integrator, t_end: float, *, n_out: int = 1000,
              record_steps: bool = True, max_steps: int = 100_000_000) -> Orbit:
    """Integrate ``system`` from t = 0 to ``t_end`` with ``integrator``; an :class:`Orbit`.

    Samples at ``n_out + 1`` equally spaced times (``n_out=1``: just the ends; more
    samples shorten a few steps, which IAS15 absorbs, see :func:`evolve`).  With
    ``record_steps`` every accepted step's end time and size are kept (the step-size
    history).  Raises RuntimeError as :func:`evolve` does.
    """
    if not isinstance(system, System):
        raise TypeError(f"system must be a System (e.g. lk.threebody.figure_eight()), got {shown(system)}")
    _check_integrator(integrator)
    t_end = check_nonneg("t_end", t_end)
    n_out = check_int("n_out", n_out, 1)
    check_memory(f"integrate with n_out={n_out} samples of {system.n} bodies", 8.0 * (n_out + 1) * (2 * system.x.size + 3),
                 per_unit=8.0 * (2 * system.x.size + 3), unit="samples (n_out)")
    record_steps = check_bool("record_steps", record_steps)
    max_steps = _max_steps(max_steps)
    state = init(system)
    n, d = system.n, system.d
    ts = np.linspace(0.0, t_end, n_out + 1)
    X = np.empty((n_out + 1, n, d))
    V = np.empty((n_out + 1, n, d))
    X[0], V[0] = system.x, system.v
    cap = 1024 if record_steps else 0
    ht, hdt = np.empty(cap), np.empty(cap)
    wall = 0.0
    for k in range(1, n_out + 1):
        while True:
            t0 = time.perf_counter()
            status = _run_kernel(state, integrator, ts[k], max_steps - state.steps - state.rejected, record_steps,
                                 ht, hdt)
            wall += time.perf_counter() - t0
            if status != nb.HIST_FULL:
                break
            ht, hdt = np.resize(ht, 2 * ht.size), np.resize(hdt, 2 * hdt.size)
        if status != nb.DONE:
            raise RuntimeError(f"{integrator!r} on {system.name}: "
                               + _MESSAGES[status].format(max_steps=max_steps, t_end=t_end, t=state.t))
        X[k], V[k] = state.x, state.v
    used = int(state.c[nb.C_HIST])
    e = system.energy(X, V)
    e0 = system.e0
    return Orbit(system, integrator, ts, X, V, ht[:used].copy(), hdt[:used].copy(), state.steps, state.evals,
                 state.rejected, int(state.c[nb.C_ITERS]), (e - e0) / abs(e0), wall, state)
