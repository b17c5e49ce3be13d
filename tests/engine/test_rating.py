"""Peer rating (score.basis: ratings): the kernels against closed forms, the rating equation, thread independence.

See docs/model.md, section 3.3.1, for the equations tested here.
"""

from __future__ import annotations

import statistics

import numba
import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from scipy.special import ndtr

from socialcredit.engine.stages import rating
from socialcredit.engine.plan import build_plan
from socialcredit.engine.sim import Sim
from tests.conftest import base_rulebook, build, run, run_stepwise


def rating_rulebook(persons: int = 3000, days: int = 60, seed: int = 11, **ratings) -> dict:
    """The base rulebook with rating-based scores on the 1-5 scale."""
    data = base_rulebook(persons=persons, days=days, seed=seed)
    data["score"] = {"basis": "ratings", "initial": 3.0, "bounds": [1, 5], "social": {"friends": 0.0}}
    data["tiers"] = [{"name": "A", "min": 4.2}, {"name": "B", "min": 3.5}, {"name": "C", "min": 2.5}, {"name": "D"}]
    data["services"] = [
        {"name": "seat", "demand": 20, "denied_when": "score < 3.5"},
        {"name": "discount", "demand": 20, "granted_when": "score >= 4.2"},
    ]
    data["ratings"] = {"interactions": 1.0, "strangers": 0.3, "mean": 4.0, "half_life": 20.0, "prior": 10.0, **ratings}
    return data


def received_counts(offsets: np.ndarray, ratee: np.ndarray) -> np.ndarray:
    """Ratings each person receives from one day's interactions (one from each valid interaction they are in)."""
    n = offsets.shape[0] - 1
    rater = np.repeat(np.arange(n), np.diff(offsets))
    ok = ratee >= 0
    return np.bincount(rater[ok], minlength=n) + np.bincount(ratee[ok], minlength=n)


# ---------------------------------------------------------------- defaults and validation
def test_rating_keys_are_off_by_default_and_checked() -> None:
    """A rulebook without the new keys compiles with no rating plan; the checks across keys hold."""
    assert build_plan(build(base_rulebook())).ratings is None
    assert build_plan(build(rating_rulebook())).ratings is not None
    bad = base_rulebook()
    bad["ratings"] = {"interactions": 1.0}  # ratings without score.basis: ratings
    with pytest.raises(ValidationError, match="score.basis: ratings"):
        build(bad)
    bad = rating_rulebook()
    bad["score"]["social"] = {"friends": 0.1}
    with pytest.raises(ValidationError, match="social term"):
        build(bad)
    bad = rating_rulebook()
    bad["score"]["initial"] = 1000
    bad["score"]["bounds"] = [0, 2000]
    with pytest.raises(ValidationError, match="between 1 and 5"):
        build(bad)
    bad = rating_rulebook(half_life=0)
    with pytest.raises(ValidationError):
        build(bad)


# ---------------------------------------------------------------- closed forms
def test_constant_ratings_converge_to_the_mean_at_the_rate_of_the_memory() -> None:
    """noise 0, ratee_weight = rater_weight = 0, no likeability: every rating is `mean` = 4 stars.

    With n_k(j) the ratings j receives on day k, N_t(j) = sum_k n_k(j) d^(t-k), d = 2^(-1/20),
    and the prior w0 = 10 at S0 = 3 aged like a rating, the score is exactly

        S_t(j) = (w0 S0 d^t + 4 N_t(j)) / (w0 d^t + N_t(j)),

    checked for every person and day (float32 scores: relative tolerance 1e-6). Every
    interaction gives a rating to each side, so the mean of N_t over persons has expectation
    2 lambda (1 - d^(t+1)) / (1 - d), lambda = 1.5 interactions started a day; the total of
    interactions over the run is Poisson(N lambda T): both within 4 sd.
    """
    lam, w0, s0, mu, half = 1.5, 10.0, 3.0, 4.0, 20.0
    data = rating_rulebook(persons=2000, days=60, interactions=lam, strangers=0.3, mean=mu, noise=0.0, prior=w0, half_life=half)
    d = 2.0 ** (-1.0 / half)
    state = {"N": np.zeros(2000), "total": 0, "t": 0}

    def before(sim) -> None:
        offsets, ratee, _, _ = rating.draw_day(sim, sim.state.day)  # the same draws the stage makes today
        state["N"] = d * state["N"] + received_counts(offsets, ratee)
        state["total"] += int((ratee >= 0).sum())

    def after(sim, day: int) -> None:
        N = state["N"]
        closed = (w0 * s0 * d**day + mu * N) / (w0 * d**day + N)
        np.testing.assert_allclose(sim.state.score, closed, rtol=1e-6)
        assert (sim.state.score_cf == sim.state.score).all()  # no false ratings: the twin is the same
        state["t"] = day

    sim, _ = run_stepwise(data, before=before, after=after)
    t = state["t"]
    assert t == 59
    expected = 2 * lam * (1 - d ** (t + 1)) / (1 - d)
    sd = 2 / 2000 * np.sqrt(2000 * lam * (1 - d ** (2 * (t + 1))) / (1 - d**2))
    assert abs(state["N"].mean() - expected) < 4 * sd
    total_expected = 2000 * lam * 60
    assert abs(state["total"] - total_expected) < 4 * np.sqrt(total_expected)
    # converging toward mu from below: after 3 half-lives the prior weighs 10/8 against about 77 ratings,
    # so the mean score is about 4 - 1.29 / 78.7 = 3.984
    assert 0 < mu - sim.state.score.mean() < 0.03


def test_rater_weighting_counts_high_scorers_more() -> None:
    """Person 0 is rated 5 by ten raters at score 5 and 1 by ten raters at score 1; no prior.

    The unweighted mean is 3. With weights (s/3)^gamma the score is
    (10 * 5 * (5/3)^g + 10 * 1 * (1/3)^g) / (10 (5/3)^g + 10 (1/3)^g): 3 for g = 0,
    26/6 = 4.333 for g = 1, 126/26 = 4.846 for g = 2.
    """
    n = 21
    score = np.array([3.0] + [5.0] * 10 + [1.0] * 10, np.float32)
    offsets = np.zeros(n + 1, np.int64)
    offsets[2:] = np.arange(1, n)  # persons 1..20 start one interaction each, all with person 0
    ratee = np.zeros(n - 1, np.int32)
    x_out = np.array([5] * 10 + [1] * 10, np.uint8)  # their ratings of person 0
    x_back = np.full(n - 1, 3, np.uint8)
    empty = np.zeros(n, np.uint8)
    for g, expected in ((0.0, 3.0), (1.0, 26 / 6), (2.0, 126 / 26)):
        weight = np.array([rating.weight_of_rater(s, g) for s in score])
        acc = np.zeros(n)
        wsum = np.zeros(n)
        rating.accumulate_kernel(offsets, ratee, x_out, x_back, weight, acc, wsum, empty, empty, empty, 1, 1,
                                 np.zeros((0, 4), np.int64), 0, 1, 2, 3)  # fmt: skip
        out = score.copy()
        rating.score_kernel(acc, wsum, 1.0, 5.0, 1.0, g, out, out.copy(), weight)
        assert out[0] == pytest.approx(expected, rel=1e-6)
        if g > 0:
            assert out[0] > 3.0  # above the unweighted mean
        assert (out[1:] == 3.0).all()  # each rater got one 3-star rating back


def test_normal_quantile_matches_the_standard_library() -> None:
    """The noise uses a rational approximation of the normal quantile; its error is below 1e-8 everywhere."""
    nd = statistics.NormalDist()
    ps = np.concatenate([np.linspace(1e-9, 0.03, 500), np.linspace(0.03, 0.97, 2000), np.linspace(0.97, 1 - 1e-9, 500)])
    worst = max(abs(rating.normal_quantile(p) - nd.inv_cdf(p)) for p in ps)
    assert worst < 1e-8


# ---------------------------------------------------------------- the rating equation
def expected_stars(v: np.ndarray, sigma: float) -> np.ndarray:
    """E[clip(round(v + sigma z), 1, 5)] = 1 + sum_{k=1..4} P(v + sigma z >= k + 1/2)."""
    return 1.0 + sum(1.0 - ndtr((k + 0.5 - v) / sigma) for k in range(1, 5))


@pytest.mark.parametrize("strangers", [0.0, 1.0])
def test_ratings_follow_the_rating_equation(strangers: float) -> None:
    """Scores are set to a spread of values, some persons did harm today, and five days of ratings are drawn.

    Each rating of ratee j by rater r should have mean E[clip(round(v + sigma z), 1, 5)] with
    v = mu + l_j + a (s_j - 3) + b (s_r - 3) - q [strangers] - p [j did harm]; mu = 3.2, a = 0.4,
    b = -0.2, q = 0.6, p = 1, sigma = 0.6, likeability sd 0.3. With strangers = 0 every partner is a
    friend, with strangers = 1 a stranger. The residual (stars minus that mean) averages 0 overall and
    within halves of the ratee's and the rater's scores and for harmful ratees: each within 4 standard
    errors. The sd of the residual is checked against the model's (within 5%).
    """
    mu, a, b, q, p, sigma = 3.2, 0.4, -0.2, 0.6, 1.0, 0.6
    data = rating_rulebook(persons=4000, days=5, interactions=2.0, strangers=strangers, mean=mu, ratee_weight=a, rater_weight=b,
                           stranger_penalty=q, harmful_penalty=p, noise=sigma, likeability=0.3)  # fmt: skip
    sim = Sim(build(data))
    sim.setup()
    st = sim.state
    st.score[:] = np.random.default_rng(0).uniform(1.5, 4.8, st.n).astype(np.float32)
    harm = np.zeros(st.n, bool)
    harm[::7] = True
    st.event[:] = 255
    st.event[harm] = 0  # behaviour 0 (littering) is harmful
    trait = rating.book_of(sim).trait
    assert trait.std() == pytest.approx(0.3, rel=0.1)
    net = sim.pop.network
    xs, vs, sj_all, sr_all, harm_all = [], [], [], [], []
    for day in range(5):
        offsets, ratee, x_out, x_back = rating.draw_day(sim, day)
        i = np.repeat(np.arange(st.n), np.diff(offsets))
        ok = ratee >= 0
        i, j = i[ok], ratee[ok].astype(np.int64)
        # friends or strangers, as asked
        rows = [set(net.indices[net.indptr[k] : net.indptr[k + 1]]) for k in i[:300]]
        in_row = np.array([jj in row for jj, row in zip(j[:300], rows)])
        assert in_row.all() if strangers == 0 else in_row.mean() < 0.05
        assert (j != i).all() and (sim.pop.persons.region[i] == sim.pop.persons.region[j]).all()
        s = st.score.astype(np.float64)
        for r_, e_, x in ((i, j, x_out[ok]), (j, i, x_back[ok])):  # both directions of each interaction
            v = mu + trait[e_] + a * (s[e_] - 3) + b * (s[r_] - 3) - q * strangers - p * harm[e_]
            xs.append(x.astype(np.float64))
            vs.append(v)
            sj_all.append(s[e_])
            sr_all.append(s[r_])
            harm_all.append(harm[e_])
    x, v = np.concatenate(xs), np.concatenate(vs)
    sj, sr, hj = np.concatenate(sj_all), np.concatenate(sr_all), np.concatenate(harm_all)
    assert ((x >= 1) & (x <= 5)).all()
    m = expected_stars(v, sigma)
    m2 = 1.0 + sum((2 * k + 1) * (1.0 - ndtr((k + 0.5 - v) / sigma)) for k in range(1, 5))  # E[x^2]
    res = x - m
    model_sd = np.sqrt(np.mean(m2 - m**2))
    assert res.std() == pytest.approx(model_sd, rel=0.05)
    for name, sel in (("all", np.ones_like(hj)), ("high ratee", sj > np.median(sj)), ("low ratee", sj <= np.median(sj)),
                      ("high rater", sr > np.median(sr)), ("low rater", sr <= np.median(sr)), ("harmful ratee", hj)):  # fmt: skip
        se = res[sel].std() / np.sqrt(sel.sum())
        assert abs(res[sel].mean()) < 4 * se, name
    assert x.size > 30000


def test_dropped_ties_mean_no_interaction() -> None:
    """Persons whose every slot was emptied (ties dropped) start no interaction with friends: with
    strangers = 0 all their interactions are void (-1), while the others' are all valid."""
    data = rating_rulebook(persons=2000, days=5, strangers=0.0, interactions=3.0)
    sim = Sim(build(data))
    sim.setup()
    net = sim.pop.network
    lonely = np.arange(100)
    for k in lonely:
        net.indices[net.indptr[k] : net.indptr[k + 1]] = -1
    offsets, ratee, _, _ = rating.draw_day(sim, 0)
    i = np.repeat(np.arange(2000), np.diff(offsets))
    assert (ratee[np.isin(i, lonely)] == -1).all() and np.isin(i, lonely).sum() > 200
    assert (ratee[~np.isin(i, lonely) & ~np.isin(ratee, lonely)] >= 0).all()


# ---------------------------------------------------------------- runs
def full_rating_rulebook(days: int = 60) -> dict:
    data = rating_rulebook(persons=3000, days=days, interactions=1.0, strangers=0.3, mean=3.6, ratee_weight=0.5, rater_weight=0.2,
                           stranger_penalty=0.5, harmful_penalty=1.5, noise=0.7, likeability=0.3, rater_power=2, half_life=30)  # fmt: skip
    data["score"]["initial"] = 4.0
    data["responses"]["unfriending"] = {"probability": 0.2, "tiers": ["C", "D"], "blacklisted": True}
    return data


def test_same_results_with_one_and_two_threads() -> None:
    """Every part of the mechanism on, with unfriending (dropped slots): identical tables and scores."""
    data = full_rating_rulebook()
    before = numba.get_num_threads()
    try:
        sim1, one = run(data, threads=1)
        sim2, two = run(data, threads=2 if numba.config.NUMBA_NUM_THREADS >= 2 else 1)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(sim1.state.score, sim2.state.score)
    for table in ("daily", "services", "audit"):
        pd.testing.assert_frame_equal(one.to_df(table, None), two.to_df(table, None), check_exact=True)
    assert one.to_df("daily")["ratings_given"].sum() > 0


def test_a_run_counts_ratings_and_gates_services_by_score() -> None:
    """In a run: ratings given equal ratings received; the stars received average between 1 and 5;
    scores stay within [1, 5]; the twin equals the factual state, so no denial is wrongful; the
    seat (denied below 3.5) is denied in tiers C and D only and always there, the discount
    (granted from 4.2) granted in tier A only and always there."""
    sim, res = run(full_rating_rulebook(days=90))
    d = res.to_df("daily")
    assert d["ratings_given"].sum() == d["ratings_received"].sum() > 0
    mean_star = d["stars_received"].sum() / d["ratings_received"].sum()
    assert 1.0 < mean_star < 5.0
    assert 0 < d["ratings_low"].sum() < d["ratings_received"].sum()
    assert sim.state.score.min() >= 1.0 and sim.state.score.max() <= 5.0
    assert (sim.state.score_cf == sim.state.score).all()
    sv = res.to_df("services", None)
    assert sv["wrongful"].sum() == 0
    by_tier = sv[sv["breakdown"] == "tier"].groupby(["service", "level"], observed=True)[["attempts", "outcomes"]].sum()
    seat, disc = by_tier.loc["seat"], by_tier.loc["discount"]
    assert (seat.loc[["A", "B"], "outcomes"] == 0).all()
    assert (seat.loc[["C", "D"], "outcomes"] == seat.loc[["C", "D"], "attempts"]).all() and seat.loc["C", "outcomes"] > 0
    assert (disc.loc[["A"], "outcomes"] == disc.loc[["A"], "attempts"]).all() and disc.loc["A", "outcomes"] > 0
    assert (disc.loc[["B", "C", "D"], "outcomes"] == 0).all()
