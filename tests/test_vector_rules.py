"""Whole-vector rules through the real driver (lk.run / lk.sweep), against pytorch-optimizer.

tests/test_oracles_matrix.py checks the kernels of labkit.vrules one step at a time; here
the same rules run end to end on labkit's matrix problems, with pytorch-optimizer fed the
problem's own exact gradient before every step (float64, foreach=False)."""
import numpy as np
import pytest
import torch

import labkit as lk

po = pytest.importorskip("pytorch_optimizer")
STEPS = 1000


def po_trajectory(problem, make, steps, hessian=None):
    """po's iterates on ``problem``: one torch tensor per block of ``problem.shapes``."""
    x = problem.x0.copy()
    params = [torch.tensor(b.copy(), dtype=torch.float64, requires_grad=True) for b in problem.unflatten(x)]
    opt = make(params)
    xs = [x.copy()]
    for t in range(1, steps + 1):
        g = problem.grad(x)
        for p, gb in zip(params, problem.unflatten(g)):
            p.grad = torch.tensor(gb.copy(), dtype=torch.float64)
        if hessian is not None and hessian(t) is not None:
            opt.step(hessian=[torch.tensor(h.copy()) for h in problem.unflatten(hessian(t))])
        else:
            opt.step()
        x = np.concatenate([p.detach().numpy().ravel() for p in params])
        xs.append(x)
    return np.array(xs)


def assert_close(ours, ref, rel=1e-12):
    scale = np.maximum(np.abs(ref), 1e-3 * np.abs(ref).max(axis=1, keepdims=True))
    dev = np.max(np.abs(ours - ref) / scale)
    assert dev <= rel, f"max floored relative deviation {dev:.3g} > {rel:g}"


@pytest.mark.parametrize("problem", [lk.problems.scale_invariant(), lk.problems.softmax_regression()],
                         ids=["scale_invariant", "softmax"])
def test_adamp_run_matches_po(problem):
    ours = lk.run(problem, "adamp", STEPS, lr=1e-2, weight_decay=1e-2, po_eps=True).xs
    ref = po_trajectory(problem, lambda ps: po.AdamP(ps, lr=1e-2, weight_decay=1e-2, foreach=False), STEPS)
    assert_close(ours, ref)


def test_sgdp_run_matches_po():
    problem = lk.problems.scale_invariant()
    ours = lk.run(problem, "sgdp", STEPS, lr=0.05, momentum=0.9, weight_decay=1e-3).xs
    ref = po_trajectory(problem, lambda ps: po.SGDP(ps, lr=0.05, momentum=0.9, weight_decay=1e-3), STEPS)
    assert_close(ours, ref)


def test_sophia_exact_run_matches_po_fed_the_same_hessian():
    problem = lk.problems.softmax_regression()
    traj = lk.run(problem, "sophia", STEPS, lr=0.1, rho=0.05, estimator="exact")
    xs = traj.xs
    # po refreshes whenever it is handed a Hessian: hand it the exact diagonal at the
    # iterate where labkit refreshed (steps 1, 11, ...), nothing otherwise.
    ref = po_trajectory(problem, lambda ps: po.SophiaH(ps, lr=0.1, p=0.05, foreach=False), STEPS,
                        hessian=lambda t: np.diag(problem.hess(xs[t - 1])) if (t - 1) % 10 == 0 else None)
    assert_close(xs, ref)


def test_pytorch_optimizer_coupled_weight_decay_is_a_no_op_in_adamp():
    """The documented po deviation: weight_decouple=False adds the L2 term after the step is
    built, so it changes nothing; labkit therefore offers decoupled decay only."""
    problem = lk.problems.scale_invariant()
    a = po_trajectory(problem, lambda ps: po.AdamP(ps, lr=1e-2, weight_decay=0.1, weight_decouple=False), 100)
    b = po_trajectory(problem, lambda ps: po.AdamP(ps, lr=1e-2, weight_decay=0.0), 100)
    np.testing.assert_array_equal(a, b)
    assert "decoupled only" in lk.optim.adamp.__doc__


def test_adamp_projection_changes_the_path_only_on_matrices():
    """On scale-invariant rows the projection fires: AdamP leaves Adam(W) behind; on a vector it is AdamW."""
    problem = lk.problems.scale_invariant()
    adamp = lk.run(problem, "adamp", 200, lr=1e-2).xs
    adamw = lk.run(lk.Problem(name="flat", f=problem.f, grad=problem.grad, x0=problem.x0), "adamp", 200, lr=1e-2).xs
    assert np.max(np.abs(adamp - adamw)) > 1e-6
    # Projected updates are tangent to each row: row norms grow only at second order.
    norms = np.linalg.norm(adamp.reshape(len(adamp), *problem.shapes[0]), axis=2)
    plain = np.linalg.norm(adamw.reshape(len(adamw), *problem.shapes[0]), axis=2)
    assert np.max(np.abs(norms[-1] - norms[0])) < np.max(np.abs(plain[-1] - plain[0]))


def test_vector_rules_sweep_equals_runs():
    problem = lk.problems.softmax_regression()
    frame = lk.sweep(problem, "muon", 50, lr=[1e-3, 1e-2], progress=False)
    for j, lr in enumerate([1e-3, 1e-2]):
        x = lk.run(problem, "muon", 50, lr=lr).x_final
        np.testing.assert_array_equal(frame.loc[j, [f"x_final_{i}" for i in range(8)]].to_numpy(float), x[:8])


def test_missing_extra_is_a_clear_error():
    with pytest.raises(ValueError, match="sigmoid_weight.*separable_logistic"):
        lk.run(lk.problems.rosenbrock(), "normalized_lr_gd", 5)
    with pytest.raises(ValueError, match="Hessian"):
        lk.run(lk.Problem(name="nohess", f=lambda x: x @ x, grad=lambda x: 2 * x, x0=[1.0]), "sophia", 5)
