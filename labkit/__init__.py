"""labkit: a Jupyter-first lab for exploring optimizer dynamics.

    import labkit as lk
    problem = lk.problems.rosenbrock()
    traj = lk.run(problem, lk.optim.adam(lr=0.05), steps=2000)
    lk.viz.trajectories(problem, [traj])

Importing labkit loads numpy and numba only; pandas, matplotlib, seaborn, ipywidgets
and torch load where they are used.
"""
from . import _jit

_jit.begin_kernel_imports()     # labkit's kernels cache under a directory keyed by their sources
try:
    from . import _engine, optim, problems
finally:
    _jit.end_kernel_imports()

from . import analysis, schedules, signs, stochastic
from ._errors import DivergenceWarning
from .citations import cite
from .gradcheck import check_gradient
from .problems import Problem
from .record import record
from .run import Trajectory, run
from .sweep import sweep

__version__ = "0.1.0"

__all__ = [
    "DivergenceWarning",
    "analysis",
    "compare",
    "eos",
    "landscape",
    "nets",
    "Problem",
    "Trajectory",
    "check_gradient",
    "cite",
    "optim",
    "problems",
    "radius",
    "record",
    "run",
    "schedules",
    "separable",
    "signs",
    "stochastic",
    "sweep",
    "threebody",
    "timestep_rl",
    "viz",
    "widgets",
]


_LAZY = ("viz", "widgets", "nets", "eos", "threebody", "timestep_rl", "landscape", "compare", "separable", "radius")


def __getattr__(name):
    # viz and widgets pull in matplotlib, seaborn and ipywidgets, nets and eos torch, threebody its kernels:
    # load them on first use.
    if name in _LAZY:
        import importlib
        return importlib.import_module("." + name, __name__)
    raise AttributeError(f"module 'labkit' has no attribute {name!r}")
