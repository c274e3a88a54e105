"""Real-browser widget tests: each row of widget_notebooks.NOTEBOOKS that test_teacher.py does
not drive opens in JupyterLab
(headless Debian chromium through Playwright), runs all cells, gets its slider moved with the
keyboard, and must (1) report the slider's new value in its status label and (2) redraw the
canvas. Canvas screenshots: build/screenshots/<stem>-{before,after}.png; the widget's whole
output (controls, status and figure, after the key presses): build/screenshots/<stem>-cell.png.

A row without a slider (a notebook whose only widgets are ipympl figures) must run every cell
and paint every figure's canvas; build/screenshots/<stem>-cell.png shows the first figure.

The lab notebooks with explorers (teacher.NOTEBOOKS: 01, 02, 03, 04, 06) are driven by
test_teacher.py, every control of every explorer at two viewports; what stays here is what that
does not check: each explorer built on its own in a generated notebook (the smoke rows), its
status label reporting the value the slider or the click set (readout and kernel agree), and the
figure-only notebooks.
"""
from __future__ import annotations

import time

import pytest

from conftest import TIMINGS
from teacher import NOTEBOOKS as TEACHER_NOTEBOOKS
from harness import (ALL_RUN, ERRORS, KERNEL_EVAL, KERNEL_IDLE, PAINTED, RUN_ALL, SCREENSHOTS, SHUTDOWN, _poll,
                     _settled)
from widget_notebooks import NOTEBOOKS, WidgetNotebook


def _params(rows):
    return [pytest.param(row, id=row.stem, marks=[pytest.mark.skip(reason=why)] if (why := row.missing()) else [])
            for row in rows]


ROWS = _params(row for row in NOTEBOOKS if row.slider is not None and row.name not in TEACHER_NOTEBOOKS)
FIGURE_ROWS = _params(row for row in NOTEBOOKS if row.slider is None)
# Code cells that have not run: JupyterLab's prompt "[ ]:" (a failed cell stops run-all there).
NOT_RUN = """() => Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputPrompt'))
  .filter(p => p.textContent.includes('[ ]')).length"""
# The figure canvas of every ipympl figure (the first canvas of each canvas div).
FIGURE_CANVASES = ".jupyter-matplotlib-canvas-div > canvas:first-child"


def _wait(page, js: str, timeout_s: float, failure: str, arg=None, console=()):
    """page.wait_for_function(js) or pytest.fail(failure + the browser's console errors)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    try:
        page.wait_for_function(js, arg=arg, timeout=timeout_s * 1000)
    except PlaywrightTimeout:
        pytest.fail(f"{failure} (waited {timeout_s:.0f} s){_console(console)}")


def _click(page, canvas, row: WidgetNotebook) -> None:
    """Click ``row.click`` (fractions of the axes ``row.click_axes``, x right, y up) on the canvas.

    page.mouse, not canvas.click(): ipympl's rubber-band canvas lies on top of the figure and
    takes the mouse events, which Playwright's actionability check would call intercepted."""
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    bounds = page.evaluate(KERNEL_EVAL, f"tuple(float(v) for v in {row.click_axes}.get_position().bounds)")
    x0, y0, w, h = (float(v) for v in bounds.strip("()").split(","))
    fx, fy = row.click
    page.mouse.click(box["x"] + (x0 + fx * w) * box["width"], box["y"] + (1 - y0 - fy * h) * box["height"])


def _open(page, lab, row: WidgetNotebook):
    """Open ``row``'s notebook with an idle kernel; (the browser console's log, timings)."""
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"[:500]))
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"[:500]))
    t0 = time.perf_counter()
    page.goto(lab.notebook_url(row.name))
    _wait(page, KERNEL_IDLE, row.timeout_s, f"{row.name}: JupyterLab did not open it with an idle kernel",
          console=console)
    t = {"open->kernel idle": time.perf_counter() - t0}
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")    # room for the figure
    return console, t


def _console(console) -> str:
    errors = [m for m in console if m.startswith(("error", "pageerror"))]
    return ("\nbrowser console errors:\n  " + "\n  ".join(errors[-10:])) if errors else ""


@pytest.mark.parametrize("row", ROWS)
def test_slider_updates_status_and_canvas(row: WidgetNotebook, page, lab):   # page first: skips before starting lab
    console, t = _open(page, lab, row)

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

        if row.click is not None:
            action = f"a click at {row.click} of {row.click_axes}"
            t0 = time.perf_counter()
            _click(page, canvas, row)
            got = _poll(lambda: row.status_value(status.text_content()) not in (None, before), 15)
            assert got, (f"{row.name}: the status did not change within 15 s of {action}: "
                         f"{status.text_content()!r}{_console(console)}")
            expected = row.status_value(status.text_content())
        else:
            action = f"{row.presses} x {row.key}"
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
              f"{action} (status: {status.text_content()!r})",
              arg=[canvas.element_handle(), before_px], console=console)
        t["keys->pixels changed"] = time.perf_counter() - t0
        _wait(page, KERNEL_IDLE, 15, f"{row.name}: the kernel did not go idle after the key presses (still "
              "busy: an endless redraw loop?)", console=console)
        canvas.screenshot(path=str(SCREENSHOTS / f"{row.stem}-after.png"))
        # the widget's own output (sliders, status, figure), for the README's picture
        cell.locator(".jp-OutputArea-output", has=page.locator(row.slider)).first.screenshot(
            path=str(SCREENSHOTS / f"{row.stem}-cell.png"))

        if row.kernel_value:
            value = page.evaluate(KERNEL_EVAL, row.kernel_value)
            assert row.formatted(float(value)) == expected, (
                f"{row.name}: kernel says {row.kernel_value} = {value}, the status and readout say {expected}")
        # still the final value once everything is idle (no late update from an earlier key press)
        assert row.status_value(status.text_content()) == expected, status.text_content()
    finally:
        page.evaluate(SHUTDOWN)
        TIMINGS.append((row.stem, t))


@pytest.mark.parametrize("row", FIGURE_ROWS)
def test_every_figure_is_drawn(row: WidgetNotebook, page, lab):
    console, t = _open(page, lab, row)
    try:
        t0 = time.perf_counter()
        page.evaluate(RUN_ALL)
        _wait(page, ALL_RUN, row.timeout_s, f"{row.name}: the cells did not all run (kernel still busy)",
              console=console)
        not_run = page.evaluate(NOT_RUN)
        assert not not_run, (f"{row.name}: {not_run} code cell(s) did not run (an error stops run-all)\n"
                             "notebook stderr/tracebacks:\n" + ("\n".join(page.evaluate(ERRORS)) or "(none)"))
        canvases = page.locator(FIGURE_CANVASES)

        def all_painted():
            n = canvases.count()
            return n > 0 and all(canvases.nth(i).evaluate(PAINTED) for i in range(n))

        assert _poll(all_painted, 30, 0.2), (
            f"{row.name}: {canvases.count()} ipympl figure(s), not all painted 30 s after the cells ran"
            f"{_console(console)}")
        t["run all->figures painted"] = time.perf_counter() - t0
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        first = canvases.first
        _settled(first)
        page.locator(".jp-OutputArea-output", has=first).first.screenshot(
            path=str(SCREENSHOTS / f"{row.stem}-cell.png"))
    finally:
        page.evaluate(SHUTDOWN)
        TIMINGS.append((row.stem, t))
