"""Error helpers shared by the registries and the drivers."""
from __future__ import annotations

import difflib


class DivergenceWarning(RuntimeWarning):
    """A run produced a non-finite value or left the problem's box; it was stopped there."""


def unknown_name(kind: str, name, known) -> ValueError:
    # Compare lower-cased so 'SGD' or 'RMSprop' (torch's spelling) finds 'sgd' / 'rmsprop'.
    by_lower = {str(k).lower(): k for k in known}
    close = [by_lower[c] for c in difflib.get_close_matches(str(name).lower(), list(by_lower), n=3, cutoff=0.5)]
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return ValueError(f"unknown {kind} {shown(name)}.{hint} Known: {', '.join(sorted(known))}.")


# Argument checks shared by every module: the error names the argument, shows what was given
# (its repr, cut short: a bad value may be a million-element array) and says what is allowed.

def shown(value, limit: int = 80) -> str:
    """``repr(value)`` on one line, at most ``limit`` characters."""
    try:
        text = repr(value)
    except Exception:                       # a broken __repr__ must not hide the real error
        text = f"<{type(value).__name__}>"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _is_int(value) -> bool:
    import numpy as np
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, (int, np.integer))


def check_int(name: str, value, lo: int = 0, hi: int | None = None) -> int:
    """``value`` as an ``int`` in ``[lo, hi]`` (bools refused), else ValueError.

    ``hi`` bounds integers that size an inner loop or an allocation, so that a typo such as
    ``ns_steps=10**12`` fails here instead of hanging the kernel.
    """
    if not _is_int(value) or value < lo or (hi is not None and value > hi):
        upto = f" and <= {hi}" if hi is not None else ""
        raise ValueError(f"{name} must be an integer >= {lo}{upto}, got {shown(value)}")
    return int(value)


#: Upper bound of the iteration counts of the labs' solvers (power iteration, Lanczos, projected
#: Newton): they converge in tens to thousands; 10**12 would hang a notebook for days.
MAX_ITERATIONS = 100_000

#: Largest seed: seeds reach the kernels as int64.
SEED_MAX = 2**63 - 1


def check_seed(name: str, value) -> int:
    """A random seed: an integer in ``[0, 2**63 - 1]`` (an integral float such as ``3.0`` is taken)."""
    import math
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        value = int(value)
    import numpy as np
    if isinstance(value, np.floating) and np.isfinite(value) and value == int(value):
        value = int(value)
    return check_int(name, value, 0, SEED_MAX)


def check_bool(name: str, value) -> bool:
    """``True``/``False`` (or 0/1), else ValueError."""
    import numpy as np
    if not isinstance(value, (bool, np.bool_, int, np.integer)) or value not in (0, 1):
        raise ValueError(f"{name} must be True or False, got {shown(value)}")
    return bool(value)


def _finite(name: str, value, ok, what: str) -> float:
    import math
    allowed = f"a finite number {what}".rstrip()
    # Strings are refused although float("1e-3") works: a quoted number in a notebook is a slip.
    if isinstance(value, (str, bytes)):
        raise ValueError(f"{name} must be {allowed}, got {shown(value)}")
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{name} must be {allowed}, got {shown(value)}") from None
    if not (math.isfinite(v) and ok(v)):
        raise ValueError(f"{name} must be {allowed}, got {shown(value)}")
    return v


def check_real(name: str, value) -> float:
    """``value`` as a finite ``float``, else ValueError."""
    return _finite(name, value, lambda v: True, "")


def check_positive(name: str, value) -> float:
    """``value`` as a finite ``float`` > 0, else ValueError."""
    return _finite(name, value, lambda v: v > 0.0, "> 0")


def check_nonneg(name: str, value) -> float:
    """``value`` as a finite ``float`` >= 0, else ValueError."""
    return _finite(name, value, lambda v: v >= 0.0, ">= 0")


def check_array(name: str, value, shape=None, *, finite: bool = True, what: str = "numbers"):
    """``value`` as a float64 array (a copy), of ``shape`` if given (``-1`` matches any length), else ValueError."""
    import numpy as np
    try:
        if isinstance(value, (str, bytes, dict)) or callable(value) or value is None:
            raise TypeError
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        want = f"an array of shape {_shape_text(shape)} of {what}" if shape is not None else f"an array of {what}"
        raise ValueError(f"{name} must be {want}, got {shown(value)}") from None
    if shape is not None and (arr.ndim != len(shape) or any(s != -1 and s != a for s, a in zip(shape, arr.shape))):
        raise ValueError(f"{name} must have shape {_shape_text(shape)}, got shape {arr.shape}: {shown(value)}")
    if finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {shown(value)}")
    return arr


def _shape_text(shape) -> str:
    inner = ", ".join("n" if s == -1 else str(s) for s in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def check_callable(name: str, value, optional: bool = False):
    """A function (or ``None`` when ``optional``), else TypeError."""
    if (value is None and optional) or callable(value):
        return value
    allowed = "a function or None" if optional else "a function"
    raise TypeError(f"{name} must be {allowed}, got {shown(value)}")


def check_problem(name: str, value):
    """A :class:`~labkit.problems.Problem`, or the name of a registered one (built with its defaults).

    The one resolver of problem names: ``run``, ``sweep`` and ``check_gradient`` take
    ``"rosenbrock"`` as :func:`labkit.compare.compare` does.
    """
    from . import problems
    if isinstance(value, problems.Problem):
        return value
    if isinstance(value, str):
        if value not in problems.registry:
            err = unknown_name("problem", value, problems.registry)
            raise (err if name == "problem" else ValueError(f"{name}: {err}"))
        return problems.registry[value]()
    raise TypeError(f"{name} must be a Problem (e.g. lk.problems.rosenbrock(), or lk.Problem(name=..., f=..., "
                    f"grad=..., x0=...)) or the name of a built-in one ({', '.join(sorted(problems.registry))}), "
                    f"got {shown(value)}")


# ----------------------------------------------------------------------------- memory

#: The share of available memory one call may allocate, and an absolute cap: a run that needs
#: more is refused before allocating (on Binder's ~2 GB an oversized run kills the kernel).
MEMORY_SHARE = 0.25
MEMORY_CAP = 8 * 2**30


def memory_budget() -> int:
    """Bytes one call may allocate: ``MEMORY_SHARE`` of the memory available now, at most ``MEMORY_CAP``."""
    import os
    avail = None
    try:
        with open("/proc/meminfo") as fh:          # MemAvailable counts reclaimable cache, unlike free
            for line in fh:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            avail = 4 * 2**30                          # no way to ask (macOS, Windows): assume 4 GiB free
    return int(min(MEMORY_SHARE * avail, MEMORY_CAP))


def _bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.3g} {unit}"
        n /= 1024


def check_memory(what: str, n_bytes: float, *, per_unit: float | None = None, unit: str = "",
                 fixed: float = 0.0) -> None:
    """ValueError if ``n_bytes`` exceeds :func:`memory_budget`; with ``per_unit``, say how many ``unit``
    fit beside the ``fixed`` part (bytes that do not grow with them).

    Cheap (one read of /proc/meminfo) and only reached by large requests.
    """
    if n_bytes <= 64 * 2**20:          # small: never worth a look at the system
        return
    budget = memory_budget()
    if n_bytes <= budget:
        return
    fit = f"; at most about {max(0, int((budget - fixed) // per_unit)):,} {unit} fit" if per_unit else ""
    raise ValueError(f"{what} would take {_bytes(n_bytes)}, more than the {_bytes(budget)} labkit allows "
                     f"itself ({MEMORY_SHARE:.0%} of available memory, at most {_bytes(MEMORY_CAP)}){fit}")


def check_run_memory(problem, steps: int, lanes: int = 0, who: str = "run") -> None:
    """Refuse, before allocating, a call whose arrays would not fit (a student's kernel on Binder's
    ~2 GB dies instead of raising MemoryError).  ``run`` keeps (steps + 1) x (dim + 2) floats (points,
    f, |g|), a schedule of ``steps`` and, on the Python path with noise, a (steps + 1) x dim noise
    table; ``sweep`` keeps the schedule and a few dim-vectors per lane."""
    d = problem.dim
    if lanes:
        per_step, fixed = 8.0, 8.0 * lanes * (6 * d + 8)
    else:
        per_step, fixed = 8.0 * (d + 3 + (d if problem.noise else 0)), 0.0
    check_memory(f"{who} with steps={steps} on {problem.name} (dim {d})", per_step * (steps + 1) + fixed,
                 per_unit=per_step, unit="steps", fixed=fixed)
