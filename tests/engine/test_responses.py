"""Effect tests of the society's responses: deterrence, chilling, gaming, economic feedback, friends' sanctions.

Each test runs the same seed with the mechanism off and on (common random
numbers: the behave draw of a person-day is the same in both runs) and checks
the direction and the rough size of the effect against the equation in the
module docstrings of :mod:`socialcredit.engine.stages.behave` and
:mod:`socialcredit.engine.stages.risk`.
"""

from __future__ import annotations

import numpy as np

from socialcredit.results import Results
from tests.conftest import base_rulebook, run, run_stepwise


def events_by_behaviour(res: Results):
    return res.to_df("behaviours").groupby("behaviour", observed=True)["events"].sum()


def daily_events(res: Results, behaviour: str) -> np.ndarray:
    b = res.to_df("behaviours")
    return b[b["behaviour"] == behaviour].sort_values("day")["events"].to_numpy()


def quiet_rulebook(persons: int, days: int, seed: int) -> dict:
    """The base rulebook without lists and services: perceived risk comes from own records only."""
    data = base_rulebook(persons=persons, days=days, seed=seed)
    data["lists"] = {}
    data["services"] = []
    return data


# ---------------------------------------------------------------- 1. deterrence
def test_deterrence_lowers_penalised_rates_by_the_expected_factor() -> None:
    """Penalised behaviours (littering -10, fraud -50) with elasticity e = 2 vs 0.

    Expectation: a person-day's penalised rate is multiplied by 1 / (1 + e r) with r
    the risk the day starts from, so the expected on/off ratio of penalised events
    is the mean of 1 / (1 + e r_i(t)) over person-days (heterogeneity 0: equal
    rates). It is computed exactly from the per-person risks (stepping the run):
    tolerance 0.02 on the ratio (with common draws the on-run events are a thinning
    of the off-run ones; the thinning sd is about 0.004). From the daily risk_mean
    alone, Jensen's inequality gives a lower bound 1 / (1 + e mean r): the drop must
    not exceed that predicted drop, and (risk is spread over persons but not
    extremely so) must be at least half of it; measured about 0.7 of it.
    """
    e = 2.0
    data = quiet_rulebook(persons=6000, days=150, seed=11)
    data["responses"]["deterrence"] = {"elasticity": 0.0, "half_life": 60, "points_scale": 20}
    _, off = run(data)
    data["responses"]["deterrence"]["elasticity"] = e
    expected_mult: list[float] = []
    _, on = run_stepwise(data, before=lambda sim: expected_mult.append(float(np.mean(1.0 / (1.0 + e * sim.state.risk.astype(np.float64))))))

    d_on = on.to_df("daily")
    risk_mean = d_on["risk_mean"].to_numpy()
    assert risk_mean[-1] > 0.2  # people were penalised and perceive a risk
    h_off = off.to_df("daily")["events_harmful"].to_numpy()
    h_on = d_on["events_harmful"].to_numpy()
    ratio = h_on.sum() / h_off.sum()
    assert ratio < 0.85, ratio  # a clear drop
    exact = float((np.array(expected_mult) * h_off).sum() / h_off.sum())
    assert abs(ratio - exact) < 0.02, (ratio, exact)
    # from the daily mean risk (the risk on day t-1 acts on day t)
    r_prev = np.r_[0.0, risk_mean[:-1]]
    jensen = float((h_off / (1.0 + e * r_prev)).sum() / h_off.sum())
    assert ratio > jensen - 0.01, (ratio, jensen)
    assert 0.5 < (1 - ratio) / (1 - jensen) <= 1.0 + 0.05, ((1 - ratio), (1 - jensen))
    # both penalised behaviours fall alike; the rewarded one (public rules, no gaming) does not
    b_off, b_on = events_by_behaviour(off), events_by_behaviour(on)
    for name in ("littering", "fraud"):
        assert abs(b_on[name] / b_off[name] - exact) < 0.05, (name, b_on[name] / b_off[name], exact)
    assert abs(b_on["volunteering"] / b_off["volunteering"] - 1) < 0.05


# ---------------------------------------------------------------- 2. chilling
def test_secret_rules_chill_benign_behaviour_and_public_rules_do_not() -> None:
    """A zero-point benign behaviour (criticism, rate 4) with deterrence elasticity 2 vs 0.

    Secret rules: every behaviour is deterred by the same factor 1 / (1 + e r), so
    benign events fall (expect about 0.75 of the off run here) by the same ratio as
    the penalised ones (heterogeneity 0: tolerance 0.03).

    Public rules: the benign behaviour is not deterred. Its events are not exactly
    equal when it comes after deterred behaviours in the rulebook: one uniform per
    person-day is walked over the cumulative rates, and shrinking the deterred
    rates ahead of it shifts which draws land on it (equal in expectation; the
    coupled difference has sd about 1%, tolerance 4%). Listed first, its interval
    [0, rate) never moves, so its events are exactly equal, day by day.
    """
    criticism = {"name": "criticism", "rate": 4, "kind": "benign", "channel": "camera", "points": 0}

    def pair(transparency: str, first: bool):
        data = quiet_rulebook(persons=6000, days=150, seed=12)
        if first:
            data["behaviours"].insert(0, dict(criticism))
        else:
            data["behaviours"].append(dict(criticism))
        data["institutions"] = {"transparency": transparency}
        data["responses"]["deterrence"] = {"elasticity": 0.0, "half_life": 60, "points_scale": 20}
        _, off = run(data)
        data["responses"]["deterrence"]["elasticity"] = 2.0
        _, on = run(data)
        return off, on

    off, on = pair("secret", first=False)
    b_off, b_on = events_by_behaviour(off), events_by_behaviour(on)
    benign = b_on["criticism"] / b_off["criticism"]
    harmful = (b_on["littering"] + b_on["fraud"]) / (b_off["littering"] + b_off["fraud"])
    assert benign < 0.85, benign
    assert abs(benign - harmful) < 0.03, (benign, harmful)
    assert on.to_df("daily")["events_benign"].sum() == b_on["criticism"]

    off, on = pair("public", first=False)
    b_off, b_on = events_by_behaviour(off), events_by_behaviour(on)
    assert (b_on["littering"] + b_on["fraud"]) / (b_off["littering"] + b_off["fraud"]) < 0.85  # deterrence is on
    assert abs(b_on["criticism"] / b_off["criticism"] - 1) < 0.04, b_on["criticism"] / b_off["criticism"]

    off, on = pair("public", first=True)
    np.testing.assert_array_equal(daily_events(on, "criticism"), daily_events(off, "criticism"))
    assert events_by_behaviour(on)["littering"] < 0.85 * events_by_behaviour(off)["littering"]


def test_a_behaviour_s_own_transparency_overrides_the_rulebook_s() -> None:
    """Partly secret rules: ``behaviours[].transparency`` wins over ``institutions.transparency``.

    Public rules with one secret behaviour: that behaviour is chilled by the factor of the penalised ones
    (as under secret rules above: about 0.75, tolerance 0.03). Secret rules with one public behaviour: that
    behaviour is not deterred; listed first, its events equal those of the run without deterrence, day by day.
    """
    criticism = {"name": "criticism", "rate": 4, "kind": "benign", "channel": "camera", "points": 0}

    def pair(rules: str, own: str):
        data = quiet_rulebook(persons=6000, days=150, seed=12)
        data["behaviours"].insert(0, {**criticism, "transparency": own})
        data["institutions"] = {"transparency": rules}
        data["responses"]["deterrence"] = {"elasticity": 0.0, "half_life": 60, "points_scale": 20}
        _, off = run(data)
        data["responses"]["deterrence"]["elasticity"] = 2.0
        _, on = run(data)
        return events_by_behaviour(off), events_by_behaviour(on), off, on

    b_off, b_on, _, _ = pair("public", "secret")
    benign = b_on["criticism"] / b_off["criticism"]
    harmful = (b_on["littering"] + b_on["fraud"]) / (b_off["littering"] + b_off["fraud"])
    assert benign < 0.85 and abs(benign - harmful) < 0.03, (benign, harmful)

    b_off, b_on, off, on = pair("secret", "public")
    np.testing.assert_array_equal(daily_events(on, "criticism"), daily_events(off, "criticism"))
    assert (b_on["littering"] + b_on["fraud"]) < 0.85 * (b_off["littering"] + b_off["fraud"])  # the rest is deterred


# ---------------------------------------------------------------- 3. gaming
def test_gaming_raises_rewarded_rates_under_public_rules_only() -> None:
    """Rewarded behaviours volunteering (+5, responses deterrence and gaming) and donating (+3, responses
    gaming only), with gaming elasticity g = 1 vs 0 (deterrence elasticity 0).

    Public rules: their rates are multiplied by 1 + g r, linear in r, so the expected
    on/off ratio of prosocial events is exactly 1 + g * (mean risk of the day before),
    weighted by the off run's daily counts (tolerance 0.04; the extra events are about
    5000, so their relative sd is below 0.01), for each of the two as well (0.06: the
    walk shifts draws between them). Penalised behaviours come first in the walk and
    are not gamed: their events are exactly equal.
    Secret rules: nobody games (volunteering is deterred instead, with elasticity 0;
    donating responds to nothing), so every behaviour's events are exactly equal.
    """
    g = 1.0
    for transparency in ("public", "secret"):
        data = base_rulebook(persons=6000, days=150, seed=13)
        data["behaviours"].append({"name": "donating", "rate": 2, "kind": "prosocial", "channel": "records", "points": 3, "responses": ["gaming"]})
        data["institutions"] = {"transparency": transparency}
        data["responses"] = {"deterrence": {"elasticity": 0.0, "half_life": 60, "points_scale": 20}, "gaming": {"elasticity": 0.0}}
        _, off = run(data)
        data["responses"]["gaming"]["elasticity"] = g
        _, on = run(data)
        b_off, b_on = events_by_behaviour(off), events_by_behaviour(on)
        d_on, d_off = on.to_df("daily"), off.to_df("daily")
        risk_mean = d_on["risk_mean"].to_numpy()
        assert risk_mean[-1] > 0.3  # the risk that drives gaming is there in both cases
        if transparency == "public":
            p_off = d_off["events_prosocial"].to_numpy()
            expected = float(((1 + g * np.r_[0.0, risk_mean[:-1]]) * p_off).sum() / p_off.sum())
            ratio = d_on["events_prosocial"].sum() / p_off.sum()
            assert ratio > 1.2, ratio
            assert abs(ratio - expected) < 0.04, (ratio, expected)
            for name in ("volunteering", "donating"):
                assert abs(b_on[name] / b_off[name] - expected) < 0.06, (name, b_on[name] / b_off[name], expected)
            assert b_on["littering"] == b_off["littering"] and b_on["fraud"] == b_off["fraud"]
            assert d_on["events_prosocial"].sum() == b_on["volunteering"] + b_on["donating"]
        else:
            assert b_on.equals(b_off), (b_on, b_off)


# ---------------------------------------------------------------- 4. economic feedback
def test_income_feedback_raises_defaults_of_those_whose_income_was_cut() -> None:
    """A ``default`` behaviour (rate 2, -20 points, responses deterrence and income); loans (demand 4)
    denied at tier C or below cut income by 30%; income elasticity 2 vs 0 (deterrence elasticity 0).

    Expectation: after k loan denials a person's default rate is multiplied by
    (income0 / income) ** 2 = (1 / 0.7) ** (2 k) (about 2.04 per denial), from the day
    after the denial. Before their first denial a person's history is the same in
    both runs (no social term, no deterrence), so the first denial day is the same
    and persons never denied have exactly the same defaults. After the first denial:
    off-run defaults ~ rate x days, on-run defaults ~ rate x sum of multipliers over
    the days, computed from the on run's denials (audit of everyone); Poisson
    tolerance 4 sd + 3%. Measured: about 3 times as many defaults with feedback.
    """
    n, days, rate = 5000, 150, 2.0
    data = base_rulebook(persons=n, days=days, seed=21)
    data["behaviours"].append(
        {"name": "default", "rate": rate, "kind": "harmful", "channel": "records", "points": -20, "responses": ["deterrence", "income"]}
    )
    data["services"] = [{"name": "loan", "demand": 4, "denied_when": "tier <= 'C'", "consequences": {"income": -0.3}}]
    data["simulation"]["audit_sample"] = n
    data["responses"]["income"] = {"elasticity": 0.0}
    _, off = run(data)
    data["responses"]["income"] = {"elasticity": 2.0}
    s_on, on = run(data)

    def audit_of(res):
        a = res.audit
        denials = a[(a["event"] == "denial") & (a["service"] == "loan")]
        defaults = a[(a["event"] == "record") & (a["behaviour"] == "default")]  # records coverage 1, no false records
        return denials, defaults

    den_on, def_on = audit_of(on)
    den_off, def_off = audit_of(off)
    first_on = den_on.groupby("person")["day"].min()
    first_off = den_off.groupby("person")["day"].min()
    assert len(first_on) > 300
    assert first_on.equals(first_off)  # identical histories up to the first income cut

    # the multiplier in force: denials before each day, and the state at the end
    k = np.zeros((n, days + 1))
    for day, p in den_on[["day", "person"]].itertuples(index=False):
        k[p, day + 1 :] += 1
    mult = (1 / 0.7) ** (2 * k[:, :days])
    assert (rate * mult.max() + 9.5) / 365 < 1  # the one-event-per-day cap never binds (other rates: 9.5 a year)
    np.testing.assert_allclose(s_on.state.income, s_on.pop.persons.income * 0.7 ** k[:, days], rtol=1e-5)
    np.testing.assert_allclose(s_on.state.income_mult, (1 / 0.7) ** (2 * k[:, days]), rtol=1e-4)

    def after_first(defaults):
        m = defaults.merge(first_on.rename("first"), left_on="person", right_index=True)
        return int((m["day"] > m["first"]).sum())

    got_on, got_off = after_first(def_on), after_first(def_off)
    exp_on = sum(rate / 365 * mult[p, f + 1 :].sum() for p, f in first_on.items())
    exp_off = sum(rate / 365 * (days - 1 - f) for f in first_on.to_numpy())
    assert abs(got_on - exp_on) < 4 * np.sqrt(exp_on) + 0.03 * exp_on, (got_on, exp_on)
    assert abs(got_off - exp_off) < 4 * np.sqrt(exp_off) + 0.03 * exp_off, (got_off, exp_off)
    assert got_on > 2 * got_off, (got_on, got_off)

    never = np.setdiff1d(np.arange(n), first_on.index.to_numpy())
    c_on = def_on[def_on["person"].isin(never)].groupby("person").size()
    c_off = def_off[def_off["person"].isin(never)].groupby("person").size()
    assert len(c_on) > 1000 and c_on.equals(c_off)  # persons never denied are unaffected


# ---------------------------------------------------------------- 5. friends' sanctions
def test_friends_of_sanctioned_persons_gain_perceived_risk() -> None:
    """friends_weight 0.5 vs 0 (deterrence elasticity 1, half-life 30).

    Expectation (respond docstring): r_i = sum over days t of f**(T-1-t) * (own lost
    points / points_scale + sanction_weight * own denials + friends_weight * friends'
    denials), f = 2**(-1/half_life). The on run's final risk is rebuilt from its own
    audit (everyone sampled) and the network: equal to float32 precision. The
    friends' part is the gap to the off run, less a little because the extra risk
    deters records (expect 0.7 to 1.05 of it). Until the first denial the runs are equal.
    """
    n, days, h, fw, sw, scale = 5000, 120, 30.0, 0.5, 1.0, 100.0
    data = base_rulebook(persons=n, days=days, seed=31)
    data["simulation"]["audit_sample"] = n
    data["responses"]["deterrence"] = {"elasticity": 1.0, "half_life": h, "friends_weight": 0.0, "sanction_weight": sw, "points_scale": scale}
    _, off = run(data)
    data["responses"]["deterrence"]["friends_weight"] = fw
    sim, on = run(data)

    f = 0.5 ** (1 / h)
    a = on.audit
    own = np.zeros(n)
    friends = np.zeros(n)
    rec = a[(a["event"] == "record") & (a["points"] < 0)]
    np.add.at(own, rec["person"].to_numpy(), -rec["points"].to_numpy() / scale * f ** (days - 1 - rec["day"].to_numpy()))
    den = a[a["event"] == "denial"]
    np.add.at(own, den["person"].to_numpy(), sw * f ** (days - 1 - den["day"].to_numpy()))
    net = sim.pop.network
    for day, p in den[["day", "person"]].itertuples(index=False):
        row = net.indices[net.indptr[p] : net.indptr[p + 1]]
        friends[row[row >= 0]] += fw * f ** (days - 1 - day)
    assert len(den) > 100 and friends.mean() > 0.02
    np.testing.assert_allclose(sim.state.risk, own + friends, rtol=1e-3, atol=1e-5)

    r_on = on.to_df("daily")["risk_mean"].to_numpy()
    r_off = off.to_df("daily")["risk_mean"].to_numpy()
    first = int(den["day"].min())
    np.testing.assert_array_equal(r_on[: first], r_off[: first])
    assert (r_on[first:] > r_off[first:]).all()
    gap = r_on[-1] - r_off[-1]
    assert 0.7 * friends.mean() < gap < 1.05 * friends.mean(), (gap, friends.mean())
