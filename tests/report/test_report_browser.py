"""The report in a real headless browser: it loads offline, without errors, and every figure is decoded and shown.

Needs Debian's ``chromium`` and the ``playwright`` Python package (not
Playwright's own browser download). CI installs both (``.ci/run``); locally:
``apt-get install chromium`` and ``pip install playwright``. The test fails,
rather than skips, when either is missing.
"""

from __future__ import annotations

import shutil

import pytest

import socialcredit as sc
from socialcredit.report.figures import FIGURES, figures_for
from tests.report import shared_run

INSTALL = "install them with: apt-get install -y chromium && pip install playwright (never 'playwright install')"


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail(f"no chromium on PATH; {INSTALL}")
    return path


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """Open the shared run's report.html in headless chromium, with every network request refused."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(f"the playwright package is missing; {INSTALL}")
    executable = chromium_path()
    report = shared_run(tmp_path_factory) / "report.html"
    problems: list[str] = []
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"], headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
            page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))

            def route(r):
                requests.append(r.request.url)
                if r.request.url.startswith(("file:", "data:")):
                    r.continue_()
                else:
                    r.abort()

            page.route("**/*", route)
            page.goto(report.as_uri(), wait_until="load")
            page.wait_for_function("Array.from(document.images).every(img => img.complete)")
            images = page.evaluate(
                """() => Array.from(document.querySelectorAll('section img')).map(img => {
                    const box = img.getBoundingClientRect();
                    return {section: img.closest('section').id, natural: img.naturalWidth, width: box.width, height: box.height};
                })"""
            )
            sections = page.evaluate("() => Array.from(document.querySelectorAll('section')).map(s => s.id)")
            title = page.title()
        finally:
            browser.close()
    return {"problems": problems, "requests": requests, "images": images, "sections": sections, "title": title, "url": report.as_uri(),
            "run_dir": report.parent}


def test_page_loads_without_errors(loaded):
    assert loaded["problems"] == []
    assert "The full system of the essays" in loaded["title"]


def test_no_request_leaves_the_file(loaded):
    outside = [u for u in loaded["requests"] if not u.startswith(("file:", "data:"))]
    assert outside == []
    assert loaded["url"] in loaded["requests"]  # the route saw the page itself: it was active


def test_every_figure_is_decoded_and_shown(loaded):
    expected = [f"fig-{spec.name}" for spec in figures_for(sc.read_run(loaded["run_dir"]))]
    assert loaded["sections"] == expected and len(expected) > len(FIGURES)
    assert [img["section"] for img in loaded["images"]] == loaded["sections"]
    for img in loaded["images"]:
        assert img["natural"] > 0, img
        assert img["width"] > 100 and img["height"] > 100, img
