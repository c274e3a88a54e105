r"""Matrix-shaped test problems: linear classifiers, a two-layer linear network, a scale-invariant loss.

Each constructor returns a :class:`~labkit.problems.Problem` of the user-defined kind
(``kernel = -1``): ``f``, ``grad`` and ``hess`` are NumPy functions of a flat float64 point
``x``, the row-major concatenation of the blocks listed in ``shapes`` (a matrix block is
``(out, in)``, like torch's ``Linear.weight``; ``problem.unflatten(x)`` gives the blocks).
``f`` and ``grad`` also take a leading batch axis ``(..., dim)``.  Derivatives are exact and
analytic; ``tests/test_problems_matrix.py`` checks them against ``torch.autograd``.

The classification problems carry what some rules need in ``extras``: ``"data"``,
``"gnb_grad"``/``"gnb_hess"`` (the Gauss-Newton-Bartlett estimator of Sophia-G, Liu et al.
2023) and, for binary logistic regression, ``"sigmoid_weight"`` (Tyurin 2024's normalized
LR+GD).  Generated data comes from seeded NumPy generators; nothing is downloaded.
"""
from __future__ import annotations

import math

import numpy as np

from .problems import Problem
from ._errors import check_array, check_bool, check_int, check_memory, check_nonneg, check_real, check_seed, shown

__all__ = [
    "softmax_regression",
    "logistic_regression",
    "separable_logistic",
    "blobs_logistic",
    "two_layer_linear",
    "scale_invariant",
]

_SOPHIA_REF = ("H. Liu, Z. Li, D. Hall, P. Liang, T. Ma, 'Sophia: A Scalable Stochastic Second-order Optimizer "
               "for Language Model Pre-training', arXiv:2305.14342, 2023 (GNB estimator, Sec. 2.3)")
_BISHOP = "C. M. Bishop, Pattern Recognition and Machine Learning, Springer, 2006"
_TYURIN = ("A. Tyurin, 'From Logistic Regression to the Perceptron Algorithm: Exploring Gradient Descent "
           "with Large Step Sizes', arXiv:2412.08424, 2024")
_SOUDRY = ("D. Soudry, E. Hoffer, M. S. Nacson, S. Gunasekar, N. Srebro, 'The Implicit Bias of Gradient "
           "Descent on Separable Data', JMLR 19(70):1-57, 2018")

#: extras key -> the constructors whose problems provide it (run.py lists them in its error messages).
PROVIDES = {
    "data": ("softmax_regression", "logistic_regression", "separable_logistic", "blobs_logistic",
             "two_layer_linear"),
    "gnb_grad": ("softmax_regression", "logistic_regression", "separable_logistic", "blobs_logistic"),
    "gnb_hess": ("softmax_regression", "logistic_regression", "separable_logistic", "blobs_logistic"),
    "sigmoid_weight": ("logistic_regression", "separable_logistic", "blobs_logistic"),
}


# ----------------------------------------------------------------------------- helpers

def _rows(x, dim):
    """x of shape (..., dim) as a (B, dim) float64 array, and the leading shape."""
    x = np.asarray(x, dtype=np.float64)
    if x.shape[-1:] != (dim,):
        raise ValueError(f"x must have shape (..., {dim}), got {x.shape}")
    return x.reshape(-1, dim), x.shape[:-1]


def _point(x, dim):
    x = np.asarray(x, dtype=np.float64)
    if x.shape != (dim,):
        raise ValueError(f"x must have shape ({dim},), got {x.shape}")
    return x


def _out_f(F, lead):
    return float(F[0]) if lead == () else F.reshape(lead)


def _out_g(G, lead):
    G = G.reshape(G.shape[0], -1)
    return G[0] if lead == () else G.reshape(lead + G.shape[1:])


def _log1pexp(z):
    """log(1 + e^z), accurate for every z (numpy's logaddexp uses log1p)."""
    return np.logaddexp(0.0, z)


def _sym(H):
    return 0.5 * (H + H.T)


def _box(points, min_half=1.0, grow=1.5):
    """A plot box ((xlo, xhi), (ylo, yhi)) around the first two coordinates of the points."""
    P = np.array([np.r_[np.ravel(p)[:2], 0.0][:2] for p in points], dtype=np.float64)
    lo, hi = P.min(0), P.max(0)
    c = 0.5 * (lo + hi)
    h = np.maximum(grow * 0.5 * (hi - lo), min_half)
    return tuple((float(c[i] - h[i]), float(c[i] + h[i])) for i in range(2))


def _newton(f, grad, hess, x0, *, separated=None, tol=1e-13, max_iter=200):
    """Newton's method with a backtracking (Armijo) line search, from x0.

    Steps solve H s = -g in the least-squares, minimum-norm sense, so a singular Hessian (the
    shift invariance of softmax, a rank-deficient design) is fine: from x0 = 0 the iterates stay
    in the row space and converge to the minimum-norm minimiser.  ``separated(x)`` (used when
    there is no L2 term) returns True once x classifies every sample strictly correctly: a
    certificate that the infimum 0 is not attained.

    Returns ``(x, status)``, status one of "converged", "separable", "stalled", "max_iter".
    """
    x = np.array(x0, dtype=np.float64)
    fx, g = f(x), grad(x)
    gn = float(np.linalg.norm(g))
    for _ in range(max_iter):
        if gn <= tol:
            return x, "converged"
        if separated is not None and separated(x):
            return x, "separable"
        try:
            s = -np.linalg.lstsq(hess(x), g, rcond=None)[0]
        except np.linalg.LinAlgError as e:          # an overflowing Hessian (l2 = 1e308, huge data)
            raise ValueError(f"finding x_star failed ({e}): the data or l2 overflow float64; "
                             f"use smaller values") from None
        slope = float(g @ s)
        if not slope < 0.0:                       # not a descent direction: fall back to -g
            s, slope = -g, -gn * gn
        t = 1.0
        while True:
            xn = x + t * s
            fn, gnew = f(xn), grad(xn)
            gnn = float(np.linalg.norm(gnew))
            # Armijo; or, in the last steps where f no longer resolves the decrease, a smaller gradient.
            if fn <= fx + 1e-4 * t * slope or (fn <= fx + 1e-14 * max(1.0, abs(fx)) and gnn < gn):
                break
            t *= 0.5
            if t < 1e-12:
                return x, "stalled"
        x, fx, g, gn = xn, fn, gnew, gnn
    return x, "converged" if gn <= tol else "max_iter"


def _min_norm_point(Z, tol=1e-12, max_iter=1000):
    """The point of the convex hull of the rows of Z closest to the origin (Wolfe 1976).

    For z_i = y_i a_i this is the hard-margin SVM without bias: w = argmin ||w|| over the hull,
    the max-margin direction is w / ||w|| and the margin is ||w|| (= max over unit u of
    min_i z_i.u), by minimax duality.  Returns (w, alpha) with w = Z^T alpha.
    """
    Z = np.asarray(Z, dtype=np.float64)
    m = Z.shape[0]
    scale = float(np.max(np.sum(Z * Z, axis=1)))
    S = [int(np.argmin(np.sum(Z * Z, axis=1)))]
    lam = np.array([1.0])
    x = Z[S[0]].copy()
    for _ in range(max_iter):
        j = int(np.argmin(Z @ x))
        if x @ x - Z[j] @ x <= tol * scale or j in S:
            break
        S.append(j)
        lam = np.append(lam, 0.0)
        while True:                                   # minor cycle: affine minimiser over S
            P = Z[S]
            k = len(S)
            K = np.zeros((k + 1, k + 1))
            K[:k, :k] = P @ P.T
            K[:k, k] = K[k, :k] = 1.0
            rhs = np.zeros(k + 1)
            rhs[k] = 1.0
            mu = np.linalg.lstsq(K, rhs, rcond=None)[0][:k]
            if np.all(mu > tol):
                lam = mu
                break
            neg = mu <= tol
            theta = float(np.min(lam[neg] / (lam[neg] - mu[neg])))
            lam = theta * mu + (1.0 - theta) * lam
            keep = lam > tol
            S = [s for s, kp in zip(S, keep) if kp]
            lam = lam[keep] / lam[keep].sum()
        x = lam @ Z[S]
    alpha = np.zeros(m)
    alpha[S] = lam
    return x, alpha


def _max_margin(A, y):
    """(unit max-margin direction, margin) of binary data, or None when it is not separable."""
    w, _ = _min_norm_point(A * y[:, None])
    gamma = float(np.linalg.norm(w))
    if gamma <= 1e-12 * max(1.0, float(np.max(np.abs(A)))):
        return None
    u = w / gamma
    return u, float(np.min((A @ u) * y))


def _max_margin_multiclass(A, y, k):
    """(unit max-margin W.ravel(), margin) of k-class data (Crammer-Singer hard margin, no bias), or None.

    max over unit W of min_{i, c != y_i} (w_{y_i} - w_c).a_i: the binary problem on the n(k-1)
    vectors z_{i,c} = (e_{y_i} - e_c) (x) a_i of R^{kd}, solved by the same min-norm point.
    """
    n, d = A.shape
    Z = np.zeros((n, k, k, d))
    Z[np.arange(n), :, y] += A[:, None, :]          # +a_i in row y_i, for every c
    Z[np.arange(n)[:, None], np.arange(k)[None, :], np.arange(k)[None, :]] -= A[:, None, :]   # -a_i in row c
    keep = np.arange(k)[None, :] != y[:, None]      # c = y_i gives the zero vector: drop it
    Z = Z[keep].reshape(-1, k * d)
    w, _ = _min_norm_point(Z)
    gamma = float(np.linalg.norm(w))
    if gamma <= 1e-12 * max(1.0, float(np.max(np.abs(A)))):
        return None
    u = w / gamma
    return u, float(np.min(Z @ u))


# ----------------------------------------------------------------------------- softmax regression

class _Softmax:
    """Mean cross-entropy of a softmax classifier W (k, d) on data A (n, d), labels y in {0..k-1}."""

    def __init__(self, A, y, k, l2):
        self.A = np.ascontiguousarray(A, dtype=np.float64)
        self.n, self.d = self.A.shape
        self.k = int(k)
        self.y = np.asarray(y, dtype=np.int64)
        self.At = np.ascontiguousarray(self.A.T)
        self.Yoh = np.zeros((self.k, self.n))
        self.Yoh[self.y, np.arange(self.n)] = 1.0       # one-hot, (k, n)
        self.Noh = 1.0 - self.Yoh
        self.l2 = float(l2)
        self.dim = self.k * self.d

    def _terms(self, x):
        # Z - max_c Z (so exp never overflows), exp of it, and the log-softmax pieces.
        X, lead = _rows(x, self.dim)
        W = X.reshape(-1, self.k, self.d)
        Z = W @ self.At                                  # (B, k, n) logits
        Zs = Z - Z.max(axis=1, keepdims=True)
        EZ = np.exp(Zs)
        return X, W, lead, Zs, EZ

    def f(self, x):
        X, W, lead, Zs, EZ = self._terms(x)
        zy = (Zs * self.Yoh).sum(axis=1)                # z_y - z_max <= 0
        off = (EZ * self.Noh).sum(axis=1)               # sum_{c != y} e^{z_c - z_max}
        # loss_i = log sum_c e^{z_c - z_y} = -zy + log1p(off + e^{zy} - 1): exact to rounding even
        # when the loss is tiny (separable data, large W), where lse - z_y would cancel.
        loss = np.log1p(off + np.expm1(zy)) - zy
        F = loss.sum(axis=1) / self.n
        if self.l2:
            F = F + 0.5 * self.l2 * np.einsum("bi,bi->b", X, X)
        return _out_f(F, lead)

    def _residual(self, EZ):
        # p - onehot(y), with the true-class entry written as -sum_{c != y} p_c (no 1 - p_y cancellation).
        P = EZ / EZ.sum(axis=1, keepdims=True)
        Poff = P * self.Noh
        return Poff - self.Yoh * Poff.sum(axis=1, keepdims=True)

    def grad(self, x):
        X, W, lead, Zs, EZ = self._terms(x)
        G = (self._residual(EZ) @ self.A) / self.n       # (B, k, d)
        if self.l2:
            G = G + self.l2 * W
        return _out_g(G, lead)

    def probs(self, x):
        _, _, _, _, EZ = self._terms(_point(x, self.dim))
        return (EZ / EZ.sum(axis=1, keepdims=True))[0]   # (k, n)

    def hess(self, x):
        P = self.probs(x)
        A, n, k, d = self.A, self.n, self.k, self.d
        # (1/n) sum_i (diag(p_i) - p_i p_i^T) (x) a_i a_i^T, row-major (class, feature) index.
        PA = (P.T[:, :, None] * A[:, None, :]).reshape(n, k * d)
        H = -(PA.T @ PA)
        for c in range(k):
            H[c * d:(c + 1) * d, c * d:(c + 1) * d] += (A.T * P[c]) @ A
        H /= n
        if self.l2:
            H[np.diag_indices_from(H)] += self.l2
        return _sym(H)

    def gnb_grad(self, x, seed, t):
        """Gradient of the data term with labels drawn from the model: y_hat_i ~ softmax(W a_i)."""
        P = self.probs(x)
        u = np.random.default_rng((int(seed), int(t))).random(self.n)
        yhat = np.minimum((np.cumsum(P, axis=0) < u).sum(axis=0), self.k - 1)
        R = P.copy()
        R[yhat, np.arange(self.n)] -= 1.0
        return ((R @ self.A) / self.n).ravel()

    def gnb_hess(self, x, seed, t):
        """B * g_hat * g_hat with B = n (full batch): unbiased for diag of the Gauss-Newton matrix."""
        g = self.gnb_grad(x, seed, t)
        return self.n * g * g

    def separated(self, x):
        Z = x.reshape(self.k, self.d) @ self.At
        zy = Z[self.y, np.arange(self.n)]
        return bool(np.all(zy > np.max(np.where(self.Yoh > 0, -np.inf, Z), axis=0)))


def softmax_regression(n: int = 200, d: int = 5, k: int = 3, seed: int = 0, separable: bool = False,
                       l2: float = 0.0, *, x0=None) -> Problem:
    r"""Multiclass logistic (softmax) regression, the mean cross-entropy of a linear classifier :math:`W \in \mathbb{R}^{k\times d}`.

    .. math::
        f(W) = \frac1n \sum_{i=1}^n \Big[\log \sum_{c=1}^k e^{w_c^\top a_i} - w_{y_i}^\top a_i\Big]
               + \frac{\lambda}{2}\|W\|_F^2, \qquad
        \nabla^2 f = \frac1n \sum_i \big(\mathrm{diag}(p_i) - p_i p_i^\top\big) \otimes a_i a_i^\top + \lambda I,

    with :math:`p_i = \mathrm{softmax}(W a_i)` and :math:`\lambda` = ``l2``.  The point is
    ``W.ravel()`` (``shapes = ((k, d),)``, rows = classes, as ``torch.nn.Linear(d, k).weight``; no
    bias).  Data: ``a_i`` from a seeded Gaussian mixture (class means :math:`\sim N(0, I)`, unit
    noise, labels uniform), overlapping, so the minimiser is finite; with ``separable=True`` the
    points are :math:`N(0, I)` and the labels those of a random linear teacher,
    :math:`y_i = \arg\max_c (W_t a_i)_c`, so the loss has infimum 0 and no minimiser.

    ``x_star``: with ``l2 = 0`` softmax is unchanged by :math:`W \to W + \mathbf 1 v^\top`, so the
    minimisers form an affine set of dimension d; ``x_star`` is its minimum-norm point (columns
    of W summing to 0), found by Newton's method at construction to :math:`\|\nabla f\| \le 10^{-13}`.
    Separable data with ``l2 = 0``: ``x_star = None``, ``f_star = 0.0`` (the infimum), and
    ``extras["teacher"]`` holds a separating W and ``extras["max_margin"] = (u, gamma)`` the unit
    hard-margin direction :math:`\arg\max_{\|W\|_F = 1} \min_{i, c \ne y_i} (w_{y_i} - w_c)^\top a_i`
    (Crammer-Singer without slack or bias) and its margin.  ``x0``: :math:`0.1\,N(0, I)`, seeded.

    ``extras``: ``"data"`` = (A, y); ``"gnb_grad"(x, seed, t)`` = the gradient of the data term
    with labels :math:`\hat y_i \sim \mathrm{softmax}(W a_i)` drawn by
    ``np.random.default_rng((seed, t))``; ``"gnb_hess"(x, seed, t)`` = :math:`B\,\hat g \odot \hat g`
    with :math:`B = n` (Sophia-G's Gauss-Newton-Bartlett estimate; its mean is the diagonal of
    the Gauss-Newton matrix, which for cross-entropy equals the Hessian of the data term).  Both
    leave out the L2 term (Sophia applies weight decay separately).

    Reference: C. M. Bishop, Pattern Recognition and Machine Learning, Springer, 2006, Sec. 4.3.4;
    GNB: H. Liu et al., arXiv:2305.14342, 2023.
    """
    n, d, k = check_int("n", n, 1), check_int("d", d, 1), check_int("k", k, 2)
    _check_size(f"softmax_regression(n={n}, d={d}, k={k})", n * d + 2 * n * k + 4.0 * (k * d) ** 2)
    l2 = _check_l2(l2)
    separable = check_bool("separable", separable)
    ss_data, ss_teacher, ss_x0 = np.random.SeedSequence(check_seed("seed", seed)).spawn(3)
    rng = np.random.default_rng(ss_data)
    teacher = None
    if separable:
        A = rng.standard_normal((n, d))
        teacher = np.random.default_rng(ss_teacher).standard_normal((k, d))
        y = np.argmax(A @ teacher.T, axis=1)
    else:
        means = np.random.default_rng(ss_teacher).standard_normal((k, d))
        y = rng.integers(0, k, n)
        A = means[y] + rng.standard_normal((n, d))
    S = _Softmax(A, y, k, l2)
    if x0 is None:
        x0 = 0.1 * np.random.default_rng(ss_x0).standard_normal(k * d)
    x0 = _check_x0(x0, k * d)

    x_star, f_star, mm, status = None, None, None, "separable" if (separable and l2 == 0.0) else None
    if status is None:
        xs, status = _newton(S.f, S.grad, S.hess, np.zeros(k * d), separated=None if l2 else S.separated)
        if status in ("converged", "stalled", "max_iter") and np.linalg.norm(S.grad(xs)) <= 1e-10:
            x_star, status = xs, "converged"
    if x_star is not None and l2 == 0.0:
        # Newton's steps are only in the row space up to rounding, and near-separable data leave
        # |x*| ~ 20 with a drift along the shift-invariant directions that depends on the CPU's BLAS
        # (column sums 2..16 here, 0.4..12 under generic x86-64). Projecting onto sum_c w_c = 0
        # gives the documented minimum-norm minimiser, equal across CPUs to rounding.
        W = x_star.reshape(k, d)
        x_star = (W - W.mean(axis=0)).ravel()
    if status == "separable":
        f_star = 0.0
        if teacher is None:                          # separable by chance: the certificate is the separator
            teacher = xs.reshape(k, d)
        mm = _max_margin_multiclass(S.A, S.y, k)
    elif x_star is not None:
        f_star = S.f(x_star)

    kind = "separable" if status == "separable" else "Gaussian mixture"
    reg = f", l2={l2:g}" if l2 else ""
    ref_pts = [x0, np.zeros(2)] + ([x_star] if x_star is not None else [])
    extras = {"data": (S.A, S.y), "gnb_grad": S.gnb_grad, "gnb_hess": S.gnb_hess}
    if teacher is not None:
        extras["teacher"] = np.asarray(teacher, dtype=np.float64).ravel()
    if status == "separable" and mm is not None:
        extras["max_margin"] = mm
    return Problem(
        name=f"softmax_regression(n={n}, d={d}, k={k}{', separable' if separable else ''}{reg})",
        f=S.f, grad=S.grad, hess=S.hess, x0=x0, x_star=x_star, f_star=f_star,
        domain=_box(ref_pts), reference=f"{_BISHOP}, Sec. 4.3.4 (multiclass logistic regression); {_SOPHIA_REF}.",
        description=f"{k}-class cross-entropy of a linear classifier on {n} {kind} points in {d}-D",
        shapes=((k, d),), extras=extras)


# ----------------------------------------------------------------------------- binary logistic regression

class _Logistic:
    """Mean logistic loss of x (d,) on data A (n, d), labels y in {-1, +1}."""

    def __init__(self, A, y, l2):
        self.A = np.ascontiguousarray(A, dtype=np.float64)
        self.n, self.d = self.A.shape
        self.y = np.asarray(y, dtype=np.float64)
        self.Ay = np.ascontiguousarray(self.A * self.y[:, None])     # rows y_i a_i
        self.AyT = np.ascontiguousarray(self.Ay.T)
        self.l2 = float(l2)
        self.dim = self.d

    def _margins(self, x):
        X, lead = _rows(x, self.dim)
        return X, lead, X[:, None, :] @ self.AyT                    # (B, 1, n): m_i = y_i a_i.x

    def f(self, x):
        X, lead, M = self._margins(x)
        F = _log1pexp(-M).sum(axis=2)[:, 0] / self.n
        if self.l2:
            F = F + 0.5 * self.l2 * np.einsum("bi,bi->b", X, X)
        return _out_f(F, lead)

    def grad(self, x):
        X, lead, M = self._margins(x)
        s = np.exp(-_log1pexp(M))                                  # sigma(-m_i), accurate for large m_i
        G = -(s @ self.Ay) / self.n                                # (B, 1, d)
        if self.l2:
            G = G + self.l2 * X[:, None, :]
        return _out_g(G, lead)

    def hess(self, x):
        m = self.Ay @ _point(x, self.dim)
        w = np.exp(-_log1pexp(m) - _log1pexp(-m))                  # sigma(m) sigma(-m)
        H = (self.A.T * w) @ self.A / self.n
        if self.l2:
            H[np.diag_indices_from(H)] += self.l2
        return _sym(H)

    def sigmoid_weight(self, x):
        """(1/n) sum_i 1 / (1 + exp(y_i a_i.x)): Tyurin's normalized LR+GD divides the step by it."""
        m = self.Ay @ _point(x, self.dim)
        return float(np.exp(-_log1pexp(m)).sum() / self.n)

    def gnb_grad(self, x, seed, t):
        """Gradient of the data term with labels drawn from the model: y_hat_i = +1 w.p. sigma(a_i.x)."""
        z = self.A @ _point(x, self.dim)
        p = np.exp(-_log1pexp(-z))                                 # sigma(z)
        b = np.random.default_rng((int(seed), int(t))).random(self.n) < p
        return self.A.T @ (p - b) / self.n

    def gnb_hess(self, x, seed, t):
        """B * g_hat * g_hat with B = n (full batch): unbiased for diag of the Gauss-Newton matrix."""
        g = self.gnb_grad(x, seed, t)
        return self.n * g * g

    def separated(self, x):
        return bool(np.all(self.Ay @ x > 0.0))


def logistic_regression(A, y, l2: float = 0.0, name: str | None = None, *, x0=None, reference: str | None = None,
                        description: str | None = None, domain=None, _extras=None) -> Problem:
    r"""Binary logistic regression on given data, :math:`f(x) = \frac1n \sum_i \log(1 + e^{-y_i a_i^\top x}) + \frac{\lambda}{2}\|x\|^2`.

    .. math::
        \nabla f = -\frac1n \sum_i \sigma(-y_i a_i^\top x)\, y_i a_i + \lambda x, \qquad
        \nabla^2 f = \frac1n \sum_i \sigma(z_i)\sigma(-z_i)\, a_i a_i^\top + \lambda I,

    :math:`z_i = a_i^\top x`, labels :math:`y_i \in \{-1, +1\}`, ``A`` of shape (n, d) (add a column of
    ones for a bias), :math:`\lambda` = ``l2``; ``shapes = ((d,),)``, ``x0 = 0`` unless given.
    Computed stably (``np.logaddexp``), so tiny losses on separable data keep full relative
    precision.

    ``x_star`` comes from Newton's method at construction (minimum-norm minimiser if ``A`` is
    rank-deficient).  With ``l2 = 0`` and strictly separable data there is no minimiser:
    ``x_star = None``, ``f_star = 0.0`` (the infimum) and ``extras["max_margin"]`` =
    ``(u, gamma)``, the unit max-margin direction and its margin (the hard-margin SVM without
    bias, Wolfe's min-norm-point algorithm), the direction gradient descent converges to
    (Soudry et al. 2018).  Data that are only weakly separable give ``x_star = f_star = None``.

    ``extras``: ``"data"`` = (A, y); ``"sigmoid_weight"(x)`` =
    :math:`\frac1n\sum_i (1 + e^{y_i a_i^\top x})^{-1}` (Tyurin 2024, Sec. 6: normalized LR+GD
    multiplies the step by its inverse; it is 1/2 at x = 0); ``"gnb_grad"(x, seed, t)`` and
    ``"gnb_hess"(x, seed, t)`` as in :func:`softmax_regression`, with
    :math:`\hat y_i = +1` with probability :math:`\sigma(a_i^\top x)`, drawn by
    ``np.random.default_rng((seed, t))``, and :math:`B = n`.

    Reference: D. R. Cox, 'The regression analysis of binary sequences', JRSS B 20(2), 1958;
    A. Tyurin, arXiv:2412.08424, 2024.
    """
    A = check_array("A", A, (-1, -1), what="finite data points (n, d)")
    if A.shape[0] < 1 or A.shape[1] < 1:
        raise ValueError(f"A must be a finite (n, d) array with n, d >= 1, got shape {A.shape}")
    y = check_array("y", y, what="labels in {-1, +1}").reshape(-1)
    if y.shape != (A.shape[0],) or not np.all(np.abs(y) == 1.0):
        raise ValueError(f"y must hold one label in {{-1, +1}} per row of A (for 0/1 labels pass 2*y - 1), "
                         f"got {shown(y)}")
    l2 = _check_l2(l2)
    for key, text in (("name", name), ("reference", reference), ("description", description)):
        if text is not None and not isinstance(text, str):
            raise TypeError(f"{key} must be a string or None, got {shown(text)}")
    L = _Logistic(A, y, l2)
    d = L.d
    x0 = np.zeros(d) if x0 is None else _check_x0(x0, d)

    xs, status = _newton(L.f, L.grad, L.hess, np.zeros(d), separated=None if l2 else L.separated)
    x_star = f_star = None
    extras = {"data": (L.A, L.y), "sigmoid_weight": L.sigmoid_weight, "gnb_grad": L.gnb_grad,
              "gnb_hess": L.gnb_hess}
    if status == "separable":
        f_star = 0.0
        mm = _max_margin(L.A, L.y)
        if mm is not None:
            extras["max_margin"] = mm
    elif np.linalg.norm(L.grad(xs)) <= 1e-10:
        x_star, f_star = xs, L.f(xs)
    extras.update(_extras or {})
    if domain is None:
        pts = [x0, np.zeros(2)]
        if x_star is not None:
            pts.append(x_star)
        elif "max_margin" in extras:
            u, gamma = extras["max_margin"]
            pts += [u * 2.0 / gamma, -u * 0.5 / gamma]
        domain = _box(pts, min_half=2.0)
    return Problem(
        name=name or f"logistic_regression(n={L.n}, d={d}{f', l2={l2:g}' if l2 else ''})",
        f=L.f, grad=L.grad, hess=L.hess, x0=x0, x_star=x_star, f_star=f_star, domain=domain,
        reference=reference or f"{_BISHOP}, Sec. 4.3.2; {_TYURIN}; {_SOPHIA_REF}.",
        description=description or (f"logistic loss on {L.n} points in {d}-D"
                                    + (", separable: no minimiser" if status == "separable" else "")),
        shapes=((d,),), extras=extras)


def separable_logistic(n: int = 100, d: int = 2, margin: float = 0.1, seed: int = 0) -> Problem:
    r"""Logistic regression on linearly separable data: :math:`f(x) = \frac1n \sum_i \log(1 + e^{-y_i a_i^\top x})`, no minimiser.

    Points are uniform in the box :math:`[-1, 1]^d`; a seeded unit teacher :math:`w_*` labels
    them :math:`y_i = \mathrm{sign}(a_i^\top w_*)`, and points with
    :math:`|a_i^\top w_*| < \text{margin}` are dropped (redrawn until n remain), so the teacher
    separates the data with margin at least ``margin``.  :math:`\inf f = 0` is not attained:
    ``x_star = None``, ``f_star = 0.0``; ``x0 = 0``.  Gradient descent diverges in norm like
    :math:`\log t` and converges in direction to the max-margin separator (Soudry et al. 2018),
    recorded as ``extras["max_margin"] = (u, gamma)`` (its margin :math:`\gamma \ge` ``margin``);
    ``extras["teacher"]`` is :math:`w_*`.  Tyurin (2024) studies exactly this setting: with
    :math:`\theta_0 = 0` normalized LR+GD needs at most :math:`R^2/\gamma^2 + O(\log n/(\eta\gamma^2))`
    steps to separate.  Other extras as in :func:`logistic_regression`.

    Reference: D. Soudry et al., JMLR 19(70), 2018; A. Tyurin, arXiv:2412.08424, 2024.
    """
    n, d = check_int("n", n, 1), check_int("d", d, 1)
    _check_size(f"separable_logistic(n={n}, d={d})", 4.0 * max(n, 32) * d + 2.0 * d * d)
    margin = check_real("margin", margin)
    if not (0.0 <= margin < 1.0):
        raise ValueError(f"margin must be in [0, 1) (points lie in [-1, 1]^d), got {margin!r}")
    ss_teacher, ss_data = np.random.SeedSequence(check_seed("seed", seed)).spawn(2)
    w = np.random.default_rng(ss_teacher).standard_normal(d)
    w /= np.linalg.norm(w)
    rng = np.random.default_rng(ss_data)
    kept = []
    count = 0
    while count < n:
        P = rng.uniform(-1.0, 1.0, (max(2 * n, 64), d))
        P = P[np.abs(P @ w) >= max(margin, 1e-12)]
        kept.append(P)
        count += len(P)
    A = np.concatenate(kept)[:n]
    y = np.sign(A @ w)
    return logistic_regression(
        A, y, name=f"separable_logistic(n={n}, d={d}, margin={margin:g})", x0=np.zeros(d),
        reference=f"{_SOUDRY}; {_TYURIN}; {_SOPHIA_REF}.",
        description=f"separable logistic regression, teacher margin >= {margin:g}: no finite minimiser",
        _extras={"teacher": w})


def blobs_logistic(l2: float = 0.0, *, std: float = 2.0, bias: bool = False) -> Problem:
    r"""Logistic regression on pytorch-optimizer's two-blob toy, :math:`f(x) = \frac1n \sum_i \log(1 + e^{-y_i a_i^\top x}) + \frac{\lambda}{2}\|x\|^2`.

    The data of the ``environment`` fixture in kozistr/pytorch_optimizer's ``tests/conftest.py``:
    ``a = np.random.RandomState(42).randn(100, 2) * 2``, the first 50 points shifted by
    :math:`(-2, -2)` (label :math:`-1`; 0 there) and the last 50 by :math:`(+2, +2)` (label
    :math:`+1`), stored as float32 (``torch.Tensor``), so the float32 values are used here.
    pytorch-optimizer fits a 2-2-1 ReLU network with ``BCEWithLogitsLoss``; this is the linear
    model without bias (``bias=True`` appends a column of ones: d = 3).  ``std`` rescales the
    noise (2 is the fixture's; a small ``std`` makes the blobs separable, and then
    ``x_star = None``, ``f_star = 0``).  With the defaults the blobs overlap and the minimiser is
    finite (``x_star`` by Newton).  ``x0 = 0``.  Extras as in :func:`logistic_regression`.

    Reference: kozistr/pytorch_optimizer, tests/conftest.py (2021-2025); D. R. Cox, JRSS B, 1958.
    """
    l2, std, bias = _check_l2(l2), check_nonneg("std", std), check_bool("bias", bias)
    rs = np.random.RandomState(42)
    A = rs.randn(100, 2) * std
    A[:50] -= 2.0
    A[50:] += 2.0
    A = A.astype(np.float32).astype(np.float64)
    if not np.all(np.isfinite(A)):
        raise ValueError(f"std={std!r} makes the data overflow (float32, as the reference stores it)")
    y = np.r_[-np.ones(50), np.ones(50)]
    if bias:
        A = np.column_stack([A, np.ones(100)])
    tag = (f", l2={l2:g}" if l2 else "") + (f", std={std:g}" if std != 2.0 else "") + (", bias" if bias else "")
    return logistic_regression(
        A, y, l2, name=f"blobs_logistic({tag.lstrip(', ')})",
        reference=("Two-blob toy of kozistr/pytorch_optimizer's tests (tests/conftest.py, 2021-2025); "
                   f"{_BISHOP}, Sec. 4.3.2; {_SOPHIA_REF}."),
        description="logistic regression on two Gaussian blobs at +-2 (pytorch-optimizer's test data)")


# ----------------------------------------------------------------------------- two-layer linear network

class _TwoLayer:
    """f(W1, W2) = 1/(2n) ||W2 W1 A^T - Y^T||_F^2 = 1/2 tr(D C D^T), D = W2 W1 - T, C = A^T A / n."""

    def __init__(self, C, T, hidden):
        self.C = np.ascontiguousarray(C)
        self.T = np.ascontiguousarray(T)
        self.dout, self.din = T.shape
        self.h = int(hidden)
        self.n1 = self.h * self.din
        self.dim = self.n1 + self.dout * self.h

    def _blocks(self, X):
        W1 = X[:, :self.n1].reshape(-1, self.h, self.din)
        W2 = X[:, self.n1:].reshape(-1, self.dout, self.h)
        return W1, W2

    def f(self, x):
        X, lead = _rows(x, self.dim)
        W1, W2 = self._blocks(X)
        D = W2 @ W1 - self.T
        F = 0.5 * ((D @ self.C) * D).sum(axis=(1, 2))
        return _out_f(F, lead)

    def grad(self, x):
        X, lead = _rows(x, self.dim)
        W1, W2 = self._blocks(X)
        G = (W2 @ W1 - self.T) @ self.C                             # df/dM at M = W2 W1
        gW1 = W2.transpose(0, 2, 1) @ G
        gW2 = G @ W1.transpose(0, 2, 1)
        return _out_g(np.concatenate([gW1.reshape(len(X), -1), gW2.reshape(len(X), -1)], axis=1), lead)

    def hess(self, x):
        x = _point(x, self.dim)
        W1, W2 = (b[0] for b in self._blocks(x[None]))
        h, din, dout, C = self.h, self.din, self.dout, self.C
        G = (W2 @ W1 - self.T) @ C
        W1C = W1 @ C
        H = np.empty((self.dim, self.dim))
        H[:self.n1, :self.n1] = np.kron(W2.T @ W2, C)                # d2f/dW1 dW1
        H[self.n1:, self.n1:] = np.kron(np.eye(dout), W1C @ W1.T)     # d2f/dW2 dW2
        # d2f / dW1[a,b] dW2[o,c] = delta_ac G[o,b] + W2[o,a] (W1 C)[c,b]
        X12 = np.einsum("ac,ob->aboc", np.eye(h), G) + np.einsum("oa,cb->aboc", W2, W1C)
        H[:self.n1, self.n1:] = X12.reshape(self.n1, dout * h)
        H[self.n1:, :self.n1] = H[:self.n1, self.n1:].T
        return _sym(H)


def two_layer_linear(d_in: int = 4, hidden: int = 3, d_out: int = 2, n: int = 100, seed: int = 0, *,
                     rank: int | None = None, init_scale: float = 1.0, x0=None) -> Problem:
    r"""A two-layer linear network fit to a linear teacher, :math:`f(W_1, W_2) = \frac{1}{2n}\|W_2 W_1 A^\top - Y^\top\|_F^2`.

    .. math::
        f = \tfrac12 \operatorname{tr}(D C D^\top), \quad D = W_2 W_1 - T, \quad C = A^\top A/n, \qquad
        \nabla_{W_1} f = W_2^\top D C, \quad \nabla_{W_2} f = D C W_1^\top,

    with :math:`A \in \mathbb{R}^{n\times d_{in}}` standard Gaussian, :math:`Y = A T^\top` and a
    random teacher :math:`T \in \mathbb{R}^{d_{out}\times d_{in}}` of rank ``rank`` (default
    :math:`\min(d_{in}, h, d_{out})`).  ``shapes = ((hidden, d_in), (d_out, hidden))``, the two
    ``Linear.weight`` matrices, no biases.  Non-convex: every :math:`(W_1 G^{-1}, G W_2)`-orbit is
    a manifold of equal loss, 0 is a saddle, and all local minima are global (Baldi & Hornik
    1989).  When the teacher is representable (rank <= hidden) ``f_star = 0``; otherwise
    ``f_star`` = :math:`\frac12\sum_{j > h}\sigma_j^2(T C^{1/2})` (Eckart-Young).  ``x_star = None``
    (the minimisers form a manifold); ``extras["minimiser"]`` is one of them,
    :math:`W_2 = U_h S_h^{1/2}`, :math:`W_1 = S_h^{1/2} V_h^\top C^{-1/2}` from the SVD of
    :math:`T C^{1/2}`.  ``x0``: each weight uniform in :math:`\pm 1/\sqrt{\text{fan\_in}}`
    (torch's ``Linear`` default) times ``init_scale``, seeded; a small ``init_scale`` shows the
    saddle-to-saddle plateaus of Saxe et al. (2014).  The exact Hessian blocks are
    :math:`(W_2^\top W_2)\otimes C`, :math:`I\otimes W_1 C W_1^\top` and the cross term
    :math:`\partial^2 f/\partial W_{1,ab}\,\partial W_{2,oc} = \delta_{ac}(DC)_{ob} + W_{2,oa}(W_1 C)_{cb}`.

    Reference: P. Baldi, K. Hornik, Neural Networks 2(1):53-58, 1989; A. M. Saxe, J. L. McClelland,
    S. Ganguli, 'Exact solutions to the nonlinear dynamics of learning in deep linear neural
    networks', ICLR 2014.
    """
    d_in, hidden, d_out, n = (check_int(s, v, 1) for v, s in
                              ((d_in, "d_in"), (hidden, "hidden"), (d_out, "d_out"), (n, "n")))
    rmax = min(d_in, d_out)
    rank = min(d_in, hidden, d_out) if rank is None else check_int("rank", rank, 1)
    if rank > rmax:
        raise ValueError(f"rank must be <= min(d_in, d_out) = {rmax}, got {rank}")
    dim = hidden * d_in + d_out * hidden
    _check_size(f"two_layer_linear(d_in={d_in}, hidden={hidden}, d_out={d_out}, n={n})",
                n * (d_in + d_out) + 4.0 * d_in * d_in + 2.0 * d_out * d_in + 2.0 * dim * dim)
    init_scale = check_real("init_scale", init_scale)
    ss_data, ss_teacher, ss_x0 = np.random.SeedSequence(check_seed("seed", seed)).spawn(3)
    A = np.random.default_rng(ss_data).standard_normal((n, d_in))
    rt = np.random.default_rng(ss_teacher)
    T = rt.standard_normal((d_out, rank)) @ rt.standard_normal((rank, d_in)) / math.sqrt(rank)
    Y = A @ T.T
    C = A.T @ A / n
    C = 0.5 * (C + C.T)
    L = _TwoLayer(C, T, hidden)

    # One minimiser from the SVD of T C^{1/2} (pseudo-inverse square root if n < d_in).
    ev, V = np.linalg.eigh(C)
    ev = np.clip(ev, 0.0, None)
    keep = ev > 1e-12 * ev.max()
    Ch = (V * np.sqrt(ev)) @ V.T
    Chi = (V[:, keep] / np.sqrt(ev[keep])) @ V[:, keep].T
    U, s, Vt = np.linalg.svd(T @ Ch)
    r = min(hidden, len(s))
    W1s, W2s = np.zeros((hidden, d_in)), np.zeros((d_out, hidden))
    W1s[:r] = (np.sqrt(s[:r])[:, None] * Vt[:r]) @ Chi
    W2s[:, :r] = U[:, :r] * np.sqrt(s[:r])
    minimiser = np.concatenate([W1s.ravel(), W2s.ravel()])
    f_star = 0.0 if rank <= hidden else 0.5 * float(np.sum(s[hidden:] ** 2))

    if x0 is None:
        rx = np.random.default_rng(ss_x0)
        x0 = float(init_scale) * np.concatenate([rx.uniform(-1, 1, hidden * d_in) / math.sqrt(d_in),
                                                 rx.uniform(-1, 1, d_out * hidden) / math.sqrt(hidden)])
    x0 = _check_x0(x0, L.dim)
    return Problem(
        name=f"two_layer_linear(d_in={d_in}, hidden={hidden}, d_out={d_out}, n={n}"
             + (f", rank={rank})" if rank != min(d_in, hidden, d_out) else ")"),
        f=L.f, grad=L.grad, hess=L.hess, x0=x0, x_star=None, f_star=f_star,
        domain=_box([x0, minimiser, np.zeros(2)], min_half=1.0),
        reference=("P. Baldi, K. Hornik, 'Neural networks and principal component analysis: learning from "
                   "examples without local minima', Neural Networks 2(1):53-58, 1989; A. M. Saxe, "
                   "J. L. McClelland, S. Ganguli, 'Exact solutions to the nonlinear dynamics of learning in "
                   "deep linear neural networks', ICLR 2014."),
        description=f"deep linear network {d_in}-{hidden}-{d_out} fit to a rank-{rank} linear teacher",
        shapes=((hidden, d_in), (d_out, hidden)),
        extras={"data": (A, Y), "teacher": T, "minimiser": minimiser})


# ----------------------------------------------------------------------------- scale-invariant loss

class _ScaleInvariant:
    """F(W_hat) = 1/2 ||W_hat - U||^2 + gamma/2 ||W_hat W_hat^T - U U^T||^2 with W_hat = rows of W normalised."""

    def __init__(self, U, gamma):
        self.U = np.ascontiguousarray(U)
        self.k, self.d = U.shape
        self.S = U @ U.T
        self.gamma = float(gamma)
        self.dim = self.k * self.d

    def _unit(self, x):
        X, lead = _rows(x, self.dim)
        W = X.reshape(-1, self.k, self.d)
        r = np.sqrt(np.einsum("bkd,bkd->bk", W, W))[:, :, None]
        return lead, W / r, r

    def f(self, x):
        lead, Wh, _ = self._unit(x)
        E = Wh @ Wh.transpose(0, 2, 1) - self.S
        F = 0.5 * ((Wh - self.U) ** 2).sum(axis=(1, 2)) + 0.5 * self.gamma * (E * E).sum(axis=(1, 2))
        return _out_f(F, lead)

    def _outer_grad(self, Wh):
        E = Wh @ Wh.transpose(0, 2, 1) - self.S
        return Wh - self.U + 2.0 * self.gamma * (E @ Wh), E          # dF/dW_hat

    def grad(self, x):
        lead, Wh, r = self._unit(x)
        Gh, _ = self._outer_grad(Wh)
        # d w_hat / d w = (I - w_hat w_hat^T) / ||w||: the gradient is orthogonal to each row.
        G = (Gh - Wh * np.einsum("bkd,bkd->bk", Wh, Gh)[:, :, None]) / r
        return _out_g(G, lead)

    def hess(self, x):
        x = _point(x, self.dim)
        _, Wh, r = self._unit(x)
        Wh, r = Wh[0], r[0, :, 0]
        Gh, E = self._outer_grad(Wh[None])
        Gh, E = Gh[0], E[0]
        k, d, g2 = self.k, self.d, 2.0 * self.gamma
        Id = np.eye(d)
        # Hessian of F in W_hat: I + 2 gamma [I_k (x) W_hat^T W_hat + T + E (x) I_d], T[(i,a),(j,b)] = Wh[i,b] Wh[j,a].
        HF = np.eye(self.dim) + g2 * (np.kron(np.eye(k), Wh.T @ Wh) + np.kron(E, Id)
                                      + np.einsum("ib,ja->iajb", Wh, Wh).reshape(self.dim, self.dim))
        J = [(Id - np.outer(Wh[i], Wh[i])) / r[i] for i in range(k)]   # Jacobians of the row normalisation
        H = np.empty((self.dim, self.dim))
        for i in range(k):
            for j in range(k):
                H[i * d:(i + 1) * d, j * d:(j + 1) * d] = J[i] @ HF[i * d:(i + 1) * d, j * d:(j + 1) * d] @ J[j]
        for i in range(k):
            # Second derivative of w_hat(w).g for fixed g = Gh_i:
            # -[(w_hat.g)(I - 3 w_hat w_hat^T) + g w_hat^T + w_hat g^T] / ||w||^2.
            u, g = Wh[i], Gh[i]
            H[i * d:(i + 1) * d, i * d:(i + 1) * d] -= ((u @ g) * (Id - 3.0 * np.outer(u, u))
                                                       + np.outer(g, u) + np.outer(u, g)) / r[i] ** 2
        return _sym(H)


def scale_invariant(k: int = 3, d: int = 4, seed: int = 0, *, coupling: float = 1.0, x0=None) -> Problem:
    r"""A loss of a (k, d) weight matrix that is unchanged when any row is rescaled, :math:`f(cW_{i,:}) = f(W)` for :math:`c > 0`.

    .. math::
        f(W) = \sum_{i=1}^k \Big(1 - \frac{\langle w_i, u_i\rangle}{\|w_i\|}\Big)
               + \frac{\gamma}{2}\big\|\hat W \hat W^\top - U U^\top\big\|_F^2,
        \qquad \hat w_i = w_i/\|w_i\|,

    with fixed seeded unit targets :math:`u_i` (rows of U) and :math:`\gamma` = ``coupling``; the
    first term is computed as :math:`\tfrac12\|\hat w_i - u_i\|^2` (equal, and exact near the
    minimum).  The second term couples the rows through their angles, so the Hessian is not
    block-diagonal.  Because f depends on each row only through its direction,
    :math:`\langle \nabla_{w_i} f, w_i\rangle = 0` and :math:`\|\nabla_{w_i} f\| \propto 1/\|w_i\|`:
    the setting of AdamP's projection (Heo et al. 2021), which fires when
    :math:`|\cos(g_i, w_i)| < \delta/\sqrt{d}` and removes the radial part of the update; without it
    momentum methods grow :math:`\|w_i\|` and so shrink the effective step.
    ``shapes = ((k, d),)``.  Minimum ``f_star = 0`` exactly on the rays :math:`w_i = c_i u_i`,
    :math:`c_i > 0` (a product of k open rays, not a point); ``x_star`` is the one with
    :math:`\|w_i\|` = the norms of the rows of ``x0``.  ``x0``: N(0, I), seeded.

    Reference: B. Heo, S. Chun, S. J. Oh, D. Han, S. Yun, G. Kim, Y. Uh, J.-W. Ha, 'AdamP: Slowing Down
    the Slowdown for Momentum Optimizers on Scale-invariant Weights', ICLR 2021.
    """
    k, d = check_int("k", k, 1), check_int("d", d, 2)
    _check_size(f"scale_invariant(k={k}, d={d})", 4.0 * k * d + 2.0 * (k * d) ** 2)
    coupling = check_real("coupling", coupling)
    ss_u, ss_x0 = np.random.SeedSequence(check_seed("seed", seed)).spawn(2)
    U = np.random.default_rng(ss_u).standard_normal((k, d))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    L = _ScaleInvariant(U, coupling)
    if x0 is None:
        x0 = np.random.default_rng(ss_x0).standard_normal(k * d)
    x0 = _check_x0(x0, k * d)
    norms = np.linalg.norm(x0.reshape(k, d), axis=1)
    if np.any(norms == 0.0):
        raise ValueError("every row of x0 must be non-zero (f is undefined at a zero row)")
    x_star = (U * norms[:, None]).ravel()
    return Problem(
        name=f"scale_invariant(k={k}, d={d}{f', coupling={coupling:g}' if coupling != 1.0 else ''})",
        f=L.f, grad=L.grad, hess=L.hess, x0=x0, x_star=x_star, f_star=0.0,
        domain=_box([x0, x_star, np.zeros(2)], min_half=1.0),
        reference=("B. Heo, S. Chun, S. J. Oh, D. Han, S. Yun, G. Kim, Y. Uh, J.-W. Ha, 'AdamP: Slowing Down "
                   "the Slowdown for Momentum Optimizers on Scale-invariant Weights', ICLR 2021."),
        description=f"loss invariant to rescaling each row of a {k}x{d} matrix: minimisers are rays",
        shapes=((k, d),), extras={"targets": U})


# ----------------------------------------------------------------------------- validation


def _check_l2(l2):
    return check_nonneg("l2", l2)


def _check_x0(x0, dim):
    x0 = check_array("x0", x0, what=f"{dim} finite numbers").reshape(-1)
    if x0.shape != (dim,):
        raise ValueError(f"x0 must be {dim} finite numbers, got shape {x0.shape}")
    return x0


def _check_size(what, floats):
    """Refuse sizes whose data, matrices (Hessians are dim x dim) would not fit, before drawing them."""
    check_memory(what, 8.0 * floats)
