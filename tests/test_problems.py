"""The test problems against independent torch transcriptions of their formulas.

Each problem's objective is written again below in torch, from its standard definition (not
from labkit's kernels), and compared at random points of its domain in float64: the value to
1e-12 relative, the analytic gradient against ``torch.autograd`` and the analytic Hessian
against ``torch.autograd.functional.hessian`` to 1e-12 relative (norm-wise, with a small
absolute floor for points where they nearly vanish).  Then the record's promises: batched
evaluation, stationary minimisers with the stated ``f_star``, references and plot domains,
and a ValueError for a wrongly shaped point.
"""
import math

import numpy as np
import pytest
import torch

import labkit as lk

N_POINTS = 20
RTOL = 1e-12


# ----------------------------------------------------------------------------- torch transcriptions

def t_rosenbrock(a=1.0, b=100.0):
    # f = sum_{i=1}^{n-1} b (x_{i+1} - x_i^2)^2 + (a - x_i)^2   (Rosenbrock 1960; n-D chain form)
    def f(x):
        return torch.sum(b * (x[1:] - x[:-1] ** 2) ** 2 + (a - x[:-1]) ** 2)
    return f


def rotation(angle):
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s], [s, c]])


def t_quadratic_2d(eigs, angle, center=(0.0, 0.0)):
    # f = 1/2 (x - c)^T A (x - c), A = R(angle) diag(eigs) R(angle)^T: the eigenvector of eigs[0]
    # is (cos angle, sin angle).  Built here as sum_k lambda_k q_k q_k^T.
    R = rotation(angle)
    A = sum(lam * np.outer(R[:, k], R[:, k]) for k, lam in enumerate(eigs))
    return t_quadratic_matrix(A, center)


def t_quadratic_matrix(A, center):
    A, c = torch.tensor(A, dtype=torch.float64), torch.tensor(center, dtype=torch.float64)

    def f(x):
        r = x - c
        return 0.5 * r @ (A @ r)
    return f


def t_rastrigin(amp=10.0):
    # f = A n + sum_i x_i^2 - A cos(2 pi x_i)   (Rastrigin 1974; Muehlenbein et al. 1991)
    def f(x):
        return amp * x.numel() + torch.sum(x ** 2 - amp * torch.cos(2 * math.pi * x))
    return f


def t_beale(x):
    u, v = x[0], x[1]
    return (1.5 - u + u * v) ** 2 + (2.25 - u + u * v ** 2) ** 2 + (2.625 - u + u * v ** 3) ** 2


def t_himmelblau(x):
    u, v = x[0], x[1]
    return (u ** 2 + v - 11) ** 2 + (u + v ** 2 - 7) ** 2


def t_saddle(x):
    u, v = x[0], x[1]
    return u ** 2 / 2 + v ** 4 / 4 - v ** 2 / 2


def t_styblinski_tang(x):
    # f = 1/2 sum_i x_i^4 - 16 x_i^2 + 5 x_i   (Styblinski & Tang 1990)
    return 0.5 * torch.sum(x ** 4 - 16 * x ** 2 + 5 * x)


# diffGrad's 1-D functions (Dubey et al. 2020, eqs. 24-26); each breakpoint belongs to the left piece.
def t_diffgrad_f1(x):
    u = x[0]
    return torch.where(u <= 0, (u + 0.3) ** 2, (u - 0.2) ** 2 + 0.05)


def t_diffgrad_f2(x):
    u = x[0]
    return torch.where(u <= -0.9, -40 * u - 35.15, u ** 3 + u * torch.sin(8 * u) + 0.85)


def t_diffgrad_f3(x):
    a = torch.abs(x[0])
    return torch.where(a <= 0.4, 7 * a / 8, torch.where(a <= 0.5, 0.75 - a, a ** 2))


# id -> (constructor, torch objective).  Every registry entry appears with its defaults.
PROBLEMS = {
    "rosenbrock": (lambda: lk.problems.rosenbrock(), t_rosenbrock()),
    "rosenbrock(a=0.5, b=5)": (lambda: lk.problems.rosenbrock(a=0.5, b=5.0), t_rosenbrock(0.5, 5.0)),
    "rosenbrock_nd": (lambda: lk.problems.rosenbrock_nd(), t_rosenbrock()),
    "rosenbrock_nd(5)": (lambda: lk.problems.rosenbrock_nd(5), t_rosenbrock()),
    "quadratic": (lambda: lk.problems.quadratic(), t_quadratic_2d((1.0, 10.0), 0.0)),
    "quadratic(1, 100; 0.5)": (lambda: lk.problems.quadratic(eigs=(1, 100), angle=0.5),
                               t_quadratic_2d((1.0, 100.0), 0.5)),
    "quadratic(centred)": (lambda: lk.problems.quadratic(eigs=(2, 5), angle=-1.0, center=(1.0, -2.0)),
                           t_quadratic_2d((2.0, 5.0), -1.0, (1.0, -2.0))),
    "quadratic(1, -2)": (lambda: lk.problems.quadratic(eigs=(1, -2)), t_quadratic_2d((1.0, -2.0), 0.0)),
    # A random basis cannot be rebuilt independently: A comes from p.hess (constant), and
    # test_quadratic_random_basis checks its spectrum and symmetry.
    "quadratic(4-D, basis_seed)": (lambda: lk.problems.quadratic(eigs=(1, 3, 10, 100), basis_seed=7), None),
    "rastrigin": (lambda: lk.problems.rastrigin(), t_rastrigin()),
    "rastrigin(3)": (lambda: lk.problems.rastrigin(3), t_rastrigin()),
    "rastrigin(3, A=4)": (lambda: lk.problems.rastrigin(3, A=4.0), t_rastrigin(4.0)),
    "beale": (lambda: lk.problems.beale(), t_beale),
    "himmelblau": (lambda: lk.problems.himmelblau(), t_himmelblau),
    "saddle": (lambda: lk.problems.saddle(), t_saddle),
    "styblinski_tang": (lambda: lk.problems.styblinski_tang(), t_styblinski_tang),
    "styblinski_tang(3)": (lambda: lk.problems.styblinski_tang(3), t_styblinski_tang),
    "diffgrad_f1": (lambda: lk.problems.diffgrad_f1(), t_diffgrad_f1),
    "diffgrad_f2": (lambda: lk.problems.diffgrad_f2(), t_diffgrad_f2),
    "diffgrad_f3": (lambda: lk.problems.diffgrad_f3(), t_diffgrad_f3),
}

# x_star (and some minima) of F3 sit on kinks: minimisers, but not stationary points.
KINKED = {"diffgrad_f3"}


def make(pid):
    return PROBLEMS[pid][0]()


def torch_objective(pid, p):
    t_f = PROBLEMS[pid][1]
    if t_f is None:                       # random-basis quadratic: f = 1/2 x^T A x with A = p.hess
        t_f = t_quadratic_matrix(p.hess(np.zeros(p.dim)), np.zeros(p.dim))
    return t_f


def random_points(p, n=N_POINTS, seed=0):
    """n points in the problem's domain; coordinates beyond the plotted two use the second range.

    For the 1-D problems the domain's second row is the range of f, not of a coordinate.
    """
    rng = np.random.default_rng(seed)
    rows = [p.domain[0]] if p.dim == 1 else [p.domain[min(i, 1)] for i in range(p.dim)]
    lo, hi = np.array(rows, dtype=np.float64).T
    return lo + (hi - lo) * rng.random((n, p.dim))


def close(ours, ref, rtol=RTOL, floor=0.0):
    """Norm-wise relative closeness: |ours - ref| <= rtol |ref| + floor (Frobenius for matrices)."""
    err = float(np.linalg.norm(np.asarray(ours) - np.asarray(ref)))
    return err <= rtol * float(np.linalg.norm(ref)) + floor, err


@pytest.mark.parametrize("pid", list(PROBLEMS))
def test_against_torch_autograd(pid):
    p = make(pid)
    t_f = torch_objective(pid, p)
    assert p.hess is not None
    for x in random_points(p):
        xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        f_ref = t_f(xt)
        (g_ref,) = torch.autograd.grad(f_ref, xt)
        h_ref = torch.autograd.functional.hessian(t_f, torch.tensor(x, dtype=torch.float64)).numpy()
        f_ref, g_ref = float(f_ref.detach()), g_ref.numpy()
        f, g, h = p.f(x), p.grad(x), p.hess(x)
        assert isinstance(f, float) and g.shape == (p.dim,) and h.shape == (p.dim, p.dim)
        for name, ours, ref, floor in (("f", f, f_ref, 1e-13), ("grad", g, g_ref, 1e-12), ("hess", h, h_ref, 1e-12)):
            ok, err = close(ours, ref, floor=floor)
            assert ok, f"{name} at x={x!r}: ours {ours!r}, torch {ref!r} (|diff| = {err:.3e})"
    # Analytic Hessians are symmetric by construction; so is autograd's (checked implicitly above).
    np.testing.assert_array_equal(h, h.T)


def test_quadratic_random_basis():
    eigs = (1.0, 3.0, 10.0, 100.0)
    p = lk.problems.quadratic(eigs=eigs, basis_seed=7)
    A = p.hess(np.zeros(4))
    np.testing.assert_array_equal(A, A.T)
    np.testing.assert_allclose(np.linalg.eigvalsh(A), eigs, rtol=1e-12)
    assert np.linalg.norm(A - np.diag(np.diag(A))) > 1.0              # really rotated
    np.testing.assert_array_equal(p.hess(np.ones(4)), A)                # constant Hessian
    np.testing.assert_array_equal(lk.problems.quadratic(eigs=eigs, basis_seed=7).hess(np.zeros(4)), A)
    assert np.max(np.abs(lk.problems.quadratic(eigs=eigs, basis_seed=8).hess(np.zeros(4)) - A)) > 1e-3
    np.testing.assert_array_equal(lk.problems.quadratic(eigs=eigs).hess(np.zeros(4)), np.diag(eigs))
    assert p.x_star.tolist() == [0.0] * 4 and p.f_star == 0.0
    with pytest.raises(ValueError):
        lk.problems.quadratic(eigs=eigs, angle=0.3)                     # angle is 2-D only


def test_quadratic_saddle_spectrum_has_no_minimiser():
    p = lk.problems.quadratic(eigs=(1, -2))
    assert p.x_star is None and p.f_star is None
    np.testing.assert_array_equal(p.hess(np.zeros(2)), np.diag([1.0, -2.0]))
    np.testing.assert_array_equal(p.grad(np.zeros(2)), [0.0, 0.0])   # the saddle point itself
    assert p.f(np.array([0.0, 1.0])) == -1.0


def test_quadratic_rotation_convention():
    # The eigenvector of eigs[0] is (cos angle, sin angle): along it f = eigs[0] r^2 / 2.
    angle = 0.5
    p = lk.problems.quadratic(eigs=(1, 100), angle=angle)
    q = np.array([math.cos(angle), math.sin(angle)])
    np.testing.assert_allclose(p.hess(np.zeros(2)) @ q, q, rtol=1e-14, atol=1e-14)
    assert p.f(2 * q) == pytest.approx(2.0, rel=1e-14)


@pytest.mark.parametrize("pid", list(PROBLEMS))
def test_batched_evaluation_equals_pointwise(pid):
    p = make(pid)
    X = random_points(p, 35, seed=1).reshape(5, 7, p.dim)
    F, G = p.f(X), p.grad(X)
    assert F.shape == (5, 7) and G.shape == (5, 7, p.dim)
    np.testing.assert_array_equal(F, [[p.f(X[i, j]) for j in range(7)] for i in range(5)])
    np.testing.assert_array_equal(G, [[p.grad(X[i, j]) for j in range(7)] for i in range(5)])
    # A flat batch and a single point in a batch of one agree too.
    np.testing.assert_array_equal(p.f(X.reshape(-1, p.dim)), F.reshape(-1))
    np.testing.assert_array_equal(p.f(X[:1, 0]), [F[0, 0]])


@pytest.mark.parametrize("pid", [k for k in PROBLEMS if k not in KINKED])
def test_x_star_is_a_stationary_minimiser(pid):
    p = make(pid)
    if p.x_star is None:
        assert p.f_star is None
        assert np.min(np.linalg.eigvalsh(p.hess(np.zeros(p.dim)))) < 0     # a saddle: nothing to find
        return
    assert p.x_star.shape == (p.dim,)
    assert np.linalg.norm(p.grad(p.x_star)) <= 1e-10
    assert abs(p.f(p.x_star) - p.f_star) <= 1e-10
    assert np.min(np.linalg.eigvalsh(p.hess(p.x_star))) > 0


def test_diffgrad_f3_x_star_is_a_kinked_minimiser():
    p = lk.problems.diffgrad_f3()
    assert p.f(p.x_star) == p.f_star == 0.0
    for h in (1e-6, -1e-6, 0.1, -0.1):
        assert p.f(p.x_star + h) > p.f_star


@pytest.mark.parametrize("pid", [k for k in PROBLEMS if k not in KINKED and make(k).minima])
def test_listed_minima_are_minima(pid):
    p = make(pid)
    for m in p.minima:
        assert m.shape == (p.dim,)
        assert np.linalg.norm(p.grad(m)) <= 1e-10, f"grad at {m} = {p.grad(m)}"
        assert np.min(np.linalg.eigvalsh(p.hess(m))) > 0, f"Hessian at {m} not positive definite"
        if p.f_star is not None:
            assert p.f(m) >= p.f_star - 1e-12
    if p.x_star is not None:
        assert any(np.allclose(m, p.x_star, atol=1e-12) for m in p.minima)


def test_himmelblau_has_four_global_minima():
    p = lk.problems.himmelblau()
    assert len(p.minima) == 4
    for m in p.minima:
        assert np.linalg.norm(p.grad(m)) <= 1e-10
        assert 0.0 <= p.f(m) <= 1e-20
        assert np.all(np.linalg.eigvalsh(p.hess(m)) > 0)
    pts = np.array(p.minima)
    assert np.min([np.linalg.norm(a - b) for i, a in enumerate(pts) for b in pts[i + 1:]]) > 1.0
    np.testing.assert_array_equal(p.x_star, [3.0, 2.0])
    assert p.f(p.x_star) == 0.0


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_styblinski_tang_optimum(n):
    p = lk.problems.styblinski_tang(n)
    assert p.f_star == pytest.approx(-39.16616570377142 * n, rel=1e-12)
    assert p.f(p.x_star) == pytest.approx(p.f_star, rel=1e-14)
    np.testing.assert_allclose(p.x_star, -2.903534027771178, rtol=1e-15)
    assert np.linalg.norm(p.grad(p.x_star)) <= 1e-10
    if n == 2:
        assert len(p.minima) == 4                    # 2^n local minima, listed in 2-D
        assert min(p.f(m) for m in p.minima) == pytest.approx(p.f_star, rel=1e-14)


@pytest.mark.parametrize("pid", list(PROBLEMS))
def test_record_fields(pid):
    p = make(pid)
    assert isinstance(p.reference, str) and p.reference.strip() and p.reference != "user-defined"
    dom = np.array(p.domain, dtype=np.float64)
    assert dom.shape == (2, 2) and np.all(np.isfinite(dom)) and np.all(dom[:, 0] < dom[:, 1])
    assert p.x0.shape == (p.dim,) and np.all(np.isfinite(p.x0))
    assert dom[0, 0] <= p.x0[0] <= dom[0, 1]          # the start is on the plot
    if p.dim >= 2:
        assert dom[1, 0] <= p.x0[1] <= dom[1, 1]
    assert np.isfinite(p.f(p.x0))


@pytest.mark.parametrize("pid", list(PROBLEMS))
def test_wrong_shape_raises(pid):
    p = make(pid)
    d = p.dim
    for bad in (np.zeros(d + 1), np.zeros((3, d + 1)), np.zeros((d + 1, 1)) if d > 1 else np.zeros((2, 3))):
        with pytest.raises(ValueError):
            p.f(bad)
        with pytest.raises(ValueError):
            p.grad(bad)
    for bad in (np.zeros(d + 1), np.zeros((2, d))):
        with pytest.raises(ValueError):
            p.hess(bad)


@pytest.mark.parametrize("name", sorted(lk.problems.registry))
def test_every_registered_problem_is_covered_and_takes_noise(name):
    ctor = lk.problems.registry[name]
    assert name in PROBLEMS                          # its defaults are checked against torch above
    noisy = ctor(noise=0.5, seed=3)
    assert noisy.noise == 0.5 and noisy.seed == 3
    # The noise is what the optimizer sees in run/sweep; f and grad stay exact.
    plain = ctor()
    x = random_points(plain, 3)
    np.testing.assert_array_equal(noisy.f(x), plain.f(x))
    np.testing.assert_array_equal(noisy.grad(x), plain.grad(x))
    with pytest.raises(ValueError):
        ctor(noise=-1.0)
