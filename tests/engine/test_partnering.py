"""Tests of partners chosen by score (responses.partnering in engine/stages/partners.py, analysis.couples)."""

from __future__ import annotations

import copy

import numpy as np

from socialcredit.analysis.couples import couple_correlation
from socialcredit.results.final_state import final_state_frame
from tests.conftest import base_rulebook, run

RATE = 6.0


def partnering(a: float, rate: float = RATE, persons: int = 8000, days: int = 120) -> dict:
    data = base_rulebook(persons=persons, days=days)
    data["behaviours"][0]["heterogeneity"] = 1.0  # spread the scores
    data["population"]["partners"] = 0.4
    data["score"]["social"] = {"friends": 0.0, "partner": 0.0, "period": 10}
    data["responses"]["partnering"] = {"rate": rate, "assortativity": a, "assumed": "test"}
    return copy.deepcopy(data)


def test_the_new_couples_correlate_about_the_assortativity() -> None:
    """Couples formed on the last update (143 at 20,000 persons): matched on score alone (a = 1) their scores
    correlate above 0.8; at random (a = 0) within 4 / sqrt(couples) of 0; at a = 0.5 within 0.2 of 0.5; the couples from the start (paired at random) stay near 0."""
    r = {}
    for a in (0.0, 0.5, 1.0):
        sim, _ = run(partnering(a, persons=20000))
        table = couple_correlation(final_state_frame(sim), formed_from=110)  # the last update: 10 days of drift
        r[a] = table.loc["formed during the run", "score_correlation"]
        n_new = table.loc["formed during the run", "couples"]
        assert n_new > 100
        old = table.loc["from the start"]
        assert abs(old["score_correlation"]) < 4 / np.sqrt(old["couples"])
    assert r[1.0] > 0.8
    assert abs(r[0.0]) < 4 / np.sqrt(n_new)
    assert abs(r[0.5] - 0.5) < 0.2 and r[0.0] + 0.15 < r[0.5] < r[1.0] - 0.1, r  # seed 7: 0.07, 0.58, 0.96


def test_market_entries_follow_the_rate_and_couples_are_mutual() -> None:
    """On each social update (every 10 days) singles enter with probability rate * 10 / 365:
    persons who formed a partnership ~ that share of the singles (within 10%, an odd one out per region waits)."""
    sim, res = run(partnering(0.5))
    p = sim.pop.persons
    has = p.partner >= 0
    assert (p.partner[p.partner[has]] == np.flatnonzero(has)).all()  # partnerships are mutual
    formed = res.daily[res.daily["breakdown"] == "all"]["partnerships_formed"]
    assert formed.sum() == (p.partner_since >= 0).sum()
    assert set(np.flatnonzero(formed.to_numpy())) <= set(range(0, 120, 10))
    first = formed.iloc[0]
    singles0 = 8000 - int(round(0.4 * 8000))  # about: partners share 0.4 (pairs within region)
    expected = singles0 * RATE * 10 / 365
    assert abs(first - expected) < 0.1 * expected + 4 * np.sqrt(expected)


def test_the_correlation_reads_partners_by_person_number_whatever_the_row_order() -> None:
    sim, _ = run(partnering(1.0, persons=4000, days=40))
    fs = final_state_frame(sim)
    a = couple_correlation(fs, formed_from=30)
    b = couple_correlation(fs.sample(frac=1.0, random_state=1), formed_from=30)
    assert (a["couples"] == b["couples"]).all() and a.loc["formed during the run", "couples"] > 10
    assert np.allclose(a["score_correlation"], b["score_correlation"], rtol=1e-9)  # the same couples, summed in another order


def test_off_no_partnership_forms_and_nothing_changes() -> None:
    data = partnering(0.5, rate=0.0)
    sim, off = run(data)
    assert (sim.pop.persons.partner_since == -1).all()
    assert off.daily["partnerships_formed"].sum() == 0
    data2 = copy.deepcopy(data)
    del data2["responses"]["partnering"]
    _, base = run(data2)
    assert off.daily["score_mean"].equals(base.daily["score_mean"])
