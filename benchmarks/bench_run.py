"""One trajectory: ns per step of ``lk.run`` on 2-D Rosenbrock, against torch.optim.

Single-threaded, so the figures are thread CPU time.  Variants, all timed in one set of
interleaved rounds:

* ``lk.run`` end to end (rule construction, argument checks, the kernel, the
  ``Trajectory``), 10,000 Adam steps;
* the bare kernel, ``KERNELS[ADAM][0]`` with the arguments ``lk.run`` passes it
  (``labkit/run.py``, ``_run_compiled``), built once outside the timed region;
* a hand-inlined Numba loop doing the same arithmetic (labkit's own ``fma``, ``lerp``
  and ``power_step``, same records and checks, bit-identical trajectory): the floor the
  generic engine is measured against (spec section 1, row (e));
* ``torch.optim.Adam`` (float64, ``foreach=False``) on a 2-element tensor, 1,000 steps,
  with autograd and with the analytic gradient assigned to ``.grad``;
* ``lk.run`` of every rule in ``lk.optim.names()``, 10,000 steps each.

Before timing, torch's 1,000-step end point is compared with ``lk.run``'s (the rules are
written to round like torch, so they should agree to the last bit or nearly).
"""
from __future__ import annotations

import warnings

import numpy as np

from _timing import Row, check, interleaved, row

SECTION = "run"
STEPS = 10_000
TORCH_STEPS = 1_000
ADAM_LR = 1e-2
# Step sizes that converge (or at least stay finite) on Rosenbrock from (-1.5, 2) in 10k
# steps; a diverged run stops early and would report a meaningless per-step cost.
RULE_HP = {
    "sgd": dict(lr=5e-4),
    "adam": dict(lr=ADAM_LR),
    "adamw": dict(lr=ADAM_LR),
    "adagrad": dict(lr=0.5),
    "rmsprop": dict(lr=1e-3),
    "sign_sgd": dict(lr=1e-3),
    "signum": dict(lr=1e-3),
    "lion": dict(lr=1e-4),
    "normalized_gd": dict(lr=1e-3),
    "sgdp": dict(lr=5e-4),
    "muon": dict(lr=1e-3),
    "swan": dict(lr=1e-3),
    "sinkgd": dict(lr=1e-3),
    "scale": dict(lr=1e-3),
}


def _floor_kernel():
    """Adam x 2-D Rosenbrock, hand-inlined as scalars, recording what ``lk.run`` records."""
    import math

    from numba import njit

    from labkit._jit import fma, lerp, power_step

    @njit(error_model="numpy")
    def adam_rosenbrock(x0, lr, b1, b2, eps, a, b, bound, steps):
        xs = np.empty((steps + 1, 2))
        fs = np.empty(steps + 1)
        gs = np.empty(steps + 1)
        acc = np.zeros(4)
        acc[0] = 1.0
        acc[2] = 1.0
        u, w = x0[0], x0[1]
        mu = mw = vu = vw = 0.0
        for k in range(steps + 1):
            r = w - u * u
            f = b * r * r + (a - u) * (a - u)
            gu = -4.0 * b * u * r - 2.0 * (a - u)
            gw = 2.0 * b * r
            gn = math.sqrt(gu * gu + gw * gw)
            if not (abs(f) <= 1e300 and gn <= 1e300 and max(abs(u), abs(w)) <= bound):
                return k, xs, fs, gs
            xs[k, 0] = u
            xs[k, 1] = w
            fs[k] = f
            gs[k] = gn
            if k == steps:
                break
            bc1 = 1.0 - power_step(acc, 0, b1)
            sqrt_bc2 = math.sqrt(1.0 - power_step(acc, 2, b2))
            mu = lerp(mu, gu, 1.0 - b1)
            mw = lerp(mw, gw, 1.0 - b1)
            vu = fma((1.0 - b2) * gu, gu, b2 * vu)
            vw = fma((1.0 - b2) * gw, gw, b2 * vw)
            u = u + (-(lr / bc1) * mu) / (math.sqrt(vu) / sqrt_bc2 + eps)
            w = w + (-(lr / bc1) * mw) / (math.sqrt(vw) / sqrt_bc2 + eps)
        return steps + 1, xs, fs, gs

    return adam_rosenbrock


def _torch_variants(problem):
    import torch
    torch.set_num_threads(1)
    a, b = (float(v) for v in problem.params[:2])
    x0 = torch.tensor(problem.x0, dtype=torch.float64)

    def autograd(steps=TORCH_STEPS):
        x = x0.clone().requires_grad_(True)
        opt = torch.optim.Adam([x], lr=ADAM_LR, foreach=False)
        for _ in range(steps):
            opt.zero_grad()
            f = (a - x[0]) ** 2 + b * (x[1] - x[0] ** 2) ** 2
            f.backward()
            opt.step()
        return x.detach().numpy()

    def analytic(steps=TORCH_STEPS):
        x = x0.clone().requires_grad_(True)
        opt = torch.optim.Adam([x], lr=ADAM_LR, foreach=False)
        for _ in range(steps):
            u, v = x.tolist()
            r = v - u * u
            x.grad = torch.tensor([-4.0 * b * u * r - 2.0 * (a - u), 2.0 * b * r], dtype=torch.float64)
            opt.step()
        return x.detach().numpy()

    return autograd, analytic


def measure(rounds: int = 7) -> tuple[list[Row], dict]:
    import labkit as lk
    from labkit._engine import KERNELS
    from labkit.run import _cfg

    p = lk.problems.rosenbrock()
    adam = lk.optim.adam(lr=ADAM_LR)

    # The bare kernel with exactly what lk.run passes (labkit/run.py, _run_compiled).
    kernel = KERNELS[adam.kind][0]
    args = (lk.problems.kind_tag(p.kernel), p.params, np.array(adam.hp), p.x0.copy(), np.array(adam.state0), adam.lr, p.seed,
            np.ones(STEPS), _cfg(p, 1e-8))
    args_1 = args[:7] + (np.ones(1),) + args[8:]
    n, xs, *_ = kernel(*args)
    ref = lk.run(p, adam, STEPS)
    assert n == STEPS + 1 and np.array_equal(xs, ref.xs), "bare kernel and lk.run disagree"

    floor = _floor_kernel()
    floor_args = (p.x0.copy(), ADAM_LR, 0.9, 0.999, 1e-8, float(p.params[0]), float(p.params[1]), p.bound, STEPS)
    n_floor, xs_floor, *_ = floor(*floor_args)
    floor_same = bool(n_floor == STEPS + 1 and np.array_equal(xs_floor, ref.xs))

    autograd, analytic = _torch_variants(p)
    x_lk = lk.run(p, adam, TORCH_STEPS).xs[-1]
    torch_diff = {"autograd": float(np.max(np.abs(autograd() - x_lk))),
                  "analytic": float(np.max(np.abs(analytic() - x_lk)))}

    variants = {
        "lk.run adam": lambda: lk.run(p, lk.optim.adam(lr=ADAM_LR), STEPS),
        "bare kernel adam": lambda: kernel(*args),
        "floor adam": lambda: floor(*floor_args),
        "lk.run 1 step": lambda: lk.run(p, lk.optim.adam(lr=ADAM_LR), 1),
        "bare kernel 1 step": lambda: kernel(*args_1),
        "torch autograd": autograd,
        "torch analytic": analytic,
    }
    rules = {}
    for name in lk.optim.names():
        if name == "adam":
            continue
        rule = lk.optim.get(name, **RULE_HP.get(name, {}))
        # Tyurin's normalized LR+GD needs logistic data: a 2-D separable set instead.
        q = lk.problems.separable_logistic() if rule.needs == "sigmoid_weight" else p
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tr = lk.run(q, rule, STEPS)
        rules[name] = (rule, tr.diverged, q)
        variants[f"lk.run {name}"] = (lambda rule=rule, q=q: lk.run(q, rule, STEPS))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")       # a rule that diverges is flagged in its row
        stats = interleaved(variants, rounds=rounds, min_sample_s=0.03)

    ns = 1e9 / STEPS
    ns_torch = 1e9 / TORCH_STEPS
    base = stats["lk.run adam"].median("cpu") * ns
    rows = [
        row(SECTION, f"lk.run, Adam, {STEPS:,} steps (end to end)", stats["lk.run adam"], "cpu", ns, "ns/step",
            "<= 40"),
        row(SECTION, "bare kernel KERNELS[ADAM][0], same args", stats["bare kernel adam"], "cpu", ns, "ns/step",
            note=f"fixed cost per call (1-step calls): lk.run {stats['lk.run 1 step'].median('cpu') * 1e6:.1f} us, "
                 f"kernel {stats['bare kernel 1 step'].median('cpu') * 1e6:.1f} us"),
        row(SECTION, "hand-inlined scalar Numba loop, same arithmetic (floor)", stats["floor adam"], "cpu", ns,
            "ns/step", note=("trajectory bit-identical to lk.run" if floor_same else
                             "WARNING: trajectory differs from lk.run")),
        row(SECTION, f"torch.optim.Adam + autograd ({TORCH_STEPS:,} steps)", stats["torch autograd"], "cpu",
            ns_torch, "ns/step", note=f"end point vs lk.run: max |dx| = {torch_diff['autograd']:.1e}"),
        row(SECTION, f"torch.optim.Adam, analytic .grad ({TORCH_STEPS:,} steps)", stats["torch analytic"], "cpu",
            ns_torch, "ns/step", note=f"end point vs lk.run: max |dx| = {torch_diff['analytic']:.1e}"),
    ]
    for r in rows:
        r.ratio = r.value / base
    for key, label in (("torch autograd", "autograd"), ("torch analytic", "analytic .grad")):
        ratio = stats[key].median("cpu") * ns_torch / base
        rows.append(Row(SECTION, f"speed-up of lk.run over torch.optim ({label})", ratio, "x", target=">= 1000",
                        ok=check(ratio, ">= 1000")))
    rules["adam"] = (adam, ref.diverged, p)
    for name in lk.optim.names():
        rule, diverged, q = rules[name]
        hp = ", ".join(f"{k}={v:g}" for k, v in RULE_HP.get(name, {}).items())
        notes = ["whole-vector rule: Python loop around a compiled step"] if rule.vector else []
        if q is not p:
            notes.append(f"on {q.name}")
        if diverged:
            notes.append("DIVERGED: per-step figure is meaningless")
        r = row(SECTION, f"lk.run, {name}({hp}), {STEPS:,} steps", stats[f"lk.run {name}"], "cpu", ns, "ns/step",
                note="; ".join(notes))
        r.ratio = r.value / base
        rows.append(r)
    raw = {"stats": {k: v.to_dict() for k, v in stats.items()}, "torch_vs_labkit_max_abs_dx": torch_diff,
           "floor_bit_identical": floor_same,
           "steps": STEPS, "torch_steps": TORCH_STEPS}
    return rows, raw
