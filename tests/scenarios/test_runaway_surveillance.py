"""The runaway-surveillance scenario (Ensign et al. 2018): validates, runs small, and shows its defining effect.

- as shipped (sharpness 2, no uniform share) the early lead runs away: one district ends with more
  than 90% of the patrols and most of the records although both districts behave the same;
- damped (``uniform=0.6``, above 1/2) the east's share of the patrols stays within 0.4-0.6 on every
  day after the first reallocation;
- every weekly reallocation follows the equation of ``engine/stages/surveillance.py`` exactly,
  read back from the ``coverage`` table;
- Ensign's correction (``per_coverage``) keeps both districts
  patrolled.

10,000 persons (5,000 a district), 365 days, seed 1: about 2 s a run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import socialcredit as sc

PERSONS = 10_000
FF = "detection.channels.patrol.follows_findings."


def run(*overrides: str):
    return sc.run(sc.load("runaway-surveillance", list(overrides), persons=PERSONS))


def wide(res) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Coverage and records found by day (rows) and district (columns east, west)."""
    cv = res.to_df("coverage")
    assert set(cv["channel"]) == {"patrol"}
    cov = cv.pivot(index="day", columns="region", values="coverage")[["east", "west"]]
    rec = cv.pivot(index="day", columns="region", values="records")[["east", "west"]]
    return cov, rec


def east_share(cov: pd.DataFrame) -> pd.Series:
    # the districts are of equal size, so shares of coverage are shares of the patrols
    return cov["east"] / cov.sum(axis=1)


@pytest.fixture(scope="module")
def shipped():
    return run()


@pytest.fixture(scope="module")
def damped():
    return run(FF + "uniform=0.6")


def test_validates_with_its_defaults() -> None:
    rb = sc.load("runaway-surveillance")
    assert [r.share for r in rb.population.regions] == [0.5, 0.5]
    # one behaviour, the same rate for all
    assert len(rb.behaviours) == 1 and rb.behaviours[0].heterogeneity == 0
    ch = rb.detection.channels["patrol"]
    assert ch.coverage == {"east": 0.33, "west": 0.27}
    ff = ch.follows_findings
    assert (ff.period, ff.memory, ff.sharpness, ff.uniform, ff.per_coverage) == (
        7,
        28,
        2,
        0,
        False,
    )
    # nobody reacts to being watched: the true rates stay equal
    assert rb.responses.deterrence.elasticity == 0


def test_the_districts_are_equal_and_behave_the_same(shipped) -> None:
    d = shipped.to_df("daily", None)
    d = d[d["breakdown"] == "region"]
    sizes = d[d["day"] == 0].set_index("level")["persons"]
    assert sizes["east"] == sizes["west"] == PERSONS // 2
    events = d.groupby("level")["events"].sum()
    # the same true rate: events (seen or not) within 5% of each other (about 10,000 each)
    assert abs(events["east"] - events["west"]) < 0.05 * events.mean()


def test_the_early_lead_runs_away(shipped) -> None:
    cov, rec = wide(shipped)
    share = east_share(cov)
    assert share.iloc[0] == pytest.approx(0.33 / 0.60)
    leader = "east" if share.iloc[-1] > 0.5 else "west"
    lead = share if leader == "east" else 1 - share
    # one district ends with more than 90% of the patrols (here all of them) ...
    assert lead.iloc[-1] > 0.9
    # ... and has most of the records: over the year, and nearly all in the last quarter
    total = rec.sum()
    assert total[leader] / total.sum() > 0.75
    last = rec.iloc[-90:].sum()
    assert last[leader] / last.sum() > 0.95
    # a fixed number of patrols: the coverage summed over persons stays 0.30 * N on every day
    assert np.allclose(cov.sum(axis=1) * PERSONS / 2, 0.30 * PERSONS, rtol=1e-9)


def test_damped_the_even_split_holds(damped) -> None:
    cov, rec = wide(damped)
    # from the first reallocation on (days 0-6 keep the initial 0.55)
    share = east_share(cov).iloc[7:]
    assert share.between(0.4, 0.6).all(), (share.min(), share.max())
    total = rec.sum()
    assert 0.4 < total["east"] / total.sum() < 0.6


@pytest.mark.parametrize("which", ["shipped", "damped"])
def test_each_reallocation_follows_the_equation(which, request) -> None:
    """s' = u/2 + (1-u) f_e^2 / (f_e^2 + f_w^2), with f the records of the last 28 days (two equal districts)."""
    res = request.getfixturevalue(which)
    u = 0.6 if which == "damped" else 0.0
    cov, rec = wide(res)
    share = east_share(cov)
    checked = 0
    for d in range(6, len(share) - 1, 7):
        f = rec.loc[max(0, d - 27) : d].sum()
        if f.sum() == 0:
            continue
        expected = u / 2 + (1 - u) * f["east"] ** 2 / (f["east"] ** 2 + f["west"] ** 2)
        assert share.loc[d + 1] == pytest.approx(expected, abs=1e-9), d
        # the allocation holds between reallocations
        assert share.loc[d + 1 : min(d + 7, len(share) - 1)].nunique() == 1
        checked += 1
    assert checked >= 50


def test_ensigns_correction_keeps_both_districts_patrolled() -> None:
    # records per unit of coverage (each day's under that day's coverage) estimate the true rate
    cov, rec = wide(run(FF + "per_coverage=true"))
    share = east_share(cov)
    assert share.between(0.2, 0.8).all(), (share.min(), share.max())
    total = rec.sum()
    assert 0.45 < total["east"] / total.sum() < 0.55
