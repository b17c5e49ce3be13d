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
the note the report shows when one is skipped.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

import matplotlib
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from socialcredit.analysis.behaviour import baseline_overrides, behaviour_change
from socialcredit.analysis.disparity import disparate_impact
from socialcredit.analysis.errors import (
    blacklist_false_share,
    false_records_by_channel,
    wrongful_denials_by_service,
)
from socialcredit.analysis.segregation import network_series
from socialcredit.literal import figures
from socialcredit.results import KINDS

STYLE = {
    "font.size": 10.5,
    "axes.titlesize": 11.5,
    "axes.titleweight": "bold",
    "axes.labelsize": 10.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "figure.titlesize": 13,
    "figure.titleweight": "bold",
}
WIDTH = 11.0  # inches; at 100 dpi a 1100-pixel image, readable on a laptop screen
DPI = 100

# one colour per meaning, the same in every figure
RUN = "#1f4e79"
BASELINE = "#8c8c8c"
WRONG = "#c0392b"  # anything caused by false records
JUST = "#5d6d7e"  # the same thing, caused by true records
LISTED = "#222222"
RED = "#2e8b57"  # the redlist (a reward list)
COUNT = matplotlib.ticker.StrMethodFormatter("{x:,.0f}")  # 1,956,381 rather than 1.96 with an offset of 1e6
KIND_COLOURS = {"harmful": "#c0392b", "benign": "#2874a6", "prosocial": "#239b56"}


def _figure(nrows: int = 1, ncols: int = 1, height: float = 4.8, **kwargs) -> tuple[Figure, np.ndarray]:
    fig = Figure(figsize=(WIDTH, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kwargs)
    return fig, axes


def _daily(res) -> pd.DataFrame:
    """The whole-population daily rows, in day order."""
    return res.to_df("daily").sort_values("day").reset_index(drop=True)


def _persons(res) -> int:
    return max(1, int(res.meta.get("persons", 1)))


def _pct(x: float) -> str:
    return f"{x:.1%}" if x >= 0.001 or x == 0 else f"{x:.2%}"


def _run_label(res) -> str:
    m = res.meta
    return f"{m.get('persons', 0):,} synthetic residents, {m.get('days', 0):,} days, seed {m.get('seed')}"


def _caption(fig: Figure, res, extra: str = "") -> None:
    """The run's name and size (and a note) in small type under the figure."""
    text = f"{res.meta.get('title') or res.meta.get('scenario', 'run')}: {_run_label(res)}" + (f". {extra}" if extra else "")
    fig.supxlabel(textwrap.fill(text, 170), x=0.0, ha="left", fontsize=8.5, color="#555555")


def _finding(fig: Figure, text: str) -> None:
    """The figure's headline: what it shows, with the numbers, wrapped to fit."""
    fig.suptitle(textwrap.fill(text, 95))


def _empty_panel(ax, text: str) -> None:
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=10.5, color="#555555", wrap=True, transform=ax.transAxes)


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


# --------------------------------------------------------------------------- the list


@dataclass(frozen=True)
class FigureSpec:
    """One figure of the report: its file name, heading, how to read it, and why it may be missing."""

    name: str
    heading: str
    about: str
    draw: Callable
    skipped: str


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


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG bytes (Agg, no software metadata)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None}, facecolor="white")
    return buf.getvalue()


@figures
def draw_figures(res, baseline=None) -> dict[str, bytes | None]:
    """Every figure of :data:`FIGURES` as PNG bytes, in order; ``None`` for a figure the run has nothing for."""
    out: dict[str, bytes | None] = {}
    with matplotlib.rc_context(STYLE):
        for spec in FIGURES:
            fig = spec.draw(res, baseline)
            out[spec.name] = None if fig is None else png_bytes(fig)
    return out
