r"""Update rules.

Each rule is two small ``@njit`` functions in the shape of optax's
``init``/``update`` pair, specialised for speed (docs/design.md, "Numba"):

* ``<rule>_prep(t, hp, acc) -> c`` computes the per-step scalars that depend only on
  the step ``t`` and the hyperparameters (bias corrections), once per step for a whole
  block of lanes; ``acc`` is a small per-block scratch holding running powers.
* ``<rule>_step(x, g, s, t, lr, gnorm, f, hp, c) -> (x, s)`` is the update of one
  coordinate, written to read like the paper's equations; ``s`` is the tuple of state
  slots (``m, v, ...``), ``lr`` the (scheduled) step size of this lane, ``gnorm`` the
  norm of this lane's whole gradient (for normalised rules) and ``f`` this lane's loss
  at the current point (for loss-adaptive steps).

The public constructors (``adam(lr=...)``, ...) validate hyperparameters, pack them into
the engine's float vector and return a :class:`Rule`.  Defaults are torch's (or the
reference implementation's where torch has none).  Exactness against the references is
tested in ``tests/test_oracles.py`` (torch.optim) and ``tests/test_oracles_paper.py``
(pytorch-optimizer: AdaBelief, diffGrad, Adan, EXAdam).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from ._errors import check_int, shown, unknown_name
from ._jit import JIT, fma, lerp, power_step, sign

NHP = 16       # length of the engine's hyperparameter vector (whole-vector rules use more)
NSLOT = 4      # state slots per coordinate

# Kernel ids for the engine's dispatch (labkit/_engine.py).
SGD, ADAM, ADAGRAD, RMSPROP, LION, SIGN, NORMALIZED_GD = range(7)
ADABELIEF, DIFFGRAD, ADAN, EXADAM, LION_K, LOSS_ADAPTIVE_GD = range(7, 13)
# Whole-vector rules (labkit/vrules.py), driven by run.py's Python loop, not by _engine.py.
ADAMP, SGDP, MUON, SWAN, SINKGD, SCALE, SOPHIA, LION_K_L2, NORMALIZED_LR_GD = range(100, 109)


@njit(**JIT)
def no_prep(t, hp, acc):
    return (0.0, 0.0, 0.0, 0.0)


# ----------------------------------------------------------------------------- SGD
@njit(**JIT)
def sgd_step(x, g, s, t, lr, gnorm, f, hp, c):
    mu, tau, nesterov, wd = hp[0], hp[1], hp[2], hp[3]
    b = s[0]
    if wd != 0.0:
        g = fma(wd, x, g)                   # g + wd x, coupled L2: it goes into the momentum
    if mu != 0.0:
        if t == 1.0:
            b = g                           # torch initialises the buffer to g, not (1 - tau) g
        else:
            b = fma(1.0 - tau, g, mu * b)   # mu b + (1 - tau) g
        g = fma(mu, b, g) if nesterov != 0.0 else b
    return fma(-lr, g, x), (b, s[1], s[2], s[3])


# ----------------------------------------------------------------------------- Adam / AdamW
@njit(**JIT)
def adam_prep(t, hp, acc):
    b1_t = power_step(acc, 0, hp[0])        # beta1**t, exact (see _jit.power_step)
    b2_t = power_step(acc, 2, hp[1])
    return (1.0 - b1_t, math.sqrt(1.0 - b2_t), 0.0, 0.0)


@njit(**JIT)
def adam_step(x, g, s, t, lr, gnorm, f, hp, c):
    b1, b2, eps, wd, amsgrad, decoupled = hp[0], hp[1], hp[2], hp[3], hp[4], hp[5]
    m, v, v_max = s[0], s[1], s[2]
    bc1, sqrt_bc2 = c[0], c[1]
    if wd != 0.0:
        if decoupled != 0.0:
            x = x * (1.0 - lr * wd)         # AdamW: decay the weights, not the gradient
        else:
            g = fma(wd, x, g)
    m = lerp(m, g, 1.0 - b1)                # b1 m + (1 - b1) g
    v = fma((1.0 - b2) * g, g, b2 * v)      # b2 v + (1 - b2) g^2
    if amsgrad != 0.0:
        v_max = max(v_max, v)               # torch: running max of the raw v, then / bc2
        denom = math.sqrt(v_max) / sqrt_bc2 + eps
    else:
        denom = math.sqrt(v) / sqrt_bc2 + eps
    x = x + (-(lr / bc1) * m) / denom       # eps is added to sqrt(v_hat), as in Algorithm 1
    return x, (m, v, v_max, s[3])


# ----------------------------------------------------------------------------- AdaGrad
@njit(**JIT)
def adagrad_prep(t, hp, acc):
    return (1.0 + (t - 1.0) * hp[0], 0.0, 0.0, 0.0)


@njit(**JIT)
def adagrad_step(x, g, s, t, lr, gnorm, f, hp, c):
    wd, eps = hp[1], hp[3]
    if wd != 0.0:
        g = fma(wd, x, g)
    clr = lr / c[0]                          # lr / (1 + (t - 1) lr_decay)
    G = fma(g, g, s[0])                      # G + g^2
    x = x + (-clr * g) / (math.sqrt(G) + eps)
    return x, (G, s[1], s[2], s[3])


# ----------------------------------------------------------------------------- RMSprop
@njit(**JIT)
def rmsprop_step(x, g, s, t, lr, gnorm, f, hp, c):
    alpha, eps, wd, mu, centered = hp[0], hp[1], hp[2], hp[3], hp[4]
    v, g_avg, b = s[0], s[1], s[2]
    if wd != 0.0:
        g = fma(wd, x, g)
    v = fma((1.0 - alpha) * g, g, alpha * v)     # alpha v + (1 - alpha) g^2
    if centered != 0.0:
        g_avg = lerp(g_avg, g, 1.0 - alpha)
        avg = math.sqrt(fma(-g_avg, g_avg, v)) + eps
    else:
        avg = math.sqrt(v) + eps
    if mu > 0.0:
        b = mu * b + g / avg                 # buffer starts at 0 (unlike SGD's)
        x = fma(-lr, b, x)
    else:
        x = x + (-lr * g) / avg
    return x, (v, g_avg, b, s[3])


# ----------------------------------------------------------------------------- Lion
@njit(**JIT)
def lion_step(x, g, s, t, lr, gnorm, f, hp, c):
    b1, b2, wd = hp[0], hp[1], hp[2]
    m = s[0]
    if wd != 0.0:
        x = x * (1.0 - wd * lr)              # decoupled, applied first
    u = sign(lerp(m, g, 1.0 - b1))           # interpolate with the OLD momentum, then sign
    m = lerp(m, g, 1.0 - b2)                 # momentum update after the step, other beta
    return x - lr * u, (m, s[1], s[2], s[3])


# ----------------------------------------------------------------------------- signSGD / Signum
@njit(**JIT)
def sign_step(x, g, s, t, lr, gnorm, f, hp, c):
    mu, wd = hp[0], hp[1]
    m = s[0]
    if wd != 0.0:
        x = x * (1.0 - wd * lr)              # pytorch-optimizer's default: decoupled
    if mu > 0.0:
        m = lerp(m, g, 1.0 - mu)
        u = sign(m)
    else:
        u = sign(g)
    return x - lr * u, (m, s[1], s[2], s[3])


# ----------------------------------------------------------------------------- normalised GD
@njit(**JIT)
def normalized_gd_step(x, g, s, t, lr, gnorm, f, hp, c):
    if gnorm > 0.0:
        x = x - lr * (g / gnorm)
    return x, s


# ----------------------------------------------------------------------------- AdaBelief
@njit(**JIT)
def adabelief_prep(t, hp, acc):
    b2, rectify, degenerated_to_sgd = hp[1], hp[6], hp[7]
    b1_t = power_step(acc, 0, hp[0])
    b2_t = power_step(acc, 2, b2)
    bc1, bc2 = 1.0 - b1_t, 1.0 - b2_t
    r, rectified = 1.0, 0.0
    if rectify != 0.0:
        # RAdam's rectification: length of the approximated simple moving average rho_t.
        rho_inf = 2.0 / (1.0 - b2) - 1.0
        rho = rho_inf - 2.0 * t * b2_t / bc2
        if rho >= 5.0:
            r = math.sqrt(bc2 * (rho - 4.0) / (rho_inf - 4.0) * (rho - 2.0) / rho * rho_inf / (rho_inf - 2.0))
            rectified = 1.0
        elif degenerated_to_sgd == 0.0:
            r = -1.0                         # no step at all while the variance is intractable
    return (bc1, math.sqrt(bc2), r, rectified)


@njit(**JIT)
def adabelief_step(x, g, s, t, lr, gnorm, f, hp, c):
    b1, b2, eps, wd, amsgrad, decoupled, rectify = hp[0], hp[1], hp[2], hp[3], hp[4], hp[5], hp[6]
    m, s_t, s_max = s[0], s[1], s[2]
    bc1, sqrt_bc2, r, rectified = c[0], c[1], c[2], c[3]
    if wd != 0.0:
        if decoupled != 0.0:
            x = x * (1.0 - wd * lr)
        else:
            g = fma(wd, x, g)
    m = lerp(m, g, 1.0 - b1)                          # b1 m + (1 - b1) g
    r_g = g - m                                       # the "belief" residual, with the NEW m
    s_t = fma((1.0 - b2) * r_g, r_g, b2 * s_t) + eps  # b2 s + (1 - b2)(g - m)^2 + eps, eps kept in s
    if amsgrad != 0.0:
        s_max = max(s_max, s_t)
        s_use = s_max
    else:
        s_use = s_t
    step = lr * r / bc1
    if rectify == 0.0:
        x = x + (-step * m) / (math.sqrt(s_use) / sqrt_bc2 + eps)   # eps again, outside the root
    elif rectified != 0.0:
        x = x + (-step * m) / (math.sqrt(s_use) + eps)             # 1/sqrt(bc2) sits inside r
    elif step > 0.0:
        x = fma(-step, m, x)                                        # early steps: SGD with momentum
    return x, (m, s_t, s_max, s[3])


# ----------------------------------------------------------------------------- diffGrad
# Its per-step scalars are Adam's bias corrections: the engine runs it with adam_prep.
@njit(**JIT)
def diffgrad_step(x, g, s, t, lr, gnorm, f, hp, c):
    b1, b2, eps, wd, decoupled, v_eps = hp[0], hp[1], hp[2], hp[3], hp[4], hp[5]
    m, v, g_prev = s[0], s[1], s[2]
    bc1, sqrt_bc2 = c[0], c[1]
    if wd != 0.0:
        if decoupled != 0.0:
            x = x * (1.0 - wd * lr)
        else:
            g = fma(wd, x, g)                 # coupled L2 (reference); g_prev keeps it too
    m = lerp(m, g, 1.0 - b1)
    v = fma((1.0 - b2) * g, g, b2 * v)
    xi = 1.0 / (1.0 + math.exp(-abs(g_prev - g)))   # friction AbsSig(g_{t-1} - g_t), in [1/2, 1)
    denom = math.sqrt(v + v_eps) + eps                # eps not bias-corrected: the "efficient" form
    x = x + (-(lr * sqrt_bc2 / bc1) * (xi * m)) / denom
    return x, (m, v, g, s[3])


# ----------------------------------------------------------------------------- Adan
@njit(**JIT)
def adan_prep(t, hp, acc):
    every = hp[6]
    if every > 0.0:
        t = t - every * math.floor((t - 1.0) / every)   # the step counter restarts at 1
    if t == 1.0:
        for q in range(0, 6, 2):
            acc[q] = 1.0
            acc[q + 1] = 0.0
    b1_t = power_step(acc, 0, hp[0])
    b2_t = power_step(acc, 2, hp[1])
    b3_t = power_step(acc, 4, hp[2])
    return (1.0 - b1_t, 1.0 - b2_t, math.sqrt(1.0 - b3_t), 1.0 if t == 1.0 else 0.0)


@njit(**JIT)
def adan_step(x, g, s, t, lr, gnorm, f, hp, c):
    b1, b2, b3, eps, wd, prox = hp[0], hp[1], hp[2], hp[3], hp[4], hp[5]
    m, v, n, g_prev = s[0], s[1], s[2], s[3]
    bc1, bc2, sqrt_bc3, fresh = c[0], c[1], c[2], c[3]
    if fresh != 0.0:
        m, v, n, g_prev = 0.0, 0.0, 0.0, g    # first step (or a restart): the first difference is 0
    d = g - g_prev
    m = lerp(m, g, 1.0 - b1)                  # b1 m + (1 - b1) g
    v = lerp(v, d, 1.0 - b2)                  # b2 v + (1 - b2)(g - g_prev)
    u = d * b2 + g                            # Nesterov-corrected gradient g + b2 (g - g_prev)
    n = fma((1.0 - b3) * u, u, b3 * n)        # b3 n + (1 - b3) u^2
    denom = math.sqrt(n) / sqrt_bc3 + eps
    if wd != 0.0 and prox == 0.0:
        x = x * (1.0 - lr * wd)
    x = x + (-(lr / bc1) * m) / denom
    x = x + (-(lr * b2 / bc2) * v) / denom
    if wd != 0.0 and prox != 0.0:
        x = x / (1.0 + lr * wd)               # proximal step of (wd/2)|x|^2
    return x, (m, v, n, g)


# ----------------------------------------------------------------------------- EXAdam
@njit(**JIT)
def exadam_prep(t, hp, acc):
    b1_t = power_step(acc, 0, hp[0])
    b2_t = power_step(acc, 2, hp[1])
    # Paper v1's dynamic step alpha_t = lr ln(sqrt(2) sqrt(t + 1)), as the old reference computes it.
    a = math.log(math.sqrt(t + 1.0) * math.sqrt(2.0)) if hp[4] != 0.0 else 1.0
    return (1.0 - b1_t, 1.0 - b2_t, a, 0.0)


@njit(**JIT)
def exadam_step(x, g, s, t, lr, gnorm, f, hp, c):
    b1, b2, eps, wd = hp[0], hp[1], hp[2], hp[3]
    m, v = s[0], s[1]
    bc1, bc2, a = c[0], c[1], c[2]
    if wd != 0.0:
        x = x * (1.0 - wd * lr)                       # decoupled, before the moments
    m = lerp(m, g, 1.0 - b1)
    v = fma((1.0 - b2) * g, g, b2 * v)
    # beta^t enters as 1 - bc (pytorch-optimizer's rounding; the same number up to an ulp).
    d1 = (v / (v + eps)) * (1.0 - bc2) + 1.0          # 1 + b2^t v / (v + eps)
    d2 = ((m * m) / (m * m + eps)) * (1.0 - bc1) + 1.0    # 1 + b1^t m^2 / (m^2 + eps)
    m_tilde = (m / bc1) * d1
    g_tilde = d1 * (g / bc1)                          # the "gradient acceleration" term
    v_tilde = d2 * (v / bc2)
    x = fma(-(lr * a), (m_tilde + g_tilde) / (math.sqrt(v_tilde) + eps), x)
    return x, (m, v, s[2], s[3])


# ----------------------------------------------------------------------------- Lion-K
K_L1, K_QUADRATIC, K_HUBER, K_TANH = 0, 1, 2, 3


@njit(**JIT)
def lion_k_step(x, g, s, t, lr, gnorm, f, hp, c):
    b1, b2, wd, K, delta = hp[0], hp[1], hp[2], hp[3], hp[4]
    m = s[0]
    if wd != 0.0:
        x = x * (1.0 - wd * lr)
    z = lerp(m, g, 1.0 - b1)                 # b1 m + (1 - b1) g, with the OLD momentum
    if K == K_L1:
        u = sign(z)                          # grad |z|_1: Lion
    elif K == K_QUADRATIC:
        u = z                                # grad |z|^2 / 2: the identity
    elif K == K_TANH:
        u = math.tanh(z / delta)             # grad of delta log cosh(z / delta): a smooth sign
    else:
        u = min(max(z / delta, -1.0), 1.0)   # grad of huber_delta(z) / delta: clip(z / delta, -1, 1)
    m = lerp(m, g, 1.0 - b2)
    return x - lr * u, (m, s[1], s[2], s[3])


# ----------------------------------------------------------------------------- loss-adaptive GD
@njit(**JIT)
def loss_adaptive_gd_step(x, g, s, t, lr, gnorm, f, hp, c):
    if f > 0.0 and f < math.inf:             # eta / f needs a positive finite loss
        x = x - (lr / f) * g
    return x, s


# ============================================================================= public side

@dataclass(frozen=True, eq=False)
class Rule:
    """An update rule with its hyperparameters: what ``lk.run`` and ``lk.sweep`` take.

    ``hyperparameters`` holds the public values (``lr``, ``b1``, ...); ``hp`` is the
    engine's float vector and ``state0`` the initial value of each state slot.
    """

    name: str
    kind: int
    hyperparameters: dict
    hp: tuple = field(repr=False)
    state0: tuple = field(default=(0.0, 0.0, 0.0, 0.0), repr=False)
    reference: str = field(default="", repr=False)
    #: Whole-vector rules (Muon, AdamP, Sophia, ...): the name of their step in labkit.vrules,
    #: and what they need from the problem each step ("hessian", "sigmoid_weight" or "").
    vstep: str = field(default="", repr=False)
    needs: str = field(default="", repr=False)

    @property
    def vector(self) -> bool:
        return bool(self.vstep)

    @property
    def lr(self) -> float:
        return self.hyperparameters["lr"]

    @property
    def label(self) -> str:
        """Short name for legends: the rule and the hyperparameters that differ from its defaults."""
        import inspect
        defaults = {k: v.default for k, v in inspect.signature(registry[self.name]).parameters.items()}
        shown = [f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.hyperparameters.items()
                 if k == "lr" or defaults.get(k) != v]
        return f"{self.name}({', '.join(shown)})"

    def replace(self, **hyperparameters) -> "Rule":
        """The same rule with some hyperparameters changed (validated again)."""
        for key in hyperparameters:
            if key not in self.hyperparameters:
                raise unknown_name(f"hyperparameter of {self.name}:", key, self.hyperparameters)
        return registry[self.name](**{**self.hyperparameters, **hyperparameters})

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters.items())
        return f"{self.name}({args})"


def _num(name, value, lo=None, hi=None, lo_open=False, hi_open=False):
    """Validate one float hyperparameter; the error names it and its allowed range."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    lo_ok = lo is None or (v > lo if lo_open else v >= lo)
    hi_ok = hi is None or (v < hi if hi_open else v <= hi)
    if not (math.isfinite(v) and lo_ok and hi_ok):
        lb = "(-inf" if lo is None else ("(" if lo_open else "[") + f"{lo:g}"
        ub = "inf)" if hi is None else f"{hi:g}" + (")" if hi_open else "]")
        raise ValueError(f"{name} must be a finite number in {lb}, {ub}, got {value!r}")
    return v


def _lr(value):
    return _num("lr", value, 0.0, None, lo_open=True)


def _beta(name, value):
    return _num(name, value, 0.0, 1.0, hi_open=True)


def _flag(name, value):
    if not isinstance(value, (bool, np.bool_, int)) or value not in (0, 1):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


#: Upper bound of the integer hyperparameters that count an inner loop run on every step (Muon's
#: and SWAN's Newton-Schulz ``ns_steps``, SinkGD's ``iterations``): the iterations converge in
#: 5-20, and a typo such as ``ns_steps=10**12`` would otherwise hang the kernel, uninterruptibly.
MAX_INNER_ITERATIONS = 1000


def _inner(name, value):
    return check_int(name, value, 1, MAX_INNER_ITERATIONS)


def _rule(name, kind, public, engine, state0=(0.0, 0.0, 0.0, 0.0), reference="", vstep="", needs=""):
    hp = tuple(float(v) for v in engine) + (0.0,) * (NHP - len(engine))
    return Rule(name, kind, public, hp, tuple(float(v) for v in state0), reference, vstep, needs)


_TORCH = "PyTorch 2.13 torch.optim"


def sgd(lr=1e-3, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0) -> Rule:
    r"""Stochastic gradient descent with heavy-ball or Nesterov momentum (torch.optim.SGD).

    .. math::
        g_t &\leftarrow \nabla f(x_{t-1}) + \lambda x_{t-1} \\
        b_1 &= g_1, \qquad b_t = \mu b_{t-1} + (1-\tau) g_t \\
        x_t &= x_{t-1} - \eta\,(g_t + \mu b_t \text{ if nesterov else } b_t)

    With ``momentum=0`` this is plain GD, :math:`x_t = x_{t-1} - \eta g_t`.  Defaults
    ``lr=1e-3, momentum=0, dampening=0, nesterov=False, weight_decay=0``.  Nesterov needs
    ``momentum > 0`` and ``dampening = 0``.  Note the buffer starts at :math:`g_1`, and
    this is Sutskever et al.'s Nesterov form only after a change of variables.

    References: B. T. Polyak, USSR Comput. Math. & Math. Phys. 4(5), 1964 (heavy ball);
    Y. Nesterov, Soviet Math. Dokl. 27, 1983; I. Sutskever et al., ICML 2013; PyTorch ``torch.optim.SGD``.
    """
    lr = _lr(lr)
    mu = _beta("momentum", momentum)
    tau = _num("dampening", dampening, 0.0, 1.0)
    nesterov = _flag("nesterov", nesterov)
    wd = _num("weight_decay", weight_decay, 0.0)
    if nesterov and (mu == 0.0 or tau != 0.0):
        raise ValueError("nesterov=True requires momentum > 0 and dampening = 0")
    return _rule("sgd", SGD, dict(lr=lr, momentum=mu, dampening=tau, nesterov=nesterov, weight_decay=wd),
                 (mu, tau, nesterov, wd), reference=f"Polyak 1964; Nesterov 1983; {_TORCH}.SGD")


def adam(lr=1e-3, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False) -> Rule:
    r"""Adam (torch.optim.Adam), optionally AMSGrad.

    .. math::
        g_t &\leftarrow \nabla f(x_{t-1}) + \lambda x_{t-1} \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        x_t &= x_{t-1} - \frac{\eta}{1-\beta_1^t}\,
               \frac{m_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}

    AMSGrad replaces :math:`v_t` by :math:`\max_{s\le t} v_s` (torch takes the max of the
    raw :math:`v`, then bias-corrects; Reddi et al. have no bias correction).  ``eps`` is
    added to the bias-corrected :math:`\sqrt{\hat v}` (Kingma & Ba, Algorithm 1), not the
    "efficient" form of their §2.  Defaults ``lr=1e-3, b1=0.9, b2=0.999, eps=1e-8,
    weight_decay=0`` (coupled L2, i.e. added to the gradient).

    References: D. P. Kingma, J. Ba, 'Adam: A Method for Stochastic Optimization', ICLR 2015;
    S. J. Reddi, S. Kale, S. Kumar, 'On the Convergence of Adam and Beyond', ICLR 2018.
    """
    return _adam_family("adam", lr, b1, b2, eps, weight_decay, amsgrad, decoupled=False)


def adamw(lr=1e-3, b1=0.9, b2=0.999, eps=1e-8, weight_decay=1e-2, amsgrad=False) -> Rule:
    r"""AdamW: Adam with decoupled weight decay (torch.optim.AdamW).

    .. math::
        x &\leftarrow x_{t-1}(1 - \eta\lambda) \\
        x_t &= x - \frac{\eta}{1-\beta_1^t}\,\frac{m_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}

    with :math:`m_t, v_t` as in Adam on the raw gradient.  Defaults as Adam but
    ``weight_decay=1e-2``.  torch multiplies :math:`\lambda` by the learning rate, so
    :math:`\lambda_{torch} = \lambda_{paper}/\alpha` in Loshchilov & Hutter's notation.

    References: I. Loshchilov, F. Hutter, 'Decoupled Weight Decay Regularization', ICLR 2019;
    Adam: D. P. Kingma, J. Ba, ICLR 2015.
    """
    return _adam_family("adamw", lr, b1, b2, eps, weight_decay, amsgrad, decoupled=True)


def _adam_family(name, lr, b1, b2, eps, weight_decay, amsgrad, decoupled):
    lr, b1, b2 = _lr(lr), _beta("b1", b1), _beta("b2", b2)
    eps = _num("eps", eps, 0.0)
    wd = _num("weight_decay", weight_decay, 0.0)
    amsgrad = _flag("amsgrad", amsgrad)
    ref = "Kingma & Ba, ICLR 2015" + ("; Loshchilov & Hutter, ICLR 2019" if decoupled else "")
    return _rule(name, ADAM, dict(lr=lr, b1=b1, b2=b2, eps=eps, weight_decay=wd, amsgrad=amsgrad),
                 (b1, b2, eps, wd, amsgrad, decoupled), reference=f"{ref}; {_TORCH}.{'AdamW' if decoupled else 'Adam'}")


def adagrad(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10) -> Rule:
    r"""AdaGrad (torch.optim.Adagrad).

    .. math::
        G_t = G_{t-1} + g_t^2, \qquad
        x_t = x_{t-1} - \frac{\eta}{1 + (t-1)\,\mathrm{lr\_decay}}\,\frac{g_t}{\sqrt{G_t} + \epsilon}

    with :math:`G_0` = ``initial_accumulator_value`` and :math:`g_t` including coupled
    weight decay.  ``eps`` sits outside the root, as Duchi et al.'s :math:`\delta + \sqrt{G}`.
    Defaults ``lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10``.

    Reference: J. Duchi, E. Hazan, Y. Singer, 'Adaptive Subgradient Methods for Online
    Learning and Stochastic Optimization', JMLR 12, 2011.
    """
    lr = _lr(lr)
    decay = _num("lr_decay", lr_decay, 0.0)
    wd = _num("weight_decay", weight_decay, 0.0)
    acc0 = _num("initial_accumulator_value", initial_accumulator_value, 0.0)
    eps = _num("eps", eps, 0.0)
    return _rule("adagrad", ADAGRAD, dict(lr=lr, lr_decay=decay, weight_decay=wd,
                                          initial_accumulator_value=acc0, eps=eps),
                 (decay, wd, acc0, eps), state0=(acc0, 0.0, 0.0, 0.0),
                 reference=f"Duchi, Hazan & Singer, JMLR 2011; {_TORCH}.Adagrad")


def rmsprop(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False) -> Rule:
    r"""RMSprop (torch.optim.RMSprop), optionally centred and with momentum.

    .. math::
        v_t &= \alpha v_{t-1} + (1-\alpha) g_t^2, \qquad
        \bar g_t = \alpha \bar g_{t-1} + (1-\alpha) g_t \ \text{(centred)} \\
        d_t &= \sqrt{v_t - \bar g_t^2} + \epsilon \ \text{(centred) or } \sqrt{v_t} + \epsilon \\
        b_t &= \mu b_{t-1} + g_t/d_t \ (b_0 = 0), \qquad x_t = x_{t-1} - \eta b_t
        \quad (\text{or } x_{t-1} - \eta g_t/d_t \text{ if } \mu = 0)

    No bias correction.  Defaults ``lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0,
    momentum=0, centered=False``.  TF/Keras put eps inside the root; this is torch's form.

    References: T. Tieleman, G. Hinton, COURSERA Neural Networks lecture 6.5, 2012;
    A. Graves, 'Generating Sequences With Recurrent Neural Networks', arXiv:1308.0850 (centred).
    """
    lr = _lr(lr)
    alpha = _beta("alpha", alpha)
    eps = _num("eps", eps, 0.0)
    wd = _num("weight_decay", weight_decay, 0.0)
    mu = _beta("momentum", momentum)
    centered = _flag("centered", centered)
    return _rule("rmsprop", RMSPROP, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=wd, momentum=mu,
                                          centered=centered),
                 (alpha, eps, wd, mu, centered), reference=f"Tieleman & Hinton 2012; Graves 2013; {_TORCH}.RMSprop")


def sign_sgd(lr=1e-3, weight_decay=0.0) -> Rule:
    r"""signSGD: :math:`x_t = x_{t-1} - \eta\,\mathrm{sign}(g_t)`, with :math:`\mathrm{sign}(0) = 0`.

    Every coordinate moves by exactly :math:`\pm\eta` (or not at all), so iterates live on
    a lattice and, at a constant step, end up oscillating within about :math:`\eta` of the
    minimiser.  Optional decoupled weight decay :math:`x \leftarrow x(1 - \eta\lambda)`
    first (pytorch-optimizer's default).  Defaults ``lr=1e-3, weight_decay=0``.

    Reference: J. Bernstein, Y.-X. Wang, K. Azizzadenesheli, A. Anandkumar, 'signSGD:
    Compressed Optimisation for Non-Convex Problems', ICML 2018 (Algorithm 1);
    pytorch-optimizer ``SignSGD(momentum=0)``.
    """
    return _sign_family("sign_sgd", lr, 0.0, weight_decay)


def signum(lr=1e-3, momentum=0.9, weight_decay=0.0) -> Rule:
    r"""Signum, sign of momentum: :math:`m_t = \beta m_{t-1} + (1-\beta) g_t`, :math:`x_t = x_{t-1} - \eta\,\mathrm{sign}(m_t)`.

    :math:`m_0 = 0`.  Since :math:`1-\beta > 0` does not change a sign, this equals the
    form :math:`m_t = \beta m_{t-1} + g_t`.  ``momentum=0`` is signSGD.  Defaults
    ``lr=1e-3, momentum=0.9, weight_decay=0`` (decoupled).

    Reference: Bernstein et al., ICML 2018 (Algorithm 2); pytorch-optimizer ``SignSGD``.
    """
    return _sign_family("signum", lr, momentum, weight_decay)


def _sign_family(name, lr, momentum, weight_decay):
    lr = _lr(lr)
    mu = _beta("momentum", momentum)
    wd = _num("weight_decay", weight_decay, 0.0)
    public = dict(lr=lr, weight_decay=wd) if name == "sign_sgd" else dict(lr=lr, momentum=mu, weight_decay=wd)
    return _rule(name, SIGN, public, (mu, wd), reference="Bernstein et al., ICML 2018; pytorch-optimizer 4.1.0 SignSGD")


def lion(lr=1e-4, b1=0.9, b2=0.99, weight_decay=0.0) -> Rule:
    r"""Lion, EvoLved Sign Momentum.

    .. math::
        x &\leftarrow x_{t-1}(1 - \eta\lambda) \\
        x_t &= x - \eta\,\mathrm{sign}\big(\beta_1 m_{t-1} + (1-\beta_1) g_t\big) \\
        m_t &= \beta_2 m_{t-1} + (1-\beta_2) g_t

    With weight decay :math:`\lambda > 0` the iterates enter and stay in the box
    :math:`\|x\|_\infty \le 1/\lambda` (Chen, Liu, Liang, Liu 2023).  Defaults
    ``lr=1e-4, b1=0.9, b2=0.99, weight_decay=0``; the authors advise lr 3-10x smaller
    and weight decay 3-10x larger than AdamW's.

    Reference: X. Chen et al., 'Symbolic Discovery of Optimization Algorithms', NeurIPS
    2023 (google/automl lion_pytorch.py); pytorch-optimizer ``Lion``.
    """
    lr, b1, b2 = _lr(lr), _beta("b1", b1), _beta("b2", b2)
    wd = _num("weight_decay", weight_decay, 0.0)
    return _rule("lion", LION, dict(lr=lr, b1=b1, b2=b2, weight_decay=wd), (b1, b2, wd),
                 reference="Chen et al., NeurIPS 2023; pytorch-optimizer 4.1.0 Lion")


def normalized_gd(lr=1e-3) -> Rule:
    r"""Normalised gradient descent: :math:`x_t = x_{t-1} - \eta\, g_t / \|g_t\|_2` (no step where :math:`g_t = 0`).

    Every step has length exactly :math:`\eta`, so at a constant step it cannot converge
    closer than about :math:`\eta/2`; it needs a decaying step, and in exchange it is blind
    to the gradient's scale (no divergence on steep walls, no stall on plateaus).
    Default ``lr=1e-3``.

    References: N. Z. Shor, Minimization Methods for Non-Differentiable Functions, 1985;
    Y. Nesterov, 'Minimization methods for nonsmooth convex and quasiconvex functions',
    Matekon 29, 1984; E. Hazan, K. Levy, S. Shalev-Shwartz, NeurIPS 2015.
    """
    return _rule("normalized_gd", NORMALIZED_GD, dict(lr=_lr(lr)), (),
                 reference="Shor 1985; Nesterov 1984; Hazan, Levy & Shalev-Shwartz 2015")


_PO = "pytorch-optimizer 4.1.0"


def adabelief(lr=1e-3, b1=0.9, b2=0.999, eps=1e-16, weight_decay=0.0, amsgrad=False, decoupled=True,
              rectify=True, degenerated_to_sgd=True) -> Rule:
    r"""AdaBelief: Adam with the variance of the gradient around its EMA (the "belief") in the denominator.

    .. math::
        x &\leftarrow x_{t-1}(1 - \eta\lambda) \ \text{(decoupled) or } g_t \leftarrow g_t + \lambda x_{t-1} \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t \\
        s_t &= \beta_2 s_{t-1} + (1-\beta_2)(g_t - m_t)^2 + \epsilon \\
        x_t &= x - \frac{\eta}{1-\beta_1^t}\,\frac{m_t}{\sqrt{s_t}/\sqrt{1-\beta_2^t} + \epsilon}
        \quad \text{(rectify=False)}

    With ``rectify=True`` (RAdam's rectification, Liu et al. 2020): with
    :math:`\rho_\infty = 2/(1-\beta_2) - 1` and
    :math:`\rho_t = \rho_\infty - 2t\beta_2^t/(1-\beta_2^t)`, once :math:`\rho_t \ge 5`

    .. math::
        x_t = x - \frac{\eta\, r_t}{1-\beta_1^t}\,\frac{m_t}{\sqrt{s_t} + \epsilon}, \qquad
        r_t = \sqrt{\frac{(1-\beta_2^t)(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}}

    and before that :math:`x_t = x - \eta\, m_t/(1-\beta_1^t)` (``degenerated_to_sgd``) or
    no step.  ``eps`` enters twice: added to :math:`s` every step (so it accumulates, to
    :math:`\epsilon/(1-\beta_2)` at steady state) and again outside the root.  ``amsgrad``
    uses :math:`\max_{r\le t} s_r`.

    Defaults are the reference implementation's (adabelief-pytorch >= 0.1.0):
    ``lr=1e-3, b1=0.9, b2=0.999, eps=1e-16, weight_decay=0, amsgrad=False,
    decoupled=True, rectify=True, degenerated_to_sgd=True``.  Deviations: pytorch-optimizer's
    ``AdaBelief`` defaults to ``rectify=False`` (pass ``rectify=False`` to match it); the
    paper's algorithm is the non-rectified update; the reference's v0.0.5 defaults were
    ``eps=1e-8, weight_decouple=False, rectify=False``.  Roundings follow
    pytorch-optimizer operation by operation (see ``tests/test_oracles_paper.py``).

    Reference: J. Zhuang, T. Tang, Y. Ding, S. Tatikonda, N. Dvornek, X. Papademetris,
    J. S. Duncan, 'AdaBelief Optimizer: Adapting Stepsizes by the Belief in Observed
    Gradients', NeurIPS 2020 (juntang-zhuang/Adabelief-Optimizer); rectification from
    L. Liu et al., 'On the Variance of the Adaptive Learning Rate and Beyond', ICLR 2020.
    """
    lr, b1, b2 = _lr(lr), _beta("b1", b1), _beta("b2", b2)
    eps = _num("eps", eps, 0.0)
    wd = _num("weight_decay", weight_decay, 0.0)
    amsgrad, decoupled = _flag("amsgrad", amsgrad), _flag("decoupled", decoupled)
    rectify, degenerated = _flag("rectify", rectify), _flag("degenerated_to_sgd", degenerated_to_sgd)
    return _rule("adabelief", ADABELIEF,
                 dict(lr=lr, b1=b1, b2=b2, eps=eps, weight_decay=wd, amsgrad=amsgrad, decoupled=decoupled,
                      rectify=rectify, degenerated_to_sgd=degenerated),
                 (b1, b2, eps, wd, amsgrad, decoupled, rectify, degenerated),
                 reference=f"Zhuang et al., NeurIPS 2020; Liu et al., ICLR 2020; {_PO} AdaBelief")


def diffgrad(lr=1e-3, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False, v_eps=0.0) -> Rule:
    r"""diffGrad: Adam whose step is damped by a friction coefficient of the gradient's change.

    .. math::
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        \xi_t &= \mathrm{AbsSig}(g_{t-1} - g_t) = \frac{1}{1 + e^{-|g_{t-1} - g_t|}} \in [\tfrac12, 1),
        \qquad g_0 = 0 \\
        x_t &= x_{t-1} - \frac{\eta\sqrt{1-\beta_2^t}}{1-\beta_1^t}\,
               \frac{\xi_t\, m_t}{\sqrt{v_t + \epsilon_v} + \epsilon}

    The previous gradient is a state slot (it includes coupled weight decay, as in the
    reference).  ``eps`` is not bias-corrected (the "efficient" form of Kingma & Ba §2),
    as in both reference versions; the paper's eq. 20 adds it to :math:`\sqrt{\hat v_t}`.
    Defaults ``lr=1e-3, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0, decoupled=False
    (coupled L2), v_eps=0`` follow the reference ``diffGrad_v2.py``.  Deviations:
    pytorch-optimizer's ``DiffGrad`` adds ``v_eps=1e-15`` inside the root and defaults to
    decoupled weight decay (``decoupled=True, v_eps=1e-15`` matches it to the last bit).  The
    original ``diffGrad.py`` (the paper's results) keeps the previous gradient by
    reference, so with in-place gradients :math:`\xi \equiv 1/2`: Adam at half the step;
    this is the v2 semantics.

    Reference: S. R. Dubey, S. Chakraborty, S. K. Roy, S. Mukherjee, S. K. Singh,
    B. B. Chaudhuri, 'diffGrad: An Optimization Method for Convolutional Neural Networks',
    IEEE TNNLS 31(11), 2020 (arXiv:1909.11015; shivram1987/diffGrad).
    """
    lr, b1, b2 = _lr(lr), _beta("b1", b1), _beta("b2", b2)
    eps = _num("eps", eps, 0.0)
    wd = _num("weight_decay", weight_decay, 0.0)
    decoupled = _flag("decoupled", decoupled)
    v_eps = _num("v_eps", v_eps, 0.0)
    return _rule("diffgrad", DIFFGRAD,
                 dict(lr=lr, b1=b1, b2=b2, eps=eps, weight_decay=wd, decoupled=decoupled, v_eps=v_eps),
                 (b1, b2, eps, wd, decoupled, v_eps),
                 reference=f"Dubey et al., IEEE TNNLS 2020; {_PO} DiffGrad")


def adan(lr=1e-3, b1=0.98, b2=0.92, b3=0.99, eps=1e-8, weight_decay=0.0, prox=True, restart_every=0) -> Rule:
    r"""Adan: adaptive Nesterov momentum, with moments of the gradient and of its change.

    .. math::
        d_t &= g_t - g_{t-1} \quad (g_0 := g_1, \text{ so } d_1 = 0) \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) d_t \\
        n_t &= \beta_3 n_{t-1} + (1-\beta_3)(g_t + \beta_2 d_t)^2, \qquad
        D_t = \sqrt{n_t}/\sqrt{1-\beta_3^t} + \epsilon \\
        y &= x_{t-1} - \frac{\eta}{1-\beta_1^t}\frac{m_t}{D_t}
               - \frac{\eta\beta_2}{1-\beta_2^t}\frac{v_t}{D_t}, \qquad
        x_t = \frac{y}{1 + \eta\lambda}

    ``prox=False`` replaces the proximal division by decoupled decay
    :math:`x_{t-1}(1-\eta\lambda)` before the step.  ``restart_every=k > 0`` restarts every
    k steps as the reference's ``restart_opt()`` does: moments to 0, the step counter (so the
    bias corrections) back to 1, :math:`g_{t-1} := g_t`.

    The betas are the **code's**, :math:`\beta_{code} = 1 - \beta_{paper}`: the defaults
    ``b1=0.98, b2=0.92, b3=0.99`` are the paper's (0.02, 0.08, 0.01).  Defaults
    ``lr=1e-3, eps=1e-8, weight_decay=0, prox=True, restart_every=0`` are the reference's
    (sail-sg/Adan, ``no_prox=False``) and pytorch-optimizer's (``weight_decouple=False``).
    Deviations of the code (followed here) from the paper's Algorithm 1: eps is added after
    the root (the paper has :math:`\sqrt{n_t + \epsilon}`); the moments start at 0 and are
    bias-corrected, which the paper's algorithm is not.  No gradient clipping (the
    reference's ``max_grad_norm=0``).  Roundings follow pytorch-optimizer.

    Reference: X. Xie, P. Zhou, H. Li, Z. Lin, S. Yan, 'Adan: Adaptive Nesterov Momentum
    Algorithm for Faster Optimizing Deep Models', IEEE TPAMI 2024 (arXiv:2208.06677; sail-sg/Adan).
    """
    lr, b1, b2, b3 = _lr(lr), _beta("b1", b1), _beta("b2", b2), _beta("b3", b3)
    eps = _num("eps", eps, 0.0)
    wd = _num("weight_decay", weight_decay, 0.0)
    prox = _flag("prox", prox)
    if isinstance(restart_every, bool) or not isinstance(restart_every, (int, np.integer)) or restart_every < 0:
        raise ValueError(f"restart_every must be an integer >= 0 (0: never), got {restart_every!r}")
    every = int(restart_every)
    return _rule("adan", ADAN,
                 dict(lr=lr, b1=b1, b2=b2, b3=b3, eps=eps, weight_decay=wd, prox=prox, restart_every=every),
                 (b1, b2, b3, eps, wd, prox, every),
                 reference=f"Xie et al., arXiv:2208.06677 (TPAMI 2024); {_PO} Adan")


def exadam(lr=1e-3, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.0, dynamic_step=False) -> Rule:
    r"""EXAdam: Adam with cross-moment debiasing and a gradient-acceleration term.

    .. math::
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        d_1 &= 1 + \beta_2^t\,\frac{v_t}{v_t + \epsilon}, \qquad
        d_2 = 1 + \beta_1^t\,\frac{m_t^2}{m_t^2 + \epsilon} \\
        \tilde m_t &= \frac{m_t}{1-\beta_1^t} d_1, \qquad
        \tilde g_t = \frac{g_t}{1-\beta_1^t} d_1, \qquad
        \tilde v_t = \frac{v_t}{1-\beta_2^t} d_2 \\
        x_t &= x - \alpha_t\,\frac{\tilde m_t + \tilde g_t}{\sqrt{\tilde v_t} + \epsilon},
        \qquad x = x_{t-1}(1 - \eta\lambda)

    with :math:`\alpha_t = \eta`, or :math:`\alpha_t = \eta\ln(\sqrt2\sqrt{t+1})` with
    ``dynamic_step=True`` (paper v1 and the old reference code; :math:`\alpha_1 = \eta\ln 2`).
    :math:`\tilde g_t` is divided by :math:`1-\beta_1^t`, so early steps are large: on
    :math:`f = x^2/2` from :math:`x = 1` the first step is about :math:`16\eta` (Adam's is :math:`\eta`).

    Follows the current reference code (AhmedMostafa16/EXAdam) and pytorch-optimizer, whose
    roundings it uses (:math:`\beta^t` enters as :math:`1 - (1-\beta^t)`; the reference
    writes the decay as :math:`x - \eta\lambda x`, the same number up to an ulp).
    Defaults ``lr=1e-3, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0, dynamic_step=False``
    (the current code's and pytorch-optimizer's; arXiv v2 drops the dynamic step).

    Reference: A. M. Adly, 'EXAdam: The Power of Adaptive Cross-Moments', arXiv:2412.20302, 2024.
    """
    lr, b1, b2 = _lr(lr), _beta("b1", b1), _beta("b2", b2)
    eps = _num("eps", eps, 0.0)
    wd = _num("weight_decay", weight_decay, 0.0)
    dynamic = _flag("dynamic_step", dynamic_step)
    return _rule("exadam", EXADAM, dict(lr=lr, b1=b1, b2=b2, eps=eps, weight_decay=wd, dynamic_step=dynamic),
                 (b1, b2, eps, wd, dynamic), reference=f"Adly, arXiv:2412.20302, 2024; {_PO} EXAdam")


_LION_K = {"l1": K_L1, "quadratic": K_QUADRATIC, "huber": K_HUBER, "tanh": K_TANH}


def lion_k(lr=1e-4, b1=0.9, b2=0.99, weight_decay=0.0, K="l1", delta=1.0) -> Rule:
    r"""Lion-K: Lion with sign replaced by the gradient of a convex function K.

    .. math::
        x &\leftarrow x_{t-1}(1 - \eta\lambda) \\
        x_t &= x - \eta\,\nabla K\big(\beta_1 m_{t-1} + (1-\beta_1) g_t\big) \\
        m_t &= \beta_2 m_{t-1} + (1-\beta_2) g_t

    (the paper's :math:`m` is the negative of this one; every K here is even, so
    :math:`\nabla K` is odd and the two forms agree).  With :math:`\lambda > 0` it
    minimises :math:`f(x) + K^*(\lambda x)/\lambda`-type composite objectives
    (:math:`K^*` the convex conjugate): :math:`\lambda x` is driven into
    :math:`\mathrm{dom}\,K^*`.  Elementwise K:

    * ``"l1"``: :math:`K = \|z\|_1`, :math:`\nabla K = \mathrm{sign}`: Lion, bit for bit; the box
      :math:`\|x\|_\infty \le 1/\lambda`.
    * ``"quadratic"``: :math:`K = \tfrac12\|z\|^2`, :math:`\nabla K = \mathrm{id}`: momentum GD with
      decoupled weight decay.  Substituting :math:`\beta_1 m_{t-1} = (\beta_1/\beta_2)(m_t - (1-\beta_2) g_t)`,
      :math:`x_t = (1-\eta\lambda)x_{t-1} - \eta(\nu m_t + (1-\nu) g_t)` with :math:`\nu = \beta_1/\beta_2`:
      quasi-hyperbolic momentum (Ma & Yarats 2019); :math:`\beta_1 = \beta_2` is EMA-momentum GD
      :math:`x_t = (1-\eta\lambda)x_{t-1} - \eta m_t`.  Regulariser :math:`(\lambda/2)\|x\|^2`, no box.
    * ``"huber"``: :math:`K = \sum_i h_\delta(z_i)/\delta` with the Huber function
      :math:`h_\delta(z) = z^2/2` for :math:`|z|\le\delta`, :math:`\delta(|z| - \delta/2)` beyond, so
      :math:`\nabla K(z) = \mathrm{clip}(z/\delta, -1, 1)`.  This scaling (our convention) keeps the
      update in :math:`[-1, 1]` like sign: the same box :math:`\|x\|_\infty \le 1/\lambda`;
      :math:`\delta \to 0` is Lion, and where :math:`|z| \le \delta` it is the quadratic K with step
      :math:`\eta/\delta`.
    * ``"tanh"``: :math:`K = \sum_i \delta \log\cosh(z_i/\delta)`, :math:`\nabla K(z) = \tanh(z/\delta)`:
      a smooth sign switch (the sign lab's "smooth" next to the hard ``"l1"`` and the
      clipped-linear ``"huber"``); also in :math:`[-1, 1]`, so the same box; :math:`\delta \to 0`
      is Lion.  ``delta`` is used by ``"huber"`` and ``"tanh"``.

    * ``"l2"``: :math:`K = \|z\|_2` per parameter block, :math:`\nabla K(z) = z/\|z\|` (0 at 0):
      normalised momentum, every step exactly :math:`\eta` long (without decay); the constraint
      becomes the ball :math:`\|x\|_2 \le 1/\lambda`.  A whole-vector rule (``labkit.vrules``).

    Left out: the other non-separable K (:math:`\ell_p`, the nuclear norm, whose :math:`\nabla K`
    is Muon's polar factor).  Defaults
    ``lr=1e-4, b1=0.9, b2=0.99, weight_decay=0, K="l1", delta=1.0`` (Lion's).  The paper's table
    of example K is not verified against its text.

    Reference: L. Chen, B. Liu, K. Liang, Q. Liu, 'Lion Secretly Solves Constrained
    Optimization: As Lyapunov Predicts', ICLR 2024 (arXiv:2310.05898).
    """
    lr, b1, b2 = _lr(lr), _beta("b1", b1), _beta("b2", b2)
    wd = _num("weight_decay", weight_decay, 0.0)
    if not isinstance(K, str) or (K not in _LION_K and K != "l2"):
        raise unknown_name("K of lion_k:", K if isinstance(K, str) else repr(K), [*_LION_K, "l2"])
    delta = _num("delta", delta, 0.0, None, lo_open=True)
    if K == "l2":
        return _rule("lion_k", LION_K_L2, dict(lr=lr, b1=b1, b2=b2, weight_decay=wd, K=K, delta=delta),
                     (b1, b2, wd), reference="Chen, Liu, Liang & Liu, ICLR 2024 (arXiv:2310.05898)",
                     vstep="lion_k_l2_vstep")
    return _rule("lion_k", LION_K, dict(lr=lr, b1=b1, b2=b2, weight_decay=wd, K=K, delta=delta),
                 (b1, b2, wd, _LION_K[K], delta),
                 reference="Chen, Liu, Liang & Liu, ICLR 2024 (arXiv:2310.05898)")


def loss_adaptive_gd(lr=1.0) -> Rule:
    r"""Gradient descent with a loss-adaptive step: :math:`x_t = x_{t-1} - \frac{\eta}{f(x_{t-1})}\,\nabla f(x_{t-1})`.

    Designed for losses with :math:`\inf f = 0` that is not attained and :math:`\|\nabla f\| \lesssim f`
    (logistic regression on separable data): the step grows as the risk falls, and with large
    :math:`\eta` the risk after a burn-in of :math:`1/\gamma^2` steps is :math:`e^{-\Theta(\eta)}`
    (margin :math:`\gamma`), minimax optimal among first-order batch methods, although the
    risk may not decrease monotonically.  Where :math:`f(x) \le 0` or is not finite the rule
    takes no step.  Where the minimum :math:`f^* = 0` is attained the step :math:`\eta/f`
    blows up near the minimiser and the iterates do not converge (on :math:`f = x^2/2` the
    map is :math:`x \mapsto x - 2\eta/x`, with no fixed point); where :math:`f^* > 0` it is
    GD with step about :math:`\eta/f^*` near the minimiser, stable while
    :math:`\eta < 2f^*/L` (``diffgrad_f2``: :math:`\eta < 5.96\times10^{-6}`; above that, a
    2-cycle).  Default ``lr=1.0``.  Not Tyurin's "Normalized LR+GD", which divides by the
    mean sigmoid weight, not by :math:`f`.

    Reference: R. Zhang, J. Wu, L. Lin, P. L. Bartlett, 'Minimax Optimal Convergence of
    Gradient Descent in Logistic Regression via Large and Adaptive Stepsizes', arXiv:2504.04105, 2025.
    """
    return _rule("loss_adaptive_gd", LOSS_ADAPTIVE_GD, dict(lr=_lr(lr)), (),
                 reference="Zhang, Wu, Lin & Bartlett, arXiv:2504.04105, 2025")


_CLOVA = "clovaai/AdamP"


def adamp(lr=1e-3, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.0, delta=0.1, wd_ratio=0.1, nesterov=False,
          po_eps=False) -> Rule:
    r"""AdamP: Adam whose update loses its radial part on scale-invariant weights.

    .. math::
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        U_t &= \frac{m_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}
        \quad (\text{nesterov: } \beta_1 m_t + (1-\beta_1) g_t \text{ in the numerator}) \\
        U_t &\leftarrow U_t - \hat p\,\langle \hat p, U_t\rangle,\ \hat p = \frac{x}{\|x\|}
        \quad \text{if } \max_i \frac{|\langle g_i, x_i\rangle|}{\|g_i\|\|x_i\|} < \frac{\delta}{\sqrt{D}} \\
        x_t &= x_{t-1}(1 - \eta\lambda r) - \frac{\eta}{1-\beta_1^t} U_t

    The projection acts only on matrix blocks (``Problem.shapes``), row by row (the channel
    view, one row per output unit) and, failing the test there, on the whole block (the
    layer view); the cosine test uses the raw gradient against the weights, with ``D`` the
    row length.  When it fires the weight decay is scaled by ``r = wd_ratio`` (else 1).
    On a vector parameter AdamP is Adam with decoupled weight decay.  Defaults
    ``lr=1e-3, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0, delta=0.1, wd_ratio=0.1,
    nesterov=False`` (the reference code's).  Deviation: pytorch-optimizer divides by
    :math:`(\sqrt{v_t}+\epsilon)/\sqrt{1-\beta_2^t}`, i.e. its eps is
    :math:`\epsilon/\sqrt{1-\beta_2^t}`; ``po_eps=True`` reproduces it.  Weight decay is
    decoupled only (pytorch-optimizer's coupled mode has no effect on the step).

    Reference: B. Heo, S. Chun, S. J. Oh, D. Han, S. Yun, G. Kim, Y. Uh, J.-W. Ha, 'AdamP:
    Slowing Down the Slowdown for Momentum Optimizers on Scale-invariant Weights', ICLR 2021
    (clovaai/AdamP); pytorch-optimizer ``AdamP``.
    """
    lr, b1, b2 = _lr(lr), _beta("b1", b1), _beta("b2", b2)
    eps, wd = _num("eps", eps, 0.0), _num("weight_decay", weight_decay, 0.0)
    delta, ratio = _num("delta", delta, 0.0), _num("wd_ratio", wd_ratio, 0.0, 1.0)
    nesterov, po_eps = _flag("nesterov", nesterov), _flag("po_eps", po_eps)
    return _rule("adamp", ADAMP, dict(lr=lr, b1=b1, b2=b2, eps=eps, weight_decay=wd, delta=delta, wd_ratio=ratio,
                                      nesterov=nesterov, po_eps=po_eps),
                 (b1, b2, eps, wd, delta, ratio, nesterov, po_eps),
                 reference=f"Heo et al., ICLR 2021; {_CLOVA}; {_PO} AdamP", vstep="adamp_vstep")


def sgdp(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, eps=1e-8, delta=0.1,
         wd_ratio=0.1, project_buffer=False) -> Rule:
    r"""SGDP: SGD with momentum whose update loses its radial part on scale-invariant weights.

    .. math::
        b_t &= \mu b_{t-1} + (1-\tau) g_t \quad (b_0 = 0), \qquad
        U_t = g_t + \mu b_t \text{ (nesterov) or } b_t \\
        U_t &\leftarrow U_t - \hat p\,\langle \hat p, U_t\rangle \quad \text{(AdamP's test, see ``adamp``)} \\
        x_t &= x_{t-1}\Big(1 - \frac{\eta\lambda r}{1-\mu}\Big) - \eta U_t

    The buffer starts at 0 (torch's SGD starts it at :math:`g_1`; the two agree when
    :math:`\tau = 0`).  ``project_buffer=True`` also projects the momentum buffer, as the
    reference code does by accident when nesterov is off (it projects the buffer in place);
    the paper and pytorch-optimizer project a copy (default).  Defaults ``lr=1e-3,
    momentum=0, dampening=0, weight_decay=0, nesterov=False, eps=1e-8, delta=0.1,
    wd_ratio=0.1`` (lr as pytorch-optimizer; the reference requires one).

    Reference: B. Heo et al., 'AdamP: Slowing Down the Slowdown for Momentum Optimizers on
    Scale-invariant Weights', ICLR 2021 (clovaai/AdamP sgdp.py); pytorch-optimizer ``SGDP``.
    """
    lr, mu = _lr(lr), _beta("momentum", momentum)
    tau = _num("dampening", dampening, 0.0, 1.0)
    wd, eps = _num("weight_decay", weight_decay, 0.0), _num("eps", eps, 0.0)
    delta, ratio = _num("delta", delta, 0.0), _num("wd_ratio", wd_ratio, 0.0, 1.0)
    nesterov, proj = _flag("nesterov", nesterov), _flag("project_buffer", project_buffer)
    return _rule("sgdp", SGDP, dict(lr=lr, momentum=mu, dampening=tau, weight_decay=wd, nesterov=nesterov, eps=eps,
                                    delta=delta, wd_ratio=ratio, project_buffer=proj),
                 (mu, tau, nesterov, wd, delta, ratio, eps, proj),
                 reference=f"Heo et al., ICLR 2021; {_CLOVA}; {_PO} SGDP", vstep="sgdp_vstep")


def muon(lr=0.02, momentum=0.95, nesterov=True, ns_steps=5, weight_decay=0.0, adjusted_lr=False,
         adamw_lr=3e-4, adamw_b1=0.9, adamw_b2=0.95, adamw_eps=1e-10, adamw_weight_decay=0.0) -> Rule:
    r"""Muon: momentum orthogonalised by a Newton-Schulz iteration, on matrix parameters.

    .. math::
        b_t &= \mu b_{t-1} + (1-\mu) G_t \quad (b_0 = 0), \qquad
        U_t = (1-\mu) G_t + \mu b_t \text{ (nesterov) or } b_t \\
        O_t &= \mathrm{NS}_5(U_t) \approx \text{the polar factor } UV^\top \text{ of } U_t = U\Sigma V^\top \\
        X_t &= X_{t-1}(1 - \eta\lambda) - \eta\, s\, O_t, \qquad s = \sqrt{\max(1, \mathrm{rows}/\mathrm{cols})}

    :math:`\mathrm{NS}_5`: :math:`X \leftarrow U/\|U\|_F`, then five times
    :math:`A = XX^\top,\ X \leftarrow aX + (bA + cA^2)X` with
    :math:`(a, b, c) = (3.4445, -4.7750, 2.0315)`: the singular values land in roughly
    (0.5, 1.5), not at 1 (by design).  Here in float64 (the reference runs it in bfloat16).
    ``adjusted_lr=True`` uses Moonlight's :math:`s = 0.2\sqrt{\max(\mathrm{rows}, \mathrm{cols})}`.
    Vector parameters (``Problem.shapes``) are not orthogonalised: as in pytorch-optimizer
    they take AdamW steps with ``adamw_lr`` (scaled by the same schedule),
    ``adamw_b1/b2/eps/weight_decay``.  Defaults ``lr=0.02, momentum=0.95, nesterov=True,
    ns_steps=5, weight_decay=0`` (the reference's).  ``ns_steps`` <= ``MAX_INNER_ITERATIONS`` (1000).

    Reference: K. Jordan et al., 'Muon: An optimizer for hidden layers in neural networks',
    2024 (KellerJordan/Muon); J. Liu et al., 'Muon is Scalable for LLM Training' (Moonlight),
    arXiv:2502.16982, 2025; pytorch-optimizer ``Muon``.
    """
    lr, mu = _lr(lr), _beta("momentum", momentum)
    nesterov, adjusted = _flag("nesterov", nesterov), _flag("adjusted_lr", adjusted_lr)
    steps = _inner("ns_steps", ns_steps)
    wd = _num("weight_decay", weight_decay, 0.0)
    a_lr = _num("adamw_lr", adamw_lr, 0.0)
    a_b1, a_b2 = _beta("adamw_b1", adamw_b1), _beta("adamw_b2", adamw_b2)
    a_eps, a_wd = _num("adamw_eps", adamw_eps, 0.0), _num("adamw_weight_decay", adamw_weight_decay, 0.0)
    # The AdamW lr rides on the scheduled lr as a ratio; pick the ratio whose product with lr
    # rounds back to adamw_lr exactly, the shortest such (0.015, not 3e-4 / 0.02 = 0.01499...98).
    ratio = a_lr / lr
    exact = [c for c in (ratio, math.nextafter(ratio, math.inf), math.nextafter(ratio, -math.inf)) if lr * c == a_lr]
    ratio = min(exact, key=lambda c: len(repr(c))) if exact else ratio
    return _rule("muon", MUON, dict(lr=lr, momentum=mu, nesterov=nesterov, ns_steps=steps, weight_decay=wd,
                                    adjusted_lr=adjusted, adamw_lr=a_lr, adamw_b1=a_b1, adamw_b2=a_b2,
                                    adamw_eps=a_eps, adamw_weight_decay=a_wd),
                 (mu, nesterov, steps, wd, adjusted, 1e-7, ratio, a_b1, a_b2, a_eps, a_wd),
                 reference=f"K. Jordan et al. 2024 (KellerJordan/Muon); Liu et al. 2025; {_PO} Muon",
                 vstep="muon_vstep")


def swan(lr=1e-3, ns_steps=10, eps=1e-8) -> Rule:
    r"""SWAN: a stateless step from the gradient normalised and whitened (a reconstruction).

    .. math::
        \tilde G &= \mathrm{diag}(s)^{-1}(G - \bar g\,\mathbf 1^\top)
        \quad (\bar g, s: \text{mean and standard deviation of each row}) \\
        X_t &= X_{t-1} - \eta\, (\tilde G\tilde G^\top)^{-1/2}\tilde G

    The inverse root comes from ``ns_steps`` coupled Newton-Schulz iterations (Higham 1997);
    :math:`(\tilde G\tilde G^\top)^{-1/2}\tilde G` is the polar factor of :math:`\tilde G`.
    No state, no second moments.  Vector parameters take the normalised step
    :math:`\eta\, g/\|g\|` (the paper keeps Adam there).  **Reconstructed** from the
    paper's description; no reference code was available to check it against.
    Defaults ``lr=1e-3, ns_steps=10, eps=1e-8`` (eps floors the row standard deviation);
    ``ns_steps`` <= ``MAX_INNER_ITERATIONS`` (1000).

    Reference: C. Ma, W. Gong, M. Scetbon, E. Meeds, 'SWAN: SGD with Normalization and
    Whitening Enables Stateless LLM Training', ICML 2025 (arXiv:2412.13148).
    """
    return _rule("swan", SWAN, dict(lr=_lr(lr), ns_steps=_inner("ns_steps", ns_steps), eps=_num("eps", eps, 0.0)),
                 (int(ns_steps), float(eps)), reference="Ma, Gong, Scetbon & Meeds, ICML 2025 (arXiv:2412.13148)",
                 vstep="swan_vstep")


def sinkgd(lr=1e-3, iterations=5) -> Rule:
    r"""SinkGD: gradient multi-normalisation by Sinkhorn-like alternation (a reconstruction).

    .. math::
        X &\leftarrow G; \quad \text{repeat } L \text{ times: }
        X \leftarrow \sqrt n\,\mathrm{diag}(\|X_{i,:}\|)^{-1} X, \quad
        X \leftarrow \sqrt m\, X\,\mathrm{diag}(\|X_{:,j}\|)^{-1} \\
        W_t &= W_{t-1} - \eta X

    for an :math:`m \times n` gradient: rows to norm :math:`\sqrt n`, then columns to
    :math:`\sqrt m`, ``iterations`` = L times; O(mn) a step, stateless.  Vector parameters
    are scaled to norm :math:`\sqrt{\mathrm{len}}`.  **Reconstructed** from the paper's
    Algorithms 3-4; the constants and the default L = 5 are not checked against code.
    ``iterations`` <= ``MAX_INNER_ITERATIONS`` (1000).

    Reference: M. Scetbon, C. Ma, W. Gong, E. Meeds, 'Gradient Multi-Normalization for
    Stateless and Scalable LLM Training', NeurIPS 2025 (arXiv:2502.06742).
    """
    return _rule("sinkgd", SINKGD, dict(lr=_lr(lr), iterations=_inner("iterations", iterations)),
                 (int(iterations),), reference="Scetbon, Ma, Gong & Meeds, NeurIPS 2025 (arXiv:2502.06742)",
                 vstep="sinkgd_vstep")


def scale(lr=1e-4, beta=0.9, weight_decay=0.0, eps=1e-8) -> Rule:
    r"""SCALE: each output row of the update scaled to RMS 1, momentum on the last layer only.

    .. math::
        C(M)_{i,:} &= M_{i,:} \Big/ \sqrt{\tfrac1n \textstyle\sum_j M_{ij}^2} \\
        W^{(l)}_t &= W^{(l)}_{t-1}(1 - \eta\lambda) - \eta\, C(G^{(l)}_t) \quad (l < L) \\
        m_t &= \beta m_{t-1} + (1-\beta) G^{(L)}_t, \qquad
        W^{(L)}_t = W^{(L)}_{t-1}(1 - \eta\lambda) - \eta\, C(m_t)

    The last matrix block of ``Problem.shapes`` is the last layer; vector parameters take
    AdamW steps (0.9, 0.999, 1e-8), as in the authors' code, which this transcribes (the
    abstract says "column-wise"; for torch's (out, in) layout the code normalises each
    output row).  No second moments on matrices.  Defaults ``lr=1e-4, beta=0.9,
    weight_decay=0, eps=1e-8`` (eps floors the RMS).

    Reference: A. Glentis, J. Li, A. Han, M. Hong, 'A Minimalist Optimizer Design for LLM
    Pretraining', arXiv:2506.16659, 2025 (OptimAI-Lab/Minimalist_LLM_Pretraining).
    """
    lr, beta = _lr(lr), _beta("beta", beta)
    wd, eps = _num("weight_decay", weight_decay, 0.0), _num("eps", eps, 0.0)
    return _rule("scale", SCALE, dict(lr=lr, beta=beta, weight_decay=wd, eps=eps),
                 (beta, wd, 0.9, 0.999, 1e-8, 1.0, eps),
                 reference="Glentis, Li, Han & Hong, arXiv:2506.16659, 2025", vstep="scale_vstep")


_ESTIMATORS = ("hutchinson", "exact", "gnb")


def sophia(lr=6e-2, b1=0.96, b2=0.99, rho=1e-2, weight_decay=0.0, eps=1e-12, update_period=10,
           estimator="hutchinson", seed=0) -> Rule:
    r"""Sophia: clipped, diagonally preconditioned momentum with an occasional Hessian estimate.

    .. math::
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t \\
        h_t &= \beta_2 h_{t-k} + (1-\beta_2)\hat h_t \ \text{ if } (t-1) \bmod k = 0,
        \text{ else } h_{t-1} \\
        x_t &= x_{t-1}(1 - \eta\lambda) - \eta\,\mathrm{clip}\big(m_t/\max(h_t, \epsilon), \rho\big)

    :math:`\mathrm{clip}(z, \rho) = \max(\min(z, \rho), -\rho)` elementwise, no bias correction.
    The estimate :math:`\hat h` of :math:`\mathrm{diag}\,\nabla^2 f` (``estimator``):
    ``"hutchinson"`` :math:`u \odot (\nabla^2 f\, u)`, :math:`u \sim N(0, I)` seeded by
    (``seed``, step); ``"exact"`` the true diagonal (toy problems); ``"gnb"``
    Gauss-Newton-Bartlett, :math:`B\,\hat g \odot \hat g` with :math:`\hat g` the gradient for
    labels sampled from the model (logistic / softmax problems, ``Problem.extras``).  It is
    refreshed at steps 1, 1 + k, ... before the update, as pytorch-optimizer's SophiaH.
    This is the paper's v1 form (:math:`\rho` clips the ratio); the final form
    :math:`\mathrm{clip}(m/\max(\gamma h, \epsilon'), 1)` is the same rule with
    :math:`\eta' = \eta\rho`, :math:`\gamma = \rho`.  Negative estimates are floored at
    eps, which gives :math:`\pm\rho` (sign-like) steps.  Defaults are pytorch-optimizer
    SophiaH's: ``lr=6e-2, b1=0.96, b2=0.99, rho=1e-2, weight_decay=0, eps=1e-12,
    update_period=10``.  The authors' SophiaG code (``rho = 0.04``, ``b1 = 0.965``) writes
    the step as :math:`\mathrm{sign}(m)\min(|m|/(\rho B h + 10^{-15}), 1)` and refreshes
    after the step.

    Reference: H. Liu, Z. Li, D. Hall, P. Liang, T. Ma, 'Sophia: A Scalable Stochastic
    Second-order Optimizer for Language Model Pre-training', ICLR 2024 (arXiv:2305.14342;
    Liuhong99/Sophia); pytorch-optimizer ``SophiaH``.
    """
    lr, b1, b2 = _lr(lr), _beta("b1", b1), _beta("b2", b2)
    rho = _num("rho", rho, 0.0, None, lo_open=True)
    wd, eps = _num("weight_decay", weight_decay, 0.0), _num("eps", eps, 0.0, None, lo_open=True)
    period = check_int("update_period", update_period, 1)
    if not isinstance(estimator, str) or estimator not in _ESTIMATORS:
        raise unknown_name("estimator of sophia:", estimator, _ESTIMATORS)
    seed = check_int("seed", seed, 0)
    return _rule("sophia", SOPHIA, dict(lr=lr, b1=b1, b2=b2, rho=rho, weight_decay=wd, eps=eps,
                                        update_period=period, estimator=estimator, seed=seed),
                 (b1, b2, rho, wd, eps, period),
                 reference=f"Liu et al., ICLR 2024 (arXiv:2305.14342); {_PO} SophiaH", vstep="sophia_vstep",
                 needs="hessian")


def normalized_lr_gd(lr=1.0) -> Rule:
    r"""Normalized LR+GD (Tyurin 2024): GD on logistic regression with the step divided by the mean sigmoid weight.

    .. math::
        x_{t+1} = x_t - \gamma\,\beta_t\,\nabla f(x_t), \qquad
        \beta_t = \Big[\frac1n \sum_{i=1}^n \frac{1}{1 + e^{y_i a_i^\top x_t}}\Big]^{-1}

    for :math:`f(x) = \frac1n\sum_i \log(1 + e^{-y_i a_i^\top x})`.  As :math:`\gamma \to \infty`
    the step tends to the normalised batch perceptron :math:`\frac{1}{|S_t|}\sum_{i \in S_t} y_i a_i`;
    from :math:`x_0 = 0` it separates data of margin :math:`\mu` within
    :math:`R^2/\mu^2 + 2\log(2n-1)/(\gamma\mu^2)` iterations (Thm 6.1), where plain GD needs
    :math:`nR^2/\mu^2`.  Needs the problem's ``"sigmoid_weight"`` (``Problem.extras``;
    ``lk.problems.logistic_regression``, ``separable_logistic``, ``blobs_logistic``).
    Checked against the paper's Section 6.  Not the loss-adaptive step :math:`\eta/f`
    (``loss_adaptive_gd``).  Default ``lr=1.0``.

    Reference: A. Tyurin, 'From Logistic Regression to the Perceptron Algorithm: Exploring
    Gradient Descent with Large Step Sizes', arXiv:2412.08424, 2024 (Section 6).
    """
    return _rule("normalized_lr_gd", NORMALIZED_LR_GD, dict(lr=_lr(lr)), (),
                 reference="Tyurin, arXiv:2412.08424, 2024", vstep="normalized_lr_gd_vstep", needs="sigmoid_weight")


#: name -> constructor.
registry = {
    "sgd": sgd,
    "adam": adam,
    "adamw": adamw,
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "sign_sgd": sign_sgd,
    "signum": signum,
    "lion": lion,
    "normalized_gd": normalized_gd,
    "adabelief": adabelief,
    "diffgrad": diffgrad,
    "adan": adan,
    "exadam": exadam,
    "lion_k": lion_k,
    "loss_adaptive_gd": loss_adaptive_gd,
    "adamp": adamp,
    "sgdp": sgdp,
    "muon": muon,
    "swan": swan,
    "sinkgd": sinkgd,
    "scale": scale,
    "sophia": sophia,
    "normalized_lr_gd": normalized_lr_gd,
}


#: What each rule claims to do, checked by tests/test_registry.py: on (problem, problem
#: kwargs) with these hyperparameters, f - f_star <= tol after this many steps.  Sign and
#: normalised rules move by lr every step, so at a constant lr they only get within
#: about lr of the minimiser (a looser tol).  The tests demand 10x to spare (f - f_star <=
#: tol / 10) on the host and on a generic x86-64 build, so that another CPU's rounding or
#: BLAS kernel cannot flip a claim.
CLAIMS = {
    "sgd": [("quadratic", {"eigs": (1, 10)}, {"lr": 0.15}, 300, 1e-12),
            ("rosenbrock", {}, {"lr": 1e-3, "momentum": 0.9}, 5000, 1e-10)],
    "adam": [("quadratic", {"eigs": (1, 10)}, {"lr": 0.05}, 2000, 1e-12),
             ("rosenbrock", {}, {"lr": 0.02}, 5000, 1e-12)],
    "adamw": [("quadratic", {"eigs": (1, 10)}, {"lr": 0.05, "weight_decay": 0.0}, 2000, 1e-12),
              ("rosenbrock", {}, {"lr": 0.02, "weight_decay": 0.0}, 5000, 1e-12)],
    "adagrad": [("quadratic", {"eigs": (1, 10)}, {"lr": 0.5}, 2000, 1e-12)],
    # Without momentum RMSprop's steps near the minimiser stay about lr long (g / sqrt(v) ~ 1).
    "rmsprop": [("quadratic", {"eigs": (1, 10)}, {"lr": 1e-2}, 2000, 1e-2)],
    "sign_sgd": [("quadratic", {"eigs": (1, 10)}, {"lr": 1e-3}, 3000, 1e-4)],
    "signum": [("quadratic", {"eigs": (1, 10)}, {"lr": 1e-3}, 3000, 1e-3)],
    "lion": [("quadratic", {"eigs": (1, 10)}, {"lr": 1e-3}, 3000, 1e-4),
             ("rosenbrock", {}, {"lr": 1e-3}, 5000, 1e-4)],
    "normalized_gd": [("quadratic", {"eigs": (1, 10)}, {"lr": 1e-3}, 3000, 1e-4)],
    # Rectified AdaBelief's first steps are plain SGD steps (lr * g): from Rosenbrock's
    # start at lr = 0.02 they throw it out; the non-rectified form converges there.
    "adabelief": [("quadratic", {"eigs": (1, 10)}, {"lr": 0.05}, 2000, 1e-12),
                  ("rosenbrock", {}, {"lr": 0.02, "rectify": False}, 5000, 1e-12)],
    "diffgrad": [("quadratic", {"eigs": (1, 10)}, {"lr": 0.05}, 2000, 1e-12),
                 ("rosenbrock", {}, {"lr": 0.02}, 5000, 1e-10)],
    # Adan's n forgets fast (b3 = 0.99): near the minimiser its steps stay about lr long.
    "adan": [("quadratic", {"eigs": (1, 10)}, {"lr": 0.01}, 3000, 1e-4),
             ("rosenbrock", {}, {"lr": 0.01}, 5000, 1e-3)],
    "exadam": [("quadratic", {"eigs": (1, 10)}, {"lr": 0.01}, 2000, 1e-12),
               ("rosenbrock", {}, {"lr": 1e-3}, 5000, 1e-2)],
    "lion_k": [("quadratic", {"eigs": (1, 10)}, {"lr": 1e-3}, 3000, 1e-4),
               ("quadratic", {"eigs": (1, 10)}, {"lr": 0.1, "b2": 0.9, "K": "quadratic"}, 2000, 1e-12),
               ("rosenbrock", {}, {"lr": 1e-3, "K": "huber", "delta": 0.1}, 5000, 1e-4),
               ("quadratic", {"eigs": (1, 10)}, {"lr": 1e-3, "K": "l2"}, 3000, 1e-4)],
    # eta / f needs f_star > 0 to converge: stable while eta < 2 f_star / F2''(x_star) = 5.96e-6.
    "loss_adaptive_gd": [("diffgrad_f2", {}, {"lr": 5e-6}, 8000, 1e-12)],
    # Whole-vector rules, mostly on the matrix problems (lk.problems.softmax_regression, ...).
    "adamp": [("quadratic", {"eigs": (1, 10)}, {"lr": 0.05}, 2000, 1e-12),
              ("scale_invariant", {}, {"lr": 0.01}, 3000, 1e-12)],
    "sgdp": [("quadratic", {"eigs": (1, 10)}, {"lr": 0.15}, 300, 1e-12),
             ("scale_invariant", {}, {"lr": 0.1, "momentum": 0.9}, 3000, 1e-12)],
    # Muon, SinkGD and SCALE take steps of a fixed size per block: at a constant lr they
    # settle within about lr of the minimiser (a looser tol).
    # Where they settle inside that band depends on rounding: Muon's final f - f* on softmax
    # regression is 1e-6 or 2e-5 depending on the BLAS kernel (measured over OpenBLAS core types).
    "muon": [("softmax_regression", {}, {"lr": 0.01}, 3000, 1e-3),
             ("two_layer_linear", {}, {"lr": 0.01}, 3000, 1e-2)],
    # SWAN centres each gradient row: on softmax regression (logits shift-invariant per
    # sample, not per row) the centred step is not the gradient's direction and it stalls at
    # f - f* = 0.042; on the two-layer linear net it converges.
    "swan": [("two_layer_linear", {}, {"lr": 0.01}, 3000, 1e-2)],
    "sinkgd": [("softmax_regression", {}, {"lr": 0.01}, 3000, 1e-3)],
    "scale": [("softmax_regression", {}, {"lr": 0.01}, 3000, 1e-5)],
    "sophia": [("quadratic", {"eigs": (1, 10)}, {"estimator": "exact"}, 3000, 1e-11),
               ("rosenbrock", {}, {"estimator": "exact", "lr": 0.5, "rho": 0.1}, 5000, 1e-4),
               ("softmax_regression", {}, {"estimator": "gnb", "lr": 0.5, "rho": 0.1}, 3000, 1e-12)],
    "normalized_lr_gd": [("separable_logistic", {}, {"lr": 1.0}, 2000, 1e-12)],
}


def names():
    return sorted(registry)


def get(name: str, **hyperparameters) -> Rule:
    """A rule by name, e.g. ``get("adam", lr=0.01)``; unknown names suggest the closest."""
    if isinstance(name, Rule):
        return name.replace(**hyperparameters) if hyperparameters else name
    if not isinstance(name, str):
        raise TypeError(f"rule must be a Rule (e.g. lk.optim.adam(lr=0.01)) or the name of an optimizer "
                        f"({', '.join(sorted(registry))}), got {shown(name)}")
    if name not in registry:
        raise unknown_name("optimizer", name, registry)
    import inspect
    allowed = inspect.signature(registry[name]).parameters
    for key in hyperparameters:
        if key not in allowed:
            raise unknown_name(f"hyperparameter of {name}:", key, allowed)
    return registry[name](**hyperparameters)


def describe(name: str) -> str:
    """The rule's docstring: its update in math, defaults and reference."""
    if isinstance(name, Rule):
        name = name.name
    if name not in registry:
        raise unknown_name("optimizer", name, registry)
    import inspect
    text = f"{name}{inspect.signature(registry[name])}\n\n{inspect.getdoc(registry[name])}"
    print(text)
    return text
