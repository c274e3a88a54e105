"""`make screenshots`: one PNG per explorer, docs/screenshots/<notebook>_<explorer>.png.

Each lab notebook with an explorer (teacher.NOTEBOOKS) is opened in JupyterLab at 1280x720 with
the file browser open (JupyterLab's default), as committed (its regression baseline's small
parameters injected, for speed), Run All; then each explorer is scrolled to the top of the
notebook panel and its box is photographed as far as it is visible: what a teacher on a laptop
sees of it at first sight (an explorer that does not fit shows cut).

    .venv/bin/python tests/browser/screenshots.py [--out DIR] [NOTEBOOK ...]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for _p in (HERE, ROOT / "tools"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import teacher  # noqa: E402
from harness import Lab, browser_missing, launch_chromium  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    ap.add_argument("notebooks", nargs="*", default=list(teacher.NOTEBOOKS))
    args = ap.parse_args(argv)
    why = browser_missing()
    if why:
        print(f"screenshots: no browser: {why}", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright
    w, h = teacher.VIEWPORTS[0]
    with tempfile.TemporaryDirectory(prefix="labkit-screenshots-") as tmp, Lab(Path(tmp)) as lab, \
            sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_context(viewport={"width": w, "height": h}).new_page()
            page.set_default_timeout(30_000)
            for nb in args.notebooks:
                try:
                    explorers, _ = teacher.survey(page, lab, nb, viewports=[(w, h)], controls=False, gc=False,
                                                  shots=args.out)
                finally:
                    page.evaluate(teacher.SHUTDOWN)
                for e in explorers:
                    print(f"{args.out / (Path(nb).stem + '_' + e.name + '.png')}: {e.row()}")
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
