"""The matrix-shaped problems (labkit/problems_matrix.py) against independent torch transcriptions.

Each objective is written again below in torch from its textbook definition, on the matrices
that ``Problem.unflatten`` gives (so the flat layout is checked too), and the analytic gradient
and Hessian are compared with ``torch.autograd`` in float64 at several seeded points: norm-wise
relative error <= 1e-12 (gradient) and <= 1e-10 (Hessian).  Then the promises of each record:
stationary minimisers with the stated ``f_star``, batched evaluation, scale invariance,
separability with the requested margin, the max-margin direction, and the statistics of the
Gauss-Newton-Bartlett estimator.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from labkit import problems_matrix as M
from labkit.problems import Problem

GRAD_RTOL, HESS_RTOL = 1e-12, 1e-10


# ----------------------------------------------------------------------------- torch transcriptions

def T(a):
    return torch.as_tensor(np.asarray(a), dtype=torch.float64)


def t_softmax(p, l2):
    A, y = p.extras["data"]
    A, y = T(A), torch.as_tensor(y)

    def f(x):
        (W,) = unflatten_t(p, x)
        return F.cross_entropy(A @ W.T, y) + 0.5 * l2 * (W * W).sum()      # mean over samples
    return f


def t_logistic(p, l2):
    A, y = (T(v) for v in p.extras["data"])

    def f(x):
        return F.softplus(-y * (A @ x)).mean() + 0.5 * l2 * (x * x).sum()
    return f


def t_two_layer(p):
    A, Y = (T(v) for v in p.extras["data"])
    n = A.shape[0]

    def f(x):
        W1, W2 = unflatten_t(p, x)
        return ((W2 @ W1 @ A.T - Y.T) ** 2).sum() / (2 * n)
    return f


def t_scale_invariant(p, coupling=1.0):
    U = T(p.extras["targets"])

    def f(x):
        (W,) = unflatten_t(p, x)
        Wh = W / W.norm(dim=1, keepdim=True)
        return (1 - (Wh * U).sum(1)).sum() + 0.5 * coupling * ((Wh @ Wh.T - U @ U.T) ** 2).sum()
    return f


def unflatten_t(p, x):
    """Problem.unflatten for a torch tensor: the same offsets and shapes."""
    return [x[o:o + r * max(c, 1)].reshape((r, c) if c else (r,)) for o, r, c in p.layout.tolist()]


CASES = {
    "softmax": (lambda: M.softmax_regression(), lambda p: t_softmax(p, 0.0)),
    "softmax(l2, k=4)": (lambda: M.softmax_regression(n=50, d=3, k=4, seed=3, l2=0.05), lambda p: t_softmax(p, 0.05)),
    "softmax(separable)": (lambda: M.softmax_regression(separable=True), lambda p: t_softmax(p, 0.0)),
    "blobs": (lambda: M.blobs_logistic(), lambda p: t_logistic(p, 0.0)),
    "blobs(l2, bias)": (lambda: M.blobs_logistic(0.1, bias=True), lambda p: t_logistic(p, 0.1)),
    "separable_logistic": (lambda: M.separable_logistic(), lambda p: t_logistic(p, 0.0)),
    "separable_logistic(5-D)": (lambda: M.separable_logistic(n=60, d=5, margin=0.05, seed=2),
                                lambda p: t_logistic(p, 0.0)),
    "two_layer_linear": (lambda: M.two_layer_linear(), t_two_layer),
    "two_layer_linear(rank > hidden)": (lambda: M.two_layer_linear(d_in=5, hidden=2, d_out=4, rank=3, seed=1),
                                        t_two_layer),
    "scale_invariant": (lambda: M.scale_invariant(), t_scale_invariant),
    "scale_invariant(coupling=3)": (lambda: M.scale_invariant(k=4, d=3, seed=5, coupling=3.0),
                                    lambda p: t_scale_invariant(p, 3.0)),
}


@pytest.fixture(scope="module")
def problems():
    return {cid: make() for cid, (make, _) in CASES.items()}


def points(p, n=5, seed=0):
    """x0, x_star (if any) and seeded points around x0 on the scale of the problem."""
    rng = np.random.default_rng(seed)
    scale = 0.5 * max(1.0, float(np.linalg.norm(p.x0)) / np.sqrt(p.dim))
    pts = [p.x0] + ([p.x_star] if p.x_star is not None else [])
    return pts + [p.x0 + scale * rng.standard_normal(p.dim) for _ in range(n)]


def rel_err(ours, ref):
    return float(np.linalg.norm(ours - ref) / max(np.linalg.norm(ref), 1e-300))


@pytest.mark.parametrize("cid", list(CASES))
def test_against_torch_autograd(cid, problems):
    p = problems[cid]
    t_f = CASES[cid][1](p)
    for x in points(p):
        xt = T(x).requires_grad_(True)
        f_ref = t_f(xt)
        (g_ref,) = torch.autograd.grad(f_ref, xt)
        h_ref = torch.autograd.functional.hessian(t_f, T(x)).numpy()
        f, g, h = p.f(x), p.grad(x), p.hess(x)
        assert isinstance(f, float) and g.shape == (p.dim,) and h.shape == (p.dim, p.dim)
        assert f == pytest.approx(float(f_ref.detach()), rel=1e-13, abs=1e-15)
        if p.x_star is not None and x is p.x_star:
            assert np.linalg.norm(g - g_ref.numpy()) <= 1e-13            # both ~0 there: absolute
        else:
            assert rel_err(g, g_ref.numpy()) <= GRAD_RTOL, (cid, rel_err(g, g_ref.numpy()))
        assert rel_err(h, h_ref) <= HESS_RTOL, (cid, rel_err(h, h_ref))
        np.testing.assert_array_equal(h, h.T)


@pytest.mark.parametrize("cid", list(CASES))
def test_record(cid, problems):
    p = problems[cid]
    assert isinstance(p, Problem) and p.kernel == -1
    assert p.x0.shape == (p.dim,) and np.all(np.isfinite(p.x0))
    assert sum(int(np.prod(s)) for s in p.shapes) == p.dim
    assert int(p.layout[-1, 0] + p.layout[-1, 1] * max(p.layout[-1, 2], 1)) == p.dim
    blocks = p.unflatten(p.x0)
    assert [b.shape for b in blocks] == [tuple(s) for s in p.shapes]
    np.testing.assert_array_equal(np.concatenate([b.ravel() for b in blocks]), p.x0)
    assert p.reference and p.description and "math" in (M.__dict__[p.name.split("(")[0]].__doc__ or "")
    for lo, hi in p.domain:
        assert np.isfinite(lo) and np.isfinite(hi) and lo < hi
    if p.x_star is not None:
        assert p.x_star.shape == (p.dim,)
        assert abs(p.f(p.x_star) - p.f_star) <= 1e-12
        assert np.linalg.norm(p.grad(p.x_star)) <= 1e-10
        assert p.f(p.x0) > p.f_star
    with pytest.raises(ValueError):
        p.f(np.zeros(p.dim + 1))


@pytest.mark.parametrize("cid", list(CASES))
def test_batched_evaluation_equals_pointwise(cid, problems):
    p = problems[cid]
    X = np.stack(points(p, 11, seed=1)[-12:]).reshape(3, 4, p.dim)
    Fb, Gb = p.f(X), p.grad(X)
    assert Fb.shape == (3, 4) and Gb.shape == (3, 4, p.dim)
    np.testing.assert_array_equal(Fb, [[p.f(X[i, j]) for j in range(4)] for i in range(3)])
    np.testing.assert_array_equal(Gb, [[p.grad(X[i, j]) for j in range(4)] for i in range(3)])
    np.testing.assert_array_equal(p.f(X[0, :1]), [Fb[0, 0]])


# ----------------------------------------------------------------------------- softmax regression

def test_softmax_layout_matches_logits():
    p = M.softmax_regression(n=20, d=4, k=3, seed=1)
    A, y = p.extras["data"]
    x = p.x0 + 0.3
    (W,) = p.unflatten(x)
    assert W.shape == (3, 4)
    Z = A @ W.T                                         # logits (n, k): z_ic = w_c . a_i
    np.testing.assert_allclose(Z[:, 1], A @ x[4:8], rtol=1e-14, atol=1e-15)
    lse = np.log(np.exp(Z).sum(1))
    assert p.f(x) == pytest.approx(np.mean(lse - Z[np.arange(20), y]), rel=1e-13)


@pytest.mark.parametrize("seed", [0, 1, 4])     # seed 1 is near-separable: |x*| = 18, where Newton drifted
def test_softmax_minimiser_is_min_norm_and_shift_invariant(seed):
    p = M.softmax_regression(n=200, d=5, k=3, seed=seed)
    W = p.x_star.reshape(3, 5)
    np.testing.assert_allclose(W.sum(0), 0.0, atol=1e-12 * max(1.0, np.abs(W).max()))  # the minimum-norm point
    assert np.linalg.norm(p.grad(p.x_star)) <= 1e-10
    v = np.random.default_rng(0).standard_normal(5)
    assert p.f((W + v).ravel()) == pytest.approx(p.f_star, abs=1e-13)   # W + 1 v^T: same loss


def test_softmax_separable_has_no_minimiser():
    p = M.softmax_regression(separable=True)
    assert p.x_star is None and p.f_star == 0.0
    A, y = p.extras["data"]
    Wt = p.extras["teacher"].reshape(3, 5)
    assert np.all(np.argmax(A @ Wt.T, axis=1) == y)
    f_ray = [p.f(c * p.extras["teacher"]) for c in (1, 10, 100, 1e4)]
    assert all(a > b for a, b in zip(f_ray, f_ray[1:])) and f_ray[-1] < 1e-6   # f -> 0 along the teacher
    # Tiny losses keep their relative precision (no lse - z_y cancellation).
    x = 1e3 * p.extras["teacher"]
    Z = A @ (x.reshape(3, 5)).T
    margins = Z[np.arange(len(y)), y][:, None] - Z
    exact = np.mean(np.log1p(np.sum(np.where(margins > 0, np.exp(-margins), 0.0), axis=1)))
    assert p.f(x) == pytest.approx(exact, rel=1e-12) and 0 < p.f(x) < 1e-3


def test_softmax_gnb_estimator():
    p = M.softmax_regression(n=40, d=3, k=3, seed=2, l2=0.1)
    gg, gh = p.extras["gnb_grad"], p.extras["gnb_hess"]
    x = p.x0 + 0.2
    np.testing.assert_array_equal(gg(x, 7, 3), gg(x, 7, 3))       # deterministic in (seed, t)
    assert not np.array_equal(gg(x, 7, 3), gg(x, 7, 4))
    assert not np.array_equal(gg(x, 7, 3), gg(x, 8, 3))
    S = 4000
    G = np.array([gg(x, 11, t) for t in range(S)])
    Hd = np.array([gh(x, 11, t) for t in range(S)])
    np.testing.assert_allclose(Hd, 40 * G * G)
    # Gauss-Newton diagonal of the data term (= its Hessian for cross-entropy): Hessian minus l2.
    gn = np.diag(p.hess(x)) - 0.1
    # E[g_hat] = 0: the sampled-label gradient vanishes in expectation (std of the mean = sqrt(gn/(n S))).
    assert np.all(np.abs(G.mean(0)) <= 5 * np.sqrt(gn / (40 * S)))
    # E[B g_hat^2] = diag(GN); B g_hat^2 ~ gn * chi2_1 roughly, relative std sqrt(2/S).
    np.testing.assert_allclose(Hd.mean(0), gn, rtol=5 * np.sqrt(2 / S))


# ----------------------------------------------------------------------------- logistic regression

def test_sigmoid_weight():
    p = M.blobs_logistic()
    sw = p.extras["sigmoid_weight"]
    assert sw(np.zeros(2)) == 0.5
    A, y = p.extras["data"]
    x = np.array([0.3, -0.7])
    assert sw(x) == pytest.approx(np.mean(1 / (1 + np.exp(y * (A @ x)))), rel=1e-14)


def test_logistic_gnb_estimator():
    p = M.blobs_logistic()
    gg, gh = p.extras["gnb_grad"], p.extras["gnb_hess"]
    x = p.x_star
    np.testing.assert_array_equal(gh(x, 1, 5), gh(x, 1, 5))
    assert not np.array_equal(gg(x, 1, 5), gg(x, 1, 6))
    S = 4000
    G = np.array([gg(x, 3, t) for t in range(S)])
    gn = np.diag(p.hess(x))
    assert np.all(np.abs(G.mean(0)) <= 5 * np.sqrt(gn / (100 * S)))
    np.testing.assert_allclose(np.mean([gh(x, 3, t) for t in range(S)], axis=0), gn, rtol=5 * np.sqrt(2 / S))


def test_blobs_are_pytorch_optimizers_data():
    p = M.blobs_logistic()
    A, y = p.extras["data"]
    rs = np.random.RandomState(42)
    ref = rs.randn(100, 2) * 2
    ref[:50] -= 2
    ref[50:] += 2
    np.testing.assert_array_equal(A, ref.astype(np.float32).astype(np.float64))
    np.testing.assert_array_equal(y, np.r_[-np.ones(50), np.ones(50)])
    assert p.x_star is not None and p.f_star < np.log(2)              # overlapping blobs: finite minimiser
    assert M.blobs_logistic(std=0.3).x_star is None                      # tight blobs separate


@pytest.mark.parametrize("margin,d,seed", [(0.1, 2, 0), (0.3, 3, 1), (0.02, 5, 4)])
def test_separable_logistic(margin, d, seed):
    p = M.separable_logistic(n=80, d=d, margin=margin, seed=seed)
    A, y = p.extras["data"]
    w = p.extras["teacher"]
    assert A.shape == (80, d) and np.all(np.abs(A) <= 1)
    assert np.linalg.norm(w) == pytest.approx(1.0, rel=1e-15)
    assert np.min(y * (A @ w)) >= margin                                  # separable with that margin
    assert p.x_star is None and p.f_star == 0.0
    np.testing.assert_array_equal(p.x0, np.zeros(d))
    u, gamma = p.extras["max_margin"]
    assert np.linalg.norm(u) == pytest.approx(1.0, rel=1e-14)
    assert np.min(y * (A @ u)) == pytest.approx(gamma, rel=1e-12) and gamma >= np.min(y * (A @ w)) - 1e-12
    # No unit direction does better: random ones, and small perturbations of u.
    rng = np.random.default_rng(0)
    V = np.vstack([rng.standard_normal((2000, d)), u + 1e-3 * rng.standard_normal((2000, d))])
    V /= np.linalg.norm(V, axis=1, keepdims=True)
    assert np.max(np.min((A * y[:, None]) @ V.T, axis=0)) <= gamma + 1e-12


def test_logistic_regression_validates_and_finds_minimiser():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((30, 3))
    y = np.where(rng.random(30) < 0.5, -1.0, 1.0)
    p = M.logistic_regression(A, y, l2=0.01, name="mine")
    assert p.name == "mine" and p.shapes == ((3,),)
    assert np.linalg.norm(p.grad(p.x_star)) <= 1e-13
    assert np.all(np.linalg.eigvalsh(p.hess(p.x_star)) > 0)
    with pytest.raises(ValueError, match="-1, \\+1"):
        M.logistic_regression(A, (y + 1) / 2)


# ----------------------------------------------------------------------------- two-layer linear network

def test_two_layer_layout_and_minimiser():
    p = M.two_layer_linear()
    A, Y = p.extras["data"]
    x = p.x0 + 0.1
    W1, W2 = p.unflatten(x)
    assert W1.shape == (3, 4) and W2.shape == (2, 3)
    assert p.f(x) == pytest.approx(np.sum((W2 @ W1 @ A.T - Y.T) ** 2) / (2 * len(A)), rel=1e-13)
    assert p.x_star is None and p.f_star == 0.0
    m = p.extras["minimiser"]
    assert p.f(m) <= 1e-25 and np.linalg.norm(p.grad(m)) <= 1e-12
    # The loss is unchanged on the orbit (W1, W2) -> (G W1, W2 G^-1): a manifold of minimisers.
    G = np.eye(3) + 0.3 * np.random.default_rng(0).standard_normal((3, 3))
    M1, M2 = p.unflatten(m)
    assert p.f(np.r_[(G @ M1).ravel(), (M2 @ np.linalg.inv(G)).ravel()]) <= 1e-24
    assert np.linalg.norm(p.grad(np.zeros(p.dim))) == 0.0                  # 0 is a critical point (a saddle)


def test_two_layer_unrepresentable_teacher_f_star():
    p = M.two_layer_linear(d_in=5, hidden=2, d_out=4, rank=3, seed=1)
    m = p.extras["minimiser"]
    assert p.f_star > 0
    assert p.f(m) == pytest.approx(p.f_star, rel=1e-12)
    assert np.linalg.norm(p.grad(m)) <= 1e-12
    assert np.min(np.linalg.eigvalsh(p.hess(m))) >= -1e-10             # a (degenerate) minimum


# ----------------------------------------------------------------------------- scale invariance

@pytest.mark.parametrize("k,d,seed", [(3, 4, 0), (4, 3, 5), (1, 6, 2)])
def test_scale_invariance(k, d, seed):
    p = M.scale_invariant(k=k, d=d, seed=seed)
    rng = np.random.default_rng(seed)
    for x in [p.x0, p.x0 + rng.standard_normal(p.dim)]:
        W = x.reshape(k, d)
        f0 = p.f(x)
        for i in range(k):
            for c in (0.01, 0.5, 3.0, 1e3):
                V = W.copy()
                V[i] *= c
                assert abs(p.f(V.ravel()) - f0) <= 1e-13
        G = p.grad(x).reshape(k, d)
        for i in range(k):                                              # gradient orthogonal to each row
            assert abs(G[i] @ W[i]) <= 1e-14 * np.linalg.norm(G[i]) * np.linalg.norm(W[i])
        # |grad| scales like 1/|w_i|.
        V = W.copy()
        V[0] *= 4.0
        np.testing.assert_allclose(p.grad(V.ravel()).reshape(k, d)[0], G[0] / 4.0, rtol=1e-13, atol=1e-16)
        # Radial directions are in the Hessian's null space only up to the gradient term: H w = -g.
        np.testing.assert_allclose(p.hess(x) @ x, -p.grad(x), atol=1e-12)


def test_scale_invariant_minimisers_are_rays():
    p = M.scale_invariant()
    U = p.extras["targets"]
    np.testing.assert_allclose(np.linalg.norm(p.x_star.reshape(3, 4), axis=1),
                               np.linalg.norm(p.x0.reshape(3, 4), axis=1), rtol=1e-14)
    for c in (0.1, 1.0, 7.0):
        assert p.f((c * U).ravel()) <= 1e-30
    assert p.f((-U).ravel()) > 1.0                                       # the opposite rays are not minima
    with pytest.raises(ValueError):
        M.scale_invariant(x0=np.zeros(12))
