"""Figures of the power-and-time scenario pages: mandatory-2020, runaway-surveillance and it-fault.

Each scenario runs at its default size and seed (see its page), as shipped and
with the variants its page compares; the variants change one or two values with
``--set``-style overrides, so all runs of a scenario share their random numbers.

    PYTHONPATH=src python scripts/scenario_figures_power.py                    # all three (under half a minute on 2 cores)
    PYTHONPATH=src python scripts/scenario_figures_power.py --only runaway-surveillance

Writes docs/scenarios/figures/mandatory-2020.png, runaway-surveillance.png,
runaway-surveillance-variants.png and it-fault.png, and prints the figures the
pages quote.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import socialcredit as sc

OUT = Path(__file__).resolve().parent.parent / "docs" / "scenarios" / "figures"
FF = "detection.channels.patrol.follows_findings."


def by_region(res, column: str) -> pd.DataFrame:
    """A daily column by region: one row per day, one column per region."""
    d = res.to_df("daily", None)
    d = d[d["breakdown"] == "region"]
    return d.pivot(index="day", columns="level", values=column)[res.meta["regions"]]


# ---------------------------------------------------------------- mandatory-2020
def mandatory(persons: int | None) -> None:
    rb = sc.load("mandatory-2020", persons=persons)
    res = sc.run(rb)
    start = rb.simulation.start
    n = res.meta["persons"]
    dates = pd.to_datetime(
        [start + dt.timedelta(days=int(d)) for d in range(res.meta["days"])]
    )
    mandatory_day = rb.enrolment.mandatory_day(start)
    changes = sorted({c.day_number(start) for c in rb.timeline})

    enrolled = by_region(res, "enrolled")
    persons_r = by_region(res, "persons")
    listed = by_region(res, "blacklisted")
    daily = res.to_df("daily").set_index("day")

    fig, (ax1, ax2, ax3) = plt.subplots(
        1, 3, figsize=(16, 4.8), constrained_layout=True
    )
    colors = dict(
        zip(res.meta["regions"], ("crimson", "darkorange", "steelblue", "seagreen"))
    )
    for r in res.meta["regions"]:
        ax1.plot(
            dates,
            enrolled[r] / persons_r[r] * 100,
            color=colors[r],
            label=r.replace("_", " "),
        )
    ax1.plot(
        dates,
        daily["enrolled"] / n * 100,
        color="black",
        linestyle="--",
        label="everyone",
    )
    ax1.set_ylabel("enrolled (% of the region's adults)")
    ax1.set_title("Who is in the system")
    for r in res.meta["regions"]:
        ax2.plot(
            dates,
            listed[r] / persons_r[r] * 100_000,
            color=colors[r],
            label=r.replace("_", " "),
        )
    ax2.set_ylabel("listed persons per 100,000 adults of the region")
    ax2.set_title("Who is on the list (records count only once enrolled)")
    sv = res.to_df("services")
    sv = sv[sv["kind"] == "punishment"]
    month = pd.PeriodIndex(dates, freq="M")
    for s, color in (("flight", "black"), ("train", "purple"), ("loan", "grey")):
        x = (
            sv[sv["service"] == s]
            .set_index("day")["outcomes"]
            .reindex(range(len(dates)), fill_value=0)
        )
        m = x.groupby(month).sum()
        ax3.plot(
            m.index.to_timestamp(),
            m.to_numpy() * 100_000 / n,
            color=color,
            label=f"{s} refused",
        )
    ax3.set_ylabel("denials per month per 100,000 adults")
    ax3.set_title("Denials (train bans from 2018-05-01)")
    for ax in (ax1, ax2, ax3):
        for d in changes:
            ax.axvline(dates[d], color="grey", linewidth=0.6, linestyle=":")
        ax.axvline(dates[mandatory_day], color="black", linewidth=0.9, linestyle="--")
        ax.xaxis.set_major_locator(mdates.YearLocator())
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
        ax.legend(fontsize=8, loc="upper left")
    fig.suptitle(f"mandatory-2020: {n:,} simulated adults, seed {res.meta['seed']}, {start} to {dates[-1].date()}; "
                 f"dotted: timeline changes, dashed: everyone enrolled (2020-01-01)", fontsize=10)  # fmt: skip
    out = OUT / "mandatory-2020.png"
    fig.savefig(out, dpi=110)
    plt.close(fig)

    s = res.summary()
    print(f"mandatory-2020 ({n} persons): enrolled on day 0 {daily['enrolled'].iloc[0]}, "
          f"on 2015-12-31 {daily['enrolled'].loc[565]}, 2017-12-31 {daily['enrolled'].loc[1296]}, "
          f"2019-12-31 {daily['enrolled'].loc[mandatory_day - 1]}, 2020-01-01 {daily['enrolled'].loc[mandatory_day]}")  # fmt: skip
    for day in (565, 1296, mandatory_day - 1, res.meta["days"] - 1):
        shares = (enrolled.loc[day] / persons_r.loc[day] * 100).round(1).to_dict()
        print(f"  day {day} ({dates[day].date()}): enrolled % by region {shares}; listed {int(daily['blacklisted'].loc[day])} "
              f"by region {listed.loc[day].astype(int).to_dict()}")  # fmt: skip
    tr = sv[sv["service"] == "train"]
    bans = next(
        c.day_number(start) for c in rb.timeline if "services.train.demand" in c.set
    )
    print(f"  train denials before {dates[bans].date()}: {int(tr[tr['day'] < bans]['outcomes'].sum())}, "
          f"after: {int(tr[tr['day'] >= bans]['outcomes'].sum())}")  # fmt: skip
    print(f"  services: {s['services']}")
    print(f"wrote {out}")


# ---------------------------------------------------------------- runaway-surveillance
def coverage_wide(res) -> tuple[pd.DataFrame, pd.DataFrame]:
    cv = res.to_df("coverage")
    cov = cv.pivot_table(index="day", columns="region", values="coverage")[
        res.meta["regions"]
    ]
    rec = cv.pivot_table(
        index="day", columns="region", values="records", aggfunc="sum"
    )[res.meta["regions"]]
    return cov, rec


def expected_share(
    s0: float, days: int, period: int, memory: int, uniform: float, sharpness: float
) -> np.ndarray:
    """The first region's share of the coverage without noise: two equal regions, equal true rates.

    Records found each day are in proportion to the coverage, so the found share over the memory
    is the mean coverage share over those days; every period s' = u/2 + (1-u) g(found share),
    g(x) = x^a / (x^a + (1-x)^a).
    """
    s = np.empty(days)
    cur = s0
    for d in range(days):
        s[d] = cur
        if (d + 1) % period == 0:
            w = s[max(0, d - memory + 1) : d + 1]
            fe, fw = w.sum(), (1 - w).sum()
            cur = uniform / 2 + (1 - uniform) * fe**sharpness / (
                fe**sharpness + fw**sharpness
            )
    return s


def runaway(persons: int | None) -> None:
    shipped = sc.run(sc.load("runaway-surveillance", persons=persons))
    damped = sc.run(
        sc.load("runaway-surveillance", [FF + "uniform=0.6"], persons=persons)
    )
    n = shipped.meta["persons"]
    days = shipped.meta["days"]

    fig, axes = plt.subplots(
        2, 2, figsize=(12, 8), constrained_layout=True, sharex=True
    )
    colors = {"east": "crimson", "west": "steelblue"}
    for row, (res, label) in enumerate(((shipped, "as shipped (sharpness 2, uniform 0)"),
                                        (damped, "damped: --set ...follows_findings.uniform=0.6"))):  # fmt: skip
        cov, rec = coverage_wide(res)
        listed = by_region(res, "blacklisted").iloc[-1]
        ax = axes[row, 0]
        for r in cov.columns:
            ax.plot(cov.index, cov[r], color=colors[r], label=f"{r}")
        ax.set_ylabel("patrol coverage (share of incidents seen)")
        ax.set_ylim(0, max(0.65, cov.to_numpy().max() * 1.05))
        share = cov["east"] / cov.sum(axis=1)
        ax.set_title(
            f"{label}\ncoverage by district: the east holds {share.iloc[-1]:.0%} of the patrols on the last day"
        )
        ax.legend(fontsize=9)
        ax = axes[row, 1]
        full = rec.iloc[: len(rec) // 7 * 7]  # whole weeks only
        weekly = full.groupby(full.index // 7).sum()
        for r in weekly.columns:
            ax.plot(
                weekly.index * 7,
                weekly[r],
                color=colors[r],
                label=f"{r}: {int(rec[r].sum()):,} records, {int(listed[r])} listed at the end",
            )
        ax.set_ylabel("incidents recorded per week")
        tot = rec.sum()
        ax.set_title(
            f"records by district (the true rates are equal)\nthe east has {tot['east'] / tot.sum():.0%} of all records"
        )
        ax.legend(fontsize=9)
    for ax in axes[1]:
        ax.set_xlabel("day")
    fig.suptitle(
        f"runaway-surveillance: two districts of {n // 2:,} adults with the same true rate, seed {shipped.meta['seed']}",
        fontsize=11,
    )
    out = OUT / "runaway-surveillance.png"
    fig.savefig(out, dpi=110)
    plt.close(fig)

    # variants: the east's share of the patrols over time, and the one-step map
    variants = [
        ("as shipped: sharpness 2", [], "crimson", "-"),
        ("uniform 0.6 (damped)", [FF + "uniform=0.6"], "seagreen", "-"),
        ("sharpness 1 (Ensign's Polya urn)", [FF + "sharpness=1"], "darkorange", "-"),
        (
            "per_coverage (Ensign's correction)",
            [FF + "per_coverage=true"],
            "purple",
            "-",
        ),
    ]
    fig, (ax1, ax2) = plt.subplots(
        1,
        2,
        figsize=(14, 5),
        constrained_layout=True,
        gridspec_kw={"width_ratios": [1.6, 1]},
    )
    print(
        f"runaway-surveillance ({n} persons, seed {shipped.meta['seed']}): east's share of the patrols"
    )
    for label, ov, color, style in variants:
        res = (
            shipped
            if not ov
            else (
                damped
                if ov == [FF + "uniform=0.6"]
                else sc.run(sc.load("runaway-surveillance", ov, persons=persons))
            )
        )
        cov, rec = coverage_wide(res)
        share = cov["east"] / cov.sum(axis=1)
        ax1.plot(share.index, share, color=color, linestyle=style, label=label)
        after = share.iloc[7:]
        tot = rec.sum()
        listed = by_region(res, "blacklisted").iloc[-1]
        sv = res.to_df("services", None)
        loans = (
            sv[sv["breakdown"] == "region"]
            .groupby("level", observed=True)["outcomes"]
            .sum()
        )
        print(f"  {label:48s} day 28 {share.iloc[28]:.3f}, day 91 {share.iloc[91]:.3f}, last {share.iloc[-1]:.3f}; "
              f"range from day 7 {after.min():.3f}-{after.max():.3f}; records east/west {int(tot['east'])}/{int(tot['west'])} "
              f"({tot['east'] / tot.sum():.1%}); listed at the end east/west {int(listed['east'])}/{int(listed['west'])}; "
              f"loans refused east/west {int(loans['east'])}/{int(loans['west'])}")  # fmt: skip
    exp = expected_share(0.55, days, 7, 28, 0.0, 2.0)
    ax1.plot(
        np.arange(days),
        exp,
        color="black",
        linewidth=1,
        linestyle="--",
        label="expected without noise (sharpness 2, memory 28)",
    )
    exp7 = expected_share(0.55, 60, 7, 7, 0.0, 2.0)
    print(
        f"  expected without noise, memory 28: day 28 {exp[28]:.3f}, day 56 {exp[56]:.3f}, day 91 {exp[91]:.3f}; first day above 0.9: {int(np.argmax(exp > 0.9))}"
    )
    print(
        f"  the map s' = s^2/(s^2+(1-s)^2) from 0.55 (memory = period = 7): {[round(float(x), 3) for x in exp7[::7][:7]]}"
    )
    ax1.axhspan(0.4, 0.6, color="grey", alpha=0.12, linewidth=0)
    ax1.set_ylim(-0.02, 1.02)
    ax1.set_xlabel("day")
    ax1.set_ylabel("east's share of the patrols")
    ax1.set_title(
        "The early lead (0.55) under each allocation rule (grey band: 0.4-0.6)"
    )
    ax1.legend(fontsize=8, loc="lower right")

    x = np.linspace(0, 1, 201)
    g = x**2 / (x**2 + (1 - x) ** 2)
    ax2.plot(x, x, color="grey", linewidth=0.8, label="no change (s' = s)")
    for u, color in ((0.0, "crimson"), (0.4, "darkorange"), (0.6, "seagreen")):
        ax2.plot(
            x,
            u / 2 + (1 - u) * g,
            color=color,
            label=f"uniform {u}: s' = {u / 2:g} + {1 - u:g} g(s)"
            if u
            else "uniform 0: s' = g(s) = s²/(s²+(1-s)²)",
        )
    ax2.set_xlabel("east's share of the records found (s)")
    ax2.set_ylabel("east's share of the patrols next period (s')")
    ax2.set_title(
        "One reallocation (sharpness 2, two equal districts):\nthe even split is stable when uniform > 1/2"
    )
    ax2.legend(fontsize=8, loc="upper left")
    out2 = OUT / "runaway-surveillance-variants.png"
    fig.savefig(out2, dpi=110)
    plt.close(fig)
    print(f"wrote {out} and {out2}")


# ---------------------------------------------------------------- it-fault
def it_fault(persons: int | None) -> None:
    rb = sc.load("it-fault", persons=persons)
    fault_day = rb.faults[0].day
    # label, overrides, colour, line style, panels (1: wrongly listed, 2: wrongful denials, 3: appeals won)
    variants = [
        ("as shipped: 20% of the sanctioned appeal, half the false records overturned", [], "crimson", "-", (1, 2, 3)),
        ("no appeals", ["institutions.appeals.probability=0"], "black", "--", (1, 2)),
        ("every sanctioned person appeals, every false record overturned",
         ["institutions.appeals.probability=1", "institutions.appeals.success_false=1"], "seagreen", "-", (1, 2, 3)),
        ("a smaller fault: 3 records (-30 points)", ["faults.0.records=3"], "grey", ":", (1,)),
    ]  # fmt: skip
    fig, axes = plt.subplots(1, 3, figsize=(17, 6), constrained_layout=True)
    n = days = seed = 0
    for label, ov, color, style, panels in variants:
        res = sc.run(sc.load("it-fault", ov, persons=persons))
        n, days, seed = res.meta["persons"], res.meta["days"], res.meta["seed"]
        per = 100_000 / n
        if not ov:
            print(f"it-fault ({n} persons, seed {seed}, fault on day {fault_day}):")
        d = res.to_df("daily").set_index("day")
        short = label.split(":")[0]
        if 1 in panels:
            axes[0].plot(
                d.index,
                d["blacklisted_wrongly"] * per,
                color=color,
                linestyle=style,
                label=label,
            )
        if 2 in panels:
            x = d["denials_wrongful"]
            x = x.iloc[
                : (days - fault_day) // 7 * 7 + fault_day
            ]  # whole weeks counted from the fault day
            w = x.groupby((x.index - fault_day) // 7).sum()
            axes[1].plot(
                w.index * 7 + fault_day,
                w.to_numpy() * per,
                color=color,
                linestyle=style,
                label=short,
            )
        if 3 in panels:
            c = d["appeals_won_false"].loc[fault_day:].cumsum()
            axes[2].plot(
                c.index, c.to_numpy() * per, color=color, linestyle=style, label=short
            )
        bw = d["blacklisted_wrongly"]
        after = d.loc[fault_day:]
        won = after["appeals_won_false"].sum()
        mean_days = after["appeal_days_false"].sum() / won if won else float("nan")
        denied = after.index[after["denials_wrongful"] > 0]
        print(f"  {label}: fault records {int(d['records_fault'].sum())}; wrongly listed: day {fault_day - 1} "
              f"{int(bw.loc[fault_day - 1])}, day {fault_day} {int(bw.loc[fault_day])}, max {int(bw.loc[fault_day:].max())} "
              f"(day {int(bw.loc[fault_day:].idxmax())}), day {fault_day + 180} {int(bw.loc[fault_day + 180])}, "
              f"day {fault_day + 300} {int(bw.loc[fault_day + 300])}, day {fault_day + 366} {int(bw.loc[fault_day + 366])}, "
              f"last {int(bw.iloc[-1])}; wrongful denials before {int(d['denials_wrongful'].loc[:fault_day - 1].sum())}, "
              f"after {int(after['denials_wrongful'].sum())} (first on day {int(denied[0]) if denied.size else -1}); "
              f"appeals filed {int(after['appeals_filed'].sum())}, false records overturned {int(won)}, "
              f"mean days a false record counted before it was overturned {mean_days:.0f}")  # fmt: skip
    marks = ((fault_day, "fault"), (fault_day + 30, "+30: warning ends"), (fault_day + 180, "+180: list minimum"),
             (fault_day + 365, "+365: false records expire"))  # fmt: skip
    for ax in axes:
        ax.set_xlim(fault_day - 60, days)
        ax.set_ylim(bottom=0)
        for day, text in marks:
            ax.axvline(day, color="grey", linewidth=0.7, linestyle=":")
            ax.text(
                day + 4,
                ax.get_ylim()[1] * 0.02,
                text,
                rotation=90,
                fontsize=7,
                color="grey",
                va="bottom",
            )
        ax.set_xlabel("day")
    axes[0].set_ylabel("persons listed only because of false records, per 100,000")
    axes[0].set_title("Wrongly listed residents")
    axes[0].legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13))
    axes[1].set_ylabel("wrongful denials per week, per 100,000")
    axes[1].set_title("Flights, trains, loans and public jobs refused wrongly")
    axes[1].legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13))
    axes[2].set_ylabel("false records overturned since the fault, per 100,000")
    axes[2].set_title("Appeals won on false records (one record per appeal)")
    axes[2].legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13))
    f = rb.faults[0]
    fig.suptitle(f"it-fault: {n:,} simulated adults, seed {seed}; on day {fault_day} {f.share:.0%} of residents get "
                 f"{f.records} false bank-arrears records ({f.records * -10} points)", fontsize=11)  # fmt: skip
    out = OUT / "it-fault.png"
    fig.savefig(out, dpi=110)
    plt.close(fig)
    print(f"wrote {out}")


FIGURES = {
    "mandatory-2020": mandatory,
    "runaway-surveillance": runaway,
    "it-fault": it_fault,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--only",
        choices=sorted(FIGURES),
        action="append",
        help="make only this scenario's figures (repeatable)",
    )
    ap.add_argument(
        "--persons", type=int, default=None, help="default: each scenario's own"
    )
    args = ap.parse_args()
    for name in args.only or list(FIGURES):
        FIGURES[name](args.persons)


if __name__ == "__main__":
    main()
