"""What a timeline costs: the reference model with and without three dated changes, alternated in one process.

The three changes (days 100, 200, 300) set values equal to the ones in force, so both runs give identical
results and any difference in time is the timeline's own cost: on its change days (a plan switch: the class
rates and a full score pass), and on the other days (nothing, by design).

    python benchmarks/bench_timeline.py                     # 1M persons, 4 alternated pairs
    python benchmarks/bench_timeline.py --persons 100000 --pairs 6 --json out.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))  # this checkout's code

from socialcredit.engine.sim import Sim  # noqa: E402
from socialcredit.rulebook import load_rulebook, scenario_path  # noqa: E402

CHANGE_DAYS = (100, 200, 300)
TIMELINE = """timeline:
  - {day: 100, set: {detection.channels.camera.coverage: {east: 0.8, centre: 0.5, west: 0.2}}, assumed: unchanged value}
  - {day: 200, set: {services.flight.demand: 0.5}, assumed: unchanged value}
  - {day: 300, set: {tiers.B.min: 900}, assumed: unchanged value}
"""


def timed_run(rb) -> tuple[float, float]:
    """(seconds of all days, seconds of the change days) of one run, stepped day by day."""
    sim = Sim(rb)
    sim.setup()
    total = changes = 0.0
    while sim.state.day < sim.plan.days:
        day = sim.state.day
        t = time.perf_counter()
        sim.step()
        dt = time.perf_counter() - t
        total += dt
        changes += dt if day in CHANGE_DAYS else 0.0
    return total, changes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--pairs", type=int, default=4)
    ap.add_argument("--json")
    args = ap.parse_args()
    text = Path(str(scenario_path("reference"))).read_text(encoding="utf-8") + TIMELINE
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "reference-timeline.yaml"
        path.write_text(text, encoding="utf-8")
        size = [f"population.persons={args.persons}"]
        runs = {"plain": load_rulebook("reference", size).rulebook, "timeline": load_rulebook(path, size).rulebook}
    Sim(load_rulebook("reference", ["population.persons=2000", "simulation.days=5"]).rulebook).run()  # compile
    out: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    for _ in range(args.pairs):
        for name, rb in runs.items():
            out[name].append(timed_run(rb))
    summary = {}
    for name, rows in out.items():
        summary[name] = {
            "total_s": [round(t, 3) for t, _ in rows],
            "change_days_s": [round(c, 3) for _, c in rows],
            "other_days_median_s": round(statistics.median(t - c for t, c in rows), 3),
        }
        print(f"{name:9s} all days {[round(t, 2) for t, _ in rows]}  days {CHANGE_DAYS}: "
              f"{[round(c, 3) for _, c in rows]}  other days (median) {summary[name]['other_days_median_s']} s")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps({"persons": args.persons, "pairs": args.pairs, "runs": summary}, indent=1))


if __name__ == "__main__":
    main()
