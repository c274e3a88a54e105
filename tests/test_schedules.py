"""Schedules against torch.optim.lr_scheduler and pytorch-optimizer's WSD, and the run hook."""
import math

import numpy as np
import pytest
import torch

import labkit as lk
from labkit import schedules as S

STEPS = 300


def torch_multipliers(make_scheduler, steps=STEPS):
    """lr/base_lr for steps 0..steps-1 as torch computes them (base lr 1)."""
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=1.0)
    sched = make_scheduler(opt)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.array(out)


L = torch.optim.lr_scheduler


@pytest.mark.parametrize("ours, theirs", [
    (S.step(25, 0.5), lambda o: L.StepLR(o, 25, 0.5)),
    (S.exponential(0.99), lambda o: L.ExponentialLR(o, 0.99)),
    (S.cosine(STEPS, floor=0.1), lambda o: L.CosineAnnealingLR(o, T_max=STEPS, eta_min=0.1)),
    (S.linear(200, floor=0.25), lambda o: L.LinearLR(o, 1.0, 0.25, total_iters=200)),
    (S.constant(), lambda o: L.LambdaLR(o, lambda s: 1.0)),
], ids=["step", "exponential", "cosine", "linear", "constant"])
def test_matches_torch(ours, theirs):
    # torch updates most of these recursively (lr_{s+1} from lr_s), we use the closed form:
    # the two agree to a few ulps, not bit for bit.
    np.testing.assert_allclose(ours.values(STEPS), torch_multipliers(theirs), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("cooldown", ["1-sqrt", "linear", "1-square", "cosine"])
@pytest.mark.parametrize("floor", [0.0, 0.1])
def test_wsd_matches_pytorch_optimizer(cooldown, floor):
    from pytorch_optimizer.lr_scheduler.wsd import get_wsd_scheduler_lambda
    kw = dict(num_warmup_steps=20, num_stable_steps=100, num_decay_steps=60, min_lr_ratio=floor, num_cycles=0.5,
              cooldown_type=cooldown)
    theirs = np.array([get_wsd_scheduler_lambda(s, **kw) for s in range(STEPS)])
    ours = S.wsd(20, 100, 60, floor=floor, cooldown=cooldown).values(STEPS)
    np.testing.assert_allclose(ours, theirs, rtol=1e-14, atol=1e-15)


def test_wsd_non_cosine_cooldown_jumps_to_floor_like_po():
    v = S.wsd(0, 10, 10, floor=0.2, cooldown="linear").values(25)
    assert v[19] == pytest.approx(0.1)          # still on 1 - p, below the floor
    assert v[20] == 0.2                          # then the floor


def test_wsd_exponential_halves_every_half_life():
    v = S.wsd(0, 10, 40, cooldown="exponential", half_life=5).values(50)
    assert v[10] == 1.0 and v[15] == pytest.approx(0.5) and v[20] == pytest.approx(0.25)


def test_cosine_warmup_and_floor_after_total():
    v = S.cosine(100, warmup=10, floor=0.1).values(150)
    np.testing.assert_allclose(v[:10], np.arange(10) / 10)
    assert v[10] == 1.0 and v[100] == pytest.approx(0.1) and np.all(v[100:] == v[100])


def test_refined_constant_norms_give_linear_decay():
    T = 50
    v = S.refined(np.full(T, 3.0)).values(T)
    expected = (T - 1 - np.arange(T)) / (T - 1)      # w_t ∝ (T-1-t): linear, 0 at the end
    np.testing.assert_allclose(v, expected, rtol=1e-12, atol=1e-15)


def test_refined_matches_closed_form_of_the_authors():
    g = np.abs(np.random.default_rng(0).standard_normal(40)) + 0.1
    w = g ** -2.0
    raw = np.array([w[t] * w[t + 1:].sum() / w.sum() for t in range(39)] + [0.0])
    np.testing.assert_allclose(S.refined(g).values(40), raw / raw.max(), rtol=1e-12)


def test_refined_median_filter_removes_a_spike():
    g = np.ones(101)
    g[50] = 100.0
    assert np.all(np.diff(S.refined(g, smoothing=0.1).values(101)[:-1]) < 0)   # smooth linear decay again


def test_power_law_and_decay_ends_at_final_ratio():
    s = S.power(lr_max=0.02, a=4.0, b=-0.51, warmup=0, decay=100, total=1000, final_ratio=0.1)
    v = s.values(1000)
    n = 500.0
    assert v[500] == pytest.approx(min(0.02, 4.0 * n ** -0.51) / 0.02)
    assert v[899] == pytest.approx(min(0.02, 4.0 * 899 ** -0.51) / 0.02)      # decay starts after step 900
    assert s(1000) == pytest.approx(0.1 * min(0.02, 4.0 * 1000 ** -0.51) / 0.02, rel=1e-12)   # x = decay: f


def test_batch_size_rules():
    assert S.scale_lr_for_batch(0.1, 256, 64, "linear") == pytest.approx(0.4)
    assert S.scale_lr_for_batch(1e-3, 256, 64, "sqrt") == pytest.approx(2e-3)
    with pytest.raises(ValueError, match="rule"):
        S.scale_lr_for_batch(0.1, 2, 1, "cubic")


@pytest.mark.parametrize("bad", [lambda: S.step(0), lambda: S.exponential(1.5), lambda: S.cosine(10, warmup=10),
                                 lambda: S.wsd(1, 1, 1, cooldown="cosin"), lambda: S.refined([1.0, -1.0])])
def test_bad_arguments_raise(bad):
    with pytest.raises(ValueError):
        bad()


def test_run_applies_the_multiplier_each_step():
    p = lk.problems.quadratic(eigs=(1.0, 4.0))
    sched = S.exponential(0.9)
    tr = lk.run(p, "sgd", 20, lr=0.1, schedule=sched)
    x = p.x0.copy()
    for k in range(20):       # independent GD loop with the same per-step lr
        x = x - (0.1 * 0.9 ** k) * p.grad(x)
    np.testing.assert_allclose(tr.xs[-1], x, rtol=1e-13, atol=1e-15)


def test_run_accepts_plain_python_schedules():
    p = lk.problems.quadratic(eigs=(1.0, 4.0))
    a = lk.run(p, "sgd", 30, lr=0.1, schedule=lambda k: 0.5 if k < 10 else 0.25)
    b = lk.run(p, "sgd", 30, lr=0.1, schedule=[0.5] * 10 + [0.25] * 20)
    np.testing.assert_array_equal(a.xs, b.xs)
    assert math.isfinite(a.f_final)
