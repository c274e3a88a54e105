"""An explorer resized by ipympl's handle (the canvas's bottom-right corner), as a teacher widens
it for a projector: the figure in the kernel takes the new size, the layout is redone (nothing
cut), and a slider still changes pixels afterwards.  Real browser (JupyterLab, headless chromium)."""
from __future__ import annotations

import json

from harness import ALL_RUN, KERNEL_EVAL, PAINTED, RUN_ALL, SHUTDOWN, _poll, _settled
from test_widget_notebooks import _open, _wait
from widget_notebooks import NOTEBOOKS, slider_labelled

ROW = NOTEBOOKS[0]                       # the generated StepSizeExplorer notebook
CUT = ("[a.get_tightbbox(ex.fig.canvas.get_renderer()).extents.round().tolist() for a in ex.fig.axes]")


def test_dragging_the_resize_handle_widens_the_explorer_and_it_keeps_working(page, lab):
    assert ROW.stem == "smoke_step_size_explorer"
    console, _ = _open(page, lab, ROW)
    try:
        page.evaluate(RUN_ALL)
        _wait(page, ALL_RUN, ROW.timeout_s, "the notebook did not run", console=console)
        canvas = page.locator(".jupyter-matplotlib-canvas-div canvas").first
        assert _poll(lambda: canvas.evaluate(PAINTED), 30, 0.2), "the explorer's canvas was never painted"
        _settled(canvas)
        canvas.scroll_into_view_if_needed()
        b = canvas.bounding_box()
        w0 = page.evaluate(KERNEL_EVAL, "int(ex.fig.bbox.width)")
        # ipympl's handle: the 20 px square in the canvas's bottom-right corner
        x, y = b["x"] + b["width"] - 6, b["y"] + b["height"] - 6
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 90, y + 40, steps=6)
        page.mouse.up()
        widened = _poll(lambda: int(page.evaluate(KERNEL_EVAL, "int(ex.fig.bbox.width)")) > int(w0) + 40, 15, 0.2)
        assert widened, f"the figure is still {page.evaluate(KERNEL_EVAL, 'ex.fig.bbox.bounds')} after the drag"
        _wait(page, ALL_RUN, 15, "the kernel did not go idle after the resize", console=console)
        assert _poll(lambda: canvas.bounding_box()["width"] > b["width"] + 40, 15, 0.2), "the canvas did not widen"
        width, height = (float(v) for v in page.evaluate(KERNEL_EVAL, "tuple(float(v) for v in ex.fig.bbox.size)").strip("()").split(","))
        for x0, y0, x1, y1 in json.loads(page.evaluate(KERNEL_EVAL, CUT)):     # (a list of lists of floats)
            assert x0 >= -1 and y0 >= -1 and x1 <= width + 1 and y1 <= height + 1, (x0, y0, x1, y1, width, height)
        before = _settled(canvas)
        slider = page.locator(slider_labelled("lr")).first
        slider.locator(".noUi-handle").first.focus()
        page.keyboard.press("ArrowLeft")
        _wait(page, "([c, b]) => c.toDataURL() !== b", 15, "no pixels changed after a key press on lr",
              arg=[canvas.element_handle(), before], console=console)
    finally:
        page.evaluate(SHUTDOWN)
