"""A dashboard server for the browser tests: started once on a free port of 127.0.0.1, stopped at the end."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator

import pytest

from socialcredit.dashboard import server


@pytest.fixture(scope="session")
def dashboard() -> Iterator[tuple[str, int]]:
    """(the page's address, the server's process id)."""
    port = server.free_port()
    proc = server.start(port, browser=False, quiet=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the dashboard's server did not start (status {proc.poll()})")
        time.sleep(0.2)
    yield url, proc.pid
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except Exception:  # noqa: BLE001 - a server that does not stop is killed
        proc.kill()


@pytest.fixture()
def browser_page(dashboard):
    """A fresh Chromium page (its own session on the server) that refuses every request not to 127.0.0.1.

    Yields (page, refused, console_errors): the addresses refused and the console's error messages.
    """
    from urllib.parse import urlparse

    from playwright.sync_api import sync_playwright

    from tests.dashboard.page import ARGS, CHROMIUM

    refused: list[str] = []
    errors: list[str] = []

    def route(r) -> None:
        url = r.request.url
        if url.startswith(("data:", "blob:")) or urlparse(url).hostname in ("127.0.0.1",):
            r.continue_()
        else:
            refused.append(url)
            r.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1400, "height": 1100}, accept_downloads=True)
        context.set_default_timeout(90_000)  # generous: the suite runs two test files at once on two cores
        context.route("**/*", route)
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        yield page, refused, errors
        browser.close()
