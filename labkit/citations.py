"""``lk.cite``: the references behind what a notebook used.

Every ``lk.run`` and ``lk.sweep`` notes its rule and problem; ``lk.cite()`` prints the
references of everything noted so far in this process, and ``lk.cite(x, ...)`` those of
the given rules, problems, trajectories, schedules or names.  The text comes from the
same place as ``lk.optim.describe``: the "Reference(s):" paragraph of the docstring (or a
problem's ``reference`` field), so there is one source of truth.
"""
from __future__ import annotations

import inspect
import re

_used: dict = {}          # key -> object, in order of first use


def note(*objects) -> None:
    """Remember that these rules / problems / schedules were used (called by run and sweep)."""
    for obj in objects:
        key = _key(obj)
        if key is not None:
            _used.setdefault(key, obj)


def _key(obj):
    from .optim import Rule
    from .problems import Problem
    if isinstance(obj, Rule):
        return ("rule", obj.name)
    if isinstance(obj, Problem):
        return ("problem", obj.name)
    if hasattr(obj, "reference") and hasattr(obj, "name"):          # lk.schedules.Schedule
        return ("schedule", obj.name)
    if callable(obj):
        return ("function", getattr(obj, "__qualname__", repr(obj)))
    return None


def references(doc: str) -> str:
    """The "Reference(s):" paragraph of a docstring, on one line ('' if there is none)."""
    doc = inspect.cleandoc(doc or "")
    for para in re.split(r"\n\s*\n", doc):
        m = re.search(r"\bReferences?:\s*(.*)", para, flags=re.S)
        if m:
            return " ".join(m.group(1).split())
    return ""


def _entries(obj):
    """(label, reference) pairs for one thing given to cite."""
    from . import optim, problems
    from .run import Trajectory
    if isinstance(obj, Trajectory):
        return _entries(obj.rule) + _entries(obj.problem)
    if isinstance(obj, str):
        if obj in optim.registry:
            obj = optim.get(obj)
        elif obj in problems.names():
            obj = problems.get(obj)
        else:
            from ._errors import unknown_name
            raise unknown_name("rule or problem", obj, list(optim.registry) + list(problems.names()))
    if isinstance(obj, optim.Rule):
        doc = optim.registry[obj.name].__doc__
        return [(obj.name, references(doc) or obj.reference)]
    if isinstance(obj, problems.Problem):
        return [(obj.name, obj.reference)]
    if hasattr(obj, "reference") and hasattr(obj, "name"):          # lk.schedules.Schedule
        return [(f"{obj.name} schedule", obj.reference)]
    if callable(obj):
        target = getattr(obj, "func", obj)            # functools.partial -> the schedule itself
        ref = references(getattr(target, "__doc__", ""))
        return [(getattr(target, "__name__", repr(obj)), ref)] if ref else []
    raise TypeError(f"cannot cite {obj!r}: give a rule, problem, trajectory, schedule or name")


def cite(*things, show: bool = True) -> str:
    """Print (and return) the references for ``things``, or for everything used so far.

    >>> lk.cite("adam", lk.problems.rosenbrock())      # doctest: +SKIP
    """
    items = things or tuple(_used.values())
    seen, lines = set(), []
    for obj in items:
        for label, ref in _entries(obj):
            if label in seen or not ref:
                continue
            seen.add(label)
            lines.append(f"[{len(lines) + 1}] {label}: {ref}")
    text = "\n".join(lines) if lines else "(nothing to cite yet: run something first)"
    if show:
        print(text)
    return text
