"""The report's figures: one function per figure, each telling one part of a run's story.

Every function takes a run's :class:`~socialcredit.results.Results` (and,
optionally, a baseline run of the same rulebook and seed with the society's
behavioural responses switched off) and returns a matplotlib ``Figure``, or
``None`` when the run has nothing to show for it (no services, a network
that never changed, a single group). The figure's title states the finding;
panel titles and axis labels say what is measured and in which unit, so the
figures can be read without the text around them.

Figures are built as plain ``matplotlib.figure.Figure`` objects on the Agg
canvas: nothing is registered with pyplot, nothing opens a window, and
nothing needs closing. :data:`FIGURES` lists them in the report's order with
the note the report shows when one is skipped; :data:`MECHANISM_FIGURES`
follows with the figures of mechanisms a rulebook may have (enrolment,
faults, targeting, surveillance that follows its findings), and
:data:`~socialcredit.report.households.HOUSEHOLD_FIGURES` with those of
households, work and credit (children, lending, company sanctions and
emotion monitoring, partners chosen by score, the commercial score, stress),
each in the report only when the run has it (:func:`figures_for`). The
style, colours and helpers they share are in :mod:`socialcredit.report.common`.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from socialcredit.analysis.behaviour import baseline_overrides, behaviour_change
from socialcredit.analysis.disparity import disparate_impact
from socialcredit.analysis.errors import (
    blacklist_false_share,
    false_records_by_channel,
    wrongful_denials_by_service,
)
from socialcredit.analysis.faults import WINDOWS, coverage_concentration, fault_cascades, fault_days
from socialcredit.analysis.segregation import network_series
from socialcredit.literal import figures
from socialcredit.report.common import (  # noqa: F401  (DPI, WIDTH: re-exported with the style)
    BASELINE,
    COUNT,
    DPI,
    JUST,
    KIND_COLOURS,
    LISTED,
    RED,
    RUN,
    STYLE,
    WIDTH,
    WRONG,
    FigureSpec,
    _caption,
    _cells,
    _colours,
    _daily,
    _empty_panel,
    _figure,
    _finding,
    _levels,
    _pct,
    _persons,
    _rulebook,
    _total,
    png_bytes,
)
from socialcredit.report.households import HOUSEHOLD_FIGURES
from socialcredit.results import KINDS

# --------------------------------------------------------------------------- scores


def scores(res, baseline=None) -> Figure | None:
    """Score distribution over time (mean, median and 10th-90th percentile band) and the Gini coefficient of scores."""
    d = _daily(res)
    if d.empty:
        return None
    days = d["day"].to_numpy()
    fig, axes = _figure(2, 1, height=6.4, sharex=True, gridspec_kw={"height_ratios": [2.2, 1]})
    ax = axes[0, 0]
    ax.fill_between(days, d["score_p10"], d["score_p90"], color=RUN, alpha=0.18, linewidth=0, label="10th-90th percentile")
    ax.plot(days, d["score_mean"], color=RUN, linewidth=2, label="mean")
    ax.plot(days, d["score_p50"], color=RUN, linewidth=1, linestyle=":", label="median")
    if baseline is not None:
        b = _daily(baseline)
        ax.plot(b["day"], b["score_mean"], color=BASELINE, linewidth=1.5, linestyle="--", label="mean, baseline (no behavioural responses)")
    ax.set_title("Score of residents")
    ax.set_ylabel("score (points)")
    ax.legend(loc="best")
    ax = axes[1, 0]
    ax.plot(days, d["score_gini"], color="#7d3c98", linewidth=1.8)
    ax.set_title("Inequality of scores (Gini coefficient: 0 = all equal, 1 = one resident holds all points)")
    ax.set_ylabel("Gini coefficient")
    ax.set_xlabel("day of the run")
    first, last = d.iloc[0], d.iloc[-1]
    gini = ""
    if np.isfinite(first["score_gini"]) and np.isfinite(last["score_gini"]):
        gini = f"; Gini {first['score_gini']:.3f} → {last['score_gini']:.3f}"
    _finding(fig, 
        f"Mean score {first['score_mean']:.4g} → {last['score_mean']:.4g} points; "
        f"the 10th-90th percentile band spans {last['score_p90'] - last['score_p10']:.3g} points at the end{gini}"
    )
    _caption(fig, res)
    return fig


# --------------------------------------------------------------------------- tiers


def tiers(res, baseline=None) -> Figure | None:
    """The share of residents in each tier over time, stacked (best tier on top), and the tiers below the most common one enlarged."""
    tier_names = list(res.meta.get("tiers", []))
    if len(tier_names) < 2:
        return None
    d = _daily(res)
    days = d["day"].to_numpy()
    colour = dict(zip(tier_names, matplotlib.colormaps["RdYlGn"](np.linspace(0.92, 0.08, len(tier_names)))))
    last = d.iloc[-1]
    label = {t: f"{t} ({_pct(last[f'share_{t}'])} at the end)" for t in tier_names}
    # the tiers below the one most residents start in: where the system's punishments show
    start_mode = max(tier_names, key=lambda t: d[f"share_{t}"].iloc[0])
    lower = tier_names[tier_names.index(start_mode) + 1 :]
    zoom = bool(lower) and d[[f"share_{t}" for t in lower]].to_numpy().max() > 0
    fig, axes = _figure(1, 2 if zoom else 1, height=5.0, gridspec_kw={"width_ratios": [1.3, 1]} if zoom else None)
    ax = axes[0, 0]
    order = tier_names[::-1]  # worst tier at the bottom of the stack, best on top
    ax.stackplot(days, [d[f"share_{t}"].to_numpy() * 100 for t in order], labels=[label[t] for t in order],
                 colors=[colour[t] for t in order], linewidth=0)  # fmt: skip
    ax.set_ylim(0, 100)
    ax.set_xlim(days[0], days[-1])
    ax.set_title("Share of residents in each tier (stacked)")
    ax.set_ylabel("share of residents (%)")
    ax.set_xlabel("day of the run")
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels[::-1], loc="upper left", bbox_to_anchor=(1.01, 1.0) if not zoom else (0.0, -0.16),
              ncol=1 if not zoom else 3, title="tier")  # fmt: skip
    if zoom:
        ax = axes[0, 1]
        low = lower[::-1]
        ax.stackplot(days, [d[f"share_{t}"].to_numpy() * 100 for t in low], labels=low, colors=[colour[t] for t in low], linewidth=0)
        ax.set_xlim(days[0], days[-1])
        ax.set_ylim(bottom=0)
        ax.set_title(f"Enlarged: the tiers below {start_mode} (stacked)")
        ax.set_ylabel("share of residents (%)")
        ax.set_xlabel("day of the run")
        h, lab = ax.get_legend_handles_labels()
        ax.legend(h[::-1], lab[::-1], loc="upper left", title="tier")
    bottom = tier_names[-2:]
    start = sum(d[f"share_{t}"].iloc[0] for t in bottom)
    end = sum(d[f"share_{t}"].iloc[-1] for t in bottom)
    _finding(fig, f"Residents in the bottom tiers ({', '.join(bottom)}): {_pct(start)} on day 0 → {_pct(end)} on the last day")
    _caption(fig, res)
    return fig


# --------------------------------------------------------------------------- lists


def lists(res, baseline=None) -> Figure | None:
    """Blacklist and redlist sizes over time, with the residents blacklisted only because of false records."""
    d = _daily(res)
    if d.empty or (d["blacklisted"].max() == 0 and d["redlisted"].max() == 0):
        return None
    n = _persons(res)
    days = d["day"].to_numpy()
    fig, axes = _figure(height=5.0)
    ax = axes[0, 0]
    ax.plot(days, d["blacklisted"] / n * 100, color=LISTED, linewidth=2, label="blacklisted")
    ax.fill_between(days, 0, d["blacklisted_wrongly"] / n * 100, color=WRONG, alpha=0.35, linewidth=0)
    ax.plot(days, d["blacklisted_wrongly"] / n * 100, color=WRONG, linewidth=1.5, label="blacklisted only because of false records")
    if d["redlisted"].max() > 0:
        ax.plot(days, d["redlisted"] / n * 100, color=RED, linewidth=1.5, linestyle="--", label="redlisted (rewarded list)")
    ax.set_title("Residents on the blacklist and the redlist")
    ax.set_ylabel("share of residents (%)")
    ax.set_xlabel("day of the run")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left")
    last = d.iloc[-1]
    if last["blacklisted"] > 0:
        finding = (
            f"At the end {int(last['blacklisted']):,} residents ({_pct(last['blacklisted'] / n)}) are blacklisted; "
            f"{int(last['blacklisted_wrongly']):,} of them only because of false records"
        )
    else:
        finding = f"No one is blacklisted at the end; {int(d['blacklist_entries'].sum()):,} blacklist entries over the run"
    _finding(fig, finding)
    _caption(fig, res)
    return fig


# --------------------------------------------------------------------------- denials


def _rewards(res) -> pd.DataFrame:
    """Reward services over the run: attempts, granted, and lost only because of false records."""
    svc = res.to_df("services")
    svc = svc[svc["kind"] == "reward"]
    if svc.empty:
        return pd.DataFrame(columns=["service", "attempts", "granted", "lost"])
    out = svc.groupby("service", observed=True)[["attempts", "outcomes", "wrongful"]].sum().reset_index()
    return out.rename(columns={"outcomes": "granted", "wrongful": "lost"})


def denials(res, baseline=None) -> Figure | None:
    """Denials per punishing service over the run, the wrongful ones (caused by false records) shaded; rewards lost to false records."""
    punish = wrongful_denials_by_service(res)
    punish = punish[punish["kind"] == "punishment"].reset_index(drop=True)
    reward = _rewards(res)
    if punish["denied"].sum() == 0 and reward["lost"].sum() == 0:
        return None
    panels = [("punishment", punish)] if len(punish) else []
    if reward["lost"].sum() > 0:
        panels.append(("reward", reward))
    fig, axes = _figure(1, len(panels), height=2.4 + 0.5 * max(len(p) for _, p in panels))
    days = int(res.meta.get("days", 0))
    for ax, (kind, part) in zip(axes[0], panels):
        y = np.arange(len(part))[::-1]
        if kind == "punishment":
            rightful = part["denied"] - part["wrongful"]
            ax.barh(y, rightful, color=JUST, label="denied by true records")
            ax.barh(y, part["wrongful"], left=rightful, color=WRONG, hatch="//", edgecolor="white",
                    label="wrongful: denied only because of false records")  # fmt: skip
            ax.set_title("Denials per service")
            ax.set_xlabel(f"denials over {days:,} days (count)")
            for yi, den, wr in zip(y, part["denied"], part["wrongful"]):
                ax.text(den, yi, f"  {int(den):,} ({_pct(wr / den) if den else '0%'} wrongful)", va="center", fontsize=9)
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16 - 0.3 / len(part)), ncol=2)
        else:
            ax.barh(y, part["lost"], color=WRONG, hatch="//", edgecolor="white")
            ax.set_title("Rewards lost only because of false records")
            ax.set_xlabel(f"rewards not granted over {days:,} days (count)")
            for yi, g, lost in zip(y, part["granted"], part["lost"]):
                ax.text(lost, yi, f"  {int(lost):,} lost ({int(g):,} granted)", va="center", fontsize=9)
        ax.set_yticks(y, part["service"].astype(str))
        ax.xaxis.set_major_formatter(COUNT)
        ax.grid(axis="y", visible=False)
        ax.margins(x=0.45 if kind == "punishment" else 0.7)
    denied = int(punish["denied"].sum())
    wrongful = int(punish["wrongful"].sum())
    if denied:
        finding = f"{wrongful:,} of {denied:,} denials ({_pct(wrongful / denied)}) were caused by false records"
    else:
        finding = "No service denied anyone"
    if reward["lost"].sum() > 0:
        finding += f"; {int(reward['lost'].sum()):,} rewards were lost to false records"
    _finding(fig, finding)
    _caption(fig, res)
    return fig


# --------------------------------------------------------------------------- errors and appeals


def errors(res, baseline=None) -> Figure | None:
    """False records by channel, the blacklist's share due to false records over time, and appeals."""
    d = _daily(res)
    appeals = d[["appeals_filed", "appeals_won", "appeals_won_false", "appeals_lost"]].sum()
    records_false = int(d["records_false"].sum())
    if records_false == 0 and appeals["appeals_filed"] == 0:
        return None
    fig, axes = _figure(1, 3, height=4.6)
    days = d["day"].to_numpy()

    ax = axes[0, 0]
    ch = false_records_by_channel(res)
    ch = ch[(ch["records_true"] + ch["records_false"]) > 0].reset_index(drop=True)
    if len(ch):
        y = np.arange(len(ch))[::-1]
        ax.barh(y, ch["false_share"] * 100, color=WRONG)
        for yi, share, nf in zip(y, ch["false_share"], ch["records_false"]):
            ax.text(share * 100, yi, f"  {_pct(share)} ({int(nf):,})", va="center", fontsize=9)
        ax.set_yticks(y, ch["channel"].astype(str))
        ax.grid(axis="y", visible=False)
        ax.margins(x=0.45)
        ax.set_xlabel("false records (% of the channel's records)")
        ax.set_title("False records by channel")
    else:
        _empty_panel(ax, "no records were made")

    ax = axes[0, 1]
    bl = blacklist_false_share(res)
    if len(bl) and bl["blacklisted"].max() > 0:
        ax.plot(bl["day"], bl["share"] * 100, color=WRONG, linewidth=1.8)
        ax.set_ylim(0, max(5.0, 1.1 * float(np.nanmax(bl["share"].to_numpy(np.float64))) * 100))
        ax.set_xlabel("day of the run")
        ax.set_ylabel("% of the blacklist")
        ax.set_title("Blacklisted only because of false records")
    else:
        _empty_panel(ax, "no one was blacklisted,\nso no one was blacklisted wrongly")

    ax = axes[0, 2]
    if appeals["appeals_filed"] > 0:
        ax.plot(days, d["appeals_filed"].cumsum(), color=LISTED, linewidth=1.8, label="filed")
        ax.plot(days, d["appeals_won"].cumsum(), color=RED, linewidth=1.5, label="won")
        ax.plot(days, d["appeals_won_false"].cumsum(), color=WRONG, linewidth=1.5, linestyle="--", label="won against a false record")
        ax.plot(days, d["appeals_lost"].cumsum(), color=JUST, linewidth=1.2, linestyle=":", label="lost")
        ax.set_xlabel("day of the run")
        ax.set_ylabel("appeals so far (count)")
        ax.set_title("Appeals")
        ax.legend(loc="upper left")
    else:
        _empty_panel(ax, "no appeals: this scenario\nhas no appeal procedure,\nor no one used it")

    total = int(d["records_true"].sum()) + records_false
    finding = f"{records_false:,} of {total:,} records ({_pct(records_false / total if total else 0)}) were false"
    if appeals["appeals_filed"] > 0:
        finding += (
            f"; {int(appeals['appeals_filed']):,} appeals overturned {int(appeals['appeals_won_false']):,} false records"
        )
    else:
        finding += "; no appeals were filed"
    _finding(fig, finding)
    _caption(fig, res)
    return fig


# --------------------------------------------------------------------------- disparities

DISPARITY_MEASURES = {  # measure of disparate_impact -> axis label
    "records": "records",
    "false_records": "false\nrecords",
    "blacklist_entries": "blacklist\nentries",
    "denials": "denials",
    "wrongful_denials": "wrongful\ndenials",
}
MIN_COUNT = 5  # the headline names a disparity only where the level has at least this many events


def disparities(res, baseline=None) -> Figure | None:
    """Rates per 1,000 residents by group and by region, and each level's ratio to the best-treated (four-fifths rule)."""
    parts = []
    for by in ("group", "region"):
        if len(res.meta.get(f"{by}s", [])) >= 2:
            parts.append((by, disparate_impact(res, by=by)))
    if not parts:
        return None
    fig, axes = _figure(len(parts), 2, height=4.3 * len(parts), gridspec_kw={"width_ratios": [1.25, 1]})
    worst = None  # (ratio, by, row of the table, measure)
    absent: set[str] = set()
    for row, (by, table) in enumerate(parts):
        measures = [m for m in DISPARITY_MEASURES if table[m].sum() > 0]
        absent |= {m for m in DISPARITY_MEASURES if table[m].sum() == 0}
        levels = table["level"].astype(str).tolist()
        colours = matplotlib.colormaps["tab10"](np.arange(len(levels)) % 10)
        width = 0.8 / len(levels)
        x = np.arange(len(measures))
        offsets = [(k - (len(levels) - 1) / 2) * width for k in range(len(levels))]
        ax = axes[row, 0]
        for k, level in enumerate(levels):
            ax.bar(x + offsets[k], [table[f"{m}_per_1000"].iloc[k] for m in measures], width, color=colours[k], label=level)
        ax.set_xticks(x, [DISPARITY_MEASURES[m] for m in measures])
        ax.set_yscale("symlog", linthresh=1)
        ax.set_ylim(bottom=0)
        ax.set_ylabel("per 1,000 residents over the run\n(log scale)")
        ax.set_title(f"Rates by {by}")
        ax.grid(axis="x", visible=False)
        ax.legend(title=by, loc="upper right")
        ax = axes[row, 1]
        for k, level in enumerate(levels):
            ax.bar(x + offsets[k], [table[f"ratio_{m}"].iloc[k] for m in measures], width, color=colours[k])
            for m in measures:
                r = table[f"ratio_{m}"].iloc[k]
                if np.isfinite(r) and table[m].iloc[k] >= MIN_COUNT and (worst is None or r < worst[0]):
                    worst = (r, by, table.iloc[k], m)
        ax.axhline(0.8, color=WRONG, linestyle="--", linewidth=1.2, label="four-fifths line")
        ax.axhline(1.0, color="#999999", linewidth=0.8)
        ax.set_xticks(x, [DISPARITY_MEASURES[m] for m in measures])
        ax.set_ylim(0, 1.3)
        ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
        ax.set_ylabel("best-treated rate ÷ this rate")
        ax.set_title(f"Ratio to the best-treated {by}")
        ax.grid(axis="x", visible=False)
        ax.legend(loc="upper right")
    if worst is not None and worst[0] < 0.8:
        r, by, level, m = worst
        what = DISPARITY_MEASURES[m].replace("\n", " ")
        rate = level[f"{m}_per_1000"]
        if r > 0:
            finding = f"The {by} '{level['level']}' has {what} at {1 / r:.1f}× the rate of the best-treated {by} ({rate:,.3g} per 1,000)"
        else:
            finding = f"The {by} '{level['level']}' has {rate:,.3g} {what} per 1,000 residents; the best-treated {by} has none"
    else:
        finding = f"No group or region has a ratio below 0.8 on any measure with at least {MIN_COUNT} events"
    _finding(fig, finding)
    note = "rates count events over the whole run per 1,000 residents of the group or region; below the four-fifths line (0.8): adverse impact"
    if absent:
        note += "; none in this run: " + ", ".join(DISPARITY_MEASURES[m].replace("\n", " ") for m in DISPARITY_MEASURES if m in absent)
    _caption(fig, res, note)
    return fig


# --------------------------------------------------------------------------- network

TIE_CHANGES = ("ties_dropped_unfriending", "ties_rewired", "ties_dropped_shaming")


def network(res, baseline=None) -> Figure | None:
    """Isolation (friends per person: blacklisted against others) and segregation (score and tier assortativity) over time."""
    d = _daily(res)
    if d[list(TIE_CHANGES)].to_numpy().sum() == 0:
        return None  # a fixed network: nothing segregates over time
    net = network_series(res)
    if len(net) < 2:
        return None
    fig, axes = _figure(1, 2, height=4.6)
    ax = axes[0, 0]
    ax.plot(net["day"], net["degree_others"], color=RUN, marker="o", markersize=3, linewidth=1.8, label="residents not blacklisted")
    ax.plot(net["day"], net["degree_blacklisted"], color=LISTED, marker="o", markersize=3, linewidth=1.8, label="blacklisted residents")
    ax.set_ylim(bottom=0)
    ax.set_title("Isolation: friends per resident")
    ax.set_ylabel("friends per resident (mean)")
    ax.set_xlabel("day of the run")
    ax.legend(loc="lower left")
    ax = axes[0, 1]
    ax.plot(net["day"], net["score_assortativity"], color="#7d3c98", marker="o", markersize=3, linewidth=1.8, label="by score")
    ax.plot(net["day"], net["tier_assortativity"], color="#d68910", marker="o", markersize=3, linewidth=1.5, label="by tier")
    ax.axhline(0, color="#999999", linewidth=0.8)
    ax.set_title("Segregation: assortativity of friendships")
    ax.set_ylabel("assortativity (0 = friends mixed, 1 = alike)")
    ax.set_xlabel("day of the run")
    ax.legend(loc="upper left")
    end = net.iloc[-1]
    start = net.iloc[0]
    dropped = int(d[list(TIE_CHANGES[::2])].to_numpy().sum())
    if np.isfinite(end["degree_blacklisted"]):
        finding = (
            f"At the end the blacklisted have {end['degree_blacklisted']:.1f} friends against {end['degree_others']:.1f} for others; "
            f"score assortativity {start['score_assortativity']:.3f} → {end['score_assortativity']:.3f}"
        )
    else:
        finding = f"{dropped:,} friendships dropped; score assortativity {start['score_assortativity']:.3f} → {end['score_assortativity']:.3f}"
    _finding(fig, finding)
    _caption(fig, res, f"{dropped:,} ties dropped by unfriending and shaming over the run; measured every 30 days")
    return fig


# --------------------------------------------------------------------------- behaviour


def events_per_1000(res, window: int = 7) -> pd.DataFrame:
    """Behaviour events per 1,000 persons a day by kind (a ``window``-day mean): day and one column per kind."""
    d = _daily(res)
    n = _persons(res)
    out = pd.DataFrame({"day": d["day"]})
    for k in KINDS:
        out[k] = (d[f"events_{k}"] / n * 1000).rolling(window, min_periods=1).mean()
    return out


def _no_baseline_note(res) -> str:
    if res.rulebook_yaml and not baseline_overrides(res):
        return "this rulebook has no behavioural responses: people act at the rates the rulebook gives, whatever their score"
    return "no baseline: run with --report --baseline (or report --baseline RUN) for the change the system causes"


def behaviour(res, baseline=None) -> Figure | None:
    """Behaviour events by kind over time; with a baseline, the change the system caused (deterrence, chilling, gaming)."""
    d = _daily(res)
    if sum(d[f"events_{k}"].sum() for k in KINDS) == 0:
        return None
    ev = events_per_1000(res)
    if baseline is None:
        fig, axes = _figure(height=4.6)
        ax = axes[0, 0]
        for k in KINDS:
            ax.plot(ev["day"], ev[k], color=KIND_COLOURS[k], linewidth=1.6, label=k)
        ax.set_title("Behaviour events by kind")
        ax.set_ylabel("events per 1,000 residents per day\n(7-day mean)")
        ax.set_xlabel("day of the run")
        ax.set_ylim(0, 1.25 * float(ev[list(KINDS)].max().max()))
        ax.legend(loc="upper center", ncol=3)
        totals = {k: int(d[f"events_{k}"].sum()) for k in KINDS}
        _finding(fig, "Behaviour events: " + ", ".join(f"{v:,} {k}" for k, v in totals.items()))
        _caption(fig, res, _no_baseline_note(res))
        return fig

    change = behaviour_change(res, baseline)
    base = events_per_1000(baseline)
    fig, axes = _figure(1, 2, height=4.8, gridspec_kw={"width_ratios": [1.6, 1]})
    ax = axes[0, 0]
    for k in KINDS:
        ax.plot(ev["day"], ev[k], color=KIND_COLOURS[k], linewidth=1.6, label=f"{k}")
        ax.plot(base["day"], base[k], color=KIND_COLOURS[k], linewidth=1.2, linestyle="--", alpha=0.8)
    ax.plot([], [], color="#555555", linestyle="--", label="baseline (dashed)")
    ax.set_title("Behaviour events by kind: run (solid) and baseline (dashed)")
    ax.set_ylabel("events per 1,000 residents per day\n(7-day mean)")
    ax.set_xlabel("day of the run")
    ax.set_ylim(0, 1.3 * float(max(ev[list(KINDS)].max().max(), base[list(KINDS)].max().max())))
    ax.legend(loc="upper center", ncol=4)
    ax = axes[0, 1]
    change = change.set_index("kind").reindex(KINDS)
    x = np.arange(len(KINDS))
    change_pct = change["effect_size"] * 100
    err = change["se"] * 100
    has_err = bool(np.isfinite(err).any())
    ax.bar(x, change_pct.fillna(0), color=[KIND_COLOURS[k] for k in KINDS], yerr=1.96 * err.fillna(0) if has_err else None, capsize=4)
    ax.axhline(0, color="#555555", linewidth=0.8)
    ax.set_xticks(x, [f"{k}\n({change.loc[k, 'effect']})" for k in KINDS])
    ax.grid(axis="x", visible=False)
    ax.set_ylabel("events, run against baseline (% change)")
    ax.set_title("Change" + (" (with 95% interval)" if has_err else ""))
    parts = [f"{change.loc[k, 'effect']}: {k} events {change_pct[k]:+.1f}%" for k in KINDS if np.isfinite(change_pct[k])]
    _finding(fig, "Against the baseline without responses: " + "; ".join(parts) if parts else "The baseline has no events to compare")
    _caption(fig, res, "baseline: the same rulebook and seed with deterrence, gaming and income responses off")
    return fig


# --------------------------------------------------------------------------- mechanisms: shown only when the run has them
# Enrolment, faults, targeting and surveillance that follows its findings are sections of the report only when
# the run's rulebook has them (and the run folder holds their data: a folder written before they existed has
# neither). Without a rulebook (results from Sim.run), the data decide.


def has_enrolment(res) -> bool:
    """The rulebook has an ``enrolment`` section and the daily table counts the enrolled."""
    if "enrolled" not in res.daily.columns:
        return False
    rb = _rulebook(res)
    if rb is not None:
        return rb.enrolment is not None
    return bool((res.daily["enrolled"] != res.daily["persons"]).any())


def fault_days_of(res) -> list[int]:
    """The days of the run's faults: the rulebook's (within the run), else the days faults wrote records."""
    d = _daily(res)
    rb = _rulebook(res)
    if rb is not None:
        days = sorted(set(fault_days(rb)))
        return [day for day in days if len(d) and d["day"].iloc[0] <= day <= d["day"].iloc[-1]]
    if "records_fault" not in d.columns:
        return []
    return [int(x) for x in d.loc[d["records_fault"] > 0, "day"]]


def _has(res, column: str, section: str) -> bool:
    """The daily table counts ``column`` and the rulebook has ``section`` (without a rulebook: some were counted)."""
    if column not in res.daily.columns:
        return False
    rb = _rulebook(res)
    if rb is not None:
        return bool(getattr(rb, section))
    return _total(_daily(res), column) > 0


def has_faults(res) -> bool:
    """The rulebook has faults and the daily table counts their records."""
    return _has(res, "records_fault", "faults")


def has_targeting(res) -> bool:
    """The rulebook aims records at people and the daily table counts them."""
    return _has(res, "records_targeted", "targeting")


def has_coverage(res) -> bool:
    """A channel follows its findings: the run has a ``coverage`` table."""
    return getattr(res, "coverage", None) is not None and len(res.coverage) > 0


def enrolment(res, baseline=None) -> Figure | None:
    """The share of residents enrolled in the system over time, by region (and by group), with everyone's."""
    d = _daily(res)
    regions = _cells(res, "region")
    if d.empty or "enrolled" not in d.columns:
        return None
    days = d["day"].to_numpy()
    whole = d["enrolled"].to_numpy(np.float64) / d["persons"].where(d["persons"] > 0).to_numpy(np.float64) * 100
    groups = _cells(res, "group")
    by = [("region", regions)] + ([("group", groups)] if len(_levels(res, "group")) >= 2 else [])
    fig, axes = _figure(1, len(by), height=4.6)
    rb = _rulebook(res)
    mandatory = rb.enrolment.mandatory_day(rb.simulation.start) if rb is not None and rb.enrolment is not None else None
    for ax, (what, cells) in zip(axes[0], by):
        names = _levels(res, what)
        colour = _colours(names)
        for name in names:
            c = cells[cells["level"] == name]
            share = c["enrolled"].to_numpy(np.float64) / c["persons"].where(c["persons"] > 0).to_numpy(np.float64) * 100
            ax.plot(c["day"], share, color=colour[name], linewidth=1.8,
                    label=f"{name} ({share[0]:.0f}% → {share[-1]:.0f}%)" if len(share) else name)  # fmt: skip
        ax.plot(days, whole, color=LISTED, linewidth=1.4, linestyle="--", label="all residents")
        if mandatory is not None and days[0] <= mandatory <= days[-1]:
            ax.axvline(mandatory, color=BASELINE, linewidth=1.2, linestyle=":", label=f"enrolment mandatory (day {mandatory})")
        ax.set_ylim(0, 105)
        ax.set_xlim(days[0], days[-1])
        ax.set_title(f"Residents in the system, by {what}")
        ax.set_ylabel("enrolled (% of the residents)")
        ax.set_xlabel("day of the run")
        ax.legend(loc="lower right", title=what)
    first_regions = regions[regions["day"] == days[0]]
    start = ", ".join(
        f"{r.level} {_pct(r.enrolled / r.persons if r.persons else 0)}" for r in first_regions.itertuples() if r.level in _levels(res, "region")
    )
    _finding(fig, f"{_pct(whole[0] / 100)} of residents are in the system on day {days[0]} ({start}); "
                  f"{_pct(whole[-1] / 100)} on the last day")  # fmt: skip
    _caption(fig, res, "residents not enrolled are neither scored nor sanctioned")
    return fig


def _mark_faults(ax, days: list[int], label: bool = False) -> None:
    for k, day in enumerate(days):
        ax.axvline(day, color=WRONG, linewidth=1.0, linestyle="--", alpha=0.7, label="fault" if label and k == 0 else None)


def _cascades(res) -> pd.DataFrame:
    return fault_cascades(res.daily, days=fault_days_of(res))


def faults(res, baseline=None) -> Figure | None:
    """The cascade after a fault: the false records it wrote, the wrongful listings, denials and appeals that followed."""
    d = _daily(res)
    if d.empty or "records_fault" not in d.columns:
        return None
    fdays = fault_days_of(res)
    if not fdays:
        return None
    days = d["day"].to_numpy()
    fig, axes = _figure(2, 2, height=6.8, sharex=True)
    ax = axes[0, 0]
    ax.bar(days, d["records_fault"], width=1.0, color=WRONG)
    ax.set_title("False records written by the fault" + ("s" if len(fdays) > 1 else ""))
    ax.set_ylabel("records a day (count)")
    ax = axes[0, 1]
    ax.plot(days, d["blacklisted_wrongly"], color=WRONG, linewidth=1.8, label="blacklisted only because of false records")
    ax.set_title("Blacklisted only because of false records")
    ax.set_ylabel("residents (count)")
    ax.set_ylim(bottom=0)
    ax = axes[1, 0]
    if "denials_wrongful" in d.columns:
        ax.plot(days, d["denials_wrongful"].rolling(7, min_periods=1).sum(), color=WRONG, linewidth=1.8, label="wrongful denials")
    if _total(d, "rewards_lost") > 0:
        ax.plot(days, d["rewards_lost"].rolling(7, min_periods=1).sum(), color=RED, linewidth=1.4, linestyle="--",
                label="rewards lost to false records")  # fmt: skip
    ax.set_title("Wrongful denials (7-day sums)")
    ax.set_ylabel("over the last 7 days (count)")
    ax.set_ylim(bottom=0)
    ax = axes[1, 1]
    ax.plot(days, d["appeals_won_false"].rolling(7, min_periods=1).sum(), color=RUN, linewidth=1.8)
    ax.set_title("False records overturned on appeal (7-day sums)")
    ax.set_ylabel("over the last 7 days (count)")
    ax.set_ylim(bottom=0)
    for k, ax in enumerate(axes.ravel()):
        _mark_faults(ax, fdays, label=True)
        ax.yaxis.set_major_formatter(COUNT)
        ax.legend(loc="upper left")
        if k >= 2:
            ax.set_xlabel("day of the run")
    cas = _cascades(res)
    top = cas.loc[cas["excess_peak"].idxmax()] if len(cas) else None
    written = int(cas["records_fault"].sum()) if len(cas) else 0
    if top is None:
        finding = "The faults wrote no records within the run"
    else:
        count = int(cas["faults"].sum())
        when = f"the fault of day {int(top['day'])}" if len(cas) > 1 else f"the fault{'s' if count > 1 else ''}"
        finding = (f"{count} faults wrote {written:,} false records" if count > 1
                   else f"A fault on day {int(top['day'])} wrote {written:,} false records") + "; "  # fmt: skip
        if top["excess_peak"] > 0:
            finding += f"after {when}, {int(top['excess_peak']):,} more residents were blacklisted wrongly (peak on day {int(top['peak_day'])}), "
            finding += (f"half of them cleared {int(top['days_to_half'])} days after the fault" if np.isfinite(top["days_to_half"])
                        else "not half of them cleared by the end of the run" if top["end"] > int(d["day"].iloc[-1])
                        else "not half of them cleared before the next fault")  # fmt: skip
        else:
            finding += "no more residents were blacklisted wrongly than before it"
    _finding(fig, finding)
    _caption(fig, res, "dashed red lines: the faults' days; wrongful listings are counted against their level the day before the fault, "
                       "so other false records (and enrolment) add to the rise")  # fmt: skip
    return fig


def _fault_facts(res) -> tuple[list[str], list[list[str]]] | None:
    """The cascade figures of each fault day as a table: one column per fault day."""
    if not has_faults(res):
        return None
    cas = _cascades(res)
    if cas.empty:
        return None
    last = int(_daily(res)["day"].iloc[-1]) + 1

    def n(x) -> str:
        return f"{int(x):,}" if np.isfinite(x) else "-"

    def window(row, k: int) -> str:
        x = row[f"denials_wrongful_{k}d"]
        if np.isfinite(x):
            return f"{int(x):,}"
        return "the run ends first" if row["end"] >= last else "the next fault comes first"

    header = ["measure"] + [f"fault of day {int(r['day'])}" + (f" ({int(r['faults'])} faults)" if r["faults"] > 1 else "") for _, r in cas.iterrows()]
    rows = [
        ["false records written"] + [n(r["records_fault"]) for _, r in cas.iterrows()],
        ["blacklisted only because of false records, the day before"] + [n(r["blacklisted_wrongly_before"]) for _, r in cas.iterrows()],
        ["peak rise of those (day of the peak)"] + [
            f"{int(r['excess_peak']):,} (day {int(r['peak_day'])})" if r["excess_peak"] > 0 else "no rise" for _, r in cas.iterrows()],
        *[[f"wrongful denials in the {k} days from the fault"] + [window(r, k) for _, r in cas.iterrows()] for k in WINDOWS],
        ["wrongful denials a day in the 30 days before (usual)"] + [
            f"{r['denials_wrongful_per_day_before']:.2f}" if np.isfinite(r["denials_wrongful_per_day_before"]) else "-" for _, r in cas.iterrows()],
        ["rewards lost to false records, from the fault on"] + [n(r["rewards_lost"]) for _, r in cas.iterrows()],
        ["false records overturned on appeal, from the fault on"] + [n(r["appeals_won_false"]) for _, r in cas.iterrows()],
        ["days from the fault until the rise is below half of its peak"] + [
            n(r["days_to_half"]) if np.isfinite(r["days_to_half"]) else "no rise" if r["excess_peak"] <= 0
            else "not by the end of the run" if r["end"] >= last else "not before the next fault" for _, r in cas.iterrows()],
    ]  # fmt: skip
    return header, rows


def targeting(res, baseline=None) -> Figure | None:
    """Records aimed at people by group (per 1,000 residents of the group) and the wrongly blacklisted by group over time."""
    groups = _cells(res, "group")
    if groups.empty or "records_targeted" not in groups.columns:
        return None
    names = _levels(res, "group")
    colour = _colours(names)
    fig, axes = _figure(1, 2, height=4.8, gridspec_kw={"width_ratios": [1, 1.4]})
    ax = axes[0, 0]
    counts, rates = [], []
    for name in names:
        c = groups[groups["level"] == name]
        persons = float(c["persons"].mean()) if len(c) else 0.0
        counts.append(int(c["records_targeted"].sum()))
        rates.append(counts[-1] / persons * 1000 if persons > 0 else 0.0)
    x = np.arange(len(names))
    ax.bar(x, rates, color=[colour[g] for g in names])
    for xi, rate, count in zip(x, rates, counts):
        ax.text(xi, rate, f"{count:,}", ha="center", va="bottom", fontsize=9)
    ax.set_xticks(x, names)
    ax.grid(axis="x", visible=False)
    ax.set_ylim(0, 1.2 * max(max(rates), 1e-9))
    ax.set_title("Records aimed at people, by group")
    ax.set_ylabel("per 1,000 residents of the group\nover the run (count on the bar)")
    ax = axes[0, 1]
    ends = {}
    for name in names:
        c = groups[groups["level"] == name]
        share = c["blacklisted_wrongly"].to_numpy(np.float64) / c["persons"].where(c["persons"] > 0).to_numpy(np.float64) * 100
        ends[name] = share[-1] if len(share) else float("nan")
        ax.plot(c["day"], share, color=colour[name], linewidth=1.8, label=name)
    ax.set_ylim(bottom=0)
    ax.set_title("Blacklisted only because of false records, by group")
    ax.set_ylabel("% of the group's residents")
    ax.set_xlabel("day of the run")
    ax.legend(loc="upper left", title="group")
    total = sum(counts)
    if total:
        k = int(np.argmax(counts))
        finding = f"{total:,} records were aimed at people, {_pct(counts[k] / total)} of them at the group '{names[k]}'"
    else:
        finding = "No records were aimed at anyone in this run"
    finding += "; blacklisted only because of false records at the end: " + ", ".join(
        f"{g} {_pct(v / 100)}" for g, v in ends.items() if np.isfinite(v))  # fmt: skip
    _finding(fig, finding)
    _caption(fig, res, "records aimed at people are false records written on purpose (rulebook 'targeting'); they count as false records")
    return fig


def coverage(res, baseline=None) -> Figure | None:
    """For each channel that follows its findings: its coverage by region over time, and the records it found there."""
    if not has_coverage(res):
        return None
    cov = res.coverage.copy()
    cov["channel"] = cov["channel"].astype(str)
    cov["region"] = cov["region"].astype(str)
    channels = list(dict.fromkeys(cov["channel"]))
    names = [r for r in _levels(res, "region") if r in set(cov["region"])] or list(dict.fromkeys(cov["region"]))
    colour = _colours(names)
    fig, axes = _figure(len(channels), 2, height=1.4 + 3.4 * len(channels))
    conc = coverage_concentration(res)
    parts = []
    for row, channel in enumerate(channels):
        c = cov[cov["channel"] == channel].sort_values("day", kind="stable")
        for col, (what, title, ylabel) in enumerate((
            ("coverage", f"{channel}: coverage by region", "detection probability (%)"),
            ("records", f"{channel}: records found by region (7-day sums)", "records over the last 7 days (count)"),
        )):  # fmt: skip
            ax = axes[row, col]
            for name in names:
                r = c[c["region"] == name]
                y = r[what].to_numpy(np.float64) * 100 if what == "coverage" else r[what].rolling(7, min_periods=1).sum().to_numpy(np.float64)
                ax.plot(r["day"], y, color=colour[name], linewidth=1.6, label=name)
            ax.set_title(title)
            ax.set_ylabel(ylabel)
            ax.set_ylim(bottom=0)
            if row == len(channels) - 1:
                ax.set_xlabel("day of the run")
            if col == 1:
                ax.yaxis.set_major_formatter(COUNT)
            ax.legend(loc="best", title="region", ncol=2 if len(names) > 4 else 1)
        k = conc[conc["channel"] == channel]
        if len(k):
            a, b = k.iloc[0], k.iloc[-1]
            parts.append(f"{channel}: the region with the most coverage holds {_pct(a['coverage_share'])} of it on day {int(a['day'])} "
                         f"→ {_pct(b['coverage_share'])} ({b['coverage_region']}, home to {_pct(b['persons_share'])} of residents)")  # fmt: skip
    _finding(fig, "; ".join(parts) if parts else "No channel moved its coverage")
    _caption(fig, res, "coverage follows the records each channel found (follows_findings); a region's part of the coverage is "
                       "its coverage × its residents over the channel's total")  # fmt: skip
    return fig


# --------------------------------------------------------------------------- the list


FIGURES: list[FigureSpec] = [
    FigureSpec(
        "scores", "Scores over time",
        "The mean score, the median and the band holding the middle 80% of residents; below, the Gini "
        "coefficient of scores (how unequally points are spread).",
        scores, "The run has no days to show.",
    ),
    FigureSpec(
        "tiers", "Tier shares",
        "The share of residents in each letter tier, day by day, stacked so that the columns add up to 100%.",
        tiers, "The rulebook has a single tier, so there are no tier shares to compare.",
    ),
    FigureSpec(
        "lists", "Blacklist and redlist",
        "How many residents are on the blacklist and the redlist, as a share of the population; in red, those "
        "blacklisted only because false records pushed their score down.",
        lists, "No one was blacklisted or redlisted in this run.",
    ),
    FigureSpec(
        "denials", "Denials per service",
        "How often each punishing service (flights, trains, loans, jobs) refused residents over the run; the "
        "hatched red part was refused only because of false records. Rewards lost to false records are shown alongside.",
        denials, "This scenario has no services, or no service refused or lost anything.",
    ),
    FigureSpec(
        "errors", "Errors and appeals",
        "The share of each detection channel's records that were false (attributed to the wrong person or made up), "
        "the share of the blacklist there only because of false records, and appeals filed and won over time.",
        errors, "No false records were made and no appeals were filed in this run.",
    ),
    FigureSpec(
        "disparities", "Disparities by group and region",
        "Rates of records, false records, blacklist entries and denials per 1,000 residents of each group and region, "
        "and each one's ratio to the best-treated: below 0.8 counts as adverse impact under the four-fifths rule.",
        disparities, "The population has a single group and a single region, so there is nothing to compare.",
    ),
    FigureSpec(
        "network", "Segregation and isolation",
        "Friends per resident for the blacklisted and for everyone else (isolation), and how strongly friends "
        "have similar scores and tiers (assortativity: segregation), measured every 30 days.",
        network, "The friendship network did not change in this run (no unfriending, rewiring or shaming), so no "
        "segregation or isolation built up.",
    ),
    FigureSpec(
        "behaviour", "Behaviour change",
        "Harmful, benign and prosocial behaviour over time. With a baseline (the same run with the society's "
        "responses switched off), the change the system caused: deterrence of harmful acts, chilling of benign "
        "ones, gaming of rewarded ones.",
        behaviour, "No behaviour events were recorded in this run.",
    ),
]


#: the figures of mechanisms a rulebook may have, after the others; each is in the report only when the run has it
MECHANISM_FIGURES: list[FigureSpec] = [
    FigureSpec(
        "enrolment", "Who is in the system",
        "The share of residents enrolled in the system over time, by region and by group, and of everyone (dashed); "
        "a dotted line marks the day enrolment becomes mandatory. Only the enrolled are scored and sanctioned.",
        enrolment, "The run's daily table does not count the enrolled.", shown_when=has_enrolment,
    ),
    FigureSpec(
        "faults", "The cascade after a fault",
        "The false records the rulebook's faults wrote (errors in bulk), and what followed: residents blacklisted only "
        "because of false records, wrongful denials and rewards lost (7-day sums), and false records overturned on "
        "appeal (7-day sums). Dashed red lines mark the faults' days; the table counts each fault's cascade up to the "
        "next fault or the end of the run.",
        faults, "The rulebook's faults fall outside the run's days.", shown_when=has_faults, facts=_fault_facts,
    ),
    FigureSpec(
        "targeting", "Records aimed at people",
        "False records written on purpose against chosen residents (the rulebook's targeting), per 1,000 residents of "
        "each group, and the share of each group blacklisted only because of false records over time.",
        targeting, "The run's daily table has no group rows.", shown_when=has_targeting,
    ),
    FigureSpec(
        "coverage", "Coverage by region over time",
        "For each detection channel that follows its findings: its coverage in each region (the probability an event "
        "there is detected) as it is moved toward where records were found, and the records it found in each region "
        "(7-day sums). Coverage drawn to where records were found finds more records there: a feedback loop.",
        coverage, "No channel follows its findings.", shown_when=has_coverage,
    ),
]  # fmt: skip


def figures_for(res) -> list[FigureSpec]:
    """The report's figures for this run, in order: every one of :data:`FIGURES`, then the mechanisms it has
    (:data:`MECHANISM_FIGURES`, then households, work and credit: :data:`~socialcredit.report.households.HOUSEHOLD_FIGURES`)."""
    return FIGURES + [spec for spec in MECHANISM_FIGURES + HOUSEHOLD_FIGURES if spec.shown_when(res)]


@figures
def draw_figures(res, baseline=None) -> dict[str, bytes | None]:
    """Every figure of :func:`figures_for` the run as PNG bytes, in order; ``None`` for a figure the run has nothing for."""
    out: dict[str, bytes | None] = {}
    with matplotlib.rc_context(STYLE):
        for spec in figures_for(res):
            fig = spec.draw(res, baseline)
            out[spec.name] = None if fig is None else png_bytes(fig)
    return out
