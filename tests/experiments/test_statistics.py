"""Statistics across seeds against closed forms, and intervals that mean what they say.

The coverage test runs real ensembles: the reference model with deterrence and
the social term off has a closed-form expected mean score on its last day,
1000 + D/365 * sum_b rate_b * coverage_b * points_b = 1000 - 24.16 * D/365 after
D days (docs/model.md, 5.1): every record still counts (they expire after a
year), and false attribution moves records between persons without changing
their total. 100 seeds are split
into 20 ensembles of 5; their 95% intervals must cover 975.84 in 17 to 20 of
the 20 (a correct interval fails this with probability 1.6%; the seeds are
fixed, so the outcome is too), and their 50% intervals in 4 to 16 of the 20
(probability 0.3%): too-narrow and too-wide intervals both fail.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import socialcredit as sc
from socialcredit.experiments.statistics import bands, interval, paired, t_quantile

DAYS = 150
EXPECTED_MEAN_SCORE = 1000 + (-24.16) * DAYS / 365  # the records of DAYS days, none expired yet


def test_interval_is_the_t_interval() -> None:
    x = np.array([3.1, 2.7, 3.6, 2.9, 3.3])
    got = interval(x)
    lo, hi = stats.t.interval(0.95, df=4, loc=x.mean(), scale=stats.sem(x))
    assert got["n"] == 5 and got["mean"] == pytest.approx(x.mean())
    assert (got["lo"], got["hi"]) == pytest.approx((lo, hi), rel=1e-12)
    assert interval(np.array([1.0, np.nan, 3.0]))["n"] == 2  # a failed measure is left out
    one = interval(np.array([4.0]))
    assert one["mean"] == 4.0 and np.isnan(one["lo"])
    assert t_quantile(2) == pytest.approx(12.7062047, rel=1e-7)


def test_paired_differences_and_what_pairing_buys() -> None:
    """Shared noise cancels in paired differences: with a = u + e1 and b = u + 1 + e2 the paired SE sees only e."""
    rng = np.random.default_rng(5)
    u = rng.normal(0, 10, 30)
    a = pd.Series(u + rng.normal(0, 1, 30))
    b = pd.Series(u + 1 + rng.normal(0, 1, 30))
    got = paired(a, b)
    d = (b - a).to_numpy()
    assert got["difference"] == pytest.approx(d.mean())
    assert got["se_paired"] == pytest.approx(d.std(ddof=1) / np.sqrt(30))
    assert got["se_unpaired"] == pytest.approx(np.sqrt(a.var() / 30 + b.var() / 30))
    assert got["pairing_gain"] == pytest.approx((got["se_unpaired"] / got["se_paired"]) ** 2)
    assert got["pairing_gain"] > 20  # var(u)/var(e) = 100/2: the pairing is worth about 50x the seeds
    assert got["lo"] < 1 < got["hi"]
    welch = stats.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
    assert (got["lo_unpaired"], got["hi_unpaired"]) == pytest.approx((welch.low, welch.high), rel=1e-9)
    # only the seeds both arms have are paired
    assert paired(a.iloc[:10], b)["n"] == 10


def test_bands_equal_the_interval_per_group() -> None:
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"arm": np.repeat(["a", "b"], 12), "day": np.tile(np.repeat([0, 1, 2], 4), 2),
                          "m": rng.normal(size=24)})  # fmt: skip
    b = bands(frame, ["arm", "day"], ["m"])
    for (arm, day), g in frame.groupby(["arm", "day"]):
        row = b[(b["arm"] == arm) & (b["day"] == day)].iloc[0]
        want = interval(g["m"])
        assert (row["mean"], row["lo"], row["hi"]) == pytest.approx((want["mean"], want["lo"], want["hi"]))


def test_intervals_from_real_ensembles_cover_the_closed_form_mean(tmp_path) -> None:
    spec = {
        "name": "coverage", "base": "reference", "persons": 800, "days": DAYS, "seeds": 100,
        "set": {"responses.deterrence.elasticity": 0, "score.social.friends": 0, "simulation.audit_sample": 0},
        "measures": {"summary": ["score_mean"], "daily": ["score_mean"]},
    }  # fmt: skip
    res = sc.experiment(spec, tmp_path / "exp", workers=2)
    assert res.status()["ok"] == 100
    values = res.summary_table.set_index("run_id")["score_mean"].to_numpy()
    ensembles = values.reshape(20, 5)
    covered95 = sum(interval(e)["lo"] <= EXPECTED_MEAN_SCORE <= interval(e)["hi"] for e in ensembles)
    covered50 = sum(interval(e, level=0.5)["lo"] <= EXPECTED_MEAN_SCORE <= interval(e, level=0.5)["hi"] for e in ensembles)
    print(f"coverage: 95% intervals {covered95}/20, 50% intervals {covered50}/20, pooled {interval(values)}")
    assert 17 <= covered95 <= 20, covered95
    assert 4 <= covered50 <= 16, covered50
    # and the pooled mean of all 100 seeds is within 4 standard errors of the closed form
    pooled = interval(values)
    assert abs(pooled["mean"] - EXPECTED_MEAN_SCORE) < 4 * pooled["se"], pooled
