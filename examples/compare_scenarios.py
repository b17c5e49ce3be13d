"""Do secret rules chill good behaviour? Run the same city with public and with secret rules, same seed, and compare.

Under public rules people know what is penalised and avoid it; under secret
rules deterrence falls on everything, volunteering included (chilling). The
two runs share their seed and population, so they build the same society and
draw the same random numbers (common random numbers): every difference
between them is the secrecy, not chance. The paired differences say how
large it is per day, with a standard error far smaller than two independent
runs would give; the figure shows why.

    python examples/compare_scenarios.py                      # 20,000 persons, one year (under a minute)
    python examples/compare_scenarios.py --persons 100000 --out figures/
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

import socialcredit as sc
from socialcredit.analysis.compare import compare, paired_differences, same_design

SERIES = "events_prosocial"  # volunteering, donations and the like, per day


def number(x: float) -> str:
    """Whole numbers with thousands separators, others to four significant figures."""
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:.4g}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, default=20_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("."), help="folder for the figure")
    args = ap.parse_args()

    size = {"persons": args.persons, "days": args.days, "seed": args.seed}
    public = sc.run(sc.load("smalltown", {"institutions.transparency": "public"}, **size))
    secret = sc.run(sc.load("smalltown", {"institutions.transparency": "secret"}, **size))

    pd.set_option("display.width", 120)
    table = compare(public, secret)
    print("A: smalltown with public rules, B: with secret rules (the measures that differ)")
    print(table[table["a"] != table["b"]].to_string(index=False, float_format=number))
    if not same_design(public, secret):  # cannot happen here: only the transparency differs
        raise SystemExit("the runs do not share a design: " + "; ".join(table.attrs["design_differences"]))
    paired = paired_differences(public, secret)
    print("\nsame design (seed, persons, population): paired differences, B - A")
    print(paired.to_string(index=False, float_format=number))

    a, b = public.to_df(), secret.to_df()
    row = paired.set_index("measure").loc[SERIES]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6.5), sharex=True, constrained_layout=True)
    top.plot(a["day"], a[SERIES], label="public rules", color="seagreen", lw=1)
    top.plot(b["day"], b[SERIES], label="secret rules", color="crimson", lw=1, alpha=0.8)
    top.set_ylabel("events per day")
    top.set_title("Prosocial behaviour (volunteering, donations): the two runs")
    top.legend(loc="upper left", fontsize=8)
    mean, se = row["mean_difference"], row["se_paired"]
    bottom.plot(b["day"], b[SERIES] - a[SERIES], color="black", lw=1)
    bottom.axhline(0, color="gray", lw=0.8)
    bottom.axhline(mean, color="navy", ls="--", label=f"mean {mean:+.2f} per day: paired SE {se:.2f}, unpaired SE {row['se_unpaired']:.2f}")
    bottom.axhspan(mean - 2 * se, mean + 2 * se, color="navy", alpha=0.2, lw=0)
    bottom.set_xlabel("day")
    bottom.set_ylabel("secret - public")
    bottom.set_title("Day by day difference: the same persons and random numbers in both runs")
    bottom.legend(loc="lower left", fontsize=8)
    fig.suptitle(f"smalltown, {args.persons:,} persons, {args.days} days, seed {args.seed}")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "compare_secret_rules.png"
    fig.savefig(path, dpi=110)
    print(f"\nfigure: {path}")


if __name__ == "__main__":
    main()
