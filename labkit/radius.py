r"""Safe step sizes for cross-entropy: the Taylor radius set by the complex zeros of softmax (Sao 2026).

    import labkit as lk
    from labkit import radius as rad
    p = lk.problems.softmax_regression(n=200, d=5, k=3, seed=0)
    x, g = p.x0, p.grad(p.x0)
    R = rad.softmax_radius(p, x, -g)          # R.rho = pi / Delta_a, one JVP
    rad.normalized_step(p, x, -0.5 * g)       # r = tau / rho_a of a proposed update
    res = rad.train(p, "sgd", 300, lr=0.5, control="radius", schedule=rad.spike(300, at=100))

Along a direction :math:`v` (unit), linearise the logits of every example,
:math:`z_k(\theta + t v) \approx z_k + t\,a_k` with :math:`a_k = \nabla z_k\cdot v` (a
Jacobian-vector product).  The per-example loss :math:`\ell(t) = -z_y - t a_y + \log\sum_k
e^{z_k + a_k t}` is analytic until the partition function has a complex zero, so its Taylor
series at 0 converges only within that distance ("ghosts of softmax"):

- binary, exact (Thm 4.3): :math:`\rho^* = \sqrt{\delta^2 + \pi^2}/\Delta_a`, with
  :math:`\delta = z_1 - z_2` and :math:`\Delta_a = |a_1 - a_2|`;
- multiclass, a lower bound (Def 4.4, Thm 4.6): :math:`\rho^* \ge \rho_a = \pi/\Delta_a`,
  :math:`\Delta_a = \max_k a_k - \min_k a_k`;
- a batch (Sec. 5.1): :math:`\Delta_a = \max_i (\max_k a_{ik} - \min_k a_{ik})`, :math:`\rho_a = \pi/\Delta_a`;
- the normalised step of an update :math:`p` (Def 5.1): :math:`r = \|p\|/\rho_a(p/\|p\|)`;
- the controller (Prop 5.2): :math:`\tilde p = s\,p`, :math:`s = \min(1, \rho_a/\|p\|)`, so :math:`r \le 1`.

Logistic regression (one score :math:`s = a^\top x`) is the binary case with logits
:math:`(s, 0)`: :math:`\delta = s`, :math:`\Delta_a = |a^\top v|`.  For ``softmax_regression`` and
``logistic_regression`` problems the logits are exactly linear in the weights, so the
linearisation is exact and so is the loss along the line; for an ``lk.nets`` MLP the JVP is
``torch.func.jvp`` of the network's outputs.

**Training driver** (:func:`train`): a Python loop with small NumPy transcriptions of SGD (with
momentum, torch's form) and Adam (torch's form), not ``lk.run``: the controller needs the
rule's *proposed* update before it is applied, and the rule's state (momentum buffer, Adam's
moments) must carry across steps, which one-step calls of ``lk.run`` cannot do.
``tests/test_radius.py`` checks that with ``control=None`` the loop reproduces ``lk.run``'s
``sgd`` and ``adam`` trajectories.

References: P. Sao, 'Ghosts of Softmax: Complex Singularities That Limit Safe Step Sizes in
Cross-Entropy', arXiv:2603.13552, 2026 (Thm 4.3, Def 4.4, Thm 4.6, Def 5.1, Prop 5.2); torch's
``clip_grad_norm_`` for the clipping baseline.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import citations as _cite

__all__ = ["Radius", "StepSurvey", "TrainResult", "TaylorLine", "softmax_radius", "directional_logits",
           "normalized_step", "control_scale", "clip_scale", "taylor_line", "step_survey", "spike", "train"]

REFERENCE = ("P. Sao, 'Ghosts of Softmax: Complex Singularities That Limit Safe Step Sizes in Cross-Entropy', "
             "arXiv:2603.13552, 2026")
_FLOOR = 1e-12           # denominator floor of Delta_a, as the paper's tutorial code


# ----------------------------------------------------------------------------- models

class _Model:
    """Logits (n, k), their directional derivatives, labels and the loss of one of labkit's classifiers."""

    def __init__(self, obj):
        from .problems import Problem
        net = obj.extras.get("net") if isinstance(obj, Problem) else obj
        self.net = None
        if net is not None and hasattr(net, "_forward") and getattr(net, "loss", None) == "cross_entropy":
            self.net = net
            self.dim = net.n_params
            self.y = np.asarray(net.y, dtype=np.int64)
            self.name = net.name
            _cite.note(softmax_radius)
            return
        if net is not None and hasattr(net, "_forward"):
            raise ValueError(f"{net.name} uses loss={net.loss!r}: the softmax radius needs loss='cross_entropy'")
        if not isinstance(obj, Problem) or "data" not in obj.extras:
            raise ValueError("softmax_radius takes a softmax_regression / logistic_regression problem (with "
                             "extras['data']), an lk.nets MLP with loss='cross_entropy', or its problem(); "
                             f"got {obj!r}")
        _cite.note(obj, softmax_radius)
        A, y = obj.extras["data"]
        A = np.asarray(A, dtype=np.float64)
        y = np.asarray(y)
        self.A, self.name, self.problem = A, obj.name, obj
        self.dim = obj.dim
        n, d = A.shape
        if obj.dim == d and np.all(np.abs(y) == 1):                    # binary logistic: logits (s, 0)
            self.kind, self.k = "logistic", 2
            self.y = np.where(y > 0, 0, 1).astype(np.int64)
        elif obj.shapes and len(obj.shapes) == 1 and len(obj.shapes[0]) == 2 and obj.shapes[0][1] == d:
            self.kind, self.k = "softmax", obj.shapes[0][0]
            self.y = y.astype(np.int64)
        else:
            raise ValueError(f"{obj.name}: not a softmax or logistic regression problem")

    def _check(self, x, name):
        x = np.asarray(x, dtype=np.float64).reshape(-1)
        if x.shape != (self.dim,) or not np.all(np.isfinite(x)):
            raise ValueError(f"{name} must be {self.dim} finite numbers, got shape {np.shape(x)}")
        return x

    def logits(self, x):
        if self.net is not None:
            return self.net.predict(x)
        if self.kind == "logistic":
            s = self.A @ x
            return np.column_stack([s, np.zeros_like(s)])
        return self.A @ x.reshape(self.k, -1).T

    def jvp(self, x, v):
        """(logits, directional derivatives a_ik = grad z_ik . v), both (n, k)."""
        if self.net is not None:
            import warnings

            from torch.func import jvp
            net = self.net
            th, tv = net._theta(x), net._theta(v, "direction")
            with warnings.catch_warnings():
                # forward mode loads torch's jvp decompositions, which warn (torch.jit.script deprecation)
                warnings.simplefilter("ignore", DeprecationWarning)
                z, a = jvp(lambda t: net._forward(t, net._X), (th,), (tv,))
            return z.detach().numpy(), a.detach().numpy()
        return self.logits(x), self.logits(v)

    def loss(self, x):
        if self.net is not None:
            return self.net.f(x)
        return float(self.problem.f(x))

    def value_and_grad(self, x):
        if self.net is not None:
            return self.net.value_and_grad(x)
        return float(self.problem.f(x)), np.asarray(self.problem.grad(x), dtype=np.float64)


def _model(obj):
    return obj if isinstance(obj, _Model) else _Model(obj)


# ----------------------------------------------------------------------------- the radius

class Radius(NamedTuple):
    """:func:`softmax_radius`: ``rho`` = :math:`\\pi/\\Delta_a`, ``delta_a`` = :math:`\\Delta_a`,
    ``rho_binary`` = the exact batch radius :math:`\\min_i\\sqrt{\\delta_i^2+\\pi^2}/\\Delta_{a,i}`
    (two classes only, else None), ``spread`` = per-example :math:`\\max_k a_{ik}-\\min_k a_{ik}`,
    ``worst`` = the example that sets :math:`\\Delta_a`, ``direction`` = the unit direction used."""

    rho: float
    delta_a: float
    rho_binary: float | None
    spread: np.ndarray
    worst: int
    direction: np.ndarray


def _unit_jvp(model, x, direction):
    """(unit direction, logits z (n, k), their derivatives a (n, k) along it)."""
    m = _model(model)
    x = m._check(x, "x")
    v = m._check(direction, "direction")
    nv = float(np.linalg.norm(v))
    if nv == 0.0:
        raise ValueError("direction must be non-zero")
    v = v / nv
    return (v, *m.jvp(x, v))


def directional_logits(model, x, direction):
    """Logits ``z`` (n, k) at ``x`` and ``a`` (n, k), their derivatives along the unit ``direction``."""
    return _unit_jvp(model, x, direction)[1:]


def softmax_radius(model, x, direction) -> Radius:
    r"""The softmax Taylor radius :math:`\rho_a = \pi/\Delta_a` along ``direction`` at ``x`` (Sao 2026, Def 4.4, Sec. 5.1).

    .. math::
        a_{ik} = \nabla z_k(x_i;\theta)\cdot v,\quad
        \Delta_a = \max_i\big(\max_k a_{ik} - \min_k a_{ik}\big),\quad
        \rho_a = \frac{\pi}{\Delta_a}, \qquad
        \rho^*_{\text{binary}} = \min_i \frac{\sqrt{\delta_i^2+\pi^2}}{|a_{i1}-a_{i2}|}

    with :math:`v` = ``direction``/‖``direction``‖ (a distance in parameter space) and
    :math:`\delta_i = z_{i1} - z_{i2}`.  ``model``: a ``softmax_regression`` or
    ``logistic_regression`` problem (any with binary data: ``separable_logistic``,
    ``blobs_logistic``), an ``lk.nets`` MLP with ``loss="cross_entropy"``, or its ``problem()``.
    One JVP (exact and free for the linear models).  :math:`\Delta_a` is floored at
    :math:`10^{-12}` (the paper's code): a direction that moves no logit gets a huge radius.
    References: P. Sao, arXiv:2603.13552, 2026.
    """
    v, z, a = _unit_jvp(model, x, direction)
    spread = a.max(axis=1) - a.min(axis=1)
    worst = int(np.argmax(spread))
    delta_a = max(float(spread[worst]), _FLOOR)
    rho_b = None
    if a.shape[1] == 2:
        da = np.abs(a[:, 0] - a[:, 1])
        dz = z[:, 0] - z[:, 1]
        with np.errstate(divide="ignore"):
            rho_b = float(np.min(np.sqrt(dz * dz + math.pi ** 2) / np.maximum(da, _FLOOR)))
    return Radius(math.pi / delta_a, delta_a, rho_b, spread, worst, v)


def normalized_step(model, x, p) -> float:
    r""":math:`r = \tau/\rho_a` of the update ``p`` at ``x``: :math:`\tau = \|p\|`, :math:`\rho_a` along :math:`p/\|p\|` (Def 5.1).

    Equivalently :math:`r = \|p\|\,\Delta_a(p/\|p\|)/\pi`; 0 for ``p = 0``.
    """
    m = _model(model)
    p = m._check(p, "p")
    tau = float(np.linalg.norm(p))
    if tau == 0.0:
        return 0.0
    return tau / softmax_radius(m, x, p).rho


def control_scale(p, rho: float) -> float:
    r"""The controller's factor :math:`s = \min(1, \rho_a/\|p\|)` (Prop 5.2): :math:`\|s\,p\| \le \rho_a`."""
    tau = float(np.linalg.norm(p))
    return 1.0 if tau <= rho else float(rho) / tau


def clip_scale(g, max_norm: float) -> float:
    """torch.nn.utils.clip_grad_norm_'s factor: ``min(1, max_norm / (||g|| + 1e-6))``."""
    return min(1.0, float(max_norm) / (float(np.linalg.norm(g)) + 1e-6))


# ----------------------------------------------------------------------------- Taylor model along a line

def _cumulants(p, a, order):
    """Cumulants kappa_1..kappa_order of the distribution p (n, k) on values a (n, k), per row."""
    mean = np.sum(p * a, axis=1)
    c = a - mean[:, None]
    scale = np.maximum(np.max(np.abs(c), axis=1), 1e-300)
    u = c / scale[:, None]
    mom = np.empty((order + 1, len(p)))
    mom[0] = 1.0
    for j in range(1, order + 1):
        mom[j] = np.sum(p * u ** j, axis=1)
    kap = np.zeros((order + 1, len(p)))
    for j in range(2, order + 1):                  # kappa_1 of the centred values is 0
        kap[j] = mom[j] - sum(math.comb(j - 1, i - 1) * kap[i] * mom[j - i] for i in range(2, j))
    kap *= scale[None, :] ** np.arange(order + 1)[:, None]
    kap[1] = mean
    return kap


class TaylorLine(NamedTuple):
    """:func:`taylor_line`: at step lengths ``t`` (``r = t/rho``), the loss of the linearised model
    ``loss`` (exact for linear models), its Taylor polynomials ``taylor[j]`` of degree ``orders[j]``,
    ``rho`` (:math:`\\rho_a`) and ``rho_binary``; ``actual`` = the true loss (differs from ``loss``
    only for a network)."""

    t: np.ndarray
    r: np.ndarray
    loss: np.ndarray
    actual: np.ndarray
    taylor: np.ndarray
    orders: tuple
    rho: float
    rho_binary: float | None

    def plot(self, ax=None):
        import matplotlib.pyplot as plt
        if ax is None:
            _, ax = plt.subplots(figsize=(5.5, 3.8), constrained_layout=True)
        from . import viz
        ax.plot(self.r, self.actual, "k", lw=2, label="loss along the step")
        # dashed patterns, one per degree: the solid black line is the loss itself
        for K, T, st in zip(self.orders, self.taylor, viz.series_styles(len(self.orders) + 1)[1:]):
            ax.plot(self.r, T, lw=1, label=f"Taylor, degree {K}", **st)
        ax.axvline(1.0, color="r", ls="--", lw=1, label="r = 1 (ρ_a)")
        if self.rho_binary is not None:
            ax.axvline(self.rho_binary / self.rho, color="k", ls=":", lw=1, label="exact binary ρ*")
        lo, hi = np.min(self.actual), np.max(self.actual)
        ax.set_ylim(lo - 0.5 * (hi - lo + 1e-3), hi + 0.5 * (hi - lo + 1e-3))
        ax.set(xlabel="r = τ/ρ_a", ylabel="loss", title="Taylor model vs the loss along a step")
        ax.legend(fontsize="small")
        return ax


def taylor_line(model, x, direction, r=None, orders=(2, 8, 32)) -> TaylorLine:
    r"""The loss along :math:`x + t v` and its Taylor polynomials at :math:`t = 0`, in units of :math:`r = t/\rho_a`.

    For the linearised logits the per-example log-partition :math:`\log\sum_k p_k e^{a_k t}` is
    the cumulant generating function of the softmax distribution :math:`p` on the values
    :math:`a_k`, so the Taylor coefficients are cumulants :math:`\kappa_j/j!` (computed on
    centred, rescaled values; degree up to ~40 is accurate).  Inside the radius of convergence
    the polynomials converge to the loss as the degree grows; past it they diverge.
    """
    m = _model(model)
    x = m._check(x, "x")
    R = softmax_radius(m, x, direction)
    v = R.direction
    r = np.linspace(0.0, 2.0, 201) if r is None else np.asarray(r, dtype=np.float64)
    t = r * R.rho
    z, a = m.jvp(x, v)
    n = len(z)
    rows = np.arange(n)
    zs = z - z.max(axis=1, keepdims=True)
    p = np.exp(zs)
    p /= p.sum(axis=1, keepdims=True)
    lse0 = np.log(np.exp(zs).sum(axis=1)) + z.max(axis=1)
    Zt = z[None] + t[:, None, None] * a[None]                          # (T, n, k)
    mx = Zt.max(axis=2)
    loss = np.mean(np.log(np.exp(Zt - mx[..., None]).sum(axis=2)) + mx - Zt[:, rows, m.y], axis=1)
    K = max(orders)
    kap = _cumulants(p, a, K)
    coef = kap.mean(axis=1) / np.array([math.factorial(j) for j in range(K + 1)], dtype=np.float64)
    coef[0] = float(np.mean(lse0 - z[rows, m.y]))
    coef[1] -= float(np.mean(a[rows, m.y]))
    powers = t[None, :] ** np.arange(K + 1)[:, None]
    taylor = np.array([coef[:k + 1] @ powers[:k + 1] for k in orders])
    if m.net is not None:
        actual = np.array([m.loss(x + ti * v) for ti in t])
    else:
        actual = loss
    return TaylorLine(t, r, loss, actual, taylor, tuple(orders), R.rho, R.rho_binary)


# ----------------------------------------------------------------------------- many steps and directions

class StepSurvey(NamedTuple):
    """:func:`step_survey`: per trial, ``r``, the loss before and after, ``kind`` of direction;
    ``blew_up`` = after > before + ``blowup``; ``decreased`` = after < before."""

    r: np.ndarray
    before: np.ndarray
    after: np.ndarray
    kind: np.ndarray
    blowup: float

    @property
    def decreased(self):
        return self.after < self.before

    @property
    def blew_up(self):
        return self.after > self.before + self.blowup

    @property
    def max_r_decreased(self) -> float:
        """The largest r among steps that reduced the loss."""
        return float(self.r[self.decreased].max()) if self.decreased.any() else float("nan")

    @property
    def min_r_blew_up(self) -> float:
        """The smallest r among steps that blew up (inf if none did)."""
        return float(self.r[self.blew_up].min()) if self.blew_up.any() else float("inf")

    @property
    def rise_ratio(self) -> np.ndarray:
        r"""Per step, the loss rise over the linear-logit bound: :math:`(f_{after} - f_{before})/(\pi r)`.

        For logits linear in the weights (softmax and logistic regression) each example's loss
        along a unit direction has slope :math:`\sum_k p_k a_k - a_y \in [-\Delta_a, \Delta_a]`, so a
        step of length :math:`t = r\rho_a` raises it by at most :math:`\Delta_a t = \pi r`: the
        ratio is at most 1, for every r and direction.  A network's logits are not linear, and
        its ratio can exceed 1.
        """
        return (self.after - self.before) / (math.pi * self.r)

    @property
    def max_rise_ratio(self) -> float:
        """The largest :attr:`rise_ratio` (<= 1 for linear logits)."""
        return float(np.max(self.rise_ratio))

    def plot(self, ax=None):
        import matplotlib.pyplot as plt
        if ax is None:
            _, ax = plt.subplots(figsize=(5.5, 3.8), constrained_layout=True)
        from . import viz
        kinds = np.unique(self.kind)
        for k, (kind, st) in enumerate(zip(kinds, viz.series_styles(len(kinds)))):
            s = self.kind == kind
            # a marker per kind as well as a colour: the kinds stay apart in greyscale
            ax.scatter(self.r[s], self.after[s] - self.before[s], s=8, alpha=0.6, color=st["color"],
                       marker=viz.MARKERS[k % len(viz.MARKERS)], label=kind)
        ax.axvline(1.0, color="r", ls="--", lw=1)
        ax.axhline(self.blowup, color="k", ls=":", lw=1, label=f"blow-up: Δloss > {self.blowup:g}")
        ax.set(xscale="log", yscale="symlog", xlabel="r = τ/ρ_a", ylabel="loss after - loss before",
               title="steps of every length and direction")
        ax.legend(fontsize="small", markerscale=2)
        return ax


def step_survey(model, points, r=None, n_random: int = 0, seed: int = 0, blowup: float = 1.0) -> StepSurvey:
    r"""Steps of normalised length ``r`` from each of ``points`` along several directions; loss before and after.

    Directions per point: :math:`-g`, :math:`-g/(|g| + 10^{-8})` (Adam's first step, sign-like),
    and ``n_random`` random directions turned into descent directions (:math:`v\cdot g < 0`; on a
    network, where the logits are not linear, a random direction can raise the loss by more than
    a nat below r = 1: the guarantee is for the linearised model).
    A step "blows up" when the loss rises by more than ``blowup`` (labkit's threshold, in nats).
    That threshold is not what the radius theorem bounds: for linear logits a step of length
    :math:`t` raises each example's loss by at most :math:`\Delta_a t = \pi r`
    (:attr:`StepSurvey.rise_ratio` <= 1), so a rise of 1 nat needs :math:`r \ge 1/\pi`, and a
    convex loss (softmax regression) may never rise by a nat at all within the surveyed r.
    """
    m = _model(model)
    r = np.geomspace(0.05, 20.0, 25) if r is None else np.asarray(r, dtype=np.float64)
    rng = np.random.default_rng(seed)
    out_r, before, after, kinds = [], [], [], []
    for x in np.atleast_2d(points):
        x = m._check(x, "point")
        f0, g = m.value_and_grad(x)
        dirs = [("-g", -g), ("adam", -g / (np.abs(g) + 1e-8))]
        for _ in range(n_random):
            v = rng.standard_normal(m.dim)
            dirs.append(("random descent", -v if v @ g > 0 else v))
        for kind, v in dirs:
            if not np.any(v):
                continue
            R = softmax_radius(m, x, v)
            for ri in r:
                out_r.append(ri)
                before.append(f0)
                after.append(m.loss(x + ri * R.rho * R.direction))
                kinds.append(kind)
    return StepSurvey(np.array(out_r), np.array(before), np.array(after), np.array(kinds), float(blowup))


# ----------------------------------------------------------------------------- training with a controller

def spike(steps: int, at: int, factor: float = 1e4, length: int = 1) -> np.ndarray:
    """Per-step lr multipliers: 1, except ``factor`` for ``length`` steps from step ``at``."""
    m = np.ones(int(steps))
    m[int(at):int(at) + int(length)] = float(factor)
    return m


class TrainResult(NamedTuple):
    """:func:`train`: ``loss[t]`` at each iterate (``steps+1``), per step the normalised length
    ``r`` of the proposed update, ``r_taken`` of the update applied, ``scale`` (controller or
    clipping factor), ``step_norm``; ``x`` the final point, ``xs`` the iterates when ``keep=True``."""

    loss: np.ndarray
    r: np.ndarray
    r_taken: np.ndarray
    scale: np.ndarray
    step_norm: np.ndarray
    x: np.ndarray
    xs: np.ndarray | None
    control: str | None

    @property
    def f_final(self) -> float:
        return float(self.loss[-1])


_RULES = {"sgd": dict(lr=1e-3, momentum=0.0), "adam": dict(lr=1e-3, b1=0.9, b2=0.999, eps=1e-8)}


def train(model, rule: str = "sgd", steps: int = 100, x0=None, *, control: str | None = None,
          max_norm: float = 1.0, schedule=None, keep: bool = False, **hp) -> TrainResult:
    r"""Full-batch training with an optional step controller: the rule proposes :math:`p_t`, the controller scales it.

    ``rule``: ``"sgd"`` (``lr``, ``momentum``; torch's form :math:`b \leftarrow \mu b + g`,
    :math:`p = -\eta b`) or ``"adam"`` (``lr``, ``b1``, ``b2``, ``eps``; torch's form with bias
    correction).  ``control``: ``None``; ``"radius"`` (Sao's Prop 5.2: :math:`x \leftarrow x + s p`,
    :math:`s = \min(1, \rho_a(p/\|p\|)/\|p\|)`, one JVP per step; the rule's state is updated as
    usual); ``"clip"`` (the gradient is clipped to norm ``max_norm`` before the rule sees it, as
    ``torch.nn.utils.clip_grad_norm_``).  ``schedule``: per-step lr multipliers (:func:`spike`).
    ``r`` is logged for every control (one JVP per step).  Stops early, filling with NaN, when
    the loss is not finite.
    """
    if rule not in _RULES:
        raise ValueError(f"rule must be one of {tuple(_RULES)}, got {rule!r}")
    if control not in (None, "radius", "clip"):
        raise ValueError(f"control must be None, 'radius' or 'clip', got {control!r}")
    unknown = set(hp) - set(_RULES[rule])
    if unknown:
        raise ValueError(f"{rule} takes {sorted(_RULES[rule])}, got {sorted(unknown)}")
    h = {**_RULES[rule], **{k: float(v) for k, v in hp.items()}}
    m = _model(model)
    steps = int(steps)
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    sched = np.ones(steps) if schedule is None else np.asarray(schedule, dtype=np.float64).reshape(-1)
    if sched.size != steps:
        raise ValueError(f"schedule must have one multiplier per step ({steps}), got {sched.size}")
    if control == "clip" and not float(max_norm) > 0:
        raise ValueError(f"max_norm must be > 0, got {max_norm!r}")
    if x0 is None:
        x0 = m.net.x0 if m.net is not None else m.problem.x0
    x = m._check(x0, "x0").copy()
    loss = np.full(steps + 1, np.nan)
    r, r_taken, scale, sn = (np.full(steps, np.nan) for _ in range(4))
    xs = np.full((steps + 1, m.dim), np.nan) if keep else None
    b = np.zeros(m.dim)
    mom, vel = np.zeros(m.dim), np.zeros(m.dim)
    for t in range(steps + 1):
        f, g = m.value_and_grad(x)
        if not math.isfinite(f):
            break
        loss[t] = f
        if keep:
            xs[t] = x
        if t == steps:
            break
        lr = h["lr"] * sched[t]
        c = 1.0
        if control == "clip":
            c = clip_scale(g, max_norm)
            g = g * c
        if rule == "sgd":
            b = g.copy() if t == 0 else h["momentum"] * b + g
            p = -lr * b
        else:
            mom = h["b1"] * mom + (1 - h["b1"]) * g
            vel = h["b2"] * vel + (1 - h["b2"]) * g * g
            k = t + 1
            p = -lr / (1 - h["b1"] ** k) * mom / (np.sqrt(vel / (1 - h["b2"] ** k)) + h["eps"])
        tau = float(np.linalg.norm(p))
        rho = softmax_radius(m, x, p).rho if tau > 0 else math.inf
        r[t] = tau / rho
        if control == "radius":
            c = control_scale(p, rho)
            p = c * p
        scale[t] = c
        r_taken[t] = float(np.linalg.norm(p)) / rho
        sn[t] = float(np.linalg.norm(p))
        x = x + p
    return TrainResult(loss, r, r_taken, scale, sn, x, xs, control)
