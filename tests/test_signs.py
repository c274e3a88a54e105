"""labkit.signs: the l-infinity geometry of sign updates, each claim checked on lk.run trajectories."""
import math
import warnings

import numpy as np
import pytest

import labkit as lk
from labkit import signs as sg

QUAD = lk.problems.quadratic(eigs=(1.0, 10.0))                       # axis-aligned, x0 = (1.5, -1), x* = 0
QUAD_ROT = lk.problems.quadratic(eigs=(1.0, 10.0), angle=math.pi / 4)
ROSEN = lk.problems.rosenbrock()


# ----------------------------------------------------------------------------- lattice

def test_sign_sgd_moves_on_the_lattice_exactly():
    # Dyadic lr and start: every operation is exact, both errors are exactly 0.
    lat = sg.lattice_check(lk.run(QUAD, "sign_sgd", 400, lr=2.0 ** -6))
    assert lat.step_error == 0.0 and lat.offset_error == 0.0 and lat.on_lattice
    assert lat.zero_moves > 0             # x* = 0 lies on this lattice: the walk lands on it and stops
    # lr = 0.01: one rounding per step, the drift stays at the ulp level.
    lat = sg.lattice_check(lk.run(QUAD_ROT, "sign_sgd", 2000, lr=0.01))
    assert lat.on_lattice and lat.step_error < 1e-12 and lat.offset_error < 1e-10


def test_lattice_check_rejects_adam_and_weight_decay():
    assert not sg.lattice_check(lk.run(QUAD, "adam", 200, lr=0.01)).on_lattice
    assert not sg.lattice_check(lk.run(QUAD, "sign_sgd", 200, lr=0.01, weight_decay=0.5)).on_lattice


# ----------------------------------------------------------------------------- oscillation amplitude

@pytest.mark.parametrize("lr", [0.013, 0.0377, 0.021, 0.01, 2.0 ** -5])
def test_sign_sgd_amplitude_is_the_derived_cycle(lr):
    tr = lk.run(QUAD, "sign_sgd", 1000, lr=lr)
    osc = sg.oscillation_amplitude(tr, tail=200)
    radii = sg.sign_sgd_cycle(QUAD.x0, QUAD.x_star, lr)
    np.testing.assert_allclose(osc.per_coordinate, radii, rtol=0, atol=1e-9)
    # The band: each coordinate stops (0) or cycles between the two lattice points around x*_i.
    assert osc.amplitude == 0.0 or 0.5 <= osc.amplitude <= 1.0
    assert np.all((radii == 0) | ((radii >= 0.5) & (radii <= 1.0)))
    np.testing.assert_allclose(osc.peak_to_peak, np.where(radii == 0, 0.0, 1.0), atol=1e-9)


def test_cycle_radius_follows_the_lattice_offset():
    # x0 = 1.5, lr = 0.013: offset phi = frac(-1.5 / 0.013) = 0.3846..., radius max(phi, 1 - phi) = 0.6154
    phi = (-1.5 / 0.013) - math.floor(-1.5 / 0.013)
    assert sg.sign_sgd_cycle([1.5], [0.0], 0.013)[0] == pytest.approx(max(phi, 1 - phi), abs=1e-9)
    assert sg.sign_sgd_cycle([1.5], [0.0], 2.0 ** -5)[0] == 0.0      # on the lattice: it stops at x*
    # the offset x* at a cell centre gives the bottom of the band
    assert sg.sign_sgd_cycle([0.0], [0.5 * 2.0 ** -5], 2.0 ** -5)[0] == 0.5


def test_rotation_widens_the_cycle():
    # Not in the band: the rotated quadratic couples the coordinates (measured, up to ~0.4 kappa).
    amps = [sg.oscillation_amplitude(lk.run(QUAD_ROT, "sign_sgd", 3000, lr=lr), tail=500).amplitude
            for lr in (0.013, 0.03)]
    assert max(amps) > 1.5


# ----------------------------------------------------------------------------- Adam as sign descent

def _linear(g):
    g = np.asarray(g, dtype=np.float64)
    return lk.Problem(name="linear", f=lambda x: float(np.dot(g, x)), grad=lambda x: g.copy(), x0=np.zeros(g.size))


@pytest.mark.parametrize("b1,b2,eps", [(0.9, 0.999, 1e-8), (0.5, 0.9, 0.3), (0.0, 0.0, 1e-3)])
def test_adam_on_a_constant_gradient_is_a_smoothed_sign(b1, b2, eps):
    g = np.array([2.0, -0.05, 1e-3])
    tr = lk.run(_linear(g), "adam", 50, lr=0.1, b1=b1, b2=b2, eps=eps)
    closed = sg.adam_sign_step(g, lr=0.1, b1=b1, b2=b2, eps=eps, t=np.arange(1, 51)[:, None])
    np.testing.assert_allclose(np.diff(tr.xs, axis=0), closed, rtol=1e-13, atol=0)
    np.testing.assert_allclose(closed[0], -0.1 * g / (np.abs(g) + eps), rtol=0, atol=0)


def test_adam_without_bias_correction_is_not_the_sign_step():
    step = sg.adam_sign_step([1.0], lr=1.0, b1=0.9, b2=0.999, eps=0.0, t=1, bias_correction=False)
    assert step[0] == pytest.approx(-0.1 / math.sqrt(0.001))          # 3.16 lr, not lr
    tr = lk.run(_linear([1.0]), "adam", 1, lr=1.0, eps=0.0)
    assert tr.xs[1, 0] == pytest.approx(-1.0)


def test_small_b2_and_eps_make_adam_sign_sgd_on_rosenbrock():
    gaps = {}
    for b2 in (0.999, 0.5, 0.0):
        gaps[b2] = sg.adam_sign_gap(lk.run(ROSEN, "adam", 500, lr=0.01, b1=0.0, b2=b2, eps=1e-12))
    assert gaps[0.0].max < 1e-9                                      # eps / (|g| + eps)
    assert gaps[0.999].mean > gaps[0.5].mean > 0.1 > gaps[0.0].mean


# ----------------------------------------------------------------------------- rotation

def test_rotation_slowdown_sign_sgd_vs_gd():
    r = sg.rotation_slowdown("sign_sgd", (1.0, 100.0), steps=30000, lr=0.01)
    assert math.isfinite(r.steps_rotated) and r.ratio > 2.0           # measured 3.50
    gd = sg.rotation_slowdown("sgd", (1.0, 100.0), steps=3000, lr=0.01, schedule=None)
    assert gd.ratio == pytest.approx(1.0, abs=2 / gd.steps_axis)      # GD is rotation equivariant


def test_sign_methods_at_constant_lr_never_settle_below_the_cycle():
    r = sg.rotation_slowdown("sign_sgd", (1.0, 100.0), steps=5000, tol=1e-3, schedule=None, lr=0.013)
    assert r.steps_axis == math.inf and r.steps_rotated == math.inf


# ----------------------------------------------------------------------------- Lion's box

@pytest.mark.parametrize("rule,hp", [("lion", {}), ("lion_k", {"K": "huber", "delta": 0.1}),
                                     ("lion_k", {"K": "tanh", "delta": 0.1}), ("signum", {"momentum": 0.9})])
@pytest.mark.parametrize("wd", [2.0, 1.25])
def test_lion_enters_the_box_and_stays(rule, hp, wd):
    tr = lk.run(ROSEN, rule, 4000, [3.0, -3.0], lr=0.01, weight_decay=wd, **hp)
    box = sg.lion_box(tr)
    assert box.entry_step is not None and box.entry_step > 10          # it started outside
    assert box.holds and box.excess <= box.allowance <= (1 / (0.01 * wd) + 2) * np.spacing(1 / wd)   # the box, up to rounding
    assert np.max(np.abs(tr.xs[0])) > 1 / wd + 0.01


@pytest.mark.parametrize("wd,lr", [(2.0, 0.01), (1.25, 0.01), (3.0, 0.013), (0.7, 0.003), (10.0, 0.07)])
def test_float_box_is_invariant_under_the_rounded_step(wd, lr):
    # float_box's claim, checked by brute force: from |x| <= B*, the kernel's rounded step
    # x * (1 - wd lr) - lr u with |u| <= 1 never leaves [-B*, B*]; the worst x are at and just below B*;
    # just above B* the pressed coordinate descends (it does not stall outside)
    top = sg.float_box(wd, lr)
    assert 1 / wd <= top <= 1 / wd + (1 / (wd * lr) + 2) * np.spacing(1 / wd)
    above = top + np.arange(1, 200) * np.spacing(top)
    assert np.all(above * (1.0 - wd * lr) + lr < above)
    near = top - np.arange(2000) * np.spacing(top)
    x = np.concatenate([near, -near, np.random.default_rng(0).uniform(-top, top, 2000)])
    for u in (-1.0, -0.3, 0.0, 0.7, 1.0):
        assert np.max(np.abs(x * (1.0 - wd * lr) - lr * u)) <= top


def test_lion_without_weight_decay_leaves_the_box():
    tr = lk.run(ROSEN, "lion", 2000, [0.1, 0.1], lr=0.01)
    assert not sg.lion_box(tr, weight_decay=2.0).holds or np.max(np.abs(tr.xs)) > 0.51


# ----------------------------------------------------------------------------- KKT

@pytest.mark.parametrize("B", [0.5, 0.8])
def test_box_minimiser_and_kkt(B):
    xb = sg.box_minimiser(ROSEN, B)
    np.testing.assert_allclose(xb, [B, B * B], atol=1e-10)
    kkt = sg.box_kkt_residual(ROSEN, xb, B)
    assert kkt.residual <= 1e-10 and kkt.natural <= 1e-10 and list(kkt.active) == [True, False]
    wrong = sg.box_kkt_residual(ROSEN, np.clip([1.0, 1.0], -B, B), B)    # (1, 1) projected: not a KKT point
    assert wrong.residual > 10 and wrong.stationarity[1] > 10
    outside = sg.box_kkt_residual(ROSEN, [1.0, 1.0], B)                  # the unconstrained minimiser
    assert outside.primal.max() == pytest.approx(1 - B)


@pytest.mark.parametrize("B", [0.5, 0.8])
def test_lion_limit_solves_the_box_problem(B):
    xb = sg.box_minimiser(ROSEN, B)
    res = []
    for floor in (1e-2, 1e-4):
        tr = lk.run(ROSEN, "lion", 20000, [3.0, -3.0], lr=0.01, weight_decay=1 / B,
                    schedule=lk.schedules.cosine(20000, floor=floor))
        kkt = sg.box_kkt_residual(ROSEN, tr.xs[-1], B, atol=1e-3)
        res.append(kkt.natural)
        assert np.max(np.abs(tr.xs[-1] - xb)) < 200 * 0.01 * floor
    assert res[1] < 1e-4 < res[0] < 0.05                              # shrinks with the final lr


# ----------------------------------------------------------------------------- the NumPy twin

@pytest.mark.parametrize("rule,hp", [
    ("sign_sgd", dict(lr=0.01)),
    ("sign_sgd", dict(lr=0.01, weight_decay=0.3)),
    ("signum", dict(lr=0.01, momentum=0.9)),
    ("lion", dict(lr=0.01, b1=0.9, b2=0.99, weight_decay=0.5)),
    ("lion_k", dict(lr=0.01, K="huber", delta=0.5, weight_decay=1.0)),
    ("lion_k", dict(lr=0.001, K="quadratic")),
    ("lion_k", dict(lr=0.01, K="tanh", delta=0.3, weight_decay=0.5)),
    ("adam", dict(lr=0.01)),
    ("adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("adamw", dict(lr=0.01, weight_decay=0.1)),
])
def test_sign_state_reproduces_lk_run_bit_for_bit(rule, hp):
    sched = lk.schedules.cosine(1500, floor=0.1)
    tr = lk.run(ROSEN, rule, 1500, schedule=sched, **hp)
    st = sg.sign_state(ROSEN, rule, 1500, schedule=sched, **hp)
    assert np.array_equal(tr.xs, st.xs)
    np.testing.assert_array_equal(st.update, np.diff(st.xs, axis=0))


def test_sign_state_fields():
    st = sg.sign_state(QUAD, "lion", 1000, lr=0.01, b1=0.9, b2=0.99)
    # c is the interpolation with the old momentum, u its sign, m the EMA with b2
    m_old = np.vstack([np.zeros(2), st.m[:-1]])
    np.testing.assert_allclose(st.c, 0.9 * m_old + 0.1 * st.g, rtol=1e-14, atol=1e-16)
    np.testing.assert_array_equal(st.u, np.sign(st.c))
    np.testing.assert_allclose(st.m, 0.99 * m_old + 0.01 * st.g, rtol=1e-14, atol=1e-16)
    np.testing.assert_array_equal(st.agree, np.sign(st.g) == np.sign(m_old))
    flips = np.cumsum(np.vstack([np.zeros((1, 2)), (st.u[1:] * st.u[:-1] < 0)]), axis=0)
    np.testing.assert_array_equal(st.flips, flips)                   # no zero signs here, so plain reversals
    assert st.flips[-1].min() > 100                                   # late-time oscillation
    ad = sg.sign_state(ROSEN, "adam", 100, lr=0.01)
    assert np.all(ad.v > 0) and ad.to_frame().shape == (200, 12)


def test_sign_state_with_noise_matches_run():
    noisy = QUAD.with_noise(0.5, seed=3)
    assert np.array_equal(lk.run(noisy, "signum", 300, lr=0.01).xs, sg.sign_state(noisy, "signum", 300, lr=0.01).xs)


# ----------------------------------------------------------------------------- decay

@pytest.mark.parametrize("rule", ["sign_sgd", "lion"])
def test_decay_shrinks_the_final_distance(rule):
    cmp = sg.decay_comparison(QUAD, rule, 4000, lr=0.013)
    assert cmp.constant == pytest.approx(0.013 * math.hypot(*sg.sign_sgd_cycle(QUAD.x0, QUAD.x_star, 0.013)),
                                         rel=1e-9) or rule == "lion"
    assert cmp.constant > 0.005 and cmp.decayed < 1e-6 and cmp.ratio > 1e4


# ----------------------------------------------------------------------------- errors

def test_clear_errors():
    tr = lk.run(QUAD, "sign_sgd", 50, lr=0.01)
    with pytest.raises(ValueError, match="Trajectory"):
        sg.lattice_check(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="lr must be"):
        sg.lattice_check(tr, lr=-1)
    with pytest.raises(ValueError, match="tail"):
        sg.oscillation_amplitude(tr, tail=1.5)
    with pytest.raises(ValueError, match="tail"):
        sg.oscillation_amplitude(tr, tail=0)
    with pytest.raises(ValueError, match="x_star"):
        sg.oscillation_amplitude(tr, x_star=[0.0])
    with pytest.raises(ValueError, match="t must be"):
        sg.adam_sign_step([1.0], t=0)
    with pytest.raises(ValueError, match="b2"):
        sg.adam_sign_step([1.0], b2=1.0)
    with pytest.raises(ValueError, match="adam"):
        sg.adam_sign_gap(tr)
    with pytest.raises(ValueError, match="weight_decay"):
        sg.lion_box(lk.run(QUAD, "lion", 10, lr=0.01))
    with pytest.raises(ValueError, match="box"):
        sg.lion_box(lk.run(QUAD, "adamw", 10, lr=0.01))
    with pytest.raises(ValueError, match="no box"):
        sg.lion_box(lk.run(QUAD, "lion_k", 10, lr=0.01, K="quadratic", weight_decay=1.0))
    with pytest.raises(ValueError, match="bound"):
        sg.box_kkt_residual(ROSEN, [0.0, 0.0], 0.0)
    with pytest.raises(ValueError, match="x must"):
        sg.box_kkt_residual(ROSEN, [0.0], 1.0)
    with pytest.raises(ValueError, match="eigs"):
        sg.rotation_slowdown("sign_sgd", (1.0, -1.0))
    with pytest.raises(ValueError, match="sign_state follows"):
        sg.sign_state(QUAD, "sgd", 10, lr=0.01)
    with pytest.raises(ValueError, match="minimiser"):
        sg.decay_comparison(lk.problems.quadratic(eigs=(1.0, -1.0)), "sign_sgd", 10, lr=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sg.steps_to_tol(tr, 0.1)


def test_lion_k_tanh_is_a_smooth_sign():
    """tanh(z/delta): Lion as delta -> 0, the quadratic K with step lr/delta for |z| << delta."""
    lion = lk.run(ROSEN, "lion", 300, lr=1e-3).xs
    sharp = lk.run(ROSEN, "lion_k", 300, lr=1e-3, K="tanh", delta=1e-300).xs
    np.testing.assert_array_equal(sharp, lion)
    delta = 1e6
    smooth = lk.run(ROSEN, "lion_k", 200, lr=1e-2, K="tanh", delta=delta).xs
    quad = lk.run(ROSEN, "lion_k", 200, lr=1e-2 / delta, K="quadratic").xs
    np.testing.assert_allclose(smooth, quad, rtol=1e-9, atol=1e-12)


def test_rotation_survey_medians_over_starts():
    """Rotated, the median settles with one diagonal sign step, sqrt(2) lr_t <= tol; axis-aligned
    with one coordinate step, lr_t <= tol: twice the steps under lr_t ~ 1/sqrt(t). GD's ratio is
    exactly 1 from every start."""
    s = sg.rotation_survey("sign_sgd", n_starts=9, steps=20000, lr=0.01, tol=1.5e-3)
    assert s.starts.shape == (9, 2) and s.steps_axis.shape == s.steps_rotated.shape == (9,)
    assert np.allclose(np.linalg.norm(s.starts, axis=1), math.hypot(1.5, -1.0))
    assert len({tuple(np.round(np.abs(x), 12)) for x in s.starts}) == 9      # no mirror images
    assert (s.coordinate_steps, s.diagonal_steps) == (4445, 8889)          # (10 lr/tol)^2, twice that
    assert abs(s.median_rotated / s.diagonal_steps - 1) < 0.01
    assert abs(s.median_axis / s.coordinate_steps - 1) < 0.02       # 9 starts: a neighbour, 4397
    assert s.ratio == s.median_rotated / s.median_axis and abs(s.ratio - 2) < 0.05
    gd = sg.rotation_survey("sgd", n_starts=5, steps=3000, lr=0.01, schedule=None)
    assert gd.ratio == 1.0 and np.array_equal(gd.steps_axis, gd.steps_rotated)
    with pytest.raises(ValueError):
        sg.rotation_survey("sign_sgd", n_starts=0)
