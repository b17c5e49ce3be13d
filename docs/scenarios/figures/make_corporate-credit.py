"""Figure and figures of docs/scenarios/corporate-credit.md: listed firms, their layoffs, and their staff's income.

Runs the scenario at its default size (40,000 persons, 800 firms, 730 days,
seed 3), keeps the final state, and prints the numbers the page quotes.

    PYTHONPATH=src python docs/scenarios/figures/make_corporate-credit.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import socialcredit as sc
from socialcredit.analysis.employment import employees_of_sanctioned
from socialcredit.engine.sim import Sim
from socialcredit.results import Results
from socialcredit.results.final_state import final_state_frame


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=None, help="default: the scenario's 40,000")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "corporate-credit.png")
    args = ap.parse_args()

    sim = Sim(sc.load("corporate-credit", persons=args.persons))
    res = Results.from_sim(sim.run())
    final = final_state_frame(sim)
    table = employees_of_sanctioned(type("Run", (), {"final_state": final})())
    d = res.daily[res.daily["breakdown"] == "all"].reset_index(drop=True)
    comp = sim.pop.companies
    print(f"firms listed at some time: {(comp.revenue < 1).sum()} of {comp.n}; listed at the end: {int(d['companies_blacklisted'].iloc[-1])}; "
          f"entries {int(d['company_blacklist_entries'].sum())}")  # fmt: skip
    print(f"layoffs {int(d['layoffs'].sum())} (wrongful {int(d['layoffs_wrongful'].sum())}); yearly income lost {d['layoff_income_lost'].sum():,.0f}")
    print(f"persons listed at the end {int(d['blacklisted'].iloc[-1])} (wrongly {int(d['blacklisted_wrongly'].iloc[-1])})")
    print(table.to_string(index=False))
    sv = res.services[res.services["breakdown"] == "all"].groupby("service", observed=True)[["attempts", "outcomes", "wrongful"]].sum()
    print(sv.to_string())

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.6), constrained_layout=True)
    ax1.plot(d["day"], d["companies_blacklisted"], color="black", label="firms on the list")
    ax1b = ax1.twinx()
    ax1b.plot(d["day"], d["layoffs"].cumsum(), color="crimson", label="employees laid off (cumulative)")
    ax1.set_xlabel("day")
    ax1.set_ylabel("firms listed")
    ax1b.set_ylabel("employees laid off, cumulative", color="crimson")
    ax1.set_title("Listed firms and the staff they shed")
    ax1.legend(loc="upper left", fontsize=8)
    ax1b.legend(loc="lower right", fontsize=8)
    names = ["staff of listed firms", "staff of other firms", "no employer"]
    change = 100 * table["income_change_mean"].to_numpy()
    bars = ax2.bar(names, change, color=["crimson", "grey", "lightgrey"])
    for b, share in zip(bars, table["laid_off_share"].to_numpy()):
        ax2.annotate(f"{100 * share:.0f}% laid off" if share == share else "", (b.get_x() + b.get_width() / 2, b.get_height()),
                     ha="center", va="top", fontsize=8, xytext=(0, -4), textcoords="offset points")  # fmt: skip
    ax2.axhline(0, color="black", lw=0.8)
    ax2.set_ylabel("mean change of income over the run, %")
    ax2.set_title("Income: employees of listed firms did nothing, and lost it")
    fig.suptitle(f"corporate-credit, {sim.state.n:,} persons, {comp.n} firms, {sim.plan.days} days, seed {sim.plan.seed}")
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")
    assert np.isfinite(change[:2]).all()


if __name__ == "__main__":
    main()
