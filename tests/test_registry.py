"""Contract tests over the optimizer and problem registries (scikit-learn's test_common idea).

Every registered rule is documented (update in math, a reference), has torch's defaults
where torch has the rule, runs without recompiling when only hyperparameter values
change, meets the claims it makes in ``lk.optim.CLAIMS``, and agrees between the single
run, the batched sweep and the Python path.  Every registered problem is a well-formed
record whose gradient and minimiser agree with its objective.
"""
import inspect
import math
import re
import warnings

import numpy as np
import pytest

import labkit as lk
from labkit import problems as P
from labkit import vrules
from labkit._engine import KERNELS, step_kernel

RULES = lk.optim.names()
PROBLEMS = lk.problems.names()

MATH = re.compile(r"\.\. math::|:math:`")
YEAR = re.compile(r"\b(19|20)\d\d\b")
# "D. P. Kingma", "Y.-X. Wang", "Bernstein et al.", or a torch / pytorch-optimizer implementation.
AUTHOR = re.compile(r"\b[A-Z]\.(?:\s?-?[A-Z]\.)*\s[A-Z][A-Za-z'-]+|\b[A-Z][a-z]+ et al\.|(?i:torch)")


def quiet(fn, *args, **kwargs):
    """Call fn with DivergenceWarning silenced (some contract calls use huge int steps on purpose)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lk.DivergenceWarning)
        return fn(*args, **kwargs)


# ----------------------------------------------------------------------------- (a) documentation

@pytest.mark.cpu_independent
@pytest.mark.parametrize("name", RULES)
def test_rule_docstring_has_math_and_reference(name):
    doc = inspect.getdoc(lk.optim.registry[name]) or ""
    assert MATH.search(doc), f"{name}: the docstring must state the update rule in math (.. math:: or :math:)"
    m = re.search(r"^References?:", doc, re.M)
    assert m, f"{name}: the docstring needs a 'Reference:' / 'References:' paragraph"
    refs = doc[m.start():]
    assert YEAR.search(refs), f"{name}: the reference paragraph has no year: {refs!r}"
    assert AUTHOR.search(refs), f"{name}: the reference paragraph names no author (or torch): {refs!r}"


@pytest.mark.cpu_independent
@pytest.mark.parametrize("name", RULES)
def test_rule_reference_is_data_and_matches_docstring(name):
    rule = lk.optim.get(name)
    assert isinstance(rule.reference, str) and rule.reference.strip(), f"{name}: Rule.reference is empty"
    assert YEAR.search(rule.reference) or "torch" in rule.reference.lower(), rule.reference
    # Citations as data: every source in Rule.reference is one that describe() shows.
    doc = inspect.getdoc(lk.optim.registry[name])
    for source in rule.reference.split(";"):
        first = source.split()[0].strip(",")
        key = "torch" if "torch" in first.lower() else first
        assert key.lower() in doc.lower(), (f"{name}: Rule.reference cites {source.strip()!r}, "
                                            f"which the docstring (lk.optim.describe) does not mention")


@pytest.mark.cpu_independent
@pytest.mark.parametrize("name", RULES)
def test_describe_prints_and_returns_the_docstring(name, capsys):
    text = lk.optim.describe(name)
    doc = inspect.getdoc(lk.optim.registry[name])
    assert doc in text
    assert str(inspect.signature(lk.optim.registry[name])) in text     # the defaults are shown too
    assert capsys.readouterr().out == text + "\n"
    assert lk.optim.describe(lk.optim.get(name)) == text               # a Rule works as well
    capsys.readouterr()


def test_describe_unknown_name_suggests():
    with pytest.raises(ValueError, match="'adam'"):
        lk.optim.describe("adma")


# ----------------------------------------------------------------------------- (b) defaults

# torch.optim's documented defaults (torch 2.x), in labkit's names (betas -> b1, b2).
TORCH_DEFAULTS = {
    "sgd": ("SGD", dict(lr=1e-3, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0)),
    "adam": ("Adam", dict(lr=1e-3, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False)),
    "adamw": ("AdamW", dict(lr=1e-3, b1=0.9, b2=0.999, eps=1e-8, weight_decay=1e-2, amsgrad=False)),
    "adagrad": ("Adagrad", dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                                eps=1e-10)),
    "rmsprop": ("RMSprop", dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False)),
}


@pytest.mark.cpu_independent
@pytest.mark.parametrize("name", RULES)
def test_constructs_with_no_arguments(name):
    rule = lk.optim.registry[name]()
    assert isinstance(rule, lk.optim.Rule)
    assert rule.name == name
    assert rule.kind in KERNELS or callable(getattr(vrules, rule.vstep))
    defaults = {k: p.default for k, p in inspect.signature(lk.optim.registry[name]).parameters.items()}
    assert all(v is not inspect.Parameter.empty for v in defaults.values()), f"{name}: a parameter has no default"
    assert rule.hyperparameters == defaults
    assert rule.lr == defaults["lr"] > 0
    assert len(rule.hp) == lk.optim.NHP and all(isinstance(v, float) for v in rule.hp)
    assert len(rule.state0) == lk.optim.NSLOT
    assert lk.optim.get(name).hyperparameters == rule.hyperparameters
    assert rule.replace().hyperparameters == rule.hyperparameters


@pytest.mark.cpu_independent
@pytest.mark.parametrize("name", sorted(TORCH_DEFAULTS))
def test_defaults_are_torchs(name):
    _, expected = TORCH_DEFAULTS[name]
    assert lk.optim.get(name).hyperparameters == expected


@pytest.mark.cpu_independent
@pytest.mark.parametrize("name", sorted(TORCH_DEFAULTS))
def test_hardcoded_defaults_match_installed_torch(name):
    torch = pytest.importorskip("torch")
    cls, expected = TORCH_DEFAULTS[name]
    params = inspect.signature(getattr(torch.optim, cls)).parameters
    theirs = {k: p.default for k, p in params.items()}
    for key, value in expected.items():
        if key in ("b1", "b2"):
            got = theirs["betas"][0 if key == "b1" else 1]
        else:
            got = theirs[key]
        assert got == value, f"torch.optim.{cls}: {key} defaults to {got!r}, labkit's table says {value!r}"


# pytorch-optimizer is the reference for the sign rules and Lion (torch has none).
PYTORCH_OPTIMIZER_DEFAULTS = {
    "lion": ("Lion", dict(lr=1e-4, b1=0.9, b2=0.99, weight_decay=0.0)),
    "signum": ("SignSGD", dict(lr=1e-3, momentum=0.9, weight_decay=0.0)),
}


@pytest.mark.cpu_independent
@pytest.mark.parametrize("name", sorted(PYTORCH_OPTIMIZER_DEFAULTS))
def test_defaults_are_pytorch_optimizers(name):
    cls, expected = PYTORCH_OPTIMIZER_DEFAULTS[name]
    assert lk.optim.get(name).hyperparameters == expected
    po = pytest.importorskip("pytorch_optimizer")
    theirs = {k: p.default for k, p in inspect.signature(getattr(po, cls)).parameters.items()}
    for key, value in expected.items():
        got = theirs["betas"][0 if key == "b1" else 1] if key in ("b1", "b2") else theirs[key]
        assert got == value, f"pytorch_optimizer.{cls}: {key} defaults to {got!r}, labkit's table says {value!r}"


# ----------------------------------------------------------------------------- (c) no recompilation

# Other values of the same types, per hyperparameter name (filtered to each rule's own).
OTHER_FLOATS = dict(lr=0.0371, b1=0.8, b2=0.99, eps=1e-6, momentum=0.5, alpha=0.9, weight_decay=1e-3,
                    lr_decay=1e-3, dampening=0.1, initial_accumulator_value=0.1)
OTHER_FLAGS = dict(amsgrad=True, centered=True, nesterov=True, momentum=0.9)
# Python ints where floats (and bools) are expected: each must be converted at the boundary.
INTS = dict(lr=1, momentum=0, dampening=0, weight_decay=0, lr_decay=0, initial_accumulator_value=0, b1=0,
            eps=0, amsgrad=0, centered=0, nesterov=0)


# Where a value above is outside a rule's allowed range: Sophia's eps floors h, so it is > 0.
OVERRIDES = {"sophia": dict(eps=1)}


def _own(name, values):
    allowed = inspect.signature(lk.optim.registry[name]).parameters
    return {k: v for k, v in {**values, **OVERRIDES.get(name, {})}.items() if k in allowed}


def _user_quadratic():
    A = np.array([[2.0, 0.5], [0.5, 1.0]])
    return lk.Problem(name="user quadratic", f=lambda x: 0.5 * x @ A @ x, grad=lambda x: A @ x, hess=lambda x: A,
                      x0=[1.0, -1.0],
                      x_star=[0.0, 0.0], f_star=0.0)


def _compile_state(dispatchers):
    return [(d.py_func.__name__, len(d.signatures), sum(d.stats.cache_misses.values())) for d in dispatchers]


@pytest.mark.cpu_independent
@pytest.mark.parametrize("name", RULES)
def test_no_recompilation_when_hyperparameter_values_change(name):
    rule = lk.optim.get(name)
    if rule.needs == "sigmoid_weight":
        pytest.skip("runs on logistic problems only: test_normalized_lr_gd_compiles_once")
    if rule.vector:           # one kernel, labkit.vrules.<rule>_vstep, driven from Python
        watched = [getattr(vrules, rule.vstep), P.objective]
    else:
        watched = [*KERNELS[rule.kind], P.objective, step_kernel]
    quad = lk.problems.quadratic(eigs=(1, 10))
    user = _user_quadratic()
    steps = 20

    # First use: compiles (or loads from the disk cache) once per kernel; single runs once
    # per problem kind (labkit.problems.kind_tag), so Rosenbrock is a first use too.
    quiet(lk.run, quad, name, steps, lr=0.01)
    quiet(lk.run, lk.problems.rosenbrock(), name, steps, lr=1e-3)
    quiet(lk.sweep, quad, name, steps, lr=[0.01, 0.02])
    quiet(lk.run, user, name, 3, lr=0.01)
    before = _compile_state(watched)

    # Other float values, other flags, Python ints, other problems of the same kinds
    # (another spectrum, another dimension), noise, a schedule.
    quiet(lk.run, quad, name, steps, **_own(name, OTHER_FLOATS))
    quiet(lk.run, quad, name, steps, **_own(name, {**OTHER_FLAGS, "dampening": 0.0}))
    quiet(lk.run, quad, name, steps, x0=[1, 2], **_own(name, INTS))
    quiet(lk.run, lk.problems.rosenbrock_nd(5), name, steps, lr=1e-3)
    quiet(lk.run, lk.problems.quadratic(eigs=(1, 2, 50), basis_seed=3), name, steps, lr=1e-3)
    quiet(lk.run, quad.with_noise(0.1, seed=7), name, steps, lr=0.01, schedule=lambda k: 0.5)
    quiet(lk.sweep, quad, name, steps, **_own(name, {**OTHER_FLOATS, "lr": [0.03, 0.3]}))
    quiet(lk.sweep, quad, name, steps, x0=[[1, 2], [3, 4]], **{**_own(name, INTS), "lr": [1, 2]})
    quiet(lk.sweep, lk.problems.rosenbrock().with_noise(0.1), name, steps, lr=[1e-3], seed=[1, 2])
    quiet(lk.run, user, name, 3, **_own(name, INTS))
    quiet(lk.run, user, name, 3, **_own(name, OTHER_FLOATS))

    after = _compile_state(watched)
    assert after == before, (f"{name}: a kernel compiled again when only hyperparameter values changed "
                             f"(name, signatures, cache misses): {before} -> {after}")


def test_normalized_lr_gd_compiles_once():
    kernel = vrules.normalized_lr_gd_vstep
    lk.run(lk.problems.separable_logistic(), "normalized_lr_gd", 5, lr=1.0)
    before = _compile_state([kernel])
    lk.run(lk.problems.separable_logistic(n=50, d=3, seed=2), "normalized_lr_gd", 5, lr=7)
    lk.run(lk.problems.blobs_logistic(), "normalized_lr_gd", 5, lr=0.5, schedule=lambda k: 0.5)
    assert _compile_state([kernel]) == before


# ----------------------------------------------------------------------------- (d) claims

CLAIM_MARGIN = 10
CLAIM_CASES = [(name, i) for name in sorted(lk.optim.CLAIMS) for i in range(len(lk.optim.CLAIMS[name]))]


def test_every_rule_claims_something():
    missing = [n for n in RULES if not lk.optim.CLAIMS.get(n)]
    assert not missing, f"rules without a convergence claim in lk.optim.CLAIMS: {missing}"
    unknown = sorted(set(lk.optim.CLAIMS) - set(RULES))
    assert not unknown, f"claims for unregistered rules: {unknown}"


@pytest.mark.parametrize("name, i", CLAIM_CASES,
                         ids=[f"{n}-{lk.optim.CLAIMS[n][i][0]}-{i}" for n, i in CLAIM_CASES])
def test_rule_meets_its_claim(name, i):
    problem_name, problem_kwargs, hp, steps, tol = lk.optim.CLAIMS[name][i]
    problem = getattr(lk.problems, problem_name)(**problem_kwargs)
    tr = lk.run(problem, name, steps, **hp)
    assert not tr.diverged
    assert len(tr.xs) == steps + 1
    gap = tr.f[-1] - problem.f_star
    # 10x to spare: where a rule settles inside its band depends on rounding (another CPU,
    # another BLAS kernel), and such a difference must not flip the claim.
    assert gap <= tol / CLAIM_MARGIN, (f"{name} on {problem.name} with {hp}: f - f* = {gap:.3g} > "
                                       f"{tol:g} / {CLAIM_MARGIN} after {steps} steps")

    # The batched kernel reaches the same point, bit for bit.
    df = lk.sweep(problem, name, steps, tol=tol, **hp)
    assert len(df) == 1 and not df["diverged"][0]
    assert df["f_final"][0] == tr.f[-1]
    shown = min(problem.dim, 8)                          # the frame has the first 8 coordinates
    np.testing.assert_array_equal(df[[f"x_final_{j}" for j in range(shown)]].to_numpy()[0], tr.xs[-1, :shown])
    hit = np.nonzero(tr.f - problem.f_star <= tol)[0]
    assert df["steps_to_tol"][0] == hit[0]


# ----------------------------------------------------------------------------- (e) dispatch

def test_every_kind_has_kernels():
    kinds = {lk.optim.get(n).kind for n in RULES if not lk.optim.get(n).vector}
    assert kinds <= set(KERNELS), f"rule kinds without kernels: {kinds - set(KERNELS)}"
    assert set(KERNELS) <= kinds, f"kernels no registered rule uses: {set(KERNELS) - kinds}"
    for kind, pair in KERNELS.items():
        assert len(pair) == 2
        for kernel in pair:
            assert hasattr(kernel, "signatures") and hasattr(kernel, "stats"), f"kind {kind}: {kernel!r} is not jitted"


@pytest.mark.parametrize("name", RULES)
def test_python_path_matches_compiled_kernel(name):
    """A user-defined problem (Python f and grad, driven by step_kernel) follows the built-in
    quadratic's trajectory exactly when its gradient does the same arithmetic."""
    builtin = lk.problems.quadratic(eigs=(1, 10), angle=0.3)
    A, c = builtin.params[:4].reshape(2, 2), builtin.params[4:]

    def grad(x):        # the kernel's summation order: g_i = sum_k a_ik (x_k - c_k), from 0.0
        g = [0.0, 0.0]
        for i in range(2):
            for k in range(2):
                g[i] += A[i, k] * (x[k] - c[k])
        return np.array(g)

    def f(x):
        g = grad(x)
        return 0.0 + 0.5 * (x[0] - c[0]) * g[0] + 0.5 * (x[1] - c[1]) * g[1]

    user = lk.Problem(name="user", f=f, grad=grad, hess=lambda x: A, x0=builtin.x0, x_star=c, f_star=0.0,
                      domain=builtin.domain)
    if lk.optim.get(name).needs == "sigmoid_weight":
        pytest.skip(f"{name} needs {lk.optim.get(name).needs!r} from the problem, which this one lacks")
    a = lk.run(builtin, name, 200, lr=0.01)
    b = lk.run(user, name, 200, lr=0.01)
    assert not a.diverged and not b.diverged
    np.testing.assert_array_equal(b.xs, a.xs)
    np.testing.assert_array_equal(b.f, a.f)
    # The Python path's |g| may differ by an ulp (test_run_sweep checks it bit for bit); the
    # iterates above must not, normalised rules included.
    np.testing.assert_allclose(b.grad_norm, a.grad_norm, rtol=1e-15, atol=0)


# ----------------------------------------------------------------------------- (f) problems

@pytest.mark.cpu_independent
@pytest.mark.parametrize("name", PROBLEMS)
def test_problem_is_documented(name):
    ctor = lk.problems.registry[name]
    doc = inspect.getdoc(ctor) or ""
    assert MATH.search(doc), f"{name}: the docstring must give the objective in math"
    p = ctor()
    assert isinstance(p, lk.Problem)
    assert isinstance(p.reference, str) and p.reference.strip() and p.reference != "user-defined", \
        f"{name}: Problem.reference is empty"
    assert YEAR.search(p.reference), f"{name}: the reference has no year: {p.reference!r}"
    assert lk.problems.get(name).name == p.name


@pytest.mark.cpu_independent
@pytest.mark.parametrize("name", PROBLEMS)
def test_problem_record_is_well_formed(name):
    p = lk.problems.get(name)
    assert p.kernel >= 0, f"{name}: a built-in problem should have a compiled kernel"
    assert p.x0.shape == (p.dim,) and p.x0.dtype == np.float64 and np.all(np.isfinite(p.x0))
    assert np.ndim(p.f(p.x0)) == 0 and np.isfinite(p.f(p.x0))
    assert np.shape(p.grad(p.x0)) == (p.dim,)

    dom = p.domain
    assert isinstance(dom, tuple) and len(dom) == 2, f"{name}: domain must be ((xlo, xhi), (ylo, yhi)), got {dom}"
    for lo_hi in dom:
        assert len(lo_hi) == 2
        lo, hi = lo_hi
        assert math.isfinite(lo) and math.isfinite(hi) and lo < hi, f"{name}: bad domain {dom}"
    for point in [p.x0] + ([p.x_star] if p.x_star is not None else []):
        for i, (lo, hi) in enumerate(dom[:p.dim]):
            assert lo <= point[i] <= hi, f"{name}: {point} lies outside the domain {dom}"


@pytest.mark.parametrize("name", PROBLEMS)
def test_problem_minimiser_and_gradient_agree_with_f(name):
    p = lk.problems.get(name)
    assert (p.x_star is None) == (p.f_star is None)
    # Gradient against central differences of f at the start point.
    h = 1e-6
    fd = np.array([(p.f(p.x0 + h * e) - p.f(p.x0 - h * e)) / (2 * h) for e in np.eye(p.dim)])
    np.testing.assert_allclose(p.grad(p.x0), fd, rtol=1e-6, atol=1e-6 * max(1.0, abs(p.f(p.x0))))
    if p.x_star is None:
        return
    assert p.x_star.shape == (p.dim,)
    assert p.f_star is not None
    assert p.f(p.x_star) == pytest.approx(p.f_star, abs=1e-12)
    assert p.f(p.x0) > p.f_star
    # x_star is a (local) minimiser: no nearby point is lower.  Not |grad| = 0: some problems
    # (diffGrad's) have their minimum at a kink.
    for e in np.eye(p.dim):
        for h in (1e-3, -1e-3, 1e-6, -1e-6):
            assert p.f(p.x_star + h * e) >= p.f_star - 1e-12, f"{name}: f(x_star + {h} e) < f_star"

