"""Tests of engine.stages.stress: a stress index (0-1000) that moves toward a target set by perceived risk,
listing and friends lost, recorded by breakdown every day; nothing reads it back."""

from __future__ import annotations

import copy

import numpy as np

from tests.conftest import base_rulebook, run, run_stepwise

HALF_LIFE = 20.0
STEP = 1 - 0.5 ** (1 / HALF_LIFE)


def stressed(data: dict, **kw) -> dict:
    out = copy.deepcopy(data)
    out["responses"]["stress"] = {"risk": 0.3, "listed": 0.5, "friends": 0.4, "half_life": HALF_LIFE, "assumed": "test"} | kw
    return out


def with_responses(persons: int = 3000, days: int = 120) -> dict:
    data = base_rulebook(persons=persons, days=days)
    data["responses"]["deterrence"] = {"elasticity": 1.0, "half_life": 60}
    data["responses"]["unfriending"] = {"probability": 0.3, "tiers": ["C", "D"], "rewire": False}
    data["lists"]["blacklist"]["exit"] = "tier in ('A', 'B')"
    return data


def whole(res):
    return res.daily[res.daily["breakdown"] == "all"].reset_index(drop=True)


def test_the_index_follows_its_equation_every_day() -> None:
    """A reference computation in numpy, from the day's state, gives the engine's index to float32 precision."""
    ref: dict[str, np.ndarray] = {}

    def after(sim, day) -> None:
        st = sim.state
        first = np.diff(sim.pop.network.indptr)
        lost = np.where((first > 0) & (st.degree < first), (first - st.degree) / np.maximum(first, 1), 0.0)
        r = st.risk.astype(np.float64)
        target = 1000 * np.minimum(1.0, 0.3 * r / (1 + r) + 0.5 * (st.black_since >= 0) + 0.4 * lost)
        prev = ref.get("s", np.zeros(st.n))
        ref["s"] = prev + (target - prev) * STEP
        assert np.allclose(st.stress, ref["s"], rtol=1e-4, atol=0.05), day

    sim, res = run_stepwise(stressed(with_responses(days=60)), after=after)
    d = whole(res)
    assert d["stress_mean"].iloc[-1] > 1
    # the daily mean is the persons' indices rounded to whole points (the sum of those over the persons)
    assert abs(d["stress_mean"].iloc[-1] - np.rint(sim.state.stress).astype(np.float64).mean()) < 1e-9


def test_a_listed_person_approaches_the_listing_weight_at_the_half_life() -> None:
    """With only the listing weight (0.5), a person listed since day d (and still listed) has
    500 * (1 - (1 - step) ** (days since d + 1)): half way after HALF_LIFE days."""
    data = stressed(base_rulebook(persons=4000, days=150), risk=0, friends=0)
    data["lists"]["blacklist"]["exit"] = "day < 0"  # nobody leaves the list
    sim, _ = run(data)
    st = sim.state
    listed = np.flatnonzero(st.black_since >= 0)
    assert listed.size > 50
    k = sim.plan.days - st.black_since[listed]  # days on the list, the day of entry included
    expected = 500 * (1 - (1 - STEP) ** k)
    assert np.allclose(st.stress[listed], expected, rtol=1e-4, atol=0.05)
    assert (st.stress[st.black_since < 0] == 0).all()


def test_on_and_off_nothing_else_changes_and_the_listed_are_more_stressed() -> None:
    data = with_responses()
    _, off = run(data)
    sim, on = run(stressed(data))
    cols = ["score_mean", "blacklisted", "events", "ties_dropped_unfriending", "risk_mean"]
    assert whole(on)[cols].equals(whole(off)[cols])
    assert (whole(off)["stress_mean"] == 0).all() and whole(on)["stress_mean"].iloc[-1] > 5
    st = sim.state
    listed = st.black_since >= 0
    assert st.stress[listed].mean() > st.stress[~listed].mean() + 100
    t = on.daily[(on.daily["breakdown"] == "tier") & (on.daily["day"] == on.daily["day"].max())].set_index("level")
    assert t.loc["D", "stress_mean"] > t.loc["A", "stress_mean"]
