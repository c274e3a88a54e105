"""The widget notebooks that tests/browser/test_widget_notebooks.py drives in a real browser.

Every row is one test: JupyterLab opens the notebook (a copy, in a temporary root, with its
regression baseline's small parameters injected), runs all cells, focuses the row's slider
(the first one matching ``slider``; ``status`` and ``canvas`` are looked up in the same cell), presses ``key`` ``presses`` times, then checks that

1. the status label (``status``) reports the new value: the value that ``status_re``
   captures changes, and equals what the slider now holds (its readout, formatted like the
   status with ``value_format``; and, when ``kernel_value`` is set, the kernel's own value of
   that expression), and
2. the pixels of ``canvas`` changed.

A row with ``click`` clicks that point of its figure instead (StabilityMapExplorer: a cell
of the map); the status must then report a new value, equal to ``kernel_value``.

Screenshots of the canvas go to build/screenshots/<notebook stem>-{before,after}.png.

A new widget notebook joins by adding a row to NOTEBOOKS, e.g.

    WidgetNotebook("02_sign_updates.ipynb", slider=slider_labelled("lr"), presses=5),

Its widget must give its status ``W.Label`` the CSS class ``labkit-status`` and put
``lr=<f"{lr:.3g}">`` (or whatever ``status_re`` captures) in its text after every event.
A row whose notebook is not in notebooks/ (yet) is skipped with that reason.

A notebook whose only widgets are ipympl figures (``%matplotlib widget``, no explorer) gets a
row without a slider: all its cells must run and every figure's canvas must be painted.
tests/browser/test_widget_coverage.py fails when a notebook with a widget has no row.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"

# ipympl's figure: the first canvas is the figure, the second one (same size) the rubber band.
IPYMPL_CANVAS = ".jupyter-matplotlib-canvas-div canvas >> nth=0"


def slider_labelled(description: str) -> str:
    """Selector of the ipywidgets slider whose description is exactly ``description``."""
    return f'.widget-slider:has(> .widget-label:text-is("{description}"))'


@dataclass(frozen=True)
class WidgetNotebook:
    name: str                    # file name in notebooks/ (or of a generated notebook)
    slider: str | None = None    # the slider's container (.widget-slider); its handle gets the keys
                                 # None: no slider, only ipympl figures (every one must be painted)
    presses: int = 0             # how many times `key` is pressed
    key: str = "ArrowRight"      # ArrowLeft/ArrowRight: one step; PageUp/PageDown, Home/End: more
    status: str = ".labkit-status"
    status_re: str = r"\blr=([-+0-9.eE]+|nan|inf)"    # captures the slider's value in the status
    value_format: str = ".3g"    # how the status formats it (Python format spec)
    canvas: str = IPYMPL_CANVAS  # what must change pixels
    kernel_value: str | None = None   # Python expression for the slider's value, read in the kernel
    cells: tuple[str, ...] | None = None   # code cells of a generated notebook; None: notebooks/<name>
    # Injected after the notebook's `parameters` cell (as papermill does) in the copy that runs.
    # None: the small parameters of its regression baseline, data/baselines/<stem>.json, if any.
    parameters: dict | None = None
    timeout_s: float = 45.0      # for opening the notebook and for running all cells, each
    # A click instead of key presses: (x, y) as fractions of the axes ``click_axes`` (a Python
    # expression, read in the kernel), x right, y up; ``slider`` then only finds the cell.
    click: tuple[float, float] | None = None
    click_axes: str = ""

    @property
    def stem(self) -> str:
        return Path(self.name).stem

    @property
    def generated(self) -> bool:
        return self.cells is not None

    def missing(self) -> str | None:
        """Why this row cannot run here, or None."""
        if self.generated or (NOTEBOOK_DIR / self.name).exists():
            return None
        return f"notebooks/{self.name} does not exist (yet)"

    def status_value(self, text: str) -> str | None:
        m = re.search(self.status_re, text)
        return m.group(1) if m else None

    def formatted(self, value: float) -> str:
        return format(value, self.value_format)


LR = slider_labelled("lr")

NOTEBOOKS: list[WidgetNotebook] = [
    # Generated into the temporary root by the test itself: StepSizeExplorer on its own,
    # independent of the lab notebooks. Keep it first. ArrowLeft: the start lr
    # (2/(λmin+λmax) = 0.182) is just below 2/λmax = 0.2; five steps left stay stable.
    WidgetNotebook(
        "smoke_step_size_explorer.ipynb", slider=LR, presses=5, key="ArrowLeft",
        kernel_value="ex.lr_slider.value",
        cells=("%matplotlib widget",
               "import labkit as lk\n"
               "from labkit.widgets import StepSizeExplorer\n"
               "ex = StepSizeExplorer(lk.problems.quadratic(), rules=(\"sgd\", \"adam\"), steps=500)\n"
               "ex.widget"),
    ),
    # StabilityMapExplorer's control is a click on the map: it shows that cell's run, and its
    # status the cell's lr (notebook 01's row moves the StepSizeExplorer above it).
    WidgetNotebook(
        "smoke_stability_map_explorer.ipynb", slider=".labkit-status", presses=0,
        click=(0.2, 0.8), click_axes="ex.axes['map']", kernel_value="ex.trajectory.rule.lr",
        cells=("%matplotlib widget",
               "import numpy as np\n"
               "import labkit as lk\n"
               "problem = lk.problems.quadratic(eigs=(1, 10), angle=0.5)\n"
               "smap = lk.analysis.stability_map(problem, \"sgd\", 300, lr=np.geomspace(1e-3, 1.0, 60),\n"
               "                                 momentum=np.linspace(0.0, 0.99, 60))\n"
               "ex = lk.widgets.StabilityMapExplorer(smap, 0.3, 0.9)\n"
               "ex.widget"),
    ),
    WidgetNotebook("01_step_sizes.ipynb", slider=LR, presses=5, key="ArrowLeft"),
    WidgetNotebook("02_sign_updates.ipynb", slider=LR, presses=5),
    WidgetNotebook("03_loss_landscape.ipynb", slider=LR, presses=5),
    # a later cell sets gamma = 1e6 (the slider runs to 1e7): ArrowLeft moves it
    WidgetNotebook("04_large_steps_logistic.ipynb", slider=LR, presses=5, key="ArrowLeft"),
    # no explorer: its figures are ipympl canvases (%matplotlib widget)
    WidgetNotebook("05_softmax_safe_steps.ipynb"),
    WidgetNotebook("06_three_body.ipynb", slider=slider_labelled("mu"), presses=5, timeout_s=120,
                   status_re=r"\bmu=([-+0-9.eE]+|nan|inf)", kernel_value="ex.mu_slider.value"),
]
