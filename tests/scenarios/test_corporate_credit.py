"""The corporate-credit scenario: validates, runs small, and shows its defining effect.

- firms enter the company list, and each listed firm's revenue is 60% of what it was;
- the staff of listed firms are laid off at about 30% (binomial, 4 standard errors), lose about
  0.3 x 0.5 = 15% of their income on average (within 3 points), and the staff of other firms nothing;
- without company sanctions (same seed) the firms are listed alike but nobody is laid off.

10,000 persons (the 800 firms of the scenario), 365 days, seed 3.
"""

from __future__ import annotations

import numpy as np
import pytest

import socialcredit as sc
from socialcredit.analysis.employment import employees_of_sanctioned
from socialcredit.engine.sim import Sim
from socialcredit.results import Results
from socialcredit.results.final_state import final_state_frame

PERSONS, DAYS = 10_000, 365


def run(rb):
    sim = Sim(rb)
    res = Results.from_sim(sim.run())
    return sim, res


@pytest.fixture(scope="module")
def shipped():
    return run(sc.load("corporate-credit", persons=PERSONS, days=DAYS))


def test_listed_firms_lose_revenue_and_lay_off_a_share_of_their_staff(shipped) -> None:
    sim, res = shipped
    comp, pers = sim.pop.companies, sim.pop.persons
    hit = comp.revenue < 1
    assert hit.sum() >= 10
    assert np.allclose(comp.revenue[hit], 0.6)
    table = employees_of_sanctioned(type("Run", (), {"final_state": final_state_frame(sim)})()).set_index("group")
    staff = table.loc["employees of sanctioned companies"]
    p = 0.75 * 0.4
    assert abs(staff["laid_off"] - p * staff["persons"]) < 4 * np.sqrt(staff["persons"] * p * (1 - p))
    assert abs(staff["income_change_mean"] + p * 0.5) < 0.03
    assert table.loc["employees of other companies", "laid_off"] == 0
    assert abs(table.loc["employees of other companies", "income_change_mean"]) < 0.005
    d = res.daily[res.daily["breakdown"] == "all"]
    assert d["layoffs"].sum() == staff["laid_off"] == sim.company_book.laid_off.sum()
    assert (pers.employer[sim.company_book.laid_off] >= 0).all()


def test_without_sanctions_the_same_firms_are_listed_and_nobody_is_laid_off(shipped) -> None:
    sim, _ = shipped
    rb = sc.load("corporate-credit", persons=PERSONS, days=DAYS)
    rb.institutions.company_sanctions = None  # a run-time copy: the shipped file is untouched
    sim_off, off = run(rb)
    assert np.array_equal(sim_off.pop.companies.black_since >= 0, sim.pop.companies.black_since >= 0)
    assert off.daily["layoffs"].sum() == 0 and (sim_off.pop.companies.revenue == 1).all()
