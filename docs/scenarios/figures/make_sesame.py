"""Figure of docs/scenarios/sesame.md: scores build up over the first year, and who qualifies for each perk.

Runs the sesame scenario at its default size (100,000 users, 730 days, seed 1).

    PYTHONPATH=src python docs/scenarios/figures/make_sesame.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import socialcredit as sc

BANDS = [
    (350, 550, "poor"),
    (550, 600, "fair"),
    (600, 650, "good"),
    (650, 700, "very good"),
    (700, 950, "excellent"),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--persons", type=int, default=None, help="default: the scenario's 100,000"
    )
    ap.add_argument("--days", type=int, default=None)
    ap.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent / "sesame.png"
    )
    args = ap.parse_args()

    res = sc.run(sc.load("sesame", persons=args.persons, days=args.days))
    d = res.to_df("daily")
    day = d["day"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.6), constrained_layout=True)

    ax1.fill_between(
        day,
        d["score_p10"],
        d["score_p90"],
        alpha=0.3,
        color="steelblue",
        label="10th to 90th percentile",
    )
    ax1.plot(day, d["score_p50"], color="steelblue", label="median")
    ylo, yhi = 500, 800
    for lo, hi, name in BANDS:
        if lo > ylo:
            ax1.axhline(lo, color="grey", linewidth=0.6)
        ax1.text(
            day.iloc[-1],
            (max(lo, ylo) + min(hi, yhi)) / 2,
            f" {name}",
            va="center",
            fontsize=8,
            color="grey",
        )
    ax1.set_ylim(ylo, yhi)
    ax1.set_title("Sesame score (points, 350-950) of users who all start at 550")
    ax1.set_xlabel("day")
    ax1.set_ylabel("score (points)")
    ax1.legend(fontsize=9, loc="upper left")

    at_least = {
        600: d["share_good"] + d["share_very_good"] + d["share_excellent"],
        650: d["share_very_good"] + d["share_excellent"],
        700: d["share_excellent"],
    }
    labels = {
        600: ">= 600: public bikes, consumer credit",
        650: ">= 650: bike and rental deposits waived",
        700: ">= 700: visa help (2015)",
    }
    for t, share in at_least.items():
        ax2.plot(day, share * 100, label=labels[t])
    ax2.axhline(40, color="black", linestyle=":", linewidth=1)
    ax2.text(
        5,
        36,
        "40% of registered users qualified for\ndeposit waivers (Hangzhou, 2018)",
        fontsize=8,
        va="top",
    )
    ax2.set_ylim(0, 120)
    ax2.set_yticks(range(0, 101, 20))
    ax2.set_title(
        f"Share of users at or above each perk threshold\n(end: {at_least[650].iloc[-1]:.0%} at 650 or above)"
    )
    ax2.set_xlabel("day")
    ax2.set_ylabel("share of users (%)")
    ax2.legend(fontsize=9, loc="upper left")
    fig.suptitle(
        f"sesame: {res.meta['persons']:,} simulated users, seed {res.meta['seed']}",
        fontsize=11,
    )
    fig.savefig(args.out, dpi=120)
    print(
        {t: round(float(s.iloc[-1]), 3) for t, s in at_least.items()},
        f"wrote {args.out}",
    )


if __name__ == "__main__":
    main()
