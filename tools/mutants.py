"""One deliberate bug per notebook, in the labkit code the notebook teaches: does the notebook catch it?

    PYTHONPATH=. python tools/mutants.py                      # every mutation, then a table
    PYTHONPATH=. python tools/mutants.py 02_sign_updates      # only these notebooks (stems)
    PYTHONPATH=. python tools/mutants.py --jobs 1             # one at a time (default 2)

A notebook's records are only a regression test if a real regression moves them past their
tolerance. For each notebook, MUTATIONS names one textual edit of labkit's source (drop Adam's
bias correction, flip the sign of Lion's weight decay, ...). `run_mutant` copies the labkit
package into a work directory, applies the edit there (never to the checkout), and runs the
notebook with the parameters of its baseline against the copy: PYTHONPATH points the kernel
at the copy and LABKIT_CACHE_DIR at a Numba cache of its own. The work directory,
$TMPDIR/labkit-mutants-<uid>/<stem>-<hash>-<hash>, is named by hashes of the mutation and of
labkit's files and kept: the first run compiles the copy's kernels cold (~30-60 s a notebook), a
rerun with the same sources finds them cached; any edit to labkit makes a new directory (and
the mutation's old one is removed), so a cache is never stale.
The mutation is *caught* when

    "assertion"  the notebook's own assert fails (AssertionError in a cell), or
    "records"    a record differs from data/baselines/<stem>.json beyond its tolerance.

Any other exception in the notebook is not a catch (the mutation should change what the code
computes, not crash it). tests/test_mutations.py runs the same (`pytest -m mutation`).
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run_notebooks as nbrun   # noqa: E402

PACKAGE = nbrun.ROOT / "labkit"


@dataclass(frozen=True)
class Mutation:
    notebook: str       # the notebook's stem
    path: str           # the file inside labkit/
    old: str            # occurs exactly once in that file
    new: str
    what: str           # the bug, in words


MUTATIONS = [
    Mutation("00_tour", "optim.py",
             "x = x + (-(lr / bc1) * m) / denom       # eps is added to sqrt(v_hat), as in Algorithm 1",
             "x = x + (-lr * m) / denom",
             "Adam without its first-moment bias correction (lr / bc1 -> lr)"),
    Mutation("01_step_sizes", "optim.py",
             "g = fma(mu, b, g) if nesterov != 0.0 else b",
             "g = fma(0.5 * mu, b, g) if nesterov != 0.0 else b",
             "Nesterov's look-ahead g + mu b with half the momentum (g + mu b / 2)"),
    Mutation("02_sign_updates", "optim.py",
             "x = x * (1.0 - wd * lr)              # decoupled, applied first",
             "x = x * (1.0 + wd * lr)",
             "Lion's decoupled weight decay with the wrong sign (grows the weights)"),
    Mutation("03_loss_landscape", "landscape.py",
             'rows = shape[0] if (len(shape) == 2 and normalize == "filter") else 1',
             "rows = 1",
             "filter normalisation scales a weight matrix as a whole, not row by row (layer-wise)"),
    Mutation("04_large_steps_logistic", "separable.py",
             "return np.exp(-_log1pexp(m))",
             "return np.exp(-_log1pexp(-m))",
             "LR+GD weights points by sigma(m) instead of sigma(-m) (the sign of the margin)"),
    Mutation("05_softmax_safe_steps", "radius.py",
             "return Radius(math.pi / delta_a, delta_a",
             "return Radius(2.0 * math.pi / delta_a, delta_a",
             "the softmax Taylor radius rho_a = 2 pi / Delta_a instead of pi / Delta_a"),
    Mutation("06_three_body", "_nbody.py",
             "xp[i] = x[i] + (hd * hd * (0.5 * a0[i] + poly) + hd * v[i] - cx[i])",
             "xp[i] = x[i] + (hd * hd * (0.4 * a0[i] + poly) + hd * v[i] - cx[i])",
             "IAS15's substep predictor with a wrong acceleration coefficient (1/2 -> 0.4)"),
    Mutation("07_fair_comparison", "compare.py",
             "return _trial_order(trials).iloc[0]",
             "return _trial_order(trials).iloc[-1]",
             "a protocol selects the worst trial instead of the best"),
]


def by_notebook():
    return {m.notebook: m for m in MUTATIONS}


def occurrences(mutation, package=PACKAGE):
    """How often the mutation's search string occurs in the source (must be 1)."""
    return (Path(package) / mutation.path).read_text().count(mutation.old)


def _files(package):
    return sorted(p for p in Path(package).rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")


def apply(mutation, dest, package=PACKAGE):
    """Copy ``package`` to ``dest``/labkit and apply ``mutation`` there; return the copy's path.
    ``dest``/data links to the checkout's data/ (labkit.timestep_rl reads its policy there)."""
    target = Path(dest) / "labkit"
    shutil.copytree(package, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (Path(dest) / "data").symlink_to(nbrun.ROOT / "data")
    path = target / mutation.path
    text = path.read_text()
    count = text.count(mutation.old)
    if count != 1:
        raise ValueError(f"labkit/{mutation.path}: the search string of the {mutation.notebook} mutation "
                         f"occurs {count} times (need exactly 1): {mutation.old!r}")
    path.write_text(text.replace(mutation.old, mutation.new))
    return target


def mutant_dir(mutation, root=None, package=PACKAGE):
    """The work directory of ``mutation``: <stem>-<hash of the mutation>-<hash of labkit's files>."""
    root = Path(root or Path(tempfile.gettempdir()) / f"labkit-mutants-{os.getuid()}")
    h = hashlib.sha256()
    for f in _files(package):
        h.update(f.relative_to(package).as_posix().encode())
        h.update(f.read_bytes())
    which = hashlib.sha256(repr(mutation).encode()).hexdigest()[:8]
    return root / f"{mutation.notebook}-{which}-{h.hexdigest()[:12]}"


def prepare(mutation, root=None, package=PACKAGE):
    """``mutant_dir`` with the mutated copy in it (made once); the mutation's older ones removed."""
    d = mutant_dir(mutation, root, package)
    for old in d.parent.glob(d.name.rsplit("-", 1)[0] + "-*"):
        if old != d:
            shutil.rmtree(old, ignore_errors=True)
    if not (d / ".complete").exists():
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        apply(mutation, d, package)
        (d / ".complete").touch()
    if mutation.new not in (d / "labkit" / mutation.path).read_text():
        raise RuntimeError(f"{d}: labkit/{mutation.path} does not carry the mutation; remove the directory")
    return d


@dataclass
class Outcome:
    mutation: Mutation
    how: str | None         # "assertion", "records", or None (not caught)
    detail: str
    seconds: float

    @property
    def caught(self):
        return self.how is not None


def run_mutant(mutation, root=None):
    """Run ``mutation``'s notebook against a mutated copy of labkit; return an Outcome."""
    notebook = nbrun.NOTEBOOK_DIR / f"{mutation.notebook}.ipynb"
    baseline = nbrun.load_baseline(notebook) or {}
    d = prepare(mutation, root)
    env = {"PYTHONPATH": str(d), "LABKIT_CACHE_DIR": str(d / "cache"), "LABKIT_NO_CACHE": None,
           "NUMBA_CACHE_DIR": None}
    start = time.perf_counter()
    try:
        run = nbrun.run_notebook(notebook, baseline.get("parameters"), out_dir=d / "out", env=env)
    except nbrun.NotebookError as e:
        seconds = time.perf_counter() - start
        if e.ename == "AssertionError":
            return Outcome(mutation, "assertion", f"cell {e.cell_index}: AssertionError {e.evalue}".rstrip(), seconds)
        return Outcome(mutation, None, f"cell {e.cell_index} raised {e.ename}: {e.evalue}", seconds)
    seconds = time.perf_counter() - start
    rows = [r for r in nbrun.compare(notebook, run.records, baseline) if not r.ok]
    if rows:
        return Outcome(mutation, "records", "; ".join(f"{r.name}: {r.problem}"[:160] for r in rows), seconds)
    return Outcome(mutation, None, "every record matches its baseline", seconds)


def run_many(mutations, jobs=2, root=None):
    """run_mutant for each of ``mutations``, ``jobs`` at a time (each in its own process, since
    run_mutant sets environment variables); returns the Outcomes in order."""
    def one(m):
        cmd = [sys.executable, __file__, "--worker", json.dumps(asdict(m))] + (["--root", str(root)] if root else [])
        p = subprocess.run(cmd, capture_output=True, text=True)
        try:
            o = json.loads(p.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            return Outcome(m, None, f"runner failed (exit {p.returncode}): {p.stderr[-2000:]}", 0.0)
        return Outcome(m, o["how"], o["detail"], o["seconds"])
    with ThreadPoolExecutor(max(1, int(jobs))) as pool:
        return list(pool.map(one, mutations))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stems", nargs="*", help="notebook stems (default: every mutation)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--root", type=Path, help="where the work directories go")
    parser.add_argument("--worker", help=argparse.SUPPRESS)     # run_many's worker: a Mutation as JSON
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)
    if args.worker:
        o = run_mutant(Mutation(**json.loads(args.worker)), args.root)
        print(json.dumps({"how": o.how, "detail": o.detail, "seconds": o.seconds}))
        return 0
    known = by_notebook()
    unknown = sorted(set(args.stems) - set(known))
    if unknown:
        parser.error(f"no mutation for {unknown}; known: {sorted(known)}")
    chosen = [m for m in MUTATIONS if not args.stems or m.notebook in args.stems]
    t0 = time.perf_counter()
    outcomes = run_many(chosen, args.jobs, args.root)
    print(f"{'notebook':26s} {'caught by':10s} {'s':>6s}  mutation / detail")
    for o in outcomes:
        print(f"{o.mutation.notebook:26s} {o.how or 'NOT CAUGHT':10s} {o.seconds:6.1f}  {o.mutation.what}\n"
              f"{'':45s}{o.detail[:300]}")
    print(f"\n{sum(o.caught for o in outcomes)} of {len(outcomes)} caught in {time.perf_counter() - t0:.0f} s "
          f"({args.jobs} at a time)")
    return 0 if all(o.caught for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
