"""Tests of engine.stages.lending: loans by a score threshold whose repayment or default moves the score."""

from __future__ import annotations

import copy

import numpy as np

from tests.conftest import base_rulebook, run

GAIN, LOSS = 20.0, -40.0


def lending(data: dict, **kw) -> dict:
    out = copy.deepcopy(data)
    out["behaviours"] += [
        {"name": "loan_repaid", "rate": 0, "kind": "prosocial", "channel": "records", "points": GAIN, "assumed": "test"},
        {"name": "loan_default", "rate": 0, "kind": "harmful", "channel": "records", "points": LOSS, "assumed": "test"},
    ]
    out["lending"] = {"demand": 6, "threshold": 960, "term": 10, "midpoint": 980, "scale": 20,
                      "repaid": "loan_repaid", "defaulted": "loan_default", "assumed": "test"} | kw  # fmt: skip
    return out


def whole(res):
    return res.daily[res.daily["breakdown"] == "all"].reset_index(drop=True)


def test_applications_and_grants_follow_the_rate_and_the_threshold() -> None:
    """Applications ~ Binomial(N * days, demand/365) (4 standard errors); granted only at or above the threshold,
    and the repaid count is the sum of the borrowers' repayment probabilities (4 standard errors)."""
    persons, days = 4000, 60
    data = lending(base_rulebook(persons=persons, days=days))
    data["simulation"]["audit_sample"] = persons  # every loan in the audit trail
    _, res = run(data)
    d = whole(res)
    apps = d["loan_applications"].sum()
    p = 6 / 365
    assert abs(apps - persons * days * p) < 4 * np.sqrt(persons * days * p * (1 - p))
    granted = res.audit[res.audit["event"] == "loan_granted"]
    refused = res.audit[res.audit["event"] == "loan_refused"]
    assert len(granted) == d["loans_granted"].sum() > 100
    assert len(granted) + len(refused) == apps
    assert (granted["score"] >= 960).all() and (refused["score"] < 960).all() and len(refused) > 100
    prob = 1 / (1 + np.exp(-(granted["score"].to_numpy() - 980) / 20))
    repaid = d["loans_repaid"].sum()
    assert repaid + d["loans_defaulted"].sum() == len(granted)
    assert abs(repaid - prob.sum()) < 4 * np.sqrt((prob * (1 - prob)).sum())


def test_on_and_off_the_score_moves_by_the_points_of_the_loan_records() -> None:
    """With the same seed, lending moves the mean score by exactly the points of the loan records that reached it;
    with a term past the run's end nothing else changes."""
    data = base_rulebook(persons=3000, days=60)
    _, off = run(lending(data, demand=0))
    _, on = run(lending(data))
    _, late = run(lending(data, term=100))
    b = on.behaviours[on.behaviours["breakdown"] == "all"].groupby("behaviour", observed=True)["records_true"].sum()
    n = 3000
    shift = (b["loan_repaid"] * GAIN + b["loan_default"] * LOSS) / n
    assert b["loan_repaid"] > 50 and b["loan_default"] > 50
    got = whole(on)["score_mean"].iloc[-1] - whole(off)["score_mean"].iloc[-1]
    assert abs(got - shift) < 1e-3 * abs(shift) + 1e-6, (got, shift)
    assert np.array_equal(whole(late)["score_mean"].to_numpy(), whole(off)["score_mean"].to_numpy())
    assert whole(off)["loan_applications"].sum() == 0


def test_a_group_threshold_shuts_the_group_out() -> None:
    _, res = run(lending(base_rulebook(persons=3000, days=40), thresholds={"minority": 5000}))
    g = res.daily[res.daily["breakdown"] == "group"]
    granted = g.groupby(g["level"].astype(str), observed=True)["loans_granted"].sum()
    apps = g.groupby(g["level"].astype(str), observed=True)["loan_applications"].sum()
    assert granted["minority"] == 0 and apps["minority"] > 50
    assert granted["majority"] > 50


def test_refusals_only_because_of_false_records_are_counted() -> None:
    data = base_rulebook(persons=4000, days=90)
    data["detection"]["channels"]["camera"]["false_attribution"] = 0.3
    _, res = run(lending(data))
    d = whole(res)
    refused = d["loan_applications"].sum() - d["loans_granted"].sum()
    assert 0 < d["loans_refused_wrongly"].sum() <= refused
    _, clean = run(lending(base_rulebook(persons=4000, days=90)))
    assert whole(clean)["loans_refused_wrongly"].sum() == 0
