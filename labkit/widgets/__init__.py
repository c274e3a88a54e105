r"""Interactive explorers for Jupyter: controls that re-run a computation and update a figure in place.

    import labkit as lk
    from labkit.widgets import StepSizeExplorer
    ex = StepSizeExplorer(lk.problems.quadratic(), rules=("sgd", "adam"))
    ex.widget                      # controls, status line and the figure (with a still PNG)
    ex.update(lr=0.15)             # what a slider move does; returns ex.trajectory

Every explorer is an :class:`Explorer` (:mod:`labkit.widgets.base`) and has the same API:
``params``, ``trajectory``, ``update(**params)``, ``widget``, ``status``, ``timings``,
``controls``, ``still_png()``, ``close()``.  One module per explorer; each loads on first use.
Use ``%matplotlib widget`` (ipympl) for a live canvas; with any other backend the figure is
shown in an ``ipywidgets.Output`` and re-displayed per event.

matplotlib and ipywidgets load with the explorers (``import labkit`` does not load them).
"""
from .base import Explorer

__all__ = ["Explorer", "LandscapeExplorer", "SeparableExplorer", "SignUpdateExplorer", "StabilityMapExplorer",
           "StepSizeExplorer", "ThreeBodyExplorer", "landscape_problems", "sign_lab_problems"]

# Each explorer lives in its own module, loaded on first use (the three-body one compiles kernels).
_HOME = {"StepSizeExplorer": "stepsize", "StabilityMapExplorer": "stability", "SignUpdateExplorer": "signs",
         "sign_lab_problems": "signs", "LandscapeExplorer": "landscape", "landscape_problems": "landscape",
         "SeparableExplorer": "separable", "ThreeBodyExplorer": "threebody"}


def __getattr__(name):
    if name in _HOME:
        import importlib
        return getattr(importlib.import_module("." + _HOME[name], __name__), name)
    raise AttributeError(f"module 'labkit.widgets' has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *__all__})
