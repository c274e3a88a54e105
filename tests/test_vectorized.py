"""Guard the auto-vectorisation of the batched sweep kernel.

The block kernels run steps outer and lanes inner so that LLVM vectorises the lane
loops (18x over one scalar loop per lane).  That is fragile: in the spec's benchmark a
harmless-looking refactor (hoisting ``prep`` out of the lane loop) silently lost it and
the sweep went from 20 to 44 ms in a benchmark of the design.
Nothing else would notice, so read the assembly.
"""
import math
import re
import warnings

import numba
import numpy as np
import pytest

import labkit as lk
from labkit._engine import KERNELS


def _target_features():
    """The CPU features Numba generates code for: NUMBA_CPU_FEATURES when set (``generic``
    implies none), else the host's, as LLVM sees them."""
    if numba.config.CPU_FEATURES is not None:
        return {f[1:] for f in numba.config.CPU_FEATURES.split(",") if f.startswith("+")}
    import llvmlite.binding as ll
    return {name for name, on in ll.get_host_cpu_features().items() if on}


FEATURES = _target_features()
# A named CPU with the host's features is still the host's vector width; a named CPU with its
# own feature list (e.g. NUMBA_CPU_NAME=znver3 NUMBA_CPU_FEATURES=<no avx512>, an AVX2 machine
# simulated here) is checked at that width.
TARGET = f"{numba.config.CPU_NAME or 'host'} ({'AVX-512' if 'avx512f' in FEATURES else 'AVX2' if 'avx2' in FEATURES else 'AVX' if 'avx' in FEATURES else 'no AVX'})"

pytestmark = pytest.mark.skipif(
    "avx" not in FEATURES,
    reason=f"code is generated for {TARGET}: packed ymm/zmm double arithmetic cannot be expected")


def packed(asm, op):
    """Lines of ``asm`` where ``op`` (e.g. vdivpd) works on 256- or 512-bit registers."""
    return re.findall(rf"^\s*{op}\b[^\n]*%[yz]mm\d+", asm, re.M)


def assembly(kernel):
    """signature -> assembly of every compiled signature of ``kernel``.

    Numba cannot show the assembly of code loaded from its on-disk cache (it warns and
    returns a stub).  For those signatures compile an uncached twin from the same Python
    function with the same options: that is exactly the code a cache miss produces.
    """
    out = {}
    for sig in kernel.signatures:
        if kernel.stats.cache_hits.get(sig):
            twin = numba.jit(**kernel.targetoptions)(kernel.py_func)
            twin.compile(sig)
            out[sig] = twin.inspect_asm(sig)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("error")       # a stub would be a silent pass of nothing
                out[sig] = kernel.inspect_asm(sig)
    return out


ARITHMETIC = {"mul": r"vmul[ps]d", "add": r"vadd[ps]d", "sub": r"vsub[ps]d", "fma": r"vfn?m(?:add|sub)\w*[ps]d",
              "div": r"vdiv[ps]d", "sqrt": r"vsqrt[ps]d"}


def census(asm):
    """{operation: {register: count}} of the double arithmetic in ``asm`` (xmm: scalar or 2-wide)."""
    out = {}
    for label, op in ARITHMETIC.items():
        for reg in ("xmm", "ymm", "zmm"):
            n = len(re.findall(rf"^\s*{op}\b[^\n]*%{reg}\d+", asm, re.M))
            if n:
                out.setdefault(label, {})[reg] = n
    return out


def test_adam_sweep_kernel_is_vectorised_across_lanes(record_property):
    """What matters on every CPU: the lane loop runs on packed vectors (ymm or zmm, whichever
    width LLVM picks for this target: on AVX-512 machines it may still prefer 256 bits).

    Evidence: packed multiplies (the objective and Adam's moments, all inside the lane loop)
    and a packed square root (sqrt(v), only in Adam's step). Packed divisions are reported, not
    required: on AVX2 CPUs (e.g. AMD Zen 3) LLVM vectorises the multiplies and square roots but
    keeps Adam's divisions scalar; that costs speed, not correctness.
    """
    df = lk.sweep(lk.problems.rosenbrock(), "adam", 50, lr=np.logspace(-3, -1, 16))
    assert len(df) == 16
    kernel = KERNELS[lk.optim.ADAM][1]
    assert kernel.signatures, "the sweep did not go through the block kernel"
    for sig, asm in assembly(kernel).items():
        assert len(asm) > 1000, f"no real assembly for {sig}"
        found = census(asm)
        mul, sqrt, div = packed(asm, "vmulpd"), packed(asm, "vsqrtpd"), packed(asm, "vdivpd")
        summary = (f"target {TARGET}: packed ymm/zmm vmulpd {len(mul)}, vsqrtpd {len(sqrt)}, "
                   f"vdivpd {len(div)}{'' if div else ' (divisions scalar)'}; census {found}")
        record_property("vectorisation", summary)
        print(summary)
        assert len(mul) >= 8, f"the lane loop is no longer vectorised: {summary}"
        assert sqrt, f"Adam's step (sqrt(v)) is no longer vectorised across lanes: {summary}"


def test_detector_tells_packed_from_scalar_code():
    """The check above can fail: a loop-carried recurrence compiles to scalar vdivsd/vsqrtsd."""
    @numba.njit(error_model="numpy")
    def serial(x):
        acc = 1.0
        for i in range(x.shape[0]):
            acc = x[i] / (math.sqrt(acc) + 1.0)
        return acc

    @numba.njit(error_model="numpy")
    def parallel(x, out):
        for i in range(x.shape[0]):
            out[i] = x[i] / (math.sqrt(x[i]) + 1.0)

    x = np.linspace(1.0, 2.0, 256)
    serial(x)
    parallel(x, np.empty_like(x))
    scalar_asm = serial.inspect_asm(serial.signatures[0])
    vector_asm = parallel.inspect_asm(parallel.signatures[0])
    assert re.search(r"^\s*vdivsd\b", scalar_asm, re.M) and not packed(scalar_asm, "vdivpd")
    assert not packed(scalar_asm, "vsqrtpd")
    assert packed(vector_asm, "vdivpd") and packed(vector_asm, "vsqrtpd")
