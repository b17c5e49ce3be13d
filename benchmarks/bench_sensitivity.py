"""Benchmark a sensitivity analysis: wall time of a Morris analysis of a scenario's assumed values.

    python benchmarks/bench_sensitivity.py                      # rongcheng's assumed values, 20,000 persons, 365 days
    python benchmarks/bench_sensitivity.py --scenario full-system --persons 10000 --samples 5
    python benchmarks/bench_sensitivity.py --json benchmarks/sensitivity-mine.json

It reports the number of factors (the assumed numbers varied), the runs
(``samples x (factors + 2)`` with the dummy, times the seeds), the wall time
from the command's start to the stored indices (drawing the sample, checking
every point's rulebook, the local cluster's start, the runs, the analysis),
and runs per second. Run it on an idle machine (``uptime`` first): the runs
share the machine's cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

# Measure this checkout's code (not an older installed copy): its src/ comes first.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="rongcheng")
    ap.add_argument("--persons", type=int, default=20_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--samples", type=int, default=10, help="Morris trajectories")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--json", type=Path, default=None, help="write the figures to this JSON file")
    args = ap.parse_args()

    from socialcredit.experiments.sensitivity import run_sensitivity

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = run_sensitivity(args.scenario, Path(tmp) / "sensitivity", method="morris", samples=args.samples,
                                 seeds=args.seeds, persons=args.persons, days=args.days, workers=args.workers,
                                 progress=False)  # fmt: skip
        wall = time.perf_counter() - t0
    factors = len(result.factors)
    runs = args.samples * (factors + 2) * args.seeds
    figures = {
        "scenario": args.scenario, "persons": args.persons, "days": args.days, "method": "morris",
        "samples": args.samples, "seeds": args.seeds, "factors": factors, "runs": runs,
        "wall_seconds": round(wall, 1), "runs_per_second": round(runs / wall, 2),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_before": os.getloadavg()[0]},
    }  # fmt: skip
    print(f"{args.scenario}: {factors} assumed factors, {runs} runs of {args.persons:,} persons x {args.days} days "
          f"in {wall:.0f} s ({runs / wall:.2f} runs/s)")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
