"""The control scenario: the rongcheng society without scoring.

- it is the same society as rongcheng (population, behaviours, detection, demand);
- it produces no sanction at all: no denial, grant, list entry or point;
- under the same seed and population it shares rongcheng's random numbers:
  identical behaviour events on the first day, and on every day when
  rongcheng's deterrence is switched off; with deterrence on, rongcheng has
  fewer harmful events and about the same rewarded ones.
"""

from __future__ import annotations

import numpy as np
import pytest

import socialcredit as sc
from socialcredit.rulebook.conditions import FieldSpec, compile_condition

PERSONS = 5000
DAYS = 180


@pytest.fixture(scope="module")
def control():
    return sc.run(
        sc.load(
            "control",
            [f"simulation.audit_sample={PERSONS}"],
            persons=PERSONS,
            days=DAYS,
        )
    )


@pytest.fixture(scope="module")
def rongcheng():
    return sc.run(sc.load("rongcheng", persons=PERSONS, days=DAYS))


def test_false_is_a_valid_condition() -> None:
    cond = compile_condition("false", {"blacklisted": FieldSpec("bool")}, behaviours=[])
    assert cond.constant is False
    assert not cond({"blacklisted": np.ones(4, bool)}).any()


def strip(x):
    """A model dump without the `source:` / `assumed:` labels, which differ on purpose."""
    if isinstance(x, dict):
        return {k: strip(v) for k, v in x.items() if k not in ("source", "assumed")}
    if isinstance(x, list):
        return [strip(v) for v in x]
    return x


def test_same_society_as_rongcheng() -> None:
    c, r = sc.load("control"), sc.load("rongcheng")
    assert strip(c.population.model_dump()) == strip(r.population.model_dump())
    keys = ("name", "actor", "rate", "heterogeneity", "kind", "channel")
    assert [{k: getattr(b, k) for k in keys} for b in c.behaviours] == [
        {k: getattr(b, k) for k in keys} for b in r.behaviours
    ]
    assert strip(c.detection.model_dump()) == strip(r.detection.model_dump())
    skeys = ("name", "demand", "income_elasticity")
    assert [{k: getattr(s, k) for k in skeys} for s in c.services] == [
        {k: getattr(s, k) for k in skeys} for s in r.services
    ]
    assert c.score.initial == r.score.initial
    assert (c.simulation.seed, c.simulation.days) == (
        r.simulation.seed,
        r.simulation.days,
    )
    # and nothing of the policy
    assert all(b.points == 0 for b in c.behaviours)
    assert len(c.tiers) == 1 and c.lists.blacklist is None and c.lists.redlist is None


def test_no_sanctions_at_all(control) -> None:
    s = control.summary()
    assert s["blacklisted"] == 0 and s["blacklist_entries"] == 0 and s["redlisted"] == 0
    for name, svc in s["services"].items():
        assert svc["attempts"] > 0, name
        assert svc.get("denied", 0) == 0 and svc.get("granted", 0) == 0, name
    daily = control.to_df("daily")
    assert (daily["score_mean"] == 1000).all() and (daily["score_sd"] == 0).all()
    assert daily["records_true"].sum() > 0  # records are made ...
    audit = control.to_df("audit")
    records = audit[audit["event"] == "record"]
    assert (
        len(records) > 0 and (records["points"] == 0).all()
    )  # ... but carry no points
    assert set(audit["event"]) == {
        "record"
    }  # no score change, tier change, list entry, denial or grant
    assert s.get("institutions_and_responses") is None  # no appeals or other responses


def test_first_day_identical_to_rongcheng(control, rongcheng) -> None:
    """Day 0 comes before any response: the same draws give the same events."""
    bc, br = control.to_df("behaviours"), rongcheng.to_df("behaviours")
    for col in ("events", "detected"):
        assert np.array_equal(
            bc.loc[bc["day"] == 0, col].to_numpy(),
            br.loc[br["day"] == 0, col].to_numpy(),
        ), col
    assert bc.loc[bc["day"] == 0, "events"].sum() > 0
    sc_, sr = control.to_df("services"), rongcheng.to_df("services")
    assert np.array_equal(
        sc_.loc[sc_["day"] == 0, "attempts"].to_numpy(),
        sr.loc[sr["day"] == 0, "attempts"].to_numpy(),
    )


def test_identical_behaviour_when_rongcheng_deters_nobody(control) -> None:
    """Without deterrence (its only response acting on behaviour), rongcheng's people do
    exactly what the control's do, every day: the difference between the two is the policy."""
    quiet = sc.run(
        sc.load(
            "rongcheng",
            ["responses.deterrence.elasticity=0"],
            persons=PERSONS,
            days=DAYS,
        )
    )
    bc, bq = control.to_df("behaviours"), quiet.to_df("behaviours")
    assert np.array_equal(bc["events"].to_numpy(), bq["events"].to_numpy())
    assert np.array_equal(bc["detected"].to_numpy(), bq["detected"].to_numpy())
    # demand draws too, for services whose demand does not depend on income
    sc_, sq = control.to_df("services"), quiet.to_df("services")
    fixed = [s.name for s in sc.load("control").services if s.income_elasticity == 0]
    pick = lambda df: df[df["service"].isin(fixed)]["attempts"].to_numpy()
    assert np.array_equal(pick(sc_), pick(sq))


def test_deterrence_lowers_harmful_events_only(control, rongcheng) -> None:
    """With deterrence on, rongcheng's people who lost points do less of what is penalised.

    Expectation: deterrence acts only on persons with perceived risk (those who lost
    points or were refused), a few percent of the population in half a year, so
    harmful events fall by a little (0.3% to 5%); rewarded (prosocial) events are not
    deterred and change only through the shared draw (within 1%)."""
    dc, dr = control.to_df("daily"), rongcheng.to_df("daily")
    h_c, h_r = dc["events_harmful"].sum(), dr["events_harmful"].sum()
    p_c, p_r = dc["events_prosocial"].sum(), dr["events_prosocial"].sum()
    drop = 1 - h_r / h_c
    assert 0.003 < drop < 0.05, drop
    assert abs(p_r / p_c - 1) < 0.01
