"""The declaration of the measures (engine/measures.py) against what the engine writes and the results show.

Runs two small scenarios (companies and the society's responses; peer ratings
and rewards) and checks that every declared measure is a column of the
tables, in the declared order; that the summary holds every entry it should,
in order, each with a label for the CLI and the report; and that the kernels
write each measure in the column the declaration gives it.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

import socialcredit as sc
from socialcredit.engine import measures as ms
from socialcredit.engine.sim import Sim
from socialcredit.results import Results

IDS = ["day", "breakdown", "level"]


@pytest.fixture(scope="module", params=["full-system", "nosedive"])
def done(request):
    """A finished simulation and its results."""
    rb = sc.load(request.param, persons=2000, days=61, seed=5)
    sim = Sim(rb, base_dir=rb._base_dir)
    sim.run()
    res = Results.from_sim(sim)
    res.rulebook_yaml = rb._yaml
    return sim, res


def _all_rows(res):
    return res.daily[res.daily["breakdown"] == "all"].sort_values("day")


# ------------------------------------------------------------------ the declaration itself
def test_every_measure_has_a_label_and_a_unit() -> None:
    for family, measures in ms.FAMILIES.items():
        for m in measures:
            assert m.label and m.unit, f"{family}.{m.name} needs a label and a unit"
            assert m.family == family
    for m in ms.SUMMARY:
        assert m.label, f"summary entry {m.name} has no label"
        assert m.report_text, f"summary entry {m.name} has no report label"


def test_kernel_columns_follow_the_declaration() -> None:
    assert ms.STATE_COLUMNS == ms.AGGREGATE_KERNEL_COLUMNS
    assert ms.EVENT_COLUMNS[: len(ms.TALLY_COLUMNS)] == ms.TALLY_COLUMNS == ms.BEHAVIOUR_COLUMNS
    assert ms.NETWORK_COLUMNS == ms.RECORD_NETWORK_COLUMNS
    assert ms.SERVICE_COLUMNS == ms.SERVICE_TALLY_COLUMNS
    # the engine's lists are the declaration's
    from socialcredit.engine import counters
    from socialcredit.engine.stages import company, daily

    assert counters.EVENT_MEASURES == list(ms.EVENT_COLUMNS)
    assert counters.M == {name: ms.column("events", name) for name in ms.EVENT_COLUMNS}
    assert counters.BEH_MEASURES == list(ms.BEHAVIOUR_COLUMNS)
    assert counters.SVC_MEASURES == list(ms.SERVICE_COLUMNS)
    assert daily.STATE_MEASURES == list(ms.STATE_COLUMNS)
    assert daily.NETWORK_MEASURES == list(ms.NETWORK_COLUMNS)
    assert company.COMPANY_MEASURES == list(ms.COMPANY_COLUMNS)
    for m in ms.STATE:
        if m.over_cells == ms.QUANTILE:
            assert m.q in daily.DailyAggregates.QUANTILES, m.name


def test_a_wrong_kernel_order_is_refused(monkeypatch) -> None:
    monkeypatch.setattr(ms, "STATE_COLUMNS", ms.STATE_COLUMNS[::-1])
    with pytest.raises(AssertionError, match="aggregate_kernel"):
        ms._check_kernel_order()


def test_summary_entries_read_declared_columns() -> None:
    for m in ms.SUMMARY:
        if m.over_days in (ms.META, ms.GROUP, ms.SERVICE_KIND):
            continue
        if m.group == ms.SERVICES:
            assert m.of[0] in ms.SERVICE_COLUMNS, m.name
        else:
            assert ms.daily_measure(m.of[0]) is not None, f"summary entry {m.name} reads an undeclared column {m.of[0]}"
    assert ms.RESPONSE_MEASURES == tuple(m.name for m in ms.SUMMARY if m.group == ms.RESPONSES)
    assert set(ms.SUMMARY_LABELS) == set(ms.REPORT_LABELS) == {m.name for m in ms.SUMMARY}


def test_is_flow_is_the_old_rule_on_every_column() -> None:
    from socialcredit.experiments.task import is_flow

    def old(measure: str) -> bool:
        levels = ("enrolled", "children_of_listed", "children_of_wrongly_listed", "stress_sum", "commercial_sum")  # counted each day, not summed
        return (measure in ms.EVENT_COLUMNS and measure not in levels) or measure.startswith(("events_", "company_records_", "company_blacklist_e"))

    for name in ms.daily_columns(["A", "B"]):
        assert is_flow(name) == old(name), name
    assert not is_flow("no_such_measure")


def test_lists_elsewhere_name_declared_measures() -> None:
    """Selections of measures in the analyses, the report and the run folder reader name declared columns."""
    from socialcredit.analysis.compare import PAIRED_SERIES
    from socialcredit.analysis.disparity import MEASURES as DISPARITY
    from socialcredit.experiments.results import KEY_MEASURES, KEY_SERIES
    from socialcredit.report.figures import TIE_CHANGES
    from socialcredit.results.reader import _COLUMNS

    daily = set(ms.daily_columns([]))
    for name in [*PAIRED_SERIES, *TIE_CHANGES, *KEY_SERIES, *(c for cols in DISPARITY.values() for c in cols)]:
        assert name in daily or ms.daily_measure(name) is not None, name
    for name in _COLUMNS["daily"]:
        assert name in IDS or name in daily, name
    for name in _COLUMNS["services"]:
        assert name in IDS + ["service", "kind"] or name in ms.SERVICE_COLUMNS, name
    for name in _COLUMNS["behaviours"]:
        assert name in IDS + ["behaviour", "kind", "channel"] or name in ms.BEHAVIOUR_COLUMNS, name
    top = {m.name for m in ms.summary_entries()}
    assert set(KEY_MEASURES) <= top


# ------------------------------------------------------------------ the tables
def test_every_declared_measure_is_a_column_in_order(done) -> None:
    sim, res = done
    tiers = sim.rulebook.tier_names
    assert list(res.daily.columns) == IDS + ms.daily_columns(tiers)
    for m in ms.DAILY:
        for name in m.names(tiers if m.each == "tier" else ms.BEHAVIOUR_KINDS):
            col = res.daily[name]
            assert col.dtype.kind == ("i" if m.dtype == "int" else "f"), name
    assert list(res.behaviours.columns) == IDS + ["behaviour", "kind", "channel", *ms.BEHAVIOUR_COLUMNS]
    assert list(res.services.columns) == IDS + ["service", "kind", *ms.SERVICE_COLUMNS]
    for m in ms.DAILY:
        if m.over_cells == ms.WHOLE:  # whole population only
            assert res.daily.loc[res.daily["breakdown"] != "all", m.name].isna().all(), m.name


def test_state_columns_hold_what_their_names_say(done) -> None:
    """The last day's aggregates (record is the day's last step) against the final state, by declared name."""
    sim, res = done
    st = sim.state
    last = sim.daily.state[sim.daily.days_done - 1, 0]  # the whole population's cell

    def col(name: str) -> float:
        return last[ms.column("state", name)]

    bl = st.black_since >= 0
    assert col("persons") == st.n
    assert col("blacklisted") == bl.sum()
    assert col("redlisted") == (st.red_since >= 0).sum()
    assert col("blacklisted_wrongly") == (bl & (st.black_since_cf < 0)).sum()
    assert col("blacklisted_cf") == (st.black_since_cf >= 0).sum()
    score = st.score.astype(np.float64)
    assert col("score_sum") == pytest.approx(score.sum(), rel=1e-9)
    assert col("score_sq") == pytest.approx((score**2).sum(), rel=1e-9)
    assert col("income_sum") == pytest.approx(st.income.astype(np.float64).sum(), rel=1e-9)
    assert col("risk_sum") == pytest.approx(st.risk.astype(np.float64).sum(), rel=1e-9, abs=1e-9)
    end = _all_rows(res).iloc[-1]
    assert end["score_mean"] == pytest.approx(score.mean(), rel=1e-9)
    assert end["income_mean"] == pytest.approx(st.income.astype(np.float64).mean(), rel=1e-9)
    # network (measured on the last day)
    net = sim.daily.network[sim.daily.days_done - 1, 0]
    degree = st.degree.astype(np.int64)
    assert net[ms.column("network", "degree_sum")] == degree.sum()
    assert net[ms.column("network", "degree_blacklisted_sum")] == degree[bl].sum()
    assert end["degree_mean"] == pytest.approx(degree.mean())


def test_aggregate_kernel_writes_the_declared_columns() -> None:
    """aggregate_kernel and degree_kernel on persons chosen so that every column has its own value."""
    import numba

    from socialcredit.engine.layout import NGROUPS
    from socialcredit.engine.stages.daily import NBINS, aggregate_kernel, degree_kernel

    n = 10
    score = np.arange(1, n + 1, dtype=np.float32) * 10  # 10 .. 100
    tier = np.zeros(n, np.uint8)
    zeros8 = np.zeros(n, np.uint8)
    no = np.full(n, -1, np.int32)
    black, black_cf, red = no.copy(), no.copy(), no.copy()
    black[[0, 1, 2, 3]] = 5  # 4 blacklisted
    black_cf[[1, 2, 3, 4, 5]] = 5  # 5 without false records, so 1 only because of them (person 0)
    red[[8, 9]] = 3  # 2 redlisted
    income = np.arange(n, dtype=np.float32) + 0.5
    risk = np.full(n, 0.25, np.float32)
    nm = len(ms.STATE_COLUMNS)
    part = np.zeros((NGROUPS, 1, nm), np.float64)
    hpart = np.zeros((numba.config.NUMBA_NUM_THREADS, 1, NBINS), np.int32)
    out = np.zeros((1, nm), np.float64)
    hist = np.zeros((1, NBINS), np.int64)
    aggregate_kernel(score, tier, black, black_cf, red, income, risk, zeros8, zeros8, 1, 1, 10.0, 90.0 / NBINS,
                     part, hpart, out, hist)  # fmt: skip
    s64 = score.astype(np.float64)
    expected = {
        "persons": n, "score_sum": s64.sum(), "score_sq": (s64**2).sum(), "blacklisted": 4, "redlisted": 2,
        "blacklisted_wrongly": 1, "blacklisted_cf": 5, "income_sum": income.astype(np.float64).sum(), "risk_sum": 2.5,
    }  # fmt: skip
    assert len(set(expected.values())) == nm  # every column tells its own value
    for name in ms.STATE_COLUMNS:
        assert out[0, ms.column("state", name)] == pytest.approx(expected[name]), name
    degree = np.arange(n, dtype=np.int32)
    dpart = np.zeros((NGROUPS, 1, 2), np.int64)
    dout = np.zeros((1, 2), np.int64)
    degree_kernel(degree, tier, black, zeros8, zeros8, 1, 1, dpart, dout)
    # record_network stores degree_kernel's two sums as the first two network columns
    assert dout[0, ms.column("network", "degree_sum")] == degree.sum()
    assert dout[0, ms.column("network", "degree_blacklisted_sum")] == degree[:4].sum()


def test_company_columns_hold_what_their_names_say(done) -> None:
    sim, res = done
    comp = sim.pop.companies
    if sim.rulebook.meta.name == "nosedive":  # a society of persons only: the company columns hold nothing
        assert comp is None and res.daily["companies_blacklisted"].isna().all()  # the columns exist, empty
        return
    assert comp is not None and sim.plan.companies_active
    d = _all_rows(res)
    assert d["companies_blacklisted"].iloc[-1] == (comp.black_since >= 0).sum()
    assert d["company_score_mean"].iloc[-1] == pytest.approx(float(comp.score.mean()))
    listed = (d["company_blacklist_entries"] - d["company_blacklist_exits"]).cumsum()
    assert (listed.to_numpy() == d["companies_blacklisted"].to_numpy()).all()


def test_event_tables_agree(done) -> None:
    """The daily counts, the behaviours table and the services table count the same things in their named columns."""
    _, res = done
    d = _all_rows(res)
    b = res.behaviours[res.behaviours["breakdown"] == "all"]
    for name in ms.BEHAVIOUR_COLUMNS:
        assert b[name].sum() == d[name].sum(), name
    assert (d["detected"] <= d["events"]).all()
    assert sum(d[f"events_{k}"].sum() for k in ms.BEHAVIOUR_KINDS) == d["events"].sum()
    s = res.services[res.services["breakdown"] == "all"]
    assert s["attempts"].sum() == d["attempts"].sum()
    pun, rew = s[s["kind"] == "punishment"], s[s["kind"] == "reward"]
    assert pun["outcomes"].sum() == d["denials"].sum() and pun["wrongful"].sum() == d["denials_wrongful"].sum()
    assert rew["outcomes"].sum() == d["rewards"].sum() and rew["wrongful"].sum() == d["rewards_lost"].sum()


def test_counters_write_the_declared_columns(done) -> None:
    sim, _ = done
    t = sim.counters
    t.reset()
    # 20 events of behaviour 0 by persons 0..19, each detected with probability one half (the detect stage's kernel)
    from socialcredit import rng
    from socialcredit.engine.layout import CHUNK
    from socialcredit.engine.stages import detect

    n, plan, pers = sim.state.n, sim.plan, sim.pop.persons
    actors = np.arange(20)
    event = np.full(n, 255, np.uint8)
    event[actors] = 0
    local = np.zeros(n, np.uint16)
    local[:20] = actors
    chunk_counts = np.zeros((n + CHUNK - 1) // CHUNK, np.int64)
    chunk_counts[0] = 20
    coverage = np.full((len(plan.detection.channel_names), len(pers.region_offsets) - 1), 0.5)
    key = rng.key(1, "detect", 0)
    detect.detect_kernel(
        key, key, key, event, local, chunk_counts, np.concatenate(([0], np.cumsum(chunk_counts))), pers.region, pers.group,
        sim.state.tier, t.R, t.G, pers.region_offsets, plan.behaviours.channel, coverage, np.zeros(coverage.shape[0]),
        sim.gnorm, np.empty(20, np.int32), np.empty(20, np.uint8), t.counts, t.bcounts, 4,
    )  # fmt: skip
    detected = sum(rng.uniform(key, i) < 0.5 for i in actors)
    assert 0 < detected < 20
    t.records(np.array([3, 4, 5], np.int32), np.zeros(3, np.uint8), np.array([0, 1, 1], np.uint8))
    t.persons("appeals_won", np.array([6, 7], np.int64))
    counts = t.counts.sum(axis=0)
    expected = {"events": 20, "detected": detected, "records_true": 1, "records_false": 2, "appeals_won": 2}
    for name in ms.EVENT_COLUMNS:
        assert counts[ms.column("events", name)] == expected.get(name, 0), name
    bcounts = t.bcounts[:, 0].sum(axis=0)
    for name in ms.BEHAVIOUR_COLUMNS:
        assert bcounts[ms.column("behaviour", name)] == expected[name], name
    if sim.plan.services:
        t.reset()
        t.service(0, np.array([0, 1, 2, 3], np.int64), np.array([1, 2], np.int64), np.array([2], np.int64))
        scounts = t.scounts[:, 0].sum(axis=0)
        assert [scounts[ms.column("service", n)] for n in ("attempts", "outcomes", "wrongful")] == [4, 2, 1]
    t.reset()


# ------------------------------------------------------------------ the summary and its labels
def _keys(summary: dict) -> list[str]:
    """Every key of a summary, nested ones included, except the per-tier, per-kind and per-service names."""
    keys = []
    for key, value in summary.items():
        keys.append(key)
        if key == ms.SERVICES:
            for per_service in value.values():
                keys += list(per_service)
        elif key == ms.RESPONSES:
            keys += list(value)
    return keys


def test_summary_holds_the_declared_entries_in_order(done) -> None:
    sim, res = done
    s = res.summary()
    d = _all_rows(res)
    expected = []
    for m in ms.summary_entries():
        if m.summary == ms.SET:
            shown = bool(res.meta.get(m.of[0]))
        elif m.summary == ms.PRESENT and m.over_days == ms.LAST:
            shown = not np.isnan(d[m.of[0]].iloc[-1])
        elif m.over_days == ms.GROUP and m.summary == ms.NONZERO:
            shown = any(d[c.name].sum() > 0 for c in ms.summary_entries(m.name))
        else:
            shown = True
        if shown:
            expected.append(m.name)
    assert list(s) == expected
    assert list(s.get(ms.RESPONSES, {})) == [k for k in ms.RESPONSE_MEASURES if d[k].sum() > 0]
    for v in s[ms.SERVICES].values():
        kind = v["kind"]
        assert list(v) == [m.name for m in ms.summary_entries(ms.SERVICES) if m.service_kind in ("", kind)]
    assert list(s["tier_shares"]) == sim.rulebook.tier_names
    assert list(s["events_by_kind"]) == list(ms.BEHAVIOUR_KINDS)
    assert s["blacklist_entries"] == d["blacklist_entries"].sum()
    assert s["blacklisted"] == d["blacklisted"].iloc[-1]
    for key in _keys(s):
        assert ms.SUMMARY_LABELS.get(key), f"no label for summary key {key}"
        assert ms.REPORT_LABELS.get(key), f"no report label for summary key {key}"


def test_cli_and_report_show_the_declared_labels(done) -> None:
    from rich.console import Console

    from socialcredit import cli
    from socialcredit.report.html import summary_rows

    _, res = done
    s = res.summary()
    buf = io.StringIO()
    saved, cli.out = cli.out, Console(file=buf, width=250, color_system=None)
    try:
        cli.print_summary(s)
    finally:
        cli.out = saved
    text = buf.getvalue()
    rows = [label for label, _ in summary_rows(res)]
    shown = ["persons", "days", "score_mean", "tier_shares", "blacklisted", "redlisted", "blacklist_entries",
             "records_true", "events_by_kind", "friends_of_blacklisted", "score_assortativity",
             *s.get(ms.RESPONSES, {})]  # fmt: skip
    for key in shown:
        assert ms.SUMMARY_LABELS[key] in text, key
        assert ms.REPORT_LABELS[key] in rows, key
    if "companies_blacklisted" in s:
        assert ms.SUMMARY_LABELS["companies_blacklisted"] in text
    assert s.get(ms.RESPONSES), "the scenario should show responses"


def test_final_state_frame_lives_in_the_results_layer(done) -> None:
    from socialcredit.results.final_state import final_state_frame

    sim, _ = done
    f = final_state_frame(sim)
    assert len(f) == sim.state.n
    assert f["blacklisted"].sum() == (sim.state.black_since >= 0).sum()
