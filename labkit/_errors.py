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
    return ValueError(f"unknown {kind} {name!r}.{hint} Known: {', '.join(sorted(known))}.")


# Argument checks shared by every module: the error names the argument and what it must be.

def check_int(name: str, value, lo: int = 0) -> int:
    """``value`` as an ``int`` >= ``lo`` (bools refused), else ValueError."""
    import numpy as np
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {value!r}")
    return int(value)


def _finite(name: str, value, ok, what: str) -> float:
    import math
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number {what}, got {value!r}") from None
    if not (math.isfinite(v) and ok(v)):
        raise ValueError(f"{name} must be a finite number {what}, got {value!r}")
    return v


def check_positive(name: str, value) -> float:
    """``value`` as a finite ``float`` > 0, else ValueError."""
    return _finite(name, value, lambda v: v > 0.0, "> 0")


def check_nonneg(name: str, value) -> float:
    """``value`` as a finite ``float`` >= 0, else ValueError."""
    return _finite(name, value, lambda v: v >= 0.0, ">= 0")
