r"""Fair optimizer comparison at toy scale: a suite of problems x a set of rules x a tuning protocol.

    from labkit.compare import compare, defaults, lr_grid, random_search, algoperf
    study = compare(["rosenbrock", ("quadratic", {"eigs": (1, 100)}), Task("quadratic", noise=0.5, tol=1e-2)],
                    ["adam", lk.optim.sgd(momentum=0.9), "lion"],
                    [defaults(), lr_grid(15), random_search(15, seed=0), algoperf(5, 3, seed=0)],
                    horizon=(300, 3000), seeds=(0, 1, 2), tol=1e-6)
    study.table                      # one row per (protocol, rule, problem, horizon): the tuned result
    study.ranking("algoperf(5x3)", 3000)
    study.success_matrix("lr_grid(15)", 3000); study.performance_profile("lr_grid(15)", 3000)

What the existing optimizer pictures get wrong, and what this module does instead
(docs/design.md):

* **Unequal tuning.**  torch-optimizer tunes the learning rate only; pytorch_optimizer gives
  an optimizer ``600 x (number of tuned parameters)`` trials.  Here every rule gets the same
  number of trials per problem under a protocol, and the trials of the quasi-random search
  share their points: rule ``a`` and rule ``b`` see the same learning rates (the first
  coordinate of the same Halton points).  Budgets are reported in runs and in steps.
* **Tune at one horizon, plot at another** (100 vs 500 steps in torch-optimizer).  Here the
  hyperparameters are chosen at the horizon that is reported, unless ``tune_horizon`` asks for
  the mistake on purpose (to show what it does).
* **One seed.**  Every trial runs on every noise seed of a noisy problem; a trial's score is
  the median over seeds.  (A noiseless problem from its fixed start is deterministic: it runs
  once per trial, since more seeds would repeat the same numbers bit for bit.)
* **A success target**, as in AlgoPerf: a run succeeds when ``f - f* <= tol`` within the
  horizon; its cost is the first step where that holds (steps to target, ``inf`` if never).
  No gradient clipping anywhere: the rules are the bare update rules of ``lk.optim``.

Protocols (each a :class:`Protocol`; budgets are per rule and per problem):

* :func:`defaults` -- the rule as given (torch's / the paper's defaults unless overridden): 1 trial.
* :func:`lr_grid` -- ``n`` learning rates on a log grid: ``n`` trials.
* :func:`random_search` -- ``n`` seeded quasi-random (Halton, random-shifted) points over the
  learning rate (log scale) and the rule's betas (``1 - beta`` on a log scale; see
  :data:`SPACE`): ``n`` trials, the same points for every rule.
* :func:`algoperf` -- AlgoPerf's external-tuning ruleset: ``S`` independent studies of ``K``
  quasi-random trials each; each study keeps its best trial, and the score is the median of
  the ``S`` study bests (Dahl et al. 2023, "Benchmarking Neural Network Training
  Algorithms", sec. 4.4): ``K x S`` trials.

The best trial is the one with the fewest (median over seeds) steps to target; trials that
never reach it are ordered by their median final gap ``f - f*`` (``inf`` if diverged).

Rules are ranked over the suite by the area under their performance profile
:math:`\rho_s(\tau) = |\{p : r_{p,s} \le \tau\}| / n_p`, :math:`r_{p,s} = t_{p,s} / \min_s t_{p,s}`
(Dolan & More 2002), integrated over :math:`\log\tau \in [0, \log\tau_{max}]` as AlgoPerf
does (``tau_max = 4``); ties (e.g. no rule solves anything) are broken by the median log
final gap, then by name.

Scale-out: the unit of work is one (protocol, rule, problem, horizon) batch of trials,
a module-level function of plain arguments (the problem travels by registry name and
keywords).  ``compare(..., executor=None)`` runs in this process (``lk.sweep``'s Numba
kernels on all cores); any object with ``submit`` following :mod:`concurrent.futures`
runs the batches there and gives the same table::

    from dask.distributed import Client, LocalCluster
    cluster = LocalCluster(n_workers=2, threads_per_worker=1)   # or Client("tcp://scheduler:8786")
    with Client(cluster) as client:
        study = compare(suite, rules, protocols, horizon=3000, seeds=range(5), executor=client)
    cluster.close()

Workers need labkit installed (the same version).  ``ThreadPoolExecutor`` and
``ProcessPoolExecutor`` work too.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import optim as _optim
from . import problems as _problems
from ._errors import DivergenceWarning, check_bool, check_int, check_memory, check_seed, shown, unknown_name

__all__ = ["Task", "Protocol", "Comparison", "compare", "defaults", "lr_grid", "random_search", "algoperf",
           "halton", "search_points", "SPACE", "best_trial", "median_of_best", "performance_ratios",
           "performance_profile", "profile_score", "flips"]

#: The tunable betas and where the quasi-random search looks: ``name -> (lo, hi)`` for
#: ``1 - value`` on a log scale (``b1 in [0.5, 0.99]``, ``b2 in [0.9, 0.9999]``, heavy-ball
#: ``momentum in [0, 0.99]``, RMSprop's ``alpha in [0.9, 0.999]``).  A rule's tuned set is
#: its hyperparameters that appear here; the others keep the rule's values.
SPACE = {
    "b1": (1e-2, 0.5),
    "b2": (1e-4, 0.1),
    "momentum": (1e-2, 1.0),
    "alpha": (1e-3, 0.1),
}
LR_RANGE = (1e-4, 1.0)
TAU_MAX = 4.0
#: Most trials one protocol may ask for per rule and problem (trials x studies): a typo such as
#: ``lr_grid(10**9)`` is refused instead of listing a billion configurations.
MAX_TRIALS = 100_000


def _lr_range(lr) -> tuple:
    """A search range ``(lo, hi)`` with ``0 < lo < hi``, both finite."""
    try:
        lo, hi = (float(v) for v in lr)
    except (TypeError, ValueError):
        lo = hi = math.nan
    if isinstance(lr, (str, bytes)) or not (0 < lo < hi and math.isfinite(hi)):
        raise ValueError(f"lr range must be (lo, hi) with 0 < lo < hi, got {shown(lr)}")
    return (lo, hi)


# ----------------------------------------------------------------------------- quasi-random points

def _primes(k):
    out, c = [], 2
    while len(out) < k:
        if all(c % p for p in out):
            out.append(c)
        c += 1
    return out


def halton(n: int, dim: int, start: int = 1) -> np.ndarray:
    r"""Points ``start .. start+n-1`` of the Halton sequence in ``[0, 1)^dim``, shape ``(n, dim)``.

    Coordinate ``j`` is the radical inverse of the index in the ``j``-th prime base
    (Halton 1960): index :math:`i = \sum_k a_k b^k` maps to :math:`\sum_k a_k b^{-k-1}`.
    ``start=1`` skips the all-zeros point 0.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be an integer >= 0, got {n!r}")
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
        raise ValueError(f"dim must be an integer >= 1, got {dim!r}")
    out = np.empty((int(n), int(dim)))
    for j, base in enumerate(_primes(int(dim))):
        for row, i in enumerate(range(int(start), int(start) + int(n))):
            x, f = 0.0, 1.0 / base
            while i > 0:
                i, digit = divmod(i, base)
                x += digit * f
                f /= base
            out[row, j] = x
    return out


def search_points(n: int, dim: int, seed: int = 0, study: int = 0) -> np.ndarray:
    """``n`` quasi-random points in ``[0, 1)^dim`` for one study: a disjoint segment of the Halton
    sequence (study ``s`` takes indices ``s n + 1 .. (s + 1) n``) under a random shift modulo 1
    (Cranley & Patterson 1976) drawn from ``(seed, study)``.  Deterministic in its arguments."""
    shift = np.random.default_rng([int(seed), int(study)]).random(int(dim))
    return (halton(n, dim, start=int(study) * int(n) + 1) + shift) % 1.0


# ----------------------------------------------------------------------------- suite and protocols

@dataclass(frozen=True)
class Task:
    """One problem of the suite, by registry name (``lk.problems.names()``) and keywords.

    ``noise`` adds Gaussian gradient noise of that standard deviation (``Problem.with_noise``);
    then every trial runs once per seed of :func:`compare`.  ``tol`` is this problem's success
    target ``f - f* <= tol`` (default: the ``tol`` of :func:`compare`).  ``label`` names it in
    tables and figures.
    """

    problem: str
    kwargs: dict = field(default_factory=dict)
    noise: float = 0.0
    tol: float | None = None
    label: str | None = None

    def build(self):
        """The :class:`~labkit.problems.Problem` (noise seed 0)."""
        p = _problems.get(self.problem, **self.kwargs)
        return p.with_noise(self.noise, 0) if self.noise else p

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        base = self.problem if not self.kwargs else _problems.get(self.problem, **self.kwargs).name
        return f"{base} noise={self.noise:g}" if self.noise else base


@dataclass(frozen=True)
class Protocol:
    """A tuning protocol: how many trials each rule gets on each problem, and which.

    ``kind`` is ``"defaults"``, ``"lr_grid"``, ``"random_search"`` or ``"algoperf"``;
    ``trials`` per study, ``studies`` (more than 1 only for AlgoPerf), ``lr`` the search range,
    ``seed`` the quasi-random search's.  Build them with :func:`defaults`, :func:`lr_grid`,
    :func:`random_search`, :func:`algoperf`.
    """

    kind: str
    trials: int = 1
    studies: int = 1
    lr: tuple = LR_RANGE
    seed: int = 0
    name: str = ""

    def __post_init__(self):
        if not isinstance(self.kind, str) or self.kind not in _KINDS:
            raise unknown_name("protocol", self.kind, _KINDS)
        for key in ("trials", "studies"):
            check_int(key, getattr(self, key), 1, MAX_TRIALS)
        if self.trials * self.studies > MAX_TRIALS:
            raise ValueError(f"trials x studies must be <= {MAX_TRIALS}, got {self.trials} x {self.studies}")
        _lr_range(self.lr)
        check_seed("seed", self.seed)
        if not self.name:
            names = {"defaults": "defaults", "lr_grid": f"lr_grid({self.trials})",
                     "random_search": f"random_search({self.trials})",
                     "algoperf": f"algoperf({self.trials}x{self.studies})"}
            object.__setattr__(self, "name", names[self.kind])

    @property
    def budget(self) -> int:
        """Trials per rule and problem (each runs once per noise seed)."""
        return self.trials * self.studies

    def configs(self, rule) -> list:
        """The trials for ``rule`` (a :class:`~labkit.optim.Rule`): ``[(study, trial, hyperparameters)]``."""
        hp = {k: v for k, v in rule.hyperparameters.items()}
        if self.kind == "defaults":
            return [(0, 0, {"lr": float(hp["lr"])})]
        lo, hi = (float(v) for v in self.lr)
        if self.kind == "lr_grid":
            return [(0, i, {"lr": float(v)}) for i, v in enumerate(np.geomspace(lo, hi, self.trials))]
        tuned = tunable(rule)
        out = []
        for s in range(self.studies):
            u = search_points(self.trials, 1 + len(SPACE), self.seed, s)   # same points for every rule
            for i in range(self.trials):
                cfg = {"lr": float(lo * (hi / lo) ** u[i, 0])}
                for j, key in enumerate(SPACE):
                    if key in tuned:
                        a, b = SPACE[key]
                        cfg[key] = float(1.0 - a * (b / a) ** u[i, 1 + j])
                out.append((s, i, cfg))
        return out


_KINDS = ("defaults", "lr_grid", "random_search", "algoperf")


def defaults() -> Protocol:
    """No tuning: each rule with the hyperparameters it was given (torch's defaults otherwise)."""
    return Protocol("defaults")


def lr_grid(n: int = 15, lr: tuple = LR_RANGE) -> Protocol:
    """Tune the learning rate only, on ``n`` log-spaced values in ``lr``."""
    return Protocol("lr_grid", trials=check_int("n", n, 1, MAX_TRIALS), lr=_lr_range(lr))


def random_search(n: int = 15, lr: tuple = LR_RANGE, seed: int = 0) -> Protocol:
    """Tune the learning rate and the betas (:data:`SPACE`) with ``n`` seeded quasi-random points."""
    return Protocol("random_search", trials=check_int("n", n, 1, MAX_TRIALS), lr=_lr_range(lr), seed=seed)


def algoperf(trials: int = 5, studies: int = 3, lr: tuple = LR_RANGE, seed: int = 0) -> Protocol:
    """AlgoPerf external tuning: ``studies`` quasi-random searches of ``trials`` points; median of the bests."""
    return Protocol("algoperf", trials=trials, studies=studies, lr=_lr_range(lr), seed=seed)


def tunable(rule) -> list:
    """The betas :func:`random_search` and :func:`algoperf` tune for ``rule``, in :data:`SPACE` order."""
    return [k for k in SPACE if k in rule.hyperparameters]


# ----------------------------------------------------------------------------- the unit of work

def run_batch(problem: str, problem_kwargs: dict, noise: float, tol: float, rule: str, base: dict,
              configs: list, seeds: list, steps: int) -> dict:
    """Every trial of one batch: ``configs`` (hyperparameter dicts, ``lr`` included) x ``seeds``.

    Plain arguments in, plain lists out, module-level: this is what an executor runs (it
    pickles). Trials that differ only in ``lr`` share one :func:`labkit.sweep`.  Returns
    ``{"f_final", "steps_to_target", "diverged"}``, each a list (config-major, seed-minor);
    ``steps_to_target`` is ``inf`` where the run never reached ``f - f* <= tol``.
    """
    from .sweep import sweep
    p = _problems.get(problem, **problem_kwargs)
    if noise:
        p = p.with_noise(noise, int(seeds[0]))
    groups = {}
    for i, cfg in enumerate(configs):
        rest = tuple(sorted((k, v) for k, v in cfg.items() if k != "lr"))
        groups.setdefault(rest, []).append(i)
    n_s = len(seeds)
    f = [math.nan] * (len(configs) * n_s)
    hit = [math.inf] * (len(configs) * n_s)
    div = [False] * (len(configs) * n_s)
    for rest, idx in groups.items():
        lrs = sorted({configs[i]["lr"] for i in idx})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DivergenceWarning)
            frame = sweep(p, rule, steps, tol=tol, progress=False, lr=lrs, seed=list(seeds), **{**base, **dict(rest)})
        lane = {(float(lr), int(s)): j for j, (lr, s) in enumerate(zip(frame["lr"], frame["seed"]))}
        ff, dv = frame["f_final"].to_numpy(), frame["diverged"].to_numpy()
        st = frame["steps_to_tol"].astype("Float64").fillna(np.inf).to_numpy(dtype=float)
        for i in idx:
            for k, s in enumerate(seeds):
                j = lane[(configs[i]["lr"], int(s))]
                f[i * n_s + k] = float(ff[j])
                hit[i * n_s + k] = float(st[j])
                div[i * n_s + k] = bool(dv[j])
    return {"f_final": f, "steps_to_target": hit, "diverged": div}


# ----------------------------------------------------------------------------- selection and scoring

def _trial_order(frame):
    """Rows of a per-trial frame, best first: fewest steps to target, then smallest gap, then trial order."""
    return frame.sort_values(["steps_to_target", "gap", "study", "trial"], kind="mergesort")


def best_trial(trials):
    """The best row of a per-trial frame (columns ``steps_to_target``, ``gap``, ``study``, ``trial``)."""
    return _trial_order(trials).iloc[0]


def median_of_best(trials):
    """AlgoPerf's score over studies: the best trial of each study, then the median of those.

    ``trials`` has columns ``study``, ``trial``, ``steps_to_target`` (``inf`` for a miss) and
    ``gap``.  Returns the row of the study whose best is the median; with an even number of
    studies, the lower median, so that the result is a trial that was actually run (AlgoPerf's
    ``np.median`` would average the two middle ones; with the usual 3 or 5 studies they agree).
    """
    bests = _trial_order(trials).drop_duplicates("study", keep="first")     # each study's best
    order = _trial_order(bests)
    return order.iloc[(len(order) - 1) // 2]


def performance_ratios(costs):
    r"""Dolan & More's ratios :math:`r_{p,s} = t_{p,s} / \min_s t_{p,s}` of a problem x rule cost frame.

    ``costs`` holds steps to target (``inf`` for a miss); a problem no rule solves gives ``inf``
    for every rule.  Costs below 1 count as 1 (a start already on target).
    """
    t = costs.astype(float).clip(lower=1.0)
    return t.div(t.min(axis=1), axis=0).fillna(np.inf)     # inf / inf (nobody solved p) -> inf


def performance_profile(ratios, taus):
    r""":math:`\rho_s(\tau)`, the fraction of problems on which rule ``s`` is within ``tau`` of the best:
    a frame indexed by ``taus``, one column per rule."""
    import pandas as pd
    taus = np.asarray(taus, dtype=float)
    r = ratios.to_numpy(dtype=float)
    rho = (r[None, :, :] <= taus[:, None, None]).mean(axis=1)
    return pd.DataFrame(rho, index=pd.Index(taus, name="tau"), columns=ratios.columns)


def profile_score(ratios, tau_max: float = TAU_MAX):
    r"""Area under :math:`\rho_s(\tau)` over :math:`\log\tau \in [0, \log\tau_{max}]`, normalised to [0, 1]
    (AlgoPerf's integrated performance profile): :math:`\mathrm{mean}_p \max(0, 1 - \log r_{p,s} / \log\tau_{max})`."""
    r = ratios.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        part = np.where(np.isfinite(r), np.clip(1.0 - np.log(r) / math.log(tau_max), 0.0, 1.0), 0.0)
    import pandas as pd
    return pd.Series(part.mean(axis=0), index=ratios.columns, name="score")


def flips(first: list, second: list) -> list:
    """Pairs ``(a, b)`` ranked ``a`` above ``b`` in ``first`` and ``b`` above ``a`` in ``second``."""
    pos = {r: i for i, r in enumerate(second)}
    return [(a, b) for i, a in enumerate(first) for b in first[i + 1:] if a in pos and b in pos and pos[b] < pos[a]]


# ----------------------------------------------------------------------------- the study

def _task(spec) -> Task:
    if isinstance(spec, Task):
        t = spec
    elif isinstance(spec, str):
        t = Task(spec)
    elif isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str) and isinstance(spec[1], dict):
        t = Task(spec[0], dict(spec[1]))
    else:
        raise ValueError(f"a suite entry is a problem name, (name, kwargs) or a Task; got {spec!r}")
    if t.problem not in _problems.registry:
        raise unknown_name("problem", t.problem, _problems.registry)
    p = t.build()
    if p.f_star is None:
        raise ValueError(f"{t.name} has no known f_star, so no success target f - f* <= tol; "
                         f"choose a problem with a known minimum")
    if not (math.isfinite(t.noise) and t.noise >= 0):
        raise ValueError(f"noise must be a finite standard deviation >= 0, got {t.noise!r}")
    return t


def _rules(rules) -> dict:
    if isinstance(rules, (str, _optim.Rule)):
        rules = [rules]
    items = rules.items() if isinstance(rules, dict) else [(None, r) for r in _listed("rules", rules, "rule names or Rules")]
    out = {}
    for label, r in items:
        rule = _optim.get(r)                       # unknown names raise with suggestions
        if label is None:
            label = _rule_label(rule)
        if label in out:
            raise ValueError(f"two rules are labelled {label!r}; pass a dict {{label: rule}}")
        out[label] = rule
    if not out:
        raise ValueError("rules must name at least one rule")
    return out


def _rule_label(rule) -> str:
    import inspect
    defaults_ = {k: v.default for k, v in inspect.signature(_optim.registry[rule.name]).parameters.items()}
    shown = [f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in rule.hyperparameters.items()
             if k != "lr" and defaults_.get(k) != v]
    return f"{rule.name}({', '.join(shown)})" if shown else rule.name


def _listed(name, value, what) -> list:
    """``value`` as a list (a list, tuple, range, ...), else a TypeError naming ``name``."""
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name} must be a list of {what}, got {shown(value)}")
    return list(value)


def _horizons(horizon, name="horizon") -> tuple:
    hs = (horizon,) if isinstance(horizon, (int, np.integer)) or not hasattr(horizon, "__iter__") \
        else tuple(horizon)
    for h in hs:
        if isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 1:
            raise ValueError(f"{name} must be an integer >= 1 (or several), got {shown(horizon)}")
        check_memory(f"{name}={h} steps (each run's schedule)", 8.0 * h, per_unit=8, unit="steps")
    if len(set(hs)) != len(hs) or not hs:
        raise ValueError(f"{name}s must be distinct and at least one, got {shown(horizon)}")
    return tuple(int(h) for h in hs)


@dataclass
class Comparison:
    """The result of :func:`compare`.

    ``runs``: one row per run (protocol, rule, problem, horizon, study, trial, seed, the
    trial's hyperparameters, ``f_final``, ``gap = f - f*`` (``inf`` if diverged),
    ``steps_to_target`` (``inf`` if missed), ``diverged``).  ``trials``: one row per trial,
    seeds aggregated by the median (and ``success``, the fraction of seeds that reached the
    target).  ``table``: one row per (protocol, rule, problem, horizon): the trial the
    protocol selects, tuned at ``tune_horizon``, with its result at ``horizon`` and the
    budget it cost (``budget_runs``, ``budget_steps``).
    """

    runs: object
    trials: object
    table: object
    protocols: tuple
    rules: tuple
    tasks: tuple
    horizons: tuple
    seeds: tuple
    tune_horizon: int | None

    def _key(self, protocol, horizon):
        names = [p.name for p in self.protocols]
        if isinstance(protocol, Protocol):
            protocol = protocol.name
        if protocol is None and len(names) == 1:
            protocol = names[0]
        if protocol not in names:
            raise unknown_name("protocol", protocol, names)
        if horizon is None and len(self.horizons) == 1:
            horizon = self.horizons[0]
        if horizon not in self.horizons:
            raise ValueError(f"horizon {horizon!r} was not run; horizons: {list(self.horizons)}")
        return protocol, int(horizon)

    def select(self, protocol=None, horizon=None):
        """The rows of ``table`` for one protocol and horizon."""
        protocol, horizon = self._key(protocol, horizon)
        t = self.table
        return t[(t["protocol"] == protocol) & (t["horizon"] == horizon)]

    def costs(self, protocol=None, horizon=None):
        """Steps to target, problem x rule (``inf`` for a miss)."""
        t = self.select(protocol, horizon)
        c = t.pivot(index="problem", columns="rule", values="steps_to_target")
        return c.loc[[x.name for x in self.tasks], list(self.rules)]

    def scores(self, protocol=None, horizon=None, tau_max: float = TAU_MAX):
        """Per rule: profile score (area under rho), median log10 gap, problems solved; ranked best first."""
        import pandas as pd
        t = self.select(protocol, horizon)
        gap = t.pivot(index="problem", columns="rule", values="gap")[list(self.rules)]
        with np.errstate(divide="ignore"):
            log_gap = np.log10(gap.clip(lower=1e-300)).median(axis=0)
        costs = self.costs(protocol, horizon)
        frame = pd.DataFrame({"score": profile_score(performance_ratios(costs), tau_max),
                              "median_log10_gap": log_gap,
                              "solved": np.isfinite(costs).sum(axis=0)})
        frame.index.name = "rule"
        frame = frame.reset_index()
        frame["neg_score"] = -frame["score"]
        frame = frame.sort_values(["neg_score", "median_log10_gap", "rule"], kind="mergesort").drop(columns="neg_score")
        return frame.reset_index(drop=True)

    def ranking(self, protocol=None, horizon=None) -> list:
        """Rule labels, best first (see :meth:`scores`)."""
        return list(self.scores(protocol, horizon)["rule"])

    def rankings(self) -> dict:
        """``{protocol: {horizon: ranking}}`` for everything that was run."""
        return {p.name: {h: self.ranking(p.name, h) for h in self.horizons} for p in self.protocols}

    def success_fraction(self, protocol=None, horizon=None) -> float:
        """The fraction of (rule, problem) pairs whose selected trial reaches the target (median over seeds)."""
        return float(np.isfinite(self.select(protocol, horizon)["steps_to_target"]).mean())

    def stamp(self, protocol=None, horizon=None) -> str:
        """What a figure shows: protocol, budget, horizon (and where it was tuned), seeds."""
        protocol, horizon = self._key(protocol, horizon)
        p = next(x for x in self.protocols if x.name == protocol)
        th = self.tune_horizon or horizon
        tuned = f"tuned at {th}" + (" (NOT the reported horizon)" if th != horizon else "")
        noisy = [t for t in self.tasks if t.noise]
        seeds = f"seeds {list(self.seeds)} on the {len(noisy)} noisy problem(s), 1 run on noiseless ones"
        studies = f" = {p.trials} x {p.studies} studies" if p.studies > 1 else ""
        return (f"protocol {p.name}: {p.budget} trial(s) per rule and problem{studies}, "
                f"{p.budget * th} steps per seed | horizon {horizon}, {tuned} | {seeds}")

    def success_matrix(self, protocol=None, horizon=None, ax=None):
        """Heatmap rule x problem: fraction of seeds reaching the target (grey scale, labelled with the
        fraction and the median steps to target); stamped."""
        import matplotlib.pyplot as plt
        t = self.select(protocol, horizon)
        succ = t.pivot(index="rule", columns="problem", values="success").loc[list(self.rules),
                                                                              [x.name for x in self.tasks]]
        steps = t.pivot(index="rule", columns="problem", values="steps_to_target").loc[succ.index, succ.columns]
        if ax is None:
            fig, ax = plt.subplots(figsize=(min(8.0, 1.5 + 1.45 * succ.shape[1]), 1.6 + 0.6 * succ.shape[0]),
                                   constrained_layout=True)      # at most 8 in: readable projected (#19)
        im = ax.imshow(succ.to_numpy(dtype=float), cmap="Greys", vmin=0, vmax=1, aspect="auto")
        for i in range(succ.shape[0]):
            for j in range(succ.shape[1]):
                v, s = succ.iat[i, j], steps.iat[i, j]
                text = f"{v:.0%}\n{int(s)} st" if np.isfinite(s) else f"{v:.0%}\nmiss"
                ax.text(j, i, text, ha="center", va="center", fontsize=9, color="white" if v > 0.5 else "black")
        ax.set_xticks(range(succ.shape[1]), succ.columns, rotation=30, ha="right", fontsize=9)
        ax.set_yticks(range(succ.shape[0]), succ.index, fontsize=9)
        ax.set(xlabel="problem", ylabel="rule")
        ax.figure.colorbar(im, ax=ax, label="fraction of seeds reaching f - f* <= tol")
        p, h = self._key(protocol, horizon)
        _stamp(ax, f"success matrix, {p}, horizon {h}", self.stamp(protocol, horizon))
        return ax

    def profile(self, protocol=None, horizon=None, taus=None):
        """:math:`\\rho_s(\\tau)` as a frame (index tau, one column per rule)."""
        if taus is None:
            taus = np.geomspace(1.0, 64.0, 200)
        return performance_profile(performance_ratios(self.costs(protocol, horizon)), taus)

    def performance_profile(self, protocol=None, horizon=None, ax=None, tau_max: float = 64.0):
        """Step plot of :math:`\\rho_s(\\tau)` over the suite (log tau; line styles and markers for grey
        scale); stamped."""
        import matplotlib.pyplot as plt
        ratios = performance_ratios(self.costs(protocol, horizon))
        if ax is None:
            fig, ax = plt.subplots(figsize=(6.5, 4), constrained_layout=True)
        styles = ["-", "--", ":", "-."]
        markers = ["o", "s", "^", "D", "v", "x", "*", "P"]
        for k, rule in enumerate(ratios.columns):
            r = np.sort(ratios[rule].to_numpy(dtype=float))
            finite = r[np.isfinite(r)]
            x = np.r_[1.0, finite, tau_max]
            y = np.r_[0.0, np.arange(1, finite.size + 1), finite.size] / len(r)
            ax.step(x, y, where="post", ls=styles[k % 4], marker=markers[k % 8], markevery=[len(x) - 1],
                    color=str(0.75 * k / max(1, len(ratios.columns) - 1)), label=rule)
        ax.set(xscale="log", xlim=(1, tau_max), ylim=(-0.02, 1.02), xlabel=r"$\tau$ (steps to target / best rule's)",
               ylabel=r"$\rho(\tau)$: fraction of problems")
        ax.legend(fontsize=9, loc="lower right")
        p, h = self._key(protocol, horizon)
        _stamp(ax, f"performance profiles, {p}, horizon {h}", self.stamp(protocol, horizon))
        return ax


def _stamp(ax, title, text):
    """The title, then the stamp under it in 9 pt type, the smallest readable projected (per axes, so that
    panels of one figure keep theirs)."""
    import textwrap
    width = max(40, int(ax.get_position().width * ax.figure.get_figwidth() * 11.5))
    ax.set_title(title + "\n" + "\n".join(textwrap.wrap(text, width)), fontsize=9, loc="left")


def compare(suite, rules, protocols, *, horizon=1000, seeds=(0, 1, 2), tol: float = 1e-6,
            tune_horizon: int | None = None, executor=None, progress: bool | None = None) -> Comparison:
    """Compare ``rules`` on ``suite`` under each of ``protocols``; see the module docstring.

    ``suite``: problem names, ``(name, kwargs)`` pairs or :class:`Task` entries (noisy ones
    run every seed).  ``rules``: names, :class:`~labkit.optim.Rule` objects (their
    hyperparameters are the defaults protocol's and the fixed part of every search) or a
    dict ``{label: rule}``.  ``protocols``: one :class:`Protocol` or several.  ``horizon``:
    steps per run, one or several (each is tuned and reported at itself).  ``tune_horizon``:
    choose the hyperparameters at this horizon and report them at ``horizon`` -- the mistake
    of tuning at 100 steps and plotting 500, here to be shown, not made.  ``executor``: None
    (in-process) or anything with ``submit`` returning futures (``concurrent.futures``
    executors, ``dask.distributed.Client``).  The same arguments give the same tables.
    """
    import pandas as pd
    if isinstance(suite, (str, Task)):
        suite = [suite]
    tasks = [_task(s) for s in _listed("suite", suite, "problem names, (name, kwargs) pairs or Tasks")]
    if not tasks:
        raise ValueError("suite must hold at least one problem")
    names = [t.name for t in tasks]
    if len(set(names)) != len(names):
        raise ValueError(f"two suite entries share a label: {names}; give them Task(..., label=...)")
    rule_map = _rules(rules)
    protocols = (protocols,) if isinstance(protocols, Protocol) else tuple(
        _listed("protocols", protocols, "Protocols: defaults(), lr_grid(n), random_search(n), algoperf(K, S)"))
    if not protocols or not all(isinstance(p, Protocol) for p in protocols):
        raise ValueError("protocols must be Protocol objects: defaults(), lr_grid(n), random_search(n), algoperf(K, S)")
    if len({p.name for p in protocols}) != len(protocols):
        raise ValueError(f"protocol names must differ: {[p.name for p in protocols]}")
    horizons = _horizons(horizon)
    if tune_horizon is not None:
        tune_horizon = _horizons(tune_horizon, "tune_horizon")[0]
    seeds = (seeds,) if isinstance(seeds, (int, np.integer)) else seeds
    try:
        seeds = tuple(check_seed("seeds", s) for s in _listed("seeds", seeds, "integers >= 0"))
    except ValueError:
        raise ValueError(f"seeds must be one or more integers >= 0, got {shown(seeds)}") from None
    if not seeds:
        raise ValueError(f"seeds must be one or more integers >= 0, got {shown(seeds)}")
    progress = None if progress is None else check_bool("progress", progress)
    from .run import _tol
    tol = _tol(tol)
    run_h = sorted(set(horizons) | ({tune_horizon} if tune_horizon else set()))

    # The batches: one per (protocol, rule, problem, horizon).
    units, meta = [], []
    for p in protocols:
        for label, rule in rule_map.items():
            configs = p.configs(rule)
            base = {k: _plain(v) for k, v in rule.hyperparameters.items() if k != "lr"}
            for t in tasks:
                tseeds = list(seeds) if t.noise else [seeds[0]]
                ttol = tol if t.tol is None else _tol(t.tol)
                for h in run_h:
                    units.append((t.problem, dict(t.kwargs), float(t.noise), ttol, rule.name, base,
                                  [c for _, _, c in configs], tseeds, h))
                    meta.append((p, label, t, h, configs, tseeds))

    results = _execute(units, executor, progress)

    rows = []
    for (p, label, t, h, configs, tseeds), res in zip(meta, results):
        f_star = float(t.build().f_star)
        n_s = len(tseeds)
        for i, (study, trial, cfg) in enumerate(configs):
            for k, s in enumerate(tseeds):
                j = i * n_s + k
                div = res["diverged"][j]
                row = {"protocol": p.name, "rule": label, "problem": t.name, "horizon": h, "study": study,
                       "trial": trial, "seed": s}
                row.update({key: cfg.get(key, np.nan) for key in ("lr", *SPACE)})
                row.update(f_final=res["f_final"][j], gap=math.inf if div else res["f_final"][j] - f_star,
                           steps_to_target=res["steps_to_target"][j], diverged=div)
                rows.append(row)
    runs = pd.DataFrame(rows)
    keys = ["protocol", "rule", "problem", "horizon", "study", "trial"]
    trials = (runs.groupby(keys, sort=False)
              .agg(lr=("lr", "first"), **{k: (k, "first") for k in SPACE},
                   steps_to_target=("steps_to_target", "median"), gap=("gap", "median"),
                   success=("steps_to_target", lambda s: float(np.isfinite(s).mean())),
                   diverged=("diverged", "mean"), seeds=("seed", "size"))
              .reset_index())

    out = []
    for p in protocols:
        for label in rule_map:
            for t in tasks:
                for h in horizons:
                    th = tune_horizon or h
                    sel = trials[(trials.protocol == p.name) & (trials.rule == label) & (trials.problem == t.name)]
                    tuning = sel[sel.horizon == th]
                    pick = median_of_best(tuning) if p.studies > 1 else best_trial(tuning)
                    rep = sel[(sel.horizon == h) & (sel.study == pick["study"]) & (sel.trial == pick["trial"])].iloc[0]
                    row = {"protocol": p.name, "rule": label, "problem": t.name, "horizon": h, "tune_horizon": th,
                           "study": int(rep["study"]), "trial": int(rep["trial"]), "lr": rep["lr"]}
                    row.update({k: rep[k] for k in SPACE})
                    row.update(steps_to_target=rep["steps_to_target"], gap=rep["gap"], success=rep["success"],
                               solved=bool(np.isfinite(rep["steps_to_target"])), seeds=int(rep["seeds"]),
                               budget_runs=p.budget * int(rep["seeds"]),
                               budget_steps=p.budget * int(rep["seeds"]) * th)
                    out.append(row)
    table = pd.DataFrame(out)
    return Comparison(runs, trials, table, protocols, tuple(rule_map), tuple(tasks), horizons, seeds, tune_horizon)


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


def _execute(units, executor, progress):
    from tqdm.auto import tqdm
    show = len(units) > 200 if progress is None else bool(progress)
    with tqdm(total=len(units), disable=not show, desc="compare", unit="batch", leave=False) as bar:
        if executor is None:
            out = []
            for u in units:
                out.append(run_batch(*u))
                bar.update(1)
            return out
        if not hasattr(executor, "submit"):
            raise TypeError(f"executor must have submit() like concurrent.futures.Executor or "
                            f"dask.distributed.Client; got {type(executor).__name__}")
        futures = [executor.submit(run_batch, *u) for u in units]
        out = []
        for fut in futures:
            out.append(fut.result())
            bar.update(1)
        return out
