r"""Update rules.

Each rule is two small ``@njit`` functions in the shape of optax's
``init``/``update`` pair, specialised for speed (``../shared/STYLE.md``):

* ``<rule>_prep(t, hp, acc) -> c`` computes the per-step scalars that depend only on
  the step ``t`` and the hyperparameters (bias corrections), once per step for a whole
  block of lanes; ``acc`` is a small per-block scratch holding running powers.
* ``<rule>_step(x, g, s, t, lr, gnorm, hp, c) -> (x, s)`` is the update of one
  coordinate, written to read like the paper's equations; ``s`` is the tuple of state
  slots (``m, v, ...``), ``lr`` the (scheduled) step size of this lane and ``gnorm`` the
  norm of this lane's whole gradient (for normalised rules).

The public constructors (``adam(lr=...)``, ...) validate hyperparameters, pack them into
the engine's float vector and return a :class:`Rule`.  Defaults are torch's (or the
reference implementation's where torch has none).  Exactness against the references is
tested in ``tests/test_oracles.py``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from ._errors import unknown_name
from ._jit import JIT, fma, lerp, power_step, sign

NHP = 8        # length of the engine's hyperparameter vector
NSLOT = 4      # state slots per coordinate

# Kernel ids for the engine's dispatch (labkit/_engine.py).
SGD, ADAM, ADAGRAD, RMSPROP, LION, SIGN, NORMALIZED_GD = range(7)


@njit(**JIT)
def no_prep(t, hp, acc):
    return (0.0, 0.0, 0.0, 0.0)


# ----------------------------------------------------------------------------- SGD
@njit(**JIT)
def sgd_step(x, g, s, t, lr, gnorm, hp, c):
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
def adam_step(x, g, s, t, lr, gnorm, hp, c):
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
def adagrad_step(x, g, s, t, lr, gnorm, hp, c):
    wd, eps = hp[1], hp[3]
    if wd != 0.0:
        g = fma(wd, x, g)
    clr = lr / c[0]                          # lr / (1 + (t - 1) lr_decay)
    G = fma(g, g, s[0])                      # G + g^2
    x = x + (-clr * g) / (math.sqrt(G) + eps)
    return x, (G, s[1], s[2], s[3])


# ----------------------------------------------------------------------------- RMSprop
@njit(**JIT)
def rmsprop_step(x, g, s, t, lr, gnorm, hp, c):
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
def lion_step(x, g, s, t, lr, gnorm, hp, c):
    b1, b2, wd = hp[0], hp[1], hp[2]
    m = s[0]
    if wd != 0.0:
        x = x * (1.0 - wd * lr)              # decoupled, applied first
    u = sign(lerp(m, g, 1.0 - b1))           # interpolate with the OLD momentum, then sign
    m = lerp(m, g, 1.0 - b2)                 # momentum update after the step, other beta
    return x - lr * u, (m, s[1], s[2], s[3])


# ----------------------------------------------------------------------------- signSGD / Signum
@njit(**JIT)
def sign_step(x, g, s, t, lr, gnorm, hp, c):
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
def normalized_gd_step(x, g, s, t, lr, gnorm, hp, c):
    if gnorm > 0.0:
        x = x - lr * (g / gnorm)
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


def _rule(name, kind, public, engine, state0=(0.0, 0.0, 0.0, 0.0), reference=""):
    hp = tuple(float(v) for v in engine) + (0.0,) * (NHP - len(engine))
    return Rule(name, kind, public, hp, tuple(float(v) for v in state0), reference)


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

    Reference: I. Loshchilov, F. Hutter, 'Decoupled Weight Decay Regularization', ICLR 2019.
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
}


#: What each rule claims to do, checked by tests/test_registry.py: on (problem, problem
#: kwargs) with these hyperparameters, f - f_star <= tol after this many steps.  Sign and
#: normalised rules move by lr every step, so at a constant lr they only get within
#: about lr of the minimiser (a looser tol).
CLAIMS = {
    "sgd": [("quadratic", {"eigs": (1, 10)}, {"lr": 0.15}, 300, 1e-12),
            ("rosenbrock", {}, {"lr": 1e-3, "momentum": 0.9}, 5000, 1e-10)],
    "adam": [("quadratic", {"eigs": (1, 10)}, {"lr": 0.05}, 2000, 1e-12),
             ("rosenbrock", {}, {"lr": 0.02}, 5000, 1e-12)],
    "adamw": [("quadratic", {"eigs": (1, 10)}, {"lr": 0.05, "weight_decay": 0.0}, 2000, 1e-12),
              ("rosenbrock", {}, {"lr": 0.02, "weight_decay": 0.0}, 5000, 1e-12)],
    "adagrad": [("quadratic", {"eigs": (1, 10)}, {"lr": 0.5}, 2000, 1e-12)],
    "rmsprop": [("quadratic", {"eigs": (1, 10)}, {"lr": 1e-2}, 2000, 1e-3)],
    "sign_sgd": [("quadratic", {"eigs": (1, 10)}, {"lr": 1e-3}, 3000, 1e-4)],
    "signum": [("quadratic", {"eigs": (1, 10)}, {"lr": 1e-3}, 3000, 1e-4)],
    "lion": [("quadratic", {"eigs": (1, 10)}, {"lr": 1e-3}, 3000, 1e-4),
             ("rosenbrock", {}, {"lr": 1e-3}, 5000, 1e-4)],
    "normalized_gd": [("quadratic", {"eigs": (1, 10)}, {"lr": 1e-3}, 3000, 1e-4)],
}


def names():
    return sorted(registry)


def get(name: str, **hyperparameters) -> Rule:
    """A rule by name, e.g. ``get("adam", lr=0.01)``; unknown names suggest the closest."""
    if isinstance(name, Rule):
        return name.replace(**hyperparameters) if hyperparameters else name
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
