"""A new user's first run: from an empty Numba cache to the end of the first simulated day.

Each measurement is a fresh process with a fresh, empty ``NUMBA_CACHE_DIR``: it imports the package, builds
``reference`` at 2,000 persons, sets up and steps one day, and prints its wall and CPU seconds. The background
processes a first run starts (engine/compile_alongside.py, engine/compile_ahead.py) are on, as for a user; the
next measurement waits for them to end. To compare two checkouts, alternate them::

    python benchmarks/bench_first_run.py --runs 4 --src /tmp/old/src src

(ABBA order: old, new, new, old, ...). Benchmark on an idle machine (``uptime`` first).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ONE = """
import sys, time
t0 = time.perf_counter(); c0 = time.process_time()
import socialcredit as sc
from socialcredit.engine.sim import Sim
sim = Sim(sc.load("reference", persons=2000, days=5))
sim.setup()
sim.step()
print(f"{time.perf_counter() - t0:.3f} {time.process_time() - c0:.3f}")
"""


def locks() -> list[Path]:
    """The background processes' lock files (the same paths whichever checkout started them)."""
    from socialcredit.engine import compile_ahead, compile_alongside

    return [compile_ahead.lock_path(), compile_alongside.lock_path()]


def first_run(src: str) -> tuple[float, float]:
    """Wall and CPU seconds of one first run of the package in ``src``, then wait for its background processes."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=src)
        env.pop("SOCIALCREDIT_COMPILE_AHEAD", None)
        done = subprocess.run([sys.executable, "-c", ONE], env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(done.stderr[-3000:])
        wall, cpu = (float(x) for x in done.stdout.split()[-2:])
        t = time.perf_counter()
        while any(lock.exists() for lock in locks()) and time.perf_counter() - t < 300:
            time.sleep(0.5)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3, help="measurements per source folder (default 3)")
    ap.add_argument("--src", nargs="+", default=[str(Path(__file__).resolve().parent.parent / "src")],
                    help="the package's source folders to compare (default: this checkout's)")  # fmt: skip
    args = ap.parse_args()
    walls: dict[str, list[float]] = {s: [] for s in args.src}
    for i in range(args.runs):
        order = args.src if i % 2 == 0 else list(reversed(args.src))
        for src in order:
            wall, cpu = first_run(src)
            walls[src].append(wall)
            print(f"{src}: {wall:.2f} s wall, {cpu:.2f} s CPU", flush=True)
    for src, w in walls.items():
        print(f"{src}: median {statistics.median(w):.2f} s of {len(w)} ({' '.join(f'{x:.2f}' for x in w)})")


if __name__ == "__main__":
    main()
