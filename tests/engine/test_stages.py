"""Unit tests of the stages' kernels, each against a small hand-computed or closed-form case."""

from __future__ import annotations

import numpy as np
import pytest

import socialcredit as sc
from socialcredit import rng
from socialcredit.engine import picks
from socialcredit.engine.layout import CHUNK
from socialcredit.engine.sim import Sim
from socialcredit.engine.stages import behave, classify, friends_mean, perceived_risk, score
from socialcredit.engine.state import RecordLog
from socialcredit.results import Results
from tests.conftest import base_rulebook, run


# ---------------------------------------------------------------- behave
def test_behave_draws_each_behaviour_at_its_rate_and_responses_scale_their_classes() -> None:
    """Rows of class rates: deterred, gamed, neutral, and neutral with income (row 5). Second half of persons: risk 2
    and half their initial income, so deterrence 1/(1+0.5*2) = 0.5, gaming 1 + 0.25*2 = 1.5, income (1/0.5)**1 = 2."""
    n = 200_000
    rate_day = np.array([0.02, 0.01, 0.03, 0.005], np.float32)
    beh_class = np.array([0, 1, 2, 5], np.int64)
    het = np.ones((n, 4), np.float32)
    class_rate = np.zeros((6, n), np.float32)
    class_rate[beh_class] = rate_day[:, None]
    risk = np.zeros(n, np.float32)
    risk[n // 2 :] = 2.0
    income_mult = np.ones(n, np.float32)
    income_mult[n // 2 :] = 2.0
    event = np.empty(n, np.uint8)
    local = np.zeros(n, np.uint16)
    counts = np.zeros((n + CHUNK - 1) // CHUNK, np.int64)
    hits = np.zeros((2, 4))
    days = 20
    for d in range(days):
        behave.behave_kernel(
            rng.key(1, "behave", d), class_rate, class_rate.any(axis=1), het, rate_day, beh_class, risk, 0.5, 0.25, income_mult, event, local,
            counts,
        )
        assert counts.sum() == (event != 255).sum()
        assert np.array_equal(picks.gather_kernel(local, counts), np.flatnonzero(event != 255))  # the actors, for detect
        for half in range(2):
            ev = event[half * n // 2 : (half + 1) * n // 2]
            hits[half] += np.bincount(ev[ev != 255], minlength=4)[:4]
    trials = days * n / 2
    expected = np.array([[0.02, 0.01, 0.03, 0.005], [0.01, 0.015, 0.03, 0.01]]) * trials
    assert np.all(np.abs(hits - expected) < 4 * np.sqrt(expected)), (hits, expected)


# ---------------------------------------------------------------- detect
def test_detection_coverage_and_group_weighted_misattribution() -> None:
    data = base_rulebook(persons=20000, days=40, seed=5)
    data["detection"]["channels"]["camera"] = {"coverage": {"north": 0.8, "south": 0.4}, "false_attribution": 0.2}
    data["lists"] = {}
    data["services"] = []
    data["simulation"]["audit_sample"] = 20000
    sim, res = run(data)
    beh = res.to_df("behaviours", None)
    lit = beh[beh["behaviour"] == "littering"]
    by_region = lit[lit["breakdown"] == "region"].groupby("level")[["events", "detected"]].sum()
    for region, cov in (("north", 0.8), ("south", 0.4)):
        ev, det = by_region.loc[region]
        assert abs(det / ev - cov) < 4 * np.sqrt(cov * (1 - cov) / ev), (region, det / ev)
    # false records: 20% of detected camera events, attached within the actor's region, never to the actor,
    # and to the minority (share 0.2, multiplier 5) with probability 0.2*5 / (0.8*1 + 0.2*5) = 5/9
    allrow = lit[lit["breakdown"] == "all"]
    det = allrow["detected"].sum()
    false = allrow["records_false"].sum()
    assert abs(false / det - 0.2) < 4 * np.sqrt(0.2 * 0.8 / det)
    groups = lit[lit["breakdown"] == "group"].groupby("level")["records_false"].sum()
    share_minority = groups["minority"] / groups.sum()
    assert abs(share_minority - 5 / 9) < 4 * np.sqrt((5 / 9) * (4 / 9) / groups.sum()), share_minority
    regions = lit[lit["breakdown"] == "region"].groupby("level")[["records_false"]].sum()
    # misattributed records stay in the actor's region: north's false records follow north's detected events
    north_det = by_region.loc["north", "detected"]
    assert abs(regions.loc["north", "records_false"] / false - north_det / det) < 0.03


def test_spurious_records_and_delays() -> None:
    data = base_rulebook(persons=10000, days=60, seed=5)
    data["detection"]["channels"]["records"] = {"coverage": 1.0, "spurious_rate": 2.0, "delay": 5}
    data["lists"] = {}
    data["services"] = []
    _, res = run(data)
    daily = res.to_df("daily")
    # no record from the records channel reaches the score before day 5; camera records arrive at once
    beh = res.to_df("behaviours")
    fraud = beh[beh["behaviour"] == "fraud"]
    assert fraud.loc[fraud["day"] < 5, "records_true"].sum() == 0
    assert fraud.loc[fraud["day"] >= 5, "records_true"].sum() > 0
    lit = beh[beh["behaviour"] == "littering"]
    assert lit.loc[lit["day"] < 5, "records_true"].sum() > 0
    # spurious: 2 per person-year, all false, all of the channel's penalised behaviour (fraud), from day 5 on
    false = daily["records_false"].sum()
    expected = 2.0 / 365 * 10000 * (60 - 5)
    assert abs(false - expected) < 4 * np.sqrt(expected), (false, expected)
    assert fraud["records_false"].sum() == false


# ---------------------------------------------------------------- score
def test_friends_mean_and_score_weights() -> None:
    # path graph 0-1-2, node 3 isolated
    indptr = np.array([0, 1, 3, 4, 4], np.int64)
    indices = np.array([1, 0, 2, 1], np.int32)
    s = np.array([900, 1000, 1100, 700], np.float32)
    fm = np.zeros(4, np.float32)
    fm_cf = np.zeros(4, np.float32)
    pts = np.zeros(4, np.float32)
    friends_mean.friends_mean_kernel(indptr, indices, s, s, pts, pts, True, 1000.0, 0.0, 2000.0, fm, fm_cf)
    np.testing.assert_allclose(fm[:3], [1000, 1000, 1000])
    assert np.isnan(fm[3])
    points = np.array([-100, 0, 50, -300], np.float32)
    out = np.zeros(4, np.float32)
    out_cf = np.zeros(4, np.float32)
    empty = np.zeros(0, np.float32)
    score.score_kernel(
        points, points.copy(), 1.0, fm, fm_cf, empty, empty, np.zeros(0, np.int32), empty, empty,
        0.2, 0.0, 0.0, 1000.0, 0.0, 2000.0, out, out_cf,
    )  # fmt: skip
    # own weight 0.8 where there are friends; the isolated person keeps weight 1 on the own score
    np.testing.assert_allclose(out, [0.8 * 900 + 0.2 * 1000, 0.8 * 1000 + 200, 0.8 * 1050 + 200, 700], rtol=1e-6)


def test_score_bounds_clip() -> None:
    points = np.array([-5000, 5000], np.float32)
    out = np.zeros(2, np.float32)
    empty = np.zeros(0, np.float32)
    nan = np.full(2, np.nan, np.float32)
    score.score_kernel(points, points.copy(), 1.0, nan, nan, empty, empty, np.zeros(0, np.int32), empty, empty,
                       0.0, 0.0, 0.0, 1000.0, 0.0, 1300.0, out, out.copy())  # fmt: skip
    np.testing.assert_array_equal(out, [0, 1300])


def test_score_kernel_each_set_of_terms_equals_the_per_person_kernel() -> None:
    """score_kernel has one loop per set of social terms (so no loop reads an empty array); each must give exactly
    what score_touched_kernel, the per-person version, gives for everyone, and the closed form where checked."""
    n = 3 * CHUNK + 17  # several chunks and a partial one
    g = np.random.default_rng(5)
    points = g.normal(0, 80, n).astype(np.float32)
    points_cf = (points + g.normal(0, 10, n)).astype(np.float32)
    fm = g.uniform(700, 1200, n).astype(np.float32)
    fm[::7] = np.nan  # persons without friends
    fm_cf = (fm + 5).astype(np.float32)
    ps = g.uniform(700, 1200, n).astype(np.float32)
    ps[::3] = np.nan  # persons without a partner
    ps_cf = (ps - 3).astype(np.float32)
    employer = np.where(g.random(n) < 0.6, g.integers(0, 50, n), -1).astype(np.int32)
    cs = g.uniform(800, 1100, 50).astype(np.float32)
    cs_cf = (cs + 1).astype(np.float32)
    empty = np.zeros(0, np.float32)
    cases = {  # (w_f, w_p, w_e, partner arrays, company arrays, relax)
        "own only": (0.0, 0.0, 0.0, False, False, 1.0),
        "friends": (0.2, 0.0, 0.0, False, False, 1.0),
        "friends, relaxing": (0.2, 0.0, 0.0, False, False, 0.99),
        "employer": (0.1, 0.0, 0.15, False, True, 1.0),
        "partner": (0.1, 0.05, 0.0, True, False, 1.0),
        "partner and employer": (0.1, 0.05, 0.05, True, True, 1.0),
    }
    for name, (w_f, w_p, w_e, with_p, with_e, relax) in cases.items():
        p1, p1_cf, p2, p2_cf = points.copy(), points_cf.copy(), points.copy(), points_cf.copy()
        if relax < 1.0:  # the per-person kernel does not relax: relax its copy first (float32 times a float64)
            p2 = (p2.astype(np.float64) * relax).astype(np.float32)
            p2_cf = (p2_cf.astype(np.float64) * relax).astype(np.float32)
        terms = (fm, fm_cf, ps if with_p else empty, ps_cf if with_p else empty, employer,
                 cs if with_e else empty, cs_cf if with_e else empty, w_f, w_p, w_e, 1000.0, 0.0, 1300.0)  # fmt: skip
        out, out_cf = np.zeros(n, np.float32), np.zeros(n, np.float32)
        ref, ref_cf = np.zeros(n, np.float32), np.zeros(n, np.float32)
        score.score_kernel(p1, p1_cf, relax, *terms, out, out_cf)
        ref[:] = np.arange(n) % 7 + 1.0  # the scores before: 1 .. 7
        ext = np.array([np.inf, -np.inf, np.inf, -np.inf])
        score.score_touched_kernel(np.arange(n, dtype=np.int64), p2, p2_cf, *terms, ref, ref_cf, ext)
        np.testing.assert_array_equal(ext, [1.0, 7.0, ref.min(), ref.max()], err_msg=name)  # extremes before and after
        np.testing.assert_array_equal(out, ref, err_msg=name)
        np.testing.assert_array_equal(out_cf, ref_cf, err_msg=name)
        np.testing.assert_array_equal(p1, p2, err_msg=name)
        if name == "employer":  # closed form: weights of the terms a person has, the rest on the own score
            own = np.clip(1000.0 + points.astype(np.float64), 0, 1300)
            has_f = ~np.isnan(fm)
            has_e = employer >= 0
            w_own = 1.0 - 0.1 * has_f - 0.15 * has_e
            expect = w_own * own + 0.1 * np.where(has_f, fm, 0) + 0.15 * np.where(has_e, cs[np.maximum(employer, 0)], 0)
            np.testing.assert_allclose(out, np.clip(expect, 0, 1300), rtol=1e-6)


def test_apply_records_skips_false_in_counterfactual() -> None:
    person = np.array([0, 0, 1], np.int32)
    beh = np.array([0, 1, 0], np.uint8)
    flags = np.array([0, 1, 0], np.uint8)
    region = np.zeros(2, np.uint8)
    tab = np.array([[-10.0], [-50.0]], np.float32)
    p = np.zeros(2, np.float32)
    pcf = np.zeros(2, np.float32)
    score.apply_records(person, beh, flags, 1.0, region, tab, p, pcf)
    np.testing.assert_array_equal(p, [-60, -10])
    np.testing.assert_array_equal(pcf, [-10, -10])
    score.apply_records(person, beh, flags, -1.0, region, tab, p, pcf)
    np.testing.assert_array_equal(p, [0, 0])


def test_record_log_keeps_days_and_forgets() -> None:
    log = RecordLog(capacity=2)
    for d in range(10):
        m = d % 3
        log.append_day(d, np.full(m, d, np.int32), np.zeros(m, np.uint8), np.zeros(m, np.uint8))
    p, _, _ = log.day(7)
    np.testing.assert_array_equal(p, [7])
    log.forget_before(6)
    assert log.day(5)[0].size == 0
    np.testing.assert_array_equal(log.day(8)[0], [8, 8])
    log.append_day(10, np.array([99], np.int32), np.zeros(1, np.uint8), np.zeros(1, np.uint8))
    np.testing.assert_array_equal(log.day(10)[0], [99])
    np.testing.assert_array_equal(log.day(8)[0], [8, 8])


# ---------------------------------------------------------------- classify
def test_tiers_from_thresholds() -> None:
    mins = np.array([1050, 1000, 900], np.float32)
    s = np.array([1100, 1050, 1049.9, 1000, 950, 899, 0], np.float32)
    t = np.zeros(7, np.uint8)
    classify.tier_kernel(s, s, mins, t, t.copy())
    np.testing.assert_array_equal(t, [0, 0, 1, 1, 2, 3, 3])


def test_list_minimum_duration_and_exit() -> None:
    since = np.full(3, -1, np.int32)
    change = np.zeros(3, np.uint8)
    enter = np.array([True, True, False])
    classify.list_kernel(enter, enter, False, since, 10, 5, change)
    np.testing.assert_array_equal(since, [10, 10, -1])
    np.testing.assert_array_equal(change, [1, 1, 0])
    # condition gone for person 0 on day 12: still listed (min 5 days); on day 15: leaves
    enter = np.array([False, True, False])
    classify.list_kernel(enter, enter, False, since, 12, 5, change)
    np.testing.assert_array_equal(since, [10, 10, -1])
    classify.list_kernel(enter, enter, False, since, 15, 5, change)
    np.testing.assert_array_equal(since, [-1, 10, -1])
    np.testing.assert_array_equal(change, [2, 0, 0])


def test_blacklist_wrongful_entries_and_denials_are_counted() -> None:
    """With many false records, some listings and denials exist only because of them."""
    data = base_rulebook(persons=5000, days=120, seed=2)
    data["detection"]["channels"]["camera"]["false_attribution"] = 0.3
    _, res = run(data)
    s = res.summary()
    assert s["records_false"] > 0
    daily = res.to_df("daily")
    assert daily["blacklisted_wrongly"].max() > 0
    assert (daily["blacklisted_wrongly"] <= daily["blacklisted"]).all()
    fl = s["services"]["flight"]
    assert 0 < fl["wrongful"] <= fl["denied"]
    # without false records nothing is wrongful
    data["detection"]["channels"]["camera"]["false_attribution"] = 0.0
    _, res0 = run(data)
    assert res0.summary()["services"]["flight"]["wrongful"] == 0
    assert res0.to_df("daily")["blacklisted_wrongly"].max() == 0


# ---------------------------------------------------------------- services
def test_service_denials_follow_the_condition_and_demand() -> None:
    data = base_rulebook(persons=8000, days=100, seed=9)
    data["services"] = [
        {"name": "everyone_denied", "demand": 3.65, "denied_when": "true"},
        {"name": "nobody_denied", "demand": 3.65, "denied_when": "score > 1e9"},
        {"name": "perk", "demand": 3.65, "granted_when": "true", "consequences": {"income": 0.01}},
    ]
    sim, res = run(data)
    s = res.summary()["services"]
    expected = 8000 * 100 * 0.01
    for name in ("everyone_denied", "nobody_denied", "perk"):
        assert abs(s[name]["attempts"] - expected) < 4 * np.sqrt(expected)
    assert s["everyone_denied"]["denied"] == s["everyone_denied"]["attempts"]
    assert s["nobody_denied"]["denied"] == 0
    assert s["perk"]["granted"] == s["perk"]["attempts"]
    # each perk raised income by 1%: mean log income rises by about attempts/N * log(1.01)
    growth = np.log(sim.state.income / sim.pop.persons.income).mean()
    assert abs(growth - s["perk"]["granted"] / 8000 * np.log(1.01)) < 1e-4


def test_income_elasticity_of_demand() -> None:
    data = base_rulebook(persons=20000, days=100, seed=9)
    data["population"]["regions"][0]["income"] = {"median": 50000, "sigma": 0.8}
    data["population"]["regions"][1]["income"] = {"median": 50000, "sigma": 0.8}
    data["services"] = [{"name": "travel", "demand": 3.65, "income_elasticity": 1.0, "denied_when": "false"}]
    sim, res = run(data)
    # E[(income / median)^1] = exp(sigma^2 / 2) for a lognormal around the median
    attempts = res.summary()["services"]["travel"]["attempts"]
    expected = 20000 * 100 * 0.01 * np.exp(0.8**2 / 2)
    assert abs(attempts - expected) < 0.03 * expected


# ---------------------------------------------------------------- respond
def test_risk_halves_after_one_half_life_and_grows_with_penalties() -> None:
    risk = np.full(3, 4.0, np.float32)
    for _ in range(30):
        perceived_risk.decay_kernel(risk, 0.5 ** (1 / 30))
    np.testing.assert_allclose(risk, 2.0, rtol=1e-4)
    tab = np.array([[-50.0], [20.0]], np.float32)
    perceived_risk.feed_kernel(risk, np.array([0, 1], np.int32), np.array([0, 1], np.uint8), np.zeros(3, np.uint8), tab, 100.0,
                        np.array([2], np.int64), 1.5)  # fmt: skip
    np.testing.assert_allclose(risk, [2.5, 2.0, 3.5], rtol=1e-4)


def test_deterrence_lowers_penalised_rates_only() -> None:
    data = base_rulebook(persons=8000, days=200, seed=4)
    data["lists"] = {}
    data["services"] = []
    _, off = run(data)
    data["responses"]["deterrence"] = {"elasticity": 2.0, "half_life": 60, "points_scale": 20}
    _, on = run(data)
    b_off = off.to_df("behaviours").groupby("behaviour")["events"].sum()
    b_on = on.to_df("behaviours").groupby("behaviour")["events"].sum()
    assert b_on["littering"] < 0.9 * b_off["littering"]
    assert b_on["fraud"] < 0.95 * b_off["fraud"]
    assert abs(b_on["volunteering"] / b_off["volunteering"] - 1) < 0.03  # unpenalised: unchanged (same draws)
    assert on.to_df("daily")["risk_mean"].iloc[-1] > 0


def test_fused_classify_equals_the_generic_path() -> None:
    """Tabulated list conditions take a fused kernel; an equivalent untabulable condition takes the generic path."""
    data = base_rulebook(persons=4000, days=100, seed=8)
    data["detection"]["channels"]["camera"]["false_attribution"] = 0.1
    data["lists"] = {
        "blacklist": {"enter": "tier in ('C', 'D')", "min_days": 20},
        "redlist": {"enter": "tier == 'A'", "exit": "tier in ('C', 'D')", "min_days": 5},
    }
    sim_fast, fast = run(data)
    assert sim_fast.plan.lists.blacklist.tabulated and sim_fast.plan.lists.redlist.tabulated
    data["lists"]["blacklist"]["enter"] = "tier in ('C', 'D') or score < -1"  # score never < -1: same rule
    data["lists"]["redlist"]["exit"] = "tier in ('C', 'D') or income < -1"
    sim_slow, slow = run(data)
    assert not sim_slow.plan.lists.blacklist.tabulated and not sim_slow.plan.lists.redlist.tabulated
    assert fast.summary()["blacklist_entries"] > 0
    import pandas as pd

    pd.testing.assert_frame_equal(fast.daily, slow.daily, check_exact=True)
    pd.testing.assert_frame_equal(fast.audit, slow.audit, check_exact=True)


def test_fused_classify_kernel_visits_the_marked_persons_and_clears_the_marks() -> None:
    """Marking everyone is a full pass; marking some visits exactly those (their tiers and list changes as in the
    full pass, the others untouched); the marks are cleared and the noted persons ascend with their bits."""
    from socialcredit.engine import picks
    from socialcredit.engine.layout import CHUNK
    from socialcredit.engine.plan import TierPlan
    from socialcredit.engine.stages import classify

    gen = np.random.default_rng(21)
    n = 3 * CHUNK + 17
    mins = np.array([900.0, 800.0, 700.0], np.float32)
    padded = TierPlan(names=['A', 'B', 'C', 'D'], mins=mins).padded
    assert padded.shape == (8,) and np.array_equal(padded[:3], mins) and np.all(padded[3:] == -np.inf)
    enter = np.array([False, False, True, True])  # blacklist tiers 2 and 3 (R = G = 1: the code is the tier)
    score0 = gen.normal(820, 90, n).astype(np.float32)
    since0 = np.where(gen.random(n) < 0.1, 3, -1).astype(np.int32)

    def visit(mark: np.ndarray, use_mark: bool):
        tier = np.full(n, 255, np.uint8)
        tier_cf = tier.copy()
        since, since_cf = since0.copy(), since0.copy()
        red = np.full(1, -1, np.int32)
        local = np.zeros(n, np.uint16)
        bits = np.zeros(n, np.uint16)
        counts = np.zeros((n + CHUNK - 1) // CHUNK, np.int64)
        zeros = np.zeros(n, np.uint8)
        classify.classify_fused_kernel(
            mark, use_mark, score0, score0, mins, padded, tier, tier_cf, zeros, zeros, 1, 1, 10,
            True, enter, ~enter, 0, since, since_cf, False, enter, enter, 0, red, red, local, bits, counts,
        )  # fmt: skip
        persons, b = picks.gather_with_kernel(local, counts, bits)
        return persons, b, tier, since

    full = visit(np.zeros(n, np.uint8), False)
    assert full[0].size > 0 and np.all(np.diff(full[0]) > 0) and np.all(full[1] != 0)
    assert np.array_equal(full[2], (mins[None, :] > score0[:, None]).sum(axis=1))
    everyone = np.ones(n, np.uint8)
    got = visit(everyone, True)
    assert not everyone.any()  # cleared
    for a, b in zip(full, got):
        assert np.array_equal(a, b)
    mark = (gen.random(n) < 0.2).astype(np.uint8)
    chosen = mark.astype(bool)
    some = visit(mark, True)
    assert not mark.any()
    keep = chosen[full[0]]
    assert np.array_equal(some[0], full[0][keep]) and np.array_equal(some[1], full[1][keep])
    assert np.array_equal(some[2][chosen], full[2][chosen]) and np.all(some[2][~chosen] == 255)
    assert np.array_equal(some[3][chosen], full[3][chosen]) and np.array_equal(some[3][~chosen], since0[~chosen])


def test_updating_only_touched_scores_equals_a_full_pass() -> None:
    """Between social updates only persons with new or expired records are rescored; that must change nothing."""
    from socialcredit.engine.sim import Sim
    from tests.conftest import build

    data = base_rulebook(persons=3000, days=120, seed=12)
    data["score"]["recovery"] = {"mode": "expire", "days": 30}
    data["score"]["social"] = {"friends": 0.2, "period": 10}
    data["detection"]["channels"]["records"]["delay"] = 2
    fast = Results.from_sim(Sim(build(data)).run())
    full_sim = Sim(build(data))
    full_sim.full_score_pass = True
    full = Results.from_sim(full_sim.run())
    import pandas as pd

    pd.testing.assert_frame_equal(fast.daily, full.daily, check_exact=True)


def test_more_than_eight_services_each_keep_their_own_stream() -> None:
    """Services are drawn eight per pass; the ninth and tenth must behave like any other."""
    data = base_rulebook(persons=5000, days=40, seed=3)
    data["services"] = [{"name": f"s{k}", "demand": 3.65 * (k + 1), "denied_when": "false"} for k in range(10)]
    _, res = run(data)
    s = res.summary()["services"]
    for k in range(10):
        expected = 5000 * 40 * 0.01 * (k + 1)
        assert abs(s[f"s{k}"]["attempts"] - expected) < 4 * np.sqrt(expected), k
    # the tenth service alone draws exactly the same attempts (its stream does not depend on the others)
    alone = base_rulebook(persons=5000, days=40, seed=3)
    alone["services"] = [{"name": f"s{k}", "demand": 0.0, "denied_when": "false"} for k in range(9)]
    alone["services"].append({"name": "s9", "demand": 36.5, "denied_when": "false"})
    _, res_alone = run(alone)
    assert res_alone.summary()["services"]["s9"]["attempts"] == s["s9"]["attempts"]


def test_fused_classify_with_overlapping_exit_rule_equals_the_generic_path() -> None:
    """An exit rule that can hold together with the entry rule makes persons leave and re-enter the next day;
    the fused kernel (which visits only persons who can change between social updates) must see that too."""
    data = base_rulebook(persons=4000, days=150, seed=21)
    data["detection"]["channels"]["camera"]["false_attribution"] = 0.1
    data["score"]["social"] = {"friends": 0.1, "period": 5}
    data["lists"] = {
        "blacklist": {"enter": "tier in ('C', 'D')", "exit": "tier in ('B', 'C', 'D')", "min_days": 3},
        "redlist": {"enter": "tier == 'A'", "exit": "tier == 'A'", "min_days": 2},
    }
    sim_fast, fast = run(data)
    assert sim_fast.plan.lists.blacklist.tabulated
    data["lists"]["blacklist"]["exit"] = "tier in ('B', 'C', 'D') or score < -1"
    data["lists"]["redlist"]["exit"] = "tier == 'A' or income < -1"
    sim_slow, slow = run(data)
    assert not sim_slow.plan.lists.blacklist.tabulated
    daily = fast.to_df("daily")
    assert daily["blacklist_entries"].sum() > daily["blacklisted"].iloc[-1]  # people left and came back
    import pandas as pd

    pd.testing.assert_frame_equal(fast.daily, slow.daily, check_exact=True)
    pd.testing.assert_frame_equal(fast.audit, slow.audit, check_exact=True)


def test_coverage_ramp_multiplies_detection_by_a_piecewise_linear_function_of_the_day() -> None:
    """records channel (coverage 1) ramped from 0 on day 0 to 1 on day 100: the detected share of fraud
    averages 0.25 over days 0-49 and 0.75 over days 50-99 (4 binomial sd), and is exactly 1 after day 100."""
    data = base_rulebook(persons=20000, days=160, seed=1)
    data["detection"]["channels"]["records"]["ramp"] = [[0, 0.0], [100, 1.0]]
    _, res = run(data)
    b = res.to_df("behaviours")
    fraud = b[b["behaviour"] == "fraud"]
    for lo, hi, share in ((0, 50, 0.25), (50, 100, 0.75)):
        part = fraud[(fraud["day"] >= lo) & (fraud["day"] < hi)]
        ev, det = part["events"].sum(), part["detected"].sum()
        assert abs(det / ev - share) < 4 * np.sqrt(share * (1 - share) / ev) + 0.01, (lo, det / ev)
    late = fraud[fraud["day"] >= 100]
    assert late["detected"].sum() == late["events"].sum()


def test_records_expire_when_a_count_window_is_longer_than_the_expiry() -> None:
    """Expiry after 100 days and a count(fraud, days=400) window in a 500-day run: records must still expire,
    so the mean score is the same as without the count window (the window only adds a list condition that never holds)."""
    data = base_rulebook(persons=3000, days=500, seed=2)
    data["score"]["recovery"] = {"mode": "expire", "days": 100}
    data["lists"] = {}
    data["services"] = []
    _, plain = run(data)
    data["lists"] = {"redlist": {"enter": "count(fraud, days=400) > 1000"}}
    _, windowed = run(data)
    a, b = plain.to_df("daily"), windowed.to_df("daily")
    np.testing.assert_allclose(a["score_mean"], b["score_mean"], rtol=0, atol=1e-6)


def test_detect_kernel_detects_counts_and_records_in_one_launch() -> None:
    """The detection of each event is the draw written out by hand; the events and detected events per combination
    and behaviour, and the records in event order, follow from it; the serial and parallel versions agree."""
    from socialcredit import rng
    from socialcredit.engine.layout import CHUNK
    from socialcredit.engine.stages import detect

    gen = np.random.default_rng(31)
    n, R, G, T, B = 3 * CHUNK + 100, 3, 2, 4, 5
    region_offsets = np.array([0, 4000, 9000, n], np.int64)
    region = np.repeat(np.arange(R), np.diff(region_offsets)).astype(np.int16)
    group = gen.integers(0, G, n).astype(np.uint8)
    tier = gen.integers(0, T, n).astype(np.uint8)
    gnorm = np.array([1.0, 0.5])
    event = np.full(n, 255, np.uint8)
    acts = gen.random(n) < 0.2
    event[acts] = gen.integers(0, B, acts.sum())
    nchunks = (n + CHUNK - 1) // CHUNK
    local = np.zeros(n, np.uint16)
    chunk_counts = np.zeros(nchunks, np.int64)
    for c in range(nchunks):
        mine = np.flatnonzero(acts[c * CHUNK : (c + 1) * CHUNK])
        chunk_counts[c] = mine.size
        local[c * CHUNK : c * CHUNK + mine.size] = mine
    offsets = np.concatenate(([0], np.cumsum(chunk_counts)))
    channel = np.array([0, 0, 1, 1, 1], np.int64)
    coverage = np.array([[0.9, 0.5, 0.2], [0.3, 1.0, 0.0]])
    false_attr = np.array([0.0, 0.25])
    keys = rng.key(5, "detect", 3), rng.key(5, "misattribute", 3), rng.key(5, "victim", 3)

    def call(kernel):
        m = int(offsets[-1])
        target, false = np.empty(m, np.int32), np.empty(m, np.uint8)
        counts, bcounts = np.zeros((T * R * G, 6), np.int64), np.zeros((T * R * G, B, 4), np.int64)
        records = kernel(*keys, event, local, chunk_counts, offsets, region, group, tier, R, G, region_offsets,
                         channel, coverage, false_attr, gnorm, target, false, counts, bcounts, 4)  # fmt: skip
        return records, target, false, counts, bcounts

    got = call(detect.detect_kernel.parallel)
    for a, b in zip(got[1:], call(detect.detect_kernel.serial)[1:]):
        np.testing.assert_array_equal(a, b)
    (person, beh, flags), target, false, counts, bcounts = got
    actor = np.flatnonzero(acts)  # in person order, as behave notes them
    want_t = np.full(actor.size, -1, np.int64)
    for k, i in enumerate(actor):
        ch, r = channel[event[i]], region[i]
        if rng.uniform.py_func(keys[0], i) < coverage[ch, r]:
            want_t[k] = i
            if false_attr[ch] > 0 and rng.uniform.py_func(keys[1], i) < false_attr[ch]:
                want_t[k] = detect.pick_victim.py_func(keys[2], i, i, region_offsets[r], region_offsets[r + 1], group, gnorm)
    np.testing.assert_array_equal(target, want_t)
    np.testing.assert_array_equal(false, (want_t >= 0) & (want_t != actor))
    assert 0 < false.sum() < (want_t >= 0).sum() < actor.size
    det = want_t >= 0
    np.testing.assert_array_equal(person, want_t[det])
    np.testing.assert_array_equal(beh, event[actor][det])
    np.testing.assert_array_equal(flags, false[det])
    combo = (tier[actor].astype(np.int64) * R + region[actor]) * G + group[actor]
    want_c = np.zeros_like(counts)
    want_b = np.zeros_like(bcounts)
    np.add.at(want_c, (combo, 0), 1)
    np.add.at(want_c, (combo, 1), det)
    np.add.at(want_b, (combo, event[actor], 0), 1)
    np.add.at(want_b, (combo, event[actor], 1), det)
    np.testing.assert_array_equal(counts, want_c)
    np.testing.assert_array_equal(bcounts, want_b)


def test_the_score_range_follows_a_partial_update_or_is_unknown() -> None:
    """update_range: the range after updating some persons, from the range before and their extremes; None when an
    updated person held the lowest or highest score (whoever is lowest now cannot be told without a scan)."""
    inf = np.inf
    assert score.update_range((500.0, 900.0), np.array([600.0, 800.0, 450.0, 850.0])) == (450.0, 900.0)
    assert score.update_range((500.0, 900.0), np.array([600.0, 800.0, 700.0, 950.0])) == (500.0, 950.0)
    assert score.update_range((500.0, 900.0), np.array([500.0, 800.0, 700.0, 750.0])) is None  # the lowest rose
    assert score.update_range((500.0, 900.0), np.array([600.0, 900.0, 700.0, 750.0])) is None  # the highest fell
    assert score.update_range(None, np.array([600.0, 800.0, 700.0, 750.0])) is None
    assert score.update_range((500.0, 900.0), np.array([inf, -inf, inf, -inf])) == (500.0, 900.0)  # nobody updated


@pytest.mark.parametrize("scenario", ["reference", "full-system", "sesame", "mandatory-2020"])
def test_the_recorder_reads_the_true_score_range_every_day(scenario: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The range the daily figures bin scores over is the lowest and highest score every day, whether scanned or
    kept by the score step, and the scan is skipped on most days of partial updates."""
    from socialcredit.engine.stages import daily

    scans = []
    kernel = daily.minmax_kernel
    monkeypatch.setattr(daily, "minmax_kernel", lambda s: (scans.append(1), kernel(s))[1])
    sim = Sim(sc.load(scenario, persons=3000, days=120))
    sim.setup()
    for _ in range(sim.plan.days):
        sim.step()
        assert sim.handoffs.score_range == (float(sim.state.score.min()), float(sim.state.score.max())), sim.state.day
    if scenario in ("reference", "full-system"):
        assert len(scans) < sim.plan.days / 2, len(scans)
