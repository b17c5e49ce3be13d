"""Figure of docs/scenarios/rongcheng.md: grades over a year, and denials with and without the warning period.

Runs the rongcheng scenario at its default size (100,000 persons, 730 days,
seed 1) twice: as shipped (denials only after 30 days on the list) and with
the warning period removed (``denied_when: blacklisted`` for every
punishment). Both runs share their random numbers.

    PYTHONPATH=src python docs/scenarios/figures/make_rongcheng.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import socialcredit as sc

PUNISHMENTS = ("flight", "train", "loan", "public_job")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--persons", type=int, default=None, help="default: the scenario's 100,000"
    )
    ap.add_argument("--days", type=int, default=None)
    ap.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent / "rongcheng.png"
    )
    args = ap.parse_args()

    warned = sc.run(sc.load("rongcheng", persons=args.persons, days=args.days))
    no_warning = sc.run(sc.load("rongcheng", {f"services.{s}.denied_when": "blacklisted" for s in PUNISHMENTS},
                                persons=args.persons, days=args.days))  # fmt: skip
    n = warned.meta["persons"]
    per = 100_000 / n

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.6), constrained_layout=True)
    d = warned.to_df("daily")
    ax1.plot(
        d["day"],
        (d["share_AAA"] + d["share_AA"]) * 100,
        color="seagreen",
        label="grades AAA and AA (perks)",
    )
    ax1.plot(
        d["day"],
        (d["share_C"] + d["share_D"]) * 100,
        color="crimson",
        label="grades C and D (listed)",
    )
    ax1.plot(
        d["day"],
        d["blacklisted"] / n * 100,
        color="black",
        linestyle=":",
        label="on the list",
    )
    top, low = (
        (d["share_AAA"] + d["share_AA"]).iloc[-1] * 100,
        (d["share_C"] + d["share_D"]).iloc[-1] * 100,
    )
    ax1.set_title(
        f"Share of adults at the top and bottom grades\n(records count a year: {top:.1f}% and {low:.1f}% at the end)"
    )
    ax1.set_xlabel("day")
    ax1.set_ylabel("share of adults (%)")
    ax1.legend(fontsize=9, loc="upper left")

    for res, label, style in ((no_warning, "no warning: denied from the day of listing", "--"),
                              (warned, "as shipped: denied only after 30 days on the list", "-")):  # fmt: skip
        sv = res.to_df("services")
        sv = sv[sv["kind"] == "punishment"].groupby("day")["outcomes"].sum().cumsum()
        ax2.plot(
            sv.index, sv.to_numpy() * per, linestyle=style, color="black", label=label
        )
    a, b = no_warning.summary()["services"], warned.summary()["services"]
    da = sum(a[s]["denied"] for s in PUNISHMENTS)
    db = sum(b[s]["denied"] for s in PUNISHMENTS)
    avoided = 1 - db / da if da else 0.0
    ax2.set_title(
        f"Denials of flights, trains, loans and public jobs\n(the 30-day warning avoids {avoided:.0%} of them)"
    )
    ax2.set_xlabel("day")
    ax2.set_ylabel("cumulative denials per 100,000 adults")
    ax2.legend(fontsize=9, loc="upper left")
    fig.suptitle(
        f"rongcheng: {n:,} simulated adults, seed {warned.meta['seed']}", fontsize=11
    )
    fig.savefig(args.out, dpi=120)
    print(
        f"denials without warning: {da}, with the 30-day warning: {db} ({avoided:.0%} fewer); wrote {args.out}"
    )


if __name__ == "__main__":
    main()
