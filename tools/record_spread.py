"""How far each notebook record moves with the CPU that Numba compiles for.

    PYTHONPATH=. python tools/record_spread.py                      # every notebook, every build
    PYTHONPATH=. python tools/record_spread.py notebooks/02_sign_updates.ipynb
    PYTHONPATH=. python tools/record_spread.py --builds host generic
    PYTHONPATH=. python tools/record_spread.py --table              # only print the saved table

Each notebook runs with the parameters in its baseline under three builds:

    host     the default: this CPU's name and features (AVX-512 on a Zen 4)
    generic  plain x86-64: NUMBA_CPU_NAME=generic (no AVX, no FMA instructions), NumPy's SIMD
             dispatch limited to its X86_V2 baseline, torch's ATen at its "default" kernels
    znver3   an AMD Zen 3: NUMBA_CPU_NAME=znver3 NUMBA_CPU_FEATURES="" (AVX2 and FMA, no
             AVX-512; without the empty feature string Numba adds the host's features, AVX-512
             included, to whatever CPU name it is given), NumPy without its AVX-512 loops,
             ATen at "avx2"

The NumPy and torch settings matter as much as Numba's: NumPy's power, exp and log dispatch
to different (AVX-512) loops that round differently, so a schedule computed in NumPy differs
in its last bits between a Zen 4 and a Zen 3 whatever Numba generates. This is how 02's
rotation_slowdown moved with the machine even under NUMBA_CPU_NAME=generic.

Each build keeps its own Numba cache (LABKIT_CACHE_DIR=$TMPDIR/labkit-<build>-cache; host uses
the usual one), so the first run of a build compiles every kernel cold. Papermill's kernels
inherit this process's environment, which is how a build reaches the notebook.

Records are saved, merged per (notebook, build), in build/spread/records.json; executed copies
in build/spread/<build>/. The table has one row per leaf of a record (floats inside lists and
dicts included): the value in each build, the spread (max - min over builds, also relative to
the baseline), the baseline's tolerance (atol + rtol*|baseline|), and a flag:

    SPREAD   the builds disagree by more than the tolerance allows: a measurement to redesign
    FAIL     some build is outside the baseline's tolerance
    DIFFERS  a non-float leaf (int, bool, string) that is not the same in every build

The exit status is 1 when any row is flagged.
"""
import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run_notebooks as nbrun   # noqa: E402

RESULTS = nbrun.ROOT / "build" / "spread" / "records.json"
_CPU_VARS = ("NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES", "NPY_DISABLE_CPU_FEATURES", "ATEN_CPU_CAPABILITY",
             "LABKIT_CACHE_DIR")


def build_env(name):
    """The environment variables that select build ``name`` (None: remove the variable)."""
    tmp = tempfile.gettempdir()
    builds = {
        "host": {},
        "generic": {"NUMBA_CPU_NAME": "generic", "NUMBA_CPU_FEATURES": "",
                    "NPY_DISABLE_CPU_FEATURES": "AVX512_ICL AVX512_SPR X86_V4 X86_V3",
                    "ATEN_CPU_CAPABILITY": "default",
                    "LABKIT_CACHE_DIR": f"{tmp}/labkit-generic-cache"},
        "znver3": {"NUMBA_CPU_NAME": "znver3", "NUMBA_CPU_FEATURES": "",
                   "NPY_DISABLE_CPU_FEATURES": "AVX512_ICL AVX512_SPR X86_V4",
                   "ATEN_CPU_CAPABILITY": "avx2",
                   "LABKIT_CACHE_DIR": f"{tmp}/labkit-znver3-cache"},
    }
    env = {var: None for var in _CPU_VARS}
    env.update(builds[name])
    return env


BUILDS = ("host", "generic", "znver3")


def run_in_build(notebook, build, parameters, out_dir):
    """run_notebooks.run_notebook with the environment of ``build``."""
    return nbrun.run_notebook(notebook, parameters, out_dir=out_dir, env=build_env(build))


def leaves(value, path=""):
    """(path, leaf) pairs of a record value; lists and dicts are walked."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, f"{path}[{k!r}]")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from leaves(v, f"{path}[{i}]")
    else:
        yield path, value


def _number(v):
    """A float for a JSON number or labkit's 'inf'/'-inf'/'nan' strings, else None."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if v in ("inf", "-inf", "nan"):
        return float(v)
    return None


def spread_rows(stem, per_build, baseline):
    """One dict per leaf of every record of notebook ``stem``: values per build, spread, flags."""
    builds = [b for b in BUILDS if b in per_build] + sorted(set(per_build) - set(BUILDS))
    expected = (baseline or {}).get("records", {})
    names = list(dict.fromkeys(n for b in builds for n in per_build[b]))
    rows = []
    for name in names:
        entry = expected.get(name, {})
        rtol, atol = entry.get("rtol", 0.0), entry.get("atol", 0.0)
        base_leaves = dict(leaves(entry["value"])) if "value" in entry else {}
        paths = list(dict.fromkeys(p for b in builds if name in per_build[b]
                                   for p, _ in leaves(per_build[b][name])))
        for path in paths:
            values = {b: dict(leaves(per_build[b][name])).get(path, "<missing>")
                      for b in builds if name in per_build[b]}
            base = base_leaves.get(path, "<missing>")
            row = dict(notebook=stem, record=name + path, values=values, baseline=base,
                       rtol=rtol, atol=atol, spread=None, rel_spread=None, allowed=None, flags=[])
            nums = [_number(v) for v in values.values()]
            is_float = any(isinstance(v, float) for v in values.values()) and "rtol" in entry
            if is_float and all(x is not None for x in nums) and _number(base) is not None:
                b = _number(base)
                finite = [x for x in nums if math.isfinite(x)]
                if len(finite) == len(nums):
                    row["spread"] = max(nums) - min(nums)
                    row["rel_spread"] = (row["spread"] / abs(b) if b
                                         else math.inf if row["spread"] > 0 else 0.0)
                    row["allowed"] = atol + rtol * abs(b) if math.isfinite(b) else 0.0
                    if row["spread"] > row["allowed"]:
                        row["flags"].append("SPREAD")
                elif len(set(map(repr, nums))) > 1:
                    row["flags"].append("SPREAD")
            elif len(set(json.dumps(v) for v in values.values())) > 1:
                row["flags"].append("DIFFERS")
            if any(nbrun.mismatch(v, base, rtol, atol) for v in values.values()):
                row["flags"].append("FAIL")
            rows.append(row)
    return rows


def format_rows(rows):
    builds = list(dict.fromkeys(b for r in rows for b in r["values"]))

    def g(v):
        if isinstance(v, float):
            return f"{v:.10g}"
        text = json.dumps(v) if not isinstance(v, str) else v
        return text if len(text) <= 22 else text[:19] + "..."
    table = [("notebook", "record", *builds, "spread", "rel", "allowed", "rtol", "atol", "flag")]
    for r in rows:
        table.append((r["notebook"], r["record"], *(g(r["values"].get(b, "-")) for b in builds),
                      "-" if r["spread"] is None else f"{r['spread']:.2e}",
                      "-" if r["rel_spread"] is None else f"{r['rel_spread']:.1e}",
                      "-" if r["allowed"] is None else f"{r['allowed']:.2e}",
                      f"{r['rtol']:g}", f"{r['atol']:g}", " ".join(r["flags"])))
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in table)


def load_results(path=RESULTS):
    return json.loads(Path(path).read_text()) if Path(path).exists() else {}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to run (default: every notebook in notebooks/)")
    parser.add_argument("--builds", nargs="+", default=list(BUILDS), choices=BUILDS)
    parser.add_argument("--table", action="store_true", help="run nothing; print the saved table")
    parser.add_argument("--results", type=Path, default=RESULTS, help=f"default {RESULTS}")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)

    results = load_results(args.results)
    chosen = [p.resolve() for p in args.notebooks] or nbrun.notebooks()
    if not args.table:
        for notebook in chosen:
            baseline = nbrun.load_baseline(notebook) or {}
            for build in args.builds:
                print(f"running {nbrun._rel(notebook)} [{build}] ...", file=sys.stderr, flush=True)
                out = args.results.parent / build
                try:
                    run = run_in_build(notebook, build, baseline.get("parameters"), out)
                except (nbrun.NotebookError, ValueError) as e:
                    print(f"FAILED {e}", file=sys.stderr)
                    results.setdefault(notebook.stem, {})[build] = {"<error>": str(e)[:2000]}
                else:
                    print(f"  {len(run.records)} records in {run.seconds:.1f} s", file=sys.stderr)
                    results.setdefault(notebook.stem, {})[build] = run.records
                args.results.parent.mkdir(parents=True, exist_ok=True)
                args.results.write_text(json.dumps(results, indent=1) + "\n")
    rows = []
    for notebook in chosen:
        if notebook.stem in results:
            rows += spread_rows(notebook.stem, results[notebook.stem], nbrun.load_baseline(notebook))
    print(format_rows(rows))
    flagged = [r for r in rows if r["flags"]]
    print(f"\n{len(flagged)} of {len(rows)} leaves flagged")
    return 1 if flagged else 0


if __name__ == "__main__":
    sys.exit(main())
