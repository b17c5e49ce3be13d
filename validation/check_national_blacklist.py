"""Check the shipped ``national-blacklist`` scenario against every published court-list figure, at full size.

    python validation/check_national_blacklist.py              # the scenario's size (8,000,000) and seed; JSON and plot
    python validation/check_national_blacklist.py --persons 500000 --no-write
    python validation/check_national_blacklist.py --against-fit          # 1,000,000 persons against the calibration's fit
    python validation/check_national_blacklist.py --write-reproduction   # the tests' 200,000-person figures

The scenario's fitted values come from ``socialcredit calibrate`` (see
docs/validation.md and ``benchmarks/bench_calibration.py``), which fits at
400,000 persons. This script does what the calibration does not: it runs the
shipped scenario at its own size, where the small early figures are dozens of
simulated persons instead of a handful, and compares it with every target of
``data/national_blacklist_targets.csv`` and ``data/national_blacklist_flows.csv``
(mapped to measures by their ``measure`` column, as ``calibrate`` reads them).
It writes ``validation/national_blacklist_fit.json`` and
``docs/validation/national_blacklist.png``.

It also keeps, for the tests, the closed forms the engine must agree with:
the expected cumulative list entries given the daily number on the list
(:func:`expected_entries`) and the listed person-years that expected denials
are proportional to (:func:`exposure`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT / "src"))

import socialcredit as sc
from socialcredit.experiments.targets import (
    Target,
    measure_curve,
    place,
    read_targets,
    relative_errors,
    series_of,
    simulated,
)

SCENARIO = ROOT / "src" / "socialcredit" / "scenarios" / "national-blacklist.yaml"
TARGETS = (ROOT / "data" / "national_blacklist_targets.csv", ROOT / "data" / "national_blacklist_flows.csv")
OUT_JSON = ROOT / "validation" / "national_blacklist_fit.json"
OUT_PNG = ROOT / "docs" / "validation" / "national_blacklist.png"


@dataclass
class Run:
    """One run of the scenario: its targets with the simulated values, and the daily series (not scaled)."""

    persons: int
    seed: int
    scale: float  # scale_to / persons
    seconds: float
    targets: list[Target]
    values: np.ndarray  # simulated (scaled) at each target; NaN where the target has no measure
    entries: np.ndarray  # cumulative list entries at the end of each day
    exits: np.ndarray
    stock: np.ndarray  # persons on the list at the end of each day
    denials: dict[str, np.ndarray] = field(default_factory=dict)  # service -> cumulative denials
    curves: dict[str, np.ndarray] = field(default_factory=dict)  # measure -> its comparable series (not scaled)


def simulate(persons: int | None = None, seed: int | None = None, days: int | None = None) -> Run:
    """Run the shipped scenario (its size and seed unless given) and read every target."""
    rb = sc.load(str(SCENARIO), persons=persons, days=days, seed=seed)
    t0 = time.perf_counter()
    res = sc.run(rb)
    seconds = time.perf_counter() - t0
    targets: list[Target] = []
    for path in TARGETS:
        targets.extend(read_targets(path))
    placed, _ = place(targets, rb.simulation.start, rb.simulation.days, [t.name for t in rb.tiers],
                      [s.name for s in rb.services], rb.simulation.scale_to, rb.population.persons)  # fmt: skip
    n, scale_to = rb.population.persons, rb.simulation.scale_to
    values = simulated(placed, res.daily, res.services, scale_to, n)
    curve = {name: series_of(name, res.daily, res.services)
             for name in ("blacklist_entries", "blacklist_exits", "blacklisted", "flight.outcomes", "train.outcomes", "management.outcomes")}  # fmt: skip
    return Run(n, rb.simulation.seed, scale_to / n, seconds, placed, values, curve["blacklist_entries"], curve["blacklist_exits"],
               curve["blacklisted"], {s: curve[f"{s}.outcomes"] for s in ("flight", "train", "management")}, curve)  # fmt: skip


def compare(run: Run) -> pd.DataFrame:
    """One row per target: published, simulated (scaled), relative error, the simulated count behind it."""
    rows = pd.DataFrame([{"date": t.date, "day": t.day, "series": t.series, "measure": t.measure, "value": t.value,
                          "weight": t.weight, "source": t.source} for t in run.targets])  # fmt: skip
    rows["simulated"] = run.values
    rows["simulated_min"] = rows["simulated_max"] = run.values
    rows["error"] = relative_errors(run.targets, run.values)
    ratio = rows["measure"].str.contains("/", regex=False)
    rows["simulated_count"] = np.where(ratio, np.nan, rows["simulated"] / run.scale)
    rows["role"] = np.where((rows["measure"] != "") & (rows["weight"] > 0), "fitted", "shown")
    return rows


def table(rows: pd.DataFrame) -> str:
    lines = [f"{'date':<11} {'series':<28} {'published':>12} {'simulated':>12} {'error':>8} {'count':>9}", "-" * 86]
    for r in rows.itertuples(index=False):
        if not r.measure:
            continue
        fmt = (lambda x: f"{x:>12.3f}") if "/" in r.measure else (lambda x: f"{x:>12,.0f}")
        count = "" if r.simulated_count != r.simulated_count else f"{r.simulated_count:>9,.0f}"
        lines.append(f"{r.date:<11} {r.series:<28} {fmt(r.value)} {fmt(r.simulated)} {r.error:>+8.1%} {count:>9}")
    return "\n".join(lines)


FIT = ROOT / "validation" / "national_blacklist_calibration.csv"  # fit.csv of the final calibration (1,000,000 persons)
FIT_PERSONS = 1_000_000
REPRODUCTION = ROOT / "validation" / "national_blacklist_200k.csv"  # the shipped scenario's figures at 200,000 persons
REPRODUCTION_PERSONS = 200_000


def against_fit(run: Run) -> list[str]:
    """Where ``run`` (at the fit's size and seed) differs from the calibration's fit by more than 3% or 2 simulated
    persons (ratios: 0.02); an empty list when the shipped values reproduce the fit (fitted values are rounded
    to 4 digits, hence the slack)."""
    fit = pd.read_csv(FIT)
    rows = compare(run).set_index(["date", "series"])
    bad = []
    for r in fit[fit["measure"].notna()].itertuples(index=False):
        got = rows.loc[(r.date, r.series), "simulated"]
        slack = max(0.03 * abs(r.simulated), 2 * run.scale if "/" not in r.measure else 0.02)
        if abs(got - r.simulated) > slack:
            bad.append(f"{r.date} {r.series}: simulated {got:g}, the fit {r.simulated:g}")
    return bad


def reproduction(run: Run) -> pd.DataFrame:
    """The simulated figure at each mapped target (date, series, measure, simulated): what the tests hold fixed."""
    rows = compare(run)
    return rows[rows["measure"] != ""][["date", "series", "measure", "simulated"]].reset_index(drop=True)


# ------------------------------------------------------------------ closed forms the engine must agree with
def expected_entries(rate: float, ramp: list[tuple[float, float]], stock: np.ndarray, persons: int, scale_to: float) -> np.ndarray:
    """Expected cumulative list entries (scaled) given the daily stock S(t) of a run.

    A person not on the list at the end of day t-1 gets a judgment recorded on
    day t with probability rate/365 x ramp(t), and is listed that day.
    """
    t = np.arange(stock.size)
    free = 1.0 - np.concatenate([[0.0], stock[:-1]]) / persons
    days, mult = zip(*ramp)
    return np.cumsum(rate / 365.0 * np.interp(t, days, mult) * free) * scale_to


def exposure(stock: np.ndarray, scale: float) -> np.ndarray:
    """Cumulative listed person-years, scaled: expected denials are demand x exposure."""
    return np.cumsum(stock) * scale / 365.0


def plot(run: Run, rows: pd.DataFrame, path: Path = OUT_PNG) -> None:
    from socialcredit.experiments import plots
    from socialcredit.report.figures import png_bytes

    frames = []
    for measure in dict.fromkeys(t.measure for t in run.targets if t.measure):
        curve = measure_curve(measure, run.curves) * (1.0 if " / " in measure else run.scale)
        frames.append(pd.DataFrame({"measure": measure, "day": np.arange(len(curve)), "value": curve}))
    curves = pd.concat(frames, ignore_index=True)
    fig = plots.calibration_fit(rows, curves, "2013-10-01")
    fig.suptitle(f"Court list of dishonest judgment debtors, 2013-2017: simulated ({run.persons:,} persons, seed {run.seed}) "
                 "against published", fontsize=10)  # fmt: skip
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png_bytes(fig))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--persons", type=int, default=None, help="size of the run (default: the scenario's)")
    ap.add_argument("--seed", type=int, default=None, help="seed of the run (default: the scenario's)")
    ap.add_argument("--no-write", action="store_true", help="write neither the JSON nor the plot")
    ap.add_argument("--against-fit", action="store_true",
                    help="run at the calibration's size (1,000,000) and check the fit's simulated values; writes nothing")
    ap.add_argument("--write-reproduction", action="store_true",
                    help=f"run at {REPRODUCTION_PERSONS:,} persons and write {REPRODUCTION.name} (the tests compare with it)")
    args = ap.parse_args(argv)
    if args.against_fit:
        bad = against_fit(simulate(FIT_PERSONS))
        print("\n".join(bad) if bad else f"the shipped scenario reproduces {FIT.name} at {FIT_PERSONS:,} persons")
        return 1 if bad else 0
    if args.write_reproduction:
        reproduction(simulate(REPRODUCTION_PERSONS)).to_csv(REPRODUCTION, index=False)
        print(f"wrote {REPRODUCTION.relative_to(ROOT)}")
        return 0
    run = simulate(args.persons, args.seed)
    rows = compare(run)
    print(f"{run.persons:,} simulated persons, seed {run.seed}, {run.seconds:.0f} s; counts x {run.scale:,.0f}")
    print(table(rows))
    fitted = rows[rows["role"] == "fitted"]
    mean = float(fitted["error"].abs().mean())
    print(f"\nmean absolute error over the {len(fitted)} fitted targets: {mean:.1%}; largest {fitted['error'].abs().max():.1%}")
    if not args.no_write:
        payload = {"persons": run.persons, "seed": run.seed, "seconds": round(run.seconds, 1), "scale": run.scale,
                   "mean_abs_error": mean, "rows": json.loads(rows.to_json(orient="records"))}  # fmt: skip
        OUT_JSON.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        plot(run, rows)
        print(f"wrote {OUT_JSON.relative_to(ROOT)} and {OUT_PNG.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
