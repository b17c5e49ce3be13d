"""Make docs/scenarios/figures/full-system.png from two default-size runs of `full-system`.

Run from the repository root:

    PYTHONPATH=src python docs/scenarios/figures/make_full-system.py

(optional arguments: persons, days and an output path, e.g.
`... make_full-system.py 5000 90 /tmp/fs.png` for a quick look).

It runs the scenario as shipped (100,000 persons, 365 days, seed 1) and the
same scenario with deterrence switched off (`responses.deterrence.elasticity=0`),
which shares its random numbers, and draws four panels: false camera records
and wrongful denials per 1,000 persons by group; behaviour events with
deterrence relative to the same run without it, by kind (chilling); the
denials of each punishment service, with the wrongful ones; and what
deterrence costs against what it buys: the mean stress index by group over
time (and without deterrence), beside the harmful events averted per 1,000
persons (harmful events without deterrence minus with, cumulated over days).
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import socialcredit as sc

OUT = Path(__file__).with_name("full-system.png")


def main(persons: int | None = None, days: int | None = None, out: Path = OUT) -> None:
    rb = sc.load("full-system", persons=persons, days=days)
    res = sc.run(rb)
    res0 = sc.run(sc.load("full-system", persons=persons, days=days, **{"responses.deterrence.elasticity": 0}))
    P, D = res.meta["persons"], res.meta["days"]

    fig, axes = plt.subplots(2, 2, figsize=(15, 10.5))
    axes = axes.ravel()

    # (a) who the cameras misidentify, and who is wrongly denied
    groups = res.meta["groups"]
    mult = {g.name: g.misidentification for g in rb.population.groups}
    daily_g = res.to_df("daily", "group")
    persons_g = daily_g[daily_g["day"] == 0].set_index("level")["persons"]
    beh = res.to_df("behaviours", "group")
    cam = beh[beh["channel"] == "camera"].groupby("level", observed=True)["records_false"].sum()
    svc = res.to_df("services", "group")
    wrong = svc[svc["kind"] == "punishment"].groupby("level", observed=True)["wrongful"].sum()
    x = np.arange(len(groups))
    a = axes[0]
    cam_rate = [1000 * cam[g] / persons_g[g] for g in groups]
    wrong_rate = [1000 * wrong[g] / persons_g[g] for g in groups]
    a.bar(x - 0.2, cam_rate, 0.4, label="false camera records", color="#b2182b")
    a.bar(x + 0.2, wrong_rate, 0.4, label="wrongful denials (all services)", color="#ef8a62")
    for xi, v in zip(x, cam_rate):
        a.annotate(f"{v:.0f}", (xi - 0.2, v), ha="center", va="bottom", fontsize=8)
    for xi, v in zip(x, wrong_rate):
        a.annotate(f"{v:.1f}", (xi + 0.2, v), ha="center", va="bottom", fontsize=8)
    a.set_yscale("log")
    a.set_ylim(0.5, 1000)
    a.set_xticks(x, [f"{g.replace('_', chr(10))}\n(x{mult[g]:g})" for g in groups], fontsize=9)
    a.set_ylabel(f"per 1,000 persons over {D} days (log scale)")
    a.set_title("(a) Camera misidentification falls on\nthe groups NIST measured worse", fontsize=11)
    a.legend(fontsize=9, frameon=False, loc="upper left")

    # (b) chilling: events with deterrence / events without, by kind, 30-day windows
    d1, d0 = res.to_df("daily"), res0.to_df("daily")
    b = axes[1]
    colours = {"harmful": "#4d4d4d", "benign": "#2166ac", "prosocial": "#1b7837"}
    for kind, c in colours.items():
        ratio = d1[f"events_{kind}"].rolling(30).sum() / d0[f"events_{kind}"].rolling(30).sum()
        b.plot(d1["day"], 100 * (ratio - 1), color=c, label=kind)
    b.axhline(0, color="grey", lw=0.8)
    b.set_xlabel("day")
    b.set_ylabel("events vs. the same run without deterrence (%)")
    b.set_title("(b) Secret rules deter everything: benign\nand prosocial events fall too (30-day windows)", fontsize=11)
    b.legend(title="behaviour kind", fontsize=9, frameon=False)

    # (c) joint punishment: denials by service, wrongful ones marked
    s_all = res.to_df("services")
    pun = s_all[s_all["kind"] == "punishment"].groupby("service", observed=True)[["outcomes", "wrongful"]].sum()
    pun = pun.sort_values("outcomes")
    c = axes[2]
    y = np.arange(len(pun))
    c.barh(y, pun["outcomes"], color="#762a83")
    for yi, (n, w) in enumerate(zip(pun["outcomes"], pun["wrongful"])):
        c.annotate(f" {int(n):,} ({int(w)} wrongful)", (n, yi), va="center", fontsize=8)
    c.set_yticks(y, [s.replace("_", " ") for s in pun.index], fontsize=9)
    c.set_xscale("log")
    c.set_xlim(1, 10 ** np.ceil(np.log10(max(10, pun["outcomes"].max())) + 1))
    c.set_xlabel(f"denials over {D} days (log scale)")
    c.set_title("(c) The blacklist shuts many doors:\ndenials per service (wrongful in brackets)", fontsize=11)

    # (d) stress against deterrence: mean stress index by group, and harmful events averted per 1,000 persons
    e = axes[3]
    group_colours = dict(zip(groups, ["#92c5de", "#4393c3", "#f4a582", "#d6604d"]))
    daily_all_g = daily_g.set_index(["level", "day"])["stress_mean"]
    for g in groups:
        e.plot(d1["day"], daily_all_g.loc[g].to_numpy(), color=group_colours[g], label=g.replace("_", " "))
    e.plot(d0["day"], d0["stress_mean"], color="grey", ls=":", label="all, without deterrence")
    e.set_xlabel("day")
    e.set_ylabel("mean stress index (0-1000)")
    e.set_ylim(0, None)
    averted = 1000 * (d0["events_harmful"] - d1["events_harmful"]).cumsum() / P
    e2 = e.twinx()
    e2.plot(d1["day"], averted, color="black", ls="--", label="harmful events averted per 1,000 (right)")
    e2.set_ylabel("harmful events averted per 1,000 persons (cumulative)")
    e2.set_ylim(0, None)
    h1, l1 = e.get_legend_handles_labels()
    h2, l2 = e2.get_legend_handles_labels()
    e.legend(h1 + h2, l1 + l2, fontsize=9, frameon=False, loc="upper left")
    e.set_title("(d) What deterrence costs and buys: stress by group,\nbeside harmful events averted", fontsize=11)

    s = res.summary()
    fig.suptitle(
        f"full-system: {P:,} synthetic persons, {D} days, seed {res.meta['seed']} - "
        f"{s['blacklisted']:,} blacklisted at the end ({s['blacklisted_wrongly']} wrongly), "
        f"{s['records_false']:,} false records",
        fontsize=12,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")
    print("false camera records per 1,000:", {g: round(float(v), 1) for g, v in zip(groups, cam_rate)})
    print("wrongful denials per 1,000:", {g: round(float(v), 2) for g, v in zip(groups, wrong_rate)})
    for kind in colours:
        print(f"events_{kind}: {int(d1[f'events_{kind}'].sum()):,} with deterrence, {int(d0[f'events_{kind}'].sum()):,} without")
        last = d1[f"events_{kind}"].tail(30).sum() / d0[f"events_{kind}"].tail(30).sum()
        print(f"  last 30 days: {100 * (last - 1):+.1f}% against the run without deterrence")
    print("stress at the end by group:", {g: round(float(daily_all_g.loc[g].iloc[-1]), 1) for g in groups},
          "all", round(float(d1["stress_mean"].iloc[-1]), 1), "without deterrence", round(float(d0["stress_mean"].iloc[-1]), 1))
    print(f"harmful events averted per 1,000 persons: {float(averted.iloc[-1]):.0f}")


if __name__ == "__main__":
    size = [int(a) for a in sys.argv[1:3]]
    main(*size, *(Path(a) for a in sys.argv[3:4]))
