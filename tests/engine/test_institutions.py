"""Effect tests of the institutions: appeals, companies and their blacklist, company-manager coupling;
reproducibility with everything on, and the old behaviour with everything off.
"""

from __future__ import annotations

import copy

import numba
import numpy as np
import pandas as pd

from tests.conftest import base_rulebook, listed_days, run


def company_rulebook(persons: int, days: int, seed: int) -> dict:
    """The base rulebook with 200 companies, a company blacklist and every person audited."""
    data = base_rulebook(persons=persons, days=days, seed=seed)
    data["population"]["companies"] = {"count": 200, "employment": 0.6}
    data["lists"]["company_blacklist"] = {"enter": "score < 950", "min_days": 30}
    data["simulation"]["audit_sample"] = persons
    return data


# ---------------------------------------------------------------- 9. appeals
def test_appeals_cut_the_days_wrongly_blacklisted_and_reverse_overturned_records() -> None:
    """False attribution 0.3 on the camera channel; blacklist without a minimum stay; appeals off vs on
    (probability 1, success_false 0.9, success_true 0, delay 5).

    Expectations:
    - person-days wrongly blacklisted (sum of blacklisted_wrongly) fall: an overturned
      false record no longer holds its victim on the list (measured about -35%; assert
      at least -15%);
    - overturned share of decided false records about 0.9 (4 binomial sd); no true
      record is ever overturned (success_true 0);
    - every appeal filed at least 5 days before the end is decided: filed = won + lost;
    - appeal_days_false = sum over overturned false records of (decision day - the day
      the record was applied), the record being the person's latest penalising one
      when they filed (from the audit);
    - overturned records' points are reversed: each person's final points equal the
      points of their records in the audit minus those of their records overturned;
      the counterfactual points (true records only) are untouched; and scores follow
      the reversed points (except persons decided on the last day: rescored tomorrow).
    """
    n, days, delay = 5000, 150, 5
    data = base_rulebook(persons=n, days=days, seed=71)
    data["detection"]["channels"]["camera"]["false_attribution"] = 0.3
    data["lists"]["blacklist"]["min_days"] = 0
    data["simulation"]["audit_sample"] = n
    _, off = run(data)
    data["institutions"] = {"appeals": {"probability": 1.0, "success_false": 0.9, "success_true": 0.0, "delay": delay}}
    sim, on = run(data)
    d_on, d_off = on.to_df("daily"), off.to_df("daily")

    wrong_on, wrong_off = d_on["blacklisted_wrongly"].sum(), d_off["blacklisted_wrongly"].sum()
    assert wrong_off > 2000
    assert wrong_on < 0.85 * wrong_off, (wrong_on, wrong_off)
    for col in ("appeals_filed", "appeals_won", "appeals_won_false", "appeals_lost", "appeal_days_false"):
        assert d_off[col].sum() == 0, col

    a = on.audit
    filed = a[a["event"] == "appeal_filed"]
    won = a[a["event"] == "appeal_won"]
    lost = a[a["event"] == "appeal_lost"]
    assert len(filed) == d_on["appeals_filed"].sum() and len(won) == d_on["appeals_won"].sum()
    assert d_on["appeals_won_false"].sum() > 50
    np.testing.assert_array_equal(d_on["appeals_won"].to_numpy(), d_on["appeals_won_false"].to_numpy())
    assert won["is_false"].all()
    decided_false = int(won["is_false"].sum() + lost["is_false"].sum())
    share = won["is_false"].sum() / decided_false
    assert abs(share - 0.9) < 4 * np.sqrt(0.09 / decided_false), (share, decided_false)
    assert d_on["appeals_filed"].sum() >= d_on["appeals_won"].sum() + d_on["appeals_lost"].sum()
    assert d_on.loc[d_on["day"] < days - delay, "appeals_filed"].sum() == d_on["appeals_won"].sum() + d_on["appeals_lost"].sum()

    # each decision belongs to the filing `delay` days before; its record is the latest penalising one then
    records = a[a["event"] == "record"]
    penalising = records[records["points"] < 0]
    key = filed.set_index(["person", "day"])
    days_false = 0
    reversed_points = np.zeros(n)
    region = sim.pop.persons.region
    names = sim.plan.behaviours.names
    for day, person in won[["day", "person"]].itertuples(index=False):
        f = key.loc[(person, day - delay)]
        mine = penalising[(penalising["person"] == person) & (penalising["day"] <= day - delay)]
        days_false += day - mine["day"].max()
        reversed_points[person] += sim.plan.behaviours.points[names.index(f["behaviour"]), region[person]]
    assert d_on["appeal_days_false"].sum() == days_false

    applied = np.zeros(n)
    np.add.at(applied, records["person"].to_numpy(), records["points"].to_numpy())
    true_only = np.zeros(n)
    t = records[~records["is_false"].astype(bool)]
    np.add.at(true_only, t["person"].to_numpy(), t["points"].to_numpy())
    assert reversed_points.min() < 0
    np.testing.assert_allclose(sim.state.points, applied - reversed_points, atol=1e-3)
    np.testing.assert_allclose(sim.state.points_cf, true_only, atol=1e-3)
    fresh = np.ones(n, bool)
    fresh[won.loc[won["day"] == days - 1, "person"].to_numpy()] = False
    own = np.clip(sim.plan.score.initial + sim.state.points, sim.plan.score.lo, sim.plan.score.hi)
    np.testing.assert_allclose(sim.state.score[fresh], own[fresh], atol=1e-3)


# ---------------------------------------------------------------- 10. company blacklist
def test_company_blacklist_bars_its_legal_representatives_from_management() -> None:
    """Companies commit tax evasion (rate 3, -30 points) and fall below 950 after two records; a
    ``management`` service (demand 12) is denied when ``blacklisted or represents_blacklisted``.
    Company blacklist on vs off.

    Expectations: persons' histories do not depend on the company blacklist (no coupling,
    no employer term), so every denial of the off run happens in the on run too; each
    additional denial hits the legal representative of a company listed before that day
    (companies are listed in stage 6, after services) who is not blacklisted personally;
    their number is about demand/365 x the representatives' listed days not personally
    listed (Poisson, 4 sd). Companies are listed (> 20 of 200), and nobody leaves the
    company list (records last 365 days).
    """
    n, days, demand = 5000, 150, 12
    data = company_rulebook(n, days, seed=81)
    data["behaviours"].append({"name": "tax_evasion", "actor": "company", "rate": 3, "kind": "harmful", "channel": "records", "points": -30})
    data["services"].append({"name": "management", "demand": demand, "denied_when": "blacklisted or represents_blacklisted"})
    off_data = copy.deepcopy(data)
    off_data["lists"]["company_blacklist"] = None
    s_off, off = run(off_data)
    sim, on = run(data)
    d_on = on.to_df("daily")
    comp = sim.pop.companies

    assert d_on["companies_blacklisted"].iloc[-1] > 20
    assert d_on["company_blacklist_entries"].sum() == d_on["companies_blacklisted"].iloc[-1] == (comp.black_since >= 0).sum()
    assert d_on["company_blacklist_exits"].sum() == 0
    assert (s_off.pop.companies.black_since < 0).all()

    def management_denials(res):
        a = res.audit
        rows = a[(a["event"] == "denial") & (a["service"] == "management")]
        return set(zip(rows["day"], rows["person"]))

    den_on, den_off = management_denials(on), management_denials(off)
    def sv(res):
        return res.to_df("services").query("service == 'management'")

    assert sv(on)["attempts"].sum() == sv(off)["attempts"].sum()
    assert sv(on)["outcomes"].sum() == len(den_on) > len(den_off) == sv(off)["outcomes"].sum()
    assert den_off <= den_on
    extra = den_on - den_off
    company_of = {int(p): c for c, p in enumerate(comp.representative) if p >= 0}
    listed = listed_days(on.audit, n, days)
    for day, person in extra:
        c = company_of.get(int(person))
        assert c is not None, person  # a legal representative
        assert 0 <= comp.black_since[c] < day, (person, day, comp.black_since[c])
        assert not listed[person, day]
    rep_days = sum(
        (~listed[p, comp.black_since[c] + 1 :]).sum() for p, c in company_of.items() if comp.black_since[c] >= 0
    )
    expected = demand / 365 * rep_days
    assert abs(len(extra) - expected) < 4 * np.sqrt(expected), (len(extra), expected)


# ---------------------------------------------------------------- 11. coupling
def test_representative_record_is_made_when_a_company_is_blacklisted() -> None:
    """coupling.representative_record = company_listed (a person behaviour, rate 0, -50 points).

    Expectations: on the day after each company enters the blacklist, its legal
    representative gets one company_listed record (a true record: the company's
    listing is not caused by false records); so their points fall by exactly 50 per
    entry relative to the run without coupling, and nobody else's points change
    (no deterrence, no social term). Company listings are the same in both runs.
    """
    n, days = 5000, 150
    data = company_rulebook(n, days, seed=91)
    data["behaviours"].append({"name": "tax_evasion", "actor": "company", "rate": 3, "kind": "harmful", "channel": "records", "points": -30})
    data["behaviours"].append({"name": "company_listed", "rate": 0, "kind": "harmful", "channel": "records", "points": -50})
    s_off, off = run(data)
    data["institutions"] = {"coupling": {"representative_record": "company_listed"}}
    sim, on = run(data)
    comp = sim.pop.companies
    np.testing.assert_array_equal(comp.black_since, s_off.pop.companies.black_since)

    a = on.audit
    listed_firms = a[a["event"] == "company_blacklisted"]
    recs = a[(a["event"] == "record") & (a["behaviour"] == "company_listed")]
    assert len(off.audit.query("event == 'record' and behaviour == 'company_listed'")) == 0
    assert len(listed_firms) > 20
    expected = sorted((int(d) + 1, int(p)) for d, p in zip(listed_firms["day"], listed_firms["person"]) if d + 1 < days)
    assert sorted(zip(recs["day"].astype(int), recs["person"].astype(int))) == expected
    assert (recs["points"] == -50).all() and not recs["is_false"].any()

    entries = np.zeros(n)
    for c in np.flatnonzero((comp.black_since >= 0) & (comp.black_since < days - 1) & (comp.representative >= 0)):
        entries[comp.representative[c]] += 1
    np.testing.assert_array_equal(sim.state.points - s_off.state.points, -50 * entries)
    assert entries.sum() == len(recs)


def test_company_record_is_made_when_a_representative_is_blacklisted() -> None:
    """coupling.company_record = manager_listed (a company behaviour, rate 0, -100 points); no other
    company behaviour; false attribution 0.2 so that some listings are wrongful.

    Expectations: company records exist only with the coupling on (0 off); there is one
    per blacklist entry of a legal representative (days before the last), false exactly
    when that entry was wrongful; company points are -100 x those records (-100 x the true
    ones in the counterfactual), and a -100 record takes a company below 950: listed.
    """
    n, days = 5000, 150
    data = company_rulebook(n, days, seed=92)
    data["detection"]["channels"]["camera"]["false_attribution"] = 0.2
    data["behaviours"].append({"name": "manager_listed", "actor": "company", "rate": 0, "kind": "harmful", "channel": "records", "points": -100})
    _, off = run(data)
    data["institutions"] = {"coupling": {"company_record": "manager_listed"}}
    sim, on = run(data)
    d_on, d_off = on.to_df("daily"), off.to_df("daily")
    cols = ["company_records_true", "company_records_false"]
    assert d_off[cols].fillna(0).to_numpy().sum() == 0
    assert d_off["companies_blacklisted"].fillna(0).sum() == 0

    comp = sim.pop.companies
    company_of = {int(p): c for c, p in enumerate(comp.representative) if p >= 0}
    a = on.audit
    entries = a[(a["event"] == "blacklist_enter") & a["person"].isin(list(company_of)) & (a["day"] < days - 1)]
    wrongful = entries["wrongful"].astype(bool)
    assert len(entries) > 10 and wrongful.any()
    assert d_on["company_records_true"].sum() == (~wrongful).sum()
    assert d_on["company_records_false"].sum() == wrongful.sum()
    total = np.zeros(comp.n)
    true_only = np.zeros(comp.n)
    for person, w in zip(entries["person"], wrongful):
        total[company_of[int(person)]] += 1
        true_only[company_of[int(person)]] += not w
    np.testing.assert_array_equal(comp.points, -100 * total)
    np.testing.assert_array_equal(comp.points_cf, -100 * true_only)
    assert d_on["companies_blacklisted"].iloc[-1] == (total > 0).sum()


# ---------------------------------------------------------------- 12. reproducibility
def all_on_rulebook() -> dict:
    d = base_rulebook(persons=5000, days=120, seed=3)
    d["population"]["companies"] = {"count": 100, "employment": 0.6}
    d["population"]["partners"] = 0.5
    d["behaviours"].append({"name": "tax_evasion", "actor": "company", "rate": 2, "kind": "harmful", "channel": "records", "points": -60})
    d["behaviours"].append({"name": "manager_listed", "actor": "company", "rate": 0, "kind": "harmful", "channel": "records", "points": -100})
    d["behaviours"].append({"name": "company_listed", "rate": 0, "kind": "harmful", "channel": "records", "points": -50})
    d["behaviours"].append(
        {"name": "default", "rate": 1, "kind": "harmful", "channel": "records", "points": -20, "responses": ["deterrence", "income"]}
    )
    d["behaviours"].append({"name": "criticism", "rate": 4, "kind": "benign", "channel": "camera", "points": 0})
    d["lists"]["company_blacklist"] = {"enter": "score < 950", "min_days": 30}
    d["services"].append({"name": "management", "demand": 1, "denied_when": "blacklisted or represents_blacklisted"})
    d["score"]["social"] = {"friends": 0.1, "partner": 0.1, "employer": 0.1, "period": 7}
    d["detection"]["channels"]["camera"]["false_attribution"] = 0.05
    d["institutions"] = {
        "transparency": "public",
        "appeals": {"probability": 0.5, "success_false": 0.6, "success_true": 0.05, "delay": 20},
        "shaming": {"probability": 0.2},
        "coupling": {"representative_record": "company_listed", "company_record": "manager_listed"},
    }
    d["responses"] = {
        "deterrence": {"elasticity": 0.5, "friends_weight": 0.2},
        "gaming": {"elasticity": 0.5},
        "income": {"elasticity": 2},
        "unfriending": {"probability": 0.2, "tiers": ["C", "D"], "preference": 1},
        "breakup": {"probability": 0.1},
    }
    return d


def test_everything_on_gives_the_same_results_with_one_and_two_threads() -> None:
    """Every response and institution on: daily (all breakdowns), services, behaviours and audit
    frames are identical with 1 and 2 threads, and so are the final network and risks; the
    mechanisms were active (each has a nonzero count); the network keeps its invariants (no
    self loops, no repeated friend, degree = non-empty slots) and partnerships stay mutual."""
    data = all_on_rulebook()
    data["simulation"]["audit_sample"] = 1000
    before = numba.get_num_threads()
    try:
        s1, one = run(data, threads=1)
        s2, two = run(data, threads=2 if numba.config.NUMBA_NUM_THREADS >= 2 else 1)
    finally:
        numba.set_num_threads(before)
    for table in ("daily", "services", "behaviours", "audit"):
        pd.testing.assert_frame_equal(one.to_df(table, None), two.to_df(table, None), check_exact=True)
    np.testing.assert_array_equal(s1.pop.network.indices, s2.pop.network.indices)
    np.testing.assert_array_equal(s1.pop.persons.partner, s2.pop.persons.partner)
    np.testing.assert_array_equal(s1.state.risk, s2.state.risk)
    # the network changed by unfriending, rewiring and shaming together keeps its invariants
    net, n = s1.pop.network, s1.state.n
    rows = np.repeat(np.arange(n), np.diff(net.indptr))
    live = net.indices >= 0
    assert net.indices.min() >= -1 and net.indices.max() < n and not (net.indices == rows).any()
    pairs = rows[live].astype(np.int64) * n + net.indices[live]
    assert np.unique(pairs).size == pairs.size
    np.testing.assert_array_equal(s1.state.degree, np.bincount(rows[live], minlength=n))
    partner = s1.pop.persons.partner
    np.testing.assert_array_equal(partner[partner[partner >= 0]], np.flatnonzero(partner >= 0))
    daily = one.to_df("daily")
    for col in (
        "ties_dropped_unfriending", "ties_rewired", "ties_dropped_shaming", "partnerships_ended", "appeals_filed",
        "company_blacklist_entries", "company_records_true", "records_false", "denials",
    ):  # fmt: skip
        assert daily[col].sum() > 0, col
    assert daily["risk_mean"].iloc[-1] > 0 and daily["income_mean"].iloc[-1] < daily["income_mean"].iloc[0]


# ---------------------------------------------------------------- 13. everything off
def test_every_new_section_at_zero_changes_nothing() -> None:
    """The base rulebook (with false records, so that every path has work) against the same rulebook
    with every new section written out at zero: no companies, no partners, every behaviour
    responding to deterrence, gaming and income, no company list, public rules, appeals,
    shaming and coupling off, zero elasticities and weights, unfriending and breakups at
    probability 0. Every table is exactly the same. A second variant adds structure that
    nothing uses (100 companies, half the persons in couples): still exactly the same."""
    data = base_rulebook(persons=3000, days=80, seed=5)
    data["detection"]["channels"]["camera"]["false_attribution"] = 0.1
    _, plain = run(data)
    zero = copy.deepcopy(data)
    zero["population"]["companies"] = {"count": 0, "employment": 0.6}
    zero["population"]["partners"] = 0.0
    for b in zero["behaviours"]:
        b["responses"] = ["deterrence", "gaming", "income"]
    zero["lists"]["company_blacklist"] = None
    zero["institutions"] = {
        "transparency": "public",
        "appeals": {"probability": 0.0, "success_false": 0.6, "success_true": 0.05, "delay": 20},
        "shaming": {"probability": 0.0},
        "coupling": {"representative_record": None, "company_record": None},
    }
    zero["responses"] = {
        "deterrence": {"elasticity": 0.0, "friends_weight": 0.0},
        "gaming": {"elasticity": 0.0},
        "income": {"elasticity": 0.0},
        "unfriending": {"probability": 0.0, "tiers": ["C", "D"], "preference": 1},
        "breakup": {"probability": 0.0},
    }
    zero["score"]["social"] = {"friends": 0.0, "partner": 0.0, "employer": 0.0, "period": 7}
    inert = copy.deepcopy(zero)
    inert["population"]["companies"] = {"count": 100, "employment": 0.6}
    inert["population"]["partners"] = 0.5
    assert plain.to_df("daily")["records_false"].sum() > 0 and plain.to_df("daily")["denials"].sum() > 0
    for variant in (zero, inert):
        _, res = run(variant)
        for table in ("daily", "services", "behaviours", "audit"):
            pd.testing.assert_frame_equal(plain.to_df(table, None), res.to_df(table, None), check_exact=True)
