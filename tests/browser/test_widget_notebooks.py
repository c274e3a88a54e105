"""Real-browser widget tests: each row of widget_notebooks.NOTEBOOKS opens in JupyterLab
(headless Debian chromium through Playwright), runs all cells, gets its slider moved with the
keyboard, and must (1) report the slider's new value in its status label and (2) redraw the
canvas. Canvas screenshots: build/screenshots/<stem>-{before,after}.png.
"""
from __future__ import annotations

import time

import pytest

from conftest import SCREENSHOTS, TIMINGS
from widget_notebooks import NOTEBOOKS, WidgetNotebook

ROWS = [pytest.param(row, id=row.stem,
                     marks=[pytest.mark.skip(reason=why)] if (why := row.missing()) else [])
        for row in NOTEBOOKS]

# With --LabApp.expose_app_in_browser the application is window.jupyterapp.
KERNEL_IDLE = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.status === 'idle' && w.content && w.content.widgets.length > 0;
}"""
# Every cell has run: the kernel is idle and no prompt says [*] (between two queued cells the
# kernel is briefly idle too).
ALL_RUN = KERNEL_IDLE.replace("return !!k", """if (Array.from(document.querySelectorAll('.jp-InputPrompt'))
      .some(p => p.textContent.includes('[*]'))) return false;
  return !!k""")
RUN_ALL = "() => window.jupyterapp.commands.execute('notebook:run-all-cells')"
SHUTDOWN = """async () => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (w && w.sessionContext) { await w.sessionContext.shutdown(); }
}"""
# The text of every stderr/traceback output in the notebook (the failure message shows them).
ERRORS = """() => Array.from(document.querySelectorAll(
  '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')).map(e => e.innerText)"""
# An expression evaluated in the notebook's kernel: its repr, or the error.
KERNEL_EVAL = """async (expr) => {
  const k = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const reply = await k.requestExecute({code: '', silent: true, store_history: false,
                                        user_expressions: {v: expr}}).done;
  const r = reply.content.user_expressions.v;
  return r.status === 'ok' ? r.data['text/plain'] : `${r.ename}: ${r.evalue}`;
}"""
DATA_URL = "c => c.toDataURL()"
PAINTED = """c => { if (!c.width || !c.height) return false;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 3; i < d.length; i += 4) { if (d[i] !== 0) return true; } return false; }"""


def _poll(fn, timeout: float, interval: float = 0.05):
    """fn() until it returns something truthy; that value, or the last one after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def _settled(canvas, quiet: float = 0.4, timeout: float = 10.0) -> str:
    """The canvas image once it has not changed for `quiet` s (ipympl may redraw once after
    the first display, when the frontend reports its size): a baseline that only the key
    presses can change."""
    last, since = canvas.evaluate(DATA_URL), time.monotonic()
    deadline = since + timeout
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = canvas.evaluate(DATA_URL)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return last


def _wait(page, js: str, timeout_s: float, failure: str, arg=None, console=()):
    """page.wait_for_function(js) or pytest.fail(failure + the browser's console errors)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    try:
        page.wait_for_function(js, arg=arg, timeout=timeout_s * 1000)
    except PlaywrightTimeout:
        pytest.fail(f"{failure} (waited {timeout_s:.0f} s){_console(console)}")


def _console(console) -> str:
    errors = [m for m in console if m.startswith(("error", "pageerror"))]
    return ("\nbrowser console errors:\n  " + "\n  ".join(errors[-10:])) if errors else ""


@pytest.mark.parametrize("row", ROWS)
def test_slider_updates_status_and_canvas(row: WidgetNotebook, page, lab):   # page first: skips before starting lab
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"[:500]))
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"[:500]))
    t: dict[str, float] = {}
    t0 = time.perf_counter()
    page.goto(f"{lab.url}/lab/tree/{row.name}?reset&token={lab.token}")
    _wait(page, KERNEL_IDLE, row.timeout_s, f"{row.name}: JupyterLab did not open it with an idle kernel",
          console=console)
    t["open->kernel idle"] = time.perf_counter() - t0
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")    # room for the figure

    try:
        t0 = time.perf_counter()
        page.evaluate(RUN_ALL)
        # The cell holding the slider; its status and canvas, not another widget's.
        cell = page.locator(".jp-Cell", has=page.locator(row.slider)).first
        status = cell.locator(row.status).first
        canvas = cell.locator(row.canvas)

        def shown():
            return (status.is_visible() and row.status_value(status.text_content()) is not None
                    and canvas.is_visible() and canvas.evaluate(PAINTED))

        if not _poll(shown, row.timeout_s, 0.1):
            problems = []
            if not status.count():
                problems.append(f"no status {row.status!r} in a cell with the slider {row.slider!r}")
            elif row.status_value(status.text_content() or "") is None:
                problems.append(f"status {status.text_content()!r} does not match {row.status_re!r}")
            if not canvas.count():
                problems.append(f"no canvas {row.canvas!r} in that cell")
            elif not canvas.evaluate(PAINTED):
                size = canvas.evaluate("c => `${c.width}x${c.height}`")
                problems.append(f"canvas {row.canvas!r} is {size} and not painted")
            errors = "\n".join(page.evaluate(ERRORS)) or "(none)"
            pytest.fail(f"{row.name}, {row.timeout_s:.0f} s after running all cells: " + "; ".join(problems)
                        + f"\nnotebook stderr/tracebacks:\n{errors}{_console(console)}")
        _wait(page, ALL_RUN, row.timeout_s, f"{row.name}: the kernel did not go idle after running all "
              "cells (still busy: a cell that does not finish, or an endless redraw loop)", console=console)
        before_px = _settled(canvas)
        t["run all->drawn+settled"] = time.perf_counter() - t0
        before_text = status.text_content()
        before = row.status_value(before_text)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        canvas.screenshot(path=str(SCREENSHOTS / f"{row.stem}-before.png"))

        slider = cell.locator(row.slider).first
        slider.scroll_into_view_if_needed()
        readout = slider.locator(".widget-readout")
        readout_before = readout.inner_text()
        assert before == row.formatted(float(readout_before)), (
            f"{row.name}: before the key presses the status says {before_text!r}, the slider {readout_before!r}")
        slider.locator(".noUi-handle").first.focus()
        t0 = time.perf_counter()
        for _ in range(row.presses):
            page.keyboard.press(row.key)
        readout_after = readout.inner_text()
        assert readout_after != readout_before, (
            f"{row.name}: {row.presses} x {row.key} did not move the slider (readout {readout_before!r})")
        expected = row.formatted(float(readout_after))      # what the slider now holds, as the status writes it
        assert expected != before, (
            f"{row.name}: the slider moved ({readout_before} -> {readout_after}) but that formats as "
            f"{expected!r}, the same as before: press more keys")

        got = _poll(lambda: row.status_value(status.text_content()) == expected, 15)
        assert got, (f"{row.name}: the status did not report the slider's value {expected!r} (readout "
                     f"{readout_after!r}) within 15 s; before: {before_text!r}, now: {status.text_content()!r}"
                     f"{_console(console)}")
        t["keys->status"] = time.perf_counter() - t0
        _wait(page, "([c, b]) => c.toDataURL() !== b", 15, f"{row.name}: the canvas pixels did not change after "
              f"{row.presses} x {row.key} (status: {status.text_content()!r})",
              arg=[canvas.element_handle(), before_px], console=console)
        t["keys->pixels changed"] = time.perf_counter() - t0
        _wait(page, KERNEL_IDLE, 15, f"{row.name}: the kernel did not go idle after the key presses (still "
              "busy: an endless redraw loop?)", console=console)
        canvas.screenshot(path=str(SCREENSHOTS / f"{row.stem}-after.png"))

        if row.kernel_value:
            value = page.evaluate(KERNEL_EVAL, row.kernel_value)
            assert row.formatted(float(value)) == expected, (
                f"{row.name}: kernel says {row.kernel_value} = {value}, the status and readout say {expected}")
        # still the final value once everything is idle (no late update from an earlier key press)
        assert row.status_value(status.text_content()) == expected, status.text_content()
    finally:
        page.evaluate(SHUTDOWN)
        TIMINGS.append((row.stem, t))
