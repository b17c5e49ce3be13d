"""Tests of households with children: who has children, school places denied for a parent's listing, and the
children a listing reaches (engine/stages/children.py, services with applies_to: children)."""

from __future__ import annotations

import copy

import numpy as np

from tests.conftest import base_rulebook, run

SHARE, MEAN = 0.4, 1.5


def households(data: dict, school: str | None = "blacklisted or partner_blacklisted") -> dict:
    out = copy.deepcopy(data)
    out["population"]["partners"] = 0.6
    out["population"]["children"] = {"share": SHARE, "mean": MEAN, "assumed": "test"}
    if school is not None:
        out["services"].append({"name": "school", "demand": 2, "applies_to": "children", "denied_when": school})
    return out


def whole(res):
    return res.daily[res.daily["breakdown"] == "all"].reset_index(drop=True)


def test_households_have_children_at_the_share_and_the_mean() -> None:
    """A share SHARE of households (a person with their partner) have 1 + Poisson(MEAN - 1) children, held by the
    guardian (the lower-numbered partner): the share within 4 standard errors, the mean within 4 standard errors."""
    sim, _ = run(households(base_rulebook(persons=20000, days=1), school=None))
    p = sim.pop.persons
    guardian = (p.partner < 0) | (np.arange(p.n) < p.partner)
    assert (p.children[~guardian] == 0).all()
    has = p.children[guardian] > 0
    h = guardian.sum()
    assert abs(has.mean() - SHARE) < 4 * np.sqrt(SHARE * (1 - SHARE) / h)
    kids = p.children[guardian][has].astype(float)
    assert abs(kids.mean() - MEAN) < 4 * np.sqrt((MEAN - 1) / has.sum())
    assert kids.min() == 1


def test_children_change_nothing_else_under_the_same_seed() -> None:
    data = base_rulebook(persons=3000, days=60)
    data["population"]["partners"] = 0.6
    _, off = run(data)
    _, on = run(households(data, school=None))
    cols = ["score_mean", "blacklisted", "denials", "records_true"]
    assert whole(on)[cols].equals(whole(off)[cols])
    assert whole(off)["children_of_listed"].sum() == 0 and whole(on)["children_of_listed"].iloc[-1] > 0


def test_children_of_listed_counts_the_households_with_a_listed_parent() -> None:
    sim, res = run(households(base_rulebook(persons=6000, days=90)))
    p, st = sim.pop.persons, sim.state
    g = np.flatnonzero(p.children)
    mate = p.partner[g]
    listed = (st.black_since[g] >= 0) | ((mate >= 0) & (st.black_since[np.maximum(mate, 0)] >= 0))
    assert whole(res)["children_of_listed"].iloc[-1] == p.children[g][listed].sum() > 0


def test_two_guardians_who_pair_up_both_count_when_one_is_listed() -> None:
    """With partnering, two guardians can become partners: a listing of either counts the children of both
    (against a direct count over every guardian on the last day)."""
    data = households(base_rulebook(persons=6000, days=90))
    data["responses"]["partnering"] = {"rate": 6, "assortativity": 0.0}
    data["score"]["social"] = {"friends": 0.0, "period": 10}
    sim, res = run(data)
    p, st = sim.pop.persons, sim.state
    g = np.flatnonzero(p.children)
    mate = p.partner[g]
    assert ((mate >= 0) & (p.children[np.maximum(mate, 0)] > 0)).any()  # some guardians live together
    listed = (st.black_since[g] >= 0) | ((mate >= 0) & (st.black_since[np.maximum(mate, 0)] >= 0))
    assert whole(res)["children_of_listed"].iloc[-1] == p.children[g][listed].sum() > 0


def test_school_places_are_denied_for_a_parent_and_applied_for_per_child() -> None:
    """Applications ~ sum of children * demand/365 * days (4 standard errors); a partner's listing adds denials."""
    days = 90
    sim, both = run(households(base_rulebook(persons=6000, days=days)))
    _, own = run(households(base_rulebook(persons=6000, days=days), school="blacklisted"))
    sv = both.services[(both.services["breakdown"] == "all") & (both.services["service"] == "school")]
    apps = sv["attempts"].sum()
    expected = sim.pop.persons.children.sum() * 2 / 365 * days
    assert abs(apps - expected) < 4 * np.sqrt(expected)
    so = own.services[(own.services["breakdown"] == "all") & (own.services["service"] == "school")]
    assert sv["outcomes"].sum() > so["outcomes"].sum() > 0  # the partner's listing denies too


def test_wrongful_listings_reach_children() -> None:
    data = base_rulebook(persons=6000, days=90)
    data["detection"]["channels"]["camera"]["false_attribution"] = 0.3
    _, res = run(households(data))
    d = whole(res)
    assert 0 < d["children_of_wrongly_listed"].iloc[-1] <= d["children_of_listed"].iloc[-1]
    sv = res.services[(res.services["breakdown"] == "all") & (res.services["service"] == "school")]
    assert sv["wrongful"].sum() > 0
    _, clean = run(households(base_rulebook(persons=6000, days=90)))
    assert whole(clean)["children_of_wrongly_listed"].sum() == 0
