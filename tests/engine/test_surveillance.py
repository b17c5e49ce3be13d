"""Tests of engine.stages.surveillance: coverage that follows its findings runs away, and a uniform share damps it."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from socialcredit.engine.stages.surveillance import allocate
from tests.conftest import base_rulebook, run


def two_equal_regions(days: int = 140, persons: int = 6000, **follow) -> dict:
    data = base_rulebook(persons=persons, days=days)
    data["population"]["regions"] = [{"name": "north", "share": 0.5}, {"name": "south", "share": 0.5}]
    data["behaviours"][0]["rate"] = 20  # one frequent harmful behaviour, the same true rate in both regions
    cam = data["detection"]["channels"]["camera"]
    cam["coverage"] = {"north": 0.33, "south": 0.27}
    if follow is not None:
        cam["follows_findings"] = {"period": 7, "memory": 14, "assumed": "test", **follow}
    return data


def north_share(res) -> np.ndarray:
    c = res.coverage.pivot_table(index="day", columns="region", values="coverage")
    return (c["north"] / (c["north"] + c["south"])).to_numpy()


def test_allocate_keeps_the_total_and_caps_at_one() -> None:
    persons = np.array([100.0, 300.0, 600.0])
    cov = allocate(np.array([10.0, 0.0, 30.0]), persons, 500.0, 0.2, 1.0, np.zeros(3))
    assert (cov * persons).sum() == pytest.approx(500.0) and cov.max() <= 1.0
    capped = allocate(np.array([1.0, 0.0, 0.0]), persons, 300.0, 0.0, 1.0, np.zeros(3))
    assert capped[0] == 1.0 and (capped * persons).sum() == pytest.approx(100.0)  # nowhere else found anything
    assert (allocate(np.zeros(3), persons, 300.0, 0.0, 1.0, np.full(3, 0.3)) == 0.3).all()  # nothing found: kept


def test_runaway_with_hot_spots_and_damping_with_a_uniform_share() -> None:
    """Sharpness 2, same true rates: s' = s^2 / (s^2 + (1-s)^2) from 0.55 runs to ~1 in ~6 periods; uniform 0.6 holds 0.5."""
    _, away = run(two_equal_regions(sharpness=2.0))
    _, damped = run(two_equal_regions(sharpness=2.0, uniform=0.6))
    s = north_share(away)
    assert s[0] == pytest.approx(0.55)
    assert s[-1] > 0.9
    rec = away.coverage[away.coverage["day"] >= 100].groupby("region")["records"].sum()
    assert rec["north"] > 5 * rec["south"]
    assert 0.4 < north_share(damped)[-1] < 0.6


def test_off_the_coverage_stays_and_the_run_is_unchanged_before_the_first_reallocation() -> None:
    data = two_equal_regions()
    off = copy.deepcopy(data)
    del off["detection"]["channels"]["camera"]["follows_findings"]
    _, a = run(off)
    _, b = run(data)
    assert b.coverage is not None and a.coverage is None
    da, db = a.daily[a.daily["day"] < 7], b.daily[b.daily["day"] < 7]
    assert (da["records_true"].to_numpy() == db["records_true"].to_numpy()).all()
    assert not np.allclose(north_share(b)[-1], 0.55)


def test_per_coverage_estimates_the_rate_and_removes_the_feedback() -> None:
    """Records per unit of coverage, each day under its own coverage: with a memory of 4 periods the split stays near even."""
    _, res = run(two_equal_regions(sharpness=2.0, per_coverage=True, memory=28))
    s = north_share(res)
    assert 0.35 < s[60:].min() and s[60:].max() < 0.65
