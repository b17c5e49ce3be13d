"""Make docs/scenarios/figures/nosedive.png from four runs of `nosedive` over two years.

Run from the repository root:

    PYTHONPATH=src python docs/scenarios/figures/make_nosedive.py [persons] [days]

(default: 100,000 persons, 730 days, seed 1; about four minutes with one thread).
It runs the scenario as shipped and three variants that share its random
numbers: without unfriending (`responses.unfriending.probability=0`), with
strangers rating like friends (`ratings.stranger_penalty=0`, and `ratings.mean`
lowered from 3.65 to 3.5 so that the average rating stays the same), and with
neither. Panel (a) is the share of persons below 2.5 stars (barred from jobs)
over time; panel (b), for the run as shipped, the friends and the ratings
received per person and day, by tier, on the last day.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import socialcredit as sc  # noqa: E402

OUT = Path(__file__).with_name("nosedive.png")
NO_UNFRIEND = {"responses.unfriending.probability": 0}
FAIR_STRANGERS = {"ratings.stranger_penalty": 0, "ratings.mean": 3.5}
VARIANTS = [
    ("as shipped: friends drop persons below 3.5,\nstrangers rate half a star lower", {}, "#b2182b", "-"),
    ("no unfriending", NO_UNFRIEND, "#2166ac", "-"),
    ("strangers rate like friends", FAIR_STRANGERS, "#1b7837", "-"),
    ("neither", {**NO_UNFRIEND, **FAIR_STRANGERS}, "#4d4d4d", "--"),
]


def main(persons: int | None = None, days: int = 730) -> None:
    results = []
    for label, over, colour, style in VARIANTS:
        res = sc.run(sc.load("nosedive", over, persons=persons, days=days))
        results.append((label, res, colour, style))
        d = res.to_df("daily")
        print(f"{label.splitlines()[0]}: below 2.5 on day 364 {100 * d['share_outcast'].iloc[min(364, len(d) - 1)]:.2f}%, "
              f"on the last day {100 * d['share_outcast'].iloc[-1]:.2f}%; job denials {int(res.summary()['services']['job']['denied']):,}")  # fmt: skip
    res = results[0][1]
    P, D = res.meta["persons"], res.meta["days"]

    fig, axes = plt.subplots(1, 2, figsize=(14, 5.4), gridspec_kw={"width_ratios": [1.3, 1.0]})
    a = axes[0]
    for label, r, colour, style in results:
        d = r.to_df("daily")
        a.plot(d["day"], 100 * d["share_outcast"], color=colour, ls=style, label=label)
    a.set_xlabel("day")
    a.set_ylabel("persons below 2.5 stars (% of all)")
    a.set_title("(a) Shunning and harsher strangers together drive a nosedive:\npersons below 2.5 stars, barred from jobs", fontsize=11)
    a.legend(fontsize=9, frameon=False, loc="upper left")
    a.set_ylim(bottom=0)

    b = axes[1]
    t = res.to_df("daily", "tier")
    last = t[t["day"] == t["day"].max()].set_index("level")
    tiers = res.meta["tiers"]
    x = np.arange(len(tiers))
    friends = [last.loc[k, "degree_mean"] for k in tiers]
    rated = [last.loc[k, "ratings_received"] / last.loc[k, "persons"] if last.loc[k, "persons"] else np.nan for k in tiers]
    stars = [last.loc[k, "stars_received"] / last.loc[k, "ratings_received"] if last.loc[k, "ratings_received"] else np.nan for k in tiers]
    b.bar(x - 0.2, friends, 0.4, color="#762a83", label="friends per person")
    b2 = b.twinx()
    b2.bar(x + 0.2, rated, 0.4, color="#e08214", label="ratings received per person and day\n(their mean in stars, in brackets)")
    for xi, (f, r, s) in enumerate(zip(friends, rated, stars)):
        b.annotate(f"{f:.1f}", (xi - 0.2, f), ha="center", va="bottom", fontsize=8)
        b2.annotate(f"{r:.2f}\n({s:.1f}*)", (xi + 0.2, r), ha="center", va="bottom", fontsize=8)
    shares = [100 * last.loc[k, "persons"] / P for k in tiers]
    mins = {t.name: t.min for t in sc.load("nosedive").tiers}
    b.set_xticks(x, [f"{k}\n{'>= ' + format(mins[k], 'g') if mins[k] is not None else '< 2.5'}\n{s:.1f}%" for k, s in zip(tiers, shares)], fontsize=9)
    b.set_xlabel("tier: score range and share of persons")
    b.set_ylabel("friends per person", color="#762a83")
    b2.set_ylabel("ratings received per person and day", color="#e08214")
    b.set_ylim(0, 17)
    b2.set_ylim(0, 3.4)
    b.set_title(f"(b) Who is shunned, as shipped, on day {D - 1}:\nfriends and ratings received by tier", fontsize=11)
    h1, l1 = b.get_legend_handles_labels()
    h2, l2 = b2.get_legend_handles_labels()
    b.legend(h1 + h2, l1 + l2, fontsize=9, frameon=False, loc="upper right")

    fig.suptitle(f"nosedive: {P:,} synthetic persons rating each other, {D} days, seed {res.meta['seed']}", fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(OUT, dpi=110)
    print(f"wrote {OUT}")
    print(last[["persons", "degree_mean", "ratings_received", "ratings_low", "stars_received"]])


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*args)
