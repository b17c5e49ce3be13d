"""The dashboard's panels: the project's measures of two runs as tidy tables, and charts that show values on hover.

Each ``*_frame`` function reads runs through the analysis layer (the same
functions the report and the command line use) and returns a long table with
a ``run`` column (``baseline``, ``changed``); each chart function draws one
with Altair, which Streamlit renders in the page with tooltips. The report's
figures (matplotlib) are drawn only for the downloaded report: at 2 to 3 s for
a set they would eat the time a lever's change may take.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from socialcredit.analysis.compare import compare
from socialcredit.analysis.disparity import disparate_impact
from socialcredit.analysis.errors import wrongful_denials_by_service
from socialcredit.analysis.segregation import network_series
from socialcredit.engine.measures import BEHAVIOUR_KINDS, SUMMARY_LABELS, daily_measure, is_flow
from socialcredit.experiments.results import ExperimentResults

from socialcredit.report.figures import DISPARITY_MEASURES, events_per_1000

Runs = dict[str, object]  # run name (baseline, changed) -> Results
RUN_DASH = alt.Scale(domain=["baseline", "changed"], range=[[5, 3], [1, 0]])
HEIGHT = 280
POINTS = 180  # days drawn per line at most: enough for the eye, and the browser draws (and hovers) them fast


def _daily(res) -> pd.DataFrame:
    return res.to_df("daily").sort_values("day").reset_index(drop=True)


def _thin(frame: pd.DataFrame) -> pd.DataFrame:
    """Every k-th day (and the last), so that no line has more than about :data:`POINTS` points."""
    days = frame["day"].to_numpy()
    if not len(days):
        return frame
    step = max(1, -(-int(days.max() - days.min() + 1) // POINTS))
    keep = ((days - days.min()) % step == 0) | (days == days.max())
    return frame[keep].reset_index(drop=True)


def label(name: str) -> str:
    """A key measure's words: the daily measure's label (and whether it is a total or the last day's level)."""
    m = daily_measure(name)
    if m is not None:
        text = m.label
        if m.each:
            head, _, tail = m.name.partition("{" + m.each + "}")
            text = text.replace("{" + m.each + "}", name[len(head) : len(name) - len(tail)])
        return text + (" (over the run)" if is_flow(name) else " (at the end)")
    if name == "friends_of_blacklisted":  # the summary's label names the pair it is shown in
        return "friends per blacklisted person (at the end)"
    base, _, part = name.partition(".")
    if part:
        return f"{base}: {part}"
    return SUMMARY_LABELS.get(name, name.replace("_", " "))


# ------------------------------------------------------------------ tables


def key_table(baseline, changed) -> pd.DataFrame:
    """The key measures side by side: measure (in words), baseline, changed, difference, change in %."""
    df = compare(baseline, changed)
    df = df[~df["measure"].isin(["persons", "days"])]
    out = pd.DataFrame({
        "measure": [label(m) for m in df["measure"]],
        "key": df["measure"].to_numpy(),
        "baseline": df["a"].to_numpy(),
        "changed": df["b"].to_numpy(),
        "difference": df["difference"].to_numpy(),
        "change %": (df["ratio"].to_numpy() - 1) * 100,
    })  # fmt: skip
    out.attrs.update(df.attrs)
    return out.reset_index(drop=True)


# ------------------------------------------------------------------ tidy frames


def tier_frame(runs: Runs) -> pd.DataFrame:
    """Share of persons in each tier per day: day, run, tier, share (%)."""
    parts = []
    for name, res in runs.items():
        d = _daily(res)
        for tier in res.meta.get("tiers", []):
            parts.append(pd.DataFrame({"day": d["day"], "run": name, "tier": tier, "share": d[f"share_{tier}"] * 100}))
    return _thin(pd.concat(parts, ignore_index=True)) if parts else pd.DataFrame(columns=["day", "run", "tier", "share"])


def list_frame(runs: Runs) -> pd.DataFrame:
    """Blacklisted, and blacklisted only because of false records, per day: day, run, series, share (%), persons."""
    parts = []
    for name, res in runs.items():
        d = _daily(res)
        n = max(1, int(res.meta.get("persons", 1)))
        for col, words in (("blacklisted", "blacklisted"), ("blacklisted_wrongly", "blacklisted wrongly (only false records)")):
            parts.append(pd.DataFrame({"day": d["day"], "run": name, "series": words, "share": d[col] / n * 100, "persons": d[col]}))
    return _thin(pd.concat(parts, ignore_index=True))


def denial_frame(runs: Runs) -> pd.DataFrame:
    """Denials of each punishing service over the run: service, run, part (true records / wrongful), denials."""
    parts = []
    for name, res in runs.items():
        t = wrongful_denials_by_service(res)
        t = t[t["kind"] == "punishment"]
        for _, row in t.iterrows():
            parts.append({"service": row["service"], "run": name, "part": "denied by true records", "denials": int(row["denied"] - row["wrongful"])})
            parts.append({"service": row["service"], "run": name, "part": "wrongful (false records)", "denials": int(row["wrongful"])})
    return pd.DataFrame(parts, columns=["service", "run", "part", "denials"])


def disparity_frame(runs: Runs, by: str = "group") -> pd.DataFrame:
    """Rates per 1,000 persons of each group (or region): level, run, measure, per_1000, ratio to the best-treated."""
    parts = []
    for name, res in runs.items():
        if len(res.meta.get(f"{by}s", [])) < 2:
            continue
        t = disparate_impact(res, by=by)
        for m, words in DISPARITY_MEASURES.items():
            for _, row in t.iterrows():
                parts.append({"level": str(row["level"]), "run": name, "measure": words.replace("\n", " "),
                              "per_1000": float(row[f"{m}_per_1000"]), "ratio": float(row[f"ratio_{m}"])})  # fmt: skip
    return pd.DataFrame(parts, columns=["level", "run", "measure", "per_1000", "ratio"])


def friends_frame(runs: Runs) -> pd.DataFrame:
    """Friends per person, blacklisted and others, on the days the network was measured: day, run, who, friends."""
    parts = []
    for name, res in runs.items():
        net = network_series(res)
        for col, who in (("degree_blacklisted", "blacklisted"), ("degree_others", "not blacklisted")):
            parts.append(pd.DataFrame({"day": net["day"], "run": name, "who": who, "friends": net[col]}))
    return pd.concat(parts, ignore_index=True).dropna()


def friends_lost(res) -> int:
    """Friendships ended by unfriending and shaming over the run."""
    d = res.to_df("daily")
    return int(d["ties_dropped_unfriending"].sum() + d["ties_dropped_shaming"].sum())


def behaviour_frame(runs: Runs) -> pd.DataFrame:
    """Behaviour events per 1,000 persons per day (7-day mean) by kind: day, run, kind, per_1000."""
    parts = []
    for name, res in runs.items():
        ev = events_per_1000(res)
        for kind in BEHAVIOUR_KINDS:
            parts.append(pd.DataFrame({"day": ev["day"], "run": name, "kind": kind, "per_1000": ev[kind]}))
    return _thin(pd.concat(parts, ignore_index=True))


def band_frame(ens: ExperimentResults, measures: list[str]) -> pd.DataFrame:
    """Mean and 95% band across seeds per day for each arm: day, run, measure (in words), mean, lo, hi."""
    b = ens.series(measures, cumulative=True)
    b = b.rename(columns={"arm": "run"})
    b["measure"] = b["measure"].map(label)
    return _thin(b[["day", "run", "measure", "mean", "lo", "hi"]])


# ------------------------------------------------------------------ charts


def _lines(frame: pd.DataFrame, y: str, colour: str, y_title: str, fmt: str = ".2f") -> alt.Chart:
    """Lines by ``colour``, the baseline dashed; hovering anywhere shows the values of the nearest point."""
    tooltip = [alt.Tooltip("run:N"), alt.Tooltip(f"{colour}:N"), alt.Tooltip("day:Q"), alt.Tooltip(f"{y}:Q", format=fmt, title=y_title)]
    nearest = alt.selection_point(nearest=True, on="pointerover", fields=["day", colour, "run"], empty=False)
    base = alt.Chart(frame).encode(
        y=alt.Y(f"{y}:Q", title=y_title),
        x=alt.X("day:Q", title="day of the run", scale=alt.Scale(nice=False)),
        color=alt.Color(f"{colour}:N", title=None, sort=list(frame[colour].unique()), legend=alt.Legend(orient="right")),  # in the frame's order
    )
    lines = base.mark_line().encode(
        strokeDash=alt.StrokeDash("run:N", scale=RUN_DASH, title="run", legend=alt.Legend(orient="right")), detail="run:N"
    )
    points = base.mark_point(filled=True, size=50).encode(
        opacity=alt.condition(nearest, alt.value(1.0), alt.value(0.0)), tooltip=tooltip
    ).add_params(nearest)
    return (lines + points).properties(height=HEIGHT)


def tier_chart(frame: pd.DataFrame) -> alt.Chart:
    return _lines(frame, "share", "tier", "share of persons (%)")


def list_chart(frame: pd.DataFrame) -> alt.Chart:
    return _lines(frame, "share", "series", "share of persons (%)", ".3f")


def friends_chart(frame: pd.DataFrame) -> alt.Chart:
    return _lines(frame, "friends", "who", "friends per person")


def behaviour_chart(frame: pd.DataFrame) -> alt.Chart:
    return _lines(frame, "per_1000", "kind", "events per 1,000 persons a day (7-day mean)")


def denial_chart(frame: pd.DataFrame) -> alt.Chart:
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("run:N", title=None),
            x=alt.X("sum(denials):Q", title="denials over the run"),
            color=alt.Color("part:N", title=None, scale=alt.Scale(range=["#5d6d7e", "#c0392b"]), legend=alt.Legend(orient="bottom")),
            row=alt.Row("service:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left")),
            tooltip=["service:N", "run:N", "part:N", alt.Tooltip("denials:Q", format=",")],
        )
        .properties(height=40)
    )


def disparity_chart(frame: pd.DataFrame) -> alt.Chart:
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("level:N", title=None),
            xOffset="run:N",
            y=alt.Y("per_1000:Q", title="per 1,000 persons over the run"),
            color=alt.Color("run:N", scale=alt.Scale(domain=["baseline", "changed"], range=["#8c8c8c", "#1f4e79"]), legend=alt.Legend(orient="bottom")),
            column=alt.Column("measure:N", title=None),
            tooltip=["measure:N", "level:N", "run:N", alt.Tooltip("per_1000:Q", format=",.2f"), alt.Tooltip("ratio:Q", format=".2f", title="best-treated rate / this rate")],
        )
        .properties(height=HEIGHT - 60, width=110)
        .resolve_scale(y="independent")
    )


def band_chart(frame: pd.DataFrame) -> alt.Chart:
    base = alt.Chart(frame).encode(x=alt.X("day:Q", title="day of the run"), color=alt.Color("run:N", legend=alt.Legend(orient="bottom")))
    band = base.mark_area(opacity=0.25).encode(y=alt.Y("lo:Q", title=None), y2="hi:Q")
    line = base.mark_line().encode(
        y="mean:Q", tooltip=["run:N", "day:Q", alt.Tooltip("mean:Q", format=",.3f"), alt.Tooltip("lo:Q", format=",.3f"), alt.Tooltip("hi:Q", format=",.3f")]
    )
    return (band + line).properties(height=200, width=320).facet(facet=alt.Facet("measure:N", title=None), columns=2).resolve_scale(y="independent")


def score_chart(path: pd.DataFrame) -> alt.Chart:
    """One person's score day by day (``score_path``), as steps, with the tier on hover."""
    return (
        alt.Chart(path)
        .mark_line(interpolate="step-after")
        .encode(
            x=alt.X("day:Q", title="day of the run"),
            y=alt.Y("score:Q", title="score", scale=alt.Scale(zero=False)),
            tooltip=["day:Q", alt.Tooltip("score:Q", format=",.1f"), "tier:N"],
        )
        .properties(height=200)
    )
