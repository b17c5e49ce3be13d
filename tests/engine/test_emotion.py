"""Tests of emotion monitoring at work (engine/stages/emotion.py): checks, flags true and false, records, dismissals."""

from __future__ import annotations

import copy

import numpy as np

from socialcredit.engine.stages.company import monitored_companies
from tests.conftest import base_rulebook, run

PREV, SENS, FPR, CHECKS = 0.02, 0.7, 0.05, 24.0


def monitoring(persons: int = 6000, days: int = 90, audit: bool = False, **kw) -> dict:
    data = base_rulebook(persons=persons, days=days, seed=11)
    data["population"]["companies"] = {"count": 120, "employment": 0.7}
    data["behaviours"].append({"name": "emotional_outlier", "rate": 0, "kind": "harmful", "channel": "records",
                               "points": -40, "assumed": "test"})  # fmt: skip
    data["institutions"] = {"emotion_monitoring": {
        "companies": 0.5, "checks": CHECKS, "prevalence": PREV, "sensitivity": SENS, "false_positive": FPR,
        "record": "emotional_outlier", "dismissal": 0.2, "income_loss": 0.5, "assumed": "test"} | kw}  # fmt: skip
    data["simulation"]["audit_sample"] = persons if audit else 0
    return copy.deepcopy(data)


def whole(res):
    return res.daily[res.daily["breakdown"] == "all"].reset_index(drop=True)


def test_flags_follow_the_rates_and_most_are_false_at_a_low_prevalence() -> None:
    """Flags per check = PREV*SENS + (1-PREV)*FPR; their false share (1-PREV)*FPR / that = 0.78 (the base rate):
    both within 4 standard errors. Only employees of monitored companies are checked."""
    sim, res = run(monitoring(audit=True))
    d = whole(res)
    checks, flags, false = d["emotion_checks"].sum(), d["emotion_flags"].sum(), d["emotion_flags_false"].sum()
    p = PREV * SENS + (1 - PREV) * FPR
    assert checks > 3000
    assert abs(flags - checks * p) < 4 * np.sqrt(checks * p * (1 - p))
    q = (1 - PREV) * FPR / p
    assert abs(false / flags - q) < 4 * np.sqrt(q * (1 - q) / flags)
    watched = monitored_companies(sim.plan.seed, 0.5, sim.pop.companies.n)
    flagged = res.audit[res.audit["event"] == "emotion_flagged"]
    assert len(flagged) == flags and watched[flagged["other"].to_numpy().astype(int)].all()
    rec = res.audit[(res.audit["event"] == "record") & (res.audit["detail"] == "emotion flag")]
    assert len(rec) == flags and rec["is_false"].sum() == false


def test_on_and_off_false_flags_cost_records_listings_and_jobs() -> None:
    """The same seed without monitoring: fewer false records and wrongful listings; dismissals after false flags
    cost income (each dismissed person lost half of their income at that day)."""
    data = monitoring()
    _, on = run(data)
    off_data = copy.deepcopy(data)
    del off_data["institutions"]["emotion_monitoring"]
    _, off = run(off_data)
    d_on, d_off = whole(on), whole(off)
    assert d_on["records_false"].sum() - d_off["records_false"].sum() == d_on["emotion_flags_false"].sum()
    assert d_on["blacklisted_wrongly"].iloc[-1] > d_off["blacklisted_wrongly"].iloc[-1]
    assert 0 < d_on["dismissals_after_false_flags"].sum() <= d_on["dismissals_after_flags"].sum()
    assert d_on["income_lost_to_false_flags"].sum() > 0 and d_off["emotion_flags"].sum() == 0


def test_stress_raises_the_prevalence_and_the_flags() -> None:
    """With responses.stress on, stress adds to the prevalence: more true flags than without (same seed)."""
    base = monitoring(days=120)
    base["responses"]["stress"] = {"listed": 1.0, "risk": 0.5, "half_life": 5}
    base["responses"]["deterrence"] = {"elasticity": 1.0}
    linked = copy.deepcopy(base)
    linked["institutions"]["emotion_monitoring"]["stress"] = 1.0
    _, a = run(base)
    _, b = run(linked)
    true_a = whole(a)["emotion_flags"].sum() - whole(a)["emotion_flags_false"].sum()
    true_b = whole(b)["emotion_flags"].sum() - whole(b)["emotion_flags_false"].sum()
    assert true_b > true_a * 1.2, (true_a, true_b)
