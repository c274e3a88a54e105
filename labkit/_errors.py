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
