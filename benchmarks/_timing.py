"""Timing helpers shared by the benchmarks (method: docs/design.md, "Benchmarks").

Every variant of one table is timed in the same run: ``rounds`` rounds, each sampling
every variant once in a shuffled order, so that all variants see the same machine noise.
A sample is ``k`` back-to-back calls, ``k`` chosen so that a sample lasts at least
``min_sample_s``.  Each sample records both the calling thread's CPU time
(``time.thread_time_ns``: not counting time spent descheduled; the figure to report for
single-threaded code) and wall time (``time.perf_counter``: the figure for multi-threaded
code).  Tables report medians with the quartiles.
"""
from __future__ import annotations

import gc
import random
import statistics
import time
from dataclasses import dataclass, field


@dataclass
class Stats:
    """Per-call seconds of every sample of one variant."""

    name: str
    calls_per_sample: int
    cpu: list = field(default_factory=list)
    wall: list = field(default_factory=list)

    def median(self, clock: str) -> float:
        return statistics.median(getattr(self, clock))

    def quartiles(self, clock: str) -> tuple[float, float]:
        xs = getattr(self, clock)
        if len(xs) < 2:
            return xs[0], xs[0]
        q = statistics.quantiles(xs, n=4, method="inclusive")
        return q[0], q[2]

    def to_dict(self) -> dict:
        return {"calls_per_sample": self.calls_per_sample, "cpu_s": self.cpu, "wall_s": self.wall,
                "cpu_median_s": self.median("cpu"), "wall_median_s": self.median("wall")}


def _calibrate(fn, min_sample_s: float, max_calls: int) -> int:
    """Calls per sample so that one sample lasts at least ``min_sample_s`` (wall)."""
    fn()                                    # warm-up: compilation, caches, lazy imports
    k = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(k):
            fn()
        dt = time.perf_counter() - t0
        if dt >= min_sample_s or k >= max_calls:
            return k
        k = min(max_calls, max(2 * k, int(k * 1.2 * min_sample_s / max(dt, 1e-9)) + 1))


def interleaved(variants: dict, *, rounds: int = 7, min_sample_s: float = 0.03, max_calls: int = 100_000,
                seed: int = 0) -> dict[str, Stats]:
    """Time each zero-argument callable of ``variants`` in interleaved, shuffled rounds.

    Returns ``{name: Stats}`` with per-call seconds (CPU and wall) for each round.  The
    garbage collector is off while a sample runs (as in ``timeit``).
    """
    rng = random.Random(seed)
    stats = {name: Stats(name, _calibrate(fn, min_sample_s, max_calls)) for name, fn in variants.items()}
    names = list(variants)
    for _ in range(rounds):
        rng.shuffle(names)
        for name in names:
            fn, st = variants[name], stats[name]
            k = st.calls_per_sample
            gc_was_on = gc.isenabled()
            gc.disable()
            try:
                c0, w0 = time.thread_time_ns(), time.perf_counter()
                for _ in range(k):
                    fn()
                w1, c1 = time.perf_counter(), time.thread_time_ns()
            finally:
                if gc_was_on:
                    gc.enable()
            st.cpu.append((c1 - c0) * 1e-9 / k)
            st.wall.append((w1 - w0) / k)
    return stats


@dataclass
class Row:
    """One figure of the report: value (in ``unit``) next to its target."""

    section: str
    name: str
    value: float
    unit: str
    q1: float | None = None
    q3: float | None = None
    clock: str = ""                 # "cpu", "wall" or "" (derived figures)
    target: str = ""                # e.g. "<= 40"
    ok: bool | None = None          # None: no target
    note: str = ""
    ratio: float | None = None      # value / the section's baseline figure

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def check(value: float, target: str) -> bool:
    """``value`` against a target written ``"<= 40"`` or ``">= 1000"``."""
    op, bound = target.split()
    bound = float(bound.replace(",", "").replace("_", ""))
    return value <= bound if op == "<=" else value >= bound


def row(section, name, stats: Stats, clock: str, scale: float, unit: str, target: str = "", note: str = "") -> Row:
    """A Row from a variant's median and quartiles, per-call seconds times ``scale``."""
    q1, q3 = stats.quartiles(clock)
    value = stats.median(clock) * scale
    return Row(section, name, value, unit, q1 * scale, q3 * scale, clock, target,
               check(value, target) if target else None, note)
