"""ThreeBodyExplorer: orbits, step sizes and energy error of one three-body run, live.

Exposed as ``lk.widgets.ThreeBodyExplorer``.  A run is computed once per setting (system,
seed, integrator, step parameter, policy, t_end; a small memo), then the time slider only
moves trails and markers (blitted).
"""
from __future__ import annotations

import math
from collections import OrderedDict
from typing import NamedTuple

import numpy as np

from .. import threebody as tb
from .._errors import check_bool, check_int, check_positive, shown
from .base import Explorer, decade, positive, set_log_ylim

__all__ = ["ThreeBodyExplorer"]

# The step parameter each integrator takes, its slider range (log10) and default.
_PARAM = {"hermite": ("mu", (-4.0, -1.0), 1e-2), "hermite_aarseth": ("eta", (-5.0, -1.0), 2e-2),
          "leapfrog": ("dt", (-5.0, -1.0), 1e-3), "rk4": ("dt", (-4.0, -1.0), 1e-2),
          "ias15": ("eps", (-9.0, -4.0), 1e-9)}      # tb.IAS15_MIN_EPS: smaller eps stalls
_SYSTEMS = ("figure_eight", "pythagorean", "paper_system")
_COLORS = ("#0b3c8c", "#d62728", "#f2a900")     # dark blue, red, amber: L* 27, 47, 74, apart in greyscale


class Run(NamedTuple):
    """What the explorer draws: sample times ``t`` (T,), positions ``x`` (T, 3, 2), the step
    size in effect at each sample ``dt`` (T,), relative energy error ``energy_error`` (T,),
    ``steps``, ``evals``, and with the policy the mu it chose at each sample ``mu`` (T,)."""

    t: np.ndarray
    x: np.ndarray
    dt: np.ndarray
    energy_error: np.ndarray
    steps: int
    evals: int
    mu: np.ndarray | None


#: Longest integration the explorer runs, in units of the system's default ``t_end``, and most
#: samples: each slider move integrates again (longer runs: lk.threebody.integrate).
MAX_T_END_FACTOR = 100
MAX_N_OUT = 100_000


def _system(name, seed):
    if not isinstance(name, str) or name not in _SYSTEMS:
        raise ValueError(f"system must be one of {_SYSTEMS}, got {shown(name)}")
    return tb.paper_system(seed) if name == "paper_system" else tb.SYSTEMS[name]()


def _default_t_end(name, system):
    if name == "figure_eight":
        return 2 * system.period
    if name == "pythagorean":
        return 20.0
    return 30 * 0.1 / system.units["time_yr"]          # 30 decisions of the RL agent (3 yr)


def _fixed_run(system, integrator, t_end, n_out):
    orbit = tb.integrate(system, integrator, t_end, n_out=n_out, record_steps=True)
    if integrator.adaptive and orbit.step_t.size:
        idx = np.minimum(np.searchsorted(orbit.step_t, orbit.t, side="right"), orbit.step_t.size - 1)
        dt = orbit.step_dt[idx]
    else:
        dt = np.full(orbit.t.size, integrator.hyper["dt"] if "dt" in integrator.hyper else np.nan)
    return Run(orbit.t, orbit.x, dt, orbit.energy_error, orbit.steps, orbit.evals, None)


def _policy_run(system, policy, t_end, n_out):
    """Hermite with mu chosen by ``policy`` every ``timestep_rl.INTERVAL`` (as the environment
    observes), sampled ``n_out`` times (the samples land exactly; the decisions do not move)."""
    from .. import timestep_rl as rl
    st = tb.init(system)
    ts = np.linspace(0.0, t_end, n_out + 1)
    X = np.empty((n_out + 1, system.n, system.d))
    V = np.empty_like(X)
    dt = np.empty(n_out + 1)
    mus = np.empty(n_out + 1)
    X[0], V[0] = system.x, system.v
    err = 0.0
    next_decision, mu = 0.0, None
    for k in range(n_out + 1):
        while next_decision <= ts[k] + 1e-12 and (k < n_out or mu is None):
            obs = np.empty(13)
            obs[:6], obs[6:12] = st.xf[:6] / rl.X_SCALE, st.vf[:6]
            obs[12] = -rl.log_err(err, rl.ERR_FLOOR) / 10.0
            mu = float(rl.ACTIONS[policy.act(obs)])
            # decide at this sample; the interval runs to the next decision time
            next_decision += rl.INTERVAL
        if k > 0:
            tb.evolve(st, tb.hermite(mu=mu), ts[k])
            X[k], V[k] = st.x, st.v
            err = st.energy_error()
        mus[k] = mu
        dt[k] = mu * st.s[tb.nb.S_AUX] if st.s[tb.nb.S_AUX] > 0 else np.nan
    if not np.isfinite(dt[0]) and n_out >= 1:
        dt[0] = dt[1]
    e = system.energy(X, V)
    return Run(ts, X, dt, (e - system.e0) / abs(system.e0), st.steps, st.evals, mus)


def _nice_half(h: float) -> float:
    """The smallest of 1, 1.5, 2, 3, 5, 7 (x 10^k) at or above ``h``: a half-width that a slightly different orbit keeps."""
    e = math.floor(math.log10(h))
    for m in (1.0, 1.5, 2.0, 3.0, 5.0, 7.0, 10.0):
        if m * 10.0 ** e >= h:
            return m * 10.0 ** e
    return 10.0 ** (e + 1)


class ThreeBodyExplorer(Explorer):
    r"""One three-body run, live: orbits, step sizes, energy error.

    Views: the three orbits up to the time slider (trails, the current positions marked,
    every sample coloured by log10 of the step size in effect there: dark = small); the
    step size against time (same colours; with the policy, the mu it chose dashed); the
    relative energy error :math:`|E(t) - E_0| / |E_0|` against time (log), cursor at the
    slider's time.

    Controls: system (figure-eight, Pythagorean, the paper's random triple with its
    ``seed``), integrator, its step parameter (log slider: Hermite's ``mu``, Aarseth's
    ``eta``, leapfrog's / RK4's ``dt``, IAS15's ``eps``), "policy" (Hermite with mu chosen
    every 0.1 yr by :func:`labkit.timestep_rl.load_policy`'s policy), time.

    ``update(**changes)`` is what every control calls; moving only ``t`` re-runs nothing.
    The status line reads ``mu=<value> ...`` after every event (the step parameter, or the
    last mu the policy chose).
    """

    _KEYS = ("system", "seed", "integrator", "mu", "policy", "t", "t_end", "n_out")

    def __init__(self, system: str = "figure_eight", integrator: str = "hermite", mu: float | None = None,
                 policy: bool = False, *, seed: int = 0, t_end: float | None = None, n_out: int = 400):
        if not isinstance(integrator, str) or integrator not in _PARAM:
            raise ValueError(f"integrator must be one of {list(_PARAM)}, got {shown(integrator)}")
        s = {"system": system, "seed": seed, "integrator": integrator,
             "mu": _PARAM[integrator][2] if mu is None else mu, "policy": check_bool("policy", policy), "t": None,
             "t_end": t_end, "n_out": n_out}
        self._state = self._checked(s, changes=s)
        self._memo = OrderedDict()
        self._policy = None
        self._result = None
        self._build_figure()
        self._build_controls()
        self._draw(render=False)
        self.freeze_layout()

    # ------------------------------------------------------------------ parameters

    def _checked(self, s, changes):
        s = dict(s)
        if s["integrator"] not in _PARAM:
            raise ValueError(f"integrator must be one of {list(_PARAM)}, got {s['integrator']!r}")
        sysobj = _system(s["system"], check_int("seed", s["seed"], 0))
        s["mu"] = check_positive("mu", s["mu"])
        lo, hi = _PARAM[s["integrator"]][1]
        if not 10.0 ** (lo - 1) <= s["mu"] <= 10.0 ** (hi + 1):
            # A decade beyond the slider either way; smaller steps would stall each redraw for minutes.
            raise ValueError(f"mu ({_PARAM[s['integrator']][0]} of {s['integrator']}) must be in "
                             f"[{10.0 ** (lo - 1):g}, {10.0 ** (hi + 1):g}], got {s['mu']!r}")
        if "system" in changes and "t_end" not in changes and changes is not s:
            s["t_end"] = None
        default = _default_t_end(s["system"], sysobj)
        if s["t_end"] is None:
            s["t_end"] = default
        s["t_end"] = check_positive("t_end", s["t_end"])
        if s["t_end"] > MAX_T_END_FACTOR * default:
            raise ValueError(f"t_end must be <= {MAX_T_END_FACTOR} x {s['system']}'s default ({default:.4g}) in the "
                             f"explorer, got {s['t_end']!r}; integrate longer with lk.threebody.integrate")
        check_int("n_out", s["n_out"], 2, MAX_N_OUT)
        s["t"] = s["t_end"] if s["t"] is None else min(max(float(s["t"]), 0.0), s["t_end"])
        s["policy"] = bool(s["policy"])
        self._sysobj = sysobj
        return s

    @property
    def system(self) -> tb.System:
        return self._sysobj

    def integrator(self) -> tb.Integrator:
        s = self._state
        name, _, _ = _PARAM[s["integrator"]]
        return tb.INTEGRATORS[s["integrator"]](**{name: s["mu"]})

    # ------------------------------------------------------------------ runs

    def _key(self):
        s = self._state
        return (s["system"], s["seed"] if s["system"] == "paper_system" else 0,
                "policy" if s["policy"] else s["integrator"], None if s["policy"] else s["mu"], s["t_end"], s["n_out"])

    def _compute(self) -> Run:
        key = self._key()
        run = self._memo.get(key)
        if run is None:
            s = self._state
            sy = self.system
            if s["policy"]:
                if self._policy is None:
                    from .. import timestep_rl as rl
                    self._policy = rl.load_policy()
                run = _policy_run(sy, self._policy, s["t_end"], s["n_out"])
            else:
                run = _fixed_run(sy, self.integrator(), s["t_end"], s["n_out"])
            self._memo[key] = run
            while len(self._memo) > 24:
                self._memo.popitem(last=False)
        else:
            self._memo.move_to_end(key)
        return run

    # ------------------------------------------------------------------ figure

    _norm = None
    _norm_changed = True

    def _build_figure(self):
        from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator


        fig = self.new_figure((7.4, 4.2))
        gs = fig.add_gridspec(2, 2, width_ratios=(1.15, 1))
        ax_orbit = fig.add_subplot(gs[:, 0])
        ax_dt, ax_err = fig.add_subplot(gs[0, 1]), fig.add_subplot(gs[1, 1])
        self.fig = fig
        self.axes = {"orbit": ax_orbit, "dt": ax_dt, "err": ax_err}
        ax_orbit.set_aspect("equal", adjustable="box")
        ax_orbit.set_xlabel("x (N-body units)")
        ax_orbit.set_ylabel("y (N-body units)")
        ax_orbit.set_title("orbits (colour: log10 step size)")
        self._dots = ax_orbit.scatter(np.zeros(1), np.zeros(1), c=np.ones(1), s=5, cmap="viridis", zorder=2,
                                      linewidths=0)
        self._trails = [ax_orbit.plot([], [], lw=0.8, color=c, alpha=0.6, zorder=1)[0] for c in _COLORS]
        self._bodies = ax_orbit.scatter(np.zeros(3), np.zeros(3), s=60, c=_COLORS, edgecolors="k", zorder=4)
        self._dt_dots = ax_dt.scatter(np.zeros(1), np.ones(1), c=np.ones(1), s=5, cmap="viridis", linewidths=0)
        self._mu_line, = ax_dt.plot([], [], color="0.3", lw=1.0, ls="--", label="policy's mu")
        ax_dt.set_yscale("log")
        ax_dt.set_xlabel("t (N-body units)")
        ax_dt.set_ylabel("step size")
        ax_dt.set_title("step size in effect")
        self._err_line, = ax_err.plot([], [], color="C3", lw=1.1)
        ax_err.set_yscale("log")
        ax_err.set_xlabel("t (N-body units)")
        ax_err.set_ylabel("|E - E0| / |E0|")
        ax_err.set_title("energy error")
        self._cursors = [ax.axvline(0, color="0.4", lw=0.8) for ax in (ax_dt, ax_err)]
        for ax in (ax_dt, ax_err):
            ax.yaxis.set_major_locator(LogLocator(numticks=5))
            ax.yaxis.set_minor_locator(NullLocator())
            ax.yaxis.set_major_formatter(FuncFormatter(decade))
        # The colour is the step size: a colour bar, redrawn with the data (its norm follows the run).
        self._dt_bar = fig.colorbar(self._dots, ax=ax_orbit, label="step size", fraction=0.05, pad=0.02)
        fig.set_layout_engine("constrained")
        # A new run (mu, integrator) redraws its curves over the cached axes; limits and the
        # colour scale are rounded (nice_half, whole decades) so that a nearby run keeps them,
        # and a run that changes them gets a full draw.  The time slider moves trails, dots and
        # cursors only.
        self.animate([self._dots, *self._trails, self._bodies, *self._cursors, self._dt_dots, self._mu_line,
                      self._err_line])

    # ------------------------------------------------------------------ controls

    def _build_controls(self):
        import ipywidgets as W
        s = self._state
        self.system_picker = W.Dropdown(options=list(_SYSTEMS), value=s["system"], description="system")
        self.seed_box = W.BoundedIntText(value=s["seed"], min=0, max=10**6, description="seed")
        self.integrator_picker = W.Dropdown(options=list(_PARAM), value=s["integrator"], description="integrator")
        lo, hi = _PARAM[s["integrator"]][1]
        self.mu_slider = W.FloatLogSlider(value=s["mu"], base=10, min=lo, max=hi, step=0.05,
                                          description=_PARAM[s["integrator"]][0], readout_format=".3g",
                                          continuous_update=False)
        self.policy_box = W.Checkbox(value=s["policy"], description="policy (Hermite, learned mu)")
        self.t_slider = W.FloatSlider(value=s["t"], min=0.0, max=s["t_end"], step=s["t_end"] / s["n_out"],
                                      description="t", readout_format=".2f")
        self.bind((("system", self.system_picker), ("seed", self.seed_box),
                    ("integrator", self.integrator_picker), ("mu", self.mu_slider),
                    ("policy", self.policy_box), ("t", self.t_slider)))

    def control_rows(self):
        return [[self.system_picker, self.seed_box, self.integrator_picker],
                [self.mu_slider, self.policy_box, self.t_slider]]

    def _sync_controls(self):
        s = self._state
        with self.syncing():
            name, (lo, hi), _ = _PARAM[s["integrator"]]
            self.system_picker.value = s["system"]
            self.seed_box.value = s["seed"]
            self.integrator_picker.value = s["integrator"]
            self.mu_slider.description = name
            self.mu_slider.min, self.mu_slider.max = min(lo, math.log10(s["mu"])), max(hi, math.log10(s["mu"]))
            self.mu_slider.value = s["mu"]
            self.policy_box.value = s["policy"]
            self.t_slider.max = s["t_end"]
            self.t_slider.step = s["t_end"] / s["n_out"]
            self.t_slider.value = s["t"]

    # ------------------------------------------------------------------ events

    def apply(self, **changes) -> Run:
        """Apply ``changes`` (any of ``system``, ``seed``, ``integrator``, ``mu``, ``policy``,
        ``t``, ``t_end``, ``n_out``), re-run if the run changed, redraw.  Returns the
        :class:`Run` on display.  A new integrator without a ``mu`` takes its default
        parameter; a new system without ``t_end`` its default span, with ``t`` at the end."""
        unknown = set(changes) - set(self._KEYS)
        if unknown:
            raise ValueError(f"update takes {', '.join(self._KEYS)}; got {sorted(unknown)}")
        s = dict(self._state)
        s.update(changes)
        if "integrator" in changes and "mu" not in changes and changes["integrator"] != self._state["integrator"]:
            s["mu"] = _PARAM[changes["integrator"]][2] if changes["integrator"] in _PARAM else s["mu"]
        if "system" in changes and "t_end" not in changes:
            s["t_end"] = None
        if ({"system", "t_end", "n_out"} & set(changes)) and "t" not in changes:
            s["t"] = None
        old_sys = self._sysobj
        try:
            self._state = self._checked(s, changes)
        except Exception:
            self._sysobj = old_sys
            raise
        if hasattr(self, "t_slider"):
            self._sync_controls()
        self._draw()
        return self._result

    # ------------------------------------------------------------------ views

    def _draw(self, render: bool = True):
        s = self._state
        key = self._key()
        new_run = self._result is None or key != getattr(self, "_drawn_key", None)
        if new_run:
            self._result = self._compute()
            self._drawn_key = key
            self._set_run(self._result)
        self._set_time(s["t"])
        self.set_status(self._status())
        if render:
            # a new run with the same limits and colour scale blits (refresh sees changed limits itself)
            self.refresh(full=new_run and self._norm_changed)

    def _set_run(self, run):
        from matplotlib.colors import LogNorm
        ax = self.axes["orbit"]
        x = run.x
        lo, hi = x.min(axis=(0, 1)), x.max(axis=(0, 1))
        half = _nice_half(max(float((hi - lo).max()) / 2, 1e-3) * 1.08)
        c = np.round((lo + hi) / 2 / (half / 4)) * (half / 4)        # the centre on a grid of half/4
        c = np.where(np.abs(c - (lo + hi) / 2) <= half - (hi - lo) / 2, c, (lo + hi) / 2)   # never cut an orbit
        ax.set_xlim(c[0] - half, c[0] + half)
        ax.set_ylim(c[1] - half, c[1] + half)
        dt, rng = positive(run.dt)
        lo_dt, hi_dt = rng if rng else (1e-3, 1.0)
        vmin, vmax = 10.0 ** math.floor(math.log10(lo_dt)), 10.0 ** math.ceil(math.log10(hi_dt) + 1e-9)
        old = self._norm
        # The colour scale in whole decades, and sticky as set_log_ylim's limits: a run whose
        # step sizes fit the current scale (at most two decades loose each side) keeps it.
        self._norm_changed = not (old is not None and vmin / 100.0 <= old.vmin <= vmin and vmax <= old.vmax <= vmax * 100.0)
        norm = LogNorm(vmin, vmax) if self._norm_changed else old
        self._logdt = dt
        self._norm = norm
        for sc in (self._dots, self._dt_dots):
            sc.set_norm(norm)
        ax_dt = self.axes["dt"]
        ax_dt.set_xlim(0, run.t[-1])
        self._dt_dots.set_offsets(np.column_stack([run.t, dt]))
        self._dt_dots.set_array(dt)
        rngs = [rng]
        if run.mu is not None:
            self._mu_line.set_data(run.t, run.mu)
            rngs.append((float(np.nanmin(run.mu)), float(np.nanmax(run.mu))))
        else:
            self._mu_line.set_data([], [])
        rngs = [r for r in rngs if r is not None]
        set_log_ylim(ax_dt, (min(r[0] for r in rngs), max(r[1] for r in rngs)) if rngs else None)
        err, erng = positive(np.abs(run.energy_error[1:]) if run.t.size > 1 else np.ones(1))
        self._err = np.concatenate([[err[0]], err])
        ax_err = self.axes["err"]
        ax_err.set_xlim(0, run.t[-1])
        self._err_line.set_data(run.t, self._err)
        set_log_ylim(ax_err, erng)

    def _set_time(self, t):
        run = self._result
        k = int(np.searchsorted(run.t, t - 1e-12 * max(1.0, run.t[-1])))
        k = min(max(k, 0), run.t.size - 1)
        self._k = k
        xy = run.x[:k + 1]
        for i, line in enumerate(self._trails):
            line.set_data(xy[:, i, 0], xy[:, i, 1])
        pts = xy.reshape(-1, xy.shape[-1])[:, :2]
        self._dots.set_offsets(pts)
        self._dots.set_array(np.repeat(self._logdt[:k + 1], run.x.shape[1]))
        self._bodies.set_offsets(run.x[k, :, :2])
        for cur in self._cursors:
            cur.set_xdata([run.t[k], run.t[k]])

    def _status(self) -> str:
        s = self._state
        run = self._result
        k = self._k
        if s["policy"]:
            mu = float(run.mu[k])
            head = f"mu={mu:.3g} (policy, Hermite)"
        else:
            name = _PARAM[s["integrator"]][0]
            head = f"mu={s['mu']:.3g} ({s['integrator']} {name})"
        return (f"{head} t={run.t[k]:.3g}: |dE/E|={abs(run.energy_error[k]):.2e}, step={run.dt[k]:.2e}; "
                f"run to t={run.t[-1]:.3g}: {run.steps} steps, {run.evals} force evaluations, "
                f"final |dE/E|={abs(run.energy_error[-1]):.2e}")
