"""The dashboard page (a Streamlit script): pick a rulebook, move its levers, run, compare, meet the people, take it away.

Started by ``socialcredit dashboard`` (``dashboard/server.py``), which sets
Streamlit's options (127.0.0.1, no usage statistics). Everything it shows
comes from the project's API: the runs from :mod:`socialcredit.dashboard.runs`,
the measures from :mod:`socialcredit.dashboard.panels` (the analysis layer),
a person's story from ``explain``'s functions, the report from the report's.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from socialcredit.analysis.history import audited_persons, person_history, score_path
from socialcredit.dashboard import panels
from socialcredit.dashboard.levers import Lever, changes, levers
from socialcredit.dashboard.report import report_page
from socialcredit.report.experiment import write_experiment_report
from socialcredit.dashboard.runs import (
    BASELINE_UNCHANGED,
    BASELINES,
    MAX_SEEDS,
    Source,
    changed_rulebook,
    run_ensemble,
    run_pair,
    run_overrides,
    run_rulebook,
)
from socialcredit.errors import SocialCreditError
from socialcredit.experiments.executor import Executor
from socialcredit.experiments.results import ExperimentResults
from socialcredit.experiments.store import is_experiment
from socialcredit.results.reader import read_results
from socialcredit.rulebook import scenario_names

DEFAULT_SCENARIO = "smalltown"
KEY_MEASURES = ("blacklisted", "blacklisted_wrongly", "records_true", "records_false", "events_benign", "events_harmful")


# ------------------------------------------------------------------ once per server


@st.cache_resource(show_spinner=False)
def warm_kernels() -> float:
    """Compile (or load from Numba's cache) every kernel with a tiny run, once per server."""
    t0 = time.perf_counter()
    run_rulebook(Source.scenario(DEFAULT_SCENARIO).path, ["population.persons=2000", "simulation.days=20"])
    return time.perf_counter() - t0


@st.cache_resource(show_spinner=False)
def upload_folder() -> str:
    return tempfile.mkdtemp(prefix="socialcredit-dashboard-")


@st.cache_resource(show_spinner=False)
def executor() -> Executor:
    """A local Dask cluster for ensembles, started on first use and kept for the server's life."""
    ex = Executor()
    ex.start()
    return ex


# ------------------------------------------------------------------ small helpers


def fail(exc: SocialCreditError) -> None:
    """Show our own error (file, line, column, what was found, what is allowed) and stop the page there."""
    st.error(str(exc), icon="⚠️")
    st.stop()


def fmt(x: Any) -> str:
    if isinstance(x, (int, float)) and pd.notna(x):
        x = float(x)
        return f"{x:,.4g}" if abs(x) < 1e4 else f"{x:,.0f}"
    return "–"


def as_value(lever: Lever, x: Any) -> Any:
    if lever.kind == "integer" or (lever.kind == "number" and lever.step >= 1 and float(x).is_integer()):
        return int(x)
    return x


def lever_widget(lever: Lever, prefix: str) -> Any:
    key = f"{prefix}:{lever.key}"
    if lever.kind == "choice":
        return st.selectbox(lever.label, lever.choices, index=lever.choices.index(lever.value), key=key, help=lever.help())
    if lever.kind == "integer":
        return st.slider(lever.label, int(lever.low), int(lever.high), int(lever.value), int(lever.step), key=key, help=lever.help())
    return as_value(lever, st.slider(lever.label, float(lever.low), float(lever.high), float(lever.value), float(lever.step),
                                     key=key, help=lever.help(), format="%.3f" if lever.step < 0.01 else None))  # fmt: skip


# ------------------------------------------------------------------ the source


def choose_source() -> Source | Path | None:
    """The sidebar's first part: a Source to run, or a folder to look at."""
    kind = st.sidebar.radio("Look at", ["a shipped scenario", "a rulebook file", "a run or experiment folder"], key="kind")
    if kind == "a shipped scenario":
        names = scenario_names()
        name = st.sidebar.selectbox("scenario", names, index=names.index(DEFAULT_SCENARIO), key="scenario")
        return Source.scenario(name)
    if kind == "a rulebook file":
        up = st.sidebar.file_uploader("rulebook (.yaml)", type=["yaml", "yml"], key="upload")
        if up is None:
            st.info("Upload a rulebook file to start (`socialcredit scenarios copy NAME FILE` writes one to edit).")
            return None
        try:
            return Source.upload(up.name, up.getvalue(), upload_folder())
        except SocialCreditError as exc:
            fail(exc)
    text = st.sidebar.text_input("folder", key="folder", placeholder="runs/smalltown-2026-12-06-1030")
    if not text:
        st.info("Type the path of a folder written by `socialcredit run` or `socialcredit experiment`.")
        return None
    return Path(text).expanduser()


# ------------------------------------------------------------------ views


def show_summary(baseline, changed, changed_values: dict[str, Any], was: dict[str, Any]) -> pd.DataFrame:
    if changed_values:
        st.markdown("**Changed:** " + "; ".join(f"`{k}` {was.get(k)} → {v}" for k, v in changed_values.items()))
    else:
        st.markdown("**Nothing changed:** both runs are the rulebook as it is (move a lever and run).")
    table = panels.key_table(baseline, changed)
    cols = st.columns(4)
    for col, key in zip(cols, ("blacklisted", "blacklisted_wrongly", "records_false", "events_benign")):
        row = table[table["key"] == key]
        if len(row):
            r = row.iloc[0]
            col.metric(r["measure"], fmt(r["changed"]), None if not r["difference"] else fmt(r["difference"]), delta_color="off")
    if not table.attrs.get("same_design", True):
        st.warning("The baseline does not share this rulebook's design, so the difference includes chance: "
                   + "; ".join(table.attrs.get("design_differences", [])))  # fmt: skip
    return table


def show_table(table: pd.DataFrame) -> None:
    shown = table.assign(**{c: table[c].map(fmt) for c in ("baseline", "changed", "difference")})
    shown["change %"] = table["change %"].map(lambda x: f"{x:+.1f}%" if pd.notna(x) else "–")
    with st.expander("Every key measure, baseline and changed"):
        st.table(shown.drop(columns="key").set_index("measure"))


def tiers_panel(runs: panels.Runs) -> None:
    frame = panels.tier_frame(runs)
    first = frame[(frame["run"] == "baseline") & (frame["day"] == frame["day"].min())]
    common = str(first.loc[first["share"].idxmax(), "tier"]) if len(first) else ""
    st.caption(f"Share of persons in each tier, day by day: the baseline dashed, the changed run solid. Tier {common}, "
               "where most persons start, is left out so that the others show (its share is in the table below).")  # fmt: skip
    st.altair_chart(panels.tier_chart(frame[frame["tier"] != common]), width="stretch")


def blacklist_panel(runs: panels.Runs) -> None:
    st.caption("Persons on the blacklist, and those on it only because of false records (without them they would not be listed).")
    st.altair_chart(panels.list_chart(panels.list_frame(runs)), width="stretch")


def denials_panel(runs: panels.Runs) -> None:
    frame = panels.denial_frame(runs)
    if frame["denials"].sum() == 0:
        st.info("No service refused anyone in either run.")
        return
    st.caption("Denials of each punishing service over the run; red: refused only because of false records.")
    st.altair_chart(panels.denial_chart(frame))


def groups_panel(runs: panels.Runs) -> None:
    for by in ("group", "region"):
        frame = panels.disparity_frame(runs, by)
        if len(frame):
            st.caption(f"Rates by {by}, per 1,000 of its persons over the run (hover for the ratio to the best-treated {by}).")
            st.altair_chart(panels.disparity_chart(frame))


def friends_panel(runs: panels.Runs) -> None:
    lost = {name: panels.friends_lost(res) for name, res in runs.items()}
    a, b = st.columns(2)
    a.metric("friendships ended (baseline)", f"{lost['baseline']:,}")
    b.metric("friendships ended (changed)", f"{lost['changed']:,}", f"{lost['changed'] - lost['baseline']:+,}", delta_color="off")
    st.altair_chart(panels.friends_chart(panels.friends_frame(runs)), width="stretch")


def behaviour_panel(runs: panels.Runs) -> None:
    st.caption("Behaviour events per 1,000 persons a day by kind: secret rules chill benign acts, deterrence lowers harmful ones.")
    st.altair_chart(panels.behaviour_chart(panels.behaviour_frame(runs)), width="stretch")


PANELS = {"Tiers": tiers_panel, "Blacklist": blacklist_panel, "Denials": denials_panel, "Groups": groups_panel,
          "Friends": friends_panel, "Behaviour": behaviour_panel}  # fmt: skip


def show_pair(baseline, changed) -> None:
    """The panels as tabs; only the open one is drawn (a tab's change reruns the page without running anything)."""
    runs = {"baseline": baseline, "changed": changed}
    for (name, draw), tab in zip(PANELS.items(), st.tabs(list(PANELS), key="panel", on_change="rerun")):
        if tab.open:
            with tab:
                draw(runs)


def show_people(res, which: str) -> None:
    st.caption(f"The audited persons of the {which} run (a random sample kept with their full history).")
    groups = ["any"] + [str(g) for g in res.meta.get("groups", [])]
    a, b, c = st.columns(3)
    wrongly = a.checkbox("wrongly blacklisted", key=f"wrongly:{which}")
    lost = b.checkbox("lost friends", key=f"lost:{which}")
    group = c.selectbox("group", groups, key=f"group:{which}")
    where = [w for w, on in (("wrongful_blacklistings >= 1", wrongly), ("friends_lost >= 1", lost), (f"group == '{group}'", group != "any")) if on]
    people = audited_persons(res, " and ".join(where) or None)
    st.write(f"{len(people):,} of {len(res.audit_persons):,} audited persons" + (f" where {' and '.join(where)}" if where else ""))
    cols = ["person", "region", "group", "tier_start", "tier_end", "score_start", "score_end", "records", "false_records",
            "denials", "wrongful_denials", "wrongful_blacklistings", "days_blacklisted", "friends_lost"]  # fmt: skip
    st.dataframe(people[cols], hide_index=True, height=240, key=f"people:{which}")
    if not len(people):
        return
    person = st.selectbox("read one person's story", people["person"].tolist(), key=f"person:{which}")
    st.altair_chart(panels.score_chart(score_path(res, int(person))), width="stretch")
    story = person_history(res, int(person))
    st.table(story[["day", "what", "details"]].set_index("day"))


def show_folder(folder: Path) -> None:
    """Look at a run folder or an experiment folder without running anything."""
    try:
        if is_experiment(folder):
            ens = ExperimentResults.read(folder)
            st.subheader(f"Experiment {ens.name}: arms {', '.join(ens.arms)}")
            st.table(ens.summary([m for m in KEY_MEASURES if m in ens.measures]).round(4))
            measures = [m for m in KEY_MEASURES if m in ens.daily_measures]
            if measures:
                st.altair_chart(panels.band_chart(panels.band_frame(ens, measures)))
            return
        res = read_results(folder)
    except SocialCreditError as exc:
        fail(exc)
    st.subheader(f"Run of {res.meta.get('scenario')}: {int(res.meta.get('persons', 0)):,} persons, {int(res.meta.get('days', 0)):,} days, seed {res.meta.get('seed')}")
    base = folder / "baseline"
    baseline = read_results(base) if base.is_dir() else res
    table = show_summary(baseline, res, {}, {})
    show_pair(baseline, res)
    show_table(table)
    show_people(res, "folder")


def show_ensemble(ens: ExperimentResults) -> None:
    diff = ens.differences("baseline", "changed", [m for m in KEY_MEASURES if m in ens.measures])
    diff = diff.assign(measure=diff["measure"].map(panels.label))
    st.caption(f"{int(diff['n'].max())} seeds: changed minus baseline, paired by seed, with its 95% interval.")
    st.table(diff[["measure", "mean_a", "mean_b", "difference", "lo", "hi"]]
             .rename(columns={"mean_a": "baseline", "mean_b": "changed"}).set_index("measure").map(fmt))  # fmt: skip
    measures = [m for m in KEY_MEASURES if m in ens.daily_measures]
    st.caption("Mean across seeds with the 95% band, day by day (counts of events summed from day 0).")
    st.altair_chart(panels.band_chart(panels.band_frame(ens, measures)))


# ------------------------------------------------------------------ the page


def main() -> None:
    st.set_page_config(page_title="socialcredit dashboard", page_icon="⚖️", layout="wide")
    st.title("socialcredit: what would such a system do?")
    st.caption("A simulator on synthetic populations: no real person is described here.")
    if "warm" not in st.session_state:
        with st.status("Warming the compiled kernels (once per server)…", expanded=False) as status:
            seconds = warm_kernels()
            status.update(label=f"Ready (kernels warm in {seconds:.1f} s)", state="complete")
        st.session_state["warm"] = True

    chosen = choose_source()
    if chosen is None:
        return
    if isinstance(chosen, Path):
        show_folder(chosen)
        return
    source = chosen
    try:
        loaded = source.load()
    except SocialCreditError as exc:
        fail(exc)
    all_levers = levers(loaded)
    prefix = hashlib.sha1(source.path.read_bytes()).hexdigest()[:10]
    rb = loaded.rulebook
    st.sidebar.markdown(f"**{rb.meta.title or rb.meta.name}**")
    point_levers = [lv for lv in all_levers if lv.section == "Points of behaviours"]
    chosen_points = st.sidebar.multiselect("behaviours whose points to change", [lv.key.split(".")[1] for lv in point_levers],
                                           key=f"{prefix}:points")  # fmt: skip
    with st.sidebar.form("levers"):
        values: dict[str, Any] = {}
        sections = list(dict.fromkeys(lv.section for lv in all_levers))
        for section in sections:
            shown = [lv for lv in all_levers if lv.section == section and
                     (section != "Points of behaviours" or lv.key.split(".")[1] in chosen_points)]  # fmt: skip
            if not shown:
                continue
            with st.expander(section, expanded=section == "Population and run"):
                for lever in shown:
                    values[lever.key] = lever_widget(lever, prefix)
        baseline_kind = st.selectbox("baseline", BASELINES, key="baseline",
                                     help="the unchanged rulebook with the same seed (paired: the difference is the change), "
                                          "or the control society without scoring")  # fmt: skip
        seeds = st.number_input("seeds (1 = one run; more: an ensemble with bands)", 1, MAX_SEEDS, 1, key="seeds")
        seed = st.number_input("first seed", 0, 2**31, int(rb.simulation.seed), key="seed")
        submitted = st.form_submit_button("Run", type="primary", width="stretch")
    for lever in all_levers:
        values.setdefault(lever.key, lever.value)
    was = {lv.key: lv.value for lv in all_levers}
    moved = changes(all_levers, values)

    if submitted:
        bar = st.progress(0.0, text="starting")
        t0 = time.perf_counter()
        try:
            if seeds > 1:
                ens = run_ensemble(source, values, moved, int(seeds), baseline_kind, executor(), on_run=lambda done, total:
                                   bar.progress(done / total, text=f"run {done} of {total}"))  # fmt: skip
                st.session_state["result"] = {"ensemble": ens, "changes": moved, "was": was, "source": source}
            else:
                key = (prefix, baseline_kind, tuple(run_overrides(values, int(seed))))
                cache = st.session_state.get("baseline_cache", {})
                runs_to_do = 1 if key in cache else 2

                def on_day(which: str, day: int, days: int) -> None:
                    if day % max(1, days // 20) == 0 or day == days:
                        done = day + (days if which == "changed" and runs_to_do == 2 else 0)
                        bar.progress(done / (days * runs_to_do), text=f"{which} run: day {day:,} of {days:,}")

                base, run = run_pair(source, values, moved, int(seed), baseline_kind, on_day, cache.get(key))
                st.session_state["baseline_cache"] = {key: base}
                st.session_state["result"] = {"baseline": base, "changed": run, "changes": moved, "was": was,
                                              "baseline_kind": baseline_kind, "source": source}  # fmt: skip
        except SocialCreditError as exc:
            bar.empty()
            fail(exc)
        bar.empty()
        st.session_state["seconds"] = time.perf_counter() - t0
        st.session_state["runs"] = st.session_state.get("runs", 0) + 1

    result = st.session_state.get("result")
    if result is not None and result["source"] != source:  # the last run was of another rulebook
        st.info(f"The last run was of {result['source'].label}. Press **Run** to run {source.label}.")
        return
    if result is None:
        st.info("Move the levers in the sidebar (each one's **?** gives its source or why it was assumed), then press **Run**.")
        return
    if "ensemble" in result:
        show_ensemble(result["ensemble"])
    else:
        show_result(result, rb.meta.name)
    take_away(result, result["source"].path.stem)
    # last on the page, so that it shows once everything above it is drawn
    st.caption(f"Run {st.session_state.get('runs', 0)}: ran in {st.session_state.get('seconds', 0):.1f} s.")


def show_result(result: dict[str, Any], name: str) -> None:
    table = show_summary(result["baseline"], result["changed"], result["changes"], result["was"])
    show_pair(result["baseline"], result["changed"])
    show_table(table)
    st.subheader("Meet the people")
    show_people(result["changed"], "changed")


def take_away(result: dict[str, Any], name: str) -> None:
    """Downloads: the rulebook with the changed values, and the report of what is on screen (both made on the click)."""
    st.subheader("Take it away")
    a, b = st.columns(2)
    a.download_button("the rulebook with these values (.yaml)", lambda: changed_rulebook(result["source"], result["changes"], result["was"]),
                      file_name=f"{name}-changed.yaml", mime="text/yaml")  # fmt: skip
    b.download_button("the report of what is on screen (.html)", lambda: report_of(result), file_name=f"{name}-dashboard-report.html",
                      mime="text/html", help="draws the report's figures when you click (a few seconds)")  # fmt: skip


def report_of(result: dict[str, Any]) -> str:
    if "ensemble" in result:  # the experiment's own report: its arms with their intervals
        return write_experiment_report(result["ensemble"].folder).read_text(encoding="utf-8")
    return report_page(result["baseline"], result["changed"], result["changes"], result["was"], result["baseline_kind"])

main()
