"""The it-fault scenario: validates, runs small, and shows its defining effect.

- before the fault the run is rongcheng's (same society and random numbers, day for day);
- on the fault day about 5% of persons get 16 false bank-arrears records each, and nobody else;
- the number listed only because of false records jumps on that day far above the days before;
- wrongful denials follow, but only after the 30-day warning;
- appeals overturn false records (none of the fault's before the listings), and with appeals fewer
  persons stay wrongly listed after the list's 180-day minimum than without.

5,000 persons, 600 days (the fault on day 400), seed 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import socialcredit as sc

PERSONS = 5000
DAYS = 600
FAULT = 400


def daily(*overrides: str, name: str = "it-fault", days: int = DAYS) -> pd.DataFrame:
    return (
        sc.run(sc.load(name, list(overrides), persons=PERSONS, days=days))
        .to_df("daily")
        .set_index("day")
    )


@pytest.fixture(scope="module")
def d() -> pd.DataFrame:
    return daily()


@pytest.fixture(scope="module")
def no_appeals() -> pd.DataFrame:
    return daily("institutions.appeals.probability=0")


def test_validates_with_its_defaults() -> None:
    rb = sc.load("it-fault")
    assert rb.population.persons == 50_000
    (f,) = rb.faults
    assert (f.day, f.behaviour, f.share, f.records, f.where) == (
        FAULT,
        "bank_arrears",
        0.05,
        16,
        "true",
    )
    points = {b.name: b.points for b in rb.behaviours}["bank_arrears"]
    # 16 records take the starting 1000 points to grade C (below 850); 15 would not
    assert (
        rb.score.initial + f.records * points
        < 850
        <= rb.score.initial + (f.records - 1) * points
    )
    assert rb.institutions.appeals.probability > 0


def test_before_the_fault_it_is_rongcheng(d) -> None:
    base = daily(name="rongcheng", days=FAULT)
    cols = [
        "events",
        "records_true",
        "records_false",
        "blacklisted",
        "denials",
        "appeals_filed",
        "score_mean",
    ]
    pd.testing.assert_frame_equal(d.loc[: FAULT - 1, cols], base[cols])


def test_the_fault_writes_false_records_in_bulk(d) -> None:
    fault = d["records_fault"]
    assert (fault.drop(FAULT) == 0).all()
    hit = fault.loc[FAULT] / 16
    assert hit == int(hit)
    assert (
        0.04 * PERSONS < hit < 0.06 * PERSONS
    )  # 5% of persons, binomial tolerance (sd 0.3%)


def test_wrongful_listings_rise_after_the_fault(d) -> None:
    bw = d["blacklisted_wrongly"]
    before = bw.loc[FAULT - 30 : FAULT - 1]
    after = bw.loc[FAULT : FAULT + 179]
    assert before.max() < 0.005 * PERSONS
    assert after.min() > 10 * max(before.max(), 1)
    # most of the persons hit are listed the same day (those at 1000 points or less before it)
    assert bw.loc[FAULT] > 0.5 * d["records_fault"].loc[FAULT] / 16


def test_wrongful_denials_wait_for_the_warning(d) -> None:
    wrong = d["denials_wrongful"]
    per_day_before = (
        wrong.loc[: FAULT - 1].sum() / FAULT
    )  # false records of the usual kind: about none here
    # the warning month: no more than usual (the persons listed by the fault are not refused yet) ...
    assert wrong.loc[FAULT : FAULT + 29].sum() <= 30 * per_day_before + 2
    # ... then many (192 in days 430-520 with seed 1; the tolerance is wide)
    assert wrong.loc[FAULT + 30 : FAULT + 120].sum() > max(50, 20 * 91 * per_day_before)


def test_appeals_overturn_false_records(d, no_appeals) -> None:
    won = d["appeals_won_false"]
    assert won.loc[FAULT:].sum() > 20 * max(won.loc[: FAULT - 1].sum(), 1)
    assert (no_appeals["appeals_won_false"] == 0).all()
    # appeals shorten listings: after the 180-day minimum fewer stay wrongly listed than without appeals
    later = slice(FAULT + 181, DAYS - 1)
    assert (
        d.loc[later, "blacklisted_wrongly"].mean()
        < 0.97 * no_appeals.loc[later, "blacklisted_wrongly"].mean()
    )
    # and before it nobody leaves the list early: the two runs hold (nearly) the same number
    assert np.allclose(d.loc[FAULT : FAULT + 179, "blacklisted_wrongly"],
                       no_appeals.loc[FAULT : FAULT + 179, "blacklisted_wrongly"], rtol=0.05, atol=3)  # fmt: skip
