"""Rules from papers against pytorch-optimizer 4.1.0, their documented deviations, and the diffGrad problems.

Parity: float64 trajectories of 1,000 steps, ``foreach=False``, a fresh ``p.grad`` from the
problem's own gradient before every ``step()``, max relative deviation per coordinate
<= 1e-12.  The kernels mirror pytorch-optimizer's operations (fused multiply-adds where
torch fuses, see ``labkit/_jit.py``), so most trajectories agree to the last bit.  What
remains is torch's ``sqrt``: on this CPU build (MKL) float64 ``Tensor.sqrt`` is faithful
but not correctly rounded (about 1 result in 80 is 1 ulp off, always next to a rounding
midpoint), while Numba's ``math.sqrt`` is IEEE-exact.  Substituting torch's sqrt into a
Python transcription of these kernels reproduces pytorch-optimizer bit for bit; Rosenbrock
amplifies the odd 1-ulp difference to at most a few 1e-13 over 1,000 steps.
"""
import inspect
import math
import warnings
from decimal import Decimal, getcontext

import numpy as np
import pytest
import torch

import labkit as lk

po = pytest.importorskip("pytorch_optimizer")

STEPS = 1000
RTOL = 1e-12
# Closed-form steps are compared as x_{t-1} - x_t: a difference of two iterates ~1 carries
# their rounding, ~1e-16 absolute, i.e. ~1e-13 of a step of lr = 1e-3.
STEP_RTOL = 1e-12

PROBLEMS = {   # problem, lr
    "rosenbrock": (lambda: lk.problems.rosenbrock(), 1e-2),
    "quadratic": (lambda: lk.problems.quadratic(eigs=(1, 100), angle=0.5), 1e-2),
    "rosenbrock_nd10": (lambda: lk.problems.rosenbrock_nd(10), 1e-3),
}

# (labkit rule, labkit kwargs, pytorch-optimizer class, its kwargs): the same update.
CASES = [
    ("adabelief", dict(rectify=False), "AdaBelief", dict()),                       # po's defaults
    ("adabelief", dict(), "AdaBelief", dict(rectify=True)),                        # the reference's
    ("adabelief", dict(rectify=False, weight_decay=0.1), "AdaBelief", dict(weight_decay=0.1)),
    ("adabelief", dict(weight_decay=0.1), "AdaBelief", dict(rectify=True, weight_decay=0.1)),
    ("adabelief", dict(weight_decay=0.1, decoupled=False), "AdaBelief",
     dict(rectify=True, weight_decay=0.1, weight_decouple=False)),
    ("adabelief", dict(rectify=False, amsgrad=True), "AdaBelief", dict(ams_bound=True)),
    ("adabelief", dict(degenerated_to_sgd=False), "AdaBelief", dict(rectify=True, degenerated_to_sgd=False)),
    ("diffgrad", dict(v_eps=1e-15, decoupled=True), "DiffGrad", dict()),           # po's defaults
    ("diffgrad", dict(v_eps=1e-15, decoupled=True, weight_decay=0.1), "DiffGrad", dict(weight_decay=0.1)),
    ("diffgrad", dict(v_eps=1e-15, weight_decay=0.1), "DiffGrad", dict(weight_decay=0.1, weight_decouple=False)),
    ("adan", dict(), "Adan", dict()),
    ("adan", dict(weight_decay=0.02), "Adan", dict(weight_decay=0.02)),                        # proximal
    ("adan", dict(weight_decay=0.02, prox=False), "Adan", dict(weight_decay=0.02, weight_decouple=True)),
    ("exadam", dict(), "EXAdam", dict()),
    ("exadam", dict(weight_decay=0.1), "EXAdam", dict(weight_decay=0.1)),
]

NEW_RULES = ["adabelief", "diffgrad", "adan", "exadam", "lion_k", "loss_adaptive_gd"]


def po_trajectory(problem, cls, steps, lr, x0=None, restart_every=0, **kwargs):
    x0 = problem.x0 if x0 is None else np.asarray(x0, float)
    p = torch.tensor(x0.copy(), dtype=torch.float64, requires_grad=True)
    xs = [p.detach().numpy().copy()]
    for k in range(steps):
        if k == 0 or (restart_every and k % restart_every == 0):
            opt = cls([p], lr=lr, foreach=False, **kwargs)      # a fresh state = the reference's restart_opt()
        p.grad = torch.tensor(problem.grad(p.detach().numpy()))
        opt.step()
        xs.append(p.detach().numpy().copy())
    return np.array(xs)


def max_rel_dev(ours, theirs):
    assert ours.shape == theirs.shape, "a run stopped early"
    return float(np.max(np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1e-300)))


@pytest.mark.parametrize("problem_id", list(PROBLEMS))
@pytest.mark.parametrize("rule, ours, cls, theirs", CASES,
                         ids=[f"{r}-{'-'.join(f'{k}={v}' for k, v in o.items()) or 'default'}" for r, o, _, _ in CASES])
def test_trajectory_matches_pytorch_optimizer(problem_id, rule, ours, cls, theirs):
    make, lr = PROBLEMS[problem_id]
    problem = make()
    tr = lk.run(problem, rule, STEPS, lr=lr, **ours)
    ref = po_trajectory(problem, getattr(po, cls), STEPS, lr, **theirs)
    assert not tr.diverged
    assert max_rel_dev(tr.xs, ref) <= RTOL


# ----------------------------------------------------------------------------- AdaBelief

def test_adabelief_rectify_default_is_the_reference_not_pytorch_optimizer():
    assert lk.optim.adabelief().hyperparameters["rectify"] is True
    assert inspect.signature(po.AdaBelief).parameters["rectify"].default is False
    p = lk.problems.rosenbrock()
    ours = lk.run(p, "adabelief", 20, lr=1e-3).xs
    theirs = po_trajectory(p, po.AdaBelief, 20, 1e-3)
    assert np.max(np.abs(ours - theirs)) > 1e-3


def test_adabelief_first_steps():
    p = lk.problems.quadratic(eigs=(1, 100), angle=0.5)
    lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-16
    x0, g = p.x0, p.grad(p.x0)
    # Rectified: rho_1 < 5, so the first step is SGD on m_1 / (1 - b1) = g.
    x1 = lk.run(p, "adabelief", 1, lr=lr).xs[1]
    np.testing.assert_allclose(x0 - x1, lr * g, rtol=STEP_RTOL)
    # Not rectified: s_1 = (1 - b2)(b1 g)^2 + eps, so the step is lr g / (sqrt(b1^2 g^2 + eps/(1-b2)) + eps) ~ lr/b1.
    x1 = lk.run(p, "adabelief", 1, lr=lr, rectify=False).xs[1]
    np.testing.assert_allclose(x0 - x1, lr * g / (np.sqrt(b1 ** 2 * g ** 2 + eps / (1 - b2)) + eps), rtol=STEP_RTOL)


def test_adabelief_without_degeneration_waits_for_rho_5():
    p = lk.problems.rosenbrock()
    tr = lk.run(p, "adabelief", 10, lr=1e-3, degenerated_to_sgd=False)
    b2 = 0.999
    rho_inf = 2 / (1 - b2) - 1
    first = next(t for t in range(1, 11) if rho_inf - 2 * t * b2 ** t / (1 - b2 ** t) >= 5)
    assert np.all(tr.xs[:first] == p.x0) and np.any(tr.xs[first] != p.x0)


# ----------------------------------------------------------------------------- diffGrad

def test_diffgrad_first_step_closed_form():
    # t = 1: g_prev = 0, xi = sigmoid(|g|), m/(1-b1) = g, sqrt(v/(1-b2)) = |g|: a step of about lr sigmoid(|g|).
    p = lk.problems.quadratic(eigs=(1, 100), angle=0.5)
    lr, b2, eps = 1e-3, 0.999, 1e-8
    g = p.grad(p.x0)
    x1 = lk.run(p, "diffgrad", 1, lr=lr).xs[1]
    xi = 1 / (1 + np.exp(-np.abs(g)))
    np.testing.assert_allclose(p.x0 - x1, lr * xi * g / (np.abs(g) + eps / np.sqrt(1 - b2)), rtol=STEP_RTOL)


def test_diffgrad_v_eps_is_what_pytorch_optimizer_adds():
    # Near the minimiser v is small, and po's 1e-15 inside the root shows.
    p = lk.problems.quadratic(eigs=(1, 100), angle=0.5)
    x0 = np.array([1e-6, 2e-6])
    theirs = po_trajectory(p, po.DiffGrad, 10, 1e-3, x0=x0)
    matched = lk.run(p, "diffgrad", 10, x0, lr=1e-3, v_eps=1e-15, decoupled=True).xs
    default = lk.run(p, "diffgrad", 10, x0, lr=1e-3).xs
    assert max_rel_dev(matched, theirs) <= RTOL
    step_po, step_ref = theirs[1] - x0, default[1] - x0
    assert np.max(np.abs(step_ref - step_po) / np.abs(step_po)) > 1e-6
    assert inspect.signature(lk.optim.diffgrad).parameters["v_eps"].default == 0.0
    assert inspect.signature(po.DiffGrad).parameters["weight_decouple"].default is True
    assert lk.optim.diffgrad().hyperparameters["decoupled"] is False      # reference: coupled L2


def test_diffgrad_friction_uses_the_previous_gradient():
    # On F2's linear piece g = -40 every step: xi_1 = sigmoid(|0 - g|) = 1 (g_0 = 0), then
    # xi_2 = sigmoid(0) = 1/2.  With b1 = 0 (m = g) and sqrt(v_t) = 40 a_t, a_t = sqrt(1 - b2^t),
    # the step is lr a_t xi_t 40 / (40 a_t + eps).
    p = lk.problems.diffgrad_f2()
    lr, b2, eps = 1e-3, 0.999, 1e-8
    xs = lk.run(p, "diffgrad", 2, lr=lr, b1=0.0).xs[:, 0]
    assert xs[2] < -0.9
    a1, a2 = math.sqrt(1 - b2), math.sqrt(1 - b2 ** 2)
    xi1 = 1 / (1 + math.exp(-40.0))
    expected = [lr * a1 * xi1 * 40 / (40 * a1 + eps), lr * a2 * 0.5 * 40 / (40 * a2 + eps)]
    np.testing.assert_allclose(np.diff(xs), expected, rtol=STEP_RTOL)


# ----------------------------------------------------------------------------- Adan

def test_adan_betas_are_the_codes():
    ours = inspect.signature(lk.optim.adan).parameters
    theirs = inspect.signature(po.Adan).parameters
    betas = tuple(ours[k].default for k in ("b1", "b2", "b3"))
    assert betas == tuple(theirs["betas"].default) == (0.98, 0.92, 0.99)
    assert tuple(round(1 - b, 12) for b in betas) == (0.02, 0.08, 0.01)      # the paper's betas
    assert ours["prox"].default is True and theirs["weight_decouple"].default is False


def test_adan_first_step_and_restart_every_step():
    # t = 1: g_prev = g, so d = 0, m/(1-b1) = g, sqrt(n/(1-b3)) = |g|: x1 = x0 - lr g/(|g| + eps).
    # restart_every=1 makes every step a first step: a sign-like descent.
    p = lk.problems.rosenbrock()
    lr, eps = 1e-3, 1e-8
    for every, steps in ((0, 1), (1, 5)):
        xs = lk.run(p, "adan", steps, lr=lr, restart_every=every).xs
        for k in range(steps):
            g = p.grad(xs[k])
            np.testing.assert_allclose(xs[k] - xs[k + 1], lr * g / (np.abs(g) + eps), rtol=STEP_RTOL)


@pytest.mark.parametrize("problem_id", ["rosenbrock", "quadratic"])
def test_adan_restart_matches_a_fresh_pytorch_optimizer_every_k_steps(problem_id):
    make, lr = PROBLEMS[problem_id]
    p = make()
    ours = lk.run(p, "adan", STEPS, lr=lr, restart_every=50).xs
    theirs = po_trajectory(p, po.Adan, STEPS, lr, restart_every=50)
    assert max_rel_dev(ours, theirs) <= RTOL
    assert np.max(np.abs(ours - lk.run(p, "adan", STEPS, lr=lr).xs)) > 1e-3


# ----------------------------------------------------------------------------- EXAdam

def test_exadam_first_step_on_a_parabola():
    # f = x^2/2 from x = 1, g = 1: m~ = d1, g~ = d1/(1 - b1), v~ = d2, so the step is
    # lr d1 (1 + 1/(1 - b1)) / (sqrt(d2) + eps), about 16 lr (spec section 2: 15.95).
    getcontext().prec = 50
    b1, b2, eps = Decimal(0.9), Decimal(0.999), Decimal(1e-8)
    d1 = 1 + b2 * (1 - b2) / ((1 - b2) + eps)
    d2 = 1 + b1 * (1 - b1) ** 2 / ((1 - b1) ** 2 + eps)
    exact = float(d1 * (1 + 1 / (1 - b1)) / (d2.sqrt() + eps))
    p = lk.problems.quadratic(eigs=(1.0,), x0=[1.0])
    lr = 1e-3
    step = (1.0 - lk.run(p, "exadam", 1, lr=lr).xs[1, 0]) / lr
    assert step == pytest.approx(exact, rel=1e-12)
    assert 15.9 < step < 16.0
    theirs = po_trajectory(p, po.EXAdam, 1, lr)
    assert (1.0 - theirs[1, 0]) / lr == pytest.approx(exact, rel=1e-12)


def test_exadam_dynamic_step_is_off_by_default_as_in_pytorch_optimizer():
    assert inspect.signature(lk.optim.exadam).parameters["dynamic_step"].default is False
    assert "dynamic_step" not in inspect.signature(po.EXAdam).parameters
    p = lk.problems.rosenbrock()
    plain = lk.run(p, "exadam", 1, lr=1e-3).xs
    dynamic = lk.run(p, "exadam", 1, lr=1e-3, dynamic_step=True).xs
    # alpha_1 = lr ln(sqrt(2) sqrt(2)) = lr ln 2
    np.testing.assert_allclose(dynamic[1] - p.x0, math.log(2.0) * (plain[1] - p.x0), rtol=STEP_RTOL)


# ----------------------------------------------------------------------------- Lion-K

@pytest.mark.parametrize("problem_id", list(PROBLEMS))
def test_lion_k_l1_is_lion_bit_for_bit(problem_id):
    p = PROBLEMS[problem_id][0]()
    lion = lk.run(p, lk.optim.lion(lr=1e-3, weight_decay=0.5), STEPS).xs
    np.testing.assert_array_equal(lk.run(p, lk.optim.lion_k(lr=1e-3, weight_decay=0.5), STEPS).xs, lion)
    # Huber with a vanishing threshold is sign again (clip(z/delta, -1, 1) saturates).
    huber = lk.optim.lion_k(lr=1e-3, weight_decay=0.5, K="huber", delta=1e-300)
    np.testing.assert_array_equal(lk.run(p, huber, STEPS).xs, lion)


@pytest.mark.parametrize("b1, b2", [(0.9, 0.99), (0.9, 0.9), (0.5, 0.95)])
def test_lion_k_quadratic_is_quasi_hyperbolic_momentum_with_weight_decay(b1, b2):
    # K = |z|^2/2: x_t = (1 - lr wd) x - lr (nu m_t + (1 - nu) g_t), m_t = b2 m + (1 - b2) g_t, nu = b1/b2.
    p = lk.problems.quadratic(eigs=(1, 100), angle=0.5)
    lr, wd = 5e-3, 0.1
    ours = lk.run(p, lk.optim.lion_k(lr=lr, b1=b1, b2=b2, weight_decay=wd, K="quadratic"), STEPS).xs
    x, m, nu = p.x0.copy(), np.zeros(2), b1 / b2
    xs = [x.copy()]
    for _ in range(STEPS):
        g = p.grad(x)
        m = b2 * m + (1 - b2) * g
        x = (1 - lr * wd) * x - lr * (nu * m + (1 - nu) * g)
        xs.append(x.copy())
    np.testing.assert_allclose(ours, np.array(xs), rtol=0, atol=1e-13 * np.max(np.abs(xs)))


def test_lion_k_huber_is_the_quadratic_k_with_step_lr_over_delta_below_the_threshold():
    p = lk.problems.quadratic(eigs=(1, 10))              # |z| <= |g| <= 15 < delta
    delta = 1e3
    huber = lk.run(p, lk.optim.lion_k(lr=10.0, K="huber", delta=delta), 300).xs
    quad = lk.run(p, lk.optim.lion_k(lr=10.0 / delta, K="quadratic"), 300).xs
    np.testing.assert_allclose(huber, quad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("K", ["l1", "huber"])
def test_lion_k_box_is_invariant(K):
    # |x_{t+1}| <= (1 - lr wd)|x_t| + lr |grad K| <= 1/wd when |grad K| <= 1.
    p = lk.problems.rosenbrock()
    wd = 1.0
    tr = lk.run(p, lk.optim.lion_k(lr=0.05, weight_decay=wd, K=K, delta=0.5), 2000, x0=[0.5, -0.5])
    assert np.max(np.abs(tr.xs)) <= 1 / wd + 1e-12


# ----------------------------------------------------------------------------- loss-adaptive GD

def test_loss_adaptive_gd_first_step():
    p = lk.problems.rosenbrock()
    lr = 1e-2
    x1 = lk.run(p, "loss_adaptive_gd", 1, lr=lr).xs[1]
    np.testing.assert_array_equal(x1, p.x0 - (lr / p.f(p.x0)) * p.grad(p.x0))


def test_loss_adaptive_gd_takes_no_step_where_f_is_not_positive():
    p = lk.problems.saddle()
    x0 = np.array([0.1, 1.0])                               # f = 0.005 + 0.25 - 0.5 < 0
    assert p.f(x0) < 0
    tr = lk.run(p, "loss_adaptive_gd", 10, x0, lr=1.0)
    assert np.all(tr.xs == x0)


# ----------------------------------------------------------------------------- engine

@pytest.mark.parametrize("rule", NEW_RULES)
def test_python_problem_path_matches_compiled(rule):
    # Problems given as Python functions run the same step through step_kernel (with f).
    p = lk.problems.rosenbrock()
    wrapped = lk.Problem(name="rosenbrock (python)", f=p.f, grad=p.grad, x0=p.x0, f_star=0.0)
    hp = dict(lr=1e-3)
    np.testing.assert_array_equal(lk.run(wrapped, rule, 50, **hp).xs, lk.run(p, rule, 50, **hp).xs)


@pytest.mark.parametrize("rule", NEW_RULES)
def test_sweep_lanes_match_runs(rule):
    p = lk.problems.rosenbrock()
    lrs = [1e-4, 1e-3, 3e-3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lk.DivergenceWarning)
        frame = lk.sweep(p, rule, 200, lr=lrs, progress=False)
    for j, lr in enumerate(lrs):
        x = lk.run(p, rule, 200, lr=lr).x_final
        np.testing.assert_array_equal(frame.loc[j, ["x_final_0", "x_final_1"]].to_numpy(float), x)


def test_no_recompilation_across_hyperparameters():
    from labkit._engine import KERNELS
    p = lk.problems.rosenbrock()
    for rule in (lk.optim.adan(), lk.optim.lion_k(), lk.optim.adabelief()):
        kernel = KERNELS[rule.kind][0]
        lk.run(p, rule, 5)
        n = len(kernel.signatures)
        variants = {"adan": dict(b2=0.5, prox=False, restart_every=7, weight_decay=0.1),
                    "lion_k": dict(K="huber", delta=0.3), "adabelief": dict(rectify=False, amsgrad=True)}
        lk.run(p, rule.replace(**variants[rule.name]), 5)
        assert len(kernel.signatures) == n


@pytest.mark.parametrize("rule", NEW_RULES)
def test_new_rules_are_documented_and_registered(rule):
    doc = inspect.getdoc(lk.optim.registry[rule])
    assert ".. math::" in doc or ":math:" in doc
    assert "Reference" in doc and "Default" in doc
    assert rule in lk.optim.CLAIMS and lk.optim.get(rule).reference


@pytest.mark.parametrize("rule, claim", [(r, c) for r in NEW_RULES for c in lk.optim.CLAIMS[r]],
                         ids=lambda v: v if isinstance(v, str) else f"{v[0]}-{v[2]}")
def test_new_rules_meet_their_claims(rule, claim):
    name, kwargs, hp, steps, tol = claim
    p = lk.problems.get(name, **kwargs)
    tr = lk.run(p, rule, steps, **hp)
    assert not tr.diverged and tr.f_final - p.f_star <= tol


@pytest.mark.parametrize("bad", [lambda: lk.optim.lion_k(K="l3"), lambda: lk.optim.lion_k(delta=0.0),
                                 lambda: lk.optim.adan(restart_every=-1), lambda: lk.optim.adan(restart_every=2.5),
                                 lambda: lk.optim.diffgrad(v_eps=-1.0), lambda: lk.optim.adabelief(rectify=2)])
def test_bad_hyperparameters_raise(bad):
    with pytest.raises(ValueError):
        bad()


# ----------------------------------------------------------------------------- diffGrad's functions

def _f1(x):
    return torch.where(x <= 0, (x + 0.3) ** 2, (x - 0.2) ** 2 + 0.05)


def _f2(x):
    return torch.where(x <= -0.9, -40 * x - 35.15, x ** 3 + x * torch.sin(8 * x) + 0.85)


def _f3(x):
    return torch.where(x <= -0.5, x ** 2, torch.where(x <= -0.4, 0.75 + x, torch.where(
        x <= 0, -7 * x / 8, torch.where(x <= 0.4, 7 * x / 8, torch.where(x <= 0.5, 0.75 - x, x ** 2)))))


DIFFGRAD_FUNCTIONS = {"diffgrad_f1": _f1, "diffgrad_f2": _f2, "diffgrad_f3": _f3}
# A grid at least 0.02 away from every breakpoint (0; -0.9; +-0.4, +-0.5, 0).
POINTS = np.linspace(-1.47, 1.43, 59)


@pytest.mark.parametrize("name", list(DIFFGRAD_FUNCTIONS))
def test_diffgrad_functions_against_autograd(name):
    p = lk.problems.get(name)
    x = torch.tensor(POINTS, requires_grad=True)
    f = DIFFGRAD_FUNCTIONS[name](x)
    (g,) = torch.autograd.grad(f.sum(), x, create_graph=True)
    (h,) = torch.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(p.f(POINTS[:, None]), f.detach().numpy(), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(p.grad(POINTS[:, None])[:, 0], g.detach().numpy(), rtol=1e-13, atol=1e-13)
    hess = np.array([p.hess(np.array([u]))[0, 0] for u in POINTS])
    np.testing.assert_allclose(hess, h.numpy(), rtol=1e-12, atol=1e-12)


def test_diffgrad_f2_uses_the_true_derivative_not_the_notebooks():
    p = lk.problems.diffgrad_f2()
    x = np.array([0.3])
    notebook = x * np.cos(8 * x) + np.sin(8 * x) + 3 * x ** 2          # factor 8 missing on x cos 8x
    true = 3 * x ** 2 + np.sin(8 * x) + 8 * x * np.cos(8 * x)
    np.testing.assert_allclose(p.grad(x), true, rtol=STEP_RTOL)
    assert abs(p.grad(x)[0] - notebook[0]) > 0.5
    # The jump at -0.9 (paper's formula as printed): 0.85 on the left, 0.8353 on the right.
    assert p.f(np.array([-0.9])) == pytest.approx(0.85, abs=1e-12)
    assert p.f(np.array([-0.9 + 1e-12])) == pytest.approx(0.8353010774642377, abs=1e-9)


@pytest.mark.parametrize("name", list(DIFFGRAD_FUNCTIONS))
def test_diffgrad_functions_minima(name):
    p = lk.problems.get(name)
    assert p.dim == 1 and p.x0.tolist() == [-1.0]
    assert p.f(p.x_star) == p.f_star
    values = [p.f(np.asarray(m)) for m in p.minima]
    assert min(values) == pytest.approx(p.f_star, abs=1e-15)
    for m in p.minima:
        u = float(m[0])
        if name == "diffgrad_f2":                      # smooth minima: stationary, convex
            assert abs(p.grad(np.array([u]))[0]) < 1e-12 and p.hess(np.array([u]))[0, 0] > 0
        else:                                          # lowest on a small neighbourhood
            for h in (1e-3, -1e-3):
                assert p.f(np.array([u + h])) > p.f(np.array([u]))
