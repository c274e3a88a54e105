"""Cold start, in fresh interpreters: ``import labkit``, and ``import labkit`` + the first
``lk.run`` of a built-in pair (Adam x Rosenbrock, 1,000 steps) with Numba's on-disk cache
warm (one untimed process warms it first).

Each figure is timed inside the child with ``time.perf_counter`` from just before
``import labkit`` (what a notebook user waits for after a kernel restart); the whole
process, interpreter start-up included, is in the note.  Medians over ``repeats``
rounds, the two kinds of process interleaved in a shuffled order.  The child also
reports which heavy modules ``import labkit`` loaded (none of torch, matplotlib, seaborn
or ipywidgets may be) and whether the run kernel came from the cache.
"""
from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _timing import Row, check

SECTION = "cold start"
ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "matplotlib", "seaborn", "ipywidgets")
OTHER = ("pandas", "tqdm", "IPython", "scipy", "numba", "numpy")     # reported, not judged

CHILD = """
import json, sys, time
t0 = time.perf_counter()
import labkit as lk
t1 = time.perf_counter()
out = {"import_s": t1 - t0,
       "heavy": [m for m in %(heavy)r if m in sys.modules],
       "other": [m for m in %(other)r if m in sys.modules]}
if sys.argv[1] == "run":
    tr = lk.run(lk.problems.rosenbrock(), lk.optim.adam(lr=1e-2), 1000)
    t2 = time.perf_counter()
    from labkit._engine import KERNELS
    st = KERNELS[lk.optim.ADAM][0].stats
    out.update(total_s=t2 - t0, first_run_s=t2 - t1, ok=bool(len(tr.xs) == 1001),
               cache_hits=sum(st.cache_hits.values()), cache_misses=sum(st.cache_misses.values()))
print("RESULT " + json.dumps(out))
""" % {"heavy": HEAVY, "other": OTHER}


def _child(mode: str) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, mode], cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ), timeout=300)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"cold-start child ({mode}) failed:\n{proc.stderr}")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    out = json.loads(line[len("RESULT "):])
    out["process_s"] = wall
    return out


def measure(repeats: int = 5) -> tuple[list[Row], dict]:
    warm = _child("run")                          # compiles or loads, and writes the cache
    rng = random.Random(1)
    samples = {"import": [], "run": []}
    for _ in range(repeats):
        order = ["import", "run"]
        rng.shuffle(order)
        for mode in order:
            samples[mode].append(_child(mode))

    imp = [s["import_s"] for s in samples["import"]]
    run = [s["total_s"] for s in samples["run"]]
    heavy = sorted({m for ss in samples.values() for s in ss for m in s["heavy"]})
    other = sorted({m for ss in samples.values() for s in ss for m in s["other"]})
    hits = [s["cache_hits"] for s in samples["run"]]
    misses = [s["cache_misses"] for s in samples["run"]]
    med = statistics.median

    def q(xs):
        qs = statistics.quantiles(xs, n=4, method="inclusive") if len(xs) > 1 else [xs[0]] * 3
        return qs[0], qs[2]

    rows = [
        Row(SECTION, "import labkit", med(imp), "s", *q(imp), "wall",
            note=f"whole process {med(s['process_s'] for s in samples['import']):.2f} s; also loaded: "
                 f"{', '.join(other) or 'nothing listed'}"),
        Row(SECTION, "import labkit + first lk.run (Adam x Rosenbrock, 1,000 steps), warm cache", med(run), "s",
            *q(run), "wall", "<= 1.0", check(med(run), "<= 1.0"),
            note=f"first lk.run {med(s['first_run_s'] for s in samples['run']):.3f} s; whole process "
                 f"{med(s['process_s'] for s in samples['run']):.2f} s; run kernel cache hits/misses per "
                 f"process {med(hits):g}/{med(misses):g} (warming process: {warm['cache_hits']}/"
                 f"{warm['cache_misses']}, {warm['total_s']:.2f} s)"),
        Row(SECTION, "torch/matplotlib/seaborn/ipywidgets loaded by import labkit", float(len(heavy)), "modules",
            target="<= 0", ok=not heavy, note=", ".join(heavy) if heavy else "none"),
    ]
    raw = {"samples": samples, "warm": warm}
    return rows, raw
