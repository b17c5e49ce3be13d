"""Figure of docs/scenarios/control.md: behaviour under rongcheng relative to the control, same seed.

Runs rongcheng and control at their default size (100,000 persons, 730 days,
seed 1). The two share their random numbers, so the difference in events is
the effect of the points system (through deterrence), not sampling noise.

    PYTHONPATH=src python docs/scenarios/figures/make_control.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import socialcredit as sc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--persons", type=int, default=None, help="default: the scenarios' 100,000"
    )
    ap.add_argument("--days", type=int, default=None)
    ap.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent / "control.png"
    )
    args = ap.parse_args()

    rc = sc.run(sc.load("rongcheng", persons=args.persons, days=args.days))
    ct = sc.run(sc.load("control", persons=args.persons, days=args.days))
    dr, dc = rc.to_df("daily"), ct.to_df("daily")
    br, bc = rc.to_df("behaviours"), ct.to_df("behaviours")

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.6), constrained_layout=True)
    for kind, color in (("harmful", "crimson"), ("prosocial", "seagreen")):
        ratio = dr[f"events_{kind}"].cumsum() / dc[f"events_{kind}"].cumsum()
        ax1.plot(dr["day"], (ratio - 1) * 100, color=color, label=f"{kind} behaviour")
    ax1.axhline(0, color="black", linewidth=0.6)
    end = (dr["events_harmful"].sum() / dc["events_harmful"].sum() - 1) * 100
    ax1.set_title(
        f"Events under rongcheng relative to the control, cumulative\n(harmful: {end:+.1f}% over {len(dr)} days)"
    )
    ax1.set_xlabel("day")
    ax1.set_ylabel("difference from the control (%)")
    ax1.legend(fontsize=9, loc="lower left")

    year2 = lambda b: (
        b[b["day"] >= 365].groupby("behaviour", observed=True)["events"].sum()
    )
    common = (
        year2(bc) >= 1000
    )  # rare behaviours are too noisy to show (a few dozen events a year)
    diff = (year2(br)[common] / year2(bc)[common] - 1) * 100
    kinds = br.drop_duplicates("behaviour").set_index("behaviour")["kind"].astype(str)
    diff = diff.sort_values()
    ax2.barh(
        diff.index.astype(str),
        diff.to_numpy(),
        color=["crimson" if kinds[b] == "harmful" else "seagreen" for b in diff.index],
    )
    ax2.axvline(0, color="black", linewidth=0.6)
    ax2.set_title(
        "Second year, by behaviour\n(those with 1,000 or more events in the control)"
    )
    ax2.set_xlabel("difference in events (%)")
    ax2.tick_params(axis="y", labelsize=8)
    fig.suptitle(
        f"rongcheng against control: {rc.meta['persons']:,} simulated adults each, same seed ({rc.meta['seed']})",
        fontsize=11,
    )
    fig.savefig(args.out, dpi=120)
    print(diff.round(2).to_dict(), f"harmful {end:+.2f}%", f"wrote {args.out}")


if __name__ == "__main__":
    main()
