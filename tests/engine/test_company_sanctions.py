"""Tests of company sanctions (engine/stages/company_sanctions.py): a listed company loses revenue and lays off
employees, who lose income though they did nothing; analysis.employment compares them with other employees."""

from __future__ import annotations

import copy

import numpy as np

from socialcredit.analysis.employment import employees_of_sanctioned
from socialcredit.results.final_state import final_state_frame
from tests.conftest import base_rulebook, run

LOSS = 0.5  # contracts 0.3 + loans 0.15 + bonds 0.05
LAYOFFS = 0.6  # employees laid off per share of revenue lost: probability 0.3
INCOME_LOSS = 0.4


def companies(persons: int = 6000, days: int = 120, sanctions: bool = True) -> dict:
    data = base_rulebook(persons=persons, days=days, seed=5)
    data["population"]["companies"] = {"count": 100, "employment": 0.6}
    data["behaviours"].append({"name": "tax_evasion", "actor": "company", "rate": 3, "kind": "harmful",
                               "channel": "records", "points": -30})  # fmt: skip
    data["lists"]["company_blacklist"] = {"enter": "score < 950", "min_days": 30}
    data["services"] = [{"name": "flight", "demand": 2, "denied_when": "blacklisted"}]  # no income consequence
    if sanctions:
        data["institutions"] = {"company_sanctions": {"contracts": 0.3, "loans": 0.15, "bonds": 0.05, "layoffs": LAYOFFS,
                                                      "income_loss": INCOME_LOSS, "assumed": "test"}}  # fmt: skip
    return copy.deepcopy(data)


def whole(res):
    return res.daily[res.daily["breakdown"] == "all"].reset_index(drop=True)


def test_listed_companies_lose_revenue_and_lay_off_a_binomial_share() -> None:
    """Every listed company's revenue is 1 - LOSS; layoffs ~ Binomial(employees of listed companies,
    LAYOFFS * LOSS) within 4 standard errors; each laid-off employee lost INCOME_LOSS of their income."""
    sim, res = run(companies())
    comp, pers = sim.pop.companies, sim.pop.persons
    listed = comp.black_since >= 0
    assert listed.sum() > 5
    assert np.allclose(comp.revenue[listed], 1 - LOSS) and (comp.revenue[~listed] == 1).all()
    staff = np.isin(pers.employer, np.flatnonzero(listed))
    p = LAYOFFS * LOSS
    laid = sim.company_book.laid_off
    assert not laid[~staff].any()
    assert abs(laid.sum() - p * staff.sum()) < 4 * np.sqrt(staff.sum() * p * (1 - p))
    assert whole(res)["layoffs"].sum() == laid.sum()
    assert np.allclose(sim.state.income[laid], pers.income[laid] * (1 - INCOME_LOSS), rtol=1e-5)
    lost = whole(res)["layoff_income_lost"].sum()
    assert abs(lost - (pers.income[laid] * INCOME_LOSS).sum()) <= laid.sum()  # each rounded to a whole unit
    assert whole(res)["company_revenue_mean"].iloc[-1] == np.float32(comp.revenue.mean())


def test_on_and_off_only_employees_of_sanctioned_companies_lose_income() -> None:
    """Same seed with and without sanctions: the companies are listed alike (income does not feed back into
    behaviour here); employees of sanctioned companies lose about LAYOFFS * LOSS * INCOME_LOSS of their income on
    average (within 0.03), the others nothing."""
    sim_on, on = run(companies())
    sim_off, off = run(companies(sanctions=False))
    assert np.array_equal(sim_on.pop.companies.black_since, sim_off.pop.companies.black_since)
    table = employees_of_sanctioned(type("R", (), {"final_state": final_state_frame(sim_on)})()).set_index("group")
    hit = table.loc["employees of sanctioned companies"]
    other = table.loc["employees of other companies"]
    assert hit["persons"] > 100 and other["persons"] > 100
    assert abs(hit["income_change_mean"] + LAYOFFS * LOSS * INCOME_LOSS) < 0.03
    assert other["income_change_mean"] == 0 and other["laid_off"] == 0
    assert whole(off)["layoffs"].sum() == 0 and (sim_off.pop.companies.revenue == 1).all()
    # the persons' scores and lists do not change (nothing reads income here)
    assert whole(on)["score_mean"].equals(whole(off)["score_mean"])


def test_layoffs_by_wrongly_listed_companies_are_wrongful() -> None:
    """Representatives' false records, coupled to their companies (company_record), list some companies only
    because of false records: their layoffs are wrongful, and none are without false records."""
    data = companies(persons=6000, days=150)
    data["behaviours"].append({"name": "manager_listed", "actor": "company", "rate": 0, "kind": "harmful",
                               "channel": "records", "points": -100})  # fmt: skip
    data["institutions"]["coupling"] = {"company_record": "manager_listed"}
    data["detection"]["channels"]["camera"]["false_attribution"] = 0.5
    _, res = run(data)
    d = whole(res)
    assert 0 < d["layoffs_wrongful"].sum() <= d["layoffs"].sum()
    data["detection"]["channels"]["camera"]["false_attribution"] = 0.0
    _, clean = run(data)
    assert whole(clean)["layoffs_wrongful"].sum() == 0 and whole(clean)["layoffs"].sum() > 0
