"""`make test-portable` really computes as another CPU would: Numba generates code for a
generic x86-64 (no AVX, no FMA) into its own cache directory, and NumPy runs its baseline
kernels instead of its AVX2/AVX-512 ones. torch, the oracle, keeps the machine's kernels. In a plain `make test-host` run these skip."""
import os
import re

import numba
import numpy as np
import pytest

pytestmark = pytest.mark.skipif(os.environ.get("NUMBA_CPU_NAME") != "generic",
                                reason="only under make test-portable (NUMBA_CPU_NAME=generic)")


def test_numba_generates_generic_x86_64_code():
    assert numba.config.CPU_NAME == "generic" and numba.config.CPU_FEATURES == ""

    @numba.njit
    def axpy(a, x, y):
        for i in range(x.shape[0]):
            y[i] += a * x[i]

    x = np.ones(64)
    axpy(2.0, x, x.copy())
    asm = axpy.inspect_asm(axpy.signatures[0])
    assert re.search(r"^\s*mulpd\b|^\s*mulsd\b", asm, re.M), "no SSE2 multiply found"
    assert not re.search(r"%[yz]mm\d+|^\s*v\w+", asm, re.M), "AVX instructions in generic code"


def test_labkit_caches_generic_code_apart():
    from labkit import _jit
    base = os.environ.get("LABKIT_CACHE_DIR")
    assert base and _jit.CACHE_DIR and _jit.CACHE_DIR.startswith(base)


def test_numpy_runs_without_its_avx2_and_avx512_kernels():
    # NPY_DISABLE_CPU_FEATURES ignores names it does not know: check the effect, so that a
    # NumPy that renames its dispatch groups cannot turn this half of the check off silently.
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    enabled = [name for name in __cpu_dispatch__ if __cpu_features__.get(name)]
    assert not enabled, f"NumPy still dispatches to {enabled}: update NPY_DISABLE_CPU_FEATURES in the Makefile"

