"""What the mechanisms of households, work and credit cost: full-system with and without them, alternated in one process.

"without" is full-system as it was before they landed: no children (the private school a service of the
adults again), no partnering, no stress, no emotion monitoring, no company sanctions, no lending, no
commercial score (visa priority by grade again). "with" is the scenario as shipped. Both run the same
persons and days; the ratio of their medians is the cost of the seven mechanisms together. Time is
the simulated days only (after a warm-up run that compiles every kernel).

    python benchmarks/bench_households.py                       # 1M persons, 365 days, 2 alternated pairs
    python benchmarks/bench_households.py --persons 100000 --pairs 4 --json out.json
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

from ruamel.yaml import YAML  # noqa: E402

from socialcredit.engine.sim import Sim  # noqa: E402
from socialcredit.rulebook import load_rulebook, scenario_path  # noqa: E402


def without_them(data: dict) -> dict:
    """full-system without the seven mechanisms (as before issue 18)."""
    data["population"].pop("children", None)
    for key in ("partnering", "stress"):
        data["responses"].pop(key, None)
    for key in ("company_sanctions", "emotion_monitoring"):
        data["institutions"].pop(key, None)
    data.pop("lending", None)
    data.pop("commercial", None)
    for s in data["services"]:
        if s["name"] == "private_school":
            s.pop("applies_to", None)
            s.update(demand=0.05, income_elasticity=1, denied_when="blacklisted")
        if s["name"] == "visa_priority":
            s["granted_when"] = "tier >= 'AA'"
    return data


def timed(rb) -> float:
    sim = Sim(rb)
    sim.setup()
    t = time.perf_counter()
    while sim.state.day < sim.plan.days:
        sim.step()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--pairs", type=int, default=2)
    ap.add_argument("--json")
    args = ap.parse_args()
    yaml = YAML(typ="safe")
    data = yaml.load(Path(str(scenario_path("full-system"))).read_text(encoding="utf-8"))
    size = [f"population.persons={args.persons}", f"simulation.days={args.days}",
            f"population.companies.count={max(10, args.persons // 100)}"]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "full-system-without.yaml"
        with path.open("w", encoding="utf-8") as fh:
            yaml.dump(without_them(data), fh)
        runs = {"without": load_rulebook(path, size).rulebook, "with": load_rulebook("full-system", size).rulebook}
        for rb in runs.values():  # compile every kernel both use
            Sim(load_rulebook(path if rb is runs["without"] else "full-system", ["population.persons=3000", "simulation.days=10"]).rulebook).run()
    out: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.pairs):
        for name, rb in runs.items():
            out[name].append(timed(rb))
            print(f"{name:8s} {out[name][-1]:.2f} s", flush=True)
    med = {name: statistics.median(v) for name, v in out.items()}
    ratio = [w / o for w, o in zip(out["with"], out["without"])]
    print(f"medians: without {med['without']:.2f} s, with {med['with']:.2f} s; with / without, pair by pair: "
          f"{[round(r, 2) for r in ratio]}")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps({"persons": args.persons, "days": args.days, "pairs": args.pairs,
                                               "seconds": out, "medians": med, "ratios": ratio}, indent=1) + "\n")  # fmt: skip


if __name__ == "__main__":
    main()
