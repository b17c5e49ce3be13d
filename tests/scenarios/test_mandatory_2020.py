"""The mandatory-2020 scenario: validates, runs small, and shows its defining effect.

- the dates: day 0 is 14 June 2014 (the Planning Outline), everyone is enrolled from 1 January 2020;
- the enrolled never leave while the pilots grow, so ``enrolled`` never falls, rises from under 2%
  of the persons to most of them, and equals the persons from the mandatory day on;
- the early pilot cities are enrolled first (about 90% by 2016), the rest near zero until later;
- persons not enrolled are neither scored nor sanctioned: every denial and listing in the audit
  falls on a person already enrolled;
- the timeline's train bans switch on on 1 May 2018: no train denials before, some after.

3,000 persons, the full 2393 days (to the end of 2020), seed 1.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import socialcredit as sc

PERSONS = 3000
MANDATORY = (dt.date(2020, 1, 1) - dt.date(2014, 6, 14)).days  # 2027
TRAIN_BANS = (dt.date(2018, 5, 1) - dt.date(2014, 6, 14)).days  # 1417


@pytest.fixture(scope="module")
def rb():
    return sc.load(
        "mandatory-2020", [f"simulation.audit_sample={PERSONS}"], persons=PERSONS
    )


@pytest.fixture(scope="module")
def res(rb):
    return sc.run(rb)


def test_validates_with_its_defaults(rb) -> None:
    full = sc.load("mandatory-2020")
    assert 20_000 <= full.population.persons <= 50_000
    assert full.simulation.start == dt.date(2014, 6, 14)
    assert full.simulation.start + dt.timedelta(
        days=full.simulation.days - 1
    ) == dt.date(2020, 12, 31)
    assert rb.enrolment.mandatory_day(rb.simulation.start) == MANDATORY
    assert [c.day_number(rb.simulation.start) for c in rb.timeline] == [
        566,
        932,
        1297,
        TRAIN_BANS,
        1662,
    ]


def test_enrolment_grows_then_everyone(res) -> None:
    d = res.to_df("daily").set_index("day")
    enrolled = d["enrolled"]
    assert (np.diff(enrolled.to_numpy()) >= 0).all(), "somebody left the system"
    assert 0 < enrolled.loc[0] < 0.02 * PERSONS
    assert enrolled.loc[MANDATORY - 1] > 5 * enrolled.loc[0]
    assert enrolled.loc[MANDATORY - 1] < PERSONS
    assert (enrolled.loc[MANDATORY:] == PERSONS).all()
    assert (d.loc[MANDATORY:, "persons"] == PERSONS).all()


def test_the_pilot_cities_come_first(res) -> None:
    d = res.to_df("daily", None)
    d = d[d["breakdown"] == "region"].set_index(["day", "level"])
    share = d["enrolled"] / d["persons"]
    # by 2016-01-01 the early pilots are at about 90% (tolerance: 3,000 persons, 150 of them there) ...
    assert share.loc[(566, "early_pilots")] == pytest.approx(0.9, abs=0.08)
    # ... while the countryside is near zero until the last year before the deadline
    assert share.loc[(566, "countryside")] < 0.05
    assert share.loc[(MANDATORY - 1, "countryside")] < 0.3
    assert share.loc[(MANDATORY, "countryside")] == 1.0


def test_the_unenrolled_are_neither_listed_nor_denied(res) -> None:
    audit = res.to_df("audit")
    enrolled_on = audit[audit["event"] == "enrolled"].groupby("person")["day"].min()
    for event in ("denial", "blacklist_enter"):
        ev = audit[audit["event"] == event]
        assert len(ev) > 0, event
        since = enrolled_on.reindex(ev["person"]).to_numpy()
        assert not np.isnan(since).any(), f"a {event} of a person never enrolled"
        assert (ev["day"].to_numpy() >= since).all(), f"a {event} before enrolment"


def test_train_bans_switch_on_in_may_2018(res) -> None:
    sv = res.to_df("services")
    train = sv[sv["service"] == "train"].set_index("day")
    assert train.loc[: TRAIN_BANS - 1, "attempts"].sum() == 0
    assert train.loc[TRAIN_BANS:, "attempts"].sum() > 0
    assert train.loc[TRAIN_BANS:, "outcomes"].sum() > 0  # listed persons refused trains
