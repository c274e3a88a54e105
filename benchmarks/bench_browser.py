"""Key press to pixels: every explorer's latency in JupyterLab, in headless chromium.

    .venv/bin/python benchmarks/run_all.py --only browser

What a user waits for: from one key press on a slider (or one click on the stability map) to
the first changed pixels of the ipympl canvas -- the browser's key event, the comm message,
the kernel's event handler (a re-run, the views updated, blitted or drawn), the PNG sent
back, and the canvas painted.  Measured in the page, not through Playwright's round trips:
a capturing ``keydown``/``mousedown`` listener stamps the press (``event.timeStamp``, the
``performance.now()`` clock), and a wrapper around the canvas context's ``drawImage`` (how
ipympl paints every frame it receives) stamps each paint and compares the pixels with the
previous frame (a 100 ms pixel poll catches any other painting path).  Per press:
"first" is the first changed frame, "final" the last one before 1 s without a paint.  After
each press the kernel goes idle and the canvas settles before the next one.

Widgets (small generated notebooks, one code cell each, built with the lab notebooks'
arguments): StepSizeExplorer (lr), StabilityMapExplorer (a click on a new cell of the map),
SignUpdateExplorer (lr, step scrubber), LandscapeExplorer (lr), SeparableExplorer (lr, i.e.
gamma), ThreeBodyExplorer (mu, time).  Reference, same run: a plain 2x2 ipympl figure of
the StepSizeExplorer's size (four 2,000-point lines), updated by ``set_ydata`` +
``draw_idle`` (a full draw) and by blitting (``restore_region``, ``draw_artist``, ``blit``).

Every control is pressed ``1 + PRESSES`` times (the first, a warm-up, not counted; it is in
the raw data), in interleaved shuffled rounds over all widgets (each in its own tab), one
direction until the slider's end.  Rows: median of the first changed frame, quartiles,
range and the final frame in the note; target <= 100 ms (issue #19; not judged for the reference).
Skips, with the reason, without playwright or chromium (tests/browser/harness.py).

Beside each row's key -> pixel median stands the kernel's side of the same presses: the wall
and CPU time the kernel spent handling comm messages per press (the slider's update, the
explorer's handler, ipympl's draw request and PNG: ``comm_msg`` handlers timed by a wrapper
installed in the kernel), so that the browser's and the wire's share is the difference. The
CPU is named in the first row's note and in the raw data (``cpu``).
"""
from __future__ import annotations

import os
import platform
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _timing import Row, check

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for _p in (ROOT / "tests" / "browser", ROOT / "tools"):        # the browser harness, and run_notebooks
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

SECTION = "browser"
TARGET_MS = "<= 100"
PRESSES = 8
QUIET_MS = 1000          # a press is over after this long without a paint
PRESS_TIMEOUT_MS = 20_000

REFERENCE = '''%matplotlib widget
import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np

x = np.linspace(0.0, 4 * np.pi, 2000)


def reference(blit):
    """A 2x2 figure of four lines and a slider that shifts them: a full draw, or a blit."""
    with plt.ioff():
        fig, axes = plt.subplots(2, 2, figsize=(10, 7.5))
    fig.stale_callback = None                      # only the draws asked for below
    lines = [ax.plot(x, np.sin(x + k), animated=blit)[0] for k, ax in enumerate(axes.flat)]
    for ax in axes.flat:
        ax.set_ylim(-1.2, 1.2)
    cache = {}
    if blit:
        def on_draw(event):
            cache["background"] = fig.canvas.copy_from_bbox(fig.bbox)
            for line in lines:
                fig.draw_artist(line)
        fig.canvas.mpl_connect("draw_event", on_draw)
    slider = W.FloatSlider(value=0.0, min=0.0, max=6.0, step=0.1, description="blit" if blit else "full draw")

    def on_change(change):
        for k, line in enumerate(lines):
            line.set_ydata(np.sin(x + k + change["new"]))
        if blit and "background" in cache:
            fig.canvas.restore_region(cache["background"])
            for line in lines:
                fig.draw_artist(line)
            fig.canvas.blit(fig.bbox)
        else:
            fig.canvas.draw_idle()

    slider.observe(on_change, names="value")
    return W.VBox([slider, fig.canvas])


reference(blit=False)'''


@dataclass(frozen=True)
class Control:
    row: str                     # the row's name
    slider: str | None           # the slider's description; None: click cells of the map
    key: str = "ArrowRight"      # the first direction (reversed at the slider's end)
    reference: bool = False      # a reference row: no target


@dataclass(frozen=True)
class Case:
    stem: str
    cells: tuple[str, ...]
    controls: tuple[Control, ...]

    @property
    def name(self) -> str:
        return f"bench_{self.stem}.ipynb"


def _explorer(build: str) -> tuple[str, ...]:
    return (f"%matplotlib widget\nimport numpy as np\nimport labkit as lk\n{build}\nex.widget",)


CASES = (
    Case("reference", (REFERENCE, "reference(blit=True)"), (
        Control("reference: plain ipympl 2x2 figure, set_ydata + draw_idle (full draw)", "full draw",
                reference=True),
        Control("reference: plain ipympl 2x2 figure, blit (restore_region, draw_artist, blit)", "blit",
                reference=True))),
    Case("step_size", _explorer(
        'ex = lk.widgets.StepSizeExplorer(lk.problems.quadratic(eigs=(1, 10), angle=0.5),\n'
        '                                 rules=("sgd", "adam", "rmsprop", "lion"), steps=2000)'), (
        Control("StepSizeExplorer: lr (2,000 sgd steps re-run, 4 views)", "lr", "ArrowLeft"),)),
    Case("stability_map", _explorer(
        'problem = lk.problems.quadratic(eigs=(1, 10), angle=0.5)\n'
        'smap = lk.analysis.stability_map(problem, "sgd", 300, lr=np.geomspace(1e-3, 1.0, 100),\n'
        '                                 momentum=np.linspace(0.0, 0.99, 100))\n'
        'ex = lk.widgets.StabilityMapExplorer(smap, 0.3, 0.9)'), (
        Control("StabilityMapExplorer: click on the map (cell re-run, path and loss blitted)", None),)),
    Case("sign_updates", _explorer(
        'ex = lk.widgets.SignUpdateExplorer(rules=("adamw", "sign_sgd", "signum", "lion", "lion_k:tanh",\n'
        '                                          "lion_k:huber"), steps=3000, lr=0.02)'), (
        Control("SignUpdateExplorer: lr (6 rules x 3,000 steps re-run, inspector replayed)", "lr"),
        Control("SignUpdateExplorer: step scrubber (no re-run)", "step"))),
    Case("landscape", _explorer(
        'from labkit.widgets import LandscapeExplorer\n'
        'ex = LandscapeExplorer(rules=("sgd", "adam", "rmsprop"), steps=500, lr=0.01)'), (
        Control("LandscapeExplorer: lr (3 rules x 500 steps re-run)", "lr"),)),
    Case("separable", _explorer(
        'from labkit.widgets import SeparableExplorer\n'
        'ex = SeparableExplorer(lk.problems.separable_logistic(n=40, d=2, margin=0.1, seed=0), steps=200)'), (
        Control("SeparableExplorer: lr (gamma; LR+GD re-run, 200 steps)", "lr"),)),
    Case("three_body", _explorer(
        'from labkit.widgets import ThreeBodyExplorer\n'
        'ex = ThreeBodyExplorer("figure_eight", "hermite", mu=1e-2, n_out=400)'), (
        Control("ThreeBodyExplorer: mu (Hermite re-run, figure-eight)", "mu"),
        Control("ThreeBodyExplorer: time slider (no re-run)", "t", "ArrowLeft"))),
)

# Installed in each notebook's kernel: every comm_msg handler call timed (wall, thread CPU; s).
KERNEL_TIMER = """
import inspect as _lk_inspect, time as _lk_time
_lk_kernel = get_ipython().kernel
_lk_comm_times = []
_lk_comm_msg = _lk_kernel.shell_handlers["comm_msg"]
def _lk_timed(*args, **kwargs):
    t0, c0 = _lk_time.perf_counter(), _lk_time.thread_time()
    def done():
        _lk_comm_times.append((_lk_time.perf_counter() - t0, _lk_time.thread_time() - c0))
    r = _lk_comm_msg(*args, **kwargs)
    if _lk_inspect.isawaitable(r):
        async def waited():
            try:
                return await r
            finally:
                done()
        return waited()
    done()
    return r
_lk_kernel.shell_handlers["comm_msg"] = _lk_timed
"""
KERNEL_TIMES = "(1e3 * sum(w for w, c in _lk_comm_times), 1e3 * sum(c for w, c in _lk_comm_times), len(_lk_comm_times))"
EXECUTE = """async (code) => {
  const k = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  return (await k.requestExecute({code, silent: true, store_history: false}).done).content.status;
}"""


def cpu_name() -> str:
    """The CPU model (from /proc/cpuinfo) and how many cores this process may use."""
    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{name}, {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()} cores"


# Arms the measurement of one press on canvas c: returns at once; window.__labkitPress is a
# promise of {t0, first, final, paints, changes, fallback} (ms, performance.now() clock).
ARM = """([c, quietMs, timeoutMs]) => {
  const ctx = c.getContext('2d');
  const snap = () => ({w: c.width, h: c.height,
                       px: new Uint32Array(ctx.getImageData(0, 0, c.width || 1, c.height || 1).data.buffer)});
  const same = (a, b) => {
    if (a.w !== b.w || a.h !== b.h || a.px.length !== b.px.length) return false;
    const x = a.px, y = b.px;
    for (let i = 0; i < x.length; i++) { if (x[i] !== y[i]) return false; }
    return true;
  };
  const st = {t0: null, first: null, final: null, lastPaint: null, paints: 0, changes: 0, fallback: 0,
              prev: snap()};
  const look = (t, how) => {
    const now = snap();
    if (!same(now, st.prev)) {
      st.changes++; if (how === 'poll') st.fallback++;
      if (st.first === null) st.first = t;
      st.final = t; st.lastPaint = t; st.prev = now;
    }
  };
  const onInput = e => {
    if (st.t0 !== null) return;
    const now = performance.now();
    st.t0 = (e.timeStamp > 0 && e.timeStamp <= now) ? e.timeStamp : now;
  };
  document.addEventListener('keydown', onInput, true);
  document.addEventListener('mousedown', onInput, true);
  const drawImage = ctx.drawImage;
  ctx.drawImage = function (...args) {
    const r = drawImage.apply(this, args);
    if (st.t0 !== null) { const t = performance.now(); st.paints++; st.lastPaint = t; look(t, 'paint'); }
    return r;
  };
  window.__labkitPress = new Promise(resolve => {
    const start = performance.now();
    const tick = () => {
      const now = performance.now();
      if (st.t0 !== null) look(now, 'poll');
      const quiet = st.first !== null && now - st.lastPaint >= quietMs;
      if (quiet || now - start > timeoutMs) {
        delete ctx.drawImage;                           // the prototype's again
        document.removeEventListener('keydown', onInput, true);
        document.removeEventListener('mousedown', onInput, true);
        resolve({t0: st.t0, first: st.first, final: st.final, paints: st.paints, changes: st.changes,
                 fallback: st.fallback});
      } else {
        setTimeout(tick, 100);
      }
    };
    setTimeout(tick, 100);
  });
  return true;
}"""
HANDLE_RANGE = """h => [h.getAttribute('aria-valuenow'), h.getAttribute('aria-valuemin'),
                        h.getAttribute('aria-valuemax')].map(Number)"""
# Map cells to click, as fractions of the map axes (x right, y up): a new cell every press.
CLICKS = [(0.2 + 0.07 * k, 0.8 - 0.08 * k) for k in range(PRESSES + 1)]


class _Tab:
    """One open notebook: its page, cell and canvas per control."""

    def __init__(self, browser, lab, case: Case, timeout_s: float = 120):
        from harness import ALL_RUN, KERNEL_IDLE, PAINTED, RUN_ALL, VIEWPORT, _poll
        from widget_notebooks import IPYMPL_CANVAS, slider_labelled
        self.case = case
        self.context = browser.new_context(viewport=VIEWPORT)
        self.page = page = self.context.new_page()
        page.set_default_timeout(30_000)
        page.goto(lab.notebook_url(case.name))
        page.wait_for_function(KERNEL_IDLE, timeout=timeout_s * 1000)
        page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
        t0 = time.perf_counter()
        page.evaluate(RUN_ALL)
        page.wait_for_function(ALL_RUN, timeout=timeout_s * 1000)
        self.run_s = time.perf_counter() - t0
        if page.evaluate(EXECUTE, KERNEL_TIMER) != "ok":
            raise RuntimeError(f"{case.name}: could not install the kernel-side timer")
        self.cells, self.canvases = {}, {}
        for c in case.controls:
            if c.slider is None:
                cell = page.locator(".jp-Cell", has=page.locator(".jupyter-matplotlib-canvas-div")).first
            else:
                cell = page.locator(".jp-Cell", has=page.locator(slider_labelled(c.slider))).first
            canvas = cell.locator(IPYMPL_CANVAS)
            if not _poll(lambda: canvas.count() and canvas.evaluate(PAINTED), 30, 0.2):
                raise RuntimeError(f"{case.name}: no painted canvas next to {c.slider or 'the map'}")
            self.cells[c.row], self.canvases[c.row] = cell, canvas
        self.direction = {c.row: c.key for c in case.controls}
        self.clicks = 0

    def settle(self, control: Control):
        from harness import KERNEL_IDLE, _settled
        self.page.wait_for_function(KERNEL_IDLE, timeout=30_000)
        _settled(self.canvases[control.row], quiet=0.4)

    def press(self, control: Control) -> dict:
        """One key press (or click) on ``control``; the page's timings of it, in ms."""
        page, canvas = self.page, self.canvases[control.row]
        target = None
        if control.slider is None:
            box = self._map_box(canvas)
            fx, fy = CLICKS[self.clicks % len(CLICKS)]
            self.clicks += 1
            target = (box[0] + fx * box[2], box[1] + (1 - fy) * box[3])
            page.mouse.move(*target)
        else:
            from widget_notebooks import slider_labelled
            slider = self.cells[control.row].locator(slider_labelled(control.slider)).first
            handle = slider.locator(".noUi-handle").first
            handle.scroll_into_view_if_needed()
            now, lo, hi = handle.evaluate(HANDLE_RANGE)
            key = self.direction[control.row]
            if (key == "ArrowRight" and now >= hi) or (key == "ArrowLeft" and now <= lo):
                key = self.direction[control.row] = "ArrowLeft" if key == "ArrowRight" else "ArrowRight"
            readout = slider.locator(".widget-readout")
            before = readout.inner_text()
            handle.focus()
        from harness import KERNEL_EVAL
        page.evaluate(KERNEL_EVAL, "_lk_comm_times.clear()")
        page.evaluate(ARM, [canvas.element_handle(), QUIET_MS, PRESS_TIMEOUT_MS])
        if target is None:
            page.keyboard.press(key)
        else:
            page.mouse.click(*target)
        out = page.evaluate("() => window.__labkitPress")
        if target is None:
            out["readout"] = [before, readout.inner_text()]
            if out["readout"][0] == out["readout"][1]:
                raise RuntimeError(f"{control.slider}: {key} did not move the slider ({before})")
        if out["t0"] is None or out["first"] is None:
            raise RuntimeError(f"{control.row}: no {'key press' if target is None else 'click'} seen, or no "
                               f"pixels changed within {PRESS_TIMEOUT_MS / 1e3:.0f} s ({out})")
        out["first_ms"], out["final_ms"] = out["first"] - out["t0"], out["final"] - out["t0"]
        self.settle(control)
        wall, cpu, n = (float(v) for v in page.evaluate(KERNEL_EVAL, KERNEL_TIMES).strip("()").split(","))
        out["kernel_ms"], out["kernel_cpu_ms"], out["kernel_msgs"] = wall, cpu, int(n)
        return out

    def _map_box(self, canvas):
        """The map axes on the page: (left, top, width, height), CSS px."""
        from harness import KERNEL_EVAL
        canvas.scroll_into_view_if_needed()
        b = canvas.bounding_box()
        x0, y0, w, h = (float(v) for v in self.page.evaluate(
            KERNEL_EVAL, "tuple(float(v) for v in ex.axes['map'].get_position().bounds)").strip("()").split(","))
        return b["x"] + x0 * b["width"], b["y"] + (1 - y0 - h) * b["height"], w * b["width"], h * b["height"]

    def close(self):
        from harness import SHUTDOWN
        try:
            self.page.evaluate(SHUTDOWN)
        finally:
            self.context.close()


def _skipped(why: str):
    print(f"[bench browser] skipped: {why}", file=sys.stderr)
    return [Row(SECTION, "key press -> pixels (skipped)", float("nan"), "ms", note=f"skipped: {why}")], \
        {"skipped": why}


def measure(rounds: int = 7, presses: int = PRESSES, seed: int = 0):
    """Rows and raw data; ``rounds`` (the other sections' knob) is not used: ``presses`` per control."""
    from harness import Lab, browser_missing, launch_chromium
    from widget_notebooks import WidgetNotebook

    why = browser_missing()
    if why:
        return _skipped(why)
    from playwright.sync_api import sync_playwright

    samples = {c.row: [] for case in CASES for c in case.controls}
    warmup, errors, run_s = {}, {}, {}
    rows_nb = [WidgetNotebook(case.name, cells=case.cells) for case in CASES]
    with tempfile.TemporaryDirectory(prefix="labkit-bench-browser-") as tmp, \
            Lab(Path(tmp), rows=rows_nb, copy_notebooks=False) as lab, sync_playwright() as p:
        browser = launch_chromium(p)
        tabs = []
        try:
            for case in CASES:
                try:
                    tab = _Tab(browser, lab, case)
                    run_s[case.stem] = tab.run_s
                    for c in case.controls:
                        tab.settle(c)
                    tabs.append(tab)
                except Exception as e:                  # noqa: BLE001 - one widget's failure is its row's note
                    for c in case.controls:
                        errors[c.row] = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
            work = [(tab, c) for tab in tabs for c in tab.case.controls]
            rng = random.Random(seed)
            for r in range(1 + presses):
                rng.shuffle(work)
                for tab, c in work:
                    if c.row in errors:
                        continue
                    try:
                        out = tab.press(c)
                    except Exception as e:              # noqa: BLE001
                        errors[c.row] = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
                        continue
                    if r == 0:
                        warmup[c.row] = out
                    else:
                        samples[c.row].append(out)
                print(f"[bench browser] round {r}/{presses} done", file=sys.stderr, flush=True)
        finally:
            for tab in tabs:
                try:
                    tab.close()
                except Exception:                       # noqa: BLE001 - the server's stop shuts kernels down
                    pass
            browser.close()
    return _rows(samples, warmup, errors), {"samples": samples, "warmup": warmup, "errors": errors,
                                            "run_all_s": run_s, "presses": presses, "quiet_ms": QUIET_MS,
                                            "cpu": cpu_name(), "side_by_side": side_by_side(samples)}


def side_by_side(samples) -> list[dict]:
    """Per control: median key -> first pixel in the page, and the kernel's median time per press."""
    out = []
    for row, ss in samples.items():
        if not ss:
            continue
        med = lambda k: statistics.median(s[k] for s in ss if s.get(k) is not None)    # noqa: E731
        out.append({"control": row, "key_to_pixel_ms": med("first_ms"), "kernel_ms": med("kernel_ms"),
                    "kernel_cpu_ms": med("kernel_cpu_ms"), "kernel_msgs": med("kernel_msgs"),
                    "presses": len(ss)})
    return out


def format_side_by_side(rows, cpu: str) -> str:
    lines = [f"CPU: {cpu}", f"{'control':<80} {'key->px':>8} {'kernel':>8} {'k.cpu':>7} {'msgs':>5}"]
    for r in rows:
        lines.append(f"{r['control'][:80]:<80} {r['key_to_pixel_ms']:>6.0f}ms {r['kernel_ms']:>6.0f}ms "
                     f"{r['kernel_cpu_ms']:>5.0f}ms {r['kernel_msgs']:>5.0f}")
    return "\n".join(lines)


def _rows(samples, warmup, errors):
    ref = [c.row for case in CASES for c in case.controls if c.reference and c.slider == "full draw"][0]
    ref_first = [s["first_ms"] for s in samples[ref]]
    base = statistics.median(ref_first) if ref_first else None
    rows = []
    for case in CASES:
        for c in case.controls:
            first = [s["first_ms"] for s in samples[c.row]]
            if not first:
                rows.append(Row(SECTION, c.row, float("nan"), "ms", note=errors.get(c.row, "no samples")))
                continue
            final = [s["final_ms"] for s in samples[c.row]]
            value = statistics.median(first)
            q1, q3 = (statistics.quantiles(first, n=4, method="inclusive")[::2] if len(first) > 1
                      else (first[0], first[0]))
            kernel = [s["kernel_ms"] for s in samples[c.row] if s.get("kernel_ms") is not None]
            note = (f"kernel {statistics.median(kernel):.0f} ms/press; " if kernel else "") + (
                    f"range {min(first):.0f}-{max(first):.0f}; final frame {statistics.median(final):.0f} "
                    f"({min(final):.0f}-{max(final):.0f}); {len(first)} presses")
            if c.row in warmup:
                note += f"; warm-up {warmup[c.row]['first_ms']:.0f}"
            if c.row in errors:
                note += f"; then {errors[c.row]}"
            target = "" if c.reference else TARGET_MS
            r = Row(SECTION, c.row, value, "ms", q1, q3, "wall", target,
                    check(value, target) if target else None, note)
            r.ratio = value / base if base else None
            rows.append(r)
    if rows:
        rows[0].note = f"CPU {cpu_name()}; " + (rows[0].note or "")
    return rows


if __name__ == "__main__":
    rows_, raw = measure()
    for r in rows_:
        print(f"{r.name}: {r.value:.0f} ms [{r.q1}, {r.q3}] {r.note}")
    if "side_by_side" in raw:
        print(format_side_by_side(raw["side_by_side"], raw["cpu"]))
