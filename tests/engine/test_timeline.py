"""Tests of the timeline in the engine: dated changes take effect on their day and only then."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from socialcredit.engine.sim import Sim
from socialcredit.engine.stages.score import apply_records
from tests.conftest import base_rulebook, build, run

DAY = 30


def with_timeline(data: dict, *changes: tuple[int, dict]) -> dict:
    out = copy.deepcopy(data)
    out["timeline"] = [{"day": d, "set": s, "assumed": "test"} for d, s in changes]
    return out


def all_rows(res) -> pd.DataFrame:
    return res.daily[res.daily["breakdown"] == "all"].reset_index(drop=True)


def test_a_change_takes_effect_on_its_day_and_not_before() -> None:
    """Camera coverage to 0 on day 30: the days before are identical to the run without it, then no camera record."""
    data = base_rulebook(persons=3000, days=60)
    _, off = run(data)
    sim, on = run(with_timeline(data, (DAY, {"detection.channels.camera.coverage": 0.0})))
    pd.testing.assert_frame_equal(all_rows(off).iloc[:DAY], all_rows(on).iloc[:DAY], check_exact=True)
    b = on.behaviours[(on.behaviours["breakdown"] == "all") & (on.behaviours["behaviour"] == "littering")]
    assert b[b["day"] < DAY]["records_true"].sum() > 800  # 6/365 x 3000 persons x 30 days x 0.64 coverage: ~947
    assert b[b["day"] >= DAY][["records_true", "records_false"]].to_numpy().sum() == 0
    assert sim.plan is sim.changes[DAY] and sim.plan is not sim.base_plan


def test_a_change_on_day_0_is_the_changed_rulebook() -> None:
    """A timeline change on day 0 gives exactly the run of the rulebook written with the new value."""
    data = base_rulebook(persons=2000, days=40)
    _, timeline = run(with_timeline(data, (0, {"services.flight.demand": 6, "tiers.B.min": 970})))
    changed = copy.deepcopy(data)
    changed["services"][0]["demand"] = 6
    changed["tiers"][1]["min"] = 970
    _, direct = run(changed)
    pd.testing.assert_frame_equal(timeline.daily, direct.daily, check_exact=True)
    pd.testing.assert_frame_equal(timeline.services, direct.services, check_exact=True)


def test_a_moved_threshold_reclassifies_everyone_that_day() -> None:
    """Raising tier A's minimum above the initial score moves everyone without records out of A on that day."""
    data = base_rulebook(persons=2000, days=50)
    for b in data["behaviours"]:
        b["rate"] = 0.0  # nobody's score moves: only the threshold can change a tier
    _, res = run(with_timeline(data, (DAY, {"tiers.A.min": 1001})))
    daily = all_rows(res)
    assert (daily["share_A"].iloc[:DAY] == 1.0).all()
    assert (daily["share_B"].iloc[DAY:] == 1.0).all()


def test_conditions_read_the_day() -> None:
    """A service denied from day 30 on (``day >= 30``) denies nobody before and every attempt after."""
    data = base_rulebook(persons=2000, days=60)
    data["services"][0]["denied_when"] = "day >= 30"
    _, res = run(data)
    flights = res.services[(res.services["breakdown"] == "all") & (res.services["service"] == "flight")]
    before, after = flights[flights["day"] < 30], flights[flights["day"] >= 30]
    assert before["outcomes"].sum() == 0 and before["attempts"].sum() > 200
    assert after["outcomes"].sum() == after["attempts"].sum() > 200


def test_changed_points_apply_to_new_records_and_expiry_removes_what_was_added() -> None:
    """Points change under expiry: each record counts at the points of the day it was applied, until it expires."""
    data = base_rulebook(persons=2000, days=100)
    data["score"]["recovery"] = {"mode": "expire", "days": 20}
    sim = Sim(build(with_timeline(data, (DAY, {"behaviours.littering.points": -30}), (55, {"behaviours.fraud.points": -5}))))
    sim.setup()
    while sim.state.day < 70:  # the log keeps the records the run will still read back
        sim.step()
    st = sim.state
    expected = np.zeros(st.n, np.float32)
    expected_cf = np.zeros(st.n, np.float32)
    for d in range(st.day - 20, st.day):  # the records still counting (day 49's expired on day 69), at their day's points
        p, b, f = st.log.day(d)
        apply_records(p, b, f, 1.0, sim.pop.persons.region, sim.points_on(d), expected, expected_cf)
    assert sim.plan.behaviours.points[0, 0] == -30 and sim.plan.behaviours.points[1, 0] == -5
    assert sim.points_on(54)[1, 0] == -50 and sim.points_on(55)[1, 0] == -5  # fraud before and after day 55
    np.testing.assert_allclose(st.points, expected, atol=1e-3)
    np.testing.assert_allclose(st.points_cf, expected_cf, atol=1e-3)


def test_a_timeline_with_no_change_in_the_run_changes_nothing() -> None:
    """Changes dated after the last day never take effect."""
    data = base_rulebook(persons=1500, days=30)
    _, off = run(data)
    _, late = run(with_timeline(data, (400, {"detection.channels.camera.coverage": 0.0})))
    pd.testing.assert_frame_equal(off.daily, late.daily, check_exact=True)
