"""The labs as a teacher uses them: helpers (no pytest) for tests/browser/test_teacher.py and
tests/browser/screenshots.py.

A teacher opens a lab notebook in JupyterLab as it is committed (the file browser, JupyterLab's
default left sidebar, open), presses Run All, and then uses every explorer on a laptop screen
(1280x720) or a desktop one (1440x900). :func:`survey` does the same in headless chromium and
measures, for every explorer:

- ``layout``: how many CSS px of each figure canvas and of the widget box lie right of / below
  what is visible (the box itself, the output area and the notebook panel clip it; the explorer
  scrolled to the top of the notebook panel), whether the box scrolls sideways
  (``scrollWidth > clientWidth``), whether the status line is cut (``scrollWidth >
  clientWidth``), and the explorer's height against the notebook panel's visible height;
- ``controls``: for every slider (key presses on its handle: one step away, one step back),
  dropdown (ArrowDown, ArrowUp) and toggle button (a click on another option, then back),
  and for an explorer with a clickable map (one without keyboard controls, or named ``*Map*``: a
  click on the map's panel), whether any canvas pixel changed, and how long the first changed
  pixel took after the key press (``performance.now()`` at keydown in the page, polled with
  requestAnimationFrame);
- ``gc``: after ``import gc; gc.collect()`` in the kernel, one slider press and one click again.

Explorers are found in the DOM, not through Python: an output whose top widget is an ipywidgets
box (``.widget-box``) holding an ipympl canvas (``.jupyter-matplotlib-canvas-div``). Its name
is the ``...Explorer(`` its cell's source calls (else ``cell<n>``).
"""
from __future__ import annotations

import json
import re
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness import ALL_RUN, ERRORS, KERNEL_EVAL, KERNEL_IDLE, RUN_ALL

VIEWPORTS = ((1280, 720), (1440, 900))
NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"


def explorer_cells(path: Path) -> list[str]:
    """The code cells of a notebook that build an explorer and show its ``.widget``."""
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    src = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    return [s for s in src if re.search(r"\w*Explorer\(", s) and re.search(r"\.widget\s*$", s.strip())]


# Every notebook with an explorer, by glob (today 01, 02, 03, 04, 06; 01 has two).
NOTEBOOKS = tuple(p.name for p in sorted(NOTEBOOK_DIR.glob("*.ipynb")) if explorer_cells(p))
LATENCY_PRESSES = 5           # key presses timed per explorer and viewport (at least)
REACT_TIMEOUT_MS = 5000       # a control "changes pixels" within this
LATENCY_LIMIT_MS = 2000       # median, asserted loosely; the <= 100 ms target is benchmarks/bench_browser.py's
RESULTS = Path(__file__).resolve().parents[2] / "build" / "browser_teacher.json"

# --- JavaScript ------------------------------------------------------------------------------
# Every explorer: (index, cell index, cell source). window.__labkitExplorers keeps the boxes.
FIND = r"""() => {
  const nb = window.jupyterapp.shell.currentWidget.content;
  const found = [];
  nb.widgets.forEach((cell, ci) => {
    if (cell.model.type !== 'code') return;
    for (const out of cell.node.querySelectorAll('.jp-OutputArea-output')) {
      const top = out.firstElementChild;
      if (top && top.classList.contains('widget-box') && top.querySelector('.jupyter-matplotlib-canvas-div'))
        found.push({box: top, cell: ci, source: cell.model.sharedModel.getSource()});
    }
  });
  window.__labkitExplorers = found.map(f => f.box);
  return found.map((f, i) => ({index: i, cell: f.cell, source: f.source}));
}"""
# JS helpers shared by the snippets below (prepended).
LIB = r"""
const box = i => window.__labkitExplorers[i];
const canvases = i => Array.from(box(i).querySelectorAll('.jupyter-matplotlib-canvas-div > canvas:first-child'));
const notInFigure = e => !e.closest('.jupyter-matplotlib');
// the visible part of element e: its rect cut by every ancestor that clips (overflow not visible)
const visible = e => {
  let l = 0, t = 0, r = window.innerWidth, b = window.innerHeight;
  // body and html pass their overflow to the viewport (the window's size above)
  for (let a = e.parentElement; a && a !== document.body && a !== document.documentElement; a = a.parentElement) {
    const s = getComputedStyle(a);
    if (s.overflowX === 'visible' && s.overflowY === 'visible') continue;
    const q = a.getBoundingClientRect();
    const L = q.left + a.clientLeft, T = q.top + a.clientTop;
    if (s.overflowX !== 'visible') { l = Math.max(l, L); r = Math.min(r, L + a.clientWidth); }
    if (s.overflowY !== 'visible') { t = Math.max(t, T); b = Math.min(b, T + a.clientHeight); }
  }
  return {l, t, r, b};
};
const hidden = e => { const q = e.getBoundingClientRect(), v = visible(e);
  return {right: Math.max(0, Math.round(q.right - v.r)), bottom: Math.max(0, Math.round(q.bottom - v.b)),
          width: Math.round(q.width), height: Math.round(q.height)}; };
const scroller = () => window.jupyterapp.shell.currentWidget.content.node.closest('.jp-WindowedPanel-outer')
  || window.jupyterapp.shell.currentWidget.content.node.querySelector('.jp-WindowedPanel-outer')
  || window.jupyterapp.shell.currentWidget.content.node;
const snap = c => ({w: c.width, h: c.height,
  px: new Uint32Array(c.getContext('2d').getImageData(0, 0, c.width || 1, c.height || 1).data.buffer)});
// changed pixels of canvas c against snapshot a, outside the rectangle ex (canvas px) if given
const changed = (a, c, ex) => {
  const b = snap(c);
  if (a.w !== b.w || a.h !== b.h) return true;
  const x = a.px, y = b.px, w = a.w;
  for (let k = 0; k < x.length; k++) {
    if (x[k] !== y[k]) {
      if (!ex) return true;
      const px = k % w, py = (k - px) / w;
      if (px < ex[0] || px > ex[2] || py < ex[1] || py > ex[3]) return true;
    }
  }
  return false;
};
"""
# Layout of explorer i, scrolled to the top of the notebook panel.
LAYOUT = "(i) => {" + LIB + r"""
  const b = box(i), sc = scroller();
  sc.scrollTo({top: sc.scrollTop + b.getBoundingClientRect().top - sc.getBoundingClientRect().top - sc.clientTop,
               behavior: 'instant'});
  const status = b.querySelector('.labkit-status') ||
    Array.from(b.querySelectorAll('.widget-label, .widget-html')).filter(notInFigure).pop() || null;
  const left = document.querySelector('.jp-SideBar.jp-mod-left');
  const leftPanel = document.querySelector('#jp-left-stack');
  return {
    box: hidden(b),
    canvases: canvases(i).map(hidden),
    box_overflow_x: b.scrollWidth - b.clientWidth,
    status_text: status ? status.textContent : null,
    status_cut: status ? Math.max(0, status.scrollWidth - status.clientWidth) : null,
    height: Math.round(b.getBoundingClientRect().height),
    available: sc.clientHeight,
    notebook_width: sc.clientWidth,
    sidebar_open: !window.jupyterapp.shell.leftCollapsed,
    sidebar_px: leftPanel ? Math.round(leftPanel.getBoundingClientRect().width) : 0,
  };
}"""
# Keyboard/click controls of explorer i, outside the figures' toolbars.
CONTROLS = "(i) => {" + LIB + r"""
  const b = box(i), out = [];
  const label = w => { const l = w.querySelector('.widget-label'); return l ? l.textContent.trim() : ''; };
  b.querySelectorAll('.widget-slider').forEach((w, k) => { if (notInFigure(w))
    out.push({kind: 'slider', name: label(w) || `slider${k}`, nth: k}); });
  b.querySelectorAll('.widget-dropdown').forEach((w, k) => { if (notInFigure(w))
    out.push({kind: 'dropdown', name: label(w) || `dropdown${k}`, nth: k}); });
  b.querySelectorAll('.widget-toggle-buttons').forEach((w, k) => { if (notInFigure(w))
    out.push({kind: 'toggles', name: label(w) || `toggles${k}`, nth: k}); });
  b.querySelectorAll('.widget-toggle-button, .widget-checkbox').forEach((w, k) => { if (notInFigure(w))
    out.push({kind: 'toggle', name: w.textContent.trim() || `toggle${k}`, nth: k}); });
  return out;
}"""
# Arms the timing of one action on explorer i: window.__labkitPress resolves to
# {t0, first} (ms, performance.now()) once a canvas changed (outside `exclude` on canvas 0), or
# after timeoutMs.
ARM = "([i, timeoutMs, exclude]) => {" + LIB + r"""
  const cs = canvases(i), before = cs.map(snap), st = {t0: null, first: null};
  const onInput = e => { if (st.t0 === null) st.t0 = performance.now(); };
  document.addEventListener('keydown', onInput, true);
  document.addEventListener('mousedown', onInput, true);
  document.addEventListener('change', onInput, true);
  window.__labkitPress = new Promise(resolve => {
    const start = performance.now();
    const tick = () => {
      const now = performance.now();
      // pixels that change count even if no input event was seen (t0 null: no time, still a change)
      if (cs.some((c, k) => changed(before[k], c, k === 0 ? exclude : null))) st.first = now;
      if (st.first !== null || now - start > timeoutMs) {
        document.removeEventListener('keydown', onInput, true);
        document.removeEventListener('mousedown', onInput, true);
        document.removeEventListener('change', onInput, true);
        resolve({t0: st.t0, first: st.first});
      } else requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  return cs.length;
}"""
# A fingerprint of every canvas of explorer i (for "settled").
FINGERPRINT = "(i) => {" + LIB + r"""
  return canvases(i).map(c => { const d = snap(c).px; let h = d.length;
    for (let k = 0; k < d.length; k += 7) h = (h * 31 + d[k]) | 0; return h; }).join(',');
}"""
EXECUTE = """async (code) => {
  const k = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const reply = await k.requestExecute({code, silent: false, store_history: false}).done;
  return reply.content.status;
}"""
# Code cells that have not run: prompt "[ ]:" (an error stops Run All there).
NOT_RUN = """() => Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputPrompt'))
  .filter(p => p.textContent.includes('[ ]')).length"""
SHOW_SIDEBAR = """() => { const s = window.jupyterapp.shell;
  if (s.leftCollapsed) window.jupyterapp.commands.execute('filebrowser:activate');
  return !s.leftCollapsed; }"""
SHUTDOWN = """async () => { const w = window.jupyterapp.shell.currentWidget;
  if (w && w.sessionContext) await w.sessionContext.shutdown(); }"""


# --- results ---------------------------------------------------------------------------------
@dataclass
class Press:
    control: str                 # "slider lr ArrowRight", "click map", ...
    changed: bool
    ms: float | None             # key press -> first changed pixel


@dataclass
class Explorer:
    notebook: str
    name: str
    cell: int
    viewport: str                # "1280x720"
    layout: dict = field(default_factory=dict)
    presses: list = field(default_factory=list)     # [Press] before gc
    gc_presses: list = field(default_factory=list)  # [Press] after gc.collect()
    errors: list = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{Path(self.notebook).stem}:{self.name}@{self.viewport}"

    # the checks (each a list of problems; empty: passed)
    def hidden_problems(self) -> list[str]:
        L, out = self.layout, []
        if not L:
            return ["not measured"]
        for k, c in enumerate(L["canvases"]):
            if c["right"] or c["bottom"]:
                out.append(f"canvas {k} ({c['width']}x{c['height']} px): {c['right']} px hidden right, "
                           f"{c['bottom']} px below")
        if L["box"]["right"]:
            out.append(f"widget box: {L['box']['right']} px hidden right")
        if L["box_overflow_x"] > 0:
            out.append(f"widget box scrolls sideways ({L['box_overflow_x']} px)")
        if L["status_cut"]:
            out.append(f"status line cut by {L['status_cut']} px: {L['status_text']!r}")
        return out

    def height_problems(self) -> list[str]:
        L = self.layout
        if not L:
            return ["not measured"]
        return [] if L["height"] <= L["available"] else [
            f"{L['height']} px tall, the notebook panel shows {L['available']} px"]

    def react_problems(self) -> list[str]:
        if not self.presses:
            return ["no control found (no slider, dropdown, toggle or map)"]
        return [f"{p.control}: no pixel changed within {REACT_TIMEOUT_MS} ms" for p in self.presses
                if not p.changed]

    def gc_problems(self) -> list[str]:
        if not self.gc_presses:
            return ["not checked"]
        return [f"after gc.collect(), {p.control}: no pixel changed within {REACT_TIMEOUT_MS} ms"
                for p in self.gc_presses if not p.changed]

    def latencies(self) -> list[float]:
        """ms to the first changed pixel of every key press that changed pixels (of every click,
        for an explorer without keys)."""
        keys = [p for p in self.presses if not p.control.startswith("click")] or self.presses
        return [p.ms for p in keys if p.changed and p.ms is not None]

    def latency_problems(self) -> list[str]:
        """Loose: the median < 2 s (a first use may compile: its max is recorded, not judged)."""
        ms = self.latencies()
        if not ms:
            return ["no timed key press changed pixels"]
        med = statistics.median(ms)
        return [] if med < LATENCY_LIMIT_MS else [
            f"key -> pixel median {med:.0f} ms >= {LATENCY_LIMIT_MS} (max {max(ms):.0f})"]

    def row(self) -> dict:
        L, ms = self.layout, self.latencies()
        return {
            "explorer": f"{Path(self.notebook).stem[:2]} {self.name}", "viewport": self.viewport,
            "hidden_right": max([c["right"] for c in L.get("canvases", [])] + [L["box"]["right"]]) if L else None,
            "hidden_bottom": max([c["bottom"] for c in L.get("canvases", [])] + [L["box"]["bottom"]]) if L else None,
            "height": L.get("height"), "available": L.get("available"),
            "reacts": not self.react_problems(), "gc_ok": not self.gc_problems(),
            "median_ms": statistics.median(ms) if ms else None, "max_ms": max(ms) if ms else None,
        }


def explorer_name(source: str, cell: int) -> str:
    names = re.findall(r"\b(\w*Explorer)\(", source)
    return names[0] if names else f"cell{cell}"


def table(explorers) -> str:
    """The results as a fixed-width text table."""
    head = ("explorer", "viewport", "hidden px R/B", "height/avail", "reacts", "gc ok", "key->px med/max ms")
    lines = []
    for e in explorers:
        r = e.row()
        lines.append((r["explorer"], r["viewport"], f"{r['hidden_right']}/{r['hidden_bottom']}",
                      f"{r['height']}/{r['available']}", "yes" if r["reacts"] else "NO",
                      "yes" if r["gc_ok"] else "NO",
                      "-" if r["median_ms"] is None else f"{r['median_ms']:.0f}/{r['max_ms']:.0f}"))
    widths = [max(len(str(x)) for x in col) for col in zip(head, *lines)]
    fmt = lambda row: "  ".join(str(x).ljust(w) for x, w in zip(row, widths))   # noqa: E731
    return "\n".join([fmt(head), fmt(["-" * w for w in widths])] + [fmt(r) for r in lines])


def write_results(explorers, path: Path = RESULTS, extra: dict | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"explorers": [{**asdict(e), "key": e.key, "row": e.row(),
                           "problems": {"hidden": e.hidden_problems(), "height": e.height_problems(),
                                        "reacts": e.react_problems(), "gc": e.gc_problems(),
                                        "latency": e.latency_problems()}} for e in explorers]}
    data.update(extra or {})
    path.write_text(json.dumps(data, indent=1, default=str))


# --- driving the page ------------------------------------------------------------------------
def open_and_run(page, lab, name: str, timeout_s: float = 300.0) -> dict:
    """Open notebook ``name`` (fresh workspace: the file browser open), Run All; timings."""
    t0 = time.perf_counter()
    page.goto(lab.notebook_url(name))
    page.wait_for_function(KERNEL_IDLE, timeout=timeout_s * 1000)
    page.evaluate(SHOW_SIDEBAR)
    t1 = time.perf_counter()
    page.evaluate(RUN_ALL)
    page.wait_for_function(ALL_RUN, timeout=timeout_s * 1000, polling=200)
    return {"open_s": t1 - t0, "run_all_s": time.perf_counter() - t1, "not_run": page.evaluate(NOT_RUN),
            "labkit": page.evaluate(KERNEL_EVAL, "__import__('labkit').__file__")}


def errors(page) -> str:
    return "\n".join(page.evaluate(ERRORS))


def settle(page, i: int, quiet: float = 0.3, timeout: float = 10.0) -> None:
    """Kernel idle and explorer i's canvases unchanged for ``quiet`` s."""
    page.wait_for_function(KERNEL_IDLE, timeout=30_000, polling=50)
    last, since = page.evaluate(FINGERPRINT, i), time.monotonic()
    deadline = since + timeout
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = page.evaluate(FINGERPRINT, i)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return


def _timed(page, i: int, act, exclude=None) -> tuple[bool, float | None]:
    """Run act() (a key press or click) on explorer i: (pixels changed, ms to the first change)."""
    page.evaluate(ARM, [i, REACT_TIMEOUT_MS, exclude])
    act()
    out = page.evaluate("() => window.__labkitPress")
    settle(page, i)
    if out["first"] is None:
        return False, None
    return True, (out["first"] - out["t0"]) if out["t0"] is not None else None


def _box(page, i: int):
    return page.evaluate_handle("(i) => window.__labkitExplorers[i]", i).as_element()


def press_control(page, i: int, control: dict, back: bool = True) -> list[Press]:
    """One step of ``control`` and (``back``) one step back; a Press for each."""
    box = _box(page, i)
    kind, nth = control["kind"], control["nth"]
    out = []
    if kind == "slider":
        w = box.query_selector_all(".widget-slider")[nth]
        handle = w.query_selector(".noUi-handle") or w.query_selector("input[type=range]")
        now, lo, hi = (float(handle.get_attribute(a) or "nan") for a in ("aria-valuenow", "aria-valuemin",
                                                                         "aria-valuemax"))
        keys = ["ArrowLeft", "ArrowRight"] if now >= hi else ["ArrowRight", "ArrowLeft"]
        for key in keys[:2 if back else 1]:
            handle.focus()
            ok, ms = _timed(page, i, lambda: page.keyboard.press(key))
            out.append(Press(f"slider {control['name']} {key}", ok, ms))
    elif kind == "dropdown":
        sel = box.query_selector_all(".widget-dropdown")[nth].query_selector("select")
        options = sel.evaluate("s => Array.from(s.options).map(o => o.value)")
        idx = sel.evaluate("s => s.selectedIndex")
        other = idx - 1 if idx >= len(options) - 1 else idx + 1
        for k in [other, idx][:2 if back else 1]:        # select_option: the 'change' event starts the clock
            ok, ms = _timed(page, i, lambda: sel.select_option(options[k]))
            out.append(Press(f"dropdown {control['name']} -> {options[k]}", ok, ms))
    elif kind == "toggles":
        buttons = box.query_selector_all(".widget-toggle-buttons")[nth].query_selector_all("button")
        on = [k for k, b in enumerate(buttons) if "mod-active" in (b.get_attribute("class") or "")]
        k0 = on[0] if on else 0
        k1 = (k0 + 1) % len(buttons)
        for k in [k1, k0][:2 if back else 1]:
            ok, ms = _timed(page, i, lambda: buttons[k].click())
            out.append(Press(f"toggles {control['name']} -> {k}", ok, None if ms is None else ms))
    elif kind == "toggle":
        w = box.query_selector_all(".widget-toggle-button, .widget-checkbox")[nth]
        target = w.query_selector("input") or w
        for _ in range(2 if back else 1):
            ok, ms = _timed(page, i, lambda: target.click())
            out.append(Press(f"toggle {control['name']}", ok, ms))
    return out


def screenshot(page, i: int, path: Path) -> None:
    """What a teacher sees of explorer i, scrolled to the top of the notebook panel: the box
    cut to its visible part (a box that does not fit shows cut)."""
    page.evaluate(LAYOUT, i)                          # scrolls it to the top
    r = page.evaluate("(i) => {" + LIB + """ const b = box(i), q = b.getBoundingClientRect(), v = visible(b);
      const l = Math.max(q.left, v.l), t = Math.max(q.top, v.t);
      return {x: l, y: t, width: Math.min(q.right, v.r) - l, height: Math.min(q.bottom, v.b) - t}; }""", i)
    page.screenshot(path=str(path), clip=r)


def click_map(page, i: int, fx: float = 0.17, fy: float = 0.45) -> Press:
    """Click the map panel of explorer i (at fractions fx, fy of its first canvas, from the top
    left): pixels must change outside the map panel (the canvas's left third). page.mouse, not
    element.click(): ipympl's rubber-band canvas lies on top of the figure."""
    canvas = page.evaluate_handle(
        "(i) => window.__labkitExplorers[i].querySelector('.jupyter-matplotlib-canvas-div > canvas')", i).as_element()
    canvas.scroll_into_view_if_needed()
    b = canvas.bounding_box()
    w, h = canvas.evaluate("c => [c.width, c.height]")
    exclude = [0, 0, int(w * 0.36), h]           # the map's own panel: its marker moves too
    x, y = b["x"] + fx * b["width"], b["y"] + fy * b["height"]
    ok, ms = _timed(page, i, lambda: page.mouse.click(x, y), exclude)
    return Press("click map", ok, ms)


def clickable(name: str, controls: list) -> bool:
    return not controls or "Map" in name


def survey(page, lab, name: str, viewports=VIEWPORTS, controls: bool = True, gc: bool = True,
           shots: Path | None = None, log=print) -> tuple[list[Explorer], dict]:
    """Open and run notebook ``name`` once at viewports[0]; for each viewport (resizing the page),
    measure every explorer; then gc.collect() in the kernel and press again. Element screenshots
    (first viewport) go to ``shots``/<stem>_<explorer>.png."""
    page.set_viewport_size({"width": viewports[0][0], "height": viewports[0][1]})
    timings = open_and_run(page, lab, name)
    found = page.evaluate(FIND)
    names = [explorer_name(f["source"], f["cell"]) for f in found]
    seen = {}
    for k, n in enumerate(names):                     # two of a kind: StepSizeExplorer, StepSizeExplorer_2
        seen[n] = seen.get(n, 0) + 1
        if seen[n] > 1:
            names[k] = f"{n}_{seen[n]}"
    log(f"[teacher] {name}: ran in {timings['run_all_s']:.0f} s; explorers {names}")
    results = []
    for vw, vh in viewports:
        page.set_viewport_size({"width": vw, "height": vh})
        time.sleep(0.5)                               # Lumino re-lays out on the resize event
        page.evaluate(SHOW_SIDEBAR)
        for f, ename in zip(found, names):
            i = f["index"]
            e = Explorer(name, ename, f["cell"], f"{vw}x{vh}")
            results.append(e)
            try:
                settle(page, i)
                e.layout = page.evaluate(LAYOUT, i)
                if shots is not None and (vw, vh) == tuple(viewports[0]):
                    shots.mkdir(parents=True, exist_ok=True)
                    screenshot(page, i, shots / f"{Path(name).stem}_{ename}.png")
                if not controls:
                    continue
                ctrls = page.evaluate(CONTROLS, i)
                for c in ctrls:
                    e.presses += press_control(page, i, c)
                sliders = [c for c in ctrls if c["kind"] in ("slider", "dropdown")]
                while sliders and len(e.latencies()) < LATENCY_PRESSES and len(e.presses) < 4 * LATENCY_PRESSES:
                    e.presses += press_control(page, i, sliders[0])
                if clickable(ename, ctrls):
                    e.presses.append(click_map(page, i))
                    e.presses.append(click_map(page, i, 0.12, 0.6))
            except Exception as exc:                  # noqa: BLE001 - recorded, the test reports it
                e.errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
            log(f"[teacher]   {e.key}: {e.row()}")
    if gc and controls:
        status = page.evaluate(EXECUTE, "import gc; gc.collect()")
        page.wait_for_function(KERNEL_IDLE, timeout=30_000)
        last = [e for e in results if e.viewport == f"{viewports[-1][0]}x{viewports[-1][1]}"]
        for f, e in zip(found, last):
            i = f["index"]
            try:
                ctrls = page.evaluate(CONTROLS, i)
                sliders = [c for c in ctrls if c["kind"] in ("slider", "dropdown")]
                if sliders:
                    e.gc_presses += press_control(page, i, sliders[0], back=False)
                if clickable(e.name, ctrls):
                    e.gc_presses.append(click_map(page, i, 0.25, 0.3))
            except Exception as exc:                  # noqa: BLE001
                e.errors.append(f"after gc: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
            for other in results:                     # gc is the kernel's: one answer for every viewport
                if other is not e and other.name == e.name:
                    other.gc_presses = e.gc_presses
            log(f"[teacher]   {e.key} after gc ({status}): {[asdict(p) for p in e.gc_presses]}")
    timings["explorers"] = names
    return results, timings
