"""Record named numbers from a notebook, for the regression test to compare.

    lk.record("adam_final_f", traj.f_final)

``record`` displays a JSON output with its own MIME type, so the number is stored in the
executed ``.ipynb`` itself (JupyterLab shows the plain-text fallback). ``read_records``
reads them back. This replaces scrapbook's ``glue`` without its dependencies: importing
scrapbook in a kernel costs seconds, and the project is unmaintained.

Values are stored as plain JSON: numpy (or torch) scalars and arrays become Python
floats, ints, bools and lists first. JSON has no NaN or infinity (a browser refuses to
open a notebook that holds them), so non-finite floats are stored as the strings
``"nan"``, ``"inf"`` and ``"-inf"``.
"""
import math
from collections.abc import Mapping

__all__ = ["MIME", "record", "read_records"]

# nbformat requires the data under a "+json" MIME type to be a dict, hence the wrapper.
MIME = "application/vnd.labkit.record+json"


def record(name, value):
    """Display ``value`` under ``name`` as a record that ``read_records`` finds again.

    ``value`` may be None, a bool, int, float or str, a numpy/torch scalar or array, or
    lists, tuples and str-keyed dicts of these. Returns None, so that a cell ending in
    ``record(...)`` does not show the value a second time as its result.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"record name must be a non-empty str, got {name!r}")
    plain = _plain(value, name)
    # IPython only exists inside a kernel or shell: import it here so `import labkit` stays light.
    from IPython.display import display
    display({MIME: {"name": name, "value": plain}, "text/plain": f"{name} = {plain!r}"}, raw=True)


def read_records(path_or_nb):
    """Return ``{name: value}`` of every record in an executed notebook (a path or a notebook).

    Raises ValueError when two outputs record the same name: one of them would be lost.
    """
    if isinstance(path_or_nb, Mapping):
        nb = path_or_nb
    else:
        import nbformat
        nb = nbformat.read(path_or_nb, as_version=4)
    records = {}
    for cell in nb["cells"]:
        for output in cell.get("outputs", ()):
            data = output.get("data", {})
            if MIME in data:
                name, value = data[MIME]["name"], data[MIME]["value"]
                if name in records:
                    raise ValueError(f"record {name!r} is recorded twice")
                records[name] = value
    return records


def _plain(value, where):
    """``value`` as JSON-ready Python data (see the module docstring)."""
    if value is None:
        return None
    # Subclasses (numpy.float64 is a float) become the base type, so the repr stays plain.
    for base in (bool, int, str):
        if isinstance(value, base):
            return base(value)
    if isinstance(value, float):
        value = float(value)
        return value if math.isfinite(value) else str(value)    # "nan", "inf", "-inf"
    if hasattr(value, "tolist") and callable(value.tolist):
        # numpy scalars and arrays, torch tensors: .tolist() gives Python scalars or lists.
        converted = value.tolist()
        if type(converted) is type(value):
            raise TypeError(f"record {where!r}: cannot convert {type(value).__name__}")
        return _plain(converted, where)
    if isinstance(value, (list, tuple)):
        return [_plain(v, where) for v in value]
    if isinstance(value, Mapping):
        bad = [k for k in value if not isinstance(k, str)]
        if bad:
            # JSON would silently turn them into strings, and the comparison would then differ.
            raise TypeError(f"record {where!r}: dict keys must be str, got {bad[0]!r}")
        return {k: _plain(v, where) for k, v in value.items()}
    raise TypeError(f"record {where!r}: cannot record a {type(value).__name__}; "
                    "use numbers, strings, bools, None, arrays, lists or dicts")
