"""lk.threebody: systems, invariants, integrators (issue 8).

Reference numbers: the project's three-body spec (REBOUND 5.2.2 on this machine).  The
Pythagorean outcome (Szebehely & Peters 1967): the mass-3 body escapes and is at
|r| = tb.PYTHAGOREAN_R3 +- tb.PYTHAGOREAN_R3_TOL (21.415 +- 0.025) from the centre of mass
at t = 70 in every converged run (the convergence study in tb.pythagorean's docstring);
bodies 4 and 5 leave as a binary.  Energy alone is not a check there (a leapfrog at dt = 1e-7
conserves it to 2e-10 and sends the wrong body away), so the outcome is asserted too.
"""
from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

import labkit.threebody as tb
from labkit import _nbody as nb

FIG8 = tb.figure_eight()
T8 = FIG8.period
PYTH = tb.pythagorean()


def pythagorean_outcome(x, v):
    """(|r_3| from the centre of mass, two-body energy of the 4-5 pair) at one sample."""
    m = PYTH.m
    R, _ = PYTH.center_of_mass(x, v)
    r3 = float(np.linalg.norm(x[0] - R))
    mu = m[1] * m[2] / (m[1] + m[2])
    dv = v[2] - v[1]
    e45 = 0.5 * mu * dv @ dv - m[1] * m[2] / float(np.linalg.norm(x[2] - x[1]))
    return r3, e45


def assert_pythagorean(orbit, tol_e=1e-10):
    de = np.abs(orbit.energy_error).max()
    dl = np.abs(orbit.angular_momentum() - PYTH.angular_momentum()).max()
    r3, e45 = pythagorean_outcome(orbit.x[-1], orbit.v[-1])
    assert de <= tol_e, f"|dE/E0| = {de:.2e}"
    assert dl <= 1e-10, f"|dLz| = {dl:.2e}"
    assert abs(r3 - tb.PYTHAGOREAN_R3) <= tb.PYTHAGOREAN_R3_TOL, f"|r_3| = {r3:.4f} at t = 70 (converged: 21.415 +- 0.025)"
    assert e45 < 0.0, f"bodies 4 and 5 unbound: E_45 = {e45}"


def return_error(orbit):
    return float(np.abs(orbit.x[-1] - FIG8.x).max())


# ----------------------------------------------------------------------------- systems

def test_pythagorean_initial_invariants():
    assert PYTH.energy() == pytest.approx(-769 / 60, rel=1e-15)
    assert PYTH.angular_momentum() == 0.0
    R, V = PYTH.center_of_mass()
    np.testing.assert_allclose(R, 0.0, atol=1e-15)
    np.testing.assert_allclose(V, 0.0, atol=0)


def test_figure_eight_initial_invariants():
    assert FIG8.energy() == pytest.approx(-1.287141991988918, rel=1e-14)
    assert FIG8.angular_momentum() == pytest.approx(0.0, abs=1e-15)
    R, V = FIG8.center_of_mass()
    np.testing.assert_allclose(R, 0.0, atol=1e-16)
    np.testing.assert_allclose(V, 0.0, atol=1e-16)


def test_paper_system_matches_the_authors_draw():
    s = tb.paper_system(seed=7)
    rs = np.random.RandomState(7)
    np.random.seed(7)                       # the authors' code: np.random.seed + one uniform
    k = np.random.uniform(low=[5, 0, -10, 5], high=[20, 10, 0, 20])
    assert np.array_equal(k, rs.uniform(low=[5, 0, -10, 5], high=[20, 10, 0, 20]))
    np.testing.assert_allclose(s.m, 1 / 3)
    # undo the centre-of-mass shift: body 0 at the origin, bodies 1, 2 at the draws (au)
    np.testing.assert_allclose(s.x - s.x[0], [[0, 0], [k[0], k[1]], [k[2], k[3]]], rtol=1e-14, atol=1e-13)
    vkms = (s.v - s.v[2]) * s.units["velocity_kms"]          # body 2 was at rest
    np.testing.assert_allclose(vkms, [[0, 10], [-10, 0], [0, 0]], atol=1e-12)
    R, V = s.center_of_mass()
    np.testing.assert_allclose(R, 0, atol=1e-14)
    np.testing.assert_allclose(V, 0, atol=1e-16)
    assert s.units["time_yr"] == pytest.approx(0.0919, abs=1e-4)           # nbody_to_si(3 Msun, 1 au)
    assert s.units["velocity_kms"] == pytest.approx(51.6, abs=0.05)
    assert not np.array_equal(tb.paper_system(0).x, s.x)
    assert np.array_equal(tb.paper_system(7).x, s.x)


def test_invariants_over_a_trajectory_match_single_states():
    o = tb.integrate(FIG8, tb.ias15(), T8 / 3, n_out=5)
    e = o.energy()
    assert e.shape == (6,)
    for k in range(6):
        assert e[k] == FIG8.energy(o.x[k], o.v[k])
        assert o.angular_momentum()[k] == FIG8.angular_momentum(o.x[k], o.v[k])
    R, V = o.center_of_mass()
    assert R.shape == V.shape == (6, 2)
    np.testing.assert_allclose(o.energy_error, (e - FIG8.energy()) / abs(FIG8.energy()))


def test_three_dimensional_systems():
    x = np.c_[PYTH.x, [0.1, -0.2, 0.05]]
    s3 = tb.System(name="tilted", m=PYTH.m, x=x, v=np.zeros((3, 3)))
    assert s3.angular_momentum().shape == (3,)
    o = tb.integrate(s3, tb.ias15(), 5.0, n_out=2)
    assert o.x.shape == (3, 3, 3)
    assert abs(o.energy_error[-1]) < 1e-12
    # z = 0: the same motion as the planar system
    flat = tb.System(name="flat", m=PYTH.m, x=np.c_[PYTH.x, np.zeros(3)], v=np.zeros((3, 3)))
    o3 = tb.integrate(flat, tb.hermite(mu=0.01), 2.0, n_out=1)
    o2 = tb.integrate(PYTH, tb.hermite(mu=0.01), 2.0, n_out=1)
    np.testing.assert_array_equal(o3.x[-1, :, :2], o2.x[-1])
    assert np.all(o3.x[-1, :, 2] == 0)


# ----------------------------------------------------------------------------- correctness

def test_pythagorean_ias15_energy_angular_momentum_and_outcome():
    o = tb.integrate(PYTH, tb.ias15(eps=1e-9), 70.0, n_out=70)
    assert_pythagorean(o)
    assert o.t[-1] == 70.0
    # the step history adds up to the run, and shows the t = 15.83 encounter
    assert o.step_dt.size == o.steps
    assert o.step_dt.sum() == pytest.approx(70.0, rel=1e-12)
    assert np.all(np.diff(o.step_t) > 0)
    deepest = o.step_t[np.argmin(o.step_dt)]
    assert 15.7 < deepest < 15.9


def test_pythagorean_to_t_100_continues_from_the_orbit_state():
    o = tb.integrate(PYTH, tb.ias15(), 70.0, n_out=1)
    st = tb.advance(o.state, tb.ias15(), 30.0)
    assert st.t == 100.0
    R, _ = st.center_of_mass()
    assert abs(float(np.linalg.norm(st.x[0] - R)) - 72.32) <= 0.10      # spec §2a, t = 100
    assert abs(st.energy_error()) <= 1e-10


def test_hermite_first_step_is_mu_times_the_collision_time():
    """The paper's rule (AMUSE hermite0): dt = mu min_pairs min(r/v, sqrt(r^3 / (m_i + m_j)))."""
    for system in (FIG8, tb.paper_system(seed=2), PYTH):
        tcoll = math.inf
        for i in range(3):
            for j in range(i + 1, 3):
                r = np.linalg.norm(system.x[j] - system.x[i])
                v = np.linalg.norm(system.v[j] - system.v[i])
                tcoll = min(tcoll, r / v if v > 0 else math.inf, math.sqrt(r**3 / (system.m[i] + system.m[j])))
        o = tb.integrate(system, tb.hermite(mu=0.02), 10.0, n_out=1)
        assert o.step_dt[0] == pytest.approx(0.02 * tcoll, rel=1e-14)


def test_pythagorean_hermite_with_kahan_meets_the_target():
    o = tb.integrate(PYTH, tb.hermite(mu=1e-3), 70.0, n_out=1)
    assert_pythagorean(o)
    assert o.evals == o.steps + 1           # one force-and-jerk evaluation a step


def test_kahan_summation_is_what_gets_hermite_below_1e_8():
    """Spec §2c: uncompensated, Hermite stalls at ~1e-8 on this problem, whatever mu."""
    plain = tb.integrate(PYTH, tb.hermite(mu=3e-4, kahan=False), 70.0, n_out=1)
    comp = tb.integrate(PYTH, tb.hermite(mu=3e-4, kahan=True), 70.0, n_out=1)
    assert abs(plain.energy_error[-1]) > 1e-9
    assert abs(comp.energy_error[-1]) < 1e-10


def test_hermite_aarseth_pythagorean():
    o = tb.integrate(PYTH, tb.hermite_aarseth(eta=1e-5), 70.0, n_out=1)
    assert_pythagorean(o, tol_e=3e-10)


def test_the_outcome_check_can_fail():
    """A loose run conserves energy to ~1e-6 yet ends elsewhere: the outcome check sees it."""
    o = tb.integrate(PYTH, tb.hermite(mu=0.01, kahan=False), 70.0, n_out=1)
    r3, _ = pythagorean_outcome(o.x[-1], o.v[-1])
    assert abs(o.energy_error[-1]) < 1e-5
    assert abs(r3 - 21.41) > 0.05
    with pytest.raises(AssertionError):
        assert_pythagorean(o, tol_e=1.0)


def test_figure_eight_100_periods_ias15():
    o = tb.integrate(FIG8, tb.ias15(), 100 * T8, n_out=100)
    assert return_error(o) <= 1e-9
    assert float(np.abs(o.v[-1] - FIG8.v).max()) <= 1e-9
    assert np.abs(o.energy_error).max() <= 1e-12
    # returns at every period, with the error growing no faster than linearly
    per = np.abs(o.x - FIG8.x).max(axis=(1, 2))
    assert per[1] < 1e-13
    assert o.steps <= 100 * 2 * 263                 # spec B4a: REBOUND GLOBAL takes 263 a period


def test_figure_eight_hermite_100_periods():
    o = tb.integrate(FIG8, tb.hermite(mu=1e-3), 100 * T8, n_out=1)
    assert return_error(o) <= 1e-9
    assert abs(o.energy_error[-1]) <= 1e-12


def test_no_step_size_stall_on_the_figure_eight():
    """At t = T/6 the middle body sits at the centre with a ~ 0 (REBOUND's default IAS15
    rule collapses to dt = 1e-32 there).  Stop exactly there, then go on: no stall."""
    for integrator in (tb.ias15(), tb.hermite(mu=0.01), tb.hermite_aarseth(eta=1e-3)):
        st = tb.init(FIG8)
        tb.evolve(st, integrator, T8 / 6, max_steps=10**6)
        a = np.zeros(6)
        nb.accel(FIG8.m, 1.0, 2, st.xf, a)
        amag = np.hypot(a[0::2], a[1::2])
        assert amag.min() < 1e-6 * amag.max()            # the middle body: a ~ 0
        tb.evolve(st, integrator, T8, max_steps=10**6)
        assert st.steps < 10**6
        if integrator.name == "ias15":
            assert st.steps <= 2 * 263
        assert float(np.abs(st.x - FIG8.x).max()) < 1e-3


# ----------------------------------------------------------------------------- orders

@pytest.mark.parametrize("make, order", [(tb.leapfrog, 2), (tb.rk4, 4)])
def test_fixed_step_convergence_order(make, order):
    """The error after one figure-eight period (the exact answer is the start) scales as dt^order."""
    errs = [return_error(tb.integrate(FIG8, make(T8 / n), T8, n_out=1)) for n in (200, 400, 800)]
    rates = np.log2(np.array(errs[:-1]) / errs[1:])
    assert np.all(np.abs(rates - order) < 0.5), rates


def test_hermite_error_scales_as_mu_to_the_fourth():
    errs = [return_error(tb.integrate(FIG8, tb.hermite(mu=mu), T8, n_out=1)) for mu in (0.04, 0.02, 0.01)]
    rates = np.log2(np.array(errs[:-1]) / errs[1:])
    assert np.all(np.abs(rates - 4) < 0.5), rates


def test_ias15_error_is_controlled_by_eps():
    coarse = tb.integrate(PYTH, tb.ias15(eps=1e-3), 20.0, n_out=1)      # past the t = 15.83 encounter
    fine = tb.integrate(PYTH, tb.ias15(eps=1e-9), 20.0, n_out=1)
    assert abs(fine.energy_error[-1]) < 1e-6 * abs(coarse.energy_error[-1])
    assert fine.steps > coarse.steps


def test_leapfrog_is_symplectic_no_energy_drift():
    """Leapfrog's energy error oscillates but does not grow; RK4's drifts."""
    lf = tb.integrate(FIG8, tb.leapfrog(T8 / 500), 20 * T8, n_out=200)
    early = np.abs(lf.energy_error[:20]).max()
    late = np.abs(lf.energy_error[-20:]).max()
    assert late < 2 * early
    rk = tb.integrate(FIG8, tb.rk4(T8 / 100), 20 * T8, n_out=200)
    assert np.abs(rk.energy_error[-20:]).max() > 5 * np.abs(rk.energy_error[:20]).max()


# ----------------------------------------------------------------------------- chunked driver

def test_chunked_advance_lands_exactly_and_costs_few_extra_steps():
    one = tb.integrate(PYTH, tb.ias15(), 70.0, n_out=1)
    st = tb.init(PYTH)
    for k in range(1, 701):
        tb.evolve(st, tb.ias15(), k * 0.1)
        assert st.t == k * 0.1
    assert st.steps <= 1.10 * one.steps             # spec B4c: REBOUND's exact finish adds 9.6%
    r3, e45 = pythagorean_outcome(st.x, st.v)
    assert abs(r3 - 21.41) <= 0.05 and e45 < 0
    assert abs(st.energy_error()) <= 1e-10


def test_rl_style_mu_switching():
    """An agent that resets mu every 0.1 time units: Hermite reads mu afresh each step."""
    s = tb.paper_system(seed=1)
    st = tb.init(s)
    fine = tb.init(s)
    mus = [1e-4, 1e-1, 1e-2] * 10
    steps = []
    for mu in mus:                                  # chunks of ~0.1 yr (1 time unit): the paper's
        before = st.steps
        tb.advance(st, tb.hermite(mu=mu), 1.0)
        tb.advance(fine, tb.hermite(mu=1e-4), 1.0)
        steps.append(st.steps - before)
    assert st.t == pytest.approx(30.0, abs=1e-12)
    assert steps[0] > 100 * steps[1]                # mu = 1e-4 takes ~1000x the steps of mu = 0.1
    assert abs(st.energy_error()) < 1e-3
    assert abs(fine.energy_error()) < abs(st.energy_error())
    # a copy is independent
    fork = st.copy()
    tb.advance(fork, tb.hermite(), 0.1)
    assert st.t == pytest.approx(30.0, abs=1e-12) and fork.t > st.t


def test_state_set_restarts_the_integrators():
    """Editing the state through set() gives what a fresh start from the edited state gives."""
    for integ in (tb.leapfrog(1e-3), tb.hermite(mu=0.01), tb.ias15()):
        st = tb.advance(tb.init(FIG8), integ, 1.0)
        x, v = st.x.copy(), st.v.copy()
        x[2] += 1e-3
        tb.advance(st.set(x=x), integ, 1.0)
        fresh = tb.advance(tb.init(FIG8.replace(x=x, v=v)), integ, 1.0)
        np.testing.assert_allclose(st.x, fresh.x, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="shape"):
        st.set(x=np.zeros((2, 2)))


def test_switching_integrators_mid_run():
    st = tb.init(FIG8)
    tb.evolve(st, tb.ias15(), T8 / 2)
    tb.evolve(st, tb.hermite(mu=1e-3), 0.75 * T8)
    tb.evolve(st, tb.ias15(), T8)
    assert float(np.abs(st.x - FIG8.x).max()) < 1e-8


def test_no_recompilation_across_hyperparameters():
    tb.integrate(FIG8, tb.hermite(mu=0.05), 1.0, n_out=1)
    before = len(nb.hermite.signatures)
    for mu in (0.01, 1, 3e-3):                      # an int too: converted at the boundary
        tb.integrate(FIG8, tb.hermite(mu=mu), 1.0, n_out=1)
    st = tb.init(FIG8)
    tb.advance(st, tb.hermite(mu=2), 1)
    assert len(nb.hermite.signatures) == before


# ----------------------------------------------------------------------------- errors

@pytest.mark.parametrize("make, kw", [(tb.leapfrog, "dt"), (tb.rk4, "dt"), (tb.hermite, "mu"),
                                      (tb.hermite_aarseth, "eta"), (tb.ias15, "eps")])
@pytest.mark.parametrize("bad", [-1e-3, 0.0, float("nan"), float("inf"), "fast"])
def test_bad_step_parameters(make, kw, bad):
    with pytest.raises(ValueError, match=kw):
        make(**{kw: bad})


def test_bad_systems():
    with pytest.raises(ValueError, match="shape"):
        tb.System(name="x", m=[1, 1, 1], x=np.zeros((3, 4)), v=np.zeros((3, 4)))
    with pytest.raises(ValueError, match="shape"):
        tb.System(name="x", m=[1, 1, 1], x=np.zeros((2, 2)), v=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="v must"):
        tb.System(name="x", m=[1, 1, 1], x=PYTH.x, v=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="masses"):
        tb.System(name="x", m=[1, -1, 1], x=PYTH.x, v=PYTH.v)
    with pytest.raises(ValueError, match="at least 2"):
        tb.System(name="x", m=[1], x=[[0, 0]], v=[[0, 0]])
    with pytest.raises(ValueError, match="finite"):
        tb.System(name="x", m=[1, 1, 1], x=[[0, 0], [1, 0], [np.nan, 0]], v=PYTH.v)
    with pytest.raises(ValueError, match="G"):
        tb.System(name="x", m=PYTH.m, x=PYTH.x, v=PYTH.v, G=-1.0)
    with pytest.raises(ValueError, match="shape"):
        PYTH.energy(np.zeros((10, 3, 3)), np.zeros((10, 3, 3)))
    with pytest.raises(ValueError, match="seed"):
        tb.paper_system(seed=-1)


def test_bad_driver_arguments():
    with pytest.raises(ValueError, match="t_end"):
        tb.integrate(PYTH, tb.ias15(), -1.0)
    with pytest.raises(ValueError, match="t_end"):
        tb.integrate(PYTH, tb.ias15(), float("nan"))
    with pytest.raises(ValueError, match="n_out"):
        tb.integrate(PYTH, tb.ias15(), 1.0, n_out=0)
    with pytest.raises(TypeError, match="Integrator"):
        tb.integrate(PYTH, "ias15", 1.0)
    with pytest.raises(TypeError, match="System"):
        tb.integrate(PYTH.x, tb.ias15(), 1.0)
    st = tb.init(PYTH)
    tb.advance(st, tb.ias15(), 1.0)
    with pytest.raises(ValueError, match="dt"):
        tb.advance(st, tb.ias15(), -0.1)
    with pytest.raises(ValueError, match=">= the state's time"):
        tb.evolve(st, tb.ias15(), 0.5)
    assert st.t == 1.0
    # zero-length runs are fine
    o = tb.integrate(PYTH, tb.ias15(), 0.0, n_out=1)
    assert o.steps == 0 and np.array_equal(o.x[-1], PYTH.x)


def test_max_steps_stops_with_a_consistent_state():
    st = tb.init(PYTH)
    with pytest.raises(RuntimeError, match="max_steps"):
        tb.evolve(st, tb.hermite(mu=1e-3), 70.0, max_steps=1000)
    assert st.steps == 1000 and 0 < st.t < 70
    assert abs(st.energy_error()) < 1e-10
    with pytest.raises(RuntimeError, match="max_steps"):
        tb.integrate(PYTH, tb.leapfrog(1e-3), 70.0, max_steps=100)


# ----------------------------------------------------------------------------- registry, import

def test_registries_document_their_maths_and_references():
    for name, make in {**tb.INTEGRATORS, **tb.SYSTEMS}.items():
        doc = make.__doc__ or ""
        assert len(doc) > 200, name
        assert any(ch.isdigit() for ch in doc), name
    for name, make in tb.INTEGRATORS.items():
        integ = make(0.01)
        assert integ.name == name and "(" in integ.reference and integ.reference[-1].isdigit()
        assert name in repr(integ)
        # every integrator conserves energy over part of a figure-eight period
        o = tb.integrate(FIG8, integ, T8 / 4, n_out=4)
        assert np.abs(o.energy_error).max() < 1e-3, name
    for name, make in tb.SYSTEMS.items():
        assert make().reference and make().name.startswith(name)


def test_import_labkit_does_not_load_threebody():
    code = "import sys, labkit; print('labkit.threebody' in sys.modules, 'labkit._nbody' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


# ----------------------------------------------------------------------------- the eps floor and the 8-digit figure-eight

@pytest.mark.parametrize("eps", [5e-10, 1e-10, 1e-11])
def test_ias15_refuses_eps_below_the_stall_floor(eps):
    # eps = 1e-10 stalls at the Pythagorean encounter (t = 15.83), 3e-10 crawls for 1e8 steps:
    # refused up front, with the range that converges in the message
    with pytest.raises(ValueError, match=r"IAS15_MIN_EPS.*\[1e-9, 1e-5\]"):
        tb.ias15(eps)
    assert tb.ias15(tb.IAS15_MIN_EPS).p[0] == 1e-9


def test_pythagorean_band_holds_across_eps_and_sampling():
    # two runs of the convergence study in tb.pythagorean's docstring: another eps, another sampling
    for eps, n_out in ((1e-8, 7), (3e-9, 70)):
        o = tb.integrate(PYTH, tb.ias15(eps), 70.0, n_out=n_out, record_steps=False)
        assert_pythagorean(o, tol_e=1e-9)


def test_eight_digit_figure_eight_returns_to_1e_8():
    v3 = np.array([-0.93240737, -0.86473146])
    eight = FIG8.replace(v=[-v3 / 2, -v3 / 2, v3])
    for eps in (1e-9, 3e-9):
        o = tb.integrate(eight, tb.ias15(eps), 10 * FIG8.period, n_out=1, record_steps=False)
        assert 1e-8 < float(np.abs(o.x[-1] - FIG8.x).max()) < 2e-8      # measured 1.46e-8, not ~4e-7
    refined = tb.integrate(FIG8, tb.ias15(1e-9), 10 * FIG8.period, n_out=1, record_steps=False)
    assert return_error(refined) < 1e-13
