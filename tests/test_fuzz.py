"""Fuzz of the public API: every bad input gives a result or a clear ValueError/TypeError, and nothing hangs.

Each *target* is one public entry point with valid arguments; a *case* replaces one or two of
them by a bad value (wrong type, None, a string, nan/inf, negative, huge, a wrong shape, a
non-callable, ...).  An outcome is

- ``ok``: a result (or an error the function documents for valid input: threebody's
  RuntimeError after ``max_steps``, the stochastic labs' DivergenceWarning raised when a run diverges);
- ``clear``: a ValueError or TypeError whose message names the argument that was replaced;
- ``unclear``: anything else (AttributeError, OverflowError, MemoryError, numba errors, or a
  ValueError that does not say which argument is wrong);
- ``hang``: still running after ``LIMIT_S`` seconds.

The test draws cases with hypothesis (derandomized, so CI sees the same ones); the script runs
every (target, argument, bad value) and prints the counts::

    PYTHONPATH=. python tests/test_fuzz.py            # the whole cross product
    PYTHONPATH=. python tests/test_fuzz.py run sweep   # targets whose name starts so
"""
from __future__ import annotations

import faulthandler
import inspect
import os
import signal
import sys
import warnings
from contextlib import contextmanager

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np

import labkit as lk

LIMIT_S = 10.0          # per call; a first call may compile a kernel (seconds), a hang never returns


# ----------------------------------------------------------------------------- the bad values

class _Opaque:
    def __repr__(self):
        return "<opaque>"


BAD = [None, "", "abc", "rosenbrock", -1, 0, 1.5, -1e-3, 10**12, 2**64, 10**30, True,
       float("nan"), float("inf"), -float("inf"), 1e308, 1j, [], [1, 2], [[1.0, 2.0], [3.0]], (0.0,) * 7,
       np.zeros((3, 3)), np.array([np.nan, 1.0]), {}, {"a": 1}, _Opaque(), print, lambda *a: None,
       np.float64(0.5), np.int64(-3)]


def _special_bad():
    """Values that are the right type but wrong inside: a Problem whose grad has the wrong shape, one
    whose f returns a vector."""
    return [_user_problem(name="wrong-grad problem", grad=lambda x: np.zeros(3)),
            _user_problem(name="vector-f problem", f=lambda x: np.asarray(x) * 2.0)]


def _bad_repr(v):
    return f"<{v.__name__}>" if callable(v) and hasattr(v, "__name__") else " ".join(repr(v).split())[:60]


class Fresh:
    """A valid value built anew for each call (a State that the call mutates, a Trajectory)."""

    def __init__(self, make):
        self.make = make


# ----------------------------------------------------------------------------- the targets

def _user_problem(**changes):
    kw = dict(name="bowl", f=lambda x: float(np.sum(np.asarray(x) ** 2)), grad=lambda x: 2.0 * np.asarray(x),
              x0=[1.0, -0.5])
    kw.update(changes)
    return lk.Problem(**kw)


def _targets():
    """[(name, function, {argument: valid value}, aliases)]: aliases are other words a clear message
    may use for the argument (``rule`` -> "optimizer")."""
    import matplotlib
    matplotlib.use("Agg")
    from labkit import compare as cmp
    from labkit import schedules as S
    from labkit import threebody as tb
    from labkit import viz

    rosen = lk.problems.rosenbrock()
    traj = Fresh(lambda: lk.run(rosen, "sgd", 20))
    T = []

    def add(label, fn, valid, **aliases):
        T.append((label, fn, valid, aliases))

    def from_signature(prefix, fn, overrides=None, skip=()):
        valid = {}
        for k, p in inspect.signature(fn).parameters.items():
            if k in skip or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
                continue
            valid[k] = p.default if p.default is not inspect.Parameter.empty else None
        valid.update(overrides or {})
        add(f"{prefix}{fn.__name__}", fn, valid)

    # Problems: the compiled registry, the matrix ones, and the record itself.
    for fn in lk.problems.registry.values():
        from_signature("problems.", fn)
    for fn in (lk.problems.softmax_regression, lk.problems.separable_logistic, lk.problems.blobs_logistic,
               lk.problems.two_layer_linear, lk.problems.scale_invariant):
        from_signature("problems.", fn, {"n": 20} if "n" in inspect.signature(fn).parameters else None)
    rng = np.random.default_rng(0)
    add("problems.logistic_regression", lk.problems.logistic_regression,
        dict(A=rng.standard_normal((10, 2)), y=np.where(np.arange(10) % 2, 1.0, -1.0), l2=0.0, name=None, x0=None))
    add("problems.get", lk.problems.get, dict(name="rastrigin", n=3), name=("problem",))
    add("Problem.with_noise", lambda noise, seed: rosen.with_noise(noise, seed), dict(noise=0.1, seed=0))
    add("Problem.grid", lambda n: rosen.grid(n), dict(n=5))
    add("Problem", lambda **kw: lk.Problem(**kw),
        dict(name="bowl", f=lambda x: float(np.sum(np.asarray(x) ** 2)), grad=lambda x: 2.0 * np.asarray(x),
             hess=None, x0=[1.0, -0.5], x_star=None, f_star=None, domain=None, noise=0.0, seed=0, minima=(),
             shapes=(), extras={}))

    # Drivers.
    opt = dict(optimizer=("optimizer",))
    add("run", lk.run, dict(problem=rosen, rule="adam", steps=30, x0=None, schedule=None, tol=1e-8), rule=opt["optimizer"])
    add("run[python problem]", lk.run, dict(problem=Fresh(_user_problem), rule="sgd", steps=20, x0=None,
                                            schedule=None, tol=1e-8, lr=0.01), rule=opt["optimizer"])
    add("run[muon]", lk.run, dict(problem=lk.problems.scale_invariant(), rule="muon", steps=5, ns_steps=5),
        rule=opt["optimizer"])
    add("sweep", lk.sweep, dict(problem=rosen, rule="sgd", steps=20, x0=None, schedule=None, tol=1e-8,
                                progress=False, lr=[1e-3, 2e-3]), rule=opt["optimizer"])
    add("check_gradient", lk.check_gradient, dict(problem=Fresh(_user_problem), points=None, n=2, seed=0))
    add("compare", cmp.compare, dict(suite=["rosenbrock"], rules=["sgd"], protocols=cmp.defaults(), horizon=20,
                                     seeds=(0,), tol=1e-6, tune_horizon=None, executor=None, progress=False),
        rules=("optimizer", "rule"), suite=("problem",))
    for fn in (cmp.lr_grid, cmp.random_search, cmp.algoperf):
        from_signature("compare.", fn)

    # Optimizer constructors.
    add("optim.get", lk.optim.get, dict(name="adam", lr=0.01), name=opt["optimizer"])
    for fn in lk.optim.registry.values():
        from_signature("optim.", fn)

    # Schedules.
    add("schedules.step", S.step, dict(step_size=10, gamma=0.1))
    add("schedules.exponential", S.exponential, dict(gamma=0.9))
    add("schedules.cosine", S.cosine, dict(total=100, warmup=0, floor=0.0))
    add("schedules.linear", S.linear, dict(total=100, warmup=0, floor=0.0))
    from_signature("schedules.", S.wsd, dict(warmup=10, stable=10, decay=10))
    from_signature("schedules.", S.power)
    add("schedules.refined", S.refined, dict(grad_norms=[3.0, 2.0, 1.0], smoothing=0.0, power=2.0))
    add("schedules.scale_lr_for_batch", S.scale_lr_for_batch, dict(lr=0.1, batch_size=64, base_batch_size=32,
                                                                    rule="linear"))
    add("Schedule.values", lambda steps: S.cosine(100).values(steps), dict(steps=10))

    # Plots.
    add("viz.contour", viz.contour, dict(problem=rosen, ax=None, n=20, levels=10))
    add("viz.trajectories", viz.trajectories, dict(problem=rosen, trajs=traj, ax=None, labels=None))
    add("viz.loss_curves", viz.loss_curves, dict(trajs=traj, ax=None, labels=None, gap=True))
    add("viz.series_styles", viz.series_styles, dict(n=3))
    add("viz.space_markers", viz.space_markers, dict(lines=[], n=10))

    # Three-body.
    fig8 = tb.figure_eight()
    add("threebody.paper_system", tb.paper_system, dict(seed=0))
    for fn in (tb.leapfrog, tb.rk4):
        add(f"threebody.{fn.__name__}", fn, dict(dt=1e-3))
    add("threebody.hermite", tb.hermite, dict(mu=0.03, kahan=True))
    add("threebody.hermite_aarseth", tb.hermite_aarseth, dict(eta=0.02, kahan=True))
    add("threebody.ias15", tb.ias15, dict(eps=1e-9))
    add("threebody.init", tb.init, dict(system=fig8))
    add("threebody.evolve", tb.evolve, dict(state=Fresh(lambda: tb.init(fig8)), integrator=tb.ias15(), t=0.1,
                                            max_steps=10_000))
    add("threebody.advance", tb.advance, dict(state=Fresh(lambda: tb.init(fig8)), integrator=tb.ias15(), dt=0.1,
                                              max_steps=10_000))
    add("threebody.integrate", tb.integrate, dict(system=fig8, integrator=tb.ias15(), t_end=0.1, n_out=4,
                                                  record_steps=True, max_steps=10_000))
    add("threebody.System", lambda **kw: tb.System(**kw),
        dict(name="pair", m=[1.0, 1.0], x=[[1.0, 0.0], [-1.0, 0.0]], v=[[0.0, 0.5], [0.0, -0.5]], G=1.0))

    # The labs.
    from labkit import analysis as A
    from labkit import landscape as L
    from labkit import separable as SP
    from labkit import signs as SG
    from labkit import stochastic as ST
    quad = lk.problems.quadratic()
    qtraj = Fresh(lambda: lk.run(quad, "sgd", 20, lr=0.1))
    for fn in (A.gd_stability_limit, A.gd_optimal_lr, A.polyak_optimal):
        add(f"analysis.{fn.__name__}", fn, dict(problem_or_eigs=quad))
    for fn in (A.heavy_ball_limit, A.nesterov_limit):
        add(f"analysis.{fn.__name__}", fn, dict(problem_or_eigs=quad, momentum=0.5))
    add("analysis.iteration_matrix", A.iteration_matrix, dict(lam=1.0, lr=0.1, momentum=0.5, nesterov=False))
    add("analysis.eigen_rates", A.eigen_rates, dict(problem=quad, rule="sgd", lr=0.1), rule=opt["optimizer"])
    add("analysis.error_split", A.error_split, dict(traj=qtraj, problem=None))
    add("analysis.stability_map", A.stability_map, dict(problem=quad, rule="sgd", steps=20, tol=1e-8, x0=None,
                                                        progress=False, lr=[0.01, 0.1], momentum=[0.0, 0.5]),
        rule=opt["optimizer"])
    add("analysis.divergence_threshold", A.divergence_threshold, dict(problem=quad, rule="sgd", steps=50, lo=0.01,
                                                                      hi=1.0, rtol=1e-3, x0=None), rule=opt["optimizer"])
    add("analysis.sharpness", A.sharpness, dict(problem=quad, xs=np.zeros((3, 2)), every=1))
    add("analysis.sharpness_power", A.sharpness_power, dict(hvp=quad, x=[0.0, 0.0], iters=20, seed=0))
    add("stochastic.sgd_stationary_loss", ST.sgd_stationary_loss, dict(problem_or_eigs=quad, lr=0.01, noise_std=0.1))
    add("stochastic.schedule_comparison", ST.schedule_comparison,
        dict(problem=quad.with_noise(0.1), rule="sgd", steps=20, schedules={"c": S.constant()}, seeds=2,
             progress=False, lr=0.01), rule=opt["optimizer"])
    add("stochastic.batch_size_scaling", ST.batch_size_scaling,
        dict(problem=quad, rule="sgd", batch_sizes=[1, 2], lr=0.01, noise_std=0.1, steps=20, seeds=2,
             progress=False), rule=opt["optimizer"])
    add("landscape.gradient_field", L.gradient_field, dict(problem=rosen, n=5))
    add("landscape.hessian_at", L.hessian_at, dict(problem=rosen, x=[0.0, 0.0]))
    add("landscape.basins", L.basins, dict(problem=rosen, rule="sgd", steps=10, n=4, progress=False, lr=1e-3),
        rule=opt["optimizer"])
    sep = lk.problems.separable_logistic(n=20)
    add("separable.lr_gd", SP.lr_gd, dict(problem=sep, gamma=1.0, steps=10))
    add("separable.batch_perceptron", SP.batch_perceptron, dict(problem=sep, steps=10))
    add("separable.steps_to_separation", SP.steps_to_separation, dict(problem=sep, method="lr_gd", gamma=1.0,
                                                                      max_steps=100))
    add("signs.box_minimiser", SG.box_minimiser, dict(problem=rosen, bound=0.5, x0=None, tol=1e-12, max_iter=50))
    add("signs.sign_state", SG.sign_state, dict(problem=rosen, rule="sign_sgd", steps=10, x0=None, schedule=None),
        rule=opt["optimizer"])

    # Explorers (each builds a figure: a few arguments, small sizes).
    from labkit import widgets as W
    add("widgets.StepSizeExplorer", W.StepSizeExplorer, dict(problem=rosen, rules=("sgd",), steps=20, lr=None,
                                                             momentum=None, contour_n=12), rules=opt["optimizer"])
    add("widgets.SignUpdateExplorer", W.SignUpdateExplorer,
        dict(problems={"rosenbrock": rosen}, rules=("sign_sgd",), steps=20, lr=0.01, b1=0.9, b2=0.99,
             weight_decay=0.0, decay=False, contour_n=12), rules=opt["optimizer"], problems=("problem",))
    add("widgets.LandscapeExplorer", W.LandscapeExplorer,
        dict(problems=rosen, rules=("sgd",), steps=20, lr=0.01, x0=None, quiver=False, contour_n=12),
        rules=opt["optimizer"], problems=("problem",))
    add("widgets.SeparableExplorer", W.SeparableExplorer, dict(problem=None, steps=20, gamma=1.0, t=None))
    smap = A.stability_map(quad, "sgd", 20, progress=False, lr=[0.01, 0.1, 0.2], momentum=[0.0, 0.5])
    add("widgets.StabilityMapExplorer", W.StabilityMapExplorer, dict(smap=smap, value0=None, value1=None,
                                                                     what="f_final", contour_n=12))
    add("widgets.ThreeBodyExplorer", W.ThreeBodyExplorer, dict(system="figure_eight", integrator="hermite",
                                                               mu=None, policy=False, seed=0, t_end=0.5, n_out=8))
    return T


# ----------------------------------------------------------------------------- one call

class Hang(BaseException):
    """Raised by the alarm: a BaseException, so an ``except Exception`` in the code under test
    cannot swallow it."""


@contextmanager
def _time_limit(seconds):
    def on_alarm(signum, frame):
        raise Hang()
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    # A compiled loop never returns to the interpreter, so the alarm cannot interrupt it: the
    # watchdog ends the process (with every thread's traceback) instead of hanging CI.
    faulthandler.dump_traceback_later(3 * seconds + 30, exit=True)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        faulthandler.cancel_dump_traceback_later()


def _materialise(valid):
    return {k: (v.make() if isinstance(v, Fresh) else v) for k, v in valid.items()}


def attempt(target, changes):
    """Call ``target`` with ``changes`` applied to its valid arguments; (outcome, detail)."""
    import matplotlib.pyplot as plt
    name, fn, valid, aliases = target
    kwargs = _materialise(valid)
    kwargs.update(_materialise(changes))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with _time_limit(LIMIT_S):
                out = fn(**kwargs)
        outcome, detail = "ok", ""
        close = getattr(out, "close", None)
        if callable(close) and name.startswith("widgets."):
            close()
    except Hang:
        outcome, detail = "hang", f"still running after {LIMIT_S:g} s"
    except (ValueError, TypeError) as e:
        msg = str(e).lower()
        words = [w for k in changes for w in (k, *aliases.get(k, ()))]
        if any(w.lower() in msg for w in words):
            outcome, detail = "clear", f"{type(e).__name__}: {e}"
        else:
            outcome, detail = "unclear", f"{type(e).__name__}: {e}"
    except lk.DivergenceWarning as e:       # raised on purpose by the stochastic labs (lr too large)
        outcome, detail = "ok", f"DivergenceWarning: {e}"
    except RuntimeError as e:
        documented = name.startswith("threebody.") and "max_steps" in str(e) or "non-finite" in str(e)
        outcome, detail = ("ok" if documented else "unclear"), f"RuntimeError: {e}"
    except Exception as e:      # noqa: BLE001 -- anything else is what the fuzz is looking for
        outcome, detail = "unclear", f"{type(e).__name__}: {e}"
    finally:
        plt.close("all")
    return outcome, detail[:300]


def cases(targets):
    """Every (target, argument, bad value): the script's cross product."""
    bad_values = BAD + _special_bad()
    for t in targets:
        for arg in t[2]:
            for bad in bad_values:
                yield t, {arg: bad}


# ----------------------------------------------------------------------------- the test

_TARGETS = None


def _all_targets():
    global _TARGETS
    if _TARGETS is None:
        _TARGETS = _targets()
        for t in _TARGETS:                 # valid arguments work (and compile what they need, untimed)
            name, fn, valid, _ = t
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = fn(**_materialise(valid))
            if name.startswith("widgets."):
                out.close()
        import matplotlib.pyplot as plt
        plt.close("all")
    return _TARGETS


# ----------------------------------------------------------------------------- the issue's examples

def _issue_cases():
    p = lk.problems.rosenbrock()
    return [
        (lambda: lk.run("abc", "adam"), ValueError, "unknown problem 'abc'"),
        (lambda: lk.run(3, "adam"), TypeError, "problem must be a Problem"),
        (lambda: lk.run(None, "adam"), TypeError, "problem must be a Problem"),
        (lambda: lk.check_gradient("nope"), ValueError, "unknown problem"),
        (lambda: lk.check_gradient(1.5), TypeError, "problem must be a Problem"),
        (lambda: lk.problems.rosenbrock(seed=float("inf")), ValueError, "seed must be an integer"),
        (lambda: lk.problems.rosenbrock(noise=None), ValueError, "noise must be a finite number"),
        (lambda: lk.problems.rosenbrock(seed=None), ValueError, "seed must be an integer"),
        (lambda: lk.viz.trajectories(p, [1, 2]), TypeError, "trajs must be a Trajectory"),
        (lambda: lk.optim.muon(ns_steps=10**12), ValueError, "ns_steps must be an integer >= 1 and <= 1000"),
        (lambda: lk.optim.swan(ns_steps=10**12), ValueError, "ns_steps must be an integer >= 1 and <= 1000"),
        (lambda: lk.optim.sinkgd(iterations=10**12), ValueError, "iterations must be an integer >= 1 and <= 1000"),
        (lambda: lk.run(p, "adam", 10**9), ValueError, r"steps=1000000000 .* at most about [\d,]+ steps fit"),
        (lambda: lk.sweep(p, "sgd", 10**12, progress=False), ValueError, r"steps fit"),
    ]


def test_the_issue_examples_fail_clearly():
    import re

    import pytest
    for call, kind, message in _issue_cases():
        with pytest.raises(kind) as info:
            call()
        assert re.search(message, str(info.value)), str(info.value)


def test_run_takes_a_problem_name_as_compare_does():
    by_name = lk.run("rosenbrock", "adam", 50, lr=0.01)
    by_record = lk.run(lk.problems.rosenbrock(), "adam", 50, lr=0.01)
    np.testing.assert_array_equal(by_name.xs, by_record.xs)
    assert lk.sweep("rosenbrock", "sgd", 20, lr=[1e-3], progress=False)["f_final"].iloc[0] == \
        lk.run("rosenbrock", "sgd", 20, lr=1e-3).f_final


def test_fuzz_public_api():
    import pytest
    pytest.importorskip("ipywidgets")
    from hypothesis import given, settings
    from hypothesis import strategies as st

    targets = _all_targets()
    bad_values = BAD + _special_bad()
    tally = {"ok": 0, "clear": 0, "unclear": [], "hang": []}

    # Generated values beside the fixed pool.  Integers are small or huge, never in between: a run of
    # a million steps of a Python-defined problem is slow work, not a hang, and not what this looks for.
    numbers = st.one_of(st.integers(-10, 300), st.integers(10**12, 2**80), st.integers(-2**80, -1),
                        st.floats(allow_nan=True, allow_infinity=True))
    generated = st.one_of(numbers, st.none(), st.booleans(), st.text(max_size=6),
                          st.lists(numbers, max_size=4), st.tuples(numbers, numbers))

    @st.composite
    def case(draw):
        t = draw(st.sampled_from(targets))
        args = draw(st.lists(st.sampled_from(sorted(t[2])), min_size=1, max_size=2, unique=True))
        # A valid value now and then, so that two changed arguments also meet one good one.
        value = st.one_of(st.sampled_from(bad_values), generated)
        return t, {a: draw(st.one_of(value, st.just(t[2][a])) if len(args) > 1 else value) for a in args}

    @settings(max_examples=1500, deadline=None, derandomize=True, database=None)
    @given(case())
    def check(c):
        t, changes = c
        outcome, detail = attempt(t, changes)
        if outcome in ("unclear", "hang"):
            tally[outcome].append(f"{t[0]}({', '.join(f'{k}={_bad_repr(v)}' for k, v in changes.items())}): {detail}")
        else:
            tally[outcome] += 1

    check()
    n = tally["ok"] + tally["clear"] + len(tally["unclear"]) + len(tally["hang"])
    print(f"\nfuzz: {n} inputs, {tally['ok']} results, {tally['clear']} clear errors, "
          f"{len(tally['unclear'])} unclear, {len(tally['hang'])} hangs")
    assert not tally["hang"], "\n".join(tally["hang"])
    assert not tally["unclear"], "\n".join(tally["unclear"])


def main(prefixes):
    import time
    t0 = time.perf_counter()
    targets = [t for t in _all_targets() if not prefixes or any(t[0].startswith(p) for p in prefixes)]
    counts = {"ok": 0, "clear": 0, "unclear": 0, "hang": 0}
    for t, changes in cases(targets):
        outcome, detail = attempt(t, changes)
        counts[outcome] += 1
        if outcome in ("unclear", "hang"):
            args = ", ".join(f"{k}={_bad_repr(v)}" for k, v in changes.items())
            print(f"{outcome.upper()}: {t[0]}({args}): {detail}", flush=True)
    n = sum(counts.values())
    print(f"fuzz: {n} inputs over {len(targets)} entry points in {time.perf_counter() - t0:.0f} s: "
          f"{counts['ok']} results, {counts['clear']} clear errors, {counts['unclear']} unclear, "
          f"{counts['hang']} hangs")
    return 1 if counts["unclear"] or counts["hang"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
