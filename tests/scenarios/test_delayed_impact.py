"""The delayed-impact scenario (Liu et al., ICML 2018): validates, sources its numbers, and the engine follows the closed form.

- the scenario validates: lending is off for the warm-up year and turned on by the timeline; the groups
  differ only in how often the cameras misidentify them, and that alone puts the minority's scores lower
  (without the false records the two groups' scores are the same);
- every number carries ``source:`` or ``assumed:``;
- on the scenario's own minority scores (end of the warm-up) Liu et al.'s outcome curve is concave,
  rises, peaks and falls below zero before the acceptance rate reaches 1;
- demographic parity harms the minority (its mean score falls) where the profit-maximising rule does not;
- the engine's lending realises the closed form: in one run, three 30-day windows of applications
  (the profit-maximising threshold, the parity thresholds, everyone accepted), each group's realised
  change of the mean score per expected application agrees with delta_mu(beta) within 3 standard errors
  (binomial variance of the person-days' draws); under parity and when everyone is accepted the
  minority's realised change is negative (active harm), under maximum profit positive.

20,000 persons (2,003 in the minority), seed 1: a 365-day run and a 635-day run, a few seconds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import socialcredit as sc
from socialcredit.analysis.lending import (
    delayed_impact_curve,
    outcome_regions,
    parity_case,
    repay_probability,
)
from socialcredit.engine.sim import Sim
from socialcredit.results.final_state import final_state_frame
from socialcredit.scenarios.catalogue import values

NAME = "delayed-impact"
PERSONS = 20_000
SEED = 1
WARMUP = 365  # the timeline turns lending on on this day
WINDOW = 30  # days each window's thresholds hold
DEMAND = 6.0  # applications a year during the windows: a = 6 * 30 / 365 = 0.49 per person a window
A = DEMAND * WINDOW / 365.0
SETTINGS = ("population.persons", "simulation.", "institutions.transparency")


@pytest.fixture(scope="module")
def rb():
    return sc.load(NAME)


@pytest.fixture(scope="module")
def model(rb) -> dict[str, float]:
    points = {b.name: b.base_points() for b in rb.behaviours}
    ln = rb.lending
    return {"midpoint": ln.midpoint, "scale": ln.scale, "gain": points[ln.repaid], "loss": points[ln.defaulted]}


@pytest.fixture(scope="module")
def warm() -> pd.DataFrame:
    """Every person at the end of the warm-up (day 364): group, score, score without false records."""
    return final_state_frame(Sim(sc.load(NAME, persons=PERSONS, seed=SEED, days=WARMUP)).run())


@pytest.fixture(scope="module")
def scores(warm) -> dict[str, np.ndarray]:
    return {g: warm.loc[warm["group"] == g, "score"].to_numpy(np.float64) for g in ("majority", "minority")}


def test_validates_with_lending_off_for_the_warm_up(rb) -> None:
    assert rb.population.persons == PERSONS and rb.simulation.seed == SEED
    groups = {g.name: g for g in rb.population.groups}
    assert (groups["majority"].misidentification, groups["minority"].misidentification) == (1, 10)
    assert groups["minority"].source == "nist8280"
    # one behaviour at the same true rate for everyone; the loans' records are the lender's (rate 0)
    rates = {b.name: b.rate for b in rb.behaviours}
    assert rates["loan_repaid"] == rates["loan_default"] == 0 and rates["jaywalking"] > 0
    assert rb.detection.channels["camera"].false_attribution > 0
    ln = rb.lending
    assert ln.demand == 0 and ln.thresholds == {}
    assert ln.repaid == "loan_repaid" and ln.defaulted == "loan_default"
    (change,) = rb.timeline
    assert change.day == WARMUP and change.set == {"lending.demand": 1}
    # the shipped threshold is the lender's break-even p(s) = 4/5 (u_repay 1, u_default -4)
    assert repay_probability(ln.threshold, ln.midpoint, ln.scale) == pytest.approx(0.8, abs=0.001)
    assert ln.term >= 3 * WINDOW  # the check's windows end before the first loan record lands


def test_every_number_has_a_source_or_an_assumption() -> None:
    _, rows = values(NAME)
    bare = [(r.key, r.value) for r in rows if r.basis == "setting" and isinstance(r.value, (int, float))
            and not isinstance(r.value, bool) and not r.key.startswith(SETTINGS)]  # fmt: skip
    assert not bare, bare
    basis = {r.key: r.basis for r in rows}
    for key in ("lending.midpoint", "lending.scale", "lending.threshold", "lending.term", "behaviours[loan_repaid].points",
                "behaviours[loan_default].points", "population.groups[minority].misidentification", "timeline[0].day"):  # fmt: skip
        assert basis[key] in ("source", "assumed"), key


def test_the_false_records_alone_put_the_minority_lower(warm) -> None:
    by = warm.groupby("group", observed=True)
    n = by.size()
    assert n["minority"] == pytest.approx(0.1 * PERSONS, rel=0.05)
    mean = by["score"].mean()
    clean = by["score_without_false_records"].mean()
    sd = by["score_without_false_records"].std()
    # without the false records the groups' scores are the same: means within 4 standard errors of the difference
    se = float(np.sqrt(sd["majority"] ** 2 / n["majority"] + sd["minority"] ** 2 / n["minority"]))
    assert abs(clean["minority"] - clean["majority"]) < 4 * se, (clean.to_dict(), se)
    # with them the minority is about 30 points lower (29 with seed 1); at least 20
    assert mean["majority"] - mean["minority"] > 20


def test_the_minoritys_outcome_curve_rises_peaks_and_falls_into_active_harm(scores, model) -> None:
    c = delayed_impact_curve(scores["minority"], **model, rates=np.linspace(0, 1, 201))
    change = c["mean_change"].to_numpy()
    assert np.diff(change, 2).max() <= 1e-9  # concave
    best = int(np.argmax(change))
    assert 0 < best < len(change) - 1
    assert (np.diff(change[: best + 1]) >= 0).all() and change[best] > 1  # rises (by 2.3 points per application)
    assert (np.diff(change[best:]) <= 0).all() and change[-1] < -10  # then falls: -14.8 at rate 1
    r = outcome_regions(c)
    assert 0 < r["rate_best"] < r["rate_zero"] < 1


def test_parity_harms_the_minority_where_maximum_profit_does_not(scores, model) -> None:
    pc = parity_case(scores, **model).set_index("group")
    mino, majo = pc.loc["minority"], pc.loc["majority"]
    # the profit-maximising rule accepts more of the majority than of the minority, and helps both
    assert mino["rate_max_profit"] < majo["rate_max_profit"]
    assert mino["change_max_profit"] > 0 and majo["change_max_profit"] > 0
    # parity accepts the minority at a rate between the two, past its rate_zero: its mean score falls
    assert mino["rate_max_profit"] < mino["rate_parity"] < majo["rate_max_profit"]
    assert mino["rate_parity"] > mino["rate_zero"]
    assert mino["change_parity"] < 0 and bool(mino["harmed_by_parity"])
    assert majo["change_parity"] > 0 and not bool(majo["harmed_by_parity"])


def _threshold(scores: np.ndarray, rate: float) -> float:
    """The score whose acceptance rate (share at or above it) is nearest ``rate``."""
    values = np.unique(scores)
    shares = np.array([(scores >= v).mean() for v in values])
    return float(values[int(np.argmin(np.abs(shares - rate)))])


def _closed_form(scores: np.ndarray, threshold: float, model: dict[str, float]) -> tuple[float, float, float]:
    """(rate, delta_mu at that rate, standard error of the realised change per expected application).

    Each person-day of a window is a draw: apply with probability q = DEMAND / 365; an accepted applicant
    adds gain with probability p(s), else loss. Var(sum) = WINDOW * sum over accepted of q E[X^2] - (q E[X])^2,
    and the realised change is the sum / (n A).
    """
    acc = scores >= threshold
    rate = float(acc.mean())
    mu = float(delayed_impact_curve(scores, **model, rates=[rate])["mean_change"].iloc[0])
    p = repay_probability(scores[acc], model["midpoint"], model["scale"])
    g, l = model["gain"], model["loss"]
    q = DEMAND / 365.0
    var = WINDOW * float(np.sum(q * (p * g**2 + (1 - p) * l**2) - (q * (p * g + (1 - p) * l)) ** 2))
    return rate, mu, float(np.sqrt(var) / (scores.size * A))


@pytest.fixture(scope="module")
def check(rb, scores, model) -> pd.DataFrame:
    """One run: three windows of WINDOW days from day WARMUP (max profit, parity, everyone), then no applications."""
    parity = float(parity_case(scores, **model)["rate_parity"].iloc[0])
    windows = {
        "max profit": {g: rb.lending.threshold for g in scores},
        "parity": {g: _threshold(s, parity) for g, s in scores.items()},
        "everyone": {g: 0.0 for g in scores},
    }
    timeline = []
    for k, th in enumerate(windows.values()):
        change = {f"lending.thresholds.{g}": t for g, t in th.items()} | ({"lending.demand": DEMAND} if k == 0 else {})
        timeline.append({"day": WARMUP + k * WINDOW, "set": change})
    timeline.append({"day": WARMUP + len(windows) * WINDOW, "set": {"lending.demand": 0}})
    term = rb.lending.term
    res = sc.run(sc.load(NAME, {"timeline": timeline}, persons=PERSONS, seed=SEED, days=WARMUP + len(windows) * WINDOW + term))
    beh = res.behaviours[(res.behaviours["breakdown"] == "group") & res.behaviours["behaviour"].isin(["loan_repaid", "loan_default"])]
    daily = res.daily[res.daily["breakdown"] == "group"]
    assert daily.loc[daily["day"] < WARMUP, "loan_applications"].sum() == 0  # no lending in the warm-up
    assert beh.loc[beh["day"] < WARMUP + term, "records_true"].sum() == 0  # no loan record lands during the windows
    rows = []
    for k, (label, th) in enumerate(windows.items()):
        for g, s in scores.items():
            land = WARMUP + k * WINDOW + term
            got = beh[(beh["level"] == g) & beh["day"].between(land, land + WINDOW - 1)]
            by = got.groupby("behaviour", observed=True)["records_true"].sum()
            rep, dft = int(by.get("loan_repaid", 0)), int(by.get("loan_default", 0))
            granted = daily[(daily["level"] == g) & daily["day"].between(WARMUP + k * WINDOW, WARMUP + (k + 1) * WINDOW - 1)]
            # the loans counted on the day they were granted are the records that land `term` days later
            assert (int(granted["loans_repaid"].sum()), int(granted["loans_defaulted"].sum())) == (rep, dft)
            rate, mu, se = _closed_form(s, th[g], model)
            sim = (rep * model["gain"] + dft * model["loss"]) / (s.size * A)
            rows.append({"window": label, "group": g, "rate": rate, "predicted": mu, "simulated": sim, "se": se, "loans": rep + dft})
    return pd.DataFrame(rows).set_index(["window", "group"])


def test_the_engine_realises_the_closed_form_within_three_standard_errors(check) -> None:
    for (window, group), r in check.iterrows():
        assert r["loans"] > 100, (window, group)
        assert abs(r["simulated"] - r["predicted"]) < 3 * r["se"], (window, group, r.to_dict())
    # the windows span both sides of the minority's curve
    m = check.xs("minority", level="group")
    assert m.loc["max profit", "predicted"] > 0 > m.loc["parity", "predicted"] > m.loc["everyone", "predicted"]


def test_the_engine_shows_active_harm_under_parity_and_not_under_maximum_profit(check) -> None:
    m = check.xs("minority", level="group")
    # parity: delta_mu = -3.5 with a standard error of 0.8 (seed 1: -3.0 realised), so a realised change
    # at or above 0 is 4.5 standard errors away; accepting everyone: -14.8 with 1.0 (seed 1: -13.7)
    assert m.loc["parity", "simulated"] < 0, m.loc["parity"].to_dict()
    assert m.loc["everyone", "simulated"] < -3 * m.loc["everyone", "se"], m.loc["everyone"].to_dict()
    # maximum profit: +2.0 with 0.3 (seed 1: +2.2)
    assert m.loc["max profit", "simulated"] > 3 * m.loc["max profit", "se"], m.loc["max profit"].to_dict()
    # the majority gains under every rule (its curve never falls below zero on these scores)
    assert (check.xs("majority", level="group")["simulated"] > 0).all()
