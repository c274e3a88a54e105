"""tools/record_spread.py's table, on made-up records (running the notebooks is the tool's job)."""
import record_spread as rs
import run_notebooks as nbrun


def _rows(per_build, baseline):
    return {r["record"]: r for r in rs.spread_rows("nb", per_build, baseline)}


def test_spread_flags_records_that_move_more_than_their_tolerance():
    baseline = {"records": {
        "ratio": {"value": {"sgd": 1.0, "sign": 2.76}, "rtol": 1e-6, "atol": 1e-12},
        "band": {"value": 0.99, "rtol": 0.1, "atol": 0.0},
        "steps": {"value": 62},
        "never": {"value": "inf", "rtol": 1e-6, "atol": 0.0},
    }}
    per_build = {
        "host": {"ratio": {"sgd": 1.0, "sign": 2.76}, "band": 0.976, "steps": 62, "never": "inf"},
        "generic": {"ratio": {"sgd": 1.0, "sign": 4.30}, "band": 0.982, "steps": 63, "never": "inf"},
    }
    rows = _rows(per_build, baseline)
    assert rows["ratio['sgd']"]["flags"] == [] and rows["ratio['sgd']"]["spread"] == 0.0
    sign = rows["ratio['sign']"]
    assert sign["flags"] == ["SPREAD", "FAIL"] and abs(sign["rel_spread"] - 1.54 / 2.76) < 1e-12
    assert rows["band"]["flags"] == [] and abs(rows["band"]["allowed"] - 0.099) < 1e-12
    assert rows["steps"]["flags"] == ["DIFFERS", "FAIL"]
    assert rows["never"]["flags"] == []
    text = rs.format_rows(list(rows.values()))
    assert "SPREAD FAIL" in text and "host" in text.splitlines()[0]


def test_builds_select_the_cpu_for_numba_numpy_and_torch():
    host, generic, zen3 = (rs.build_env(b) for b in rs.BUILDS)
    assert all(v is None for v in host.values())              # host: whatever this machine is
    assert generic["NUMBA_CPU_NAME"] == "generic" and zen3["NUMBA_CPU_NAME"] == "znver3"
    # An empty feature list: otherwise Numba adds the host's (AVX-512) features to znver3.
    assert zen3["NUMBA_CPU_FEATURES"] == "" and "X86_V4" in zen3["NPY_DISABLE_CPU_FEATURES"]
    assert generic["LABKIT_CACHE_DIR"] != zen3["LABKIT_CACHE_DIR"]


def test_make_test_portable_is_the_generic_build():
    """The generic build measured here is the one `make test-portable` tests: same Numba target,
    same NumPy loops (torch, the oracle, deliberately keeps its kernels there)."""
    import re
    make = (nbrun.ROOT / "Makefile").read_text()
    portable = re.search(r"^PORTABLE_ENV := (.*?)\n(?=\S)", make, re.S | re.M).group(1)
    generic = rs.build_env("generic")
    assert f"NUMBA_CPU_NAME={generic['NUMBA_CPU_NAME']}" in portable
    npy = re.search(r'NPY_DISABLE_CPU_FEATURES="([^"]*)"', portable).group(1)
    assert set(npy.split()) == set(generic["NPY_DISABLE_CPU_FEATURES"].split())
