r"""Small neural networks as flat-parameter objectives: toy 2-D datasets and a tiny MLP.

    import labkit as lk
    X, y = lk.nets.moons(n=40, noise=0.1, seed=0)
    net = lk.nets.mlp((X, y), widths=(32, 32), activation="tanh", loss="mse")
    net.f(net.x0), net.grad(net.x0).shape, net.hvp(net.x0, v)

The network is a function of one flat ``float64`` vector :math:`\theta` (NumPy in, NumPy out),
so the rest of labkit (drivers, sharpness, loss-landscape slices) treats it like any other
objective; inside, everything is torch (``torch.func`` for gradients, Hessian-vector products
and batched losses).  Importing this module imports torch; ``import labkit`` does not.

Datasets are generated, never downloaded, and are deterministic per ``seed``.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ._errors import check_int, check_nonneg, unknown_name

__all__ = ["ACTIVATIONS", "LOSSES", "Dataset", "MLP", "mlp", "moons", "spirals"]

_REF_INIT = ("K. He, X. Zhang, S. Ren, J. Sun, 'Delving deep into rectifiers', ICCV 2015 "
             "(torch.nn.Linear's default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)))")
_REF_EOS = ("J. Cohen, S. Kaur, Y. Li, J. Z. Kolter, A. Talwalkar, 'Gradient Descent on Neural Networks "
            "Typically Occurs at the Edge of Stability', ICLR 2021 (tanh MLPs, squared loss, full-batch GD)")

ACTIVATIONS = ("tanh", "relu", "gelu", "softplus", "sigmoid", "identity")
LOSSES = ("mse", "cross_entropy")


class Dataset(NamedTuple):
    """Points ``X`` (float64, ``(n, 2)``) and integer class labels ``y`` (int64, ``(n,)``)."""

    X: np.ndarray
    y: np.ndarray


# ----------------------------------------------------------------------------- datasets


def _shuffled(X, y, rng):
    order = rng.permutation(len(y))
    return Dataset(np.ascontiguousarray(X[order]), np.ascontiguousarray(y[order]))


def moons(n: int = 40, noise: float = 0.1, seed: int = 0) -> Dataset:
    r"""Two interleaving half circles ("two moons"), ``n`` points in 2-D, 2 classes.

    .. math::
        x_i = (\cos t_i,\ \sin t_i) \ (y_i = 0), \qquad
        x_i = (1 - \cos t_i,\ \tfrac12 - \sin t_i) \ (y_i = 1), \qquad t_i \in [0, \pi],

    with :math:`t` evenly spaced in each class (class 0 gets :math:`\lceil n/2 \rceil` points),
    plus :math:`N(0, \mathrm{noise}^2 I)` and a shuffle drawn from ``seed``.  Returns
    ``Dataset(X, y)``: ``X`` float64 ``(n, 2)``, ``y`` int64 ``(n,)``.

    Reference: the two-moons toy of scikit-learn's ``make_moons`` (Pedregosa et al., JMLR 12, 2011).
    """
    n = check_int("n", n, 2)
    noise = check_nonneg("noise", noise)
    n0 = n - n // 2
    t0, t1 = np.linspace(0.0, math.pi, n0), np.linspace(0.0, math.pi, n // 2)
    X = np.concatenate([np.c_[np.cos(t0), np.sin(t0)], np.c_[1.0 - np.cos(t1), 0.5 - np.sin(t1)]])
    y = np.r_[np.zeros(n0, np.int64), np.ones(n // 2, np.int64)]
    rng = np.random.default_rng(seed)
    X = X + noise * rng.standard_normal(X.shape)
    return _shuffled(X, y, rng)


def spirals(n: int = 40, turns: float = 1.0, noise: float = 0.0, seed: int = 0) -> Dataset:
    r"""Two interleaved Archimedean spirals ("two spirals"), ``n`` points in 2-D, 2 classes.

    .. math::
        x_i = \pm\, s_i\,(\cos 2\pi\tau s_i,\ \sin 2\pi\tau s_i), \qquad s_i \in (0, 1],

    ``+`` for class 0 and ``-`` (the same spiral turned by :math:`\pi`) for class 1, with
    :math:`\tau` = ``turns`` and :math:`s` evenly spaced in :math:`[1/m, 1]` for the
    :math:`m` points of a class, plus :math:`N(0, \mathrm{noise}^2 I)` and a shuffle drawn from
    ``seed``.  More turns make a harder problem.  Returns ``Dataset(X, y)`` as :func:`moons`.

    Reference: K. J. Lang, M. J. Witbrock, "Learning to tell two spirals apart", Proc. 1988
    Connectionist Models Summer School.
    """
    n = check_int("n", n, 2)
    turns = check_nonneg("turns", turns)
    noise = check_nonneg("noise", noise)
    parts = []
    for cls, m, sign in ((0, n - n // 2, 1.0), (1, n // 2, -1.0)):
        s = np.arange(1, m + 1) / m
        a = 2.0 * math.pi * turns * s
        parts.append(sign * s[:, None] * np.c_[np.cos(a), np.sin(a)])
    X = np.concatenate(parts)
    y = np.r_[np.zeros(n - n // 2, np.int64), np.ones(n // 2, np.int64)]
    rng = np.random.default_rng(seed)
    X = X + noise * rng.standard_normal(X.shape)
    return _shuffled(X, y, rng)


# ----------------------------------------------------------------------------- the network

def _activation(name):
    import torch
    return {"tanh": torch.tanh, "relu": torch.relu, "gelu": torch.nn.functional.gelu,
            "softplus": torch.nn.functional.softplus, "sigmoid": torch.sigmoid,
            "identity": lambda z: z}[name]


class MLP:
    r"""A fully connected network :math:`\mathbb{R}^{d} \to \mathbb{R}^{k}` and its full-batch loss, as a function of one flat vector.

    .. math::
        h_0 = x, \quad h_l = \sigma(W_l h_{l-1} + b_l)\ (l < L), \quad
        g(x; \theta) = W_L h_{L-1} + b_L, \qquad
        \theta = (\mathrm{vec}\,W_1, b_1, \ldots, \mathrm{vec}\,W_L, b_L),

    with :math:`W_l` of shape (fan_out, fan_in), row-major, as ``torch.nn.Linear.weight``.  Losses
    over the :math:`n` training points:

    .. math::
        \text{mse:}\quad L(\theta) = \frac{1}{2n} \sum_i \|g(x_i;\theta) - t_i\|^2, \qquad
        \text{cross\_entropy:}\quad L(\theta) = \frac1n \sum_i \Big[\log\sum_c e^{g_c(x_i;\theta)} - g_{y_i}(x_i;\theta)\Big],

    where :math:`t_i` is the one-hot code of the label :math:`y_i` (or the given float targets).

    Everything takes and returns NumPy float64: ``f(theta)`` (a float), ``grad(theta)``,
    ``value_and_grad(theta)``, ``hvp(theta, v)`` (:math:`\nabla^2 L(\theta) v`, exact, by double
    backward), ``hvp_at(theta)`` (the operator :math:`v \mapsto \nabla^2 L(\theta) v`, reusing one
    graph: for Lanczos), ``hessian(theta)`` (dense, ``(P, P)``: for checks), ``f_batch(thetas)``
    (the loss of each row of ``thetas`` (..., P), ``torch.func.vmap``), ``predict(theta, X=None)``
    (outputs :math:`g(x;\theta)` of shape (..., k) at the training points or at ``X`` (..., d)),
    ``accuracy(theta)`` (classification only), ``unflatten(theta)`` (the parameter blocks),
    ``problem()`` (a :class:`labkit.Problem` for ``lk.run``).  Attributes: ``name``, ``X``,
    ``y``, ``widths``, ``activation``, ``loss``, ``x0``, ``n_params``, ``shapes``, ``reference``.

    Build one with :func:`mlp`.
    """

    def __init__(self, X, y, targets, widths, activation, loss, x0, name, reference):
        import torch
        self.X, self.y = X, y
        self.widths, self.activation, self.loss = widths, activation, loss
        self.name, self.reference = name, reference
        dims = (X.shape[1],) + widths + (targets.shape[1],)
        self.layers = tuple(zip(dims[1:], dims[:-1]))                  # (fan_out, fan_in)
        self.shapes = tuple(s for fo, fi in self.layers for s in ((fo, fi), (fo,)))
        self.n_params = sum(fo * fi + fo for fo, fi in self.layers)
        self.x0 = x0
        self._X = torch.as_tensor(X, dtype=torch.float64)
        self._T = torch.as_tensor(targets, dtype=torch.float64)
        self._y = torch.as_tensor(y, dtype=torch.int64) if loss == "cross_entropy" else None
        self._act = _activation(activation)
        self._compiled = None

    def __repr__(self):
        return f"<MLP {self.name}: {self.n_params} parameters>"

    # -- torch side: pure functions of a flat tensor

    def _forward(self, theta, X):
        h, off = X, 0
        last = len(self.layers) - 1
        for i, (fo, fi) in enumerate(self.layers):
            W = theta[off:off + fo * fi].reshape(fo, fi)
            off += fo * fi
            b = theta[off:off + fo]
            off += fo
            h = h @ W.T + b
            if i < last:
                h = self._act(h)
        return h

    def _loss(self, theta):
        import torch
        out = self._forward(theta, self._X)
        if self.loss == "mse":
            return 0.5 * ((out - self._T) ** 2).sum() / out.shape[0]
        return (torch.logsumexp(out, dim=1) - out.gather(1, self._y[:, None])[:, 0]).mean()

    def _fns(self):
        # torch.func for the dense Hessian and the batched loss; plain autograd for grad and HVP, which
        # measured 2.5x (grad) and 4x (HVP) faster than torch.func's transforms on a 1.2k-parameter net.
        if self._compiled is None:
            # jacrev(grad), not torch.func.hessian: its forward-mode pass loads torch's jvp decompositions,
            # which warn (torch.jit.script deprecation) on first use.
            from torch.func import grad, jacrev, vmap
            self._compiled = dict(hessian=jacrev(grad(self._loss)), batch=vmap(self._loss, chunk_size=512))
        return self._compiled

    def _grad_graph(self, theta):
        import torch
        x = self._theta(theta).requires_grad_()
        loss = self._loss(x)
        (g,) = torch.autograd.grad(loss, x, create_graph=True)
        return x, loss, g

    def _theta(self, theta, name="theta"):
        import torch
        t = np.asarray(theta, dtype=np.float64)
        if t.shape != (self.n_params,):
            raise ValueError(f"{name} must have shape ({self.n_params},), got {t.shape}")
        return torch.from_numpy(np.ascontiguousarray(t))

    # -- NumPy side

    def f(self, theta) -> float:
        """The full-batch loss :math:`L(\\theta)`."""
        import torch
        with torch.no_grad():
            return float(self._loss(self._theta(theta)))

    def grad(self, theta) -> np.ndarray:
        """:math:`\\nabla L(\\theta)`, shape ``(P,)``."""
        return self.value_and_grad(theta)[1]

    def value_and_grad(self, theta):
        """``(L(theta), grad L(theta))`` from one forward and one backward pass."""
        import torch
        x = self._theta(theta).requires_grad_()
        loss = self._loss(x)
        (g,) = torch.autograd.grad(loss, x)
        return float(loss.detach()), g.numpy()

    def hvp(self, theta, v) -> np.ndarray:
        """The Hessian-vector product :math:`\\nabla^2 L(\\theta)\\, v` (exact: double backward)."""
        return self.hvp_at(theta)(v)

    def hvp_at(self, theta):
        """The operator ``v -> hessian(theta) @ v`` at a fixed ``theta``, reusing one gradient graph.

        Each product costs one backward pass through the stored graph of :math:`\\nabla L`
        (about half of a fresh :meth:`hvp`): what Lanczos and power iteration want.
        """
        import torch
        x, _, g = self._grad_graph(theta)

        def apply(v):
            (hv,) = torch.autograd.grad(g, x, self._theta(v, "v"), retain_graph=True)
            return hv.numpy()
        return apply

    def hessian(self, theta) -> np.ndarray:
        """The dense Hessian :math:`\\nabla^2 L(\\theta)`, shape ``(P, P)`` (for checks on small nets)."""
        return self._fns()["hessian"](self._theta(theta)).numpy()

    def f_batch(self, thetas) -> np.ndarray:
        """The loss at each row of ``thetas`` (shape ``(..., P)``), vectorised with ``torch.func.vmap``."""
        import torch
        t = np.asarray(thetas, dtype=np.float64)
        if t.ndim < 1 or t.shape[-1] != self.n_params:
            raise ValueError(f"thetas must have shape (..., {self.n_params}), got {t.shape}")
        lead = t.shape[:-1]
        flat = torch.from_numpy(np.ascontiguousarray(t.reshape(-1, self.n_params)))
        with torch.no_grad():
            out = self._fns()["batch"](flat).numpy() if flat.shape[0] else np.zeros(0)
        return out.reshape(lead)

    def predict(self, theta, X=None) -> np.ndarray:
        """Network outputs :math:`g(x; \\theta)` (logits for cross-entropy) at the training points or at ``X`` (..., d)."""
        import torch
        if X is None:
            Xt, lead = self._X, (self._X.shape[0],)
        else:
            Xa = np.asarray(X, dtype=np.float64)
            d = self.X.shape[1]
            if Xa.ndim < 1 or Xa.shape[-1] != d:
                raise ValueError(f"X must have shape (..., {d}), got {Xa.shape}")
            lead = Xa.shape[:-1]
            Xt = torch.from_numpy(np.ascontiguousarray(Xa.reshape(-1, d)))
        with torch.no_grad():
            out = self._forward(self._theta(theta), Xt).numpy()
        return out.reshape(lead + (out.shape[-1],))

    def accuracy(self, theta) -> float:
        """Fraction of training points whose largest output is their label (integer labels only)."""
        if self.y is None:
            raise ValueError(f"{self.name} is a regression (float targets): accuracy is undefined")
        return float(np.mean(np.argmax(self.predict(theta), axis=1) == self.y))

    def unflatten(self, theta) -> list:
        """The parameter blocks ``[W_1, b_1, ..., W_L, b_L]`` of a flat ``theta`` (views)."""
        t = np.asarray(theta)
        if t.shape != (self.n_params,):
            raise ValueError(f"theta must have shape ({self.n_params},), got {t.shape}")
        blocks, off = [], 0
        for s in self.shapes:
            size = int(np.prod(s))
            blocks.append(t[off:off + size].reshape(s))
            off += size
        return blocks

    def flatten(self, blocks) -> np.ndarray:
        """Inverse of :meth:`unflatten`: one float64 vector from ``[W_1, b_1, ...]``."""
        blocks = list(blocks)
        if len(blocks) != len(self.shapes) or any(np.shape(b) != s for b, s in zip(blocks, self.shapes)):
            raise ValueError(f"blocks must have shapes {list(self.shapes)}, got {[np.shape(b) for b in blocks]}")
        return np.concatenate([np.asarray(b, dtype=np.float64).ravel() for b in blocks])

    def problem(self):
        """This loss as a :class:`labkit.Problem` (``hess`` dense; ``extras``: ``hvp``, ``predict``, ``net``)."""
        from .problems import Problem

        def f(x):
            x = np.asarray(x, dtype=np.float64)
            return self.f(x) if x.ndim == 1 else self.f_batch(x)

        def grad(x):
            x = np.asarray(x, dtype=np.float64)
            if x.ndim == 1:
                return self.grad(x)
            return np.stack([self.grad(r) for r in x.reshape(-1, self.n_params)]).reshape(x.shape)

        return Problem(name=self.name, f=f, grad=grad, hess=self.hessian, x0=self.x0, reference=self.reference,
                       description=f"{self.loss} loss of a {self.activation} MLP on {len(self.X)} points",
                       shapes=self.shapes, extras={"hvp": self.hvp, "predict": self.predict, "net": self})


def mlp(dataset=None, widths=(32, 32), activation: str = "tanh", loss: str = "mse", seed: int = 0, *,
        init_scale: float = 1.0, name: str | None = None) -> MLP:
    r"""A tiny fully connected network on a small dataset, as a flat-parameter objective (see :class:`MLP`).

    ``dataset``: ``(X, y)`` with ``X`` of shape ``(n, d)``; integer labels ``y`` of shape
    ``(n,)`` (classes :math:`0..k-1`, :math:`k` outputs, one-hot targets for ``"mse"``), or float
    targets of shape ``(n,)`` or ``(n, k)`` (regression, ``"mse"`` only).  Default:
    ``moons(40, noise=0.1, seed=0)``.  ``widths``: hidden layer sizes (``()`` is a linear model).
    ``activation``: one of ``ACTIVATIONS``; ``loss``: ``"mse"`` (:math:`\frac1{2n}\sum\|g - t\|^2`,
    the squared loss of Cohen et al.) or ``"cross_entropy"``.

    Initialisation (``x0``), seeded by ``seed``: every weight and bias
    :math:`\sim U(-s/\sqrt{\text{fan\_in}},\ s/\sqrt{\text{fan\_in}})` with :math:`s` =
    ``init_scale``: ``torch.nn.Linear``'s default at ``s = 1``, drawn with NumPy so it does not
    depend on torch's generator.

    Reference: J. Cohen et al., "Gradient Descent on Neural Networks Typically Occurs at the Edge
    of Stability", ICLR 2021 (tanh MLPs with squared loss); He et al., ICCV 2015 (the init).
    """
    if dataset is None:
        dataset = moons()
        data_name = "moons(40)"
    else:
        data_name = None
    try:
        X, y = dataset
    except (TypeError, ValueError):
        raise ValueError(f"dataset must be a pair (X, y), e.g. lk.nets.moons(), got {type(dataset).__name__}") from None
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1 or not np.all(np.isfinite(X)):
        raise ValueError(f"dataset X must be a finite array of shape (n, d), got shape {X.shape}")
    n = X.shape[0]
    if activation not in ACTIVATIONS:
        raise unknown_name("activation", activation, ACTIVATIONS)
    if loss not in LOSSES:
        raise unknown_name("loss", loss, LOSSES)
    if isinstance(widths, (int, np.integer)) and not isinstance(widths, bool):
        widths = (widths,)
    try:
        widths = tuple(check_int("each width", w, 1) for w in widths)
    except TypeError:
        raise ValueError(f"widths must be a tuple of integers >= 1, got {widths!r}") from None
    y_arr = np.asarray(y)
    if y_arr.shape[:1] != (n,) or y_arr.ndim > 2:
        raise ValueError(f"dataset y must have shape ({n},) or ({n}, k), got {y_arr.shape}")
    if np.issubdtype(y_arr.dtype, np.integer) and y_arr.ndim == 1:
        if y_arr.min() < 0:
            raise ValueError(f"class labels y must be >= 0, got min {y_arr.min()}")
        labels = y_arr.astype(np.int64)
        k = max(int(labels.max()) + 1, 2)
        targets = np.eye(k)[labels]
    else:
        if loss == "cross_entropy":
            raise ValueError("loss='cross_entropy' needs integer class labels y of shape (n,); "
                             f"got {y_arr.dtype} of shape {y_arr.shape} (use loss='mse' for regression)")
        labels = None
        targets = y_arr.astype(np.float64).reshape(n, -1)
        if not np.all(np.isfinite(targets)):
            raise ValueError("dataset y must be finite")
    scale = check_nonneg("init_scale", init_scale)

    dims = (X.shape[1],) + widths + (targets.shape[1],)
    rng = np.random.default_rng(seed)
    parts = []
    for fi, fo in zip(dims[:-1], dims[1:]):
        bound = scale / math.sqrt(fi)
        parts += [rng.uniform(-bound, bound, fo * fi), rng.uniform(-bound, bound, fo)]
    x0 = np.concatenate(parts)

    if name is None:
        data_name = data_name or f"{n} points"
        name = f"mlp({data_name}, widths={widths}, {activation}, {loss})"
    reference = f"{_REF_EOS}; init: {_REF_INIT}."
    return MLP(X, labels, targets, widths, activation, loss, x0, name, reference)
