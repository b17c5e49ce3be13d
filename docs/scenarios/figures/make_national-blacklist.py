"""Make docs/scenarios/figures/national-blacklist.png from one default-size run of `national-blacklist`.

Run from the repository root:

    PYTHONPATH=src python docs/scenarios/figures/make_national-blacklist.py

(optional: `--persons 1000000 --out /tmp/nb.png` for a quicker look;
`--threads 1` on a busy machine).

It runs the scenario as shipped (8,000,000 persons standing for 1.4 billion,
2013-10-01 to 2017-12-31, seed 1) and draws, scaled to 1.4 billion, the
cumulative entries on the court list, the cumulative removals after
repayment, and the number of persons on the list each day, with the published
list sizes (cumulative entries) as points.
"""

from __future__ import annotations

import argparse
import csv
from datetime import date, timedelta
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt

import socialcredit as sc

OUT = Path(__file__).with_name("national-blacklist.png")
TARGETS = Path(__file__).resolve().parents[3] / "data" / "national_blacklist_targets.csv"
DAY0 = date(2013, 10, 1)


def main(persons: int | None = None, threads: int | None = None, out: Path = OUT) -> None:
    rb = sc.load("national-blacklist", persons=persons)
    res = sc.run(rb, threads=threads)
    d = res.to_df("daily").sort_values("day")
    n = rb.population.persons
    k = rb.simulation.scale_to / n / 1e6  # millions of real persons per simulated person
    dates = [DAY0 + timedelta(days=int(t)) for t in d["day"]]
    entries = d["blacklist_entries"].cumsum().to_numpy() * k
    exits = d["blacklist_exits"].cumsum().to_numpy() * k
    listed = d["blacklisted"].to_numpy() * k

    fig, ax = plt.subplots(figsize=(9, 5.4), dpi=110)
    ax.plot(dates, entries, color="C0", lw=2, label="entered the list (cumulative)")
    ax.plot(dates, listed, color="C3", lw=2, label="on the list that day")
    ax.plot(dates, exits, color="C2", lw=2, label="removed after repaying (cumulative)")
    with open(TARGETS, newline="", encoding="utf-8") as f:
        pub = [r for r in csv.DictReader(f) if r["series"] == "debtors_listed"]
    ax.plot([date.fromisoformat(r["date"]) for r in pub], [float(r["value"]) / 1e6 for r in pub], "ko", ms=6,
            label="published list size (cumulative entries)")  # fmt: skip
    ax.set_ylabel("millions of persons (scaled to 1.4 billion)")
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.set_xlim(DAY0, date(2018, 1, 31))
    ax.set_ylim(0, None)
    ax.grid(True, alpha=0.3)
    ax.legend(frameon=False, loc="upper left")
    share = exits[-1] / entries[-1]
    ax.set_title(
        "Simulated court list of dishonest judgment debtors, 2013-2017:\n"
        f"entries, removals after repayment and persons listed ({share:.0%} of entries removed by the end of 2017)",
        fontsize=11,
    )
    fig.text(0.99, 0.01, f"national-blacklist: {n:,} simulated persons x {k * 1e6:,.0f}, seed {rb.simulation.seed}",
             ha="right", va="bottom", fontsize=8, color="grey")  # fmt: skip
    fig.tight_layout()
    fig.savefig(out)
    print(f"wrote {out}")
    print(f"end of 2017: {entries[-1]:.2f} M entered, {exits[-1]:.2f} M removed, {listed[-1]:.2f} M on the list")
    print(res.summary())


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="Draw docs/scenarios/figures/national-blacklist.png from one run.")
    ap.add_argument("--persons", type=int, default=None, help="simulated persons (default: the scenario's 8,000,000)")
    ap.add_argument("--threads", type=int, default=None, help="threads for the compiled kernels (results do not depend on it)")
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args()
    main(a.persons, a.threads, a.out)
