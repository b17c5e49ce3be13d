"""Do people drop friends with bad grades? Run the default city twice with the same seed.

In one run friendships are fixed. In the other, on each weekly social update
every person drops each friend who is in grade C or D, or on the blacklist,
with probability 0.2, and refills the slot with a person of the same district,
preferring better grades (``responses.unfriending``). Both runs share every
random draw of behaviour, detection and services (common random numbers);
unfriending has its own streams.

The script prints the number of ties dropped, the mean number of friends of
blacklisted persons and of everyone else, and the score assortativity of the
network (the correlation of the scores at the two ends of a tie). It saves a
figure with the friends of the two groups over time, and the assortativity
on the first and last day.

    python examples/unfriending.py                   # 20,000 persons, one year
    python examples/unfriending.py --persons 100000 --out figures/
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

import socialcredit as sc

UNFRIENDING = {
    "responses.unfriending.tiers": ["C", "D"],
    "responses.unfriending.blacklisted": True,
    "responses.unfriending.rewire": True,
    "responses.unfriending.preference": 1.0,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, default=20_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--out", type=Path, default=Path("."), help="folder for the figure")
    args = ap.parse_args()

    runs = {}
    for label, p in (("fixed friendships", 0.0), ("unfriending (p = 0.2)", 0.2)):
        rb = sc.load("smalltown", persons=args.persons, days=args.days,
                     **UNFRIENDING, **{"responses.unfriending.probability": p})  # fmt: skip
        runs[label] = sc.run(rb)

    rows = []
    for label, res in runs.items():
        daily = res.to_df("daily")
        net = daily.dropna(subset=["degree_mean"])  # network measures: every 30 days and the last day
        first, last = net.iloc[0], net.iloc[-1]
        rows.append(
            {
                "run": label,
                "ties dropped": int(daily["ties_dropped_unfriending"].sum()),
                "ties rewired": int(daily["ties_rewired"].sum()),
                "blacklisted at the end": int(last["blacklisted"]),
                "friends of blacklisted (end)": round(float(last["degree_blacklisted"]), 2),
                "friends of others (end)": round(float(last["degree_others"]), 2),
                "score assortativity (day 0)": round(float(first["score_assortativity"]), 4),
                "score assortativity (end)": round(float(last["score_assortativity"]), 4),
            }
        )
    table = pd.DataFrame(rows).set_index("run")
    print(table.T.to_string(float_format=lambda x: f"{x:.4g}"))

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    styles = {"fixed friendships": "--", "unfriending (p = 0.2)": "-"}
    for label, res in runs.items():
        net = res.to_df("daily").dropna(subset=["degree_mean"])
        ax1.plot(net["day"], net["degree_blacklisted"], styles[label], color="crimson", marker="o", label=f"blacklisted, {label}")
        ax1.plot(net["day"], net["degree_others"], styles[label], color="slategray", marker="o", label=f"others, {label}")
    ax1.set_title("Mean number of friends")
    ax1.set_xlabel("day")
    ax1.set_ylabel("friends per person")
    ax1.legend(fontsize=8)
    assort = table[["score assortativity (day 0)", "score assortativity (end)"]]
    assort.columns = ["day 0", f"day {args.days - 1}"]
    assort.plot.bar(ax=ax2, rot=0, color=["lightsteelblue", "navy"])
    ax2.axhline(0, color="black", linewidth=0.5)
    ax2.set_title("Score assortativity of the friendship network")
    ax2.set_xlabel("")
    ax2.set_ylabel("correlation of scores across ties")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "unfriending.png"
    fig.savefig(path, dpi=110)
    print(f"figure: {path}")


if __name__ == "__main__":
    main()
