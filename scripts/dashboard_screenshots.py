"""Make the screenshots of docs/dashboard.md: the dashboard driven in Chromium as a reader would use it.

    python scripts/dashboard_screenshots.py            # writes docs/figures/dashboard-*.png

It starts the dashboard's server on a free port of 127.0.0.1, opens the page
in Debian's chromium (Playwright), and on ``smalltown`` at 20,000 persons for
a year: raises the misidentification of the minority to 50 times the
reference, runs, and photographs the page, the groups panel, the blacklist,
the people and one person's story. Then it types a broken rulebook's path to
show its located error.
"""

from __future__ import annotations

import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from socialcredit.dashboard import server  # noqa: E402
from socialcredit.rulebook import scenario_path  # noqa: E402
from tests.dashboard import page as P  # noqa: E402  (the browser tests' moves: one copy)

OUT = ROOT / "docs" / "figures"


def shot(locator, name: str) -> None:
    time.sleep(0.8)  # let Vega finish its transitions
    locator.screenshot(path=str(OUT / f"dashboard-{name}.png"))
    print(f"wrote docs/figures/dashboard-{name}.png")


def main() -> None:
    from playwright.sync_api import sync_playwright

    port = server.free_port()
    url = f"http://127.0.0.1:{port}"
    proc = server.start(port, browser=False, quiet=True)
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=P.CHROMIUM, args=P.ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1500, "height": 1250}, device_scale_factor=1)
            page.goto(url)
            page.get_by_text(P.READY).wait_for(timeout=P.TIMEOUT)
            P.press(page, "persons (synthetic residents)", "Home", *["ArrowRight"] * 19)  # 20,000
            P.open_section(page, "Cameras and data")
            P.press(page, "misidentification of minority (x the reference)", *["ArrowRight"] * 400)  # 10 -> 50
            P.run(page, 1)
            shot(page, "overview")
            main_area = page.get_by_test_id("stMain")
            for tab, text in (("Groups", "Rates by group"), ("Blacklist", "Persons on the blacklist")):
                P.open_tab(page, tab, text)
                shot(page.get_by_test_id("stTabs"), tab.lower())
            P.choose(page, "group", "minority", where=main_area)
            P.idle(page, "where group == 'minority'")
            page.get_by_text("Meet the people").scroll_into_view_if_needed()
            shot(page, "people")
            with tempfile.TemporaryDirectory() as tmp:
                bad = Path(tmp) / "my-city.yaml"
                bad.write_text(scenario_path("smalltown").read_text().replace("coverage: 0.9", "coverage: 9", 1))
                P.sidebar(page).get_by_text("a rulebook file", exact=True).click()
                P.sidebar(page).locator("input[type=file]").set_input_files(str(bad))
                page.get_by_test_id("stAlert").filter(has_text="my-city.yaml").wait_for(timeout=P.TIMEOUT)
                shot(page, "error")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
