"""Drive the dashboard in Chromium: the few moves the browser tests make (Playwright, Debian's chromium)."""

from __future__ import annotations

import shutil

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
# the flags a closed machine needs: no background connections to Google's hosts, no sandbox as root
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync", "--disable-dev-shm-usage"]  # fmt: skip
READY = "Ready (kernels warm"
TIMEOUT = 240_000  # ms: the first page warms the kernels (from Numba's cache, or compiling them on a cold machine)


def sidebar(page):
    return page.get_by_test_id("stSidebar")


def slider(page, label: str):
    """The slider with this label, leaving out copies a rerun has marked stale (Streamlit's data-stale)."""
    return sidebar(page).locator(f'[data-testid="stElementContainer"]:not([data-stale="true"]) input[type=range][aria-label="{label}"]')


def value(page, label: str) -> str:
    """A slider's value, once only one slider has the label (a rerun can draw the sidebar again while an old copy
    lingers a moment; reading then would find two)."""
    s = slider(page, label)
    for _ in range(100):
        expect(s).to_have_count(1, timeout=TIMEOUT)
        try:
            return s.input_value(timeout=2000)
        except Exception:  # noqa: BLE001 - a second copy appeared between the two calls
            page.wait_for_timeout(100)
    return s.input_value()


def press(page, label: str, *keys: str) -> str:
    """Focus a slider, press keys (Home, End, ArrowRight...), return its new value. Under load a rerun can draw the
    sidebar again while the keys are pressed (for a moment two sliders have the label): then press them all again,
    which is safe because the keys start from a fixed end (Home, End)."""
    s = slider(page, label)
    for _ in range(50):  # after a change of scenario, once the old page is gone (its sliders linger a moment)
        expect(s).to_have_count(1, timeout=TIMEOUT)
        try:
            s.focus(timeout=2000)
            for key in keys:
                s.press(key, timeout=5000)
            return value(page, label)
        except Exception:  # noqa: BLE001 - the sidebar was drawn again between two calls
            page.wait_for_timeout(200)
    s.focus()
    for key in keys:
        s.press(key)
    return value(page, label)


def set_slider(page, label: str, expected: str, *keys: str) -> str:
    """Press keys that put a slider at ``expected`` from a fixed start (Home, End ...), again if a rerun lost some.

    Under load a rerun started by the previous control can draw the slider again while keys are pressed.
    Returns the value the slider settled at."""
    for _ in range(10):
        if press(page, label, *keys) == expected:
            page.wait_for_timeout(300)
            if value(page, label) == expected:
                break
        page.wait_for_timeout(500)
    return value(page, label)


def open_section(page, name: str) -> None:
    """Open a sidebar section and wait until it is open; click again if a rerun swallowed the click (under load)."""
    title = sidebar(page).get_by_text(name, exact=True)
    details = sidebar(page).locator("details", has=page.get_by_text(name, exact=True))
    for _ in range(30):
        if details.evaluate("d => d.open"):
            return
        title.click()
        try:
            page.wait_for_function("d => d.open", arg=details.element_handle(), timeout=3000)
            return
        except PlaywrightTimeout:
            continue
    assert details.evaluate("d => d.open"), f"the section {name!r} did not open"


def choose(page, label: str, option: str, where=None) -> None:
    """Pick an option of a select box: type it, take the first match, check it was taken."""
    box = (where or sidebar(page)).get_by_role("combobox", name=label)
    box.click()
    box.fill(option)
    page.get_by_role("option", name=option, exact=True).click()
    assert box.input_value() == option


def small_run(page) -> None:
    """3,000 persons for 90 days: quick, and large enough for the effects the tests look for."""
    assert set_slider(page, "persons (synthetic residents)", "3000", "Home", "ArrowRight", "ArrowRight") == "3000"
    assert set_slider(page, "days", "90", "Home", *["ArrowRight"] * 12) == "90"


def run(page, number: int) -> None:
    """Press Run and wait until run ``number`` of the session is on the page and the page is idle."""
    page.get_by_role("button", name="Run", exact=True).click()
    idle(page, f"Run {number}: ran in ")


def idle(page, text: str) -> None:
    """Wait for ``text`` on the page, then for Streamlit to finish drawing it (its running indicator gone)."""
    page.get_by_text(text).first.wait_for(timeout=TIMEOUT)
    page.get_by_test_id("stStatusWidget").wait_for(state="detached", timeout=TIMEOUT)


def open_tab(page, name: str, text: str) -> None:
    """Open a panel's tab (only the open tab is drawn: the page reruns) and wait until ``text`` of it is drawn."""
    page.get_by_role("tab", name=name, exact=True).click()
    idle(page, text)


def hover_tooltip(page, chart) -> str:
    """Move over a chart until Vega shows its tooltip; return the tooltip's text."""
    tip = page.locator("#vg-tooltip-element.visible")
    for k in range(20):
        box = chart.bounding_box()
        page.mouse.move(box["x"] + box["width"] * (0.3 + 0.02 * k), box["y"] + box["height"] * 0.3, steps=5)
        try:
            tip.wait_for(timeout=500)
            break
        except Exception:  # noqa: BLE001 - not drawn yet, or between points: move again
            continue
    return tip.inner_text()


def key_table(page) -> dict[str, tuple[float, float]]:
    """The key measures on the page: measure -> (baseline, changed)."""
    box = page.get_by_test_id("stExpander").filter(has_text="Every key measure")
    if box.locator("details").get_attribute("open") is None:
        box.get_by_text("Every key measure").click()
    rows = box.get_by_test_id("stTable").locator("tbody tr")
    rows.first.wait_for()
    cells = rows.evaluate_all("rows => rows.map(r => [...r.querySelectorAll('th, td')].map(c => c.innerText.trim()))")
    return {c[0]: (_number(c[1]), _number(c[2])) for c in cells}


def _number(text: str) -> float:
    return float("nan") if text in ("–", "") else float(text.replace(",", ""))
