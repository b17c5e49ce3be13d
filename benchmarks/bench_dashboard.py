"""Benchmark the dashboard in Chromium: how long a user waits after moving a lever and pressing Run.

    python benchmarks/bench_dashboard.py                        # smalltown, 50,000 persons, 365 days, 5 changes
    python benchmarks/bench_dashboard.py --changes 10 --json benchmarks/dashboard-mine.json
    python benchmarks/bench_dashboard.py --threads 2          # simulations on two threads

It starts ``socialcredit dashboard``'s server on a free port of 127.0.0.1,
opens the page in Debian's chromium (Playwright), waits for the kernels to be
warm, runs the default scenario once (the baseline and the changed run), then
``--changes`` times moves a lever (camera coverage in one district) and
presses Run, timing each from the click until the updated figures are on the
page and Streamlit is idle. The target (issue 16) is 3 s at 50,000 persons
for 365 days. Run it on an idle machine (``uptime`` first).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from socialcredit.dashboard import server  # noqa: E402
from tests.dashboard import page as P  # noqa: E402  (the browser tests' moves: one copy)

LEVER = "camera: coverage in villages"


def wait_up(url: str, proc, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                return
        except OSError:
            time.sleep(0.05)
        if proc.poll() is not None:
            break
    raise SystemExit("the dashboard's server did not start")


def rss_mb(pid: int) -> float:
    p = psutil.Process(pid)
    return sum(x.memory_info().rss for x in [p, *p.children(recursive=True)]) / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--changes", type=int, default=5, help="lever changes to time (default 5)")
    ap.add_argument("--threads", type=int, default=1, help="threads per simulation (socialcredit dashboard --threads; default 1)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    port = server.free_port()
    url = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter()
    proc = server.start(port, browser=False, quiet=True, threads=args.threads)
    try:
        wait_up(url, proc)
        up = time.perf_counter() - t0
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=P.CHROMIUM, args=P.ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.goto(url)
            page.get_by_text(P.READY).wait_for(timeout=P.TIMEOUT)
            ready = time.perf_counter() - t0
            persons = P.slider(page, "persons (synthetic residents)").input_value()
            days = P.slider(page, "days").input_value()
            t = time.perf_counter()
            P.run(page, 1)
            first = time.perf_counter() - t
            P.open_section(page, "Cameras and data")
            times: list[float] = []
            ran: list[float] = []
            for i in range(args.changes):
                P.press(page, LEVER, "ArrowRight")
                t = time.perf_counter()
                P.run(page, i + 2)
                page.locator(".vega-embed:visible canvas, .vega-embed:visible svg").first.wait_for()
                times.append(time.perf_counter() - t)
                ran.append(float(page.get_by_text(f"Run {i + 2}: ran in ").inner_text().split()[-2]))
                print(f"change {i + 1}: {times[-1]:.2f} s, of which the simulation {ran[-1]:.1f} s", flush=True)
            memory = rss_mb(proc.pid)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    out = {
        "what": "dashboard: a lever moved and Run pressed until the updated figures are shown (Chromium, Playwright)",
        "scenario": "smalltown",
        "threads": args.threads,
        "persons": int(persons),
        "days": int(days),
        "server_up_s": round(up, 2),
        "page_ready_s": round(ready, 2),
        "first_run_s": round(first, 2),
        "change_s": [round(x, 2) for x in times],
        "change_median_s": round(statistics.median(times), 2),
        "simulation_median_s": statistics.median(ran),
        "target_s": 3.0,
        "server_rss_mb": round(memory),
        "cpus": os.cpu_count(),
        "load_before": os.getloadavg()[0],
        "python": platform.python_version(),
    }
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
