"""Whole-block rules (labkit.vrules) against their oracles.

pytorch-optimizer 4.1.0 ("po") AdamP, SGDP, SophiaH and Muon; torch.optim.AdamW; NumPy
transcriptions of clovaai/AdamP (commit 146287b) and a torch transcription of SCALE's
authors' code; invariants for the rules with no reference code (SWAN, SinkGD: spec 16.6).

Each kernel is driven by a plain Python loop (no labkit engine): parameters are float64
torch tensors, the gradient comes from autograd and is flattened row-major to match
``layout``.  Trajectories are compared over 1,000 steps by the largest relative deviation
of any coordinate at any step, |ours - ref| / |ref|.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
po = pytest.importorskip("pytorch_optimizer")

import torch.nn.functional as F  # noqa: E402
from pytorch_optimizer.optimizer import adamp as po_adamp  # noqa: E402
from pytorch_optimizer.optimizer.muon import base as po_muon_base  # noqa: E402
from pytorch_optimizer.optimizer.utils.matrix import zero_power_via_newton_schulz_5  # noqa: E402

from labkit import vrules as V  # noqa: E402

# The kernels' hp vectors packed directly (by the kernels' own names, V.HP_ORDER), so the
# oracle tests drive labkit.vrules without labkit.optim; test_defaults_match_optim below
# checks that these defaults are the public constructors'.
DEFAULTS = {
    "adamp": dict(lr=1e-3, b1=0.9, b2=0.999, eps=1e-8, wd=0.0, delta=0.1, wd_ratio=0.1,
                  nesterov=0.0, po_eps=0.0),
    "sgdp": dict(lr=1e-3, mu=0.0, tau=0.0, nesterov=0.0, wd=0.0, delta=0.1, wd_ratio=0.1,
                 eps=1e-8, project_buf=0.0),
    "muon": dict(lr=0.02, mu=0.95, nesterov=1.0, ns_steps=5.0, wd=0.0, adjusted_lr=0.0, ns_eps=1e-7,
                 adamw_lr_ratio=0.015, adamw_b1=0.9, adamw_b2=0.95, adamw_eps=1e-10, adamw_wd=0.0),
    "swan": dict(lr=1e-3, ns_steps=10.0, eps=1e-8),
    "sinkgd": dict(lr=1e-3, L=5.0),
    "scale": dict(lr=1e-4, beta=0.9, wd=0.0, adam_b1=0.9, adam_b2=0.999, adam_eps=1e-8,
                  adam_lr_ratio=1.0, rms_eps=1e-8),
    "sophia": dict(lr=6e-2, b1=0.96, b2=0.99, rho=1e-2, wd=0.0, eps=1e-12, update_period=10.0),
    "lion_k_l2": dict(lr=1e-4, b1=0.9, b2=0.99, wd=0.0),
    "normalized_lr_gd": dict(lr=1.0),
}


def pack_hp(rule: str, **kw) -> np.ndarray:
    """The float64 hp vector (length NHP) of ``rule`` from its defaults overridden by ``kw``."""
    names = V.HP_ORDER[rule]
    vals = {k: v for k, v in DEFAULTS[rule].items() if k != "lr"}
    for k, v in kw.items():
        if k not in vals:
            raise TypeError(f"{rule} has no hyperparameter {k!r}; it has {names}")
        vals[k] = float(v)
    hp = np.zeros(V.NHP)
    hp[:len(names)] = [vals[k] for k in names]
    return hp

STEPS = 1000
F64 = torch.float64
TOL = 1e-12


# ----------------------------------------------------------------------------- harness
class Problem:
    def __init__(self, loss, x0):
        self.loss = loss                               # list of tensors -> scalar tensor
        self.x0 = [torch.as_tensor(a, dtype=F64) for a in x0]
        self.shapes = [tuple(p.shape) for p in self.x0]
        self.layout = layout_of(self.shapes)
        self.d = sum(p.numel() for p in self.x0)


def layout_of(shapes):
    rows, o = [], 0
    for s in shapes:
        r, c = s[0], (s[1] if len(s) == 2 else 0)
        rows.append((o, r, c))
        o += r * max(c, 1)
    return np.array(rows, dtype=np.int64)


def flat(ts):
    return np.concatenate([t.detach().numpy().ravel() for t in ts])


def unflat(x, shapes):
    out, o = [], 0
    for s in shapes:
        n = math.prod(s)
        out.append(torch.tensor(x[o:o + n].reshape(s), dtype=F64, requires_grad=True))
        o += n
    return out


def loss_and_grad(problem, x):
    ps = unflat(x, problem.shapes)
    f = problem.loss(ps)
    return f.item(), flat(torch.autograd.grad(f, ps))


def run_vrule(step, problem, hp, lr, steps=STEPS, aux=None):
    x = flat(problem.x0).copy()
    S = np.zeros((4, problem.d))
    zero = np.zeros(problem.d)
    traj = np.empty((steps, problem.d))
    for t in range(1, steps + 1):
        f, g = loss_and_grad(problem, x)
        step(x, g, S, float(t), lr, f, hp, problem.layout, zero if aux is None else aux(t))
        traj[t - 1] = x
    return traj


def run_torch(make_opt, problem, steps=STEPS, step_kwargs=None):
    ps = [p.clone().requires_grad_(True) for p in problem.x0]
    opt = make_opt(ps)
    traj = np.empty((steps, problem.d))
    for t in range(1, steps + 1):
        for p in ps:
            p.grad = None               # po changes p.grad in place: fresh gradients every step
        problem.loss(ps).backward()
        opt.step(**(step_kwargs(t) if step_kwargs else {}))
        traj[t - 1] = flat(ps)
    return traj


def run_numpy(step, problem, steps=STEPS):
    """A NumPy twin: step(params: list of arrays, grads, state: dict, t) updates params in place."""
    ps = [p.numpy().copy() for p in problem.x0]
    state = {}
    traj = np.empty((steps, problem.d))
    for t in range(1, steps + 1):
        _, g = loss_and_grad(problem, np.concatenate([p.ravel() for p in ps]))
        gs, o = [], 0
        for p in ps:
            gs.append(g[o:o + p.size].reshape(p.shape))
            o += p.size
        step(ps, gs, state, t)
        traj[t - 1] = np.concatenate([p.ravel() for p in ps])
    return traj


def reldev(a, b):
    """max |a - b| / |b| over every coordinate and step (exactly equal entries count as 0)."""
    diff = np.abs(a - b)
    hit = diff > 0
    return float((diff[hit] / np.abs(b[hit])).max()) if hit.any() else 0.0


def deviation(a, b):
    """max |a - b| / max(|b|, 1e-3 ||b_t||_inf) over coordinates and steps (trajectories (T, d)).

    Where the trajectories differ at all, they differ by an ulp or two of the *largest*
    coordinate (max |a - b| / ||b_t||_inf <= 8e-16 in every case here): torch sums and
    norms rows longer than ~4 with vectorised partial sums, we sum in order, and the
    projection subtracts p_n * <p_n, U>, an O(|U|) quantity, from every coordinate.  A
    coordinate near 0 then has an absolute error of ~1e-17 and a large *relative* one
    (up to 3e-11 seen at |x_i| ~ 1e-6).  The floor 1e-3 ||b_t||_inf keeps the bound about
    the algorithm, not about where zero crossings happen to fall.
    """
    scale = np.maximum(np.abs(b), 1e-3 * np.abs(b).max(axis=-1, keepdims=True))
    return float((np.abs(a - b) / scale).max())


def scaled_deviation(a, b):
    """max |a - b| / ||b_t||_inf: the error in units of the step's largest coordinate."""
    return float((np.abs(a - b).max(axis=-1) / np.abs(b).max(axis=-1)).max())


MEASURED = {}          # test id -> (deviation, scaled_deviation, raw per-coordinate reldev)
SCALED_TOL = 1e-14     # ~45 ulp of the largest coordinate, after 1,000 steps


def check(a, b, tol=TOL, key=None):
    dev, scaled = deviation(a, b), scaled_deviation(a, b)
    MEASURED[key or _current_test()] = (dev, scaled, reldev(a, b))
    assert dev <= tol and scaled <= SCALED_TOL, (dev, scaled, reldev(a, b))


def _current_test():
    import os
    return os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0]


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    # these tensors are tiny: torch's intra-op threads only add contention (60x slower on a
    # loaded 2-core machine); restored after the module
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


# ----------------------------------------------------------------------------- problems
_rng = np.random.default_rng(20240607)
_X = torch.tensor(_rng.standard_normal((32, 4)))
_Y = torch.tensor(_rng.integers(0, 3, 32))
_T = torch.tensor(_rng.standard_normal((3, 4)))
_C = torch.tensor(_rng.standard_normal(3))
_W0 = 0.5 * _rng.standard_normal((3, 4))
_B0 = 0.1 * _rng.standard_normal(3)
_TALL0 = _rng.standard_normal((5, 2))
_TALL_T = torch.tensor(_rng.standard_normal((5, 2)))


def _softmax_loss(ps):
    W, b = ps[0], ps[1]
    return F.cross_entropy(_X @ W.T + b, _Y)


def _row_invariant_loss(ps):
    # invariant to the scale of each row of W: the gradient is orthogonal to every row,
    # so AdamP/SGDP's channel-view test fires
    W, b = ps
    return -F.cosine_similarity(W, _T, dim=1).sum() + 0.5 * ((b - _C) ** 2).sum()


def _layer_invariant_loss(ps):
    # invariant to the scale of W as a whole only: the layer view fires, the channel view not
    W, b = ps
    return -F.cosine_similarity(W.reshape(1, -1), _T.reshape(1, -1), dim=1).sum() + 0.5 * ((b - _C) ** 2).sum()


SOFTMAX = Problem(_softmax_loss, [_W0, _B0])
ROW_INV = Problem(_row_invariant_loss, [_W0, _B0])
LAYER_INV = Problem(_layer_invariant_loss, [_W0, _B0])
# Muon: a wide matrix, a vector and a tall matrix (NS on the transpose, lr scale sqrt(5/2))
MUON_PB = Problem(lambda ps: _softmax_loss(ps) + 0.5 * ((ps[2] - _TALL_T) ** 2).sum()
                  + 0.1 * (ps[2] ** 4).sum(), [_W0, _B0, _TALL0])


@pytest.fixture
def count_po_projections(monkeypatch):
    """Counts po AdamP/SGDP projections that fired (po returns wd = wd_ratio != 1 then)."""
    counts = {"fired": 0, "tested": 0}
    orig = po_adamp.projection

    def counting(*args, **kw):
        out = orig(*args, **kw)
        counts["tested"] += 1
        counts["fired"] += out[1] != 1.0
        return out

    monkeypatch.setattr(po_adamp, "projection", counting)
    return counts


# ----------------------------------------------------------------------------- clovaai twins
def _cos_rows(G, P, eps):
    # torch F.cosine_similarity(dim=1, eps): <G/max(|G|, eps), P/max(|P|, eps)> per row
    gn = np.maximum(np.linalg.norm(G, axis=1, keepdims=True), eps)
    pn = np.maximum(np.linalg.norm(P, axis=1, keepdims=True), eps)
    return np.abs(((G / gn) * (P / pn)).sum(axis=1))


def clovaai_projection(p, grad, perturb, delta, wd_ratio, eps, views_fired=None):
    """clovaai _projection, line for line (perturb is changed in place, as there)."""
    for k, view in enumerate((lambda a: a.reshape(a.shape[0], -1), lambda a: a.reshape(1, -1))):
        cosine_sim = _cos_rows(view(grad), view(p), eps)
        if cosine_sim.max() < delta / math.sqrt(view(p).shape[1]):
            p_n = p / (np.linalg.norm(view(p), axis=1).reshape(-1, *([1] * (p.ndim - 1))) + eps)
            perturb -= p_n * view(p_n * perturb).sum(axis=1).reshape(-1, *([1] * (p.ndim - 1)))
            if views_fired is not None:
                views_fired[k] += 1
            return perturb, wd_ratio
    return perturb, 1.0


def clovaai_adamp(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, delta=0.1, wd_ratio=0.1,
                  nesterov=False, views_fired=None):
    beta1, beta2 = betas

    def step(ps, gs, state, t):
        for i, (p, grad) in enumerate(zip(ps, gs)):
            exp_avg, exp_avg_sq = state.setdefault(i, (np.zeros_like(p), np.zeros_like(p)))
            bias_correction1 = 1 - beta1 ** t
            bias_correction2 = 1 - beta2 ** t
            exp_avg *= beta1
            exp_avg += (1 - beta1) * grad
            exp_avg_sq *= beta2
            exp_avg_sq += (1 - beta2) * grad * grad
            denom = np.sqrt(exp_avg_sq) / math.sqrt(bias_correction2) + eps
            step_size = lr / bias_correction1
            if nesterov:
                perturb = (beta1 * exp_avg + (1 - beta1) * grad) / denom
            else:
                perturb = exp_avg / denom
            wd = 1
            if p.ndim > 1:
                perturb, wd = clovaai_projection(p, grad, perturb, delta, wd_ratio, eps, views_fired)
            if weight_decay > 0:
                p *= 1 - lr * weight_decay * wd
            p += -step_size * perturb
    return step


def clovaai_sgdp(lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, eps=1e-8,
                 delta=0.1, wd_ratio=0.1):
    def step(ps, gs, state, t):
        for i, (p, grad) in enumerate(zip(ps, gs)):
            buf = state.setdefault(i, np.zeros_like(p))
            buf *= momentum
            buf += (1 - dampening) * grad
            d_p = grad + momentum * buf if nesterov else buf      # d_p IS buf: projected in place
            wd = 1
            if p.ndim > 1:
                d_p, wd = clovaai_projection(p, grad, d_p, delta, wd_ratio, eps)
            if weight_decay > 0:
                p *= 1 - lr * weight_decay * wd / (1 - momentum)
            p += -lr * d_p
    return step


# ============================================================================ AdamP
ALL, SOME = "all", "some"     # steps on which the projection fires (the softmax loss: a few)
ADAMP_CASES = [  # (problem, nesterov, weight_decay, steps that project)
    (ROW_INV, False, 0.1, ALL),
    (ROW_INV, True, 0.1, ALL),
    (LAYER_INV, False, 0.1, ALL),
    (SOFTMAX, False, 0.1, SOME),
    (SOFTMAX, True, 0.0, SOME),
]


def assert_fired(n, fired):
    assert n == STEPS if fired == ALL else 0 < n < STEPS // 10


@pytest.mark.parametrize("pb, nesterov, wd, fired", ADAMP_CASES)
def test_adamp_po_eps_matches_po(pb, nesterov, wd, fired, count_po_projections):
    lr = 1e-2
    ref = run_torch(lambda ps: po.AdamP(ps, lr=lr, weight_decay=wd, nesterov=nesterov, foreach=False), pb)
    assert count_po_projections["tested"] == STEPS                  # W only: b is never tested
    assert_fired(count_po_projections["fired"], fired)
    hp = pack_hp("adamp", wd=wd, nesterov=nesterov, po_eps=1)
    ours = run_vrule(V.adamp_vstep, pb, hp, lr)
    check(ours, ref)


@pytest.mark.parametrize("pb, nesterov, wd, fired", ADAMP_CASES)
def test_adamp_default_matches_clovaai(pb, nesterov, wd, fired):
    lr = 1e-2
    views = [0, 0]
    ref = run_numpy(clovaai_adamp(lr, weight_decay=wd, nesterov=nesterov, views_fired=views), pb)
    assert_fired(sum(views), fired)
    if pb is LAYER_INV:
        assert min(views) > STEPS // 4                              # both views do some of the work
    ours = run_vrule(V.adamp_vstep, pb, pack_hp("adamp", wd=wd, nesterov=nesterov), lr)
    check(ours, ref)


def test_adamp_on_a_vector_is_adamw():
    # spec 0.5: nothing is projected for a 1-D parameter, so AdamP = Adam + decoupled decay
    c = torch.tensor([0.7, -1.3])
    pb = Problem(lambda ps: torch.log(torch.cosh(ps[0] - c)).sum() + 0.3 * ps[0].prod(), [[2.0, -0.5]])
    lr, wd = 1e-2, 0.1
    ref = run_torch(lambda ps: torch.optim.AdamW(ps, lr=lr, weight_decay=wd, foreach=False), pb)
    ours = run_vrule(V.adamp_vstep, pb, pack_hp("adamp", wd=wd), lr)
    check(ours, ref)


def test_adamp_eps_placement_first_step():
    # One step from x0 with |g| = eps: m = (1-b1) g, v = (1-b2) g^2, so
    #   clovaai:  x1 = x0 - lr g / (|g| + eps)                    = x0 - lr/2 sign(g)
    #   po:       x1 = x0 - lr g / (|g| + eps / sqrt(1 - b2))     (eps inflated ~31.6x at t = 1)
    eps, lr, b2 = 1e-8, 1e-3, 0.999
    g = np.array([eps, -eps])
    layout = np.array([[0, 2, 0]], dtype=np.int64)
    steps = {}
    for po_eps in (0, 1):
        x = np.zeros(2)
        V.adamp_vstep(x, g, np.zeros((4, 2)), 1.0, lr, 0.0, pack_hp("adamp", po_eps=po_eps), layout, g)
        steps[po_eps] = x
    np.testing.assert_allclose(steps[0], -lr * g / (np.abs(g) + eps), rtol=1e-15)
    np.testing.assert_allclose(steps[1], -lr * g / (np.abs(g) + eps / math.sqrt(1 - b2)), rtol=1e-14)
    assert abs(steps[0][0] / steps[1][0]) > 16                      # the two really differ
    p = torch.zeros(2, dtype=F64, requires_grad=True)
    opt = po.AdamP([p], lr=lr, foreach=False)
    p.grad = torch.tensor(g)
    opt.step()
    assert np.array_equal(p.detach().numpy(), steps[1])


# ============================================================================ SGDP
SGDP_CASES = [  # (problem, momentum, dampening, nesterov, weight_decay, steps that project)
    (ROW_INV, 0.9, 0.0, False, 0.1, ALL),
    (ROW_INV, 0.9, 0.1, True, 0.1, ALL),
    (LAYER_INV, 0.5, 0.0, False, 0.0, ALL),
    (SOFTMAX, 0.9, 0.0, False, 0.1, SOME),
    (SOFTMAX, 0.0, 0.0, False, 0.0, SOME),
]


@pytest.mark.parametrize("pb, mu, tau, nesterov, wd, fired", SGDP_CASES)
def test_sgdp_matches_po(pb, mu, tau, nesterov, wd, fired, count_po_projections):
    lr = 1e-2
    ref = run_torch(lambda ps: po.SGDP(ps, lr=lr, momentum=mu, dampening=tau, nesterov=nesterov,
                                       weight_decay=wd, foreach=False), pb)
    assert_fired(count_po_projections["fired"], fired)
    hp = pack_hp("sgdp", mu=mu, tau=tau, nesterov=nesterov, wd=wd)
    check(run_vrule(V.sgdp_vstep, pb, hp, lr), ref)


@pytest.mark.parametrize("pb, mu, tau, nesterov, wd, fired", SGDP_CASES)
def test_sgdp_project_buf_matches_clovaai(pb, mu, tau, nesterov, wd, fired):
    # clovaai's d_p = buf aliasing: the momentum buffer is projected too (nesterov off)
    lr = 1e-2
    ref = run_numpy(clovaai_sgdp(lr, momentum=mu, dampening=tau, nesterov=nesterov, weight_decay=wd), pb)
    hp = pack_hp("sgdp", mu=mu, tau=tau, nesterov=nesterov, wd=wd, project_buf=1)
    ours = run_vrule(V.sgdp_vstep, pb, hp, lr)
    check(ours, ref)
    if fired == ALL and mu and not nesterov:                        # the aliasing matters then
        default = run_vrule(V.sgdp_vstep, pb, pack_hp("sgdp", mu=mu, tau=tau, wd=wd), lr, steps=50)
        assert reldev(default, ours[:50]) > 1e-6


# ============================================================================ SophiaH
@pytest.mark.parametrize("foreach", [False, None])
def test_sophia_matches_po_sophiah(foreach):
    lr, wd, k = 6e-2, 0.1, 10
    pb = SOFTMAX
    gen = np.random.default_rng(7)
    # h^ on refresh steps only, some of it negative so clamp_min(h, eps) and the clip both act
    hhat = {t: gen.normal(0.05, 0.1, pb.d) for t in range(1, STEPS + 1) if (t - 1) % k == 0}

    def po_hessian(t):
        if t not in hhat:
            return {}
        return {"hessian": [torch.tensor(a.reshape(s)) for a, s in zip(np.split(hhat[t], [12]), pb.shapes)]}

    ref = run_torch(lambda ps: po.SophiaH(ps, lr=lr, weight_decay=wd, update_period=k, foreach=foreach),
                    pb, step_kwargs=po_hessian)
    nan = np.full(pb.d, np.nan)                    # off refresh steps the kernel must not read aux
    ours = run_vrule(V.sophia_vstep, pb, pack_hp("sophia", wd=wd, update_period=k), lr,
                     aux=lambda t: hhat.get(t, nan))
    check(ours, ref)


# ============================================================================ Muon
@pytest.mark.parametrize("shape", [(4, 4), (3, 4), (5, 3), (6, 17), (17, 6), (1, 5)])
def test_newton_schulz5_matches_po(shape):
    G = np.random.default_rng(sum(shape)).standard_normal(shape)
    ref = zero_power_via_newton_schulz_5(torch.tensor(G), num_steps=5, eps=1e-7, dtype=F64).numpy()
    ours = V.newton_schulz5(G, 5, 1e-7)
    assert ours.shape == shape
    check(ours.reshape(1, -1), ref.reshape(1, -1))
    s = np.linalg.svd(ours, compute_uv=False)
    assert 0.5 < s.min() and s.max() < 1.5           # near-orthogonal, by design not exactly


@pytest.mark.parametrize("nesterov, adjusted, foreach", [(True, False, False), (False, True, False),
                                                          (True, False, None)])
def test_muon_matches_po_with_float64_newton_schulz(nesterov, adjusted, foreach, monkeypatch):
    # po runs NS in bfloat16 (spec 13); force float64 where Muon looks the function up.
    # lr = 2e-3, not po's 0.02: at 0.02 the iterate reaches the regime where fixed-size
    # (orthogonalised, or Adam's ~sign) steps bounce around the minimiser, which is chaotic:
    # the 1e-16 left by MKL's dgemm summation order grows to 1e-2 by step 200.  At 2e-3 the
    # 1,000 steps stay in the transient and agree to ~3e-15 absolute.
    monkeypatch.setattr(po_muon_base, "zero_power_via_newton_schulz_5",
                        functools.partial(zero_power_via_newton_schulz_5, dtype=F64))
    lr, wd, ratio = 2e-3, 0.1, 0.05
    pb = MUON_PB
    groups = lambda ps: po.Muon(
        [dict(params=[ps[0], ps[2]], use_muon=True), dict(params=[ps[1]], use_muon=False, lr=lr * ratio)],
        lr=lr, weight_decay=wd, nesterov=nesterov, use_adjusted_lr=adjusted, adamw_wd=0.05, foreach=foreach)
    ref = run_torch(groups, pb)
    hp = pack_hp("muon", wd=wd, nesterov=nesterov, adjusted_lr=adjusted, adamw_lr_ratio=ratio, adamw_wd=0.05)
    ours = run_vrule(V.muon_vstep, pb, hp, lr)
    # The residual is dgemm's summation order inside NS (po's NS agrees with ours to ~1e-15
    # per call, test above), accumulated over 1,000 steps to ~3e-15 absolute (scaled
    # deviation); a coordinate of size 1e-3 ||x||_inf then shows ~2e-12 relative.
    check(ours, ref, tol=5e-12)


def test_muon_defaults_are_pos():
    assert DEFAULTS["muon"]["lr"] * DEFAULTS["muon"]["adamw_lr_ratio"] == 3e-4


# ============================================================================ SWAN
def _update(step, G, hp, shape):
    """The update direction D of one step from x = 0 with lr = -1 (so x becomes D)."""
    layout = layout_of([shape])
    x = np.zeros(G.size)
    step(x, G.ravel().copy(), np.zeros((4, G.size)), 1.0, -1.0, 0.0, hp, layout, np.zeros(G.size))
    return x.reshape(shape)


def _polar(A):
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    keep = s > 1e-10 * s.max()
    return U[:, keep] @ Vt[keep]


@pytest.mark.parametrize("shape", [(3, 6), (3, 4), (4, 4), (7, 3), (16, 16)])
def test_swan_is_the_whitened_standardised_gradient(shape):
    m, n = shape
    G = np.random.default_rng(3).standard_normal(shape) * np.arange(1, m + 1)[:, None] + 2.0
    Gt = (G - G.mean(axis=1, keepdims=True)) / G.std(axis=1, keepdims=True)
    assert np.allclose(np.linalg.norm(Gt, axis=1), math.sqrt(n))
    dW = _update(V.swan_vstep, G, pack_hp("swan", ns_steps=30), shape)
    np.testing.assert_allclose(dW, _polar(Gt), rtol=0, atol=1e-13)    # (Gt Gt^T)^{-1/2} Gt
    if m < n:                                   # full row rank: dW dW^T = I
        np.testing.assert_allclose(dW @ dW.T, np.eye(m), rtol=0, atol=1e-13)
    else:                                       # rank n - 1 (rows are centred): the projector off 1
        np.testing.assert_allclose(dW.T @ dW, np.eye(n) - 1.0 / n, rtol=0, atol=1e-13)
    # the default 10 iterations: converged for these small, well-conditioned G~ (kappa < 5);
    # not for the 16 x 16 one (kappa = 26), which needs ~15 (see vrules._inv_sqrt_ns)
    err10 = np.abs(_update(V.swan_vstep, G, pack_hp("swan"), shape) - _polar(Gt)).max()
    assert err10 < 1e-13 if m < 16 else 1e-3 < err10 < 1e-1


def test_swan_vector_block_is_normalised():
    g = np.array([3.0, -4.0, 0.0])
    assert np.allclose(_update(V.swan_vstep, g, pack_hp("swan"), (3,)), g / 5.0, rtol=0, atol=1e-16)


# ============================================================================ SinkGD
def test_sinkgd_row_and_column_norms():
    m, n = 5, 8
    G = np.random.default_rng(4).standard_normal((m, n)) * np.exp(np.random.default_rng(5).standard_normal((m, 1)))
    for L, row_tol in [(5, 1e-2), (60, 1e-12)]:
        X = _update(V.sinkgd_vstep, G, pack_hp("sinkgd", L=L), (m, n))
        np.testing.assert_allclose(np.linalg.norm(X, axis=0), math.sqrt(m), rtol=1e-14)   # last step: columns
        np.testing.assert_allclose(np.linalg.norm(X, axis=1), math.sqrt(n), rtol=row_tol)
        assert np.all(np.sign(X) == np.sign(G))                      # only rescaling
    g = np.array([1.0, 2.0, -2.0, 4.0])
    np.testing.assert_allclose(_update(V.sinkgd_vstep, g, pack_hp("sinkgd"), (4,)), g / 5.0 * 2.0, rtol=1e-15)


# ============================================================================ SCALE
def scale_authors(lr, wd=0.0, momentum=0.9, betas=(0.9, 0.999), eps=1e-8, main=(), last=(), oned=()):
    """torch transcription of SCALE.step (OptimAI-Lab/Minimalist_LLM_Pretraining scale_optimizer.py)."""
    state = {}

    class Opt:
        @torch.no_grad()
        def step(self):
            for p in main:
                g = p.grad
                s = torch.sqrt(torch.mean(torch.square(g), dim=1, keepdim=True)).clamp_min_(1e-8)
                p.data.mul_(1 - lr * wd)
                p.data.add_(g / s, alpha=-lr)
            for p in last:
                st = state.setdefault(id(p), {"m": torch.zeros_like(p)})
                st["m"].lerp_(p.grad, 1 - momentum)
                g = st["m"]
                s = torch.sqrt(torch.mean(torch.square(g), dim=1, keepdim=True)).clamp_min_(1e-8)
                p.data.mul_(1 - lr * wd)
                p.data.add_(g / s, alpha=-lr)
            for p in oned:
                st = state.setdefault(id(p), {"step": 0, "m": torch.zeros_like(p), "v": torch.zeros_like(p)})
                st["step"] += 1
                b1, b2 = betas
                st["m"].lerp_(p.grad, 1 - b1)
                st["v"].lerp_(p.grad.square(), 1 - b2)
                u = st["m"] / (eps + st["v"].sqrt())
                scale = (1 - b1 ** st["step"]) / (1 - b2 ** st["step"]) ** 0.5
                p.data.mul_(1 - lr * wd)
                p.data.add_(u, alpha=-lr / scale)
    return Opt()


_W2_0 = 0.5 * _rng.standard_normal((2, 3))
_Y2 = _Y % 2


def _two_layer_loss(ps):
    W1, b, W2 = ps
    return F.cross_entropy(torch.tanh(_X @ W1.T + b) @ W2.T, _Y2)


def test_scale_matches_authors_code():
    # W2, the last matrix block, gets momentum (b after it is a vector, not a layer).
    # lr = 1e-4 (the code's default): at 1e-3 the row-normalised steps reach the minimiser by
    # step ~400 and bounce chaotically, and one torch.sqrt that is not correctly rounded
    # (torch 2.13 CPU float64: ~0.7% of inputs come back 1 ulp off; math.sqrt is exact) at
    # step 381 grows to 7e-3 by step 1000.
    pb = Problem(_two_layer_loss, [_W0, _B0, _W2_0])
    lr, wd = 1e-4, 0.1
    ref = run_torch(lambda ps: scale_authors(lr, wd, main=[ps[0]], last=[ps[2]], oned=[ps[1]]), pb)
    ours = run_vrule(V.scale_vstep, pb, pack_hp("scale", wd=wd), lr)
    check(ours, ref)


def test_scale_rows_have_rms_one():
    G = np.random.default_rng(6).standard_normal((4, 5)) * np.array([[1e-3], [1.0], [10.0], [1e3]])
    U = _update(V.scale_vstep, G, pack_hp("scale"), (4, 5))      # one block: it is the last layer
    np.testing.assert_allclose(np.sqrt((U ** 2).mean(axis=1)), 1.0, rtol=1e-15)
    np.testing.assert_allclose(U, G / np.sqrt((G ** 2).mean(axis=1, keepdims=True)), rtol=1e-15)


# ============================================================================ Lion-K (l2)
def test_lion_k_l2_moves_every_block_by_lr():
    lr = 1e-2
    traj = run_vrule(V.lion_k_l2_vstep, SOFTMAX, pack_hp("lion_k_l2"), lr, steps=200)
    traj = np.vstack([flat(SOFTMAX.x0), traj])
    for o, r, c in SOFTMAX.layout:
        n = r * max(c, 1)
        moves = np.linalg.norm(np.diff(traj[:, o:o + n], axis=0), axis=1)
        np.testing.assert_allclose(moves, lr, rtol=1e-13)


def test_lion_k_l2_keeps_the_ball():
    # with decoupled decay lambda, |x_{t+1}| <= (1 - lr lambda)|x_t| + lr per block: the ball
    # |x| <= 1/lambda is invariant (Lion-K solves min f subject to K*(lambda x) < inf, here
    # the l2 ball), and the softmax loss pushes W outwards, so the constraint is active
    lr, lam = 0.05, 2.0
    x0 = [0.4 * p / p.norm() for p in SOFTMAX.x0]
    pb = Problem(_softmax_loss, x0)
    traj = run_vrule(V.lion_k_l2_vstep, pb, pack_hp("lion_k_l2", wd=lam), lr, steps=300)
    for o, r, c in pb.layout:
        norms = np.linalg.norm(traj[:, o:o + r * max(c, 1)], axis=1)
        assert norms.max() <= 1 / lam * (1 + 1e-14)
    assert norms[-1] > 0.99 / lam


# ============================================================================ normalized LR+GD
def test_normalized_lr_gd_scales_the_step_by_aux0():
    x = np.array([1.0, -2.0, 0.5])
    g = np.array([0.3, 0.1, -0.2])
    aux = np.array([4.0, 0.0, 0.0])
    V.normalized_lr_gd_vstep(x, g, np.zeros((4, 3)), 1.0, 0.5, 0.0, pack_hp("normalized_lr_gd"),
                             layout_of([(3,)]), aux)
    np.testing.assert_array_equal(x, np.array([1.0, -2.0, 0.5]) - 2.0 * g)


# ============================================================================ bookkeeping
def test_hp_order_and_defaults_agree():
    for rule, names in V.HP_ORDER.items():
        assert len(names) <= V.NHP
        assert set(DEFAULTS[rule]) == {"lr", *names}
        assert callable(getattr(V, f"{rule}_vstep"))


@pytest.mark.parametrize("name, key", [("adamp", "adamp"), ("sgdp", "sgdp"), ("muon", "muon"), ("swan", "swan"),
                                       ("sinkgd", "sinkgd"), ("scale", "scale"), ("sophia", "sophia"),
                                       ("normalized_lr_gd", "normalized_lr_gd")])
def test_defaults_match_optim(name, key):
    """lk.optim's constructor packs the same hp vector (and lr) as DEFAULTS above."""
    import labkit as lk
    rule = lk.optim.get(name)
    n = len(V.HP_ORDER[key])
    np.testing.assert_array_equal(np.array(rule.hp[:n]), pack_hp(key)[:n])
    assert rule.lr == DEFAULTS[key]["lr"]
    assert rule.vstep == f"{key}_vstep"
