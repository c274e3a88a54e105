"""Fixtures of the real-browser widget tests (the machinery is in harness.py, which the
benchmark benchmarks/bench_browser.py shares): JupyterLab on a copy of the notebooks, and
Debian's chromium driven by Playwright (the PyPI package; never `playwright install`).

- ``lab``: one :class:`harness.Lab` per session (a temporary copy of notebooks/ plus the
  generated notebooks of the table; its own Jupyter dirs). Teardown shuts every kernel down
  through the REST API, then the server.
- ``browser``: one headless chromium per session; ``page``: a fresh context per test.

Skips (with the reason, never a silent pass) when playwright is not installed or there is no
chromium: `make test` installs both (chromium via apt-get, when root). LABKIT_CHROMIUM
points at another chromium binary.
"""
from __future__ import annotations

import time

import pytest

from harness import SCREENSHOTS, VIEWPORT, Lab, browser_missing, launch_chromium

TIMINGS: list[tuple[str, dict]] = []        # (test id, {phase: seconds}), for the summary below
TEACHER: list = []                          # teacher.Explorer results of test_teacher.py, tabled below


def pytest_terminal_summary(terminalreporter):
    if TEACHER:
        from teacher import RESULTS, table
        terminalreporter.section("explorers as a teacher uses them (build/browser_teacher.json)")
        for line in table(TEACHER).splitlines():
            terminalreporter.write_line(line)
        terminalreporter.write_line(f"written to {RESULTS}")
    if not TIMINGS:
        return
    terminalreporter.section("browser timings (s)")
    for name, t in TIMINGS:
        terminalreporter.write_line(f"{name}: " + ", ".join(f"{k} {v:.2f}" for k, v in t.items()))


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    server = Lab(tmp_path_factory.mktemp("lab"))
    server.start()
    TIMINGS.append(("lab server start", {"up": server.startup_s}))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser():
    why = browser_missing()
    if why:
        pytest.skip(why)
    from playwright.sync_api import sync_playwright
    t0 = time.perf_counter()
    with sync_playwright() as p:
        b = launch_chromium(p)
        TIMINGS.append(("browser launch", {"launch": time.perf_counter() - t0}))
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport=VIEWPORT)
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        try:
            pg.screenshot(path=str(SCREENSHOTS / f"{request.node.callspec.id}-failure.png"), full_page=True)
        except Exception:                        # noqa: BLE001 - the failure itself is reported
            pass
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)
