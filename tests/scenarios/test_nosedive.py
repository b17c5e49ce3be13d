"""The `nosedive` scenario: peer rating as in the Black Mirror episode (docs/scenarios/nosedive.md)."""

from __future__ import annotations

import numpy as np
import pytest

import socialcredit as sc
from socialcredit.engine.sim import Sim
from socialcredit.results import Results


@pytest.fixture(scope="module")
def small_run():
    """3,000 persons over 90 days (a few seconds)."""
    rb = sc.load("nosedive", persons=3000, days=90)
    sim = Sim(rb)
    return rb, sim, Results.from_sim(sim.run())


def test_the_scenario_validates_with_rating_based_scores() -> None:
    rb = sc.load("nosedive")
    assert rb.score.basis == "ratings"
    assert rb.population.persons == 100_000 and rb.simulation.days == 365
    assert rb.ratings.interactions > 0
    assert [t.min for t in rb.tiers] == [4.5, 4.2, 3.5, 2.5, None]  # prime, the standby-seat line, ..., 2.5


def test_people_rate_each_other_and_scores_stay_on_the_star_scale(small_run) -> None:
    """Every interaction gives one rating each way, so ratings given equal ratings received; about two a
    person and day are expected (one interaction started a day, fewer once ties are dropped: between 1.5
    and 2.1); scores and the mean rating stay within 1 to 5 stars."""
    _, sim, res = small_run
    d = res.to_df("daily")
    assert (d["ratings_given"] == d["ratings_received"]).all()
    per_person_day = d["ratings_given"].sum() / (3000 * 90)
    assert 1.5 < per_person_day < 2.1
    assert 0 < d["ratings_low"].sum() < d["ratings_received"].sum()
    assert 1.0 <= sim.state.score.min() and sim.state.score.max() <= 5.0
    assert (d["score_p10"] >= 1.0).all() and (d["score_p90"] <= 5.0).all()
    assert 3.5 < d["score_mean"].iloc[-1] < 4.5


def test_services_are_gated_by_score_and_never_wrongful(small_run) -> None:
    """The standby seat (denied below 4.2) is denied to every attempt in tiers mid, low and outcast and to
    none in prime and high; the home discount (from 4.5) is granted in prime only and always there;
    treatment priority (from 4.4) never below prime and high; jobs (denied below 2.5) never above outcast.
    Ratings are never false, so no sanction is wrongful."""
    _, _, res = small_run
    sv = res.to_df("services", "tier")
    t = sv.groupby(["service", "level"], observed=True)[["attempts", "outcomes", "wrongful"]].sum()
    seat = t.loc["standby_seat"]
    assert (seat.loc[["prime", "high"], "outcomes"] == 0).all()
    below = seat.loc[[k for k in ("mid", "low", "outcast") if k in seat.index]]
    assert (below["outcomes"] == below["attempts"]).all() and below["outcomes"].sum() > 0
    home = t.loc["prime_home_discount"]
    assert home.loc["prime", "outcomes"] == home.loc["prime", "attempts"] > 0
    assert (home.drop("prime")["outcomes"] == 0).all()
    treat = t.loc["treatment_priority"]
    assert (treat.drop(["prime", "high"])["outcomes"] == 0).all()
    assert (t.loc["job"].drop("outcast", errors="ignore")["outcomes"] == 0).all()
    assert sv["wrongful"].sum() == 0


def test_ratings_defer_to_status_and_low_tiers_are_shunned(small_run) -> None:
    """On the last day the mean rating received rises with the tier (ratee_weight 0.5), persons below 3.5
    have lost friends to unfriending (mean friends below 9 against about 12 in the upper tiers), and they
    receive fewer ratings per person than the upper tiers."""
    _, _, res = small_run
    t = res.to_df("daily", "tier")
    last = t[t["day"] == t["day"].max()].set_index("level")
    mean_star = last["stars_received"] / last["ratings_received"]
    order = ["prime", "high", "mid", "low"]
    assert np.all(np.diff(mean_star.loc[order].to_numpy()) < 0)
    assert last.loc["low", "degree_mean"] < 9 < last.loc["high", "degree_mean"]
    per_person = last["ratings_received"] / last["persons"]
    assert per_person.loc["low"] < per_person.loc["high"]
    assert res.summary()["institutions_and_responses"]["ties_dropped_unfriending"] > 0
