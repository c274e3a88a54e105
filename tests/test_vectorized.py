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


def _vector_width():
    """The widest vector register Numba's target uses for a plainly vectorisable loop: 'zmm',
    'ymm' or 'xmm'. Probing the code itself covers every way the target is chosen (the host,
    NUMBA_CPU_NAME with or without NUMBA_CPU_FEATURES)."""
    @numba.njit(error_model="numpy")
    def scale(x, out):
        for i in range(x.shape[0]):
            out[i] = 2.5 * x[i] + 1.0

    x = np.ones(256)
    scale(x, np.empty_like(x))
    asm = scale.inspect_asm(scale.signatures[0])
    return next((reg for reg in ("zmm", "ymm") if re.search(rf"%{reg}\d+", asm)), "xmm")


WIDTH = _vector_width()
TARGET = f"{numba.config.CPU_NAME or 'host'} ({ {'zmm': '512-bit', 'ymm': '256-bit', 'xmm': '128-bit'}[WIDTH]} vectors)"

pytestmark = pytest.mark.skipif(
    WIDTH == "xmm",
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
    """What matters on every CPU: the lane loop runs on packed vectors at the width LLVM uses
    for this target (zmm or ymm: on some AVX-512 CPUs LLVM prefers 256 bits; the probe tells).

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
        # At the width the target uses for a plain loop (the probe): packed, but narrower than
        # the target could do, would be a quiet 2x loss.
        assert found.get("mul", {}).get(WIDTH, 0) >= 8, f"the lane loop is not vectorised at {WIDTH} width: {summary}"
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
