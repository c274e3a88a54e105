"""Guard the auto-vectorisation of the batched sweep kernel.

The block kernels run steps outer and lanes inner so that LLVM vectorises the lane
loops (18x over one scalar loop per lane).  That is fragile: in the spec's benchmark a
harmless-looking refactor (hoisting ``prep`` out of the lane loop) silently lost it and
the sweep went from 20 to 44 ms (``../shared/spec/numba-performance.md`` section 2).
Nothing else would notice, so read the assembly.
"""
import math
import re
import warnings
from pathlib import Path

import numba
import numpy as np
import pytest

import labkit as lk
from labkit._engine import KERNELS


def _cpu_flags():
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    flags = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags.update(line.partition(":")[2].split())
    return flags


FLAGS = _cpu_flags()

pytestmark = [
    pytest.mark.skipif("avx" not in FLAGS,
                       reason="no 'avx' flag in /proc/cpuinfo (non-x86 CPU, no AVX, or no /proc): "
                              "packed ymm/zmm double instructions cannot be expected"),
    pytest.mark.skipif(numba.config.CPU_NAME not in (None, "host"),
                       reason=f"NUMBA_CPU_NAME={numba.config.CPU_NAME!r}: code is generated for that CPU, "
                              "not this one, so its vector width says nothing about this machine"),
]


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


def test_adam_sweep_kernel_is_vectorised_across_lanes():
    df = lk.sweep(lk.problems.rosenbrock(), "adam", 50, lr=np.logspace(-3, -1, 16))
    assert len(df) == 16
    kernel = KERNELS[lk.optim.ADAM][1]
    assert kernel.signatures, "the sweep did not go through the block kernel"
    for sig, asm in assembly(kernel).items():
        assert len(asm) > 1000, f"no real assembly for {sig}"
        # Divisions only occur in Adam's step (lr / bc1, m / denom; the lane bookkeeping has
        # none), so a packed vdivpd shows the step loop itself was vectorised; vsqrtpd is
        # sqrt(v) there (and the gradient norms of the bookkeeping).
        div, sqrt = packed(asm, "vdivpd"), packed(asm, "vsqrtpd")
        assert div, "Adam's block kernel has no packed ymm/zmm vdivpd: the lane loop is no longer vectorised"
        assert sqrt, "Adam's block kernel has no packed ymm/zmm vsqrtpd: the lane loop is no longer vectorised"


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
